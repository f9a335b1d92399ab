/* status.h: the status page at /: firing alerts, probes and graphs of the host in one HTML page. */
#ifndef REEVE_STATUS_H
#define REEVE_STATUS_H

#include "util.h"

struct promapi;
struct registry;
struct ruler;
struct status;

/* What the page shows; the objects are borrowed and must outlive the status page. */
struct status_params {
	struct registry *reg;      /* probes' and reeve's own metrics (reeve_probe_*, reeve_*) */
	struct ruler *ruler;       /* pending and firing alerts; NULL: the page says none are evaluated */
	struct promapi *promapi;   /* draws the host graphs (promapi_graph); NULL: no graphs */
	const char *hostname;      /* shown in the title; copied */
};

/* A status page over p. Returns a new object (status_free). */
struct status *status_new(const struct status_params *p);

/* NULL is a no-op. */
void status_free(struct status *s);

/* Seconds a rendered page is served again before it is made anew. */
#define STATUS_TTL 5.0

/*
 * Append the whole page to out: HTML5 with inline CSS, no script, the graphs inside it as
 * data: URIs, so it needs one request and nothing else (the HTTP layer sends it with a
 * Content-Security-Policy of default-src 'none'). Every text from labels, annotations and
 * probe names is HTML-escaped. A page made less than STATUS_TTL seconds ago is appended
 * again instead of drawing the graphs anew; concurrent callers wait for one render.
 * Thread-safe.
 */
void status_page(struct status *s, struct buf *out);

#endif /* REEVE_STATUS_H */
