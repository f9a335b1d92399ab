/* mime_send.c: builds a report mail with mime_build and sends it with the email notifier (tests). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email.h"
#include "graph.h"
#include "log.h"
#include "mime.h"
#include "notify.h"
#include "util.h"

/*
 * usage: mime_send KEY=VALUE...
 *   server, from: the email notifier's (starttls off, timeout 10 s);
 *   to: an address of the notifier's to (repeatable): where alerts go, not this message;
 *   msg_to, msg_cc: a mailbox of the message's To or Cc (repeatable, "Name <addr>");
 *   rrd: an RRD file with a data source "value": the two inline graphs are drawn from it;
 *   save: a directory: the message goes to message.eml, the attachments' bytes to
 *         attachment-1 and attachment-2, so that what arrives can be compared.
 * Prints "SENT|RETRY|FAILED<TAB>detail" and exits 0; exits 2 on bad arguments or when the
 * graphs or the message cannot be made.
 */

#define KEY "reports/weekly/2024-19"
#define HOST "mon01.example.org"
#define SUBJECT "Wochenbericht München – KW 19: Verfügbarkeit 99,95 %"

/* A list of strings given by repeating a key. */
struct list {
	const char **v;
	size_t n;
};

static void
add(struct list *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = s;
}

/* A graph of the RRD file's data source over the last two hours, as PNG. */
static void
draw(const char *rrd, const char *cf, const char *title, unsigned char **png, size_t *len)
{
	struct graph_line line = { rrd, "value", cf, title, NULL, NULL };
	struct graph_spec spec;
	char err[256];
	double now = util_now();

	memset(&spec, 0, sizeof(spec));
	spec.start = now - 7200;
	spec.end = now;
	spec.title = title;
	spec.lines = &line;
	spec.nlines = 1;
	if (graph_png(&spec, png, len, err, sizeof(err)) == -1) {
		fprintf(stderr, "mime_send: graph: %s\n", err);
		exit(2);
	}
}

/* The PDF-like attachment: a PDF's first and last lines around every byte value. */
static void
make_pdf(struct buf *b)
{
	buf_puts(b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
	for (int round = 0; round < 40; round++)
		for (int c = 0; c < 256; c++)
			buf_putc(b, (char)(c ^ round));
	buf_puts(b, "\n%%EOF\n");
}

static void
save(const char *dir, const char *name, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "mime_send: cannot write %s\n", path);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	static const char csv[] = "host;availability;downtime\r\nweb01;99.95 %;21 min\r\n"
	    "web02 (Zürich);100 %;0 min\r\n";
	struct cfg_notifier n = { .name = "reports-mail", .type = CFG_NOTIFIER_EMAIL, .timeout = 10,
		.starttls = CFG_STARTTLS_OFF };
	struct list to = { 0 }, msg_to = { 0 }, msg_cc = { 0 };
	struct mime_part graphs[2], files[2];
	struct mime_message m;
	struct notify_result res;
	struct buf pdf = { 0 }, body = { 0 }, html = { 0 };
	const char *rrd = NULL, *dir = NULL;
	unsigned char *png[2];
	size_t pnglen[2];
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	log_init(0, "mime_send");
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq == NULL) {
			fprintf(stderr, "mime_send: %s: expected KEY=VALUE\n", argv[i]);
			return 2;
		}
		*eq++ = '\0';
		if (strcmp(argv[i], "server") == 0)
			n.server = eq;
		else if (strcmp(argv[i], "from") == 0)
			n.from = eq;
		else if (strcmp(argv[i], "to") == 0)
			add(&to, eq);
		else if (strcmp(argv[i], "msg_to") == 0)
			add(&msg_to, eq);
		else if (strcmp(argv[i], "msg_cc") == 0)
			add(&msg_cc, eq);
		else if (strcmp(argv[i], "rrd") == 0)
			rrd = eq;
		else if (strcmp(argv[i], "save") == 0)
			dir = eq;
		else {
			fprintf(stderr, "mime_send: unknown key %s\n", argv[i]);
			return 2;
		}
	}
	if (rrd == NULL || dir == NULL || n.server == NULL || n.from == NULL) {
		fprintf(stderr, "mime_send: server, from, rrd and save are needed\n");
		return 2;
	}
	n.to = (char **)to.v;
	n.nto = to.n;

	draw(rrd, "AVERAGE", "Verfügbarkeit (Mittel)", &png[0], &pnglen[0]);
	draw(rrd, "MAX", "Spitzenlast", &png[1], &pnglen[1]);
	graphs[0] = (struct mime_part){ "image/png", "verfügbarkeit.png",
		"avg.weekly-2024-19@" HOST, png[0], pnglen[0] };
	graphs[1] = (struct mime_part){ "image/png", "peak.png", "peak.weekly@" HOST, png[1],
		pnglen[1] };
	make_pdf(&pdf);
	files[0] = (struct mime_part){ "application/pdf", "Bericht München.pdf", NULL, pdf.data,
		pdf.len };
	files[1] = (struct mime_part){ "text/csv; charset=utf-8", "availability.csv", NULL, csv,
		strlen(csv) };
	buf_puts(&html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Wochenbericht"
	    "</title></head><body>\n<h1>Wochenbericht München – KW 19</h1>\n"
	    "<p>Verfügbarkeit: 99,95 % (Ziel 99,9 %)</p>\n"
	    "<img src=\"cid:avg.weekly-2024-19@" HOST "\" alt=\"Verfügbarkeit\" width=\"600\">\n"
	    "<img src=\"cid:peak.weekly@" HOST "\" alt=\"Spitzenlast\" width=\"600\">\n"
	    "</body></html>\n");

	memset(&m, 0, sizeof(m));
	m.from = n.from;
	m.to = msg_to.v;
	m.nto = msg_to.n;
	m.cc = msg_cc.v;
	m.ncc = msg_cc.n;
	m.subject = SUBJECT;
	m.message_id_key = KEY;
	m.hostname = HOST;
	m.date = util_now();
	m.text = "Wochenbericht München – KW 19\n\nVerfügbarkeit: 99,95 % (Ziel 99,9 %)\n"
	    "Die Graphen stehen in der HTML-Fassung, die Zahlen im PDF und im CSV.\n";
	m.html = html.data;
	m.inline_parts = graphs;
	m.ninline = 2;
	m.attachments = files;
	m.nattachments = 2;
	if (mime_build(&m, &body, err, sizeof(err)) == -1) {
		fprintf(stderr, "mime_send: mime_build: %s\n", err);
		return 2;
	}
	save(dir, "message.eml", body.data, body.len);
	save(dir, "attachment-1", files[0].data, files[0].len);
	save(dir, "attachment-2", files[1].data, files[1].len);

	notifier_email.send(&n, KEY, (const unsigned char *)body.data, body.len, &res);
	printf("%s\t%s\n", res.status == NOTIFY_SENT ? "SENT" : res.status == NOTIFY_RETRY ?
	    "RETRY" : "FAILED", res.detail);
	fflush(stdout);

	email_shutdown();
	free(png[0]);
	free(png[1]);
	buf_free(&pdf);
	buf_free(&body);
	buf_free(&html);
	free(to.v);
	free(msg_to.v);
	free(msg_cc.v);
	return 0;
}
