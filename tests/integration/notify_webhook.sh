#!/usr/bin/env bash
# notify_webhook.sh: `reeve notify test` through webhook notifiers to a real HTTP receiver on
# loopback (tests/integration/webhookd.py): every format arrives and validates, signatures
# verify, headers and the Idempotency-Key arrive, answers are classified, secrets never show.
. "$TEST_LIB"
plan 33

here=$(dirname "$TEST_LIB")
schema="$here/../../docs/webhook-generic.schema.json"
log=$T_DIR/hooks.jsonl
secret=whsec-canary-5e1f0a9c37d2
routing_key=R0UT1NGcanary8b2d4f6a1c3e5
header_canary=hdr-canary-77c1e9a04b3f
closed=$(free_port)

printf '%s\n' "$secret" > "$T_DIR/secret"
printf '%s\n' "wrong-secret-0123456789" > "$T_DIR/wrong"
printf '%s\n' "$routing_key" > "$T_DIR/routing_key"
chmod 600 "$T_DIR/secret" "$T_DIR/wrong" "$T_DIR/routing_key"

/usr/bin/python3 "$here/webhookd.py" --log "$log" --port-file "$T_DIR/port" \
	--secret-file "$T_DIR/secret" --schema "$schema" &
T_PIDS+=("$!")
check "the receiver listens" -- wait_for 10 test -s "$T_DIR/port"
H=http://127.0.0.1:$(cat "$T_DIR/port")
# a server that answers every connection with bytes that are not HTTP, then hangs up
junk_port=$(free_port)
/usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b"\x00\xffSMTP 220 hello\r\n\x1b[31m\xc3\x28 not http\r\n\r\n")
    c.close()
' "$junk_port" &
T_PIDS+=("$!")

cat > "$T_DIR/reeve.conf" <<EOF
[reeve]
data_dir = $T_DIR/data
hostname = mon01

[http]
external_url = http://reeve.example:9180/

[notifier generic]
type = webhook
url = $H/signed/generic/hook?k=v
secret_file = $T_DIR/secret
header.Authorization = Bearer $header_canary
header.X-Team = ops
timeout = 10s

[notifier wrong_secret]
type = webhook
url = $H/signed/hook
secret_file = $T_DIR/wrong

[notifier slack]
type = webhook
format = slack
url = $H/slack

[notifier am]
type = webhook
format = alertmanager
url = $H/am

[notifier pd]
type = webhook
format = pagerduty
url = $H/pd/v2/enqueue
routing_key_file = $T_DIR/routing_key

[notifier e500]
type = webhook
url = $H/status/500

[notifier e429]
type = webhook
url = $H/status/429?retry_after=7

[notifier e400]
type = webhook
url = $H/status/400

[notifier e301]
type = webhook
url = $H/status/301

[notifier slow]
type = webhook
url = $H/sleep/20
timeout = 1s

[notifier huge]
type = webhook
url = $H/huge

[notifier metadata]
type = webhook
url = http://169.254.169.254:$closed/latest/meta-data

[notifier denied]
type = webhook
url = http://localhost:$(cat "$T_DIR/port")/ok
deny_networks = 127.0.0.0/8, ::1

[notifier allowed_only]
type = webhook
url = $H/ok
allow_networks = 192.0.2.0/24

[notifier allowed]
type = webhook
url = $H/ok
allow_networks = 127.0.0.1/32

[notifier junk]
type = webhook
url = http://127.0.0.1:$junk_port/hook
timeout = 5s

[notifier refused]
type = webhook
url = http://user:pw-canary-3d9a@127.0.0.1:$closed/hook?token=q-canary-51be
EOF

check "reeve check accepts the notifiers" -- "$REEVE" check -c "$T_DIR/reeve.conf"

# notify NAME: run reeve notify test NAME (bounded by timeout); sets OUT and RC
notify() {
	RC=0
	OUT=$(timeout 60 "$REEVE" notify test "$1" -c "$T_DIR/reeve.conf" 2>&1) || RC=$?
	echo "$OUT" >> "$T_DIR/outputs"
}

# jcheck PATH EXPR: EXPR (Python) holds for the last request whose path starts with PATH;
# r is the record, h its headers (lower-case names), b the parsed body
jcheck() {
	/usr/bin/python3 - "$log" "$1" "$2" <<'EOF'
import hashlib, hmac, json, sys
log, prefix, expr = sys.argv[1:]
recs = [json.loads(l) for l in open(log)]
recs = [r for r in recs if r["path"].startswith(prefix)]
if not recs:
    sys.exit("no request to %s" % prefix)
r = recs[-1]
h = {k.lower(): v for k, v in r["headers"]}
try:
    b = json.loads(r["body"])
except ValueError:
    b = None
if not eval("(" + expr + ")"):
    print(json.dumps(r, indent=1, ensure_ascii=False)[:4000])
    sys.exit(1)
EOF
}

# expect DESC RC PATTERN: the last notify exited RC and its output matches PATTERN
expect() {
	local desc=$1 rc=$2 pat=$3
	if [ "$RC" -eq "$rc" ] && printf '%s\n' "$OUT" | grep -Eq -- "$pat"; then
		t_result 0 "$desc"
	else
		t_result 1 "$desc"
		diag "exit $RC: $OUT"
	fi
}

notify generic
expect "generic: sent (exit 0)" 0 '^generic: sent \(webhook\).*HTTP 200: ok'
check "generic: valid against docs/webhook-generic.schema.json" -- \
	jcheck /signed/generic 'r["schema_errors"] == [] and r["method"] == "POST"'
check "generic: the fields of the test message" -- jcheck /signed/generic '
b["version"] == "1" and b["receiver"] == "generic" and b["status"] == "firing" and
b["test"] is True and b["firing"] == 1 and b["resolved"] == 0 and
b["externalURL"] == "http://reeve.example:9180/" and b["groupLabels"] == {"alertname": "ReeveTest"} and
b["alerts"][0]["labels"] == {"alertname": "ReeveTest", "instance": "mon01", "severity": "info"} and
b["alerts"][0]["endsAt"] is None and b["alerts"][0]["value"] is None and
b["alerts"][0]["generatorURL"] == "http://reeve.example:9180/api/v1/alerts/history?rule=ReeveTest" and
b["commonLabels"] == b["alerts"][0]["labels"] and r["path"] == "/signed/generic/hook?k=v"'
check "generic: the signature verifies (receiver and recomputed here)" -- jcheck /signed/generic "
r['signature'] == 'ok' and h['x-webhook-signature'] == 'sha256=' + hmac.new(b'$secret',
h['x-webhook-timestamp'].encode() + b'.' + r['body'].encode(), hashlib.sha256).hexdigest()"
check "generic: header.NAME headers arrive" -- \
	jcheck /signed/generic "h['authorization'] == 'Bearer $header_canary' and h['x-team'] == 'ops'"
check "generic: Idempotency-Key, Content-Type and User-Agent arrive" -- jcheck /signed/generic '
h["idempotency-key"].startswith("reeve-test-") and h["content-type"] == "application/json" and
h["user-agent"].startswith("reeve/") and "expect" not in h'

notify wrong_secret
expect "a wrong secret is refused: 401, failed permanently" 1 \
	'^wrong_secret: failed permanently \(webhook\).*HTTP 401: signature bad$'
check "... the receiver saw a bad signature" -- jcheck /signed/hook 'r["signature"] == "bad"'

notify slack
expect "slack: sent" 0 '^slack: sent'
check "slack: text and blocks (a header, a mrkdwn section per alert)" -- jcheck /slack '
b["text"] == ":fire: [TEST] [FIRING:1] ReeveTest" and b["blocks"][0]["type"] == "header" and
b["blocks"][1]["type"] == "section" and b["blocks"][1]["text"]["type"] == "mrkdwn" and
"*FIRING* *ReeveTest*" in b["blocks"][1]["text"]["text"] and
"<http://reeve.example:9180/api/v1/alerts/history?rule=ReeveTest|History in reeve>" in b["blocks"][1]["text"]["text"]'

notify am
expect "alertmanager format: sent" 0 '^am: sent'
check "alertmanager format: the webhook payload version 4, field by field" -- jcheck /am '
set(b) == {"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
"commonLabels", "commonAnnotations", "externalURL", "alerts"} and b["version"] == "4" and
b["truncatedAlerts"] == 0 and b["status"] == "firing" and b["receiver"] == "am" and
b["externalURL"] == "http://reeve.example:9180/" and
set(b["alerts"][0]) == {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL",
"fingerprint"} and b["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z" and
b["alerts"][0]["startsAt"].endswith("Z") and len(b["alerts"][0]["fingerprint"]) == 16 and
b["alerts"][0]["labels"]["alertname"] == "ReeveTest"'

notify pd
expect "pagerduty: sent" 0 '^pd: sent'
check "pagerduty: an Events API v2 trigger" -- jcheck /pd/v2/enqueue "
b['routing_key'] == '$routing_key' and b['event_action'] == 'trigger' and
b['dedup_key'].startswith('reeve-') and b['payload']['severity'] == 'info' and
b['payload']['summary'] == '[TEST] [FIRING:1] ReeveTest' and b['payload']['source'] == 'mon01' and
b['payload']['timestamp'].endswith('Z') and b['client'] == 'reeve' and
b['payload']['custom_details']['alerts'][0]['labels']['alertname'] == 'ReeveTest' and
b['links'][0]['href'].startswith('http://reeve.example:9180/')"

notify e500
expect "500: retried, with the answer's first line" 1 \
	'^e500: failed, will be retried \(webhook\).*: HTTP 500: answer 500$'
notify e429
expect "429 with Retry-After: retried after 7 s" 1 \
	'^e429: failed, will be retried .*HTTP 429: answer 429 \(retry after 7 s\)$'
notify e400
expect "400: failed permanently" 1 '^e400: failed permanently .*HTTP 400: answer 400$'
notify e301
expect "301: failed permanently, the redirect not followed" 1 \
	'^e301: failed permanently .*HTTP 301: answer 301 \(redirects are not followed\)$'
check "... nothing went to the Location" -- bash -c "! grep -q '\"path\": \"/ok\"' '$log'"
notify slow
expect "a receiver slower than the timeout: retried" 1 \
	'^slow: failed, will be retried .*Operation timed out.*\(curl error 28\)$'
notify huge
expect "a 32 MiB answer: sent, its first line kept" 0 '^huge: sent .*HTTP 200: huge answer x+$'
notify junk
expect "an answer that is not HTTP: retried, with curl's reason" 1 '^junk: failed, will be retried .*\(curl error [0-9]+\)$'
check "... and reeve notify test ended by itself (exit 1, no crash)" -- test "$RC" = 1
notify refused
expect "a refused connection: retried" 1 '^refused: failed, will be retried .*\(curl error 7\)$'

# the network guard, checked on the resolved address before connecting
notify metadata
expect "a link-local (cloud metadata) address is denied by default" 1 \
	'^metadata: failed permanently .*the address 169.254.169.254 is not allowed for this notifier'
notify denied
expect "localhost resolved into a denied network is refused" 1 \
	'^denied: failed permanently .*the address (127.0.0.1|::1) is not allowed for this notifier'
notify allowed_only
expect "an address outside allow_networks is refused" 1 \
	'^allowed_only: failed permanently .*the address 127.0.0.1 is not allowed'
notify allowed
expect "an address inside allow_networks goes through" 0 '^allowed: sent .*HTTP 200'
sed 's|^allow_networks = 192.0.2.0/24$|allow_networks = 192.0.2.0/33|' "$T_DIR/reeve.conf" > "$T_DIR/nets.conf"
OUT=$("$REEVE" check -c "$T_DIR/nets.conf" 2>&1) && RC=0 || RC=$?
echo "$OUT" >> "$T_DIR/outputs"
[ "$RC" -ne 0 ] && RC=1
expect "a bad network is an error at its line" 1 'nets.conf:[0-9]+: \[notifier allowed_only\] allow_networks: "192.0.2.0/33" is not a network'

# a URL that is not http(s) is refused when the config is read
sed "s|^url = $H/slack\$|url = ftp://127.0.0.1/x|" "$T_DIR/reeve.conf" > "$T_DIR/ftp.conf"
OUT=$("$REEVE" notify test slack -c "$T_DIR/ftp.conf" 2>&1) && RC=0 || RC=$?
echo "$OUT" >> "$T_DIR/outputs"
[ "$RC" -ne 0 ] && RC=1
expect "a non-http URL is rejected at its line" 1 'ftp.conf:[0-9]+: \[notifier slack\] url: .*not an http'


check "no secret in any output: signing secret, routing key, header value, URL credentials" -- \
	bash -c "! grep -E '$secret|$routing_key|$header_canary|pw-canary|q-canary' '$T_DIR/outputs'"
t_done
