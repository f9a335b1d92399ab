/* util.c: allocation that dies loudly, growable string buffers, small helpers. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static void
oom(size_t n)
{
	fatalx("out of memory allocating %zu bytes", n);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("allocation overflow: %zu * %zu", nmemb, size);
	return xrealloc(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.data == NULL)
		return xstrdup("");
	return b.data;
}

void
buf_reserve(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		fatalx("buffer overflow");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap = b->cap > SIZE_MAX / 2 ? need : b->cap * 2;
	b->data = xrealloc(b->data, b->cap);
}

void
buf_append(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	buf_reserve(b, 64);
	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_json_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (;;) {
		size_t run = 0;
		unsigned char c;

		/* the characters that need no escape, in one append */
		while ((c = (unsigned char)s[run]) != '\0' && c != '"' && c != '\\' && c >= 0x20 &&
		    c != 0x7f)
			run++;
		buf_append(b, s, run);
		s += run;
		if (c == '\0')
			break;
		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
		} else if (c == '\n') {
			buf_puts(b, "\\n");
		} else if (c == '\t') {
			buf_puts(b, "\\t");
		} else {
			buf_printf(b, "\\u%04x", c);
		}
		s++;
	}
	buf_putc(b, '"');
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_base64(struct buf *b, const void *data, size_t n, size_t wrap)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t col = 0;

	if (n == 0)
		return;
	buf_reserve(b, (n + 2) / 3 * 4 + (wrap ? (n / 3 * 4 / wrap + 1) * 2 : 0));
	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 | (i + 1 < n ? (unsigned long)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
			i + 2 < n ? tab[v & 63] : '=' };

		for (int k = 0; k < 4; k++) {
			buf_putc(b, q[k]);
			if (wrap && ++col == wrap) {
				buf_append(b, "\r\n", 2);
				col = 0;
			}
		}
	}
	if (wrap && col)
		buf_append(b, "\r\n", 2);
}

void
buf_html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			buf_puts(b, "&amp;");
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else if (*s == '"')
			buf_puts(b, "&quot;");
		else if (*s == '\'')
			buf_puts(b, "&#39;");
		else
			buf_putc(b, *s);
	}
}

/*
 * Decodes the UTF-8 sequence at s into *cp and returns its length; an invalid or cut
 * sequence returns 1 with *cp = U+FFFD, so a caller always moves on.
 */
static size_t
utf8_decode(const unsigned char *s, unsigned long *cp)
{
	size_t n;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		c = s[0] & 0x1F;
		min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		c = s[0] & 0x0F;
		min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		goto bad;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
			goto bad;
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0xFFFD;
	return 1;
}

/* The columns of one code point: see util_utf8_width. Ranges from Unicode's EastAsianWidth. */
static int
codepoint_width(unsigned long c)
{
	static const unsigned long zero[][2] = {
		{ 0x0300, 0x036F }, { 0x200B, 0x200F }, { 0x20D0, 0x20FF }, { 0xFE00, 0xFE0F },
	};
	static const unsigned long wide[][2] = {
		{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x2E80, 0x303E },
		{ 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF },
		{ 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF }, { 0xFE10, 0xFE19 },
		{ 0xFE30, 0xFE6F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x1F300, 0x1F64F },
		{ 0x1F900, 0x1F9FF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
	};

	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (c >= zero[i][0] && c <= zero[i][1])
			return 0;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (c >= wide[i][0] && c <= wide[i][1])
			return 2;
	return 1;
}

size_t
util_utf8_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		unsigned long c;

		p += utf8_decode(p, &c);
		w += (size_t)codepoint_width(c);
	}
	return w;
}

size_t
strlcpy_r(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

double
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
util_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *
util_fmt_double(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	else if (fabs(v) < 1e15 && v == (double)(long long)v) /* the cast is undefined past 2^63 */
		snprintf(buf, size, "%lld", (long long)v);
	else {
		/*
		 * The shortest %.Ng that reads back as the same double. A normal double printed
		 * with DBL_DIG (15) digits reads back as itself when some shorter form does, and
		 * %g drops the trailing zeros, so 15 gives that shortest form: only 16 and 17 are
		 * left to try (17 always reads back). Trying from 6 up cost up to 12 snprintf
		 * and strtod calls a value, the most of a large /api/v1/query_range answer.
		 * Subnormals have fewer digits of precision: for them, from 6 up.
		 */
		for (int prec = isnormal(v) ? DBL_DIG : 6; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, v);
			if (prec == 17 || strtod(buf, NULL) == v)
				break;
		}
	}
	return buf;
}

int
util_valid_metric_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
		    (p != s && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

int
util_valid_label_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		    (p != s && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

int
util_mkdir_p(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char save = *s;
			*s = '\0';
			if (mkdir(p, 0755) == -1 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = save;
			if (save == '\0')
				break;
		}
	}
	free(p);
	return rc;
}

unsigned long long
util_hash(const void *data, size_t n)
{
	const unsigned char *p = data;
	unsigned long long h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

char *
util_fmt_rfc3339(char *buf, size_t size, double t)
{
	double fl;
	time_t sec;
	long us;
	struct tm tm;
	size_t n;

	if (!isfinite(t) || t < -62135596800.0 || t > 253402300799.0) {
		snprintf(buf, size, "0001-01-01T00:00:00Z");
		return buf;
	}
	fl = floor(t);
	sec = (time_t)fl;
	us = lround((t - fl) * 1e6);
	if (us >= 1000000) {
		sec++;
		us -= 1000000;
	}
	gmtime_r(&sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (us != 0 && n + 8 < size) {
		snprintf(buf + n, size - n, ".%06ld", us);
		n += 7;
		while (buf[n - 1] == '0')
			n--;
	}
	snprintf(buf + n, size - n, "Z");
	return buf;
}

/* Exactly n digits at *p, advancing it; -1 when they are not there. */
static int
digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

static int
expect(const char **p, const char *any)
{
	if (**p == '\0' || strchr(any, **p) == NULL)
		return -1;
	(*p)++;
	return 0;
}

int
util_parse_time(const char *s, double *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, off = 0;
	double frac = 0, scale = 0.1;
	time_t base;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	if (strspn(s, "0123456789.-+eE") == strlen(s)) {
		/* Unix seconds: no hex, no "inf", no spaces, which strtod would take */
		errno = 0;
		*t = strtod(s, &end);
		return *end == '\0' && errno == 0 && isfinite(*t) ? 0 : -1;
	}
	if ((y = digits(&p, 4)) < 0 || expect(&p, "-") || (mo = digits(&p, 2)) < 1 || mo > 12 ||
	    expect(&p, "-") || (d = digits(&p, 2)) < 1 || d > mdays[mo - 1] ||
	    expect(&p, "Tt ") || (h = digits(&p, 2)) < 0 || h > 23 || expect(&p, ":") ||
	    (mi = digits(&p, 2)) < 0 || mi > 59 || expect(&p, ":") ||
	    (sec = digits(&p, 2)) < 0 || sec > 59)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if ((oh = digits(&p, 2)) < 0 || oh > 23 || expect(&p, ":") ||
		    (om = digits(&p, 2)) < 0 || om > 59)
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	base = timegm(&tm);
	*t = (double)base - off + frac;
	return 0;
}

int
util_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
util_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, saved;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
util_write_file_atomic(const char *path, const char *tmpdir, const void *data, size_t n)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
	    xstrndup(path, (size_t)(slash - path));
	char *tmp = xasprintf("%s/.%s.XXXXXX", tmpdir ? tmpdir : dir, slash ? slash + 1 : path);
	int fd, rc = -1, saved;

	if ((fd = mkstemp(tmp)) == -1)
		goto out;
	if (util_write_all(fd, data, n) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		goto fail;
	rc = util_fsync_dir(dir);
	goto out;
fail:
	saved = errno;
	unlink(tmp);
	errno = saved;
out:
	saved = errno;
	free(tmp);
	free(dir);
	errno = saved;
	return rc;
}

char *
util_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > max) {
			fclose(f);
			buf_free(&b);
			errno = EFBIG;
			return NULL;
		}
		buf_append(&b, chunk, n);
	}
	if (ferror(f)) {
		fclose(f);
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	*len = b.len;
	buf_putc(&b, '\0');
	return buf_steal(&b);
}
