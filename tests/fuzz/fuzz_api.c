/* fuzz_api.c: fuzz target for the push and events API bodies (JSON and text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "fuzz.h"
#include "registry.h"
#include "util.h"

/*
 * The first byte picks the endpoint and content type, the rest is the body. Every answer
 * is 200 or a 4xx with a JSON error; a refused request leaves the registry unchanged.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "application/json", "text/plain", NULL, "image/png" };
	struct api_params p = { 0, 10, 1000 };
	struct registry *r;
	struct api *a;
	struct buf out = { 0 };
	size_t before;
	unsigned status;

	if (size == 0)
		return 0;
	r = reg_new(60, NULL);
	a = api_new(r, &p);
	reg_rdlock(r);
	before = reg_series_count(r);
	reg_unlock(r);
	if (data[0] & 4)
		status = api_events(a, (const char *)data + 1, size - 1, &out);
	else
		status = api_push(a, types[data[0] & 3], (data[0] & 8) ? "1m" : NULL,
		    (const char *)data + 1, size - 1, &out);
	FUZZ_CHECK(out.data != NULL && out.len > 0 && out.data[0] == '{');
	FUZZ_CHECK(status == 200 || status == 400 || status == 415);
	if (status != 200) {
		FUZZ_CHECK(strstr(out.data, "\"status\":\"error\"") != NULL);
		reg_rdlock(r);
		FUZZ_CHECK(reg_series_count(r) == before);
		reg_unlock(r);
	}
	buf_free(&out);
	api_free(a);
	reg_free(r);
	return 0;
}
