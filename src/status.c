/* status.c: the status page at /: firing alerts, probes and graphs of the host in one HTML page. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "graph.h"
#include "promapi.h"
#include "registry.h"
#include "report.h"
#include "rule.h"
#include "ruler.h"
#include "status.h"
#include "util.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define STATUS_REFRESH 30      /* seconds between a browser's reloads of the page */

/*
 * lock guards page and made. It is held while a page is made, so that requests arriving
 * meanwhile wait for that one render and get its bytes instead of drawing the graphs again.
 */
struct status {
	struct registry *reg;
	struct ruler *ruler;
	struct promapi *promapi;
	char *hostname;
	pthread_mutex_t lock;
	struct buf page;
	double made;               /* monotonic time the page was made; 0: never */
};

/*
 * The graphs of the host: drawn only when the probe behind them reports (needs is one of its
 * metrics), so a reeve without that probe shows no empty frame. A selector draws its RRD
 * files (counters are stored as per-second rates); other expressions go through
 * report_plot's temporary files.
 */
static const struct host_graph {
	const char *title;
	const char *needs;
	const char *expr;
} host_graphs[] = {
	{ "CPU use (share of all cpus, idle excluded)", "cpu_usage_ratio",
	  "sum without (mode) (cpu_usage_ratio{mode!=\"idle\"})" },
	{ "Load average", "load1", "{__name__=~\"load(1|5|15)\"}" },
	{ "Memory used (bytes)", "memory_used_bytes", "memory_used_bytes" },
	{ "Network received (bytes per second)", "network_receive_bytes_total",
	  "network_receive_bytes_total" },
	{ "Network sent (bytes per second)", "network_transmit_bytes_total",
	  "network_transmit_bytes_total" },
	{ "Filesystem use (share of the size in use)", "filesystem_size_bytes",
	  "max by (mountpoint) (1 - filesystem_avail_bytes / filesystem_size_bytes)" },
};
#define NGRAPHS (sizeof(host_graphs) / sizeof(host_graphs[0]))

struct status *
status_new(const struct status_params *p)
{
	struct status *s = xcalloc(1, sizeof(*s));

	s->reg = p->reg;
	s->ruler = p->ruler;
	s->promapi = p->promapi;
	s->hostname = xstrdup(p->hostname ? p->hostname : "");
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void
status_free(struct status *s)
{
	if (s == NULL)
		return;
	buf_free(&s->page);
	free(s->hostname);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- what the page shows, copied out of the registry and the ruler ------------------------- */

struct alert_row {
	char *rule, *severity, *summary;
	char *labels;              /* the label chips, already HTML */
	enum rule_state state;
	int flapping;
	double since, value;
};

struct alerts {
	struct alert_row *v;
	size_t n, nfiring;
};

struct probe_row {
	char *name, *type;
	double up, ts, duration, failures, timeouts, samples;
};

/* ruler_alerts callback: copies one instance (it runs under the ruler's lock). */
static void
take_alert(void *arg, const struct ruler_alert *a)
{
	struct alerts *al = arg;
	struct alert_row *r;
	struct buf l = { 0 };

	al->v = xreallocarray(al->v, al->n + 1, sizeof(*al->v));
	r = &al->v[al->n++];
	for (size_t i = 0; i < a->nlabels; i++) {
		buf_puts(&l, "<code class=\"lbl\">");
		buf_html_escape(&l, a->labels[i].name);
		buf_puts(&l, "=");
		buf_html_escape(&l, a->labels[i].value);
		buf_puts(&l, "</code> ");
	}
	if (l.data == NULL)
		buf_puts(&l, "<span class=\"muted\">–</span>");
	*r = (struct alert_row){ xstrdup(a->rule), xstrdup(a->severity ? a->severity : ""),
		a->summary ? xstrdup(a->summary) : NULL, buf_steal(&l), a->state, a->flapping,
		a->since, a->value };
	al->nfiring += a->state == RULE_FIRING;
}

static void
alerts_free(struct alerts *al)
{
	for (size_t i = 0; i < al->n; i++) {
		free(al->v[i].rule);
		free(al->v[i].severity);
		free(al->v[i].summary);
		free(al->v[i].labels);
	}
	free(al->v);
}

static const char *
label_of(const struct reg_series *s, const char *name)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

/* The latest value of metric's series whose label probe is probe; NaN: none. Read lock held. */
static double
probe_value(struct registry *reg, const char *metric, const char *probe)
{
	struct reg_family *f = reg_family_find(reg, metric);
	const char *v;

	for (size_t i = 0; f != NULL && i < f->nseries; i++)
		if (!f->series[i]->stale && (v = label_of(f->series[i], "probe")) != NULL &&
		    strcmp(v, probe) == 0)
			return f->series[i]->value;
	return NAN;
}

/* The value of a metric without labels (reeve's own); NaN: not reported. Read lock held. */
static double
self_value(struct registry *reg, const char *metric)
{
	struct reg_family *f = reg_family_find(reg, metric);

	for (size_t i = 0; f != NULL && i < f->nseries; i++)
		if (!f->series[i]->stale && f->series[i]->nlabels == 0)
			return f->series[i]->value;
	return NAN;
}

/* Down ones first, then by name. */
static int
cmp_probe(const void *a, const void *b)
{
	const struct probe_row *x = a, *y = b;
	int xd = !(x->up > 0), yd = !(y->up > 0);

	if (xd != yd)
		return yd - xd;
	return strcmp(x->name, y->name);
}

/* Every probe that reported, from its reeve_probe_* series (src/sched.c). Takes the read lock. */
static struct probe_row *
probes_collect(struct registry *reg, size_t *n)
{
	struct probe_row *v = NULL;
	struct reg_family *f;

	*n = 0;
	reg_rdlock(reg);
	f = reg_family_find(reg, "reeve_probe_up");
	for (size_t i = 0; f != NULL && i < f->nseries; i++) {
		const struct reg_series *s = f->series[i];
		const char *name = label_of(s, "probe"), *type = label_of(s, "type");

		if (s->stale || name == NULL)
			continue; /* a probe a reload removed */
		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[*n] = (struct probe_row){ xstrdup(name), xstrdup(type ? type : ""), s->value, s->ts,
			probe_value(reg, "reeve_probe_duration_seconds", name),
			probe_value(reg, "reeve_probe_failures_total", name),
			probe_value(reg, "reeve_probe_timeouts_total", name),
			probe_value(reg, "reeve_probe_samples", name) };
		(*n)++;
	}
	reg_unlock(reg);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_probe);
	return v;
}

static void
probes_free(struct probe_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].type);
	}
	free(v);
}

/* ---- pieces of HTML ---------------------------------------------------------------------- */

static const char style[] =
	"*{box-sizing:border-box}"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
	"sans-serif;color:#101828;background:#F9FAFB}"
	"header{background:#344054;color:#FFFFFF;padding:14px 24px}"
	"header h1{margin:0;font-size:20px;font-weight:600}"
	"header h1 .host{font-weight:400;opacity:.85}"
	"header p{margin:4px 0 0;font-size:13px;color:#D0D5DD}"
	"header .bad{color:#FDA29B;font-weight:600}"
	"main{padding:8px 24px 24px;max-width:1240px}"
	"h2{font-size:16px;margin:22px 0 8px}"
	"h2 .n{display:inline-block;min-width:22px;padding:0 7px;margin-left:6px;border-radius:11px;"
	"background:#EAECF0;font-size:12px;line-height:22px;text-align:center;vertical-align:1px}"
	"h2 .n.hot{background:#D92D20;color:#FFFFFF}"
	"h3{font-size:14px;margin:16px 0 6px;color:#475467}"
	"table{border-collapse:collapse;width:100%;background:#FFFFFF;border:1px solid #EAECF0}"
	"th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #EAECF0;vertical-align:top}"
	"th{background:#F2F4F7;font-weight:600;font-size:12px;color:#475467}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}"
	"td.when{white-space:nowrap}"
	"tr.firing td{background:#FEE4E2}"
	"tr.pending td{background:#FEF0C7}"
	"code.lbl{display:inline-block;margin:1px 2px 1px 0;padding:0 5px;border-radius:3px;"
	"background:#FFFFFFB0;border:1px solid #D0D5DD;font-size:12px}"
	".badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600}"
	".up{background:#DCFAE6;color:#067647}"
	".down{background:#D92D20;color:#FFFFFF}"
	".sev-critical{background:#B42318;color:#FFFFFF}"
	".sev-warning{background:#F79009;color:#FFFFFF}"
	".sev-info{background:#1570EF;color:#FFFFFF}"
	".sev-other{background:#667085;color:#FFFFFF}"
	".muted{color:#667085}"
	".empty{margin:0;padding:14px 16px;background:#FFFFFF;border:1px dashed #D0D5DD;color:#475467}"
	".empty.ok::before{content:'\\2713';color:#079455;font-weight:700;margin-right:8px}"
	".graphs{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:12px}"
	"figure{margin:0;padding:8px;background:#FFFFFF;border:1px solid #EAECF0}"
	"figure img{display:block;max-width:100%;height:auto}"
	"figure .nograph{padding:12px;color:#475467}"
	"footer{padding:8px 24px 24px;color:#475467;font-size:13px}"
	"footer ul{margin:4px 0;padding-left:18px}"
	"a{color:#175CD3}";

static void
put_text(struct buf *b, const char *s)
{
	buf_html_escape(b, s ? s : "");
}

/* A local time for people, in a <time> element that carries it in RFC 3339 too. */
static void
put_time(struct buf *b, double t)
{
	char iso[48], text[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (isnan(t) || localtime_r(&tt, &tm) == NULL) {
		buf_puts(b, "–");
		return;
	}
	strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(b, "<time datetime=\"%s\">%s</time>", util_fmt_rfc3339(iso, sizeof(iso), t),
	    text);
}

/* How long ago t was: "3 min ago". */
static void
put_ago(struct buf *b, double t, double now)
{
	char d[40];

	if (isnan(t))
		return;
	report_format_duration(d, sizeof(d), now > t ? now - t : 0);
	buf_printf(b, " <span class=\"muted\">(%s ago)</span>", d);
}

/* A severity as a coloured badge; the class comes from a fixed list, never from the text. */
static void
put_severity(struct buf *b, const char *sev)
{
	const char *cls = strcmp(sev, "critical") == 0 || strcmp(sev, "page") == 0 ? "critical" :
	    strcmp(sev, "warning") == 0 ? "warning" : strcmp(sev, "info") == 0 ? "info" : "other";

	buf_printf(b, "<span class=\"badge sev-%s\">", cls);
	put_text(b, sev);
	buf_puts(b, "</span>");
}

static void
put_header(struct status *s, struct buf *b, const struct alerts *al, const struct probe_row *p,
    size_t np, double now)
{
	double start, reload_ok, reload_time;
	size_t down = 0;
	char d[40];

	reg_rdlock(s->reg);
	start = self_value(s->reg, "reeve_start_time_seconds");
	reload_ok = self_value(s->reg, "reeve_config_last_reload_successful");
	reload_time = self_value(s->reg, "reeve_config_last_reload_success_timestamp_seconds");
	reg_unlock(s->reg);
	for (size_t i = 0; i < np; i++)
		down += !(p[i].up > 0);
	buf_puts(b, "<header>\n<h1>reeve <span class=\"host\">on ");
	put_text(b, s->hostname);
	buf_puts(b, "</span></h1>\n<p>version " VERSION);
	if (!isnan(start)) {
		report_format_duration(d, sizeof(d), now - start);
		buf_printf(b, " · up %s (since ", d);
		put_time(b, start);
		buf_puts(b, ")");
	}
	if (!isnan(reload_ok) && reload_ok == 0)
		buf_puts(b, " · <span class=\"bad\">the last configuration reload was rejected "
		    "(see the log); the previous configuration runs</span>");
	else if (!isnan(reload_time)) {
		buf_puts(b, " · configuration loaded ");
		put_time(b, reload_time);
	}
	buf_puts(b, "</p>\n<p>");
	if (s->ruler != NULL)
		buf_printf(b, "%zu firing · %zu pending · ", al->nfiring, al->n - al->nfiring);
	buf_printf(b, "%zu probes, %zu down · page made ", np, down);
	put_time(b, now);
	buf_printf(b, ", reloads every %d s</p>\n</header>\n", STATUS_REFRESH);
}

/* One table of alerts: the firing ones (firing 1) or the pending and nodata ones. */
static void
put_alert_table(struct buf *b, const struct alerts *al, int firing, double now)
{
	buf_printf(b, "<table id=\"%s\">\n<thead><tr><th>Rule</th><th>Severity</th>%s"
	    "<th>Labels</th><th>Summary</th><th>Since</th></tr></thead>\n<tbody>\n",
	    firing ? "firing" : "pending", firing ? "" : "<th>State</th>");
	for (size_t i = 0; i < al->n; i++) {
		const struct alert_row *r = &al->v[i];

		if ((r->state == RULE_FIRING) != firing)
			continue;
		buf_printf(b, "<tr class=\"%s\"><td><b>", firing ? "firing" : "pending");
		put_text(b, r->rule);
		buf_puts(b, "</b>");
		if (r->flapping)
			buf_puts(b, " <span class=\"badge sev-other\">flapping</span>");
		buf_puts(b, "</td><td>");
		put_severity(b, r->severity);
		if (!firing)
			buf_printf(b, "</td><td>%s", r->state == RULE_NODATA ? "no data" : "pending");
		buf_printf(b, "</td><td>%s</td><td>", r->labels);
		if (r->summary != NULL && *r->summary != '\0')
			put_text(b, r->summary);
		else
			buf_puts(b, "<span class=\"muted\">–</span>");
		buf_puts(b, "</td><td class=\"when\">");
		put_time(b, r->since);
		put_ago(b, r->since, now);
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody>\n</table>\n");
}

static void
put_alerts(struct status *s, struct buf *b, const struct alerts *al, double now)
{
	size_t pending = al->n - al->nfiring;

	buf_printf(b, "<section id=\"alerts\">\n<h2>Firing alerts <span class=\"n%s\">%zu</span></h2>\n",
	    al->nfiring ? " hot" : "", al->nfiring);
	if (s->ruler == NULL)
		buf_puts(b, "<p class=\"empty\">No alert rules are evaluated here.</p>\n");
	else if (al->nfiring == 0)
		buf_puts(b, "<p class=\"empty ok\">No alerts firing.</p>\n");
	else
		put_alert_table(b, al, 1, now);
	if (pending > 0) {
		buf_printf(b, "<h3>Pending or without data (%zu)</h3>\n", pending);
		put_alert_table(b, al, 0, now);
	}
	buf_puts(b, "</section>\n");
}

static void
put_number(struct buf *b, double v, const char *unit)
{
	char t[48];

	if (isnan(v)) {
		buf_puts(b, "<span class=\"muted\">–</span>");
		return;
	}
	if (strcmp(unit, "seconds") == 0)
		report_format_value(t, sizeof(t), v, unit);
	else
		snprintf(t, sizeof(t), "%.0f", v);
	buf_puts(b, t);
}

static void
put_probes(struct buf *b, const struct probe_row *p, size_t np, double now)
{
	buf_printf(b, "<section id=\"probes\">\n<h2>Probes <span class=\"n\">%zu</span></h2>\n", np);
	if (np == 0) {
		buf_puts(b, "<p class=\"empty\">No probe has reported yet: the first collections "
		    "run right after start.</p>\n</section>\n");
		return;
	}
	buf_puts(b, "<table id=\"probes-table\">\n<thead><tr><th>Probe</th><th>Type</th>"
	    "<th>State</th><th>Last collection</th><th>Duration</th><th>Failures</th>"
	    "<th>Timeouts</th><th>Samples</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < np; i++) {
		int up = p[i].up > 0;

		buf_puts(b, "<tr><td><b>");
		put_text(b, p[i].name);
		buf_puts(b, "</b></td><td>");
		put_text(b, p[i].type);
		buf_printf(b, "</td><td><span class=\"badge %s\">%s</span></td><td class=\"when\">",
		    up ? "up" : "down", up ? "up" : "down");
		put_time(b, p[i].ts);
		put_ago(b, p[i].ts, now);
		buf_puts(b, "</td><td class=\"num\">");
		put_number(b, p[i].duration, "seconds");
		buf_puts(b, "</td><td class=\"num\">");
		put_number(b, p[i].failures, "");
		buf_puts(b, "</td><td class=\"num\">");
		put_number(b, p[i].timeouts, "");
		buf_puts(b, "</td><td class=\"num\">");
		put_number(b, p[i].samples, "");
		buf_puts(b, "</td></tr>\n");
	}
	buf_puts(b, "</tbody>\n</table>\n</section>\n");
}

/* The "error" of promapi's JSON answer, or the whole answer when it has none. */
static char *
graph_error(const struct buf *ans)
{
	cJSON *j = ans->data ? cJSON_ParseWithLengthOpts(ans->data, ans->len, NULL, 0) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	char *msg = xstrdup(cJSON_IsString(e) ? e->valuestring : ans->data ? ans->data : "unknown");

	cJSON_Delete(j);
	return msg;
}

/* One graph through promapi_graph (its cache, report_plot), as a data: URI; or why not. */
static void
put_graph(struct status *s, struct buf *b, const struct host_graph *g)
{
	const struct promapi_param q[] = { { "expr", g->expr }, { "title", g->title },
		{ "width", "440" }, { "height", "130" } };
	struct buf ans = { 0 };
	unsigned char *img = NULL;
	size_t len = 0;
	int w, h;

	buf_puts(b, "<figure>");
	if (promapi_graph(s->promapi, "/api/v1/graph.png", q, sizeof(q) / sizeof(q[0]), NULL, 0,
	    &img, &len, &ans) == 200) {
		graph_png_size(img, len, &w, &h);
		buf_puts(b, "<img src=\"data:image/png;base64,");
		buf_base64(b, img, len, 0);
		buf_printf(b, "\" width=\"%d\" height=\"%d\" alt=\"", w, h);
		put_text(b, g->title);
		buf_puts(b, "\">");
	} else {
		char *msg = graph_error(&ans);

		buf_puts(b, "<div class=\"nograph\"><b>");
		put_text(b, g->title);
		buf_puts(b, "</b><br>not drawn: ");
		put_text(b, msg);
		buf_puts(b, "</div>");
		free(msg);
	}
	buf_puts(b, "</figure>\n");
	free(img);
	buf_free(&ans);
}

static void
put_graphs(struct status *s, struct buf *b)
{
	int have[NGRAPHS], any = 0;

	reg_rdlock(s->reg);
	for (size_t i = 0; i < NGRAPHS; i++)
		any |= have[i] = reg_family_find(s->reg, host_graphs[i].needs) != NULL;
	reg_unlock(s->reg);
	buf_puts(b, "<section id=\"host\">\n<h2>Host, last hour</h2>\n");
	if (s->promapi == NULL || !any) {
		buf_puts(b, "<p class=\"empty\">No graphs: none of the host probes (cpu, load, "
		    "memory, network, filesystem) has reported here.</p>\n</section>\n");
		return;
	}
	buf_puts(b, "<div class=\"graphs\">\n");
	for (size_t i = 0; i < NGRAPHS; i++)
		if (have[i])
			put_graph(s, b, &host_graphs[i]);
	buf_puts(b, "</div>\n</section>\n");
}

static void
put_footer(struct buf *b)
{
	static const char *const links[][2] = {
		{ "/metrics", "every series now, in Prometheus's text format" },
		{ "/api/v1/alerts", "the pending and firing alerts (JSON)" },
		{ "/api/v1/rules", "the alert and recording rules and their health (JSON)" },
		{ "/api/v1/alerts/history", "what the alerts did in the last day (JSON)" },
		{ "/api/v1/silences", "silences and acknowledgements (JSON)" },
		{ "/api/v1/reports", "the archived reports (JSON)" },
		{ "/readyz", "ready once every probe collected" },
	};

	buf_puts(b, "<footer>\n<h2>API</h2>\n<ul>\n");
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		buf_printf(b, "<li><a href=\"%s\">%s</a> %s</li>\n", links[i][0], links[i][0],
		    links[i][1]);
	buf_puts(b, "</ul>\n<p>Queries and graphs of the history: /api/v1/query, "
	    "/api/v1/query_range and /api/v1/graph.png?expr=… (Grafana's Prometheus data source "
	    "works too). Every endpoint is described in docs/http-api.md.</p>\n</footer>\n");
}

/* Make the page into out. */
static void
render(struct status *s, struct buf *out)
{
	struct alerts al = { 0 };
	struct probe_row *p;
	double now = util_now();
	size_t np;

	if (s->ruler != NULL)
		ruler_alerts(s->ruler, take_alert, &al);
	p = probes_collect(s->reg, &np);
	buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	buf_printf(out, "<meta http-equiv=\"refresh\" content=\"%d\">\n<title>", STATUS_REFRESH);
	if (al.nfiring)
		buf_printf(out, "(%zu firing) ", al.nfiring);
	buf_puts(out, "reeve on ");
	put_text(out, s->hostname);
	buf_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
	put_header(s, out, &al, p, np, now);
	buf_puts(out, "<main>\n");
	put_alerts(s, out, &al, now);
	put_probes(out, p, np, now);
	put_graphs(s, out);
	buf_puts(out, "</main>\n");
	put_footer(out);
	buf_puts(out, "</body>\n</html>\n");
	probes_free(p, np);
	alerts_free(&al);
}

void
status_page(struct status *s, struct buf *out)
{
	pthread_mutex_lock(&s->lock);
	if (s->made == 0 || util_monotonic() - s->made >= STATUS_TTL) {
		buf_reset(&s->page);
		render(s, &s->page);
		s->made = util_monotonic();
	}
	buf_append(out, s->page.data, s->page.len);
	pthread_mutex_unlock(&s->lock);
}
