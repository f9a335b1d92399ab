#!/usr/bin/env bash
# auth_matrix.sh: every endpoint of the HTTP API against no token, a wrong token and a token
# of each role (read, push, admin, and [http] token holding all three). An endpoint refuses
# with 401 (no or unknown token) or 403 (a known token without its role), as JSON; a token
# with the role always gets through. Then [http] open: the endpoints it lists are read
# without a token, the rest still ask, writes always ask. No secret reaches the debug log.
. "$TEST_LIB"
port=$(free_port)
url="http://127.0.0.1:$port"
s_read=matrix-read-secret-0000001
s_push=matrix-push-secret-0000001
s_admin=matrix-admin-secret-000001
s_all=matrix-http-token-00000001
now=$(date +%s)

# the endpoints: METHOD PATH ROLE [BODY]; ROLE "open" is /healthz and /readyz (open by default)
cat > "$T_DIR/endpoints" <<EOT
GET /metrics read
GET /healthz open
GET /readyz open
GET / read
GET /api/v1/query?query=reeve_build_info read
POST /api/v1/query read query=reeve_build_info
GET /api/v1/query_range?query=reeve_series&start=$((now - 60))&end=$now&step=10 read
GET /api/v1/series?match[]=reeve_build_info read
GET /api/v1/labels read
GET /api/v1/label/__name__/values read
GET /api/v1/metadata read
GET /api/v1/status/buildinfo read
GET /api/v1/graph.png?expr=reeve_series read
GET /api/v1/graph.svg?expr=reeve_series read
GET /api/v1/rules read
GET /api/v1/alerts read
GET /api/v1/alerts/history read
GET /api/v1/silences read
GET /api/v1/reports read
GET /reports/daily/none.html read
POST /api/v1/push push matrix_pushed 1
POST /api/v1/events push [{"event":"deploy"}]
POST /api/v1/silences admin {"matchers":"alertname=\"Nope\"","duration":"1h","comment":"matrix"}
DELETE /api/v1/silences/0123456789abcdef admin
POST /api/v1/alerts/0123456789abcdef/ack admin {"comment":"matrix"}
POST /api/v1/reports/daily/run admin
EOT
n_endpoints=$(wc -l < "$T_DIR/endpoints")
plan $((1 + n_endpoints * 6 + 12))

write_config "$T_DIR/reeve.conf" "$port" "
[token r]
secret = $s_read
roles = read

[token p]
secret = $s_push
roles = push

[token a]
secret = $s_admin
roles = admin

[alert MatrixAlways]
expr = reeve_series > 0
labels.severity = info

[report daily]
schedule = 0 7 * * *
period = 1d
formats = html
kpi.series = reeve_series"
sed -i -e "s/^timeout = 5s\$/timeout = 5s\ntoken = $s_all/" -e 's/^log_level = info$/log_level = debug/' \
	"$T_DIR/reeve.conf"
check "reeve check accepts the config" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf "$url/healthz"

# status METHOD PATH TOKEN BODY: the HTTP status; the body of a 401/403 must be the JSON error
status() {
	local auth=() data=()
	[ -n "$3" ] && auth=(-H "Authorization: Bearer $3")
	[ -n "$4" ] && data=(--data-binary "$4")
	curl -sg -o "$T_DIR/body" -w '%{http_code}' --max-time 20 -X "$1" "${auth[@]}" "${data[@]}" \
		"$url$2"
}
# expect CODE: 401 or 403 with the JSON error, or "through" (neither, and not a 5xx)
judge() {
	local got=$1 want=$2
	case $want in
	401 | 403)
		[ "$got" = "$want" ] && grep -q '^{"status":"error","errorType":"unauthorized","error":"' \
			"$T_DIR/body" ;;
	through) [ "$got" -ge 200 ] && [ "$got" -lt 500 ] && [ "$got" != 401 ] && [ "$got" != 403 ] ;;
	esac
}
declare -A held=([read]="r all" [push]="p all" [admin]="a all")
declare -A secret_of=([none]="" [wrong]="matrix-wrong-secret-000001" [r]=$s_read [p]=$s_push \
	[a]=$s_admin [all]=$s_all)
while read -r method path role body; do
	for who in none wrong r p a all; do
		if [ "$role" = open ]; then
			want=through
		elif [ "$who" = none ] || [ "$who" = wrong ]; then
			want=401
		elif [[ " ${held[$role]} " == *" $who "* ]]; then
			want=through
		else
			want=403
		fi
		got=$(status "$method" "$path" "${secret_of[$who]}" "$body")
		check "$method ${path%%\?*} with token $who: $want (got $got)" -- judge "$got" "$want"
	done
done < "$T_DIR/endpoints"
stop_reeve
check "no secret appears in the debug log" -- bash -c "! grep -q -e '$s_read' -e '$s_push' -e '$s_admin' -e '$s_all' -e matrix-wrong-secret '$T_DIR/log'"
check "the debug log names the refused token and role" -- grep -q "403 for /api/v1/push: token r lacks the push role" "$T_DIR/log"

# [http] open = metrics, api: those read without a token; /healthz (not listed) and / ask
sed -i "s/^token = $s_all\$/token = $s_all\nopen = metrics, api/" "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log2"
wait_for 10 curl -sf -H "Authorization: Bearer $s_read" "$url/healthz"
check "open = metrics, api: /metrics without a token is 200" -- test "$(status GET /metrics "" "")" = 200
check "... /api/v1/query without a token is 200" -- test "$(status GET '/api/v1/query?query=reeve_build_info' "" "")" = 200
check "... /api/v1/graph.svg without a token is 200" -- test "$(status GET '/api/v1/graph.svg?expr=reeve_series' "" "")" = 200
check "... /healthz (not listed) without a token is 401" -- judge "$(status GET /healthz "" "")" 401
check "... the status page / (not listed) without a token is 401" -- judge "$(status GET / "" "")" 401
check "... a push still needs the push role" -- judge "$(status POST /api/v1/push "" 'x 1')" 401
check "... a silence still needs the admin role" -- judge "$(status POST /api/v1/silences "" '{}')" 401
check "... a push token on an open endpoint gets what anyone gets (200)" -- test "$(status GET /metrics "$s_push" "")" = 200
stop_reeve

# open = none: even /healthz asks
sed -i 's/^open = metrics, api$/open = none/' "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log3"
healthz_read() { [ "$(status GET /healthz "$s_read" "")" = 200 ]; }
check "open = none: /healthz with the read token is 200" -- wait_for 10 healthz_read
check "... and without a token 401" -- judge "$(status GET /healthz "" "")" 401
stop_reeve
t_done
