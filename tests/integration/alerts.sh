#!/usr/bin/env bash
# alerts.sh: alert and recording rules in the running daemon: a pushed value crosses the
# threshold, the alert goes pending then firing (history log, /metrics), hysteresis keeps it
# firing between the thresholds, a restart neither forgets nor re-announces it, it resolves
# below the recovery threshold; recorded series are stored; bad expressions are refused.
. "$TEST_LIB"
plan 13
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[alert orders_backlog]
expr = orders_pending > 10
for = 2s
recover = orders_pending < 5
severity = critical
labels.team = shop
annotations.summary = {{ labels.shop }} has {{ value }} orders waiting
eval_interval = 1s

[record orders_pending_sum]
expr = sum(orders_pending)
eval_interval = 1s"
hist="$T_DIR/data/alerts/history.jsonl"
push() { curl -sf -o /dev/null --data-binary "orders_pending{shop=\"north\"} $1
" "http://127.0.0.1:$port/api/v1/push"; }
transitions() { grep -c "\"to\":\"$1\"" "$hist" 2>/dev/null || true; }

check "reeve check accepts the rules" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
push 20
check "the alert goes pending first" -- wait_for 10 bash -c "grep -q '\"from\":\"inactive\",\"to\":\"pending\"' '$hist'"
check "then fires once for has held" -- wait_for 10 bash -c "grep -q '\"from\":\"pending\",\"to\":\"firing\"' '$hist'"
check "the history line carries labels, value, severity and the rendered summary" -- bash -c "
	grep '\"to\":\"firing\"' '$hist' | grep -q '\"rule\":\"orders_backlog\"' &&
	grep '\"to\":\"firing\"' '$hist' | grep -q '\"shop\":\"north\"' &&
	grep '\"to\":\"firing\"' '$hist' | grep -q '\"team\":\"shop\"' &&
	grep '\"to\":\"firing\"' '$hist' | grep -q '\"value\":20' &&
	grep '\"to\":\"firing\"' '$hist' | grep -q '\"severity\":\"critical\"' &&
	grep '\"to\":\"firing\"' '$hist' | grep -q '\"summary\":\"north has 20 orders waiting\"'"
check "/metrics counts it firing" -- wait_for 10 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_alerts_firing 1'"
check "the recording rule's series is served and stored" -- wait_for 10 bash -c "
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'orders_pending_sum 20' &&
	test -f '$T_DIR/data/rrd/orders_pending_sum.rrd'"
push 7
sleep 3
check "between the thresholds it keeps firing (hysteresis)" -- test "$(transitions resolved)" = 0
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
check "the alert state was saved" -- grep -q '"firing"' "$T_DIR/data/alerts/state.json"
firing_before=$(transitions firing)
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log2"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
check "after a restart it is still firing, without a second announcement" -- wait_for 10 bash -c "
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_alerts_firing 1' &&
	[ \"\$(grep -c '\"to\":\"firing\"' '$hist')\" = '$firing_before' ]"
push 3
check "below the recovery threshold it resolves" -- wait_for 10 bash -c "grep -q '\"from\":\"firing\",\"to\":\"resolved\"' '$hist'"
stop_reeve
write_config "$T_DIR/bad.conf" "$port" "
[alert typo]
expr = rat(orders_total[5m]) > 1

[record scalar]
expr = 1 + 1"
"$REEVE" check -c "$T_DIR/bad.conf" > "$T_DIR/check.out" 2>&1
check "a bad expression is refused with file:line and column" -- grep -q \
	"bad.conf:15: \[alert typo\] expr: 1:1: unknown function \"rat\"; did you mean \"rate\"?" "$T_DIR/check.out"
check "a rule must give an instant vector" -- grep -q \
	"bad.conf:18: \[record scalar\] expr: a rule expression must give an instant vector, this one gives a scalar" "$T_DIR/check.out"
diag "$(cat "$T_DIR/check.out")"
t_done
