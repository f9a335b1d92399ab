#!/usr/bin/env bash
# auth.sh: an optional bearer token protects /metrics; health endpoints stay open.
. "$TEST_LIB"
plan 5
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load"
sed -i 's/^timeout = 5s$/timeout = 5s\ntoken = s3cret-token/' "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf "http://127.0.0.1:$port/healthz"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "/metrics without a token is 401" -- test "$(code "http://127.0.0.1:$port/metrics")" = 401
check "/metrics with a wrong token is 401" -- test "$(code -H 'Authorization: Bearer wrong' "http://127.0.0.1:$port/metrics")" = 401
check "/metrics with the token is 200" -- test "$(code -H 'Authorization: Bearer s3cret-token' "http://127.0.0.1:$port/metrics")" = 200
check "the 401 says why, as JSON" -- bash -c "curl -s http://127.0.0.1:$port/metrics | grep -q '\"error\":\"missing or wrong bearer token'"
check "/healthz needs no token" -- test "$(code "http://127.0.0.1:$port/healthz")" = 200
stop_reeve
t_done
