#!/usr/bin/env bash
# http_mutate.sh: malformed HTTP. http_mutate.py sends 3,000 mutated requests (byte flips,
# truncations, duplicated and oversized headers, bad methods and versions, bad chunked
# encoding, huge and doubled Content-Length, NUL bytes, bad percent-encoding, long URLs,
# header folding, HTTP/0.9, bare LF, pipelining...) made from valid requests to every
# endpoint, in 10 batches of 300, each on its own connection. Every answer must be 2xx (the
# mutation left it valid), 4xx, 503 or libmicrohttpd's 505 for an unknown HTTP version, or
# the connection closed; never another 5xx, never a connection left hanging. /healthz
# answers 200 after each batch; then SIGTERM exits 0 and the log holds no sanitizer report.
# Under `make check` of a --enable-sanitizers build this runs against the ASan/UBSan daemon.
# The random seed is printed; HTTP_MUTATE_SEED=N repeats a run's requests.
. "$TEST_LIB"
plan 6
port=$(free_port)
api=http://127.0.0.1:$port
here=$(dirname "$TEST_LIB")
seed=${HTTP_MUTATE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
diag "seed $seed (HTTP_MUTATE_SEED=$seed repeats these requests)"
diag "daemon: $REEVE (sanitizer build: ${REEVE_SANITIZERS:-unknown})"
# in the sanitizer build: librrd's own leaks (graphs) are not reeve's (tests/lsan.supp)
export LSAN_OPTIONS="suppressions=$here/../lsan.supp:fast_unwind_on_malloc=0"

# A short idle timeout: a request cut short is dropped after 2 s. The alert fires at once, a
# pushed series or two get files ([reeve] interval 10s, the compact preset: small files).
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load
interval = 1s

[alert MutAlert]
expr = load1 >= 0
eval_interval = 1s"
sed -i -e 's/^timeout = 5s$/timeout = 2s/' -e '/^\[reeve\]/,/^$/s/^interval = 1s$/interval = 10s/' \
	"$T_DIR/reeve.conf"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
check "reeve answers /healthz" -- wait_for 60 curl -sf -o /dev/null "$api/healthz"
wait_for 30 bash -c "curl -sf '$api/api/v1/alerts' | grep -q MutAlert"
requests0=$(metric_value "$port" reeve_http_requests_total)

/usr/bin/python3 "$here/http_mutate.py" --port "$port" --seed "$seed" --count 3000 --batch 300 \
	--workers 16 --hang 60 --out "$T_DIR/failures.txt" > "$T_DIR/mutate.out" 2>&1
rc=$?
diag "$(cat "$T_DIR/mutate.out")"
check "3,000 mutated requests: each answered 2xx, 4xx, 503 or 505, or closed; none hung" -- \
	grep -q '^total: 3000 requests, 0 failures' "$T_DIR/mutate.out"
check "/healthz answered 200 after each of the 10 batches" -- \
	test "$(grep -c '^batch .*/healthz 200$' "$T_DIR/mutate.out")" = 10
requests1=$(metric_value "$port" reeve_http_requests_total)
diag "reeve_http_requests_total went from $requests0 to $requests1"
check "the requests reached the handlers (reeve_http_requests_total rose by more than 1,000)" -- \
	test "$((${requests1%.*} - ${requests0%.*}))" -gt 1000
[ "$rc" = 0 ] || diag "http_mutate.py exited $rc"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
check "no sanitizer report in the log" -- bash -c "! grep -n 'Sanitizer\|runtime error' '$T_DIR/log'"
if [ "$T_FAILED" != 0 ]; then
	diag "$(grep -v '\[info\]' "$T_DIR/log" | tail -40)"
	cp -r "$T_DIR" "${TMPDIR:-/tmp}/http_mutate.failed" 2>/dev/null
fi
t_done
