/* http.c: the http probe: many URLs at once on one libcurl multi handle, JSON values. */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include <reeve-probe.h>

#include "httpclient.h"
#include "jsonpath.h"

/* Functions the unit tests call are external with REEVE_TESTING, static otherwise. */
#ifndef REEVE_STATIC
#ifdef REEVE_TESTING
#define REEVE_STATIC
#else
#define REEVE_STATIC static
#endif
#endif

#define HTTP_MAX_RANGES 32	/* expect_status items */
#define HTTP_MAX_LABELS 8	/* labels.NAME keys */
#define HTTP_MAX_TARGETS 10000
#define HTTP_MAX_BODY_FILE (1 << 20)
#define HTTP_MAX_HEADER_FILE 8192
#define HTTP_DEFAULT_TIMEOUT 5.0
#define HTTP_DEFAULT_MAX_BODY (1u << 20)
#define HTTP_DEFAULT_UA "reeve-http-probe/1"

struct status_range {
	int lo, hi;
};

/* Why a target is down; a change of (kind, code) is logged, a repeat is not. */
enum fail_kind {
	FK_NONE = -1,	/* no round yet */
	FK_OK = 0,
	FK_CURL,	/* code: the CURLcode */
	FK_TOO_BIG,
	FK_STATUS,	/* code: the status */
	FK_REGEX,
	FK_JSON,
	FK_VALUE	/* code: the value's index */
};

struct value {
	char *name;
	struct jsonpath *path;
	char *path_text;	/* canonical, for messages */
	struct reeve_metric metric;
};

struct target {
	struct http_state *st;
	char *url;		/* as configured: may hold credentials, never logged */
	char *label;		/* the url without userinfo: the "target" label */
	int https;
	CURL *h;
	char errbuf[CURL_ERROR_SIZE];
	struct httpclient_body body;	/* of this round, when needed */
	int active;		/* added to the multi handle this round */
	int done;
	CURLcode rc;
	int have_expiry;
	double not_after;	/* leaf certificate, epoch seconds */
	enum fail_kind last_kind;
	long last_code;
	struct httpclient_guard guard;	/* the networks its connections may reach */
};

struct http_state {
	const struct reeve_host *host;
	CURLM *multi;
	struct target *targets;
	size_t ntargets;
	const char *method;	/* static string */
	char *body;
	size_t body_len;
	struct curl_slist *headers;
	struct status_range ranges[HTTP_MAX_RANGES];
	size_t nranges;
	char *expect_text;
	regex_t re;
	int has_re;
	struct value *values;
	size_t nvalues;
	struct reeve_label labels[HTTP_MAX_LABELS + 2];	/* extra labels, then target, phase */
	size_t nlabels;
	double request_timeout, connect_timeout;
	int tls_verify, follow;
	unsigned long max_redirects, max_connections, max_body;
	char *ca_file;
	char *user_agent;
	struct httpclient_nets allow, deny;	/* allow_networks, deny_networks */
	char *proxy;
	int need_body;
	char **secrets;		/* scrubbed from every message about a target */
	size_t nsecrets;
	int curl_inited;
};

REEVE_STATIC int parse_expect_status(const char *s, struct status_range *r, size_t max,
    size_t *n, char *err, size_t errlen);
REEVE_STATIC int status_expected(const struct status_range *r, size_t n, long status);
REEVE_STATIC void http_phases(double namelookup, double connect, double appconnect,
    double starttransfer, double total, double out[5]);
REEVE_STATIC int parse_cert_date(const char *s, double *out);

static const struct reeve_metric m_up = {
	"http_up", "1 when the request succeeded, the status was expected, the body matched "
	"body_regex and every value was found; else 0.", REEVE_GAUGE
};
static const struct reeve_metric m_status = {
	"http_status_code", "Status code of the last response (0 when there was none).",
	REEVE_GAUGE
};
static const struct reeve_metric m_duration = {
	"http_request_duration_seconds", "Time the whole request took, redirects included.",
	REEVE_GAUGE
};
static const struct reeve_metric m_phase = {
	"http_phase_duration_seconds", "Time of each phase of the request: resolve, connect, "
	"tls, processing (until the first byte), transfer.", REEVE_GAUGE
};
static const struct reeve_metric m_size = {
	"http_response_size_bytes", "Bytes of the response body as received.", REEVE_GAUGE
};
static const struct reeve_metric m_expiry = {
	"http_tls_cert_expiry_seconds", "Seconds until the server's leaf certificate expires "
	"(negative once it has).", REEVE_GAUGE
};

static const char *const phase_names[5] = {
	"resolve", "connect", "tls", "processing", "transfer"
};

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL
};

/* ---- pure helpers (unit-tested) ---------------------------------------------------------- */

static const char *
skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int
parse_code(const char **sp, int *out)
{
	const char *s = *sp;
	int v = 0, i;

	for (i = 0; i < 3; i++, s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if ((*s >= '0' && *s <= '9') || v < 100 || v > 599)
		return -1;
	*out = v;
	*sp = s;
	return 0;
}

/*
 * Parse an expect_status value: a comma-separated list of codes (200) and ranges
 * (200-299), each code 100 to 599. Fills r (room for max) and *n. Returns 0, or -1 with a
 * message in err.
 */
REEVE_STATIC int
parse_expect_status(const char *s, struct status_range *r, size_t max, size_t *n, char *err,
    size_t errlen)
{
	const char *item;

	*n = 0;
	for (;;) {
		item = s = skip_space(s);
		if (*n == max) {
			snprintf(err, errlen, "more than %zu items", max);
			return -1;
		}
		if (parse_code(&s, &r[*n].lo) == -1)
			goto bad;
		r[*n].hi = r[*n].lo;
		s = skip_space(s);
		if (*s == '-') {
			s = skip_space(s + 1);
			if (parse_code(&s, &r[*n].hi) == -1)
				goto bad;
			if (r[*n].hi < r[*n].lo) {
				snprintf(err, errlen, "range %d-%d is empty", r[*n].lo, r[*n].hi);
				return -1;
			}
			s = skip_space(s);
		}
		(*n)++;
		if (*s == '\0')
			return 0;
		if (*s != ',')
			goto bad;
		s++;
	}
bad:
	snprintf(err, errlen, "expected a status code 100-599 or a range like 200-299 at '%.20s'",
	    item);
	return -1;
}

/* 1 when status lies in one of the n ranges, else 0. */
REEVE_STATIC int
status_expected(const struct status_range *r, size_t n, long status)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (status >= r[i].lo && status <= r[i].hi)
			return 1;
	return 0;
}

/*
 * Turn libcurl's cumulative times (seconds since the start) into the durations of the
 * phases resolve, connect, tls, processing and transfer. appconnect is 0 without a TLS
 * handshake (http, or a reused connection). Never negative.
 */
REEVE_STATIC void
http_phases(double namelookup, double connect, double appconnect, double starttransfer,
    double total, double out[5])
{
	double ready = appconnect > 0 ? appconnect : connect;
	int i;

	out[0] = namelookup;
	out[1] = connect - namelookup;
	out[2] = appconnect > 0 ? appconnect - connect : 0;
	out[3] = starttransfer - ready;
	out[4] = total - starttransfer;
	for (i = 0; i < 5; i++)
		if (!(out[i] > 0))
			out[i] = 0;
}

/*
 * Parse a certificate date as libcurl's CURLINFO_CERTINFO gives it with OpenSSL
 * ("Mar  1 12:00:00 2030 GMT") into epoch seconds. Returns 0, or -1.
 */
REEVE_STATIC int
parse_cert_date(const char *s, double *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%b %d %H:%M:%S %Y", &tm)) == NULL)
		return -1;
	end = skip_space(end);
	if (strcmp(end, "GMT") != 0)
		return -1;
	*out = (double)timegm(&tm);
	return 0;
}

/* ---- collection -------------------------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
info_time(CURL *h, CURLINFO what)
{
	curl_off_t us = 0;

	if (curl_easy_getinfo(h, what, &us) != CURLE_OK)
		return 0;
	return (double)us / 1e6;
}

/* Read the leaf certificate's expiry of this transfer, when it made a TLS handshake. */
static void
read_cert_expiry(struct target *t)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *sl;
	double v;

	if (curl_easy_getinfo(t->h, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return;	/* a reused connection: keep what the handshake gave */
	for (sl = ci->certinfo[0]; sl != NULL; sl = sl->next)
		if (strncmp(sl->data, "Expire date:", 12) == 0 &&
		    parse_cert_date(skip_space(sl->data + 12), &v) == 0) {
			t->not_after = v;
			t->have_expiry = 1;
			return;
		}
}

static void
emit1(struct http_state *st, struct reeve_emitter *em, const struct reeve_metric *m,
    size_t nlabels, double v)
{
	st->host->emit(em, m, st->labels, nlabels, v);
}

/* Log a change of a target's state, once; msg is scrubbed of secrets first. */
static void
note_state(struct http_state *st, struct target *t, enum fail_kind kind, long code, char *msg,
    size_t msgsize)
{
	if (kind == t->last_kind && code == t->last_code)
		return;
	httpclient_scrub(msg, msgsize, st->secrets, st->nsecrets);
	if (kind == FK_OK) {
		if (t->last_kind != FK_NONE)
			st->host->log(REEVE_LOG_INFO, "%s: up again", t->label);
	} else
		st->host->log(REEVE_LOG_WARN, "%s: down: %s", t->label, msg);
	t->last_kind = kind;
	t->last_code = code;
}

/* Judge one finished (or abandoned) transfer and emit its samples. */
static void
finish_target(struct http_state *st, struct target *t, struct reeve_emitter *em)
{
	size_t nl = st->nlabels + 1, i;
	enum fail_kind kind = FK_OK;
	long status = 0, code = 0;
	double ph[5], v;
	curl_off_t size = 0;
	char msg[512], verr[300];
	cJSON *root = NULL;
	const char *end;

	msg[0] = '\0';
	st->labels[st->nlabels].name = "target";
	st->labels[st->nlabels].value = t->label;
	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	if (t->rc != CURLE_OK) {
		if (st->need_body && t->body.over) {
			kind = FK_TOO_BIG;
			snprintf(msg, sizeof(msg), "the body is larger than max_body (%lu bytes)",
			    st->max_body);
		} else {
			kind = FK_CURL;
			code = t->rc;
			if (t->guard.denied[0] != '\0')
				snprintf(msg, sizeof(msg), "the address %s is not allowed for this probe "
				    "(allow_networks, deny_networks)", t->guard.denied);
			else
				snprintf(msg, sizeof(msg), "%s", t->errbuf[0] ? t->errbuf :
				    curl_easy_strerror(t->rc));
		}
	} else if (!status_expected(st->ranges, st->nranges, status)) {
		kind = FK_STATUS;
		code = status;
		snprintf(msg, sizeof(msg), "status %ld is not in expect_status (%s)", status,
		    st->expect_text);
	} else if (st->has_re && regexec(&st->re, t->body.data ? t->body.data : "", 1,
	    &(regmatch_t){ .rm_so = 0, .rm_eo = (regoff_t)t->body.len }, REG_STARTEND) != 0) {
		kind = FK_REGEX;
		snprintf(msg, sizeof(msg), "the body does not match body_regex");
	}
	if (kind == FK_OK && st->nvalues > 0) {
		root = cJSON_ParseWithLengthOpts(t->body.data ? t->body.data : "", t->body.len + 1,
		    &end, 1);
		if (root == NULL) {
			kind = FK_JSON;
			snprintf(msg, sizeof(msg), "the body is not valid JSON (error at byte %zu of "
			    "%zu)", t->body.data && end ? (size_t)(end - t->body.data) : 0,
			    t->body.len);
		}
		for (i = 0; root != NULL && i < st->nvalues; i++) {
			if (jsonpath_eval(st->values[i].path, root, &v, verr, sizeof(verr)) == 0) {
				emit1(st, em, &st->values[i].metric, nl, v);
				continue;
			}
			if (kind == FK_OK) {
				kind = FK_VALUE;
				code = (long)i;
				snprintf(msg, sizeof(msg), "value %s (path %s): %s",
				    st->values[i].name, st->values[i].path_text, verr);
			}
		}
		cJSON_Delete(root);
	}
	emit1(st, em, &m_up, nl, kind == FK_OK ? 1 : 0);
	emit1(st, em, &m_status, nl, (double)status);
	emit1(st, em, &m_duration, nl, info_time(t->h, CURLINFO_TOTAL_TIME_T));
	if (t->rc == CURLE_OK) {
		http_phases(info_time(t->h, CURLINFO_NAMELOOKUP_TIME_T),
		    info_time(t->h, CURLINFO_CONNECT_TIME_T),
		    info_time(t->h, CURLINFO_APPCONNECT_TIME_T),
		    info_time(t->h, CURLINFO_STARTTRANSFER_TIME_T),
		    info_time(t->h, CURLINFO_TOTAL_TIME_T), ph);
		st->labels[nl].name = "phase";
		for (i = 0; i < 5; i++) {
			st->labels[nl].value = phase_names[i];
			emit1(st, em, &m_phase, nl + 1, ph[i]);
		}
		if (curl_easy_getinfo(t->h, CURLINFO_SIZE_DOWNLOAD_T, &size) == CURLE_OK)
			emit1(st, em, &m_size, nl, (double)size);
		if (t->https) {
			read_cert_expiry(t);
			if (t->have_expiry)
				emit1(st, em, &m_expiry, nl, t->not_after - st->host->now());
		}
	}
	st->host->log(REEVE_LOG_DEBUG, "%s: status %ld, %s, %.3f s", t->label, status,
	    kind == FK_OK ? "up" : "down", info_time(t->h, CURLINFO_TOTAL_TIME_T));
	note_state(st, t, kind, code, msg, sizeof(msg));
}

/* Collect the finished transfers; returns how many finished. */
static size_t
drain(struct http_state *st)
{
	struct target *t;
	CURLMsg *m;
	size_t n = 0;
	int left;

	while ((m = curl_multi_info_read(st->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t) != CURLE_OK ||
		    t == NULL)
			continue;
		t->rc = m->data.result;	/* read before the handle is removed */
		t->done = 1;
		t->active = 0;
		curl_multi_remove_handle(st->multi, t->h);
		n++;
	}
	return n;
}

/*
 * Start the next waiting transfers until max_connections run at once. The probe queues
 * transfers itself instead of leaving that to CURLMOPT_MAX_TOTAL_CONNECTIONS: with libcurl
 * 7.88 and reused easy handles, transfers waiting in libcurl's own queue failed with
 * "Connection timed out after 0 milliseconds" once they got a connection (200 targets, 16
 * connections: about 30 failed per round). Started here, a request's timeout also counts
 * from when it really starts.
 */
static void
start_more(struct http_state *st, size_t *next, size_t *inflight)
{
	CURLMcode mc;

	while (*next < st->ntargets && *inflight < st->max_connections) {
		struct target *t = &st->targets[(*next)++];

		if ((mc = curl_multi_add_handle(st->multi, t->h)) != CURLM_OK) {
			t->rc = CURLE_FAILED_INIT;
			t->done = 1;
			snprintf(t->errbuf, sizeof(t->errbuf), "cannot start the request: %s",
			    curl_multi_strerror(mc));
			continue;
		}
		t->active = 1;
		(*inflight)++;
	}
}

static int
http_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct http_state *st = state;
	double deadline, left;
	CURLMcode mc = CURLM_OK;
	size_t i, next = 0, inflight = 0;
	int running = 0;

	for (i = 0; i < st->ntargets; i++) {
		struct target *t = &st->targets[i];

		httpclient_body_reset(&t->body);
		t->done = 0;
		t->errbuf[0] = '\0';
		t->guard.denied[0] = '\0';
	}
	/* every transfer has its own timeout; this bounds the round even if one did not hold,
	 * and when slow targets keep every connection busy */
	deadline = mono() + st->request_timeout + 0.2;
	start_more(st, &next, &inflight);
	for (;;) {
		if ((mc = curl_multi_perform(st->multi, &running)) != CURLM_OK) {
			snprintf(err, errlen, "curl_multi_perform: %s", curl_multi_strerror(mc));
			break;
		}
		inflight -= drain(st);
		if ((left = deadline - mono()) <= 0)
			break;
		if (next < st->ntargets && inflight < st->max_connections) {
			start_more(st, &next, &inflight);
			continue;
		}
		if (running == 0 && inflight == 0)
			break;
		if ((mc = curl_multi_poll(st->multi, NULL, 0, left > 1 ? 1000 : (int)(left * 1000) + 1,
		    NULL)) != CURLM_OK) {
			snprintf(err, errlen, "curl_multi_poll: %s", curl_multi_strerror(mc));
			break;
		}
	}
	drain(st);
	for (i = 0; i < st->ntargets; i++) {
		struct target *t = &st->targets[i];

		if (t->active) {
			curl_multi_remove_handle(st->multi, t->h);
			t->active = 0;
			t->rc = CURLE_OPERATION_TIMEDOUT;
			snprintf(t->errbuf, sizeof(t->errbuf), "no answer within request_timeout "
			    "(%.3f s)", st->request_timeout);
		} else if (!t->done) {
			t->rc = CURLE_OPERATION_TIMEDOUT;
			snprintf(t->errbuf, sizeof(t->errbuf), "not started within request_timeout "
			    "(%.3f s): all %lu max_connections were busy", st->request_timeout,
			    st->max_connections);
		}
		finish_target(st, t, em);
	}
	return mc == CURLM_OK ? 0 : -1;
}

/* ---- configuration ----------------------------------------------------------------------- */

static void
http_destroy(void *state)
{
	struct http_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->ntargets; i++) {
		struct target *t = &st->targets[i];

		if (t->h != NULL) {
			if (t->active)
				curl_multi_remove_handle(st->multi, t->h);
			curl_easy_cleanup(t->h);
		}
		free(t->url);
		free(t->label);
		httpclient_body_free(&t->body);
	}
	free(st->targets);
	if (st->multi != NULL)
		curl_multi_cleanup(st->multi);
	for (i = 0; i < st->nvalues; i++) {
		free(st->values[i].name);
		free(st->values[i].path_text);
		jsonpath_free(st->values[i].path);
	}
	free(st->values);
	for (i = 0; i < st->nlabels; i++) {
		free((char *)st->labels[i].name);
		free((char *)st->labels[i].value);
	}
	for (i = 0; i < st->nsecrets; i++) {
		explicit_bzero(st->secrets[i], strlen(st->secrets[i]));
		free(st->secrets[i]);
	}
	free(st->secrets);
	curl_slist_free_all(st->headers);
	if (st->has_re)
		regfree(&st->re);
	free(st->body);
	free(st->expect_text);
	free(st->ca_file);
	free(st->user_agent);
	httpclient_nets_free(&st->allow);
	httpclient_nets_free(&st->deny);
	free(st->proxy);
	if (st->curl_inited)
		curl_global_cleanup();
	free(st);
}

/* The last value of key, or NULL. */
static const char *
opt_last(struct http_state *st, struct reeve_probe_config *cfg, const char *key)
{
	const char *v, *last = NULL;
	size_t i;

	for (i = 0; (v = st->host->opt_get(cfg, key, i)) != NULL; i++)
		last = v;
	return last;
}

static int
add_secret(struct http_state *st, const char *s, size_t len)
{
	char **n;

	if (len == 0)
		return 0;
	if ((n = realloc(st->secrets, (st->nsecrets + 1) * sizeof(*n))) == NULL)
		return -1;
	st->secrets = n;
	if ((n[st->nsecrets] = strndup(s, len)) == NULL)
		return -1;
	st->nsecrets++;
	return 0;
}

/* Read a whole small file into a new NUL-terminated buffer; NULL with errno set. */
static char *
read_file(const char *path, size_t max, size_t *len)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(max + 2)) == NULL) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
valid_name(const char *s, int colon)
{
	if (!(isalpha((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
			return 0;
	return 1;
}

/* Add "Name: value" to the header list; the value is a secret and never reported. */
static int
add_header(struct http_state *st, struct reeve_probe_config *cfg, const char *key,
    const char *name, const char *value, size_t vlen)
{
	char err[256];

	if (httpclient_add_header(&st->headers, name, value, vlen, err, sizeof(err)) == -1) {
		st->host->config_error(cfg, key, "%s", err);
		return -1;
	}
	if (add_secret(st, value, vlen) == -1) {
		st->host->config_error(cfg, key, "out of memory");
		return -1;
	}
	return 0;
}

/* The header_file.NAME, header_env.NAME and header.NAME of one key. */
static int
conf_header(struct http_state *st, struct reeve_probe_config *cfg, const char *key,
    const char *name, const char *v, int from)
{
	const struct reeve_host *host = st->host;
	const char *env;
	size_t len;
	char *buf;
	int rc;

	if (!httpclient_header_name_ok(name)) {
		host->config_error(cfg, key, "'%s' is not a valid header name", name);
		return -1;
	}
	if (from == 0)
		return add_header(st, cfg, key, name, v, strlen(v));
	if (from == 2) {
		if ((env = getenv(v)) == NULL) {
			host->config_error(cfg, key, "environment variable %s is not set", v);
			return -1;
		}
		return add_header(st, cfg, key, name, env, strlen(env));
	}
	if ((buf = read_file(v, HTTP_MAX_HEADER_FILE, &len)) == NULL) {
		host->config_error(cfg, key, "cannot read %s: %s", v, errno == EFBIG ?
		    "larger than 8 KiB" : strerror(errno));
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	rc = add_header(st, cfg, key, name, buf, len);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

static int
conf_value(struct http_state *st, struct reeve_probe_config *cfg, const char *key,
    const char *name, const char *v)
{
	const struct reeve_host *host = st->host;
	struct value *val;
	char err[256], canon[JSONPATH_MAX_LEN * 2 + 8];
	struct jsonpath *p;
	size_t i;

	if (!valid_name(name, 1)) {
		host->config_error(cfg, key, "'%s' is not a valid metric name "
		    "([a-zA-Z_:][a-zA-Z0-9_:]*)", name);
		return -1;
	}
	if (strncmp(name, "http_", 5) == 0 || strncmp(name, "reeve_", 6) == 0) {
		host->config_error(cfg, key, "metric names starting with http_ or reeve_ are "
		    "the probe's and the daemon's own");
		return -1;
	}
	for (i = 0; i < st->nvalues; i++)
		if (strcmp(st->values[i].name, name) == 0) {
			host->config_error(cfg, key, "value %s is defined twice", name);
			return -1;
		}
	if ((p = jsonpath_new(v, err, sizeof(err))) == NULL) {
		host->config_error(cfg, key, "bad JSON path '%s': %s", v, err);
		return -1;
	}
	jsonpath_format(p, canon, sizeof(canon));
	val = &st->values[st->nvalues];
	val->path = p;
	if ((val->name = strdup(name)) == NULL || (val->path_text = strdup(canon)) == NULL) {
		free(val->name);
		jsonpath_free(p);
		host->config_error(cfg, key, "out of memory");
		return -1;
	}
	val->metric.name = val->name;
	val->metric.help = "A value read from the JSON body by the http probe.";
	val->metric.type = REEVE_GAUGE;
	st->nvalues++;
	return 0;
}

static int
conf_label(struct http_state *st, struct reeve_probe_config *cfg, const char *key,
    const char *name, const char *v)
{
	const struct reeve_host *host = st->host;
	size_t i;

	if (!valid_name(name, 0) || strncmp(name, "__", 2) == 0) {
		host->config_error(cfg, key, "'%s' is not a valid label name "
		    "([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", name);
		return -1;
	}
	if (strcmp(name, "target") == 0 || strcmp(name, "phase") == 0) {
		host->config_error(cfg, key, "label %s is set by the probe", name);
		return -1;
	}
	for (i = 0; i < st->nlabels; i++)
		if (strcmp(st->labels[i].name, name) == 0) {
			host->config_error(cfg, key, "label %s is defined twice", name);
			return -1;
		}
	if (st->nlabels == HTTP_MAX_LABELS) {
		host->config_error(cfg, key, "more than %d labels", HTTP_MAX_LABELS);
		return -1;
	}
	if ((st->labels[st->nlabels].name = strdup(name)) == NULL ||
	    (st->labels[st->nlabels].value = strdup(v)) == NULL) {
		free((char *)st->labels[st->nlabels].name);
		host->config_error(cfg, key, "out of memory");
		return -1;
	}
	st->nlabels++;
	return 0;
}

/* Every namespaced key (header.NAME, header_file.NAME, header_env.NAME, value.NAME, labels.NAME). */
static int
conf_namespaced(struct http_state *st, struct reeve_probe_config *cfg)
{
	static const char *const prefix[] = {
		"header.", "header_file.", "header_env.", "value.", "labels."
	};
	const struct reeve_host *host = st->host;
	const char *key, *name, *v;
	size_t i, j, k, nvalues = 0;
	int rc = 0, seen;

	if (host->size < offsetof(struct reeve_host, opt_key) + sizeof(host->opt_key) ||
	    host->opt_key == NULL)
		return 0;	/* an older daemon: it reports these keys as unknown */
	for (i = 0; (key = host->opt_key(cfg, i)) != NULL; i++)
		if (strncmp(key, "value.", 6) == 0)
			nvalues++;
	if (nvalues > 0 && (st->values = calloc(nvalues, sizeof(*st->values))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	for (i = 0; (key = host->opt_key(cfg, i)) != NULL; i++) {
		for (k = 0; k < 5; k++)
			if (strncmp(key, prefix[k], strlen(prefix[k])) == 0)
				break;
		if (k == 5)
			continue;
		/* handle each key once, at its first occurrence */
		for (j = 0, seen = 0; j < i && !seen; j++)
			seen = strcmp(host->opt_key(cfg, j), key) == 0;
		if (seen)
			continue;
		name = key + strlen(prefix[k]);
		v = host->opt_get(cfg, key, 0);
		if (host->opt_get(cfg, key, 1) != NULL) {
			host->config_error(cfg, key, "set more than once");
			rc = -1;
			continue;
		}
		if (*name == '\0') {
			host->config_error(cfg, key, "a name must follow '%s'", prefix[k]);
			rc = -1;
			continue;
		}
		if (k <= 2 && conf_header(st, cfg, key, name, v, (int)k) == -1)
			rc = -1;
		else if (k == 3 && conf_value(st, cfg, key, name, v) == -1)
			rc = -1;
		else if (k == 4 && conf_label(st, cfg, key, name, v) == -1)
			rc = -1;
	}
	return rc;
}

static int
conf_targets(struct http_state *st, struct reeve_probe_config *cfg)
{
	const struct reeve_host *host = st->host;
	const char *v;
	char err[256], *user;
	size_t i, j, n;
	CURLU *u;
	int rc = 0;

	for (n = 0; host->opt_get(cfg, "url", n) != NULL; n++)
		;
	if (n == 0) {
		host->config_error(cfg, NULL, "no url: give at least one url = http(s)://...");
		return -1;
	}
	if (n > HTTP_MAX_TARGETS) {
		host->config_error(cfg, "url", "more than %d urls", HTTP_MAX_TARGETS);
		return -1;
	}
	if ((st->targets = calloc(n, sizeof(*st->targets))) == NULL) {
		host->config_error(cfg, "url", "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct target *t = &st->targets[st->ntargets];

		v = host->opt_get(cfg, "url", i);
		/* errors name the url by its number: the text may hold credentials */
		if ((t->label = httpclient_url_target(v, 1, err, sizeof(err))) == NULL) {
			host->config_error(cfg, "url", "url #%zu of %zu: %s", i + 1, n, err);
			rc = -1;
			continue;
		}
		for (j = 0; j < st->ntargets; j++)
			if (strcmp(st->targets[j].label, t->label) == 0) {
				host->config_error(cfg, "url", "url #%zu of %zu (%s) is listed twice",
				    i + 1, n, t->label);
				rc = -1;
				break;
			}
		if ((t->url = strdup(v)) == NULL) {
			host->config_error(cfg, "url", "out of memory");
			rc = -1;
		}
		st->ntargets++;
		t->st = st;
		t->https = strncmp(t->label, "https:", 6) == 0;
		t->last_kind = FK_NONE;
		/* the user name and password are secrets too */
		if ((u = curl_url()) != NULL && curl_url_set(u, CURLUPART_URL, v, 0) == CURLUE_OK)
			for (j = 0; j < 4; j++) {
				if (curl_url_get(u, j < 2 ? CURLUPART_USER : CURLUPART_PASSWORD, &user,
				    j % 2 ? CURLU_URLDECODE : 0) != CURLUE_OK)
					continue;
				if (add_secret(st, user, strlen(user)) == -1) {
					host->config_error(cfg, "url", "out of memory");
					rc = -1;
				}
				curl_free(user);
			}
		curl_url_cleanup(u);
	}
	return rc;
}

static int
conf_scalars(struct http_state *st, struct reeve_probe_config *cfg)
{
	const struct reeve_host *host = st->host;
	const char *v;
	char err[256];
	size_t i, len;
	int rc = 0, r;
	double probe_timeout = 0;
	uint64_t max_body;

	st->method = "GET";
	if ((v = opt_last(st, cfg, "method")) != NULL) {
		for (i = 0; methods[i] != NULL && strcmp(methods[i], v) != 0; i++)
			;
		if (methods[i] == NULL) {
			host->config_error(cfg, "method", "unknown method '%s' (use GET, HEAD, POST, "
			    "PUT, PATCH, DELETE or OPTIONS)", v);
			rc = -1;
		} else
			st->method = methods[i];
	}
	v = opt_last(st, cfg, "body");
	if ((v != NULL) + (opt_last(st, cfg, "body_file") != NULL) > 1) {
		host->config_error(cfg, "body_file", "give body or body_file, not both");
		rc = -1;
	} else if (v != NULL) {
		if ((st->body = strdup(v)) == NULL)
			rc = -1;
		st->body_len = strlen(v);
	} else if ((v = opt_last(st, cfg, "body_file")) != NULL) {
		if ((st->body = read_file(v, HTTP_MAX_BODY_FILE, &len)) == NULL) {
			host->config_error(cfg, "body_file", "cannot read %s: %s", v,
			    errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
			rc = -1;
		}
		st->body_len = len;
	}
	if (st->body != NULL && (strcmp(st->method, "GET") == 0 ||
	    strcmp(st->method, "HEAD") == 0)) {
		host->config_error(cfg, "method", "a request body needs a method such as POST or "
		    "PUT, not %s", st->method);
		rc = -1;
	}
	v = opt_last(st, cfg, "expect_status");
	if ((st->expect_text = strdup(v != NULL ? v : "200-399")) == NULL ||
	    parse_expect_status(st->expect_text, st->ranges, HTTP_MAX_RANGES, &st->nranges, err,
	    sizeof(err)) == -1) {
		host->config_error(cfg, "expect_status", "%s", err);
		rc = -1;
	}
	if ((v = opt_last(st, cfg, "body_regex")) != NULL) {
		if ((r = regcomp(&st->re, v, REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(r, &st->re, err, sizeof(err));
			host->config_error(cfg, "body_regex", "invalid regular expression '%s': %s",
			    v, err);
			rc = -1;
		} else
			st->has_re = 1;
	}
	/* by default the round ends (with its 0.2 s of slack) before the probe's timeout */
	st->request_timeout = HTTP_DEFAULT_TIMEOUT;
	if (host->opt_duration(cfg, "timeout", &probe_timeout) == 0 && probe_timeout > 0)
		st->request_timeout = probe_timeout * 0.9 > 0.3 ? probe_timeout * 0.9 - 0.2 : 0.1;
	if (host->opt_duration(cfg, "request_timeout", &st->request_timeout) == -1)
		rc = -1;
	else if (st->request_timeout < 0.001 || st->request_timeout > 3600) {
		host->config_error(cfg, "request_timeout", "must be from 1ms to 1h");
		rc = -1;
	}
	st->connect_timeout = st->request_timeout;
	if (host->opt_duration(cfg, "connect_timeout", &st->connect_timeout) == -1)
		rc = -1;
	else if (st->connect_timeout < 0.001 || st->connect_timeout > 3600) {
		host->config_error(cfg, "connect_timeout", "must be from 1ms to 1h");
		rc = -1;
	}
	st->tls_verify = 1;
	if (host->opt_bool(cfg, "tls_verify", &st->tls_verify) == -1 ||
	    host->opt_bool(cfg, "follow_redirects", &st->follow) == -1)
		rc = -1;
	st->max_redirects = 10;
	st->max_connections = 100;
	if (host->opt_uint(cfg, "max_redirects", 0, 100, &st->max_redirects) == -1 ||
	    host->opt_uint(cfg, "max_connections", 1, 10000, &st->max_connections) == -1)
		rc = -1;
	max_body = HTTP_DEFAULT_MAX_BODY;
	if (host->opt_size(cfg, "max_body", &max_body) == -1)
		rc = -1;
	else if (max_body < 1 || max_body > 256ul << 20) {
		host->config_error(cfg, "max_body", "must be from 1B to 256MiB (e.g. 64KiB, 1MiB)");
		rc = -1;
	}
	st->max_body = (unsigned long)max_body;
	if ((v = opt_last(st, cfg, "ca_file")) != NULL) {
		if (access(v, R_OK) == -1) {
			host->config_error(cfg, "ca_file", "cannot read %s: %s", v, strerror(errno));
			rc = -1;
		} else if ((st->ca_file = strdup(v)) == NULL)
			rc = -1;
	}
	v = opt_last(st, cfg, "user_agent");
	if ((st->user_agent = strdup(v != NULL ? v : HTTP_DEFAULT_UA)) == NULL)
		rc = -1;
	for (int k = 0; k < 2; k++) {
		const char *key = k == 0 ? "allow_networks" : "deny_networks";

		if ((v = opt_last(st, cfg, key)) != NULL &&
		    httpclient_nets_parse(v, k == 0 ? &st->allow : &st->deny, err, sizeof(err)) == -1) {
			host->config_error(cfg, key, "%s", err);
			rc = -1;
		}
	}
	if ((v = opt_last(st, cfg, "proxy")) != NULL) {
		/* may hold credentials: never reported */
		if ((st->proxy = strdup(v)) == NULL || add_secret(st, v, strlen(v)) == -1)
			rc = -1;
	}
	return rc;
}

/* Create the easy handle of a target with every option of the instance. */
static int
setup_handle(struct http_state *st, struct target *t)
{
	CURL *h;
	int bad = 0;

	if ((t->h = h = curl_easy_init()) == NULL)
		return -1;
	/* a body nothing reads is dropped as it arrives */
	t->body.max = st->need_body ? st->max_body : 0;
	t->body.drop_excess = !st->need_body;
#define SET(opt, val) bad |= curl_easy_setopt(h, opt, val) != CURLE_OK
	SET(CURLOPT_URL, t->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_PRIVATE, (char *)t);
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)(st->request_timeout * 1000));
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(st->connect_timeout * 1000));
	SET(CURLOPT_WRITEFUNCTION, httpclient_body_write);
	SET(CURLOPT_WRITEDATA, &t->body);
	SET(CURLOPT_USERAGENT, st->user_agent);
	t->guard.allow = &st->allow;
	t->guard.deny = &st->deny;
	bad |= httpclient_guard_set(h, &t->guard) == -1;
	SET(CURLOPT_FOLLOWLOCATION, (long)st->follow);
	SET(CURLOPT_MAXREDIRS, (long)st->max_redirects);
	SET(CURLOPT_SSL_VERIFYPEER, (long)st->tls_verify);
	SET(CURLOPT_SSL_VERIFYHOST, st->tls_verify ? 2L : 0L);
	/* the environment's http_proxy must not redirect a daemon's probes */
	SET(CURLOPT_PROXY, st->proxy != NULL ? st->proxy : "");
	if (st->headers != NULL)
		SET(CURLOPT_HTTPHEADER, st->headers);
	if (st->ca_file != NULL)
		SET(CURLOPT_CAINFO, st->ca_file);
	if (t->https)
		SET(CURLOPT_CERTINFO, 1L);
	if (strcmp(st->method, "HEAD") == 0)
		SET(CURLOPT_NOBODY, 1L);
	else if (strcmp(st->method, "GET") != 0) {
		if (st->body != NULL) {
			/* not copied: the body lives in the state until destroy */
			SET(CURLOPT_POSTFIELDS, st->body);
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st->body_len);
		}
		if (strcmp(st->method, "POST") == 0) {
			if (st->body == NULL) {
				SET(CURLOPT_POSTFIELDS, "");
				SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
			}
		} else
			SET(CURLOPT_CUSTOMREQUEST, st->method);
	}
#undef SET
	return bad ? -1 : 0;
}

static int
http_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct http_state *st;
	size_t i;
	int rc = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		host->config_error(cfg, NULL, "curl_global_init failed");
		free(st);
		return -1;
	}
	st->curl_inited = 1;
	if (conf_scalars(st, cfg) == -1)
		rc = -1;
	if (conf_namespaced(st, cfg) == -1)
		rc = -1;
	if (conf_targets(st, cfg) == -1)
		rc = -1;
	st->need_body = st->has_re || st->nvalues > 0;
	if (st->need_body && strcmp(st->method, "HEAD") == 0) {
		host->config_error(cfg, "method", "HEAD has no body to check with body_regex or "
		    "value.NAME");
		rc = -1;
	}
	if (rc == 0) {
		/* at most max_connections transfers run at once (start_more), so they need no
		 * more connections than that; a bigger cache would only hold idle ones */
		if ((st->multi = curl_multi_init()) == NULL ||
		    curl_multi_setopt(st->multi, CURLMOPT_MAXCONNECTS,
		    (long)st->max_connections) != CURLM_OK) {
			host->config_error(cfg, NULL, "cannot create a curl multi handle");
			rc = -1;
		}
		for (i = 0; rc == 0 && i < st->ntargets; i++)
			if (setup_handle(st, &st->targets[i]) == -1) {
				host->config_error(cfg, "url", "cannot set up a curl handle for %s",
				    st->targets[i].label);
				rc = -1;
			}
	}
	if (rc == -1) {
		http_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "http",
	.description = "HTTP(S) targets at once (libcurl multi): up, status, phases, TLS "
	    "expiry, JSON values",
	.init = http_init,
	.collect = http_collect,
	.destroy = http_destroy,
};

/* reeve_probe_entry: the http probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
