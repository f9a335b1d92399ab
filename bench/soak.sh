#!/usr/bin/env bash
# soak.sh: reeve under a steady, realistic load for a long time, its RSS, open fds and CPU over
# time, and whether the RSS after the warm-up stays within 5%.
# Usage: bench/soak.sh [DURATION] [SAMPLE]   durations as 90s 10m 1h (default 60m and 60s)
#
# The load (bench/soak_load.py serves the scrape target and plays the clients):
#   - 4,000 series scraped every second from a fixture (the scrape probe), 1,000 pushed every
#     second (POST /api/v1/push), plus the cpu, memory and load probes;
#   - 100 rules at a 1 s evaluation: 60 alerts (30 on group averages that cross their
#     threshold every 1 to 4 minutes, so they fire, resolve and end up flapping; 10 on single
#     series, up to about 20 instances each coming and going; 10 always firing; 10 never) and 40
#     recording rules;
#   - a webhook receiver (bench/webhook_sink) taking the notifications of every alert;
#   - a report every 5 minutes (cron */5, period 1h, HTML + PDF + CSV, archived);
#   - GET /metrics every 5 s (Prometheus), 3 query_range calls over the last hour every 10 s
#     (a Grafana panel), the status page and /api/v1/alerts every 30 s.
# Warm-up: the registry fills its memory_window (5m here) of samples per series, so the RSS is
# judged from the end of the warm-up, max(1/6 of the run, memory_window + 1m) but at most half
# the run, to the end. Override with WARMUP=SECONDS.
. "$(dirname "$0")/lib.inc"

# seconds DURATION: 90 90s 10m 2h -> seconds
seconds() {
	case $1 in
	*[!0-9smh]* | '' | [smh]*) die "not a duration: $1 (use e.g. 90s 10m 1h)" ;;
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
duration=$(seconds "${1:-60m}")
sample=$(seconds "${2:-60s}")
[ "$duration" -ge 120 ] && [ "$sample" -ge 1 ] && [ "$sample" -le "$duration" ] ||
	die "usage: bench/soak.sh [DURATION >= 2m] [SAMPLE]"
window=300
warmup=${WARMUP:-$(( duration / 6 > window + 60 ? duration / 6 : window + 60 ))}
[ "$warmup" -le $((duration / 2)) ] || warmup=$((duration / 2))

bench_make reeve bench/webhook_sink probes/cpu.la probes/memory.la probes/load.la
echo "== soak: 5,000 series at 1 s, 100 rules, a report every 5 min, steady HTTP load for ${duration}s, a sample every ${sample}s ($(bench_machine))"

sink_port=$(free_port)
"$build/bench/webhook_sink" "$tmp/sink.log" "$sink_port" 2 &
bench_track $!
wait_http "http://127.0.0.1:$sink_port/"

port=$(free_port)
python3 "$top/bench/soak_load.py" --port-file "$tmp/fixture.port" --stats "$tmp/load.stats" \
	--reeve "http://127.0.0.1:$port" --scraped 4000 --pushed 1000 2>"$tmp/load.err" &
bench_track $!
for _ in $(seq 1 100); do [ -s "$tmp/fixture.port" ] && break; sleep 0.1; done
fixture_port=$(cat "$tmp/fixture.port") || die "soak_load.py did not start: $(cat "$tmp/load.err")"

{
	cat <<EOC
[reeve]
data_dir = $tmp/data
interval = 1s
log_level = info
memory_window = 5m
plugin_dir = $build/probes/.libs

[http]
listen = 127.0.0.1:$port

[store]
preset = compact

[probe cpu]
type = cpu
[probe memory]
type = memory
[probe load]
type = load

[probe fixture]
type = scrape
url = http://127.0.0.1:$fixture_port/metrics

[notifier sink]
type = webhook
url = http://127.0.0.1:$sink_port/hook

[route default]
notify = sink
group_by = alertname
group_wait = 10s
group_interval = 1m
repeat_interval = 10m

[report soak]
title = Soak, last hour
schedule = */5 * * * *
timezone = UTC
period = 1h
formats = html, pdf, csv
kpi.shop_rate = soak_shop_rate_s00
kpi.client_avg = soak_client_avg_c1
kpi.pushed = avg(soak_push_value{client="c2"})
graph.groups = soak_group_max_g00
graph.group07 = soak_value{group="g07",idx=~"3[0-9][0-9]7"}
title.group07 = Group 07, its top 13
availability.fixture = scrape_up
alerts = yes
EOC
	for g in $(seq 0 29); do
		printf '\n[alert group_high_g%02d]\nexpr = avg(soak_value{group="g%02d"}) > 0.5\n' "$g" "$g"
		printf 'recover = avg(soak_value{group="g%02d"}) < 0.45\nfor = 10s\n' "$g"
		printf 'annotations.summary = group g%02d averages {{ value }}\n' "$g"
	done
	for g in $(seq 30 39); do
		printf '\n[alert series_high_g%02d]\nexpr = soak_value{group="g%02d"} > 0.95\n' "$g" "$g"
		printf 'annotations.summary = {{ labels.idx }} at {{ value }}\n'
	done
	for c in $(seq 0 9); do
		printf '\n[alert client_busy_c%d]\nexpr = max(soak_push_value{client="c%d"}) > 1\n' "$c" "$c"
		printf 'severity = critical\n'
	done
	for s in $(seq 0 9); do
		printf '\n[alert shop_stalled_s%02d]\nexpr = sum(rate(soak_requests_total{shop="s%02d"}[1m])) == 0\n' "$s" "$s"
	done
	for s in $(seq 0 19); do
		printf '\n[record soak_shop_rate_s%02d]\nexpr = sum(rate(soak_requests_total{shop="s%02d"}[1m]))\n' "$s" "$s"
	done
	for c in $(seq 0 9); do
		printf '\n[record soak_client_avg_c%d]\nexpr = avg(avg_over_time(soak_push_value{client="c%d"}[5m]))\n' "$c" "$c"
	done
	for g in $(seq 0 9); do
		printf '\n[record soak_group_max_g%02d]\nexpr = max(soak_value{group="g%02d"})\n' "$g" "$g"
	done
} >"$tmp/reeve.conf"
rules=$(grep -c '^\[\(alert\|record\) ' "$tmp/reeve.conf")
[ "$rules" = 100 ] || die "the generated config has $rules rules, not 100"
"$build/reeve" check -c "$tmp/reeve.conf" >"$tmp/check" 2>&1 || { cat "$tmp/check" >&2; die "reeve check"; }

"$build/reeve" run -c "$tmp/reeve.conf" >"$tmp/reeve.log" 2>&1 &
pid=$!
bench_track $pid
wait_http "http://127.0.0.1:$port/readyz" 60
hz=$(getconf CLK_TCK)

# cpu_ticks: utime + stime of reeve (fields 14 and 15 of /proc/PID/stat; its comm has no space)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
# stat KEY: a counter of the load generator's last stats line (0 if not there yet)
stat() { tr ' ' '\n' <"$tmp/load.stats" 2>/dev/null | awk -F= -v k="$1" '$1 == k { v = $2 } END { print v == "" ? 0 : v }'; }

printf '%8s %9s %5s %6s %7s %6s %9s %8s\n' elapsed rss_MiB fds cpu_% series queue http_ok http_err
t0=$(date +%s.%N) c0=$(cpu_ticks)
tprev=$t0 cprev=$c0
: >"$tmp/samples"
next=$sample
while :; do
	now=$(date +%s.%N)
	el=$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%d", a - b }')
	[ "$el" -ge "$next" ] || { sleep 1; [ "$el" -lt "$duration" ] && continue; }
	kill -0 "$pid" 2>/dev/null || { tail -20 "$tmp/reeve.log" >&2; die "reeve exited"; }
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
	c=$(cpu_ticks)
	cpu=$(awk -v c="$c" -v cp="$cprev" -v t="$now" -v tp="$tprev" -v hz="$hz" 'BEGIN { printf "%.1f", 100 * (c - cp) / hz / (t - tp) }')
	ok=0 err=0
	for k in push metrics grafana status; do
		ok=$((ok + $(stat ${k}_ok))) err=$((err + $(stat ${k}_err)))
	done
	printf '%8s %9.1f %5d %6s %7s %6s %9d %8d\n' "$(printf '%d:%02d' $((el / 60)) $((el % 60)))" \
		"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$fds" "$cpu" "$(stat series)" "$(stat queue)" "$ok" "$err"
	echo "$el $rss $fds $cpu" >>"$tmp/samples"
	[ -f "$tmp/smaps.warm" ] || [ "$el" -lt "$warmup" ] || cp "/proc/$pid/smaps" "$tmp/smaps.warm"
	tprev=$now cprev=$c
	next=$((next + sample))
	[ "$el" -lt "$duration" ] || break
done

curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/metrics.end" || die "GET /metrics at the end"
m() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "?" }' "$tmp/metrics.end"; }
echo "  reeve at the end: $(m reeve_series) series, $(m reeve_store_files) files," \
	"store updates $(m reeve_store_updates_total), errors $(m reeve_store_errors_total), dropped $(m reeve_store_dropped_total);" \
	"rule evaluations $(m reeve_rule_evaluations_total), failures $(m reeve_rule_evaluation_failures_total), $(m reeve_alerts_firing) alerts firing;" \
	"notifications $(m reeve_notifications_total) made, $(m 'reeve_notifications_sent_total{receiver="sink"}') sent;" \
	"reports $(m reeve_reports_runs_total) runs, $(m reeve_reports_failures_total) failed; HTTP $(m reeve_http_requests_total) requests, $(m reeve_http_errors_total) errors"
echo "  load: $(cat "$tmp/load.stats"); webhook receiver got $(wc -l <"$tmp/sink.log") requests;" \
	"$(find "$tmp/data/reports" -type f 2>/dev/null | wc -l) archived report files"
echo "  log lines by level: $(sed -n 's/^.* reeve\[\([a-z]*\)\]: .*/\1/p' "$tmp/reeve.log" | sort | uniq -c | awk '{ printf "%s %s  ", $2, $1 }')"
{ grep -E 'reeve\[(error|warning)\]' "$tmp/reeve.log" || true; } | sed 's/^[0-9-]* [0-9:]* //' | sort | uniq -c | sort -rn | head -5 | sed 's/^/  log: /'
if [ -s "$tmp/load.err" ]; then sed 's/^/  load: /' "$tmp/load.err" | head -5; fi
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
cp "/proc/$pid/smaps" "$tmp/smaps.end"
# where the resident memory is: the heap (brk), anonymous mappings (thread stacks, malloc's
# per-thread arenas, large allocations), files (code, libraries, mmap'd RRD files)
smaps() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { kind = NF < 6 ? "anon" : $6 ~ /^\[heap\]/ ? "heap" : $6 ~ /^\[/ ? "other" : "file"; n[kind]++ }
		/^Rss:/ { r[kind] += $2 }
		END { printf "heap %.1f MiB, anonymous %.1f MiB in %d mappings, files %.1f MiB", r["heap"] / 1024, r["anon"] / 1024, n["anon"], r["file"] / 1024 }' "$1"
}
echo "  RSS at warm-up: $(smaps "$tmp/smaps.warm")"
echo "  RSS at the end: $(smaps "$tmp/smaps.end")"
if [ -n "${SOAK_KEEP:-}" ]; then
	mkdir -p "$SOAK_KEEP"
	cp "$tmp/reeve.conf" "$tmp/reeve.log" "$tmp/samples" "$tmp/smaps.warm" "$tmp/smaps.end" "$tmp/metrics.end" "$SOAK_KEEP/"
	echo "  config, log, samples, smaps and the last /metrics kept in $SOAK_KEEP"
fi

# Summary: RSS at the first sample at or after the warm-up against the last one; the slope of a
# least-squares line through the samples after the warm-up says whether it still grows.
awk -v w="$warmup" -v hwm="$hwm" -v c0="$c0" -v c="$(cpu_ticks)" -v hz="$hz" -v d="$duration" '
	{ el[NR] = $1; rss[NR] = $2; fd[NR] = $3; cpu[NR] = $4 }
	END {
		for (i = 1; i <= NR; i++) if (el[i] >= w) { k = i; break }
		if (!k) k = NR
		for (i = k; i <= NR; i++) {
			n++; sx += el[i]; sy += rss[i]; sxx += el[i] * el[i]; sxy += el[i] * rss[i]
			if (fd[i] > fmax || fmax == "") fmax = fd[i]
			if (fd[i] < fmin || fmin == "") fmin = fd[i]
			if (rss[i] > rmax) rmax = rss[i]
			cw += cpu[i]
		}
		slope = n > 1 && n * sxx - sx * sx > 0 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) * 3600 : 0
		g = 100 * (rss[NR] - rss[k]) / rss[k]
		printf "  warm-up %ds: RSS %.1f MiB at %ds, %.1f MiB at the end (%ds), max after warm-up %.1f MiB, VmHWM %.1f MiB; trend after warm-up %+.2f MiB/h\n",
			w, rss[k] / 1024, el[k], rss[NR] / 1024, el[NR], rmax / 1024, hwm / 1024, slope / 1024
		printf "  fds: %d at warm-up, %d at the end, %d to %d after warm-up: %s\n", fd[k], fd[NR], fmin, fmax,
			fmax - fmin <= 5 ? "stable" : "NOT stable"
		printf "  CPU: mean %.1f%% of one core over the run, %.1f%% after warm-up\n",
			100 * (c - c0) / hz / el[NR], cw / n
		printf "soak: RSS growth after warm-up %+.1f%% over %ds (target < 5%%): %s; fds %s; mean CPU %.1f%%\n",
			g, el[NR] - el[k], g < 5 ? "met" : "MISSED", fmax - fmin <= 5 ? "stable" : "NOT stable", 100 * (c - c0) / hz / el[NR]
	}' "$tmp/samples"
