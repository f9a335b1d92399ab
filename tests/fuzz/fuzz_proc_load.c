/* fuzz_proc_load.c: fuzz target for the /proc/loadavg parser(s) of probes/load.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/load.c, visible with REEVE_TESTING. */
int parse_loadavg(const char *buf, size_t len, double *load, uint64_t *runnable,
    uint64_t *threads);

/* The input as /proc/loadavg; the buffer is an exact-size copy, as a read leaves it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double load[3];
	uint64_t runnable, threads;
	char *buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	if (parse_loadavg(buf, size, load, &runnable, &threads) == 0)
		FUZZ_CHECK(load[0] >= 0 && load[1] >= 0 && load[2] >= 0);
	free(buf);
	return 0;
}
