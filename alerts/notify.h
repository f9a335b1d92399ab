/* notify.h: what the notification side hands around: alerts grouped for a receiver, and the notifier types. */
#ifndef REEVE_NOTIFY_H
#define REEVE_NOTIFY_H

#include <stddef.h>

#include "config.h"
#include "reeve-probe.h"
#include "util.h"

/*
 * One alert of a notification: a firing or resolved instance of an [alert NAME] rule, as
 * the dispatcher (alerts/dispatch.c) keeps it. Everything is owned by whoever built it and
 * borrowed by the notifiers for the call.
 */
struct notify_alert {
	const struct reeve_label *labels;      /* alertname, severity and the instance's labels, sorted */
	size_t nlabels;
	const struct reeve_label *annotations; /* rendered at the transition, in config order */
	size_t nannotations;
	int firing;                            /* 1 firing, 0 resolved */
	double starts_at;                      /* when it started firing (Unix seconds) */
	double ends_at;                        /* when it resolved; 0 while firing */
	double value;                          /* the last value of its expression, NaN when none */
	const char *fingerprint;               /* 16 hex digits: a hash of the labels */
	const char *const *metrics;            /* metric names its rule's selectors read (graphs) */
	size_t nmetrics;
};

/* What one message to one receiver says: a group of alerts (docs/notifications.md). */
struct notify_group {
	const char *receiver;                  /* the [notifier NAME] */
	const char *group_key;                 /* route and group labels: stable, printable */
	const struct reeve_label *group_labels; /* the group_by labels and their values, sorted */
	size_t ngroup_labels;
	const struct notify_alert *alerts;     /* firing ones first, then resolved ones */
	size_t nalerts;
	size_t nfiring, nresolved;
	const char *key;                       /* idempotency key: the same for a re-sent message */
	double time;                           /* when the message was made */
	const char *external_url;              /* base of links to reeve ([http] external_url), or NULL */
	const char *hostname;                  /* [reeve] hostname */
	int test;                              /* 1 for `reeve notify test`: a test message */
};

/*
 * A graph of an alert's series around a time, for messages that embed one (email). The
 * dispatcher passes one that renders from the RRD files; NULL when there are none (rules
 * test, no store). Returns 0 with a PNG in *png (malloc'd, the caller frees), or -1.
 */
struct notify_graph {
	int (*render)(void *arg, const struct notify_alert *a, double start, double end,
	    unsigned char **png, size_t *len, char *err, size_t errlen);
	void *arg;
};

/* How one delivery attempt ended. */
enum notify_status {
	NOTIFY_SENT,     /* the receiver accepted it: the message leaves the spool */
	NOTIFY_RETRY,    /* a temporary failure: try again later (refused, timeout, 4xx SMTP, 5xx HTTP, 408, 429) */
	NOTIFY_FAILED    /* a permanent failure: dead letter (5xx SMTP, HTTP 4xx but 408/429, bad URL) */
};

struct notify_result {
	enum notify_status status;
	double retry_after;   /* seconds the receiver asked to wait (Retry-After), 0 for none */
	char detail[512];     /* what happened, for logs and `reeve outbox list`: never a secret */
};

/*
 * One type of [notifier NAME] section (type = NAME). render runs when a message is made
 * (the bytes it produces are what the spool keeps, so a message survives restarts as it was
 * made); send runs on the notifier's delivery worker, blocking, and must finish within the
 * notifier's timeout. Both may run on different threads for different notifiers at once.
 */
struct notifier_type {
	const char *name;
	/* Render g for n into body (appended). Returns 0, or -1 with a message in err. */
	int (*render)(const struct cfg_notifier *n, const struct notify_group *g,
	    const struct notify_graph *graph, struct buf *body, char *err, size_t errlen);
	/*
	 * Deliver a rendered message. key is its idempotency key (Message-ID for mail, the
	 * Idempotency-Key header for HTTP). Fills res; never logs a secret.
	 */
	void (*send)(const struct cfg_notifier *n, const char *key, const unsigned char *body,
	    size_t len, struct notify_result *res);
};

/* The notifier types: email.c, webhook.c (webhook and alertmanager), execnotify.c. */
extern const struct notifier_type notifier_email;
extern const struct notifier_type notifier_webhook;
extern const struct notifier_type notifier_alertmanager;
extern const struct notifier_type notifier_exec;

#endif /* REEVE_NOTIFY_H */
