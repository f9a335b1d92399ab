#!/usr/bin/env bash
# promql_compare.sh: reeve's expressions against real Prometheus. A fixture endpoint
# (promql_fixture.py) serves counters and gauges that follow known functions of time; the
# Debian package's Prometheus and the reeve daemon both scrape it every second; reeve
# evaluates each expression of the table below as a [record cmp_N] rule every 1.25 s, and
# once both hold more than 40 s of data, the results of one of reeve's rounds (read from
# /metrics) are compared with Prometheus's answers to the same expressions at the same time
# (/api/v1/query?time=T) by promql_compare.py: the same label sets, values within the
# tolerance of each line. docs/expressions.md, "Compared with Prometheus", has the results.
. "$TEST_LIB"
here=$(dirname "$TEST_LIB")

# The table: NAME REL ABS CLASS EXPR. Values agree when |reeve - prometheus| <=
# ABS + REL * max(|reeve|, |prometheus|). The two daemons scrape the fixture at different
# moments (up to 1 s apart, the phase of their schedules), so they hold different samples
# of the same curves; the tolerances are what that phase can explain, nothing more:
#   rate  0.02 relative: rates of counters growing at constant rates. Extrapolation makes
#         them exact in theory; the scrape timestamps are taken a few ms away from the
#         moment the fixture computes the value, which the 2 % covers.
#   irate 0.1 relative: the same error over one 1 s step instead of 20 s (up to 0.1 s of
#         delay in answering on a loaded machine).
#   piece 0.04 relative: fx_bytes_total changes its rate inside the window; extrapolating
#         from the average rate of differently placed samples moves the result by up to
#         (150 - 100)/s x 1 s / 28 s, about 1.5 % of 135/s, twice that kept as margin.
#   reset 5 absolute on increase(): the part of a counter's growth between its last sample
#         before the reset and the reset itself is lost, 4/s x up to 1 s (+ 25 % margin).
#   value 0.25 absolute: a gauge's value at a sample: the steepest gauge (room c) moves
#         0.21/s, and the samples of the two are up to 1 s apart.
#   ratio 0.001 absolute: the ratio of two raw counters at the latest sample moves by at
#         most 0.0005/s.
#   exact 0 0: counts, resets, changes, bool results, label sets (always exact), constants.
# Counts of points (count_over_time, sum_over_time of a constant, changes) are exact because
# the compared round is chosen so that both daemons' scrapes are 0.1 s or more away from
# the windows' edges (the fixture logs every scrape) and the step gauge's steps 1.5 s or more
# (see "snapshot" below).
# Not compared: time() (a scalar, and reeve's rules need a vector); holt_winters_anomaly
# (reeve's own); absent_over_time needs a series absent over a range, which both give as
# absent() does; offset (the same code path as the window, but it needs history older than
# this test's minute).
cat > "$T_DIR/table" <<'EOT'
cmp_1  0.02 0      rate  rate(fx_requests_total[20s])
cmp_2  0.1  0      irate irate(fx_requests_total[10s])
cmp_3  0.02 0      rate  increase(fx_requests_total{code="200"}[20s])
cmp_4  0.04 0      piece rate(fx_bytes_total[30s])
cmp_5  0.02 5      reset increase(fx_jobs_total[30s])
cmp_6  0    0      exact resets(fx_jobs_total[30s])
cmp_7  0    0      exact changes(fx_queue_length[30s])
cmp_8  0.02 0.001  rate  delta(fx_temperature_celsius{room=~"a|b"}[20s])
cmp_9  0.02 0.0001 rate  deriv(fx_temperature_celsius{room=~"a|b"}[20s])
cmp_10 0.02 0.001  rate  predict_linear(fx_temperature_celsius{room=~"a|b"}[20s], 60)
cmp_11 0    0.25   value avg_over_time(fx_temperature_celsius[20s])
cmp_12 0    0.25   value min_over_time(fx_temperature_celsius[20s])
cmp_13 0    0.25   value max_over_time(fx_temperature_celsius[20s])
cmp_14 0    0.25   value quantile_over_time(0.9, fx_temperature_celsius[20s])
cmp_15 0    0.25   value quantile_over_time(0.25, fx_temperature_celsius[20s])
cmp_16 0    0.25   value last_over_time(fx_temperature_celsius[10s])
cmp_17 0    0      exact count_over_time(fx_temperature_celsius[20s])
cmp_18 0    0      exact sum_over_time(fx_limit_celsius[20s])
cmp_19 0    0.25   value abs(fx_temperature_celsius - 21)
cmp_20 0    0.25   value clamp_min(fx_temperature_celsius, 20)
cmp_21 0    0.25   value clamp_max(fx_temperature_celsius, 20)
cmp_22 0.02 0      rate  rate(fx_requests_total{code="500"}[20s]) / ignoring(code) rate(fx_requests_total{code="200"}[20s])
cmp_23 0    0.001  ratio fx_requests_total{code="500"} / on(path, job, instance) fx_requests_total{code="200"}
cmp_24 0    0.25   value fx_temperature_celsius > ignoring(kind) fx_limit_celsius
cmp_25 0    0      exact fx_temperature_celsius > bool 20
cmp_26 0    0.25   value fx_temperature_celsius >= 23.5
cmp_27 0    0.25   value fx_temperature_celsius and fx_temperature_celsius > 20
cmp_28 0    0.25   value fx_temperature_celsius or fx_humidity_ratio
cmp_29 0    0.25   value fx_temperature_celsius unless on(room) fx_limit_celsius < 15
cmp_30 0.02 0      rate  sum by (path) (rate(fx_requests_total[20s]))
cmp_31 0.02 0      rate  avg without (code) (rate(fx_requests_total[20s]))
cmp_32 0    0.25   value max by (job) (fx_temperature_celsius)
cmp_33 0    0.25   value min without (room) (fx_temperature_celsius)
cmp_34 0    0      exact count by (code) (fx_requests_total)
cmp_35 0    0      exact sum(fx_limit_celsius)
cmp_36 0    0      exact absent(fx_missing{job="fx"})
cmp_37 0    0      exact absent(fx_temperature_celsius)
cmp_38 0.02 0      rate  rate(fx_requests_total[20s]) * 60 - 1
cmp_39 0    0.15   value (fx_temperature_celsius + 5) * 2 / 4
cmp_40 0    0      exact rate(fx_requests_total[20s]) > bool 4
EOT
n=$(grep -c '^cmp_' "$T_DIR/table")
plan $((n + 4))

port=$(free_port)
start_fixture "$T_DIR/scrapes.log"
fx=$FX_PORT
check "the fixture serves /metrics" -- wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$fx/metrics"
start_prometheus "$fx"
pport=$PROM_PORT

# reeve: the same target with Prometheus's job and instance labels, one rule a line; the
# rules cmp_t0 (first) and cmp_tz (last) record the round's time: a snapshot of /metrics in
# which both are equal holds every rule's result of that one round
rules="
$(fx_probe "$fx")

[record cmp_t0]
expr = fx_humidity_ratio * 0 + time()
eval_interval = 1250ms
"
while read -r name _ _ _ expr; do
	rules+="
[record $name]
expr = $expr
eval_interval = 1250ms
"
done < "$T_DIR/table"
rules+="
[record cmp_tz]
expr = fx_humidity_ratio * 0 + time()
eval_interval = 1250ms"
write_config "$T_DIR/reeve.conf" "$port" "$rules"
"$REEVE" check -c "$T_DIR/reeve.conf" >"$T_DIR/check.out" 2>&1
check "reeve check accepts every expression" -- bash -c "grep -qx 'configuration OK' '$T_DIR/check.out'"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
check "Prometheus is ready, both scrape the fixture" -- wait_for 30 bash -c "
	curl -sf -o /dev/null http://127.0.0.1:$pport/-/ready &&
	grep -q ' Prometheus\$' '$T_DIR/scrapes.log' && grep -q ' reeve-scrape\$' '$T_DIR/scrapes.log'"
# the fixture's clock starts now: T = 0
curl -sf -o /dev/null "http://127.0.0.1:$fx/start"
start=$(awk '$2 == "start" { print $1 }' "$T_DIR/scrapes.log")

# snapshot: poll /metrics for one round of reeve's rules that is whole in one answer (cmp_t0
# = cmp_tz), lies 41.5 to 48.5 s after T = 0 (the longest window is 30 s; the counter reset
# at T = 20 lies inside the windows and the queue steps, every 10 s, 1.5 s or more from
# their edges), and whose time is 0.1 s or more away from every scrape of both daemons
# (modulo 1 s: windows are whole seconds, so all their edges have the phase of T). The rules
# run every 1.25 s against scrapes every 1 s, so rounds take four phases against the
# scrapes: one of them is always clear of both daemons' scrapes. Without this, a scrape
# taken at the very moment of a window's edge is in one daemon's window and not in the
# other's, and counts differ by one.
phase_ok() { # T: the distance of each daemon's scrapes of the last 30 s to T's phase
	awk -v t="$1" '$2 == "Prometheus" || $2 == "reeve-scrape" {
		if ($1 < t - 30 || $1 > t + 1) next
		d = (t - $1) - int(t - $1); if (d < 0) d += 1; if (d > 0.5) d = 1 - d
		if (!($2 in m) || d < m[$2]) m[$2] = d
	} END { printf "reeve %.3f s, Prometheus %.3f s\n", m["reeve-scrape"], m["Prometheus"]
		exit !(("reeve-scrape" in m) && ("Prometheus" in m) && m["reeve-scrape"] >= 0.1 &&
		    m["Prometheus"] >= 0.1) }' "$T_DIR/scrapes.log"
}
snap() {
	metrics "$port" > "$T_DIR/snap" || return 1
	local a b
	a=$(awk '$1 ~ /^cmp_t0[{ ]/ { print $2 }' "$T_DIR/snap")
	b=$(awk '$1 ~ /^cmp_tz[{ ]/ { print $2 }' "$T_DIR/snap")
	[ -n "$a" ] && [ "$a" = "$b" ] || return 1
	[ "$a" != "$last" ] || return 1
	last=$a
	awk -v t="$a" -v s="$start" 'BEGIN { exit !(t - s >= 41.5 && t - s <= 48.5) }' || return 1
	phase_ok "$a" >/dev/null || return 1
	T=$a
}
T=
last=
end=$((SECONDS + 70))
while [ $SECONDS -lt $end ]; do
	snap && break
	sleep 0.2
done
check "a whole round of reeve's results, 41.5 to 48.5 s into the data, clear of the scrapes" -- test -n "$T"
[ -n "$T" ] || { diag "$(tail -20 "$T_DIR/log")"; t_done; }
diag "round at T = $(awk -v t="$T" -v s="$start" 'BEGIN { printf "%.3f", t - s }') s;" \
	"closest scrapes to its phase: $(phase_ok "$T")"
# Prometheus's scrapes at or before T must all be stored before it is asked
wait_for 10 awk -v t="$T" 'BEGIN { "date +%s.%N" | getline n; exit !(n > t + 2) }'
/usr/bin/python3 -B "$here/promql_compare.py" "$T_DIR/table" "$T_DIR/snap" \
	"http://127.0.0.1:$pport" "$T" > "$T_DIR/results" 2>&1
while IFS=$'\t' read -r status what detail; do
	if [ "$status" = ok ]; then
		t_result 0 "$what"
		diag "  $detail"
	else
		t_result 1 "$what"
		diag "  ${detail:-$status}"
	fi
done < "$T_DIR/results"
stop_reeve
stop_prometheus
t_done
