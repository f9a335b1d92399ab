/* memsource.c: an expression source over series held in memory (rule tests, recorded series). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "memsource.h"
#include "util.h"

struct mseries {
	char *name;
	struct reeve_label *labels; /* sorted by name, owned */
	size_t nlabels;
	double *ts, *v;
	unsigned char *stale;
	size_t n, cap;
};

struct memsource {
	struct mseries *s;
	size_t n, cap;
};

struct memsource *
memsource_new(void)
{
	return xcalloc(1, sizeof(struct memsource));
}

void
memsource_free(struct memsource *ms)
{
	if (ms == NULL)
		return;
	for (size_t i = 0; i < ms->n; i++) {
		struct mseries *s = &ms->s[i];

		for (size_t j = 0; j < s->nlabels; j++) {
			free((char *)s->labels[j].name);
			free((char *)s->labels[j].value);
		}
		free(s->labels);
		free(s->name);
		free(s->ts);
		free(s->v);
		free(s->stale);
	}
	free(ms->s);
	free(ms);
}

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

static struct reeve_label *
labels_dup(const struct reeve_label *l, size_t n)
{
	struct reeve_label *d = xcalloc(n ? n : 1, sizeof(*d));

	for (size_t i = 0; i < n; i++) {
		d[i].name = xstrdup(l[i].name);
		d[i].value = xstrdup(l[i].value);
	}
	qsort(d, n, sizeof(*d), cmp_label);
	return d;
}

/* Whether the sorted label sets are equal. */
static int
same_labels(const struct reeve_label *a, size_t na, const struct reeve_label *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) != 0 || strcmp(a[i].value, b[i].value) != 0)
			return 0;
	return 1;
}

int
memsource_add(struct memsource *ms, const char *name, const struct reeve_label *labels,
    size_t nlabels, double t, double v, int stale)
{
	struct reeve_label *l = labels_dup(labels, nlabels);
	struct mseries *s = NULL;

	for (size_t i = 0; i < ms->n && s == NULL; i++)
		if (strcmp(ms->s[i].name, name) == 0 &&
		    same_labels(ms->s[i].labels, ms->s[i].nlabels, l, nlabels))
			s = &ms->s[i];
	if (s == NULL) {
		if (ms->n == ms->cap) {
			ms->cap = ms->cap ? ms->cap * 2 : 16;
			ms->s = xreallocarray(ms->s, ms->cap, sizeof(*ms->s));
		}
		s = &ms->s[ms->n++];
		memset(s, 0, sizeof(*s));
		s->name = xstrdup(name);
		s->labels = l;
		s->nlabels = nlabels;
	} else {
		for (size_t j = 0; j < nlabels; j++) {
			free((char *)l[j].name);
			free((char *)l[j].value);
		}
		free(l);
	}
	if (s->n > 0 && !(t > s->ts[s->n - 1]))
		return -1;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->ts = xreallocarray(s->ts, s->cap, sizeof(*s->ts));
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
		s->stale = xreallocarray(s->stale, s->cap, sizeof(*s->stale));
	}
	s->ts[s->n] = t;
	s->v[s->n] = stale ? 0 : v;
	s->stale[s->n++] = stale != 0;
	return 0;
}

static int
mselect(void *arg, const struct expr_matcher *m, size_t nm, double start, double end,
    int latest, struct expr_series **out, size_t *n, char *err, size_t errlen)
{
	struct memsource *ms = arg;
	struct expr_series *o = xcalloc(ms->n ? ms->n : 1, sizeof(*o));

	(void)err;
	(void)errlen;
	(void)latest; /* every point in the range: the evaluator takes the newest */
	*n = 0;
	for (size_t i = 0; i < ms->n; i++) {
		const struct mseries *s = &ms->s[i];
		struct expr_series *e;
		size_t count = 0;
		double stale_at = 0;

		if (!expr_matches(m, nm, s->name, s->labels, s->nlabels))
			continue;
		/* the points in [start, end] but the markers; a marker not followed by a point
		 * makes the series stale from then on, as Prometheus's staleness marker does */
		for (size_t k = 0; k < s->n && s->ts[k] <= end; k++) {
			if (s->ts[k] < start)
				continue;
			if (s->stale[k])
				stale_at = s->ts[k];
			else {
				stale_at = 0;
				count++;
			}
		}
		if (count == 0)
			continue;
		e = &o[(*n)++];
		e->name = xstrdup(s->name);
		e->labels = expr_labels_pack(s->labels, s->nlabels); /* sorted already */
		e->nlabels = s->nlabels;
		e->type = REEVE_GAUGE;
		e->step = s->n > 1 ? (s->ts[s->n - 1] - s->ts[0]) / (double)(s->n - 1) : 60;
		e->ts = xcalloc(count, sizeof(double));
		e->v = xcalloc(count, sizeof(double));
		for (size_t k = 0; k < s->n && s->ts[k] <= end; k++) {
			if (s->ts[k] < start || s->stale[k])
				continue;
			e->ts[e->n] = s->ts[k];
			e->v[e->n++] = s->v[k];
		}
		e->stale_at = stale_at;
	}
	if (*n == 0) {
		free(o);
		o = NULL;
	}
	*out = o;
	return 0;
}

void
memsource_source(struct memsource *ms, struct expr_source *src)
{
	memset(src, 0, sizeof(*src));
	src->select = mselect;
	src->hw_failures = NULL;
	src->arg = ms;
	src->lookback = 300;
}
