/* test_registry.c: series identity, latest values, windows, staleness and type conflicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"
#include "util.h"

static struct reg_series *
find(struct registry *r, const char *name, size_t idx)
{
	size_t n;
	struct reg_family **f = reg_families(r, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i]->name, name) == 0)
			return idx < f[i]->nseries ? f[i]->series[idx] : NULL;
	return NULL;
}

static void
test_identity(void **state)
{
	struct registry *r = reg_new(10, NULL);
	struct reg_owner *o = reg_owner_new(r, "t", 1, 0);
	struct reg_batch b = { 0 };
	struct reeve_label ab[2] = { { "a", "1" }, { "b", "2" } }, ba[2] = { { "b", "2" }, { "a", "1" } };
	struct reeve_label empty[2] = { { "a", "1" }, { "b", "" } };

	(void)state;
	reg_batch_add(&b, "m", "h", REEVE_GAUGE, ab, 2, 1);
	reg_batch_add(&b, "m", "h", REEVE_GAUGE, ba, 2, 2);   /* same series: label order */
	reg_batch_add(&b, "m", "h", REEVE_GAUGE, empty, 2, 3); /* empty label = absent */
	reg_commit(r, o, 100, &b);
	assert_int_equal(reg_series_count(r), 2);
	/* sorted by key: ',' sorts before '}' */
	assert_string_equal(find(r, "m", 0)->key, "m{a=\"1\",b=\"2\"}");
	assert_string_equal(find(r, "m", 1)->key, "m{a=\"1\"}");
	assert_true(find(r, "m", 0)->value == 2);
	assert_true(find(r, "m", 1)->value == 3);
	reg_batch_free(&b);
	reg_owner_free(r, o);
	reg_free(r);
}

/* reg_family_find finds each of more families than the table starts with buckets, and no other. */
static void
test_family_find(void **state)
{
	struct registry *r = reg_new(10, NULL);
	struct reg_owner *o = reg_owner_new(r, "t", 1, 0);
	struct reg_batch b = { 0 };
	char name[32];
	size_t n;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "fam_%d", i);
		reg_batch_add(&b, name, "h", REEVE_GAUGE, NULL, 0, i);
	}
	reg_commit(r, o, 100, &b);
	reg_families(r, &n);
	assert_int_equal(n, 1000);
	for (int i = 0; i < 1000; i++) {
		struct reg_family *f;

		snprintf(name, sizeof(name), "fam_%d", i);
		assert_non_null(f = reg_family_find(r, name));
		assert_string_equal(f->name, name);
		assert_int_equal(f->nseries, 1);
		assert_true(f->series[0]->value == i);
	}
	assert_null(reg_family_find(r, "fam_1000"));
	assert_null(reg_family_find(r, "fam_"));
	reg_batch_free(&b);
	reg_owner_free(r, o);
	reg_free(r);
}

static void
test_window(void **state)
{
	struct registry *r = reg_new(5, NULL); /* 5 s at 1 s: 6 points */
	struct reg_owner *o = reg_owner_new(r, "t", 1, 0);
	struct reg_batch b = { 0 };
	double ts, v;

	(void)state;
	for (int i = 0; i < 20; i++) {
		reg_batch_reset(&b);
		reg_batch_add(&b, "g", "h", REEVE_GAUGE, NULL, 0, i);
		reg_commit(r, o, 1000 + i, &b);
	}
	struct reg_series *s = find(r, "g", 0);
	assert_int_equal(s->wlen, 6);
	assert_int_equal(reg_series_point(s, 0, &ts, &v), 0);
	assert_true(ts == 1019 && v == 19);
	assert_int_equal(reg_series_point(s, 5, &ts, &v), 0);
	assert_true(ts == 1014 && v == 14);
	assert_int_equal(reg_series_point(s, 6, &ts, &v), -1);
	reg_batch_free(&b);
	reg_owner_free(r, o);
	reg_free(r);
}

static void
test_type_conflict_and_generation(void **state)
{
	struct registry *r = reg_new(10, NULL);
	struct reg_owner *o = reg_owner_new(r, "t", 1, 0);
	struct reg_batch b = { 0 };
	unsigned long g0 = reg_generation(r);

	(void)state;
	reg_batch_add(&b, "x_total", "h", REEVE_COUNTER, NULL, 0, 1);
	reg_commit(r, o, 1, &b);
	assert_true(reg_generation(r) != g0);
	reg_batch_reset(&b);
	reg_batch_add(&b, "x_total", "h", REEVE_GAUGE, NULL, 0, 5);
	reg_commit(r, o, 2, &b);
	assert_int_equal(reg_type_conflicts(r), 1);
	assert_true(find(r, "x_total", 0)->value == 1);
	reg_batch_free(&b);
	reg_owner_free(r, o);
	/* a dropped owner's series are stale */
	assert_int_equal(find(r, "x_total", 0)->stale, 1);
	reg_free(r);
}

static void
test_sweep(void **state)
{
	struct registry *r = reg_new(10, NULL);
	struct reg_owner *o = reg_owner_new(r, "t", 1, 0);
	struct reg_batch b = { 0 };
	struct reeve_label l[3] = { { "if", "eth0" }, { "if", "veth1" }, { "if", "veth2" } };

	(void)state;
	for (int i = 0; i < 3; i++)
		reg_batch_add(&b, "net_total", "h", REEVE_COUNTER, &l[i], 1, i);
	reg_commit(r, o, 100, &b);
	reg_batch_reset(&b);
	reg_batch_add(&b, "net_total", "h", REEVE_COUNTER, &l[0], 1, 5); /* the veths are gone */
	reg_commit(r, o, 101, &b);
	assert_int_equal(reg_series_count(r), 3);
	assert_int_equal(reg_sweep(r, 105, 10), 0);  /* not stale for long enough */
	assert_int_equal(reg_sweep(r, 111, 10), 2);  /* stale since 100 */
	assert_int_equal(reg_series_count(r), 1);
	assert_string_equal(find(r, "net_total", 0)->key, "net_total{if=\"eth0\"}");
	assert_null(find(r, "net_total", 1));
	/* a forgotten series that comes back is a new series */
	reg_batch_reset(&b);
	reg_batch_add(&b, "net_total", "h", REEVE_COUNTER, &l[0], 1, 6);
	reg_batch_add(&b, "net_total", "h", REEVE_COUNTER, &l[2], 1, 7);
	reg_commit(r, o, 112, &b);
	assert_int_equal(reg_series_count(r), 2);
	assert_int_equal(find(r, "net_total", 1)->wlen, 1);
	/* the live one is never swept, however old the sweep's horizon */
	assert_int_equal(reg_sweep(r, 1e9, 1), 0);
	reg_batch_free(&b);
	reg_owner_free(r, o);
	reg_free(r);
}

static void
test_batch_rejects(void **state)
{
	struct reg_batch b = { 0 };
	struct reeve_label bad1 = { "1x", "v" }, bad2 = { "__reserved", "v" }, bad3 = { "ok", NULL };

	(void)state;
	assert_int_equal(reg_batch_add(&b, "", "h", REEVE_GAUGE, NULL, 0, 1), -1);
	assert_int_equal(reg_batch_add(&b, "9lives", "h", REEVE_GAUGE, NULL, 0, 1), -1);
	assert_int_equal(reg_batch_add(&b, "m", "h", REEVE_GAUGE, &bad1, 1, 1), -1);
	assert_int_equal(reg_batch_add(&b, "m", "h", REEVE_GAUGE, &bad2, 1, 1), -1);
	assert_int_equal(reg_batch_add(&b, "m", "h", REEVE_GAUGE, &bad3, 1, 1), -1);
	assert_int_equal(reg_batch_add(&b, "m", "h", 7, NULL, 0, 1), -1);
	assert_int_equal(reg_batch_add(&b, "ns:m", NULL, REEVE_GAUGE, NULL, 0, 1), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.rejected, 6);
	reg_batch_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_family_find),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_type_conflict_and_generation),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_batch_rejects),
	};
	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
