#!/usr/bin/python3
# notify.py: the driver of bench/notify.sh: pushes series that cross an alert's threshold,
# waits for their webhooks at bench/webhook_sink and prints the delays, split into stages.
#
#   notify.py --push URL --sink-log FILE --history FILE [--alerts N] [--rate R] [--batch B]
#             [--timeout S] [--dump FILE]
#
# N series bench_value{series="NNNN"} 1 are POSTed to URL (/api/v1/push), B per request,
# one request at a random moment of each slot of B/R seconds (so R per second: small batches
# at random moments land at every phase of the evaluation interval). The push time of a
# series is taken just before its request is sent. Then every series must arrive at the
# receiver exactly once, in a message of its own, within S seconds of the last push, and
# have a firing transition in the history whose time is the alert's startsAt. For each alert:
#
#   raw        arrival at the receiver - push
#   eval wait  the rule's evaluation that saw it (its history.jsonl transition time, the
#              round's start) - push: the wait for the next evaluation, 0 to eval_interval
#   after eval arrival - evaluation
#   made       the message's "time" (when the dispatcher made it) - evaluation
#   delivered  arrival - the message's "time": outbox_put, the queue, the HTTP request
import argparse
import datetime
import http.client
import json
import random
import sys
import time
from urllib.parse import urlsplit


def die(msg):
    print("notify.py: FAILED: %s" % msg, file=sys.stderr)
    sys.exit(1)


def rfc3339(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def quantile(v, q):
    # nearest rank, as bench/outbox.c takes its own
    v = sorted(v)
    k = max(0, min(len(v) - 1, int(q * len(v) + 0.999999) - 1))
    return v[k]


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


def push_all(url, n, rate, batch):
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    pushed, slowest = {}, 0.0
    step = batch / rate
    t0 = time.time() + 0.05
    for k, first in enumerate(range(0, n, batch)):
        names = ["%04d" % i for i in range(first, min(n, first + batch))]
        body = "".join('bench_value{series="%s"} 1\n' % s for s in names).encode()
        # at a random moment of its slot: pushes land at every phase of the evaluation
        delay = t0 + (k + random.random()) * step - time.time()
        if delay > 0:
            time.sleep(delay)
        t = time.time()
        conn.request("POST", u.path, body, {"Content-Type": "text/plain"})
        r = conn.getresponse()
        answer = r.read().decode("utf-8", "replace")
        took = time.time() - t
        if r.status != 200 or ('"samples":%d' % len(names)) not in answer:
            die("push answered %d: %s" % (r.status, answer[:300]))
        slowest = max(slowest, took)
        for s in names:
            pushed[s] = t
    conn.close()
    return pushed, slowest


def read_sink(path):
    """series -> (arrival, message time, startsAt); fails on a repeat or a shared message."""
    got, problems = {}, []
    with open(path) as f:
        for line in f:
            arrival, _, body = line.rstrip("\n").partition("\t")
            m = json.loads(body)
            firing = [a for a in m["alerts"] if a["status"] == "firing"]
            if len(m["alerts"]) != 1 or len(firing) != 1:
                problems.append("a message with %d alerts" % len(m["alerts"]))
            for a in firing:
                s = a["labels"].get("series")
                if s in got:
                    problems.append("series %s arrived twice" % s)
                got[s] = (float(arrival), rfc3339(m["time"]), rfc3339(a["startsAt"]))
    return got, problems


def read_history(path):
    evals = {}
    with open(path) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("rule") == "bench_alert" and e.get("to") == "firing":
                evals.setdefault(e["labels"].get("series"), e["time"])
    return evals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--push", required=True)
    ap.add_argument("--sink-log", required=True)
    ap.add_argument("--history", required=True)
    ap.add_argument("--alerts", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--dump", help="write push, evaluation, made, arrival per alert (TSV)")
    a = ap.parse_args()

    pushed, slowest = push_all(a.push, a.alerts, a.rate, a.batch)
    until = time.time() + a.timeout
    while count_lines(a.sink_log) < a.alerts:
        if time.time() > until:
            die("%d of %d webhooks arrived within %.0f s of the last push"
                % (count_lines(a.sink_log), a.alerts, a.timeout))
        time.sleep(0.05)
    time.sleep(0.5)  # anything more (a repeat) would show now
    got, problems = read_sink(a.sink_log)
    evals = read_history(a.history)
    missing = sorted(set(pushed) - set(got))
    if missing:
        problems.append("%d series never arrived (%s ...)" % (len(missing), " ".join(missing[:5])))
    if len(got) != a.alerts:
        problems.append("%d alerts arrived, %d pushed" % (len(got), a.alerts))
    if problems:
        die("; ".join(problems[:5]))
    nohist = [s for s in pushed if s not in evals]
    if nohist:
        die("%d alerts have no firing transition in %s" % (len(nohist), a.history))
    off = max(abs(evals[s] - got[s][2]) for s in pushed)
    if off > 0.001:
        die("history time and startsAt differ by up to %.3f s" % off)

    if a.dump:
        with open(a.dump, "w") as f:
            f.write("series\tpush\tevaluation\tmade\tarrival\n")
            for s in sorted(pushed, key=pushed.get):
                f.write("%s\t%.6f\t%.6f\t%.6f\t%.6f\n"
                        % (s, pushed[s], evals[s], got[s][1], got[s][0]))
    stages = [
        ("raw (push -> webhook arrives)", [got[s][0] - pushed[s] for s in pushed]),
        ("eval wait (push -> evaluation)", [evals[s] - pushed[s] for s in pushed]),
        ("after eval (evaluation -> arrival)", [got[s][0] - evals[s] for s in pushed]),
        ("  made (evaluation -> message made)", [got[s][1] - evals[s] for s in pushed]),
        ("  delivered (message made -> arrival)", [got[s][0] - got[s][1] for s in pushed]),
    ]
    print("  %d alerts, %d per push every %.0f ms (%.0f/s); slowest push answer %.1f ms"
          % (a.alerts, a.batch, a.batch / a.rate * 1e3, a.rate, slowest * 1e3))
    print("  %-38s %8s %8s %8s %8s %8s" % ("delay (ms)", "min", "p50", "p90", "p99", "max"))
    for name, v in stages:
        print("  %-38s %8.1f %8.1f %8.1f %8.1f %8.1f"
              % (name, min(v) * 1e3, quantile(v, 0.5) * 1e3, quantile(v, 0.9) * 1e3,
                 quantile(v, 0.99) * 1e3, max(v) * 1e3))
    # the dispatcher's work grows with the alerts it holds: the first alerts against the last
    order = sorted(pushed, key=pushed.get)
    k = max(1, len(order) // 10)
    first = [got[s][0] - evals[s] for s in order[:k]]
    last = [got[s][0] - evals[s] for s in order[-k:]]
    print("  after eval, first %d alerts (0-%d already firing): p50 %.1f ms, max %.1f ms; "
          "last %d (%d-%d firing): p50 %.1f ms, max %.1f ms"
          % (k, k, quantile(first, 0.5) * 1e3, max(first) * 1e3, k, len(order) - k,
             len(order), quantile(last, 0.5) * 1e3, max(last) * 1e3))
    raw, after = stages[0][1], stages[2][1]
    print("notify: push to webhook p50 %.0f ms, p99 %.0f ms, max %.0f ms; after the evaluation "
          "p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d alerts)"
          % (quantile(raw, 0.5) * 1e3, quantile(raw, 0.99) * 1e3, max(raw) * 1e3,
             quantile(after, 0.5) * 1e3, quantile(after, 0.99) * 1e3, max(after) * 1e3,
             a.alerts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
