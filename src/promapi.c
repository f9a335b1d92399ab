/* promapi.c: the Prometheus HTTP API over reeve's history: query, query_range, series, labels, metadata. */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "expr.h"
#include "history.h"
#include "promapi.h"
#include "report.h"
#include "query.h"
#include "registry.h"
#include "store.h"

#define PROMAPI_MAX_POINTS 11000 /* per series of a range query, as Prometheus */
#define PROMAPI_TIMEOUT 120.0    /* seconds a query may take, until promapi_set_limits */
#define PROMAPI_MAX_SAMPLES 50000000 /* points of an answer, as Prometheus's default */

#ifndef VERSION
#define VERSION "unknown"
#endif

#define GRAPH_CACHE 8          /* graphs kept ... */
#define GRAPH_CACHE_TTL 10.0   /* ... this many seconds: a dashboard's refresh of many panels */

struct cached_graph {
	char *key;             /* the path and the parameters */
	unsigned char *img;
	size_t len;
	double made;
};

struct promapi {
	struct registry *reg;
	struct store *store;
	struct history *hist;
	struct expr_source src;
	pthread_mutex_t lock;  /* guards the cache and the limits */
	double timeout;        /* seconds a query may take */
	size_t max_samples;    /* points an answer may hold */
	int cancelled;         /* promapi_cancel: every query gives up (atomic) */
	struct cached_graph cache[GRAPH_CACHE];
	size_t next;           /* the entry replaced next */
};

/* The parameters of one request: the URL's and the form body's, decoded. */
struct params {
	const struct promapi_param *q;
	size_t nq;
	char **fk, **fv;        /* from the form body, owned */
	size_t nf;
};

struct promapi *
promapi_new(struct registry *reg, struct store *store, double window)
{
	struct promapi *p = xcalloc(1, sizeof(*p));

	p->reg = reg;
	p->store = store;
	p->hist = history_new(reg, store, window);
	history_source(p->hist, &p->src);
	pthread_mutex_init(&p->lock, NULL);
	p->timeout = PROMAPI_TIMEOUT;
	p->max_samples = PROMAPI_MAX_SAMPLES;
	return p;
}

void
promapi_set_limits(struct promapi *p, double timeout, size_t max_samples)
{
	pthread_mutex_lock(&p->lock);
	p->timeout = timeout;
	p->max_samples = max_samples;
	pthread_mutex_unlock(&p->lock);
}

void
promapi_free(struct promapi *p)
{
	if (p == NULL)
		return;
	history_free(p->hist);
	for (size_t i = 0; i < GRAPH_CACHE; i++) {
		free(p->cache[i].key);
		free(p->cache[i].img);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const char *const paths[] = { "/api/v1/query", "/api/v1/query_range", "/api/v1/series",
	"/api/v1/labels", "/api/v1/metadata", "/api/v1/status/buildinfo", NULL };

int
promapi_path(const char *url)
{
	size_t n = strlen(url);

	for (size_t i = 0; paths[i] != NULL; i++)
		if (strcmp(url, paths[i]) == 0)
			return 1;
	return strncmp(url, "/api/v1/label/", 14) == 0 && n > 21 &&
	    strcmp(url + n - 7, "/values") == 0;
}

/* ---- parameters ---------------------------------------------------------------------------- */

static int
hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) ?
	    tolower((unsigned char)c) - 'a' + 10 : -1;
}

/* x-www-form-urlencoded: '+' is a space, %XX a byte. */
static char *
form_decode(const char *s, size_t n)
{
	char *out = xcalloc(1, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else
			*o++ = s[i];
	}
	return out;
}

static void
parse_form(struct params *ps, const char *form, size_t len)
{
	size_t i = 0;

	while (form != NULL && i < len) {
		size_t end = i, eq;

		while (end < len && form[end] != '&')
			end++;
		for (eq = i; eq < end && form[eq] != '='; eq++)
			;
		if (end > i) {
			ps->fk = xreallocarray(ps->fk, ps->nf + 1, sizeof(*ps->fk));
			ps->fv = xreallocarray(ps->fv, ps->nf + 1, sizeof(*ps->fv));
			ps->fk[ps->nf] = form_decode(form + i, eq - i);
			ps->fv[ps->nf++] = eq < end ? form_decode(form + eq + 1, end - eq - 1) :
			    xstrdup("");
		}
		i = end + 1;
	}
}

static void
params_free(struct params *ps)
{
	for (size_t i = 0; i < ps->nf; i++) {
		free(ps->fk[i]);
		free(ps->fv[i]);
	}
	free(ps->fk);
	free(ps->fv);
}

/* The k-th value of parameter name (URL first, then the form), or NULL. */
static const char *
param_nth(const struct params *ps, const char *name, size_t k)
{
	for (size_t i = 0; i < ps->nq; i++)
		if (strcmp(ps->q[i].key, name) == 0 && k-- == 0)
			return ps->q[i].value;
	for (size_t i = 0; i < ps->nf; i++)
		if (strcmp(ps->fk[i], name) == 0 && k-- == 0)
			return ps->fv[i];
	return NULL;
}

static const char *
param(const struct params *ps, const char *name)
{
	return param_nth(ps, name, 0);
}

/* ---- answers ------------------------------------------------------------------------------- */

/* An error in Prometheus's shape; returns the status to send. */
static unsigned
fail(struct buf *out, unsigned status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static unsigned
fail(struct buf *out, unsigned status, const char *type, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(out, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", type);
	buf_json_string(out, msg);
	buf_puts(out, "}\n");
	return status;
}

/* A time parameter (RFC 3339 or Unix seconds), def when absent. 0, or -1 (answered). */
static int
get_time(const struct params *ps, const char *name, double def, double *t, struct buf *out,
    unsigned *status)
{
	const char *s = param(ps, name);

	if (s == NULL || *s == '\0') {
		*t = def;
		return 0;
	}
	if (util_parse_time(s, t) == 0 && isfinite(*t))
		return 0;
	*status = fail(out, 400, "bad_data", "invalid parameter \"%s\": cannot parse \"%s\" to a "
	    "valid timestamp (RFC 3339 or Unix seconds)", name, s);
	return -1;
}

static void
put_point(struct buf *b, double t, double v)
{
	char num[40];

	buf_printf(b, "[%.3f,\"%s\"]", t, util_fmt_double(num, sizeof(num), v));
}

static void
put_metric(struct buf *b, const char *name, const struct reeve_label *l, size_t n)
{
	buf_puts(b, "{");
	if (name != NULL) {
		buf_puts(b, "\"__name__\":");
		buf_json_string(b, name);
	}
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, name != NULL || i > 0 ? "," : "");
		buf_json_string(b, l[i].name);
		buf_putc(b, ':');
		buf_json_string(b, l[i].value);
	}
	buf_puts(b, "}");
}

static void
put_matrix(struct buf *b, const struct expr_series *s, size_t n)
{
	buf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, i ? ",{\"metric\":" : "{\"metric\":");
		put_metric(b, s[i].name, s[i].labels, s[i].nlabels);
		buf_puts(b, ",\"values\":[");
		for (size_t k = 0; k < s[i].n; k++) {
			if (k)
				buf_putc(b, ',');
			put_point(b, s[i].ts[k], s[i].v[k]);
		}
		buf_puts(b, "]}");
	}
	buf_puts(b, "]");
}

static struct expr *
parse_query(const struct params *ps, struct buf *out, unsigned *status)
{
	const char *text = param(ps, "query");
	char err[512];
	struct expr *e;

	if (text == NULL || *text == '\0') {
		*status = fail(out, 400, "bad_data", "invalid parameter \"query\": the query is "
		    "missing or empty");
		return NULL;
	}
	if ((e = expr_parse(text, err, sizeof(err))) == NULL)
		*status = fail(out, 400, "bad_data", "invalid parameter \"query\": %s", err);
	return e;
}

/* step: a duration ("15s", "1m") or seconds ("15", "0.5"). */
static int
parse_step(const char *s, double *step)
{
	const char *errstr;
	char *end;

	*step = strtod(s, &end);
	if (end != s && *end == '\0' && isfinite(*step))
		return 0;
	return cfg_parse_duration(s, step, &errstr);
}

void
promapi_cancel(struct promapi *p)
{
	__atomic_store_n(&p->cancelled, 1, __ATOMIC_RELAXED);
}

/*
 * The limits of one query: the deadline (the request's timeout= if shorter than the
 * server's) and the most points. 0, or -1 (answered) for a bad timeout.
 */
static int
get_limits(struct promapi *p, const struct params *ps, double *deadline, size_t *max_samples,
    struct buf *out, unsigned *status)
{
	const char *t = param(ps, "timeout");
	double timeout, asked;

	pthread_mutex_lock(&p->lock);
	timeout = p->timeout;
	*max_samples = p->max_samples;
	pthread_mutex_unlock(&p->lock);
	if (t != NULL && *t != '\0') {
		if (parse_step(t, &asked) == -1 || !(asked > 0)) {
			*status = fail(out, 400, "bad_data", "invalid parameter \"timeout\": cannot "
			    "parse \"%s\" to a valid duration", t);
			return -1;
		}
		if (asked < timeout)
			timeout = asked;
	}
	*deadline = __atomic_load_n(&p->cancelled, __ATOMIC_RELAXED) ? util_now() - 1 :
	    util_now() + timeout;
	return 0;
}

/* The answer when a query met one of its limits (q->limit), else the execution error. */
static unsigned
fail_eval(struct buf *out, int limit, const char *err)
{
	if (limit == QUERY_TIMEOUT)
		return fail(out, 503, "timeout", "%s", err);
	return fail(out, 422, "execution", "%s", err);
}

static unsigned
answer_query(struct promapi *p, const struct params *ps, struct buf *out)
{
	struct expr_value v = { 0 };
	unsigned status = 200;
	size_t max_samples, points = 0;
	struct expr *e;
	char err[512];
	double t, deadline;

	if ((e = parse_query(ps, out, &status)) == NULL ||
	    get_time(ps, "time", util_now(), &t, out, &status) == -1 ||
	    get_limits(p, ps, &deadline, &max_samples, out, &status) == -1)
		goto out;
	if (expr_eval(e, &p->src, t, &v, err, sizeof(err)) == -1) {
		status = fail(out, 422, "execution", "%s", err);
		goto out;
	}
	/* one evaluation is not interrupted: its limits are checked once it is done */
	points = v.type == EXPR_VECTOR ? v.nsamples : v.type == EXPR_SCALAR ? 1 : 0;
	for (size_t i = 0; v.type == EXPR_MATRIX && i < v.nseries; i++)
		points += v.series[i].n;
	if (util_now() > deadline) {
		status = fail(out, 503, "timeout", QUERY_TIMEOUT_MSG);
		goto out;
	}
	if (points > max_samples) {
		status = fail(out, 422, "execution", QUERY_TOO_MANY_FMT, max_samples);
		goto out;
	}
	buf_puts(out, "{\"status\":\"success\",\"data\":{\"resultType\":");
	if (v.type == EXPR_SCALAR) {
		buf_puts(out, "\"scalar\",\"result\":");
		put_point(out, t, v.scalar);
	} else if (v.type == EXPR_VECTOR) {
		buf_puts(out, "\"vector\",\"result\":[");
		for (size_t i = 0; i < v.nsamples; i++) {
			buf_puts(out, i ? ",{\"metric\":" : "{\"metric\":");
			put_metric(out, v.samples[i].name, v.samples[i].labels, v.samples[i].nlabels);
			buf_puts(out, ",\"value\":");
			put_point(out, t, v.samples[i].v);
			buf_puts(out, "}");
		}
		buf_puts(out, "]");
	} else {
		buf_puts(out, "\"matrix\",\"result\":");
		put_matrix(out, v.series, v.nseries);
	}
	buf_puts(out, "}}\n");
out:
	expr_value_free(&v);
	expr_free(e);
	return status;
}

static unsigned
answer_range(struct promapi *p, const struct params *ps, struct buf *out)
{
	struct query_range q = { 0 };
	struct expr_series *s = NULL;
	const char *st = param(ps, "step");
	unsigned status = 200;
	size_t n = 0;
	struct expr *e;
	char err[512];

	if ((e = parse_query(ps, out, &status)) == NULL ||
	    get_time(ps, "start", NAN, &q.start, out, &status) == -1 ||
	    get_time(ps, "end", NAN, &q.end, out, &status) == -1)
		goto out;
	if (isnan(q.start) || isnan(q.end) || st == NULL) {
		status = fail(out, 400, "bad_data", "invalid parameter \"%s\": missing",
		    isnan(q.start) ? "start" : isnan(q.end) ? "end" : "step");
		goto out;
	}
	if (parse_step(st, &q.step) == -1 || !(q.step > 0)) {
		status = fail(out, 400, "bad_data", "invalid parameter \"step\": zero or negative "
		    "query resolution step widths are not accepted. Try a positive integer");
		goto out;
	}
	if (q.end < q.start) {
		status = fail(out, 400, "bad_data", "invalid parameter \"end\": end timestamp must "
		    "not be before start time");
		goto out;
	}
	if ((q.end - q.start) / q.step > PROMAPI_MAX_POINTS) {
		status = fail(out, 400, "bad_data", "exceeded maximum resolution of 11,000 points "
		    "per timeseries. Try decreasing the query resolution (?step=XX)");
		goto out;
	}
	q.snap = 1;
	q.max_points = PROMAPI_MAX_POINTS + 1;
	if (get_limits(p, ps, &q.deadline, &q.max_samples, out, &status) == -1)
		goto out;
	q.cancel = &p->cancelled;
	if (query_range_eval(e, &p->src, &q, &s, &n, err, sizeof(err)) == -1) {
		status = fail_eval(out, q.limit, err);
		goto out;
	}
	buf_puts(out, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":");
	put_matrix(out, s, n);
	buf_puts(out, "}");
	if (q.step_used != q.step) {
		char msg[256];

		snprintf(msg, sizeof(msg), "step %gs is finer than the data of this range (a value "
		    "every %gs): answered every %gs", q.step, q.data_step, q.step_used);
		buf_puts(out, ",\"warnings\":[");
		buf_json_string(out, msg);
		buf_puts(out, "]");
	}
	buf_puts(out, "}\n");
out:
	expr_series_free(s, n);
	expr_free(e);
	return status;
}

/* ---- series and labels ----------------------------------------------------------------------- */

/* Every series reeve knows (in memory or in the files), once each, by its canonical key. */
struct known {
	char **keys;
	size_t *slot;             /* a hash set of the keys: index + 1, 0 empty */
	size_t nslot;
	char **names;
	struct reeve_label **labels;
	size_t *nlabels;
	size_t n, cap;
	struct expr_matcher **m;  /* the match[] selectors; none: every series */
	size_t *nm;
	size_t nsel;
};

/* Whether key is known; if not, the free slot where it goes in *at. */
static int
known_find(const struct known *k, const char *key, size_t *at)
{
	size_t i = (size_t)util_hash(key, strlen(key)) & (k->nslot - 1);

	for (; k->slot[i] != 0; i = (i + 1) & (k->nslot - 1))
		if (strcmp(k->keys[k->slot[i] - 1], key) == 0)
			return 1;
	*at = i;
	return 0;
}

/* Keep the hash set at most half full. */
static void
known_grow(struct known *k)
{
	size_t at;

	if (2 * (k->n + 1) <= k->nslot)
		return;
	free(k->slot);
	k->nslot = k->nslot ? 2 * k->nslot : 256;
	k->slot = xcalloc(k->nslot, sizeof(*k->slot));
	for (size_t i = 0; i < k->n; i++)
		if (!known_find(k, k->keys[i], &at))
			k->slot[at] = i + 1;
}

static void
known_add(struct known *k, const char *name, const struct reeve_label *l, size_t n)
{
	struct buf key = { 0 };
	int match = k->nsel == 0;
	size_t at;

	for (size_t i = 0; i < k->nsel && !match; i++)
		match = expr_matches(k->m[i], k->nm[i], name, l, n);
	if (!match)
		return;
	buf_puts(&key, name);
	for (size_t i = 0; i < n; i++)
		buf_printf(&key, "\x1f%s=%s", l[i].name, l[i].value);
	known_grow(k);
	if (known_find(k, key.data, &at)) {
		buf_free(&key);
		return;
	}
	k->slot[at] = k->n + 1;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 64;
		k->keys = xreallocarray(k->keys, k->cap, sizeof(*k->keys));
		k->names = xreallocarray(k->names, k->cap, sizeof(*k->names));
		k->labels = xreallocarray(k->labels, k->cap, sizeof(*k->labels));
		k->nlabels = xreallocarray(k->nlabels, k->cap, sizeof(*k->nlabels));
	}
	k->keys[k->n] = key.data;
	k->names[k->n] = xstrdup(name);
	k->labels[k->n] = expr_labels_pack(l, n);
	k->nlabels[k->n++] = n;
}

static void
known_file(void *arg, struct store_file *f, const char *rel)
{
	char *name;
	struct reeve_label *l;
	size_t n;

	(void)f;
	if (store_path_decode(rel, &name, &l, &n) == -1)
		return;
	known_add(arg, name, l, n);
	free(name);
	store_labels_free(l, n);
}

static void
known_collect(struct promapi *p, struct known *k)
{
	size_t nf;
	struct reg_family **f;

	reg_rdlock(p->reg);
	f = reg_families(p->reg, &nf);
	for (size_t i = 0; i < nf; i++)
		for (size_t j = 0; j < f[i]->nseries; j++)
			known_add(k, f[i]->name, f[i]->series[j]->labels, f[i]->series[j]->nlabels);
	reg_unlock(p->reg);
	if (p->store != NULL)
		store_foreach(p->store, known_file, k);
}

static void
known_free(struct known *k, struct expr **sel)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->keys[i]);
		free(k->names[i]);
		free(k->labels[i]);
	}
	free(k->keys);
	free(k->slot);
	free(k->names);
	free(k->labels);
	free(k->nlabels);
	for (size_t i = 0; i < k->nsel; i++)
		expr_free(sel[i]);
	free(sel);
	free(k->m);
	free(k->nm);
}

/* The match[] selectors of a request into k; required says whether one must be given. */
static int
known_selectors(const struct params *ps, struct known *k, struct expr ***sel, int required,
    struct buf *out, unsigned *status)
{
	const char *text;
	char err[512];

	*sel = NULL;
	for (size_t i = 0; (text = param_nth(ps, "match[]", i)) != NULL; i++) {
		struct expr *e = expr_parse(text, err, sizeof(err));
		size_t n;

		if (e == NULL || !expr_is_selector(e)) {
			*status = fail(out, 400, "bad_data", "invalid parameter \"match[]\": %s",
			    e == NULL ? err : "a series selector is needed, such as up{job=\"node\"}");
			expr_free(e);
			return -1;
		}
		*sel = xreallocarray(*sel, k->nsel + 1, sizeof(**sel));
		k->m = xreallocarray(k->m, k->nsel + 1, sizeof(*k->m));
		k->nm = xreallocarray(k->nm, k->nsel + 1, sizeof(*k->nm));
		(*sel)[k->nsel] = e;
		k->m[k->nsel] = (struct expr_matcher *)expr_selectors(e, &n)[0].m;
		k->nm[k->nsel++] = expr_selectors(e, &n)[0].nm;
	}
	if (required && k->nsel == 0) {
		*status = fail(out, 400, "bad_data", "no match[] parameter provided");
		return -1;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted list of distinct strings as a JSON array, in the answer's data. */
static void
put_strings(struct buf *out, char **v, size_t n)
{
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
	buf_puts(out, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0, k = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		buf_puts(out, k++ ? "," : "");
		buf_json_string(out, v[i]);
	}
	buf_puts(out, "]}\n");
}

static unsigned
answer_series(struct promapi *p, const char *url, const struct params *ps, struct buf *out)
{
	struct known k = { 0 };
	struct expr **sel = NULL;
	unsigned status = 200;
	int series = strcmp(url, "/api/v1/series") == 0;
	int labels = strcmp(url, "/api/v1/labels") == 0;
	char **v = NULL, *want = NULL;
	size_t nv = 0;

	if (known_selectors(ps, &k, &sel, series, out, &status) == -1)
		goto out;
	known_collect(p, &k);
	if (series) {
		buf_puts(out, "{\"status\":\"success\",\"data\":[");
		for (size_t i = 0; i < k.n; i++) {
			buf_puts(out, i ? "," : "");
			put_metric(out, k.names[i], k.labels[i], k.nlabels[i]);
		}
		buf_puts(out, "]}\n");
		goto out;
	}
	/* /api/v1/labels, or /api/v1/label/NAME/values */
	if (!labels)
		want = xasprintf("%.*s", (int)(strlen(url) - 14 - 7), url + 14);
	for (size_t i = 0; i < k.n; i++) {
		v = xreallocarray(v, nv + k.nlabels[i] + 1, sizeof(*v));
		if (labels || strcmp(want, "__name__") == 0)
			v[nv++] = labels ? "__name__" : k.names[i];
		for (size_t j = 0; j < k.nlabels[i]; j++)
			if (labels)
				v[nv++] = (char *)k.labels[i][j].name;
			else if (strcmp(k.labels[i][j].name, want) == 0)
				v[nv++] = (char *)k.labels[i][j].value;
	}
	put_strings(out, v, nv);
out:
	free(v);
	free(want);
	known_free(&k, sel);
	return status;
}

static const char *const type_names[] = { "gauge", "counter" }; /* enum reeve_metric_type */

static unsigned
answer_metadata(struct promapi *p, const struct params *ps, struct buf *out)
{
	const char *metric = param(ps, "metric");
	size_t nf, k = 0;
	struct reg_family **f;

	buf_puts(out, "{\"status\":\"success\",\"data\":{");
	reg_rdlock(p->reg);
	f = reg_families(p->reg, &nf);
	for (size_t i = 0; i < nf; i++) {
		if (metric != NULL && strcmp(metric, f[i]->name) != 0)
			continue;
		buf_puts(out, k++ ? "," : "");
		buf_json_string(out, f[i]->name);
		buf_printf(out, ":[{\"type\":\"%s\",\"help\":", f[i]->type >= 0 && f[i]->type < 2 ?
		    type_names[f[i]->type] : "unknown");
		buf_json_string(out, f[i]->help ? f[i]->help : "");
		buf_puts(out, ",\"unit\":\"\"}]");
	}
	reg_unlock(p->reg);
	buf_puts(out, "}}\n");
	return 200;
}

unsigned
promapi_answer(struct promapi *p, const char *url, const struct promapi_param *q, size_t nq,
    const char *form, size_t formlen, struct buf *out)
{
	struct params ps = { q, nq, NULL, NULL, 0 };
	unsigned status;

	if (!promapi_path(url)) /* the label endpoint below takes the path apart */
		return fail(out, 404, "not_found", "no such endpoint of the query API");
	parse_form(&ps, form, formlen);
	if (strcmp(url, "/api/v1/query") == 0)
		status = answer_query(p, &ps, out);
	else if (strcmp(url, "/api/v1/query_range") == 0)
		status = answer_range(p, &ps, out);
	else if (strcmp(url, "/api/v1/metadata") == 0)
		status = answer_metadata(p, &ps, out);
	else if (strcmp(url, "/api/v1/status/buildinfo") == 0) {
		buf_printf(out, "{\"status\":\"success\",\"data\":{\"version\":\"%s\",\"revision\":"
		    "\"\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}}\n",
		    VERSION);
		status = 200;
	} else
		status = answer_series(p, url, &ps, out);
	params_free(&ps);
	return status;
}

/* ---- graphs -------------------------------------------------------------------------------- */

int
promapi_graph_path(const char *url)
{
	return strcmp(url, "/api/v1/graph.png") == 0 || strcmp(url, "/api/v1/graph.svg") == 0;
}

/* A whole number parameter within [lo, hi], def when absent. 0, or -1 (answered). */
static int
get_int(const struct params *ps, const char *name, int def, int lo, int hi, int *v,
    struct buf *out, unsigned *status)
{
	const char *s = param(ps, name);
	char *end;
	long x;

	if (s == NULL || *s == '\0') {
		*v = def;
		return 0;
	}
	x = strtol(s, &end, 10);
	if (*end == '\0' && x >= lo && x <= hi) {
		*v = (int)x;
		return 0;
	}
	*status = fail(out, 400, "bad_data", "invalid parameter \"%s\": \"%s\" is not a whole "
	    "number from %d to %d", name, s, lo, hi);
	return -1;
}

/* The cached image of key made less than GRAPH_CACHE_TTL ago, copied; 0 when there is none. */
static int
cache_get(struct promapi *p, const char *key, unsigned char **img, size_t *len)
{
	int found = 0;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < GRAPH_CACHE && !found; i++)
		if (p->cache[i].key != NULL && strcmp(p->cache[i].key, key) == 0 &&
		    util_now() - p->cache[i].made < GRAPH_CACHE_TTL) {
			*img = xreallocarray(NULL, p->cache[i].len ? p->cache[i].len : 1, 1);
			memcpy(*img, p->cache[i].img, p->cache[i].len);
			*len = p->cache[i].len;
			found = 1;
		}
	pthread_mutex_unlock(&p->lock);
	return found;
}

static void
cache_put(struct promapi *p, const char *key, const unsigned char *img, size_t len)
{
	struct cached_graph *c;

	pthread_mutex_lock(&p->lock);
	c = &p->cache[p->next];
	p->next = (p->next + 1) % GRAPH_CACHE;
	free(c->key);
	free(c->img);
	c->key = xstrdup(key);
	c->img = xreallocarray(NULL, len ? len : 1, 1);
	memcpy(c->img, img, len);
	c->len = len;
	c->made = util_now();
	pthread_mutex_unlock(&p->lock);
}

unsigned
promapi_graph(struct promapi *p, const char *url, const struct promapi_param *q, size_t nq,
    const char *form, size_t formlen, unsigned char **img, size_t *len, struct buf *out)
{
	struct params ps = { q, nq, NULL, NULL, 0 };
	struct report_env env = { NULL, &p->src, p->store, NULL, NULL };
	struct graph_spec spec = { 0 };
	const char *text;
	struct buf key = { 0 };
	unsigned status = 200;
	double now = util_now();
	char err[512];
	int svg = strcmp(url, "/api/v1/graph.svg") == 0;

	*img = NULL;
	*len = 0;
	parse_form(&ps, form, formlen);
	text = param(&ps, "expr") ? param(&ps, "expr") : param(&ps, "query");
	if (text == NULL || *text == '\0') {
		status = fail(out, 400, "bad_data", "invalid parameter \"expr\": the expression "
		    "to draw is missing");
		goto out;
	}
	if (get_time(&ps, "start", now - 3600, &spec.start, out, &status) == -1 ||
	    get_time(&ps, "end", now, &spec.end, out, &status) == -1 ||
	    get_int(&ps, "width", 600, 100, 3000, &spec.width, out, &status) == -1 ||
	    get_int(&ps, "height", 200, 50, 2000, &spec.height, out, &status) == -1)
		goto out;
	if (!(spec.end > spec.start)) {
		status = fail(out, 400, "bad_data", "invalid parameter \"end\": end timestamp must "
		    "be after start time");
		goto out;
	}
	spec.title = param(&ps, "title");
	/* the same picture for the same request within seconds: answered from the cache */
	buf_printf(&key, "%s\n%s\n%.0f\n%.0f\n%d\n%d\n%s", url, text, spec.start, spec.end,
	    spec.width, spec.height, spec.title ? spec.title : "");
	if (cache_get(p, key.data, img, len))
		goto out;
	if (report_plot(&env, text, &spec, svg ? GRAPH_SVG : GRAPH_PNG, img, len, err,
	    sizeof(err)) == -1) {
		status = strncmp(err, "expr:", 5) == 0 ?
		    fail(out, 400, "bad_data", "invalid parameter \"expr\": %s", err) :
		    fail(out, 422, "execution", "%s", err);
		goto out;
	}
	cache_put(p, key.data, *img, *len);
out:
	buf_free(&key);
	params_free(&ps);
	return status;
}
