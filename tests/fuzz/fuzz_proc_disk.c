/* fuzz_proc_disk.c: fuzz target for the /proc/diskstats parser(s) of probes/disk.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/disk.c, visible with REEVE_TESTING. */
typedef void (*disk_fn)(void *arg, const char *name, const uint64_t *v, size_t nv);
int parse_diskstats(const char *buf, size_t len, disk_fn fn, void *arg);

static void
dev(void *arg, const char *name, const uint64_t *v, size_t nv)
{
	uint64_t sum = 0;

	FUZZ_CHECK(nv == 11 || nv == 15 || nv == 17);
	FUZZ_CHECK(strlen(name) > 0 && strlen(name) < 64);
	for (size_t i = 0; i < nv; i++)
		sum ^= v[i];
	*(uint64_t *)arg ^= sum;
}

/* The input as /proc/diskstats; the buffer is an exact-size copy, as a read leaves it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t acc = 0;
	char *buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	FUZZ_CHECK(parse_diskstats(buf, size, dev, &acc) >= 0);
	free(buf);
	return 0;
}
