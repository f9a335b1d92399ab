/* proc.h: reading /proc and /sys files and parsing their fields, for the built-in probes. */
#ifndef REEVE_PROBES_PROC_H
#define REEVE_PROBES_PROC_H

/*
 * Internal to the built-in probes: proc.c is compiled into each probe module, which still
 * exports only reeve_probe_entry (the link keeps every other symbol local). Nothing here
 * is part of the probe ABI; third-party probes include only reeve-probe.h.
 */

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct reeve_host;
struct reeve_probe_config;

/*
 * Parsers the unit tests call are REEVE_STATIC: static in a probe module, external in a
 * test program (built with -DREEVE_TESTING) that re-declares them.
 */
#ifdef REEVE_TESTING
#define REEVE_STATIC
#else
#define REEVE_STATIC static
#endif

/* A /proc file kept open and re-read from offset 0 into a buffer that grows as needed. */
struct proc_file {
	int fd;		/* -1 when closed */
	char *buf;	/* len bytes read, then a NUL */
	size_t cap;	/* bytes buf can hold before its NUL */
	size_t len;
	char path[PATH_MAX];	/* root and path joined, for error messages */
};

/* ---- proc.c: each function's contract is in the comment above its definition ---- */
int proc_join_path(char *dst, size_t dstlen, const char *root, const char *path);
int proc_file_open(struct proc_file *f, const char *root, const char *path);
int proc_file_read(struct proc_file *f);
void proc_file_close(struct proc_file *f);
int proc_file_init(struct proc_file *f, const char *root, const char *path,
    struct reeve_probe_config *cfg, const struct reeve_host *host);
int proc_file_collect(struct proc_file *f, char *err, size_t errlen);
const char *proc_next_line(const char **p, const char *end, const char **eol);
const char *proc_next_field(const char **p, const char *end, size_t *flen);
int proc_parse_u64(const char *s, size_t n, uint64_t *out);
int proc_parse_double(const char *s, size_t n, double *out);
const char *proc_opt_root(struct reeve_probe_config *cfg, const struct reeve_host *host);

#endif /* REEVE_PROBES_PROC_H */
