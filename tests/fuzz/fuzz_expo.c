/* fuzz_expo.c: fuzz target for the Prometheus text exposition: escaping and rendering. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "fuzz.h"
#include "registry.h"
#include "util.h"

static int
name_char(char c, int first, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

/*
 * Undo the escaping of [s, end) (backslash followed by \, " or n; help text has no \"),
 * into out; returns 0, or -1 on a bare backslash, an unknown escape or a raw newline.
 */
static int
unescape(struct buf *out, const char *s, const char *end, int quote_ok)
{
	buf_reset(out);
	buf_append(out, "", 0);
	for (; s < end; s++) {
		if (*s == '\n')
			return -1;
		if (*s != '\\') {
			buf_putc(out, *s);
			continue;
		}
		if (++s == end)
			return -1;
		if (*s == '\\')
			buf_putc(out, '\\');
		else if (*s == 'n')
			buf_putc(out, '\n');
		else if (*s == '"' && quote_ok)
			buf_putc(out, '"');
		else
			return -1;
	}
	return 0;
}

/* One sample line: name{label="value",...} value, values escaped. Returns 0 or -1. */
static int
check_sample(const char *s, const char *eol)
{
	const char *p = s;

	if (p == eol || !name_char(*p, 1, 1))
		return -1;
	while (p < eol && name_char(*p, 0, 1))
		p++;
	if (p < eol && *p == '{') {
		p++;
		for (;;) {
			if (p == eol || !name_char(*p, 1, 0))
				return -1;
			while (p < eol && name_char(*p, 0, 0))
				p++;
			if (p + 1 >= eol || p[0] != '=' || p[1] != '"')
				return -1;
			for (p += 2; p < eol && *p != '"'; p++)
				if (*p == '\\' && ++p == eol)
					return -1;
			if (p == eol)
				return -1;
			p++;
			if (p < eol && *p == ',') {
				p++;
				continue;
			}
			if (p < eol && *p == '}') {
				p++;
				break;
			}
			return -1;
		}
	}
	if (p == eol || *p != ' ' || p + 1 == eol)
		return -1;
	for (p++; p < eol; p++)
		if (*p == ' ')
			return -1;
	return 0;
}

/* Every line of a rendering is "# HELP", "# TYPE" or a sample, and it ends with a newline. */
static void
check_render(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol;

	FUZZ_CHECK(len == 0 || text[len - 1] == '\n');
	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		FUZZ_CHECK(eol != NULL);
		if ((size_t)(eol - p) >= 7 && (memcmp(p, "# HELP ", 7) == 0 || memcmp(p, "# TYPE ", 7) == 0))
			continue;
		FUZZ_CHECK(check_sample(p, eol) == 0);
	}
}

/*
 * The input split at NUL bytes: the first part is HELP text, the next ones label values
 * (and a metric and label name, which may be rejected). Each string is escaped and must
 * unescape to itself; then a batch of samples carrying them is committed and rendered.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *parts[8];
	struct reeve_label l[3];
	struct reg_batch b = { 0 };
	struct registry *r;
	struct reg_owner *o;
	struct buf out = { 0 }, dec = { 0 };
	size_t np = 0, i;
	char *text;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (const char *p = text; p <= text + size && np < 8; p += strlen(p) + 1)
		parts[np++] = p;

	for (i = 0; i < np; i++) {
		buf_reset(&out);
		expo_escape_label(&out, parts[i]);
		FUZZ_CHECK(unescape(&dec, out.data ? out.data : "", out.data ? out.data + out.len : "", 1) == 0);
		FUZZ_CHECK(strcmp(dec.data, parts[i]) == 0);
		buf_reset(&out);
		expo_escape_help(&out, parts[i]);
		FUZZ_CHECK(unescape(&dec, out.data ? out.data : "", out.data ? out.data + out.len : "", 0) == 0);
		FUZZ_CHECK(strcmp(dec.data, parts[i]) == 0);
	}

	r = reg_new(60, NULL);
	o = reg_owner_new(r, "fuzz", 10, 0);
	for (i = 1; i < np; i++) {
		l[0].name = "a";
		l[0].value = parts[i];
		l[1].name = "z";
		l[1].value = parts[np - i];
		l[2].name = "b";
		l[2].value = parts[0];
		reg_batch_add(&b, "fuzz_gauge", parts[0], REEVE_GAUGE, l, 3, (double)i);
		reg_batch_add(&b, "fuzz_total", "Counted.", REEVE_COUNTER, l, 1, (double)i);
	}
	if (np >= 3) {
		/* names from the input: rejected unless valid */
		l[0].name = parts[2];
		l[0].value = parts[1];
		reg_batch_add(&b, parts[1], parts[0], REEVE_GAUGE, l, 1, 1.5);
		reg_batch_add(&b, parts[1], parts[0], REEVE_COUNTER, l, 1, 2.5);
	}
	reg_batch_add(&b, "fuzz_gauge", parts[0], REEVE_GAUGE, NULL, 0, -1e300);
	reg_commit(r, o, 1000, &b);
	buf_reset(&out);
	expo_render(r, &out);
	check_render(out.data ? out.data : "", out.len);

	reg_batch_free(&b);
	reg_owner_free(r, o);
	reg_free(r);
	buf_free(&out);
	buf_free(&dec);
	free(text);
	return 0;
}
