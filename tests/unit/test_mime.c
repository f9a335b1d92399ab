/* test_mime.c: reports/mime.c: header fields, quoted-printable, parameters, built messages, To and Cc read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "email.h"
#include "log.h"
#include "mime.h"
#include "notify.h"
#include "util.h"

#define T0 1714651203.0 /* Thu, 02 May 2024 12:00:03 UTC */

/* ---- decoding, done here independently of mime.c ------------------------------------------ */

/* The value of one base64 digit, -1 for anything else ('=' included). */
static int
digit64(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode base64 in groups of four digits; line breaks are passed over, '=' ends it. */
static void
unbase64(struct buf *out, const char *s, size_t n)
{
	int group[4], have = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int d = digit64((unsigned char)s[i]);

		if (d == -1) {
			assert_true(s[i] == '\r' || s[i] == '\n');
			continue;
		}
		group[have++] = d;
		if (have < 4)
			continue;
		buf_putc(out, (char)(group[0] << 2 | group[1] >> 4));
		buf_putc(out, (char)((group[1] & 15) << 4 | group[2] >> 2));
		buf_putc(out, (char)((group[2] & 3) << 6 | group[3]));
		have = 0;
	}
	if (have >= 2)
		buf_putc(out, (char)(group[0] << 2 | group[1] >> 4));
	if (have == 3)
		buf_putc(out, (char)((group[1] & 15) << 4 | group[2] >> 2));
}

/* Decode quoted-printable; a soft break joins lines, CRLF becomes '\n'. */
static void
unqp(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;

	while (i < n) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r') {
			assert_true(s[i + 2] == '\n');
			i += 3;
		} else if (s[i] == '=') {
			const char *hi = strchr(hex, s[i + 1]), *lo = strchr(hex, s[i + 2]);

			assert_true(hi && lo && *hi && *lo);
			buf_putc(out, (char)((hi - hex) * 16 + (lo - hex)));
			i += 3;
		} else if (s[i] == '\r') {
			assert_true(s[i + 1] == '\n');
			buf_putc(out, '\n');
			i += 2;
		} else {
			buf_putc(out, s[i++]);
		}
	}
}

/*
 * The encoded-words of an unfolded header value decoded and joined: what a reader shows.
 * Every word must be a complete "=?UTF-8?B?...?=" of at most 75 characters.
 */
static char *
unwords(const char *v)
{
	struct buf out = { 0 };
	const char *p = v;
	int last_encoded = 0;

	buf_puts(&out, "");
	while (*p) {
		size_t blanks = strspn(p, " "), len = strcspn(p + blanks, " ");
		const char *w = p + blanks;
		int encoded = len > 12 && strncmp(w, "=?UTF-8?B?", 10) == 0 &&
		    strncmp(w + len - 2, "?=", 2) == 0;

		if (len == 0)
			break;
		if (out.len && !(encoded && last_encoded))
			buf_append(&out, p, blanks);
		if (encoded) {
			assert_in_range(len, 13, 75);
			unbase64(&out, w + 10, len - 12);
		} else {
			for (size_t k = 0; k + 1 < len; k++)
				assert_false(w[k] == '=' && w[k + 1] == '?');
			buf_append(&out, w, len);
		}
		last_encoded = encoded;
		p = w + len;
	}
	return buf_steal(&out);
}

/* Every line ends in CRLF, has 7-bit bytes only and at most 998 of them (head_max in the header). */
static void
assert_lines(const char *m, size_t head_max)
{
	size_t col = 0;
	int in_head = 1;

	for (size_t i = 0; m[i]; i++) {
		unsigned char c = (unsigned char)m[i];

		assert_true(c < 0x80);
		if (c == '\n')
			fail_msg("a bare LF at %zu", i);
		if (c != '\r') {
			col++;
			continue;
		}
		assert_int_equal(m[i + 1], '\n');
		if (col > (in_head ? head_max : 998))
			fail_msg("a line of %zu octets before %.60s", col, m + i + 2);
		if (col == 0)
			in_head = 0;
		col = 0;
		i++;
	}
	assert_int_equal(col, 0);
}

/* The header block of the part whose Content-Type starts with ctype, and its decoded body. */
static char *
find_part(const char *m, const char *ctype, struct buf *headers)
{
	char needle[160];
	const char *h, *body, *end;
	struct buf out = { 0 };

	snprintf(needle, sizeof(needle), "\r\nContent-Type: %s", ctype);
	h = strstr(m, needle);
	if (h == NULL)
		fail_msg("no %s part", ctype);
	body = strstr(h, "\r\n\r\n") + 4;
	end = strstr(body, "\r\n--=_reeve_");
	assert_non_null(end);
	if (headers) {
		buf_reset(headers);
		buf_append(headers, h + 2, (size_t)(body - h - 2));
	}
	buf_puts(&out, "");
	if (strstr(h, "base64\r\n") && strstr(h, "base64\r\n") < body)
		unbase64(&out, body, (size_t)(end - body));
	else
		unqp(&out, body, (size_t)(end - body));
	return buf_steal(&out);
}

/* How often needle occurs in hay. */
static int
occurrences(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

/* A header field of m, unfolded, as mime_header_get reads it; "" when there is none. */
static char *
field(const char *m, const char *name)
{
	struct buf v = { 0 };

	if (!mime_header_get(m, strlen(m), name, &v))
		buf_puts(&v, "(none)");
	return buf_steal(&v);
}

/* The unfolded header field name of m is want. */
static void
assert_field(const char *m, const char *name, const char *want)
{
	char *v = field(m, name);

	if (strcmp(v, want) != 0)
		fail_msg("%s:%s, not %s", name, v, want);
	free(v);
}

/* ---- header fields ------------------------------------------------------------------------ */

/* name: text as mime_field_text writes it, the field ended. The caller frees it. */
static char *
text_field(const char *name, const char *text)
{
	struct buf b = { 0 };
	struct mime_field f;

	mime_field_start(&f, &b, name);
	mime_field_text(&f, text);
	mime_field_end(&f);
	return buf_steal(&b);
}

static void
test_subject(void **state)
{
	static const char *const odd[] = {
		"Wochenbericht für München – KW 19 mit Verfügbarkeit der Dienste im Rechenzentrum "
		"Süd und Nord, Störungen und Wartungsfenstern",
		"ääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääääää",
		"€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€ and 🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂",
		"looks =?UTF-8?B?encoded?= but is not",
		"a_word_much_longer_than_a_line_can_hold_without_any_blank_in_it_at_all_no_no",
	};
	char *s, *v, *d;

	(void)state;
	s = text_field("Subject", "Weekly report");
	assert_string_equal(s, "Subject: Weekly report\r\n");
	free(s);
	/* the blanks between non-ASCII words stay inside one encoded-word */
	s = text_field("Subject", "Wochenbericht für München – KW 19");
	assert_string_equal(s, "Subject: Wochenbericht =?UTF-8?B?ZsO8ciBNw7xuY2hlbiDigJM=?= KW 19\r\n");
	free(s);
	/* long plain ASCII folds between words, and unfolds to what it was */
	s = text_field("Subject", "Availability and capacity report for the web, database and "
	    "storage clusters in all three data centres, week 19 of 2024");
	assert_lines(s, 78);
	assert_true(occurrences(s, "\r\n ") >= 1);
	assert_field(s, "Subject", " Availability and capacity report for the web, database and "
	    "storage clusters in all three data centres, week 19 of 2024");
	free(s);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		s = text_field("Subject", odd[i]);
		assert_lines(s, 78);
		v = field(s, "Subject");
		d = unwords(v + 1);
		assert_string_equal(d, odd[i]);
		free(d);
		free(v);
		free(s);
	}
	/* an encoded-word never ends inside a character: each decodes to UTF-8 on its own */
	s = text_field("Subject", odd[2]);
	for (const char *w = strstr(s, "=?UTF-8?B?"); w; w = strstr(w + 2, "=?UTF-8?B?")) {
		struct buf one = { 0 };
		size_t len = strcspn(w, " \r");

		buf_puts(&one, "");
		unbase64(&one, w + 10, len - 12);
		assert_true(((unsigned char)one.data[0] & 0xC0) != 0x80);
		assert_true(one.len > 0);
		buf_free(&one);
	}
	free(s);
}

/* Field "To" of mailboxes, or NULL with the error in err. */
static char *
to_field(const char *const *boxes, size_t n, char *err, size_t errlen)
{
	struct buf b = { 0 };
	struct mime_field f;

	mime_field_start(&f, &b, "To");
	for (size_t i = 0; i < n; i++) {
		if (mime_field_mailbox(&f, boxes[i], i + 1 < n, err, errlen) == -1) {
			buf_free(&b);
			return NULL;
		}
	}
	mime_field_end(&f);
	return buf_steal(&b);
}

static void
test_mailboxes(void **state)
{
	static const char *const boxes[] = {
		"Doe, Jane <jane@example.org>", "ops@example.org", "Jörg Müller <joerg@example.org>",
		"\"Quote \\\" and \\\\ back\" <q@example.org>", "Jane Doe <jd@example.org>",
	};
	static const char *const bad[] = {
		"not an address", "Jane <>", "Jane <jane@example.org", "<a@example.org> trailing",
		"jörg@example.org", "a,b@example.org", "",
	};
	struct buf name = { 0 }, addr = { 0 };
	char err[200], *s;

	(void)state;
	s = to_field(boxes, 5, err, sizeof(err));
	assert_non_null(s);
	assert_lines(s, 78);
	assert_true(occurrences(s, "\r\n ") >= 2);
	assert_field(s, "To", " \"Doe, Jane\" <jane@example.org>, ops@example.org, "
	    "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@example.org>, "
	    "\"Quote \\\" and \\\\ back\" <q@example.org>, Jane Doe <jd@example.org>");
	free(s);

	assert_int_equal(mime_split_mailbox(" \"Doe, Jane\"  < jane@example.org > ", &name, &addr), 0);
	assert_string_equal(name.data, "Doe, Jane");
	assert_string_equal(addr.data, "jane@example.org");
	assert_int_equal(mime_split_mailbox("ops@example.org", &name, &addr), 0);
	assert_int_equal(name.len, 0);
	assert_string_equal(addr.data, "ops@example.org");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mime_split_mailbox(bad[i], &name, &addr) != -1)
			fail_msg("\"%s\" taken as an address", bad[i]);
		s = to_field(&bad[i], 1, err, sizeof(err));
		assert_null(s);
		assert_non_null(strstr(err, "is not a mail address"));
		assert_non_null(strstr(err, bad[i]));
	}
	buf_free(&name);
	buf_free(&addr);
}

static void
test_dot_atom_and_date(void **state)
{
	struct buf b = { 0 };

	(void)state;
	mime_put_dot_atom(&b, "report/weekly ops..2024-19.", 0, "x");
	assert_string_equal(b.data, "report/weekly-ops.2024-19");
	buf_reset(&b);
	mime_put_dot_atom(&b, "mon_01.example.org", 1, "localhost");
	assert_string_equal(b.data, "mon-01.example.org");
	buf_reset(&b);
	mime_put_dot_atom(&b, "...", 1, "localhost");
	assert_string_equal(b.data, "localhost");
	buf_reset(&b);
	mime_put_date(&b, T0 + 0.9);
	assert_string_equal(b.data, "Thu, 02 May 2024 12:00:03 +0000");
	buf_free(&b);
}

/* ---- bodies ------------------------------------------------------------------------------- */

static void
test_quoted_printable(void **state)
{
	static const char *const texts[] = {
		"trailing blanks  \nand a tab\t\nend with a blank ",
		"Größe: 93 % = viel\r\nCR above",
		"x", "", "\n\n",
	};
	struct buf b = { 0 }, back = { 0 };
	char longline[400];

	(void)state;
	mime_put_qp(&b, "Grüße = 100%", strlen("Grüße = 100%"));
	assert_string_equal(b.data, "Gr=C3=BC=C3=9Fe =3D 100%");
	buf_reset(&b);
	mime_put_qp(&b, "a  \nb\t\nc ", 9);
	assert_string_equal(b.data, "a =20\r\nb=09\r\nc=20");

	/* a long line gets soft breaks: lines of at most 76, an escape never split */
	for (size_t i = 0; i < sizeof(longline) - 1; i++)
		longline[i] = i % 7 == 6 ? ' ' : i % 5 == 4 ? "\xc3\xbc"[i % 2] : (char)('a' + i % 26);
	longline[sizeof(longline) - 1] = '\0';
	buf_reset(&b);
	mime_put_qp(&b, longline, strlen(longline));
	buf_puts(&b, "\r\n");
	assert_lines(b.data, 76);
	assert_true(occurrences(b.data, "=\r\n") >= 5);
	buf_reset(&back);
	unqp(&back, b.data, b.len - 2);
	assert_int_equal(back.len, strlen(longline));
	assert_memory_equal(back.data, longline, back.len);

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		buf_reset(&b);
		buf_reset(&back);
		buf_puts(&b, "");
		buf_puts(&back, "");
		mime_put_qp(&b, texts[i], strlen(texts[i]));
		for (size_t k = 0; k < b.len; k++)
			assert_false(b.data[k] == ' ' && (b.data[k + 1] == '\r' || b.data[k + 1] == '\0'));
		unqp(&back, b.data, b.len);
		assert_string_equal(back.data, texts[i]);
	}
	buf_free(&b);
	buf_free(&back);
}

/* "Content-Disposition: attachment; <filename parameter>" */
static char *
disposition(const char *filename)
{
	struct buf b = { 0 };
	struct mime_field f;

	mime_field_start(&f, &b, "Content-Disposition");
	mime_field_token(&f, "attachment;", 11);
	mime_field_param(&f, "filename", filename, 0);
	mime_field_end(&f);
	return buf_steal(&b);
}

/* The value of an RFC 2231 parameter: its sections joined and percent-decoded. */
static char *
rfc2231_value(const char *field_text, const char *attr)
{
	struct buf v = { 0 }, out = { 0 };
	char name[64];

	for (int sec = -1; sec < 100; sec++) {
		const char *p, *e;

		if (sec == -1)
			snprintf(name, sizeof(name), " %s*=", attr);
		else
			snprintf(name, sizeof(name), " %s*%d*=", attr, sec);
		if ((p = strstr(field_text, name)) == NULL) {
			if (sec >= 0)
				break;
			continue;
		}
		p += strlen(name);
		e = p + strcspn(p, ";\r");
		buf_append(&v, p, (size_t)(e - p));
		if (sec == -1)
			break;
	}
	assert_non_null(v.data);
	assert_int_equal(strncmp(v.data, "UTF-8''", 7), 0);
	buf_puts(&out, "");
	for (const char *p = v.data + 7; *p; p++) {
		if (*p == '%') {
			char hex[3] = { p[1], p[2], 0 };

			buf_putc(&out, (char)strtol(hex, NULL, 16));
			p += 2;
		} else {
			assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789!#$&+-.^_`{|}~", *p));
			buf_putc(&out, *p);
		}
	}
	buf_free(&v);
	return buf_steal(&out);
}

static void
test_filename_params(void **state)
{
	char longname[200], *s, *v;

	(void)state;
	s = disposition("report.csv");
	assert_string_equal(s, "Content-Disposition: attachment; filename=\"report.csv\"\r\n");
	free(s);
	s = disposition("Bericht München.pdf");
	assert_string_equal(s, "Content-Disposition: attachment; "
	    "filename*=UTF-8''Bericht%20M%C3%BCnchen.pdf\r\n");
	free(s);
	/* a quote or a backslash cannot stand in a quoted-string as it is: RFC 2231 */
	s = disposition("a \"quoted\" name.txt");
	assert_non_null(strstr(s, "filename*=UTF-8''a%20%22quoted%22%20name.txt"));
	free(s);
	/* long: sections of one line each, none splitting a character */
	for (int i = 0; i < 12; i++)
		memcpy(longname + i * 11, "Übersicht ", 11);
	snprintf(longname + 12 * 11, sizeof(longname) - 12 * 11, "2024.pdf");
	s = disposition(longname);
	assert_lines(s, 78);
	assert_non_null(strstr(s, " filename*0*=UTF-8''%C3%9Cbersicht"));
	assert_non_null(strstr(s, " filename*3*="));
	for (const char *p = strstr(s, "*="); p; p = strstr(p + 1, "*=")) {
		/* a section begins with a character's first byte, never with %80-%BF */
		assert_false(p[2] == '%' && strchr("89AB", p[3]) != NULL);
	}
	v = rfc2231_value(s, "filename");
	assert_string_equal(v, longname);
	free(v);
	free(s);
	/* a long plain name that would not fit on a line goes the same way */
	memset(longname, 'x', 90);
	snprintf(longname + 90, sizeof(longname) - 90, ".csv");
	s = disposition(longname);
	assert_lines(s, 78);
	v = rfc2231_value(s, "filename");
	assert_string_equal(v, longname);
	free(v);
	free(s);
}

/* ---- whole messages ----------------------------------------------------------------------- */

static const unsigned char png1[] = "\x89PNG\r\n\x1a\n first graph";
static const unsigned char png2[] = "\x89PNG\r\n\x1a\n second graph, a little longer";
static const char csv[] = "host,availability\nweb01,99.95\nweb02,100\n";

/* A report-like message; the caller changes what a test needs. */
static struct mime_message
report(unsigned char *pdf, size_t pdflen, struct mime_part *inl, struct mime_part *att)
{
	static const char *const to[] = { "Jane Doe <jane@example.org>", "ops@example.org" };
	static const char *const cc[] = { "\"Boss, The\" <boss@example.org>" };
	struct mime_message m;

	for (size_t i = 0; i < pdflen; i++)
		pdf[i] = (unsigned char)(i * 7 + i / 256);
	inl[0] = (struct mime_part){ "image/png", "availability.png", "g1.abc@mon01.example.org",
		png1, sizeof(png1) - 1 };
	inl[1] = (struct mime_part){ "image/png", NULL, "g2.abc@mon01.example.org", png2,
		sizeof(png2) - 1 };
	att[0] = (struct mime_part){ "application/pdf", "Bericht München.pdf", NULL, pdf, pdflen };
	att[1] = (struct mime_part){ "text/csv; charset=utf-8", "availability.csv", NULL, csv,
		strlen(csv) };
	memset(&m, 0, sizeof(m));
	m.from = "Reeve Reports <reports@example.org>";
	m.to = to;
	m.nto = 2;
	m.cc = cc;
	m.ncc = 1;
	m.subject = "Wochenbericht für München – KW 19";
	m.message_id_key = "report/weekly/2024-19";
	m.hostname = "mon01.example.org";
	m.date = T0;
	m.text = "Weekly report\n\nAvailability: 99.95 %\n";
	m.html = "<html><body><p>Größe</p><img src=\"cid:g1.abc@mon01.example.org\">"
	    "<img src=\"cid:g2.abc@mon01.example.org\"></body></html>\n";
	m.inline_parts = inl;
	m.ninline = 2;
	m.attachments = att;
	m.nattachments = 2;
	return m;
}

static char *
build(const struct mime_message *m)
{
	struct buf b = { 0 };
	char err[256];

	if (mime_build(m, &b, err, sizeof(err)) == -1)
		fail_msg("mime_build: %s", err);
	assert_lines(b.data, 78);
	return buf_steal(&b);
}

/* Where the multipart of this kind ("mix", "alt", "rel") is closed: once, or fail. */
static const char *
closing(const char *m, const char *kind)
{
	char needle[32];
	const char *found = NULL;

	snprintf(needle, sizeof(needle), "\r\n--=_reeve_%s_", kind);
	for (const char *p = strstr(m, needle); p; p = strstr(p + 1, needle)) {
		if (strncmp(p + strlen(needle) + 16, "--\r\n", 4) == 0) {
			assert_null(found);
			found = p;
		}
	}
	assert_non_null(found);
	return found;
}

/* mixed > (alternative > (text/plain, related > (text/html, 2 images)), pdf, csv) */
static void
assert_nesting(const char *m)
{
	static const char *const order[] = {
		"--=_reeve_mix_", "--=_reeve_alt_", "text/plain", "--=_reeve_alt_",
		"multipart/related", "--=_reeve_rel_", "text/html", "--=_reeve_rel_", "image/png",
		"--=_reeve_rel_", "image/png", "--=_reeve_rel_", "--=_reeve_alt_", "--=_reeve_mix_",
		"application/pdf", "--=_reeve_mix_", "text/csv", "--=_reeve_mix_",
	};
	const char *p = strstr(m, "\r\n\r\n"), *rel = closing(m, "rel"), *alt = closing(m, "alt"),
	    *mix = closing(m, "mix");

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *q = strstr(p, order[i]);

		if (q == NULL)
			fail_msg("%s missing after %.40s", order[i], p);
		p = q + strlen(order[i]);
	}
	assert_int_equal(occurrences(m, "\r\n--=_reeve_rel_"), 4);
	assert_int_equal(occurrences(m, "\r\n--=_reeve_alt_"), 3);
	assert_int_equal(occurrences(m, "\r\n--=_reeve_mix_"), 4);
	/* inner ones closed first, the outermost at the very end */
	assert_true(rel < alt && alt < mix);
	assert_int_equal(strlen(mix), strlen("\r\n--=_reeve_mix_0123456789abcdef--\r\n"));
}

static void
test_build_report(void **state)
{
	unsigned char pdf[1000];
	struct mime_part inl[2], att[2];
	struct mime_message m = report(pdf, sizeof(pdf), inl, att);
	struct buf h = { 0 };
	char *msg, *v, *d, *body;

	(void)state;
	msg = build(&m);
	assert_field(msg, "Date", " Thu, 02 May 2024 12:00:03 +0000");
	assert_field(msg, "From", " Reeve Reports <reports@example.org>");
	assert_field(msg, "To", " Jane Doe <jane@example.org>, ops@example.org");
	assert_field(msg, "Cc", " \"Boss, The\" <boss@example.org>");
	v = field(msg, "Subject");
	d = unwords(v + 1);
	assert_string_equal(d, "Wochenbericht für München – KW 19");
	free(d);
	free(v);
	assert_field(msg, "Message-ID", " <report/weekly/2024-19@mon01.example.org>");
	assert_field(msg, "Auto-Submitted", " auto-generated");
	assert_field(msg, "MIME-Version", " 1.0");
	v = field(msg, "Content-Type");
	assert_int_equal(strncmp(v, " multipart/mixed; boundary=\"=_reeve_mix_", 40), 0);
	free(v);
	assert_nesting(msg);
	assert_non_null(strstr(msg, "Content-Type: multipart/related; type=\"text/html\";\r\n"
	    " boundary=\"=_reeve_rel_"));

	body = find_part(msg, "text/plain", &h);
	assert_string_equal(body, m.text);
	assert_non_null(strstr(h.data, "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"));
	free(body);
	body = find_part(msg, "text/html", NULL);
	assert_string_equal(body, m.html);
	free(body);

	/* inline images: base64, the HTML's cid as Content-ID, inline */
	body = find_part(msg, "image/png; name=\"availability.png\"", &h);
	assert_int_equal(strlen(body), sizeof(png1) - 1);
	assert_memory_equal(body, png1, sizeof(png1) - 1);
	assert_non_null(strstr(h.data, "Content-Transfer-Encoding: base64\r\n"));
	assert_non_null(strstr(h.data, "Content-ID: <g1.abc@mon01.example.org>\r\n"));
	assert_non_null(strstr(h.data, "Content-Disposition: inline; filename=\"availability.png\""));
	free(body);
	body = find_part(msg, "image/png\r\n", &h);
	assert_memory_equal(body, png2, sizeof(png2) - 1);
	assert_non_null(strstr(h.data, "Content-ID: <g2.abc@mon01.example.org>\r\n"));
	assert_non_null(strstr(h.data, "Content-Disposition: inline\r\n"));
	free(body);

	/* attachments: the bytes, the name in RFC 2231 and the ASCII fallback */
	body = find_part(msg, "application/pdf", &h);
	assert_memory_equal(body, pdf, sizeof(pdf));
	assert_non_null(strstr(h.data, "Content-Type: application/pdf; name=\"Bericht M_nchen.pdf\""));
	assert_non_null(strstr(h.data, "Content-Disposition: attachment; "
	    "filename*=UTF-8''Bericht%20M%C3%BCnchen.pdf\r\n"));
	{
		/* base64 in lines of 76 */
		const char *b64 = strstr(strstr(msg, "application/pdf"), "\r\n\r\n") + 4;

		assert_int_equal(strcspn(b64, "\r"), 76);
	}
	free(body);
	body = find_part(msg, "text/csv", &h);
	assert_string_equal(body, csv);
	assert_non_null(strstr(h.data, "Content-Type: text/csv; charset=utf-8;"));
	assert_non_null(strstr(h.data, "name=\"availability.csv\""));
	assert_non_null(strstr(h.data, "Content-Disposition: attachment; filename=\"availability.csv\""));
	free(body);

	/* no Cc field without Cc addresses; the same message otherwise */
	m.ncc = 0;
	free(msg);
	msg = build(&m);
	assert_field(msg, "Cc", "(none)");
	assert_null(strstr(msg, "boss@example.org"));
	free(msg);
	buf_free(&h);
}

static void
test_build_shapes(void **state)
{
	unsigned char pdf[10];
	struct mime_part inl[2], att[2];
	struct mime_message m = report(pdf, sizeof(pdf), inl, att);
	char *msg, *v, *body;

	(void)state;
	/* text only: one text/plain body, no multipart */
	m.html = NULL;
	m.ninline = m.nattachments = 0;
	msg = build(&m);
	v = field(msg, "Content-Type");
	assert_string_equal(v, " text/plain; charset=utf-8");
	free(v);
	assert_null(strstr(msg, "--=_reeve"));
	assert_null(strstr(msg, "This is a message in MIME format."));
	free(msg);

	/* text and attachments: mixed > text/plain, attachments */
	m.nattachments = 2;
	msg = build(&m);
	assert_null(strstr(msg, "multipart/alternative"));
	assert_true(strstr(msg, "text/plain") < strstr(msg, "application/pdf"));
	body = find_part(msg, "text/csv", NULL);
	assert_string_equal(body, csv);
	free(body);
	free(msg);

	/* HTML without images: alternative > text/plain, text/html; no related */
	m.html = "<p>x</p>\n";
	m.nattachments = 0;
	msg = build(&m);
	v = field(msg, "Content-Type");
	assert_int_equal(strncmp(v, " multipart/alternative; boundary=\"=_reeve_alt_", 46), 0);
	free(v);
	assert_null(strstr(msg, "multipart/related"));
	assert_int_equal(occurrences(msg, "\r\n--=_reeve_alt_"), 3);
	free(msg);

	/* an empty attachment and an extra header field */
	{
		struct mime_part empty = { "application/octet-stream", "empty.bin", NULL, NULL, 0 };
		struct mime_header x = { "X-Reeve-Report", "weekly" };

		m.attachments = &empty;
		m.nattachments = 1;
		m.headers = &x;
		m.nheaders = 1;
		msg = build(&m);
		assert_non_null(strstr(msg, "\r\nAuto-Submitted: auto-generated\r\n"
		    "X-Reeve-Report: weekly\r\nMIME-Version: 1.0\r\n"));
		body = find_part(msg, "application/octet-stream", NULL);
		assert_int_equal(strlen(body), 0);
		free(body);
		free(msg);
	}
}

static void
test_build_errors(void **state)
{
	static const char *const bad_to[] = { "ops@example.org", "Jane Doe jane@example.org" };
	static const char *const bad_cc[] = { "Boss <boss@example.org" };
	unsigned char pdf[10];
	struct mime_part inl[2], att[2];
	struct mime_message good = report(pdf, sizeof(pdf), inl, att), m;
	struct buf b = { 0 };
	char err[256];

	(void)state;
	buf_puts(&b, "kept");
#define EXPECT_ERROR(text) do {							\
		assert_int_equal(mime_build(&m, &b, err, sizeof(err)), -1);		\
		assert_string_equal(err, text);						\
		assert_string_equal(b.data, "kept");					\
		m = good;								\
	} while (0)
	m = good;
	m.to = bad_to;
	EXPECT_ERROR("\"Jane Doe jane@example.org\" is not a mail address");
	m.cc = bad_cc;
	EXPECT_ERROR("\"Boss <boss@example.org\" is not a mail address");
	m.from = "Reports <>";
	EXPECT_ERROR("\"Reports <>\" is not a mail address");
	m.nto = m.ncc = 0;
	EXPECT_ERROR("a message needs a To or Cc address");
	m.html = NULL;
	EXPECT_ERROR("inline parts need an HTML body that shows them");
	inl[1].cid = "g2 <x>";
	EXPECT_ERROR("inline part 2: \"g2 <x>\" is not a Content-ID");
	inl[1].cid = "g2.abc@mon01.example.org";
	att[1].filename = NULL;
	EXPECT_ERROR("attachment 2 has no filename");
	att[1].filename = "availability.csv";
	att[0].content_type = "pdf";
	EXPECT_ERROR("attachment 1: content type \"pdf\" is not type/subtype");
	att[0].content_type = "application/pdf";
	m.message_id_key = NULL;
	EXPECT_ERROR("a message needs a Message-ID key, a text and a From address");
#undef EXPECT_ERROR
	buf_free(&b);
}

/* ---- To and Cc read back ------------------------------------------------------------------ */

/* mime_recipients on msg: the return value, and the addresses joined with ' ' in got. */
static int
recipients(const char *msg, char *got, size_t size, char *err, size_t errlen)
{
	struct mime_addresses a = { 0 };
	int rc = mime_recipients(msg, strlen(msg), &a, err, errlen);

	got[0] = '\0';
	for (size_t i = 0; i < a.n; i++)
		snprintf(got + strlen(got), size - strlen(got), "%s%s", i ? " " : "", a.v[i]);
	mime_addresses_free(&a);
	return rc;
}

static void
test_recipients(void **state)
{
	static const struct {
		const char *msg;
		int fields;
		const char *want;
	} cases[] = {
		/* quoted display names with commas, a comment, a folded Cc; the body is not read */
		{ "Subject: x\r\nTo: \"Doe, Jane\" <jane@example.org>, bob@example.org (Bob, the "
		  "builder)\r\nCc: ops@example.org,\r\n\t=?UTF-8?B?Wm/Dqw==?= <zoe@example.org>\r\n\r\n"
		  "To: body@example.org\r\n",
		  2, "jane@example.org bob@example.org ops@example.org zoe@example.org" },
		/* a To folded inside a quoted name, and in the middle of an address list */
		{ "To: \"Doe,\r\n Jane\" <jane@example.org>,\r\n  second@example.org\r\n\r\n", 1,
		  "jane@example.org second@example.org" },
		/* no To: the Cc only; names in any case, blanks before the colon */
		{ "From: a@example.org\r\nCC : one@example.org\r\ncc: two@example.org\r\n\r\nx", 2,
		  "one@example.org two@example.org" },
		/* neither field */
		{ "From: a@example.org\r\nSubject: To: x@example.org\r\n\r\nTo: y@example.org\r\n", 0, "" },
		{ "\r\nTo: y@example.org\r\n", 0, "" },
		{ "", 0, "" },
		/* groups: the name is passed over, an empty one names nobody */
		{ "To: undisclosed-recipients:;\r\n\r\n", 1, "" },
		{ "To: team: a@example.org, \"x: y\" <b@example.org>;, c@example.org\r\n\r\n", 1,
		  "a@example.org b@example.org c@example.org" },
		/* each address once; an escaped quote and <> inside a quoted name */
		{ "To: a@example.org, A <a@example.org>\r\nCc: \"x \\\" <no@example.org>, y\" "
		  "<real@example.org>, a@example.org\r\n\r\n", 2, "a@example.org real@example.org" },
		/* LF line ends, a domain literal, an empty list item */
		{ "To: x@[IPv6:::1],, <y@example.org>\nCc:\n\nbody", 2, "x@[IPv6:::1] y@example.org" },
		/* no empty line: the whole is the header */
		{ "To: last@example.org", 1, "last@example.org" },
	};
	static const struct {
		const char *msg, *err;
	} bad[] = {
		{ "To: foo bar\r\n\r\n", "To: \"foo bar\" is not a mail address" },
		{ "Cc: Jane <jane@example.org\r\n\r\n", "Cc: \"Jane <jane@example.org\" is not a mail address" },
		{ "To: ok@example.org, Jane <>\r\n\r\n", "To: \"Jane <>\" is not a mail address" },
		{ "To: jörg@example.org\r\n\r\n", "To: \"jörg@example.org\" is not a mail address" },
	};
	char got[300], err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = recipients(cases[i].msg, got, sizeof(got), err, sizeof(err));

		if (rc != cases[i].fields || strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: %d \"%s\", not %d \"%s\"", i, rc, got, cases[i].fields,
			    cases[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(recipients(bad[i].msg, got, sizeof(got), err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].err);
	}
}

/* What mime_build writes, mime_recipients reads back: the To and Cc addresses. */
static void
test_recipients_round_trip(void **state)
{
	static const char *const to[] = {
		"\"Doe, Jane\" <jane@example.org>", "Name with \"quotes\", commas; and: colons <q@example.org>",
		"Zoë Ops <zoe@example.org>", "plain@example.org",
		"A Very Long Display Name That Will Certainly Fold The Line <long.address@sub.example.org>",
	};
	static const char *const cc[] = { "(not a comment) <cc@example.org>", "jane@example.org" };
	unsigned char pdf[10];
	struct mime_part inl[2], att[2];
	struct mime_message m = report(pdf, sizeof(pdf), inl, att);
	char *msg, got[300], err[200];

	(void)state;
	m.to = to;
	m.nto = 5;
	m.cc = cc;
	m.ncc = 2;
	msg = build(&m);
	assert_int_equal(recipients(msg, got, sizeof(got), err, sizeof(err)), 2);
	assert_string_equal(got, "jane@example.org q@example.org zoe@example.org plain@example.org "
	    "long.address@sub.example.org cc@example.org");
	free(msg);
}

static void
test_header_get(void **state)
{
	static const char msg[] = "Subject: a folded\r\n\tsubject\r\nMessage-ID: <k@host>\r\n"
	    "X-Empty:\r\n\r\nX-Body: no\r\n";
	struct buf v = { 0 };

	(void)state;
	assert_int_equal(mime_header_get(msg, strlen(msg), "subject", &v), 1);
	assert_string_equal(v.data, " a folded\tsubject");
	assert_int_equal(mime_header_get(msg, strlen(msg), "Message-ID", &v), 1);
	assert_string_equal(v.data, " <k@host>");
	assert_int_equal(mime_header_get(msg, strlen(msg), "X-Empty", &v), 1);
	assert_string_equal(v.data, "");
	assert_int_equal(mime_header_get(msg, strlen(msg), "X-Body", &v), 0);
	/* a length that ends inside the header: nothing past it is read */
	assert_int_equal(mime_header_get(msg, 12, "Message-ID", &v), 0);
	buf_free(&v);
}

/*
 * The email notifier's send takes its envelope from the message's To and Cc: a message
 * that names nobody there, or something that is no address, fails for good before any
 * connection (no server listens on the port given).
 */
static void
test_send_recipients(void **state)
{
	static char *to[] = { "ops@example.org" };
	static const struct {
		const char *msg, *detail;
	} cases[] = {
		{ "To: undisclosed-recipients:;\r\n\r\nx\r\n", "no recipient: the message's To and Cc name nobody" },
		{ "To: ops@example.org\r\nCc: foo bar\r\n\r\nx\r\n", "Cc: \"foo bar\" is not a mail address" },
		{ "Subject: x\r\n\r\nx\r\n", "to \"not an address\" is not a mail address" },
		{ "Subject: x\r\n\r\nx\r\n", "no recipient: the message has no To or Cc field and to is empty" },
	};
	struct cfg_notifier n;
	struct notify_result res;

	(void)state;
	memset(&n, 0, sizeof(n));
	n.name = "reports";
	n.type = CFG_NOTIFIER_EMAIL;
	n.timeout = 2;
	n.server = "127.0.0.1:1";
	n.starttls = CFG_STARTTLS_OFF;
	n.from = "reeve@example.org";
	n.to = to;
	n.nto = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (i == 2)
			to[0] = "not an address";
		if (i == 3)
			n.nto = 0;
		notifier_email.send(&n, "k", (const unsigned char *)cases[i].msg, strlen(cases[i].msg),
		    &res);
		assert_int_equal(res.status, NOTIFY_FAILED);
		assert_string_equal(res.detail, cases[i].detail);
	}
	email_shutdown();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_mailboxes),
		cmocka_unit_test(test_dot_atom_and_date),
		cmocka_unit_test(test_quoted_printable),
		cmocka_unit_test(test_filename_params),
		cmocka_unit_test(test_build_report),
		cmocka_unit_test(test_build_shapes),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_recipients_round_trip),
		cmocka_unit_test(test_header_get),
		cmocka_unit_test(test_send_recipients),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
