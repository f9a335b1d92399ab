/* mime.c: mail messages: header fields, quoted-printable, MIME multiparts, and reading To and Cc back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime.h"
#include "util.h"

/* ---- small helpers ------------------------------------------------------------------------ */

/* RFC 5322 atext: the characters of a dot-atom besides the dots. */
static int
atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* 1 when the n bytes of s are printable ASCII (blanks included when blank_ok). */
static int
printable(const char *s, size_t n, int blank_ok)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || (c == ' ' && !blank_ok))
			return 0;
	}
	return 1;
}

/*
 * 1 when the n bytes at a can be an address: not empty; no blank, control or non-ASCII
 * character, nor '<', '>', ',' or '"', which would end it in a header field.
 */
static int
usable_address(const char *a, size_t n)
{
	if (n == 0 || !printable(a, n, 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strchr("<>,\"", a[i]) != NULL)
			return 0;
	return 1;
}

void
mime_put_dot_atom(struct buf *b, const char *s, int domain, const char *fallback)
{
	size_t start = b->len;
	int after_dot = 1;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int ok = domain ? (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' : atext(*p);

		if (*p == '.') {
			if (!after_dot)
				buf_putc(b, '.');
			after_dot = 1;
			continue;
		}
		buf_putc(b, ok ? (char)*p : '-');
		after_dot = 0;
	}
	while (b->len > start && b->data[b->len - 1] == '.')
		b->data[--b->len] = '\0';
	if (b->len == start)
		buf_puts(b, fallback);
}

/* Move *s and *n past the blanks around the text. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* The display name before '<' (s to lt): trimmed, without its quotes, \" and \\ unescaped. */
static void
put_display_name(struct buf *name, const char *s, const char *lt)
{
	size_t n = (size_t)(lt - s);

	trim(&s, &n);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		buf_putc(name, s[i]);
	}
}

int
mime_split_mailbox(const char *s, struct buf *name, struct buf *addr)
{
	const char *lt = strchr(s, '<'), *gt, *a;
	size_t n;

	buf_reset(name);
	buf_reset(addr);
	if (lt) {
		const char *e;

		gt = strchr(lt, '>');
		if (gt == NULL)
			return -1;
		for (e = gt + 1; *e == ' ' || *e == '\t'; e++)
			;
		if (*e)
			return -1;
		put_display_name(name, s, lt);
		a = lt + 1;
		n = (size_t)(gt - a);
	} else {
		a = s;
		n = strlen(s);
	}
	trim(&a, &n);
	if (!usable_address(a, n))
		return -1;
	buf_append(addr, a, n);
	return 0;
}

void
mime_put_date(struct buf *b, double t)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = isfinite(t) ? (time_t)floor(t) : 0;
	struct tm tm;

	gmtime_r(&tt, &tm);
	buf_printf(b, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	    months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- header fields ------------------------------------------------------------------------ */

void
mime_field_start(struct mime_field *f, struct buf *b, const char *name)
{
	f->b = b;
	buf_printf(b, "%s:", name);
	f->col = strlen(name) + 1;
	f->tokens = 0;
}

void
mime_field_token(struct mime_field *f, const char *s, size_t n)
{
	if (f->tokens && f->col + 1 + n > MIME_FOLD_AT) {
		buf_puts(f->b, "\r\n");
		f->col = 0;
		f->tokens = 0;
	}
	buf_putc(f->b, ' ');
	buf_append(f->b, s, n);
	f->col += 1 + n;
	f->tokens++;
}

void
mime_field_end(struct mime_field *f)
{
	buf_puts(f->b, "\r\n");
}

/* 1 when text must go into encoded-words: not plain ASCII, or it looks like one itself. */
static int
needs_encoding(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || (c == '=' && i + 1 < n && s[i + 1] == '?'))
			return 1;
	}
	return 0;
}

/*
 * Appends n bytes of UTF-8 as RFC 2047 encoded-words ("=?UTF-8?B?...?="), each at most 75
 * characters (45 bytes of text: 60 of base64 and 12 around them) and never splitting a
 * character, one token each so the field folds between them. The first token of a field
 * cannot fold: after a long field name ("Subject:") its word is shorter, to fit the line.
 */
static void
field_encoded(struct mime_field *f, const char *s, size_t n)
{
	struct buf w = { 0 };

	while (n > 0) {
		size_t max = 45, take;

		/* a blank, 12 around the base64, at least 8 of it (a 4-byte character) */
		if (f->tokens == 0 && f->col + 1 + 12 + 60 > MIME_FOLD_AT &&
		    f->col + 1 + 12 + 8 <= MIME_FOLD_AT)
			max = (MIME_FOLD_AT - f->col - 1 - 12) / 4 * 3;
		take = n < max ? n : max;

		while (take < n && take > 1 && ((unsigned char)s[take] & 0xC0) == 0x80)
			take--;
		buf_reset(&w);
		buf_puts(&w, "=?UTF-8?B?");
		buf_base64(&w, s, take, 0);
		buf_puts(&w, "?=");
		mime_field_token(f, w.data, w.len);
		s += take;
		n -= take;
	}
	buf_free(&w);
}

/* 1 when a word of unstructured text goes into encoded-words: a long one too, to fold. */
static int
must_encode(const char *s, size_t n)
{
	return n > MIME_FOLD_AT - 10 || needs_encoding(s, n);
}

void
mime_field_text(struct mime_field *f, const char *s)
{
	const char *p = s;

	for (;;) {
		const char *e, *run_end;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e && *e != ' '; e++)
			;
		if (!must_encode(p, (size_t)(e - p))) {
			mime_field_token(f, p, (size_t)(e - p));
			p = e;
			continue;
		}
		/* decoders drop the blanks between two encoded-words: keep them inside one */
		run_end = e;
		for (;;) {
			const char *q = run_end, *qe;

			while (*q == ' ')
				q++;
			for (qe = q; *qe && *qe != ' '; qe++)
				;
			if (q == qe || !must_encode(q, (size_t)(qe - q)))
				break;
			run_end = qe;
		}
		field_encoded(f, p, (size_t)(run_end - p));
		p = run_end;
	}
}

void
mime_field_phrase(struct mime_field *f, const char *name)
{
	size_t n = strlen(name);
	struct buf q = { 0 };
	int plain = 1;

	if (needs_encoding(name, n)) {
		field_encoded(f, name, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (name[i] != ' ' && !atext((unsigned char)name[i]))
			plain = 0;
	if (plain) {
		mime_field_text(f, name);
		return;
	}
	buf_putc(&q, '"');
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '"' || name[i] == '\\')
			buf_putc(&q, '\\');
		buf_putc(&q, name[i]);
	}
	buf_putc(&q, '"');
	mime_field_token(f, q.data, q.len);
	buf_free(&q);
}

int
mime_field_mailbox(struct mime_field *f, const char *mailbox, int comma, char *err, size_t errlen)
{
	struct buf name = { 0 }, addr = { 0 };
	int rc = -1;

	if (mime_split_mailbox(mailbox, &name, &addr) == -1) {
		snprintf(err, errlen, "\"%s\" is not a mail address", mailbox);
		goto out;
	}
	if (name.len) {
		mime_field_phrase(f, name.data);
		buf_reset(&name);
		buf_printf(&name, "<%s>%s", addr.data, comma ? "," : "");
	} else {
		buf_reset(&name);
		buf_printf(&name, "%s%s", addr.data, comma ? "," : "");
	}
	mime_field_token(f, name.data, name.len);
	rc = 0;
out:
	buf_free(&name);
	buf_free(&addr);
	return rc;
}

/* RFC 2231 attribute-char: what a parameter value may hold without percent-encoding. */
static int
attribute_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("*'%()<>@,;:\\\"/[]?=", c) == NULL;
}

/*
 * How many bytes of the percent-encoded e (n left) go into a section of at most room
 * characters: never part of a "%XX", nor part of one UTF-8 character's escapes.
 */
static size_t
section_len(const char *e, size_t n, size_t room)
{
	size_t take = n < room ? n : room;

	if (take == n)
		return take;
	if (take >= 1 && e[take - 1] == '%')
		take -= 1;
	else if (take >= 2 && e[take - 2] == '%')
		take -= 2;
	/* back to the first escape of a character: continuation bytes are %80 to %BF */
	for (size_t t = take; t >= 3; t -= 3) {
		if (e[t] != '%' || strchr("89AB", e[t + 1]) == NULL)
			return t;
	}
	return take; /* no character starts in reach (not UTF-8): cut anywhere */
}

/* attr*=UTF-8''... (RFC 2231), in numbered sections when it does not fit on a line. */
static void
field_param_2231(struct mime_field *f, const char *attr, const char *value, int more)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf enc = { 0 }, tok = { 0 };
	size_t alen = strlen(attr), room, off = 0;

	buf_puts(&enc, "UTF-8''");
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (attribute_char(*p))
			buf_putc(&enc, (char)*p);
		else
			buf_printf(&enc, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	/* a token on a line of its own: a blank, attr, "*=" and ';' */
	if (1 + alen + 2 + enc.len + 1 <= MIME_FOLD_AT) {
		buf_printf(&tok, "%s*=%s%s", attr, enc.data, more ? ";" : "");
		mime_field_token(f, tok.data, tok.len);
		goto out;
	}
	/* sections: a blank, attr, "*NN*=" and ';' around each (MIME_FILENAME_MAX: < 100) */
	room = MIME_FOLD_AT - (1 + alen + 5 + 1);
	for (int sec = 0; off < enc.len; sec++) {
		size_t take = section_len(enc.data + off, enc.len - off, room);

		buf_reset(&tok);
		buf_printf(&tok, "%s*%d*=%.*s%s", attr, sec, (int)take, enc.data + off,
		    off + take < enc.len || more ? ";" : "");
		mime_field_token(f, tok.data, tok.len);
		off += take;
	}
out:
	buf_free(&enc);
	buf_free(&tok);
}

void
mime_field_param(struct mime_field *f, const char *attr, const char *value, int more)
{
	size_t n = strlen(value);
	struct buf tok = { 0 };

	/* a token on a line of its own: a blank, attr, '=', the quotes and ';' */
	if (!printable(value, n, 1) || strpbrk(value, "\"\\") != NULL ||
	    1 + strlen(attr) + 3 + n + 1 > MIME_FOLD_AT) {
		field_param_2231(f, attr, value, more);
		return;
	}
	buf_printf(&tok, "%s=\"%s\"%s", attr, value, more ? ";" : "");
	mime_field_token(f, tok.data, tok.len);
	buf_free(&tok);
}

/* ---- bodies ------------------------------------------------------------------------------- */

void
mime_put_qp(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int at_end = i + 1 == n || s[i + 1] == '\n';
		char enc[3];
		size_t w;

		if (c == '\n') {
			buf_puts(b, "\r\n");
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_end)) {
			enc[0] = (char)c;
			w = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			w = 3;
		}
		if (col + w > 75) {
			buf_puts(b, "=\r\n");
			col = 0;
		}
		buf_append(b, enc, w);
		col += w;
	}
}

/* ---- whole messages ----------------------------------------------------------------------- */

/* The boundaries of one message: "=_reeve_alt_<16 hex digits>" and the like. */
struct bounds {
	char mix[40], alt[40], rel[40];
};

/* Check the parts of a message: types, names and cids that can be written. */
static int
check_part(const struct mime_part *p, const char *what, size_t i, char *err, size_t errlen)
{
	const char *t = p->content_type;

	if (t == NULL || strchr(t, '/') == NULL || strlen(t) > 200 || !printable(t, strlen(t), 1)) {
		snprintf(err, errlen, "%s %zu: content type \"%s\" is not type/subtype", what, i + 1,
		    t ? t : "");
		return -1;
	}
	if (p->filename && (p->filename[0] == '\0' || strlen(p->filename) > MIME_FILENAME_MAX)) {
		snprintf(err, errlen, "%s %zu: the filename is empty or longer than %d bytes", what,
		    i + 1, MIME_FILENAME_MAX);
		return -1;
	}
	if (p->data == NULL && p->len > 0) {
		snprintf(err, errlen, "%s %zu: no data", what, i + 1);
		return -1;
	}
	return 0;
}

/* 1 when s can stand between the <> of a Content-ID: atext, '.' and '@', not empty. */
static int
valid_cid(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 200)
		return 0;
	for (; *s; s++)
		if (!atext((unsigned char)*s) && *s != '.' && *s != '@')
			return 0;
	return 1;
}

/* What mime_build cannot write, in err: the checks that do not depend on the output. */
static int
check_message(const struct mime_message *m, char *err, size_t errlen)
{
	if (m->message_id_key == NULL || m->text == NULL || m->from == NULL) {
		snprintf(err, errlen, "a message needs a Message-ID key, a text and a From address");
		return -1;
	}
	if (m->nto + m->ncc == 0) {
		snprintf(err, errlen, "a message needs a To or Cc address");
		return -1;
	}
	if (m->ninline && m->html == NULL) {
		snprintf(err, errlen, "inline parts need an HTML body that shows them");
		return -1;
	}
	for (size_t i = 0; i < m->ninline; i++) {
		if (check_part(&m->inline_parts[i], "inline part", i, err, errlen) == -1)
			return -1;
		if (!valid_cid(m->inline_parts[i].cid)) {
			snprintf(err, errlen, "inline part %zu: \"%s\" is not a Content-ID", i + 1,
			    m->inline_parts[i].cid ? m->inline_parts[i].cid : "");
			return -1;
		}
	}
	for (size_t i = 0; i < m->nattachments; i++) {
		if (check_part(&m->attachments[i], "attachment", i, err, errlen) == -1)
			return -1;
		if (m->attachments[i].filename == NULL) {
			snprintf(err, errlen, "attachment %zu has no filename", i + 1);
			return -1;
		}
	}
	for (size_t i = 0; i < m->nheaders; i++) {
		const struct mime_header *h = &m->headers[i];

		if (h->name == NULL || h->value == NULL || *h->name == '\0' ||
		    strchr(h->name, ':') || !printable(h->name, strlen(h->name), 0) ||
		    !printable(h->value, strlen(h->value), 1) ||
		    strlen(h->name) + strlen(h->value) > 900) {
			snprintf(err, errlen, "header field %zu is not printable ASCII", i + 1);
			return -1;
		}
	}
	return 0;
}

/* An address field (To, Cc) of n mailboxes; none at all when n is 0. */
static int
put_address_field(struct buf *b, const char *name, const char *const *v, size_t n, char *err,
    size_t errlen)
{
	struct mime_field f;

	if (n == 0)
		return 0;
	mime_field_start(&f, b, name);
	for (size_t i = 0; i < n; i++)
		if (mime_field_mailbox(&f, v[i], i + 1 < n, err, errlen) == -1)
			return -1;
	mime_field_end(&f);
	return 0;
}

/* The header block up to MIME-Version (the body's Content-Type comes with the body). */
static int
put_head(const struct mime_message *m, struct buf *b, char *err, size_t errlen)
{
	struct mime_field f;
	struct buf subject = { 0 };

	mime_field_start(&f, b, "Date");
	buf_putc(b, ' ');
	mime_put_date(b, m->date);
	mime_field_end(&f);
	mime_field_start(&f, b, "From");
	if (mime_field_mailbox(&f, m->from, 0, err, errlen) == -1)
		return -1;
	mime_field_end(&f);
	if (put_address_field(b, "To", m->to, m->nto, err, errlen) == -1 ||
	    put_address_field(b, "Cc", m->cc, m->ncc, err, errlen) == -1)
		return -1;
	buf_puts(&subject, m->subject ? m->subject : "");
	for (size_t i = 0; i < subject.len; i++)
		if ((unsigned char)subject.data[i] < 0x20 || subject.data[i] == 0x7f)
			subject.data[i] = ' ';
	mime_field_start(&f, b, "Subject");
	mime_field_text(&f, subject.data);
	mime_field_end(&f);
	buf_free(&subject);
	buf_puts(b, "Message-ID: <");
	mime_put_dot_atom(b, m->message_id_key, 0, "reeve");
	buf_putc(b, '@');
	mime_put_dot_atom(b, m->hostname ? m->hostname : "", 1, "localhost");
	/* RFC 3834: no vacation or out-of-office answers to this */
	buf_puts(b, ">\r\nAuto-Submitted: auto-generated\r\n");
	for (size_t i = 0; i < m->nheaders; i++)
		buf_printf(b, "%s: %s\r\n", m->headers[i].name, m->headers[i].value);
	buf_puts(b, "MIME-Version: 1.0\r\n");
	return 0;
}

/*
 * "Content-Type: multipart/SUB;" with the boundary on a line of its own. The top one has a
 * preamble for readers that know no MIME.
 */
static void
open_multipart(struct buf *b, const char *sub, const char *bound, int top)
{
	buf_printf(b, "Content-Type: multipart/%s;\r\n boundary=\"%s\"\r\n", sub, bound);
	if (top)
		buf_puts(b, "\r\nThis is a message in MIME format.\r\n");
}

/* The line before each part; the CRLF in front of it belongs to the boundary. */
static void
delimiter(struct buf *b, const char *bound)
{
	buf_printf(b, "\r\n--%s\r\n", bound);
}

static void
close_multipart(struct buf *b, const char *bound)
{
	buf_printf(b, "\r\n--%s--", bound);
}

/* A text part: UTF-8 text with '\n' line ends as quoted-printable. */
static void
put_text_part(struct buf *b, const char *subtype, const char *s)
{
	buf_printf(b, "Content-Type: text/%s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", subtype);
	mime_put_qp(b, s, strlen(s));
}

/*
 * The name of a file for readers that know no RFC 2231: each non-ASCII character, control
 * character, '"' and '\' as '_', cut to MIME_FALLBACK_MAX characters keeping the extension.
 */
static void
put_ascii_name(struct buf *b, const char *s)
{
	struct buf t = { 0 };
	const char *dot;
	size_t ext;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue; /* the rest of a character whose first byte gave its '_' */
		buf_putc(&t, *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ? '_' : (char)*p);
	}
	if (t.len == 0) {
		buf_puts(b, "_");
	} else if (t.len <= MIME_FALLBACK_MAX) {
		buf_append(b, t.data, t.len);
	} else {
		dot = strrchr(t.data, '.');
		ext = dot && strlen(dot) <= 10 ? strlen(dot) : 0;
		buf_append(b, t.data, MIME_FALLBACK_MAX - ext);
		buf_append(b, t.data + t.len - ext, ext);
	}
	buf_free(&t);
}

/* A part in base64: an inline image (with its Content-ID) or an attachment. */
static void
put_base64_part(struct buf *b, const struct mime_part *p, const char *disposition)
{
	struct mime_field f;
	struct buf tok = { 0 };

	mime_field_start(&f, b, "Content-Type");
	buf_printf(&tok, "%s%s", p->content_type, p->filename ? ";" : "");
	mime_field_token(&f, tok.data, tok.len);
	if (p->filename) {
		buf_reset(&tok);
		put_ascii_name(&tok, p->filename);
		mime_field_param(&f, "name", tok.data, 0);
	}
	mime_field_end(&f);
	buf_puts(b, "Content-Transfer-Encoding: base64\r\n");
	if (p->cid)
		buf_printf(b, "Content-ID: <%s>\r\n", p->cid);
	mime_field_start(&f, b, "Content-Disposition");
	buf_reset(&tok);
	buf_printf(&tok, "%s%s", disposition, p->filename ? ";" : "");
	mime_field_token(&f, tok.data, tok.len);
	if (p->filename)
		mime_field_param(&f, "filename", p->filename, 0);
	mime_field_end(&f);
	buf_puts(b, "\r\n");
	if (p->len) {
		buf_base64(b, p->data, p->len, 76);
		/* buf_base64 ended the last line; the boundary's CRLF is that one */
		b->len -= 2;
		b->data[b->len] = '\0';
	}
	buf_free(&tok);
}

/* The text, or the text and the HTML (with its images) as alternatives. */
static void
put_content(const struct mime_message *m, const struct bounds *bd, struct buf *b, int top)
{
	if (m->html == NULL) {
		put_text_part(b, "plain", m->text);
		return;
	}
	open_multipart(b, "alternative", bd->alt, top);
	delimiter(b, bd->alt);
	put_text_part(b, "plain", m->text);
	delimiter(b, bd->alt);
	if (m->ninline) {
		open_multipart(b, "related; type=\"text/html\"", bd->rel, 0);
		delimiter(b, bd->rel);
	}
	put_text_part(b, "html", m->html);
	for (size_t i = 0; i < m->ninline; i++) {
		delimiter(b, bd->rel);
		put_base64_part(b, &m->inline_parts[i], "inline");
	}
	if (m->ninline)
		close_multipart(b, bd->rel);
	close_multipart(b, bd->alt);
}

int
mime_build(const struct mime_message *m, struct buf *out, char *err, size_t errlen)
{
	size_t start = out->len;
	unsigned long long h;
	struct bounds bd;

	if (check_message(m, err, errlen) == -1)
		return -1;
	if (put_head(m, out, err, errlen) == -1) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return -1;
	}
	/*
	 * "=_" can appear in neither quoted-printable (where '=' starts a hex escape or a soft
	 * break) nor base64, so these boundaries never occur inside the parts.
	 */
	h = util_hash(m->message_id_key, strlen(m->message_id_key));
	snprintf(bd.mix, sizeof(bd.mix), "=_reeve_mix_%016llx", h);
	snprintf(bd.alt, sizeof(bd.alt), "=_reeve_alt_%016llx", h);
	snprintf(bd.rel, sizeof(bd.rel), "=_reeve_rel_%016llx", h);
	if (m->nattachments == 0) {
		put_content(m, &bd, out, 1);
	} else {
		open_multipart(out, "mixed", bd.mix, 1);
		delimiter(out, bd.mix);
		put_content(m, &bd, out, 0);
		for (size_t i = 0; i < m->nattachments; i++) {
			delimiter(out, bd.mix);
			put_base64_part(out, &m->attachments[i], "attachment");
		}
		close_multipart(out, bd.mix);
	}
	buf_puts(out, "\r\n");
	return 0;
}

/* ---- reading a message back --------------------------------------------------------------- */

/* The line at p: *eol where its text ends (before CRLF or LF), *next where the next begins. */
static void
line_at(const char *msg, size_t n, size_t p, size_t *eol, size_t *next)
{
	const char *lf = memchr(msg + p, '\n', n - p);

	if (lf == NULL) {
		*eol = *next = n;
		return;
	}
	*next = (size_t)(lf - msg) + 1;
	*eol = (size_t)(lf - msg);
	if (*eol > p && msg[*eol - 1] == '\r')
		(*eol)--;
}

/*
 * The next field of the header block at *pos (0 to begin): its name (without blanks before
 * the ':') and its unfolded value (after the ':'), replacing what name and value held.
 * Lines that are no field are passed over. Returns 1, or 0 at the empty line that ends the
 * header block or at the end of the message.
 */
static int
next_field(const char *msg, size_t n, size_t *pos, struct buf *name, struct buf *value)
{
	size_t eol, next, nlen;
	const char *colon;

	for (;;) {
		if (*pos >= n)
			return 0;
		line_at(msg, n, *pos, &eol, &next);
		if (eol == *pos)
			return 0;
		colon = memchr(msg + *pos, ':', eol - *pos);
		if (colon == NULL || msg[*pos] == ' ' || msg[*pos] == '\t') {
			*pos = next;
			continue;
		}
		break;
	}
	nlen = (size_t)(colon - (msg + *pos));
	while (nlen > 0 && (msg[*pos + nlen - 1] == ' ' || msg[*pos + nlen - 1] == '\t'))
		nlen--;
	buf_reset(name);
	buf_reset(value);
	buf_append(name, msg + *pos, nlen);
	buf_append(value, colon + 1, (size_t)(msg + eol - (colon + 1)));
	/* unfolding: a line that begins with a blank continues the field */
	for (*pos = next; *pos < n && (msg[*pos] == ' ' || msg[*pos] == '\t'); *pos = next) {
		line_at(msg, n, *pos, &eol, &next);
		buf_append(value, msg + *pos, eol - *pos);
	}
	return 1;
}

int
mime_header_get(const void *msg, size_t n, const char *name, struct buf *value)
{
	struct buf fname = { 0 };
	size_t pos = 0;
	int found = 0;

	while (!found && next_field(msg, n, &pos, &fname, value))
		found = strcasecmp(fname.data, name) == 0;
	if (!found)
		buf_reset(value);
	buf_free(&fname);
	return found;
}

void
mime_addresses_add(struct mime_addresses *a, const char *addr, size_t n)
{
	for (size_t i = 0; i < a->n; i++)
		if (strlen(a->v[i]) == n && memcmp(a->v[i], addr, n) == 0)
			return;
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = xstrndup(addr, n);
}

void
mime_addresses_free(struct mime_addresses *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/*
 * s[i] opens a quoted string ('"'), a comment ('(', nesting), an angle address ('<') or a
 * domain literal ('['): the index just past its end, or n when it does not end.
 */
static size_t
skip_group(const char *s, size_t i, size_t n)
{
	char open = s[i], close = open == '"' ? '"' : open == '(' ? ')' : open == '<' ? '>' : ']';
	int depth = 1;

	for (i++; i < n; i++) {
		if (s[i] == '\\' && (open == '"' || open == '(') && i + 1 < n)
			i++;
		else if (s[i] == close && --depth == 0)
			return i + 1;
		else if (s[i] == open && open == '(')
			depth++;
	}
	return n;
}

/* 1 when s[i] opens something skip_group passes over. */
static int
opens_group(char c)
{
	return c == '"' || c == '(' || c == '<' || c == '[';
}

/*
 * One mailbox of an address list (n bytes at s): its addr-spec added to a. A blank one
 * (an empty group, a doubled comma) adds nothing. Returns 0, or -1 with a message in err.
 */
static int
list_item(const char *field, const char *s, size_t n, struct mime_addresses *a, char *err,
    size_t errlen)
{
	struct buf addr = { 0 };
	const char *at;
	size_t i = 0, len;
	int rc = 0;

	trim(&s, &n);
	if (n == 0)
		return 0;
	/* the addr-spec in <...>, or the whole without its comments */
	while (i < n && s[i] != '<') {
		size_t end = opens_group(s[i]) ? skip_group(s, i, n) : i + 1;

		if (s[i] != '(')
			buf_append(&addr, s + i, end - i);
		i = end;
	}
	if (i < n) {
		size_t end = skip_group(s, i, n);

		buf_reset(&addr);
		if (s[end - 1] == '>') /* else no address: '<' is never closed */
			buf_append(&addr, s + i + 1, end - i - 2);
	}
	at = addr.data ? addr.data : "";
	len = addr.len;
	trim(&at, &len);
	if (!usable_address(at, len)) {
		snprintf(err, errlen, "%s: \"%.*s\" is not a mail address", field,
		    (int)(n > 200 ? 200 : n), s);
		rc = -1;
	} else {
		mime_addresses_add(a, at, len);
	}
	buf_free(&addr);
	return rc;
}

/* The mailboxes of an address list (RFC 5322 section 3.4), in order, added to a. */
static int
address_list(const char *field, const char *s, struct mime_addresses *a, char *err,
    size_t errlen)
{
	size_t n = strlen(s), item = 0, i = 0;

	while (i <= n) {
		if (i == n || s[i] == ',' || s[i] == ';') {
			if (list_item(field, s + item, i - item, a, err, errlen) == -1)
				return -1;
			item = ++i;
		} else if (s[i] == ':') {
			item = ++i; /* "team:" names a group: its members follow */
		} else if (opens_group(s[i])) {
			i = skip_group(s, i, n);
		} else {
			i++;
		}
	}
	return 0;
}

int
mime_recipients(const void *msg, size_t n, struct mime_addresses *a, char *err, size_t errlen)
{
	struct buf name = { 0 }, value = { 0 };
	size_t pos = 0;
	int fields = 0;

	while (next_field(msg, n, &pos, &name, &value)) {
		if (strcasecmp(name.data, "To") != 0 && strcasecmp(name.data, "Cc") != 0)
			continue;
		fields++;
		if (address_list(name.data, value.data, a, err, errlen) == -1) {
			fields = -1;
			break;
		}
	}
	buf_free(&name);
	buf_free(&value);
	return fields;
}
