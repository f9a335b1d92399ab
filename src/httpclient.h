/* httpclient.h: what reeve's libcurl clients share: URLs fit to show, header lines, a capped answer body, messages without secrets. */
#ifndef REEVE_HTTPCLIENT_H
#define REEVE_HTTPCLIENT_H

#include <stddef.h>

#include <curl/curl.h>

/*
 * The users are the http and scrape probes (probes/http.c, probes/scrape.c) and the webhook
 * notifier (alerts/webhook.c). This file needs only libc and libcurl, so the probe modules,
 * which must not depend on the daemon, compile it in.
 */

/* Secrets shorter than this are not scrubbed from messages (they would match anything). */
#define HTTPCLIENT_SECRET_MIN 4

/*
 * Check url (http or https, with a host) and return a new string: the url as libcurl
 * normalises it, without user name, password, options and fragment, and without the query
 * unless keep_query, for labels and log lines. The caller frees it. NULL with a message in
 * err, which never repeats the url (it may hold credentials).
 */
char *httpclient_url_target(const char *url, int keep_query, char *err, size_t errlen);

/* 1 when name is a valid header name (RFC 9110 token characters), else 0. */
int httpclient_header_name_ok(const char *name);

/*
 * Append the header line "name: value" (vlen bytes of value; "name;" when empty, which
 * libcurl sends as an empty header) to *list. The value is a secret: it is never repeated
 * in err and its copies are wiped. Returns 0, or -1 with a message in err (a line break or
 * NUL byte in the value, out of memory); *list is unchanged then.
 */
int httpclient_add_header(struct curl_slist **list, const char *name, const char *value,
    size_t vlen, char *err, size_t errlen);

/*
 * An answer's body, kept up to max bytes. Set max and drop_excess, zero the rest; pass
 * httpclient_body_write as CURLOPT_WRITEFUNCTION and the struct as CURLOPT_WRITEDATA.
 */
struct httpclient_body {
	char *data;      /* len bytes then a NUL (malloc'd); NULL until a byte arrived */
	size_t len, cap;
	size_t max;      /* bytes kept at most */
	int drop_excess; /* beyond max: 1 drops the rest and the transfer goes on, 0 fails it */
	int over;        /* set when more than max bytes arrived */
};

/* Empty b for a new transfer; keeps its memory. */
void httpclient_body_reset(struct httpclient_body *b);
/* The CURLOPT_WRITEFUNCTION of a struct httpclient_body (arg). */
size_t httpclient_body_write(char *data, size_t size, size_t nmemb, void *arg);
/* Free b's memory; b is empty and reusable afterwards. */
void httpclient_body_free(struct httpclient_body *b);

/*
 * Replace each of the nsecrets secrets (of at least HTTPCLIENT_SECRET_MIN bytes) found in
 * the NUL-terminated msg (room for size bytes) with "<redacted>"; where there is no room
 * left, the message is cut where the secret began.
 */
void httpclient_scrub(char *msg, size_t size, char *const *secrets, size_t nsecrets);

#endif /* REEVE_HTTPCLIENT_H */
