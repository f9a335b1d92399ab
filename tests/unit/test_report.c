/* test_report.c: unit tests of reports/report.c: periods across DST, numbers for people, thresholds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "tz.h"

/* Unix time of a UTC date and time. */
static double
utc(int y, int m, int d, int hh, int mm)
{
	return (double)(tz_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60);
}

static void
bounds(const char *period, const char *zone, double at, double b[4])
{
	struct report_period p;
	char err[256];
	struct tz *z = tz_load(zone, err, sizeof(err));

	assert_non_null(z);
	assert_int_equal(report_period_parse(period, &p, err, sizeof(err)), 0);
	assert_int_equal(report_period_bounds(&p, z, at, b), 0);
	tz_free(z);
}

/* Calendar periods in Berlin: local midnights, 23 and 25 hour days at the DST changes. */
static void
test_calendar(void **state)
{
	double b[4];

	(void)state;
	/* a run on Mon 30 March 2026 07:00 CEST: yesterday was 29 March, 23 hours long */
	bounds("previous day", "Europe/Berlin", utc(2026, 3, 30, 5, 0), b);
	assert_true(b[0] == utc(2026, 3, 28, 23, 0) && b[1] == utc(2026, 3, 29, 22, 0));
	assert_true(b[1] - b[0] == 23 * 3600);
	assert_true(b[2] == utc(2026, 3, 27, 23, 0) && b[3] == b[0]);
	/* 25 October 2026 had 25 hours */
	bounds("previous day", "Europe/Berlin", utc(2026, 10, 26, 6, 0), b);
	assert_true(b[1] - b[0] == 25 * 3600);
	/* previous week from Monday 30 March 08:00: Mon 23 March 00:00 CET to Mon 30 March 00:00 CEST */
	bounds("previous week", "Europe/Berlin", utc(2026, 3, 30, 6, 0), b);
	assert_true(b[0] == utc(2026, 3, 22, 23, 0) && b[1] == utc(2026, 3, 29, 22, 0));
	assert_true(b[2] == utc(2026, 3, 15, 23, 0));
	/* on a Sunday the previous week is the one that ended the Monday before */
	bounds("previous week", "UTC", utc(2026, 11, 29, 12, 0), b);
	assert_true(b[0] == utc(2026, 11, 16, 0, 0) && b[1] == utc(2026, 11, 23, 0, 0));
	/* previous month: November 2026 from 1 December; across a year */
	bounds("previous month", "Europe/Berlin", utc(2026, 12, 1, 7, 0), b);
	assert_true(b[0] == utc(2026, 10, 31, 23, 0) && b[1] == utc(2026, 11, 30, 23, 0));
	assert_true(b[2] == utc(2026, 9, 30, 22, 0));
	bounds("previous month", "UTC", utc(2027, 1, 15, 0, 0), b);
	assert_true(b[0] == utc(2026, 12, 1, 0, 0) && b[1] == utc(2027, 1, 1, 0, 0));
}

/* Rolling periods: seconds, and months with the day clamped. */
static void
test_rolling(void **state)
{
	double b[4], at = utc(2026, 3, 31, 12, 0);

	(void)state;
	bounds("7d", "UTC", at, b);
	assert_true(b[1] == at && b[0] == at - 7 * 86400 && b[2] == at - 14 * 86400);
	/* a month before 31 March is 28 February (no 31st); before that, 28 January */
	bounds("1M", "UTC", at, b);
	assert_true(b[0] == utc(2026, 2, 28, 12, 0) && b[2] == utc(2026, 1, 28, 12, 0));
}

static void
test_parse_errors(void **state)
{
	struct report_period p;
	struct report_threshold t;
	double v;
	char err[256];

	(void)state;
	assert_int_equal(report_period_parse("previous wek", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"previous wek\" is not a period"));
	assert_int_equal(report_period_parse("0M", &p, err, sizeof(err)), -1);
	assert_int_equal(report_period_parse("30s", &p, err, sizeof(err)), -1);
	assert_int_equal(report_threshold_parse("> 80%", &t, err, sizeof(err)), 0);
	assert_true(t.op == '>' && fabs(t.v - 0.8) < 1e-12);
	assert_int_equal(report_threshold_parse("<= 2GiB", &t, err, sizeof(err)), 0);
	assert_true(t.op == 'l' && t.v == 2147483648.0);
	assert_int_equal(report_threshold_parse(">= 250ms", &t, err, sizeof(err)), 0);
	assert_true(t.op == 'g' && fabs(t.v - 0.25) < 1e-12);
	assert_int_equal(report_threshold_parse(">> 4", &t, err, sizeof(err)), -1);
	assert_int_equal(report_threshold_parse("> 4 apples", &t, err, sizeof(err)), -1);
	assert_int_equal(report_objective_parse("99.9%", &v, err, sizeof(err)), 0);
	assert_true(fabs(v - 0.999) < 1e-12);
	assert_int_equal(report_objective_parse("0.995", &v, err, sizeof(err)), 0);
	assert_int_equal(report_objective_parse("101%", &v, err, sizeof(err)), -1);
	assert_int_equal(report_objective_parse("99", &v, err, sizeof(err)), -1);
}

static void
test_format(void **state)
{
	char b[64];
	static const struct {
		double v;
		const char *unit, *want;
	} cases[] = {
		{ 1610612736, "bytes", "1.5 GiB" }, { 512, "bytes", "512 B" },
		{ 0.25, "seconds", "250 ms" }, { 90, "seconds", "1.5 min" },
		{ 0.0000123, "seconds", "12.3 µs" }, { 0.1234, "ratio", "12.3%" },
		{ 99.95, "percent", "100%" }, { 1234, "orders", "1.23k orders" }, { 7, "", "7" },
		{ NAN, "bytes", "–" }, { -0.5, "", "-0.5" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		report_format_value(b, sizeof(b), cases[i].v, cases[i].unit);
		assert_string_equal(b, cases[i].want);
	}
	report_format_duration(b, sizeof(b), 45);
	assert_string_equal(b, "45 s");
	report_format_duration(b, sizeof(b), 1800);
	assert_string_equal(b, "30 min");
	report_format_duration(b, sizeof(b), 12000);
	assert_string_equal(b, "3 h 20 min");
	report_format_duration(b, sizeof(b), 2 * 86400 + 4 * 3600);
	assert_string_equal(b, "2 d 4 h");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_rolling),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
