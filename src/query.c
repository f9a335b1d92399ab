/* query.c: an expression over a span of time, one value per step (reports, range queries). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "util.h"

#define QUERY_MAX_POINTS 11000
#define QUERY_DEFAULT_STEP 60.0

/* One selector's series over the whole range, read once. */
struct cached {
	const struct expr_matcher *m;
	size_t nm;
	struct expr_series *s;
	size_t n;
};

struct cache {
	const struct expr_source *src;
	struct cached *c;
	size_t n;
};

/* The index of the first point of s after t (binary search; s->n when none). */
static size_t
first_after(const struct expr_series *s, double t)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ts[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A copy of s with its points [a, b): what a source returns, owned by the caller. */
static void
copy_slice(struct expr_series *dst, const struct expr_series *s, size_t a, size_t b)
{
	size_t n = b - a;

	dst->name = s->name != NULL ? xstrdup(s->name) : NULL;
	dst->labels = expr_labels_pack(s->labels, s->nlabels);
	dst->nlabels = s->nlabels;
	dst->type = s->type;
	dst->step = s->step;
	dst->stale_at = s->stale_at;
	dst->n = n;
	dst->ts = xreallocarray(NULL, n ? n : 1, sizeof(double));
	dst->v = xreallocarray(NULL, n ? n : 1, sizeof(double));
	memcpy(dst->ts, s->ts + a, n * sizeof(double));
	memcpy(dst->v, s->v + a, n * sizeof(double));
}

/* expr_source.select over the cache: the points of each read series within (start, end]. */
static int
cache_select(void *arg, const struct expr_matcher *m, size_t nm, double start, double end,
    int latest, struct expr_series **out, size_t *nout, char *err, size_t errlen)
{
	struct cache *c = arg;
	struct expr_series *res = NULL;
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct cached *cc = &c->c[i];

		if (cc->m != m || cc->nm != nm)
			continue;
		res = xreallocarray(NULL, cc->n ? cc->n : 1, sizeof(*res));
		for (size_t j = 0; j < cc->n; j++) {
			const struct expr_series *s = &cc->s[j];
			size_t a = first_after(s, start), b = first_after(s, end);

			if (a == b)
				continue;
			if (latest)
				a = b - 1;
			copy_slice(&res[k++], s, a, b);
		}
		*out = res;
		*nout = k;
		return 0;
	}
	/* a selector not read beforehand (none such today): ask the source itself */
	return c->src->select(c->src->arg, m, nm, start, end, latest, out, nout, err, errlen);
}

static int
cache_hw(void *arg, const struct expr_matcher *m, size_t nm, double t, struct expr_series **out,
    size_t *n, char *err, size_t errlen)
{
	struct cache *c = arg;

	if (c->src->hw_failures == NULL) {
		snprintf(err, errlen, "holt_winters_anomaly: no Holt-Winters data here");
		return -1;
	}
	return c->src->hw_failures(c->src->arg, m, nm, t, out, n, err, errlen);
}

/* Read every selector of e once over [from, to]; the coarsest step found goes to *step. */
static int
cache_fill(struct cache *c, const struct expr *e, double from, double to, double *step,
    char *err, size_t errlen)
{
	size_t nsel;
	const struct expr_selector *sel = expr_selectors(e, &nsel);

	c->c = xcalloc(nsel ? nsel : 1, sizeof(*c->c));
	*step = 0;
	for (size_t i = 0; i < nsel; i++) {
		struct cached *cc = &c->c[c->n];
		double lo = from - sel[i].offset, hi = to - sel[i].offset;

		cc->m = sel[i].m;
		cc->nm = sel[i].nm;
		if (c->src->select(c->src->arg, sel[i].m, sel[i].nm, lo, hi, 0, &cc->s, &cc->n, err,
		    errlen) == -1)
			return -1;
		c->n++;
		for (size_t j = 0; j < cc->n; j++)
			if (cc->s[j].step > *step)
				*step = cc->s[j].step;
	}
	return 0;
}

static void
cache_free(struct cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		expr_series_free(c->c[i].s, c->c[i].n);
	free(c->c);
}

/* The answer's series, found by name and labels through a hash table of their indexes. */
struct answer {
	struct expr_series *s;
	size_t n, cap;
	size_t *slot;           /* index + 1, 0 empty */
	size_t nslot;
	unsigned long long *hash;
};

static unsigned long long
series_hash(const char *name, const struct reeve_label *l, size_t n)
{
	struct buf b = { 0 };
	unsigned long long h;

	buf_puts(&b, name ? name : "");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%c%s%c%s", 0, l[i].name, 0, l[i].value);
	h = util_hash(b.data ? b.data : "", b.len);
	buf_free(&b);
	return h;
}

static int
same_series(const struct expr_series *s, const char *name, const struct reeve_label *l, size_t n)
{
	if ((s->name == NULL) != (name == NULL) || (name && strcmp(s->name, name) != 0) ||
	    s->nlabels != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->labels[i].name, l[i].name) != 0 ||
		    strcmp(s->labels[i].value, l[i].value) != 0)
			return 0;
	return 1;
}

static void
answer_grow(struct answer *a)
{
	size_t ns = a->nslot ? a->nslot * 2 : 64;
	size_t *slot = xcalloc(ns, sizeof(*slot));

	for (size_t i = 0; i < a->n; i++) {
		size_t k = a->hash[i] & (ns - 1);

		while (slot[k] != 0)
			k = (k + 1) & (ns - 1);
		slot[k] = i + 1;
	}
	free(a->slot);
	a->slot = slot;
	a->nslot = ns;
}

/* The series of the answer with this name and labels, made on first sight. */
static struct expr_series *
answer_series(struct answer *a, const char *name, const struct reeve_label *l, size_t n)
{
	unsigned long long h = series_hash(name, l, n);
	size_t k;
	struct expr_series *s;

	if (2 * (a->n + 1) > a->nslot)
		answer_grow(a);
	for (k = h & (a->nslot - 1); a->slot[k] != 0; k = (k + 1) & (a->nslot - 1))
		if (a->hash[a->slot[k] - 1] == h && same_series(&a->s[a->slot[k] - 1], name, l, n))
			return &a->s[a->slot[k] - 1];
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->s = xreallocarray(a->s, a->cap, sizeof(*a->s));
		a->hash = xreallocarray(a->hash, a->cap, sizeof(*a->hash));
	}
	s = &a->s[a->n];
	memset(s, 0, sizeof(*s));
	s->name = name != NULL ? xstrdup(name) : NULL;
	s->labels = expr_labels_pack(l, n);
	s->nlabels = n;
	a->hash[a->n] = h;
	a->slot[k] = ++a->n;
	return s;
}

/* Free what an answer holds and make it empty. */
static void
answer_clear(struct answer *a)
{
	expr_series_free(a->s, a->n);
	free(a->slot);
	free(a->hash);
	memset(a, 0, sizeof(*a));
}

static void
series_add(struct expr_series *s, double t, double v, size_t npoints)
{
	if (s->ts == NULL) {
		s->ts = xreallocarray(NULL, npoints, sizeof(double));
		s->v = xreallocarray(NULL, npoints, sizeof(double));
	}
	s->ts[s->n] = t;
	s->v[s->n++] = v;
}

/*
 * Drop the points of a cached series once its answer is made: the answer of the next series
 * is then allocated from that memory rather than from fresh pages (which cost a range query
 * over 1,000 series a third of its time in page faults).
 */
static void
cached_release(struct expr_series *s)
{
	free(s->ts);
	free(s->v);
	s->ts = s->v = NULL;
	s->n = 0;
}

/*
 * A selector alone at the data's own step: each evaluation at a row's end finds that row,
 * so the answer is the rows themselves in [t0, end], without evaluating step by step.
 * Only when every series has rows of exactly that step (else -1: evaluate). Consumes the
 * cache's points.
 */
static int
selector_rows(const struct expr *e, struct cache *c, double t0, double end, double step,
    struct answer *a)
{
	struct cached *cc = c->n == 1 ? &c->c[0] : NULL;

	if (!expr_is_selector(e) || cc == NULL)
		return -1;
	for (size_t i = 0; i < cc->n; i++)
		if (cc->s[i].step != step)
			return -1;
	for (size_t i = 0; i < cc->n; i++) {
		struct expr_series *s = &cc->s[i];
		size_t from = first_after(s, nextafter(t0, -INFINITY)), to = first_after(s, end);
		struct expr_series *o;

		if (from == to)
			continue;
		o = answer_series(a, s->name, s->labels, s->nlabels);
		for (size_t k = from; k < to; k++)
			if (!isnan(s->v[k]) && (s->stale_at == 0 || s->ts[k] < s->stale_at))
				series_add(o, s->ts[k], s->v[k], to - from);
		cached_release(s);
	}
	return 0;
}

/* Whether q's deadline has passed: the error, in Prometheus's words, and q->limit set. */
static int
timed_out(struct query_range *q, char *err, size_t errlen)
{
	if ((q->cancel == NULL || __atomic_load_n(q->cancel, __ATOMIC_RELAXED) == 0) &&
	    (q->deadline == 0 || util_now() <= q->deadline))
		return 0;
	q->limit = QUERY_TIMEOUT;
	snprintf(err, errlen, QUERY_TIMEOUT_MSG);
	return 1;
}

/* Whether total points are more than q allows. */
static int
too_many(struct query_range *q, size_t total, char *err, size_t errlen)
{
	if (q->max_samples == 0 || total <= q->max_samples)
		return 0;
	q->limit = QUERY_TOO_MANY;
	snprintf(err, errlen, QUERY_TOO_MANY_FMT, q->max_samples);
	return 1;
}

/* A series of the cache, by the first evaluation that finds a point of it. */
struct first {
	size_t step, i;
	size_t answer;          /* its series in the answer */
};

static int
first_cmp(const void *a, const void *b)
{
	const struct first *x = a, *y = b;

	if (x->step != y->step)
		return x->step < y->step ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * A selector alone at any step: each evaluation finds each series' latest point within the
 * lookback by the evaluator's own rule (expr_instant_index), here by walking each series'
 * points once instead of copying them out of the cache at every step. The series join the
 * answer in the order evaluating step by step adds them: by the first evaluation that finds
 * a point of theirs, then in the source's order. Only for a selector alone whose series are
 * distinct (else -1, the cache untouched: evaluate). Consumes the cache's points.
 */
static int
selector_walk(const struct expr *e, struct cache *c, double t0, double step,
    size_t npoints, double lookback, struct answer *a)
{
	struct cached *cc = c->n == 1 ? &c->c[0] : NULL;
	struct first *order;
	size_t n = 0;

	if (!expr_is_selector(e) || cc == NULL)
		return -1;
	order = xcalloc(cc->n ? cc->n : 1, sizeof(*order));
	for (size_t i = 0; i < cc->n; i++) {
		const struct expr_series *s = &cc->s[i];
		size_t hi = 0;  /* points not after t */

		for (size_t k = 0; k < npoints; k++) {
			double t = t0 + (double)k * step;

			while (hi < s->n && s->ts[hi] <= t)
				hi++;
			if (expr_instant_index(s, hi, t, lookback) >= 0) {
				order[n++] = (struct first){ k, i, 0 };
				break;
			}
		}
	}
	qsort(order, n, sizeof(*order), first_cmp);
	for (size_t k = 0; k < n; k++) {
		const struct expr_series *s = &cc->s[order[k].i];
		size_t before = a->n;

		order[k].answer = (size_t)(answer_series(a, s->name, s->labels, s->nlabels) - a->s);
		if (a->n == before) {
			/* two series of one name and labels: their points would interleave */
			answer_clear(a);
			free(order);
			return -1;
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct expr_series *s = &cc->s[order[k].i], *o = &a->s[order[k].answer];
		size_t hi = 0;

		for (size_t m = order[k].step; m < npoints; m++) {
			double t = t0 + (double)m * step;
			long j;

			while (hi < s->n && s->ts[hi] <= t)
				hi++;
			if ((j = expr_instant_index(s, hi, t, lookback)) >= 0)
				series_add(o, t, s->v[j], npoints);
		}
		cached_release(s);
	}
	free(order);
	return 0;
}

int
query_range_eval(const struct expr *e, const struct expr_source *src, struct query_range *q,
    struct expr_series **out, size_t *nout, char *err, size_t errlen)
{
	struct cache c = { src, NULL, 0 };
	struct expr_source cs = *src;
	struct answer a = { 0 };
	size_t max = q->max_points ? q->max_points : QUERY_MAX_POINTS, npoints, total = 0;
	double step, t0, found, span;
	int rc = -1, rows = 0;

	*out = NULL;
	*nout = 0;
	if (!(q->start <= q->end) || isnan(q->step) || q->step < 0) {
		snprintf(err, errlen, "query: the range must have start <= end and a step > 0");
		return -1;
	}
	if (expr_result_type(e) == EXPR_MATRIX) {
		snprintf(err, errlen, "query: a range vector cannot be evaluated at each step "
		    "(use a function such as rate() or avg_over_time() on it)");
		return -1;
	}
	q->limit = 0;
	if (cache_fill(&c, e, q->start - expr_reach(e, src->lookback), q->end, &found, err,
	    errlen) == -1 || timed_out(q, err, errlen))
		goto out;
	q->data_step = found;
	step = q->step > 0 ? q->step : found > 0 ? found : QUERY_DEFAULT_STEP;
	if (q->snap && q->step > 0 && found > step)
		step = found;
	/* with the data's own step, evaluate at the ends of its rows (multiples of it) */
	t0 = q->step > 0 ? q->start : ceil(q->start / step) * step;
	span = q->end - t0;
	if (span < 0) {
		q->step_used = step;
		rc = 0;
		goto out;
	}
	if (span / step + 1 > (double)max) {
		snprintf(err, errlen, "query: the range needs %.0f steps of %gs, more than the limit "
		    "of %zu (use a larger step)", floor(span / step) + 1, step, max);
		goto out;
	}
	npoints = (size_t)floor(span / step) + 1;
	q->step_used = step;
	rows = (q->step == 0 && selector_rows(e, &c, t0, q->end, step, &a) == 0) ||
	    selector_walk(e, &c, t0, step, npoints, expr_lookback(src), &a) == 0;
	if (rows)
		goto done; /* a bare selector: answered from its rows, not step by step */
	cs.select = cache_select;
	cs.hw_failures = cache_hw;
	cs.arg = &c;
	for (size_t i = 0; i < npoints; i++) {
		double t = t0 + (double)i * step;
		struct expr_value v = { 0 };

		if ((i % 64 == 63 && timed_out(q, err, errlen)) ||
		    expr_eval(e, &cs, t, &v, err, errlen) == -1)
			goto out;
		total += v.type == EXPR_VECTOR ? v.nsamples : 1;
		if (too_many(q, total, err, errlen)) {
			expr_value_free(&v);
			goto out;
		}
		if (v.type == EXPR_SCALAR)
			series_add(answer_series(&a, NULL, NULL, 0), t, v.scalar, npoints);
		for (size_t k = 0; v.type == EXPR_VECTOR && k < v.nsamples; k++) {
			const struct expr_sample *sm = &v.samples[k];

			series_add(answer_series(&a, sm->name, sm->labels, sm->nlabels), t, sm->v,
			    npoints);
		}
		expr_value_free(&v);
	}
done:
	for (size_t i = 0; i < a.n; i++)
		a.s[i].step = step;
	if (rows) {
		for (size_t i = 0; i < a.n; i++)
			total += a.s[i].n;
		if (too_many(q, total, err, errlen))
			goto out;
	}
	*out = a.s;
	*nout = a.n;
	a.s = NULL;
	a.n = 0;
	rc = 0;
out:
	answer_clear(&a);
	cache_free(&c);
	return rc;
}
