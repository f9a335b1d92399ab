/* enospc.c: an LD_PRELOAD shim for the tests: writes to files under a directory fail with ENOSPC while a flag file exists. */
/*
 * The environment says where and when:
 *   REEVE_ENOSPC_DIR   an absolute directory: regular files under it are "on the full disk"
 *   REEVE_ENOSPC_FLAG  a path: while it exists, the disk is full
 * While full, write, pwrite, writev, pwritev, fsync, fdatasync, ftruncate, posix_fallocate
 * and fallocate on such a file fail with ENOSPC, and so do fwrite, fputs, fputc, fflush and
 * fclose on a stream over one (librrd creates its files with stdio, whose own calls of
 * write cannot be interposed). Nothing is written, as a full ext4 refuses new blocks. And
 * statvfs of a path under the directory says that no block is free.
 * Updates of existing RRD files go through mmap of blocks already allocated: a real full
 * disk does not stop them either, and neither does this shim.
 *
 * Each call decides afresh: the flag with access(2), the file with fstat(2) and a
 * readlink(2) of /proc/self/fd/N. Other files (sockets, pipes, the log on stderr, files
 * elsewhere) are never touched. REEVE_ENOSPC_COUNT, when set, names a file to which one
 * byte is appended (with the real write) per refused call, so a test can tell that the
 * shim was at work.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* The exported wrappers: declared here, as -Wmissing-prototypes asks. */
ssize_t write(int fd, const void *buf, size_t n);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);
ssize_t writev(int fd, const struct iovec *iov, int cnt);
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off);
int fsync(int fd);
int fdatasync(int fd);
int ftruncate(int fd, off_t len);
int ftruncate64(int fd, off_t len);
int posix_fallocate(int fd, off_t off, off_t len);
int posix_fallocate64(int fd, off_t off, off_t len);
int fallocate(int fd, int mode, off_t off, off_t len);
int fallocate64(int fd, int mode, off_t off, off_t len);
size_t fwrite(const void *p, size_t size, size_t n, FILE *f);
int fputs(const char *s, FILE *f);
int fputc(int c, FILE *f);
int fflush(FILE *f);
int fclose(FILE *f);
int statvfs(const char *path, struct statvfs *sv);
int statvfs64(const char *path, struct statvfs64 *sv);

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (real_##name == NULL) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* Count one refused call in REEVE_ENOSPC_COUNT (best effort, with the real write). */
static void
count_refusal(void)
{
	const char *path = getenv("REEVE_ENOSPC_COUNT");
	int fd, e = errno;

	REAL(write);
	if (path != NULL && (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) != -1) {
		if (real_write(fd, "x", 1) < 0) {
			/* nothing to do: the count is advisory */
		}
		close(fd);
	}
	errno = e;
}

/* 1 when fd is a regular file under REEVE_ENOSPC_DIR and the flag file exists. */
static int
full(int fd)
{
	const char *dir = getenv("REEVE_ENOSPC_DIR"), *flag = getenv("REEVE_ENOSPC_FLAG");
	char link[64], path[PATH_MAX];
	struct stat st;
	size_t dl;
	ssize_t n;
	int e = errno, rc = 0;

	if (dir == NULL || flag == NULL || fd < 0 || access(flag, F_OK) != 0)
		goto out;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		goto out;
	path[n] = '\0';
	dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	rc = strncmp(path, dir, dl) == 0 && (path[dl] == '/' || path[dl] == '\0');
	if (rc)
		count_refusal();
out:
	errno = e;
	return rc;
}

static int
full_stream(FILE *f)
{
	return f != NULL && full(fileno(f));
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	REAL(write);
	if (n > 0 && full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_write(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	if (n > 0 && full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_pwrite(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite64);
	if (n > 0 && full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_pwrite64(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_writev(fd, iov, cnt);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	REAL(pwritev);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_pwritev(fd, iov, cnt, off);
}

int
fsync(int fd)
{
	REAL(fsync);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	REAL(fdatasync);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_fdatasync(fd);
}

int
ftruncate(int fd, off_t len)
{
	REAL(ftruncate);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_ftruncate(fd, len);
}

int
ftruncate64(int fd, off_t len)
{
	REAL(ftruncate64);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_ftruncate64(fd, len);
}

/* posix_fallocate returns the error number instead of setting errno. */
int
posix_fallocate(int fd, off_t off, off_t len)
{
	REAL(posix_fallocate);
	if (full(fd))
		return ENOSPC;
	return real_posix_fallocate(fd, off, len);
}

int
posix_fallocate64(int fd, off_t off, off_t len)
{
	REAL(posix_fallocate64);
	if (full(fd))
		return ENOSPC;
	return real_posix_fallocate64(fd, off, len);
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	REAL(fallocate);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_fallocate(fd, mode, off, len);
}

int
fallocate64(int fd, int mode, off_t off, off_t len)
{
	REAL(fallocate64);
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real_fallocate64(fd, mode, off, len);
}

size_t
fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	REAL(fwrite);
	if (size > 0 && n > 0 && full_stream(f)) {
		errno = ENOSPC;
		return 0;
	}
	return real_fwrite(p, size, n, f);
}

int
fputs(const char *s, FILE *f)
{
	REAL(fputs);
	if (*s != '\0' && full_stream(f)) {
		errno = ENOSPC;
		return EOF;
	}
	return real_fputs(s, f);
}

int
fputc(int c, FILE *f)
{
	REAL(fputc);
	if (full_stream(f)) {
		errno = ENOSPC;
		return EOF;
	}
	return real_fputc(c, f);
}

int
fflush(FILE *f)
{
	REAL(fflush);
	if (full_stream(f)) {
		errno = ENOSPC;
		return EOF;
	}
	return real_fflush(f);
}

/* The stream is closed either way (as fclose does on a failed flush); its buffer is lost. */
int
fclose(FILE *f)
{
	int refuse = full_stream(f), rc;

	REAL(fclose);
	if (refuse)
		__fpurge(f);
	rc = real_fclose(f);
	if (refuse) {
		errno = ENOSPC;
		return EOF;
	}
	return rc;
}

/* 1 when path is under REEVE_ENOSPC_DIR (after realpath) and the flag file exists. */
static int
full_path(const char *path)
{
	const char *dir = getenv("REEVE_ENOSPC_DIR"), *flag = getenv("REEVE_ENOSPC_FLAG");
	char real[PATH_MAX];
	size_t dl;
	int e = errno, rc = 0;

	if (dir != NULL && flag != NULL && access(flag, F_OK) == 0 && realpath(path, real) != NULL) {
		dl = strlen(dir);
		while (dl > 1 && dir[dl - 1] == '/')
			dl--;
		rc = strncmp(real, dir, dl) == 0 && (real[dl] == '/' || real[dl] == '\0');
	}
	errno = e;
	return rc;
}

int
statvfs(const char *path, struct statvfs *sv)
{
	int rc;

	REAL(statvfs);
	rc = real_statvfs(path, sv);
	if (rc == 0 && full_path(path))
		sv->f_bfree = sv->f_bavail = 0;
	return rc;
}

int
statvfs64(const char *path, struct statvfs64 *sv)
{
	int rc;

	REAL(statvfs64);
	rc = real_statvfs64(path, sv);
	if (rc == 0 && full_path(path))
		sv->f_bfree = sv->f_bavail = 0;
	return rc;
}
