/* alertlog.h: the alert history log: every transition as one JSON line, rotated by size. */
#ifndef REEVE_ALERTLOG_H
#define REEVE_ALERTLOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "reeve-probe.h"
#include "rule.h"

#define ALERTLOG_MAX_SIZE (10u << 20) /* bytes of history.jsonl before it is rotated */
#define ALERTLOG_KEEP 5               /* rotated files kept: history.jsonl.1 .. .5 */
#define ALERTLOG_MAX_LINE (64u << 10) /* longer lines (huge annotations) are cut when read */

/*
 * An open history log: dir/history.jsonl and its rotated files dir/history.jsonl.1 (newest)
 * to .keep (oldest). lock serialises appends, rotation and reads, so the API may read while
 * the rule thread appends.
 */
struct alertlog {
	char *dir;
	char *path;          /* dir/history.jsonl */
	uint64_t max_size;
	unsigned keep;
	int fd;              /* open for appending; -1 after a failure (reopened on the next append) */
	uint64_t size;
	struct log_limit limit; /* append failures are logged once a minute */
	unsigned long long failures; /* entries that could not be appended (atomic) */
	pthread_mutex_t lock;
};

/*
 * Open (creating dir, mode 0755, and the file, 0644) the log in dir, usually
 * data_dir/alerts. max_size 0 and keep 0 choose ALERTLOG_MAX_SIZE and ALERTLOG_KEEP.
 * Returns a new log, or NULL with a logged warning and errno set.
 */
struct alertlog *alertlog_open(const char *dir, uint64_t max_size, unsigned keep);
void alertlog_close(struct alertlog *al);

/*
 * Append ev as one JSON line and fsync it: {"time":..,"rule":..,"labels":{..},"from":..,
 * "to":..,"value":..,"severity":..,"summary":..}. value and summary are null when there
 * are none. Rotates first when the line would take the file past max_size. Returns 0, or
 * -1 with errno set.
 */
int alertlog_append(struct alertlog *al, const struct rule_event *ev);

/* A rule_set_sink callback: arg is a struct alertlog *; failures are logged, rate-limited. */
void alertlog_sink(void *arg, const struct rule_event *ev);

/* One entry read back. All strings and arrays are owned by the entry. */
struct alertlog_entry {
	double time;
	char *rule;
	struct reeve_label *labels; /* as written: sorted by name */
	size_t nlabels;
	char *from, *to;
	double value;               /* NaN when null */
	char *severity;
	char *summary;              /* NULL when null */
};

/*
 * The entries with time >= since, of rule (or every rule when NULL), oldest first, from the
 * rotated files and the current one; at most max of them (the newest max when there are
 * more). Lines that are not entries (a torn last line after a crash) are skipped. Returns 0
 * with *out (free with alertlog_entries_free) and *n, or -1 with errno set.
 */
int alertlog_read(struct alertlog *al, double since, const char *rule, size_t max,
    struct alertlog_entry **out, size_t *n);
void alertlog_entries_free(struct alertlog_entry *e, size_t n);

#endif /* REEVE_ALERTLOG_H */
