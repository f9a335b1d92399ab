#!/usr/bin/python3
"""promql_compare.py: compares reeve's recorded results with Prometheus's answers.

Usage: promql_compare.py TABLE METRICS PROM_URL TIME

TABLE holds one expression a line, "NAME REL ABS CLASS EXPR" (see promql_compare.sh);
METRICS is one snapshot of reeve's /metrics, in which the series NAME{labels} are the
results reeve's [record NAME] rule computed at TIME; PROM_URL is Prometheus's address.
For each expression, Prometheus is asked for the same expression at TIME
(/api/v1/query), and the two results are compared: the same label sets (the metric name
aside: reeve's recorded series are named after the rule), and for each label set values
that agree within ABS + REL * max(|reeve|, |prometheus|). Prints one line an expression:
"ok<TAB>NAME: EXPR<TAB>Prometheus's result and the largest difference" or
"not ok<TAB>NAME: EXPR<TAB>what differs".
"""
import json
import math
import re
import sys
import urllib.parse
import urllib.request

from promcmp import agree, fmt, parse_float, parse_labels

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def reeve_results(path):
    """name -> {labels: value} from a /metrics snapshot."""
    res = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            m = SAMPLE.match(line.rstrip("\n"))
            if m is None:
                continue
            res.setdefault(m.group(1), {})[parse_labels(m.group(2))] = parse_float(m.group(3))
    return res


def prom_query(url, expr, t):
    q = urllib.parse.urlencode({"query": expr, "time": "%.3f" % t})
    with urllib.request.urlopen("%s/api/v1/query?%s" % (url, q), timeout=10) as r:
        ans = json.load(r)
    if ans.get("status") != "success" or ans["data"]["resultType"] != "vector":
        raise ValueError("Prometheus answered %s" % json.dumps(ans)[:300])
    out = {}
    for e in ans["data"]["result"]:
        labels = tuple(sorted((k, v) for k, v in e["metric"].items() if k != "__name__"))
        out[labels] = parse_float(e["value"][1])
    return out


def main():
    table, snapshot, url, t = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    reeve = reeve_results(snapshot)
    for line in open(table):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, rel, ab, _cls, expr = line.split(None, 4)
        rel, ab = float(rel), float(ab)
        mine = reeve.get(name, {})
        try:
            theirs = prom_query(url, expr, t)
        except Exception as e:  # noqa: BLE001 - reported as the test point's failure
            print("not ok\t%s: %s\tPrometheus: %s" % (name, expr, e))
            continue
        problems, worst = [], 0.0
        for k in sorted(set(mine) | set(theirs)):
            if k in mine and k in theirs and math.isfinite(mine[k] - theirs[k]):
                worst = max(worst, abs(mine[k] - theirs[k]))
            if k not in theirs:
                problems.append("%s only in reeve (%r)" % (fmt(k), mine[k]))
            elif k not in mine:
                problems.append("%s only in Prometheus (%r)" % (fmt(k), theirs[k]))
            elif not agree(mine[k], theirs[k], rel, ab):
                problems.append("%s reeve %r, Prometheus %r" % (fmt(k), mine[k], theirs[k]))
        detail = "; ".join(problems) if problems else (" ".join(
            "%s=%.6g" % (fmt(k, True), theirs[k]) for k in sorted(theirs)) or "(empty in both)") + (
            " (largest difference %.3g)" % worst)
        print("%s\t%s: %s\t%s" % ("not ok" if problems else "ok", name, expr, detail))


if __name__ == "__main__":
    main()
