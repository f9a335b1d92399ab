#!/usr/bin/env bash
# notify_email.sh: the email notifier against a real SMTP server (tests/integration/smtpd.py,
# aiosmtpd) on loopback: `reeve notify test NAME` and tests/email_send (a message with a
# graph drawn from an RRD file made here with rrdtool). Every message received is parsed
# with Python's email module; STARTTLS with the test's own certificate and AUTH work, a
# wrong CA, a wrong password and a missing STARTTLS do not send; refusals are classified
# as permanent (5xx) or temporary (4xx, no answer, no connection).
. "$TEST_LIB"
plan 31
PY=/usr/bin/python3
SMTPD="$(dirname "$TEST_LIB")/smtpd.py"
: "${EMAIL_SEND:?EMAIL_SEND must point at tests/email_send (make check sets it)}"

# start_smtpd NAME ARGS...: an SMTP server saving to $T_DIR/NAME; sets PORT
start_smtpd() {
	local name=$1; shift
	PORT=$(free_port)
	"$PY" "$SMTPD" --port "$PORT" --port-file "$T_DIR/$name.port" --dir "$T_DIR/$name" "$@" \
		>"$T_DIR/$name.log" 2>&1 &
	SMTPD_PID=$!
	T_PIDS+=("$SMTPD_PID")
	wait_for 15 test -f "$T_DIR/$name.port" || diag "smtpd $name did not start: $(cat "$T_DIR/$name.log")"
}
stop_smtpd() { kill -TERM "$SMTPD_PID" 2>/dev/null; wait "$SMTPD_PID" 2>/dev/null; }

# notify NAME: `reeve notify test NAME`, its output in $T_DIR/NAME.out; returns its status
notify() { "$REEVE" notify test "$1" -c "$T_DIR/reeve.conf" >"$T_DIR/$1.out" 2>&1; }
said() { grep -q -- "$2" "$T_DIR/$1.out" || { cat "$T_DIR/$1.out"; false; }; }

# a certificate for localhost, and another one the server does not use (a wrong CA)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$T_DIR/other-key.pem" -out "$T_DIR/other.pem" 2>/dev/null
( umask 077; echo 's3cret' > "$T_DIR/pw"; echo 'wrong-pass-x9' > "$T_DIR/badpw" )

# the checker of received messages
cat > "$T_DIR/check_mail.py" <<'EOF'
import email, email.utils, re, sys
from email import policy
path, subject, to = sys.argv[1], sys.argv[2], sys.argv[3]
graph = "--graph" in sys.argv
raw = open(path, "rb").read()
def fail(why):
    sys.exit("%s: %s" % (path, why))
lines = raw.split(b"\r\n")
if any(b"\n" in l or b"\r" in l for l in lines): fail("a line does not end in CRLF")
if max(len(l) for l in lines) > 998: fail("a line is longer than 998 octets")
msg = email.message_from_bytes(raw, policy=policy.default)
if msg.defects: fail("defects %s" % msg.defects)
for h in ("Date", "Message-ID", "From", "To", "Subject", "MIME-Version"):
    if len(msg.get_all(h, [])) != 1: fail("%s: %d times" % (h, len(msg.get_all(h, []))))
email.utils.parsedate_to_datetime(msg["Date"])
if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", msg["Message-ID"]): fail("Message-ID %s" % msg["Message-ID"])
if msg["Subject"] != subject: fail("Subject %r, not %r" % (msg["Subject"], subject))
if to not in msg["To"]: fail("To %r lacks %r" % (msg["To"], to))
if msg.get_content_type() != "multipart/alternative": fail(msg.get_content_type())
kinds = [p.get_content_type() for p in msg.iter_parts()]
want = ["text/plain", "multipart/related" if graph else "text/html"]
if kinds != want: fail("parts %s" % kinds)
for p in msg.walk():
    if p.defects: fail("part %s: %s" % (p.get_content_type(), p.defects))
plain = msg.get_body(preferencelist=("plain",)).get_content()
html = msg.get_body(preferencelist=("html",)).get_content()
if subject not in plain or "Labels:" not in plain: fail("plain text: %r" % plain[:300])
if "<table" not in html or "<script" in html: fail("html: %r" % html[:300])
if graph:
    pngs = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    if len(pngs) != 1: fail("%d images" % len(pngs))
    img = pngs[0]
    if img.get_content()[:8] != b"\x89PNG\r\n\x1a\n": fail("not a PNG")
    if img.get_content_disposition() != "inline": fail("disposition")
    cid = img["Content-ID"].strip("<>")
    if ('src="cid:%s"' % cid) not in html: fail("cid %s not in the HTML" % cid)
    if "größer" not in plain or "&lt;script&gt;" not in html: fail("text and escaping")
print("ok")
EOF
mail_ok() { "$PY" "$T_DIR/check_mail.py" "$@"; }

http_port=$(free_port)
write_config "$T_DIR/reeve.conf" "$http_port" ""
sed -i 's/^\[reeve\]$/&\nhostname = mon01.example.org/' "$T_DIR/reeve.conf"
# add_notifier NAME KEY=VALUE...: an email notifier to ops@ and Zoë
add_notifier() {
	local name=$1; shift
	{
		printf '\n[notifier %s]\ntype = email\nfrom = Reeve Monitor <reeve@example.org>\n' "$name"
		printf 'to = ops@example.org, Zoë Ops <zoe@example.org>\ntimeout = %s\n' "${TIMEOUT:-5s}"
		printf '%s\n' "$@"
	} >> "$T_DIR/reeve.conf"
}
test_subject='[TEST] [FIRING:1] ReeveTest (info) on mon01.example.org'

# ---- plain SMTP: the test message and a message with a graph ----
start_smtpd plain
add_notifier plain "server = localhost:$PORT" "starttls = off"
add_notifier plain_tls "server = localhost:$PORT" "starttls = required"
add_notifier plain_opp "server = localhost:$PORT" "starttls = opportunistic"
check "reeve notify test sends to a plain SMTP server" -- notify plain
check "it says so with the server's answer" -- said plain "plain: sent (email) after .*: 250 2.0.0 accepted as msg-1"
check "the message parses: headers, subject decoded, both alternative parts" -- \
	mail_ok "$T_DIR/plain/msg-1.eml" "$test_subject" "Zoë Ops <zoe@example.org>"
check "envelope: MAIL FROM the from address, RCPT TO every to address" -- "$PY" -c "
import json,sys; e=json.load(open('$T_DIR/plain/msg-1.json'))
sys.exit(e['mail_from']!='reeve@example.org' or e['rcpt_tos']!=['ops@example.org','zoe@example.org'])"
check "starttls = opportunistic sends without STARTTLS when none is offered" -- notify plain_opp
notify plain_tls
check "starttls = required against a server without STARTTLS: retried" -- \
	said plain_tls "plain_tls: failed, will be retried (email).*does not offer STARTTLS"

# a graph of the alert's series, from an RRD file made with rrdtool
rrd="$T_DIR/data/rrd/disk_used_percent/mountpoint=%2F.rrd"
mkdir -p "$(dirname "$rrd")"
now=$(date +%s)
rrdtool create "$rrd" --start $((now - 7200)) --step 10 DS:value:GAUGE:20:U:U \
	RRA:AVERAGE:0.5:1:1000 RRA:MIN:0.5:1:1000 RRA:MAX:0.5:1:1000
updates=()
for ((t = now - 7190; t < now; t += 10)); do updates+=("$t:$((80 + (t - now + 7200) / 600))"); done
rrdtool update "$rrd" "${updates[@]}"
# in the sanitizer build: librrd's and fontconfig's own leaks are not reeve's (tests/lsan.supp)
LSAN_OPTIONS="suppressions=$(dirname "$TEST_LIB")/../lsan.supp:fast_unwind_on_malloc=0" \
"$EMAIL_SEND" server="localhost:$PORT" starttls=off from='reeve@example.org' to='Jörg <ops@example.org>' \
	data_dir="$T_DIR/data" group=mixed timeout=5 >"$T_DIR/send.out" 2>"$T_DIR/send.err"
check "email_send with a graph: sent" -- grep -q "^SENT	250 2.0.0 accepted as msg-3" "$T_DIR/send.out"
check "the graph is an inline PNG whose cid the HTML shows; values escaped" -- mail_ok \
	"$T_DIR/plain/msg-3.eml" "[FIRING:1, RESOLVED:1] DiskFull, HighLoad (critical) on web01, web02" \
	"Jörg <ops@example.org>" --graph
stop_smtpd

# ---- STARTTLS and AUTH required ----
start_smtpd tls --tls "$T_DIR/cert.pem" "$T_DIR/key.pem" --require-tls --auth alert:s3cret
add_notifier tls_auth "server = localhost:$PORT" "ca_file = $T_DIR/cert.pem" "username = alert" \
	"password_file = $T_DIR/pw"
add_notifier tls_wrong_ca "server = localhost:$PORT" "ca_file = $T_DIR/other.pem" "username = alert" \
	"password_file = $T_DIR/pw"
add_notifier tls_system_ca "server = localhost:$PORT" "username = alert" "password_file = $T_DIR/pw"
add_notifier tls_by_ip "server = 127.0.0.1:$PORT" "ca_file = $T_DIR/cert.pem" "username = alert" \
	"password_file = $T_DIR/pw"
add_notifier bad_password "server = localhost:$PORT" "ca_file = $T_DIR/cert.pem" "username = alert" \
	"password_file = $T_DIR/badpw"
add_notifier no_auth "server = localhost:$PORT" "ca_file = $T_DIR/cert.pem"
check "reeve check accepts the email notifiers" -- "$REEVE" check -c "$T_DIR/reeve.conf"
check "STARTTLS with the test's certificate (ca_file) and AUTH: sent" -- notify tls_auth
check "the server saw TLS and the user" -- "$PY" -c "
import json,sys; e=json.load(open('$T_DIR/tls/msg-1.json')); sys.exit(not (e['tls'] and e['auth']))"
check "the message came through intact" -- mail_ok "$T_DIR/tls/msg-1.eml" "$test_subject" "ops@example.org"
# libesmtp 1.1.0 stalled in about every other session after a TLS 1.3 handshake (email.c)
check "five STARTTLS sessions in a row all go through" -- bash -c "
	for i in 1 2 3 4 5; do '$REEVE' notify test tls_auth -c '$T_DIR/reeve.conf' || exit 1; done"
notify tls_wrong_ca
check "a certificate the ca_file does not sign is refused, retried" -- \
	said tls_wrong_ca "failed, will be retried (email).*certificate is not trusted"
notify tls_system_ca
check "nor does the system store trust it" -- said tls_system_ca "failed, will be retried (email).*not trusted"
notify tls_by_ip
check "the certificate's DNS name must match the server's name" -- \
	said tls_by_ip "failed, will be retried (email).*certificate is for"
check "a wrong password does not send" -- bash -c "! '$REEVE' notify test bad_password -c '$T_DIR/reeve.conf' > '$T_DIR/bad_password.out' 2>&1"
check "and says what the server answered, without the password" -- bash -c "
	grep -q 'bad_password: failed.*(email).*5[0-9][0-9] ' '$T_DIR/bad_password.out' &&
	! grep -q 'wrong-pass-x9' '$T_DIR/bad_password.out'"
notify no_auth
check "without AUTH a server that demands it refuses: permanent" -- \
	said no_auth "no_auth: failed permanently (email).*530 .*(MAIL FROM reeve@example.org)"
check "nothing else arrived" -- test "$(ls "$T_DIR/tls" | grep -c 'eml$')" = 6
stop_smtpd

# ---- refusals ----
start_smtpd greet --refuse greeting
add_notifier greet "server = localhost:$PORT" "starttls = off"
notify greet
check "554 at the greeting: failed permanently" -- said greet "greet: failed permanently (email).*554 5.3.2 no SMTP service here (greeting)"
stop_smtpd
start_smtpd rcpt --refuse rcpt
add_notifier rcpt "server = localhost:$PORT" "starttls = off"
notify rcpt
check "550 to every RCPT TO: failed permanently, naming the recipient" -- \
	said rcpt "rcpt: failed permanently (email).*550 5.1.1 no such user (RCPT TO ops@example.org) and 1 more"
stop_smtpd
start_smtpd data --fail-data
add_notifier data "server = localhost:$PORT" "starttls = off"
notify data
check "554 after DATA: failed permanently" -- said data "data: failed permanently (email).*554 5.6.0 message refused (DATA)"
stop_smtpd
start_smtpd grey --tempfail 1
add_notifier grey "server = localhost:$PORT" "starttls = off"
notify grey
check "451 to RCPT TO: retried" -- said grey "grey: failed, will be retried (email).*451 4.7.1 greylisted"
check "and the next attempt goes through" -- notify grey
stop_smtpd

# ---- no answer, no connection ----
start_smtpd hole --blackhole
TIMEOUT=2s add_notifier hole "server = localhost:$PORT" "starttls = off"
start=$SECONDS
notify hole
check "a server that never answers: retried" -- said hole "hole: failed, will be retried (email).*no answer from localhost:$PORT within the timeout (greeting)"
check "after about the timeout (2 s), not minutes" -- test $((SECONDS - start)) -lt 10
stop_smtpd

# ---- a server answering bytes that are not SMTP ----
start_smtpd junk --garbage
TIMEOUT=2s add_notifier junk "server = localhost:$PORT" "starttls = off"
rc=0
timeout 60 "$REEVE" notify test junk -c "$T_DIR/reeve.conf" >"$T_DIR/junk.out" 2>&1 || rc=$?
check "a server answering garbage: failed, with the reason" -- said junk "junk: failed"
check "... exit 1: no crash, no hang" -- test "$rc" = 1
diag "$(cat "$T_DIR/junk.out")"
stop_smtpd
closed=$(free_port)
add_notifier refused "server = localhost:$closed" "starttls = off"
notify refused
check "connection refused: retried" -- said refused "refused: failed, will be retried (email).*cannot connect to localhost:$closed: Connection refused"
add_notifier nxhost "server = no-such-host.invalid:25" "starttls = off"
notify nxhost
check "a host that does not resolve: retried" -- said nxhost "nxhost: failed, will be retried (email).*cannot resolve no-such-host.invalid"
t_done
