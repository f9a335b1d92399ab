# smtpd.py: an SMTP server on 127.0.0.1 for the integration tests (Debian's python3-aiosmtpd).
# Run with /usr/bin/python3. Writes its port to --port-file when it accepts connections and
# runs until SIGTERM. Modes:
#   (default)           accept every message, save it to --dir as msg-N.eml (+ msg-N.json:
#                       envelope, TLS, AUTH)
#   --tls CERT KEY      offer STARTTLS with this certificate (--require-tls: demand it)
#   --auth USER:PASS    demand AUTH (PLAIN or LOGIN) with these credentials
#   --refuse greeting   answer 554 at the greeting (no service)
#   --refuse rcpt       answer 550 5.1.1 to every RCPT TO
#   --tempfail N        answer 451 4.7.1 to RCPT TO in the first N transactions, then accept
#   --fail-data         answer 554 5.6.0 at the end of DATA
#   --blackhole         accept TCP connections and never say a word
#   --garbage           answer every line with bytes that are not SMTP
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = itertools.count(1)
        self.transactions = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.transactions += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.refuse == "rcpt":
            return "550 5.1.1 no such user"
        if self.transactions <= self.args.tempfail:
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.fail_data:
            return "554 5.6.0 message refused"
        n = next(self.count)
        base = os.path.join(self.args.dir, "msg-%d" % n)
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": session.ssl is not None,
                       "auth": session.authenticated}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".json.tmp", base + ".json")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 accepted as msg-%d" % n


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)
    return check


# what a confused server (an HTTP one, a binary protocol) might say instead of SMTP
GARBAGE = b"\x00\xff\xfeHTTP/1.1 400 Bad Request\r\n\x1b[31m\xc3\x28 not smtp\r\n9\r\n"


async def raw_server(args, greeting):
    """A server below SMTP: silent (black hole) or one that refuses service at the greeting."""
    held = []

    async def client(reader, writer):
        held.append(writer)
        if greeting is None:
            await reader.read()  # never answer; wait for the client to go
            return
        writer.write(greeting)
        await writer.drain()
        while line := await reader.readline():
            if line.strip().upper() == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                break
            writer.write(GARBAGE if greeting == GARBAGE else b"503 5.5.1 no service here\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", args.port)
    ready(args)
    async with server:
        await server.serve_forever()


def ready(args):
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % args.port)
    os.rename(args.port_file + ".tmp", args.port_file)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--dir", default=".")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-tls", action="store_true")
    p.add_argument("--auth")
    p.add_argument("--refuse", choices=("greeting", "rcpt"))
    p.add_argument("--tempfail", type=int, default=0)
    p.add_argument("--fail-data", action="store_true")
    p.add_argument("--blackhole", action="store_true")
    p.add_argument("--garbage", action="store_true")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))

    if args.blackhole or args.garbage or args.refuse == "greeting":
        greeting = None if args.blackhole else GARBAGE if args.garbage else \
            b"554 5.3.2 no SMTP service here\r\n"
        asyncio.run(raw_server(args, greeting))
        return

    kw = {}
    if args.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*args.tls)
        kw.update(tls_context=ctx, require_starttls=args.require_tls)
    if args.auth:
        user, password = args.auth.split(":", 1)
        kw.update(authenticator=authenticator(user, password), auth_required=True,
                  auth_require_tls=bool(args.tls))
    os.makedirs(args.dir, exist_ok=True)
    c = Controller(Handler(args), hostname="127.0.0.1", port=args.port,
                   server_hostname="localhost", **kw)
    c.start()
    ready(args)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
