/* scrape.c: the scrape probe: reads another Prometheus text endpoint (libcurl, strict parser). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <reeve-probe.h>

#include "httpclient.h"

#define SCRAPE_MAX_LABELS 16

static const struct reeve_metric m_up = {
	"scrape_up", "1 when the last scrape of the target was read and parsed, else 0.", REEVE_GAUGE
};
static const struct reeve_metric m_duration = {
	"scrape_duration_seconds", "How long the last scrape of the target took.", REEVE_GAUGE
};
static const struct reeve_metric m_samples = {
	"scrape_samples", "Samples in the last accepted scrape of the target.", REEVE_GAUGE
};
static const struct reeve_metric m_size = {
	"scrape_response_size_bytes", "Size of the last scrape's body (after decompression).",
	REEVE_GAUGE
};

struct scrape_state {
	const struct reeve_host *host;
	CURL *curl;
	struct curl_slist *headers;
	char *url;
	char *target;                 /* url without credentials, for labels and messages */
	char *prefix;
	struct reeve_label labels[SCRAPE_MAX_LABELS + 1]; /* labels.* and target */
	char *lnames[SCRAPE_MAX_LABELS], *lvalues[SCRAPE_MAX_LABELS];
	size_t nlabels;
	uint64_t max_size;
	unsigned long max_samples, max_labels;
	struct httpclient_body body;
	char errbuf[CURL_ERROR_SIZE];
};

static void
scrape_destroy(void *state)
{
	struct scrape_state *st = state;

	if (st == NULL)
		return;
	if (st->curl)
		curl_easy_cleanup(st->curl);
	curl_slist_free_all(st->headers);
	for (size_t i = 0; i < st->nlabels; i++) {
		free(st->lnames[i]);
		free(st->lvalues[i]);
	}
	free(st->url);
	free(st->target);
	free(st->prefix);
	httpclient_body_free(&st->body);
	free(st);
}

static int
valid_name(const char *s, int colon)
{
	if (!(isalpha((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
			return 0;
	return 1;
}

/* Read a whole small file (a bearer token) without its trailing newline; NULL on failure. */
static char *
read_secret(const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;

	if (f == NULL) {
		snprintf(why, whylen, "cannot open %s: %m", path);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0 || strpbrk(buf, "\r\n") != NULL) {
		snprintf(why, whylen, "%s must hold one line", path);
		return NULL;
	}
	return strdup(buf);
}

/* Option handling of init; returns 0 or -1 after a config error. */
static int
configure(struct reeve_probe_config *cfg, const struct reeve_host *h, struct scrape_state *st)
{
	const char *url = h->opt_get(cfg, "url", 0), *ca = h->opt_get(cfg, "ca_file", 0), *v, *key;
	double timeout = 10, connect_timeout = 0, probe_timeout = 0;
	int verify = 1, rc = 0;
	char why[512];

	if (url == NULL) {
		h->config_error(cfg, NULL, "a scrape probe needs url = http(s)://host:port/metrics");
		return -1;
	}
	if (h->opt_get(cfg, "url", 1) != NULL) {
		h->config_error(cfg, "url", "one url per scrape probe: add a [probe] section per target");
		return -1;
	}
	if ((st->target = httpclient_url_target(url, 1, why, sizeof(why))) == NULL) {
		h->config_error(cfg, "url", "%s", why);
		rc = -1;
	}
	st->url = strdup(url);
	st->max_size = 10UL << 20;
	st->max_samples = 100000;
	st->max_labels = 32;
	if (h->opt_size(cfg, "max_size", &st->max_size) == -1)
		rc = -1;
	else if (st->max_size < 1024 || st->max_size > (1ULL << 30)) {
		h->config_error(cfg, "max_size", "must be from 1KiB to 1GiB");
		rc = -1;
	}
	st->body.max = (size_t)st->max_size;
	if (h->opt_uint(cfg, "max_samples", 1, 10000000, &st->max_samples) == -1 ||
	    h->opt_uint(cfg, "max_labels", 1, 256, &st->max_labels) == -1 ||
	    h->opt_bool(cfg, "tls_verify", &verify) == -1 ||
	    h->opt_duration(cfg, "connect_timeout", &connect_timeout) == -1)
		rc = -1;
	/* the request must end before the daemon abandons collect() */
	h->opt_duration(cfg, "timeout", &probe_timeout);
	if (probe_timeout > 0)
		timeout = probe_timeout * 0.9;
	if (h->opt_duration(cfg, "request_timeout", &timeout) == -1)
		rc = -1;
	if ((v = h->opt_get(cfg, "prefix", 0)) != NULL) {
		if (!valid_name(v, 1)) {
			h->config_error(cfg, "prefix", "\"%s\" is not the start of a metric name", v);
			rc = -1;
		}
		st->prefix = strdup(v);
	}
	for (size_t i = 0; (key = h->opt_key(cfg, i)) != NULL; i++) {
		if (strncmp(key, "labels.", 7) != 0)
			continue;
		v = h->opt_get(cfg, key, 0);
		if (!valid_name(key + 7, 0) || strncmp(key + 7, "__", 2) == 0) {
			h->config_error(cfg, key, "\"%s\" is not a label name", key + 7);
			rc = -1;
		} else if (strcmp(key + 7, "target") == 0) {
			h->config_error(cfg, key, "the target label is set by the probe");
			rc = -1;
		} else if (st->nlabels == SCRAPE_MAX_LABELS) {
			h->config_error(cfg, key, "at most %d labels", SCRAPE_MAX_LABELS);
			rc = -1;
		} else {
			st->lnames[st->nlabels] = strdup(key + 7);
			st->lvalues[st->nlabels++] = strdup(v);
		}
	}
	if ((v = h->opt_get(cfg, "bearer_token_file", 0)) != NULL) {
		char *tok = read_secret(v, why, sizeof(why)), *hdr;

		if (tok == NULL) {
			h->config_error(cfg, "bearer_token_file", "%s", why);
			rc = -1;
		} else {
			size_t n = strlen(tok) + 32;

			hdr = malloc(n);
			snprintf(hdr, n, "Authorization: Bearer %s", tok);
			st->headers = curl_slist_append(st->headers, hdr);
			memset(hdr, 0, n);
			memset(tok, 0, strlen(tok));
			free(hdr);
			free(tok);
		}
	}
	if (rc == -1)
		return -1;
	st->curl = curl_easy_init();
	if (st->curl == NULL) {
		h->config_error(cfg, NULL, "cannot create a curl handle");
		return -1;
	}
	if (ca != NULL)
		curl_easy_setopt(st->curl, CURLOPT_CAINFO, ca);
	st->headers = curl_slist_append(st->headers,
	    "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1");
	curl_easy_setopt(st->curl, CURLOPT_URL, st->url);
	curl_easy_setopt(st->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(st->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(st->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(st->curl, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	if (connect_timeout > 0)
		curl_easy_setopt(st->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_timeout * 1000));
	curl_easy_setopt(st->curl, CURLOPT_SSL_VERIFYPEER, (long)verify);
	curl_easy_setopt(st->curl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	curl_easy_setopt(st->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(st->curl, CURLOPT_HTTPHEADER, st->headers);
	curl_easy_setopt(st->curl, CURLOPT_USERAGENT, "reeve-scrape/1");
	curl_easy_setopt(st->curl, CURLOPT_WRITEFUNCTION, httpclient_body_write);
	curl_easy_setopt(st->curl, CURLOPT_WRITEDATA, &st->body);
	curl_easy_setopt(st->curl, CURLOPT_ERRORBUFFER, st->errbuf);
	return rc;
}

static int
scrape_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct scrape_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	st->host = host;
	if (host->size < offsetof(struct reeve_host, opt_size) + sizeof(host->opt_size)) {
		host->config_error(cfg, NULL, "this reeve is too old for the scrape probe");
		free(st);
		return -1;
	}
	if (configure(cfg, host, st) == -1) {
		scrape_destroy(st);
		return -1;
	}
	for (size_t i = 0; i < st->nlabels; i++) {
		st->labels[i].name = st->lnames[i];
		st->labels[i].value = st->lvalues[i];
	}
	*state = st;
	return 0;
}

/* The probe's own samples about the scrape: labels.* and target. */
static void
emit_self(struct scrape_state *st, struct reeve_emitter *em, const struct reeve_metric *m,
    double v)
{
	st->labels[st->nlabels].name = "target";
	st->labels[st->nlabels].value = st->target;
	st->host->emit(em, m, st->labels, st->nlabels + 1, v);
}

static int
scrape_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct scrape_state *st = state;
	struct reeve_text_opts o = { sizeof(o), st->prefix, st->labels, st->nlabels,
	    st->max_samples, st->max_labels };
	double t0 = st->host->now(), took;
	long code = 0, n;
	char perr[300];
	CURLcode rc;

	httpclient_body_reset(&st->body);
	rc = curl_easy_perform(st->curl);
	took = st->host->now() - t0;
	emit_self(st, em, &m_duration, took);
	if (rc != CURLE_OK) {
		if (st->body.over)
			snprintf(err, errlen, "%s: the answer is larger than max_size (%llu bytes)",
			    st->target, (unsigned long long)st->max_size);
		else
			snprintf(err, errlen, "%s: %s", st->target,
			    st->errbuf[0] ? st->errbuf : curl_easy_strerror(rc));
		goto fail;
	}
	curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(err, errlen, "%s: HTTP status %ld", st->target, code);
		goto fail;
	}
	emit_self(st, em, &m_size, (double)st->body.len);
	n = st->host->emit_text(em, st->body.data ? st->body.data : "", st->body.len, &o, perr,
	    sizeof(perr));
	if (n < 0) {
		snprintf(err, errlen, "%s: rejected: %s", st->target, perr);
		goto fail;
	}
	emit_self(st, em, &m_samples, (double)n);
	emit_self(st, em, &m_up, 1);
	return 0;
fail:
	emit_self(st, em, &m_up, 0);
	return -1;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "scrape",
	.description = "samples of another Prometheus text endpoint",
	.init = scrape_init,
	.collect = scrape_collect,
	.destroy = scrape_destroy,
};

/* reeve_probe_entry: the scrape probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
