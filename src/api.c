/* api.c: the write side of the HTTP API: pushed samples and business events. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "config.h"
#include "expo.h"
#include "registry.h"
#include "util.h"

/* Pushed samples may be this far ahead of the clock (clock skew between hosts). */
#define API_MAX_FUTURE 300.0
#define API_MAX_LABELS 32
#define API_MAX_EVENT_NAME 128

/* One reeve_events_total series: its labels (event first) and its count. */
struct event_series {
	char *key;                 /* canonical series key */
	struct reeve_label *labels;
	size_t nlabels;
	double count;
	struct event_series *next; /* hash chain */
};

/*
 * lock guards params and the event counters; the registry has its own lock. The owners
 * are partial: a push says nothing about series it does not name.
 */
struct api {
	struct registry *reg;
	struct reg_owner *push_owner, *event_owner;
	pthread_mutex_t lock;
	struct api_params p;
	struct event_series **buckets;
	size_t nbuckets, nevents;
	unsigned long long push_requests, push_samples, events, rejected, dropped;
};

struct api *
api_new(struct registry *r, const struct api_params *p)
{
	struct api *a = xcalloc(1, sizeof(*a));

	a->reg = r;
	a->p = *p;
	a->push_owner = reg_owner_new(r, "push", p->step, REG_OWNER_PARTIAL);
	a->event_owner = reg_owner_new(r, "events", p->step, REG_OWNER_PARTIAL);
	pthread_mutex_init(&a->lock, NULL);
	a->nbuckets = 1024;
	a->buckets = xcalloc(a->nbuckets, sizeof(*a->buckets));
	return a;
}

void
api_set_params(struct api *a, const struct api_params *p)
{
	pthread_mutex_lock(&a->lock);
	a->p = *p;
	pthread_mutex_unlock(&a->lock);
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nbuckets; i++)
		for (struct event_series *e = a->buckets[i], *next; e; e = next) {
			next = e->next;
			for (size_t j = 0; j < e->nlabels; j++) {
				free((char *)e->labels[j].name);
				free((char *)e->labels[j].value);
			}
			free(e->labels);
			free(e->key);
			free(e);
		}
	free(a->buckets);
	reg_owner_free(a->reg, a->push_owner);
	reg_owner_free(a->reg, a->event_owner);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void
api_get_stats(struct api *a, struct api_stats *st)
{
	pthread_mutex_lock(&a->lock);
	st->push_requests = a->push_requests;
	st->push_samples = a->push_samples;
	st->events = a->events;
	st->rejected = a->rejected;
	st->dropped = a->dropped;
	pthread_mutex_unlock(&a->lock);
}

/* ---- answers ----------------------------------------------------------------------------- */

/* A 400 answer in Prometheus's error shape; the message is made printable ASCII. */
static unsigned
bad_request(struct api *a, struct buf *out, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static unsigned
bad_request(struct api *a, struct buf *out, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	buf_reset(out);
	buf_puts(out, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":");
	buf_json_string(out, msg);
	buf_puts(out, "}\n");
	pthread_mutex_lock(&a->lock);
	a->rejected++;
	pthread_mutex_unlock(&a->lock);
	return status;
}

static void
success(struct buf *out, const char *what, size_t n, size_t dropped)
{
	buf_reset(out);
	buf_printf(out, "{\"status\":\"success\",\"data\":{\"%s\":%zu,\"dropped\":%zu}}\n", what, n,
	    dropped);
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

/*
 * Parse a whole JSON body strictly (nothing but whitespace after the value). Returns the
 * tree, or NULL with the byte offset of the problem in *where.
 */
static cJSON *
parse_json(const char *body, size_t len, size_t *where)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);

	if (root == NULL) {
		*where = end && end >= body ? (size_t)(end - body) : 0;
		return NULL;
	}
	for (const char *p = end; p < body + len; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			*where = (size_t)(p - body);
			cJSON_Delete(root);
			return NULL;
		}
	return root;
}

/*
 * The "labels" object of an item into labels[] (strings borrowed from the tree). Returns
 * the count, or -1 with a message in msg.
 */
static int
json_labels(const cJSON *obj, struct reeve_label *labels, size_t max, const char *reserved,
    char *msg, size_t msglen)
{
	const cJSON *l;
	size_t n = 0;

	if (obj == NULL)
		return 0;
	if (!cJSON_IsObject(obj)) {
		snprintf(msg, msglen, "\"labels\" must be an object of strings");
		return -1;
	}
	cJSON_ArrayForEach(l, obj) {
		if (!util_valid_label_name(l->string) || strncmp(l->string, "__", 2) == 0) {
			snprintf(msg, msglen, "label name \"%.64s\" is invalid", l->string);
			return -1;
		}
		if (reserved && strcmp(l->string, reserved) == 0) {
			snprintf(msg, msglen, "label \"%s\" is set by reeve", reserved);
			return -1;
		}
		if (!cJSON_IsString(l)) {
			snprintf(msg, msglen, "label %s must be a string", l->string);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(labels[i].name, l->string) == 0) {
				snprintf(msg, msglen, "label %s twice", l->string);
				return -1;
			}
		if (n == max) {
			snprintf(msg, msglen, "more than %zu labels", max);
			return -1;
		}
		labels[n].name = l->string;
		labels[n++].value = l->valuestring;
	}
	return (int)n;
}

/* A number, true/false (1/0), or "NaN", "+Inf", "-Inf" as strings. */
static int
json_value(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v))
		*out = v->valuedouble;
	else if (cJSON_IsBool(v))
		*out = cJSON_IsTrue(v) ? 1 : 0;
	else if (cJSON_IsString(v) && strcasecmp(v->valuestring, "NaN") == 0)
		*out = NAN;
	else if (cJSON_IsString(v) && (strcasecmp(v->valuestring, "+Inf") == 0 ||
	    strcasecmp(v->valuestring, "Inf") == 0))
		*out = INFINITY;
	else if (cJSON_IsString(v) && strcasecmp(v->valuestring, "-Inf") == 0)
		*out = -INFINITY;
	else
		return -1;
	return 0;
}

/* A TTL: seconds as a number, or a duration string ("5m"). */
static int
json_ttl(const cJSON *v, double *out, char *msg, size_t msglen)
{
	const char *e;

	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 366 * 86400.0) {
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && cfg_parse_duration(v->valuestring, out, &e) == 0)
		return 0;
	snprintf(msg, msglen, "\"ttl\" must be seconds or a duration like \"5m\"");
	return -1;
}

/* ---- push -------------------------------------------------------------------------------- */

static const char *const sample_fields[] = { "name", "labels", "value", "type", "timestamp",
	"ttl", "help", NULL };

static int
known_field(const char *f, const char *const *fields)
{
	for (; *fields; fields++)
		if (strcmp(f, *fields) == 0)
			return 1;
	return 0;
}

/* One JSON sample into the batch; returns 0 or -1 with a message. */
static int
push_json_sample(const cJSON *it, struct reg_batch *b, double now, double ttl, char *msg,
    size_t msglen)
{
	struct reeve_label labels[API_MAX_LABELS];
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(it, "timestamp");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "ttl");
	const cJSON *help = cJSON_GetObjectItemCaseSensitive(it, "help");
	const cJSON *f;
	int n, kind = REEVE_GAUGE;
	double value, when = 0;

	if (!cJSON_IsObject(it)) {
		snprintf(msg, msglen, "must be an object");
		return -1;
	}
	cJSON_ArrayForEach(f, it) {
		if (!known_field(f->string, sample_fields)) {
			snprintf(msg, msglen, "unknown field \"%.64s\" (expected name, labels, value, "
			    "type, timestamp, ttl, help)", f->string);
			return -1;
		}
	}
	if (!cJSON_IsString(name) || !util_valid_metric_name(name->valuestring)) {
		snprintf(msg, msglen, "\"name\" must be a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
		return -1;
	}
	if ((n = json_labels(cJSON_GetObjectItemCaseSensitive(it, "labels"), labels, API_MAX_LABELS,
	    NULL, msg, msglen)) < 0)
		return -1;
	if (json_value(cJSON_GetObjectItemCaseSensitive(it, "value"), &value) == -1) {
		snprintf(msg, msglen, "\"value\" must be a number (or \"NaN\", \"+Inf\", \"-Inf\")");
		return -1;
	}
	if (type != NULL) {
		if (cJSON_IsString(type) && strcmp(type->valuestring, "counter") == 0)
			kind = REEVE_COUNTER;
		else if (!cJSON_IsString(type) || (strcmp(type->valuestring, "gauge") != 0 &&
		    strcmp(type->valuestring, "untyped") != 0)) {
			snprintf(msg, msglen, "\"type\" must be \"gauge\" or \"counter\"");
			return -1;
		}
	}
	if (help != NULL && !cJSON_IsString(help)) {
		snprintf(msg, msglen, "\"help\" must be a string");
		return -1;
	}
	if (ts != NULL) {
		if (!cJSON_IsNumber(ts) || ts->valuedouble <= 0) {
			snprintf(msg, msglen, "\"timestamp\" must be seconds since the epoch");
			return -1;
		}
		if (ts->valuedouble > now + API_MAX_FUTURE) {
			snprintf(msg, msglen, "\"timestamp\" %.0f is in the future (now %.0f; "
			    "seconds, not milliseconds)", ts->valuedouble, now);
			return -1;
		}
		when = ts->valuedouble;
	}
	if (t != NULL && json_ttl(t, &ttl, msg, msglen) == -1)
		return -1;
	if (reg_batch_add(b, name->valuestring, help ? help->valuestring : NULL, kind,
	    labels, (size_t)n, value) == -1) {
		snprintf(msg, msglen, "invalid name or label");
		return -1;
	}
	b->s[b->n - 1].ts = when;
	b->s[b->n - 1].ttl = ttl;
	return 0;
}

static unsigned
push_json(struct api *a, const struct api_params *p, const char *body, size_t len, double ttl,
    struct reg_batch *b, struct buf *out)
{
	double now = util_now();
	const cJSON *it;
	size_t where, i = 0;
	char msg[256];
	cJSON *root = parse_json(body, len, &where);

	if (root == NULL)
		return bad_request(a, out, 400, "body: invalid JSON at byte %zu", where);
	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return bad_request(a, out, 400, "body: expected a JSON list of samples "
		    "[{\"name\":...,\"value\":...}, ...]");
	}
	if ((size_t)cJSON_GetArraySize(root) > p->max_samples) {
		cJSON_Delete(root);
		return bad_request(a, out, 400, "body: more than %zu samples", p->max_samples);
	}
	cJSON_ArrayForEach(it, root) {
		if (push_json_sample(it, b, now, ttl, msg, sizeof(msg)) == -1) {
			cJSON_Delete(root);
			return bad_request(a, out, 400, "sample %zu: %s", i + 1, msg);
		}
		i++;
	}
	cJSON_Delete(root);
	return 0;
}

unsigned
api_push(struct api *a, const char *content_type, const char *ttl_arg, const char *body,
    size_t len, struct buf *out)
{
	struct reg_batch b = { 0 };
	struct api_params p;
	double ttl;
	size_t dropped;
	unsigned status = 0;
	const char *e;

	pthread_mutex_lock(&a->lock);
	p = a->p;
	a->push_requests++;
	pthread_mutex_unlock(&a->lock);
	ttl = p.default_ttl;
	if (ttl_arg != NULL && cfg_parse_duration(ttl_arg, &ttl, &e) == -1)
		return bad_request(a, out, 400, "ttl: \"%.64s\" %s", ttl_arg, e);
	if (content_type != NULL && strncasecmp(content_type, "application/json", 16) == 0) {
		status = push_json(a, &p, body, len, ttl, &b, out);
	} else if (content_type == NULL || strncasecmp(content_type, "text/plain", 10) == 0 ||
	    strncasecmp(content_type, "application/x-www-form-urlencoded", 33) == 0) {
		/* the last is what curl --data-binary sends unless told otherwise */
		struct expo_opts o = { .use_timestamps = 1, .ttl = ttl,
			.lim = { .max_samples = p.max_samples } };
		char err[300];

		if (expo_parse_batch(&b, body, len, &o, err, sizeof(err)) < 0)
			status = bad_request(a, out, 400, "body: %s", err);
	} else {
		status = bad_request(a, out, 415, "Content-Type %.64s is not supported: send "
		    "text/plain (Prometheus text format) or application/json", content_type);
	}
	if (status != 0) {
		reg_batch_free(&b);
		return status;
	}
	if (b.rejected)
		status = bad_request(a, out, 400, "body: %lu samples with invalid names", b.rejected);
	else {
		dropped = reg_commit(a->reg, a->push_owner, util_now(), &b);
		pthread_mutex_lock(&a->lock);
		a->push_samples += b.n - dropped;
		a->dropped += dropped;
		pthread_mutex_unlock(&a->lock);
		success(out, "samples", b.n - dropped, dropped);
		status = 200;
	}
	reg_batch_free(&b);
	return status;
}

/* ---- events ------------------------------------------------------------------------------ */

static const struct reeve_metric m_events = {
	"reeve_events_total", "Business events received through /api/v1/events.", REEVE_COUNTER
};

static const char *const event_fields[] = { "event", "labels", "count", NULL };

/* Validate one event object into labels (event first); returns the label count or -1. */
static int
event_parse(const cJSON *it, struct reeve_label *labels, double *count, char *msg,
    size_t msglen)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(it, "event");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "count");
	const cJSON *f;
	int n;

	if (!cJSON_IsObject(it)) {
		snprintf(msg, msglen, "must be an object {\"event\":\"NAME\",\"labels\":{...}}");
		return -1;
	}
	cJSON_ArrayForEach(f, it) {
		if (!known_field(f->string, event_fields)) {
			snprintf(msg, msglen, "unknown field \"%.64s\" (expected event, labels, count)",
			    f->string);
			return -1;
		}
	}
	if (!cJSON_IsString(ev) || ev->valuestring[0] == '\0' ||
	    strlen(ev->valuestring) > API_MAX_EVENT_NAME) {
		snprintf(msg, msglen, "\"event\" must be a name of 1 to %d bytes", API_MAX_EVENT_NAME);
		return -1;
	}
	*count = 1;
	if (c != NULL && (!cJSON_IsNumber(c) || !(c->valuedouble > 0) || c->valuedouble > 1e15)) {
		snprintf(msg, msglen, "\"count\" must be a positive number");
		return -1;
	}
	if (c != NULL)
		*count = c->valuedouble;
	labels[0].name = "event";
	labels[0].value = ev->valuestring;
	if ((n = json_labels(cJSON_GetObjectItemCaseSensitive(it, "labels"), labels + 1,
	    API_MAX_LABELS - 1, "event", msg, msglen)) < 0)
		return -1;
	return n + 1;
}

/* The counter of a series key, created when new (lock held); NULL past the limit. */
static struct event_series *
event_get(struct api *a, const char *key, struct reeve_label *labels, size_t n)
{
	size_t h = util_hash(key, strlen(key)) & (a->nbuckets - 1);
	struct event_series *e;

	for (e = a->buckets[h]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	if (a->nevents == API_MAX_EVENT_SERIES)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->labels = xcalloc(n, sizeof(*e->labels));
	for (size_t i = 0; i < n; i++) {
		e->labels[i].name = xstrdup(labels[i].name);
		e->labels[i].value = xstrdup(labels[i].value);
	}
	e->nlabels = n;
	e->next = a->buckets[h];
	a->buckets[h] = e;
	a->nevents++;
	return e;
}

unsigned
api_events(struct api *a, const char *body, size_t len, struct buf *out)
{
	struct reeve_label labels[API_MAX_LABELS];
	struct reg_batch b = { 0 };
	struct buf key = { 0 };
	struct event_series **touched;
	double *adds;
	const cJSON *it;
	size_t where, n = 0, i = 0, ntouched = 0;
	unsigned status = 200;
	char msg[256];
	cJSON *root = parse_json(body, len, &where), *list;

	if (root == NULL)
		return bad_request(a, out, 400, "body: invalid JSON at byte %zu", where);
	if (cJSON_IsObject(root)) {
		list = cJSON_CreateArray();
		cJSON_AddItemReferenceToArray(list, root);
	} else if (cJSON_IsArray(root)) {
		list = root;
	} else {
		cJSON_Delete(root);
		return bad_request(a, out, 400, "body: expected an event object or a list of them");
	}
	n = (size_t)cJSON_GetArraySize(list);
	touched = xcalloc(n ? n : 1, sizeof(*touched));
	adds = xcalloc(n ? n : 1, sizeof(*adds));
	/* validate everything first: a bad event anywhere rejects the whole request */
	pthread_mutex_lock(&a->lock);
	cJSON_ArrayForEach(it, list) {
		double count;
		int nl = event_parse(it, labels, &count, msg, sizeof(msg));

		if (nl < 0) {
			pthread_mutex_unlock(&a->lock);
			status = bad_request(a, out, 400, "event %zu: %s", i + 1, msg);
			goto out;
		}
		reg_series_key(&key, m_events.name, labels, (size_t)nl);
		if ((touched[i] = event_get(a, key.data, labels, (size_t)nl)) == NULL) {
			pthread_mutex_unlock(&a->lock);
			status = bad_request(a, out, 400, "event %zu: more than %d distinct event series",
			    i + 1, API_MAX_EVENT_SERIES);
			goto out;
		}
		adds[i++] = count;
	}
	for (i = 0; i < n; i++) {
		touched[i]->count += adds[i];
		reg_batch_add(&b, m_events.name, m_events.help, m_events.type, touched[i]->labels,
		    touched[i]->nlabels, touched[i]->count);
		ntouched++;
	}
	a->events += ntouched;
	/* committed under our lock, so counts reach the registry in the order they grew */
	reg_commit(a->reg, a->event_owner, util_now(), &b);
	pthread_mutex_unlock(&a->lock);
	success(out, "events", ntouched, 0);
out:
	if (list != root)
		cJSON_Delete(list);
	cJSON_Delete(root);
	free(touched);
	free(adds);
	buf_free(&key);
	reg_batch_free(&b);
	return status;
}
