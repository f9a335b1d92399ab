/* test_rulestest.c: the `reeve rules test` file parser, the value notation, and a run. */
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

#include "config.h"
#include "rulestest.h"
#include "util.h"

/* ---- the expanding notation -------------------------------------------------------------- */

static void
expand_good(void **state)
{
	static const struct {
		const char *text;
		size_t n;
		double v[12]; /* -1e300: missing, -2e300: stale */
	} cases[] = {
		{ "1+2x3", 4, { 1, 3, 5, 7 } },
		{ "1+2x10", 11, { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21 } },
		{ "10-2.5x2", 3, { 10, 7.5, 5 } },
		{ "-1-1x2", 3, { -1, -2, -3 } },
		{ "5x3", 4, { 5, 5, 5, 5 } },
		{ "1 _ 3", 3, { 1, -1e300, 3 } },
		{ "_x3 4", 4, { -1e300, -1e300, -1e300, 4 } },
		{ "1 stale 2", 3, { 1, -2e300, 2 } },
		{ "  1e3   +Inf -Inf  ", 3, { 1000, INFINITY, -INFINITY } },
		{ "", 0, { 0 } },
		{ "0x10", 11, { 0 } }, /* eleven zeros, not hexadecimal */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rulestest_point *p = NULL;
		size_t n = 99;
		char err[256] = "";

		if (rulestest_expand(cases[i].text, &p, &n, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", cases[i].text, err);
		if (n != cases[i].n)
			fail_msg("\"%s\": %zu values, expected %zu", cases[i].text, n, cases[i].n);
		for (size_t k = 0; k < n; k++) {
			double want = cases[i].v[k];

			if (want == -1e300)
				assert_int_equal(p[k].kind, RULESTEST_MISSING);
			else if (want == -2e300)
				assert_int_equal(p[k].kind, RULESTEST_STALE);
			else if (p[k].kind != RULESTEST_VALUE || p[k].v != want)
				fail_msg("\"%s\"[%zu] = %g, expected %g", cases[i].text, k, p[k].v, want);
		}
		free(p);
	}
}

static void
expand_nan(void **state)
{
	struct rulestest_point *p = NULL;
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(rulestest_expand("NaN NaNx1", &p, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_true(isnan(p[0].v) && isnan(p[2].v));
	free(p);
}

static void
expand_bad(void **state)
{
	static const char *bad[] = {
		"1+x3", "1+2", "1+2x", "1x", "0xA", "abc", "1,2", "1++2x3", "_x", "_5", "stale2",
		"1+2x3y", "inf", "nan", ".", "1x99999999999", "1+1x2000000", "1e", "--1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rulestest_point *p = NULL;
		size_t n;
		char err[256] = "";
		int rc = rulestest_expand(bad[i], &p, &n, err, sizeof(err));

		if (rc != -1)
			fail_msg("\"%s\" was accepted (%zu values)", bad[i], n);
		assert_null(p);
		assert_true(err[0] != '\0');
	}
}

/* ---- the file ---------------------------------------------------------------------------- */

static const char good_file[] =
    "; comment\n"
    "[test]\n"
    "rules = rules.conf\n"
    "interval = 30s\n"
    "\n"
    "[series]\n"
    "series = cpu{host=\"a\", dc=\"x\"} 1+1x5\n"
    "series = up 1 _ stale\n"
    "[eval 2m]\n"
    "alert = High firing {host=\"a\"} {summary=\"cpu \\\"a\\\"\"}\n"
    "alert = Low none\n"
    "expr = sum(cpu)\n"
    "result = {} 21\n"
    "expr = up\n"
    "result = none\n";

static void
parse_good(void **state)
{
	struct cfg_errors errs = { 0 };
	struct rulestest *t;

	(void)state;
	t = rulestest_parse(good_file, strlen(good_file), "dir/x.test", &errs);
	if (t == NULL)
		fail_msg("%s", errs.msgs[0]);
	assert_int_equal(errs.n, 0);
	assert_int_equal(rulestest_count(t), 4);
	rulestest_free(t);
	rulestest_free(NULL);
}

/* Every bad file gives its first error at the expected line. */
static void
parse_bad(void **state)
{
	static const struct {
		const char *text;
		const char *msg; /* the first message, "file:line: ..." prefix */
	} cases[] = {
		{ "[test]\nrules = r\n[series]\nseries = x{a=\"b\"} 1+x3\n[eval 1m]\nalert = A none\n",
		    "t.test:4: series: \"1+x3\" is not a value" },
		{ "[test]\nrules = r\n[eval 1m]\nalert = A burning\n",
		    "t.test:4: alert: \"burning\" is not firing, pending, nodata or none" },
		{ "[test]\nrules = r\n[eval 1m]\nalert = A firing {a=b}\n",
		    "t.test:4: alert: labels: expected =\"value\" after \"a\"" },
		{ "[test]\nrules = r\n[eval soon]\nalert = A none\n", "t.test:3: [eval soon]" },
		{ "[test]\nrules = r\n[bogus]\nx = 1\n[eval 1m]\nalert = A none\n",
		    "t.test:3: unknown section [bogus]" },
		{ "[test]\nrules = r\ninterval = 10\n[eval 1m]\nalert = A none\n",
		    "t.test:3: interval: \"10\"" },
		{ "[test]\nrules = r\n[eval 1m]\nexpr = rat(x[5m])\nresult = none\n",
		    "t.test:4: expr: 1:1: unknown function \"rat\"" },
		{ "[test]\nrules = r\n[eval 1m]\nexpr = up\n", "t.test:4: expr without result lines" },
		{ "[test]\nrules = r\n[eval 1m]\nresult = {} 1\n", "t.test:4: result: no expr" },
		{ "[test]\nrules = r\n[series]\nseries = up 1\nseries = up 2\n[eval 0]\nalert = A none\n",
		    "t.test:5: series: the same series as line 4" },
		{ "rules = r\n", "t.test:1: key \"rules\" outside a section" },
		{ "[test]\nrules = r\n[eval 1m]\nalert = A none\njunk\n", "t.test:5: expected key = value" },
		{ "[test]\nrules = r\n", "t.test: no expectations" },
		{ "[eval 1m]\nalert = A none\n", "t.test: no rules = FILE in [test]" },
		{ "[test\n", "t.test:1: a section header must end with ']'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_errors errs = { 0 };
		struct rulestest *t = rulestest_parse(cases[i].text, strlen(cases[i].text), "t.test",
		    &errs);

		if (t != NULL)
			fail_msg("case %zu was accepted", i);
		assert_true(errs.n > 0);
		if (strncmp(errs.msgs[0], cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s...\"", i, errs.msgs[0], cases[i].msg);
		cfg_errors_clear(&errs);
	}
}

/* ---- a run ------------------------------------------------------------------------------- */

static void
run_counts(void **state)
{
	char dir[] = "/tmp/test_rulestest.XXXXXX", *rules, *out = NULL;
	static const char conf[] = "[alert Hot]\nexpr = temp > 50\nfor = 1m\n";
	static const char test[] =
	    "[test]\nrules = rules.conf\ninterval = 1m\n[series]\n"
	    "series = temp{room=\"a\"} 40 60 60 60\n"
	    "[eval 1m]\nalert = Hot pending {room=\"a\"}\n"
	    "[eval 2m]\nalert = Hot firing {room=\"a\"}\n"
	    "[eval 3m]\nalert = Hot pending {room=\"a\"}\n";
	struct cfg_errors errs = { 0 };
	struct rulestest *t;
	unsigned passed = 0, failed = 0;
	size_t outlen = 0;
	FILE *f, *mem;
	char *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	rules = xasprintf("%s/rules.conf", dir);
	path = xasprintf("%s/t.test", dir);
	f = fopen(rules, "w");
	assert_non_null(f);
	fputs(conf, f);
	fclose(f);
	t = rulestest_parse(test, strlen(test), path, &errs);
	assert_non_null(t);
	mem = open_memstream(&out, &outlen);
	assert_int_equal(rulestest_run(t, mem, &passed, &failed, &errs), 0);
	fclose(mem);
	assert_int_equal(passed, 2);
	assert_int_equal(failed, 1);
	/* the failing line (11), what it expected and what was found */
	{
		char *want = xasprintf("%s:11: at 3m, alert Hot: expected pending {room=\"a\"}, "
		    "found firing {room=\"a\"}\n", path);

		assert_string_equal(out, want);
		free(want);
	}
	free(out);
	rulestest_free(t);
	unlink(rules);
	rmdir(dir);
	free(rules);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(expand_good),
		cmocka_unit_test(expand_nan),
		cmocka_unit_test(expand_bad),
		cmocka_unit_test(parse_good),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(run_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
