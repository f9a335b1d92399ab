#!/usr/bin/python3
# soak_load.py: the data and the clients of bench/soak.sh: a scrape target, a pushing
# application and the dashboards, in one process, counting every failed request.
#
#   soak_load.py --port-file FILE --stats FILE [--reeve URL] [--scraped N] [--pushed N]
#
# Listens on 127.0.0.1 (a port the kernel picks, written to --port-file once it listens) and
# serves GET /metrics: N scraped series in Prometheus text, made fresh for each request:
#   soak_value{group="gGG",idx="I"}  gauge, 40 groups; idx/100 + 0.3*sin(2*pi*t/P) with a
#                                    period P of 120 to 600 s by group, so group averages
#                                    cross 0.5 and single series cross 0.95 again and again
#   soak_requests_total{shop,route}  counter (one in eight of the N series), growing by a
#                                    few per second
# With --reeve it waits until reeve's /readyz answers 200 (at most 60 s), then also runs,
# each on its own thread:
#   push     every 1 s: POST /api/v1/push of --pushed gauges soak_push_value{client,idx}
#   metrics  every 5 s: GET /metrics, as Prometheus scrapes
#   grafana  every 10 s: three GET /api/v1/query_range over the last hour at a 15 s step,
#            as a dashboard panel refreshes
#   status   every 30 s: GET / (the status page) and GET /api/v1/alerts
# and every second it replaces --stats (write, rename) with one line of counters:
#   push_ok=.. push_err=.. metrics_ok=.. metrics_err=.. grafana_ok=.. grafana_err=..
#   status_ok=.. status_err=.. scrape_served=.. series=.. queue=..
# where series and queue are reeve_series and reeve_store_queue_depth from the last /metrics.
# A failed request (no answer, a status other than 200, a push that did not take every
# sample) counts as an error and its first 200 bytes go to stderr, at most 20 times.
import argparse
import http.client
import math
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GROUPS = 40
lock = threading.Lock()
counts = {}
last = {"series": "", "queue": ""}
reported = [0]


def count(key, ok, why=""):
    with lock:
        k = key + ("_ok" if ok else "_err")
        counts[k] = counts.get(k, 0) + 1
        if not ok and reported[0] < 20:
            reported[0] += 1
            print(f"soak_load: {key}: {why[:200]}", file=sys.stderr, flush=True)


def scrape_body(n):
    t = time.time()
    gauges = n - n // 8
    out = ["# HELP soak_value A gauge that swings.\n# TYPE soak_value gauge\n"]
    for i in range(gauges):
        g = i % GROUPS
        period = 120 + 12 * g
        v = (i // GROUPS % 100) / 100 + 0.3 * math.sin(2 * math.pi * t / period)
        out.append(f'soak_value{{group="g{g:02d}",idx="{i}"}} {v:.4f}\n')
    out.append("# HELP soak_requests_total Requests served.\n# TYPE soak_requests_total counter\n")
    for i in range(n // 8):
        out.append(f'soak_requests_total{{shop="s{i % 20:02d}",route="r{i}"}} {int(t * (1 + i % 5))}\n')
    return "".join(out).encode()


class Fixture(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    n = 0

    def do_GET(self):
        body = scrape_body(self.n)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with lock:
            counts["scrape_served"] = counts.get("scrape_served", 0) + 1

    def log_message(self, *args):
        pass


class Client:
    """One keep-alive connection to reeve, reopened after any failure."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # reeve closed an idle keep-alive connection: one retry on a new one
                self.conn.close()
                self.conn = None
                if attempt:
                    raise e
            except Exception:
                self.conn.close()
                self.conn = None
                raise


def every(seconds, fn):
    nxt = time.monotonic()
    while True:
        try:
            fn()
        except Exception as e:  # counted by fn where it knows the kind; here: no answer
            count(fn.__name__, False, repr(e))
        nxt += seconds
        time.sleep(max(0.0, nxt - time.monotonic()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--reeve")
    ap.add_argument("--scraped", type=int, default=4000)
    ap.add_argument("--pushed", type=int, default=1000)
    a = ap.parse_args()

    Fixture.n = a.scraped
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Fixture)
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, a.port_file)
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    if a.reeve:
        threading.Thread(target=start_clients, args=(a,), daemon=True).start()
    while True:
        with lock:
            line = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
            line += f" series={last['series']} queue={last['queue']}"
        with open(a.stats + ".tmp", "w") as f:
            f.write(line + "\n")
        os.rename(a.stats + ".tmp", a.stats)
        time.sleep(1)


def start_clients(a):
    pc, mc, gc, sc = (Client(a.reeve) for _ in range(4))
    # reeve starts after this process (it scrapes the fixture): wait for it to be ready
    for _ in range(600):
        try:
            if mc.request("GET", "/readyz")[0] == 200:
                break
        except OSError:
            mc.conn = None
        time.sleep(0.1)

    def push():
        t = time.time()
        lines = ["# TYPE soak_push_value gauge\n"]
        for i in range(a.pushed):
            v = (i % 50) + math.sin(2 * math.pi * t / 300)
            lines.append(f'soak_push_value{{client="c{i % 10}",idx="{i}"}} {v:.3f}\n')
        status, body = pc.request("POST", "/api/v1/push", "".join(lines).encode(),
                                  {"Content-Type": "text/plain"})
        ok = status == 200 and f'"samples":{a.pushed}'.encode() in body
        count("push", ok, f"{status} {body[:200]!r}")

    def metrics():
        status, body = mc.request("GET", "/metrics")
        if status == 200:
            for ln in body.split(b"\n"):
                if ln.startswith(b"reeve_series "):
                    last["series"] = ln.split()[1].decode()
                elif ln.startswith(b"reeve_store_queue_depth "):
                    last["queue"] = ln.split()[1].decode()
        count("metrics", status == 200, f"{status} {body[:200]!r}")

    queries = [
        'avg by (group) (soak_value)',
        'sum by (shop) (rate(soak_requests_total[1m]))',
        'soak_value{group="g07",idx=~"3[0-9][0-9]7"}',  # 13 series: idx 3007, 3047, ... 3487
    ]

    def grafana():
        end = int(time.time())
        for q in queries:
            qs = urllib.parse.urlencode({"query": q, "start": end - 3600, "end": end, "step": 15})
            status, body = gc.request("GET", "/api/v1/query_range?" + qs)
            count("grafana", status == 200 and b'"status":"success"' in body, f"{status} {body[:200]!r}")

    def status():
        for path in ("/", "/api/v1/alerts"):
            st, body = sc.request("GET", path)
            count("status", st == 200, f"{path} {st} {body[:200]!r}")

    for seconds, fn in ((1, push), (5, metrics), (10, grafana), (30, status)):
        threading.Thread(target=every, args=(seconds, fn), daemon=True).start()


if __name__ == "__main__":
    main()
