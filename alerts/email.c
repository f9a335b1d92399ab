/* email.c: the email notifier: a MIME message (text, HTML, inline graphs) sent with libesmtp. */
#include <stddef.h> /* before libesmtp.h, which uses size_t without it */

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>   /* before libesmtp.h: it declares smtp_starttls_set_ctx only then */
#include <openssl/x509.h>
#include <auth-client.h>   /* before libesmtp.h: it declares smtp_auth_set_context only then */
#include <libesmtp.h>

#include "email.h"
#include "log.h"
#include "mime.h"
#include "notify.h"
#include "util.h"

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *
label_value(const struct reeve_label *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return NULL;
}

/* "2024-05-02 12:00:03 UTC": for people. */
static void
put_time(struct buf *b, double t)
{
	time_t tt = isfinite(t) ? (time_t)floor(t) : 0;
	struct tm tm;

	gmtime_r(&tt, &tm);
	buf_printf(b, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "3h 12m", "5m 3s", "45s": the two largest units. */
static void
put_duration(struct buf *b, double secs)
{
	static const struct { const char *unit; long long n; } u[] = {
		{ "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 },
	};
	long long s = isfinite(secs) && secs > 0 ? llround(secs) : 0;
	int shown = 0;

	for (size_t i = 0; i < 4 && shown < 2; i++) {
		long long q = s / u[i].n;

		if (q == 0 && !(shown == 0 && i == 3))
			continue;
		buf_printf(b, "%s%lld%s", shown ? " " : "", q, u[i].unit);
		s -= q * u[i].n;
		shown++;
		if (s == 0)
			break;
	}
}

static void
put_value(struct buf *b, double v)
{
	char num[40];

	if (isnan(v))
		buf_puts(b, "none");
	else
		buf_puts(b, util_fmt_double(num, sizeof(num), v));
}

/* An inline graph of one alert. */
struct image {
	unsigned char *png;
	size_t len;
	char *cid;           /* Content-ID without the angle brackets */
};

/* What the message says about one alert's graph. */
struct shown {
	int image;           /* index into the images, -1 for none */
	char note[200];      /* why there is none; empty when there is one or none is due */
};

/* The most severe severity among the alerts (firing ones when any fire), NULL for none. */
static const char *
group_severity(const struct notify_group *g)
{
	static const char *const order[] = { "critical", "error", "warning", "info" };
	const char *best = NULL;
	int best_rank = 99;

	for (size_t i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];
		const char *s = label_value(a->labels, a->nlabels, "severity");
		int rank = 4;

		if (s == NULL || (g->nfiring && !a->firing))
			continue;
		for (int k = 0; k < 4; k++)
			if (strcmp(s, order[k]) == 0)
				rank = k;
		if (rank < best_rank) {
			best = s;
			best_rank = rank;
		}
	}
	return best;
}

/* Appends the distinct values of a label over the alerts: "a", "a, b", "a, b and 3 more". */
static int
put_distinct(struct buf *b, const struct notify_group *g, const char *label)
{
	const char *seen[2];
	size_t nseen = 0, more = 0;

	for (size_t i = 0; i < g->nalerts; i++) {
		const char *v = label_value(g->alerts[i].labels, g->alerts[i].nlabels, label);
		int dup = 0;

		if (v == NULL)
			continue;
		for (size_t k = 0; k < i && !dup; k++) {
			const char *w = label_value(g->alerts[k].labels, g->alerts[k].nlabels, label);
			dup = w && strcmp(w, v) == 0;
		}
		if (dup)
			continue;
		if (nseen < 2)
			seen[nseen++] = v;
		else
			more++;
	}
	for (size_t k = 0; k < nseen; k++)
		buf_printf(b, "%s%s", k ? ", " : "", seen[k]);
	if (more)
		buf_printf(b, " and %zu more", more);
	return nseen > 0;
}

/*
 * The subject in UTF-8: "[FIRING:3] DiskFull (critical) on web01", "[RESOLVED] ...",
 * "[FIRING:2, RESOLVED:1] ...", "[TEST] " in front for a test message. Control characters
 * become blanks and it is cut at EMAIL_SUBJECT_MAX bytes.
 */
static void
make_subject(const struct notify_group *g, struct buf *s)
{
	const char *sev = group_severity(g);
	size_t where;

	if (g->test)
		buf_puts(s, "[TEST] ");
	if (g->nfiring && g->nresolved)
		buf_printf(s, "[FIRING:%zu, RESOLVED:%zu] ", g->nfiring, g->nresolved);
	else if (g->nfiring)
		buf_printf(s, "[FIRING:%zu] ", g->nfiring);
	else if (g->nresolved > 1)
		buf_printf(s, "[RESOLVED:%zu] ", g->nresolved);
	else
		buf_puts(s, "[RESOLVED] ");
	if (!put_distinct(s, g, "alertname"))
		buf_puts(s, "alert");
	if (sev)
		buf_printf(s, " (%s)", sev);
	where = s->len;
	buf_puts(s, " on ");
	if (!put_distinct(s, g, "instance") && !put_distinct(s, g, "host")) {
		if (g->hostname && *g->hostname) {
			buf_puts(s, g->hostname);
		} else {
			s->len = where; /* nowhere to name: no " on " */
			s->data[where] = '\0';
		}
	}
	for (size_t i = 0; i < s->len; i++)
		if ((unsigned char)s->data[i] < 0x20 || s->data[i] == 0x7f)
			s->data[i] = ' ';
	if (s->len > EMAIL_SUBJECT_MAX) {
		size_t cut = EMAIL_SUBJECT_MAX - 3;

		while (cut > 0 && ((unsigned char)s->data[cut] & 0xC0) == 0x80)
			cut--;
		s->len = cut;
		buf_puts(s, "...");
	}
}

/* The annotations of an alert other than summary and description, for the details. */
static int
other_annotation(const struct reeve_label *an)
{
	return strcmp(an->name, "summary") != 0 && strcmp(an->name, "description") != 0;
}

static void
text_alert(struct buf *t, const struct notify_group *g, const struct notify_alert *a,
    const struct shown *sh)
{
	const char *name = label_value(a->labels, a->nlabels, "alertname");
	const char *sev = label_value(a->labels, a->nlabels, "severity");
	const char *summary = label_value(a->annotations, a->nannotations, "summary");
	const char *desc = label_value(a->annotations, a->nannotations, "description");

	buf_printf(t, "\n* %s%s%s%s\n", name ? name : "alert", sev ? " (" : "", sev ? sev : "",
	    sev ? ")" : "");
	if (summary)
		buf_printf(t, "  %s\n", summary);
	if (desc)
		buf_printf(t, "  %s\n", desc);
	buf_puts(t, "  Value:   ");
	put_value(t, a->value);
	buf_puts(t, "\n  Started: ");
	put_time(t, a->starts_at);
	if (a->firing) {
		buf_puts(t, " (firing for ");
		put_duration(t, g->time - a->starts_at);
		buf_puts(t, ")\n");
	} else {
		buf_puts(t, "\n  Ended:   ");
		put_time(t, a->ends_at);
		buf_puts(t, " (after ");
		put_duration(t, a->ends_at - a->starts_at);
		buf_puts(t, ")\n");
	}
	buf_puts(t, "  Labels:  ");
	for (size_t i = 0; i < a->nlabels; i++)
		buf_printf(t, "%s%s=\"%s\"", i ? ", " : "", a->labels[i].name, a->labels[i].value);
	buf_putc(t, '\n');
	for (size_t i = 0; i < a->nannotations; i++)
		if (other_annotation(&a->annotations[i]))
			buf_printf(t, "  %s: %s\n", a->annotations[i].name, a->annotations[i].value);
	if (sh->image >= 0)
		buf_puts(t, "  Graph:   in the HTML version of this message\n");
	else if (sh->note[0])
		buf_printf(t, "  Graph:   %s\n", sh->note);
}

static void
make_text(const struct notify_group *g, const char *subject, const struct shown *sh,
    struct buf *t)
{
	buf_printf(t, "%s\n", subject);
	if (g->test)
		buf_printf(t, "\nThis is a test message of the notifier \"%s\" of reeve on %s. "
		    "It reached you: the notifier works.\n", g->receiver, g->hostname ? g->hostname : "?");
	for (int pass = 0; pass < 2; pass++) {
		size_t count = pass == 0 ? g->nfiring : g->nresolved;

		if (count == 0)
			continue;
		buf_printf(t, "\n%s (%zu)\n%s\n", pass == 0 ? "Firing" : "Resolved", count,
		    pass == 0 ? "----------" : "------------");
		for (size_t i = 0; i < g->nalerts; i++)
			if (g->alerts[i].firing == (pass == 0))
				text_alert(t, g, &g->alerts[i], &sh[i]);
	}
	buf_printf(t, "\n-- \nreeve on %s", g->hostname ? g->hostname : "?");
	if (g->external_url)
		buf_printf(t, ": %s", g->external_url);
	buf_putc(t, '\n');
}

const char *
email_severity_color(const char *sev)
{
	if (sev && strcmp(sev, "warning") == 0)
		return "#B54708";
	if (sev && strcmp(sev, "info") == 0)
		return "#175CD3";
	return "#B42318";
}

#define HTML_RESOLVED "#067647"
#define HTML_MUTED "#5D6B7E"

static void
html_row(struct buf *h, const char *key, const char *value_html)
{
	buf_puts(h, "<tr><td style=\"padding:3px 12px 3px 0;color:" HTML_MUTED ";vertical-align:top;"
	    "white-space:nowrap;\">");
	buf_html_escape(h, key);
	buf_printf(h, "</td><td style=\"padding:3px 0;vertical-align:top;word-break:break-all;\">%s"
	    "</td></tr>\n", value_html);
}

static void
html_alert(struct buf *h, const struct notify_group *g, const struct notify_alert *a,
    const struct shown *sh, const struct image *img)
{
	const char *name = label_value(a->labels, a->nlabels, "alertname");
	const char *sev = label_value(a->labels, a->nlabels, "severity");
	const char *summary = label_value(a->annotations, a->nannotations, "summary");
	const char *desc = label_value(a->annotations, a->nannotations, "description");
	const char *color = a->firing ? email_severity_color(sev) : HTML_RESOLVED;
	struct buf v = { 0 };

	buf_puts(h, "<tr><td style=\"padding:16px 24px;border-top:1px solid #E4E7EC;\">\n");
	buf_printf(h, "<div><span style=\"display:inline-block;padding:2px 8px;border-radius:3px;"
	    "background:%s;color:#FFFFFF;font-size:12px;font-weight:bold;\">%s</span> "
	    "<span style=\"font-size:16px;font-weight:bold;\">", color,
	    a->firing ? "FIRING" : "RESOLVED");
	buf_html_escape(h, name ? name : "alert");
	buf_puts(h, "</span>");
	if (sev) {
		buf_puts(h, " <span style=\"color:" HTML_MUTED ";\">");
		buf_html_escape(h, sev);
		buf_puts(h, "</span>");
	}
	buf_puts(h, "</div>\n");
	if (summary) {
		buf_puts(h, "<p style=\"margin:8px 0 0 0;font-size:15px;\">");
		buf_html_escape(h, summary);
		buf_puts(h, "</p>\n");
	}
	if (desc) {
		buf_puts(h, "<p style=\"margin:6px 0 0 0;color:#344054;white-space:pre-wrap;\">");
		buf_html_escape(h, desc);
		buf_puts(h, "</p>\n");
	}
	buf_puts(h, "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" "
	    "style=\"margin-top:10px;font-size:13px;border-collapse:collapse;\">\n");
	put_value(&v, a->value);
	html_row(h, "Value", v.data);
	buf_reset(&v);
	put_time(&v, a->starts_at);
	if (a->firing) {
		buf_puts(&v, " (firing for ");
		put_duration(&v, g->time - a->starts_at);
		buf_puts(&v, ")");
	}
	html_row(h, "Started", v.data);
	if (!a->firing) {
		buf_reset(&v);
		put_time(&v, a->ends_at);
		buf_puts(&v, " (after ");
		put_duration(&v, a->ends_at - a->starts_at);
		buf_puts(&v, ")");
		html_row(h, "Ended", v.data);
	}
	buf_reset(&v);
	for (size_t i = 0; i < a->nlabels; i++) {
		buf_puts(&v, "<span style=\"display:inline-block;margin:0 4px 3px 0;padding:1px 6px;"
		    "background:#F2F4F7;border:1px solid #E4E7EC;border-radius:3px;"
		    "font-family:Menlo,Consolas,monospace;font-size:12px;\">");
		buf_html_escape(&v, a->labels[i].name);
		buf_puts(&v, "=&quot;");
		buf_html_escape(&v, a->labels[i].value);
		buf_puts(&v, "&quot;</span> ");
	}
	html_row(h, "Labels", v.data);
	for (size_t i = 0; i < a->nannotations; i++) {
		const struct reeve_label *an = &a->annotations[i];

		if (!other_annotation(an))
			continue;
		buf_reset(&v);
		if (strncmp(an->value, "https://", 8) == 0 || strncmp(an->value, "http://", 7) == 0) {
			buf_puts(&v, "<a href=\"");
			buf_html_escape(&v, an->value);
			buf_puts(&v, "\" style=\"color:#175CD3;\">");
			buf_html_escape(&v, an->value);
			buf_puts(&v, "</a>");
		} else {
			buf_html_escape(&v, an->value);
		}
		html_row(h, an->name, v.data);
	}
	buf_puts(h, "</table>\n");
	if (sh->image >= 0) {
		buf_puts(h, "<img src=\"cid:");
		buf_html_escape(h, img[sh->image].cid);
		buf_puts(h, "\" width=\"600\" alt=\"Graph of ");
		buf_html_escape(h, name ? name : "the alert");
		buf_puts(h, "\" style=\"display:block;margin-top:12px;width:100%;max-width:600px;"
		    "height:auto;border:0;\">\n");
	} else if (sh->note[0]) {
		buf_puts(h, "<p style=\"margin:10px 0 0 0;color:" HTML_MUTED ";font-size:12px;\">Graph: ");
		buf_html_escape(h, sh->note);
		buf_puts(h, "</p>\n");
	}
	buf_puts(h, "</td></tr>\n");
	buf_free(&v);
}

static void
make_html(const struct notify_group *g, const char *subject, const struct shown *sh,
    const struct image *img, struct buf *h)
{
	const char *bar = g->test ? "#344054" :
	    g->nfiring ? email_severity_color(group_severity(g)) : HTML_RESOLVED;

	buf_puts(h, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	buf_html_escape(h, subject);
	buf_puts(h, "</title></head>\n"
	    "<body style=\"margin:0;padding:0;background:#F2F4F7;\">\n"
	    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
	    "style=\"background:#F2F4F7;\"><tr><td align=\"center\" style=\"padding:16px 8px;\">\n"
	    "<table role=\"presentation\" width=\"680\" cellpadding=\"0\" cellspacing=\"0\" "
	    "style=\"width:100%;max-width:680px;background:#FFFFFF;border:1px solid #E4E7EC;"
	    "font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.4;color:#101828;\">\n");
	buf_printf(h, "<tr><td style=\"padding:14px 24px;background:%s;color:#FFFFFF;font-size:18px;"
	    "font-weight:bold;\">", bar);
	buf_html_escape(h, subject);
	buf_puts(h, "</td></tr>\n");
	if (g->test) {
		buf_puts(h, "<tr><td style=\"padding:12px 24px;background:#EFF8FF;\">This is a test "
		    "message of the notifier <b>");
		buf_html_escape(h, g->receiver);
		buf_puts(h, "</b> of reeve on ");
		buf_html_escape(h, g->hostname ? g->hostname : "?");
		buf_puts(h, ". It reached you: the notifier works.</td></tr>\n");
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t count = pass == 0 ? g->nfiring : g->nresolved;

		if (count == 0)
			continue;
		buf_printf(h, "<tr><td style=\"padding:12px 24px 0 24px;font-size:13px;font-weight:bold;"
		    "letter-spacing:0.5px;color:" HTML_MUTED ";\">%s (%zu)</td></tr>\n",
		    pass == 0 ? "FIRING" : "RESOLVED", count);
		for (size_t i = 0; i < g->nalerts; i++)
			if (g->alerts[i].firing == (pass == 0))
				html_alert(h, g, &g->alerts[i], &sh[i], img);
	}
	buf_puts(h, "<tr><td style=\"padding:12px 24px;border-top:1px solid #E4E7EC;font-size:12px;"
	    "color:" HTML_MUTED ";\">Sent by reeve on ");
	buf_html_escape(h, g->hostname ? g->hostname : "?");
	if (g->external_url) {
		buf_puts(h, " &middot; <a href=\"");
		buf_html_escape(h, g->external_url);
		buf_puts(h, "\" style=\"color:#175CD3;\">");
		buf_html_escape(h, g->external_url);
		buf_puts(h, "</a>");
	}
	buf_puts(h, "</td></tr>\n</table>\n</td></tr></table>\n</body></html>\n");
}

/* Ask for the graphs of the first EMAIL_MAX_GRAPHS firing alerts. */
static size_t
make_images(const struct notify_group *g, const struct notify_graph *graph, const char *host,
    struct shown *sh, struct image *img)
{
	unsigned long long h = util_hash(g->key, strlen(g->key));
	size_t nimg = 0, firing = 0;

	for (size_t i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];
		double end = g->time, start = a->starts_at - 3600;
		char err[160];
		struct buf cid = { 0 };

		sh[i].image = -1;
		sh[i].note[0] = '\0';
		if (!a->firing)
			continue;
		if (firing++ >= EMAIL_MAX_GRAPHS) {
			snprintf(sh[i].note, sizeof(sh[i].note), "only the first %d alerts of a "
			    "message have one", EMAIL_MAX_GRAPHS);
			continue;
		}
		if (graph == NULL || graph->render == NULL) {
			snprintf(sh[i].note, sizeof(sh[i].note), "none available here");
			continue;
		}
		if (!isfinite(start) || !(start < end - 60))
			start = end - 3600;
		err[0] = '\0';
		if (graph->render(graph->arg, a, start, end, &img[nimg].png, &img[nimg].len, err,
		    sizeof(err)) == -1) {
			snprintf(sh[i].note, sizeof(sh[i].note), "none (%s)", err[0] ? err : "failed");
			continue;
		}
		buf_printf(&cid, "graph%zu.%016llx@", nimg + 1, h);
		buf_puts(&cid, host);
		img[nimg].cid = buf_steal(&cid);
		sh[i].image = (int)nimg++;
	}
	return nimg;
}

/*
 * The message: the text and the HTML as alternatives, the graphs inline in the HTML
 * (reports/mime.c builds it). It goes to the notifier's to.
 */
static int
email_render(const struct cfg_notifier *n, const struct notify_group *g,
    const struct notify_graph *graph, struct buf *body, char *err, size_t errlen)
{
	struct image img[EMAIL_MAX_GRAPHS];
	struct mime_part parts[EMAIL_MAX_GRAPHS];
	char names[EMAIL_MAX_GRAPHS][16];
	struct shown *sh = xcalloc(g->nalerts ? g->nalerts : 1, sizeof(*sh));
	struct buf host = { 0 }, subject = { 0 }, text = { 0 }, html = { 0 }, receiver = { 0 };
	struct mime_header x_receiver;
	struct mime_message m;
	size_t nimg;
	int rc;

	memset(img, 0, sizeof(img));
	mime_put_dot_atom(&host, g->hostname ? g->hostname : "", 1, "localhost");
	make_subject(g, &subject);
	nimg = make_images(g, graph, host.data, sh, img);
	make_text(g, subject.data, sh, &text);
	make_html(g, subject.data, sh, img, &html);
	for (size_t i = 0; i < nimg; i++) {
		snprintf(names[i], sizeof(names[i]), "graph%zu.png", i + 1);
		parts[i] = (struct mime_part){ "image/png", names[i], img[i].cid, img[i].png,
			img[i].len };
	}
	mime_put_dot_atom(&receiver, g->receiver, 0, "-");
	x_receiver = (struct mime_header){ "X-Reeve-Receiver", receiver.data };

	memset(&m, 0, sizeof(m));
	m.from = n->from;
	m.to = (const char *const *)n->to;
	m.nto = n->nto;
	m.subject = subject.data;
	m.message_id_key = g->key;
	m.hostname = g->hostname;
	m.date = g->time;
	m.text = text.data;
	m.html = html.data;
	m.inline_parts = parts;
	m.ninline = nimg;
	m.headers = &x_receiver;
	m.nheaders = 1;
	rc = mime_build(&m, body, err, errlen);

	for (size_t i = 0; i < nimg; i++) {
		free(img[i].png);
		free(img[i].cid);
	}
	free(sh);
	buf_free(&host);
	buf_free(&subject);
	buf_free(&text);
	buf_free(&html);
	buf_free(&receiver);
	return rc;
}

/* ---- sending ---------------------------------------------------------------------------- */

/*
 * The TLS contexts for STARTTLS, one per CA file (NULL: the system store), made on first
 * use and made again when the file changes, so that an operator who fixes the file does
 * not have to restart. libesmtp takes its own reference to the context of a session
 * (SSL_CTX_up_ref), and tls_get hands out one more, so replacing an entry never frees a
 * context in use. tls_lock guards the list.
 */
struct tls_entry {
	char *ca_file;
	struct stat st;        /* of ca_file when the context was made */
	SSL_CTX *ctx;
	struct tls_entry *next;
};

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_entry *tls_list;

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* A referenced TLS context trusting ca_file (or the system store); the caller frees it. */
static SSL_CTX *
tls_get(const char *ca_file, char *err, size_t errlen)
{
	struct tls_entry *e;
	struct stat st;
	SSL_CTX *ctx = NULL;

	memset(&st, 0, sizeof(st));
	if (ca_file && stat(ca_file, &st) == -1) {
		snprintf(err, errlen, "ca_file %s: %s", ca_file, strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&tls_lock);
	for (e = tls_list; e; e = e->next)
		if ((e->ca_file == NULL && ca_file == NULL) ||
		    (e->ca_file && ca_file && strcmp(e->ca_file, ca_file) == 0))
			break;
	if (e && (ca_file == NULL || same_file(&e->st, &st))) {
		ctx = e->ctx;
		SSL_CTX_up_ref(ctx);
		goto out;
	}
	/*
	 * TLS 1.2 only. A TLS 1.3 server sends its session tickets after the handshake, while
	 * libesmtp 1.1.0 waits for the server's first word after STARTTLS: it takes the socket
	 * turning readable for a reply, blocks reading one before it has flushed its EHLO, and
	 * sits out the whole timeout (seen here against aiosmtpd in about every other session;
	 * the message was then not sent). TLS 1.2 sends nothing after its handshake.
	 */
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "cannot make a TLS context");
		SSL_CTX_free(ctx);
		ctx = NULL;
		goto out;
	}
	if (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "%s%s: no certificates could be read", ca_file ? "ca_file " : "",
		    ca_file ? ca_file : "the system's certificate store");
		SSL_CTX_free(ctx);
		ctx = NULL;
		goto out;
	}
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->ca_file = ca_file ? xstrdup(ca_file) : NULL;
		e->next = tls_list;
		tls_list = e;
	} else {
		SSL_CTX_free(e->ctx);
	}
	e->st = st;
	e->ctx = ctx;
	SSL_CTX_up_ref(ctx);
out:
	pthread_mutex_unlock(&tls_lock);
	return ctx;
}

void
email_shutdown(void)
{
	pthread_mutex_lock(&tls_lock);
	while (tls_list) {
		struct tls_entry *e = tls_list;

		tls_list = e->next;
		SSL_CTX_free(e->ctx);
		free(e->ca_file);
		free(e);
	}
	pthread_mutex_unlock(&tls_lock);
}

static pthread_once_t auth_once = PTHREAD_ONCE_INIT;

static void
auth_init(void)
{
	auth_client_init();
}

/*
 * One delivery attempt: what the callbacks learn. Lives on the sending thread's stack and
 * is reached through the callbacks' argument only, so attempts on several threads at once
 * share nothing (smtp_errno is per thread in libesmtp too).
 */
struct attempt {
	const struct cfg_notifier *n;
	smtp_session_t session;
	double deadline;         /* monotonic: the attempt's timeout ends */
	/* the message, fed by message_chunk */
	const char *data;
	size_t len, off;
	/* the server's replies, read by the monitor callback */
	char line[512];          /* a reply line being assembled */
	size_t linelen;
	char verb[12];           /* the last command sent ("EHLO", "MAIL"): never its arguments */
	int replies;             /* complete replies read */
	char complaint[300];     /* the first 4xx or 5xx reply, with the command it answered */
	int complaint_code;
	char tls[300];           /* why STARTTLS failed, empty if it did not */
};

static void
set_timeouts(smtp_session_t s, double deadline)
{
	static const int which[] = { Timeout_GREETING, Timeout_ENVELOPE, Timeout_DATA,
		Timeout_TRANSFER, Timeout_DATA2 };
	double left = deadline - util_monotonic();
	/* libesmtp's least timeout is 1 s; it takes milliseconds, whatever its comments say */
	long ms = left > 1 ? (long)(left * 1000) : 1000;

	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
		smtp_set_timeout(s, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM, ms);
}

/* The text of a reply or status without line ends or control characters, at most size-1. */
static void
clean_text(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 1 < size; src++)
		dst[n++] = (unsigned char)*src < 0x20 || *src == 0x7f ? ' ' : *src;
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}


/* A complete reply line from the server: count it, keep the first complaint. */
static void
reply_line(struct attempt *at, const char *line)
{
	int code;

	if (strlen(line) < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9' || line[3] == '-')
		return; /* not a reply, or not its last line */
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code >= 400 && at->complaint_code == 0) {
		char text[240];

		clean_text(text, sizeof(text), line);
		snprintf(at->complaint, sizeof(at->complaint), "%s (%s)", text,
		    at->replies == 0 ? "greeting" : at->verb);
		at->complaint_code = code;
	}
	at->replies++;
}

/*
 * libesmtp's protocol monitor: every read and write of the session (the message body
 * excepted). Reads are the server's replies. Of writes only the command's verb is kept:
 * the lines of AUTH carry the credentials.
 */
static void
monitor(const char *buf, int buflen, int writing, void *arg)
{
	static const char *const verbs[] = { "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT",
		"DATA", "RSET", "QUIT" };
	struct attempt *at = arg;

	set_timeouts(at->session, at->deadline);
	if (writing == SMTP_CB_WRITING) {
		for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
			size_t n = strlen(verbs[i]);

			if ((size_t)buflen > n && strncmp(buf, verbs[i], n) == 0 &&
			    (buf[n] == ' ' || buf[n] == '\r')) {
				snprintf(at->verb, sizeof(at->verb), "%s", verbs[i]);
				if (strcmp(verbs[i], "MAIL") == 0)
					snprintf(at->verb, sizeof(at->verb), "MAIL FROM");
				else if (strcmp(verbs[i], "RCPT") == 0)
					snprintf(at->verb, sizeof(at->verb), "RCPT TO");
			}
		}
		return;
	}
	if (writing != SMTP_CB_READING)
		return;
	for (int i = 0; i < buflen; i++) {
		if (buf[i] == '\n') {
			at->line[at->linelen] = '\0';
			reply_line(at, at->line);
			at->linelen = 0;
		} else if (buf[i] != '\r' && at->linelen + 1 < sizeof(at->line)) {
			at->line[at->linelen++] = buf[i];
		}
	}
}

/* libesmtp's events: refuse every certificate problem, note why, and renew the timeouts. */
static void
event(smtp_session_t s, int ev, void *arg, ...)
{
	struct attempt *at = arg;
	va_list ap;
	int *ok;

	set_timeouts(s, at->deadline);
	va_start(ap, arg);
	switch (ev) {
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long result = va_arg(ap, long);

		ok = va_arg(ap, int *);
		*ok = 0;
		snprintf(at->tls, sizeof(at->tls), "STARTTLS: the server's certificate is not "
		    "trusted (%s)%s", X509_verify_cert_error_string(result),
		    at->n->ca_file ? "; is it signed by a certificate in ca_file?" : "");
		break;
	}
	case SMTP_EV_WRONG_PEER_CERTIFICATE: {
		const char *name;

		ok = va_arg(ap, int *);
		name = va_arg(ap, const char *);
		*ok = 0;
		snprintf(at->tls, sizeof(at->tls), "STARTTLS: the server's certificate is for "
		    "\"%s\", not for the server's name (certificates are matched by DNS name only)",
		    name ? name : "");
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 0;
		snprintf(at->tls, sizeof(at->tls), "STARTTLS: the server sent no certificate");
		break;
	case SMTP_EV_WEAK_CIPHER: {
		int bits = va_arg(ap, int);

		ok = va_arg(ap, int *);
		*ok = 0;
		snprintf(at->tls, sizeof(at->tls), "STARTTLS: refused a cipher of %d bits", bits);
		break;
	}
	case SMTP_EV_NO_CLIENT_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 0;
		/* FALLTHROUGH */
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CA_LIST:
		snprintf(at->tls, sizeof(at->tls), "STARTTLS: libesmtp found an unusable client "
		    "certificate under ~/.config/libesmtp");
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		snprintf(at->tls, sizeof(at->tls), "the server does not offer STARTTLS "
		    "(starttls = required)");
		break;
	case SMTP_EV_STARTTLS_OK:
		at->tls[0] = '\0';
		snprintf(at->verb, sizeof(at->verb), "EHLO");
		break;
	default:
		break;
	}
	va_end(ap);
}

/* The SASL plugins ask for the user name and password here (PLAIN and LOGIN). */
static int
interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	const struct cfg_notifier *n = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = n->username;
		else if (req[i].flags & AUTH_PASS)
			result[i] = n->password ? n->password : (char *)"";
		else if (req[i].flags & AUTH_REALM)
			result[i] = (char *)"";
		else
			return 0;
	}
	return 1;
}

/* libesmtp's message source: the rendered bytes; len NULL rewinds. */
static const char *
message_chunk(void **ctx, int *len, void *arg)
{
	struct attempt *at = arg;
	size_t n;
	const char *p;

	(void)ctx; /* libesmtp free()s whatever is left there */
	if (len == NULL) {
		at->off = 0;
		return NULL;
	}
	n = at->len - at->off;
	if (n > 65536)
		n = 65536;
	p = at->data + at->off;
	at->off += n;
	*len = (int)n;
	return n ? p : NULL;
}

/*
 * "host" or "host:port" into host and port (25 when left out). libesmtp takes the part
 * before the first ':' as the host, so an IPv6 address cannot be given. Returns 0 or -1.
 */
static int
split_server(const char *server, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon = strchr(server, ':');
	size_t hl = colon ? (size_t)(colon - server) : strlen(server);
	char *end;
	long p = 25;

	if (hl == 0 || hl >= hostlen || (colon && strchr(colon + 1, ':')))
		return -1;
	if (colon) {
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
			return -1;
	}
	memcpy(host, server, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%ld", p);
	return 0;
}

/*
 * libesmtp connects with a blocking connect() and no timeout: against a host that drops
 * packets that takes minutes. So first try each address of host in libesmtp's order, as
 * it will, until one takes a connection, each with what is left of the deadline, and
 * close it again. A refused address is passed over, as libesmtp does; one that does not
 * answer in time ends the attempt. Returns 0, or -1 with the reason in err.
 */
static int
tcp_probe(const char *host, const char *port, double deadline, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	int rc, fd, error = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t elen = sizeof(error);
		double left = deadline - util_monotonic();

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			error = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			close(fd);
			break;
		}
		if (errno != EINPROGRESS) {
			error = errno;
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			rc = poll(&pfd, 1, left > 0 ? (int)ceil(left * 1000) : 0);
		while (rc == -1 && errno == EINTR && (left = deadline - util_monotonic()) > 0);
		if (rc <= 0) {
			close(fd);
			freeaddrinfo(res);
			snprintf(err, errlen, "no connection to %s:%s within the timeout", host, port);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &elen) == -1)
			error = errno;
		close(fd);
		if (error == 0)
			break;
	}
	freeaddrinfo(res);
	if (ai == NULL) {
		snprintf(err, errlen, "cannot connect to %s:%s: %s", host, port, strerror(error));
		return -1;
	}
	return 0;
}

/* The domain of the Message-ID render wrote ("<key@host>"): the EHLO name. */
static void
ehlo_name(const unsigned char *body, size_t len, char *name, size_t size)
{
	struct buf id = { 0 };
	const char *at, *gt;

	snprintf(name, size, "localhost");
	if (mime_header_get(body, len, "Message-ID", &id)) {
		at = strchr(id.data, '@');
		gt = at ? strchr(at, '>') : NULL;
		if (gt && gt > at + 1 && (size_t)(gt - at) < size)
			snprintf(name, size, "%.*s", (int)(gt - at - 1), at + 1);
	}
	buf_free(&id);
}

/*
 * The envelope's recipients, into rcpt: the addresses of the message's own To and Cc
 * fields (a report goes to its own people), or the notifier's to when it has neither.
 * Returns 0, or -1 with res failed: the message will not get better by waiting.
 */
static int
envelope_recipients(const struct cfg_notifier *n, const unsigned char *body, size_t len,
    struct mime_addresses *rcpt, struct notify_result *res)
{
	struct buf name = { 0 }, addr = { 0 };
	char err[300];
	int fields = mime_recipients(body, len, rcpt, err, sizeof(err)), rc = -1;

	res->status = NOTIFY_FAILED;
	if (fields == -1) {
		snprintf(res->detail, sizeof(res->detail), "%s", err);
		goto out;
	}
	for (size_t i = 0; fields == 0 && i < n->nto; i++) {
		if (mime_split_mailbox(n->to[i], &name, &addr) == -1) {
			snprintf(res->detail, sizeof(res->detail), "to \"%s\" is not a mail address",
			    n->to[i]);
			goto out;
		}
		mime_addresses_add(rcpt, addr.data, addr.len);
	}
	if (rcpt->n == 0) {
		snprintf(res->detail, sizeof(res->detail), "no recipient: %s",
		    fields ? "the message's To and Cc name nobody" : "the message has no To or Cc "
		    "field and to is empty");
		goto out;
	}
	res->status = NOTIFY_RETRY;
	rc = 0;
out:
	buf_free(&name);
	buf_free(&addr);
	return rc;
}

/* What the recipients' statuses say, from smtp_enumerate_recipients. */
struct rcpt_summary {
	int accepted, temporary, permanent;
	char first_failure[300];   /* "550 5.1.1 no such user (RCPT TO ops@example.org)" */
	char refused[300];         /* the refused ones, for the detail of a partial success */
};

static void
rcpt_status(smtp_recipient_t r, const char *mailbox, void *arg)
{
	struct rcpt_summary *rs = arg;
	const smtp_status_t *st = smtp_recipient_status(r);
	char text[200];

	if (st->code / 100 == 2) {
		rs->accepted++;
		return;
	}
	if (st->code == 0)
		return; /* never asked */
	if (st->code / 100 == 4)
		rs->temporary++;
	else
		rs->permanent++;
	clean_text(text, sizeof(text), st->text);
	if (rs->first_failure[0] == '\0')
		snprintf(rs->first_failure, sizeof(rs->first_failure), "%d %s (RCPT TO %s)", st->code,
		    text, mailbox);
	snprintf(rs->refused + strlen(rs->refused), sizeof(rs->refused) - strlen(rs->refused),
	    "%s%s %d", rs->refused[0] ? ", " : "", mailbox, st->code);
}

/* res from an SMTP status: 2xx sent, 5xx failed, anything else retried. */
static void
classify(struct notify_result *res, int code)
{
	res->status = code / 100 == 2 ? NOTIFY_SENT : code / 100 == 5 ? NOTIFY_FAILED : NOTIFY_RETRY;
}

/*
 * One delivery of a rendered message: MAIL FROM the notifier's from, RCPT TO the addresses
 * of the message's To and Cc (envelope_recipients), the bytes as they are.
 */
static void
email_send(const struct cfg_notifier *n, const char *key, const unsigned char *body, size_t len,
    struct notify_result *res)
{
	char host[256], port[8], ehlo[256], err[256], text[240];
	struct buf name = { 0 }, from = { 0 };
	struct mime_addresses rcpt = { 0 };
	struct attempt at;
	struct rcpt_summary rs;
	smtp_session_t s = NULL;
	smtp_message_t m;
	auth_context_t auth = NULL;
	SSL_CTX *ctx = NULL;
	const smtp_status_t *st;
	int started, smtp_err;

	(void)key; /* the Message-ID is in the body already */
	memset(res, 0, sizeof(*res));
	memset(&at, 0, sizeof(at));
	memset(&rs, 0, sizeof(rs));
	res->status = NOTIFY_RETRY;
	at.n = n;
	at.deadline = util_monotonic() + (n->timeout > 0 ? n->timeout : 30);
	at.data = (const char *)body;
	at.len = len;

	if (n->server == NULL || split_server(n->server, host, sizeof(host), port, sizeof(port)) == -1) {
		res->status = NOTIFY_FAILED;
		snprintf(res->detail, sizeof(res->detail), "server \"%s\" is not host or host:port",
		    n->server ? n->server : "");
		goto out;
	}
	if (n->from == NULL || mime_split_mailbox(n->from, &name, &from) == -1) {
		res->status = NOTIFY_FAILED;
		snprintf(res->detail, sizeof(res->detail), "from \"%s\" is not a mail address",
		    n->from ? n->from : "");
		goto out;
	}
	if (envelope_recipients(n, body, len, &rcpt, res) == -1)
		goto out;
	if (tcp_probe(host, port, at.deadline, err, sizeof(err)) == -1) {
		snprintf(res->detail, sizeof(res->detail), "%s", err);
		goto out;
	}
	if (n->starttls != CFG_STARTTLS_OFF && (ctx = tls_get(n->ca_file, err, sizeof(err))) == NULL) {
		snprintf(res->detail, sizeof(res->detail), "STARTTLS: %s", err);
		goto out;
	}
	pthread_once(&auth_once, auth_init);

	s = smtp_create_session();
	m = smtp_add_message(s);
	if (s == NULL || m == NULL)
		fatalx("libesmtp: out of memory");
	at.session = s;
	snprintf(text, sizeof(text), "%s:%s", host, port);
	ehlo_name(body, len, ehlo, sizeof(ehlo));
	smtp_set_server(s, text);
	smtp_set_hostname(s, ehlo);
	set_timeouts(s, at.deadline);
	smtp_set_eventcb(s, event, &at);
	smtp_set_monitorcb(s, monitor, &at, 0);
	if (n->starttls == CFG_STARTTLS_OFF) {
		smtp_starttls_enable(s, Starttls_DISABLED);
	} else {
		smtp_starttls_enable(s, n->starttls == CFG_STARTTLS_REQUIRED ? Starttls_REQUIRED :
		    Starttls_ENABLED);
		smtp_starttls_set_ctx(s, ctx);
	}
	if (n->username) {
		auth = auth_create_context();
		if (auth == NULL)
			fatalx("libesmtp: out of memory");
		/* without this flag libesmtp skips PLAIN and LOGIN, and so AUTH, silently */
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, interact, (void *)n);
		smtp_auth_set_context(s, auth);
	}
	smtp_set_reverse_path(m, from.data);
	for (size_t i = 0; i < rcpt.n; i++)
		smtp_add_recipient(m, rcpt.v[i]);
	smtp_set_messagecb(m, message_chunk, &at);

	started = smtp_start_session(s);
	smtp_err = smtp_errno();
	/* every status lives in the session: read them all before it is destroyed */
	smtp_enumerate_recipients(m, rcpt_status, &rs);
	st = smtp_message_transfer_status(m);
	if (st->code / 100 == 2) {
		clean_text(text, sizeof(text), st->text);
		res->status = NOTIFY_SENT;
		snprintf(res->detail, sizeof(res->detail), "%d %s%s%s", st->code, text,
		    rs.refused[0] ? "; refused: " : "", rs.refused);
		goto out;
	}
	if (at.tls[0]) {
		/* a certificate or TLS setup problem: the operator fixes it, the message waits */
		snprintf(res->detail, sizeof(res->detail), "%s", at.tls);
		goto out;
	}
	{
		const smtp_status_t *mf = smtp_reverse_path_status(m);

		if (mf->code >= 400) {
			clean_text(text, sizeof(text), mf->text);
			classify(res, mf->code);
			snprintf(res->detail, sizeof(res->detail), "%d %s (MAIL FROM %s)", mf->code, text,
			    from.data);
			if (at.complaint_code && at.complaint_code != mf->code)
				snprintf(res->detail + strlen(res->detail), sizeof(res->detail) -
				    strlen(res->detail), "; before: %s", at.complaint);
			goto out;
		}
	}
	if (rs.accepted == 0 && (rs.temporary || rs.permanent)) {
		res->status = rs.temporary ? NOTIFY_RETRY : NOTIFY_FAILED;
		snprintf(res->detail, sizeof(res->detail), "%s", rs.first_failure);
		if (rs.temporary + rs.permanent > 1)
			snprintf(res->detail + strlen(res->detail), sizeof(res->detail) -
			    strlen(res->detail), " and %d more", rs.temporary + rs.permanent - 1);
		goto out;
	}
	if (st->code >= 400) {
		clean_text(text, sizeof(text), st->text);
		classify(res, st->code);
		snprintf(res->detail, sizeof(res->detail), "%d %s (DATA)", st->code, text);
		goto out;
	}
	if (at.complaint_code) {
		classify(res, at.complaint_code);
		snprintf(res->detail, sizeof(res->detail), "%s", at.complaint);
		goto out;
	}
	/* no answer explains it: the connection broke, timed out, or TLS failed */
	res->status = NOTIFY_RETRY;
	if (strcmp(at.verb, "STARTTLS") == 0)
		snprintf(res->detail, sizeof(res->detail), "STARTTLS: the TLS handshake with %s "
		    "failed", host);
	else if (util_monotonic() >= at.deadline - 0.05)
		snprintf(res->detail, sizeof(res->detail), "no answer from %s:%s within the timeout "
		    "(%s)", host, port, at.replies ? at.verb : "greeting");
	else
		snprintf(res->detail, sizeof(res->detail), "%s:%s: %s (%s)", host, port,
		    started ? "the message was not sent" : smtp_strerror(smtp_err, err, sizeof(err)),
		    at.replies ? at.verb : "greeting");
out:
	if (s)
		smtp_destroy_session(s);
	if (auth)
		auth_destroy_context(auth);
	SSL_CTX_free(ctx);
	buf_free(&name);
	buf_free(&from);
	mime_addresses_free(&rcpt);
}

const struct notifier_type notifier_email = {
	.name = "email",
	.render = email_render,
	.send = email_send,
};
