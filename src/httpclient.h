/* httpclient.h: what reeve's libcurl clients share: URLs fit to show, header lines, a capped answer body, messages without secrets. */
#ifndef REEVE_HTTPCLIENT_H
#define REEVE_HTTPCLIENT_H

#include <stddef.h>

#include <sys/socket.h>

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

/*
 * Networks a client may or may not connect to. Each entry is an address with a prefix
 * length; IPv4 entries are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d), so an IPv4 address
 * reached through a mapped IPv6 socket address matches them too.
 */
struct httpclient_net {
	unsigned char addr[16];
	unsigned bits;
};
struct httpclient_nets {
	struct httpclient_net *v;
	size_t n;
};

/* What webhooks may never reach unless allowed: link-local (cloud metadata) addresses. */
#define HTTPCLIENT_DENY_DEFAULT "169.254.0.0/16, fe80::/10, 100.100.100.200, fd00:ec2::254"

/*
 * Parse a comma- or space-separated list of networks ("10.0.0.0/8, 192.0.2.7, fd00::/8");
 * "none" or an empty text is the empty list. Returns 0, or -1 with a message naming the
 * entry in err (out is then empty).
 */
int httpclient_nets_parse(const char *text, struct httpclient_nets *out, char *err,
    size_t errlen);
void httpclient_nets_free(struct httpclient_nets *n);

/* 1 when the address (AF_INET or AF_INET6) lies in one of the networks. */
int httpclient_nets_match(const struct httpclient_nets *n, const struct sockaddr *sa);

/*
 * The guard on a transfer's connections: each address a connection is about to be opened
 * to (after name resolution, for every address tried) must lie in allow (when allow has
 * entries) and not in deny. Set with httpclient_guard_set before the transfer; after a
 * failed transfer, denied holds the last address refused ("" when none was).
 */
struct httpclient_guard {
	const struct httpclient_nets *allow, *deny;
	char denied[48];
};
int httpclient_guard_set(CURL *h, struct httpclient_guard *g);

#endif /* REEVE_HTTPCLIENT_H */
