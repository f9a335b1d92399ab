/* fuzz_proc_process.c: fuzz target for the /proc/PID/stat and cmdline parser(s) of probes/process.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/process.c, visible with REEVE_TESTING. */
int parse_pid_stat(const char *buf, size_t len, char *comm, size_t commlen, char *state,
    uint64_t *ticks, uint64_t *threads, uint64_t *rss);
int state_index(char state);
size_t cmdline_join(char *buf, size_t len);

/*
 * The input as /proc/PID/stat (an exact-size copy, as a read leaves it) into comm
 * buffers of several sizes, then as /proc/PID/cmdline.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t commlens[] = { 1, 2, 16, 64 };
	uint64_t ticks, threads, rss;
	char comm[64], state;
	size_t n;
	char *buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	for (size_t i = 0; i < sizeof(commlens) / sizeof(commlens[0]); i++)
		if (parse_pid_stat(buf, size, comm, commlens[i], &state, &ticks, &threads, &rss) == 0) {
			FUZZ_CHECK(strlen(comm) < commlens[i]);
			FUZZ_CHECK(state_index(state) >= 0);
		}
	n = cmdline_join(buf, size);
	FUZZ_CHECK(n <= size && memchr(buf, '\0', n) == NULL);
	free(buf);
	return 0;
}
