/* backtest.c: replays an alert rule over the stored RRD history and reports its transitions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backtest.h"
#include "expr.h"
#include "history.h"
#include "registry.h"
#include "rule.h"
#include "ruler.h"
#include "store.h"
#include "util.h"

/* Per instance: when it started firing (NaN when not firing), how often, for how long. */
struct tally {
	char *key;
	unsigned fired;
	double since, total;
};

struct report {
	FILE *out;
	struct tally *t;
	size_t n;
	unsigned transitions;
};

static void
labels_text(struct buf *b, const struct reeve_label *l, size_t n)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "%s%s=", i ? ", " : "", l[i].name);
		buf_json_string(b, l[i].value);
	}
	buf_putc(b, '}');
}

static struct tally *
tally_get(struct report *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->t[i].key, key) == 0)
			return &r->t[i];
	r->t = xreallocarray(r->t, r->n + 1, sizeof(*r->t));
	r->t[r->n] = (struct tally){ xstrdup(key), 0, NAN, 0 };
	return &r->t[r->n++];
}

/* The printing sink: one line per transition, and the firing time of each instance. */
static void
print_event(void *arg, const struct rule_event *ev)
{
	struct report *r = arg;
	struct buf key = { 0 };
	struct tally *t;
	char when[40], num[40];

	labels_text(&key, ev->labels, ev->nlabels);
	t = tally_get(r, key.data);
	if (ev->to == RULE_FIRING) {
		t->fired++;
		t->since = ev->time;
	} else if (ev->from == RULE_FIRING && !isnan(t->since)) {
		t->total += ev->time - t->since;
		t->since = NAN;
	}
	fprintf(r->out, "%s %s %s -> %s value %s\n", util_fmt_rfc3339(when, sizeof(when), ev->time),
	    key.data, rule_state_name(ev->from), rule_state_name(ev->to),
	    util_fmt_double(num, sizeof(num), ev->value));
	r->transitions++;
	buf_free(&key);
}

static void
fmt_span(char *out, size_t size, double s)
{
	long long v = llround(s);

	if (v >= 3600)
		snprintf(out, size, "%lldh%02lldm", v / 3600, v % 3600 / 60);
	else if (v >= 60)
		snprintf(out, size, "%lldm%02llds", v / 60, v % 60);
	else
		snprintf(out, size, "%llds", v);
}

int
backtest_run(const struct cfg *cfg, const char *name, double since, double step, FILE *out,
    char *err, size_t errlen)
{
	struct store_params sp = { cfg->data_dir, cfg->rrdcached, cfg->preset, 1000, NULL, 0,
		cfg->rrdcached_dir };
	struct report rep = { out, NULL, 0, 0 };
	struct expr *expr = NULL, *recover = NULL;
	struct registry *reg = NULL;
	struct history *hist = NULL;
	struct rule_set *rs = NULL;
	struct store *store = NULL;
	struct expr_source src;
	const struct cfg_alert *a = NULL;
	char *rrd = xasprintf("%s/rrd", cfg->data_dir), from[40], to[40], span[32];
	struct stat st;
	double now = floor(util_now()), t0;
	size_t i, steps = 0;
	int rc = -1;

	for (i = 0; i < cfg->nalerts; i++)
		if (strcmp(cfg->alerts[i].name, name) == 0) {
			a = &cfg->alerts[i];
			break;
		}
	if (a == NULL) {
		snprintf(err, errlen, "no [alert %s] in the configuration", name);
		goto out;
	}
	if (stat(rrd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "no stored history: %s is not a directory", rrd);
		goto out;
	}
	if ((expr = expr_parse(a->expr.text, err, errlen)) == NULL ||
	    (a->recover.text && (recover = expr_parse(a->recover.text, err, errlen)) == NULL))
		goto out;
	if ((store = store_new(&sp, err, errlen)) == NULL)
		goto out;
	/* an empty registry and no window: every range is read from the files */
	reg = reg_new(0, NULL);
	hist = history_new(reg, store, 0);
	history_source(hist, &src);
	rs = rule_set_new(cfg);
	rule_set_sink(rs, print_event, &rep);
	if (step <= 0)
		step = a->eval_interval > 60 ? a->eval_interval : 60;
	t0 = floor((now - since) / step) * step;
	fprintf(out, "backtest of [alert %s] from %s to %s every %.0fs (the finest RRD archive "
	    "holds a value a minute in the default presets)\n", name,
	    util_fmt_rfc3339(from, sizeof(from), t0), util_fmt_rfc3339(to, sizeof(to), now), step);
	for (double t = t0; t <= now; t += step, steps++)
		if (ruler_eval_alert(rs, i, expr, recover, &src, t, err, errlen) == -1) {
			fprintf(out, "%s: not evaluated: %s\n", util_fmt_rfc3339(from, sizeof(from), t),
			    err);
			err[0] = '\0';
		}
	fprintf(out, "%zu evaluations, %u transitions\n", steps, rep.transitions);
	for (size_t k = 0; k < rep.n; k++) {
		struct tally *t = &rep.t[k];
		int still = !isnan(t->since);

		if (still)
			t->total += now - t->since;
		fmt_span(span, sizeof(span), t->total);
		fprintf(out, "  %s fired %u time%s, firing %s in total%s\n", t->key, t->fired,
		    t->fired == 1 ? "" : "s", span, still ? " (still firing at the end)" : "");
	}
	rc = 0;
out:
	for (size_t k = 0; k < rep.n; k++)
		free(rep.t[k].key);
	free(rep.t);
	rule_set_free(rs);
	history_free(hist);
	reg_free(reg);
	store_free(store, 1);
	expr_free(expr);
	expr_free(recover);
	free(rrd);
	return rc;
}
