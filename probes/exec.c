/* exec.c: the exec probe: runs a command (no shell) and reads its Nagios or Prometheus output. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <reeve-probe.h>

#include "exec.h"
#include "nagios.h"

#define EXEC_TIMEOUT_SHARE 0.75		/* default command_timeout: this share of the probe's */
#define EXEC_DEFAULT_MAX_OUTPUT (1u << 20)
#define EXEC_MAX_OUTPUT_LIMIT (64u << 20)
#define EXEC_STDERR_KEEP 4096		/* bytes of stderr kept (the rest is read and dropped) */
#define EXEC_READ_CHUNK (64u << 10)	/* bytes read from a pipe between two deadline checks */
#define EXEC_STDERR_DRAIN (1u << 20)	/* bytes read from stderr after the command exited */
#define EXEC_KILL_GRACE 0.5		/* seconds between SIGTERM and SIGKILL (at most) */
#define EXEC_POLL_TICK 0.05		/* seconds between checks that the command exited */
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
	struct exec_cmdline cmd;
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

/* ---- the command line ------------------------------------------------------------------ */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * split_command: split s into arguments: white space separates them, double quotes
 * group (and may stand inside a word: a"b c" is one argument), a backslash takes the next
 * character literally, in quotes or not. Nothing else is special: no variables, no globs,
 * no single quotes. Fills *cmd (free with cmdline_free); returns 0, or -1 with the
 * reason and its position in err.
 */
REEVE_STATIC int
split_command(const char *s, struct exec_cmdline *cmd, char *err, size_t errlen)
{
	size_t len = strlen(s), maxargs = len / 2 + 2, quote_at = 0;
	const char *p = s;
	char *w;
	int in_word = 0, quoted = 0;

	memset(cmd, 0, sizeof(*cmd));
	/* every argument takes at most its own bytes plus a NUL in place of a separator */
	if ((cmd->buf = malloc(len + 1)) == NULL ||
	    (cmd->argv = calloc(maxargs, sizeof(*cmd->argv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	w = cmd->buf;
	for (; *p != '\0'; p++) {
		if (!quoted && is_blank(*p)) {
			if (in_word) {
				*w++ = '\0';
				in_word = 0;
			}
			continue;
		}
		if (!in_word) {
			cmd->argv[cmd->argc++] = w;
			in_word = 1;
		}
		if (*p == '"') {
			quoted = !quoted;
			quote_at = (size_t)(p - s) + 1;
		} else if (*p == '\\') {
			if (p[1] == '\0') {
				snprintf(err, errlen, "a backslash ends the command (at character %zu): "
				    "write \\\\ for a backslash", (size_t)(p - s) + 1);
				goto fail;
			}
			*w++ = *++p;
		} else
			*w++ = *p;
	}
	if (quoted) {
		snprintf(err, errlen, "the double quote at character %zu is not closed", quote_at);
		goto fail;
	}
	if (in_word)
		*w = '\0';
	if (cmd->argc == 0) {
		snprintf(err, errlen, "is empty (expected /path/to/program [arguments])");
		goto fail;
	}
	cmd->argv[cmd->argc] = NULL;
	return 0;
fail:
	cmdline_free(cmd);
	return -1;
}

/* cmdline_free: release what split_command filled in; cmd may be zeroed. */
REEVE_STATIC void
cmdline_free(struct exec_cmdline *cmd)
{
	free(cmd->argv);
	free(cmd->buf);
	memset(cmd, 0, sizeof(*cmd));
}

/* ---- running it ------------------------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Make a pipe whose ends are >= 3 (a daemon may run with 0-2 closed), close-on-exec. */
static int
make_pipe(int fds[2])
{
	int i, fd;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fds[i] >= 3)
			continue;
		if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) == -1) {
			close(fds[0]);
			close(fds[1]);
			return -1;
		}
		close(fds[i]);
		fds[i] = fd;
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* A growing output buffer that refuses to pass a limit. */
struct sink {
	char *data;
	size_t len;
	size_t cap;
	size_t limit;		/* bytes kept at most */
	size_t seen;		/* bytes read, kept or not */
	int fd;
	int eof;
};

/*
 * Read what fd has now, at most budget bytes. Returns 1 when data came, 0 when none is
 * available (or EOF), -1 on a read error (errno set).
 */
static int
sink_read(struct sink *k, size_t budget)
{
	char tmp[16384];
	size_t want, keep;
	ssize_t n;
	int got = 0;

	while (!k->eof && budget > 0) {
		want = budget < sizeof(tmp) ? budget : sizeof(tmp);
		n = read(k->fd, tmp, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return got;
		if (n == -1)
			return -1;
		if (n == 0) {
			k->eof = 1;
			break;
		}
		got = 1;
		budget -= (size_t)n;
		k->seen += (size_t)n;
		keep = k->len < k->limit ? k->limit - k->len : 0;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep == 0)
			continue;
		if (k->len + keep + 1 > k->cap) {
			size_t ncap = k->cap ? k->cap : 4096;

			while (ncap < k->len + keep + 1)
				ncap *= 2;
			if ((k->data = realloc(k->data, ncap)) == NULL)
				abort();
			k->cap = ncap;
		}
		memcpy(k->data + k->len, tmp, keep);
		k->len += keep;
		k->data[k->len] = '\0';
	}
	return got;
}

/* Has the child exited? Leaves it a zombie (WNOWAIT) so its pid, our group id, stays ours. */
static int
child_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return errno == ECHILD;	/* someone else reaped it (SIGCHLD ignored) */
	return si.si_pid == pid;
}

/* Does anything of the process group still exist (zombies included)? */
static int
group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

/*
 * Wait for the direct child to be reapable until deadline (monotonic), then reap it;
 * returns 0 with its status, or -1 when the deadline passed first (not reaped).
 */
static int
reap_by(pid_t pid, double deadline, int *status)
{
	double tick = 0.001;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno == ECHILD) {
			*status = -1;
			return 0;
		}
		if (r == -1 && errno != EINTR)
			return -1;
		if (mono() >= deadline)
			return -1;
		sleep_s(tick);
		if (tick < 0.02)
			tick *= 2;
	}
}

/*
 * End the command: when it still runs, SIGTERM to its process group, SIGKILL after the
 * grace; always reap it; then whatever else is left in its group (background processes
 * it started) gets SIGTERM, and SIGKILL after the grace. *status receives its wait status
 * (-1 when it could not be had).
 */
static void
finish_child(pid_t pid, int still_running, double grace, int *status, int *leftovers)
{
	double tick = 0.001, deadline;

	*leftovers = 0;
	if (still_running)
		kill(-pid, SIGTERM);
	if (reap_by(pid, mono() + (still_running ? grace : 0), status) == -1) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, status, 0) == -1 && errno == EINTR)
			;
	}
	if (!group_alive(pid))
		return;
	*leftovers = 1;
	kill(-pid, SIGTERM);
	deadline = mono() + grace;
	while (group_alive(pid) && mono() < deadline) {
		sleep_s(tick);
		if (tick < 0.02)
			tick *= 2;
	}
	if (group_alive(pid))
		kill(-pid, SIGKILL);
}

/* result_free: release the output a run kept; r may be zeroed. */
REEVE_STATIC void
result_free(struct exec_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/*
 * run_command: run argv[0] (an absolute path) with exactly envp as its environment, in dir,
 * in a process group of its own, with stdin from /dev/null and nothing open but 0, 1, 2.
 * Reads stdout (at most max_output bytes) and stderr (the first EXEC_STDERR_KEEP bytes
 * kept) until the command exits. Once it has exited, what it wrote is read and anything it
 * left in its group is killed (a background process holding the pipes does not keep the
 * run waiting). At timeout seconds, or when stdout passes max_output, the group is killed:
 * SIGTERM, then SIGKILL after a grace of a quarter of the timeout, at most EXEC_KILL_GRACE.
 * The child is always reaped.
 *
 * Returns 0 when the command ran to its end, whatever its exit code; -1 with a message in
 * err when it could not be started, timed out (r->timed_out), wrote too much
 * (r->too_much) or its output could not be read. r is filled in both cases (the caller
 * frees it with result_free).
 */
REEVE_STATIC int
run_command(char *const argv[], char *const envp[], const char *dir, double timeout,
    size_t max_output, struct exec_result *r, char *err, size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	struct sink out = { 0 }, serr = { 0 };
	struct pollfd pfd[2];
	sigset_t none, all;
	double start, deadline, now, wait;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int rc, status = -1, exited = 0, nfd, leftovers, failed = 0;
	size_t tick_ms, budget;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	start = mono();
	if (make_pipe(outp) == -1 || make_pipe(errp) == -1) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		close_fd(&outp[0]);
		close_fd(&outp[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	/* the daemon's threads block signals and it ignores SIGPIPE: none of that is inherited */
	if ((rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) != 0 ||
	    (rc = posix_spawnattr_setpgroup(&at, 0)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(&at, &all)) != 0 ||
	    (rc = posix_spawn_file_actions_addchdir_np(&fa, dir)) != 0 ||
	    (rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, outp[1], 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, errp[1], 2)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0) {
		snprintf(err, errlen, "cannot prepare to run %s: %s", argv[0], strerror(rc));
		failed = 1;
	} else if ((rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp)) != 0) {
		snprintf(err, errlen, "cannot run %s (in %s): %s", argv[0], dir, strerror(rc));
		failed = 1;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	if (failed) {
		close_fd(&outp[0]);
		close_fd(&errp[0]);
		r->duration = mono() - start;
		return -1;
	}
	r->pid = pid;
	out.fd = outp[0];
	out.limit = max_output;
	serr.fd = errp[0];
	serr.limit = EXEC_STDERR_KEEP;
	fcntl(out.fd, F_SETFL, O_NONBLOCK);
	fcntl(serr.fd, F_SETFL, O_NONBLOCK);
	deadline = start + timeout;
	tick_ms = 1;
	for (;;) {
		if (child_exited(pid)) {
			/* all it wrote is in the pipes now: take it, without waiting for EOF */
			exited = 1;
			if (sink_read(&out, max_output + 1 - out.seen) == -1 ||
			    sink_read(&serr, EXEC_STDERR_DRAIN) == -1) {
				snprintf(err, errlen, "reading the output of %s: %s", argv[0], strerror(errno));
				failed = 1;
			}
			break;
		}
		now = mono();
		if (now >= deadline) {
			r->timed_out = 1;
			break;
		}
		nfd = 0;
		if (!out.eof) {
			pfd[nfd].fd = out.fd;
			pfd[nfd++].events = POLLIN;
		}
		if (!serr.eof) {
			pfd[nfd].fd = serr.fd;
			pfd[nfd++].events = POLLIN;
		}
		/* exit is not pollable: check it every tick; right after EOF it comes soon */
		wait = nfd == 2 ? EXEC_POLL_TICK : (double)tick_ms / 1000;
		if (nfd < 2 && tick_ms < EXEC_POLL_TICK * 1000)
			tick_ms *= 2;
		if (wait > deadline - now)
			wait = deadline - now;
		if (poll(pfd, (nfds_t)nfd, (int)(wait * 1000) + 1) == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			failed = 1;
			break;
		}
		/* bounded reads, so that a flood still lets the deadline be checked */
		budget = max_output + 1 - out.seen;
		if (sink_read(&out, budget < EXEC_READ_CHUNK ? budget : EXEC_READ_CHUNK) == -1 ||
		    sink_read(&serr, EXEC_READ_CHUNK) == -1) {
			snprintf(err, errlen, "reading the output of %s: %s", argv[0], strerror(errno));
			failed = 1;
			break;
		}
		if (out.seen > max_output)
			break;
	}
	if (out.seen > max_output)
		r->too_much = 1;
	finish_child(pid, !exited, timeout / 4 < EXEC_KILL_GRACE ? timeout / 4 : EXEC_KILL_GRACE,
	    &status, &leftovers);
	close_fd(&out.fd);
	close_fd(&serr.fd);
	r->duration = mono() - start;
	r->leftovers = leftovers;
	if (status != -1 && WIFEXITED(status))
		r->exit_code = WEXITSTATUS(status);
	else if (status != -1 && WIFSIGNALED(status)) {
		r->signaled = 1;
		r->exit_code = -WTERMSIG(status);
	}
	r->out = out.data;
	r->outlen = out.len;
	r->err = serr.data;
	r->errlen = serr.len;
	if (r->too_much) {
		snprintf(err, errlen, "%s wrote more than max_output (%zu bytes) to stdout: killed",
		    argv[0], max_output);
		return -1;
	}
	if (r->timed_out) {
		snprintf(err, errlen, "%s did not finish within command_timeout (%.3gs): killed",
		    argv[0], timeout);
		return -1;
	}
	return failed ? -1 : 0;
}

/* ---- the probe -------------------------------------------------------------------------- */

/* The first line of s (len bytes), printable, at most EXEC_MSG_MAX - 4 bytes, in buf. */
static const char *
first_line(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, n = 0;

	while (len > 0 && (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	for (i = 0; i < len && s[i] != '\n' && n + 4 < buflen; i++)
		buf[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	if (i < len && s[i] != '\n' && n + 4 >= buflen) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

static void
emit_run_metrics(struct exec_state *st, struct reeve_emitter *em, const struct exec_result *r,
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
emit_nagios(struct exec_state *st, struct reeve_emitter *em, const struct exec_result *r,
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
	struct exec_result r;
	char line[EXEC_MSG_MAX];
	int rc, ran;

	rc = run_command(st->cmd.argv, st->envp, st->workdir, st->timeout, st->max_output, &r, err,
	    errlen);
	ran = rc == 0;
	if (r.timed_out)
		st->timeouts++;
	if (r.errlen > 0)
		st->host->log(REEVE_LOG_DEBUG, "stderr: %s", first_line(r.err, r.errlen, line,
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
			    r.errlen ? first_line(r.err, r.errlen, line, sizeof(line)) : "");
		else
			snprintf(err, errlen, "%s exited with code %d%s%s", st->cmd.argv[0],
			    r.exit_code, r.errlen ? "; stderr: " : "",
			    r.errlen ? first_line(r.err, r.errlen, line, sizeof(line)) : "");
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
	result_free(&r);
	return rc == 0 ? 0 : -1;
}

static void
exec_destroy(void *state)
{
	struct exec_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	cmdline_free(&st->cmd);
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
	struct stat sb;
	size_t i;

	for (i = 0; (s = h->opt_get(cfg, "command", i)) != NULL; i++)
		v = s;
	if (v == NULL) {
		h->config_error(cfg, NULL, "missing key 'command' (the program to run and its arguments)");
		return -1;
	}
	if (split_command(v, &st->cmd, msg, sizeof(msg)) == -1) {
		h->config_error(cfg, "command", "%s", msg);
		return -1;
	}
	s = st->cmd.argv[0];
	if (s[0] != '/') {
		h->config_error(cfg, "command", "'%s' is not an absolute path (no shell and no PATH "
		    "search: write /usr/bin/%s or wherever it is)", s, s);
		return -1;
	}
	if (stat(s, &sb) == -1) {
		h->config_error(cfg, "command", "%s: %s", s, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		h->config_error(cfg, "command", "%s is not a regular file", s);
		return -1;
	}
	if (access(s, X_OK) == -1) {
		h->config_error(cfg, "command", "%s is not executable: %s", s, strerror(errno));
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
