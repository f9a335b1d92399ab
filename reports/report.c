/* report.c: a report's period, its sections computed from the data, and its files. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>

#include "alertlog.h"
#include "config.h"
#include "cron.h"
#include "expr.h"
#include "graph.h"
#include "query.h"
#include "report.h"
#include "store.h"
#include "tz.h"

/* ---- definitions ------------------------------------------------------------------------ */

int
report_period_parse(const char *text, struct report_period *p, char *err, size_t errlen)
{
	static const struct { const char *name; enum report_period_kind kind; } cal[] = {
		{ "previous day", REPORT_PERIOD_PREV_DAY },
		{ "previous week", REPORT_PERIOD_PREV_WEEK },
		{ "previous month", REPORT_PERIOD_PREV_MONTH },
	};
	const char *errstr;
	char *end;

	for (size_t i = 0; i < sizeof(cal) / sizeof(cal[0]); i++)
		if (strcmp(text, cal[i].name) == 0) {
			p->kind = cal[i].kind;
			p->n = 1;
			return 0;
		}
	if (isdigit((unsigned char)text[0]) && text[strlen(text) - 1] == 'M') {
		long n = strtol(text, &end, 10);

		if (*end == 'M' && end[1] == '\0' && n >= 1 && n <= 120) {
			p->kind = REPORT_PERIOD_MONTHS;
			p->n = (double)n;
			return 0;
		}
	} else if (cfg_parse_duration(text, &p->n, &errstr) == 0 && p->n >= 60 &&
	    p->n <= 3660 * 86400.0) {
		p->kind = REPORT_PERIOD_SECONDS;
		return 0;
	}
	snprintf(err, errlen, "\"%s\" is not a period (use a duration of a minute to 10 years "
	    "such as 1d or 7d, months such as 1M, or previous day, previous week, previous month)",
	    text);
	return -1;
}

/* A number with an optional unit suffix: 80, 99.5%, 2GiB, 150ms, 1.5k. */
static int
parse_quantity(const char *s, double *v)
{
	static const struct { const char *suffix; double factor; } units[] = {
		{ "%", 0.01 }, { "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
		{ "TiB", 1099511627776.0 }, { "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 },
		{ "ms", 1e-3 }, { "us", 1e-6 }, { "s", 1 }, { "min", 60 }, { "h", 3600 }, { "", 1 },
	};
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!(isdigit((unsigned char)*s) || ((*s == '-' || *s == '.') && s[1] != '\0')))
		return -1;
	*v = strtod(s, &end);
	if (end == s || !isfinite(*v))
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].suffix) == 0) {
			*v *= units[i].factor;
			return 0;
		}
	return -1;
}

int
report_threshold_parse(const char *text, struct report_threshold *t, char *err, size_t errlen)
{
	const char *s = text;

	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '>' || s[0] == '<') {
		t->op = s[1] == '=' ? (s[0] == '>' ? 'g' : 'l') : s[0];
		if (parse_quantity(s + 1 + (s[1] == '='), &t->v) == 0)
			return 0;
	}
	snprintf(err, errlen, "\"%s\" is not a threshold (a comparison and a number: > 80, "
	    "<= 99.5%%, >= 2GiB, > 250ms)", text);
	return -1;
}

int
report_objective_parse(const char *text, double *v, char *err, size_t errlen)
{
	if (parse_quantity(text, v) == 0 && *v > 0 && *v <= 1 &&
	    (strchr(text, '%') != NULL || *v < 1 || strcmp(text, "1") == 0))
		return 0;
	snprintf(err, errlen, "\"%s\" is not an objective (a share of the time up: 99.9%% or "
	    "0.999)", text);
	return -1;
}

static void
section_free(struct report_section *s)
{
	for (size_t i = 0; i < s->nkpis; i++) {
		free(s->kpis[i].name);
		free(s->kpis[i].unit);
	}
	free(s->kpis);
	for (size_t i = 0; i < s->navail; i++) {
		free(s->avail[i].section);
		free(s->avail[i].target);
	}
	free(s->avail);
	for (size_t i = 0; i < s->nwindows; i++) {
		free(s->windows[i].name);
		free(s->windows[i].comment);
	}
	free(s->windows);
	free(s->graph.title);
	free(s->graph.file);
	free(s->graph.cid);
	free(s->graph.png);
	free(s->graph.pdf);
	free(s->graph.error);
	for (size_t i = 0; i < s->alerts.nseverities; i++)
		free(s->alerts.severities[i].name);
	free(s->alerts.severities);
	for (size_t i = 0; i < s->alerts.nnoisiest; i++)
		free(s->alerts.noisiest[i].name);
	free(s->alerts.noisiest);
	for (size_t i = 0; i < s->alerts.nlongest; i++) {
		free(s->alerts.longest[i].rule);
		free(s->alerts.longest[i].labels);
		free(s->alerts.longest[i].severity);
	}
	free(s->alerts.longest);
	free(s->text);
	free(s->note);
	free(s->title);
}

void
report_doc_free(struct report_doc *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nsections; i++)
		section_free(&d->sections[i]);
	free(d->sections);
	free(d->name);
	free(d->title);
	free(d->hostname);
	free(d->timezone);
	free(d->base);
	free(d);
}

/* ---- the period ------------------------------------------------------------------------- */

#define DAY 86400

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The local civil date and second of the day the clock of z shows at instant t. */
static int64_t
local_date(const struct tz *z, double t, int64_t *y, int *m, int *d, int64_t *sod)
{
	int64_t w, day;

	cron_local(z, (time_t)floor(t), &w);
	day = floor_div(w, DAY);
	*sod = w - day * DAY;
	tz_civil_from_days(day, y, m, d);
	return day;
}

/* The instant the clock of z shows local midnight of day (days since 1970-01-01) begins. */
static double
midnight(const struct tz *z, int64_t day)
{
	time_t t;

	if (cron_instant(z, day * DAY, &t) == -1)
		return NAN;
	return (double)t;
}

/* The same local time months earlier (the day clamped to the month's length). */
static double
months_before(const struct tz *z, double at, int months)
{
	int64_t y, sod;
	int m, d, total;
	time_t t;

	local_date(z, at, &y, &m, &d, &sod);
	total = (int)(y * 12 + (m - 1)) - months;
	y = floor_div(total, 12);
	m = total - (int)y * 12 + 1;
	if (d > tz_days_in_month(y, m))
		d = tz_days_in_month(y, m);
	if (cron_instant(z, tz_days_from_civil(y, m, d) * DAY + sod, &t) == -1)
		return NAN;
	return (double)t;
}

/* The first day (days since 1970) of the month months after the one of day. */
static int64_t
month_start(int64_t day, int months)
{
	int64_t y;
	int m, d, total;

	tz_civil_from_days(day, &y, &m, &d);
	total = (int)(y * 12 + (m - 1)) + months;
	return tz_days_from_civil(floor_div(total, 12), total - (int)floor_div(total, 12) * 12 + 1,
	    1);
}

/*
 * The period a run at `at` covers, [start, end), and the one before it of the same kind
 * (its changes compare against it). Calendar periods follow the clock of z: a day of a DST
 * change is 23 or 25 hours long.
 */
int
report_period_bounds(const struct report_period *p, const struct tz *z, double at, double b[4])
{
	int64_t w, day;

	cron_local(z, (time_t)at, &w);
	day = floor_div(w, DAY);
	switch (p->kind) {
	case REPORT_PERIOD_SECONDS:
		b[1] = at;
		b[0] = at - p->n;
		b[2] = b[0] - p->n;
		break;
	case REPORT_PERIOD_MONTHS:
		b[1] = at;
		b[0] = months_before(z, at, (int)p->n);
		b[2] = months_before(z, b[0], (int)p->n);
		break;
	case REPORT_PERIOD_PREV_DAY:
		b[1] = midnight(z, day);
		b[0] = midnight(z, day - 1);
		b[2] = midnight(z, day - 2);
		break;
	case REPORT_PERIOD_PREV_WEEK:
		day -= (tz_weekday(day) + 6) % 7; /* back to Monday */
		b[1] = midnight(z, day);
		b[0] = midnight(z, day - 7);
		b[2] = midnight(z, day - 14);
		break;
	case REPORT_PERIOD_PREV_MONTH:
	default:
		b[1] = midnight(z, month_start(day, 0));
		b[0] = midnight(z, month_start(day, -1));
		b[2] = midnight(z, month_start(day, -2));
		break;
	}
	b[3] = b[0];
	return isnan(b[0]) || isnan(b[1]) || isnan(b[2]) ? -1 : 0;
}

/* "Mon 16 Nov 2026 07:00" in z (English names: the report's language). */
static void
fmt_local(char *buf, size_t size, const struct tz *z, double t, int with_time)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t y, sod, day;
	int m, d;

	day = local_date(z, t, &y, &m, &d, &sod);
	if (with_time)
		snprintf(buf, size, "%s %d %s %lld %02d:%02d", wd[tz_weekday(day)], d, mon[m - 1],
		    (long long)y, (int)(sod / 3600), (int)(sod / 60 % 60));
	else
		snprintf(buf, size, "%s %d %s %lld", wd[tz_weekday(day)], d, mon[m - 1],
		    (long long)y);
}

/* "20261116" or "20261116-0700": the local start of the period, for file names. */
static void
fmt_stamp(char *buf, size_t size, const struct tz *z, double t)
{
	int64_t y, sod;
	int m, d;

	local_date(z, t, &y, &m, &d, &sod);
	if (sod == 0)
		snprintf(buf, size, "%04lld%02d%02d", (long long)y, m, d);
	else
		snprintf(buf, size, "%04lld%02d%02d-%02d%02d", (long long)y, m, d, (int)(sod / 3600),
		    (int)(sod / 60 % 60));
}

/* ---- numbers for people ----------------------------------------------------------------- */

/* Three significant digits, without trailing zeros: 1.5, 12.3, 123, 0.0123. */
static void
fmt_sig(char *buf, size_t size, double v)
{
	double a = fabs(v);
	int decimals = a == 0 || a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 :
	    (int)ceil(-log10(a)) + 2;
	char *dot;

	if (decimals > 9)
		decimals = 9;
	snprintf(buf, size, "%.*f", decimals, v);
	if ((dot = strchr(buf, '.')) != NULL) {
		char *e = buf + strlen(buf) - 1;

		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
}

/* v scaled by the largest of steps (factor, name) that is at most |v|, then its name. */
static void
fmt_scaled(char *buf, size_t size, double v, const double *factor, const char *const *name,
    size_t n, const char *sep)
{
	size_t i = 0;
	char num[32];

	while (i + 1 < n && fabs(v) >= factor[i + 1])
		i++;
	fmt_sig(num, sizeof(num), v / factor[i]);
	snprintf(buf, size, "%s%s%s", num, *name[i] ? sep : "", name[i]);
}

/*
 * A value in its unit, for people: bytes in binary prefixes (1.5 GiB), seconds from ns to
 * days, ratios (0..1) and percent as percent, anything else with SI prefixes and the unit
 * as written ("1.2k orders"). NaN: "–".
 */
void
report_format_value(char *buf, size_t size, double v, const char *unit)
{
	static const double bf[] = { 1, 1024.0, 1048576.0, 1073741824.0, 1099511627776.0,
		1125899906842624.0 };
	static const char *const bn[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	static const double tf[] = { 1e-9, 1e-6, 1e-3, 1, 60, 3600, 86400 };
	static const char *const tn[] = { "ns", "µs", "ms", "s", "min", "h", "d" };
	static const double sf[] = { 1, 1e3, 1e6, 1e9, 1e12, 1e15 };
	static const char *const sn[] = { "", "k", "M", "G", "T", "P" };
	char num[40];

	if (isnan(v)) {
		snprintf(buf, size, "–");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (strcmp(unit, "bytes") == 0) {
		fmt_scaled(buf, size, v, bf, bn, 6, " ");
	} else if (strcmp(unit, "seconds") == 0) {
		if (v == 0)
			snprintf(buf, size, "0 s");
		else
			fmt_scaled(buf, size, v, tf, tn, 7, " ");
	} else if (strcmp(unit, "ratio") == 0 || strcmp(unit, "percent") == 0) {
		fmt_sig(num, sizeof(num), strcmp(unit, "ratio") == 0 ? v * 100 : v);
		snprintf(buf, size, "%s%%", num);
	} else {
		fmt_scaled(num, sizeof(num), v, sf, sn, 6, "");
		snprintf(buf, size, "%s%s%s", num, *unit ? " " : "", unit);
	}
}

/* A span of time for people: "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
void
report_format_duration(char *buf, size_t size, double s)
{
	long long m = (long long)llround(s / 60);

	if (isnan(s))
		snprintf(buf, size, "–");
	else if (s < 60)
		snprintf(buf, size, "%.0f s", s);
	else if (m < 60)
		snprintf(buf, size, "%lld min", m);
	else if (m < 24 * 60)
		snprintf(buf, size, m % 60 ? "%lld h %lld min" : "%lld h", m / 60, m % 60);
	else
		snprintf(buf, size, (m / 60) % 24 ? "%lld d %lld h" : "%lld d", m / 1440,
		    (m / 60) % 24);
}

/* The unit a metric's name suggests (Prometheus naming: _bytes, _seconds, _ratio, _percent). */
static const char *
unit_of_name(const char *name)
{
	static const char *const suffix[][2] = { { "_bytes", "bytes" }, { "_seconds", "seconds" },
		{ "_ratio", "ratio" }, { "_percent", "percent" } };
	size_t n = name ? strlen(name) : 0;

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		size_t k = strlen(suffix[i][0]);

		if (n > k && strcmp(name + n - k, suffix[i][0]) == 0)
			return suffix[i][1];
	}
	return "";
}

/* ---- what a section reads ---------------------------------------------------------------- */

/* The value of option kind.NAME of item it ("title", "unit", ...), or NULL. */
static const char *
option(const struct cfg_report *r, const char *kind, const struct cfg_kv *it)
{
	const char *name = strchr(it->key, '.') ? strchr(it->key, '.') + 1 : it->key;
	size_t k = strlen(kind);

	for (size_t i = 0; i < r->noptions; i++)
		if (strncmp(r->options[i].key, kind, k) == 0 && r->options[i].key[k] == '.' &&
		    strcmp(r->options[i].key + k + 1, name) == 0)
			return r->options[i].value;
	return NULL;
}

/* What the reader sees as the item's name: title.NAME, or NAME with '_' as ' '. */
static char *
item_title(const struct cfg_report *r, const struct cfg_kv *it)
{
	const char *t = option(r, "title", it);
	char *s;

	if (t != NULL)
		return xstrdup(t);
	s = xstrdup(strchr(it->key, '.') ? strchr(it->key, '.') + 1 : it->key);
	for (char *p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	return s;
}

/* The unit of an item: unit.NAME, else what its first selector's metric name suggests. */
static const char *
item_unit(const struct cfg_report *r, const struct cfg_kv *it, const struct expr *e)
{
	const char *u = option(r, "unit", it);
	size_t n;
	const struct expr_selector *sel = expr_selectors(e, &n);

	if (u != NULL)
		return u;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sel[i].nm; k++)
			if (strcmp(sel[i].m[k].name, "__name__") == 0 &&
			    sel[i].m[k].op == EXPR_MATCH_EQ)
				return unit_of_name(sel[i].m[k].value);
	return "";
}

/* The labels of series i that tell it from the others of s: "instance=web1, job=node". */
static char *
distinct_labels(const struct expr_series *s, size_t n, size_t i)
{
	struct buf b = { 0 };

	for (size_t k = 0; k < s[i].nlabels; k++) {
		const struct reeve_label *l = &s[i].labels[k];
		int same = 1;

		for (size_t j = 0; j < n && same; j++) {
			const char *v = NULL;

			for (size_t q = 0; q < s[j].nlabels; q++)
				if (strcmp(s[j].labels[q].name, l->name) == 0)
					v = s[j].labels[q].value;
			same = v != NULL && strcmp(v, l->value) == 0;
		}
		if (!same || n == 1)
			buf_printf(&b, "%s%s=%s", b.len ? ", " : "", l->name, l->value);
	}
	if (b.data == NULL && s[i].name != NULL)
		buf_puts(&b, s[i].name);
	return b.data ? b.data : xstrdup("");
}

/* The series of expression text over (start, end], one value per row of the data. */
static int
range_of(const struct report_env *env, const struct expr *e, double start, double end,
    struct expr_series **s, size_t *n, double *step, char *err, size_t errlen)
{
	/* a row ending at start belongs to the period before */
	struct query_range q = { .start = start + 1e-3, .end = end };

	if (query_range_eval(e, env->src, &q, s, n, err, errlen) == -1)
		return -1;
	*step = q.step_used;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* last, min, avg, max, p95 of the finite values of s (NaN when none). */
static void
stats_of(const struct expr_series *s, double st[REPORT_NSTATS])
{
	double *v = xreallocarray(NULL, s->n ? s->n : 1, sizeof(double)), sum = 0, rank;
	size_t n = 0;

	for (int i = 0; i < REPORT_NSTATS; i++)
		st[i] = NAN;
	for (size_t i = 0; i < s->n; i++)
		if (isfinite(s->v[i])) {
			v[n++] = s->v[i];
			sum += s->v[i];
			st[REPORT_LAST] = s->v[i];
		}
	if (n > 0) {
		qsort(v, n, sizeof(double), cmp_double);
		st[REPORT_MIN] = v[0];
		st[REPORT_MAX] = v[n - 1];
		st[REPORT_AVG] = sum / (double)n;
		/* linear interpolation between the closest ranks (numpy's default) */
		rank = 0.95 * (double)(n - 1);
		st[REPORT_P95] = v[(size_t)rank] + (rank - floor(rank)) *
		    (v[(size_t)rank + (rank < (double)(n - 1))] - v[(size_t)rank]);
	}
	free(v);
}

static int
crosses(const struct report_threshold *t, double v)
{
	return t->op == '>' ? v > t->v : t->op == '<' ? v < t->v : t->op == 'g' ? v >= t->v :
	    t->op == 'l' ? v <= t->v : 0;
}

/* A key for matching a series of this period with the same one of the previous period. */
static unsigned long long
labels_key(const struct expr_series *s)
{
	unsigned long long h = util_hash(s->name ? s->name : "", s->name ? strlen(s->name) : 0);

	for (size_t i = 0; i < s->nlabels; i++) {
		h ^= util_hash(s->labels[i].name, strlen(s->labels[i].name)) * 31;
		h ^= util_hash(s->labels[i].value, strlen(s->labels[i].value)) * 131 + i;
	}
	return h;
}

static void set_note(struct report_section *sec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Add a remark to a section's note (what could not be shown, and why). */
static void
set_note(struct report_section *sec, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sec->note == NULL) {
		sec->note = xstrdup(buf);
	} else {
		char *n = xasprintf("%s; %s", sec->note, buf);

		free(sec->note);
		sec->note = n;
	}
}

/* ---- kpi --------------------------------------------------------------------------------- */

static void
kpi_change(struct report_kpi_row *row)
{
	double avg = row->stat[REPORT_AVG].v, c;

	row->change.v = NAN;
	row->direction = 0;
	snprintf(row->change.text, sizeof(row->change.text), "–");
	if (isnan(avg) || isnan(row->prev) || row->prev == 0)
		return;
	c = (avg - row->prev) / fabs(row->prev) * 100;
	row->change.v = c;
	row->direction = c >= 0.05 ? 1 : c <= -0.05 ? -1 : 0;
	snprintf(row->change.text, sizeof(row->change.text), "%s %.1f%%",
	    row->direction > 0 ? "▲" : row->direction < 0 ? "▼" : "=", fabs(c));
}

static void
kpi_rows(const struct report_env *env, const struct cfg_report *r, const struct cfg_kv *it,
    const double b[4], struct report_section *sec)
{
	char err[512];
	struct expr *e = expr_parse(it->value, err, sizeof(err));
	struct expr_series *s = NULL, *p = NULL;
	size_t n = 0, np = 0;
	double step;
	struct report_threshold warn = { 0, 0 }, crit = { 0, 0 };
	char *title = item_title(r, it);
	const char *unit;

	if (e == NULL || range_of(env, e, b[0], b[1], &s, &n, &step, err, sizeof(err)) == -1) {
		set_note(sec, "%s: %s", title, err);
		goto out;
	}
	if (n == 0)
		set_note(sec, "%s: no data in the period", title);
	/* the previous period only feeds the changes: without it they show "–" */
	if (range_of(env, e, b[2], b[3], &p, &np, &step, err, sizeof(err)) == -1)
		np = 0;
	if (option(r, "warn", it) != NULL)
		report_threshold_parse(option(r, "warn", it), &warn, err, sizeof(err));
	if (option(r, "crit", it) != NULL)
		report_threshold_parse(option(r, "crit", it), &crit, err, sizeof(err));
	unit = item_unit(r, it, e);
	sec->kpis = xreallocarray(sec->kpis, sec->nkpis + n, sizeof(*sec->kpis));
	for (size_t i = 0; i < n; i++) {
		struct report_kpi_row *row = &sec->kpis[sec->nkpis++];
		double st[REPORT_NSTATS], pst[REPORT_NSTATS];
		unsigned long long key = labels_key(&s[i]);

		memset(row, 0, sizeof(*row));
		if (n > 1) {
			char *l = distinct_labels(s, n, i);

			row->name = xasprintf("%s {%s}", title, l);
			free(l);
		} else {
			row->name = xstrdup(title);
		}
		row->unit = xstrdup(unit);
		stats_of(&s[i], st);
		for (int k = 0; k < REPORT_NSTATS; k++) {
			row->stat[k].v = st[k];
			report_format_value(row->stat[k].text, sizeof(row->stat[k].text), st[k], unit);
			row->stat[k].level = !isnan(st[k]) && crosses(&crit, st[k]) ? REPORT_CRITICAL :
			    !isnan(st[k]) && crosses(&warn, st[k]) ? REPORT_WARNING : REPORT_OK;
		}
		row->prev = NAN;
		for (size_t j = 0; j < np; j++)
			if (labels_key(&p[j]) == key) {
				stats_of(&p[j], pst);
				row->prev = pst[REPORT_AVG];
			}
		kpi_change(row);
	}
out:
	expr_series_free(s, n);
	expr_series_free(p, np);
	expr_free(e);
	free(title);
}

/* ---- availability ------------------------------------------------------------------------ */

/* A maintenance window within the period, with the matchers saying what it covers. */
struct mwin {
	const struct cfg_maintenance *m;
	struct expr_matcher *match;
	size_t nmatch;
	double start, end;
};

/* Every opening of every [maintenance] that overlaps [start, end), clipped to it. */
static size_t
maintenance_windows(const struct cfg *cfg, double start, double end, struct mwin **out)
{
	struct mwin *w = NULL;
	size_t n = 0;
	char err[256];

	for (size_t i = 0; i < cfg->nmaintenances; i++) {
		const struct cfg_maintenance *m = &cfg->maintenances[i];
		struct cron *c = cron_parse(m->schedule, err, sizeof(err));
		struct tz *z = tz_load(m->timezone, err, sizeof(err));
		struct expr_matcher *mm = NULL;
		size_t nm = 0;
		time_t t = (time_t)(start - m->duration), open;

		if (c != NULL && z != NULL &&
		    expr_parse_matchers(m->match.text, &mm, &nm, err, sizeof(err)) == 0) {
			while (cron_next_in(c, z, t, &open) == 0 && (double)open < end) {
				double ws = (double)open, we = ws + m->duration;

				t = open;
				if (we <= start)
					continue;
				w = xreallocarray(w, n + 1, sizeof(*w));
				w[n].m = m;
				w[n].match = mm;
				w[n].nmatch = nm;
				w[n].start = ws > start ? ws : start;
				w[n++].end = we < end ? we : end;
				mm = NULL; /* the first window of m owns the matchers */
			}
			expr_matchers_free(mm, mm ? nm : 0);
		}
		cron_free(c);
		tz_free(z);
	}
	*out = w;
	return n;
}

static void
windows_free(struct mwin *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (i == 0 || w[i].m != w[i - 1].m)
			expr_matchers_free(w[i].match, w[i].nmatch);
	free(w);
}

/* Whether time t of a target with these labels falls into a window that covers it. */
static int
in_window(const struct mwin *w, size_t n, const struct expr_series *s, double t, int *used)
{
	for (size_t i = 0; i < n; i++)
		if (t >= w[i].start && t < w[i].end &&
		    expr_matches(w[i].match, w[i].nmatch, s->name, s->labels, s->nlabels)) {
			used[i] = 1;
			return 1;
		}
	return 0;
}

/* A row of an availability table from the seconds up, down, in maintenance, without data. */
static void
avail_row(struct report_section *sec, const char *title, char *target, double objective,
    double up, double down, double maint, double nodata)
{
	struct report_avail_row *row;

	sec->avail = xreallocarray(sec->avail, sec->navail + 1, sizeof(*sec->avail));
	row = &sec->avail[sec->navail++];
	memset(row, 0, sizeof(*row));
	row->section = xstrdup(title);
	row->target = target;
	row->objective.v = objective;
	report_format_value(row->objective.text, sizeof(row->objective.text), objective, "ratio");
	row->up.v = up + down > 0 ? up / (up + down) : NAN;
	report_format_value(row->up.text, sizeof(row->up.text), row->up.v, "ratio");
	if (!isnan(row->up.v) && row->up.v < 1 && strcmp(row->up.text, "100%") == 0)
		snprintf(row->up.text, sizeof(row->up.text), "99.99%%+"); /* never round to 100 */
	row->met = !isnan(row->up.v) && row->up.v >= objective;
	row->up.level = row->met || isnan(row->up.v) ? REPORT_OK : REPORT_CRITICAL;
	row->downtime.v = down;
	report_format_duration(row->downtime.text, sizeof(row->downtime.text), down);
	row->maintenance.v = maint;
	report_format_duration(row->maintenance.text, sizeof(row->maintenance.text), maint);
	row->nodata.v = nodata;
	report_format_duration(row->nodata.text, sizeof(row->nodata.text), nodata);
}

static void avail_rule_rows(const struct report_env *env, const char *rule, const char *title,
    double objective, const double b[4], const struct mwin *w, size_t nw, int *used,
    struct report_section *sec);

static void
avail_rows(const struct report_env *env, const struct cfg_report *r, const struct cfg_kv *it,
    const double b[4], const struct mwin *w, size_t nw, int *used, struct report_section *sec)
{
	char err[512];
	struct expr *e = NULL;
	struct expr_series *s = NULL;
	size_t n = 0;
	double step, objective;
	char *title = item_title(r, it);
	const char *obj = option(r, "objective", it);

	if (report_objective_parse(obj ? obj : r->objective, &objective, err, sizeof(err)) == -1)
		objective = 0.999;
	if (strncmp(it->value, "alert:", 6) == 0) {
		avail_rule_rows(env, it->value + 6, title, objective, b, w, nw, used, sec);
		goto out;
	}
	if ((e = expr_parse(it->value, err, sizeof(err))) == NULL ||
	    range_of(env, e, b[0], b[1], &s, &n, &step, err, sizeof(err)) == -1) {
		set_note(sec, "%s: %s", title, err);
		goto out;
	}
	if (n == 0)
		set_note(sec, "%s: no data in the period", title);
	for (size_t i = 0; i < n; i++) {
		double up = 0, down = 0, maint = 0, total = 0;
		size_t k = 0;

		/* each evaluation time stands for the row of data that ends there */
		for (double t = ceil((b[0] + 1e-3) / step) * step; t <= b[1]; t += step) {
			double mid = t - step / 2;

			total += step;
			while (k < s[i].n && s[i].ts[k] < t)
				k++;
			if (in_window(w, nw, &s[i], mid, used))
				maint += step;
			else if (k < s[i].n && s[i].ts[k] == t && isfinite(s[i].v[k]))
				*(s[i].v[k] > 0 ? &up : &down) += step;
		}
		avail_row(sec, title, distinct_labels(s, n, i), objective, up, down, maint,
		    total - up - down - maint);
	}
out:
	expr_series_free(s, n);
	expr_free(e);
	free(title);
}

/* The windows that covered a target of the section, for the list under its table. */
static void
avail_windows(const struct tz *z, const struct mwin *w, size_t nw, const int *used,
    struct report_section *sec)
{
	for (size_t i = 0; i < nw; i++) {
		struct report_window *rw;
		char a[64], b[64];

		if (!used[i])
			continue;
		sec->windows = xreallocarray(sec->windows, sec->nwindows + 1, sizeof(*sec->windows));
		rw = &sec->windows[sec->nwindows++];
		rw->name = xstrdup(w[i].m->name);
		rw->comment = w[i].m->comment ? xstrdup(w[i].m->comment) : NULL;
		rw->start = w[i].start;
		rw->end = w[i].end;
		fmt_local(a, sizeof(a), z, w[i].start, 1);
		fmt_local(b, sizeof(b), z, w[i].end, 1);
		/* "Sun 22 Nov 2026 02:00 – 04:00" when it ends the same day */
		snprintf(rw->text, sizeof(rw->text), "%s – %s", a,
		    strncmp(a, b, strlen(a) - 5) == 0 ? b + strlen(b) - 5 : b);
	}
}

/* ---- alerts ------------------------------------------------------------------------------ */

#define REPORT_TOP 5
#define REPORT_ALERT_LOOKBACK (30 * 86400.0) /* incidents that started this long before the period */
#define REPORT_MAX_ENTRIES ((size_t)1 << 20)    /* history entries read at most */

/* One firing of one alert instance, from the history log. */
struct incident {
	const struct alertlog_entry *first;
	char *key;              /* rule and labels */
	double start, end;      /* end NAN: still firing */
};

static char *
entry_key(const struct alertlog_entry *e)
{
	struct buf b = { 0 };

	/* separated by a control character (names and values hold none that matter here) */
	buf_puts(&b, e->rule);
	for (size_t i = 0; i < e->nlabels; i++)
		buf_printf(&b, "\x1f%s=%s", e->labels[i].name, e->labels[i].value);
	return b.data;
}

/* Pair each "to firing" with the next transition out of firing of the same instance. */
static size_t
incidents_of(const struct alertlog_entry *e, size_t n, struct incident **out)
{
	struct incident *in = NULL;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char *key = entry_key(&e[i]);
		struct incident *open = NULL;

		for (size_t j = k; j-- > 0 && open == NULL;)
			if (isnan(in[j].end) && strcmp(in[j].key, key) == 0)
				open = &in[j];
		if (strcmp(e[i].to, "firing") == 0 && open == NULL) {
			in = xreallocarray(in, k + 1, sizeof(*in));
			in[k].first = &e[i];
			in[k].key = key;
			in[k].start = e[i].time;
			in[k++].end = NAN;
			continue;
		}
		if (open != NULL && strcmp(e[i].from, "firing") == 0 &&
		    (strcmp(e[i].to, "resolved") == 0 || strcmp(e[i].to, "inactive") == 0))
			open->end = e[i].time;
		free(key);
	}
	*out = in;
	return k;
}

static struct report_count *
count_add(struct report_count **c, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*c)[i].name, name) == 0)
			return &(*c)[i];
	*c = xreallocarray(*c, *n + 1, sizeof(**c));
	memset(&(*c)[*n], 0, sizeof(**c));
	(*c)[*n].name = xstrdup(name);
	return &(*c)[(*n)++];
}

static int
cmp_count(const void *a, const void *b)
{
	const struct report_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return x->seconds < y->seconds ? 1 : x->seconds > y->seconds ? -1 : strcmp(x->name, y->name);
}

static int
cmp_length(const void *a, const void *b)
{
	const struct incident *x = *(struct incident *const *)a, *y = *(struct incident *const *)b;
	double lx = x->end - x->start, ly = y->end - y->start;

	return lx < ly ? 1 : lx > ly ? -1 : 0;
}

static void
alerts_summary(const struct report_env *env, const struct tz *z, const double b[4],
    struct report_section *sec)
{
	struct report_alerts *s = &sec->alerts;
	struct alertlog_entry *e = NULL;
	struct incident *in = NULL, **order;
	size_t n = 0, k, no = 0;
	double ttr = 0;

	s->mttr = NAN;
	if (env->alertlog == NULL ||
	    alertlog_read(env->alertlog, b[0] - REPORT_ALERT_LOOKBACK, NULL, REPORT_MAX_ENTRIES,
	    &e, &n) == -1) {
		set_note(sec, "the alert history could not be read");
		n = 0;
	}
	k = incidents_of(e, n, &in);
	order = xcalloc(k ? k : 1, sizeof(*order));
	for (size_t i = 0; i < k; i++) {
		struct incident *x = &in[i];
		double end = isnan(x->end) || x->end > b[1] ? b[1] : x->end;
		double from = x->start > b[0] ? x->start : b[0];
		struct report_count *c;

		if (x->start >= b[1] || end <= b[0])
			continue;
		s->firing_seconds += end - from;
		if (x->start < b[0])
			continue; /* began before the period: its time counts, not its firing */
		s->fired++;
		if (!isnan(x->end) && x->end <= b[1]) {
			s->resolved++;
			ttr += x->end - x->start;
		} else {
			x->end = NAN;
		}
		c = count_add(&s->severities, &s->nseverities,
		    x->first->severity && *x->first->severity ? x->first->severity : "none");
		c->n++;
		c->seconds += end - x->start;
		c = count_add(&s->noisiest, &s->nnoisiest, x->first->rule);
		c->n++;
		c->seconds += end - x->start;
		order[no++] = x;
	}
	if (s->resolved > 0)
		s->mttr = ttr / (double)s->resolved;
	report_format_duration(s->firing_text, sizeof(s->firing_text), s->firing_seconds);
	report_format_duration(s->mttr_text, sizeof(s->mttr_text), s->mttr);
	if (s->nseverities > 0) /* (a NULL array with nothing in it) */
		qsort(s->severities, s->nseverities, sizeof(*s->severities), cmp_count);
	if (s->nnoisiest > 0)
		qsort(s->noisiest, s->nnoisiest, sizeof(*s->noisiest), cmp_count);
	for (size_t i = REPORT_TOP; i < s->nnoisiest; i++)
		free(s->noisiest[i].name);
	if (s->nnoisiest > REPORT_TOP)
		s->nnoisiest = REPORT_TOP;
	for (size_t i = 0; i < s->nseverities; i++)
		report_format_duration(s->severities[i].text, sizeof(s->severities[i].text),
		    s->severities[i].seconds);
	for (size_t i = 0; i < s->nnoisiest; i++)
		report_format_duration(s->noisiest[i].text, sizeof(s->noisiest[i].text),
		    s->noisiest[i].seconds);
	/* the longest: still firing ones count to the end of the period */
	for (size_t i = 0; i < no; i++)
		if (isnan(order[i]->end))
			order[i]->end = b[1] + 1e-6; /* marked open again below */
	qsort(order, no, sizeof(*order), cmp_length);
	s->longest = xcalloc(REPORT_TOP, sizeof(*s->longest));
	for (size_t i = 0; i < no && i < REPORT_TOP; i++) {
		struct report_incident *ri = &s->longest[s->nlongest++];
		const struct alertlog_entry *f = order[i]->first;
		struct buf l = { 0 };
		int open = order[i]->end > b[1];

		for (size_t j = 0; j < f->nlabels; j++)
			if (strcmp(f->labels[j].name, "alertname") != 0 &&
			    strcmp(f->labels[j].name, "severity") != 0)
				buf_printf(&l, "%s%s=%s", l.len ? ", " : "", f->labels[j].name,
				    f->labels[j].value);
		ri->rule = xstrdup(f->rule);
		ri->labels = l.data ? l.data : xstrdup("");
		ri->severity = xstrdup(f->severity ? f->severity : "");
		ri->start = order[i]->start;
		ri->end = open ? NAN : order[i]->end;
		fmt_local(ri->when, sizeof(ri->when), z, ri->start, 1);
		report_format_duration(ri->duration, sizeof(ri->duration),
		    (open ? b[1] : ri->end) - ri->start);
		if (open)
			snprintf(ri->duration + strlen(ri->duration),
			    sizeof(ri->duration) - strlen(ri->duration), ", still firing");
	}
	free(order);
	for (size_t i = 0; i < k; i++)
		free(in[i].key);
	free(in);
	alertlog_entries_free(e, n);
}

/* Seconds of [a, b) within [c, d). */
static double
overlap(double a, double b, double c, double d)
{
	double lo = a > c ? a : c, hi = b < d ? b : d;

	return hi > lo ? hi - lo : 0;
}

/*
 * availability.NAME = alert:RULE: every instance of [alert RULE] that fired in the history is
 * a target, down while it fired (within the period, maintenance windows excluded), up the
 * rest of the time.
 */
static void
avail_rule_rows(const struct report_env *env, const char *rule, const char *title,
    double objective, const double b[4], const struct mwin *w, size_t nw, int *used,
    struct report_section *sec)
{
	struct alertlog_entry *e = NULL;
	struct incident *in = NULL;
	size_t n = 0, k;

	if (env->alertlog == NULL || alertlog_read(env->alertlog, b[0] - REPORT_ALERT_LOOKBACK,
	    rule, REPORT_MAX_ENTRIES, &e, &n) == -1) {
		set_note(sec, "%s: the alert history could not be read", title);
		return;
	}
	k = incidents_of(e, n, &in);
	for (size_t i = 0; i < k; i++) {
		const struct alertlog_entry *f = in[i].first;
		struct buf target = { 0 };
		double down = 0, maint = 0, period = b[1] - b[0];
		size_t j;

		for (j = 0; j < i && strcmp(in[j].key, in[i].key) != 0; j++)
			;
		if (j < i)
			continue; /* this instance's row is made at its first incident */
		for (size_t q = 0; q < nw; q++)
			if (expr_matches(w[q].match, w[q].nmatch, NULL, f->labels, f->nlabels)) {
				used[q] = 1;
				maint += w[q].end - w[q].start;
			}
		for (j = i; j < k; j++) {
			double end = isnan(in[j].end) ? b[1] : in[j].end;

			if (strcmp(in[j].key, in[i].key) != 0)
				continue;
			down += overlap(in[j].start, end, b[0], b[1]);
			for (size_t q = 0; q < nw; q++)
				if (expr_matches(w[q].match, w[q].nmatch, NULL, f->labels, f->nlabels))
					down -= overlap(in[j].start, end, w[q].start, w[q].end);
		}
		for (size_t l = 0; l < f->nlabels; l++)
			if (strcmp(f->labels[l].name, "alertname") != 0 &&
			    strcmp(f->labels[l].name, "severity") != 0)
				buf_printf(&target, "%s%s=%s", target.len ? ", " : "", f->labels[l].name,
				    f->labels[l].value);
		avail_row(sec, title, target.data ? target.data : xstrdup(rule), objective,
		    period - maint - down, down, maint, 0);
	}
	if (sec->navail == 0)
		set_note(sec, "%s: [alert %s] did not fire: nothing was down", title, rule);
	for (size_t i = 0; i < k; i++)
		free(in[i].key);
	free(in);
	alertlog_entries_free(e, n);
}

/* ---- graphs ------------------------------------------------------------------------------ */

#define REPORT_GRAPH_WIDTH 640
#define REPORT_GRAPH_HEIGHT 200

/* The stored files a selector's series live in. */
struct file_match {
	const struct expr_selector *sel;
	struct graph_line lines[GRAPH_MAX_LINES];
	char *paths[GRAPH_MAX_LINES];
	struct expr_series meta[GRAPH_MAX_LINES]; /* name and labels, for the legends */
	const struct store_file *files[GRAPH_MAX_LINES];
	size_t n, more;
};

static void
match_file(void *arg, struct store_file *f, const char *rel)
{
	struct file_match *fm = arg;
	char *name;
	struct reeve_label *l;
	size_t nl;

	if (store_path_decode(rel, &name, &l, &nl) == -1)
		return;
	if (expr_matches(fm->sel->m, fm->sel->nm, name, l, nl)) {
		if (fm->n < GRAPH_MAX_LINES) {
			struct expr_series *m = &fm->meta[fm->n];

			m->name = name;
			m->labels = expr_labels_pack(l, nl);
			m->nlabels = nl;
			fm->files[fm->n] = f;
			fm->paths[fm->n++] = xstrdup(store_file_path(f));
			name = NULL;
		} else {
			fm->more++;
		}
	}
	free(name);
	store_labels_free(l, nl);
}

/* A temporary RRD file holding the values of s (an expression's answer) at its step. */
static char *
temp_rrd(const char *dir, size_t i, const struct expr_series *s, char *err, size_t errlen)
{
	char *path = xasprintf("%s/series-%zu.rrd", dir, i);
	char ds[64], rra[64], **argv = xcalloc(s->n ? s->n : 1, sizeof(char *));
	const char *def[2] = { ds, rra };
	unsigned long step = s->step >= 1 ? (unsigned long)s->step : 1;
	int rc;

	snprintf(ds, sizeof(ds), "DS:value:GAUGE:%lu:U:U", 2 * step);
	snprintf(rra, sizeof(rra), "RRA:AVERAGE:0.5:1:%zu", s->n + 2);
	rrd_clear_error();
	rc = rrd_create_r2(path, step, (time_t)(s->n ? s->ts[0] - (double)step : 0), 0, NULL,
	    NULL, 2, def);
	for (size_t k = 0; rc == 0 && k < s->n; k++)
		argv[k] = isfinite(s->v[k]) ? xasprintf("%.0f:%.17g", s->ts[k], s->v[k]) :
		    xasprintf("%.0f:U", s->ts[k]);
	if (rc == 0 && s->n > 0)
		rc = rrd_update_r(path, NULL, (int)s->n, (const char **)argv);
	if (rc != 0)
		snprintf(err, errlen, "%s", rrd_get_error());
	for (size_t k = 0; k < s->n; k++)
		free(argv[k]);
	free(argv);
	if (rc != 0) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

/* Render spec into g: the PNG for mail and HTML, the same as a vector PDF for the PDF. */
static void
draw(const struct graph_spec *spec, struct report_graph *g)
{
	char err[512];

	if (graph_render(spec, GRAPH_PNG, &g->png, &g->png_len, err, sizeof(err)) == -1) {
		g->error = xasprintf("the graph could not be drawn: %s", err);
		return;
	}
	/* without the vector form the PDF shows the PNG */
	if (graph_render(spec, GRAPH_PDF, &g->pdf, &g->pdf_len, err, sizeof(err)) == -1)
		g->pdf = NULL;
	graph_png_size(g->png, g->png_len, &g->width, &g->height);
}

/*
 * The lines of a graph of expression e over [start, end]: a selector alone draws its own
 * files (rrd_graph picks the resolution); any other expression's answer goes through
 * temporary RRD files in a directory of their own. Fills spec's lines. Returns 0, or -1
 * with a message in err (also "no data in the period").
 */
static int
plot_prepare(const struct report_env *env, const struct expr *e, double start, double end,
    struct file_match *fm, char **dir, struct graph_spec *spec, char *err, size_t errlen)
{
	struct expr_series *s = NULL;
	size_t n = 0;
	double step;
	int rc = -1;

	spec->lines = fm->lines;
	if (expr_is_selector(e) && env->store != NULL) {
		size_t nsel;

		fm->sel = expr_selectors(e, &nsel);
		store_foreach(env->store, match_file, fm);
		for (size_t i = 0; i < fm->n; i++) {
			store_flush(env->store, fm->files[i], err, errlen);
			fm->lines[i].path = fm->paths[i];
			fm->lines[i].daemon = store_daemon(env->store);
			fm->lines[i].legend = distinct_labels(fm->meta, fm->n, i);
		}
		spec->nlines = fm->n;
	} else {
		if (range_of(env, e, start, end, &s, &n, &step, err, errlen) == -1)
			goto out;
		fm->more = n > GRAPH_MAX_LINES ? n - GRAPH_MAX_LINES : 0;
		*dir = xasprintf("%s/reeve-graph-XXXXXX", env->tmpdir ? env->tmpdir : "/tmp");
		if (mkdtemp(*dir) == NULL) {
			snprintf(err, errlen, "cannot make a temporary directory: %s", strerror(errno));
			free(*dir);
			*dir = NULL;
			goto out;
		}
		for (size_t i = 0; i < n && spec->nlines < GRAPH_MAX_LINES; i++) {
			if ((fm->paths[spec->nlines] = temp_rrd(*dir, i, &s[i], err, errlen)) == NULL)
				continue;
			fm->lines[spec->nlines].path = fm->paths[spec->nlines];
			fm->lines[spec->nlines++].legend = distinct_labels(s, n, i);
		}
	}
	if (spec->nlines == 0) {
		snprintf(err, errlen, "no data in the period");
		goto out;
	}
	rc = 0;
out:
	expr_series_free(s, n);
	return rc;
}

static void
plot_free(struct file_match *fm, char *dir)
{
	for (size_t i = 0; i < GRAPH_MAX_LINES; i++) {
		if (dir != NULL && fm->paths[i] != NULL)
			unlink(fm->paths[i]);
		free(fm->paths[i]);
		free((char *)fm->lines[i].legend);
	}
	for (size_t i = 0; i < fm->n; i++) {
		free(fm->meta[i].name);
		free(fm->meta[i].labels);
	}
	if (dir != NULL)
		rmdir(dir);
	free(dir);
}

int
report_plot(const struct report_env *env, const char *text, const struct graph_spec *spec,
    enum graph_format f, unsigned char **out, size_t *len, char *err, size_t errlen)
{
	struct expr *e = expr_parse(text, err, errlen);
	struct graph_spec sp = *spec;
	struct file_match fm = { 0 };
	char *dir = NULL;
	int rc = -1;

	sp.nlines = 0;
	if (e != NULL && plot_prepare(env, e, sp.start, sp.end, &fm, &dir, &sp, err, errlen) == 0)
		rc = graph_render(&sp, f, out, len, err, errlen);
	plot_free(&fm, dir);
	expr_free(e);
	return rc;
}

static void
graph_section(const struct report_env *env, const struct cfg_report *r, const struct cfg_kv *it,
    const double b[4], const char *base, size_t index, struct report_section *sec)
{
	char err[512];
	struct expr *e = expr_parse(it->value, err, sizeof(err));
	struct graph_spec spec = { 0 };
	struct file_match fm = { 0 };
	struct report_graph *g = &sec->graph;
	const char *unit;
	char *dir = NULL;

	g->title = xstrdup(sec->title);
	g->file = xasprintf("%s-graph-%zu.png", base, index);
	g->cid = xasprintf("graph-%zu.%s@reeve", index, r->name);
	if (e == NULL) {
		g->error = xstrdup(err);
		goto out;
	}
	unit = item_unit(r, it, e);
	spec.start = b[0];
	spec.end = b[1];
	spec.title = sec->title;
	spec.vertical_label = *unit ? unit : NULL;
	spec.width = REPORT_GRAPH_WIDTH;
	spec.height = REPORT_GRAPH_HEIGHT;
	if (plot_prepare(env, e, b[0], b[1], &fm, &dir, &spec, err, sizeof(err)) == -1) {
		g->error = xstrdup(err);
		goto out;
	}
	draw(&spec, g);
	if (fm.more > 0) {
		char more[24];

		snprintf(more, sizeof(more), "%zu", fm.more);
		set_note(sec, "%s more series are not drawn (a graph shows %d at most)", more,
		    GRAPH_MAX_LINES);
	}
out:
	plot_free(&fm, dir);
	expr_free(e);
}

/* ---- text -------------------------------------------------------------------------------- */

/* Where an item's rows went: its section and the first and last row. */
struct placed {
	size_t sec, first, n;
};

/* The text of a {{ name }} in a text section, or NULL for an unknown name. */
static const char *
lookup(const struct report_doc *d, const struct cfg_report *r, const struct placed *pl,
    const char *name)
{
	static const char *const stats[] = { "last", "min", "avg", "max", "p95" };
	const struct report_section *s;

	if (strcmp(name, "report.title") == 0 || strcmp(name, "title") == 0)
		return d->title;
	if (strcmp(name, "period") == 0)
		return d->period_text;
	for (size_t i = 0; i < r->nitems; i++) {
		const char *key = r->items[i].key;
		size_t k = strlen(key);

		if (strncmp(name, key, k) != 0 || pl[i].n == 0)
			continue;
		s = &d->sections[pl[i].sec];
		if (strncmp(key, "kpi.", 4) == 0 && name[k] == '.') {
			const struct report_kpi_row *row = &s->kpis[pl[i].first];

			if (strcmp(name + k + 1, "change") == 0)
				return row->change.text;
			for (int st = 0; st < REPORT_NSTATS; st++)
				if (strcmp(name + k + 1, stats[st]) == 0)
					return row->stat[st].text;
		}
		if (strncmp(key, "availability.", 13) == 0 && name[k] == '\0')
			return s->avail[pl[i].first].up.text;
	}
	for (size_t i = 0; i < d->nsections; i++) {
		s = &d->sections[i];
		if (s->kind != REPORT_ALERTS)
			continue;
		if (strcmp(name, "alerts.mttr") == 0)
			return s->alerts.mttr_text;
		if (strcmp(name, "alerts.firing_time") == 0)
			return s->alerts.firing_text;
	}
	return NULL;
}

/* The text with every {{ name }} filled in; unknown names are kept and noted. */
static void
text_section(const struct report_doc *d, const struct cfg_report *r, const struct placed *pl,
    const char *text, struct report_section *sec)
{
	struct buf b = { 0 };
	const char *p = text, *open;

	while ((open = strstr(p, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}");
		char name[128], num[32];
		const char *v = NULL;
		size_t a, z;

		if (close == NULL)
			break;
		buf_append(&b, p, (size_t)(open - p));
		for (a = 2; open + a < close && open[a] == ' '; a++)
			;
		for (z = (size_t)(close - open); z > a && open[z - 1] == ' '; z--)
			;
		snprintf(name, sizeof(name), "%.*s", (int)(z - a), open + a);
		if (strncmp(name, "alerts.", 7) == 0)
			for (size_t i = 0; i < d->nsections && v == NULL; i++)
				if (d->sections[i].kind == REPORT_ALERTS &&
				    (strcmp(name, "alerts.fired") == 0 ||
				    strcmp(name, "alerts.resolved") == 0)) {
					snprintf(num, sizeof(num), "%zu", name[7] == 'f' ?
					    d->sections[i].alerts.fired : d->sections[i].alerts.resolved);
					v = num;
				}
		if (v == NULL)
			v = lookup(d, r, pl, name);
		if (v == NULL) {
			set_note(sec, "unknown value {{ %s }}", name);
			buf_append(&b, open, (size_t)(close + 2 - open));
		} else {
			buf_puts(&b, v);
		}
		p = close + 2;
	}
	buf_puts(&b, p);
	sec->text = b.data ? b.data : xstrdup("");
}

/* ---- the document ------------------------------------------------------------------------ */

static int
kind_of(const char *key)
{
	return strncmp(key, "kpi.", 4) == 0 ? REPORT_KPI : strncmp(key, "graph.", 6) == 0 ?
	    REPORT_GRAPH : strncmp(key, "availability.", 13) == 0 ? REPORT_AVAILABILITY :
	    strncmp(key, "text.", 5) == 0 ? REPORT_TEXT : REPORT_ALERTS;
}

static struct report_section *
section_add(struct report_doc *d, int kind, const char *title)
{
	struct report_section *s;

	d->sections = xreallocarray(d->sections, d->nsections + 1, sizeof(*d->sections));
	s = &d->sections[d->nsections++];
	memset(s, 0, sizeof(*s));
	s->kind = (enum report_kind)kind;
	s->title = xstrdup(title);
	return s;
}

struct report_doc *
report_make(const struct report_env *env, const struct cfg_report *r, double at,
    const struct report_period *override, char *err, size_t errlen)
{
	struct report_doc *d = xcalloc(1, sizeof(*d));
	struct report_period p;
	struct tz *z = tz_load(r->timezone, err, errlen);
	struct mwin *w = NULL;
	size_t nw = 0;
	int *used = NULL;
	struct placed *pl = xcalloc(r->nitems ? r->nitems : 1, sizeof(*pl));
	double b[4];
	char a1[64], a2[64], stamp[32];

	if (z == NULL)
		goto fail;
	if (override != NULL)
		p = *override;
	else if (report_period_parse(r->period, &p, err, errlen) == -1)
		goto fail;
	if (report_period_bounds(&p, z, at, b) == -1) {
		snprintf(err, errlen, "the period cannot be placed in time zone %s",
		    r->timezone ? r->timezone : "(local)");
		goto fail;
	}
	d->name = xstrdup(r->name);
	d->title = xstrdup(r->title ? r->title : r->name);
	d->hostname = xstrdup(env->cfg->hostname ? env->cfg->hostname : "");
	d->timezone = xstrdup(r->timezone ? r->timezone : "local time");
	d->start = b[0];
	d->end = b[1];
	d->prev_start = b[2];
	d->prev_end = b[3];
	d->generated = util_now();
	fmt_local(a1, sizeof(a1), z, b[0], 1);
	fmt_local(a2, sizeof(a2), z, b[1], 1);
	snprintf(d->period_text, sizeof(d->period_text), "%s – %s (%s)", a1, a2, d->timezone);
	fmt_local(d->generated_text, sizeof(d->generated_text), z, d->generated, 1);
	fmt_stamp(stamp, sizeof(stamp), z, b[0]);
	d->base = xasprintf("%s-%s", r->name, stamp);

	nw = maintenance_windows(env->cfg, b[0], b[1], &w);
	used = xcalloc(nw ? nw : 1, sizeof(*used));
	for (size_t i = 0; i < r->nitems; i++) {
		const struct cfg_kv *it = &r->items[i];
		int kind = kind_of(it->key);
		struct report_section *sec = d->nsections ? &d->sections[d->nsections - 1] : NULL;
		char *title;

		/* consecutive kpi (availability) items share one table */
		if (sec == NULL || (int)sec->kind != kind || (kind != REPORT_KPI &&
		    kind != REPORT_AVAILABILITY)) {
			if (sec != NULL && sec->kind == REPORT_AVAILABILITY)
				avail_windows(z, w, nw, used, sec);
			if (sec != NULL && sec->kind == REPORT_AVAILABILITY)
				memset(used, 0, (nw ? nw : 1) * sizeof(*used));
			title = kind == REPORT_KPI ? xstrdup(option(r, "title", it) ? option(r,
			    "title", it) : "Key figures") : kind == REPORT_AVAILABILITY ?
			    xstrdup("Availability") : kind == REPORT_ALERTS ?
			    xstrdup(option(r, "title", it) ? option(r, "title", it) : "Alerts") :
			    item_title(r, it);
			sec = section_add(d, kind, title);
			free(title);
		}
		pl[i].sec = d->nsections - 1;
		pl[i].first = kind == REPORT_KPI ? sec->nkpis : sec->navail;
		if (kind == REPORT_KPI)
			kpi_rows(env, r, it, b, sec);
		else if (kind == REPORT_AVAILABILITY)
			avail_rows(env, r, it, b, w, nw, used, sec);
		else if (kind == REPORT_GRAPH)
			graph_section(env, r, it, b, d->base, i + 1, sec);
		else if (kind == REPORT_ALERTS)
			alerts_summary(env, z, b, sec);
		pl[i].n = (kind == REPORT_KPI ? sec->nkpis : kind == REPORT_AVAILABILITY ?
		    sec->navail : 1) - pl[i].first;
	}
	if (d->nsections > 0 && d->sections[d->nsections - 1].kind == REPORT_AVAILABILITY)
		avail_windows(z, w, nw, used, &d->sections[d->nsections - 1]);
	/* text last: it may name values of any other section */
	for (size_t i = 0; i < r->nitems; i++)
		if (kind_of(r->items[i].key) == REPORT_TEXT)
			text_section(d, r, pl, r->items[i].value, &d->sections[pl[i].sec]);
	windows_free(w, nw);
	free(used);
	free(pl);
	tz_free(z);
	return d;
fail:
	windows_free(w, nw);
	free(used);
	free(pl);
	tz_free(z);
	report_doc_free(d);
	return NULL;
}
