/* history.c: the series of the expression language: the registry's window, then the RRD files. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "history.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "util.h"

/*
 * The registry and the store have their own locks; a history holds none. Reading order: the
 * registry's window under its read lock (copying points out), then the RRD files without
 * any registry lock held (a fetch reads a file).
 */
struct history {
	struct registry *reg;
	struct store *store;    /* NULL: memory only */
	double window;          /* seconds the registry keeps */
	double (*now)(void);
};

struct history *
history_new(struct registry *r, struct store *s, double window)
{
	struct history *h = xcalloc(1, sizeof(*h));

	h->reg = r;
	h->store = s;
	h->window = window;
	h->now = util_now;
	return h;
}

void
history_free(struct history *h)
{
	free(h);
}

/* ---- building results -------------------------------------------------------------------- */

struct result {
	struct expr_series *s;
	size_t n, cap;
};

static struct expr_series *
result_add(struct result *r, const char *name, const struct reeve_label *labels, size_t n,
    int type, double step)
{
	struct expr_series *s;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->s = xreallocarray(r->s, r->cap, sizeof(*r->s));
	}
	s = &r->s[r->n++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->labels = expr_labels_pack(labels, n);
	s->nlabels = n;
	s->type = type;
	s->step = step;
	return s;
}

/* Free what one series holds (not the series itself). */
static void
series_clear(struct expr_series *s)
{
	free(s->labels);
	free(s->name);
	free(s->ts);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void
series_append(struct expr_series *s, double ts, double v, size_t *cap)
{
	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		s->ts = xreallocarray(s->ts, *cap, sizeof(*s->ts));
		s->v = xreallocarray(s->v, *cap, sizeof(*s->v));
	}
	s->ts[s->n] = ts;
	s->v[s->n++] = v;
}

/*
 * Put RRD points (rows ending in (start, before)) in front of the series' points. A counter's
 * RRD rows are rates: they are summed back into a running total that ends where the points
 * from memory begin (or at 0 without them), so rate() and increase() see one counter.
 * The rows are kept in p's own arrays, which the series takes (p is left empty).
 */
static void
prepend_rrd(struct expr_series *s, struct store_points *p, double start, double before)
{
	size_t k = 0, keep = s->n;
	double total = 0, last = NAN, last_ts = 0, last_rate = 0;

	/* the rows kept, moved to the front of p's arrays */
	for (size_t i = 0; i < p->n; i++) {
		if (!(p->ts[i] > start && p->ts[i] < before) || isnan(p->v[i]))
			continue;
		if (p->type == REEVE_COUNTER) {
			total += p->v[i] * p->step;
			last = total;
			last_ts = p->ts[i];
			last_rate = p->v[i];
		}
		p->ts[k] = p->ts[i];
		p->v[k++] = p->type == REEVE_COUNTER ? total : p->v[i];
	}
	if (k == 0)
		return;
	if (p->type == REEVE_COUNTER) {
		/*
		 * Shift the totals to meet the first raw value from memory, bridging the gap
		 * between the last row and that point at the last row's rate.
		 */
		double offset = keep ? s->v[0] - last_rate * (s->ts[0] - last_ts) - last : 0;

		for (size_t i = 0; i < k; i++)
			p->v[i] += offset;
	}
	if (keep > 0) { /* without points from memory s->ts is NULL, which memcpy must not get */
		p->ts = xreallocarray(p->ts, k + keep, sizeof(*p->ts));
		p->v = xreallocarray(p->v, k + keep, sizeof(*p->v));
		memcpy(p->ts + k, s->ts, keep * sizeof(*p->ts));
		memcpy(p->v + k, s->v, keep * sizeof(*p->v));
	}
	free(s->ts);
	free(s->v);
	s->ts = p->ts;
	s->v = p->v;
	s->n = k + keep;
	p->ts = p->v = NULL;
	p->n = 0;
	if (p->step > s->step)
		s->step = p->step;
}

/* ---- select ------------------------------------------------------------------------------ */

/* A series of the registry whose window does not reach back to start: read its file. */
struct pending {
	struct store_file *file;
	size_t idx;            /* in the result */
	double before;         /* the oldest point from memory (or end + 1 without any) */
};

/* The value of a __name__="x" matcher, or NULL: lets a selector skip other families. */
static const char *
name_equal(const struct expr_matcher *m, size_t nm)
{
	for (size_t i = 0; i < nm; i++)
		if (m[i].op == EXPR_MATCH_EQ && strcmp(m[i].name, "__name__") == 0)
			return m[i].value;
	return NULL;
}

struct store_scan {
	struct history *h;
	const struct expr_matcher *m;
	size_t nm;
	const char *name;            /* from name_equal, or NULL */
	struct store_file **files;   /* matching files the registry does not hold */
	char **names;
	struct reeve_label **labels;
	size_t *nlabels, n, cap;
	const struct result *known;  /* series already taken from the registry */
	struct store_file **mem;     /* the files of those series, sorted (NULL: none) */
	size_t nmem;
};

static int
cmp_ptr(const void *a, const void *b)
{
	const void *x = *(const void *const *)a, *y = *(const void *const *)b;

	return x < y ? -1 : x > y;
}

static int
known_series(const struct result *r, const char *name, const struct reeve_label *l, size_t n)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct expr_series *s = &r->s[i];
		size_t j;

		if (s->nlabels != n || strcmp(s->name, name) != 0)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(s->labels[j].name, l[j].name) != 0 ||
			    strcmp(s->labels[j].value, l[j].value) != 0)
				break;
		if (j == n)
			return 1;
	}
	return 0;
}

static void
scan_file(void *arg, struct store_file *f, const char *rel)
{
	struct store_scan *sc = arg;
	struct reeve_label *labels;
	char *name;
	size_t n;

	if (sc->name != NULL) {
		size_t k = strlen(sc->name);

		/* "name.rrd" or "name/..." */
		if (strncmp(rel, sc->name, k) != 0 || (rel[k] != '/' && strcmp(rel + k, ".rrd") != 0))
			return;
	}
	/*
	 * The file of a series taken from the registry: known without decoding its path and
	 * comparing it with every series taken (which made a select over many series in
	 * memory quadratic). Others are still compared: a registry without the store has no files.
	 */
	if (sc->nmem > 0 && bsearch(&f, sc->mem, sc->nmem, sizeof(*sc->mem), cmp_ptr) != NULL)
		return;
	if (store_path_decode(rel, &name, &labels, &n) == -1)
		return;
	if (!expr_matches(sc->m, sc->nm, name, labels, n) || known_series(sc->known, name, labels, n)) {
		free(name);
		store_labels_free(labels, n);
		return;
	}
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 16;
		sc->files = xreallocarray(sc->files, sc->cap, sizeof(*sc->files));
		sc->names = xreallocarray(sc->names, sc->cap, sizeof(*sc->names));
		sc->labels = xreallocarray(sc->labels, sc->cap, sizeof(*sc->labels));
		sc->nlabels = xreallocarray(sc->nlabels, sc->cap, sizeof(*sc->nlabels));
	}
	sc->files[sc->n] = f;
	sc->names[sc->n] = name;
	sc->labels[sc->n] = labels;
	sc->nlabels[sc->n++] = n;
}

/*
 * Series only the RRD files still have (gone from memory: a process that ended, or the
 * daemon restarted): read when the range reaches back past the registry's window.
 */
static void
select_stored(struct history *h, const struct expr_matcher *m, size_t nm, double start,
    double end, struct result *res, struct store_file **mem, size_t nmem)
{
	struct store_scan sc = { h, m, nm, name_equal(m, nm), NULL, NULL, NULL, NULL, 0, 0, res,
		mem, nmem };
	char e[256];

	if (nmem > 0)
		qsort(mem, nmem, sizeof(*mem), cmp_ptr);
	store_foreach(h->store, scan_file, &sc);
	for (size_t i = 0; i < sc.n; i++) {
		struct store_points p;
		struct expr_series *s;

		/* an unreadable file is left out, as a series without data would be */
		if (store_fetch(h->store, sc.files[i], "AVERAGE", start, end, &p, e, sizeof(e)) == 0) {
			s = result_add(res, sc.names[i], sc.labels[i], sc.nlabels[i], p.type, p.step);
			prepend_rrd(s, &p, start, nextafter(end, INFINITY));
			store_points_free(&p);
		} else {
			log_debug("history: %s left out: %s", store_file_path(sc.files[i]), e);
		}
		free(sc.names[i]);
		store_labels_free(sc.labels[i], sc.nlabels[i]);
	}
	free(sc.files);
	free(sc.names);
	free(sc.labels);
	free(sc.nlabels);
}

/* The fields of a series a select reads first, which span more than one cache line. */
static void
prefetch_series(const struct reg_series *rs)
{
	__builtin_prefetch(&rs->labels);
	__builtin_prefetch(&rs->value);
	__builtin_prefetch(&rs->stale_since);
}

/*
 * Ask for the registry memory that the series after j in f will be read from. Selecting
 * from a large registry waits on memory far more than it computes: a series, its label array
 * and its strings are a chain of cache misses, one series after another. Fetching each link a
 * few series ahead (distances measured with bench/rules) lets those misses overlap. A hint
 * only: nothing is read here.
 */
static void
prefetch_ahead(const struct reg_family *f, size_t j)
{
	if (j + 6 < f->nseries)
		prefetch_series(f->series[j + 6]);
	if (j + 3 < f->nseries)
		__builtin_prefetch(f->series[j + 3]->labels);
	if (j + 1 < f->nseries) {
		const struct reg_series *next = f->series[j + 1];

		for (size_t k = 0; k < next->nlabels; k++) {
			__builtin_prefetch(next->labels[k].name);
			__builtin_prefetch(next->labels[k].value);
		}
	}
}

/*
 * The resolution of a series' points in memory: the interval of the probe that reports it,
 * as the RRD rows it writes have it. Not the average spacing of the points: the scrapes of a
 * probe run every interval give or take some milliseconds, so that average is 1.00002 s or
 * 0.99998 s for a 1 s probe, and a range query at a step of exactly 1 s would be raised to
 * 1.00002 s (query_range's snap), its times drifting off start + k * step, with a warning.
 * The average serves only a series whose probe is gone (no owner). Read lock held.
 */
static double
memory_step(const struct reg_series *rs, const struct expr_series *s)
{
	if (rs->owner != NULL && reg_owner_interval(rs->owner) > 0)
		return reg_owner_interval(rs->owner);
	return s->n >= 2 ? (s->ts[s->n - 1] - s->ts[0]) / (double)(s->n - 1) : 0;
}

static int
history_select(void *arg, const struct expr_matcher *m, size_t nm, double start, double end,
    int latest, struct expr_series **out, size_t *nout, char *err, size_t errlen)
{
	struct history *h = arg;
	struct result res = { 0 };
	struct pending *pend = NULL;
	struct store_file **mem = NULL;  /* the files of the series taken from memory */
	size_t npend = 0, pendcap = 0, nfam, nmem = 0, memcap = 0;
	const char *name = name_equal(m, nm);
	struct reg_family **fams, *one;
	double covered;
	int deep;

	/* with the family found by name, its series need only the other matchers */
	const struct expr_matcher *rest = m;
	size_t nrest = nm;

	if (name != NULL && nm > 0 && m[0].op == EXPR_MATCH_EQ && strcmp(m[0].name, "__name__") == 0) {
		rest = m + 1;
		nrest = nm - 1;
	}
	reg_rdlock(h->reg);
	/*
	 * memory covers (now - window, now], but only since the first commit (a restart): older
	 * ranges need the files
	 */
	covered = reg_since(h->reg) > 0 ? fmax(h->now() - h->window, reg_since(h->reg)) : INFINITY;
	deep = h->store != NULL && start < covered;
	/*
	 * The families the selector may match: with a metric name, the one family of that name,
	 * found by hash, so that a rule costs the same with 10 or 10,000 metric names; without
	 * one, all of them.
	 */
	if (name != NULL) {
		one = reg_family_find(h->reg, name);
		fams = &one;
		nfam = one != NULL;
		/* room for every series of the family at once: one allocation, no growing */
		if (one != NULL && one->nseries > 0) {
			res.cap = one->nseries;
			res.s = xreallocarray(NULL, res.cap, sizeof(*res.s));
		}
	} else
		fams = reg_families(h->reg, &nfam);
	for (size_t i = 0; i < nfam; i++) {
		struct reg_family *f = fams[i];

		for (size_t j = 0; j < f->nseries && j < 6; j++)
			prefetch_series(f->series[j]);
		for (size_t j = 0; j < f->nseries; j++) {
			struct reg_series *rs = f->series[j];
			struct expr_series *s;
			size_t cap = 0;
			double ts, v, oldest = INFINITY;

			prefetch_ahead(f, j);

			if (!expr_matches(rest, nrest, rs->name, rs->labels, rs->nlabels))
				continue;
			/* the family's name, which is the series' own: one string fewer to read */
			s = result_add(&res, f->name, rs->labels, rs->nlabels, f->type, 0);
			s->stale_at = rs->stale ? rs->stale_since : 0;
			if (deep && rs->file != NULL) {
				if (nmem == memcap) { /* nmem <= res.n <= res.cap */
					memcap = res.cap;
					mem = xreallocarray(mem, memcap, sizeof(*mem));
				}
				mem[nmem++] = rs->file;
			}
			if (latest) {
				/* the newest point in (start, end]: the latest sample, or else the
				 * window's newest one before end (point 0 is the newest) */
				int found = rs->ts > start && rs->ts <= end;

				ts = rs->ts;
				v = rs->value;
				for (size_t k = 0; !found && reg_series_point(rs, k, &ts, &v) == 0; k++) {
					if (ts < oldest)
						oldest = ts;
					found = ts > start && ts <= end;
				}
				if (found)
					series_append(s, ts, v, &cap);
			} else
				/* the window's points in (start, end], oldest first */
				for (size_t k = rs->wlen; k-- > 0;) {
					if (reg_series_point(rs, k, &ts, &v) == -1)
						continue;
					if (ts < oldest)
						oldest = ts;
					if (ts > start && ts <= end)
						series_append(s, ts, v, &cap);
				}
			if (!latest)
				s->step = memory_step(rs, s);
			if (deep && rs->file != NULL && oldest > start && !(latest && s->n > 0)) {
				if (npend == pendcap) {
					pendcap = pendcap ? pendcap * 2 : 16;
					pend = xreallocarray(pend, pendcap, sizeof(*pend));
				}
				pend[npend].file = rs->file;
				pend[npend].idx = res.n - 1;
				/* rows up to the first point from memory, within the range */
				pend[npend++].before = oldest < end ? oldest : nextafter(end, INFINITY);
			}
		}
	}
	reg_unlock(h->reg);

	for (size_t i = 0; i < npend; i++) {
		struct store_points p;

		if (store_fetch(h->store, pend[i].file, "AVERAGE", start, pend[i].before, &p, err,
		    errlen) == -1)
			continue; /* not written yet (a new series), or unreadable: memory only */
		prepend_rrd(&res.s[pend[i].idx], &p, start, pend[i].before);
		store_points_free(&p);
	}
	free(pend);
	if (deep)
		select_stored(h, m, nm, start, end, &res, mem, nmem);
	free(mem);
	/* series without a point in the range are not part of the answer */
	for (size_t i = 0; i < res.n;) {
		if (res.s[i].n == 0) {
			series_clear(&res.s[i]);
			res.s[i] = res.s[--res.n];
		} else
			i++;
	}
	(void)err;
	(void)errlen;
	*out = res.s;
	*nout = res.n;
	return 0;
}

/* ---- holt_winters_anomaly ---------------------------------------------------------------- */

static int
history_hw_failures(void *arg, const struct expr_matcher *m, size_t nm, double t,
    struct expr_series **out, size_t *nout, char *err, size_t errlen)
{
	struct history *h = arg;
	struct result none = { 0 }, res = { 0 };
	struct store_scan sc = { h, m, nm, name_equal(m, nm), NULL, NULL, NULL, NULL, 0, 0, &none,
		NULL, 0 };

	if (h->store == NULL) {
		snprintf(err, errlen, "holt_winters_anomaly needs the RRD files");
		return -1;
	}
	store_foreach(h->store, scan_file, &sc);
	for (size_t i = 0; i < sc.n; i++) {
		struct store_points p;
		char e[256];

		/* a file without Holt-Winters RRAs has no FAILURES: it is not part of the answer */
		if (store_fetch(h->store, sc.files[i], "FAILURES", t - 3600, t, &p, e, sizeof(e)) == 0) {
			size_t k = p.n;

			while (k > 0 && (isnan(p.v[k - 1]) || p.ts[k - 1] > t))
				k--;
			if (k > 0) {
				struct expr_series *s = result_add(&res, sc.names[i], sc.labels[i],
				    sc.nlabels[i], REEVE_GAUGE, p.step);
				size_t cap = 0;

				series_append(s, p.ts[k - 1], p.v[k - 1], &cap);
			}
			store_points_free(&p);
		}
		free(sc.names[i]);
		store_labels_free(sc.labels[i], sc.nlabels[i]);
	}
	free(sc.files);
	free(sc.names);
	free(sc.labels);
	free(sc.nlabels);
	(void)err;
	(void)errlen;
	*out = res.s;
	*nout = res.n;
	return 0;
}

void
history_source(struct history *h, struct expr_source *src)
{
	memset(src, 0, sizeof(*src));
	src->select = history_select;
	src->hw_failures = history_hw_failures;
	src->arg = h;
	src->lookback = 300;
}

void
history_set_clock(struct history *h, double (*now)(void))
{
	h->now = now ? now : util_now;
}
