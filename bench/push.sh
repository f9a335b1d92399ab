#!/usr/bin/env bash
# push.sh: samples/s accepted by POST /api/v1/push with 10,000-sample bodies (text and JSON),
# against the raw rrd_update_r rate of bench/ingest measured in the same run.
# Usage: bench/push.sh [REQUESTS] (default 30)
. "$(dirname "$0")/lib.inc"
requests=${1:-30}
n=10000

bench_make reeve bench/ingest
echo "== push: /api/v1/push with $n-sample bodies vs raw rrd_update_r ($(bench_machine))"

mkdir -p "$tmp/raw"
raw=$("$build/bench/ingest" -n "$n" -r 2 -d "$tmp/raw" | awk '/^ingest N=.*: raw / { print $4; exit }')
[ -n "$raw" ] || die "no raw rate from bench/ingest"
rm -rf "$tmp/raw"

port=$(free_port)
cat > "$tmp/reeve.conf" <<EOC
[reeve]
data_dir = $tmp/data
interval = 1s
log_level = warning
[http]
listen = 127.0.0.1:$port
push_max_body = 16MiB
[store]
preset = compact
EOC
REEVE_PLUGIN_DIR="$build/probes/.libs" "$build/reeve" run -c "$tmp/reeve.conf" >"$tmp/log" 2>&1 &
bench_track $!
wait_http "http://127.0.0.1:$port/healthz"

awk -v n="$n" 'BEGIN {
	print "# TYPE bench_push_value gauge"
	for (i = 0; i < n; i++) printf "bench_push_value{shop=\"s%d\",series=\"%d\"} %d.5\n", i % 50, i, i
}' > "$tmp/body.txt"
awk -v n="$n" 'BEGIN {
	printf "["
	for (i = 0; i < n; i++) printf "%s{\"name\":\"bench_push_json\",\"labels\":{\"shop\":\"s%d\",\"series\":\"%d\"},\"value\":%d.5}", i ? "," : "", i % 50, i, i
	print "]"
}' > "$tmp/body.json"

# push KIND CONTENT-TYPE FILE: one curl process, $requests keep-alive requests; prints samples/s
push() {
	local urls=() i t0 t1 ok
	for i in $(seq 1 "$requests"); do urls+=("http://127.0.0.1:$port/api/v1/push"); done
	t0=$(date +%s.%N)
	curl -s -H "Content-Type: $2" --data-binary "@$3" "${urls[@]}" > "$tmp/answers.$1"
	t1=$(date +%s.%N)
	ok=$(grep -o "\"samples\":$n" "$tmp/answers.$1" | wc -l)
	[ "$ok" = "$requests" ] || die "$1: only $ok of $requests requests accepted all samples: $(head -c 300 "$tmp/answers.$1")"
	echo "$t0 $t1" | awk -v r="$requests" -v n="$n" '{ printf "%.0f", r * n / ($2 - $1) }'
}
text=$(push text text/plain "$tmp/body.txt")
json=$(push json application/json "$tmp/body.json")
printf "  body sizes: text %d bytes, JSON %d bytes; %d requests each\n" \
	"$(stat -c %s "$tmp/body.txt")" "$(stat -c %s "$tmp/body.json")" "$requests"
echo "push text: $text samples/s accepted, raw rrd_update_r $raw updates/s, ratio $(awk -v a="$text" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')"
echo "push JSON: $json samples/s accepted, raw rrd_update_r $raw updates/s, ratio $(awk -v a="$json" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')"
