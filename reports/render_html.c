/* render_html.c: a report as HTML for mail clients: layout tables, inline CSS, no scripts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "report.h"

/*
 * What Outlook (Word's engine), Gmail, Apple Mail and Thunderbird all show the same: nested
 * tables for the layout, every style inline (Gmail drops <style> blocks in some views), sizes
 * in attributes as well as in CSS (Outlook reads the attributes), no scripts, no web fonts,
 * no external assets (the graphs are cid: parts of the mail or files beside the page).
 */
#define HTML_WIDTH 760
#define HTML_TEXT "#101828"
#define HTML_MUTED "#5D6B7E"
#define HTML_BORDER "#E4E7EC"
#define HTML_HEAD "#344054"
#define HTML_GREEN "#067647"
#define HTML_GREEN_BG "#DCFAE6"
#define HTML_AMBER_BG "#FEF0C7"
#define HTML_RED_BG "#FEE4E2"

#define HTML_CELL "padding:6px 8px;border-bottom:1px solid " HTML_BORDER ";vertical-align:top;"
#define HTML_TH "padding:6px 8px;border-bottom:2px solid #D0D5DD;font-size:12px;color:" \
	HTML_MUTED ";font-weight:bold;white-space:nowrap;"

/* Appends s escaped; NULL (an optional string of the doc) as nothing. */
static void
esc(struct buf *b, const char *s)
{
	if (s)
		buf_html_escape(b, s);
}

/* Appends s escaped, its line breaks as <br> (a CR before a LF dropped). */
static void
put_lines(struct buf *b, const char *s)
{
	while (s && *s) {
		size_t n = strcspn(s, "\n");
		size_t keep = n > 0 && s[n - 1] == '\r' ? n - 1 : n;
		char *line = xstrndup(s, keep);

		buf_html_escape(b, line);
		free(line);
		if (s[n] == '\0')
			break;
		buf_puts(b, "<br>\n");
		s += n + 1;
	}
}

/*
 * The style of a cell at level l: amber for WARNING, red for CRITICAL (the colours of the
 * alert mails' severities on a light ground), nothing for OK. Into s (64 bytes suffice).
 */
static void
level_style(char *s, size_t size, enum report_level l)
{
	if (l == REPORT_OK)
		s[0] = '\0';
	else
		snprintf(s, size, "background:%s;color:%s;font-weight:bold;",
		    l == REPORT_WARNING ? HTML_AMBER_BG : HTML_RED_BG,
		    email_severity_color(l == REPORT_WARNING ? "warning" : "critical"));
}

/* Opens a data table across the content's width. */
static void
table_open(struct buf *b)
{
	buf_puts(b, "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	    "style=\"width:100%;border-collapse:collapse;font-size:13px;\">\n");
}

/* A header row of n columns: the first nleft left-aligned (names), the others right (numbers). */
static void
table_head(struct buf *b, const char *const *cols, size_t n, size_t nleft)
{
	buf_puts(b, "<tr>");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "<th align=\"%s\" style=\"" HTML_TH "text-align:%s;\">%s</th>",
		    i < nleft ? "left" : "right", i < nleft ? "left" : "right", cols[i]);
	buf_puts(b, "</tr>\n");
}

/* Opens a cell: right for numbers (no wrapping), style (NULL: none) added to the base style. */
static void
cell_open(struct buf *b, int right, const char *style)
{
	buf_printf(b, "<td align=\"%s\" style=\"" HTML_CELL "text-align:%s;%s%s\">",
	    right ? "right" : "left", right ? "right" : "left", right ? "white-space:nowrap;" : "",
	    style ? style : "");
}

/* A whole cell holding text (escaped). */
static void
put_cell(struct buf *b, const char *text, int right, const char *style)
{
	cell_open(b, right, style);
	esc(b, text);
	buf_puts(b, "</td>");
}

/* A number of the doc: its text, coloured by its level. */
static void
put_level_cell(struct buf *b, const struct report_cell *c)
{
	char style[96];

	level_style(style, sizeof(style), c->level);
	put_cell(b, c->text, 1, style);
}

/* A heading of a table inside a section (the alert summary's parts). */
static void
put_subheading(struct buf *b, const char *text)
{
	buf_puts(b, "<div style=\"margin:14px 0 2px 0;font-size:14px;font-weight:bold;\">");
	esc(b, text);
	buf_puts(b, "</div>\n");
}

/* ---- sections ---------------------------------------------------------------------------- */

static void
put_kpi_row(struct buf *b, const struct report_kpi_row *r)
{
	const char *color = r->direction > 0 ? HTML_GREEN :
	    r->direction < 0 ? email_severity_color("critical") : HTML_MUTED;
	char style[160];
	size_t n;

	buf_puts(b, "<tr>");
	cell_open(b, 0, NULL);
	esc(b, r->name);
	if (r->unit && r->unit[0]) {
		buf_puts(b, " <span style=\"font-size:11px;color:" HTML_MUTED ";\">");
		esc(b, r->unit);
		buf_puts(b, "</span>");
	}
	buf_puts(b, "</td>");
	for (int i = 0; i < REPORT_NSTATS; i++)
		put_level_cell(b, &r->stat[i]);
	/* the change: green up, red down, grey flat or unknown; its own level as any cell's */
	level_style(style, sizeof(style), r->change.level);
	n = strlen(style);
	snprintf(style + n, sizeof(style) - n, "color:%s;font-weight:bold;", color);
	put_cell(b, r->change.text, 1, style);
	buf_puts(b, "</tr>\n");
}

static void
put_kpis(struct buf *b, const struct report_section *s)
{
	static const char *const head[] = { "Name", "Last", "Min", "Avg", "Max", "P95", "Change" };

	if (s->nkpis == 0)
		return;
	table_open(b);
	table_head(b, head, sizeof(head) / sizeof(head[0]), 1);
	for (size_t i = 0; i < s->nkpis; i++)
		put_kpi_row(b, &s->kpis[i]);
	buf_puts(b, "</table>\n");
}

/* The graph, or the reason there is none in a grey box. Returns -1 with err if it has no source. */
static int
put_graph(struct buf *b, const struct report_graph *g, int images_cid, char *err, size_t errlen)
{
	const char *src = images_cid ? g->cid : g->file;

	if (g->png == NULL) {
		buf_puts(b, "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\">"
		    "<tr><td bgcolor=\"#F2F4F7\" style=\"padding:24px 16px;background:#F2F4F7;border:1px "
		    "solid " HTML_BORDER ";color:" HTML_MUTED ";font-size:13px;text-align:center;\">"
		    "Graph not available: ");
		esc(b, g->error ? g->error : "no image");
		buf_puts(b, "</td></tr></table>\n");
		return 0;
	}
	if (src == NULL || src[0] == '\0') {
		snprintf(err, errlen, "graph \"%s\" has no %s", g->title ? g->title : "",
		    images_cid ? "Content-ID" : "file name");
		return -1;
	}
	buf_printf(b, "<img src=\"%s", images_cid ? "cid:" : "");
	esc(b, src);
	buf_puts(b, "\"");
	if (g->width > 0 && g->height > 0)
		buf_printf(b, " width=\"%d\" height=\"%d\"", g->width, g->height);
	buf_puts(b, " alt=\"");
	esc(b, g->title);
	buf_puts(b, "\" style=\"display:block;max-width:100%;height:auto;border:0;\">\n");
	return 0;
}

static void
put_avail_row(struct buf *b, const struct report_avail_row *r)
{
	char style[96];

	snprintf(style, sizeof(style), "background:%s;color:%s;font-weight:bold;",
	    r->met ? HTML_GREEN_BG : HTML_RED_BG,
	    r->met ? HTML_GREEN : email_severity_color("critical"));
	buf_puts(b, "<tr>");
	put_cell(b, r->target, 0, "word-break:break-word;");
	put_cell(b, r->objective.text, 1, NULL);
	put_cell(b, r->up.text, 1, style);
	put_cell(b, r->downtime.text, 1, NULL);
	put_cell(b, r->maintenance.text, 1, NULL);
	put_cell(b, r->nodata.text, 1, NULL);
	buf_puts(b, "</tr>\n");
}

static void
put_windows(struct buf *b, const struct report_section *s)
{
	if (s->nwindows == 0)
		return;
	put_subheading(b, "Maintenance windows");
	buf_puts(b, "<ul style=\"margin:4px 0 0 0;padding:0 0 0 20px;font-size:13px;\">\n");
	for (size_t i = 0; i < s->nwindows; i++) {
		const struct report_window *w = &s->windows[i];

		buf_puts(b, "<li style=\"margin:2px 0;\">");
		esc(b, w->text);
		buf_puts(b, ": <b>");
		esc(b, w->name);
		buf_puts(b, "</b>");
		if (w->comment && w->comment[0]) {
			buf_puts(b, " &ndash; ");
			esc(b, w->comment);
		}
		buf_puts(b, "</li>\n");
	}
	buf_puts(b, "</ul>\n");
}

static void
put_availability(struct buf *b, const struct report_section *s)
{
	static const char *const head[] = {
		"Target", "Objective", "Up", "Downtime", "Maintenance", "No data",
	};

	if (s->navail > 0) {
		table_open(b);
		table_head(b, head, sizeof(head) / sizeof(head[0]), 1);
		for (size_t i = 0; i < s->navail; i++)
			put_avail_row(b, &s->avail[i]);
		buf_puts(b, "</table>\n");
	}
	put_windows(b, s);
}

/* One of the four figures at the top of the alert summary. */
static void
put_figure(struct buf *b, const char *value, const char *label)
{
	buf_puts(b, "<td width=\"25%\" style=\"width:25%;padding:10px 8px;border:1px solid "
	    HTML_BORDER ";text-align:center;\"><div style=\"font-size:20px;font-weight:bold;\">");
	esc(b, value);
	buf_puts(b, "</div><div style=\"font-size:12px;color:" HTML_MUTED ";\">");
	esc(b, label);
	buf_puts(b, "</div></td>");
}

/* A table of counts (severities or rules): name, fired, firing time. */
static void
put_counts(struct buf *b, const char *heading, const char *what, const struct report_count *c,
    size_t n, int severities)
{
	const char *head[] = { what, "Fired", "Firing time" };

	if (n == 0)
		return;
	put_subheading(b, heading);
	table_open(b);
	table_head(b, head, 3, 1);
	for (size_t i = 0; i < n; i++) {
		char num[32];

		buf_puts(b, "<tr>");
		cell_open(b, 0, NULL);
		if (severities) {
			buf_printf(b, "<span style=\"display:inline-block;padding:1px 8px;"
			    "border-radius:3px;background:%s;color:#FFFFFF;font-size:12px;"
			    "font-weight:bold;\">", email_severity_color(c[i].name));
			esc(b, c[i].name);
			buf_puts(b, "</span>");
		} else {
			esc(b, c[i].name);
		}
		buf_puts(b, "</td>");
		snprintf(num, sizeof(num), "%zu", c[i].n);
		put_cell(b, num, 1, NULL);
		put_cell(b, c[i].text, 1, NULL);
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</table>\n");
}

static void
put_incidents(struct buf *b, const struct report_incident *inc, size_t n)
{
	static const char *const head[] = { "Rule", "Instance", "Severity", "Started", "Duration" };

	if (n == 0)
		return;
	put_subheading(b, "Longest incidents");
	table_open(b);
	table_head(b, head, sizeof(head) / sizeof(head[0]), 3);
	for (size_t i = 0; i < n; i++) {
		char sev[48], dur[96];

		snprintf(sev, sizeof(sev), "color:%s;font-weight:bold;",
		    email_severity_color(inc[i].severity));
		/* one still firing at the end of the period stands out */
		dur[0] = '\0';
		if (isnan(inc[i].end))
			snprintf(dur, sizeof(dur), "background:" HTML_RED_BG ";color:%s;"
			    "font-weight:bold;", email_severity_color("critical"));
		buf_puts(b, "<tr>");
		put_cell(b, inc[i].rule, 0, NULL);
		put_cell(b, inc[i].labels, 0, "word-break:break-word;");
		put_cell(b, inc[i].severity, 0, sev);
		put_cell(b, inc[i].when, 1, NULL);
		put_cell(b, inc[i].duration, 1, dur);
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</table>\n");
}

static void
put_alerts(struct buf *b, const struct report_alerts *a)
{
	char fired[32], resolved[32];

	snprintf(fired, sizeof(fired), "%zu", a->fired);
	snprintf(resolved, sizeof(resolved), "%zu", a->resolved);
	buf_puts(b, "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	    "style=\"width:100%;border-collapse:collapse;\"><tr>");
	put_figure(b, fired, "fired");
	put_figure(b, resolved, "resolved");
	put_figure(b, a->firing_text, "total firing time");
	put_figure(b, a->mttr_text, "mean time to resolve");
	buf_puts(b, "</tr></table>\n");
	put_counts(b, "By severity", "Severity", a->severities, a->nseverities, 1);
	put_counts(b, "Noisiest rules", "Rule", a->noisiest, a->nnoisiest, 0);
	put_incidents(b, a->longest, a->nlongest);
}

/* One section: its heading, its content, its note. Returns -1 with err for a bad section. */
static int
put_section(struct buf *b, const struct report_section *s, int images_cid, char *err,
    size_t errlen)
{
	buf_puts(b, "<tr><td style=\"padding:20px 24px 4px 24px;\">\n<h2 style=\"margin:0 0 10px 0;"
	    "font-size:17px;font-weight:bold;color:" HTML_TEXT ";\">");
	esc(b, s->title);
	buf_puts(b, "</h2>\n");
	switch (s->kind) {
	case REPORT_KPI:
		put_kpis(b, s);
		break;
	case REPORT_GRAPH:
		if (put_graph(b, &s->graph, images_cid, err, errlen) == -1)
			return -1;
		break;
	case REPORT_AVAILABILITY:
		put_availability(b, s);
		break;
	case REPORT_ALERTS:
		put_alerts(b, &s->alerts);
		break;
	case REPORT_TEXT:
		buf_puts(b, "<p style=\"margin:0;font-size:14px;\">");
		put_lines(b, s->text);
		buf_puts(b, "</p>\n");
		break;
	default:
		snprintf(err, errlen, "section \"%s\": unknown kind %d", s->title ? s->title : "",
		    (int)s->kind);
		return -1;
	}
	if (s->note && s->note[0]) {
		buf_puts(b, "<p style=\"margin:8px 0 0 0;font-size:13px;font-style:italic;color:"
		    HTML_MUTED ";\"><i>");
		put_lines(b, s->note);
		buf_puts(b, "</i></p>\n");
	}
	buf_puts(b, "</td></tr>\n");
	return 0;
}

static void
put_head(struct buf *b, const struct report_doc *d)
{
	buf_puts(b, "<!DOCTYPE html>\n<html><head>\n<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	esc(b, d->title);
	buf_puts(b, "</title></head>\n<body style=\"margin:0;padding:0;background:#F2F4F7;\">\n"
	    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
	    "border=\"0\" bgcolor=\"#F2F4F7\" style=\"background:#F2F4F7;\"><tr>"
	    "<td align=\"center\" style=\"padding:16px 8px;\">\n");
	buf_printf(b, "<table role=\"presentation\" width=\"%d\" cellpadding=\"0\" cellspacing=\"0\" "
	    "border=\"0\" bgcolor=\"#FFFFFF\" style=\"width:100%%;max-width:%dpx;background:#FFFFFF;"
	    "border:1px solid " HTML_BORDER ";font-family:Arial,Helvetica,sans-serif;font-size:14px;"
	    "line-height:1.4;color:" HTML_TEXT ";text-align:left;\">\n", HTML_WIDTH, HTML_WIDTH);
	buf_puts(b, "<tr><td bgcolor=\"" HTML_HEAD "\" style=\"padding:18px 24px;background:" HTML_HEAD
	    ";color:#FFFFFF;\">\n<div style=\"font-size:21px;font-weight:bold;\">");
	esc(b, d->title);
	buf_puts(b, "</div>\n<div style=\"margin-top:4px;font-size:13px;color:#D0D5DD;\">");
	esc(b, d->period_text);
	buf_puts(b, "</div>\n</td></tr>\n");
}

static void
put_foot(struct buf *b, const struct report_doc *d)
{
	buf_puts(b, "<tr><td style=\"padding:14px 24px;border-top:1px solid " HTML_BORDER ";"
	    "font-size:12px;color:" HTML_MUTED ";\">Generated by reeve on ");
	esc(b, d->hostname ? d->hostname : "?");
	buf_puts(b, " at ");
	esc(b, d->generated_text);
	buf_puts(b, "</td></tr>\n</table>\n</td></tr></table>\n</body></html>\n");
}

/*
 * Appends the report as one HTML page. images_cid: 1 for "cid:CID" sources (the mail), 0 for
 * "FILE" (the page beside its PNG files). Returns 0, or -1 with a message in err (a section of
 * an unknown kind, a graph without the source asked for) and out as it was.
 */
int
render_html(const struct report_doc *d, int images_cid, struct buf *out, char *err,
    size_t errlen)
{
	size_t mark = out->len;

	put_head(out, d);
	for (size_t i = 0; i < d->nsections; i++) {
		if (put_section(out, &d->sections[i], images_cid, err, errlen) == -1) {
			buf_truncate(out, mark);
			return -1;
		}
	}
	put_foot(out, d);
	return 0;
}
