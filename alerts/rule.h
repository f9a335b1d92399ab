/* rule.h: the alert state machine: instances per [alert] rule, transitions as events, saved state. */
#ifndef REEVE_RULE_H
#define REEVE_RULE_H

#include <stddef.h>

#include "config.h"
#include "reeve-probe.h"

/*
 * The states of an alert instance (docs/alerts.md). RULE_FLAPPING is not a state of its
 * own: an instance whose state changes too often is marked flapping and its events are held
 * back; events report it as from/to RULE_FLAPPING when flapping starts and ends.
 */
enum rule_state {
	RULE_INACTIVE,
	RULE_PENDING,
	RULE_FIRING,
	RULE_RESOLVED,
	RULE_NODATA,
	RULE_FLAPPING
};

/* "inactive", "pending", ...; and back (returns 0, or -1 for an unknown name). */
const char *rule_state_name(enum rule_state s);
int rule_state_parse(const char *s, enum rule_state *out);

/*
 * One series of an expression's result: what expr_eval's instant vector holds. The metric
 * name is not part of labels (an instance's labels never hold __name__, as in Prometheus;
 * a label of that name is dropped). Labels need not be sorted. Borrowed for the call.
 */
struct rule_sample {
	const struct reeve_label *labels;
	size_t nlabels;
	double value;
};

/*
 * The input of one evaluation of one rule at time t.
 *
 * expr: the series for which the alert condition holds (the result of the rule's expr).
 * recover: the result of the rule's recover expression; used only when the rule has one
 *   (rule_has_recover); a firing instance resolves only once its labels are in it.
 * data, has_data: how the caller tells "condition false" from "no data". With has_data 1,
 *   data lists every series the expression's selectors had data for at t (for example the
 *   expression with its comparison removed, or the selectors' result): an instance in
 *   neither expr nor data has no data, and the rule's nodata mode applies; an empty data
 *   list means the rule has no data at all. With has_data 0 every instance not in expr
 *   counts as "condition false" and nodata never applies.
 *
 * Labels are matched after the rule's labels.* are added (they override the series') and
 * the external labels of [reeve] labels.* (added only where neither has the name).
 */
struct rule_input {
	const struct rule_sample *expr;
	size_t nexpr;
	const struct rule_sample *recover;
	size_t nrecover;
	const struct rule_sample *data;
	size_t ndata;
	int has_data;
};

/*
 * A transition, handed to the sink. Everything is borrowed for the call: a sink that keeps
 * anything copies it.
 */
struct rule_event {
	const char *rule;                      /* the [alert NAME] */
	const struct reeve_label *labels;      /* the instance's labels, sorted by name */
	size_t nlabels;
	enum rule_state from, to;
	double value;                          /* the last value seen; NaN when none */
	double time;                           /* the evaluation time of the transition */
	double since;                          /* when the instance entered `from` (NaN: unknown) */
	const char *severity;
	const struct reeve_label *annotations; /* rendered at `time`, in config order */
	size_t nannotations;
	const char *summary;                   /* the rendered annotations.summary, or NULL */
};

/* One instance as rule_foreach shows it: borrowed for the call. */
struct rule_alert {
	const char *rule;
	const struct reeve_label *labels;
	size_t nlabels;
	enum rule_state state;  /* never RULE_FLAPPING: see flapping */
	int flapping;
	double since;           /* when it entered state */
	double fired_at;        /* when it last started firing, NaN if never */
	double value;           /* the last value, NaN when none */
	const char *severity;
	const struct cfg_alert *cfg; /* its rule (annotations, for dispatch_reconcile) */
};

/*
 * The rules of a configuration and their instances. A rule set is not locked: the thread
 * that evaluates rules owns it, and anyone else (the HTTP API) goes through that thread or
 * a lock the caller holds around every call.
 */
struct rule_set;

/*
 * A rule set for every [alert NAME] of cfg, whose instances get cfg's [reeve] labels.* (the
 * external labels) where they have no label of the name. cfg is borrowed: it must outlive
 * the set (on reload: build the new set, rule_set_take_state from the old one, then free
 * the old set and the old cfg). No sink is set: events are dropped until rule_set_sink.
 */
struct rule_set *rule_set_new(const struct cfg *cfg);
void rule_set_free(struct rule_set *rs);

/*
 * Where events go: sink is called for every transition, on the thread that called
 * rule_eval, with arg; NULL drops them.
 */
void rule_set_sink(struct rule_set *rs, void (*sink)(void *arg, const struct rule_event *ev),
    void *arg);

/* The number of rules; rule i is cfg->alerts[i]. rule_find: the index of a name, or -1. */
size_t rule_count(const struct rule_set *rs);
long rule_find(const struct rule_set *rs, const char *name);
/* Whether rule i has a recover expression (the caller then evaluates it for rule_input). */
int rule_has_recover(const struct rule_set *rs, size_t i);

/*
 * Evaluate rule i at time t (seconds; the state machine never reads a clock) with in,
 * making every transition and handing each to the sink. t must not go backwards for a
 * rule; an earlier t is ignored with a logged warning (returns -1). Returns 0.
 */
int rule_eval(struct rule_set *rs, size_t i, double t, const struct rule_input *in);

/*
 * Call fn for every instance of every rule (or of rule i when i >= 0), rule by rule in the
 * order of cfg->alerts.
 */
void rule_foreach(const struct rule_set *rs, long i,
    void (*fn)(void *arg, const struct rule_alert *a), void *arg);

/*
 * Move the instances of every rule of src that dst has too (by name) into dst: the state a
 * reload keeps. Rules src has and dst lacks, and rules whose labels.* changed (their
 * instances are other alerts now), are dropped with a log line. When dst's external
 * labels differ from src's, the moved instances take dst's (keeping their state; an
 * instance whose new label set another one has already is dropped). Returns how many
 * instances changed their labels so: their old label sets are gone without an event, the
 * caller tells the notifications (dispatch_reconcile).
 */
size_t rule_set_take_state(struct rule_set *dst, struct rule_set *src);

/*
 * Save every instance as JSON to path: written to a temporary file in the same directory,
 * fsync'd, renamed over path, and the directory fsync'd, so a crash leaves the old or the
 * new file, never a torn one. Returns 0, or -1 with errno set and a logged warning (at most
 * one a minute: a full disk fails every round).
 */
int rule_state_save(const struct rule_set *rs, const char *path);

/*
 * Restore the instances saved in path into rs (which should have none yet). Restored
 * instances produce no events: a firing one stays firing without a second "firing" event,
 * a pending one keeps its pending-since time. A missing file is a fresh start (0). A file
 * that cannot be parsed is moved aside to path.corrupt-TIMESTAMP, logged as an error, and
 * rs stays empty (-1). Instances of rules no longer configured are dropped and logged.
 * Instances saved under other external labels than rs has take rs's, as with
 * rule_set_take_state (no event: dispatch_reconcile at start tells the notifications).
 * Returns 0, or -1 when nothing could be restored (logged).
 */
int rule_state_load(struct rule_set *rs, const char *path);

#endif /* REEVE_RULE_H */
