/* test_exec.c: unit tests of the exec probe (running commands is tested in test_spawn.c). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe_test_host.h"

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
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_collect_nagios),
		cmocka_unit_test(test_collect_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
