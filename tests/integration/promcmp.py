"""promcmp.py: what the comparisons with Prometheus share (promql_compare.py, promapi_compare.py).

Numbers as Prometheus writes them ("+Inf", "NaN"), label sets in the text forms of the
exposition format and of promtool ({a="1", b="2"}) as sorted tuples of (name, value), and the
agreement of two values within a tolerance ABS + REL * max(|a|, |b|).
"""
import math
import re

LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def unescape(s):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), s)


def parse_labels(text):
    """'{a="1", b="2"}' (or None, or '') as (("a", "1"), ("b", "2"))."""
    if not text:
        return ()
    inner, pos, out = text[1:-1], 0, []
    while pos < len(inner):
        m = LABEL.match(inner, pos)
        if m is None:
            raise ValueError("cannot parse labels %r" % text)
        out.append((m.group(1), unescape(m.group(2))))
        pos = m.end()
    return tuple(sorted(out))


def parse_float(s):
    return float({"+Inf": "inf", "-Inf": "-inf", "Inf": "inf"}.get(s, s))


def fmt(labels, short=False):
    """The label set as text; short leaves out job and instance (the same everywhere)."""
    return "{" + ",".join('%s="%s"' % kv for kv in labels
                          if not short or kv[0] not in ("job", "instance")) + "}"


def agree(a, b, rel, ab):
    """Whether a and b agree within ab + rel * max(|a|, |b|); NaN only matches NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= ab + rel * max(abs(a), abs(b))
