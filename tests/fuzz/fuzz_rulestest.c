/* fuzz_rulestest.c: fuzz target for the `reeve rules test` file parser and value notation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "rulestest.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs = { 0 };
	struct rulestest *t;
	struct rulestest_point *p = NULL;
	size_t n = 0;
	char err[256], *s;

	t = rulestest_parse((const char *)data, size, "fuzz.test", &errs);
	/* a file is either accepted with no errors, or refused with at least one */
	FUZZ_CHECK((t != NULL) == (errs.n == 0));
	if (t != NULL)
		FUZZ_CHECK(rulestest_count(t) > 0);
	rulestest_free(t);
	cfg_errors_clear(&errs);

	s = xstrndup((const char *)data, size);
	if (rulestest_expand(s, &p, &n, err, sizeof(err)) == 0)
		FUZZ_CHECK(n <= RULESTEST_MAX_POINTS);
	else
		FUZZ_CHECK(p == NULL && err[0] != '\0');
	free(p);
	free(s);
	return 0;
}
