/* fuzz_expr.c: fuzz target for the expression language: parse, format, parse again, evaluate. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "fuzz.h"
#include "util.h"

/* A small fixed source: counters with a reset, gauges, NaN, series differing only by name. */
struct fseries {
	const char *name, *lname, *lvalue;
	size_t n;
	double ts[6], v[6];
};

static const struct fseries fixed[] = {
	{ "a_total", "job", "x", 6, { 700, 760, 820, 880, 940, 1000 }, { 1, 5, 2, 8, 9, 20 } },
	{ "a_total", "job", "y", 2, { 940, 1000 }, { 3, 3 } },
	{ "b", "job", "x", 3, { 880, 940, 1000 }, { 1, NAN, -4 } },
	{ "b", "host", "h", 1, { 500 }, { 7 } },
	{ "c", "job", "x", 4, { 820, 880, 940, 1000 }, { INFINITY, 0, -0.0, 1e308 } },
};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

static int
fselect(void *arg, const struct expr_matcher *m, size_t nm, double start, double end,
    int latest, struct expr_series **out, size_t *n, char *err, size_t errlen)
{
	struct expr_series *s = xcalloc(NFIXED, sizeof(*s));

	(void)arg;
	(void)latest;
	(void)err;
	(void)errlen;
	*n = 0;
	for (size_t i = 0; i < NFIXED; i++) {
		struct reeve_label l = { fixed[i].lname, fixed[i].lvalue };
		struct expr_series *o = &s[*n];

		if (!expr_matches(m, nm, fixed[i].name, &l, 1))
			continue;
		o->name = xstrdup(fixed[i].name);
		o->labels = expr_labels_pack(&l, 1);
		o->nlabels = 1;
		o->ts = xcalloc(6, sizeof(double));
		o->v = xcalloc(6, sizeof(double));
		for (size_t j = 0; j < fixed[i].n; j++)
			if (fixed[i].ts[j] >= start && fixed[i].ts[j] <= end) {
				o->ts[o->n] = fixed[i].ts[j];
				o->v[o->n++] = fixed[i].v[j];
			}
		(*n)++;
	}
	*out = s;
	return 0;
}

static int
fhw(void *arg, const struct expr_matcher *m, size_t nm, double t, struct expr_series **out,
    size_t *n, char *err, size_t errlen)
{
	(void)arg;
	(void)t;
	if (nm > 0 && strcmp(m[0].name, "__name__") == 0 && strcmp(m[0].value, "fail") == 0) {
		snprintf(err, errlen, "no Holt-Winters RRA");
		return -1;
	}
	return fselect(arg, m, nm, t - 300, t, 0, out, n, err, errlen);
}

static const struct expr_source src = { .select = fselect, .hw_failures = fhw, .lookback = 300 };

/*
 * Properties: parsing never crashes and errors start with "expr: "; an accepted expression
 * formats to text that parses again and formats the same; evaluation returns the type the
 * parser announced, or an error.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *text, *f, *g;
	struct expr *e, *again;
	struct expr_value v;
	const struct expr_selector *sels;
	size_t nsels;

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	e = expr_parse(text, err, sizeof(err));
	if (e == NULL) {
		FUZZ_CHECK(strncmp(err, "expr: ", 6) == 0);
		free(text);
		return 0;
	}
	f = expr_format(e);
	again = expr_parse(f, err, sizeof(err));
	if (again == NULL)
		fprintf(stderr, "format \"%s\" does not parse: %s\n", f, err);
	FUZZ_CHECK(again != NULL);
	g = expr_format(again);
	if (strcmp(f, g) != 0)
		fprintf(stderr, "format \"%s\" formats again as \"%s\"\n", f, g);
	FUZZ_CHECK(strcmp(f, g) == 0);
	FUZZ_CHECK(expr_result_type(again) == expr_result_type(e));
	sels = expr_selectors(e, &nsels);
	for (size_t i = 0; i < nsels; i++)
		FUZZ_CHECK(sels[i].nm > 0 && sels[i].range >= 0 && sels[i].offset >= 0);
	FUZZ_CHECK(expr_reach(e, 300) >= 0);
	if (expr_eval(e, &src, 1000, &v, err, sizeof(err)) == 0) {
		FUZZ_CHECK(v.type == expr_result_type(e));
		expr_value_free(&v);
	} else {
		FUZZ_CHECK(strncmp(err, "expr: ", 6) == 0);
		FUZZ_CHECK(v.nsamples == 0 && v.nseries == 0);
	}
	free(f);
	free(g);
	expr_free(again);
	expr_free(e);
	free(text);
	return 0;
}
