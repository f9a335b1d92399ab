/* reporter.c: scheduled reports: their slots sent exactly once, their files, the archive. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alertlog.h"
#include "config.h"
#include "cron.h"
#include "expr.h"
#include "history.h"
#include "log.h"
#include "mime.h"
#include "outbox.h"
#include "registry.h"
#include "reporter.h"
#include "store.h"
#include "tz.h"

#define REPORTER_TICK 60.0        /* longest sleep between looks at the schedules */
#define REPORTER_STATE_MAX (1u << 20)

/* What state.json says of one report: the last slot it claimed, and whether it was sent. */
/* How a settled slot ended (sent = 1): the API says which, not just "settled". */
enum slot_how { SLOT_SENT, SLOT_SKIPPED, SLOT_BEFORE };
static const char *const slot_hows[] = { "sent", "skipped", "before" };

struct slot_state {
	char *name;
	double slot;
	int sent;               /* settled: nothing more is done for this slot */
	enum slot_how how;      /* when sent: made and queued, missed past its grace, or older
	                         * than the report (seen for the first time) */
};

struct reporter {
	const struct cfg *cfg;
	struct report_env env;
	struct outbox *outbox;
	char *dir;                 /* data_dir/reports */
	char *state_path;
	struct slot_state *st;
	size_t nst;
	char **requests;           /* reports to run now (the API), in order */
	size_t nrequests;
	pthread_mutex_t lock;      /* guards everything above and below */
	pthread_cond_t wake;
	pthread_t thread;
	int started, stopping;
	int running;               /* a run under way uses cfg: a reload waits for it */
	struct reporter_stats stats;
};

/* ---- state ------------------------------------------------------------------------------- */

static struct slot_state *
state_of(struct reporter *r, const char *name)
{
	for (size_t i = 0; i < r->nst; i++)
		if (strcmp(r->st[i].name, name) == 0)
			return &r->st[i];
	r->st = xreallocarray(r->st, r->nst + 1, sizeof(*r->st));
	r->st[r->nst].name = xstrdup(name);
	r->st[r->nst].slot = NAN;
	r->st[r->nst].sent = 1;
	return &r->st[r->nst++];
}

static void
state_load(struct reporter *r)
{
	FILE *f = fopen(r->state_path, "r");
	char *data = xcalloc(1, REPORTER_STATE_MAX + 1);
	size_t n = f ? fread(data, 1, REPORTER_STATE_MAX, f) : 0;
	cJSON *root = n ? cJSON_ParseWithLength(data, n) : NULL, *o;

	if (f != NULL)
		fclose(f);
	if (n > 0 && root == NULL)
		log_warnx("reports: %s is not JSON: every report starts with its next slot",
		    r->state_path);
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(root, "reports")) {
		const cJSON *slot = cJSON_GetObjectItemCaseSensitive(o, "slot");
		const cJSON *how = cJSON_GetObjectItemCaseSensitive(o, "how");
		struct slot_state *s;

		if (o->string == NULL || !cJSON_IsNumber(slot))
			continue;
		s = state_of(r, o->string);
		s->slot = slot->valuedouble;
		s->sent = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "sent"));
		s->how = SLOT_SENT; /* files written before "how" existed */
		for (int k = 0; k < 3; k++)
			if (cJSON_IsString(how) && strcmp(how->valuestring, slot_hows[k]) == 0)
				s->how = (enum slot_how)k;
	}
	cJSON_Delete(root);
	free(data);
}

/* Write state.json (atomically, durably). Lock held. Returns 0 or -1 (logged). */
static int
state_save(struct reporter *r)
{
	cJSON *root = cJSON_CreateObject(), *reports = cJSON_AddObjectToObject(root, "reports");
	char *text, *tmp = xasprintf("%s/.tmp", r->dir);
	int rc;

	for (size_t i = 0; i < r->nst; i++) {
		cJSON *o;

		if (isnan(r->st[i].slot))
			continue;
		o = cJSON_AddObjectToObject(reports, r->st[i].name);
		cJSON_AddNumberToObject(o, "slot", r->st[i].slot);
		cJSON_AddBoolToObject(o, "sent", r->st[i].sent);
		if (r->st[i].sent)
			cJSON_AddStringToObject(o, "how", slot_hows[r->st[i].how]);
	}
	text = cJSON_Print(root);
	rc = util_write_file_atomic(r->state_path, tmp, text, strlen(text));
	if (rc == -1)
		log_warn("reports: cannot write %s", r->state_path);
	cJSON_free(text);
	cJSON_Delete(root);
	free(tmp);
	return rc;
}

/* ---- files ------------------------------------------------------------------------------- */

static int
wants(const struct cfg_report *r, const char *format)
{
	for (size_t i = 0; i < r->nformats; i++)
		if (strcmp(r->formats[i], format) == 0)
			return 1;
	return 0;
}

static struct report_file *
file_add(struct report_file **f, size_t *n, char *name, const char *type)
{
	struct report_file *x;

	*f = xreallocarray(*f, *n + 1, sizeof(**f));
	x = &(*f)[(*n)++];
	memset(x, 0, sizeof(*x));
	x->name = name;
	x->type = type;
	return x;
}

int
report_files(const struct report_doc *d, const struct cfg_report *r, struct report_file **files,
    size_t *n, char *err, size_t errlen)
{
	struct report_file *f = NULL;
	size_t k = 0;
	int rc = 0;

	if (wants(r, "html")) {
		rc |= render_html(d, 0, &file_add(&f, &k, xasprintf("%s.html", d->base),
		    "text/html; charset=utf-8")->data, err, errlen);
		for (size_t i = 0; i < d->nsections; i++) {
			const struct report_graph *g = &d->sections[i].graph;

			if (d->sections[i].kind == REPORT_GRAPH && g->png != NULL)
				buf_append(&file_add(&f, &k, xstrdup(g->file), "image/png")->data,
				    g->png, g->png_len);
		}
	}
	if (rc == 0 && wants(r, "pdf"))
		rc |= render_pdf(d, &file_add(&f, &k, xasprintf("%s.pdf", d->base),
		    "application/pdf")->data, err, errlen);
	if (rc == 0 && wants(r, "csv"))
		rc |= render_csv(d, &file_add(&f, &k, xasprintf("%s.csv", d->base),
		    "text/csv; charset=utf-8")->data, err, errlen);
	if (rc == 0)
		rc |= render_text(d, &file_add(&f, &k, xasprintf("%s.txt", d->base),
		    "text/plain; charset=utf-8")->data, err, errlen);
	if (rc != 0) {
		report_files_free(f, k);
		return -1;
	}
	*files = f;
	*n = k;
	return 0;
}

void
report_files_free(struct report_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		buf_free(&f[i].data);
	}
	free(f);
}

int
report_files_write(const struct report_file *f, size_t n, const char *dir, char *err,
    size_t errlen)
{
	char *tmp = xasprintf("%s/.tmp", dir);
	int rc = 0;

	if (util_mkdir_p(dir) == -1 || util_mkdir_p(tmp) == -1) {
		snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
		free(tmp);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path = xasprintf("%s/%s", dir, f[i].name);

		if ((rc = util_write_file_atomic(path, tmp, f[i].data.data ? f[i].data.data : "",
		    f[i].data.len)) == -1)
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		free(path);
	}
	rmdir(tmp);
	free(tmp);
	return rc;
}

/* ---- mail -------------------------------------------------------------------------------- */

/* The email notifier that sends r: its own, or the first one of the config. */
static const struct cfg_notifier *
sender_of(const struct cfg *cfg, const struct cfg_report *r)
{
	for (size_t i = 0; i < cfg->nnotifiers; i++)
		if (cfg->notifiers[i].type == CFG_NOTIFIER_EMAIL &&
		    (r->notifier == NULL || strcmp(cfg->notifiers[i].name, r->notifier) == 0))
			return &cfg->notifiers[i];
	return NULL;
}

/*
 * The mail of a run: the text and HTML (graphs inline) as alternatives, the PDF and CSV
 * attached. Returns 0 with the message in out, or -1 with a message in err.
 */
static int
report_mail(const struct cfg *cfg, const struct report_doc *d, const struct cfg_report *r,
    const struct report_file *f, size_t nf, const char *key, struct buf *out, char *err,
    size_t errlen)
{
	const struct cfg_notifier *n = sender_of(cfg, r);
	struct mime_part *inl = xcalloc(d->nsections + 1, sizeof(*inl));
	struct mime_part *att = xcalloc(nf + 1, sizeof(*att));
	struct mime_message m = { 0 };
	struct buf html = { 0 }, subject = { 0 };
	const char *text = "";
	size_t ni = 0, na = 0;
	int rc = -1;

	if (n == NULL) {
		snprintf(err, errlen, "no email [notifier NAME] to send it with");
		goto out;
	}
	if (render_html(d, 1, &html, err, errlen) == -1)
		goto out;
	for (size_t i = 0; i < d->nsections; i++) {
		const struct report_graph *g = &d->sections[i].graph;

		if (d->sections[i].kind == REPORT_GRAPH && g->png != NULL) {
			inl[ni].content_type = "image/png";
			inl[ni].filename = g->file;
			inl[ni].cid = g->cid;
			inl[ni].data = g->png;
			inl[ni++].len = g->png_len;
		}
	}
	for (size_t i = 0; i < nf; i++) {
		size_t k = strlen(f[i].name);

		if (k > 4 && strcmp(f[i].name + k - 4, ".txt") == 0)
			text = f[i].data.data ? f[i].data.data : "";
		else if ((k > 4 && strcmp(f[i].name + k - 4, ".pdf") == 0) ||
		    (k > 4 && strcmp(f[i].name + k - 4, ".csv") == 0)) {
			att[na].content_type = f[i].type;
			att[na].filename = f[i].name;
			att[na].data = f[i].data.data;
			att[na++].len = f[i].data.len;
		}
	}
	buf_printf(&subject, "%s: %s", d->title, d->period_text);
	m.from = n->from;
	m.to = (const char *const *)r->to;
	m.nto = r->nto;
	m.cc = (const char *const *)r->cc;
	m.ncc = r->ncc;
	m.subject = subject.data;
	m.message_id_key = key;
	m.hostname = cfg->hostname;
	m.date = d->generated;
	m.text = text;
	m.html = html.data;
	m.inline_parts = inl;
	m.ninline = ni;
	m.attachments = att;
	m.nattachments = na;
	rc = mime_build(&m, out, err, errlen);
out:
	buf_free(&html);
	buf_free(&subject);
	free(inl);
	free(att);
	return rc;
}

/* ---- runs -------------------------------------------------------------------------------- */

/* The slot a durable mail records as sent (outbox_put_then's hook; the outbox lock held). */
struct sent_mark {
	struct reporter *r;
	const char *name;
	double slot;
};

static int
mark_sent(void *arg, const char *id)
{
	struct sent_mark *m = arg;
	struct slot_state *s;
	int rc;

	(void)id;
	pthread_mutex_lock(&m->r->lock);
	s = state_of(m->r, m->name);
	s->slot = m->slot;
	s->sent = 1;
	s->how = SLOT_SENT;
	rc = state_save(m->r);
	pthread_mutex_unlock(&m->r->lock);
	return rc;
}

/* The idempotency key of a slot's mail (its Message-ID): the same after a crash. */
static char *
slot_key(const char *name, double slot)
{
	return xasprintf("report-%s-%.0f", name, slot);
}

/*
 * Run report rep for `at`: make it, archive its files, mail it. slot: 1 when `at` is a
 * slot of its schedule (claimed before, marked sent when the mail is queued), 0 for a run
 * on request. Called without the lock. Returns 0 or -1 (logged).
 */
static int
run(struct reporter *r, const struct cfg *cfg, const struct cfg_report *rep, double at, int slot)
{
	struct report_env env = r->env;
	struct report_doc *d = NULL;
	struct report_file *f = NULL;
	struct buf mail = { 0 };
	size_t nf = 0;
	char err[512], *dir = xasprintf("%s/%s", r->dir, rep->name);
	char *key = slot ? slot_key(rep->name, at) : xasprintf("report-%s-run-%.3f", rep->name,
	    util_now());
	struct sent_mark mark = { r, rep->name, at };
	double t0 = util_monotonic();
	int rc = -1;

	env.cfg = cfg;
	if ((d = report_make(&env, rep, at, NULL, err, sizeof(err))) == NULL ||
	    report_files(d, rep, &f, &nf, err, sizeof(err)) == -1 ||
	    report_files_write(f, nf, dir, err, sizeof(err)) == -1)
		goto out;
	if (rep->nto + rep->ncc > 0 && r->outbox != NULL) {
		const struct cfg_notifier *n = sender_of(cfg, rep);
		char subject[256];

		snprintf(subject, sizeof(subject), "report %s: %s", rep->name, d->period_text);
		if (report_mail(cfg, d, rep, f, nf, key, &mail, err, sizeof(err)) == -1 ||
		    outbox_put_then(r->outbox, n->name, key, subject, mail.data, mail.len,
		    slot ? mark_sent : NULL, &mark, NULL, err, sizeof(err)) == -1)
			goto out;
	} else if (slot && mark_sent(&mark, NULL) == -1) {
		snprintf(err, sizeof(err), "cannot record the slot as sent");
		goto out;
	}
	log_info("report %s: %s made and %s (%s)", rep->name, d->period_text,
	    rep->nto + rep->ncc > 0 && r->outbox != NULL ? "queued for mail" : "archived", dir);
	rc = 0;
out:
	if (rc == -1)
		log_warnx("report %s: %s", rep->name, err);
	pthread_mutex_lock(&r->lock);
	r->stats.runs++;
	r->stats.failures += rc == -1;
	r->stats.last_duration = util_monotonic() - t0;
	pthread_mutex_unlock(&r->lock);
	buf_free(&mail);
	report_files_free(f, nf);
	report_doc_free(d);
	free(dir);
	free(key);
	return rc;
}

/* Delete archived files of rep older than its retention. */
static void
expire(struct reporter *r, const struct cfg_report *rep, double now)
{
	char *dir = xasprintf("%s/%s", r->dir, rep->name);
	DIR *dp = opendir(dir);
	struct dirent *de;

	while (dp != NULL && (de = readdir(dp)) != NULL) {
		char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat sb;

		if (de->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    now - (double)sb.st_mtime > rep->retention && unlink(path) == 0)
			log_info("report %s: %s expired (retention %.0f days)", rep->name, de->d_name,
			    rep->retention / 86400);
		free(path);
	}
	if (dp != NULL)
		closedir(dp);
	free(dir);
}

/*
 * The slot of rep due now, if any: its schedule's latest slot at or before now that is not
 * yet sent and at most grace old. A report seen for the first time starts with its next
 * slot (nothing old is sent). Lock held.
 */
static int
due(struct reporter *r, const struct cfg_report *rep, const struct tz *z, const struct cron *c,
    double now, double *slot)
{
	struct slot_state *s = state_of(r, rep->name);
	time_t prev;

	if (cron_prev_in(c, z, (time_t)now, &prev) == -1)
		return 0;
	if (isnan(s->slot)) {
		s->slot = (double)prev;
		s->sent = 1;
		s->how = SLOT_BEFORE;
		state_save(r);
		return 0;
	}
	if ((double)prev < s->slot || ((double)prev == s->slot && s->sent))
		return 0;
	if (now - (double)prev > rep->grace) {
		log_warnx("report %s: the slot of %.0f was missed by more than its grace (%.0f s): "
		    "skipped", rep->name, (double)prev, rep->grace);
		s->slot = (double)prev;
		s->sent = 1;
		s->how = SLOT_SKIPPED;
		r->stats.skipped++;
		state_save(r);
		return 0;
	}
	/* claimed before anything is made: a crash from here on runs it again or finds it sent */
	s->slot = (double)prev;
	s->sent = 0;
	if (state_save(r) == -1)
		return 0;
	*slot = (double)prev;
	return 1;
}

/* When the next slot of any report comes, at most REPORTER_TICK from now. Lock held. */
static double
next_wake(const struct cfg *cfg, double now)
{
	double next = now + REPORTER_TICK;
	char err[256];

	for (size_t i = 0; i < cfg->nreports; i++) {
		const struct cfg_report *rep = &cfg->reports[i];
		struct cron *c = rep->schedule ? cron_parse(rep->schedule, err, sizeof(err)) : NULL;
		struct tz *z = c ? tz_load(rep->timezone, err, sizeof(err)) : NULL;
		time_t t;

		if (z != NULL && cron_next_in(c, z, (time_t)now, &t) == 0 && (double)t < next)
			next = (double)t;
		cron_free(c);
		tz_free(z);
	}
	return next;
}

static const struct cfg_report *
report_named(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nreports; i++)
		if (strcmp(cfg->reports[i].name, name) == 0)
			return &cfg->reports[i];
	return NULL;
}

/* One look: the slots due, then the runs asked for. Lock held; released while running. */
static void
look(struct reporter *r, double now)
{
	const struct cfg *cfg = r->cfg;
	char err[256];

	for (size_t i = 0; i < cfg->nreports && !r->stopping; i++) {
		const struct cfg_report *rep = &cfg->reports[i];
		struct cron *c = rep->schedule ? cron_parse(rep->schedule, err, sizeof(err)) : NULL;
		struct tz *z = c ? tz_load(rep->timezone, err, sizeof(err)) : NULL;
		double slot;

		if (z != NULL && due(r, rep, z, c, now, &slot)) {
			r->running = 1;
			pthread_mutex_unlock(&r->lock);
			run(r, cfg, rep, slot, 1);
			pthread_mutex_lock(&r->lock);
			r->running = 0;
			pthread_cond_broadcast(&r->wake);
		}
		expire(r, rep, now);
		cron_free(c);
		tz_free(z);
	}
	while (r->nrequests > 0 && !r->stopping) {
		char *name = r->requests[0];
		const struct cfg_report *rep = report_named(cfg, name);

		memmove(r->requests, r->requests + 1, --r->nrequests * sizeof(*r->requests));
		if (rep != NULL) {
			r->running = 1;
			pthread_mutex_unlock(&r->lock);
			run(r, cfg, rep, util_now(), 0);
			pthread_mutex_lock(&r->lock);
			r->running = 0;
			pthread_cond_broadcast(&r->wake);
		}
		free(name);
	}
}

static void *
reporter_main(void *arg)
{
	struct reporter *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		double now = util_now(), next;
		struct timespec ts;

		look(r, now);
		next = next_wake(r->cfg, util_now());
		if (r->stopping || r->nrequests > 0)
			continue;
		ts.tv_sec = (time_t)next;
		ts.tv_nsec = (long)((next - floor(next)) * 1e9);
		pthread_cond_timedwait(&r->wake, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- the reporter ------------------------------------------------------------------------ */

struct reporter *
reporter_new(const struct reporter_params *p, char *err, size_t errlen)
{
	struct reporter *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;
	char *tmp;
	int rc;

	r->cfg = p->cfg;
	r->env = p->env;
	r->outbox = p->outbox;
	r->dir = xasprintf("%s/reports", p->data_dir);
	r->state_path = xasprintf("%s/state.json", r->dir);
	tmp = xasprintf("%s/.tmp", r->dir);
	rc = util_mkdir_p(tmp);
	free(tmp);
	if (rc == -1) {
		snprintf(err, errlen, "cannot make %s: %s", r->dir, strerror(errno));
		free(r->dir);
		free(r->state_path);
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_cond_init(&r->wake, &ca); /* CLOCK_REALTIME: slots are wall-clock times */
	pthread_condattr_destroy(&ca);
	state_load(r);
	return r;
}

void
reporter_recover(struct reporter *r)
{
	/* the keys are looked up without the lock: the outbox's hook takes it (lock order) */
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->nst; i++) {
		struct slot_state *s = &r->st[i];
		char *key = slot_key(s->name, s->slot), *name = xstrdup(s->name);
		double slot = s->slot;
		int claimed = !s->sent && !isnan(s->slot), queued;

		pthread_mutex_unlock(&r->lock);
		queued = claimed && r->outbox != NULL && outbox_has_key(r->outbox, key);
		pthread_mutex_lock(&r->lock);
		if (queued) {
			log_info("report %s: the slot of %.0f was queued before reeve stopped", name,
			    slot);
			s = state_of(r, name);
			s->sent = 1;
			s->how = SLOT_SENT;
			state_save(r);
		}
		free(key);
		free(name);
	}
	pthread_mutex_unlock(&r->lock);
}

void
reporter_start(struct reporter *r)
{
	if (pthread_create(&r->thread, NULL, reporter_main, r) == 0)
		r->started = 1;
	else
		log_warn("reports: cannot start the scheduler thread");
}

void
reporter_reload(struct reporter *r, const struct cfg *cfg)
{
	pthread_mutex_lock(&r->lock);
	/* the old cfg is freed after the reload: a run under way finishes with it first */
	while (r->running)
		pthread_cond_wait(&r->wake, &r->lock);
	r->cfg = cfg;
	r->env.cfg = cfg;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

void
reporter_free(struct reporter *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	if (r->started)
		pthread_join(r->thread, NULL);
	for (size_t i = 0; i < r->nst; i++)
		free(r->st[i].name);
	free(r->st);
	for (size_t i = 0; i < r->nrequests; i++)
		free(r->requests[i]);
	free(r->requests);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->dir);
	free(r->state_path);
	free(r);
}

int
reporter_request(struct reporter *r, const char *name, char *err, size_t errlen)
{
	int rc = -1;

	pthread_mutex_lock(&r->lock);
	if (report_named(r->cfg, name) == NULL) {
		snprintf(err, errlen, "no [report %s] in the configuration", name);
	} else {
		r->requests = xreallocarray(r->requests, r->nrequests + 1, sizeof(*r->requests));
		r->requests[r->nrequests++] = xstrdup(name);
		pthread_cond_signal(&r->wake);
		rc = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void
reporter_get_stats(struct reporter *r, struct reporter_stats *st)
{
	pthread_mutex_lock(&r->lock);
	*st = r->stats;
	pthread_mutex_unlock(&r->lock);
}

/* ---- the archive ------------------------------------------------------------------------- */

static int
cmp_names_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

void
reporter_archive_json(struct reporter *r, struct buf *out)
{
	cJSON *root = cJSON_CreateObject(), *data;
	char *text;

	cJSON_AddStringToObject(root, "status", "success");
	data = cJSON_AddArrayToObject(root, "data");
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->cfg->nreports; i++) {
		const struct cfg_report *rep = &r->cfg->reports[i];
		const struct slot_state *s = state_of(r, rep->name);
		cJSON *o = cJSON_CreateObject(), *files = cJSON_CreateArray();
		char *dir = xasprintf("%s/%s", r->dir, rep->name), **names = NULL;
		DIR *dp = opendir(dir);
		struct dirent *de;
		size_t n = 0;

		cJSON_AddStringToObject(o, "name", rep->name);
		cJSON_AddStringToObject(o, "title", rep->title ? rep->title : rep->name);
		if (rep->schedule)
			cJSON_AddStringToObject(o, "schedule", rep->schedule);
		if (!isnan(s->slot)) {
			char t[40];

			cJSON_AddStringToObject(o, "lastSlot", util_fmt_rfc3339(t, sizeof(t), s->slot));
			cJSON_AddBoolToObject(o, "lastSlotSent", s->sent && s->how == SLOT_SENT);
			/* sent, skipped (missed by more than grace), before (older than the report:
			 * nothing old is sent), due (claimed, being made or waiting for a retry) */
			cJSON_AddStringToObject(o, "lastSlotState", s->sent ? slot_hows[s->how] : "due");
		}
		while (dp != NULL && (de = readdir(dp)) != NULL)
			if (de->d_name[0] != '.') {
				names = xreallocarray(names, n + 1, sizeof(*names));
				names[n++] = xstrdup(de->d_name);
			}
		if (dp != NULL)
			closedir(dp);
		if (n > 0)
			qsort(names, n, sizeof(*names), cmp_names_desc);
		for (size_t k = 0; k < n; k++) {
			char *path = xasprintf("%s/%s", dir, names[k]), t[40];
			struct stat sb;

			if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
				cJSON *fo = cJSON_CreateObject();

				cJSON_AddStringToObject(fo, "name", names[k]);
				cJSON_AddNumberToObject(fo, "size", (double)sb.st_size);
				cJSON_AddStringToObject(fo, "modified",
				    util_fmt_rfc3339(t, sizeof(t), (double)sb.st_mtime));
				cJSON_AddItemToArray(files, fo);
			}
			free(path);
			free(names[k]);
		}
		free(names);
		free(dir);
		cJSON_AddItemToObject(o, "files", files);
		cJSON_AddItemToArray(data, o);
	}
	pthread_mutex_unlock(&r->lock);
	text = cJSON_PrintUnformatted(root);
	buf_puts(out, text);
	buf_putc(out, '\n');
	cJSON_free(text);
	cJSON_Delete(root);
}

char *
reporter_archive_path(struct reporter *r, const char *name, const char *file)
{
	char *path = NULL;
	struct stat sb;

	pthread_mutex_lock(&r->lock);
	if (report_named(r->cfg, name) != NULL && file[0] != '.' && file[0] != '\0' &&
	    strchr(file, '/') == NULL) {
		path = xasprintf("%s/%s/%s", r->dir, name, file);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			free(path);
			path = NULL;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return path;
}

/* ---- `reeve report NAME` ----------------------------------------------------------------- */

int
report_cli(const struct cfg *cfg, const char *name, const char *outdir, const char *period,
    int send, FILE *out, char *err, size_t errlen)
{
	const struct cfg_report *rep = report_named(cfg, name);
	struct store_params sp = { cfg->data_dir, cfg->rrdcached, cfg->preset, 1000, NULL, 0,
		cfg->rrdcached_dir };
	struct report_period p;
	struct store *store = NULL;
	struct registry *reg = NULL;
	struct history *hist = NULL;
	struct alertlog *al = NULL;
	struct outbox *ob = NULL;
	struct expr_source src;
	struct report_env env = { cfg, &src, NULL, NULL, NULL };
	struct report_doc *d = NULL;
	struct report_file *f = NULL;
	struct buf mail = { 0 };
	size_t nf = 0;
	char *alerts = xasprintf("%s/alerts", cfg->data_dir), *spool = NULL, *key = NULL;
	char id[OUTBOX_ID_LEN];
	int rc = -1;

	if (rep == NULL) {
		snprintf(err, errlen, "no [report %s] in the configuration", name);
		goto out;
	}
	if (period != NULL && report_period_parse(period, &p, err, errlen) == -1)
		goto out;
	if (send && rep->nto + rep->ncc == 0) {
		snprintf(err, errlen, "[report %s] has no recipients (to, cc)", name);
		goto out;
	}
	/* the stored history alone (an empty registry): what a running daemon wrote */
	if ((store = store_new(&sp, err, errlen)) == NULL)
		goto out;
	reg = reg_new(0, NULL);
	hist = history_new(reg, store, 0);
	history_source(hist, &src);
	env.store = store;
	env.alertlog = al = alertlog_open(alerts, 0, 0);
	if ((d = report_make(&env, rep, util_now(), period ? &p : NULL, err, errlen)) == NULL ||
	    report_files(d, rep, &f, &nf, err, errlen) == -1)
		goto out;
	if (outdir != NULL) {
		if (report_files_write(f, nf, outdir, err, errlen) == -1)
			goto out;
		for (size_t i = 0; i < nf; i++)
			fprintf(out, "%s/%s\n", outdir, f[i].name);
	}
	if (send) {
		const struct cfg_notifier *n = sender_of(cfg, rep);
		char subject[256];

		spool = xasprintf("%s/spool", cfg->data_dir);
		key = xasprintf("report-%s-run-%.3f", name, util_now());
		snprintf(subject, sizeof(subject), "report %s: %s", name, d->period_text);
		if ((ob = outbox_open(spool, cfg, err, errlen)) == NULL ||
		    report_mail(cfg, d, rep, f, nf, key, &mail, err, errlen) == -1 ||
		    outbox_put(ob, n->name, key, subject, mail.data, mail.len, id, err, errlen) == -1)
			goto out;
		fprintf(out, "queued as %s for %s: a running reeve sends it within seconds\n", id,
		    n->name);
	}
	rc = 0;
out:
	outbox_free(ob, 0);
	buf_free(&mail);
	report_files_free(f, nf);
	report_doc_free(d);
	alertlog_close(al);
	history_free(hist);
	reg_free(reg);
	store_free(store, 1);
	free(alerts);
	free(spool);
	free(key);
	return rc;
}
