/* rules.c: benchmark of one round of N threshold rules over M series, against reading their latest values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "config.h"
#include "expr.h"
#include "history.h"
#include "log.h"
#include "registry.h"
#include "rule.h"
#include "ruler.h"
#include "util.h"

/*
 * Usage: rules [-n RULES] [-s SERIES_PER_METRIC] [-p POINTS] [-r ROUNDS]
 *
 * The registry (memory only, no store) holds RULES metric names bench_metric_<k>, each with
 * SERIES_PER_METRIC series {instance="<i>"} of value i, POINTS samples 10 s apart in their
 * window. Rule k is the config's [alert bench_<k>] expr = bench_metric_<k> > 7 (for = 1m):
 * two series of each metric hold, so every rule has two pending instances.
 *
 * One round is what the daemon's rule thread does for every alert rule: ruler_eval_alert
 * (alerts/ruler.c) evaluates the expression over the history source, finds the series its
 * selectors have data for (no data is told from "condition false" that way) and runs the
 * state machine. The baseline, measured in the same run, reads every series' latest value under
 * the registry's read lock. Each figure is the median of ROUNDS rounds after one warm-up.
 */

#define STEP 10.0
#define TARGET 0.020 /* seconds: the target of one round of 10k rules (issue 4) */

static int nrules = 10000, per_metric = 10, npoints = 30, rounds = 10;

static void
fill(struct registry *reg, double t_last)
{
	struct reg_owner *o = reg_owner_new(reg, "bench", STEP, 0);
	struct reg_batch b = { 0 };
	char name[64], inst[16];

	for (int p = npoints - 1; p >= 0; p--) {
		reg_batch_reset(&b);
		for (int k = 0; k < nrules; k++) {
			snprintf(name, sizeof(name), "bench_metric_%d", k);
			for (int i = 0; i < per_metric; i++) {
				struct reeve_label l = { "instance", inst };

				snprintf(inst, sizeof(inst), "%d", i);
				if (reg_batch_add(&b, name, "bench", REEVE_GAUGE, &l, 1, i) == -1)
					bench_die("reg_batch_add %s", name);
			}
		}
		if (reg_commit(reg, o, t_last - p * STEP, &b) != 0)
			bench_die("reg_commit dropped samples");
	}
	reg_batch_free(&b);
}

static struct cfg *
rules_cfg(void)
{
	struct buf text = { 0 };
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;

	buf_puts(&text, "[reeve]\ninterval = 10s\n");
	for (int k = 0; k < nrules; k++)
		buf_printf(&text, "[alert bench_%d]\nexpr = bench_metric_%d > 7\nfor = 1m\n", k, k);
	if ((cfg = cfg_load_string(text.data, "bench", &errs)) == NULL)
		bench_die("config: %s", errs.n ? errs.msgs[0] : "?");
	buf_free(&text);
	return cfg;
}

static void
count_pending(void *arg, const struct rule_alert *a)
{
	if (a->state == RULE_PENDING)
		(*(size_t *)arg)++;
}

/* One round over every rule at t, through the rule thread's own ruler_eval_alert. */
static void
round_eval(struct rule_set *set, struct expr **ex, const struct expr_source *src, double t)
{
	char err[512];

	for (int k = 0; k < nrules; k++)
		if (ruler_eval_alert(set, (size_t)k, ex[k], NULL, src, t, err, sizeof(err)) == -1)
			bench_die("rule %d: %s", k, err);
}

/* The baseline: every series' latest value, read under the registry's read lock. */
static double
read_latest(struct registry *reg, size_t *nseries)
{
	struct reg_family **fams;
	size_t nfam, n = 0;
	double sum = 0;

	reg_rdlock(reg);
	fams = reg_families(reg, &nfam);
	for (size_t i = 0; i < nfam; i++)
		for (size_t j = 0; j < fams[i]->nseries; j++) {
			sum += fams[i]->series[j]->value;
			n++;
		}
	reg_unlock(reg);
	*nseries = n;
	return sum;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rules [-n RULES] [-s SERIES_PER_METRIC] [-p POINTS] [-r ROUNDS]\n");
	exit(2);
}


int
main(int argc, char **argv)
{
	struct registry *reg;
	struct history *hist;
	struct expr_source src;
	struct cfg *cfg;
	struct rule_set *set;
	struct expr **ex;
	double t0, now = floor(util_now()), *evals, *reads, cpu = 0, sum = 0;
	size_t nseries = 0, got = 0;
	int c;
	char err[512];

	while ((c = getopt(argc, argv, "n:s:p:r:")) != -1) {
		switch (c) {
		case 'n': nrules = bench_arg_int(optarg, 1, 10000000, usage); break;
		case 's': per_metric = bench_arg_int(optarg, 1, 10000000, usage); break;
		case 'p': npoints = bench_arg_int(optarg, 1, 10000000, usage); break;
		case 'r': rounds = bench_arg_int(optarg, 1, 10000000, usage); break;
		default: usage();
		}
	}
	log_init(0, "rules");
	log_set_level(LOG_LEVEL_WARN);
	reg = reg_new(npoints * STEP + 60, NULL);
	t0 = util_monotonic();
	fill(reg, now);
	printf("  registry: %d metrics x %d series = %d series, %d points each, filled in %.1f s\n",
	    nrules, per_metric, nrules * per_metric, npoints, util_monotonic() - t0);
	cfg = rules_cfg();
	set = rule_set_new(cfg);
	ex = xcalloc((size_t)nrules, sizeof(*ex));
	for (int k = 0; k < nrules; k++)
		if ((ex[k] = expr_parse(cfg->alerts[k].expr.text, err, sizeof(err))) == NULL)
			bench_die("rule %d: %s", k, err);
	hist = history_new(reg, NULL, npoints * STEP + 60);
	history_source(hist, &src);

	evals = xcalloc((size_t)rounds, sizeof(*evals));
	reads = xcalloc((size_t)rounds, sizeof(*reads));
	round_eval(set, ex, &src, now + 0.5); /* warm-up: creates the instances */
	for (int i = 0; i < rounds; i++) {
		double t = util_monotonic(), c0 = bench_cpu_self();

		round_eval(set, ex, &src, now + 1 + i * 0.01);
		evals[i] = util_monotonic() - t;
		cpu += bench_cpu_self() - c0;
		t = util_monotonic();
		sum += read_latest(reg, &nseries);
		reads[i] = util_monotonic() - t;
	}
	if (nseries != (size_t)nrules * (size_t)per_metric || sum <= 0)
		bench_die("the baseline read %zu series", nseries);
	rule_foreach(set, -1, count_pending, &got);
	if (got != (size_t)nrules * (size_t)(per_metric > 8 ? per_metric - 8 : 0))
		bench_die("a round left %zu instances pending, expected 2 per rule", got);
	{
		double e = bench_median(evals, rounds), r = bench_median(reads, rounds);

		printf("rules N=%d over %zu series: round %.2f ms (median of %d; %.2f ms CPU), "
		    "read latest %.3f ms, ratio %.0f\n", nrules, nseries, e * 1e3, rounds, cpu / rounds * 1e3,
		    r * 1e3, e / r);
		printf("  per rule %.2f us; target one round of 10k rules within %.0f ms: %s\n",
		    e / nrules * 1e6, TARGET * 1e3,
		    e * 10000.0 / nrules <= TARGET ? "met" : "NOT met");
	}
	free(evals);
	free(reads);
	for (int k = 0; k < nrules; k++)
		expr_free(ex[k]);
	free(ex);
	rule_set_free(set);
	history_free(hist);
	cfg_free(cfg);
	reg_free(reg);
	return 0;
}
