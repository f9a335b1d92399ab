#!/usr/bin/env bash
# http_probe.sh: the http probe in the real daemon against an HTTP and an HTTPS server on
# loopback (tests/integration/http_fixture.py): values in /metrics and RRD files, TLS expiry,
# verification, timeouts, redirects, body regex, header tokens that never leak, bad configs.
. "$TEST_LIB"
plan 34

fixture="$(dirname "$TEST_LIB")/http_fixture.py"
port=$(free_port)
hp=$(free_port)
tp=$(free_port)
while [ "$tp" = "$hp" ]; do tp=$(free_port); done
closed=$(free_port)
canary_file="canary-file-7f3a9c2e1b64"
canary_env="canary-env-0d5e8a1f93c2"
canary_pass="canarypass51d2e8"

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" 2>/dev/null
# the fixture accepts both tokens; the probe reads one from a file, one from the environment
printf '%s\n' "$canary_file" > "$T_DIR/token"
printf '%s\n%s\n' "$canary_file" "$canary_env" > "$T_DIR/tokens"
/usr/bin/python3 "$fixture" "$hp" "$tp" "$T_DIR/cert.pem" "$T_DIR/key.pem" "$T_DIR/tokens" \
	2> "$T_DIR/fixture.log" &
T_PIDS+=("$!")
check "the fixture serves http and https" -- wait_for 10 bash -c "curl -sf http://127.0.0.1:$hp/json &&
	curl -sf --cacert '$T_DIR/cert.pem' https://127.0.0.1:$tp/json"

H=http://127.0.0.1:$hp
S=https://127.0.0.1:$tp
# the probe timeout is the 1 s interval: requests get 500 ms
write_config "$T_DIR/reeve.conf" "$port" "
[probe api]
type = http
url = $H/json
url = $S/json
ca_file = $T_DIR/cert.pem
value.queue_pending = queue.pending
value.shop_orders = shops[0].orders
value.api_ok = ok
labels.shop = berlin
request_timeout = 500ms

[probe mixed]
type = http
url = $H/json?mixed
url = $H/slow
url = $H/error
url = http://127.0.0.1:$closed/
request_timeout = 500ms

[probe redirect]
type = http
url = $H/redirect
request_timeout = 500ms

[probe redirect_strict]
type = http
url = $H/redirect?strict
expect_status = 200
request_timeout = 500ms

[probe follow]
type = http
url = $H/redirect?follow
follow_redirects = yes
value.followed_pending = queue.pending
request_timeout = 500ms

[probe regex_ok]
type = http
url = $H/text
body_regex = all systems (operational|go)
request_timeout = 500ms

[probe regex_bad]
type = http
url = $H/text?bad
body_regex = ^down
request_timeout = 500ms

[probe auth_file]
type = http
url = $H/auth
header_file.X-Token = $T_DIR/token
request_timeout = 500ms

[probe auth_env]
type = http
url = $S/auth?env
ca_file = $T_DIR/cert.pem
header_env.X-Token = REEVE_TEST_HTTP_TOKEN
request_timeout = 500ms

[probe noauth]
type = http
url = $H/auth?none
request_timeout = 500ms

[probe tls_noca]
type = http
url = $S/json?noca
request_timeout = 500ms

[probe creds]
type = http
url = http://user:$canary_pass@127.0.0.1:$hp/json?creds
request_timeout = 500ms

[probe guarded]
type = http
url = http://localhost:$hp/json?guarded
deny_networks = 127.0.0.0/8, ::1
request_timeout = 500ms

[probe allowed]
type = http
url = $H/json?allowed
allow_networks = 127.0.0.0/8
request_timeout = 500ms"
sed -i 's/^log_level = info$/log_level = debug/' "$T_DIR/reeve.conf"
export REEVE_TEST_HTTP_TOKEN="$canary_env"
out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1)
check "reeve check accepts the config" -- test "$out" = "configuration OK"
diag "$out"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
rrd="$T_DIR/data/rrd"

# m 'name{labels}': the value served in /metrics
m() { metric_value "$port" "$1"; }
is() { [ "$(m "$1")" = "$2" ]; }

check "values land in /metrics" -- wait_for 15 is "queue_pending{shop=\"berlin\",target=\"$H/json\"}" 7
# two more rounds, so that every target has been judged (and logged) at least twice
f=$(find "$rrd/http_up" -name '*.rrd' | head -1)
t0=$(rrd_last "$f")
check "rounds go on at the 1 s interval" -- wait_for 10 rrd_last_ge "$f" $((t0 + 2))
metrics "$port" > "$T_DIR/metrics.txt"
v() { awk -v k="$1" '$1 == k { print $2 }' "$T_DIR/metrics.txt"; }
check "the http target is up with status 200" -- test "$(v "http_up{shop=\"berlin\",target=\"$H/json\"}")" = 1 -a \
	"$(v "http_status_code{shop=\"berlin\",target=\"$H/json\"}")" = 200
check "the https target is up and its values are read" -- test "$(v "http_up{shop=\"berlin\",target=\"$S/json\"}")" = 1 -a \
	"$(v "queue_pending{shop=\"berlin\",target=\"$S/json\"}")" = 7 -a \
	"$(v "shop_orders{shop=\"berlin\",target=\"$S/json\"}")" = 3 -a \
	"$(v "api_ok{shop=\"berlin\",target=\"$S/json\"}")" = 1
exp=$(v "http_tls_cert_expiry_seconds{shop=\"berlin\",target=\"$S/json\"}")
diag "tls expiry: $exp s"
check "TLS expiry matches the certificate's 30 days" -- awk -v e="$exp" 'BEGIN { exit !(e != "" && e / 86400 >= 28 && e / 86400 <= 30) }'
check "plain http has no TLS expiry" -- test -z "$(v "http_tls_cert_expiry_seconds{shop=\"berlin\",target=\"$H/json\"}")"
check "phases and size are reported" -- bash -c "grep -q '^http_phase_duration_seconds{phase=\"tls\",shop=\"berlin\",target=\"$S/json\"} ' '$T_DIR/metrics.txt' &&
	grep -q '^http_phase_duration_seconds{phase=\"processing\",shop=\"berlin\",target=\"$H/json\"} ' '$T_DIR/metrics.txt' &&
	grep -q '^http_response_size_bytes{shop=\"berlin\",target=\"$H/json\"} 56$' '$T_DIR/metrics.txt' &&
	grep -q '^http_request_duration_seconds{shop=\"berlin\",target=\"$S/json\"} ' '$T_DIR/metrics.txt'"
check "tls_verify without ca_file fails on the self-signed certificate" -- test "$(v "http_up{target=\"$S/json?noca\"}")" = 0 -a \
	"$(v "http_status_code{target=\"$S/json?noca\"}")" = 0
check "the slow target times out: down, no status" -- test "$(v "http_up{target=\"$H/slow\"}")" = 0 -a \
	"$(v "http_status_code{target=\"$H/slow\"}")" = 0
check "... without stalling the fast target of the same probe" -- test "$(v "http_up{target=\"$H/json?mixed\"}")" = 1
check "... and the probe itself stays up, never abandoned" -- test "$(v 'reeve_probe_up{probe="mixed",type="http"}')" = 1 -a \
	"$(v 'reeve_probe_timeouts_total{probe="mixed"}')" = 0
check "a 500 is down with its status" -- test "$(v "http_up{target=\"$H/error\"}")" = 0 -a "$(v "http_status_code{target=\"$H/error\"}")" = 500
check "a refused connection is down with status 0" -- test "$(v "http_up{target=\"http://127.0.0.1:$closed/\"}")" = 0
check "a redirect is not followed: 302, up by the default 200-399" -- test "$(v "http_status_code{target=\"$H/redirect\"}")" = 302 -a \
	"$(v "http_up{target=\"$H/redirect\"}")" = 1
check "expect_status = 200 makes the redirect down" -- test "$(v "http_up{target=\"$H/redirect?strict\"}")" = 0 -a \
	"$(v "http_status_code{target=\"$H/redirect?strict\"}")" = 302
check "follow_redirects = yes reaches the JSON" -- test "$(v "http_status_code{target=\"$H/redirect?follow\"}")" = 200 -a \
	"$(v "followed_pending{target=\"$H/redirect?follow\"}")" = 7
check "a matching body_regex is up, a failing one down" -- test "$(v "http_up{target=\"$H/text\"}")" = 1 -a \
	"$(v "http_up{target=\"$H/text?bad\"}")" = 0
check "the token from the environment is sent (200)" -- test "$(v "http_status_code{target=\"$S/auth?env\"}")" = 200 -a \
	"$(v "http_up{target=\"$S/auth?env\"}")" = 1
check "the token from a file is sent (200), none gets 401" -- test "$(v "http_status_code{target=\"$H/auth\"}")" = 200 -a \
	"$(v "http_up{target=\"$H/auth\"}")" = 1 -a "$(v "http_status_code{target=\"$H/auth?none\"}")" = 401
check "URL credentials are stripped from the target label" -- test "$(v "http_up{target=\"http://127.0.0.1:$hp/json?creds\"}")" = 1
check "a target resolving into deny_networks is down, never contacted" -- bash -c "[ \"\$(awk -v k='http_up{target=\"http://localhost:$hp/json?guarded\"}' '\$1 == k { print \$2 }' '$T_DIR/metrics.txt')\" = 0 ] &&
	grep -q 'http://localhost:$hp/json?guarded: down: the address \(127.0.0.1\|::1\) is not allowed for this probe' '$T_DIR/log' && ! grep -q 'guarded' '$T_DIR/fixture.log'"
check "a target inside allow_networks is up" -- test "$(v "http_up{target=\"$H/json?allowed\"}")" = 1
check "/metrics passes promtool check metrics" -- bash -c "promtool check metrics < '$T_DIR/metrics.txt'"

# RRD: stored == served
qp=$(find "$rrd/queue_pending" -name '*.rrd' | grep -v '%3A'"$tp" | head -1)
check "an RRD file exists for an extracted value" -- test -n "$qp"
# rrd_value FILE: the last value stored in an RRD file
rrd_value() { rrdtool lastupdate "$1" | awk 'NR == 3 { print $2 }'; }
st=$(find "$rrd/http_status_code" -name '*%2Ferror.rrd' | head -1)
diag "stored: $(rrd_value "$qp") in $qp, $(rrd_value "$st") in $st"
check "the stored values are the served ones (7, status 500)" -- bash -c "awk -v a=\"\$(rrdtool lastupdate '$qp' | awk 'NR==3{print \$2}')\" 'BEGIN { exit !(a == 7) }' &&
	awk -v a=\"\$(rrdtool lastupdate '$st' | awk 'NR==3{print \$2}')\" 'BEGIN { exit !(a == 500) }'"

# failures are logged once per change of state, never with secrets
check "a failing target is logged once, with its reason" -- bash -c "[ \$(grep -c '$H/slow: down: ' '$T_DIR/log') = 1 ] &&
	grep -q '$H/error: down: status 500 is not in expect_status (200-399)' '$T_DIR/log' &&
	grep -q '$S/json?noca: down: .*certificate' '$T_DIR/log'"
check "debug logging is on (the canary check has something to read)" -- grep -q "$H/auth: status 200" "$T_DIR/log"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
[ "$REEVE_STATUS" = 0 ] || diag "$(grep -v 'reeve\[debug\]' "$T_DIR/log" | tail -60)"
check "no token or password in the log, /metrics or the RRD tree" -- bash -c "! grep -rqF -e '$canary_file' -e '$canary_env' -e '$canary_pass' \
	'$T_DIR/log' '$T_DIR/metrics.txt' '$T_DIR/data'"

# bad configs: reeve check names file:line for each
cat > "$T_DIR/bad.conf" <<EOC
[reeve]
data_dir = $T_DIR/bad-data

[probe bad]
type = http
url = http://user:$canary_pass@127.0.0.1:1/
value.pending = queue..pending
body_regex = (unclosed
header_file.X-Token = $T_DIR/no-such-token
url = ftp://127.0.0.1/
expect_status = 2xx
EOC
out=$("$REEVE" check -c "$T_DIR/bad.conf" 2>&1); rc=$?
diag "$out"
check "a bad http config exits 1" -- test "$rc" = 1
check "each error names its file:line" -- bash -c "grep -q '^$T_DIR/bad.conf:7: .*value.pending: bad JSON path' <<<\"\$0\" &&
	grep -q '^$T_DIR/bad.conf:8: .*body_regex: invalid regular expression' <<<\"\$0\" &&
	grep -q '^$T_DIR/bad.conf:9: .*header_file.X-Token: cannot read $T_DIR/no-such-token' <<<\"\$0\" &&
	grep -q '^$T_DIR/bad.conf:10: .*url #2 of 2: only http:// and https://' <<<\"\$0\" &&
	grep -q '^$T_DIR/bad.conf:11: .*expect_status' <<<\"\$0\"" "$out"
check "the errors never show the URL's password" -- bash -c "! grep -qF '$canary_pass' <<<\"\$0\"" "$out"
t_done
