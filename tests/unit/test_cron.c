/* test_cron.c: unit tests of src/cron.c and src/tz.c: next and previous times across DST, errors, zones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"
#include "tz.h"
#include "util.h"

/*
 * Expected times were computed by a brute-force reference outside reeve (Python's zoneinfo
 * reading the same tz database, walking every minute): a matching local time fires at the
 * first instant the clock shows it or a later time (docs/cron.md). 2026's changes: Europe
 * 29 March 01:00Z (02:00 -> 03:00) and 25 October 01:00Z (03:00 -> 02:00); New York 8 March
 * 07:00Z (02:00 -> 03:00) and 1 November 06:00Z (02:00 -> 01:00); Sydney 5 April 16:00Z
 * (03:00 -> 02:00) and 3 October 16:00Z (02:00 -> 03:00).
 */
static const struct {
	const char *expr, *tz, *at, *next, *prev;
} cases[] = {
	{ "* * * * *", "UTC", "2026-05-10T10:20:30Z", "2026-05-10T10:21:00Z", "2026-05-10T10:20:00Z" },
	{ "* * * * *", "Europe/Berlin", "2026-03-29T00:59:00Z", "2026-03-29T03:00:00+02:00", "2026-03-29T01:59:00+01:00" },
	{ "* * * * *", "Europe/Berlin", "2026-10-25T00:59:59Z", "2026-10-25T03:00:00+01:00", "2026-10-25T02:59:00+02:00" },
	{ "0 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T03:00:00+01:00", "2026-10-25T02:00:00+02:00" },
	{ "0 * * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T02:00:00-05:00", "2026-11-01T01:00:00-04:00" },
	{ "*/15 * * * *", "Europe/Berlin", "2026-03-29T00:50:00Z", "2026-03-29T03:00:00+02:00", "2026-03-29T01:45:00+01:00" },
	{ "*/15 * * * *", "Europe/Berlin", "2026-10-25T00:50:00Z", "2026-10-25T03:00:00+01:00", "2026-10-25T02:45:00+02:00" },
	{ "5 * * * *", "Europe/Berlin", "2026-03-29T00:10:00Z", "2026-03-29T03:00:00+02:00", "2026-03-29T01:05:00+01:00" },
	{ "5 * * * *", "America/New_York", "2026-03-08T06:10:00Z", "2026-03-08T03:00:00-04:00", "2026-03-08T01:05:00-05:00" },
	{ "0 2 * * *", "UTC", "2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z", "2026-03-28T02:00:00Z" },
	{ "0 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T03:00:00+02:00", "2026-03-28T02:00:00+01:00" },
	{ "0 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z", "2026-03-30T02:00:00+02:00", "2026-03-29T03:00:00+02:00" },
	{ "0 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-25T02:00:00+02:00", "2026-10-24T02:00:00+02:00" },
	{ "0 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T03:00:00-04:00", "2026-03-07T02:00:00-05:00" },
	{ "0 2 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T02:00:00-05:00", "2026-10-31T02:00:00-04:00" },
	{ "30 2 * * *", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-29T03:00:00+02:00", "2026-03-28T02:30:00+01:00" },
	{ "30 2 * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T02:30:00+02:00", "2026-10-24T02:30:00+02:00" },
	{ "30 2 * * *", "Europe/Berlin", "2026-10-25T01:45:00Z", "2026-10-26T02:30:00+01:00", "2026-10-25T02:30:00+02:00" },
	{ "30 2 * * *", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-08T03:00:00-04:00", "2026-03-07T02:30:00-05:00" },
	{ "0 3 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29T03:00:00+02:00", "2026-03-28T03:00:00+01:00" },
	{ "0 3 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-25T03:00:00+01:00", "2026-10-24T03:00:00+02:00" },
	{ "59 1 * * *", "Europe/Berlin", "2026-03-28T23:30:00Z", "2026-03-29T01:59:00+01:00", "2026-03-28T01:59:00+01:00" },
	{ "59 1 * * *", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T01:59:00-04:00", "2026-10-31T01:59:00-04:00" },
	{ "0 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T01:00:00-04:00", "2026-10-31T01:00:00-04:00" },
	{ "0 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T01:00:00-05:00", "2026-11-01T01:00:00-04:00" },
	{ "30 1 * * *", "America/New_York", "2026-11-01T06:10:00Z", "2026-11-02T01:30:00-05:00", "2026-11-01T01:30:00-04:00" },
	{ "0 1-3 * * *", "Europe/Berlin", "2026-10-25T00:05:00Z", "2026-10-25T03:00:00+01:00", "2026-10-25T02:00:00+02:00" },
	{ "0 1-3 * * *", "America/New_York", "2026-11-01T04:30:00Z", "2026-11-01T01:00:00-04:00", "2026-10-31T03:00:00-04:00" },
	{ "0 0 * * *", "America/New_York", "2026-11-01T03:00:00Z", "2026-11-01T00:00:00-04:00", "2026-10-31T00:00:00-04:00" },
	{ "@hourly", "America/New_York", "2026-03-08T06:30:00Z", "2026-03-08T03:00:00-04:00", "2026-03-08T01:00:00-05:00" },
	{ "@daily", "Europe/Berlin", "2026-03-29T00:00:00Z", "2026-03-30T00:00:00+02:00", "2026-03-29T00:00:00+01:00" },
	{ "@midnight", "UTC", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2026-12-31T00:00:00Z" },
	{ "@weekly", "Europe/Berlin", "2026-10-21T00:00:00Z", "2026-10-25T00:00:00+02:00", "2026-10-18T00:00:00+02:00" },
	{ "@monthly", "America/New_York", "2026-10-15T00:00:00Z", "2026-11-01T00:00:00-04:00", "2026-10-01T00:00:00-04:00" },
	{ "@yearly", "Europe/Berlin", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00" },
	{ "@annually", "UTC", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-01-01T00:00:00Z" },
	{ "0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z", "2024-02-29T00:00:00Z" },
	{ "0 0 29 2 *", "Europe/Berlin", "2028-02-28T23:00:00Z", "2032-02-29T00:00:00+01:00", "2028-02-29T00:00:00+01:00" },
	{ "0 0 31 * *", "UTC", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-03-31T00:00:00Z" },
	{ "0 0 31 * *", "America/New_York", "2026-08-31T04:00:00Z", "2026-10-31T00:00:00-04:00", "2026-08-31T00:00:00-04:00" },
	{ "0 12 1,15 * *", "Europe/Berlin", "2026-03-20T00:00:00Z", "2026-04-01T12:00:00+02:00", "2026-03-15T12:00:00+01:00" },
	{ "0 9 * * 1-5", "America/New_York", "2026-03-06T15:00:00Z", "2026-03-09T09:00:00-04:00", "2026-03-06T09:00:00-05:00" },
	{ "0 9 * * mon-fri", "Europe/Berlin", "2026-10-23T09:00:00Z", "2026-10-26T09:00:00+01:00", "2026-10-23T09:00:00+02:00" },
	{ "0 9 * * MON-Fri", "UTC", "2026-05-09T00:00:00Z", "2026-05-11T09:00:00Z", "2026-05-08T09:00:00Z" },
	{ "0 0 13 * 5", "UTC", "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-06T00:00:00Z" },
	{ "0 0 13 * 5", "UTC", "2026-02-10T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-06T00:00:00Z" },
	{ "0 0 */2 * 1", "UTC", "2026-05-01T00:00:00Z", "2026-05-11T00:00:00Z", "2026-04-27T00:00:00Z" },
	{ "0 0 1 * */7", "UTC", "2026-03-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-03-01T00:00:00Z" },
	{ "0 22 * * 0,7", "Europe/Berlin", "2026-03-25T00:00:00Z", "2026-03-29T22:00:00+02:00", "2026-03-22T22:00:00+01:00" },
	{ "0 22 * * 7", "America/New_York", "2026-10-28T00:00:00Z", "2026-11-01T22:00:00-05:00", "2026-10-25T22:00:00-04:00" },
	{ "*/20 9-17 * * *", "Europe/Berlin", "2026-03-29T15:50:00Z", "2026-03-30T09:00:00+02:00", "2026-03-29T17:40:00+02:00" },
	{ "10-20/5 * * * *", "UTC", "2026-05-10T10:20:00Z", "2026-05-10T11:10:00Z", "2026-05-10T10:20:00Z" },
	{ "15/20 * * * *", "America/New_York", "2026-11-01T05:40:00Z", "2026-11-01T01:55:00-04:00", "2026-11-01T01:35:00-04:00" },
	{ "0 0 * jan,jul *", "UTC", "2026-03-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-01-31T00:00:00Z" },
	{ "0 0 1 */3 *", "Europe/Berlin", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00+02:00", "2026-04-01T00:00:00+02:00" },
	{ "0 6 * mar-may sat", "America/New_York", "2026-02-20T00:00:00Z", "2026-03-07T06:00:00-05:00", "2025-05-31T06:00:00-04:00" },
	{ "45 23 31 12 *", "Europe/Berlin", "2026-06-01T00:00:00Z", "2026-12-31T23:45:00+01:00", "2025-12-31T23:45:00+01:00" },
	{ "0 */6 * * *", "America/New_York", "2026-03-08T05:30:00Z", "2026-03-08T06:00:00-04:00", "2026-03-08T00:00:00-05:00" },
	{ "0 0-23/8 * * *", "Europe/Berlin", "2026-10-24T22:30:00Z", "2026-10-25T08:00:00+01:00", "2026-10-25T00:00:00+02:00" },
	{ "1,2,3,58,59 * * * *", "UTC", "2026-05-10T10:03:00Z", "2026-05-10T10:58:00Z", "2026-05-10T10:03:00Z" },
	{ "0 4 8-14 * 2", "UTC", "2026-05-01T00:00:00Z", "2026-05-05T04:00:00Z", "2026-04-28T04:00:00Z" },
	{ "0 2 * 3 0", "Europe/Berlin", "2026-03-22T02:00:00Z", "2026-03-29T03:00:00+02:00", "2026-03-22T02:00:00+01:00" },
	{ "0 2 25 10 *", "Europe/Berlin", "2026-10-01T00:00:00Z", "2026-10-25T02:00:00+02:00", "2025-10-25T02:00:00+02:00" },
	{ "30 3 * * *", "America/New_York", "2026-11-01T06:00:00Z", "2026-11-01T03:30:00-05:00", "2026-10-31T03:30:00-04:00" },
	{ "59 23 * * *", "America/New_York", "2026-03-08T03:00:00Z", "2026-03-07T23:59:00-05:00", "2026-03-06T23:59:00-05:00" },
	{ "0 2 * * *", "Europe/Berlin", "2100-03-27T12:00:00Z", "2100-03-28T03:00:00+02:00", "2100-03-27T02:00:00+01:00" },
	{ "0 2 * * *", "Europe/Berlin", "2100-10-30T12:00:00Z", "2100-10-31T02:00:00+02:00", "2100-10-30T02:00:00+02:00" },
	{ "30 2 * * *", "Australia/Sydney", "2026-10-03T12:00:00Z", "2026-10-04T03:00:00+11:00", "2026-10-03T02:30:00+10:00" },
	{ "30 2 * * *", "Australia/Sydney", "2026-04-04T12:00:00Z", "2026-04-05T02:30:00+11:00", "2026-04-04T02:30:00+11:00" },
	{ "30 2 * * *", "Australia/Sydney", "2040-10-06T12:00:00Z", "2040-10-07T03:00:00+11:00", "2040-10-06T02:30:00+10:00" },
};

static time_t
parse_time(const char *s)
{
	double t;

	if (util_parse_time(s, &t) == -1)
		fail_msg("bad time in the table: %s", s);
	return (time_t)t;
}

static const char *
fmt(time_t t, char *buf, size_t size)
{
	return util_fmt_rfc3339(buf, size, (double)t);
}

static void
test_next_prev(void **unused)
{
	char err[256], b1[48], b2[48];
	struct cron *c;
	time_t at, next, prev, want_next, want_prev, t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((c = cron_parse(cases[i].expr, err, sizeof(err))) == NULL)
			fail_msg("%s: %s", cases[i].expr, err);
		at = parse_time(cases[i].at);
		want_next = parse_time(cases[i].next);
		want_prev = parse_time(cases[i].prev);
		assert_int_equal(cron_next(c, cases[i].tz, at, &next), 0);
		assert_int_equal(cron_prev(c, cases[i].tz, at, &prev), 0);
		if (next != want_next || prev != want_prev)
			fail_msg("'%s' in %s at %s: next %s prev %s, expected %s and %s",
			    cases[i].expr, cases[i].tz, cases[i].at, fmt(next, b1, sizeof(b1)),
			    fmt(prev, b2, sizeof(b2)), cases[i].next, cases[i].prev);
		/* they are firings, and nothing fires between them */
		assert_int_equal(cron_next(c, cases[i].tz, prev - 1, &t), 0);
		assert_int_equal(t, prev);
		assert_int_equal(cron_prev(c, cases[i].tz, next, &t), 0);
		assert_int_equal(t, next);
		assert_int_equal(cron_next(c, cases[i].tz, prev, &t), 0);
		assert_int_equal(t, next);
		assert_int_equal(cron_prev(c, cases[i].tz, next - 1, &t), 0);
		assert_int_equal(t, prev);
		cron_free(c);
	}
}

/* Every firing of expr in tz from `from` on, n of them, as RFC 3339 UTC, comma-separated. */
static char *
series(const char *expr, const char *tz, const char *from, int n)
{
	struct buf b = { 0 };
	char err[256], t[48];
	struct cron *c = cron_parse(expr, err, sizeof(err));
	time_t at = parse_time(from);

	assert_non_null(c);
	while (n-- > 0) {
		assert_int_equal(cron_next(c, tz, at, &at), 0);
		buf_puts(&b, fmt(at, t, sizeof(t)));
		if (n > 0)
			buf_putc(&b, ',');
	}
	cron_free(c);
	return buf_steal(&b);
}

static void
test_dst_series(void **unused)
{
	char *s;

	/* Berlin, spring: 02:00-02:59 does not exist; what matches there fires at 03:00 CEST */
	s = series("*/20 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z", 5);
	assert_string_equal(s, "2026-03-29T00:40:00Z,2026-03-29T01:00:00Z,2026-03-29T01:20:00Z,"
	    "2026-03-29T01:40:00Z,2026-03-29T02:00:00Z");
	free(s);
	s = series("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 3);
	assert_string_equal(s, "2026-03-28T01:30:00Z,2026-03-29T01:00:00Z,2026-03-30T00:30:00Z");
	free(s);
	/* Berlin, autumn: 02:00-02:59 happens twice; it fires in the first one only */
	s = series("0,30 * * * *", "Europe/Berlin", "2026-10-24T23:45:00Z", 5);
	assert_string_equal(s, "2026-10-25T00:00:00Z,2026-10-25T00:30:00Z,2026-10-25T02:00:00Z,"
	    "2026-10-25T02:30:00Z,2026-10-25T03:00:00Z");
	free(s);
	s = series("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2);
	assert_string_equal(s, "2026-10-25T00:30:00Z,2026-10-26T01:30:00Z");
	free(s);
	/* New York: the same on its dates, at its hours */
	s = series("30 1,2,3 * * *", "America/New_York", "2026-03-08T05:00:00Z", 4);
	assert_string_equal(s, "2026-03-08T06:30:00Z,2026-03-08T07:00:00Z,2026-03-08T07:30:00Z,"
	    "2026-03-09T05:30:00Z");
	free(s);
	s = series("30 0,1,2 * * *", "America/New_York", "2026-11-01T03:00:00Z", 4);
	assert_string_equal(s, "2026-11-01T04:30:00Z,2026-11-01T05:30:00Z,2026-11-01T07:30:00Z,"
	    "2026-11-02T05:30:00Z");
	free(s);
	/* UTC has no DST */
	s = series("0 2 * * *", "UTC", "2026-03-28T12:00:00Z", 2);
	assert_string_equal(s, "2026-03-29T02:00:00Z,2026-03-30T02:00:00Z");
	free(s);
	/* Feb 29 and the 31st skip the years and months without them */
	s = series("0 0 29 2 *", "UTC", "2023-06-01T00:00:00Z", 3);
	assert_string_equal(s, "2024-02-29T00:00:00Z,2028-02-29T00:00:00Z,2032-02-29T00:00:00Z");
	free(s);
	s = series("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", 1);	/* 2100 is no leap year */
	assert_string_equal(s, "2104-02-29T00:00:00Z");
	free(s);
	s = series("0 0 31 * *", "UTC", "2026-01-01T00:00:00Z", 7);
	assert_string_equal(s, "2026-01-31T00:00:00Z,2026-03-31T00:00:00Z,2026-05-31T00:00:00Z,"
	    "2026-07-31T00:00:00Z,2026-08-31T00:00:00Z,2026-10-31T00:00:00Z,2026-12-31T00:00:00Z");
	free(s);
	/* dom and dow both restricted: either; one of them starting with '*': both */
	s = series("0 0 13 * fri", "UTC", "2026-03-01T00:00:00Z", 4);
	assert_string_equal(s, "2026-03-06T00:00:00Z,2026-03-13T00:00:00Z,2026-03-20T00:00:00Z,"
	    "2026-03-27T00:00:00Z");
	free(s);
	s = series("0 0 13 * *", "UTC", "2026-03-01T00:00:00Z", 1);
	assert_string_equal(s, "2026-03-13T00:00:00Z");
	free(s);
	s = series("0 0 */13 * fri", "UTC", "2026-01-01T00:00:00Z", 2);	/* 1, 14, 27 and Friday */
	assert_string_equal(s, "2026-02-27T00:00:00Z,2026-03-27T00:00:00Z");
	free(s);
}

static void
test_local_zone(void **unused)
{
	char err[256];
	struct cron *c = cron_parse("30 2 * * *", err, sizeof(err));
	time_t at = parse_time("2026-03-08T05:00:00Z"), t;
	const char *saved = getenv("TZ");
	char *keep = saved != NULL ? xstrdup(saved) : NULL;

	/* NULL is the local zone as TZ names it (the test is single-threaded: setenv is fine) */
	assert_non_null(c);
	setenv("TZ", "America/New_York", 1);
	assert_int_equal(cron_next(c, NULL, at, &t), 0);
	assert_int_equal(t, parse_time("2026-03-08T03:00:00-04:00"));
	setenv("TZ", ":America/New_York", 1);
	assert_int_equal(cron_next(c, NULL, at, &t), 0);
	assert_int_equal(t, parse_time("2026-03-08T03:00:00-04:00"));
	setenv("TZ", "EST5EDT,M3.2.0,M11.1.0", 1);
	assert_int_equal(cron_next(c, NULL, at, &t), 0);
	assert_int_equal(t, parse_time("2026-03-08T03:00:00-04:00"));
	setenv("TZ", "/usr/share/zoneinfo/Europe/Berlin", 1);
	assert_int_equal(cron_next(c, NULL, at, &t), 0);
	assert_int_equal(t, parse_time("2026-03-09T02:30:00+01:00"));
	setenv("TZ", "", 1);	/* UTC, as for the C library */
	assert_int_equal(cron_next(c, NULL, at, &t), 0);
	assert_int_equal(t, parse_time("2026-03-09T02:30:00Z"));
	setenv("TZ", "No/Such_Zone", 1);	/* the C library takes UTC too */
	assert_int_equal(cron_next(c, NULL, at, &t), 0);
	assert_int_equal(t, parse_time("2026-03-09T02:30:00Z"));
	if (keep != NULL)
		setenv("TZ", keep, 1);
	else
		unsetenv("TZ");
	free(keep);
	/* an unknown named zone is an error, not UTC */
	assert_int_equal(cron_next(c, "No/Such_Zone", at, &t), -1);
	assert_int_equal(cron_prev(c, "No/Such_Zone", at, &t), -1);
	/* outside years 1 to 9999 */
	assert_int_equal(cron_next(c, "UTC", (time_t)300000000000LL, &t), -1);
	assert_int_equal(cron_prev(c, "UTC", (time_t)-70000000000LL, &t), -1);
	cron_free(c);
}

static void
check_error(const char *expr, const char *want)
{
	char err[256];
	struct cron *c = cron_parse(expr, err, sizeof(err));

	if (c != NULL)
		fail_msg("'%s' was accepted", expr);
	if (strcmp(err, want) != 0)
		fail_msg("'%s': got\n  %s\nexpected\n  %s", expr, err, want);
}

static void
test_errors(void **unused)
{
	check_error("", "cron: the schedule is empty (expected 5 fields such as '0 2 * * *', "
	    "or a macro such as @daily)");
	check_error(" \t ", "cron: the schedule is empty (expected 5 fields such as '0 2 * * *', "
	    "or a macro such as @daily)");
	check_error("* * * *", "cron: expected 5 fields (minute hour day-of-month month "
	    "day-of-week), found 4");
	check_error("0 0 * * * *", "cron: expected 5 fields (minute hour day-of-month month "
	    "day-of-week), found 6 (seconds and years are not supported)");
	check_error("60 * * * *", "cron: field 1 (minute): 60 is out of range 0-59 (column 1)");
	check_error("0 24 * * *", "cron: field 2 (hour): 24 is out of range 0-23 (column 3)");
	check_error("0 0 0 * *", "cron: field 3 (day-of-month): 0 is out of range 1-31 (column 5)");
	check_error("0 0 1-32 * *", "cron: field 3 (day-of-month): 32 is out of range 1-31 "
	    "(column 7)");
	check_error("0 0 * 13 *", "cron: field 4 (month): 13 is out of range 1-12 (column 7)");
	check_error("0 0 * * 8", "cron: field 5 (day-of-week): 8 is out of range 0-7 (column 9)");
	check_error("99999999999 * * * *", "cron: field 1 (minute): 99999999999 is out of range "
	    "0-59 (column 1)");
	check_error("x * * * *", "cron: field 1 (minute): 'x' is not a number (column 1)");
	check_error("0 mon * * *", "cron: field 2 (hour): 'mon' is not a number (column 3)");
	check_error("0 0 * foo *", "cron: field 4 (month): 'foo' is not a number or a month name "
	    "(jan-dec) (column 7)");
	check_error("0 0 * * monday", "cron: field 5 (day-of-week): 'monday' is not a number or a "
	    "day name (sun-sat) (column 9)");
	check_error("0 0 * * 1x", "cron: field 5 (day-of-week): '1x' is not a number or a day "
	    "name (sun-sat) (column 9)");
	check_error("30-10 * * * *", "cron: field 1 (minute): the range 30-10 runs backwards "
	    "(write the smaller value first) (column 1)");
	check_error("0 0 * dec-jan *", "cron: field 4 (month): the range dec-jan runs backwards "
	    "(write the smaller value first) (column 7)");
	check_error("*/0 * * * *", "cron: field 1 (minute): the step 0 is out of range 1-60 "
	    "(column 3)");
	check_error("0 */25 * * *", "cron: field 2 (hour): the step 25 is out of range 1-24 "
	    "(column 5)");
	check_error("*/ * * * *", "cron: field 1 (minute): expected a step (a number) after '/', "
	    "found the end of the field (column 3)");
	check_error("1-5/x * * * *", "cron: field 1 (minute): expected a step (a number) after "
	    "'/', found 'x' (column 5)");
	check_error("1,,2 * * * *", "cron: field 1 (minute): empty list item (column 3)");
	check_error("1, * * * *", "cron: field 1 (minute): empty list item (column 3)");
	check_error(",1 * * * *", "cron: field 1 (minute): empty list item (column 1)");
	check_error("1- * * * *", "cron: field 1 (minute): expected a number, found the end of "
	    "the field (column 3)");
	check_error("0 0 * jan- *", "cron: field 4 (month): expected a number or a month name "
	    "(jan-dec), found the end of the field (column 11)");
	check_error("-1 * * * *", "cron: field 1 (minute): expected a number, found '-' "
	    "(column 1)");
	check_error("*5 * * * *", "cron: field 1 (minute): unexpected '5' (column 2)");
	check_error("1-2-3 * * * *", "cron: field 1 (minute): unexpected '-' (column 4)");
	check_error("1/2/3 * * * *", "cron: field 1 (minute): unexpected '/' (column 4)");
	check_error("0 0 * * 1\xc3\xa9", "cron: field 5 (day-of-week): unexpected byte 0xc3 "
	    "(column 10)");
	check_error("@reboot", "cron: unknown macro '@reboot' (expected @hourly, @daily, "
	    "@midnight, @weekly, @monthly, @yearly or @annually)");
	check_error("@", "cron: unknown macro '@' (expected @hourly, @daily, @midnight, @weekly, "
	    "@monthly, @yearly or @annually)");
	check_error("@daily 0", "cron: @daily stands for all five fields: nothing may follow it "
	    "(column 8)");
	check_error("0 0 30 2 *", "cron: the schedule never fires: no date has its day of the "
	    "month in its months (such as 30 or 31 in February, or 31 in April)");
	check_error("0 0 31 4,6,9,11 *", "cron: the schedule never fires: no date has its day of "
	    "the month in its months (such as 30 or 31 in February, or 31 in April)");
}

static void
test_accepted(void **unused)
{
	const char *ok[] = {
		"0 0 29 2 *", "0 0 30 2 sun", "0 0 29 2 */7", "  0\t0  *  *  *  ", "@DAILY",
		"@hourly ", "0 0 * JAN-dec Sun-SAT", "0-59 0-23 1-31 1-12 0-7", "*/60 */24 */31 */12 */8",
		"0 0 1 * 7", "59 23 31 12 *", NULL,
	};
	char err[256];
	struct cron *c;
	size_t i;

	for (i = 0; ok[i] != NULL; i++) {
		if ((c = cron_parse(ok[i], err, sizeof(err))) == NULL)
			fail_msg("'%s': %s", ok[i], err);
		cron_free(c);
	}
	cron_free(NULL);
}

static void
test_tz_check(void **unused)
{
	char err[512];

	assert_int_equal(cron_tz_check("Europe/Berlin", err, sizeof(err)), 0);
	assert_int_equal(cron_tz_check("UTC", err, sizeof(err)), 0);
	assert_int_equal(cron_tz_check(NULL, err, sizeof(err)), 0);
	assert_int_equal(cron_tz_check("Europe/Berln", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'Europe/Berln' (" TZ_ZONEINFO
	    "/Europe/Berln: No such file or directory)");
	assert_int_equal(cron_tz_check("Europe", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'Europe' (" TZ_ZONEINFO
	    "/Europe is not a time zone file)");
	assert_int_equal(cron_tz_check("zone.tab", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'zone.tab' (" TZ_ZONEINFO
	    "/zone.tab: not a valid TZif file)");
	assert_int_equal(cron_tz_check("right/UTC", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'right/UTC' (" TZ_ZONEINFO
	    "/right/UTC: zones with leap seconds (right/...) are not supported)");
	assert_int_equal(cron_tz_check("../etc/passwd", err, sizeof(err)), -1);
	assert_string_equal(err, "'../etc/passwd' is not a time zone name (such as Europe/Berlin "
	    "or UTC)");
	assert_int_equal(cron_tz_check("/etc/localtime", err, sizeof(err)), -1);
	assert_int_equal(cron_tz_check("", err, sizeof(err)), -1);
	assert_int_equal(cron_tz_check("Europe/", err, sizeof(err)), -1);
}

/*
 * The C library's answer for TZ=tz (the test is single-threaded: setenv and tzset are
 * fine here, unlike in the daemon) against tz_span's, every 7 hours and 13 minutes
 * from `from` to 2110: past the end of the file's table, the footer's rule decides.
 */
static void
compare_with_libc(const char *tzenv, struct tz *z, int64_t from)
{
	int64_t t, start, end;
	struct tm tm;
	time_t tt;
	long off;

	setenv("TZ", tzenv, 1);
	tzset();
	for (t = from; t < 4417977600LL; t += 7 * 3600 + 13 * 60) {
		tt = (time_t)t;
		localtime_r(&tt, &tm);
		off = tz_span(z, t, &start, &end);
		if (off != tm.tm_gmtoff || start > t || end <= t)
			fail_msg("TZ=%s at %lld: offset %ld [%lld, %lld), the C library says %ld",
			    tzenv, (long long)t, off, (long long)start, (long long)end, tm.tm_gmtoff);
	}
}

static void
test_zones_match_libc(void **unused)
{
	const char *zones[] = {
		"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
		"Asia/Kolkata", "America/Sao_Paulo", "Pacific/Apia", "Africa/Casablanca",
		"Europe/Dublin", "America/St_Johns", "UTC", NULL,
	};
	const char *posix[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0", "AEST-10AEDT,M10.1.0,M4.1.0/3",
		"<+0545>-5:45", "<-03>3", "XXX3YYY,J60/2,J300/2", "XXX-2YYY-3,59/1:30,300/-1",
		"NZST-12NZDT,M9.5.0,M4.1.0/3", "IST-1GMT0,M10.5.0,M3.5.0/1",
		"<-02>2<-01>,M3.5.0/-1,M10.5.0/0", NULL,
	};
	char err[256], *saved = getenv("TZ") != NULL ? xstrdup(getenv("TZ")) : NULL;
	struct tz *z;
	size_t i;

	for (i = 0; zones[i] != NULL; i++) {
		if ((z = tz_load(zones[i], err, sizeof(err))) == NULL)
			fail_msg("%s: %s", zones[i], err);
		compare_with_libc(zones[i], z, -2208988800LL);	/* 1900 */
		tz_free(z);
	}
	for (i = 0; posix[i] != NULL; i++) {
		if ((z = tz_from_posix(posix[i], err, sizeof(err))) == NULL)
			fail_msg("%s: %s", posix[i], err);
		/* glibc applies TZ rules from 1970 on only */
		compare_with_libc(posix[i], z, 0);
		tz_free(z);
	}
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	assert_null(tz_from_posix("CET-1CEST", err, sizeof(err)));	/* DST without rules */
	assert_string_equal(err, "'CET-1CEST' is not a POSIX TZ string");
	assert_null(tz_from_posix("CE-1", err, sizeof(err)));
	assert_null(tz_from_posix("CET", err, sizeof(err)));
	assert_null(tz_from_posix("CET-25", err, sizeof(err)));
	assert_null(tz_from_posix("CET-1CEST,M13.1.0,M10.5.0", err, sizeof(err)));
	assert_null(tz_from_posix("CET-1CEST,M3.5.0,M10.5.0/168", err, sizeof(err)));
	assert_null(tz_from_posix("CET-1CEST,M3.5.0", err, sizeof(err)));
	tz_free(NULL);
}

static void
test_calendar(void **unused)
{
	int64_t d, y;
	int m, day;

	assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(tz_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(tz_days_from_civil(1969, 12, 31), -1);
	for (d = -800000; d < 800000; d += 97) {
		tz_civil_from_days(d, &y, &m, &day);
		assert_int_equal(tz_days_from_civil(y, m, day), d);
		assert_true(day >= 1 && day <= tz_days_in_month(y, m));
	}
	assert_int_equal(tz_weekday(0), 4);	/* a Thursday */
	assert_int_equal(tz_weekday(-1), 3);
	assert_int_equal(tz_weekday(tz_days_from_civil(2026, 3, 29)), 0);
	assert_int_equal(tz_days_in_month(2100, 2), 28);
	assert_int_equal(tz_days_in_month(2000, 2), 29);
	assert_int_equal(tz_days_in_month(2028, 2), 29);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_prev),
		cmocka_unit_test(test_dst_series),
		cmocka_unit_test(test_local_zone),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_tz_check),
		cmocka_unit_test(test_zones_match_libc),
		cmocka_unit_test(test_calendar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
