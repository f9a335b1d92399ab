/* util.h: allocation that dies loudly, growable string buffers, small helpers. */
#ifndef REEVE_UTIL_H
#define REEVE_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Allocate or die: on out-of-memory these log and abort, so callers never see NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray: like xrealloc(p, nmemb * size) with an overflow check. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new string formatted like printf; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated once anything was appended. */
struct buf {
	char *data;
	size_t len, cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Cuts the buffer back to its first len bytes (undoing appends); a longer len changes nothing. */
void buf_truncate(struct buf *b, size_t len);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
/* Appends s as a JSON string literal: quoted, with ", \ and control characters escaped. */
void buf_json_string(struct buf *b, const char *s);
/* Hands the data to the caller (who frees it) and leaves the buffer empty. */
char *buf_steal(struct buf *b);
/*
 * Appends n bytes as base64 (RFC 4648, padded). wrap > 0 ends every wrap characters and
 * the last line with CRLF (MIME bodies: 76); wrap 0 appends one unbroken string.
 */
void buf_base64(struct buf *b, const void *data, size_t n, size_t wrap);
/* Appends s with &, <, >, " and ' written as HTML character references. */
void buf_html_escape(struct buf *b, const char *s);

/*
 * The columns s takes on a terminal, for aligning plain-text tables: one per code point,
 * two for East Asian wide and fullwidth characters (CJK, Hangul, fullwidth forms, most
 * emoji), none for combining marks and zero-width characters. An invalid byte counts one.
 */
size_t util_utf8_width(const char *s);

/* Bounded copy that always NUL-terminates; returns strlen(src) like strlcpy. */
size_t strlcpy_r(char *dst, const char *src, size_t size);

/* Seconds since the epoch, and seconds on the monotonic clock. */
double util_now(void);
double util_monotonic(void);

/*
 * Prometheus-style number formatting: shortest text that reads back as the same double,
 * "NaN", "+Inf", "-Inf". Writes into buf (at least 32 bytes) and returns buf.
 */
char *util_fmt_double(char *buf, size_t size, double v);

/*
 * A time in RFC 3339, UTC, as Go's RFC3339Nano prints it (the fraction cut of trailing
 * zeros; microseconds at most): "2024-05-01T12:00:03.25Z". A NaN time prints as Go's zero
 * time "0001-01-01T00:00:00Z", which is what Prometheus answers for "never". Writes into
 * buf (at least 40 bytes) and returns buf.
 */
char *util_fmt_rfc3339(char *buf, size_t size, double t);

/*
 * A time as the Prometheus API takes one: Unix seconds (a fraction allowed) or RFC 3339
 * ("2024-05-01T12:00:00Z", "2024-05-01T14:00:00.5+02:00"). Returns 0 with *t in Unix
 * seconds, or -1 for anything else.
 */
int util_parse_time(const char *s, double *t);

/* Prometheus name rules: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*. */
int util_valid_metric_name(const char *s);
int util_valid_label_name(const char *s);

/* mkdir -p with mode 0755; returns 0 or -1 with errno set. */
int util_mkdir_p(const char *path);

/* Write all n bytes to fd (retrying short writes and EINTR); 0, or -1 with errno set. */
int util_write_all(int fd, const void *data, size_t n);
/* fsync a directory (so that a rename or an unlink in it is durable); 0 or -1 with errno. */
int util_fsync_dir(const char *dir);
/*
 * Replace path with data atomically and durably: written to a new temporary file in tmpdir
 * (NULL: path's own directory; it must be on the same file system), fsync'd, renamed onto
 * path, and path's directory fsync'd. A crash leaves the old file or the new one, never a
 * mix. Returns 0, or -1 with errno set (the temporary file is removed).
 */
int util_write_file_atomic(const char *path, const char *tmpdir, const void *data, size_t n);

/* 64-bit FNV-1a hash of n bytes. */
unsigned long long util_hash(const void *data, size_t n);

/*
 * Read a whole file (at most max bytes) into a new NUL-terminated buffer, its length in
 * *len. Returns NULL with errno set (EFBIG when larger than max).
 */
char *util_read_file(const char *path, size_t max, size_t *len);

#endif /* REEVE_UTIL_H */
