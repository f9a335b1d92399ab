#!/usr/bin/env bash
# crash.sh: kill -9 leaves valid RRD files; a restart finds every series again and goes on
# writing the same files; an RRD error on one file is logged and counted, the others go on.
. "$TEST_LIB"
plan 8
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load
[probe memory]
type = memory
[probe cpu]
type = cpu"
rrd="$T_DIR/data/rrd"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 test -f "$rrd/load1.rrd"
wait_for 10 test -f "$rrd/memory_total_bytes.rrd"
sleep 1.5 # a few more rounds of writes
kill -KILL "$REEVE_PID"
wait "$REEVE_PID" 2>/dev/null
n=$(find "$rrd" -name '*.rrd' | wc -l)
bad=0
while read -r f; do rrdtool info "$f" >/dev/null 2>&1 || { bad=$((bad + 1)); diag "broken: $f"; }; done < <(find "$rrd" -name '*.rrd')
check "after kill -9 every RRD file is valid ($n files)" -- test "$n" -gt 20 -a "$bad" = 0

# a file that librrd cannot update: garbage in memory_total_bytes.rrd
printf 'this is not an RRD file\n' > "$rrd/memory_total_bytes.rrd"
# leftovers of an interrupted create are removed at start
touch "$rrd/load5.rrdAbC123"
t=$(rrd_last "$rrd/load1.rrd")
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log2"
check "the restart finds the series files again" -- wait_for 10 grep -q "store: $n series files under" "$T_DIR/log2"
check "the restart removes a partial create" -- bash -c "[ ! -e '$rrd/load5.rrdAbC123' ] && grep -q 'left by an interrupted create' '$T_DIR/log2'"
check "history continues in the same files" -- wait_for 10 rrd_last_ge "$rrd/load1.rrd" $((t + 2))
check "the broken file's error is counted" -- wait_for 10 bash -c "[ \"\$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1==\"reeve_store_errors_total\"{print \$2}')\" -ge 1 ]"
check "the broken file's error is logged with its path" -- grep -q "memory_total_bytes.rrd" "$T_DIR/log2"
t=$(rrd_last "$rrd/memory_free_bytes.rrd")
check "the other files of the same probe go on" -- wait_for 10 rrd_last_ge "$rrd/memory_free_bytes.rrd" $((t + 2))
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
t_done
