/* sched.h: the scheduler thread and the worker pool that run probe collections. */
#ifndef REEVE_SCHED_H
#define REEVE_SCHED_H

#include <stddef.h>

struct registry;
struct probe_inst;
struct sched;

/*
 * Create a scheduler feeding r, with nworkers collect threads. Probes are added with
 * sched_set_probes; nothing runs before sched_start.
 */
struct sched *sched_new(struct registry *r, unsigned nworkers);

/*
 * Replace the running set of probes with probes[0..n) (ownership of the instances moves
 * to the scheduler; the array itself stays the caller's). Old instances are destroyed once
 * their collect has returned; one that hangs is left to finish on its own thread.
 */
void sched_set_probes(struct sched *s, struct probe_inst **probes, size_t n);

int sched_start(struct sched *s);

/*
 * Stop scheduling and wait up to timeout seconds for running collects. Returns 0 after
 * freeing the scheduler and its probes, or the count of threads still inside a probe: then
 * nothing is freed (they may still touch it) and the caller should only exit.
 */
unsigned sched_free(struct sched *s, double timeout);

/* Counters for reeve's own metrics. */
struct sched_stats {
	unsigned workers, busy;
	unsigned long long rounds;
};
void sched_get_stats(struct sched *s, struct sched_stats *st);

/* 1 once every probe has completed (or failed) a first collection. */
int sched_ready(struct sched *s);

#endif /* REEVE_SCHED_H */
