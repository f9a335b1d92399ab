/* expo.c: the Prometheus text exposition format 0.0.4: rendering and a strict parser. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "registry.h"

void
expo_escape_label(struct buf *b, const char *v)
{
	const char *p = v, *run = v;

	for (; *p; p++) {
		const char *esc = NULL;

		if (*p == '\\')
			esc = "\\\\";
		else if (*p == '"')
			esc = "\\\"";
		else if (*p == '\n')
			esc = "\\n";
		if (esc) {
			buf_append(b, run, (size_t)(p - run));
			buf_append(b, esc, 2);
			run = p + 1;
		}
	}
	buf_append(b, run, (size_t)(p - run));
}

void
expo_escape_help(struct buf *b, const char *v)
{
	const char *p = v, *run = v;

	for (; *p; p++) {
		if (*p == '\\' || *p == '\n') {
			buf_append(b, run, (size_t)(p - run));
			buf_append(b, *p == '\\' ? "\\\\" : "\\n", 2);
			run = p + 1;
		}
	}
	buf_append(b, run, (size_t)(p - run));
}

void
expo_render(struct registry *r, struct buf *out)
{
	struct reg_family **fams;
	size_t nfam;
	char num[40];

	reg_rdlock(r);
	fams = reg_families(r, &nfam);
	for (size_t i = 0; i < nfam; i++) {
		struct reg_family *f = fams[i];
		size_t live = 0;

		for (size_t j = 0; j < f->nseries; j++)
			live += !f->series[j]->stale;
		if (live == 0)
			continue;
		buf_printf(out, "# HELP %s ", f->name);
		expo_escape_help(out, f->help);
		buf_printf(out, "\n# TYPE %s %s\n", f->name,
		    f->type == REEVE_COUNTER ? "counter" : "gauge");
		for (size_t j = 0; j < f->nseries; j++) {
			struct reg_series *s = f->series[j];

			if (s->stale)
				continue;
			buf_puts(out, s->key);
			buf_putc(out, ' ');
			buf_puts(out, util_fmt_double(num, sizeof(num), s->value));
			buf_putc(out, '\n');
		}
	}
	reg_unlock(r);
}

/* ---- parsing --------------------------------------------------------------------------- */

/* A family declared by # TYPE or # HELP: the type applies to its samples and suffixes. */
enum ftype { FT_UNTYPED, FT_COUNTER, FT_GAUGE, FT_HISTOGRAM, FT_SUMMARY };

struct pfamily {
	char *name;
	char *help;
	enum ftype type;
	int typed, helped, sampled;
};

struct parser {
	const char *p, *end;        /* the rest of the current line */
	size_t line;
	struct expo_limits lim;
	char *err;
	size_t errlen;
	struct pfamily *fams;
	size_t nfams, famcap;
	struct buf name, help, vals; /* scratch: the current name, help text, label values */
	size_t *voff;               /* label value offsets into vals */
	char (*lnames)[256];        /* label names of the current sample */
	struct reeve_label *labels;
};

static int
perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ps->err, ps->errlen, "line %zu: ", ps->line);
	if (n >= 0 && (size_t)n < ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Printable excerpt of an offending token for an error message. */
static const char *
excerpt(char *out, size_t size, const char *s, const char *end)
{
	size_t i = 0;

	for (; s < end && *s != '\n' && i + 4 < size; s++)
		out[i++] = (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?';
	if (s < end && *s != '\n' && i + 4 >= size) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static int
name_start(int c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static int
name_char(int c, int colon)
{
	return name_start(c, colon) || (c >= '0' && c <= '9');
}

static void
skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* A metric (colon) or label name into out; what says which, for errors. */
static int
read_name(struct parser *ps, struct buf *out, int colon, const char *what)
{
	const char *s = ps->p;
	char ex[40];

	if (ps->p == ps->end || !name_start((unsigned char)*ps->p, colon))
		return perr(ps, "expected a %s, found \"%s\"", what,
		    excerpt(ex, sizeof(ex), ps->p, ps->end));
	while (ps->p < ps->end && name_char((unsigned char)*ps->p, colon))
		ps->p++;
	if ((size_t)(ps->p - s) > ps->lim.max_name)
		return perr(ps, "%s longer than %zu bytes", what, ps->lim.max_name);
	buf_reset(out);
	buf_append(out, s, (size_t)(ps->p - s));
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * Text up to the end of the line (HELP, quote == 0) or a closing quote (label value,
 * quote == '"'), unescaped and appended to out (which may hold the line's earlier values),
 * then NUL-terminated. Escapes: \\ \n, and \" in values. The length limit is this text's.
 */
static int
read_text(struct parser *ps, struct buf *out, int quote, const char *what)
{
	size_t n, start = out->len;

	while (ps->p < ps->end && *ps->p != quote) {
		unsigned char c = (unsigned char)*ps->p;

		if (c == '\\') {
			if (++ps->p == ps->end)
				return perr(ps, "%s ends in a backslash", what);
			if (*ps->p == '\\' || *ps->p == 'n' || (quote && *ps->p == '"'))
				buf_putc(out, *ps->p == 'n' ? '\n' : *ps->p);
			else
				return perr(ps, "invalid escape \"\\%c\" in %s (only \\\\, \\n%s)",
				    (unsigned char)*ps->p >= 0x20 && (unsigned char)*ps->p < 0x7f ?
				    *ps->p : '?', what, quote ? " and \\\"" : "");
			ps->p++;
		} else if ((n = utf8_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p))) == 0) {
			return perr(ps, "%s is not valid UTF-8", what);
		} else {
			buf_append(out, ps->p, n);
			ps->p += n;
		}
		if (out->len - start > ps->lim.max_value)
			return perr(ps, "%s longer than %zu bytes", what, ps->lim.max_value);
	}
	if (quote && ps->p == ps->end)
		return perr(ps, "%s has no closing quote", what);
	buf_putc(out, '\0');
	out->len--;
	return 0;
}

static struct pfamily *
family_find(struct parser *ps, const char *name)
{
	for (size_t i = ps->nfams; i-- > 0;)
		if (strcmp(ps->fams[i].name, name) == 0)
			return &ps->fams[i];
	return NULL;
}

static struct pfamily *
family_add(struct parser *ps, const char *name)
{
	struct pfamily *f = family_find(ps, name);

	if (f)
		return f;
	if (ps->nfams == ps->famcap) {
		ps->famcap = ps->famcap ? ps->famcap * 2 : 16;
		ps->fams = xreallocarray(ps->fams, ps->famcap, sizeof(*ps->fams));
	}
	f = &ps->fams[ps->nfams++];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	return f;
}

/* "# HELP name text", "# TYPE name type" or any other comment. */
static int
parse_comment(struct parser *ps)
{
	static const char *const types[] = { "untyped", "counter", "gauge", "histogram", "summary" };
	struct pfamily *f;
	int help;
	char ex[40];

	ps->p++; /* '#' */
	skip_blanks(ps);
	if ((size_t)(ps->end - ps->p) >= 4 && memcmp(ps->p, "HELP", 4) == 0)
		help = 1;
	else if ((size_t)(ps->end - ps->p) >= 4 && memcmp(ps->p, "TYPE", 4) == 0)
		help = 0;
	else
		return 0; /* a plain comment */
	ps->p += 4;
	if (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\t')
		return 0; /* "# HELPFUL": a plain comment */
	skip_blanks(ps);
	if (read_name(ps, &ps->name, 1, help ? "metric name after # HELP" : "metric name after # TYPE") == -1)
		return -1;
	f = family_add(ps, ps->name.data);
	if (help) {
		if (f->helped)
			return perr(ps, "second # HELP for %s", f->name);
		if (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\t')
			return perr(ps, "invalid character in metric name after # HELP");
		/* one blank separates the name from the text; the rest belongs to the text */
		if (ps->p < ps->end)
			ps->p++;
		buf_reset(&ps->help);
		if (read_text(ps, &ps->help, 0, "HELP text") == -1)
			return -1;
		f->help = xstrdup(ps->help.data ? ps->help.data : "");
		f->helped = 1;
		return 0;
	}
	if (f->typed)
		return perr(ps, "second # TYPE for %s", f->name);
	if (f->sampled)
		return perr(ps, "# TYPE for %s after its samples", f->name);
	skip_blanks(ps);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i]);

		if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, types[i], n) == 0) {
			const char *q = ps->p + n;

			while (q < ps->end && (*q == ' ' || *q == '\t'))
				q++;
			if (q == ps->end) {
				f->type = (enum ftype)i;
				f->typed = 1;
				return 0;
			}
		}
	}
	return perr(ps, "unknown type \"%s\" for %s (counter, gauge, histogram, summary or untyped)",
	    excerpt(ex, sizeof(ex), ps->p, ps->end), f->name);
}

/* A Go-style float: decimal, hexadecimal, NaN, Inf with optional sign. */
static int
parse_float(const char *s, size_t n, double *out)
{
	char tmp[64], *end;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strchr(tmp, '(') != NULL) /* strtod's "nan(...)" is not Go */
		return -1;
	errno = 0;
	*out = strtod(tmp, &end);
	if (*end != '\0')
		return -1;
	/* overflow to +-Inf and underflow are what Go's parser does too */
	return 0;
}

static int
parse_int64(const char *s, size_t n, long long *out)
{
	char tmp[32], *end;

	if (n == 0 || n >= sizeof(tmp) || !(s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9')))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return *end != '\0' || errno == ERANGE ? -1 : 0;
}

/* The family a sample name belongs to, and the sample's type; -1 for a misfit. */
static int
sample_type(struct parser *ps, const char *name, int *type, struct pfamily **fam)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	size_t n = strlen(name);
	struct pfamily *f = family_find(ps, name);

	if (f && f->typed) {
		if (f->type == FT_HISTOGRAM)
			return perr(ps, "histogram %s has a sample without _bucket, _sum or _count", name);
		*type = f->type == FT_COUNTER ? REEVE_COUNTER : REEVE_GAUGE;
		*fam = f;
		return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		size_t k = strlen(sfx[i]);
		struct pfamily *base;

		if (n <= k || strcmp(name + n - k, sfx[i]) != 0)
			continue;
		buf_reset(&ps->help);
		buf_append(&ps->help, name, n - k);
		base = family_find(ps, ps->help.data);
		if (base == NULL || !base->typed)
			continue;
		if (base->type == FT_HISTOGRAM || (base->type == FT_SUMMARY && i > 0)) {
			*type = REEVE_COUNTER;
			*fam = base;
			return 0;
		}
	}
	*type = REEVE_GAUGE; /* untyped */
	*fam = f ? f : family_add(ps, name);
	return 0;
}

static int
parse_sample(struct parser *ps, struct expo_sample *s)
{
	size_t nl = 0;
	const char *v;
	struct pfamily *f = NULL;
	char ex[40];

	if (read_name(ps, &ps->name, 1, "metric name") == -1)
		return -1;
	buf_reset(&ps->vals);
	if (ps->p < ps->end && *ps->p == '{') {
		ps->p++;
		for (;;) {
			skip_blanks(ps);
			if (ps->p < ps->end && *ps->p == '}') {
				ps->p++;
				break;
			}
			if (nl == ps->lim.max_labels)
				return perr(ps, "more than %zu labels on %s", ps->lim.max_labels, ps->name.data);
			if (read_name(ps, &ps->help, 0, "label name") == -1)
				return -1;
			if (strncmp(ps->help.data, "__", 2) == 0)
				return perr(ps, "label name %s is reserved (starts with __)", ps->help.data);
			if (ps->help.len >= sizeof(ps->lnames[0]))
				return perr(ps, "label name longer than %zu bytes", sizeof(ps->lnames[0]) - 1);
			for (size_t i = 0; i < nl; i++)
				if (strcmp(ps->lnames[i], ps->help.data) == 0)
					return perr(ps, "label %s twice on %s", ps->help.data, ps->name.data);
			memcpy(ps->lnames[nl], ps->help.data, ps->help.len + 1);
			skip_blanks(ps);
			if (ps->p == ps->end || *ps->p != '=')
				return perr(ps, "expected '=' after label name %s", ps->lnames[nl]);
			ps->p++;
			skip_blanks(ps);
			if (ps->p == ps->end || *ps->p != '"')
				return perr(ps, "expected '\"' to start the value of label %s", ps->lnames[nl]);
			ps->p++;
			ps->voff[nl] = ps->vals.len;
			if (read_text(ps, &ps->vals, '"', "label value") == -1)
				return -1;
			ps->vals.len++; /* keep the NUL between values */
			ps->p++;       /* closing quote */
			nl++;
			skip_blanks(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == '}') {
				ps->p++;
				break;
			}
			return perr(ps, "expected ',' or '}' after the value of label %s, found \"%s\"",
			    ps->lnames[nl - 1], excerpt(ex, sizeof(ex), ps->p, ps->end));
		}
	}
	if (ps->p == ps->end || (*ps->p != ' ' && *ps->p != '\t'))
		return perr(ps, ps->p == ps->end ? "%s has no value" :
		    "invalid character in metric name %s", ps->name.data);
	skip_blanks(ps);
	v = ps->p;
	while (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\t')
		ps->p++;
	if (parse_float(v, (size_t)(ps->p - v), &s->value) == -1)
		return perr(ps, "invalid value \"%s\" for %s", excerpt(ex, sizeof(ex), v, ps->p),
		    ps->name.data);
	skip_blanks(ps);
	s->has_ts = 0;
	if (ps->p < ps->end) {
		v = ps->p;
		while (ps->p < ps->end && *ps->p != ' ' && *ps->p != '\t')
			ps->p++;
		if (parse_int64(v, (size_t)(ps->p - v), &s->ts_ms) == -1)
			return perr(ps, "invalid timestamp \"%s\" for %s (milliseconds, an integer)",
			    excerpt(ex, sizeof(ex), v, ps->p), ps->name.data);
		s->has_ts = 1;
		skip_blanks(ps);
		if (ps->p < ps->end)
			return perr(ps, "unexpected \"%s\" after the timestamp of %s",
			    excerpt(ex, sizeof(ex), ps->p, ps->end), ps->name.data);
	}
	if (sample_type(ps, ps->name.data, &s->type, &f) == -1)
		return -1;
	f->sampled = 1;
	if (f->typed && f->type == FT_HISTOGRAM && s->type == REEVE_COUNTER) {
		size_t n = strlen(ps->name.data);
		int has_le = 0;

		for (size_t i = 0; i < nl; i++)
			has_le |= strcmp(ps->lnames[i], "le") == 0;
		if (n > 7 && strcmp(ps->name.data + n - 7, "_bucket") == 0 && !has_le)
			return perr(ps, "histogram bucket %s has no le label", ps->name.data);
	}
	if (f->typed && f->type == FT_SUMMARY && strcmp(f->name, ps->name.data) == 0) {
		int has_q = 0;

		for (size_t i = 0; i < nl; i++)
			has_q |= strcmp(ps->lnames[i], "quantile") == 0;
		if (!has_q)
			return perr(ps, "summary %s has a sample without a quantile label", ps->name.data);
	}
	for (size_t i = 0; i < nl; i++) {
		ps->labels[i].name = ps->lnames[i];
		ps->labels[i].value = ps->vals.data + ps->voff[i];
	}
	s->name = ps->name.data;
	s->help = f->help ? f->help : "";
	s->labels = ps->labels;
	s->nlabels = nl;
	s->line = ps->line;
	return 0;
}

int
expo_parse(const char *text, size_t len, const struct expo_limits *lim,
    int (*cb)(void *arg, const struct expo_sample *s), void *arg, char *err, size_t errlen)
{
	struct parser ps = { 0 };
	const char *p = text, *end = text + len;
	size_t nsamples = 0;
	int rc = 0;

	ps.lim.max_samples = lim && lim->max_samples ? lim->max_samples : EXPO_DEFAULT_MAX_SAMPLES;
	ps.lim.max_labels = lim && lim->max_labels ? lim->max_labels : EXPO_DEFAULT_MAX_LABELS;
	ps.lim.max_name = lim && lim->max_name ? lim->max_name : EXPO_DEFAULT_MAX_NAME;
	ps.lim.max_value = lim && lim->max_value ? lim->max_value : EXPO_DEFAULT_MAX_VALUE;
	ps.err = err;
	ps.errlen = errlen;
	ps.voff = xcalloc(ps.lim.max_labels, sizeof(*ps.voff));
	ps.lnames = xcalloc(ps.lim.max_labels, sizeof(*ps.lnames));
	ps.labels = xcalloc(ps.lim.max_labels, sizeof(*ps.labels));
	if (err && errlen)
		err[0] = '\0';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct expo_sample s;

		ps.line++;
		if (eol == NULL) {
			rc = perr(&ps, "the last line does not end with a newline");
			break;
		}
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL) {
			rc = perr(&ps, "NUL byte");
			break;
		}
		ps.p = p;
		ps.end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		p = eol + 1;
		skip_blanks(&ps);
		if (ps.p == ps.end)
			continue;
		if (*ps.p == '#') {
			if ((rc = parse_comment(&ps)) != 0)
				break;
			continue;
		}
		if (nsamples == ps.lim.max_samples) {
			rc = perr(&ps, "more than %zu samples", ps.lim.max_samples);
			break;
		}
		if ((rc = parse_sample(&ps, &s)) != 0)
			break;
		nsamples++;
		if ((rc = cb(arg, &s)) != 0)
			break;
	}
	for (size_t i = 0; i < ps.nfams; i++) {
		free(ps.fams[i].name);
		free(ps.fams[i].help);
	}
	free(ps.fams);
	buf_free(&ps.name);
	buf_free(&ps.help);
	buf_free(&ps.vals);
	free(ps.voff);
	free(ps.lnames);
	free(ps.labels);
	return rc;
}

struct batch_ctx {
	struct reg_batch *b;
	const struct expo_opts *o;
	struct buf name, lnames;
	struct reeve_label *labels;
	size_t *loff;
	long added;
};

/* The name chosen for parsed label i: its own, or a renamed one in c->lnames. */
static const char *
chosen_name(const struct batch_ctx *c, const struct expo_sample *s, size_t i)
{
	return c->loff[i] == (size_t)-1 ? s->labels[i].name : c->lnames.data + c->loff[i];
}

/*
 * Whether the name chosen for parsed label i is taken: by a configured label, or (once
 * renamed) by another parsed label or a name chosen before it.
 */
static int
label_taken(const struct batch_ctx *c, const struct expo_sample *s, size_t i)
{
	const char *name = chosen_name(c, s, i);

	for (size_t j = 0; j < c->o->nlabels; j++)
		if (strcmp(c->o->labels[j].name, name) == 0)
			return 1;
	if (c->loff[i] == (size_t)-1)
		return 0; /* its own name, which the parser made unique */
	for (size_t j = 0; j < s->nlabels; j++)
		if (j != i && strcmp(s->labels[j].name, name) == 0)
			return 1;
	for (size_t j = 0; j < i; j++)
		if (strcmp(chosen_name(c, s, j), name) == 0)
			return 1;
	return 0;
}

static int
batch_sample(void *arg, const struct expo_sample *s)
{
	struct batch_ctx *c = arg;
	const struct expo_opts *o = c->o;
	size_t n = 0;

	buf_reset(&c->name);
	buf_puts(&c->name, o->prefix ? o->prefix : "");
	buf_puts(&c->name, s->name);
	/*
	 * A parsed label that a configured one overrides is kept as exported_NAME, with more
	 * exported_ prefixes while that name is taken too (as Prometheus does).
	 */
	buf_reset(&c->lnames);
	for (size_t i = 0; i < s->nlabels; i++) {
		c->loff[i] = (size_t)-1;
		for (size_t depth = 1; label_taken(c, s, i); depth++) {
			c->loff[i] = c->lnames.len;
			for (size_t d = 0; d < depth; d++)
				buf_puts(&c->lnames, "exported_");
			buf_puts(&c->lnames, s->labels[i].name);
			buf_putc(&c->lnames, '\0');
		}
	}
	/* the arena is complete: now its addresses hold */
	for (size_t i = 0; i < s->nlabels; i++) {
		c->labels[n].name = chosen_name(c, s, i);
		c->labels[n++].value = s->labels[i].value;
	}
	for (size_t j = 0; j < o->nlabels; j++)
		c->labels[n++] = o->labels[j];
	if (reg_batch_add(c->b, c->name.data, s->help, s->type, c->labels, n, s->value) == 0) {
		struct reg_batch_sample *bs = &c->b->s[c->b->n - 1];

		bs->ts = o->use_timestamps && s->has_ts ? (double)s->ts_ms / 1000.0 : 0;
		bs->ttl = o->ttl;
		c->added++;
	}
	return 0;
}

long
expo_parse_batch(struct reg_batch *b, const char *text, size_t len, const struct expo_opts *o,
    char *err, size_t errlen)
{
	struct batch_ctx c = { b, o, { 0 }, { 0 }, NULL, NULL, 0 };
	struct reg_batch_mark m;
	size_t maxl = (o->lim.max_labels ? o->lim.max_labels : EXPO_DEFAULT_MAX_LABELS) + o->nlabels;
	int rc;

	reg_batch_mark(b, &m);
	c.labels = xcalloc(maxl, sizeof(*c.labels));
	c.loff = xcalloc(maxl, sizeof(*c.loff));
	rc = expo_parse(text, len, &o->lim, batch_sample, &c, err, errlen);
	if (rc != 0)
		reg_batch_rewind(b, &m);
	buf_free(&c.name);
	buf_free(&c.lnames);
	free(c.labels);
	free(c.loff);
	return rc != 0 ? -1 : c.added;
}
