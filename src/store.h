/* store.h: RRD files, one per series, written by one writer thread (librrd or rrdcached). */
#ifndef REEVE_STORE_H
#define REEVE_STORE_H

#include <stddef.h>

#include "reeve-probe.h"

struct store;
struct store_file;

struct store_params {
	const char *data_dir;   /* files live under data_dir/rrd/ */
	const char *rrdcached;  /* NULL, "unix:/path", "/path" or "host[:port]" */
	const char *preset;     /* "default", "compact" or "long" */
	size_t queue_size;      /* max queued updates */
	const char *holt_winters; /* regex on metric names: new files get Holt-Winters RRAs; NULL = none */
	double hw_season;       /* their seasonal period in seconds */
	/*
	 * rrdcached over TCP: this reeve's directory under the daemon's base directory (its
	 * files are DIR/name.rrd there, read back with FETCH); NULL or "": "rrd"
	 */
	const char *rrdcached_dir;
};

struct store_stats {
	unsigned long long updates;  /* values written */
	unsigned long long errors;   /* failed creates or updates (values lost) */
	unsigned long long dropped;  /* values dropped because the queue was full */
	unsigned long long creates;  /* files created */
	unsigned long long batches;  /* writer passes */
	size_t queue_depth;
	size_t files;                /* files known (found at start or created) */
};

/*
 * Create a store: make data_dir/rrd, rebuild the list of series from the files found there
 * (over TCP: the files rrdcached lists under rrdcached_dir),
 * and start the writer thread. Returns NULL with a message in err on failure.
 */
struct store *store_new(const struct store_params *p, char *err, size_t errlen);

/*
 * Stop intake, write what is queued for at most timeout seconds, stop the writer and free
 * everything. Values still queued at the deadline are counted as dropped and logged.
 * store_free(NULL, ...) is a no-op.
 */
void store_free(struct store *s, double timeout);

/*
 * The file of a series, registered (not yet created) on first sight. type is enum
 * reeve_metric_type, step the RRD step in seconds for a new file. Returns NULL, with a
 * message in err, when the series cannot be stored (its path would be too long). The
 * handle stays valid until store_free. Thread-safe.
 */
struct store_file *store_file_get(struct store *s, const char *name,
    const struct reeve_label *labels, size_t nlabels, int type, double step,
    char *err, size_t errlen);

/* Queue one value of a file at time ts (seconds since the epoch). Thread-safe, non-blocking. */
void store_put(struct store *s, struct store_file *f, double ts, double value);

/* Wait until everything queued so far is written (tests, benchmarks, rrd readers). */
void store_sync(struct store *s);

void store_get_stats(struct store *s, struct store_stats *st);

/*
 * Call cb for every file the store knows (found at start or registered since), with its
 * path relative to data_dir/rrd (decode it with store_path_decode). cb runs under the
 * store's file lock: it must not call back into the store.
 */
void store_foreach(struct store *s, void (*cb)(void *arg, struct store_file *f, const char *rel),
    void *arg);

/*
 * Make a file's values so far readable on disk by librrd's readers (rrd_fetch_r, rrd_graph):
 * with rrdcached, FLUSH it. Thread-safe. Returns 0, or -1 with a message in err when the
 * flush fails or the file is not (yet) on disk (or, over TCP, not known to rrdcached).
 */
int store_flush(struct store *s, const struct store_file *f, char *err, size_t errlen);

/* Points read from an RRD file: what it stores (a counter's per-second rate), NaN = unknown. */
struct store_points {
	double *ts, *v;   /* ts[i] is the end of row i */
	size_t n;
	double step;      /* of the RRA librrd chose */
	int type;         /* enum reeve_metric_type, from the file's DS type */
};

/*
 * Read consolidation function cf ("AVERAGE", "MIN", "MAX", "FAILURES") of a file over
 * [start, end]; librrd picks the finest RRA covering start. With rrdcached the file is
 * flushed first; over TCP it is read with rrdcached's FETCH. The file's DS type is read once and remembered in f. Thread-safe. Returns 0
 * (free *out with store_points_free), or -1 with a message in err.
 */
int store_fetch(struct store *s, struct store_file *f, const char *cf, double start,
    double end, struct store_points *out, char *err, size_t errlen);
void store_points_free(struct store_points *p);

/*
 * The name of a file for librrd's readers (owned by the store): its absolute path, or when
 * store_daemon is not NULL, its path under the base directory of that rrdcached.
 */
const char *store_file_path(const struct store_file *f);

/*
 * The address of the rrdcached that holds the files on another host (over TCP), which
 * rrd_graph must read them from (a DEF's daemon=); NULL when the files are local.
 */
const char *store_daemon(const struct store *s);

/*
 * Series path encoding, relative to data_dir/rrd: "name.rrd" without labels, else
 * "name/l1=v1/l2=v2.rrd" with labels sorted by name and each value percent-encoded except
 * [A-Za-z0-9_.-]. Injective, reversible, and never leaves the directory. Returns a new
 * string, or NULL when a component would exceed 255 bytes, a name is invalid or a label
 * value is empty.
 */
char *store_path_encode(const char *name, const struct reeve_label *labels, size_t n);

/*
 * Decode a relative path made by store_path_encode into a new name and label array
 * (labels and their strings are newly allocated; free with store_labels_free).
 * Returns 0, or -1 if path is not such a path.
 */
int store_path_decode(const char *path, char **name, struct reeve_label **labels, size_t *n);
void store_labels_free(struct reeve_label *labels, size_t n);

/* RRA arguments of a preset for a step; returns the count written to argv (max 16) or -1. */
int store_preset_rras(const char *preset, unsigned long step, char argv[][64], int max);

#endif /* REEVE_STORE_H */
