#!/usr/bin/env bash
# ingest.sh: updates/s of N series through registry and store against a raw rrd_update_r loop,
# directly and through a private rrdcached. Usage: bench/ingest.sh [ROUNDS] (default 5)
. "$(dirname "$0")/lib.inc"
rounds=${1:-5}

bench_make bench/ingest
echo "== ingest: registry -> store vs raw rrd_update_r ($(bench_machine))"

cd "$tmp"
mkdir -p cached/db cached/journal
rrdcached -g -l "unix:$tmp/cached/sock" -b "$tmp/cached/db" -B -w 3600 -z 1 -F \
	-j "$tmp/cached/journal" >"$tmp/cached/log" 2>&1 &
cached_pid=$!
bench_track "$cached_pid"
for _ in $(seq 1 100); do [ -S "$tmp/cached/sock" ] && break; sleep 0.05; done
[ -S "$tmp/cached/sock" ] || { cat "$tmp/cached/log" >&2; die "rrdcached did not start"; }

for n in 1000 10000; do
	mkdir -p "$tmp/n$n" "$tmp/cached/db/n$n"
	"$build/bench/ingest" -n "$n" -r "$rounds" -d "$tmp/n$n" -c "unix:$tmp/cached/sock" \
		-b "$tmp/cached/db/n$n" -p "$cached_pid" || die "ingest N=$n"
	rm -rf "$tmp/n$n"
done
