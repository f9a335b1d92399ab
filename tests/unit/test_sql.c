/* test_sql.c: unit tests of the sql probe: its options, and queries to SQLite files made here. */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "probe_test_host.h"

/* From probes/sql.c, visible with REEVE_TESTING. */
int sql_parse_value(const char *text, double *out);
int sql_split_columns(const char *list, char **names, size_t max, size_t *n, char *err,
    size_t errlen);
void sql_scrub(const char *secret, char *buf, size_t size);

static char dir[] = "/tmp/reeve-sql-XXXXXX";
static char dbpath[128];

/* Run SQL statements on the test database (created when missing). */
static void
db_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sqlite3_exec: %s", msg);
	sqlite3_close(db);
}

static int
setup(void **unused)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/shop.db", dir);
	db_exec(dbpath,
	    "CREATE TABLE orders (shop TEXT, state TEXT, amount REAL);"
	    "INSERT INTO orders VALUES ('berlin', 'pending', 10.5), ('berlin', 'pending', 2),"
	    " ('berlin', 'done', 100), ('paris', 'pending', 7), ('paris', 'done', 1);"
	    "CREATE TABLE odd (shop TEXT, v);"
	    "INSERT INTO odd VALUES ('a', 1), ('b', NULL), (NULL, 3), ('d', 'abc'), ('e', 't'),"
	    " ('f', ' 42 '), ('g', x'00');");
	return 0;
}

static int
teardown(void **unused)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Captures what the fake host logs (stderr) between capture_start() and capture_end(). */
static int saved_fd = -1;
static char cap_path[160];

static void
capture_start(void)
{
	int fd;

	snprintf(cap_path, sizeof(cap_path), "%s/stderr", dir);
	fflush(stderr);
	saved_fd = dup(2);
	fd = open(cap_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved_fd >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
}

/* The captured text (static storage); it is also copied to the real stderr. */
static const char *
capture_end(void)
{
	static char buf[8192];
	ssize_t n;
	int fd;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	fd = open(cap_path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	fputs(buf, stderr);
	return buf;
}

static void *
start(const char *const *kv, struct reeve_probe_config *cfg)
{
	void *st = NULL;

	ptest_config(cfg, kv);
	if (reeve_probe_entry()->init(cfg, ptest_host(), &st) != 0)
		fail_msg("init failed: %s", cfg->error);
	assert_null(ptest_unasked(cfg));
	return st;
}

static double
value(const struct reeve_emitter *em, const char *name, const char *labels)
{
	const struct ptest_sample *s = ptest_find(em, name, labels);

	if (s == NULL)
		fail_msg("no sample %s{%s}", name, labels);
	return s->value;
}

static void
test_parse_value(void **unused)
{
	double v;

	assert_int_equal(sql_parse_value("42", &v), 0);
	assert_true(v == 42);
	assert_int_equal(sql_parse_value("-2.5e3", &v), 0);
	assert_true(v == -2500);
	assert_int_equal(sql_parse_value("  7  ", &v), 0);
	assert_true(v == 7);
	assert_int_equal(sql_parse_value("t", &v), 0);
	assert_true(v == 1);
	assert_int_equal(sql_parse_value("false", &v), 0);
	assert_true(v == 0);
	assert_int_equal(sql_parse_value("NaN", &v), 0);
	assert_true(v != v);
	assert_int_equal(sql_parse_value("-Infinity", &v), 0);
	assert_true(v < -1e308);
	assert_int_equal(sql_parse_value("", &v), -1);
	assert_int_equal(sql_parse_value("  ", &v), -1);
	assert_int_equal(sql_parse_value("abc", &v), -1);
	assert_int_equal(sql_parse_value("12abc", &v), -1);
	assert_int_equal(sql_parse_value("1 2", &v), -1);
	assert_int_equal(sql_parse_value("yes", &v), -1);
}

static void
expect_split(const char *list, const char *want_err)
{
	char *names[4], err[256] = "";
	size_t n = 99;

	assert_int_equal(sql_split_columns(list, names, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(n, 0);
	if (strstr(err, want_err) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, want_err);
}

static void
test_split_columns(void **unused)
{
	char *names[4], err[256];
	size_t n, i;

	assert_int_equal(sql_split_columns(" pending ,amount,  Shop_2", names, 4, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "pending");
	assert_string_equal(names[1], "amount");
	assert_string_equal(names[2], "Shop_2");
	for (i = 0; i < n; i++)
		free(names[i]);
	expect_split("a,,b", "column 2 of the list is empty");
	expect_split("a,", "column 2 of the list is empty");
	expect_split("", "column 1 of the list is empty");
	expect_split("a, 2b", "'2b' is not a valid column name");
	expect_split("a-b", "'a-b' is not a valid column name");
	expect_split("__x", "'__x' is not a valid column name");
	expect_split("a, b, a", "column 'a' is listed twice");
	expect_split("a,b,c,d,e", "more than 4 columns");
}

static void
test_scrub(void **unused)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "pw s3cret and s3cret.");
	sql_scrub("s3cret", buf, sizeof(buf));
	assert_string_equal(buf, "pw *** and ***.");
	snprintf(buf, sizeof(buf), "nothing here");
	sql_scrub("s3cret", buf, sizeof(buf));
	assert_string_equal(buf, "nothing here");
	sql_scrub(NULL, buf, sizeof(buf));
	sql_scrub("", buf, sizeof(buf));
	assert_string_equal(buf, "nothing here");
}

static void
test_sqlite_rows(void **unused)
{
	const char *kv[] = { "driver", "sqlite", "database", dbpath,
	    "query.orders", "SELECT shop, sum(state = 'pending') AS pending, sum(amount) AS Amount "
	    "FROM orders GROUP BY shop",
	    "query.orders.value_columns", "pending, amount",
	    "query.orders.label_columns", "shop",
	    "query.total", "SELECT count(*) AS n, 't' AS ok FROM orders",
	    "query.total.value_columns", "n, ok",
	    "query.total.prefix", "shop_orders",
	    "query.total.type", "counter",
	    "query.total.help", "All orders.",
	    NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st = start(kv, &cfg);

	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "orders_pending", "shop=berlin") == 2);
	assert_true(value(&em, "orders_pending", "shop=paris") == 1);
	/* "Amount" in the result matches the configured "amount" (case-insensitively) */
	assert_true(value(&em, "orders_amount", "shop=berlin") == 112.5);
	assert_true(value(&em, "orders_amount", "shop=paris") == 8);
	assert_int_equal(ptest_find(&em, "orders_amount", "shop=paris")->type, REEVE_GAUGE);
	assert_true(value(&em, "shop_orders_n", "") == 5);
	assert_true(value(&em, "shop_orders_ok", "") == 1);
	assert_int_equal(ptest_find(&em, "shop_orders_n", "")->type, REEVE_COUNTER);
	assert_true(value(&em, "sql_query_up", "probe=test,query=orders") == 1);
	assert_true(value(&em, "sql_query_up", "probe=test,query=total") == 1);
	assert_true(value(&em, "sql_query_rows", "probe=test,query=orders") == 2);
	assert_true(value(&em, "sql_query_duration_seconds", "probe=test,query=orders") >= 0);
	assert_int_equal(ptest_count(&em, "orders_pending"), 2);

	/* new data shows at the next collection, through the same open database */
	db_exec(dbpath, "INSERT INTO orders VALUES ('rome', 'pending', 3);");
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "orders_pending", "shop=rome") == 1);
	assert_true(value(&em, "shop_orders_n", "") == 6);
	db_exec(dbpath, "DELETE FROM orders WHERE shop = 'rome';");
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_sqlite_nulls_and_types(void **unused)
{
	const char *kv[] = { "driver", "sqlite", "database", dbpath,
	    "query.odd", "SELECT shop, v FROM odd WHERE shop IS NULL OR shop IN ('a', 'b', 'e', 'f')",
	    "query.odd.value_columns", "v", "query.odd.label_columns", "shop", NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	const char *log;
	char err[256];
	void *st = start(kv, &cfg);

	capture_start();
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	log = capture_end();
	assert_true(value(&em, "odd_v", "shop=a") == 1);
	assert_null(ptest_find(&em, "odd_v", "shop=b"));	/* a NULL value: no sample */
	assert_true(value(&em, "odd_v", "shop=") == 3);		/* a NULL label: empty */
	assert_true(value(&em, "odd_v", "shop=e") == 1);	/* boolean text */
	assert_true(value(&em, "odd_v", "shop=f") == 42);	/* blanks around a number */
	assert_true(value(&em, "sql_query_up", "probe=test,query=odd") == 1);
	/* the NULL is logged once, not at every collection */
	assert_non_null(strstr(log, "query odd: row 2, column v is NULL: no sample"));
	assert_null(strstr(strstr(log, "is NULL") + 1, "is NULL"));
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

/* Run one query that must fail; its log line must contain want. */
static void
expect_query_error(const char *sql, const char *values, const char *labels, const char *extra_key,
    const char *extra_value, const char *want)
{
	const char *kv[] = { "driver", "sqlite", "database", dbpath, "query.q", sql,
	    "query.q.value_columns", values, labels ? "query.q.label_columns" : NULL, labels,
	    extra_key, extra_value, NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	const char *log;
	char err[256];
	void *st = start(kv, &cfg);

	capture_start();
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	log = capture_end();
	assert_true(value(&em, "sql_query_up", "probe=test,query=q") == 0);
	assert_null(ptest_find(&em, "sql_query_rows", "probe=test,query=q"));
	if (strstr(log, want) == NULL)
		fail_msg("log '%s' does not contain '%s'", log, want);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_sqlite_query_errors(void **unused)
{
	/* all or nothing: a bad row makes the query emit no sample at all */
	expect_query_error("SELECT shop, v FROM odd", "v", "shop", NULL, NULL,
	    "query q: row 4, column v: 'abc' is not a number");
	expect_query_error("SELECT shop, v FROM odd WHERE shop = 'g'", "v", "shop", NULL, NULL,
	    "query q: row 1, column v: a blob is not a number");
	expect_query_error("SELECT shop, amount FROM orders", "amount, total", "shop", NULL, NULL,
	    "query q: value column 'total' is not in the result (its columns: shop, amount)");
	expect_query_error("SELECT amount FROM orders", "amount", "shop", NULL, NULL,
	    "query q: label column 'shop' is not in the result (its columns: amount)");
	expect_query_error("SELECT shop, amount FROM orders", "amount", "shop", NULL, NULL,
	    "query q: rows 1 and 2 have the same labels {shop=\"berlin\"}");
	expect_query_error("SELECT amount FROM orders", "amount", NULL, NULL, NULL,
	    "query q: returned 5 rows but has no label_columns to tell them apart");
	expect_query_error("SELECT amount, rowid AS id FROM orders", "amount", "id", "max_rows", "4",
	    "query q: more than max_rows (4) rows");
	expect_query_error("SELECT nope FROM orders", "nope", NULL, NULL, NULL,
	    "query q: no such column: nope");
	expect_query_error("SELECT 1 AS v; SELECT 2 AS v", "v", NULL, NULL, NULL,
	    "query q: holds more than one statement");
	expect_query_error("DELETE FROM orders RETURNING amount", "amount", NULL, NULL, NULL,
	    "query q: is not a read-only statement");
}

static void
test_sqlite_max_rows_ok(void **unused)
{
	const char *kv[] = { "driver", "sqlite", "database", dbpath, "max_rows", "5",
	    "query.q", "SELECT rowid AS id, amount FROM orders",
	    "query.q.value_columns", "amount", "query.q.label_columns", "id", NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st = start(kv, &cfg);

	/* exactly max_rows rows is fine */
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "sql_query_rows", "probe=test,query=q") == 5);
	assert_int_equal(ptest_count(&em, "q_amount"), 5);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_sqlite_statement_timeout(void **unused)
{
	/* endless without the timeout: the progress handler must stop it */
	const char *kv[] = { "driver", "sqlite", "database", dbpath, "statement_timeout", "200ms",
	    "query.slow", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
	    "SELECT count(*) AS n FROM c",
	    "query.slow.value_columns", "n",
	    "query.fast", "SELECT count(*) AS n FROM orders", "query.fast.value_columns", "n", NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	const char *log;
	char err[256];
	void *st = start(kv, &cfg);

	capture_start();
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	log = capture_end();
	assert_true(value(&em, "sql_query_up", "probe=test,query=slow") == 0);
	assert_null(ptest_find(&em, "slow_n", ""));
	assert_non_null(strstr(log, "query slow: cancelled by statement_timeout (200ms)"));
	/* the next query still runs */
	assert_true(value(&em, "sql_query_up", "probe=test,query=fast") == 1);
	assert_true(value(&em, "fast_n", "") == 5);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_sqlite_file_lifecycle(void **unused)
{
	char path[160], other[160];
	const char *kv[] = { "driver", "sqlite", "database", path,
	    "query.q", "SELECT count(*) AS n FROM t", "query.q.value_columns", "n", NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st;

	snprintf(path, sizeof(path), "%s/later.db", dir);
	snprintf(other, sizeof(other), "%s/other.db", dir);
	/* a database that does not exist yet: init succeeds, collections fail clearly */
	st = start(kv, &cfg);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), -1);
	if (strstr(err, "cannot open ") == NULL || strstr(err, "later.db read-only: ") == NULL)
		fail_msg("unexpected error '%s'", err);
	assert_true(value(&em, "sql_query_up", "probe=test,query=q") == 0);
	/* opened read-only: it was not created */
	assert_int_equal(access(path, F_OK), -1);

	db_exec(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "q_n", "") == 1);

	/* a file replaced by another (rename over it) is opened again */
	db_exec(other, "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3);");
	assert_int_equal(rename(other, path), 0);
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "q_n", "") == 3);

	/* removed: the open handle is not read on as if nothing happened */
	assert_int_equal(unlink(path), 0);
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open "));

	/* not a database */
	db_exec(path, "");
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("this is not an SQLite file, but long enough to have a header of one......"
		    "..........................................................................",
		    f);
		fclose(f);
	}
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), -1);
	if (strstr(err, "file is not a database") == NULL)
		fail_msg("unexpected error '%s'", err);
	unlink(path);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_postgresql_down(void **unused)
{
	/* a real connection attempt to a socket that does not exist: init does not connect,
	 * collect fails with where it tried, and never with the password */
	const char *kv[] = { "driver", "postgresql",
	    "connection", "host=/nonexistent-reeve port=5999 dbname=shop user=u password=CANARY-pw",
	    "connect_timeout", "2s",
	    "query.q", "SELECT 1 AS v", "query.q.value_columns", "v", NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	const char *log;
	char err[512];
	void *st = start(kv, &cfg);

	capture_start();
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), -1);
	log = capture_end();
	if (strstr(err, "cannot connect to host=/nonexistent-reeve port=5999 dbname=shop: ") == NULL)
		fail_msg("unexpected error '%s'", err);
	assert_null(strstr(err, "CANARY"));
	assert_null(strstr(log, "CANARY"));
	assert_true(value(&em, "sql_query_up", "probe=test,query=q") == 0);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_postgresql_black_hole(void **unused)
{
	/* a server that accepts connections (the kernel does, from the backlog) and never says a
	 * word: the connection attempt must end at connect_timeout, not hang */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	char conninfo[128], err[512];
	const char *kv[] = { "driver", "postgresql", "connection", conninfo,
	    "connect_timeout", "300ms", "query.q", "SELECT 1 AS v", "query.q.value_columns", "v",
	    NULL };
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	void *st;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=shop sslmode=disable",
	    ntohs(sa.sin_port));
	st = start(kv, &cfg);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), -1);
	if (strstr(err, "cannot connect to host=127.0.0.1 port=") == NULL ||
	    strstr(err, "no answer within connect_timeout (300ms)") == NULL)
		fail_msg("unexpected error '%s'", err);
	/* and again at the next round: nothing was left behind */
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no answer within connect_timeout (300ms)"));
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
	close(fd);
}

static void
expect_error(const char *const *kv, const char *want)
{
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_true(cfg.nerrors >= 1);
	if (strstr(cfg.error, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", cfg.error, want);
	assert_null(strstr(cfg.error, "CANARY"));
}

#define Q "query.q", "SELECT 1 AS v", "query.q.value_columns", "v"

static void
test_bad_options(void **unused)
{
	char connfile[160], loose[160];
	const char *nodriver[] = { "database", dbpath, Q, NULL };
	const char *baddriver[] = { "driver", "mysql", Q, NULL };
	const char *twice[] = { "driver", "sqlite", "driver", "sqlite", "database", dbpath, Q, NULL };
	const char *nodb[] = { "driver", "sqlite", Q, NULL };
	const char *reldb[] = { "driver", "sqlite", "database", "shop.db", Q, NULL };
	const char *dbconn[] = { "driver", "sqlite", "database", dbpath, "connection", "dbname=x",
	    Q, NULL };
	const char *noconn[] = { "driver", "postgresql", Q, NULL };
	const char *bothconn[] = { "driver", "postgresql", "connection", "dbname=x",
	    "connection_file", "/etc/hostname", Q, NULL };
	const char *pgdb[] = { "driver", "postgresql", "connection", "dbname=x", "database", dbpath,
	    Q, NULL };
	const char *nofile[] = { "driver", "postgresql", "connection_file", "/nonexistent/pg.conn",
	    Q, NULL };
	const char *relfile[] = { "driver", "postgresql", "connection_file", "pg.conn", Q, NULL };
	const char *dirfile[] = { "driver", "postgresql", "connection_file", "/tmp", Q, NULL };
	const char *badconn[] = { "driver", "postgresql",
	    "connection", "host=x password=CANARY-pw oops", Q, NULL };
	const char *badfile[] = { "driver", "postgresql", "connection_file", connfile, Q, NULL };
	const char *badopt[] = { "driver", "postgresql", "connection", "hots=x", Q, NULL };
	const char *noquery[] = { "driver", "sqlite", "database", dbpath, NULL };
	const char *novalues[] = { "driver", "sqlite", "database", dbpath, "query.q", "SELECT 1",
	    NULL };
	const char *emptylist[] = { "driver", "sqlite", "database", dbpath, "query.q", "SELECT 1",
	    "query.q.value_columns", "a,,b", NULL };
	const char *badlabels[] = { "driver", "sqlite", "database", dbpath, Q,
	    "query.q.label_columns", "shop name", NULL };
	const char *orphan[] = { "driver", "sqlite", "database", dbpath, Q,
	    "query.x.value_columns", "v", NULL };
	const char *badattr[] = { "driver", "sqlite", "database", dbpath, Q,
	    "query.q.colums", "v", NULL };
	const char *badtype[] = { "driver", "sqlite", "database", dbpath, Q,
	    "query.q.type", "histogram", NULL };
	const char *badprefix[] = { "driver", "sqlite", "database", dbpath, Q,
	    "query.q.prefix", "1shop", NULL };
	const char *both[] = { "driver", "sqlite", "database", dbpath, Q,
	    "query.q.label_columns", "v", NULL };
	const char *collide[] = { "driver", "sqlite", "database", dbpath,
	    "query.x", "SELECT 1", "query.x.value_columns", "y_z",
	    "query.x_y", "SELECT 1", "query.x_y.value_columns", "z", NULL };
	const char *own[] = { "driver", "sqlite", "database", dbpath,
	    "query.sql", "SELECT 1", "query.sql.value_columns", "query_up", NULL };
	const char *badname[] = { "driver", "sqlite", "database", dbpath,
	    "query.9q", "SELECT 1", "query.9q.value_columns", "v", NULL };
	const char *emptyq[] = { "driver", "sqlite", "database", dbpath,
	    "query.q", "  ", "query.q.value_columns", "v", NULL };
	const char *dupq[] = { "driver", "sqlite", "database", dbpath, Q, "query.q", "SELECT 2",
	    NULL };
	const char *shortst[] = { "driver", "sqlite", "database", dbpath, "statement_timeout", "5ms",
	    Q, NULL };
	const char *zerorows[] = { "driver", "sqlite", "database", dbpath, "max_rows", "0", Q, NULL };
	FILE *f;

	expect_error(nodriver, "(section): missing key 'driver' (postgresql or sqlite)");
	expect_error(baddriver, "driver: expected postgresql or sqlite, got 'mysql'");
	expect_error(twice, "driver: given more than once");
	expect_error(nodb, "(section): a sqlite probe needs database = PATH");
	expect_error(reldb, "database: 'shop.db' is not an absolute path");
	expect_error(dbconn, "connection: is for driver = postgresql");
	expect_error(noconn, "(section): a postgresql probe needs one of connection and "
	    "connection_file");
	expect_error(bothconn, "connection_file: a postgresql probe needs one of");
	expect_error(pgdb, "database: is for driver = sqlite");
	expect_error(nofile, "connection_file: cannot open /nonexistent/pg.conn: No such file");
	expect_error(relfile, "connection_file: 'pg.conn' is not an absolute path");
	expect_error(dirfile, "connection_file: /tmp is not a regular file");
	expect_error(badconn, "connection: not a valid libpq connection string or URI");
	expect_error(badopt, "connection: not a valid libpq connection string or URI: "
	    "invalid connection option \"hots\"");
	snprintf(connfile, sizeof(connfile), "%s/pg.conn", dir);
	assert_non_null(f = fopen(connfile, "w"));
	fputs("\n\n", f);
	fclose(f);
	expect_error(badfile, "is empty");
	assert_non_null(f = fopen(connfile, "w"));
	fputs("host=/x password='CANARY-pw\n", f);
	fclose(f);
	expect_error(badfile, "pg.conn: not a valid libpq connection string or URI");
	expect_error(noquery, "(section): no query: add query.NAME = SELECT");
	expect_error(novalues, "query.q: query q has no query.q.value_columns");
	expect_error(emptylist, "query.q.value_columns: column 2 of the list is empty");
	expect_error(badlabels, "query.q.label_columns: 'shop name' is not a valid column name");
	expect_error(orphan, "query.x.value_columns: there is no query.x = SELECT ...");
	expect_error(badattr, "query.q.colums: unknown key: a query takes query.q.value_columns");
	expect_error(badtype, "query.q.type: expected gauge or counter, got 'histogram'");
	expect_error(badprefix, "query.q.prefix: '1shop' is not a valid metric name prefix");
	expect_error(both, "query.q.label_columns: column 'v' is both a value and a label column");
	expect_error(collide, "query.x_y: metric x_y_z is also made by query x");
	expect_error(own, "query.sql: metric sql_query_up is one of the probe's own");
	expect_error(badname, "query.9q: expected query.NAME with a NAME of letters");
	expect_error(emptyq, "query.q: the query is empty");
	expect_error(dupq, "query.q: query q is defined more than once");
	expect_error(shortst, "statement_timeout: must be from 10ms to 1h");
	expect_error(zerorows, "max_rows: not a number in 1..1000000");

	/* a good connection_file that others may read: accepted, with a warning */
	snprintf(loose, sizeof(loose), "%s/loose.conn", dir);
	assert_non_null(f = fopen(loose, "w"));
	fputs("host=/nonexistent-reeve dbname=x password=CANARY-pw\n", f);
	fclose(f);
	assert_int_equal(chmod(loose, 0644), 0);
	{
		const char *kv[] = { "driver", "postgresql", "connection_file", loose, Q, NULL };
		struct reeve_probe_config cfg;
		const char *log;
		void *st;

		capture_start();
		st = start(kv, &cfg);
		log = capture_end();
		assert_non_null(strstr(log, "holds a password and other users may read it"));
		assert_null(strstr(log, "CANARY"));
		reeve_probe_entry()->destroy(st);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_value),
		cmocka_unit_test(test_split_columns),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_sqlite_rows),
		cmocka_unit_test(test_sqlite_nulls_and_types),
		cmocka_unit_test(test_sqlite_query_errors),
		cmocka_unit_test(test_sqlite_max_rows_ok),
		cmocka_unit_test(test_sqlite_statement_timeout),
		cmocka_unit_test(test_sqlite_file_lifecycle),
		cmocka_unit_test(test_postgresql_down),
		cmocka_unit_test(test_postgresql_black_hole),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests_name("sql", tests, setup, teardown);
}
