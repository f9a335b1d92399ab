/* http.h: the HTTP endpoint (libmicrohttpd): /metrics, /healthz, /readyz, the API. */
#ifndef REEVE_HTTP_H
#define REEVE_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct api;
struct auth;
struct registry;
struct ruler;
struct status;
struct http;
struct tls_cred;

struct http_params {
	const char *listen;         /* "host:port" or "[v6]:port", for messages */
	int fd, ipv6;               /* http_listen's socket (taken over) and its family */
	struct auth *auth;          /* tokens (auth.h); http_new takes it over, even on failure */
	unsigned timeout;           /* seconds of inactivity */
	unsigned max_connections, max_per_ip, threads;
	size_t memory_limit;        /* per connection */
	struct api *api;            /* /api/v1/push and /api/v1/events, NULL = none; not owned */
	size_t push_max_body;       /* cap on the body of those POSTs */
	size_t max_body;            /* cap on the body of a POST to the other endpoints */
	struct tls_cred *tls;       /* serve HTTPS with it (tls.h; taken over); NULL: plain HTTP */
	struct ruler *ruler;        /* /api/v1/rules, /alerts, /alerts/history; NULL = none; not owned */
	struct silences *silences;  /* /api/v1/silences; NULL = none; not owned */
	struct dispatch *dispatch;  /* /api/v1/alerts/ID/ack finds the alert here; not owned */
	struct reporter *reporter;  /* /api/v1/reports, /reports/NAME/FILE; NULL = none; not owned */
	struct promapi *promapi;    /* /api/v1/query, query_range, series, labels...; NULL = none; not owned */
	struct status *status;      /* the status page at /; NULL = none; not owned */
	/* /readyz answers 200 when this returns 1 */
	int (*ready)(void *arg);
	void *ready_arg;
};

/*
 * Bind and listen on listen_on ("host:port", "[v6]:port"): done before reeve gives up root,
 * so a port below 1024 works for a daemon that then runs as [reeve] user. Returns the
 * socket (*ipv6 set for an IPv6 one), or -1 with a message in err.
 */
int http_listen(const char *listen_on, int *ipv6, char *err, size_t errlen);

/* Start serving on p->fd. Returns NULL with a message in err (p->fd is closed then). */
struct http *http_new(const struct http_params *p, struct registry *r, char *err, size_t errlen);

/*
 * Replace the token table of a running server (after a reload). Takes a over and frees
 * the old table once no request uses it. Thread-safe.
 */
void http_set_auth(struct http *h, struct auth *a);

/*
 * Serve the certificate c (taken over) from the next TLS handshake on; connections already
 * open keep theirs. Returns -1 (and frees c) when the server was started without TLS.
 */
int http_set_tls(struct http *h, struct tls_cred *c);

/* Requests served, by outcome, for reeve's own metrics. */
struct http_stats {
	unsigned long long requests, errors, unauthorized, forbidden, renders;
	double tls_expiry;          /* the served certificate's notAfter; 0: no HTTPS */
};
void http_get_stats(struct http *h, struct http_stats *st);

/* Stop serving and free; NULL is a no-op. */
void http_free(struct http *h);

#endif /* REEVE_HTTP_H */
