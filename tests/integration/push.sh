#!/usr/bin/env bash
# push.sh: POST /api/v1/push (Prometheus text and JSON) and /api/v1/events: samples land in
# /metrics and RRD files, a TTL makes a series stale, bad bodies get 400 with a JSON message
# naming the problem and change nothing, oversized bodies 413, the token is required.
. "$TEST_LIB"
plan 27
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" ""
sed -i "s/^timeout = 5s$/timeout = 5s\npush_max_body = 64KiB\ntoken = push-token-0123456789/" "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
api="http://127.0.0.1:$port/api/v1"
auth=(-H "Authorization: Bearer push-token-0123456789")
m() { curl -sf "${auth[@]}" "http://127.0.0.1:$port/metrics"; }
# post PATH CONTENT-TYPE BODY: print the status code and keep the answer in $T_DIR/answer
post() {
	curl -s -o "$T_DIR/answer" -w '%{http_code}' "${auth[@]}" -H "Content-Type: $2" \
		--data-binary "$3" "$api/$1"
}
answer_has() { grep -qF -- "$1" "$T_DIR/answer"; }

check "text format is accepted" -- test "$(post push text/plain '# TYPE orders_pending gauge
orders_pending{shop="north"} 7
orders_pending{shop="south"} 3
# TYPE batch_runs_total counter
batch_runs_total{job="sync"} 12
')" = 200
check "the answer counts the samples" -- answer_has '{"status":"success","data":{"samples":3,"dropped":0}}'
check "pushed gauges are served" -- bash -c "curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -qx 'orders_pending{shop=\"north\"} 7'"
check "pushed counters keep their type" -- bash -c "curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -qx '# TYPE batch_runs_total counter'"
check "JSON is accepted, with labels, type and timestamp" -- test "$(post push application/json \
	"[{\"name\":\"inventory_sync_age_seconds\",\"labels\":{\"shop\":\"north\"},\"value\":42.5},
	  {\"name\":\"payments_total\",\"value\":5,\"type\":\"counter\",\"timestamp\":$(date +%s)}]")" = 200
check "JSON samples are served" -- bash -c "curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -qx 'inventory_sync_age_seconds{shop=\"north\"} 42.5'"
f="$T_DIR/data/rrd/inventory_sync_age_seconds/shop=north.rrd"
check "pushed series are stored in RRD files" -- wait_for 10 bash -c "rrdtool lastupdate '$f' | tail -1 | grep -q ': 42.5$'"
t=$(( $(date +%s) - 100 ))
post push application/json "[{\"name\":\"payments_total\",\"value\":4,\"type\":\"counter\",\"timestamp\":$t}]" >/dev/null
check "a sample older than its series' latest is dropped and counted" -- answer_has '"samples":0,"dropped":1'
check "a TTL from the query makes the series stale once it runs out" -- bash -c "
	[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer push-token-0123456789' \
		--data-binary 'short_lived 1
' '$api/push?ttl=2s')\" = 200 ] &&
	curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -qx 'short_lived 1'"
check "... and it disappears from /metrics" -- wait_for 10 bash -c \
	"! curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -q '^short_lived '"
check "a JSON ttl works per sample, the others stay" -- bash -c "
	[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer push-token-0123456789' -H 'Content-Type: application/json' \
		--data-binary '[{\"name\":\"job_last_success\",\"value\":1,\"ttl\":\"1s\"}]' '$api/push')\" = 200 ] &&
	for i in \$(seq 50); do curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -q '^job_last_success ' || break; sleep 0.2; done
	m=\$(curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics)
	! grep -q '^job_last_success ' <<<\"\$m\" && grep -qx 'orders_pending{shop=\"north\"} 7' <<<\"\$m\""

# bad bodies: 400 naming the problem; nothing of the request is kept
check "malformed text: 400 naming the line" -- test "$(post push text/plain 'good_one 1
bad-name 2
')" = 400
check "... the error says what and where, as JSON" -- answer_has '{"status":"error","errorType":"bad_data","error":"body: line 2: invalid character in metric name bad"}'
check "... and the good line of that body was not kept" -- bash -c "! curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -q '^good_one'"
check "invalid JSON: 400 with the byte offset" -- test "$(post push application/json '[{"name":"x","value":1},,]')" = 400
check "... named in the answer" -- answer_has '"error":"body: invalid JSON at byte 24"'
post push application/json '[{"name":"x","value":"lots"}]' >/dev/null
check "a non-numeric value is named" -- answer_has '"error":"sample 1: \"value\" must be a number'
post push application/json '[{"name":"ok","value":1},{"name":"x","value":1,"lables":{}}]' >/dev/null
check "an unknown field (a typo) is named" -- answer_has '"error":"sample 2: unknown field \"lables\"'
post push application/json '{"name":"x","value":1}' >/dev/null
check "a single object instead of a list is refused" -- answer_has 'expected a JSON list of samples'
post push application/json "[{\"name\":\"x\",\"value\":1,\"timestamp\":$(( $(date +%s) * 1000 ))}]" >/dev/null
check "a timestamp in milliseconds is refused" -- answer_has 'is in the future'
check "an unsupported Content-Type gets 415" -- test "$(post push application/xml '<x/>')" = 415
check "a body over push_max_body gets 413" -- test "$(head -c 70000 /dev/zero | tr '\0' 'a' | curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" --data-binary @- "$api/push")" = 413
check "GET on the push endpoint gets 405 with Allow: POST" -- bash -c "curl -s -D - -o /dev/null '$api/push' | grep -qi '^Allow: POST'"
check "without the token: 401" -- test "$(curl -s -o /dev/null -w '%{http_code}' --data-binary 'x 1
' "$api/push")" = 401

# events
check "events are counted" -- bash -c "for i in 1 2 3; do curl -sf -o /dev/null -H 'Authorization: Bearer push-token-0123456789' -H 'Content-Type: application/json' --data-binary '{\"event\":\"payment_failed\",\"labels\":{\"provider\":\"acme\"}}' '$api/events' || exit 1; done
	curl -sf -H 'Authorization: Bearer push-token-0123456789' -H 'Content-Type: application/json' --data-binary '[{\"event\":\"payment_failed\",\"labels\":{\"provider\":\"acme\"},\"count\":2},{\"event\":\"order_placed\"}]' '$api/events' >/dev/null &&
	m=\$(curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics) &&
	grep -qx 'reeve_events_total{event=\"payment_failed\",provider=\"acme\"} 5' <<<\"\$m\" &&
	grep -qx 'reeve_events_total{event=\"order_placed\"} 1' <<<\"\$m\" &&
	grep -qx '# TYPE reeve_events_total counter' <<<\"\$m\""
post events application/json '[{"event":"ok"},{"labels":{"a":"b"}}]' >/dev/null
check "a bad event rejects the request, naming it" -- bash -c "grep -qF '\"error\":\"event 2: \\\"event\\\" must be a name' '$T_DIR/answer' &&
	! curl -sf -H 'Authorization: Bearer push-token-0123456789' http://127.0.0.1:$port/metrics | grep -q 'event=\"ok\"'"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
t_done
