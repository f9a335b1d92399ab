#!/usr/bin/env bash
# http.sh: bad HTTP input gets a clear answer or a closed connection, never a crash or a
# hang: oversized headers, long URLs, garbage bytes, idle connections, per-IP limits.
. "$TEST_LIB"
plan 9
port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load"
sed -i 's/^timeout = 5s$/timeout = 5s\nmax_per_ip = 4\nmemory_limit = 16KiB/' "$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
wait_for 10 curl -sf "http://127.0.0.1:$port/readyz"
url="http://127.0.0.1:$port"

big=$(head -c 40000 /dev/zero | tr '\0' 'a')
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $big" "$url/metrics")
check "an oversized header is refused with 4xx (got $code)" -- bash -c "[ '$code' -ge 400 ] && [ '$code' -lt 500 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/$big")
check "an oversized URL is refused with 4xx (got $code)" -- bash -c "[ '$code' -ge 400 ] && [ '$code' -lt 500 ]"
# garbage on a raw socket: answered or closed, within the timeout
timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; printf '\x00\x01\xff GARBAGE\r\n\r\n' >&3; cat <&3" >"$T_DIR/garbage.out" 2>&1
rc=$?
diag "garbage answer: $(head -c 100 "$T_DIR/garbage.out" | tr -dc '[:print:]')"
check "garbage bytes get an error or a closed connection, not a hang" -- test "$rc" -ne 124
code=$(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n' | timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; head -1 <&3" | awk '{print $2}')
check "a malformed Content-Length is refused with 400 (got $code)" -- test "$code" = 400
# an idle connection is closed after [http] timeout (5 s; long enough that the idle
# connections of the per-IP check below stay open on a loaded machine)
start=$SECONDS
timeout 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat <&3 >/dev/null"
check "an idle connection is closed after the timeout" -- test $((SECONDS - start)) -le 12
# per-IP limit: 4 idle connections held open, the fifth is refused, the server stays up
for i in 1 2 3 4 5 6; do
	exec {fd}<>"/dev/tcp/127.0.0.1/$port"
	fds+=("$fd")
done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$url/healthz")
check "over the per-IP limit a connection is refused (got $code)" -- test "$code" = 000
for fd in "${fds[@]}"; do exec {fd}>&-; done
check "after the limit frees up, requests are served again" -- wait_for 15 curl -sf "$url/healthz"
check "the daemon survived all of it" -- kill -0 "$REEVE_PID"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
t_done
