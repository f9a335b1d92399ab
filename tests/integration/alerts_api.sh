#!/usr/bin/env bash
# alerts_api.sh: GET /api/v1/rules, /api/v1/alerts and /api/v1/alerts/history of the running
# daemon, judged by parsing their JSON: a pushed value over a threshold fires, a rule whose
# evaluation fails shows its error, NaN values are written as Prometheus writes them, bad
# history parameters are refused with 400 naming the parameter, POST is 405, tokens guard all.
. "$TEST_LIB"
plan 28
port=$(free_port)
url="http://127.0.0.1:$port"
rules="
[alert orders_backlog]
expr = orders_pending > 10
for = 2s
severity = critical
labels.team = shop
annotations.summary = {{ labels.shop }} has {{ value }} orders waiting
eval_interval = 1s

[alert broken]
; two series on each side of on(): the evaluation fails
expr = orders_pending * on() orders_pending
eval_interval = 1s

[alert not_a_number]
; NaN != 0 holds, as in PromQL
expr = gauge_nan != 0
eval_interval = 1s

[record orders_pending_sum]
expr = sum(orders_pending)
eval_interval = 1s"
write_config "$T_DIR/reeve.conf" "$port" "$rules"
push() {
	curl -sf -o /dev/null --data-binary "orders_pending{shop=\"north\"} 20
orders_pending{shop=\"south\"} 1
gauge_nan NaN
" "$url/api/v1/push"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# judge PATH PYTHON-EXPRESSION: GET PATH, parse the JSON as d, the expression must be true
judge() {
	curl -sf --max-time 5 "$url$1" > "$T_DIR/answer.json" || { echo "GET $1 failed"; return 1; }
	python3 - "$T_DIR/answer.json" "$2" <<'EOF'
import json, sys, time
from datetime import datetime
d = json.load(open(sys.argv[1]))
def ts(s):
	return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def alert(name, alerts):
	return [a for a in alerts if a["labels"]["alertname"] == name]
def rule(name):
	return [r for g in d["data"]["groups"] for r in g["rules"] if r["name"] == name][0]
if not eval("(" + sys.argv[2] + "\n)"):
	print("false:", sys.argv[2]); print(json.dumps(d, indent=1)[:3000]); sys.exit(1)
EOF
}

check "reeve check accepts the rules" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf -o /dev/null "$url/healthz"
push
check "/api/v1/alerts shows the alert firing once for has held" -- wait_for 15 judge /api/v1/alerts \
	'd["status"] == "success" and [a["state"] for a in alert("orders_backlog", d["data"]["alerts"])] == ["firing"]'
check "the alert has its labels (with alertname), rendered annotations, value as a string, severity" -- \
	judge /api/v1/alerts '[(a["labels"], a["annotations"], a["value"], a["severity"], a["flapping"])
	for a in alert("orders_backlog", d["data"]["alerts"])] == [({"alertname": "orders_backlog",
	"shop": "north", "team": "shop"}, {"summary": "north has 20 orders waiting"}, "2e+01", "critical", False)]'
check "activeAt is RFC 3339, within the last minute" -- judge /api/v1/alerts \
	'all(time.time() - 60 < ts(a["activeAt"]) <= time.time() + 1 for a in d["data"]["alerts"])'
check "only the series over the threshold is an alert" -- judge /api/v1/alerts \
	'all(a["labels"].get("shop") != "south" for a in d["data"]["alerts"])'
check "a NaN value is written \"NaN\"" -- judge /api/v1/alerts \
	'[a["value"] for a in alert("not_a_number", d["data"]["alerts"])] == ["NaN"]'
check "/api/v1/rules: one group, named after the config file" -- judge /api/v1/rules \
	'd["status"] == "success" and [g["file"] for g in d["data"]["groups"]] == ["'"$T_DIR/reeve.conf"'"]
	and d["data"]["groups"][0]["name"] == d["data"]["groups"][0]["file"]'
check "every rule, alerting and recording, in config order" -- judge /api/v1/rules \
	'[(r["name"], r["type"]) for r in d["data"]["groups"][0]["rules"]] == [("orders_backlog", "alerting"),
	("broken", "alerting"), ("not_a_number", "alerting"), ("orders_pending_sum", "recording")]'
check "an alerting rule: query, duration, labels, annotations (templates), state, its alert" -- \
	judge /api/v1/rules '(lambda r: r["query"] == "orders_pending > 10" and r["duration"] == 2 and
	r["labels"] == {"team": "shop"} and r["annotations"] == {"summary":
	"{{ labels.shop }} has {{ value }} orders waiting"} and r["state"] == "firing" and
	[a["labels"]["shop"] for a in r["alerts"]] == ["north"])(rule("orders_backlog"))'
check "health ok and a recent lastEvaluation with its evaluationTime" -- judge /api/v1/rules \
	'all(rule(n)["health"] == "ok" and rule(n)["lastError"] == "" and
	time.time() - 60 < ts(rule(n)["lastEvaluation"]) and 0 <= rule(n)["evaluationTime"] < 5
	for n in ("orders_backlog", "not_a_number", "orders_pending_sum"))'
check "a rule whose evaluation fails has health err and its lastError" -- wait_for 10 judge /api/v1/rules \
	'rule("broken")["health"] == "err" and "several series" in rule("broken")["lastError"]'
check "the recording rule shows its query" -- judge /api/v1/rules \
	'rule("orders_pending_sum")["query"] == "sum(orders_pending)"'
check "/api/v1/alerts/history: pending then firing, oldest first" -- judge /api/v1/alerts/history \
	'[(e["from"], e["to"]) for e in d["data"] if e["rule"] == "orders_backlog"] ==
	[("inactive", "pending"), ("pending", "firing")] and
	[ts(e["time"]) for e in d["data"]] == sorted(ts(e["time"]) for e in d["data"])'
check "a history entry has labels, value, severity and summary" -- judge /api/v1/alerts/history \
	'[(e["labels"], e["value"], e["severity"], e["summary"]) for e in d["data"] if e["to"] == "firing"
	and e["rule"] == "orders_backlog"] == [({"shop": "north", "team": "shop"}, "2e+01", "critical",
	"north has 20 orders waiting")]'
check "?rule= keeps one rule's entries" -- judge '/api/v1/alerts/history?rule=not_a_number' \
	'len(d["data"]) > 0 and all(e["rule"] == "not_a_number" for e in d["data"])'
check "?limit=1 gives the newest entry" -- judge '/api/v1/alerts/history?limit=1&rule=orders_backlog' \
	'[e["to"] for e in d["data"]] == ["firing"]'
future=$(( $(date +%s) + 3600 ))
check "?since= in Unix seconds (future: nothing)" -- judge "/api/v1/alerts/history?since=$future" 'd["data"] == []'
check "?since= in RFC 3339" -- judge "/api/v1/alerts/history?since=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
	'len(d["data"]) >= 2'
for bad in 'since=yesterday' 'since=2024-13-01T00:00:00Z' 'limit=0' 'limit=abc' 'limit=10001'; do
	name=${bad%%=*}
	check "?$bad is 400 naming $name" -- bash -c "
		[ \"\$(curl -s -o '$T_DIR/bad.json' -w '%{http_code}' '$url/api/v1/alerts/history?$bad')\" = 400 ] &&
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d[\"status\"] == \"error\" and
			d[\"errorType\"] == \"bad_data\" and d[\"error\"].startswith(\"$name: \")))' '$T_DIR/bad.json'"
done
check "POST /api/v1/alerts is 405 with Allow: GET, HEAD" -- bash -c "
	curl -si -X POST -d x '$url/api/v1/alerts' | tr -d '\r' | grep -qx 'Allow: GET, HEAD' &&
	[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x '$url/api/v1/rules')\" = 405 ]"
stop_reeve

read_secret=api-read-secret-00001
push_secret=api-push-secret-00001
write_config "$T_DIR/tokens.conf" "$port" "$rules
[token grafana]
secret = $read_secret
roles = read

[token app]
secret = $push_secret
roles = push"
start_reeve "$T_DIR/tokens.conf" "$T_DIR/log2"
wait_for 10 curl -sf -o /dev/null "$url/healthz"
for p in /api/v1/rules /api/v1/alerts /api/v1/alerts/history; do
	check "$p without a token is 401, with the push-only token 403, with the read token 200" -- bash -c "
		[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$url$p')\" = 401 ] &&
		[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $push_secret' '$url$p')\" = 403 ] &&
		[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $read_secret' '$url$p')\" = 200 ]"
done
stop_reeve
check "no secret reached the log" -- bash -c "! grep -q -e '$read_secret' -e '$push_secret' '$T_DIR/log2'"
t_done
