/* test_exec.c: unit tests of the exec probe: command lines, running real commands, the probe. */
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

#include "exec.h"
#include "probe_test_host.h"

static char *const clean_env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };

/* ---- command lines ---- */

static void
check_split(const char *s, const char *const *want)
{
	struct exec_cmdline c;
	char err[256];
	size_t i;

	if (split_command(s, &c, err, sizeof(err)) == -1)
		fail_msg("'%s': %s", s, err);
	for (i = 0; want[i] != NULL; i++) {
		assert_true(i < c.argc);
		assert_string_equal(c.argv[i], want[i]);
	}
	assert_int_equal(c.argc, i);
	assert_null(c.argv[c.argc]);
	cmdline_free(&c);
}

static void
check_split_error(const char *s, const char *want)
{
	struct exec_cmdline c;
	char err[256];

	assert_int_equal(split_command(s, &c, err, sizeof(err)), -1);
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

/* Run argv (NULL-terminated list) with the clean environment in /; returns run_command's. */
static int
run(const char *const *argv, double timeout, size_t max_output, struct exec_result *r,
    char *err, size_t errlen)
{
	return run_command((char *const *)argv, clean_env, "/", timeout, max_output, r, err,
	    errlen);
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
	struct exec_result r;
	char err[512];

	assert_int_equal(run((const char *[]){ "/bin/echo", "hello", "two words", NULL }, 10,
	    1024, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "hello two words\n");
	assert_int_equal(r.outlen, 16);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.signaled || r.timed_out || r.too_much || r.leftovers);
	assert_true(r.pid > 0);
	result_free(&r);

	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "echo out; echo err >&2; exit 3",
	    NULL }, 10, 1024, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err\n");
	assert_int_equal(r.exit_code, 3);
	result_free(&r);

	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "kill -SEGV $$", NULL }, 10,
	    1024, &r, err, sizeof(err)), 0);
	assert_true(r.signaled);
	assert_int_equal(r.exit_code, -SIGSEGV);
	result_free(&r);

	/* stdin is /dev/null: cat ends at once */
	assert_int_equal(run((const char *[]){ "/bin/cat", NULL }, 10, 1024, &r, err,
	    sizeof(err)), 0);
	assert_null(r.out);
	assert_int_equal(r.outlen, 0);
	assert_int_equal(r.exit_code, 0);
	result_free(&r);

	/* more than a pipe holds, and exactly max_output */
	assert_int_equal(run((const char *[]){ "/usr/bin/head", "-c", "300000", "/dev/zero",
	    NULL }, 10, 300000, &r, err, sizeof(err)), 0);
	assert_int_equal(r.outlen, 300000);
	result_free(&r);
}

static void
test_run_environment(void **unused)
{
	char *const env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "FOO=a b", NULL };
	struct exec_result r;
	char err[512];
	int fd, sv[2];
	sigset_t block, old;
	struct sigaction ign, oldpipe;
	const char *const ls[] = { "/bin/ls", "/proc/self/fd", NULL };
	const char *const env_argv[] = { "/usr/bin/env", NULL };
	const char *const pwd[] = { "/bin/pwd", NULL };

	/* exactly the environment given */
	assert_int_equal(run_command((char *const *)env_argv, env, "/", 10, 4096, &r, err,
	    sizeof(err)), 0);
	assert_string_equal(r.out, "PATH=/usr/bin:/bin\nLANG=C.UTF-8\nFOO=a b\n");
	result_free(&r);

	/* descriptors the caller left open without close-on-exec are not inherited */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 9), 9);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(run(ls, 10, 4096, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "0\n1\n2\n3\n");	/* 3: ls reading the directory */
	result_free(&r);
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
	result_free(&r);
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
	result_free(&r);
	assert_int_equal(run_command((char *const *)pwd, clean_env, "/tmp", 10, 4096, &r, err,
	    sizeof(err)), 0);
	assert_string_equal(r.out, "/tmp\n");
	result_free(&r);
}

static void
test_run_timeout(void **unused)
{
	struct exec_result r;
	char err[512];

	/* a shell and its child sleeping: both die of SIGTERM */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "echo started; sleep 100 & sleep 100",
	    NULL }, 0.3, 4096, &r, err, sizeof(err)), -1);
	assert_true(r.timed_out);
	assert_non_null(strstr(err, "/bin/sh did not finish within command_timeout (0.3s): killed"));
	assert_int_equal(r.exit_code, -SIGTERM);
	assert_string_equal(r.out, "started\n");
	assert_true(group_gone(r.pid));
	result_free(&r);

	/* SIGTERM ignored (and inherited ignored by sleep): SIGKILL follows */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "trap '' TERM; sleep 100; sleep 100",
	    NULL }, 0.3, 4096, &r, err, sizeof(err)), -1);
	assert_true(r.timed_out);
	assert_int_equal(r.exit_code, -SIGKILL);
	assert_true(group_gone(r.pid));
	result_free(&r);

	/* it closed its output and goes on */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "exec >&- 2>&-; sleep 100",
	    NULL }, 0.3, 4096, &r, err, sizeof(err)), -1);
	assert_true(r.timed_out);
	assert_true(group_gone(r.pid));
	result_free(&r);
}

static void
test_run_background(void **unused)
{
	struct exec_result r;
	char err[512];

	/* the job holds stdout and stderr open: the run ends with the shell, the job is killed */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "sleep 100 & echo done", NULL },
	    30, 4096, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "done\n");
	assert_int_equal(r.exit_code, 0);
	assert_false(r.timed_out);
	assert_true(r.leftovers);
	assert_true(group_gone(r.pid));
	result_free(&r);
}

static void
test_run_limits_and_failures(void **unused)
{
	struct exec_result r;
	char err[512];

	assert_int_equal(run((const char *[]){ "/usr/bin/yes", NULL }, 30, 1000, &r, err,
	    sizeof(err)), -1);
	assert_true(r.too_much);
	assert_int_equal(r.outlen, 1000);
	assert_non_null(strstr(err, "/usr/bin/yes wrote more than max_output (1000 bytes) to stdout: killed"));
	assert_true(group_gone(r.pid));
	result_free(&r);

	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "printf 0123456789", NULL }, 10,
	    10, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "0123456789");
	result_free(&r);
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "printf 0123456789x", NULL }, 10,
	    10, &r, err, sizeof(err)), -1);
	assert_true(r.too_much);
	result_free(&r);

	/* stderr floods: kept short, the run still ends */
	assert_int_equal(run((const char *[]){ "/bin/sh", "-c", "head -c 2000000 /dev/zero >&2; echo ok",
	    NULL }, 30, 100, &r, err, sizeof(err)), 0);
	assert_string_equal(r.out, "ok\n");
	assert_true(r.errlen <= 4096);
	result_free(&r);

	assert_int_equal(run((const char *[]){ "/nonexistent/prog", NULL }, 10, 100, &r, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "cannot run /nonexistent/prog (in /): No such file or directory");
	assert_int_equal(r.pid, 0);
	result_free(&r);
	assert_int_equal(run_command((char *const[]){ "/bin/echo", NULL }, clean_env,
	    "/nonexistent-dir", 10, 100, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot run /bin/echo (in /nonexistent-dir)"));
	result_free(&r);
}

/* ---- the probe ---- */

static const char *
data_script(const char *name)
{
	static char buf[4][4096];
	static int n;
	const char *data = getenv("TEST_DATA");

	n = (n + 1) % 4;
	snprintf(buf[n], sizeof(buf[n]), "%s/exec/%s", data && *data ? data : "tests/data", name);
	return buf[n];
}

static void
check_init_error(const char *const *kv, const char *want)
{
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_true(cfg.nerrors > 0);
	if (strstr(cfg.error, want) == NULL)
		fail_msg("got '%s', expected '%s'", cfg.error, want);
}

static void
test_init_errors(void **unused)
{
	char cmd[4200];

	check_init_error((const char *[]){ "format", "nagios", NULL }, "missing key 'command'");
	check_init_error((const char *[]){ "command", "echo hi", NULL },
	    "command: 'echo' is not an absolute path");
	check_init_error((const char *[]){ "command", "/bin/echo \"hi", NULL },
	    "command: the double quote at character 11 is not closed");
	check_init_error((const char *[]){ "command", "/nonexistent/x", NULL },
	    "command: /nonexistent/x: No such file or directory");
	check_init_error((const char *[]){ "command", "/tmp", NULL },
	    "command: /tmp is not a regular file");
	snprintf(cmd, sizeof(cmd), "%s --flag", data_script("notexec.sh"));
	/* root too: access(X_OK) fails for it when no execute bit is set */
	check_init_error((const char *[]){ "command", cmd, NULL }, "is not executable");
	check_init_error((const char *[]){ "command", "/bin/echo", "format", "json", NULL },
	    "format: expected prometheus or nagios, got 'json'");
	check_init_error((const char *[]){ "command", "/bin/echo", "max_output", "65537KiB", NULL },
	    "max_output: must be from 1B to 64MiB");
	check_init_error((const char *[]){ "command", "/bin/echo", "max_output", "0", NULL },
	    "max_output: must be from 1B to 64MiB");
	check_init_error((const char *[]){ "command", "/bin/echo", "timeout", "2s",
	    "command_timeout", "2s", NULL },
	    "command_timeout: must be shorter than the probe's timeout (2s)");
	check_init_error((const char *[]){ "command", "/bin/echo", "command_timeout", "0", NULL },
	    "command_timeout: must be more than 0");
	check_init_error((const char *[]){ "command", "/bin/echo", "working_dir", "tmp", NULL },
	    "working_dir: 'tmp' is not an absolute path");
	check_init_error((const char *[]){ "command", "/bin/echo", "working_dir", "/nonexistent", NULL },
	    "working_dir: /nonexistent: No such file or directory");
	check_init_error((const char *[]){ "command", "/bin/echo", "working_dir", "/bin/echo", NULL },
	    "working_dir: /bin/echo is not a directory");
	check_init_error((const char *[]){ "command", "/bin/echo", "env.1X", "y", NULL },
	    "env.1X: '1X' is not a variable name");
	check_init_error((const char *[]){ "command", "/bin/echo", "env.", "y", NULL },
	    "env.: '' is not a variable name");
	check_init_error((const char *[]){ "command", "/bin/echo", "env.A", "1", "env.A", "2", NULL },
	    "env.A: given twice");
	check_init_error((const char *[]){ "command", "/bin/echo", "labels.check", "x", NULL },
	    "labels.check: 'check' is a label the exec probe sets itself");
	check_init_error((const char *[]){ "command", "/bin/echo", "labels.__x", "x", NULL },
	    "labels.__x: '__x' is not a label name");
	check_init_error((const char *[]){ "command", "/bin/echo", "labels.a-b", "x", NULL },
	    "labels.a-b: 'a-b' is not a label name");
	check_init_error((const char *[]){ "command", "/bin/echo", "labels.team", "", NULL },
	    "labels.team: is empty");
}

/* init with kv, one collect into em; returns collect's result, err gets its message. */
static int
collect_once(const char *const *kv, struct reeve_emitter *em, char *err, size_t errlen)
{
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	void *st = NULL;
	int rc;

	ptest_config(&cfg, kv);
	if (p->init(&cfg, ptest_host(), &st) != 0)
		fail_msg("init: %s", cfg.error);
	assert_null(ptest_unasked(&cfg));
	ptest_emitter_reset(em);
	err[0] = '\0';
	rc = p->collect(st, em, err, errlen);
	p->destroy(st);
	return rc;
}

static void
assert_sample(const struct reeve_emitter *em, const char *name, const char *labels, double v)
{
	const struct ptest_sample *s = ptest_find(em, name, labels);

	if (s == NULL)
		fail_msg("no sample %s{%s}", name, labels);
	if (s->value != v)
		fail_msg("%s{%s} is %g, expected %g", name, labels, s->value, v);
}

static void
test_collect_nagios(void **unused)
{
	struct reeve_emitter em = { 0 };
	char err[512], env[64];
	size_t before;

	assert_int_equal(collect_once((const char *[]){ "command", data_script("nagios_warning.sh"),
	    "format", "nagios", "labels.team", "ops", NULL }, &em, err, sizeof(err)), 0);
	assert_sample(&em, "reeve_check_status", "check=test,team=ops", 1);
	assert_sample(&em, "reeve_check_perfdata_ratio", "check=test,label=/data used,team=ops", 0.91);
	assert_sample(&em, "reeve_check_perfdata_warning_ratio", "check=test,label=/data used,team=ops", 0.8);
	assert_sample(&em, "reeve_check_perfdata_critical_ratio", "check=test,label=/data used,team=ops", 0.9);
	assert_sample(&em, "reeve_check_perfdata_seconds", "check=test,label=latency,team=ops", 0.0125);
	assert_sample(&em, "reeve_check_perfdata_warning_seconds", "check=test,label=latency,team=ops", 0.1);
	assert_sample(&em, "reeve_check_perfdata_bytes", "check=test,label=var free,team=ops",
	    6.0 * 1024 * 1024 * 1024);
	assert_null(ptest_find(&em, "reeve_check_perfdata_warning_bytes", "check=test,label=var free,team=ops"));
	assert_sample(&em, "reeve_check_perfdata_total", "check=test,label=requests,team=ops", 1234);
	assert_int_equal(ptest_find(&em, "reeve_check_perfdata_total", "check=test,label=requests,team=ops")->type,
	    REEVE_COUNTER);
	assert_sample(&em, "reeve_check_perfdata_invalid_items", "check=test,team=ops", 0);
	assert_sample(&em, "reeve_exec_exit_code", "check=test,team=ops", 1);
	assert_sample(&em, "reeve_exec_timeouts_total", "check=test,team=ops", 0);
	assert_non_null(ptest_find(&em, "reeve_exec_duration_seconds", "check=test,team=ops"));

	/* garbage: the status still counts, bad items are counted and logged */
	before = ptest_log_count();
	assert_int_equal(collect_once((const char *[]){ "command", data_script("garbage.sh"),
	    "format", "nagios", NULL }, &em, err, sizeof(err)), 0);
	assert_sample(&em, "reeve_check_status", "check=test", 2);
	assert_sample(&em, "reeve_check_perfdata", "check=test,label=ok", 5);
	assert_sample(&em, "reeve_check_perfdata_invalid_items", "check=test", 3);
	assert_true(ptest_log_count() > before);

	/* an exit code outside 0..3 is UNKNOWN */
	assert_int_equal(collect_once((const char *[]){ "command", "/bin/sh -c \"echo 'OK?'; exit 7\"",
	    "format", "nagios", NULL }, &em, err, sizeof(err)), 0);
	assert_sample(&em, "reeve_check_status", "check=test", 3);
	assert_sample(&em, "reeve_exec_exit_code", "check=test", 7);

	/* a timeout: UNKNOWN, counted, and a failure of the probe */
	assert_int_equal(collect_once((const char *[]){ "command", "/bin/sleep 100",
	    "format", "nagios", "command_timeout", "200ms", NULL }, &em, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/bin/sleep did not finish within command_timeout (0.2s): killed"));
	assert_sample(&em, "reeve_check_status", "check=test", 3);
	assert_sample(&em, "reeve_exec_timeouts_total", "check=test", 1);
	assert_sample(&em, "reeve_exec_exit_code", "check=test", -SIGTERM);

	/* too much output */
	assert_int_equal(collect_once((const char *[]){ "command", data_script("flood.sh"),
	    "format", "nagios", "max_output", "64KiB", NULL }, &em, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "wrote more than max_output (65536 bytes) to stdout: killed"));
	assert_sample(&em, "reeve_check_status", "check=test", 3);

	/* the environment: the clean one, env.* added or replacing */
	snprintf(env, sizeof(env), "%s", "v a l");
	assert_int_equal(collect_once((const char *[]){ "command", data_script("env.sh"),
	    "format", "nagios", "env.FOO", env, "env.LANG", "C", NULL }, &em, err, sizeof(err)), 0);
	assert_int_equal(ptest_count(&em, "reeve_check_perfdata"), 3);
	assert_sample(&em, "reeve_check_perfdata", "check=test,label=PATH=/usr/bin:/bin", 1);
	assert_sample(&em, "reeve_check_perfdata", "check=test,label=LANG=C", 1);
	assert_sample(&em, "reeve_check_perfdata", "check=test,label=FOO=v a l", 1);
	ptest_emitter_free(&em);
}

static void
test_collect_failures(void **unused)
{
	struct reeve_emitter em = { 0 };
	char err[512];

	/* prometheus format: a non-zero exit is a failure, with stderr's first line */
	assert_int_equal(collect_once((const char *[]){ "command",
	    "/bin/sh -c \"echo 'oops: disk\tgone' >&2; echo second >&2; exit 2\"", NULL },
	    &em, err, sizeof(err)), -1);
	assert_string_equal(err, "/bin/sh exited with code 2; stderr: oops: disk gone");
	assert_sample(&em, "reeve_exec_exit_code", "check=test", 2);
	assert_int_equal(collect_once((const char *[]){ "command", "/bin/sh -c \"kill -KILL $$\"",
	    NULL }, &em, err, sizeof(err)), -1);
	assert_string_equal(err, "/bin/sh was killed by signal 9");
	ptest_emitter_free(&em);
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
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_collect_nagios),
		cmocka_unit_test(test_collect_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
