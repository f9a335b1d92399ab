/* load.c: the load probe: load averages and the number of threads from /proc/loadavg. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "proc.h"

static const struct reeve_metric m_load[3] = {
	{ "load1", "Load average over 1 minute.", REEVE_GAUGE },
	{ "load5", "Load average over 5 minutes.", REEVE_GAUGE },
	{ "load15", "Load average over 15 minutes.", REEVE_GAUGE },
};
static const struct reeve_metric m_threads = {
	"sched_threads", "Threads (kernel scheduling entities) that exist.", REEVE_GAUGE
};

REEVE_STATIC int parse_loadavg(const char *buf, size_t len, double *load, uint64_t *runnable,
    uint64_t *threads);

struct load_state {
	const struct reeve_host *host;
	struct proc_file loadavg;
};

/*
 * Parse /proc/loadavg ("0.52 0.58 0.59 2/1234 56789\n") into load[0..2] and the
 * runnable/existing thread counts. Returns 0, or -1 when the line is incomplete or malformed.
 */
REEVE_STATIC int
parse_loadavg(const char *buf, size_t len, double *load, uint64_t *runnable, uint64_t *threads)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f, *slash;
	size_t flen, i;

	if ((line = proc_next_line(&p, end, &eol)) == NULL)
		return -1;
	for (i = 0; i < 3; i++)
		if ((f = proc_next_field(&line, eol, &flen)) == NULL ||
		    proc_parse_double(f, flen, &load[i]) == -1)
			return -1;
	if ((f = proc_next_field(&line, eol, &flen)) == NULL ||
	    (slash = memchr(f, '/', flen)) == NULL ||
	    proc_parse_u64(f, (size_t)(slash - f), runnable) == -1 ||
	    proc_parse_u64(slash + 1, flen - (size_t)(slash - f) - 1, threads) == -1)
		return -1;
	return 0;
}

static int
load_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct load_state *st = state;
	double load[3];
	uint64_t runnable, threads;
	size_t i;

	if (proc_file_collect(&st->loadavg, err, errlen) == -1)
		return -1;
	if (parse_loadavg(st->loadavg.buf, st->loadavg.len, load, &runnable, &threads) == -1) {
		snprintf(err, errlen, "%s: malformed", st->loadavg.path);
		return -1;
	}
	for (i = 0; i < 3; i++)
		st->host->emit(em, &m_load[i], NULL, 0, load[i]);
	st->host->emit(em, &m_threads, NULL, 0, (double)threads);
	return 0;
}

static void
load_destroy(void *state)
{
	struct load_state *st = state;

	if (st == NULL)
		return;
	proc_file_close(&st->loadavg);
	free(st);
}

static int
load_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct load_state *st;
	const char *root = proc_opt_root(cfg, host);

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	if (proc_file_init(&st->loadavg, root, "/proc/loadavg", cfg, host) == -1) {
		free(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "load",
	.description = "load averages (/proc/loadavg)",
	.init = load_init,
	.collect = load_collect,
	.destroy = load_destroy,
};

/* reeve_probe_entry: the load probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
