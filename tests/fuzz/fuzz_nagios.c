/* fuzz_nagios.c: fuzz target for the Nagios plugin output parser of the exec probe (probes/nagios.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nagios.h"

/*
 * The input as a plugin's output (an exact-size copy, NUL bytes included). Properties: the
 * status holds no '|' nor control character; every kept item has a unique, non-empty label
 * of at most NAGIOS_LABEL_MAX bytes without control characters, and finite numbers; a
 * skipped item always comes with its reason.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nagios_output o;
	char *buf;
	size_t i, j, n;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	nagios_parse(buf, size, &o);
	FUZZ_CHECK(o.status != NULL && strchr(o.status, '|') == NULL);
	for (const char *c = o.status; *c; c++)
		FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	FUZZ_CHECK(o.nperf <= NAGIOS_PERF_MAX);
	FUZZ_CHECK((o.nbad == 0) == (o.bad[0] == '\0'));
	for (i = 0; i < o.nperf; i++) {
		const struct nagios_perf *p = &o.perf[i];

		n = strlen(p->label);
		FUZZ_CHECK(n > 0 && n <= NAGIOS_LABEL_MAX);
		for (j = 0; j < n; j++)
			FUZZ_CHECK((unsigned char)p->label[j] >= 0x20 && p->label[j] != 0x7f);
		FUZZ_CHECK(isfinite(p->value));
		FUZZ_CHECK(!p->has_warn || isfinite(p->warn));
		FUZZ_CHECK(!p->has_crit || isfinite(p->crit));
		FUZZ_CHECK(p->unit != NAGIOS_UNIT_COUNTER || p->value >= 0);
		FUZZ_CHECK(strcmp(nagios_unit_name(p->unit), "") != 0);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(o.perf[j].label, p->label) != 0);
	}
	nagios_output_free(&o);
	free(buf);
	return 0;
}
