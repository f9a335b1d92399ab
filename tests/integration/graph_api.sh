#!/usr/bin/env bash
# graph_api.sh: GET /api/v1/graph.png and graph.svg: pushed series drawn by rrd_graph (a
# selector's own files, an expression's answer), the image's size, the short cache, and bad
# requests answered as JSON errors.
. "$TEST_LIB"
plan 9
PY=/usr/bin/python3
port=$(free_port)
api=http://127.0.0.1:$port
write_config "$T_DIR/reeve.conf" "$port"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 15 curl -sf -o /dev/null "$api/healthz"
for i in 1 2 3 4; do
	printf 'gt_temp{room="a"} 2%s.5\ngt_temp{room="b"} 1%s\n' "$i" "$i" |
		curl -sf -o /dev/null --data-binary @- "$api/api/v1/push"
	sleep 1
done
start=$(($(date +%s) - 120))
get() { # get FILE QUERY: the HTTP status; the body in FILE, the headers in FILE.h
	curl -s -D "$1.h" -o "$1" -w '%{http_code}' "$api/api/v1/$2"
}
png_size() { # the width and height of a PNG file
	"$PY" -c 'import struct, sys; d = open(sys.argv[1], "rb").read(); assert d[:8] == b"\x89PNG\r\n\x1a\n"; print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"
}
export -f get png_size
export api PY
check "graph.png of a selector: a PNG" -- bash -c "
	[ \"\$(curl -s -o '$T_DIR/a.png' -w '%{http_code} %{content_type}' '$api/api/v1/graph.png?expr=gt_temp&start=$start&width=400&height=150&title=T%C3%A4glich')\" = '200 image/png' ]"
check "its size follows width and height (plus rrd_graph's margins)" -- bash -c "
	s=\$(png_size '$T_DIR/a.png'); w=\${s%x*}; h=\${s#*x}
	[ \$w -gt 400 ] && [ \$w -lt 600 ] && [ \$h -gt 150 ] && [ \$h -lt 350 ]"
check "graph.svg of an expression: SVG that parses" -- bash -c "
	[ \$(get '$T_DIR/b.svg' 'graph.svg?expr=sum(gt_temp)&start=$start') = 200 ] &&
	grep -qi 'content-type: image/svg+xml' '$T_DIR/b.svg.h' &&
	$PY -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(not r.tag.endswith(\"svg\"))' '$T_DIR/b.svg'"
check "the same request again within seconds: the same image (cached)" -- bash -c "
	curl -s -o '$T_DIR/a2.png' '$api/api/v1/graph.png?expr=gt_temp&start=$start&width=400&height=150&title=T%C3%A4glich' &&
	cmp -s '$T_DIR/a.png' '$T_DIR/a2.png'"
check "a bad expression: 400 with the column" -- bash -c "
	[ \$(get '$T_DIR/e1' 'graph.png?expr=rat(gt_temp)') = 400 ] && grep -q '1:1: unknown function' '$T_DIR/e1'"
check "no expression: 400" -- bash -c "[ \$(get '$T_DIR/e2' 'graph.png') = 400 ] && grep -q '\"errorType\":\"bad_data\"' '$T_DIR/e2'"
check "a width out of range: 400" -- bash -c "[ \$(get '$T_DIR/e3' 'graph.png?expr=gt_temp&width=99999') = 400 ]"
check "end before start: 400" -- bash -c "[ \$(get '$T_DIR/e4' 'graph.png?expr=gt_temp&start=2000&end=1000') = 400 ]"
check "a series without data: 422 with a message" -- bash -c "
	[ \$(get '$T_DIR/e5' 'graph.png?expr=no_such_series') = 422 ] && grep -q 'no data' '$T_DIR/e5'"
stop_reeve
t_done
