#!/usr/bin/env bash
# report.sh: a weekly report with 20 graphs and a KPI table over 200 series (bench/report),
# against the bare rrd_graph calls of the same graphs in the same run; target: the report's
# overhead beyond its graphs under 25%.
# Usage: bench/report.sh [ROUNDS] (default 3)
. "$(dirname "$0")/lib.inc"
rounds=${1:-3}

bench_make bench/report
echo "== report: 20 graphs + 200 KPI rows vs bare rrd_graph ($(bench_machine))"
"$build/bench/report" "$tmp" "$rounds" || die "bench/report"
