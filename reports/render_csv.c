/* render_csv.c: a report's KPI and availability tables as one CSV table (RFC 4180). */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

/*
 * The file starts with a UTF-8 byte order mark: without it Excel reads a CSV file in the
 * system's ANSI code page and shows "MÃ¼nchen"; with it, it takes UTF-8. Other readers
 * (Python's utf-8-sig, LibreOffice, pandas) skip it.
 */
#define CSV_BOM "\xEF\xBB\xBF"

static const char *const columns[] = {
	"table", "section", "name", "unit", "last", "min", "avg", "max", "p95", "previous_avg",
	"change_percent", "objective", "up_ratio", "downtime_seconds", "maintenance_seconds",
	"nodata_seconds", "objective_met",
};
#define CSV_NCOLS (sizeof(columns) / sizeof(columns[0]))

/* Appends one field (NULL: empty): quoted, its quotes doubled, if it holds , " CR or LF. */
static void
put_field(struct buf *b, const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/*
 * Writes v as "%.10g" into num (empty for NaN: no data). The calling thread's locale is C
 * (render_csv sets it), so the decimal point is '.' whatever the process's locale says.
 */
static const char *
fmt_number(char *num, size_t size, double v)
{
	if (isnan(v))
		num[0] = '\0';
	else
		snprintf(num, size, "%.10g", v);
	return num;
}

/* Appends a row of CSV_NCOLS fields (NULL: empty) and CRLF. */
static void
put_row(struct buf *b, const char *const *f)
{
	for (size_t i = 0; i < CSV_NCOLS; i++) {
		if (i > 0)
			buf_putc(b, ',');
		put_field(b, f[i]);
	}
	buf_puts(b, "\r\n");
}

static void
put_kpi(struct buf *b, const char *section, const struct report_kpi_row *r)
{
	char num[7][32];
	const char *f[CSV_NCOLS] = { "kpi", section, r->name, r->unit };

	for (int i = 0; i < REPORT_NSTATS; i++)
		f[4 + i] = fmt_number(num[i], sizeof(num[i]), r->stat[i].v);
	f[9] = fmt_number(num[5], sizeof(num[5]), r->prev);
	f[10] = fmt_number(num[6], sizeof(num[6]), r->change.v);
	put_row(b, f);
}

static void
put_avail(struct buf *b, const char *section, const struct report_avail_row *r)
{
	char num[5][32];
	const char *f[CSV_NCOLS] = { "availability", r->section ? r->section : section, r->target };

	f[11] = fmt_number(num[0], sizeof(num[0]), r->objective.v);
	f[12] = fmt_number(num[1], sizeof(num[1]), r->up.v);
	f[13] = fmt_number(num[2], sizeof(num[2]), r->downtime.v);
	f[14] = fmt_number(num[3], sizeof(num[3]), r->maintenance.v);
	f[15] = fmt_number(num[4], sizeof(num[4]), r->nodata.v);
	f[16] = r->met ? "yes" : "no";
	put_row(b, f);
}

/*
 * Appends the BOM, the header row and one row per KPI row (table "kpi", section the title of
 * its table) and per availability row (table "availability", section its availability.NAME
 * title, name the target), in the order of the sections; the columns that do not apply to a
 * row are empty. Numbers are the raw values (the v fields), "%.10g" with a '.' decimal point
 * whatever the locale, empty for NaN. Returns 0, or -1 with a message in err (no C locale to
 * format numbers in) and nothing appended.
 */
int
render_csv(const struct report_doc *d, struct buf *out, char *err, size_t errlen)
{
	locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t old;

	if (c == (locale_t)0) {
		snprintf(err, errlen, "newlocale C: %s", strerror(errno));
		return -1;
	}
	old = uselocale(c);
	buf_puts(out, CSV_BOM);
	put_row(out, columns);
	for (size_t i = 0; i < d->nsections; i++) {
		const struct report_section *s = &d->sections[i];

		for (size_t k = 0; s->kind == REPORT_KPI && k < s->nkpis; k++)
			put_kpi(out, s->title, &s->kpis[k]);
		for (size_t k = 0; s->kind == REPORT_AVAILABILITY && k < s->navail; k++)
			put_avail(out, s->title, &s->avail[k]);
	}
	uselocale(old);
	freelocale(c);
	return 0;
}
