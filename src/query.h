/* query.h: an expression over a span of time, one value per step (reports, range queries). */
#ifndef REEVE_QUERY_H
#define REEVE_QUERY_H

#include <stddef.h>

#include "expr.h"

/*
 * A range evaluation, as Prometheus's query_range does it: the expression is evaluated at
 * start, start + step, ... up to end, and each series of the answers collects its values.
 * Every selector's data is read from the source once, over the whole range and what the
 * expression reaches back before it, and each evaluation is answered from that copy, so a
 * range of 2,000 steps costs one read of each RRD file, not 2,000.
 */
struct query_range {
	double start, end;     /* Unix seconds, start <= end */
	/*
	 * Seconds between evaluations. 0: the resolution of the data, as the coarsest series
	 * the selectors read has it (an RRA's step, or the probe interval in memory), so that
	 * each evaluation meets one row of the files; the times are then aligned to multiples
	 * of it, as RRD rows are.
	 */
	double step;
	size_t max_points;     /* most evaluations allowed (0: 11,000, Prometheus's limit) */
	double deadline;       /* util_now() after which the evaluation gives up; 0: none */
	const int *cancel;     /* when *cancel becomes nonzero it gives up as at the deadline */
	size_t max_samples;    /* points the answer may hold in all its series; 0: no limit */
	/*
	 * 1: a step finer than the data's resolution is raised to it (a finer one would only
	 * repeat each stored row), and data_step tells which it was.
	 */
	int snap;
	double step_used;      /* out: the step taken */
	double data_step;      /* out: the coarsest step of the data read, 0 when none */
	int limit;             /* out: QUERY_TIMEOUT or QUERY_TOO_MANY when that stopped it */
};

enum { QUERY_TIMEOUT = 1, QUERY_TOO_MANY = 2 };

/* Their messages, in Prometheus's words (the second takes the limit, a size_t). */
#define QUERY_TIMEOUT_MSG "query timed out in expression evaluation"
#define QUERY_TOO_MANY_FMT "query processing would load too many samples into memory in " \
	"query execution (more than %zu points; [http] query_max_samples)"

/*
 * Evaluate e over q->[start, end] with src. Returns 0 with the answer's series (values at
 * the evaluation times, ascending; a scalar answer is one series without name or labels)
 * in *out (free with expr_series_free), or -1 with a message in err (an evaluation failed,
 * the range needs more than max_points steps, or q->limit says which limit was met).
 */
int query_range_eval(const struct expr *e, const struct expr_source *src, struct query_range *q,
    struct expr_series **out, size_t *nout, char *err, size_t errlen);

#endif /* REEVE_QUERY_H */
