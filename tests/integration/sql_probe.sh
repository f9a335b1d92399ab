#!/usr/bin/env bash
# sql_probe.sh: the sql probe against a real PostgreSQL server (started here, on a unix socket
# in the test directory, with a password the server requires) and a SQLite file: rows become
# series in /metrics and RRD files, the connection comes back after a server restart, a slow
# query ends at its statement timeout, the password never shows, bad configs are refused.
. "$TEST_LIB"
plan 35

. "$(dirname "$TEST_LIB")/pg.sh"
CANARY="Canary-$RANDOM$RANDOM-pw"
rrd="$T_DIR/data/rrd"

pg_init
check "PostgreSQL starts on a unix socket in the test directory" -- pg_start
psql_admin -d postgres -c "CREATE ROLE reeve LOGIN PASSWORD '$CANARY'" -c "CREATE DATABASE shop"
psql_admin -d shop -c "CREATE TABLE orders (shop text, state text, amount numeric)" \
	-c "INSERT INTO orders VALUES ('berlin', 'pending', 10.5), ('berlin', 'pending', 2), ('berlin', 'done', 100), ('paris', 'pending', 7)" \
	-c "GRANT SELECT ON orders TO reeve"
check "the server requires the role's password" -- bash -c "! PGPASSWORD=wrong '$PGBIN/psql' -X -h '$pg' -U reeve -d shop -c 'SELECT 1' 2>/dev/null &&
	PGPASSWORD='$CANARY' '$PGBIN/psql' -X -h '$pg' -U reeve -d shop -Atc 'SELECT count(*) FROM orders' | grep -qx 4"

printf 'host=%s dbname=shop user=reeve password=%s\n' "$pg" "$CANARY" > "$T_DIR/pg.conn"
chmod 600 "$T_DIR/pg.conn"
sqlite3 "$T_DIR/app.db" "CREATE TABLE sync (name TEXT, lag REAL, ok BOOLEAN);
	INSERT INTO sync VALUES ('erp', 12.5, 1), ('crm', NULL, 0);"

port=$(free_port)
write_config "$T_DIR/reeve.conf" "$port" "
[probe load]
type = load

[probe shopdb]
type = sql
driver = postgresql
connection_file = $T_DIR/pg.conn
connect_timeout = 2s
statement_timeout = 800ms
query.orders = SELECT shop, count(*) FILTER (WHERE state = 'pending') AS pending,
	sum(amount) AS amount FROM orders GROUP BY shop
query.orders.value_columns = pending, amount
query.orders.label_columns = shop
query.orders.help = Orders of each shop.
query.open = SELECT count(*) > 0 AS any FROM orders WHERE state = 'pending'
query.open.value_columns = any

[probe pgslow]
type = sql
interval = 2s
timeout = 2s
driver = postgresql
connection_file = $T_DIR/pg.conn
statement_timeout = 500ms
query.slow = SELECT 1 AS v FROM pg_sleep(10)
query.slow.value_columns = v
query.write = WITH d AS (DELETE FROM orders RETURNING 1) SELECT count(*) AS n FROM d
query.write.value_columns = n
query.multi = SELECT 1 AS n; SELECT 2 AS n
query.multi.value_columns = n
query.fine = SELECT 7 AS n
query.fine.value_columns = n

[probe badpw]
type = sql
driver = postgresql
connection = host=$pg dbname=shop user=reeve password=Wrong-$CANARY
query.b = SELECT 1 AS v
query.b.value_columns = v

[probe lite]
type = sql
driver = sqlite
database = $T_DIR/app.db
query.sync = SELECT name, lag, ok FROM sync
query.sync.value_columns = lag, ok
query.sync.label_columns = name"
sed -i 's/^log_level = info$/log_level = debug/' "$T_DIR/reeve.conf"

out=$("$REEVE" check -c "$T_DIR/reeve.conf" 2>&1); rc=$?
check "reeve check accepts the sql probes without connecting" -- bash -c "[ $rc = 0 ] && [ \"\$0\" = 'configuration OK' ]" "$out"
echo "$out" > "$T_DIR/check-ok.out"
start_reeve "$T_DIR/reeve.conf" "$T_DIR/log"

has() { metrics "$port" | grep -qxF "$1"; }
check "PostgreSQL rows become labelled series" -- wait_for 15 has 'orders_pending{shop="berlin"} 2'
check "a second value column of the same rows" -- bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qxF 'orders_amount{shop=\"berlin\"} 112.5' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qxF 'orders_amount{shop=\"paris\"} 7'"
check "a boolean column is 1 or 0" -- wait_for 5 has 'open_any 1'
check "the query's help is served" -- bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qxF '# HELP orders_pending Orders of each shop.'"
check "the probe and its queries are up" -- bash -c "curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m1' &&
	grep -qxF 'reeve_probe_up{probe=\"shopdb\",type=\"sql\"} 1' '$T_DIR/m1' &&
	grep -qxF 'sql_query_up{probe=\"shopdb\",query=\"orders\"} 1' '$T_DIR/m1' &&
	grep -qxF 'sql_query_rows{probe=\"shopdb\",query=\"orders\"} 2' '$T_DIR/m1'"
check "RRD files appear for the series" -- wait_for 15 test -f "$rrd/orders_pending/shop=berlin.rrd" -a -f "$rrd/orders_amount/shop=paris.rrd"
stored_is_served() {
	local v m
	v=$(rrdtool lastupdate "$rrd/$1" | awk 'NR==3{print $2}')
	m=$(metric_value "$port" "$2")
	[ -n "$v" ] && [ -n "$m" ] && awk -v a="$v" -v b="$m" 'BEGIN{exit !(a==b)}'
}
check "the stored value is the served value" -- wait_for 10 stored_is_served orders_amount/shop=berlin.rrd 'orders_amount{shop="berlin"}'

psql_admin -d shop -c "INSERT INTO orders VALUES ('berlin', 'pending', 1), ('rome', 'pending', 5)"
check "new rows show at the next collection" -- wait_for 10 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -qxF 'orders_pending{shop=\"berlin\"} 3' &&
	curl -sf http://127.0.0.1:$port/metrics | grep -qxF 'orders_pending{shop=\"rome\"} 1'"
check "the changed value reaches the RRD file" -- wait_for 10 bash -c "rrdtool lastupdate '$rrd/orders_pending/shop=berlin.rrd' | awk 'NR==3{exit !(\$2==3)}'"

check "SQLite rows become series; a NULL value gives no sample" -- wait_for 10 bash -c "curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m2' &&
	grep -qxF 'sync_lag{name=\"erp\"} 12.5' '$T_DIR/m2' && grep -qxF 'sync_ok{name=\"crm\"} 0' '$T_DIR/m2' &&
	! grep -q '^sync_lag{name=\"crm\"}' '$T_DIR/m2'"

check "a slow query ends at its statement timeout with the server's message" -- wait_for 15 grep -q "probe pgslow: query slow: ERROR: canceling statement due to statement timeout" "$T_DIR/log"
check "the slow query is reported down, its probe is not stuck" -- bash -c "curl -sf http://127.0.0.1:$port/metrics > '$T_DIR/m3' &&
	grep -qxF 'sql_query_up{probe=\"pgslow\",query=\"slow\"} 0' '$T_DIR/m3' &&
	grep -qxF 'reeve_probe_timeouts_total{probe=\"pgslow\"} 0' '$T_DIR/m3' && ! grep -q '^slow_v' '$T_DIR/m3'"
check "the session is read-only: a query cannot delete" -- grep -q "probe pgslow: query write: ERROR: cannot execute [A-Z]* in a read-only transaction" "$T_DIR/log"
check "a query of two statements is refused" -- grep -q "probe pgslow: query multi: ERROR: cannot insert multiple commands into a prepared statement" "$T_DIR/log"
check "failing queries do not take the probe or its other queries down" -- bash -c "grep -qxF 'fine_n 7' '$T_DIR/m3' &&
	grep -qxF 'reeve_probe_up{probe=\"pgslow\",type=\"sql\"} 1' '$T_DIR/m3'"
check "a wrong password is a clear connection error" -- wait_for 10 grep -q "probe badpw: cannot connect to host=$pg dbname=shop: .*password authentication failed for user \"reeve\"" "$T_DIR/log"
check "the probe with the wrong password is down" -- wait_for 10 has 'reeve_probe_up{probe="badpw",type="sql"} 0'

# the server goes away: the probe is down, the others go on; it comes back: no restart needed
check "the server stops" -- pg_stop
check "the probe reports down while the server is stopped" -- wait_for 15 has 'reeve_probe_up{probe="shopdb",type="sql"} 0'
check "its queries are reported down too" -- wait_for 10 has 'sql_query_up{probe="shopdb",query="orders"} 0'
check "the failure says where it tried to connect" -- grep -q "probe shopdb: cannot connect to host=$pg dbname=shop: " "$T_DIR/log"
t=$(rrd_last "$rrd/load1.rrd")
check "other probes go on meanwhile" -- wait_for 10 rrd_last_ge "$rrd/load1.rrd" $((t + 2))
check "the SQLite probe goes on meanwhile" -- has 'sql_query_up{probe="lite",query="sync"} 1'
check "the server starts again" -- pg_start
psql_admin -d shop -c "INSERT INTO orders VALUES ('berlin', 'pending', 1)"
check "the probe reconnects by itself and sees the new rows" -- wait_for 60 has 'orders_pending{shop="berlin"} 4'
check "it is up again" -- wait_for 10 has 'reeve_probe_up{probe="shopdb",type="sql"} 1'
check "the reconnection is logged with where, not how" -- grep -q "probe shopdb: reconnected to PostgreSQL 15\.[0-9]* at host=$pg dbname=shop" "$T_DIR/log"

# a connection string with the password in the config itself, and a broken one
cat > "$T_DIR/inline.conf" <<EOC
[probe inline]
type = sql
driver = postgresql
connection = postgresql://reeve:$CANARY@localhost/shop?host=$pg
query.q = SELECT 1 AS v
query.q.value_columns = v
[probe broken]
type = sql
driver = postgresql
connection = host=$pg password=$CANARY oops
query.q = SELECT 1 AS v
query.q.value_columns = v
EOC
out=$("$REEVE" check -c "$T_DIR/inline.conf" 2>&1); rc=$?
echo "$out" > "$T_DIR/check-bad.out"
check "a broken connection string is refused without quoting it" -- bash -c "[ $rc = 1 ] && grep -q '^$T_DIR/inline.conf:10: \[probe broken\] connection: not a valid libpq connection string' <<<\"\$0\" &&
	[ \$(grep -c . <<<\"\$0\") = 1 ]" "$out"
metrics "$port" > "$T_DIR/m4"
check "the password appears in no log line, /metrics or reeve check output" -- bash -c "grep -c . '$T_DIR/log' >/dev/null && ! grep -qF -- '$CANARY' '$T_DIR/log' '$T_DIR/m4' '$T_DIR/check-ok.out' '$T_DIR/check-bad.out'"
check "/metrics with the sql series passes promtool" -- bash -c "promtool check metrics < '$T_DIR/m4'"

# bad configs: reeve check names file:line
bad() {
	printf '[probe bad]\ntype = sql\n%b\n' "$1" > "$T_DIR/bad.conf"
	out=$("$REEVE" check -c "$T_DIR/bad.conf" 2>&1); rc=$?
	[ "$rc" = 1 ] && grep -q "^$T_DIR/bad.conf:$2: \[probe bad\]$3" <<<"$out" || { echo "exit $rc: $out"; return 1; }
}
check "bad configs exit 1 with file:line and what is wrong" -- bash -c "$(declare -f bad); T_DIR='$T_DIR'; REEVE='$REEVE'
	bad 'database = $T_DIR/app.db\nquery.q = SELECT 1 AS v\nquery.q.value_columns = v' 1 \": missing key 'driver'\" &&
	bad 'driver = sqlite\ndatabase = $T_DIR/app.db\nquery.q = SELECT 1 AS v' 5 ' query.q: query q has no query.q.value_columns' &&
	bad 'driver = sqlite\ndatabase = $T_DIR/app.db\nquery.q = SELECT 1 AS v\nquery.q.value_columns = v,,w' 6 ' query.q.value_columns: column 2 of the list is empty' &&
	bad 'driver = postgresql\nconnection_file = $T_DIR/nope.conn\nquery.q = SELECT 1 AS v\nquery.q.value_columns = v' 4 ' connection_file: cannot open $T_DIR/nope.conn: No such file or directory'"

stop_reeve
check "SIGTERM exits 0" -- test "$REEVE_STATUS" = 0
diag "$(grep -E 'probe (shopdb|pgslow|lite)' "$T_DIR/log" | head -8)"
t_done
