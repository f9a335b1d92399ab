#!/usr/bin/env bash
# auth.sh: bearer tokens with roles protect /metrics and the push API; health endpoints stay open; secret
# files are checked and re-read on SIGHUP; no secret ever reaches the log.
. "$TEST_LIB"
plan 31
port=$(free_port)
url="http://127.0.0.1:$port"
read_secret=grafana-read-secret-0001
new_secret=grafana-read-secret-0002
push_secret=app-push-secret-000001
http_secret=s3cret-token
printf '%s\n' "$read_secret" > "$T_DIR/grafana.secret"
chmod 600 "$T_DIR/grafana.secret"
write_config "$T_DIR/reeve.conf" "$port" "
[token grafana]
; relative to the directory of this file
secret_file = grafana.secret
roles = read

[token app]
secret = $push_secret
roles = push

[probe load]
type = load"
sed -i -e 's/^timeout = 5s$/timeout = 5s\ntoken = '"$http_secret"'/' -e 's/^log_level = info$/log_level = debug/' \
	"$T_DIR/reeve.conf"
check "reeve check accepts the token config" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf "$url/healthz"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
bearer() { echo "Authorization: Bearer $1"; }
check "/metrics without a token is 401" -- test "$(code "$url/metrics")" = 401
check "the 401 says why, as JSON" -- bash -c "curl -s $url/metrics | grep -qx '{\"status\":\"error\",\"errorType\":\"unauthorized\",\"error\":\"missing or wrong bearer token (Authorization: Bearer <token>)\"}'"
check "the 401 asks for a bearer token" -- bash -c "curl -si $url/metrics | grep -qi '^WWW-Authenticate: Bearer realm=\"reeve\"'"
check "/metrics with a wrong token is 401" -- test "$(code -H "$(bearer wrong-wrong-wrong-wrong)" "$url/metrics")" = 401
check "/metrics with the read token (from its secret_file) is 200" -- test "$(code -H "$(bearer "$read_secret")" "$url/metrics")" = 200
check "/metrics with the push-only token is 403" -- test "$(code -H "$(bearer "$push_secret")" "$url/metrics")" = 403
check "the 403 names the missing role, as JSON" -- bash -c "curl -s -H '$(bearer "$push_secret")' $url/metrics | grep -qx '{\"status\":\"error\",\"errorType\":\"unauthorized\",\"error\":\"this token lacks the read role\"}'"
check "/metrics with the [http] token is 200" -- test "$(code -H "$(bearer "$http_secret")" "$url/metrics")" = 200
check "/healthz needs no token" -- test "$(code "$url/healthz")" = 200
readyz_open() { [ "$(code "$url/readyz")" = 200 ]; }
check "/readyz needs no token" -- wait_for 10 readyz_open
push() { curl -s -o /dev/null -w '%{http_code}' --data-binary $'auth_test_pushed 1\n' "$@" "$url/api/v1/push"; }
check "a push without a token is 401" -- test "$(push)" = 401
check "a push with the read-only token is 403" -- test "$(push -H "$(bearer "$read_secret")")" = 403
check "the 403 names the push role" -- bash -c "curl -s -H '$(bearer "$read_secret")' --data-binary 'x 1' $url/api/v1/push | grep -q '\"error\":\"this token lacks the push role\"'"
check "a push with the push token is 200" -- test "$(push -H "$(bearer "$push_secret")")" = 200
check "a push with the [http] token is 200" -- test "$(push -H "$(bearer "$http_secret")")" = 200
check "refusals are counted by status" -- wait_for 10 bash -c "curl -s -H '$(bearer "$read_secret")' $url/metrics | grep -q '^reeve_http_denied_total{status=\"403\"} [1-9]'"

# SIGHUP re-reads the secret file: the old secret is refused, the new one accepted
printf '%s\n' "$new_secret" > "$T_DIR/grafana.secret"
kill -HUP "$REEVE_PID"
old_refused() { [ "$(code -H "$(bearer "$read_secret")" "$url/metrics")" = 401 ]; }
check "after SIGHUP the old secret is refused" -- wait_for 10 old_refused
check "after SIGHUP the new secret is accepted" -- test "$(code -H "$(bearer "$new_secret")" "$url/metrics")" = 200

# a broken token config on SIGHUP is rejected and the running tokens stay
chmod 644 "$T_DIR/grafana.secret"
kill -HUP "$REEVE_PID"
check "a world-readable secret file is rejected on SIGHUP" -- wait_for 10 grep -q "reeve.conf:[0-9]*: \[token grafana\] secret_file .* is readable by others: chmod 600 it" "$T_DIR/log"
check "the running tokens stay in force" -- test "$(code -H "$(bearer "$new_secret")" "$url/metrics")" = 200
chmod 600 "$T_DIR/grafana.secret"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
check "no secret appears in the debug log" -- bash -c "! grep -q -e '$read_secret' -e '$new_secret' -e '$push_secret' -e '$http_secret' '$T_DIR/log'"
check "the debug log does name the refused token" -- grep -q "403 for /metrics: token app lacks the read role" "$T_DIR/log"

# reeve check: a secret file readable by others, named with file:line
chmod 644 "$T_DIR/grafana.secret"
out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1); rc=$?
check "reeve check exits 1 on a secret file with mode 644" -- test "$rc" = 1
line=$(grep -n '^secret_file = grafana.secret$' "$T_DIR/reeve.conf" | cut -d: -f1)
check "... naming file:line and the fix" -- bash -c "echo '$out' | grep -qx '$T_DIR/reeve.conf:$line: \[token grafana\] secret_file $T_DIR/grafana.secret is readable by others: chmod 600 it'"
chmod 600 "$T_DIR/grafana.secret"

# a short secret is an error that does not show the secret
sed -i "s/^secret = $push_secret\$/secret = tooShort42/" "$T_DIR/reeve.conf"
out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1); rc=$?
check "a short secret fails reeve check" -- bash -c "test $rc = 1 && echo '$out' | grep -q 'reeve.conf:[0-9]*: \[token app\] secret: the secret is shorter than 16 bytes'"
check "... without showing the secret" -- bash -c "! echo '$out' | grep -q tooShort42"

# with only a push token, /metrics stays open as before
port2=$(free_port)
write_config "$T_DIR/push.conf" "$port2" "
[token app]
secret = $push_secret
roles = push"
sed -i "s|$T_DIR/data|$T_DIR/data2|" "$T_DIR/push.conf"
start_reeve "$T_DIR/push.conf" "$T_DIR/log2"
wait_for 10 curl -sf "http://127.0.0.1:$port2/healthz"
check "with only a push token, /metrics is open" -- test "$(code "http://127.0.0.1:$port2/metrics")" = 200
url="http://127.0.0.1:$port2"
check "... while a push still needs the push token" -- test "$(push)" = 401
check "... and takes it" -- test "$(push -H "$(bearer "$push_secret")")" = 200
stop_reeve
t_done
