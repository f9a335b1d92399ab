/* test_execnotify.c: unit tests of the exec notifier (alerts/execnotify.c) running real commands. */
#include <sys/stat.h>

#include <errno.h>
#include <math.h>
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
#include <cjson/cJSON.h>

#include "config.h"
#include "notify.h"
#include "util.h"

static char dir[] = "/tmp/test_execnotify.XXXXXX";

static const struct reeve_label labels[] = {
	{ "alertname", "disk_full" }, { "instance", "web1" }, { "severity", "critical" },
};

/* A notifier of type exec running command, each @D in it replaced by the temp dir. */
static struct cfg_notifier
notifier(const char *command, double timeout)
{
	struct cfg_notifier n;
	struct buf b = { 0 };
	const char *p;

	memset(&n, 0, sizeof(n));
	n.name = "pager";
	n.type = CFG_NOTIFIER_EXEC;
	n.timeout = timeout;
	for (p = command; *p != '\0'; p++)
		if (p[0] == '@' && p[1] == 'D') {
			buf_puts(&b, dir);
			p++;
		} else
			buf_putc(&b, *p);
	n.command = buf_steal(&b);
	return n;
}

/* Render a group of one firing alert whose summary is summary_len bytes long. */
static void
render(struct buf *body, size_t summary_len, int firing)
{
	struct reeve_label ann = { "summary", NULL };
	struct notify_alert a = {
		.labels = labels, .nlabels = 3, .annotations = &ann, .nannotations = 1,
		.firing = firing, .starts_at = 1774746000, .ends_at = firing ? 0 : 1774749600,
		.value = 97, .fingerprint = "00112233aabbccdd",
	};
	struct notify_group g = {
		.receiver = "pager", .group_key = "{}:{alertname=\"disk_full\"}", .alerts = &a,
		.nalerts = 1, .nfiring = firing ? 1 : 0, .nresolved = firing ? 0 : 1, .key = "k",
		.time = 1774746060, .hostname = "h",
	};
	struct cfg_notifier n = notifier("/bin/true", 5);
	char err[256], *summary = xmalloc(summary_len + 1);
	size_t i;

	for (i = 0; i < summary_len; i++)
		summary[i] = (char)('a' + i % 26);
	summary[summary_len] = '\0';
	ann.value = summary;
	if (notifier_exec.render(&n, &g, NULL, body, err, sizeof(err)) != 0)
		fail_msg("render: %s", err);
	free(summary);
	free(n.command);
}

/* Send body through a notifier running command (@D: the temp dir). */
static void
send_with(const char *command, double timeout, const struct buf *body,
    struct notify_result *res)
{
	struct cfg_notifier n = notifier(command, timeout);

	notifier_exec.send(&n, "key-123", (const unsigned char *)body->data, body->len, res);
	free(n.command);
}

/* The whole of file name in the temp dir (NUL-terminated, length in *len), or NULL. */
static char *
slurp(const char *name, size_t *len)
{
	char path[256];
	struct buf b = { 0 };
	char tmp[65536];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	buf_puts(&b, "");
	*len = b.len;
	return buf_steal(&b);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the lines of s (each ending in a newline) in place. */
static void
sort_lines(char *s)
{
	char *copy = xstrdup(s), *lines[64], *p, *nl;
	struct buf b = { 0 };
	size_t n = 0, i;

	for (p = copy; *p != '\0' && n < 64; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		lines[n++] = p;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	for (i = 0; i < n; i++) {
		buf_puts(&b, lines[i]);
		buf_putc(&b, '\n');
	}
	memcpy(s, b.data, b.len + 1);	/* the same bytes in another order */
	buf_free(&b);
	free(copy);
}

static void
test_render(void **unused)
{
	struct buf body = { 0 };
	cJSON *root;

	render(&body, 10, 1);
	assert_true(body.len > 1);
	assert_int_equal(body.data[body.len - 1], '\n');	/* one line for `read` */
	assert_null(memchr(body.data, '\n', body.len - 1));
	root = cJSON_ParseWithLength(body.data, body.len);
	assert_non_null(root);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "status")),
	    "firing");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "version")),
	    "1");
	cJSON_Delete(root);
	buf_free(&body);
}

static void
test_stdin_and_environment(void **unused)
{
	struct notify_result res;
	struct buf body = { 0 };
	size_t len;
	char *got;

	/* the document arrives intact on stdin, 1 MiB of it too */
	render(&body, 100, 1);
	send_with("/bin/sh -c \"exec /bin/cat > @D/stdin\"", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_SENT);
	assert_string_equal(res.detail, "exit 0");
	got = slurp("stdin", &len);
	assert_non_null(got);
	assert_int_equal(len, body.len);
	assert_memory_equal(got, body.data, len);
	free(got);
	buf_free(&body);
	render(&body, 1u << 20, 1);
	send_with("/bin/sh -c \"exec /bin/cat > @D/stdin\"", 30, &body, &res);
	assert_int_equal(res.status, NOTIFY_SENT);
	got = slurp("stdin", &len);
	assert_non_null(got);
	assert_int_equal(len, body.len);
	assert_memory_equal(got, body.data, len);
	free(got);
	buf_free(&body);

	/* exactly this environment (and PWD, which dash exports), in / */
	render(&body, 10, 0);
	send_with("/bin/sh -c \"exec /usr/bin/env > @D/env\"", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_SENT);
	got = slurp("env", &len);
	assert_non_null(got);
	sort_lines(got);
	assert_string_equal(got, "PATH=/usr/bin:/bin\nPWD=/\nREEVE_IDEMPOTENCY_KEY=key-123\n"
	    "REEVE_NOTIFIER=pager\nREEVE_STATUS=resolved\n");
	free(got);
	buf_free(&body);

	/* arguments are split as the exec probe's command: quotes group, no shell */
	render(&body, 10, 1);
	send_with("/bin/sh -c \"printf '%s|' \\\"$@\\\" > @D/args\" sh \"a b\" c\\ d $HOME", 10,
	    &body, &res);
	assert_int_equal(res.status, NOTIFY_SENT);
	got = slurp("args", &len);
	assert_non_null(got);
	assert_string_equal(got, "a b|c d|$HOME|");
	free(got);
	buf_free(&body);
}

static void
test_exit_codes(void **unused)
{
	struct notify_result res;
	struct buf body = { 0 };

	render(&body, 10, 1);
	send_with("/bin/sh -c \"echo queued; exit 0\"", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_SENT);
	assert_string_equal(res.detail, "exit 0: queued");
	send_with("/bin/sh -c \"echo 'try later' >&2; exit 75\"", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_RETRY);
	assert_string_equal(res.detail, "exit 75: try later");
	send_with("/bin/sh -c \"echo out; printf '\\\\n  bad\\\\trecipient\\\\nmore' >&2; exit 2\"", 10,
	    &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "exit 2: bad recipient");
	send_with("/bin/sh -c \"exit 1\"", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "exit 1");
	send_with("/bin/sh -c \"kill -KILL $$\"", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "killed by signal 9");
	buf_free(&body);
}

/* Remove file name of the temp dir. */
static void
remove_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* The pid written in file name of the temp dir; 0 when there is none. */
static pid_t
read_pid(const char *name)
{
	char *s;
	size_t len;
	long pid;

	if ((s = slurp(name, &len)) == NULL)
		return 0;
	pid = strtol(s, NULL, 10);
	free(s);
	return (pid_t)pid;
}

/* Is pid gone, or a zombie left to init? Polls generously: tests have no timing thresholds. */
static int
pid_gone(pid_t pid)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char path[64], buf[512], *close;
	FILE *f;
	int i, gone;

	for (i = 0; i < 1500; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		gone = 1;
		if ((f = fopen(path, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL && (close = strrchr(buf, ')')) != NULL &&
			    close[1] == ' ' && close[2] != 'Z')
				gone = 0;
			fclose(f);
		}
		if (gone)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
test_timeout_kills_the_group(void **unused)
{
	struct notify_result res;
	struct buf body = { 0 };
	pid_t sh, grandchild;

	render(&body, 10, 1);
	/* a shell and a background grandchild, both sleeping: SIGTERM ends them */
	send_with("/bin/sh -c \"echo $$ > @D/sh; sleep 100 & echo $! > @D/bg; wait\"", 2, &body,
	    &res);
	assert_int_equal(res.status, NOTIFY_RETRY);
	assert_string_equal(res.detail, "killed by signal 15 after timeout 2s");
	sh = read_pid("sh");
	grandchild = read_pid("bg");
	assert_true(sh > 0 && grandchild > 0);
	assert_true(pid_gone(sh));
	assert_true(pid_gone(grandchild));

	/* SIGTERM ignored by both: SIGKILL follows */
	remove_file("sh");
	remove_file("bg");
	send_with("/bin/sh -c \"trap '' TERM; echo $$ > @D/sh; sleep 100 & echo $! > @D/bg; wait\"",
	    2, &body, &res);
	assert_int_equal(res.status, NOTIFY_RETRY);
	assert_string_equal(res.detail, "killed by signal 9 after timeout 2s");
	sh = read_pid("sh");
	grandchild = read_pid("bg");
	assert_true(sh > 0 && grandchild > 0);
	assert_true(pid_gone(sh));
	assert_true(pid_gone(grandchild));
	buf_free(&body);
}

static void
test_no_deadlock(void **unused)
{
	struct notify_result res;
	struct buf body = { 0 };

	/* 1 MiB that the command never reads, while it writes more than a pipe holds */
	render(&body, 1u << 20, 1);
	send_with("/bin/sh -c \"head -c 3000000 /dev/zero; echo done >&2\"", 30, &body, &res);
	assert_int_equal(res.status, NOTIFY_SENT);
	assert_string_equal(res.detail, "exit 0: done");
	/* it closes stdin at once and fails */
	send_with("/bin/sh -c \"exec 0<&-; exit 3\"", 30, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "exit 3");
	buf_free(&body);
}

static void
test_cannot_run(void **unused)
{
	struct notify_result res;
	struct buf body = { 0 };

	render(&body, 10, 1);
	send_with("/nonexistent/notify --flag", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "command: /nonexistent/notify: No such file or directory");
	send_with("notify-send", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "command: 'notify-send' is not an absolute path (no shell and "
	    "no PATH search: write /usr/bin/notify-send or wherever it is)");
	send_with("/etc/passwd", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_non_null(strstr(res.detail, "/etc/passwd is not executable"));
	send_with("/tmp", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "command: /tmp is not a regular file");
	send_with("/bin/sh -c \"unclosed", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "command: the double quote at character 12 is not closed");
	buf_free(&body);

	/* a spooled message that is not a document: never sent */
	buf_puts(&body, "{\"version\":\"1\"}\n");
	send_with("/bin/true", 10, &body, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "the message is not a JSON notification document with a status");
	buf_free(&body);
}

static int
setup(void **unused)
{
	(void)unused;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **unused)
{
	const char *files[] = { "stdin", "env", "args", "sh", "bg" };
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		remove_file(files[i]);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_stdin_and_environment),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_no_deadlock),
		cmocka_unit_test(test_cannot_run),
	};

	/* as the daemon does (the exec notifier does not rely on it: test_spawn.c checks) */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
