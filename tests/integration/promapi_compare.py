#!/usr/bin/python3
"""promapi_compare.py: the same question to Prometheus's HTTP API and to reeve's, compared.

Usage: promapi_compare.py WHAT PROM_URL REEVE_URL ARGS...

  instant TIME REL ABS EXPR            promtool query instant --time=TIME on both
  range START END STEP REL ABS EXPR    promtool query range on both
  json START END STEP REL ABS EXPR     GET /api/v1/query_range (curl) on both, the raw JSON
  edge START END STEP REL ABS EXPR     json, over a range beginning before either has data
  stale START END STEP UP_REEVE EXPR   json, over a range in which the target went down
  empty TIME EXPR                      promtool query instant: both answers are empty
  series MATCH...                      promtool query series --match=MATCH...
  labels NAME                          promtool query labels NAME
  labelnames MATCH                     GET /api/v1/labels?match[]=MATCH (curl)

Each prints one line, what was compared (and the largest difference of values) or what
differs, and exits 1 when they differ. Label sets must be the same (metric names included);
values agree when |reeve - prometheus| <= ABS + REL * max(|reeve|, |prometheus|) (the
tolerances are explained in promapi_compare.sh); times must be equal to the millisecond,
and those of a range exactly START + k * STEP, as Prometheus gives them.
"""
import json
import math
import re
import subprocess
import sys
import urllib.parse
from decimal import Decimal

from promcmp import agree, fmt, parse_float, parse_labels

# a line of promtool's answer: 'name{a="1", b="2"} => 3.5 @[1795523557.5]', 'name =>' (a
# range's series, its points on the following lines), '3.5 @[1795523557.5]', 'scalar: ...'
VECTOR = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{.*\})? =>(?: (\S+) @\[([^\]]+)\])?$')
POINT = re.compile(r'^(\S+) @\[([^\]]+)\]$')


class Differ(Exception):
    """The two answers differ, or one cannot be read: the message says how."""


def ms(t):
    """A time (a number or its text) in whole milliseconds, exactly."""
    return int((Decimal(str(t)) * 1000).to_integral_value())


def key(name, labels):
    """A series' label set with its metric name as __name__, as the API gives it."""
    return tuple(sorted(labels + ((("__name__", name),) if name else ())))


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise Differ("%s failed (%d): %s" % (" ".join(argv[:3]), p.returncode,
                                            (p.stderr or p.stdout).strip()[:300]))
    return p.stdout


def promtool_instant(url, t, expr):
    """{labels: (time ms, value)}; a scalar under the label set ("scalar",)."""
    out = {}
    for line in run(["promtool", "query", "instant", "--time=" + t, url, expr]).splitlines():
        if not line:
            continue  # an empty vector is an empty line
        if line.startswith("scalar: "):
            m = POINT.match(line[8:])
            out[("scalar",)] = (ms(m.group(2)), parse_float(m.group(1)))
            continue
        m = VECTOR.match(line)
        if m is None or m.group(3) is None:
            raise Differ("%s: cannot read promtool's line %r" % (url, line))
        k = key(m.group(1), parse_labels(m.group(2)))
        if k in out:
            raise Differ("%s: %s twice" % (url, fmt(k)))
        out[k] = (ms(m.group(4)), parse_float(m.group(3)))
    return out


def promtool_range(url, start, end, step, expr):
    """{labels: [(time ms, value), ...]}."""
    out, cur = {}, None
    for line in run(["promtool", "query", "range", "--start=" + start, "--end=" + end,
                     "--step=" + step + "s", url, expr]).splitlines():
        m = VECTOR.match(line)
        if m is not None and m.group(3) is None:
            cur = key(m.group(1), parse_labels(m.group(2)))
            if cur in out:
                raise Differ("%s: %s twice" % (url, fmt(cur)))
            out[cur] = []
            continue
        m = POINT.match(line)
        if m is None or cur is None:
            raise Differ("%s: cannot read promtool's line %r" % (url, line))
        out[cur].append((ms(m.group(2)), parse_float(m.group(1))))
    return out


def api(url, path, params):
    """The JSON answer of GET url/api/v1/path?params, read with curl."""
    q = urllib.parse.urlencode(params)
    text = run(["curl", "-s", "--max-time", "20", "%s/api/v1/%s?%s" % (url, path, q)])
    try:
        return json.loads(text)
    except ValueError as e:
        raise Differ("%s: the answer is no JSON (%s): %r" % (url, e, text[:200])) from None


def api_range(url, start, end, step, expr):
    """{labels: [(time ms, value), ...]} and the warnings of a query_range, its shape checked."""
    d = api(url, "query_range", {"query": expr, "start": start, "end": end, "step": step})
    if d.get("status") != "success":
        raise Differ("%s: %s" % (url, json.dumps(d)[:300]))
    if d["data"].get("resultType") != "matrix":
        raise Differ("%s: resultType %r, not matrix" % (url, d["data"].get("resultType")))
    out = {}
    for e in d["data"]["result"]:
        k = tuple(sorted(e["metric"].items()))
        if k in out:
            raise Differ("%s: %s twice" % (url, fmt(k)))
        out[k] = [(ms(p[0]), parse_float(p[1])) for p in e["values"]]
    return out, d.get("warnings")


def grid(start, end, step):
    """The evaluation times of a range, start + k * step up to end, in ms."""
    a, b, s = ms(start), ms(end), ms(step)
    return list(range(a, b + 1, s))


def same_sets(p, r):
    """Both answers hold the same label sets, and some."""
    if set(p) != set(r):
        raise Differ("label sets: only in Prometheus %s; only in reeve %s" % (
            " ".join(fmt(k) for k in sorted(set(p) - set(r))) or "-",
            " ".join(fmt(k) for k in sorted(set(r) - set(p))) or "-"))
    if not p:
        raise Differ("both answers are empty: nothing was compared")


def compare_points(k, pp, rp, rel, ab, worst):
    """Two series' points: the same times, values within the tolerance; the largest
    difference so far in worst[0]."""
    if [t for t, _ in pp] != [t for t, _ in rp]:
        raise Differ("%s: times differ: Prometheus %s, reeve %s" % (
            fmt(k), [t / 1000 for t, _ in pp][:8], [t / 1000 for t, _ in rp][:8]))
    for (t, a), (_, b) in zip(pp, rp):
        if not agree(b, a, rel, ab):
            raise Differ("%s at %.3f: Prometheus %r, reeve %r" % (fmt(k), t / 1000, a, b))
        if math.isfinite(a - b):
            worst[0] = max(worst[0], abs(a - b))


def on_grid(url, k, points, want):
    if [t for t, _ in points] != want:
        raise Differ("%s: %s's times are not start + k * step: %s, not %s" % (
            fmt(k), url, [t / 1000 for t, _ in points][:6], [t / 1000 for t in want][:6]))


def first_sample(url, expr, t):
    """The time (ms) of the oldest raw sample of a selector in the 5 minutes before t."""
    d = api(url, "query", {"query": "%s[5m]" % expr, "time": t})
    ts = [ms(p[0]) for e in d["data"]["result"] for p in e["values"]]
    if not ts:
        raise Differ("%s: no raw samples of %s" % (url, expr))
    return min(ts)


def last_up(url, expr, t):
    """The time (ms) of the last sample of up (or reeve's scrape_up) that is 1, and of the
    first 0 after it (the failed scrape, whose time staleness takes), in 2 minutes before t."""
    d = api(url, "query", {"query": "%s[2m]" % expr, "time": t})
    if len(d["data"]["result"]) != 1:
        raise Differ("%s: %s is not one series: %s" % (url, expr, json.dumps(d)[:300]))
    pts = [(ms(p[0]), p[1]) for p in d["data"]["result"][0]["values"]]
    ups = [i for i, (_, v) in enumerate(pts) if v == "1"]
    if not ups or ups[-1] + 1 >= len(pts) or pts[ups[-1] + 1][1] != "0":
        raise Differ("%s: %s has no 1 followed by 0: %s" % (url, expr, pts[-6:]))
    return pts[ups[-1]][0], pts[ups[-1] + 1][0]


def main():
    what, prom, reeve, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    worst = [0.0]
    if what == "instant":
        t, rel, ab, expr = args[0], float(args[1]), float(args[2]), args[3]
        p, r = promtool_instant(prom, t, expr), promtool_instant(reeve, t, expr)
        same_sets(p, r)
        for k in sorted(p):
            if p[k][0] != ms(t) or r[k][0] != ms(t):
                raise Differ("%s: times %s and %s, not %s" % (fmt(k), p[k][0], r[k][0], t))
            compare_points(k, [p[k]], [r[k]], rel, ab, worst)
        print("%d series: %s; largest difference %.3g" % (len(p), " ".join(
            "%s=%.6g" % (fmt(k, True), p[k][1]) for k in sorted(p)), worst[0]))
    elif what in ("range", "json", "edge", "stale"):
        start, end, step, expr = args[0], args[1], args[2], args[-1]
        want = grid(start, end, step)
        if what == "range":
            rel, ab = float(args[3]), float(args[4])
            p = promtool_range(prom, start, end, step, expr)
            r = promtool_range(reeve, start, end, step, expr)
            pw = rw = None
        else:
            rel, ab = (float(args[3]), float(args[4])) if what != "stale" else (0, 0.25)
            p, pw = api_range(prom, start, end, step, expr)
            r, rw = api_range(reeve, start, end, step, expr)
        if rw is not None:
            raise Differ("reeve warns at step %ss: %s" % (step, rw))
        same_sets(p, r)
        counts = []
        for k in sorted(p):
            if what in ("range", "json"):
                # in the middle of the data, every step has a point in both
                on_grid(prom, k, p[k], want)
                on_grid(reeve, k, r[k], want)
                compare_points(k, p[k], r[k], rel, ab, worst)
                continue
            # at an edge, each server's points cover the steps it has data for: from the
            # first step at or after its first sample (edge), or up to the last step
            # before the failed scrape that made the series stale (stale)
            for url, pts in ((prom, p[k]), (reeve, r[k])):
                if what == "edge":
                    first = first_sample(url, expr, end)
                    exp = [t for t in want if t >= first]
                    if pts and exp and pts[0][0] != exp[0]:
                        raise Differ("%s: %s's first point at %.3f, its first sample at %.3f: "
                                     "the first step after it is %.3f" % (
                                         fmt(k), url, pts[0][0] / 1000, first / 1000,
                                         exp[0] / 1000))
                else:
                    up = "up" if url == prom else args[3]
                    last, down = last_up(url, up, end)
                    exp = [t for t in want if t < down]
                    if pts and exp and pts[-1][0] != exp[-1]:
                        raise Differ("%s: %s's last point at %.3f; last scrape at %.3f, the "
                                     "failed one at %.3f: the last step before it is %.3f" % (
                                         fmt(k), url, pts[-1][0] / 1000, last / 1000,
                                         down / 1000, exp[-1] / 1000))
                on_grid(url, k, pts, exp)
            counts.append("%s Prometheus %d, reeve %d" % (fmt(k, True), len(p[k]), len(r[k])))
            both = sorted(set(t for t, _ in p[k]) & set(t for t, _ in r[k]))
            compare_points(k, [x for x in p[k] if x[0] in both], [x for x in r[k] if x[0] in both],
                           rel, ab, worst)
        n = sum(len(v) for v in p.values())
        if what in ("range", "json"):
            print("%d series, %d points at %s + k * %ss%s; largest difference %.3g" % (
                len(p), n, start, step, ", no warnings" if what == "json" else "", worst[0]))
        else:
            print("points: %s; largest difference %.3g" % ("; ".join(counts), worst[0]))
    elif what == "empty":
        p, r = promtool_instant(prom, args[0], args[1]), promtool_instant(reeve, args[0], args[1])
        if p or r:
            raise Differ("Prometheus %s, reeve %s" % (sorted(p), sorted(r)))
        print("both answers are empty")
    elif what == "series":
        argv = ["promtool", "query", "series"] + ["--match=" + m for m in args]
        p = {parse_labels(x): 1 for x in run(argv + [prom]).splitlines()}
        r = {parse_labels(x): 1 for x in run(argv + [reeve]).splitlines()}
        same_sets(p, r)
        print("%d series, the same label sets" % len(p))
    elif what == "labels":
        argv = ["promtool", "query", "labels"]
        p = run(argv + [prom, args[0]]).splitlines()
        r = run(argv + [reeve, args[0]]).splitlines()
        if p != r or not p:
            raise Differ("Prometheus %s, reeve %s" % (p, r))
        print("%s: %s" % (args[0], " ".join(p)))
    elif what == "labelnames":
        p = api(prom, "labels", {"match[]": args[0]})
        r = api(reeve, "labels", {"match[]": args[0]})
        if p.get("status") != "success" or p != r:
            raise Differ("Prometheus %s, reeve %s" % (json.dumps(p), json.dumps(r)))
        print(" ".join(p["data"]))
    else:
        raise SystemExit("promapi_compare.py: unknown comparison %r" % what)


if __name__ == "__main__":
    try:
        main()
    except Differ as e:
        print(e)
        sys.exit(1)
