/* outbox.h: the durable spool of outgoing notifications and their delivery workers. */
#ifndef REEVE_OUTBOX_H
#define REEVE_OUTBOX_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "notify.h"

/*
 * The spool is a directory (data_dir/spool) with four folders:
 *   tmp/      messages being written (left-overs older than 10 minutes are removed at open)
 *   queue/    accepted messages, one file each, until their receiver accepts them
 *   dead/     dead letters: permanent failures and messages older than max_age
 *   corrupt/  files that could not be read back, set aside at open or when sent
 * A message counts as accepted once outbox_put returned: written to tmp/, fsync'd, renamed
 * into queue/ and the folder fsync'd. It is deleted only after its receiver accepted it, so
 * a crash at any time loses nothing; a message whose delivery was under way when reeve died
 * is sent again (at least once; its idempotency key lets the receiver drop the repeat).
 *
 * Each receiver ([notifier NAME]) has one delivery worker that sends its messages oldest
 * first and one at a time (so the order of a group's messages is kept); a temporary failure
 * makes it wait (retry_initial, times retry_factor per attempt, at most retry_max, plus up
 * to 20% jitter, or longer when the receiver said Retry-After) and try the same message
 * again. Files are named by creation time, so a directory listing is the queue order.
 */

#define OUTBOX_MAX_BODY (64u << 20) /* bytes of one message's body */
#define OUTBOX_ID_LEN 40            /* an id with its NUL */

#define OUTBOX_SHA256_LEN 65         /* a SHA-256 in hex with its NUL */

struct buf;
struct outbox;

/*
 * One spool file: the magic line "reeve-spool 1", "name: value" header lines, a blank line,
 * then the body of exactly length bytes whose SHA-256 is sha256. The strings are owned.
 */
struct outbox_header {
	char id[OUTBOX_ID_LEN];
	char *receiver, *key, *subject, *error; /* subject and error may be NULL */
	double created;             /* Unix time, written with milliseconds */
	unsigned attempts;
	size_t length;              /* bytes of the body */
	char sha256[OUTBOX_SHA256_LEN];
};

/*
 * Parse a spool file's bytes (the outbox reads every file through it). Returns 0 with h
 * filled (free with outbox_header_free) and *body pointing into data, or -1 with what is
 * wrong in err and h empty (the file is then corrupt). data need not end in a NUL.
 */
int outbox_parse(const char *data, size_t size, struct outbox_header *h, const char **body,
    char *err, size_t errlen);

/*
 * Append the whole file for h and body (len bytes) to b: magic, header lines, a blank line,
 * the body. h's length and sha256 are not read: they are computed from body. A control
 * character in a header value is written as a space. h and body are borrowed.
 */
void outbox_format(struct buf *b, const struct outbox_header *h, const void *body, size_t len);

/* Free h's strings and clear it. */
void outbox_header_free(struct outbox_header *h);

/* Counters for /metrics, per receiver (name NULL: messages for receivers not configured). */
struct outbox_receiver_stats {
	const char *name;
	size_t queued;              /* messages waiting in queue/ */
	double oldest;              /* creation time of the oldest queued one, 0 when none */
	unsigned long sent, retries, dead, expired;
	int failing;                /* the last attempt failed */
};

struct outbox_stats {
	struct outbox_receiver_stats *receivers; /* owned by the caller of outbox_get_stats */
	size_t nreceivers;
	unsigned long corrupt;     /* files set aside in corrupt/ */
	size_t dead_files;         /* files in dead/ */
};

/*
 * Open (creating what is missing) the spool in dir and read back the queue: every message
 * in queue/ is checked and indexed; unreadable ones are moved to corrupt/ and counted.
 * cfg gives the receivers and the retry settings (borrowed until outbox_reload or free).
 * No worker runs until outbox_start. Returns NULL with a message in err.
 */
struct outbox *outbox_open(const char *dir, const struct cfg *cfg, char *err, size_t errlen);

/* Start one delivery worker per configured receiver. */
void outbox_start(struct outbox *ob);

/*
 * Accept a message for receiver: body (len bytes) as its type rendered it, key its
 * idempotency key, subject a one-line description for logs and `reeve outbox list`.
 * Durable on return 0 (id, when not NULL, gets its id); -1 with a message in err (the
 * spool's disk is full or unwritable: the caller keeps the event and tries again).
 */
int outbox_put(struct outbox *ob, const char *receiver, const char *key, const char *subject,
    const void *body, size_t len, char id[OUTBOX_ID_LEN], char *err, size_t errlen);

/*
 * outbox_put, and before any worker may send the message (it is durable in queue/ then),
 * durable(arg, id) runs under the outbox's lock: a caller that must send something exactly
 * once (a report's slot) records there that it is queued. When durable returns -1 the
 * message is taken back and outbox_put_then fails.
 */
int outbox_put_then(struct outbox *ob, const char *receiver, const char *key,
    const char *subject, const void *body, size_t len, int (*durable)(void *arg, const char *id),
    void *arg, char id[OUTBOX_ID_LEN], char *err, size_t errlen);

/*
 * Whether a message with idempotency key key is queued or a dead letter: after a crash, a
 * caller that recorded "about to queue" learns whether the queueing happened. Call it
 * before outbox_start (before a worker could have sent and removed the message).
 */
int outbox_has_key(struct outbox *ob, const char *key);

/*
 * Use cfg from now on (its receivers and retry settings): workers are restarted, after the
 * sends under way finished (each is bounded by its receiver's timeout).
 */
void outbox_reload(struct outbox *ob, const struct cfg *cfg);

/*
 * Stop the workers, waiting at most wait seconds for a delivery under way, and free.
 * Returns 0, or 1 when a delivery was still under way: its worker keeps running and the
 * outbox (and the cfg it uses) is left to it; the caller should exit soon (the message
 * stays queued and goes again). outbox_reload waits for a delivery under way instead.
 */
int outbox_free(struct outbox *ob, double wait);

/* Counters and gauges; free with outbox_stats_free. */
void outbox_get_stats(struct outbox *ob, struct outbox_stats *st);
void outbox_stats_free(struct outbox_stats *st);

/*
 * `reeve outbox list`: print the queued and dead messages of the spool in dir (id, state,
 * receiver, age, attempts, subject, last error). Works without a running daemon. Returns
 * 0, or -1 with a message in err.
 */
int outbox_list(const char *dir, FILE *out, char *err, size_t errlen);

/*
 * `reeve outbox retry ID`: move dead letter ID back into the queue (a running daemon picks
 * it up within a second). Returns 0, or -1 with a message in err.
 */
int outbox_retry(const char *dir, const char *id, char *err, size_t errlen);

#endif /* REEVE_OUTBOX_H */
