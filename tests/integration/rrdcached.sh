#!/usr/bin/env bash
# rrdcached.sh: updates go through a real rrdcached (BATCH) when [store] rrdcached is set,
# over a unix socket and over TCP, and survive a restart of rrdcached.
. "$TEST_LIB"
plan 9

# start_cached ARGS...: a private rrdcached in the foreground, in the background; sets CACHED_PID
start_cached() {
	rrdcached -g -w 3600 -f 7200 "$@" >>"$T_DIR/rrdcached.log" 2>&1 &
	CACHED_PID=$!
	T_PIDS+=("$CACHED_PID")
}
# lastd ADDRESS FILE: the last update time of FILE as rrdcached sees it (flushed first; a
# relative FILE, as over TCP, is read relative to the working directory: run it from the base)
lastd() { rrdtool lastupdate --daemon "$1" "$2" 2>/dev/null | awk 'NR==3{sub(":","",$1);print $1}'; }
lastd_ge() { local t; t=$(lastd "$1" "$2"); [ -n "$t" ] && [ "$t" -ge "$3" ]; }

# ---- unix socket, absolute paths
sock="$T_DIR/rrdcached.sock"
mkdir -p "$T_DIR/journal" "$T_DIR/data"
start_cached -l "unix:$sock" -j "$T_DIR/journal" -p "$T_DIR/rrdcached.pid"
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
t0=$(lastd "unix:$sock" "$rrd/uptime_seconds.rrd")
check "updates reach rrdcached (held in its cache: -w 3600)" -- wait_for 10 lastd_ge "unix:$sock" "$rrd/uptime_seconds.rrd" $((${t0:-0} + 2))
check "the store reports no errors" -- test "$(metric_value "$port" reeve_store_errors_total)" = 0

# rrdcached restarts (its journal keeps what it had): reeve reconnects by itself
kill -TERM "$CACHED_PID"; wait "$CACHED_PID" 2>/dev/null
rm -f "$sock"
start_cached -l "unix:$sock" -j "$T_DIR/journal" -p "$T_DIR/rrdcached.pid"
wait_for 10 test -S "$sock"
t1=$(date +%s)
check "after an rrdcached restart updates flow again" -- wait_for 15 lastd_ge "unix:$sock" "$rrd/uptime_seconds.rrd" $((t1 + 1))
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
kill -TERM "$CACHED_PID"; wait "$CACHED_PID" 2>/dev/null

# ---- TCP: paths relative to rrdcached's base directory, on what may be another host (here:
# another directory); -R lets rrdcached create the label directories
cport=$(free_port)
mkdir -p "$T_DIR/remote" "$T_DIR/local" "$T_DIR/journal2"
start_cached -R -l "127.0.0.1:$cport" -b "$T_DIR/remote" -B -j "$T_DIR/journal2" -p "$T_DIR/rrdcached2.pid"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$cport"
port=$(free_port)
write_config "$T_DIR/reeve2.conf" "$port" "
[probe uptime]
type = uptime
[probe cpu]
type = cpu"
sed -i -e "s|^data_dir = .*|data_dir = $T_DIR/local|" -e "s|^preset = compact|preset = compact\nrrdcached = 127.0.0.1:$cport|" "$T_DIR/reeve2.conf"
start_reeve "$T_DIR/reeve2.conf" "$T_DIR/log2"
check "over TCP files are created under rrdcached's base directory, label directories too" -- wait_for 10 test -f "$T_DIR/remote/rrd/uptime_seconds.rrd" -a -f "$T_DIR/remote/rrd/cpu_seconds_total/cpu=0/mode=user.rrd"
t0=$(date +%s)
cd "$T_DIR/remote"
check "over TCP updates reach rrdcached" -- wait_for 10 lastd_ge "127.0.0.1:$cport" "rrd/uptime_seconds.rrd" $((t0 + 1))
cd - >/dev/null
check "over TCP the store reports no errors" -- test "$(metric_value "$port" reeve_store_errors_total)" = 0
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
t_done
