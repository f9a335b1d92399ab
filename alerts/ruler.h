/* ruler.h: evaluates the [alert] and [record] rules on their intervals, in one thread. */
#ifndef REEVE_RULER_H
#define REEVE_RULER_H

#include <stddef.h>

#include "config.h"
#include "dispatch.h"
#include "rule.h"

struct registry;
struct store;
struct ruler;
struct buf;

/*
 * Check one rule expression for cfg_check_exprs: it must parse and give an instant vector.
 * Returns 0, or -1 with "1:14: ..." in err.
 */
int ruler_check_expr(void *arg, const char *text, char *err, size_t errlen);
/* The same for a list of label matchers ([route] match and the like: cfg_check_matchers). */
int ruler_check_matchers(void *arg, const char *text, char *err, size_t errlen);

struct ruler_params {
	struct registry *reg;   /* not owned */
	struct store *store;    /* not owned; NULL: expressions read memory only */
	double window;          /* seconds the registry keeps ([reeve] memory_window) */
	const char *data_dir;   /* alerts/state.json and alerts/history.jsonl live below it */
	struct dispatch *dispatch; /* not owned; NULL: transitions go to the history log only */
};

/*
 * A ruler for the rules of cfg (checked with ruler_check_expr; cfg is borrowed until the
 * next ruler_reload or ruler_free). Restores the saved alert state and opens the history
 * log. Returns NULL with a message in err.
 */
struct ruler *ruler_new(const struct cfg *cfg, const struct ruler_params *p, char *err,
    size_t errlen);

/* Start evaluating; returns 0 or -1. */
int ruler_start(struct ruler *r);

/*
 * Take the rules of a new configuration (borrowed from now on; the old one may be freed
 * when this returns): alerts keep the state of their instances by name, under the new
 * external labels ([reeve] labels.*) when those changed (the dispatcher is then reconciled:
 * the old label sets resolve, the new ones fire). Returns 0, or -1 with a message in err
 * and the old rules kept.
 */
int ruler_reload(struct ruler *r, const struct cfg *cfg, char *err, size_t errlen);

/* Counters for reeve's own metrics. */
struct ruler_stats {
	unsigned long long evaluations, failures;
	size_t alerts, records, firing, pending;
	double last_round;       /* seconds the last round took */
	unsigned long long history_failures; /* transitions the history log could not keep */
};
void ruler_get_stats(struct ruler *r, struct ruler_stats *st);

struct expr;
struct expr_source;
struct rule_set;

/*
 * Evaluate alert rule i of rs at t: expr (and recover, NULL without one) over src, and the
 * series its selectors have data for (to tell "no data" from "condition false"), handed to
 * rule_eval. The rule thread and `reeve rules test` both evaluate alerts through it.
 * Returns 0, or -1 with a message in err (the instances then keep their state).
 */
int ruler_eval_alert(struct rule_set *rs, size_t i, const struct expr *expr,
    const struct expr *recover, const struct expr_source *src, double t, char *err,
    size_t errlen);

/*
 * The answers of the HTTP API in Prometheus's shapes (docs/http-api.md), appended to out (the
 * caller's, freed by it). They take the ruler's lock: they wait for a round in progress.
 * ruler_rules_json: GET /api/v1/rules, one group per configuration file, every rule with
 * its health and last evaluation, alerting rules with their active instances.
 * ruler_alerts_json: GET /api/v1/alerts, the pending, firing and nodata instances.
 */
void ruler_rules_json(struct ruler *r, struct buf *out);
void ruler_alerts_json(struct ruler *r, struct buf *out);

/* One active alert instance as ruler_alerts shows it: everything borrowed for the call. */
struct ruler_alert {
	const char *rule;                 /* the [alert NAME] */
	const struct reeve_label *labels; /* the instance's labels, sorted by name */
	size_t nlabels;
	enum rule_state state;            /* RULE_PENDING, RULE_FIRING or RULE_NODATA */
	int flapping;
	double since;                     /* when it entered state */
	double value;                     /* the last value, NaN when none */
	const char *severity;
	const char *summary;              /* annotations.summary rendered now, NULL without one */
};

/*
 * Call fn for every pending, firing and nodata instance, rule by rule in configuration
 * order (the status page). fn runs under the ruler's lock: it copies what it keeps and
 * calls nothing of the ruler.
 */
void ruler_alerts(struct ruler *r, void (*fn)(void *arg, const struct ruler_alert *a),
    void *arg);

/*
 * GET /api/v1/alerts/history: the history log's entries at or after since (Unix seconds)
 * of rule (NULL: every rule), oldest first, the newest limit of them. Returns 0, or -1
 * with errno set when the log cannot be read.
 */
/* The alert history log the rules write (reports read it); owned by the ruler. */
struct alertlog *ruler_alertlog(struct ruler *r);

int ruler_history_json(struct ruler *r, double since, const char *rule, size_t limit,
    struct buf *out);

/* Stop the thread, save the alert state, free. NULL is a no-op. */
void ruler_free(struct ruler *r);

#endif /* REEVE_RULER_H */
