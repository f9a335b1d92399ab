/* probe_test_host.h: a fake struct reeve_host for running probes in unit tests. */
#ifndef PROBE_TEST_HOST_H
#define PROBE_TEST_HOST_H

#include <stddef.h>

#include <reeve-probe.h>

#define PTEST_MAX_KV 32

/* The configuration of one probe instance: key/value pairs, as the daemon would hold them. */
struct reeve_probe_config {
	const char *key[PTEST_MAX_KV];
	const char *value[PTEST_MAX_KV];
	int asked[PTEST_MAX_KV];
	size_t n;
	int nerrors;
	char error[512];        /* the first error reported, "key: message" */
};

/* One recorded sample; labels as "a=x,b=y" sorted by label name. */
struct ptest_sample {
	char name[128];
	char labels[512];
	double value;
	enum reeve_metric_type type;
};

/* The samples of one collect() call. */
struct reeve_emitter {
	struct ptest_sample *s;
	size_t n;
	size_t cap;
};

/*
 * ptest_config: fill cfg from a NULL-terminated list of key, value, key, value, ...
 * The strings are borrowed and must outlive cfg.
 */
void ptest_config(struct reeve_probe_config *cfg, const char *const *kv);

/* ptest_unasked: the first key the probe never asked for, or NULL. */
const char *ptest_unasked(const struct reeve_probe_config *cfg);

/* ptest_host: the fake host; log lines go to stderr prefixed with '#' (TAP comments). */
const struct reeve_host *ptest_host(void);

/* ptest_emitter_reset: forget the samples of em (keeps its memory). */
void ptest_emitter_reset(struct reeve_emitter *em);

/* ptest_emitter_free: free the samples of em. */
void ptest_emitter_free(struct reeve_emitter *em);

/*
 * ptest_find: the sample with this name and labels ("a=x,b=y", sorted; "" for none),
 * or NULL.
 */
const struct ptest_sample *ptest_find(const struct reeve_emitter *em, const char *name,
    const char *labels);

/* ptest_count: how many samples of em have this name. */
size_t ptest_count(const struct reeve_emitter *em, const char *name);

/* ptest_root: "$TEST_DATA/proc/<kernel>" in buf (static storage, overwritten by each call). */
const char *ptest_root(const char *kernel);

/*
 * ptest_slurp: the content of $TEST_DATA/proc/<kernel>/<rel> (NUL-terminated, *len bytes
 * before the NUL), or NULL. The caller frees it.
 */
char *ptest_slurp(const char *kernel, const char *rel, size_t *len);

/* ptest_log_count: lines logged through the host since the program started. */
size_t ptest_log_count(void);

#endif /* PROBE_TEST_HOST_H */
