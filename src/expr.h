/* expr.h: the rule expression language (a PromQL subset): the series it reads. */
#ifndef REEVE_EXPR_H
#define REEVE_EXPR_H

#include <stddef.h>

#include "reeve-probe.h"

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
 * A series as a source returns it: points in ascending time order. All strings and arrays
 * are owned by the series (expr_series_free frees them). type is enum reeve_metric_type;
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
};

/* Free n series and the array; NULL is a no-op. */
void expr_series_free(struct expr_series *s, size_t n);

struct expr_source {
	/*
	 * Every series matching the matchers, with its points in [start, end] (end included).
	 * A source answers from memory what its recent window holds and from the RRD files
	 * what is older. Returns 0 with *out (malloc'd, may be NULL when *n is 0), or -1 with a
	 * message in err.
	 */
	int (*select)(void *arg, const struct expr_matcher *m, size_t nm, double start,
	    double end, struct expr_series **out, size_t *n, char *err, size_t errlen);
	/*
	 * holt_winters_anomaly: for every matching series whose RRD file has Holt-Winters
	 * RRAs, the FAILURES value (0 or 1) at time t, as a one-point series. Returns 0 or -1
	 * as select; may be NULL (the function then fails with a clear error).
	 */
	int (*hw_failures)(void *arg, const struct expr_matcher *m, size_t nm, double t,
	    struct expr_series **out, size_t *n, char *err, size_t errlen);
	void *arg;
	double lookback;   /* instant selectors look back this far for the latest point: 300 s */
};

#endif /* REEVE_EXPR_H */
