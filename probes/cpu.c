/* cpu.c: the cpu probe: per-cpu time by mode, usage ratios and scheduler counters from /proc/stat. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <reeve-probe.h>

#include "proc.h"

#define CPU_NMODES 8	/* user nice system idle iowait irq softirq steal */

/* The scheduler lines of /proc/stat, as indexes of parse_stat()'s misc array. */
enum {
	STAT_CTXT,
	STAT_INTR,
	STAT_PROCESSES,
	STAT_RUNNING,
	STAT_BLOCKED,
	STAT_BTIME,
	STAT_NMISC
};

/* Called for each cpu line: cpu is -1 for the "cpu" line that sums all cpus. */
typedef void (*cpu_line_fn)(void *arg, long cpu, const uint64_t *ticks);

REEVE_STATIC int parse_stat(const char *buf, size_t len, cpu_line_fn fn, void *arg,
    uint64_t *misc, unsigned *have);

static const char *const mode_names[CPU_NMODES] = {
	"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"
};

static const char *const misc_names[STAT_NMISC] = {
	"ctxt", "intr", "processes", "procs_running", "procs_blocked", "btime"
};

static const struct reeve_metric m_seconds = {
	"cpu_seconds_total", "Time each cpu spent in each mode (guest time is part of user).",
	REEVE_COUNTER
};
static const struct reeve_metric m_ratio = {
	"cpu_usage_ratio", "Share of the time of all cpus spent in each mode over the last interval.",
	REEVE_GAUGE
};
static const struct reeve_metric m_count = {
	"cpus_online", "Number of online cpus.", REEVE_GAUGE
};
static const struct reeve_metric m_misc[STAT_BTIME] = {
	{ "context_switches_total", "Context switches since boot.", REEVE_COUNTER },
	{ "interrupts_total", "Interrupts serviced since boot.", REEVE_COUNTER },
	{ "forks_total", "Processes and threads created since boot.", REEVE_COUNTER },
	{ "procs_running", "Threads runnable or running now.", REEVE_GAUGE },
	{ "procs_blocked", "Threads blocked waiting for I/O now.", REEVE_GAUGE },
};

struct cpu_state {
	const struct reeve_host *host;
	struct proc_file stat;
	double tck;			/* clock ticks per second */
	uint64_t total[CPU_NMODES];	/* the "cpu" line of this collect */
	uint64_t prev[CPU_NMODES];	/* ... and of the previous one */
	int have_total;
	int have_prev;
	struct reeve_emitter *em;	/* set during collect */
};

/*
 * Parse /proc/stat: fn is called for each complete cpu line having at least the four
 * columns user nice system idle (missing later columns, as on old kernels, count as 0);
 * misc[STAT_*] receives the scheduler lines, with bit (1 << STAT_*) set in *have for each
 * found. Returns the number of per-cpu lines, or -1 when the "cpu" total line is missing.
 */
REEVE_STATIC int
parse_stat(const char *buf, size_t len, cpu_line_fn fn, void *arg, uint64_t *misc,
    unsigned *have)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f;
	uint64_t ticks[CPU_NMODES], v;
	size_t flen, n, i;
	int ncpu = 0, total = 0;
	long cpu;

	*have = 0;
	while ((line = proc_next_line(&p, end, &eol)) != NULL) {
		if ((f = proc_next_field(&line, eol, &flen)) == NULL)
			continue;
		if (flen >= 3 && memcmp(f, "cpu", 3) == 0) {
			if (flen == 3)
				cpu = -1;
			else if (proc_parse_u64(f + 3, flen - 3, &v) == 0 && v <= INT32_MAX)
				cpu = (long)v;
			else
				continue;
			memset(ticks, 0, sizeof(ticks));
			for (n = 0; n < CPU_NMODES; n++) {
				if ((f = proc_next_field(&line, eol, &flen)) == NULL)
					break;
				if (proc_parse_u64(f, flen, &ticks[n]) == -1)
					break;
			}
			if (n < 4 || (f != NULL && n < CPU_NMODES))
				continue;	/* too short, or garbage in a column */
			fn(arg, cpu, ticks);
			if (cpu == -1)
				total = 1;
			else
				ncpu++;
			continue;
		}
		for (i = 0; i < STAT_NMISC; i++) {
			if (flen != strlen(misc_names[i]) || memcmp(f, misc_names[i], flen) != 0)
				continue;
			/* intr is followed by per-irq counts: only its first number is read */
			if ((f = proc_next_field(&line, eol, &flen)) != NULL &&
			    proc_parse_u64(f, flen, &v) == 0) {
				misc[i] = v;
				*have |= 1u << i;
			}
			break;
		}
	}
	return total ? ncpu : -1;
}

static void
emit_cpu(void *arg, long cpu, const uint64_t *ticks)
{
	struct cpu_state *st = arg;
	struct reeve_label labels[2];
	char id[24];
	size_t i;

	if (cpu == -1) {
		memcpy(st->total, ticks, sizeof(st->total));
		st->have_total = 1;
		return;
	}
	snprintf(id, sizeof(id), "%ld", cpu);
	labels[0].name = "cpu";
	labels[0].value = id;
	labels[1].name = "mode";
	for (i = 0; i < CPU_NMODES; i++) {
		labels[1].value = mode_names[i];
		st->host->emit(st->em, &m_seconds, labels, 2, (double)ticks[i] / st->tck);
	}
}

/* The usage ratios from the change of the total line; negative changes count as 0. */
static void
emit_ratios(struct cpu_state *st, struct reeve_emitter *em)
{
	struct reeve_label label;
	double delta[CPU_NMODES], sum = 0;
	size_t i;

	for (i = 0; i < CPU_NMODES; i++) {
		/* iowait (and after cpu hotplug, others) can go backwards */
		delta[i] = st->total[i] >= st->prev[i] ? (double)(st->total[i] - st->prev[i]) : 0;
		sum += delta[i];
	}
	if (sum <= 0)
		return;
	label.name = "mode";
	for (i = 0; i < CPU_NMODES; i++) {
		label.value = mode_names[i];
		st->host->emit(em, &m_ratio, &label, 1, delta[i] / sum);
	}
}

static int
cpu_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct cpu_state *st = state;
	uint64_t misc[STAT_NMISC];
	unsigned have;
	int ncpu;
	size_t i;

	if (proc_file_collect(&st->stat, err, errlen) == -1)
		return -1;
	st->em = em;
	st->have_total = 0;
	ncpu = parse_stat(st->stat.buf, st->stat.len, emit_cpu, st, misc, &have);
	st->em = NULL;
	if (ncpu == -1) {
		snprintf(err, errlen, "%s: no cpu line", st->stat.path);
		return -1;
	}
	st->host->emit(em, &m_count, NULL, 0, ncpu);
	for (i = 0; i < STAT_BTIME; i++)
		if (have & (1u << i))
			st->host->emit(em, &m_misc[i], NULL, 0, (double)misc[i]);
	if (st->have_prev)
		emit_ratios(st, em);
	memcpy(st->prev, st->total, sizeof(st->prev));
	st->have_prev = 1;
	return 0;
}

static void
cpu_destroy(void *state)
{
	struct cpu_state *st = state;

	if (st == NULL)
		return;
	proc_file_close(&st->stat);
	free(st);
}

static int
cpu_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct cpu_state *st;
	const char *root = proc_opt_root(cfg, host);
	long tck;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	tck = sysconf(_SC_CLK_TCK);
	st->tck = tck > 0 ? (double)tck : 100.0;
	if (proc_file_init(&st->stat, root, "/proc/stat", cfg, host) == -1) {
		free(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "cpu",
	.description = "cpu time by mode, usage ratios and scheduler counters (/proc/stat)",
	.init = cpu_init,
	.collect = cpu_collect,
	.destroy = cpu_destroy,
};

/* reeve_probe_entry: the cpu probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
