#!/usr/bin/env bash
# reload_alerts.sh: what a SIGHUP does to alerts that are firing. A rule that is removed, or
# whose labels.* changed, has its alerts resolved at the receivers (they are other alerts
# now); the relabelled rule fires again under its new labels; an unchanged rule keeps its
# alert (no new message, the same activeAt).
. "$TEST_LIB"
plan 9
port=$(free_port)
hport=$(free_port)
here=$(dirname "$TEST_LIB")
log=$T_DIR/hooks.jsonl
api=http://127.0.0.1:$port

/usr/bin/python3 "$here/webhookd.py" --log "$log" --port-file "$T_DIR/hport" --port "$hport" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/hport"

# told STATUS ALERTNAME [TEAM]: how many alerts with that status, name (and team label) the
# receiver was sent, over every message
told() {
	/usr/bin/python3 - "$log" "$1" "$2" "${3:-}" <<'PYEOF'
import json, os, sys
n = 0
if os.path.exists(sys.argv[1]):
    for line in open(sys.argv[1]):
        for a in json.loads(json.loads(line)["body"])["alerts"]:
            l = a["labels"]
            if a["status"] == sys.argv[2] and l.get("alertname") == sys.argv[3] and \
                    (not sys.argv[4] or l.get("team") == sys.argv[4]):
                n += 1
print(n)
PYEOF
}
told_ge() { [ "$(told "$1" "$2" "${4:-}")" -ge "$3" ]; }
# alerts_now: alertname/team of every alert /api/v1/alerts shows, sorted, one line
alerts_now() {
	curl -sf "$api/api/v1/alerts" | /usr/bin/python3 -c '
import json, sys
print(" ".join(sorted(a["labels"]["alertname"] + "/" + a["labels"].get("team", "-")
                      for a in json.load(sys.stdin)["data"]["alerts"])))'
}
alerts_are() { [ "$(alerts_now)" = "$1" ]; }
active_at() {
	curl -sf "$api/api/v1/alerts" | /usr/bin/python3 -c '
import json, sys
print([a["activeAt"] for a in json.load(sys.stdin)["data"]["alerts"] if a["labels"]["alertname"] == sys.argv[1]][0])' "$1"
}

# conf RELABEL_TEAM WITH_GONE: the configuration, with Relabel's team label and Gone or not
conf() {
	local gone=""
	[ "$2" = yes ] && gone="
[alert Gone]
expr = reload_metric > 0
eval_interval = 1s"
	write_config "$T_DIR/reeve.conf" "$port" "
[notifier ops]
type = webhook
url = http://127.0.0.1:$hport/ops

[route default]
notify = ops
group_by = alertname
group_wait = 0
group_interval = 1s

[alert Stays]
expr = reload_metric > 0
eval_interval = 1s

[alert Relabel]
expr = reload_metric > 0
labels.team = $1
eval_interval = 1s
$gone"
}
conf a yes
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf "$api/healthz" -o /dev/null
curl -sf -o /dev/null --data-binary $'reload_metric 1\n' "$api/api/v1/push"
check "three alerts fire and reach the receiver" -- \
    wait_for 15 eval 'told_ge firing Stays 1 && told_ge firing Relabel 1 a && told_ge firing Gone 1'
stays_at=$(active_at Stays)
stays_told=$(told firing Stays)

# the series must stay fresh while we wait: push it every second in the background
(while :; do curl -sf -o /dev/null --data-binary $'reload_metric 1\n' "$api/api/v1/push"; sleep 1; done) &
T_PIDS+=("$!")

conf b no
kill -HUP "$REEVE_PID"
check "the reload is taken" -- wait_for 10 grep -q "alert Gone is no longer configured" "$T_DIR/log"
check "the removed rule's alert is told resolved" -- wait_for 15 told_ge resolved Gone 1
check "the relabelled rule's old alert is told resolved" -- wait_for 15 told_ge resolved Relabel 1 a
check "the relabelled rule fires again under its new labels" -- wait_for 15 told_ge firing Relabel 1 b
check "/api/v1/alerts shows the unchanged and the relabelled alert only" -- wait_for 10 alerts_are "Relabel/b Stays/-"
diag "alerts: $(alerts_now)"
check "the unchanged rule keeps its alert: the same activeAt" -- test "$(active_at Stays)" = "$stays_at"
check "the unchanged rule's alert is neither resolved nor sent again" -- \
    test "$(told resolved Stays)/$(told firing Stays)" = "0/$stays_told"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
t_done
