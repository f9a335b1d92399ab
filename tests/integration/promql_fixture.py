#!/usr/bin/python3
"""promql_fixture.py: the endpoint that reeve and Prometheus both scrape in promql_compare.sh.

Usage: promql_fixture.py PORT LOG

Serves /metrics on 127.0.0.1:PORT in the Prometheus text format. Every value is a known
function of T, the seconds since the test asked for /start (before that, T is 0 and nothing
moves; /start is asked once both scrapers read the endpoint), so the two scrapers see the
same curves even though they scrape at different moments:

  fx_requests_total{path,code}   counters at constant rates (5, 0.5, 12 and 1.5 per second)
  fx_bytes_total                 a counter whose rate changes from 100/s to 150/s at T = 30
  fx_jobs_total                  a counter at 4/s that resets to 0 once, at T = 20
  fx_temperature_celsius{room}   gauges: a = 20 + 0.05 T, b = 30 - 0.1 T,
                                 c = 18 + 2 sin(2 pi T / 60)
  fx_limit_celsius{room,kind}    constant gauges 25, 20, 10
  fx_humidity_ratio{room="d"}    a constant gauge 0.4
  fx_queue_length{queue}         a step gauge: floor(T / 10) (+ 100 for queue "y")

Each request for /metrics appends "<epoch seconds> <User-Agent up to its />" to LOG, so
the test knows when each scraper reads; /start appends "<epoch seconds> start". Runs until
killed.
"""
import http.server
import math
import sys
import time

START = None
LOG = None


def body(t):
    out = []

    def fam(name, typ, help_text, samples):
        out.append("# HELP %s %s" % (name, help_text))
        out.append("# TYPE %s %s" % (name, typ))
        for labels, v in samples:
            lab = ",".join('%s="%s"' % kv for kv in labels)
            out.append("%s{%s} %r" % (name, lab, float(v)) if lab else "%s %r" % (name, float(v)))

    fam("fx_requests_total", "counter", "Requests.", [
        ((("path", "/a"), ("code", "200")), 1000 + 5 * t),
        ((("path", "/a"), ("code", "500")), 50 + 0.5 * t),
        ((("path", "/b"), ("code", "200")), 2000 + 12 * t),
        ((("path", "/b"), ("code", "500")), 10 + 1.5 * t),
    ])
    fam("fx_bytes_total", "counter", "Bytes.", [
        ((), 5000 + (100 * t if t < 30 else 3000 + 150 * (t - 30))),
    ])
    fam("fx_jobs_total", "counter", "Jobs.", [
        ((), 500 + 4 * t if t < 20 else 4 * (t - 20)),
    ])
    fam("fx_temperature_celsius", "gauge", "Temperature.", [
        ((("room", "a"),), 20 + 0.05 * t),
        ((("room", "b"),), 30 - 0.1 * t),
        ((("room", "c"),), 18 + 2 * math.sin(2 * math.pi * t / 60)),
    ])
    fam("fx_limit_celsius", "gauge", "Limit.", [
        ((("room", "a"), ("kind", "max")), 25),
        ((("room", "b"), ("kind", "max")), 20),
        ((("room", "c"), ("kind", "max")), 10),
    ])
    fam("fx_humidity_ratio", "gauge", "Humidity.", [((("room", "d"),), 0.4)])
    fam("fx_queue_length", "gauge", "Queue.", [
        ((("queue", "x"),), math.floor(t / 10)),
        ((("queue", "y"),), 100 + math.floor(t / 10)),
    ])
    return ("\n".join(out) + "\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        global START
        now = time.time()
        if self.path == "/start":
            if START is None:
                START = now
                with open(LOG, "a") as f:
                    f.write("%.6f start\n" % START)
            data = b"started\n"
        else:
            data = body(0 if START is None else now - START)
            with open(LOG, "a") as f:
                f.write("%.6f %s\n" % (now, (self.headers.get("User-Agent") or "-").split("/")[0]))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    global LOG
    LOG = sys.argv[2]
    open(LOG, "w").close()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
