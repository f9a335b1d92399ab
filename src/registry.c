/* registry.c: the latest value and a recent in-memory window of every series. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "util.h"

/* Ring buffers never hold more than this many points, whatever window and interval say. */
#define REG_WINDOW_MAX 4096

struct reg_owner {
	char *name;
	double interval;
	unsigned long round;
	int partial; /* REG_OWNER_PARTIAL: a commit says nothing about series not in it */
};

/*
 * The lock: one rwlock over everything below (series, families, hash tables, owners'
 * series lists). reg_commit takes it for writing; readers (expo_render, rules) for reading.
 * gen and the counters are atomics, readable without it.
 */
struct registry {
	pthread_rwlock_t lock;
	double window;
	double since;             /* the earliest commit time: memory holds nothing before it */
	struct store *store;
	struct reg_series **sbuckets;
	size_t nsbuckets, nseries;
	struct reg_series **all;  /* every series, in no order; reg_series.idx is its place */
	size_t allcap;
	struct reg_family **fbuckets;
	size_t nfbuckets;
	struct reg_family **fams; /* sorted by name */
	size_t nfams, famcap;
	struct buf scratch;       /* key building, under the write lock */
	unsigned long gen;
	unsigned long type_conflicts;
	unsigned long unstorable;
	unsigned long out_of_order;
};

/* ---- batches ---------------------------------------------------------------------------- */

static size_t
arena_add(struct buf *a, const char *s)
{
	size_t off = a->len;

	buf_append(a, s, strlen(s) + 1);
	return off;
}

int
reg_batch_add(struct reg_batch *b, const char *name, const char *help, int type,
    const struct reeve_label *labels, size_t nlabels, double value)
{
	struct reg_batch_sample *s;

	if (!util_valid_metric_name(name) || (type != REEVE_GAUGE && type != REEVE_COUNTER))
		goto reject;
	for (size_t i = 0; i < nlabels; i++)
		if (!util_valid_label_name(labels[i].name) || labels[i].value == NULL ||
		    strncmp(labels[i].name, "__", 2) == 0)
			goto reject;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->s = xreallocarray(b->s, b->cap, sizeof(*b->s));
	}
	if (b->nlab + 2 * nlabels > b->labcap) {
		while (b->nlab + 2 * nlabels > b->labcap)
			b->labcap = b->labcap ? b->labcap * 2 : 128;
		b->lab = xreallocarray(b->lab, b->labcap, sizeof(*b->lab));
	}
	s = &b->s[b->n++];
	s->name = arena_add(&b->arena, name);
	s->help = arena_add(&b->arena, help ? help : "");
	s->labels = b->nlab;
	s->nlabels = 0;
	for (size_t i = 0; i < nlabels; i++) {
		if (labels[i].value[0] == '\0')
			continue; /* an empty label is the same as no label, as in Prometheus */
		b->lab[b->nlab++] = arena_add(&b->arena, labels[i].name);
		b->lab[b->nlab++] = arena_add(&b->arena, labels[i].value);
		s->nlabels++;
	}
	s->type = type;
	s->value = value;
	s->ts = 0;
	s->ttl = 0;
	return 0;
reject:
	b->rejected++;
	return -1;
}

void
reg_batch_reset(struct reg_batch *b)
{
	b->n = 0;
	b->nlab = 0;
	b->rejected = 0;
	buf_reset(&b->arena);
}

void
reg_batch_mark(const struct reg_batch *b, struct reg_batch_mark *m)
{
	m->n = b->n;
	m->nlab = b->nlab;
	m->arena = b->arena.len;
	m->rejected = b->rejected;
}

void
reg_batch_rewind(struct reg_batch *b, const struct reg_batch_mark *m)
{
	b->n = m->n;
	b->nlab = m->nlab;
	b->arena.len = m->arena;
	b->rejected = m->rejected;
}

void
reg_batch_free(struct reg_batch *b)
{
	free(b->s);
	free(b->lab);
	buf_free(&b->arena);
	memset(b, 0, sizeof(*b));
}

/* ---- keys ------------------------------------------------------------------------------- */

static int
label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

void
reg_series_key(struct buf *out, const char *name, struct reeve_label *labels, size_t n)
{
	buf_reset(out);
	buf_puts(out, name);
	if (n == 0)
		return;
	qsort(labels, n, sizeof(*labels), label_cmp);
	buf_putc(out, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, ',');
		buf_puts(out, labels[i].name);
		buf_puts(out, "=\"");
		expo_escape_label(out, labels[i].value);
		buf_putc(out, '"');
	}
	buf_putc(out, '}');
}

/* ---- registry --------------------------------------------------------------------------- */

struct registry *
reg_new(double window, struct store *store)
{
	struct registry *r = xcalloc(1, sizeof(*r));

	pthread_rwlock_init(&r->lock, NULL);
	r->window = window;
	r->store = store;
	r->nsbuckets = 1024;
	r->sbuckets = xcalloc(r->nsbuckets, sizeof(*r->sbuckets));
	r->nfbuckets = 256;
	r->fbuckets = xcalloc(r->nfbuckets, sizeof(*r->fbuckets));
	return r;
}

static void
series_free(struct reg_series *s)
{
	for (size_t i = 0; i < s->nlabels; i++) {
		free((char *)s->labels[i].name);
		free((char *)s->labels[i].value);
	}
	free(s->labels);
	free(s->key);
	free(s->name);
	free(s->wts);
	free(s->wval);
	free(s);
}

void
reg_free(struct registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nsbuckets; i++)
		for (struct reg_series *s = r->sbuckets[i], *next; s; s = next) {
			next = s->hnext;
			series_free(s);
		}
	for (size_t i = 0; i < r->nfams; i++) {
		free(r->fams[i]->name);
		free(r->fams[i]->help);
		free(r->fams[i]->series);
		free(r->fams[i]);
	}
	free(r->fams);
	free(r->all);
	free(r->sbuckets);
	free(r->fbuckets);
	buf_free(&r->scratch);
	pthread_rwlock_destroy(&r->lock);
	free(r);
}

struct reg_owner *
reg_owner_new(struct registry *r, const char *name, double interval, int flags)
{
	struct reg_owner *o = xcalloc(1, sizeof(*o));

	(void)r;
	o->name = xstrdup(name);
	o->interval = interval;
	o->partial = (flags & REG_OWNER_PARTIAL) != 0;
	return o;
}

double
reg_owner_interval(const struct reg_owner *o)
{
	return o->interval;
}

void
reg_owner_free(struct registry *r, struct reg_owner *o)
{
	if (o == NULL)
		return;
	pthread_rwlock_wrlock(&r->lock);
	for (size_t i = 0; i < r->nseries; i++) {
		struct reg_series *s = r->all[i];

		if (s->owner != o)
			continue; /* another owner (a newer one, after a reload) reports it */
		s->owner = NULL;
		if (!s->stale)
			s->stale_since = util_now();
		s->stale = 1;
	}
	__atomic_add_fetch(&r->gen, 1, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&r->lock);
	free(o->name);
	free(o);
}

static void
sgrow(struct registry *r)
{
	size_t n = r->nsbuckets * 2;
	struct reg_series **nb = xcalloc(n, sizeof(*nb));

	for (size_t i = 0; i < r->nsbuckets; i++)
		for (struct reg_series *s = r->sbuckets[i], *next; s; s = next) {
			size_t h = util_hash(s->key, strlen(s->key)) & (n - 1);
			next = s->hnext;
			s->hnext = nb[h];
			nb[h] = s;
		}
	free(r->sbuckets);
	r->sbuckets = nb;
	r->nsbuckets = n;
}

/* Twice the buckets for the families: a lookup by name stays one bucket deep. */
static void
fgrow(struct registry *r)
{
	size_t n = r->nfbuckets * 2;
	struct reg_family **nb = xcalloc(n, sizeof(*nb));

	for (size_t i = 0; i < r->nfbuckets; i++)
		for (struct reg_family *f = r->fbuckets[i], *next; f; f = next) {
			size_t h = util_hash(f->name, strlen(f->name)) & (n - 1);

			next = f->hnext;
			f->hnext = nb[h];
			nb[h] = f;
		}
	free(r->fbuckets);
	r->fbuckets = nb;
	r->nfbuckets = n;
}

/* Sorted arrays: the key of the i-th element, and the first index whose key is >= key. */
static const char *
family_name_at(const void *v, size_t i)
{
	return ((struct reg_family *const *)v)[i]->name;
}

static const char *
series_key_at(const void *v, size_t i)
{
	return ((struct reg_series *const *)v)[i]->key;
}

static size_t
lower_bound(const void *v, size_t n, const char *key, const char *(*key_at)(const void *, size_t))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(key_at(v, mid), key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct reg_family *
family_get(struct registry *r, const char *name, const char *help, int type)
{
	size_t h = util_hash(name, strlen(name)) & (r->nfbuckets - 1);
	struct reg_family *f;
	size_t lo;

	for (f = r->fbuckets[h]; f; f = f->hnext)
		if (strcmp(f->name, name) == 0)
			return f;
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->help = xstrdup(help && *help ? help : name);
	f->type = type;
	f->hnext = r->fbuckets[h];
	r->fbuckets[h] = f;
	/* keep fams sorted by name */
	lo = lower_bound(r->fams, r->nfams, name, family_name_at);
	if (r->nfams == r->famcap) {
		r->famcap = r->famcap ? r->famcap * 2 : 64;
		r->fams = xreallocarray(r->fams, r->famcap, sizeof(*r->fams));
	}
	memmove(&r->fams[lo + 1], &r->fams[lo], (r->nfams - lo) * sizeof(*r->fams));
	r->fams[lo] = f;
	if (++r->nfams > r->nfbuckets)
		fgrow(r);
	return f;
}

static void
family_add_series(struct reg_family *f, struct reg_series *s)
{
	size_t lo = lower_bound(f->series, f->nseries, s->key, series_key_at);

	if (f->nseries == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->series = xreallocarray(f->series, f->cap, sizeof(*f->series));
	}
	memmove(&f->series[lo + 1], &f->series[lo], (f->nseries - lo) * sizeof(*f->series));
	f->series[lo] = s;
	f->nseries++;
}

static struct reg_series *
series_new(struct registry *r, struct reg_owner *o, const char *key, const char *name,
    const struct reeve_label *labels, size_t n, struct reg_family *f)
{
	struct reg_series *s = xcalloc(1, sizeof(*s));
	size_t h;

	s->key = xstrdup(key);
	s->name = xstrdup(name);
	s->nlabels = n;
	s->labels = xcalloc(n ? n : 1, sizeof(*s->labels));
	for (size_t i = 0; i < n; i++) {
		s->labels[i].name = xstrdup(labels[i].name);
		s->labels[i].value = xstrdup(labels[i].value);
	}
	s->family = f;
	s->wcap = o->interval > 0 ? (size_t)ceil(r->window / o->interval) + 1 : 2;
	if (s->wcap > REG_WINDOW_MAX)
		s->wcap = REG_WINDOW_MAX;
	s->wts = xcalloc(s->wcap, sizeof(*s->wts));
	s->wval = xcalloc(s->wcap, sizeof(*s->wval));
	if (r->nseries == r->allcap) {
		r->allcap = r->allcap ? r->allcap * 2 : 1024;
		r->all = xreallocarray(r->all, r->allcap, sizeof(*r->all));
	}
	s->idx = r->nseries;
	r->all[r->nseries] = s;
	if (++r->nseries > r->nsbuckets)
		sgrow(r);
	h = util_hash(key, strlen(key)) & (r->nsbuckets - 1);
	s->hnext = r->sbuckets[h];
	r->sbuckets[h] = s;
	family_add_series(f, s);
	return s;
}

static struct reg_series *
series_find(struct registry *r, const char *key, size_t keylen)
{
	size_t h = util_hash(key, keylen) & (r->nsbuckets - 1);

	for (struct reg_series *s = r->sbuckets[h]; s; s = s->hnext)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

static void
series_store(struct registry *r, struct reg_series *s, struct reg_owner *o)
{
	char err[256];

	if (r->store == NULL)
		return;
	s->file = store_file_get(r->store, s->name, s->labels, s->nlabels,
	    s->family->type, o->interval, err, sizeof(err));
	if (s->file == NULL) {
		static struct log_limit lim;
		unsigned long dropped;

		__atomic_add_fetch(&r->unstorable, 1, __ATOMIC_RELAXED);
		if (log_limit_allow(&lim, 60, &dropped))
			log_warnx("series %s is not stored: %s", s->key, err);
	}
}

size_t
reg_commit(struct registry *r, struct reg_owner *o, double ts, const struct reg_batch *b)
{
	struct reeve_label labels[64];
	const char *a = b->arena.data;
	size_t dropped = 0;

	pthread_rwlock_wrlock(&r->lock);
	o->round++;
	if (r->since == 0 || ts < r->since)
		r->since = ts;
	for (size_t i = 0; i < b->n; i++) {
		const struct reg_batch_sample *bs = &b->s[i];
		size_t n = bs->nlabels < 64 ? bs->nlabels : 64;
		const char *name = a + bs->name;
		double t = bs->ts > 0 ? bs->ts : ts;
		struct reg_series *s;

		for (size_t j = 0; j < n; j++) {
			labels[j].name = a + b->lab[bs->labels + 2 * j];
			labels[j].value = a + b->lab[bs->labels + 2 * j + 1];
		}
		reg_series_key(&r->scratch, name, labels, n);
		s = series_find(r, r->scratch.data, r->scratch.len);
		if (s == NULL) {
			struct reg_family *f = family_get(r, name, a + bs->help, bs->type);

			if (f->type != bs->type) {
				__atomic_add_fetch(&r->type_conflicts, 1, __ATOMIC_RELAXED);
				dropped++;
				continue;
			}
			s = series_new(r, o, r->scratch.data, name, labels, n, f);
			series_store(r, s, o);
		} else if (s->family->type != bs->type) {
			__atomic_add_fetch(&r->type_conflicts, 1, __ATOMIC_RELAXED);
			dropped++;
			continue;
		} else if (bs->ts > 0 && t <= s->ts) {
			/* a pushed sample not newer than the latest: history only moves forward */
			__atomic_add_fetch(&r->out_of_order, 1, __ATOMIC_RELAXED);
			dropped++;
			continue;
		}
		s->owner = o;
		s->value = bs->value;
		s->ts = t;
		s->expires = bs->ttl > 0 ? ts + bs->ttl : 0;
		s->round = o->round;
		s->stale = 0;
		s->stale_since = 0;
		s->wts[s->whead] = t;
		s->wval[s->whead] = bs->value;
		s->whead = (s->whead + 1) % s->wcap;
		if (s->wlen < s->wcap)
			s->wlen++;
		if (s->file)
			store_put(r->store, s->file, t, bs->value);
	}
	/* series the owner did not report this round are gone (a process exited, a disk left) */
	for (size_t i = 0; i < r->nseries && !o->partial; i++) {
		struct reg_series *s = r->all[i];

		if (s->owner == o && s->round != o->round && !s->stale) {
			s->stale = 1;
			s->stale_since = ts;
		}
	}
	__atomic_add_fetch(&r->gen, 1, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&r->lock);
	return dropped;
}

size_t
reg_expire(struct registry *r, double now)
{
	size_t n = 0;

	pthread_rwlock_wrlock(&r->lock);
	for (size_t i = 0; i < r->nseries; i++) {
		struct reg_series *s = r->all[i];

		if (!s->stale && s->expires > 0 && s->expires <= now) {
			s->stale = 1;
			s->stale_since = s->expires;
			n++;
		}
	}
	if (n)
		__atomic_add_fetch(&r->gen, 1, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&r->lock);
	return n;
}

/* Take s out of the hash table, its family and the list of all series, and free it. */
static void
series_drop(struct registry *r, struct reg_series *s)
{
	size_t h = util_hash(s->key, strlen(s->key)) & (r->nsbuckets - 1);
	struct reg_family *f = s->family;
	struct reg_series **pp;
	size_t lo = lower_bound(f->series, f->nseries, s->key, series_key_at);

	for (pp = &r->sbuckets[h]; *pp != s; pp = &(*pp)->hnext)
		;
	*pp = s->hnext;
	memmove(&f->series[lo], &f->series[lo + 1], (f->nseries - lo - 1) * sizeof(*f->series));
	f->nseries--;
	r->all[s->idx] = r->all[--r->nseries];
	r->all[s->idx]->idx = s->idx;
	series_free(s);
}

size_t
reg_sweep(struct registry *r, double now, double age)
{
	size_t dropped = 0;

	pthread_rwlock_wrlock(&r->lock);
	for (size_t i = 0; i < r->nseries;) {
		struct reg_series *s = r->all[i];

		if (s->stale && s->ts < now - age) {
			series_drop(r, s); /* the last series moved to i: look at i again */
			dropped++;
		} else
			i++;
	}
	if (dropped)
		__atomic_add_fetch(&r->gen, 1, __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&r->lock);
	return dropped;
}

void
reg_rdlock(struct registry *r)
{
	pthread_rwlock_rdlock(&r->lock);
}

void
reg_unlock(struct registry *r)
{
	pthread_rwlock_unlock(&r->lock);
}

unsigned long
reg_generation(struct registry *r)
{
	return __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
}

struct reg_family **
reg_families(struct registry *r, size_t *n)
{
	*n = r->nfams;
	return r->fams;
}

struct reg_family *
reg_family_find(struct registry *r, const char *name)
{
	size_t h = util_hash(name, strlen(name)) & (r->nfbuckets - 1);

	for (struct reg_family *f = r->fbuckets[h]; f; f = f->hnext)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

double
reg_since(struct registry *r)
{
	return r->since;
}

size_t
reg_series_count(struct registry *r)
{
	return r->nseries;
}

unsigned long
reg_type_conflicts(struct registry *r)
{
	return __atomic_load_n(&r->type_conflicts, __ATOMIC_RELAXED);
}

unsigned long
reg_out_of_order(struct registry *r)
{
	return __atomic_load_n(&r->out_of_order, __ATOMIC_RELAXED);
}

unsigned long
reg_unstorable(struct registry *r)
{
	return __atomic_load_n(&r->unstorable, __ATOMIC_RELAXED);
}

int
reg_series_point(const struct reg_series *s, size_t i, double *ts, double *value)
{
	size_t k;

	if (i >= s->wlen)
		return -1;
	k = (s->whead + s->wcap - 1 - i) % s->wcap;
	*ts = s->wts[k];
	*value = s->wval[k];
	return 0;
}
