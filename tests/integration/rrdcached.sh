#!/usr/bin/env bash
# rrdcached.sh: updates go through a real rrdcached (BATCH) when [store] rrdcached is set,
# over a unix socket and over TCP (one rrdcached shared by two reeves, read back through it),
# and survive a restart of rrdcached.
. "$TEST_LIB"
plan 20
# in the sanitizer build: librrd's and fontconfig's own leaks (the graph) are not reeve's
export LSAN_OPTIONS="suppressions=$(dirname "$TEST_LIB")/../lsan.supp:fast_unwind_on_malloc=0"

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

# ---- TCP: one rrdcached, on what may be another host (here: another directory), shared by
# two reeves; each keeps its files in its own directory under rrdcached's base directory (its
# hostname, or [store] rrdcached_dir) and reads them back through rrdcached (FETCH, LIST):
# nothing is written to their own data_dir. -R lets rrdcached create the directories.
cport=$(free_port)
remote="$T_DIR/remote"
mkdir -p "$remote" "$T_DIR/journal2"
start_cached -R -l "127.0.0.1:$cport" -b "$remote" -B -j "$T_DIR/journal2" -p "$T_DIR/rrdcached2.pid"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$cport"
# tcp_config FILE PORT NAME EXTRA: a reeve NAME using the shared rrdcached, with its own data_dir
# (preset default: rows of one second, read back below)
tcp_config() {
	write_config "$1" "$2" "
[probe uptime]
type = uptime
$4"
	sed -i -e "s|^data_dir = .*|data_dir = $T_DIR/local-$3\nhostname = $3|" \
	    -e "s|^preset = compact|preset = default\nrrdcached = 127.0.0.1:$cport|" "$1"
}
porta=$(free_port)
tcp_config "$T_DIR/a.conf" "$porta" web-a "
[probe load]
type = load"
start_reeve "$T_DIR/a.conf" "$T_DIR/log-a"
pida=$REEVE_PID
portb=$(free_port)
tcp_config "$T_DIR/b.conf" "$portb" web-b "
[probe load]
type = load"
sed -i "s|^rrdcached = .*|&\nrrdcached_dir = fleet/b|" "$T_DIR/b.conf"
start_reeve "$T_DIR/b.conf" "$T_DIR/log-b"
pidb=$REEVE_PID
check "over TCP each reeve's files are created in its own directory (the hostname, or rrdcached_dir)" -- \
    wait_for 10 test -f "$remote/web-a/uptime_seconds.rrd" -a -f "$remote/web-a/load1.rrd" \
    -a -f "$remote/fleet/b/uptime_seconds.rrd" -a -f "$remote/fleet/b/load1.rrd"
t0=$(date +%s)
cd "$remote"
check "over TCP both reeves' updates of the same series reach rrdcached, each in its own file" -- \
    wait_for 10 eval "lastd_ge 127.0.0.1:$cport web-a/uptime_seconds.rrd $((t0 + 2)) && lastd_ge 127.0.0.1:$cport fleet/b/uptime_seconds.rrd $((t0 + 2))"
cd - >/dev/null
check "over TCP nothing is written under either reeve's own data_dir" -- \
    test -z "$(find "$T_DIR/local-web-a/rrd" "$T_DIR/local-web-b/rrd" -type f)"
check "over TCP neither store reports an error" -- \
    test "$(metric_value "$porta" reeve_store_errors_total)/$(metric_value "$portb" reeve_store_errors_total)" = 0/0
curl -sf --data-binary $'pushed_total_orders{shop="eu"} 42\n' "http://127.0.0.1:$porta/api/v1/push" >/dev/null
check "a pushed series of reeve A is stored on rrdcached, in a label directory" -- wait_for 10 test -f "$remote/web-a/pushed_total_orders/shop=eu.rrd"
sleep 2 # a few seconds of uptime_seconds to read back below
tstop=$(date +%s)
REEVE_PID=$pida stop_reeve
check "SIGTERM exits 0 (A)" -- test "$REEVE_STATUS" = 0

# A starts again with nothing in memory: what it answers from before comes from rrdcached
start_reeve "$T_DIR/a.conf" "$T_DIR/log-a2"
pida=$REEVE_PID
wait_for 10 curl -sf "http://127.0.0.1:$porta/healthz" >/dev/null
check "after a restart the series files are listed from rrdcached (a series not written since)" -- \
    grep -q 'store: [1-9][0-9]* series files under web-a/ on rrdcached' "$T_DIR/log-a2"
series=$(curl -sf "http://127.0.0.1:$porta/api/v1/series" --data-urlencode 'match[]=pushed_total_orders')
check "/api/v1/series knows the pushed series from before the restart" -- \
    eval 'echo "$series" | jq -e ".data | length == 1 and .[0].shop == \"eu\"" >/dev/null'
diag "$series"
range=$(curl -sf "http://127.0.0.1:$porta/api/v1/query_range" --data-urlencode 'query=uptime_seconds' \
    --data-urlencode "start=$((tstop - 6))" --data-urlencode "end=$((tstop - 1))" --data-urlencode step=1)
check "query_range before the restart answers the rows read back from rrdcached" -- \
    eval 'echo "$range" | jq -e "[.data.result[0].values[] | select(.[1] != \"NaN\")] | length >= 4" >/dev/null'
diag "$(echo "$range" | jq -c '.data.result[0].values' 2>/dev/null | head -c 300)"
inst=$(curl -sf "http://127.0.0.1:$porta/api/v1/query" --data-urlencode 'query=pushed_total_orders' --data-urlencode "time=$tstop")
check "an instant query before the restart answers the pushed value from rrdcached" -- \
    eval 'echo "$inst" | jq -e ".data.result[0].value[1] == \"42\"" >/dev/null'
diag "$inst"
code=$(curl -s -o "$T_DIR/g.png" -w '%{http_code} %{content_type}' "http://127.0.0.1:$porta/api/v1/graph.png" \
    --data-urlencode 'expr=uptime_seconds' --data-urlencode "start=$((tstop - 60))" --data-urlencode "end=$tstop" -G)
check "a graph of the files on rrdcached is drawn (rrd_graph reads them through it)" -- \
    eval '[ "$code" = "200 image/png" ] && head -c 8 "$T_DIR/g.png" | od -An -c | grep -q "P   N   G"'
diag "graph: $code"
check "over TCP neither store reports an error after the restart" -- \
    test "$(metric_value "$porta" reeve_store_errors_total)/$(metric_value "$portb" reeve_store_errors_total)" = 0/0
REEVE_PID=$pida stop_reeve
check "SIGTERM exits 0 (A again)" -- test "$REEVE_STATUS" = 0
[ "$REEVE_STATUS" = 0 ] || diag "$(tail -40 "$T_DIR/log-a2")"
REEVE_PID=$pidb stop_reeve
check "SIGTERM exits 0 (B)" -- test "$REEVE_STATUS" = 0
kill -TERM "$CACHED_PID"; wait "$CACHED_PID" 2>/dev/null

# An rrdcached started without -R cannot make a reeve's directory: the log says what to do
cport=$(free_port)
mkdir -p "$T_DIR/remote3" "$T_DIR/journal3"
start_cached -l "127.0.0.1:$cport" -b "$T_DIR/remote3" -B -j "$T_DIR/journal3" -p "$T_DIR/rrdcached3.pid"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$cport"
tcp_config "$T_DIR/c.conf" "$porta" web-c ""
start_reeve "$T_DIR/c.conf" "$T_DIR/log-c"
check "without -R the log names rrdcached's -R" -- \
    wait_for 10 grep -q 'only when started with -R' "$T_DIR/log-c"
diag "$(grep -m2 'store:' "$T_DIR/log-c")"
stop_reeve
kill -TERM "$CACHED_PID"; wait "$CACHED_PID" 2>/dev/null
t_done
