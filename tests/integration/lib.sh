# lib.sh: shared helpers of the integration tests: TAP output, a temporary directory,
# starting and stopping the real daemon on loopback, polling instead of sleeping.
# Sourced by each tests/integration/*.sh; make check sets REEVE, PROBE_DIR, TEST_PROBE_DIR.
set -u

: "${REEVE:?REEVE must point at the reeve binary (make check sets it)}"
export REEVE_PLUGIN_DIR="${PROBE_DIR}:${TEST_PROBE_DIR}"
T_NUM=0
T_FAILED=0
T_PIDS=()
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/reeve-test.XXXXXX")

t_cleanup() {
	local p
	for p in "${T_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT

plan() { echo "1..$1"; }

# ok CONDITION-EXIT-STATUS DESCRIPTION: record a test point from the last command's status
t_result() {
	local rc=$1; shift
	T_NUM=$((T_NUM + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $T_NUM - $*"
	else
		echo "not ok $T_NUM - $*"
		T_FAILED=$((T_FAILED + 1))
	fi
}

# check DESCRIPTION -- COMMAND...: run the command, record its success
check() {
	local desc=$1; shift
	[ "$1" = "--" ] && shift
	local out
	if out=$("$@" 2>&1); then
		t_result 0 "$desc"
	else
		t_result 1 "$desc"
		echo "$out" | sed 's/^/#   /' | head -30
	fi
}

diag() { echo "$*" | sed 's/^/# /'; }

# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds
wait_for() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now. Taken below the kernel's
# ephemeral range: a port there may be the local end of some connection, which a connect
# test does not see but which makes bind fail with "address in use".
free_port() {
	local p low=32768
	read -r low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 11000 ] || low=32768
	while :; do
		p=$((10000 + RANDOM % (low - 10000)))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# write_config FILE PORT [EXTRA-SECTIONS]: a config with a 1 s interval in the test dir
write_config() {
	local file=$1 port=$2 extra=${3:-}
	cat > "$file" <<EOC
[reeve]
data_dir = $T_DIR/data
interval = 1s
log_level = info

[http]
listen = 127.0.0.1:$port
timeout = 5s

[store]
preset = compact
flush_timeout = 10s
$extra
EOC
}

# start_reeve CONFIG LOG: start the daemon in the background; sets REEVE_PID
start_reeve() {
	"$REEVE" run -c "$1" >"$2" 2>&1 &
	REEVE_PID=$!
	T_PIDS+=("$REEVE_PID")
}

# metrics PORT: print /metrics
metrics() { curl -sf --max-time 5 "http://127.0.0.1:$1/metrics"; }

# metric_value PORT 'name{labels}': print one sample's value
metric_value() { metrics "$1" | awk -v k="$2" '$1 == k { print $2 }'; }

# rrd_last FILE: print the time of the last update of an RRD file
rrd_last() { rrdtool lastupdate "$1" | awk 'NR == 3 { sub(":", "", $1); print $1 }'; }

# rrd_last_ge FILE T: true when FILE's last update is at T or later
rrd_last_ge() { local t; t=$(rrd_last "$1"); [ -n "$t" ] && [ "$t" -ge "$2" ]; }

# stop_reeve: SIGTERM and wait (at most 20 s); sets REEVE_STATUS
stop_reeve() {
	kill -TERM "$REEVE_PID" 2>/dev/null
	local end=$((SECONDS + 20))
	while kill -0 "$REEVE_PID" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.1; done
	if kill -0 "$REEVE_PID" 2>/dev/null; then
		REEVE_STATUS=timeout
		kill -KILL "$REEVE_PID"
	fi
	local rc=0
	wait "$REEVE_PID" 2>/dev/null || rc=$?
	[ "${REEVE_STATUS:-}" = timeout ] || REEVE_STATUS=$rc
}

# The directory of lib.sh and the test helpers beside it (png_check.py).
T_LIBDIR=$(dirname "$TEST_LIB")
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# chromium ARGS...: headless, a private profile, killed after 60 s; stderr (dbus and GPU
# warnings) kept in a file for diagnosis only
chromium() {
	timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T_DIR/chromium" --no-first-run --disable-extensions "$@" \
		2>>"$T_DIR/chromium.err"
}

# console_messages URL DOM: load URL in headless Chromium, write the DOM it built to the file
# DOM and print every message the page logged to its console (script errors, Content Security
# Policy violations, refused loads), one a line: nothing for a clean page. Chromium's own
# logging carries them (--enable-logging=stderr: lines with ":CONSOLE"), no DevTools client.
console_messages() {
	timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--user-data-dir="$T_DIR/chromium" --no-first-run --disable-extensions \
		--enable-logging=stderr --v=0 --dump-dom "$1" >"$2" 2>"$T_DIR/console.err"
	grep ':CONSOLE' "$T_DIR/console.err" | sed 's/^\[[^]]*\] //'
}

t_done() { exit $((T_FAILED > 0)); }

# ---- the comparisons with Prometheus (promql_compare.sh, promapi_compare.sh)

# start_fixture LOG: promql_fixture.py (curves that are known functions of time) on a free
# loopback port, each scrape logged to LOG; sets FX_PORT and FX_PID
start_fixture() {
	FX_PORT=$(free_port)
	/usr/bin/python3 -B "$(dirname "$TEST_LIB")/promql_fixture.py" "$FX_PORT" "$1" \
		>"$T_DIR/fixture.log" 2>&1 &
	FX_PID=$!
	T_PIDS+=("$FX_PID")
}

# start_prometheus TARGET-PORT: the Debian package's Prometheus on a free loopback port, with
# its own data directory in $T_DIR (never /var/lib/prometheus), scraping 127.0.0.1:TARGET-PORT
# every second as job "fx"; sets PROM_PORT and PROM_PID. Ready once /-/ready answers.
start_prometheus() {
	PROM_PORT=$(free_port)
	cat > "$T_DIR/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: fx
    static_configs:
      - targets: ['127.0.0.1:$1']
EOC
	/usr/bin/prometheus --config.file="$T_DIR/prometheus.yml" --storage.tsdb.path="$T_DIR/prom" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$T_DIR/prometheus.log" 2>&1 &
	PROM_PID=$!
	T_PIDS+=("$PROM_PID")
}

# fx_probe FX-PORT: the [probe fx] section that has reeve scrape the fixture as Prometheus
# does, with the same job and instance labels
fx_probe() {
	printf '[probe fx]\ntype = scrape\nurl = http://127.0.0.1:%s/metrics\nlabels.job = fx\nlabels.instance = 127.0.0.1:%s\n' \
		"$1" "$1"
}

# stop_prometheus: SIGTERM and wait (t_cleanup kills it if it does not end)
stop_prometheus() {
	kill -TERM "$PROM_PID" 2>/dev/null
	wait "$PROM_PID" 2>/dev/null
}
