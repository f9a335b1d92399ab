/* dispatch.h: alert events into notifications: routing, grouping, repeats, into the outbox. */
#ifndef REEVE_DISPATCH_H
#define REEVE_DISPATCH_H

#include "config.h"
#include "notify.h"
#include "outbox.h"
#include "rule.h"
#include "silence.h"

/*
 * The dispatcher keeps the alerts that fire (and those resolved but not yet notified),
 * routes each to the [route NAME]s it matches (in file order, on while `continue`, else
 * [route default]), and groups them per route by their group_by labels. A group's first
 * message goes out group_wait after the group formed, later ones at most every
 * group_interval and only when the set of firing alerts changed, an alert resolved, or
 * repeat_interval passed. Each message is rendered for each of the route's receivers and
 * handed to the outbox, which makes it durable before the dispatcher counts it as sent.
 *
 * Its state (alerts, groups, what each group last notified) is saved in
 * data_dir/alerts/notify-state.json after every change and read back at start, so a
 * restart neither loses a notification nor repeats one that went out; a crash between
 * handing a message to the outbox and saving repeats it once, with the same idempotency
 * key. The rule thread feeds events (dispatch_event); a thread of its own flushes groups.
 */
struct dispatch;

struct dispatch_params {
	struct outbox *outbox;        /* not owned */
	const char *data_dir;
	const struct notify_graph *graph; /* graphs for mail, or NULL */
	struct silences *silences;    /* not owned; NULL: none */
};

/*
 * A dispatcher for cfg's routes (borrowed until dispatch_reload or free), with the state
 * saved under data_dir. Returns NULL with a message in err.
 */
struct dispatch *dispatch_new(const struct cfg *cfg, const struct dispatch_params *p,
    char *err, size_t errlen);
int dispatch_start(struct dispatch *d);
/* Take the routes of a new cfg; groups of routes that are gone are dropped. */
void dispatch_reload(struct dispatch *d, const struct cfg *cfg);
void dispatch_free(struct dispatch *d);

/*
 * A transition of an alert instance (the rule set's sink; any thread). metrics are the
 * metric names the rule's expression reads (for graphs), borrowed for the call.
 */
void dispatch_event(struct dispatch *d, const struct rule_event *ev, const char *const *metrics,
    size_t nmetrics);

/*
 * A round of rule evaluations begins (on 1) or ends (on 0): groups are not sent in between,
 * so that the transitions of one round go out in one message.
 */
void dispatch_hold(struct dispatch *d, int on);

/*
 * After a restart: the instances the restored rule state has firing (rule_foreach). An
 * alert the dispatcher holds as firing that is not among them resolved while reeve was
 * down; one among them it does not know fired (its event was lost): both are notified.
 */
void dispatch_reconcile(struct dispatch *d, const struct rule_set *rs);

/*
 * The labels of the alert with fingerprint fp as exact matchers (`alertname="x", ...`),
 * for an acknowledgement; a new string, or NULL when no such alert is held.
 */
char *dispatch_alert_matchers(struct dispatch *d, const char *fp);

/*
 * The fingerprint of an alert instance (16 hex digits of a hash of alertname, severity and
 * its labels): how /api/v1/alerts, acknowledgements and messages name one alert.
 */
void dispatch_fingerprint(const char *rule, const char *severity, const struct reeve_label *l,
    size_t n, char fp[17]);

/*
 * For tests: the clock the dispatcher reads (NULL: util_now again), and one look at every
 * group now, as its thread makes (without starting it); returns when the next is due.
 */
void dispatch_set_clock(struct dispatch *d, double (*now)(void));
double dispatch_tick(struct dispatch *d);

/* Counters for /metrics. */
struct dispatch_stats {
	size_t alerts, groups;
	unsigned long messages;     /* messages handed to the outbox */
	unsigned long put_failures; /* the outbox refused one (disk full): retried */
	unsigned long unrouted;     /* alerts no route took */
	unsigned long escalations;  /* escalation messages */
};
void dispatch_get_stats(struct dispatch *d, struct dispatch_stats *st);

#endif /* REEVE_DISPATCH_H */
