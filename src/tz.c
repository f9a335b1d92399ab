/* tz.c: time zones read from TZif files and POSIX TZ strings, for threads that cannot use TZ and tzset. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tz.h"
#include "util.h"

#define TZ_FILE_MAX (1u << 20)		/* bytes of a TZif file read at most (real ones: < 4 KiB) */
#define TZ_OFFSET_MAX (26 * 3600L)	/* UTC offsets beyond this are refused (real: -12h..+14h) */
#define TZ_RULE_TIME_MAX (167 * 3600L)	/* RFC 8536: a rule's time of day is within +-167h */
#define TZ_T_MAX ((int64_t)1 << 48)	/* tz_span follows zones this far: 8.9 million years */

/* A day of the year in a POSIX TZ rule: Jn, n or Mm.w.d, and the local time on it. */
struct tz_date {
	char kind;		/* 'J' (1..365, Feb 29 never counted), 'n' (0..365), 'M' */
	int n, m, w, d;
	long time;		/* seconds after local midnight; may be negative or past 24h */
};

/* A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"): the offsets and when DST starts and ends. */
struct tz_rule {
	long std_off;		/* seconds east of UTC */
	long dst_off;
	int has_dst;
	struct tz_date start, end;
};

struct tz {
	int64_t *trans;		/* transitions, strictly ascending */
	long *trans_off;	/* the offset from trans[i] on */
	size_t ntrans;
	long first_off;		/* before the first transition (time type 0) */
	int has_rule;		/* after the last transition the rule holds; else the last offset */
	struct tz_rule rule;
};

/* ---- civil dates (proleptic Gregorian; H. Hinnant's algorithms) ---- */

/* tz_days_from_civil: days from 1970-01-01 to y-m-d (m 1..12, d 1..31). */
int64_t
tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* tz_civil_from_days: the date days after 1970-01-01. */
void
tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* tz_days_in_month: 28 to 31. */
int
tz_days_in_month(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* tz_weekday: the day of the week of a day counted from 1970-01-01, 0 Sunday .. 6 Saturday. */
int
tz_weekday(int64_t days)
{
	int64_t w = (days + 4) % 7;	/* 1970-01-01 was a Thursday */

	return (int)(w < 0 ? w + 7 : w);
}

/* ---- POSIX TZ strings ---- */

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static int
parse_abbr(const char **sp)
{
	const char *s = *sp, *p;

	if (*s == '<') {
		for (p = s + 1; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'; p++)
			;
		if (*p != '>' || p - s - 1 < 3)
			return -1;
		*sp = p + 1;
		return 0;
	}
	for (p = s; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++)
		;
	if (p - s < 3)
		return -1;
	*sp = p;
	return 0;
}

/* [+-]h[h][:mm[:ss]] with hours at most maxh; seconds (signed) in *v. */
static int
parse_hms(const char **sp, long maxh, long *v)
{
	const char *s = *sp;
	long h = 0, m = 0, sec = 0, sign = 1;
	int digits;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (digits = 0; *s >= '0' && *s <= '9' && digits < 3; s++, digits++)
		h = h * 10 + (*s - '0');
	if (digits == 0 || h > maxh)
		return -1;
	if (*s == ':') {
		if (s[1] < '0' || s[1] > '5' || s[2] < '0' || s[2] > '9')
			return -1;
		m = (s[1] - '0') * 10 + (s[2] - '0');
		s += 3;
		if (*s == ':') {
			if (s[1] < '0' || s[1] > '5' || s[2] < '0' || s[2] > '9')
				return -1;
			sec = (s[1] - '0') * 10 + (s[2] - '0');
			s += 3;
		}
	}
	*v = sign * (h * 3600 + m * 60 + sec);
	*sp = s;
	return 0;
}

/* A bounded decimal number. */
static int
parse_num(const char **sp, int lo, int hi, int *v)
{
	const char *s = *sp;
	int n = 0, digits = 0;

	for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
		n = n * 10 + (*s - '0');
	if (digits == 0 || n < lo || n > hi)
		return -1;
	*v = n;
	*sp = s;
	return 0;
}

/* ",date[/time]" of a rule; the time defaults to 02:00. */
static int
parse_date(const char **sp, struct tz_date *dt)
{
	const char *s = *sp;

	memset(dt, 0, sizeof(*dt));
	if (*s++ != ',')
		return -1;
	if (*s == 'J') {
		s++;
		dt->kind = 'J';
		if (parse_num(&s, 1, 365, &dt->n) == -1)
			return -1;
	} else if (*s == 'M') {
		s++;
		dt->kind = 'M';
		if (parse_num(&s, 1, 12, &dt->m) == -1 || *s++ != '.' ||
		    parse_num(&s, 1, 5, &dt->w) == -1 || *s++ != '.' ||
		    parse_num(&s, 0, 6, &dt->d) == -1)
			return -1;
	} else {
		dt->kind = 'n';
		if (parse_num(&s, 0, 365, &dt->n) == -1)
			return -1;
	}
	dt->time = 7200;
	if (*s == '/') {
		s++;
		if (parse_hms(&s, TZ_RULE_TIME_MAX / 3600, &dt->time) == -1)
			return -1;
	}
	*sp = s;
	return 0;
}

/* Parse a POSIX TZ string (with RFC 8536's extensions) into r; 0 or -1. */
static int
parse_rule(const char *s, struct tz_rule *r)
{
	long off;

	memset(r, 0, sizeof(*r));
	if (parse_abbr(&s) == -1 || parse_hms(&s, 24, &off) == -1)
		return -1;
	r->std_off = -off;	/* POSIX counts west of Greenwich */
	if (*s == '\0')
		return 0;
	if (parse_abbr(&s) == -1)
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (parse_hms(&s, 24, &off) == -1)
			return -1;
		r->dst_off = -off;
	}
	/* no rules: what a C library takes then is its own choice; refuse it */
	if (parse_date(&s, &r->start) == -1 || parse_date(&s, &r->end) == -1 || *s != '\0')
		return -1;
	return 0;
}

/* The instant (UTC) when date dt of year y happens, dt->time being in local time at off. */
static int64_t
rule_instant(int64_t y, const struct tz_date *dt, long off)
{
	int64_t days;
	int first;

	if (dt->kind == 'J')
		days = tz_days_from_civil(y, 1, 1) + dt->n - 1 + (is_leap(y) && dt->n >= 60);
	else if (dt->kind == 'n')
		days = tz_days_from_civil(y, 1, 1) + dt->n;
	else {
		days = tz_days_from_civil(y, dt->m, 1);
		first = (dt->d - tz_weekday(days) + 7) % 7;	/* 0-based day of the first such */
		first += 7 * (dt->w - 1);
		while (first >= tz_days_in_month(y, dt->m))
			first -= 7;	/* w = 5: the last one */
		days += first;
	}
	return days * 86400 + dt->time - off;
}

/*
 * The offset the rule gives at t, and the span [*start, *end) of rule transitions around
 * it: from the transitions of the rule's years t's year -2 to +2 (a rule's time may move
 * its instant up to a week into another year, so the next one may be of year +2).
 */
static long
rule_span(const struct tz_rule *r, int64_t t, int64_t *start, int64_t *end)
{
	int64_t y, when[10], tmp;
	long off[10], o, tmpo;
	int m, d, i, j, n = 0;

	*start = INT64_MIN;
	*end = INT64_MAX;
	if (!r->has_dst)
		return r->std_off;
	tz_civil_from_days(t / 86400 - (t % 86400 < 0), &y, &m, &d);
	for (i = -2; i <= 2; i++) {
		when[n] = rule_instant(y + i, &r->start, r->std_off);
		off[n++] = r->dst_off;
		when[n] = rule_instant(y + i, &r->end, r->dst_off);
		off[n++] = r->std_off;
	}
	for (i = 1; i < n; i++)		/* insertion sort: a southern zone's DST spans the new year */
		for (j = i; j > 0 && when[j - 1] > when[j]; j--) {
			tmp = when[j];
			when[j] = when[j - 1];
			when[j - 1] = tmp;
			tmpo = off[j];
			off[j] = off[j - 1];
			off[j - 1] = tmpo;
		}
	/* before the first of them: the other offset than the one it sets */
	o = off[0] == r->dst_off ? r->std_off : r->dst_off;
	for (i = 0; i < n; i++) {
		if (when[i] > t) {
			*end = when[i];
			break;
		}
		o = off[i];
		*start = when[i];
	}
	return o;
}

/* ---- TZif files (RFC 8536) ---- */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_header {
	int version;		/* 0 for version 1, else '2', '3', '4' */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int
read_header(const unsigned char *p, size_t len, struct tzif_header *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '9'))
		return -1;
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return 0;
}

/* Bytes of the data block after a header with times of tsize bytes. */
static size_t
block_size(const struct tzif_header *h, size_t tsize)
{
	return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
	    (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/*
 * tz_from_tzif: a zone from the bytes of a TZif file (version 1 data, or the 64-bit data
 * and footer of versions 2 to 4). Zones with leap seconds ("right/") are refused: their
 * times are not Unix times. Returns a new zone (tz_free), or NULL with the reason in err.
 */
struct tz *
tz_from_tzif(const unsigned char *data, size_t len, char *err, size_t errlen)
{
	struct tzif_header h;
	const unsigned char *p = data, *types, *tt, *end = data + len;
	size_t tsize = 4, i, flen;
	struct tz *z = NULL;
	long off;
	char *footer = NULL;

	if (read_header(p, len, &h) == -1)
		goto bad;
	if (h.version != 0) {
		/* skip the version 1 block: the version 2+ header and data follow */
		if (block_size(&h, 4) > len - 44)
			goto bad;
		p += 44 + block_size(&h, 4);
		if (read_header(p, (size_t)(end - p), &h) == -1 || h.version == 0)
			goto bad;
		tsize = 8;
	}
	if (h.leapcnt != 0) {
		snprintf(err, errlen, "zones with leap seconds (right/...) are not supported");
		return NULL;
	}
	if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0 ||
	    (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
	    (h.isutcnt != 0 && h.isutcnt != h.typecnt) ||
	    block_size(&h, tsize) > (size_t)(end - p) - 44)
		goto bad;
	p += 44;
	types = p + (size_t)h.timecnt * tsize;
	tt = types + h.timecnt;
	z = xcalloc(1, sizeof(*z));
	z->ntrans = h.timecnt;
	z->trans = xcalloc(h.timecnt + 1, sizeof(*z->trans));
	z->trans_off = xcalloc(h.timecnt + 1, sizeof(*z->trans_off));
	for (i = 0; i < h.typecnt; i++) {
		off = (long)(int32_t)be32(tt + i * 6);
		if (off < -TZ_OFFSET_MAX || off > TZ_OFFSET_MAX || tt[i * 6 + 4] > 1 ||
		    tt[i * 6 + 5] >= h.charcnt)
			goto bad;
	}
	z->first_off = (long)(int32_t)be32(tt);
	for (i = 0; i < h.timecnt; i++) {
		z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int64_t)(int32_t)be32(p + i * 4);
		if ((i > 0 && z->trans[i] <= z->trans[i - 1]) || types[i] >= h.typecnt)
			goto bad;
		z->trans_off[i] = (long)(int32_t)be32(tt + (size_t)types[i] * 6);
	}
	if (h.version != 0) {
		/* the footer: "\nTZ string\n"; an empty one means the last offset holds on */
		p += block_size(&h, tsize);
		if (p >= end || *p != '\n')
			goto bad;
		for (flen = 0; p + 1 + flen < end && p[1 + flen] != '\n'; flen++)
			if (p[1 + flen] == '\0')
				goto bad;
		if (p + 1 + flen >= end)
			goto bad;
		if (flen > 0) {
			footer = xstrndup((const char *)p + 1, flen);
			if (parse_rule(footer, &z->rule) == -1) {
				snprintf(err, errlen, "the TZ string '%s' at the end of the file is "
				    "not valid", footer);
				free(footer);
				tz_free(z);
				return NULL;
			}
			z->has_rule = 1;
			free(footer);
		}
	}
	return z;
bad:
	snprintf(err, errlen, "not a valid TZif file");
	tz_free(z);
	return NULL;
}

/*
 * tz_from_posix: a zone from a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" or
 * "<+0330>-3:30" (RFC 8536's extensions allowed; a DST name without rules is refused).
 * Returns a new zone, or NULL with the reason in err.
 */
struct tz *
tz_from_posix(const char *s, char *err, size_t errlen)
{
	struct tz *z = xcalloc(1, sizeof(*z));

	if (parse_rule(s, &z->rule) == -1) {
		snprintf(err, errlen, "'%s' is not a POSIX TZ string", s);
		free(z);
		return NULL;
	}
	z->has_rule = 1;
	z->first_off = z->rule.std_off;
	return z;
}

/* A tz database name: relative, no "..", of the characters zone names use. */
static int
valid_name(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == '/' || strlen(s) > 255)
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '+' ||
		    *p == '.'))
			return 0;
	return strstr(s, "..") == NULL && strstr(s, "//") == NULL && p[-1] != '/';
}

/* The zone in file path; NULL with the reason in err ("path: No such file or directory"). */
static struct tz *
load_file(const char *path, char *err, size_t errlen)
{
	unsigned char *data = NULL;
	struct tz *z = NULL;
	struct stat sb;
	size_t got = 0;
	ssize_t n;
	char why[200];
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) || sb.st_size > TZ_FILE_MAX) {
		snprintf(err, errlen, "%s is not a time zone file", path);
		goto out;
	}
	data = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		n = read(fd, data + got, (size_t)sb.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path, n == 0 ? "short read" : strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	if ((z = tz_from_tzif(data, got, why, sizeof(why))) == NULL)
		snprintf(err, errlen, "%s: %s", path, why);
out:
	free(data);
	close(fd);
	return z;
}

/* UTC: no transitions, no rule, offset 0. */
static struct tz *
utc(void)
{
	return xcalloc(1, sizeof(struct tz));
}

/*
 * The process's local zone as the C library would take it, without touching its state:
 * TZ unset is /etc/localtime; "" is UTC; ":NAME" or "NAME" a file (absolute, or under
 * TZ_ZONEINFO); else a POSIX TZ string. What cannot be read is UTC, as in glibc.
 */
static struct tz *
load_local(void)
{
	const char *tzenv = getenv("TZ");	/* nothing in reeve calls setenv */
	char path[512], err[300];
	struct tz *z;

	if (tzenv == NULL)
		return (z = load_file("/etc/localtime", err, sizeof(err))) != NULL ? z : utc();
	if (*tzenv == ':')
		tzenv++;
	if (*tzenv == '\0')
		return utc();
	if (*tzenv == '/')
		return (z = load_file(tzenv, err, sizeof(err))) != NULL ? z : utc();
	if (valid_name(tzenv)) {
		snprintf(path, sizeof(path), "%s/%s", TZ_ZONEINFO, tzenv);
		if ((z = load_file(path, err, sizeof(err))) != NULL)
			return z;
	}
	return (z = tz_from_posix(tzenv, err, sizeof(err))) != NULL ? z : utc();
}

/*
 * tz_load: the zone name of the tz database ("Europe/Berlin", "UTC"), read from
 * TZ_ZONEINFO/name; NULL is the process's local zone (TZ, else /etc/localtime; UTC when
 * that cannot be read, as the C library does). Returns a new zone (tz_free), or NULL with
 * the reason in err: "unknown time zone 'Europe/Berln' (/usr/share/zoneinfo/Europe/Berln:
 * No such file or directory)".
 */
struct tz *
tz_load(const char *name, char *err, size_t errlen)
{
	char path[512], why[600];
	struct tz *z;

	if (name == NULL)
		return load_local();
	if (!valid_name(name)) {
		snprintf(err, errlen, "'%s' is not a time zone name (such as Europe/Berlin or UTC)",
		    name);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", TZ_ZONEINFO, name);
	if ((z = load_file(path, why, sizeof(why))) == NULL)
		snprintf(err, errlen, "unknown time zone '%s' (%s)", name, why);
	return z;
}

/* tz_free: release a zone; NULL is a no-op. */
void
tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->trans);
	free(z->trans_off);
	free(z);
}

/* tz_span's answer for t within +-TZ_T_MAX, the spans not clipped to that. */
static long
span(const struct tz *z, int64_t t, int64_t *start, int64_t *end)
{
	size_t lo, hi, mid;
	int64_t rs, re;
	long off;

	*start = INT64_MIN;
	*end = INT64_MAX;
	if (z->ntrans > 0 && t < z->trans[0]) {
		*end = z->trans[0];
		return z->first_off;
	}
	if (z->ntrans > 0 && (t < z->trans[z->ntrans - 1] || !z->has_rule)) {
		lo = 0;
		hi = z->ntrans;	/* the last transition <= t is in [lo, hi) */
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (z->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		*start = z->trans[lo];
		if (lo + 1 < z->ntrans)
			*end = z->trans[lo + 1];
		return z->trans_off[lo];
	}
	if (!z->has_rule)
		return z->first_off;	/* no transitions, no rule */
	off = rule_span(&z->rule, t, &rs, &re);
	*start = rs;
	*end = re;
	if (z->ntrans > 0 && *start < z->trans[z->ntrans - 1])
		*start = z->trans[z->ntrans - 1];
	return off;
}

/*
 * tz_span: the UTC offset (seconds east) in effect at instant t, and the span of time
 * [*start, *end) around t during which it holds. Spans may border on spans of the same
 * offset (a change of name or of DST flag only). Zones are followed within +-2^48 seconds
 * (8.9 million years); beyond, each side is one span [INT64_MIN, -2^48) and
 * (2^48, INT64_MAX) with the offset at the limit.
 */
long
tz_span(const struct tz *z, int64_t t, int64_t *start, int64_t *end)
{
	long off;

	if (t > TZ_T_MAX) {
		off = span(z, TZ_T_MAX, start, end);
		*start = TZ_T_MAX + 1;
		*end = INT64_MAX;
		return off;
	}
	if (t < -TZ_T_MAX) {
		off = span(z, -TZ_T_MAX, start, end);
		*start = INT64_MIN;
		*end = -TZ_T_MAX;
		return off;
	}
	off = span(z, t, start, end);
	if (*start < -TZ_T_MAX)
		*start = -TZ_T_MAX;
	if (*end > TZ_T_MAX)
		*end = TZ_T_MAX + 1;
	return off;
}
