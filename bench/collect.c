/* collect.c: benchmark of a collection round of the system probes against bare /proc reads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "bench.h"
#include "log.h"
#include "plugin.h"
#include "registry.h"
#include "util.h"

/*
 * Usage: collect -p PROBEDIR [-k ROUNDS] PROBE...
 *
 * The probes run through the daemon's real plugin layer: a config listing them is loaded
 * with cfg_load, plugin_create_all dlopens the modules and runs init(), and each round calls
 * plugin_collect for every instance into a reg_batch. The baseline is a plain loop that
 * opens, reads and closes the /proc files those probes read (and statvfs()s the mounts the
 * filesystem probe reports), without parsing anything. Rounds of both alternate in blocks
 * so that both see the same machine.
 */

#define BLOCK 100

/* ---- the baseline ----------------------------------------------------------------------- */

static char rbuf[1 << 20];
static unsigned long long bytes_read;

static void
slurp(const char *path, int must)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1) {
		if (must)
			bench_die("open %s: %s", path, strerror(errno));
		return; /* a process that exited */
	}
	while ((n = read(fd, rbuf, sizeof(rbuf))) > 0)
		bytes_read += (unsigned long long)n;
	close(fd);
}

static int
has(char **probes, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(probes[i], name) == 0)
			return 1;
	return 0;
}

/* Mount points the filesystem probe reports with its default filters (probes/filesystem.c). */
static char **mounts;
static size_t nmounts;

static void
find_mounts(void)
{
	regex_t fsx, mx;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];

	if (f == NULL)
		bench_die("/proc/self/mountinfo: %s", strerror(errno));
	if (regcomp(&fsx, "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|"
	    "devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|"
	    "securityfs|selinuxfs|squashfs|sysfs|tracefs)$", REG_EXTENDED | REG_NOSUB) != 0 ||
	    regcomp(&mx, "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+)($|/)",
	    REG_EXTENDED | REG_NOSUB) != 0)
		bench_die("regcomp");
	while (fgets(line, sizeof(line), f)) {
		/* id parent major:minor root mountpoint options [optional...] - fstype source super */
		char *fields[8], *sep = strstr(line, " - "), *save = NULL, fstype[256];
		int nf = 0;

		if (sep == NULL || sscanf(sep + 3, "%255s", fstype) != 1)
			continue;
		*sep = '\0';
		for (char *t = strtok_r(line, " ", &save); t && nf < 8; t = strtok_r(NULL, " ", &save))
			fields[nf++] = t;
		if (nf < 5 || fields[4][0] != '/' || strchr(fields[4], '\\'))
			continue; /* escaped names: rare, not worth decoding here */
		if (regexec(&fsx, fstype, 0, NULL, 0) == 0 || regexec(&mx, fields[4], 0, NULL, 0) == 0)
			continue;
		mounts = xreallocarray(mounts, nmounts + 1, sizeof(*mounts));
		mounts[nmounts++] = xstrdup(fields[4]);
	}
	fclose(f);
	regfree(&fsx);
	regfree(&mx);
}

static unsigned long pids_seen;

static void
baseline_round(char **probes, int n)
{
	if (has(probes, n, "cpu"))
		slurp("/proc/stat", 1);
	if (has(probes, n, "memory"))
		slurp("/proc/meminfo", 1);
	if (has(probes, n, "load"))
		slurp("/proc/loadavg", 1);
	if (has(probes, n, "disk"))
		slurp("/proc/diskstats", 1);
	if (has(probes, n, "filesystem")) {
		struct statvfs sv;

		slurp("/proc/self/mountinfo", 1);
		for (size_t i = 0; i < nmounts; i++)
			if (statvfs(mounts[i], &sv) == -1)
				bench_die("statvfs %s: %s", mounts[i], strerror(errno));
	}
	if (has(probes, n, "network"))
		slurp("/proc/net/dev", 1);
	if (has(probes, n, "process")) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		char path[300];

		if (d == NULL)
			bench_die("opendir /proc: %s", strerror(errno));
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
			slurp(path, 0);
			pids_seen++;
		}
		closedir(d);
	}
	if (has(probes, n, "uptime"))
		slurp("/proc/uptime", 1);
}

/* ---- the probes ------------------------------------------------------------------------- */

static size_t
probes_round(struct probe_inst **inst, size_t n, struct reg_batch *b, struct registry *reg,
    struct reg_owner **owners, double ts)
{
	size_t samples = 0;
	char err[512];

	for (size_t i = 0; i < n; i++) {
		if (plugin_collect(inst[i], b, err, sizeof(err)) != 0)
			bench_die("probe %s: collect failed: %s", inst[i]->name, err);
		if (b->n == 0)
			bench_die("probe %s emitted no samples", inst[i]->name);
		if (b->rejected)
			bench_die("probe %s: %lu samples rejected", inst[i]->name, b->rejected);
		samples += b->n;
		if (reg)
			reg_commit(reg, owners[i], ts, b);
	}
	return samples;
}

struct acc {
	double wall, cpu;
};

static void
acc_add(struct acc *a, double w0, double c0)
{
	a->wall += util_monotonic() - w0;
	a->cpu += bench_cpu_self() - c0;
}

int
main(int argc, char **argv)
{
	const char *probedir = NULL;
	long rounds = 2000;
	struct cfg_errors errs = { 0 };
	struct probe_inst **inst = NULL;
	struct reg_owner **owners;
	struct reg_batch b = { 0 };
	struct registry *reg;
	struct acc base = { 0 }, probe = { 0 }, commit = { 0 };
	size_t ninst = 0, samples = 0;
	struct cfg *cfg;
	char **probes;
	int nprobes, ch;

	while ((ch = getopt(argc, argv, "p:k:")) != -1) {
		switch (ch) {
		case 'p': probedir = optarg; break;
		case 'k': rounds = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	probes = argv + optind;
	nprobes = argc - optind;
	if (probedir == NULL || nprobes < 1 || rounds < BLOCK)
		goto usage;
	log_set_level(LOG_LEVEL_WARN);

	/* the daemon's own path: a config file, cfg_load, plugin_create_all */
	{
		char path[] = "/tmp/reeve-bench-collect-XXXXXX";
		int fd = mkstemp(path);
		FILE *f;

		if (fd == -1 || (f = fdopen(fd, "w")) == NULL)
			bench_die("mkstemp: %s", strerror(errno));
		fprintf(f, "[reeve]\ndata_dir = /nonexistent\nplugin_dir = %s\nlog_level = warning\n"
		    "interval = 10s\n", probedir);
		for (int i = 0; i < nprobes; i++)
			fprintf(f, "\n[probe %s]\ntype = %s\n", probes[i], probes[i]);
		fclose(f);
		cfg = cfg_load(path, &errs);
		unlink(path);
		if (cfg == NULL || plugin_create_all(cfg, &errs, &inst, &ninst) == -1) {
			for (size_t i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			bench_die("the generated config was refused");
		}
	}
	if (has(probes, nprobes, "filesystem"))
		find_mounts();

	reg = reg_new(900, NULL);
	owners = xcalloc(ninst, sizeof(*owners));
	for (size_t i = 0; i < ninst; i++)
		owners[i] = reg_owner_new(reg, inst[i]->name, 10, 0);
	/* warm up: rates need a previous round, caches and allocations settle */
	probes_round(inst, ninst, &b, reg, owners, util_now());
	baseline_round(probes, nprobes);

	for (long done = 0; done < rounds; done += BLOCK) {
		double w, c;

		w = util_monotonic(), c = bench_cpu_self();
		for (int i = 0; i < BLOCK; i++)
			baseline_round(probes, nprobes);
		acc_add(&base, w, c);
		w = util_monotonic(), c = bench_cpu_self();
		for (int i = 0; i < BLOCK; i++)
			samples += probes_round(inst, ninst, &b, NULL, NULL, 0);
		acc_add(&probe, w, c);
		w = util_monotonic(), c = bench_cpu_self();
		for (int i = 0; i < BLOCK; i++)
			probes_round(inst, ninst, &b, reg, owners, util_now());
		acc_add(&commit, w, c);
	}
	rounds = rounds / BLOCK * BLOCK;

	printf("collect K=%ld rounds of %d probes (", rounds, nprobes);
	for (int i = 0; i < nprobes; i++)
		printf("%s%s", i ? " " : "", probes[i]);
	printf("): %.0f samples/round, %zu series in the registry",
	    (double)samples / (double)rounds, reg_series_count(reg));
	if (has(probes, nprobes, "filesystem"))
		printf(", %zu mounts", nmounts);
	if (has(probes, nprobes, "process"))
		printf(", %.0f pids", (double)pids_seen / (double)(rounds + 1));
	printf("\n");
	printf("  bare /proc reads:          %8.1f us/round cpu, %8.1f us/round wall (%.0f bytes read)\n",
	    base.cpu * 1e6 / rounds, base.wall * 1e6 / rounds, (double)bytes_read / (rounds + 1));
	printf("  probes (plugin_collect):   %8.1f us/round cpu, %8.1f us/round wall\n",
	    probe.cpu * 1e6 / rounds, probe.wall * 1e6 / rounds);
	printf("  probes + reg_commit:       %8.1f us/round cpu, %8.1f us/round wall\n",
	    commit.cpu * 1e6 / rounds, commit.wall * 1e6 / rounds);
	printf("collect: bare %.1f us/round, probes %.1f us/round (cpu), ratio %.2f (target <= 1.5); "
	    "wall ratio %.2f; with registry commit %.2f\n", base.cpu * 1e6 / rounds,
	    probe.cpu * 1e6 / rounds, probe.cpu / base.cpu, probe.wall / base.wall,
	    commit.cpu / base.cpu);

	for (size_t i = 0; i < ninst; i++) {
		reg_owner_free(reg, owners[i]);
		plugin_inst_free(inst[i]);
	}
	free(owners);
	free(inst);
	reg_free(reg);
	reg_batch_free(&b);
	cfg_free(cfg);
	for (size_t i = 0; i < nmounts; i++)
		free(mounts[i]);
	free(mounts);
	return 0;
usage:
	fprintf(stderr, "usage: collect -p PROBEDIR [-k ROUNDS (>= %d)] PROBE...\n", BLOCK);
	return 2;
}
