#!/usr/bin/env bash
# tls.sh: HTTPS with a certificate made by the test (its own CA): curl --cacert, TLS 1.2 and
# 1.3 only, tokens and the query API over HTTPS, the expiry metric, a renewed certificate
# served after SIGHUP without a restart, a broken one refused with the old one kept, and the
# configuration errors (missing key, a key readable by every user, a key of another
# certificate, not PEM) named with file:line.
. "$TEST_LIB"
plan 24
port=$(free_port)
url="https://127.0.0.1:$port"
cd "$T_DIR" || exit 1
ossl() { openssl "$@" 2>/dev/null; }
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ext
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=reeve test CA"
# sign NAME DAYS: a server certificate NAME.pem for 127.0.0.1 with key NAME.key (mode 600)
sign() {
	ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=localhost"
	chmod 600 "$1.key"
	ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
		-days "$2" -extfile ext
}
sign one 10
sign two 20
cp one.pem server.pem
cp one.key server.key
secret=tls-read-secret-000000001
write_config "$T_DIR/reeve.conf" "$port" "
[token grafana]
secret = $secret
roles = read"
sed -i 's/^timeout = 5s$/timeout = 5s\ntls_cert = server.pem\ntls_key = server.key/' reeve.conf
check "reeve check accepts the certificate and key (paths relative to the file)" -- "$REEVE" check -c reeve.conf
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"
check "HTTPS answers with the test's CA (curl --cacert)" -- wait_for 10 curl -sf --cacert ca.pem "$url/healthz"
rc=0; curl -s -o /dev/null "$url/healthz" || rc=$?
check "without the CA curl refuses the certificate (60)" -- test "$rc" = 60
rc=0; curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/healthz" || rc=$?
check "plain HTTP to the HTTPS port gets no answer" -- test "$rc" != 0
check "TLS 1.2 is accepted" -- curl -sf --cacert ca.pem --tlsv1.2 --tls-max 1.2 -o /dev/null "$url/healthz"
check "TLS 1.3 is accepted" -- curl -sf --cacert ca.pem --tlsv1.3 -o /dev/null "$url/healthz"
rc=0; curl -s -o /dev/null --cacert ca.pem --tlsv1.0 --tls-max 1.1 "$url/healthz" || rc=$?
check "TLS 1.1 and older are refused" -- test "$rc" != 0
code() { curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem "$@"; }
check "over HTTPS /metrics without a token is 401" -- test "$(code "$url/metrics")" = 401
check "over HTTPS /metrics with the read token is 200" -- test "$(code -H "Authorization: Bearer $secret" "$url/metrics")" = 200
check "the query API answers over HTTPS with the token" -- bash -c "curl -sf --cacert ca.pem -H 'Authorization: Bearer $secret' '$url/api/v1/query?query=reeve_build_info' | grep -q '^{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":\\[{\"metric\":{\"__name__\":\"reeve_build_info\"'"
expiry() { curl -s --cacert ca.pem -H "Authorization: Bearer $secret" "$url/metrics" |
	awk '$1 == "reeve_http_tls_certificate_expiry_timestamp_seconds" { printf "%d\n", $2 }'; }
not_after() { date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
check "the expiry metric is the certificate's notAfter" -- test "$(expiry)" = "$(not_after one.pem)"
serial() { echo | openssl s_client -connect "127.0.0.1:$port" -CAfile ca.pem 2>/dev/null |
	openssl x509 -noout -serial; }
check "the served certificate is the first one" -- test "$(serial)" = "$(openssl x509 -in one.pem -noout -serial)"

# renewal in place: SIGHUP serves the new certificate from the next connection, no restart
exec 3<>"/dev/tcp/127.0.0.1/$port" # a connection open across the reload
cp two.pem server.pem
cp two.key server.key
kill -HUP "$REEVE_PID"
served_two() { [ "$(serial)" = "$(openssl x509 -in two.pem -noout -serial)" ]; }
check "after SIGHUP the renewed certificate is served" -- wait_for 10 served_two
check "... and the expiry metric follows it" -- test "$(expiry)" = "$(not_after two.pem)"
check "... the log says so" -- grep -q "http: certificate .*server.pem (valid until .*) served from the next connection" log
check "... without a restart (same process, HTTPS answering)" -- bash -c "kill -0 $REEVE_PID && curl -sf --cacert ca.pem $url/healthz"
exec 3>&-

# a key that is not the certificate's: the reload is refused, the served certificate stays
cp one.key server.key
kill -HUP "$REEVE_PID"
check "a key of another certificate is refused on SIGHUP" -- wait_for 10 grep -q "server.key\" with tls_cert \".*server.pem\": the key does not belong to the certificate" log
check "... and the renewed certificate is still served" -- test "$(serial)" = "$(openssl x509 -in two.pem -noout -serial)"
cp two.key server.key
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0

# reeve check names each mistake with file:line
cert_line=$(grep -n '^tls_cert' reeve.conf | cut -d: -f1)
key_line=$(grep -n '^tls_key' reeve.conf | cut -d: -f1)
chmod 644 server.key
out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1)
check "a key file readable by every user is an error at its line" -- bash -c "echo '$out' | grep -q '^$T_DIR/reeve.conf:$key_line: \[http\] tls_key \".*server.key\": readable or writable by every user (chmod 600'"
chmod 600 server.key
cp one.key server.key
out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1)
check "a key of another certificate is an error at tls_key's line" -- bash -c "echo '$out' | grep -q '^$T_DIR/reeve.conf:$key_line: .*the key does not belong to the certificate'"
cp two.key server.key
echo "not a certificate" > server.pem
out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1)
check "a file that is not PEM is an error at tls_cert's line" -- bash -c "echo '$out' | grep -q '^$T_DIR/reeve.conf:$cert_line: \[http\] tls_cert \".*server.pem\": not a PEM file'"
sed -i '/^tls_key/d' reeve.conf
out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1)
check "tls_cert without tls_key is an error" -- bash -c "echo '$out' | grep -q '^$T_DIR/reeve.conf:$cert_line: \[http\] tls_cert: HTTPS needs both tls_cert and tls_key'"
check "the key never appears in a message" -- bash -c "! grep -q -f <(sed -n '2p' two.key) log"
t_done
