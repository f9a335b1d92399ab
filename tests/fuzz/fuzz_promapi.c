/* fuzz_promapi.c: fuzz target for the Prometheus HTTP API: paths, URL parameters, form bodies, answers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "promapi.h"
#include "registry.h"
#include "util.h"

/*
 * The input is text:
 *   line 1      the path: one digit picks one of paths[] below, anything else is the URL
 *   then        URL parameters, one "key=value" per line (no '=': the value is empty),
 *               up to an empty line
 *   the rest    an application/x-www-form-urlencoded body (none without the empty line)
 * A NUL byte ends a line's string early, as MHD's strings cannot hold one.
 *
 * The API answers from a registry holding a few fixed series in memory (no store), with
 * limits small enough that one input stays fast: 50 ms a query, 100,000 points.
 * Properties: promapi_path is answered for any URL and graph paths are never API paths;
 * an API path's answer is one JSON object whose "status" is "success" (status 200) or
 * "error" (400, 404, 405, 422 or 503) with a string "errorType" and "error"; nothing leaks.
 * /api/v1/graph.* is not fuzzed here (rrd_graph is slow and not thread-safe).
 */

#define T0 1700000000.0 /* the first sample's time */
#define STEP 15.0
#define ROUNDS 40

static const char *const paths[] = {
	"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels",
	"/api/v1/metadata", "/api/v1/status/buildinfo", "/api/v1/label/__name__/values",
	"/api/v1/label/job/values", "/api/v1/label/instance/values", "/api/v1/label/x/values",
};

static struct registry *reg;
static struct reg_owner *owner;
static struct promapi *api;

static void
teardown(void)
{
	promapi_free(api);
	reg_owner_free(reg, owner);
	reg_free(reg);
}

/* Counters with a reset, gauges with NaN and infinities, odd label values, a stale series. */
static void
setup(void)
{
	struct reeve_label node_a[] = { { "instance", "a:9100" }, { "job", "node" } };
	struct reeve_label node_b[] = { { "instance", "b:9100" }, { "job", "node" } };
	struct reeve_label api_200[] = { { "code", "200" }, { "job", "api" } };
	struct reeve_label api_500[] = { { "code", "500" }, { "job", "api" } };
	struct reeve_label odd[] = { { "path", "/a \"b\"\\c\n\xc3\xa9" } };
	struct reg_batch b = { 0 };

	reg = reg_new(3600, NULL);
	owner = reg_owner_new(reg, "fuzz", STEP, 0);
	for (int i = 0; i < ROUNDS; i++) {
		double t = T0 + STEP * i;

		reg_batch_reset(&b);
		reg_batch_add(&b, "up", "Whether the target answered.", REEVE_GAUGE, node_a, 2, 1);
		reg_batch_add(&b, "up", "Whether the target answered.", REEVE_GAUGE, node_b, 2,
		    i % 7 == 3 ? 0 : 1);
		reg_batch_add(&b, "http_requests_total", "Requests.", REEVE_COUNTER, api_200, 2,
		    i < 25 ? 10.0 * i : 3.0 * (i - 25));
		reg_batch_add(&b, "http_requests_total", "Requests.", REEVE_COUNTER, api_500, 2, i);
		reg_batch_add(&b, "temperature_celsius", "", REEVE_GAUGE, NULL, 0,
		    i % 9 == 4 ? NAN : i % 13 == 5 ? INFINITY : 20.0 + (i % 5) * 0.25);
		reg_batch_add(&b, "odd_labels", "HELP with \"quotes\"\\", REEVE_GAUGE, odd, 1, -1e300);
		if (i < ROUNDS / 2)
			reg_batch_add(&b, "gone", "", REEVE_GAUGE, NULL, 0, i);
		reg_commit(reg, owner, t, &b);
	}
	reg_batch_free(&b);
	api = promapi_new(reg, NULL, 3600);
	promapi_set_limits(api, 0.05, 100000);
	atexit(teardown);
}

/* The next line of [*p, end) as a new string (ending at '\n', the end or a NUL). */
static char *
next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p)), *stop = nl ? nl : end;
	char *s = xstrndup(*p, (size_t)(stop - *p));

	*p = nl ? nl + 1 : end;
	return s;
}

static void
check_answer(unsigned status, const struct buf *out)
{
	const cJSON *st, *type, *msg;
	cJSON *doc;

	FUZZ_CHECK(status == 200 || status == 400 || status == 404 || status == 405 ||
	    status == 422 || status == 503);
	FUZZ_CHECK(out->data != NULL && out->len > 0);
	doc = cJSON_ParseWithLengthOpts(out->data, out->len, NULL, 0);
	if (doc == NULL)
		fprintf(stderr, "not JSON: %.*s\n", (int)(out->len < 2000 ? out->len : 2000),
		    out->data);
	FUZZ_CHECK(doc != NULL && cJSON_IsObject(doc));
	st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	FUZZ_CHECK(cJSON_IsString(st));
	if (strcmp(st->valuestring, "success") == 0) {
		FUZZ_CHECK(status == 200);
		FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(doc, "data") != NULL);
	} else {
		FUZZ_CHECK(strcmp(st->valuestring, "error") == 0);
		FUZZ_CHECK(status != 200);
		type = cJSON_GetObjectItemCaseSensitive(doc, "errorType");
		msg = cJSON_GetObjectItemCaseSensitive(doc, "error");
		FUZZ_CHECK(cJSON_IsString(type) && type->valuestring[0] != '\0');
		FUZZ_CHECK(cJSON_IsString(msg) && msg->valuestring[0] != '\0');
	}
	cJSON_Delete(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct promapi_param *q = NULL;
	struct buf out = { 0 };
	char *url, **owned = NULL;
	size_t nq = 0, nowned = 0;
	const char *form = NULL;
	size_t formlen = 0;
	unsigned status;

	if (reg == NULL)
		setup();
	url = next_line(&p, end);
	if (url[0] >= '0' && url[0] <= '9' && url[1] == '\0') {
		char *pick = xstrdup(paths[url[0] - '0']);

		free(url);
		url = pick;
	}
	while (p < end) {
		char *line, *eq;

		if (*p == '\n') {
			form = p + 1;
			formlen = (size_t)(end - form);
			break;
		}
		line = next_line(&p, end);
		owned = xreallocarray(owned, nowned + 1, sizeof(*owned));
		owned[nowned++] = line;
		q = xreallocarray(q, nq + 1, sizeof(*q));
		if ((eq = strchr(line, '=')) != NULL)
			*eq = '\0';
		q[nq].key = line;
		q[nq++].value = eq ? eq + 1 : "";
	}
	/* what the HTTP server asks before it hands a request to the API */
	if (promapi_graph_path(url)) {
		FUZZ_CHECK(!promapi_path(url));
		goto out;
	}
	if (!promapi_path(url))
		goto out;
	status = promapi_answer(api, url, q, nq, form, formlen, &out);
	check_answer(status, &out);
out:
	buf_free(&out);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(q);
	free(url);
	return 0;
}
