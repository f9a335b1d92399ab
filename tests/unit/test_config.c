/* test_config.c: unit tests of config.c: value syntax, defaults, includes and every error text. */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "util.h"

/* The tests run in $TEST_DATA/config so that file names in messages are short. */
static char example[PATH_MAX];

static int
setup(void **state)
{
	const char *td = getenv("TEST_DATA");

	(void)state;
	if (td == NULL) {
		fprintf(stderr, "TEST_DATA is not set\n");
		return -1;
	}
	snprintf(example, sizeof(example), "%s/../../etc/reeve.conf", td);
	if (chdir(td) == -1 || chdir("config") == -1) {
		perror("chdir $TEST_DATA/config");
		return -1;
	}
	return 0;
}

/* Print errs so that a failing test shows what the user would have seen. */
static void
dump(const struct cfg_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		print_message("# error: %s\n", errs->msgs[i]);
}

/* Load path (or text when path is NULL) and assert it fails with exactly these errors. */
static void
expect_errors(const char *path, const char *text, const char *const *want)
{
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;
	size_t n = 0, i;

	cfg = path ? cfg_load(path, &errs) : cfg_load_string(text, "s.conf", &errs);
	while (want[n] != NULL)
		n++;
	if (errs.n != n)
		dump(&errs);
	assert_null(cfg);
	assert_int_equal(errs.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(errs.msgs[i], want[i]);
	cfg_errors_clear(&errs);
	assert_int_equal(errs.n, 0);
}

static struct cfg *
load_ok(const char *path, const char *text)
{
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;

	cfg = path ? cfg_load(path, &errs) : cfg_load_string(text, "s.conf", &errs);
	dump(&errs);
	assert_int_equal(errs.n, 0);
	assert_non_null(cfg);
	cfg_errors_clear(&errs);
	return cfg;
}

static const struct cfg_probe *
probe(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nprobes; i++)
		if (strcmp(cfg->probes[i].name, name) == 0)
			return &cfg->probes[i];
	fail_msg("no probe %s", name);
	return NULL;
}

/* ---- value parsers ---------------------------------------------------------------------- */

static void
test_duration(void **state)
{
	static const struct { const char *s; double v; } good[] = {
		{ "0", 0 }, { "0s", 0 }, { "500ms", 0.5 }, { "10s", 10 }, { "1.5m", 90 },
		{ "1h", 3600 }, { "7d", 7 * 86400 }, { "2w", 14 * 86400 }, { "0.25s", 0.25 },
		{ "100ms", 0.1 },
	};
	static const struct { const char *s, *err; } bad[] = {
		{ "", "is empty (expected a duration such as 10s)" },
		{ "10", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "1.5", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "10 s", "is not a duration (write the unit right after the number: 10s)" },
		{ "-5s", "is negative (a duration is 0 or more)" },
		{ "1e400s", "has an unknown unit (use ms, s, m, h, d or w)" },
		{ "nan", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "inf", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "infs", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "+5s", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ " 5s", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "s", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ ".5s", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "1.s", "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)" },
		{ "0x10s", "has an unknown unit (use ms, s, m, h, d or w)" },
		{ "5x", "has an unknown unit (use ms, s, m, h, d or w)" },
		{ "10S", "has an unknown unit (use ms, s, m, h, d or w)" },
		{ "10ss", "has an unknown unit (use ms, s, m, h, d or w)" },
		{ "5s ", "has an unknown unit (use ms, s, m, h, d or w)" },
		{ "101y", "has an unknown unit (use ms, s, m, h, d or w)" },
		{ "5300w", "is too large (at most 100 years)" },
		{ "99999999999999999999999999999999999999999999999999999999999999999999h",
		  "is too large" },
		{ "99999999999999999999999999999999999999999999999999.0h",
		  "is too large (at most 100 years)" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *err = NULL;
		double v = -1;

		if (cfg_parse_duration(good[i].s, &v, &err) != 0)
			fail_msg("\"%s\" rejected: %s", good[i].s, err);
		assert_true(fabs(v - good[i].v) < 1e-9);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;
		double v = -1;

		if (cfg_parse_duration(bad[i].s, &v, &err) != -1)
			fail_msg("\"%s\" accepted as %g", bad[i].s, v);
		assert_true(v == -1);
		assert_string_equal(err, bad[i].err);
	}
}

static void
test_size(void **state)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "0", 0 }, { "0B", 0 }, { "512B", 512 }, { "64KiB", 65536 },
		{ "10MiB", 10485760 }, { "1GiB", 1073741824 }, { "2TiB", 2199023255552ull },
		{ "10kB", 10000 }, { "5MB", 5000000 }, { "3GB", 3000000000ull },
		{ "18446744073709551615B", UINT64_MAX },
		{ "16777215TiB", 16777215ull << 40 },
	};
	static const struct { const char *s, *err; } bad[] = {
		{ "", "is empty (expected a size such as 64KiB)" },
		{ "64", "is not a size (use a whole number and a unit: 512B, 64KiB, 10MiB, 1GiB)" },
		{ "1.5MiB", "is not a size (use a whole number and a unit: 512B, 64KiB, 10MiB, 1GiB)" },
		{ "KiB", "is not a size (use a whole number and a unit: 512B, 64KiB, 10MiB, 1GiB)" },
		{ "-1KiB", "is negative (a size is 0 or more)" },
		{ "64 KiB", "is not a size (write the unit right after the number: 64KiB)" },
		{ "64kib", "has an unknown unit (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)" },
		{ "64K", "has an unknown unit (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)" },
		{ "1e3B", "has an unknown unit (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)" },
		{ "18446744073709551616B", "is too large" },
		{ "16777216TiB", "is too large" },
		{ "17179869184GiB", "is too large" },
		{ "99999999999999999999999999KiB", "is too large" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *err = NULL;
		uint64_t v = 1;

		if (cfg_parse_size(good[i].s, &v, &err) != 0)
			fail_msg("\"%s\" rejected: %s", good[i].s, err);
		assert_true(v == good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;
		uint64_t v = 1;

		if (cfg_parse_size(bad[i].s, &v, &err) != -1)
			fail_msg("\"%s\" accepted", bad[i].s);
		assert_true(v == 1);
		assert_string_equal(err, bad[i].err);
	}
}

static void
test_bool(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES", "True" };
	static const char *const no[] = { "no", "false", "off", "0", "No", "OFF" };
	static const char *const bad[] = { "", "y", "2", "yes ", "enabled", "-1" };
	const char *err;
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = -1;
		assert_int_equal(cfg_parse_bool(yes[i], &v, &err), 0);
		assert_int_equal(v, 1);
		v = -1;
		assert_int_equal(cfg_parse_bool(no[i], &v, &err), 0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		v = -1;
		assert_int_equal(cfg_parse_bool(bad[i], &v, &err), -1);
		assert_int_equal(v, -1);
		assert_string_equal(err, "is not a boolean (use yes or no)");
	}
}

static void
test_listen(void **state)
{
	static const struct { const char *s, *host; unsigned port; } good[] = {
		{ "127.0.0.1:9180", "127.0.0.1", 9180 }, { "[::1]:80", "::1", 80 },
		{ "localhost:65535", "localhost", 65535 }, { "0.0.0.0:1", "0.0.0.0", 1 },
		{ "[::]:9180", "::", 9180 }, { "[fe80::1%eth0]:9180", "fe80::1%eth0", 9180 },
		{ "web-01.example.com:8080", "web-01.example.com", 8080 },
	};
	static const struct { const char *s, *err; } bad[] = {
		{ "", "is empty (expected host:port, e.g. 127.0.0.1:9180 or [::1]:9180)" },
		{ "127.0.0.1", "has no port (expected host:port, e.g. 127.0.0.1:9180)" },
		{ "127.0.0.1:0", "has an invalid port (expected 1 to 65535)" },
		{ "127.0.0.1:65536", "has an invalid port (expected 1 to 65535)" },
		{ "127.0.0.1:99999999999", "has an invalid port (expected 1 to 65535)" },
		{ "127.0.0.1:-1", "has an invalid port (expected 1 to 65535)" },
		{ "127.0.0.1:+80", "has an invalid port (expected 1 to 65535)" },
		{ "127.0.0.1:http", "has an invalid port (expected 1 to 65535)" },
		{ "127.0.0.1:", "has an invalid port (expected 1 to 65535)" },
		{ ":9180", "has an invalid host (expected a host name, an IPv4 address or "
		  "[IPv6 address])" },
		{ "a b:80", "has an invalid host (expected a host name, an IPv4 address or "
		  "[IPv6 address])" },
		{ "::1:9180", "looks like an IPv6 address: put it in brackets, e.g. [::1]:9180" },
		{ "[::1]", "has no port (expected host:port, e.g. 127.0.0.1:9180)" },
		{ "[::1]9180", "has text after ']' (expected [IPv6 address]:port)" },
		{ "[zz]:80", "is not a valid [IPv6 address]:port" },
		{ "[]:80", "is not a valid [IPv6 address]:port" },
		{ "[::1:80", "is not a valid [IPv6 address]:port" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *err = NULL;
		char *host = NULL;
		unsigned port = 0;

		if (cfg_parse_listen(good[i].s, &host, &port, &err) != 0)
			fail_msg("\"%s\" rejected: %s", good[i].s, err);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
		free(host);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;
		char *host = NULL;
		unsigned port = 7;

		if (cfg_parse_listen(bad[i].s, &host, &port, &err) != -1)
			fail_msg("\"%s\" accepted", bad[i].s);
		assert_null(host);
		assert_int_equal(port, 7);
		assert_string_equal(err, bad[i].err);
	}
}

/* ---- whole files that load ---------------------------------------------------------------- */

static void
test_defaults(void **state)
{
	struct cfg *cfg = load_ok(NULL, "; nothing but a comment\n");
	char hn[HOST_NAME_MAX + 1] = "";

	(void)state;
	assert_int_equal(gethostname(hn, sizeof(hn)), 0);
	assert_string_equal(cfg->data_dir, "reeve-data");
	assert_true(cfg->interval == 10);
	assert_string_equal(cfg->hostname, hn);
	assert_string_equal(cfg->plugin_dir, PROBEDIR);
	assert_int_equal(cfg->log_level, LOG_LEVEL_INFO);
	assert_string_equal(cfg->log_target, "stderr");
	assert_true(cfg->memory_window == 900);
	assert_string_equal(cfg->listen, "127.0.0.1:9180");
	assert_null(cfg->token);
	assert_true(cfg->http_timeout == 30);
	assert_int_equal(cfg->max_connections, 256);
	assert_int_equal(cfg->max_per_ip, 32);
	assert_true(cfg->memory_limit == 65536);
	assert_int_equal(cfg->http_threads, 2);
	assert_null(cfg->rrdcached);
	assert_string_equal(cfg->preset, "default");
	assert_true(cfg->queue_size == 100000);
	assert_true(cfg->flush_timeout == 10);
	assert_int_equal(cfg->nprobes, 0);
	assert_int_equal(cfg->nfiles, 1);
	assert_string_equal(cfg->files[0], "s.conf");
	assert_null(cfg_where(cfg, "http", "listen")->file);
	assert_int_equal(cfg_where(cfg, "http", "listen")->line, 0);
	assert_null(cfg_where(cfg, "http", "nonsense"));
	assert_null(cfg_where(cfg, "reeve", "include"));
	cfg_free(cfg);
	cfg_free(NULL);
}

/* The number of the first line of path that reads exactly text, or 0. */
static int
line_of(const char *path, const char *text)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	int n = 0, found = 0;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f)) {
		n++;
		line[strcspn(line, "\n")] = '\0';
		found = strcmp(line, text) == 0;
	}
	fclose(f);
	return found ? n : 0;
}

static void
test_example(void **state)
{
	static const char *const names[] = { "cpu", "memory", "load", "disk", "filesystem",
		"network", "process", "uptime" };
	struct cfg *cfg = load_ok(example, NULL);
	size_t i;

	(void)state;
	assert_int_equal(cfg->nprobes, 8);
	for (i = 0; i < 8; i++) {
		assert_string_equal(cfg->probes[i].name, names[i]);
		assert_string_equal(cfg->probes[i].type, names[i]);
		assert_int_equal(cfg->probes[i].nopts, 0);
	}
	assert_true(probe(cfg, "cpu")->interval == 10);
	assert_true(probe(cfg, "cpu")->timeout == 10);
	assert_true(probe(cfg, "uptime")->interval == 60);
	assert_true(probe(cfg, "uptime")->timeout == 10);
	assert_int_equal(probe(cfg, "uptime")->loc_interval.line, line_of(example, "interval = 1m"));
	assert_string_equal(cfg->listen, "127.0.0.1:9180");
	assert_string_equal(cfg->preset, "default");
	assert_int_equal(cfg_where(cfg, "http", "listen")->line, line_of(example, "listen = 127.0.0.1:9180"));
	cfg_free(cfg);
}

static void
test_full(void **state)
{
	struct cfg *cfg = load_ok("good/full.conf", NULL);
	const struct cfg_probe *p;

	(void)state;
	assert_string_equal(cfg->data_dir, "/var/lib/reeve");
	assert_true(cfg->interval == 30);
	assert_string_equal(cfg->hostname, "web01");
	assert_string_equal(cfg->plugin_dir, "/opt/a:/opt/b");
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg->log_target, "syslog");
	assert_true(cfg->memory_window == 3600);
	assert_string_equal(cfg->listen, "[::1]:9999");
	assert_string_equal(cfg->token, "a b c");
	assert_true(cfg->http_timeout == 60);
	assert_int_equal(cfg->max_connections, 1000);
	assert_int_equal(cfg->max_per_ip, 10);
	assert_true(cfg->memory_limit == 1048576);
	assert_int_equal(cfg->http_threads, 4);
	assert_string_equal(cfg->rrdcached, "unix:/run/rrdcached.sock");
	assert_string_equal(cfg->preset, "long");
	assert_true(cfg->queue_size == 5000);
	assert_true(cfg->flush_timeout == 0);
	assert_string_equal(cfg_where(cfg, "store", "flush_timeout")->file, "good/full.conf");
	assert_int_equal(cfg_where(cfg, "store", "flush_timeout")->line, 24);

	assert_int_equal(cfg->nprobes, 3);
	p = probe(cfg, "web");
	assert_string_equal(p->type, "http");
	assert_string_equal(p->file, "good/full.conf");
	assert_int_equal(p->line, 26);
	assert_true(p->interval == 5);
	assert_true(p->timeout == 5); /* min(interval, 10s) */
	assert_null(p->loc_timeout.file);
	assert_int_equal(p->loc_type.line, 27);
	assert_int_equal(p->nopts, 3);
	assert_string_equal(p->opts[0].key, "url");
	assert_string_equal(p->opts[0].value, "http://localhost/?a=1;b=2");
	assert_int_equal(p->opts[0].line, 29);
	assert_string_equal(p->opts[0].file, "good/full.conf");
	assert_string_equal(p->opts[1].key, "header");
	assert_string_equal(p->opts[1].value, "X-A: 1");
	assert_int_equal(p->opts[1].line, 30);
	assert_string_equal(p->opts[2].key, "header");
	assert_string_equal(p->opts[2].value, "X-B: 2");
	assert_int_equal(p->opts[2].line, 31);
	p = probe(cfg, "fast");
	assert_string_equal(p->type, "cpu"); /* "type: cpu" */
	assert_true(p->interval == 2);
	assert_true(p->timeout == 0.5);
	assert_int_equal(p->loc_timeout.line, 35);
	p = probe(cfg, "slow");
	assert_true(p->interval == 3600);
	assert_true(p->timeout == 10);
	cfg_free(cfg);
}

static void
test_multiline(void **state)
{
	struct cfg *cfg = load_ok("good/multiline.conf", NULL);
	const struct cfg_probe *p = probe(cfg, "web");

	(void)state;
	assert_int_equal(p->nopts, 2);
	assert_string_equal(p->opts[0].key, "headers");
	assert_string_equal(p->opts[0].value, "X-A: 1 X-B: 2 X-C: 3 X-D: 4");
	assert_int_equal(p->opts[0].line, 3);
	assert_string_equal(p->opts[1].key, "url");
	assert_int_equal(p->opts[1].line, 8);
	assert_string_equal(cfg->token, "abc def"); /* joined, then unquoted */
	assert_int_equal(cfg_where(cfg, "http", "token")->line, 10);
	assert_int_equal(cfg->http_threads, 3);
	assert_int_equal(cfg_where(cfg, "http", "threads")->line, 13);
	cfg_free(cfg);
}

static void
test_syntax_details(void **state)
{
	struct cfg *cfg;

	(void)state;
	/* BOM, CRLF, an indented key right after a header is a key, not a continuation */
	cfg = load_ok(NULL, "\xEF\xBB\xBF[reeve]\r\n  interval = 5s\r\n"
	    "data_dir = \"\"x\"\"\r\n[store]\nrrdcached =\n");
	assert_true(cfg->interval == 5);
	assert_string_equal(cfg->data_dir, "\"x\"");
	assert_null(cfg->rrdcached);
	assert_int_equal(cfg_where(cfg, "reeve", "interval")->line, 2);
	cfg_free(cfg);

	/* rrdcached forms */
	cfg = load_ok(NULL, "[store]\nrrdcached = /run/r.sock\n");
	assert_string_equal(cfg->rrdcached, "/run/r.sock");
	cfg_free(cfg);
	cfg = load_ok(NULL, "[store]\nrrdcached = localhost:42217\n");
	cfg_free(cfg);
	cfg = load_ok(NULL, "[store]\nrrdcached = [::1]\n");
	cfg_free(cfg);

	/* over TCP each reeve has a directory on rrdcached: the hostname unless set */
	cfg = load_ok(NULL, "[reeve]\nhostname = web-1.example\n[store]\nrrdcached = db:42217\n");
	assert_string_equal(cfg->rrdcached_dir, "web-1.example");
	cfg_free(cfg);
	cfg = load_ok(NULL, "[store]\nrrdcached = db\nrrdcached_dir = fleet/web_2\n");
	assert_string_equal(cfg->rrdcached_dir, "fleet/web_2");
	cfg_free(cfg);
	cfg = load_ok(NULL, "[reeve]\nhostname = a b\n[store]\nrrdcached = unix:/run/r.sock\n");
	assert_null(cfg->rrdcached_dir); /* not used over a unix socket */
	cfg_free(cfg);
	{
		static const char *const up[] = { "s.conf:3: [store] rrdcached_dir: \"../x\" is "
		    "not a relative path of names made of A-Z a-z 0-9 . _ - (at most 200 bytes, no "
		    ". or .. and no empty part)", NULL };
		static const char *const abs[] = { "s.conf:2: [store] rrdcached_dir: \"/srv/x\" "
		    "is not a relative path of names made of A-Z a-z 0-9 . _ - (at most 200 bytes, "
		    "no . or .. and no empty part)", NULL };
		static const char *const host[] = { "s.conf:4: [store] rrdcached_dir: \"a/./b\" "
		    "(the hostname) is not a relative path of names made of A-Z a-z 0-9 . _ - (at "
		    "most 200 bytes, no . or .. and no empty part): set rrdcached_dir", NULL };

		expect_errors(NULL, "[store]\nrrdcached = db\nrrdcached_dir = ../x\n", up);
		expect_errors(NULL, "[store]\nrrdcached_dir = /srv/x\n", abs);
		expect_errors(NULL, "[reeve]\nhostname = a/./b\n[store]\nrrdcached = db\n", host);
	}

	/* a probe timeout follows a short [reeve] interval set after the probe */
	cfg = load_ok(NULL, "[probe a]\ntype = cpu\n[reeve]\ninterval = 3s\n");
	assert_true(probe(cfg, "a")->interval == 3);
	assert_true(probe(cfg, "a")->timeout == 3);
	cfg_free(cfg);

	/* a 4000-character line is accepted */
	{
		char *text = malloc(4100);

		assert_non_null(text);
		memcpy(text, "[probe a]\ntype = cpu\nk = ", 25);
		memset(text + 25, 'v', 4000 - 4);
		memcpy(text + 25 + 3996, "\n", 2);
		cfg = load_ok(NULL, text);
		assert_int_equal(strlen(probe(cfg, "a")->opts[0].value), 3996);
		cfg_free(cfg);
		free(text);
	}
}

/* ---- includes ----------------------------------------------------------------------------- */

static void
test_include_glob(void **state)
{
	struct cfg *cfg = load_ok("include/main.conf", NULL);

	(void)state;
	assert_int_equal(cfg->nprobes, 3);
	assert_string_equal(cfg->probes[0].name, "first");
	assert_string_equal(cfg->probes[0].file, "include/conf.d/10-first.conf");
	assert_int_equal(cfg->probes[0].line, 3);
	assert_true(cfg->probes[0].interval == 60);
	assert_string_equal(cfg->probes[1].name, "second");
	assert_true(cfg->probes[1].interval == 20); /* [reeve] interval set after the include */
	assert_string_equal(cfg->probes[2].name, "main");
	assert_int_equal(cfg->http_threads, 3);
	assert_string_equal(cfg_where(cfg, "http", "threads")->file, "include/conf.d/10-first.conf");
	assert_int_equal(cfg_where(cfg, "http", "threads")->line, 2);
	assert_int_equal(cfg->nfiles, 3);
	assert_string_equal(cfg->files[0], "include/main.conf");
	assert_string_equal(cfg->files[1], "include/conf.d/10-first.conf");
	assert_string_equal(cfg->files[2], "include/conf.d/20-second.conf");
	cfg_free(cfg);

	cfg = load_ok("include/empty-glob.conf", NULL);
	assert_true(cfg->interval == 5);
	assert_int_equal(cfg->nfiles, 1);
	cfg_free(cfg);

	/* from memory, relative includes resolve against the working directory */
	cfg = load_ok(NULL, "include = include/conf.d/1*.conf\n");
	assert_int_equal(cfg->nprobes, 1);
	assert_int_equal(cfg->http_threads, 3);
	cfg_free(cfg);
}

static void
test_include_errors(void **state)
{
	static const char *const missing[] = {
		"include/missing.conf:2: include: cannot open \"include/no-such-file.conf\": "
		"No such file or directory",
		NULL
	};
	static const char *const depth[] = {
		"include/depth/8.conf:1: include: nested more than 8 levels deep (an include cycle?)",
		NULL
	};
	static const char *const self[] = {
		"include/self.conf:1: include: \"include/self.conf\" includes itself (an include cycle)",
		NULL
	};
	static const char *const child[] = {
		"include/children/a.conf:1: key 'data_dir' is outside of any section (put it under "
		"[reeve], [http], [store], [outbox], [probe NAME], [token NAME], [alert NAME], "
		"[record NAME], [notifier NAME], [route NAME], [inhibit NAME], "
		"[maintenance NAME] or [report NAME])",
		"include/children/a.conf:3: [reeve] key 'interval' already set at "
		"include/bad-child.conf:2",
		"include/children/a.conf:5: [http] include: include is only allowed in [reeve] or "
		"before the first section",
		NULL
	};
	static const char *const main_missing[] = {
		"no-such.conf: cannot open \"no-such.conf\": No such file or directory",
		NULL
	};
	static const char *const dir[] = {
		"s.conf:1: include: \"include/conf.d\" is not a regular file",
		NULL
	};

	(void)state;
	expect_errors("include/missing.conf", NULL, missing);
	expect_errors("include/depth/0.conf", NULL, depth);
	expect_errors("include/self.conf", NULL, self);
	expect_errors("include/bad-child.conf", NULL, child);
	expect_errors("no-such.conf", NULL, main_missing);
	expect_errors(NULL, "include = include/conf.d\n", dir);
}

/* ---- [token NAME] --------------------------------------------------------------------------- */

/* A temporary directory for secret files: their mode matters, so they are made by the tests. */
static char tokdir[PATH_MAX];

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tokdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
token_setup(void **state)
{
	(void)state;
	snprintf(tokdir, sizeof(tokdir), "%s/reeve-test-config.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tokdir) == NULL ? -1 : 0;
}

static int
token_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tokdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct cfg_token *
token(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ntokens; i++)
		if (strcmp(cfg->tokens[i].name, name) == 0)
			return &cfg->tokens[i];
	fail_msg("no token %s", name);
	return NULL;
}

static void
test_tokens(void **state)
{
	char conf[PATH_MAX + 32], path[PATH_MAX + 32];
	struct cfg *cfg;
	const struct cfg_token *t;

	(void)state;
	cfg = load_ok(NULL, "[token grafana]\nsecret = 0123456789abcdef\n"
	    "[http]\ntoken = short-is-fine\n"
	    "[token app-1.x_y]\nroles = push, read,admin\nsecret = \"  spaced secret here  \"\n"
	    "[token p]\nroles = push push\nsecret = 0123456789abcdeg\n");
	assert_int_equal(cfg->ntokens, 3);
	t = token(cfg, "grafana");
	assert_string_equal(t->secret, "0123456789abcdef");
	assert_null(t->secret_file);
	assert_int_equal(t->roles, AUTH_READ); /* the default */
	assert_string_equal(t->file, "s.conf");
	assert_int_equal(t->line, 1);
	assert_int_equal(t->loc_secret.line, 2);
	assert_null(t->loc_roles.file);
	t = token(cfg, "app-1.x_y");
	assert_string_equal(t->secret, "  spaced secret here  ");
	assert_int_equal(t->roles, AUTH_READ | AUTH_PUSH | AUTH_ADMIN);
	assert_int_equal(t->loc_roles.line, 6);
	assert_int_equal(token(cfg, "p")->roles, AUTH_PUSH);
	assert_string_equal(cfg->token, "short-is-fine");
	cfg_free(cfg);

	/* secret_file: relative to the config file's directory, one line, newline dropped */
	write_file("grafana.secret", "from-a-file-0123456789\n", 0600);
	write_file("crlf.secret", "from-a-crlf-file-0123\r\n", 0400);
	write_file("abs.secret", "no-newline-at-the-end", 0600);
	snprintf(path, sizeof(path), "%s/abs.secret", tokdir);
	snprintf(conf, sizeof(conf), "%s/reeve.conf", tokdir);
	{
		char *text = NULL;

		assert_true(asprintf(&text, "[token g]\nsecret_file = grafana.secret\nroles = read\n"
		    "[token c]\nsecret_file = crlf.secret\n[token abs]\nsecret_file = %s\n",
		    path) > 0);
		write_file("reeve.conf", text, 0644);
		free(text);
	}
	cfg = load_ok(conf, NULL);
	t = token(cfg, "g");
	assert_string_equal(t->secret, "from-a-file-0123456789");
	snprintf(path, sizeof(path), "%s/grafana.secret", tokdir);
	assert_string_equal(t->secret_file, path);
	assert_int_equal(t->loc_secret_file.line, 2);
	assert_null(t->loc_secret.file);
	assert_string_equal(token(cfg, "c")->secret, "from-a-crlf-file-0123");
	assert_string_equal(token(cfg, "abs")->secret, "no-newline-at-the-end");
	cfg_free(cfg);

	/* the file is read at every load: a reload sees a new secret */
	write_file("grafana.secret", "a-changed-secret-0123456789\n", 0600);
	cfg = load_ok(conf, NULL);
	assert_string_equal(token(cfg, "g")->secret, "a-changed-secret-0123456789");
	cfg_free(cfg);
}

/* Load text and expect exactly want (printf'd with the temporary directory), no secret shown. */
static void
expect_token_errors(const char *text, const char *const *want)
{
	struct cfg_errors errs = { 0 };
	struct cfg *cfg = cfg_load_string(text, "s.conf", &errs);
	size_t n = 0, i;

	while (want[n] != NULL)
		n++;
	if (errs.n != n)
		dump(&errs);
	assert_null(cfg);
	assert_int_equal(errs.n, n);
	for (i = 0; i < n; i++) {
		struct buf w = { 0 };
		const char *p, *q;

		for (p = want[i]; (q = strstr(p, "%s")) != NULL; p = q + 2) {
			buf_append(&w, p, (size_t)(q - p));
			buf_puts(&w, tokdir);
		}
		buf_puts(&w, p);
		assert_string_equal(errs.msgs[i], w.data);
		buf_free(&w);
		assert_null(strstr(errs.msgs[i], "SECRET"));
	}
	cfg_errors_clear(&errs);
}

static void
test_token_errors(void **state)
{
	char text[4096];
	char big[5000];

	(void)state;
	write_file("open.secret", "SECRET-open-0123456789\n", 0644);
	write_file("group.secret", "SECRET-group-0123456789\n", 0620);
	write_file("short.secret", "SECRET-short\n", 0600);
	write_file("two.secret", "SECRET-line-one-0123\nSECRET-line-two-0123\n", 0600);
	write_file("empty.secret", "\n", 0600);
	write_file("dup.secret", "SECRET-shared-0123456789\n", 0600);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file("big.secret", big, 0600);
	snprintf(text, sizeof(text),
	    "[token open]\nsecret_file = %1$s/open.secret\n"                     /* 1-2 */
	    "[token group]\nsecret_file = %1$s/group.secret\n"                   /* 3-4 */
	    "[token short]\nsecret_file = %1$s/short.secret\n"                   /* 5-6 */
	    "[token two]\nsecret_file = %1$s/two.secret\n"                       /* 7-8 */
	    "[token empty]\nsecret_file = %1$s/empty.secret\n"                   /* 9-10 */
	    "[token missing]\nsecret_file = %1$s/none.secret\n"                  /* 11-12 */
	    "[token dir]\nsecret_file = %1$s\n"                                  /* 13-14 */
	    "[token big]\nsecret_file = %1$s/big.secret\n"                       /* 15-16 */
	    "[token dup]\nsecret_file = %1$s/dup.secret\n"                       /* 17-18 */
	    "[token dup2]\nsecret = SECRET-shared-0123456789\n",                 /* 19-20 */
	    tokdir);
	{
		static const char *const want[] = {
			"s.conf:2: [token open] secret_file %s/open.secret is readable by others: "
			"chmod 600 it",
			"s.conf:4: [token group] secret_file %s/group.secret is readable by others: "
			"chmod 600 it",
			"s.conf:8: [token two] secret_file: \"%s/two.secret\" holds more than one line "
			"(it holds one line: the secret)",
			"s.conf:10: [token empty] secret_file: \"%s/empty.secret\" is empty",
			"s.conf:12: [token missing] secret_file: cannot open \"%s/none.secret\": No such "
			"file or directory",
			"s.conf:14: [token dir] secret_file: \"%s\" is not a regular file",
			"s.conf:16: [token big] secret_file: \"%s/big.secret\" is larger than 4KiB (it "
			"holds one line: the secret)",
			"s.conf:6: [token short] secret_file: the secret is shorter than 16 bytes (make "
			"one with `openssl rand -hex 32`)",
			"s.conf:20: [token dup2] secret: the same secret as [token dup] at s.conf:17 "
			"(each token needs its own)",
			NULL
		};

		expect_token_errors(text, want);
	}
	{
		static const char *const want[] = {
			"s.conf:3: [token a] secret_file: set either secret or secret_file, not both "
			"(secret is set at s.conf:2)",
			"s.conf:6: [token b] secret: set either secret or secret_file, not both "
			"(secret_file is set at s.conf:5)",
			"s.conf:8: [token c] roles: \"write\" is not one of read, push or admin",
			"s.conf:8: [token c] roles: \"all\" is not one of read, push or admin",
			"s.conf:11: [token d] roles: is empty (expected one or more of read, push or admin)",
			"s.conf:12: [token d] unknown key 'token' (expected one of: secret, secret_file, "
			"roles)",
			"s.conf:13: [token d] key 'secret' already set at s.conf:10",
			"s.conf:14: [token d] include: include is only allowed in [reeve] or before the "
			"first section",
			"s.conf:15: [token] needs a name: [token NAME]",
			"s.conf:16: [token a/b]: invalid token name (use letters, digits, '_', '.' and '-')",
			"s.conf:17: [token a] is already defined at s.conf:1",
			"s.conf:19: [token e] secret: is empty",
			"s.conf:21: [token f] secret_file: is empty",
			"s.conf:7: [token c]: missing key 'secret' or 'secret_file'",
			"s.conf:10: [token d] secret: the secret is shorter than 16 bytes (make one with "
			"`openssl rand -hex 32`)",
			"s.conf:22: [token g]: missing key 'secret' or 'secret_file'",
			"s.conf:26: [http] token: the same secret as [token h] at s.conf:23 (each token "
			"needs its own)",
			NULL
		};

		snprintf(text, sizeof(text),
		    "[token a]\nsecret = SECRET-a-0123456789\nsecret_file = %1$s/dup.secret\n"
		    "[token b]\nsecret_file = %1$s/dup.secret\nsecret = SECRET-b-0123456789\n"
		    "[token c]\nroles = read, write all\n"
		    "[token d]\nsecret = SECRET-d\nroles = , ,\ntoken = x\nsecret = SECRET-d2\n"
		    "include = x.conf\n"
		    "[token]\n[token a/b]\n[token a]\n"
		    "[token e]\nsecret = \"\"\n[token f]\nsecret_file =\n[token g]\n"
		    "[token h]\nsecret = SECRET-h-0123456789\n[http]\ntoken = SECRET-h-0123456789\n",
		    tokdir);
		expect_token_errors(text, want);
	}
}

/* ---- [alert NAME] and [record NAME] ---------------------------------------------------------- */

static void
test_rules(void **state)
{
	struct cfg *cfg;
	const struct cfg_alert *a;
	const struct cfg_record *r;

	(void)state;
	cfg = load_ok(NULL,
	    "[reeve]\ninterval = 30s\n"                                        /* 1-2 */
	    "[alert HighCPU.web-1]\n"                                          /* 3 */
	    "expr = avg by (host) (rate(cpu_seconds_total{mode!=\"idle\"}[5m]))\n" /* 4 */
	    "    > 0.9\n"                                                      /* 5 */
	    "recover = avg by (host) (rate(cpu_seconds_total[5m])) < 0.8\n"     /* 6 */
	    "for = 5m\nkeep_firing_for = 10m\nnodata = alert\nnodata_grace = 15m\n" /* 7-10 */
	    "severity = critical\nlabels.team = ops\nlabels.env = prod\n"      /* 11-13 */
	    "annotations.summary = CPU on {{ labels.host }} at {{ humanizePercentage value }}\n"
	    "annotations.runbook = https://wiki/cpu\n"                          /* 15 */
	    "eval_interval = 1m\nflap_changes = 4\nflap_window = 30m\n"        /* 16-18 */
	    "[alert Disk]\nexpr = fs_free_ratio < 0.1\n"                        /* 19-20 */
	    "[record job:cpu:rate5m]\nexpr = sum by (job) (rate(cpu[5m]))\n"  /* 21-22 */
	    "labels.source = rule\n"                                            /* 23 */
	    "[record x]\nexpr = y\neval_interval = 2m\n");                      /* 24-26 */
	assert_int_equal(cfg->nalerts, 2);
	a = &cfg->alerts[0];
	assert_string_equal(a->name, "HighCPU.web-1");
	assert_string_equal(a->expr.text,
	    "avg by (host) (rate(cpu_seconds_total{mode!=\"idle\"}[5m])) > 0.9");
	assert_string_equal(a->expr.file, "s.conf");
	assert_int_equal(a->expr.line, 4);
	assert_string_equal(a->recover.text, "avg by (host) (rate(cpu_seconds_total[5m])) < 0.8");
	assert_int_equal(a->recover.line, 6);
	assert_true(a->for_ == 300);
	assert_true(a->keep_firing_for == 600);
	assert_int_equal(a->nodata, CFG_NODATA_ALERT);
	assert_true(a->nodata_grace == 900);
	assert_string_equal(a->severity, "critical");
	assert_int_equal(a->nlabels, 2);
	assert_string_equal(a->labels[0].key, "env"); /* sorted */
	assert_string_equal(a->labels[0].value, "prod");
	assert_int_equal(a->labels[0].line, 13);
	assert_string_equal(a->labels[1].key, "team");
	assert_int_equal(a->nannotations, 2);
	assert_string_equal(a->annotations[0].key, "summary"); /* in file order */
	assert_string_equal(a->annotations[0].value,
	    "CPU on {{ labels.host }} at {{ humanizePercentage value }}");
	assert_string_equal(a->annotations[1].key, "runbook");
	assert_true(a->eval_interval == 60);
	assert_int_equal(a->flap_changes, 4);
	assert_true(a->flap_window == 1800);
	assert_int_equal(a->line, 3);
	assert_int_equal(cfg_rule_where(a, 0, "for")->line, 7);
	assert_null(cfg_rule_where(a, 0, "nope"));

	/* the defaults */
	a = &cfg->alerts[1];
	assert_null(a->recover.text);
	assert_true(a->for_ == 0);
	assert_true(a->keep_firing_for == 0);
	assert_int_equal(a->nodata, CFG_NODATA_KEEP);
	assert_true(a->eval_interval == 30);     /* [reeve] interval */
	assert_true(a->nodata_grace == 60);      /* 2 x eval_interval */
	assert_string_equal(a->severity, "warning");
	assert_int_equal(a->flap_changes, 6);
	assert_true(a->flap_window == 3600);
	assert_int_equal(a->nlabels, 0);
	assert_int_equal(a->nannotations, 0);
	assert_null(cfg_rule_where(a, 0, "for")->file);

	assert_int_equal(cfg->nrecords, 2);
	r = &cfg->records[0];
	assert_string_equal(r->name, "job:cpu:rate5m");
	assert_string_equal(r->expr.text, "sum by (job) (rate(cpu[5m]))");
	assert_int_equal(r->expr.line, 22);
	assert_int_equal(r->nlabels, 1);
	assert_string_equal(r->labels[0].key, "source");
	assert_true(r->eval_interval == 30);
	assert_true(cfg->records[1].eval_interval == 120);
	assert_int_equal(cfg_rule_where(&cfg->records[1], 1, "eval_interval")->line, 26);
	cfg_free(cfg);
}

/* A checker standing in for the expression parser: rejects text containing "rat(". */
static int
fake_check(void *arg, const char *text, char *err, size_t errlen)
{
	const char *p = strstr(text, "rat(");

	(*(int *)arg)++;
	if (p == NULL)
		return 0;
	snprintf(err, errlen, "1:%d: unknown function \"rat\"; did you mean \"rate\"?",
	    (int)(p - text) + 1);
	return -1;
}

/* [reeve] labels.NAME: the external labels, sorted, with where each was set; none by default. */
static void
test_external_labels(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = load_ok(NULL, "[reeve]\ninterval = 30s\n"                     /* 1-2 */
	    "labels.region = eu-west\n"                                        /* 3 */
	    "labels.instance = \"web01\"\n"                                    /* 4 */
	    "[alert a]\nexpr = up == 0\nlabels.instance = rule\n"              /* 5-7 */
	    "[reeve]\nlabels.dc_2 = fra\n");                                   /* 8-9 */
	assert_int_equal(cfg->nlabels, 3);
	assert_string_equal(cfg->labels[0].key, "dc_2");
	assert_string_equal(cfg->labels[0].value, "fra");
	assert_int_equal(cfg->labels[0].line, 9);
	assert_string_equal(cfg->labels[1].key, "instance");
	assert_string_equal(cfg->labels[1].value, "web01"); /* quotes taken off as elsewhere */
	assert_string_equal(cfg->labels[1].file, "s.conf");
	assert_int_equal(cfg->labels[1].line, 4);
	assert_string_equal(cfg->labels[2].key, "region");
	assert_string_equal(cfg->labels[2].value, "eu-west");
	/* the rule's label of the same name is its own */
	assert_int_equal(cfg->alerts[0].nlabels, 1);
	assert_string_equal(cfg->alerts[0].labels[0].value, "rule");
	cfg_free(cfg);
	cfg = load_ok(NULL, "[reeve]\n");
	assert_int_equal(cfg->nlabels, 0);
	assert_null(cfg->labels);
	cfg_free(cfg);
}

/* With receivers, reeve watches its own notifications unless the config has its own rule. */
static void
test_builtin_rules(void **state)
{
	static const char hook[] = "[notifier h]\ntype = webhook\nurl = http://127.0.0.1:9/x\n";
	struct cfg *cfg = load_ok(NULL, "[reeve]\n");
	char *own;

	(void)state;
	assert_int_equal(cfg->nalerts, 0);
	cfg_free(cfg);
	cfg = load_ok(NULL, hook);
	assert_int_equal(cfg->nalerts, 1);
	assert_string_equal(cfg->alerts[0].name, "ReeveNotificationsFailing");
	assert_string_equal(cfg->alerts[0].file, "(built-in rules)");
	assert_string_equal(cfg->alerts[0].severity, "critical");
	assert_non_null(strstr(cfg->alerts[0].expr.text, "reeve_notifier_failing"));
	cfg_free(cfg);
	own = xasprintf("%s[alert ReeveNotificationsFailing]\nexpr = up == 0\n", hook);
	cfg = load_ok(NULL, own);
	assert_int_equal(cfg->nalerts, 1);
	assert_string_equal(cfg->alerts[0].expr.text, "up == 0");
	cfg_free(cfg);
	free(own);
}

static void
test_check_exprs(void **state)
{
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;
	int calls = 0;

	(void)state;
	cfg = load_ok(NULL, "[alert a]\nexpr = rate(x[5m]) > 1\nrecover = rat(x[5m]) < 1\n"
	    "[alert b]\nexpr = sum(rat(y[1m]))\n[record c]\nexpr = rat(z[5m])\n[record d]\nexpr = z\n");
	assert_int_equal(cfg_check_exprs(cfg, fake_check, &calls, &errs), -1);
	assert_int_equal(calls, 5);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msgs[0], "s.conf:3: [alert a] recover: 1:1: unknown function "
	    "\"rat\"; did you mean \"rate\"?");
	assert_string_equal(errs.msgs[1], "s.conf:5: [alert b] expr: 1:5: unknown function "
	    "\"rat\"; did you mean \"rate\"?");
	assert_string_equal(errs.msgs[2], "s.conf:7: [record c] expr: 1:1: unknown function "
	    "\"rat\"; did you mean \"rate\"?");
	cfg_errors_clear(&errs);
	cfg_free(cfg);
	cfg = load_ok(NULL, "[alert a]\nexpr = up\n");
	assert_int_equal(cfg_check_exprs(cfg, fake_check, &calls, &errs), 0);
	assert_int_equal(errs.n, 0);
	cfg_free(cfg);
}

/* ---- files with errors: each its own test, the exact messages a user sees ------------------- */

struct bad_case {
	const char *path;
	const char *text;
	const char *want[12];
};

static void
test_bad(void **state)
{
	const struct bad_case *c = *state;

	expect_errors(c->path, c->text, c->want);
}

static const struct bad_case bad_cases[] = {
	{ NULL, "[maintenance a]\nschedule = 0 25 * * *\ntimezone = Mars/Olympus\nduration = 1h\n"
	    "match = a=\"b\"\n[route r]\nnotify = x\nmatch = a=\"b\"\n[notifier w]\ntype = webhook\n", {
		"s.conf:9: [notifier w]: missing key 'url' (type webhook needs it)",
		"s.conf:7: [route r] notify: no [notifier x] is defined",
		"s.conf:2: [maintenance a] schedule: cron: field 2 (hour): 25 is out of range 0-23 (column 3)",
		"s.conf:3: [maintenance a] timezone: unknown time zone 'Mars/Olympus' "
		"(/usr/share/zoneinfo/Mars/Olympus: No such file or directory)", NULL } },
	{ "bad/unknown-section.conf", NULL, {
		"bad/unknown-section.conf:5: unknown section [metrics] (expected [reeve], [http], "
		"[store], [outbox], [probe NAME], [token NAME], [alert NAME], "
		"[record NAME], [notifier NAME], [route NAME], [inhibit NAME], "
		"[maintenance NAME] or [report NAME])", NULL } },
	{ "bad/unknown-key.conf", NULL, {
		"bad/unknown-key.conf:3: [http] unknown key 'port' (expected one of: listen, token, "
		"timeout, max_connections, max_per_ip, memory_limit, threads, push_max_body, "
		"push_ttl, external_url, open, max_body, query_timeout, query_max_samples, "
		"tls_cert, tls_key)", NULL } },
	{ "bad/open.conf", NULL, {
		"bad/open.conf:2: [http] open: \"grafana\" is not one of healthz, metrics, status or "
		"api (or none)",
		"bad/open.conf:3: [http] query_timeout: \"0\" is out of range (100ms to 1h)", NULL } },
	{ "bad/duration.conf", NULL, {
		"bad/duration.conf:5: [http] timeout: \"10\" is not a duration (use a unit: 500ms, "
		"10s, 5m, 1h, 7d)", NULL } },
	{ "bad/holt-winters.conf", NULL, {
		"bad/holt-winters.conf:2: [store] holt_winters: \"^(orders\" is not a regular "
		"expression: Unmatched ( or \\(", NULL } },
	{ "bad/size.conf", NULL, {
		"bad/size.conf:2: [http] memory_limit: \"64K\" has an unknown unit (use B, KiB, MiB, "
		"GiB, TiB, kB, MB, GB or TB)", NULL } },
	{ "bad/bounds.conf", NULL, {
		"bad/bounds.conf:2: [reeve] interval: \"500ms\" is out of range (1s to 1d)",
		"bad/bounds.conf:3: [reeve] memory_window: \"2d\" is out of range (0 to 1d)",
		"bad/bounds.conf:5: [http] max_connections: \"0\" is out of range (1 to 65535)",
		"bad/bounds.conf:6: [http] threads: \"65\" is out of range (1 to 64)",
		"bad/bounds.conf:7: [http] memory_limit: \"1KiB\" is out of range (4KiB to 16MiB)",
		"bad/bounds.conf:9: [store] queue_size: \"99\" is out of range (100 to 100000000)",
		NULL } },
	{ "bad/duplicate-key.conf", NULL, {
		"bad/duplicate-key.conf:8: [http] key 'listen' already set at "
		"bad/duplicate-key.conf:2",
		"bad/duplicate-key.conf:11: [probe cpu] key 'type' already set at "
		"bad/duplicate-key.conf:10", NULL } },
	{ "bad/duplicate-probe.conf", NULL, {
		"bad/duplicate-probe.conf:4: [probe cpu] is already defined at "
		"bad/duplicate-probe.conf:1", NULL } },
	{ "bad/probe-no-type.conf", NULL, {
		"bad/probe-no-type.conf:1: [probe web]: missing key 'type'", NULL } },
	{ "bad/timeout.conf", NULL, {
		"bad/timeout.conf:5: [probe a] timeout: 6s is longer than the interval (5s, from "
		"[reeve] interval); a timeout must be at most the interval",
		"bad/timeout.conf:9: [probe b] timeout: 2m is longer than the interval (1m); a "
		"timeout must be at most the interval", NULL } },
	{ "bad/no-equals.conf", NULL, {
		"bad/no-equals.conf:2: expected 'key = value', a [section] header or a comment",
		NULL } },
	{ "bad/header.conf", NULL, {
		"bad/header.conf:1: section header without a closing ']'",
		"bad/header.conf:3: unexpected text after ']' of a section header", NULL } },
	{ "bad/long-line.conf", NULL, {
		"bad/long-line.conf:4: line is 5000 characters long (at most 4000)",
		"bad/long-line.conf:5: line is 4001 characters long (at most 4000)",
		"bad/long-line.conf:6: expected 'key = value', a [section] header or a comment",
		"bad/long-line.conf:7: [probe x] interval: \"1\" is not a duration (use a unit: "
		"500ms, 10s, 5m, 1h, 7d)", NULL } },
	{ "bad/several.conf", NULL, {
		"bad/several.conf:2: [reeve] interval: \"10\" is not a duration (use a unit: 500ms, "
		"10s, 5m, 1h, 7d)",
		"bad/several.conf:3: [reeve] log_level: \"verbose\" is not one of error, warning, "
		"info or debug",
		"bad/several.conf:5: [http] listen: \"localhost\" has no port (expected host:port, "
		"e.g. 127.0.0.1:9180)",
		"bad/several.conf:8: [store] preset: \"huge\" is not one of default, compact or long",
		"bad/several.conf:9: [store] rrdcached: \"unix:relative\" needs an absolute socket "
		"path (unix:/path/to/rrdcached.sock)",
		"bad/several.conf:10: [probe bad name]: invalid probe name (use letters, digits, "
		"'_', '.' and '-')",
		"bad/several.conf:14: [probe ok] timeout: \"\" is empty (expected a duration such "
		"as 10s)", NULL } },
	{ "bad/nul.conf", NULL, {
		"bad/nul.conf:3: line contains a NUL byte",
		"bad/nul.conf:4: [reeve] log_level: \"loud\" is not one of error, warning, info or "
		"debug", NULL } },
	{ NULL, "[reeve]\ndata_dir =\nhostname = \"\"\n", {
		"s.conf:2: [reeve] data_dir: \"\" is empty",
		"s.conf:3: [reeve] hostname: \"\" is empty", NULL } },
	{ NULL, "[http]\ntoken = \"a b ; c\"\n", {
		"s.conf:2: [http] token: the value was cut at \" ;\": an inline comment starts at "
		"whitespace followed by ';', even inside quotes", NULL } },
	{ NULL, "[probe]\ntype = x\n[probe a b]\n[ probe  c ]\ntype = cpu\n[Reeve]\n", {
		"s.conf:1: [probe] needs a name: [probe NAME]",
		"s.conf:3: [probe a b]: invalid probe name (use letters, digits, '_', '.' and '-')",
		"s.conf:6: unknown section [Reeve] (expected [reeve], [http], [store], "
		"[outbox], [probe NAME], [token NAME], [alert NAME], "
		"[record NAME], [notifier NAME], [route NAME], [inhibit NAME], "
		"[maintenance NAME] or [report NAME])", NULL } },
	{ NULL, "[probe a]\ntype = cpu\nselect = x\ninterval = 1d1h\ntimeout = 50ms\n", {
		"s.conf:4: [probe a] interval: \"1d1h\" has an unknown unit (use ms, s, m, h, d or w)",
		"s.conf:5: [probe a] timeout: \"50ms\" is out of range (100ms to 1h)", NULL } },
	{ NULL, "interval = 5s\n= 3\n[store]\nqueue_size = -1\nflush_timeout = 2h\n", {
		"s.conf:1: key 'interval' is outside of any section (put it under [reeve], [http], "
		"[store], [outbox], [probe NAME], [token NAME], [alert NAME], "
		"[record NAME], [notifier NAME], [route NAME], [inhibit NAME], "
		"[maintenance NAME] or [report NAME])",
		"s.conf:2: key '' is outside of any section (put it under [reeve], [http], [store], "
		"[outbox], [probe NAME], [token NAME], [alert NAME], "
		"[record NAME], [notifier NAME], [route NAME], [inhibit NAME], "
		"[maintenance NAME] or [report NAME])",
		"s.conf:4: [store] queue_size: \"-1\" is negative (expected a whole number)",
		"s.conf:5: [store] flush_timeout: \"2h\" is out of range (0 to 1h)", NULL } },
	{ NULL, "[alert]\n[alert a/b]\n[alert ok]\nexpr = x\n[alert ok]\n[alert noexpr]\nfor = 1m\n"
	    "[record]\n[record 1abc]\n[record r]\n[record r]\n", {
		"s.conf:1: [alert] needs a name: [alert NAME]",
		"s.conf:2: [alert a/b]: invalid alert name (use letters, digits, '_', '.' and '-')",
		"s.conf:5: [alert ok] is already defined at s.conf:3",
		"s.conf:8: [record] needs a name: [record NAME]",
		"s.conf:9: [record 1abc]: invalid record name (it is the metric name of the series: "
		"letters, digits, '_' and ':', not starting with a digit)",
		"s.conf:11: [record r] is already defined at s.conf:10",
		"s.conf:6: [alert noexpr]: missing key 'expr'",
		"s.conf:10: [record r]: missing key 'expr'", NULL } },
	{ NULL, "[alert a]\nexpr =   \nfor = 5\nkeep_firing_for = -1m\nnodata = maybe\n"
	    "nodata_grace = 400d\nseverity = Critical\neval_interval = 500ms\nflap_changes = x\n", {
		"s.conf:2: [alert a] expr: \"\" is empty (expected an expression)",
		"s.conf:3: [alert a] for: \"5\" is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)",
		"s.conf:4: [alert a] keep_firing_for: \"-1m\" is negative (a duration is 0 or more)",
		"s.conf:5: [alert a] nodata: \"maybe\" is not one of alert, ok or keep",
		"s.conf:6: [alert a] nodata_grace: \"400d\" is out of range (0 to 366d)",
		"s.conf:7: [alert a] severity: \"Critical\" is not a word of lower-case letters (e.g. "
		"critical, warning, info)",
		"s.conf:8: [alert a] eval_interval: \"500ms\" is out of range (1s to 1d)",
		"s.conf:9: [alert a] flap_changes: \"x\" is not a whole number", NULL } },
	{ NULL, "[alert a]\nflap_window = 0\nexpr = y\nthreshold = 5\nexpr = z\nlabels.a-b = 1\n"
	    "labels.__x = 1\nlabels.team = ops\nlabels.team = dev\nlabels.e =\n"
	    "annotations.summary = {{ labels.host }\n", {
		"s.conf:2: [alert a] flap_window: \"0\" is out of range (1s to 7d)",
		"s.conf:4: [alert a] unknown key 'threshold' (expected one of: expr, for, "
		"keep_firing_for, recover, nodata, nodata_grace, severity, eval_interval, "
		"flap_changes, flap_window, labels.NAME, annotations.NAME)",
		"s.conf:5: [alert a] key 'expr' already set at s.conf:3",
		"s.conf:6: [alert a] labels.a-b: \"a-b\" is not a valid label name (letters, digits "
		"and '_', not starting with a digit)",
		"s.conf:7: [alert a] labels.__x: names starting with __ are reserved",
		"s.conf:9: [alert a] key 'labels.team' already set at s.conf:8",
		"s.conf:10: [alert a] labels.e: is empty",
		"s.conf:11: [alert a] annotations.summary: column 1: unterminated {{ (close it "
		"with }})", NULL } },
	{ NULL, "[alert a]\nexpr = y\nannotations.x = CPU {{ humanise value }}\n"
	    "annotations.9 = x\n[record r]\nexpr = y\nannotations.summary = x\nfor = 1m\n"
	    "labels.job = j\n", {
		"s.conf:3: [alert a] annotations.x: column 8: unknown helper \"humanise\" "
		"(expected humanize, humanize1024, humanizeDuration or humanizePercentage)",
		"s.conf:4: [alert a] annotations.9: \"9\" is not a valid annotation name (letters, "
		"digits and '_', not starting with a digit)",
		"s.conf:7: [record r] unknown key 'annotations.summary' (expected one of: expr, "
		"eval_interval, labels.NAME)",
		"s.conf:8: [record r] unknown key 'for' (expected one of: expr, eval_interval, "
		"labels.NAME)", NULL } },
	{ NULL, "[reeve]\nlabels.a-b = 1\nlabels.__x = 1\nlabels.dc = x\nlabels.dc = y\n"
	    "labels.e =\nlabels.severity = page\nlabels.alertname = x\nlabels = x\nlabels. = x\n", {
		"s.conf:2: [reeve] labels.a-b: \"a-b\" is not a valid label name (letters, digits "
		"and '_', not starting with a digit)",
		"s.conf:3: [reeve] labels.__x: names starting with __ are reserved",
		"s.conf:5: [reeve] key 'labels.dc' already set at s.conf:4",
		"s.conf:6: [reeve] labels.e: is empty",
		"s.conf:7: [reeve] labels.severity: every alert has the label severity (its rule's "
		"severity), and an external label never replaces one",
		"s.conf:8: [reeve] labels.alertname: every alert has the label alertname (its "
		"rule's name), and an external label never replaces one",
		"s.conf:9: [reeve] unknown key 'labels' (expected one of: data_dir, interval, "
		"hostname, plugin_dir, log_level, log_target, memory_window, user, labels.NAME)",
		"s.conf:10: [reeve] labels.: \"\" is not a valid label name (letters, digits and "
		"'_', not starting with a digit)", NULL } },
	{ NULL, "[http]\nlisten = ::1:80\nmax_per_ip = 1x\nlisten = 127.0.0.1:80\n", {
		"s.conf:2: [http] listen: \"::1:80\" looks like an IPv6 address: put it in brackets, "
		"e.g. [::1]:9180",
		"s.conf:3: [http] max_per_ip: \"1x\" is not a whole number",
		"s.conf:4: [http] key 'listen' already set at s.conf:2", NULL } },
};

int
main(void)
{
	struct CMUnitTest tests[64] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_multiline),
		cmocka_unit_test(test_syntax_details),
		cmocka_unit_test(test_include_glob),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test_setup_teardown(test_tokens, token_setup, token_teardown),
		cmocka_unit_test_setup_teardown(test_token_errors, token_setup, token_teardown),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_check_exprs),
		cmocka_unit_test(test_builtin_rules),
		cmocka_unit_test(test_external_labels),
	};
	static char names[sizeof(bad_cases) / sizeof(bad_cases[0])][96];
	size_t n = 0, i;

	while (tests[n].test_func != NULL) /* the bad cases follow the tests listed */
		n++;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		if (bad_cases[i].path != NULL)
			snprintf(names[i], sizeof(names[i]), "errors: %s", bad_cases[i].path);
		else
			snprintf(names[i], sizeof(names[i]), "errors: inline case %zu", i);
		tests[n].name = names[i];
		tests[n].test_func = test_bad;
		tests[n].initial_state = (void *)&bad_cases[i];
		n++;
	}
	return _cmocka_run_group_tests("config", tests, n, setup, NULL);
}
