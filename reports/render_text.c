/* render_text.c: a report as plain text, the alternative part of its mail: aligned columns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Spaces between two columns. */
#define TEXT_GAP 2

/*
 * A table being filled: every cell a copy (control characters made spaces, so a name with a
 * line break stays on its row), the widths computed when it is written.
 */
struct table {
	size_t ncols;
	const char *const *head;  /* NULL: no header row */
	const int *right;         /* per column: 1 right-aligned (numbers) */
	size_t indent;            /* spaces before every row */
	char **cell;              /* nrows * ncols */
	size_t nrows;
};

/* A copy of s (NULL: "") with control characters made spaces. */
static char *
cell_dup(const char *s)
{
	char *c = xstrdup(s ? s : "");

	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = ' ';
	return c;
}

/* Adds a row of t->ncols cells (copied). */
static void
table_add(struct table *t, const char *const *row)
{
	t->cell = xreallocarray(t->cell, (t->nrows + 1) * t->ncols, sizeof(*t->cell));
	for (size_t i = 0; i < t->ncols; i++)
		t->cell[t->nrows * t->ncols + i] = cell_dup(row[i]);
	t->nrows++;
}

/* Appends n spaces. */
static void
put_spaces(struct buf *b, size_t n)
{
	while (n-- > 0)
		buf_putc(b, ' ');
}

/*
 * Appends one row: each cell padded to its column's width by display width (util_utf8_width),
 * so "München" lines up with "Munchen"; the last column is not padded on the right.
 */
static void
put_row(struct buf *b, const struct table *t, const char *const *row, const size_t *width)
{
	put_spaces(b, t->indent);
	for (size_t i = 0; i < t->ncols; i++) {
		size_t pad = width[i] - util_utf8_width(row[i]);

		if (i > 0)
			put_spaces(b, TEXT_GAP);
		if (t->right[i])
			put_spaces(b, pad);
		buf_puts(b, row[i]);
		if (!t->right[i] && i + 1 < t->ncols)
			put_spaces(b, pad);
	}
	buf_putc(b, '\n');
}

/* Appends the table (header row, then the rows) and frees its cells. */
static void
table_put(struct buf *b, struct table *t)
{
	size_t *width = xcalloc(t->ncols, sizeof(*width));

	for (size_t i = 0; i < t->ncols; i++) {
		if (t->head)
			width[i] = util_utf8_width(t->head[i]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = util_utf8_width(t->cell[r * t->ncols + i]);

			if (w > width[i])
				width[i] = w;
		}
	}
	if (t->head)
		put_row(b, t, t->head, width);
	for (size_t r = 0; r < t->nrows; r++)
		put_row(b, t, (const char *const *)&t->cell[r * t->ncols], width);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->nrows = 0;
	free(width);
}

/* Appends text and a line of c as wide as it under it. */
static void
put_heading(struct buf *b, const char *text, char c)
{
	char *h = cell_dup(text);
	size_t w = util_utf8_width(h);

	buf_printf(b, "%s\n", h);
	while (w-- > 0)
		buf_putc(b, c);
	buf_putc(b, '\n');
	free(h);
}

/* Appends s (NULL: nothing) with CRs dropped and a final line break. */
static void
put_paragraph(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		if (*s != '\r')
			buf_putc(b, *s);
	buf_putc(b, '\n');
}

/* ---- sections ---------------------------------------------------------------------------- */

static void
put_kpis(struct buf *b, const struct report_section *s)
{
	static const char *const head[] = {
		"Name", "Unit", "Last", "Min", "Avg", "Max", "P95", "Change",
	};
	static const int right[] = { 0, 0, 1, 1, 1, 1, 1, 1 };
	struct table t = { 8, head, right, 0, NULL, 0 };

	if (s->nkpis == 0)
		return;
	for (size_t i = 0; i < s->nkpis; i++) {
		const struct report_kpi_row *r = &s->kpis[i];
		const char *row[] = {
			r->name, r->unit, r->stat[REPORT_LAST].text, r->stat[REPORT_MIN].text,
			r->stat[REPORT_AVG].text, r->stat[REPORT_MAX].text, r->stat[REPORT_P95].text,
			r->change.text,
		};

		table_add(&t, row);
	}
	table_put(b, &t);
}

static void
put_graph(struct buf *b, const struct report_graph *g)
{
	char *title = cell_dup(g->title);

	if (g->png)
		buf_printf(b, "[graph: %s, see the HTML part or the PDF]\n", title);
	else
		buf_printf(b, "[graph: %s, not available: %s]\n", title, g->error ? g->error : "no image");
	free(title);
}

static void
put_windows(struct buf *b, const struct report_section *s)
{
	static const int right[] = { 0, 0 };
	struct table t = { 2, NULL, right, 2, NULL, 0 };

	if (s->nwindows == 0)
		return;
	buf_puts(b, "\nMaintenance windows:\n");
	for (size_t i = 0; i < s->nwindows; i++) {
		const struct report_window *w = &s->windows[i];
		char *what = w->comment && w->comment[0] ?
		    xasprintf("%s: %s", w->name ? w->name : "", w->comment) : xstrdup(w->name ? w->name : "");
		const char *row[] = { w->text, what };

		table_add(&t, row);
		free(what);
	}
	table_put(b, &t);
}

static void
put_availability(struct buf *b, const struct report_section *s)
{
	static const char *const head[] = {
		"Target", "Objective", "Up", "Downtime", "Maintenance", "No data", "Objective met",
	};
	static const int right[] = { 0, 1, 1, 1, 1, 1, 0 };
	struct table t = { 7, head, right, 0, NULL, 0 };

	for (size_t i = 0; i < s->navail; i++) {
		const struct report_avail_row *r = &s->avail[i];
		const char *row[] = {
			r->target, r->objective.text, r->up.text, r->downtime.text,
			r->maintenance.text, r->nodata.text, r->met ? "yes" : "NO",
		};

		table_add(&t, row);
	}
	if (t.nrows > 0)
		table_put(b, &t);
	put_windows(b, s);
}

/* A table of counts (severities or rules): name, fired, firing time. */
static void
put_counts(struct buf *b, const char *heading, const char *what, const struct report_count *c,
    size_t n)
{
	const char *head[] = { what, "Fired", "Firing time" };
	static const int right[] = { 0, 1, 1 };
	struct table t = { 3, head, right, 0, NULL, 0 };

	if (n == 0)
		return;
	buf_printf(b, "\n%s:\n", heading);
	for (size_t i = 0; i < n; i++) {
		char num[32];
		const char *row[] = { c[i].name, num, c[i].text };

		snprintf(num, sizeof(num), "%zu", c[i].n);
		table_add(&t, row);
	}
	table_put(b, &t);
}

static void
put_incidents(struct buf *b, const struct report_incident *inc, size_t n)
{
	static const char *const head[] = { "Rule", "Instance", "Severity", "Started", "Duration" };
	static const int right[] = { 0, 0, 0, 1, 1 };
	struct table t = { 5, head, right, 0, NULL, 0 };

	if (n == 0)
		return;
	buf_puts(b, "\nLongest incidents:\n");
	for (size_t i = 0; i < n; i++) {
		const char *row[] = {
			inc[i].rule, inc[i].labels, inc[i].severity, inc[i].when, inc[i].duration,
		};

		table_add(&t, row);
	}
	table_put(b, &t);
}

static void
put_alerts(struct buf *b, const struct report_alerts *a)
{
	static const int right[] = { 0, 1 };
	struct table t = { 2, NULL, right, 0, NULL, 0 };
	char fired[32], resolved[32];
	const char *rows[][2] = {
		{ "Fired:", fired }, { "Resolved:", resolved },
		{ "Total firing time:", a->firing_text }, { "Mean time to resolve:", a->mttr_text },
	};

	snprintf(fired, sizeof(fired), "%zu", a->fired);
	snprintf(resolved, sizeof(resolved), "%zu", a->resolved);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		table_add(&t, rows[i]);
	table_put(b, &t);
	put_counts(b, "By severity", "Severity", a->severities, a->nseverities);
	put_counts(b, "Noisiest rules", "Rule", a->noisiest, a->nnoisiest);
	put_incidents(b, a->longest, a->nlongest);
}

/* One section: its heading, its content, its note. Returns -1 with err for a bad section. */
static int
put_section(struct buf *b, const struct report_section *s, char *err, size_t errlen)
{
	buf_putc(b, '\n');
	put_heading(b, s->title, '-');
	switch (s->kind) {
	case REPORT_KPI:
		put_kpis(b, s);
		break;
	case REPORT_GRAPH:
		put_graph(b, &s->graph);
		break;
	case REPORT_AVAILABILITY:
		put_availability(b, s);
		break;
	case REPORT_ALERTS:
		put_alerts(b, &s->alerts);
		break;
	case REPORT_TEXT:
		put_paragraph(b, s->text);
		break;
	default:
		snprintf(err, errlen, "section \"%s\": unknown kind %d", s->title ? s->title : "",
		    (int)s->kind);
		return -1;
	}
	if (s->note && s->note[0]) {
		buf_puts(b, "Note: ");
		put_paragraph(b, s->note);
	}
	return 0;
}

/*
 * Appends the report as plain UTF-8 text: the title and period, every section with its
 * heading underlined, tables in aligned columns, graphs named. Returns 0, or -1 with a
 * message in err (a section of an unknown kind) and out as it was.
 */
int
render_text(const struct report_doc *d, struct buf *out, char *err, size_t errlen)
{
	size_t mark = out->len;

	put_heading(out, d->title, '=');
	buf_printf(out, "%s\n", d->period_text);
	for (size_t i = 0; i < d->nsections; i++) {
		if (put_section(out, &d->sections[i], err, errlen) == -1) {
			buf_truncate(out, mark);
			return -1;
		}
	}
	buf_printf(out, "\n-- \nGenerated by reeve on %s at %s\n", d->hostname ? d->hostname : "?",
	    d->generated_text);
	return 0;
}
