/* expo.h: the Prometheus text exposition format 0.0.4. */
#ifndef REEVE_EXPO_H
#define REEVE_EXPO_H

#include "util.h"

struct registry;

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

#endif /* REEVE_EXPO_H */
