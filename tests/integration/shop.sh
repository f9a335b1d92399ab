#!/usr/bin/env bash
# shop.sh: the shop example (etc/shop.conf) end to end, against real servers started here:
# the checkout API (a local HTTP server), the orders database (PostgreSQL), the cron job's
# status file (the example's Nagios check) and payment events through the events API. The
# example is used as shipped, with only its paths, addresses and intervals rewritten.
. "$TEST_LIB"
plan 12
. "$(dirname "$TEST_LIB")/pg.sh"
top=$(cd "$(dirname "$TEST_LIB")/../.." && pwd)
port=$(free_port)
web=$(free_port)
PW="Shop-$RANDOM$RANDOM-pw"

pg_init
pg_start
psql_admin -d postgres -c "CREATE ROLE reeve LOGIN PASSWORD '$PW'" -c "CREATE DATABASE shop"
psql_admin -d shop -c "CREATE TABLE orders (shop text, state text, amount numeric, created timestamptz)" \
	-c "INSERT INTO orders VALUES ('berlin', 'awaiting_payment', 20, now() - interval '10 minutes'),
		('berlin', 'awaiting_payment', 5.5, now()), ('berlin', 'paid', 100, now()),
		('paris', 'awaiting_payment', 7, now())" \
	-c "GRANT SELECT ON orders TO reeve"

mkdir -p "$T_DIR/www/api/checkout" "$T_DIR/etc"
echo '{"status": "ok", "queue": {"pending": 3}, "payment_provider": {"reachable": true}}' \
	> "$T_DIR/www/api/checkout/health"
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T_DIR/www" "$web" >"$T_DIR/web.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$web/api/checkout/health"
echo "Bearer checkout-canary-token" > "$T_DIR/etc/checkout-api.token"
echo "shop-app-token-0123456789" > "$T_DIR/etc/shop-app.token"
printf 'host=%s dbname=shop user=reeve password=%s\n' "$pg" "$PW" > "$T_DIR/etc/shopdb.conn"
chmod 600 "$T_DIR/etc/"*
now=$(date +%s)
echo "0 $((now - 120)) $((now - 60))" > "$T_DIR/inventory-export.status"

sed -e "s|^data_dir = .*|data_dir = $T_DIR/data|" -e "s|^interval = .*|interval = 1s|" \
	-e "s|^listen = .*|listen = 127.0.0.1:$port|" -e "s|/etc/reeve/|$T_DIR/etc/|g" \
	-e "s|https://shop.example.com|http://127.0.0.1:$web|" -e "s|^statement_timeout = .*|statement_timeout = 800ms|" \
	-e "s|/usr/local/lib/reeve/check-cron-status|$top/etc/shop/check-cron-status|" \
	-e "s|/var/lib/shop/|$T_DIR/|" "$top/etc/shop.conf" > "$T_DIR/shop.conf"
check "the shop example passes reeve check" -- "$REEVE" check -c "$T_DIR/shop.conf"
start_reeve "$T_DIR/shop.conf" "$T_DIR/log"
m() { curl -sf "http://127.0.0.1:$port/metrics"; }
target="http://127.0.0.1:$web/api/checkout/health"
check "checkout API: up, with its latency" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m.txt' &&
	grep -qx 'http_up{service=\"checkout\",target=\"$target\"} 1' '$T_DIR/m.txt' &&
	grep -q '^http_request_duration_seconds{service=\"checkout\",target=\"$target\"} [0-9.e-]*$' '$T_DIR/m.txt'"
check "checkout API: values from its JSON answer" -- bash -c "
	grep -qx 'checkout_queue_pending{service=\"checkout\",target=\"$target\"} 3' '$T_DIR/m.txt' &&
	grep -qx 'checkout_payment_provider_up{service=\"checkout\",target=\"$target\"} 1' '$T_DIR/m.txt'"
check "orders awaiting payment per shop, from PostgreSQL" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m.txt' &&
	grep -qx 'orders_pending{shop=\"berlin\"} 2' '$T_DIR/m.txt' && grep -qx 'orders_amount{shop=\"berlin\"} 25.5' '$T_DIR/m.txt' &&
	grep -qx 'orders_pending{shop=\"paris\"} 1' '$T_DIR/m.txt'"
check "the oldest waiting order's age" -- bash -c "awk '\$1 == \"orders_oldest_age_seconds{shop=\\\"berlin\\\"}\" && \$2 >= 590 && \$2 < 900 { ok = 1 } END { exit !ok }' '$T_DIR/m.txt'"
check "the cron job's check is OK" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_status{check=\"inventory_export\"} 0'"
echo "1 $((now - 30)) $((now - 10))" > "$T_DIR/inventory-export.status"
check "a failed cron job turns it critical" -- wait_for 15 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_check_status{check=\"inventory_export\"} 2'"
ev() { curl -s -o /dev/null -w '%{http_code}' "$@" -H 'Content-Type: application/json' \
	-d '{"event":"payment_failed","labels":{"provider":"acme"}}' "http://127.0.0.1:$port/api/v1/events"; }
check "payment events need the shop's push token" -- test "$(ev)" = 401
check "payment events with the token are counted" -- bash -c "
	[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer shop-app-token-0123456789' -H 'Content-Type: application/json' \
		-d '{\"event\":\"payment_failed\",\"labels\":{\"provider\":\"acme\"}}' http://127.0.0.1:$port/api/v1/events)\" = 200 ] &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qx 'reeve_events_total{event=\"payment_failed\",provider=\"acme\"} 1'"
check "all of it is stored in RRD files" -- wait_for 10 bash -c "
	test -f '$T_DIR/data/rrd/orders_pending/shop=berlin.rrd' && test -f '$T_DIR/data/rrd/reeve_check_status/check=inventory_export.rrd' &&
	ls '$T_DIR/data/rrd/checkout_queue_pending/service=checkout/' | grep -q '^target=' &&
	test -f '$T_DIR/data/rrd/reeve_events_total/event=payment_failed/provider=acme.rrd'"
check "no secret of the example reaches the log or /metrics" -- bash -c "
	curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m.txt'
	! grep -q -e '$PW' -e 'checkout-canary-token' -e 'shop-app-token' '$T_DIR/log' '$T_DIR/m.txt'"
stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
t_done
