/* disk.c: the disk probe: block device I/O counters from /proc/diskstats. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
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

/* An optional regex option: its last value, else def; "" or no default means no filter. */
struct filter {
	regex_t re;
	int set;
};

static int
filter_init(struct filter *f, struct reeve_probe_config *cfg, const struct reeve_host *host,
    const char *key, const char *def)
{
	const char *v, *last = NULL;
	char msg[256];
	size_t i;
	int rc;

	f->set = 0;
	for (i = 0; (v = host->opt_get(cfg, key, i)) != NULL; i++)
		last = v;
	if (last == NULL)
		last = def;
	if (last == NULL || *last == '\0')
		return 0;
	if ((rc = regcomp(&f->re, last, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &f->re, msg, sizeof(msg));
		host->config_error(cfg, key, "invalid regular expression '%s': %s", last, msg);
		return -1;
	}
	f->set = 1;
	return 0;
}

static void
filter_free(struct filter *f)
{
	if (f->set)
		regfree(&f->re);
	f->set = 0;
}

/* Whether name passes an include filter (none: everything) and an exclude filter. */
static int
filter_pass(const struct filter *inc, const struct filter *exc, const char *name)
{
	if (inc->set && regexec(&inc->re, name, 0, NULL, 0) != 0)
		return 0;
	if (exc->set && regexec(&exc->re, name, 0, NULL, 0) == 0)
		return 0;
	return 1;
}

#define NAME_MAX_LEN 64

/*
 * Filter decisions by position: the devices of /proc files come in a stable order, so the
 * name at the same position as last time reuses its decision and regexec runs only when
 * the list changes.
 */
struct named {
	char name[NAME_MAX_LEN];
	int want;
};

struct namecache {
	struct named *v;
	size_t n;
	size_t cap;
};

/* Whether the pos-th name of this read passes the filters; -1 when out of memory. */
static int
namecache_want(struct namecache *nc, size_t pos, const char *name, const struct filter *inc,
    const struct filter *exc)
{
	struct named *nv;
	size_t ncap;

	if (pos < nc->n && strcmp(nc->v[pos].name, name) == 0)
		return nc->v[pos].want;
	if (pos >= nc->cap) {
		ncap = nc->cap ? nc->cap * 2 : 16;
		if ((nv = realloc(nc->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		nc->v = nv;
		nc->cap = ncap;
	}
	snprintf(nc->v[pos].name, sizeof(nc->v[pos].name), "%s", name);
	nc->v[pos].want = filter_pass(inc, exc, name);
	if (pos >= nc->n)
		nc->n = pos + 1;
	return nc->v[pos].want;
}

#define DISK_MAXSTATS 17	/* after major, minor and name: 11 (old), 15 (4.18+), 17 (5.5+) */
#define DISK_EXCLUDE_DEFAULT "^(ram|loop|fd)[0-9]+$"

/* Called for each device line: v holds nv (11, 15 or 17) statistics. */
typedef void (*disk_fn)(void *arg, const char *name, const uint64_t *v, size_t nv);

REEVE_STATIC int parse_diskstats(const char *buf, size_t len, disk_fn fn, void *arg);

/* One metric per column of /proc/diskstats, with the factor to base units. */
static const struct {
	struct reeve_metric m;
	double scale;
} disk_metrics[DISK_MAXSTATS] = {
	{ { "disk_reads_completed_total", "Reads completed.", REEVE_COUNTER }, 1 },
	{ { "disk_reads_merged_total", "Adjacent reads merged into one.", REEVE_COUNTER }, 1 },
	{ { "disk_read_bytes_total", "Bytes read.", REEVE_COUNTER }, 512 },
	{ { "disk_read_time_seconds_total", "Time spent by all reads.", REEVE_COUNTER }, 0.001 },
	{ { "disk_writes_completed_total", "Writes completed.", REEVE_COUNTER }, 1 },
	{ { "disk_writes_merged_total", "Adjacent writes merged into one.", REEVE_COUNTER }, 1 },
	{ { "disk_written_bytes_total", "Bytes written.", REEVE_COUNTER }, 512 },
	{ { "disk_write_time_seconds_total", "Time spent by all writes.", REEVE_COUNTER }, 0.001 },
	{ { "disk_io_now", "I/Os in progress.", REEVE_GAUGE }, 1 },
	{ { "disk_io_time_seconds_total", "Time the device was busy with I/O.", REEVE_COUNTER },
	    0.001 },
	{ { "disk_io_time_weighted_seconds_total",
	    "I/O time weighted by the number of I/Os in progress.", REEVE_COUNTER }, 0.001 },
	{ { "disk_discards_completed_total", "Discards completed.", REEVE_COUNTER }, 1 },
	{ { "disk_discards_merged_total", "Adjacent discards merged into one.", REEVE_COUNTER },
	    1 },
	{ { "disk_discarded_bytes_total", "Bytes discarded.", REEVE_COUNTER }, 512 },
	{ { "disk_discard_time_seconds_total", "Time spent by all discards.", REEVE_COUNTER },
	    0.001 },
	{ { "disk_flush_requests_total", "Flush requests completed.", REEVE_COUNTER }, 1 },
	{ { "disk_flush_time_seconds_total", "Time spent by all flushes.", REEVE_COUNTER },
	    0.001 },
};

struct disk_state {
	const struct reeve_host *host;
	struct pfile diskstats;
	struct filter include;
	struct filter exclude;
	struct namecache names;
	size_t pos;			/* position of the device in this read */
	int failed;			/* out of memory during this collect */
	struct reeve_emitter *em;	/* set during collect */
};

/*
 * Parse /proc/diskstats: fn is called for each complete line "major minor name" followed
 * by at least 11 numbers (Linux 2.6.25+; 15 since 4.18, 17 since 5.5); lines with fewer
 * (old partition lines) or with garbage are skipped. Returns the number of devices.
 */
REEVE_STATIC int
parse_diskstats(const char *buf, size_t len, disk_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f, *name;
	char dev[NAME_MAX_LEN];
	uint64_t v[DISK_MAXSTATS], num;
	size_t flen, nlen, n;
	int ndev = 0;

	while ((line = next_line(&p, end, &eol)) != NULL) {
		if ((f = next_field(&line, eol, &flen)) == NULL || parse_u64(f, flen, &num) == -1 ||
		    (f = next_field(&line, eol, &flen)) == NULL || parse_u64(f, flen, &num) == -1 ||
		    (name = next_field(&line, eol, &nlen)) == NULL || nlen >= sizeof(dev))
			continue;
		for (n = 0; (f = next_field(&line, eol, &flen)) != NULL; n++) {
			if (n < DISK_MAXSTATS && parse_u64(f, flen, &v[n]) == -1)
				break;
		}
		if (f != NULL || n < 11)
			continue;
		if (n > DISK_MAXSTATS)
			n = DISK_MAXSTATS;
		else if (n != 11 && n != 15 && n != 17)
			n = n < 15 ? 11 : 15;
		memcpy(dev, name, nlen);
		dev[nlen] = '\0';
		fn(arg, dev, v, n);
		ndev++;
	}
	return ndev;
}

static void
emit_disk(void *arg, const char *name, const uint64_t *v, size_t nv)
{
	struct disk_state *st = arg;
	struct reeve_label label;
	size_t i;
	int want;

	want = namecache_want(&st->names, st->pos++, name, &st->include, &st->exclude);
	if (want == -1)
		st->failed = 1;
	if (want != 1)
		return;
	label.name = "device";
	label.value = name;
	for (i = 0; i < nv; i++)
		st->host->emit(st->em, &disk_metrics[i].m, &label, 1,
		    (double)v[i] * disk_metrics[i].scale);
}

static int
disk_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct disk_state *st = state;

	if (pfile_read(&st->diskstats) == -1) {
		snprintf(err, errlen, "read %s: %s", st->diskstats.path, strerror(errno));
		return -1;
	}
	st->em = em;
	st->pos = 0;
	st->failed = 0;
	parse_diskstats(st->diskstats.buf, st->diskstats.len, emit_disk, st);
	st->em = NULL;
	if (st->failed) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void
disk_destroy(void *state)
{
	struct disk_state *st = state;

	if (st == NULL)
		return;
	pfile_close(&st->diskstats);
	filter_free(&st->include);
	filter_free(&st->exclude);
	free(st->names.v);
	free(st);
}

static int
disk_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct disk_state *st;
	const char *root = opt_root(cfg, host);
	int rc = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	st->diskstats.fd = -1;
	if (filter_init(&st->include, cfg, host, "include", NULL) == -1)
		rc = -1;
	if (filter_init(&st->exclude, cfg, host, "exclude", DISK_EXCLUDE_DEFAULT) == -1)
		rc = -1;
	if (pfile_open(&st->diskstats, root, "/proc/diskstats") == -1) {
		host->config_error(cfg, "root", "cannot open %s: %s", st->diskstats.path,
		    strerror(errno));
		rc = -1;
	}
	if (rc == -1) {
		disk_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "disk",
	.description = "block device I/O (/proc/diskstats)",
	.init = disk_init,
	.collect = disk_collect,
	.destroy = disk_destroy,
};

/* reeve_probe_entry: the disk probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
