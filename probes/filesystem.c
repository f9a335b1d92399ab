/* filesystem.c: the filesystem probe: size and free space of mounted filesystems (statvfs). */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "filter.h"
#include "proc.h"

#define FS_FSTYPE_EXCLUDE_DEFAULT "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|" \
	"devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|" \
	"securityfs|selinuxfs|squashfs|sysfs|tracefs)$"
#define FS_MOUNT_EXCLUDE_DEFAULT "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+)($|/)"

/* Called for each mount, strings decoded and NUL-terminated; ro from the mount options. */
typedef void (*mount_fn)(void *arg, const char *device, const char *mountpoint,
    const char *fstype, int ro);

REEVE_STATIC int unescape_octal(char *dst, size_t dstlen, const char *src, size_t srclen);
REEVE_STATIC int parse_mountinfo(const char *buf, size_t len, mount_fn fn, void *arg);
REEVE_STATIC int parse_mounts(const char *buf, size_t len, mount_fn fn, void *arg);

static const struct reeve_metric m_size = {
	"filesystem_size_bytes", "Size of the filesystem.", REEVE_GAUGE
};
static const struct reeve_metric m_free = {
	"filesystem_free_bytes", "Free space, including the space reserved for root.", REEVE_GAUGE
};
static const struct reeve_metric m_avail = {
	"filesystem_avail_bytes", "Free space available to unprivileged users.", REEVE_GAUGE
};
static const struct reeve_metric m_files = {
	"filesystem_files", "Inodes of the filesystem.", REEVE_GAUGE
};
static const struct reeve_metric m_files_free = {
	"filesystem_files_free", "Free inodes.", REEVE_GAUGE
};
static const struct reeve_metric m_readonly = {
	"filesystem_readonly", "1 when the filesystem is mounted read-only.", REEVE_GAUGE
};

struct mount {
	char *device;
	char *mountpoint;
	char *fstype;
	int ro;
	int warned;	/* statvfs failure already logged */
	size_t seq;	/* position in the mount table */
};

struct filesystem_state {
	const struct reeve_host *host;
	struct proc_file table;		/* mountinfo, or mounts on kernels without it */
	int mountinfo;			/* table is mountinfo */
	int pollable;			/* procfs: poll() reports changes; else compare content */
	char *last;			/* the content parsed last, when not pollable */
	size_t lastlen;
	struct filter fstype_include;
	struct filter fstype_exclude;
	struct filter mount_include;
	struct filter mount_exclude;
	struct mount *mounts;		/* the mounts to report, one per mountpoint, sorted */
	size_t nmounts;
	size_t cap;
	int failed;			/* out of memory while building the table */
	int stale;			/* the last refresh failed: read the table again */
};

/*
 * Decode the octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) that the
 * kernel puts in mount paths. dst receives a NUL-terminated string. Returns 0, or -1 when
 * dst is too small or the result would hold a NUL byte.
 */
REEVE_STATIC int
unescape_octal(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i, o = 0;
	int c;

	for (i = 0; i < srclen; i++) {
		c = (unsigned char)src[i];
		if (c == '\\' && srclen - i > 3 && src[i + 1] >= '0' && src[i + 1] <= '3' &&
		    src[i + 2] >= '0' && src[i + 2] <= '7' && src[i + 3] >= '0' && src[i + 3] <= '7') {
			c = (src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 + (src[i + 3] - '0');
			i += 3;
		}
		if (c == 0)	/* escaped or raw, a NUL would cut the name short */
			return -1;
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = (char)c;
	}
	if (o >= dstlen)
		return -1;
	dst[o] = '\0';
	return 0;
}

/* Whether the comma-separated options [s, s + n) contain exactly "ro". */
static int
has_ro(const char *s, size_t n)
{
	const char *end = s + n, *comma;

	while (s < end) {
		comma = memchr(s, ',', (size_t)(end - s));
		if (comma == NULL)
			comma = end;
		if (comma - s == 2 && s[0] == 'r' && s[1] == 'o')
			return 1;
		s = comma + 1;
	}
	return 0;
}

static int
decode_call(mount_fn fn, void *arg, const char *dev, size_t devlen, const char *mp,
    size_t mplen, const char *fs, size_t fslen, int ro)
{
	char device[PATH_MAX], mountpoint[PATH_MAX], fstype[256];

	if (unescape_octal(device, sizeof(device), dev, devlen) == -1 ||
	    unescape_octal(mountpoint, sizeof(mountpoint), mp, mplen) == -1 ||
	    unescape_octal(fstype, sizeof(fstype), fs, fslen) == -1 || mountpoint[0] != '/')
		return -1;
	fn(arg, device, mountpoint, fstype, ro);
	return 0;
}

/*
 * Parse /proc/PID/mountinfo: "id parent major:minor root mountpoint options [optional...]
 * - fstype source superoptions". fn is called for each complete, well-formed line.
 * Returns the number of mounts.
 */
REEVE_STATIC int
parse_mountinfo(const char *buf, size_t len, mount_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len, *line, *eol, *f, *mp, *opts, *fs, *dev;
	size_t flen, mplen, optslen, fslen, devlen, i;
	int n = 0, ro;

	while ((line = proc_next_line(&p, end, &eol)) != NULL) {
		for (i = 0; i < 4; i++)		/* id, parent, major:minor, root */
			if ((f = proc_next_field(&line, eol, &flen)) == NULL)
				break;
		if (i < 4 || (mp = proc_next_field(&line, eol, &mplen)) == NULL ||
		    (opts = proc_next_field(&line, eol, &optslen)) == NULL)
			continue;
		while ((f = proc_next_field(&line, eol, &flen)) != NULL)
			if (flen == 1 && f[0] == '-')
				break;
		if (f == NULL || (fs = proc_next_field(&line, eol, &fslen)) == NULL ||
		    (dev = proc_next_field(&line, eol, &devlen)) == NULL)
			continue;
		ro = has_ro(opts, optslen);
		if ((f = proc_next_field(&line, eol, &flen)) != NULL && has_ro(f, flen))
			ro = 1;
		if (decode_call(fn, arg, dev, devlen, mp, mplen, fs, fslen, ro) == 0)
			n++;
	}
	return n;
}

/* Parse /proc/mounts ("device mountpoint fstype options 0 0"), as parse_mountinfo(). */
REEVE_STATIC int
parse_mounts(const char *buf, size_t len, mount_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len, *line, *eol, *dev, *mp, *fs, *opts;
	size_t devlen, mplen, fslen, optslen;
	int n = 0;

	while ((line = proc_next_line(&p, end, &eol)) != NULL) {
		if ((dev = proc_next_field(&line, eol, &devlen)) == NULL ||
		    (mp = proc_next_field(&line, eol, &mplen)) == NULL ||
		    (fs = proc_next_field(&line, eol, &fslen)) == NULL ||
		    (opts = proc_next_field(&line, eol, &optslen)) == NULL)
			continue;
		if (decode_call(fn, arg, dev, devlen, mp, mplen, fs, fslen,
		    has_ro(opts, optslen)) == 0)
			n++;
	}
	return n;
}

static void
mount_clear(struct mount *m)
{
	free(m->device);
	free(m->mountpoint);
	free(m->fstype);
	memset(m, 0, sizeof(*m));
}

static void
add_mount(void *arg, const char *device, const char *mountpoint, const char *fstype, int ro)
{
	struct filesystem_state *st = arg;
	struct mount *m, *nm;
	size_t ncap;

	if (!filter_pass(&st->fstype_include, &st->fstype_exclude, fstype) ||
	    !filter_pass(&st->mount_include, &st->mount_exclude, mountpoint))
		return;
	if (st->nmounts == st->cap) {
		ncap = st->cap ? st->cap * 2 : 16;
		if ((nm = realloc(st->mounts, ncap * sizeof(*nm))) == NULL) {
			st->failed = 1;
			return;
		}
		st->mounts = nm;
		st->cap = ncap;
	}
	m = &st->mounts[st->nmounts];
	m->device = strdup(device);
	m->mountpoint = strdup(mountpoint);
	m->fstype = strdup(fstype);
	m->ro = ro;
	m->warned = 0;
	m->seq = st->nmounts;
	if (m->device == NULL || m->mountpoint == NULL || m->fstype == NULL) {
		mount_clear(m);
		st->failed = 1;
		return;
	}
	st->nmounts++;
}

static int
mount_cmp(const void *a, const void *b)
{
	const struct mount *ma = a, *mb = b;
	int c = strcmp(ma->mountpoint, mb->mountpoint);

	if (c != 0)
		return c;
	return ma->seq < mb->seq ? -1 : ma->seq > mb->seq;
}

/*
 * Sort the new table by mountpoint, keep only the last mount of a mountpoint mounted over
 * again (the visible one), and carry the "already logged" marks over from the old table,
 * sorted the same way: O(n log n) even with the thousands of mounts of a container host.
 */
static void
settle_mounts(struct filesystem_state *st, const struct mount *old, size_t nold)
{
	size_t i, n = 0, j = 0;
	int c;

	qsort(st->mounts, st->nmounts, sizeof(*st->mounts), mount_cmp);
	for (i = 0; i < st->nmounts; i++) {
		if (i + 1 < st->nmounts &&
		    strcmp(st->mounts[i].mountpoint, st->mounts[i + 1].mountpoint) == 0) {
			mount_clear(&st->mounts[i]);
			continue;
		}
		st->mounts[n++] = st->mounts[i];
	}
	st->nmounts = n;
	for (i = 0; i < n && j < nold; ) {
		c = strcmp(st->mounts[i].mountpoint, old[j].mountpoint);
		if (c == 0)
			st->mounts[i++].warned = old[j++].warned;
		else if (c < 0)
			i++;
		else
			j++;
	}
}

static void
free_mounts(struct mount *mounts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mount_clear(&mounts[i]);
	free(mounts);
}

/* Re-read the mount table if it changed (or was never read). Returns 0 or -1 with errno. */
static int
refresh_mounts(struct filesystem_state *st, int force)
{
	struct pollfd pfd;
	struct mount *old = st->mounts;
	size_t nold = st->nmounts;
	char *copy;

	if (!force && st->pollable) {
		pfd.fd = st->table.fd;
		pfd.events = POLLPRI;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) == -1)
			return -1;
		if ((pfd.revents & (POLLPRI | POLLERR)) == 0)
			return 0;
	}
	if (proc_file_read(&st->table) == -1)
		return -1;
	if (!force && !st->pollable && st->last != NULL && st->lastlen == st->table.len &&
	    memcmp(st->last, st->table.buf, st->lastlen) == 0)
		return 0;
	if (!st->pollable) {
		if ((copy = malloc(st->table.len + 1)) == NULL)
			return -1;
		memcpy(copy, st->table.buf, st->table.len);
		free(st->last);
		st->last = copy;
		st->lastlen = st->table.len;
	}
	st->mounts = NULL;
	st->nmounts = st->cap = 0;
	st->failed = 0;
	if (st->mountinfo)
		parse_mountinfo(st->table.buf, st->table.len, add_mount, st);
	else
		parse_mounts(st->table.buf, st->table.len, add_mount, st);
	settle_mounts(st, old, nold);
	free_mounts(old, nold);
	if (st->failed) {
		/* a partial table must not look current: read it again next time */
		free(st->last);
		st->last = NULL;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static int
filesystem_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct filesystem_state *st = state;
	struct reeve_label labels[3];
	struct statvfs sv;
	struct mount *m;
	double frsize;
	size_t i;

	if (refresh_mounts(st, st->stale) == -1) {
		/* poll() reports a change once: without this it would never be read */
		st->stale = 1;
		snprintf(err, errlen, "read %s: %s", st->table.path, strerror(errno));
		return -1;
	}
	st->stale = 0;
	labels[0].name = "device";
	labels[1].name = "fstype";
	labels[2].name = "mountpoint";
	for (i = 0; i < st->nmounts; i++) {
		m = &st->mounts[i];
		if (statvfs(m->mountpoint, &sv) == -1) {
			if (!m->warned)
				st->host->log(REEVE_LOG_WARN, "statvfs %s: %s (skipped)",
				    m->mountpoint, strerror(errno));
			m->warned = 1;
			continue;
		}
		labels[0].value = m->device;
		labels[1].value = m->fstype;
		labels[2].value = m->mountpoint;
		frsize = sv.f_frsize ? (double)sv.f_frsize : (double)sv.f_bsize;
		st->host->emit(em, &m_size, labels, 3, (double)sv.f_blocks * frsize);
		st->host->emit(em, &m_free, labels, 3, (double)sv.f_bfree * frsize);
		st->host->emit(em, &m_avail, labels, 3, (double)sv.f_bavail * frsize);
		st->host->emit(em, &m_files, labels, 3, (double)sv.f_files);
		st->host->emit(em, &m_files_free, labels, 3, (double)sv.f_ffree);
		st->host->emit(em, &m_readonly, labels, 3,
		    (m->ro || (sv.f_flag & ST_RDONLY)) ? 1 : 0);
	}
	return 0;
}

static void
filesystem_destroy(void *state)
{
	struct filesystem_state *st = state;

	if (st == NULL)
		return;
	proc_file_close(&st->table);
	free(st->last);
	filter_free(&st->fstype_include);
	filter_free(&st->fstype_exclude);
	filter_free(&st->mount_include);
	filter_free(&st->mount_exclude);
	free_mounts(st->mounts, st->nmounts);
	free(st);
}

static int
filesystem_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct filesystem_state *st;
	const char *root = proc_opt_root(cfg, host);
	struct stat sb;
	int rc = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	st->table.fd = -1;
	if (filter_init(&st->fstype_include, cfg, host, "fstype_include", NULL) == -1)
		rc = -1;
	if (filter_init(&st->fstype_exclude, cfg, host, "fstype_exclude",
	    FS_FSTYPE_EXCLUDE_DEFAULT) == -1)
		rc = -1;
	if (filter_init(&st->mount_include, cfg, host, "mount_include", NULL) == -1)
		rc = -1;
	if (filter_init(&st->mount_exclude, cfg, host, "mount_exclude",
	    FS_MOUNT_EXCLUDE_DEFAULT) == -1)
		rc = -1;
	st->mountinfo = 1;
	if (proc_file_open(&st->table, root, "/proc/self/mountinfo") == -1) {
		st->mountinfo = 0;
		if (proc_file_init(&st->table, root, "/proc/mounts", cfg, host) == -1) {
			rc = -1;
		}
	}
	/* procfs files have size 0 and signal changes through poll(); recorded files do not */
	if (rc == 0 && fstat(st->table.fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0)
		st->pollable = 1;
	if (rc == 0 && refresh_mounts(st, 1) == -1) {
		host->config_error(cfg, "root", "cannot read %s: %s", st->table.path,
		    strerror(errno));
		rc = -1;
	}
	if (rc == -1) {
		filesystem_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "filesystem",
	.description = "filesystem size and free space (mountinfo, statvfs)",
	.init = filesystem_init,
	.collect = filesystem_collect,
	.destroy = filesystem_destroy,
};

/* reeve_probe_entry: the filesystem probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
