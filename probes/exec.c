/* exec.c: the exec probe: runs a command (no shell) and reads its Nagios or Prometheus output. */
#include <sys/stat.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <reeve-probe.h>

#include "nagios.h"
/* src/spawn.c runs the command; it is compiled into this module (a probe cannot link libreeve) */
#include "spawn.h"

#define EXEC_TIMEOUT_SHARE 0.75		/* default command_timeout: this share of the probe's */
#define EXEC_DEFAULT_MAX_OUTPUT (1u << 20)
#define EXEC_MAX_OUTPUT_LIMIT (64u << 20)
#define EXEC_WARN_EVERY 600.0		/* seconds between two warnings about bad perfdata */
#define EXEC_MSG_MAX 200		/* bytes of stderr or status quoted in a message */

enum { FMT_PROMETHEUS, FMT_NAGIOS };

static const struct reeve_metric m_status = {
	"reeve_check_status",
	"Nagios state of the check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.", REEVE_GAUGE
};
static const struct reeve_metric m_invalid = {
	"reeve_check_perfdata_invalid_items",
	"Perfdata items of the last run skipped as malformed.", REEVE_GAUGE
};
static const struct reeve_metric m_duration = {
	"reeve_exec_duration_seconds", "Wall-clock time the last run of the command took.",
	REEVE_GAUGE
};
static const struct reeve_metric m_exit = {
	"reeve_exec_exit_code",
	"Exit code of the last run of the command, or minus the signal that killed it.",
	REEVE_GAUGE
};
static const struct reeve_metric m_timeouts = {
	"reeve_exec_timeouts_total", "Runs of the command killed at command_timeout.",
	REEVE_COUNTER
};

/* Perfdata families, indexed by enum nagios_unit: the value, the warning, the critical. */
static const struct reeve_metric m_perf[5][3] = {
	{ { "reeve_check_perfdata", "Nagios perfdata value without a unit (or with one not converted).", REEVE_GAUGE },
	  { "reeve_check_perfdata_warning", "Nagios perfdata warning threshold.", REEVE_GAUGE },
	  { "reeve_check_perfdata_critical", "Nagios perfdata critical threshold.", REEVE_GAUGE } },
	{ { "reeve_check_perfdata_seconds", "Nagios perfdata value in s, ms or us, in seconds.", REEVE_GAUGE },
	  { "reeve_check_perfdata_warning_seconds", "Nagios perfdata warning threshold, in seconds.", REEVE_GAUGE },
	  { "reeve_check_perfdata_critical_seconds", "Nagios perfdata critical threshold, in seconds.", REEVE_GAUGE } },
	{ { "reeve_check_perfdata_bytes", "Nagios perfdata value in B, KB, MB, GB or TB (1024-based), in bytes.", REEVE_GAUGE },
	  { "reeve_check_perfdata_warning_bytes", "Nagios perfdata warning threshold, in bytes.", REEVE_GAUGE },
	  { "reeve_check_perfdata_critical_bytes", "Nagios perfdata critical threshold, in bytes.", REEVE_GAUGE } },
	{ { "reeve_check_perfdata_ratio", "Nagios perfdata value in %, divided by 100.", REEVE_GAUGE },
	  { "reeve_check_perfdata_warning_ratio", "Nagios perfdata warning threshold in %, divided by 100.", REEVE_GAUGE },
	  { "reeve_check_perfdata_critical_ratio", "Nagios perfdata critical threshold in %, divided by 100.", REEVE_GAUGE } },
	{ { "reeve_check_perfdata_total", "Nagios perfdata continuous counter (c).", REEVE_COUNTER },
	  { "reeve_check_perfdata_warning", "Nagios perfdata warning threshold.", REEVE_GAUGE },
	  { "reeve_check_perfdata_critical", "Nagios perfdata critical threshold.", REEVE_GAUGE } },
};

struct exec_state {
	const struct reeve_host *host;
	struct spawn_argv cmd;
	char **envp;			/* NULL-terminated, each "NAME=value" */
	size_t nenv;
	char *workdir;
	int format;
	double timeout;
	size_t max_output;
	struct reeve_label *labels;	/* check=INSTANCE first, then labels.* */
	size_t nlabels;
	char *check;			/* the instance name */
	char last_status[EXEC_MSG_MAX];	/* the Nagios status text of the previous run */
	int have_last_status;
	double last_warn;		/* when bad perfdata was last warned about */
	unsigned long unwarned;		/* runs with bad perfdata since */
	double timeouts;
};

static void
emit_run_metrics(struct exec_state *st, struct reeve_emitter *em, const struct spawn_result *r,
    int ran)
{
	const struct reeve_host *h = st->host;

	h->emit(em, &m_duration, st->labels, st->nlabels, r->duration);
	if (ran || r->pid > 0)
		h->emit(em, &m_exit, st->labels, st->nlabels, (double)r->exit_code);
	h->emit(em, &m_timeouts, st->labels, st->nlabels, st->timeouts);
}

/* Warn about malformed perfdata at most once per EXEC_WARN_EVERY. */
static void
warn_perfdata(struct exec_state *st, const struct nagios_output *no)
{
	double now = st->host->now();

	if (st->last_warn != 0 && now - st->last_warn < EXEC_WARN_EVERY) {
		st->unwarned++;
		return;
	}
	st->host->log(REEVE_LOG_WARN, "%zu malformed perfdata item(s) skipped, the first: %s%s",
	    no->nbad, no->bad, st->unwarned ? " (earlier runs with bad perfdata not logged)" :
	    " (repeats are logged every 10 minutes)");
	st->last_warn = now;
	st->unwarned = 0;
}

/* The Nagios samples: the status, and the perfdata of a run that ended (ran). */
static void
emit_nagios(struct exec_state *st, struct reeve_emitter *em, const struct spawn_result *r,
    int ran)
{
	int status = ran ? nagios_status(r->exit_code, r->signaled) : 3;
	const struct reeve_host *h = st->host;
	struct nagios_output no;
	struct reeve_label *l;
	char msg[EXEC_MSG_MAX];
	size_t i;

	h->emit(em, &m_status, st->labels, st->nlabels, (double)status);
	if (!ran)
		return;	/* the output of a killed command is incomplete */
	nagios_parse(r->out != NULL ? r->out : "", r->outlen, &no);
	snprintf(msg, sizeof(msg), "%s", no.status);
	if (!st->have_last_status || strcmp(msg, st->last_status) != 0) {
		h->log(REEVE_LOG_DEBUG, "status %d: %s", status, msg[0] ? msg :
		    "(no output)");
		memcpy(st->last_status, msg, sizeof(msg));
		st->have_last_status = 1;
	}
	/* labels: check, label, then labels.* */
	if ((l = calloc(st->nlabels + 1, sizeof(*l))) == NULL)
		abort();
	l[0] = st->labels[0];
	l[1].name = "label";
	for (i = 1; i < st->nlabels; i++)
		l[i + 1] = st->labels[i];
	for (i = 0; i < no.nperf; i++) {
		const struct nagios_perf *pf = &no.perf[i];

		l[1].value = pf->label;
		h->emit(em, &m_perf[pf->unit][0], l, st->nlabels + 1, pf->value);
		if (pf->has_warn)
			h->emit(em, &m_perf[pf->unit][1], l, st->nlabels + 1, pf->warn);
		if (pf->has_crit)
			h->emit(em, &m_perf[pf->unit][2], l, st->nlabels + 1, pf->crit);
	}
	h->emit(em, &m_invalid, st->labels, st->nlabels, (double)no.nbad);
	if (no.nbad > 0)
		warn_perfdata(st, &no);
	free(l);
	nagios_output_free(&no);
}

static int
exec_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct exec_state *st = state;
	struct spawn_cmd c = { 0 };
	struct spawn_result r;
	char line[EXEC_MSG_MAX];
	int rc, ran;

	c.argv = st->cmd.argv;
	c.envp = st->envp;
	c.dir = st->workdir;
	c.timeout = st->timeout;
	c.max_output = st->max_output;
	c.overflow_kills = 1;
	rc = spawn_run(&c, &r, err, errlen);
	/* the messages name the keys to change */
	if (r.timed_out)
		snprintf(err, errlen, "%s did not finish within command_timeout (%.3gs): killed",
		    st->cmd.argv[0], st->timeout);
	else if (r.too_much)
		snprintf(err, errlen, "%s wrote more than max_output (%zu bytes) to stdout: killed",
		    st->cmd.argv[0], st->max_output);
	ran = rc == 0;
	if (r.timed_out)
		st->timeouts++;
	if (r.errlen > 0)
		st->host->log(REEVE_LOG_DEBUG, "stderr: %s", spawn_first_line(r.err, r.errlen, line,
		    sizeof(line)));
	if (r.leftovers)
		st->host->log(REEVE_LOG_DEBUG, "processes the command left in its process group "
		    "were killed");
	emit_run_metrics(st, em, &r, ran);
	if (st->format == FMT_NAGIOS) {
		/* a run that produced no result is UNKNOWN, and the probe reports the failure */
		emit_nagios(st, em, &r, ran);
	} else if (ran && (r.signaled || r.exit_code != 0)) {
		if (r.signaled)
			snprintf(err, errlen, "%s was killed by signal %d%s%s", st->cmd.argv[0],
			    -r.exit_code, r.errlen ? "; stderr: " : "",
			    r.errlen ? spawn_first_line(r.err, r.errlen, line, sizeof(line)) : "");
		else
			snprintf(err, errlen, "%s exited with code %d%s%s", st->cmd.argv[0],
			    r.exit_code, r.errlen ? "; stderr: " : "",
			    r.errlen ? spawn_first_line(r.err, r.errlen, line, sizeof(line)) : "");
		rc = -1;
	} else if (ran) {
		struct reeve_text_opts o;
		char perr[256];

		memset(&o, 0, sizeof(o));
		o.size = sizeof(o);
		o.labels = st->labels + 1;	/* labels.*, not check: the samples are the command's */
		o.nlabels = st->nlabels - 1;
		if (st->host->emit_text(em, r.out != NULL ? r.out : "", r.outlen, &o, perr,
		    sizeof(perr)) < 0) {
			snprintf(err, errlen, "the output of %s is not Prometheus text: %s",
			    st->cmd.argv[0], perr);
			rc = -1;
		}
	}
	spawn_result_free(&r);
	return rc == 0 ? 0 : -1;
}

static void
exec_destroy(void *state)
{
	struct exec_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	spawn_argv_free(&st->cmd);
	for (i = 0; i < st->nenv; i++)
		free(st->envp[i]);
	free(st->envp);
	free(st->workdir);
	free(st->labels);
	free(st->check);
	free(st);
}

static int
valid_name(const char *s, int env)
{
	const char *p;

	if (*s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		    (p != s && *p >= '0' && *p <= '9')))
			return 0;
	return env || strncmp(s, "__", 2) != 0;
}

/* Set NAME=value in the environment, replacing an earlier NAME. */
static void
env_set(struct exec_state *st, const char *name, const char *value)
{
	size_t i, nlen = strlen(name), len = nlen + strlen(value) + 2;
	char *e;

	if ((e = malloc(len)) == NULL)
		abort();
	snprintf(e, len, "%s=%s", name, value);
	for (i = 0; i < st->nenv; i++)
		if (strncmp(st->envp[i], name, nlen) == 0 && st->envp[i][nlen] == '=') {
			free(st->envp[i]);
			st->envp[i] = e;
			return;
		}
	st->envp[st->nenv++] = e;
	st->envp[st->nenv] = NULL;
}

/* The command key: split, absolute, an executable regular file. */
static int
init_command(struct exec_state *st, struct reeve_probe_config *cfg)
{
	const struct reeve_host *h = st->host;
	const char *v = NULL, *s;
	char msg[256];
	size_t i;

	for (i = 0; (s = h->opt_get(cfg, "command", i)) != NULL; i++)
		v = s;
	if (v == NULL) {
		h->config_error(cfg, NULL, "missing key 'command' (the program to run and its arguments)");
		return -1;
	}
	if (spawn_split(v, &st->cmd, msg, sizeof(msg)) == -1) {
		h->config_error(cfg, "command", "%s", msg);
		return -1;
	}
	if (spawn_check_program(st->cmd.argv[0], msg, sizeof(msg)) == -1) {
		h->config_error(cfg, "command", "%s", msg);
		return -1;
	}
	return 0;
}

/* env.NAME and labels.NAME keys; returns 0 or -1 after config errors. */
static int
init_namespaced(struct exec_state *st, struct reeve_probe_config *cfg)
{
	const struct reeve_host *h = st->host;
	const char *key, *name, *v;
	size_t i, j, nkeys = 0;
	int rc = 0;

	while (h->opt_key(cfg, nkeys) != NULL)
		nkeys++;
	/* PATH and LANG, then each env.NAME */
	if ((st->envp = calloc(nkeys + 3, sizeof(*st->envp))) == NULL ||
	    (st->labels = calloc(nkeys + 1, sizeof(*st->labels))) == NULL)
		abort();
	env_set(st, "PATH", "/usr/bin:/bin");
	env_set(st, "LANG", "C.UTF-8");
	st->labels[0].name = "check";
	st->labels[0].value = st->check;
	st->nlabels = 1;
	for (i = 0; i < nkeys; i++) {
		key = h->opt_key(cfg, i);
		for (j = 0; j < i; j++)
			if (strcmp(h->opt_key(cfg, j), key) == 0)
				break;
		if (j < i)
			continue;	/* handled at its first occurrence */
		if (strncmp(key, "env.", 4) == 0) {
			name = key + 4;
			v = h->opt_get(cfg, key, 0);
			if (h->opt_get(cfg, key, 1) != NULL) {
				h->config_error(cfg, key, "given twice");
				rc = -1;
			} else if (!valid_name(name, 1)) {
				h->config_error(cfg, key, "'%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
				    name);
				rc = -1;
			} else
				env_set(st, name, v);
		} else if (strncmp(key, "labels.", 7) == 0) {
			name = key + 7;
			v = h->opt_get(cfg, key, 0);
			if (h->opt_get(cfg, key, 1) != NULL) {
				h->config_error(cfg, key, "given twice");
				rc = -1;
			} else if (!valid_name(name, 0)) {
				h->config_error(cfg, key, "'%s' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, "
				    "not starting with __)", name);
				rc = -1;
			} else if (strcmp(name, "check") == 0 || strcmp(name, "label") == 0) {
				h->config_error(cfg, key, "'%s' is a label the exec probe sets itself", name);
				rc = -1;
			} else if (*v == '\0') {
				h->config_error(cfg, key, "is empty (a label needs a value)");
				rc = -1;
			} else {
				st->labels[st->nlabels].name = name;
				st->labels[st->nlabels++].value = v;
			}
		}
	}
	return rc;
}

static int
exec_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct exec_state *st;
	const char *v, *s;
	double probe_timeout = -1;
	uint64_t size = EXEC_DEFAULT_MAX_OUTPUT;
	struct stat sb;
	size_t i;
	int rc = 0;

	if (host->size < offsetof(struct reeve_host, opt_size) + sizeof(host->opt_size)) {
		host->config_error(cfg, NULL, "this reeve is too old for the exec probe");
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		abort();
	st->host = host;
	st->format = FMT_PROMETHEUS;
	if ((st->check = strdup(host->instance_name(cfg))) == NULL)
		abort();
	if (init_command(st, cfg) == -1)
		rc = -1;
	for (v = NULL, i = 0; (s = host->opt_get(cfg, "format", i)) != NULL; i++)
		v = s;
	if (v != NULL && strcmp(v, "nagios") == 0)
		st->format = FMT_NAGIOS;
	else if (v != NULL && strcmp(v, "prometheus") != 0) {
		host->config_error(cfg, "format", "expected prometheus or nagios, got '%s'", v);
		rc = -1;
	}
	/* the command must be killed (and its group gone) before the daemon abandons collect() */
	host->opt_duration(cfg, "timeout", &probe_timeout);
	st->timeout = (probe_timeout > 0 ? probe_timeout : 10) * EXEC_TIMEOUT_SHARE;
	if (host->opt_duration(cfg, "command_timeout", &st->timeout) == -1)
		rc = -1;
	else if (st->timeout <= 0 || st->timeout > 3600) {
		host->config_error(cfg, "command_timeout", "must be more than 0 and at most 1h");
		rc = -1;
	} else if (probe_timeout > 0 && st->timeout >= probe_timeout) {
		host->config_error(cfg, "command_timeout", "must be shorter than the probe's "
		    "timeout (%gs): the command is killed before collect() is abandoned",
		    probe_timeout);
		rc = -1;
	}
	if (host->opt_size(cfg, "max_output", &size) == -1)
		rc = -1;
	else if (size < 1 || size > EXEC_MAX_OUTPUT_LIMIT) {
		host->config_error(cfg, "max_output", "must be from 1B to 64MiB");
		rc = -1;
	} else
		st->max_output = (size_t)size;
	for (v = NULL, i = 0; (s = host->opt_get(cfg, "working_dir", i)) != NULL; i++)
		v = s;
	if (v == NULL)
		v = "/";
	if (v[0] != '/') {
		host->config_error(cfg, "working_dir", "'%s' is not an absolute path", v);
		rc = -1;
	} else if (stat(v, &sb) == -1) {
		host->config_error(cfg, "working_dir", "%s: %s", v, strerror(errno));
		rc = -1;
	} else if (!S_ISDIR(sb.st_mode)) {
		host->config_error(cfg, "working_dir", "%s is not a directory", v);
		rc = -1;
	}
	if ((st->workdir = strdup(v)) == NULL)
		abort();
	if (init_namespaced(st, cfg) == -1)
		rc = -1;
	if (rc == -1) {
		exec_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "exec",
	.description = "runs a command (no shell) and reads its Nagios or Prometheus output",
	.init = exec_init,
	.collect = exec_collect,
	.destroy = exec_destroy,
};

/* reeve_probe_entry: the exec probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
