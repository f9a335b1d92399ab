/* test_process.c: unit tests of the process probe on recorded /proc/PID samples. */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe_test_host.h"

/* From probes/process.c, visible with REEVE_TESTING. */
int parse_pid_stat(const char *buf, size_t len, char *comm, size_t commlen, char *state,
    uint64_t *ticks, uint64_t *threads, uint64_t *rss);
int state_index(char state);
size_t cmdline_join(char *buf, size_t len);

static int
parse(const char *buf, char *comm, size_t commlen, char *state, uint64_t *ticks,
    uint64_t *threads, uint64_t *rss)
{
	return parse_pid_stat(buf, strlen(buf), comm, commlen, state, ticks, threads, rss);
}

static void
test_parse_recorded(void **unused)
{
	char comm[128], state;
	uint64_t ticks, threads, rss;
	size_t len;
	char *buf = ptest_slurp("6.18.44-fc-v669", "proc/9705/stat", &len);

	assert_non_null(buf);
	assert_int_equal(parse_pid_stat(buf, len, comm, sizeof(comm), &state, &ticks, &threads,
	    &rss), 0);
	assert_string_equal(comm, "bash");
	assert_int_equal(state, 'S');
	assert_int_equal(ticks, 0 + 1);
	assert_int_equal(threads, 1);
	assert_int_equal(rss, 957);
	free(buf);
	buf = ptest_slurp("6.18.44-fc-v669", "proc/2/stat", &len);
	assert_non_null(buf);
	assert_int_equal(parse_pid_stat(buf, len, comm, sizeof(comm), &state, &ticks, &threads,
	    &rss), 0);
	assert_string_equal(comm, "kthreadd");
	assert_int_equal(rss, 0);
	free(buf);
}

static void
test_parse_odd_names(void **unused)
{
	char comm[128], small[6], state;
	uint64_t ticks, threads, rss;
	size_t len;
	char *buf = ptest_slurp("3.10.0", "proc/100/stat", &len);

	assert_non_null(buf);
	assert_int_equal(parse_pid_stat(buf, len, comm, sizeof(comm), &state, &ticks, &threads,
	    &rss), 0);
	assert_string_equal(comm, "my) (weird) name");
	assert_int_equal(state, 'R');
	assert_int_equal(ticks, 400);
	assert_int_equal(threads, 3);
	assert_int_equal(rss, 250);
	/* truncated to the caller's buffer */
	assert_int_equal(parse_pid_stat(buf, len, small, sizeof(small), &state, &ticks, &threads,
	    &rss), 0);
	assert_string_equal(small, "my) (");
	free(buf);
	/* a name may even hold a newline, and something that looks like fields */
	assert_int_equal(parse("7 (a\n) Z 1 2) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 9 0 -3 x\n",
	    comm, sizeof(comm), &state, &ticks, &threads, &rss), 0);
	assert_string_equal(comm, "a\n) Z 1 2");
	assert_int_equal(state, 'S');
	assert_int_equal(ticks, 11);
	assert_int_equal(threads, 2);
	assert_int_equal(rss, 0);	/* negative rss */
}

static void
test_parse_bad(void **unused)
{
	static const char *const bad[] = {
		"",
		"1 (x) S 1 2\n",
		"1 x S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 9 0 7\n",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 9 0 7",		/* cut */
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 9 0 71",		/* cut */
		"1 (x) SS 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 9 0 7\n",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 6 0 0 20 0 2 0 9 0 7\n",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 9 0 -\n",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 18446744073709551615 6 0 0 20 0 2 0 9 0 7\n",
		"1 (x\n",
		"\xff\xfe(\x01)\n",
	};
	char comm[16], state, junk[300];
	uint64_t ticks, threads, rss;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], comm, sizeof(comm), &state, &ticks, &threads,
		    &rss), -1);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 41 % 256);
	assert_int_equal(parse_pid_stat(junk, sizeof(junk), comm, sizeof(comm), &state, &ticks,
	    &threads, &rss), -1);
	/* the length is honoured */
	assert_int_equal(parse_pid_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 2 0 9 0 7\n",
	    20, comm, sizeof(comm), &state, &ticks, &threads, &rss), -1);
}

static void
test_states_and_cmdline(void **unused)
{
	char cl[] = "/usr/sbin/sshd\0-D\0\0";
	char empty[] = "\0";

	assert_int_equal(state_index('R'), 0);
	assert_int_equal(state_index('S'), 1);
	assert_int_equal(state_index('D'), 2);
	assert_int_equal(state_index('Z'), 3);
	assert_int_equal(state_index('T'), 4);
	assert_int_equal(state_index('t'), 4);
	assert_int_equal(state_index('I'), 5);
	assert_int_equal(state_index('X'), 6);
	assert_int_equal(state_index('W'), 6);
	assert_int_equal(cmdline_join(cl, sizeof(cl) - 1), 17);
	assert_memory_equal(cl, "/usr/sbin/sshd -D", 17);
	assert_int_equal(cmdline_join(empty, 1), 0);
}

static void *
start(const char *const *kv)
{
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_string_equal(p->name, "process");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	return st;
}

static double
value(const struct reeve_emitter *em, const char *name, const char *labels)
{
	const struct ptest_sample *s = ptest_find(em, name, labels);

	assert_non_null(s);
	return s->value;
}

static void
test_collect_groups(void **unused)
{
	const char *kv[] = { "root", NULL, "group", "sshd ^sshd$", "group", "weird   weird",
	    "group", "none ^nomatch$", "match", "comm", NULL };
	struct reeve_emitter em = { 0 };
	double tck = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	char err[256];
	void *st;
	int round;

	kv[1] = ptest_root("3.10.0");
	st = start(kv);
	for (round = 0; round < 2; round++) {
		ptest_emitter_reset(&em);
		assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
		/* 1 S, 100 R, 200 Z, 300 S, 301 D; 400 is cut short and "sys" is no pid */
		assert_int_equal(ptest_count(&em, "processes"), 7);
		assert_true(value(&em, "processes", "state=running") == 1);
		assert_true(value(&em, "processes", "state=sleeping") == 2);
		assert_true(value(&em, "processes", "state=disk_sleep") == 1);
		assert_true(value(&em, "processes", "state=zombie") == 1);
		assert_true(value(&em, "processes", "state=stopped") == 0);
		assert_true(value(&em, "processes", "state=idle") == 0);
		assert_true(value(&em, "processes", "state=other") == 0);
		assert_true(value(&em, "processes_threads", "") == 8);
		assert_true(value(&em, "process_group_processes", "group=sshd") == 2);
		assert_true(value(&em, "process_group_cpu_seconds_total", "group=sshd") ==
		    300 / tck);
		assert_int_equal(ptest_find(&em, "process_group_cpu_seconds_total",
		    "group=sshd")->type, REEVE_COUNTER);
		assert_true(value(&em, "process_group_resident_bytes", "group=sshd") ==
		    2000 * page);
		assert_true(value(&em, "process_group_open_fds", "group=sshd") == 6);
		assert_true(value(&em, "process_group_processes", "group=weird") == 1);
		assert_true(value(&em, "process_group_open_fds", "group=weird") == 0);
		/* a group without processes still reports */
		assert_true(value(&em, "process_group_processes", "group=none") == 0);
		assert_true(value(&em, "process_group_cpu_seconds_total", "group=none") == 0);
		assert_true(value(&em, "process_group_resident_bytes", "group=none") == 0);
		assert_true(value(&em, "process_group_open_fds", "group=none") == 0);
	}
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_collect_cmdline(void **unused)
{
	const char *kv[] = { "root", NULL, "match", "cmdline", "group", "daemon ^/usr/sbin/sshd -D$",
	    "group", "priv \\[priv\\]$", "group", "defunct ^defunct$", "group", "sshd ^sshd$",
	    NULL };
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st;

	kv[1] = ptest_root("3.10.0");
	st = start(kv);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "process_group_processes", "group=daemon") == 1);
	assert_true(value(&em, "process_group_open_fds", "group=daemon") == 4);
	assert_true(value(&em, "process_group_processes", "group=priv") == 1);
	/* no command line (a zombie, a kernel thread): the name is matched instead */
	assert_true(value(&em, "process_group_processes", "group=defunct") == 1);
	/* "sshd: alice [priv]" is not "sshd" */
	assert_true(value(&em, "process_group_processes", "group=sshd") == 0);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_live(void **unused)
{
	const char *kv[] = { "group", "all .", NULL };
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st = start(kv);

	/* the real /proc: at least this test program is there */
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "process_group_processes", "group=all") >= 1);
	assert_true(value(&em, "process_group_open_fds", "group=all") >= 3);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_vanished(void **unused)
{
	char dir[] = "/tmp/reeve-proc-XXXXXX", proc[64], pid[80], err[256];
	const char *kv[] = { "root", dir, "group", "any .", NULL };
	struct reeve_emitter em = { 0 };
	void *st;

	/* a process that exited between readdir() and the read of its stat: skipped quietly */
	assert_non_null(mkdtemp(dir));
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(pid, sizeof(pid), "%s/123", proc);
	assert_int_equal(mkdir(proc, 0700), 0);
	assert_int_equal(mkdir(pid, 0700), 0);
	st = start(kv);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_true(value(&em, "processes", "state=sleeping") == 0);
	assert_true(value(&em, "process_group_processes", "group=any") == 0);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
	rmdir(pid);
	rmdir(proc);
	rmdir(dir);
}

static void
expect_error(const char *const *kv, const char *want)
{
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_true(cfg.nerrors >= 1);
	if (strstr(cfg.error, want) == NULL)
		fail_msg("error '%s' does not contain '%s'", cfg.error, want);
}

static void
test_bad_options(void **unused)
{
	const char *noregex[] = { "group", "sshd", NULL };
	const char *badregex[] = { "group", "sshd ^(sshd", NULL };
	const char *twice[] = { "group", "a x", "group", "a y", NULL };
	const char *badmatch[] = { "match", "exe", NULL };
	const char *badroot[] = { "root", "/nonexistent", NULL };

	expect_error(noregex, "group: expected 'NAME REGEX', got 'sshd'");
	expect_error(badregex, "group: invalid regular expression '^(sshd' of group 'sshd'");
	expect_error(twice, "group: group 'a' defined twice");
	expect_error(badmatch, "match: expected comm or cmdline, got 'exe'");
	expect_error(badroot, "root: cannot open /nonexistent/proc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_recorded),
		cmocka_unit_test(test_parse_odd_names),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_states_and_cmdline),
		cmocka_unit_test(test_collect_groups),
		cmocka_unit_test(test_collect_cmdline),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_vanished),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}
