/* registry.h: the latest value and a recent in-memory window of every series. */
#ifndef REEVE_REGISTRY_H
#define REEVE_REGISTRY_H

#include <pthread.h>
#include <stddef.h>

#include "reeve-probe.h"
#include "util.h"

struct store;
struct registry;
struct reg_owner;

/*
 * A batch: the samples of one collect() call, filled by the probe host and committed to
 * the registry in one step, so readers never see half a round. Strings live in one arena.
 * A batch is used by one thread at a time.
 */
struct reg_batch_sample {
	size_t name, help;   /* offsets into arena */
	size_t labels;       /* offset of nlabels (name, value) offset pairs in lab */
	size_t nlabels;
	int type;            /* enum reeve_metric_type */
	double value;
	double ts;           /* its own time (pushed samples), 0 = the commit's time */
	double ttl;          /* seconds until it goes stale unless renewed, 0 = never */
};
struct reg_batch {
	struct reg_batch_sample *s;
	size_t n, cap;
	size_t *lab;         /* label name/value offsets into arena, pairs */
	size_t nlab, labcap;
	struct buf arena;
	unsigned long rejected; /* samples dropped for invalid names */
};

/* Add a sample to a batch (strings are copied). Returns 0, or -1 if a name is invalid. */
int reg_batch_add(struct reg_batch *b, const char *name, const char *help, int type,
    const struct reeve_label *labels, size_t nlabels, double value);
void reg_batch_reset(struct reg_batch *b);
/* A point to return to: reg_batch_rewind drops every sample added after reg_batch_mark. */
struct reg_batch_mark {
	size_t n, nlab, arena;
	unsigned long rejected;
};
void reg_batch_mark(const struct reg_batch *b, struct reg_batch_mark *m);
void reg_batch_rewind(struct reg_batch *b, const struct reg_batch_mark *m);
void reg_batch_free(struct reg_batch *b);

/*
 * One series. Written only by reg_commit under the registry's write lock; read by
 * anyone holding the read lock (reg_rdlock).
 */
struct reg_series {
	char *key;              /* canonical name{label="value",...}, labels sorted, escaped */
	char *name;
	struct reeve_label *labels; /* sorted by name, owned */
	size_t nlabels;
	struct store_file *file; /* its RRD file, NULL when not stored; owned by the store */
	struct reg_family *family;
	struct reg_owner *owner;  /* NULL once its probe is gone */
	size_t idx;               /* its place in the registry's list of all series */
	double value, ts;       /* latest sample */
	double expires;         /* when it goes stale unless renewed (pushed with a TTL), 0 = never */
	unsigned long round;    /* owner's round of the latest sample */
	int stale;              /* not in the owner's latest round: hidden from /metrics */
	double stale_since;     /* when it became stale (0 while it is not) */
	double *wts, *wval;     /* ring buffer of the recent window */
	size_t wcap, whead, wlen;
	struct reg_series *hnext; /* hash chain */
};

struct reg_family {
	char *name;
	char *help;
	int type;
	struct reg_series **series; /* every series of this family */
	size_t nseries, cap;
	struct reg_family *hnext;
};

/*
 * Create a registry keeping window seconds of samples per series in memory. store may be
 * NULL (nothing is written to disk). The registry does not own the store.
 */
struct registry *reg_new(double window, struct store *store);
void reg_free(struct registry *r);

/*
 * An owner is the source of a set of series (a probe instance): when it commits a round,
 * its series missing from that round become stale. interval is its collection interval
 * in seconds, used as the RRD step of files created for its series. With
 * REG_OWNER_PARTIAL (the push API) a commit only updates the series in it.
 */
#define REG_OWNER_PARTIAL 1
struct reg_owner *reg_owner_new(struct registry *r, const char *name, double interval, int flags);
/* The owner's collection interval in seconds, as given to reg_owner_new (0: none). */
double reg_owner_interval(const struct reg_owner *o);
/* Drop an owner: its series become stale and unowned. */
void reg_owner_free(struct registry *r, struct reg_owner *o);

/*
 * Commit a batch taken at time ts from owner o: update each series (creating new ones),
 * append to windows, mark the owner's missing series stale, hand every sample to the store
 * (which copies what it needs), and bump the generation. A sample with its own time uses
 * it; one with a TTL makes its series expire at ts + ttl. Samples whose metric name was
 * seen before with another type, or not newer than their series' latest sample, are
 * dropped and counted. Returns the number dropped. Takes the write lock.
 */
size_t reg_commit(struct registry *r, struct reg_owner *o, double ts, const struct reg_batch *b);

/* Mark stale every series whose TTL has run out by now; returns how many. Write lock. */
size_t reg_expire(struct registry *r, double now);

/*
 * Forget series that have been stale since before now - age (their probe stopped
 * reporting them: an interface or a process group gone, a probe removed by a reload), so a
 * long-running daemon does not grow with churn. Their RRD files stay. Returns the count
 * dropped. Takes the write lock.
 */
size_t reg_sweep(struct registry *r, double now, double age);

/*
 * Readers: hold the read lock while looking at series or families. reg_generation changes
 * on every commit, so a reader can cache what it derived from the registry.
 * The lock is a pthread_rwlock: commits (probe worker threads) take it for writing,
 * /metrics rendering and (later) rules take it for reading.
 */
void reg_rdlock(struct registry *r);
void reg_unlock(struct registry *r);
unsigned long reg_generation(struct registry *r);
/* Families sorted by name, valid while the read lock is held; *n gets their count. */
struct reg_family **reg_families(struct registry *r, size_t *n);
/* The family of metric name (by hash), or NULL; valid while the read lock is held. */
struct reg_family *reg_family_find(struct registry *r, const char *name);
size_t reg_series_count(struct registry *r);
/*
 * The earliest commit time (0 before the first): memory holds nothing older, however long
 * the window (after a restart, older points are only in the files). Under the read lock.
 */
double reg_since(struct registry *r);
/* Counters, readable without the lock. */
unsigned long reg_type_conflicts(struct registry *r);
/* Samples dropped because they were not newer than their series' latest sample. */
unsigned long reg_out_of_order(struct registry *r);
/* Series that cannot be stored (a label value too long for a file name). */
unsigned long reg_unstorable(struct registry *r);

/* The i-th newest point of a series' window (0 = latest); returns 0, or -1 past the end. */
int reg_series_point(const struct reg_series *s, size_t i, double *ts, double *value);

/*
 * Write the canonical key name{a="x",...} of a series into out (reset first): labels
 * sorted by name, values escaped as in the Prometheus text format. labels is sorted in
 * place.
 */
void reg_series_key(struct buf *out, const char *name, struct reeve_label *labels, size_t n);

#endif /* REEVE_REGISTRY_H */
