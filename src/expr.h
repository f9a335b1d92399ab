/* expr.h: the rule expression language (a PromQL subset): parsing and evaluation. */
#ifndef REEVE_EXPR_H
#define REEVE_EXPR_H

#include <stddef.h>

#include "reeve-probe.h"

struct buf;

/*
 * ---- where selectors find their data -----------------------------------------------------
 *
 * The evaluator reads series only through a struct expr_source, so the same expression runs
 * over the live registry and RRD files (src/history.c), over fixed series in tests, and over
 * stored history in a backtest.
 */

enum expr_match_op { EXPR_MATCH_EQ, EXPR_MATCH_NE, EXPR_MATCH_RE, EXPR_MATCH_NRE };

/*
 * One label matcher of a selector. The metric name is the label "__name__". Regexes are
 * fully anchored (as in PromQL); re is the compiled form (a regex_t *, owned by the
 * expression) for EXPR_MATCH_RE and EXPR_MATCH_NRE, NULL otherwise.
 */
struct expr_matcher {
	const char *name;
	enum expr_match_op op;
	const char *value;
	const void *re;
};

/*
 * Whether a series (metric name and labels) satisfies every matcher. A missing label
 * matches as the empty string, as in PromQL.
 */
int expr_matches(const struct expr_matcher *m, size_t nm, const char *name,
    const struct reeve_label *labels, size_t nlabels);

/*
 * Parse label matchers as written inside a selector's braces, without them:
 * `severity="critical", team=~"shop.*"` (routes, inhibitions, maintenance windows and
 * silences). Returns 0 with a new array in *m (free it with expr_matchers_free) and its
 * size in *n (at least 1), or -1 with "matchers: LINE:COLUMN: message" in err.
 */
int expr_parse_matchers(const char *text, struct expr_matcher **m, size_t *n, char *err,
    size_t errlen);
void expr_matchers_free(struct expr_matcher *m, size_t n);
/* Append matchers in their canonical text (`a="x", b=~"y"`, parsed back the same) to b. */
void expr_format_matchers(const struct expr_matcher *m, size_t n, struct buf *b);

/*
 * A label set as a series or a sample owns it: one allocation holding the array followed by
 * the strings its names and values point to, so that one free() releases all of it. Returns a
 * new copy of n labels (never NULL, also for n 0) in that form; the order is kept.
 */
struct reeve_label *expr_labels_pack(const struct reeve_label *l, size_t n);

/*
 * A series as a source returns it: points in ascending time order. All strings and arrays
 * are owned by the series (expr_series_free frees them); labels is a packed label set
 * (expr_labels_pack). type is enum reeve_metric_type;
 * for a counter the points are the raw counter values (the source converts what RRD
 * stores as rates back into a running total, starting at 0 at the window's first point).
 * step is the resolution of the points in seconds (the probe interval in memory, the
 * RRA's step from RRD), used to extrapolate as PromQL does.
 */
struct expr_series {
	char *name;
	struct reeve_label *labels; /* sorted by name */
	size_t nlabels;
	int type;
	double step;
	double *ts, *v;
	size_t n;
	/*
	 * 0, or when the series stopped being reported (its probe's round lacked it, its TTL
	 * ran out): an instant selector evaluated at or after this time finds nothing, as after
	 * Prometheus's staleness marker, while ranges still see its earlier points.
	 */
	double stale_at;
};

/* Free n series and the array; NULL is a no-op. */
void expr_series_free(struct expr_series *s, size_t n);

struct expr_source {
	/*
	 * Every series matching the matchers, with its points in [start, end] (end included).
	 * A source answers from memory what its recent window holds and from the RRD files
	 * what is older. latest is 1 when only each series' newest point in the range is
	 * needed (an instant selector): a source may then return that point alone. Returns 0
	 * with *out (malloc'd, may be NULL when *n is 0), or -1 with a message in err.
	 */
	int (*select)(void *arg, const struct expr_matcher *m, size_t nm, double start,
	    double end, int latest, struct expr_series **out, size_t *n, char *err,
	    size_t errlen);
	/*
	 * holt_winters_anomaly: for every matching series whose RRD file has Holt-Winters
	 * RRAs, the FAILURES value (0 or 1) at time t, as a one-point series. Returns 0 or -1
	 * as select; may be NULL (the function then fails with a clear error).
	 */
	int (*hw_failures)(void *arg, const struct expr_matcher *m, size_t nm, double t,
	    struct expr_series **out, size_t *n, char *err, size_t errlen);
	void *arg;
	double lookback;   /* instant selectors look back this far for the latest point: 300 s */
	/*
	 * Optional (NULL: none): called with seen_arg and every series with points a selector
	 * read, as select or hw_failures returned it, before the evaluator uses it. Alert rules learn
	 * from it which series had data: "condition false" rather than "no data".
	 */
	void (*seen)(void *seen_arg, const struct expr_series *s);
	void *seen_arg;
};

/*
 * ---- parsing ----------------------------------------------------------------------------
 *
 * An expression is parsed once (expr_parse) and evaluated many times (expr_eval). A parsed
 * expression is immutable: several threads may evaluate, format or inspect it at once.
 * docs/expressions.md describes the language.
 */

#define EXPR_MAX_LEN   65536 /* longest accepted expression text, in bytes */
#define EXPR_MAX_DEPTH 200   /* deepest nesting of operations (parentheses may nest twice as deep) */

/* What an expression (or a value) is. */
enum expr_type { EXPR_SCALAR, EXPR_VECTOR, EXPR_MATRIX };

struct expr;

/*
 * Parse text (NUL-terminated, at most EXPR_MAX_LEN bytes). Returns a new expression that
 * the caller frees with expr_free, or NULL with a message in err of the form
 * "expr: LINE:COLUMN: message" (1-based, columns counted in bytes).
 */
struct expr *expr_parse(const char *text, char *err, size_t errlen);
/* Free an expression; NULL is a no-op. */
void expr_free(struct expr *e);
/*
 * The canonical text of an expression (a new string the caller frees): parsing it gives
 * an expression that formats to the same text.
 */
char *expr_format(const struct expr *e);
/* The type an evaluation of e returns. */
enum expr_type expr_result_type(const struct expr *e);

/* One selector of an expression, as expr_selectors lists them; owned by the expression. */
struct expr_selector {
	const struct expr_matcher *m; /* at least one; the metric name is "__name__" */
	size_t nm;
	double range;  /* seconds for a range selector (sel[5m]), 0 for an instant selector */
	double offset; /* seconds (sel offset 1h), 0 without offset */
};

/* The selectors of e in text order; *n gets their count. The array is owned by e. */
const struct expr_selector *expr_selectors(const struct expr *e, size_t *n);
/* How far back instant selectors look over src: its lookback, or 300 s when that is 0. */
double expr_lookback(const struct expr_source *src);
/*
 * The point of series s (points ascending) that an instant selector evaluated at end (its
 * offset taken off) finds, given hi, the count of s's points not after end: hi - 1 when that
 * point is less than lookback seconds old at end and s is not stale by end, else -1. The rule
 * of expr_eval, for callers that walk a series through many evaluation times.
 */
long expr_instant_index(const struct expr_series *s, size_t hi, double end, double lookback);
/* Whether e is an instant selector alone, without offset (its series are its files). */
int expr_is_selector(const struct expr *e);
/*
 * How far back before the evaluation time e reads data, in seconds, when instant selectors
 * look back lookback seconds: the largest offset + (range or lookback) of its selectors
 * (0 without selectors).
 */
double expr_reach(const struct expr *e, double lookback);

/*
 * ---- values -----------------------------------------------------------------------------
 */

/* One element of an instant vector: name is NULL once dropped (after rate(), a + b, ...). */
struct expr_sample {
	char *name;
	struct reeve_label *labels; /* sorted by name, owned, packed (expr_labels_pack) */
	size_t nlabels;
	double v;
};

/*
 * The result of an evaluation. EXPR_SCALAR: scalar. EXPR_VECTOR: samples (nsamples, may be
 * 0). EXPR_MATRIX (only a top-level range selector): series with their points in the
 * range. Everything is owned by the value (expr_value_free).
 */
struct expr_value {
	enum expr_type type;
	double scalar;
	struct expr_sample *samples;
	size_t nsamples;
	struct expr_series *series;
	size_t nseries;
};

/*
 * Evaluate e at time t (seconds since the epoch) over src. Returns 0 with *out filled (the
 * caller frees it with expr_value_free), or -1 with a message in err ("expr: ..."), *out
 * then being empty. Safe to call from several threads on one expression when src is.
 */
int expr_eval(const struct expr *e, const struct expr_source *src, double t,
    struct expr_value *out, char *err, size_t errlen);
/* Free what a value holds and empty it; a zeroed value is a no-op. */
void expr_value_free(struct expr_value *v);

#endif /* REEVE_EXPR_H */
