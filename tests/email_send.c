/* email_send.c: renders a fixed notification with the email notifier and sends it (tests). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "graph.h"
#include "log.h"
#include "notify.h"
#include "store.h"
#include "util.h"

/*
 * usage: email_send KEY=VALUE...
 *   server, starttls (required|opportunistic|off), ca_file, username, password_file, from,
 *   to (comma-separated), timeout (seconds): the [notifier NAME] keys of an email notifier;
 *   data_dir: a reeve data directory whose RRD files give the graphs (none without it);
 *   group: firing (default), resolved, mixed or test;
 *   render: write the rendered message to this file as well;
 *   send: 0 to render only.
 * Prints "SENT|RETRY|FAILED<TAB>detail" and exits 0, or exits 2 on bad arguments.
 */

static const struct reeve_label disk_labels[] = {
	{ "alertname", "DiskFull" }, { "instance", "web01" }, { "mountpoint", "/" },
	{ "severity", "critical" }, { "team", "Betrieb Zürich" },
};
static const struct reeve_label disk_ann[] = {
	{ "summary", "Disk / on web01 is 93.2% full" },
	{ "description", "Less than 7% left on / (größer als erwartet) <script>alert(1)</script>" },
	{ "runbook_url", "https://runbooks.example.org/disk-full?host=web01&fs=/" },
};
static const struct reeve_label load_labels[] = {
	{ "alertname", "HighLoad" }, { "instance", "web02" }, { "severity", "warning" },
};
static const struct reeve_label load_ann[] = {
	{ "summary", "Load on web02 was 12" },
};
static const char *const disk_metrics[] = { "disk_used_percent" };
static const char *const load_metrics[] = { "load1" };

static char *
slurp_line(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (f == NULL || fgets(line, sizeof(line), f) == NULL) {
		fprintf(stderr, "email_send: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return xstrdup(line);
}

int
main(int argc, char **argv)
{
	struct cfg_notifier n;
	struct notify_alert alerts[2];
	struct notify_group g;
	struct notify_graph graph = { graph_notify_render, NULL };
	struct notify_result res;
	struct store *st = NULL;
	struct buf body = { 0 };
	const char *group = "firing", *render_to = NULL, *data_dir = NULL;
	char *to = NULL, err[512];
	int do_send = 1;
	double now = util_now();

	signal(SIGPIPE, SIG_IGN);
	log_init(0, "email_send");
	memset(&n, 0, sizeof(n));
	n.name = "ops-mail";
	n.type = CFG_NOTIFIER_EMAIL;
	n.timeout = 30;
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *k = argv[i], *v;

		if (eq == NULL) {
			fprintf(stderr, "email_send: %s: expected KEY=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		v = eq + 1;
		if (strcmp(k, "server") == 0)
			n.server = (char *)v;
		else if (strcmp(k, "starttls") == 0)
			n.starttls = strcmp(v, "off") == 0 ? CFG_STARTTLS_OFF :
			    strcmp(v, "opportunistic") == 0 ? CFG_STARTTLS_OPPORTUNISTIC :
			    CFG_STARTTLS_REQUIRED;
		else if (strcmp(k, "ca_file") == 0)
			n.ca_file = (char *)v;
		else if (strcmp(k, "username") == 0)
			n.username = (char *)v;
		else if (strcmp(k, "password_file") == 0)
			n.password = slurp_line(v);
		else if (strcmp(k, "from") == 0)
			n.from = (char *)v;
		else if (strcmp(k, "to") == 0)
			to = (char *)v;
		else if (strcmp(k, "timeout") == 0)
			n.timeout = strtod(v, NULL);
		else if (strcmp(k, "data_dir") == 0)
			data_dir = v;
		else if (strcmp(k, "group") == 0)
			group = v;
		else if (strcmp(k, "render") == 0)
			render_to = v;
		else if (strcmp(k, "send") == 0)
			do_send = strcmp(v, "0") != 0;
		else {
			fprintf(stderr, "email_send: unknown key %s\n", k);
			return 2;
		}
	}
	if (to) {
		for (char *p = to, *comma; p; p = comma) {
			if ((comma = strchr(p, ',')) != NULL)
				*comma++ = '\0';
			n.to = xreallocarray(n.to, n.nto + 1, sizeof(*n.to));
			n.to[n.nto++] = p;
		}
	}
	if (data_dir) {
		struct store_params sp = { .data_dir = data_dir, .preset = "default" };

		if ((st = store_new(&sp, err, sizeof(err))) == NULL) {
			fprintf(stderr, "email_send: %s\n", err);
			return 2;
		}
		graph.arg = st;
	}

	memset(alerts, 0, sizeof(alerts));
	alerts[0] = (struct notify_alert){ disk_labels, 5, disk_ann, 3, 1, now - 600, 0, 93.2,
		"0123456789abcdef", disk_metrics, 1 };
	alerts[1] = (struct notify_alert){ load_labels, 3, load_ann, 1, 0, now - 1800, now - 60, 3.5,
		"fedcba9876543210", load_metrics, 1 };
	memset(&g, 0, sizeof(g));
	g.receiver = n.name;
	g.group_key = "{}:{alertname=\"DiskFull\"}";
	g.key = "ops-mail/4f2a9c0d1e2b3a47.1";
	g.time = now;
	g.external_url = "http://reeve.example.org:9180";
	g.hostname = "monitor.example.org";
	g.alerts = alerts;
	if (strcmp(group, "resolved") == 0) {
		g.alerts = &alerts[1];
		g.nalerts = 1;
		g.nresolved = 1;
	} else if (strcmp(group, "mixed") == 0) {
		g.nalerts = 2;
		g.nfiring = g.nresolved = 1;
	} else {
		g.nalerts = 1;
		g.nfiring = 1;
		g.test = strcmp(group, "test") == 0;
	}

	if (notifier_email.render(&n, &g, data_dir ? &graph : NULL, &body, err, sizeof(err)) == -1) {
		fprintf(stderr, "email_send: render: %s\n", err);
		return 2;
	}
	if (render_to) {
		FILE *f = fopen(render_to, "wb");

		if (f == NULL || fwrite(body.data, 1, body.len, f) != body.len || fclose(f) != 0) {
			fprintf(stderr, "email_send: cannot write %s\n", render_to);
			return 2;
		}
	}
	if (do_send) {
		notifier_email.send(&n, g.key, (const unsigned char *)body.data, body.len, &res);
		printf("%s\t%s\n", res.status == NOTIFY_SENT ? "SENT" : res.status == NOTIFY_RETRY ?
		    "RETRY" : "FAILED", res.detail);
		fflush(stdout);
	}
	buf_free(&body);
	store_free(st, 5);
	email_shutdown();
	free(n.password);
	free(n.to);
	return 0;
}
