/* test_email.c: alerts/email.c: rendered messages checked structurally, and failed sends. */
#include <netinet/in.h>
#include <sys/socket.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "email.h"
#include "log.h"
#include "notify.h"
#include "util.h"

/* ---- fixtures ----------------------------------------------------------------------------- */

#define T0 1714651203.0 /* Thu, 02 May 2024 12:00:03 UTC */

static const char *const metrics[] = { "disk_used_percent" };

static struct reeve_label disk_labels[4][4];
static struct reeve_label disk_ann[] = {
	{ "summary", "Disk / is 93% full" },
	{ "description", "Less than 7% left <script>alert(\"x\")</script> & more" },
	{ "runbook_url", "https://runbooks.example.org/disk?a=1&b=2" },
};

static char *to_list[] = { "ops@example.org", "Jörg Müller <joerg@example.org>" };

static struct cfg_notifier
notifier(void)
{
	struct cfg_notifier n;

	memset(&n, 0, sizeof(n));
	n.name = "ops";
	n.type = CFG_NOTIFIER_EMAIL;
	n.timeout = 5;
	n.server = "localhost:25";
	n.from = "Reeve Monitor <reeve@example.org>";
	n.to = to_list;
	n.nto = 2;
	return n;
}

/* n alerts of DiskFull, the first nfiring of them firing; instance web01 unless given. */
static struct notify_group
group(struct notify_alert *a, size_t n, size_t nfiring, const char *instance)
{
	static const char *const mounts[] = { "/", "/home", "/var", "/srv" };
	struct notify_group g;

	for (size_t i = 0; i < n; i++) {
		disk_labels[i][0] = (struct reeve_label){ "alertname", "DiskFull" };
		disk_labels[i][1] = (struct reeve_label){ "instance", instance ? instance : "web01" };
		disk_labels[i][2] = (struct reeve_label){ "mountpoint", mounts[i] };
		disk_labels[i][3] = (struct reeve_label){ "severity", "critical" };
		memset(&a[i], 0, sizeof(a[i]));
		a[i].labels = disk_labels[i];
		a[i].nlabels = 4;
		a[i].annotations = disk_ann;
		a[i].nannotations = 3;
		a[i].firing = i < nfiring;
		a[i].starts_at = T0 - 600;
		a[i].ends_at = i < nfiring ? 0 : T0 - 60;
		a[i].value = 93.25;
		a[i].fingerprint = "0123456789abcdef";
		a[i].metrics = metrics;
		a[i].nmetrics = 1;
	}
	memset(&g, 0, sizeof(g));
	g.receiver = "ops";
	g.group_key = "default/{alertname=\"DiskFull\"}";
	g.alerts = a;
	g.nalerts = n;
	g.nfiring = nfiring;
	g.nresolved = n - nfiring;
	g.key = "ops/abc123.1";
	g.time = T0;
	g.external_url = "https://reeve.example.org/";
	g.hostname = "mon01.example.org";
	return g;
}

/* A stand-in for the graphs: a few bytes that start like a PNG, or a failure. */
static int graph_calls;

static int
fake_png(void *arg, const struct notify_alert *a, double start, double end, unsigned char **png,
    size_t *len, char *err, size_t errlen)
{
	static const unsigned char sig[] = "\x89PNG\r\n\x1a\n";

	graph_calls++;
	if (arg != NULL) {
		snprintf(err, errlen, "%s", (const char *)arg);
		return -1;
	}
	assert_true(a->firing);
	assert_true(start < end);
	assert_true(end == T0);
	*len = 300;
	*png = xcalloc(1, *len);
	memcpy(*png, sig, 8);
	return 0;
}

static char *
render(const struct cfg_notifier *n, const struct notify_group *g, const struct notify_graph *gr)
{
	struct buf b = { 0 };
	char err[256];

	if (notifier_email.render(n, g, gr, &b, err, sizeof(err)) == -1)
		fail_msg("render: %s", err);
	return buf_steal(&b);
}

/* ---- checks ------------------------------------------------------------------------------- */

/* CRLF line ends only, lines of at most 998 octets (78 in the header), 7-bit. */
static void
check_lines(const char *m)
{
	const char *p = m, *eoh = strstr(m, "\r\n\r\n");

	assert_non_null(eoh);
	while (*p) {
		const char *cr = strstr(p, "\r\n");

		assert_non_null(cr);
		for (const char *q = p; q < cr; q++) {
			if (*q == '\r' || *q == '\n' || (unsigned char)*q >= 0x80)
				fail_msg("bare CR/LF or 8-bit byte in line: %.*s", (int)(cr - p), p);
		}
		if (cr - p > 998 || (p < eoh && cr - p > 78))
			fail_msg("line of %d octets: %.*s", (int)(cr - p), (int)(cr - p), p);
		p = cr + 2;
	}
}

/* The unfolded value of a header field, or NULL. The caller frees it. */
static char *
header(const char *m, const char *name)
{
	const char *eoh = strstr(m, "\r\n\r\n"), *p = m;
	size_t n = strlen(name);
	struct buf v = { 0 };

	while (p < eoh) {
		const char *eol = strstr(p, "\r\n");

		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *s = p + n + 1;

			for (;;) {
				buf_append(&v, s, (size_t)(eol - s));
				if (eol[2] != ' ' && eol[2] != '\t')
					break;
				s = eol + 2;
				eol = strstr(s, "\r\n");
			}
			return buf_steal(&v);
		}
		p = eol + 2;
	}
	return NULL;
}

static int
b64val(char c)
{
	const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(t, c) : NULL;

	return p ? (int)(p - t) : -1;
}

static void
b64decode(struct buf *out, const char *s, size_t n)
{
	unsigned v = 0;
	int bits = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int d = b64val(s[i]);

		if (d < 0)
			continue;
		v = v << 6 | (unsigned)d;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf_putc(out, (char)(v >> bits & 0xff));
		}
	}
}

/*
 * Decode an unstructured header value as a mail reader does (RFC 2047): each encoded-word
 * at most 75 characters; blanks between two encoded-words dropped.
 */
static char *
decode_words(const char *v)
{
	struct buf out = { 0 };
	int prev_encoded = 0;
	const char *p = v;

	while (*p) {
		const char *ws = p, *e;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e && *e != ' '; e++)
			;
		if (strncmp(p, "=?UTF-8?B?", 10) == 0 && e - p > 12 && strncmp(e - 2, "?=", 2) == 0) {
			assert_true(e - p <= 75);
			if (!prev_encoded && out.len)
				buf_append(&out, ws, (size_t)(p - ws));
			b64decode(&out, p + 10, (size_t)(e - p - 12));
			prev_encoded = 1;
		} else {
			for (const char *q = p; q + 1 < e; q++)
				assert_false(q[0] == '=' && q[1] == '?');
			if (out.len)
				buf_append(&out, ws, (size_t)(p - ws));
			buf_append(&out, p, (size_t)(e - p));
			prev_encoded = 0;
		}
		p = e;
	}
	return buf_steal(&out);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The decoded body of the first part with this Content-Type (quoted-printable or base64). */
static char *
part(const char *m, const char *ctype, size_t *len)
{
	char needle[128];
	const char *h, *body, *end;
	struct buf out = { 0 };
	int qp;

	snprintf(needle, sizeof(needle), "\r\nContent-Type: %s", ctype);
	if ((h = strstr(m, needle)) == NULL)
		return NULL;
	body = strstr(h, "\r\n\r\n") + 4;
	end = strstr(body, "\r\n--=_reeve_");
	assert_non_null(end);
	qp = strstr(h, "quoted-printable") != NULL && strstr(h, "quoted-printable") < body;
	if (!qp) {
		b64decode(&out, body, (size_t)(end - body));
	} else {
		for (const char *p = body; p < end; p++) {
			if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
				p += 2;
			} else if (p[0] == '=') {
				assert_true(hexval(p[1]) >= 0 && hexval(p[2]) >= 0);
				buf_putc(&out, (char)(hexval(p[1]) << 4 | hexval(p[2])));
				p += 2;
			} else if (p[0] == '\r' && p[1] == '\n') {
				buf_putc(&out, '\n');
				p++;
			} else {
				buf_putc(&out, *p);
			}
		}
	}
	if (len)
		*len = out.len;
	return buf_steal(&out);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void
test_firing(void **state)
{
	struct cfg_notifier n = notifier();
	struct notify_alert a[4];
	struct notify_group g = group(a, 4, 4, NULL);
	struct notify_graph gr = { fake_png, NULL };
	char *m, *v, *html, *text, *png;
	size_t len;

	(void)state;
	graph_calls = 0;
	m = render(&n, &g, &gr);
	check_lines(m);
	assert_int_equal(graph_calls, EMAIL_MAX_GRAPHS);
	v = header(m, "Date");
	assert_string_equal(v, " Thu, 02 May 2024 12:00:03 +0000");
	free(v);
	v = header(m, "From");
	assert_string_equal(v, " Reeve Monitor <reeve@example.org>");
	free(v);
	v = header(m, "To");
	assert_non_null(strstr(v, " ops@example.org, =?UTF-8?B?"));
	assert_non_null(strstr(v, " <joerg@example.org>"));
	free(v);
	v = header(m, "Subject");
	assert_string_equal(v, " [FIRING:4] DiskFull (critical) on web01");
	free(v);
	v = header(m, "Message-ID");
	assert_string_equal(v, " <ops/abc123.1@mon01.example.org>");
	free(v);
	v = header(m, "MIME-Version");
	assert_string_equal(v, " 1.0");
	free(v);
	v = header(m, "Content-Type");
	assert_non_null(strstr(v, "multipart/alternative;"));
	assert_non_null(strstr(v, "boundary=\"=_reeve_alt_"));
	free(v);
	/* every boundary opened is closed, the parts nest alternative > related > html, png */
	assert_int_equal(count(m, "\r\n--=_reeve_alt_"), 3);
	assert_int_equal(count(m, "\r\n--=_reeve_rel_"), 2 + EMAIL_MAX_GRAPHS);
	{
		const char *b = strstr(m, "boundary=\"=_reeve_alt_") + 10;
		char alt_end[64], rel_end[64];

		snprintf(alt_end, sizeof(alt_end), "\r\n--%.*s--\r\n", (int)strcspn(b, "\""), b);
		snprintf(rel_end, sizeof(rel_end), "\r\n--=_reeve_rel_%.16s--\r\n", b + 12);
		assert_string_equal(m + strlen(m) - strlen(alt_end), alt_end);
		assert_int_equal(count(m, rel_end), 1);
	}
	assert_true(strstr(m, "Content-Type: text/plain; charset=utf-8") <
	    strstr(m, "Content-Type: multipart/related; type=\"text/html\""));
	assert_int_equal(count(m, "Content-Type: image/png"), EMAIL_MAX_GRAPHS);
	assert_int_equal(count(m, "Content-Disposition: inline"), EMAIL_MAX_GRAPHS);
	assert_non_null(strstr(m, "Content-ID: <graph1."));
	assert_non_null(strstr(m, "Content-ID: <graph3."));
	assert_null(strstr(m, "Content-ID: <graph4."));

	text = part(m, "text/plain", NULL);
	assert_non_null(strstr(text, "Firing (4)"));
	assert_non_null(strstr(text, "  Value:   93.25\n"));
	assert_non_null(strstr(text, "  Started: 2024-05-02 11:50:03 UTC (firing for 10m)\n"));
	assert_non_null(strstr(text, "mountpoint=\"/home\""));
	assert_non_null(strstr(text, "only the first 3 alerts of a message have one"));
	assert_non_null(strstr(text, "https://reeve.example.org/"));
	html = part(m, "text/html", NULL);
	assert_non_null(strstr(html, "<img src=\"cid:graph1."));
	assert_non_null(strstr(html, "href=\"https://reeve.example.org/\""));
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more"));
	assert_non_null(strstr(html, "href=\"https://runbooks.example.org/disk?a=1&amp;b=2\""));
	/* the cid the HTML refers to is the image's Content-ID */
	{
		const char *c = strstr(html, "cid:") + 4;
		char cid[128], want[140];

		snprintf(cid, sizeof(cid), "%.*s", (int)strcspn(c, "\""), c);
		snprintf(want, sizeof(want), "Content-ID: <%s>", cid);
		assert_non_null(strstr(m, want));
	}
	png = part(m, "image/png", &len);
	assert_int_equal(len, 300);
	assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
	/* base64 in lines of 76 */
	{
		const char *b = strstr(strstr(m, "Content-Type: image/png"), "\r\n\r\n") + 4;
		assert_int_equal(strstr(b, "\r\n") - b, 76);
	}
	free(png);
	free(html);
	free(text);
	free(m);
}

static void
test_resolved_and_mixed(void **state)
{
	struct cfg_notifier n = notifier();
	struct notify_alert a[3];
	struct notify_group g = group(a, 1, 0, NULL);
	struct notify_graph gr = { fake_png, NULL };
	char *m, *v, *text;

	(void)state;
	graph_calls = 0;
	m = render(&n, &g, &gr);
	check_lines(m);
	assert_int_equal(graph_calls, 0);
	v = header(m, "Subject");
	assert_string_equal(v, " [RESOLVED] DiskFull (critical) on web01");
	free(v);
	assert_null(strstr(m, "multipart/related"));
	assert_null(strstr(m, "image/png"));
	text = part(m, "text/plain", NULL);
	assert_non_null(strstr(text, "Resolved (1)"));
	assert_non_null(strstr(text, "  Ended:   2024-05-02 11:59:03 UTC (after 9m)\n"));
	free(text);
	free(m);

	g = group(a, 3, 2, NULL);
	m = render(&n, &g, &gr);
	check_lines(m);
	assert_int_equal(graph_calls, 2);
	v = header(m, "Subject");
	assert_string_equal(v, " [FIRING:2, RESOLVED:1] DiskFull (critical) on web01");
	free(v);
	text = part(m, "text/plain", NULL);
	assert_true(strstr(text, "Firing (2)") < strstr(text, "Resolved (1)"));
	free(text);
	free(m);

	/* a test message says so, first thing */
	g = group(a, 1, 1, NULL);
	g.test = 1;
	m = render(&n, &g, NULL);
	v = header(m, "Subject");
	assert_string_equal(v, " [TEST] [FIRING:1] DiskFull (critical) on web01");
	free(v);
	text = part(m, "text/plain", NULL);
	assert_non_null(strstr(text, "test message"));
	assert_non_null(strstr(text, "Graph:   none available here"));
	free(text);
	free(m);
}

static void
test_non_ascii(void **state)
{
	struct cfg_notifier n = notifier();
	struct notify_alert a[2];
	struct notify_group g = group(a, 2, 2, "Überwachung Zürich-Süd Rechenzentrum "
	    "Nummer 4 – Gebäude C, Raum 3.14 (Ausweich)");
	char *m, *v, *dec, *html;

	(void)state;
	g.hostname = "mon 01.example.org";
	m = render(&n, &g, NULL);
	check_lines(m);
	v = header(m, "Subject");
	assert_non_null(strstr(v, "=?UTF-8?B?"));
	dec = decode_words(v + 1);
	assert_string_equal(dec, "[FIRING:2] DiskFull (critical) on Überwachung Zürich-Süd "
	    "Rechenzentrum Nummer 4 – Gebäude C, Raum 3.14 (Ausweich)");
	free(dec);
	free(v);
	v = header(m, "To");
	dec = decode_words(strstr(v, "=?"));
	assert_string_equal(dec, "Jörg Müller <joerg@example.org>");
	free(dec);
	free(v);
	/* a host name with a blank still gives a valid Message-ID */
	v = header(m, "Message-ID");
	assert_string_equal(v, " <ops/abc123.1@mon-01.example.org>");
	free(v);
	html = part(m, "text/html", NULL);
	assert_non_null(strstr(html, "Überwachung Zürich-Süd"));
	assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
	free(html);
	free(m);
}

static void
test_long_and_odd(void **state)
{
	struct cfg_notifier n = notifier();
	struct notify_alert a[1];
	char longv[1200];
	struct notify_group g;
	struct notify_graph broken = { fake_png, "rrd_graph: no data" };
	char *m, *v, *text;

	(void)state;
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	g = group(a, 1, 1, longv);
	g.key = "ops key <with> \"odd\" chars..";
	m = render(&n, &g, &broken);
	check_lines(m);
	v = header(m, "Subject");
	text = decode_words(v + 1);
	assert_int_equal(strlen(text), EMAIL_SUBJECT_MAX);
	assert_non_null(strstr(text, "] DiskFull (critical) on xxx"));
	assert_non_null(strstr(text, "xxx..."));
	free(text);
	free(v);
	v = header(m, "Message-ID");
	assert_string_equal(v, " <ops-key--with---odd--chars@mon01.example.org>");
	free(v);
	/* a graph that fails: no image, and the text says why */
	assert_null(strstr(m, "image/png"));
	text = part(m, "text/plain", NULL);
	assert_non_null(strstr(text, "Graph:   none (rrd_graph: no data)"));
	assert_non_null(strstr(text, longv)); /* the body keeps the whole value */
	free(text);
	free(m);

	/* an address that is none */
	{
		struct buf b = { 0 };
		char err[128];

		buf_puts(&b, "kept");
		n.from = "Reeve <>";
		assert_int_equal(notifier_email.render(&n, &g, NULL, &b, err, sizeof(err)), -1);
		assert_string_equal(err, "\"Reeve <>\" is not a mail address");
		assert_string_equal(b.data, "kept");
		buf_free(&b);
	}
}

static void
test_base64(void **state)
{
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFy" };
	struct buf b = { 0 };

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		buf_reset(&b);
		buf_base64(&b, in[i], strlen(in[i]), 0);
		assert_string_equal(b.data ? b.data : "", out[i]);
	}
	buf_reset(&b);
	buf_base64(&b, "foobarfoobar", 12, 8);
	assert_string_equal(b.data, "Zm9vYmFy\r\nZm9vYmFy\r\n");
	buf_reset(&b);
	buf_html_escape(&b, "<a href=\"x\">'&'</a>");
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	buf_free(&b);
}

/* A port on 127.0.0.1 that nothing listens on: bound, then closed. */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static void
test_send_failures(void **state)
{
	struct cfg_notifier n = notifier();
	struct notify_result res;
	char server[64];

	(void)state;
	snprintf(server, sizeof(server), "127.0.0.1:%d", closed_port());
	n.server = server;
	n.starttls = CFG_STARTTLS_OFF;
	notifier_email.send(&n, "k", (const unsigned char *)"\r\nx\r\n", 5, &res);
	assert_int_equal(res.status, NOTIFY_RETRY);
	if (strstr(res.detail, "Connection refused") == NULL)
		fail_msg("detail: %s", res.detail);

	n.server = "mail.example.org:smtp";
	notifier_email.send(&n, "k", (const unsigned char *)"\r\nx\r\n", 5, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "server \"mail.example.org:smtp\" is not host or host:port");

	n.server = server;
	n.from = "not an address";
	notifier_email.send(&n, "k", (const unsigned char *)"\r\nx\r\n", 5, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "from \"not an address\" is not a mail address");
	email_shutdown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firing),
		cmocka_unit_test(test_resolved_and_mixed),
		cmocka_unit_test(test_non_ascii),
		cmocka_unit_test(test_long_and_odd),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_send_failures),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("email", tests, NULL, NULL);
}
