/* expo.h: the Prometheus text exposition format 0.0.4. */
#ifndef REEVE_EXPO_H
#define REEVE_EXPO_H

#include "reeve-probe.h"
#include "util.h"

struct registry;
struct reg_batch;

#define EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append a label value escaped for the text format: backslash, double quote, newline. */
void expo_escape_label(struct buf *b, const char *v);
/* Append HELP text escaped for the text format: backslash and newline. */
void expo_escape_help(struct buf *b, const char *v);

/*
 * Render every non-stale series of the registry into out (appended): families sorted by
 * name, HELP and TYPE once per family before its samples, series sorted, no timestamps.
 * Takes the registry's read lock.
 */
void expo_render(struct registry *r, struct buf *out);

/* ---- parsing --------------------------------------------------------------------------- */

/* Limits of one parse; 0 in a field means the default (EXPO_DEFAULT_*). */
#define EXPO_DEFAULT_MAX_SAMPLES 100000
#define EXPO_DEFAULT_MAX_LABELS 32
#define EXPO_DEFAULT_MAX_NAME 200      /* bytes of a metric or label name */
#define EXPO_DEFAULT_MAX_VALUE 4096    /* bytes of a label value or HELP text */
struct expo_limits {
	size_t max_samples, max_labels, max_name, max_value;
};

/* One parsed sample, borrowed for the callback. type is enum reeve_metric_type. */
struct expo_sample {
	const char *name;
	const char *help;              /* the family's HELP, "" when none */
	int type;
	const struct reeve_label *labels;
	size_t nlabels;
	double value;
	int has_ts;
	long long ts_ms;               /* milliseconds since the epoch, when has_ts */
	size_t line;
};

/*
 * Parse the text exposition format 0.0.4 strictly (what Prometheus's own parser accepts,
 * plus limits): every line a sample, # HELP, # TYPE, another comment or empty; the text
 * ends with a newline. Types: counter and the _bucket/_sum/_count series of histograms
 * and summaries are REEVE_COUNTER; gauge, untyped and summary quantiles REEVE_GAUGE.
 * Calls cb for each sample in order; a non-zero return from cb stops the parse with its
 * return value. Returns 0, or -1 with "line N: what" in err at the first problem (cb may
 * have seen samples before it: callers that must not keep half a text roll back).
 */
int expo_parse(const char *text, size_t len, const struct expo_limits *lim,
    int (*cb)(void *arg, const struct expo_sample *s), void *arg, char *err, size_t errlen);

/*
 * What expo_parse_batch adds to every sample: a name prefix, labels (a parsed label of
 * the same name is kept as exported_NAME, as Prometheus does), and whether the text's
 * timestamps are used (else the batch's commit time applies).
 */
struct expo_opts {
	const char *prefix;
	const struct reeve_label *labels;
	size_t nlabels;
	int use_timestamps;
	double ttl;                    /* seconds; 0 = the samples never expire */
	struct expo_limits lim;
};

/*
 * Parse text into the batch b. All or nothing: returns the number of samples added, or
 * -1 with "line N: what" in err and b as it was before the call.
 */
long expo_parse_batch(struct reg_batch *b, const char *text, size_t len,
    const struct expo_opts *o, char *err, size_t errlen);

#endif /* REEVE_EXPO_H */
