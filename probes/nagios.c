/* nagios.c: parsing the output of a Nagios plugin: status text and performance data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nagios.h"

#define NUMBER_MAX 64	/* bytes of a number we hand to strtod */
#define SNIPPET 48	/* bytes of an item quoted in an error message */

/* A part [s, e) of the text. */
struct span {
	const char *s;
	const char *e;
};

/*
 * A unit of measurement the guidelines define (plus the binary byte prefixes): the value
 * in the base unit is value * mult / div (a division keeps 250us exactly 250e-6).
 */
static const struct {
	const char *uom;
	enum nagios_unit unit;
	double mult;
	double div;
} uoms[] = {
	{ "s", NAGIOS_UNIT_SECONDS, 1, 1 },
	{ "ms", NAGIOS_UNIT_SECONDS, 1, 1e3 },
	{ "us", NAGIOS_UNIT_SECONDS, 1, 1e6 },
	{ "%", NAGIOS_UNIT_RATIO, 1, 100 },
	{ "B", NAGIOS_UNIT_BYTES, 1, 1 },
	{ "KB", NAGIOS_UNIT_BYTES, 1024.0, 1 },
	{ "MB", NAGIOS_UNIT_BYTES, 1024.0 * 1024, 1 },
	{ "GB", NAGIOS_UNIT_BYTES, 1024.0 * 1024 * 1024, 1 },
	{ "TB", NAGIOS_UNIT_BYTES, 1024.0 * 1024 * 1024 * 1024, 1 },
	{ "KiB", NAGIOS_UNIT_BYTES, 1024.0, 1 },
	{ "MiB", NAGIOS_UNIT_BYTES, 1024.0 * 1024, 1 },
	{ "GiB", NAGIOS_UNIT_BYTES, 1024.0 * 1024 * 1024, 1 },
	{ "TiB", NAGIOS_UNIT_BYTES, 1024.0 * 1024 * 1024 * 1024, 1 },
	{ "c", NAGIOS_UNIT_COUNTER, 1, 1 },
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A decimal number at the start of [s, e): [+-]digits[.digits][e[+-]digits] (or .digits).
 * Returns the end of it and the value in *v, or NULL when there is none or it is out of
 * range. No inf, nan or hexadecimal, whatever strtod would take.
 */
static const char *
parse_number(const char *s, const char *e, double *v)
{
	char buf[NUMBER_MAX];
	const char *p = s;
	size_t ndig = 0;
	char *end;

	if (p < e && (*p == '-' || *p == '+'))
		p++;
	for (; p < e && is_digit(*p); p++)
		ndig++;
	if (p < e && *p == '.')
		for (p++; p < e && is_digit(*p); p++)
			ndig++;
	if (ndig == 0)
		return NULL;
	if (p < e && (*p == 'e' || *p == 'E')) {
		const char *q = p + 1;

		if (q < e && (*q == '-' || *q == '+'))
			q++;
		if (q < e && is_digit(*q)) {
			while (q < e && is_digit(*q))
				q++;
			p = q;
		}
	}
	if ((size_t)(p - s) >= sizeof(buf))
		return NULL;
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	*v = strtod(buf, &end);
	if (*end != '\0' || !isfinite(*v))
		return NULL;
	return p;
}

/* The whole of [s, e) is a number; *v gets it. */
static int
whole_number(const char *s, const char *e, double *v)
{
	return parse_number(s, e, v) == e ? 0 : -1;
}

/* A Nagios threshold range: [@][start:][end], start a number or ~, both may be empty. */
static int
valid_range(const char *s, const char *e)
{
	const char *colon;
	double v;

	if (s < e && *s == '@')
		s++;
	if (s == e)
		return 0;
	if ((colon = memchr(s, ':', (size_t)(e - s))) == NULL)
		return whole_number(s, e, &v);
	if (colon > s && !(colon - s == 1 && *s == '~') && whole_number(s, colon, &v) == -1)
		return -1;
	return colon + 1 == e || whole_number(colon + 1, e, &v) == 0 ? 0 : -1;
}

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no controls. */
static int
valid_label(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned cp;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return -1;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return -1;
		if (len - i <= n)
			return -1;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		if (cp >= 0x80 && cp < 0xa0)
			return -1;	/* C1 controls */
		i += n + 1;
	}
	return 0;
}

/* Record why an item was skipped (the first reason only) and count it. */
static void
bad_item(struct nagios_output *out, size_t item, const char *snippet, const char *why)
{
	if (out->nbad++ == 0)
		snprintf(out->bad, sizeof(out->bad), "perfdata item %zu ('%s'): %s", item, snippet,
		    why);
}

/* A printable copy of the start of an item (to white space outside quotes), for messages. */
static void
make_snippet(char *dst, size_t dstlen, const char *s, const char *e)
{
	size_t i, n = (size_t)(e - s);
	int cut = 0, quoted = 0;

	if (n > dstlen - 4) {
		n = dstlen - 4;
		cut = 1;
	}
	for (i = 0; i < n && (quoted || !is_space(s[i])); i++) {
		if (s[i] == '\'')
			quoted = !quoted;
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	}
	if (i == n && cut) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

/*
 * Parse the value field and its thresholds: fields[0..nf) are the ';'-separated parts
 * after '='. Returns NULL and fills *pf, or the reason the item is malformed. *skip is set
 * for an undetermined value (U).
 */
static const char *
parse_fields(const struct span *fields, size_t nf, struct nagios_perf *pf, int *skip)
{
	const char *p, *uom, *uend;
	double mult = 1, div = 1, v;
	size_t i, ulen;

	*skip = 0;
	if (nf > 5)
		return "more than 5 ';'-separated fields";
	p = fields[0].s;
	uend = fields[0].e;
	if (uend - p == 1 && *p == 'U') {
		*skip = 1;
		return NULL;
	}
	if ((uom = parse_number(p, uend, &pf->value)) == NULL)
		return p == uend ? "no value" : "the value is not a number";
	ulen = (size_t)(uend - uom);
	if (ulen > 0 && (is_digit(*uom) || *uom == '.' || *uom == '+' || *uom == '-'))
		return "the value is not a number";	/* 1.2.3, 1-2 */
	pf->unit = NAGIOS_UNIT_NONE;
	for (i = 0; i < sizeof(uoms) / sizeof(uoms[0]); i++)
		if (strlen(uoms[i].uom) == ulen && memcmp(uoms[i].uom, uom, ulen) == 0) {
			pf->unit = uoms[i].unit;
			mult = uoms[i].mult;
			div = uoms[i].div;
			break;
		}
	for (i = 0; i < ulen; i++)
		if ((unsigned char)uom[i] < 0x20 || uom[i] == 0x7f || uom[i] == '\'' ||
		    uom[i] == '=')
			return "the unit of measurement holds a control character, ' or =";
	if (pf->unit == NAGIOS_UNIT_COUNTER && pf->value < 0)
		return "a counter (c) is negative";
	pf->value = pf->value * mult / div;
	pf->has_warn = pf->has_crit = 0;
	for (i = 1; i < nf; i++) {
		const char *s = fields[i].s, *e = fields[i].e;

		if (s == e)
			continue;
		if (i <= 2) {
			if (whole_number(s, e, &v) == 0) {
				if (i == 1) {
					pf->warn = v * mult / div;
					pf->has_warn = 1;
				} else {
					pf->crit = v * mult / div;
					pf->has_crit = 1;
				}
			} else if (valid_range(s, e) == -1)
				return i == 1 ? "the warning threshold is neither a number nor a range" :
				    "the critical threshold is neither a number nor a range";
			continue;
		}
		/* min and max: a number, possibly followed by the value's unit */
		if ((p = parse_number(s, e, &v)) == NULL ||
		    (p != e && ((size_t)(e - p) != ulen || memcmp(p, uom, ulen) != 0)))
			return i == 3 ? "the minimum is not a number" : "the maximum is not a number";
	}
	if (!isfinite(pf->value) || (pf->has_warn && !isfinite(pf->warn)) ||
	    (pf->has_crit && !isfinite(pf->crit)))
		return "a number is out of range";
	return NULL;
}

/* Parse the perfdata items of [p, e) (one line, or the part of one after '|'). */
static void
parse_perf(char *p, char *e, struct nagios_output *out, size_t *item)
{
	char snippet[SNIPPET];
	struct span fields[6];
	const char *why;
	struct nagios_perf pf;
	char *label, *w, *v;
	size_t nf, i;
	int skip;

	for (;;) {
		while (p < e && is_space(*p))
			p++;
		if (p == e)
			return;
		(*item)++;
		make_snippet(snippet, sizeof(snippet), p, e);
		why = NULL;
		label = w = p;
		if (*p == '\'') {
			label = w = ++p;
			for (;;) {
				if (p == e) {
					bad_item(out, *item, snippet, "unterminated quote in the label");
					return;
				}
				if (*p == '\'' && p + 1 < e && p[1] == '\'') {
					*w++ = '\'';
					p += 2;
				} else if (*p == '\'') {
					p++;
					break;
				} else
					*w++ = *p++;
			}
			if (p == e || *p != '=')
				why = "no '=' right after the quoted label";
		} else {
			while (p < e && *p != '=' && !is_space(*p))
				p++;
			w = p;
			if (p == e || *p != '=')
				why = "no '=' (expected 'label'=value[UOM];warn;crit;min;max)";
		}
		if (why == NULL && w == label)
			why = "empty label";
		else if (why == NULL && (size_t)(w - label) > NAGIOS_LABEL_MAX)
			why = "label longer than 128 bytes";
		else if (why == NULL && valid_label((const unsigned char *)label,
		    (size_t)(w - label)) == -1)
			why = "label is not UTF-8 text (or holds a control character)";
		if (why != NULL) {
			while (p < e && !is_space(*p))
				p++;
			bad_item(out, *item, snippet, why);
			continue;
		}
		/* p is at '=': the value runs to the next white space */
		v = ++p;
		while (p < e && !is_space(*p))
			p++;
		nf = 0;
		fields[0].s = v;
		for (const char *q = v; ; q++) {
			if (q == p || *q == ';') {
				fields[nf].e = q;
				if (++nf == 6 || q == p)
					break;
				fields[nf].s = q + 1;
			}
		}
		memset(&pf, 0, sizeof(pf));
		if ((why = parse_fields(fields, nf, &pf, &skip)) != NULL) {
			bad_item(out, *item, snippet, why);
			continue;
		}
		if (skip)
			continue;
		*w = '\0';	/* on the '=' or the closing quote: both are behind p */
		pf.label = label;
		for (i = 0; i < out->nperf; i++)
			if (strcmp(out->perf[i].label, label) == 0)
				break;
		if (i < out->nperf) {
			bad_item(out, *item, snippet, "the label appeared before");
			continue;
		}
		if (out->nperf == NAGIOS_PERF_MAX) {
			bad_item(out, *item, snippet, "more than 1000 perfdata items");
			continue;
		}
		if (out->nperf == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 16;
			if ((out->perf = realloc(out->perf, out->cap * sizeof(*out->perf))) == NULL)
				abort();
		}
		out->perf[out->nperf++] = pf;
	}
}

/* nagios_parse: see nagios.h. */
void
nagios_parse(const char *text, size_t len, struct nagios_output *out)
{
	char *p, *end, *eol, *bar, *s = NULL, *t = NULL;
	size_t item = 0;
	int in_perf = 0, first = 1;

	memset(out, 0, sizeof(*out));
	if ((out->text = malloc(len + 1)) == NULL)
		abort();
	memcpy(out->text, text, len);
	out->text[len] = '\0';
	out->status = "";
	p = out->text;
	end = p + len;
	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (in_perf)
			parse_perf(p, eol, out, &item);
		else if ((bar = memchr(p, '|', (size_t)(eol - p))) != NULL) {
			in_perf = !first;	/* after a '|' in the long text, all is perfdata */
			parse_perf(bar + 1, eol, out, &item);
			if (first) {
				*bar = '\0';
				s = p;
				t = bar;
			}
		} else if (first) {
			s = p;
			t = eol;
		}
		if (first) {
			/* the status: trimmed, control characters as spaces */
			while (t > s && (is_space(t[-1]) || t[-1] == '\0'))
				t--;
			while (s < t && is_space(*s))
				s++;
			*t = '\0';
			for (char *c = s; c < t; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			out->status = s;
			first = 0;
		}
		p = eol + 1;
	}
}

/* nagios_output_free: see nagios.h. */
void
nagios_output_free(struct nagios_output *out)
{
	if (out == NULL)
		return;
	free(out->text);
	free(out->perf);
	memset(out, 0, sizeof(*out));
	out->status = "";
}

/* nagios_status: see nagios.h. */
int
nagios_status(int code, int signaled)
{
	if (signaled || code < 0 || code > 3)
		return 3;
	return code;
}

/* nagios_unit_name: see nagios.h. */
const char *
nagios_unit_name(enum nagios_unit unit)
{
	switch (unit) {
	case NAGIOS_UNIT_SECONDS:
		return "seconds";
	case NAGIOS_UNIT_BYTES:
		return "bytes";
	case NAGIOS_UNIT_RATIO:
		return "ratio";
	case NAGIOS_UNIT_COUNTER:
		return "counter";
	default:
		return "none";
	}
}
