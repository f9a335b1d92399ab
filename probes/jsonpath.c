/* jsonpath.c: parse and follow the http probe's JSON paths (a.b[0]["c.d"]). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

struct step {
	char *key;	/* NULL for an index step */
	long index;	/* negative: from the end */
};

struct jsonpath {
	struct step *steps;
	size_t n;
};

static int
bare_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '.' && c != '[' && c != ']' && c != '"' && c != '\\';
}

/* jsonpath_free: see jsonpath.h. */
void
jsonpath_free(struct jsonpath *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->steps[i].key);
	free(p->steps);
	free(p);
}

static struct step *
add_step(struct jsonpath *p)
{
	struct step *s = &p->steps[p->n++];

	memset(s, 0, sizeof(*s));
	return s;
}

/* Parse "[...]" at *sp (which points at '['); returns 0 or -1 with err set. */
static int
parse_bracket(struct jsonpath *p, const char *text, const char **sp, char *err, size_t errlen)
{
	const char *s = *sp + 1, *start;
	struct step *st;
	size_t len;
	char *k;
	long v = 0;
	int neg = 0;

	if (*s == '"') {
		/* a quoted key: unescape \" and \\ into a copy */
		start = ++s;
		for (len = 0; *s != '\0' && *s != '"'; s++, len++) {
			if (*s == '\\') {
				if (s[1] != '"' && s[1] != '\\') {
					snprintf(err, errlen, "at offset %zu: only \\\" and \\\\ may follow "
					    "a backslash in a quoted key", (size_t)(s - text));
					return -1;
				}
				s++;
			}
		}
		if (*s != '"' || s[1] != ']') {
			snprintf(err, errlen, "at offset %zu: unterminated quoted key (expected \"])",
			    (size_t)(start - 2 - text));
			return -1;
		}
		if ((k = malloc(len + 1)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (len = 0; start < s; start++) {
			if (*start == '\\')
				start++;
			k[len++] = *start;
		}
		k[len] = '\0';
		st = add_step(p);
		st->key = k;
		*sp = s + 2;
		return 0;
	}
	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (*s < '0' || *s > '9') {
		snprintf(err, errlen, "at offset %zu: expected an index or a quoted key after '['",
		    (size_t)(*sp - text));
		return -1;
	}
	for (start = s; *s >= '0' && *s <= '9'; s++) {
		if (v > 100000000) {
			snprintf(err, errlen, "at offset %zu: index too large", (size_t)(start - text));
			return -1;
		}
		v = v * 10 + (*s - '0');
	}
	if (*s != ']') {
		snprintf(err, errlen, "at offset %zu: expected ']' after the index",
		    (size_t)(s - text));
		return -1;
	}
	if (neg && v == 0) {
		snprintf(err, errlen, "at offset %zu: index -0 is not an element (use [0] or [-1])",
		    (size_t)(*sp - text));
		return -1;
	}
	st = add_step(p);
	st->index = neg ? -v : v;
	*sp = s + 1;
	return 0;
}

/* jsonpath_new: see jsonpath.h. */
struct jsonpath *
jsonpath_new(const char *text, char *err, size_t errlen)
{
	struct jsonpath *p;
	const char *s = text, *start;
	size_t len;

	if (errlen > 0)
		err[0] = '\0';
	if ((len = strlen(text)) == 0) {
		snprintf(err, errlen, "empty path");
		return NULL;
	}
	if (len > JSONPATH_MAX_LEN) {
		snprintf(err, errlen, "path longer than %d bytes", JSONPATH_MAX_LEN);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->steps = calloc(JSONPATH_MAX_STEPS, sizeof(*p->steps))) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* "$" is the root, when followed by the end, '.' or '[' */
	if (s[0] == '$' && (s[1] == '\0' || s[1] == '.' || s[1] == '[')) {
		s++;
		if (*s == '.' && bare_char((unsigned char)s[1]))
			s++;
		else if (*s == '.') {
			snprintf(err, errlen, "at offset 1: expected a key after '$.'");
			goto fail;
		}
		if (*s == '\0')
			return p;
	}
	for (;;) {
		if (p->n == JSONPATH_MAX_STEPS) {
			snprintf(err, errlen, "more than %d steps", JSONPATH_MAX_STEPS);
			goto fail;
		}
		if (*s == '[') {
			if (parse_bracket(p, text, &s, err, errlen) == -1)
				goto fail;
		} else {
			for (start = s; bare_char((unsigned char)*s); s++)
				;
			if (s == start) {
				if (*s == '\0')
					snprintf(err, errlen, "at offset %zu: the path ends where a key "
					    "was expected", (size_t)(s - text));
				else
					snprintf(err, errlen, "at offset %zu: unexpected '%c' where a key "
					    "was expected (quote keys with special characters: "
					    "[\"key\"])", (size_t)(s - text),
					    (unsigned char)*s >= ' ' && *s != 0x7f ? *s : '?');
				goto fail;
			}
			if ((p->steps[p->n].key = strndup(start, (size_t)(s - start))) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			p->steps[p->n++].index = 0;
		}
		if (*s == '\0')
			return p;
		if (*s == '.') {
			s++;
			if (*s == '[' || *s == '\0' || *s == '.') {
				snprintf(err, errlen, "at offset %zu: expected a key after '.'",
				    (size_t)(s - text));
				goto fail;
			}
		} else if (*s != '[') {
			snprintf(err, errlen, "at offset %zu: unexpected '%c' (expected '.', '[' or "
			    "the end)", (size_t)(s - text),
			    (unsigned char)*s >= ' ' && *s != 0x7f ? *s : '?');
			goto fail;
		}
	}
fail:
	jsonpath_free(p);
	return NULL;
}

/* Append text to buf at *off, counting what does not fit. */
static void
put(char *buf, size_t bufsize, size_t *off, const char *s, size_t n)
{
	if (*off < bufsize) {
		size_t room = bufsize - *off - 1;

		memcpy(buf + *off, s, n < room ? n : room);
	}
	*off += n;
}

/* The canonical text of the first nsteps steps of p; see jsonpath_format. */
static size_t
format_steps(const struct jsonpath *p, size_t nsteps, char *buf, size_t bufsize)
{
	size_t i, off = 0;
	char num[32];
	int n;

	for (i = 0; i < nsteps; i++) {
		const struct step *st = &p->steps[i];
		const char *k = st->key;
		int bare = k != NULL && *k != '\0' && !(i == 0 && k[0] == '$' && k[1] == '\0');

		if (k == NULL) {
			n = snprintf(num, sizeof(num), "[%ld]", st->index);
			put(buf, bufsize, &off, num, (size_t)n);
			continue;
		}
		for (const char *c = k; bare && *c != '\0'; c++)
			bare = bare_char((unsigned char)*c);
		if (bare) {
			if (i > 0)
				put(buf, bufsize, &off, ".", 1);
			put(buf, bufsize, &off, k, strlen(k));
			continue;
		}
		put(buf, bufsize, &off, "[\"", 2);
		for (; *k != '\0'; k++) {
			if (*k == '"' || *k == '\\')
				put(buf, bufsize, &off, "\\", 1);
			put(buf, bufsize, &off, k, 1);
		}
		put(buf, bufsize, &off, "\"]", 2);
	}
	if (nsteps == 0)
		put(buf, bufsize, &off, "$", 1);
	if (bufsize > 0)
		buf[off < bufsize ? off : bufsize - 1] = '\0';
	return off;
}

/* jsonpath_format: see jsonpath.h. */
size_t
jsonpath_format(const struct jsonpath *p, char *buf, size_t bufsize)
{
	return format_steps(p, p->n, buf, bufsize);
}

static const char *
kind(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	return "an invalid value";
}

/* jsonpath_eval: see jsonpath.h. */
int
jsonpath_eval(const struct jsonpath *p, const cJSON *root, double *out, char *err,
    size_t errlen)
{
	const cJSON *v = root;
	char where[256];
	size_t i;
	int size;

	for (i = 0; i < p->n; i++) {
		const struct step *st = &p->steps[i];
		long idx = st->index;

		format_steps(p, i, where, sizeof(where));
		if (st->key != NULL) {
			if (!cJSON_IsObject(v)) {
				snprintf(err, errlen, "expected an object at '%s', found %s", where,
				    kind(v));
				return -1;
			}
			if ((v = cJSON_GetObjectItemCaseSensitive(v, st->key)) == NULL) {
				format_steps(p, i + 1, where, sizeof(where));
				snprintf(err, errlen, "no such key: '%s'", where);
				return -1;
			}
			continue;
		}
		if (!cJSON_IsArray(v)) {
			snprintf(err, errlen, "expected an array at '%s', found %s", where, kind(v));
			return -1;
		}
		size = cJSON_GetArraySize(v);
		if (idx < 0)
			idx += size;
		if (idx < 0 || idx >= size) {
			format_steps(p, i + 1, where, sizeof(where));
			snprintf(err, errlen, "no such element: '%s' (the array has %d)", where,
			    size);
			return -1;
		}
		v = cJSON_GetArrayItem(v, (int)idx);
	}
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v) ? 1.0 : 0.0;
		return 0;
	}
	format_steps(p, p->n, where, sizeof(where));
	snprintf(err, errlen, "expected a number or a boolean at '%s', found %s", where, kind(v));
	return -1;
}
