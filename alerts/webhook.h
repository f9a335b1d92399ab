/* webhook.h: the webhook and alertmanager notifier types: JSON bodies and their HTTP transport. */
#ifndef REEVE_WEBHOOK_H
#define REEVE_WEBHOOK_H

#include <stddef.h>

#include "notify.h"

/*
 * notifier_webhook and notifier_alertmanager are declared in notify.h. The functions here
 * are the pieces of their transport that stand on their own (and are unit-tested).
 */

/* Bytes of an answer kept to describe it in notify_result.detail; the rest is dropped. */
#define WEBHOOK_MAX_ANSWER (64 * 1024)
/* The longest wait a Retry-After may ask for, in seconds (a longer one is cut to this). */
#define WEBHOOK_MAX_RETRY_AFTER 86400.0
/*
 * How a rendered PagerDuty body (format = pagerduty) begins: the routing key is put in
 * its place only when the message is sent, so the spool never holds it.
 */
#define WEBHOOK_PD_KEY_STANDIN "{\"routing_key\":\"(routing_key_file)\""
/* Room for "sha256=" and 64 hex digits and a NUL. */
#define WEBHOOK_SIG_SIZE 72

/*
 * The X-Webhook-Signature value of a body sent at Unix time ts: "sha256=" and the hex
 * HMAC-SHA256 of "<ts>.<body>" keyed with secret (docs/notifications.md). Writes out.
 */
void webhook_sign(const char *secret, long long ts, const unsigned char *body, size_t len,
    char out[WEBHOOK_SIG_SIZE]);

/*
 * The seconds a Retry-After header value asks to wait from now: a number of seconds or an
 * HTTP date, at most WEBHOOK_MAX_RETRY_AFTER, 0 for a date in the past. -1 when the value
 * is neither.
 */
double webhook_retry_after(const char *value, double now);

/*
 * How a POST ended: curl_rc is its CURLcode, status the HTTP status when curl_rc is 0.
 * 2xx: sent; 408, 429, 5xx and transport errors (refused, timeout, DNS, TLS, an answer
 * that is not HTTP): retry; any other status (3xx: redirects are not followed, 4xx) and a
 * URL curl cannot use: failed.
 */
enum notify_status webhook_classify(int curl_rc, long status);

/*
 * 1 when a [notifier] header.NAME may set the header NAME, 0 when the transport sets it
 * itself (Content-Type, Content-Length, Host, Idempotency-Key, the signature headers...) or
 * NAME is not a valid header name. config.c should reject the others at load; send fails
 * a message that has one.
 */
int webhook_header_allowed(const char *name);

/*
 * reeve's own JSON document of a notification, version 1 (docs/webhook-generic.schema.json):
 * the webhook format generic and the exec notifier's stdin. Appended to b.
 */
void webhook_generic_json(const struct notify_group *g, struct buf *b);

#endif /* REEVE_WEBHOOK_H */
