#!/usr/bin/env bash
# scrape.sh: the scrape probe reads a Prometheus text endpoint (node_exporter output served
# by a local HTTP server): every sample lands with its type, prefix and labels; a malformed,
# an oversized and an unreachable target are each rejected as a whole with one clear error;
# credentials in the URL never show.
. "$TEST_LIB"
plan 14
port=$(free_port)
web=$(free_port)
mkdir -p "$T_DIR/www"
cp "$TEST_DATA/expo/node_exporter.prom" "$T_DIR/www/node.prom"
cp "$TEST_DATA/expo/bad/unquoted-label.prom" "$T_DIR/www/bad.prom"
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T_DIR/www" "$web" \
	>"$T_DIR/web.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$web/node.prom"
dead=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe ne]
type = scrape
url = http://scrapeuser:canary-S3cret@127.0.0.1:$web/node.prom
prefix = ne_
labels.job = node
labels.instance = web1

[probe bad]
type = scrape
url = http://127.0.0.1:$web/bad.prom

[probe big]
type = scrape
url = http://127.0.0.1:$web/node.prom
max_size = 4KiB

[probe gone]
type = scrape
url = http://127.0.0.1:$dead/metrics"
check "reeve check accepts the scrape probes" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
target="http://127.0.0.1:$web/node.prom"
sel="instance=\"web1\",job=\"node\",target=\"$target\""
check "every sample of the node_exporter output is taken" -- wait_for 15 bash -c \
	"curl -sf http://127.0.0.1:$port/metrics | grep -qx 'scrape_samples{$sel} 507'"
curl -sf "http://127.0.0.1:$port/metrics" > "$T_DIR/metrics.txt"
want=$(awk '$1 == "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}" { print $2 }' "$T_DIR/www/node.prom")
check "a counter keeps its value, gets the prefix and the labels" -- \
	grep -qx "ne_node_cpu_seconds_total{cpu=\"0\",instance=\"web1\",job=\"node\",mode=\"idle\"} $want" "$T_DIR/metrics.txt"
check "# TYPE counter stays a counter, gauge a gauge, summary parts counters" -- bash -c "
	grep -qx '# TYPE ne_node_cpu_seconds_total counter' '$T_DIR/metrics.txt' &&
	grep -qx '# TYPE ne_node_memory_MemFree_bytes gauge' '$T_DIR/metrics.txt' &&
	grep -qx '# TYPE ne_go_gc_duration_seconds_count counter' '$T_DIR/metrics.txt'"
check "the scraped HELP text is kept" -- grep -q '^# HELP ne_node_load1 1m load average.$' "$T_DIR/metrics.txt"
f="$T_DIR/data/rrd/ne_node_memory_MemFree_bytes/instance=web1/job=node.rrd"
wait_for 10 test -f "$f"
check "scraped series are stored (GAUGE) in RRD files" -- bash -c "rrdtool info '$f' | grep -q 'ds\[value\].type = \"GAUGE\"'"
check "the scrape is up" -- grep -qx "scrape_up{$sel} 1" "$T_DIR/metrics.txt"
check "a malformed target is rejected as a whole, naming target and line" -- wait_for 10 grep -q \
	"probe bad: http://127.0.0.1:$web/bad.prom: rejected: line 2: expected '\"' to start the value of label a" "$T_DIR/log"
check "the malformed target is down and none of its samples are kept" -- bash -c "
	curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m2.txt'
	grep -qx 'reeve_probe_up{probe=\"bad\",type=\"scrape\"} 0' '$T_DIR/m2.txt' &&
	grep -qx 'scrape_up{target=\"http://127.0.0.1:$web/bad.prom\"} 0' '$T_DIR/m2.txt' &&
	! grep -q '^m{' '$T_DIR/m2.txt'"
check "an oversized answer is refused" -- wait_for 10 grep -q \
	"probe big: http://127.0.0.1:$web/node.prom: the answer is larger than max_size (4096 bytes)" "$T_DIR/log"
check "an unreachable target is reported" -- wait_for 10 grep -q \
	"probe gone: http://127.0.0.1:$dead/metrics: .*[Cc]onnect" "$T_DIR/log"
check "the URL's credentials appear nowhere" -- bash -c "
	! grep -q 'canary-S3cret' '$T_DIR/log' '$T_DIR/m2.txt' && ! grep -rq 'canary-S3cret' '$T_DIR/data'"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
write_config "$T_DIR/bad.conf" "$port" "
[probe x]
type = scrape
url = ftp://127.0.0.1/metrics
prefix = 9bad
labels.bad-name = x"
"$REEVE" check -c "$T_DIR/bad.conf" > "$T_DIR/check.out" 2>&1
check "bad scrape settings are reported with file:line" -- bash -c "
	grep -q 'bad.conf:16: \[probe x\] url: only http:// and https:// URLs are supported' '$T_DIR/check.out' &&
	grep -q 'bad.conf:17: \[probe x\] prefix: \"9bad\" is not the start of a metric name' '$T_DIR/check.out' &&
	grep -q 'bad.conf:18: \[probe x\] labels.bad-name: \"bad-name\" is not a label name' '$T_DIR/check.out'"
diag "$(cat "$T_DIR/check.out")"
t_done
