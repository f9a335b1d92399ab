/* test_memory.c: unit tests of the memory probe on recorded /proc/meminfo samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe_test_host.h"

/* From probes/memory.c, visible with REEVE_TESTING. */
int parse_meminfo(const char *buf, size_t len, const char *const *keys, size_t nkeys,
    uint64_t *vals, unsigned char *found);

static const char *const keys[] = { "MemTotal", "MemAvailable", "Shmem", "HugePages_Total" };

/* Collect once from the samples of kernel; em receives the samples. */
static void
collect(const char *kernel, struct reeve_emitter *em)
{
	const char *kv[] = { "root", NULL, NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	char err[256];
	void *st = NULL;

	kv[1] = ptest_root(kernel);
	ptest_config(&cfg, kv);
	assert_string_equal(p->name, "memory");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	assert_int_equal(p->collect(st, em, err, sizeof(err)), 0);
	p->destroy(st);
}

static double
value(const struct reeve_emitter *em, const char *name)
{
	const struct ptest_sample *s = ptest_find(em, name, "");

	assert_non_null(s);
	assert_int_equal(s->type, REEVE_GAUGE);
	return s->value;
}

static void
test_parse_recorded(void **unused)
{
	uint64_t v[4];
	unsigned char found[4];
	size_t len;
	char *buf = ptest_slurp("6.18.44-fc-v669", "proc/meminfo", &len);

	assert_non_null(buf);
	assert_int_equal(parse_meminfo(buf, len, keys, 4, v, found), 4);
	assert_int_equal(v[0], 24684084ULL * 1024);
	assert_int_equal(v[1], 24433296ULL * 1024);
	assert_int_equal(v[2], 8872ULL * 1024);
	free(buf);
}

static void
test_parse_bad(void **unused)
{
	const char *bad = "MemTotal: 12 MB\nMemAvailable 5 kB\nShmem: 18446744073709551615 kB\n"
	    "HugePages_Total: 3 kB extra\nMemTotal\n:\n";
	const char *cut = "MemTotal:  1000 kB\nMemAvailable:  12";
	uint64_t v[4];
	unsigned char found[4];

	assert_int_equal(parse_meminfo(bad, strlen(bad), keys, 4, v, found), 0);
	assert_int_equal(parse_meminfo(cut, strlen(cut), keys, 4, v, found), 1);
	assert_int_equal(found[0], 1);
	assert_int_equal(found[1], 0);
	assert_int_equal(v[0], 1024000);
	assert_int_equal(parse_meminfo("\x01\xff\n\n:", 5, keys, 4, v, found), 0);
	/* a NUL inside the name is not the end of the name (it once read past the key) */
	assert_int_equal(parse_meminfo("MemTotal\0abcdefgh: 5\n", 22, keys, 4, v, found), 0);
}

static void
test_collect_current(void **unused)
{
	struct reeve_emitter em = { 0 };

	collect("6.18.44-fc-v669", &em);
	assert_true(value(&em, "memory_total_bytes") == 24684084.0 * 1024);
	assert_true(value(&em, "memory_free_bytes") == 24507132.0 * 1024);
	assert_true(value(&em, "memory_available_bytes") == 24433296.0 * 1024);
	assert_true(value(&em, "memory_buffers_bytes") == 868.0 * 1024);
	assert_true(value(&em, "memory_shared_bytes") == 8872.0 * 1024);
	assert_true(value(&em, "swap_total_bytes") == 0);
	assert_true(value(&em, "swap_free_bytes") == 0);
	assert_true(value(&em, "memory_used_bytes") == (24684084.0 - 24433296.0) * 1024);
	assert_non_null(ptest_find(&em, "memory_cached_bytes", ""));
	ptest_emitter_free(&em);
}

static void
test_collect_5_15(void **unused)
{
	struct reeve_emitter em = { 0 };

	collect("5.15.0", &em);
	assert_true(value(&em, "memory_cached_bytes") == 9823452.0 * 1024);
	assert_true(value(&em, "swap_used_bytes") == (2097148.0 - 2000000.0) * 1024);
	assert_true(value(&em, "memory_hugepages") == 4);	/* a count, not kB */
	assert_true(value(&em, "memory_hugepage_size_bytes") == 2048.0 * 1024);
	ptest_emitter_free(&em);
}

static void
test_collect_old_estimates_available(void **unused)
{
	struct reeve_emitter em = { 0 };
	size_t logs = ptest_log_count();

	collect("3.10.0", &em);
	/* no MemAvailable before 3.14: free + cached + buffers, and a note in the log */
	assert_true(value(&em, "memory_available_bytes") == (223412.0 + 1823456 + 102340) * 1024);
	assert_int_equal(ptest_log_count(), logs + 1);
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
	assert_non_null(strstr(cfg.error, "root: cannot open /nonexistent/proc/meminfo"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_recorded),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_collect_current),
		cmocka_unit_test(test_collect_5_15),
		cmocka_unit_test(test_collect_old_estimates_available),
		cmocka_unit_test(test_bad_root),
	};

	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
