/* ruler.c: evaluates the [alert] and [record] rules on their intervals, in one thread. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertlog.h"
#include "template.h"
#include "expr.h"
#include "history.h"
#include "log.h"
#include "registry.h"
#include "rule.h"
#include "ruler.h"
#include "util.h"

/* How the last evaluation of one rule went, for /api/v1/rules. */
struct health {
	double last;       /* wall-clock time of the last evaluation, NaN before the first */
	double duration;   /* seconds it took */
	char *error;       /* the error of the last evaluation, NULL when it succeeded */
};

/* The parsed rules of one configuration; replaced whole on reload. */
struct rules {
	const struct cfg *cfg;
	struct rule_set *set;
	struct expr **expr, **recover; /* per alert; recover[i] NULL without one */
	struct expr **rec;             /* per record */
	struct reg_owner **owner;      /* per record: its computed series */
	double *due, *rec_due;         /* monotonic time of the next evaluation */
	struct health *health, *rec_health; /* per alert, per record */
	struct ruler *r;
};

/*
 * lock guards everything below it: the thread holds it while it evaluates a round, reload
 * and stats take it in between. wake tells the thread to stop or to look at new rules.
 */
struct ruler {
	struct registry *reg;
	struct history *hist;
	struct expr_source src;
	struct alertlog *log;
	struct dispatch *dispatch;  /* NULL: events go to the history log only */
	char *state_path;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
	struct rules *rules;
	struct ruler_stats st;
};

int
ruler_check_expr(void *arg, const char *text, char *err, size_t errlen)
{
	struct expr *e;
	int rc = 0;

	(void)arg;
	if ((e = expr_parse(text, err, errlen)) == NULL) {
		/* "expr: 1:14: ..." from the parser; the config adds "[alert X] expr: " itself */
		if (strncmp(err, "expr: ", 6) == 0)
			memmove(err, err + 6, strlen(err + 6) + 1);
		return -1;
	}
	if (expr_result_type(e) != EXPR_VECTOR) {
		snprintf(err, errlen, "a rule expression must give an instant vector, this one gives "
		    "a %s", expr_result_type(e) == EXPR_SCALAR ? "scalar" : "range vector");
		rc = -1;
	}
	expr_free(e);
	return rc;
}

int
ruler_check_matchers(void *arg, const char *text, char *err, size_t errlen)
{
	struct expr_matcher *m;
	size_t n;

	(void)arg;
	if (expr_parse_matchers(text, &m, &n, err, errlen) == -1) {
		/* "matchers: 1:14: ..."; the config adds "[route X] match: " itself */
		if (strncmp(err, "matchers: ", 10) == 0)
			memmove(err, err + 10, strlen(err + 10) + 1);
		return -1;
	}
	expr_matchers_free(m, n);
	return 0;
}

/* ---- rules of a configuration ------------------------------------------------------------ */

/*
 * Where transitions go: the history log, and the notifications with the metric names the
 * rule's expression reads (for graphs).
 */
static void
sink(void *arg, const struct rule_event *ev)
{
	struct rules *rs = arg;
	long i;

	alertlog_sink(rs->r->log, ev);
	if (rs->r->dispatch == NULL)
		return;
	if ((i = rule_find(rs->set, ev->rule)) < 0) {
		dispatch_event(rs->r->dispatch, ev, NULL, 0);
		return;
	}
	{
		size_t nsel, n = 0;
		const struct expr_selector *sel = expr_selectors(rs->expr[i], &nsel);
		const char **names = xcalloc(nsel ? nsel : 1, sizeof(*names));

		for (size_t k = 0; k < nsel; k++)
			for (size_t j = 0; j < sel[k].nm; j++)
				if (sel[k].m[j].op == EXPR_MATCH_EQ &&
				    strcmp(sel[k].m[j].name, "__name__") == 0)
					names[n++] = sel[k].m[j].value;
		dispatch_event(rs->r->dispatch, ev, names, n);
		free(names);
	}
}

static void
rules_free(struct ruler *r, struct rules *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->cfg->nalerts; i++) {
		expr_free(rs->expr[i]);
		expr_free(rs->recover[i]);
	}
	for (size_t i = 0; i < rs->cfg->nrecords; i++) {
		expr_free(rs->rec[i]);
		reg_owner_free(r->reg, rs->owner[i]);
	}
	for (size_t i = 0; i < rs->cfg->nalerts; i++)
		free(rs->health[i].error);
	for (size_t i = 0; i < rs->cfg->nrecords; i++)
		free(rs->rec_health[i].error);
	rule_set_free(rs->set);
	free(rs->health);
	free(rs->rec_health);
	free(rs->expr);
	free(rs->recover);
	free(rs->rec);
	free(rs->owner);
	free(rs->due);
	free(rs->rec_due);
	free(rs);
}

static struct expr *
parse_or_say(const struct cfg_expr *x, const char *what, char *err, size_t errlen)
{
	char e[512];
	struct expr *p = expr_parse(x->text, e, sizeof(e));

	if (p == NULL)
		snprintf(err, errlen, "%s:%d: %s: %s", x->file, x->line, what, e);
	return p;
}

static struct rules *
rules_new(struct ruler *r, const struct cfg *cfg, char *err, size_t errlen)
{
	struct rules *rs = xcalloc(1, sizeof(*rs));
	double now = util_monotonic();
	size_t na = cfg->nalerts, nr = cfg->nrecords;

	rs->cfg = cfg;
	rs->expr = xcalloc(na ? na : 1, sizeof(*rs->expr));
	rs->recover = xcalloc(na ? na : 1, sizeof(*rs->recover));
	rs->due = xcalloc(na ? na : 1, sizeof(*rs->due));
	rs->rec = xcalloc(nr ? nr : 1, sizeof(*rs->rec));
	rs->owner = xcalloc(nr ? nr : 1, sizeof(*rs->owner));
	rs->rec_due = xcalloc(nr ? nr : 1, sizeof(*rs->rec_due));
	rs->health = xcalloc(na ? na : 1, sizeof(*rs->health));
	rs->rec_health = xcalloc(nr ? nr : 1, sizeof(*rs->rec_health));
	for (size_t i = 0; i < na; i++)
		rs->health[i].last = NAN;
	for (size_t i = 0; i < nr; i++)
		rs->rec_health[i].last = NAN;
	rs->set = rule_set_new(cfg);
	for (size_t i = 0; i < na; i++) {
		const struct cfg_alert *a = &cfg->alerts[i];

		if ((rs->expr[i] = parse_or_say(&a->expr, "expr", err, errlen)) == NULL ||
		    (a->recover.text != NULL &&
		    (rs->recover[i] = parse_or_say(&a->recover, "recover", err, errlen)) == NULL))
			goto fail;
		rs->due[i] = now;
	}
	for (size_t i = 0; i < nr; i++) {
		const struct cfg_record *c = &cfg->records[i];
		char owner[300];

		if ((rs->rec[i] = parse_or_say(&c->expr, "expr", err, errlen)) == NULL)
			goto fail;
		snprintf(owner, sizeof(owner), "record %s", c->name);
		rs->owner[i] = reg_owner_new(r->reg, owner, c->eval_interval, 0);
		rs->rec_due[i] = now;
	}
	rs->r = r;
	rule_set_sink(rs->set, sink, rs);
	return rs;
fail:
	rules_free(r, rs);
	return NULL;
}

/* ---- evaluation -------------------------------------------------------------------------- */

/* A rule could not be evaluated: counted, kept in its health, logged at most once a minute. */
static void
failed(struct ruler *r, const char *what, const char *name, const char *err, struct health *h)
{
	static struct log_limit lim;
	unsigned long dropped;

	r->st.failures++;
	free(h->error);
	h->error = xstrdup(err);
	if (log_limit_allow(&lim, 60, &dropped))
		log_warnx("%s %s: %s%s", what, name, err, dropped ? " (and more, not logged)" : "");
}

static struct rule_sample *
to_samples(const struct expr_value *v, size_t *n)
{
	struct rule_sample *s = xcalloc(v->nsamples ? v->nsamples : 1, sizeof(*s));

	for (size_t i = 0; i < v->nsamples; i++) {
		s[i].labels = v->samples[i].labels;
		s[i].nlabels = v->samples[i].nlabels;
		s[i].value = v->samples[i].v;
	}
	*n = v->nsamples;
	return s;
}

/* The series the selectors of a rule read, gathered by the evaluator's seen callback. */
struct present {
	struct rule_sample *s;
	size_t n, cap;
};

/* Keep a copy of the series' labels, in one allocation per series. */
static void
present_add(void *arg, const struct expr_series *s)
{
	struct present *p = arg;
	struct reeve_label *l = expr_labels_pack(s->labels, s->nlabels);

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->s = xreallocarray(p->s, p->cap, sizeof(*p->s));
	}
	p->s[p->n].labels = l;
	p->s[p->n].nlabels = s->nlabels;
	p->s[p->n++].value = NAN;
}

int
ruler_eval_alert(struct rule_set *rs, size_t i, const struct expr *expr,
    const struct expr *recover, const struct expr_source *src, double t, char *err,
    size_t errlen)
{
	struct expr_value v = { 0 }, rv = { 0 };
	struct rule_input in = { 0 };
	struct rule_sample *es = NULL, *rsm = NULL;
	struct present data = { 0 };
	struct expr_source watched = *src;
	int rc = -1;

	/*
	 * The series the expression's selectors read are the ones with data at t: an
	 * instance in neither them nor the result is "no data", not "condition false".
	 */
	watched.seen = present_add;
	watched.seen_arg = &data;
	if (expr_eval(expr, &watched, t, &v, err, errlen) == -1)
		goto out;
	if (recover != NULL && expr_eval(recover, src, t, &rv, err, errlen) == -1)
		goto out;
	in.expr = es = to_samples(&v, &in.nexpr);
	if (recover != NULL)
		in.recover = rsm = to_samples(&rv, &in.nrecover);
	in.data = data.s;
	in.ndata = data.n;
	in.has_data = 1;
	rule_eval(rs, i, t, &in);
	rc = 0;
out:
	free(es);
	free(rsm);
	for (size_t k = 0; k < data.n; k++)
		free((void *)data.s[k].labels);
	free(data.s);
	expr_value_free(&v);
	expr_value_free(&rv);
	return rc;
}

static void
eval_alert(struct ruler *r, struct rules *rs, size_t i, double t)
{
	struct health *h = &rs->health[i];
	char err[512];

	r->st.evaluations++;
	free(h->error);
	h->error = NULL;
	if (ruler_eval_alert(rs->set, i, rs->expr[i], rs->recover[i], &r->src, t, err,
	    sizeof(err)) == -1)
		failed(r, "alert", rs->cfg->alerts[i].name, err, h);
}

static void
eval_record(struct ruler *r, struct rules *rs, size_t i, double t)
{
	const struct cfg_record *c = &rs->cfg->records[i];
	struct expr_value v = { 0 };
	struct reg_batch b = { 0 };
	struct reeve_label *l = NULL;
	size_t cap = 0;
	struct health *h = &rs->rec_health[i];
	char err[512];

	r->st.evaluations++;
	free(h->error);
	h->error = NULL;
	if (expr_eval(rs->rec[i], &r->src, t, &v, err, sizeof(err)) == -1) {
		failed(r, "record", c->name, err, h);
		return;
	}
	for (size_t k = 0; k < v.nsamples; k++) {
		const struct expr_sample *s = &v.samples[k];
		size_t n = 0;

		if (s->nlabels + c->nlabels > cap) {
			cap = s->nlabels + c->nlabels;
			l = xreallocarray(l, cap ? cap : 1, sizeof(*l));
		}
		/* the rule's labels.* replace the series' labels of the same name */
		for (size_t j = 0; j < s->nlabels; j++) {
			int set = 0;

			for (size_t q = 0; q < c->nlabels; q++)
				set |= strcmp(c->labels[q].key, s->labels[j].name) == 0;
			if (!set)
				l[n++] = s->labels[j];
		}
		for (size_t q = 0; q < c->nlabels; q++) {
			l[n].name = c->labels[q].key;
			l[n++].value = c->labels[q].value;
		}
		reg_batch_add(&b, c->name, "Recorded by a [record] rule.", REEVE_GAUGE, l, n, s->v);
	}
	reg_commit(r->reg, rs->owner[i], t, &b);
	reg_batch_free(&b);
	free(l);
	expr_value_free(&v);
}

struct count_ctx {
	size_t firing, pending;
};

static void
count_alert(void *arg, const struct rule_alert *a)
{
	struct count_ctx *c = arg;

	c->firing += a->state == RULE_FIRING;
	c->pending += a->state == RULE_PENDING;
}

/* One pass: every rule that is due, then the alert state saved once. Lock held. */
static double
round_due(struct ruler *r, struct rules *rs)
{
	const struct cfg *cfg = rs->cfg;
	double now = util_monotonic(), t = util_now(), next = now + 3600, t0 = now;
	int alerts = 0;

	/* the transitions of one round reach the notifications together */
	if (r->dispatch != NULL)
		dispatch_hold(r->dispatch, 1);
	for (size_t i = 0; i < cfg->nalerts; i++) {
		if (rs->due[i] <= now) {
			double t1 = util_monotonic();

			eval_alert(r, rs, i, t);
			rs->health[i].last = t;
			rs->health[i].duration = util_monotonic() - t1;
			alerts = 1;
			/* keep the rhythm; after a stall start again from now */
			rs->due[i] += cfg->alerts[i].eval_interval;
			if (rs->due[i] <= now)
				rs->due[i] = now + cfg->alerts[i].eval_interval;
		}
		if (rs->due[i] < next)
			next = rs->due[i];
	}
	if (r->dispatch != NULL)
		dispatch_hold(r->dispatch, 0);
	for (size_t i = 0; i < cfg->nrecords; i++) {
		if (rs->rec_due[i] <= now) {
			double t1 = util_monotonic();

			eval_record(r, rs, i, t);
			rs->rec_health[i].last = t;
			rs->rec_health[i].duration = util_monotonic() - t1;
			rs->rec_due[i] += cfg->records[i].eval_interval;
			if (rs->rec_due[i] <= now)
				rs->rec_due[i] = now + cfg->records[i].eval_interval;
		}
		if (rs->rec_due[i] < next)
			next = rs->rec_due[i];
	}
	if (alerts) {
		struct count_ctx c = { 0, 0 };

		rule_state_save(rs->set, r->state_path);
		rule_foreach(rs->set, -1, count_alert, &c);
		r->st.firing = c.firing;
		r->st.pending = c.pending;
		r->st.last_round = util_monotonic() - t0;
	}
	return next;
}

static void *
ruler_main(void *arg)
{
	struct ruler *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		double next = round_due(r, r->rules), wait = next - util_monotonic();
		struct timespec ts;

		if (wait <= 0)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		wait += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - floor(wait)) * 1e9);
		pthread_cond_timedwait(&r->wake, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* ---- answers of the HTTP API (docs/http-api.md) ---------------------------------------------- */

/* A value as Prometheus's API writes an alert's: Go's FormatFloat(v, 'e', -1, 64), "1.5e+01". */
static void
put_value(struct buf *b, double v)
{
	char s[40];

	if (isnan(v))
		snprintf(s, sizeof(s), "NaN");
	else if (isinf(v))
		snprintf(s, sizeof(s), v > 0 ? "+Inf" : "-Inf");
	else
		for (int prec = 0; prec <= 16; prec++) {
			snprintf(s, sizeof(s), "%.*e", prec, v);
			if (strtod(s, NULL) == v)
				break;
		}
	buf_json_string(b, s);
}

static void
put_time(struct buf *b, double t)
{
	char s[48];

	buf_json_string(b, util_fmt_rfc3339(s, sizeof(s), t));
}

/* A finite number of seconds as a JSON number. */
static void
put_number(struct buf *b, double v)
{
	char s[40];

	buf_puts(b, util_fmt_double(s, sizeof(s), isfinite(v) ? v : 0));
}

static void
put_kv(struct buf *b, const struct cfg_kv *kv, size_t n)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_json_string(b, kv[i].key);
		buf_putc(b, ':');
		buf_json_string(b, kv[i].value);
	}
	buf_putc(b, '}');
}

/* Labels as Prometheus shows an alert's: sorted, with alertname. */
static void
put_labels(struct buf *b, const char *alertname, const struct reeve_label *l, size_t n)
{
	int first = 1;

	buf_putc(b, '{');
	for (size_t i = 0; i <= n; i++) {
		if (alertname != NULL && (i == n || strcmp(l[i].name, "alertname") >= 0)) {
			buf_puts(b, first ? "\"alertname\":" : ",\"alertname\":");
			buf_json_string(b, alertname);
			alertname = NULL;
			first = 0;
		}
		if (i == n)
			break;
		if (strcmp(l[i].name, "alertname") == 0)
			continue; /* the rule's name wins, as in Prometheus */
		if (!first)
			buf_putc(b, ',');
		first = 0;
		buf_json_string(b, l[i].name);
		buf_putc(b, ':');
		buf_json_string(b, l[i].value);
	}
	buf_putc(b, '}');
}

/* The active instances of every rule, rendered per rule (rule_foreach goes rule by rule). */
/*
 * The configured rule of an active (pending, firing, no data) alert instance x, or NULL for
 * an inactive one. rule_foreach gives instances in rule order, so the search starts at *k,
 * the rule of the previous instance, and leaves *k at this one's.
 */
static const struct cfg_alert *
active_rule(const struct cfg *cfg, size_t *k, const struct rule_alert *x)
{
	if (x->state != RULE_PENDING && x->state != RULE_FIRING && x->state != RULE_NODATA)
		return NULL;
	for (size_t tries = 0; strcmp(cfg->alerts[*k].name, x->rule) != 0; tries++) {
		if (tries == cfg->nalerts)
			return NULL; /* cannot happen: every instance belongs to a configured rule */
		*k = (*k + 1) % cfg->nalerts;
	}
	return &cfg->alerts[*k];
}

struct active_ctx {
	const struct cfg *cfg;
	size_t k;               /* the rule rule_foreach is at */
	struct buf *per;        /* per rule: its alerts, comma-separated */
	size_t *firing, *pending;
};

static void
put_alert(void *arg, const struct rule_alert *x)
{
	struct active_ctx *c = arg;
	const struct cfg_alert *a;
	struct template_data td;
	struct buf *b;

	if ((a = active_rule(c->cfg, &c->k, x)) == NULL)
		return;
	b = &c->per[c->k];
	c->firing[c->k] += x->state == RULE_FIRING;
	c->pending[c->k] += x->state == RULE_PENDING;
	td = (struct template_data){ a->name, a->severity, x->labels, x->nlabels, x->value };
	buf_puts(b, b->len ? ",{\"labels\":" : "{\"labels\":");
	put_labels(b, a->name, x->labels, x->nlabels);
	buf_puts(b, ",\"annotations\":{");
	for (size_t i = 0; i < a->nannotations; i++) {
		char *text = template_render(a->annotations[i].value, &td);

		if (i)
			buf_putc(b, ',');
		buf_json_string(b, a->annotations[i].key);
		buf_putc(b, ':');
		buf_json_string(b, text);
		free(text);
	}
	buf_puts(b, "},\"state\":");
	buf_json_string(b, rule_state_name(x->state));
	buf_puts(b, ",\"activeAt\":");
	put_time(b, x->since);
	buf_puts(b, ",\"value\":");
	put_value(b, x->value);
	buf_puts(b, ",\"severity\":");
	buf_json_string(b, x->severity);
	buf_printf(b, ",\"flapping\":%s", x->flapping ? "true" : "false");
	{
		char fp[17];

		dispatch_fingerprint(x->rule, x->severity, x->labels, x->nlabels, fp);
		buf_printf(b, ",\"fingerprint\":\"%s\"}", fp);
	}
}

/* Fill c (arrays of cfg->nalerts) from the rule set. Lock held. */
static void
collect_active(struct rules *rs, struct active_ctx *c)
{
	size_t na = rs->cfg->nalerts ? rs->cfg->nalerts : 1;

	c->cfg = rs->cfg;
	c->k = 0;
	c->per = xcalloc(na, sizeof(*c->per));
	c->firing = xcalloc(na, sizeof(*c->firing));
	c->pending = xcalloc(na, sizeof(*c->pending));
	if (rs->cfg->nalerts)
		rule_foreach(rs->set, -1, put_alert, c);
}

static void
active_free(const struct cfg *cfg, struct active_ctx *c)
{
	for (size_t i = 0; i < cfg->nalerts; i++)
		buf_free(&c->per[i]);
	free(c->per);
	free(c->firing);
	free(c->pending);
}

void
ruler_alerts_json(struct ruler *r, struct buf *out)
{
	struct active_ctx c;
	int first = 1;

	pthread_mutex_lock(&r->lock);
	collect_active(r->rules, &c);
	buf_puts(out, "{\"status\":\"success\",\"data\":{\"alerts\":[");
	for (size_t i = 0; i < r->rules->cfg->nalerts; i++) {
		if (c.per[i].len == 0)
			continue;
		if (!first)
			buf_putc(out, ',');
		first = 0;
		buf_append(out, c.per[i].data, c.per[i].len);
	}
	buf_puts(out, "]}}\n");
	active_free(r->rules->cfg, &c);
	pthread_mutex_unlock(&r->lock);
}

/* rule_foreach's walk for ruler_alerts: the configured rule of each instance, its summary. */
struct each_ctx {
	const struct cfg *cfg;
	size_t k;
	void (*fn)(void *arg, const struct ruler_alert *a);
	void *arg;
};

static void
each_alert(void *arg, const struct rule_alert *x)
{
	struct each_ctx *c = arg;
	const struct cfg_alert *a;
	struct ruler_alert out;
	char *summary = NULL;

	if ((a = active_rule(c->cfg, &c->k, x)) == NULL)
		return;
	for (size_t i = 0; i < a->nannotations && summary == NULL; i++)
		if (strcmp(a->annotations[i].key, "summary") == 0) {
			struct template_data td = { a->name, a->severity, x->labels, x->nlabels,
				x->value };

			summary = template_render(a->annotations[i].value, &td);
		}
	out = (struct ruler_alert){ x->rule, x->labels, x->nlabels, x->state, x->flapping,
		x->since, x->value, x->severity, summary };
	c->fn(c->arg, &out);
	free(summary);
}

void
ruler_alerts(struct ruler *r, void (*fn)(void *arg, const struct ruler_alert *a), void *arg)
{
	struct each_ctx c;

	pthread_mutex_lock(&r->lock);
	c = (struct each_ctx){ r->rules->cfg, 0, fn, arg };
	if (r->rules->cfg->nalerts)
		rule_foreach(r->rules->set, -1, each_alert, &c);
	pthread_mutex_unlock(&r->lock);
}

static void
put_health(struct buf *b, const struct health *h)
{
	buf_puts(b, ",\"health\":");
	buf_json_string(b, isnan(h->last) ? "unknown" : h->error ? "err" : "ok");
	buf_puts(b, ",\"lastError\":");
	buf_json_string(b, h->error ? h->error : "");
	buf_puts(b, ",\"evaluationTime\":");
	put_number(b, h->duration);
	buf_puts(b, ",\"lastEvaluation\":");
	put_time(b, h->last);
}

static const char *
group_of(const char *file)
{
	return file != NULL ? file : "reeve";
}

/* The rules of one group (config file), then its own fields. Lock held. */
static void
put_group(struct buf *out, struct rules *rs, struct active_ctx *c, const char *group)
{
	const struct cfg *cfg = rs->cfg;
	double interval = 0, took = 0, last = NAN;
	int first = 1;

	buf_puts(out, "{\"name\":");
	buf_json_string(out, group);
	buf_puts(out, ",\"file\":");
	buf_json_string(out, group);
	buf_puts(out, ",\"rules\":[");
	for (size_t i = 0; i < cfg->nalerts; i++) {
		const struct cfg_alert *a = &cfg->alerts[i];
		const struct health *h = &rs->health[i];

		if (strcmp(group_of(a->file), group) != 0)
			continue;
		buf_puts(out, first ? "{\"state\":" : ",{\"state\":");
		first = 0;
		buf_json_string(out, c->firing[i] ? "firing" : c->pending[i] ? "pending" : "inactive");
		buf_puts(out, ",\"name\":");
		buf_json_string(out, a->name);
		buf_puts(out, ",\"query\":");
		buf_json_string(out, a->expr.text);
		if (a->recover.text != NULL) {
			buf_puts(out, ",\"recover\":");
			buf_json_string(out, a->recover.text);
		}
		buf_puts(out, ",\"duration\":");
		put_number(out, a->for_);
		buf_puts(out, ",\"keepFiringFor\":");
		put_number(out, a->keep_firing_for);
		buf_puts(out, ",\"interval\":");
		put_number(out, a->eval_interval);
		buf_puts(out, ",\"severity\":");
		buf_json_string(out, a->severity);
		buf_puts(out, ",\"labels\":");
		put_kv(out, a->labels, a->nlabels);
		buf_puts(out, ",\"annotations\":");
		put_kv(out, a->annotations, a->nannotations);
		buf_puts(out, ",\"alerts\":[");
		if (c->per[i].len)
			buf_append(out, c->per[i].data, c->per[i].len);
		buf_putc(out, ']');
		put_health(out, h);
		buf_puts(out, ",\"type\":\"alerting\"}");
		if (interval == 0 || a->eval_interval < interval)
			interval = a->eval_interval;
		took += h->duration;
		if (!isnan(h->last) && !(h->last <= last))
			last = h->last;
	}
	for (size_t i = 0; i < cfg->nrecords; i++) {
		const struct cfg_record *rc = &cfg->records[i];
		const struct health *h = &rs->rec_health[i];

		if (strcmp(group_of(rc->file), group) != 0)
			continue;
		buf_puts(out, first ? "{\"name\":" : ",{\"name\":");
		first = 0;
		buf_json_string(out, rc->name);
		buf_puts(out, ",\"query\":");
		buf_json_string(out, rc->expr.text);
		buf_puts(out, ",\"interval\":");
		put_number(out, rc->eval_interval);
		buf_puts(out, ",\"labels\":");
		put_kv(out, rc->labels, rc->nlabels);
		put_health(out, h);
		buf_puts(out, ",\"type\":\"recording\"}");
		if (interval == 0 || rc->eval_interval < interval)
			interval = rc->eval_interval;
		took += h->duration;
		if (!isnan(h->last) && !(h->last <= last))
			last = h->last;
	}
	buf_puts(out, "],\"interval\":");
	put_number(out, interval);
	buf_puts(out, ",\"limit\":0,\"evaluationTime\":");
	put_number(out, took);
	buf_puts(out, ",\"lastEvaluation\":");
	put_time(out, last);
	buf_putc(out, '}');
}

void
ruler_rules_json(struct ruler *r, struct buf *out)
{
	struct rules *rs;
	const struct cfg *cfg;
	struct active_ctx c;
	const char **groups;
	size_t ng = 0;

	pthread_mutex_lock(&r->lock);
	rs = r->rules;
	cfg = rs->cfg;
	collect_active(rs, &c);
	/* one group per file, in the order of the first rule of each */
	groups = xcalloc(cfg->nalerts + cfg->nrecords + 1, sizeof(*groups));
	for (size_t i = 0; i < cfg->nalerts + cfg->nrecords; i++) {
		const char *g = group_of(i < cfg->nalerts ? cfg->alerts[i].file :
		    cfg->records[i - cfg->nalerts].file);
		size_t k;

		for (k = 0; k < ng && strcmp(groups[k], g) != 0; k++)
			;
		if (k == ng)
			groups[ng++] = g;
	}
	buf_puts(out, "{\"status\":\"success\",\"data\":{\"groups\":[");
	for (size_t k = 0; k < ng; k++) {
		if (k)
			buf_putc(out, ',');
		put_group(out, rs, &c, groups[k]);
	}
	buf_puts(out, "]}}\n");
	free(groups);
	active_free(cfg, &c);
	pthread_mutex_unlock(&r->lock);
}

struct alertlog *
ruler_alertlog(struct ruler *r)
{
	return r->log;
}

int
ruler_history_json(struct ruler *r, double since, const char *rule, size_t limit,
    struct buf *out)
{
	struct alertlog_entry *e;
	size_t n;

	/* the log has its own lock: the rule thread may go on appending meanwhile */
	if (alertlog_read(r->log, since, rule, limit, &e, &n) == -1)
		return -1;
	buf_puts(out, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; i < n; i++) {
		buf_puts(out, i ? ",{\"time\":" : "{\"time\":");
		put_time(out, e[i].time);
		buf_puts(out, ",\"rule\":");
		buf_json_string(out, e[i].rule);
		buf_puts(out, ",\"labels\":");
		put_labels(out, NULL, e[i].labels, e[i].nlabels);
		buf_puts(out, ",\"from\":");
		buf_json_string(out, e[i].from);
		buf_puts(out, ",\"to\":");
		buf_json_string(out, e[i].to);
		buf_puts(out, ",\"value\":");
		if (isnan(e[i].value))
			buf_puts(out, "null");
		else
			put_value(out, e[i].value);
		buf_puts(out, ",\"severity\":");
		if (e[i].severity != NULL)
			buf_json_string(out, e[i].severity);
		else
			buf_puts(out, "null");
		buf_puts(out, ",\"summary\":");
		if (e[i].summary != NULL)
			buf_json_string(out, e[i].summary);
		else
			buf_puts(out, "null");
		buf_putc(out, '}');
	}
	buf_puts(out, "]}\n");
	alertlog_entries_free(e, n);
	return 0;
}

/* ---- life cycle -------------------------------------------------------------------------- */

struct ruler *
ruler_new(const struct cfg *cfg, const struct ruler_params *p, char *err, size_t errlen)
{
	struct ruler *r = xcalloc(1, sizeof(*r));
	char *dir = xasprintf("%s/alerts", p->data_dir);

	r->reg = p->reg;
	r->hist = history_new(p->reg, p->store, p->window);
	history_source(r->hist, &r->src);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	if ((r->log = alertlog_open(dir, 0, 0)) == NULL) {
		snprintf(err, errlen, "cannot open the alert history in %s: %s", dir, strerror(errno));
		free(dir);
		ruler_free(r);
		return NULL;
	}
	r->state_path = xasprintf("%s/state.json", dir);
	free(dir);
	if ((r->rules = rules_new(r, cfg, err, errlen)) == NULL) {
		ruler_free(r);
		return NULL;
	}
	rule_state_load(r->rules->set, r->state_path);
	if ((r->dispatch = p->dispatch) != NULL)
		dispatch_reconcile(r->dispatch, r->rules->set);
	r->st.alerts = cfg->nalerts;
	r->st.records = cfg->nrecords;
	return r;
}

int
ruler_start(struct ruler *r)
{
	if (pthread_create(&r->thread, NULL, ruler_main, r) != 0)
		return -1;
	r->started = 1;
	return 0;
}

int
ruler_reload(struct ruler *r, const struct cfg *cfg, char *err, size_t errlen)
{
	struct rules *fresh = rules_new(r, cfg, err, errlen), *old;

	if (fresh == NULL)
		return -1;
	pthread_mutex_lock(&r->lock);
	old = r->rules;
	/*
	 * Alerts of rules removed or relabelled, and instances that took other external labels,
	 * resolved without an event, and the relabelled ones are new alerts: the dispatcher
	 * learns both as after a restart.
	 */
	rule_set_take_state(fresh->set, old->set);
	if (r->dispatch != NULL)
		dispatch_reconcile(r->dispatch, fresh->set);
	r->rules = fresh;
	r->st.alerts = cfg->nalerts;
	r->st.records = cfg->nrecords;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	rules_free(r, old);
	return 0;
}

void
ruler_get_stats(struct ruler *r, struct ruler_stats *st)
{
	pthread_mutex_lock(&r->lock);
	*st = r->st;
	pthread_mutex_unlock(&r->lock);
	st->history_failures = r->log ? __atomic_load_n(&r->log->failures, __ATOMIC_RELAXED) : 0;
}

void
ruler_free(struct ruler *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stopping = 1;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	if (r->rules != NULL)
		rule_state_save(r->rules->set, r->state_path);
	rules_free(r, r->rules);
	alertlog_close(r->log);
	history_free(r->hist);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->state_path);
	free(r);
}
