/* test_spawn.c: unit tests of src/spawn.c: command lines, running real commands (stdin, output, timeouts, process groups). */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "spawn.h"
#include "probe_test_host.h"

static char *const clean_env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };

/* ---- command lines ---- */

static void
check_split(const char *s, const char *const *want)
{
	struct spawn_argv c;
	char err[256];
	size_t i;

	if (spawn_split(s, &c, err, sizeof(err)) == -1)
		fail_msg("'%s': %s", s, err);
	for (i = 0; want[i] != NULL; i++) {
		assert_true(i < c.argc);
		assert_string_equal(c.argv[i], want[i]);
	}
	assert_int_equal(c.argc, i);
	assert_null(c.argv[c.argc]);
	spawn_argv_free(&c);
}

static void
check_split_error(const char *s, const char *want)
{
	struct spawn_argv c;
	char err[256];

	assert_int_equal(spawn_split(s, &c, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("'%s': got '%s', expected '%s'", s, err, want);
	assert_null(c.argv);
}

static void
test_split(void **unused)
{
	check_split("/bin/echo", (const char *[]){ "/bin/echo", NULL });
	check_split("  /bin/echo a \t b\n c  ", (const char *[]){ "/bin/echo", "a", "b", "c", NULL });
	check_split("/x \"arg two\" a\"b c\"d", (const char *[]){ "/x", "arg two", "ab cd", NULL });
	check_split("/x \\\"q\\\" a\\ b \"in \\\"q\\\" \\\\\"",
	    (const char *[]){ "/x", "\"q\"", "a b", "in \"q\" \\", NULL });
	check_split("/x \"\" '' 'a b'", (const char *[]){ "/x", "", "''", "'a", "b'", NULL });
	check_split("/x $HOME * ~ ; | > `id`",
	    (const char *[]){ "/x", "$HOME", "*", "~", ";", "|", ">", "`id`", NULL });
	check_split("/x \\n\\t", (const char *[]){ "/x", "nt", NULL });

	check_split_error("/x \"abc", "the double quote at character 4 is not closed");
	check_split_error("/x \"a\" \"b", "the double quote at character 8 is not closed");
	check_split_error("/x abc\\", "a backslash ends the command (at character 7)");
	check_split_error("", "is empty");
	check_split_error("   \t ", "is empty");
}

/* ---- running commands ---- */

/* Run argv with envp in dir, no stdin, stdout beyond max_output killing it; spawn_run's. */
static int
run_in(char *const *argv, char *const *envp, const char *dir, double timeout,
    size_t max_output, struct spawn_result *r, char *err, size_t errlen)
{
	struct spawn_cmd c = { 0 };

	c.argv = argv;
	c.envp = envp;
	c.dir = dir;
	c.timeout = timeout;
	c.max_output = max_output;
	c.overflow_kills = 1;
	return spawn_run(&c, r, err, errlen);
}

/* Run argv (NULL-terminated list) with the clean environment in /; returns spawn_run's. */
static int
run(const char *const *argv, double timeout, size_t max_output, struct spawn_result *r,
    char *err, size_t errlen)
{
	return run_in((char *const *)argv, clean_env, "/", timeout, max_output, r, err, errlen);
}

/*
 * Does process group pgid still hold a process that is not a zombie, or a zombie that is
 * ours to reap? (Zombies adopted by init are init's to reap.)
 */
static int
group_has_live(pid_t pgid)
{
	char path[300], buf[512], state;
	int ppid, pgrp;
	struct dirent *de;
	DIR *d = opendir("/proc");
	FILE *f;
	int found = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL) {
			char *close = strrchr(buf, ')');

			if (close != NULL && sscanf(close + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
			    pgrp == pgid && (state != 'Z' || ppid == getpid()))
				found = 1;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Poll (generously: a test has no timing thresholds) until the group has no live process. */
static int
group_gone(pid_t pgid)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1500; i++) {
		if (!group_has_live(pgid))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
test_run_output_and_exit(void **unused)
{
	struct spawn_result r;
	char err[512];

	assert_int_equal(run((const char *[]){ "/bin/echo", "hello", "two words", NULL }, 10,
	    1024, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "hello two words\n");
	assert_int_equal(r.outlen, 16);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.signaled || r.timed_out || r.too_much || r.leftovers);
	assert_true(r.pid > 0);
	spawn_result_free(&r);

	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "echo out; echo err >&2; exit 3",
	    NULL }, 10, 1024, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	assert_int_equal(r.exit_code, 3);
	spawn_result_free(&r);

	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "kill -SEGV $$", NULL }, 10,
	    1024, &r, err, sizeof(err)), 0);
	assert_true(r.signaled);
	assert_int_equal(r.exit_code, -SIGSEGV);
	spawn_result_free(&r);

	/* stdin is /dev/null: cat ends at once */
	assert_int_equal(run((const char *[]){ "/bin/cat", NULL }, 10, 1024, &r, err,
	    sizeof(err)), 0);
	assert_null(r.out);
	assert_int_equal(r.outlen, 0);
	assert_int_equal(r.exit_code, 0);
	spawn_result_free(&r);

	/* more than a pipe holds, and exactly max_output */
	assert_int_equal(run((const char *[]){ "/usr/bin/head", "-c", "300000", "/dev/zero",
	    NULL }, 10, 300000, &r, err, sizeof(err)), 0);
	assert_int_equal(r.outlen, 300000);
	spawn_result_free(&r);
}

static void
test_run_environment(void **unused)
{
	char *const env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "FOO=a b", NULL };
	struct spawn_result r;
	char err[512];
	int fd, sv[2];
	sigset_t block, old;
	struct sigaction ign, oldpipe;
	const char *const ls[] = { "/bin/ls", "/proc/self/fd", NULL };
	const char *const env_argv[] = { "/usr/bin/env", NULL };
	const char *const pwd[] = { "/bin/pwd", NULL };

	/* exactly the environment given */
	assert_int_equal(run_in((char *const *)env_argv, env, "/", 10, 4096, &r, err,
	    sizeof(err)), 0);
	assert_string_equal(r.out, "PATH=/usr/bin:/bin\nLANG=C.UTF-8\nFOO=a b\n");
	spawn_result_free(&r);

	/* descriptors the caller left open without close-on-exec are not inherited */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 9), 9);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(run(ls, 10, 4096, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "0\n1\n2\n3\n");	/* 3: ls reading the directory */
	spawn_result_free(&r);
	close(fd);
	close(9);
	close(sv[0]);
	close(sv[1]);

	/* blocked and ignored signals of the caller are not inherited */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGPIPE, &ign, &oldpipe), 0);
	assert_int_equal(run((const char *[]){ "/bin/grep", "-E", "^Sig(Blk|Ign):",
	    "/proc/self/status", NULL }, 10, 4096, &r, err, sizeof(err)), 0);
	{
		unsigned long long blk, sigign;

		assert_non_null(r.out);
		assert_int_equal(sscanf(r.out, "SigBlk:\t%llx\nSigIgn:\t%llx", &blk, &sigign), 2);
		assert_int_equal(blk, 0);
		/* signals 1..31; glibc's posix_spawn ignores its internal 32 and 33 itself */
		assert_int_equal(sigign & 0x7fffffffull, 0);
	}
	spawn_result_free(&r);
	sigaction(SIGPIPE, &oldpipe, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	/* its own process group, and the working directory */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c",
	    "echo $$; cut -d' ' -f5 /proc/$$/stat", NULL }, 10, 4096, &r, err, sizeof(err)), 0);
	assert_non_null(r.out);
	{
		long a, b;

		assert_int_equal(sscanf(r.out, "%ld\n%ld", &a, &b), 2);
		assert_int_equal(a, b);
		assert_int_equal(a, r.pid);
	}
	spawn_result_free(&r);
	assert_int_equal(run_in((char *const *)pwd, clean_env, "/tmp", 10, 4096, &r, err,
	    sizeof(err)), 0);
	assert_string_equal(r.out, "/tmp\n");
	spawn_result_free(&r);
}

static void
test_run_timeout(void **unused)
{
	struct spawn_result r;
	char err[512];

	/* a shell and its child sleeping: both die of SIGTERM */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "echo started; sleep 100 & sleep 100",
	    NULL }, 0.3, 4096, &r, err, sizeof(err)), -1);
	assert_true(r.timed_out);
	assert_non_null(strstr(err, "/bin/sh did not finish within 0.3s: killed"));
	assert_int_equal(r.exit_code, -SIGTERM);
	assert_string_equal(r.out, "started\n");
	assert_true(group_gone(r.pid));
	spawn_result_free(&r);

	/* SIGTERM ignored (and inherited ignored by sleep): SIGKILL follows */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "trap '' TERM; sleep 100; sleep 100",
	    NULL }, 0.3, 4096, &r, err, sizeof(err)), -1);
	assert_true(r.timed_out);
	assert_int_equal(r.exit_code, -SIGKILL);
	assert_true(group_gone(r.pid));
	spawn_result_free(&r);

	/* it closed its output and goes on */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "exec >&- 2>&-; sleep 100",
	    NULL }, 0.3, 4096, &r, err, sizeof(err)), -1);
	assert_true(r.timed_out);
	assert_true(group_gone(r.pid));
	spawn_result_free(&r);
}

static void
test_run_background(void **unused)
{
	struct spawn_result r;
	char err[512];

	/* the job holds stdout and stderr open: the run ends with the shell, the job is killed */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "sleep 100 & echo done", NULL },
	    30, 4096, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "done\n");
	assert_int_equal(r.exit_code, 0);
	assert_false(r.timed_out);
	assert_true(r.leftovers);
	assert_true(group_gone(r.pid));
	spawn_result_free(&r);
}

static void
test_run_limits_and_failures(void **unused)
{
	struct spawn_result r;
	char err[512];

	assert_int_equal(run((const char *[]){ "/usr/bin/yes", NULL }, 30, 1000, &r, err,
	    sizeof(err)), -1);
	assert_true(r.too_much);
	assert_int_equal(r.outlen, 1000);
	assert_non_null(strstr(err, "/usr/bin/yes wrote more than 1000 bytes to stdout: killed"));
	assert_true(group_gone(r.pid));
	spawn_result_free(&r);

	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "printf 0123456789", NULL }, 10,
	    10, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "0123456789");
	spawn_result_free(&r);
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "printf 0123456789x", NULL }, 10,
	    10, &r, err, sizeof(err)), -1);
	assert_true(r.too_much);
	spawn_result_free(&r);

	/* stderr floods: kept short, the run still ends */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "head -c 2000000 /dev/zero >&2; echo ok",
	    NULL }, 30, 100, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "ok\n");
	assert_true(r.errlen <= 4096);
	spawn_result_free(&r);

	assert_int_equal(run((const char *[]){ "/nonexistent/prog", NULL }, 10, 100, &r, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "cannot run /nonexistent/prog (in /): No such file or directory");
	assert_int_equal(r.pid, 0);
	assert_int_equal(r.start_errno, ENOENT);
	spawn_result_free(&r);
	assert_int_equal(run((const char *[]){ "/etc/passwd", NULL }, 10, 100, &r, err,
	    sizeof(err)), -1);
	assert_int_equal(r.start_errno, EACCES);
	spawn_result_free(&r);
	assert_int_equal(run_in((char *const[]){ "/bin/echo", NULL }, clean_env,
	    "/nonexistent-dir", 10, 100, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot run /bin/echo (in /nonexistent-dir)"));
	spawn_result_free(&r);
}


/* ---- stdin ---- */

/* Run argv with input on stdin; stdout beyond max_output is dropped, not fatal. */
static int
run_input(const char *const *argv, const void *input, size_t len, double timeout,
    struct spawn_result *r, char *err, size_t errlen)
{
	struct spawn_cmd c = { 0 };

	c.argv = (char *const *)argv;
	c.envp = clean_env;
	c.dir = "/";
	c.input = input;
	c.inputlen = len;
	c.timeout = timeout;
	c.max_output = 100;
	return spawn_run(&c, r, err, errlen);
}

static void
test_run_stdin(void **unused)
{
	struct sigaction dfl, old;
	struct spawn_result r;
	size_t big = 3u << 20, i;
	char err[512], *data = malloc(big);
	unsigned long sum;

	assert_non_null(data);
	for (i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	/* SIGPIPE at its default: a command closing its stdin must not kill the caller */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);

	/* the bytes arrive, all of them, more than a pipe holds; stdout past 100 bytes dropped */
	assert_int_equal(run_input((const char *[]){ "/usr/bin/wc", "-c", NULL }, data, big, 30,
	    &r, err, sizeof(err)), 0);
	assert_int_equal(strtoul(r.out, NULL, 10), big);
	assert_int_equal(r.input_written, big);
	spawn_result_free(&r);
	assert_int_equal(run_input((const char *[]){ "/bin/cat", NULL }, data, big, 30, &r, err,
	    sizeof(err)), 0);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.too_much);
	assert_int_equal(r.outlen, 100);
	assert_memory_equal(r.out, data, 100);
	assert_int_equal(r.input_written, big);
	spawn_result_free(&r);
	/* an empty input: EOF at once */
	assert_int_equal(run_input((const char *[]){ "/usr/bin/wc", "-c", NULL }, "", 0, 30,
	    &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "0\n");
	spawn_result_free(&r);

	/* a command that never reads stdin: no deadlock, not an error */
	assert_int_equal(run_input((const char *[]){ "/bin/sh", "-c", "echo ignored; exit 4",
	    NULL }, data, big, 30, &r, err, sizeof(err)), 0);
	assert_int_equal(r.exit_code, 4);
	assert_string_equal(r.out, "ignored\n");
	assert_true(r.input_written < big);
	spawn_result_free(&r);

	/* one that closes stdin and goes on: the rest is not written (EPIPE), still no error */
	assert_int_equal(run_input((const char *[]){ "/bin/sh", "-c",
	    "exec 0<&-; sleep 0.2; echo done", NULL }, data, big, 30, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "done\n");
	assert_true(r.input_written < big);
	spawn_result_free(&r);

	/* one that reads a little and then waits: the timeout ends it */
	assert_int_equal(run_input((const char *[]){ "/bin/sh", "-c", "head -c 10 >/dev/null; sleep 100",
	    NULL }, data, big, 0.3, &r, err, sizeof(err)), -1);
	assert_true(r.timed_out);
	assert_true(group_gone(r.pid));
	spawn_result_free(&r);

	/* stdout floods while stdin is being written: both keep moving */
	for (sum = 0, i = 0; i < 3; i++) {
		assert_int_equal(run_input((const char *[]){ "/bin/sh", "-c",
		    "head -c 5000000 /dev/zero; cat >/dev/null; echo end >&2", NULL }, data, big, 30,
		    &r, err, sizeof(err)), 0);
		assert_string_equal(r.err, "end\n");
		sum += r.input_written;
		spawn_result_free(&r);
	}
	assert_int_equal(sum, 3 * big);
	sigaction(SIGPIPE, &old, NULL);
	free(data);
}

/* ---- helpers ---- */

static void
test_check_program(void **unused)
{
	char err[256];

	assert_int_equal(spawn_check_program("/bin/sh", err, sizeof(err)), 0);
	assert_int_equal(spawn_check_program("sh", err, sizeof(err)), -1);
	assert_string_equal(err, "'sh' is not an absolute path (no shell and no PATH search: "
	    "write /usr/bin/sh or wherever it is)");
	assert_int_equal(spawn_check_program("/nonexistent/x", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/x: No such file or directory");
	assert_int_equal(spawn_check_program("/tmp", err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp is not a regular file");
	if (geteuid() != 0) {
		assert_int_equal(spawn_check_program("/etc/passwd", err, sizeof(err)), -1);
		assert_string_equal(err, "/etc/passwd is not executable: Permission denied");
	}
}

static void
test_first_line(void **unused)
{
	char buf[16];
	const char *s = "\n  \r\n first\tline  \nsecond";

	assert_string_equal(spawn_first_line(s, strlen(s), buf, sizeof(buf)), "first line");
	s = "a much longer line";
	assert_string_equal(spawn_first_line(s, strlen(s), buf, sizeof(buf)), "a much longe...");
	assert_string_equal(spawn_first_line("", 0, buf, sizeof(buf)), "");
	/* len bounds it: no NUL needed */
	assert_string_equal(spawn_first_line("abcdef", 3, buf, sizeof(buf)), "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_run_output_and_exit),
		cmocka_unit_test(test_run_environment),
		cmocka_unit_test(test_run_timeout),
		cmocka_unit_test(test_run_background),
		cmocka_unit_test(test_run_limits_and_failures),
		cmocka_unit_test(test_run_stdin),
		cmocka_unit_test(test_check_program),
		cmocka_unit_test(test_first_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
