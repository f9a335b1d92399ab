#!/usr/bin/env bash
# failing.sh: a probe that fails and one that hangs do not disturb the others; both are
# reported as reeve_probe_up 0, failures are logged once and then rate-limited.
. "$TEST_LIB"
plan 10
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load
[probe bad]
type = test_fail
[probe stuck]
type = test_hang
timeout = 500ms"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
rrd="$T_DIR/data/rrd"
check "the healthy probe writes its file" -- wait_for 10 test -f "$rrd/load1.rrd"
t=$(rrd_last "$rrd/load1.rrd")
check "the healthy probe keeps its 1 s rhythm next to a hung one" -- wait_for 15 rrd_last_ge "$rrd/load1.rrd" $((t + 4))
check "the failing probe is reported down" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^reeve_probe_up{probe=\"bad\",type=\"test_fail\"} 0$'"
check "the hung probe is reported down" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^reeve_probe_up{probe=\"stuck\",type=\"test_hang\"} 0$'"
check "the hung probe's timeout is counted" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^reeve_probe_timeouts_total{probe=\"stuck\"} [1-9]'"
check "the failure is logged with the probe's message" -- grep -q 'probe bad: simulated failure number 1' "$T_DIR/log"
check "samples with invalid names are dropped and counted" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^reeve_probe_rejected_samples{probe=\"bad\"} 4$'"
check "the good sample of a failing probe is kept, the bad ones are not stored" -- bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^test_fail_attempts [1-9]' && [ -f '$rrd/test_fail_attempts.rrd' ] && [ \$(find '$rrd' -name '*test-fail*' -o -name '*1nvalid*' -o -name '*__name__*' | wc -l) = 0 ]"
sleep 3 # let the failing probe fail several more times (backed off)
check "repeated failures are rate-limited in the log" -- test "$(grep -c 'probe bad: simulated failure' "$T_DIR/log")" -eq 1
stop_reeve
check "SIGTERM exits 0 even with a probe stuck" -- test "$REEVE_STATUS" = 0
diag "$(tail -4 "$T_DIR/log")"
t_done
