/* exec.h: the command line and command runner of the exec probe, for probes/exec.c and its tests. */
#ifndef REEVE_PROBES_EXEC_H
#define REEVE_PROBES_EXEC_H

/*
 * Internal to the exec probe. The functions are REEVE_STATIC: static in the module,
 * external in a test program built with -DREEVE_TESTING.
 */

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#ifdef REEVE_TESTING
#define REEVE_STATIC
#else
#define REEVE_STATIC static
#endif

/* A command split into arguments: argv[0..argc) point into buf, argv[argc] is NULL. */
struct exec_cmdline {
	char **argv;
	size_t argc;
	char *buf;
};

/* What one run of a command gave. out and err are NUL-terminated (or NULL when empty). */
struct exec_result {
	char *out;		/* stdout, at most max_output bytes */
	size_t outlen;
	char *err;		/* the start of stderr */
	size_t errlen;
	pid_t pid;		/* the command's pid and process group; 0 when not started */
	int exit_code;		/* its exit code, or minus the signal that killed it; -1 unknown */
	int signaled;		/* it was killed by a signal */
	int timed_out;		/* it was killed at the timeout */
	int too_much;		/* it was killed for writing more than max_output */
	int leftovers;		/* processes it left in its group were killed after it exited */
	double duration;	/* seconds from start to reaped */
};

/* ---- exec.c: each function's contract is in the comment above its definition ---- */
REEVE_STATIC int split_command(const char *s, struct exec_cmdline *cmd, char *err,
    size_t errlen);
REEVE_STATIC void cmdline_free(struct exec_cmdline *cmd);
REEVE_STATIC int run_command(char *const argv[], char *const envp[], const char *dir,
    double timeout, size_t max_output, struct exec_result *r, char *err, size_t errlen);
REEVE_STATIC void result_free(struct exec_result *r);

#endif /* REEVE_PROBES_EXEC_H */
