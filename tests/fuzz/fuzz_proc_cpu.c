/* fuzz_proc_cpu.c: fuzz target for the /proc/stat parser(s) of probes/cpu.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/cpu.c, visible with REEVE_TESTING. */
typedef void (*cpu_line_fn)(void *arg, long cpu, const uint64_t *ticks);
int parse_stat(const char *buf, size_t len, cpu_line_fn fn, void *arg, uint64_t *misc,
    unsigned *have);

static void
line(void *arg, long cpu, const uint64_t *ticks)
{
	uint64_t sum = 0;

	FUZZ_CHECK(cpu >= -1 && cpu <= INT32_MAX);
	for (size_t i = 0; i < 8; i++)	/* all eight columns are set (0 when absent) */
		sum ^= ticks[i];
	*(uint64_t *)arg ^= sum;
}

/* The input as /proc/stat; the buffer is an exact-size copy, as a read leaves it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t misc[16], acc = 0;
	unsigned have;
	char *buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	parse_stat(buf, size, line, &acc, misc, &have);
	free(buf);
	return 0;
}
