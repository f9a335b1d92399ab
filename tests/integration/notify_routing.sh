#!/usr/bin/env bash
# notify_routing.sh: alerts of the running daemon to a real webhook receiver on loopback
# (webhookd.py): a storm of 20 alerts is one message, routes and continue pick receivers,
# resolved alerts are told once, silences, inhibition and acknowledgements keep quiet,
# escalation goes to a second receiver, dead letters are listed and retried, and with the
# receiver down a kill -9 loses nothing: the spooled message arrives after the restart.
. "$TEST_LIB"
plan 25
port=$(free_port)
hport=$(free_port)
here=$(dirname "$TEST_LIB")
log=$T_DIR/hooks.jsonl
H=http://127.0.0.1:$hport
api=http://127.0.0.1:$port

start_receiver() {
	rm -f "$T_DIR/hport"
	/usr/bin/python3 "$here/webhookd.py" --log "$log" --port-file "$T_DIR/hport" --port "$hport" &
	RECV_PID=$!
	T_PIDS+=("$RECV_PID")
	wait_for 10 test -s "$T_DIR/hport"
}

# msgs PATH [PYTHON-CONDITION on m (the JSON body)]: how many messages PATH received
msgs() {
	/usr/bin/python3 - "$log" "$1" "${2:-True}" <<'PYEOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] != sys.argv[2]:
        continue
    m = json.loads(r["body"])
    inst = sorted(a["labels"].get("instance", "") for a in m["alerts"] if a["status"] == "firing")
    res = sorted(a["labels"].get("instance", "") for a in m["alerts"] if a["status"] == "resolved")
    names = [a["labels"].get("alertname") for a in m["alerts"]]
    rcv = [a["labels"].get("receiver") for a in m["alerts"]]
    if eval(sys.argv[3], {"m": m, "inst": inst, "res": res, "names": names, "rcv": rcv}):
        n += 1
print(n)
PYEOF
}
export -f msgs metrics
export log
push() { curl -sf -o /dev/null --data-binary "$1"$'\n' "$api/api/v1/push"; }
disk() { # disk VALUE INSTANCE... : push disk_used_percent for the instances
	local v=$1 body="" i
	shift
	for i in "$@"; do body+="disk_used_percent{instance=\"$i\"} $v"$'\n'; done
	push "${body%$'\n'}"
}

write_config "$T_DIR/reeve.conf" "$port" "
[outbox]
retry_initial = 200ms
retry_max = 1s

[notifier ops]
type = webhook
url = $H/ops
timeout = 5s

[notifier dba]
type = webhook
url = $H/dba

[notifier pager]
type = webhook
url = $H/pager

[notifier escalation]
type = webhook
url = $H/escalation

[notifier broken]
type = webhook
url = $H/status/400

[alert disk_full]
expr = disk_used_percent > 90
severity = warning
eval_interval = 1s
annotations.summary = {{ labels.instance }} is {{ value }}% full

[alert db_disk_full]
expr = db_disk_used_percent > 90
labels.team = db
eval_interval = 1s

[alert host_down]
expr = host_up == 0
severity = critical
eval_interval = 1s

[alert goes_nowhere]
expr = lost_metric > 0
eval_interval = 1s

[alert ReeveNotificationsFailing]
expr = sum by (receiver) (increase(reeve_notifications_dead_total[15m])) > 0
severity = info
eval_interval = 1s

[route self]
match = alertname=\"ReeveNotificationsFailing\"
notify = broken
group_wait = 0

[route db]
match = team=\"db\"
notify = dba
continue = yes
group_wait = 1s
group_interval = 1s

[route lost]
match = alertname=\"goes_nowhere\"
notify = broken
group_wait = 0

[route critical]
match = severity=\"critical\"
notify = pager
group_by = instance
group_wait = 0
escalate_after = 4s
escalate_to = escalation

[route default]
notify = ops
group_by = alertname
group_wait = 2s
group_interval = 1s

[inhibit host_down]
source_match = alertname=\"host_down\"
target_match = alertname=\"disk_full\"
equal = instance"

check "reeve check accepts notifiers, routes and inhibitions" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_receiver
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf -o /dev/null "$api/healthz"

web=()
for i in $(seq -w 1 20); do web+=("web$i"); done
disk 95 "${web[@]}"
push 'db_disk_used_percent{instance="db1"} 97'
check "a storm of 20 alerts is one message listing all 20" -- wait_for 15 bash -c \
	"[ \"\$(msgs /ops 'len(inst) == 20 and m[\"firing\"] == 20')\" = 1 ]"
sleep 2
check "... and only one" -- test "$(msgs /ops)" = 1
check "the db route takes its alert; continue without a later match leaves default out" -- \
	bash -c "[ \"\$(msgs /dba 'inst == [\"db1\"]')\" = 1 ] && [ \"\$(msgs /ops '\"db1\" in inst')\" = 0 ]"
check "the message carries labels and the rendered summary" -- bash -c "
	grep '\"path\": \"/ops\"' '$log' | head -1 | grep -q 'web07 is 95% full'"
check "each message carries an Idempotency-Key" -- bash -c "
	/usr/bin/python3 -c '
import json, sys
rs = [json.loads(l) for l in open(\"$log\")]
sys.exit(0 if all(any(h[0].lower() == \"idempotency-key\" and h[1] for h in r[\"headers\"]) for r in rs) else 1)'"

disk 50 web01 web02 web03 web04 web05
check "five resolve: one message with 15 firing and 5 resolved" -- wait_for 15 bash -c \
	"[ \"\$(msgs /ops 'len(inst) == 15 and res == [\"web01\",\"web02\",\"web03\",\"web04\",\"web05\"]')\" = 1 ]"

# a silence: the silenced alerts are left out of the next message
sil=$(curl -sf -X POST --data '{"matchers":"instance=~\"web1[0-4]\"","duration":"1h","comment":"swap","createdBy":"test"}' "$api/api/v1/silences")
check "POST /api/v1/silences answers the new id" -- bash -c "echo '$sil' | grep -q '\"silenceID\":\"[0-9a-f]\{16\}\"'"
check "GET /api/v1/silences lists it active" -- bash -c \
	"curl -sf $api/api/v1/silences | grep -q '\"state\":\"active\"'"
check "a silence with no comment is refused with 400" -- bash -c "
	[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{\"matchers\":\"a=\\\"b\\\"\",\"duration\":\"1h\",\"createdBy\":\"x\"}' $api/api/v1/silences)\" = 400 ]"
sleep 1.5
disk 99 web21
check "a new alert is told; silenced ones are left out" -- wait_for 15 bash -c \
	"[ \"\$(msgs /ops '\"web21\" in inst and \"web12\" not in inst and len(inst) == 11')\" = 1 ]"

# inhibition: web15 down mutes its disk alert; the host alert goes to the pager
push 'host_up{instance="web15"} 0'
check "the critical alert goes to the pager, grouped by instance" -- wait_for 15 bash -c \
	"[ \"\$(msgs /pager 'inst == [\"web15\"]')\" = 1 ]"
sleep 1.5
disk 99 web22
check "an inhibited alert is left out (web15's disk while web15 is down)" -- wait_for 15 bash -c \
	"[ \"\$(msgs /ops '\"web22\" in inst and \"web15\" not in inst')\" = 1 ]"

# escalation and acknowledgement: web16 goes down and is acknowledged, web15 is not
push 'host_up{instance="web16"} 0'
fingerprint() {
	curl -sf "$api/api/v1/alerts" | /usr/bin/python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["labels"].get("instance") == "web16" and a["labels"]["alertname"] == "host_down" \
            and a["state"] == "firing":
        print(a["fingerprint"])'
}
export -f fingerprint
export api
wait_for 10 bash -c '[ -n "$(fingerprint)" ]'
fp=$(fingerprint)
ack=$(curl -s -X POST --data '{"comment":"on it","createdBy":"test","duration":"1h"}' "$api/api/v1/alerts/$fp/ack")
diag "fingerprint $fp: $ack"
check "POST /api/v1/alerts/FP/ack acknowledges the alert" -- bash -c "echo '$ack' | grep -q '\"ackID\"'"
check "an unacknowledged alert is escalated after escalate_after" -- wait_for 20 bash -c \
	"[ \"\$(msgs /escalation 'inst == [\"web15\"]')\" = 1 ]"
sleep 5
check "the acknowledged one is not" -- test "$(msgs /escalation '"web16" in inst')" = 0

# a permanent failure: a dead letter, counted, listed, retried
push 'lost_metric 1'
check "a 400 answer makes a dead letter, counted in /metrics" -- wait_for 15 bash -c \
	"metrics $port | grep -q 'reeve_notifications_dead_total{reason=\"failed\",receiver=\"broken\"} 1'"
check "reeve's alert about the failing receiver reaches the others, not the failing one" -- \
	wait_for 20 bash -c "[ \"\$(msgs /ops '\"broken\" in rcv')\" -ge 1 ] &&
	[ \"\$(msgs /status/400 '\"ReeveNotificationsFailing\" in names')\" = 0 ]"
"$REEVE" outbox list -c "$T_DIR/reeve.conf" > "$T_DIR/list.out"
dead=$(awk '$2 == "dead" { print $1; exit }' "$T_DIR/list.out")
check "reeve outbox list shows it with the receiver's answer" -- grep -q "last error: HTTP 400" "$T_DIR/list.out"
"$REEVE" outbox retry "$dead" -c "$T_DIR/reeve.conf" > "$T_DIR/retry.out"
check "reeve outbox retry queues it again and the daemon tries it again" -- wait_for 15 bash -c \
	"grep -q 'queued again' '$T_DIR/retry.out' &&
	metrics $port | grep -q 'reeve_notifications_dead_total{reason=\"failed\",receiver=\"broken\"} 2'"

# the receiver goes down; a new alert is spooled; reeve is killed; nothing is lost
kill "$RECV_PID"
wait "$RECV_PID" 2>/dev/null
disk 99 web30
check "with the receiver down the message waits in the spool" -- wait_for 15 bash -c \
	"metrics $port | grep -q 'reeve_notifications_queued{receiver=\"ops\"} [1-9]'"
kill -KILL "$REEVE_PID"
wait "$REEVE_PID" 2>/dev/null
printf 'garbage' > "$T_DIR/data/spool/queue/0000000000001-000000-0bad"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log2"
wait_for 10 curl -sf -o /dev/null "$api/healthz"
check "a corrupt spool file is set aside and counted" -- wait_for 10 bash -c "
	test -f '$T_DIR/data/spool/corrupt/0000000000001-000000-0bad' &&
	metrics $port | grep -q '^reeve_notifications_corrupt_total 1'"
start_receiver
check "after kill -9 and the receiver's return the spooled message arrives, once" -- \
	wait_for 20 bash -c "[ \"\$(msgs /ops '\"web30\" in inst')\" = 1 ]"
check "the queue drains" -- wait_for 10 bash -c \
	"metrics $port | grep -q 'reeve_notifications_queued{receiver=\"ops\"} 0'"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
[ "$T_FAILED" = 0 ] || cp -r "$T_DIR" "${TMPDIR:-/tmp}/notify_routing.failed" 2>/dev/null
t_done
