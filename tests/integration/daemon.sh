#!/usr/bin/env bash
# daemon.sh: the real daemon with the system probes at a 1 s interval: RRD files and their
# history, /metrics judged by promtool, health endpoints, bearer token, HTTP errors, SIGTERM.
. "$TEST_LIB"
plan 20

port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe cpu]
type = cpu
[probe memory]
type = memory
[probe load]
type = load
[probe disk]
type = disk
[probe filesystem]
type = filesystem
[probe network]
type = network
[probe process]
type = process
group = reeve ^reeve\$
[probe uptime]
type = uptime"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
rrd="$T_DIR/data/rrd"

check "the daemon answers /healthz" -- wait_for 10 curl -sf "http://127.0.0.1:$port/healthz"
check "/readyz turns ready after the first round" -- wait_for 10 curl -sf "http://127.0.0.1:$port/readyz"
check "RRD files appear for the host metrics" -- wait_for 15 test -f "$rrd/load1.rrd" -a -f "$rrd/memory_available_bytes.rrd" -a -f "$rrd/uptime_seconds.rrd"
check "per-cpu counters are stored one file per series" -- test -f "$rrd/cpu_seconds_total/cpu=0/mode=user.rrd"
check "a gauge is stored as GAUGE" -- bash -c "rrdtool info '$rrd/load1.rrd' | grep -q 'ds\[value\].type = \"GAUGE\"'"
check "a counter is stored as DDERIVE with min 0" -- bash -c "rrdtool info '$rrd/cpu_seconds_total/cpu=0/mode=user.rrd' | grep -q 'ds\[value\].type = \"DDERIVE\"' &&
	rrdtool info '$rrd/cpu_seconds_total/cpu=0/mode=user.rrd' | grep -q 'ds\[value\].min = 0.0000000000e+00'"
check "the RRD step is the probe interval" -- bash -c "rrdtool info '$rrd/load1.rrd' | grep -q '^step = 1$'"
first=$(rrd_last "$rrd/load1.rrd")
check "history advances: lastupdate moves on every round" -- wait_for 10 rrd_last_ge "$rrd/load1.rrd" $((first + 2))
check "the stored value is the served value" -- bash -c "v=\$(rrdtool lastupdate '$rrd/memory_total_bytes.rrd' | awk 'NR==3{print \$2}'); m=\$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1==\"memory_total_bytes\"{print \$2}'); [ -n \"\$m\" ] && awk -v a=\"\$v\" -v b=\"\$m\" 'BEGIN{exit !(a==b)}'"
check "filesystem series exist for /, path-encoded" -- bash -c "find '$rrd/filesystem_size_bytes/' -path '*/mountpoint=%2F.rrd' | grep -q ."

metrics "$port" > "$T_DIR/metrics.txt"
check "/metrics passes promtool check metrics" -- bash -c "promtool check metrics < '$T_DIR/metrics.txt'"
check "/metrics has the documented host metrics" -- bash -c "for m in 'cpu_seconds_total{cpu=\"0\",mode=\"user\"}' 'memory_total_bytes' 'memory_available_bytes' 'load1' 'load5' 'load15' 'uptime_seconds'; do grep -qF \"\$m \" '$T_DIR/metrics.txt' || { echo missing \$m; exit 1; }; done;
	grep -q '^filesystem_size_bytes{device=\".*\",fstype=\".*\",mountpoint=\"/\"} ' '$T_DIR/metrics.txt' &&
	grep -q '^network_receive_bytes_total{interface=\"lo\"} ' '$T_DIR/metrics.txt' &&
	grep -q '^disk_read_bytes_total{device=' '$T_DIR/metrics.txt' &&
	grep -q '^process_group_' '$T_DIR/metrics.txt' &&
	grep -q '^cpu_usage_ratio{mode=\"idle\"} ' '$T_DIR/metrics.txt'"
check "/metrics has reeve's own metrics" -- bash -c "grep -q '^reeve_probe_up{probe=\"cpu\",type=\"cpu\"} 1$' '$T_DIR/metrics.txt' &&
	grep -q '^reeve_store_updates_total ' '$T_DIR/metrics.txt' && grep -q '^reeve_build_info{version=' '$T_DIR/metrics.txt' &&
	grep -q '^reeve_store_queue_depth ' '$T_DIR/metrics.txt' && grep -q '^reeve_probe_duration_seconds{probe=\"disk\"} ' '$T_DIR/metrics.txt'"
check "HELP and TYPE appear once per family" -- bash -c "[ -z \"\$(grep '^# TYPE' '$T_DIR/metrics.txt' | awk '{print \$3}' | sort | uniq -d)\" ]"
check "/metrics is served with the 0.0.4 content type" -- bash -c "curl -sfI http://127.0.0.1:$port/metrics | grep -qi 'content-type: text/plain; version=0.0.4'"
# the self probe reports request and render counts once a second: compare over 50 requests
q1=$(metric_value "$port" reeve_http_requests_total)
r1=$(metric_value "$port" reeve_http_metrics_renders_total)
for i in $(seq 50); do metrics "$port" >/dev/null; done
wait_for 15 bash -c "[ \$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1==\"reeve_http_requests_total\"{print \$2}') -ge $((q1 + 50)) ]"
q2=$(metric_value "$port" reeve_http_requests_total)
r2=$(metric_value "$port" reeve_http_metrics_renders_total)
diag "requests $q1 -> $q2, renders $r1 -> $r2"
check "/metrics is not re-rendered per request" -- test $((q2 - q1)) -ge 50 -a $((r2 - r1)) -lt $(((q2 - q1) / 2))

check "unknown paths get a JSON 404" -- bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/nope)\" = 404 ] && curl -s http://127.0.0.1:$port/nope | grep -q '\"error\"'"
check "POST /metrics gets 405" -- bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 http://127.0.0.1:$port/metrics)\" = 405 ]"

before=$(metric_value "$port" reeve_store_updates_total)
stop_reeve
check "SIGTERM exits 0 within the flush timeout" -- test "$REEVE_STATUS" = 0
check "shutdown wrote out everything it had queued" -- bash -c "grep -q 'store: stopped, [0-9]* values written, 0 errors, 0 dropped' '$T_DIR/log'"
diag "$(tail -3 "$T_DIR/log")"
t_done
