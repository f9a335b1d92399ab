/* dispatch.c: alert events into notifications: routing, grouping and repeats, handed to the outbox. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "dispatch.h"
#include "expr.h"
#include "log.h"
#include "cron.h"
#include "tz.h"
#include "notifier.h"
#include "silence.h"
#include "template.h"
#include "util.h"

#define DISPATCH_STATE_VERSION 1
#define DISPATCH_TICK 1.0        /* seconds between looks at the groups at most */
#define DISPATCH_PUT_RETRY 5.0   /* seconds before a group the outbox refused is tried again */
#define DISPATCH_MUTE_RECHECK 10.0 /* seconds between looks at a group with muted alerts */
#define FLAPPING_NOTE "the alert changes state too often: no more notifications until it settles"

/* An alert the dispatcher holds: firing, or resolved and not yet notified. Label sets are
 * packed (expr_labels_pack): one allocation each. */
struct dalert {
	char fp[17];
	struct reeve_label *labels;  /* alertname, severity, the instance's labels; sorted, owned */
	size_t nlabels;
	struct reeve_label *ann;     /* rendered annotations, owned */
	size_t nann;
	char **metrics;
	size_t nmetrics;
	int firing;
	int escalated;               /* it went to its route's escalate_to */
	int held;                    /* a group holds it (drop_unreferenced's mark) */
	double starts_at, ends_at, value;
};

/* The alerts of one route with the same group_by labels. */
struct dgroup {
	char *key;                   /* route name, then {label="value",...} */
	char *route;
	struct reeve_label *glabels; /* owned */
	size_t nglabels;
	char **fps;                  /* its alerts */
	size_t nfps;
	double next_flush;           /* when to look at it next (wall clock), 0: nothing due */
	double last_sent;
	char **sent;                 /* the firing alerts its last message told (their end is owed) */
	size_t nsent;
	unsigned seq;                /* messages sent so far (part of the idempotency key) */
};

struct dinhibit {
	const struct cfg_inhibit *cfg;
	struct expr_matcher *sm, *tm;
	size_t nsm, ntm;
};

struct dmaint {
	const struct cfg_maintenance *cfg;
	struct cron *cron;
	struct tz *tz;                /* its time zone, loaded once */
	struct expr_matcher *m;
	size_t nm;
};

struct droute {
	const struct cfg_route *cfg;
	struct expr_matcher *m;      /* NULL: every alert */
	size_t nm;
};

/* lock guards everything below it; the flush thread waits on wake. */
struct dispatch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int started, stopping, dirty;
	int held;                    /* a round of rules is under way: groups wait for its end */
	int orphans;                 /* alerts may have left every group: drop_unreferenced */
	double (*now)(void);         /* the clock: util_now, a fake one in tests */
	const struct cfg *cfg;
	struct droute *routes;
	size_t nroutes;
	struct dinhibit *inhibits;
	size_t ninhibits;
	struct dmaint *maints;
	size_t nmaints;
	struct silences *silences;
	struct outbox *outbox;
	const struct notify_graph *graph;
	char *state_path;
	struct dalert **alerts;
	size_t nalerts;
	struct dgroup **groups;
	size_t ngroups;
	struct dispatch_stats st;
	struct log_limit unrouted_log;
};

/* ---- alerts and groups ----------------------------------------------------------------------- */

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

static void
strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
listed(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static const char *
label_value(const struct reeve_label *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return NULL;
}

/* The canonical text of sorted labels: {a="x",b="y"}. */
static void
labels_text(struct buf *b, const struct reeve_label *l, size_t n)
{
	buf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, l[i].name);
		buf_putc(b, '=');
		buf_json_string(b, l[i].value);
	}
	buf_putc(b, '}');
}

/*
 * An alert's labels: alertname, severity (unless the instance has one) and the instance's,
 * sorted; its fingerprint is a hash of their text.
 */
static struct reeve_label *
alert_labels(const char *rule, const char *severity, const struct reeve_label *l, size_t n,
    size_t *out_n, char fp[17])
{
	struct reeve_label *m = xcalloc(n + 2, sizeof(*m)), *packed;
	struct buf text = { 0 };
	size_t k = 0;

	m[k++] = (struct reeve_label){ "alertname", rule };
	if (severity != NULL && label_value(l, n, "severity") == NULL)
		m[k++] = (struct reeve_label){ "severity", severity };
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, "alertname") != 0)
			m[k++] = l[i];
	qsort(m, k, sizeof(*m), cmp_label);
	labels_text(&text, m, k);
	snprintf(fp, 17, "%016llx", util_hash(text.data, text.len));
	buf_free(&text);
	packed = expr_labels_pack(m, k);
	free(m);
	*out_n = k;
	return packed;
}

void
dispatch_fingerprint(const char *rule, const char *severity, const struct reeve_label *l,
    size_t n, char fp[17])
{
	size_t k;

	free(alert_labels(rule, severity, l, n, &k, fp));
}

static void
alert_free(struct dalert *a)
{
	if (a == NULL)
		return;
	free(a->labels);
	free(a->ann);
	strings_free(a->metrics, a->nmetrics);
	free(a);
}

/* The alerts are kept sorted by fingerprint: found by binary search. */
static struct dalert *
find_alert(struct dispatch *d, const char *fp, size_t *idx)
{
	size_t lo = 0, hi = d->nalerts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d->alerts[mid]->fp, fp);

		if (c == 0) {
			if (idx != NULL)
				*idx = mid;
			return d->alerts[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Add a (whose fingerprint is not held yet) in its place. */
static void
alert_insert(struct dispatch *d, struct dalert *a)
{
	size_t i = d->nalerts;

	d->alerts = xreallocarray(d->alerts, d->nalerts + 1, sizeof(*d->alerts));
	while (i > 0 && strcmp(d->alerts[i - 1]->fp, a->fp) > 0)
		i--;
	memmove(&d->alerts[i + 1], &d->alerts[i], (d->nalerts - i) * sizeof(*d->alerts));
	d->alerts[i] = a;
	d->nalerts++;
}

static void
group_free(struct dgroup *g)
{
	free(g->key);
	free(g->route);
	free(g->glabels);
	strings_free(g->fps, g->nfps);
	strings_free(g->sent, g->nsent);
	free(g);
}

static struct dgroup *
find_group(struct dispatch *d, const char *key)
{
	for (size_t i = 0; i < d->ngroups; i++)
		if (strcmp(d->groups[i]->key, key) == 0)
			return d->groups[i];
	return NULL;
}

static const struct droute *
route_named(const struct dispatch *d, const char *name)
{
	for (size_t i = 0; i < d->nroutes; i++)
		if (strcmp(d->routes[i].cfg->name, name) == 0)
			return &d->routes[i];
	return NULL;
}

/*
 * Something changed in group g (an alert joined or resolved): look at it as soon as its
 * group_interval since the last message allows (a group never sent waits its group_wait).
 */
static void
mark_due(const struct droute *r, struct dgroup *g, double now)
{
	double due;

	if (g->last_sent == 0 && g->next_flush != 0)
		return;
	due = g->last_sent + r->cfg->group_interval;
	if (due < now)
		due = now;
	if (g->next_flush == 0 || due < g->next_flush)
		g->next_flush = due;
}

/* Put alert a into the group of route r its labels select (made when new). */
static void
group_add(struct dispatch *d, const struct droute *r, const struct dalert *a, double now)
{
	const struct cfg_route *c = r->cfg;
	struct reeve_label *gl;
	size_t ngl = 0;
	struct buf key = { 0 };
	struct dgroup *g;
	int all = c->ngroup_by == 1 && strcmp(c->group_by[0], "...") == 0;

	gl = xcalloc(all ? a->nlabels + 1 : c->ngroup_by + 1, sizeof(*gl));
	if (all) {
		for (size_t i = 0; i < a->nlabels; i++)
			gl[ngl++] = a->labels[i];
	} else {
		for (size_t i = 0; i < c->ngroup_by; i++) {
			const char *v = label_value(a->labels, a->nlabels, c->group_by[i]);

			gl[ngl].name = c->group_by[i];
			gl[ngl++].value = v ? v : "";
		}
		qsort(gl, ngl, sizeof(*gl), cmp_label);
	}
	buf_puts(&key, c->name);
	labels_text(&key, gl, ngl);
	if ((g = find_group(d, key.data)) == NULL) {
		g = xcalloc(1, sizeof(*g));
		g->key = buf_steal(&key);
		g->route = xstrdup(c->name);
		g->glabels = expr_labels_pack(gl, ngl);
		g->nglabels = ngl;
		g->next_flush = now + c->group_wait;
		d->groups = xreallocarray(d->groups, d->ngroups + 1, sizeof(*d->groups));
		d->groups[d->ngroups++] = g;
	}
	buf_free(&key);
	free(gl);
	for (size_t i = 0; i < g->nfps; i++)
		if (strcmp(g->fps[i], a->fp) == 0)
			goto due;
	g->fps = xreallocarray(g->fps, g->nfps + 1, sizeof(*g->fps));
	g->fps[g->nfps++] = xstrdup(a->fp);
due:
	mark_due(r, g, now);
}

/* Route alert a: the matching routes in file order while they continue, else default. */
static void
route_alert(struct dispatch *d, const struct dalert *a, double now)
{
	const struct droute *def = NULL;
	int taken = 0;

	for (size_t i = 0; i < d->nroutes; i++) {
		const struct droute *r = &d->routes[i];

		if (strcmp(r->cfg->name, "default") == 0) {
			def = r;
			continue;
		}
		if (r->m != NULL && !expr_matches(r->m, r->nm, NULL, a->labels, a->nlabels))
			continue;
		group_add(d, r, a, now);
		taken = 1;
		if (!r->cfg->continue_)
			break;
	}
	if (!taken && def != NULL) {
		group_add(d, def, a, now);
		taken = 1;
	}
	if (!taken) {
		unsigned long dropped;

		d->st.unrouted++;
		if (log_limit_allow(&d->unrouted_log, 300, &dropped))
			log_warnx("alert %s: no [route] takes it and there is no [route default]: "
			    "not notified%s", label_value(a->labels, a->nlabels, "alertname"),
			    dropped ? " (and more, not logged)" : "");
	}
}

/* Mark the alerts some group holds (held), the others not. */
static void
mark_held(struct dispatch *d)
{
	for (size_t i = 0; i < d->nalerts; i++)
		d->alerts[i]->held = 0;
	for (size_t i = 0; i < d->ngroups; i++)
		for (size_t j = 0; j < d->groups[i]->nfps; j++) {
			struct dalert *a = find_alert(d, d->groups[i]->fps[j], NULL);

			if (a != NULL)
				a->held = 1;
		}
}

/* Forget alerts no group holds any more (after messages told their end). */
static void
drop_unreferenced(struct dispatch *d)
{
	size_t k = 0;

	mark_held(d);
	for (size_t i = 0; i < d->nalerts; i++) {
		if (d->alerts[i]->held)
			d->alerts[k++] = d->alerts[i];
		else
			alert_free(d->alerts[i]);
	}
	d->nalerts = k;
	d->orphans = 0;
}

/* ---- events ------------------------------------------------------------------------------------ */

static int
is_active(enum rule_state s)
{
	return s == RULE_FIRING || s == RULE_NODATA || s == RULE_FLAPPING;
}

void
dispatch_event(struct dispatch *d, const struct rule_event *ev, const char *const *metrics,
    size_t nmetrics)
{
	char fp[17];
	size_t n;
	struct reeve_label *l;
	struct dalert *a;
	int fire = is_active(ev->to), resolve = !fire && is_active(ev->from);

	if (!fire && !resolve)
		return; /* pending and back: nothing to tell */
	l = alert_labels(ev->rule, ev->severity, ev->labels, ev->nlabels, &n, fp);
	pthread_mutex_lock(&d->lock);
	a = find_alert(d, fp, NULL);
	if (fire) {
		int is_new = a == NULL;

		if (is_new) {
			a = xcalloc(1, sizeof(*a));
			memcpy(a->fp, fp, sizeof(a->fp));
			a->labels = l;
			a->nlabels = n;
			l = NULL;
			alert_insert(d, a);
		}
		if (is_new || !a->firing) {
			a->starts_at = ev->to == RULE_FLAPPING ? ev->since : ev->time;
			a->escalated = 0; /* a new incident */
		}
		if (!isfinite(a->starts_at))
			a->starts_at = ev->time;
		a->firing = 1;
		a->ends_at = 0;
		a->value = ev->value;
		free(a->ann);
		{
			struct reeve_label *ann = xcalloc(ev->nannotations + 1, sizeof(*ann));

			memcpy(ann, ev->annotations, ev->nannotations * sizeof(*ann));
			a->nann = ev->nannotations;
			if (ev->to == RULE_FLAPPING)
				ann[a->nann++] = (struct reeve_label){ "flapping", FLAPPING_NOTE };
			a->ann = expr_labels_pack(ann, a->nann);
			free(ann);
		}
		strings_free(a->metrics, a->nmetrics);
		a->metrics = xcalloc(nmetrics ? nmetrics : 1, sizeof(*a->metrics));
		for (size_t i = 0; i < nmetrics; i++)
			a->metrics[i] = xstrdup(metrics[i]);
		a->nmetrics = nmetrics;
		/* every group of the alert is looked at (a new one waits group_wait) */
		route_alert(d, a, d->now());
	} else if (a != NULL && a->firing) {
		a->firing = 0;
		a->ends_at = ev->time;
		a->value = ev->value;
		for (size_t i = 0; i < d->ngroups; i++)
			for (size_t j = 0; j < d->groups[i]->nfps; j++) {
				const struct droute *r = route_named(d, d->groups[i]->route);

				if (strcmp(d->groups[i]->fps[j], fp) == 0 && r != NULL)
					mark_due(r, d->groups[i], d->now());
			}
	}
	d->dirty = 1;
	if (!d->held)
		pthread_cond_signal(&d->wake); /* else the end of the round wakes it */
	pthread_mutex_unlock(&d->lock);
	if (l != NULL)
		free(l);
}

/*
 * The annotations of an alert the dispatcher learns from the rule state rather than from an
 * event (dispatch_reconcile): its rule's, rendered now with its labels and last value, as
 * its event would have had them. Returns them packed (expr_labels_pack), their number in *n.
 */
static struct reeve_label *
reconciled_annotations(const struct rule_alert *x, size_t *n)
{
	const struct cfg_alert *c = x->cfg;
	struct template_data td = { x->rule, x->severity, x->labels, x->nlabels, x->value };
	struct reeve_label *ann, *packed;
	size_t k = 0;

	ann = xcalloc((c != NULL ? c->nannotations : 0) + 1, sizeof(*ann));
	for (size_t i = 0; c != NULL && i < c->nannotations; i++) {
		ann[k].name = c->annotations[i].key;
		ann[k++].value = template_render(c->annotations[i].value, &td);
	}
	if (x->flapping)
		ann[k++] = (struct reeve_label){ "flapping", FLAPPING_NOTE };
	packed = expr_labels_pack(ann, k);
	for (size_t i = 0; c != NULL && i < c->nannotations; i++)
		free((char *)ann[i].value);
	free(ann);
	*n = k;
	return packed;
}

struct recon {
	struct dispatch *d;
	char (*fps)[17];
	size_t n;
};

static void
recon_one(void *arg, const struct rule_alert *x)
{
	struct recon *rc = arg;
	struct dispatch *d = rc->d;
	struct reeve_label *l;
	size_t n;
	char fp[17];

	if (!(x->state == RULE_FIRING || x->state == RULE_NODATA || x->flapping))
		return;
	l = alert_labels(x->rule, x->severity, x->labels, x->nlabels, &n, fp);
	rc->fps = xreallocarray(rc->fps, rc->n + 1, sizeof(*rc->fps));
	memcpy(rc->fps[rc->n++], fp, 17);
	if (find_alert(d, fp, NULL) == NULL) {
		struct dalert *a = xcalloc(1, sizeof(*a));

		memcpy(a->fp, fp, sizeof(a->fp));
		a->labels = l;
		a->nlabels = n;
		a->firing = 1;
		a->starts_at = isfinite(x->fired_at) ? x->fired_at : x->since;
		a->value = x->value;
		a->ann = reconciled_annotations(x, &a->nann);
		alert_insert(d, a);
		route_alert(d, a, d->now());
		d->dirty = 1;
		return;
	}
	free(l);
}

void
dispatch_reconcile(struct dispatch *d, const struct rule_set *rs)
{
	struct recon rc = { d, NULL, 0 };
	double now = d->now();

	pthread_mutex_lock(&d->lock);
	rule_foreach(rs, -1, recon_one, &rc);
	for (size_t i = 0; i < d->nalerts; i++) {
		struct dalert *a = d->alerts[i];
		size_t k;

		if (!a->firing)
			continue;
		for (k = 0; k < rc.n && strcmp(rc.fps[k], a->fp) != 0; k++)
			;
		if (k < rc.n)
			continue;
		a->firing = 0; /* it resolved while reeve was down */
		a->ends_at = now;
		route_alert(d, a, now);
		d->dirty = 1;
	}
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	free(rc.fps);
}

/* ---- flushing groups ---------------------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A hash of the fingerprints of n alerts (any order), 0 for none. */
static unsigned long long
set_hash(const struct notify_alert *al, size_t n)
{
	char **v = xcalloc(n ? n : 1, sizeof(*v));
	struct buf b = { 0 };
	unsigned long long h;

	for (size_t i = 0; i < n; i++)
		v[i] = (char *)al[i].fingerprint;
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		buf_puts(&b, v[i]);
	h = util_hash(b.data ? b.data : "", b.len);
	buf_free(&b);
	free(v);
	return n ? h : 0;
}

#define SELF_ALERT "ReeveNotificationsFailing"

/* Whether alert a is reeve's alert about receiver name failing. */
static int
about(const struct notify_alert *a, const char *name)
{
	const char *an = label_value(a->labels, a->nlabels, "alertname");
	const char *rv = label_value(a->labels, a->nlabels, "receiver");

	return an != NULL && strcmp(an, SELF_ALERT) == 0 && rv != NULL && strcmp(rv, name) == 0;
}

/* Every alert of the message is about receiver name failing. */
static int
about_only(const struct notify_alert *al, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!about(&al[i], name))
			return 0;
	return n > 0;
}

static int
about_any(const struct notify_alert *al, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (about(&al[i], name))
			return 1;
	return 0;
}

/* Render ng for receiver n (named name in messages) and hand it to the outbox: 0 or -1. */
static int
send_to(struct dispatch *d, const struct droute *r, struct dgroup *g,
    const struct cfg_notifier *n, const char *name, const char *what, struct notify_group *ng,
    const char *subject, unsigned long long fh, unsigned long long rh)
{
	const struct notifier_type *type = n ? notifier_type_of(n) : NULL;
	struct buf body = { 0 }, kb = { 0 };
	char key[40], err[512];
	int rc = 0;

	if (type == NULL || type->render == NULL) {
		log_warnx("route %s: receiver %s cannot be used", r->cfg->name, name);
		return 0;
	}
	/* the same message made again after a crash gets the same key */
	buf_printf(&kb, "%s|%s%s|%u|%llx|%llx", n->name, g->key, what, g->seq, fh, rh);
	snprintf(key, sizeof(key), "reeve-%016llx-%u", util_hash(kb.data, kb.len), g->seq);
	buf_free(&kb);
	ng->receiver = n->name;
	ng->key = key;
	if (type->render(n, ng, d->graph, &body, err, sizeof(err)) == -1) {
		log_warnx("route %s: cannot render the message for %s: %s", r->cfg->name, n->name,
		    err);
	} else if (outbox_put(d->outbox, n->name, key, subject, body.data, body.len, NULL, err,
	    sizeof(err)) == -1) {
		/* tried again every DISPATCH_PUT_RETRY: a full disk would repeat this for hours */
		static struct log_limit lim;
		unsigned long dropped;

		if (log_limit_allow(&lim, 60, &dropped))
			log_warnx("route %s: the outbox refused the message for %s: %s (tried again; "
			    "%lu more refusals not logged)", r->cfg->name, n->name, err, dropped);
		d->st.put_failures++;
		rc = -1;
	} else {
		d->st.messages++;
	}
	buf_free(&body);
	return rc;
}

/* Render the group for each receiver of its route and hand the messages to the outbox. */
static int
send_group(struct dispatch *d, const struct droute *r, struct dgroup *g, char *const *to,
    size_t nto, const char *what, struct notify_alert *al, size_t nal, size_t nfiring,
    unsigned long long fh, unsigned long long rh, double now)
{
	struct notify_group ng = { 0 };
	struct buf subject = { 0 };
	int rc = 0;
	size_t told = 0;

	if (nfiring > 0)
		buf_printf(&subject, "[FIRING:%zu", nfiring);
	if (nal > nfiring)
		buf_printf(&subject, "%s RESOLVED:%zu", nfiring ? "," : "[", nal - nfiring);
	buf_printf(&subject, "]%s ", what);
	for (size_t i = 0; i < g->nglabels; i++)
		buf_printf(&subject, "%s%s", i ? " " : "", g->glabels[i].value);
	ng.group_key = g->key;
	ng.group_labels = g->glabels;
	ng.ngroup_labels = g->nglabels;
	ng.alerts = al;
	ng.nalerts = nal;
	ng.nfiring = nfiring;
	ng.nresolved = nal - nfiring;
	ng.time = now;
	ng.external_url = d->cfg->external_url;
	ng.hostname = d->cfg->hostname;
	for (size_t i = 0; i < nto; i++) {
		const struct cfg_notifier *n = notifier_find(d->cfg, to[i]);

		if (n != NULL && about_only(al, nal, n->name))
			continue; /* a receiver is not told that it fails: it would not hear it */
		rc |= send_to(d, r, g, n, to[i], what, &ng, subject.data, fh, rh);
		told += n != NULL;
	}
	/* reeve's alert about a failing receiver goes to the others when its route has none */
	for (size_t i = 0; told == 0 && i < d->cfg->nnotifiers; i++) {
		const struct cfg_notifier *n = &d->cfg->notifiers[i];

		if (about_any(al, nal, n->name) || listed(to, nto, n->name))
			continue;
		rc |= send_to(d, r, g, n, n->name, what, &ng, subject.data, fh, rh);
	}
	buf_free(&subject);
	return rc;
}

static void
remove_group(struct dispatch *d, size_t i)
{
	group_free(d->groups[i]);
	d->groups[i] = d->groups[--d->ngroups];
}

/* Whether a maintenance window whose match selects a is open at now. */
static int
in_maintenance(const struct dispatch *d, const struct dalert *a, double now)
{
	for (size_t i = 0; i < d->nmaints; i++) {
		const struct dmaint *m = &d->maints[i];
		time_t start;

		if (m->cron == NULL || !expr_matches(m->m, m->nm, NULL, a->labels, a->nlabels))
			continue;
		/* the last opening at or before now, and whether it is still open */
		if (cron_prev_in(m->cron, m->tz, (time_t)now, &start) == 0 &&
		    now < (double)start + m->cfg->duration)
			return 1;
	}
	return 0;
}

/*
 * Whether alert a is inhibited: an [inhibit] whose target_match selects it has a firing
 * source (another alert its source_match selects) with the same values of its equal labels.
 */
static int
inhibited(const struct dispatch *d, const struct dalert *a)
{
	for (size_t i = 0; i < d->ninhibits; i++) {
		const struct dinhibit *h = &d->inhibits[i];

		if (!expr_matches(h->tm, h->ntm, NULL, a->labels, a->nlabels))
			continue;
		for (size_t j = 0; j < d->nalerts; j++) {
			const struct dalert *src = d->alerts[j];
			size_t k;

			if (src == a || !src->firing ||
			    !expr_matches(h->sm, h->nsm, NULL, src->labels, src->nlabels))
				continue;
			for (k = 0; k < h->cfg->nequal; k++) {
				const char *x = label_value(a->labels, a->nlabels, h->cfg->equal[k]);
				const char *y = label_value(src->labels, src->nlabels, h->cfg->equal[k]);

				if (strcmp(x ? x : "", y ? y : "") != 0)
					break;
			}
			if (k == h->cfg->nequal)
				return 1;
		}
	}
	return 0;
}

/* Whether a firing alert is left out of messages now: silenced, inhibited, in maintenance. */
static int
muted(struct dispatch *d, const struct dalert *a, double now)
{
	return (d->silences != NULL &&
	    silences_match(d->silences, SILENCE_MUTE, a->labels, a->nlabels, now, NULL)) ||
	    in_maintenance(d, a, now) || inhibited(d, a);
}

static int
acked(struct dispatch *d, const struct dalert *a, double now)
{
	return d->silences != NULL &&
	    silences_match(d->silences, SILENCE_ACK, a->labels, a->nlabels, now, NULL);
}

static void
fill(struct notify_alert *x, const struct dalert *a)
{
	x->labels = a->labels;
	x->nlabels = a->nlabels;
	x->annotations = a->ann;
	x->nannotations = a->nann;
	x->firing = a->firing;
	x->starts_at = a->starts_at;
	x->ends_at = a->ends_at;
	x->value = a->value;
	x->fingerprint = a->fp;
	x->metrics = (const char *const *)a->metrics;
	x->nmetrics = a->nmetrics;
}

/*
 * Escalation: firing alerts of g, not muted and not acknowledged, that fired at least
 * escalate_after ago and were not escalated yet go to escalate_to in one message. Returns
 * the time the next one becomes due (0: none).
 */
static double
escalate(struct dispatch *d, const struct droute *r, struct dgroup *g, double now)
{
	struct notify_alert *al;
	struct dalert **picked;
	size_t n = 0;
	double next = 0;

	if (r->cfg->escalate_to == NULL)
		return 0;
	al = xcalloc(g->nfps ? g->nfps : 1, sizeof(*al));
	picked = xcalloc(g->nfps ? g->nfps : 1, sizeof(*picked));
	for (size_t i = 0; i < g->nfps; i++) {
		struct dalert *a = find_alert(d, g->fps[i], NULL);
		double due;

		if (a == NULL || !a->firing || a->escalated || muted(d, a, now) || acked(d, a, now))
			continue;
		due = a->starts_at + r->cfg->escalate_after;
		if (due > now) {
			if (next == 0 || due < next)
				next = due;
			continue;
		}
		fill(&al[n], a);
		picked[n++] = a;
	}
	if (n > 0 && send_group(d, r, g, &r->cfg->escalate_to, 1, " (escalated)", al, n, n,
	    set_hash(al, n), 0, now) == 0) {
		for (size_t i = 0; i < n; i++)
			picked[i]->escalated = 1;
		d->st.escalations++;
		d->dirty = 1;
	} else if (n > 0) {
		next = now + DISPATCH_PUT_RETRY;
	}
	free(al);
	free(picked);
	return next;
}

/* Look at group i at now: send what is due. Returns 1 when it was removed. */
static int
flush_group(struct dispatch *d, size_t gi, double now)
{
	struct dgroup *g = d->groups[gi];
	const struct droute *r = route_named(d, g->route);
	struct notify_alert *al;
	struct dalert **inc, **owed;
	size_t nal = 0, nfiring = 0, nres = 0, nacked = 0, nowed = 0;
	unsigned long long fh, rh;
	int send, repeat, any_muted = 0, has_new = 0;
	double esc;

	if (r == NULL) {
		remove_group(d, gi);
		return 1;
	}
	al = xcalloc(g->nfps ? g->nfps : 1, sizeof(*al));
	inc = xcalloc(g->nfps ? g->nfps : 1, sizeof(*inc));
	owed = xcalloc(g->nfps ? g->nfps : 1, sizeof(*owed));
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = 0; i < g->nfps; i++) {
			struct dalert *a = find_alert(d, g->fps[i], NULL);

			if (a == NULL || a->firing != pass)
				continue;
			if (pass && muted(d, a, now)) {
				any_muted = 1;
				/* told as firing before: left out now, its end is still owed */
				if (listed(g->sent, g->nsent, a->fp))
					owed[nowed++] = a;
				continue;
			}
			if (!pass && !listed(g->sent, g->nsent, a->fp))
				continue; /* its firing was never told here: neither is its end */
			has_new |= pass && !listed(g->sent, g->nsent, a->fp);
			nacked += pass && acked(d, a, now);
			fill(&al[nal], a);
			inc[nal++] = a;
			nfiring += pass;
			nres += !pass;
		}
	fh = set_hash(al, nfiring);
	rh = set_hash(al + nfiring, nres);
	/* acknowledged alerts are not repeated; changes are still told */
	repeat = nfiring > 0 && now - g->last_sent >= r->cfg->repeat_interval && nacked < nfiring;
	/* as Alertmanager: a new firing alert or a resolved one is told; fewer firing is not */
	send = nres > 0 || (nfiring > 0 && has_new) || repeat;
	/*
	 * A change waits for group_interval since the last message, also when the group is
	 * looked at sooner (every DISPATCH_MUTE_RECHECK while it has muted alerts, or for an
	 * escalation): nothing leaves the group, it is told then.
	 */
	if (send && !repeat && g->last_sent > 0 && now < g->last_sent + r->cfg->group_interval) {
		free(al);
		free(inc);
		free(owed);
		g->next_flush = g->last_sent + r->cfg->group_interval;
		esc = escalate(d, r, g, now);
		if (esc > 0 && esc < g->next_flush)
			g->next_flush = esc;
		return 0;
	}
	if (send && send_group(d, r, g, r->cfg->notify, r->cfg->nnotify, "", al, nal, nfiring,
	    fh, rh, now) == -1) {
		free(al);
		free(inc);
		free(owed);
		g->next_flush = now + DISPATCH_PUT_RETRY;
		return 0;
	}
	if (send) {
		g->seq++;
		g->last_sent = now;
		strings_free(g->sent, g->nsent);
		g->sent = xcalloc(nfiring + nowed ? nfiring + nowed : 1, sizeof(*g->sent));
		for (size_t i = 0; i < nfiring; i++)
			g->sent[i] = xstrdup(inc[i]->fp);
		for (size_t i = 0; i < nowed; i++)
			g->sent[nfiring + i] = xstrdup(owed[i]->fp);
		g->nsent = nfiring + nowed;
	}
	free(al);
	free(inc);
	free(owed);
	/* resolved alerts leave the group: told now, or never told */
	for (size_t i = 0; i < g->nfps;) {
		const struct dalert *a = find_alert(d, g->fps[i], NULL);

		if (a == NULL || !a->firing) {
			for (size_t k = 0; k < g->nsent; k++)
				if (strcmp(g->sent[k], g->fps[i]) == 0) {
					free(g->sent[k]);
					g->sent[k] = g->sent[--g->nsent];
					break;
				}
			free(g->fps[i]);
			g->fps[i] = g->fps[--g->nfps];
			d->dirty = 1;
		} else {
			i++;
		}
	}
	if (g->nfps == 0) {
		remove_group(d, gi);
		d->orphans = 1;
		return 1;
	}
	if (send)
		d->dirty = 1;
	esc = escalate(d, r, g, now);
	/* looked at again at the next repeat, when something changes, or to escalate */
	g->next_flush = (g->last_sent > 0 ? g->last_sent : now) + r->cfg->repeat_interval;
	if (any_muted && now + DISPATCH_MUTE_RECHECK < g->next_flush)
		g->next_flush = now + DISPATCH_MUTE_RECHECK;
	/* a repeat held back (its alerts acknowledged or muted) is due again when they end */
	if (g->next_flush <= now)
		g->next_flush = now + DISPATCH_MUTE_RECHECK;
	if (esc > 0 && esc < g->next_flush)
		g->next_flush = esc;
	d->orphans = 1;
	return 0;
}

/* ---- state ------------------------------------------------------------------------------------- */

static cJSON *
labels_json(const struct reeve_label *l, size_t n)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++)
		cJSON_AddStringToObject(o, l[i].name, l[i].value);
	return o;
}

static struct reeve_label *
json_labels(const cJSON *o, size_t *n)
{
	const cJSON *it;
	struct reeve_label *l, *packed;
	size_t k = 0;

	*n = (size_t)cJSON_GetArraySize(o);
	l = xcalloc(*n ? *n : 1, sizeof(*l));
	cJSON_ArrayForEach(it, o) {
		if (!cJSON_IsString(it) || it->string == NULL || k == *n)
			continue;
		l[k++] = (struct reeve_label){ it->string, it->valuestring };
	}
	*n = k;
	packed = expr_labels_pack(l, k);
	free(l);
	return packed;
}

static void
save_state(struct dispatch *d)
{
	cJSON *root = cJSON_CreateObject(), *alerts, *groups;
	char *text;

	cJSON_AddNumberToObject(root, "version", DISPATCH_STATE_VERSION);
	alerts = cJSON_AddArrayToObject(root, "alerts");
	for (size_t i = 0; i < d->nalerts; i++) {
		const struct dalert *a = d->alerts[i];
		cJSON *o = cJSON_CreateObject(), *m;

		cJSON_AddItemToObject(o, "labels", labels_json(a->labels, a->nlabels));
		cJSON_AddItemToObject(o, "annotations", labels_json(a->ann, a->nann));
		m = cJSON_AddArrayToObject(o, "metrics");
		for (size_t j = 0; j < a->nmetrics; j++)
			cJSON_AddItemToArray(m, cJSON_CreateString(a->metrics[j]));
		cJSON_AddBoolToObject(o, "firing", a->firing);
		cJSON_AddBoolToObject(o, "escalated", a->escalated);
		cJSON_AddNumberToObject(o, "starts_at", a->starts_at);
		cJSON_AddNumberToObject(o, "ends_at", a->ends_at);
		if (isfinite(a->value))
			cJSON_AddNumberToObject(o, "value", a->value);
		cJSON_AddItemToArray(alerts, o);
	}
	groups = cJSON_AddArrayToObject(root, "groups");
	for (size_t i = 0; i < d->ngroups; i++) {
		const struct dgroup *g = d->groups[i];
		cJSON *o = cJSON_CreateObject(), *f;

		cJSON_AddStringToObject(o, "route", g->route);
		cJSON_AddItemToObject(o, "labels", labels_json(g->glabels, g->nglabels));
		f = cJSON_AddArrayToObject(o, "alerts");
		for (size_t j = 0; j < g->nfps; j++)
			cJSON_AddItemToArray(f, cJSON_CreateString(g->fps[j]));
		cJSON_AddNumberToObject(o, "next_flush", g->next_flush);
		cJSON_AddNumberToObject(o, "last_sent", g->last_sent);
		f = cJSON_AddArrayToObject(o, "sent");
		for (size_t j = 0; j < g->nsent; j++)
			cJSON_AddItemToArray(f, cJSON_CreateString(g->sent[j]));
		cJSON_AddNumberToObject(o, "seq", g->seq);
		cJSON_AddItemToArray(groups, o);
	}
	if ((text = cJSON_PrintUnformatted(root)) == NULL ||
	    util_write_file_atomic(d->state_path, NULL, text, strlen(text)) == -1) {
		/* tried again at every look (each second or sooner): rate-limited */
		static struct log_limit lim;
		unsigned long dropped;
		int e = errno;

		if (log_limit_allow(&lim, 60, &dropped)) {
			errno = e;
			log_warn("notifications: cannot save %s (kept in memory, tried again; "
			    "%lu more failures not logged)", d->state_path, dropped);
		}
	} else
		d->dirty = 0;
	cJSON_free(text);
	cJSON_Delete(root);
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Read the saved state; a missing file is no error, a bad one is set aside. */
static void
load_state(struct dispatch *d)
{
	FILE *fp = fopen(d->state_path, "rb");
	struct buf b = { 0 };
	char chunk[8192];
	size_t n;
	cJSON *root;
	const cJSON *it;

	if (fp == NULL)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	root = cJSON_ParseWithLengthOpts(b.data ? b.data : "", b.len, NULL, 0);
	if (root == NULL || num(root, "version") != DISPATCH_STATE_VERSION) {
		char *aside = xasprintf("%s.bad", d->state_path);

		log_warnx("notifications: %s is unreadable: moved to %s", d->state_path, aside);
		rename(d->state_path, aside);
		free(aside);
		goto out;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "alerts")) {
		const cJSON *m, *x;
		struct dalert *a = xcalloc(1, sizeof(*a));
		struct buf text = { 0 };

		a->labels = json_labels(cJSON_GetObjectItemCaseSensitive(it, "labels"), &a->nlabels);
		qsort(a->labels, a->nlabels, sizeof(*a->labels), cmp_label);
		labels_text(&text, a->labels, a->nlabels);
		snprintf(a->fp, sizeof(a->fp), "%016llx", util_hash(text.data, text.len));
		buf_free(&text);
		a->ann = json_labels(cJSON_GetObjectItemCaseSensitive(it, "annotations"), &a->nann);
		m = cJSON_GetObjectItemCaseSensitive(it, "metrics");
		a->metrics = xcalloc((size_t)cJSON_GetArraySize(m) + 1, sizeof(*a->metrics));
		cJSON_ArrayForEach(x, m)
			if (cJSON_IsString(x))
				a->metrics[a->nmetrics++] = xstrdup(x->valuestring);
		a->firing = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "firing"));
		a->escalated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "escalated"));
		a->starts_at = num(it, "starts_at");
		a->ends_at = num(it, "ends_at");
		a->value = cJSON_GetObjectItemCaseSensitive(it, "value") ? num(it, "value") : NAN;
		if (a->nlabels == 0 || find_alert(d, a->fp, NULL) != NULL) {
			alert_free(a);
			continue;
		}
		alert_insert(d, a);
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "groups")) {
		const cJSON *route = cJSON_GetObjectItemCaseSensitive(it, "route"), *x;
		struct dgroup *g;
		struct buf key = { 0 };

		if (!cJSON_IsString(route))
			continue;
		g = xcalloc(1, sizeof(*g));
		g->route = xstrdup(route->valuestring);
		g->glabels = json_labels(cJSON_GetObjectItemCaseSensitive(it, "labels"), &g->nglabels);
		qsort(g->glabels, g->nglabels, sizeof(*g->glabels), cmp_label);
		buf_puts(&key, g->route);
		labels_text(&key, g->glabels, g->nglabels);
		g->key = buf_steal(&key);
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "alerts"))
			if (cJSON_IsString(x) && find_alert(d, x->valuestring, NULL) != NULL) {
				g->fps = xreallocarray(g->fps, g->nfps + 1, sizeof(*g->fps));
				g->fps[g->nfps++] = xstrdup(x->valuestring);
			}
		g->next_flush = num(it, "next_flush");
		g->last_sent = num(it, "last_sent");
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "sent"))
			if (cJSON_IsString(x)) {
				g->sent = xreallocarray(g->sent, g->nsent + 1, sizeof(*g->sent));
				g->sent[g->nsent++] = xstrdup(x->valuestring);
			}
		g->seq = (unsigned)num(it, "seq");
		if (find_group(d, g->key) != NULL) {
			group_free(g);
			continue;
		}
		d->groups = xreallocarray(d->groups, d->ngroups + 1, sizeof(*d->groups));
		d->groups[d->ngroups++] = g;
	}
	log_info("notifications: %zu alerts in %zu groups restored from %s", d->nalerts,
	    d->ngroups, d->state_path);
out:
	cJSON_Delete(root);
	buf_free(&b);
}

/* ---- routes, thread, life ---------------------------------------------------------------------- */

static void
routes_free(struct droute *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].m != NULL)
			expr_matchers_free(r[i].m, r[i].nm);
	free(r);
}

static struct droute *
routes_new(const struct cfg *cfg, size_t *n)
{
	struct droute *r = xcalloc(cfg->nroutes ? cfg->nroutes : 1, sizeof(*r));
	char err[256];

	for (size_t i = 0; i < cfg->nroutes; i++) {
		r[i].cfg = &cfg->routes[i];
		/* checked at load (cfg_check_matchers): parsing cannot fail here */
		if (cfg->routes[i].match.text != NULL &&
		    expr_parse_matchers(cfg->routes[i].match.text, &r[i].m, &r[i].nm, err,
		    sizeof(err)) == -1)
			log_warnx("route %s: %s", cfg->routes[i].name, err);
	}
	*n = cfg->nroutes;
	return r;
}

/* The matchers of [inhibit] and [maintenance] sections (checked at load: no failure here). */
static void
mutes_new(struct dispatch *d, const struct cfg *cfg)
{
	char err[256];

	d->inhibits = xcalloc(cfg->ninhibits ? cfg->ninhibits : 1, sizeof(*d->inhibits));
	for (size_t i = 0; i < cfg->ninhibits; i++) {
		struct dinhibit *h = &d->inhibits[d->ninhibits];

		h->cfg = &cfg->inhibits[i];
		if (expr_parse_matchers(h->cfg->source.text, &h->sm, &h->nsm, err, sizeof(err)) == -1 ||
		    expr_parse_matchers(h->cfg->target.text, &h->tm, &h->ntm, err, sizeof(err)) == -1) {
			log_warnx("inhibit %s: %s", h->cfg->name, err);
			if (h->sm != NULL)
				expr_matchers_free(h->sm, h->nsm);
			continue;
		}
		d->ninhibits++;
	}
	d->maints = xcalloc(cfg->nmaintenances ? cfg->nmaintenances : 1, sizeof(*d->maints));
	for (size_t i = 0; i < cfg->nmaintenances; i++) {
		struct dmaint *m = &d->maints[d->nmaints];

		m->cfg = &cfg->maintenances[i];
		if ((m->cron = cron_parse(m->cfg->schedule, err, sizeof(err))) == NULL ||
		    (m->tz = tz_load(m->cfg->timezone, err, sizeof(err))) == NULL ||
		    expr_parse_matchers(m->cfg->match.text, &m->m, &m->nm, err, sizeof(err)) == -1) {
			log_warnx("maintenance %s: %s", m->cfg->name, err);
			cron_free(m->cron);
			tz_free(m->tz);
			continue;
		}
		d->nmaints++;
	}
}

static void
mutes_free(struct dispatch *d)
{
	for (size_t i = 0; i < d->ninhibits; i++) {
		expr_matchers_free(d->inhibits[i].sm, d->inhibits[i].nsm);
		expr_matchers_free(d->inhibits[i].tm, d->inhibits[i].ntm);
	}
	free(d->inhibits);
	for (size_t i = 0; i < d->nmaints; i++) {
		cron_free(d->maints[i].cron);
		tz_free(d->maints[i].tz);
		expr_matchers_free(d->maints[i].m, d->maints[i].nm);
	}
	free(d->maints);
	d->inhibits = NULL;
	d->maints = NULL;
	d->ninhibits = d->nmaints = 0;
}

/* Alerts in no group (their routes changed): routed again. */
static void
route_orphans(struct dispatch *d)
{
	double now = d->now();

	for (size_t i = 0; i < d->ngroups;) {
		if (route_named(d, d->groups[i]->route) == NULL)
			remove_group(d, i);
		else
			i++;
	}
	mark_held(d);
	for (size_t i = 0; i < d->nalerts; i++)
		if (!d->alerts[i]->held)
			route_alert(d, d->alerts[i], now);
	drop_unreferenced(d);
}

/* One look at every group at now (lock held): send what is due, save what changed. */
static double
tick(struct dispatch *d, double now)
{
	double next = now + DISPATCH_TICK;

	if (d->held)
		return next; /* a round of rules is under way: its end wakes the thread */
	if (d->silences != NULL)
		silences_refresh(d->silences); /* `reeve silence` may have changed them */
	for (size_t i = 0; i < d->ngroups;) {
		struct dgroup *g = d->groups[i];

		if (g->next_flush != 0 && g->next_flush <= now && flush_group(d, i, now))
			continue;
		if (g->next_flush != 0 && g->next_flush < next)
			next = g->next_flush;
		i++;
	}
	if (d->orphans)
		drop_unreferenced(d);
	if (d->dirty)
		save_state(d); /* once per look, not per transition */
	return next;
}

double
dispatch_tick(struct dispatch *d)
{
	double next;

	pthread_mutex_lock(&d->lock);
	next = tick(d, d->now());
	pthread_mutex_unlock(&d->lock);
	return next;
}

void
dispatch_set_clock(struct dispatch *d, double (*now)(void))
{
	pthread_mutex_lock(&d->lock);
	d->now = now != NULL ? now : util_now;
	pthread_mutex_unlock(&d->lock);
}

static void *
dispatch_main(void *arg)
{
	struct dispatch *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		double now = d->now(), next = tick(d, now);
		struct timespec ts;

		/* the wait is on the wall clock, which d->now is outside of tests */
		if (next < now + 0.01)
			next = now + 0.01;
		ts.tv_sec = (time_t)next;
		ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	}
	if (d->dirty)
		save_state(d);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct dispatch *
dispatch_new(const struct cfg *cfg, const struct dispatch_params *p, char *err, size_t errlen)
{
	struct dispatch *d = xcalloc(1, sizeof(*d));
	char *dir = xasprintf("%s/alerts", p->data_dir);

	if (util_mkdir_p(dir) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		free(d);
		return NULL;
	}
	d->state_path = xasprintf("%s/notify-state.json", dir);
	d->now = util_now;
	free(dir);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	d->cfg = cfg;
	d->outbox = p->outbox;
	d->graph = p->graph;
	d->silences = p->silences;
	d->routes = routes_new(cfg, &d->nroutes);
	mutes_new(d, cfg);
	load_state(d);
	route_orphans(d);
	return d;
}

int
dispatch_start(struct dispatch *d)
{
	if (pthread_create(&d->thread, NULL, dispatch_main, d) != 0)
		return -1;
	d->started = 1;
	return 0;
}

void
dispatch_reload(struct dispatch *d, const struct cfg *cfg)
{
	pthread_mutex_lock(&d->lock);
	routes_free(d->routes, d->nroutes);
	mutes_free(d);
	d->cfg = cfg;
	d->routes = routes_new(cfg, &d->nroutes);
	mutes_new(d, cfg);
	route_orphans(d);
	d->dirty = 1;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

char *
dispatch_alert_matchers(struct dispatch *d, const char *fp)
{
	struct dalert *a;
	char *text = NULL;

	pthread_mutex_lock(&d->lock);
	if ((a = find_alert(d, fp, NULL)) != NULL) {
		struct expr_matcher *m = xcalloc(a->nlabels ? a->nlabels : 1, sizeof(*m));
		struct buf b = { 0 };

		for (size_t i = 0; i < a->nlabels; i++) {
			m[i].name = a->labels[i].name;
			m[i].op = EXPR_MATCH_EQ;
			m[i].value = a->labels[i].value;
		}
		expr_format_matchers(m, a->nlabels, &b);
		text = buf_steal(&b);
		free(m);
	}
	pthread_mutex_unlock(&d->lock);
	return text;
}

void
dispatch_hold(struct dispatch *d, int on)
{
	pthread_mutex_lock(&d->lock);
	d->held += on ? 1 : -1;
	if (d->held == 0)
		pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

void
dispatch_get_stats(struct dispatch *d, struct dispatch_stats *st)
{
	pthread_mutex_lock(&d->lock);
	*st = d->st;
	st->alerts = d->nalerts;
	st->groups = d->ngroups;
	pthread_mutex_unlock(&d->lock);
}

void
dispatch_free(struct dispatch *d)
{
	if (d == NULL)
		return;
	if (d->started) {
		pthread_mutex_lock(&d->lock);
		d->stopping = 1;
		pthread_cond_signal(&d->wake);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thread, NULL);
	}
	for (size_t i = 0; i < d->nalerts; i++)
		alert_free(d->alerts[i]);
	free(d->alerts);
	for (size_t i = 0; i < d->ngroups; i++)
		group_free(d->groups[i]);
	free(d->groups);
	routes_free(d->routes, d->nroutes);
	mutes_free(d);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->wake);
	free(d->state_path);
	free(d);
}
