/* fuzz_parse.c: fuzz target for the strict Prometheus text parser (scrape, exec, push). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "fuzz.h"
#include "registry.h"
#include "util.h"

/*
 * Any input: the parser returns without a crash, an error names a line, and a rejected
 * text leaves the batch as it was. An accepted text, committed and rendered, parses again
 * to the same number of live series and renders identically.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reeve_label extra[1] = { { "job", "fuzz" } };
	struct expo_opts o = { .prefix = "p_", .labels = extra, .nlabels = 1,
	    .lim = { .max_samples = 1000 } };
	/* room for what the first parse added: the job label, the prefix */
	struct expo_opts plain = { .lim = { .max_labels = 64, .max_name = 256 } };
	struct reg_batch b = { 0 }, b2 = { 0 };
	struct buf out = { 0 }, out2 = { 0 };
	char err[256];
	long n;

	reg_batch_add(&b, "before", "", REEVE_GAUGE, NULL, 0, 1);
	n = expo_parse_batch(&b, (const char *)data, size, &o, err, sizeof(err));
	if (n < 0) {
		FUZZ_CHECK(strncmp(err, "line ", 5) == 0);
		FUZZ_CHECK(b.n == 1);
	} else {
		struct registry *r = reg_new(60, NULL), *r2 = reg_new(60, NULL);
		struct reg_owner *ow = reg_owner_new(r, "f", 10, 0);
		struct reg_owner *ow2 = reg_owner_new(r2, "f", 10, 0);

		FUZZ_CHECK(b.n == 1 + (size_t)n);
		reg_commit(r, ow, 1000, &b);
		expo_render(r, &out);
		n = expo_parse_batch(&b2, out.data ? out.data : "", out.len, &plain, err, sizeof(err));
		if (n < 0)
			fprintf(stderr, "re-parse failed: %s\n", err);
		FUZZ_CHECK(n >= 0);
		reg_commit(r2, ow2, 1000, &b2);
		expo_render(r2, &out2);
		FUZZ_CHECK(out.len == out2.len && (out.len == 0 || memcmp(out.data, out2.data, out.len) == 0));
		reg_owner_free(r, ow);
		reg_owner_free(r2, ow2);
		reg_free(r);
		reg_free(r2);
	}
	reg_batch_free(&b);
	reg_batch_free(&b2);
	buf_free(&out);
	buf_free(&out2);
	return 0;
}
