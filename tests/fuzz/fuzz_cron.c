/* fuzz_cron.c: fuzz target for cron expressions (parse, next/prev properties) and time zones (TZif files, POSIX TZ strings). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "fuzz.h"
#include "tz.h"
#include "util.h"

/*
 * Input: a TZif file ("TZif..."), a POSIX TZ string ("TZ=..."), or a cron expression. A
 * zone is queried for its spans; an expression that parses is run in UTC, Berlin and New
 * York (when their files exist) from instants around 2026's DST changes, and the results
 * must hang together: next > t >= prev, both are firings, nothing fires between them.
 */

static const int64_t instants[] = {
	1774745999,	/* 2026-03-29T00:59:59Z: Europe's spring change */
	1774746000,
	1792890000,	/* 2026-10-25T01:00:00Z: Europe's autumn change */
	1792893600,
	1772953200,	/* 2026-03-08T07:00:00Z: New York's spring change */
	1793512800,	/* 2026-11-01T06:00:00Z: New York's autumn change */
	1795000020,
	4102444800,	/* 2100-01-01: past the zone files' tables */
	-2208988800,	/* 1900-01-01 */
};
#define NINSTANTS (sizeof(instants) / sizeof(instants[0]))

/* The spans around t hang together: t inside, the offset bounded, the same at both ends. */
static void
check_spans(const struct tz *z, int64_t t)
{
	int64_t start, end, s2, e2;
	long off = tz_span(z, t, &start, &end);

	FUZZ_CHECK(start <= t && t < end);
	FUZZ_CHECK(off >= -26 * 3600L && off <= 26 * 3600L);
	if (start != INT64_MIN)
		FUZZ_CHECK(tz_span(z, start, &s2, &e2) == off && s2 == start && e2 == end);
	if (end != INT64_MAX && end - 1 != t)
		FUZZ_CHECK(tz_span(z, end - 1, &s2, &e2) == off);
}

/* Exercise a zone that came from the input: spans everywhere, a schedule in it. */
static void
run_zone(struct tz *z)
{
	static const char *const exprs[] = { "*/7 * * * *", "30 2 * * *" };
	struct cron *c;
	char err[256];
	time_t t;
	size_t i, j;

	for (i = 0; i < NINSTANTS; i++) {
		check_spans(z, instants[i]);
		check_spans(z, instants[i] * 3);
	}
	check_spans(z, INT64_MIN);
	check_spans(z, INT64_MAX - 1);
	for (j = 0; j < 2; j++) {
		c = cron_parse(exprs[j], err, sizeof(err));
		FUZZ_CHECK(c != NULL);
		/* offsets from the input may change every second: results need only exist */
		for (i = 0; i < NINSTANTS; i++) {
			(void)cron_next_in(c, z, (time_t)instants[i], &t);
			(void)cron_prev_in(c, z, (time_t)instants[i], &t);
		}
		cron_free(c);
	}
}

static const struct tz *
zone(const char *name)
{
	static struct tz *zones[3];
	static int loaded[3];
	static const char *const names[] = { "UTC", "Europe/Berlin", "America/New_York" };
	char err[300];
	size_t i;

	for (i = 0; i < 3; i++)
		if (strcmp(names[i], name) == 0)
			break;
	FUZZ_CHECK(i < 3);
	if (!loaded[i]) {
		zones[i] = tz_load(name, err, sizeof(err));	/* kept for the process */
		loaded[i] = 1;
	}
	return zones[i];
}

/* next and prev of c in z around t are consistent firings. */
static void
check_schedule(const struct cron *c, const struct tz *z, time_t t)
{
	time_t next, prev, x;

	FUZZ_CHECK(cron_next_in(c, z, t, &next) == 0);
	FUZZ_CHECK(cron_prev_in(c, z, t, &prev) == 0);
	FUZZ_CHECK(prev <= t && t < next);
	FUZZ_CHECK(cron_next_in(c, z, prev - 1, &x) == 0 && x == prev);
	FUZZ_CHECK(cron_next_in(c, z, prev, &x) == 0 && x == next);
	FUZZ_CHECK(cron_prev_in(c, z, next, &x) == 0 && x == next);
	FUZZ_CHECK(cron_prev_in(c, z, next - 1, &x) == 0 && x == prev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "UTC", "Europe/Berlin", "America/New_York" };
	const struct tz *fixed;
	struct tz *z;
	struct cron *c;
	char err[256], *text;
	size_t i, j;

	if (size >= 4 && memcmp(data, "TZif", 4) == 0) {
		if ((z = tz_from_tzif(data, size, err, sizeof(err))) != NULL) {
			run_zone(z);
			tz_free(z);
		} else
			FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	text = xstrndup((const char *)data, size);
	if (strncmp(text, "TZ=", 3) == 0) {
		if ((z = tz_from_posix(text + 3, err, sizeof(err))) != NULL) {
			run_zone(z);
			tz_free(z);
		} else
			FUZZ_CHECK(strncmp(err, "'", 1) == 0);
		free(text);
		return 0;
	}
	if ((c = cron_parse(text, err, sizeof(err))) == NULL) {
		FUZZ_CHECK(strncmp(err, "cron: ", 6) == 0);
		free(text);
		return 0;
	}
	for (i = 0; i < 3; i++) {
		if ((fixed = zone(names[i])) == NULL)
			continue;	/* no tz database here */
		for (j = 0; j < NINSTANTS; j++)
			check_schedule(c, fixed, (time_t)instants[j]);
	}
	cron_free(c);
	free(text);
	return 0;
}
