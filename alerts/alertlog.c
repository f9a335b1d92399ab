/* alertlog.c: appends alert transitions to data_dir/alerts/history.jsonl, rotates and reads it. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alertlog.h"
#include "log.h"
#include "util.h"

/*
 * Open the current file for appending. A last line torn by a crash is ended with a newline
 * first, so the next entry is not glued to it. Called with the lock held (or before sharing).
 */
static int
open_current(struct alertlog *al)
{
	struct stat st;
	char last;
	int fd;

	if ((fd = open(al->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	al->size = (uint64_t)st.st_size;
	if (st.st_size > 0) {
		if (pread(fd, &last, 1, st.st_size - 1) != 1)
			goto fail;
		if (last != '\n') {
			if (util_write_all(fd, "\n", 1) == -1)
				goto fail;
			al->size++;
		}
	}
	al->fd = fd;
	return 0;
fail:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

struct alertlog *
alertlog_open(const char *dir, uint64_t max_size, unsigned keep)
{
	struct alertlog *al;

	if (util_mkdir_p(dir) == -1) {
		log_warn("alert history: cannot create %s", dir);
		return NULL;
	}
	al = xcalloc(1, sizeof(*al));
	al->dir = xstrdup(dir);
	al->path = xasprintf("%s/history.jsonl", dir);
	al->max_size = max_size ? max_size : ALERTLOG_MAX_SIZE;
	al->keep = keep ? keep : ALERTLOG_KEEP;
	al->fd = -1;
	if (open_current(al) == -1) {
		int e = errno;

		log_warn("alert history: cannot open %s", al->path);
		free(al->path);
		free(al->dir);
		free(al);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&al->lock, NULL);
	return al;
}

void
alertlog_close(struct alertlog *al)
{
	if (al == NULL)
		return;
	if (al->fd != -1)
		close(al->fd);
	pthread_mutex_destroy(&al->lock);
	free(al->path);
	free(al->dir);
	free(al);
}

/* history.jsonl -> .1 -> .2 ... ; the oldest beyond keep is overwritten. Lock held. */
static int
rotate(struct alertlog *al)
{
	char *from, *to;
	unsigned i;

	if (al->fd != -1) {
		close(al->fd);
		al->fd = -1;
	}
	for (i = al->keep; i >= 1; i--) {
		from = i == 1 ? xstrdup(al->path) : xasprintf("%s.%u", al->path, i - 1);
		to = xasprintf("%s.%u", al->path, i);
		if (rename(from, to) == -1 && errno != ENOENT) {
			int e = errno;

			free(from);
			free(to);
			errno = e;
			return -1;
		}
		free(from);
		free(to);
	}
	if (util_fsync_dir(al->dir) == -1)
		return -1;
	return open_current(al);
}

static void
put_number(struct buf *b, double v)
{
	char num[64];

	if (isfinite(v))
		buf_puts(b, util_fmt_double(num, sizeof(num), v));
	else
		buf_puts(b, "null"); /* JSON has no NaN or infinities */
}

int
alertlog_append(struct alertlog *al, const struct rule_event *ev)
{
	struct buf b = { 0 };
	size_t i;
	int rc = -1, e = 0;

	buf_puts(&b, "{\"time\":");
	put_number(&b, ev->time);
	buf_puts(&b, ",\"rule\":");
	buf_json_string(&b, ev->rule);
	buf_puts(&b, ",\"labels\":{");
	for (i = 0; i < ev->nlabels; i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_json_string(&b, ev->labels[i].name);
		buf_putc(&b, ':');
		buf_json_string(&b, ev->labels[i].value);
	}
	buf_puts(&b, "},\"from\":");
	buf_json_string(&b, rule_state_name(ev->from));
	buf_puts(&b, ",\"to\":");
	buf_json_string(&b, rule_state_name(ev->to));
	buf_puts(&b, ",\"value\":");
	put_number(&b, ev->value);
	buf_puts(&b, ",\"severity\":");
	buf_json_string(&b, ev->severity ? ev->severity : "");
	buf_puts(&b, ",\"summary\":");
	if (ev->summary != NULL)
		buf_json_string(&b, ev->summary);
	else
		buf_puts(&b, "null");
	buf_puts(&b, "}\n");

	pthread_mutex_lock(&al->lock);
	if (al->fd == -1 && open_current(al) == -1)
		goto out;
	if (al->size > 0 && al->size + b.len > al->max_size && rotate(al) == -1)
		goto out;
	if (util_write_all(al->fd, b.data, b.len) == -1 || fsync(al->fd) == -1) {
		/* reopened next time; a torn line is ended then */
		e = errno;
		close(al->fd);
		al->fd = -1;
		errno = e;
		goto out;
	}
	al->size += b.len;
	rc = 0;
out:
	e = errno;
	pthread_mutex_unlock(&al->lock);
	buf_free(&b);
	errno = e;
	return rc;
}

void
alertlog_sink(void *arg, const struct rule_event *ev)
{
	struct alertlog *al = arg;
	unsigned long dropped;

	if (alertlog_append(al, ev) == 0)
		return;
	__atomic_add_fetch(&al->failures, 1, __ATOMIC_RELAXED);
	if (log_limit_allow(&al->limit, 60, &dropped))
		log_warn("alert history: cannot append to %s (%lu more failures not logged)",
		    al->path, dropped);
}

static void
entry_clear(struct alertlog_entry *e)
{
	size_t j;

	free(e->rule);
	for (j = 0; j < e->nlabels; j++) {
		free((char *)e->labels[j].name);
		free((char *)e->labels[j].value);
	}
	free(e->labels);
	free(e->from);
	free(e->to);
	free(e->severity);
	free(e->summary);
}

void
alertlog_entries_free(struct alertlog_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		entry_clear(&e[i]);
	free(e);
}

static char *
get_str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? xstrdup(it->valuestring) : NULL;
}

/* One line into e; returns 0, or -1 for a line that is not an entry (skipped). */
static int
parse_entry(const char *line, size_t len, struct alertlog_entry *e)
{
	cJSON *o = cJSON_ParseWithLengthOpts(line, len, NULL, 0);
	const cJSON *t, *v, *l, *it;
	size_t n = 0;

	memset(e, 0, sizeof(*e));
	t = cJSON_GetObjectItemCaseSensitive(o, "time");
	v = cJSON_GetObjectItemCaseSensitive(o, "value");
	l = cJSON_GetObjectItemCaseSensitive(o, "labels");
	if (!cJSON_IsNumber(t) || !cJSON_IsObject(l) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "rule")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "from")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "to"))) {
		cJSON_Delete(o);
		return -1;
	}
	e->time = t->valuedouble;
	e->value = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	e->rule = get_str(o, "rule");
	e->from = get_str(o, "from");
	e->to = get_str(o, "to");
	e->severity = get_str(o, "severity");
	e->summary = get_str(o, "summary");
	e->labels = xcalloc((size_t)cJSON_GetArraySize(l) + 1, sizeof(*e->labels));
	cJSON_ArrayForEach(it, l) {
		if (!cJSON_IsString(it) || it->string == NULL)
			continue;
		e->labels[n].name = xstrdup(it->string);
		e->labels[n++].value = xstrdup(it->valuestring);
	}
	e->nlabels = n;
	cJSON_Delete(o);
	return 0;
}

struct entries {
	struct alertlog_entry *e;
	size_t n, cap, max;
};

/* Keep the newest max entries once there are more than limit (amortised: limit is 2 max). */
static void
drop_oldest(struct entries *es, size_t limit)
{
	size_t k, i;

	if (es->n < limit || es->n <= es->max)
		return;
	k = es->n - es->max;
	for (i = 0; i < k; i++)
		entry_clear(&es->e[i]);
	memmove(es->e, es->e + k, es->max * sizeof(*es->e));
	es->n = es->max;
}

/* Append the matching entries of one file; a missing file has none. */
static int
read_one(const char *path, double since, const char *rule, struct entries *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((len = getline(&line, &cap, fp)) != -1) {
		struct alertlog_entry e;

		if ((size_t)len > ALERTLOG_MAX_LINE)
			continue;
		if (parse_entry(line, (size_t)len, &e) == -1)
			continue;
		if (e.time < since || (rule != NULL && strcmp(e.rule, rule) != 0)) {
			entry_clear(&e);
			continue;
		}
		drop_oldest(out, out->max > SIZE_MAX / 2 ? SIZE_MAX : 2 * out->max);
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 64;
			out->e = xreallocarray(out->e, out->cap, sizeof(*out->e));
		}
		out->e[out->n++] = e;
	}
	free(line);
	fclose(fp);
	return 0;
}

int
alertlog_read(struct alertlog *al, double since, const char *rule, size_t max,
    struct alertlog_entry **out, size_t *n)
{
	struct entries es = { NULL, 0, 0, max };
	unsigned i;
	int rc = 0, e = 0;

	*out = NULL;
	*n = 0;
	if (max == 0)
		return 0;
	pthread_mutex_lock(&al->lock);
	for (i = al->keep; i >= 1 && rc == 0; i--) {
		char *p = xasprintf("%s.%u", al->path, i);

		rc = read_one(p, since, rule, &es);
		e = errno;
		free(p);
	}
	if (rc == 0) {
		rc = read_one(al->path, since, rule, &es);
		e = errno;
	}
	pthread_mutex_unlock(&al->lock);
	drop_oldest(&es, 0);
	if (rc == -1) {
		alertlog_entries_free(es.e, es.n);
		errno = e;
		return -1;
	}
	*out = es.e;
	*n = es.n;
	return 0;
}
