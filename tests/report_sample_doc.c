/* report_sample_doc.c: a realistic sample report document for the renderers' tests. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rrd.h>

#include "graph.h"
#include "report_sample_doc.h"
#include "util.h"

/* Mon 16 Nov 2026 00:00 Europe/Berlin, and the day after: the sample's period. */
#define SAMPLE_START 1794783600.0
#define SAMPLE_END (SAMPLE_START + 86400)
#define SAMPLE_STEP 300
#define SAMPLE_HOST "reeve-test.example.org"

#define OK REPORT_OK
#define WARN REPORT_WARNING
#define CRIT REPORT_CRITICAL

/* A KPI row as written below: the values and the texts report.c would have made of them. */
struct kpi_sample {
	const char *name, *unit;
	double v[REPORT_NSTATS];
	const char *text[REPORT_NSTATS];
	enum report_level level[REPORT_NSTATS];
	double prev, change;
	const char *change_text;
	int direction;
};

static const struct kpi_sample kpi_samples[] = {
	{ "Umsatz München", "EUR", { 12345.6, 8020.25, 10250.5, 15010, 14500.75 },
	    { "12.35k", "8.02k", "10.25k", "15.01k", "14.5k" }, { OK, OK, OK, OK, OK },
	    9111.555555, 12.5, "▲ 12.5%", 1 },
	{ "Größe", "bytes", { 1610612736, 1073741824, 1395864371, 2040109465, 1932735283 },
	    { "1.5 GiB", "1 GiB", "1.3 GiB", "1.9 GiB", "1.8 GiB" }, { OK, OK, OK, WARN, WARN },
	    1439035434, -3, "▼ 3.0%", -1 },
	{ "日本語", "ratio", { 0.97, 0.41, 0.72, 0.97, 0.95 },
	    { "97%", "41%", "72%", "97%", "95%" }, { CRIT, OK, OK, CRIT, CRIT },
	    0.72, 0, "= 0.0%", 0 },
	{ "<b>&\"x\"</b>", "", { NAN, NAN, NAN, NAN, NAN },
	    { "–", "–", "–", "–", "–" }, { OK, OK, OK, OK, OK },
	    NAN, NAN, "–", 0 },
};

static void
set_cell(struct report_cell *c, double v, const char *text, enum report_level level)
{
	c->v = v;
	strlcpy_r(c->text, text, sizeof(c->text));
	c->level = level;
}

static void
add_kpis(struct report_section *s, const char *title, const struct kpi_sample *k, size_t n,
    const char *note)
{
	s->kind = REPORT_KPI;
	s->title = xstrdup(title);
	s->note = note ? xstrdup(note) : NULL;
	s->kpis = n ? xcalloc(n, sizeof(*s->kpis)) : NULL;
	s->nkpis = n;
	for (size_t i = 0; i < n; i++) {
		struct report_kpi_row *r = &s->kpis[i];

		r->name = xstrdup(k[i].name);
		r->unit = xstrdup(k[i].unit);
		for (int j = 0; j < REPORT_NSTATS; j++)
			set_cell(&r->stat[j], k[i].v[j], k[i].text[j], k[i].level[j]);
		r->prev = k[i].prev;
		set_cell(&r->change, k[i].change, k[i].change_text, OK);
		r->direction = k[i].direction;
	}
}

static void
add_avail_row(struct report_avail_row *r, const char *target, double up, const char *up_text,
    double down, const char *down_text, double nodata, const char *nodata_text)
{
	r->section = xstrdup("Web shop");
	r->target = xstrdup(target);
	set_cell(&r->objective, 0.999, "99.9%", OK);
	r->met = !isnan(up) && up >= 0.999;
	set_cell(&r->up, up, up_text, r->met ? OK : CRIT);
	set_cell(&r->downtime, down, down_text, OK);
	set_cell(&r->maintenance, 7200, "2 h", OK);
	set_cell(&r->nodata, nodata, nodata_text, OK);
}

static void
add_availability(struct report_section *s)
{
	s->kind = REPORT_AVAILABILITY;
	s->title = xstrdup("Availability");
	s->navail = 3;
	s->avail = xcalloc(s->navail, sizeof(*s->avail));
	/* the labels hold a comma and quotes: a CSV field that must be quoted */
	add_avail_row(&s->avail[0], "instance=web1, job=\"node\"", 0.99953, "99.953%", 40.5,
	    "41 s", 0, "0 s");
	add_avail_row(&s->avail[1], "instance=db1", 0.98712, "98.712%", 1112.8, "18 min 33 s",
	    300, "5 min");
	add_avail_row(&s->avail[2], "instance=größe-1", NAN, "–", NAN, "–", 79200, "22 h");
	s->nwindows = 2;
	s->windows = xcalloc(s->nwindows, sizeof(*s->windows));
	s->windows[0].name = xstrdup("db-upgrade");
	s->windows[0].comment = xstrdup("PostgreSQL 15 → 16 <major>");
	s->windows[0].start = SAMPLE_START + 2 * 3600;
	s->windows[0].end = SAMPLE_START + 3 * 3600;
	strlcpy_r(s->windows[0].text, "Mon 16 Nov 02:00–03:00", sizeof(s->windows[0].text));
	s->windows[1].name = xstrdup("kernel-patch");
	s->windows[1].start = SAMPLE_START + 22 * 3600;
	s->windows[1].end = SAMPLE_END;
	strlcpy_r(s->windows[1].text, "Mon 16 Nov 22:00–Tue 17 Nov 00:00",
	    sizeof(s->windows[1].text));
}

static void
set_count(struct report_count *c, const char *name, size_t n, double seconds, const char *text)
{
	c->name = xstrdup(name);
	c->n = n;
	c->seconds = seconds;
	strlcpy_r(c->text, text, sizeof(c->text));
}

static void
set_incident(struct report_incident *inc, const char *rule, const char *labels,
    const char *severity, double start, double end, const char *when, const char *duration)
{
	inc->rule = xstrdup(rule);
	inc->labels = xstrdup(labels);
	inc->severity = xstrdup(severity);
	inc->start = start;
	inc->end = end;
	strlcpy_r(inc->when, when, sizeof(inc->when));
	strlcpy_r(inc->duration, duration, sizeof(inc->duration));
}

static void
add_alerts(struct report_section *s)
{
	struct report_alerts *a = &s->alerts;

	s->kind = REPORT_ALERTS;
	s->title = xstrdup("Alerts");
	a->fired = 14;
	a->resolved = 12;
	a->firing_seconds = 25500;
	a->mttr = 1860;
	strlcpy_r(a->firing_text, "7 h 5 min", sizeof(a->firing_text));
	strlcpy_r(a->mttr_text, "31 min", sizeof(a->mttr_text));
	a->nseverities = 3;
	a->severities = xcalloc(a->nseverities, sizeof(*a->severities));
	set_count(&a->severities[0], "warning", 8, 16800, "4 h 40 min");
	set_count(&a->severities[1], "critical", 3, 7800, "2 h 10 min");
	set_count(&a->severities[2], "info", 3, 900, "15 min");
	a->nnoisiest = 3;
	a->noisiest = xcalloc(a->nnoisiest, sizeof(*a->noisiest));
	set_count(&a->noisiest[0], "DiskFull", 5, 9000, "2 h 30 min");
	set_count(&a->noisiest[1], "HighLoad", 4, 4320, "1 h 12 min");
	set_count(&a->noisiest[2], "Zahlung fehlgeschlagen", 3, 900, "15 min");
	a->nlongest = 3;
	a->longest = xcalloc(a->nlongest, sizeof(*a->longest));
	set_incident(&a->longest[0], "DiskFull", "instance=db1, mountpoint=/var", "critical",
	    SAMPLE_START + 64800, NAN, "Mon 16 Nov 18:00", "6 h (still firing)");
	set_incident(&a->longest[1], "HighLoad", "instance=web2", "warning", SAMPLE_START + 36000,
	    SAMPLE_START + 40320, "Mon 16 Nov 10:00", "1 h 12 min");
	set_incident(&a->longest[2], "Zahlung fehlgeschlagen", "shop=München", "info",
	    SAMPLE_START + 50400, SAMPLE_START + 51300, "Mon 16 Nov 14:00", "15 min");
}

static void
add_text(struct report_section *s, const char *title, const char *text)
{
	s->kind = REPORT_TEXT;
	s->title = xstrdup(title);
	s->text = xstrdup(text);
}

/* A day of orders (a daily wave) and a queue length, every SAMPLE_STEP seconds. */
static int
make_rrd(const char *path)
{
	const char *create[] = {
		"DS:orders:GAUGE:600:0:U", "DS:queue:GAUGE:600:0:U", "RRA:AVERAGE:0.5:1:400",
	};
	size_t n = 86400 / SAMPLE_STEP;
	char **upd = xcalloc(n, sizeof(*upd));
	int rc = 0;

	rrd_clear_error();
	if (rrd_create_r(path, SAMPLE_STEP, (time_t)SAMPLE_START - SAMPLE_STEP, 3, create) != 0) {
		fprintf(stderr, "report_sample_doc: rrd_create %s: %s\n", path, rrd_get_error());
		free(upd);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		double t = SAMPLE_START + (double)(i + 1) * SAMPLE_STEP;
		double day = sin((double)i / (double)n * 2 * M_PI - M_PI / 2);

		/* whole numbers: librrd reads them in the C locale, printf would not write them so */
		upd[i] = xasprintf("%lld:%ld:%d", (long long)t, lround(40 + 35 * day + 5 * sin((double)i)),
		    (int)(i % 37) + (i > 200 && i < 230 ? 80 : 0));
	}
	if (rrd_update_r(path, NULL, (int)n, (const char **)upd) != 0) {
		fprintf(stderr, "report_sample_doc: rrd_update %s: %s\n", path, rrd_get_error());
		rc = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(upd[i]);
	free(upd);
	return rc;
}

/*
 * A graph section drawn from lines with graph_png. Returns 0; -1 (with the reason on stderr)
 * when the result is not what want_ok says, so a broken librrd does not pass unnoticed.
 */
static int
add_graph(struct report_section *s, const char *name, const char *title,
    const struct graph_line *lines, size_t nlines, int want_ok)
{
	struct report_graph *g = &s->graph;
	struct graph_spec spec = { SAMPLE_START, SAMPLE_END, title, NULL, 600, 200, lines, nlines,
		NULL, 0 };
	char err[512] = "";
	int rc;

	s->kind = REPORT_GRAPH;
	s->title = xstrdup(title);
	g->title = xstrdup(title);
	g->file = xasprintf("graph-%s.png", name);
	g->cid = xasprintf("graph-%s.20261116@" SAMPLE_HOST, name);
	rc = graph_png(&spec, &g->png, &g->png_len, err, sizeof(err));
	/* the same graph as vectors, for the PDF */
	if (rc == 0 && graph_render(&spec, GRAPH_PDF, &g->pdf, &g->pdf_len, err, sizeof(err)) == -1)
		g->pdf = NULL;
	if (rc == 0)
		graph_png_size(g->png, g->png_len, &g->width, &g->height);
	else
		g->error = xstrdup(err);
	if ((rc == 0) != want_ok) {
		fprintf(stderr, "report_sample_doc: graph %s: %s\n", name,
		    rc == 0 ? "drawn, but it should have failed" : err);
		return -1;
	}
	return 0;
}

/* The three graphs: orders and the queue drawn, a latency graph of a missing file failed. */
static int
add_graphs(struct report_section *orders, struct report_section *queue,
    struct report_section *latency, const char *rrd, const char *missing)
{
	const struct graph_line orders_line[] = {
		{ rrd, "orders", NULL, "Bestellungen München", "#1F77B4", NULL },
	};
	const struct graph_line queue_lines[] = {
		{ rrd, "queue", NULL, "Warteschlange (日本語)", "#D62728", NULL },
		{ rrd, "orders", NULL, "orders", "#2CA02C", NULL },
	};
	const struct graph_line latency_line[] = { { missing, NULL, NULL, "p95", NULL, NULL } };

	if (add_graph(orders, "orders", "Orders per 5 minutes", orders_line, 1, 1) == -1 ||
	    add_graph(queue, "queue", "Größe der Warteschlange", queue_lines, 2, 1) == -1 ||
	    add_graph(latency, "latency", "Latency p95 <api>", latency_line, 1, 0) == -1)
		return -1;
	return 0;
}

struct report_doc *
report_sample_doc(const char *tmpdir)
{
	struct report_doc *d = xcalloc(1, sizeof(*d));
	char *rrd = xasprintf("%s/sample.rrd", tmpdir);
	char *missing = xasprintf("%s/no-such-file.rrd", tmpdir);
	struct report_section *s;

	d->name = xstrdup("shop-daily");
	d->title = xstrdup("Shop München: Tagesbericht");
	d->hostname = xstrdup(SAMPLE_HOST);
	d->timezone = xstrdup("Europe/Berlin");
	d->start = SAMPLE_START;
	d->end = SAMPLE_END;
	d->prev_start = SAMPLE_START - 86400;
	d->prev_end = SAMPLE_START;
	strlcpy_r(d->period_text, "Mon 16 Nov 2026 00:00 – Tue 17 Nov 2026 00:00 (Europe/Berlin)",
	    sizeof(d->period_text));
	d->generated = SAMPLE_END + 300;
	strlcpy_r(d->generated_text, "Tue 17 Nov 2026 00:05 CET", sizeof(d->generated_text));
	d->base = xstrdup("shop-daily-20261116");
	d->nsections = 9;
	d->sections = s = xcalloc(d->nsections, sizeof(*d->sections));
	add_kpis(&s[0], "Key figures", kpi_samples, sizeof(kpi_samples) / sizeof(kpi_samples[0]),
	    "kpi.latency: expr: 1:6: unknown function \"rate5\"");
	add_availability(&s[2]);
	add_kpis(&s[3], "Business events", NULL, 0, "no data");
	add_alerts(&s[4]);
	add_text(&s[6], "Summary", "Der Umsatz stieg um 12.5 % (Ziel: > 10 % & < 20 %).\n"
	    "Die Größe der Warteschlange blieb \"normal\".");
	add_text(&s[8], "Next steps", "Upgrade db1 next week; see 日本語 notes.\nNo action needed.");
	if (make_rrd(rrd) == -1 || add_graphs(&s[1], &s[5], &s[7], rrd, missing) == -1) {
		report_doc_free(d);
		d = NULL;
	}
	free(rrd);
	free(missing);
	return d;
}
