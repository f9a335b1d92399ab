/* fuzz_config.c: fuzz target for the configuration parser and its value parsers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

/*
 * Relative includes and secret files resolve against the working directory: make that an
 * empty directory that no longer exists, so they find nothing. Absolute paths would read (or
 * glob) the whole machine, so when the text mentions include or secret_file, every '/'
 * becomes '_' first.
 */
static void
setup(void)
{
	static int done;
	char dir[] = "/tmp/reeve-fuzz-config.XXXXXX";

	if (done)
		return;
	done = 1;
	if (mkdtemp(dir) == NULL || chdir(dir) == -1 || rmdir(dir) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs = { 0 };
	const char *errstr;
	struct cfg *cfg;
	char *text, *host = NULL;
	double d;
	uint64_t u;
	unsigned port;
	int b;

	setup();
	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	errstr = NULL;
	if (cfg_parse_duration(text, &d, &errstr) == 0)
		FUZZ_CHECK(isfinite(d) && d >= 0);
	else
		FUZZ_CHECK(errstr != NULL);
	errstr = NULL;
	if (cfg_parse_size(text, &u, &errstr) != 0)
		FUZZ_CHECK(errstr != NULL);
	errstr = NULL;
	if (cfg_parse_bool(text, &b, &errstr) == 0)
		FUZZ_CHECK(b == 0 || b == 1);
	else
		FUZZ_CHECK(errstr != NULL);
	errstr = NULL;
	if (cfg_parse_listen(text, &host, &port, &errstr) == 0) {
		FUZZ_CHECK(host != NULL && port >= 1 && port <= 65535);
		free(host);
	} else
		FUZZ_CHECK(errstr != NULL && host == NULL);

	if (strcasestr(text, "include") != NULL || strcasestr(text, "secret_file") != NULL)
		for (char *p = text; p < text + size; p++)
			if (*p == '/')
				*p = '_';
	cfg = cfg_load_string(text, "fuzz.conf", &errs);
	if (cfg != NULL)
		FUZZ_CHECK(errs.n == 0);
	else
		FUZZ_CHECK(errs.n > 0);
	cfg_free(cfg);
	cfg_errors_clear(&errs);
	free(text);
	return 0;
}
