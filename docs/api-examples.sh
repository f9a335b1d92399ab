#!/usr/bin/env bash
# api-examples.sh: the example requests and answers of docs/http-api.md, made with curl
# against a reeve from the build (load and memory probes at 1 s, an exec probe whose first
# collection keeps /readyz at 503 for 3 s, three tokens, an alert that fires, one that stays
# pending, a recording rule, a report), one file per example: the command as a reader types
# it (the documented address 127.0.0.1:9180, $READ, $PUSH and $ADMIN for the secrets) and
# what reeve answered. It does not edit the markdown: paste from the files, trimming long
# answers with "...". Takes about 15 seconds.
# Usage: docs/api-examples.sh [BUILD_DIR] [OUT_DIR] (defaults: build, BUILD_DIR/api-examples)
set -euo pipefail
docs=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$docs/../build}" && pwd)
out=${2:-$build/api-examples}
tmp=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

make -C "$build" reeve probes/load.la probes/memory.la probes/exec.la >/dev/null
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/*.txt "$out"/*.png "$out"/*.html "$out"/*.csv

port=$((20000 + RANDOM % 10000))
base=http://127.0.0.1:$port
shown=http://127.0.0.1:9180
secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
READ=$(secret) PUSH=$(secret) ADMIN=$(secret)

cat > "$tmp/reeve.conf" <<EOF
[reeve]
data_dir = $tmp/data
interval = 1s
hostname = web01
[http]
listen = 127.0.0.1:$port
[token grafana]
secret = $READ
roles = read
[token shop]
secret = $PUSH
roles = push
[token ops]
secret = $ADMIN
roles = read, admin
[probe load]
type = load
[probe memory]
type = memory
[probe backup_check]
type = exec
command = /bin/sleep 3
interval = 10s
[alert load_high]
expr = load1 >= 0
severity = warning
labels.team = ops
annotations.summary = load is {{ value }}
[alert memory_low]
expr = memory_available_bytes / memory_total_bytes < 2
for = 1h
severity = critical
annotations.summary = {{ humanizePercentage value }} of memory available
[record memory:used:ratio]
expr = 1 - memory_available_bytes / memory_total_bytes
[report ops-hourly]
title = Operations, last hour
schedule = 0 * * * *
timezone = UTC
period = 1h
formats = html, csv
kpi.load = load1
kpi.memory_used = memory:used:ratio
unit.memory_used = ratio
graph.load = load1
alerts = yes
EOF
REEVE_PLUGIN_DIR="$build/probes/.libs" "$build/reeve" run -c "$tmp/reeve.conf" \
	>"$tmp/reeve.log" 2>&1 &
pid=$!

# An argument as a reader would type it: secrets as $READ, $PUSH, $ADMIN (in double quotes),
# anything unusual in single quotes.
quote() {
	local a=${1//$base/$shown}
	case $a in
	*"$READ"* | *"$PUSH"* | *"$ADMIN"*)
		a=${a//$READ/\$READ}
		a=${a//$PUSH/\$PUSH}
		printf '"%s"' "${a//$ADMIN/\$ADMIN}" ;;
	*[!A-Za-z0-9_./:=@-]*) printf "'%s'" "$a" ;;
	*) printf '%s' "$a" ;;
	esac
}

# ex NAME CURL_ARGS...: run curl -s CURL_ARGS in OUT_DIR; OUT_DIR/NAME.txt gets the command
# and the answer.
ex() {
	local name=$1 a line='$ curl -s'
	shift
	for a in "$@"; do line+=" $(quote "$a")"; done
	{
		printf '%s\n' "$line"
		(cd "$out" && curl -s "$@" | tr -d '\r') || true
	} > "$out/$name.txt"
}

# wait_for WHAT URL PATTERN [TOKEN]: poll (as ops, or with TOKEN; "" for none) until the
# answer holds PATTERN, at most 60 s.
wait_for() {
	local auth=(-H "Authorization: Bearer ${4-$ADMIN}")
	[ -n "${4-$ADMIN}" ] || auth=()
	for _ in $(seq 600); do
		if curl -s "${auth[@]}" "$2" 2>/dev/null | grep -q "$3"; then
			return 0
		fi
		sleep 0.1
	done
	echo "api-examples: $1 did not happen; the log:" >&2
	cat "$tmp/reeve.log" >&2
	exit 1
}
R=(-H "Authorization: Bearer $READ")
P=(-H "Authorization: Bearer $PUSH")
A=(-H "Authorization: Bearer $ADMIN")

# ---- health ----
wait_for "the start of the HTTP server" "$base/healthz" ok
# at once, while the probes may still be collecting for the first time: 503 or 200
ex readyz-first -i "$base/readyz"
wait_for "readiness" "$base/readyz" '^ready'
ex healthz "$base/healthz"
ex healthz-head -I "$base/healthz"
ex readyz "$base/readyz"
wait_for "the firing of load_high" "$base/api/v1/alerts" '"state":"firing"'

# ---- authorization ----
ex auth-401 -i "$base/api/v1/alerts"
ex auth-403 -i "${P[@]}" "$base/api/v1/alerts"
ex method-405 -i -X PUT "${R[@]}" "$base/api/v1/alerts"
ex not-found-404 -i "${R[@]}" "$base/api/v1/nothing"

# ---- push and events ----
printf '# TYPE orders_pending gauge\norders_pending{shop="north"} 7\n' > "$out/orders.prom"
ex push-text "${P[@]}" --data-binary @orders.prom "$base/api/v1/push?ttl=10m"
ex push-json "${P[@]}" -H 'Content-Type: application/json' \
	-d '[{"name":"orders_pending","labels":{"shop":"south"},"value":3},{"name":"nightly_export_success","value":true,"ttl":"26h"}]' \
	"$base/api/v1/push"
ex push-bad-field -i "${P[@]}" -H 'Content-Type: application/json' \
	-d '[{"name":"orders_pending","lables":{"shop":"west"},"value":1}]' "$base/api/v1/push"
ex push-bad-text "${P[@]}" --data-binary $'orders_pending 1\nbad-name 2\n' "$base/api/v1/push"
ex push-415 -i "${P[@]}" -H 'Content-Type: application/xml' -d '<x/>' "$base/api/v1/push"
ex events "${P[@]}" -H 'Content-Type: application/json' \
	-d '{"event":"payment_failed","labels":{"provider":"acme"}}' "$base/api/v1/events"
ex events-list "${P[@]}" -H 'Content-Type: application/json' \
	-d '[{"event":"order","count":3},{"event":"order","labels":{"shop":"north"}}]' \
	"$base/api/v1/events"
ex events-bad "${P[@]}" -H 'Content-Type: application/json' \
	-d '[{"event":"order"},{"event":""}]' "$base/api/v1/events"
sleep 2 # the pushed series and the events reach the registry and the rules

# ---- metrics, the status page ----
ex metrics "${R[@]}" "$base/metrics"
ex status-page -D - -o status.html "${R[@]}" "$base/"

# ---- rules, alerts, the history ----
ex rules "${R[@]}" "$base/api/v1/rules"
ex alerts "${R[@]}" "$base/api/v1/alerts"
ex history "${R[@]}" "$base/api/v1/alerts/history?rule=load_high"
ex history-bad -i "${R[@]}" "$base/api/v1/alerts/history?limit=0"

# ---- silences and acknowledgements ----
ex silence-add "${A[@]}" -d '{"matchers":"alertname=\"memory_low\"","duration":"2h","comment":"new RAM tonight","createdBy":"alice"}' \
	"$base/api/v1/silences"
ex silence-bad -i "${A[@]}" -d '{"matchers":"alertname=\"memory_low\"","duration":"2h","createdBy":"alice"}' \
	"$base/api/v1/silences"
ex silence-add-403 -i "${R[@]}" -d '{"matchers":"alertname=\"x\"","duration":"1h","comment":"c","createdBy":"bob"}' \
	"$base/api/v1/silences"
fp=$(curl -s "${R[@]}" "$base/api/v1/alerts" |
	grep -o '"fingerprint":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
ex ack "${A[@]}" -d '{"comment":"looking into it","createdBy":"bob","duration":"30m"}' \
	"$base/api/v1/alerts/$fp/ack"
ex ack-404 -i "${A[@]}" -d '{"comment":"x","createdBy":"bob"}' \
	"$base/api/v1/alerts/0123456789abcdef/ack"
ex silences "${R[@]}" "$base/api/v1/silences"
sid=$(curl -s "${R[@]}" "$base/api/v1/silences" | grep -o '"id":"[0-9a-f]*"' | head -1 |
	cut -d'"' -f4)
ex silence-delete "${A[@]}" -X DELETE "$base/api/v1/silences/$sid"
ex silence-delete-404 -i "${A[@]}" -X DELETE "$base/api/v1/silences/0123456789abcdef"

# ---- the Prometheus query API ----
sleep 6 # ten seconds of history or so
now=$(date +%s)
start=$(date -u -d "@$((now - 9))" +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d "@$((now - 1))" +%Y-%m-%dT%H:%M:%SZ)
fine=$(date -u -d "@$((now - 3))" +%Y-%m-%dT%H:%M:%SZ)
ex query "${R[@]}" "$base/api/v1/query?query=load1"
ex query-scalar "${R[@]}" "$base/api/v1/query?query=1%2B1"
ex query-post "${R[@]}" --data-urlencode 'query=sum by (shop) (orders_pending)' "$base/api/v1/query"
ex query-matrix "${R[@]}" --data-urlencode 'query=load1[3s]' "$base/api/v1/query"
ex query-range "${R[@]}" "$base/api/v1/query_range?query=load1&start=$start&end=$end&step=2s"
ex query-range-warn "${R[@]}" "$base/api/v1/query_range?query=load1&start=$fine&end=$end&step=500ms"
ex query-bad -i "${R[@]}" --data-urlencode 'query=rat(load1[1m])' "$base/api/v1/query"
ex query-range-bad "${R[@]}" "$base/api/v1/query_range?query=load1&start=$end&end=$start&step=5s"
ex series "${R[@]}" "$base/api/v1/series?match[]=orders_pending"
ex labels "${R[@]}" "$base/api/v1/labels"
ex label-values "${R[@]}" "$base/api/v1/label/shop/values"
ex metric-names "${R[@]}" "$base/api/v1/label/__name__/values"
ex metadata "${R[@]}" "$base/api/v1/metadata?metric=load1"
ex buildinfo "${R[@]}" "$base/api/v1/status/buildinfo"
ex graph-png -o load.png -w '%{http_code} %{content_type} %{size_download} bytes\n' "${R[@]}" \
	"$base/api/v1/graph.png?expr=load1&start=$start&title=Load"
ex graph-svg -o load.svg -w '%{http_code} %{content_type} %{size_download} bytes\n' "${R[@]}" \
	"$base/api/v1/graph.svg?expr=load1&start=$start&title=Load"
ex graph-bad -i "${R[@]}" "$base/api/v1/graph.png?expr=nothing_here&start=$start"

# ---- reports ----
ex report-run "${A[@]}" -X POST "$base/api/v1/reports/ops-hourly/run"
ex report-run-404 -i "${A[@]}" -X POST "$base/api/v1/reports/nightly/run"
ex report-run-403 -i "${R[@]}" -X POST "$base/api/v1/reports/ops-hourly/run"
wait_for "the report's run" "$base/api/v1/reports" '\.csv"'
ex reports "${R[@]}" "$base/api/v1/reports"
csv=$(curl -s "${R[@]}" "$base/api/v1/reports" | grep -o 'ops-hourly-[0-9-]*\.csv' | head -1)
ex report-file -i "${R[@]}" "$base/reports/ops-hourly/$csv"
ex report-file-404 -i "${R[@]}" "$base/reports/ops-hourly/secret.txt"

# ---- promtool (2.42 sends no token): the read API opened to all by [http] open ----
if command -v promtool >/dev/null; then
	sed -i 's/^listen = .*/&\nopen = healthz, api/' "$tmp/reeve.conf"
	kill -HUP "$pid"
	wait_for "the reload" "$base/api/v1/labels" '"status":"success"' ""
	ex open-api "$base/api/v1/label/shop/values"
	{
		echo '$ promtool query instant http://127.0.0.1:9180 load1'
		promtool query instant "$base" load1 2>&1 || true
	} > "$out/promtool.txt"
fi

kill "$pid"
wait "$pid" || true
pid=
rm -f "$out/orders.prom"
ls "$out"
