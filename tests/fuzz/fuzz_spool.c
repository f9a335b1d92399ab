/* fuzz_spool.c: fuzz target for the outbox's spool files: parse, write again, parse again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "fuzz.h"
#include "outbox.h"
#include "util.h"

#define MAGIC "reeve-spool 1\n"

/*
 * Properties of outbox_parse, which reads every spool file (at open, before a send, when a
 * message becomes a dead letter, for `reeve outbox list` and `retry`):
 * - a refused file gives a message and leaves the header empty;
 * - an accepted one has an id, receiver, key, created time, and a body of exactly its
 *   length inside the input; written again by outbox_format (as a dead letter or a retry
 *   writes it) it is accepted again with the same fields (control characters in values
 *   become spaces, times keep milliseconds, an absent subject is an empty one), and that
 *   second file written again is the same bytes.
 * The input is parsed as it is, then once more with the value of each 64-character
 * "sha256: " header line replaced by the digest of the body, so the fuzzer gets past the
 * check that it could not satisfy by chance.
 */

/* s as outbox_format writes a header value: control characters become spaces. */
static char *
as_written(const char *s)
{
	char *c = xstrdup(s ? s : "");

	for (char *p = c; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = ' ';
	return c;
}

static void
check_same(const char *a, const char *b)
{
	char *wa = as_written(a), *wb = as_written(b);

	if (strcmp(wa, wb) != 0)
		fprintf(stderr, "field \"%s\" read back as \"%s\"\n", wa, wb);
	FUZZ_CHECK(strcmp(wa, wb) == 0);
	free(wa);
	free(wb);
}

static void
check_file(const char *data, size_t size)
{
	struct outbox_header h, h2, empty = { 0 };
	struct buf file = { 0 }, again = { 0 };
	const char *body, *body2;
	char err[256] = "", c1[64], c2[64];

	if (outbox_parse(data, size, &h, &body, err, sizeof(err)) == -1) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(memcmp(&h, &empty, sizeof(h)) == 0);
		return;
	}
	FUZZ_CHECK(h.id[0] != '\0' && h.receiver != NULL && h.key != NULL && h.created > 0);
	FUZZ_CHECK(body >= data && body <= data + size && (size_t)(data + size - body) == h.length);
	outbox_format(&file, &h, body, h.length);
	err[0] = '\0';
	if (outbox_parse(file.data, file.len, &h2, &body2, err, sizeof(err)) == -1)
		fprintf(stderr, "written again, the file is refused: %s\n%.*s\n", err,
		    (int)(file.len - h.length), file.data);
	FUZZ_CHECK(err[0] == '\0');
	FUZZ_CHECK(strcmp(h.id, h2.id) == 0);
	check_same(h.receiver, h2.receiver);
	check_same(h.key, h2.key);
	check_same(h.subject, h2.subject);
	check_same(h.error, h2.error);
	FUZZ_CHECK((h.error == NULL) == (h2.error == NULL));
	snprintf(c1, sizeof(c1), "%.3f", h.created);
	snprintf(c2, sizeof(c2), "%.3f", h2.created);
	if (strcmp(c1, c2) != 0)
		fprintf(stderr, "created %s read back as %s\n", c1, c2);
	FUZZ_CHECK(strcmp(c1, c2) == 0);
	FUZZ_CHECK(h.attempts == h2.attempts);
	FUZZ_CHECK(h.length == h2.length && memcmp(body, body2, h.length) == 0);
	FUZZ_CHECK(strcmp(h.sha256, h2.sha256) == 0);
	outbox_format(&again, &h2, body2, h2.length);
	FUZZ_CHECK(again.len == file.len && memcmp(again.data, file.data, file.len) == 0);
	outbox_header_free(&h2);
	outbox_header_free(&h);
	buf_free(&again);
	buf_free(&file);
}

/* A copy of data whose 64-character sha256 header values are the body's digest, or NULL. */
static char *
with_digest(const char *data, size_t size)
{
	static const char key[] = "\nsha256: ";
	size_t kl = sizeof(key) - 1, ml = sizeof(MAGIC) - 1, bodyat;
	unsigned char d[SHA256_DIGEST_LENGTH];
	const char *blank;
	char *c, hex[2 * SHA256_DIGEST_LENGTH + 1];
	int changed = 0;

	if (size < ml || memcmp(data, MAGIC, ml) != 0)
		return NULL;
	/* the header ends at the first empty line; the magic line's '\n' may start it */
	blank = memmem(data + ml - 1, size - ml + 1, "\n\n", 2);
	if (blank == NULL)
		return NULL;
	bodyat = (size_t)(blank - data) + 2;
	SHA256((const unsigned char *)data + bodyat, size - bodyat, d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	c = xmalloc(size ? size : 1);
	memcpy(c, data, size);
	for (size_t i = ml - 1; i + kl + 64 < bodyat; i++)
		if (memcmp(c + i, key, kl) == 0 && c[i + kl + 64] == '\n' &&
		    memchr(c + i + kl, '\n', 64) == NULL && memcmp(c + i + kl, hex, 64) != 0) {
			memcpy(c + i + kl, hex, 64);
			changed = 1;
		}
	if (!changed) {
		free(c);
		return NULL;
	}
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fixed;

	check_file((const char *)data, size);
	if ((fixed = with_digest((const char *)data, size)) != NULL) {
		check_file(fixed, size);
		free(fixed);
	}
	return 0;
}
