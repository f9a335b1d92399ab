#!/usr/bin/env bash
# notify.sh: notifications end to end and the outbox alone. (1) bench/outbox: messages/s the
# outbox delivers to a local webhook receiver, against writing as many fsync'd files in the
# same run (the limit of a durable spool). (2) The real daemon with an alert bench_value > 0
# (for 0, eval_interval 1s) and a route that makes every alert its own group (group_wait 0):
# the delay from pushing a series over the threshold to its webhook arriving, p50/p90/p99/max,
# raw and after the evaluation (bench/notify.py). The receiver is bench/webhook_sink.
# Usage: bench/notify.sh [ALERTS] [MESSAGES] (default 1000 alerts, 2000 messages)
. "$(dirname "$0")/lib.inc"
alerts=${1:-1000}
messages=${2:-2000}

bench_make reeve bench/outbox bench/webhook_sink

# start_sink LOG: a webhook_sink on a free port, its port in $sink_port
start_sink() {
	sink_port=$(free_port)
	"$build/bench/webhook_sink" "$1" "$sink_port" 2 &
	bench_track $!
	wait_http "http://127.0.0.1:$sink_port/"
}

echo "== notify: outbox delivery vs fsync'd files; push to webhook delay ($(bench_machine))"
start_sink "$tmp/sink-outbox.log"
"$build/bench/outbox" -u "http://127.0.0.1:$sink_port/hook" -d "$tmp/outbox" -n "$messages" -b 1024 ||
	die "bench/outbox"
got=$(wc -l < "$tmp/sink-outbox.log")
# a warm-up message, N accepted and drained, N in the flow blocks (N a multiple of 4)
want=$((2 * (messages / 4 * 4) + 1))
[ "$got" = "$want" ] || die "the receiver logged $got requests, not $want"
rm -rf "$tmp/outbox"

start_sink "$tmp/sink.log"
port=$(free_port)
cat > "$tmp/reeve.conf" <<EOC
[reeve]
data_dir = $tmp/data
interval = 1s
log_level = warning
[http]
listen = 127.0.0.1:$port
[store]
preset = compact
[notifier sink]
type = webhook
url = http://127.0.0.1:$sink_port/hook
[alert bench_alert]
expr = bench_value > 0
for = 0s
eval_interval = 1s
[route default]
notify = sink
group_by = ...
group_wait = 0s
EOC
"$build/reeve" check -c "$tmp/reeve.conf" >"$tmp/check" 2>&1 || { cat "$tmp/check" >&2; die "reeve check"; }
"$build/reeve" run -c "$tmp/reeve.conf" >"$tmp/log" 2>&1 &
reeve_pid=$!
bench_track $reeve_pid
wait_http "http://127.0.0.1:$port/healthz"
cpu0=$(awk '{ print $14 + $15 }' "/proc/$reeve_pid/stat")
python3 "$top/bench/notify.py" --push "http://127.0.0.1:$port/api/v1/push" \
	--sink-log "$tmp/sink.log" --history "$tmp/data/alerts/history.jsonl" \
	--alerts "$alerts" --rate 50 --batch 5 || { tail -5 "$tmp/log" >&2; die "notify.py"; }
cpu1=$(awk '{ print $14 + $15 }' "/proc/$reeve_pid/stat")
# /metrics is rendered once per collection round: wait until it counts every message sent
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$port/metrics" > "$tmp/metrics" || die "GET /metrics"
	grep -q "^reeve_notifications_sent_total{receiver=\"sink\"} $alerts\$" "$tmp/metrics" && break
	sleep 0.1
done
awk -v cpu="$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')" '
	/^reeve_notifications_sent_total\{receiver="sink"\}/ { sent = $2 }
	/^reeve_notifications_retries_total\{receiver="sink"\}/ { retries = $2 }
	END { printf "  reeve: %d messages sent, %d retries, %s s of CPU during the run\n", sent, retries, cpu }' \
	"$tmp/metrics"
