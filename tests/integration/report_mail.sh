#!/usr/bin/env bash
# report_mail.sh: a report mail built with mime_build (tests/mime_send: HTML with two graphs
# drawn from an RRD file made here, a PDF-like and a CSV attachment) goes through the email
# notifier's send to a real SMTP server (tests/integration/smtpd.py, aiosmtpd) on loopback.
# The envelope's recipients are the message's own To and Cc, not the notifier's to; Python's
# email module reads the message back: its structure, the cid: references, the attachments'
# bytes (sha256), the non-ASCII subject and filename.
. "$TEST_LIB"
plan 12
PY=/usr/bin/python3
SMTPD="$(dirname "$TEST_LIB")/smtpd.py"
: "${MIME_SEND:?MIME_SEND must point at tests/mime_send (make check sets it)}"

PORT=$(free_port)
"$PY" "$SMTPD" --port "$PORT" --port-file "$T_DIR/smtpd.port" --dir "$T_DIR/mail" >"$T_DIR/smtpd.log" 2>&1 &
T_PIDS+=("$!")
wait_for 15 test -f "$T_DIR/smtpd.port" || diag "smtpd did not start: $(cat "$T_DIR/smtpd.log")"

# two hours of a gauge every 10 s, for the graphs
rrd="$T_DIR/load.rrd"
end=$(date +%s)
rrdtool create "$rrd" --start $((end - 7300)) --step 10 DS:value:GAUGE:20:U:U \
	RRA:AVERAGE:0.5:1:800 RRA:MAX:0.5:1:800
awk -v e="$end" 'BEGIN { for (t = e - 7290; t < e; t += 10) printf "%d:%.2f\n", t, 50 + 40 * sin(t / 900) }' |
	xargs rrdtool update "$rrd"

# mime_send NAME ARGS...: build and send into $T_DIR/NAME/, its output in $T_DIR/NAME.out
mime_send() {
	local name=$1; shift
	mkdir -p "$T_DIR/$name"
	# in the sanitizer build: librrd's and fontconfig's own leaks are not reeve's (tests/lsan.supp)
	LSAN_OPTIONS="suppressions=$(dirname "$TEST_LIB")/../lsan.supp:fast_unwind_on_malloc=0:print_suppressions=0" \
	"$MIME_SEND" server="localhost:$PORT" from='Reeve Reports <reports@example.org>' \
		to=ops@example.org to='Bereitschaft <oncall@example.org>' rrd="$rrd" save="$T_DIR/$name" "$@" \
		>"$T_DIR/$name.out" 2>"$T_DIR/$name.err"
}

cat > "$T_DIR/check_report.py" <<'EOF'
import email, hashlib, json, re, sys
from email import policy
sent_dir, eml, envelope = sys.argv[1], sys.argv[2], sys.argv[3]
want_rcpt = sys.argv[4].split()
what = sys.argv[5]
def fail(why):
    sys.exit("%s: %s" % (eml, why))
raw = open(eml, "rb").read()
env = json.load(open(envelope))
msg = email.message_from_bytes(raw, policy=policy.default)

if what == "envelope":
    if env["mail_from"] != "reports@example.org": fail("MAIL FROM %s" % env["mail_from"])
    if env["rcpt_tos"] != want_rcpt: fail("RCPT TO %s, not %s" % (env["rcpt_tos"], want_rcpt))
    heads = [a.addr_spec for h in ("To", "Cc") for a in (msg[h].addresses if msg[h] else ())]
    if heads != want_rcpt: fail("To and Cc %s" % heads)
elif what == "intact":
    if raw != open(sent_dir + "/message.eml", "rb").read(): fail("not the bytes mime_build made")
    lines = raw.split(b"\r\n")
    if lines[-1] != b"" or any(b"\n" in l or b"\r" in l for l in lines): fail("not CRLF lines")
    if max(len(l) for l in lines) > 998 or max(raw) > 127: fail("a long line or 8-bit data")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    if max(len(l) for l in head) > 78: fail("a header line longer than 78")
    if [p for p in msg.walk() if p.defects] or msg.defects: fail("defects")
elif what == "structure":
    def shape(p):
        if p.is_multipart():
            return [p.get_content_type(), [shape(c) for c in p.iter_parts()]]
        return p.get_content_type()
    want = ["multipart/mixed", [["multipart/alternative", ["text/plain", ["multipart/related",
            ["text/html", "image/png", "image/png"]]]], "application/pdf", "text/csv"]]
    if shape(msg) != want: fail("structure %s" % shape(msg))
elif what == "cid":
    html = msg.get_body(preferencelist=("html",)).get_content()
    cids = re.findall(r'src="cid:([^"]+)"', html)
    ids = {p["Content-ID"].strip("<>"): p for p in msg.walk() if p["Content-ID"]}
    if len(cids) != 2 or sorted(cids) != sorted(ids): fail("cid %s, Content-IDs %s" % (cids, list(ids)))
    for cid in cids:
        img = ids[cid]
        png = img.get_content()
        if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR" or len(png) < 1000: fail("%s: no PNG" % cid)
        if img.get_content_disposition() != "inline": fail("%s: not inline" % cid)
elif what == "attachments":
    atts = [p for p in msg.iter_attachments() if p.get_content_disposition() == "attachment"]
    names = [p.get_filename() for p in atts]
    if names != ["Bericht München.pdf", "availability.csv"]: fail("filenames %s" % names)
    for i, p in enumerate(atts):
        got = hashlib.sha256(p.get_payload(decode=True)).hexdigest()
        sent = hashlib.sha256(open("%s/attachment-%d" % (sent_dir, i + 1), "rb").read()).hexdigest()
        if got != sent: fail("%s: sha256 %s, sent %s" % (names[i], got, sent))
    if atts[0]["Content-Type"].params.get("name") != "Bericht M_nchen.pdf": fail("ASCII fallback name")
    if atts[1].get_content_charset() != "utf-8": fail("csv charset")
elif what == "text":
    if msg["Subject"] != "Wochenbericht München – KW 19: Verfügbarkeit 99,95 %": fail("Subject %r" % msg["Subject"])
    if msg["Auto-Submitted"] != "auto-generated": fail("Auto-Submitted")
    if not re.fullmatch(r"<reports/weekly/2024-19@mon01\.example\.org>", msg["Message-ID"]): fail("Message-ID")
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    if "Verfügbarkeit: 99,95 %" not in plain or "München – KW 19" not in html: fail("bodies")
    if [a.display_name for a in msg["To"].addresses] != ["Doe, Jane", "Jörg Müller"]: fail("names %s" % msg["To"])
print("ok")
EOF
check_report() { "$PY" "$T_DIR/check_report.py" "$T_DIR/$1" "$T_DIR/mail/$2.eml" "$T_DIR/mail/$2.json" "$3" "$4"; }

# ---- To and Cc: the report's own people ----
mime_send report msg_to='"Doe, Jane" <jane@example.org>' msg_to='Jörg Müller <joerg@example.org>' \
	msg_cc='reports-archive@example.org'
check "mime_send builds the report and the notifier sends it" -- grep -q "^SENT	250 2.0.0 accepted as msg-1" "$T_DIR/report.out"
check "it said nothing else (no warning, no sanitizer report)" -- bash -c "! grep '' '$T_DIR/report.err'"
rcpt="jane@example.org joerg@example.org reports-archive@example.org"
check "RCPT TO: the To and Cc addresses of the message, not the notifier's to" -- \
	check_report report msg-1 "$rcpt" envelope
check "the message arrives as built: CRLF, 7-bit, folded header, no defects" -- \
	check_report report msg-1 "$rcpt" intact
check "mixed > alternative > (text/plain, related > (text/html, 2 x image/png)), pdf, csv" -- \
	check_report report msg-1 "$rcpt" structure
check "every cid: of the HTML is the Content-ID of an inline PNG" -- check_report report msg-1 "$rcpt" cid
check "the attachments decode to the bytes sent, under their (non-ASCII) names" -- \
	check_report report msg-1 "$rcpt" attachments
check "subject, display names and bodies decode to the UTF-8 they were" -- check_report report msg-1 "$rcpt" text

# ---- Cc only ----
mime_send cc_only msg_cc='Team <team@example.org>' msg_cc='"Doe, Jane" <jane@example.org>'
check "a report with a Cc and no To is sent" -- grep -q "^SENT	250 2.0.0 accepted as msg-2" "$T_DIR/cc_only.out"
check "to the Cc addresses" -- check_report cc_only msg-2 "team@example.org jane@example.org" envelope

# ---- nothing else arrived, and the notifier's to got nothing ----
check "two messages arrived" -- test "$(ls "$T_DIR/mail" | grep -c 'eml$')" = 2
check "none went to the notifier's to" -- bash -c "! grep -l 'ops@example.org\|oncall@example.org' '$T_DIR'/mail/*.json"
t_done
