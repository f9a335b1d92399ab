/* spawn.c: running a command without a shell (the exec probe, the exec notifier): posix_spawn, own process group, timeout. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

#define SPAWN_CHUNK (64u << 10)		/* bytes moved through a pipe between two deadline checks */
#define SPAWN_DRAIN (1u << 20)		/* bytes read from a pipe after the command exited */
#define SPAWN_KILL_GRACE 0.5		/* seconds between SIGTERM and SIGKILL (at most) */
#define SPAWN_POLL_TICK 0.05		/* seconds between checks that the command exited */

/* ---- the command line ------------------------------------------------------------------ */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * spawn_split: split s into arguments: white space separates them, double quotes
 * group (and may stand inside a word: a"b c" is one argument), a backslash takes the next
 * character literally, in quotes or not. Nothing else is special: no variables, no globs,
 * no single quotes. Fills *cmd (free with spawn_argv_free); returns 0, or -1 with the
 * reason and its position in err.
 */
int
spawn_split(const char *s, struct spawn_argv *cmd, char *err, size_t errlen)
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
	spawn_argv_free(cmd);
	return -1;
}

/* spawn_argv_free: release what spawn_split filled in; cmd may be zeroed. */
void
spawn_argv_free(struct spawn_argv *cmd)
{
	free(cmd->argv);
	free(cmd->buf);
	memset(cmd, 0, sizeof(*cmd));
}

/*
 * spawn_check_program: is path (argv[0] of a command) something spawn_run can run: an
 * absolute path (there is no shell and no PATH search) to an executable regular file?
 * Returns 0, or -1 with the reason in err ("'echo' is not an absolute path ...").
 */
int
spawn_check_program(const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (path[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path (no shell and no PATH search: "
		    "write /usr/bin/%s or wherever it is)", path, path);
		return -1;
	}
	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "%s is not executable: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * spawn_first_line: the first non-blank line of s (len bytes) in buf, control characters
 * as blanks, trailing blanks cut, and "..." when it does not fit (at most buflen - 4
 * bytes of it are kept; buflen >= 4). Returns buf.
 */
const char *
spawn_first_line(const char *s, size_t len, char *buf, size_t buflen)
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
	int i, fd, saved;

	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		if (fds[i] >= 3)
			continue;
		if ((fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) == -1) {
			saved = errno;
			close(fds[0]);
			close(fds[1]);
			fds[0] = fds[1] = -1;
			errno = saved;
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

/* The bytes for the command's stdin, and how far they have been written. */
struct source {
	const char *data;
	size_t len;
	size_t off;
	int fd;			/* -1 once all was written, or the command closed its stdin */
};

/*
 * write(2) on the calling thread with SIGPIPE blocked, and a SIGPIPE the write raised
 * taken away again: a command that closed its stdin must not kill a process that does not
 * ignore SIGPIPE (the reeve CLI; the daemon ignores it). The signal of a failed write goes
 * to the thread that wrote, so no other thread is affected.
 */
static ssize_t
write_nosigpipe(int fd, const void *p, size_t n)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	int was_pending, saved;
	ssize_t w;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	w = write(fd, p, n);
	saved = errno;
	if (w == -1 && saved == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) == -1 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return w;
}

/*
 * Write what the pipe takes now, at most SPAWN_CHUNK bytes; close it when all is written
 * (the command sees EOF) or the command closed its end (EPIPE: not an error by itself,
 * the command decides by its exit status). Returns 0, or -1 on another write error.
 */
static int
source_write(struct source *s)
{
	size_t budget = SPAWN_CHUNK, want;
	ssize_t n;

	while (s->fd != -1 && s->off < s->len && budget > 0) {
		want = s->len - s->off < budget ? s->len - s->off : budget;
		n = write_nosigpipe(s->fd, s->data + s->off, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n == -1 && errno == EPIPE) {
			close_fd(&s->fd);
			return 0;
		}
		if (n == -1)
			return -1;
		s->off += (size_t)n;
		budget -= (size_t)n;
	}
	if (s->fd != -1 && s->off == s->len)
		close_fd(&s->fd);
	return 0;
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

/* spawn_result_free: release the output a run kept; r may be zeroed. */
void
spawn_result_free(struct spawn_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/*
 * Start c->argv in its own process group with the pipes as 0, 1, 2 (stdin /dev/null when
 * inp is NULL) and nothing else open. Returns its pid, or 0 with a message in err and the
 * reason in *errnum.
 */
static pid_t
start_child(const struct spawn_cmd *c, const int *inp, int outw, int errw, int *errnum, char *err,
    size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid = 0;
	int rc;

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
	    (rc = posix_spawn_file_actions_addchdir_np(&fa, c->dir)) != 0 ||
	    (rc = inp != NULL ? posix_spawn_file_actions_adddup2(&fa, inp[0], 0) :
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, outw, 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, errw, 2)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0) {
		snprintf(err, errlen, "cannot prepare to run %s: %s", c->argv[0], strerror(rc));
		*errnum = rc;
		pid = 0;
	} else if ((rc = posix_spawn(&pid, c->argv[0], &fa, &at, c->argv, c->envp)) != 0) {
		snprintf(err, errlen, "cannot run %s (in %s): %s", c->argv[0], c->dir, strerror(rc));
		*errnum = rc;
		pid = 0;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return pid;
}

/*
 * spawn_run: run c->argv[0] (an absolute path) with exactly c->envp as its environment, in
 * c->dir, in a process group of its own, with nothing open but 0, 1, 2. Its stdin is
 * c->input (written while its output is read, so a command that does not read stdin or
 * writes much cannot deadlock; a command that closes stdin early is not an error by
 * itself: r->input_written says how far it got), or /dev/null when c->input is NULL.
 * Reads stdout (the first c->max_output bytes kept) and stderr (the first SPAWN_STDERR_KEEP
 * bytes kept) until the command exits. Once it has exited, what it wrote is read and
 * anything it left in its group is killed (a background process holding the pipes does
 * not keep the run waiting). At c->timeout seconds, or when c->overflow_kills and stdout
 * passes max_output, the group is killed: SIGTERM, then SIGKILL after a grace of a quarter
 * of the timeout, at most SPAWN_KILL_GRACE. The child is always reaped. Safe to call from
 * several threads at once; SIGPIPE need not be ignored.
 *
 * Returns 0 when the command ran to its end, whatever its exit code; -1 with a message in
 * err when it could not be started (r->start_errno), timed out (r->timed_out), wrote too
 * much (r->too_much) or its output could not be read. r is filled in both cases (the
 * caller frees it with spawn_result_free).
 */
int
spawn_run(const struct spawn_cmd *c, struct spawn_result *r, char *err, size_t errlen)
{
	struct sink out = { 0 }, serr = { 0 };
	struct source in = { 0 };
	struct pollfd pfd[3];
	double start, deadline, now, wait;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	int status = -1, exited = 0, nfd, nout, leftovers, failed = 0;
	size_t tick_ms, budget;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	start = mono();
	if (make_pipe(outp) == -1 || make_pipe(errp) == -1 ||
	    (c->input != NULL && make_pipe(inp) == -1)) {
		r->start_errno = errno;
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		close_fd(&outp[0]);
		close_fd(&outp[1]);
		close_fd(&errp[0]);
		close_fd(&errp[1]);
		return -1;
	}
	pid = start_child(c, c->input != NULL ? inp : NULL, outp[1], errp[1], &r->start_errno, err,
	    errlen);
	close_fd(&inp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	if (pid == 0) {
		close_fd(&inp[1]);
		close_fd(&outp[0]);
		close_fd(&errp[0]);
		r->duration = mono() - start;
		return -1;
	}
	r->pid = pid;
	out.fd = outp[0];
	out.limit = c->max_output;
	serr.fd = errp[0];
	serr.limit = SPAWN_STDERR_KEEP;
	in.fd = inp[1];
	in.data = c->input;
	in.len = c->inputlen;
	fcntl(out.fd, F_SETFL, O_NONBLOCK);
	fcntl(serr.fd, F_SETFL, O_NONBLOCK);
	if (in.fd != -1)
		fcntl(in.fd, F_SETFL, O_NONBLOCK);
	deadline = start + c->timeout;
	tick_ms = 1;
	for (;;) {
		if (child_exited(pid)) {
			/* all it wrote is in the pipes now: take it, without waiting for EOF */
			exited = 1;
			budget = c->overflow_kills ? c->max_output + 1 - out.seen : SPAWN_DRAIN;
			if (sink_read(&out, budget) == -1 || sink_read(&serr, SPAWN_DRAIN) == -1) {
				snprintf(err, errlen, "reading the output of %s: %s", c->argv[0],
				    strerror(errno));
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
		nout = nfd;
		if (in.fd != -1) {
			pfd[nfd].fd = in.fd;
			pfd[nfd++].events = POLLOUT;
		}
		/* exit is not pollable: check it every tick; right after EOF it comes soon */
		wait = nout == 2 ? SPAWN_POLL_TICK : (double)tick_ms / 1000;
		if (nout < 2 && tick_ms < SPAWN_POLL_TICK * 1000)
			tick_ms *= 2;
		if (wait > deadline - now)
			wait = deadline - now;
		if (poll(pfd, (nfds_t)nfd, (int)(wait * 1000) + 1) == -1 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			failed = 1;
			break;
		}
		if (source_write(&in) == -1) {
			snprintf(err, errlen, "writing to the stdin of %s: %s", c->argv[0],
			    strerror(errno));
			failed = 1;
			break;
		}
		/* bounded reads, so that a flood still lets the deadline be checked */
		budget = c->overflow_kills ? c->max_output + 1 - out.seen : SPAWN_CHUNK;
		if (sink_read(&out, budget < SPAWN_CHUNK ? budget : SPAWN_CHUNK) == -1 ||
		    sink_read(&serr, SPAWN_CHUNK) == -1) {
			snprintf(err, errlen, "reading the output of %s: %s", c->argv[0],
			    strerror(errno));
			failed = 1;
			break;
		}
		if (c->overflow_kills && out.seen > c->max_output)
			break;
	}
	if (c->overflow_kills && out.seen > c->max_output)
		r->too_much = 1;
	close_fd(&in.fd);
	finish_child(pid, !exited, c->timeout / 4 < SPAWN_KILL_GRACE ? c->timeout / 4 :
	    SPAWN_KILL_GRACE, &status, &leftovers);
	close_fd(&out.fd);
	close_fd(&serr.fd);
	r->duration = mono() - start;
	r->leftovers = leftovers;
	r->input_written = in.off;
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
		snprintf(err, errlen, "%s wrote more than %zu bytes to stdout: killed", c->argv[0],
		    c->max_output);
		return -1;
	}
	if (r->timed_out) {
		snprintf(err, errlen, "%s did not finish within %.3gs: killed", c->argv[0],
		    c->timeout);
		return -1;
	}
	return failed ? -1 : 0;
}
