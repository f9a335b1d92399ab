/* url.c: checking a probe's target URL and making it fit to show (no credentials). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "url.h"

/* url_target: see url.h. */
char *
url_target(const char *url, char *err, size_t errlen)
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
