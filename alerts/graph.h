/* graph.h: graphs of stored series (PNG, SVG, PDF) with rrd_graph, serialised for the whole process. */
#ifndef REEVE_GRAPH_H
#define REEVE_GRAPH_H

#include <stddef.h>

#include "notify.h"
#include "store.h"

/* One line of a graph: a data source of an RRD file. */
struct graph_line {
	const char *path;    /* the RRD file */
	const char *ds;      /* its data source; NULL: "value" (reeve's files) */
	const char *cf;      /* consolidation function; NULL: "AVERAGE" */
	const char *legend;  /* NULL: none */
	const char *color;   /* "#RRGGBB"; NULL: the next colour of a fixed palette */
	const char *daemon;  /* the rrdcached that holds path (store_daemon); NULL: a local file */
};

/* A vertical line at a time (when an alert started firing). */
struct graph_mark {
	double time;         /* Unix seconds; outside the graph's range: not drawn */
	const char *legend;  /* NULL: none */
	const char *color;   /* "#RRGGBB"; NULL: dark grey */
};

/* What to draw. Strings are borrowed for the call. */
struct graph_spec {
	double start, end;           /* Unix seconds, start < end */
	const char *title;           /* NULL: none */
	const char *vertical_label;  /* NULL: none */
	int width, height;           /* of the plot area in pixels; 0: 600 x 200 */
	const struct graph_line *lines;
	size_t nlines;               /* 1 to GRAPH_MAX_LINES */
	const struct graph_mark *marks;
	size_t nmarks;               /* 0 to GRAPH_MAX_MARKS */
};

#define GRAPH_MAX_LINES 16
#define GRAPH_MAX_MARKS 4
/* The series graph_alert_png draws at most. */
#define GRAPH_ALERT_LINES 5

/* What rrd_graph writes: a raster image, or vectors (text stays text in SVG and PDF). */
enum graph_format { GRAPH_PNG, GRAPH_SVG, GRAPH_PDF };

/*
 * Render spec in format f with rrd_graph_v (--imgformat PNG, SVG or PDF; the PDF has one
 * page the size of the graph). Every rrd_graph call in reeve must go through this function:
 * librrd 1.7 crashes when two threads graph at once, so it holds one process-wide mutex
 * around the call. Thread-safe. Returns 0 with the file's bytes in *out (malloc'd, the
 * caller frees; not NUL-terminated) and their number in *len, or -1 with a message in err.
 */
int graph_render(const struct graph_spec *spec, enum graph_format f, unsigned char **out,
    size_t *len, char *err, size_t errlen);

/* graph_render(spec, GRAPH_PNG, ...). */
int graph_png(const struct graph_spec *spec, unsigned char **png, size_t *len, char *err,
    size_t errlen);

/*
 * A graph of the series behind an alert over [start, end]: the stored files whose metric
 * is one of a->metrics and whose labels all appear with the same values in a->labels, the
 * most specific first, at most GRAPH_ALERT_LINES of them; titled with the alertname and the
 * instance (or host) label, with a mark where it started firing. Flushes the files from
 * rrdcached first. Returns 0 with a PNG
 * as graph_png does, or -1 with a message in err (no matching file, or librrd failed).
 */
int graph_alert_png(struct store *st, const struct notify_alert *a, double start, double end,
    unsigned char **png, size_t *len, char *err, size_t errlen);

/* notify_graph.render for a struct store (arg): graph_alert_png. */
int graph_notify_render(void *arg, const struct notify_alert *a, double start, double end,
    unsigned char **png, size_t *len, char *err, size_t errlen);

/* The width and height of a PNG (from its IHDR chunk); 0 and 0 when it is not a PNG. */
void graph_png_size(const unsigned char *png, size_t len, int *w, int *h);

#endif /* REEVE_GRAPH_H */
