/* fuzz_proc_memory.c: fuzz target for the /proc/meminfo parser(s) of probes/memory.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/memory.c, visible with REEVE_TESTING. */
int parse_meminfo(const char *buf, size_t len, const char *const *keys, size_t nkeys,
    uint64_t *vals, unsigned char *found);

/* The keys the probe asks for, and some that are prefixes of others. */
static const char *const keys[] = {
	"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active",
	"Inactive", "SwapTotal", "SwapFree", "Shmem", "SReclaimable", "Slab", "Mem", "M",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The input as /proc/meminfo; the buffer is an exact-size copy, as a read leaves it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t vals[NKEYS];
	unsigned char found[NKEYS];
	size_t nfound = 0;
	char *buf;
	int n;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	n = parse_meminfo(buf, size, keys, NKEYS, vals, found);
	for (size_t i = 0; i < NKEYS; i++)
		nfound += found[i];
	FUZZ_CHECK(n >= 0 && (size_t)n == nfound);
	free(buf);
	return 0;
}
