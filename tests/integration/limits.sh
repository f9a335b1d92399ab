#!/usr/bin/env bash
# limits.sh: the HTTP server's limits. Slow clients: 500 half-open connections from
# 127.0.0.2 (a request line and no end of headers) get at most max_per_ip connections, are
# closed after the idle timeout, and meanwhile a client on 127.0.0.1 keeps getting answers.
# Body caps per endpoint (push_max_body, max_body; declared or chunked), query limits
# (points per series, points per query, time), and every refusal as Prometheus-shaped JSON.
. "$TEST_LIB"
plan 23
port=$(free_port)
url="http://127.0.0.1:$port"
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load"
sed -i 's/^timeout = 5s$/timeout = 3s\nmax_per_ip = 8\nmax_body = 4KiB\npush_max_body = 2KiB\nquery_max_samples = 5000/' \
	"$T_DIR/reeve.conf"
check "reeve check accepts the limits" -- "$REEVE" check -c "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf "$url/healthz"

# ---- slow clients ----
# half_open: hold N connections from 127.0.0.2, each sent an unfinished request; report how
# many the server kept after 1 s, then wait for the server to close the rest (idle timeout)
cat > "$T_DIR/half_open.py" <<'EOP'
import select, socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: reeve\r\n")
    except OSError:
        s.close()
        continue
    socks.append(s)

def closed(s):
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True

time.sleep(1)
kept = [s for s in socks if not closed(s)]
print("kept", len(kept), flush=True)
open(sys.argv[4], "w").write("%d\n" % len(kept))
end = time.time() + hold
while time.time() < end and not all(closed(s) for s in kept):
    time.sleep(0.2)
print("still open", sum(1 for s in kept if not closed(s)), flush=True)
EOP
/usr/bin/python3 "$T_DIR/half_open.py" "$port" 500 20 "$T_DIR/kept" > "$T_DIR/half_open.out" 2>&1 &
slow=$!
T_PIDS+=("$slow")
wait_for 10 test -s "$T_DIR/kept"
check "of 500 half-open connections from 127.0.0.2 the server keeps max_per_ip (8)" -- test "$(cat "$T_DIR/kept")" = 8
ok=0
lat="$T_DIR/latencies"
: > "$lat"
for i in $(seq 1 100); do
	c=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$url/metrics")
	echo "${c#* }" >> "$lat"
	[ "${c%% *}" = 200 ] && ok=$((ok + 1))
done
check "meanwhile 100 of 100 /metrics requests from 127.0.0.1 are answered 200" -- test "$ok" = 100
diag "latency of those requests (s): p50 $(sort -n "$lat" | awk '{ a[NR] = $1 } END { print a[int(NR * 0.5)] }'), p99 $(sort -n "$lat" | awk '{ a[NR] = $1 } END { print a[int(NR * 0.99)] }'), max $(sort -n "$lat" | tail -1)"
wait "$slow"
check "the server closed the idle half-open connections (timeout = 3s)" -- grep -qx "still open 0" "$T_DIR/half_open.out"
check "and still answers" -- curl -sf -o /dev/null "$url/healthz"

# ---- body caps ----
json_error() { # FILE STATUS TYPE: the body is Prometheus's error JSON of that type
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["status"] == "error" and d["errorType"] == sys.argv[2] and d["error"]))' "$1" "$2"
}
code() { curl -s -o "$T_DIR/body" -w '%{http_code}' "$@"; }
head -c 3000 /dev/zero | tr '\0' 'x' > "$T_DIR/3k"
head -c 6000 /dev/zero | tr '\0' 'x' > "$T_DIR/6k"
check "a push over push_max_body (2 KiB) is 413" -- test "$(code --data-binary @"$T_DIR/3k" "$url/api/v1/push")" = 413
check "... as JSON naming push_max_body" -- grep -q 'larger than 2048 bytes (\[http\] push_max_body)' "$T_DIR/body"
check "a 3 KiB query form is within max_body (4 KiB): not 413" -- test "$(code --data-urlencode "query=reeve_series or vector_x_$(head -c 2900 "$T_DIR/3k")" "$url/api/v1/query")" != 413
check "a 6 KiB query form over max_body is 413" -- test "$(code --data-binary @"$T_DIR/6k" "$url/api/v1/query")" = 413
check "... as JSON naming max_body" -- grep -q 'larger than 4096 bytes (\[http\] max_body)' "$T_DIR/body"
check "a chunked 6 KiB body (no Content-Length) is 413 too" -- test "$(code -H 'Transfer-Encoding: chunked' --data-binary @"$T_DIR/6k" "$url/api/v1/silences")" = 413
check "... as Prometheus's error JSON" -- json_error "$T_DIR/body" bad_data

# ---- query limits ----
now=$(date +%s)
wait_for 10 bash -c "curl -s '$url/api/v1/query?query=load1' | grep -q '\"value\"'"
check "a range of more than 11,000 points per series is 400" -- test "$(code "$url/api/v1/query_range?query=load1&start=$((now - 20000))&end=$now&step=1")" = 400
check "... saying so, as Prometheus does" -- grep -q 'exceeded maximum resolution of 11,000 points per timeseries' "$T_DIR/body"
check "an answer of more points than query_max_samples (5000) is 422" -- test "$(code "$url/api/v1/query_range?query=time()&start=$((now - 9000))&end=$now&step=1")" = 422
check "... execution error naming the limit" -- grep -q 'too many samples into memory in query execution (more than 5000 points; \[http\] query_max_samples)' "$T_DIR/body"
check "a query over its timeout= is 503" -- test "$(code "$url/api/v1/query_range?query=load1&start=$((now - 3000))&end=$now&step=1&timeout=0.000001")" = 503
check "... errorType timeout" -- json_error "$T_DIR/body" timeout
check "a bad timeout= is 400 bad_data" -- bash -c "test \"\$(curl -s -o '$T_DIR/body' -w '%{http_code}' '$url/api/v1/query?query=load1&timeout=soon')\" = 400 && grep -q 'invalid parameter \\\\\"timeout\\\\\"' '$T_DIR/body'"

# ---- every refusal is JSON ----
check "an unknown path is 404 JSON" -- bash -c "test \"\$(curl -s -o '$T_DIR/body' -w '%{http_code}' '$url/nope')\" = 404"
check "... errorType not_found" -- json_error "$T_DIR/body" not_found
check "a wrong method is 405 JSON with Allow" -- bash -c "curl -si -X PUT '$url/api/v1/query?query=1' | grep -qi '^Allow: GET, HEAD, POST'"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
t_done
