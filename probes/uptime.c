/* uptime.c: the uptime probe: time since boot (/proc/uptime) and boot time (/proc/stat). */
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

#ifdef REEVE_TESTING
#define REEVE_STATIC
#else
#define REEVE_STATIC static
#endif

#define PFILE_INITIAL 4096
#define PFILE_MAX (64u << 20)	/* no /proc file we read is anywhere near this */

/* A /proc file kept open and re-read from offset 0 into a buffer that grows as needed. */
struct pfile {
	int fd;
	char *buf;	/* len bytes read, then a NUL */
	size_t cap;	/* bytes buf can hold before its NUL */
	size_t len;
	char path[PATH_MAX];
};

/* root and path joined into dst; a root of "/" (or "") adds nothing. */
static int
join_path(char *dst, size_t dstlen, const char *root, const char *path)
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

static int
pfile_open(struct pfile *f, const char *root, const char *path)
{
	f->fd = -1;
	f->buf = NULL;
	f->cap = f->len = 0;
	if (join_path(f->path, sizeof(f->path), root, path) == -1)
		return -1;
	if ((f->buf = malloc(PFILE_INITIAL + 1)) == NULL)
		return -1;
	f->cap = PFILE_INITIAL;
	if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(f->buf);
		f->buf = NULL;
		return -1;
	}
	return 0;
}

/* Read the whole file again; a read that fills the buffer is retried with a larger one. */
static int
pfile_read(struct pfile *f)
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
		if (f->cap >= PFILE_MAX) {
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

static void
pfile_close(struct pfile *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
}

/*
 * The next complete line of [*p, end) without its '\n', or NULL. A last line without '\n'
 * is a truncated read and is never returned, so a value cut in half is never parsed.
 */
static const char *
next_line(const char **p, const char *end, const char **eol)
{
	const char *s = *p, *nl;

	if (s >= end || (nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
		return NULL;
	*eol = nl;
	*p = nl + 1;
	return s;
}

/* The next blank-separated field of [*p, end), or NULL at the end. */
static const char *
next_field(const char **p, const char *end, size_t *flen)
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

/* A decimal unsigned 64-bit number filling exactly [s, s + n); -1 if not, or too large. */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
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

/* A finite non-negative decimal number filling exactly [s, s + n); -1 if not. */
static int
parse_double(const char *s, size_t n, double *out)
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

/* The common `root` option: a directory prefixed to every /proc and /sys path. */
static const char *
opt_root(struct reeve_probe_config *cfg, const struct reeve_host *host)
{
	const char *v, *last = NULL;
	size_t i;

	for (i = 0; (v = host->opt_get(cfg, "root", i)) != NULL; i++)
		last = v;
	if (last == NULL || *last == '\0')
		return "/";
	return last;
}

static const struct reeve_metric m_uptime = {
	"uptime_seconds", "Time since the system booted.", REEVE_GAUGE
};
static const struct reeve_metric m_boot = {
	"boot_time_seconds", "When the system booted, in seconds since the epoch.", REEVE_GAUGE
};

REEVE_STATIC int parse_uptime(const char *buf, size_t len, double *uptime);
REEVE_STATIC int parse_btime(const char *buf, size_t len, uint64_t *btime);

struct uptime_state {
	const struct reeve_host *host;
	struct pfile uptime;
	struct pfile stat;
	uint64_t btime;		/* from /proc/stat, read again only when it may have moved */
	int have_btime;
};

/* Parse /proc/uptime ("1505.02 2957.32\n") into *uptime. Returns 0 or -1. */
REEVE_STATIC int
parse_uptime(const char *buf, size_t len, double *uptime)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f;
	size_t flen;

	if ((line = next_line(&p, end, &eol)) == NULL ||
	    (f = next_field(&line, eol, &flen)) == NULL)
		return -1;
	return parse_double(f, flen, uptime);
}

/* Find the complete "btime N" line of /proc/stat. Returns 0, or -1 when there is none. */
REEVE_STATIC int
parse_btime(const char *buf, size_t len, uint64_t *btime)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f;
	size_t flen;

	while ((line = next_line(&p, end, &eol)) != NULL) {
		if ((size_t)(eol - line) < 6 || memcmp(line, "btime ", 6) != 0)
			continue;
		line += 6;
		if ((f = next_field(&line, eol, &flen)) != NULL &&
		    parse_u64(f, flen, btime) == 0 && next_field(&line, eol, &flen) == NULL)
			return 0;
	}
	return -1;
}

static int
uptime_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct uptime_state *st = state;
	double up, est;
	uint64_t btime;

	if (pfile_read(&st->uptime) == -1) {
		snprintf(err, errlen, "read %s: %s", st->uptime.path, strerror(errno));
		return -1;
	}
	if (parse_uptime(st->uptime.buf, st->uptime.len, &up) == -1) {
		snprintf(err, errlen, "%s: malformed", st->uptime.path);
		return -1;
	}
	st->host->emit(em, &m_uptime, NULL, 0, up);
	/*
	 * btime only moves when the wall clock is set: read /proc/stat (the costly part of this
	 * probe) again only when now - uptime no longer matches the boot time known.
	 */
	est = st->host->now() - up;
	if (!st->have_btime || est < (double)st->btime - 2 || est > (double)st->btime + 2) {
		if (pfile_read(&st->stat) == -1) {
			snprintf(err, errlen, "read %s: %s", st->stat.path, strerror(errno));
			return -1;
		}
		if (parse_btime(st->stat.buf, st->stat.len, &btime) == -1) {
			snprintf(err, errlen, "%s: no btime line", st->stat.path);
			return -1;
		}
		st->btime = btime;
		st->have_btime = 1;
	}
	btime = st->btime;
	st->host->emit(em, &m_boot, NULL, 0, (double)btime);
	return 0;
}

static void
uptime_destroy(void *state)
{
	struct uptime_state *st = state;

	if (st == NULL)
		return;
	pfile_close(&st->uptime);
	pfile_close(&st->stat);
	free(st);
}

static int
uptime_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct uptime_state *st;
	const char *root = opt_root(cfg, host);

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	st->stat.fd = -1;
	if (pfile_open(&st->uptime, root, "/proc/uptime") == -1) {
		host->config_error(cfg, "root", "cannot open %s: %s", st->uptime.path,
		    strerror(errno));
		free(st);
		return -1;
	}
	if (pfile_open(&st->stat, root, "/proc/stat") == -1) {
		host->config_error(cfg, "root", "cannot open %s: %s", st->stat.path,
		    strerror(errno));
		uptime_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "uptime",
	.description = "time since boot and boot time (/proc/uptime, /proc/stat)",
	.init = uptime_init,
	.collect = uptime_collect,
	.destroy = uptime_destroy,
};

/* reeve_probe_entry: the uptime probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
