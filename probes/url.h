/* url.h: checking a probe's target URL and making it fit to show (no credentials). */
#ifndef REEVE_PROBE_URL_H
#define REEVE_PROBE_URL_H

#include <stddef.h>

/*
 * Check url (http or https, with a host) and return a new string: the url as libcurl
 * normalises it, without user name, password, options and fragment, for labels and log
 * lines. The caller frees it. NULL with a message in err, which never repeats the url (it
 * may hold credentials).
 */
char *url_target(const char *url, char *err, size_t errlen);

#endif /* REEVE_PROBE_URL_H */
