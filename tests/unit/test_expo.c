/* test_expo.c: Prometheus text format escaping and rendering of the registry. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expo.h"
#include "registry.h"
#include "util.h"

static void
test_escape_label(void **state)
{
	struct buf b = { 0 };

	(void)state;
	expo_escape_label(&b, "plain");
	assert_string_equal(b.data, "plain");
	buf_reset(&b);
	expo_escape_label(&b, "a\\b\"c\nd");
	assert_string_equal(b.data, "a\\\\b\\\"c\\nd");
	buf_reset(&b);
	expo_escape_label(&b, "tab\tstays, utf-8 é stays");
	assert_string_equal(b.data, "tab\tstays, utf-8 é stays");
	buf_reset(&b);
	expo_escape_label(&b, "");
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void
test_escape_help(void **state)
{
	struct buf b = { 0 };

	(void)state;
	/* in HELP only backslash and newline are escaped; quotes stay */
	expo_escape_help(&b, "say \"hi\"\\n\nnext");
	assert_string_equal(b.data, "say \"hi\"\\\\n\\nnext");
	buf_free(&b);
}

static void
test_numbers(void **state)
{
	char n[40];

	(void)state;
	assert_string_equal(util_fmt_double(n, sizeof(n), 0.1), "0.1");
	assert_string_equal(util_fmt_double(n, sizeof(n), 42), "42");
	assert_string_equal(util_fmt_double(n, sizeof(n), -3), "-3");
	assert_string_equal(util_fmt_double(n, sizeof(n), 1e300), "1e+300");
	assert_string_equal(util_fmt_double(n, sizeof(n), NAN), "NaN");
	assert_string_equal(util_fmt_double(n, sizeof(n), INFINITY), "+Inf");
	assert_string_equal(util_fmt_double(n, sizeof(n), -INFINITY), "-Inf");
	assert_true(strtod(util_fmt_double(n, sizeof(n), 1.0 / 3), NULL) == 1.0 / 3);
}

static void
test_render(void **state)
{
	struct registry *r = reg_new(60, NULL);
	struct reg_owner *o = reg_owner_new(r, "t", 1);
	struct reg_batch b = { 0 };
	struct reeve_label l1[2] = { { "path", "C:\\dir \"x\"\nnext" }, { "a", "1" } };
	struct reeve_label l2[1] = { { "a", "0" } };
	struct buf out = { 0 };

	(void)state;
	reg_batch_add(&b, "zeta_bytes", "Last family", REEVE_GAUGE, NULL, 0, 1.5);
	reg_batch_add(&b, "alpha_total", "First family\nwith a newline", REEVE_COUNTER, l1, 2, 7);
	reg_batch_add(&b, "alpha_total", "ignored second help", REEVE_COUNTER, l2, 1, 3);
	assert_int_equal(reg_batch_add(&b, "bad-name", "x", REEVE_GAUGE, NULL, 0, 1), -1);
	assert_int_equal(b.rejected, 1);
	reg_commit(r, o, 1000, &b);
	expo_render(r, &out);
	assert_string_equal(out.data,
	    "# HELP alpha_total First family\\nwith a newline\n"
	    "# TYPE alpha_total counter\n"
	    "alpha_total{a=\"0\"} 3\n"
	    "alpha_total{a=\"1\",path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 7\n"
	    "# HELP zeta_bytes Last family\n"
	    "# TYPE zeta_bytes gauge\n"
	    "zeta_bytes 1.5\n");
	/* a series missing from the owner's next round is stale and disappears */
	reg_batch_reset(&b);
	reg_batch_add(&b, "zeta_bytes", "Last family", REEVE_GAUGE, NULL, 0, 2);
	reg_commit(r, o, 1001, &b);
	buf_reset(&out);
	expo_render(r, &out);
	assert_string_equal(out.data,
	    "# HELP zeta_bytes Last family\n"
	    "# TYPE zeta_bytes gauge\n"
	    "zeta_bytes 2\n");
	buf_free(&out);
	reg_batch_free(&b);
	reg_owner_free(r, o);
	reg_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_label),
		cmocka_unit_test(test_escape_help),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests_name("expo", tests, NULL, NULL);
}
