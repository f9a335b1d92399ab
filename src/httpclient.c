/* httpclient.c: what reeve's libcurl clients share: URLs fit to show, header lines, a capped answer body, messages without secrets. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "httpclient.h"

/* httpclient_url_target: see httpclient.h. */
char *
httpclient_url_target(const char *url, int keep_query, char *err, size_t errlen)
{
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL, *host = NULL, *out = NULL, *copy = NULL;

	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK) {
		snprintf(err, errlen, "not a valid URL: %s", curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		snprintf(err, errlen, "only http:// and https:// URLs are supported");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(err, errlen, "the URL has no host");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    (!keep_query && curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK) ||
	    curl_url_get(u, CURLUPART_URL, &copy, 0) != CURLUE_OK) {
		snprintf(err, errlen, "cannot rebuild the URL without its credentials");
		goto out;
	}
	if ((out = strdup(copy)) == NULL)
		snprintf(err, errlen, "out of memory");
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(copy);
	curl_url_cleanup(u);
	return out;
}

/* httpclient_header_name_ok: see httpclient.h. */
int
httpclient_header_name_ok(const char *name)
{
	if (*name == '\0')
		return 0;
	for (; *name != '\0'; name++)
		if (!isalnum((unsigned char)*name) && strchr("!#$%&'*+-.^_`|~", *name) == NULL)
			return 0;
	return 1;
}

/* httpclient_add_header: see httpclient.h. */
int
httpclient_add_header(struct curl_slist **list, const char *name, const char *value,
    size_t vlen, char *err, size_t errlen)
{
	struct curl_slist *l;
	size_t i, n;
	char *line;

	for (i = 0; i < vlen; i++)
		if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0') {
			snprintf(err, errlen, "the value of header %s holds a line break or a NUL "
			    "byte", name);
			return -1;
		}
	n = strlen(name) + vlen + 3;
	if ((line = malloc(n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* "Name;" sends an empty header, "Name:" would remove it */
	if (vlen == 0)
		snprintf(line, n, "%s;", name);
	else
		snprintf(line, n, "%s: %.*s", name, (int)vlen, value);
	l = curl_slist_append(*list, line);
	explicit_bzero(line, n);
	free(line);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*list = l;
	return 0;
}

/* httpclient_body_reset: see httpclient.h. */
void
httpclient_body_reset(struct httpclient_body *b)
{
	b->len = 0;
	b->over = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* httpclient_body_write: see httpclient.h. */
size_t
httpclient_body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct httpclient_body *b = arg;
	size_t n = size * nmemb, keep = n, cap;
	char *nb;

	if (n > b->max - b->len) {
		b->over = 1;
		if (!b->drop_excess)
			return 0;	/* aborts the transfer with CURLE_WRITE_ERROR */
		keep = b->max - b->len;
	}
	if (keep == 0)
		return n;
	if (b->len + keep + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + keep + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		if ((nb = realloc(b->data, cap)) == NULL)
			return 0;
		b->data = nb;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, keep);
	b->len += keep;
	b->data[b->len] = '\0';
	return n;
}

/* httpclient_body_free: see httpclient.h. */
void
httpclient_body_free(struct httpclient_body *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->over = 0;
}

/* httpclient_scrub: see httpclient.h. */
void
httpclient_scrub(char *msg, size_t size, char *const *secrets, size_t nsecrets)
{
	static const char red[] = "<redacted>";
	size_t i, slen, mlen, rlen = sizeof(red) - 1;
	char *p, *from;

	for (i = 0; i < nsecrets; i++) {
		if (secrets[i] == NULL || (slen = strlen(secrets[i])) < HTTPCLIENT_SECRET_MIN)
			continue;
		/* search on after each replacement: a secret may occur in "<redacted>" */
		for (from = msg; (p = strstr(from, secrets[i])) != NULL; from = p + rlen) {
			mlen = strlen(msg);
			if (mlen - slen + rlen >= size) {
				/* no room to expand: cut the message where the secret began */
				*p = '\0';
				break;
			}
			memmove(p + rlen, p + slen, mlen - (size_t)(p - msg) - slen + 1);
			memcpy(p, red, rlen);
		}
	}
}

/* ---- networks a client may reach ---------------------------------------------------------- */

void
httpclient_nets_free(struct httpclient_nets *n)
{
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

/* One entry "addr[/bits]" (len bytes). 0, or -1. */
static int
net_parse(const char *s, size_t len, struct httpclient_net *out)
{
	char text[64], *slash;
	struct in_addr a4;
	unsigned long bits;
	unsigned max;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	if ((slash = strchr(text, '/')) != NULL)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &a4) == 1) {
		out->addr[10] = out->addr[11] = 0xff;
		memcpy(out->addr + 12, &a4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, text, out->addr) == 1) {
		max = 128;
	} else {
		return -1;
	}
	bits = max;
	if (slash != NULL) {
		char *end;

		if (!isdigit((unsigned char)slash[1]))
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || bits > max)
			return -1;
	}
	out->bits = (unsigned)bits + (max == 32 ? 96 : 0);
	return 0;
}

int
httpclient_nets_parse(const char *text, struct httpclient_nets *out, char *err, size_t errlen)
{
	const char *p = text;

	out->v = NULL;
	out->n = 0;
	if (text == NULL || strcmp(text, "none") == 0)
		return 0;
	for (;;) {
		size_t len;
		void *v;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			return 0;
		len = strcspn(p, ", \t\r\n");
		if ((v = realloc(out->v, (out->n + 1) * sizeof(*out->v))) == NULL) {
			snprintf(err, errlen, "out of memory");
			httpclient_nets_free(out);
			return -1;
		}
		out->v = v;
		if (net_parse(p, len, &out->v[out->n]) == -1) {
			snprintf(err, errlen, "\"%.*s\" is not a network (an IPv4 or IPv6 address, "
			    "optionally with /prefix-length: 10.0.0.0/8, fd00::/8)", (int)(len < 64 ?
			    len : 64), p);
			httpclient_nets_free(out);
			return -1;
		}
		out->n++;
		p += len;
	}
}

/* The address of sa as IPv6 (IPv4 mapped), 0; -1 for another family. */
static int
as_v6(const struct sockaddr *sa, unsigned char a[16])
{
	if (sa->sa_family == AF_INET) {
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

int
httpclient_nets_match(const struct httpclient_nets *n, const struct sockaddr *sa)
{
	unsigned char a[16];

	if (as_v6(sa, a) == -1)
		return 0;
	for (size_t i = 0; i < n->n; i++) {
		const struct httpclient_net *e = &n->v[i];
		unsigned full = e->bits / 8, rest = e->bits % 8;

		if (memcmp(a, e->addr, full) != 0)
			continue;
		if (rest == 0 || ((a[full] ^ e->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0)
			return 1;
	}
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: open the socket only to an address the guard allows. */
static curl_socket_t
guard_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct httpclient_guard *g = arg;
	const struct sockaddr *sa = &a->addr;

	if (purpose == CURLSOCKTYPE_IPCXN &&
	    ((g->allow != NULL && g->allow->n > 0 && !httpclient_nets_match(g->allow, sa)) ||
	    (g->deny != NULL && httpclient_nets_match(g->deny, sa)))) {
		const void *in = sa->sa_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (inet_ntop(sa->sa_family, in, g->denied, sizeof(g->denied)) == NULL)
			snprintf(g->denied, sizeof(g->denied), "?");
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

int
httpclient_guard_set(CURL *h, struct httpclient_guard *g)
{
	g->denied[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, guard_open) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, g) != CURLE_OK)
		return -1;
	return 0;
}
