/* silence.c: silences and acknowledgements, kept in one file shared by the daemon and the command line. */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "expr.h"
#include "log.h"
#include "silence.h"

#define SILENCE_FILE_VERSION 1
#define SILENCE_MAX_FILE (16u << 20)

struct entry {
	char id[17];
	enum silence_kind kind;
	char *matchers;             /* as written */
	struct expr_matcher *m;
	size_t nm;
	double starts_at, ends_at, created_at;
	char *comment, *author;
};

/* lock guards everything below it. */
struct silences {
	pthread_mutex_t lock;
	char *path, *lockpath;
	struct entry *e;
	size_t n;
	struct stat seen;           /* of the file when it was last read */
	int have_seen;
};

static const char *const kind_names[] = { "silence", "ack" };

static void
entry_clear(struct entry *e)
{
	free(e->matchers);
	if (e->m != NULL)
		expr_matchers_free(e->m, e->nm);
	free(e->comment);
	free(e->author);
	memset(e, 0, sizeof(*e));
}

static void
entries_free(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		entry_clear(&e[i]);
	free(e);
}

/* ---- the file ---------------------------------------------------------------------------------- */

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/*
 * Read the file into a new list. A missing file is an empty list; an unreadable one is an
 * error (nothing is changed then, so that a bad edit by hand does not lose silences).
 */
static int
read_entries(const char *path, struct entry **out, size_t *nout, struct stat *st, char *err,
    size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	struct buf b = { 0 };
	char chunk[8192];
	size_t n;
	cJSON *root = NULL;
	const cJSON *it;
	struct entry *e = NULL;
	size_t ne = 0;
	int rc = -1;

	*out = NULL;
	*nout = 0;
	if (fp == NULL) {
		if (errno == ENOENT) {
			memset(st, 0, sizeof(*st));
			return 0;
		}
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), st) == -1)
		memset(st, 0, sizeof(*st));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && b.len <= SILENCE_MAX_FILE)
		buf_append(&b, chunk, n);
	fclose(fp);
	if (b.len > SILENCE_MAX_FILE) {
		snprintf(err, errlen, "%s is larger than 16MiB", path);
		goto out;
	}
	root = cJSON_ParseWithLengthOpts(b.data ? b.data : "", b.len, NULL, 0);
	if (root == NULL || num(root, "version") != SILENCE_FILE_VERSION ||
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "silences"))) {
		snprintf(err, errlen, "%s is not a silence file of version %d", path,
		    SILENCE_FILE_VERSION);
		goto out;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "silences")) {
		const char *id = str(it, "id"), *kind = str(it, "kind"), *m = str(it, "matchers");
		struct entry x = { 0 };
		char perr[256];

		if (ne == SILENCE_MAX)
			break;
		if (id == NULL || strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16 ||
		    kind == NULL || m == NULL || !isfinite(num(it, "starts_at")) ||
		    !isfinite(num(it, "ends_at"))) {
			log_warnx("%s: an entry without id, kind, matchers or times is skipped", path);
			continue;
		}
		if (expr_parse_matchers(m, &x.m, &x.nm, perr, sizeof(perr)) == -1) {
			log_warnx("%s: silence %s: %s: skipped", path, id, perr);
			continue;
		}
		memcpy(x.id, id, sizeof(x.id));
		x.kind = strcmp(kind, "ack") == 0 ? SILENCE_ACK : SILENCE_MUTE;
		x.matchers = xstrdup(m);
		x.starts_at = num(it, "starts_at");
		x.ends_at = num(it, "ends_at");
		x.created_at = num(it, "created_at");
		x.comment = xstrdup(str(it, "comment") ? str(it, "comment") : "");
		x.author = xstrdup(str(it, "author") ? str(it, "author") : "");
		e = xreallocarray(e, ne + 1, sizeof(*e));
		e[ne++] = x;
	}
	*out = e;
	*nout = ne;
	e = NULL;
	ne = 0;
	rc = 0;
out:
	entries_free(e, ne);
	cJSON_Delete(root);
	buf_free(&b);
	return rc;
}

static int
write_entries(const char *path, const struct entry *e, size_t n, char *err, size_t errlen)
{
	cJSON *root = cJSON_CreateObject(), *list;
	char *text;
	int rc = -1;

	cJSON_AddNumberToObject(root, "version", SILENCE_FILE_VERSION);
	list = cJSON_AddArrayToObject(root, "silences");
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", e[i].id);
		cJSON_AddStringToObject(o, "kind", kind_names[e[i].kind]);
		cJSON_AddStringToObject(o, "matchers", e[i].matchers);
		cJSON_AddNumberToObject(o, "starts_at", e[i].starts_at);
		cJSON_AddNumberToObject(o, "ends_at", e[i].ends_at);
		cJSON_AddNumberToObject(o, "created_at", e[i].created_at);
		cJSON_AddStringToObject(o, "comment", e[i].comment);
		cJSON_AddStringToObject(o, "author", e[i].author);
		cJSON_AddItemToArray(list, o);
	}
	if ((text = cJSON_Print(root)) == NULL)
		snprintf(err, errlen, "cannot encode the silences");
	else if (util_write_file_atomic(path, NULL, text, strlen(text)) == -1)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	else
		rc = 0;
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

/* Replace the in-memory list (lock held). */
static void
take(struct silences *s, struct entry *e, size_t n, const struct stat *st)
{
	entries_free(s->e, s->n);
	s->e = e;
	s->n = n;
	s->seen = *st;
	s->have_seen = 1;
}

static int
changed(const struct silences *s, const struct stat *st)
{
	return !s->have_seen || st->st_ino != s->seen.st_ino || st->st_size != s->seen.st_size ||
	    st->st_mtim.tv_sec != s->seen.st_mtim.tv_sec ||
	    st->st_mtim.tv_nsec != s->seen.st_mtim.tv_nsec;
}

struct silences *
silences_open(const char *path, char *err, size_t errlen)
{
	struct silences *s = xcalloc(1, sizeof(*s));
	struct entry *e;
	size_t n;
	struct stat st;

	if (read_entries(path, &e, &n, &st, err, errlen) == -1) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->path = xstrdup(path);
	s->lockpath = xasprintf("%s.lock", path);
	take(s, e, n, &st);
	return s;
}

void
silences_free(struct silences *s)
{
	if (s == NULL)
		return;
	entries_free(s->e, s->n);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s->lockpath);
	free(s);
}

void
silences_refresh(struct silences *s)
{
	struct stat st;
	struct entry *e;
	size_t n;
	char err[512];

	if (stat(s->path, &st) == -1)
		memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&s->lock);
	if (changed(s, &st)) {
		if (read_entries(s->path, &e, &n, &st, err, sizeof(err)) == 0)
			take(s, e, n, &st);
		else {
			log_warnx("silences: %s (the ones read before stay in force)", err);
			s->seen = st; /* said once per change */
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/*
 * Change the file under its lock: read it again, let fn change the list, drop entries long
 * ended, write it, and take the result. Returns 0, or -1 with a message in err.
 */
static int
modify(struct silences *s, int (*fn)(void *arg, struct entry **e, size_t *n, char *err,
    size_t errlen), void *arg, char *err, size_t errlen)
{
	int fd = open(s->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600), rc = -1;
	struct entry *e = NULL;
	size_t n = 0;
	struct stat st;
	double now = util_now();

	if (fd == -1) {
		snprintf(err, errlen, "cannot open %s: %s", s->lockpath, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) == -1) {
		snprintf(err, errlen, "cannot lock %s: %s", s->lockpath, strerror(errno));
		goto out;
	}
	if (read_entries(s->path, &e, &n, &st, err, errlen) == -1 || fn(arg, &e, &n, err, errlen) == -1)
		goto out;
	for (size_t i = 0; i < n;) {
		if (now - e[i].ends_at > SILENCE_KEEP) {
			entry_clear(&e[i]);
			e[i] = e[--n];
		} else {
			i++;
		}
	}
	if (write_entries(s->path, e, n, err, errlen) == -1)
		goto out;
	if (stat(s->path, &st) == -1)
		memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&s->lock);
	take(s, e, n, &st);
	pthread_mutex_unlock(&s->lock);
	e = NULL;
	n = 0;
	rc = 0;
out:
	entries_free(e, n);
	close(fd); /* releases the lock */
	return rc;
}

/* ---- adding and ending ------------------------------------------------------------------------- */

struct add {
	struct entry x;
};

static int
do_add(void *arg, struct entry **e, size_t *n, char *err, size_t errlen)
{
	struct add *a = arg;

	if (*n >= SILENCE_MAX) {
		snprintf(err, errlen, "there are already %d silences and acknowledgements",
		    SILENCE_MAX);
		return -1;
	}
	*e = xreallocarray(*e, *n + 1, sizeof(**e));
	(*e)[(*n)++] = a->x;
	memset(&a->x, 0, sizeof(a->x));
	return 0;
}

static int
text_ok(const char *what, const char *s, char *err, size_t errlen)
{
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "%s is required", what);
		return 0;
	}
	if (strlen(s) > SILENCE_MAX_TEXT) {
		snprintf(err, errlen, "%s is longer than %d bytes", what, SILENCE_MAX_TEXT);
		return 0;
	}
	return 1;
}

int
silences_add(struct silences *s, enum silence_kind kind, const char *matchers, double starts,
    double ends, const char *comment, const char *author, char id[17], char *err,
    size_t errlen)
{
	struct add a;
	unsigned char rnd[8];
	double now = util_now();
	int rc;

	memset(&a, 0, sizeof(a));
	if (!text_ok("matchers", matchers, err, errlen) || !text_ok("comment", comment, err,
	    errlen) || !text_ok("author", author, err, errlen))
		return -1;
	if (starts == 0)
		starts = floor(now); /* whole seconds read better in lists */
	if (!isfinite(starts) || !isfinite(ends) || ends <= starts || ends <= now) {
		snprintf(err, errlen, "the end must be after the start and in the future");
		return -1;
	}
	if (expr_parse_matchers(matchers, &a.x.m, &a.x.nm, err, errlen) == -1)
		return -1;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned long long h = util_hash(&now, sizeof(now)) ^ (unsigned long long)getpid();

		memcpy(rnd, &h, sizeof(rnd));
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(a.x.id + 2 * i, 3, "%02x", rnd[i]);
	a.x.kind = kind;
	a.x.matchers = xstrdup(matchers);
	a.x.starts_at = starts;
	a.x.ends_at = ends;
	a.x.created_at = now;
	a.x.comment = xstrdup(comment);
	a.x.author = xstrdup(author);
	memcpy(id, a.x.id, 17);
	rc = modify(s, do_add, &a, err, errlen);
	entry_clear(&a.x);
	return rc;
}

static int
do_expire(void *arg, struct entry **e, size_t *n, char *err, size_t errlen)
{
	const char *id = arg;
	double now = util_now();

	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*e)[i].id, id) != 0)
			continue;
		if ((*e)[i].ends_at <= now) {
			snprintf(err, errlen, "%s %s has already ended", kind_names[(*e)[i].kind], id);
			return -1;
		}
		(*e)[i].ends_at = now;
		if ((*e)[i].starts_at > now)
			(*e)[i].starts_at = now;
		return 0;
	}
	snprintf(err, errlen, "no silence or acknowledgement %s", id);
	return -1;
}

int
silences_expire(struct silences *s, const char *id, char *err, size_t errlen)
{
	return modify(s, do_expire, (void *)id, err, errlen);
}

/* ---- using them -------------------------------------------------------------------------------- */

int
silences_match(struct silences *s, enum silence_kind kind, const struct reeve_label *l,
    size_t n, double now, const char **id)
{
	int hit = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n && !hit; i++) {
		const struct entry *e = &s->e[i];

		if (e->kind == kind && e->starts_at <= now && now < e->ends_at &&
		    expr_matches(e->m, e->nm, NULL, l, n)) {
			hit = 1;
			if (id != NULL)
				*id = e->id;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return hit;
}

static const char *
state_of(const struct entry *e, double now)
{
	return now >= e->ends_at ? "expired" : now < e->starts_at ? "pending" : "active";
}

void
silences_json(struct silences *s, double now, struct buf *out)
{
	char t[40];

	pthread_mutex_lock(&s->lock);
	buf_puts(out, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->e[i];
		struct buf mt = { 0 };

		buf_printf(out, "%s{\"id\":\"%s\",\"kind\":\"%s\",\"status\":{\"state\":\"%s\"},"
		    "\"matchers\":", i ? "," : "", e->id, kind_names[e->kind], state_of(e, now));
		expr_format_matchers(e->m, e->nm, &mt);
		buf_json_string(out, mt.data ? mt.data : "");
		buf_free(&mt);
		buf_puts(out, ",\"startsAt\":");
		buf_json_string(out, util_fmt_rfc3339(t, sizeof(t), e->starts_at));
		buf_puts(out, ",\"endsAt\":");
		buf_json_string(out, util_fmt_rfc3339(t, sizeof(t), e->ends_at));
		buf_puts(out, ",\"createdAt\":");
		buf_json_string(out, util_fmt_rfc3339(t, sizeof(t), e->created_at));
		buf_puts(out, ",\"comment\":");
		buf_json_string(out, e->comment);
		buf_puts(out, ",\"createdBy\":");
		buf_json_string(out, e->author);
		buf_putc(out, '}');
	}
	buf_puts(out, "]}\n");
	pthread_mutex_unlock(&s->lock);
}

void
silences_print(struct silences *s, double now, int all, FILE *out)
{
	char a[40], b[40];
	size_t shown = 0;

	pthread_mutex_lock(&s->lock);
	fprintf(out, "%-16s %-7s %-7s %-20s %-20s %s\n", "ID", "KIND", "STATE", "STARTS", "ENDS",
	    "MATCHERS / AUTHOR: COMMENT");
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->e[i];

		if (!all && now >= e->ends_at)
			continue;
		fprintf(out, "%-16s %-7s %-7s %-20s %-20s %s\n%66s%s: %s\n", e->id,
		    kind_names[e->kind], state_of(e, now), util_fmt_rfc3339(a, sizeof(a), e->starts_at),
		    util_fmt_rfc3339(b, sizeof(b), e->ends_at), e->matchers, "", e->author,
		    e->comment);
		shown++;
	}
	fprintf(out, "%zu entr%s\n", shown, shown == 1 ? "y" : "ies");
	pthread_mutex_unlock(&s->lock);
}

/* ---- the HTTP API ------------------------------------------------------------------------------ */

/* A time of a body: RFC 3339 or Unix seconds (string or number). */
static int
body_time(const cJSON *o, const char *k, double *t, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
		*t = v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && util_parse_time(v->valuestring, t) == 0)
		return 0;
	snprintf(err, errlen, "%s: not an RFC 3339 or Unix time", k);
	return -1;
}

int
silences_api_add(struct silences *s, enum silence_kind kind, const char *matchers,
    const char *body, size_t len, double default_duration, char id[17], char *err,
    size_t errlen)
{
	cJSON *o = cJSON_ParseWithLengthOpts(body, len, NULL, 0);
	const cJSON *dur;
	/* from now, in whole seconds as silences_add starts it: a duration is exact */
	double starts = 0, ends = 0, now = floor(util_now());
	const char *m = matchers, *errstr;
	int rc = -1;

	if (o == NULL || !cJSON_IsObject(o)) {
		snprintf(err, errlen, "the body is not a JSON object");
		goto out;
	}
	if (m == NULL && (m = str(o, "matchers")) == NULL) {
		snprintf(err, errlen, "matchers: required, a string such as "
		    "\"alertname=\\\"DiskFull\\\", instance=~\\\"web.*\\\"\"");
		goto out;
	}
	if (body_time(o, "startsAt", &starts, err, errlen) == -1 ||
	    body_time(o, "endsAt", &ends, err, errlen) == -1)
		goto out;
	dur = cJSON_GetObjectItemCaseSensitive(o, "duration");
	if (dur != NULL && ends != 0) {
		snprintf(err, errlen, "give endsAt or duration, not both");
		goto out;
	}
	if (dur != NULL) {
		double d;

		if (!cJSON_IsString(dur) || cfg_parse_duration(dur->valuestring, &d, &errstr) == -1 ||
		    d <= 0) {
			snprintf(err, errlen, "duration: not a duration such as 2h");
			goto out;
		}
		ends = (starts ? starts : now) + d;
	}
	if (ends == 0) {
		if (default_duration <= 0) {
			snprintf(err, errlen, "endsAt or duration: required");
			goto out;
		}
		ends = (starts ? starts : now) + default_duration;
	}
	rc = silences_add(s, kind, m, starts, ends, str(o, "comment"), str(o, "createdBy"), id,
	    err, errlen);
out:
	cJSON_Delete(o);
	return rc;
}
