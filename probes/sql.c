/* sql.c: the sql probe: the rows of named queries to PostgreSQL (libpq) or SQLite as samples. */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <reeve-probe.h>

/* Functions the unit tests call are external with -DREEVE_TESTING, static otherwise. */
#ifdef REEVE_TESTING
#define REEVE_STATIC
#else
#define REEVE_STATIC static
#endif

#define SQL_MAX_VALUE_COLUMNS 64
#define SQL_MAX_LABEL_COLUMNS 16
#define SQL_MAX_NAME 200		/* a metric or label name */
#define SQL_CONNFILE_MAX 4096		/* a connection_file is one conninfo line or URI */
#define SQL_STATEMENT_TIMEOUT 5.0
#define SQL_CONNECT_TIMEOUT 5.0
#define SQL_MAX_ROWS 10000
#define SQL_ERR_MAX 512

REEVE_STATIC int sql_parse_value(const char *text, double *out);
REEVE_STATIC int sql_split_columns(const char *list, char **names, size_t max, size_t *n,
    char *err, size_t errlen);
REEVE_STATIC void sql_scrub(const char *secret, char *buf, size_t size);

enum driver {
	DRV_POSTGRESQL,
	DRV_SQLITE
};

static const struct reeve_metric m_up = {
	"sql_query_up", "1 if the last run of the query succeeded, 0 if it failed or could not run.",
	REEVE_GAUGE
};
static const struct reeve_metric m_duration = {
	"sql_query_duration_seconds", "How long the last run of the query took.", REEVE_GAUGE
};
static const struct reeve_metric m_rows = {
	"sql_query_rows", "Rows the query returned at its last successful run.", REEVE_GAUGE
};

/* A value or label column of a query. */
struct column {
	char *name;			/* as configured */
	int index;			/* in the current result, -1 before it is known */
	struct reeve_metric metric;	/* value columns: name is NAME_COLUMN (owned) */
	int null_logged;		/* a NULL in this column was logged once */
};

/* One result row, kept until the whole query succeeded. */
struct row {
	size_t num;	/* 1-based row number in the result */
	double *v;	/* one per value column */
	char *null;	/* one per value column: 1 when the cell was NULL */
	char **lab;	/* one per label column (owned) */
};

struct query {
	char *name;
	char *sql;
	char *prefix;
	char *help;
	char *firstkey;		/* the first key naming this query, for config errors */
	int have_sql;
	int bad;		/* a key of it was rejected */
	enum reeve_metric_type type;
	struct column *values;
	size_t nvalues;
	struct column *labels;
	size_t nlabels;
	/* one run: rows are buffered so a query emits all its samples or none */
	struct row *rows;
	size_t nrows, caprows;
	size_t total;		/* rows seen, also past max_rows */
	char err[SQL_ERR_MAX];	/* why the run failed ("" while it goes well) */
	int failing;		/* the last run failed: its message was logged */
	char lasterr[SQL_ERR_MAX];
};

struct sql_state {
	const struct reeve_host *host;
	char *instance;
	enum driver driver;
	char *conninfo;		/* connection = ...; secret */
	char *connfile;		/* connection_file = ... */
	char *password;		/* from the last conninfo parsed, to keep it out of messages */
	char where[256];	/* host=... port=... dbname=..., never the password */
	char *database;		/* sqlite */
	double stmt_timeout;
	double connect_timeout;
	unsigned long max_rows;
	struct query *queries;
	size_t nqueries;
	PGconn *pg;
	sqlite3 *db;
	dev_t db_dev;
	ino_t db_ino;
	double deadline;	/* sqlite: the running statement's end, on the monotonic clock */
	int ever_connected;
	int query_keys;		/* the section has query.* keys (init only) */
};

/* ---- helpers ------------------------------------------------------------------------------ */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
secret_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * Replace every occurrence of secret in buf (NUL-terminated, size bytes) with "***".
 * A defence in depth: no message is built from the password, but server and library
 * messages are not ours to trust.
 */
REEVE_STATIC void
sql_scrub(const char *secret, char *buf, size_t size)
{
	char out[2048];
	size_t slen, o = 0;
	const char *p, *hit;

	if (secret == NULL || (slen = strlen(secret)) == 0 || buf == NULL || size == 0 ||
	    strstr(buf, secret) == NULL)
		return;
	for (p = buf; (hit = strstr(p, secret)) != NULL && o < sizeof(out) - 1; p = hit + slen) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%.*s***", (int)(hit - p), p);
		if (o > sizeof(out) - 1)
			o = sizeof(out) - 1;
	}
	if (o < sizeof(out) - 1)
		snprintf(out + o, sizeof(out) - o, "%s", p);
	snprintf(buf, size, "%s", out);
	explicit_bzero(out, sizeof(out));
}

/* Log through the host, with the password scrubbed. */
static void say(struct sql_state *st, enum reeve_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct sql_state *st, enum reeve_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sql_scrub(st->password, msg, sizeof(msg));
	st->host->log(level, "%s", msg);
}

/* A libpq or server message on one line: runs of blanks and newlines become one space. */
static void
one_line(char *dst, size_t size, const char *src)
{
	size_t o = 0;
	int space = 0;

	if (size == 0)
		return;
	for (; src != NULL && *src != '\0' && o < size - 1; src++) {
		if (isspace((unsigned char)*src)) {
			space = 1;
			continue;
		}
		if (space && o > 0 && o < size - 2)
			dst[o++] = ' ';
		space = 0;
		dst[o++] = *src;
	}
	dst[o] = '\0';
}

static void
fmt_duration(char *buf, size_t size, double s)
{
	if (s < 1 && s * 1000 == floor(s * 1000))
		snprintf(buf, size, "%.0fms", s * 1000);
	else
		snprintf(buf, size, "%gs", s);
}

/*
 * Parse a result cell as a sample value: a decimal or hexadecimal number (surrounding blanks
 * allowed, as char(n) pads), inf/nan in any spelling strtod takes, or a boolean t/f/true/false
 * (PostgreSQL prints booleans as t and f). Returns 0, or -1 when the text is not a number.
 */
REEVE_STATIC int
sql_parse_value(const char *text, double *out)
{
	const char *p = text;
	char *end;
	double v;

	while (isspace((unsigned char)*p))
		p++;
	if (strcmp(p, "t") == 0 || strcmp(p, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(p, "f") == 0 || strcmp(p, "false") == 0) {
		*out = 0;
		return 0;
	}
	if (*p == '\0')
		return -1;
	errno = 0;
	v = strtod(p, &end);
	if (end == p)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -1;
	*out = v;	/* ERANGE: strtod gives +-HUGE_VAL or a denormal, both fine as samples */
	return 0;
}

static int
valid_name(const char *s, int colon)
{
	if (!(isalpha((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
			return 0;
	return 1;
}

/*
 * Split a comma-separated column list ("pending, amount") into at most max names, each
 * a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, at most SQL_MAX_NAME characters, not starting
 * with "__"), none twice. names[] receives *n strings the caller frees. Returns 0, or -1 with
 * a message in err (and nothing left to free).
 */
REEVE_STATIC int
sql_split_columns(const char *list, char **names, size_t max, size_t *n, char *err,
    size_t errlen)
{
	const char *p = list, *s, *e;
	size_t i, k = 0, pos = 0;

	*n = 0;
	for (;;) {
		pos++;
		while (isspace((unsigned char)*p))
			p++;
		s = p;
		while (*p != '\0' && *p != ',')
			p++;
		e = p;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e == s) {
			snprintf(err, errlen, "column %zu of the list is empty", pos);
			goto fail;
		}
		if (k == max) {
			snprintf(err, errlen, "more than %zu columns", max);
			goto fail;
		}
		if ((size_t)(e - s) > SQL_MAX_NAME) {
			snprintf(err, errlen, "column %zu is longer than %d characters", pos, SQL_MAX_NAME);
			goto fail;
		}
		if ((names[k] = strndup(s, (size_t)(e - s))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		k++;
		if (!valid_name(names[k - 1], 0) || strncmp(names[k - 1], "__", 2) == 0) {
			snprintf(err, errlen, "'%s' is not a valid column name (letters, digits and _, "
			    "not starting with a digit or __)", names[k - 1]);
			goto fail;
		}
		for (i = 0; i + 1 < k; i++)
			if (strcmp(names[i], names[k - 1]) == 0) {
				snprintf(err, errlen, "column '%s' is listed twice", names[i]);
				goto fail;
			}
		if (*p == '\0')
			break;
		p++;	/* the comma */
	}
	*n = k;
	return 0;
fail:
	for (i = 0; i < k; i++)
		free(names[i]);
	return -1;
}

/* ---- rows --------------------------------------------------------------------------------- */

static void
rows_clear(struct query *q)
{
	size_t i, j;

	for (i = 0; i < q->nrows; i++) {
		for (j = 0; j < q->nlabels; j++)
			free(q->rows[i].lab[j]);
		free(q->rows[i].lab);
		free(q->rows[i].v);
		free(q->rows[i].null);
	}
	q->nrows = 0;
	q->total = 0;
	q->err[0] = '\0';
}

static void
rows_free(struct query *q)
{
	rows_clear(q);
	free(q->rows);
	q->rows = NULL;
	q->caprows = 0;
}

static void qfail(struct query *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record why the query's run failed; the first reason counts. */
static void
qfail(struct query *q, const char *fmt, ...)
{
	va_list ap;

	if (q->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	if (q->err[0] == '\0')
		snprintf(q->err, sizeof(q->err), "failed");
}

/*
 * Find the configured columns among the result's (ncols names, from name()): an exact match
 * first, else one that differs only in case. Returns 0, or -1 after qfail().
 */
static int
map_columns(struct query *q, int ncols, const char *(*name)(void *, int), void *arg)
{
	struct column *c;
	char have[256];
	size_t i, o = 0;
	int j, nc = (int)(q->nvalues + q->nlabels);

	for (i = 0; i < (size_t)nc; i++) {
		c = i < q->nvalues ? &q->values[i] : &q->labels[i - q->nvalues];
		c->index = -1;
		for (j = 0; j < ncols && c->index == -1; j++)
			if (strcmp(name(arg, j), c->name) == 0)
				c->index = j;
		for (j = 0; j < ncols && c->index == -1; j++)
			if (strcasecmp(name(arg, j), c->name) == 0)
				c->index = j;
		if (c->index != -1)
			continue;
		have[0] = '\0';
		for (j = 0; j < ncols && o < sizeof(have); j++)
			o += (size_t)snprintf(have + o, sizeof(have) - o, "%s%s", j ? ", " : "",
			    name(arg, j));
		qfail(q, "%s column '%s' is not in the result (its columns: %s)",
		    i < q->nvalues ? "value" : "label", c->name, ncols ? have : "none");
		return -1;
	}
	return 0;
}

/* Make room for one more row; NULL (after qfail) past max_rows or out of memory. */
static struct row *
row_new(struct sql_state *st, struct query *q)
{
	struct row *r;

	if (++q->total > st->max_rows) {
		qfail(q, "more than max_rows (%lu) rows", st->max_rows);
		return NULL;
	}
	if (q->nrows == q->caprows) {
		size_t cap = q->caprows ? q->caprows * 2 : 16;
		struct row *n = reallocarray(q->rows, cap, sizeof(*n));

		if (n == NULL) {
			qfail(q, "out of memory");
			return NULL;
		}
		q->rows = n;
		q->caprows = cap;
	}
	r = &q->rows[q->nrows];
	memset(r, 0, sizeof(*r));
	r->v = calloc(q->nvalues, sizeof(*r->v));
	r->null = calloc(q->nvalues, 1);
	r->lab = calloc(q->nlabels ? q->nlabels : 1, sizeof(*r->lab));
	if (r->v == NULL || r->null == NULL || r->lab == NULL) {
		free(r->v);
		free(r->null);
		free(r->lab);
		qfail(q, "out of memory");
		return NULL;
	}
	r->num = q->total;
	q->nrows++;
	return r;
}

/* Set label j of row r to text (NULL: an empty value). Returns 0, or -1 after qfail(). */
static int
row_label(struct query *q, struct row *r, size_t j, const char *text)
{
	if ((r->lab[j] = strdup(text != NULL ? text : "")) == NULL) {
		qfail(q, "out of memory");
		return -1;
	}
	return 0;
}

/* Set value i of row r from a text cell. Returns 0, or -1 after qfail(). */
static int
row_value_text(struct query *q, struct row *r, size_t i, const char *text)
{
	char shown[64];

	if (sql_parse_value(text, &r->v[i]) == 0)
		return 0;
	one_line(shown, sizeof(shown), text);
	qfail(q, "row %zu, column %s: '%s%s' is not a number", r->num, q->values[i].name, shown,
	    strlen(text) >= sizeof(shown) - 1 ? "..." : "");
	return -1;
}

static int
row_cmp(const void *a, const void *b, void *arg)
{
	const struct row *ra = a, *rb = b;
	const struct query *q = arg;
	size_t j;
	int c;

	for (j = 0; j < q->nlabels; j++)
		if ((c = strcmp(ra->lab[j], rb->lab[j])) != 0)
			return c;
	return ra->num < rb->num ? -1 : ra->num > rb->num;
}

/* Two rows with the same labels would be one series twice. Returns 0, or -1 after qfail(). */
static int
check_duplicates(struct query *q)
{
	char labels[256];
	size_t i, j, o = 0;

	if (q->nrows < 2)
		return 0;
	if (q->nlabels == 0) {
		qfail(q, "returned %zu rows but has no label_columns to tell them apart", q->nrows);
		return -1;
	}
	qsort_r(q->rows, q->nrows, sizeof(*q->rows), row_cmp, q);
	for (i = 1; i < q->nrows; i++) {
		for (j = 0; j < q->nlabels; j++)
			if (strcmp(q->rows[i - 1].lab[j], q->rows[i].lab[j]) != 0)
				break;
		if (j < q->nlabels)
			continue;
		labels[0] = '\0';
		for (j = 0; j < q->nlabels && o < sizeof(labels); j++)
			o += (size_t)snprintf(labels + o, sizeof(labels) - o, "%s%s=\"%s\"",
			    j ? "," : "", q->labels[j].name, q->rows[i].lab[j]);
		qfail(q, "rows %zu and %zu have the same labels {%s}", q->rows[i - 1].num,
		    q->rows[i].num, labels);
		return -1;
	}
	return 0;
}

/*
 * The end of one run of a query: emit its samples when it succeeded (all or nothing), its
 * sql_query_* metrics in any case, and log a failure when it starts or its reason changes.
 */
static void
finish_query(struct sql_state *st, struct reeve_emitter *em, struct query *q, double t0)
{
	struct reeve_label self[2] = { { "probe", st->instance }, { "query", q->name } };
	struct reeve_label lab[SQL_MAX_LABEL_COLUMNS];
	size_t i, j;
	int ok;

	if (q->err[0] == '\0')
		check_duplicates(q);
	ok = q->err[0] == '\0';
	if (ok) {
		for (i = 0; i < q->nrows; i++) {
			struct row *r = &q->rows[i];

			for (j = 0; j < q->nlabels; j++) {
				lab[j].name = q->labels[j].name;
				lab[j].value = r->lab[j];
			}
			for (j = 0; j < q->nvalues; j++) {
				if (!r->null[j]) {
					st->host->emit(em, &q->values[j].metric, lab, q->nlabels, r->v[j]);
					continue;
				}
				if (!q->values[j].null_logged)
					say(st, REEVE_LOG_INFO, "query %s: row %zu, column %s is NULL: "
					    "no sample (logged once per column)", q->name, r->num,
					    q->values[j].name);
				q->values[j].null_logged = 1;
			}
		}
		st->host->emit(em, &m_rows, self, 2, (double)q->nrows);
		if (q->failing)
			say(st, REEVE_LOG_INFO, "query %s: succeeds again", q->name);
		q->failing = 0;
	} else {
		if (!q->failing || strcmp(q->lasterr, q->err) != 0)
			say(st, REEVE_LOG_WARN, "query %s: %s", q->name, q->err);
		q->failing = 1;
		snprintf(q->lasterr, sizeof(q->lasterr), "%s", q->err);
	}
	st->host->emit(em, &m_up, self, 2, ok);
	st->host->emit(em, &m_duration, self, 2, mono() - t0);
	rows_clear(q);
}

/* The database could not be reached: every query that did not run is reported down. */
static void
queries_down(struct sql_state *st, struct reeve_emitter *em, size_t from)
{
	size_t i;

	for (i = from; i < st->nqueries; i++) {
		struct reeve_label self[2] = { { "probe", st->instance },
		    { "query", st->queries[i].name } };

		rows_clear(&st->queries[i]);
		st->host->emit(em, &m_up, self, 2, 0);
	}
}

/* ---- PostgreSQL --------------------------------------------------------------------------- */

/*
 * libpq's parse errors may quote the text around the problem, which can be the password:
 * only those that name an option are shown.
 */
static void
conninfo_error(char *dst, size_t size, const char *libpq_msg)
{
	char line[256];

	one_line(line, sizeof(line), libpq_msg);
	if (strncmp(line, "invalid connection option", 25) == 0 ||
	    strncmp(line, "invalid URI query parameter", 27) == 0)
		snprintf(dst, size, "not a valid libpq connection string or URI: %s", line);
	else
		snprintf(dst, size, "not a valid libpq connection string or URI (libpq's message "
		    "is not shown: it may quote the password)");
}

/*
 * Parse a conninfo or URI: keep its password (to scrub messages) and where it connects
 * (host, port, dbname). Returns 0, or -1 with a message that never quotes the string.
 */
static int
conninfo_parse(struct sql_state *st, const char *conninfo, char *err, size_t errlen)
{
	PQconninfoOption *opts, *o;
	const char *host = NULL, *hostaddr = NULL, *port = NULL, *dbname = NULL, *user = NULL;
	char *msg = NULL;
	size_t w = 0;

	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		if (msg != NULL)
			conninfo_error(err, errlen, msg);
		else
			snprintf(err, errlen, "out of memory");
		PQfreemem(msg);
		return -1;
	}
	secret_free(st->password);
	st->password = NULL;
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0)
			st->password = strdup(o->val);
		else if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
		else if (strcmp(o->keyword, "user") == 0)
			user = o->val;
	}
	st->where[0] = '\0';
	if (host != NULL || hostaddr != NULL)
		w += (size_t)snprintf(st->where + w, sizeof(st->where) - w, "host=%s",
		    host != NULL ? host : hostaddr);
	else
		w += (size_t)snprintf(st->where + w, sizeof(st->where) - w, "host=(libpq default)");
	if (port != NULL && w < sizeof(st->where))
		w += (size_t)snprintf(st->where + w, sizeof(st->where) - w, " port=%s", port);
	if (w < sizeof(st->where))
		w += (size_t)snprintf(st->where + w, sizeof(st->where) - w, " dbname=%s",
		    dbname != NULL ? dbname : user != NULL ? user : "(libpq default)");
	PQconninfoFree(opts);
	return 0;
}

/*
 * Read a connection_file: one libpq conninfo string or URI, at most SQL_CONNFILE_MAX
 * bytes; blanks at both ends are dropped. Returns the string (the caller frees it with
 * secret_free), or NULL with a message in err.
 */
static char *
read_connfile(const char *path, char *err, size_t errlen, int *group_readable)
{
	char buf[SQL_CONNFILE_MAX + 1], *s, *e, *out = NULL;
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		goto out;
	}
	if (group_readable != NULL)
		*group_readable = (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	while (len < sizeof(buf)) {
		do
			n = read(fd, buf + len, sizeof(buf) - len);
		while (n == -1 && errno == EINTR);
		if (n == -1) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SQL_CONNFILE_MAX) {
		snprintf(err, errlen, "%s is larger than %d bytes", path, SQL_CONNFILE_MAX);
		goto out;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%s holds a NUL byte", path);
		goto out;
	}
	for (s = buf; isspace((unsigned char)*s); s++)
		;
	for (e = buf + len; e > s && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	if (*s == '\0')
		snprintf(err, errlen, "%s is empty", path);
	else if ((out = strdup(s)) == NULL)
		snprintf(err, errlen, "out of memory");
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return out;
}

/* Server notices go to the log, never to libpq's default (stderr). */
static void
pg_notice(void *arg, const char *message)
{
	struct sql_state *st = arg;
	char line[512];

	one_line(line, sizeof(line), message);
	say(st, REEVE_LOG_INFO, "server notice: %s", line);
}

/* The connection's last error on one line, in err. */
static void
pg_error(struct sql_state *st, char *err, size_t errlen, const char *what)
{
	char line[400];

	one_line(line, sizeof(line), st->pg != NULL ? PQerrorMessage(st->pg) : "out of memory");
	snprintf(err, errlen, "%s: %s", what, line[0] ? line : "connection lost");
}

/* Wait until the connection's socket is ready or the deadline passed: 1, 0 (timeout), -1. */
static int
pg_wait(PGconn *conn, int forwrite, double deadline)
{
	struct pollfd p;
	double left;
	int n;

	if ((p.fd = PQsocket(conn)) < 0)
		return -1;
	p.events = forwrite ? POLLOUT : POLLIN;
	for (;;) {
		if ((left = deadline - mono()) <= 0)
			return 0;
		n = poll(&p, 1, (int)(left * 1000) + 1);
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

/*
 * The next result of the running command, waiting until deadline at most. Returns 0 with
 * *res (NULL after the last), or -1 with err when the server did not answer in time or the
 * connection broke.
 */
static int
pg_result(struct sql_state *st, double deadline, PGresult **res, char *err, size_t errlen)
{
	char d[32];
	int w;

	while (PQisBusy(st->pg)) {
		if ((w = pg_wait(st->pg, 0, deadline)) == 0) {
			fmt_duration(d, sizeof(d), st->stmt_timeout + st->connect_timeout);
			snprintf(err, errlen, "no answer from the server within %s "
			    "(statement_timeout + connect_timeout): connection closed", d);
			return -1;
		}
		if (w == -1 || !PQconsumeInput(st->pg)) {
			pg_error(st, err, errlen, "connection lost");
			return -1;
		}
	}
	*res = PQgetResult(st->pg);
	return 0;
}

static void
pg_close(struct sql_state *st)
{
	if (st->pg != NULL)
		PQfinish(st->pg);
	st->pg = NULL;
}

/*
 * Connect, with the whole handshake bounded by connect_timeout (libpq's own connect_timeout
 * is per host and in whole seconds), then set the session's statement timeout and make it
 * read-only. Returns 0, or -1 with err.
 */
static int
pg_connect(struct sql_state *st, char *err, size_t errlen)
{
	const char *keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { NULL, "reeve", NULL };
	char msg[400], d[32], setup[128];
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	PGresult *res;
	char *info = st->conninfo;
	double deadline;
	int w, bad = 0;

	if (st->connfile != NULL) {
		if ((info = read_connfile(st->connfile, msg, sizeof(msg), NULL)) == NULL) {
			snprintf(err, errlen, "connection_file %s", msg);
			return -1;
		}
		if (conninfo_parse(st, info, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "connection_file %s: %s", st->connfile, msg);
			secret_free(info);
			return -1;
		}
	}
	vals[0] = info;
	st->pg = PQconnectStartParams(keys, vals, 1);
	if (info != st->conninfo)
		secret_free(info);
	if (st->pg == NULL) {
		snprintf(err, errlen, "cannot connect to %s: out of memory", st->where);
		return -1;
	}
	PQsetNoticeProcessor(st->pg, pg_notice, st);
	deadline = mono() + st->connect_timeout;
	while (ps != PGRES_POLLING_OK) {
		if (PQstatus(st->pg) == CONNECTION_BAD || ps == PGRES_POLLING_FAILED) {
			pg_error(st, msg, sizeof(msg), "cannot connect");
			snprintf(err, errlen, "%s to %s%s", "cannot connect", st->where,
			    msg + strlen("cannot connect"));
			goto fail;
		}
		if ((w = pg_wait(st->pg, ps == PGRES_POLLING_WRITING, deadline)) == 0) {
			fmt_duration(d, sizeof(d), st->connect_timeout);
			snprintf(err, errlen, "cannot connect to %s: no answer within connect_timeout "
			    "(%s)", st->where, d);
			goto fail;
		}
		if (w == -1) {
			snprintf(err, errlen, "cannot connect to %s: %s", st->where, strerror(errno));
			goto fail;
		}
		ps = PQconnectPoll(st->pg);
	}
	snprintf(setup, sizeof(setup), "SET statement_timeout = %ld; "
	    "SET default_transaction_read_only = on", lround(st->stmt_timeout * 1000));
	if (!PQsendQuery(st->pg, setup)) {
		pg_error(st, err, errlen, "cannot set up the session");
		goto fail;
	}
	deadline = mono() + st->connect_timeout + st->stmt_timeout;
	for (;;) {
		if (pg_result(st, deadline, &res, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "cannot set up the session: %s", msg);
			goto fail;
		}
		if (res == NULL)
			break;
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !bad) {
			one_line(msg, sizeof(msg), PQresultErrorMessage(res));
			snprintf(err, errlen, "cannot set up the session (%s): %s", setup, msg);
			bad = 1;
		}
		PQclear(res);
	}
	if (bad)
		goto fail;
	w = PQserverVersion(st->pg);
	say(st, REEVE_LOG_INFO, "%s to PostgreSQL %d.%d at %s", st->ever_connected ? "reconnected" :
	    "connected", w / 10000, w % 10000, st->where);
	st->ever_connected = 1;
	return 0;
fail:
	pg_close(st);
	return -1;
}

static const char *
pg_fname(void *arg, int i)
{
	return PQfname(arg, i);
}

/* Take the rows of one result into the query's buffer. */
static void
pg_take_rows(struct sql_state *st, struct query *q, PGresult *res)
{
	int i, n = PQntuples(res);
	size_t j;

	for (i = 0; i < n && q->err[0] == '\0'; i++) {
		struct row *r = row_new(st, q);

		if (r == NULL)
			return;
		for (j = 0; j < q->nlabels; j++)
			if (row_label(q, r, j, PQgetisnull(res, i, q->labels[j].index) ? NULL :
			    PQgetvalue(res, i, q->labels[j].index)) == -1)
				return;
		for (j = 0; j < q->nvalues; j++) {
			if (PQgetisnull(res, i, q->values[j].index))
				r->null[j] = 1;
			else if (row_value_text(q, r, j, PQgetvalue(res, i, q->values[j].index)) == -1)
				return;
		}
	}
}

/*
 * Run one query in single-row mode, so a result past max_rows is never held in memory (the
 * rest is read and dropped; the statement timeout bounds it). A failure of the query itself
 * is left in q->err. Returns 0, or -1 with err when the connection is lost or stuck (it is
 * then closed).
 */
static int
pg_query(struct sql_state *st, struct query *q, char *err, size_t errlen)
{
	char msg[SQL_ERR_MAX];
	PGresult *res;
	double deadline = mono() + st->stmt_timeout + st->connect_timeout;
	int mapped = 0;

	if (!PQsendQueryParams(st->pg, q->sql, 0, NULL, NULL, NULL, NULL, 0)) {
		pg_error(st, err, errlen, "cannot send the query");
		goto lost;
	}
	PQsetSingleRowMode(st->pg);
	for (;;) {
		if (pg_result(st, deadline, &res, err, errlen) == -1)
			goto lost;
		if (res == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
		case PGRES_TUPLES_OK:
			if (!mapped && q->err[0] == '\0')
				mapped = map_columns(q, PQnfields(res), pg_fname, res) == 0;
			if (mapped && q->err[0] == '\0')
				pg_take_rows(st, q, res);
			else if (PQresultStatus(res) == PGRES_SINGLE_TUPLE)
				q->total++;
			break;
		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			qfail(q, "returned no rows: not a SELECT (or other statement returning rows)");
			break;
		default:
			one_line(msg, sizeof(msg), PQresultErrorMessage(res));
			qfail(q, "%s", msg[0] ? msg : PQresStatus(PQresultStatus(res)));
			break;
		}
		PQclear(res);
	}
	if (PQstatus(st->pg) == CONNECTION_BAD) {
		pg_error(st, err, errlen, "connection lost");
		goto lost;
	}
	return 0;
lost:
	pg_close(st);
	return -1;
}

static int
pg_collect(struct sql_state *st, struct reeve_emitter *em, char *err, size_t errlen)
{
	char msg[SQL_ERR_MAX];
	size_t i;
	int fresh = 0, retried = 0;
	double t0;

	if (st->pg != NULL && PQstatus(st->pg) == CONNECTION_BAD)
		pg_close(st);
	for (i = 0; i < st->nqueries; i++) {
		struct query *q = &st->queries[i];

		if (st->pg == NULL) {
			if (pg_connect(st, err, errlen) == -1) {
				queries_down(st, em, i);
				return -1;
			}
			fresh = 1;
		}
		t0 = mono();
		if (pg_query(st, q, msg, sizeof(msg)) == -1) {
			/* a connection kept from an earlier round may have died since (a server
			 * restart): connect again once before calling the database down */
			if (!fresh && !retried) {
				say(st, REEVE_LOG_INFO, "query %s: %s; connecting again", q->name, msg);
				retried = 1;
				rows_clear(q);
				i--;
				continue;
			}
			snprintf(err, errlen, "query %s: %s", q->name, msg);
			queries_down(st, em, i);
			return -1;
		}
		finish_query(st, em, q, t0);
	}
	return 0;
}

/* ---- SQLite ------------------------------------------------------------------------------- */

static int
lite_progress(void *arg)
{
	struct sql_state *st = arg;

	return mono() > st->deadline;
}

static void
lite_close(struct sql_state *st)
{
	if (st->db != NULL)
		sqlite3_close(st->db);
	st->db = NULL;
}

/* Open the database read-only, or keep it open unless the file was replaced or removed. */
static int
lite_open(struct sql_state *st, char *err, size_t errlen)
{
	struct stat sb;
	int rc, have = stat(st->database, &sb) == 0;

	if (st->db != NULL && (!have || sb.st_dev != st->db_dev || sb.st_ino != st->db_ino)) {
		say(st, REEVE_LOG_INFO, "%s was %s: closing it", st->database,
		    have ? "replaced" : "removed");
		lite_close(st);
	}
	if (st->db != NULL)
		return 0;
	rc = sqlite3_open_v2(st->database, &st->db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s read-only: %s", st->database,
		    st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		lite_close(st);
		return -1;
	}
	/* a writer holding a lock: wait for it, but no longer than a statement may take */
	sqlite3_busy_timeout(st->db, (int)lround(st->stmt_timeout * 1000));
	sqlite3_progress_handler(st->db, 1000, lite_progress, st);
	if (stat(st->database, &sb) == 0) {
		st->db_dev = sb.st_dev;
		st->db_ino = sb.st_ino;
	}
	say(st, REEVE_LOG_INFO, "%s %s read-only", st->ever_connected ? "reopened" : "opened",
	    st->database);
	st->ever_connected = 1;
	return 0;
}

static const char *
lite_fname(void *arg, int i)
{
	const char *n = sqlite3_column_name(arg, i);

	return n != NULL ? n : "";
}

/* Take the current row of stmt into the query's buffer. */
static void
lite_take_row(struct sql_state *st, struct query *q, sqlite3_stmt *stmt)
{
	struct row *r = row_new(st, q);
	const char *text;
	size_t j;
	int idx;

	if (r == NULL)
		return;
	for (j = 0; j < q->nlabels; j++) {
		idx = q->labels[j].index;
		text = sqlite3_column_type(stmt, idx) == SQLITE_NULL ? NULL :
		    (const char *)sqlite3_column_text(stmt, idx);
		if (row_label(q, r, j, text) == -1)
			return;
	}
	for (j = 0; j < q->nvalues; j++) {
		idx = q->values[j].index;
		switch (sqlite3_column_type(stmt, idx)) {
		case SQLITE_NULL:
			r->null[j] = 1;
			break;
		case SQLITE_INTEGER:
		case SQLITE_FLOAT:
			r->v[j] = sqlite3_column_double(stmt, idx);
			break;
		case SQLITE_BLOB:
			qfail(q, "row %zu, column %s: a blob is not a number", r->num, q->values[j].name);
			return;
		default:
			text = (const char *)sqlite3_column_text(stmt, idx);
			if (row_value_text(q, r, j, text != NULL ? text : "") == -1)
				return;
		}
	}
}

/* Errors that say the file itself is unusable: close it, the next round opens it again. */
static int
lite_fatal(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_IOERR:
	case SQLITE_NOTADB:
		return 1;
	default:
		return 0;
	}
}

/* Run one query; its own failure goes to q->err. Returns 0, or -1 with err (file unusable). */
static int
lite_query(struct sql_state *st, struct query *q, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail;
	char d[32];
	int rc;

	st->deadline = mono() + st->stmt_timeout;
	rc = sqlite3_prepare_v2(st->db, q->sql, -1, &stmt, &tail);
	if (rc != SQLITE_OK) {
		if (lite_fatal(rc)) {
			snprintf(err, errlen, "%s: %s", st->database, sqlite3_errmsg(st->db));
			lite_close(st);
			return -1;
		}
		qfail(q, "%s", sqlite3_errmsg(st->db));
		return 0;
	}
	while (tail != NULL && isspace((unsigned char)*tail))
		tail++;
	if (stmt == NULL)
		qfail(q, "holds no statement");
	else if (tail != NULL && *tail != '\0')
		qfail(q, "holds more than one statement");
	else if (!sqlite3_stmt_readonly(stmt))
		qfail(q, "is not a read-only statement");
	else if (map_columns(q, sqlite3_column_count(stmt), lite_fname, stmt) == 0) {
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && q->err[0] == '\0')
			lite_take_row(st, q, stmt);
		if (q->err[0] == '\0' && rc != SQLITE_DONE) {
			fmt_duration(d, sizeof(d), st->stmt_timeout);
			if (rc == SQLITE_INTERRUPT)
				qfail(q, "cancelled by statement_timeout (%s)", d);
			else if ((rc & 0xff) == SQLITE_BUSY)
				qfail(q, "the database stayed locked for statement_timeout (%s)", d);
			else if (lite_fatal(rc)) {
				snprintf(err, errlen, "%s: %s", st->database, sqlite3_errmsg(st->db));
				sqlite3_finalize(stmt);
				lite_close(st);
				return -1;
			} else
				qfail(q, "%s", sqlite3_errmsg(st->db));
		}
	}
	sqlite3_finalize(stmt);
	return 0;
}

static int
lite_collect(struct sql_state *st, struct reeve_emitter *em, char *err, size_t errlen)
{
	size_t i;
	double t0;

	for (i = 0; i < st->nqueries; i++) {
		if (st->db == NULL || i == 0) {
			if (lite_open(st, err, errlen) == -1) {
				queries_down(st, em, i);
				return -1;
			}
		}
		t0 = mono();
		if (lite_query(st, &st->queries[i], err, errlen) == -1) {
			queries_down(st, em, i);
			return -1;
		}
		finish_query(st, em, &st->queries[i], t0);
	}
	return 0;
}

/* ---- probe -------------------------------------------------------------------------------- */

static int
sql_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct sql_state *st = state;
	int rc;

	if (st->driver == DRV_POSTGRESQL)
		rc = pg_collect(st, em, err, errlen);
	else
		rc = lite_collect(st, em, err, errlen);
	sql_scrub(st->password, err, errlen);
	return rc;
}

static void
columns_free(struct column *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].name);
		free((char *)c[i].metric.name);
		free((char *)c[i].metric.help);
	}
	free(c);
}

static void
sql_destroy(void *state)
{
	struct sql_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	pg_close(st);
	lite_close(st);
	for (i = 0; i < st->nqueries; i++) {
		struct query *q = &st->queries[i];

		rows_free(q);
		columns_free(q->values, q->nvalues);
		columns_free(q->labels, q->nlabels);
		free(q->name);
		free(q->sql);
		free(q->prefix);
		free(q->help);
		free(q->firstkey);
	}
	free(st->queries);
	secret_free(st->conninfo);
	secret_free(st->password);
	free(st->connfile);
	free(st->database);
	free(st->instance);
	free(st);
}

/* The value of a key that may be given once, or NULL; given twice is an error (*rc = -1). */
static const char *
opt_once(struct reeve_probe_config *cfg, const struct reeve_host *host, const char *key, int *rc)
{
	const char *v = host->opt_get(cfg, key, 0);

	if (v != NULL && host->opt_get(cfg, key, 1) != NULL) {
		host->config_error(cfg, key, "given more than once");
		*rc = -1;
	}
	return v;
}

static struct query *
query_find(struct sql_state *st, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < st->nqueries; i++)
		if (strlen(st->queries[i].name) == len && memcmp(st->queries[i].name, name, len) == 0)
			return &st->queries[i];
	return NULL;
}

/* The query NAME (len bytes) of key, added when new; NULL (after a config error) if invalid. */
static struct query *
query_get(struct sql_state *st, struct reeve_probe_config *cfg, const char *key,
    const char *name, size_t len)
{
	const struct reeve_host *host = st->host;
	struct query *q, *n;

	if ((q = query_find(st, name, len)) != NULL)
		return q;
	host->opt_get(cfg, key, 0);	/* reported here if invalid, not again as unknown */
	if (len == 0 || len > 100 || !isalpha((unsigned char)name[0])) {
		host->config_error(cfg, key, "expected query.NAME with a NAME of letters, digits and _ "
		    "starting with a letter (at most 100)");
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_') {
			host->config_error(cfg, key, "expected query.NAME with a NAME of letters, digits "
			    "and _ starting with a letter (at most 100)");
			return NULL;
		}
	if ((n = reallocarray(st->queries, st->nqueries + 1, sizeof(*n))) == NULL)
		goto oom;
	st->queries = n;
	q = &st->queries[st->nqueries];
	memset(q, 0, sizeof(*q));
	if ((q->name = strndup(name, len)) == NULL || (q->firstkey = strdup(key)) == NULL) {
		free(q->name);
		goto oom;
	}
	q->type = REEVE_GAUGE;
	st->nqueries++;
	return q;
oom:
	host->config_error(cfg, key, "out of memory");
	return NULL;
}

/* Fill a column array from a list key. Returns 0, or -1 after a config error. */
static int
columns_set(struct sql_state *st, struct reeve_probe_config *cfg, const char *key,
    const char *list, size_t max, struct column **out, size_t *nout)
{
	char *names[SQL_MAX_VALUE_COLUMNS], msg[256];
	size_t i, n;

	if (sql_split_columns(list, names, max, &n, msg, sizeof(msg)) == -1) {
		st->host->config_error(cfg, key, "%s", msg);
		return -1;
	}
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		for (i = 0; i < n; i++)
			free(names[i]);
		st->host->config_error(cfg, key, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		(*out)[i].name = names[i];
		(*out)[i].index = -1;
	}
	*nout = n;
	return 0;
}

/* Set what key says of query q (dot: the dot after NAME, or NULL). Returns 0 or -1. */
static int
query_set(struct sql_state *st, struct reeve_probe_config *cfg, const char *key,
    struct query *q, const char *dot)
{
	const struct reeve_host *host = st->host;
	const char *attr, *v;
	int rc = 0;

	if (dot == NULL) {
		q->have_sql = 1;
		v = host->opt_get(cfg, key, 0);
		if (host->opt_get(cfg, key, 1) != NULL) {
			host->config_error(cfg, key, "query %s is defined more than once", q->name);
			return -1;
		}
		for (attr = v; isspace((unsigned char)*attr); attr++)
			;
		if (*attr == '\0') {
			host->config_error(cfg, key, "the query is empty");
			return -1;
		}
		if ((q->sql = strdup(v)) == NULL) {
			host->config_error(cfg, key, "out of memory");
			return -1;
		}
		return 0;
	}
	attr = dot + 1;
	if (strcmp(attr, "value_columns") != 0 && strcmp(attr, "label_columns") != 0 &&
	    strcmp(attr, "type") != 0 && strcmp(attr, "help") != 0 && strcmp(attr, "prefix") != 0) {
		host->opt_get(cfg, key, 0);	/* reported here, with the keys that exist */
		host->config_error(cfg, key, "unknown key: a query takes query.%s.value_columns, "
		    ".label_columns, .type, .help and .prefix", q->name);
		return -1;
	}
	if ((v = opt_once(cfg, host, key, &rc)) == NULL || rc == -1)
		return -1;
	if (strcmp(attr, "value_columns") == 0)
		return columns_set(st, cfg, key, v, SQL_MAX_VALUE_COLUMNS, &q->values, &q->nvalues);
	if (strcmp(attr, "label_columns") == 0)
		return columns_set(st, cfg, key, v, SQL_MAX_LABEL_COLUMNS, &q->labels, &q->nlabels);
	if (strcmp(attr, "type") == 0) {
		if (strcmp(v, "gauge") == 0)
			q->type = REEVE_GAUGE;
		else if (strcmp(v, "counter") == 0)
			q->type = REEVE_COUNTER;
		else {
			host->config_error(cfg, key, "expected gauge or counter, got '%s'", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(attr, "help") == 0) {
		free(q->help);
		if ((q->help = strdup(v)) == NULL) {
			host->config_error(cfg, key, "out of memory");
			return -1;
		}
		return 0;
	}
	if (!valid_name(v, 1) || strlen(v) > SQL_MAX_NAME) {
		host->config_error(cfg, key, "'%s' is not a valid metric name prefix", v);
		return -1;
	}
	free(q->prefix);
	if ((q->prefix = strdup(v)) == NULL) {
		host->config_error(cfg, key, "out of memory");
		return -1;
	}
	return 0;
}

/* Handle one key of the query namespace. Returns 0, or -1 after a config error. */
static int
query_key(struct sql_state *st, struct reeve_probe_config *cfg, const char *key)
{
	const char *name = key + strlen("query."), *dot = strchr(name, '.');
	struct query *q;

	if ((q = query_get(st, cfg, key, name, dot ? (size_t)(dot - name) : strlen(name))) == NULL)
		return -1;
	if (query_set(st, cfg, key, q, dot) == -1) {
		q->bad = 1;	/* reported: queries_check() adds nothing about it */
		return -1;
	}
	return 0;
}

/* After every key is read: each query complete, metric names built and unique. */
static int
queries_check(struct sql_state *st, struct reeve_probe_config *cfg)
{
	const struct reeve_host *host = st->host;
	char key[160], help[300], *name;
	size_t i, j, k, l;
	int rc = 0;

	if (st->nqueries == 0 && !st->query_keys) {
		host->config_error(cfg, NULL, "no query: add query.NAME = SELECT ... and "
		    "query.NAME.value_columns = COLUMN, ...");
		return -1;
	}
	for (i = 0; i < st->nqueries; i++) {
		struct query *q = &st->queries[i];
		const char *prefix = q->prefix != NULL ? q->prefix : q->name;

		snprintf(key, sizeof(key), "query.%s", q->name);
		if (q->bad) {
			rc = -1;
			continue;
		}
		if (!q->have_sql) {
			host->config_error(cfg, q->firstkey, "there is no query.%s = SELECT ...",
			    q->name);
			rc = -1;
			continue;
		}
		if (q->values == NULL) {
			host->config_error(cfg, key, "query %s has no query.%s.value_columns", q->name,
			    q->name);
			rc = -1;
			continue;
		}
		for (j = 0; j < q->nvalues; j++)
			for (k = 0; k < q->nlabels; k++)
				if (strcmp(q->values[j].name, q->labels[k].name) == 0) {
					snprintf(key, sizeof(key), "query.%s.label_columns", q->name);
					host->config_error(cfg, key, "column '%s' is both a value and a "
					    "label column", q->labels[k].name);
					rc = -1;
				}
		for (j = 0; j < q->nvalues; j++) {
			struct column *c = &q->values[j];

			if (asprintf(&name, "%s_%s", prefix, c->name) == -1) {
				host->config_error(cfg, key, "out of memory");
				return -1;
			}
			c->metric.name = name;
			c->metric.type = q->type;
			if (q->help != NULL)
				snprintf(help, sizeof(help), "%s", q->help);
			else
				snprintf(help, sizeof(help), "Column %s of the sql query %s.", c->name,
				    q->name);
			c->metric.help = NULL;
			if ((c->metric.help = strdup(help)) == NULL) {
				host->config_error(cfg, key, "out of memory");
				return -1;
			}
		}
	}
	if (rc == -1)
		return -1;
	/* two queries (or a query and the probe's own metrics) must not make one metric */
	for (i = 0; i < st->nqueries; i++)
		for (j = 0; j < st->queries[i].nvalues; j++) {
			const char *a = st->queries[i].values[j].metric.name;

			snprintf(key, sizeof(key), "query.%s", st->queries[i].name);
			if (strcmp(a, m_up.name) == 0 || strcmp(a, m_duration.name) == 0 ||
			    strcmp(a, m_rows.name) == 0) {
				host->config_error(cfg, key, "metric %s is one of the probe's own", a);
				rc = -1;
			}
			for (k = 0; k <= i; k++)
				for (l = 0; l < (k == i ? j : st->queries[k].nvalues); l++)
					if (strcmp(a, st->queries[k].values[l].metric.name) == 0) {
						host->config_error(cfg, key, "metric %s is also made by "
						    "query %s", a, st->queries[k].name);
						rc = -1;
					}
		}
	return rc;
}

static int
sql_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct sql_state *st;
	const char *driver, *conn, *connfile, *database, *k;
	char msg[400];
	unsigned long max_rows = SQL_MAX_ROWS;
	size_t i, j;
	int rc = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->instance = strdup(host->instance_name(cfg))) == NULL) {
		free(st);
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	st->stmt_timeout = SQL_STATEMENT_TIMEOUT;
	st->connect_timeout = SQL_CONNECT_TIMEOUT;

	driver = opt_once(cfg, host, "driver", &rc);
	conn = opt_once(cfg, host, "connection", &rc);
	connfile = opt_once(cfg, host, "connection_file", &rc);
	database = opt_once(cfg, host, "database", &rc);
	opt_once(cfg, host, "statement_timeout", &rc);
	opt_once(cfg, host, "connect_timeout", &rc);
	opt_once(cfg, host, "max_rows", &rc);
	if (host->opt_duration(cfg, "statement_timeout", &st->stmt_timeout) == -1 ||
	    host->opt_duration(cfg, "connect_timeout", &st->connect_timeout) == -1 ||
	    host->opt_uint(cfg, "max_rows", 1, 1000000, &max_rows) == -1)
		rc = -1;
	st->max_rows = max_rows;
	if (st->stmt_timeout < 0.01 || st->stmt_timeout > 3600) {
		host->config_error(cfg, "statement_timeout", "must be from 10ms to 1h");
		rc = -1;
	}
	if (st->connect_timeout < 0.1 || st->connect_timeout > 300) {
		host->config_error(cfg, "connect_timeout", "must be from 100ms to 5m");
		rc = -1;
	}

	if (driver == NULL) {
		host->config_error(cfg, NULL, "missing key 'driver' (postgresql or sqlite)");
		rc = -1;
	} else if (strcmp(driver, "postgresql") == 0) {
		st->driver = DRV_POSTGRESQL;
		if (database != NULL) {
			host->config_error(cfg, "database", "is for driver = sqlite; PostgreSQL takes "
			    "connection or connection_file");
			rc = -1;
		}
		if ((conn == NULL) == (connfile == NULL)) {
			host->config_error(cfg, conn != NULL ? "connection_file" : NULL,
			    "a postgresql probe needs one of connection and connection_file");
			rc = -1;
		} else if (conn != NULL) {
			if (conninfo_parse(st, conn, msg, sizeof(msg)) == -1) {
				host->config_error(cfg, "connection", "%s", msg);
				rc = -1;
			} else if ((st->conninfo = strdup(conn)) == NULL) {
				host->config_error(cfg, "connection", "out of memory");
				rc = -1;
			}
		} else if (connfile[0] != '/') {
			host->config_error(cfg, "connection_file", "'%s' is not an absolute path",
			    connfile);
			rc = -1;
		} else {
			int loose = 0;
			char *info = read_connfile(connfile, msg, sizeof(msg), &loose);

			if (info == NULL) {
				host->config_error(cfg, "connection_file", "%s", msg);
				rc = -1;
			} else if (conninfo_parse(st, info, msg, sizeof(msg)) == -1) {
				host->config_error(cfg, "connection_file", "%s: %s", connfile, msg);
				rc = -1;
			} else if ((st->connfile = strdup(connfile)) == NULL) {
				host->config_error(cfg, "connection_file", "out of memory");
				rc = -1;
			} else if (loose && st->password != NULL)
				host->log(REEVE_LOG_WARN, "connection_file %s holds a password and other "
				    "users may read it (chmod 600)", connfile);
			secret_free(info);
		}
	} else if (strcmp(driver, "sqlite") == 0) {
		st->driver = DRV_SQLITE;
		if (conn != NULL || connfile != NULL) {
			host->config_error(cfg, conn != NULL ? "connection" : "connection_file",
			    "is for driver = postgresql; SQLite takes database = PATH");
			rc = -1;
		}
		if (database == NULL) {
			host->config_error(cfg, NULL, "a sqlite probe needs database = PATH");
			rc = -1;
		} else if (database[0] != '/') {
			host->config_error(cfg, "database", "'%s' is not an absolute path", database);
			rc = -1;
		} else if ((st->database = strdup(database)) == NULL) {
			host->config_error(cfg, "database", "out of memory");
			rc = -1;
		} else if (access(database, R_OK) == -1)
			host->log(REEVE_LOG_WARN, "database %s: %s (collections fail until it can be "
			    "read)", database, strerror(errno));
	} else {
		host->config_error(cfg, "driver", "expected postgresql or sqlite, got '%s'", driver);
		rc = -1;
	}

	/* opt_key lists a repeated key once per occurrence: handle (and report) it once */
	for (i = 0; (k = host->opt_key(cfg, i)) != NULL; i++) {
		for (j = 0; j < i && strcmp(host->opt_key(cfg, j), k) != 0; j++)
			;
		if (j < i || strncmp(k, "query.", 6) != 0)
			continue;
		st->query_keys = 1;
		if (query_key(st, cfg, k) == -1)
			rc = -1;
	}
	if (queries_check(st, cfg) == -1)
		rc = -1;
	if (rc == -1) {
		sql_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "sql",
	.description = "rows of SQL queries to PostgreSQL (libpq) or SQLite as samples",
	.init = sql_init,
	.collect = sql_collect,
	.destroy = sql_destroy,
};

/* reeve_probe_entry: the sql probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
