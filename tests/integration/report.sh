#!/usr/bin/env bash
# report.sh: reports made from RRD files the test fills with known data, checked against
# what the test computes itself from `rrdtool fetch`: `reeve report NAME --out DIR` (KPI
# statistics and changes, availability with and without a maintenance window, the alert
# summary from a history log written here), the PDF (pdfinfo, pdftotext, pdftoppm), the
# HTML in headless Chromium (a screenshot that is not blank, every image loaded), and the
# mail of a scheduled report at a real SMTP server (aiosmtpd): structure, cids, attachments,
# exactly one mail per slot across kill -9, a missed slot sent once after a restart, the
# archive over HTTP and POST /api/v1/reports/NAME/run with the admin token only.
. "$TEST_LIB"
plan 29
# in the sanitizer build: librrd's and fontconfig's own leaks are not reeve's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$(dirname "$TEST_LIB")/../lsan.supp:fast_unwind_on_malloc=0"
PY=/usr/bin/python3
here=$(dirname "$TEST_LIB")
port=$(free_port)
api=http://127.0.0.1:$port
data=$T_DIR/data
now=$(date +%s)
today=$((now / 86400 * 86400))
yday=$((today - 86400))

# ---- the data: 3 days of values a minute, up to now ----
# rrd NAME REL FORMULA: an RRD file as reeve's store lays it out, values by a python formula of t
rrd() {
	local f=$data/rrd/$1
	mkdir -p "$(dirname "$f")"
	rrdtool create "$f" --step 60 --start $((today - 3 * 86400)) \
		DS:value:GAUGE:120:U:U RRA:AVERAGE:0.5:1:6000
	"$PY" -c "
import sys
t0, t1 = int(sys.argv[1]), int(sys.argv[2])
print(' '.join('%d:%r' % (t, float($2)) for t in range(t0 + 60, t1 + 1, 60)))
" $((today - 3 * 86400)) $((now / 60 * 60)) | xargs -n 2000 rrdtool update "$f"
}
rrd orders_per_minute/shop=north.rrd '100 + (t // 60) % 50'
rrd orders_per_minute/shop=s%C3%BCd.rrd '20 + (t // 60) % 7'
rrd queue_latency_seconds.rrd '0.2 + (t // 60) % 10 / 100'
# web a: down 10:00-10:30 yesterday, and every night 02:00-03:00 (the backup window)
rrd web_up/instance=a.rrd "0 if (t % 86400 > 7200 and t % 86400 <= 10800) or ($yday + 36000 < t <= $yday + 37800) else 1"
rrd web_up/instance=b.rrd '1'

# the alert history: three alerts fired yesterday, two resolved (after 10 and 30 minutes)
mkdir -p "$data/alerts"
{
	ev() { printf '{"time":%s,"rule":"%s","labels":{"alertname":"%s","instance":"%s","severity":"%s"},"from":"%s","to":"%s","value":1,"severity":"%s","summary":null}\n' "$1" "$2" "$2" "$3" "$4" "$5" "$6" "$4"; }
	ev $((yday + 3600)) DiskFull db1 critical pending firing
	ev $((yday + 4200)) DiskFull db1 critical firing resolved
	ev $((yday + 7200)) DiskFull db2 critical pending firing
	ev $((yday + 9000)) DiskFull db2 critical firing resolved
	ev $((yday + 80000)) SlowOrders shop warning pending firing
} > "$data/alerts/history.jsonl"

write_config "$T_DIR/reeve.conf" "$port" "
[maintenance backup]
schedule = 0 2 * * *
timezone = UTC
duration = 1h
match = instance=\"a\"
comment = nightly backup

[alert DiskFull]
expr = disk_used_ratio > 0.95

[report daily]
title = Täglicher Betriebsbericht – Größe
period = previous day
timezone = UTC
formats = html, pdf, csv
kpi.orders = orders_per_minute
unit.orders = orders
warn.orders = > 140
kpi.latency = queue_latency_seconds
availability.web = web_up
objective.web = 99%
availability.disks = alert:DiskFull
graph.orders_by_shop = orders_per_minute
graph.order_total = sum(orders_per_minute)
title.order_total = All orders
alerts = yes
text.summary = North and Süd took {{ kpi.orders.avg }} a minute on average."
sed '/^\[maintenance backup\]/,/^comment/d' "$T_DIR/reeve.conf" > "$T_DIR/nomaint.conf"

check "reeve check accepts the report" -- "$REEVE" check -c "$T_DIR/reeve.conf"
check "reeve report daily --out DIR writes HTML, graphs, PDF, CSV and text" -- bash -c "
	'$REEVE' report daily --out '$T_DIR/out' -c '$T_DIR/reeve.conf' > '$T_DIR/files' &&
	for e in html pdf csv txt; do grep -q 'daily-[0-9]*\.'\$e\$ '$T_DIR/files' || exit 1; done &&
	[ \$(grep -c 'graph-[0-9]*\.png' '$T_DIR/files') = 2 ]"
csv=$(ls "$T_DIR"/out/daily-*.csv 2>/dev/null | head -1)
pdf=$(ls "$T_DIR"/out/daily-*.pdf 2>/dev/null | head -1)
html=$(ls "$T_DIR"/out/daily-*.html 2>/dev/null | head -1)
txt=$(ls "$T_DIR"/out/daily-*.txt 2>/dev/null | head -1)

# the test's own numbers, from rrdtool fetch over (start, end]
cat > "$T_DIR/expect.py" <<'EOF'
import csv, subprocess, sys
data, start, end, csvfile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def values(rel, s, e):
    out = subprocess.run(["rrdtool", "fetch", data + "/rrd/" + rel, "AVERAGE", "-s", str(s - 60),
                          "-e", str(e)], capture_output=True, text=True, check=True).stdout
    v = []
    for line in out.splitlines()[2:]:
        t, x = line.split(":")
        if s < int(t) <= e and "nan" not in x.lower():
            v.append(float(x))
    return v
def stats(v):
    w = sorted(v)
    r = 0.95 * (len(w) - 1)
    lo = int(r)
    hi = min(lo + 1, len(w) - 1)
    return {"last": v[-1], "min": w[0], "avg": sum(v) / len(v), "max": w[-1],
            "p95": w[lo] + (r - lo) * (w[hi] - w[lo])}
rows = {(r["table"], r["name"]): r for r in csv.DictReader(open(csvfile, encoding="utf-8-sig"))}
bad = []
for name, rel in (("orders {shop=north}", "orders_per_minute/shop=north.rrd"),
                  ("orders {shop=süd}", "orders_per_minute/shop=s%C3%BCd.rrd"),
                  ("latency", "queue_latency_seconds.rrd")):
    got = rows.get(("kpi", name))
    if got is None:
        bad.append("no kpi row %r (rows: %s)" % (name, sorted(rows)))
        continue
    want = stats(values(rel, start, end))
    prev = stats(values(rel, start - 86400, start))["avg"]
    want["previous_avg"] = prev
    want["change_percent"] = (want["avg"] - prev) / abs(prev) * 100
    for k, x in want.items():
        if abs(float(got[k]) - x) > 1e-6 * max(1, abs(x)):
            bad.append("%s %s: %s, want %r" % (name, k, got[k], x))
print("\n".join(bad) if bad else "kpi ok")
EOF
check "KPI last, min, avg, max, p95 and the change equal what rrdtool fetch gives" -- bash -c \
	"$PY '$T_DIR/expect.py' '$data' $yday $today '$csv' | tee '$T_DIR/kpi' | grep -qx 'kpi ok' || { cat '$T_DIR/kpi' >&2; false; }"
# availability: a was down 30 min, and 60 min in the backup window (not counted)
avail() { # avail CSVFILE TARGET: downtime,maintenance,up_ratio,objective_met
	"$PY" -c "
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding='utf-8-sig')):
    if r['table'] == 'availability' and r['name'] == sys.argv[2]:
        print('%g,%g,%.6f,%s' % (float(r['downtime_seconds']), float(r['maintenance_seconds']),
                                 float(r['up_ratio']), r['objective_met']))" "$1" "$2"
}
export -f avail
export PY
check "availability: 30 min down, the 1 h maintenance window excluded, objective missed" -- \
	test "$(avail "$csv" instance=a)" = "1800,3600,$("$PY" -c 'print("%.6f" % (1 - 1800 / (86400 - 3600)))'),no"
check "availability: the other target up all day, objective met" -- \
	test "$(avail "$csv" instance=b)" = "0,0,1.000000,yes"
check "availability from a rule: each instance down while it fired (objective 99.9%)" -- bash -c "
	[ \"\$(avail '$csv' instance=db1)\" = '600,0,$("$PY" -c 'print("%.6f" % (1 - 600 / 86400))'),no' ] &&
	[ \"\$(avail '$csv' instance=db2)\" = '1800,0,$("$PY" -c 'print("%.6f" % (1 - 1800 / 86400))'),no' ]"
"$REEVE" report daily --out "$T_DIR/out2" -c "$T_DIR/nomaint.conf" >/dev/null 2>&1
check "availability without the maintenance window: 90 min down" -- \
	test "$(avail "$(ls "$T_DIR"/out2/daily-*.csv | head -1)" instance=a)" = "5400,0,$("$PY" -c 'print("%.6f" % (1 - 5400 / 86400))'),no"
check "the alert summary: 3 fired, 2 resolved, mean time to resolve 20 min, DiskFull the noisiest" -- \
	bash -c "pdftotext '$pdf' - > '$T_DIR/pdf.txt' && grep -q 'DiskFull' '$T_DIR/pdf.txt' &&
	grep -A3 -i 'fired' '$txt' | grep -q 3 && grep -qi '20 min' '$txt'"
check "the text section has its value filled in" -- grep -q "North and Süd took [0-9.]* orders a minute" "$txt"

# ---- the PDF ----
check "the PDF has a title page and pages, with the non-ASCII title and labels" -- bash -c "
	pdfinfo '$pdf' > '$T_DIR/pdfinfo' && [ \$(awk '/^Pages:/ { print \$2 }' '$T_DIR/pdfinfo') -ge 2 ] &&
	grep -q 'Täglicher Betriebsbericht – Größe' '$T_DIR/pdf.txt' && grep -q 'süd' '$T_DIR/pdf.txt' &&
	grep -q 'Page 1 of' '$T_DIR/pdf.txt'"
check "pdftoppm renders every page" -- bash -c "
	pdftoppm -r 40 -png '$pdf' '$T_DIR/page' && [ \$(ls '$T_DIR'/page*.png | wc -l) -ge 2 ]"

# ---- the HTML in headless Chromium ----
cat > "$T_DIR/wrapper.html" <<EOF
<!DOCTYPE html><html><body><iframe id="r" src="file://$html" width="900" height="2000"></iframe>
<pre id="out">waiting</pre>
<script>
document.getElementById("r").addEventListener("load", function () {
  var imgs = document.getElementById("r").contentDocument.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  document.getElementById("out").textContent = "images ok " + ok + " of " + imgs.length;
});
</script></body></html>
EOF
chrome() {
	timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T_DIR/chrome" --allow-file-access-from-files "$@" 2>/dev/null
}
check "Chromium loads the report with both graphs" -- bash -c "
	$(declare -f chrome); T_DIR='$T_DIR'
	chrome --virtual-time-budget=5000 --dump-dom 'file://$T_DIR/wrapper.html' | grep -q 'images ok 2 of 2'"
check "its screenshot is not blank" -- bash -c "
	$(declare -f chrome); T_DIR='$T_DIR'
	chrome --screenshot='$T_DIR/shot.png' --window-size=900,2400 'file://$html' >/dev/null &&
	$PY - '$T_DIR/shot.png' <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
w, h, depth, ctype = struct.unpack('>IIBB', d[16:26])
raw, p = b'', 8
while p < len(d):
    n, = struct.unpack('>I', d[p:p + 4]); kind = d[p + 4:p + 8]
    if kind == b'IDAT': raw += d[p + 8:p + 8 + n]
    p += 12 + n
px = zlib.decompress(raw)
bpp = 4 if ctype == 6 else 3
stride = w * bpp + 1
dark = sum(1 for y in range(h) for x in range(1, stride, bpp * 7) if px[y * stride + x] < 200)
sys.exit(0 if dark > 2000 else 'only %d dark samples' % dark)
EOF"

# ---- mail, schedule, archive over HTTP ----
SMTP=$(free_port)
"$PY" "$here/smtpd.py" --port "$SMTP" --port-file "$T_DIR/smtp.port" --dir "$T_DIR/mail" \
	>"$T_DIR/smtpd.log" 2>&1 &
T_PIDS+=("$!")
wait_for 15 test -f "$T_DIR/smtp.port"
admin=adminadminadminadmin1
reader=readerreaderreader12
cat >> "$T_DIR/reeve.conf" <<EOF

[notifier mail]
type = email
server = 127.0.0.1:$SMTP
starttls = off
from = reeve <reeve@example.org>
to = ops@example.org

[token admin]
secret = $admin
roles = admin, read

[token grafana]
secret = $reader
roles = read

[report minutely]
title = Umsatz München
schedule = * * * * *
timezone = Europe/Berlin
period = 1h
grace = 10m
to = Chefin <chefin@example.org>
cc = controlling@example.org
kpi.orders = orders_per_minute
graph.orders = orders_per_minute
EOF
# mails of slot SLOT (Unix seconds) of the minutely report
slot_mails() { grep -l "report-minutely-$1@" "$T_DIR"/mail/msg-*.eml 2>/dev/null | wc -l; }
export -f slot_mails
export T_DIR
# the next minute's slot, with at least 10 s to go
slot=$(( ($(date +%s) / 60 + 1) * 60 ))
[ $((slot - $(date +%s))) -ge 10 ] || slot=$((slot + 60))
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.1"
wait_for 15 curl -sf -o /dev/null "$api/healthz"
reports_json() { curl -sf -H "Authorization: Bearer $reader" "$api/api/v1/reports"; }
check "a report seen for the first time: its last slot was before it, not sent" -- \
	wait_for 10 bash -c "$(declare -f reports_json); api='$api' reader='$reader' reports_json | grep -q '\"lastSlotSent\":false,\"lastSlotState\":\"before\"'"
check "the slot's mail arrives" -- wait_for $((slot - $(date +%s) + 60)) bash -c "[ \$(slot_mails $slot) = 1 ]"
mail=$(grep -l "report-minutely-$slot@" "$T_DIR"/mail/msg-*.eml | head -1)
cat > "$T_DIR/check_mail.py" <<'EOF'
import email, hashlib, json, re, sys
from email import policy
path = sys.argv[1]
raw = open(path, "rb").read()
msg = email.message_from_bytes(raw, policy=policy.default)
env = json.load(open(path[:-4] + ".json"))
def fail(why): sys.exit("%s: %s" % (path, why))
if msg.defects: fail("defects %s" % msg.defects)
if msg.get_content_type() != "multipart/mixed": fail(msg.get_content_type())
if "Umsatz München" not in msg["Subject"]: fail("subject %r" % msg["Subject"])
rcpt = sorted(env.get("rcpt_tos", env.get("to", [])))
if rcpt != ["chefin@example.org", "controlling@example.org"]: fail("envelope %s" % rcpt)
parts = list(msg.iter_parts())
if parts[0].get_content_type() != "multipart/alternative": fail("first part %s" % parts[0].get_content_type())
alt = [p.get_content_type() for p in parts[0].iter_parts()]
if alt != ["text/plain", "multipart/related"]: fail("alternative %s" % alt)
related = list(list(parts[0].iter_parts())[1].iter_parts())
html = related[0].get_content()
cids = {p["Content-ID"].strip("<>") for p in related[1:]}
used = set(re.findall(r'src="cid:([^"]+)"', html))
if not used or used - cids: fail("cids in the HTML %s, parts %s" % (used, cids))
for p in related[1:]:
    if p.get_content()[:8] != b"\x89PNG\r\n\x1a\n": fail("an inline image is not a PNG")
att = {p.get_filename(): p.get_content() for p in parts[1:]}
names = sorted(att)
if len(names) != 2 or not names[0].endswith(".csv") or not names[1].endswith(".pdf"): fail("attachments %s" % names)
if not att[names[1]].startswith(b"%PDF"): fail("the PDF does not decode")
csvtext = att[names[0]]
csvtext = csvtext.decode("utf-8-sig") if isinstance(csvtext, bytes) else csvtext
if "shop=süd" not in csvtext: fail("the CSV lacks shop=süd")
print("mail ok", hashlib.sha256(att[names[1]]).hexdigest(), names[1])
EOF
check "the mail: multipart/mixed, text and HTML, every cid resolves, PDF and CSV decode, To and Cc" -- \
	bash -c "$PY '$T_DIR/check_mail.py' '$mail' > '$T_DIR/mailcheck' || { cat '$T_DIR/mailcheck'; false; }"
read -r _ _ sha name < "$T_DIR/mailcheck"
check "the archive holds the same PDF, served at /reports/NAME/FILE" -- bash -c "
	curl -sf -H 'Authorization: Bearer $reader' '$api/reports/minutely/$name' | sha256sum | grep -q '^$sha '"
check "... and the API then says its slot was sent" -- wait_for 60 bash -c "$(declare -f reports_json); api='$api' reader='$reader' reports_json | grep -q '\"lastSlotSent\":true,\"lastSlotState\":\"sent\"'"
check "GET /api/v1/reports lists the runs" -- bash -c "
	curl -sf -H 'Authorization: Bearer $reader' '$api/api/v1/reports' | grep -q '\"name\":\"$name\"'"
check "a file outside the archive is not served" -- bash -c "
	code=\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $reader' '$api/reports/minutely/..%2Fstate.json')
	[ \"\$code\" = 404 ]"

# kill -9 right after the next slot, and again: that slot's mail still arrives exactly once
slot2=$((slot + 60))
while [ "$(date +%s)" -lt "$slot2" ]; do sleep 0.1; done
sleep 0.$((RANDOM % 8))
kill -KILL "$REEVE_PID"; wait "$REEVE_PID" 2>/dev/null
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.2"
wait_for 15 curl -sf -o /dev/null "$api/healthz"
sleep 1
kill -KILL "$REEVE_PID"; wait "$REEVE_PID" 2>/dev/null
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.3"
wait_for 15 curl -sf -o /dev/null "$api/healthz"
check "a slot killed around its send time is mailed exactly once" -- bash -c "
	wait_for() { local e=\$((SECONDS + \$1)); shift; while [ \$SECONDS -lt \$e ]; do \"\$@\" && return 0; sleep 0.5; done; \"\$@\"; }
	wait_for 30 bash -c '[ \$(slot_mails $slot2) -ge 1 ]' && sleep 3 && [ \$(slot_mails $slot2) = 1 ] && [ \$(slot_mails $slot) = 1 ]"

# a slot missed while reeve was down goes out once after the start
stop_reeve
missed=$(( ($(date +%s) / 60 + 1) * 60 ))
while [ "$(date +%s)" -lt $((missed + 2)) ]; do sleep 0.2; done
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.4"
wait_for 15 curl -sf -o /dev/null "$api/healthz"
check "a slot missed while reeve was down is sent once after the start" -- \
	wait_for 40 bash -c "[ \$(slot_mails $missed) = 1 ]"

check "POST /api/v1/reports/NAME/run: 401 without a token" -- bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST '$api/api/v1/reports/minutely/run') = 401 ]"
check "... 403 with a read token" -- bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $reader' '$api/api/v1/reports/minutely/run') = 403 ]"
check "... 202 with the admin token, and the report is mailed" -- bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $admin' '$api/api/v1/reports/minutely/run') = 202 ]" 
check "the requested run's mail arrives" -- wait_for 30 bash -c \
	"grep -l 'report-minutely-run-' '$T_DIR'/mail/msg-*.eml | grep -q ."
check "DELETE /api/v1/reports: 405" -- bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H 'Authorization: Bearer $admin' '$api/api/v1/reports') = 405 ]"
check "an unknown report: 404" -- bash -c "
	[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $admin' '$api/api/v1/reports/nope/run') = 404 ]"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
[ "$T_FAILED" = 0 ] || cp -r "$T_DIR" "${TMPDIR:-/tmp}/report.failed" 2>/dev/null
t_done
