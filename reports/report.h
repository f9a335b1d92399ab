/* report.h: a report as its readers see it: the period, the sections with their numbers, the graphs. */
#ifndef REEVE_REPORT_H
#define REEVE_REPORT_H

#include <stddef.h>

#include "graph.h"
#include "util.h"

/*
 * A struct report_doc is what report.c computes from a [report NAME] section and the data
 * (RRD files, registry, alert log), and what every renderer (render_html.c, render_text.c,
 * render_csv.c, render_pdf.c) turns into a file. Renderers only read it; every number they
 * show is already formatted here (text fields), so all formats say the same thing. All
 * strings are UTF-8 and owned by the doc (report_doc_free).
 */

/* How a cell stands against the thresholds of its row: colours in HTML and PDF. */
enum report_level { REPORT_OK, REPORT_WARNING, REPORT_CRITICAL };

/* One number of a table: its value for CSV, its text for people ("1.5 GiB", "–" for none). */
struct report_cell {
	double v;              /* NaN: no data */
	char text[40];
	enum report_level level;
};

/* The statistics of one KPI row, in table order. */
enum report_stat { REPORT_LAST, REPORT_MIN, REPORT_AVG, REPORT_MAX, REPORT_P95, REPORT_NSTATS };

/* One row of a KPI table: one series of a kpi.NAME expression over the period. */
struct report_kpi_row {
	char *name;            /* title.NAME, or NAME with '_' shown as ' ', then {labels} when the
	                        * expression gave several series */
	char *unit;            /* what the numbers are: "bytes", "seconds", "percent", "ratio", "" */
	struct report_cell stat[REPORT_NSTATS];
	double prev;           /* the same statistic (the avg) over the previous period, NaN: none */
	/* the change of the avg against the previous period: v in percent, NaN when there was no
	 * previous value (or it was 0); text such as "▲ 12.5%", "▼ 3.0%", "= 0.0%" or "–" */
	struct report_cell change;
	int direction;         /* 1 up, -1 down, 0 flat or unknown */
};

/* One row of an availability table: one target of an availability.NAME expression. */
struct report_avail_row {
	char *section;         /* the availability.NAME title */
	char *target;          /* the labels that tell the targets apart ("instance=web1") */
	struct report_cell objective; /* fraction, e.g. 0.999 ("99.9%") */
	struct report_cell up;        /* fraction of the counted time the target was up; NaN: no data */
	struct report_cell downtime;  /* seconds down, maintenance excluded ("12 min") */
	struct report_cell maintenance; /* seconds inside maintenance windows ("2 h") */
	struct report_cell nodata;    /* seconds without data */
	int met;               /* up >= objective (level REPORT_CRITICAL on up when not) */
};

/* A maintenance window that overlapped the period (shown under the availability table). */
struct report_window {
	char *name;            /* the [maintenance NAME] */
	char *comment;         /* its comment, or NULL */
	double start, end;     /* clipped to the period */
	char text[96];         /* "Sun 22 Nov 02:00–04:00" in the report's time zone */
};

/* A graph: rendered by rrd_graph (alerts/graph.c). */
struct report_graph {
	char *title;
	char *file;            /* its file name in the archive: "graph-NAME.png" */
	char *cid;             /* its Content-ID in the mail, without <> */
	unsigned char *png;    /* the PNG */
	size_t png_len;
	int width, height;     /* the PNG's size in pixels */
	unsigned char *pdf;    /* the same graph as a one-page vector PDF, for render_pdf; may be NULL */
	size_t pdf_len;
	char *error;           /* why it could not be drawn (png NULL then), shown in its place */
};

/* The alert summary of the period (from the alert history). */
struct report_count {
	char *name;            /* a severity, or a rule */
	size_t n;              /* how many times it fired */
	double seconds;        /* total firing time in the period */
	char text[40];         /* the seconds for people: "3 h 12 min" */
};

struct report_incident {
	char *rule;
	char *labels;          /* the instance's labels that tell it apart, "instance=web1, job=node" */
	char *severity;
	double start, end;     /* end NAN: still firing at the end of the period */
	char when[64];         /* when it started, in the report's time zone */
	char duration[40];     /* how long it fired ("still firing" included) */
};

struct report_alerts {
	size_t fired;          /* alerts that started firing in the period */
	size_t resolved;       /* of them, how many resolved within it */
	double firing_seconds; /* all firing time within the period */
	double mttr;           /* mean time to resolve of those resolved, NaN: none */
	char firing_text[40], mttr_text[40];
	struct report_count *severities; /* by severity, most first */
	size_t nseverities;
	struct report_count *noisiest;   /* rules that fired most, at most 5 */
	size_t nnoisiest;
	struct report_incident *longest; /* longest incidents, at most 5 */
	size_t nlongest;
};

enum report_kind { REPORT_KPI, REPORT_GRAPH, REPORT_AVAILABILITY, REPORT_ALERTS, REPORT_TEXT };

/*
 * One section, in the order of the keys in the config. Consecutive kpi.* keys make one KPI
 * table (one section, their rows in order), consecutive availability.* keys one
 * availability table; every graph.* and text.* key is a section of its own.
 */
struct report_section {
	enum report_kind kind;
	char *title;           /* the heading ("Key figures", the graph's title, ...) */
	/* REPORT_KPI */
	struct report_kpi_row *kpis;
	size_t nkpis;
	/* REPORT_AVAILABILITY */
	struct report_avail_row *avail;
	size_t navail;
	struct report_window *windows;
	size_t nwindows;
	/* REPORT_GRAPH */
	struct report_graph graph;
	/* REPORT_ALERTS */
	struct report_alerts alerts;
	/* REPORT_TEXT */
	char *text;            /* the paragraph, templates filled in */
	/* any kind: a problem computing it ("expr: 1:5: ...", "no data"), shown to the reader */
	char *note;
};

struct report_doc {
	char *name;            /* the [report NAME] */
	char *title;
	char *hostname;        /* which reeve made it */
	char *timezone;        /* the tz database name the times are shown in */
	double start, end;     /* the period [start, end) */
	double prev_start, prev_end; /* the period the changes compare against */
	char period_text[128]; /* "Mon 16 Nov 2026 00:00 – Mon 23 Nov 2026 00:00 (Europe/Berlin)" */
	double generated;      /* when it was made */
	char generated_text[64];
	char *base;            /* file names share it: "NAME-20261116" (no extension) */
	struct report_section *sections;
	size_t nsections;
};

void report_doc_free(struct report_doc *d);

/*
 * ---- definitions -------------------------------------------------------------------------
 */

/* A report's period: what `period =` says. */
enum report_period_kind {
	REPORT_PERIOD_SECONDS,   /* the n seconds before the run ("1d", "7d", "12h") */
	REPORT_PERIOD_MONTHS,    /* the n calendar months before the run ("1M": same day and time a month earlier) */
	REPORT_PERIOD_PREV_DAY,  /* the last whole calendar day before the run ("previous day") */
	REPORT_PERIOD_PREV_WEEK, /* the last whole week, Monday to Monday ("previous week") */
	REPORT_PERIOD_PREV_MONTH /* the last whole calendar month ("previous month") */
};

struct report_period {
	enum report_period_kind kind;
	double n;                /* seconds or months */
};

/* Parse a period. Returns 0, or -1 with a message in err. */
int report_period_parse(const char *text, struct report_period *p, char *err, size_t errlen);

struct tz;
/*
 * The period p of a run at `at` in zone z: b[0] start, b[1] end (the period is
 * [start, end)), b[2] and b[3] the period before it of the same kind. Calendar periods
 * follow the clock of z (a day with a DST change is 23 or 25 hours). Returns 0, or -1 when
 * the zone cannot place it.
 */
int report_period_bounds(const struct report_period *p, const struct tz *z, double at,
    double b[4]);

/* A threshold of a KPI row (warn.NAME, crit.NAME): "> 80", "<= 99.5%", ">= 2GiB". */
struct report_threshold {
	int op;                  /* '>', '<', 'g' (>=), 'l' (<=); 0: none */
	double v;
};

int report_threshold_parse(const char *text, struct report_threshold *t, char *err,
    size_t errlen);
/* A value in a unit ("bytes", "seconds", "ratio", "percent", or any word) for people. */
void report_format_value(char *buf, size_t size, double v, const char *unit);
/* A span of seconds for people: "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
void report_format_duration(char *buf, size_t size, double s);

/* An objective, "99.9%" or "0.999": a fraction in (0, 1]. Returns 0 or -1 with err. */
int report_objective_parse(const char *text, double *v, char *err, size_t errlen);

/*
 * ---- making one ---------------------------------------------------------------------------
 */

struct alertlog;
struct cfg;
struct cfg_report;
struct expr_source;
struct store;

/* What a report is made from; borrowed for the call. */
struct report_env {
	const struct cfg *cfg;
	const struct expr_source *src; /* the data: memory and RRD files (src/history.c) */
	struct store *store;           /* a graph of a selector draws its files; NULL: none */
	struct alertlog *alertlog;     /* the alert history; NULL: none */
	const char *tmpdir;            /* graphs of expressions put temporary files here; NULL: /tmp */
};

/*
 * Compute report r for a run at `at` (its schedule's slot, or now): the period that run
 * covers (override, when not NULL, instead of r's), every section, the graphs. A section
 * that cannot be computed (a failing expression, no data) says so in its note; the doc is
 * made anyway. Thread-safe (graphs go through graph.c's lock). Returns a new doc
 * (report_doc_free), or NULL with a message in err (the time zone is unusable).
 */
struct report_doc *report_make(const struct report_env *env, const struct cfg_report *r,
    double at, const struct report_period *override, char *err, size_t errlen);

/*
 * A graph of expression text over spec's start and end, with spec's title, labels and size
 * (its lines are made here: a selector's own files, or the expression's answer through
 * temporary files), in format f (alerts/graph.h). For GET /api/v1/graph.png. Returns 0 with
 * the image in *out (malloc'd) and *len, or -1 with a message in err.
 */
int report_plot(const struct report_env *env, const char *text, const struct graph_spec *spec,
    enum graph_format f, unsigned char **out, size_t *len, char *err, size_t errlen);

/*
 * ---- renderers ---------------------------------------------------------------------------
 * Each appends one file's bytes to out and returns 0, or -1 with a message in err.
 */

/*
 * HTML for mail clients: inline CSS only, tables, no scripts. images_cid: 1 for the mail
 * (<img src="cid:CID">), 0 for the archive and --out (<img src="FILE">, beside the page).
 */
int render_html(const struct report_doc *d, int images_cid, struct buf *out, char *err,
    size_t errlen);
/* The plain-text alternative of the mail. */
int render_text(const struct report_doc *d, struct buf *out, char *err, size_t errlen);
/* CSV (RFC 4180, UTF-8, CRLF) of the KPI and availability tables. */
int render_csv(const struct report_doc *d, struct buf *out, char *err, size_t errlen);
/* PDF (cairo): title page, tables, vector graphs, page numbers. */
int render_pdf(const struct report_doc *d, struct buf *out, char *err, size_t errlen);

#endif /* REEVE_REPORT_H */
