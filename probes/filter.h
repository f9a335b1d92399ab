/* filter.h: include/exclude regular-expression options that select devices by name. */
#ifndef REEVE_PROBES_FILTER_H
#define REEVE_PROBES_FILTER_H

/*
 * Internal to the built-in probes, like proc.h: filter.c is compiled into each probe module
 * that filters names and is not part of the probe ABI.
 */

#include <regex.h>
#include <stddef.h>

struct reeve_host;
struct reeve_probe_config;

/* An optional regex option: its last value, else a default; "" or no default: no filter. */
struct filter {
	regex_t re;
	int set;	/* re is compiled (and must be freed) */
};

#define FILTER_NAME_MAX 64	/* the longest name a cache remembers, with its NUL */

/*
 * Filter decisions by position: the devices of /proc files come in a stable order, so the
 * name at the same position as last time reuses its decision and regexec runs only when
 * the list changes.
 */
struct filter_name {
	char name[FILTER_NAME_MAX];
	int want;
};

struct filter_cache {
	struct filter_name *v;
	size_t n;
	size_t cap;
};

/* ---- filter.c: each function's contract is in the comment above its definition ---- */
int filter_init(struct filter *f, struct reeve_probe_config *cfg, const struct reeve_host *host,
    const char *key, const char *def);
void filter_free(struct filter *f);
int filter_pass(const struct filter *inc, const struct filter *exc, const char *name);
int filter_cache_want(struct filter_cache *nc, size_t pos, const char *name,
    const struct filter *inc, const struct filter *exc);
void filter_cache_free(struct filter_cache *nc);

#endif /* REEVE_PROBES_FILTER_H */
