/* fuzz_mime.c: fuzz target for reports/mime.c: To and Cc read from any header, and built messages read back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "mime.h"
#include "util.h"

/*
 * Input: any bytes. First as a message: mime_recipients either names the field and the
 * mailbox it cannot read, or gives usable addresses, each once. Then as three lines: two
 * display names and a subject for mime_build (with '<' and '>' taken out of the names, which
 * would end them), whose message must be 7-bit CRLF lines and give back exactly the
 * addresses it was built with, whatever the names hold (quotes, commas, colons, escapes).
 */

/* An address mime_recipients may give: not empty, no blank, control, non-ASCII, <>,". */
static int
usable(const char *a)
{
	if (*a == '\0')
		return 0;
	for (; *a; a++)
		if ((unsigned char)*a <= ' ' || (unsigned char)*a >= 0x7f || strchr("<>,\"", *a))
			return 0;
	return 1;
}

static void
check_read(const uint8_t *data, size_t size)
{
	struct mime_addresses a = { 0 };
	struct buf v = { 0 };
	char err[300];
	int rc = mime_recipients(data, size, &a, err, sizeof(err));

	if (rc == -1) {
		FUZZ_CHECK(strncasecmp(err, "to: ", 4) == 0 || strncasecmp(err, "cc: ", 4) == 0);
		FUZZ_CHECK(strstr(err, "is not a mail address") != NULL);
	} else {
		FUZZ_CHECK(rc > 0 || a.n == 0);
	}
	for (size_t i = 0; i < a.n; i++) {
		FUZZ_CHECK(usable(a.v[i]));
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(a.v[i], a.v[k]) != 0);
	}
	(void)mime_header_get(data, size, "Subject", &v);
	mime_addresses_free(&a);
	buf_free(&v);
}

/* The next line of text at *p as a string without '<' and '>'; the caller frees it. */
static char *
next_line(const char **p)
{
	struct buf b = { 0 };

	buf_puts(&b, "");
	for (; **p && **p != '\n'; (*p)++)
		if (**p != '<' && **p != '>')
			buf_putc(&b, **p);
	if (**p == '\n')
		(*p)++;
	return buf_steal(&b);
}

static void
check_round_trip(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	const char *p = text;
	char *name1 = next_line(&p), *name2 = next_line(&p);
	char *to0 = xasprintf("%s <first@example.org>", name1);
	char *cc0 = xasprintf("%s <third@example.org>", name2);
	const char *to[] = { to0, "second@example.org" }, *cc[] = { cc0, "first@example.org" };
	struct mime_message m = { .from = to0, .to = to, .nto = 2, .cc = cc, .ncc = 2,
		.subject = p, .message_id_key = name1, .hostname = name2, .text = p, .html = name1 };
	struct mime_addresses a = { 0 };
	struct buf out = { 0 };
	char err[300];

	FUZZ_CHECK(mime_build(&m, &out, err, sizeof(err)) == 0);
	for (size_t i = 0; i < out.len; i++) {
		FUZZ_CHECK((unsigned char)out.data[i] < 0x80);
		if (out.data[i] == '\r')
			FUZZ_CHECK(i + 1 < out.len && out.data[i + 1] == '\n');
		if (out.data[i] == '\n')
			FUZZ_CHECK(i > 0 && out.data[i - 1] == '\r');
	}
	FUZZ_CHECK(mime_recipients(out.data, out.len, &a, err, sizeof(err)) == 2);
	FUZZ_CHECK(a.n == 3);
	FUZZ_CHECK(strcmp(a.v[0], "first@example.org") == 0);
	FUZZ_CHECK(strcmp(a.v[1], "second@example.org") == 0);
	FUZZ_CHECK(strcmp(a.v[2], "third@example.org") == 0);
	mime_addresses_free(&a);
	buf_free(&out);
	free(to0);
	free(cc0);
	free(name1);
	free(name2);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_read(data, size);
	check_round_trip(data, size);
	return 0;
}
