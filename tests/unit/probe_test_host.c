/* probe_test_host.c: a fake struct reeve_host that records options, errors and samples. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_test_host.h"

static size_t nlogs;

static const char *
opt_get(struct reeve_probe_config *cfg, const char *key, size_t index)
{
	size_t i, seen = 0;

	for (i = 0; i < cfg->n; i++) {
		if (strcmp(cfg->key[i], key) != 0)
			continue;
		cfg->asked[i] = 1;
		if (seen++ == index)
			return cfg->value[i];
	}
	return NULL;
}

static const char *
opt_last(struct reeve_probe_config *cfg, const char *key)
{
	const char *v, *last = NULL;
	size_t i;

	for (i = 0; (v = opt_get(cfg, key, i)) != NULL; i++)
		last = v;
	return last;
}

static void
config_error(struct reeve_probe_config *cfg, const char *key, const char *fmt, ...)
{
	va_list ap;
	char msg[400];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# config error: %s: %s\n", key != NULL ? key : "(section)", msg);
	if (cfg->nerrors++ == 0)
		snprintf(cfg->error, sizeof(cfg->error), "%s: %s",
		    key != NULL ? key : "(section)", msg);
}

static int
opt_duration(struct reeve_probe_config *cfg, const char *key, double *out)
{
	const char *v = opt_last(cfg, key);
	char *end;
	double d;

	if (v == NULL)
		return 0;
	d = strtod(v, &end);
	if (end == v || d < 0) {
		config_error(cfg, key, "bad duration '%s'", v);
		return -1;
	}
	if (strcmp(end, "ms") == 0)
		d /= 1000;
	else if (strcmp(end, "m") == 0)
		d *= 60;
	else if (strcmp(end, "s") != 0 && *end != '\0') {
		config_error(cfg, key, "bad duration '%s'", v);
		return -1;
	}
	*out = d;
	return 0;
}

static int
opt_bool(struct reeve_probe_config *cfg, const char *key, int *out)
{
	const char *v = opt_last(cfg, key);

	if (v == NULL)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else {
		config_error(cfg, key, "not a boolean: '%s'", v);
		return -1;
	}
	return 0;
}

static int
opt_uint(struct reeve_probe_config *cfg, const char *key, unsigned long min,
    unsigned long max, unsigned long *out)
{
	const char *v = opt_last(cfg, key);
	unsigned long u;
	char *end;

	if (v == NULL)
		return 0;
	u = strtoul(v, &end, 10);
	if (end == v || *end != '\0' || u < min || u > max) {
		config_error(cfg, key, "not a number in %lu..%lu: '%s'", min, max, v);
		return -1;
	}
	*out = u;
	return 0;
}

static const char *
instance_name(struct reeve_probe_config *cfg)
{
	return "test";
}

static int
labelcmp(const void *a, const void *b)
{
	const struct reeve_label *la = a, *lb = b;

	return strcmp(la->name, lb->name);
}

static void
emit(struct reeve_emitter *em, const struct reeve_metric *metric,
    const struct reeve_label *labels, size_t nlabels, double value)
{
	struct reeve_label sorted[16];
	struct ptest_sample *s;
	size_t i, off = 0;

	if (em->n == em->cap) {
		em->cap = em->cap ? em->cap * 2 : 64;
		em->s = realloc(em->s, em->cap * sizeof(*em->s));
		if (em->s == NULL)
			abort();
	}
	s = &em->s[em->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", metric->name);
	s->type = metric->type;
	s->value = value;
	if (nlabels > 16)
		abort();
	if (nlabels > 0)
		memcpy(sorted, labels, nlabels * sizeof(*labels));
	qsort(sorted, nlabels, sizeof(*sorted), labelcmp);
	for (i = 0; i < nlabels; i++) {
		int w = snprintf(s->labels + off, sizeof(s->labels) - off, "%s%s=%s",
		    i ? "," : "", sorted[i].name, sorted[i].value);
		if (w < 0 || (size_t)w >= sizeof(s->labels) - off)
			abort();
		off += (size_t)w;
	}
}

static void
log_line(enum reeve_log_level level, const char *fmt, ...)
{
	va_list ap;

	nlogs++;
	fprintf(stderr, "# log %d: ", (int)level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double
now(void)
{
	return 1700000000.0;
}

static const char *
opt_key(struct reeve_probe_config *cfg, size_t index)
{
	return index < cfg->n ? cfg->key[index] : NULL;
}

/* Sizes as the daemon reads them: "0", or a whole number and a unit (512B, 64KiB, 1MB). */
static int
opt_size(struct reeve_probe_config *cfg, const char *key, uint64_t *out)
{
	static const struct { const char *u; uint64_t mult; } units[] = {
		{ "B", 1 }, { "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 },
		{ "kB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
	};
	const char *v = opt_last(cfg, key);
	unsigned long long n;
	char *end;

	if (v == NULL)
		return 0;
	if (strcmp(v, "0") == 0) {
		*out = 0;
		return 0;
	}
	n = strtoull(v, &end, 10);
	if (end != v && *v != '-')
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].u) == 0) {
				*out = n * units[i].mult;
				return 0;
			}
	config_error(cfg, key, "\"%s\" is not a size (use a whole number and a unit: 512B, "
	    "64KiB, 10MiB, 1GiB)", v);
	return -1;
}

static const struct reeve_host host = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_host),
	.opt_get = opt_get,
	.opt_duration = opt_duration,
	.opt_bool = opt_bool,
	.opt_uint = opt_uint,
	.config_error = config_error,
	.instance_name = instance_name,
	.emit = emit,
	.log = log_line,
	.now = now,
	.opt_key = opt_key,
	.opt_size = opt_size,
};

/* ptest_config: see probe_test_host.h. */
void
ptest_config(struct reeve_probe_config *cfg, const char *const *kv)
{
	memset(cfg, 0, sizeof(*cfg));
	for (; kv != NULL && kv[0] != NULL; kv += 2) {
		if (cfg->n == PTEST_MAX_KV || kv[1] == NULL)
			abort();
		cfg->key[cfg->n] = kv[0];
		cfg->value[cfg->n] = kv[1];
		cfg->n++;
	}
}

/* ptest_unasked: see probe_test_host.h. */
const char *
ptest_unasked(const struct reeve_probe_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n; i++)
		if (!cfg->asked[i])
			return cfg->key[i];
	return NULL;
}

/* ptest_host: see probe_test_host.h. */
const struct reeve_host *
ptest_host(void)
{
	return &host;
}

/* ptest_emitter_reset: see probe_test_host.h. */
void
ptest_emitter_reset(struct reeve_emitter *em)
{
	em->n = 0;
}

/* ptest_emitter_free: see probe_test_host.h. */
void
ptest_emitter_free(struct reeve_emitter *em)
{
	free(em->s);
	memset(em, 0, sizeof(*em));
}

/* ptest_find: see probe_test_host.h. */
const struct ptest_sample *
ptest_find(const struct reeve_emitter *em, const char *name, const char *labels)
{
	size_t i;

	for (i = 0; i < em->n; i++)
		if (strcmp(em->s[i].name, name) == 0 && strcmp(em->s[i].labels, labels) == 0)
			return &em->s[i];
	return NULL;
}

/* ptest_count: see probe_test_host.h. */
size_t
ptest_count(const struct reeve_emitter *em, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < em->n; i++)
		if (strcmp(em->s[i].name, name) == 0)
			n++;
	return n;
}

/* ptest_root: see probe_test_host.h. */
const char *
ptest_root(const char *kernel)
{
	static char buf[4096];
	const char *data = getenv("TEST_DATA");

	if (data == NULL || *data == '\0')
		data = "tests/data";
	snprintf(buf, sizeof(buf), "%s/proc/%s", data, kernel);
	return buf;
}

/* ptest_log_count: see probe_test_host.h. */
size_t
ptest_log_count(void)
{
	return nlogs;
}

/* ptest_slurp: see probe_test_host.h. */
char *
ptest_slurp(const char *kernel, const char *rel, size_t *len)
{
	char path[4096], *buf;
	FILE *f;
	long sz;

	if (snprintf(path, sizeof(path), "%s/%s", ptest_root(kernel), rel) >= (int)sizeof(path))
		return NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) == -1 ||
	    (buf = malloc((size_t)sz + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	*len = fread(buf, 1, (size_t)sz, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}
