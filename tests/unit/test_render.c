/* test_render.c: reports/render_{html,text,csv}.c on hand-made docs, and util_utf8_width. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "util.h"

/* ---- fixtures ----------------------------------------------------------------------------- */

#define EVIL "<b>&\"x\"</b>"
#define EVIL_HTML "&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;"

/* The colours render_html.c uses: a test of what a reader sees, so spelled out here. */
#define AMBER_BG "background:#FEF0C7;color:#B54708;"
#define RED_BG "background:#FEE4E2;color:#B42318;"
#define GREEN_BG "background:#DCFAE6;color:#067647;"

static void
set_cell(struct report_cell *c, double v, const char *text, enum report_level level)
{
	c->v = v;
	strlcpy_r(c->text, text, sizeof(c->text));
	c->level = level;
}

/*
 * A KPI row whose five statistics are v, v+1, ... shown as "P0".."P4" for a prefix P, all "–"
 * when v is NaN; the previous avg 100 unless the change is NaN.
 */
static void
set_kpi(struct report_kpi_row *r, const char *name, const char *unit, double v,
    const char *prefix, double change, const char *change_text, int direction)
{
	r->name = xstrdup(name);
	r->unit = xstrdup(unit);
	for (int i = 0; i < REPORT_NSTATS; i++) {
		char text[40];

		if (isnan(v))
			snprintf(text, sizeof(text), "–");
		else
			snprintf(text, sizeof(text), "%s%d", prefix, i);
		set_cell(&r->stat[i], isnan(v) ? NAN : v + i, text, REPORT_OK);
	}
	r->prev = isnan(change) ? NAN : 100;
	set_cell(&r->change, change, change_text, REPORT_OK);
	r->direction = direction;
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

static struct report_doc *
doc_new(void)
{
	struct report_doc *d = xcalloc(1, sizeof(*d));

	d->name = xstrdup("weekly");
	d->title = xstrdup("Wochenbericht " EVIL);
	d->hostname = xstrdup("mon.example.org");
	d->timezone = xstrdup("Europe/Berlin");
	strlcpy_r(d->period_text, "Mon 16 Nov 2026 00:00 – Mon 23 Nov 2026 00:00 (Europe/Berlin)",
	    sizeof(d->period_text));
	strlcpy_r(d->generated_text, "Mon 23 Nov 2026 06:00 CET", sizeof(d->generated_text));
	d->base = xstrdup("weekly-20261116");
	return d;
}

static void
set_graph(struct report_section *s, const char *title, const char *name, int ok)
{
	struct report_graph *g = &s->graph;

	g->title = xstrdup(title);
	g->file = xasprintf("graph-%s.png", name);
	g->cid = xasprintf("graph-%s.1@mon.example.org", name);
	if (ok) {
		g->png_len = 8;
		g->png = xmalloc(g->png_len);
		memcpy(g->png, "\x89PNG\r\n\x1a\n", 8);
		g->width = 697;
		g->height = 261;
	} else {
		g->error = xstrdup("rrd_graph: opening 'x.rrd': No such file & <directory>");
	}
}

/*
 * Every kind of section: KPIs (München, Munchen, 日本語, EVIL), a graph and a failed one,
 * availability met and not met with a window, the alert summary, a text, an empty table.
 */
static struct report_doc *
full_doc(void)
{
	struct report_doc *d = doc_new();
	struct report_section *s;
	struct report_alerts *a;

	s = add_section(d, REPORT_KPI, "Kennzahlen & Größen");
	s->nkpis = 4;
	s->kpis = xcalloc(s->nkpis, sizeof(*s->kpis));
	set_kpi(&s->kpis[0], "München", "EUR", 10, "M", 12.5, "▲ 12.5%", 1);
	set_kpi(&s->kpis[1], "Munchen", "bytes", 1000, "T", -3, "▼ 3.0%", -1);
	set_kpi(&s->kpis[2], "日本語", "", 5, "T", 0, "= 0.0%", 0);
	set_kpi(&s->kpis[3], EVIL, "a<b", NAN, "", NAN, "–", 0);
	set_cell(&s->kpis[0].stat[REPORT_MAX], 14, "W-MAX", REPORT_WARNING);
	set_cell(&s->kpis[0].stat[REPORT_LAST], 14, "C-LAST", REPORT_CRITICAL);
	s->note = xstrdup("kpi.x: expr: 1:1: a < b");

	s = add_section(d, REPORT_GRAPH, "Orders");
	set_graph(s, "Orders <per> hour", "orders", 1);
	s = add_section(d, REPORT_GRAPH, "Latency");
	set_graph(s, "Latency", "latency", 0);

	s = add_section(d, REPORT_AVAILABILITY, "Availability");
	s->navail = 2;
	s->avail = xcalloc(s->navail, sizeof(*s->avail));
	s->avail[0].section = xstrdup("Web");
	s->avail[0].target = xstrdup("instance=web1");
	set_cell(&s->avail[0].objective, 0.999, "99.9%", REPORT_OK);
	set_cell(&s->avail[0].up, 0.9995, "UP-MET", REPORT_OK);
	set_cell(&s->avail[0].downtime, 300, "5 min", REPORT_OK);
	set_cell(&s->avail[0].maintenance, 0, "0 s", REPORT_OK);
	set_cell(&s->avail[0].nodata, 0, "0 s", REPORT_OK);
	s->avail[0].met = 1;
	s->avail[1].section = xstrdup("Web");
	s->avail[1].target = xstrdup("instance=db1");
	set_cell(&s->avail[1].objective, 0.999, "99.9%", REPORT_OK);
	set_cell(&s->avail[1].up, NAN, "UP-NOT", REPORT_CRITICAL);
	set_cell(&s->avail[1].downtime, NAN, "–", REPORT_OK);
	set_cell(&s->avail[1].maintenance, 7200, "2 h", REPORT_OK);
	set_cell(&s->avail[1].nodata, 604800, "7 d", REPORT_OK);
	s->nwindows = 1;
	s->windows = xcalloc(1, sizeof(*s->windows));
	s->windows[0].name = xstrdup("db-upgrade");
	s->windows[0].comment = xstrdup("Größe <1>");
	strlcpy_r(s->windows[0].text, "Sun 22 Nov 02:00–04:00", sizeof(s->windows[0].text));

	s = add_section(d, REPORT_ALERTS, "Alerts");
	a = &s->alerts;
	a->fired = 7;
	a->resolved = 6;
	strlcpy_r(a->firing_text, "3 h 12 min", sizeof(a->firing_text));
	strlcpy_r(a->mttr_text, "27 min", sizeof(a->mttr_text));
	a->nseverities = 2;
	a->severities = xcalloc(2, sizeof(*a->severities));
	a->severities[0].name = xstrdup("warning");
	a->severities[0].n = 5;
	strlcpy_r(a->severities[0].text, "2 h", sizeof(a->severities[0].text));
	a->severities[1].name = xstrdup("critical");
	a->severities[1].n = 2;
	strlcpy_r(a->severities[1].text, "1 h 12 min", sizeof(a->severities[1].text));
	a->nnoisiest = 1;
	a->noisiest = xcalloc(1, sizeof(*a->noisiest));
	a->noisiest[0].name = xstrdup("DiskFull");
	a->noisiest[0].n = 4;
	strlcpy_r(a->noisiest[0].text, "2 h", sizeof(a->noisiest[0].text));
	a->nlongest = 1;
	a->longest = xcalloc(1, sizeof(*a->longest));
	a->longest[0].rule = xstrdup("DiskFull");
	a->longest[0].labels = xstrdup("instance=db1");
	a->longest[0].severity = xstrdup("critical");
	a->longest[0].end = NAN;
	strlcpy_r(a->longest[0].when, "Fri 20 Nov 14:02", sizeof(a->longest[0].when));
	strlcpy_r(a->longest[0].duration, "still firing", sizeof(a->longest[0].duration));

	s = add_section(d, REPORT_TEXT, "Summary");
	s->text = xstrdup("Line one < two\r\nLine 2 & 日本語");
	s = add_section(d, REPORT_KPI, "Empty");
	s->note = xstrdup("no data");
	return d;
}

static char *
html_of(const struct report_doc *d, int cid)
{
	struct buf b = { 0 };
	char err[256] = "";

	if (render_html(d, cid, &b, err, sizeof(err)) == -1)
		fail_msg("render_html: %s", err);
	return buf_steal(&b);
}

static char *
text_of(const struct report_doc *d)
{
	struct buf b = { 0 };
	char err[256] = "";

	if (render_text(d, &b, err, sizeof(err)) == -1)
		fail_msg("render_text: %s", err);
	return buf_steal(&b);
}

static char *
csv_of(const struct report_doc *d)
{
	struct buf b = { 0 };
	char err[256] = "";

	if (render_csv(d, &b, err, sizeof(err)) == -1)
		fail_msg("render_csv: %s", err);
	return buf_steal(&b);
}

/* Fails unless s holds want. */
static void
expect_in(const char *s, const char *want)
{
	if (strstr(s, want) == NULL)
		fail_msg("\"%s\" not found in:\n%s", want, s);
}

static void
expect_not_in(const char *s, const char *unwanted)
{
	if (strstr(s, unwanted) != NULL)
		fail_msg("\"%s\" found in:\n%s", unwanted, s);
}

/* The opening tag of the first <td> whose whole content is text; fails if there is none. */
static char *
td_of(const char *html, const char *text)
{
	char *want = xasprintf(">%s</td>", text);
	const char *end = strstr(html, want), *start;

	if (end == NULL)
		fail_msg("no cell \"%s\"", text);
	for (start = end; start > html && strncmp(start, "<td", 3) != 0; start--)
		;
	free(want);
	return xstrndup(start, (size_t)(end - start + 1));
}

/* The line of text that starts with prefix (without its '\n'); fails if there is none. */
static char *
line_of(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return xstrndup(p, strcspn(p, "\n"));
	fail_msg("no line starting \"%s\" in:\n%s", prefix, text);
	return NULL;
}

/* The display column (0-based, by util_utf8_width) at which needle starts in line. */
static size_t
column_of(const char *line, const char *needle)
{
	const char *p = strstr(line, needle);
	char *head;
	size_t col;

	if (p == NULL)
		fail_msg("\"%s\" not in \"%s\"", needle, line);
	head = xstrndup(line, (size_t)(p - line));
	col = util_utf8_width(head);
	free(head);
	return col;
}

/* ---- HTML ----------------------------------------------------------------------------------- */

static void
test_html_escaping(void **state)
{
	struct report_doc *d = full_doc();
	char *h = html_of(d, 1);

	(void)state;
	assert_memory_equal(h, "<!DOCTYPE html>", 15);
	expect_in(h, "<meta charset=\"utf-8\">");
	/* every string of the doc escaped: title, row name, unit, notes, errors, comments */
	expect_in(h, "<title>Wochenbericht " EVIL_HTML "</title>");
	expect_in(h, ">" EVIL_HTML " <span");
	expect_in(h, ">a&lt;b</span>");
	expect_in(h, "<h2 style=\"margin:0 0 10px 0;font-size:17px;font-weight:bold;color:#101828;\">"
	    "Kennzahlen &amp; Größen</h2>");
	expect_in(h, "<i>kpi.x: expr: 1:1: a &lt; b</i>");
	expect_in(h, "No such file &amp; &lt;directory&gt;");
	expect_in(h, "Größe &lt;1&gt;");
	expect_not_in(h, EVIL);
	expect_not_in(h, "<directory>");
	/* text: escaped, its line breaks <br>, the CR gone */
	expect_in(h, ">Line one &lt; two<br>\nLine 2 &amp; 日本語</p>");
	expect_not_in(h, "\r");
	/* no scripts, no style blocks, no external assets */
	expect_not_in(h, "<script");
	expect_not_in(h, "<style");
	expect_not_in(h, "http://");
	expect_not_in(h, "https://");
	expect_in(h, "Generated by reeve on mon.example.org at Mon 23 Nov 2026 06:00 CET</td>");
	expect_in(h, "<i>no data</i>");
	free(h);
	report_doc_free(d);
}

static void
test_html_sections_in_order(void **state)
{
	static const char *const titles[] = {
		">Kennzahlen &amp; Größen</h2>", ">Orders</h2>", ">Latency</h2>", ">Availability</h2>",
		">Alerts</h2>", ">Summary</h2>", ">Empty</h2>", "Generated by reeve",
	};
	struct report_doc *d = full_doc();
	char *h = html_of(d, 1);
	const char *p = h;

	(void)state;
	expect_in(h, "Mon 16 Nov 2026 00:00 – Mon 23 Nov 2026 00:00 (Europe/Berlin)</div>");
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		const char *q = strstr(p, titles[i]);

		if (q == NULL)
			fail_msg("\"%s\" missing or out of order", titles[i]);
		p = q;
	}
	free(h);
	report_doc_free(d);
}

static void
test_html_images(void **state)
{
	struct report_doc *d = full_doc();
	char *cid = html_of(d, 1), *file = html_of(d, 0);
	struct buf b = { 0 };
	char err[256] = "";

	(void)state;
	expect_in(cid, "<img src=\"cid:graph-orders.1@mon.example.org\" width=\"697\" height=\"261\" "
	    "alt=\"Orders &lt;per&gt; hour\"");
	expect_not_in(cid, "src=\"graph-");
	expect_in(file, "<img src=\"graph-orders.png\" width=\"697\" height=\"261\" "
	    "alt=\"Orders &lt;per&gt; hour\"");
	expect_not_in(file, "cid:");
	/* the failed graph: its error in place of an image, in both */
	expect_in(cid, "Graph not available: rrd_graph: opening &#39;x.rrd&#39;");
	expect_not_in(cid, "graph-latency");
	expect_not_in(file, "graph-latency");
	assert_int_equal(strstr(strstr(cid, "<img") + 1, "<img") == NULL, 1);

	/* a graph without the source asked for is an error, and out is left as it was */
	free(d->sections[1].graph.cid);
	d->sections[1].graph.cid = NULL;
	buf_puts(&b, "before");
	assert_int_equal(render_html(d, 1, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "graph \"Orders <per> hour\" has no Content-ID");
	assert_string_equal(b.data, "before");
	assert_int_equal(b.len, 6);
	buf_free(&b);
	free(cid);
	free(file);
	report_doc_free(d);
}

static void
test_html_levels(void **state)
{
	struct report_doc *d = full_doc();
	char *h = html_of(d, 1), *td;

	(void)state;
	td = td_of(h, "W-MAX");
	expect_in(td, AMBER_BG);
	free(td);
	td = td_of(h, "C-LAST");
	expect_in(td, RED_BG);
	free(td);
	td = td_of(h, "M1"); /* München's min: OK */
	expect_not_in(td, "background");
	free(td);
	/* availability: the up cell green when met, red when not */
	td = td_of(h, "UP-MET");
	expect_in(td, GREEN_BG);
	free(td);
	td = td_of(h, "UP-NOT");
	expect_in(td, RED_BG);
	free(td);
	/* the incident still firing stands out; severities in their colours */
	td = td_of(h, "still firing");
	expect_in(td, RED_BG);
	free(td);
	expect_in(h, "background:#B54708;color:#FFFFFF;font-size:12px;font-weight:bold;\">warning"
	    "</span>");
	expect_in(h, "background:#B42318;color:#FFFFFF;font-size:12px;font-weight:bold;\">critical"
	    "</span>");
	free(h);
	report_doc_free(d);
}

static void
test_html_change(void **state)
{
	struct report_doc *d = full_doc();
	char *h = html_of(d, 1), *td;

	(void)state;
	td = td_of(h, "▲ 12.5%");
	expect_in(td, "color:#067647;");
	free(td);
	td = td_of(h, "▼ 3.0%");
	expect_in(td, "color:#B42318;");
	free(td);
	td = td_of(h, "= 0.0%");
	expect_in(td, "color:#5D6B7E;");
	expect_not_in(td, "background");
	free(td);
	free(h);
	report_doc_free(d);
}

/* ---- text ----------------------------------------------------------------------------------- */

static void
test_text(void **state)
{
	static const char head[] = "Wochenbericht " EVIL "\n" "=========================\n"
	    "Mon 16 Nov 2026 00:00 – Mon 23 Nov 2026 00:00 (Europe/Berlin)\n";
	struct report_doc *d = full_doc();
	char *t = text_of(d);
	char *a, *b, *c, *e;

	(void)state;
	assert_int_equal(strncmp(t, head, strlen(head)), 0);
	/* headings underlined by display width: "Kennzahlen & Größen" is 19 columns */
	expect_in(t, "\nKennzahlen & Größen\n-------------------\n");
	/* "München" (8 bytes) lines up with "Munchen" (7), "日本語" (9 bytes, 6 columns) too */
	a = line_of(t, "München");
	b = line_of(t, "Munchen");
	c = line_of(t, "日本語");
	e = line_of(t, EVIL);
	assert_string_equal(a, "München      EUR    C-LAST   M1   M2  W-MAX   M4  ▲ 12.5%");
	assert_string_equal(b, "Munchen      bytes      T0   T1   T2     T3   T4   ▼ 3.0%");
	/* left-aligned columns start, right-aligned ones end in the same display column */
	assert_int_equal(column_of(a, "EUR"), column_of(b, "bytes"));
	assert_int_equal(column_of(c, "T0"), column_of(b, "T0"));
	assert_int_equal(column_of(c, "= 0.0%"), column_of(b, "▼ 3.0%"));
	assert_int_equal(util_utf8_width(a), util_utf8_width(b));
	assert_int_equal(util_utf8_width(c), util_utf8_width(b));
	assert_int_equal(util_utf8_width(e), util_utf8_width(b));
	/* no data: the doc's "–" in every column */
	assert_string_equal(e, EVIL "  a<b         –    –    –      –    –        –");
	expect_in(t, "[graph: Orders <per> hour, see the HTML part or the PDF]\n");
	expect_in(t, "[graph: Latency, not available: rrd_graph: opening 'x.rrd': No such file & "
	    "<directory>]\n");
	expect_in(t, "instance=db1       99.9%  UP-NOT         –          2 h      7 d  NO\n");
	expect_in(t, "  Sun 22 Nov 02:00–04:00  db-upgrade: Größe <1>\n");
	expect_in(t, "Line one < two\nLine 2 & 日本語\n");
	expect_in(t, "Note: no data\n");
	expect_in(t, "DiskFull  instance=db1  critical  Fri 20 Nov 14:02  still firing\n");
	expect_in(t, "\n-- \nGenerated by reeve on mon.example.org at Mon 23 Nov 2026 06:00 CET\n");
	expect_not_in(t, "\r");
	free(a);
	free(b);
	free(c);
	free(e);
	free(t);
	report_doc_free(d);
}

/* A name with a line break stays on its row: control characters become spaces. */
static void
test_text_control_characters(void **state)
{
	struct report_doc *d = doc_new();
	struct report_section *s = add_section(d, REPORT_KPI, "K");
	char *t;

	(void)state;
	s->nkpis = 1;
	s->kpis = xcalloc(1, sizeof(*s->kpis));
	set_kpi(&s->kpis[0], "two\nlines\tx", "", 1, "T", 0, "= 0.0%", 0);
	t = text_of(d);
	expect_in(t, "\ntwo lines x          T0   T1   T2   T3   T4  = 0.0%\n");
	free(t);
	report_doc_free(d);
}

/* ---- CSV ------------------------------------------------------------------------------------ */

#define CSV_HEAD "\xEF\xBB\xBF" "table,section,name,unit,last,min,avg,max,p95,previous_avg," \
	"change_percent,objective,up_ratio,downtime_seconds,maintenance_seconds,nodata_seconds," \
	"objective_met\r\n"

static void
test_csv(void **state)
{
	struct report_doc *d = doc_new();
	struct report_section *s = add_section(d, REPORT_KPI, "Kennzahlen, \"Größen\"");
	char *c;

	(void)state;
	s->nkpis = 3;
	s->kpis = xcalloc(s->nkpis, sizeof(*s->kpis));
	set_kpi(&s->kpis[0], "München, \"Süd\"\nzwei", "EUR", 0.1, "T", 12.5, "▲ 12.5%", 1);
	set_kpi(&s->kpis[1], "日本語", "bytes", 1610612736, "T", -3, "▼ 3.0%", -1);
	set_kpi(&s->kpis[2], "none", "", NAN, "", NAN, "–", 0);
	s = add_section(d, REPORT_GRAPH, "not in the CSV");
	s = add_section(d, REPORT_AVAILABILITY, "Availability");
	s->navail = 2;
	s->avail = xcalloc(s->navail, sizeof(*s->avail));
	s->avail[0].section = xstrdup("Web");
	s->avail[0].target = xstrdup("instance=web1, job=\"node\"");
	set_cell(&s->avail[0].objective, 0.999, "99.9%", REPORT_OK);
	set_cell(&s->avail[0].up, 0.99953, "99.953%", REPORT_OK);
	set_cell(&s->avail[0].downtime, 40.5, "41 s", REPORT_OK);
	set_cell(&s->avail[0].maintenance, 7200, "2 h", REPORT_OK);
	set_cell(&s->avail[0].nodata, 0, "0 s", REPORT_OK);
	s->avail[0].met = 1;
	s->avail[1].target = xstrdup("cr\rhere");
	set_cell(&s->avail[1].objective, 0.999, "99.9%", REPORT_OK);
	set_cell(&s->avail[1].up, NAN, "–", REPORT_CRITICAL);
	set_cell(&s->avail[1].downtime, NAN, "–", REPORT_OK);
	set_cell(&s->avail[1].maintenance, 0, "0 s", REPORT_OK);
	set_cell(&s->avail[1].nodata, 604800, "7 d", REPORT_OK);

	c = csv_of(d);
	assert_string_equal(c, CSV_HEAD
	    "kpi,\"Kennzahlen, \"\"Größen\"\"\",\"München, \"\"Süd\"\"\nzwei\",EUR,"
	    "0.1,1.1,2.1,3.1,4.1,100,12.5,,,,,,\r\n"
	    "kpi,\"Kennzahlen, \"\"Größen\"\"\",日本語,bytes,"
	    "1610612736,1610612737,1610612738,1610612739,1610612740,100,-3,,,,,,\r\n"
	    "kpi,\"Kennzahlen, \"\"Größen\"\"\",none,,,,,,,,,,,,,,\r\n"
	    "availability,Web,\"instance=web1, job=\"\"node\"\"\",,,,,,,,,0.999,0.99953,40.5,7200,0,"
	    "yes\r\n"
	    /* no avail section name: the table's title */
	    "availability,Availability,\"cr\rhere\",,,,,,,,,0.999,,,0,604800,no\r\n");
	free(c);
	report_doc_free(d);
}

/* ---- all formats ---------------------------------------------------------------------------- */

static void
test_utf8_intact(void **state)
{
	static const char *const names[] = { "München", "日本語", "Größe <1>", "–", "▲ 12.5%" };
	struct report_doc *d = full_doc();
	char *h = html_of(d, 0), *t = text_of(d), *c = csv_of(d);

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		expect_in(t, names[i]);
		if (i != 2) /* escaped in HTML */
			expect_in(h, names[i]);
	}
	expect_in(h, "Größe &lt;1&gt;");
	expect_in(c, "\r\nkpi,Kennzahlen & Größen,München,EUR,");
	expect_in(c, "\r\nkpi,Kennzahlen & Größen,日本語,,");
	expect_in(c, "\r\nkpi,Kennzahlen & Größen,\"" "<b>&\"\"x\"\"</b>" "\",a<b,,,,,,,,,,,,,\r\n");
	free(h);
	free(t);
	free(c);
	report_doc_free(d);
}

static void
test_unknown_kind(void **state)
{
	struct report_doc *d = doc_new();
	struct buf b = { 0 };
	char err[256] = "";

	(void)state;
	add_section(d, (enum report_kind)42, "odd");
	buf_puts(&b, "kept");
	assert_int_equal(render_html(d, 0, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "section \"odd\": unknown kind 42");
	assert_string_equal(b.data, "kept");
	err[0] = '\0';
	assert_int_equal(render_text(d, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "section \"odd\": unknown kind 42");
	assert_string_equal(b.data, "kept");
	buf_free(&b);
	report_doc_free(d);
}

/* util_utf8_width, which the text renderer aligns by (src/util.c). */
static void
test_utf8_width(void **state)
{
	(void)state;
	assert_int_equal(util_utf8_width(""), 0);
	assert_int_equal(util_utf8_width("Munchen"), 7);
	assert_int_equal(util_utf8_width("München"), 7);
	assert_int_equal(util_utf8_width("Mu\xCC\x88nchen"), 7);   /* u + combining diaeresis */
	assert_int_equal(util_utf8_width("日本語"), 6);
	assert_int_equal(util_utf8_width("ｱＡ"), 3);              /* halfwidth kana, fullwidth A */
	assert_int_equal(util_utf8_width("▲ 12.5%"), 7);
	assert_int_equal(util_utf8_width("\xF0\x9F\x93\x88"), 2);  /* an emoji */
	assert_int_equal(util_utf8_width("a\xFF" "b"), 3);         /* an invalid byte counts one */
	assert_int_equal(util_utf8_width("\xE6\x97"), 2);          /* a cut sequence: two bytes */
	assert_int_equal(util_utf8_width("\xC0\xAF"), 2);          /* overlong: two invalid bytes */
	assert_int_equal(util_utf8_width("\xED\xA0\x80"), 3);      /* a surrogate: invalid */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escaping),
		cmocka_unit_test(test_html_sections_in_order),
		cmocka_unit_test(test_html_images),
		cmocka_unit_test(test_html_levels),
		cmocka_unit_test(test_html_change),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_control_characters),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_utf8_intact),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_utf8_width),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
