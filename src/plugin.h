/* plugin.h: probe modules (dlopen), the host table they call, and configured probe instances. */
#ifndef REEVE_PLUGIN_H
#define REEVE_PLUGIN_H

#include <stddef.h>

#include "log.h"
#include "reeve-probe.h"

struct cfg;
struct cfg_probe;
struct cfg_errors;
struct reg_batch;

/*
 * A configured probe: one [probe NAME] section with its module and state. Fields below
 * "scheduling" belong to the scheduler and are guarded by its lock.
 */
struct probe_inst {
	char *name;
	char *type;
	double interval, timeout;
	const struct reeve_probe *probe; /* in a module that is never unloaded */
	void *state;
	int builtin;                     /* compiled into the daemon, not a module */
	char *log_prefix;                /* "probe NAME: " */
	struct log_limit fail_log;
	/* scheduling */
	struct reg_owner *owner;
	double next_due;                 /* monotonic */
	double started;                  /* monotonic, while running */
	int running, abandoned, finishing, retired;
	unsigned fails;
	unsigned long long failures_total, timeouts_total;
	double last_duration;
	size_t last_samples;
	int up;
};

/*
 * Create an instance for every [probe] section of cfg: find each module in cfg->plugin_dir,
 * check its ABI, run its init() to validate its keys. Every problem is added to errs with
 * file:line. Returns 0 with *out (a new array of new instances) and *n, or -1 (nothing
 * is returned then; instances made so far are destroyed).
 */
int plugin_create_all(const struct cfg *cfg, struct cfg_errors *errs,
    struct probe_inst ***out, size_t *n);

/* Create an instance of a probe compiled into the daemon (not configurable). */
struct probe_inst *plugin_builtin(const char *name, const struct reeve_probe *probe,
    void *state, double interval);

/* Destroy an instance (calls the probe's destroy). NULL is a no-op. */
void plugin_inst_free(struct probe_inst *p);

/*
 * Run one collect() of p into b (reset first). Returns 0 or -1 with err set. Sets this
 * thread's log prefix to the probe's for the call.
 */
int plugin_collect(struct probe_inst *p, struct reg_batch *b, char *err, size_t errlen);

/* The host table handed to probes (for tests that drive a probe directly). */
const struct reeve_host *plugin_host(void);

#endif /* REEVE_PLUGIN_H */
