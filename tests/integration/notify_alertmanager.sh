#!/usr/bin/env bash
# notify_alertmanager.sh: `reeve notify test` through an alertmanager notifier to a real
# Alertmanager (Debian's prometheus-alertmanager) on loopback: the alert shows up in its
# API with its labels and annotations; a base URL with a path prefix works; a bad one fails.
. "$TEST_LIB"

AM_BIN=/usr/bin/prometheus-alertmanager
plan 10
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

# stop both Alertmanagers: TERM, then wait
for p in "${T_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
stopped=0
for p in "${T_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
for p in "${T_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && stopped=1; done
[ $stopped -eq 0 ]
t_result $? "the Alertmanagers stop"
T_PIDS=()
t_done
