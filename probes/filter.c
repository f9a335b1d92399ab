/* filter.c: include/exclude regular-expression options that select devices by name. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "filter.h"

/*
 * Compiles the last value of the option key (POSIX extended syntax), else def, into f; an
 * empty value, or none and no default, leaves f unset, which passes everything. Only inside
 * init(). Returns 0, or -1 after reporting the invalid expression through
 * host->config_error. f owns the compiled expression until filter_free(f).
 */
int
filter_init(struct filter *f, struct reeve_probe_config *cfg, const struct reeve_host *host,
    const char *key, const char *def)
{
	const char *v, *last = NULL;
	char msg[256];
	size_t i;
	int rc;

	f->set = 0;
	for (i = 0; (v = host->opt_get(cfg, key, i)) != NULL; i++)
		last = v;
	if (last == NULL)
		last = def;
	if (last == NULL || *last == '\0')
		return 0;
	if ((rc = regcomp(&f->re, last, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &f->re, msg, sizeof(msg));
		host->config_error(cfg, key, "invalid regular expression '%s': %s", last, msg);
		return -1;
	}
	f->set = 1;
	return 0;
}

/* Frees f's compiled expression, if any; f is then unset and may be freed again. */
void
filter_free(struct filter *f)
{
	if (f->set)
		regfree(&f->re);
	f->set = 0;
}

/*
 * Whether name passes an include filter (unset: everything) and is not matched by an
 * exclude filter (unset: nothing). Returns 1 or 0.
 */
int
filter_pass(const struct filter *inc, const struct filter *exc, const char *name)
{
	if (inc->set && regexec(&inc->re, name, 0, NULL, 0) != 0)
		return 0;
	if (exc->set && regexec(&exc->re, name, 0, NULL, 0) == 0)
		return 0;
	return 1;
}

/*
 * Whether the pos-th name of this read passes inc and exc: 1 or 0, reusing the decision
 * kept for that position when the name there is the same, else deciding and keeping it.
 * Returns -1 when out of memory. nc (zeroed before first use) owns its memory until
 * filter_cache_free(nc); name is borrowed and copied.
 */
int
filter_cache_want(struct filter_cache *nc, size_t pos, const char *name,
    const struct filter *inc, const struct filter *exc)
{
	struct filter_name *nv;
	size_t ncap;

	if (pos < nc->n && strcmp(nc->v[pos].name, name) == 0)
		return nc->v[pos].want;
	if (pos >= nc->cap) {
		ncap = nc->cap ? nc->cap * 2 : 16;
		if ((nv = realloc(nc->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		nc->v = nv;
		nc->cap = ncap;
	}
	snprintf(nc->v[pos].name, sizeof(nc->v[pos].name), "%s", name);
	nc->v[pos].want = filter_pass(inc, exc, name);
	if (pos >= nc->n)
		nc->n = pos + 1;
	return nc->v[pos].want;
}

/* Frees the decisions kept in nc; nc is then empty and may be used or freed again. */
void
filter_cache_free(struct filter_cache *nc)
{
	free(nc->v);
	nc->v = NULL;
	nc->n = nc->cap = 0;
}
