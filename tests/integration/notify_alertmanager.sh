#!/usr/bin/env bash
# notify_alertmanager.sh: `reeve notify test` through an alertmanager notifier to a real
# Alertmanager (Debian's prometheus-alertmanager) on loopback: the alert shows up in its
# API with its labels and annotations; a base URL with a path prefix works; a bad one fails.
# Two reeves with the same rule and different [reeve] labels.instance (external labels) send
# to one Alertmanager, which keeps their alerts apart; a changed labels.instance applies on
# SIGHUP and across a restart, the alert keeping its state under its new labels.
. "$TEST_LIB"

AM_BIN=/usr/bin/prometheus-alertmanager
plan 19
# ./dev installs it; a missing one is a failure, not a reason to skip
check "Debian's Alertmanager is installed" -- test -x "$AM_BIN"

am_port=$(free_port)
am2_port=$(free_port)
while [ "$am2_port" = "$am_port" ]; do am2_port=$(free_port); done
AM=http://127.0.0.1:$am_port
AM2=http://127.0.0.1:$am2_port/am

cat > "$T_DIR/am.yml" <<EOF
route:
  receiver: blackhole
receivers:
  - name: blackhole
EOF

# start_am PORT DIR [ARGS]: an Alertmanager on 127.0.0.1:PORT, clustering off
start_am() {
	local port=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	"$AM_BIN" --config.file="$T_DIR/am.yml" --storage.path="$dir" \
		--web.listen-address="127.0.0.1:$port" --cluster.listen-address= "$@" \
		>"$dir.log" 2>&1 &
	T_PIDS+=("$!")
}
start_am "$am_port" "$T_DIR/am1"
start_am "$am2_port" "$T_DIR/am2" --web.route-prefix=/am
check "Alertmanager is ready" -- wait_for 30 curl -sf "$AM/-/ready"
check "... and the one under /am" -- wait_for 30 curl -sf "$AM2/-/ready"

cat > "$T_DIR/reeve.conf" <<EOF
[reeve]
data_dir = $T_DIR/data
hostname = mon01

[http]
external_url = http://reeve.example:9180

[notifier am]
type = alertmanager
url = $AM
timeout = 10s

[notifier am_prefix]
type = alertmanager
url = $AM2/

[notifier am_wrong]
type = alertmanager
url = http://127.0.0.1:$am_port/nothing-here
EOF

check "reeve check accepts the notifiers" -- "$REEVE" check -c "$T_DIR/reeve.conf"
out=$("$REEVE" notify test am -c "$T_DIR/reeve.conf" 2>&1)
rc=$?
[ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^am: sent (alertmanager)'
t_result $? "notify test am: sent"
[ $rc -eq 0 ] || diag "exit $rc: $out"

# am_has URL: the ReeveTest alert is in that Alertmanager, active, as reeve sent it
am_has() {
	curl -sf "$1/api/v2/alerts?filter=alertname%3D%22ReeveTest%22" | /usr/bin/python3 -c '
import json, sys
alerts = json.load(sys.stdin)
a = [x for x in alerts if x["labels"].get("alertname") == "ReeveTest"]
sys.exit(0 if len(a) == 1 and a[0]["labels"] == {"alertname": "ReeveTest", "instance": "mon01",
    "severity": "info"} and a[0]["annotations"]["summary"] == "Test notification from reeve on mon01"
    and a[0]["status"]["state"] == "active"
    and a[0]["generatorURL"] == "http://reeve.example:9180/api/v1/alerts/history?rule=ReeveTest"
    else 1)'
}
check "the alert shows up in Alertmanager with its labels and annotations" -- \
	wait_for 10 am_has "$AM"

out=$("$REEVE" notify test am_prefix -c "$T_DIR/reeve.conf" 2>&1)
rc=$?
[ $rc -eq 0 ]
t_result $? "notify test through a base URL with a path prefix: sent"
[ $rc -eq 0 ] || diag "exit $rc: $out"
check "... and the alert shows up there" -- wait_for 10 am_has "$AM2"

out=$("$REEVE" notify test am_wrong -c "$T_DIR/reeve.conf" 2>&1)
rc=$?
[ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q '^am_wrong: failed permanently .*HTTP 404'
t_result $? "a wrong base URL fails permanently (404)"
[ $rc -eq 1 ] || diag "exit $rc: $out"

# ---- external labels: two reeves, one rule, one Alertmanager

# ext_config N PORT INSTANCE: the config of reeve N, with [reeve] labels.instance = INSTANCE
ext_config() {
	cat > "$T_DIR/ext$1.conf" <<EOF
[reeve]
data_dir = $T_DIR/ext$1
interval = 1s
labels.instance = $3
labels.region = eu

[http]
listen = 127.0.0.1:$2

[notifier am]
type = alertmanager
url = $AM

[route am]
notify = am
group_wait = 0s
group_interval = 1s
repeat_interval = 1m

[alert DiskFull]
expr = disk_used_percent > 90
eval_interval = 1s
labels.team = ops
annotations.summary = {{ labels.mountpoint }} on {{ labels.instance }} is {{ value }}% full
EOF
}
ext1_port=$(free_port)
ext2_port=$(free_port)
while [ "$ext2_port" = "$ext1_port" ]; do ext2_port=$(free_port); done
ext_config 1 "$ext1_port" web01
ext_config 2 "$ext2_port" web02
ok=0
"$REEVE" check -c "$T_DIR/ext1.conf" >/dev/null 2>&1 && "$REEVE" check -c "$T_DIR/ext2.conf" \
	>/dev/null 2>&1 || ok=1
t_result $ok "reeve check accepts [reeve] labels.NAME"

# ext_push PORT BODY: push series to a reeve
ext_push() { curl -sf -o /dev/null --data-binary "$2"$'\n' "http://127.0.0.1:$1/api/v1/push"; }

start_reeve "$T_DIR/ext1.conf" "$T_DIR/ext1.log"
ext1_pid=$REEVE_PID
start_reeve "$T_DIR/ext2.conf" "$T_DIR/ext2.log"
ext2_pid=$REEVE_PID
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$ext1_port/healthz"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$ext2_port/healthz"
# the same series on both hosts; on web02 one more that has an instance label of its own
ext_push "$ext1_port" 'disk_used_percent{mountpoint="/"} 95'
ext_push "$ext2_port" 'disk_used_percent{mountpoint="/"} 96
disk_used_percent{mountpoint="/data",instance="nas01"} 97'

# am_diskfull EXPECTED: the active DiskFull alerts in Alertmanager, as sorted
# "instance mountpoint" pairs joined by commas, are EXPECTED, each with the labels reeve
# gives it (series, rule, external) and its summary
am_diskfull() {
	curl -sf "$AM/api/v2/alerts?filter=alertname%3D%22DiskFull%22" | /usr/bin/python3 -c '
import json, sys
alerts = [a for a in json.load(sys.stdin) if a["labels"].get("alertname") == "DiskFull"
    and a["status"]["state"] == "active"]
got = sorted(a["labels"]["instance"] + " " + a["labels"]["mountpoint"] for a in alerts)
value = {"/": {"web01": "95", "web01b": "95", "web02": "96", "web02b": "96"}, "/data": {"nas01": "97"}}
ok = got == sys.argv[1].split(",") and all(sorted(a["labels"]) == ["alertname", "instance",
    "mountpoint", "region", "severity", "team"] and a["labels"]["region"] == "eu"
    and a["labels"]["team"] == "ops" and a["annotations"]["summary"] == "%s on %s is %s%% full"
    % (a["labels"]["mountpoint"], a["labels"]["instance"],
    value[a["labels"]["mountpoint"]][a["labels"]["instance"]]) for a in alerts)
if not ok:
    print("Alertmanager has", json.dumps([[a["labels"], a["annotations"]] for a in alerts]))
sys.exit(0 if ok else 1)' "$1"
}
# am_check DESCRIPTION EXPECTED: Alertmanager comes to hold EXPECTED (am_diskfull) within
# 20 s; when it does not, what it holds is shown
am_check() {
	local failed=$T_FAILED
	check "$1" -- wait_for 20 am_diskfull "$2"
	[ "$T_FAILED" = "$failed" ] || diag "$(am_diskfull "$2")"
}
am_check "Alertmanager keeps the two reeves' alerts apart, each with its labels.instance (a series' own instance wins)" \
	"nas01 /data,web01 /,web02 /"

# reeve_alert PORT INSTANCE: print the activeAt of the firing DiskFull alert on "/" of the
# reeve at PORT, whose labels must be its series' and rule's, instance INSTANCE, region eu
reeve_alert() {
	curl -sf "http://127.0.0.1:$1/api/v1/alerts" | /usr/bin/python3 -c '
import json, sys
a = [a for a in json.load(sys.stdin)["data"]["alerts"] if a["labels"].get("mountpoint") == "/"]
want = {"alertname": "DiskFull", "instance": sys.argv[1], "mountpoint": "/", "region": "eu",
    "team": "ops"}
if len(a) != 1 or a[0]["labels"] != want or a[0]["state"] != "firing":
    print("reeve has", json.dumps(a)); sys.exit(1)
print(a[0]["activeAt"])' "$2"
}
both_alerts() { reeve_alert "$ext1_port" web01 && reeve_alert "$ext2_port" web02; }
check "/api/v1/alerts of each reeve shows its external labels" -- both_alerts
since1=$(reeve_alert "$ext1_port" web01)
since2=$(reeve_alert "$ext2_port" web02)

# SIGHUP with another labels.instance: the alert takes it and keeps its state; Alertmanager
# sees the old label set resolve and the new one fire
ext_config 2 "$ext2_port" web02b
kill -HUP "$ext2_pid"
# ext2_relabelled: reeve 2 shows the alert under web02b, active since before the reload
ext2_relabelled() { [ -n "$since2" ] && [ "$(reeve_alert "$ext2_port" web02b)" = "$since2" ]; }
check "SIGHUP: a changed labels.instance applies, and the alert keeps its state (activeAt)" -- \
	wait_for 15 ext2_relabelled
am_check "... Alertmanager has the alert under the new labels, the old label set resolved" \
	"nas01 /data,web01 /,web02b /"

# a restart with another labels.instance: the saved state is restored under the new labels
REEVE_PID=$ext1_pid
stop_reeve
[ "$REEVE_STATUS" = 0 ]
t_result $? "the first reeve stops (exit $REEVE_STATUS)"
ext_config 1 "$ext1_port" web01b
start_reeve "$T_DIR/ext1.conf" "$T_DIR/ext1b.log"
ext1_pid=$REEVE_PID
# ext1_restored: reeve 1 shows the alert under web01b, active since before the restart
ext1_restored() { [ -n "$since1" ] && [ "$(reeve_alert "$ext1_port" web01b)" = "$since1" ]; }
check "restart: the restored alert has the new labels.instance and its activeAt" -- \
	wait_for 15 ext1_restored
am_check "... Alertmanager has it under the new labels, the old label set resolved" \
	"nas01 /data,web01b /,web02b /"
ok=0
for p in "$ext1_pid" "$ext2_pid"; do
	REEVE_PID=$p
	stop_reeve
	[ "$REEVE_STATUS" = 0 ] || { ok=1; diag "reeve $p: exit $REEVE_STATUS"; }
done
t_result $ok "both reeves stop"
T_PIDS=("${T_PIDS[@]:0:2}") # the Alertmanagers

# stop both Alertmanagers: TERM, then wait
for p in "${T_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
stopped=0
for p in "${T_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
for p in "${T_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && stopped=1; done
[ $stopped -eq 0 ]
t_result $? "the Alertmanagers stop"
T_PIDS=()
t_done
