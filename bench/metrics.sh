#!/usr/bin/env bash
# metrics.sh: requests/s and p99 latency of GET /metrics (wrk, loopback) for the real reeve
# daemon, a minimal libmicrohttpd server sending the same bytes from memory (the limit), and
# prometheus-node-exporter. Usage: bench/metrics.sh [DURATION] (wrk -d, default 5s)
. "$(dirname "$0")/lib.inc"
duration=${1:-5s}

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
exporter=/usr/bin/prometheus-node-exporter
[ -x "$exporter" ] || die "$exporter is not installed (apt-get install prometheus-node-exporter)"
bench_make reeve bench/mhd_static
find_probes
echo "== metrics: GET /metrics with wrk -t2 -c16 -d$duration --latency ($(bench_machine))"

# run wrk on a URL; prints "REQS P99_MS"
run_wrk() {
	local out=$tmp/wrk.out
	wrk -t2 -c16 -d"$duration" --latency "$1" >"$out" 2>&1 || { cat "$out" >&2; die "wrk $1"; }
	if grep -q 'Non-2xx\|Socket errors' "$out"; then cat "$out" >&2; die "errors from $1"; fi
	awk '
		function ms(v) {
			if (v ~ /us$/) return v * 0.001; if (v ~ /ms$/) return v + 0
			if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v
		}
		/Requests\/sec:/ { r = $2 }
		$1 == "99%" { p = ms($2) }
		END { if (r == "" || p == "") exit 1; printf "%.0f %.3f\n", r, p }' "$out" ||
		{ cat "$out" >&2; die "cannot read the wrk output for $1"; }
}

# (a) the real daemon with the system probes
rport=$(free_port)
mkdir -p "$tmp/data"
cat >"$tmp/reeve.conf" <<CONF
[reeve]
data_dir = $tmp/data
interval = 10s
plugin_dir = $PROBE_DIR
log_level = warning
[http]
listen = 127.0.0.1:$rport
CONF
for p in "${PROBES[@]}"; do printf '\n[probe %s]\ntype = %s\n' "$p" "$p" >>"$tmp/reeve.conf"; done
"$build/reeve" run -c "$tmp/reeve.conf" >"$tmp/reeve.log" 2>&1 &
bench_track $!
wait_http "http://127.0.0.1:$rport/readyz" 30
curl -sf -o "$tmp/metrics.txt" "http://127.0.0.1:$rport/metrics" || die "GET /metrics"
[ -s "$tmp/metrics.txt" ] || die "empty /metrics"
read -r reeve_rps reeve_p99 < <(run_wrk "http://127.0.0.1:$rport/metrics")

# (b) the same bytes from memory with the same MHD flags: the limit
sport=$(free_port)
"$build/bench/mhd_static" "$tmp/metrics.txt" "$sport" 2 2>"$tmp/static.log" &
bench_track $!
wait_http "http://127.0.0.1:$sport/metrics"
curl -sf "http://127.0.0.1:$sport/metrics" | cmp -s - "$tmp/metrics.txt" || die "mhd_static serves other bytes"
read -r static_rps static_p99 < <(run_wrk "http://127.0.0.1:$sport/metrics")

# (c) prometheus-node-exporter
nport=$(free_port)
"$exporter" --web.listen-address="127.0.0.1:$nport" >"$tmp/node.log" 2>&1 &
bench_track $!
wait_http "http://127.0.0.1:$nport/metrics"
nbytes=$(curl -sf "http://127.0.0.1:$nport/metrics" | wc -c)
read -r node_rps node_p99 < <(run_wrk "http://127.0.0.1:$nport/metrics")

grep -E 'error|warn' "$tmp/reeve.log" >&2 || true
printf '  %-34s %8s req/s  p99 %8s ms  body %s bytes\n' \
	"reeve (${#PROBES[@]} probes)" "$reeve_rps" "$reeve_p99" "$(wc -c <"$tmp/metrics.txt")" \
	"mhd_static (same bytes, same flags)" "$static_rps" "$static_p99" "$(wc -c <"$tmp/metrics.txt")" \
	"prometheus-node-exporter" "$node_rps" "$node_p99" "$nbytes"
awk -v a="$reeve_rps" -v b="$static_rps" -v c="$node_rps" 'BEGIN {
	printf "metrics: reeve %.0f req/s, limit %.0f req/s, ratio %.2f (target >= 0.8); node_exporter %.0f req/s, reeve/node_exporter %.1fx\n", a, b, a / b, c, a / c }'
