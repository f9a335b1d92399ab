/* fuzz_proc_filesystem.c: fuzz target for the /proc/self/mountinfo and /proc/mounts parser(s) of probes/filesystem.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* From probes/filesystem.c, visible with REEVE_TESTING. */
typedef void (*mount_fn)(void *arg, const char *device, const char *mountpoint,
    const char *fstype, int ro);
int unescape_octal(char *dst, size_t dstlen, const char *src, size_t srclen);
int parse_mountinfo(const char *buf, size_t len, mount_fn fn, void *arg);
int parse_mounts(const char *buf, size_t len, mount_fn fn, void *arg);

static void
on_mount(void *arg, const char *device, const char *mountpoint, const char *fstype, int ro)
{
	FUZZ_CHECK(mountpoint[0] == '/');
	FUZZ_CHECK(ro == 0 || ro == 1);
	*(size_t *)arg += strlen(device) + strlen(fstype);
}

/*
 * The input as mountinfo, then as mounts (exact-size copies, as a read leaves them), and
 * its first line unescaped into buffers of every small size.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];
	size_t acc = 0, len;
	const char *nl;
	char *buf;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	FUZZ_CHECK(parse_mountinfo(buf, size, on_mount, &acc) >= 0);
	FUZZ_CHECK(parse_mounts(buf, size, on_mount, &acc) >= 0);
	nl = memchr(buf, '\n', size);
	len = nl ? (size_t)(nl - buf) : size;
	for (size_t n = 0; n <= sizeof(out); n++)
		if (unescape_octal(out, n, buf, len) == 0)	/* no NUL comes through */
			FUZZ_CHECK(strlen(out) < n && (len == 0 || memchr(buf, '\0', len) == NULL));
	free(buf);
	return 0;
}
