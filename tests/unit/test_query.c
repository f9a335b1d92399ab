/* test_query.c: unit tests of src/query.c: range evaluation against evaluating each step alone. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expr.h"
#include "memsource.h"
#include "query.h"

/* Two instances of a gauge and a counter, a point every 10 s over an hour from t = 1000. */
static struct memsource *
fixture(void)
{
	struct memsource *ms = memsource_new();
	struct reeve_label a = { "instance", "a" }, b = { "instance", "b" };

	for (int i = 0; i < 360; i++) {
		double t = 1000 + 10.0 * i;

		assert_int_equal(memsource_add(ms, "temp", &a, 1, t, 20 + i % 7, 0), 0);
		if (i < 200 || i > 250) /* b has a gap */
			assert_int_equal(memsource_add(ms, "temp", &b, 1, t, 30 - i % 5, 0), 0);
		assert_int_equal(memsource_add(ms, "requests_total", &a, 1, t, 3.0 * i, 0), 0);
	}
	return ms;
}

/* The value of series name{instance=inst} at t in an instant evaluation, NaN when absent. */
static double
instant(const char *text, const struct expr_source *src, double t, const char *inst)
{
	char err[256];
	struct expr *e = expr_parse(text, err, sizeof(err));
	struct expr_value v = { 0 };
	double r = NAN;

	assert_non_null(e);
	assert_int_equal(expr_eval(e, src, t, &v, err, sizeof(err)), 0);
	if (v.type == EXPR_SCALAR)
		r = v.scalar;
	for (size_t i = 0; i < v.nsamples; i++)
		if (strcmp(v.samples[i].nlabels ? v.samples[i].labels[0].value : "", inst) == 0)
			r = v.samples[i].v;
	expr_value_free(&v);
	expr_free(e);
	return r;
}

static const char *
label(const struct expr_series *s)
{
	return s->nlabels ? s->labels[0].value : "";
}

/* Every step of a range equals the instant evaluation at its time. */
static void
check_same(const char *text, double start, double end, double step, size_t want_series)
{
	struct memsource *ms = fixture();
	struct expr_source src;
	struct query_range q = { .start = start, .end = end, .step = step };
	struct expr_series *s;
	size_t n, points = 0;
	char err[256];
	struct expr *e;

	memsource_source(ms, &src);
	e = expr_parse(text, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(query_range_eval(e, &src, &q, &s, &n, err, sizeof(err)), 0);
	assert_int_equal(n, want_series);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < s[i].n; k++) {
			double want = instant(text, &src, s[i].ts[k], label(&s[i]));

			assert_true(fabs(want - s[i].v[k]) < 1e-9);
			points++;
		}
	}
	assert_true(points > 0);
	expr_series_free(s, n);
	expr_free(e);
	memsource_free(ms);
}

static void
test_selector(void **state)
{
	(void)state;
	check_same("temp", 1000, 4590, 30, 2);
}

static void
test_functions(void **state)
{
	(void)state;
	check_same("rate(requests_total[1m])", 1100, 4500, 60, 1);
	check_same("avg_over_time(temp[5m]) > 22", 1300, 4500, 45, 2);
	check_same("sum(temp)", 1000, 4590, 20, 1);
	check_same("time() - 1000", 1000, 2000, 100, 1);
}

/*
 * A selector alone: the answer's series in the order evaluating step by step adds them (by
 * their first point in the range, then in the source's order), each step as evaluated alone,
 * gaps longer than the lookback and a series gone stale included.
 */
static void
test_selector_order(void **state)
{
	struct memsource *ms = memsource_new();
	struct reeve_label a = { "instance", "a" }, b = { "instance", "b" }, c = { "instance", "c" };
	struct query_range q = { .start = 1000, .end = 3000, .step = 25 };
	struct expr_source src;
	struct expr_series *s;
	size_t n;
	char err[256];
	struct expr *e = expr_parse("up", err, sizeof(err));

	(void)state;
	/* b first in the source, by a point long before the range */
	assert_int_equal(memsource_add(ms, "up", &b, 1, 100, 0, 0), 0);
	for (int i = 0; i < 200; i++) {
		double t = 1000 + 10.0 * i;

		if (t >= 1800) /* late: the last of the answer, though the source has it first */
			assert_int_equal(memsource_add(ms, "up", &b, 1, t, i, 0), 0);
		if (t < 1300 || t > 2000) /* a gap longer than the lookback */
			assert_int_equal(memsource_add(ms, "up", &a, 1, t, 2 * i, 0), 0);
		if (t <= 2500) /* stale after 2500 */
			assert_int_equal(memsource_add(ms, "up", &c, 1, t, 3 * i, t == 2500), 0);
	}
	memsource_source(ms, &src);
	assert_int_equal(query_range_eval(e, &src, &q, &s, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(label(&s[0]), "a");
	assert_string_equal(label(&s[1]), "c");
	assert_string_equal(label(&s[2]), "b");
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		for (double t = q.start; t <= q.end; t += q.step) {
			double want = instant("up", &src, t, label(&s[i]));

			if (isnan(want))
				continue;
			assert_true(k < s[i].n && s[i].ts[k] == t && s[i].v[k] == want);
			k++;
		}
		assert_int_equal(k, s[i].n);
	}
	expr_series_free(s, n);
	expr_free(e);
	memsource_free(ms);
}

/* Step 0: the data's own step, the times aligned to multiples of it, every point met once. */
static void
test_auto_step(void **state)
{
	struct memsource *ms = fixture();
	struct expr_source src;
	struct query_range q = { .start = 995, .end = 4595 };
	struct expr_series *s;
	size_t n;
	char err[256];
	struct expr *e = expr_parse("temp{instance=\"a\"}", err, sizeof(err));

	(void)state;
	memsource_source(ms, &src);
	assert_int_equal(query_range_eval(e, &src, &q, &s, &n, err, sizeof(err)), 0);
	assert_true(q.step_used == 10);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].n, 360);
	assert_true(s[0].ts[0] == 1000 && s[0].ts[359] == 4590);
	for (size_t k = 0; k < s[0].n; k++)
		assert_true(s[0].v[k] == 20 + (double)(k % 7));
	expr_series_free(s, n);
	expr_free(e);
	memsource_free(ms);
}

/* Too many steps, a range vector, a bad range: errors that say what. */
static void
test_errors(void **state)
{
	struct memsource *ms = fixture();
	struct expr_source src;
	struct query_range q = { .start = 0, .end = 1e6, .step = 1, .max_points = 1000 };
	struct expr_series *s;
	size_t n;
	char err[256];
	struct expr *e = expr_parse("temp", err, sizeof(err));
	struct expr *r = expr_parse("temp[5m]", err, sizeof(err));

	(void)state;
	memsource_source(ms, &src);
	assert_int_equal(query_range_eval(e, &src, &q, &s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than the limit of 1000"));
	q.step = 60;
	assert_int_equal(query_range_eval(r, &src, &q, &s, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "range vector"));
	q.start = 10;
	q.end = 5;
	assert_int_equal(query_range_eval(e, &src, &q, &s, &n, err, sizeof(err)), -1);
	expr_free(e);
	expr_free(r);
	memsource_free(ms);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_selector_order),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_auto_step),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
