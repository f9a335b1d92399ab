#!/usr/bin/env bash
# reload.sh: SIGHUP applies a good new config; a broken one is rejected, logged, and the
# running config keeps working; reeve_config_last_reload_successful shows which.
. "$TEST_LIB"
plan 8
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
rrd="$T_DIR/data/rrd"
wait_for 10 test -f "$rrd/load1.rrd"
check "reload status starts at 1" -- test "$(metric_value "$port" reeve_config_last_reload_successful)" = 1

# a broken config: unknown key and a bad probe
cp "$T_DIR/reeve.conf" "$T_DIR/good.conf"
printf '\n[probe broken]\ntype = memory\ninterval = soon\n' >> "$T_DIR/reeve.conf"
kill -HUP "$REEVE_PID"
check "the rejection is logged with file:line" -- wait_for 10 grep -q "reeve.conf:[0-9]*: .*interval" "$T_DIR/log"
check "reeve_config_last_reload_successful turns 0" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^reeve_config_last_reload_successful 0$'"
t=$(rrd_last "$rrd/load1.rrd")
check "the old config keeps collecting" -- wait_for 10 rrd_last_ge "$rrd/load1.rrd" $((t + 2))
check "the daemon is still up" -- kill -0 "$REEVE_PID"

# a good new config adds a probe
cp "$T_DIR/good.conf" "$T_DIR/reeve.conf"
printf '\n[probe uptime]\ntype = uptime\n' >> "$T_DIR/reeve.conf"
kill -HUP "$REEVE_PID"
check "a good reload turns the status back to 1" -- wait_for 10 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^reeve_config_last_reload_successful 1$'"
check "the new probe runs" -- wait_for 10 test -f "$rrd/uptime_seconds.rrd"
stop_reeve
check "SIGTERM after reloads exits 0" -- test "$REEVE_STATUS" = 0
t_done
