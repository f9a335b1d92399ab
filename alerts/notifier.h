/* notifier.h: the receivers of notifications: their types, and `reeve notify test`. */
#ifndef REEVE_NOTIFIER_H
#define REEVE_NOTIFIER_H

#include <stdio.h>

#include "config.h"
#include "notify.h"

/* The type of a [notifier NAME] section (its type key). Never NULL for a loaded config. */
const struct notifier_type *notifier_type_of(const struct cfg_notifier *n);

/* The [notifier NAME] of cfg, or NULL. */
const struct cfg_notifier *notifier_find(const struct cfg *cfg, const char *name);

/*
 * `reeve notify test NAME`: make a test notification (one firing alert "ReeveTest"), render
 * it for the receiver and deliver it at once with the receiver's own transport, settings
 * and timeout, as a delivery worker would (the spool is not involved: nothing is retried).
 * Prints what happened to out. Returns 0 when the receiver accepted it, 1 otherwise.
 */
int notifier_test(const struct cfg *cfg, const char *name, FILE *out);

#endif /* REEVE_NOTIFIER_H */
