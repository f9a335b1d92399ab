/* fuzz_proc_uptime.c: fuzz target for the /proc/uptime and /proc/stat btime parser(s) of probes/uptime.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/uptime.c, visible with REEVE_TESTING. */
int parse_uptime(const char *buf, size_t len, double *uptime);
int parse_btime(const char *buf, size_t len, uint64_t *btime);

/* The input as /proc/uptime and as /proc/stat (exact-size copies, as a read leaves them). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double up;
	uint64_t btime;
	char *buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	if (parse_uptime(buf, size, &up) == 0)
		FUZZ_CHECK(up >= 0);
	parse_btime(buf, size, &btime);
	free(buf);
	return 0;
}
