#!/usr/bin/env bash
# rss.sh: resident memory of reeve running the example config (etc/reeve.conf) over time.
# Usage: bench/rss.sh [SECONDS] (default 60; the issue's figure is for 3600)
. "$(dirname "$0")/lib.inc"
duration=${1:-60}
case $duration in ''|*[!0-9]*) die "usage: bench/rss.sh [SECONDS]" ;; esac

bench_make reeve
find_probes
echo "== rss: reeve with etc/reeve.conf for ${duration}s ($(bench_machine))"

# The example config with data_dir in tmp, the probes found above, a free port, and without
# the [probe] sections of modules this tree does not have (reported by find_probes).
port=$(free_port)
awk -v data="$tmp/data" -v pdir="$PROBE_DIR" -v listen="127.0.0.1:$port" -v have=" ${PROBES[*]} " '
	/^\[/ { skip = 0 }
	/^\[probe / { t = $2; sub(/\]$/, "", t); skip = index(have, " " t " ") == 0 }
	skip { next }
	/^data_dir *=/ { print "data_dir = " data; next }
	/^;?plugin_dir *=/ { print "plugin_dir = " pdir; next }
	/^listen *=/ { print "listen = " listen; next }
	{ print }' "$top/etc/reeve.conf" >"$tmp/reeve.conf"
"$build/reeve" check -c "$tmp/reeve.conf" >/dev/null || die "the generated config is refused"
"$build/reeve" run -c "$tmp/reeve.conf" >"$tmp/reeve.log" 2>&1 &
pid=$!
bench_track "$pid"
wait_http "http://127.0.0.1:$port/readyz" 30

max=0 sum=0 n=0 first=0 last=0
end=$((SECONDS + duration))
while [ $SECONDS -lt "$end" ]; do
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/reeve.log" >&2; die "reeve exited"; }
	kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	# scrape now and then, as Prometheus would, so the /metrics body is part of the figure
	[ $((n % 15)) -eq 0 ] && { curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" || die "GET /metrics"; }
	[ "$first" -eq 0 ] && first=$kb
	last=$kb
	[ "$kb" -gt "$max" ] && max=$kb
	sum=$((sum + kb)) n=$((n + 1))
	sleep 1
done
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
series=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^reeve_series / { print $2 }')
files=$(find "$tmp/data/rrd" -name '*.rrd' | wc -l)
grep -E 'error|warn' "$tmp/reeve.log" >&2 || true
echo "  probes: ${PROBES[*]}; $series series, $files RRD files; $n samples of VmRSS"
awk -v mx="$max" -v f="$first" -v l="$last" -v avg="$((sum / n))" -v hwm="$hwm" -v d="$duration" 'BEGIN {
	printf "  VmRSS first %.2f MiB, last %.2f MiB, mean %.2f MiB, VmHWM %.2f MiB\n", f/1024, l/1024, avg/1024, hwm/1024
	printf "rss: max %.2f MiB over %ss (target < 10 MiB; collectd reference 12 MB = 11.4 MiB)\n", mx/1024, d }'
