/* cron.c: 5-field cron expressions (Vixie cron's syntax) and their times in a time zone, DST included. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cron.h"
#include "tz.h"
#include "util.h"

#define CRON_SCAN_YEARS 401		/* a Gregorian cycle: what never matches in it, never does */
#define CRON_LOOK (2 * 86400L)		/* more than any UTC offset and any jump of one */
#define CRON_SPANS_MAX 64		/* offset spans looked at within CRON_LOOK, at most */
#define CRON_T_MIN (-62135596800LL)	/* 0001-01-01T00:00:00Z */
#define CRON_T_MAX 253402300799LL	/* 9999-12-31T23:59:59Z */

/*
 * The times of a schedule as bit sets: minute bits 0-59, hour 0-23, dom 1-31, mon 1-12,
 * dow 0-6 (7 folded into 0). dom_star and dow_star say the field began with '*' (Vixie
 * cron's rule: then a day must match both fields, else either).
 */
struct cron {
	uint64_t min;
	uint32_t hour, dom, mon, dow;
	int dom_star, dow_star;
};

struct field {
	const char *name;
	int lo, hi;
	const char *const *names;	/* 3-letter names of lo, lo+1, ... or NULL */
	const char *names_hint;
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, NULL },
	{ "hour", 0, 23, NULL, NULL },
	{ "day-of-month", 1, 31, NULL, NULL },
	{ "month", 1, 12, month_names, " or a month name (jan-dec)" },
	{ "day-of-week", 0, 7, day_names, " or a day name (sun-sat)" },
};

static const struct {
	const char *name, *fields;
} macros[] = {
	{ "@hourly", "0 * * * *" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@monthly", "0 0 1 * *" },
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
};

/* ---- parsing ---- */

/* "cron: field N (NAME): MESSAGE (column C)" into err; returns -1. */
static int __attribute__((format(printf, 5, 6)))
field_error(char *err, size_t errlen, int fi, size_t col, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "cron: field %d (%s): %s (column %zu)", fi + 1, fields[fi].name, msg,
	    col + 1);
	return -1;
}

static int
is_alnum(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Describe the character at s[i] (end: the field's end) for "found ..." messages. */
static const char *
found(const char *s, size_t i, size_t end, char *buf, size_t buflen)
{
	if (i >= end)
		snprintf(buf, buflen, "the end of the field");
	else if ((unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f)
		snprintf(buf, buflen, "'%c'", s[i]);
	else
		snprintf(buf, buflen, "byte 0x%02x", (unsigned char)s[i]);
	return buf;
}

/* A number or (month, day of week) a name at s[*i]; its value in *v. */
static int
parse_value(const char *s, size_t *i, size_t end, int fi, int *v, char *err, size_t errlen)
{
	const struct field *f = &fields[fi];
	size_t start = *i, len, k;
	char what[32];
	long n = 0;

	while (*i < end && is_alnum(s[*i]))
		(*i)++;
	len = *i - start;
	if (len == 0)
		return field_error(err, errlen, fi, start, "expected a number%s, found %s",
		    f->names != NULL ? f->names_hint : "", found(s, start, end, what, sizeof(what)));
	for (k = 0; k < len && s[start + k] >= '0' && s[start + k] <= '9'; k++)
		if (n < 100000)
			n = n * 10 + (s[start + k] - '0');
	if (k == len) {
		if (n < f->lo || n > f->hi)
			return field_error(err, errlen, fi, start, "%.*s is out of range %d-%d",
			    (int)len, s + start, f->lo, f->hi);
		*v = (int)n;
		return 0;
	}
	if (f->names != NULL && len == 3)
		for (k = 0; f->names[k] != NULL; k++)
			if (strncasecmp(s + start, f->names[k], 3) == 0) {
				*v = f->lo + (int)k;
				return 0;
			}
	return field_error(err, errlen, fi, start, "'%.*s' is not a number%s", (int)len > 40 ? 40 :
	    (int)len, s + start, f->names != NULL ? f->names_hint : "");
}

/*
 * Field fi of the schedule: s[start, end). Items separated by commas: '*', a value, a
 * range a-b, each with an optional /step; a/step runs from a to the end of the range.
 */
static int
parse_field(const char *s, size_t start, size_t end, int fi, uint64_t *bits, int *star,
    char *err, size_t errlen)
{
	const struct field *f = &fields[fi];
	size_t i = start, item, at;
	int a, b, step, v;
	long n;
	char what[32];

	*bits = 0;
	*star = s[start] == '*';
	for (;;) {
		item = i;
		if (i >= end || s[i] == ',')
			return field_error(err, errlen, fi, i, "empty list item");
		if (s[i] == '*') {
			a = f->lo;
			b = f->hi;
			i++;
		} else {
			if (parse_value(s, &i, end, fi, &a, err, errlen) == -1)
				return -1;
			b = a;
			if (i < end && s[i] == '-') {
				i++;
				if (parse_value(s, &i, end, fi, &b, err, errlen) == -1)
					return -1;
				if (b < a)
					return field_error(err, errlen, fi, item, "the range %.*s runs "
					    "backwards (write the smaller value first)", (int)(i - item),
					    s + item);
			} else if (i < end && s[i] == '/')
				b = f->hi;
		}
		step = 1;
		if (i < end && s[i] == '/') {
			at = ++i;
			for (n = 0; i < end && s[i] >= '0' && s[i] <= '9'; i++)
				if (n < 100000)
					n = n * 10 + (s[i] - '0');
			if (i == at || (i < end && is_alnum(s[i])))
				return field_error(err, errlen, fi, at, "expected a step (a number) "
				    "after '/', found %s", found(s, at, end, what, sizeof(what)));
			if (n < 1 || n > f->hi - f->lo + 1)
				return field_error(err, errlen, fi, at, "the step %.*s is out of range "
				    "1-%d", (int)(i - at), s + at, f->hi - f->lo + 1);
			step = (int)n;
		}
		for (v = a; v <= b; v += step)
			*bits |= (uint64_t)1 << (fi == 4 && v == 7 ? 0 : v);
		if (i == end)
			return 0;
		if (s[i] != ',')
			return field_error(err, errlen, fi, i, "unexpected %s",
			    found(s, i, end, what, sizeof(what)));
		i++;
	}
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int scan_forward(const struct cron *c, int64_t w, int64_t *out);

/* Parse the five fields of s into c; 0 or -1 with err. */
static int
parse_fields(const char *s, struct cron *c, char *err, size_t errlen)
{
	size_t start[6], end[6], n = 0, i = 0, len = strlen(s);
	uint64_t bits[5];
	int star[5], fi;

	while (i < len) {
		while (i < len && is_blank(s[i]))
			i++;
		if (i == len)
			break;
		if (n < 6)
			start[n] = i;
		while (i < len && !is_blank(s[i]))
			i++;
		if (n < 6)
			end[n] = i;
		n++;
	}
	if (n != 5) {
		snprintf(err, errlen, "cron: expected 5 fields (minute hour day-of-month month "
		    "day-of-week), found %zu%s", n, n > 5 ? " (seconds and years are not supported)" :
		    "");
		return -1;
	}
	for (fi = 0; fi < 5; fi++)
		if (parse_field(s, start[fi], end[fi], fi, &bits[fi], &star[fi], err, errlen) == -1)
			return -1;
	c->min = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->mon = (uint32_t)bits[3];
	c->dow = (uint32_t)bits[4];
	c->dom_star = star[2];
	c->dow_star = star[4];
	return 0;
}

/*
 * cron_parse: a schedule in Vixie cron's syntax: five fields separated by blanks, minute
 * (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), day of week (0-7, 0
 * and 7 Sunday, or sun-sat); each a comma-separated list of '*', values and ranges a-b,
 * each with an optional step /n (every n-th; a/n runs from a to the end of the field's
 * range); names are case-insensitive. When
 * neither day field begins with '*', a day matching either counts; else it must match
 * both. Or one of the macros @hourly, @daily, @midnight, @weekly, @monthly, @yearly,
 * @annually. A schedule that matches no date at all (0 0 30 2 *) is refused. Returns a new
 * schedule (cron_free), or NULL with the message in err: "cron: field 2 (hour): 24 is out
 * of range 0-23 (column 3)".
 */
struct cron *
cron_parse(const char *text, char *err, size_t errlen)
{
	struct cron *c = xcalloc(1, sizeof(*c));
	const char *s = text, *e;
	size_t i, len;
	int64_t w;

	while (is_blank(*s))
		s++;
	if (*s == '\0') {
		snprintf(err, errlen, "cron: the schedule is empty (expected 5 fields such as "
		    "'0 2 * * *', or a macro such as @daily)");
		goto fail;
	}
	if (*s == '@') {
		for (e = s; *e != '\0' && !is_blank(*e); e++)
			;
		len = (size_t)(e - s);
		while (is_blank(*e))
			e++;
		for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strlen(macros[i].name) == len && strncasecmp(s, macros[i].name, len) == 0)
				break;
		if (i == sizeof(macros) / sizeof(macros[0])) {
			snprintf(err, errlen, "cron: unknown macro '%.*s' (expected @hourly, @daily, "
			    "@midnight, @weekly, @monthly, @yearly or @annually)",
			    len > 40 ? 40 : (int)len, s);
			goto fail;
		}
		if (*e != '\0') {
			snprintf(err, errlen, "cron: %s stands for all five fields: nothing may "
			    "follow it (column %zu)", macros[i].name, (size_t)(e - text) + 1);
			goto fail;
		}
		if (parse_fields(macros[i].fields, c, err, errlen) == -1)
			goto fail;
		return c;
	}
	if (parse_fields(text, c, err, errlen) == -1)
		goto fail;
	/* a Gregorian cycle from 2000-01-01 holds every date there is */
	if (scan_forward(c, tz_days_from_civil(2000, 1, 1) * 86400, &w) == -1) {
		snprintf(err, errlen, "cron: the schedule never fires: no date has its day of the "
		    "month in its months (such as 30 or 31 in February, or 31 in April)");
		goto fail;
	}
	return c;
fail:
	free(c);
	return NULL;
}

/* cron_free: release a schedule; NULL is a no-op. */
void
cron_free(struct cron *c)
{
	free(c);
}

/* ---- the calendar, in local (civil) time without a zone ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int
day_matches(const struct cron *c, int64_t y, int m, int d)
{
	int dom = (int)(c->dom >> d & 1);
	int dow = (int)(c->dow >> tz_weekday(tz_days_from_civil(y, m, d)) & 1);

	return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

static void
next_day(int64_t *y, int *m, int *d)
{
	if (++*d > tz_days_in_month(*y, *m)) {
		*d = 1;
		if (++*m > 12) {
			*m = 1;
			++*y;
		}
	}
}

static void
prev_day(int64_t *y, int *m, int *d)
{
	if (--*d < 1) {
		if (--*m < 1) {
			*m = 12;
			--*y;
		}
		*d = tz_days_in_month(*y, *m);
	}
}

/* Split civil seconds w (a whole minute) into a date and a time. */
static void
split_civil(int64_t w, int64_t *y, int *m, int *d, int *hh, int *mm)
{
	int64_t days = floor_div(w, 86400);
	int sod = (int)(w - days * 86400);

	tz_civil_from_days(days, y, m, d);
	*hh = sod / 3600;
	*mm = sod / 60 % 60;
}

/* The first minute at or after civil time w that matches c; -1 when none within the scan. */
static int
scan_forward(const struct cron *c, int64_t w, int64_t *out)
{
	int64_t y, ylimit;
	int m, d, hh, mm;

	split_civil(w, &y, &m, &d, &hh, &mm);
	ylimit = y + CRON_SCAN_YEARS;
	while (y <= ylimit) {
		if (!(c->mon >> m & 1)) {
			if (++m > 12) {
				m = 1;
				y++;
			}
			d = 1;
			hh = mm = 0;
		} else if (!day_matches(c, y, m, d)) {
			next_day(&y, &m, &d);
			hh = mm = 0;
		} else if (!(c->hour >> hh & 1)) {
			if (++hh > 23) {
				next_day(&y, &m, &d);
				hh = 0;
			}
			mm = 0;
		} else if (!(c->min >> mm & 1)) {
			if (++mm > 59) {
				mm = 0;
				if (++hh > 23) {
					next_day(&y, &m, &d);
					hh = 0;
				}
			}
		} else {
			*out = tz_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
			return 0;
		}
	}
	return -1;
}

/* The last minute at or before civil time w that matches c; -1 when none within the scan. */
static int
scan_backward(const struct cron *c, int64_t w, int64_t *out)
{
	int64_t y, ylimit;
	int m, d, hh, mm;

	split_civil(w, &y, &m, &d, &hh, &mm);
	ylimit = y - CRON_SCAN_YEARS;
	while (y >= ylimit) {
		if (!(c->mon >> m & 1)) {
			if (--m < 1) {
				m = 12;
				y--;
			}
			d = tz_days_in_month(y, m);
			hh = 23;
			mm = 59;
		} else if (!day_matches(c, y, m, d)) {
			prev_day(&y, &m, &d);
			hh = 23;
			mm = 59;
		} else if (!(c->hour >> hh & 1)) {
			if (--hh < 0) {
				prev_day(&y, &m, &d);
				hh = 23;
			}
			mm = 59;
		} else if (!(c->min >> mm & 1)) {
			if (--mm < 0) {
				mm = 59;
				if (--hh < 0) {
					prev_day(&y, &m, &d);
					hh = 23;
				}
			}
		} else {
			*out = tz_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
			return 0;
		}
	}
	return -1;
}

/* ---- local time and instants ---- */

/*
 * The latest local (civil) time the clock of z showed at or before instant t: the local
 * time of t, or more when t is in the repeated hour after the clock was set back.
 */
static int
local_max(const struct tz *z, int64_t t, int64_t *m)
{
	int64_t start, end, s;
	long off = tz_span(z, t, &start, &end);
	int i;

	*m = t + off;
	for (i = 0, s = start; s != INT64_MIN && s > t - CRON_LOOK; i++, s = start) {
		if (i == CRON_SPANS_MAX)
			return -1;
		off = tz_span(z, s - 1, &start, &end);
		if (s - 1 + off > *m)
			*m = s - 1 + off;
	}
	return 0;
}

/*
 * The first instant at which the clock of z shows local (civil) time w or later: when w
 * exists, its first occurrence; when the clock jumped over it, the instant of the jump.
 */
static int
first_at(const struct tz *z, int64_t w, int64_t *t)
{
	int64_t s = w - CRON_LOOK, start, end, cand;
	long off;
	int i;

	for (i = 0; i < CRON_SPANS_MAX; i++) {
		off = tz_span(z, s, &start, &end);
		cand = w - off > s ? w - off : s;
		if (cand < end) {
			*t = cand;
			return 0;
		}
		s = end;
	}
	return -1;
}

/*
 * cron_next_in: the first time strictly after `after` at which schedule c fires in zone z.
 * c fires once for each local date and time it matches, at the first instant the clock
 * shows that time or a later one: a time that occurs twice (the clock set back) fires at
 * its first occurrence only; a time the clock skips (set forward) fires at the instant of
 * the jump, several of them once together (docs/cron.md). Returns 0, or -1 when `after`
 * is outside the years 1 to 9999 or the zone is unusable.
 */
int
cron_next_in(const struct cron *c, const struct tz *z, time_t after, time_t *next)
{
	int64_t m, w, t;

	if ((int64_t)after < CRON_T_MIN || (int64_t)after > CRON_T_MAX ||
	    local_max(z, (int64_t)after, &m) == -1 ||
	    scan_forward(c, (floor_div(m, 60) + 1) * 60, &w) == -1 || first_at(z, w, &t) == -1)
		return -1;
	*next = (time_t)t;
	return 0;
}

/*
 * cron_prev_in: the last time at or before `at` at which c fires in z (the same rules as
 * cron_next_in), e.g. to tell whether `at` is within a window that opened at most its
 * duration ago. Returns 0, or -1 as cron_next_in.
 */
int
cron_prev_in(const struct cron *c, const struct tz *z, time_t at, time_t *prev)
{
	int64_t m, w, t;

	if ((int64_t)at < CRON_T_MIN || (int64_t)at > CRON_T_MAX ||
	    local_max(z, (int64_t)at, &m) == -1 ||
	    scan_backward(c, floor_div(m, 60) * 60, &w) == -1 || first_at(z, w, &t) == -1)
		return -1;
	*prev = (time_t)t;
	return 0;
}

/*
 * cron_local: the local (civil) time the clock of z shows at instant t, as seconds since
 * 1970-01-01 00:00 local (tz_civil_from_days splits it). cron_instant: the first instant at
 * which the clock shows local time w or later (w itself when it exists, the instant of the
 * jump when the clock skipped it). Return 0, or -1 when the zone is unusable there.
 */
int
cron_local(const struct tz *z, time_t t, int64_t *w)
{
	int64_t start, end;

	*w = (int64_t)t + tz_span(z, (int64_t)t, &start, &end);
	return 0;
}

int
cron_instant(const struct tz *z, int64_t w, time_t *t)
{
	int64_t r;

	if (first_at(z, w, &r) == -1)
		return -1;
	*t = (time_t)r;
	return 0;
}

/*
 * cron_next: cron_next_in in the zone named tz ("Europe/Berlin"; NULL: the local zone),
 * read for the call (tz_load: a small file; thread-safe, no TZ or tzset). Returns 0, or
 * -1 when the zone cannot be read (cron_tz_check says why) or as cron_next_in.
 */
int
cron_next(const struct cron *c, const char *tz, time_t after, time_t *next)
{
	struct tz *z;
	char err[300];
	int rc;

	if ((z = tz_load(tz, err, sizeof(err))) == NULL)
		return -1;
	rc = cron_next_in(c, z, after, next);
	tz_free(z);
	return rc;
}

/* cron_prev: cron_prev_in in the zone named tz, as cron_next. */
int
cron_prev(const struct cron *c, const char *tz, time_t at, time_t *prev)
{
	struct tz *z;
	char err[300];
	int rc;

	if ((z = tz_load(tz, err, sizeof(err))) == NULL)
		return -1;
	rc = cron_prev_in(c, z, at, prev);
	tz_free(z);
	return rc;
}

/*
 * cron_tz_check: can the zone named tz be used (NULL, the local zone, always can)? Returns
 * 0, or -1 with the reason in err: "unknown time zone 'Europe/Berln' (/usr/share/zoneinfo/
 * Europe/Berln: No such file or directory)".
 */
int
cron_tz_check(const char *tz, char *err, size_t errlen)
{
	struct tz *z;

	if ((z = tz_load(tz, err, errlen)) == NULL)
		return -1;
	tz_free(z);
	return 0;
}
