/* fuzz_proc_network.c: fuzz target for the /proc/net/dev parser(s) of probes/network.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/network.c, visible with REEVE_TESTING. */
typedef void (*netdev_fn)(void *arg, const char *name, const uint64_t *v);
int parse_netdev(const char *buf, size_t len, netdev_fn fn, void *arg);

static void
iface(void *arg, const char *name, const uint64_t *v)
{
	uint64_t sum = 0;

	FUZZ_CHECK(strlen(name) > 0 && strlen(name) < 64 && strchr(name, ' ') == NULL);
	for (size_t i = 0; i < 16; i++)
		sum ^= v[i];
	*(uint64_t *)arg ^= sum;
}

/* The input as /proc/net/dev; the buffer is an exact-size copy, as a read leaves it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t acc = 0;
	char *buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	FUZZ_CHECK(parse_netdev(buf, size, iface, &acc) >= 0);
	free(buf);
	return 0;
}
