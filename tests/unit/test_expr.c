/* test_expr.c: the rule expression language: parsing, errors, formatting and evaluation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expr.h"
#include "util.h"

/*
 * ---- the fixed series every expression is evaluated over, at T = 1000 -------------------
 *
 * Points are (time, value). Instant selectors look back 300 s: (700, 1000].
 */
#define T 1000.0

struct tseries {
	const char *name;
	const char *labels[8];  /* name, value, name, value, ..., NULL */
	int type;
	size_t n;
	double ts[12], v[12];
};

static const struct tseries fixed[] = {
	/* counters: a steady 1/s; one with a reset (80 -> 10); one that started late */
	{ "http_requests_total", { "job", "api", "instance", "a" }, REEVE_COUNTER, 7,
	    { 640, 700, 760, 820, 880, 940, 1000 }, { 40, 100, 160, 220, 280, 340, 400 } },
	{ "http_requests_total", { "job", "api", "instance", "b" }, REEVE_COUNTER, 5,
	    { 760, 820, 880, 940, 1000 }, { 50, 80, 10, 40, 70 } },
	{ "http_requests_total", { "job", "web", "instance", "c" }, REEVE_COUNTER, 3,
	    { 880, 940, 1000 }, { 10, 40, 70 } },
	/* gauges */
	{ "load1", { "host", "x" }, REEVE_GAUGE, 10,
	    { 460, 520, 580, 640, 700, 760, 820, 880, 940, 1000 }, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } },
	{ "load1", { "host", "y" }, REEVE_GAUGE, 5,
	    { 760, 820, 880, 940, 1000 }, { 2, 2, 2, 2, 2 } },
	{ "fs_free_bytes", { "mountpoint", "/var", "host", "x" }, REEVE_GAUGE, 5,
	    { 760, 820, 880, 940, 1000 }, { 1000, 900, 800, 700, 600 } },
	/* NaN values */
	{ "temp", { "sensor", "n" }, REEVE_GAUGE, 3, { 880, 940, 1000 }, { 1, NAN, 3 } },
	{ "temp", { "sensor", "m" }, REEVE_GAUGE, 1, { 1000 }, { NAN } },
	/* up: one stale (last point 400 s ago), one exactly at the lookback boundary */
	{ "up", { "job", "api" }, REEVE_GAUGE, 1, { 1000 }, { 1 } },
	{ "up", { "job", "web" }, REEVE_GAUGE, 1, { 990 }, { 0 } },
	{ "up", { "job", "old" }, REEVE_GAUGE, 1, { 600 }, { 1 } },
	{ "up", { "job", "edge" }, REEVE_GAUGE, 1, { 700 }, { 1 } },
	/* several labels, for matching and aggregation */
	{ "mem_used", { "host", "x", "env", "prod" }, REEVE_GAUGE, 1, { 990 }, { 30 } },
	{ "mem_used", { "host", "y", "env", "dev" }, REEVE_GAUGE, 1, { 990 }, { 50 } },
	{ "mem_total", { "host", "x", "env", "prod" }, REEVE_GAUGE, 1, { 990 }, { 100 } },
	{ "mem_total", { "host", "y", "env", "dev" }, REEVE_GAUGE, 1, { 990 }, { 200 } },
	{ "mem_total", { "host", "z", "env", "prod" }, REEVE_GAUGE, 1, { 990 }, { 400 } },
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

/* The labels of f, sorted and packed as a source returns them. */
static struct reeve_label *
tlabels(const struct tseries *f, size_t *n)
{
	struct reeve_label l[4];

	for (*n = 0; *n < 4 && f->labels[*n * 2]; (*n)++) {
		l[*n].name = f->labels[*n * 2];
		l[*n].value = f->labels[*n * 2 + 1];
	}
	qsort(l, *n, sizeof(*l), cmp_label);
	return expr_labels_pack(l, *n);
}

static int select_calls;

/* The test source: every fixed series matching, with its points in [start, end]. */
static int
tselect(void *arg, const struct expr_matcher *m, size_t nm, double start, double end,
    int latest, struct expr_series **out, size_t *n, char *err, size_t errlen)
{
	struct expr_series *s = xcalloc(NFIXED, sizeof(*s));

	(void)arg;
	(void)latest; /* every point in the range: the evaluator must take the newest */
	select_calls++;
	*n = 0;
	for (size_t i = 0; i < nm; i++)
		if (strcmp(m[i].name, "fail") == 0) {
			snprintf(err, errlen, "test source failure");
			free(s);
			return -1;
		}
	for (size_t i = 0; i < NFIXED; i++) {
		const struct tseries *f = &fixed[i];
		struct expr_series *o = &s[*n];
		size_t nl;
		struct reeve_label *l = tlabels(f, &nl);

		if (!expr_matches(m, nm, f->name, l, nl)) {
			free(l);
			continue;
		}
		o->name = xstrdup(f->name);
		o->labels = l;
		o->nlabels = nl;
		o->type = f->type;
		o->step = 60;
		o->ts = xcalloc(f->n, sizeof(double));
		o->v = xcalloc(f->n, sizeof(double));
		for (size_t j = 0; j < f->n; j++)
			if (f->ts[j] >= start && f->ts[j] <= end) {
				o->ts[o->n] = f->ts[j];
				o->v[o->n++] = f->v[j];
			}
		(*n)++;
	}
	*out = s;
	return 0;
}

/* FAILURES of two Holt-Winters series: hw_req{host="x"} is anomalous, host="y" is not. */
static int
thw(void *arg, const struct expr_matcher *m, size_t nm, double t, struct expr_series **out,
    size_t *n, char *err, size_t errlen)
{
	static const char *const hosts[] = { "x", "y" };
	struct expr_series *s = xcalloc(2, sizeof(*s));

	(void)arg;
	(void)err;
	(void)errlen;
	*n = 0;
	for (size_t i = 0; i < 2; i++) {
		struct reeve_label l = { "host", hosts[i] };
		struct expr_series *o = &s[*n];

		if (!expr_matches(m, nm, "hw_req", &l, 1))
			continue;
		o->name = xstrdup("hw_req");
		o->labels = expr_labels_pack(&l, 1);
		o->nlabels = 1;
		o->ts = xmalloc(sizeof(double));
		o->v = xmalloc(sizeof(double));
		o->ts[0] = t;
		o->v[0] = i == 0;
		o->n = 1;
		(*n)++;
	}
	*out = s;
	return 0;
}

static const struct expr_source src = { .select = tselect, .hw_failures = thw, .lookback = 300 };

/* A value as sorted lines "name{a="x", b="y"} value"; a scalar as its number. */
static char *
show(const struct expr_value *v)
{
	struct buf b = { 0 };
	char num[40], **lines;
	size_t n;

	buf_append(&b, "", 0);
	if (v->type == EXPR_SCALAR) {
		buf_puts(&b, util_fmt_double(num, sizeof(num), v->scalar));
		return buf_steal(&b);
	}
	n = v->type == EXPR_VECTOR ? v->nsamples : v->nseries;
	lines = xcalloc(n + 1, sizeof(*lines));
	for (size_t i = 0; i < n; i++) {
		struct buf l = { 0 };
		const char *name = v->type == EXPR_VECTOR ? v->samples[i].name : v->series[i].name;
		const struct reeve_label *lab = v->type == EXPR_VECTOR ? v->samples[i].labels :
		    v->series[i].labels;
		size_t nl = v->type == EXPR_VECTOR ? v->samples[i].nlabels : v->series[i].nlabels;

		buf_puts(&l, name ? name : "");
		buf_putc(&l, '{');
		for (size_t j = 0; j < nl; j++)
			buf_printf(&l, "%s%s=\"%s\"", j ? ", " : "", lab[j].name, lab[j].value);
		buf_puts(&l, "} ");
		if (v->type == EXPR_VECTOR) {
			buf_puts(&l, util_fmt_double(num, sizeof(num), v->samples[i].v));
		} else {
			for (size_t j = 0; j < v->series[i].n; j++) {
				buf_printf(&l, "%s%s@", j ? " " : "",
				    util_fmt_double(num, sizeof(num), v->series[i].v[j]));
				buf_puts(&l, util_fmt_double(num, sizeof(num), v->series[i].ts[j]));
			}
		}
		lines[i] = buf_steal(&l);
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			char *tmp = lines[j];

			lines[j] = lines[j - 1];
			lines[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s%s", i ? "\n" : "", lines[i]);
		free(lines[i]);
	}
	free(lines);
	return buf_steal(&b);
}

/* Parse, evaluate at T and show; an error comes back as "error: MESSAGE". */
static char *
run(const char *text, const struct expr_source *s)
{
	char err[512];
	struct expr *e;
	struct expr_value v;
	char *r, *f;
	struct expr *again;

	if ((e = expr_parse(text, err, sizeof(err))) == NULL)
		return xasprintf("error: %s", err);
	/* every accepted expression formats to text that parses to the same format */
	f = expr_format(e);
	again = expr_parse(f, err, sizeof(err));
	if (again == NULL)
		fail_msg("%s: format \"%s\" does not parse: %s", text, f, err);
	r = expr_format(again);
	if (strcmp(r, f) != 0)
		fail_msg("%s: format \"%s\" formats again as \"%s\"", text, f, r);
	free(r);
	free(f);
	expr_free(again);
	if (expr_eval(e, s, T, &v, err, sizeof(err)) == -1) {
		assert_int_equal(v.nsamples + v.nseries, 0);
		expr_free(e);
		return xasprintf("error: %s", err);
	}
	assert_int_equal(v.type, expr_result_type(e));
	r = show(&v);
	expr_value_free(&v);
	expr_free(e);
	return r;
}

struct tcase {
	const char *expr;
	const char *want;
};

static const struct tcase cases[] = {
	/* ---- numbers and scalar arithmetic ---- */
	{ "1", "1" },
	{ "1.5", "1.5" },
	{ ".5", "0.5" },
	{ "1e3", "1000" },
	{ "2.5E-1", "0.25" },
	{ "0x1f", "31" },
	{ "NaN", "NaN" },
	{ "nan", "NaN" },
	{ "Inf", "+Inf" },
	{ "-Inf", "-Inf" },
	{ "+inf", "+Inf" },
	{ "1 + 2 * 3", "7" },
	{ "(1 + 2) * 3", "9" },
	{ "10 - 4 - 3", "3" },               /* left-associative */
	{ "2 ^ 3 ^ 2", "512" },              /* right-associative: 2^9 */
	{ "-2 ^ 2", "-4" },                  /* unary minus binds looser than ^ */
	{ "(-2) ^ 2", "4" },
	{ "2 ^ -1", "0.5" },
	{ "7 % 3", "1" },
	{ "-7 % 3", "-1" },                  /* fmod, as Go's math.Mod */
	{ "5.5 % 2", "1.5" },
	{ "1 / 0", "+Inf" },
	{ "-1 / 0", "-Inf" },
	{ "0 / 0", "NaN" },
	{ "1 % 0", "NaN" },
	{ "--3", "3" },
	{ "- - 3", "3" },
	{ "2 * -3", "-6" },
	{ "1 == bool 1", "1" },
	{ "1 != bool 1", "0" },
	{ "2 > bool 1", "1" },
	{ "2 < bool 1", "0" },
	{ "2 >= bool 2", "1" },
	{ "2 <= bool 1", "0" },
	{ "NaN == bool NaN", "0" },
	{ "NaN != bool NaN", "1" },
	{ "1 + 2 > bool 2", "1" },           /* + binds tighter than > */
	{ "time()", "1000" },
	{ "time() - 100", "900" },
	{ "# a comment\n  1 + 1 # another\n", "2" },

	/* ---- instant selectors and staleness ---- */
	{ "load1", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "load1{host=\"x\"}", "load1{host=\"x\"} 10" },
	{ "load1{host!=\"x\"}", "load1{host=\"y\"} 2" },
	{ "load1{host=~\"x|y\"}", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "load1{host=~\"x.\"}", "" },        /* anchored: "x." does not match "x" */
	{ "load1{host=~\".\"}", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "load1{host=~\"[)]|x\"}", "load1{host=\"x\"} 10" },
	{ "load1{host=~\"x{1}|y{0,2}|[0-9]{1,3}(\\\\.[0-9]{1,3}){3}\"}",
	    "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "load1{host=~\"(x+|z*)?\"}", "load1{host=\"x\"} 10" },
	{ "load1{host=~\"[[:alpha:]]\"}", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "load1{host=~\"\\\\)|y\"}", "load1{host=\"y\"} 2" },
	{ "load1{host!~\"x\"}", "load1{host=\"y\"} 2" },
	{ "load1{}", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "load1{host=\"x\",}", "load1{host=\"x\"} 10" },
	{ "load1{host='x'}", "load1{host=\"x\"} 10" },
	{ "load1{host=`x`}", "load1{host=\"x\"} 10" },
	{ "load1{host=\"\\x78\"}", "load1{host=\"x\"} 10" },
	{ "load1{host=\"\\u0078\"}", "load1{host=\"x\"} 10" },
	{ "load1{nolabel=\"\"}", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "{__name__=\"load1\", host=\"y\"}", "load1{host=\"y\"} 2" },
	{ "{__name__=~\"mem_u.*\"}", "mem_used{env=\"dev\", host=\"y\"} 50\n"
	    "mem_used{env=\"prod\", host=\"x\"} 30" },
	{ "{__name__=~\"load1|fs_free_bytes\", host=\"x\"}",
	    "fs_free_bytes{host=\"x\", mountpoint=\"/var\"} 600\nload1{host=\"x\"} 10" },
	{ "no_such_metric", "" },
	{ "up", "up{job=\"api\"} 1\nup{job=\"web\"} 0" }, /* old is stale, edge is at the boundary */
	{ "up{job=\"old\"}", "" },
	{ "up{job=\"edge\"}", "" },
	{ "temp", "temp{sensor=\"m\"} NaN\ntemp{sensor=\"n\"} 3" },
	{ "load1{host=\"x\"} offset 2m", "load1{host=\"x\"} 8" },
	{ "load1{host=\"x\"} offset 1h", "" },
	{ "up{job=\"old\"} offset 5m", "up{job=\"old\"} 1" },

	/* ---- range selectors as the answer ---- */
	{ "load1{host=\"x\"}[3m]", "load1{host=\"x\"} 8@880 9@940 10@1000" },
	{ "load1{host=\"x\"}[2m] offset 1m", "load1{host=\"x\"} 8@880 9@940" },
	{ "temp[1m30s]", "temp{sensor=\"m\"} NaN@1000\ntemp{sensor=\"n\"} NaN@940 3@1000" },
	{ "up[5m]", "up{job=\"api\"} 1@1000\nup{job=\"web\"} 0@990" },
	{ "up[300001ms]", "up{job=\"api\"} 1@1000\nup{job=\"edge\"} 1@700\nup{job=\"web\"} 0@990" },

	/* ---- rate, increase, delta: Prometheus's extrapolatedRate ---- */
	/*
	 * instance a, [5m] = (700, 1000]: points 760..1000, 160..400. increase 240 over a
	 * sampled 240 s; to the start 60 s (< 1.1 * 60 = 66: extrapolate), to the zero point
	 * 240 * 160/240 = 160 s (not shorter); to the end 0 s. 240 * (240+60+0)/240 = 300, / 300 s.
	 */
	{ "rate(http_requests_total{instance=\"a\"}[5m])", "{instance=\"a\", job=\"api\"} 1" },
	{ "increase(http_requests_total{instance=\"a\"}[5m])", "{instance=\"a\", job=\"api\"} 300" },
	/*
	 * instance b: 50 80 10 40 70; the reset 80 -> 10 adds 80: 70 - 50 + 80 = 100 over 240 s,
	 * extrapolated by 60 s at the start: 100 * 300/240 = 125; rate 125/300.
	 */
	{ "increase(http_requests_total{instance=\"b\"}[5m])", "{instance=\"b\", job=\"api\"} 125" },
	{ "rate(http_requests_total{instance=\"b\"}[5m])",
	    "{instance=\"b\", job=\"api\"} 0.4166666666666667" },
	/*
	 * instance c: 10 40 70 at 880..1000: 60 over 120 s; the range starts 180 s before the
	 * first point (more than 66 s) but the counter would be 0 only 120 * 10/60 = 20 s
	 * before it: extrapolate by 20 s. 60 * (120+20)/120 = 70; rate 70/300.
	 */
	{ "increase(http_requests_total{instance=\"c\"}[5m])", "{instance=\"c\", job=\"web\"} 70" },
	{ "rate(http_requests_total{instance=\"c\"}[5m])",
	    "{instance=\"c\", job=\"web\"} 0.23333333333333334" },
	{ "rate(http_requests_total[5m])", "{instance=\"a\", job=\"api\"} 1\n"
	    "{instance=\"b\", job=\"api\"} 0.4166666666666667\n"
	    "{instance=\"c\", job=\"web\"} 0.23333333333333334" },
	/* [2m] = (880, 1000]: 340, 400; 60 over 60 s, 60 s to the start: 60 * 120/60 = 120 / 120 s */
	{ "rate(http_requests_total{instance=\"a\"}[2m])", "{instance=\"a\", job=\"api\"} 1" },
	/*
	 * [10m] = (400, 1000]: 40..400, 360 over 360 s; 240 s to the start (more than 66 s),
	 * zero point 360 * 40/360 = 40 s: 360 * (360+40)/360 = 400; rate 400/600.
	 */
	{ "increase(http_requests_total{instance=\"a\"}[10m])", "{instance=\"a\", job=\"api\"} 400" },
	{ "rate(http_requests_total{instance=\"a\"}[10m])",
	    "{instance=\"a\", job=\"api\"} 0.6666666666666666" },
	{ "rate(http_requests_total{instance=\"a\"}[1m])", "" },  /* one point: no rate */
	{ "rate(up[5m])", "" },
	/* delta: no counter resets, no zero point; c: 60 * (120 + 60/2)/120 = 75 */
	{ "delta(http_requests_total{instance=\"b\"}[5m])", "{instance=\"b\", job=\"api\"} 25" },
	{ "delta(http_requests_total{instance=\"c\"}[5m])", "{instance=\"c\", job=\"web\"} 75" },
	{ "delta(load1{host=\"x\"}[5m])", "{host=\"x\"} 5" },
	{ "delta(fs_free_bytes[5m])", "{host=\"x\", mountpoint=\"/var\"} -500" },
	{ "irate(http_requests_total[5m])", "{instance=\"a\", job=\"api\"} 1\n"
	    "{instance=\"b\", job=\"api\"} 0.5\n{instance=\"c\", job=\"web\"} 0.5" },
	{ "irate(http_requests_total{instance=\"b\"}[3m])", "{instance=\"b\", job=\"api\"} 0.5" },
	/* (820, 880]: one point, no irate; a reset as the last step counts the new value */
	{ "irate(http_requests_total{instance=\"b\"}[1m] offset 2m)", "" },
	{ "irate(http_requests_total{instance=\"b\"}[2m] offset 2m)",
	    "{instance=\"b\", job=\"api\"} 0.16666666666666666" },
	{ "resets(http_requests_total[5m])", "{instance=\"a\", job=\"api\"} 0\n"
	    "{instance=\"b\", job=\"api\"} 1\n{instance=\"c\", job=\"web\"} 0" },
	{ "changes(http_requests_total{instance=\"b\"}[5m])", "{instance=\"b\", job=\"api\"} 4" },
	{ "changes(load1{host=\"y\"}[5m])", "{host=\"y\"} 0" },
	{ "changes(temp[5m])", "{sensor=\"m\"} 0\n{sensor=\"n\"} 2" },
	{ "resets(temp[5m])", "{sensor=\"m\"} 0\n{sensor=\"n\"} 0" },

	/* ---- *_over_time ---- */
	{ "avg_over_time(load1[5m])", "{host=\"x\"} 8\n{host=\"y\"} 2" },
	{ "avg_over_time(load1{host=\"x\"}[15m])", "{host=\"x\"} 5.5" },
	{ "min_over_time(load1[5m])", "{host=\"x\"} 6\n{host=\"y\"} 2" },
	{ "max_over_time(load1[5m])", "{host=\"x\"} 10\n{host=\"y\"} 2" },
	{ "sum_over_time(load1[5m])", "{host=\"x\"} 40\n{host=\"y\"} 10" },
	{ "count_over_time(load1[5m])", "{host=\"x\"} 5\n{host=\"y\"} 5" },
	{ "count_over_time(up[5m])", "{job=\"api\"} 1\n{job=\"web\"} 1" },
	{ "last_over_time(load1[5m])", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "last_over_time(up{job=\"old\"}[10m])", "up{job=\"old\"} 1" },
	{ "quantile_over_time(0.5, load1{host=\"x\"}[5m])", "{host=\"x\"} 8" },
	/* rank 0.9 * 4 = 3.6: 9 * 0.4 + 10 * 0.6 */
	{ "quantile_over_time(0.9, load1{host=\"x\"}[5m])", "{host=\"x\"} 9.6" },
	{ "quantile_over_time(0, load1{host=\"x\"}[5m])", "{host=\"x\"} 6" },
	{ "quantile_over_time(1, load1{host=\"x\"}[5m])", "{host=\"x\"} 10" },
	{ "quantile_over_time(2, load1{host=\"x\"}[5m])", "{host=\"x\"} +Inf" },
	{ "quantile_over_time(-1, load1{host=\"x\"}[5m])", "{host=\"x\"} -Inf" },
	{ "quantile_over_time(NaN, load1{host=\"x\"}[5m])", "{host=\"x\"} NaN" },
	{ "quantile_over_time(0.25 * 2, load1{host=\"x\"}[5m])", "{host=\"x\"} 8" },
	/* NaN sorts first: NaN, 1, 3 -> the median is 1 */
	{ "quantile_over_time(0.5, temp{sensor=\"n\"}[5m])", "{sensor=\"n\"} 1" },
	/* NaN: min and max skip it, avg and sum do not */
	{ "min_over_time(temp{sensor=\"n\"}[5m])", "{sensor=\"n\"} 1" },
	{ "max_over_time(temp{sensor=\"n\"}[5m])", "{sensor=\"n\"} 3" },
	{ "avg_over_time(temp{sensor=\"n\"}[5m])", "{sensor=\"n\"} NaN" },
	{ "sum_over_time(temp{sensor=\"n\"}[5m])", "{sensor=\"n\"} NaN" },
	{ "max_over_time(temp{sensor=\"m\"}[5m])", "{sensor=\"m\"} NaN" },
	{ "avg_over_time(up{job=\"old\"}[5m])", "" },
	{ "avg_over_time(load1[15m]) > 4", "{host=\"x\"} 5.5" },

	/* ---- deriv and predict_linear: least squares ---- */
	{ "deriv(load1{host=\"x\"}[5m])", "{host=\"x\"} 0.016666666666666666" },
	{ "deriv(load1{host=\"y\"}[5m])", "{host=\"y\"} 0" },
	{ "deriv(fs_free_bytes[5m]) * 60", "{host=\"x\", mountpoint=\"/var\"} -100" },
	{ "deriv(up[5m])", "" },
	/* the line through (t, 10) with slope 1/60, 600 s later */
	{ "predict_linear(load1{host=\"x\"}[5m], 600)", "{host=\"x\"} 20" },
	{ "predict_linear(load1{host=\"y\"}[5m], 600)", "{host=\"y\"} 2" },
	{ "predict_linear(fs_free_bytes[6h], 4*3600)", "{host=\"x\", mountpoint=\"/var\"} -23400" },
	{ "predict_linear(fs_free_bytes[6h], 4*3600) < 0", "{host=\"x\", mountpoint=\"/var\"} -23400" },
	{ "predict_linear(fs_free_bytes[5m], 3600)", "{host=\"x\", mountpoint=\"/var\"} -5400" },

	/* ---- instant vector functions ---- */
	{ "abs(-load1)", "{host=\"x\"} 10\n{host=\"y\"} 2" },
	{ "abs(temp)", "{sensor=\"m\"} NaN\n{sensor=\"n\"} 3" },
	{ "clamp_min(load1, 5)", "{host=\"x\"} 10\n{host=\"y\"} 5" },
	{ "clamp_max(load1, 5)", "{host=\"x\"} 5\n{host=\"y\"} 2" },
	{ "clamp_max(temp, 1)", "{sensor=\"m\"} NaN\n{sensor=\"n\"} 1" },
	{ "clamp_min(load1, NaN)", "{host=\"x\"} NaN\n{host=\"y\"} NaN" },
	{ "clamp_min(load1, time() - 997)", "{host=\"x\"} 10\n{host=\"y\"} 3" },
	{ "absent(up{job=\"api\"})", "" },
	{ "absent(nonexistent{job=\"x\"})", "{job=\"x\"} 1" },
	{ "absent(nonexistent{job=\"x\", env=\"prod\"})", "{env=\"prod\", job=\"x\"} 1" },
	{ "absent(nonexistent{job=~\"x.*\"})", "{} 1" },
	{ "absent(nonexistent{job=\"x\", job!=\"y\"})", "{} 1" },
	{ "absent(nonexistent)", "{} 1" },
	{ "absent(up{job=\"old\"})", "{job=\"old\"} 1" },
	{ "absent(sum(nonexistent{job=\"x\"}))", "{} 1" },
	{ "absent(load1 > 100)", "{} 1" },
	{ "absent_over_time(up{job=\"old\"}[5m])", "{job=\"old\"} 1" },
	{ "absent_over_time(up{job=\"old\"}[10m])", "" },
	{ "absent_over_time(nonexistent{a=\"b\"}[1h])", "{a=\"b\"} 1" },
	{ "holt_winters_anomaly(hw_req)", "{host=\"x\"} 1\n{host=\"y\"} 0" },
	{ "holt_winters_anomaly(hw_req) == 1", "{host=\"x\"} 1" },
	{ "holt_winters_anomaly(hw_req{host=\"y\"})", "{host=\"y\"} 0" },

	/* ---- vector and scalar ---- */
	{ "load1 + 1", "{host=\"x\"} 11\n{host=\"y\"} 3" },
	{ "1 - load1", "{host=\"x\"} -9\n{host=\"y\"} -1" },
	{ "load1 * 2", "{host=\"x\"} 20\n{host=\"y\"} 4" },
	{ "load1 / 4", "{host=\"x\"} 2.5\n{host=\"y\"} 0.5" },
	{ "load1 % 3", "{host=\"x\"} 1\n{host=\"y\"} 2" },
	{ "load1 ^ 2", "{host=\"x\"} 100\n{host=\"y\"} 4" },
	{ "2 ^ load1", "{host=\"x\"} 1024\n{host=\"y\"} 4" },
	{ "-load1", "{host=\"x\"} -10\n{host=\"y\"} -2" },
	{ "load1 > 5", "load1{host=\"x\"} 10" },
	{ "load1 < 5", "load1{host=\"y\"} 2" },
	{ "load1 >= 2", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2" },
	{ "load1 <= 2", "load1{host=\"y\"} 2" },
	{ "load1 == 2", "load1{host=\"y\"} 2" },
	{ "load1 != 2", "load1{host=\"x\"} 10" },
	{ "5 < load1", "load1{host=\"x\"} 10" },   /* the vector's value, not the scalar */
	{ "load1 > bool 5", "{host=\"x\"} 1\n{host=\"y\"} 0" },
	{ "5 > bool load1", "{host=\"x\"} 0\n{host=\"y\"} 1" },
	{ "temp > 0", "temp{sensor=\"n\"} 3" },
	{ "temp != 3", "temp{sensor=\"m\"} NaN" },
	{ "temp == bool NaN", "{sensor=\"m\"} 0\n{sensor=\"n\"} 0" },
	{ "temp + 1", "{sensor=\"m\"} NaN\n{sensor=\"n\"} 4" },
	{ "load1 > 100", "" },
	{ "(load1 > 100) + 1", "" },
	{ "rate(http_requests_total[5m]) > 0.5", "{instance=\"a\", job=\"api\"} 1" },
	{ "rate(http_requests_total[5m]) * 60 > 20", "{instance=\"a\", job=\"api\"} 60\n"
	    "{instance=\"b\", job=\"api\"} 25" },

	/* ---- vector and vector: one-to-one matching ---- */
	{ "mem_used / mem_total", "{env=\"dev\", host=\"y\"} 0.25\n{env=\"prod\", host=\"x\"} 0.3" },
	{ "mem_total - mem_used", "{env=\"dev\", host=\"y\"} 150\n{env=\"prod\", host=\"x\"} 70" },
	{ "mem_used / on(host) mem_total", "{host=\"x\"} 0.3\n{host=\"y\"} 0.25" },
	{ "mem_used / on(host, env) mem_total", "{env=\"dev\", host=\"y\"} 0.25\n"
	    "{env=\"prod\", host=\"x\"} 0.3" },
	{ "mem_used / ignoring(env) mem_total", "{host=\"x\"} 0.3\n{host=\"y\"} 0.25" },
	{ "mem_used < mem_total", "mem_used{env=\"dev\", host=\"y\"} 50\n"
	    "mem_used{env=\"prod\", host=\"x\"} 30" },
	{ "mem_used > mem_total", "" },
	{ "mem_used > bool mem_total", "{env=\"dev\", host=\"y\"} 0\n{env=\"prod\", host=\"x\"} 0" },
	{ "mem_used < on(host) mem_total", "{host=\"x\"} 30\n{host=\"y\"} 50" },
	{ "mem_used * 2 > on(host) mem_total / 2", "{host=\"x\"} 60" },
	{ "mem_used / mem_total > 0.28", "{env=\"prod\", host=\"x\"} 0.3" },
	{ "load1 + mem_used", "" },             /* no label set in common */
	{ "load1{host=\"x\"} + on() up{job=\"api\"}", "{} 11" },
	{ "mem_total / on(env) mem_used", "error: expr: several series on the left side of \"/\" "
	    "match the same labels (mem_total{env=\"prod\", host=\"z\"}): matching must be "
	    "one-to-one; use on (...) or ignoring (...)" },
	{ "mem_used / on(env) mem_total", "error: expr: several series on the right side of \"/\" "
	    "match the same labels (mem_total{env=\"prod\", host=\"z\"}): matching must be "
	    "one-to-one; use on (...) or ignoring (...)" },

	/* ---- and, or, unless ---- */
	{ "mem_total and mem_used", "mem_total{env=\"dev\", host=\"y\"} 200\n"
	    "mem_total{env=\"prod\", host=\"x\"} 100" },
	{ "mem_total unless mem_used", "mem_total{env=\"prod\", host=\"z\"} 400" },
	{ "mem_used or mem_total", "mem_total{env=\"prod\", host=\"z\"} 400\n"
	    "mem_used{env=\"dev\", host=\"y\"} 50\nmem_used{env=\"prod\", host=\"x\"} 30" },
	{ "mem_total and on(env) mem_used{env=\"prod\"}", "mem_total{env=\"prod\", host=\"x\"} 100\n"
	    "mem_total{env=\"prod\", host=\"z\"} 400" },
	{ "mem_total unless ignoring(host) mem_used{host=\"x\"}",
	    "mem_total{env=\"dev\", host=\"y\"} 200" },
	{ "up or load1", "load1{host=\"x\"} 10\nload1{host=\"y\"} 2\nup{job=\"api\"} 1\nup{job=\"web\"} 0" },
	{ "up or on() load1", "up{job=\"api\"} 1\nup{job=\"web\"} 0" },
	{ "nonexistent or up{job=\"api\"}", "up{job=\"api\"} 1" },
	{ "up and nonexistent", "" },
	{ "up unless nonexistent", "up{job=\"api\"} 1\nup{job=\"web\"} 0" },
	/* or binds looser than and: a or (b and c) */
	{ "up{job=\"api\"} or up{job=\"web\"} and nonexistent", "up{job=\"api\"} 1" },
	{ "(up{job=\"api\"} or up{job=\"web\"}) and on() up{job=\"web\"}",
	    "up{job=\"api\"} 1\nup{job=\"web\"} 0" },

	/* ---- aggregation ---- */
	{ "sum(mem_total)", "{} 700" },
	{ "sum by (env) (mem_total)", "{env=\"dev\"} 200\n{env=\"prod\"} 500" },
	{ "sum(mem_total) by (env)", "{env=\"dev\"} 200\n{env=\"prod\"} 500" },
	{ "sum without (host) (mem_total)", "{env=\"dev\"} 200\n{env=\"prod\"} 500" },
	{ "sum without (env) (mem_total)", "{host=\"x\"} 100\n{host=\"y\"} 200\n{host=\"z\"} 400" },
	{ "sum without () (mem_total)", "{env=\"dev\", host=\"y\"} 200\n{env=\"prod\", host=\"x\"} 100\n"
	    "{env=\"prod\", host=\"z\"} 400" },
	{ "sum by (nolabel) (mem_total)", "{} 700" },
	{ "sum by (__name__) ({__name__=~\"mem_.*\"})", "mem_total{} 700\nmem_used{} 80" },
	{ "avg(mem_total)", "{} 233.33333333333334" },
	{ "avg by (env) (mem_total)", "{env=\"dev\"} 200\n{env=\"prod\"} 250" },
	{ "min(mem_total)", "{} 100" },
	{ "max(mem_total)", "{} 400" },
	{ "max by (env) (mem_total)", "{env=\"dev\"} 200\n{env=\"prod\"} 400" },
	{ "count(mem_total)", "{} 3" },
	{ "count by (env) (mem_total)", "{env=\"dev\"} 1\n{env=\"prod\"} 2" },
	{ "count(nonexistent)", "" },
	{ "sum(nonexistent)", "" },
	{ "sum(temp)", "{} NaN" },
	{ "min(temp)", "{} 3" },
	{ "max(temp{sensor=\"m\"})", "{} NaN" },
	{ "avg(load1)", "{} 6" },
	{ "sum(rate(http_requests_total[5m]))", "{} 1.65" },
	{ "sum by (job) (rate(http_requests_total[5m]))",
	    "{job=\"api\"} 1.4166666666666667\n{job=\"web\"} 0.23333333333333334" },
	{ "sum(rate(http_requests_total[5m])) by (job) > 1", "{job=\"api\"} 1.4166666666666667" },
	{ "sum(mem_used) / sum(mem_total)", "{} 0.11428571428571428" },
	{ "count(up == 1)", "{} 1" },
	{ "sum by (job) (up)", "{job=\"api\"} 1\n{job=\"web\"} 0" },
	{ "max(sum by (env) (mem_total))", "{} 500" },
	{ "sum(count by (env) (mem_total))", "{} 3" },

	/* ---- evaluation errors ---- */
	{ "abs({__name__=~\"mem_.*\", host=\"x\"})", "error: expr: abs gives several series with "
	    "the same labels {env=\"prod\", host=\"x\"} (their metric names were dropped)" },
	{ "{__name__=~\"mem_.*\", host=\"x\"} + 1", "error: expr: + gives several series with "
	    "the same labels {env=\"prod\", host=\"x\"} (their metric names were dropped)" },
	{ "load1{fail=\"1\"}", "error: expr: reading series: test source failure" },
	{ "rate(load1{fail=\"1\"}[5m])", "error: expr: reading series: test source failure" },
	{ "sum(load1) + on() count(load1{fail=\"1\"})",
	    "error: expr: reading series: test source failure" },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = run(cases[i].expr, &src);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s\n  want: %s\n  got:  %s", cases[i].expr, cases[i].want, got);
		free(got);
	}
	print_message("%zu expressions\n", sizeof(cases) / sizeof(cases[0]));
}

/* ---- malformed expressions: the exact message, with line and column ---- */
static const struct tcase bad[] = {
	{ "rat(x[5m])", "expr: 1:1: unknown function \"rat\"; did you mean \"rate\"?" },
	{ "1 + rat(x[5m])", "expr: 1:5: unknown function \"rat\"; did you mean \"rate\"?" },
	{ "sum(\n  rat(x[5m])\n)", "expr: 2:3: unknown function \"rat\"; did you mean \"rate\"?" },
	{ "avg_over_tim(x[5m])", "expr: 1:1: unknown function \"avg_over_tim\"; did you mean "
	    "\"avg_over_time\"?" },
	{ "sun(x)", "expr: 1:1: unknown function \"sun\"; did you mean \"sum\"?" },
	{ "foo(bar)", "expr: 1:1: unknown function \"foo\"" },
	{ "histogram_quantile(0.9, x)", "expr: 1:1: function \"histogram_quantile\" is not "
	    "supported (see docs/expressions.md)" },
	{ "", "expr: 1:1: empty expression" },
	{ "  \n ", "expr: 1:1: empty expression" },
	{ "# only a comment", "expr: 1:1: empty expression" },
	{ "load1{host=\"x}", "expr: 1:12: unterminated string" },
	{ "load1{host=\"x\n\"}", "expr: 1:12: unterminated string" },
	{ "load1{host=\"a\\qb\"}", "expr: 1:14: unknown escape sequence \"\\q\" in string" },
	{ "load1{host=\"\\x0\"}", "expr: 1:13: bad escape sequence in string" },
	{ "load1{host=\"\\x00\"}", "expr: 1:13: strings must not contain NUL characters" },
	{ "load1{host=\"x\"", "expr: 1:6: unbalanced braces: \"{\" is never closed" },
	{ "load1[5x]", "expr: 1:7: bad duration \"5x\"" },
	{ "load1[1m5h]", "expr: 1:7: bad duration \"1m5h\"" },
	{ "load1[5]", "expr: 1:7: bad duration \"5\": a duration needs a unit (ms, s, m, h, d, w or y)" },
	{ "load1[0s]", "expr: 1:7: range must be greater than 0" },
	{ "load1[5m", "expr: 1:9: unexpected end of input; expected \"]\"" },
	{ "load1[]", "expr: 1:7: unexpected \"]\"; expected a duration such as 5m" },
	{ "1.5.3", "expr: 1:1: bad number \"1.5.3\"" },
	{ "(load1", "expr: 1:1: unbalanced parentheses: \"(\" is never closed" },
	{ "load1)", "expr: 1:6: unbalanced parentheses: unexpected \")\"" },
	{ ")", "expr: 1:1: unbalanced parentheses: unexpected \")\"" },
	{ "sum(load1", "expr: 1:4: unbalanced parentheses: \"(\" of sum is never closed" },
	{ "()", "expr: 1:2: empty parentheses" },
	{ "rate(load1)", "expr: 1:6: rate expects a range vector, got an instant vector" },
	{ "rate(load1[5m], 1)", "expr: 1:1: rate expects 1 argument, got 2" },
	{ "time(1)", "expr: 1:1: time expects 0 arguments, got 1" },
	{ "clamp_min(load1)", "expr: 1:1: clamp_min expects 2 arguments, got 1" },
	{ "clamp_min(load1, load1)", "expr: 1:18: clamp_min expects a scalar as argument 2, got an "
	    "instant vector" },
	{ "quantile_over_time(load1[5m], 0.5)", "expr: 1:20: quantile_over_time expects a scalar as "
	    "argument 1, got a range vector" },
	{ "predict_linear(load1, 3600)", "expr: 1:16: predict_linear expects a range vector as "
	    "argument 1, got an instant vector" },
	{ "abs(load1[5m])", "expr: 1:5: abs expects an instant vector, got a range vector" },
	{ "holt_winters_anomaly(sum(x))", "expr: 1:22: holt_winters_anomaly expects an instant "
	    "vector selector" },
	{ "sum(load1[5m])", "expr: 1:5: sum expects an instant vector, got a range vector" },
	{ "sum(1)", "expr: 1:5: sum expects an instant vector, got a scalar" },
	{ "sum(load1, load1)", "expr: 1:1: sum expects 1 argument, got 2" },
	{ "sum(load1,)", "expr: 1:11: unexpected \")\"; expected an expression" },
	{ "abs(load1)[5m]", "expr: 1:11: ranges are only allowed on selectors (reeve has no "
	    "subqueries)" },
	{ "(load1)[5m]", "expr: 1:8: ranges are only allowed on selectors (reeve has no subqueries)" },
	{ "load1 offset 5m [1m]", "expr: 1:17: a range must come right after the selector, once, "
	    "and before offset" },
	{ "sum(load1) offset 5m", "expr: 1:12: offset is only allowed on selectors" },
	{ "load1{host=\"x\"} offset", "expr: 1:23: unexpected end of input; expected a duration "
	    "after offset" },
	{ "5m", "expr: 1:1: a duration is only allowed in a range [5m] or after offset" },
	{ "load1[5m] + 1", "expr: 1:11: operator \"+\" needs scalars or instant vectors, got a "
	    "range vector on the left" },
	{ "load1[5m] / load1[5m]", "expr: 1:11: operator \"/\" needs scalars or instant vectors, "
	    "got a range vector on the left" },
	{ "1 - load1[1m]", "expr: 1:3: operator \"-\" needs scalars or instant vectors, got a "
	    "range vector on the right" },
	{ "-load1[5m]", "expr: 1:1: unary minus needs a scalar or an instant vector, got a range "
	    "vector" },
	{ "1 + bool 2", "expr: 1:5: bool is only allowed after a comparison operator, not after "
	    "\"+\"" },
	{ "load1 and bool load1", "expr: 1:11: bool is only allowed after a comparison operator, "
	    "not after \"and\"" },
	{ "1 > 2", "expr: 1:3: comparisons between scalars must use bool (write \"> bool\")" },
	{ "load1 and 1", "expr: 1:7: operator \"and\" needs instant vectors on both sides, got a "
	    "scalar on the right" },
	{ "1 + on(a) load1", "expr: 1:3: vector matching (on/ignoring) needs instant vectors on "
	    "both sides" },
	{ "load1 + ignoring(a) group_left load1", "expr: 1:21: group_left is not supported: reeve "
	    "matches one-to-one only" },
	{ "load1{host=~\"(\"}", "expr: 1:13: invalid regular expression \"(\": Unmatched ( or \\(" },
	{ "load1{host=~\"a)(b\"}", "expr: 1:13: invalid regular expression \"a)(b\": Unmatched ( or \\(" },
	{ "load1{host=~\"a)|(b)\"}", "expr: 1:13: invalid regular expression \"a)|(b)\": Unmatched ) or \\)" },
	{ "x{a=~\"b++\"}", "expr: 1:6: invalid regular expression \"b++\": bad repetition operator" },
	{ "x{a=~\"b*?\"}", "expr: 1:6: invalid regular expression \"b*?\": bad repetition operator" },
	{ "x{a=~\"b{1001}\"}", "expr: 1:6: invalid regular expression \"b{1001}\": repetition "
	    "count above 1000" },
	{ "x{a=~\"(b{100}){101}\"}", "expr: 1:6: invalid regular expression \"(b{100}){101}\": "
	    "too complex" },
	{ "x{a=~\"((((((((((((((b+)+)+)+)+)+)+)+)+)+)+)+)+)+)+\"}", "expr: 1:6: invalid regular "
	    "expression \"((((((((((((((b+)+)+)+)+)+)+)+)+)+)+)+)+)+)+\": too complex" },
	{ "load1{host==\"x\"}", "expr: 1:11: unknown label matching operator \"==\"; expected =, !=, "
	    "=~ or !~" },
	{ "load1{host<\"x\"}", "expr: 1:11: unknown label matching operator \"<\"; expected =, !=, "
	    "=~ or !~" },
	{ "load1{host=x}", "expr: 1:12: label matcher value must be a quoted string, got identifier "
	    "\"x\"" },
	{ "load1{1=\"x\"}", "expr: 1:7: unexpected number \"1\"; expected a label name" },
	{ "load1{a:b=\"x\"}", "expr: 1:7: invalid label name \"a:b\"" },
	{ "{}", "expr: 1:1: selector must contain at least one matcher that does not match the "
	    "empty string" },
	{ "{job=~\".*\"}", "expr: 1:1: selector must contain at least one matcher that does not "
	    "match the empty string" },
	{ "load1{__name__=\"x\"}", "expr: 1:1: metric name set twice: outside and inside the braces" },
	{ "sum by (a, a) (load1)", "expr: 1:12: duplicate label \"a\" in by (...)" },
	{ "load1 / on(b, b) load1", "expr: 1:15: duplicate label \"b\" in on (...)" },
	{ "sum by (a:b) (x)", "expr: 1:9: invalid label name \"a:b\" in by (...)" },
	{ "sum by (\"a\") (x)", "expr: 1:9: expected a label name in by (...), got string" },
	{ "sum bye (a) (load1)", "expr: 1:5: unknown aggregation modifier \"bye\"; did you mean \"by\"?" },
	{ "sum(load1) withut (a)", "expr: 1:12: unknown aggregation modifier \"withut\"; did you mean "
	    "\"without\"?" },
	{ "sum by (a) (load1) by (b)", "expr: 1:20: sum has a grouping before and after its argument" },
	{ "load1 load1", "expr: 1:7: unexpected identifier \"load1\" after the end of the expression" },
	{ "load1 @ 100", "expr: 1:7: unexpected character \"@\"" },
	{ "load1 ! 1", "expr: 1:7: unexpected character \"!\"" },
	{ "1 +", "expr: 1:4: unexpected end of input; expected an expression" },
	{ "up == bool", "expr: 1:11: unexpected end of input; expected an expression" },
	{ "load1 + * 2", "expr: 1:9: unexpected \"*\"; expected an expression" },
	{ "\"str\"", "expr: 1:1: string literals are only allowed as label matcher values" },
	{ "on", "expr: 1:1: unexpected keyword \"on\"; expected an expression" },
	{ "sum", "expr: 1:4: unexpected end of input; expected \"(\"" },
};

static void
test_errors(void **state)
{
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct expr *e = expr_parse(bad[i].expr, err, sizeof(err));

		if (e != NULL)
			fail_msg("\"%s\" parsed", bad[i].expr);
		if (strcmp(err, bad[i].want) != 0)
			fail_msg("%s\n  want: %s\n  got:  %s", bad[i].expr, bad[i].want, err);
	}
	print_message("%zu malformed expressions\n", sizeof(bad) / sizeof(bad[0]));
}

/* Hostile sizes: nesting, long chains and long texts are refused, not recursed into. */
static void
test_limits(void **state)
{
	char err[256];
	struct buf b = { 0 };
	struct expr *e;

	(void)state;
	for (int i = 0; i < 150; i++)
		buf_putc(&b, '(');
	buf_putc(&b, '1');
	for (int i = 0; i < 150; i++)
		buf_putc(&b, ')');
	e = expr_parse(b.data, err, sizeof(err));
	assert_non_null(e);       /* 150 levels are fine */
	expr_free(e);

	buf_reset(&b);
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, '(');
	assert_null(expr_parse(b.data, err, sizeof(err)));
	assert_string_equal(err, "expr: expression longer than 65536 bytes");

	buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "-(");
	buf_putc(&b, 'x');
	assert_null(expr_parse(b.data, err, sizeof(err)));
	assert_non_null(strstr(err, "nested too deeply (more than 408 levels of parentheses and "
	    "operators)"));

	/* parentheses are no operations: 400 of them are fine, the tree is one selector */
	buf_reset(&b);
	for (int i = 0; i < 400; i++)
		buf_putc(&b, '(');
	buf_putc(&b, 'x');
	for (int i = 0; i < 400; i++)
		buf_putc(&b, ')');
	e = expr_parse(b.data, err, sizeof(err));
	assert_non_null(e);
	expr_free(e);

	/* 199 unary minus signs on a vector: a tree 200 deep whose text parses again */
	buf_reset(&b);
	for (int i = 0; i < 199; i++)
		buf_puts(&b, "-(");
	buf_putc(&b, 'x');
	for (int i = 0; i < 199; i++)
		buf_putc(&b, ')');
	e = expr_parse(b.data, err, sizeof(err));
	assert_non_null(e);
	{
		char *f = expr_format(e);
		struct expr *again = expr_parse(f, err, sizeof(err));

		assert_non_null(again);
		expr_free(again);
		free(f);
	}
	expr_free(e);
	buf_reset(&b);
	for (int i = 0; i < 200; i++)
		buf_puts(&b, "-(");
	buf_putc(&b, 'x');
	for (int i = 0; i < 200; i++)
		buf_putc(&b, ')');
	assert_null(expr_parse(b.data, err, sizeof(err)));
	assert_string_equal(err, "expr: 1:1: expression nested too deeply (more than 200 levels)");

	buf_reset(&b);
	for (int i = 0; i < 10000; i++)
		buf_puts(&b, "x + ");
	buf_putc(&b, 'x');
	assert_null(expr_parse(b.data, err, sizeof(err)));
	assert_string_equal(err, "expr: 1:1: expression nested too deeply (more than 200 levels)");

	buf_reset(&b);
	for (int i = 0; i < 10000; i++)
		buf_puts(&b, "2 ^ ");
	buf_putc(&b, '1');
	assert_null(expr_parse(b.data, err, sizeof(err)));
	assert_non_null(strstr(err, "nested too deeply"));
	buf_free(&b);

	/* a short error buffer truncates, never overflows */
	assert_null(expr_parse("rat(x[5m])", err, 12));
	assert_string_equal(err, "expr: 1:1: ");
	assert_null(expr_parse("rat(x[5m])", NULL, 0));
}

/* The canonical text: precedence made explicit, names outside braces where they can be. */
static void
test_format(void **state)
{
	static const struct tcase fmts[] = {
		{ "1+2*3", "1 + (2 * 3)" },
		{ "(1+2)*3", "(1 + 2) * 3" },
		{ "-2^2", "-(2 ^ 2)" },
		{ "2 ^ -1", "2 ^ (-1)" },
		{ "0x10", "16" },
		{ "load1{host='x'}", "load1{host=\"x\"}" },
		{ "{__name__=\"load1\"}", "load1" },
		{ "{__name__=\"sum\"}", "{__name__=\"sum\"}" },
		{ "{__name__=\"a\", __name__=\"b\"}", "{__name__=\"a\", __name__=\"b\"}" },
		{ "x{a=`q\"\\`}", "x{a=\"q\\\"\\\\\"}" },
		{ "x{a=\"tab\\there\\x01\"}", "x{a=\"tab\\there\\x01\"}" },
		{ "rate(x[90s])", "rate(x[1m30s])" },
		{ "x[1y2w3d4h5m6s7ms] offset 3600s", "x[1y2w3d4h5m6s7ms] offset 1h" },
		{ "sum(x) by (b, a)", "sum by (a, b) (x)" },
		{ "sum without() (x)", "sum without () (x)" },
		{ "a > bool on(x) b", "a > bool on (x) b" },
		{ "a or b and c unless d", "a or ((b and c) unless d)" },
		{ "a / ignoring(z) b", "a / ignoring (z) b" },
		{ "quantile_over_time(.9, x[5m])", "quantile_over_time(0.9, x[5m])" },
		{ "-x", "-x" },
		{ "- (x + 1)", "-(x + 1)" },
		{ "-(-(-x))", "---x" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct expr *e = expr_parse(fmts[i].expr, err, sizeof(err));
		char *f;

		if (e == NULL)
			fail_msg("%s: %s", fmts[i].expr, err);
		f = expr_format(e);
		if (strcmp(f, fmts[i].want) != 0)
			fail_msg("%s\n  want: %s\n  got:  %s", fmts[i].expr, fmts[i].want, f);
		free(f);
		expr_free(e);
	}
}

/* What a caller learns before evaluating: result type, selectors, how far back. */
static void
test_inspect(void **state)
{
	char err[256];
	const struct expr_selector *s;
	size_t n;
	struct expr *e;

	(void)state;
	e = expr_parse("rate(a{job=\"x\"}[5m]) > on() b offset 1h + c[1m]", err, sizeof(err));
	assert_null(e);
	e = expr_parse("rate(a{job=\"x\"}[5m]) > on() (b offset 1h) or absent(c)", err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(expr_result_type(e), EXPR_VECTOR);
	s = expr_selectors(e, &n);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].nm, 2);
	assert_string_equal(s[0].m[0].name, "__name__");
	assert_string_equal(s[0].m[0].value, "a");
	assert_string_equal(s[0].m[1].name, "job");
	assert_int_equal(s[0].m[1].op, EXPR_MATCH_EQ);
	assert_true(s[0].range == 300 && s[0].offset == 0);
	assert_true(s[1].range == 0 && s[1].offset == 3600);
	assert_string_equal(s[2].m[0].value, "c");
	assert_true(expr_reach(e, 300) == 3900);
	expr_free(e);

	e = expr_parse("1 + time()", err, sizeof(err));
	assert_int_equal(expr_result_type(e), EXPR_SCALAR);
	s = expr_selectors(e, &n);
	assert_int_equal(n, 0);
	assert_true(expr_reach(e, 300) == 0);
	expr_free(e);

	e = expr_parse("x[10m]", err, sizeof(err));
	assert_int_equal(expr_result_type(e), EXPR_MATRIX);
	assert_true(expr_reach(e, 300) == 600);
	expr_free(e);
	expr_free(NULL);
}

static void
test_matches(void **state)
{
	char err[256];
	struct expr *e = expr_parse("{__name__=~\"a.*\", x!=\"1\", y!~\"z|w\", q=\"\"}", err,
	    sizeof(err));
	const struct expr_selector *s;
	struct reeve_label l1[] = { { "x", "2" }, { "y", "v" } };
	struct reeve_label l2[] = { { "x", "1" } };
	struct reeve_label l3[] = { { "q", "set" } };
	struct reeve_label l4[] = { { "y", "w" } };
	size_t n;

	(void)state;
	assert_non_null(e);
	s = expr_selectors(e, &n);
	assert_true(expr_matches(s[0].m, s[0].nm, "abc", l1, 2));
	assert_true(expr_matches(s[0].m, s[0].nm, "a", NULL, 0));
	assert_false(expr_matches(s[0].m, s[0].nm, "ba", NULL, 0));     /* anchored */
	assert_false(expr_matches(s[0].m, s[0].nm, "abc", l2, 1));
	assert_false(expr_matches(s[0].m, s[0].nm, "abc", l3, 1));
	assert_false(expr_matches(s[0].m, s[0].nm, "abc", l4, 1));
	expr_free(e);
	expr_series_free(NULL, 0);
}

static void
count_seen(void *arg, const struct expr_series *s)
{
	(*(int *)arg)++;
	assert_non_null(s->name);
}

/*
 * Evaluation errors that depend on the source; the source is asked once per selector and
 * tells its observer about every series a selector read, also those a comparison drops.
 */
static void
test_source(void **state)
{
	static const struct expr_source nohw = { .select = tselect };
	struct expr_source watched = src;
	int nseen = 0;
	char *r;

	(void)state;
	r = run("holt_winters_anomaly(hw_req)", &nohw);
	assert_string_equal(r, "error: expr: holt_winters_anomaly: this data source has no "
	    "Holt-Winters data");
	free(r);
	/* lookback 0 means the default of 300 s */
	r = run("up", &nohw);
	assert_string_equal(r, "up{job=\"api\"} 1\nup{job=\"web\"} 0");
	free(r);
	select_calls = 0;
	r = run("sum(rate(http_requests_total[5m])) / count(up) + load1", &src);
	assert_int_equal(select_calls, 3);
	free(r);
	watched.seen = count_seen;
	watched.seen_arg = &nseen;
	r = run("up > 0", &watched);
	assert_string_equal(r, "up{job=\"api\"} 1");
	assert_int_equal(nseen, 3); /* api, web, and edge: the test source's range includes 700 */
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_inspect),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
