#!/usr/bin/env bash
# secrets.sh: a distinct random canary in every setting that holds a secret (the SMTP
# password, [token NAME] secret and secret_file, [http] token, webhook header.Authorization,
# secret_file and routing_key_file, user and password in a webhook URL, in an http probe URL
# and in a scrape target URL, http probe header.* and header_file.*, a scrape
# bearer_token_file, the SQL password in a connection string and a URI, a token presented by
# a client), the daemon at log_level = debug, and everything made to fail: refused
# connections, 401, 400, 500 and 501 answers, an SMTP AUTH refused, a wrong SQL password, an
# alert firing to every receiver, a broken config on SIGHUP and in reeve check. Then every
# word reeve said is collected: the whole log, each API answer, /metrics, the status page,
# reeve check, notify test, outbox list and silence list, every file of the data directory
# (the spool with its dead letters) and every mail received; no canary may be in any of it.
. "$TEST_LIB"
. "$(dirname "$TEST_LIB")/pg.sh"
here=$(dirname "$TEST_LIB")
PY=/usr/bin/python3
# in the sanitizer build: librrd's and fontconfig's own leaks (graphs in mail) are not
# reeve's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$here/../lsan.supp:fast_unwind_on_malloc=0"
out=$T_DIR/collected
mkdir -p "$out"
cd "$T_DIR" || exit 1

rnd() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
names=(smtp_ok smtp_bad token_inline token_file http_token client_token webhook_header
	webhook_hmac routing_key url_user url_pass probe_user probe_pass probe_header
	probe_header_file scrape_user scrape_pass scrape_bearer sql_pass sql_wrong sql_uri
	check_short check_url)
declare -A C
for n in "${names[@]}"; do C[$n]="canary-${n//_/-}-$(rnd)"; done
C[check_short]="cnry-$(rnd | cut -c1-8)" # shorter than a token may be
plan $((13 + ${#names[@]}))

# files holding secrets, readable by their owner only
put() { (umask 077; printf '%s\n' "$2" > "$T_DIR/$1"); }
put smtp_ok.pw "${C[smtp_ok]}"
put smtp_bad.pw "${C[smtp_bad]}"
put token.file "${C[token_file]}"
put hmac.secret "${C[webhook_hmac]}"
put routing.key "${C[routing_key]}"
put probe.header "${C[probe_header_file]}"
put scrape.bearer "${C[scrape_bearer]}"
put receiver.secret "the-receiver-expects-another-secret"

# PostgreSQL on a unix socket here, the role's password is a canary
pg_init
pg_start || { echo "Bail out! PostgreSQL does not start"; exit 1; }
psql_admin -d postgres -c "CREATE ROLE reeve LOGIN PASSWORD '${C[sql_pass]}'" -c "CREATE DATABASE shop"

# SMTP with STARTTLS and AUTH (the password smtp_ok; smtp_bad is refused)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout key.pem -out cert.pem 2>/dev/null
SMTP_PORT=$(free_port)
"$PY" "$here/smtpd.py" --port "$SMTP_PORT" --port-file smtp.port --dir "$T_DIR/mail" \
	--tls cert.pem key.pem --require-tls --auth "alert:${C[smtp_ok]}" > smtpd.log 2>&1 &
T_PIDS+=("$!")
# the webhook receiver: /status/CODE answers CODE, /signed/ checks another secret (401)
"$PY" "$here/webhookd.py" --log hooks.jsonl --port-file hook.port --secret-file receiver.secret \
	> webhookd.log 2>&1 &
T_PIDS+=("$!")
wait_for 15 test -s smtp.port
wait_for 15 test -s hook.port
H=127.0.0.1:$(cat hook.port)
closed=$(free_port)
port=$(free_port)
url=http://127.0.0.1:$port

cat > reeve.conf <<EOF
[reeve]
data_dir = $T_DIR/data
interval = 1s
log_level = debug
hostname = mon01

[http]
listen = 127.0.0.1:$port
token = ${C[http_token]}
open = healthz

[token reader]
secret = ${C[token_inline]}
roles = read

[token pusher]
secret_file = $T_DIR/token.file
roles = push, read

[store]
preset = compact

[outbox]
retry_initial = 500ms
retry_max = 2s

[probe web]
type = http
method = POST
url = http://${C[probe_user]}:${C[probe_pass]}@$H/status/401
url = http://${C[probe_user]}:${C[probe_pass]}@127.0.0.1:$closed/
header.X-Api-Key = ${C[probe_header]}
header_file.Authorization = $T_DIR/probe.header

[probe target]
type = scrape
url = http://${C[scrape_user]}:${C[scrape_pass]}@127.0.0.1:$closed/metrics
labels.instance = closed

[probe target501]
type = scrape
url = http://$H/metrics
bearer_token_file = $T_DIR/scrape.bearer
labels.instance = webhookd

[probe shopdb]
type = sql
driver = postgresql
connection = host=$T_DIR/pg dbname=shop user=reeve password=${C[sql_pass]}
query.one = SELECT 1 AS one
query.one.value_columns = one

[probe wrongpw]
type = sql
driver = postgresql
connection = host=$T_DIR/pg dbname=shop user=reeve password=${C[sql_wrong]}
connect_timeout = 2s
query.one = SELECT 1 AS one
query.one.value_columns = one

[probe wronguri]
type = sql
driver = postgresql
connection = postgresql://reeve:${C[sql_uri]}@/shop?host=$T_DIR/pg
connect_timeout = 2s
query.one = SELECT 1 AS one
query.one.value_columns = one

[notifier mail_ok]
type = email
server = localhost:$SMTP_PORT
ca_file = $T_DIR/cert.pem
username = alert
password_file = $T_DIR/smtp_ok.pw
from = reeve@example.org
to = ops@example.org
timeout = 10s

[notifier mail_bad]
type = email
server = localhost:$SMTP_PORT
ca_file = $T_DIR/cert.pem
username = alert
password_file = $T_DIR/smtp_bad.pw
from = reeve@example.org
to = ops@example.org
timeout = 10s

[notifier hook500]
type = webhook
url = http://$H/status/500
header.Authorization = Bearer ${C[webhook_header]}
timeout = 5s

[notifier hook400]
type = webhook
url = http://$H/status/400
header.Authorization = Bearer ${C[webhook_header]}
timeout = 5s

[notifier signed]
type = webhook
url = http://$H/signed/hook
secret_file = $T_DIR/hmac.secret
timeout = 5s

[notifier pager]
type = webhook
format = pagerduty
url = http://$H/status/400
routing_key_file = $T_DIR/routing.key
timeout = 5s

[notifier refused]
type = webhook
url = http://${C[url_user]}:${C[url_pass]}@127.0.0.1:$closed/hook
timeout = 5s

[route default]
notify = mail_ok, mail_bad, hook500, hook400, signed, pager, refused
group_wait = 0

[alert CanaryAlert]
expr = reeve_build_info > 0
eval_interval = 1s
annotations.summary = reeve runs on {{ labels.version }}
EOF
chmod 600 reeve.conf

"$REEVE" check -c reeve.conf > "$out/check-ok.out" 2>&1
check "reeve check accepts the config" -- grep -qx 'configuration OK' "$out/check-ok.out"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"

# the failures happen, and the log shows them at debug level (so the collection is not empty)
check "the mail sent with the right SMTP password arrived" -- wait_for 60 test -f mail/msg-1.eml
check "the log shows the SMTP AUTH refused, the 400s, 500s and 401s and the refused connections" -- \
	wait_for 60 bash -c "grep -q 'mail_bad.*5[0-9][0-9]' log && grep -q 'hook500.*500' log &&
		grep -q 'hook400.*400' log && grep -q 'signed.*401' log && grep -q 'pager.*400' log &&
		grep -q 'refused.*onnect' log"
check "the log shows the wrong SQL passwords refused, the probes failing, debug lines" -- \
	wait_for 60 bash -c "grep -q 'probe wrongpw: .*password authentication failed' log &&
		grep -q 'probe wronguri: .*password authentication failed' log &&
		grep -q 'probe web: .*401' log && grep -q 'probe target: ' log &&
		grep -q 'probe target501: .*501' log && grep -q 'reeve\[debug\]' log"
check "permanent failures made dead letters" -- wait_for 60 bash -c "ls data/spool/dead | grep -q ."

# every API answer, with each token and with a wrong one
get() { curl -s --max-time 20 -H "Authorization: Bearer $2" "$url$1"; }
i=0
for path in / /metrics /healthz /readyz /api/v1/rules /api/v1/alerts /api/v1/alerts/history \
	/api/v1/silences /api/v1/reports '/api/v1/query?query=up' '/api/v1/query?query=http_up' \
	'/api/v1/query?query=reeve_probe_up' '/api/v1/query?query=reeve_notifier_failing' \
	"/api/v1/query_range?query=http_up&start=$(($(date +%s) - 60))&end=$(date +%s)&step=1" \
	'/api/v1/series?match%5B%5D=%7B__name__%3D~%22.%2B%22%7D' /api/v1/labels \
	/api/v1/label/target/values /api/v1/label/instance/values /api/v1/label/probe/values \
	/api/v1/metadata /api/v1/status/buildinfo /api/v1/nonexistent; do
	i=$((i + 1))
	{ echo "== $path"; get "$path" "${C[http_token]}"; } > "$out/api-$i.http"
	{ echo "== $path"; get "$path" "${C[token_inline]}"; } > "$out/api-$i.reader"
	{ echo "== $path"; get "$path" "${C[client_token]}"; } > "$out/api-$i.wrong"
done
curl -s --max-time 20 -H "Authorization: Bearer ${C[token_file]}" --data-binary 'pushed_value 1
' "$url/api/v1/push" > "$out/push.out"
curl -s --max-time 20 -H "Authorization: Bearer ${C[client_token]}" --data-binary 'pushed_value 1
' "$url/api/v1/push" > "$out/push-wrong.out"
curl -s --max-time 20 -H "Authorization: Bearer ${C[token_inline]}" --data-binary 'pushed_value 1
' "$url/api/v1/push" > "$out/push-read-only.out"
check "the API answered: alerts firing, probes down in /metrics, 401 for the wrong token" -- bash -c "
	grep -q 'CanaryAlert' '$out/api-6.http' && grep -q '^http_up{' '$out/api-2.http' &&
	grep -q 'reeve_probe_up{probe=\"wrongpw\"' '$out/api-2.http' && grep -q 'unauthorized' '$out/api-2.wrong'"

# the command line
for n in mail_ok mail_bad hook500 hook400 signed pager refused; do
	timeout 60 "$REEVE" notify test "$n" -c reeve.conf > "$out/notify-$n.out" 2>&1
done
check "notify test: the good mail goes out, the others fail with the receivers' answers" -- bash -c "
	grep -q 'mail_ok: sent' '$out/notify-mail_ok.out' && grep -q 'mail_bad: failed.*5[0-9][0-9]' '$out/notify-mail_bad.out' &&
	grep -q 'hook500: failed.*500' '$out/notify-hook500.out' && grep -q 'signed: failed.*401' '$out/notify-signed.out'"
"$REEVE" outbox list -c reeve.conf > "$out/outbox.out" 2>&1
"$REEVE" silence list --all -c reeve.conf > "$out/silence.out" 2>&1
check "outbox list shows the dead letters with their errors" -- grep -q 'dead' "$out/outbox.out"

# a broken config naming secrets: reeve check and a SIGHUP
sed -e "s|^secret = ${C[token_inline]}\$|secret = ${C[check_short]}|" \
	-e "s|^url = http://${C[url_user]}:.*|url = ftp://${C[url_user]}:${C[check_url]}@127.0.0.1:$closed/hook|" \
	-e "s|^token = .*|token = ${C[token_file]}|" reeve.conf > broken.conf
"$REEVE" check -c broken.conf > "$out/check-broken.out" 2>&1
check "reeve check refuses the broken config: a short secret, a shared one, a bad URL" -- bash -c "
	grep -q '^broken.conf:[0-9]*: \[token reader\] secret: the secret is shorter' '$out/check-broken.out' &&
	grep -q '^broken.conf:[0-9]*: \[http\] token: the same secret as \[token pusher\]' '$out/check-broken.out' &&
	grep -q '^broken.conf:[0-9]*: \[notifier refused\] url: ' '$out/check-broken.out'"
cp reeve.conf good.conf
cp broken.conf reeve.conf
kill -HUP "$REEVE_PID"
check "the daemon rejects it on SIGHUP, with the same errors" -- \
	wait_for 30 grep -q 'reeve.conf:[0-9]*: \[notifier refused\] url: ' log
cp good.conf reeve.conf

# the mail: the one the route sent and the test one
check "the mails arrived and name the alert" -- bash -c "
	ls mail/*.eml | wc -l | grep -qv '^[01]$' && grep -lq 'CanaryAlert' mail/*.eml"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
check "no sanitizer report in the log" -- bash -c "! grep -n 'Sanitizer\|runtime error' log"
pg_stop

cp log "$out/daemon.log"
cp -r data "$out/data"
find data -print > "$out/data-files.list"
cp -r mail "$out/mail"
diag "collected $(find "$out" -type f | wc -l) files, $(du -sk "$out" | cut -f1) KiB; log: $(wc -l < log) lines"
for n in "${names[@]}"; do
	check "the $n canary is nowhere in what reeve said" -- bash -c "! grep -rFal -- '${C[$n]}' '$out'"
done
t_done
