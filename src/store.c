/* store.c: RRD files, one per series, written by one writer thread (librrd or rrdcached). */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>

#include "log.h"
#include "rrdcached.h"
#include "store.h"
#include "util.h"

#define STORE_NAME_MAX 255

struct store_file {
	char *rel;             /* path relative to data_dir, "rrd/..." */
	/*
	 * What librrd and rrdcached call the file: its absolute path under data_dir, or with
	 * rrdcached over TCP, its path under rrdcached's base directory ("DIR/...").
	 */
	char *path;
	int type;
	unsigned long step;
	int exists;            /* on disk (or known to rrdcached) */
	int hw;                /* created with Holt-Winters RRAs ([store] holt_winters) */
	long long last;        /* last second written, to drop same-second updates */
	int last_read;         /* last was read from the file (once, at the first write) */
	/*
	 * The type of the file's DS as store_fetch read it (enum reeve_metric_type), -1 until
	 * then or after the file is created anew: type is only a guess for files found at start.
	 * Guarded by files_lock.
	 */
	int ds_type;
	struct store_file *hnext;
};

struct item {
	struct store_file *f;
	double ts, value;
};

/*
 * Locks: files_lock guards the file table (files, nfiles, nbuckets); qlock guards the
 * queue, the counters and the flags below it. The writer thread alone touches the
 * contents of a struct store_file other than rel/path/type/step (set once at creation).
 */
struct store {
	char *data_dir;
	char *rrd_dir;
	char *preset;
	regex_t hw_re;             /* [store] holt_winters, when have_hw */
	int have_hw;
	unsigned long hw_season;   /* seconds */
	struct rrdcached *cached;
	struct rrdcached *reader;  /* readers' connection (FLUSH before a fetch), reader_lock */
	char *remote_dir;          /* over TCP: this reeve's directory in rrdcached's base, else NULL */
	char *daemon;              /* over TCP: rrdcached's address, for rrd_graph, else NULL */
	pthread_mutex_t reader_lock;

	pthread_mutex_t files_lock;
	struct store_file **buckets;
	size_t nbuckets, nfiles;

	pthread_mutex_t qlock;
	pthread_cond_t qcond;      /* writer waits for work */
	pthread_cond_t donecond;   /* store_sync waits for progress */
	struct item *q;
	size_t qlen, qcap, qmax;
	unsigned long long seq_put, seq_done; /* items accepted / written or failed */
	int stopping;
	double deadline;           /* monotonic; when the writer must give up */
	struct store_stats st;
	pthread_t writer;
};

/* ---- path encoding ---------------------------------------------------------------------- */

static int
keep_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-' || c == '.';
}

static int
label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

char *
store_path_encode(const char *name, const struct reeve_label *labels, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	struct reeve_label *sorted;
	struct buf b = { 0 };
	size_t comp;

	if (!util_valid_metric_name(name) || strlen(name) + 4 > STORE_NAME_MAX)
		return NULL;
	buf_puts(&b, name);
	sorted = xcalloc(n ? n : 1, sizeof(*sorted));
	if (n)
		memcpy(sorted, labels, n * sizeof(*labels));
	qsort(sorted, n, sizeof(*sorted), label_cmp);
	for (size_t i = 0; i < n; i++) {
		/* an empty value would make a path that decode rejects (the registry drops them) */
		if (!util_valid_label_name(sorted[i].name) || sorted[i].value[0] == '\0' ||
		    (i && !strcmp(sorted[i].name, sorted[i - 1].name)))
			goto fail;
		buf_putc(&b, '/');
		comp = b.len;
		buf_puts(&b, sorted[i].name);
		buf_putc(&b, '=');
		for (const unsigned char *p = (const unsigned char *)sorted[i].value; *p; p++) {
			if (keep_char(*p))
				buf_putc(&b, (char)*p);
			else {
				char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
				buf_append(&b, e, 3);
			}
		}
		if (b.len - comp + (i == n - 1 ? 4 : 0) > STORE_NAME_MAX)
			goto fail;
	}
	buf_puts(&b, ".rrd");
	free(sorted);
	return buf_steal(&b);
fail:
	free(sorted);
	buf_free(&b);
	return NULL;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
store_labels_free(struct reeve_label *labels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)labels[i].name);
		free((char *)labels[i].value);
	}
	free(labels);
}

int
store_path_decode(const char *path, char **name, struct reeve_label **labels, size_t *n)
{
	size_t len = strlen(path), cap = 0;
	char *copy, *p, *slash;
	struct reeve_label *l = NULL;
	size_t nl = 0;

	if (len < 5 || strcmp(path + len - 4, ".rrd") != 0)
		return -1;
	copy = xstrndup(path, len - 4);
	p = copy;
	slash = strchr(p, '/');
	if (slash)
		*slash = '\0';
	/* the limits of store_path_encode, so that only its own paths decode */
	if (!util_valid_metric_name(p) || strlen(p) + 4 > STORE_NAME_MAX)
		goto fail;
	*name = xstrdup(p);
	while (slash) {
		char *comp = slash + 1, *eq, *v;
		struct buf val = { 0 };

		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (strlen(comp) + (slash ? 0 : 4) > STORE_NAME_MAX)
			goto fail_name;
		eq = strchr(comp, '=');
		if (eq == NULL)
			goto fail_name;
		*eq = '\0';
		if (!util_valid_label_name(comp) || (nl && strcmp(l[nl - 1].name, comp) >= 0))
			goto fail_name;
		for (v = eq + 1; *v; v++) {
			if (*v == '%') {
				int hi = hexval(v[1]), lo = hi < 0 ? -1 : hexval(v[2]);
				if (hi < 0 || lo < 0 || (hi == 0 && lo == 0) || keep_char((unsigned char)(hi << 4 | lo))) {
					buf_free(&val);
					goto fail_name;
				}
				buf_putc(&val, (char)(hi << 4 | lo));
				v += 2;
			} else if (keep_char((unsigned char)*v))
				buf_putc(&val, *v);
			else {
				buf_free(&val);
				goto fail_name;
			}
		}
		if (val.len == 0) {
			buf_free(&val);
			goto fail_name;
		}
		if (nl == cap) {
			cap = cap ? cap * 2 : 4;
			l = xreallocarray(l, cap, sizeof(*l));
		}
		l[nl].name = xstrdup(comp);
		l[nl].value = buf_steal(&val);
		nl++;
	}
	free(copy);
	*labels = l;
	*n = nl;
	return 0;
fail_name:
	free(*name);
	*name = NULL;
fail:
	store_labels_free(l, nl);
	free(copy);
	return -1;
}

/* ---- presets ---------------------------------------------------------------------------- */

struct rra_spec {
	unsigned long resolution; /* seconds per row; 0 = the step */
	unsigned long span;       /* seconds covered */
};

struct preset {
	const char *name;
	struct rra_spec rra[4];
};

static const struct preset presets[] = {
	{ "default", { { 0, 86400 }, { 300, 7 * 86400 }, { 1800, 31 * 86400 }, { 21600, 366 * 86400 } } },
	{ "compact", { { 60, 86400 }, { 900, 31 * 86400 }, { 21600, 366 * 86400 }, { 0, 0 } } },
	{ "long", { { 0, 7 * 86400 }, { 300, 90 * 86400 }, { 3600, 731 * 86400 }, { 86400, 3653 * 86400 } } },
};

int
store_preset_rras(const char *name, unsigned long step, char argv[][64], int max)
{
	static const char *const cfs[] = { "MIN", "AVERAGE", "MAX" };
	const struct preset *p = NULL;
	int n = 0;

	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			p = &presets[i];
	if (p == NULL || step == 0)
		return -1;
	for (int i = 0; i < 4 && p->rra[i].span; i++) {
		unsigned long res = p->rra[i].resolution ? p->rra[i].resolution : step;
		unsigned long steps = (res + step - 1) / step;
		unsigned long rows;

		if (steps == 0)
			steps = 1;
		rows = (p->rra[i].span + steps * step - 1) / (steps * step);
		for (int c = 0; c < 3; c++) {
			if (n == max)
				return -1;
			snprintf(argv[n++], 64, "RRA:%s:0.5:%lu:%lu", cfs[c], steps, rows);
		}
	}
	return n;
}

/* ---- file table ------------------------------------------------------------------------- */

static struct store_file *
file_find(struct store *s, const char *rel, size_t h)
{
	for (struct store_file *f = s->buckets[h]; f; f = f->hnext)
		if (strcmp(f->rel, rel) == 0)
			return f;
	return NULL;
}

static void
file_table_grow(struct store *s)
{
	size_t n = s->nbuckets * 2;
	struct store_file **nb = xcalloc(n, sizeof(*nb));

	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct store_file *f = s->buckets[i], *next; f; f = next) {
			size_t h = util_hash(f->rel, strlen(f->rel)) & (n - 1);
			next = f->hnext;
			f->hnext = nb[h];
			nb[h] = f;
		}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

/* Find or add the file for rel (path under data_dir); called with files_lock held. */
static struct store_file *
file_intern(struct store *s, const char *rel, int type, unsigned long step, int exists)
{
	size_t h = util_hash(rel, strlen(rel)) & (s->nbuckets - 1);
	struct store_file *f = file_find(s, rel, h);

	if (f)
		return f;
	f = xcalloc(1, sizeof(*f));
	f->rel = xstrdup(rel);
	f->path = s->remote_dir ? xasprintf("%s/%s", s->remote_dir, rel + 4) :
	    xasprintf("%s/%s", s->data_dir, rel);
	f->type = type;
	f->step = step;
	f->exists = exists;
	f->ds_type = -1;
	f->hnext = s->buckets[h];
	s->buckets[h] = f;
	if (++s->nfiles > s->nbuckets)
		file_table_grow(s);
	return f;
}

struct store_file *
store_file_get(struct store *s, const char *name, const struct reeve_label *labels,
    size_t nlabels, int type, double step, char *err, size_t errlen)
{
	char *enc = store_path_encode(name, labels, nlabels);
	char *rel;
	struct store_file *f;
	unsigned long istep = step >= 1 ? (unsigned long)lround(step) : 1;

	if (enc == NULL) {
		snprintf(err, errlen, "a label value is too long for a file name (255 bytes encoded)");
		return NULL;
	}
	rel = xasprintf("rrd/%s", enc);
	free(enc);
	if (strlen(s->remote_dir ? s->remote_dir : s->data_dir) + strlen(rel) + 2 > PATH_MAX) {
		snprintf(err, errlen, "the file path would exceed %d bytes", PATH_MAX);
		free(rel);
		return NULL;
	}
	pthread_mutex_lock(&s->files_lock);
	f = file_intern(s, rel, type, istep, 0);
	f->hw = s->have_hw && regexec(&s->hw_re, name, 0, NULL, 0) == 0;
	pthread_mutex_unlock(&s->files_lock);
	free(rel);
	return f;
}

const char *
store_file_path(const struct store_file *f)
{
	return f->path;
}

const char *
store_daemon(const struct store *s)
{
	return s->daemon;
}

void
store_foreach(struct store *s, void (*cb)(void *arg, struct store_file *f, const char *rel),
    void *arg)
{
	pthread_mutex_lock(&s->files_lock);
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct store_file *f = s->buckets[i]; f; f = f->hnext)
			cb(arg, f, f->rel + 4); /* without "rrd/" */
	pthread_mutex_unlock(&s->files_lock);
}

int
store_flush(struct store *s, const struct store_file *f, char *err, size_t errlen)
{
	if (s->cached) {
		/* rrdcached holds recent values back: have it write this file out first */
		char line[PATH_MAX + 16];
		int rc;

		snprintf(line, sizeof(line), "FLUSH %s", f->path);
		pthread_mutex_lock(&s->reader_lock);
		rc = rrdcached_command(s->reader, line, err, errlen);
		pthread_mutex_unlock(&s->reader_lock);
		/* over TCP the daemon's answer is all there is to know: the file is on its host */
		if (rc < 0 && (s->remote_dir || strstr(err, "No such file") == NULL))
			return -1;
		if (s->remote_dir)
			return 0;
	}
	if (access(f->path, R_OK) != 0) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Read a file with rrd_fetch_r (flushed from a local rrdcached first). */
static int
fetch_local(struct store *s, struct store_file *f, const char *cf, time_t tstart, time_t tend,
    struct store_points *out, char *err, size_t errlen)
{
	unsigned long step = 1, nds = 0;
	char **names = NULL;
	rrd_value_t *data = NULL;
	size_t rows;

	if (store_flush(s, f, err, errlen) == -1)
		return -1;
	rrd_clear_error();
	if (rrd_fetch_r(f->path, cf, &tstart, &tend, &step, &nds, &names, &data) != 0) {
		snprintf(err, errlen, "%s: %s", f->path, rrd_get_error());
		return -1;
	}
	rows = step && tend > tstart ? (size_t)(tend - tstart) / step : 0;
	out->step = (double)step;
	out->n = nds == 1 ? rows : 0;
	out->ts = xreallocarray(NULL, out->n ? out->n : 1, sizeof(*out->ts));
	out->v = xreallocarray(NULL, out->n ? out->n : 1, sizeof(*out->v));
	/* row i covers (start + i*step, start + (i+1)*step] and is labelled with its end */
	for (size_t i = 0; i < out->n; i++) {
		out->ts[i] = (double)tstart + (double)(i + 1) * (double)step;
		out->v[i] = data[i];
	}
	for (unsigned long i = 0; i < nds; i++)
		rrd_freemem(names[i]);
	rrd_freemem(names);
	rrd_freemem(data);
	return 0;
}

/* rrdcached's FETCH reply being read: "Key: value" lines, then "TIME: VALUE" per row. */
struct fetch_reply {
	struct store_points *out;
	size_t cap;
	size_t max;        /* rows the range can hold at a one-second step: more is no answer */
	unsigned long nds;
};

static int
fetch_line(void *arg, const char *line)
{
	struct fetch_reply *r = arg;
	char *end;
	double ts, v;

	if (strncmp(line, "Step: ", 6) == 0) {
		r->out->step = strtod(line + 6, &end);
		return *end == '\0' && r->out->step >= 1 ? 0 : -1;
	}
	if (strncmp(line, "DSCount: ", 9) == 0) {
		r->nds = strtoul(line + 9, &end, 10);
		return *end == '\0' ? 0 : -1;
	}
	if (*line < '0' || *line > '9')
		return 0; /* FlushVersion, Start, End, DSName */
	ts = strtod(line, &end);
	if (*end != ':')
		return -1;
	v = strtod(end + 1, &end); /* "-nan" for an unknown row */
	if ((*end != '\0' && *end != ' ') || r->out->n == r->max)
		return -1;
	if (r->out->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->out->ts = xreallocarray(r->out->ts, r->cap, sizeof(*r->out->ts));
		r->out->v = xreallocarray(r->out->v, r->cap, sizeof(*r->out->v));
	}
	r->out->ts[r->out->n] = ts;
	r->out->v[r->out->n++] = isnan(v) ? NAN : v;
	return 0;
}

/* Read a file through rrdcached over TCP (FETCH flushes it on the daemon's side). */
static int
fetch_remote(struct store *s, struct store_file *f, const char *cf, time_t tstart,
    time_t tend, struct store_points *out, char *err, size_t errlen)
{
	struct fetch_reply r = { out, 0, (size_t)(tend > tstart ? tend - tstart : 0) + 2, 0 };
	char line[PATH_MAX + 96];
	int rc;

	snprintf(line, sizeof(line), "FETCH %s %s %lld %lld", f->path, cf, (long long)tstart,
	    (long long)tend);
	pthread_mutex_lock(&s->reader_lock);
	rc = rrdcached_query(s->reader, line, fetch_line, &r, err, errlen);
	pthread_mutex_unlock(&s->reader_lock);
	if (rc >= 0 && r.nds != 1)
		out->n = 0; /* not one of reeve's files: no values, as from rrd_fetch_r */
	if (out->ts == NULL) {
		out->ts = xreallocarray(NULL, 1, sizeof(*out->ts));
		out->v = xreallocarray(NULL, 1, sizeof(*out->v));
	}
	if (rc < 0) {
		store_points_free(out);
		return -1;
	}
	return 0;
}

static int
info_line(void *arg, const char *line)
{
	int *type = arg;

	if (strncmp(line, "ds[value].type 2 ", 17) == 0)
		*type = strcmp(line + 17, "GAUGE") == 0 ? REEVE_GAUGE : REEVE_COUNTER;
	return 0;
}

/* The type of a file's DS (counters are stored as DDERIVE rates), or -1 when unknown. */
static int
file_ds_type(struct store *s, const struct store_file *f)
{
	int type = -1;

	if (s->remote_dir) {
		char line[PATH_MAX + 16], err[256];

		snprintf(line, sizeof(line), "INFO %s", f->path);
		pthread_mutex_lock(&s->reader_lock);
		if (rrdcached_query(s->reader, line, info_line, &type, err, sizeof(err)) < 0)
			type = -1;
		pthread_mutex_unlock(&s->reader_lock);
	} else {
		rrd_info_t *info = rrd_info_r(f->path);

		for (rrd_info_t *p = info; p; p = p->next)
			if (strcmp(p->key, "ds[value].type") == 0 && p->type == RD_I_STR)
				type = strcmp(p->value.u_str, "GAUGE") == 0 ? REEVE_GAUGE : REEVE_COUNTER;
		rrd_info_free(info);
	}
	return type;
}

int
store_fetch(struct store *s, struct store_file *f, const char *cf, double start,
    double end, struct store_points *out, char *err, size_t errlen)
{
	time_t tstart = (time_t)floor(start), tend = (time_t)ceil(end);
	int type;

	memset(out, 0, sizeof(*out));
	if ((s->remote_dir ? fetch_remote : fetch_local)(s, f, cf, tstart, tend, out, err,
	    errlen) == -1)
		return -1;
	/*
	 * The type of the file itself, read once per file: rrd_info_r builds a list of every
	 * field of the header, which cost as much as the fetch itself.
	 */
	pthread_mutex_lock(&s->files_lock);
	type = f->ds_type;
	pthread_mutex_unlock(&s->files_lock);
	if (type < 0 && (type = file_ds_type(s, f)) >= 0) {
		pthread_mutex_lock(&s->files_lock);
		f->ds_type = type;
		pthread_mutex_unlock(&s->files_lock);
	}
	out->type = type >= 0 ? type : f->type;
	return 0;
}

void
store_points_free(struct store_points *p)
{
	free(p->ts);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* 1 if rel ends in ".rrd" and six more characters: a temporary file of rrd_create. */
static int
partial_create(const char *rel)
{
	size_t n = strlen(rel);

	return n > 10 && strncmp(rel + n - 10, ".rrd", 4) == 0 && strchr(rel + n - 6, '/') == NULL;
}

/*
 * Add a file found at start, rel being its path under the rrd directory. Returns 0, or -1
 * when it is no series file of reeve.
 */
static int
file_found(struct store *s, const char *rel)
{
	char *name, *r;
	struct reeve_label *labels;
	size_t n;

	if (store_path_decode(rel, &name, &labels, &n) == -1)
		return -1;
	r = xasprintf("rrd/%s", rel);
	/* type and step of an existing file do not matter: it is never created again */
	file_intern(s, r, REEVE_GAUGE, 0, 1);
	free(r);
	free(name);
	store_labels_free(labels, n);
	return 0;
}

/* nftw cannot take an argument: the store being scanned at start-up (main thread only). */
static struct store *scanning;

static int
scan_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(scanning->rrd_dir) + 1;

	(void)sb;
	(void)ftw;
	if (flag != FTW_F || file_found(scanning, rel) == 0)
		return 0;
	if (partial_create(rel)) {
		/* librrd creates "x.rrd" as "x.rrdXXXXXX" and renames it: a crash left this one */
		if (unlink(path) == 0)
			log_info("store: removed %s, left by an interrupted create", path);
	} else {
		log_warnx("store: %s is not a series file of reeve, ignored", path);
	}
	return 0;
}

static int
list_one(void *arg, const char *rel)
{
	struct store *s = arg;

	if (file_found(s, rel) == -1)
		log_warnx("store: %s/%s (on rrdcached) is not a series file of reeve, ignored",
		    s->remote_dir, rel);
	return 0;
}

/* Learn the series files there are: under rrd/, or this reeve's directory on rrdcached. */
static void
scan(struct store *s)
{
	if (s->remote_dir) {
		char line[PATH_MAX + 32], err[512];

		snprintf(line, sizeof(line), "LIST RECURSIVE /%s", s->remote_dir);
		if (rrdcached_query(s->reader, line, list_one, s, err, sizeof(err)) < 0 &&
		    strstr(err, "No such file") == NULL)
			log_warnx("store: cannot list the series files on rrdcached (%s): those "
			    "not written again are left out of queries, graphs and reports", err);
		return;
	}
	scanning = s;
	if (nftw(s->rrd_dir, scan_one, 32, FTW_PHYS) == -1)
		log_warn("store: scanning %s", s->rrd_dir);
	scanning = NULL;
}

/* ---- writer ----------------------------------------------------------------------------- */

static void
count_error(struct store *s, const char *what, const char *file, const char *msg)
{
	static struct log_limit lim;
	unsigned long dropped;

	pthread_mutex_lock(&s->qlock);
	s->st.errors++;
	pthread_mutex_unlock(&s->qlock);
	if (log_limit_allow(&lim, 60, &dropped))
		log_warnx("store: %s %s: %s%s", what, file, msg,
		    dropped ? " (and more errors, not logged)" : "");
}

static int
create_args(struct store *s, struct store_file *f, char argv[][64], int max)
{
	int n;

	snprintf(argv[0], 64, "DS:value:%s:%lu:%s:U", f->type == REEVE_COUNTER ? "DDERIVE" : "GAUGE",
	    2 * f->step, f->type == REEVE_COUNTER ? "0" : "U");
	n = store_preset_rras(s->preset, f->step, argv + 1, max - 1);
	if (n < 0)
		return -1;
	n++;
	if (f->hw && n < max) {
		/*
		 * One HWPREDICT RRA; librrd adds SEASONAL, DEVSEASONAL, DEVPREDICT and FAILURES
		 * (7 failures in a window of 9). alpha and beta as rrdcreate(1) suggests; two
		 * seasons of predictions.
		 */
		unsigned long period = s->hw_season / f->step ? s->hw_season / f->step : 1;

		snprintf(argv[n++], 64, "RRA:HWPREDICT:%lu:0.1:0.0035:%lu", 2 * period, period);
	}
	return n;
}

/*
 * Why librrd could not create path when it says nothing: librrd 1.7 writes a new file with
 * stdio and, when a write or the fclose fails (a full disk), returns -1 without an error
 * message, and errno is gone by then. The free space of the file system is the likely
 * reason and what the operator needs to see. Returns why (a static string or buf).
 */
static const char *
create_failure_reason(const char *path, char *buf, size_t len)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct statvfs sv;

	if (slash != NULL)
		*slash = '\0';
	if (statvfs(dir, &sv) == -1)
		snprintf(buf, len, "librrd gave no reason (and statvfs %s: %s)", dir, strerror(errno));
	else if (sv.f_bavail == 0)
		snprintf(buf, len, "%s (librrd gave no reason; no blocks free for %s)",
		    strerror(ENOSPC), dir);
	else
		snprintf(buf, len, "librrd gave no reason (%llu bytes free for %s)",
		    (unsigned long long)sv.f_bavail * sv.f_frsize, dir);
	free(dir);
	return buf;
}

/* Create f's file, starting just before first; returns 0 or -1 (error counted). */
static int
file_create(struct store *s, struct store_file *f, long long first)
{
	char args[16][64];
	const char *argv[16];
	int n = create_args(s, f, args, 16);
	char *dir, *slash;

	for (int i = 0; i < n; i++)
		argv[i] = args[i];
	if (!s->remote_dir) {
		dir = xstrdup(f->path);
		slash = strrchr(dir, '/');
		*slash = '\0';
		if (util_mkdir_p(dir) == -1) {
			count_error(s, "cannot create directory for", f->path, strerror(errno));
			free(dir);
			return -1;
		}
		free(dir);
	}
	if (s->cached) {
		struct buf cmd = { 0 };
		char err[512];
		int rc;

		buf_printf(&cmd, "CREATE %s -s %lu -b %lld -O", f->path, f->step, first - 1);
		for (int i = 0; i < n; i++)
			buf_printf(&cmd, " %s", args[i]);
		rc = rrdcached_command(s->cached, cmd.data, err, sizeof(err));
		buf_free(&cmd);
		if (rc < 0 && strstr(err, "exists") == NULL) {
			count_error(s, "cannot create", f->path, err);
			if (strstr(err, "recursively"))
				log_warnx("store: rrdcached creates the directories of series files "
				    "only when started with -R");
			return -1;
		}
	} else {
		rrd_clear_error();
		if (rrd_create_r2(f->path, f->step, (time_t)(first - 1), 1, NULL, NULL, n, argv) != 0) {
			const char *e = rrd_get_error();
			char why[256];

			if (*e == '\0')
				e = create_failure_reason(f->path, why, sizeof(why));
			if (strstr(e, "exists") == NULL) {
				count_error(s, "cannot create", f->path, e);
				return -1;
			}
		}
	}
	pthread_mutex_lock(&s->qlock);
	s->st.creates++;
	pthread_mutex_unlock(&s->qlock);
	pthread_mutex_lock(&s->files_lock);
	f->ds_type = -1; /* a file deleted under us may come back with another type */
	pthread_mutex_unlock(&s->files_lock);
	f->exists = 1;
	return 0;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->f != y->f)
		return x->f < y->f ? -1 : 1;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

struct batch_ctx {
	struct store *s;
	struct store_file **files; /* the file of each command in the batch */
	size_t nfailed;
};

static void
batch_error(void *arg, size_t index, const char *msg)
{
	struct batch_ctx *c = arg;

	c->nfailed++;
	count_error(c->s, "cannot update", c->files[index]->path, msg);
}

/*
 * Write items (sorted by file, then time). Each file gets one rrd_update_r call with all
 * its values, or one UPDATE line in an rrdcached batch. Returns the count written.
 */
static size_t
write_items(struct store *s, struct item *it, size_t n)
{
	struct buf cmds = { 0 };
	const char **argv = NULL;
	char (*vals)[48] = NULL;
	size_t cap = 0, written = 0, ncmds = 0, cmdcap = 0;
	struct batch_ctx ctx = { s, NULL, 0 };

	for (size_t i = 0; i < n;) {
		struct store_file *f = it[i].f;
		size_t j = i, nv = 0;

		while (j < n && it[j].f == f)
			j++;
		if (!s->cached && f->exists && !f->last_read) {
			/*
			 * The first write since start: a reeve killed and started again within the
			 * same second would otherwise write that second twice, which librrd refuses
			 * as an error ("minimum one second step") on every series.
			 */
			time_t l;

			rrd_clear_error();
			if ((l = rrd_last_r(f->path)) > 0 && (long long)l > f->last)
				f->last = (long long)l;
			rrd_clear_error();
			f->last_read = 1;
		}
		if (j - i > cap) {
			cap = j - i;
			argv = xreallocarray(argv, cap, sizeof(*argv));
			vals = xreallocarray(vals, cap, sizeof(*vals));
		}
		for (size_t k = i; k < j; k++) {
			long long t = (long long)floor(it[k].ts);
			char num[40];

			if (t <= f->last)
				continue; /* RRD takes one value a second: keep the first */
			f->last = t;
			snprintf(vals[nv], sizeof(vals[nv]), "%lld:%s", t,
			    isfinite(it[k].value) ? util_fmt_double(num, sizeof(num), it[k].value) : "U");
			argv[nv] = vals[nv];
			nv++;
		}
		if (nv == 0 || (!f->exists && file_create(s, f, (long long)floor(it[i].ts)) == -1)) {
			i = j;
			continue;
		}
		if (s->cached) {
			buf_printf(&cmds, "UPDATE %s", f->path);
			for (size_t k = 0; k < nv; k++)
				buf_printf(&cmds, " %s", argv[k]);
			buf_putc(&cmds, '\n');
			if (ncmds == cmdcap) {
				cmdcap = cmdcap ? cmdcap * 2 : 256;
				ctx.files = xreallocarray(ctx.files, cmdcap, sizeof(*ctx.files));
			}
			ctx.files[ncmds++] = f;
			written += nv;
		} else {
			rrd_clear_error();
			if (rrd_update_r(f->path, NULL, (int)nv, argv) != 0) {
				const char *e = rrd_get_error();
				count_error(s, "cannot update", f->path, e);
				if (strstr(e, "No such file") || strstr(e, "opening"))
					f->exists = 0; /* deleted under us: create it again next time */
			} else
				written += nv;
		}
		i = j;
	}
	if (s->cached && ncmds) {
		char err[512];

		if (rrdcached_batch(s->cached, cmds.data, cmds.len, ncmds, batch_error, &ctx,
		    err, sizeof(err)) == -1) {
			count_error(s, "cannot send batch to", "rrdcached", err);
			written = 0;
		} else if (ctx.nfailed) {
			written = written > ctx.nfailed ? written - ctx.nfailed : 0;
		}
	}
	buf_free(&cmds);
	free(ctx.files);
	free(argv);
	free(vals);
	return written;
}

static void *
writer_main(void *arg)
{
	struct store *s = arg;
	struct item *work = NULL;
	size_t workcap = 0;

	rrd_get_context();
	pthread_mutex_lock(&s->qlock);
	for (;;) {
		size_t n, written;

		while (s->qlen == 0 && !s->stopping)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (s->qlen == 0 && s->stopping)
			break;
		if (s->stopping && util_monotonic() > s->deadline) {
			log_warnx("store: shutdown deadline passed, %zu queued values dropped", s->qlen);
			s->st.dropped += s->qlen;
			s->seq_done += s->qlen;
			s->qlen = 0;
			break;
		}
		/* take the whole queue: swap buffers so producers never wait for disk I/O */
		n = s->qlen;
		if (workcap < s->qcap) {
			free(work);
			workcap = s->qcap;
			work = xcalloc(workcap, sizeof(*work));
		}
		{
			struct item *t = s->q;
			size_t tc = s->qcap;
			s->q = work;
			s->qcap = workcap;
			work = t;
			workcap = tc;
		}
		s->qlen = 0;
		pthread_mutex_unlock(&s->qlock);

		qsort(work, n, sizeof(*work), item_cmp);
		written = write_items(s, work, n);

		pthread_mutex_lock(&s->qlock);
		s->st.updates += written;
		s->st.batches++;
		s->seq_done += n;
		pthread_cond_broadcast(&s->donecond);
	}
	pthread_cond_broadcast(&s->donecond);
	pthread_mutex_unlock(&s->qlock);
	free(work);
	return NULL;
}

/* ---- public ----------------------------------------------------------------------------- */

struct store *
store_new(const struct store_params *p, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char real[PATH_MAX];
	char args[16][64];

	if (store_preset_rras(p->preset ? p->preset : "default", 10, args, 16) < 0) {
		snprintf(err, errlen, "unknown RRA preset '%s'", p->preset);
		free(s);
		return NULL;
	}
	if (util_mkdir_p(p->data_dir) == -1 || realpath(p->data_dir, real) == NULL) {
		snprintf(err, errlen, "data_dir %s: %s", p->data_dir, strerror(errno));
		free(s);
		return NULL;
	}
	s->data_dir = xstrdup(real);
	s->rrd_dir = xasprintf("%s/rrd", real);
	if (util_mkdir_p(s->rrd_dir) == -1) {
		snprintf(err, errlen, "%s: %s", s->rrd_dir, strerror(errno));
		goto fail;
	}
	s->preset = xstrdup(p->preset ? p->preset : "default");
	if (p->holt_winters != NULL) {
		if (regcomp(&s->hw_re, p->holt_winters, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(err, errlen, "holt_winters: \"%s\" is not a regular expression",
			    p->holt_winters);
			goto fail;
		}
		s->have_hw = 1;
		s->hw_season = p->hw_season >= 1 ? (unsigned long)p->hw_season : 86400;
	}
	if (p->rrdcached && *p->rrdcached) {
		s->cached = rrdcached_new(p->rrdcached, err, errlen);
		if (s->cached == NULL)
			goto fail;
		s->reader = rrdcached_new(p->rrdcached, err, errlen);
		if (rrdcached_is_remote(s->cached)) {
			s->remote_dir = xstrdup(p->rrdcached_dir && *p->rrdcached_dir ?
			    p->rrdcached_dir : "rrd");
			s->daemon = xstrdup(p->rrdcached);
		}
	}
	pthread_mutex_init(&s->reader_lock, NULL);
	pthread_mutex_init(&s->files_lock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	pthread_cond_init(&s->donecond, NULL);
	s->nbuckets = 1024;
	s->buckets = xcalloc(s->nbuckets, sizeof(*s->buckets));
	s->qmax = p->queue_size ? p->queue_size : 100000;

	scan(s);
	if (s->remote_dir)
		log_info("store: %zu series files under %s/ on rrdcached at %s", s->nfiles,
		    s->remote_dir, p->rrdcached);
	else
		log_info("store: %zu series files under %s%s%s", s->nfiles, s->rrd_dir,
		    s->cached ? ", updates through rrdcached at " : "", s->cached ? p->rrdcached : "");

	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the store writer thread");
		goto fail;
	}
	return s;
fail:
	if (s->have_hw)
		regfree(&s->hw_re);
	rrdcached_free(s->cached);
	rrdcached_free(s->reader);
	free(s->remote_dir);
	free(s->daemon);
	free(s->preset);
	free(s->rrd_dir);
	free(s->data_dir);
	free(s->buckets);
	free(s);
	return NULL;
}

void
store_put(struct store *s, struct store_file *f, double ts, double value)
{
	pthread_mutex_lock(&s->qlock);
	if (s->stopping || s->qlen >= s->qmax) {
		static struct log_limit lim;
		unsigned long dropped;

		s->st.dropped++;
		pthread_mutex_unlock(&s->qlock);
		if (log_limit_allow(&lim, 60, &dropped))
			log_warnx("store: queue full (%zu values), dropping updates", s->qmax);
		return;
	}
	if (s->qlen == s->qcap) {
		s->qcap = s->qcap ? s->qcap * 2 : 1024;
		s->q = xreallocarray(s->q, s->qcap, sizeof(*s->q));
	}
	s->q[s->qlen++] = (struct item){ f, ts, value };
	s->seq_put++;
	if (s->qlen == 1)
		pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
}

void
store_sync(struct store *s)
{
	pthread_mutex_lock(&s->qlock);
	unsigned long long target = s->seq_put;
	while (s->seq_done < target)
		pthread_cond_wait(&s->donecond, &s->qlock);
	pthread_mutex_unlock(&s->qlock);
}

void
store_get_stats(struct store *s, struct store_stats *st)
{
	pthread_mutex_lock(&s->qlock);
	*st = s->st;
	st->queue_depth = s->qlen;
	pthread_mutex_unlock(&s->qlock);
	pthread_mutex_lock(&s->files_lock);
	st->files = s->nfiles;
	pthread_mutex_unlock(&s->files_lock);
}

void
store_free(struct store *s, double timeout)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->qlock);
	s->stopping = 1;
	s->deadline = util_monotonic() + timeout;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	pthread_join(s->writer, NULL);
	log_info("store: stopped, %llu values written, %llu errors, %llu dropped",
	    s->st.updates, s->st.errors, s->st.dropped);
	for (size_t i = 0; i < s->nbuckets; i++)
		for (struct store_file *f = s->buckets[i], *next; f; f = next) {
			next = f->hnext;
			free(f->rel);
			free(f->path);
			free(f);
		}
	free(s->buckets);
	free(s->q);
	rrdcached_free(s->cached);
	rrdcached_free(s->reader);
	free(s->remote_dir);
	free(s->daemon);
	pthread_mutex_destroy(&s->reader_lock);
	pthread_mutex_destroy(&s->files_lock);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	pthread_cond_destroy(&s->donecond);
	if (s->have_hw)
		regfree(&s->hw_re);
	free(s->preset);
	free(s->rrd_dir);
	free(s->data_dir);
	free(s);
}
