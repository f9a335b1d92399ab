#!/usr/bin/env bash
# backtest.sh: `reeve rules backtest` replays an alert rule over RRD history made here with
# rrdtool (a series that crosses the threshold for an hour at a known time) and prints
# when it would have gone pending, fired and resolved; it writes nothing; bad uses fail.
. "$TEST_LIB"
plan 8
now=$(( $(date +%s) / 60 * 60 ))
t0=$(( now - 6 * 3600 ))
t1=$(( now - 4 * 3600 ))   # from here the value is 20 (over 10)
t2=$(( now - 3 * 3600 ))   # last minute at 20; then 3 (under the recovery threshold 5)
rfc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
f="$T_DIR/data/rrd/orders_pending/shop=north.rrd"
mkdir -p "$(dirname "$f")"
rrdtool create "$f" --start $((t0 - 60)) --step 60 DS:value:GAUGE:120:U:U RRA:AVERAGE:0.5:1:1440
args=()
for ((t = t0; t <= now - 60; t += 60)); do
	if ((t < t1)); then v=5; elif ((t <= t2)); then v=20; else v=3; fi
	args+=("$t:$v")
done
rrdtool update "$f" "${args[@]}"
cat > "$T_DIR/reeve.conf" <<EOC
[reeve]
data_dir = $T_DIR/data
[alert orders_backlog]
expr = orders_pending > 10
for = 2m
recover = orders_pending < 5
eval_interval = 10s
EOC
before=$(find "$T_DIR/data" -type f | sort | md5sum)
"$REEVE" rules backtest orders_backlog --since 6h -c "$T_DIR/reeve.conf" > "$T_DIR/out" 2>&1
rc=$?
diag "$(cat "$T_DIR/out")"
check "backtest exits 0" -- test "$rc" = 0
check "it says what it replays, every minute" -- grep -q "^backtest of \[alert orders_backlog\] from .* every 60s" "$T_DIR/out"
check "pending when the stored value first crossed the threshold" -- grep -qx \
	"$(rfc $t1) {shop=\"north\"} inactive -> pending value 20" "$T_DIR/out"
check "firing once for (2m) had held" -- grep -qx \
	"$(rfc $((t1 + 120))) {shop=\"north\"} pending -> firing value 20" "$T_DIR/out"
# (the value of a transition is the last one the condition gave: 20, as alerts resolve with it)
check "resolved when the value fell under the recovery threshold" -- grep -qx \
	"$(rfc $((t2 + 60))) {shop=\"north\"} firing -> resolved value 20" "$T_DIR/out"
check "the summary counts one firing of 59 minutes" -- grep -q \
	'{shop="north"} fired 1 time, firing 59m00s in total$' "$T_DIR/out"
check "nothing was written under the data directory" -- test "$(find "$T_DIR/data" -type f | sort | md5sum)" = "$before"
"$REEVE" rules backtest nosuchrule -c "$T_DIR/reeve.conf" > "$T_DIR/out2" 2>&1
rc=$?
check "an unknown rule is exit 2 with a message" -- bash -c "[ $rc = 2 ] && grep -q 'no \[alert nosuchrule\] in the configuration' '$T_DIR/out2'"
t_done
