/* promapi.h: the Prometheus HTTP API over reeve's history: query, query_range, series, labels, metadata. */
#ifndef REEVE_PROMAPI_H
#define REEVE_PROMAPI_H

#include <stddef.h>

#include "util.h"

struct promapi;
struct registry;
struct store;

/* A query parameter, from the URL or a form body, in order (match[] may repeat). */
struct promapi_param {
	const char *key, *value;
};

/*
 * The API over the registry (window seconds of memory) and the store's RRD files (store
 * may be NULL). Thread-safe: several requests may be answered at once.
 */
struct promapi *promapi_new(struct registry *reg, struct store *store, double window);
void promapi_free(struct promapi *p);

/*
 * The limits of every query from now on: seconds it may take (503 "timeout" beyond; a
 * request's timeout= may shorten it) and points its answer may hold (422 beyond).
 */
void promapi_set_limits(struct promapi *p, double timeout, size_t max_samples);

/* Make every query under way or to come give up as out of time (at shutdown). */
void promapi_cancel(struct promapi *p);

/* Whether url is one of the API's paths (/api/v1/query, ..., /api/v1/label/NAME/values). */
int promapi_path(const char *url);

/*
 * Answer a GET or POST of url with the parameters q (the URL's, then those of an
 * application/x-www-form-urlencoded body, form: NULL for none). Appends the JSON answer
 * (Prometheus's shapes, errors as {"status":"error","errorType":..,"error":..}) to out and
 * returns the HTTP status.
 */
unsigned promapi_answer(struct promapi *p, const char *url, const struct promapi_param *q,
    size_t nq, const char *form, size_t formlen, struct buf *out);

/* Whether url is /api/v1/graph.png or /api/v1/graph.svg. */
int promapi_graph_path(const char *url);

/*
 * GET /api/v1/graph.png|svg?expr=&start=&end=&width=&height=&title=: the expression drawn
 * by rrd_graph (start defaults to an hour ago, end to now), the same request within 10 s
 * answered from a small cache. Returns 200 with the image in *img (malloc'd) and *len, or
 * an error status with its JSON in out.
 */
unsigned promapi_graph(struct promapi *p, const char *url, const struct promapi_param *q,
    size_t nq, const char *form, size_t formlen, unsigned char **img, size_t *len,
    struct buf *out);

#endif /* REEVE_PROMAPI_H */
