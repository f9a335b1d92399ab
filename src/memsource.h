/* memsource.h: an expression source over series held in memory (rule tests, recorded series). */
#ifndef REEVE_MEMSOURCE_H
#define REEVE_MEMSOURCE_H

#include <stddef.h>

#include "reeve-probe.h"

struct expr_source;
struct memsource;

/* An empty source. Free with memsource_free; memsource_free(NULL) is a no-op. */
struct memsource *memsource_new(void);
void memsource_free(struct memsource *ms);

/*
 * Append a point to the series name{labels} (created on first sight; labels are copied and
 * need not be sorted). Points of a series must come in ascending time order: a point not
 * after the series' last one is refused (-1). stale marks a Prometheus stale marker (value
 * ignored): within a queried range only the points after the last stale marker count, so an
 * instant selector no longer sees the series. Returns 0 or -1.
 */
int memsource_add(struct memsource *ms, const char *name, const struct reeve_label *labels,
    size_t nlabels, double t, double v, int stale);

/*
 * Fill src to read from ms (lookback 300 s, no holt_winters_anomaly). ms must outlive
 * every use of src; it is not locked (one thread).
 */
void memsource_source(struct memsource *ms, struct expr_source *src);

#endif /* REEVE_MEMSOURCE_H */
