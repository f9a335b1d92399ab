#!/usr/bin/python3
# http_mutate.py: mutated HTTP requests against a running reeve, over raw sockets.
#
#   http_mutate.py --port N --seed S [--count 3000] [--batch 300] [--hang 30] [--out FILE]
#
# Each request starts as a valid one to one of reeve's endpoints (GET /metrics, the query
# API, POST /api/v1/push and /api/v1/events bodies in text and JSON, silences, acks,
# reports, graphs) and gets one to three mutations: byte flips, truncation, duplicated or
# oversized headers, a bad method or version, bad chunked encoding, a huge, negative or
# doubled Content-Length, NUL bytes, bad percent-encoding, a very long URL, header folding,
# HTTP/0.9, bare LF line ends, pipelining. Each is sent on its own connection, which is
# then half-closed (so the server sees the end of the request at once instead of waiting
# for its idle timeout); the answer is read until the server closes the connection.
#
# Acceptable: the connection closed (with or without an answer, or reset; after a
# "100 Continue" when the promised body never came), or answers whose final statuses are
# all in OK_STATUS. Never: another status (500, 502...), bytes
# that are not an HTTP answer, or a connection still open --hang seconds after the request
# was complete (the server's idle timeout is far shorter). After each batch GET /healthz
# must answer 200. Prints one line per batch, a histogram of statuses and every failure
# (request number and the request's first bytes); exits 1 on any failure. The same seed
# gives the same requests (but for the times in queries, taken from the clock).
import argparse
import json
import random
import re
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# 2xx: the mutation left the request valid. 4xx: refused, as it should be. 503: a queue full,
# not ready or a query out of time (http-api.md). 505: libmicrohttpd's own answer to a request
# line naming an HTTP version it does not speak (HTTP/1.2, HTTP/2.0): a refusal, not a failure.
OK_STATUS = set(range(200, 209)) | set(range(400, 452)) | {503, 505}
STATUS_RE = re.compile(rb"HTTP/1\.[01] (\d{3})[ \r\n]")

NOW = int(time.time())


def seeds():
    """Valid requests: (method, target, headers, body)."""
    j = "application/json"
    form = "application/x-www-form-urlencoded"
    text = "text/plain; version=0.0.4"
    s = [
        ("GET", "/healthz", [], b""),
        ("GET", "/readyz", [], b""),
        ("GET", "/metrics", [], b""),
        ("HEAD", "/metrics", [], b""),
        ("GET", "/", [], b""),
        ("GET", "/api/v1/query?query=load1", [], b""),
        ("GET", "/api/v1/query?query=sum%%20by%%20(job)%%20(rate(mut_total%%5B1m%%5D))&time=%d" % NOW,
         [], b""),
        ("GET", "/api/v1/query_range?query=load1&start=%d&end=%d&step=1" % (NOW - 60, NOW),
         [], b""),
        ("POST", "/api/v1/query", [("Content-Type", form)], b"query=load1%20%3E%200"),
        ("POST", "/api/v1/query_range", [("Content-Type", form)],
         b"query=avg_over_time(load1%%5B30s%%5D)&start=%d&end=%d&step=5" % (NOW - 120, NOW)),
        ("GET", "/api/v1/series?match%5B%5D=load1&match[]=%7B__name__%3D~%22mut.*%22%7D", [], b""),
        ("GET", "/api/v1/labels", [], b""),
        ("GET", "/api/v1/label/__name__/values", [], b""),
        ("GET", "/api/v1/metadata?metric=load1", [], b""),
        ("GET", "/api/v1/status/buildinfo", [], b""),
        ("GET", "/api/v1/graph.svg?query=load1&start=%d&end=%d" % (NOW - 60, NOW), [], b""),
        ("GET", "/api/v1/graph.png?query=load1&width=200&height=100", [], b""),
        ("GET", "/api/v1/alerts", [], b""),
        ("GET", "/api/v1/rules", [], b""),
        ("GET", "/api/v1/alerts/history?since=%d&limit=10" % (NOW - 3600), [], b""),
        ("GET", "/api/v1/silences", [], b""),
        ("POST", "/api/v1/silences", [("Content-Type", j)],
         json.dumps({"matchers": 'alertname="MutAlert"', "duration": "1h",
                     "comment": "mutated", "createdBy": "http_mutate"}).encode()),
        ("DELETE", "/api/v1/silences/0123456789abcdef", [], b""),
        ("POST", "/api/v1/alerts/0123456789abcdef/ack", [("Content-Type", j)],
         b'{"duration":"1h","comment":"on it","createdBy":"http_mutate"}'),
        ("GET", "/api/v1/reports", [], b""),
        ("POST", "/api/v1/reports/weekly/run", [], b""),
        ("GET", "/reports/weekly/latest.html", [], b""),
        ("POST", "/api/v1/push", [("Content-Type", text)],
         b'# TYPE mut_total counter\nmut_total{job="a",le="0.5"} 17\nmut_gauge 3.5 %d000\n' % NOW),
        ("POST", "/api/v1/push", [("Content-Type", j)],
         b'[{"name":"mut_orders","labels":{"shop":"south"},"value":3},'
         b'{"name":"mut_ok","value":true,"ttl":"1h"}]'),
        ("POST", "/api/v1/events", [("Content-Type", j)],
         b'[{"event":"mut_order","count":3},{"event":"mut_order","labels":{"shop":"north"}}]'),
    ]
    return s


def build(method, target, headers, body, version="HTTP/1.1", chunked=False, eol=b"\r\n"):
    lines = [("%s %s %s" % (method, target, version)).encode("latin-1")]
    lines.append(b"Host: 127.0.0.1")
    for k, v in headers:
        lines.append(("%s: %s" % (k, v)).encode("latin-1"))
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        payload = b""
        if body:
            payload = b"%x\r\n%s\r\n" % (len(body), body)
        payload += b"0\r\n\r\n"
    else:
        if body or method in ("POST", "PUT"):
            lines.append(b"Content-Length: %d" % len(body))
        payload = body
    lines.append(b"Connection: close")
    return eol.join(lines) + eol + eol + payload


def split_head(req):
    i = req.find(b"\r\n\r\n")
    if i < 0:
        return req, b""
    return req[:i], req[i + 4:]


# ---- mutations: each takes (rng, request bytes, seed tuple) and gives new bytes ----

def m_flip(rng, r, s):
    b = bytearray(r)
    for _ in range(rng.randint(1, 8)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def m_truncate(rng, r, s):
    return r[:rng.randrange(len(r))] if r else r


def m_dup_header(rng, r, s):
    head, body = split_head(r)
    lines = head.split(b"\r\n")
    if len(lines) < 2:
        return r
    i = rng.randrange(1, len(lines))
    lines[i + 1:i + 1] = [lines[i]] * rng.choice([1, 2, 50, 500])
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def m_big_header(rng, r, s):
    head, body = split_head(r)
    n = rng.choice([1000, 8000, 70000, 300000])
    name = rng.choice([b"X-Big", b"Cookie", b"Authorization", b"Content-Type", b"Host"])
    val = bytes(rng.choice(b"abcdefghij0123456789 =;%") for _ in range(64)) * (n // 64)
    return head + b"\r\n" + name + b": " + val + b"\r\n\r\n" + body


def m_many_headers(rng, r, s):
    head, body = split_head(r)
    extra = b"".join(b"\r\nX-H%d: %d" % (i, i) for i in range(rng.choice([100, 1000, 5000])))
    return head + extra + b"\r\n\r\n" + body


def m_method(rng, r, s):
    sp = r.find(b" ")
    if sp < 0:
        return r
    meth = rng.choice([b"get", b"PUT", b"PATCH", b"OPTIONS", b"TRACE", b"CONNECT", b"BREW",
                       b"G\x00ET", b"POST POST", b"", b"\xff\xfe", b"A" * 5000,
                       b"PROPFIND", b"M-SEARCH"])
    return meth + r[sp:]


def m_version(rng, r, s):
    return re.sub(rb"HTTP/1\.1", rng.choice([b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.2",
                                              b"HTTP/9.9", b"HTTP/1.1x", b"HTTP/", b"http/1.1",
                                              b"HTTP/1.01", b"HTTP/01.1", b"HTTP/1"]), r,
                  count=1)


def m_http09(rng, r, s):
    return b"GET " + s[1].encode("latin-1") + rng.choice([b"\r\n", b"\n", b"\r\n\r\n"])


def m_chunked(rng, r, s):
    method, target, headers, body = s
    body = body or b"x"
    head = build(method, target, headers, b"", chunked=False).split(b"\r\n\r\n")[0]
    head = b"\r\n".join(l for l in head.split(b"\r\n") if not l.startswith(b"Content-Length"))
    head += b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    bad = rng.choice([
        b"zz\r\n" + body + b"\r\n0\r\n\r\n",
        b"ffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n",
        b"10000000000000000000\r\n" + body,
        b"-5\r\n" + body + b"\r\n0\r\n\r\n",
        b"%x\r\n%s0\r\n\r\n" % (len(body), body),            # no CRLF after the data
        b"%x;ext=1;=;\r\n%s\r\n0\r\n\r\n" % (len(body), body),  # odd extensions
        b"%x\r\n%s\r\n" % (len(body) + 100, body),            # shorter than said
        b"1\r\n" + body[:1] + b"\r\n" * 3000,
        b"0\r\nTrailer: x\r\nTrailer2: " + b"y" * 10000 + b"\r\n\r\n",
        b"%x \r\n%s\r\n0\r\n\r\n" % (len(body), body),
        b"\r\n\r\n",
    ])
    if rng.random() < 0.3:
        head = head.replace(b"Transfer-Encoding: chunked",
                            b"Transfer-Encoding: chunked\r\nContent-Length: 5")
    if rng.random() < 0.2:
        head = head.replace(b"chunked", rng.choice([b"gzip, chunked", b"chunked, gzip",
                                                    b"identity", b"CHUNKED", b"chunked\x00"]))
    return head + bad


def m_content_length(rng, r, s):
    head, body = split_head(r)
    head = b"\r\n".join(l for l in head.split(b"\r\n") if not l.lower().startswith(b"content-length"))
    cl = rng.choice([b"99999999999999999999", b"18446744073709551615", b"-1", b"12abc",
                     b"0x10", b" 5", b"%d" % (len(body) + 10), b"%d" % max(len(body) - 3, 0),
                     b"4294967296", b"2147483648", b"%d, %d" % (len(body), len(body)),
                     b"1e3", b""])
    extra = b"\r\nContent-Length: " + cl
    if rng.random() < 0.3:
        extra += b"\r\nContent-Length: %d" % len(body)
    return head + extra + b"\r\n\r\n" + body


def m_nul(rng, r, s):
    b = bytearray(r)
    for _ in range(rng.randint(1, 4)):
        b.insert(rng.randrange(len(b) + 1), 0)
    return bytes(b)


def m_percent(rng, r, s):
    sp1 = r.find(b" ")
    sp2 = r.find(b" ", sp1 + 1)
    if sp1 < 0 or sp2 < 0:
        return r
    t = bytearray(r[sp1 + 1:sp2])
    bad = rng.choice([b"%", b"%z", b"%zz", b"%0", b"%00", b"%ff%fe", b"%C0%AF", b"%2", b"%%",
                      b"%u0041", b"%E2%82", b"%25%32%35", b"?", b"&&&", b"=&=", b"#frag",
                      b"/../../etc/passwd", b"%2e%2e%2f", b";x", b"\\"])
    t[rng.randrange(len(t) + 1):0] = bad
    return r[:sp1 + 1] + bytes(t) + r[sp2:]


def m_long_url(rng, r, s):
    sp1 = r.find(b" ")
    sp2 = r.find(b" ", sp1 + 1)
    if sp1 < 0 or sp2 < 0:
        return r
    n = rng.choice([2000, 9000, 70000, 200000])
    pad = rng.choice([b"a", b"%41", b"/", b"&x=1", b"&match[]=up", b"(", b"["])
    sep = b"&" if b"?" in r[sp1:sp2] else b"?"
    return r[:sp2] + sep + b"q=" + pad * (n // len(pad)) + r[sp2:]


def m_fold(rng, r, s):
    head, body = split_head(r)
    lines = head.split(b"\r\n")
    if len(lines) < 2:
        return r
    i = rng.randrange(1, len(lines))
    lines.insert(i + 1, rng.choice([b" continued", b"\tfolded: value", b" ", b"  \t"]))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def m_lf(rng, r, s):
    return r.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\n\r", b"\r\r\n"]))


def m_pipeline(rng, r, s):
    all_seeds = seeds()
    extra = b""
    for _ in range(rng.randint(1, 5)):
        m, t, h, b = rng.choice(all_seeds)
        one = build(m, t, h, b).replace(b"\r\nConnection: close", b"")
        extra += one
    return r.replace(b"\r\nConnection: close", b"") + extra


def m_body(rng, r, s):
    head, body = split_head(r)
    newbody = rng.choice([
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000))),
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'[{"name":"x","value":1e999999}]',
        b'[{"name":"' + b"n" * 100000 + b'","value":1}]',
        b"metric{" + b'l="v",' * 3000 + b"} 1\n",
        b"\xc3\x28\xa0\xa1\xf0\x28\x8c\x28\n",
        b'{"matchers":"alertname=~\\"(((((((((((a*)*)*)*)*)*)*)*)*)*)*\\"","duration":"99999999h"}',
        b"query=" + b"(" * 5000 + b"1" + b")" * 5000,
        b"query=" + b"%" * 100,
        b"",
        b"\x00" * 100,
    ])
    head = b"\r\n".join(l for l in head.split(b"\r\n") if not l.lower().startswith(b"content-length"))
    return head + b"\r\nContent-Length: %d\r\n\r\n" % len(newbody) + newbody


def m_content_type(rng, r, s):
    head, body = split_head(r)
    head = b"\r\n".join(l for l in head.split(b"\r\n") if not l.lower().startswith(b"content-type"))
    ct = rng.choice([b"application/json", b"text/plain", b"application/x-www-form-urlencoded",
                     b"multipart/form-data; boundary=xyz", b"multipart/form-data",
                     b"application/openmetrics-text", b"image/png", b";;;", b"",
                     b"text/plain; charset=utf-16", b"application/json; charset=\x00"])
    return head + b"\r\nContent-Type: " + ct + b"\r\n\r\n" + body


def m_expect(rng, r, s):
    head, body = split_head(r)
    return head + b"\r\nExpect: " + rng.choice([b"100-continue", b"200-ok", b""]) + \
        b"\r\n\r\n" + body


def m_no_host(rng, r, s):
    head, body = split_head(r)
    head = b"\r\n".join(l for l in head.split(b"\r\n") if not l.startswith(b"Host:"))
    if rng.random() < 0.5:
        head += b"\r\nHost: " + rng.choice([b"", b"a b", b"127.0.0.1:99999", b"\xff" * 10])
    return head + b"\r\n\r\n" + body


def m_auth(rng, r, s):
    head, body = split_head(r)
    v = rng.choice([b"Bearer", b"Bearer ", b"Basic Zm9vOmJhcg==", b"Bearer " + b"A" * 5000,
                    b"bearer x", b"Bearer \x00", b"Bearer a b c"])
    return head + b"\r\nAuthorization: " + v + b"\r\n\r\n" + body


MUTATIONS = [m_flip, m_truncate, m_dup_header, m_big_header, m_many_headers, m_method,
             m_version, m_http09, m_chunked, m_content_length, m_nul, m_percent, m_long_url,
             m_fold, m_lf, m_pipeline, m_body, m_content_type, m_expect, m_no_host, m_auth]


def make_request(rng):
    s = rng.choice(seeds())
    r = build(*s)
    names = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        m = rng.choice(MUTATIONS)
        r = m(rng, r, s)
        names.append(m.__name__[2:])
    return r, "+".join(names), "%s %s" % (s[0], s[1])


def send(port, req, hang):
    """Returns (kind, statuses, raw): kind is 'answer', 'closed', 'reset' or 'hang'."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(hang)
    data = b""
    try:
        sock.connect(("127.0.0.1", port))
        try:
            sock.sendall(req)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed early (EPIPE, ECONNRESET, ENOTCONN): read what it said
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, OSError) as e:
                if isinstance(e, socket.timeout):
                    raise
                return ("reset" if not data else "answer"), statuses(data), data
            if not chunk:
                break
            data += chunk
            if len(data) > 64 << 20:
                break
    except socket.timeout:
        return "hang", statuses(data), data
    finally:
        sock.close()
    if not data:
        return "closed", [], data
    return "answer", statuses(data), data


def statuses(data):
    """The status of every answer in data (pipelined answers follow each other)."""
    out = []
    for m in STATUS_RE.finditer(data):
        start = m.start()
        if start == 0 or data[start - 2:start] == b"\r\n" or data[start - 1:start] == b"\n":
            out.append(int(m.group(1)))
    return out


def judge(kind, sts, data):
    """None when acceptable, else what is wrong."""
    if kind == "hang":
        return "no answer and the connection still open"
    if kind in ("closed", "reset"):
        return None
    if not data.startswith(b"HTTP/1."):
        return "the answer does not start with a status line: %r" % data[:80]
    final = [x for x in sts if x >= 200]
    if not final and sts and all(100 <= x < 200 for x in sts):
        return None  # "100 Continue", then closed: the promised body never came
    if not final:
        return "no final status in %r" % data[:120]
    bad = [x for x in final if x not in OK_STATUS]
    if bad:
        return "status %s" % ",".join(map(str, bad))
    return None


def healthz(port, timeout):
    try:
        kind, sts, data = send(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               b"Connection: close\r\n\r\n", timeout)
    except OSError as e:
        return "connect: %s" % e
    return None if sts[:1] == [200] else "%s %s %r" % (kind, sts, data[:80])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=300)
    ap.add_argument("--hang", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--out", help="write every failing request here (repr, one a line)")
    a = ap.parse_args()

    rng = random.Random(a.seed)
    reqs = [make_request(rng) for _ in range(a.count)]
    hist = {}
    kinds = {}
    failures = []
    lock = threading.Lock()

    def one(i):
        req, muts, origin = reqs[i]
        try:
            kind, sts, data = send(a.port, req, a.hang)
        except ConnectionRefusedError:
            kind, sts, data = "refused", [], b""
        why = judge(kind, sts, data) if kind != "refused" else "connection refused"
        with lock:
            kinds[kind] = kinds.get(kind, 0) + 1
            for x in sts:
                hist[x] = hist.get(x, 0) + 1
            if why:
                failures.append((i, muts, origin, why, req))

    health_fail = 0
    for b0 in range(0, a.count, a.batch):
        idx = list(range(b0, min(b0 + a.batch, a.count)))
        with ThreadPoolExecutor(max_workers=a.workers) as ex:
            list(ex.map(one, idx))
        h = healthz(a.port, a.hang)
        print("batch %d-%d: %d failures so far; /healthz %s" %
              (idx[0] + 1, idx[-1] + 1, len(failures), "200" if h is None else "FAILED: " + h),
              flush=True)
        if h is not None:
            health_fail += 1
            break
    print("connections: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    print("statuses: " + ", ".join("%d: %d" % kv for kv in sorted(hist.items())))
    for i, muts, origin, why, req in failures[:40]:
        print("FAIL request %d (%s, from %s): %s; request starts %r" %
              (i + 1, muts, origin, why, req[:160]))
    if a.out:
        with open(a.out, "w") as f:
            for i, muts, origin, why, req in failures:
                f.write("%d\t%s\t%s\t%s\t%r\n" % (i + 1, muts, origin, why, req))
    print("total: %d requests, %d failures, %d /healthz failures" %
          (a.count, len(failures), health_fail))
    return 1 if failures or health_fail else 0


if __name__ == "__main__":
    sys.exit(main())
