/* test_render_pdf.c: reports/render_pdf.c: a document made by hand, rendered, read back with poppler. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poppler.h>

#include "graph.h"
#include "graph_fixture.h"
#include "report.h"
#include "util.h"

#define TITLE "Wochenbericht München – Größe"
#define NKPIS 80
/* where render_pdf.c's body ends and its footer begins (points from the top) */
#define BODY_BOTTOM 770.0
#define FOOTER_TOP 790.0

static struct graph_fixture fx;
/* the fixture's graph, drawn once */
static unsigned char *png, *pdf;
static size_t png_len, pdf_len;

static int
setup(void **state)
{
	char err[256];

	(void)state;
	graph_fixture_make(&fx);
	if (graph_render(&fx.spec, GRAPH_PNG, &png, &png_len, err, sizeof(err)) != 0 ||
	    graph_render(&fx.spec, GRAPH_PDF, &pdf, &pdf_len, err, sizeof(err)) != 0) {
		fprintf(stderr, "graph_render: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(png);
	free(pdf);
	graph_fixture_remove(&fx);
	return 0;
}

/* ---- building a document -------------------------------------------------------------- */

static struct report_cell
cell(double v, const char *text, enum report_level level)
{
	struct report_cell c = { v, "", level };

	snprintf(c.text, sizeof(c.text), "%s", text);
	return c;
}

static struct report_section *
add_section(struct report_doc *d, enum report_kind kind, const char *title)
{
	struct report_section *s;

	d->sections = xreallocarray(d->sections, d->nsections + 1, sizeof(*d->sections));
	s = &d->sections[d->nsections++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->title = xstrdup(title);
	return s;
}

/* NKPIS rows that span pages: some non-ASCII, some over their thresholds, every kind of change. */
static void
add_kpis(struct report_doc *d)
{
	struct report_section *s = add_section(d, REPORT_KPI, "Key figures");
	static const char *const changes[] = { "▲ 12.5%", "▼ 3.0%", "= 0.0%" };

	s->kpis = xcalloc(NKPIS, sizeof(*s->kpis));
	s->nkpis = NKPIS;
	for (int i = 0; i < NKPIS; i++) {
		struct report_kpi_row *r = &s->kpis[i];
		char text[40];

		if (i == 0)
			r->name = xstrdup("Bestellungen München");
		else if (i == 1)
			r->name = xstrdup("日本語 queue length");
		else
			r->name = xasprintf("Größe db-%02d {instance=\"db%02d.example.org:9100\"}", i, i);
		r->unit = xstrdup("seconds");
		for (int k = 0; k < REPORT_NSTATS; k++) {
			snprintf(text, sizeof(text), "%d.%d ms", 10 * (k + 1) + i, k);
			r->stat[k] = cell(10 * (k + 1) + i, text, REPORT_OK);
		}
		if (i == 0)
			r->stat[REPORT_AVG] = cell(4711.5, "4711.5 req/s", REPORT_OK);
		if (i % 7 == 3)
			r->stat[REPORT_MAX].level = REPORT_WARNING;
		if (i % 11 == 5)
			r->stat[REPORT_P95].level = REPORT_CRITICAL;
		r->prev = 1;
		r->direction = i % 4 == 3 ? 0 : i % 3 == 0 ? 1 : i % 3 == 1 ? -1 : 0;
		r->change = i % 4 == 3 ? cell(NAN, "–", REPORT_OK) : cell(1, changes[i % 3], REPORT_OK);
	}
	s->kpis[0].prev = NAN;
}

static void
add_availability(struct report_doc *d)
{
	struct report_section *s = add_section(d, REPORT_AVAILABILITY, "Availability");
	static const struct { const char *section, *target; double up; int met; } rows[] = {
		{ "Web shop", "instance=web1", 0.9995, 1 },
		{ "Web shop", "instance=web2", 0.9871, 0 },
		{ "API", "instance=api1", NAN, 0 },
	};

	s->navail = sizeof(rows) / sizeof(rows[0]);
	s->avail = xcalloc(s->navail, sizeof(*s->avail));
	for (size_t i = 0; i < s->navail; i++) {
		struct report_avail_row *r = &s->avail[i];
		char up[40];

		r->section = xstrdup(rows[i].section);
		r->target = xstrdup(rows[i].target);
		r->objective = cell(0.999, "99.9%", REPORT_OK);
		snprintf(up, sizeof(up), isnan(rows[i].up) ? "–" : "%.2f%%", rows[i].up * 100);
		r->up = cell(rows[i].up, up, rows[i].met ? REPORT_OK : REPORT_CRITICAL);
		r->downtime = cell(780, "13 min", REPORT_OK);
		r->maintenance = cell(7200, "2 h", REPORT_OK);
		r->nodata = cell(0, "0 s", REPORT_OK);
		r->met = rows[i].met;
	}
	s->windows = xcalloc(2, sizeof(*s->windows));
	s->nwindows = 2;
	s->windows[0] = (struct report_window){ xstrdup("kernel-updates"), xstrdup("Neustart in Köln"),
	    0, 0, "Sun 22 Nov 02:00–04:00" };
	s->windows[1] = (struct report_window){ xstrdup("db-backup"), NULL, 0, 0, "Sat 21 Nov 01:00–01:30" };
}

static void
add_alerts(struct report_doc *d)
{
	struct report_section *s = add_section(d, REPORT_ALERTS, "Alerts");
	struct report_alerts *a = &s->alerts;

	a->fired = 12;
	a->resolved = 10;
	a->firing_seconds = 18180;
	a->mttr = 1500;
	snprintf(a->firing_text, sizeof(a->firing_text), "5 h 3 min");
	snprintf(a->mttr_text, sizeof(a->mttr_text), "25 min");
	a->severities = xcalloc(2, sizeof(*a->severities));
	a->nseverities = 2;
	a->severities[0] = (struct report_count){ xstrdup("warning"), 8, 12000, "3 h 20 min" };
	a->severities[1] = (struct report_count){ xstrdup("critical"), 4, 6180, "1 h 43 min" };
	a->noisiest = xcalloc(1, sizeof(*a->noisiest));
	a->nnoisiest = 1;
	a->noisiest[0] = (struct report_count){ xstrdup("DiskFull"), 7, 9000, "2 h 30 min" };
	a->longest = xcalloc(2, sizeof(*a->longest));
	a->nlongest = 2;
	a->longest[0] = (struct report_incident){ xstrdup("DiskFull"), xstrdup("instance=db07, mountpoint=/"),
	    xstrdup("critical"), 0, NAN, "Fri 20 Nov 13:05", "still firing" };
	a->longest[1] = (struct report_incident){ xstrdup("HighLoad"), xstrdup("instance=web2"),
	    xstrdup("warning"), 0, 0, "Tue 17 Nov 09:12", "1 h 2 min" };
}

static void
add_text(struct report_doc *d)
{
	struct report_section *s = add_section(d, REPORT_TEXT, "Summary");
	struct buf b = { 0 };

	for (int i = 0; i < 12; i++)
		buf_puts(&b, "Die Größe der Datenbank in München wuchs diese Woche gleichmäßig; "
		    "日本語のテキストも表示されます. ");
	s->text = buf_steal(&b);
	s->note = xstrdup("Figures from 3 of 4 hosts.");
}

static void
add_graph(struct report_doc *d, const char *title, int with_png, int with_pdf, const char *error)
{
	struct report_section *s = add_section(d, REPORT_GRAPH, title);
	struct report_graph *g = &s->graph;

	g->title = xstrdup(title);
	g->file = xstrdup("graph-latency.png");
	g->cid = xstrdup("graph-latency@reeve");
	/* the PNG's size, from its IHDR chunk, as report.c records it */
	g->width = (int)((unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19]);
	g->height = (int)((unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23]);
	if (with_png) {
		g->png = xmalloc(png_len);
		memcpy(g->png, png, png_len);
		g->png_len = png_len;
	}
	if (with_pdf) {
		g->pdf = xmalloc(pdf_len);
		memcpy(g->pdf, pdf, pdf_len);
		g->pdf_len = pdf_len;
	}
	if (error)
		g->error = xstrdup(error);
}

static struct report_doc *
doc_new(void)
{
	struct report_doc *d = xcalloc(1, sizeof(*d));

	d->name = xstrdup("weekly");
	d->title = xstrdup(TITLE);
	d->hostname = xstrdup("mon01.example.org");
	d->timezone = xstrdup("Europe/Berlin");
	d->start = 1794783600;   /* Mon 16 Nov 2026 00:00 CET */
	d->end = d->start + 7 * 86400;
	snprintf(d->period_text, sizeof(d->period_text), "%s",
	    "Mon 16 Nov 2026 00:00 – Mon 23 Nov 2026 00:00 (Europe/Berlin)");
	d->generated = d->end + 6 * 3600;
	snprintf(d->generated_text, sizeof(d->generated_text), "Mon 23 Nov 2026 06:00");
	d->base = xstrdup("weekly-20261116");
	return d;
}

/* Every kind of section; graphs as vectors, as a PNG only, and missing. */
static struct report_doc *
full_doc(void)
{
	struct report_doc *d = doc_new();
	struct report_section *s;

	add_kpis(d);
	add_availability(d);
	add_alerts(d);
	add_text(d);
	add_graph(d, "Latency", 1, 1, NULL);
	add_graph(d, "Latency (PNG)", 1, 0, NULL);
	add_graph(d, "Disk usage", 0, 0, "rrd_graph: opening '/var/lib/reeve/rrd/disk.rrd': No such file");
	s = add_section(d, REPORT_KPI, "Broken figures");
	s->note = xstrdup("expr: 1:5: unknown function \"rat\"");
	return d;
}

/* ---- reading it back ------------------------------------------------------------------ */

static PopplerDocument *
open_pdf(const struct buf *b, size_t off, GBytes **bytes)
{
	PopplerDocument *doc;
	GError *gerr = NULL;

	assert_true(b->len > off + 1000);
	assert_memory_equal(b->data + off, "%PDF-", 5);
	assert_non_null(memmem(b->data + b->len - 16, 16, "%%EOF", 5));
	*bytes = g_bytes_new_static(b->data + off, b->len - off);
	doc = poppler_document_new_from_bytes(*bytes, NULL, &gerr);
	if (doc == NULL)
		fail_msg("poppler: %s", gerr->message);
	return doc;
}

static char *
page_text(PopplerDocument *doc, int i)
{
	PopplerPage *page = poppler_document_get_page(doc, i);
	char *text = poppler_page_get_text(page);

	g_object_unref(page);
	return text;
}

/* The number of pages whose text has s; *first: the first such page (from 1), or 0. */
static int
pages_with(PopplerDocument *doc, const char *s, int *first)
{
	int n = 0;

	*first = 0;
	for (int i = 0; i < poppler_document_get_n_pages(doc); i++) {
		char *text = page_text(doc, i);

		if (strstr(text, s)) {
			if (n++ == 0)
				*first = i + 1;
		}
		g_free(text);
	}
	return n;
}

static int
images(PopplerDocument *doc)
{
	int n = 0;

	for (int i = 0; i < poppler_document_get_n_pages(doc); i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		GList *l = poppler_page_get_image_mapping(page);

		n += (int)g_list_length(l);
		poppler_page_free_image_mapping(l);
		g_object_unref(page);
	}
	return n;
}

/* No character between the body's end and the footer's rule: nothing runs into the footer. */
static void
assert_footer_clear(PopplerDocument *doc)
{
	for (int i = 0; i < poppler_document_get_n_pages(doc); i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		PopplerRectangle *r;
		guint n;

		assert_true(poppler_page_get_text_layout(page, &r, &n));
		for (guint k = 0; k < n; k++)
			if (r[k].y2 > BODY_BOTTOM + 1 && r[k].y1 < FOOTER_TOP)
				fail_msg("page %d: a character at y %.1f-%.1f", i + 1, r[k].y1, r[k].y2);
		g_free(r);
		g_object_unref(page);
	}
}

static void
save(const struct buf *b)
{
	const char *path = getenv("REPORT_PDF_OUT");
	FILE *f;

	if (path == NULL || *path == '\0')
		return;
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void
test_full(void **state)
{
	struct report_doc *d = full_doc();
	struct buf out = { 0 };
	PopplerDocument *doc;
	GBytes *bytes;
	char err[256] = "", want[64], *text, *title;
	int npages, first, graph_page;

	(void)state;
	if (render_pdf(d, &out, err, sizeof(err)) != 0)
		fail_msg("render_pdf: %s", err);
	save(&out);
	doc = open_pdf(&out, 0, &bytes);
	npages = poppler_document_get_n_pages(doc);
	assert_true(npages >= 4);
	assert_footer_clear(doc);
	title = poppler_document_get_title(doc);
	assert_string_equal(title, TITLE);
	g_free(title);
	title = poppler_document_get_creator(doc);
	assert_string_equal(title, "reeve");
	g_free(title);

	/* the title page: title, period, who made it, the contents */
	text = page_text(doc, 0);
	assert_non_null(strstr(text, TITLE));
	assert_non_null(strstr(text, "Mon 16 Nov 2026 00:00 – Mon 23 Nov 2026 00:00 (Europe/Berlin)"));
	assert_non_null(strstr(text, "Generated by reeve on mon01.example.org at Mon 23 Nov 2026 06:00"));
	assert_non_null(strstr(text, "Contents"));
	assert_non_null(strstr(text, "1. Key figures"));
	assert_non_null(strstr(text, "8. Broken figures"));
	assert_null(strstr(text, "Größe db-02"));   /* the sections begin on page 2 */
	g_free(text);

	/* "Page N of M" on every page, and the title in the footer */
	for (int i = 0; i < npages; i++) {
		snprintf(want, sizeof(want), "Page %d of %d", i + 1, npages);
		text = page_text(doc, i);
		assert_non_null(strstr(text, want));
		assert_non_null(strstr(text, TITLE));
		g_free(text);
	}

	/* the KPI table spans pages, its header repeated on each; all rows there */
	assert_true(pages_with(doc, "Change", &first) >= 2);
	assert_int_equal(first, 2);
	assert_int_equal(pages_with(doc, "Größe db-79", &first), 1);
	assert_int_equal(pages_with(doc, "4711.5 req/s", &first), 1);
	assert_int_equal(pages_with(doc, "Bestellungen München", &first), 1);
	assert_int_equal(pages_with(doc, "▲ 12.5%", &first) >= 1, 1);
	/* availability with its groups and windows; the alert summary; the text and its note */
	assert_int_equal(pages_with(doc, "Web shop", &first), 1);
	assert_int_equal(pages_with(doc, "99.95%", &first), 1);
	assert_int_equal(pages_with(doc, "kernel-updates: Sun 22 Nov 02:00–04:00 (Neustart in Köln)", &first), 1);
	assert_int_equal(pages_with(doc, "Mean time to resolve", &first), 1);
	assert_int_equal(pages_with(doc, "still firing", &first), 1);
	assert_int_equal(pages_with(doc, "Figures from 3 of 4 hosts.", &first), 1);
	assert_int_equal(pages_with(doc, "expr: 1:5: unknown function \"rat\"", &first), 1);

	/* the vector graph's legend is text; the contents give its section's page */
	assert_true(pages_with(doc, GRAPH_FIXTURE_LEGEND, &graph_page) >= 1);
	assert_int_equal(pages_with(doc, "Graph not available: rrd_graph: opening", &first), 1);
	text = page_text(doc, 0);
	/* poppler joins the title and the number on one line without a space */
	snprintf(want, sizeof(want), "5. Latency%d\n", graph_page);
	if (strstr(text, want) == NULL)
		fail_msg("the contents lack \"%s\":\n%s", want, text);
	g_free(text);
	/* the one raster image: the graph that had only a PNG */
	assert_int_equal(images(doc), 1);

	g_object_unref(doc);
	g_bytes_unref(bytes);
	buf_free(&out);
	report_doc_free(d);
}

/* No sections: the title page alone. The bytes are appended to what out holds. */
static void
test_empty(void **state)
{
	struct report_doc *d = doc_new();
	struct buf out = { 0 };
	PopplerDocument *doc;
	GBytes *bytes;
	char err[256] = "", *text;

	(void)state;
	free(d->title);
	d->title = NULL;        /* the name stands in */
	buf_puts(&out, "HEAD");
	if (render_pdf(d, &out, err, sizeof(err)) != 0)
		fail_msg("render_pdf: %s", err);
	assert_memory_equal(out.data, "HEAD", 4);
	doc = open_pdf(&out, 4, &bytes);
	assert_int_equal(poppler_document_get_n_pages(doc), 1);
	text = page_text(doc, 0);
	assert_non_null(strstr(text, "weekly"));
	assert_non_null(strstr(text, "Page 1 of 1"));
	assert_null(strstr(text, "Contents"));
	g_free(text);
	g_object_unref(doc);
	g_bytes_unref(bytes);
	buf_free(&out);
	report_doc_free(d);
}

/* A vector PDF poppler cannot read: the PNG is drawn instead; without one, the box says why. */
static void
test_bad_vector(void **state)
{
	struct report_doc *d = doc_new();
	struct buf out = { 0 };
	PopplerDocument *doc;
	GBytes *bytes;
	char err[256] = "";
	int first;

	(void)state;
	add_graph(d, "Broken vectors", 1, 0, NULL);
	add_graph(d, "Broken vectors, no PNG", 0, 0, NULL);
	for (size_t i = 0; i < d->nsections; i++) {
		struct report_graph *g = &d->sections[i].graph;

		g->pdf = (unsigned char *)xstrdup("%PDF-1.5\nnot really\n");
		g->pdf_len = strlen((char *)g->pdf);
	}
	if (render_pdf(d, &out, err, sizeof(err)) != 0)
		fail_msg("render_pdf: %s", err);
	doc = open_pdf(&out, 0, &bytes);
	assert_int_equal(images(doc), 1);
	assert_int_equal(pages_with(doc, "Graph not available: ", &first), 1);
	g_object_unref(doc);
	g_bytes_unref(bytes);
	buf_free(&out);
	report_doc_free(d);
}

/* Several threads render at once, each its own document: all come out whole and alike. */
static void *
render_one(void *arg)
{
	struct report_doc *d = full_doc();
	struct buf *out = arg;
	char err[256];

	if (render_pdf(d, out, err, sizeof(err)) != 0)
		buf_reset(out);
	report_doc_free(d);
	return NULL;
}

static void
test_threads(void **state)
{
	struct buf out[4];
	pthread_t t[4];
	int pages = -1;

	(void)state;
	memset(out, 0, sizeof(out));
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, render_one, &out[i]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 4; i++) {
		GBytes *bytes;
		PopplerDocument *doc = open_pdf(&out[i], 0, &bytes);

		if (pages == -1)
			pages = poppler_document_get_n_pages(doc);
		assert_int_equal(poppler_document_get_n_pages(doc), pages);
		g_object_unref(doc);
		g_bytes_unref(bytes);
		buf_free(&out[i]);
	}
	assert_true(pages >= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_vector),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("render_pdf", tests, setup, teardown);
}
