/* template.c: alert annotation templates, checked at config load and rendered per event. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"
#include "util.h"

/*
 * An action is what stands between {{ and }}: a term (value, $value, name, severity,
 * labels.NAME, $labels.NAME), a helper applied to a term (humanize value), or the
 * Prometheus pipe form (value | humanize). Nothing else: no variables, no control flow.
 */
enum func { FN_NONE, FN_HUMANIZE, FN_HUMANIZE1024, FN_DURATION, FN_PERCENT };
enum term { TM_VALUE, TM_NAME, TM_SEVERITY, TM_LABEL };

static const struct { const char *name; enum func f; } funcs[] = {
	{ "humanize", FN_HUMANIZE },
	{ "humanize1024", FN_HUMANIZE1024 },
	{ "humanizeDuration", FN_DURATION },
	{ "humanizePercentage", FN_PERCENT },
};
#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

struct action {
	enum func func;
	enum term term;
	const char *label; /* TM_LABEL: the name, inside the template text */
	size_t labellen;
};

struct tok {
	const char *p;
	size_t n;
};

static int
tok_is(const struct tok *t, const char *s)
{
	return strlen(s) == t->n && memcmp(t->p, s, t->n) == 0;
}

static enum func
find_func(const struct tok *t)
{
	size_t i;

	for (i = 0; i < NFUNCS; i++)
		if (tok_is(t, funcs[i].name))
			return funcs[i].f;
	return FN_NONE;
}

/* A term; on error *errat is where it starts and err says why. */
static int
parse_term(const struct tok *t, struct action *a, const char **errat, char *err, size_t errlen)
{
	const char *p = t->p;
	size_t n = t->n;

	if (tok_is(t, "value") || tok_is(t, "$value")) {
		a->term = TM_VALUE;
		return 0;
	}
	if (tok_is(t, "name")) {
		a->term = TM_NAME;
		return 0;
	}
	if (tok_is(t, "severity")) {
		a->term = TM_SEVERITY;
		return 0;
	}
	if (n > 0 && *p == '$') {
		p++;
		n--;
	}
	if (n >= 7 && memcmp(p, "labels.", 7) == 0) {
		size_t i;

		p += 7;
		n -= 7;
		for (i = 0; i < n; i++)
			if (!(isalpha((unsigned char)p[i]) || p[i] == '_' ||
			    (i > 0 && isdigit((unsigned char)p[i]))))
				break;
		if (n == 0 || i < n) {
			*errat = t->p;
			snprintf(err, errlen, "\"%.*s\" is not a label name", (int)n, p);
			return -1;
		}
		a->term = TM_LABEL;
		a->label = p;
		a->labellen = n;
		return 0;
	}
	*errat = t->p;
	if (find_func(t) != FN_NONE)
		snprintf(err, errlen, "%.*s needs an argument, e.g. {{ %.*s value }}", (int)t->n,
		    t->p, (int)t->n, t->p);
	else
		snprintf(err, errlen, "unknown field \"%.*s\" (expected value, name, severity, "
		    "labels.NAME or a helper: humanize, humanize1024, humanizeDuration, "
		    "humanizePercentage)", (int)t->n, t->p);
	return -1;
}

static int
parse_func(const struct tok *t, struct action *a, const char **errat, char *err, size_t errlen)
{
	if ((a->func = find_func(t)) != FN_NONE)
		return 0;
	*errat = t->p;
	snprintf(err, errlen, "unknown helper \"%.*s\" (expected humanize, humanize1024, "
	    "humanizeDuration or humanizePercentage)", (int)t->n, t->p);
	return -1;
}

/* Parse the action in [s, e) (between the braces); open is where its {{ stands. */
static int
parse_action(const char *open, const char *s, const char *e, struct action *a,
    const char **errat, char *err, size_t errlen)
{
	struct tok t[4];
	size_t nt = 0;

	memset(a, 0, sizeof(*a));
	while (s < e) {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (nt == 3) {
			const char *te = e;

			while (te > s && isspace((unsigned char)te[-1]))
				te--;
			*errat = s;
			snprintf(err, errlen, "unexpected \"%.*s\" (an action is a field, a helper and "
			    "a field, or a field | a helper)", (int)(te - s), s);
			return -1;
		}
		t[nt].p = s;
		if (*s == '|') {
			s++;
		} else {
			while (s < e && !isspace((unsigned char)*s) && *s != '|')
				s++;
		}
		t[nt].n = (size_t)(s - t[nt].p);
		nt++;
	}
	switch (nt) {
	case 0:
		*errat = open;
		snprintf(err, errlen, "empty action {{ }}");
		return -1;
	case 1:
		if (tok_is(&t[0], "|"))
			break;
		return parse_term(&t[0], a, errat, err, errlen);
	case 2:
		if (tok_is(&t[0], "|") || tok_is(&t[1], "|"))
			break;
		if (parse_func(&t[0], a, errat, err, errlen) == -1)
			return -1;
		return parse_term(&t[1], a, errat, err, errlen);
	case 3:
		if (!tok_is(&t[0], "|") && !tok_is(&t[1], "|") && !tok_is(&t[2], "|")) {
			*errat = t[2].p;
			snprintf(err, errlen, "unexpected \"%.*s\" (an action is a field, a helper and "
			    "a field, or a field | a helper)", (int)t[2].n, t[2].p);
			return -1;
		}
		if (!tok_is(&t[1], "|") || tok_is(&t[0], "|") || tok_is(&t[2], "|"))
			break;
		if (parse_term(&t[0], a, errat, err, errlen) == -1)
			return -1;
		return parse_func(&t[2], a, errat, err, errlen);
	}
	*errat = open;
	snprintf(err, errlen, "a pipe needs a field before and a helper after it: "
	    "{{ value | humanize }}");
	return -1;
}

/*
 * Walk text: literal runs go to out (when not NULL), each action is parsed and, when d is
 * not NULL, rendered. Returns 0, or -1 with *errat and err set.
 */
static int walk(const char *text, const struct template_data *d, struct buf *out,
    const char **errat, char *err, size_t errlen);

int
template_check(const char *text, size_t *col, char *err, size_t errlen)
{
	const char *errat = text;

	if (walk(text, NULL, NULL, &errat, err, errlen) == -1) {
		*col = (size_t)(errat - text) + 1;
		return -1;
	}
	return 0;
}

char *
template_render(const char *text, const struct template_data *d)
{
	struct buf b = { 0 };
	const char *errat;
	char err[256];

	buf_puts(&b, "");
	if (walk(text, d, &b, &errat, err, sizeof(err)) == -1) {
		buf_reset(&b);
		buf_puts(&b, text);
	}
	return buf_steal(&b);
}

/* A label's value, NULL when the instance has no such label. */
static const char *
label_value(const struct template_data *d, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < d->nlabels; i++)
		if (strlen(d->labels[i].name) == n && memcmp(d->labels[i].name, name, n) == 0)
			return d->labels[i].value;
	return NULL;
}

static void
render_action(const struct action *a, const struct template_data *d, struct buf *out)
{
	char num[64];
	const char *s = NULL;
	double v = d->value;
	int isnum = 1;

	switch (a->term) {
	case TM_VALUE:
		break;
	case TM_NAME:
		s = d->name;
		isnum = 0;
		break;
	case TM_SEVERITY:
		s = d->severity;
		isnum = 0;
		break;
	case TM_LABEL:
		s = label_value(d, a->label, a->labellen);
		isnum = 0;
		if (s != NULL && a->func != FN_NONE && *s != '\0') {
			char *end;

			v = strtod(s, &end);
			isnum = *end == '\0';
		}
		break;
	}
	if (!isnum || (a->func == FN_NONE && a->term != TM_VALUE)) {
		buf_puts(out, s ? s : "");
		return;
	}
	switch (a->func) {
	case FN_NONE:
		buf_puts(out, util_fmt_double(num, sizeof(num), v));
		break;
	case FN_HUMANIZE:
		buf_puts(out, template_humanize(num, sizeof(num), v));
		break;
	case FN_HUMANIZE1024:
		buf_puts(out, template_humanize1024(num, sizeof(num), v));
		break;
	case FN_DURATION:
		buf_puts(out, template_humanize_duration(num, sizeof(num), v));
		break;
	case FN_PERCENT:
		buf_puts(out, template_humanize_percentage(num, sizeof(num), v));
		break;
	}
}

static int
walk(const char *text, const struct template_data *d, struct buf *out, const char **errat,
    char *err, size_t errlen)
{
	const char *p = text, *open, *close;
	struct action a;

	while ((open = strstr(p, "{{")) != NULL) {
		if (out != NULL)
			buf_append(out, p, (size_t)(open - p));
		if ((close = strstr(open + 2, "}}")) == NULL) {
			*errat = open;
			snprintf(err, errlen, "unterminated {{ (close it with }})");
			return -1;
		}
		if (parse_action(open, open + 2, close, &a, errat, err, errlen) == -1)
			return -1;
		if (d != NULL && out != NULL)
			render_action(&a, d, out);
		p = close + 2;
	}
	if (out != NULL)
		buf_puts(out, p);
	return 0;
}

/* ---- the helpers, as Prometheus defines them (with binary prefixes spelled Ki, Mi) ------- */

static int
not_finite(char *buf, size_t size, double v)
{
	if (isfinite(v))
		return 0;
	util_fmt_double(buf, size, v);
	return 1;
}

char *
template_humanize(char *buf, size_t size, double v)
{
	static const char *const big[] = { "k", "M", "G", "T", "P", "E", "Z", "Y" };
	static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
	const char *prefix = "";
	size_t i;

	if (not_finite(buf, size, v))
		return buf;
	if (v == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	if (fabs(v) >= 1) {
		for (i = 0; i < 8 && fabs(v) >= 1000; i++) {
			prefix = big[i];
			v /= 1000;
		}
	} else {
		for (i = 0; i < 8 && fabs(v) < 1; i++) {
			prefix = small[i];
			v *= 1000;
		}
	}
	snprintf(buf, size, "%.4g%s", v, prefix);
	return buf;
}

char *
template_humanize1024(char *buf, size_t size, double v)
{
	static const char *const big[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi" };
	const char *prefix = "";
	size_t i;

	if (not_finite(buf, size, v))
		return buf;
	for (i = 0; i < 8 && fabs(v) >= 1024; i++) {
		prefix = big[i];
		v /= 1024;
	}
	snprintf(buf, size, "%.4g%s", v, prefix);
	return buf;
}

char *
template_humanize_duration(char *buf, size_t size, double v)
{
	static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
	const char *sign = "", *prefix = "";
	long long d, days, hours, minutes, seconds;
	size_t i;

	if (not_finite(buf, size, v))
		return buf;
	if (v == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	if (fabs(v) < 1) {
		for (i = 0; i < 8 && fabs(v) < 1; i++) {
			prefix = small[i];
			v *= 1000;
		}
		snprintf(buf, size, "%.4g%ss", v, prefix);
		return buf;
	}
	if (v < 0) {
		sign = "-";
		v = -v;
	}
	if (v >= 1e15) { /* past what a whole number of seconds holds exactly */
		snprintf(buf, size, "%s%.4gs", sign, v);
		return buf;
	}
	d = (long long)round(v);
	seconds = d % 60;
	minutes = d / 60 % 60;
	hours = d / 3600 % 24;
	days = d / 86400;
	if (days != 0)
		snprintf(buf, size, "%s%lldd %lldh %lldm %llds", sign, days, hours, minutes, seconds);
	else if (hours != 0)
		snprintf(buf, size, "%s%lldh %lldm %llds", sign, hours, minutes, seconds);
	else if (minutes != 0)
		snprintf(buf, size, "%s%lldm %llds", sign, minutes, seconds);
	else
		snprintf(buf, size, "%s%.4gs", sign, v);
	return buf;
}

char *
template_humanize_percentage(char *buf, size_t size, double v)
{
	if (not_finite(buf, size, v))
		return buf;
	snprintf(buf, size, "%.4g%%", v * 100);
	return buf;
}
