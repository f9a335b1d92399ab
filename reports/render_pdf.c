/* render_pdf.c: a report as a PDF (cairo, pango): title page, tables, vector graphs, page numbers. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <poppler.h>

#include "log.h"
#include "report.h"
#include "util.h"

/*
 * The page is A4 portrait in points. The body (everything but the footer) lies between
 * MARGIN_TOP and BODY_BOTTOM; the footer lies below FOOTER_TOP, where nothing else goes.
 */
#define PAGE_W 595.0
#define PAGE_H 842.0
#define MARGIN_X 56.0
#define MARGIN_TOP 56.0
#define BODY_BOTTOM (PAGE_H - 72.0)
#define FOOTER_TOP (PAGE_H - 52.0)
#define TEXT_W (PAGE_W - 2 * MARGIN_X)
#define BODY_H (BODY_BOTTOM - MARGIN_TOP)

#define FONT "DejaVu Sans"
#define SIZE_TITLE 24.0
#define SIZE_H1 15.0
#define SIZE_H2 11.0
#define SIZE_TEXT 10.0
#define SIZE_TABLE 8.0
#define SIZE_FOOTER 8.0
#define CELL_PAD 3.0
/* A table cell or a heading shows at most this many lines, then "…": a row is never
 * taller than a page. Paragraphs have no limit: they flow on over pages. */
#define CELL_LINES 6
#define HEAD_LINES 3
#define TABLE_MAX_COLS 8

/* Text styles, or'ed. */
#define F_BOLD 1
#define F_ITALIC 2

struct rgb {
	double r, g, b;
};

static const struct rgb black = { 0, 0, 0 };
static const struct rgb grey = { 0.42, 0.42, 0.42 };
static const struct rgb rule_grey = { 0.75, 0.75, 0.75 };
static const struct rgb head_bg = { 0.87, 0.89, 0.93 };
static const struct rgb group_bg = { 0.93, 0.94, 0.96 };
static const struct rgb stripe_bg = { 0.965, 0.965, 0.965 };
static const struct rgb amber_bg = { 1.0, 0.83, 0.42 };
static const struct rgb red_bg = { 0.95, 0.55, 0.52 };
static const struct rgb green = { 0.10, 0.50, 0.18 };
static const struct rgb red = { 0.76, 0.11, 0.09 };
static const struct rgb box_bg = { 0.92, 0.92, 0.92 };

/* One pass over the document: the first one lays out, the second one draws for keeps. */
struct pdf {
	const struct report_doc *d;
	cairo_t *cr;
	PangoContext *pc;   /* this pass's, on cr: nothing of pango is shared between calls */
	int final;          /* the second pass: its bytes are kept, its warnings logged */
	int npages;         /* the number of pages: known in the second pass, 0 in the first */
	const int *toc;     /* the first pass's first page of each section; NULL in it */
	int *starts;        /* filled in: the page each section begins on */
	int page;           /* the page being drawn, from 1 */
	double y;           /* the top of the next block on the page */
};

/* A column of a table. */
struct column {
	const char *head;
	double width;       /* points; a table's columns add up to at most TEXT_W */
	int right;          /* right-aligned (numbers) */
};

/* A cell of a row; strings are borrowed. */
struct cell {
	const char *text;
	const struct rgb *bg;  /* NULL: the row's (stripes) */
	const struct rgb *fg;  /* NULL: black */
	int style;
};

struct table {
	const struct column *cols;
	size_t ncols;
	size_t nrows;       /* body rows drawn so far: every other one is striped */
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char *
or_else(const char *s, const char *fallback)
{
	return s && *s ? s : fallback;
}

static const char *
doc_title(const struct report_doc *d)
{
	return or_else(d->title, or_else(d->name, "Report"));
}

/* ---- text ------------------------------------------------------------------------------ */

/*
 * A layout of text in FONT at size points (absolute: the PDF's unit is the point), wrapped
 * at width points between words, or anywhere in a word too long for a line. The caller
 * frees it with g_object_unref.
 */
static PangoLayout *
layout_new(struct pdf *p, const char *text, double size, int style, double width)
{
	PangoLayout *l = pango_layout_new(p->pc);
	PangoFontDescription *fd = pango_font_description_from_string(FONT);

	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	if (style & F_BOLD)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	if (style & F_ITALIC)
		pango_font_description_set_style(fd, PANGO_STYLE_ITALIC);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(l, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(l, text ? text : "", -1);
	return l;
}

/* At most n lines (line breaks in the text included), the last one ending in "…". */
static void
limit_lines(PangoLayout *l, int n)
{
	pango_layout_set_single_paragraph_mode(l, TRUE);
	pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
	pango_layout_set_height(l, -n);
}

static double
layout_height(PangoLayout *l)
{
	int w, h;

	pango_layout_get_size(l, &w, &h);
	return (double)h / PANGO_SCALE;
}

static double
layout_width(PangoLayout *l)
{
	int w, h;

	pango_layout_get_size(l, &w, &h);
	return (double)w / PANGO_SCALE;
}

static void
set_color(struct pdf *p, const struct rgb *c)
{
	cairo_set_source_rgb(p->cr, c->r, c->g, c->b);
}

/* Draws l with its top left corner at x, y. */
static void
show_layout(struct pdf *p, PangoLayout *l, double x, double y, const struct rgb *c)
{
	set_color(p, c);
	cairo_move_to(p->cr, x, y);
	pango_cairo_show_layout(p->cr, l);
}

static void
fill_rect(struct pdf *p, double x, double y, double w, double h, const struct rgb *c)
{
	set_color(p, c);
	cairo_rectangle(p->cr, x, y, w, h);
	cairo_fill(p->cr);
}

static void
hline(struct pdf *p, double x0, double x1, double y, double width, const struct rgb *c)
{
	set_color(p, c);
	cairo_set_line_width(p->cr, width);
	cairo_move_to(p->cr, x0, y);
	cairo_line_to(p->cr, x1, y);
	cairo_stroke(p->cr);
}

/* ---- pages ----------------------------------------------------------------------------- */

/* The footer: a rule, the report's title on the left, "Page N of M" on the right. */
static void
footer(struct pdf *p)
{
	char num[64];
	PangoLayout *n, *t;
	double nw;

	if (p->npages > 0)
		snprintf(num, sizeof(num), "Page %d of %d", p->page, p->npages);
	else
		snprintf(num, sizeof(num), "Page %d", p->page);
	hline(p, MARGIN_X, PAGE_W - MARGIN_X, FOOTER_TOP, 0.5, &rule_grey);
	n = layout_new(p, num, SIZE_FOOTER, 0, TEXT_W);
	limit_lines(n, 1);
	nw = layout_width(n);
	show_layout(p, n, PAGE_W - MARGIN_X - nw, FOOTER_TOP + 6, &grey);
	/* the title takes the rest of the line, shortened with "…" when it is longer */
	t = layout_new(p, doc_title(p->d), SIZE_FOOTER, 0, TEXT_W - nw - 24);
	limit_lines(t, 1);
	show_layout(p, t, MARGIN_X, FOOTER_TOP + 6, &grey);
	g_object_unref(t);
	g_object_unref(n);
}

static void
page_begin(struct pdf *p)
{
	p->page++;
	p->y = MARGIN_TOP;
}

static void
page_break(struct pdf *p)
{
	footer(p);
	cairo_show_page(p->cr);
	page_begin(p);
}

/*
 * Makes room for h points of body: a new page when they do not fit below p->y. On a page
 * still empty nothing changes (callers keep their blocks shorter than the body).
 */
static void
need(struct pdf *p, double h)
{
	if (p->y + h > BODY_BOTTOM && p->y > MARGIN_TOP)
		page_break(p);
}

/*
 * Draws l at the left margin plus indent, line by line, going on on the next page where
 * a line does not fit, and moves p->y below it.
 */
static void
flow(struct pdf *p, PangoLayout *l, double indent, const struct rgb *c)
{
	PangoLayoutIter *it = pango_layout_get_iter(l);
	double origin = p->y;   /* the page's y of the layout's top */

	set_color(p, c);
	do {
		PangoRectangle r;
		double top, h;

		pango_layout_iter_get_line_extents(it, NULL, &r);
		top = (double)r.y / PANGO_SCALE;
		h = (double)r.height / PANGO_SCALE;
		if (origin + top + h > BODY_BOTTOM && origin + top > MARGIN_TOP) {
			page_break(p);
			origin = MARGIN_TOP - top;
			set_color(p, c);
		}
		cairo_move_to(p->cr, MARGIN_X + indent + (double)r.x / PANGO_SCALE,
		    origin + (double)pango_layout_iter_get_baseline(it) / PANGO_SCALE);
		pango_cairo_show_layout_line(p->cr, pango_layout_iter_get_line_readonly(it));
	} while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	p->y = origin + layout_height(l);
}

/* A paragraph of text across the text width (indented by indent), then space after it. */
static void
paragraph(struct pdf *p, const char *text, double size, int style, double indent,
    const struct rgb *c, double after)
{
	PangoLayout *l = layout_new(p, text, size, style, TEXT_W - indent);

	flow(p, l, indent, c);
	g_object_unref(l);
	p->y += after;
}

/*
 * A heading, with space before it (not at the top of a page) and kept on one page with
 * the keep points that follow it, so that it does not stand alone at the bottom.
 */
static void
heading(struct pdf *p, const char *text, double size, double before, double keep)
{
	PangoLayout *l = layout_new(p, text, size, F_BOLD, TEXT_W);
	double h;

	limit_lines(l, HEAD_LINES);
	h = layout_height(l);
	if (p->y > MARGIN_TOP)
		p->y += before;
	need(p, h + keep);
	show_layout(p, l, MARGIN_X, p->y, &black);
	p->y += h + size * 0.4;
	g_object_unref(l);
}

/* ---- tables ---------------------------------------------------------------------------- */

static double
table_width(const struct table *t)
{
	double w = 0;

	for (size_t i = 0; i < t->ncols; i++)
		w += t->cols[i].width;
	return w;
}

static void table_header(struct pdf *p, struct table *t);

/*
 * Draws a row at p->y and moves below it: the header (head), one cell across the whole
 * table (span: a group's name), or a cell per column. A body row that does not fit goes
 * to the next page, under the header drawn again there.
 */
static void
table_line(struct pdf *p, struct table *t, const struct cell *cells, int head, int span)
{
	PangoLayout *l[TABLE_MAX_COLS];
	size_t n = span ? 1 : t->ncols;
	double h = 0, x = MARGIN_X, tw = table_width(t);

	for (size_t i = 0; i < n; i++) {
		double w = span ? tw : t->cols[i].width;

		l[i] = layout_new(p, cells[i].text, SIZE_TABLE, cells[i].style, w - 2 * CELL_PAD);
		limit_lines(l[i], CELL_LINES);
		if (!span && t->cols[i].right)
			pango_layout_set_alignment(l[i], PANGO_ALIGN_RIGHT);
		if (layout_height(l[i]) > h)
			h = layout_height(l[i]);
	}
	h += 2 * CELL_PAD;
	if (!head && p->y + h > BODY_BOTTOM) {
		page_break(p);
		table_header(p, t);
	}
	for (size_t i = 0; i < n; i++) {
		double w = span ? tw : t->cols[i].width;
		const struct rgb *bg = cells[i].bg;

		if (bg == NULL)
			bg = head ? &head_bg : span ? &group_bg : t->nrows % 2 ? &stripe_bg : NULL;
		if (bg)
			fill_rect(p, x, p->y, w, h, bg);
		show_layout(p, l[i], x + CELL_PAD, p->y + CELL_PAD, cells[i].fg ? cells[i].fg : &black);
		x += w;
		g_object_unref(l[i]);
	}
	hline(p, MARGIN_X, MARGIN_X + tw, p->y + h, head ? 0.8 : 0.3, head ? &grey : &rule_grey);
	p->y += h;
	if (!head)
		t->nrows++;
}

/* The header row: the columns' names in bold. */
static void
table_header(struct pdf *p, struct table *t)
{
	struct cell c[TABLE_MAX_COLS];

	for (size_t i = 0; i < t->ncols; i++)
		c[i] = (struct cell){ t->cols[i].head, NULL, NULL, F_BOLD };
	table_line(p, t, c, 1, 0);
}

/* Starts a table: its header, on the next page unless it and a row or two fit here. */
static void
table_begin(struct pdf *p, struct table *t, const struct column *cols, size_t ncols)
{
	assert(ncols > 0 && ncols <= TABLE_MAX_COLS);
	t->cols = cols;
	t->ncols = ncols;
	t->nrows = 0;
	need(p, 4 * (SIZE_TABLE * 1.25 + 2 * CELL_PAD));
	table_header(p, t);
}

static void
table_row(struct pdf *p, struct table *t, const struct cell *cells)
{
	table_line(p, t, cells, 0, 0);
}

/* A row across the table naming the group of the rows below it. */
static void
table_group(struct pdf *p, struct table *t, const char *text)
{
	struct cell c = { text, NULL, NULL, F_BOLD };

	table_line(p, t, &c, 0, 1);
}

/* Space after a table. */
static void
table_end(struct pdf *p)
{
	p->y += 10;
}

/* ---- sections -------------------------------------------------------------------------- */

/* The background of a number by its level against its row's thresholds. */
static const struct rgb *
level_bg(enum report_level level)
{
	switch (level) {
	case REPORT_WARNING:
		return &amber_bg;
	case REPORT_CRITICAL:
		return &red_bg;
	case REPORT_OK:
		break;
	}
	return NULL;
}

/* A change against the previous period: green up, red down, grey flat or unknown. */
static const struct rgb *
change_color(const struct report_kpi_row *r)
{
	if (isnan(r->change.v) || r->direction == 0)
		return &grey;
	return r->direction > 0 ? &green : &red;
}

static const struct column kpi_cols[] = {
	{ "Name", 123, 0 }, { "Last", 60, 1 }, { "Min", 60, 1 }, { "Avg", 60, 1 },
	{ "Max", 60, 1 }, { "p95", 60, 1 }, { "Change", 60, 1 },
};

static void
section_kpi(struct pdf *p, const struct report_section *s)
{
	struct table t;

	if (s->nkpis == 0)
		return;
	table_begin(p, &t, kpi_cols, NCOLS(kpi_cols));
	for (size_t i = 0; i < s->nkpis; i++) {
		const struct report_kpi_row *r = &s->kpis[i];
		struct cell c[NCOLS(kpi_cols)];

		c[0] = (struct cell){ r->name, NULL, NULL, 0 };
		for (int k = 0; k < REPORT_NSTATS; k++)
			c[1 + k] = (struct cell){ r->stat[k].text, level_bg(r->stat[k].level), NULL, 0 };
		c[6] = (struct cell){ r->change.text, level_bg(r->change.level), change_color(r), 0 };
		table_row(p, &t, c);
	}
	table_end(p);
}

static const struct column avail_cols[] = {
	{ "Target", 143, 0 }, { "Objective", 62, 1 }, { "Up", 62, 1 }, { "Downtime", 72, 1 },
	{ "Maintenance", 78, 1 }, { "No data", 66, 1 },
};

/* Whether the rows come from more than one availability.NAME: then each group is named. */
static int
avail_grouped(const struct report_section *s)
{
	for (size_t i = 1; i < s->navail; i++)
		if (strcmp(or_else(s->avail[i].section, ""), or_else(s->avail[0].section, "")) != 0)
			return 1;
	return 0;
}

/* The maintenance windows that overlapped the period, listed under the table. */
static void
avail_windows(struct pdf *p, const struct report_section *s)
{
	if (s->nwindows == 0)
		return;
	heading(p, "Maintenance windows", SIZE_H2, 4, 20);
	for (size_t i = 0; i < s->nwindows; i++) {
		const struct report_window *w = &s->windows[i];
		char *line;

		if (w->comment && *w->comment)
			line = xasprintf("• %s: %s (%s)", or_else(w->name, "?"), w->text, w->comment);
		else
			line = xasprintf("• %s: %s", or_else(w->name, "?"), w->text);
		paragraph(p, line, SIZE_TEXT - 1, 0, 8, &black, 2);
		free(line);
	}
	p->y += 6;
}

static void
section_avail(struct pdf *p, const struct report_section *s)
{
	int grouped = avail_grouped(s);
	struct table t;

	if (s->navail > 0) {
		table_begin(p, &t, avail_cols, NCOLS(avail_cols));
		for (size_t i = 0; i < s->navail; i++) {
			const struct report_avail_row *r = &s->avail[i];
			const struct rgb *up = isnan(r->up.v) ? &grey : r->met ? &green : &red;
			struct cell c[NCOLS(avail_cols)] = {
				{ or_else(r->target, "–"), NULL, NULL, 0 },
				{ r->objective.text, NULL, NULL, 0 },
				{ r->up.text, NULL, up, F_BOLD },
				{ r->downtime.text, NULL, NULL, 0 },
				{ r->maintenance.text, NULL, NULL, 0 },
				{ r->nodata.text, NULL, NULL, 0 },
			};

			if (grouped && (i == 0 || strcmp(or_else(r->section, ""),
			    or_else(s->avail[i - 1].section, "")) != 0))
				table_group(p, &t, or_else(r->section, "–"));
			table_row(p, &t, c);
		}
		table_end(p);
	}
	avail_windows(p, s);
}

static const struct column figure_cols[] = { { "Figure", 200, 0 }, { "Value", 120, 1 } };
static const struct column count_cols[] = {
	{ NULL, 240, 0 }, { "Fired", 80, 1 }, { "Time firing", 100, 1 },
};
static const struct column incident_cols[] = {
	{ "Rule", 110, 0 }, { "Labels", 143, 0 }, { "Severity", 60, 0 }, { "Started", 100, 0 },
	{ "Duration", 70, 1 },
};

/* A table of counts (by severity, noisiest rules) under a small heading. */
static void
alert_counts(struct pdf *p, const char *title, const char *what, const struct report_count *c,
    size_t n)
{
	struct column cols[NCOLS(count_cols)];
	struct table t;

	heading(p, title, SIZE_H2, 6, 40);
	if (n == 0) {
		paragraph(p, "None in this period.", SIZE_TEXT - 1, F_ITALIC, 0, &grey, 6);
		return;
	}
	memcpy(cols, count_cols, sizeof(cols));
	cols[0].head = what;
	table_begin(p, &t, cols, NCOLS(cols));
	for (size_t i = 0; i < n; i++) {
		char fired[32];

		snprintf(fired, sizeof(fired), "%zu", c[i].n);
		table_row(p, &t, (struct cell[]){ { or_else(c[i].name, "–"), NULL, NULL, 0 },
		    { fired, NULL, NULL, 0 }, { c[i].text, NULL, NULL, 0 } });
	}
	table_end(p);
}

static void
alert_incidents(struct pdf *p, const struct report_alerts *a)
{
	struct table t;

	heading(p, "Longest incidents", SIZE_H2, 6, 40);
	if (a->nlongest == 0) {
		paragraph(p, "None in this period.", SIZE_TEXT - 1, F_ITALIC, 0, &grey, 6);
		return;
	}
	table_begin(p, &t, incident_cols, NCOLS(incident_cols));
	for (size_t i = 0; i < a->nlongest; i++) {
		const struct report_incident *in = &a->longest[i];

		table_row(p, &t, (struct cell[]){ { or_else(in->rule, "–"), NULL, NULL, 0 },
		    { or_else(in->labels, "–"), NULL, NULL, 0 },
		    { or_else(in->severity, "–"), NULL, NULL, 0 }, { in->when, NULL, NULL, 0 },
		    { in->duration, NULL, NULL, 0 } });
	}
	table_end(p);
}

static void
section_alerts(struct pdf *p, const struct report_section *s)
{
	const struct report_alerts *a = &s->alerts;
	char fired[32], resolved[32];
	struct table t;

	snprintf(fired, sizeof(fired), "%zu", a->fired);
	snprintf(resolved, sizeof(resolved), "%zu", a->resolved);
	table_begin(p, &t, figure_cols, NCOLS(figure_cols));
	table_row(p, &t, (struct cell[]){ { "Alerts fired", NULL, NULL, 0 }, { fired, NULL, NULL, 0 } });
	table_row(p, &t, (struct cell[]){ { "Resolved in the period", NULL, NULL, 0 },
	    { resolved, NULL, NULL, 0 } });
	table_row(p, &t, (struct cell[]){ { "Time firing", NULL, NULL, 0 },
	    { a->firing_text, NULL, NULL, 0 } });
	table_row(p, &t, (struct cell[]){ { "Mean time to resolve", NULL, NULL, 0 },
	    { a->mttr_text, NULL, NULL, 0 } });
	table_end(p);
	alert_counts(p, "By severity", "Severity", a->severities, a->nseverities);
	alert_counts(p, "Noisiest rules", "Rule", a->noisiest, a->nnoisiest);
	alert_incidents(p, a);
}

/* ---- graphs ---------------------------------------------------------------------------- */

/*
 * Room for a picture w x h (in any unit) scaled to the text width, or smaller so that it
 * fits in the body: its top left corner and scale. Moves p->y below it.
 */
static void
place(struct pdf *p, double w, double h, double *x, double *y, double *scale)
{
	double s = TEXT_W / w;

	if (h * s > BODY_H)
		s = BODY_H / h;
	need(p, h * s);
	*x = MARGIN_X + (TEXT_W - w * s) / 2;
	*y = p->y;
	*scale = s;
	p->y += h * s + 8;
}

/*
 * Draws the graph's one-page PDF (rrd_graph's vectors: its text stays text) through
 * poppler. Returns 0, or -1 with why in err when poppler cannot read it (nothing drawn).
 */
static int
graph_vector(struct pdf *p, const struct report_graph *g, char *err, size_t errlen)
{
	GBytes *bytes = g_bytes_new_static(g->pdf, g->pdf_len);
	PopplerDocument *doc;
	PopplerPage *page = NULL;
	GError *gerr = NULL;
	double w = 0, h = 0, x, y, s;
	int rc = -1;

	doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	if (doc == NULL) {
		snprintf(err, errlen, "%s", gerr ? gerr->message : "unreadable");
		goto out;
	}
	if (poppler_document_get_n_pages(doc) < 1 || (page = poppler_document_get_page(doc, 0)) == NULL) {
		snprintf(err, errlen, "it has no page");
		goto out;
	}
	poppler_page_get_size(page, &w, &h);
	if (!(w >= 1 && h >= 1)) {
		snprintf(err, errlen, "its page is %g x %g", w, h);
		goto out;
	}
	place(p, w, h, &x, &y, &s);
	cairo_save(p->cr);
	cairo_translate(p->cr, x, y);
	cairo_scale(p->cr, s, s);
	cairo_rectangle(p->cr, 0, 0, w, h);
	cairo_clip(p->cr);
	/* the first pass only lays out: the graph's size is all it needs */
	if (p->final)
		poppler_page_render(page, p->cr);
	cairo_restore(p->cr);
	rc = 0;
out:
	if (page)
		g_object_unref(page);
	if (doc)
		g_object_unref(doc);
	if (gerr)
		g_error_free(gerr);
	g_bytes_unref(bytes);
	return rc;
}

/* Reads a PNG from memory for cairo. */
struct png_reader {
	const unsigned char *data;
	size_t len, off;
};

static cairo_status_t
png_read(void *closure, unsigned char *data, unsigned int len)
{
	struct png_reader *r = closure;

	if (len > r->len - r->off)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(data, r->data + r->off, len);
	r->off += len;
	return CAIRO_STATUS_SUCCESS;
}

/* Draws the graph's PNG. Returns 0, or -1 with why in err when cairo cannot decode it. */
static int
graph_raster(struct pdf *p, const struct report_graph *g, char *err, size_t errlen)
{
	struct png_reader r = { g->png, g->png_len, 0 };
	cairo_surface_t *img = cairo_image_surface_create_from_png_stream(png_read, &r);
	double w, h, x, y, s;

	if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "its PNG: %s", cairo_status_to_string(cairo_surface_status(img)));
		cairo_surface_destroy(img);
		return -1;
	}
	w = cairo_image_surface_get_width(img);
	h = cairo_image_surface_get_height(img);
	place(p, w, h, &x, &y, &s);
	cairo_save(p->cr);
	cairo_translate(p->cr, x, y);
	cairo_scale(p->cr, s, s);
	cairo_set_source_surface(p->cr, img, 0, 0);
	cairo_paint(p->cr);
	cairo_restore(p->cr);
	cairo_surface_destroy(img);
	return 0;
}

/* In place of a graph that could not be drawn: why, in a grey box. */
static void
graph_missing(struct pdf *p, const char *why)
{
	char *text = xasprintf("Graph not available: %s", why);
	PangoLayout *l = layout_new(p, text, SIZE_TEXT - 1, F_ITALIC, TEXT_W - 20);
	double h;

	limit_lines(l, 8);
	h = layout_height(l) + 20;
	need(p, h);
	fill_rect(p, MARGIN_X, p->y, TEXT_W, h, &box_bg);
	set_color(p, &rule_grey);
	cairo_set_line_width(p->cr, 0.5);
	cairo_rectangle(p->cr, MARGIN_X, p->y, TEXT_W, h);
	cairo_stroke(p->cr);
	show_layout(p, l, MARGIN_X + 10, p->y + 10, &grey);
	p->y += h + 8;
	g_object_unref(l);
	free(text);
}

/* The graph as vectors, else as the PNG, else why it is missing. */
static void
section_graph(struct pdf *p, const struct report_section *s)
{
	const struct report_graph *g = &s->graph;
	char why[256] = "";

	if (g->pdf && g->pdf_len > 0) {
		if (graph_vector(p, g, why, sizeof(why)) == 0)
			return;
		if (p->final)
			log_warnx("report %s: graph \"%s\": its PDF cannot be read (%s)%s",
			    or_else(p->d->name, "?"), or_else(s->title, "?"), why,
			    g->png ? ", drawn from its PNG" : "");
	}
	if (g->png && g->png_len > 0 && graph_raster(p, g, why, sizeof(why)) == 0)
		return;
	graph_missing(p, or_else(g->error, or_else(why, "no image")));
}

/* ---- the document ---------------------------------------------------------------------- */

/* The contents on the title page: each section's title and, known in the second pass, its page. */
static void
contents(struct pdf *p)
{
	heading(p, "Contents", SIZE_H1, 0, 40);
	for (size_t i = 0; i < p->d->nsections; i++) {
		char *entry = xasprintf("%zu. %s", i + 1, or_else(p->d->sections[i].title, "–"));
		char page[16] = "";
		PangoLayout *t = layout_new(p, entry, SIZE_TEXT, 0, TEXT_W - 50);
		PangoLayout *n;
		double h;

		limit_lines(t, 2);
		if (p->toc)
			snprintf(page, sizeof(page), "%d", p->toc[i]);
		n = layout_new(p, page, SIZE_TEXT, 0, 40);
		pango_layout_set_alignment(n, PANGO_ALIGN_RIGHT);
		h = layout_height(t);
		need(p, h);
		show_layout(p, t, MARGIN_X, p->y, &black);
		show_layout(p, n, PAGE_W - MARGIN_X - 40, p->y, &black);
		p->y += h + 4;
		g_object_unref(n);
		g_object_unref(t);
		free(entry);
	}
}

/* Page 1: the title, the period, who made it when, the contents. */
static void
title_page(struct pdf *p)
{
	const struct report_doc *d = p->d;
	char *made = xasprintf("Generated by reeve on %s at %s", or_else(d->hostname, "?"),
	    or_else(d->generated_text, "?"));
	PangoLayout *l = layout_new(p, doc_title(d), SIZE_TITLE, F_BOLD, TEXT_W);

	limit_lines(l, 4);
	p->y = MARGIN_TOP + 140;
	show_layout(p, l, MARGIN_X, p->y, &black);
	p->y += layout_height(l) + 14;
	g_object_unref(l);
	hline(p, MARGIN_X, PAGE_W - MARGIN_X, p->y, 1.5, &head_bg);
	p->y += 14;
	paragraph(p, or_else(d->period_text, "–"), SIZE_H2 + 1, 0, 0, &black, 8);
	paragraph(p, made, SIZE_TEXT, 0, 0, &grey, 48);
	free(made);
	if (d->nsections > 0)
		contents(p);
}

/*
 * How much of a section must follow its heading on the same page: a graph whole (its
 * PNG's size gives its shape, which the vector PDF shares), else a few lines or rows.
 */
static double
section_keep(const struct report_section *s)
{
	const struct report_graph *g = &s->graph;

	if (s->kind == REPORT_GRAPH && (g->png || g->pdf) && g->width > 0 && g->height > 0)
		return fmin(TEXT_W * g->height / g->width, BODY_H - 40);
	return 60;
}

static void
section(struct pdf *p, size_t i)
{
	const struct report_section *s = &p->d->sections[i];

	heading(p, or_else(s->title, "–"), SIZE_H1, 20, section_keep(s));
	p->starts[i] = p->page;
	switch (s->kind) {
	case REPORT_KPI:
		section_kpi(p, s);
		break;
	case REPORT_AVAILABILITY:
		section_avail(p, s);
		break;
	case REPORT_ALERTS:
		section_alerts(p, s);
		break;
	case REPORT_TEXT:
		if (s->text)
			paragraph(p, s->text, SIZE_TEXT, 0, 0, &black, 8);
		break;
	case REPORT_GRAPH:
		section_graph(p, s);
		break;
	}
	if (s->note && *s->note)
		paragraph(p, s->note, SIZE_TEXT - 1, F_ITALIC, 0, &grey, 8);
}

/* cairo's writer: appends to the buf, or drops the bytes of the first pass (closure NULL). */
static cairo_status_t
pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	if (closure)
		buf_append(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

/* The PDF's Info dictionary: title, subject (the period), creator, date made. */
static void
metadata(cairo_surface_t *surface, const struct report_doc *d)
{
	struct tm tm;
	time_t t;
	char date[32];

	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, doc_title(d));
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "reeve");
	if (d->period_text[0])
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, d->period_text);
	if (!(d->generated > 0 && d->generated < 253402300800.0))   /* NaN, or past year 9999 */
		return;
	t = (time_t)d->generated;
	if (gmtime_r(&t, &tm) && strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, date);
}

/*
 * One pass: the whole document onto a new PDF surface writing to sink (NULL: nowhere).
 * Sets p->page to the number of pages. Returns 0, or -1 with a message in err.
 */
static int
render_pass(struct pdf *p, struct buf *sink, char *err, size_t errlen)
{
	cairo_surface_t *surface = cairo_pdf_surface_create_for_stream(pdf_write, sink, PAGE_W, PAGE_H);
	cairo_status_t st;

	metadata(surface, p->d);
	p->cr = cairo_create(surface);
	p->pc = pango_cairo_create_context(p->cr);
	p->page = 0;
	page_begin(p);
	title_page(p);
	if (p->d->nsections > 0)
		page_break(p);
	for (size_t i = 0; i < p->d->nsections; i++)
		section(p, i);
	footer(p);
	cairo_show_page(p->cr);
	st = cairo_status(p->cr);
	g_object_unref(p->pc);
	cairo_destroy(p->cr);
	p->cr = NULL;
	p->pc = NULL;
	cairo_surface_finish(surface);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "cairo: %s", cairo_status_to_string(st));
		return -1;
	}
	return 0;
}

int
render_pdf(const struct report_doc *d, struct buf *out, char *err, size_t errlen)
{
	size_t n = d->nsections ? d->nsections : 1;
	int *first = xcalloc(n, sizeof(int)), *second = xcalloc(n, sizeof(int));
	struct pdf p1 = { .d = d, .starts = first };
	struct pdf p2 = { .d = d, .final = 1, .toc = first, .starts = second };
	struct buf pdf = { 0 };
	int rc = -1;

	/* lay out once to learn the number of pages and where the sections begin, then draw */
	if (render_pass(&p1, NULL, err, errlen) == -1)
		goto out;
	p2.npages = p1.page;
	if (render_pass(&p2, &pdf, err, errlen) == -1)
		goto out;
	if (p2.page != p1.page || memcmp(first, second, n * sizeof(int)) != 0) {
		snprintf(err, errlen, "the layout changed between passes (%d pages, then %d)",
		    p1.page, p2.page);
		goto out;
	}
	buf_append(out, pdf.data, pdf.len);
	rc = 0;
out:
	buf_free(&pdf);
	free(first);
	free(second);
	return rc;
}
