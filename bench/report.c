/* report.c: benchmark of a weekly report (20 graphs, a KPI table of 200 series) against its bare rrd_graph calls. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rrd.h>

#include "bench.h"
#include "config.h"
#include "expr.h"
#include "graph.h"
#include "history.h"
#include "log.h"
#include "registry.h"
#include "report.h"
#include "reporter.h"
#include "store.h"
#include "util.h"

/*
 * Usage: report DIR [ROUNDS]
 *
 * DIR/rrd gets 200 series bench_series{group="gNN",instance="iMM"} (20 groups of 10), a value
 * every 5 minutes over the last two weeks. The report is [report weekly] below: a KPI table
 * of all 200 series (with their change against the week before) and one graph per group
 * (10 lines each), rendered as HTML, PDF, CSV and text: what a scheduled run does, mail
 * aside. The baseline, in the same run, is the bare rrd_graph calls of the same 20 graphs
 * (each as PNG and as the PDF the report embeds as vectors). The overhead is what the
 * report costs beyond its graphs; the target is under 25%. Figures: the median of ROUNDS.
 */

#define STEP 300
#define GROUPS 20
#define PER_GROUP 10
#define TARGET 0.25

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One series' file as reeve's store lays it out, two weeks of values up to end. */
static char *
make_series(const char *dir, int g, int i, time_t end)
{
	char *path = xasprintf("%s/rrd/bench_series/group=g%02d/instance=i%02d.rrd", dir, g, i);
	char *sub = xasprintf("%s/rrd/bench_series/group=g%02d", dir, g);
	const char *def[] = { "DS:value:GAUGE:600:U:U", "RRA:AVERAGE:0.5:1:4200" };
	size_t n = 14 * 86400 / STEP;
	time_t start = end - (time_t)n * STEP;
	char **argv = xcalloc(n, sizeof(char *));

	if (util_mkdir_p(sub) == -1)
		bench_die("cannot make %s", sub);
	rrd_clear_error();
	if (rrd_create_r2(path, STEP, start, 0, NULL, NULL, 2, def) != 0)
		bench_die("rrd_create %s: %s", path, rrd_get_error());
	for (size_t k = 0; k < n; k++) {
		double t = (double)(start + (time_t)(k + 1) * STEP);

		argv[k] = xasprintf("%.0f:%.3f", t, 100 + 50 * sin(t / 3600.0 + g) + i);
	}
	if (rrd_update_r(path, NULL, (int)n, (const char **)argv) != 0)
		bench_die("rrd_update %s: %s", path, rrd_get_error());
	for (size_t k = 0; k < n; k++)
		free(argv[k]);
	free(argv);
	free(sub);
	return path;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	time_t end = time(NULL) / STEP * STEP;
	char *paths[GROUPS][PER_GROUP], err[512];
	struct buf conf = { 0 };
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;
	double *tr, *tg, *tm;

	if (dir == NULL || rounds < 1)
		bench_die("usage: report DIR [ROUNDS]");
	log_set_level(LOG_LEVEL_WARN);
	tr = xcalloc((size_t)rounds, sizeof(double));
	tg = xcalloc((size_t)rounds, sizeof(double));
	tm = xcalloc((size_t)rounds, sizeof(double));
	for (int g = 0; g < GROUPS; g++)
		for (int i = 0; i < PER_GROUP; i++)
			paths[g][i] = make_series(dir, g, i, end);
	buf_printf(&conf, "[reeve]\ndata_dir = %s\n\n[report weekly]\ntitle = Weekly\n"
	    "period = 7d\ntimezone = UTC\nkpi.all = bench_series\n", dir);
	for (int g = 0; g < GROUPS; g++)
		buf_printf(&conf, "graph.g%02d = bench_series{group=\"g%02d\"}\n", g, g);
	if ((cfg = cfg_load_string(conf.data, "bench.conf", &errs)) == NULL)
		bench_die("config: %s", errs.n ? errs.msgs[0] : "?");

	for (int r = 0; r < rounds; r++) {
		struct store_params sp = { dir, NULL, "default", 1000, NULL, 0, NULL };
		struct store *st = store_new(&sp, err, sizeof(err));
		struct registry *reg = reg_new(0, NULL);
		struct history *h = history_new(reg, st, 0);
		struct expr_source src;
		struct report_env env = { cfg, &src, st, NULL, dir };
		struct report_doc *d;
		struct report_file *f;
		size_t nf, rows = 0;
		double t0;

		if (st == NULL)
			bench_die("store: %s", err);
		history_source(h, &src);
		t0 = now_mono();
		if ((d = report_make(&env, &cfg->reports[0], (double)end, NULL, err, sizeof(err))) ==
		    NULL)
			bench_die("report: %s", err);
		tm[r] = now_mono() - t0;
		if (report_files(d, &cfg->reports[0], &f, &nf, err, sizeof(err)) == -1)
			bench_die("report: %s", err);
		tr[r] = now_mono() - t0;
		for (size_t s = 0; s < d->nsections; s++) {
			rows += d->sections[s].nkpis;
			if (d->sections[s].kind == REPORT_GRAPH && d->sections[s].graph.png == NULL)
				bench_die("graph %zu: %s", s, d->sections[s].graph.error);
		}
		if (rows != GROUPS * PER_GROUP)
			bench_die("the KPI table has %zu rows, not %d", rows, GROUPS * PER_GROUP);
		report_files_free(f, nf);
		report_doc_free(d);

		/* the same graphs, bare: the calls the report makes for them */
		t0 = now_mono();
		for (int g = 0; g < GROUPS; g++) {
			struct graph_line lines[PER_GROUP];
			char title[16], legend[PER_GROUP][32];
			struct graph_spec spec = { (double)end - 7 * 86400, (double)end, title, NULL,
				640, 200, lines, PER_GROUP, NULL, 0 };
			unsigned char *png, *pdf;
			size_t lp, lf;

			snprintf(title, sizeof(title), "g%02d", g);
			for (int i = 0; i < PER_GROUP; i++) {
				snprintf(legend[i], sizeof(legend[i]), "instance=i%02d", i);
				lines[i] = (struct graph_line){ paths[g][i], NULL, NULL, legend[i], NULL, NULL };
			}
			if (graph_render(&spec, GRAPH_PNG, &png, &lp, err, sizeof(err)) == -1 ||
			    graph_render(&spec, GRAPH_PDF, &pdf, &lf, err, sizeof(err)) == -1)
				bench_die("graph: %s", err);
			free(png);
			free(pdf);
		}
		tg[r] = now_mono() - t0;
		history_free(h);
		reg_free(reg);
		store_free(st, 1);
	}
	{
		double rep = bench_median(tr, rounds), bare = bench_median(tg, rounds);
		double over = (rep - bare) / bare;

		printf("weekly report, %d graphs of %d lines and a KPI table of %d series, 2016 values "
		    "each:\n", GROUPS, PER_GROUP, GROUPS * PER_GROUP);
		printf("  report (make + HTML, PDF, CSV, text)  %8.3f s (made in %.3f s)\n", rep,
		    bench_median(tm, rounds));
		printf("  bare rrd_graph of its graphs (PNG+PDF) %8.3f s\n", bare);
		printf("  ratio %.2f: overhead beyond the graphs %.0f%% (target under %.0f%%) %s\n",
		    rep / bare, over * 100, TARGET * 100, over < TARGET ? "MET" : "MISSED");
	}
	for (int g = 0; g < GROUPS; g++)
		for (int i = 0; i < PER_GROUP; i++)
			free(paths[g][i]);
	cfg_free(cfg);
	buf_free(&conf);
	free(tr);
	free(tg);
	free(tm);
	return 0;
}
