/* payload.h: the generic JSON document of a notification (exec notifier stdin, webhook format generic). */
#ifndef REEVE_PAYLOAD_H
#define REEVE_PAYLOAD_H

#include "notify.h"
#include "util.h"

/* ---- payload.c ---- */
int payload_generic_json(const struct notify_group *g, struct buf *out);

#endif /* REEVE_PAYLOAD_H */
