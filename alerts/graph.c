/* graph.c: graphs of stored series (PNG, SVG, PDF) with rrd_graph, serialised for the whole process. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rrd.h>

#include "graph.h"
#include "util.h"

/*
 * rrd_graph_v is not thread-safe in librrd 1.7 (a shared pango font map: segfaults, aborts
 * and hangs when two threads graph at once; fixed in 1.8). Every rrd_graph call in reeve
 * goes through graph_render, which holds this lock around it. Nothing else is under it.
 */
static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const palette[] = {
	"#D62728", "#1F77B4", "#2CA02C", "#FF7F0E", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F",
};

/*
 * Appends s to b for a colon-separated rrd_graph argument: ':' is written "\:" (a file or
 * a legend holding one), and a backslash, which would start an rrd_graph escape such as
 * "\n" or "\g", is written as '/'.
 */
static void
put_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ':')
			buf_puts(b, "\\:");
		else if (*s == '\\')
			buf_putc(b, '/');
		else
			buf_putc(b, *s);
	}
}

static int
valid_color(const char *c)
{
	if (c[0] != '#' || strlen(c) != 7)
		return 0;
	for (int i = 1; i < 7; i++)
		if (strchr("0123456789abcdefABCDEF", c[i]) == NULL)
			return 0;
	return 1;
}

/* rrd_graph's --imgformat word of a format, or NULL for a value out of the enum. */
static const char *
format_name(enum graph_format f)
{
	switch (f) {
	case GRAPH_PNG:
		return "PNG";
	case GRAPH_SVG:
		return "SVG";
	case GRAPH_PDF:
		return "PDF";
	}
	return NULL;
}

int
graph_render(const struct graph_spec *spec, enum graph_format f, unsigned char **out,
    size_t *len, char *err, size_t errlen)
{
	/* "graph" (argv[0], skipped by librrd's option parser), "-", 16 option words, 2 per line */
	char *argv[18 + 2 * GRAPH_MAX_LINES + GRAPH_MAX_MARKS + 1];
	char start[32], end[32], width[16], height[16];
	struct buf items[2 * GRAPH_MAX_LINES + GRAPH_MAX_MARKS];
	const char *format = format_name(f);
	rrd_info_t *info;
	int argc = 0, rc = -1;
	size_t ni = 0;

	*out = NULL;
	*len = 0;
	if (format == NULL) {
		snprintf(err, errlen, "unknown graph format %d", (int)f);
		return -1;
	}
	if (spec->nlines == 0 || spec->nlines > GRAPH_MAX_LINES) {
		snprintf(err, errlen, "a graph takes 1 to %d lines, not %zu", GRAPH_MAX_LINES,
		    spec->nlines);
		return -1;
	}
	if (spec->nmarks > GRAPH_MAX_MARKS) {
		snprintf(err, errlen, "a graph takes at most %d marks", GRAPH_MAX_MARKS);
		return -1;
	}
	if (!(spec->start < spec->end) || !isfinite(spec->start) || !isfinite(spec->end)) {
		snprintf(err, errlen, "the graph's time range is empty");
		return -1;
	}
	snprintf(start, sizeof(start), "%lld", (long long)floor(spec->start));
	snprintf(end, sizeof(end), "%lld", (long long)ceil(spec->end));
	snprintf(width, sizeof(width), "%d", spec->width > 0 ? spec->width : 600);
	snprintf(height, sizeof(height), "%d", spec->height > 0 ? spec->height : 200);
	argv[argc++] = "graph";
	argv[argc++] = "-";
	argv[argc++] = "--imgformat";
	argv[argc++] = (char *)format;
	argv[argc++] = "--start";
	argv[argc++] = start;
	argv[argc++] = "--end";
	argv[argc++] = end;
	argv[argc++] = "--width";
	argv[argc++] = width;
	argv[argc++] = "--height";
	argv[argc++] = height;
	/* the same face on every machine (fontconfig's "monospace" varies with what is installed);
	 * pango still falls back to another font for characters it lacks */
	argv[argc++] = "--font";
	argv[argc++] = "DEFAULT:0:DejaVu Sans Mono";
	if (spec->title) {
		argv[argc++] = "--title";
		argv[argc++] = (char *)spec->title;
	}
	if (spec->vertical_label) {
		argv[argc++] = "--vertical-label";
		argv[argc++] = (char *)spec->vertical_label;
	}
	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < spec->nlines; i++) {
		const struct graph_line *l = &spec->lines[i];
		const char *color = l->color ? l->color : palette[i % (sizeof(palette) / sizeof(palette[0]))];
		struct buf *def = &items[ni++], *line = &items[ni++];

		if (!valid_color(color)) {
			snprintf(err, errlen, "line %zu: colour \"%s\" is not #RRGGBB", i + 1, color);
			goto out;
		}
		buf_printf(def, "DEF:l%zu=", i);
		put_escaped(def, l->path);
		buf_printf(def, ":%s:%s", l->ds ? l->ds : "value", l->cf ? l->cf : "AVERAGE");
		if (l->daemon) {
			buf_puts(def, ":daemon=");
			put_escaped(def, l->daemon);
		}
		buf_printf(line, "LINE2:l%zu%s", i, color);
		if (l->legend) {
			buf_putc(line, ':');
			put_escaped(line, l->legend);
			/* each legend on a line of its own */
			buf_puts(line, "\\l");
		}
		argv[argc++] = def->data;
		argv[argc++] = line->data;
	}
	for (size_t i = 0; i < spec->nmarks; i++) {
		const struct graph_mark *mk = &spec->marks[i];
		const char *color = mk->color ? mk->color : "#555555";
		struct buf *rule;

		if (!(mk->time > spec->start && mk->time < spec->end))
			continue;
		if (!valid_color(color)) {
			snprintf(err, errlen, "mark %zu: colour \"%s\" is not #RRGGBB", i + 1, color);
			goto out;
		}
		rule = &items[ni++];
		buf_printf(rule, "VRULE:%lld%s", (long long)floor(mk->time), color);
		if (mk->legend) {
			buf_putc(rule, ':');
			put_escaped(rule, mk->legend);
			buf_puts(rule, "\\l");
		}
		argv[argc++] = rule->data;
	}
	argv[argc] = NULL;

	pthread_mutex_lock(&graph_lock);
	rrd_clear_error();
	info = rrd_graph_v(argc, argv);
	if (info == NULL) {
		snprintf(err, errlen, "rrd_graph: %s", rrd_get_error());
	} else {
		for (rrd_info_t *p = info; p; p = p->next) {
			if (strcmp(p->key, "image") == 0 && p->type == RD_I_BLO) {
				*len = p->value.u_blo.size;
				*out = xmalloc(*len);
				memcpy(*out, p->value.u_blo.ptr, *len);
			}
		}
		rrd_info_free(info);
		if (*out == NULL)
			snprintf(err, errlen, "rrd_graph returned no image");
		else
			rc = 0;
	}
	pthread_mutex_unlock(&graph_lock);
out:
	for (size_t i = 0; i < ni; i++)
		buf_free(&items[i]);
	return rc;
}

int
graph_png(const struct graph_spec *spec, unsigned char **png, size_t *len, char *err,
    size_t errlen)
{
	return graph_render(spec, GRAPH_PNG, png, len, err, errlen);
}

/* ---- the series of an alert ------------------------------------------------------------ */

struct match {
	char *path;             /* absolute */
	char *legend;
	size_t nlabels;         /* of the series: more is more specific */
	const struct store_file *f;
};

struct matching {
	const struct notify_alert *a;
	struct match *m;
	size_t n, cap;
};

static const char *
label_value(const struct reeve_label *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return NULL;
}

/* store_foreach callback: keep the files of a's series. Runs under the store's file lock. */
static void
match_file(void *arg, struct store_file *f, const char *rel)
{
	struct matching *c = arg;
	const struct notify_alert *a = c->a;
	struct reeve_label *labels;
	char *name;
	size_t n, i;
	int metric = 0;

	if (store_path_decode(rel, &name, &labels, &n) == -1)
		return;
	for (i = 0; i < a->nmetrics && !metric; i++)
		metric = strcmp(a->metrics[i], name) == 0;
	for (i = 0; metric && i < n; i++) {
		const char *v = label_value(a->labels, a->nlabels, labels[i].name);
		if (v == NULL || strcmp(v, labels[i].value) != 0)
			break;
	}
	if (metric && i == n) {
		struct buf legend = { 0 };

		buf_puts(&legend, name);
		if (n) {
			buf_putc(&legend, '{');
			for (i = 0; i < n; i++)
				buf_printf(&legend, "%s%s=\"%s\"", i ? ", " : "", labels[i].name,
				    labels[i].value);
			buf_putc(&legend, '}');
		}
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 8;
			c->m = xreallocarray(c->m, c->cap, sizeof(*c->m));
		}
		c->m[c->n++] = (struct match){ xstrdup(store_file_path(f)), buf_steal(&legend), n, f };
	}
	free(name);
	store_labels_free(labels, n);
}

static int
match_cmp(const void *x, const void *y)
{
	const struct match *a = x, *b = y;

	if (a->nlabels != b->nlabels)
		return a->nlabels > b->nlabels ? -1 : 1;
	return strcmp(a->path, b->path);
}

int
graph_alert_png(struct store *st, const struct notify_alert *a, double start, double end,
    unsigned char **png, size_t *len, char *err, size_t errlen)
{
	struct matching c = { a, NULL, 0, 0 };
	struct graph_line lines[GRAPH_ALERT_LINES];
	struct graph_spec spec;
	struct graph_mark mark;
	struct buf title = { 0 };
	const char *name = label_value(a->labels, a->nlabels, "alertname");
	const char *where = label_value(a->labels, a->nlabels, "instance");
	char ferr[256];
	size_t nl = 0;
	int rc = -1;

	*png = NULL;
	*len = 0;
	store_foreach(st, match_file, &c);
	if (c.n == 0) {
		snprintf(err, errlen, "no stored series of this alert");
		goto out;
	}
	qsort(c.m, c.n, sizeof(*c.m), match_cmp);
	/* files registered but not written yet, or gone: draw the others */
	for (size_t i = 0; i < c.n && nl < GRAPH_ALERT_LINES; i++) {
		if (store_flush(st, c.m[i].f, ferr, sizeof(ferr)) == -1)
			continue;
		lines[nl++] = (struct graph_line){ c.m[i].path, NULL, NULL, c.m[i].legend, NULL,
		    store_daemon(st) };
	}
	if (nl == 0) {
		snprintf(err, errlen, "the series of this alert are not on disk yet (%s)", ferr);
		goto out;
	}
	if (where == NULL)
		where = label_value(a->labels, a->nlabels, "host");
	buf_puts(&title, name ? name : "alert");
	if (where)
		buf_printf(&title, " on %s", where);
	memset(&spec, 0, sizeof(spec));
	spec.start = start;
	spec.end = end;
	spec.title = title.data;
	spec.lines = lines;
	spec.nlines = nl;
	if (a->firing && isfinite(a->starts_at)) {
		mark = (struct graph_mark){ a->starts_at, "started firing", NULL };
		spec.marks = &mark;
		spec.nmarks = 1;
	}
	rc = graph_png(&spec, png, len, err, errlen);
out:
	for (size_t i = 0; i < c.n; i++) {
		free(c.m[i].path);
		free(c.m[i].legend);
	}
	free(c.m);
	buf_free(&title);
	return rc;
}

int
graph_notify_render(void *arg, const struct notify_alert *a, double start, double end,
    unsigned char **png, size_t *len, char *err, size_t errlen)
{
	return graph_alert_png(arg, a, start, end, png, len, err, errlen);
}

void
graph_png_size(const unsigned char *p, size_t len, int *w, int *h)
{
	*w = *h = 0;
	if (len < 24 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp(p + 12, "IHDR", 4) != 0)
		return;
	*w = (int)((unsigned)p[16] << 24 | (unsigned)p[17] << 16 | (unsigned)p[18] << 8 | p[19]);
	*h = (int)((unsigned)p[20] << 24 | (unsigned)p[21] << 16 | (unsigned)p[22] << 8 | p[23]);
}
