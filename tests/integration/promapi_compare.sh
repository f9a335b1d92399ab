#!/usr/bin/env bash
# promapi_compare.sh: reeve's Prometheus HTTP API against a real Prometheus's, over the same
# data. The fixture endpoint (promql_fixture.py: counters and gauges that follow known
# functions of time) is scraped every second by the Debian package's Prometheus and by
# reeve's scrape probe; once both hold ~50 s of it, both are asked the same questions, with
# promtool (query instant, query range, query series, query labels) as a user would and with
# curl for the raw JSON of /api/v1/query_range and /api/v1/labels, and the answers must
# agree: the same label sets (metric names included), the same times (a range's exactly
# start + k * step, as Prometheus gives them), the same number of points, values within the
# tolerances below. Then the fixture stops, and both must drop the series the same way.
# docs/http-api.md, "Agreement with Prometheus", says the same for users.
# shellcheck disable=SC1090 # lib.sh, at a path make check gives
. "$TEST_LIB"
here=$(dirname "$TEST_LIB")

# The questions: CLASS REL ABS EXPR. Values agree when |reeve - prometheus| <=
# ABS + REL * max(|reeve|, |prometheus|). The two daemons scrape the fixture at different
# moments (their schedules have different phases, up to 1 s apart), so at a given time each
# holds a different sample of the same curves; the tolerances are what that phase can
# explain, nothing more:
#   value 0.25 absolute: a gauge's latest sample, or the average of its samples over a
#         window: the steepest gauge (room c, 18 + 2 sin(2 pi T / 60)) moves 0.21/s, and the
#         samples of the two are up to 1 s apart (0.25 leaves 0.04 for a scrape that is late).
#   rate  0.02 relative: rates of counters growing at constant rates; extrapolation to the
#         window's edges makes them exact in theory whatever the phase; the scrape's
#         timestamp is taken a few ms before the fixture computes the value, which 2 % covers.
#         A ratio of two such rates: the same samples in both, so the same 2 %.
#   exact 0: counts of series.
# No window reaches back before the fixture's clock starts (T = 0): the ranges begin at
# T = 21.25 and the windows are 20 s. Before T = 0 the curves stand still, and each daemon
# holds however many samples of that it scraped before the test started the clock, which
# changes an average or a rate over a window by far more than the phase would. The comparison filter keeps the same series all along: rooms b and c stay above
# their limits, room a below (until T = 100).
cat > "$T_DIR/table" <<'EOT'
value 0    0.25 fx_temperature_celsius
rate  0.02 0    rate(fx_requests_total[20s])
rate  0.02 0    sum by (path) (rate(fx_requests_total[20s]))
value 0    0.25 avg_over_time(fx_temperature_celsius[20s])
value 0    0.25 fx_temperature_celsius > ignoring(kind) fx_limit_celsius
rate  0.02 0    rate(fx_requests_total{code="500"}[20s]) / ignoring(code) rate(fx_requests_total{code="200"}[20s])
exact 0    0    count(fx_temperature_celsius)
exact 0    0    count by (code) (fx_requests_total)
EOT
n=$(grep -c . "$T_DIR/table")
labels="room code path queue kind job instance"
plan $((3 + 5 * n + 2 + $(wc -w <<<"$labels") + 1 + 1 + 3))

# judge DESCRIPTION -- COMMAND...: a test point from the command's status, its last line of
# output (what was compared, or what differs) as a diagnostic
judge() {
	local desc=$1 out rc=0; shift
	[ "$1" = "--" ] && shift
	out=$("$@" 2>&1) || rc=1
	t_result "$rc" "$desc"
	diag "  $(tail -5 <<<"$out")"
}
ask() { /usr/bin/python3 -B "$here/promapi_compare.py" "$1" "$prom" "$reeve" "${@:2}"; }
# at T: the time T seconds after the fixture's clock started, with 3 decimals
at() { awk -v s="$start" -v d="$1" 'BEGIN { printf "%.3f", s + d }'; }
# after T: true once the clock is past T (an epoch time)
after() { awk -v t="$1" 'BEGIN { "date +%s.%N" | getline n; exit !(n > t) }'; }

start_fixture "$T_DIR/scrapes.log"
check "the fixture serves /metrics" -- wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$FX_PORT/metrics"
start_prometheus "$FX_PORT"
prom="http://127.0.0.1:$PROM_PORT"
port=$(free_port)
reeve="http://127.0.0.1:$port"
write_config "$T_DIR/reeve.conf" "$port" "$(fx_probe "$FX_PORT")"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
check "Prometheus and reeve are ready, both scrape the fixture" -- wait_for 30 bash -c "
	curl -sf -o /dev/null $prom/-/ready && curl -sf -o /dev/null $reeve/healthz &&
	grep -q ' Prometheus\$' '$T_DIR/scrapes.log' && grep -q ' reeve-scrape\$' '$T_DIR/scrapes.log'"
# the fixture's clock starts now: T = 0
curl -sf -o /dev/null "http://127.0.0.1:$FX_PORT/start"
start=$(awk '$2 == "start" { print $1 }' "$T_DIR/scrapes.log")

# The questions are asked at T = 45.5 (instant) and over T = 22 to 46 every 1 s (the scrape
# interval) and T = 21.25 to 47 every 5 s (neither start nor end a multiple of the step: the
# times must still be start + k * step, the last 46.25): both have data there, and 1 s is
# the resolution of what both hold, so reeve raises neither step. Prometheus must have
# stored its scrapes up to the end: asked 2 s after it.
t=$(at 45.5)
r1=("$(at 22)" "$(at 46)" 1)
r5=("$(at 21.25)" "$(at 47)" 5)
check "50 s of data" -- wait_for 90 after "$(at 49)"
while read -r -u 3 _ rel abs expr; do
	judge "instant: $expr" -- ask instant "$t" "$rel" "$abs" "$expr"
	judge "range, step 1s: $expr" -- ask range "${r1[@]}" "$rel" "$abs" "$expr"
	judge "range, step 5s: $expr" -- ask range "${r5[@]}" "$rel" "$abs" "$expr"
	judge "query_range JSON, step 1s: $expr" -- ask json "${r1[@]}" "$rel" "$abs" "$expr"
	judge "query_range JSON, step 5s: $expr" -- ask json "${r5[@]}" "$rel" "$abs" "$expr"
done 3< "$T_DIR/table"
judge "series: the fixture's series" -- ask series '{__name__=~"fx_.+"}'
judge "series: two --match are a union" -- ask series fx_temperature_celsius 'fx_requests_total{code="500"}'
for l in $labels; do
	judge "labels: the values of $l" -- ask labels "$l"
done
judge "/api/v1/labels: the label names of the fixture's series" -- ask labelnames '{__name__=~"fx_.+"}'

# The edge where one has data and the other not yet: Prometheus and reeve began scraping at
# different moments, so over a range that begins before both, the number of points differs;
# each one's series must begin at the first step at or after its own first sample (a point
# at every step from there: the 5 minutes of lookback of an instant selector). The range:
# from 4 s before the first scrape of either to T = 5, when both had data.
first=$(awk '$2 == "Prometheus" || $2 == "reeve-scrape" { print int($1) - 4; exit }' "$T_DIR/scrapes.log")
judge "query_range JSON from before the first scrapes: each begins at its first sample" -- \
	ask edge "$first" "$(at 5)" 1 0 0.25 fx_temperature_celsius

# Staleness: when the fixture stops, the next scrape of each fails, and each marks the series
# stale at that scrape's time (Prometheus with stale markers, reeve with the series' stale
# time): no point at or after it, in a range or an instant query, however recent the last.
stopped=$(date +%s)
kill -TERM "$FX_PID"
check "both see the fixture down" -- wait_for 30 bash -c "
	curl -sf '$prom/api/v1/query?query=up' | grep -q '\"value\":\[[0-9.]*,\"0\"\]' &&
	curl -sf '$reeve/api/v1/query?query=scrape_up' | grep -q '\"value\":\[[0-9.]*,\"0\"\]'"
now=$(date +%s.%N | cut -c1-14)
judge "instant, after: no series in either" -- ask empty "$now" fx_temperature_celsius
judge "query_range JSON over the stop: each ends at the last step before its failed scrape" -- \
	ask stale "$((stopped - 8))" "$now" 1 scrape_up fx_temperature_celsius
stop_reeve
stop_prometheus
t_done
