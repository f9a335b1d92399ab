/* fuzz_jsonpath.c: fuzz target for the http probe's JSON paths: parsing, formatting, eval. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jsonpath.h"

/*
 * The input is a path, a NUL byte, then a JSON document. The path must parse or fail with
 * a message; a parsed path's canonical text must parse to the same canonical text; and
 * following it through the document (when that parses) must give a value or a message.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	char *path, *json = NULL, err[256], canon[4096], again[4096];
	struct jsonpath *p, *q;
	cJSON *root;
	double v;
	size_t n;

	if ((path = malloc(plen + 1)) == NULL)
		abort();
	memcpy(path, data, plen);
	path[plen] = '\0';
	err[0] = 'x';
	p = jsonpath_new(path, err, sizeof(err));
	if (p == NULL) {
		FUZZ_CHECK(err[0] != '\0' && err[0] != 'x');
		goto out;
	}
	n = jsonpath_format(p, canon, sizeof(canon));
	FUZZ_CHECK(n == strlen(canon) || n >= sizeof(canon));
	if (n < sizeof(canon) && n <= JSONPATH_MAX_LEN) {
		q = jsonpath_new(canon, err, sizeof(err));
		FUZZ_CHECK(q != NULL);
		jsonpath_format(q, again, sizeof(again));
		FUZZ_CHECK(strcmp(canon, again) == 0);
		jsonpath_free(q);
	}
	if (nul != NULL) {
		size_t jlen = size - plen - 1;

		if ((json = malloc(jlen + 1)) == NULL)
			abort();
		memcpy(json, nul + 1, jlen);
		json[jlen] = '\0';
		if ((root = cJSON_ParseWithLengthOpts(json, jlen + 1, NULL, 1)) != NULL) {
			err[0] = '\0';
			if (jsonpath_eval(p, root, &v, err, sizeof(err)) == -1)
				FUZZ_CHECK(err[0] != '\0');
			cJSON_Delete(root);
		}
	}
	jsonpath_free(p);
out:
	free(json);
	free(path);
	return 0;
}
