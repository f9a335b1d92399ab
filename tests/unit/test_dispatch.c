/* test_dispatch.c: the dispatcher on a controlled clock: grouping, repeats, routes, silences, maintenance windows, inhibition, escalation, acks, restarts. */
#include <sys/stat.h>

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "dispatch.h"
#include "outbox.h"
#include "rule.h"
#include "silence.h"
#include "util.h"

/*
 * The dispatcher reads fake_now. T0 is a midnight (UTC) a day or two ahead of the real
 * clock: silences_add wants ends in the real future, and the dispatcher compares silences
 * with its own clock, so times relative to T0 work for both.
 */
static double fake_now;
static double T0;

static double
clock_now(void)
{
	return fake_now;
}

#define NOTIFIER(n) "[notifier " n "]\ntype = webhook\nurl = http://127.0.0.1:9/" n "\n"
#define MAX_MSGS 64

/* One message the dispatcher handed to the outbox, read back from spool/queue/. */
struct msg {
	char receiver[64];
	char subject[256];
	char key[64];
	char summary[1024]; /* "ops: +Disk/web1 +Disk/web2 -Disk/web3" */
	cJSON *body;
};

struct fx {
	char dir[64];
	char spool[96];
	char silpath[128];
	struct cfg *cfg;
	struct outbox *ob;
	struct silences *sil;
	struct dispatch *d;
	char **seen;        /* spool files already taken */
	size_t nseen;
	struct msg got[MAX_MSGS];
	size_t ngot;
};

/* ---- the fixture --------------------------------------------------------------------------- */

/* Outbox (not started: messages stay in queue/), silences and dispatcher on fx->dir. */
static void
open_all(struct fx *fx)
{
	struct dispatch_params p = { 0 };
	char err[512];

	fx->ob = outbox_open(fx->spool, fx->cfg, err, sizeof(err));
	if (fx->ob == NULL)
		fail_msg("outbox_open: %s", err);
	fx->sil = silences_open(fx->silpath, err, sizeof(err));
	if (fx->sil == NULL)
		fail_msg("silences_open: %s", err);
	p.outbox = fx->ob;
	p.data_dir = fx->dir;
	p.silences = fx->sil;
	fx->d = dispatch_new(fx->cfg, &p, err, sizeof(err));
	if (fx->d == NULL)
		fail_msg("dispatch_new: %s", err);
	dispatch_set_clock(fx->d, clock_now);
}

static void
close_all(struct fx *fx)
{
	dispatch_free(fx->d);
	outbox_free(fx->ob, 0);
	silences_free(fx->sil);
	fx->d = NULL;
	fx->ob = NULL;
	fx->sil = NULL;
}

static struct fx *
fx_new(const char *conf)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	struct cfg_errors errs = { 0 };
	char alerts[96];

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/reeve-dispatch-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->spool, sizeof(fx->spool), "%s/spool", fx->dir);
	snprintf(alerts, sizeof(alerts), "%s/alerts", fx->dir);
	assert_int_equal(mkdir(alerts, 0700), 0);
	snprintf(fx->silpath, sizeof(fx->silpath), "%s/silences.json", alerts);
	fx->cfg = cfg_load_string(conf, "t.conf", &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("# config error: %s\n", errs.msgs[i]);
	assert_int_equal(errs.n, 0);
	assert_non_null(fx->cfg);
	fake_now = T0;
	open_all(fx);
	return fx;
}

static void
msgs_clear(struct fx *fx)
{
	for (size_t i = 0; i < fx->ngot; i++)
		cJSON_Delete(fx->got[i].body);
	memset(fx->got, 0, sizeof(fx->got));
	fx->ngot = 0;
}

static void
fx_free(struct fx *fx)
{
	char cmd[128];

	close_all(fx);
	msgs_clear(fx);
	for (size_t i = 0; i < fx->nseen; i++)
		free(fx->seen[i]);
	free(fx->seen);
	cfg_free(fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
}

/* A restart: everything closed and opened again on the same data_dir. */
static void
restart(struct fx *fx)
{
	close_all(fx);
	open_all(fx);
}

/* ---- reading messages back ----------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "alertname/instance" (or the alertname alone) of an alert of a body */
static void
alert_name(const cJSON *a, char *out, size_t len)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(a, "labels");
	const char *n = jstr(l, "alertname"), *i = jstr(l, "instance");

	assert_non_null(n);
	if (i != NULL)
		snprintf(out, len, "%s/%s", n, i);
	else
		snprintf(out, len, "%s", n);
}

/* Parse spool file name: header fields, the body as JSON, and a one-line summary. */
static void
read_msg(struct fx *fx, struct msg *m, const char *name)
{
	char path[256], *data, *p, *body, *fir[MAX_MSGS], *res[MAX_MSGS];
	size_t n = 0, cap = 4096, nf = 0, nr = 0, off;
	FILE *fp;
	const cJSON *alerts, *a;
	int seen_resolved = 0;

	snprintf(path, sizeof(path), "%s/queue/%s", fx->spool, name);
	assert_non_null(fp = fopen(path, "rb"));
	data = xmalloc(cap);
	for (size_t r; (r = fread(data + n, 1, cap - n - 1, fp)) > 0;) {
		n += r;
		if (n + 1 == cap)
			data = xrealloc(data, cap *= 2);
	}
	fclose(fp);
	data[n] = '\0';
	assert_true(strncmp(data, "reeve-spool 1\n", 14) == 0);
	assert_non_null(body = strstr(data, "\n\n"));
	*body = '\0';
	body += 2;
	for (p = data; *p != '\0'; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0')) {
		size_t l = strcspn(p, "\n");

		if (strncmp(p, "receiver: ", 10) == 0)
			snprintf(m->receiver, sizeof(m->receiver), "%.*s", (int)l - 10, p + 10);
		else if (strncmp(p, "subject: ", 9) == 0)
			snprintf(m->subject, sizeof(m->subject), "%.*s", (int)l - 9, p + 9);
		else if (strncmp(p, "key: ", 5) == 0)
			snprintf(m->key, sizeof(m->key), "%.*s", (int)l - 5, p + 5);
	}
	m->body = cJSON_ParseWithLengthOpts(body, strlen(body), NULL, 0);
	if (m->body == NULL)
		fail_msg("%s: the body is not JSON: %s", name, body);
	free(data);
	assert_string_equal(jstr(m->body, "receiver"), m->receiver);
	alerts = cJSON_GetObjectItemCaseSensitive(m->body, "alerts");
	assert_true(cJSON_IsArray(alerts));
	cJSON_ArrayForEach(a, alerts) {
		char s[128];
		const char *st = jstr(a, "status");

		assert_non_null(st);
		alert_name(a, s, sizeof(s));
		assert_true(nf + nr < MAX_MSGS);
		if (strcmp(st, "firing") == 0) {
			/* firing alerts first, then resolved ones */
			assert_false(seen_resolved);
			fir[nf++] = xstrdup(s);
		} else {
			assert_string_equal(st, "resolved");
			seen_resolved = 1;
			res[nr++] = xstrdup(s);
		}
	}
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(m->body, "firing")->valuedouble, nf);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(m->body, "resolved")->valuedouble, nr);
	qsort(fir, nf, sizeof(*fir), cmp_str);
	qsort(res, nr, sizeof(*res), cmp_str);
	off = (size_t)snprintf(m->summary, sizeof(m->summary), "%s%s:", m->receiver,
	    strstr(m->subject, "(escalated)") != NULL ? " (escalated)" : "");
	for (size_t i = 0; i < nf; i++) {
		off += (size_t)snprintf(m->summary + off, sizeof(m->summary) - off, " +%s", fir[i]);
		free(fir[i]);
	}
	for (size_t i = 0; i < nr; i++) {
		off += (size_t)snprintf(m->summary + off, sizeof(m->summary) - off, " -%s", res[i]);
		free(res[i]);
	}
}

/*
 * The messages put into the spool since the last call, oldest first (file names sort by
 * creation time), in fx->got.
 */
static size_t
take(struct fx *fx)
{
	char path[160];
	DIR *dir;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	msgs_clear(fx);
	snprintf(path, sizeof(path), "%s/queue", fx->spool);
	assert_non_null(dir = opendir(path));
	while ((e = readdir(dir)) != NULL) {
		size_t i;

		if (e->d_name[0] == '.')
			continue;
		for (i = 0; i < fx->nseen && strcmp(fx->seen[i], e->d_name) != 0; i++)
			;
		if (i < fx->nseen)
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(dir);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	assert_true(n <= MAX_MSGS);
	for (size_t i = 0; i < n; i++) {
		read_msg(fx, &fx->got[i], names[i]);
		fx->seen = xreallocarray(fx->seen, fx->nseen + 1, sizeof(*fx->seen));
		fx->seen[fx->nseen++] = names[i];
	}
	free(names);
	fx->ngot = n;
	return n;
}

/*
 * The messages since the last look must be exactly the given summaries (NULL-terminated;
 * compared as sorted lists: messages of different groups made in one look at the groups
 * come in no set order). Order over time is checked by looking after each step.
 */
static void
expect_msgs(struct fx *fx, int line, ...)
{
	const char *want[MAX_MSGS], *got[MAX_MSGS], *s;
	size_t nw = 0, ok;
	va_list ap;

	va_start(ap, line);
	while ((s = va_arg(ap, const char *)) != NULL && nw < MAX_MSGS)
		want[nw++] = s;
	va_end(ap);
	take(fx);
	for (size_t i = 0; i < fx->ngot; i++)
		got[i] = fx->got[i].summary;
	qsort(want, nw, sizeof(*want), cmp_str);
	qsort(got, fx->ngot, sizeof(*got), cmp_str);
	ok = nw == fx->ngot;
	for (size_t i = 0; ok && i < nw; i++)
		ok = strcmp(want[i], got[i]) == 0;
	if (ok)
		return;
	print_message("# at T0+%.0f (line %d): expected %zu message(s):\n", fake_now - T0, line, nw);
	for (size_t i = 0; i < nw; i++)
		print_message("#   %s\n", want[i]);
	print_message("# got %zu:\n", fx->ngot);
	for (size_t i = 0; i < fx->ngot; i++)
		print_message("#   %s\n", got[i]);
	fail_msg("line %d: not the expected messages", line);
}

#define expect(fx, ...) expect_msgs((fx), __LINE__, __VA_ARGS__, (const char *)NULL)
#define expect_none(fx) expect_msgs((fx), __LINE__, (const char *)NULL)

/* The first message of the last take for receiver whose summary starts with prefix. */
static const struct msg *
got_msg(struct fx *fx, const char *prefix)
{
	for (size_t i = 0; i < fx->ngot; i++)
		if (strncmp(fx->got[i].summary, prefix, strlen(prefix)) == 0)
			return &fx->got[i];
	fail_msg("no message %s...", prefix);
	return NULL;
}

/* ---- events and time ----------------------------------------------------------------------- */

static int
cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct reeve_label *)a)->name, ((const struct reeve_label *)b)->name);
}

/* A transition of rule's instance with labels "a=x,b=y" at fake_now. */
static void
event(struct fx *fx, const char *rule, const char *severity, const char *labels,
    enum rule_state from, enum rule_state to)
{
	struct reeve_label l[8], ann[1] = { { "summary", rule } };
	struct rule_event ev = { 0 };
	char buf[256], *p = buf;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", labels);
	while (*p != '\0') {
		char *comma = strchr(p, ','), *eq = strchr(p, '=');

		assert_non_null(eq);
		assert_true(n < 8);
		if (comma != NULL)
			*comma = '\0';
		*eq = '\0';
		l[n].name = p;
		l[n++].value = eq + 1;
		p = comma != NULL ? comma + 1 : p + strlen(p);
	}
	qsort(l, n, sizeof(*l), cmp_label);
	ev.rule = rule;
	ev.labels = l;
	ev.nlabels = n;
	ev.from = from;
	ev.to = to;
	ev.value = to == RULE_FIRING ? 1 : 0;
	ev.time = fake_now;
	ev.since = NAN;
	ev.severity = severity;
	ev.annotations = ann;
	ev.nannotations = 1;
	ev.summary = rule;
	dispatch_event(fx->d, &ev, NULL, 0);
}

static void
fire(struct fx *fx, const char *rule, const char *severity, const char *labels)
{
	event(fx, rule, severity, labels, RULE_PENDING, RULE_FIRING);
}

static void
resolve(struct fx *fx, const char *rule, const char *severity, const char *labels)
{
	event(fx, rule, severity, labels, RULE_FIRING, RULE_RESOLVED);
}

/*
 * Run the dispatcher from fake_now to t as its thread does: a look at the groups now, then
 * at the time it asks for next (at most a second later), the last one at t.
 */
static void
run_to(struct fx *fx, double t)
{
	assert_true(t >= fake_now);
	for (;;) {
		double next = dispatch_tick(fx->d);

		if (fake_now >= t)
			break;
		if (!(next > fake_now))
			fail_msg("at T0+%.3f the dispatcher asks to look again at T0+%.3f", fake_now - T0,
			    next - T0);
		fake_now = next < t ? next : t;
	}
}

/* T0 + dt */
static void
run_for(struct fx *fx, double dt)
{
	run_to(fx, T0 + dt);
}

static void
add_silence(struct fx *fx, enum silence_kind kind, const char *matchers, double from, double to)
{
	char id[17], err[256];

	if (silences_add(fx->sil, kind, matchers, from, to, "test", "test_dispatch", id, err,
	    sizeof(err)) == -1)
		fail_msg("silences_add %s: %s", matchers, err);
}

static size_t
groups(struct fx *fx)
{
	struct dispatch_stats st;

	dispatch_get_stats(fx->d, &st);
	return st.groups;
}

static void
check_time(const struct msg *m, double t)
{
	char want[48];

	assert_string_equal(jstr(m->body, "time"), util_fmt_rfc3339(want, sizeof(want), t));
}

/* ---- grouping and timing ------------------------------------------------------------------- */

static const char conf_default[] =
    NOTIFIER("ops")
    "[route default]\nnotify = ops\ngroup_wait = 30s\ngroup_interval = 5m\n"
    "repeat_interval = 1h\n";

/* Alerts of one alertname within group_wait make one message, at group_wait, not before. */
static void
test_group_wait(void **state)
{
	struct fx *fx = fx_new(conf_default);
	const struct msg *m;
	const cJSON *gl;

	(void)state;
	fire(fx, "Disk", "warning", "instance=web1");
	run_for(fx, 5);
	fire(fx, "Cpu", "warning", "instance=cpu1");
	run_for(fx, 10);
	fire(fx, "Disk", "warning", "instance=web2");
	run_for(fx, 20);
	fire(fx, "Disk", "warning", "instance=web3");
	run_for(fx, 29);
	expect_none(fx);
	run_for(fx, 30);
	expect(fx, "ops: +Disk/web1 +Disk/web2 +Disk/web3");
	m = got_msg(fx, "ops: +Disk");
	check_time(m, T0 + 30);
	assert_string_equal(jstr(m->body, "status"), "firing");
	assert_string_equal(jstr(m->body, "groupKey"), "default{alertname=\"Disk\"}");
	gl = cJSON_GetObjectItemCaseSensitive(m->body, "groupLabels");
	assert_int_equal(cJSON_GetArraySize(gl), 1);
	assert_string_equal(jstr(gl, "alertname"), "Disk");
	assert_non_null(strstr(m->subject, "[FIRING:3]"));
	/* the group of Cpu formed at T0+5: its own group_wait */
	run_for(fx, 34);
	expect_none(fx);
	run_for(fx, 35);
	expect(fx, "ops: +Cpu/cpu1");
	assert_int_equal(groups(fx), 2);
	/* an alert that fires and resolves within group_wait is never told */
	run_for(fx, 40);
	fire(fx, "Blip", NULL, "instance=b1");
	run_for(fx, 50);
	resolve(fx, "Blip", NULL, "instance=b1");
	run_for(fx, 200);
	expect_none(fx);
	assert_int_equal(groups(fx), 2);
	/* while a round of rules is under way (dispatch_hold) nothing is sent */
	dispatch_hold(fx->d, 1);
	fire(fx, "Load", NULL, "instance=l1");
	run_for(fx, 260);
	expect_none(fx);
	dispatch_hold(fx->d, 0);
	run_for(fx, 261);
	expect(fx, "ops: +Load/l1");
	fx_free(fx);
}

/*
 * After the first message a change waits until the last message + group_interval: an
 * alert joining, an alert resolving. Fewer firing (an alert silenced) is no message, and
 * an alert whose firing was never told is not told when it resolves.
 */
static void
test_group_interval(void **state)
{
	struct fx *fx = fx_new(conf_default);

	(void)state;
	fire(fx, "Disk", "warning", "instance=web1");
	fire(fx, "Disk", "warning", "instance=web2");
	run_for(fx, 30);
	expect(fx, "ops: +Disk/web1 +Disk/web2");
	run_for(fx, 100);
	fire(fx, "Disk", "warning", "instance=web3");
	run_for(fx, 329);
	expect_none(fx);
	run_for(fx, 330);
	expect(fx, "ops: +Disk/web1 +Disk/web2 +Disk/web3");
	run_for(fx, 400);
	resolve(fx, "Disk", "warning", "instance=web1");
	run_for(fx, 629);
	expect_none(fx);
	run_for(fx, 630);
	expect(fx, "ops: +Disk/web2 +Disk/web3 -Disk/web1");
	assert_string_equal(jstr(fx->got[0].body, "status"), "firing");
	/* web2 silenced: one firing fewer is no message; web4 fires silenced: not told */
	run_for(fx, 700);
	add_silence(fx, SILENCE_MUTE, "instance=~\"web[24]\"", T0 + 700, T0 + 100000);
	fire(fx, "Disk", "warning", "instance=web4");
	run_for(fx, 1000);
	expect_none(fx);
	/* web4 resolves: its firing was never told, nor is its end */
	resolve(fx, "Disk", "warning", "instance=web4");
	run_for(fx, 1400);
	expect_none(fx);
	/* web3 resolves (group_interval since 630 has passed: told at once) */
	resolve(fx, "Disk", "warning", "instance=web3");
	run_for(fx, 1400);
	expect(fx, "ops: -Disk/web3");
	assert_string_equal(jstr(fx->got[0].body, "status"), "resolved");
	fx_free(fx);
}

/* An unchanged firing group is told again exactly at last message + repeat_interval. */
static void
test_repeat_interval(void **state)
{
	struct fx *fx = fx_new(conf_default);
	char k1[64];

	(void)state;
	fire(fx, "Disk", "warning", "instance=web1");
	run_for(fx, 30);
	expect(fx, "ops: +Disk/web1");
	snprintf(k1, sizeof(k1), "%s", fx->got[0].key);
	run_for(fx, 30 + 3599);
	expect_none(fx);
	run_for(fx, 30 + 3600);
	expect(fx, "ops: +Disk/web1");
	check_time(&fx->got[0], T0 + 3630);
	assert_string_not_equal(fx->got[0].key, k1);
	run_for(fx, 30 + 7199);
	expect_none(fx);
	run_for(fx, 30 + 7200);
	expect(fx, "ops: +Disk/web1");
	/* a change restarts the count: the next repeat is an hour after it */
	run_for(fx, 7300);
	fire(fx, "Disk", "warning", "instance=web2");
	run_for(fx, 7529);
	expect_none(fx);
	run_for(fx, 7530);
	expect(fx, "ops: +Disk/web1 +Disk/web2");
	run_for(fx, 7530 + 3599);
	expect_none(fx);
	run_for(fx, 7530 + 3600);
	expect(fx, "ops: +Disk/web1 +Disk/web2");
	fx_free(fx);
}

/*
 * A group whose alerts are all silenced past its repeat_interval is not repeated while
 * they are, and is repeated once the silence ends.
 */
static void
test_repeat_muted(void **state)
{
	struct fx *fx = fx_new(conf_default);

	(void)state;
	fire(fx, "Disk", "warning", "instance=web1");
	run_for(fx, 30);
	expect(fx, "ops: +Disk/web1");
	add_silence(fx, SILENCE_MUTE, "instance=\"web1\"", T0 + 100, T0 + 5000);
	run_for(fx, 4999);
	expect_none(fx);
	run_for(fx, 5010);
	expect(fx, "ops: +Disk/web1");
	run_for(fx, 5000 + 3599);
	expect_none(fx);
	run_for(fx, 5000 + 3600);
	expect(fx, "ops: +Disk/web1");
	fx_free(fx);
}

/* ---- routes -------------------------------------------------------------------------------- */

/*
 * Routes in file order; continue goes on; [route default] (here first in the file) takes
 * only what no route took; group_by labels and `...`.
 */
static void
test_routes(void **state)
{
	struct fx *fx = fx_new(
	    NOTIFIER("ops") NOTIFIER("dba") NOTIFIER("pager") NOTIFIER("web")
	    "[route default]\nnotify = ops\ngroup_wait = 10s\n"
	    "[route db]\nmatch = team=\"db\"\nnotify = dba\ncontinue = yes\ngroup_wait = 10s\n"
	    "[route crit]\nmatch = severity=\"critical\"\nnotify = pager\ngroup_by = instance\n"
	    "group_wait = 10s\n"
	    "[route web]\nmatch = instance=~\"web.*\"\nnotify = web\ngroup_by = ...\n"
	    "group_wait = 10s\n");
	const struct msg *m;
	const cJSON *gl;
	struct dispatch_stats st;

	(void)state;
	fire(fx, "Db", "critical", "instance=db1,team=db");  /* db, continue, crit */
	fire(fx, "Db", "warning", "instance=web1,team=db");  /* db, continue, web */
	fire(fx, "Db", "info", "instance=x1,team=db");       /* db, continue, nothing: not default */
	fire(fx, "Host", "critical", "instance=db1");        /* crit, with Db/db1 */
	fire(fx, "Power", "critical", "");                   /* crit, instance "" */
	fire(fx, "Disk", "warning", "instance=web2");        /* web */
	fire(fx, "Disk", "warning", "instance=web3");        /* web, a group of its own */
	fire(fx, "Disk", "warning", "instance=other");       /* default */
	run_for(fx, 9);
	expect_none(fx);
	run_for(fx, 10);
	expect(fx,
	    "dba: +Db/db1 +Db/web1 +Db/x1",
	    "pager: +Db/db1 +Host/db1",
	    "pager: +Power",
	    "web: +Db/web1",
	    "web: +Disk/web2",
	    "web: +Disk/web3",
	    "ops: +Disk/other");
	m = got_msg(fx, "pager: +Db/db1");
	assert_string_equal(jstr(m->body, "groupKey"), "crit{instance=\"db1\"}");
	gl = cJSON_GetObjectItemCaseSensitive(m->body, "groupLabels");
	assert_int_equal(cJSON_GetArraySize(gl), 1);
	assert_string_equal(jstr(gl, "instance"), "db1");
	m = got_msg(fx, "pager: +Power");
	assert_string_equal(jstr(m->body, "groupKey"), "crit{instance=\"\"}");
	m = got_msg(fx, "web: +Db/web1");
	assert_string_equal(jstr(m->body, "groupKey"),
	    "web{alertname=\"Db\",instance=\"web1\",severity=\"warning\",team=\"db\"}");
	gl = cJSON_GetObjectItemCaseSensitive(m->body, "groupLabels");
	assert_int_equal(cJSON_GetArraySize(gl), 4);
	assert_string_equal(jstr(gl, "team"), "db");
	assert_int_equal(groups(fx), 7);
	dispatch_get_stats(fx->d, &st);
	assert_int_equal(st.unrouted, 0);
	assert_int_equal(st.messages, 7);
	/* a resolve goes to every route that took the alert */
	run_for(fx, 400);
	resolve(fx, "Db", "warning", "instance=web1,team=db");
	run_for(fx, 400);
	expect(fx, "dba: +Db/db1 +Db/x1 -Db/web1", "web: -Db/web1");
	fx_free(fx);
}

/* Without [route default] an alert no route takes is counted, not told. */
static void
test_unrouted(void **state)
{
	struct fx *fx = fx_new(NOTIFIER("ops")
	    "[route crit]\nmatch = severity=\"critical\"\nnotify = ops\ngroup_wait = 0s\n");
	struct dispatch_stats st;

	(void)state;
	fire(fx, "Disk", "warning", "instance=web1");
	fire(fx, "Host", "critical", "instance=web1");
	run_for(fx, 0);
	expect(fx, "ops: +Host/web1");
	dispatch_get_stats(fx->d, &st);
	assert_int_equal(st.unrouted, 1);
	assert_int_equal(st.groups, 1);
	fx_free(fx);
}

/* ---- silences ------------------------------------------------------------------------------ */

/*
 * Silenced alerts are left out; when the silence ends they are told; a silence may start in
 * the future; an alert told as firing is told as resolved even when it is silenced by then;
 * a group with a silenced alert still keeps group_interval between its messages.
 */
static void
test_silences(void **state)
{
	struct fx *fx = fx_new(conf_default);

	(void)state;
	add_silence(fx, SILENCE_MUTE, "instance=\"web1\"", T0, T0 + 1000);
	add_silence(fx, SILENCE_MUTE, "alertname=\"Disk\", instance=~\"web[34]\"", T0 + 2000,
	    T0 + 3000);
	fire(fx, "Disk", "warning", "instance=web1");
	fire(fx, "Disk", "warning", "instance=web2");
	run_for(fx, 30);
	expect(fx, "ops: +Disk/web2");
	run_for(fx, 999);
	expect_none(fx);
	/* the silence ends: web1 is told within ten seconds */
	run_for(fx, 1010);
	expect(fx, "ops: +Disk/web1 +Disk/web2");
	/* the second silence has not started: web3 is told */
	run_for(fx, 1500);
	fire(fx, "Disk", "warning", "instance=web3");
	run_for(fx, 1500);
	expect(fx, "ops: +Disk/web1 +Disk/web2 +Disk/web3");
	/* now it has: web4 fires silenced, nothing is told (web3 left out is no message) */
	run_for(fx, 2100);
	fire(fx, "Disk", "warning", "instance=web4");
	run_for(fx, 2999);
	expect_none(fx);
	run_for(fx, 3010);
	expect(fx, "ops: +Disk/web1 +Disk/web2 +Disk/web3 +Disk/web4");

	/*
	 * web2 is silenced; a message goes out without it (web5 joined); then web2 resolves
	 * under its silence: its firing was told, so is its end.
	 */
	run_for(fx, 3100);
	add_silence(fx, SILENCE_MUTE, "instance=~\"web[26]\"", T0 + 3100, T0 + 100000);
	run_for(fx, 3200);
	fire(fx, "Disk", "warning", "instance=web5");
	run_for(fx, 3299);
	expect_none(fx);
	run_for(fx, 3300);
	expect(fx, "ops: +Disk/web1 +Disk/web3 +Disk/web4 +Disk/web5");
	run_for(fx, 3400);
	resolve(fx, "Disk", "warning", "instance=web2");
	run_for(fx, 3599);
	expect_none(fx);
	run_for(fx, 3600);
	expect(fx, "ops: +Disk/web1 +Disk/web3 +Disk/web4 +Disk/web5 -Disk/web2");

	/*
	 * group_interval holds in a group with a silenced alert too: web6 (silenced) keeps the
	 * group looked at every ten seconds, yet web7 joining is told 5m after the last message.
	 */
	run_for(fx, 3700);
	fire(fx, "Disk", "warning", "instance=web6");
	run_for(fx, 3800);
	fire(fx, "Disk", "warning", "instance=web7");
	run_for(fx, 3899);
	expect_none(fx);
	run_for(fx, 3900);
	expect(fx, "ops: +Disk/web1 +Disk/web3 +Disk/web4 +Disk/web5 +Disk/web7");
	run_for(fx, 3950);
	fire(fx, "Disk", "warning", "instance=web8");
	run_for(fx, 4199);
	expect_none(fx);
	run_for(fx, 4200);
	expect(fx, "ops: +Disk/web1 +Disk/web3 +Disk/web4 +Disk/web5 +Disk/web7 +Disk/web8");
	fx_free(fx);
}

/* ---- maintenance windows ------------------------------------------------------------------- */

static double
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (double)timegm(&tm);
}

/*
 * backup01 fires at `muted` (inside the window) and is not told until the window closes
 * at `closes` (then within ten seconds); a control alert firing with it is told at once.
 */
static void
window(struct fx *fx, double muted, double closes)
{
	assert_int_equal(groups(fx), 0);
	fake_now = muted;
	fire(fx, "Backup", NULL, "instance=backup01");
	fire(fx, "Backup", NULL, "instance=web1");
	run_to(fx, muted);
	expect(fx, "ops: +Backup/web1");
	run_to(fx, closes - 1);
	expect_none(fx);
	run_to(fx, closes + 10);
	expect(fx, "ops: +Backup/backup01");
	resolve(fx, "Backup", NULL, "instance=backup01");
	resolve(fx, "Backup", NULL, "instance=web1");
	run_to(fx, closes + 100);
	expect(fx, "ops: -Backup/backup01", "ops: -Backup/web1");
	assert_int_equal(groups(fx), 0);
}

/* backup01 firing at t (outside the window) is told at once. */
static void
no_window(struct fx *fx, double t)
{
	assert_int_equal(groups(fx), 0);
	fake_now = t;
	fire(fx, "Backup", NULL, "instance=backup01");
	run_to(fx, t);
	expect(fx, "ops: +Backup/backup01");
	resolve(fx, "Backup", NULL, "instance=backup01");
	run_to(fx, t + 100);
	expect(fx, "ops: -Backup/backup01");
	assert_int_equal(groups(fx), 0);
}

/*
 * [maintenance] schedule "0 2 * * *" in Europe/Berlin for 1h: 02:30 local is muted, 03:30
 * is not; in winter (CET, UTC+1), in summer (CEST, UTC+2), and on both days the clocks
 * change: on 2026-03-29 02:00 does not exist and the window opens at the jump (01:00Z,
 * 03:00 CEST); on 2026-10-25 02:00 happens twice and the window opens at the first (CEST)
 * only (cron_next_in: a time that occurs twice fires at its first occurrence).
 */
static void
test_maintenance(void **state)
{
	struct fx *fx = fx_new(
	    NOTIFIER("ops")
	    "[route default]\nnotify = ops\ngroup_by = ...\ngroup_wait = 0s\n"
	    "group_interval = 1m\nrepeat_interval = 1d\n"
	    "[maintenance nightly]\nschedule = 0 2 * * *\ntimezone = Europe/Berlin\n"
	    "duration = 1h\nmatch = instance=\"backup01\"\ncomment = backups\n");

	(void)state;
	/* 2026-01-15 02:30 CET = 01:30Z, closes 03:00 CET = 02:00Z; 03:30 CET = 02:30Z */
	window(fx, utc(2026, 1, 15, 1, 30), utc(2026, 1, 15, 2, 0));
	no_window(fx, utc(2026, 1, 15, 2, 30));
	/* 2026-03-29: opens at the jump 01:00Z (03:00 CEST): 03:30 CEST muted, 04:30 not */
	no_window(fx, utc(2026, 3, 29, 0, 30)); /* 01:30 CET, before the window */
	window(fx, utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 0));
	no_window(fx, utc(2026, 3, 29, 2, 30));
	/* 2026-07-15 02:30 CEST = 00:30Z, closes 01:00Z; 03:30 CEST = 01:30Z */
	window(fx, utc(2026, 7, 15, 0, 30), utc(2026, 7, 15, 1, 0));
	no_window(fx, utc(2026, 7, 15, 1, 30));
	/*
	 * 2026-10-25: 02:30 CEST = 00:30Z muted, closes 03:00 CEST = 01:00Z; the second 02:30
	 * (CET, 01:30Z) is outside the window, and so is 03:30 CET = 02:30Z
	 */
	window(fx, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 0));
	no_window(fx, utc(2026, 10, 25, 1, 30));
	no_window(fx, utc(2026, 10, 25, 2, 30));
	/* the next night, in CET: 02:30 = 01:30Z muted until 02:00Z */
	window(fx, utc(2026, 10, 26, 1, 30), utc(2026, 10, 26, 2, 0));
	no_window(fx, utc(2026, 10, 26, 2, 30));
	fx_free(fx);
}

/* ---- inhibition ---------------------------------------------------------------------------- */

/*
 * While HostDown fires on an instance, warnings of that instance are muted, not those of
 * other instances; when it resolves they are told; an alert never inhibits itself.
 */
static void
test_inhibition(void **state)
{
	struct fx *fx = fx_new(
	    NOTIFIER("ops")
	    "[route default]\nnotify = ops\ngroup_wait = 30s\ngroup_interval = 5m\n"
	    "repeat_interval = 1h\n"
	    "[inhibit host_down]\nsource_match = alertname=\"HostDown\"\n"
	    "target_match = severity=\"warning\"\nequal = instance\n");

	(void)state;
	fire(fx, "HostDown", "critical", "instance=a");
	fire(fx, "Disk", "warning", "instance=a");
	fire(fx, "Disk", "warning", "instance=b");
	fire(fx, "Disk", "critical", "instance=c");
	fire(fx, "Cpu", "warning", "instance=a");
	run_for(fx, 30);
	expect(fx, "ops: +HostDown/a", "ops: +Disk/b +Disk/c");
	/*
	 * HostDown resolves: Cpu/a (its group never sent) is told within ten seconds; the group
	 * of Disk tells Disk/a at its group_interval
	 */
	run_for(fx, 100);
	resolve(fx, "HostDown", "critical", "instance=a");
	run_for(fx, 109);
	expect_none(fx);
	run_for(fx, 110);
	expect(fx, "ops: +Cpu/a");
	run_for(fx, 329);
	expect_none(fx);
	run_for(fx, 330);
	expect(fx, "ops: -HostDown/a", "ops: +Disk/a +Disk/b +Disk/c");
	/* a HostDown that is a warning itself: source and target, never of itself */
	run_for(fx, 400);
	fire(fx, "HostDown", "warning", "instance=x");
	run_for(fx, 430);
	expect(fx, "ops: +HostDown/x");
	/* HostDown on b mutes Disk/b from now on; told as firing, its end is still told */
	run_for(fx, 500);
	fire(fx, "HostDown", "critical", "instance=b");
	run_for(fx, 730);
	expect(fx, "ops: +HostDown/b +HostDown/x");
	run_for(fx, 800);
	resolve(fx, "Disk", "warning", "instance=b");
	run_for(fx, 800);
	expect(fx, "ops: +Disk/a +Disk/c -Disk/b");
	fx_free(fx);
}

/* ---- escalation and acknowledgement -------------------------------------------------------- */

/*
 * escalate_after 10m: an alert nobody acknowledged goes to escalate_to exactly 10m after it
 * fired, once per incident; an acknowledged one is neither escalated nor repeated, but a
 * change of its group is told.
 */
static void
test_escalation(void **state)
{
	struct fx *fx = fx_new(
	    NOTIFIER("ops") NOTIFIER("pager")
	    "[route hosts]\nmatch = alertname=\"HostDown\"\nnotify = ops\ngroup_by = host\n"
	    "group_wait = 30s\ngroup_interval = 5m\nrepeat_interval = 1h\n"
	    "escalate_after = 10m\nescalate_to = pager\n");
	struct dispatch_stats st;

	(void)state;
	add_silence(fx, SILENCE_ACK, "host=\"b\"", T0, T0 + 100000);
	fire(fx, "HostDown", "critical", "host=a,instance=a1");
	fire(fx, "HostDown", "critical", "host=b,instance=b1");
	run_for(fx, 30);
	expect(fx, "ops: +HostDown/a1", "ops: +HostDown/b1");
	run_for(fx, 599);
	expect_none(fx);
	run_for(fx, 600);
	expect(fx, "pager (escalated): +HostDown/a1");
	assert_non_null(strstr(fx->got[0].subject, "(escalated)"));
	/* once: the repeat an hour after the first message is for a only (b is acknowledged) */
	run_for(fx, 3629);
	expect_none(fx);
	run_for(fx, 3630);
	expect(fx, "ops: +HostDown/a1");
	/* a change in b's group is told although it is acknowledged */
	run_for(fx, 4000);
	fire(fx, "HostDown", "critical", "host=b,instance=b2");
	run_for(fx, 4000);
	expect(fx, "ops: +HostDown/b1 +HostDown/b2");
	run_for(fx, 7229);
	expect_none(fx);
	run_for(fx, 7230);
	expect(fx, "ops: +HostDown/a1");
	run_for(fx, 7300);
	resolve(fx, "HostDown", "critical", "host=b,instance=b1");
	run_for(fx, 7300);
	expect(fx, "ops: +HostDown/b2 -HostDown/b1");
	/* a resolves and fires again: a new incident, escalated again 10m after */
	resolve(fx, "HostDown", "critical", "host=a,instance=a1");
	run_for(fx, 7529);
	expect_none(fx);
	run_for(fx, 7530);
	expect(fx, "ops: -HostDown/a1");
	run_for(fx, 8000);
	fire(fx, "HostDown", "critical", "host=a,instance=a1");
	run_for(fx, 8030);
	expect(fx, "ops: +HostDown/a1");
	run_for(fx, 8599);
	expect_none(fx);
	run_for(fx, 8600);
	expect(fx, "pager (escalated): +HostDown/a1");
	dispatch_get_stats(fx->d, &st);
	assert_int_equal(st.escalations, 2);
	fx_free(fx);
}

/*
 * An escalation due between two messages of a group goes out on time, and does not take
 * along a change that must wait for group_interval.
 */
static void
test_escalation_interval(void **state)
{
	struct fx *fx = fx_new(
	    NOTIFIER("ops") NOTIFIER("pager")
	    "[route hosts]\nnotify = ops\ngroup_by = host\n"
	    "group_wait = 30s\ngroup_interval = 5m\nrepeat_interval = 1h\n"
	    "escalate_after = 10m\nescalate_to = pager\n");

	(void)state;
	fire(fx, "HostDown", "critical", "host=a,instance=a1");
	run_for(fx, 30);
	expect(fx, "ops: +HostDown/a1");
	run_for(fx, 400);
	fire(fx, "HostDown", "critical", "host=a,instance=a2");
	run_for(fx, 400);
	expect(fx, "ops: +HostDown/a1 +HostDown/a2");
	run_for(fx, 500);
	fire(fx, "HostDown", "critical", "host=a,instance=a3");
	run_for(fx, 600);
	expect(fx, "pager (escalated): +HostDown/a1");
	run_for(fx, 699);
	expect_none(fx);
	run_for(fx, 700);
	expect(fx, "ops: +HostDown/a1 +HostDown/a2 +HostDown/a3");
	run_for(fx, 999);
	expect_none(fx);
	run_for(fx, 1000);
	expect(fx, "pager (escalated): +HostDown/a2");
	run_for(fx, 1100);
	expect(fx, "pager (escalated): +HostDown/a3");
	fx_free(fx);
}

/* ---- restart ------------------------------------------------------------------------------- */

/*
 * The state survives a restart: an unchanged group is not told again before its repeat,
 * a pending resolve is told, a group waiting for its group_wait still waits.
 */
static void
test_restart(void **state)
{
	struct fx *fx = fx_new(conf_default);
	const char *k;

	(void)state;
	fire(fx, "Disk", "warning", "instance=web1");
	fire(fx, "Disk", "warning", "instance=web2");
	run_for(fx, 30);
	expect(fx, "ops: +Disk/web1 +Disk/web2");
	run_for(fx, 100);
	resolve(fx, "Disk", "warning", "instance=web2");
	run_for(fx, 100); /* the look at the groups saves the state */
	restart(fx);
	run_for(fx, 329);
	expect_none(fx);
	run_for(fx, 330);
	expect(fx, "ops: +Disk/web1 -Disk/web2");
	k = fx->got[0].key;
	assert_string_equal(k + strlen(k) - 2, "-1"); /* the group's second message */
	run_for(fx, 400);
	restart(fx);
	run_for(fx, 330 + 3599);
	expect_none(fx);
	run_for(fx, 330 + 3600);
	expect(fx, "ops: +Disk/web1");
	k = fx->got[0].key;
	assert_string_equal(k + strlen(k) - 2, "-2");
	/* a new group waiting for its group_wait across a restart */
	run_for(fx, 4000);
	fire(fx, "Cpu", "warning", "instance=cpu1");
	run_for(fx, 4010);
	restart(fx);
	run_for(fx, 4029);
	expect_none(fx);
	run_for(fx, 4030);
	expect(fx, "ops: +Cpu/cpu1");
	assert_int_equal(groups(fx), 2);
	fx_free(fx);
}

/* ---- reconcile ----------------------------------------------------------------------------- */

static void
eval_one(struct rule_set *rs, const char *rule, const char *instance, double t)
{
	struct reeve_label l = { "instance", instance };
	struct rule_sample s = { &l, 1, 1.0 };
	struct rule_input in = { 0 };
	long i = rule_find(rs, rule);

	assert_true(i >= 0);
	in.expr = &s;
	in.nexpr = 1;
	assert_int_equal(rule_eval(rs, (size_t)i, t, &in), 0);
}

/*
 * After a restart the restored rule state is compared: a firing alert the dispatcher did
 * not know is told as firing (with its rule's annotations rendered for it), one it held as
 * firing that is not firing any more is told as resolved, one firing in both stays as it was.
 */
static void
test_reconcile(void **state)
{
	struct fx *fx = fx_new(
	    NOTIFIER("ops")
	    "[alert Known]\nexpr = known_metric > 0\nseverity = warning\n"
	    "[alert New]\nexpr = new_metric > 0\nseverity = warning\n"
	    "annotations.summary = {{ labels.instance }} is new at {{ value }}\n"
	    "[route default]\nnotify = ops\ngroup_wait = 30s\ngroup_interval = 5m\n"
	    "repeat_interval = 1h\n");
	struct rule_set *rs = rule_set_new(fx->cfg);

	(void)state;
	fire(fx, "Known", "warning", "instance=k1");
	fire(fx, "Known", "warning", "instance=k2");
	run_for(fx, 30);
	expect(fx, "ops: +Known/k1 +Known/k2");
	/* the rule set (no sink: the dispatcher hears nothing): New/n1 and Known/k2 fire */
	eval_one(rs, "New", "n1", T0 + 40);
	eval_one(rs, "Known", "k2", T0 + 40);
	run_for(fx, 100);
	dispatch_reconcile(fx->d, rs);
	run_for(fx, 129);
	expect_none(fx);
	run_for(fx, 130);
	expect(fx, "ops: +New/n1");
	{
		const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(fx->got[0].body,
		    "alerts"), 0);
		char want[48];

		/* it fired when the rule set says, not when the dispatcher learnt of it */
		assert_string_equal(jstr(a, "startsAt"), util_fmt_rfc3339(want, sizeof(want),
		    T0 + 40));
		assert_string_equal(jstr(cJSON_GetObjectItemCaseSensitive(a, "annotations"),
		    "summary"), "n1 is new at 1");
	}
	run_for(fx, 329);
	expect_none(fx);
	run_for(fx, 330);
	expect(fx, "ops: +Known/k2 -Known/k1");
	/* a second reconcile with the same rule state changes nothing */
	dispatch_reconcile(fx->d, rs);
	run_for(fx, 1000);
	expect_none(fx);
	rule_set_free(rs);
	fx_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_wait),
		cmocka_unit_test(test_group_interval),
		cmocka_unit_test(test_repeat_interval),
		cmocka_unit_test(test_repeat_muted),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_unrouted),
		cmocka_unit_test(test_silences),
		cmocka_unit_test(test_maintenance),
		cmocka_unit_test(test_inhibition),
		cmocka_unit_test(test_escalation),
		cmocka_unit_test(test_escalation_interval),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_reconcile),
	};

	T0 = (floor(util_now() / 86400) + 2) * 86400;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
