/* http.c: the HTTP endpoint (libmicrohttpd): /metrics, /healthz, /readyz, the API. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "expo.h"
#include "http.h"
#include "log.h"
#include "promapi.h"
#include "registry.h"
#include "reporter.h"
#include "ruler.h"
#include "silence.h"
#include "status.h"
#include "tls.h"
#include "util.h"

/*
 * Locks: lock guards the prepared /metrics response, its generation and auth (which is
 * replaced whole on reload, never changed in place).
 * Counters are atomics.
 */
struct http {
	struct MHD_Daemon *d;
	struct registry *reg;
	int (*ready)(void *);
	void *ready_arg;
	pthread_mutex_t lock;
	struct MHD_Response *metrics;   /* prepared body, shared by every request */
	unsigned long metrics_gen;
	struct auth *auth;
	struct api *api;                /* the POST endpoints; NULL = not offered */
	struct ruler *ruler;            /* the rules and alerts endpoints; NULL = not offered */
	struct silences *silences;      /* /api/v1/silences; NULL = not offered */
	struct dispatch *dispatch;      /* acknowledgements find their alert here */
	struct reporter *reporter;      /* /api/v1/reports, /reports/; NULL = not offered */
	struct promapi *promapi;        /* /api/v1/query and the rest of Prometheus's API */
	/* the workers and their queue of suspended connections (qlock) */
	pthread_t *workers;
	size_t nworkers;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct request *head, **tail;
	size_t queued;
	int stopping;
	size_t push_max_body;           /* of a POST to /api/v1/push or /api/v1/events */
	size_t max_body;                /* of a POST to the other endpoints */
	int tls;                        /* HTTPS: tls.c serves the certificate */
	struct status *status;          /* the status page at /; NULL = not offered */
	unsigned long long requests, errors, unauthorized, forbidden, renders;
};

struct request;

/* An answer that may take long (a query, a graph): made by a worker, not a polling thread. */
typedef void work_fn(struct http *h, struct MHD_Connection *c, const char *url,
    struct request *rq);

/*
 * One request: the body of a POST to the API, gathered up to the endpoint's cap; for an
 * answer handed to the workers, what to do and, once done, the response to queue.
 */
struct request {
	struct buf body;
	int too_big;
	work_fn *work;                  /* set: the connection is suspended for a worker */
	struct MHD_Connection *conn;
	char *url;
	struct MHD_Response *resp;      /* the worker's answer, queued on resumption */
	unsigned status;
	struct request *next;           /* in the workers' queue */
};

/* The AUTH_OPEN_* class of an endpoint's URL, for [http] open. */
static unsigned
open_class(const char *url)
{
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0)
		return AUTH_OPEN_HEALTHZ;
	if (strcmp(url, "/metrics") == 0)
		return AUTH_OPEN_METRICS;
	if (strcmp(url, "/") == 0)
		return AUTH_OPEN_STATUS;
	return AUTH_OPEN_API;
}

/* TLS 1.2 and 1.3 with GnuTLS's usual ciphers: nothing older */
#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static struct MHD_Response *
response(unsigned status, const char *type, const char *body, const char *allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"reeve\"");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	return r;
}

/* Queue r (status) and drop our reference. */
static enum MHD_Result
queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret = MHD_queue_response(c, status, r);

	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
    const char *allow)
{
	return queue(c, status, response(status, type, body, allow));
}

/* Every error is JSON, in the shape of Prometheus's API errors. */
static enum MHD_Result
reply_error_allow(struct http *h, struct MHD_Connection *c, unsigned status, const char *msg,
    const char *allow)
{
	struct buf b = { 0 };
	enum MHD_Result ret;
	const char *type = status == MHD_HTTP_UNAUTHORIZED || status == MHD_HTTP_FORBIDDEN ?
	    "unauthorized" : status == MHD_HTTP_NOT_FOUND ? "not_found" :
	    status >= 500 ? "unavailable" : "bad_data";

	__atomic_add_fetch(&h->errors, 1, __ATOMIC_RELAXED);
	buf_printf(&b, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", type);
	buf_json_string(&b, msg);
	buf_puts(&b, "}\n");
	ret = reply(c, status, "application/json", b.data, allow);
	buf_free(&b);
	return ret;
}

static enum MHD_Result
reply_error(struct http *h, struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply_error_allow(h, c, status, msg,
	    status == MHD_HTTP_METHOD_NOT_ALLOWED ? "GET, HEAD" : NULL);
}

/*
 * Whether the request may use url, an endpoint that needs role (AUTH_READ, AUTH_PUSH, ...;
 * the policy is auth_required's). Returns 1 when it may. Otherwise queues the JSON error,
 * 401 (no or unknown token, with WWW-Authenticate) or 403 (the token lacks role), counts
 * it, stores MHD_queue_response's result in *ret and returns 0: the handler returns *ret.
 * Neither the header nor the token is ever logged, only the token's name.
 */
static int
allowed(struct http *h, struct MHD_Connection *c, const char *url, unsigned role,
    enum MHD_Result *ret)
{
	const char *hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	const char *name;
	char who[128] = "";
	char msg[64];
	int rc;

	pthread_mutex_lock(&h->lock);
	rc = auth_check(h->auth, hdr, role, open_class(url), &name);
	if (name != NULL)
		snprintf(who, sizeof(who), "%s", name); /* h->auth may go once unlocked */
	pthread_mutex_unlock(&h->lock);
	if (rc == 0)
		return 1;
	if (rc == 401) {
		__atomic_add_fetch(&h->unauthorized, 1, __ATOMIC_RELAXED);
		log_debug("http: 401 for %s: %s bearer token", url, hdr ? "an unknown" : "no");
		*ret = reply_error(h, c, MHD_HTTP_UNAUTHORIZED,
		    "missing or wrong bearer token (Authorization: Bearer <token>)");
		return 0;
	}
	__atomic_add_fetch(&h->forbidden, 1, __ATOMIC_RELAXED);
	log_debug("http: 403 for %s: token %s lacks the %s role", url, who, auth_role_name(role));
	snprintf(msg, sizeof(msg), "this token lacks the %s role", auth_role_name(role));
	*ret = reply_error(h, c, MHD_HTTP_FORBIDDEN, msg);
	return 0;
}

/*
 * Queue the prepared /metrics response, re-rendered only when the registry changed. It is
 * queued under the lock: a newer render may drop our reference right after.
 */
static enum MHD_Result
metrics_queue(struct http *h, struct MHD_Connection *c)
{
	unsigned long gen = reg_generation(h->reg);
	struct MHD_Response *r;
	enum MHD_Result ret;

	pthread_mutex_lock(&h->lock);
	if (h->metrics == NULL || h->metrics_gen != gen) {
		struct buf b = { 0 };

		expo_render(h->reg, &b);
		if (b.data == NULL)
			buf_puts(&b, "");
		r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, EXPO_CONTENT_TYPE);
		if (h->metrics)
			MHD_destroy_response(h->metrics); /* requests still sending it keep theirs */
		h->metrics = r;
		h->metrics_gen = gen;
		h->renders++;
	}
	ret = MHD_queue_response(c, MHD_HTTP_OK, h->metrics);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

#define HTTP_HISTORY_LIMIT 1000     /* entries /api/v1/alerts/history answers by default */
#define HTTP_HISTORY_MAX_LIMIT 10000 /* and at most */
#define HTTP_HISTORY_SINCE (24 * 3600.0) /* seconds back it looks by default */

/* GET /api/v1/alerts/history?since=&rule=&limit= */
static enum MHD_Result
history_answer(struct http *h, struct MHD_Connection *c)
{
	const char *since_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	const char *rule = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "rule");
	const char *limit_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	double since = util_now() - HTTP_HISTORY_SINCE;
	unsigned long limit = HTTP_HISTORY_LIMIT;
	struct buf out = { 0 };
	enum MHD_Result ret;
	char msg[160];

	if (since_s != NULL && util_parse_time(since_s, &since) == -1)
		return reply_error(h, c, MHD_HTTP_BAD_REQUEST, "since: not RFC 3339 "
		    "(2024-05-01T12:00:00Z) or Unix seconds");
	if (limit_s != NULL) {
		char *end;

		errno = 0;
		limit = strtoul(limit_s, &end, 10);
		if (*limit_s < '0' || *limit_s > '9' || *end != '\0' || errno != 0 || limit < 1 ||
		    limit > HTTP_HISTORY_MAX_LIMIT) {
			snprintf(msg, sizeof(msg), "limit: not a whole number from 1 to %d",
			    HTTP_HISTORY_MAX_LIMIT);
			return reply_error(h, c, MHD_HTTP_BAD_REQUEST, msg);
		}
	}
	if (rule != NULL && *rule == '\0')
		rule = NULL;
	if (ruler_history_json(h->ruler, since, rule, limit, &out) == -1) {
		buf_free(&out);
		snprintf(msg, sizeof(msg), "cannot read the alert history: %s", strerror(errno));
		return reply_error(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
	}
	ret = reply(c, MHD_HTTP_OK, "application/json", out.data, NULL);
	buf_free(&out);
	return ret;
}

/* GET of /api/v1/rules, /api/v1/alerts and /api/v1/alerts/history; 0 for other paths. */
static int
rules_path(const char *url)
{
	return strcmp(url, "/api/v1/rules") == 0 || strcmp(url, "/api/v1/alerts") == 0 ||
	    strcmp(url, "/api/v1/alerts/history") == 0;
}

static enum MHD_Result
rules_answer(struct http *h, struct MHD_Connection *c, const char *url)
{
	struct buf out = { 0 };
	enum MHD_Result ret;

	if (!allowed(h, c, url, AUTH_READ, &ret))
		return ret;
	if (h->ruler == NULL)
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "no rules are evaluated here");
	if (strcmp(url, "/api/v1/alerts/history") == 0)
		return history_answer(h, c);
	if (strcmp(url, "/api/v1/rules") == 0)
		ruler_rules_json(h->ruler, &out);
	else
		ruler_alerts_json(h->ruler, &out);
	ret = reply(c, MHD_HTTP_OK, "application/json", out.data, NULL);
	buf_free(&out);
	return ret;
}

/* The POST endpoints of the API that take data: their body cap is push_max_body. */
static int
api_path(const char *url)
{
	return strcmp(url, "/api/v1/push") == 0 || strcmp(url, "/api/v1/events") == 0;
}

/* The cap on the body of a POST to url. */
static size_t
body_cap(const struct http *h, const char *url)
{
	return api_path(url) ? h->push_max_body : h->max_body;
}

/* Whether the Content-Length of a POST to url is over its cap: refused before reading. */
static int
declared_too_big(const struct http *h, struct MHD_Connection *c, const char *url)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl != NULL && strtoull(cl, NULL, 10) > body_cap(h, url);
}

static enum MHD_Result
too_large(struct http *h, struct MHD_Connection *c, const char *url)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "the body is larger than %zu bytes ([http] %s)",
	    body_cap(h, url), api_path(url) ? "push_max_body" : "max_body");
	return reply_error(h, c, MHD_HTTP_CONTENT_TOO_LARGE, msg);
}

/* ---- silences and acknowledgements -------------------------------------------------------- */

/* /api/v1/silences, /api/v1/silences/ID, /api/v1/alerts/FP/ack; 0 for other paths. */
static int
silence_path(const char *url)
{
	size_t n = strlen(url);

	return strcmp(url, "/api/v1/silences") == 0 || strncmp(url, "/api/v1/silences/", 17) == 0 ||
	    (strncmp(url, "/api/v1/alerts/", 15) == 0 && n > 19 &&
	    strcmp(url + n - 4, "/ack") == 0);
}

/* The role a method on a silence path needs: reading lists, the rest changes. */
static unsigned
silence_role(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ? AUTH_READ : AUTH_ADMIN;
}

static enum MHD_Result
silence_answer(struct http *h, struct MHD_Connection *c, const char *url, const char *method,
    struct request *rq)
{
	const char *body = rq->body.data ? rq->body.data : "";
	struct buf out = { 0 };
	char id[17], err[512];
	enum MHD_Result ret;
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (!allowed(h, c, url, silence_role(method), &ret))
		return ret;
	if (h->silences == NULL)
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "no silences here");
	if (rq->too_big)
		return too_large(h, c, url);
	if (strcmp(url, "/api/v1/silences") == 0 && get) {
		silences_refresh(h->silences);
		silences_json(h->silences, util_now(), &out);
	} else if (strcmp(url, "/api/v1/silences") == 0 && strcmp(method, "POST") == 0) {
		if (silences_api_add(h->silences, SILENCE_MUTE, NULL, body, rq->body.len, 0, id,
		    err, sizeof(err)) == -1)
			return reply_error(h, c, MHD_HTTP_BAD_REQUEST, err);
		buf_printf(&out, "{\"status\":\"success\",\"data\":{\"silenceID\":\"%s\"}}\n", id);
	} else if (strncmp(url, "/api/v1/silences/", 17) == 0 && strcmp(method, "DELETE") == 0) {
		if (silences_expire(h->silences, url + 17, err, sizeof(err)) == -1)
			return reply_error(h, c, strncmp(err, "no silence", 10) == 0 ?
			    MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_REQUEST, err);
		buf_puts(&out, "{\"status\":\"success\"}\n");
	} else if (strncmp(url, "/api/v1/alerts/", 15) == 0 && strcmp(method, "POST") == 0) {
		char fp[17], *m;
		size_t n = strlen(url) - 15 - 4;

		if (n != 16 || h->dispatch == NULL)
			return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no firing alert with that id "
			    "(the fingerprint in /api/v1/alerts)");
		memcpy(fp, url + 15, 16);
		fp[16] = '\0';
		if ((m = dispatch_alert_matchers(h->dispatch, fp)) == NULL)
			return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no firing alert with that id "
			    "(the fingerprint in /api/v1/alerts)");
		if (silences_api_add(h->silences, SILENCE_ACK, m, body, rq->body.len,
		    SILENCE_ACK_DEFAULT, id, err, sizeof(err)) == -1) {
			free(m);
			return reply_error(h, c, MHD_HTTP_BAD_REQUEST, err);
		}
		free(m);
		buf_printf(&out, "{\"status\":\"success\",\"data\":{\"ackID\":\"%s\"}}\n", id);
	} else {
		const char *allow = strcmp(url, "/api/v1/silences") == 0 ? "GET, HEAD, POST" :
		    strncmp(url, "/api/v1/silences/", 17) == 0 ? "DELETE" : "POST";

		return reply_error_allow(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
		    allow);
	}
	ret = reply(c, MHD_HTTP_OK, "application/json", out.data, NULL);
	buf_free(&out);
	return ret;
}

/* ---- the workers: answers that take long ---------------------------------------------------- */

#define HTTP_QUEUE_MAX 64 /* answers waiting for a worker; beyond, 503 at once */
#define HTTP_MIN_WORKERS 2 /* workers, or [http] threads if more */

/*
 * Hand the answer to url to a worker: the connection is suspended (its polling thread goes
 * on serving the others) until the worker has made rq->resp, then resumed, and the handler
 * queues it. 503 when too many wait already.
 */
static enum MHD_Result
defer(struct http *h, struct MHD_Connection *c, const char *url, struct request *rq,
    work_fn *work)
{
	pthread_mutex_lock(&h->qlock);
	if (h->queued >= HTTP_QUEUE_MAX || h->stopping) {
		pthread_mutex_unlock(&h->qlock);
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many queries waiting "
		    "to be answered; try again shortly");
	}
	rq->work = work;
	rq->conn = c;
	rq->url = xstrdup(url);
	MHD_suspend_connection(c); /* before a worker can resume it */
	*h->tail = rq;
	h->tail = &rq->next;
	h->queued++;
	pthread_cond_signal(&h->qcond);
	pthread_mutex_unlock(&h->qlock);
	return MHD_YES;
}

static void *
worker(void *arg)
{
	struct http *h = arg;

	for (;;) {
		struct request *rq;

		pthread_mutex_lock(&h->qlock);
		while (h->head == NULL && !h->stopping)
			pthread_cond_wait(&h->qcond, &h->qlock);
		if ((rq = h->head) == NULL) {
			pthread_mutex_unlock(&h->qlock);
			return NULL;
		}
		if ((h->head = rq->next) == NULL)
			h->tail = &h->head;
		h->queued--;
		pthread_mutex_unlock(&h->qlock);
		rq->work(h, rq->conn, rq->url, rq);
		MHD_resume_connection(rq->conn);
	}
}

/*
 * Let the workers answer what is queued, then end them; later requests get 503. The lock
 * stays: libmicrohttpd may still call defer until it is stopped.
 */
static void
stop_workers(struct http *h)
{
	pthread_mutex_lock(&h->qlock);
	h->stopping = 1;
	pthread_cond_broadcast(&h->qcond);
	pthread_mutex_unlock(&h->qlock);
	for (size_t i = 0; i < h->nworkers; i++)
		pthread_join(h->workers[i], NULL);
	free(h->workers);
	h->workers = NULL;
	h->nworkers = 0;
}

/* ---- the Prometheus API ------------------------------------------------------------------- */

struct args {
	struct promapi_param *v;
	size_t n;
};

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct args *a = cls;

	(void)kind;
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	a->v[a->n].key = key;
	a->v[a->n++].value = value ? value : "";
	return MHD_YES;
}

/* The answer of the Prometheus API or a graph, made on a worker. */
static void
promapi_work(struct http *h, struct MHD_Connection *c, const char *url, struct request *rq)
{
	struct args a = { NULL, 0 };
	struct buf out = { 0 };

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
	if (promapi_graph_path(url)) {
		unsigned char *img;
		size_t len;

		rq->status = promapi_graph(h->promapi, url, a.v, a.n, rq->body.data, rq->body.len,
		    &img, &len, &out);
		if (rq->status == 200) {
			rq->resp = MHD_create_response_from_buffer(len, img, MHD_RESPMEM_MUST_FREE);
			MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			    strstr(url, ".svg") ? "image/svg+xml" : "image/png");
			MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=10");
			__atomic_add_fetch(&h->renders, 1, __ATOMIC_RELAXED);
		}
	} else {
		rq->status = promapi_answer(h->promapi, url, a.v, a.n, rq->body.data, rq->body.len,
		    &out);
	}
	free(a.v);
	if (rq->resp == NULL) {
		if (rq->status >= 400)
			__atomic_add_fetch(&h->errors, 1, __ATOMIC_RELAXED);
		rq->resp = response(rq->status, "application/json", out.data, NULL);
	}
	buf_free(&out);
}

static enum MHD_Result
promapi_reply(struct http *h, struct MHD_Connection *c, const char *url, const char *method,
    struct request *rq)
{
	enum MHD_Result ret;

	if (!allowed(h, c, url, AUTH_READ, &ret))
		return ret;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "POST") != 0)
		return reply_error_allow(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
		    "GET, HEAD, POST");
	if (rq->too_big)
		return too_large(h, c, url);
	return defer(h, c, url, rq, promapi_work);
}

/* ---- reports ------------------------------------------------------------------------------ */

/* /api/v1/reports, /api/v1/reports/NAME/run and /reports/NAME/FILE; 0 for other paths. */
static int
report_path(const char *url)
{
	return strcmp(url, "/api/v1/reports") == 0 || strncmp(url, "/api/v1/reports/", 16) == 0 ||
	    strncmp(url, "/reports/", 9) == 0;
}

/* The type an archived file is served with, from its extension. */
static const char *
file_type(const char *name)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".pdf", "application/pdf" },
		{ ".csv", "text/csv; charset=utf-8" }, { ".png", "image/png" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t k = strlen(types[i][0]);

		if (n > k && strcmp(name + n - k, types[i][0]) == 0)
			return types[i][1];
	}
	return "application/octet-stream";
}

/* GET /reports/NAME/FILE: an archived file, read from disk by libmicrohttpd. */
static enum MHD_Result
report_file(struct http *h, struct MHD_Connection *c, const char *rest)
{
	const char *slash = strchr(rest, '/');
	char name[256], *path;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct stat sb;
	int fd;

	if (slash == NULL || (size_t)(slash - rest) >= sizeof(name))
		return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such report file");
	snprintf(name, sizeof(name), "%.*s", (int)(slash - rest), rest);
	if ((path = reporter_archive_path(h->reporter, name, slash + 1)) == NULL)
		return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such report file (GET "
		    "/api/v1/reports lists them)");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1 || fstat(fd, &sb) == -1) {
		if (fd != -1)
			close(fd);
		return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such report file");
	}
	/* libmicrohttpd closes fd when the response is destroyed */
	r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, file_type(slash + 1));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* a report page shows its own images and nothing else */
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; img-src 'self'; "
	    "style-src 'unsafe-inline'");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
report_answer(struct http *h, struct MHD_Connection *c, const char *url, const char *method)
{
	int post = strcmp(method, "POST") == 0;
	size_t n = strlen(url);
	struct buf out = { 0 };
	enum MHD_Result ret;
	char err[512];

	if (post && !(strncmp(url, "/api/v1/reports/", 16) == 0 && n > 20 &&
	    strcmp(url + n - 4, "/run") == 0))
		return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are allowed");
	if (!allowed(h, c, url, post ? AUTH_ADMIN : AUTH_READ, &ret))
		return ret;
	if (h->reporter == NULL)
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "no reports here");
	if (strncmp(url, "/api/v1/reports/", 16) == 0 && n > 20 && strcmp(url + n - 4, "/run") == 0) {
		char *name;

		if (!post)
			return reply_error_allow(h, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "only POST is allowed", "POST");
		name = xasprintf("%.*s", (int)(n - 16 - 4), url + 16);
		if (reporter_request(h->reporter, name, err, sizeof(err)) == -1) {
			free(name);
			return reply_error(h, c, MHD_HTTP_NOT_FOUND, err);
		}
		buf_puts(&out, "{\"status\":\"success\",\"data\":{\"report\":");
		buf_json_string(&out, name);
		buf_puts(&out, ",\"queued\":true}}\n");
		free(name);
		ret = reply(c, MHD_HTTP_ACCEPTED, "application/json", out.data, NULL);
		buf_free(&out);
		return ret;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are allowed");
	if (strncmp(url, "/reports/", 9) == 0)
		return report_file(h, c, url + 9);
	if (strcmp(url, "/api/v1/reports") != 0)
		return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such endpoint (GET /api/v1/reports, "
		    "POST /api/v1/reports/NAME/run)");
	reporter_archive_json(h->reporter, &out);
	ret = reply(c, MHD_HTTP_OK, "application/json", out.data, NULL);
	buf_free(&out);
	return ret;
}

/* ---- the status page ---------------------------------------------------------------------- */

/* The status page (src/status.c), one self-contained HTML page, made on a worker. */
static void
status_work(struct http *h, struct MHD_Connection *c, const char *url, struct request *rq)
{
	struct buf out = { 0 };
	size_t len;

	(void)c;
	(void)url;
	status_page(h->status, &out);
	len = out.len;
	rq->status = MHD_HTTP_OK;
	rq->resp = MHD_create_response_from_buffer(len, buf_steal(&out), MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(rq->resp, "X-Content-Type-Options", "nosniff");
	/* everything is inside the page: its CSS and its graphs as data: URIs; no script */
	MHD_add_response_header(rq->resp, "Content-Security-Policy", "default-src 'none'; "
	    "img-src data:; style-src 'unsafe-inline'");
}

/* GET / and HEAD /. */
static enum MHD_Result
status_answer(struct http *h, struct MHD_Connection *c, const char *url, struct request *rq)
{
	enum MHD_Result ret;

	if (!allowed(h, c, url, AUTH_READ, &ret))
		return ret;
	return defer(h, c, url, rq, status_work);
}


/*
 * First call of a POST to the API: refuse early, before the body is read, what needs no
 * body to refuse (a token with the push role, declared size). Returns MHD_YES to go on
 * reading.
 */
static enum MHD_Result
api_begin(struct http *h, struct MHD_Connection *c, const char *url, int *answered)
{
	enum MHD_Result ret;

	*answered = 1;
	if (!allowed(h, c, url, AUTH_PUSH, &ret))
		return ret;
	if (declared_too_big(h, c, url))
		return too_large(h, c, url);
	*answered = 0;
	return MHD_YES;
}

static enum MHD_Result
api_answer(struct http *h, struct MHD_Connection *c, const char *url, struct request *rq)
{
	struct buf out = { 0 };
	const char *body = rq->body.data ? rq->body.data : "";
	enum MHD_Result ret;
	unsigned status;

	if (h->api == NULL)
		return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "the API is not available");
	if (strcmp(url, "/api/v1/push") == 0)
		status = api_push(h->api,
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ttl"),
		    body, rq->body.len, &out);
	else
		status = api_events(h->api, body, rq->body.len, &out);
	if (status != MHD_HTTP_OK)
		__atomic_add_fetch(&h->errors, 1, __ATOMIC_RELAXED);
	ret = reply(c, status, "application/json", out.data, NULL);
	buf_free(&out);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct request *rq = *con_cls;
	int post = strcmp(method, "POST") == 0;
	enum MHD_Result denied;

	(void)version;
	if (rq == NULL) {
		int answered = 0;
		enum MHD_Result ret = MHD_YES;

		/* answer on the second call: answering on the first closes keep-alive connections */
		*con_cls = rq = xcalloc(1, sizeof(*rq));
		if (post && api_path(url))
			ret = api_begin(h, c, url, &answered);
		else if (silence_path(url) && !allowed(h, c, url, silence_role(method), &ret))
			answered = 1; /* refused before the body is read */
		else if (post && declared_too_big(h, c, url)) {
			ret = too_large(h, c, url);
			answered = 1;
		}
		if (answered)
			__atomic_add_fetch(&h->requests, 1, __ATOMIC_RELAXED);
		return ret;
	}
	if (*upload_data_size != 0) {
		/* keep the body of an API POST (up to its cap); drain any other */
		int keep = post && (api_path(url) || silence_path(url) ||
		    (h->promapi != NULL && (promapi_path(url) || promapi_graph_path(url))));

		if (keep && rq->body.len + *upload_data_size <= body_cap(h, url))
			buf_append(&rq->body, upload_data, *upload_data_size);
		else if (keep)
			rq->too_big = 1; /* answered at the end */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->work != NULL) { /* resumed: the worker's answer */
		struct MHD_Response *r = rq->resp;

		rq->resp = NULL;
		return queue(c, rq->status, r);
	}
	__atomic_add_fetch(&h->requests, 1, __ATOMIC_RELAXED);
	if (api_path(url)) {
		if (!post)
			return reply_error_allow(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only POST is allowed",
			    "POST");
		if (rq->too_big)
			return too_large(h, c, url);
		return api_answer(h, c, url, rq);
	}
	if (silence_path(url))
		return silence_answer(h, c, url, method, rq);
	if (report_path(url))
		return report_answer(h, c, url, method);
	if (h->promapi != NULL && (promapi_path(url) || promapi_graph_path(url)))
		return promapi_reply(h, c, url, method, rq);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply_error(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are allowed");
	if (strcmp(url, "/metrics") == 0) {
		if (!allowed(h, c, url, AUTH_READ, &denied))
			return denied;
		return metrics_queue(h, c);
	}
	if (strcmp(url, "/") == 0 && h->status != NULL)
		return status_answer(h, c, url, rq);
	if (rules_path(url))
		return rules_answer(h, c, url);
	if ((strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0) &&
	    !allowed(h, c, url, AUTH_READ, &denied))
		return denied;
	if (strcmp(url, "/healthz") == 0)
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "ok\n", NULL);
	if (strcmp(url, "/readyz") == 0) {
		if (h->ready && !h->ready(h->ready_arg))
			return reply_error(h, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "not ready: waiting for the first collection of every probe");
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", "ready\n", NULL);
	}
	return reply_error(h, c, MHD_HTTP_NOT_FOUND, "no such endpoint (docs/http-api.md lists "
	    "them; / is the status page, /api/v1/query the query API)");
}

/* MHD is done with a request: free what the handler kept for it. */
static void
request_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	buf_free(&rq->body);
	free(rq->url);
	if (rq->resp != NULL)
		MHD_destroy_response(rq->resp);
	free(rq);
	*con_cls = NULL;
}

static void
mhd_log(void *arg, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)arg;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

int
http_listen(const char *listen_on, int *ipv6, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	char *host = NULL, port[16];
	unsigned uport;
	const char *e;
	int rc, fd, one = 1;

	if (cfg_parse_listen(listen_on, &host, &uport, &e) == -1) {
		snprintf(err, errlen, "listen %s: %s", listen_on, e);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", uport);
	rc = getaddrinfo(host, port, &hints, &res);
	free(host);
	if (rc != 0) {
		snprintf(err, errlen, "listen %s: %s", listen_on, gai_strerror(rc));
		return -1;
	}
	*ipv6 = res->ai_family == AF_INET6;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 || listen(fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen_on, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

struct http *
http_new(const struct http_params *p, struct registry *r, char *err, size_t errlen)
{
	struct http *h;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

	if (p->ipv6)
		flags |= MHD_USE_IPv6;
	h = xcalloc(1, sizeof(*h));
	h->reg = r;
	h->ready = p->ready;
	h->ready_arg = p->ready_arg;
	h->auth = p->auth;
	h->api = p->api;
	h->ruler = p->ruler;
	h->silences = p->silences;
	h->reporter = p->reporter;
	h->promapi = p->promapi;
	h->status = p->status;
	h->dispatch = p->dispatch;
	h->push_max_body = p->push_max_body;
	h->max_body = p->max_body;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->qlock, NULL);
	pthread_cond_init(&h->qcond, NULL);
	h->tail = &h->head;
	h->nworkers = p->threads > HTTP_MIN_WORKERS ? p->threads : HTTP_MIN_WORKERS;
	h->workers = xcalloc(h->nworkers, sizeof(*h->workers));
	for (size_t i = 0; i < h->nworkers; i++)
		if (pthread_create(&h->workers[i], NULL, worker, h) != 0)
			fatalx("http: cannot start a worker thread");
	if (p->tls != NULL) {
		tls_serve(p->tls);
		h->tls = 1;
		flags |= MHD_USE_TLS;
	}
	/*
	 * With HTTPS the certificate comes from tls.c at each handshake, so a reload can replace
	 * it; without, the first MHD_OPTION_END ends the list and the TLS options are not read.
	 */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)p->fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(p->threads ? p->threads : 1),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)p->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)p->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)p->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)p->memory_limit,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
	    h->tls ? MHD_OPTION_HTTPS_CERT_CALLBACK : MHD_OPTION_END, tls_callback(),
	    MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		snprintf(err, errlen, "cannot serve HTTP on %s", p->listen);
		close(p->fd);
		if (h->tls)
			tls_serve_end();
		stop_workers(h);
		pthread_cond_destroy(&h->qcond);
		pthread_mutex_destroy(&h->qlock);
		pthread_mutex_destroy(&h->lock);
		auth_free(h->auth);
		free(h);
		return NULL;
	}
	log_info("http: listening on %s%s", p->listen, h->tls ? " (HTTPS)" : "");
	return h;
}

void
http_set_auth(struct http *h, struct auth *a)
{
	struct auth *old;

	pthread_mutex_lock(&h->lock);
	old = h->auth;
	h->auth = a;
	pthread_mutex_unlock(&h->lock);
	auth_free(old); /* every check runs under the lock: none still reads it */
}

int
http_set_tls(struct http *h, struct tls_cred *c)
{
	if (!h->tls) {
		tls_cred_free(c);
		return -1;
	}
	tls_serve(c);
	return 0;
}

void
http_get_stats(struct http *h, struct http_stats *st)
{
	st->requests = __atomic_load_n(&h->requests, __ATOMIC_RELAXED);
	st->errors = __atomic_load_n(&h->errors, __ATOMIC_RELAXED);
	st->unauthorized = __atomic_load_n(&h->unauthorized, __ATOMIC_RELAXED);
	st->forbidden = __atomic_load_n(&h->forbidden, __ATOMIC_RELAXED);
	pthread_mutex_lock(&h->lock);
	st->renders = h->renders;
	pthread_mutex_unlock(&h->lock);
	st->tls_expiry = h->tls ? tls_serve_expiry() : 0;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->promapi != NULL)
		promapi_cancel(h->promapi); /* queries under way end now */
	stop_workers(h);
	MHD_stop_daemon(h->d);
	if (h->tls)
		tls_serve_end();
	if (h->metrics)
		MHD_destroy_response(h->metrics);
	pthread_cond_destroy(&h->qcond);
	pthread_mutex_destroy(&h->qlock);
	pthread_mutex_destroy(&h->lock);
	auth_free(h->auth);
	free(h);
}
