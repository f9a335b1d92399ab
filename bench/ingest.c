/* ingest.c: benchmark of N series through registry and store, against a raw rrd_update_r loop. */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>
#include <rrd_client.h>

#include "bench.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "util.h"

/*
 * Usage: ingest -n N -r ROUNDS -d TMPDIR [-c unix:/SOCK -b CACHED_BASE_DIR -p CACHED_PID]
 *
 * Every figure comes from this run: the raw loop is the baseline of the reeve figures.
 * Files of each mode live in their own directory, so no mode sees another's cache state.
 * The series are bench_value{series="0"} ... {series="N-1"}, stored by reeve as
 * rrd/bench_value/series=I.rrd; the raw loop uses the same layout and the same DS and RRAs.
 */

#define METRIC "bench_value"

struct cost {
	double wall, cpu;	/* seconds */
	double ext_cpu;		/* seconds of another process (rrdcached), or -1 */
};

static int nseries = 1000, rounds = 5;
static const char *tmpdir, *cached_addr, *cached_base;
static long cached_pid = -1;
static long long t0;

/* utime + stime of another process from /proc/PID/stat, or -1. */
static double
cpu_of(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the ")" of comm: state(3) ... utime(14) stime(15) */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void
cost_begin(struct cost *c)
{
	c->wall = util_monotonic();
	c->cpu = bench_cpu_self();
	c->ext_cpu = cpu_of(cached_pid);
}

static void
cost_end(struct cost *c, int with_ext)
{
	double e = with_ext ? cpu_of(cached_pid) : -1;

	c->wall = util_monotonic() - c->wall;
	c->cpu = bench_cpu_self() - c->cpu;
	c->ext_cpu = e >= 0 && c->ext_cpu >= 0 ? e - c->ext_cpu : -1;
}

static char *
series_path(const char *dir, int i)
{
	return xasprintf("%s/rrd/" METRIC "/series=%d.rrd", dir, i);
}

/* Create the N files of a raw mode with the DS and RRAs the store gives a 1 s GAUGE. */
static char **
raw_create(const char *dir)
{
	char args[16][64];
	const char *argv[16];
	char **paths = xcalloc((size_t)nseries, sizeof(*paths));
	char *sub = xasprintf("%s/rrd/" METRIC, dir);
	int n;

	if (util_mkdir_p(sub) == -1)
		bench_die("mkdir %s: %s", sub, strerror(errno));
	free(sub);
	snprintf(args[0], 64, "DS:value:GAUGE:2:U:U");
	n = store_preset_rras("compact", 1, args + 1, 15);
	if (n < 0)
		bench_die("store_preset_rras(compact) failed");
	n++;
	for (int i = 0; i < n; i++)
		argv[i] = args[i];
	for (int i = 0; i < nseries; i++) {
		paths[i] = series_path(dir, i);
		rrd_clear_error();
		if (rrd_create_r2(paths[i], 1, (time_t)(t0 - 1), 1, NULL, NULL, n, argv) != 0)
			bench_die("rrd_create_r2 %s: %s", paths[i], rrd_get_error());
	}
	return paths;
}

static void
raw_free(char **paths)
{
	for (int i = 0; i < nseries; i++)
		free(paths[i]);
	free(paths);
}

/* One round of raw updates at time ts: rrd_update_r, or rrdc_update (one request each). */
static void
raw_round(char **paths, long long ts, int cached)
{
	char val[64];
	const char *argv[1] = { val };

	for (int i = 0; i < nseries; i++) {
		snprintf(val, sizeof(val), "%lld:%d", ts, (int)(ts + i) % 1000);
		rrd_clear_error();
		if (cached ? rrdc_update(paths[i], 1, argv) != 0 :
		    rrd_update_r(paths[i], NULL, 1, argv) != 0)
			bench_die("%s %s: %s", cached ? "rrdc_update" : "rrd_update_r", paths[i],
			    rrd_get_error());
	}
}

/* The raw loop: a first untimed round (page cache, as reeve's file-creating round), then R. */
static struct cost
raw_run(const char *name, int cached)
{
	char *dir = xasprintf("%s/%s", cached ? cached_base : tmpdir, name);
	char **paths;
	struct cost c;
	time_t last;

	if (cached && rrdc_connect(cached_addr) != 0)
		bench_die("rrdc_connect %s: %s", cached_addr, rrd_get_error());
	paths = raw_create(dir);
	raw_round(paths, t0, cached);
	cost_begin(&c);
	for (int r = 1; r <= rounds; r++)
		raw_round(paths, t0 + r, cached);
	cost_end(&c, cached);
	last = cached ? rrdc_last(paths[nseries - 1]) : rrd_last_r(paths[nseries - 1]);
	if (last != (time_t)(t0 + rounds))
		bench_die("%s: last update of %s is %lld, expected %lld", name, paths[nseries - 1],
		    (long long)last, t0 + rounds);
	if (cached)
		rrdc_disconnect();
	raw_free(paths);
	free(dir);
	return c;
}

/* registry -> store: a first round creates the files (untimed), then R timed rounds. */
static struct cost
reeve_run(const char *name, const char *rrdcached)
{
	char *dir = xasprintf("%s/%s", rrdcached ? cached_base : tmpdir, name);
	struct store_params sp = { .data_dir = dir, .rrdcached = rrdcached, .preset = "compact",
	    .queue_size = (size_t)nseries * (size_t)(rounds + 1) };
	struct reg_batch b = { 0 };
	struct store_stats st;
	struct registry *reg;
	struct reg_owner *o;
	struct store *s;
	struct cost c;
	char err[512];
	unsigned long long expect = (unsigned long long)nseries * (unsigned long long)(rounds + 1);

	if ((s = store_new(&sp, err, sizeof(err))) == NULL)
		bench_die("store_new: %s", err);
	/* 90 s at 1 s keeps 91 points per series, as the default 15m window at 10 s does */
	reg = reg_new(90, s);
	o = reg_owner_new(reg, "bench", 1, 0);
	for (int i = 0; i < nseries; i++) {
		char v[16];
		struct reeve_label l = { "series", v };

		snprintf(v, sizeof(v), "%d", i);
		if (reg_batch_add(&b, METRIC, "benchmark series", REEVE_GAUGE, &l, 1, 0) != 0)
			bench_die("reg_batch_add refused a sample");
	}
	reg_commit(reg, o, (double)t0, &b);
	store_sync(s);
	store_get_stats(s, &st);
	if (st.creates != (unsigned long long)nseries || st.errors)
		bench_die("%s: first round created %llu files (expected %d), %llu errors", name,
		    st.creates, nseries, st.errors);

	cost_begin(&c);
	for (int r = 1; r <= rounds; r++) {
		for (size_t i = 0; i < b.n; i++)
			b.s[i].value = (double)((r + (int)i) % 1000);
		reg_commit(reg, o, (double)(t0 + r), &b);
	}
	store_sync(s);
	cost_end(&c, rrdcached != NULL);

	store_get_stats(s, &st);
	printf("  store stats (%s): updates %llu (expected %llu), errors %llu, dropped %llu, "
	    "creates %llu, files %zu, writer passes %llu, series %zu\n", name, st.updates, expect,
	    st.errors, st.dropped, st.creates, st.files, st.batches, reg_series_count(reg));
	if (st.updates != expect || st.errors || st.dropped || reg_series_count(reg) != (size_t)nseries)
		bench_die("%s: store stats do not match the updates sent", name);
	reg_owner_free(reg, o);
	reg_free(reg);
	store_free(s, 60);
	reg_batch_free(&b);

	/* what the files say, read back after the store is gone */
	{
		char *p = series_path(dir, nseries - 1);
		time_t last;

		if (rrdcached) {
			if (rrdc_connect(rrdcached) != 0)
				bench_die("rrdc_connect %s: %s", rrdcached, rrd_get_error());
			last = rrdc_last(p);
			rrdc_disconnect();
		} else
			last = rrd_last_r(p);
		if (last != (time_t)(t0 + rounds))
			bench_die("%s: last update of %s is %lld, expected %lld", name, p, (long long)last,
			    t0 + rounds);
		free(p);
	}
	free(dir);
	return c;
}

static double
rate(const struct cost *c)
{
	return (double)nseries * rounds / c->wall;
}

static void
report(const char *what, const struct cost *c)
{
	printf("  %-28s %9.0f updates/s  wall %.3f s  cpu %.3f s (%.2f us/update)", what, rate(c),
	    c->wall, c->cpu, c->cpu * 1e6 / ((double)nseries * rounds));
	if (c->ext_cpu >= 0)
		printf(" + rrdcached cpu %.3f s", c->ext_cpu);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct cost raw, reeve, cached, rrdc;
	int ch;

	while ((ch = getopt(argc, argv, "n:r:d:c:b:p:")) != -1) {
		switch (ch) {
		case 'n': nseries = (int)strtol(optarg, NULL, 10); break;
		case 'r': rounds = (int)strtol(optarg, NULL, 10); break;
		case 'd': tmpdir = optarg; break;
		case 'c': cached_addr = optarg; break;
		case 'b': cached_base = optarg; break;
		case 'p': cached_pid = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (tmpdir == NULL || nseries < 1 || rounds < 1 || (cached_addr && cached_base == NULL))
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LEVEL_WARN);
	rrd_get_context();
	/* in the past, so that every round is a new second whatever the speed */
	t0 = (long long)time(NULL) - 86400;

	raw = raw_run("raw", 0);
	reeve = reeve_run("reeve", NULL);
	printf("ingest N=%d R=%d:\n", nseries, rounds);
	report("raw rrd_update_r loop", &raw);
	report("reeve registry+store", &reeve);
	printf("ingest N=%d: raw %.0f updates/s, reeve %.0f updates/s, ratio %.2f (target >= 0.9)\n",
	    nseries, rate(&raw), rate(&reeve), rate(&reeve) / rate(&raw));
	if (cached_addr) {
		cached = reeve_run("reeve-cached", cached_addr);
		rrdc = raw_run("rrdc", 1);
		report("reeve via rrdcached (BATCH)", &cached);
		report("librrd rrdc_update each", &rrdc);
		printf("ingest N=%d: raw %.0f updates/s, reeve via rrdcached %.0f updates/s, "
		    "ratio %.1fx (target >= 10x); rrdc_update client %.0f updates/s (%.1fx)\n",
		    nseries, rate(&raw), rate(&cached), rate(&cached) / rate(&raw), rate(&rrdc),
		    rate(&rrdc) / rate(&raw));
	}
	return 0;
usage:
	fprintf(stderr, "usage: ingest -n N -r ROUNDS -d TMPDIR [-c unix:/SOCK -b CACHED_BASE -p PID]\n");
	return 2;
}
