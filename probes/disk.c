/* disk.c: the disk probe: block device I/O counters from /proc/diskstats. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "filter.h"
#include "proc.h"

#define DISK_MAXSTATS 17	/* after major, minor and name: 11 (old), 15 (4.18+), 17 (5.5+) */
#define DISK_EXCLUDE_DEFAULT "^(ram|loop|fd)[0-9]+$"

/* Called for each device line: v holds nv (11, 15 or 17) statistics. */
typedef void (*disk_fn)(void *arg, const char *name, const uint64_t *v, size_t nv);

REEVE_STATIC int parse_diskstats(const char *buf, size_t len, disk_fn fn, void *arg);

/* One metric per column of /proc/diskstats, with the factor to base units. */
static const struct {
	struct reeve_metric m;
	double scale;
} disk_metrics[DISK_MAXSTATS] = {
	{ { "disk_reads_completed_total", "Reads completed.", REEVE_COUNTER }, 1 },
	{ { "disk_reads_merged_total", "Adjacent reads merged into one.", REEVE_COUNTER }, 1 },
	{ { "disk_read_bytes_total", "Bytes read.", REEVE_COUNTER }, 512 },
	{ { "disk_read_time_seconds_total", "Time spent by all reads.", REEVE_COUNTER }, 0.001 },
	{ { "disk_writes_completed_total", "Writes completed.", REEVE_COUNTER }, 1 },
	{ { "disk_writes_merged_total", "Adjacent writes merged into one.", REEVE_COUNTER }, 1 },
	{ { "disk_written_bytes_total", "Bytes written.", REEVE_COUNTER }, 512 },
	{ { "disk_write_time_seconds_total", "Time spent by all writes.", REEVE_COUNTER }, 0.001 },
	{ { "disk_io_now", "I/Os in progress.", REEVE_GAUGE }, 1 },
	{ { "disk_io_time_seconds_total", "Time the device was busy with I/O.", REEVE_COUNTER },
	    0.001 },
	{ { "disk_io_time_weighted_seconds_total",
	    "I/O time weighted by the number of I/Os in progress.", REEVE_COUNTER }, 0.001 },
	{ { "disk_discards_completed_total", "Discards completed.", REEVE_COUNTER }, 1 },
	{ { "disk_discards_merged_total", "Adjacent discards merged into one.", REEVE_COUNTER },
	    1 },
	{ { "disk_discarded_bytes_total", "Bytes discarded.", REEVE_COUNTER }, 512 },
	{ { "disk_discard_time_seconds_total", "Time spent by all discards.", REEVE_COUNTER },
	    0.001 },
	{ { "disk_flush_requests_total", "Flush requests completed.", REEVE_COUNTER }, 1 },
	{ { "disk_flush_time_seconds_total", "Time spent by all flushes.", REEVE_COUNTER },
	    0.001 },
};

struct disk_state {
	const struct reeve_host *host;
	struct proc_file diskstats;
	struct filter include;
	struct filter exclude;
	struct filter_cache names;
	size_t pos;			/* position of the device in this read */
	int failed;			/* out of memory during this collect */
	struct reeve_emitter *em;	/* set during collect */
};

/*
 * Parse /proc/diskstats: fn is called for each complete line "major minor name" followed
 * by at least 11 numbers (Linux 2.6.25+; 15 since 4.18, 17 since 5.5); lines with fewer
 * (old partition lines) or with garbage are skipped. Returns the number of devices.
 */
REEVE_STATIC int
parse_diskstats(const char *buf, size_t len, disk_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f, *name;
	char dev[FILTER_NAME_MAX];
	uint64_t v[DISK_MAXSTATS], num;
	size_t flen, nlen, n;
	int ndev = 0;

	while ((line = proc_next_line(&p, end, &eol)) != NULL) {
		if ((f = proc_next_field(&line, eol, &flen)) == NULL ||
		    proc_parse_u64(f, flen, &num) == -1 ||
		    (f = proc_next_field(&line, eol, &flen)) == NULL ||
		    proc_parse_u64(f, flen, &num) == -1 ||
		    (name = proc_next_field(&line, eol, &nlen)) == NULL || nlen >= sizeof(dev) ||
		    memchr(name, '\0', nlen) != NULL)	/* would cut the name short */
			continue;
		for (n = 0; (f = proc_next_field(&line, eol, &flen)) != NULL; n++) {
			if (n < DISK_MAXSTATS && proc_parse_u64(f, flen, &v[n]) == -1)
				break;
		}
		if (f != NULL || n < 11)
			continue;
		if (n > DISK_MAXSTATS)
			n = DISK_MAXSTATS;
		else if (n != 11 && n != 15 && n != 17)
			n = n < 15 ? 11 : 15;
		memcpy(dev, name, nlen);
		dev[nlen] = '\0';
		fn(arg, dev, v, n);
		ndev++;
	}
	return ndev;
}

static void
emit_disk(void *arg, const char *name, const uint64_t *v, size_t nv)
{
	struct disk_state *st = arg;
	struct reeve_label label;
	size_t i;
	int want;

	want = filter_cache_want(&st->names, st->pos++, name, &st->include, &st->exclude);
	if (want == -1)
		st->failed = 1;
	if (want != 1)
		return;
	label.name = "device";
	label.value = name;
	for (i = 0; i < nv; i++)
		st->host->emit(st->em, &disk_metrics[i].m, &label, 1,
		    (double)v[i] * disk_metrics[i].scale);
}

static int
disk_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct disk_state *st = state;

	if (proc_file_collect(&st->diskstats, err, errlen) == -1)
		return -1;
	st->em = em;
	st->pos = 0;
	st->failed = 0;
	parse_diskstats(st->diskstats.buf, st->diskstats.len, emit_disk, st);
	st->em = NULL;
	if (st->failed) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void
disk_destroy(void *state)
{
	struct disk_state *st = state;

	if (st == NULL)
		return;
	proc_file_close(&st->diskstats);
	filter_free(&st->include);
	filter_free(&st->exclude);
	filter_cache_free(&st->names);
	free(st);
}

static int
disk_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct disk_state *st;
	const char *root = proc_opt_root(cfg, host);
	int rc = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	st->diskstats.fd = -1;
	if (filter_init(&st->include, cfg, host, "include", NULL) == -1)
		rc = -1;
	if (filter_init(&st->exclude, cfg, host, "exclude", DISK_EXCLUDE_DEFAULT) == -1)
		rc = -1;
	if (proc_file_init(&st->diskstats, root, "/proc/diskstats", cfg, host) == -1) {
		rc = -1;
	}
	if (rc == -1) {
		disk_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "disk",
	.description = "block device I/O (/proc/diskstats)",
	.init = disk_init,
	.collect = disk_collect,
	.destroy = disk_destroy,
};

/* reeve_probe_entry: the disk probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
