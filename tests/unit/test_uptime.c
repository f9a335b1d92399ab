/* test_uptime.c: unit tests of the uptime probe on recorded /proc samples. */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe_test_host.h"

/* From probes/uptime.c, visible with REEVE_TESTING. */
int parse_uptime(const char *buf, size_t len, double *uptime);
int parse_btime(const char *buf, size_t len, uint64_t *btime);

static void
test_parse(void **unused)
{
	double up;
	uint64_t btime;
	size_t len;
	char *buf = ptest_slurp("6.18.44-fc-v669", "proc/uptime", &len);

	assert_non_null(buf);
	assert_int_equal(parse_uptime(buf, len, &up), 0);
	assert_true(up == 1510.02);
	free(buf);
	buf = ptest_slurp("6.18.44-fc-v669", "proc/stat", &len);
	assert_non_null(buf);
	assert_int_equal(parse_btime(buf, len, &btime), 0);
	assert_int_equal(btime, 1795485371);
	free(buf);
}

static void
test_parse_bad(void **unused)
{
	double up;
	uint64_t btime;

	assert_int_equal(parse_uptime("", 0, &up), -1);
	assert_int_equal(parse_uptime("1505.02 2957.32", 15, &up), -1);	/* no newline */
	assert_int_equal(parse_uptime("x1505 2957\n", 11, &up), -1);
	assert_int_equal(parse_uptime("-5 2957\n", 8, &up), -1);
	assert_int_equal(parse_uptime("\xff\xfe\n", 3, &up), -1);
	assert_int_equal(parse_btime("btime 12", 8, &btime), -1);
	assert_int_equal(parse_btime("btime\nbtime x\nbtime 1 2\n", 24, &btime), -1);
	assert_int_equal(parse_btime("xbtime 5\nbtime 7\n", 17, &btime), 0);
	assert_int_equal(btime, 7);
}

static void
test_collect(void **unused)
{
	const char *kv[] = { "root", NULL, NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st = NULL;

	kv[1] = ptest_root("3.10.0");
	ptest_config(&cfg, kv);
	assert_string_equal(p->name, "uptime");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_int_equal(em.n, 2);
	assert_true(ptest_find(&em, "uptime_seconds", "")->value == 123456.78);
	assert_true(ptest_find(&em, "boot_time_seconds", "")->value == 1400000000);
	p->destroy(st);
	ptest_emitter_free(&em);
}

static void
write_file(const char *dir, const char *name, const char *content)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
test_btime_cached(void **unused)
{
	char dir[] = "/tmp/reeve-uptime-XXXXXX", path[128], err[256];
	const char *kv[] = { "root", dir, NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	void *st = NULL;

	/* the test host's clock says 1700000000 */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/proc", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(dir, "uptime", "1000.00 1500.00\n");
	write_file(dir, "stat", "cpu  1 2 3 4\nbtime 1699999000\n");
	ptest_config(&cfg, kv);
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_true(ptest_find(&em, "boot_time_seconds", "")->value == 1699999000);
	/* consistent with the clock: /proc/stat is not read again */
	write_file(dir, "stat", "cpu  1 2 3 4\nbtime 5\n");
	ptest_emitter_reset(&em);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_true(ptest_find(&em, "boot_time_seconds", "")->value == 1699999000);
	/* the clock was set: now - uptime moved, so btime is read again */
	write_file(dir, "uptime", "3000.00 1500.00\n");
	ptest_emitter_reset(&em);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_true(ptest_find(&em, "boot_time_seconds", "")->value == 5);
	assert_true(ptest_find(&em, "uptime_seconds", "")->value == 3000);
	p->destroy(st);
	ptest_emitter_free(&em);
	snprintf(path, sizeof(path), "%s/proc/uptime", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc/stat", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proc", dir);
	rmdir(path);
	rmdir(dir);
}

static void
test_bad_root(void **unused)
{
	const char *kv[] = { "root", "/nonexistent", NULL };
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_non_null(strstr(cfg.error, "root: cannot open /nonexistent/proc/uptime"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_btime_cached),
		cmocka_unit_test(test_bad_root),
	};

	return cmocka_run_group_tests_name("uptime", tests, NULL, NULL);
}
