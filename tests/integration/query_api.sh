#!/usr/bin/env bash
# query_api.sh: the Prometheus HTTP API subset (/api/v1/query, query_range, series, labels,
# label/NAME/values, metadata, status/buildinfo) of the running daemon, over gauges pushed
# with explicit timestamps: promtool reads them as it reads a Prometheus, the raw JSON has
# Prometheus's shapes and the expected numbers, bad parameters get 4xx JSON errors naming
# them, a POST form works like GET, and with tokens configured a read token is required.
# shellcheck disable=SC1090 # lib.sh, at a path make check gives
. "$TEST_LIB"
plan 65
port=$(free_port)
url="http://127.0.0.1:$port"
api="$url/api/v1"

# The data: two series of qt_temp, one point a second for 31 s ending 15 s ago,
# room a = 10 + i and room b = 20.5 + 2i at T0 + i; qt_queue once, at TE = T0 + 30.
T0=$(( $(date +%s) - 45 ))
TE=$((T0 + 30))
export T0 TE
{
	echo '# HELP qt_temp Temperature pushed by query_api.sh.'
	echo '# TYPE qt_temp gauge'
	for i in $(seq 0 30); do
		echo "qt_temp{room=\"a\",site=\"x\"} $((10 + i)) $(( (T0 + i) * 1000 ))"
		echo "qt_temp{room=\"b\",site=\"x\"} $((20 + 2 * i)).5 $(( (T0 + i) * 1000 ))"
	done
	echo '# HELP qt_queue Orders waiting, pushed by query_api.sh.'
	echo '# TYPE qt_queue gauge'
	echo "qt_queue{shop=\"north\"} 7 $((TE * 1000))"
} > "$T_DIR/push.txt"

# fetch PATH [CURL-ARGS...]: request $api/PATH; the body goes to answer.json, the headers to
# headers, the status to code (all in $T_DIR)
fetch() {
	local path=$1; shift
	curl -s --max-time 20 -o "$T_DIR/answer.json" -D "$T_DIR/headers" -w '%{http_code}' \
		"$@" "$api/$path" > "$T_DIR/code"
}
# judge PATH PYTHON-EXPRESSION [CURL-ARGS...]: fetch PATH; the expression, over d (the JSON
# answer), code (the HTTP status), T0 and TE, must be true
judge() {
	local path=$1 expr=$2; shift 2
	fetch "$path" "$@" || { echo "request for $path failed"; return 1; }
	python3 - "$T_DIR/answer.json" "$(cat "$T_DIR/code")" "$expr" <<'EOF'
import json, os, sys, time
T0, TE = int(os.environ["T0"]), int(os.environ["TE"])
code = int(sys.argv[2])
try:
	d = json.load(open(sys.argv[1]))
except ValueError as e:
	print("HTTP", code, "answer is not JSON:", e, open(sys.argv[1], errors="replace").read()[:500])
	sys.exit(1)
def isnum(x):
	return isinstance(x, (int, float)) and not isinstance(x, bool)
def L(**kw):
	"""a label set, comparable whatever the order"""
	return tuple(sorted(kw.items()))
def labels_ok(m):
	return isinstance(m, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in m.items())
def ok(rtype):
	assert code == 200, "HTTP %d" % code
	assert d["status"] == "success", d["status"]
	assert d["data"]["resultType"] == rtype, d["data"]["resultType"]
	return d["data"]["result"]
def point(p):
	assert isinstance(p, list) and len(p) == 2 and isnum(p[0]) and isinstance(p[1], str), p
	return (p[0], p[1])
def vec():
	"""a vector answer as {labels: (time, value string)}, its shape checked"""
	out = {}
	for e in ok("vector"):
		assert sorted(e) == ["metric", "value"] and labels_ok(e["metric"]), e
		out[L(**e["metric"])] = point(e["value"])
	return out
def mat():
	"""a matrix answer as {labels: [(time, value string), ...]}, its shape checked"""
	out = {}
	for e in ok("matrix"):
		assert sorted(e) == ["metric", "values"] and labels_ok(e["metric"]), e
		out[L(**e["metric"])] = [point(p) for p in e["values"]]
	return out
def err(status, etype, *words):
	"""an error answer: the status, the errorType, a message holding every word"""
	assert code == status, "HTTP %d, not %d" % (code, status)
	assert d["status"] == "error" and d["errorType"] == etype, d
	assert isinstance(d["error"], str) and d["error"], d
	assert all(w in d["error"] for w in words), "%r lacks one of %r" % (d["error"], words)
	return True
try:
	res = eval("(" + sys.argv[3] + "\n)")
except Exception as e:
	res = False
	print("%s: %s" % (type(e).__name__, e))
if not res:
	print("HTTP", code, "false:", sys.argv[3]); print(json.dumps(d, indent=1)[:3000]); sys.exit(1)
EOF
}
# pq ARGS...: promtool query ARGS... against reeve, output sorted
pq() { promtool query "$@" | sort; }
# same CMD -- TEXT: the command prints exactly TEXT
same() {
	local out want
	out=$("${@:1:$#-2}") || return 1
	want=${!#}
	[ "$out" = "$want" ] || { printf 'got:\n%s\nwant:\n%s\n' "$out" "$want"; return 1; }
}
a_series='qt_temp{room="a", site="x"}'
b_series='qt_temp{room="b", site="x"}'
rfc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

write_config "$T_DIR/reeve.conf" "$port" ""
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf -o /dev/null "$url/healthz"
check "the data is pushed with its timestamps" -- bash -c "
	curl -sf -H 'Content-Type: text/plain' --data-binary @'$T_DIR/push.txt' '$api/push' |
	grep -qF '{\"status\":\"success\",\"data\":{\"samples\":63,\"dropped\":0}}'"

# ---- promtool reads reeve as a Prometheus
check "promtool query instant at TE prints both series' values" -- same pq instant --time="$TE" "$url" qt_temp -- \
	"$a_series => 40 @[$TE]
$b_series => 80.5 @[$TE]"
check "promtool query instant between two points prints the earlier one, at the asked time" -- \
	same pq instant --time="$((T0 + 10)).5" "$url" qt_temp -- \
	"$a_series => 20 @[$((T0 + 10)).5]
$b_series => 40.5 @[$((T0 + 10)).5]"
check "promtool query instant: sum() of the two" -- same pq instant --time="$TE" "$url" 'sum(qt_temp)' -- \
	"{} => 120.5 @[$TE]"
check "promtool query instant: a scalar" -- same pq instant --time="$TE" "$url" '1+1' -- "scalar: 2 @[$TE]"
check "promtool query range prints every step's point" -- same promtool query range --start="$((T0 + 5))" \
	--end="$((T0 + 25))" --step=5s "$url" 'qt_temp{room="a"}' -- "$a_series =>
15 @[$((T0 + 5))]
20 @[$((T0 + 10))]
25 @[$((T0 + 15))]
30 @[$((T0 + 20))]
35 @[$((T0 + 25))]"
check "promtool query series lists the pushed series with their names" -- \
	same pq series --match=qt_temp --start="$T0" --end="$TE" "$url" -- \
	'{__name__="qt_temp", room="a", site="x"}
{__name__="qt_temp", room="b", site="x"}'
check "promtool query series: several --match are a union" -- \
	same pq series --match='qt_temp{room="b"}' --match=qt_queue --start="$T0" --end="$TE" "$url" -- \
	'{__name__="qt_queue", shop="north"}
{__name__="qt_temp", room="b", site="x"}'
check "promtool query labels prints a label's values" -- same promtool query labels "$url" room -- 'a
b'
check "promtool query labels __name__ lists the pushed metric names" -- bash -c \
	"promtool query labels '$url' __name__ > '$T_DIR/names' && grep -qx qt_temp '$T_DIR/names' &&
	grep -qx qt_queue '$T_DIR/names'"
check "promtool fails on a parse error, showing the message with its column" -- bash -c \
	"out=\$(promtool query instant '$url' 'qt_temp \$ 1' 2>&1); rc=\$?; echo \"\$out\";
	[ \$rc -ne 0 ] && grep -q 'bad_data.*1:9' <<<\"\$out\""

# ---- the JSON, as Prometheus shapes it
check "a vector: metric objects with __name__, [time, \"value\"] at the asked time" -- judge "query?query=qt_temp&time=$TE" \
	'vec() == {L(__name__="qt_temp", room="a", site="x"): (TE, "40"),
	L(__name__="qt_temp", room="b", site="x"): (TE, "80.5")}'
check "time in RFC 3339 means the same" -- judge "query?query=qt_temp&time=$(rfc "$TE")" \
	'vec() == {L(__name__="qt_temp", room="a", site="x"): (TE, "40"),
	L(__name__="qt_temp", room="b", site="x"): (TE, "80.5")}'
check "time with a fraction: the point's time is the asked time, the value the latest before it" -- \
	judge "query?query=qt_temp%7Broom%3D%22a%22%7D&time=$((T0 + 7)).25" \
	'vec() == {L(__name__="qt_temp", room="a", site="x"): (T0 + 7.25, "17")}'
now=$(date +%s)
check "without time: now, and the latest points (15 s old, within the lookback)" -- judge "query?query=qt_temp" \
	'sorted(v for t, v in vec().values()) == ["40", "80.5"] and
	all('"$now"' <= t <= time.time() + 1 for t, v in vec().values())'
check "a selector matching nothing: an empty vector" -- judge "query?query=qt_nothing&time=$TE" 'vec() == {}'
check "a scalar: [time, \"value\"]" -- judge "query?query=1%2B1&time=$TE" \
	'point(ok("scalar")) == (TE, "2")'
check "a scalar at an RFC 3339 time with a fraction" -- judge \
	"query?query=2.5*2&time=$(rfc "$TE" | sed 's/Z$/.5Z/')" 'point(ok("scalar")) == (TE + 0.5, "5")'
check "a matrix: metric objects and [[time, \"value\"], ...] for every step" -- \
	judge "query_range?query=qt_temp&start=$((T0 + 5))&end=$((T0 + 25))&step=5" \
	'"warnings" not in d and mat() == {
	L(__name__="qt_temp", room="a", site="x"): [(T0 + i, str(10 + i)) for i in range(5, 26, 5)],
	L(__name__="qt_temp", room="b", site="x"): [(T0 + i, "%d.5" % (20 + 2 * i)) for i in range(5, 26, 5)]}'
check "step as a duration and start/end in RFC 3339 mean the same" -- \
	judge "query_range?query=qt_temp%7Broom%3D%22a%22%7D&start=$(rfc $((T0 + 5)))&end=$(rfc $((T0 + 25)))&step=5s" \
	'mat() == {L(__name__="qt_temp", room="a", site="x"): [(T0 + i, str(10 + i)) for i in range(5, 26, 5)]}'
check "a range before the data: an empty matrix" -- judge "query_range?query=qt_temp&start=$((T0 - 400))&end=$((T0 - 350))&step=10" \
	'mat() == {}'
check "a step finer than the data: every point at that step, or a coarser step and a warning saying so" -- \
	judge "query_range?query=qt_temp%7Broom%3D%22a%22%7D&start=$((T0 + 5))&end=$((T0 + 7))&step=0.25" \
	'(lambda ps, w: len(ps) >= 2 and ps[0][0] == T0 + 5 and
	all(v == str(10 + int(t - T0)) for t, v in ps) and
	(lambda st: (st == 0.25 and w is None) or (st > 0.25 and isinstance(w, list) and len(w) > 0 and
	all(isinstance(x, str) and x for x in w)))(ps[1][0] - ps[0][0]) and
	all(abs(ps[i + 1][0] - ps[i][0] - (ps[1][0] - ps[0][0])) < 1e-6 for i in range(len(ps) - 1)))
	(mat()[L(__name__="qt_temp", room="a", site="x")], d.get("warnings"))'
check "a range of 10,000 steps is answered" -- judge "query_range?query=qt_temp&start=$((TE - 10000))&end=$TE&step=1" \
	'isinstance(mat(), dict)'

# gauge arithmetic at TE: a = 40, b = 80.5
while IFS='|' read -r -u 3 expr want; do
	enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$expr")
	check "$expr" -- judge "query?query=$enc&time=$TE" "vec() == {$want}"
done 3<<'EOT'
sum(qt_temp)|L(): (TE, "120.5")
avg(qt_temp)|L(): (TE, "60.25")
count(qt_temp)|L(): (TE, "2")
max by (site) (qt_temp)|L(site="x"): (TE, "80.5")
min without (room) (qt_temp)|L(site="x"): (TE, "40")
qt_temp{room="a"} * 2 + 1|L(room="a", site="x"): (TE, "81")
qt_temp{room="b"} - ignoring(room) qt_temp{room="a"}|L(site="x"): (TE, "40.5")
qt_temp > 50|L(__name__="qt_temp", room="b", site="x"): (TE, "80.5")
qt_temp / 4|L(room="a", site="x"): (TE, "10"), L(room="b", site="x"): (TE, "20.125")
EOT

check "series: label objects with __name__" -- judge "series?match%5B%5D=qt_temp&start=$T0&end=$TE" \
	'code == 200 and d["status"] == "success" and sorted(L(**m) for m in d["data"]) ==
	[L(__name__="qt_temp", room="a", site="x"), L(__name__="qt_temp", room="b", site="x")]'
check "series: a selector with a matcher" -- judge "series?match%5B%5D=%7B__name__%3D~%22qt_.%2B%22%2Croom%21%3D%22b%22%7D" \
	'code == 200 and sorted(L(**m) for m in d["data"]) ==
	[L(__name__="qt_queue", shop="north"), L(__name__="qt_temp", room="a", site="x")]'
check "labels: sorted, unique, with __name__ and the pushed label names" -- judge labels \
	'code == 200 and d["status"] == "success" and d["data"] == sorted(set(d["data"])) and
	all(isinstance(x, str) for x in d["data"]) and {"__name__", "room", "site", "shop"} <= set(d["data"])'
check "label values: sorted" -- judge label/room/values 'code == 200 and d["data"] == ["a", "b"]'
check "label __name__ values: the metric names, sorted" -- judge label/__name__/values \
	'code == 200 and d["data"] == sorted(set(d["data"])) and {"qt_temp", "qt_queue"} <= set(d["data"])'
check "metadata: type, help and unit per metric name" -- judge metadata \
	'code == 200 and d["status"] == "success" and
	d["data"]["qt_temp"] == [{"type": "gauge", "help": "Temperature pushed by query_api.sh.", "unit": ""}] and
	d["data"]["qt_queue"] == [{"type": "gauge", "help": "Orders waiting, pushed by query_api.sh.", "unit": ""}]'
version=$("$REEVE" version | sed 's/^reeve //')
check "status/buildinfo: reeve's version" -- judge status/buildinfo \
	'code == 200 and d["status"] == "success" and d["data"]["version"] == "'"$version"'"'

check "a POST form works as GET (query)" -- bash -c "
	curl -sf '$api/query?query=sum%20by%20(room)%20(qt_temp)&time=$TE' > '$T_DIR/get.json' &&
	curl -sf --data-urlencode 'query=sum by (room) (qt_temp)' --data-urlencode time=$TE '$api/query' > '$T_DIR/post.json' &&
	python3 -c 'import json, sys; a, b = (json.load(open(f)) for f in sys.argv[1:]);
sys.exit(not (a == b and a[\"status\"] == \"success\" and len(a[\"data\"][\"result\"]) == 2))' '$T_DIR/get.json' '$T_DIR/post.json'"
check "a POST form works as GET (query_range)" -- bash -c "
	curl -sf '$api/query_range?query=qt_temp&start=$T0&end=$TE&step=10' > '$T_DIR/get.json' &&
	curl -sf -H 'Content-Type: application/x-www-form-urlencoded' --data 'query=qt_temp&start=$T0&end=$TE&step=10' \
		'$api/query_range' > '$T_DIR/post.json' &&
	python3 -c 'import json, sys; a, b = (json.load(open(f)) for f in sys.argv[1:]);
sys.exit(not (a == b and a[\"data\"][\"resultType\"] == \"matrix\" and len(a[\"data\"][\"result\"]) == 2))' '$T_DIR/get.json' '$T_DIR/post.json'"

# ---- errors
check "no query: 400 bad_data" -- judge "query?time=$TE" 'err(400, "bad_data")'
check "an unparseable expression: 400 naming line and column" -- judge "query?query=qt_temp%20%24%201" \
	'err(400, "bad_data", "1:9")'
check "an unclosed parenthesis: 400 bad_data" -- judge "query?query=sum(qt_temp" 'err(400, "bad_data")'
check "a bad time: 400 naming time" -- judge "query?query=qt_temp&time=yesterday" 'err(400, "bad_data", "time")'
check "query_range without start: 400 naming start" -- judge "query_range?query=qt_temp&end=$TE&step=1" \
	'err(400, "bad_data", "start")'
check "step=0: 400 naming step" -- judge "query_range?query=qt_temp&start=$T0&end=$TE&step=0" \
	'err(400, "bad_data", "step")'
check "a negative step: 400 naming step" -- judge "query_range?query=qt_temp&start=$T0&end=$TE&step=-5" \
	'err(400, "bad_data", "step")'
check "a step that is no number or duration: 400 naming step" -- \
	judge "query_range?query=qt_temp&start=$T0&end=$TE&step=often" 'err(400, "bad_data", "step")'
check "end before start: 400" -- judge "query_range?query=qt_temp&start=$TE&end=$T0&step=1" \
	'err(400, "bad_data") and ("end" in d["error"] or "start" in d["error"])'
check "too many points (start=0, end=1e9, step=1): 4xx with an error" -- \
	judge "query_range?query=qt_temp&start=0&end=1e9&step=1" \
	'err(422, "execution") if code == 422 else err(400, "bad_data")'
check "series without match[]: 400" -- judge "series" 'err(400, "bad_data")'
check "an unknown endpoint under /api/v1: 404 JSON" -- judge "no_such_endpoint" 'err(404, "not_found")'
check "DELETE /api/v1/query: 405 with an Allow header naming GET and POST" -- bash -c "
	[ \"\$(curl -s -o '$T_DIR/answer.json' -D '$T_DIR/headers' -w '%{http_code}' -X DELETE '$api/query?query=1')\" = 405 ] &&
	tr -d '\r' < '$T_DIR/headers' | grep -i '^Allow:' | grep -q GET &&
	tr -d '\r' < '$T_DIR/headers' | grep -i '^Allow:' | grep -q POST &&
	python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))[\"status\"] != \"error\")' '$T_DIR/answer.json'"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0

# ---- tokens: the read endpoints need the read role
read_secret=query-read-secret-0001
push_secret=query-push-secret-0001
write_config "$T_DIR/tokens.conf" "$port" "
[token grafana]
secret = $read_secret
roles = read

[token app]
secret = $push_secret
roles = push"
start_reeve "$T_DIR/tokens.conf" "$T_DIR/log2"
wait_for 10 curl -sf -o /dev/null "$url/healthz"
check "the push token pushes a point" -- bash -c "printf 'qt_token 3 %s\\n' \$(( \$(date +%s) * 1000 )) |
	curl -sf -o /dev/null -H 'Authorization: Bearer $push_secret' --data-binary @- '$api/push'"
check "no token: 401 JSON" -- judge "query?query=1%2B1" 'err(401, "unauthorized")'
check "a wrong token: 401 JSON" -- judge "query?query=1%2B1" 'err(401, "unauthorized")' \
	-H "Authorization: Bearer query-wrong-secret-0001"
check "the read token: 200, and the data pushed with the push token" -- judge "query?query=qt_token" \
	'vec() and [v for t, v in vec().values()] == ["3"]' -H "Authorization: Bearer $read_secret"
for p in "query_range?query=1&start=$T0&end=$TE&step=10" "series?match%5B%5D=qt_token" labels \
	label/__name__/values metadata; do
	check "/api/v1/${p%%\?*}: 401 without a token, 403 with the push token, 200 with the read token" -- bash -c "
		[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$api/$p')\" = 401 ] &&
		[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $push_secret' '$api/$p')\" = 403 ] &&
		[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $read_secret' '$api/$p')\" = 200 ]"
done
stop_reeve
check "no secret reached the log" -- bash -c "! grep -q -e '$read_secret' -e '$push_secret' '$T_DIR/log2'"
t_done
