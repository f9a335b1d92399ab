/* uptime.c: the uptime probe: time since boot (/proc/uptime) and boot time (/proc/stat). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "proc.h"

static const struct reeve_metric m_uptime = {
	"uptime_seconds", "Time since the system booted.", REEVE_GAUGE
};
static const struct reeve_metric m_boot = {
	"boot_time_seconds", "When the system booted, in seconds since the epoch.", REEVE_GAUGE
};

REEVE_STATIC int parse_uptime(const char *buf, size_t len, double *uptime);
REEVE_STATIC int parse_btime(const char *buf, size_t len, uint64_t *btime);

struct uptime_state {
	const struct reeve_host *host;
	struct proc_file uptime;
	struct proc_file stat;
	uint64_t btime;		/* from /proc/stat, read again only when it may have moved */
	int have_btime;
};

/* Parse /proc/uptime ("1505.02 2957.32\n") into *uptime. Returns 0 or -1. */
REEVE_STATIC int
parse_uptime(const char *buf, size_t len, double *uptime)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f;
	size_t flen;

	if ((line = proc_next_line(&p, end, &eol)) == NULL ||
	    (f = proc_next_field(&line, eol, &flen)) == NULL)
		return -1;
	return proc_parse_double(f, flen, uptime);
}

/* Find the complete "btime N" line of /proc/stat. Returns 0, or -1 when there is none. */
REEVE_STATIC int
parse_btime(const char *buf, size_t len, uint64_t *btime)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f;
	size_t flen;

	while ((line = proc_next_line(&p, end, &eol)) != NULL) {
		if ((size_t)(eol - line) < 6 || memcmp(line, "btime ", 6) != 0)
			continue;
		line += 6;
		if ((f = proc_next_field(&line, eol, &flen)) != NULL &&
		    proc_parse_u64(f, flen, btime) == 0 &&
		    proc_next_field(&line, eol, &flen) == NULL)
			return 0;
	}
	return -1;
}

static int
uptime_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct uptime_state *st = state;
	double up, est;
	uint64_t btime;

	if (proc_file_collect(&st->uptime, err, errlen) == -1)
		return -1;
	if (parse_uptime(st->uptime.buf, st->uptime.len, &up) == -1) {
		snprintf(err, errlen, "%s: malformed", st->uptime.path);
		return -1;
	}
	st->host->emit(em, &m_uptime, NULL, 0, up);
	/*
	 * btime only moves when the wall clock is set: read /proc/stat (the costly part of this
	 * probe) again only when now - uptime no longer matches the boot time known.
	 */
	est = st->host->now() - up;
	if (!st->have_btime || est < (double)st->btime - 2 || est > (double)st->btime + 2) {
		if (proc_file_collect(&st->stat, err, errlen) == -1)
			return -1;
		if (parse_btime(st->stat.buf, st->stat.len, &btime) == -1) {
			snprintf(err, errlen, "%s: no btime line", st->stat.path);
			return -1;
		}
		st->btime = btime;
		st->have_btime = 1;
	}
	btime = st->btime;
	st->host->emit(em, &m_boot, NULL, 0, (double)btime);
	return 0;
}

static void
uptime_destroy(void *state)
{
	struct uptime_state *st = state;

	if (st == NULL)
		return;
	proc_file_close(&st->uptime);
	proc_file_close(&st->stat);
	free(st);
}

static int
uptime_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct uptime_state *st;
	const char *root = proc_opt_root(cfg, host);

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	st->stat.fd = -1;
	if (proc_file_init(&st->uptime, root, "/proc/uptime", cfg, host) == -1) {
		free(st);
		return -1;
	}
	if (proc_file_init(&st->stat, root, "/proc/stat", cfg, host) == -1) {
		uptime_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "uptime",
	.description = "time since boot and boot time (/proc/uptime, /proc/stat)",
	.init = uptime_init,
	.collect = uptime_collect,
	.destroy = uptime_destroy,
};

/* reeve_probe_entry: the uptime probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
