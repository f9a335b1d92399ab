#!/usr/bin/env bash
# http.sh: CPU per round and threads of the http probe (plugin layer, one libcurl multi) over
# 200 local targets, against a loop of sequential curl easy requests over the same urls.
# Usage: bench/http.sh [ROUNDS] [TARGETS] (default 100 rounds of 200 targets)
. "$(dirname "$0")/lib.inc"
rounds=${1:-100}
targets=${2:-200}

bench_make bench/http bench/mhd_static probes/http.la
[ -f "$build/probes/.libs/http.so" ] || die "no http probe module in $build/probes/.libs"
mkdir -p "$tmp/probes"
ln -s "$build/probes/.libs/http.so" "$tmp/probes/http.so"
# the body: 2 KiB, a typical small JSON status answer
head -c 2048 /dev/zero | tr '\0' 'x' > "$tmp/body"
port=$(free_port)
"$build/bench/mhd_static" "$tmp/body" "$port" 2 &
bench_track $!
wait_http "http://127.0.0.1:$port/metrics"
echo "== http: the http probe vs sequential curl easy requests ($(bench_machine))"
# distinct urls by query string (mhd_static serves /metrics whatever the query); at most 16
# connections, since mhd_static (like reeve) allows 32 per client address
"$build/bench/http" -p "$tmp/probes" -u "http://127.0.0.1:$port/metrics?target=" \
	-n "$targets" -b 2048 -k "$rounds" -c 16 || die "http"
