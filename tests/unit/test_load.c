/* test_load.c: unit tests of the load probe on recorded /proc/loadavg samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe_test_host.h"

/* From probes/load.c, visible with REEVE_TESTING. */
int parse_loadavg(const char *buf, size_t len, double *load, uint64_t *runnable,
    uint64_t *threads);

static void
test_parse(void **unused)
{
	double load[3];
	uint64_t run, threads;
	size_t len;
	char *buf = ptest_slurp("6.18.44-fc-v669", "proc/loadavg", &len);

	assert_non_null(buf);
	assert_int_equal(parse_loadavg(buf, len, load, &run, &threads), 0);
	assert_true(load[0] == 0.07);
	assert_true(load[1] == 0.08);
	assert_true(load[2] == 0.03);
	assert_int_equal(run, 1);
	assert_int_equal(threads, 82);
	free(buf);
}

static void
test_parse_bad(void **unused)
{
	static const char *const bad[] = {
		"", "0.52 0.58 0.59 2/1234 56789", "0.52 0.58\n", "0.52 0.58 0.59 2-1234 5\n",
		"nan 0.58 0.59 2/1234 5\n", "0.52 0.58 -1 2/1234 5\n", "0.52 0.58 0.59 /1234 5\n",
		"0.52 0.58 0.59 2/ 5\n", "1e999 0.58 0.59 2/1234 5\n", "\x01\x02\xff\n",
	};
	double load[3];
	uint64_t run, threads;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_loadavg(bad[i], strlen(bad[i]), load, &run, &threads), -1);
	/* the length is honoured */
	assert_int_equal(parse_loadavg("0.52 0.58 0.59 2/1234 56789\n", 20, load, &run,
	    &threads), -1);
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

	kv[1] = ptest_root("5.15.0");
	ptest_config(&cfg, kv);
	assert_string_equal(p->name, "load");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_int_equal(em.n, 4);
	assert_true(ptest_find(&em, "load1", "")->value == 1.25);
	assert_true(ptest_find(&em, "load5", "")->value == 0.75);
	assert_true(ptest_find(&em, "load15", "")->value == 0.5);
	assert_true(ptest_find(&em, "sched_threads", "")->value == 987);
	assert_int_equal(ptest_find(&em, "load1", "")->type, REEVE_GAUGE);
	p->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_bad_root(void **unused)
{
	const char *kv[] = { "root", "/nonexistent", NULL };
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_non_null(strstr(cfg.error, "root: cannot open /nonexistent/proc/loadavg"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_bad_root),
	};

	return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}
