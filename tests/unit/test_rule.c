/* test_rule.c: unit tests of alerts/rule.c: the state machine on a controlled clock, saved state. */
#include <sys/stat.h>

#include <glob.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "rule.h"
#include "util.h"

#define T0 1700000000.0 /* the controlled clock starts here */

/* ---- fixtures: a config, a rule set, and a sink that records events -------------------- */

struct ev {
	char rule[64];
	char labels[256]; /* name=value,... */
	enum rule_state from, to;
	double value, time, since;
	char summary[256];
	char severity[32];
};

struct fx {
	struct cfg *cfg;
	struct rule_set *rs;
	struct ev ev[256];
	size_t nev;
	char dir[64];
};

static void
sink(void *arg, const struct rule_event *e)
{
	struct fx *fx = arg;
	struct ev *v;
	size_t i, off = 0;

	assert_true(fx->nev < sizeof(fx->ev) / sizeof(fx->ev[0]));
	v = &fx->ev[fx->nev++];
	memset(v, 0, sizeof(*v));
	snprintf(v->rule, sizeof(v->rule), "%s", e->rule);
	for (i = 0; i < e->nlabels; i++)
		off += (size_t)snprintf(v->labels + off, sizeof(v->labels) - off, "%s%s=%s",
		    i ? "," : "", e->labels[i].name, e->labels[i].value);
	v->from = e->from;
	v->to = e->to;
	v->value = e->value;
	v->time = e->time;
	v->since = e->since;
	snprintf(v->summary, sizeof(v->summary), "%s", e->summary ? e->summary : "(null)");
	snprintf(v->severity, sizeof(v->severity), "%s", e->severity);
}

static struct fx *
fx_new(const char *conf)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct cfg_errors errs = { 0 };

	assert_non_null(fx);
	fx->cfg = cfg_load_string(conf, "t.conf", &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("# error: %s\n", errs.msgs[i]);
	assert_int_equal(errs.n, 0);
	assert_non_null(fx->cfg);
	fx->rs = rule_set_new(fx->cfg);
	rule_set_sink(fx->rs, sink, fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_rule.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	return fx;
}

static void
fx_free(struct fx *fx)
{
	char cmd[128];

	rule_set_free(fx->rs);
	cfg_free(fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
}

/* Series are written "host=a" or "host=a,disk=b" with a value. */
struct ser {
	const char *labels;
	double value;
};

static size_t
to_samples(const struct ser *s, size_t n, struct rule_sample *out, struct reeve_label *lab,
    char *store)
{
	size_t i, nl = 0;

	for (i = 0; i < n; i++) {
		size_t len = strlen(s[i].labels);
		char *p = store, *end = store + len;

		memcpy(store, s[i].labels, len + 1);
		out[i].labels = &lab[nl];
		out[i].nlabels = 0;
		out[i].value = s[i].value;
		while (p < end) {
			char *comma = strchr(p, ','), *eq = strchr(p, '=');

			if (comma != NULL)
				*comma = '\0';
			assert_non_null(eq);
			*eq = '\0';
			lab[nl].name = p;
			lab[nl].value = eq + 1;
			nl++;
			out[i].nlabels++;
			p = comma != NULL ? comma + 1 : end;
		}
		store += len + 1;
	}
	return n;
}

/*
 * Evaluate rule 0 at T0 + dt with the series of expr (a NULL-labelled end) and, with
 * has_data, data series; recover likewise.
 */
struct step_in {
	struct ser expr[4];
	size_t nexpr;
	struct ser recover[4];
	size_t nrecover;
	struct ser data[4];
	size_t ndata;
	int has_data;
};

static void
eval_rule(struct fx *fx, size_t rule, double dt, const struct step_in *si)
{
	struct rule_sample e[4], r[4], d[4];
	struct reeve_label le[16], lr[16], ld[16];
	char se[256], sr[256], sd[256];
	struct rule_input in = { 0 };

	in.expr = e;
	in.nexpr = to_samples(si->expr, si->nexpr, e, le, se);
	in.recover = r;
	in.nrecover = to_samples(si->recover, si->nrecover, r, lr, sr);
	in.data = d;
	in.ndata = to_samples(si->data, si->ndata, d, ld, sd);
	in.has_data = si->has_data;
	assert_int_equal(rule_eval(fx->rs, rule, T0 + dt, &in), 0);
}

/* Condition true for host=a with value v, or false (has_data 0) */
static void
on(struct fx *fx, double dt, double v)
{
	struct step_in si = { { { "host=a", v } }, 1, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };

	eval_rule(fx, 0, dt, &si);
}

static void
off(struct fx *fx, double dt)
{
	struct step_in si = { { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };

	eval_rule(fx, 0, dt, &si);
}

/* No data at all for the rule (has_data with an empty data list). */
static void
nodata(struct fx *fx, double dt)
{
	struct step_in si = { { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 1 };

	eval_rule(fx, 0, dt, &si);
}

/* The series has data but the condition is false. */
static void
data_false(struct fx *fx, double dt)
{
	struct step_in si = { { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, { { "host=a", 50 } }, 1, 1 };

	eval_rule(fx, 0, dt, &si);
}

static void
expect_ev(const struct fx *fx, size_t i, enum rule_state from, enum rule_state to, double dt)
{
	if (i >= fx->nev)
		fail_msg("event %zu missing (%zu events)", i, fx->nev);
	if (fx->ev[i].from != from || fx->ev[i].to != to || fx->ev[i].time != T0 + dt)
		fail_msg("event %zu: %s -> %s at +%g, expected %s -> %s at +%g", i,
		    rule_state_name(fx->ev[i].from), rule_state_name(fx->ev[i].to),
		    fx->ev[i].time - T0, rule_state_name(from), rule_state_name(to), dt);
}

struct snap {
	size_t n;
	enum rule_state state[16];
	int flapping[16];
	double since[16], fired_at[16], value[16];
	char labels[16][128];
};

static void
snap_one(void *arg, const struct rule_alert *a)
{
	struct snap *s = arg;
	size_t i, off = 0;

	assert_true(s->n < 16);
	s->state[s->n] = a->state;
	s->flapping[s->n] = a->flapping;
	s->since[s->n] = a->since;
	s->fired_at[s->n] = a->fired_at;
	s->value[s->n] = a->value;
	for (i = 0; i < a->nlabels; i++)
		off += (size_t)snprintf(s->labels[s->n] + off, sizeof(s->labels[0]) - off,
		    "%s%s=%s", i ? "," : "", a->labels[i].name, a->labels[i].value);
	s->n++;
}

static struct snap
snapshot(const struct fx *fx)
{
	struct snap s;

	memset(&s, 0, sizeof(s));
	rule_foreach(fx->rs, -1, snap_one, &s);
	return s;
}

#define BASE "[reeve]\ninterval = 1m\n"

/* ---- pending, firing, resolved --------------------------------------------------------- */

static void
test_for(void **state)
{
	struct fx *fx = fx_new(BASE "[alert cpu]\nexpr = cpu > 90\nfor = 5m\nlabels.team = ops\n"
	    "severity = critical\n"
	    "annotations.summary = CPU on {{ labels.host }} at {{ value }} ({{ labels.team }})\n");
	struct snap s;

	(void)state;
	on(fx, 0, 95);
	assert_int_equal(fx->nev, 1);
	expect_ev(fx, 0, RULE_INACTIVE, RULE_PENDING, 0);
	assert_string_equal(fx->ev[0].labels, "host=a,team=ops");
	assert_string_equal(fx->ev[0].summary, "CPU on a at 95 (ops)");
	assert_string_equal(fx->ev[0].severity, "critical");
	on(fx, 60, 96);
	on(fx, 299, 97);
	assert_int_equal(fx->nev, 1); /* for has not elapsed */
	s = snapshot(fx);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.state[0], RULE_PENDING);
	assert_true(s.since[0] == T0);
	on(fx, 300, 98);
	assert_int_equal(fx->nev, 2);
	expect_ev(fx, 1, RULE_PENDING, RULE_FIRING, 300);
	assert_true(fx->ev[1].value == 98);
	assert_true(fx->ev[1].since == T0);
	on(fx, 360, 99);
	assert_int_equal(fx->nev, 2);
	off(fx, 420);
	assert_int_equal(fx->nev, 3);
	expect_ev(fx, 2, RULE_FIRING, RULE_RESOLVED, 420);
	assert_true(fx->ev[2].value == 99); /* the last value seen */
	assert_string_equal(fx->ev[2].summary, "CPU on a at 99 (ops)");
	off(fx, 480); /* resolved -> inactive without an event */
	assert_int_equal(fx->nev, 3);
	s = snapshot(fx);
	assert_int_equal(s.state[0], RULE_INACTIVE);

	/* pending that does not last: back to inactive, and the instance goes once quiet */
	on(fx, 3600, 95);
	off(fx, 3660);
	expect_ev(fx, 3, RULE_INACTIVE, RULE_PENDING, 3600);
	expect_ev(fx, 4, RULE_PENDING, RULE_INACTIVE, 3660);
	off(fx, 3660 + 3600); /* past flap_window: nothing left to remember */
	assert_int_equal(snapshot(fx).n, 0);
	assert_int_equal(fx->nev, 5);
	fx_free(fx);
}

static void
test_for_zero(void **state)
{
	struct fx *fx = fx_new(BASE "[alert up]\nexpr = up == 0\nflap_changes = 0\n");
	struct step_in two = { { { "host=a,__name__=up", 0 }, { "host=b", 0 } }, 2,
	    { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };

	(void)state;
	eval_rule(fx, 0, 0, &two);
	assert_int_equal(fx->nev, 2);
	assert_int_equal(fx->ev[0].to, RULE_FIRING); /* for = 0: straight to firing */
	assert_int_equal(fx->ev[1].to, RULE_FIRING);
	assert_string_equal(fx->ev[0].summary, "(null)");
	assert_string_equal(fx->ev[0].severity, "warning");
	/* __name__ is not an instance label */
	assert_true(strcmp(fx->ev[0].labels, "host=a") == 0 || strcmp(fx->ev[1].labels, "host=a") == 0);
	off(fx, 60);
	assert_int_equal(fx->nev, 4);
	off(fx, 120);
	assert_int_equal(snapshot(fx).n, 0); /* flap detection off: nothing kept */
	/* time going backwards is refused */
	{
		struct rule_input in = { 0 };

		assert_int_equal(rule_eval(fx->rs, 0, T0, &in), -1);
	}
	fx_free(fx);
}

/* Rule labels override the series' labels of the same name; a repeated series is used once. */
static void
test_labels(void **state)
{
	struct fx *fx = fx_new(BASE "[alert a]\nexpr = x\nlabels.env = prod\n");
	struct step_in si = { { { "env=dev,host=h", 1 }, { "host=h,env=test", 2 } }, 2,
	    { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };

	(void)state;
	eval_rule(fx, 0, 0, &si);
	assert_int_equal(fx->nev, 1);
	assert_string_equal(fx->ev[0].labels, "env=prod,host=h");
	assert_true(fx->ev[0].value == 1);
	assert_int_equal(rule_find(fx->rs, "a"), 0);
	assert_int_equal(rule_find(fx->rs, "b"), -1);
	assert_int_equal(rule_count(fx->rs), 1);
	fx_free(fx);
}

/* Whether one of the events from first on has these labels (an evaluation's order is the table's). */
static int
ev_labels(const struct fx *fx, size_t first, const char *labels)
{
	for (size_t i = first; i < fx->nev; i++)
		if (strcmp(fx->ev[i].labels, labels) == 0)
			return 1;
	return 0;
}

/*
 * [reeve] labels.* (external labels) go on every instance that has no label of the name:
 * a series' own label wins, and so does the rule's labels.* of the same name.
 */
static void
test_external_labels(void **state)
{
	struct fx *fx = fx_new(BASE "labels.instance = web01\nlabels.region = eu\n"
	    "[alert a]\nexpr = x\nlabels.region = rule\n"
	    "[alert b]\nexpr = y\n[alert c]\nexpr = z\nnodata = alert\nnodata_grace = 0\n");
	struct step_in si = { { { "host=h", 1 }, { "host=g,instance=own,__name__=x", 2 },
	    { "host=f,region=series", 3 } }, 3, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };
	struct step_in none = { { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 1 };
	struct snap s;

	(void)state;
	eval_rule(fx, 0, 0, &si);
	assert_int_equal(fx->nev, 3);
	assert_true(ev_labels(fx, 0, "host=h,instance=web01,region=rule"));
	assert_true(ev_labels(fx, 0, "host=g,instance=own,region=rule"));
	assert_true(ev_labels(fx, 0, "host=f,instance=web01,region=rule"));
	eval_rule(fx, 1, 0, &si);
	assert_int_equal(fx->nev, 6);
	assert_true(ev_labels(fx, 3, "host=h,instance=web01,region=eu"));
	assert_true(ev_labels(fx, 3, "host=g,instance=own,region=eu"));
	assert_true(ev_labels(fx, 3, "host=f,instance=web01,region=series"));
	/* the same series again is the same instance: no new event */
	eval_rule(fx, 0, 60, &si);
	assert_int_equal(fx->nev, 6);
	s = snapshot(fx);
	assert_int_equal(s.n, 6);
	/* the instance standing for a rule without any data has them too */
	eval_rule(fx, 2, 60, &none);
	assert_int_equal(fx->nev, 7);
	assert_string_equal(fx->ev[6].labels, "instance=web01,region=eu");
	assert_int_equal(fx->ev[6].to, RULE_NODATA);
	fx_free(fx);
}

/* ---- hysteresis and keep_firing_for --------------------------------------------------- */

static void
test_recover(void **state)
{
	struct fx *fx = fx_new(BASE "[alert cpu]\nexpr = cpu > 90\nrecover = cpu < 80\n");
	struct step_in between = { { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };
	struct step_in below = { { { NULL, 0 } }, 0, { { "host=a", 70 } }, 1, { { NULL, 0 } }, 0,
	    0 };
	struct step_in other = { { { NULL, 0 } }, 0, { { "host=b", 70 } }, 1, { { NULL, 0 } }, 0,
	    0 };

	(void)state;
	assert_int_equal(rule_has_recover(fx->rs, 0), 1);
	on(fx, 0, 95);
	expect_ev(fx, 0, RULE_INACTIVE, RULE_FIRING, 0);
	eval_rule(fx, 0, 60, &between); /* 85: no longer > 90, not yet < 80 */
	eval_rule(fx, 0, 120, &other);  /* another series recovering does not count */
	assert_int_equal(fx->nev, 1);
	assert_int_equal(snapshot(fx).state[0], RULE_FIRING);
	on(fx, 180, 92);
	eval_rule(fx, 0, 240, &below);
	assert_int_equal(fx->nev, 2);
	expect_ev(fx, 1, RULE_FIRING, RULE_RESOLVED, 240);
	fx_free(fx);
}

static void
test_keep_firing_for(void **state)
{
	struct fx *fx = fx_new(BASE "[alert cpu]\nexpr = cpu > 90\nkeep_firing_for = 10m\n");

	(void)state;
	on(fx, 0, 95);
	off(fx, 60);
	off(fx, 300);
	assert_int_equal(fx->nev, 1);
	on(fx, 360, 95);  /* back: the delay starts again */
	off(fx, 420);
	off(fx, 420 + 599);
	assert_int_equal(fx->nev, 1);
	off(fx, 420 + 600);
	assert_int_equal(fx->nev, 2);
	expect_ev(fx, 1, RULE_FIRING, RULE_RESOLVED, 1020);
	fx_free(fx);
}

/* recover and keep_firing_for together: the delay counts from when recover first held. */
static void
test_recover_keep(void **state)
{
	struct fx *fx = fx_new(BASE "[alert cpu]\nexpr = cpu > 90\nrecover = cpu < 80\n"
	    "keep_firing_for = 2m\n");
	struct step_in below = { { { NULL, 0 } }, 0, { { "host=a", 70 } }, 1, { { NULL, 0 } }, 0,
	    0 };

	(void)state;
	on(fx, 0, 95);
	off(fx, 60);
	off(fx, 600);
	eval_rule(fx, 0, 660, &below);
	eval_rule(fx, 0, 720, &below);
	assert_int_equal(fx->nev, 1);
	eval_rule(fx, 0, 780, &below);
	expect_ev(fx, 1, RULE_FIRING, RULE_RESOLVED, 780);
	fx_free(fx);
}

/* ---- flapping ----------------------------------------------------------------------------- */

static void
test_flapping(void **state)
{
	struct fx *fx = fx_new(BASE "[alert cpu]\nexpr = cpu > 90\nflap_changes = 3\n"
	    "flap_window = 10m\n");
	struct snap s;

	(void)state;
	on(fx, 0, 95);    /* 1: firing */
	off(fx, 60);      /* 2: resolved */
	on(fx, 120, 95);  /* 3: firing */
	assert_int_equal(fx->nev, 3);
	off(fx, 180);     /* 4 changes within 10m: flapping, one event */
	assert_int_equal(fx->nev, 4);
	expect_ev(fx, 3, RULE_FIRING, RULE_FLAPPING, 180);
	on(fx, 240, 95);  /* further changes: no events */
	off(fx, 300);
	on(fx, 360, 95);
	assert_int_equal(fx->nev, 4);
	s = snapshot(fx);
	assert_int_equal(s.state[0], RULE_FIRING);
	assert_int_equal(s.flapping[0], 1);
	on(fx, 900, 95);  /* stable, but not for the whole window yet */
	assert_int_equal(fx->nev, 4);
	on(fx, 360 + 600, 95); /* stable for 10m: settled, one event with the state */
	assert_int_equal(fx->nev, 5);
	expect_ev(fx, 4, RULE_FLAPPING, RULE_FIRING, 960);
	assert_true(fx->ev[4].since == T0 + 180);
	off(fx, 1020);    /* and events flow again */
	assert_int_equal(fx->nev, 6);
	expect_ev(fx, 5, RULE_FIRING, RULE_RESOLVED, 1020);
	assert_int_equal(snapshot(fx).flapping[0], 0);

	/* changes spread wider than the window never count as flapping */
	for (int i = 0; i < 10; i++) {
		if (i % 2 == 0)
			on(fx, 2000 + 300.0 * i, 95);
		else
			off(fx, 2000 + 300.0 * i);
	}
	assert_int_equal(fx->nev, 16);
	for (size_t i = 6; i < 16; i++)
		assert_int_not_equal(fx->ev[i].to, RULE_FLAPPING);
	fx_free(fx);
}

/* Settling while resolved: the settled event says resolved/inactive, then the instance goes. */
static void
test_flapping_settles_off(void **state)
{
	struct fx *fx = fx_new(BASE "[alert cpu]\nexpr = cpu > 90\nflap_changes = 1\n"
	    "flap_window = 5m\n");

	(void)state;
	on(fx, 0, 95);
	off(fx, 60);
	expect_ev(fx, 1, RULE_FIRING, RULE_FLAPPING, 60);
	off(fx, 120); /* resolved -> inactive, silently */
	off(fx, 360);
	assert_int_equal(fx->nev, 3);
	expect_ev(fx, 2, RULE_FLAPPING, RULE_INACTIVE, 360);
	off(fx, 420);
	assert_int_equal(snapshot(fx).n, 0);
	fx_free(fx);
}

/* ---- no data ----------------------------------------------------------------------------- */

static void
test_nodata_keep(void **state)
{
	struct fx *fx = fx_new(BASE "[alert a]\nexpr = x > 1\nfor = 2m\n[alert b]\nexpr = y > 1\n");
	struct step_in none = { { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 1 };
	struct step_in fire = { { { "host=a", 5 } }, 1, { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 1 };

	(void)state;
	/* a: pending, then no data: it stays pending and does not fire without data */
	on(fx, 0, 5);
	nodata(fx, 60);
	nodata(fx, 600);
	assert_int_equal(fx->nev, 1);
	assert_int_equal(snapshot(fx).state[0], RULE_PENDING);
	on(fx, 660, 5); /* data again, still true: for has long elapsed since T0 */
	expect_ev(fx, 1, RULE_PENDING, RULE_FIRING, 660);
	nodata(fx, 720);
	nodata(fx, 7200);
	assert_int_equal(fx->nev, 2); /* firing stays firing */
	data_false(fx, 7260);
	expect_ev(fx, 2, RULE_FIRING, RULE_RESOLVED, 7260);

	/* b: no data at all, nodata = keep: no instance appears */
	eval_rule(fx, 1, 0, &none);
	eval_rule(fx, 1, 600, &none);
	assert_int_equal(fx->nev, 3);
	eval_rule(fx, 1, 660, &fire);
	assert_int_equal(fx->nev, 4);
	assert_string_equal(fx->ev[3].rule, "b");
	fx_free(fx);
}

static void
test_nodata_ok(void **state)
{
	struct fx *fx = fx_new(BASE "[alert a]\nexpr = x > 1\nnodata = ok\n");

	(void)state;
	on(fx, 0, 5);
	nodata(fx, 60);
	assert_int_equal(fx->nev, 2);
	expect_ev(fx, 1, RULE_FIRING, RULE_RESOLVED, 60);
	nodata(fx, 120);
	assert_int_equal(fx->nev, 2);
	fx_free(fx);
}

/*
 * One round tells three instances apart: host=a in the result stays firing, host=b only in the
 * data has its condition false and resolves, host=c in neither has no data and, with
 * nodata = alert and no grace, goes to nodata. The next round c is back and b, false again,
 * goes quietly (no flap counting keeps it); then a round whose result names every instance
 * there is leaves them firing with their new values.
 */
static void
test_data_apart(void **state)
{
	struct fx *fx = fx_new(BASE "[alert a]\nexpr = x > 1\nnodata = alert\nnodata_grace = 0s\n"
	    "flap_changes = 0\n");
	struct step_in all = { { { "host=a", 5 }, { "host=b", 5 }, { "host=c", 5 } }, 3,
	    { { NULL, 0 } }, 0, { { "host=a", 5 }, { "host=b", 5 }, { "host=c", 5 } }, 3, 1 };
	struct step_in mixed = { { { "host=a", 5 } }, 1, { { NULL, 0 } }, 0,
	    { { "host=a", 5 }, { "host=b", 0 } }, 2, 1 };
	struct step_in back = { { { "host=a", 5 }, { "host=c", 5 } }, 2, { { NULL, 0 } }, 0,
	    { { "host=a", 5 }, { "host=b", 0 }, { "host=c", 5 } }, 3, 1 };
	struct step_in same = { { { "host=a", 6 }, { "host=c", 7 } }, 2, { { NULL, 0 } }, 0,
	    { { "host=a", 6 }, { "host=c", 7 } }, 2, 1 };
	struct snap s;

	(void)state;
	eval_rule(fx, 0, 0, &all);
	assert_int_equal(fx->nev, 3);    /* three times inactive -> firing (for = 0) */
	eval_rule(fx, 0, 60, &mixed);
	assert_int_equal(fx->nev, 5);
	for (size_t i = 3; i < 5; i++) {
		if (strcmp(fx->ev[i].labels, "host=b") == 0)
			expect_ev(fx, i, RULE_FIRING, RULE_RESOLVED, 60);
		else if (strcmp(fx->ev[i].labels, "host=c") == 0)
			expect_ev(fx, i, RULE_FIRING, RULE_NODATA, 60);
		else
			fail_msg("unexpected event for %s", fx->ev[i].labels);
	}
	eval_rule(fx, 0, 120, &back);  /* c fires again; b, false again, is dropped quietly */
	assert_int_equal(fx->nev, 6);
	expect_ev(fx, 5, RULE_NODATA, RULE_FIRING, 120);
	assert_string_equal(fx->ev[5].labels, "host=c");
	eval_rule(fx, 0, 180, &same);
	assert_int_equal(fx->nev, 6);
	s = snapshot(fx);
	assert_int_equal(s.n, 2);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_equal(s.state[i], RULE_FIRING);
		assert_true(s.value[i] == (strcmp(s.labels[i], "host=a") == 0 ? 6 : 7));
	}
	fx_free(fx);
}

static void
test_nodata_alert(void **state)
{
	struct fx *fx = fx_new(BASE "[alert a]\nexpr = x > 1\nnodata = alert\nnodata_grace = 3m\n"
	    "labels.team = db\n");
	struct snap s;

	(void)state;
	assert_true(fx->cfg->alerts[0].nodata_grace == 180);
	on(fx, 0, 5);
	nodata(fx, 60);
	nodata(fx, 180);
	assert_int_equal(fx->nev, 1);    /* within the grace period: still firing */
	on(fx, 200, 6);                  /* data came back: the grace period starts again */
	nodata(fx, 240);
	nodata(fx, 419);
	assert_int_equal(fx->nev, 1);
	nodata(fx, 420);
	assert_int_equal(fx->nev, 2);
	expect_ev(fx, 1, RULE_FIRING, RULE_NODATA, 420);
	assert_string_equal(fx->ev[1].labels, "host=a,team=db");
	nodata(fx, 480);
	assert_int_equal(fx->nev, 2);
	data_false(fx, 540);             /* data again, condition false: the no-data alert ends */
	expect_ev(fx, 2, RULE_NODATA, RULE_RESOLVED, 540);
	fx_free(fx);

	/* the rule has no data at all and no instance: one instance with the rule's labels */
	fx = fx_new(BASE "[alert a]\nexpr = x > 1\nnodata = alert\nlabels.team = db\n");
	assert_true(fx->cfg->alerts[0].nodata_grace == 120); /* 2 x eval_interval (1m) */
	nodata(fx, 0);
	nodata(fx, 60);
	assert_int_equal(fx->nev, 0);
	nodata(fx, 120);
	assert_int_equal(fx->nev, 1);
	expect_ev(fx, 0, RULE_INACTIVE, RULE_NODATA, 120);
	assert_string_equal(fx->ev[0].labels, "team=db");
	data_false(fx, 180);             /* data for some series: the rule-level alert resolves */
	assert_int_equal(fx->nev, 2);
	expect_ev(fx, 1, RULE_NODATA, RULE_RESOLVED, 180);
	data_false(fx, 240);
	s = snapshot(fx);
	assert_int_equal(s.n, 1);        /* kept for flap counting, inactive */
	assert_int_equal(s.state[0], RULE_INACTIVE);
	/* firing from no data: a series whose condition holds */
	nodata(fx, 300);
	nodata(fx, 420);
	on(fx, 480, 9);  /* the series fires, the rule-level no-data alert resolves */
	{
		const struct ev *x = &fx->ev[fx->nev - 2], *y = &fx->ev[fx->nev - 1];

		if (x->to != RULE_FIRING) {
			const struct ev *tmp = x;

			x = y;
			y = tmp;
		}
		assert_int_equal(x->to, RULE_FIRING);
		assert_string_equal(x->labels, "host=a,team=db");
		assert_int_equal(y->from, RULE_NODATA);
		assert_int_equal(y->to, RULE_RESOLVED);
		assert_string_equal(y->labels, "team=db");
	}
	fx_free(fx);
}

/* Without has_data a missing series is "condition false", never no data. */
static void
test_nodata_unknown(void **state)
{
	struct fx *fx = fx_new(BASE "[alert a]\nexpr = x > 1\nnodata = alert\nnodata_grace = 0\n");

	(void)state;
	on(fx, 0, 5);
	off(fx, 60);
	expect_ev(fx, 1, RULE_FIRING, RULE_RESOLVED, 60);
	nodata(fx, 120); /* with has_data and grace 0: straight to nodata */
	expect_ev(fx, 2, RULE_RESOLVED, RULE_NODATA, 120);
	fx_free(fx);
}

/* ---- saved state ----------------------------------------------------------------------- */

#define SAVE_CONF BASE \
	"[alert pend]\nexpr = a\nfor = 10m\n" \
	"[alert fire]\nexpr = b\n" \
	"[alert flap]\nexpr = c\nflap_changes = 2\nflap_window = 1h\n" \
	"[alert res]\nexpr = d\n" \
	"[alert inact]\nexpr = e\nfor = 5m\n" \
	"[alert nod]\nexpr = f\nnodata = alert\nnodata_grace = 1m\n"

static void
eval_one(struct fx *fx, size_t rule, double dt, int cond, int has_data)
{
	struct step_in si = { { { "host=a", 42 } }, cond ? 1 : 0, { { NULL, 0 } }, 0,
	    { { NULL, 0 } }, 0, has_data };

	eval_rule(fx, rule, dt, &si);
}

static void
test_save_restore(void **state)
{
	struct fx *fx = fx_new(SAVE_CONF), *fx2;
	struct snap a, b;
	char path[128];
	size_t i;

	(void)state;
	eval_one(fx, 0, 0, 1, 0);     /* pend: pending since T0 */
	eval_one(fx, 1, 0, 1, 0);     /* fire: firing */
	eval_one(fx, 2, 0, 1, 0);     /* flap: firing, resolved, firing: flapping */
	eval_one(fx, 2, 60, 0, 0);
	eval_one(fx, 2, 120, 1, 0);
	eval_one(fx, 3, 0, 1, 0);     /* res: firing, then resolved */
	eval_one(fx, 3, 60, 0, 0);
	eval_one(fx, 4, 0, 1, 0);     /* inact: pending, then inactive (kept for flapping) */
	eval_one(fx, 4, 60, 0, 0);
	eval_one(fx, 5, 0, 1, 0);     /* nod: firing, then no data for the grace: nodata */
	eval_one(fx, 5, 60, 0, 1);
	eval_one(fx, 5, 120, 0, 1);
	a = snapshot(fx);
	assert_int_equal(a.n, 6);
	snprintf(path, sizeof(path), "%s/state.json", fx->dir);
	assert_int_equal(rule_state_save(fx->rs, path), 0);

	fx2 = fx_new(SAVE_CONF);
	assert_int_equal(rule_state_load(fx2->rs, path), 0);
	b = snapshot(fx2);
	assert_int_equal(b.n, a.n);
	for (i = 0; i < a.n; i++) {
		size_t j;

		for (j = 0; j < b.n; j++)
			if (a.state[i] == b.state[j] && a.flapping[i] == b.flapping[j] &&
			    a.since[i] == b.since[j] && strcmp(a.labels[i], b.labels[j]) == 0 &&
			    (a.fired_at[i] == b.fired_at[j] || (isnan(a.fired_at[i]) &&
			    isnan(b.fired_at[j]))) && a.value[i] == b.value[j])
				break;
		if (j == b.n)
			fail_msg("instance %zu (%s, %s) not restored", i, rule_state_name(a.state[i]),
			    a.labels[i]);
	}
	{
		int seen[6] = { 0 };

		for (i = 0; i < b.n; i++)
			seen[b.state[i] == RULE_INACTIVE ? 0 : b.state[i] == RULE_PENDING ? 1 :
			    b.state[i] == RULE_FIRING && !b.flapping[i] ? 2 :
			    b.state[i] == RULE_FIRING ? 3 : b.state[i] == RULE_RESOLVED ? 4 : 5]++;
		for (i = 0; i < 6; i++)
			assert_int_equal(seen[i], 1); /* every state is covered */
	}
	assert_int_equal(fx2->nev, 0); /* restoring makes no events */

	/* a restored firing instance: no second "firing" event */
	eval_one(fx2, 1, 300, 1, 0);
	assert_int_equal(fx2->nev, 0);
	/* a restored pending one fires when for elapses at the original time, not before */
	eval_one(fx2, 0, 599, 1, 0);
	assert_int_equal(fx2->nev, 0);
	eval_one(fx2, 0, 600, 1, 0);
	assert_int_equal(fx2->nev, 1);
	expect_ev(fx2, 0, RULE_PENDING, RULE_FIRING, 600);
	assert_true(fx2->ev[0].since == T0);
	/* a restored flapping one stays quiet and settles a window after its last change */
	eval_one(fx2, 2, 600, 0, 0);
	assert_int_equal(fx2->nev, 1);
	eval_one(fx2, 2, 600 + 3600, 0, 0);
	assert_int_equal(fx2->nev, 2);
	expect_ev(fx2, 1, RULE_FLAPPING, RULE_INACTIVE, 4200);
	/* a restored resolved one goes inactive without an event */
	eval_one(fx2, 3, 600, 0, 0);
	assert_int_equal(fx2->nev, 2);
	/* a restored inactive one counts its earlier changes: pending again */
	eval_one(fx2, 4, 600, 1, 0);
	expect_ev(fx2, 2, RULE_INACTIVE, RULE_PENDING, 600);
	/* a restored no-data one resolves when data comes back */
	eval_one(fx2, 5, 600, 0, 0);
	expect_ev(fx2, 3, RULE_NODATA, RULE_RESOLVED, 600);
	/* the saved file is replaced atomically: no temporary files left */
	{
		glob_t g;
		char pat[160];

		snprintf(pat, sizeof(pat), "%s/*", fx->dir);
		assert_int_equal(glob(pat, 0, NULL, &g), 0);
		assert_int_equal(g.gl_pathc, 1);
		globfree(&g);
	}
	fx_free(fx2);
	fx_free(fx);
}

/* Write text to dir/name; returns the path in buf. */
static const char *
put(const char *dir, const char *name, const char *text, char *buf, size_t size)
{
	FILE *fp;

	snprintf(buf, size, "%s/%s", dir, name);
	fp = fopen(buf, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return buf;
}

static size_t
count_corrupt(const char *path)
{
	char pat[256];
	glob_t g;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "%s.corrupt-*", path);
	if (glob(pat, 0, NULL, &g) == 0)
		n = g.gl_pathc;
	globfree(&g);
	return n;
}

static void
test_load_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"{\"version\":1,\"rules\":[{\"rule\":\"fire\",\"instances\":[{\"labels\":{\"host\":",
		"not json at all",
		"{\"version\":2,\"rules\":[]}",
		"{\"version\":1}",
		"{\"version\":1,\"rules\":[{\"rule\":\"fire\",\"instances\":[{\"labels\":{\"host\":\"a\"},"
		"\"state\":\"burning\",\"since\":1}]}]}",
		"{\"version\":1,\"rules\":[{\"rule\":\"fire\",\"instances\":[{\"labels\":{\"host\":1},"
		"\"state\":\"firing\",\"since\":1}]}]}",
		"{\"version\":1,\"rules\":[{\"rule\":\"fire\",\"instances\":[{\"labels\":{},"
		"\"state\":\"firing\"}]}]}",
	};
	struct fx *fx = fx_new(SAVE_CONF);
	char path[128], saved[128];
	size_t i;

	(void)state;
	/* a missing file is a fresh start */
	snprintf(path, sizeof(path), "%s/none.json", fx->dir);
	assert_int_equal(rule_state_load(fx->rs, path), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(fx->dir, "bad.json", bad[i], path, sizeof(path));
		assert_int_equal(rule_state_load(fx->rs, path), -1);
		assert_int_equal(snapshot(fx).n, 0); /* all or nothing */
		assert_int_equal(access(path, F_OK), -1); /* moved aside */
		assert_int_equal(count_corrupt(path), 1);
		snprintf(saved, sizeof(saved), "rm -f %s.corrupt-*", path);
		assert_int_equal(system(saved), 0);
	}
	/* a truncated real file, and one that names a rule no longer configured */
	eval_one(fx, 1, 0, 1, 0);
	snprintf(saved, sizeof(saved), "%s/state.json", fx->dir);
	assert_int_equal(rule_state_save(fx->rs, saved), 0);
	assert_int_equal(truncate(saved, 40), 0);
	assert_int_equal(rule_state_load(fx->rs, saved), -1);
	assert_int_equal(count_corrupt(saved), 1);
	put(fx->dir, "gone.json", "{\"version\":1,\"rules\":[{\"rule\":\"gone\",\"instances\":[{}]},"
	    "{\"rule\":\"fire\",\"last_eval\":1700000000,\"instances\":[{\"labels\":{\"host\":\"b\"},"
	    "\"state\":\"firing\",\"since\":1700000000,\"fired_at\":1700000000,\"value\":3}]}]}",
	    path, sizeof(path));
	rule_set_free(fx->rs);
	fx->rs = rule_set_new(fx->cfg);
	rule_set_sink(fx->rs, sink, fx);
	assert_int_equal(rule_state_load(fx->rs, path), 0);
	assert_int_equal(snapshot(fx).n, 1);
	assert_int_equal(snapshot(fx).state[0], RULE_FIRING);
	assert_int_equal(count_corrupt(path), 0);
	fx_free(fx);
}

/* A reload keeps the state of the rules that stay. */
static void
test_take_state(void **state)
{
	struct fx *fx = fx_new(BASE "[alert a]\nexpr = x\n[alert b]\nexpr = y\n");
	struct fx *fx2 = fx_new(BASE "[alert b]\nexpr = y\n[alert c]\nexpr = z\n");

	(void)state;
	eval_one(fx, 0, 0, 1, 0);
	eval_one(fx, 1, 0, 1, 0);
	rule_set_take_state(fx2->rs, fx->rs);
	assert_int_equal(snapshot(fx).n, 0);
	assert_int_equal(snapshot(fx2).n, 1);
	eval_one(fx2, 0, 60, 1, 0);  /* b still firing: no event */
	assert_int_equal(fx2->nev, 0);
	eval_one(fx2, 0, 120, 0, 0);
	expect_ev(fx2, 0, RULE_FIRING, RULE_RESOLVED, 120);
	fx_free(fx2);
	fx_free(fx);
}

static int
has_labels(const struct snap *s, const char *labels, enum rule_state state)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->labels[i], labels) == 0 && s->state[i] == state)
			return 1;
	return 0;
}

#define EXT_RULES "[alert fire]\nexpr = b\n[alert pend]\nexpr = a\nfor = 10m\n"

/*
 * Saved state restored under other external labels: each instance keeps its state under
 * its new label set, its own labels stay, and no event is made. A state file written
 * before there were external labels gets them added.
 */
static void
test_external_labels_restore(void **state)
{
	struct fx *fx = fx_new(BASE "labels.instance = web01\nlabels.dc = fra\n" EXT_RULES);
	struct fx *fx2 = fx_new(BASE "labels.instance = web02\n" EXT_RULES), *fx3;
	struct step_in two = { { { "host=a", 1 }, { "host=a,instance=mine", 7 } }, 2,
	    { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };
	char path[128];
	struct snap s;

	(void)state;
	eval_rule(fx, 0, 0, &two);      /* fire {host=a} and {host=a,instance=mine}: firing */
	eval_one(fx, 1, 0, 1, 0);       /* pend {host=a}: pending since T0 */
	assert_true(ev_labels(fx, 0, "dc=fra,host=a,instance=web01"));
	assert_true(ev_labels(fx, 0, "dc=fra,host=a,instance=mine"));
	snprintf(path, sizeof(path), "%s/state.json", fx->dir);
	assert_int_equal(rule_state_save(fx->rs, path), 0);

	assert_int_equal(rule_state_load(fx2->rs, path), 0);
	s = snapshot(fx2);
	assert_int_equal(s.n, 3);
	assert_true(has_labels(&s, "host=a,instance=web02", RULE_FIRING));
	assert_true(has_labels(&s, "host=a,instance=mine", RULE_FIRING));
	assert_true(has_labels(&s, "host=a,instance=web02", RULE_PENDING));
	assert_int_equal(fx2->nev, 0);
	/* the same series: the restored instances, still firing and pending since T0 */
	eval_rule(fx2, 0, 60, &two);
	assert_int_equal(fx2->nev, 0);
	eval_one(fx2, 1, 600, 1, 0);
	assert_int_equal(fx2->nev, 1);
	expect_ev(fx2, 0, RULE_PENDING, RULE_FIRING, 600);
	assert_string_equal(fx2->ev[0].labels, "host=a,instance=web02");

	/* saved without external labels, restored with them */
	fx3 = fx_new(BASE EXT_RULES);
	eval_one(fx3, 0, 0, 1, 0);
	assert_string_equal(fx3->ev[0].labels, "host=a");
	assert_int_equal(rule_state_save(fx3->rs, path), 0);
	rule_set_free(fx2->rs);
	fx2->rs = rule_set_new(fx2->cfg);
	rule_set_sink(fx2->rs, sink, fx2);
	fx2->nev = 0;
	assert_int_equal(rule_state_load(fx2->rs, path), 0);
	s = snapshot(fx2);
	assert_int_equal(s.n, 1);
	assert_true(has_labels(&s, "host=a,instance=web02", RULE_FIRING));
	eval_one(fx2, 0, 60, 1, 0);
	assert_int_equal(fx2->nev, 0);
	fx_free(fx3);
	fx_free(fx2);
	fx_free(fx);
}

/*
 * A reload that changes the external labels: the instances move with their state, under the
 * new labels; rule_set_take_state counts them. One whose new label set another instance has
 * already is dropped.
 */
static void
test_external_labels_reload(void **state)
{
	struct fx *fx = fx_new(BASE "labels.instance = web01\n" EXT_RULES);
	struct fx *fx2 = fx_new(BASE "labels.instance = web02\n" EXT_RULES);
	struct fx *fx3 = fx_new(BASE "labels.instance = web02\n" EXT_RULES);
	struct step_in two = { { { "host=a", 1 }, { "host=a,instance=web02", 2 } }, 2,
	    { { NULL, 0 } }, 0, { { NULL, 0 } }, 0, 0 };
	struct snap s;

	(void)state;
	eval_one(fx, 0, 0, 1, 0);
	assert_int_equal(rule_set_take_state(fx2->rs, fx->rs), 1);
	s = snapshot(fx2);
	assert_int_equal(s.n, 1);
	assert_true(has_labels(&s, "host=a,instance=web02", RULE_FIRING));
	eval_one(fx2, 0, 60, 1, 0);   /* still firing: no event */
	assert_int_equal(fx2->nev, 0);
	eval_one(fx2, 0, 120, 0, 0);
	expect_ev(fx2, 0, RULE_FIRING, RULE_RESOLVED, 120);
	assert_string_equal(fx2->ev[0].labels, "host=a,instance=web02");

	/* the same external labels: nothing changes, nothing is counted */
	eval_one(fx3, 0, 0, 1, 0);
	assert_int_equal(rule_set_take_state(fx2->rs, fx3->rs), 0);
	assert_int_equal(snapshot(fx2).n, 1);

	/* {host=a} + web01 and {host=a,instance=web02}: both are {host=a,instance=web02} now */
	rule_set_free(fx->rs);
	fx->rs = rule_set_new(fx->cfg);
	eval_rule(fx, 0, 180, &two);
	assert_int_equal(snapshot(fx).n, 2);
	assert_int_equal(rule_set_take_state(fx3->rs, fx->rs), 1);
	s = snapshot(fx3);
	assert_int_equal(s.n, 1);
	assert_true(has_labels(&s, "host=a,instance=web02", RULE_FIRING));
	fx_free(fx3);
	fx_free(fx2);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_for),
		cmocka_unit_test(test_for_zero),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_recover),
		cmocka_unit_test(test_keep_firing_for),
		cmocka_unit_test(test_recover_keep),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_flapping_settles_off),
		cmocka_unit_test(test_nodata_keep),
		cmocka_unit_test(test_nodata_ok),
		cmocka_unit_test(test_nodata_alert),
		cmocka_unit_test(test_data_apart),
		cmocka_unit_test(test_nodata_unknown),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_take_state),
		cmocka_unit_test(test_external_labels),
		cmocka_unit_test(test_external_labels_restore),
		cmocka_unit_test(test_external_labels_reload),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("rule", tests, NULL, NULL);
}
