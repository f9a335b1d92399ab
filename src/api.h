/* api.h: the write side of the HTTP API: pushed samples and business events. */
#ifndef REEVE_API_H
#define REEVE_API_H

#include <stddef.h>

#include "util.h"

struct registry;
struct api;

/* Distinct reeve_events_total series kept; events beyond are refused with 400. */
#define API_MAX_EVENT_SERIES 10000

struct api_params {
	double default_ttl; /* seconds a pushed series lives unless renewed; 0 = for ever */
	double step;        /* RRD step of files created for pushed and event series */
	size_t max_samples; /* per request */
};

/* Create the API over a registry (not owned). */
struct api *api_new(struct registry *r, const struct api_params *p);
/* Take new parameters (on reload); thread-safe. */
void api_set_params(struct api *a, const struct api_params *p);
void api_free(struct api *a);

/*
 * POST /api/v1/push. body (len bytes, not NUL-terminated) is the Prometheus text format
 * (content_type text/plain, none, or curl's default application/x-www-form-urlencoded),
 * or, when content_type is application/json, a JSON list of samples
 * {"name","labels","value","type","timestamp","ttl"}. ttl is the request's ttl parameter
 * (a duration) or NULL. All or nothing: the samples are committed together, or none when
 * anything is wrong. Writes the JSON answer into out and returns the HTTP status (200,
 * 400, 415). Thread-safe.
 */
unsigned api_push(struct api *a, const char *content_type, const char *ttl, const char *body,
    size_t len, struct buf *out);

/*
 * POST /api/v1/events: {"event":"NAME","labels":{...},"count":N} or a list of them; each
 * adds count (default 1) to reeve_events_total{event="NAME",...}. Same answer conventions
 * as api_push. Thread-safe.
 */
unsigned api_events(struct api *a, const char *body, size_t len, struct buf *out);

/* Counters for reeve's own metrics. */
struct api_stats {
	unsigned long long push_requests, push_samples, events, rejected, dropped;
};
void api_get_stats(struct api *a, struct api_stats *st);

#endif /* REEVE_API_H */
