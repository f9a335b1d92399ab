/* test_alertlog.c: unit tests of alerts/alertlog.c: append, rotate, read back, torn lines. */
#include <sys/stat.h>

#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alertlog.h"
#include "log.h"
#include "util.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_alertlog.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct rule_event
event(const char *rule, double t, enum rule_state from, enum rule_state to, double v,
    const char *summary)
{
	static const struct reeve_label labels[] = { { "host", "web\"1" }, { "team", "ops" } };
	struct rule_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.rule = rule;
	ev.labels = labels;
	ev.nlabels = 2;
	ev.from = from;
	ev.to = to;
	ev.value = v;
	ev.time = t;
	ev.severity = "critical";
	ev.summary = summary;
	return ev;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(fp);
	assert_non_null(s);
	n = fread(s, 1, (1 << 16) - 1, fp);
	s[n] = '\0';
	fclose(fp);
	return s;
}

static void
test_append_read(void **state)
{
	char sub[128], path[160];
	struct alertlog *al;
	struct alertlog_entry *e;
	struct rule_event ev;
	size_t n;
	char *text;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/data/alerts", dir);
	al = alertlog_open(sub, 0, 0);
	assert_non_null(al);
	ev = event("cpu", 100, RULE_INACTIVE, RULE_FIRING, 95.5, "CPU \"hot\"");
	assert_int_equal(alertlog_append(al, &ev), 0);
	ev = event("disk", 200, RULE_PENDING, RULE_FIRING, NAN, NULL);
	assert_int_equal(alertlog_append(al, &ev), 0);
	ev = event("cpu", 300, RULE_FIRING, RULE_RESOLVED, 70, "ok");
	alertlog_sink(al, &ev);
	snprintf(path, sizeof(path), "%s/history.jsonl", sub);
	text = slurp(path);
	assert_string_equal(text,
	    "{\"time\":100,\"rule\":\"cpu\",\"labels\":{\"host\":\"web\\\"1\",\"team\":\"ops\"},"
	    "\"from\":\"inactive\",\"to\":\"firing\",\"value\":95.5,\"severity\":\"critical\","
	    "\"summary\":\"CPU \\\"hot\\\"\"}\n"
	    "{\"time\":200,\"rule\":\"disk\",\"labels\":{\"host\":\"web\\\"1\",\"team\":\"ops\"},"
	    "\"from\":\"pending\",\"to\":\"firing\",\"value\":null,\"severity\":\"critical\","
	    "\"summary\":null}\n"
	    "{\"time\":300,\"rule\":\"cpu\",\"labels\":{\"host\":\"web\\\"1\",\"team\":\"ops\"},"
	    "\"from\":\"firing\",\"to\":\"resolved\",\"value\":70,\"severity\":\"critical\","
	    "\"summary\":\"ok\"}\n");
	free(text);

	assert_int_equal(alertlog_read(al, 0, NULL, 100, &e, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].rule, "cpu");
	assert_true(e[0].time == 100);
	assert_true(e[0].value == 95.5);
	assert_string_equal(e[0].from, "inactive");
	assert_string_equal(e[0].to, "firing");
	assert_string_equal(e[0].severity, "critical");
	assert_string_equal(e[0].summary, "CPU \"hot\"");
	assert_int_equal(e[0].nlabels, 2);
	assert_string_equal(e[0].labels[0].name, "host");
	assert_string_equal(e[0].labels[0].value, "web\"1");
	assert_true(isnan(e[1].value));
	assert_null(e[1].summary);
	alertlog_entries_free(e, n);

	/* by rule and time */
	assert_int_equal(alertlog_read(al, 150, "cpu", 100, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_true(e[0].time == 300);
	alertlog_entries_free(e, n);
	/* at most max: the newest */
	assert_int_equal(alertlog_read(al, 0, NULL, 2, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_true(e[0].time == 200 && e[1].time == 300);
	alertlog_entries_free(e, n);
	alertlog_close(al);

	/* reopened: appends continue; a torn last line (a crash mid-write) is skipped and ended */
	{
		int fd = open(path, O_WRONLY | O_APPEND);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "{\"time\":400,\"ru", 15), 15);
		close(fd);
	}
	al = alertlog_open(sub, 0, 0);
	assert_non_null(al);
	ev = event("cpu", 500, RULE_INACTIVE, RULE_FIRING, 1, "again");
	assert_int_equal(alertlog_append(al, &ev), 0);
	assert_int_equal(alertlog_read(al, 0, NULL, 100, &e, &n), 0);
	assert_int_equal(n, 4);
	assert_true(e[3].time == 500);
	alertlog_entries_free(e, n);
	alertlog_close(al);
}

static void
test_rotate(void **state)
{
	char sub[128], path[160];
	struct alertlog *al;
	struct alertlog_entry *e;
	struct rule_event ev;
	struct stat st;
	size_t n, i;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/rot", dir);
	al = alertlog_open(sub, 1000, 2); /* each line is about 140 bytes: 7 a file */
	assert_non_null(al);
	for (i = 0; i < 40; i++) {
		ev = event("r", (double)i, RULE_INACTIVE, RULE_FIRING, (double)i, "x");
		assert_int_equal(alertlog_append(al, &ev), 0);
	}
	snprintf(path, sizeof(path), "%s/history.jsonl", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 1000);
	snprintf(path, sizeof(path), "%s/history.jsonl.1", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 1000 && st.st_size > 500);
	snprintf(path, sizeof(path), "%s/history.jsonl.2", sub);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/history.jsonl.3", sub);
	assert_int_equal(stat(path, &st), -1); /* keep = 2 */
	/* read back in order across the files: the newest entries, oldest first, no gaps */
	assert_int_equal(alertlog_read(al, 0, NULL, 1000, &e, &n), 0);
	if (n < 12 || n >= 40)
		fail_msg("%d entries read back", (int)n);
	for (i = 0; i < n; i++)
		assert_true(e[i].time == (double)(40 - n + i));
	alertlog_entries_free(e, n);
	alertlog_close(al);
	/* a directory that cannot be made */
	assert_null(alertlog_open("/proc/nonexistent/alerts", 0, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_read),
		cmocka_unit_test(test_rotate),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("alertlog", tests, setup, teardown);
}
