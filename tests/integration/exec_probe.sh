#!/usr/bin/env bash
# exec_probe.sh: the exec probe in the real daemon: Nagios plugins (status, perfdata, RRD
# files), the clean environment and descriptors, garbage, too much output, a hanging plugin
# killed with its process group while a healthy probe keeps collecting, a plugin leaving a
# background job, and bad configurations refused by `reeve check` with file:line.
. "$TEST_LIB"
plan 33
d="$TEST_DATA/exec"
rrd="$T_DIR/data/rrd"

# live_in_group PGID: true when a process of the group is alive, or a zombie that reeve
# (its parent) has not reaped; zombies adopted by init are init's to reap.
live_in_group() {
	ps -eo pgid=,ppid=,stat= | awk -v g="$1" -v r="$REEVE_PID" \
		'$1 == g && ($3 !~ /^Z/ || $2 == r) { found = 1 } END { exit !found }'
}
zombie_children() { ps -eo ppid=,stat= | awk -v r="$REEVE_PID" '$1 == r && $2 ~ /^Z/ { n++ } END { print n + 0 }'; }
m() { metrics "$port" | grep -F "$1" | awk '{ print $NF }'; }
# labels_of METRIC CHECK: the label="..." values of the samples of one check, sorted, one a line
labels_of() { metrics "$port" | grep "^$1{check=\"$2\"," | sed 's/.*,label="\([^"]*\)".*/\1/' | sort; }

port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load
[probe disk_check]
type = exec
format = nagios
command = $d/nagios_warning.sh --ignored \"two words\"
labels.team = ops
[probe env]
type = exec
format = nagios
command = $d/env.sh
env.GREETING = hello world
[probe fds]
type = exec
format = nagios
command = $d/fds.sh
[probe garbage]
type = exec
format = nagios
command = $d/garbage.sh
[probe flood]
type = exec
format = nagios
command = $d/flood.sh
max_output = 64KiB
[probe hang]
type = exec
format = nagios
command = $d/hang.sh
command_timeout = 300ms
env.PID_FILE = $T_DIR/hang.pid
[probe background]
type = exec
format = nagios
command = $d/background.sh
[probe shop]
type = exec
command = $d/prom.sh
labels.site = berlin
[probe prom_garbage]
type = exec
command = $d/prom_garbage.sh
[probe prom_fail]
type = exec
format = prometheus
command = $d/prom_fail.sh"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"

check "the daemon answers /healthz" -- wait_for 10 curl -sf "http://127.0.0.1:$port/healthz"
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || diag "$(tail -5 "$T_DIR/log")"
check "a WARNING plugin gives reeve_check_status 1" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_status{check=\"disk_check\",team=\"ops\"} 1'"
metrics "$port" > "$T_DIR/metrics.txt"
check "perfdata in % is a ratio, with its thresholds" -- bash -c "grep -qx 'reeve_check_perfdata_ratio{check=\"disk_check\",label=\"/data used\",team=\"ops\"} 0.91' '$T_DIR/metrics.txt' &&
	grep -qx 'reeve_check_perfdata_warning_ratio{check=\"disk_check\",label=\"/data used\",team=\"ops\"} 0.8' '$T_DIR/metrics.txt' &&
	grep -qx 'reeve_check_perfdata_critical_ratio{check=\"disk_check\",label=\"/data used\",team=\"ops\"} 0.9' '$T_DIR/metrics.txt'"
check "perfdata in ms is in seconds, in GB in bytes (1024-based), from a later line" -- bash -c "grep -qx 'reeve_check_perfdata_seconds{check=\"disk_check\",label=\"latency\",team=\"ops\"} 0.0125' '$T_DIR/metrics.txt' &&
	grep -qx 'reeve_check_perfdata_bytes{check=\"disk_check\",label=\"var free\",team=\"ops\"} 6442450944' '$T_DIR/metrics.txt'"
check "perfdata in c is a counter" -- bash -c "grep -qx 'reeve_check_perfdata_total{check=\"disk_check\",label=\"requests\",team=\"ops\"} 1234' '$T_DIR/metrics.txt' &&
	grep -qx '# TYPE reeve_check_perfdata_total counter' '$T_DIR/metrics.txt'"
check "the exit code and duration of the run are exported" -- bash -c "grep -qx 'reeve_exec_exit_code{check=\"disk_check\",team=\"ops\"} 1' '$T_DIR/metrics.txt' &&
	grep -q '^reeve_exec_duration_seconds{check=\"disk_check\",team=\"ops\"} [0-9]' '$T_DIR/metrics.txt'"
check "a non-zero Nagios state is data: the probe is up" -- grep -qx 'reeve_probe_up{probe="disk_check",type="exec"} 1' "$T_DIR/metrics.txt"

rrd_files() { find "$rrd/reeve_check_status" "$rrd/reeve_check_perfdata_ratio" -name '*.rrd' -path '*check=disk_check*' 2>/dev/null | sort; }
check "the status and the perfdata are stored in RRD files" -- wait_for 15 bash -c "[ \$(find '$rrd' -name '*.rrd' -path '*check=disk_check*' | grep -c 'reeve_check_status/\\|reeve_check_perfdata_ratio/') = 2 ]"
f_status=$(rrd_files | grep reeve_check_status/)
f_ratio=$(rrd_files | grep reeve_check_perfdata_ratio/)
diag "files: $f_status $f_ratio"
check "the stored values are the served ones" -- bash -c "s=\$(rrdtool lastupdate '$f_status' | awk 'NR==3{print \$2}'); r=\$(rrdtool lastupdate '$f_ratio' | awk 'NR==3{print \$2}');
	awk -v a=\"\$s\" -v b=\"\$r\" 'BEGIN { exit !(a == 1 && b == 0.91) }' || { echo \"stored \$s \$r\"; exit 1; }"

wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q 'check=\"env\"'"
check "the command sees only the clean environment plus env.*" -- test "$(labels_of reeve_check_perfdata env | tr '\n' ';')" = 'GREETING=hello world;LANG=C.UTF-8;PATH=/usr/bin:/bin;'
diag "environment: $(labels_of reeve_check_perfdata env | tr '\n' ';')"
wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q 'check=\"fds\"'"
check "the command inherits only descriptors 0, 1 and 2 (3 is ls's own)" -- test "$(labels_of reeve_check_perfdata fds | tr '\n' ';')" = 'fd 0;fd 1;fd 2;fd 3;'
diag "descriptors: $(labels_of reeve_check_perfdata fds | tr '\n' ';')"

check "garbage perfdata: the state still counts, bad items are counted" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_status{check=\"garbage\"} 2' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_perfdata_invalid_items{check=\"garbage\"} 3' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_perfdata{check=\"garbage\",label=\"ok\"} 5'"
check "garbage perfdata is logged once, with what and where" -- bash -c "[ \$(grep -c 'probe garbage: 3 malformed perfdata item(s) skipped, the first: perfdata item 1 (.=1.): empty label' '$T_DIR/log') = 1 ]"

check "too much output: the probe is down, the state UNKNOWN" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_probe_up{probe=\"flood\",type=\"exec\"} 0' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_status{check=\"flood\"} 3'"
check "too much output is logged with the limit" -- grep -q "probe flood: $d/flood.sh wrote more than max_output (65536 bytes) to stdout: killed" "$T_DIR/log"

check "a hanging plugin is killed at command_timeout and reported down" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_probe_up{probe=\"hang\",type=\"exec\"} 0' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -q '^reeve_exec_timeouts_total{check=\"hang\"} [1-9]'"
check "the timeout is logged" -- grep -q "probe hang: $d/hang.sh did not finish within command_timeout (0.3s): killed" "$T_DIR/log"
check "it died of SIGTERM (the daemon's blocked signals are not inherited)" -- bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_exec_exit_code{check=\"hang\"} -15'"
hang_pgid=$(cat "$T_DIR/hang.pid" 2>/dev/null)
t_result "$(wait_for 15 bash -c "$(declare -f live_in_group); REEVE_PID=$REEVE_PID; [ -n '$hang_pgid' ] && ! live_in_group '$hang_pgid'"; echo $?)" "the hung plugin's process group is gone (sleep included)"
t=$(rrd_last "$rrd/load1.rrd")
check "a healthy probe keeps its 1 s rhythm next to the hanging one" -- wait_for 15 rrd_last_ge "$rrd/load1.rrd" $((t + 4))

check "a plugin leaving a background job answers at once" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_status{check=\"background\"} 0' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_probe_up{probe=\"background\",type=\"exec\"} 1' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_exec_timeouts_total{check=\"background\"} 0'"
bg_pgid=$(m 'reeve_check_perfdata{check="background",label="pgid"}')
t_result "$(wait_for 15 bash -c "$(declare -f live_in_group); REEVE_PID=$REEVE_PID; [ -n '$bg_pgid' ] && ! live_in_group '$bg_pgid'"; echo $?)" "the background job was killed with the plugin's group"
t_result "$(wait_for 15 bash -c "$(declare -f zombie_children); REEVE_PID=$REEVE_PID; [ \$(zombie_children) = 0 ]"; echo $?)" "reeve leaves no zombie child"

check "Prometheus text: its samples, with labels.* added" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m' && grep -qx 'shop_orders_total{site=\"berlin\"} 1027' '$T_DIR/m' &&
	grep -qx 'shop_queue_length{queue=\"shipping\",site=\"berlin\"} 12.5' '$T_DIR/m' && grep -qx '# TYPE shop_orders_total counter' '$T_DIR/m' &&
	grep -qx 'reeve_exec_exit_code{check=\"shop\",site=\"berlin\"} 0' '$T_DIR/m' && grep -qx 'reeve_probe_up{probe=\"shop\",type=\"exec\"} 1' '$T_DIR/m'"
check "Prometheus text: stored as served" -- wait_for 15 bash -c "f=\$(find '$rrd/shop_queue_length' -name '*.rrd' -path '*queue=shipping*'); [ -n \"\$f\" ] && rrdtool lastupdate \"\$f\" | awk 'NR==3 { ok = (\$2 == 12.5) } END { exit !ok }'"
check "output that is not Prometheus text: down, nothing of it kept, line named" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_probe_up{probe=\"prom_garbage\",type=\"exec\"} 0' &&
	! curl -sf http://127.0.0.1:$port/metrics | grep -q '^shop_ok' &&
	grep -q 'probe prom_garbage: the output of $d/prom_garbage.sh is not Prometheus text: line 2: ' '$T_DIR/log'"
check "a non-zero exit in prometheus format: down, with the code and stderr's first line" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_probe_up{probe=\"prom_fail\",type=\"exec\"} 0' &&
	grep -q 'probe prom_fail: $d/prom_fail.sh exited with code 2; stderr: cannot reach the database at db1:5432\$' '$T_DIR/log'"

metrics "$port" > "$T_DIR/metrics.txt"
check "/metrics passes promtool check metrics" -- bash -c "promtool check metrics < '$T_DIR/metrics.txt'"
stop_reeve
check "SIGTERM exits 0 with a plugin hanging" -- test "$REEVE_STATUS" = 0

# bad configurations: reeve check names the file and line of the key
bad() {
	printf '[reeve]\ndata_dir = %s\n[probe x]\ntype = exec\n%s\n' "$T_DIR/data" "$1" > "$T_DIR/bad.conf"
	"$REEVE" check -c "$T_DIR/bad.conf" 2>&1
}
out=$(bad "command = sh -c true"); rc=$?
check "a relative command path is refused with file:line" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/bad.conf:5: .*command.*is not an absolute path' <<<\"\$0\"" "$out"
out=$(bad "command = /bin/echo \"unterminated"); rc=$?
check "an unterminated quote is refused with file:line" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/bad.conf:5: .*the double quote at character 11 is not closed' <<<\"\$0\"" "$out"
out=$(bad "command = /bin/echo
format = json"); rc=$?
check "an unknown format is refused with file:line" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/bad.conf:6: .*format.*expected prometheus or nagios' <<<\"\$0\"" "$out"
out=$(bad "command = $d/notexec.sh"); rc=$?
# (root too: access(X_OK) fails for it when no execute bit is set at all)
check "a non-executable file is refused with file:line" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/bad.conf:5: .*notexec.sh is not executable' <<<\"\$0\"" "$out"
diag "$out"
t_done
