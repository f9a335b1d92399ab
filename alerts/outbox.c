/* outbox.c: the durable spool of outgoing notifications, replayed at start, and its delivery workers. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "log.h"
#include "notifier.h"
#include "outbox.h"
#include "util.h"

#define SPOOL_MAGIC "reeve-spool 1\n"
#define SPOOL_MAX_HEADER 8192        /* bytes of a file's header */
#define SPOOL_RESCAN 1.0             /* seconds between looks for files put there by others */
#define SPOOL_TMP_AGE 600.0         /* seconds after which a file left in tmp/ is garbage */
#define SPOOL_JITTER 0.2             /* share of a backoff added at random */
#define SPOOL_MAX_CREATED 1e11       /* a creation time beyond this (year 5138) is corrupt */

/*
 * One message of the queue, as the index knows it. The file is the truth: the index is
 * rebuilt from queue/ at open and updated by put, delivery and the rescan.
 */
struct msg {
	char id[OUTBOX_ID_LEN];
	char *receiver;
	char *key;
	char *subject;
	double created;
	unsigned attempts;
	double next_at;         /* not before this time (backoff) */
	char error[256];        /* the last failure */
	int busy;               /* a worker is sending it */
};

/* The delivery worker of one receiver. */
struct worker {
	struct outbox *ob;
	const struct cfg_notifier *n;
	const struct notifier_type *type;
	pthread_t thread;
	int started;
	/* counters, under ob->lock */
	unsigned long sent, retries, dead, expired;
	int failing;
};

/*
 * lock guards everything below it; workers wait on wake (a put, a retry time, stop).
 * Files are read and sent without the lock held.
 */
struct outbox {
	char *dir, *queue, *tmp, *dead, *corrupt;
	const struct cfg *cfg;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct msg *msgs;        /* sorted by id: the queue order */
	size_t nmsgs, cap;
	struct worker *workers;
	size_t nworkers;
	int stopping;
	unsigned seq;            /* for ids made in the same millisecond */
	unsigned long corrupt_total;
	unsigned long orphan_dead, orphan_expired; /* of receivers no longer configured */
	double last_scan;
	unsigned rand_state;
	/*
	 * Ids being put: their files may already be in queue/, but no worker may see them
	 * before the put has recorded them (durable): the rescan leaves them alone.
	 */
	char (*putting)[OUTBOX_ID_LEN];
	size_t nputting, capputting;
};

/* Whether id is being put. Lock held. */
static int
is_putting(const struct outbox *ob, const char *id)
{
	for (size_t i = 0; i < ob->nputting; i++)
		if (strcmp(ob->putting[i], id) == 0)
			return 1;
	return 0;
}

/* Mark id as being put (on 1) or done (on 0). Lock held. */
static void
set_putting(struct outbox *ob, const char *id, int on)
{
	if (on) {
		if (ob->nputting == ob->capputting) {
			ob->capputting = ob->capputting ? ob->capputting * 2 : 4;
			ob->putting = xreallocarray(ob->putting, ob->capputting, sizeof(*ob->putting));
		}
		snprintf(ob->putting[ob->nputting++], OUTBOX_ID_LEN, "%s", id);
		return;
	}
	for (size_t i = 0; i < ob->nputting; i++)
		if (strcmp(ob->putting[i], id) == 0) {
			memcpy(ob->putting[i], ob->putting[--ob->nputting], OUTBOX_ID_LEN);
			return;
		}
}

/* ---- files --------------------------------------------------------------------------------- */

/* outbox.h does not include OpenSSL: its size of a hex digest must be this one */
_Static_assert(OUTBOX_SHA256_LEN == 2 * SHA256_DIGEST_LENGTH + 1, "OUTBOX_SHA256_LEN");

void
outbox_header_free(struct outbox_header *h)
{
	free(h->receiver);
	free(h->key);
	free(h->subject);
	free(h->error);
	memset(h, 0, sizeof(*h));
}

static void
hex_sha256(const void *data, size_t len, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256(data, len, d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A header value on one line: control characters become spaces. */
static void
put_field(struct buf *b, const char *name, const char *value)
{
	buf_puts(b, name);
	buf_puts(b, ": ");
	for (const char *p = value; *p; p++)
		buf_putc(b, (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p);
	buf_putc(b, '\n');
}

void
outbox_format(struct buf *b, const struct outbox_header *h, const void *body, size_t len)
{
	char num[2 * SHA256_DIGEST_LENGTH + 16];

	buf_puts(b, SPOOL_MAGIC);
	put_field(b, "id", h->id);
	put_field(b, "receiver", h->receiver);
	put_field(b, "key", h->key);
	snprintf(num, sizeof(num), "%.3f", h->created);
	put_field(b, "created", num);
	put_field(b, "subject", h->subject ? h->subject : "");
	if (h->attempts > 0) {
		snprintf(num, sizeof(num), "%u", h->attempts);
		put_field(b, "attempts", num);
	}
	if (h->error != NULL)
		put_field(b, "error", h->error);
	snprintf(num, sizeof(num), "%zu", len);
	put_field(b, "length", num);
	hex_sha256(body, len, num);
	put_field(b, "sha256", num);
	buf_putc(b, '\n');
	buf_append(b, body, len);
}

static int
valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= OUTBOX_ID_LEN)
		return 0;
	return strspn(s, "0123456789abcdef-") == n;
}

int
outbox_parse(const char *data, size_t size, struct outbox_header *h, const char **body, char *err,
    size_t errlen)
{
	const char *p = data, *end = data + size;
	size_t ml = strlen(SPOOL_MAGIC);
	int have_len = 0;

	memset(h, 0, sizeof(*h));
	if (size < ml || memcmp(data, SPOOL_MAGIC, ml) != 0) {
		snprintf(err, errlen, "not a spool file (no \"reeve-spool 1\" first line)");
		return -1;
	}
	p += ml;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
		char name[32];
		char *value;

		if (nl == NULL || nl - data > SPOOL_MAX_HEADER) {
			snprintf(err, errlen, "the header is not complete");
			goto fail;
		}
		if (nl == p) {
			p = nl + 1;
			break;
		}
		colon = memchr(p, ':', (size_t)(nl - p));
		if (colon == NULL || colon - p >= (long)sizeof(name) || colon + 1 >= nl ||
		    colon[1] != ' ') {
			snprintf(err, errlen, "a header line is not \"name: value\"");
			goto fail;
		}
		memcpy(name, p, (size_t)(colon - p));
		name[colon - p] = '\0';
		if (memchr(colon + 2, '\0', (size_t)(nl - colon - 2)) != NULL) {
			snprintf(err, errlen, "a header line holds a NUL byte");
			goto fail;
		}
		value = xstrndup(colon + 2, (size_t)(nl - colon - 2));
		if (strcmp(name, "id") == 0 && strlen(value) < OUTBOX_ID_LEN)
			snprintf(h->id, sizeof(h->id), "%s", value);
		else if (strcmp(name, "receiver") == 0 && h->receiver == NULL)
			h->receiver = value, value = NULL;
		else if (strcmp(name, "key") == 0 && h->key == NULL)
			h->key = value, value = NULL;
		else if (strcmp(name, "subject") == 0 && h->subject == NULL)
			h->subject = value, value = NULL;
		else if (strcmp(name, "error") == 0 && h->error == NULL)
			h->error = value, value = NULL;
		else if (strcmp(name, "created") == 0)
			h->created = strtod(value, NULL);
		else if (strcmp(name, "attempts") == 0)
			h->attempts = (unsigned)strtoul(value, NULL, 10);
		else if (strcmp(name, "length") == 0) {
			char *e;
			unsigned long long v = strtoull(value, &e, 10);

			if (*value < '0' || *value > '9' || *e != '\0' || v > OUTBOX_MAX_BODY) {
				free(value);
				snprintf(err, errlen, "bad length");
				goto fail;
			}
			h->length = (size_t)v;
			have_len = 1;
		} else if (strcmp(name, "sha256") == 0 && strlen(value) == sizeof(h->sha256) - 1)
			memcpy(h->sha256, value, sizeof(h->sha256));
		free(value);
		p = nl + 1;
	}
	if (!valid_id(h->id) || h->receiver == NULL || h->key == NULL || !have_len ||
	    h->sha256[0] == '\0' || !(h->created > 0)) {
		snprintf(err, errlen, "the header lacks id, receiver, key, created, length or sha256");
		goto fail;
	}
	/* a time outbox_format writes back as it is (with milliseconds, in its buffer) */
	if (!(h->created >= 1 && h->created < SPOOL_MAX_CREATED)) {
		snprintf(err, errlen, "created is not a time in Unix seconds");
		goto fail;
	}
	if ((size_t)(end - p) != h->length) {
		snprintf(err, errlen, "the body has %zu bytes, the header says %zu (truncated?)",
		    (size_t)(end - p), h->length);
		goto fail;
	}
	{
		char sum[sizeof(h->sha256)];

		hex_sha256(p, h->length, sum);
		if (strcmp(sum, h->sha256) != 0) {
			snprintf(err, errlen, "the body does not match its sha256");
			goto fail;
		}
	}
	*body = p;
	return 0;
fail:
	outbox_header_free(h);
	return -1;
}

/* Read a whole file (bounded). Returns 0 with *data (malloc'd) and *size, or -1 with errno. */
static int
read_file(const char *path, char **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t got = 0;
	char *p;

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > OUTBOX_MAX_BODY + SPOOL_MAX_HEADER) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return -1;
	}
	p = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, p + got, (size_t)st.st_size - got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	p[got] = '\0';
	*data = p;
	*size = got;
	return 0;
}

static char *
path_in(const char *dir, const char *id)
{
	return xasprintf("%s/%s", dir, id);
}

/* Move a file of queue/ aside into corrupt/ (keeping its name) and count it. */
static void
set_aside(struct outbox *ob, const char *name, const char *why)
{
	char *from = path_in(ob->queue, name), *to = path_in(ob->corrupt, name);

	log_warnx("outbox: %s/%s is unreadable (%s): moved to %s", ob->queue, name, why,
	    ob->corrupt);
	if (rename(from, to) == -1)
		log_warn("outbox: cannot move %s to %s", from, to);
	util_fsync_dir(ob->corrupt);
	util_fsync_dir(ob->queue);
	ob->corrupt_total++;
	free(from);
	free(to);
}

/* ---- the index ----------------------------------------------------------------------------- */

static long
find_msg(const struct outbox *ob, const char *id)
{
	size_t lo = 0, hi = ob->nmsgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ob->msgs[mid].id, id);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void
index_add(struct outbox *ob, const struct outbox_header *h)
{
	size_t i = ob->nmsgs;
	struct msg *m;

	if (find_msg(ob, h->id) >= 0)
		return;
	if (ob->nmsgs == ob->cap) {
		ob->cap = ob->cap ? ob->cap * 2 : 64;
		ob->msgs = xreallocarray(ob->msgs, ob->cap, sizeof(*ob->msgs));
	}
	while (i > 0 && strcmp(ob->msgs[i - 1].id, h->id) > 0)
		i--;
	memmove(&ob->msgs[i + 1], &ob->msgs[i], (ob->nmsgs - i) * sizeof(*ob->msgs));
	ob->nmsgs++;
	m = &ob->msgs[i];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", h->id);
	m->receiver = xstrdup(h->receiver);
	m->key = xstrdup(h->key ? h->key : "");
	m->subject = xstrdup(h->subject ? h->subject : "");
	m->created = h->created;
	m->attempts = h->attempts;
}

static void
index_remove(struct outbox *ob, size_t i)
{
	free(ob->msgs[i].receiver);
	free(ob->msgs[i].key);
	free(ob->msgs[i].subject);
	memmove(&ob->msgs[i], &ob->msgs[i + 1], (ob->nmsgs - i - 1) * sizeof(*ob->msgs));
	ob->nmsgs--;
}

/*
 * Add the files of queue/ the index lacks (all of them at open, a retried dead letter
 * later); unreadable ones are set aside. Called with the lock held.
 */
static void
scan_queue(struct outbox *ob)
{
	DIR *d = opendir(ob->queue);
	struct dirent *e;

	ob->last_scan = util_monotonic();
	if (d == NULL) {
		log_warn("outbox: cannot read %s", ob->queue);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct outbox_header h;
		const char *body;
		char *path, *data = NULL, err[256];
		size_t size;

		if (e->d_name[0] == '.' || find_msg(ob, e->d_name) >= 0 || is_putting(ob, e->d_name))
			continue;
		path = path_in(ob->queue, e->d_name);
		if (read_file(path, &data, &size) == -1)
			set_aside(ob, e->d_name, strerror(errno));
		else if (outbox_parse(data, size, &h, &body, err, sizeof(err)) == -1)
			set_aside(ob, e->d_name, err);
		else if (strcmp(h.id, e->d_name) != 0) {
			set_aside(ob, e->d_name, "its id is not its file name");
			outbox_header_free(&h);
		} else {
			index_add(ob, &h);
			outbox_header_free(&h);
		}
		free(data);
		free(path);
	}
	closedir(d);
}

/* ---- opening and putting ------------------------------------------------------------------- */

static int
make_dir(const char *path, char *err, size_t errlen)
{
	if (util_mkdir_p(path) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove what a crash left in tmp/. */
static void
clean_tmp(struct outbox *ob)
{
	DIR *d = opendir(ob->tmp);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = path_in(ob->tmp, e->d_name);
		/* a recent file may be another process's put under way (reeve report --send) */
		if (stat(p, &sb) == 0 && util_now() - (double)sb.st_mtime > SPOOL_TMP_AGE)
			unlink(p);
		free(p);
	}
	closedir(d);
}

struct outbox *
outbox_open(const char *dir, const struct cfg *cfg, char *err, size_t errlen)
{
	struct outbox *ob = xcalloc(1, sizeof(*ob));
	struct timespec ts;

	ob->dir = xstrdup(dir);
	ob->queue = path_in(dir, "queue");
	ob->tmp = path_in(dir, "tmp");
	ob->dead = path_in(dir, "dead");
	ob->corrupt = path_in(dir, "corrupt");
	if (make_dir(ob->queue, err, errlen) == -1 || make_dir(ob->tmp, err, errlen) == -1 ||
	    make_dir(ob->dead, err, errlen) == -1 || make_dir(ob->corrupt, err, errlen) == -1) {
		outbox_free(ob, 0);
		return NULL;
	}
	ob->cfg = cfg;
	pthread_mutex_init(&ob->lock, NULL);
	pthread_cond_init(&ob->wake, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	ob->rand_state = (unsigned)ts.tv_nsec ^ (unsigned)getpid();
	clean_tmp(ob);
	pthread_mutex_lock(&ob->lock);
	scan_queue(ob);
	if (ob->nmsgs > 0)
		log_info("outbox: %zu messages waiting in %s", ob->nmsgs, ob->queue);
	pthread_mutex_unlock(&ob->lock);
	return ob;
}

int
outbox_put(struct outbox *ob, const char *receiver, const char *key, const char *subject,
    const void *body, size_t len, char id[OUTBOX_ID_LEN], char *err, size_t errlen)
{
	return outbox_put_then(ob, receiver, key, subject, body, len, NULL, NULL, id, err, errlen);
}

int
outbox_put_then(struct outbox *ob, const char *receiver, const char *key, const char *subject,
    const void *body, size_t len, int (*durable)(void *arg, const char *id), void *arg,
    char id[OUTBOX_ID_LEN], char *err, size_t errlen)
{
	struct outbox_header h = { 0 };
	struct buf file = { 0 };
	char *path;
	double now = util_now();
	int rc = -1;

	if (len > OUTBOX_MAX_BODY) {
		snprintf(err, errlen, "the message has %zu bytes, more than the spool takes", len);
		return -1;
	}
	pthread_mutex_lock(&ob->lock);
	snprintf(h.id, sizeof(h.id), "%013.0f-%06u-%04x", floor(now * 1000), ob->seq++ % 1000000,
	    (unsigned)rand_r(&ob->rand_state) & 0xffff);
	set_putting(ob, h.id, 1); /* its file appears in queue/ before it is recorded */
	pthread_mutex_unlock(&ob->lock);
	h.receiver = (char *)receiver;
	h.key = (char *)key;
	h.subject = (char *)subject;
	h.created = now;
	outbox_format(&file, &h, body, len);
	path = path_in(ob->queue, h.id);
	if (util_write_file_atomic(path, ob->tmp, file.data, file.len) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		pthread_mutex_lock(&ob->lock);
		set_putting(ob, h.id, 0);
		pthread_mutex_unlock(&ob->lock);
		goto out;
	}
	pthread_mutex_lock(&ob->lock);
	set_putting(ob, h.id, 0);
	/* no worker sees the message before the caller recorded that it is queued */
	if (durable != NULL && durable(arg, h.id) == -1) {
		unlink(path); /* before the rescan could see it */
		pthread_mutex_unlock(&ob->lock);
		snprintf(err, errlen, "the message was queued but could not be recorded: taken back");
		goto out;
	}
	index_add(ob, &h);
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
	if (id != NULL)
		snprintf(id, OUTBOX_ID_LEN, "%s", h.id);
	rc = 0;
out:
	free(path);
	buf_free(&file);
	return rc;
}

/* ---- delivery ------------------------------------------------------------------------------ */

static const struct cfg_notifier *
notifier_named(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nnotifiers; i++)
		if (strcmp(cfg->notifiers[i].name, name) == 0)
			return &cfg->notifiers[i];
	return NULL;
}

static struct worker *
worker_of(struct outbox *ob, const char *receiver)
{
	for (size_t i = 0; i < ob->nworkers; i++)
		if (strcmp(ob->workers[i].n->name, receiver) == 0)
			return &ob->workers[i];
	return NULL;
}

/*
 * Move queued message i into dead/, its header saying why, and drop it from the index.
 * Called with the lock held; the file operations are short.
 */
static void
to_dead(struct outbox *ob, size_t i, const char *why)
{
	struct msg *m = &ob->msgs[i];
	char *from = path_in(ob->queue, m->id), *to = path_in(ob->dead, m->id), *data = NULL;
	struct outbox_header h;
	const char *body;
	size_t size;
	char err[256];

	log_warnx("outbox: message %s to %s is a dead letter: %s", m->id, m->receiver, why);
	if (read_file(from, &data, &size) == 0 &&
	    outbox_parse(data, size, &h, &body, err, sizeof(err)) == 0) {
		struct buf file = { 0 };

		free(h.error);
		h.error = xstrdup(why);
		h.attempts = m->attempts;
		outbox_format(&file, &h, body, h.length);
		if (util_write_file_atomic(to, ob->tmp, file.data, file.len) == 0)
			unlink(from);
		else
			log_warn("outbox: cannot write %s", to);
		buf_free(&file);
		outbox_header_free(&h);
	} else if (rename(from, to) == -1) {
		log_warn("outbox: cannot move %s to %s", from, to);
	}
	util_fsync_dir(ob->queue);
	free(data);
	free(from);
	free(to);
	index_remove(ob, i);
}

/* The wait before attempt number `attempts + 1`: exponential, capped, with jitter. */
static double
backoff(struct outbox *ob, unsigned attempts, double retry_after)
{
	const struct cfg *c = ob->cfg;
	double d = c->retry_initial * pow(c->retry_factor, attempts > 60 ? 60 : attempts - 1);

	if (d > c->retry_max)
		d = c->retry_max;
	d += d * SPOOL_JITTER * ((double)(rand_r(&ob->rand_state) % 1000) / 1000.0);
	return retry_after > d ? retry_after : d;
}

/*
 * Send message i (busy, the lock released meanwhile) and act on the answer. Called and
 * returns with the lock held; i may have moved, so the message is found again by id.
 */
static void
attempt(struct outbox *ob, struct worker *w, const struct cfg_notifier *n,
    const struct notifier_type *type, size_t i, struct notify_result *res)
{
	char id[OUTBOX_ID_LEN], *path, *data = NULL, err[256];
	struct outbox_header h;
	const char *body;
	size_t size;
	long k;
	int parsed = 0;

	snprintf(id, sizeof(id), "%s", ob->msgs[i].id);
	ob->msgs[i].busy = 1;
	pthread_mutex_unlock(&ob->lock);
	memset(res, 0, sizeof(*res));
	path = path_in(ob->queue, id);
	if (read_file(path, &data, &size) == -1) {
		res->status = NOTIFY_RETRY;
		snprintf(err, sizeof(err), "%s", strerror(errno));
	} else if (outbox_parse(data, size, &h, &body, err, sizeof(err)) == -1) {
		res->status = NOTIFY_RETRY;
	} else {
		parsed = 1;
		type->send(n, h.key, (const unsigned char *)body, h.length, res);
		outbox_header_free(&h);
	}
	free(data);
	pthread_mutex_lock(&ob->lock);
	if ((k = find_msg(ob, id)) < 0)
		goto out; /* gone meanwhile */
	ob->msgs[k].busy = 0;
	if (!parsed) {
		index_remove(ob, (size_t)k);
		set_aside(ob, id, err);
		snprintf(res->detail, sizeof(res->detail), "the spool file is unreadable: %s", err);
		res->status = NOTIFY_FAILED;
		goto out;
	}
	ob->msgs[k].attempts++;
	if (res->status == NOTIFY_SENT) {
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("outbox: cannot remove %s (it will be sent again)", path);
		util_fsync_dir(ob->queue);
		index_remove(ob, (size_t)k);
		if (w != NULL) {
			w->sent++;
			if (w->failing)
				log_info("outbox: %s accepts messages again", n->name);
			w->failing = 0;
		}
		log_debug("outbox: %s sent to %s", id, n->name);
		goto out;
	}
	snprintf(ob->msgs[k].error, sizeof(ob->msgs[k].error), "%s", res->detail);
	if (res->status == NOTIFY_FAILED) {
		if (w != NULL)
			w->dead++;
		to_dead(ob, (size_t)k, res->detail);
		goto out;
	}
	if (util_now() - ob->msgs[k].created > ob->cfg->max_age) {
		char why[600];

		snprintf(why, sizeof(why), "not delivered within max_age; last error: %s",
		    res->detail);
		if (w != NULL)
			w->expired++;
		to_dead(ob, (size_t)k, why);
		goto out;
	}
	if (w != NULL) {
		w->retries++;
		if (!w->failing)
			log_warnx("outbox: %s: %s (retrying)", n->name, res->detail);
		w->failing = 1;
	}
	ob->msgs[k].next_at = util_monotonic() + backoff(ob, ob->msgs[k].attempts,
	    res->retry_after);
out:
	free(path);
}

/* Messages of receivers no longer configured: kept until max_age, then dead letters. */
static void
expire_orphans(struct outbox *ob)
{
	double now = util_now();

	for (size_t i = 0; i < ob->nmsgs;) {
		struct msg *m = &ob->msgs[i];

		if (!m->busy && notifier_named(ob->cfg, m->receiver) == NULL &&
		    now - m->created > ob->cfg->max_age) {
			ob->orphan_expired++;
			to_dead(ob, i, "its receiver is not configured and max_age passed");
		} else {
			i++;
		}
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct outbox *ob = w->ob;

	pthread_mutex_lock(&ob->lock);
	while (!ob->stopping) {
		double now = util_monotonic(), wait = SPOOL_RESCAN;
		long head = -1;
		struct notify_result res;

		if (now - ob->last_scan >= SPOOL_RESCAN) {
			scan_queue(ob);
			expire_orphans(ob);
		}
		for (size_t i = 0; i < ob->nmsgs; i++)
			if (strcmp(ob->msgs[i].receiver, w->n->name) == 0) {
				head = (long)i; /* the oldest of this receiver: order is kept */
				break;
			}
		if (head >= 0 && !ob->msgs[head].busy && ob->msgs[head].next_at <= now) {
			attempt(ob, w, w->n, w->type, (size_t)head, &res);
			continue;
		}
		if (head >= 0 && !ob->msgs[head].busy && ob->msgs[head].next_at - now < wait)
			wait = ob->msgs[head].next_at - now;
		{
			struct timespec ts;
			double until;

			clock_gettime(CLOCK_REALTIME, &ts);
			until = (double)ts.tv_sec + ts.tv_nsec / 1e9 + (wait > 0.01 ? wait : 0.01);
			ts.tv_sec = (time_t)until;
			ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&ob->wake, &ob->lock, &ts);
		}
	}
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

/*
 * Stop the workers: each finishes the send under way (bounded by its receiver's timeout).
 * wait < 0: wait for all of them; else at most wait seconds each. Returns how many are
 * still sending (left running; the outbox and the cfg they use must then outlive them).
 */
static size_t
workers_stop(struct outbox *ob, double wait)
{
	size_t left = 0;

	pthread_mutex_lock(&ob->lock);
	ob->stopping = 1;
	pthread_cond_broadcast(&ob->wake);
	pthread_mutex_unlock(&ob->lock);
	for (size_t i = 0; i < ob->nworkers; i++) {
		struct worker *w = &ob->workers[i];
		struct timespec ts;

		if (!w->started)
			continue;
		if (wait < 0) {
			pthread_join(w->thread, NULL);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)ceil(wait);
		if (pthread_timedjoin_np(w->thread, NULL, &ts) != 0) {
			/* a send still under way: its message stays queued and goes again */
			log_warnx("outbox: delivery to %s still under way after %.0f s: left",
			    w->n->name, wait);
			pthread_detach(w->thread);
			left++;
		}
	}
	if (left > 0)
		return left; /* the workers array stays: the threads left use it */
	free(ob->workers);
	ob->workers = NULL;
	ob->nworkers = 0;
	ob->stopping = 0;
	return 0;
}

void
outbox_start(struct outbox *ob)
{
	const struct cfg *cfg = ob->cfg;

	ob->workers = xcalloc(cfg->nnotifiers ? cfg->nnotifiers : 1, sizeof(*ob->workers));
	for (size_t i = 0; i < cfg->nnotifiers; i++) {
		struct worker *w = &ob->workers[ob->nworkers++];

		w->ob = ob;
		w->n = &cfg->notifiers[i];
		w->type = notifier_type_of(w->n);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			log_warnx("outbox: cannot start the delivery worker of %s", w->n->name);
		else
			w->started = 1;
	}
}

void
outbox_reload(struct outbox *ob, const struct cfg *cfg)
{
	/* a send under way uses the old cfg: wait for it (each is bounded by its timeout) */
	workers_stop(ob, -1);
	pthread_mutex_lock(&ob->lock);
	ob->cfg = cfg;
	for (size_t i = 0; i < ob->nmsgs; i++)
		ob->msgs[i].next_at = 0; /* new settings: try now */
	pthread_mutex_unlock(&ob->lock);
	outbox_start(ob);
}

int
outbox_free(struct outbox *ob, double wait)
{
	if (ob == NULL)
		return 0;
	if (ob->nworkers > 0 && workers_stop(ob, wait) > 0)
		return 1; /* a worker still sends: it keeps the outbox (the process exits) */
	free(ob->workers);	/* outbox_start allocates one even without notifiers */
	for (size_t i = 0; i < ob->nmsgs; i++) {
		free(ob->msgs[i].receiver);
		free(ob->msgs[i].key);
		free(ob->msgs[i].subject);
	}
	free(ob->msgs);
	free(ob->putting);
	if (ob->cfg != NULL) {
		pthread_mutex_destroy(&ob->lock);
		pthread_cond_destroy(&ob->wake);
	}
	free(ob->dir);
	free(ob->queue);
	free(ob->tmp);
	free(ob->dead);
	free(ob->corrupt);
	free(ob);
	return 0;
}

/* ---- statistics ---------------------------------------------------------------------------- */

static size_t
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

void
outbox_get_stats(struct outbox *ob, struct outbox_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&ob->lock);
	st->nreceivers = ob->cfg->nnotifiers + 1;
	st->receivers = xcalloc(st->nreceivers, sizeof(*st->receivers));
	for (size_t i = 0; i < ob->cfg->nnotifiers; i++) {
		struct outbox_receiver_stats *r = &st->receivers[i];
		const struct worker *w = worker_of(ob, ob->cfg->notifiers[i].name);

		r->name = ob->cfg->notifiers[i].name;
		if (w != NULL) {
			r->sent = w->sent;
			r->retries = w->retries;
			r->dead = w->dead;
			r->expired = w->expired;
			r->failing = w->failing;
		}
	}
	st->receivers[ob->cfg->nnotifiers].expired = ob->orphan_expired;
	for (size_t i = 0; i < ob->nmsgs; i++) {
		const struct msg *m = &ob->msgs[i];
		size_t r = ob->cfg->nnotifiers;

		for (size_t j = 0; j < ob->cfg->nnotifiers; j++)
			if (strcmp(ob->cfg->notifiers[j].name, m->receiver) == 0)
				r = j;
		if (st->receivers[r].queued++ == 0 || m->created < st->receivers[r].oldest)
			st->receivers[r].oldest = m->created;
	}
	st->corrupt = ob->corrupt_total;
	pthread_mutex_unlock(&ob->lock);
	st->dead_files = count_files(ob->dead);
}

void
outbox_stats_free(struct outbox_stats *st)
{
	free(st->receivers);
	memset(st, 0, sizeof(*st));
}

/* ---- the command line ---------------------------------------------------------------------- */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names of dir, sorted (the queue order). */
static char **
list_dir(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

int
outbox_has_key(struct outbox *ob, const char *key)
{
	size_t n;
	char **names;
	int found = 0;

	pthread_mutex_lock(&ob->lock);
	for (size_t i = 0; i < ob->nmsgs && !found; i++)
		found = strcmp(ob->msgs[i].key, key) == 0;
	pthread_mutex_unlock(&ob->lock);
	names = list_dir(ob->dead, &n);
	for (size_t i = 0; i < n; i++) {
		char *path = path_in(ob->dead, names[i]), *data = NULL, err[256];
		struct outbox_header h;
		const char *body;
		size_t size;

		if (!found && read_file(path, &data, &size) == 0 &&
		    outbox_parse(data, size, &h, &body, err, sizeof(err)) == 0) {
			found = h.key != NULL && strcmp(h.key, key) == 0;
			outbox_header_free(&h);
		}
		free(data);
		free(path);
		free(names[i]);
	}
	free(names);
	return found;
}

static void
print_age(FILE *out, double seconds)
{
	if (seconds < 120)
		fprintf(out, "%.0fs", seconds);
	else if (seconds < 7200)
		fprintf(out, "%.0fm", seconds / 60);
	else if (seconds < 172800)
		fprintf(out, "%.0fh", seconds / 3600);
	else
		fprintf(out, "%.0fd", seconds / 86400);
}

static void
list_folder(const char *dir, const char *state, FILE *out, size_t *total)
{
	size_t n;
	char **names = list_dir(dir, &n);
	double now = util_now();

	for (size_t i = 0; i < n; i++) {
		char *path = path_in(dir, names[i]), *data = NULL, err[256];
		struct outbox_header h;
		const char *body;
		size_t size;

		if (read_file(path, &data, &size) == -1 ||
		    outbox_parse(data, size, &h, &body, err, sizeof(err)) == -1) {
			fprintf(out, "%-28s %-7s %-16s %s\n", names[i], state, "?", "(unreadable)");
		} else {
			fprintf(out, "%-28s %-7s %-16s ", h.id, state, h.receiver);
			print_age(out, now - h.created);
			fprintf(out, "  %s", h.subject ? h.subject : "");
			if (h.error != NULL)
				fprintf(out, "\n%28s attempts %u, last error: %s", "", h.attempts,
				    h.error);
			fputc('\n', out);
			outbox_header_free(&h);
		}
		(*total)++;
		free(data);
		free(path);
		free(names[i]);
	}
	free(names);
}

int
outbox_list(const char *dir, FILE *out, char *err, size_t errlen)
{
	char *queue = path_in(dir, "queue"), *dead = path_in(dir, "dead");
	struct stat st;
	size_t total = 0;
	int rc = -1;

	if (stat(queue, &st) == -1) {
		snprintf(err, errlen, "no spool in %s (%s)", dir, strerror(errno));
		goto out;
	}
	fprintf(out, "%-28s %-7s %-16s %s\n", "ID", "STATE", "RECEIVER", "AGE  SUBJECT");
	list_folder(queue, "queued", out, &total);
	list_folder(dead, "dead", out, &total);
	fprintf(out, "%zu message%s\n", total, total == 1 ? "" : "s");
	rc = 0;
out:
	free(queue);
	free(dead);
	return rc;
}

int
outbox_retry(const char *dir, const char *id, char *err, size_t errlen)
{
	char *from = NULL, *to = NULL, *tmp = path_in(dir, "tmp"), *data = NULL;
	char *dead = path_in(dir, "dead"), *queue = path_in(dir, "queue"), perr[256];
	struct outbox_header h;
	const char *body;
	size_t size;
	int rc = -1;

	if (!valid_id(id)) {
		snprintf(err, errlen, "\"%s\" is not a message id (see reeve outbox list)", id);
		goto out;
	}
	from = path_in(dead, id);
	to = path_in(queue, id);
	if (read_file(from, &data, &size) == -1) {
		snprintf(err, errlen, "no dead letter %s in %s (%s)", id, dead, strerror(errno));
		goto out;
	}
	if (outbox_parse(data, size, &h, &body, perr, sizeof(perr)) == -1) {
		snprintf(err, errlen, "dead letter %s is unreadable: %s", id, perr);
		goto out;
	}
	{
		struct buf file = { 0 };

		/* back in the queue as new: no attempts, no error, max_age counts from now */
		free(h.error);
		h.error = NULL;
		h.attempts = 0;
		h.created = util_now();
		outbox_format(&file, &h, body, h.length);
		if (util_write_file_atomic(to, tmp, file.data, file.len) == -1)
			snprintf(err, errlen, "cannot write %s: %s", to, strerror(errno));
		else if (unlink(from) == -1 || util_fsync_dir(dead) == -1)
			snprintf(err, errlen, "queued again, but cannot remove %s: %s", from,
			    strerror(errno));
		else
			rc = 0;
		buf_free(&file);
		outbox_header_free(&h);
	}
out:
	free(data);
	free(from);
	free(to);
	free(tmp);
	free(dead);
	free(queue);
	return rc;
}
