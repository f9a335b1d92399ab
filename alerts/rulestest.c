/* rulestest.c: `reeve rules test`: test files of input series and expected alerts, and their run. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "memsource.h"
#include "rule.h"
#include "ruler.h"
#include "rulestest.h"
#include "template.h"
#include "util.h"

/* A label set read from a test file: names and values owned, sorted by name. */
struct tlabels {
	struct reeve_label *l;
	size_t n;
};

struct tseries {
	char *name;
	struct tlabels labels;
	struct rulestest_point *p;
	size_t n;
	int line;
};

/* alert = RULE STATE {labels} {annotations}; state -1 for "none". */
struct talert {
	double t;
	const char *when; /* the [eval T] text, owned by the test */
	char *rule;
	int state;
	struct tlabels labels, ann;
	int line;
	int failed;
};

struct tsample {
	char *name; /* NULL: the sample has no metric name */
	struct tlabels labels;
	double v;
};

/* expr = TEXT, then result = ... lines (or result = none). */
struct texpr {
	double t;
	const char *when;
	char *text;
	struct tsample *res;
	size_t nres;
	int none, line;
};

struct rulestest {
	char *file;
	char *rules;       /* resolved path */
	int rules_line;
	double interval;
	struct tseries *series;
	size_t nseries;
	struct talert *alerts;
	size_t nalerts;
	struct texpr *exprs;
	size_t nexprs;
	char **whens;
	size_t nwhens;
};

/* ---- small parsers ----------------------------------------------------------------------- */

/* A number at *p: decimal (no hex), NaN, Inf, +Inf, -Inf. Advances *p; returns 0 or -1. */
static int
scan_number(const char **p, double *v)
{
	const char *s = *p, *q = s;
	char buf[64], *end;

	if (*q == '+' || *q == '-')
		q++;
	if (strncmp(q, "Inf", 3) == 0 || strncmp(q, "NaN", 3) == 0) {
		q += 3;
	} else {
		const char *d = q;

		while (isdigit((unsigned char)*q))
			q++;
		if (*q == '.')
			for (q++; isdigit((unsigned char)*q); q++)
				;
		if (q == d || (q == d + 1 && *d == '.'))
			return -1;
		if (*q == 'e' || *q == 'E') {
			const char *e = q + 1;

			if (*e == '+' || *e == '-')
				e++;
			if (isdigit((unsigned char)*e)) {
				while (isdigit((unsigned char)*e))
					e++;
				q = e;
			}
		}
	}
	if ((size_t)(q - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(q - s));
	buf[q - s] = '\0';
	errno = 0;
	*v = strtod(buf, &end);
	if (*end != '\0')
		return -1;
	*p = q;
	return 0;
}

/* A whole count after 'x': digits only. */
static int
scan_count(const char **p, unsigned long *n)
{
	const char *q = *p;
	unsigned long c = 0;

	if (!isdigit((unsigned char)*q))
		return -1;
	for (; isdigit((unsigned char)*q); q++) {
		if (c > RULESTEST_MAX_POINTS)
			return -1;
		c = c * 10 + (unsigned long)(*q - '0');
	}
	*p = q;
	*n = c;
	return 0;
}

int
rulestest_expand(const char *text, struct rulestest_point **out, size_t *n, char *err,
    size_t errlen)
{
	struct rulestest_point *pts = NULL;
	size_t np = 0, cap = 0;
	const char *p = text;

	*out = NULL;
	*n = 0;
	for (;;) {
		const char *item;
		enum rulestest_kind kind = RULESTEST_VALUE;
		double v = 0, d = 0;
		unsigned long times = 0, count;
		int ramp = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		item = p;
		if (strncmp(p, "stale", 5) == 0) {
			kind = RULESTEST_STALE;
			p += 5;
		} else if (*p == '_') {
			kind = RULESTEST_MISSING;
			p++;
			if (*p == 'x') {
				p++;
				if (scan_count(&p, &times) == -1)
					goto bad;
			}
		} else {
			if (scan_number(&p, &v) == -1)
				goto bad;
			if (*p == '+' || *p == '-') {
				int neg = *p == '-';

				p++;
				if (*p == '+' || *p == '-' || scan_number(&p, &d) == -1 || *p != 'x')
					goto bad;
				d = neg ? -d : d;
				ramp = 1;
			}
			if (*p == 'x') {
				p++;
				if (scan_count(&p, &times) == -1)
					goto bad;
				if (!ramp)
					times++; /* "VxN" is V+0xN: N+1 values */
			}
		}
		if (*p != '\0' && *p != ' ' && *p != '\t')
			goto bad;
		/* _xN is N missing points; V+DxN is N+1 values; a plain item is one */
		count = kind == RULESTEST_MISSING ? (times ? times : 1) : ramp ? times + 1 :
		    (times ? times : 1);
		if (count > RULESTEST_MAX_POINTS - np) {
			snprintf(err, errlen, "more than %d values", RULESTEST_MAX_POINTS);
			free(pts);
			return -1;
		}
		if (np + count > cap) {
			while (np + count > cap)
				cap = cap ? cap * 2 : 16;
			pts = xreallocarray(pts, cap, sizeof(*pts));
		}
		for (unsigned long i = 0; i < count; i++) {
			pts[np].kind = kind;
			pts[np++].v = kind == RULESTEST_VALUE ? v + d * (double)i : NAN;
		}
		continue;
bad:
		{
			size_t len = strcspn(item, " \t");

			snprintf(err, errlen, "\"%.*s\" is not a value (use 1, 1+2x10, 5x3, _, _x3 or "
			    "stale)", len > 40 ? 40 : (int)len, item);
			free(pts);
			return -1;
		}
	}
	*out = pts;
	*n = np;
	return 0;
}

static void
tlabels_free(struct tlabels *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free((char *)t->l[i].name);
		free((char *)t->l[i].value);
	}
	free(t->l);
	t->l = NULL;
	t->n = 0;
}

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

/*
 * A label set at *p: {name="value", ...} (escapes \" \\ \n; a trailing comma allowed).
 * Advances *p past the '}'. names_ok: names must be label names (annotations allow any
 * word). Returns 0, or -1 with a message in err.
 */
static int
scan_labels(const char **p, struct tlabels *out, int label_names, char *err, size_t errlen)
{
	const char *q = *p;
	struct buf val = { 0 };

	memset(out, 0, sizeof(*out));
	if (*q != '{') {
		snprintf(err, errlen, "expected '{'");
		return -1;
	}
	q++;
	for (;;) {
		const char *n0;
		char *name;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '}') {
			q++;
			break;
		}
		n0 = q;
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		if (q == n0) {
			snprintf(err, errlen, "expected a label name or '}' at \"%.20s\"", q);
			goto fail;
		}
		name = xstrndup(n0, (size_t)(q - n0));
		if (label_names && !util_valid_label_name(name)) {
			snprintf(err, errlen, "\"%s\" is not a label name", name);
			free(name);
			goto fail;
		}
		for (size_t i = 0; i < out->n; i++)
			if (strcmp(out->l[i].name, name) == 0) {
				snprintf(err, errlen, "label \"%s\" given twice", name);
				free(name);
				goto fail;
			}
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=' || q[1] != '"') {
			snprintf(err, errlen, "expected =\"value\" after \"%s\"", name);
			free(name);
			goto fail;
		}
		q += 2;
		buf_reset(&val);
		buf_puts(&val, "");
		while (*q != '"') {
			if (*q == '\0') {
				snprintf(err, errlen, "unterminated string");
				free(name);
				goto fail;
			}
			if (*q == '\\') {
				q++;
				if (*q == 'n')
					buf_putc(&val, '\n');
				else if (*q == '\\' || *q == '"')
					buf_putc(&val, *q);
				else {
					snprintf(err, errlen, "unknown escape in a string");
					free(name);
					goto fail;
				}
				q++;
				continue;
			}
			buf_putc(&val, *q++);
		}
		q++;
		out->l = xreallocarray(out->l, out->n + 1, sizeof(*out->l));
		out->l[out->n].name = name;
		out->l[out->n++].value = xstrdup(val.data);
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == ',') {
			q++;
			continue;
		}
		if (*q != '}') {
			snprintf(err, errlen, "expected ',' or '}' at \"%.20s\"", q);
			goto fail;
		}
	}
	buf_free(&val);
	if (out->n > 1)
		qsort(out->l, out->n, sizeof(*out->l), cmp_label);
	*p = q;
	return 0;
fail:
	buf_free(&val);
	tlabels_free(out);
	return -1;
}

/* A metric name at *p (possibly empty); returns a new string. */
static char *
scan_name(const char **p)
{
	const char *q = *p;

	while (isalnum((unsigned char)*q) || *q == '_' || *q == ':')
		q++;
	if (q == *p)
		return NULL;
	{
		char *s = xstrndup(*p, (size_t)(q - *p));

		*p = q;
		return s;
	}
}

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* ---- the file ---------------------------------------------------------------------------- */

enum section { SEC_NONE, SEC_TEST, SEC_SERIES, SEC_EVAL };

struct pstate {
	struct rulestest *t;
	struct cfg_errors *errs;
	enum section sec;
	double when;
	const char *when_text;
	int have_interval, have_rules, have_eval;
	int skip;  /* in an unknown section */
	int line;
};

#define PERR(ps, ...) cfg_error_add((ps)->errs, (ps)->t->file, (ps)->line, __VA_ARGS__)

static void
key_test(struct pstate *ps, const char *key, const char *value)
{
	struct rulestest *t = ps->t;
	const char *es;

	if (strcmp(key, "rules") == 0) {
		char *dir, *copy;

		if (ps->have_rules++) {
			PERR(ps, "rules given twice");
			return;
		}
		if (*value == '\0') {
			PERR(ps, "rules: expected a file name");
			return;
		}
		copy = xstrdup(t->file);
		dir = dirname(copy);
		/* relative to the test file's directory ("x.test" alone: the current one) */
		t->rules = value[0] == '/' || strchr(t->file, '/') == NULL ? xstrdup(value) :
		    xasprintf("%s/%s", dir, value);
		t->rules_line = ps->line;
		free(copy);
	} else if (strcmp(key, "interval") == 0) {
		double d;

		if (ps->have_interval++) {
			PERR(ps, "interval given twice");
			return;
		}
		if (cfg_parse_duration(value, &d, &es) == -1)
			PERR(ps, "interval: \"%s\" %s", value, es);
		else if (d < 0.001 || d > 86400)
			PERR(ps, "interval: \"%s\" must be between 1ms and 1d", value);
		else
			t->interval = d;
	} else {
		PERR(ps, "unknown key \"%s\" in [test] (rules, interval)", key);
	}
}

static void
key_series(struct pstate *ps, const char *key, const char *value)
{
	struct rulestest *t = ps->t;
	struct tseries s = { 0 };
	const char *p = value;
	char err[256];

	if (strcmp(key, "series") != 0) {
		PERR(ps, "unknown key \"%s\" in [series] (series)", key);
		return;
	}
	s.name = scan_name(&p);
	if (s.name == NULL || !util_valid_metric_name(s.name)) {
		PERR(ps, "series: expected a metric name at \"%.20s\"", value);
		free(s.name);
		return;
	}
	if (*p == '{' && scan_labels(&p, &s.labels, 1, err, sizeof(err)) == -1) {
		PERR(ps, "series: %s", err);
		free(s.name);
		return;
	}
	if (*p != ' ' && *p != '\t') {
		PERR(ps, "series: expected values after the series name");
		goto fail;
	}
	if (rulestest_expand(p, &s.p, &s.n, err, sizeof(err)) == -1) {
		PERR(ps, "series: %s", err);
		goto fail;
	}
	if (s.n == 0) {
		PERR(ps, "series: no values");
		goto fail;
	}
	for (size_t i = 0; i < t->nseries; i++) {
		const struct tseries *o = &t->series[i];
		int same = strcmp(o->name, s.name) == 0 && o->labels.n == s.labels.n;

		for (size_t j = 0; same && j < s.labels.n; j++)
			same = strcmp(o->labels.l[j].name, s.labels.l[j].name) == 0 &&
			    strcmp(o->labels.l[j].value, s.labels.l[j].value) == 0;
		if (same) {
			PERR(ps, "series: the same series as line %d", o->line);
			goto fail;
		}
	}
	s.line = ps->line;
	t->series = xreallocarray(t->series, t->nseries + 1, sizeof(*t->series));
	t->series[t->nseries++] = s;
	return;
fail:
	free(s.name);
	free(s.p);
	tlabels_free(&s.labels);
}

static void
key_alert(struct pstate *ps, const char *value)
{
	struct rulestest *t = ps->t;
	struct talert a = { 0 };
	const char *p = value, *w;
	char err[256], word[16];
	size_t len;
	enum rule_state st;

	w = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (p == w) {
		PERR(ps, "alert: expected RULE STATE {labels}");
		return;
	}
	a.rule = xstrndup(w, (size_t)(p - w));
	p = skip_space(p);
	w = p;
	while (isalpha((unsigned char)*p))
		p++;
	len = (size_t)(p - w);
	if (len == 0 || len >= sizeof(word)) {
		PERR(ps, "alert: expected a state (firing, pending, nodata or none) after \"%s\"",
		    a.rule);
		goto fail;
	}
	memcpy(word, w, len);
	word[len] = '\0';
	if (strcmp(word, "none") == 0)
		a.state = -1;
	else if (rule_state_parse(word, &st) == 0 &&
	    (st == RULE_FIRING || st == RULE_PENDING || st == RULE_NODATA))
		a.state = (int)st;
	else {
		PERR(ps, "alert: \"%s\" is not firing, pending, nodata or none", word);
		goto fail;
	}
	p = skip_space(p);
	if (*p == '{') {
		if (a.state == -1) {
			PERR(ps, "alert: none takes no labels");
			goto fail;
		}
		if (scan_labels(&p, &a.labels, 1, err, sizeof(err)) == -1) {
			PERR(ps, "alert: labels: %s", err);
			goto fail;
		}
		p = skip_space(p);
		if (*p == '{' && scan_labels(&p, &a.ann, 0, err, sizeof(err)) == -1) {
			PERR(ps, "alert: annotations: %s", err);
			goto fail;
		}
		p = skip_space(p);
	}
	if (*p != '\0') {
		PERR(ps, "alert: unexpected \"%.20s\"", p);
		goto fail;
	}
	a.t = ps->when;
	a.when = ps->when_text;
	a.line = ps->line;
	t->alerts = xreallocarray(t->alerts, t->nalerts + 1, sizeof(*t->alerts));
	t->alerts[t->nalerts++] = a;
	return;
fail:
	free(a.rule);
	tlabels_free(&a.labels);
	tlabels_free(&a.ann);
}

static void
key_result(struct pstate *ps, const char *value)
{
	struct texpr *x;
	struct tsample s = { 0 };
	const char *p = value;
	char err[256];

	if (ps->t->nexprs == 0 || ps->t->exprs[ps->t->nexprs - 1].t != ps->when ||
	    ps->t->exprs[ps->t->nexprs - 1].line < ps->have_eval) {
		PERR(ps, "result: no expr = line before it in this section");
		return;
	}
	x = &ps->t->exprs[ps->t->nexprs - 1];
	if (strcmp(value, "none") == 0) {
		if (x->nres > 0 || x->none)
			PERR(ps, "result: none after other results");
		x->none = 1;
		return;
	}
	if (x->none) {
		PERR(ps, "result: a result after none");
		return;
	}
	s.name = scan_name(&p);
	if (*p != '{') {
		PERR(ps, "result: expected [name]{labels} value");
		free(s.name);
		return;
	}
	if (scan_labels(&p, &s.labels, 1, err, sizeof(err)) == -1) {
		PERR(ps, "result: %s", err);
		free(s.name);
		return;
	}
	p = skip_space(p);
	if (scan_number(&p, &s.v) == -1 || *skip_space(p) != '\0') {
		PERR(ps, "result: expected a number after the labels");
		free(s.name);
		tlabels_free(&s.labels);
		return;
	}
	x->res = xreallocarray(x->res, x->nres + 1, sizeof(*x->res));
	x->res[x->nres++] = s;
}

static void
key_eval(struct pstate *ps, const char *key, const char *value)
{
	struct rulestest *t = ps->t;

	if (strcmp(key, "alert") == 0) {
		key_alert(ps, value);
	} else if (strcmp(key, "expr") == 0) {
		struct texpr x = { 0 };
		char err[512];
		struct expr *e;

		if ((e = expr_parse(value, err, sizeof(err))) == NULL) {
			PERR(ps, "%s", err);
			return;
		}
		expr_free(e);
		x.t = ps->when;
		x.when = ps->when_text;
		x.text = xstrdup(value);
		x.line = ps->line;
		t->exprs = xreallocarray(t->exprs, t->nexprs + 1, sizeof(*t->exprs));
		t->exprs[t->nexprs++] = x;
	} else if (strcmp(key, "result") == 0) {
		key_result(ps, value);
	} else {
		PERR(ps, "unknown key \"%s\" in [eval] (alert, expr, result)", key);
	}
}

static void
section(struct pstate *ps, char *name)
{
	const char *es;

	ps->skip = 0;
	if (strcmp(name, "test") == 0) {
		ps->sec = SEC_TEST;
	} else if (strcmp(name, "series") == 0) {
		ps->sec = SEC_SERIES;
	} else if (strncmp(name, "eval ", 5) == 0) {
		const char *d = skip_space(name + 5);
		double v;

		ps->sec = SEC_EVAL;
		ps->have_eval = ps->line;
		if (cfg_parse_duration(d, &v, &es) == -1) {
			PERR(ps, "[eval %s]: \"%s\" %s", d, d, es);
			v = 0;
		} else if (v > 366 * 86400.0) {
			PERR(ps, "[eval %s]: more than 366d", d);
			v = 0;
		}
		ps->when = v;
		ps->t->whens = xreallocarray(ps->t->whens, ps->t->nwhens + 1, sizeof(char *));
		ps->t->whens[ps->t->nwhens++] = xstrdup(d);
		ps->when_text = ps->t->whens[ps->t->nwhens - 1];
	} else {
		ps->sec = SEC_NONE;
		ps->skip = 1;
		PERR(ps, "unknown section [%s] (test, series, eval DURATION)", name);
	}
}

static void
line(struct pstate *ps, char *s)
{
	char *eq, *key, *value, *end;

	s = (char *)skip_space(s);
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (*s == '[') {
		if (end[-1] != ']') {
			PERR(ps, "a section header must end with ']'");
			ps->sec = SEC_NONE;
			ps->skip = 1;
			return;
		}
		end[-1] = '\0';
		section(ps, s + 1);
		return;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		PERR(ps, "expected key = value");
		return;
	}
	key = s;
	value = (char *)skip_space(eq + 1);
	while (eq > key && (eq[-1] == ' ' || eq[-1] == '\t'))
		eq--;
	*eq = '\0';
	switch (ps->sec) {
	case SEC_TEST:
		key_test(ps, key, value);
		break;
	case SEC_SERIES:
		key_series(ps, key, value);
		break;
	case SEC_EVAL:
		key_eval(ps, key, value);
		break;
	default:
		/* after an unknown section (already reported) its keys are skipped */
		if (!ps->skip)
			PERR(ps, "key \"%s\" outside a section", key);
		break;
	}
}

struct rulestest *
rulestest_parse(const char *text, size_t len, const char *file, struct cfg_errors *errs)
{
	struct rulestest *t = xcalloc(1, sizeof(*t));
	struct pstate ps = { 0 };
	size_t nerr = errs->n, pos = 0;

	t->file = xstrdup(file);
	t->interval = 60;
	ps.t = t;
	ps.errs = errs;
	if (len > RULESTEST_MAX_SIZE) {
		cfg_error_add(errs, file, 0, "larger than %d bytes", RULESTEST_MAX_SIZE);
		goto fail;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s;

		ps.line++;
		if (memchr(text + pos, '\0', l) != NULL) {
			PERR(&ps, "a NUL byte in the line");
		} else {
			s = xstrndup(text + pos, l);
			line(&ps, s);
			free(s);
		}
		pos += l + 1;
	}
	for (size_t i = 0; i < t->nexprs; i++)
		if (t->exprs[i].nres == 0 && !t->exprs[i].none)
			cfg_error_add(errs, file, t->exprs[i].line,
			    "expr without result lines (write result = none for an empty result)");
	if (!ps.have_rules)
		cfg_error_add(errs, file, 0, "no rules = FILE in [test]");
	if (t->nalerts + t->nexprs == 0 && errs->n == nerr)
		cfg_error_add(errs, file, 0, "no expectations (alert = or expr = in an [eval T] section)");
	if (errs->n != nerr)
		goto fail;
	return t;
fail:
	rulestest_free(t);
	return NULL;
}

void
rulestest_free(struct rulestest *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nseries; i++) {
		free(t->series[i].name);
		free(t->series[i].p);
		tlabels_free(&t->series[i].labels);
	}
	for (size_t i = 0; i < t->nalerts; i++) {
		free(t->alerts[i].rule);
		tlabels_free(&t->alerts[i].labels);
		tlabels_free(&t->alerts[i].ann);
	}
	for (size_t i = 0; i < t->nexprs; i++) {
		for (size_t j = 0; j < t->exprs[i].nres; j++) {
			free(t->exprs[i].res[j].name);
			tlabels_free(&t->exprs[i].res[j].labels);
		}
		free(t->exprs[i].res);
		free(t->exprs[i].text);
	}
	for (size_t i = 0; i < t->nwhens; i++)
		free(t->whens[i]);
	free(t->whens);
	free(t->series);
	free(t->alerts);
	free(t->exprs);
	free(t->rules);
	free(t->file);
	free(t);
}

size_t
rulestest_count(const struct rulestest *t)
{
	return t->nalerts + t->nexprs;
}

/* ---- evaluation -------------------------------------------------------------------------- */

/* One instance as the checks see it: a copy of what rule_foreach shows. */
struct inst {
	struct tlabels labels;
	int state;
	double value;
	int matched;
};

struct insts {
	struct inst *a;
	size_t n;
};

static void
collect(void *arg, const struct rule_alert *a)
{
	struct insts *c = arg;
	struct inst *x;

	if (a->state != RULE_FIRING && a->state != RULE_PENDING && a->state != RULE_NODATA)
		return;
	c->a = xreallocarray(c->a, c->n + 1, sizeof(*c->a));
	x = &c->a[c->n++];
	memset(x, 0, sizeof(*x));
	x->labels.l = xcalloc(a->nlabels ? a->nlabels : 1, sizeof(*x->labels.l));
	for (size_t i = 0; i < a->nlabels; i++) {
		x->labels.l[i].name = xstrdup(a->labels[i].name);
		x->labels.l[i].value = xstrdup(a->labels[i].value);
	}
	x->labels.n = a->nlabels;
	qsort(x->labels.l, x->labels.n, sizeof(*x->labels.l), cmp_label);
	x->state = (int)a->state;
	x->value = a->value;
}

static void
insts_free(struct insts *c)
{
	for (size_t i = 0; i < c->n; i++)
		tlabels_free(&c->a[i].labels);
	free(c->a);
	c->a = NULL;
	c->n = 0;
}

static int
same(const struct tlabels *a, const struct reeve_label *b, size_t nb)
{
	if (a->n != nb)
		return 0;
	for (size_t i = 0; i < nb; i++)
		if (strcmp(a->l[i].name, b[i].name) != 0 || strcmp(a->l[i].value, b[i].value) != 0)
			return 0;
	return 1;
}

static void
put_labels(struct buf *b, const struct reeve_label *l, size_t n)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "%s%s=", i ? ", " : "", l[i].name);
		buf_json_string(b, l[i].value);
	}
	buf_putc(b, '}');
}

static void
put_found(struct buf *b, const struct insts *c)
{
	if (c->n == 0) {
		buf_puts(b, "no active instance");
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_printf(b, "%s ", rule_state_name((enum rule_state)c->a[i].state));
		put_labels(b, c->a[i].labels.l, c->a[i].labels.n);
	}
}

static int
same_value(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	if (a == b)
		return 1;
	return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

/* Check the alert expectations at time when, the lines of each rule at that time as a group. */
static void
check_alerts(struct rulestest *t, const struct cfg *cfg, struct rule_set *rs, double when,
    FILE *out, unsigned *passed, unsigned *failed)
{
	for (size_t k = 0; k < t->nalerts; k++) {
		struct talert *a = &t->alerts[k];
		struct insts c = { 0 };
		long ri;
		int first = 1;

		if (a->t != when)
			continue;
		/* the first line of this rule at this time checks the whole group */
		for (size_t j = 0; j < k; j++)
			if (t->alerts[j].t == when && strcmp(t->alerts[j].rule, a->rule) == 0)
				first = 0;
		if (!first)
			continue;
		ri = rule_find(rs, a->rule);
		rule_foreach(rs, ri, collect, &c);
		for (size_t j = k; j < t->nalerts; j++) {
			struct talert *x = &t->alerts[j];
			struct buf why = { 0 };
			int ok = 0;

			if (x->t != when || strcmp(x->rule, a->rule) != 0)
				continue;
			if (x->state == -1) {
				ok = c.n == 0;
				if (!ok) {
					buf_puts(&why, "expected none, found ");
					put_found(&why, &c);
				}
			} else {
				struct inst *m = NULL;

				for (size_t q = 0; q < c.n && m == NULL; q++)
					if (same(&x->labels, c.a[q].labels.l, c.a[q].labels.n))
						m = &c.a[q];
				if (m != NULL)
					m->matched = 1;
				ok = m != NULL && m->state == x->state;
				if (!ok) {
					buf_printf(&why, "expected %s ",
					    rule_state_name((enum rule_state)x->state));
					put_labels(&why, x->labels.l, x->labels.n);
					buf_puts(&why, ", found ");
					put_found(&why, &c);
				}
				for (size_t q = 0; ok && q < x->ann.n; q++) {
					const struct cfg_alert *ca = &cfg->alerts[ri];
					const char *text = NULL;
					struct template_data d = { ca->name, ca->severity, m->labels.l,
					    m->labels.n, m->value };
					char *r;

					for (size_t z = 0; z < ca->nannotations; z++)
						if (strcmp(ca->annotations[z].key, x->ann.l[q].name) == 0)
							text = ca->annotations[z].value;
					r = text ? template_render(text, &d) : NULL;
					if (r == NULL || strcmp(r, x->ann.l[q].value) != 0) {
						ok = 0;
						buf_printf(&why, "expected annotation %s=", x->ann.l[q].name);
						buf_json_string(&why, x->ann.l[q].value);
						buf_puts(&why, " on ");
						put_labels(&why, m->labels.l, m->labels.n);
						buf_puts(&why, ", found ");
						if (r == NULL)
							buf_puts(&why, "no such annotation");
						else
							buf_json_string(&why, r);
					}
					free(r);
				}
			}
			if (!ok) {
				fprintf(out, "%s:%d: at %s, alert %s: %s\n", t->file, x->line, x->when,
				    x->rule, why.data);
				x->failed = 1;
			}
			buf_free(&why);
		}
		/* instances no line expects fail the group's first line */
		for (size_t q = 0; q < c.n; q++) {
			if (c.a[q].matched || c.n == 0 || a->state == -1)
				continue;
			{
				struct buf why = { 0 };

				buf_printf(&why, "%s ", rule_state_name((enum rule_state)c.a[q].state));
				put_labels(&why, c.a[q].labels.l, c.a[q].labels.n);
				fprintf(out, "%s:%d: at %s, alert %s: found %s, which no line expects\n",
				    t->file, a->line, a->when, a->rule, why.data);
				buf_free(&why);
				a->failed = 1;
			}
		}
		for (size_t j = k; j < t->nalerts; j++) {
			struct talert *x = &t->alerts[j];

			if (x->t == when && strcmp(x->rule, a->rule) == 0) {
				if (x->failed)
					(*failed)++;
				else
					(*passed)++;
			}
		}
		insts_free(&c);
	}
}

static void
put_sample(struct buf *b, const char *name, const struct reeve_label *l, size_t n, double v)
{
	char num[64];

	if (name)
		buf_puts(b, name);
	put_labels(b, l, n);
	buf_printf(b, " %s", util_fmt_double(num, sizeof(num), v));
}

static void
check_exprs(struct rulestest *t, const struct expr_source *src, double when, FILE *out,
    unsigned *passed, unsigned *failed)
{
	for (size_t k = 0; k < t->nexprs; k++) {
		struct texpr *x = &t->exprs[k];
		struct expr_value v = { 0 };
		struct expr *e;
		char err[512];
		int ok = 1;

		if (x->t != when)
			continue;
		e = expr_parse(x->text, err, sizeof(err));
		if (e == NULL || expr_eval(e, src, when, &v, err, sizeof(err)) == -1) {
			fprintf(out, "%s:%d: at %s, expr %s: %s\n", t->file, x->line, x->when, x->text,
			    err);
			(*failed)++;
			expr_free(e);
			continue;
		}
		if (v.type == EXPR_SCALAR) {
			ok = x->nres == 1 && x->res[0].name == NULL && x->res[0].labels.n == 0 &&
			    same_value(x->res[0].v, v.scalar);
		} else if (v.type == EXPR_VECTOR) {
			int *used = xcalloc(v.nsamples + 1, sizeof(int));

			ok = x->nres == v.nsamples;
			for (size_t i = 0; ok && i < x->nres; i++) {
				const struct tsample *s = &x->res[i];
				int found = 0;

				for (size_t j = 0; j < v.nsamples && !found; j++) {
					const struct expr_sample *g = &v.samples[j];

					if (used[j] || !same(&s->labels, g->labels, g->nlabels) ||
					    (s->name == NULL) != (g->name == NULL) ||
					    (s->name && strcmp(s->name, g->name) != 0) ||
					    !same_value(s->v, g->v))
						continue;
					used[j] = found = 1;
				}
				ok = found;
			}
			free(used);
		} else {
			ok = 0;
		}
		if (ok) {
			(*passed)++;
		} else {
			struct buf why = { 0 };

			buf_puts(&why, "expected ");
			if (x->nres == 0)
				buf_puts(&why, "none");
			for (size_t i = 0; i < x->nres; i++) {
				if (i)
					buf_puts(&why, ", ");
				put_sample(&why, x->res[i].name, x->res[i].labels.l, x->res[i].labels.n,
				    x->res[i].v);
			}
			buf_puts(&why, "; found ");
			if (v.type == EXPR_SCALAR)
				put_sample(&why, NULL, NULL, 0, v.scalar);
			else if (v.type == EXPR_MATRIX)
				buf_puts(&why, "a range vector");
			else if (v.nsamples == 0)
				buf_puts(&why, "none");
			for (size_t j = 0; v.type == EXPR_VECTOR && j < v.nsamples; j++) {
				if (j)
					buf_puts(&why, ", ");
				put_sample(&why, v.samples[j].name, v.samples[j].labels,
				    v.samples[j].nlabels, v.samples[j].v);
			}
			fprintf(out, "%s:%d: at %s, expr %s: %s\n", t->file, x->line, x->when, x->text,
			    why.data);
			buf_free(&why);
			(*failed)++;
		}
		expr_value_free(&v);
		expr_free(e);
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Add the results of [record] rule i at t to ms, with the rule's labels.* over the sample's. */
static void
record(struct memsource *ms, const struct cfg_record *c, const struct expr_value *v, double t)
{
	for (size_t k = 0; k < v->nsamples; k++) {
		const struct expr_sample *s = &v->samples[k];
		struct reeve_label *l = xcalloc(s->nlabels + c->nlabels + 1, sizeof(*l));
		size_t n = 0;

		for (size_t j = 0; j < s->nlabels; j++) {
			int set = 0;

			for (size_t q = 0; q < c->nlabels; q++)
				set |= strcmp(c->labels[q].key, s->labels[j].name) == 0;
			if (!set)
				l[n++] = s->labels[j];
		}
		for (size_t q = 0; q < c->nlabels; q++) {
			l[n].name = c->labels[q].key;
			l[n++].value = c->labels[q].value;
		}
		memsource_add(ms, c->name, l, n, t, s->v, 0);
		free(l);
	}
}

int
rulestest_run(struct rulestest *t, FILE *out, unsigned *passed, unsigned *failed,
    struct cfg_errors *errs)
{
	struct cfg *cfg;
	struct memsource *ms = NULL;
	struct expr_source src;
	struct rule_set *rs = NULL;
	struct expr **ex = NULL, **rec = NULL, **recs = NULL;
	double *times = NULL, last = 0;
	size_t ntimes = 0, nerr = errs->n;
	unsigned p = 0, f = 0;
	int rc = -1;

	if ((cfg = cfg_load(t->rules, errs)) == NULL)
		return -1;
	if (cfg_check_exprs(cfg, ruler_check_expr, NULL, errs) == -1)
		goto out;
	for (size_t k = 0; k < t->nalerts; k++) {
		int known = 0;

		for (size_t i = 0; i < cfg->nalerts; i++)
			known |= strcmp(cfg->alerts[i].name, t->alerts[k].rule) == 0;
		if (!known)
			cfg_error_add(errs, t->file, t->alerts[k].line, "%s has no [alert %s]",
			    t->rules, t->alerts[k].rule);
	}
	for (size_t k = 0; k < t->nalerts; k++)
		last = fmax(last, t->alerts[k].t);
	for (size_t k = 0; k < t->nexprs; k++)
		last = fmax(last, t->exprs[k].t);
	if (last / t->interval > RULESTEST_MAX_STEPS)
		cfg_error_add(errs, t->file, 0, "more than %d evaluation steps to the last [eval]",
		    RULESTEST_MAX_STEPS);
	if (errs->n != nerr)
		goto out;

	ms = memsource_new();
	memsource_source(ms, &src);
	for (size_t k = 0; k < t->nseries; k++) {
		const struct tseries *s = &t->series[k];

		for (size_t i = 0; i < s->n; i++)
			if (s->p[i].kind != RULESTEST_MISSING)
				memsource_add(ms, s->name, s->labels.l, s->labels.n,
				    (double)i * t->interval, s->p[i].v, s->p[i].kind == RULESTEST_STALE);
	}
	rs = rule_set_new(cfg);
	ex = xcalloc(cfg->nalerts + 1, sizeof(*ex));
	rec = xcalloc(cfg->nalerts + 1, sizeof(*rec));
	recs = xcalloc(cfg->nrecords + 1, sizeof(*recs));
	for (size_t i = 0; i < cfg->nalerts; i++) {
		char err[512];

		ex[i] = expr_parse(cfg->alerts[i].expr.text, err, sizeof(err));
		if (cfg->alerts[i].recover.text)
			rec[i] = expr_parse(cfg->alerts[i].recover.text, err, sizeof(err));
	}
	for (size_t i = 0; i < cfg->nrecords; i++) {
		char err[512];

		recs[i] = expr_parse(cfg->records[i].expr.text, err, sizeof(err));
	}

	/* every step of the grid up to the last expectation, and each expectation time */
	times = xcalloc((size_t)(last / t->interval) + 2 + t->nalerts + t->nexprs, sizeof(double));
	for (size_t k = 0; (double)k * t->interval <= last; k++)
		times[ntimes++] = (double)k * t->interval;
	for (size_t k = 0; k < t->nalerts; k++)
		times[ntimes++] = t->alerts[k].t;
	for (size_t k = 0; k < t->nexprs; k++)
		times[ntimes++] = t->exprs[k].t;
	qsort(times, ntimes, sizeof(double), cmp_double);
	for (size_t k = 0; k < ntimes; k++) {
		double when = times[k];
		char err[512];

		if (k > 0 && times[k - 1] == when)
			continue;
		for (size_t i = 0; i < cfg->nrecords; i++) {
			struct expr_value v = { 0 };

			if (expr_eval(recs[i], &src, when, &v, err, sizeof(err)) == 0)
				record(ms, &cfg->records[i], &v, when);
			else
				fprintf(out, "%s: at %gs, [record %s]: %s\n", t->file, when,
				    cfg->records[i].name, err);
			expr_value_free(&v);
		}
		for (size_t i = 0; i < cfg->nalerts; i++)
			if (ruler_eval_alert(rs, i, ex[i], rec[i], &src, when, err, sizeof(err)) == -1)
				fprintf(out, "%s: at %gs, [alert %s]: %s\n", t->file, when,
				    cfg->alerts[i].name, err);
		check_alerts(t, cfg, rs, when, out, &p, &f);
		check_exprs(t, &src, when, out, &p, &f);
	}
	*passed += p;
	*failed += f;
	rc = 0;
out:
	for (size_t i = 0; ex && i < cfg->nalerts; i++) {
		expr_free(ex[i]);
		expr_free(rec[i]);
	}
	for (size_t i = 0; recs && i < cfg->nrecords; i++)
		expr_free(recs[i]);
	free(ex);
	free(rec);
	free(recs);
	free(times);
	rule_set_free(rs);
	memsource_free(ms);
	cfg_free(cfg);
	return rc;
}
