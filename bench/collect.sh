#!/usr/bin/env bash
# collect.sh: CPU per collection round of the system probes (the daemon's plugin layer) against
# a bare loop reading the same /proc files. Usage: bench/collect.sh [ROUNDS] (default 2000)
. "$(dirname "$0")/lib.inc"
rounds=${1:-2000}

bench_make bench/collect
find_probes
echo "== collect: probes through plugin_collect vs bare /proc reads ($(bench_machine))"
"$build/bench/collect" -p "$PROBE_DIR" -k "$rounds" "${PROBES[@]}" || die "collect"
