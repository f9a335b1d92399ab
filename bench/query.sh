#!/usr/bin/env bash
# query.sh: query_range over a day of 1,000 series at full resolution (bench/query): the
# query and the HTTP answer of /api/v1/query_range against the bare rrd_fetch_r of the same
# files in the same run; target within 1.5 times.
# Usage: bench/query.sh [ROUNDS] (default 5)
. "$(dirname "$0")/lib.inc"
rounds=${1:-5}

bench_make bench/query
echo "== query: query_range over a day of 1,000 series vs bare rrd_fetch_r ($(bench_machine))"
"$build/bench/query" -n 1000 -r "$rounds" "$tmp" || die "bench/query"
