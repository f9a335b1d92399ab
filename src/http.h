/* http.h: the HTTP endpoint (libmicrohttpd): /metrics, /healthz, /readyz, the API's POSTs. */
#ifndef REEVE_HTTP_H
#define REEVE_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct api;
struct registry;
struct http;

struct http_params {
	const char *listen;         /* "host:port" or "[v6]:port" */
	const char *token;          /* bearer token for /metrics, NULL = open */
	unsigned timeout;           /* seconds of inactivity */
	unsigned max_connections, max_per_ip, threads;
	size_t memory_limit;        /* per connection */
	struct api *api;            /* /api/v1/push and /api/v1/events, NULL = none; not owned */
	size_t max_body;            /* cap on the body of those POSTs */
	/* /readyz answers 200 when this returns 1 */
	int (*ready)(void *arg);
	void *ready_arg;
};

/* Start serving. Returns NULL with a message in err when the address cannot be bound. */
struct http *http_new(const struct http_params *p, struct registry *r, char *err, size_t errlen);

/* Change the bearer token (NULL = none) of a running server. Thread-safe. */
void http_set_token(struct http *h, const char *token);

/* Requests served, by outcome, for reeve's own metrics. */
struct http_stats {
	unsigned long long requests, errors, unauthorized, renders;
};
void http_get_stats(struct http *h, struct http_stats *st);

/* Stop serving and free; NULL is a no-op. */
void http_free(struct http *h);

#endif /* REEVE_HTTP_H */
