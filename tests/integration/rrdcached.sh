#!/usr/bin/env bash
# rrdcached.sh: updates go through a real rrdcached (BATCH) when [store] rrdcached is set.
. "$TEST_LIB"
plan 4
sock="$T_DIR/rrdcached.sock"
mkdir -p "$T_DIR/journal" "$T_DIR/data"
rrdcached -g -l "unix:$sock" -j "$T_DIR/journal" -w 3600 -f 7200 -p "$T_DIR/rrdcached.pid" >"$T_DIR/rrdcached.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 test -S "$sock"
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load
[probe uptime]
type = uptime"
sed -i "s|^preset = compact|preset = compact\nrrdcached = unix:$sock|" "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
rrd="$T_DIR/data/rrd"
check "files are created through rrdcached" -- wait_for 10 test -f "$rrd/load1.rrd"
# rrdcached holds updates in memory (-w 3600): the daemon's view shows them
lastd() { rrdtool lastupdate --daemon "unix:$sock" "$rrd/uptime_seconds.rrd" | awk 'NR==3{sub(":","",$1);print $1}'; }
t0=$(lastd)
check "updates reach rrdcached" -- wait_for 10 bash -c "[ \$(rrdtool lastupdate --daemon 'unix:$sock' '$rrd/uptime_seconds.rrd' | awk 'NR==3{sub(\":\",\"\",\$1);print \$1}') -ge $((t0 + 2)) ]"
check "the store reports no errors" -- test "$(metric_value "$port" reeve_store_errors_total)" = 0
check "updates are counted" -- bash -c "[ \"\$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1==\"reeve_store_updates_total\"{print \$2}')\" -gt 3 ]"
stop_reeve
t_done
