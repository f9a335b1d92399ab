/* sched.c: the scheduler thread and the worker pool that run probe collections. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "plugin.h"
#include "registry.h"
#include "sched.h"
#include "util.h"

/* A failing probe waits interval * 2^(fails-1) between tries, at most this long. */
#define SCHED_BACKOFF_MAX 300.0
/* Threads beyond the configured pool, to replace workers stuck in hung probes. */
#define SCHED_SPARE_MAX 16

/*
 * Locks: lock guards everything below it and the scheduling fields of every probe_inst
 * (see plugin.h). Workers take it only to pick a job and to finish one, never while a
 * probe runs; reg_commit is called without it.
 */
struct sched {
	struct registry *reg;
	unsigned target_workers;
	pthread_t timer;

	pthread_mutex_t lock;
	pthread_cond_t wake_timer;   /* the set or the queue changed, or stop */
	pthread_cond_t wake_worker;  /* a job is queued, or stop */
	pthread_cond_t idle;         /* a job finished (for sched_free) */
	struct probe_inst **probes;  /* the current set */
	size_t nprobes;
	struct probe_inst **retired; /* old instances still running */
	size_t nretired;
	struct probe_inst **queue;   /* due, waiting for a worker */
	size_t qlen, qcap;
	unsigned workers, busy, hung;
	unsigned long long rounds;
	int stopping, started;
};

static const struct reeve_metric m_up = { "reeve_probe_up",
	"1 if the probe's last collection succeeded, 0 if it failed or timed out", REEVE_GAUGE };
static const struct reeve_metric m_duration = { "reeve_probe_duration_seconds",
	"How long the probe's last collection took", REEVE_GAUGE };
static const struct reeve_metric m_failures = { "reeve_probe_failures_total",
	"Collections of the probe that failed", REEVE_COUNTER };
static const struct reeve_metric m_timeouts = { "reeve_probe_timeouts_total",
	"Collections of the probe abandoned after its timeout", REEVE_COUNTER };
static const struct reeve_metric m_samples = { "reeve_probe_samples",
	"Samples the probe's last collection produced", REEVE_GAUGE };
static const struct reeve_metric m_rejected = { "reeve_probe_rejected_samples",
	"Samples of the probe's last collection dropped for invalid names", REEVE_GAUGE };

static void *worker_main(void *arg);

struct sched *
sched_new(struct registry *r, unsigned nworkers)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	s->reg = r;
	s->target_workers = nworkers ? nworkers : 1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake_timer, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&s->wake_worker, NULL);
	pthread_cond_init(&s->idle, NULL);
	return s;
}

/* Append the probe's own metrics to its batch: up, duration, failures, timeouts. */
static void
self_metrics(struct probe_inst *p, struct reg_batch *b)
{
	struct reeve_label l[2] = { { "probe", p->name }, { "type", p->type } };

	reg_batch_add(b, m_up.name, m_up.help, m_up.type, l, 2, p->up);
	reg_batch_add(b, m_duration.name, m_duration.help, m_duration.type, l, 1, p->last_duration);
	reg_batch_add(b, m_failures.name, m_failures.help, m_failures.type, l, 1,
	    (double)p->failures_total);
	reg_batch_add(b, m_timeouts.name, m_timeouts.help, m_timeouts.type, l, 1,
	    (double)p->timeouts_total);
	reg_batch_add(b, m_samples.name, m_samples.help, m_samples.type, l, 1, (double)p->last_samples);
}

static void
queue_push(struct sched *s, struct probe_inst *p)
{
	if (s->qlen == s->qcap) {
		s->qcap = s->qcap ? s->qcap * 2 : 16;
		s->queue = xreallocarray(s->queue, s->qcap, sizeof(*s->queue));
	}
	s->queue[s->qlen++] = p;
	p->running = 1; /* queued counts as running: never queued twice */
	p->started = 0;
	pthread_cond_signal(&s->wake_worker);
}

static double
backoff(const struct probe_inst *p)
{
	double d = p->interval, cap = p->interval > SCHED_BACKOFF_MAX ? p->interval : SCHED_BACKOFF_MAX;

	for (unsigned i = 1; i < p->fails && d < cap; i++)
		d *= 2;
	return d < cap ? d : cap;
}

/* Remove p from the retired list and free it; called with the lock held. */
static void
retire_finish(struct sched *s, struct probe_inst *p)
{
	for (size_t i = 0; i < s->nretired; i++)
		if (s->retired[i] == p) {
			s->retired[i] = s->retired[--s->nretired];
			break;
		}
	reg_owner_free(s->reg, p->owner);
	plugin_inst_free(p);
}

static void
spawn_worker(struct sched *s)
{
	pthread_t t;

	if (pthread_create(&t, NULL, worker_main, s) == 0) {
		pthread_detach(t);
		s->workers++;
	} else
		log_warnx("sched: cannot start a worker thread");
}

static void *
worker_main(void *arg)
{
	struct sched *s = arg;
	struct reg_batch batch = { 0 };
	char err[512];

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct probe_inst *p;
		double t0, wall;
		int rc, abandoned, stopping;

		while (s->qlen == 0 && !s->stopping)
			pthread_cond_wait(&s->wake_worker, &s->lock);
		if (s->stopping || s->workers - s->hung > s->target_workers)
			break;
		p = s->queue[0];
		memmove(s->queue, s->queue + 1, (--s->qlen) * sizeof(*s->queue));
		t0 = util_monotonic();
		p->started = t0;
		s->busy++;
		pthread_mutex_unlock(&s->lock);

		wall = util_now();
		rc = plugin_collect(p, &batch, err, sizeof(err));

		pthread_mutex_lock(&s->lock);
		s->busy--;
		abandoned = p->abandoned;
		stopping = s->stopping;
		if (!abandoned)
			p->finishing = 1; /* the timer no longer abandons it */
		else
			s->hung--;
		pthread_mutex_unlock(&s->lock);

		if (!abandoned) {
			p->last_duration = util_monotonic() - t0;
			p->last_samples = batch.n;
			p->up = rc == 0;
			if (rc != 0) {
				unsigned long dropped;

				p->failures_total++;
				if (log_limit_allow(&p->fail_log, 60, &dropped))
					log_warnx("probe %s: %s%s", p->name, err,
					    dropped ? " (repeated failures not logged)" : "");
			}
			if (batch.rejected) {
				unsigned long dropped;

				if (log_limit_allow(&p->fail_log, 60, &dropped))
					log_warnx("probe %s: %lu samples with invalid names dropped",
					    p->name, batch.rejected);
			}
			if (!p->builtin) {
				self_metrics(p, &batch);
				struct reeve_label l[1] = { { "probe", p->name } };
				reg_batch_add(&batch, m_rejected.name, m_rejected.help, m_rejected.type,
				    l, 1, (double)batch.rejected);
			}
			if (!p->retired && !stopping)
				reg_commit(s->reg, p->owner, wall, &batch);
		}

		pthread_mutex_lock(&s->lock);
		p->running = 0;
		p->finishing = 0;
		p->abandoned = 0;
		s->rounds++;
		if (!abandoned) {
			p->fails = rc == 0 ? 0 : p->fails + 1;
			if (p->fails)
				p->next_due = util_monotonic() + backoff(p);
		}
		/* at shutdown every instance is marked retired but stays in s->probes, which
		 * sched_free() frees: freeing it here too was a use after free */
		if (p->retired && !s->stopping)
			retire_finish(s, p);
		pthread_cond_signal(&s->wake_timer);
		pthread_cond_broadcast(&s->idle);
	}
	s->workers--;
	pthread_cond_signal(&s->wake_worker); /* a job this thread left is someone else's */
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	reg_batch_free(&batch);
	return NULL;
}

/* A probe passed its timeout: report it down, and free its worker slot. Lock held. */
static void
abandon(struct sched *s, struct probe_inst *p, double now)
{
	struct reg_batch b = { 0 };
	unsigned long dropped;

	p->abandoned = 1;
	p->timeouts_total++;
	p->failures_total++;
	p->fails++;
	p->up = 0;
	p->last_duration = now - p->started;
	p->last_samples = 0;
	p->next_due = now + backoff(p);
	s->hung++;
	if (log_limit_allow(&p->fail_log, 60, &dropped))
		log_warnx("probe %s: no answer after %.1fs, abandoned (it keeps its thread until it returns)",
		    p->name, p->timeout);
	if (!p->retired) {
		self_metrics(p, &b);
		pthread_mutex_unlock(&s->lock);
		reg_commit(s->reg, p->owner, util_now(), &b);
		pthread_mutex_lock(&s->lock);
		reg_batch_free(&b);
	}
	/* keep the pool at its size while this thread is stuck, within bounds */
	if (s->workers - s->hung < s->target_workers && s->hung <= SCHED_SPARE_MAX)
		spawn_worker(s);
}

static void *
timer_main(void *arg)
{
	struct sched *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		double now = util_monotonic(), next = now + 1.0;
		struct timespec ts;

		for (size_t i = 0; i < s->nprobes; i++) {
			struct probe_inst *p = s->probes[i];

			if (p->running) {
				if (p->started > 0 && !p->finishing && !p->abandoned &&
				    now - p->started > p->timeout) {
					abandon(s, p, now);
					now = util_monotonic();
				}
				if (p->started > 0 && !p->abandoned && p->started + p->timeout < next)
					next = p->started + p->timeout;
				continue;
			}
			if (p->next_due <= now) {
				queue_push(s, p);
				/* stay on the grid; if far behind, start again from now */
				p->next_due += p->interval;
				if (p->next_due < now)
					p->next_due = now + p->interval;
			}
			if (p->next_due < next)
				next = p->next_due;
		}
		if (next <= now)
			continue;
		ts.tv_sec = (time_t)next;
		ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&s->wake_timer, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void
sched_set_probes(struct sched *s, struct probe_inst **probes, size_t n)
{
	double now = util_monotonic();

	pthread_mutex_lock(&s->lock);
	/* drop queued jobs of the old set, then retire every old instance */
	s->qlen = 0;
	for (size_t i = 0; i < s->nprobes; i++) {
		struct probe_inst *p = s->probes[i];

		p->retired = 1;
		if (p->running && p->started > 0) {
			s->retired = xreallocarray(s->retired, s->nretired + 1, sizeof(*s->retired));
			s->retired[s->nretired++] = p;
		} else {
			reg_owner_free(s->reg, p->owner);
			plugin_inst_free(p);
		}
	}
	free(s->probes);
	s->probes = xcalloc(n ? n : 1, sizeof(*s->probes));
	for (size_t i = 0; i < n; i++) {
		struct probe_inst *p = probes[i];

		p->owner = reg_owner_new(s->reg, p->name, p->interval, 0);
		p->next_due = now;
		s->probes[i] = p;
	}
	s->nprobes = n;
	pthread_cond_signal(&s->wake_timer);
	pthread_mutex_unlock(&s->lock);
}

int
sched_start(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->target_workers; i++)
		spawn_worker(s);
	pthread_mutex_unlock(&s->lock);
	if (pthread_create(&s->timer, NULL, timer_main, s) != 0)
		return -1;
	s->started = 1;
	return 0;
}

unsigned
sched_free(struct sched *s, double timeout)
{
	double deadline = util_monotonic() + timeout;
	struct timespec ts;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	s->qlen = 0;
	/* a collect still running commits nothing (it sees stopping); its instance stays in
	 * s->probes, freed below, so it is not marked retired (retire_finish would free it) */
	pthread_cond_broadcast(&s->wake_worker);
	pthread_cond_broadcast(&s->wake_timer);
	pthread_mutex_unlock(&s->lock);
	if (s->started)
		pthread_join(s->timer, NULL);

	/* wait for the workers that are not stuck in a hung probe */
	pthread_mutex_lock(&s->lock);
	while (s->workers > s->hung && util_monotonic() < deadline) {
		double d = util_now() + 0.1;
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&s->idle, &s->lock, &ts);
	}
	if (s->workers > 0) {
		/* threads still inside a probe keep their instance: leak it rather than free it
		 * under them; the process is about to exit */
		unsigned left = s->workers;

		log_warnx("sched: %u collection(s) still running at shutdown, abandoned", left);
		pthread_mutex_unlock(&s->lock);
		return left;
	}
	for (size_t i = 0; i < s->nprobes; i++) {
		reg_owner_free(s->reg, s->probes[i]->owner);
		plugin_inst_free(s->probes[i]);
	}
	for (size_t i = 0; i < s->nretired; i++) {
		reg_owner_free(s->reg, s->retired[i]->owner);
		plugin_inst_free(s->retired[i]);
	}
	pthread_mutex_unlock(&s->lock);
	free(s->probes);
	free(s->retired);
	free(s->queue);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake_timer);
	pthread_cond_destroy(&s->wake_worker);
	pthread_cond_destroy(&s->idle);
	free(s);
	return 0;
}

void
sched_get_stats(struct sched *s, struct sched_stats *st)
{
	pthread_mutex_lock(&s->lock);
	st->workers = s->workers;
	st->busy = s->busy;
	st->rounds = s->rounds;
	pthread_mutex_unlock(&s->lock);
}

int
sched_ready(struct sched *s)
{
	int ready = 1;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nprobes; i++)
		if (s->probes[i]->last_duration == 0 && s->probes[i]->failures_total == 0)
			ready = 0;
	pthread_mutex_unlock(&s->lock);
	return ready;
}
