/* mime.h: mail messages: header fields, quoted-printable, MIME multiparts, and reading To and Cc back. */
#ifndef REEVE_MIME_H
#define REEVE_MIME_H

#include <stddef.h>

#include "util.h"

/*
 * Everything here writes what RFC 5322 and the MIME RFCs (2045-2047, 2231) call a message:
 * CRLF line ends, 7-bit only (UTF-8 text travels in encoded-words, quoted-printable or
 * base64), header fields folded at MIME_FOLD_AT. The email notifier (alerts/email.c) renders
 * alerts with it, and the reports are mailed with mime_build; the email notifier's send
 * reads the envelope's recipients back with mime_recipients.
 */

/* RFC 5322 recommends lines of at most 78 characters; header fields are folded there. */
#define MIME_FOLD_AT 78
/* The longest attachment filename (bytes of UTF-8) mime_build takes. */
#define MIME_FILENAME_MAX 255
/* The plain ASCII name given besides an RFC 2231 one is cut to this many characters. */
#define MIME_FALLBACK_MAX 60

/* ---- header fields ------------------------------------------------------------------------ */

/*
 * A header field being written into a buffer (borrowed until mime_field_end): tokens go on
 * the current line until it would pass MIME_FOLD_AT characters, then on a new line that
 * begins with a blank (folding, RFC 5322 section 2.2.3). A token longer than a line gets a
 * line of its own.
 */
struct mime_field {
	struct buf *b;
	size_t col;      /* characters on the current line */
	int tokens;      /* tokens on the current line */
};

/* Begin the field "name:" in b. name is ASCII and short (a field name). */
void mime_field_start(struct mime_field *f, struct buf *b, const char *name);
/* Append a blank and the n bytes of s (printable ASCII), folding before them when needed. */
void mime_field_token(struct mime_field *f, const char *s, size_t n);
/* End the field with CRLF. */
void mime_field_end(struct mime_field *f);

/*
 * Append unstructured text (RFC 5322 section 3.2.5, a Subject) in UTF-8: words of plain
 * ASCII as they are, runs of other words (non-ASCII, control characters, text that looks
 * like an encoded-word, or too long for a line) with the blanks between them as RFC 2047
 * encoded-words ("=?UTF-8?B?...?=", at most 75 characters each, never splitting a
 * character). Blanks between words become one space.
 */
void mime_field_text(struct mime_field *f, const char *s);

/*
 * Append a display name (RFC 5322 phrase) in UTF-8: words of atext as they are, a
 * quoted-string when it has other ASCII characters (",", ".", quotes), encoded-words when
 * it has non-ASCII or control characters.
 */
void mime_field_phrase(struct mime_field *f, const char *name);

/*
 * Append one mailbox, "Name <addr@example.org>" or "addr@example.org" as a user writes it
 * (mime_split_mailbox), with a ',' after it when comma is set (more follow). Returns 0, or
 * -1 with "\"MAILBOX\" is not a mail address" in err when mailbox has no usable address
 * (what was appended to the field is then garbage: the caller drops the message).
 */
int mime_field_mailbox(struct mime_field *f, const char *mailbox, int comma, char *err,
    size_t errlen);

/*
 * Append a parameter of a MIME field (RFC 2045 section 5.1) with a ';' after it when more
 * is set: attr="value" when value is printable ASCII without '"' and '\' and fits on a
 * line; otherwise in RFC 2231 form, attr*=UTF-8''value with the bytes outside RFC 2231's
 * attribute-char percent-encoded, in sections attr*0*=, attr*1*= ... when it does not fit on
 * one line (no section splits a UTF-8 character). attr is a short ASCII token.
 */
void mime_field_param(struct mime_field *f, const char *attr, const char *value, int more);

/*
 * Split "Name <addr@example.org>", "\"Name\" <addr>" or "addr@example.org" into a display
 * name (may be empty; quotes removed, \" and \\ unescaped) and an address, both replacing
 * what name and addr held. Returns 0, or -1 when there is no usable address: empty, or with
 * blanks, control or non-ASCII characters, '<', '>', ',' or '"' in it.
 */
int mime_split_mailbox(const char *s, struct buf *name, struct buf *addr);

/*
 * Append s as a dot-atom (either half of a Message-ID or Content-ID): characters outside
 * RFC 5322 atext become '-', dots stay where they separate atoms. domain limits it to
 * letters, digits, '-' and '.', which a host name and a cid: URL take as they are. fallback
 * when nothing is left.
 */
void mime_put_dot_atom(struct buf *b, const char *s, int domain, const char *fallback);

/* Append t (Unix seconds) as an RFC 5322 date in UTC: "Thu, 02 May 2024 12:00:03 +0000". */
void mime_put_date(struct buf *b, double t);

/*
 * Append n bytes of text with '\n' line ends as quoted-printable (RFC 2045 section 6.7):
 * CRLF line ends, lines of at most 76 characters with soft breaks, '=', control characters
 * (a CR too), bytes above 126 and blanks at the end of a line encoded. No CRLF after the
 * last line: the one before the next boundary belongs to the boundary.
 */
void mime_put_qp(struct buf *b, const char *s, size_t n);

/* ---- whole messages ----------------------------------------------------------------------- */

/* A body part sent in base64: an inline image of the HTML or an attachment. Borrowed. */
struct mime_part {
	const char *content_type;   /* "image/png", "text/csv; charset=utf-8": printable ASCII */
	const char *filename;       /* UTF-8; NULL for none (an attachment needs one) */
	const char *cid;            /* inline parts: the Content-ID without <>, what the HTML's
	                             * "cid:" URLs name (atext, '.' and '@'); attachments: NULL */
	const void *data;
	size_t len;
};

/* A header field mime_build writes as it is, after Auto-Submitted: "X-Reeve-Receiver". */
struct mime_header {
	const char *name;           /* printable ASCII without ':' or blanks */
	const char *value;          /* printable ASCII, already in its final form */
};

/*
 * A message for mime_build. Strings are UTF-8 and borrowed for the call. Mailboxes are
 * written as a user does ("Name <addr@example.org>" or "addr@example.org").
 */
struct mime_message {
	const char *from;
	const char *const *to;
	size_t nto;
	const char *const *cc;
	size_t ncc;                 /* no Cc field when 0; To and Cc together name someone */
	const char *subject;        /* control characters become blanks */
	const char *message_id_key; /* the Message-ID is <key@hostname>, the key a dot-atom
	                             * (mime_put_dot_atom); the MIME boundaries derive from it */
	const char *hostname;       /* NULL: "localhost" */
	double date;                /* Unix seconds */
	const char *text;           /* the text/plain body, '\n' line ends */
	const char *html;           /* the text/html body, or NULL for a text-only message */
	const struct mime_part *inline_parts;  /* images the HTML shows (multipart/related) */
	size_t ninline;
	const struct mime_part *attachments;
	size_t nattachments;
	const struct mime_header *headers;     /* more fields, after Auto-Submitted */
	size_t nheaders;
};

/*
 * Append m to out as a complete message: Date, From, To, Cc (when any), Subject,
 * Message-ID, Auto-Submitted: auto-generated (no vacation answers, RFC 3834), m->headers,
 * MIME-Version, then the body:
 *
 *   multipart/mixed                      only with attachments
 *     multipart/alternative              only with html
 *       text/plain                       quoted-printable UTF-8
 *       multipart/related                only with inline parts
 *         text/html                      quoted-printable UTF-8
 *         image/png ...                  base64, Content-ID, Content-Disposition: inline
 *     application/pdf ...                base64, Content-Disposition: attachment
 *
 * Part filenames are given with mime_field_param (RFC 2231 when not plain ASCII) in
 * Content-Disposition, and as plain ASCII (others as '_', at most MIME_FALLBACK_MAX
 * characters) in Content-Type's name for readers that know no RFC 2231. Boundaries begin
 * with "=_", which neither quoted-printable nor base64 can contain. Returns 0, or -1 with
 * a message in err (an address that is none, a part without a type) and out as it was.
 */
int mime_build(const struct mime_message *m, struct buf *out, char *err, size_t errlen);

/* ---- reading a message back --------------------------------------------------------------- */

/*
 * The unfolded value of the first header field called name (case-insensitive) of the n
 * bytes of msg, after its ':', into value (replacing what it held). Returns 1, or 0 when
 * the header block (up to the first empty line) has no such field.
 */
int mime_header_get(const void *msg, size_t n, const char *name, struct buf *value);

/* A list of addr-specs ("ops@example.org"), in order, each once. Owned by the list. */
struct mime_addresses {
	char **v;
	size_t n;
};

/* Add the n bytes of addr to a unless it is there already. */
void mime_addresses_add(struct mime_addresses *a, const char *addr, size_t n);
/* Free the addresses; a is then empty and reusable. */
void mime_addresses_free(struct mime_addresses *a);

/*
 * The addresses of the To and Cc fields of the n bytes of msg (its header block, up to the
 * first empty line), added to a. Continuation lines are unfolded; a list is split on
 * commas outside quoted strings, comments, <...> and [...]; of each mailbox the addr-spec
 * inside <...> is taken, or the bare address without its comments; a group's name
 * ("team: a, b;") is passed over. Nothing is decoded: display names are dropped. Returns
 * the number of To and Cc fields (0: the message has neither), or -1 with a message in err
 * ("Cc: \"x y\" is not a mail address") when a mailbox has no usable address.
 */
int mime_recipients(const void *msg, size_t n, struct mime_addresses *a, char *err,
    size_t errlen);

#endif /* REEVE_MIME_H */
