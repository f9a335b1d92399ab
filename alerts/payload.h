/* payload.h: the JSON of notifications: the generic document and the pieces webhook formats share. */
#ifndef REEVE_PAYLOAD_H
#define REEVE_PAYLOAD_H

#include <stddef.h>

#include "notify.h"
#include "util.h"

/*
 * Everything appends to a struct buf (which dies loudly when out of memory); arguments are
 * borrowed for the call. Each function's contract is in the comment above its definition.
 */

/* ---- payload.c ---- */
void payload_generic_json(const struct notify_group *g, struct buf *out);
void payload_put_labels(struct buf *b, const struct reeve_label *l, size_t n);
void payload_put_time(struct buf *b, double t);
void payload_put_string_or_null(struct buf *b, const char *s);
void payload_put_value(struct buf *b, double v);
void payload_put_common(struct buf *b, const struct notify_group *g, int ann);
int payload_generator_url(const struct notify_group *g, const struct notify_alert *a,
    struct buf *out);
const char *payload_alert_get(const struct notify_alert *a, int ann, const char *name);
const char *payload_group_status(const struct notify_group *g);

#endif /* REEVE_PAYLOAD_H */
