#!/usr/bin/env bash
# notify_durability.sh: nothing accepted is lost. With the receiver down, 1,000 alert events
# (500 alerts firing, then resolving) across 20 groups while reeve is killed with SIGKILL at
# random moments ten times; then the receiver comes back: every alert's firing and its end
# arrive, per group in the order they were made, and repeats stay within the documented
# bound (at most one per group and crash, with the same idempotency key).
. "$TEST_LIB"
plan 7
port=$(free_port)
hport=$(free_port)
here=$(dirname "$TEST_LIB")
log=$T_DIR/hooks.jsonl
api=http://127.0.0.1:$port
kills=0

write_config "$T_DIR/reeve.conf" "$port" "
[outbox]
retry_initial = 200ms
retry_max = 1s

[notifier ops]
type = webhook
url = http://127.0.0.1:$hport/ops
timeout = 5s

[alert item_failed]
expr = item_status > 0
eval_interval = 1s

[route default]
notify = ops
group_by = group
group_wait = 0
group_interval = 1s"

verdict() { # what the receiver got, summed up
	/usr/bin/python3 - "$log" <<'PYEOF'
import collections, json, sys
fired, ended = set(), set()
keys = collections.Counter()
order = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    m = json.loads(r["body"])
    key = [v for k, v in r["headers"] if k.lower() == "idempotency-key"][0]
    keys[key] += 1
    group = m["groupLabels"]["group"]
    order[group].append(m["time"])
    for a in m["alerts"]:
        item = (a["labels"]["group"], a["labels"]["item"])
        (fired if a["status"] == "firing" else ended).add(item)
want = {("g%02d" % g, "i%02d" % i) for g in range(1, 21) for i in range(1, 26)}
print("fired", len(fired & want), "ended", len(ended & want))
print("messages", sum(keys.values()), "distinct", len(keys), "max repeats", max(keys.values()) - 1)
print("groups", len(order), "in order", all(t == sorted(t) for t in order.values()))
PYEOF
}
export -f verdict
export log
trouble=$T_DIR/trouble # what went wrong on the way, for the checks and the diagnosis
: > "$trouble"
up() {
	wait_for 60 curl -sf -o /dev/null "$api/healthz" ||
		echo "reeve did not answer within 60 s of start $kills" >> "$trouble"
}
# item_firing: how many item_failed alerts fire (reeve_alerts_firing would also count reeve's
# own alert about the receiver, which fires once it failed for 2 minutes on a slow machine)
item_firing() {
	curl -sf "$api/api/v1/alerts" | /usr/bin/python3 -c '
import json, sys
print(sum(a["state"] == "firing" and a["labels"]["alertname"] == "item_failed"
	for a in json.load(sys.stdin)["data"]["alerts"]))'
}
export -f item_firing
export api
firing() {
	wait_for 60 bash -c "[ \"\$(item_firing)\" = $1 ]" || {
		echo "after 60 s $(item_firing) alerts fire, not $1 (start $kills$(kill -0 \
			"$REEVE_PID" 2>/dev/null || echo ", reeve has exited"))" >> "$trouble"
		return 1
	}
}
crash() { # kill -9 after a random pause of 0 to 1.5 s, then start again
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", r % 150 / 100 }')"
	kill -KILL "$REEVE_PID"
	wait "$REEVE_PID" 2>/dev/null
	kills=$((kills + 1))
	start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.$kills"
	up
}
batch() { # batch VALUE FIRST LAST: item_status for items FIRST..LAST of every group
	local body="" g i
	for g in $(seq -w 1 20); do
		for i in $(seq -w "$2" "$3"); do
			body+="item_status{group=\"g$g\",item=\"i$i\"} $1"$'\n'
		done
	done
	curl -sf -o /dev/null --retry 5 --retry-connrefused --data-binary "$body" \
		"$api/api/v1/push" || echo "push of $1 for items $2..$3 refused" >> "$trouble"
}

start_reeve "$T_DIR/reeve.conf" "$T_DIR/log.0"
up
# each batch's transitions happen (the alerts fire or resolve), then reeve dies at a random
# moment of their way to the spool
n=0
for range in "01 05" "06 10" "11 15" "16 20" "21 25"; do
	batch 1 $range
	n=$((n + 100))
	firing $n
	crash
done
firing 500
check "500 alerts fire across 20 groups with the receiver down and reeve killed 5 times" -- \
	test ! -s "$trouble"
for range in "01 05" "06 10" "11 15" "16 20" "21 25"; do
	batch 0 $range
	n=$((n - 100))
	firing $n
	crash
done
firing 0
check "... and resolve, through 5 more kills" -- test ! -s "$trouble"
if [ -s "$trouble" ]; then
	diag "$(cat "$trouble")"
	diag "$(grep -h -E 'warn|error|fail' "$T_DIR"/log.* | tail -20)"
fi
check "their messages wait in the spool" -- bash -c \
	"curl -sf $api/metrics | grep -q 'reeve_notifications_queued{receiver=\"ops\"} [1-9]'"

/usr/bin/python3 "$here/webhookd.py" --log "$log" --port-file "$T_DIR/hport" --port "$hport" &
T_PIDS+=("$!")
check "once the receiver is back every firing and every end arrives and the spool drains" -- \
	wait_for 120 bash -c "
	curl -sf $api/metrics | grep -q 'reeve_notifications_queued{receiver=\"ops\"} 0' &&
	verdict | grep -qx 'fired 500 ended 500'"
diag "$(curl -sf $api/metrics | grep -E '^reeve_(alert_groups|alerts_firing|notifier_failing)')"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0

verdict > "$T_DIR/verdict"
diag "$(cat "$T_DIR/verdict")"
check "every alert's firing and its end arrived" -- grep -qx "fired 500 ended 500" "$T_DIR/verdict"
check "per group in the order made, each message at most $kills times repeated" -- bash -c "
	grep -qx 'groups 20 in order True' '$T_DIR/verdict' &&
	[ \"\$(awk '/max repeats/ { print \$NF }' '$T_DIR/verdict')\" -le $kills ]"
[ "$T_FAILED" = 0 ] || cp -r "$T_DIR" "${TMPDIR:-/tmp}/notify_durability.failed" 2>/dev/null
t_done
