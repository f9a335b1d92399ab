/* test_cpu.c: unit tests of the cpu probe on recorded /proc/stat samples. */
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

/* From probes/cpu.c, visible with REEVE_TESTING. */
typedef void (*cpu_line_fn)(void *arg, long cpu, const uint64_t *ticks);
int parse_stat(const char *buf, size_t len, cpu_line_fn fn, void *arg, uint64_t *misc,
    unsigned *have);

enum { STAT_CTXT, STAT_INTR, STAT_PROCESSES, STAT_RUNNING, STAT_BLOCKED, STAT_BTIME };

struct lines {
	long cpu[16];
	uint64_t ticks[16][8];
	size_t n;
};

static void
record(void *arg, long cpu, const uint64_t *ticks)
{
	struct lines *l = arg;

	assert_true(l->n < 16);
	l->cpu[l->n] = cpu;
	memcpy(l->ticks[l->n], ticks, sizeof(l->ticks[0]));
	l->n++;
}

static int
parse(const char *buf, size_t len, struct lines *l, uint64_t *misc, unsigned *have)
{
	memset(l, 0, sizeof(*l));
	return parse_stat(buf, len, record, l, misc, have);
}

static void
test_recorded_current(void **unused)
{
	struct lines l;
	uint64_t misc[6];
	unsigned have;
	size_t len;
	char *buf = ptest_slurp("6.18.44-fc-v669", "proc/stat", &len);

	assert_non_null(buf);
	assert_int_equal(parse(buf, len, &l, misc, &have), 2);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.cpu[0], -1);
	assert_int_equal(l.ticks[0][0], 2192);	/* user */
	assert_int_equal(l.ticks[0][3], 296723);	/* idle */
	assert_int_equal(l.ticks[0][7], 9);	/* steal */
	assert_int_equal(l.cpu[2], 1);
	assert_int_equal(l.ticks[2][2], 1290);	/* cpu1 system */
	assert_int_equal(have & 0x3f, 0x3f);
	assert_int_equal(misc[STAT_CTXT], 327388);
	assert_int_equal(misc[STAT_BTIME], 1795485371);
	assert_int_equal(misc[STAT_PROCESSES], 10640);
	free(buf);
}

static void
test_recorded_old(void **unused)
{
	struct lines l;
	uint64_t misc[6];
	unsigned have;
	size_t len;
	char *buf = ptest_slurp("3.10.0", "proc/stat", &len);

	assert_non_null(buf);
	assert_int_equal(parse(buf, len, &l, misc, &have), 2);
	/* seven columns: no steal, which counts as 0 */
	assert_int_equal(l.ticks[0][6], 843);
	assert_int_equal(l.ticks[0][7], 0);
	assert_int_equal(misc[STAT_INTR], 3948213);
	assert_int_equal(misc[STAT_RUNNING], 2);
	free(buf);
}

static void
test_truncated_and_garbage(void **unused)
{
	const char *cut = "cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 10 0 10 100 0 0 0 0 0 0\ncpu1 5 0 3";
	const char *cut2 = "cpu  1 2 3 4\nctxt 123";
	const char *bad = "cpu  1 2 3 4\ncpu0 1 2 x 4 5\ncpu1 1 2 3\ncpuX 1 2 3 4\n"
	    "cpu2 99999999999999999999999 1 1 1\nctxt\nprocesses -1\nprocs_running 7\n";
	char junk[512];
	struct lines l;
	uint64_t misc[6];
	unsigned have;
	size_t i;

	assert_int_equal(parse(cut, strlen(cut), &l, misc, &have), 1);
	assert_int_equal(l.n, 2);

	assert_int_equal(parse(cut2, strlen(cut2), &l, misc, &have), 0);
	assert_int_equal(have, 0);	/* "ctxt 123" without its newline may be cut short */

	assert_int_equal(parse(bad, strlen(bad), &l, misc, &have), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(have, 1u << STAT_RUNNING);
	assert_int_equal(misc[STAT_RUNNING], 7);

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7919 % 251);
	assert_int_equal(parse(junk, sizeof(junk), &l, misc, &have), -1);
	assert_int_equal(parse("", 0, &l, misc, &have), -1);
	/* the length is honoured: a buffer that is not NUL-terminated is not overrun */
	assert_int_equal(parse("cpu  1 2 3 4\n", 5, &l, misc, &have), -1);
}

static void
test_collect(void **unused)
{
	const char *kv[] = { "root", NULL, NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	const struct ptest_sample *s;
	char err[256];
	void *st = NULL;

	kv[1] = ptest_root("5.15.0");
	ptest_config(&cfg, kv);
	assert_int_equal(p->abi_version, REEVE_PROBE_ABI_VERSION);
	assert_string_equal(p->name, "cpu");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_int_equal(ptest_count(&em, "cpu_seconds_total"), 4 * 8);
	s = ptest_find(&em, "cpu_seconds_total", "cpu=1,mode=user");
	assert_non_null(s);
	assert_int_equal(s->type, REEVE_COUNTER);
	assert_true(s->value == 250.0 / (double)sysconf(_SC_CLK_TCK));
	s = ptest_find(&em, "cpu_seconds_total", "cpu=3,mode=softirq");
	assert_non_null(s);
	assert_true(s->value == 15.0 / (double)sysconf(_SC_CLK_TCK));
	assert_null(ptest_find(&em, "cpu_seconds_total", "cpu=0,mode=guest"));
	s = ptest_find(&em, "cpus_online", "");
	assert_non_null(s);
	assert_true(s->value == 4);
	s = ptest_find(&em, "context_switches_total", "");
	assert_non_null(s);
	assert_true(s->value == 55667788);
	assert_non_null(ptest_find(&em, "interrupts_total", ""));
	assert_non_null(ptest_find(&em, "forks_total", ""));
	s = ptest_find(&em, "procs_blocked", "");
	assert_non_null(s);
	assert_true(s->value == 1);
	/* no ratio on the first collect, nor when no time passed */
	assert_int_equal(ptest_count(&em, "cpu_usage_ratio"), 0);
	ptest_emitter_reset(&em);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_int_equal(ptest_count(&em, "cpu_usage_ratio"), 0);
	p->destroy(st);
	ptest_emitter_free(&em);
}

static void
write_stat(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_usage_ratio(void **unused)
{
	char dir[] = "/tmp/reeve-cpu-XXXXXX", proc[64], stat[80], err[256];
	const char *kv[] = { "root", dir, NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	const struct ptest_sample *s;
	void *st = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(stat, sizeof(stat), "%s/stat", proc);
	assert_int_equal(mkdir(proc, 0700), 0);
	write_stat(stat, "cpu  100 0 100 100 0 0 0 0 0 0\ncpu0 100 0 100 100 0 0 0 0 0 0\n");
	ptest_config(&cfg, kv);
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	/* 200 ticks later: 100 user, 50 system, 40 idle, 10 iowait (the file keeps its fd) */
	write_stat(stat, "cpu  200 0 150 140 10 0 0 0 0 0\ncpu0 200 0 150 140 10 0 0 0 0 0\n");
	ptest_emitter_reset(&em);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_int_equal(ptest_count(&em, "cpu_usage_ratio"), 8);
	s = ptest_find(&em, "cpu_usage_ratio", "mode=user");
	assert_non_null(s);
	assert_true(s->value == 0.5);
	assert_int_equal(s->type, REEVE_GAUGE);
	assert_true(ptest_find(&em, "cpu_usage_ratio", "mode=system")->value == 0.25);
	assert_true(ptest_find(&em, "cpu_usage_ratio", "mode=idle")->value == 0.2);
	assert_true(ptest_find(&em, "cpu_usage_ratio", "mode=iowait")->value == 0.05);
	assert_true(ptest_find(&em, "cpu_usage_ratio", "mode=steal")->value == 0);
	/* a file without a cpu line is a failed collect, with a message */
	write_stat(stat, "intr 1\n");
	ptest_emitter_reset(&em);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no cpu line"));
	p->destroy(st);
	ptest_emitter_free(&em);
	unlink(stat);
	rmdir(proc);
	rmdir(dir);
}

static void
test_many_cpus(void **unused)
{
	char dir[] = "/tmp/reeve-cpu-XXXXXX", proc[64], stat[80], err[256], line[128];
	const char *kv[] = { "root", dir, NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	FILE *f;
	void *st = NULL;
	int i;

	/* 512 cpus: /proc/stat is larger than the first read buffer, which must grow */
	assert_non_null(mkdtemp(dir));
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(stat, sizeof(stat), "%s/stat", proc);
	assert_int_equal(mkdir(proc, 0700), 0);
	assert_non_null(f = fopen(stat, "w"));
	fputs("cpu  512 0 0 0 0 0 0 0 0 0\n", f);
	for (i = 0; i < 512; i++) {
		snprintf(line, sizeof(line), "cpu%d %d 0 0 123456789 0 0 0 0 0 0\n", i, i);
		fputs(line, f);
	}
	fputs("ctxt 42\n", f);
	assert_int_equal(fclose(f), 0);
	ptest_config(&cfg, kv);
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	assert_true(ptest_find(&em, "cpus_online", "")->value == 512);
	assert_true(ptest_find(&em, "context_switches_total", "")->value == 42);
	assert_true(ptest_find(&em, "cpu_seconds_total", "cpu=511,mode=user")->value ==
	    511 / (double)sysconf(_SC_CLK_TCK));
	p->destroy(st);
	ptest_emitter_free(&em);
	unlink(stat);
	rmdir(proc);
	rmdir(dir);
}

static void
test_bad_root(void **unused)
{
	const char *kv[] = { "root", "/nonexistent/reeve", NULL };
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_int_equal(cfg.nerrors, 1);
	assert_non_null(strstr(cfg.error, "root: "));
	assert_non_null(strstr(cfg.error, "/nonexistent/reeve/proc/stat"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_current),
		cmocka_unit_test(test_recorded_old),
		cmocka_unit_test(test_truncated_and_garbage),
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_usage_ratio),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_bad_root),
	};

	return cmocka_run_group_tests_name("cpu", tests, NULL, NULL);
}
