/* spawn.h: running a command without a shell: its own process group, a clean environment, stdin bytes, capped output, a timeout. */
#ifndef REEVE_SPAWN_H
#define REEVE_SPAWN_H

/*
 * Shared by the exec probe (compiled into its module, which cannot link libreeve) and the
 * exec notifier (alerts/execnotify.c, in libreeve): so this module uses nothing of
 * libreeve, not even xmalloc or the log.
 */

#include <sys/types.h>

#include <stddef.h>

/* Bytes of stderr kept (the rest is read and dropped). */
#define SPAWN_STDERR_KEEP 4096

/* A command split into arguments: argv[0..argc) point into buf, argv[argc] is NULL. */
struct spawn_argv {
	char **argv;
	size_t argc;
	char *buf;
};

/* What to run, and how. Everything is borrowed for the call. */
struct spawn_cmd {
	char *const *argv;	/* argv[0]: an absolute path (no PATH search) */
	char *const *envp;	/* exactly the environment, NULL-terminated */
	const char *dir;	/* the working directory */
	const void *input;	/* written to stdin; NULL: stdin is /dev/null */
	size_t inputlen;
	double timeout;		/* seconds until the process group is killed */
	size_t max_output;	/* bytes of stdout kept */
	int overflow_kills;	/* 1: more stdout than max_output kills it (too_much); 0: dropped */
};

/* What one run of a command gave. out and err are NUL-terminated (or NULL when empty). */
struct spawn_result {
	char *out;		/* stdout, at most max_output bytes */
	size_t outlen;
	char *err;		/* the start of stderr, at most SPAWN_STDERR_KEEP bytes */
	size_t errlen;
	pid_t pid;		/* the command's pid and process group; 0 when not started */
	int start_errno;	/* why it could not be started (pipe, posix_spawn); 0 otherwise */
	int exit_code;		/* its exit code, or minus the signal that killed it; -1 unknown */
	int signaled;		/* it was killed by a signal */
	int timed_out;		/* it was killed at the timeout */
	int too_much;		/* it was killed for writing more than max_output (overflow_kills) */
	int leftovers;		/* processes it left in its group were killed after it exited */
	size_t input_written;	/* bytes of the input written to its stdin before it closed it */
	double duration;	/* seconds from start to reaped */
};

/* ---- spawn.c: each function's contract is in the comment above its definition ---- */
int spawn_split(const char *s, struct spawn_argv *cmd, char *err, size_t errlen);
void spawn_argv_free(struct spawn_argv *cmd);
int spawn_check_program(const char *path, char *err, size_t errlen);
int spawn_run(const struct spawn_cmd *c, struct spawn_result *r, char *err, size_t errlen);
void spawn_result_free(struct spawn_result *r);
const char *spawn_first_line(const char *s, size_t len, char *buf, size_t buflen);

#endif /* REEVE_SPAWN_H */
