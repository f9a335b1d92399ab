/* execnotify.c: the exec notifier: runs a command (no shell) with the notification as JSON on its stdin. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "notify.h"
#include "spawn.h"
#include "util.h"
#include "webhook.h"

#define EXECNOTIFY_KEEP 4096		/* bytes of stdout kept for the detail (the rest dropped) */
#define EXECNOTIFY_TEMPFAIL 75		/* EX_TEMPFAIL of sysexits.h: try again later */

/* The message is the generic JSON document (webhook.h) and a newline (so that `read` in sh sees a line). */
static int
exec_render(const struct cfg_notifier *n, const struct notify_group *g,
    const struct notify_graph *graph, struct buf *body, char *err, size_t errlen)
{
	(void)n;
	(void)graph;
	(void)err;
	(void)errlen;
	webhook_generic_json(g, body);
	buf_putc(body, '\n');
	return 0;
}

/*
 * The "status" of a rendered message ("firing" or "resolved"), copied to st; -1 when the
 * body is not such a document (a spool file damaged or made by something else).
 */
static int
body_status(const unsigned char *body, size_t len, char *st, size_t stlen)
{
	const char *end = NULL, *s;
	cJSON *root;
	int rc = -1;

	root = cJSON_ParseWithLengthOpts((const char *)body, len, &end, 0);
	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "status"));
	if (s != NULL && (strcmp(s, "firing") == 0 || strcmp(s, "resolved") == 0)) {
		snprintf(st, stlen, "%s", s);
		rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}

/* ": " and the first line of stderr, or of stdout when stderr is empty; "" when neither. */
static const char *
output_line(const struct spawn_result *r, char *buf, size_t buflen)
{
	char line[256];

	if (r->errlen > 0)
		spawn_first_line(r->err, r->errlen, line, sizeof(line));
	else if (r->outlen > 0)
		spawn_first_line(r->out, r->outlen, line, sizeof(line));
	else
		line[0] = '\0';
	snprintf(buf, buflen, "%s%s", line[0] != '\0' ? ": " : "", line);
	return buf;
}

/* Could a start that failed with errnum succeed later (resources), or never (the file)? */
static int
start_error_is_temporary(int errnum)
{
	return errnum == EAGAIN || errnum == ENOMEM || errnum == EMFILE || errnum == ENFILE;
}

/*
 * Run n->command with body on stdin: no shell, its own process group, the environment
 * PATH=/usr/bin:/bin, REEVE_NOTIFIER, REEVE_STATUS and REEVE_IDEMPOTENCY_KEY only, in /,
 * killed (the whole group) at n->timeout. Exit 0 is SENT; exit 75 (EX_TEMPFAIL), the
 * timeout, or a start failing for want of resources (EAGAIN, ENOMEM, EMFILE, ENFILE) is
 * RETRY; any other exit code, death by a signal it did not get from us, a program that
 * does not exist or cannot be run is FAILED. res->detail says which, with the first line
 * of its stderr (or stdout): "exit 0", "exit 3: disk full", "killed by signal 15 after
 * timeout 5s".
 */
static void
exec_send(const struct cfg_notifier *n, const char *key, const unsigned char *body,
    size_t len, struct notify_result *res)
{
	struct spawn_argv argv = { 0 };
	struct spawn_cmd c = { 0 };
	struct spawn_result r = { 0 };
	char err[400], status[16], line[300];
	char *env[5] = { NULL };
	int rc;

	memset(res, 0, sizeof(*res));
	res->status = NOTIFY_FAILED;
	if (body_status(body, len, status, sizeof(status)) == -1) {
		snprintf(res->detail, sizeof(res->detail), "the message is not a JSON notification "
		    "document with a status");
		return;
	}
	if (spawn_split(n->command, &argv, err, sizeof(err)) == -1 ||
	    spawn_check_program(argv.argv[0], err, sizeof(err)) == -1) {
		snprintf(res->detail, sizeof(res->detail), "command: %s", err);
		goto out;
	}
	env[0] = xstrdup("PATH=/usr/bin:/bin");
	env[1] = xasprintf("REEVE_NOTIFIER=%s", n->name);
	env[2] = xasprintf("REEVE_STATUS=%s", status);
	env[3] = xasprintf("REEVE_IDEMPOTENCY_KEY=%s", key);
	c.argv = argv.argv;
	c.envp = env;
	c.dir = "/";
	c.input = body;
	c.inputlen = len;
	c.timeout = n->timeout;
	c.max_output = EXECNOTIFY_KEEP;
	c.overflow_kills = 0;
	rc = spawn_run(&c, &r, err, sizeof(err));
	if (r.pid == 0) {
		res->status = start_error_is_temporary(r.start_errno) ? NOTIFY_RETRY : NOTIFY_FAILED;
		snprintf(res->detail, sizeof(res->detail), "%s", err);
	} else if (r.timed_out) {
		res->status = NOTIFY_RETRY;
		if (r.signaled)
			snprintf(res->detail, sizeof(res->detail), "killed by signal %d after timeout "
			    "%gs%s", -r.exit_code, n->timeout, output_line(&r, line, sizeof(line)));
		else
			snprintf(res->detail, sizeof(res->detail), "killed after timeout %gs%s",
			    n->timeout, output_line(&r, line, sizeof(line)));
	} else if (rc == -1) {
		/* our side failed (reading its output): the command may not be to blame */
		res->status = NOTIFY_RETRY;
		snprintf(res->detail, sizeof(res->detail), "%s", err);
	} else if (r.signaled) {
		snprintf(res->detail, sizeof(res->detail), "killed by signal %d%s", -r.exit_code,
		    output_line(&r, line, sizeof(line)));
	} else {
		if (r.exit_code == 0)
			res->status = NOTIFY_SENT;
		else if (r.exit_code == EXECNOTIFY_TEMPFAIL)
			res->status = NOTIFY_RETRY;
		snprintf(res->detail, sizeof(res->detail), "exit %d%s", r.exit_code,
		    output_line(&r, line, sizeof(line)));
	}
out:
	free(env[0]);
	free(env[1]);
	free(env[2]);
	free(env[3]);
	spawn_result_free(&r);
	spawn_argv_free(&argv);
}

/* The exec notifier type (notify.h); static storage. */
const struct notifier_type notifier_exec = {
	.name = "exec",
	.render = exec_render,
	.send = exec_send,
};
