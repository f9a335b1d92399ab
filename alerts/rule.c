/* rule.c: the alert state machine: pending, firing, resolved, hysteresis, no data, flapping. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "rule.h"
#include "template.h"
#include "util.h"

#define RULE_STATE_VERSION 1
#define RULE_STATE_MAX_FILE (256u << 20) /* bytes of a state file we are willing to read */

/*
 * One alert instance: a label set of one rule. Times are seconds on the caller's clock,
 * NAN when unset (JSON null in the state file).
 */
struct inst {
	char *key;                  /* canonical label text: the hash key */
	size_t keylen;
	unsigned long long hash;    /* util_hash of key */
	struct reeve_label *labels; /* sorted by name, strings owned */
	unsigned char *ext;         /* per label: 1 when [reeve] labels.* gave it (see relabel) */
	size_t nlabels;
	enum rule_state state;      /* never RULE_FLAPPING */
	double since;               /* when state was entered (pending since, for PENDING) */
	double fired_at;            /* when it last started firing */
	double value;               /* the last value the expression gave it */
	double clear_since;         /* firing: since when it may resolve (keep_firing_for) */
	double nodata_since;        /* since when its data is missing */
	int flapping;
	double flap_since;          /* when flapping started */
	double last_change;         /* the last state change (settling is measured from it) */
	double *changes;            /* times of recent changes, oldest first, within flap_window */
	size_t nchanges;
	int nodata_only;            /* made for "the rule has no data at all", never seen in data */
	unsigned seen_expr, seen_recover, seen_data; /* == the rule's gen: seen this round */
	double expr_value;
	struct inst *next;          /* hash chain */
};

struct rule {
	const struct cfg_alert *cfg;  /* borrowed from the rule set's cfg */
	struct reeve_label *labels;   /* labels.*, sorted; strings borrowed from cfg */
	size_t nlabels;
	struct inst **buckets;
	size_t nbuckets, ninst;
	unsigned gen;
	double last_t;                /* the last evaluation time, NAN before the first */
};

struct rule_set {
	struct rule *rules;
	size_t n;
	struct reeve_label *ext;      /* [reeve] labels.*, sorted; strings borrowed from cfg */
	size_t next;
	void (*sink)(void *arg, const struct rule_event *ev);
	void *sink_arg;
};

static const char *const state_names[] = {
	"inactive", "pending", "firing", "resolved", "nodata", "flapping",
};

const char *
rule_state_name(enum rule_state s)
{
	if ((size_t)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[s];
}

int
rule_state_parse(const char *s, enum rule_state *out)
{
	size_t i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum rule_state)i;
			return 0;
		}
	}
	return -1;
}

/* ---- rule sets ------------------------------------------------------------------------- */

struct rule_set *
rule_set_new(const struct cfg *cfg)
{
	struct rule_set *rs = xcalloc(1, sizeof(*rs));
	size_t i, j;

	rs->n = cfg->nalerts;
	rs->rules = xcalloc(rs->n ? rs->n : 1, sizeof(*rs->rules));
	rs->next = cfg->nlabels;
	rs->ext = xcalloc(cfg->nlabels ? cfg->nlabels : 1, sizeof(*rs->ext));
	for (i = 0; i < cfg->nlabels; i++) { /* cfg keeps them sorted by key */
		rs->ext[i].name = cfg->labels[i].key;
		rs->ext[i].value = cfg->labels[i].value;
	}
	for (i = 0; i < rs->n; i++) {
		struct rule *r = &rs->rules[i];
		const struct cfg_alert *a = &cfg->alerts[i];

		r->cfg = a;
		r->nlabels = a->nlabels;
		r->labels = xcalloc(a->nlabels ? a->nlabels : 1, sizeof(*r->labels));
		for (j = 0; j < a->nlabels; j++) { /* cfg keeps them sorted by key */
			r->labels[j].name = a->labels[j].key;
			r->labels[j].value = a->labels[j].value;
		}
		r->nbuckets = 16;
		r->buckets = xcalloc(r->nbuckets, sizeof(*r->buckets));
		r->last_t = NAN;
	}
	return rs;
}

/* Free an instance's label array and its strings. */
static void
labels_free(struct reeve_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)l[i].name);
		free((char *)l[i].value);
	}
	free(l);
}

static void
inst_free(struct inst *x)
{
	labels_free(x->labels, x->nlabels);
	free(x->ext);
	free(x->key);
	free(x->changes);
	free(x);
}

static void
rule_clear(struct rule *r)
{
	size_t b;

	for (b = 0; b < r->nbuckets; b++) {
		struct inst *x = r->buckets[b], *next;

		for (; x != NULL; x = next) {
			next = x->next;
			inst_free(x);
		}
		r->buckets[b] = NULL;
	}
	r->ninst = 0;
}

void
rule_set_free(struct rule_set *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++) {
		rule_clear(&rs->rules[i]);
		free(rs->rules[i].buckets);
		free(rs->rules[i].labels);
	}
	free(rs->rules);
	free(rs->ext);
	free(rs);
}

void
rule_set_sink(struct rule_set *rs, void (*sink)(void *arg, const struct rule_event *ev),
    void *arg)
{
	rs->sink = sink;
	rs->sink_arg = arg;
}

size_t
rule_count(const struct rule_set *rs)
{
	return rs->n;
}

long
rule_find(const struct rule_set *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->rules[i].cfg->name, name) == 0)
			return (long)i;
	return -1;
}

int
rule_has_recover(const struct rule_set *rs, size_t i)
{
	return rs->rules[i].cfg->recover.text != NULL;
}

/* ---- instances: label sets and the hash table -------------------------------------------- */

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

/* Label sets up to this size are merged on the stack (one evaluation merges many). */
#define MERGE_STACK 32

/*
 * Merge three label lists, each sorted by name, into out (room for nb + nover + next labels;
 * borrowed strings), each name once: over's label wins, then base's (the first of a name
 * base repeats), and ext's is added only where neither has the name. flags[i] says whether
 * out[i] came from ext. Returns the number of labels.
 */
static size_t
merge3(const struct reeve_label *base, size_t nb, const struct reeve_label *over, size_t nover,
    const struct reeve_label *ext, size_t next, struct reeve_label *out, unsigned char *flags)
{
	size_t i = 0, j = 0, k = 0, n = 0;

	while (i < nb || j < nover || k < next) {
		const char *name = i < nb ? base[i].name : NULL;

		if (j < nover && (name == NULL || strcmp(over[j].name, name) < 0))
			name = over[j].name;
		if (k < next && (name == NULL || strcmp(ext[k].name, name) < 0))
			name = ext[k].name;
		flags[n] = 0;
		if (j < nover && strcmp(over[j].name, name) == 0) {
			out[n++] = over[j++];
		} else if (i < nb && strcmp(base[i].name, name) == 0) {
			out[n++] = base[i];
		} else {
			flags[n] = 1;
			out[n++] = ext[k];
		}
		while (i < nb && strcmp(base[i].name, name) == 0)
			i++;
		if (k < next && strcmp(ext[k].name, name) == 0)
			k++;
	}
	return n;
}

/* The canonical text of a sorted label set, the instance's hash key, into key (reset first). */
static void
put_key(struct buf *key, const struct reeve_label *l, size_t n)
{
	buf_reset(key);
	buf_puts(key, "");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(key, ',');
		buf_puts(key, l[i].name);
		buf_putc(key, '=');
		buf_json_string(key, l[i].value);
	}
}

/*
 * The labels of an instance, the one place they are made: the sample's (without __name__),
 * sorted, with the rule's labels.* over them and the external labels ([reeve] labels.*)
 * added where neither has the name. Into out and flags (room for ns + r->nlabels + rs->next;
 * borrowed strings; flags as merge3's). Returns their number, with the canonical key in key.
 */
static size_t
merge_labels(const struct rule_set *rs, const struct rule *r, const struct reeve_label *sl,
    size_t ns, struct reeve_label *out, unsigned char *flags, struct buf *key)
{
	struct reeve_label stack[MERGE_STACK];
	struct reeve_label *tmp = ns <= MERGE_STACK ? stack : xcalloc(ns, sizeof(*tmp));
	size_t nt = 0, i, n;
	int sorted = 1;

	for (i = 0; i < ns; i++)
		if (strcmp(sl[i].name, "__name__") != 0) {
			if (nt > 0 && strcmp(tmp[nt - 1].name, sl[i].name) > 0)
				sorted = 0;
			tmp[nt++] = sl[i];
		}
	if (!sorted)
		qsort(tmp, nt, sizeof(*tmp), cmp_label);
	/* NULL when empty: gcc takes an untouched stack array for an uninitialized read */
	n = merge3(nt > 0 ? tmp : NULL, nt, r->labels, r->nlabels, rs->ext, rs->next, out,
	    flags);
	if (tmp != stack)
		free(tmp);
	put_key(key, out, n);
	return n;
}

static unsigned long long
key_hash(const struct buf *key)
{
	return util_hash(key->data, key->len);
}

/* The instance of key (len bytes; hash is its util_hash, computed once by the caller), or NULL. */
static struct inst *
inst_lookup(const struct rule *r, const char *key, size_t len, unsigned long long hash)
{
	struct inst *x;

	for (x = r->buckets[hash % r->nbuckets]; x != NULL; x = x->next)
		if (x->hash == hash && x->keylen == len && memcmp(x->key, key, len) == 0)
			return x;
	return NULL;
}

static void
rehash(struct rule *r)
{
	size_t nb = r->nbuckets * 2, b;
	struct inst **nbk = xcalloc(nb, sizeof(*nbk));

	for (b = 0; b < r->nbuckets; b++) {
		struct inst *x = r->buckets[b], *next;

		for (; x != NULL; x = next) {
			size_t h = (size_t)(x->hash % nb);

			next = x->next;
			x->next = nbk[h];
			nbk[h] = x;
		}
	}
	free(r->buckets);
	r->buckets = nbk;
	r->nbuckets = nb;
}

/* Put x (its hash set) into r's table. */
static void
inst_link(struct rule *r, struct inst *x)
{
	size_t h;

	if (r->ninst >= r->nbuckets)
		rehash(r);
	h = (size_t)(x->hash % r->nbuckets);
	x->next = r->buckets[h];
	r->buckets[h] = x;
	r->ninst++;
}

/* Take x out of r's table (it is not freed). */
static void
inst_unlink(struct rule *r, struct inst *x)
{
	struct inst **pp = &r->buckets[x->hash % r->nbuckets];

	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	x->next = NULL;
	r->ninst--;
}

/*
 * Give x copies of labels (n of them, sorted; flags as merge3's, NULL: none external) and
 * key, freeing the ones it had after the copies are made (labels may point into them).
 */
static void
inst_set_labels(struct inst *x, const struct buf *key, const struct reeve_label *labels,
    const unsigned char *flags, size_t n)
{
	struct reeve_label *l = xcalloc(n ? n : 1, sizeof(*l));
	unsigned char *ext = xcalloc(n ? n : 1, 1);
	size_t i;

	for (i = 0; i < n; i++) {
		l[i].name = xstrdup(labels[i].name);
		l[i].value = xstrdup(labels[i].value);
		ext[i] = flags != NULL && flags[i];
	}
	labels_free(x->labels, x->nlabels);
	free(x->ext);
	free(x->key);
	x->labels = l;
	x->ext = ext;
	x->nlabels = n;
	x->key = xstrdup(key->data);
	x->keylen = key->len;
	x->hash = key_hash(key);
}

/* A new inactive instance of key (hash: key_hash(key)) with copies of labels, in the table. */
static struct inst *
inst_add(struct rule *r, const struct buf *key, const struct reeve_label *labels,
    const unsigned char *flags, size_t n, double t)
{
	struct inst *x = xcalloc(1, sizeof(*x));

	inst_set_labels(x, key, labels, flags, n);
	x->state = RULE_INACTIVE;
	x->since = t;
	x->fired_at = x->value = x->clear_since = x->nodata_since = NAN;
	x->flap_since = x->last_change = x->expr_value = NAN;
	inst_link(r, x);
	return x;
}

static void
inst_remove(struct rule *r, struct inst *x)
{
	inst_unlink(r, x);
	inst_free(x);
}

/*
 * Give every instance of r the external labels of rs as they are now, after a reload or a
 * restart that changed them: its own labels (the series' and the rule's) stay, those that
 * [reeve] labels.* gave it go, and the current ones are added where it has no label of the
 * name. Its state stays with it under the new label set. Two instances that end up with the
 * same labels: the one found first keeps them, the other is dropped (logged). Returns how
 * many instances changed their labels.
 */
static size_t
relabel(const struct rule_set *rs, struct rule *r)
{
	struct inst *moved = NULL, *x, *next;
	struct buf key = { 0 };
	size_t changed = 0, b, i;

	for (b = 0; b < r->nbuckets; b++) {
		for (x = r->buckets[b]; x != NULL; x = next) {
			size_t room = x->nlabels + rs->next + 1, no = 0, nm;
			struct reeve_label *own = xcalloc(room, sizeof(*own));
			struct reeve_label *m = xcalloc(room, sizeof(*m));
			unsigned char *flags = xcalloc(room, 1);

			next = x->next;
			for (i = 0; i < x->nlabels; i++)
				if (!x->ext[i])
					own[no++] = x->labels[i];
			nm = merge3(own, no, NULL, 0, rs->ext, rs->next, m, flags);
			put_key(&key, m, nm);
			if (key.len != x->keylen || memcmp(key.data, x->key, key.len) != 0) {
				inst_unlink(r, x);
				inst_set_labels(x, &key, m, flags, nm);
				x->next = moved;
				moved = x;
				changed++;
			}
			free(own);
			free(m);
			free(flags);
		}
	}
	for (x = moved; x != NULL; x = next) {
		next = x->next;
		if (inst_lookup(r, x->key, x->keylen, x->hash) != NULL) {
			log_info("alert %s: with the external labels now configured two instances "
			    "have the labels {%s}: one of them is dropped", r->cfg->name, x->key);
			inst_free(x);
			continue;
		}
		inst_link(r, x);
	}
	buf_free(&key);
	return changed;
}

/* ---- transitions ------------------------------------------------------------------------- */

static void
emit(struct rule_set *rs, struct rule *r, struct inst *x, enum rule_state from,
    enum rule_state to, double since, double t)
{
	const struct cfg_alert *a = r->cfg;
	struct template_data td = { a->name, a->severity, x->labels, x->nlabels, x->value };
	struct reeve_label *ann;
	struct rule_event ev;
	size_t i;

	if (rs->sink == NULL)
		return;
	ann = xcalloc(a->nannotations ? a->nannotations : 1, sizeof(*ann));
	memset(&ev, 0, sizeof(ev));
	for (i = 0; i < a->nannotations; i++) {
		ann[i].name = a->annotations[i].key;
		ann[i].value = template_render(a->annotations[i].value, &td);
		if (strcmp(ann[i].name, "summary") == 0)
			ev.summary = ann[i].value;
	}
	ev.rule = a->name;
	ev.labels = x->labels;
	ev.nlabels = x->nlabels;
	ev.from = from;
	ev.to = to;
	ev.value = x->value;
	ev.time = t;
	ev.since = since;
	ev.severity = a->severity;
	ev.annotations = ann;
	ev.nannotations = a->nannotations;
	rs->sink(rs->sink_arg, &ev);
	for (i = 0; i < a->nannotations; i++)
		free((char *)ann[i].value);
	free(ann);
}

/* Forget changes older than the flap window. */
static void
prune_changes(const struct rule *r, struct inst *x, double t)
{
	size_t k = 0;

	while (k < x->nchanges && x->changes[k] <= t - r->cfg->flap_window)
		k++;
	if (k > 0) {
		memmove(x->changes, x->changes + k, (x->nchanges - k) * sizeof(*x->changes));
		x->nchanges -= k;
	}
}

/*
 * Move x to state `to` at t and report it, unless flapping holds the event back. More than
 * flap_changes changes within flap_window start flapping: one event "-> flapping".
 */
static void
go(struct rule_set *rs, struct rule *r, struct inst *x, enum rule_state to, double t)
{
	unsigned max = r->cfg->flap_changes;
	enum rule_state from = x->state;
	double since = x->since;

	x->state = to;
	x->since = t;
	x->clear_since = NAN;
	if (to == RULE_FIRING)
		x->fired_at = t;
	if (x->flapping) {
		x->last_change = t;
		return;
	}
	if (max > 0) {
		prune_changes(r, x, t);
		if (x->nchanges > max) { /* keep the newest max of them, then add this one */
			memmove(x->changes, x->changes + (x->nchanges - max), max * sizeof(*x->changes));
			x->nchanges = max;
		}
		x->changes = xreallocarray(x->changes, x->nchanges + 1, sizeof(*x->changes));
		x->changes[x->nchanges++] = t;
		if (x->nchanges > max) {
			x->flapping = 1;
			x->flap_since = x->last_change = t;
			emit(rs, r, x, from, RULE_FLAPPING, since, t);
			return;
		}
	}
	emit(rs, r, x, from, to, since, t);
}

/* The instance's series has no data at t: the rule's nodata mode decides. */
static void
no_data(struct rule_set *rs, struct rule *r, struct inst *x, double t)
{
	if (isnan(x->nodata_since))
		x->nodata_since = t;
	switch (r->cfg->nodata) {
	case CFG_NODATA_KEEP:
		break; /* the state stays, and no timer runs on without data */
	case CFG_NODATA_OK:
		if (x->state == RULE_PENDING)
			go(rs, r, x, RULE_INACTIVE, t);
		else if (x->state == RULE_FIRING || x->state == RULE_NODATA)
			go(rs, r, x, RULE_RESOLVED, t);
		break;
	case CFG_NODATA_ALERT:
		if (x->state != RULE_NODATA && t - x->nodata_since >= r->cfg->nodata_grace)
			go(rs, r, x, RULE_NODATA, t);
		break;
	}
}

/* Where the condition holds: pending, or firing at once when for is 0. */
static void
activate(struct rule_set *rs, struct rule *r, struct inst *x, double t)
{
	go(rs, r, x, r->cfg->for_ > 0 ? RULE_PENDING : RULE_FIRING, t);
}

/* One instance, one evaluation. */
static void
step(struct rule_set *rs, struct rule *r, struct inst *x, const struct rule_input *in, double t)
{
	int cond = x->seen_expr == r->gen;
	int present = cond || !in->has_data || x->seen_data == r->gen ||
	    (x->nodata_only && in->nexpr + in->ndata > 0);
	int recovered = x->seen_recover == r->gen;

	if (cond)
		x->value = x->expr_value;
	if (present)
		x->nodata_since = NAN;
	switch (x->state) {
	case RULE_INACTIVE:
	case RULE_RESOLVED:
		if (cond)
			activate(rs, r, x, t);
		else if (!present)
			no_data(rs, r, x, t);
		else if (x->state == RULE_RESOLVED) {
			x->state = RULE_INACTIVE; /* no event: resolved already said it */
			x->since = t;
		}
		break;
	case RULE_PENDING:
		if (cond) {
			if (t - x->since >= r->cfg->for_)
				go(rs, r, x, RULE_FIRING, t);
		} else if (!present) {
			no_data(rs, r, x, t);
		} else {
			go(rs, r, x, RULE_INACTIVE, t);
		}
		break;
	case RULE_FIRING:
		if (cond) {
			x->clear_since = NAN;
		} else if (!present) {
			x->clear_since = NAN;
			no_data(rs, r, x, t);
		} else if (rule_has_recover(rs, (size_t)(r - rs->rules)) && !recovered) {
			x->clear_since = NAN; /* hysteresis: between the two thresholds it fires on */
		} else {
			if (isnan(x->clear_since))
				x->clear_since = t;
			if (t - x->clear_since >= r->cfg->keep_firing_for)
				go(rs, r, x, RULE_RESOLVED, t);
		}
		break;
	case RULE_NODATA:
		if (!present)
			break;
		if (cond)
			activate(rs, r, x, t);
		else
			go(rs, r, x, RULE_RESOLVED, t);
		break;
	case RULE_FLAPPING:
		break; /* never stored as a state */
	}
}

/*
 * Mark the instances a result names with seen = gen; create them when add is set. Returns how
 * many instances it marked (each once).
 */
static size_t
mark(const struct rule_set *rs, struct rule *r, const struct rule_sample *s, size_t n,
    int which, int add, double t, struct buf *key)
{
	size_t i, marked = 0;

	for (i = 0; i < n; i++) {
		struct reeve_label stack[MERGE_STACK];
		unsigned char fstack[MERGE_STACK];
		size_t room = s[i].nlabels + r->nlabels + rs->next;
		struct reeve_label *m = room <= MERGE_STACK ? stack : xcalloc(room, sizeof(*m));
		unsigned char *flags = room <= MERGE_STACK ? fstack : xcalloc(room, 1);
		size_t nm = merge_labels(rs, r, s[i].labels, s[i].nlabels, m, flags, key);
		unsigned long long h = key_hash(key);
		struct inst *x = inst_lookup(r, key->data, key->len, h);

		if (x == NULL && add)
			x = inst_add(r, key, m, flags, nm, t);
		if (m != stack) {
			free(m);
			free(flags);
		}
		if (x == NULL)
			continue;
		if (which == 0) {
			if (x->seen_expr == r->gen) {
				log_debug("alert %s: two series with the labels {%s}: the first is used",
				    r->cfg->name, key->data);
				continue;
			}
			x->seen_expr = r->gen;
			x->expr_value = s[i].value;
			x->nodata_only = 0;
		} else if (which == 1) {
			x->seen_recover = r->gen;
		} else {
			x->seen_data = r->gen;
			x->nodata_only = 0;
		}
		marked++;
	}
	return marked;
}

int
rule_eval(struct rule_set *rs, size_t i, double t, const struct rule_input *in)
{
	struct rule *r = &rs->rules[i];
	struct buf key = { 0 };
	size_t b, nexpr;

	if (!isnan(r->last_t) && t < r->last_t) {
		log_warnx("alert %s: evaluation time %.3f is before the last one (%.3f): skipped",
		    r->cfg->name, t, r->last_t);
		return -1;
	}
	r->last_t = t;
	if (++r->gen == 0)
		r->gen = 1; /* 0 is what a new instance holds */
	nexpr = mark(rs, r, in->expr, in->nexpr, 0, 1, t, &key);
	if (rule_has_recover(rs, i))
		mark(rs, r, in->recover, in->nrecover, 1, 0, t, &key);
	/*
	 * The series with data tell only the instances the result did not name apart (condition
	 * false, or no data): with every instance named, or none at all, there is nothing to mark.
	 */
	if (in->has_data && nexpr < r->ninst)
		mark(rs, r, in->data, in->ndata, 2, 0, t, &key);
	/*
	 * No data at all and no instance to carry it: one instance with the rule's labels
	 * (and the external ones) alone stands for the rule (a selector matching nothing, a
	 * probe that never ran).
	 */
	if (in->has_data && in->ndata == 0 && in->nexpr == 0 && r->ninst == 0 &&
	    r->cfg->nodata == CFG_NODATA_ALERT) {
		struct reeve_label *m = xcalloc(r->nlabels + rs->next + 1, sizeof(*m));
		unsigned char *flags = xcalloc(r->nlabels + rs->next + 1, 1);
		size_t nm = merge_labels(rs, r, NULL, 0, m, flags, &key);
		unsigned long long h = key_hash(&key);
		struct inst *x = inst_lookup(r, key.data, key.len, h);

		if (x == NULL) {
			x = inst_add(r, &key, m, flags, nm, t);
			x->nodata_only = 1;
			x->nodata_since = t;
		}
		free(m);
		free(flags);
	}
	buf_free(&key);
	for (b = 0; b < r->nbuckets; b++) {
		struct inst *x = r->buckets[b], *next;

		for (; x != NULL; x = next) {
			next = x->next;
			step(rs, r, x, in, t);
			if (x->flapping && t - x->last_change >= r->cfg->flap_window) {
				x->flapping = 0;
				x->nchanges = 0;
				emit(rs, r, x, RULE_FLAPPING, x->state, x->flap_since, t);
			}
			prune_changes(r, x, t);
			/* an instance is kept while it is active, flapping, counted for flapping or
			 * waiting out its no-data grace; a quiet inactive one goes */
			if (x->state == RULE_INACTIVE && !x->flapping && x->nchanges == 0 &&
			    !(r->cfg->nodata == CFG_NODATA_ALERT && !isnan(x->nodata_since)))
				inst_remove(r, x);
		}
	}
	return 0;
}

void
rule_foreach(const struct rule_set *rs, long i,
    void (*fn)(void *arg, const struct rule_alert *a), void *arg)
{
	size_t k, b;

	for (k = 0; k < rs->n; k++) {
		const struct rule *r = &rs->rules[k];

		if (i >= 0 && (size_t)i != k)
			continue;
		for (b = 0; b < r->nbuckets; b++) {
			const struct inst *x;

			for (x = r->buckets[b]; x != NULL; x = x->next) {
				struct rule_alert a = { r->cfg->name, x->labels, x->nlabels, x->state,
				    x->flapping, x->since, x->fired_at, x->value, r->cfg->severity,
				    r->cfg };

				fn(arg, &a);
			}
		}
	}
}

/* Whether two sorted label lists of rules are the same. */
static int
same_kvs(const struct cfg_kv *a, size_t na, const struct cfg_kv *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].key, b[i].key) != 0 || strcmp(a[i].value, b[i].value) != 0)
			return 0;
	return 1;
}

size_t
rule_set_take_state(struct rule_set *dst, struct rule_set *src)
{
	size_t i, b, relabelled = 0;

	for (i = 0; i < src->n; i++) {
		struct rule *s = &src->rules[i];
		long j = rule_find(dst, s->cfg->name);
		struct rule *d;

		if (j < 0) {
			if (s->ninst > 0)
				log_info("alert %s is no longer configured: its %zu instances are dropped",
				    s->cfg->name, s->ninst);
			rule_clear(s);
			continue;
		}
		d = &dst->rules[j];
		if (!same_kvs(s->cfg->labels, s->cfg->nlabels, d->cfg->labels, d->cfg->nlabels)) {
			/* its instances are other alerts now: they start again under their new labels */
			if (s->ninst > 0)
				log_info("alert %s has other labels: its %zu instances start again",
				    s->cfg->name, s->ninst);
			rule_clear(s);
			continue;
		}
		rule_clear(d);
		for (b = 0; b < s->nbuckets; b++) {
			struct inst *x = s->buckets[b], *next;

			for (; x != NULL; x = next) {
				next = x->next;
				inst_link(d, x);
			}
			s->buckets[b] = NULL;
		}
		s->ninst = 0;
		d->last_t = s->last_t;
		relabelled += relabel(dst, d);
	}
	if (relabelled > 0)
		log_info("the external labels ([reeve] labels.*) changed: %zu alert instances take "
		    "the new ones", relabelled);
	return relabelled;
}

/* ---- persistence ----------------------------------------------------------------------- */

static void
add_time(cJSON *o, const char *name, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, v);
}

static cJSON *
inst_json(const struct inst *x)
{
	cJSON *o = cJSON_CreateObject(), *l = cJSON_AddObjectToObject(o, "labels"), *c;
	size_t i;

	for (i = 0; i < x->nlabels; i++)
		cJSON_AddStringToObject(l, x->labels[i].name, x->labels[i].value);
	cJSON_AddStringToObject(o, "state", rule_state_name(x->state));
	add_time(o, "since", x->since);
	add_time(o, "fired_at", x->fired_at);
	add_time(o, "value", x->value);
	add_time(o, "clear_since", x->clear_since);
	add_time(o, "nodata_since", x->nodata_since);
	cJSON_AddBoolToObject(o, "flapping", x->flapping);
	add_time(o, "flap_since", x->flap_since);
	add_time(o, "last_change", x->last_change);
	c = cJSON_AddArrayToObject(o, "changes");
	for (i = 0; i < x->nchanges; i++)
		cJSON_AddItemToArray(c, cJSON_CreateNumber(x->changes[i]));
	cJSON_AddBoolToObject(o, "nodata_only", x->nodata_only);
	for (i = 0, c = NULL; i < x->nlabels; i++) {
		if (!x->ext[i])
			continue;
		if (c == NULL)
			c = cJSON_AddArrayToObject(o, "external");
		cJSON_AddItemToArray(c, cJSON_CreateString(x->labels[i].name));
	}
	return o;
}

int
rule_state_save(const struct rule_set *rs, const char *path)
{
	cJSON *root = cJSON_CreateObject(), *rules = NULL;
	char *text = NULL;
	struct buf out = { 0 };
	int rc = -1, saved;
	size_t i, b;

	cJSON_AddNumberToObject(root, "version", RULE_STATE_VERSION);
	rules = cJSON_AddArrayToObject(root, "rules");
	for (i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		cJSON *ro, *insts;

		if (r->ninst == 0)
			continue;
		ro = cJSON_CreateObject();
		cJSON_AddStringToObject(ro, "rule", r->cfg->name);
		add_time(ro, "last_eval", r->last_t);
		insts = cJSON_AddArrayToObject(ro, "instances");
		for (b = 0; b < r->nbuckets; b++)
			for (const struct inst *x = r->buckets[b]; x != NULL; x = x->next)
				cJSON_AddItemToArray(insts, inst_json(x));
		cJSON_AddItemToArray(rules, ro);
	}
	if ((text = cJSON_PrintUnformatted(root)) == NULL) {
		errno = ENOMEM;
		log_warnx("alert state: cannot encode %s", path);
		goto out;
	}
	buf_puts(&out, text);
	buf_putc(&out, '\n');
	if (util_write_file_atomic(path, NULL, out.data, out.len) == -1) {
		/* saved after every round: a full disk would log this once a second */
		static struct log_limit lim;
		unsigned long dropped;

		saved = errno;
		if (log_limit_allow(&lim, 60, &dropped)) {
			errno = saved;
			log_warn("alert state: cannot write %s (%lu more failures not logged)", path,
			    dropped);
		}
		errno = saved;
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	buf_free(&out);
	cJSON_free(text);
	cJSON_Delete(root);
	errno = saved;
	return rc;
}

/* A number or null (NAN); anything else fails. */
static int
get_time(const cJSON *o, const char *name, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsNumber(it)) {
		*v = it->valuedouble;
		return 0;
	}
	if (it == NULL || cJSON_IsNull(it)) {
		*v = NAN;
		return 0;
	}
	return -1;
}

/* One saved instance into r (no events). Returns 0, or -1 when it is malformed. */
static int
load_inst(struct rule *r, const cJSON *o, struct buf *key)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(o, "labels");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "changes"), *it;
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(o, "external");
	struct reeve_label *l = NULL;
	unsigned char *flags = NULL;
	enum rule_state state;
	struct inst *x;
	size_t n = 0, i;
	double since;

	if (!cJSON_IsObject(labels) || !cJSON_IsString(st) ||
	    rule_state_parse(st->valuestring, &state) == -1 || state == RULE_FLAPPING ||
	    (ch != NULL && !cJSON_IsArray(ch)) || (ext != NULL && !cJSON_IsArray(ext)) ||
	    get_time(o, "since", &since) == -1 || isnan(since))
		return -1;
	l = xcalloc((size_t)cJSON_GetArraySize(labels) + 1, sizeof(*l));
	flags = xcalloc((size_t)cJSON_GetArraySize(labels) + 1, 1);
	cJSON_ArrayForEach(it, labels) {
		if (!cJSON_IsString(it) || it->string == NULL || !util_valid_label_name(it->string))
			goto fail;
		l[n].name = it->string;
		l[n++].value = it->valuestring;
	}
	qsort(l, n, sizeof(*l), cmp_label);
	/* "external": the names of the labels [reeve] labels.* gave it (none before there were) */
	cJSON_ArrayForEach(it, ext) {
		for (i = 0; i < n; i++)
			if (cJSON_IsString(it) && strcmp(l[i].name, it->valuestring) == 0)
				break;
		if (i == n)
			goto fail;
		flags[i] = 1;
	}
	put_key(key, l, n);
	if (inst_lookup(r, key->data, key->len, key_hash(key)) != NULL)
		goto fail;
	x = inst_add(r, key, l, flags, n, since);
	free(l);
	free(flags);
	x->state = state;
	if (get_time(o, "fired_at", &x->fired_at) == -1 || get_time(o, "value", &x->value) == -1 ||
	    get_time(o, "clear_since", &x->clear_since) == -1 ||
	    get_time(o, "nodata_since", &x->nodata_since) == -1 ||
	    get_time(o, "flap_since", &x->flap_since) == -1 ||
	    get_time(o, "last_change", &x->last_change) == -1)
		return -1;
	x->flapping = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "flapping"));
	x->nodata_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "nodata_only"));
	if (x->flapping && isnan(x->last_change))
		return -1;
	if (ch != NULL) {
		size_t nc = (size_t)cJSON_GetArraySize(ch);

		x->changes = xcalloc(nc ? nc : 1, sizeof(*x->changes));
		cJSON_ArrayForEach(it, ch) {
			if (!cJSON_IsNumber(it))
				return -1;
			x->changes[x->nchanges++] = it->valuedouble;
		}
	}
	return 0;
fail:
	free(l);
	free(flags);
	return -1;
}

/* Move a state file that cannot be read aside, so that the next save does not destroy it. */
static void
move_aside(const char *path, const char *why)
{
	char *to = xasprintf("%s.corrupt-%lld", path, (long long)time(NULL));

	if (rename(path, to) == -1)
		log_warn("alert state: %s is corrupt (%s) and cannot be moved to %s", path, why, to);
	else
		log_error("alert state: %s is corrupt (%s): moved to %s; starting without saved "
		    "alert state", path, why, to);
	free(to);
}

/* Read all of path (at most RULE_STATE_MAX_FILE bytes). Returns NULL with errno set. */
static char *
read_file(const char *path, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size > RULE_STATE_MAX_FILE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size &&
	    (r = read(fd, data + got, (size_t)st.st_size - got)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		got += (size_t)r;
	}
	data[got] = '\0';
	close(fd);
	*len = got;
	return data;
fail:
	r = errno;
	free(data);
	close(fd);
	errno = (int)r;
	return NULL;
}

int
rule_state_load(struct rule_set *rs, const char *path)
{
	const cJSON *ver, *rules, *ro, *it;
	struct buf key = { 0 };
	const char *why = NULL;
	size_t len = 0, i, restored = 0, relabelled = 0;
	cJSON *root = NULL;
	char *data;

	if ((data = read_file(path, &len)) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("alert state: cannot read %s; starting without saved alert state", path);
		return -1;
	}
	root = cJSON_ParseWithLengthOpts(data, len, NULL, 0);
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	rules = cJSON_GetObjectItemCaseSensitive(root, "rules");
	if (root == NULL)
		why = "not JSON";
	else if (!cJSON_IsNumber(ver) || ver->valuedouble != RULE_STATE_VERSION)
		why = "no version 1";
	else if (!cJSON_IsArray(rules))
		why = "no list of rules";
	if (why != NULL)
		rules = NULL;
	cJSON_ArrayForEach(ro, rules) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(ro, "rule");
		const cJSON *insts = cJSON_GetObjectItemCaseSensitive(ro, "instances");
		double last;
		long k;

		if (!cJSON_IsString(name) || !cJSON_IsArray(insts) ||
		    get_time(ro, "last_eval", &last) == -1) {
			why = "a rule without a name or instances";
			break;
		}
		if ((k = rule_find(rs, name->valuestring)) < 0) {
			log_info("alert state: alert %s is no longer configured: its %d saved "
			    "instances are dropped", name->valuestring, cJSON_GetArraySize(insts));
			continue;
		}
		cJSON_ArrayForEach(it, insts) {
			if (load_inst(&rs->rules[k], it, &key) == -1) {
				why = "a malformed instance";
				break;
			}
			restored++;
		}
		if (why != NULL)
			break;
		rs->rules[k].last_t = last;
	}
	buf_free(&key);
	cJSON_Delete(root);
	free(data);
	if (why != NULL) {
		for (i = 0; i < rs->n; i++) { /* all or nothing */
			rule_clear(&rs->rules[i]);
			rs->rules[i].last_t = NAN;
		}
		move_aside(path, why);
		return -1;
	}
	log_info("alert state: %zu alert instances restored from %s", restored, path);
	for (i = 0; i < rs->n; i++)
		relabelled += relabel(rs, &rs->rules[i]);
	if (relabelled > 0)
		log_info("alert state: the external labels ([reeve] labels.*) changed since it was "
		    "saved: %zu alert instances take the new ones", relabelled);
	return 0;
}
