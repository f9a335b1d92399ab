#!/usr/bin/python3
# webhookd.py: a webhook receiver for the integration tests: records every request as a JSON
# line, checks signatures and the generic format's schema, and answers as its path says.
#
#   webhookd.py --log FILE --port-file FILE [--port N] [--secret-file FILE] [--schema FILE]
#
# Listens on 127.0.0.1 on a port the kernel picks, written to --port-file once it listens.
# Each request is appended to --log as {"method", "path", "headers": [[name, value]...],
# "body": text, "signature": "ok"|"bad"|"missing"|null, "schema_errors": [...]|null}.
# Paths (the query string is ignored except where said):
#   /signed/...      with --secret-file: 401 unless X-Webhook-Signature verifies over
#                    "<X-Webhook-Timestamp>.<raw body>" and the timestamp is within 300 s
#   /generic/...     400 unless the body is valid against --schema
#   /status/CODE     answer CODE (301 and 302 with a Location to /ok; ?retry_after=V sets
#                    Retry-After: V)
#   /sleep/SECONDS   wait, then 200
#   /huge            200 with a 32 MiB body
#   anything else    200 "ok"
# The checks combine: /signed/generic/status/500 verifies, validates, then answers 500.
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HUGE = 32 << 20
CHUNK = 1 << 16


def verify(secret, headers, body):
    ts = headers.get("X-Webhook-Timestamp")
    sig = headers.get("X-Webhook-Signature")
    if ts is None or sig is None:
        return "missing"
    try:
        if abs(time.time() - int(ts)) > 300:
            return "bad"
    except ValueError:
        return "bad"
    want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "ok" if hmac.compare_digest(sig.encode(), want.encode()) else "bad"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, text, extra=()):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        srv = self.server
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        rec = {"method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()],
               "body": body.decode("utf-8", "replace"), "signature": None,
               "schema_errors": None}
        if srv.secret is not None:
            rec["signature"] = verify(srv.secret, self.headers, body)
        if "generic" in parts and srv.validator is not None:
            try:
                doc = json.loads(body)
                rec["schema_errors"] = [e.message for e in srv.validator.iter_errors(doc)]
            except ValueError as e:
                rec["schema_errors"] = ["not JSON: %s" % e]
        with srv.lock:
            srv.log.write(json.dumps(rec) + "\n")
            srv.log.flush()
        try:
            self.answer(parts, query, rec)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def answer(self, parts, query, rec):
        if "signed" in parts and rec["signature"] != "ok":
            return self.reply(401, "signature %s\n" % rec["signature"])
        if rec["schema_errors"]:
            return self.reply(400, "schema: %s\n" % "; ".join(rec["schema_errors"]))
        if "status" in parts:
            code = int(parts[parts.index("status") + 1])
            extra = []
            if code in (301, 302):
                extra.append(("Location", "/ok"))
            if "retry_after" in query:
                extra.append(("Retry-After", query["retry_after"][0]))
            return self.reply(code, "answer %d\r\nsecond line\n" % code, extra)
        if "sleep" in parts:
            time.sleep(float(parts[parts.index("sleep") + 1]))
            return self.reply(200, "slept\n")
        if "huge" in parts:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            chunk = b"huge answer " + b"x" * (CHUNK - 13) + b"\n"
            for _ in range(HUGE // CHUNK):
                self.wfile.write(chunk)
            return None
        return self.reply(200, "ok\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--secret-file")
    ap.add_argument("--schema")
    ap.add_argument("--port", type=int, default=0, help="listen on this port (default: any)")
    a = ap.parse_args()
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()
    srv.log = open(a.log, "a")
    srv.secret = None
    if a.secret_file:
        with open(a.secret_file, "rb") as f:
            srv.secret = f.read().rstrip(b"\r\n")
    srv.validator = None
    if a.schema:
        import jsonschema
        with open(a.schema) as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        srv.validator = cls(schema, format_checker=jsonschema.FormatChecker())
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
