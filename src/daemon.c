/* daemon.c: running reeve: start-up, signals, reload, shutdown, and reeve's own metrics. */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "backtest.h"
#include "auth.h"
#include "config.h"
#include "daemon.h"
#include "dispatch.h"
#include "email.h"
#include "graph.h"
#include "history.h"
#include "silence.h"
#include "expo.h"
#include "expr.h"
#include "http.h"
#include "tls.h"
#include "log.h"
#include "notifier.h"
#include "outbox.h"
#include "plugin.h"
#include "promapi.h"
#include "registry.h"
#include "reporter.h"
#include "ruler.h"
#include "sched.h"
#include "status.h"
#include "store.h"
#include "util.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static const char default_config[] =
#include "default-conf.inc"
    ;

#define DEFAULT_CONFIG_NAME "(built-in default config)"

/* Everything the running daemon holds. Reloads happen on the main thread only. */
struct daemon {
	struct cfg *cfg;
	const char *path;
	struct store *store;
	struct registry *reg;
	struct sched *sched;
	struct http *http;
	struct api *api;
	struct ruler *ruler;
	struct outbox *outbox;
	struct dispatch *dispatch;
	struct silences *silences;
	struct reporter *reporter;
	struct promapi *promapi;
	struct status *status;      /* the page at / */
	struct history *report_hist; /* the reports' view of the data */
	struct expr_source report_src;
	struct notify_graph graph;  /* graphs in mail, from the store */
	double start_time;
	/* written by the main thread, read by the self probe: plain doubles are fine here */
	volatile double reload_ok, reload_time;
	unsigned long long reloads;
	double last_sweep;          /* self probe only */
	/* cfg->memory_window, fixed at start (a reload keeps the running one): the self probe
	 * reads this, never d->cfg, which a reload frees and replaces under it */
	double memory_window;
	unsigned long long expired; /* self probe only */
	/*
	 * The self probe reads the stats of http, ruler, outbox, reporter and dispatch, which
	 * the shutdown frees before the scheduler (intake stops first). It collects under this
	 * lock and does nothing once stopping is set, which the shutdown does under the lock.
	 */
	pthread_mutex_t self_lock;
	int stopping;
};

/* How often stale series are swept out of memory, and the least age at which they go. */
#define SWEEP_INTERVAL 60.0

static struct cfg *
load(const char *path, struct cfg_errors *errs)
{
	if (path == NULL)
		return cfg_load_string(default_config, DEFAULT_CONFIG_NAME, errs);
	return cfg_load(path, errs);
}

/* Load a config and check its expressions, for the commands that read the stored history. */
static struct cfg *
load_exprs(const char *path)
{
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;

	log_set_level(LOG_LEVEL_WARN);
	cfg = load(path, &errs);
	if (cfg != NULL && cfg_check_exprs(cfg, ruler_check_expr, NULL, &errs) == -1) {
		cfg_free(cfg);
		cfg = NULL;
	}
	for (size_t i = 0; cfg == NULL && i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	cfg_errors_clear(&errs);
	return cfg;
}

int
daemon_backtest(const char *path, const char *rule, double since, double step)
{
	struct cfg *cfg = load_exprs(path);
	char err[512];
	int rc;

	if (cfg == NULL)
		return 2;
	rc = backtest_run(cfg, rule, since, step, stdout, err, sizeof(err));
	if (rc == -1)
		fprintf(stderr, "reeve: rules backtest: %s\n", err);
	cfg_free(cfg);
	return rc == -1 ? 2 : 0;
}

int
daemon_report(const char *path, const char *name, const char *outdir, const char *period,
    int send)
{
	struct cfg *cfg = load_exprs(path);
	char err[512];
	int rc;

	if (cfg == NULL)
		return 2;
	rc = report_cli(cfg, name, outdir, period, send, stdout, err, sizeof(err));
	if (rc == -1)
		fprintf(stderr, "reeve: report: %s\n", err);
	cfg_free(cfg);
	return rc == -1 ? 1 : 0;
}

/* Load a config for a command that needs no probes; errors are printed. NULL on failure. */
static struct cfg *
load_printing(const char *path)
{
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;

	log_set_level(LOG_LEVEL_WARN);
	cfg = load(path, &errs);
	if (cfg != NULL && (cfg_check_exprs(cfg, ruler_check_expr, NULL, &errs) == -1 ||
	    cfg_check_matchers(cfg, ruler_check_matchers, NULL, &errs) == -1)) {
		cfg_free(cfg);
		cfg = NULL;
	}
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	cfg_errors_clear(&errs);
	return cfg;
}

/* The silences of a config's data_dir (alerts/silences.json). */
static struct silences *
open_silences(const struct cfg *cfg, char *err, size_t errlen)
{
	char *dir = xasprintf("%s/alerts", cfg->data_dir), *path;
	struct silences *s = NULL;

	if (util_mkdir_p(dir) == -1) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	path = xasprintf("%s/silences.json", dir);
	s = silences_open(path, err, errlen);
	free(path);
	free(dir);
	return s;
}

int
daemon_silence(const char *path, const struct daemon_silence_args *a)
{
	struct cfg *cfg = load_printing(path);
	struct silences *s;
	char err[512], id[17];
	int rc = 1;

	if (cfg == NULL)
		return 2;
	if ((s = open_silences(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "reeve: silence: %s\n", err);
		cfg_free(cfg);
		return 1;
	}
	if (a->list) {
		silences_print(s, util_now(), a->all, stdout);
		rc = 0;
	} else if (a->expire != NULL) {
		if (silences_expire(s, a->expire, err, sizeof(err)) == 0) {
			printf("%s ended\n", a->expire);
			rc = 0;
		}
	} else {
		char *matchers = NULL;
		const char *m = a->matchers;

		/* an alert's fingerprint (reeve ack): its exact labels from the notification state */
		if (a->kind == SILENCE_ACK && strlen(m) == 16 && strspn(m, "0123456789abcdef") == 16) {
			struct dispatch_params dp = { NULL, cfg->data_dir, NULL, NULL };
			struct dispatch *dsp = dispatch_new(cfg, &dp, err, sizeof(err));

			if (dsp != NULL && (matchers = dispatch_alert_matchers(dsp, m)) == NULL)
				snprintf(err, sizeof(err), "no firing alert %s (see the fingerprint in "
				    "/api/v1/alerts)", m);
			dispatch_free(dsp);
			m = matchers;
		}
		if (m != NULL && silences_add(s, a->kind, m, a->starts, a->ends, a->comment,
		    a->author, id, err, sizeof(err)) == 0) {
			printf("%s\n", id);
			rc = 0;
		}
		free(matchers);
	}
	if (rc != 0)
		fprintf(stderr, "reeve: %s: %s\n", a->kind == SILENCE_ACK ? "ack" : "silence", err);
	silences_free(s);
	cfg_free(cfg);
	return rc;
}

int
daemon_notify_test(const char *path, const char *name)
{
	struct cfg *cfg = load_printing(path);
	int rc;

	if (cfg == NULL)
		return 2;
	signal(SIGPIPE, SIG_IGN); /* a receiver may close the connection under a write */
	rc = notifier_test(cfg, name, stdout);
	email_shutdown();
	cfg_free(cfg);
	return rc;
}

int
daemon_outbox(const char *path, const char *retry_id)
{
	struct cfg *cfg = load_printing(path);
	char *dir, err[512];
	int rc;

	if (cfg == NULL)
		return 2;
	dir = xasprintf("%s/spool", cfg->data_dir);
	if (retry_id != NULL)
		rc = outbox_retry(dir, retry_id, err, sizeof(err));
	else
		rc = outbox_list(dir, stdout, err, sizeof(err));
	if (rc == -1)
		fprintf(stderr, "reeve: outbox: %s\n", err);
	else if (retry_id != NULL)
		printf("%s is queued again\n", retry_id);
	free(dir);
	cfg_free(cfg);
	return rc == -1 ? 1 : 0;
}

/* Load a config and create its probes; on failure every error is in errs. */
static struct cfg *
load_all(const char *path, struct cfg_errors *errs, struct probe_inst ***probes, size_t *n)
{
	struct cfg *cfg = load(path, errs);

	if (cfg == NULL)
		return NULL;
	log_set_level(cfg->log_level);
	/* every rule expression parses (errors with file:line and column), then the probes */
	if (cfg_check_exprs(cfg, ruler_check_expr, NULL, errs) == -1 ||
	    cfg_check_matchers(cfg, ruler_check_matchers, NULL, errs) == -1 ||
	    plugin_create_all(cfg, errs, probes, n) == -1) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

int
daemon_check(const char *path)
{
	struct cfg_errors errs = { 0 };
	struct probe_inst **probes = NULL;
	size_t n = 0;
	struct cfg *cfg;

	log_set_level(LOG_LEVEL_WARN);
	cfg = load_all(path, &errs, &probes, &n);
	if (cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		cfg_errors_clear(&errs);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		plugin_inst_free(probes[i]);
	free(probes);
	cfg_free(cfg);
	printf("configuration OK\n");
	return 0;
}

/* ---- reeve's own metrics: a probe compiled into the daemon -------------------------------- */

#define SELF_METRIC(id, mname, mtype, mhelp) \
	static const struct reeve_metric id = { mname, mhelp, mtype }
SELF_METRIC(m_build, "reeve_build_info", REEVE_GAUGE, "reeve's version, always 1");
SELF_METRIC(m_start, "reeve_start_time_seconds", REEVE_GAUGE, "When reeve started, seconds since the epoch");
SELF_METRIC(m_reload_ok, "reeve_config_last_reload_successful", REEVE_GAUGE,
    "1 if the last configuration reload succeeded (or none was asked for), 0 if it was rejected");
SELF_METRIC(m_reload_time, "reeve_config_last_reload_success_timestamp_seconds", REEVE_GAUGE,
    "When the configuration was last loaded successfully");
SELF_METRIC(m_qdepth, "reeve_store_queue_depth", REEVE_GAUGE, "RRD updates waiting for the writer");
SELF_METRIC(m_updates, "reeve_store_updates_total", REEVE_COUNTER, "Values written to RRD files");
SELF_METRIC(m_errors, "reeve_store_errors_total", REEVE_COUNTER, "RRD creates or updates that failed");
SELF_METRIC(m_dropped, "reeve_store_dropped_total", REEVE_COUNTER, "Values dropped because the store queue was full");
SELF_METRIC(m_creates, "reeve_store_creates_total", REEVE_COUNTER, "RRD files created");
SELF_METRIC(m_files, "reeve_store_files", REEVE_GAUGE, "RRD files known to the store");
SELF_METRIC(m_series, "reeve_series", REEVE_GAUGE, "Series in the in-memory registry");
SELF_METRIC(m_conflicts, "reeve_registry_type_conflicts_total", REEVE_COUNTER,
    "Samples dropped because their metric was seen before with another type");
SELF_METRIC(m_unstorable, "reeve_series_unstorable", REEVE_GAUGE,
    "Series not stored in RRD files because a label value is too long for a file name");
SELF_METRIC(m_workers, "reeve_workers", REEVE_GAUGE, "Threads in the probe worker pool");
SELF_METRIC(m_http, "reeve_http_requests_total", REEVE_COUNTER, "HTTP requests answered");
SELF_METRIC(m_http_err, "reeve_http_errors_total", REEVE_COUNTER, "HTTP requests answered with an error");
SELF_METRIC(m_http_denied, "reeve_http_denied_total", REEVE_COUNTER,
    "HTTP requests refused: status 401 without a known token, 403 with a token lacking the role");
SELF_METRIC(m_tls_expiry, "reeve_http_tls_certificate_expiry_timestamp_seconds", REEVE_GAUGE,
    "When the HTTPS certificate being served expires, seconds since the epoch");
SELF_METRIC(m_renders, "reeve_http_metrics_renders_total", REEVE_COUNTER,
    "Times the /metrics body was rendered (once per change, not per request)");
SELF_METRIC(m_push_req, "reeve_push_requests_total", REEVE_COUNTER,
    "Requests to /api/v1/push");
SELF_METRIC(m_push_samples, "reeve_push_samples_total", REEVE_COUNTER,
    "Samples accepted by /api/v1/push");
SELF_METRIC(m_api_rejected, "reeve_api_rejected_requests_total", REEVE_COUNTER,
    "Push and events requests refused for a bad body");
SELF_METRIC(m_push_dropped, "reeve_push_dropped_samples_total", REEVE_COUNTER,
    "Pushed samples dropped: not newer than their series' latest, or of another type");
SELF_METRIC(m_expired, "reeve_series_expired_total", REEVE_COUNTER,
    "Pushed series marked stale because their TTL ran out");
SELF_METRIC(m_events, "reeve_api_events_total", REEVE_COUNTER,
    "Events counted through /api/v1/events");
SELF_METRIC(m_rule_evals, "reeve_rule_evaluations_total", REEVE_COUNTER,
    "Evaluations of [alert] and [record] rules");
SELF_METRIC(m_rule_fails, "reeve_rule_evaluation_failures_total", REEVE_COUNTER,
    "Rule evaluations that failed (the expression could not be evaluated)");
SELF_METRIC(m_rule_round, "reeve_rule_round_duration_seconds", REEVE_GAUGE,
    "How long the last round of alert rules took");
SELF_METRIC(m_alerts_firing, "reeve_alerts_firing", REEVE_GAUGE, "Alert instances firing");
SELF_METRIC(m_history_fails, "reeve_alert_history_write_errors_total", REEVE_COUNTER,
    "Alert transitions the history log could not keep (disk full, I/O errors)");
SELF_METRIC(m_alerts_pending, "reeve_alerts_pending", REEVE_GAUGE,
    "Alert instances pending (condition true, waiting for the rule's for)");
SELF_METRIC(m_nq, "reeve_notifications_queued", REEVE_GAUGE,
    "Notifications waiting in the spool for their receiver");
SELF_METRIC(m_nq_age, "reeve_notifications_oldest_queued_seconds", REEVE_GAUGE,
    "Age of the oldest notification waiting for the receiver (0 when none)");
SELF_METRIC(m_nsent, "reeve_notifications_sent_total", REEVE_COUNTER,
    "Notifications the receiver accepted");
SELF_METRIC(m_nretry, "reeve_notifications_retries_total", REEVE_COUNTER,
    "Delivery attempts that failed temporarily (the message is tried again)");
SELF_METRIC(m_ndead, "reeve_notifications_dead_total", REEVE_COUNTER,
    "Notifications that became dead letters: a permanent failure, or max_age passed");
SELF_METRIC(m_nfailing, "reeve_notifier_failing", REEVE_GAUGE,
    "1 while the last delivery attempt to the receiver failed");
SELF_METRIC(m_ndead_files, "reeve_notifications_dead_letters", REEVE_GAUGE,
    "Dead letters in the spool (reeve outbox list; reeve outbox retry ID)");
SELF_METRIC(m_ncorrupt, "reeve_notifications_corrupt_total", REEVE_COUNTER,
    "Spool files that could not be read back and were set aside");
SELF_METRIC(m_rep_runs, "reeve_reports_runs_total", REEVE_COUNTER,
    "Report runs (slots and requests)");
SELF_METRIC(m_rep_fail, "reeve_reports_failures_total", REEVE_COUNTER,
    "Report runs that failed (see the log)");
SELF_METRIC(m_rep_skip, "reeve_reports_skipped_total", REEVE_COUNTER,
    "Report slots missed by more than their grace");
SELF_METRIC(m_rep_dur, "reeve_reports_last_duration_seconds", REEVE_GAUGE,
    "How long the last report run took");
SELF_METRIC(m_ngroups, "reeve_alert_groups", REEVE_GAUGE,
    "Alert groups the notification side holds (routes times group_by values)");
SELF_METRIC(m_nmade, "reeve_notifications_total", REEVE_COUNTER,
    "Notifications made and handed to the spool (one per group message and receiver)");
SELF_METRIC(m_nspoolerr, "reeve_notifications_spool_errors_total", REEVE_COUNTER,
    "Notifications the spool could not take (a full disk): their group is tried again");
SELF_METRIC(m_nunrouted, "reeve_alerts_unrouted_total", REEVE_COUNTER,
    "Firing alerts no [route] took (and no [route default] exists)");
SELF_METRIC(m_rss, "process_resident_memory_bytes", REEVE_GAUGE, "Resident memory of reeve");
SELF_METRIC(m_cpu, "process_cpu_seconds_total", REEVE_COUNTER, "CPU time reeve used, user and system");

static void
self_outbox(struct outbox *ob, const struct reeve_host *h, struct reeve_emitter *em)
{
	struct outbox_stats st;
	double now = util_now();

	outbox_get_stats(ob, &st);
	for (size_t i = 0; i < st.nreceivers; i++) {
		const struct outbox_receiver_stats *r = &st.receivers[i];
		struct reeve_label l = { "receiver", r->name ? r->name : "(not configured)" };
		struct reeve_label why[2] = { l, { "reason", "failed" } };

		if (r->name == NULL && r->queued == 0 && r->expired == 0)
			continue;
		h->emit(em, &m_nq, &l, 1, (double)r->queued);
		h->emit(em, &m_nq_age, &l, 1, r->queued ? now - r->oldest : 0);
		if (r->name == NULL) {
			why[1].value = "expired";
			h->emit(em, &m_ndead, why, 2, (double)r->expired);
			continue;
		}
		h->emit(em, &m_nsent, &l, 1, (double)r->sent);
		h->emit(em, &m_nretry, &l, 1, (double)r->retries);
		h->emit(em, &m_ndead, why, 2, (double)r->dead);
		why[1].value = "expired";
		h->emit(em, &m_ndead, why, 2, (double)r->expired);
		h->emit(em, &m_nfailing, &l, 1, r->failing);
	}
	h->emit(em, &m_ndead_files, NULL, 0, (double)st.dead_files);
	h->emit(em, &m_ncorrupt, NULL, 0, (double)st.corrupt);
	outbox_stats_free(&st);
}

static void
self_process(const struct reeve_host *h, struct reeve_emitter *em)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long long utime, stime;
	long rss;

	if (f == NULL)
		return;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return;
	/* fields after the comm: state is field 3; utime 14, stime 15, rss 24 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
	    "%*d %*d %*u %*u %ld", &utime, &stime, &rss) == 3) {
		double tck = (double)sysconf(_SC_CLK_TCK);
		h->emit(em, &m_cpu, NULL, 0, (double)(utime + stime) / tck);
		h->emit(em, &m_rss, NULL, 0, (double)rss * (double)sysconf(_SC_PAGESIZE));
	}
}

static int
self_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct daemon *d = state;
	const struct reeve_host *h = plugin_host();
	struct reeve_label version = { "version", VERSION };
	struct reeve_label s401 = { "status", "401" }, s403 = { "status", "403" };
	struct store_stats st;
	struct sched_stats ss;
	struct http_stats hs = { 0 };

	(void)err;
	(void)errlen;
	pthread_mutex_lock(&d->self_lock);
	if (d->stopping) {
		pthread_mutex_unlock(&d->self_lock);
		return 0;
	}
	/* housekeeping rides on this probe's rhythm: forget series gone for a whole window */
	if (util_now() - d->last_sweep >= SWEEP_INTERVAL) {
		double age = d->memory_window > SWEEP_INTERVAL ? d->memory_window : SWEEP_INTERVAL;
		size_t n = reg_sweep(d->reg, util_now(), age);

		if (n)
			log_info("forgot %zu series that were not reported for %.0fs", n, age);
		d->last_sweep = util_now();
	}
	/* pushed series whose TTL ran out go stale, within one interval */
	d->expired += reg_expire(d->reg, util_now());
	store_get_stats(d->store, &st);
	sched_get_stats(d->sched, &ss);
	if (d->http)
		http_get_stats(d->http, &hs);
	h->emit(em, &m_build, &version, 1, 1);
	h->emit(em, &m_start, NULL, 0, d->start_time);
	h->emit(em, &m_reload_ok, NULL, 0, d->reload_ok);
	h->emit(em, &m_reload_time, NULL, 0, d->reload_time);
	h->emit(em, &m_qdepth, NULL, 0, (double)st.queue_depth);
	h->emit(em, &m_updates, NULL, 0, (double)st.updates);
	h->emit(em, &m_errors, NULL, 0, (double)st.errors);
	h->emit(em, &m_dropped, NULL, 0, (double)st.dropped);
	h->emit(em, &m_creates, NULL, 0, (double)st.creates);
	h->emit(em, &m_files, NULL, 0, (double)st.files);
	reg_rdlock(d->reg);
	h->emit(em, &m_series, NULL, 0, (double)reg_series_count(d->reg));
	reg_unlock(d->reg);
	h->emit(em, &m_conflicts, NULL, 0, (double)reg_type_conflicts(d->reg));
	h->emit(em, &m_unstorable, NULL, 0, (double)reg_unstorable(d->reg));
	h->emit(em, &m_workers, NULL, 0, ss.workers);
	h->emit(em, &m_http, NULL, 0, (double)hs.requests);
	h->emit(em, &m_http_err, NULL, 0, (double)hs.errors);
	h->emit(em, &m_http_denied, &s401, 1, (double)hs.unauthorized);
	h->emit(em, &m_http_denied, &s403, 1, (double)hs.forbidden);
	h->emit(em, &m_renders, NULL, 0, (double)hs.renders);
	if (hs.tls_expiry > 0)
		h->emit(em, &m_tls_expiry, NULL, 0, hs.tls_expiry);
	if (d->api) {
		struct api_stats as;

		api_get_stats(d->api, &as);
		h->emit(em, &m_push_req, NULL, 0, (double)as.push_requests);
		h->emit(em, &m_push_samples, NULL, 0, (double)as.push_samples);
		h->emit(em, &m_api_rejected, NULL, 0, (double)as.rejected);
		h->emit(em, &m_push_dropped, NULL, 0, (double)as.dropped);
		h->emit(em, &m_events, NULL, 0, (double)as.events);
	}
	h->emit(em, &m_expired, NULL, 0, (double)d->expired);
	if (d->ruler) {
		struct ruler_stats rs;

		ruler_get_stats(d->ruler, &rs);
		h->emit(em, &m_rule_evals, NULL, 0, (double)rs.evaluations);
		h->emit(em, &m_rule_fails, NULL, 0, (double)rs.failures);
		h->emit(em, &m_rule_round, NULL, 0, rs.last_round);
		h->emit(em, &m_alerts_firing, NULL, 0, (double)rs.firing);
		h->emit(em, &m_alerts_pending, NULL, 0, (double)rs.pending);
		h->emit(em, &m_history_fails, NULL, 0, (double)rs.history_failures);
	}
	if (d->outbox)
		self_outbox(d->outbox, h, em);
	if (d->reporter) {
		struct reporter_stats ps;

		reporter_get_stats(d->reporter, &ps);
		h->emit(em, &m_rep_runs, NULL, 0, (double)ps.runs);
		h->emit(em, &m_rep_fail, NULL, 0, (double)ps.failures);
		h->emit(em, &m_rep_skip, NULL, 0, (double)ps.skipped);
		h->emit(em, &m_rep_dur, NULL, 0, ps.last_duration);
	}
	if (d->dispatch) {
		struct dispatch_stats ds;

		dispatch_get_stats(d->dispatch, &ds);
		h->emit(em, &m_ngroups, NULL, 0, (double)ds.groups);
		h->emit(em, &m_nmade, NULL, 0, (double)ds.messages);
		h->emit(em, &m_nspoolerr, NULL, 0, (double)ds.put_failures);
		h->emit(em, &m_nunrouted, NULL, 0, (double)ds.unrouted);
	}
	self_process(h, em);
	pthread_mutex_unlock(&d->self_lock);
	return 0;
}

static const struct reeve_probe self_probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "reeve",
	.description = "reeve's own metrics",
	.collect = self_collect,
};

/* Install the probes of a config (plus the self probe) into the scheduler. */
static void
install_probes(struct daemon *d, struct probe_inst **probes, size_t n)
{
	struct probe_inst **all = xcalloc(n + 1, sizeof(*all));

	memcpy(all, probes, n * sizeof(*probes));
	all[n] = plugin_builtin("reeve", &self_probe, d, d->cfg->interval);
	sched_set_probes(d->sched, all, n + 1);
	free(all);
}

static int
ready(void *arg)
{
	struct daemon *d = arg;

	return sched_ready(d->sched);
}

/*
 * [reeve] user: reeve started as root (the HTTP port already bound) becomes that user for
 * good, after making a new data_dir the user's. Already that user: nothing to do. Returns
 * 0, or -1 with a message in err.
 */
static int
become_user(const struct cfg *cfg, char *err, size_t errlen)
{
	struct passwd *pw;
	struct stat st;
	int created;

	if (cfg->user == NULL)
		return 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errlen, "[reeve] user: no user \"%s\" on this system", cfg->user);
		return -1;
	}
	if (geteuid() == pw->pw_uid && getuid() == pw->pw_uid)
		return 0;
	if (geteuid() != 0) {
		snprintf(err, errlen, "[reeve] user = %s: reeve runs as uid %u, not root, and cannot "
		    "become another user", cfg->user, (unsigned)geteuid());
		return -1;
	}
	created = mkdir(cfg->data_dir, 0750) == 0;
	if (!created && errno != EEXIST) {
		snprintf(err, errlen, "data_dir %s: %s", cfg->data_dir, strerror(errno));
		return -1;
	}
	if (created && chown(cfg->data_dir, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "data_dir %s: chown: %s", cfg->data_dir, strerror(errno));
		return -1;
	}
	if (stat(cfg->data_dir, &st) == -1 || st.st_uid != pw->pw_uid) {
		snprintf(err, errlen, "data_dir %s does not belong to user %s, who reeve runs as "
		    "([reeve] user): chown -R %s: %s", cfg->data_dir, cfg->user, cfg->user,
		    cfg->data_dir);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "[reeve] user = %s: cannot become that user: %s", cfg->user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) != -1) {
		snprintf(err, errlen, "[reeve] user = %s: root could be regained; stopping",
		    cfg->user);
		return -1;
	}
	log_info("running as user %s (uid %u, gid %u)", cfg->user, (unsigned)pw->pw_uid,
	    (unsigned)pw->pw_gid);
	return 0;
}

static int
differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/*
 * HTTPS after a reload: the certificate and key of cfg, read again (renewed files, or other
 * paths) for the next handshakes. Switching HTTPS on or off needs a restart: then nothing
 * is read. Returns 0 with *c set (NULL: nothing to serve anew), or -1 with err set to
 * "file:line: message". The caller owns *c.
 */
static int
reload_tls_load(struct daemon *d, const struct cfg *cfg, struct tls_cred **c, char *err,
    size_t errlen)
{
	char e[512];

	*c = NULL;
	if ((cfg->tls_cert == NULL) != (d->cfg->tls_cert == NULL)) {
		log_warnx("[http] tls_cert: HTTPS is switched on or off only on restart; the "
		    "server goes on as it is");
		return 0;
	}
	if (cfg->tls_cert == NULL)
		return 0;
	/* the files were checked by the load; they may have changed since */
	if ((*c = tls_cred_load(cfg->tls_cert, cfg->tls_key, e, sizeof(e))) == NULL) {
		const struct cfg_loc *l = cfg_where(cfg, "http",
		    strncmp(e, "tls_key", 7) == 0 ? "tls_key" : "tls_cert");

		snprintf(err, errlen, "%s:%d: [http] %s", l && l->file ? l->file : "?",
		    l ? l->line : 0, e);
		return -1;
	}
	return 0;
}

/* Serve the credentials reload_tls_load read (it owns them from here on). */
static void
reload_tls_serve(struct daemon *d, const struct cfg *cfg, struct tls_cred *c)
{
	char until[40];

	if (c == NULL)
		return;
	util_fmt_rfc3339(until, sizeof(until), tls_cred_expiry(c));
	http_set_tls(d->http, c);
	log_info("http: certificate %s (valid until %s) served from the next connection",
	    cfg->tls_cert, until);
}

/*
 * SIGHUP: read the configuration again and apply it whole, or not at all. Everything that
 * can still fail after the load (the TLS files, the rule set) is done before the first
 * change to the running daemon, so a rejected file changes nothing.
 */
static void
reload(struct daemon *d)
{
	struct cfg_errors errs = { 0 };
	struct probe_inst **probes = NULL;
	struct tls_cred *tls = NULL;
	size_t n = 0;
	struct cfg *cfg;
	int old_level = log_get_level();
	char err[512];

	log_info("reloading the configuration from %s", d->path ? d->path : DEFAULT_CONFIG_NAME);
	cfg = load_all(d->path, &errs, &probes, &n);
	if (cfg == NULL) {
		log_set_level(old_level);
		log_error("new configuration rejected, the running one stays in force:");
		for (size_t i = 0; i < errs.n; i++)
			log_error("  %s", errs.msgs[i]);
		cfg_errors_clear(&errs);
		d->reload_ok = 0;
		return;
	}
	if (reload_tls_load(d, cfg, &tls, err, sizeof(err)) == -1 ||
	    ruler_reload(d->ruler, cfg, err, sizeof(err)) == -1) {
		/* ruler_reload changes nothing when it fails */
		tls_cred_free(tls);
		for (size_t i = 0; i < n; i++)
			plugin_inst_free(probes[i]);
		free(probes);
		cfg_free(cfg);
		log_set_level(old_level);
		log_error("new configuration rejected, the running one stays in force:");
		log_error("  %s", err);
		d->reload_ok = 0;
		return;
	}
	if (differs(cfg->data_dir, d->cfg->data_dir) || differs(cfg->rrdcached, d->cfg->rrdcached) ||
	    differs(cfg->rrdcached_dir, d->cfg->rrdcached_dir) ||
	    differs(cfg->preset, d->cfg->preset) || differs(cfg->listen, d->cfg->listen) ||
	    differs(cfg->holt_winters, d->cfg->holt_winters) || cfg->hw_season != d->cfg->hw_season ||
	    cfg->http_timeout != d->cfg->http_timeout || cfg->max_connections != d->cfg->max_connections ||
	    cfg->max_per_ip != d->cfg->max_per_ip || cfg->memory_limit != d->cfg->memory_limit ||
	    cfg->http_threads != d->cfg->http_threads || cfg->queue_size != d->cfg->queue_size ||
	    cfg->memory_window != d->cfg->memory_window || differs(cfg->log_target, d->cfg->log_target))
		log_warnx("data_dir, [store], [http] settings other than tokens, open, TLS files and "
		    "query limits, memory_window and log_target change only on restart; the running "
		    "values stay");
	http_set_auth(d->http, auth_new(cfg));
	reload_tls_serve(d, cfg, tls);
	promapi_set_limits(d->promapi, cfg->query_timeout, (size_t)cfg->query_max_samples);
	{
		struct api_params ap = { cfg->push_ttl, cfg->interval, EXPO_DEFAULT_MAX_SAMPLES };

		api_set_params(d->api, &ap);
	}
	dispatch_reload(d->dispatch, cfg);
	outbox_reload(d->outbox, cfg);
	reporter_reload(d->reporter, cfg);
	cfg_free(d->cfg);
	d->cfg = cfg;
	install_probes(d, probes, n);
	free(probes);
	d->reload_ok = 1;
	d->reload_time = util_now();
	d->reloads++;
	log_info("configuration reloaded: %zu probes", n);
}

int
daemon_run(const char *path, int use_syslog)
{
	struct daemon d = { .self_lock = PTHREAD_MUTEX_INITIALIZER };
	struct cfg_errors errs = { 0 };
	struct tls_cred *tls = NULL;
	struct probe_inst **probes = NULL;
	int listen_fd = -1, listen_v6 = 0;
	size_t n = 0;
	sigset_t set;
	char err[512];
	int sig, status = 0;

	d.path = path;
	log_init(use_syslog, "reeve");
	d.cfg = load_all(path, &errs, &probes, &n);
	if (d.cfg == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		cfg_errors_clear(&errs);
		return 1;
	}
	if (!use_syslog && strcmp(d.cfg->log_target, "syslog") == 0)
		log_init(1, "reeve");

	/* Signals go to this thread only, through sigwait; every other thread blocks them. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	d.start_time = util_now();
	d.memory_window = d.cfg->memory_window;
	d.reload_ok = 1;
	d.reload_time = d.start_time;
	/*
	 * While still root: bind (a port below 1024) and read the TLS key (root's own file);
	 * then become [reeve] user before any other file is opened.
	 */
	if (d.cfg->tls_cert != NULL &&
	    (tls = tls_cred_load(d.cfg->tls_cert, d.cfg->tls_key, err, sizeof(err))) == NULL) {
		log_error("[http] %s", err);
		status = 1;
		goto out;
	}
	if ((listen_fd = http_listen(d.cfg->listen, &listen_v6, err, sizeof(err))) == -1 ||
	    become_user(d.cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		status = 1;
		goto out;
	}
	{
		struct store_params sp = { d.cfg->data_dir, d.cfg->rrdcached, d.cfg->preset,
			(size_t)d.cfg->queue_size, d.cfg->holt_winters, d.cfg->hw_season,
			d.cfg->rrdcached_dir };
		d.store = store_new(&sp, err, sizeof(err));
	}
	if (d.store == NULL) {
		log_error("%s", err);
		status = 1;
		goto out;
	}
	d.reg = reg_new(d.cfg->memory_window, d.store);
	d.sched = sched_new(d.reg, 2);
	install_probes(&d, probes, n);
	free(probes);
	probes = NULL;
	{
		struct api_params ap = { d.cfg->push_ttl, d.cfg->interval, EXPO_DEFAULT_MAX_SAMPLES };

		d.api = api_new(d.reg, &ap);
	}
	{
		char *spool = xasprintf("%s/spool", d.cfg->data_dir);

		d.outbox = outbox_open(spool, d.cfg, err, sizeof(err));
		free(spool);
	}
	if (d.outbox == NULL) {
		log_error("outbox: %s", err);
		status = 1;
		goto out;
	}
	if ((d.silences = open_silences(d.cfg, err, sizeof(err))) == NULL) {
		log_error("silences: %s", err);
		status = 1;
		goto out;
	}
	{
		struct dispatch_params dp = { d.outbox, d.cfg->data_dir, &d.graph, d.silences };

		d.graph.render = graph_notify_render;
		d.graph.arg = d.store;

		d.dispatch = dispatch_new(d.cfg, &dp, err, sizeof(err));
	}
	if (d.dispatch == NULL) {
		log_error("notifications: %s", err);
		status = 1;
		goto out;
	}
	{
		struct ruler_params rp = { d.reg, d.store, d.cfg->memory_window, d.cfg->data_dir,
			d.dispatch };

		d.ruler = ruler_new(d.cfg, &rp, err, sizeof(err));
	}
	if (d.ruler == NULL) {
		log_error("%s", err);
		status = 1;
		goto out;
	}
	d.promapi = promapi_new(d.reg, d.store, d.cfg->memory_window);
	promapi_set_limits(d.promapi, d.cfg->query_timeout, (size_t)d.cfg->query_max_samples);
	{
		struct status_params sp = { d.reg, d.ruler, d.promapi, d.cfg->hostname };

		d.status = status_new(&sp);
	}
	d.report_hist = history_new(d.reg, d.store, d.cfg->memory_window);
	history_source(d.report_hist, &d.report_src);
	{
		struct reporter_params pp = { d.cfg, { d.cfg, &d.report_src, d.store,
			ruler_alertlog(d.ruler), NULL }, d.outbox, d.cfg->data_dir };

		d.reporter = reporter_new(&pp, err, sizeof(err));
	}
	if (d.reporter == NULL) {
		log_error("reports: %s", err);
		status = 1;
		goto out;
	}
	{
		struct http_params hp = {
			.listen = d.cfg->listen, .fd = listen_fd, .ipv6 = listen_v6,
			.auth = auth_new(d.cfg), .tls = tls,
			.api = d.api, .push_max_body = (size_t)d.cfg->push_max_body,
			.max_body = (size_t)d.cfg->max_body,
			.ruler = d.ruler, .silences = d.silences, .dispatch = d.dispatch,
			.reporter = d.reporter, .promapi = d.promapi, .status = d.status,
			.timeout = (unsigned)(d.cfg->http_timeout + 0.999),
			.max_connections = d.cfg->max_connections, .max_per_ip = d.cfg->max_per_ip,
			.threads = d.cfg->http_threads, .memory_limit = (size_t)d.cfg->memory_limit,
			.ready = ready, .ready_arg = &d,
		};
		d.http = http_new(&hp, d.reg, err, sizeof(err));
		listen_fd = -1; /* both taken over */
		tls = NULL;
	}
	if (d.http == NULL) {
		log_error("%s", err);
		status = 1;
		goto out;
	}
	/* a slot claimed before a crash: queued or not, asked before any delivery runs */
	reporter_recover(d.reporter);
	outbox_start(d.outbox);
	reporter_start(d.reporter);
	if (dispatch_start(d.dispatch) == -1) {
		log_error("cannot start the notification thread");
		status = 1;
		goto out;
	}
	if (ruler_start(d.ruler) == -1) {
		log_error("cannot start the rule thread");
		status = 1;
		goto out;
	}
	if (sched_start(d.sched) == -1) {
		log_error("cannot start the scheduler");
		status = 1;
		goto out;
	}
	log_info("reeve %s running: %zu probes, data in %s", VERSION, n, d.cfg->data_dir);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(&d);
			continue;
		}
		log_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
out:
	pthread_mutex_lock(&d.self_lock);
	d.stopping = 1; /* the self probe reads what is freed below */
	pthread_mutex_unlock(&d.self_lock);
	/* stop intake first (HTTP, rules, probes), then write out what is queued */
	if (listen_fd != -1)
		close(listen_fd);
	tls_cred_free(tls);
	http_free(d.http);
	reporter_free(d.reporter);
	history_free(d.report_hist);
	status_free(d.status);
	promapi_free(d.promapi);
	ruler_free(d.ruler);
	dispatch_free(d.dispatch);
	silences_free(d.silences);
	/* a delivery under way may finish; what is not sent stays in the spool */
	if (outbox_free(d.outbox, d.cfg->flush_timeout / 2) > 0) {
		/* a send still hangs on a receiver: write out what is queued and leave at once */
		store_sync(d.store);
		log_info("stopped");
		fflush(NULL);
		_exit(status);
	}
	email_shutdown();
	if (d.sched && sched_free(d.sched, d.cfg->flush_timeout / 2) > 0) {
		/*
		 * A probe thread is stuck inside a module: write out what is queued, then leave
		 * at once. Freeing (or exit handlers) could pull memory from under that thread.
		 */
		store_sync(d.store);
		log_info("stopped");
		fflush(NULL);
		_exit(status);
	}
	store_free(d.store, d.cfg->flush_timeout);
	api_free(d.api);
	reg_free(d.reg);
	for (size_t i = 0; probes && i < n; i++)
		plugin_inst_free(probes[i]);
	free(probes);
	cfg_free(d.cfg);
	if (status == 0)
		log_info("stopped");
	return status;
}
