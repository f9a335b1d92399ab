/* proc.c: reading /proc and /sys files and parsing their fields, for the built-in probes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <reeve-probe.h>

#include "proc.h"

#define PROC_FILE_INITIAL 4096
#define PROC_FILE_MAX (64u << 20)	/* no /proc file we read is anywhere near this */

/*
 * Root and path joined into dst (dstlen bytes, NUL-terminated); trailing slashes of root
 * are dropped, so a root of "/" (or "") adds nothing. Returns 0, or -1 with errno
 * ENAMETOOLONG when dst is too small.
 */
int
proc_join_path(char *dst, size_t dstlen, const char *root, const char *path)
{
	size_t rl = strlen(root);
	int n;

	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	n = snprintf(dst, dstlen, "%.*s%s", (int)rl, root, path);
	if (n < 0 || (size_t)n >= dstlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Opens root/path read-only into f and allocates its buffer; nothing is read yet. Returns
 * 0, or -1 with errno set. f->path holds the joined path either way (cut short when too
 * long), for error messages. f owns the descriptor and the buffer until
 * proc_file_close(f), which is also safe after a failed open.
 */
int
proc_file_open(struct proc_file *f, const char *root, const char *path)
{
	f->fd = -1;
	f->buf = NULL;
	f->cap = f->len = 0;
	if (proc_join_path(f->path, sizeof(f->path), root, path) == -1)
		return -1;
	if ((f->buf = malloc(PROC_FILE_INITIAL + 1)) == NULL)
		return -1;
	f->cap = PROC_FILE_INITIAL;
	if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(f->buf);
		f->buf = NULL;
		return -1;
	}
	return 0;
}

/*
 * Reads the whole file again from offset 0 into f->buf: f->len bytes, then a NUL. A read
 * that fills the buffer is retried with one twice as large, up to 64 MiB. Returns 0, or -1
 * with errno set (EFBIG past the limit). f->buf stays owned by f and valid until the next
 * read or close.
 */
int
proc_file_read(struct proc_file *f)
{
	ssize_t n;
	char *nb;

	for (;;) {
		n = pread(f->fd, f->buf, f->cap, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if ((size_t)n < f->cap)
			break;
		if (f->cap >= PROC_FILE_MAX) {
			errno = EFBIG;
			return -1;
		}
		if ((nb = realloc(f->buf, f->cap * 2 + 1)) == NULL)
			return -1;
		f->buf = nb;
		f->cap *= 2;
	}
	f->len = (size_t)n;
	f->buf[f->len] = '\0';
	return 0;
}

/* Closes f's descriptor and frees its buffer; closing f again does nothing. */
void
proc_file_close(struct proc_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
}

/*
 * The next complete line of [*p, end) without its '\n', or NULL: *eol is set to the '\n'
 * and *p moves past it. A last line without '\n' is a truncated read and is never
 * returned, so a value cut in half is never parsed. The line points into the caller's
 * buffer.
 */
const char *
proc_next_line(const char **p, const char *end, const char **eol)
{
	const char *s = *p, *nl;

	if (s >= end || (nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
		return NULL;
	*eol = nl;
	*p = nl + 1;
	return s;
}

/*
 * The next blank-separated (space or tab) field of [*p, end), its length in *flen, or NULL
 * at the end; *p moves past the field. The field points into the caller's buffer and is
 * not NUL-terminated.
 */
const char *
proc_next_field(const char **p, const char *end, size_t *flen)
{
	const char *s = *p, *e;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end) {
		*p = s;
		return NULL;
	}
	for (e = s; e < end && *e != ' ' && *e != '\t'; e++)
		;
	*p = e;
	*flen = (size_t)(e - s);
	return s;
}

/*
 * The decimal unsigned 64-bit number filling exactly [s, s + n) into *out. Returns 0, or
 * -1 (*out untouched) when empty, not all digits, or too large.
 */
int
proc_parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * The finite non-negative decimal number filling exactly [s, s + n) into *out: it starts
 * with a digit, then strtod syntax. Returns 0, or -1 (*out untouched).
 */
int
proc_parse_double(const char *s, size_t n, double *out)
{
	char tmp[64], *end;
	double d;

	if (n == 0 || n >= sizeof(tmp) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	d = strtod(tmp, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d) || d < 0)
		return -1;
	*out = d;
	return 0;
}

/*
 * The common `root` option (its last value): a directory prefixed to every /proc and /sys
 * path, "/" when absent or empty. Only inside init(); the string is the host's and stays
 * valid until destroy().
 */
const char *
proc_opt_root(struct reeve_probe_config *cfg, const struct reeve_host *host)
{
	const char *v, *last = NULL;
	size_t i;

	for (i = 0; (v = host->opt_get(cfg, "root", i)) != NULL; i++)
		last = v;
	if (last == NULL || *last == '\0')
		return "/";
	return last;
}

/*
 * proc_file_open for a probe's init(): on failure the error ("cannot open PATH: reason") is
 * reported against the `root` key through host->config_error. Returns 0 or -1.
 */
int
proc_file_init(struct proc_file *f, const char *root, const char *path,
    struct reeve_probe_config *cfg, const struct reeve_host *host)
{
	if (proc_file_open(f, root, path) == 0)
		return 0;
	host->config_error(cfg, "root", "cannot open %s: %s", f->path, strerror(errno));
	return -1;
}

/*
 * proc_file_read for a probe's collect(): on failure "read PATH: reason" goes into err
 * (errlen bytes). Returns 0 or -1.
 */
int
proc_file_collect(struct proc_file *f, char *err, size_t errlen)
{
	if (proc_file_read(f) == 0)
		return 0;
	snprintf(err, errlen, "read %s: %s", f->path, strerror(errno));
	return -1;
}
