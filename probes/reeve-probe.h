/* reeve-probe.h: the versioned ABI between the reeve daemon and its probe modules. */
#ifndef REEVE_PROBE_H
#define REEVE_PROBE_H

/*
 * A probe is a shared object loaded with dlopen(RTLD_NOW | RTLD_LOCAL). It exports exactly
 * one symbol, reeve_probe_entry(), returning a pointer to a static struct reeve_probe.
 * This header is the only one a probe includes from reeve; the probe reaches the daemon
 * only through the struct reeve_host it is given in init().
 *
 * Compatibility: structs here only ever grow at the end. Each starts with the ABI version
 * and its own size, so the daemon refuses a module built for another major ABI and reads
 * only the fields a module's struct actually has.
 *
 * Threads: init() and destroy() run on the daemon's main thread. collect() runs on a worker
 * thread, never twice at once for one instance, but different instances of the same probe
 * may collect concurrently: keep per-instance data in the state, not in statics.
 */

#include <stddef.h>
#include <stdint.h>

#define REEVE_PROBE_ABI_VERSION 1u

enum reeve_metric_type {
	REEVE_GAUGE = 0,   /* a value that goes up and down; stored as RRD GAUGE */
	REEVE_COUNTER = 1  /* monotonically increasing total; stored as RRD DERIVE min 0 */
};

enum reeve_log_level {
	REEVE_LOG_ERROR = 0,
	REEVE_LOG_WARN = 1,
	REEVE_LOG_INFO = 2,
	REEVE_LOG_DEBUG = 3
};

/* One label of a sample. Names follow Prometheus rules ([a-zA-Z_][a-zA-Z0-9_]*). */
struct reeve_label {
	const char *name;
	const char *value;
};

/*
 * A metric family. Usually a static const in the probe. Names follow Prometheus rules and
 * conventions: base units (_bytes, _seconds), counters end in _total.
 */
struct reeve_metric {
	const char *name;
	const char *help;
	enum reeve_metric_type type;
};

/*
 * Options of host->emit_text. Set size to sizeof(struct reeve_text_opts); zero fields take
 * the defaults.
 */
struct reeve_text_opts {
	uint32_t size;
	const char *prefix;               /* prepended to every metric name, or NULL */
	const struct reeve_label *labels; /* added to every sample; a parsed label of the
	                                     same name is kept as exported_NAME */
	size_t nlabels;
	size_t max_samples;               /* default 100000 */
	size_t max_labels;                /* per sample, default 32 */
};

struct reeve_probe_config; /* opaque: the [probe NAME] section being initialised */
struct reeve_emitter;      /* opaque: collects the samples of one collect() call */

/*
 * What the daemon offers a probe. Every string passed in is borrowed for the duration of
 * the call only: the daemon copies what it keeps. Strings returned to the probe by the
 * opt_* functions stay valid until destroy().
 */
struct reeve_host {
	uint32_t abi_version; /* REEVE_PROBE_ABI_VERSION */
	uint32_t size;        /* sizeof(struct reeve_host) of the daemon */

	/*
	 * Configuration, valid only inside init(). Keys of the probe's section other than the
	 * common ones (type, interval, timeout) are the probe's own; any key the probe never
	 * asks for is reported by the daemon as unknown, with its file:line.
	 *
	 * opt_get: the index-th value of a key (keys may repeat, index 0 is the first), or
	 * NULL when there are not that many.
	 * opt_duration/opt_bool/opt_uint: parse the key's last value into *out, which is left
	 * unchanged when the key is absent. They return 0 when the key is absent or valid, -1
	 * after reporting an error with the key's file:line. opt_duration of "interval" and
	 * "timeout" gives the instance's collection interval and collect() deadline.
	 * config_error: report an error about key (or about the section when key is NULL);
	 * init() must then return -1.
	 */
	const char *(*opt_get)(struct reeve_probe_config *cfg, const char *key, size_t index);
	int (*opt_duration)(struct reeve_probe_config *cfg, const char *key, double *out);
	int (*opt_bool)(struct reeve_probe_config *cfg, const char *key, int *out);
	int (*opt_uint)(struct reeve_probe_config *cfg, const char *key, unsigned long min,
	    unsigned long max, unsigned long *out);
	void (*config_error)(struct reeve_probe_config *cfg, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	const char *(*instance_name)(struct reeve_probe_config *cfg);

	/*
	 * Samples, valid only inside collect(). labels may be NULL when nlabels is 0; their
	 * order does not matter. A sample with an invalid name or label is dropped and counted.
	 */
	void (*emit)(struct reeve_emitter *em, const struct reeve_metric *metric,
	    const struct reeve_label *labels, size_t nlabels, double value);

	/* Logging from any probe call; the daemon prefixes the probe instance name. */
	void (*log)(enum reeve_log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

	/* Wall-clock time in seconds since the epoch. */
	double (*now)(void);

	/* ---- appended in ABI 1 (check size before use in modules built for older hosts) --- */

	/*
	 * opt_key: the key of the index-th option of the probe's section, in file order (the
	 * common keys type, interval and timeout are not listed), or NULL past the end. Lets a
	 * probe find its namespaced keys ("value.NAME", "header.NAME"). Listing a key does not
	 * count as asking for it: the probe still reads it with opt_get, so a key it ignores is
	 * reported as unknown. Valid only inside init().
	 */
	const char *(*opt_key)(struct reeve_probe_config *cfg, size_t index);

	/*
	 * emit_text: parse text (len bytes, need not be NUL-terminated) in the Prometheus text
	 * exposition format 0.0.4, strictly, and emit every sample as emit() would: # TYPE
	 * counter (and histogram/summary _bucket, _sum, _count) as counters, the rest as
	 * gauges; timestamps in the text are checked but not used. All or nothing: returns the
	 * number of samples emitted, or -1 with "line N: what" in err (errlen bytes) and
	 * nothing of this text emitted. opts may be NULL. Valid only inside collect().
	 */
	long (*emit_text)(struct reeve_emitter *em, const char *text, size_t len,
	    const struct reeve_text_opts *opts, char *err, size_t errlen);

	/* opt_size: like opt_duration, for a size with a unit ("64KiB", "10MiB", "1GB"). */
	int (*opt_size)(struct reeve_probe_config *cfg, const char *key, uint64_t *out);
};

/*
 * What a probe module provides.
 *
 * init: validate the section through host->opt_*, allocate per-instance state into *state.
 *   Return 0, or -1 after at least one host->config_error(). host stays valid until destroy().
 * collect: emit the current samples through host->emit(em, ...). Return 0, or -1 with a
 *   message in err (errlen bytes, NUL-terminated) when the probe failed: the daemon then
 *   reports reeve_probe_up 0 and backs off. Samples emitted before a failure are kept.
 *   A collect() that outlives its timeout is abandoned: its samples are discarded.
 * destroy: free the state. Called once for each successful init(), never during collect().
 */
struct reeve_probe {
	uint32_t abi_version; /* REEVE_PROBE_ABI_VERSION */
	uint32_t size;        /* sizeof(struct reeve_probe) */
	const char *name;     /* the type name used in configs, e.g. "cpu" */
	const char *description;
	int (*init)(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state);
	int (*collect)(void *state, struct reeve_emitter *em, char *err, size_t errlen);
	void (*destroy)(void *state);
};

/* The one symbol a probe module exports. */
const struct reeve_probe *reeve_probe_entry(void);

#define REEVE_PROBE_SYMBOL "reeve_probe_entry"

#endif /* REEVE_PROBE_H */
