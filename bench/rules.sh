#!/usr/bin/env bash
# rules.sh: one evaluation round of 10k threshold rules over 100k series (bench/rules), against
# reading those series' latest values from the registry in the same run; target 20 ms.
# Usage: bench/rules.sh [ROUNDS] (default 10)
. "$(dirname "$0")/lib.inc"
rounds=${1:-10}

bench_make bench/rules
echo "== rules: 10k rules over 100k series vs reading their latest values ($(bench_machine))"
"$build/bench/rules" -n 10000 -s 10 -p 30 -r "$rounds" || die "bench/rules"
