#!/usr/bin/python3
"""http_fixture.py: the HTTP and HTTPS server the http probe's integration test talks to.

Usage: http_fixture.py PORT TLS_PORT CERT KEY TOKEN_FILE

Serves on 127.0.0.1:PORT (http) and 127.0.0.1:TLS_PORT (https, CERT and KEY), the same
paths on both (query strings are ignored, so tests can make distinct URLs):
  /json      200 {"queue":{"pending":7},"shops":[{"orders":3}],"ok":true}
  /error     500
  /slow      200 after 3 s
  /redirect  302 to /json
  /text      200 "status: all systems operational"
  /auth      200 {"authorized":1} when the header X-Token equals a line of TOKEN_FILE, else 401
Runs until killed. Logs nothing (a request's headers hold the token).
"""
import http.server
import ssl
import sys
import threading
import time

JSON = b'{"queue":{"pending":7},"shops":[{"orders":3}],"ok":true}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tokens = set()

    def log_message(self, fmt, *args):
        # one line per request (its request line) on stderr: tests read who was contacted
        sys.stderr.write("%s\n" % self.requestline)
        sys.stderr.flush()

    def send(self, code, body, ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/json":
            self.send(200, JSON)
        elif path == "/error":
            self.send(500, b'{"error":"failed"}')
        elif path == "/slow":
            time.sleep(3)
            self.send(200, JSON)
        elif path == "/redirect":
            self.send(302, b"moved\n", "text/plain", {"Location": "/json"})
        elif path == "/text":
            self.send(200, b"status: all systems operational\n", "text/plain")
        elif path == "/auth":
            got = self.headers.get("X-Token", "").encode()
            if got in Handler.tokens:
                self.send(200, b'{"authorized":1}')
            else:
                self.send(401, b'{"error":"no token"}')
        else:
            self.send(404, b'{"error":"not found"}')

    do_HEAD = do_GET


def main():
    port, tls_port, cert, key, token_file = sys.argv[1:6]
    with open(token_file, "rb") as f:
        Handler.tokens = {line.strip() for line in f if line.strip()}
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", int(tls_port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    for s in (plain, tls):
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
