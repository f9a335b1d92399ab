/* expr.c: the rule expression language (a PromQL subset): lexer, parser, formatter, evaluator. */
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr.h"
#include "util.h"

/* ---- the syntax tree ------------------------------------------------------------------- */

enum kind { N_NUM, N_SEL, N_CALL, N_AGG, N_BIN, N_NEG };

/* Binary operators, in the order of precedence classes (see prec()). */
enum binop {
	OP_OR, OP_AND, OP_UNLESS,
	OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW
};

static const char *const op_names[] = {
	"or", "and", "unless", "==", "!=", ">", "<", ">=", "<=", "+", "-", "*", "/", "%", "^"
};

enum func {
	F_RATE, F_IRATE, F_INCREASE, F_DELTA, F_DERIV, F_AVG_OT, F_MIN_OT, F_MAX_OT, F_SUM_OT,
	F_COUNT_OT, F_QUANTILE_OT, F_LAST_OT, F_ABSENT, F_ABSENT_OT, F_PREDICT_LINEAR, F_ABS,
	F_CLAMP_MIN, F_CLAMP_MAX, F_TIME, F_HW_ANOMALY, F_CHANGES, F_RESETS
};

struct funcdef {
	const char *name;
	size_t nargs;
	enum expr_type args[2];
	enum expr_type ret;
};

static const struct funcdef funcs[] = {
	[F_RATE] = { "rate", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_IRATE] = { "irate", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_INCREASE] = { "increase", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_DELTA] = { "delta", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_DERIV] = { "deriv", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_AVG_OT] = { "avg_over_time", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_MIN_OT] = { "min_over_time", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_MAX_OT] = { "max_over_time", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_SUM_OT] = { "sum_over_time", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_COUNT_OT] = { "count_over_time", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_QUANTILE_OT] = { "quantile_over_time", 2, { EXPR_SCALAR, EXPR_MATRIX }, EXPR_VECTOR },
	[F_LAST_OT] = { "last_over_time", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_ABSENT] = { "absent", 1, { EXPR_VECTOR }, EXPR_VECTOR },
	[F_ABSENT_OT] = { "absent_over_time", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_PREDICT_LINEAR] = { "predict_linear", 2, { EXPR_MATRIX, EXPR_SCALAR }, EXPR_VECTOR },
	[F_ABS] = { "abs", 1, { EXPR_VECTOR }, EXPR_VECTOR },
	[F_CLAMP_MIN] = { "clamp_min", 2, { EXPR_VECTOR, EXPR_SCALAR }, EXPR_VECTOR },
	[F_CLAMP_MAX] = { "clamp_max", 2, { EXPR_VECTOR, EXPR_SCALAR }, EXPR_VECTOR },
	[F_TIME] = { "time", 0, { EXPR_SCALAR }, EXPR_SCALAR },
	[F_HW_ANOMALY] = { "holt_winters_anomaly", 1, { EXPR_VECTOR }, EXPR_VECTOR },
	[F_CHANGES] = { "changes", 1, { EXPR_MATRIX }, EXPR_VECTOR },
	[F_RESETS] = { "resets", 1, { EXPR_MATRIX }, EXPR_VECTOR },
};
#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

enum agg { A_SUM, A_AVG, A_MIN, A_MAX, A_COUNT };
static const char *const agg_names[] = { "sum", "avg", "min", "max", "count" };
#define NAGGS (sizeof(agg_names) / sizeof(agg_names[0]))

/* PromQL functions and aggregations reeve knows of but does not implement. */
static const char *const unsupported[] = {
	"topk", "bottomk", "quantile", "count_values", "stddev", "stdvar", "group", "limitk",
	"histogram_quantile", "label_replace", "label_join", "vector", "scalar", "sort",
	"sort_desc", "idelta", "holt_winters", "double_exponential_smoothing", "timestamp",
	"round", "ceil", "floor", "sqrt", "exp", "ln", "log2", "log10", "clamp", "sgn",
	"stddev_over_time", "stdvar_over_time", "present_over_time", "mad_over_time",
	"day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute",
	"month", "year", "atan2"
};

/* Words that are operators or modifiers, never metric names outside braces. */
static const char *const keywords[] = {
	"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
	"bool", "offset"
};

struct node {
	enum kind kind;
	enum expr_type type;
	size_t pos;            /* byte offset of the node's first token, for messages */
	int depth;             /* height of the subtree */
	double num;            /* N_NUM */
	size_t sel;            /* N_SEL: index into expr->sels */
	int fn;                /* N_CALL: enum func; N_AGG: enum agg; N_BIN: enum binop */
	int without;           /* N_AGG: without (...) instead of by (...) */
	int grouped;           /* N_AGG: by/without given; N_BIN: on/ignoring given */
	int on;                /* N_BIN: on (...) instead of ignoring (...) */
	int ret_bool;          /* N_BIN: the bool modifier */
	char **lab;            /* grouping or matching labels, sorted, owned */
	size_t nlab;
	struct node *a[2];     /* arguments, operands (N_NEG: a[0]) */
	size_t na;
};

struct expr {
	struct node *root;
	struct expr_selector *sels;
	size_t nsels;
};

static void
node_free(struct node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->na; i++)
		node_free(n->a[i]);
	for (size_t i = 0; i < n->nlab; i++)
		free(n->lab[i]);
	free(n->lab);
	free(n);
}

static void
matchers_free(struct expr_matcher *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)m[i].name);
		free((char *)m[i].value);
		if (m[i].re) {
			regfree((regex_t *)m[i].re);
			free((void *)m[i].re);
		}
	}
	free(m);
}

void
expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	node_free(e->root);
	for (size_t i = 0; i < e->nsels; i++)
		matchers_free((struct expr_matcher *)e->sels[i].m, e->sels[i].nm);
	free(e->sels);
	free(e);
}

/* ---- matching series ------------------------------------------------------------------- */

static int
match_one(const struct expr_matcher *m, const char *v)
{
	switch (m->op) {
	case EXPR_MATCH_EQ:
		return strcmp(v, m->value) == 0;
	case EXPR_MATCH_NE:
		return strcmp(v, m->value) != 0;
	case EXPR_MATCH_RE:
		return regexec((const regex_t *)m->re, v, 0, NULL, 0) == 0;
	case EXPR_MATCH_NRE:
		return regexec((const regex_t *)m->re, v, 0, NULL, 0) != 0;
	}
	return 0;
}

int
expr_matches(const struct expr_matcher *m, size_t nm, const char *name,
    const struct reeve_label *labels, size_t nlabels)
{
	for (size_t i = 0; i < nm; i++) {
		const char *v = "";

		if (strcmp(m[i].name, "__name__") == 0) {
			v = name ? name : "";
		} else {
			for (size_t j = 0; j < nlabels; j++)
				if (strcmp(labels[j].name, m[i].name) == 0) {
					v = labels[j].value;
					break;
				}
		}
		if (!match_one(&m[i], v))
			return 0;
	}
	return 1;
}

struct reeve_label *
expr_labels_pack(const struct reeve_label *l, size_t n)
{
	size_t size = (n ? n : 1) * sizeof(*l);
	struct reeve_label *p;
	char *str;

	for (size_t i = 0; i < n; i++)
		size += strlen(l[i].name) + strlen(l[i].value) + 2;
	p = xmalloc(size);
	str = (char *)(p + (n ? n : 1));
	for (size_t i = 0; i < n; i++) {
		size_t a = strlen(l[i].name) + 1, b = strlen(l[i].value) + 1;

		p[i].name = memcpy(str, l[i].name, a);
		p[i].value = memcpy(str + a, l[i].value, b);
		str += a + b;
	}
	return p;
}

void
expr_series_free(struct expr_series *s, size_t n)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].labels);
		free(s[i].ts);
		free(s[i].v);
	}
	free(s);
}

void
expr_value_free(struct expr_value *v)
{
	for (size_t i = 0; i < v->nsamples; i++) {
		free(v->samples[i].name);
		free(v->samples[i].labels);
	}
	free(v->samples);
	expr_series_free(v->series, v->nseries);
	memset(v, 0, sizeof(*v));
}

/* ---- lexer ----------------------------------------------------------------------------- */

enum tok {
	T_EOF, T_IDENT, T_NUM, T_DUR, T_STR, T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE,
	T_LBRACK, T_RBRACK, T_COMMA, T_ASSIGN, T_EQL, T_NEQ, T_REQ, T_NREQ, T_GT, T_LT,
	T_GTE, T_LTE, T_ADD, T_SUB, T_MUL, T_DIV, T_MOD, T_POW, T_ERR
};

struct token {
	enum tok t;
	size_t pos, len;
	double num;      /* T_NUM */
	int64_t ms;      /* T_DUR */
};

struct parser {
	const char *text;
	size_t len;
	struct token tok;
	struct buf str;      /* the decoded value of the last string token lexed */
	int failed;
	char *err;
	size_t errlen;
	int depth;
	struct expr *e;
	const char *what;    /* what is parsed, for messages: "expr" (NULL) or "matchers" */
};

static void perr(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The first error wins: later ones are consequences. */
static void
perr(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	size_t line = 1, col = 1;
	int n;

	if (p->failed)
		return;
	p->failed = 1;
	for (size_t i = 0; i < pos && i < p->len; i++) {
		if (p->text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (p->errlen == 0)
		return;
	n = snprintf(p->err, p->errlen, "%s: %zu:%zu: ", p->what ? p->what : "expr", line, col);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_xdigit(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

#define DUR_MAX_MS ((int64_t)1000 * 86400 * 365 * 10000) /* 10000 years */

/*
 * A PromQL duration: numbers with units y w d h m s ms, each unit at most once and in that
 * order (1h30m). Returns 0 with *ms, or -1.
 */
static int
parse_duration(const char *s, size_t len, int64_t *ms)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "y", 365LL * 86400000 }, { "w", 7LL * 86400000 }, { "d", 86400000 },
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 }
	};
	size_t i = 0, next = 0;
	int64_t total = 0;

	if (len == 0)
		return -1;
	while (i < len) {
		int64_t v = 0;
		size_t start = i, ulen, u;

		while (i < len && is_digit((unsigned char)s[i])) {
			if (v > DUR_MAX_MS)
				return -1;
			v = v * 10 + (s[i] - '0');
			i++;
		}
		if (i == start)
			return -1;
		ulen = 0;
		while (i + ulen < len && is_alpha((unsigned char)s[i + ulen]))
			ulen++;
		for (u = next; u < sizeof(units) / sizeof(units[0]); u++)
			if (strlen(units[u].u) == ulen && memcmp(units[u].u, s + i, ulen) == 0)
				break;
		if (u == sizeof(units) / sizeof(units[0]))
			return -1;
		if (v > DUR_MAX_MS / units[u].ms)
			return -1;
		total += v * units[u].ms;
		if (total > DUR_MAX_MS)
			return -1;
		next = u + 1;
		i += ulen;
	}
	*ms = total;
	return 0;
}

static void
put_utf8(struct buf *b, unsigned long c)
{
	if (c < 0x80) {
		buf_putc(b, (char)c);
	} else if (c < 0x800) {
		buf_putc(b, (char)(0xc0 | (c >> 6)));
		buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		buf_putc(b, (char)(0xe0 | (c >> 12)));
		buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (c & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | (c >> 18)));
		buf_putc(b, (char)(0x80 | ((c >> 12) & 0x3f)));
		buf_putc(b, (char)(0x80 | ((c >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (c & 0x3f)));
	}
}

/*
 * A string literal at pos: "..." or '...' with Go escapes, or `...` raw. Decodes into
 * p->str and returns the position after it, or (size_t)-1 after an error.
 */
static size_t
lex_string(struct parser *p, size_t pos)
{
	const char *s = p->text;
	char q = s[pos];
	size_t i = pos + 1;

	buf_reset(&p->str);
	buf_append(&p->str, "", 0);
	for (;;) {
		unsigned char c;

		if (i >= p->len || (q != '`' && s[i] == '\n')) {
			perr(p, pos, "unterminated string");
			return (size_t)-1;
		}
		c = (unsigned char)s[i];
		if (c == (unsigned char)q)
			return i + 1;
		if (c != '\\' || q == '`') {
			buf_putc(&p->str, (char)c);
			i++;
			continue;
		}
		if (i + 1 >= p->len) {
			perr(p, pos, "unterminated string");
			return (size_t)-1;
		}
		c = (unsigned char)s[i + 1];
		switch (c) {
		case 'a': buf_putc(&p->str, '\a'); i += 2; continue;
		case 'b': buf_putc(&p->str, '\b'); i += 2; continue;
		case 'f': buf_putc(&p->str, '\f'); i += 2; continue;
		case 'n': buf_putc(&p->str, '\n'); i += 2; continue;
		case 'r': buf_putc(&p->str, '\r'); i += 2; continue;
		case 't': buf_putc(&p->str, '\t'); i += 2; continue;
		case 'v': buf_putc(&p->str, '\v'); i += 2; continue;
		case '\\': case '"': case '\'':
			buf_putc(&p->str, (char)c);
			i += 2;
			continue;
		default:
			break;
		}
		if (c == 'x' || c == 'u' || c == 'U' || (c >= '0' && c <= '7')) {
			size_t nd = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 3;
			size_t d0 = c >= '0' && c <= '7' ? i + 1 : i + 2;
			unsigned long v = 0;

			for (size_t k = 0; k < nd; k++) {
				int h = d0 + k < p->len ? (unsigned char)s[d0 + k] : 0;

				if (nd == 3 ? !(h >= '0' && h <= '7') : !is_xdigit(h)) {
					perr(p, i, "bad escape sequence in string");
					return (size_t)-1;
				}
				v = v * (nd == 3 ? 8 : 16) +
				    (unsigned long)(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
			}
			if (v == 0) {
				perr(p, i, "strings must not contain NUL characters");
				return (size_t)-1;
			}
			if (nd == 3 && v > 255) {
				perr(p, i, "bad escape sequence in string");
				return (size_t)-1;
			}
			if (c == 'u' || c == 'U') {
				if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
					perr(p, i, "bad escape sequence in string: invalid code point");
					return (size_t)-1;
				}
				put_utf8(&p->str, v);
			} else {
				buf_putc(&p->str, (char)v);
			}
			i = d0 + nd;
			continue;
		}
		perr(p, i, "unknown escape sequence \"\\%c\" in string", c >= 0x20 && c < 0x7f ? c : '?');
		return (size_t)-1;
	}
}

/* Lex the token at pos into *t (T_ERR after an error, which perr reported). */
static void
lex_at(struct parser *p, size_t pos, struct token *t)
{
	const char *s = p->text;
	size_t i;
	int c;

	while (pos < p->len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
		pos++;
	/* # starts a comment to the end of the line, as in PromQL */
	if (pos < p->len && s[pos] == '#') {
		while (pos < p->len && s[pos] != '\n')
			pos++;
		lex_at(p, pos, t);
		return;
	}
	memset(t, 0, sizeof(*t));
	t->pos = pos;
	t->len = 1;
	if (pos >= p->len) {
		t->t = T_EOF;
		t->len = 0;
		return;
	}
	c = (unsigned char)s[pos];
	if (is_alpha(c) || c == ':') {
		for (i = pos + 1; i < p->len && (is_alpha((unsigned char)s[i]) ||
		    is_digit((unsigned char)s[i]) || s[i] == ':'); i++)
			;
		t->t = T_IDENT;
		t->len = i - pos;
		return;
	}
	if (is_digit(c) || (c == '.' && pos + 1 < p->len && is_digit((unsigned char)s[pos + 1]))) {
		char tmp[64];
		int alpha = 0, dot = 0;

		i = pos;
		if (c == '0' && i + 1 < p->len && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
		    i + 2 < p->len && is_xdigit((unsigned char)s[i + 2])) {
			for (i += 2; i < p->len && is_xdigit((unsigned char)s[i]); i++)
				;
		} else {
			while (i < p->len && is_digit((unsigned char)s[i]))
				i++;
			if (i < p->len && s[i] == '.') {
				dot = 1;
				for (i++; i < p->len && is_digit((unsigned char)s[i]); i++)
					;
			}
			if (i + 1 < p->len && (s[i] == 'e' || s[i] == 'E') &&
			    (is_digit((unsigned char)s[i + 1]) ||
			    ((s[i + 1] == '+' || s[i + 1] == '-') && i + 2 < p->len &&
			    is_digit((unsigned char)s[i + 2])))) {
				dot = 1;
				for (i += 2; i < p->len && is_digit((unsigned char)s[i]); i++)
					;
			}
		}
		/* a number running into letters is a duration (5m, 1h30m) or a mistake */
		if (i < p->len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
		    s[i] == '.')) {
			i = pos;
			while (i < p->len && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
			    s[i] == '.')) {
				alpha |= is_alpha((unsigned char)s[i]);
				i++;
			}
			t->len = i - pos;
			if (!dot && alpha && parse_duration(s + pos, t->len, &t->ms) == 0) {
				t->t = T_DUR;
				return;
			}
			t->t = T_ERR;
			perr(p, pos, "bad %s \"%.*s\"", dot || !alpha ? "number" : "duration",
			    (int)(t->len > 40 ? 40 : t->len), s + pos);
			return;
		}
		t->len = i - pos;
		if (t->len >= sizeof(tmp)) {
			t->t = T_ERR;
			perr(p, pos, "number too long");
			return;
		}
		memcpy(tmp, s + pos, t->len);
		tmp[t->len] = '\0';
		t->num = strtod(tmp, NULL);
		t->t = T_NUM;
		return;
	}
	switch (c) {
	case '"': case '\'': case '`':
		i = lex_string(p, pos);
		if (i == (size_t)-1) {
			t->t = T_ERR;
			return;
		}
		t->t = T_STR;
		t->len = i - pos;
		return;
	case '(': t->t = T_LPAREN; return;
	case ')': t->t = T_RPAREN; return;
	case '{': t->t = T_LBRACE; return;
	case '}': t->t = T_RBRACE; return;
	case '[': t->t = T_LBRACK; return;
	case ']': t->t = T_RBRACK; return;
	case ',': t->t = T_COMMA; return;
	case '+': t->t = T_ADD; return;
	case '-': t->t = T_SUB; return;
	case '*': t->t = T_MUL; return;
	case '/': t->t = T_DIV; return;
	case '%': t->t = T_MOD; return;
	case '^': t->t = T_POW; return;
	default:
		break;
	}
	c = pos + 1 < p->len ? (unsigned char)s[pos + 1] : 0;
	t->len = 2;
	switch (s[pos]) {
	case '=':
		t->t = c == '=' ? T_EQL : c == '~' ? T_REQ : T_ASSIGN;
		break;
	case '!':
		t->t = c == '=' ? T_NEQ : c == '~' ? T_NREQ : T_ERR;
		break;
	case '>':
		t->t = c == '=' ? T_GTE : T_GT;
		break;
	case '<':
		t->t = c == '=' ? T_LTE : T_LT;
		break;
	default:
		t->t = T_ERR;
		break;
	}
	if (t->t == T_ASSIGN || t->t == T_GT || t->t == T_LT)
		t->len = 1;
	if (t->t == T_ERR) {
		unsigned char u = (unsigned char)s[pos];

		if (u >= 0x20 && u < 0x7f)
			perr(p, pos, "unexpected character \"%c\"", u);
		else
			perr(p, pos, "unexpected byte 0x%02x", u);
	}
}

static void
next(struct parser *p)
{
	if (p->failed) {
		p->tok.t = T_ERR;
		return;
	}
	lex_at(p, p->tok.pos + p->tok.len, &p->tok);
}

/* The token after the current one, without consuming anything. */
static enum tok
peek(struct parser *p)
{
	struct token t;
	struct parser q = *p;

	/* a copy, so a lexer error in the look-ahead neither sticks nor clobbers p->str */
	q.str.data = NULL;
	q.str.len = q.str.cap = 0;
	q.errlen = 0;
	lex_at(&q, p->tok.pos + p->tok.len, &t);
	buf_free(&q.str);
	return t.t;
}

static int
tok_is(const struct parser *p, const char *word)
{
	return p->tok.t == T_IDENT && p->tok.len == strlen(word) &&
	    memcmp(p->text + p->tok.pos, word, p->tok.len) == 0;
}

/* A short description of the current token for messages. */
static const char *
tok_desc(const struct parser *p, char *buf, size_t size)
{
	const struct token *t = &p->tok;
	int len = (int)(t->len > 40 ? 40 : t->len);

	switch (t->t) {
	case T_EOF:
		return "end of input";
	case T_IDENT:
		snprintf(buf, size, "identifier \"%.*s\"", len, p->text + t->pos);
		return buf;
	case T_NUM:
		snprintf(buf, size, "number \"%.*s\"", len, p->text + t->pos);
		return buf;
	case T_DUR:
		snprintf(buf, size, "duration \"%.*s\"", len, p->text + t->pos);
		return buf;
	case T_STR:
		return "string";
	default:
		snprintf(buf, size, "\"%.*s\"", len, p->text + t->pos);
		return buf;
	}
}

static void
unexpected(struct parser *p, const char *what)
{
	char d[64];

	if (p->tok.t == T_ERR)
		return;
	if (what)
		perr(p, p->tok.pos, "unexpected %s; expected %s", tok_desc(p, d, sizeof(d)), what);
	else
		perr(p, p->tok.pos, "unexpected %s", tok_desc(p, d, sizeof(d)));
}

/* Levenshtein distance, bounded: anything above 3 is reported as 3. */
static size_t
edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb] > 3 ? 3 : prev[lb];
}

/* The closest of words to the current token within an edit distance of 2, or NULL. */
static const char *
suggest(const struct parser *p, const char *const *words, size_t n, const char *best)
{
	size_t bestd = 3;

	if (best)
		bestd = edit_distance(p->text + p->tok.pos, p->tok.len, best);
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(p->text + p->tok.pos, p->tok.len, words[i]);

		if (d < bestd && d < strlen(words[i])) {
			bestd = d;
			best = words[i];
		}
	}
	return bestd <= 2 ? best : NULL;
}

static int
in_list(const struct parser *p, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tok_is(p, words[i]))
			return 1;
	return 0;
}

/* ---- parser ---------------------------------------------------------------------------- */

static const char *
type_name(enum expr_type t)
{
	switch (t) {
	case EXPR_SCALAR:
		return "a scalar";
	case EXPR_VECTOR:
		return "an instant vector";
	case EXPR_MATRIX:
		return "a range vector";
	}
	return "?";
}

static struct node *
node_new(struct parser *p, enum kind k, enum expr_type type, size_t pos)
{
	struct node *n = xcalloc(1, sizeof(*n));

	(void)p;
	n->kind = k;
	n->type = type;
	n->pos = pos;
	n->depth = 1;
	return n;
}

/* Attach a child, keeping the height bounded so evaluation cannot recurse without end. */
static int
node_add(struct parser *p, struct node *n, struct node *child)
{
	n->a[n->na++] = child;
	if (child->depth + 1 > n->depth)
		n->depth = child->depth + 1;
	if (n->depth > EXPR_MAX_DEPTH) {
		perr(p, n->pos, "expression nested too deeply (more than %d levels)", EXPR_MAX_DEPTH);
		return -1;
	}
	return 0;
}

static struct node *parse_expr(struct parser *p, int minprec);

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ( label, ... ) after by, without, on or ignoring: sorted into *lab, no duplicates. */
static int
parse_labels(struct parser *p, const char *what, char ***lab, size_t *nlab)
{
	size_t cap = 0;

	if (p->tok.t != T_LPAREN) {
		unexpected(p, "\"(\"");
		return -1;
	}
	next(p);
	while (p->tok.t != T_RPAREN) {
		char *name;

		if (p->tok.t != T_IDENT) {
			char d[64];

			if (p->tok.t != T_ERR)
				perr(p, p->tok.pos, "expected a label name in %s (...), got %s", what,
				    tok_desc(p, d, sizeof(d)));
			return -1;
		}
		name = xstrndup(p->text + p->tok.pos, p->tok.len);
		if (!util_valid_label_name(name) && strcmp(name, "__name__") != 0) {
			perr(p, p->tok.pos, "invalid label name \"%s\" in %s (...)", name, what);
			free(name);
			return -1;
		}
		for (size_t i = 0; i < *nlab; i++)
			if (strcmp((*lab)[i], name) == 0) {
				perr(p, p->tok.pos, "duplicate label \"%s\" in %s (...)", name, what);
				free(name);
				return -1;
			}
		if (*nlab == cap) {
			cap = cap ? cap * 2 : 4;
			*lab = xreallocarray(*lab, cap, sizeof(**lab));
		}
		(*lab)[(*nlab)++] = name;
		next(p);
		if (p->tok.t == T_COMMA)
			next(p);
		else if (p->tok.t != T_RPAREN) {
			unexpected(p, "\",\" or \")\"");
			return -1;
		}
	}
	next(p);
	if (*nlab > 1)
		qsort(*lab, *nlab, sizeof(**lab), cmp_str);
	return 0;
}

/*
 * Skip the bracket expression starting at q ("["): a "]" first is literal, and [:class:],
 * [.x.] and [=x=] nest. Returns what follows its "]" (or the end of the text).
 */
static const char *
skip_bracket(const char *q)
{
	q++;
	if (*q == '^')
		q++;
	if (*q == ']')
		q++;
	while (*q && *q != ']') {
		if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
			char c = q[1];

			for (q += 2; *q && !(*q == c && q[1] == ']'); q++)
				;
			if (*q)
				q += 2;
			continue;
		}
		q++;
	}
	return *q ? q + 1 : q;
}

/*
 * Whether re closes a group it never opened. glibc takes such a ")" as a literal, which
 * would let "a)|(b" escape the anchoring "^(...)$"; RE2 (PromQL) refuses it, and so do we.
 */
static int
unmatched_close(const char *re)
{
	const char *q = re;
	int depth = 0;

	while (*q) {
		if (*q == '\\') {
			q += q[1] ? 2 : 1;
			continue;
		}
		if (*q == '[') {
			q = skip_bracket(q);
			continue;
		}
		if (*q == '(')
			depth++;
		else if (*q == ')' && depth-- == 0)
			return 1;
		q++;
	}
	return 0;
}

#define RE_MAX_COST 10000 /* nodes glibc's regcomp may build for one regex */
#define RE_MAX_REPEAT 1000 /* the largest {m,n} bound, as in RE2 */

/*
 * glibc's regcomp copies the subexpression of every "+" and "{m,n}", so "((a+)+)+..." or
 * "(a{1000}){1000}" grows exponentially and can exhaust memory from a short text. Estimate
 * the nodes it builds and refuse what is too large, and refuse stacked repetition
 * operators ("a++", "a*?") as RE2 (PromQL) does. Returns NULL or the reason.
 */
static const char *
re_too_complex(const char *re)
{
	double stack[64], last = 1;
	int d = 0, prev_quant = 1;
	const char *q = re;

	stack[0] = 0;
	while (*q) {
		unsigned long lo, hi;
		char *end;

		if (*q == '*' || *q == '?' || *q == '+' || (*q == '{' && q[1] >= '0' && q[1] <= '9')) {
			double k = 1;

			if (*q == '{') {
				lo = hi = strtoul(q + 1, &end, 10);
				if (*end == ',') {
					if (end[1] >= '0' && end[1] <= '9')
						hi = strtoul(end + 1, &end, 10);
					else {
						end++;
						hi = lo + 1;
					}
				}
				if (*end != '}') {
					/* not a bound: a literal "{" */
					last = 1;
					stack[d] += 1;
					prev_quant = 0;
					q++;
					continue;
				}
				if (lo > RE_MAX_REPEAT || hi > RE_MAX_REPEAT)
					return "repetition count above 1000";
				k = (double)(hi > 1 ? hi : 1);
				q = end + 1;
			} else {
				k = *q == '+' ? 2 : 1;
				q++;
			}
			if (prev_quant)
				return "bad repetition operator";
			stack[d] += last * (k - 1);
			last *= k;
			prev_quant = 1;
			if (stack[d] > RE_MAX_COST)
				return "too complex";
			continue;
		}
		prev_quant = 0;
		if (*q == '(') {
			if (++d == 64)
				return "nested too deeply";
			stack[d] = 0;
			prev_quant = 1;  /* "(*" is not a repetition of anything */
			q++;
			continue;
		}
		if (*q == ')' && d > 0) {
			last = stack[d] > 1 ? stack[d] : 1;
			d--;
			stack[d] += last;
			q++;
			continue;
		}
		if (*q == '|') {
			prev_quant = 1;
			q++;
			continue;
		}
		if (*q == '\\') {
			q += q[1] ? 2 : 1;
		} else if (*q == '[') {
			q = skip_bracket(q);
		} else {
			q++;
		}
		last = 1;
		stack[d] += 1;
		if (stack[d] > RE_MAX_COST)
			return "too complex";
	}
	return NULL;
}

static int
compile_re(struct parser *p, size_t pos, struct expr_matcher *m)
{
	const char *why;
	regex_t probe, *re;
	char *anchored, msg[128];
	int rc;

	if ((why = re_too_complex(m->value)) != NULL) {
		perr(p, pos, "invalid regular expression \"%.60s\": %s", m->value, why);
		return -1;
	}
	/* compiled alone first: its message is the user's, and "^(a)(b)$" from "a)(b" is caught */
	if ((rc = regcomp(&probe, m->value, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &probe, msg, sizeof(msg));
		perr(p, pos, "invalid regular expression \"%.60s\": %s", m->value, msg);
		return -1;
	}
	regfree(&probe);
	if (unmatched_close(m->value)) {
		perr(p, pos, "invalid regular expression \"%.60s\": Unmatched ) or \\)", m->value);
		return -1;
	}
	anchored = xasprintf("^(%s)$", m->value);
	re = xmalloc(sizeof(*re));
	if ((rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, re, msg, sizeof(msg));
		perr(p, pos, "invalid regular expression \"%.60s\": %s", m->value, msg);
		free(re);
		free(anchored);
		return -1;
	}
	free(anchored);
	m->re = re;
	return 0;
}

/*
 * Label matchers up to the token end (T_RBRACE after a selector's "{" at brace, or T_EOF
 * for a bare list), appended to *m; the current token is the first of the list and is end
 * on return. Returns 0, or -1 after perr.
 */
static int
parse_matcher_list(struct parser *p, enum tok end, size_t brace, struct expr_matcher **mp,
    size_t *nmp, size_t *capp)
{
	while (p->tok.t != end) {
		struct expr_matcher *cur;
		size_t lpos = p->tok.pos, opos;

		if (p->tok.t == T_EOF) {
			perr(p, brace, "unbalanced braces: \"{\" is never closed");
			return -1;
		}
		if (p->tok.t != T_IDENT) {
			unexpected(p, "a label name");
			return -1;
		}
		if (*nmp == *capp) {
			*capp = *capp ? *capp * 2 : 4;
			*mp = xreallocarray(*mp, *capp, sizeof(**mp));
		}
		cur = &(*mp)[(*nmp)++];
		memset(cur, 0, sizeof(*cur));
		cur->name = xstrndup(p->text + p->tok.pos, p->tok.len);
		if (!util_valid_label_name(cur->name)) {
			perr(p, lpos, "invalid label name \"%s\"", cur->name);
			return -1;
		}
		next(p);
		opos = p->tok.pos;
		switch (p->tok.t) {
		case T_ASSIGN: cur->op = EXPR_MATCH_EQ; break;
		case T_NEQ: cur->op = EXPR_MATCH_NE; break;
		case T_REQ: cur->op = EXPR_MATCH_RE; break;
		case T_NREQ: cur->op = EXPR_MATCH_NRE; break;
		default:
			if (p->tok.t != T_ERR) {
				char d[64];

				perr(p, opos, "unknown label matching operator %s; expected "
				    "=, !=, =~ or !~", tok_desc(p, d, sizeof(d)));
			}
			return -1;
		}
		next(p);
		if (p->tok.t != T_STR) {
			if (p->tok.t != T_ERR) {
				char d[64];

				perr(p, p->tok.pos, "label matcher value must be a quoted string, "
				    "got %s", tok_desc(p, d, sizeof(d)));
			}
			return -1;
		}
		cur->value = xstrdup(p->str.data);
		if ((cur->op == EXPR_MATCH_RE || cur->op == EXPR_MATCH_NRE) &&
		    compile_re(p, p->tok.pos, cur) == -1)
			return -1;
		next(p);
		if (p->tok.t == T_COMMA)
			next(p);
		else if (p->tok.t != end) {
			if (p->tok.t == T_EOF)
				perr(p, brace, "unbalanced braces: \"{\" is never closed");
			else
				unexpected(p, end == T_RBRACE ? "\",\" or \"}\"" : "\",\"");
			return -1;
		}
	}
	return 0;
}

/*
 * A selector: name, name{...} or {...}, then [range] and offset. The current token is the
 * name or the brace. Returns an N_SEL node or NULL.
 */
static struct node *
parse_selector(struct parser *p)
{
	struct expr_matcher *m = NULL;
	size_t nm = 0, cap = 0, pos = p->tok.pos, nnames = 0;
	struct expr_selector *sel;
	struct node *n = NULL;
	int64_t range = 0, offset = 0;
	int nonempty = 0, named = p->tok.t == T_IDENT;

	if (p->tok.t == T_IDENT) {
		cap = 4;
		m = xcalloc(cap, sizeof(*m));
		m[0].name = xstrdup("__name__");
		m[0].op = EXPR_MATCH_EQ;
		m[0].value = xstrndup(p->text + p->tok.pos, p->tok.len);
		nm = 1;
		next(p);
	}
	if (p->tok.t == T_LBRACE) {
		size_t brace = p->tok.pos;

		next(p);
		if (parse_matcher_list(p, T_RBRACE, brace, &m, &nm, &cap) == -1)
			goto fail;
		next(p);
	}
	for (size_t i = 0; i < nm; i++) {
		nnames += strcmp(m[i].name, "__name__") == 0;
		if (!match_one(&m[i], ""))
			nonempty = 1;
	}
	if (named && nnames > 1) {
		perr(p, pos, "metric name set twice: outside and inside the braces");
		goto fail;
	}
	if (!nonempty) {
		perr(p, pos, "selector must contain at least one matcher that does not match the "
		    "empty string");
		goto fail;
	}
	if (p->tok.t == T_LBRACK) {
		next(p);
		if (p->tok.t == T_NUM) {
			perr(p, p->tok.pos, "bad duration \"%.*s\": a duration needs a unit "
			    "(ms, s, m, h, d, w or y)", (int)(p->tok.len > 40 ? 40 : p->tok.len),
			    p->text + p->tok.pos);
			goto fail;
		}
		if (p->tok.t != T_DUR) {
			unexpected(p, "a duration such as 5m");
			goto fail;
		}
		if ((range = p->tok.ms) <= 0) {
			perr(p, p->tok.pos, "range must be greater than 0");
			goto fail;
		}
		next(p);
		if (p->tok.t != T_RBRACK) {
			unexpected(p, "\"]\"");
			goto fail;
		}
		next(p);
	}
	if (tok_is(p, "offset")) {
		next(p);
		if (p->tok.t != T_DUR) {
			unexpected(p, "a duration after offset");
			goto fail;
		}
		offset = p->tok.ms;
		next(p);
	}
	if (p->tok.t == T_LBRACK) {
		perr(p, p->tok.pos, "a range must come right after the selector, once, and before "
		    "offset");
		goto fail;
	}
	if (p->failed)
		goto fail;
	p->e->sels = xreallocarray(p->e->sels, p->e->nsels + 1, sizeof(*p->e->sels));
	sel = &p->e->sels[p->e->nsels];
	sel->m = m;
	sel->nm = nm;
	sel->range = (double)range / 1000;
	sel->offset = (double)offset / 1000;
	n = node_new(p, N_SEL, range ? EXPR_MATRIX : EXPR_VECTOR, pos);
	n->sel = p->e->nsels++;
	return n;
fail:
	matchers_free(m, nm);
	return NULL;
}

/* Arguments of a function or aggregation: "(" expr, ... ")"; returns their count or -1. */
static int
parse_args(struct parser *p, struct node *n, size_t max, const char *name, size_t *nargs)
{
	size_t lpar = p->tok.pos;

	*nargs = 0;
	next(p);
	while (p->tok.t != T_RPAREN) {
		struct node *a;

		if (p->tok.t == T_EOF) {
			perr(p, lpar, "unbalanced parentheses: \"(\" of %s is never closed", name);
			return -1;
		}
		if ((a = parse_expr(p, 0)) == NULL)
			return -1;
		if (n->na < max) {
			if (node_add(p, n, a) == -1)
				return -1;
		} else {
			node_free(a);
		}
		(*nargs)++;
		if (p->tok.t == T_COMMA) {
			next(p);
			if (p->tok.t == T_RPAREN) {
				unexpected(p, "an expression");
				return -1;
			}
		} else if (p->tok.t != T_RPAREN) {
			if (p->tok.t == T_EOF)
				perr(p, lpar, "unbalanced parentheses: \"(\" of %s is never closed", name);
			else
				unexpected(p, "\",\" or \")\"");
			return -1;
		}
	}
	next(p);
	return 0;
}

static struct node *
parse_call(struct parser *p, int fn)
{
	const struct funcdef *f = &funcs[fn];
	struct node *n = node_new(p, N_CALL, f->ret, p->tok.pos);
	size_t nargs;

	n->fn = fn;
	next(p);
	if (parse_args(p, n, 2, f->name, &nargs) == -1)
		goto fail;
	if (nargs != f->nargs) {
		perr(p, n->pos, "%s expects %zu argument%s, got %zu", f->name, f->nargs,
		    f->nargs == 1 ? "" : "s", nargs);
		goto fail;
	}
	for (size_t i = 0; i < nargs; i++)
		if (n->a[i]->type != f->args[i]) {
			if (nargs == 1)
				perr(p, n->a[i]->pos, "%s expects %s, got %s", f->name,
				    type_name(f->args[i]), type_name(n->a[i]->type));
			else
				perr(p, n->a[i]->pos, "%s expects %s as argument %zu, got %s", f->name,
				    type_name(f->args[i]), i + 1, type_name(n->a[i]->type));
			goto fail;
		}
	if (fn == F_HW_ANOMALY && n->a[0]->kind != N_SEL) {
		perr(p, n->a[0]->pos, "holt_winters_anomaly expects an instant vector selector");
		goto fail;
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

static int
parse_grouping(struct parser *p, struct node *n)
{
	n->without = tok_is(p, "without");
	n->grouped = 1;
	next(p);
	return parse_labels(p, n->without ? "without" : "by", &n->lab, &n->nlab);
}

static struct node *
parse_agg(struct parser *p, int agg)
{
	static const char *const mods[] = { "by", "without" };
	struct node *n = node_new(p, N_AGG, EXPR_VECTOR, p->tok.pos);
	size_t nargs;

	n->fn = agg;
	next(p);
	if (tok_is(p, "by") || tok_is(p, "without")) {
		if (parse_grouping(p, n) == -1)
			goto fail;
	} else if (p->tok.t == T_IDENT) {
		const char *s = suggest(p, mods, 2, NULL);

		if (s)
			perr(p, p->tok.pos, "unknown aggregation modifier \"%.*s\"; did you mean "
			    "\"%s\"?", (int)p->tok.len, p->text + p->tok.pos, s);
		else
			perr(p, p->tok.pos, "unknown aggregation modifier \"%.*s\"; expected by, "
			    "without or \"(\"", (int)(p->tok.len > 40 ? 40 : p->tok.len),
			    p->text + p->tok.pos);
		goto fail;
	}
	if (p->tok.t != T_LPAREN) {
		unexpected(p, "\"(\"");
		goto fail;
	}
	if (parse_args(p, n, 1, agg_names[agg], &nargs) == -1)
		goto fail;
	if (nargs != 1) {
		perr(p, n->pos, "%s expects 1 argument, got %zu", agg_names[agg], nargs);
		goto fail;
	}
	if (n->a[0]->type != EXPR_VECTOR) {
		perr(p, n->a[0]->pos, "%s expects an instant vector, got %s", agg_names[agg],
		    type_name(n->a[0]->type));
		goto fail;
	}
	if (tok_is(p, "by") || tok_is(p, "without")) {
		if (n->grouped) {
			perr(p, p->tok.pos, "%s has a grouping before and after its argument",
			    agg_names[agg]);
			goto fail;
		}
		if (parse_grouping(p, n) == -1)
			goto fail;
	} else if (p->tok.t == T_IDENT && peek(p) == T_LPAREN) {
		const char *s = suggest(p, mods, 2, NULL);

		if (s && !tok_is(p, "on")) {
			perr(p, p->tok.pos, "unknown aggregation modifier \"%.*s\"; did you mean "
			    "\"%s\"?", (int)p->tok.len, p->text + p->tok.pos, s);
			goto fail;
		}
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

/* An identifier in operand position: number, aggregation, function call or selector. */
static struct node *
parse_ident(struct parser *p)
{
	const char *s = p->text + p->tok.pos;
	size_t len = p->tok.len;
	struct node *n;

	if ((len == 3 && strncasecmp(s, "inf", 3) == 0) || (len == 3 && strncasecmp(s, "nan", 3) == 0)) {
		n = node_new(p, N_NUM, EXPR_SCALAR, p->tok.pos);
		n->num = tolower((unsigned char)s[0]) == 'i' ? INFINITY : NAN;
		next(p);
		return n;
	}
	for (size_t i = 0; i < NAGGS; i++)
		if (tok_is(p, agg_names[i]))
			return parse_agg(p, (int)i);
	if (in_list(p, keywords, sizeof(keywords) / sizeof(keywords[0]))) {
		perr(p, p->tok.pos, "unexpected keyword \"%.*s\"; expected an expression", (int)len, s);
		return NULL;
	}
	if (peek(p) == T_LPAREN) {
		const char *names[NFUNCS + NAGGS];
		const char *best;

		for (size_t i = 0; i < NFUNCS; i++)
			if (tok_is(p, funcs[i].name))
				return parse_call(p, (int)i);
		if (in_list(p, unsupported, sizeof(unsupported) / sizeof(unsupported[0]))) {
			perr(p, p->tok.pos, "function \"%.*s\" is not supported (see "
			    "docs/expressions.md)", (int)len, s);
			return NULL;
		}
		for (size_t i = 0; i < NFUNCS; i++)
			names[i] = funcs[i].name;
		for (size_t i = 0; i < NAGGS; i++)
			names[NFUNCS + i] = agg_names[i];
		best = suggest(p, names, NFUNCS + NAGGS, NULL);
		if (best)
			perr(p, p->tok.pos, "unknown function \"%.*s\"; did you mean \"%s\"?",
			    (int)(len > 60 ? 60 : len), s, best);
		else
			perr(p, p->tok.pos, "unknown function \"%.*s\"", (int)(len > 60 ? 60 : len), s);
		return NULL;
	}
	return parse_selector(p);
}

static struct node *
parse_primary(struct parser *p)
{
	struct node *n = NULL;
	size_t pos = p->tok.pos;

	switch (p->tok.t) {
	case T_NUM:
		n = node_new(p, N_NUM, EXPR_SCALAR, pos);
		n->num = p->tok.num;
		next(p);
		break;
	case T_IDENT:
		if ((n = parse_ident(p)) == NULL)
			return NULL;
		if (n->kind == N_SEL)
			return n;
		break;
	case T_LBRACE:
		return parse_selector(p);
	case T_LPAREN:
		next(p);
		if (p->tok.t == T_RPAREN) {
			perr(p, p->tok.pos, "empty parentheses");
			return NULL;
		}
		if ((n = parse_expr(p, 0)) == NULL)
			return NULL;
		if (p->tok.t != T_RPAREN) {
			if (p->tok.t == T_EOF)
				perr(p, pos, "unbalanced parentheses: \"(\" is never closed");
			else
				unexpected(p, "\")\"");
			node_free(n);
			return NULL;
		}
		next(p);
		break;
	case T_STR:
		perr(p, pos, "string literals are only allowed as label matcher values");
		return NULL;
	case T_DUR:
		perr(p, pos, "a duration is only allowed in a range [5m] or after offset");
		return NULL;
	case T_RPAREN:
		perr(p, pos, "unbalanced parentheses: unexpected \")\"");
		return NULL;
	case T_EOF:
		perr(p, pos, "unexpected end of input; expected an expression");
		return NULL;
	case T_ERR:
		return NULL;
	default:
		unexpected(p, "an expression");
		return NULL;
	}
	if (p->tok.t == T_LBRACK) {
		perr(p, p->tok.pos, "ranges are only allowed on selectors (reeve has no subqueries)");
		node_free(n);
		return NULL;
	}
	if (tok_is(p, "offset")) {
		perr(p, p->tok.pos, "offset is only allowed on selectors");
		node_free(n);
		return NULL;
	}
	return n;
}

/*
 * The parser's own recursion limit. The tree is limited to EXPR_MAX_DEPTH levels
 * (node_add); the text may nest deeper than its tree (parentheses are no nodes), and the
 * canonical text of a tree EXPR_MAX_DEPTH deep needs up to two levels per node.
 */
#define PARSE_MAX_DEPTH (2 * EXPR_MAX_DEPTH + 8)

/* Unary minus binds like *, tighter than + but looser than ^ (-2^2 is -4), as in PromQL. */
enum { PREC_OR = 1, PREC_AND, PREC_CMP, PREC_ADD, PREC_MUL, PREC_POW };

static struct node *
parse_unary(struct parser *p)
{
	struct node *operand, *n;
	size_t pos = p->tok.pos;
	int neg;

	if (p->tok.t != T_SUB && p->tok.t != T_ADD)
		return parse_primary(p);
	neg = p->tok.t == T_SUB;
	next(p);
	if ((operand = parse_expr(p, PREC_POW)) == NULL)
		return NULL;
	if (operand->type == EXPR_MATRIX) {
		perr(p, pos, "unary %s needs a scalar or an instant vector, got a range vector",
		    neg ? "minus" : "plus");
		node_free(operand);
		return NULL;
	}
	if (!neg)
		return operand;
	if (operand->kind == N_NUM) {
		operand->num = -operand->num;
		operand->pos = pos;
		return operand;
	}
	n = node_new(p, N_NEG, operand->type, pos);
	if (node_add(p, n, operand) == -1) {
		node_free(n);
		return NULL;
	}
	return n;
}

/* The binary operator of the current token, or -1. */
static int
binop_of(const struct parser *p)
{
	switch (p->tok.t) {
	case T_EQL: return OP_EQ;
	case T_NEQ: return OP_NE;
	case T_GT: return OP_GT;
	case T_LT: return OP_LT;
	case T_GTE: return OP_GE;
	case T_LTE: return OP_LE;
	case T_ADD: return OP_ADD;
	case T_SUB: return OP_SUB;
	case T_MUL: return OP_MUL;
	case T_DIV: return OP_DIV;
	case T_MOD: return OP_MOD;
	case T_POW: return OP_POW;
	case T_IDENT:
		if (tok_is(p, "and"))
			return OP_AND;
		if (tok_is(p, "or"))
			return OP_OR;
		if (tok_is(p, "unless"))
			return OP_UNLESS;
		return -1;
	default:
		return -1;
	}
}

static int
prec(int op)
{
	if (op == OP_OR)
		return PREC_OR;
	if (op <= OP_UNLESS)
		return PREC_AND;
	if (op <= OP_LE)
		return PREC_CMP;
	if (op <= OP_SUB)
		return PREC_ADD;
	if (op <= OP_MOD)
		return PREC_MUL;
	return PREC_POW;
}

static int
is_cmp(int op)
{
	return op >= OP_EQ && op <= OP_LE;
}

static int
is_set(int op)
{
	return op <= OP_UNLESS;
}

/* Operator modifiers after the operator (bool, on/ignoring), then type checks. */
static int
parse_modifiers(struct parser *p, struct node *n)
{
	if (tok_is(p, "bool")) {
		if (!is_cmp(n->fn)) {
			perr(p, p->tok.pos, "bool is only allowed after a comparison operator, not "
			    "after \"%s\"", op_names[n->fn]);
			return -1;
		}
		n->ret_bool = 1;
		next(p);
	}
	if (tok_is(p, "on") || tok_is(p, "ignoring")) {
		n->on = tok_is(p, "on");
		n->grouped = 1;
		next(p);
		if (parse_labels(p, n->on ? "on" : "ignoring", &n->lab, &n->nlab) == -1)
			return -1;
		if (tok_is(p, "group_left") || tok_is(p, "group_right")) {
			perr(p, p->tok.pos, "%.*s is not supported: reeve matches one-to-one only",
			    (int)p->tok.len, p->text + p->tok.pos);
			return -1;
		}
	} else if (tok_is(p, "group_left") || tok_is(p, "group_right")) {
		perr(p, p->tok.pos, "%.*s needs on (...) or ignoring (...) before it, and is not "
		    "supported: reeve matches one-to-one only", (int)p->tok.len, p->text + p->tok.pos);
		return -1;
	}
	return 0;
}

static int
check_binary(struct parser *p, struct node *n, size_t oppos)
{
	enum expr_type lt = n->a[0]->type, rt = n->a[1]->type;
	const char *op = op_names[n->fn];

	if (lt == EXPR_MATRIX || rt == EXPR_MATRIX) {
		perr(p, oppos, "operator \"%s\" needs scalars or instant vectors, got %s on the %s",
		    op, "a range vector", lt == EXPR_MATRIX ? "left" : "right");
		return -1;
	}
	if (is_set(n->fn) && (lt != EXPR_VECTOR || rt != EXPR_VECTOR)) {
		perr(p, oppos, "operator \"%s\" needs instant vectors on both sides, got %s on the %s",
		    op, "a scalar", lt != EXPR_VECTOR ? "left" : "right");
		return -1;
	}
	if (n->grouped && (lt != EXPR_VECTOR || rt != EXPR_VECTOR)) {
		perr(p, oppos, "vector matching (on/ignoring) needs instant vectors on both sides");
		return -1;
	}
	if (is_cmp(n->fn) && lt == EXPR_SCALAR && rt == EXPR_SCALAR && !n->ret_bool) {
		perr(p, oppos, "comparisons between scalars must use bool (write \"%s bool\")", op);
		return -1;
	}
	n->type = lt == EXPR_SCALAR && rt == EXPR_SCALAR ? EXPR_SCALAR : EXPR_VECTOR;
	return 0;
}

/* Precedence climbing over the operators; ^ is right-associative, the rest left. */
static struct node *
parse_expr(struct parser *p, int minprec)
{
	struct node *lhs, *rhs, *n;
	int op;

	if (++p->depth > PARSE_MAX_DEPTH) {
		perr(p, p->tok.pos, "expression nested too deeply (more than %d levels of "
		    "parentheses and operators)", PARSE_MAX_DEPTH);
		return NULL;
	}
	if ((lhs = parse_unary(p)) == NULL)
		return NULL;
	while ((op = binop_of(p)) != -1 && prec(op) >= minprec) {
		size_t oppos = p->tok.pos;

		n = node_new(p, N_BIN, EXPR_VECTOR, lhs->pos);
		n->fn = op;
		next(p);
		if (node_add(p, n, lhs) == -1 || parse_modifiers(p, n) == -1) {
			node_free(n);
			return NULL;
		}
		if ((rhs = parse_expr(p, op == OP_POW ? prec(op) : prec(op) + 1)) == NULL) {
			node_free(n);
			return NULL;
		}
		if (node_add(p, n, rhs) == -1 || check_binary(p, n, oppos) == -1) {
			node_free(n);
			return NULL;
		}
		lhs = n;
	}
	p->depth--;
	return lhs;
}

struct expr *
expr_parse(const char *text, char *err, size_t errlen)
{
	struct parser p = { 0 };
	size_t len = strnlen(text, EXPR_MAX_LEN + 1);

	if (errlen)
		err[0] = '\0';
	p.text = text;
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	if (len > EXPR_MAX_LEN) {
		snprintf(err, errlen, "expr: expression longer than %d bytes", EXPR_MAX_LEN);
		return NULL;
	}
	p.e = xcalloc(1, sizeof(*p.e));
	lex_at(&p, 0, &p.tok);
	if (p.tok.t == T_EOF) {
		perr(&p, 0, "empty expression");
		goto fail;
	}
	if ((p.e->root = parse_expr(&p, 0)) == NULL)
		goto fail;
	if (p.tok.t != T_EOF) {
		if (p.tok.t == T_RPAREN)
			perr(&p, p.tok.pos, "unbalanced parentheses: unexpected \")\"");
		else if (p.tok.t != T_ERR) {
			char d[64];

			perr(&p, p.tok.pos, "unexpected %s after the end of the expression",
			    tok_desc(&p, d, sizeof(d)));
		}
		goto fail;
	}
	if (p.failed)
		goto fail;
	buf_free(&p.str);
	return p.e;
fail:
	if (!p.failed)
		perr(&p, p.tok.pos, "syntax error");
	buf_free(&p.str);
	expr_free(p.e);
	return NULL;
}

enum expr_type
expr_result_type(const struct expr *e)
{
	return e->root->type;
}

int
expr_is_selector(const struct expr *e)
{
	return e->root->kind == N_SEL && e->root->type == EXPR_VECTOR && e->sels[0].offset == 0;
}

const struct expr_selector *
expr_selectors(const struct expr *e, size_t *n)
{
	*n = e->nsels;
	return e->sels;
}

double
expr_lookback(const struct expr_source *src)
{
	return src->lookback > 0 ? src->lookback : 300;
}

double
expr_reach(const struct expr *e, double lookback)
{
	double reach = 0;

	for (size_t i = 0; i < e->nsels; i++) {
		double r = e->sels[i].offset + (e->sels[i].range > 0 ? e->sels[i].range : lookback);

		if (r > reach)
			reach = r;
	}
	return reach;
}

int
expr_parse_matchers(const char *text, struct expr_matcher **m, size_t *n, char *err,
    size_t errlen)
{
	struct parser p = { 0 };
	struct expr_matcher *list = NULL;
	size_t nm = 0, cap = 0, len = strnlen(text, EXPR_MAX_LEN + 1);

	if (errlen)
		err[0] = '\0';
	p.text = text;
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	p.what = "matchers";
	if (len > EXPR_MAX_LEN) {
		snprintf(err, errlen, "matchers: longer than %d bytes", EXPR_MAX_LEN);
		return -1;
	}
	lex_at(&p, 0, &p.tok);
	if (p.tok.t == T_EOF)
		perr(&p, 0, "no matchers (expected label=\"value\", ...)");
	else if (parse_matcher_list(&p, T_EOF, 0, &list, &nm, &cap) == 0 && !p.failed) {
		buf_free(&p.str);
		*m = list;
		*n = nm;
		return 0;
	}
	buf_free(&p.str);
	matchers_free(list, nm);
	return -1;
}

void
expr_matchers_free(struct expr_matcher *m, size_t n)
{
	matchers_free(m, n);
}

/* ---- canonical text -------------------------------------------------------------------- */

static void
fmt_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '\\': buf_puts(b, "\\\\"); break;
		case '"': buf_puts(b, "\\\""); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\r': buf_puts(b, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(b, "\\x%02x", c);
			else
				buf_putc(b, (char)c);
		}
	}
	buf_putc(b, '"');
}

static void
fmt_duration(struct buf *b, double seconds)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "y", 365LL * 86400000 }, { "w", 7LL * 86400000 }, { "d", 86400000 },
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 }
	};
	int64_t ms = (int64_t)llround(seconds * 1000);

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms >= units[i].ms) {
			buf_printf(b, "%lld%s", (long long)(ms / units[i].ms), units[i].u);
			ms %= units[i].ms;
		}
}

/* Whether a metric name can stand outside braces and read back as a selector. */
static int
plain_name(const char *s)
{
	size_t len = strlen(s);

	if (!util_valid_metric_name(s) || strcasecmp(s, "inf") == 0 || strcasecmp(s, "nan") == 0)
		return 0;
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(s, keywords[i]) == 0)
			return 0;
	for (size_t i = 0; i < NAGGS; i++)
		if (strcmp(s, agg_names[i]) == 0)
			return 0;
	return len > 0;
}

void
expr_format_matchers(const struct expr_matcher *m, size_t n, struct buf *b)
{
	static const char *const ops[] = { "=", "!=", "=~", "!~" };

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_puts(b, ", ");
		buf_puts(b, m[i].name);
		buf_puts(b, ops[m[i].op]);
		fmt_string(b, m[i].value);
	}
}

static void
fmt_selector(struct buf *b, const struct expr_selector *sel)
{
	size_t first = 0, nnames = 0, i;

	for (i = 0; i < sel->nm; i++)
		nnames += strcmp(sel->m[i].name, "__name__") == 0;
	if (nnames == 1 && strcmp(sel->m[0].name, "__name__") == 0 &&
	    sel->m[0].op == EXPR_MATCH_EQ && plain_name(sel->m[0].value)) {
		buf_puts(b, sel->m[0].value);
		first = 1;
	}
	if (first < sel->nm) {
		buf_putc(b, '{');
		expr_format_matchers(sel->m + first, sel->nm - first, b);
		buf_putc(b, '}');
	}
	if (sel->range > 0) {
		buf_putc(b, '[');
		fmt_duration(b, sel->range);
		buf_putc(b, ']');
	}
	if (sel->offset > 0) {
		buf_puts(b, " offset ");
		fmt_duration(b, sel->offset);
	}
}

static void
fmt_labels(struct buf *b, char **lab, size_t n)
{
	buf_puts(b, " (");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, lab[i]);
	}
	buf_putc(b, ')');
}

static void fmt_node(struct buf *b, const struct expr *e, const struct node *n);

/* An operand: parenthesised when it is itself an operation or a signed number. */
static void
fmt_operand(struct buf *b, const struct expr *e, const struct node *n)
{
	char num[40];
	int paren = n->kind == N_BIN || n->kind == N_NEG;

	if (n->kind == N_NUM) {
		util_fmt_double(num, sizeof(num), n->num);
		paren = num[0] == '-' || num[0] == '+';
	}
	if (paren)
		buf_putc(b, '(');
	fmt_node(b, e, n);
	if (paren)
		buf_putc(b, ')');
}

static void
fmt_node(struct buf *b, const struct expr *e, const struct node *n)
{
	char num[40];

	switch (n->kind) {
	case N_NUM:
		buf_puts(b, util_fmt_double(num, sizeof(num), n->num));
		break;
	case N_SEL:
		fmt_selector(b, &e->sels[n->sel]);
		break;
	case N_CALL:
		buf_puts(b, funcs[n->fn].name);
		buf_putc(b, '(');
		for (size_t i = 0; i < n->na; i++) {
			if (i)
				buf_puts(b, ", ");
			fmt_node(b, e, n->a[i]);
		}
		buf_putc(b, ')');
		break;
	case N_AGG:
		buf_puts(b, agg_names[n->fn]);
		if (n->grouped) {
			buf_puts(b, n->without ? " without" : " by");
			fmt_labels(b, n->lab, n->nlab);
			buf_putc(b, ' ');
		}
		buf_putc(b, '(');
		fmt_node(b, e, n->a[0]);
		buf_putc(b, ')');
		break;
	case N_BIN:
		fmt_operand(b, e, n->a[0]);
		buf_printf(b, " %s ", op_names[n->fn]);
		if (n->ret_bool)
			buf_puts(b, "bool ");
		if (n->grouped) {
			buf_puts(b, n->on ? "on" : "ignoring");
			fmt_labels(b, n->lab, n->nlab);
			buf_putc(b, ' ');
		}
		fmt_operand(b, e, n->a[1]);
		break;
	case N_NEG:
		/* "--x", not "-(-x)": the canonical text must not nest deeper than the tree */
		buf_putc(b, '-');
		if (n->a[0]->kind == N_NEG)
			fmt_node(b, e, n->a[0]);
		else
			fmt_operand(b, e, n->a[0]);
		break;
	}
}

char *
expr_format(const struct expr *e)
{
	struct buf b = { 0 };

	fmt_node(&b, e, e->root);
	return buf_steal(&b);
}

/* ---- evaluation: values and helpers ---------------------------------------------------- */

struct ev {
	const struct expr *e;
	const struct expr_source *src;
	double t;
	double lookback;
	char *err;
	size_t errlen;
};

static int everr(struct ev *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
everr(struct ev *ev, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ev->errlen == 0)
		return -1;
	n = snprintf(ev->err, ev->errlen, "expr: ");
	if (n >= 0 && (size_t)n < ev->errlen) {
		va_start(ap, fmt);
		vsnprintf(ev->err + n, ev->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void
add_sample(struct expr_value *v, size_t *cap, char *name, struct reeve_label *labels,
    size_t nlabels, double val)
{
	struct expr_sample *s;

	if (v->nsamples == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		v->samples = xreallocarray(v->samples, *cap, sizeof(*v->samples));
	}
	s = &v->samples[v->nsamples++];
	s->name = name;
	s->labels = labels;
	s->nlabels = nlabels;
	s->v = val;
}

static void
sample_clear(struct expr_sample *s)
{
	free(s->name);
	free(s->labels);
	memset(s, 0, sizeof(*s));
}

/* The value of label name in s ("" when missing); "__name__" is the metric name. */
static const char *
label_value(const struct expr_sample *s, const char *name)
{
	if (strcmp(name, "__name__") == 0)
		return s->name ? s->name : "";
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return "";
}

static int
listed(char *const *lab, size_t n, const char *name)
{
	return n > 0 && bsearch(&name, lab, n, sizeof(*lab), cmp_str) != NULL;
}

/*
 * The key of the labels that take part in a match or a grouping: with only set, the
 * labels listed (the name too if "__name__" is listed); otherwise every label not listed,
 * never the name. Labels with empty values count as missing, as in PromQL.
 */
static void
label_key(struct buf *b, const struct expr_sample *s, char *const *lab, size_t nlab, int only)
{
	buf_reset(b);
	buf_append(b, "", 0);
	if (only) {
		for (size_t i = 0; i < nlab; i++) {
			buf_puts(b, lab[i]);
			buf_putc(b, '\0');
			buf_puts(b, label_value(s, lab[i]));
			buf_putc(b, '\0');
		}
		return;
	}
	for (size_t i = 0; i < s->nlabels; i++) {
		if (s->labels[i].value[0] == '\0' || listed(lab, nlab, s->labels[i].name))
			continue;
		buf_puts(b, s->labels[i].name);
		buf_putc(b, '\0');
		buf_puts(b, s->labels[i].value);
		buf_putc(b, '\0');
	}
}

/* New labels (packed) from s: only those listed (only set) or all but those listed. */
static struct reeve_label *
labels_pick(const struct expr_sample *s, char *const *lab, size_t nlab, int only, size_t *n)
{
	struct reeve_label *l = xcalloc(s->nlabels ? s->nlabels : 1, sizeof(*l)), *p;

	*n = 0;
	for (size_t i = 0; i < s->nlabels; i++) {
		if (s->labels[i].value[0] == '\0' || listed(lab, nlab, s->labels[i].name) != only)
			continue;
		l[(*n)++] = s->labels[i];
	}
	p = expr_labels_pack(l, *n);
	free(l);
	return p;
}

struct keyed {
	char *k;
	size_t len;
	size_t idx;
};

static int
cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->k, y->k, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
keyed_free(struct keyed *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(k[i].k);
	free(k);
}

/* Find key b among n sorted keys; returns its index in k or -1. */
static long
keyed_find(const struct keyed *k, size_t n, const struct buf *b)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t m = k[mid].len < b->len ? k[mid].len : b->len;
		int c = memcmp(k[mid].k, b->data, m);

		if (c == 0 && k[mid].len != b->len)
			c = k[mid].len < b->len ? -1 : 1;
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* {a="x", b="y"} of a sample, for messages. */
static void
fmt_labelset(struct buf *b, const struct expr_sample *s)
{
	if (s->name)
		buf_puts(b, s->name);
	buf_putc(b, '{');
	for (size_t i = 0; i < s->nlabels; i++) {
		if (i)
			buf_puts(b, ", ");
		buf_puts(b, s->labels[i].name);
		buf_putc(b, '=');
		fmt_string(b, s->labels[i].value);
	}
	buf_putc(b, '}');
}

/*
 * PromQL refuses a vector in which two elements have the same name and labels (after an
 * operation dropped the names of series that differed only by name).
 */
static int
check_unique(struct ev *ev, const struct expr_value *v, const char *what)
{
	struct keyed *k;
	struct buf b = { 0 };
	int rc = 0;

	if (v->nsamples < 2)
		return 0;
	k = xcalloc(v->nsamples, sizeof(*k));
	for (size_t i = 0; i < v->nsamples; i++) {
		label_key(&b, &v->samples[i], NULL, 0, 0);
		buf_puts(&b, v->samples[i].name ? v->samples[i].name : "");
		k[i].len = b.len;
		k[i].k = buf_steal(&b);
		k[i].idx = i;
	}
	qsort(k, v->nsamples, sizeof(*k), cmp_keyed);
	for (size_t i = 1; i < v->nsamples; i++)
		if (k[i].len == k[i - 1].len && memcmp(k[i].k, k[i - 1].k, k[i].len) == 0) {
			buf_reset(&b);
			fmt_labelset(&b, &v->samples[k[i].idx]);
			rc = everr(ev, "%s gives several series with the same labels %s (their metric "
			    "names were dropped)", what, b.data);
			break;
		}
	keyed_free(k, v->nsamples);
	buf_free(&b);
	return rc;
}

/* Kahan-Neumaier summation step, as Prometheus sums. */
static void
kahan_inc(double inc, double *sum, double *c)
{
	double t = *sum + inc;

	if (isinf(t))
		*c = 0;
	else if (fabs(*sum) >= fabs(inc))
		*c += (*sum - t) + inc;
	else
		*c += (inc - t) + *sum;
	*sum = t;
}

/*
 * The mean as Prometheus computes avg and avg_over_time: a compensated sum divided by the
 * count, switching to an incremental mean when the sum overflows.
 */
static double
mean_of(const double *v, size_t n)
{
	double sum = 0, c = 0, mean = 0, count = 0;
	int incremental = 0;

	for (size_t i = 0; i < n; i++) {
		count++;
		if (!incremental) {
			double ns = sum, nc = c;

			kahan_inc(v[i], &ns, &nc);
			if (count == 1 || !isinf(ns)) {
				sum = ns;
				c = nc;
				continue;
			}
			incremental = 1;
			mean = sum / (count - 1);
			c /= count - 1;
		}
		if (isinf(mean)) {
			if (isinf(v[i]) && (mean > 0) == (v[i] > 0))
				continue;
			if (!isinf(v[i]) && !isnan(v[i]))
				continue;
		}
		kahan_inc(v[i] / count - (mean + c) / count, &mean, &c);
	}
	if (incremental)
		return mean + c;
	return (sum + c) / count;
}

static double
sum_of(const double *v, size_t n)
{
	double sum = 0, c = 0;

	for (size_t i = 0; i < n; i++)
		kahan_inc(v[i], &sum, &c);
	return sum + c;
}

/* Go's math.Max and math.Min, which PromQL's clamp_min and clamp_max use: NaN wins. */
static double
go_max(double x, double y)
{
	if (isinf(x) && x > 0)
		return x;
	if (isinf(y) && y > 0)
		return y;
	if (isnan(x) || isnan(y))
		return NAN;
	if (x == 0 && x == y)
		return signbit(x) ? y : x;
	return x > y ? x : y;
}

static double
go_min(double x, double y)
{
	if (isinf(x) && x < 0)
		return x;
	if (isinf(y) && y < 0)
		return y;
	if (isnan(x) || isnan(y))
		return NAN;
	if (x == 0 && x == y)
		return signbit(x) ? x : y;
	return x < y ? x : y;
}

/* ---- evaluation: selectors ------------------------------------------------------------- */

/* Tell the source's observer, if any, about the series a selector read with points. */
static void
seen(struct ev *ev, const struct expr_series *s, size_t n)
{
	if (ev->src->seen != NULL)
		for (size_t i = 0; i < n; i++)
			if (s[i].n > 0)
				ev->src->seen(ev->src->seen_arg, &s[i]);
}

static int
fetch(struct ev *ev, const struct expr_selector *sel, double start, double end, int latest,
    struct expr_series **s, size_t *n)
{
	char msg[256];

	*s = NULL;
	*n = 0;
	msg[0] = '\0';
	if (ev->src->select(ev->src->arg, sel->m, sel->nm, start, end, latest, s, n, msg,
	    sizeof(msg)) == -1) {
		*s = NULL;
		*n = 0;
		return everr(ev, "reading series: %s", msg[0] ? msg : "the data source failed");
	}
	seen(ev, *s, *n);
	return 0;
}

/* Steal the name and labels of a series into a sample of v. */
static void
add_from_series(struct expr_value *v, size_t *cap, struct expr_series *s, int keep_name,
    double val)
{
	add_sample(v, cap, keep_name ? s->name : NULL, s->labels, s->nlabels, val);
	if (keep_name)
		s->name = NULL;
	s->labels = NULL;
	s->nlabels = 0;
}

/* An instant selector: each series' latest point in (t - offset - lookback, t - offset]. */
static int
eval_instant(struct ev *ev, const struct expr_selector *sel, struct expr_value *out)
{
	struct expr_series *s;
	size_t n, cap = 0;
	double end = ev->t - sel->offset, start = end - ev->lookback;

	out->type = EXPR_VECTOR;
	if (fetch(ev, sel, start, end, 1, &s, &n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t hi = s[i].n;
		long j;

		while (hi > 0 && s[i].ts[hi - 1] > end)
			hi--;
		if ((j = expr_instant_index(&s[i], hi, end, ev->lookback)) >= 0)
			add_from_series(out, &cap, &s[i], 1, s[i].v[j]);
	}
	expr_series_free(s, n);
	return 0;
}

long
expr_instant_index(const struct expr_series *s, size_t hi, double end, double lookback)
{
	/* gone: no value after its staleness, however recent the last */
	if (s->stale_at > 0 && end >= s->stale_at)
		return -1;
	return hi > 0 && s->ts[hi - 1] > end - lookback ? (long)hi - 1 : -1;
}

/* The points of s in (start, end]: [*lo, *hi). */
static void
window(const struct expr_series *s, double start, double end, size_t *lo, size_t *hi)
{
	size_t i = 0, j;

	while (i < s->n && s->ts[i] <= start)
		i++;
	j = i;
	while (j < s->n && s->ts[j] <= end)
		j++;
	*lo = i;
	*hi = j;
}

/* A range selector as the answer itself: the series with their points in the range. */
static int
eval_matrix(struct ev *ev, const struct expr_selector *sel, struct expr_value *out)
{
	struct expr_series *s;
	size_t n, kept = 0;
	double end = ev->t - sel->offset, start = end - sel->range;

	out->type = EXPR_MATRIX;
	if (fetch(ev, sel, start, end, 0, &s, &n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t lo, hi;

		window(&s[i], start, end, &lo, &hi);
		if (hi == lo) {
			free(s[i].name);
			free(s[i].labels);
			free(s[i].ts);
			free(s[i].v);
			continue;
		}
		memmove(s[i].ts, s[i].ts + lo, (hi - lo) * sizeof(double));
		memmove(s[i].v, s[i].v + lo, (hi - lo) * sizeof(double));
		s[i].n = hi - lo;
		if (kept != i)
			s[kept] = s[i];
		kept++;
	}
	if (kept == 0) {
		free(s);
		s = NULL;
	}
	out->series = s;
	out->nseries = kept;
	return 0;
}

/* ---- evaluation: functions ------------------------------------------------------------- */

/*
 * Prometheus's extrapolatedRate (rate, increase, delta) over the points of one series in
 * (start, end]: the difference between the last and the first point (for counters plus
 * every value lost at a reset), extrapolated towards each end of the range when the
 * points come within 1.1 average intervals of it (otherwise by half an interval), and for
 * counters not beyond the time the counter would have been zero. Returns 0, or -1 with
 * fewer than two points (no result).
 */
static int
extrapolated_rate(const double *ts, const double *v, size_t n, double start, double end,
    double range, int counter, int is_rate, double *out)
{
	double result, to_start, to_end, sampled, avg, threshold, interval;

	if (n < 2)
		return -1;
	result = v[n - 1] - v[0];
	if (counter) {
		double last = 0;

		for (size_t i = 0; i < n; i++) {
			if (v[i] < last)
				result += last;
			last = v[i];
		}
	}
	to_start = ts[0] - start;
	to_end = end - ts[n - 1];
	sampled = ts[n - 1] - ts[0];
	avg = sampled / (double)(n - 1);
	if (counter && result > 0 && v[0] >= 0) {
		double to_zero = sampled * (v[0] / result);

		if (to_zero < to_start)
			to_start = to_zero;
	}
	threshold = avg * 1.1;
	interval = sampled;
	interval += to_start < threshold ? to_start : avg / 2;
	interval += to_end < threshold ? to_end : avg / 2;
	result = result * (interval / sampled);
	if (is_rate)
		result /= range;
	*out = result;
	return 0;
}

/* Least squares over (ts - x0, v), as Prometheus's linearRegression. */
static void
linear_regression(const double *ts, const double *v, size_t n, double x0, double *slope,
    double *intercept)
{
	double sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0, cov, var;
	int consty = 1;

	for (size_t i = 0; i < n; i++) {
		double x = ts[i] - x0;

		if (consty && i > 0 && v[i] != v[0])
			consty = 0;
		kahan_inc(x, &sx, &cx);
		kahan_inc(v[i], &sy, &cy);
		kahan_inc(x * v[i], &sxy, &cxy);
		kahan_inc(x * x, &sx2, &cx2);
	}
	if (consty) {
		if (isinf(v[0])) {
			*slope = *intercept = NAN;
			return;
		}
		*slope = 0;
		*intercept = v[0];
		return;
	}
	sx += cx;
	sy += cy;
	sxy += cxy;
	sx2 += cx2;
	cov = sxy - sx * sy / (double)n;
	var = sx2 - sx * sx / (double)n;
	*slope = cov / var;
	*intercept = sy / (double)n - *slope * sx / (double)n;
}

static int
cmp_nan_first(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	if (isnan(x))
		return isnan(y) ? 0 : -1;
	if (isnan(y))
		return 1;
	return x < y ? -1 : x > y;
}

/* Prometheus's quantile: linear interpolation between the closest ranks. */
static double
quantile_of(double q, const double *v, size_t n)
{
	double *s, rank, lo, hi, w, r;

	if (n == 0 || isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	s = xmalloc(n * sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_nan_first);
	rank = q * (double)(n - 1);
	lo = fmax(0, floor(rank));
	hi = fmin((double)(n - 1), lo + 1);
	w = rank - floor(rank);
	r = s[(size_t)lo] * (1 - w) + s[(size_t)hi] * w;
	free(s);
	return r;
}

/* One range function over the points of one series; returns 0 with *out or -1 (none). */
static int
range_value(int fn, const double *ts, const double *v, size_t n, double start, double end,
    double range, double t, double arg, double *out)
{
	double slope, icpt, r;
	size_t k;

	if (n == 0)
		return -1;
	switch (fn) {
	case F_RATE:
		return extrapolated_rate(ts, v, n, start, end, range, 1, 1, out);
	case F_INCREASE:
		return extrapolated_rate(ts, v, n, start, end, range, 1, 0, out);
	case F_DELTA:
		return extrapolated_rate(ts, v, n, start, end, range, 0, 0, out);
	case F_IRATE:
		if (n < 2 || ts[n - 1] - ts[n - 2] <= 0)
			return -1;
		r = v[n - 1] < v[n - 2] ? v[n - 1] : v[n - 1] - v[n - 2];
		*out = r / (ts[n - 1] - ts[n - 2]);
		return 0;
	case F_DERIV:
		if (n < 2)
			return -1;
		linear_regression(ts, v, n, ts[0], &slope, &icpt);
		*out = slope;
		return 0;
	case F_PREDICT_LINEAR:
		if (n < 2)
			return -1;
		linear_regression(ts, v, n, t, &slope, &icpt);
		*out = slope * arg + icpt;
		return 0;
	case F_AVG_OT:
		*out = mean_of(v, n);
		return 0;
	case F_MIN_OT:
	case F_MAX_OT:
		r = v[0];
		for (k = 1; k < n; k++)
			if ((fn == F_MIN_OT ? r > v[k] : r < v[k]) || isnan(r))
				r = v[k];
		*out = r;
		return 0;
	case F_SUM_OT:
		*out = sum_of(v, n);
		return 0;
	case F_COUNT_OT:
		*out = (double)n;
		return 0;
	case F_QUANTILE_OT:
		*out = quantile_of(arg, v, n);
		return 0;
	case F_LAST_OT:
		*out = v[n - 1];
		return 0;
	case F_CHANGES:
	case F_RESETS:
		r = 0;
		for (k = 1; k < n; k++) {
			if (fn == F_RESETS)
				r += v[k] < v[k - 1];
			else
				r += v[k] != v[k - 1] && !(isnan(v[k]) && isnan(v[k - 1]));
		}
		*out = r;
		return 0;
	default:
		return -1;
	}
}

/*
 * The labels absent() gives: those of the selector's equality matchers, except labels
 * matched more than once or by another operator (their value is not known).
 */
static void
absent_sample(const struct node *arg, const struct expr *e, struct expr_value *out, size_t *cap)
{
	struct reeve_label *l = NULL;
	size_t nl = 0;

	if (arg->kind == N_SEL) {
		const struct expr_selector *sel = &e->sels[arg->sel];

		/* borrowed from the selector until packed below */
		l = xcalloc(sel->nm ? sel->nm : 1, sizeof(*l));
		for (size_t i = 0; i < sel->nm; i++) {
			const struct expr_matcher *m = &sel->m[i];
			int known = m->op == EXPR_MATCH_EQ && m->value[0] != '\0';

			if (strcmp(m->name, "__name__") == 0)
				continue;
			for (size_t j = 0; j < sel->nm; j++)
				if (j != i && strcmp(sel->m[j].name, m->name) == 0)
					known = 0;
			if (!known)
				continue;
			l[nl].name = m->name;
			l[nl].value = m->value;
			nl++;
		}
		for (size_t i = 1; i < nl; i++)
			for (size_t j = i; j > 0 && strcmp(l[j - 1].name, l[j].name) > 0; j--) {
				struct reeve_label tmp = l[j];

				l[j] = l[j - 1];
				l[j - 1] = tmp;
			}
	}
	add_sample(out, cap, NULL, expr_labels_pack(l, nl), nl, 1);
	free(l);
}

static int eval(struct ev *ev, const struct node *n, struct expr_value *out);

static int
eval_scalar_arg(struct ev *ev, const struct node *n, double *v)
{
	struct expr_value a;

	if (eval(ev, n, &a) == -1)
		return -1;
	*v = a.scalar;
	expr_value_free(&a);
	return 0;
}

/* A function over a range selector: one result per series with points in the range. */
static int
eval_range_call(struct ev *ev, const struct node *n, struct expr_value *out)
{
	const struct node *m = n->a[0];
	const struct expr_selector *sel;
	struct expr_series *s;
	size_t ns, cap = 0;
	double arg = 0, start, end;
	int any = 0;

	out->type = EXPR_VECTOR;
	if (n->fn == F_QUANTILE_OT) {
		m = n->a[1];
		if (eval_scalar_arg(ev, n->a[0], &arg) == -1)
			return -1;
	} else if (n->fn == F_PREDICT_LINEAR) {
		if (eval_scalar_arg(ev, n->a[1], &arg) == -1)
			return -1;
	}
	sel = &ev->e->sels[m->sel];
	end = ev->t - sel->offset;
	start = end - sel->range;
	if (fetch(ev, sel, start, end, 0, &s, &ns) == -1)
		return -1;
	for (size_t i = 0; i < ns; i++) {
		size_t lo, hi;
		double v;

		window(&s[i], start, end, &lo, &hi);
		any |= hi > lo;
		if (n->fn == F_ABSENT_OT)
			continue;
		if (range_value(n->fn, s[i].ts + lo, s[i].v + lo, hi - lo, start, end, sel->range,
		    ev->t, arg, &v) == 0)
			add_from_series(out, &cap, &s[i], n->fn == F_LAST_OT, v);
	}
	expr_series_free(s, ns);
	if (n->fn == F_ABSENT_OT) {
		if (!any)
			absent_sample(m, ev->e, out, &cap);
		return 0;
	}
	if (n->fn != F_LAST_OT)
		return check_unique(ev, out, funcs[n->fn].name);
	return 0;
}

static int
eval_hw(struct ev *ev, const struct node *n, struct expr_value *out)
{
	const struct expr_selector *sel = &ev->e->sels[n->a[0]->sel];
	struct expr_series *s = NULL;
	size_t ns = 0, cap = 0;
	char msg[256];
	double t = ev->t - sel->offset;

	out->type = EXPR_VECTOR;
	if (ev->src->hw_failures == NULL)
		return everr(ev, "holt_winters_anomaly: this data source has no Holt-Winters data");
	msg[0] = '\0';
	if (ev->src->hw_failures(ev->src->arg, sel->m, sel->nm, t, &s, &ns, msg, sizeof(msg)) == -1)
		return everr(ev, "holt_winters_anomaly: %s", msg[0] ? msg : "the data source failed");
	seen(ev, s, ns);
	for (size_t i = 0; i < ns; i++) {
		/* the latest point not after t, within the lookback like any instant selector */
		for (size_t j = s[i].n; j-- > 0; ) {
			if (s[i].ts[j] > t)
				continue;
			if (s[i].ts[j] > t - ev->lookback)
				add_from_series(out, &cap, &s[i], 0, s[i].v[j]);
			break;
		}
	}
	expr_series_free(s, ns);
	return check_unique(ev, out, "holt_winters_anomaly");
}

static int
eval_call(struct ev *ev, const struct node *n, struct expr_value *out)
{
	double arg = 0;
	size_t cap;

	switch (n->fn) {
	case F_TIME:
		out->type = EXPR_SCALAR;
		out->scalar = ev->t;
		return 0;
	case F_HW_ANOMALY:
		return eval_hw(ev, n, out);
	case F_ABSENT:
		if (eval(ev, n->a[0], out) == -1)
			return -1;
		if (out->nsamples > 0) {
			expr_value_free(out);
			out->type = EXPR_VECTOR;
			return 0;
		}
		cap = 0;
		absent_sample(n->a[0], ev->e, out, &cap);
		return 0;
	case F_ABS:
	case F_CLAMP_MIN:
	case F_CLAMP_MAX:
		if (n->na > 1 && eval_scalar_arg(ev, n->a[1], &arg) == -1)
			return -1;
		if (eval(ev, n->a[0], out) == -1)
			return -1;
		for (size_t i = 0; i < out->nsamples; i++) {
			struct expr_sample *s = &out->samples[i];

			free(s->name);
			s->name = NULL;
			s->v = n->fn == F_ABS ? fabs(s->v) : n->fn == F_CLAMP_MIN ? go_max(arg, s->v) :
			    go_min(arg, s->v);
		}
		return check_unique(ev, out, funcs[n->fn].name);
	default:
		return eval_range_call(ev, n, out);
	}
}

/* ---- evaluation: aggregation and operators --------------------------------------------- */

static int
eval_agg(struct ev *ev, const struct node *n, struct expr_value *out)
{
	struct expr_value in;
	struct keyed *k;
	struct buf b = { 0 };
	double *vals;
	size_t cap = 0, i, j;

	if (eval(ev, n->a[0], &in) == -1)
		return -1;
	out->type = EXPR_VECTOR;
	if (in.nsamples == 0) {
		expr_value_free(&in);
		return 0;
	}
	k = xcalloc(in.nsamples, sizeof(*k));
	for (i = 0; i < in.nsamples; i++) {
		label_key(&b, &in.samples[i], n->lab, n->nlab, !n->without);
		k[i].len = b.len;
		k[i].k = buf_steal(&b);
		k[i].idx = i;
	}
	qsort(k, in.nsamples, sizeof(*k), cmp_keyed);
	vals = xmalloc(in.nsamples * sizeof(*vals));
	for (i = 0; i < in.nsamples; i = j) {
		const struct expr_sample *first = &in.samples[k[i].idx];
		struct reeve_label *l;
		size_t nl, m = 0;
		double r = 0;
		char *name = NULL;

		for (j = i; j < in.nsamples && k[j].len == k[i].len &&
		    memcmp(k[j].k, k[i].k, k[i].len) == 0; j++)
			vals[m++] = in.samples[k[j].idx].v;
		switch (n->fn) {
		case A_SUM:
			r = sum_of(vals, m);
			break;
		case A_AVG:
			r = mean_of(vals, m);
			break;
		case A_MIN:
		case A_MAX:
			r = vals[0];
			for (size_t x = 1; x < m; x++)
				if ((n->fn == A_MIN ? r > vals[x] : r < vals[x]) || isnan(r))
					r = vals[x];
			break;
		case A_COUNT:
			r = (double)m;
			break;
		}
		l = labels_pick(first, n->lab, n->nlab, !n->without, &nl);
		if (!n->without && first->name && listed(n->lab, n->nlab, "__name__"))
			name = xstrdup(first->name);
		add_sample(out, &cap, name, l, nl, r);
	}
	free(vals);
	keyed_free(k, in.nsamples);
	buf_free(&b);
	expr_value_free(&in);
	return 0;
}

static double
arith(int op, double l, double r)
{
	switch (op) {
	case OP_ADD: return l + r;
	case OP_SUB: return l - r;
	case OP_MUL: return l * r;
	case OP_DIV: return l / r;
	case OP_MOD: return fmod(l, r);
	case OP_POW: return pow(l, r);
	default: return NAN;
	}
}

static int
compare(int op, double l, double r)
{
	switch (op) {
	case OP_EQ: return l == r;
	case OP_NE: return l != r;
	case OP_GT: return l > r;
	case OP_LT: return l < r;
	case OP_GE: return l >= r;
	case OP_LE: return l <= r;
	default: return 0;
	}
}

/* Keys of the samples of v under the node's matching, sorted. */
static struct keyed *
match_keys(const struct node *n, const struct expr_value *v)
{
	struct keyed *k = xcalloc(v->nsamples ? v->nsamples : 1, sizeof(*k));
	struct buf b = { 0 };

	for (size_t i = 0; i < v->nsamples; i++) {
		label_key(&b, &v->samples[i], n->lab, n->nlab, n->grouped && n->on);
		k[i].len = b.len;
		k[i].k = buf_steal(&b);
		k[i].idx = i;
	}
	buf_free(&b);
	qsort(k, v->nsamples, sizeof(*k), cmp_keyed);
	return k;
}

/* and, or, unless: elements of the left side (and for or, the right) kept as they are. */
static int
eval_set(const struct node *n, struct expr_value *l, struct expr_value *r, struct expr_value *out)
{
	struct keyed *kr = match_keys(n, r), *kl = NULL;
	struct buf b = { 0 };
	size_t cap = 0;

	out->type = EXPR_VECTOR;
	for (size_t i = 0; i < l->nsamples; i++) {
		struct expr_sample *s = &l->samples[i];
		int found;

		label_key(&b, s, n->lab, n->nlab, n->grouped && n->on);
		found = keyed_find(kr, r->nsamples, &b) != -1;
		if (n->fn == OP_OR || (n->fn == OP_AND) == found) {
			add_sample(out, &cap, s->name, s->labels, s->nlabels, s->v);
			memset(s, 0, sizeof(*s));
		}
	}
	if (n->fn == OP_OR) {
		/* every left element is in out now: the right ones join unless they match one */
		size_t nl = out->nsamples;

		kl = match_keys(n, out);
		for (size_t i = 0; i < r->nsamples; i++) {
			struct expr_sample *s = &r->samples[i];

			label_key(&b, s, n->lab, n->nlab, n->grouped && n->on);
			if (keyed_find(kl, nl, &b) != -1)
				continue;
			add_sample(out, &cap, s->name, s->labels, s->nlabels, s->v);
			memset(s, 0, sizeof(*s));
		}
		keyed_free(kl, nl);
	}
	keyed_free(kr, r->nsamples);
	buf_free(&b);
	return 0;
}

/* Vector op vector, one-to-one: each left element with the one right element it matches. */
static int
eval_vv(struct ev *ev, const struct node *n, struct expr_value *l, struct expr_value *r,
    struct expr_value *out)
{
	struct keyed *kr = match_keys(n, r), *kl;
	struct buf b = { 0 };
	size_t cap = 0, nmatched = 0;
	int rc = 0, drop = !is_cmp(n->fn) || n->ret_bool;

	out->type = EXPR_VECTOR;
	for (size_t i = 1; i < r->nsamples; i++)
		if (kr[i].len == kr[i - 1].len && memcmp(kr[i].k, kr[i - 1].k, kr[i].len) == 0) {
			fmt_labelset(&b, &r->samples[kr[i].idx]);
			rc = everr(ev, "several series on the right side of \"%s\" match the same "
			    "labels (%s): matching must be one-to-one; use on (...) or ignoring (...)",
			    op_names[n->fn], b.data);
			goto out;
		}
	kl = xcalloc(l->nsamples ? l->nsamples : 1, sizeof(*kl));
	for (size_t i = 0; i < l->nsamples; i++) {
		struct expr_sample *s = &l->samples[i];
		struct reeve_label *lab;
		size_t nlab;
		long j;
		double v;
		char *name = NULL;

		label_key(&b, s, n->lab, n->nlab, n->grouped && n->on);
		if ((j = keyed_find(kr, r->nsamples, &b)) == -1)
			continue;
		v = s->v;
		if (is_cmp(n->fn)) {
			int keep = compare(n->fn, s->v, r->samples[kr[j].idx].v);

			if (n->ret_bool)
				v = keep;
			else if (!keep)
				continue;
		} else {
			v = arith(n->fn, s->v, r->samples[kr[j].idx].v);
		}
		/* as in PromQL, only elements that make it into the result must be unique */
		kl[nmatched].len = b.len;
		kl[nmatched].k = xmalloc(b.len ? b.len : 1);
		memcpy(kl[nmatched].k, b.data, b.len);
		kl[nmatched].idx = i;
		nmatched++;
		if (n->grouped && n->on)
			lab = labels_pick(s, n->lab, n->nlab, 1, &nlab);
		else
			lab = labels_pick(s, n->lab, n->nlab, 0, &nlab);
		if (!drop && s->name && (n->grouped && n->on ? listed(n->lab, n->nlab, "__name__") :
		    !listed(n->lab, n->nlab, "__name__")))
			name = xstrdup(s->name);
		add_sample(out, &cap, name, lab, nlab, v);
	}
	qsort(kl, nmatched, sizeof(*kl), cmp_keyed);
	for (size_t i = 1; i < nmatched && rc == 0; i++)
		if (kl[i].len == kl[i - 1].len && memcmp(kl[i].k, kl[i - 1].k, kl[i].len) == 0) {
			buf_reset(&b);
			fmt_labelset(&b, &l->samples[kl[i].idx]);
			rc = everr(ev, "several series on the left side of \"%s\" match the same "
			    "labels (%s): matching must be one-to-one; use on (...) or ignoring (...)",
			    op_names[n->fn], b.data);
		}
	keyed_free(kl, nmatched);
	if (rc == 0)
		rc = check_unique(ev, out, op_names[n->fn]);
out:
	keyed_free(kr, r->nsamples);
	buf_free(&b);
	return rc;
}

static int
eval_bin(struct ev *ev, const struct node *n, struct expr_value *out)
{
	struct expr_value l, r, *vec;
	double sc;
	int swap, rc = 0, drop = !is_cmp(n->fn) || n->ret_bool;
	size_t kept = 0;

	if (eval(ev, n->a[0], &l) == -1)
		return -1;
	if (eval(ev, n->a[1], &r) == -1) {
		expr_value_free(&l);
		return -1;
	}
	if (l.type == EXPR_SCALAR && r.type == EXPR_SCALAR) {
		out->type = EXPR_SCALAR;
		out->scalar = is_cmp(n->fn) ? compare(n->fn, l.scalar, r.scalar) :
		    arith(n->fn, l.scalar, r.scalar);
		return 0;
	}
	if (l.type == EXPR_VECTOR && r.type == EXPR_VECTOR) {
		if (is_set(n->fn))
			rc = eval_set(n, &l, &r, out);
		else
			rc = eval_vv(ev, n, &l, &r, out);
		expr_value_free(&l);
		expr_value_free(&r);
		return rc;
	}
	/* vector and scalar: the vector's elements keep their labels */
	swap = l.type == EXPR_SCALAR;
	vec = swap ? &r : &l;
	sc = swap ? l.scalar : r.scalar;
	for (size_t i = 0; i < vec->nsamples; i++) {
		struct expr_sample *s = &vec->samples[i];
		double lv = swap ? sc : s->v, rv = swap ? s->v : sc, v = s->v;

		if (is_cmp(n->fn)) {
			int keep = compare(n->fn, lv, rv);

			if (n->ret_bool) {
				v = keep;
			} else if (!keep) {
				sample_clear(s);
				continue;
			}
		} else {
			v = arith(n->fn, lv, rv);
		}
		if (drop) {
			free(s->name);
			s->name = NULL;
		}
		s->v = v;
		vec->samples[kept++] = *s;
	}
	vec->nsamples = kept;
	*out = *vec;
	memset(vec, 0, sizeof(*vec));
	expr_value_free(&l);
	expr_value_free(&r);
	if (drop)
		return check_unique(ev, out, op_names[n->fn]);
	return 0;
}

static int
eval(struct ev *ev, const struct node *n, struct expr_value *out)
{
	const struct expr_selector *sel;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	switch (n->kind) {
	case N_NUM:
		out->type = EXPR_SCALAR;
		out->scalar = n->num;
		break;
	case N_SEL:
		sel = &ev->e->sels[n->sel];
		rc = sel->range > 0 ? eval_matrix(ev, sel, out) : eval_instant(ev, sel, out);
		break;
	case N_CALL:
		rc = eval_call(ev, n, out);
		break;
	case N_AGG:
		rc = eval_agg(ev, n, out);
		break;
	case N_BIN:
		rc = eval_bin(ev, n, out);
		break;
	case N_NEG:
		if ((rc = eval(ev, n->a[0], out)) == -1)
			break;
		out->scalar = -out->scalar;
		for (size_t i = 0; i < out->nsamples; i++) {
			free(out->samples[i].name);
			out->samples[i].name = NULL;
			out->samples[i].v = -out->samples[i].v;
		}
		if (out->type == EXPR_VECTOR)
			rc = check_unique(ev, out, "unary minus");
		break;
	}
	if (rc == -1)
		expr_value_free(out);
	return rc;
}

int
expr_eval(const struct expr *e, const struct expr_source *src, double t,
    struct expr_value *out, char *err, size_t errlen)
{
	struct ev ev = { 0 };

	if (errlen)
		err[0] = '\0';
	ev.e = e;
	ev.src = src;
	ev.t = t;
	ev.lookback = expr_lookback(src);
	ev.err = err;
	ev.errlen = errlen;
	return eval(&ev, e->root, out);
}
