/* webhook.c: the webhook (generic, slack, alertmanager, pagerduty bodies) and alertmanager notifier types, over one HTTP POST transport. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "httpclient.h"
#include "notify.h"
#include "util.h"
#include "webhook.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

#define WEBHOOK_ZERO_TIME "0001-01-01T00:00:00Z"	/* Go's zero time: "not resolved" */
#define WEBHOOK_DEFAULT_TIMEOUT 30.0
#define WEBHOOK_MAX_LINE 200		/* bytes of an answer's first line in a detail */
#define SLACK_MAX_ALERTS 45		/* sections of one message: Slack takes 50 blocks */
#define SLACK_MAX_SECTION 2990		/* bytes of a section's text: Slack takes 3000 chars */
#define SLACK_MAX_HEADER 150		/* bytes of a header's text: Slack takes 150 chars */
#define PD_MAX_SUMMARY 1024		/* bytes of payload.summary: PagerDuty takes 1024 chars */
#define PD_MAX_ALERTS 100		/* alerts listed in custom_details (events <= 512 KB) */
#define AM_ALERTS_PATH "/api/v2/alerts"

/* ---- JSON pieces -------------------------------------------------------------------------- */

/* labels (or annotations) as a JSON object, in their order */
static void
put_labels(struct buf *b, const struct reeve_label *l, size_t n)
{
	size_t i;

	buf_putc(b, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_json_string(b, l[i].name);
		buf_putc(b, ':');
		buf_json_string(b, l[i].value);
	}
	buf_putc(b, '}');
}

static void
put_time(struct buf *b, double t)
{
	char s[48];

	buf_json_string(b, util_fmt_rfc3339(s, sizeof(s), t));
}

/* s as a JSON string, or null for NULL */
static void
put_string_or_null(struct buf *b, const char *s)
{
	if (s != NULL)
		buf_json_string(b, s);
	else
		buf_puts(b, "null");
}

/* v as a JSON number, or null when it is not finite (JSON has no NaN or Inf) */
static void
put_value(struct buf *b, double v)
{
	char s[40];

	if (isfinite(v))
		buf_puts(b, util_fmt_double(s, sizeof(s), v));
	else
		buf_puts(b, "null");
}

/* The labels (annotations if ann) of an alert. */
static const struct reeve_label *
alert_pairs(const struct notify_alert *a, int ann, size_t *n)
{
	*n = ann ? a->nannotations : a->nlabels;
	return ann ? a->annotations : a->labels;
}

/* The value of a's label (annotation if ann) name, or NULL. */
static const char *
alert_get(const struct notify_alert *a, int ann, const char *name)
{
	const struct reeve_label *l;
	size_t i, n;

	l = alert_pairs(a, ann, &n);
	for (i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return NULL;
}

/*
 * The labels (annotations if ann) every alert of g has with the same value, as a JSON
 * object: Alertmanager's commonLabels and commonAnnotations.
 */
static void
put_common(struct buf *b, const struct notify_group *g, int ann)
{
	const struct reeve_label *l;
	const char *v;
	size_t i, j, n;
	int first = 1;

	buf_putc(b, '{');
	l = g->nalerts > 0 ? alert_pairs(&g->alerts[0], ann, &n) : NULL;
	for (i = 0; l != NULL && i < n; i++) {
		for (j = 1; j < g->nalerts; j++)
			if ((v = alert_get(&g->alerts[j], ann, l[i].name)) == NULL ||
			    strcmp(v, l[i].value) != 0)
				break;
		if (j < g->nalerts)
			continue;
		if (!first)
			buf_putc(b, ',');
		first = 0;
		buf_json_string(b, l[i].name);
		buf_putc(b, ':');
		buf_json_string(b, l[i].value);
	}
	buf_putc(b, '}');
}

/*
 * The link to an alert in reeve (its history) into out, or 0 without [http] external_url.
 * Returns 1 when there is one.
 */
static int
generator_url(const struct notify_group *g, const struct notify_alert *a, struct buf *out)
{
	const char *name = alert_get(a, 0, "alertname"), *p;
	size_t n;

	if (g->external_url == NULL || g->external_url[0] == '\0')
		return 0;
	n = strlen(g->external_url);
	while (n > 0 && g->external_url[n - 1] == '/')
		n--;
	buf_append(out, g->external_url, n);
	buf_puts(out, "/api/v1/alerts/history");
	if (name == NULL)
		return 1;
	buf_puts(out, "?rule=");
	for (p = name; *p != '\0'; p++)
		if (isalnum((unsigned char)*p) || strchr("-._~", *p) != NULL)
			buf_putc(out, *p);
		else
			buf_printf(out, "%%%02X", (unsigned char)*p);
	return 1;
}

/* The group's status: firing while any of its alerts fires. */
static const char *
group_status(const struct notify_group *g)
{
	return g->nfiring > 0 ? "firing" : "resolved";
}

/*
 * Cut t to at most max bytes (max > 3) with "…" at the end when it is longer, never inside
 * a UTF-8 sequence nor, when entities, inside an "&amp;"-style entity.
 */
static void
cut_text(struct buf *t, size_t max, int entities)
{
	size_t pos, i;

	if (t->len <= max)
		return;
	pos = max - 3;	/* room for the ellipsis */
	while (pos > 0 && ((unsigned char)t->data[pos] & 0xc0) == 0x80)
		pos--;
	/* an entity is at most 5 bytes ("&amp;"): look back that far for an open one */
	for (i = pos; entities && i > 0 && i + 5 > pos; i--) {
		if (t->data[i - 1] == ';')
			break;
		if (t->data[i - 1] == '&') {
			pos = i - 1;
			break;
		}
	}
	t->len = pos;
	t->data[pos] = '\0';
	buf_puts(t, "\xe2\x80\xa6");
}

/* "[TEST] [FIRING:2] v1 v2" (the group labels' values), or the first alert's name. */
static void
put_title(struct buf *t, const struct notify_group *g)
{
	const char *name;
	size_t i;

	if (g->test)
		buf_puts(t, "[TEST] ");
	if (g->nfiring > 0)
		buf_printf(t, "[FIRING:%zu]", g->nfiring);
	else
		buf_puts(t, "[RESOLVED]");
	for (i = 0; i < g->ngroup_labels; i++)
		buf_printf(t, " %s", g->group_labels[i].value);
	if (g->ngroup_labels == 0 && g->nalerts > 0 &&
	    (name = alert_get(&g->alerts[0], 0, "alertname")) != NULL)
		buf_printf(t, " %s", name);
}

/* ---- format generic ----------------------------------------------------------------------- */

/* What the generic and Alertmanager formats share: a group's label objects. */
static void
put_group_labels(struct buf *b, const struct notify_group *g)
{
	buf_puts(b, ",\"groupLabels\":");
	put_labels(b, g->group_labels, g->ngroup_labels);
	buf_puts(b, ",\"commonLabels\":");
	put_common(b, g, 0);
	buf_puts(b, ",\"commonAnnotations\":");
	put_common(b, g, 1);
}

/*
 * ... and an alert's first fields, status to endsAt, opening its object (the i-th of the
 * list); firing_end is the JSON a firing alert's endsAt holds.
 */
static void
put_alert_head(struct buf *b, const struct notify_alert *a, size_t i, const char *firing_end)
{
	buf_puts(b, i > 0 ? ",{\"status\":" : "{\"status\":");
	buf_json_string(b, a->firing ? "firing" : "resolved");
	buf_puts(b, ",\"labels\":");
	put_labels(b, a->labels, a->nlabels);
	buf_puts(b, ",\"annotations\":");
	put_labels(b, a->annotations, a->nannotations);
	buf_puts(b, ",\"startsAt\":");
	put_time(b, a->starts_at);
	buf_puts(b, ",\"endsAt\":");
	if (a->firing)
		buf_puts(b, firing_end);
	else
		put_time(b, a->ends_at);
}

void
webhook_generic_json(const struct notify_group *g, struct buf *b)
{
	struct buf url = { 0 };
	size_t i;

	buf_puts(b, "{\"version\":\"1\",\"receiver\":");
	buf_json_string(b, g->receiver);
	buf_puts(b, ",\"status\":");
	buf_json_string(b, group_status(g));
	buf_puts(b, ",\"groupKey\":");
	buf_json_string(b, g->group_key);
	put_group_labels(b, g);
	buf_puts(b, ",\"externalURL\":");
	put_string_or_null(b, g->external_url);
	buf_puts(b, ",\"alerts\":[");
	for (i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];

		put_alert_head(b, a, i, "null");
		buf_puts(b, ",\"value\":");
		put_value(b, a->value);
		buf_puts(b, ",\"fingerprint\":");
		buf_json_string(b, a->fingerprint);
		buf_puts(b, ",\"generatorURL\":");
		buf_reset(&url);
		put_string_or_null(b, generator_url(g, a, &url) ? url.data : NULL);
		buf_putc(b, '}');
	}
	buf_printf(b, "],\"firing\":%zu,\"resolved\":%zu,\"time\":", g->nfiring, g->nresolved);
	put_time(b, g->time);
	buf_printf(b, ",\"test\":%s}", g->test ? "true" : "false");
	buf_free(&url);
}

/* ---- format alertmanager (webhook payload version 4) --------------------------------------- */

static void
render_am_webhook(const struct notify_group *g, struct buf *b)
{
	struct buf url = { 0 };
	size_t i;

	buf_puts(b, "{\"version\":\"4\",\"groupKey\":");
	buf_json_string(b, g->group_key);
	buf_puts(b, ",\"truncatedAlerts\":0,\"status\":");
	buf_json_string(b, group_status(g));
	buf_puts(b, ",\"receiver\":");
	buf_json_string(b, g->receiver);
	put_group_labels(b, g);
	buf_puts(b, ",\"externalURL\":");
	buf_json_string(b, g->external_url != NULL ? g->external_url : "");
	buf_puts(b, ",\"alerts\":[");
	for (i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];

		put_alert_head(b, a, i, "\"" WEBHOOK_ZERO_TIME "\"");
		buf_puts(b, ",\"generatorURL\":");
		buf_reset(&url);
		buf_json_string(b, generator_url(g, a, &url) ? url.data : "");
		buf_puts(b, ",\"fingerprint\":");
		buf_json_string(b, a->fingerprint);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
	buf_free(&url);
}

/* ---- format slack ------------------------------------------------------------------------- */

/* s for Slack mrkdwn: &, < and > as entities, so alert text cannot make <!channel> */
static void
slack_escape(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '&')
			buf_puts(out, "&amp;");
		else if (*s == '<')
			buf_puts(out, "&lt;");
		else if (*s == '>')
			buf_puts(out, "&gt;");
		else
			buf_putc(out, *s);
}

/* One alert as a section's mrkdwn text into t. */
static void
slack_alert(struct buf *t, const struct notify_group *g, const struct notify_alert *a)
{
	const char *name = alert_get(a, 0, "alertname");
	struct buf url = { 0 };
	char ts[48], v[40];
	size_t i;
	int first = 1;

	buf_puts(t, a->firing ? ":fire: *FIRING* " : ":white_check_mark: *RESOLVED* ");
	if (name != NULL) {
		buf_putc(t, '*');
		slack_escape(t, name);
		buf_putc(t, '*');
	}
	for (i = 0; i < a->nlabels; i++) {
		if (strcmp(a->labels[i].name, "alertname") == 0)
			continue;
		buf_puts(t, first ? "\n" : ", ");
		first = 0;
		slack_escape(t, a->labels[i].name);
		buf_putc(t, '=');
		slack_escape(t, a->labels[i].value);
	}
	for (i = 0; i < a->nannotations; i++) {
		buf_puts(t, "\n*");
		slack_escape(t, a->annotations[i].name);
		buf_puts(t, ":* ");
		slack_escape(t, a->annotations[i].value);
	}
	if (a->firing) {
		buf_printf(t, "\nSince %s", util_fmt_rfc3339(ts, sizeof(ts), a->starts_at));
		if (isfinite(a->value))
			buf_printf(t, ", value %s", util_fmt_double(v, sizeof(v), a->value));
	} else
		buf_printf(t, "\nResolved %s", util_fmt_rfc3339(ts, sizeof(ts), a->ends_at));
	if (generator_url(g, a, &url)) {
		/* a link's URL ends at '|' or '>': those are percent-encoded */
		buf_puts(t, "\n<");
		for (i = 0; i < url.len; i++)
			if (url.data[i] == '|' || url.data[i] == '<' || url.data[i] == '>' ||
			    url.data[i] == '&')
				buf_printf(t, "%%%02X", (unsigned char)url.data[i]);
			else
				buf_putc(t, url.data[i]);
		buf_puts(t, "|History in reeve>");
	}
	buf_free(&url);
}

/* A Slack incoming-webhook message: text (the notification's fallback) and blocks. */
static void
render_slack(const struct notify_group *g, struct buf *b)
{
	struct buf title = { 0 }, t = { 0 };
	size_t i, shown = g->nalerts < SLACK_MAX_ALERTS ? g->nalerts : SLACK_MAX_ALERTS;

	put_title(&title, g);
	slack_escape(&t, g->nfiring > 0 ? ":fire: " : ":white_check_mark: ");
	slack_escape(&t, title.data);
	cut_text(&t, SLACK_MAX_SECTION, 1);
	buf_puts(b, "{\"text\":");
	buf_json_string(b, t.data);
	/* a header is plain text: nothing in it is markup */
	buf_reset(&t);
	buf_puts(&t, g->nfiring > 0 ? ":fire: " : ":white_check_mark: ");
	buf_puts(&t, title.data);
	cut_text(&t, SLACK_MAX_HEADER, 0);
	buf_puts(b, ",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
	    "\"emoji\":true,\"text\":");
	buf_json_string(b, t.data);
	buf_puts(b, "}}");
	for (i = 0; i < shown; i++) {
		buf_reset(&t);
		slack_alert(&t, g, &g->alerts[i]);
		cut_text(&t, SLACK_MAX_SECTION, 1);
		buf_puts(b, ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
		buf_json_string(b, t.data);
		buf_puts(b, "}}");
	}
	buf_reset(&t);
	if (shown < g->nalerts)
		buf_printf(&t, "and %zu more alerts (%zu firing, %zu resolved in all)",
		    g->nalerts - shown, g->nfiring, g->nresolved);
	if (g->test)
		buf_printf(&t, "%sA test message from reeve notify test.", t.len ? "\n" : "");
	if (t.len > 0) {
		buf_puts(b, ",{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":");
		buf_json_string(b, t.data);
		buf_puts(b, "}]}");
	}
	buf_puts(b, "]}");
	buf_free(&title);
	buf_free(&t);
}

/* ---- format pagerduty (Events API v2) ----------------------------------------------------- */

/* reeve severity -> PagerDuty's: critical, error, warning, info; others are warning. */
static int
pd_rank(const char *severity)
{
	static const char *const names[] = { "info", "warning", "error", "critical" };
	int i;

	for (i = 0; severity != NULL && i < 4; i++)
		if (strcmp(severity, names[i]) == 0)
			return i;
	return 1;
}

static const char *
pd_severity(const struct notify_group *g)
{
	static const char *const names[] = { "info", "warning", "error", "critical" };
	size_t i;
	int r, best = -1;

	for (i = 0; i < g->nalerts; i++)
		if (g->alerts[i].firing &&
		    (r = pd_rank(alert_get(&g->alerts[i], 0, "severity"))) > best)
			best = r;
	return names[best < 0 ? 1 : best];
}

/*
 * One event for the group: trigger while an alert fires, resolve once all resolved;
 * dedup_key ties both to the group. The routing key is a stand-in (WEBHOOK_PD_KEY_STANDIN)
 * that webhook_send replaces: a rendered body is what the spool keeps, and the key must
 * not lie in the spool, in a dead letter, or stay the old one after it was rotated.
 */
static void
render_pagerduty(const struct notify_group *g, struct buf *b)
{
	struct buf t = { 0 }, url = { 0 };
	size_t i, shown = g->nalerts < PD_MAX_ALERTS ? g->nalerts : PD_MAX_ALERTS;

	buf_puts(b, WEBHOOK_PD_KEY_STANDIN);
	buf_puts(b, ",\"event_action\":");
	buf_json_string(b, g->nfiring > 0 ? "trigger" : "resolve");
	buf_printf(b, ",\"dedup_key\":\"reeve-%016llx\"",
	    util_hash(g->group_key, strlen(g->group_key)));
	if (g->nfiring == 0) {
		/* resolve takes no payload */
		buf_putc(b, '}');
		return;
	}
	put_title(&t, g);
	cut_text(&t, PD_MAX_SUMMARY, 0);
	buf_puts(b, ",\"payload\":{\"summary\":");
	buf_json_string(b, t.data);
	buf_puts(b, ",\"source\":");
	buf_json_string(b, g->hostname != NULL && g->hostname[0] != '\0' ? g->hostname : "reeve");
	buf_puts(b, ",\"severity\":");
	buf_json_string(b, pd_severity(g));
	buf_puts(b, ",\"timestamp\":");
	put_time(b, g->time);
	buf_puts(b, ",\"custom_details\":{\"receiver\":");
	buf_json_string(b, g->receiver);
	buf_puts(b, ",\"groupKey\":");
	buf_json_string(b, g->group_key);
	buf_printf(b, ",\"firing\":%zu,\"resolved\":%zu,\"test\":%s,\"groupLabels\":", g->nfiring,
	    g->nresolved, g->test ? "true" : "false");
	put_labels(b, g->group_labels, g->ngroup_labels);
	buf_puts(b, ",\"commonLabels\":");
	put_common(b, g, 0);
	buf_puts(b, ",\"commonAnnotations\":");
	put_common(b, g, 1);
	buf_puts(b, ",\"alerts\":[");
	for (i = 0; i < shown; i++) {
		const struct notify_alert *a = &g->alerts[i];

		buf_puts(b, i > 0 ? ",{\"status\":" : "{\"status\":");
		buf_json_string(b, a->firing ? "firing" : "resolved");
		buf_puts(b, ",\"labels\":");
		put_labels(b, a->labels, a->nlabels);
		buf_puts(b, ",\"annotations\":");
		put_labels(b, a->annotations, a->nannotations);
		buf_puts(b, ",\"startsAt\":");
		put_time(b, a->starts_at);
		if (!a->firing) {
			buf_puts(b, ",\"endsAt\":");
			put_time(b, a->ends_at);
		}
		buf_puts(b, ",\"value\":");
		put_value(b, a->value);
		buf_puts(b, ",\"fingerprint\":");
		buf_json_string(b, a->fingerprint);
		buf_putc(b, '}');
	}
	buf_printf(b, "],\"truncatedAlerts\":%zu}},\"client\":\"reeve\"", g->nalerts - shown);
	if (g->external_url != NULL && g->external_url[0] != '\0') {
		buf_puts(b, ",\"client_url\":");
		buf_json_string(b, g->external_url);
	}
	buf_puts(b, ",\"links\":[");
	if (generator_url(g, &g->alerts[0], &url)) {
		buf_puts(b, "{\"href\":");
		buf_json_string(b, url.data);
		buf_puts(b, ",\"text\":\"Alert history in reeve\"}");
	}
	buf_puts(b, "]}");
	buf_free(&t);
	buf_free(&url);
}

/* ---- type alertmanager: Alertmanager API v2 (POST /api/v2/alerts) ------------------------- */

/*
 * The group's alerts as postable alerts. A firing alert has no endsAt: Alertmanager then
 * resolves it resolve_timeout (default 5m) after it last heard of it, so a crashed reeve
 * does not leave it firing for ever; routes to an alertmanager notifier re-send firing
 * alerts (repeat_interval) more often than that (docs/notifications.md). A resolved
 * alert's endsAt is when it resolved.
 */
static void
render_am_alerts(const struct notify_group *g, struct buf *b)
{
	struct buf url = { 0 };
	size_t i;

	buf_putc(b, '[');
	for (i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];

		buf_puts(b, i > 0 ? ",{\"labels\":" : "{\"labels\":");
		put_labels(b, a->labels, a->nlabels);
		buf_puts(b, ",\"annotations\":");
		put_labels(b, a->annotations, a->nannotations);
		buf_puts(b, ",\"startsAt\":");
		put_time(b, a->starts_at);
		if (!a->firing) {
			buf_puts(b, ",\"endsAt\":");
			put_time(b, a->ends_at);
		}
		buf_reset(&url);
		if (generator_url(g, a, &url)) {
			buf_puts(b, ",\"generatorURL\":");
			buf_json_string(b, url.data);
		}
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
	buf_free(&url);
}

/* ---- transport ---------------------------------------------------------------------------- */

/* webhook_sign: see webhook.h. */
void
webhook_sign(const char *secret, long long ts, const unsigned char *body, size_t len,
    char out[WEBHOOK_SIG_SIZE])
{
	unsigned char mac[EVP_MAX_MD_SIZE], *msg;
	unsigned int maclen = 0, i;
	char tss[32];
	size_t tl;

	tl = (size_t)snprintf(tss, sizeof(tss), "%lld", ts);
	msg = xmalloc(tl + 1 + len);
	memcpy(msg, tss, tl);
	msg[tl] = '.';
	if (len > 0)
		memcpy(msg + tl + 1, body, len);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, tl + 1 + len, mac, &maclen);
	free(msg);
	memcpy(out, "sha256=", 7);
	for (i = 0; i < maclen && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
	out[7 + 2 * i] = '\0';
	explicit_bzero(mac, sizeof(mac));
}

/* webhook_retry_after: see webhook.h. */
double
webhook_retry_after(const char *value, double now)
{
	const char *p;
	double secs;
	time_t t;

	while (*value == ' ' || *value == '\t')
		value++;
	for (p = value; *p >= '0' && *p <= '9'; p++)
		;
	if (p > value && strspn(p, " \t") == strlen(p)) {
		/* delay-seconds: digits only; a long run is just a long wait */
		secs = p - value > 9 ? WEBHOOK_MAX_RETRY_AFTER : strtod(value, NULL);
	} else {
		if ((t = curl_getdate(value, NULL)) == -1)
			return -1;
		secs = (double)t - now;
	}
	if (secs < 0)
		secs = 0;
	return secs > WEBHOOK_MAX_RETRY_AFTER ? WEBHOOK_MAX_RETRY_AFTER : secs;
}

/* webhook_classify: see webhook.h. */
enum notify_status
webhook_classify(int curl_rc, long status)
{
	/*
	 * Only a URL curl cannot use is hopeless. The scheme was checked before the transfer,
	 * so CURLE_UNSUPPORTED_PROTOCOL here is a server that answered something other than
	 * HTTP ("Received HTTP/0.9"): a proxy or a port in a bad moment, worth retrying.
	 */
	if (curl_rc != CURLE_OK)
		return curl_rc == CURLE_URL_MALFORMAT ? NOTIFY_FAILED : NOTIFY_RETRY;
	if (status >= 200 && status <= 299)
		return NOTIFY_SENT;
	if (status == 408 || status == 429 || (status >= 500 && status <= 599))
		return NOTIFY_RETRY;
	return NOTIFY_FAILED;
}

/* webhook_header_allowed: see webhook.h. */
int
webhook_header_allowed(const char *name)
{
	static const char *const reserved[] = {
		"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding",
		"Host", "Connection", "Expect", "Idempotency-Key", "X-Webhook-Timestamp",
		"X-Webhook-Signature", NULL
	};
	size_t i;

	if (!httpclient_header_name_ok(name))
		return 0;
	for (i = 0; reserved[i] != NULL; i++)
		if (strcasecmp(name, reserved[i]) == 0)
			return 0;
	return 1;
}

/*
 * The first line of an answer for a detail: at most WEBHOOK_MAX_LINE bytes (not cutting a
 * UTF-8 sequence), control characters removed. Into out (room for size bytes).
 */
static void
first_line(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0, max = size - 1 < WEBHOOK_MAX_LINE ? size - 1 : WEBHOOK_MAX_LINE;

	for (i = 0; i < len && s[i] != '\n' && s[i] != '\r' && o < max; i++)
		if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
			out[o++] = s[i];
	if (i < len && ((unsigned char)s[i] & 0xc0) == 0x80) {
		/* cut inside a UTF-8 sequence: drop its first bytes */
		while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
			o--;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* What must never show in a detail: the notifier's secrets and the URL's credentials. */
struct secrets {
	char *s[16];
	size_t n;
	char *curl[6];	/* curl_free()d */
	size_t ncurl;
};

static void
secrets_collect(struct secrets *sc, const struct cfg_notifier *n, const char *url)
{
	static const CURLUPart parts[] = { CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_QUERY };
	CURLU *u;
	char *v;
	size_t i, k;

	memset(sc, 0, sizeof(*sc));
	if (n->secret != NULL)
		sc->s[sc->n++] = n->secret;
	if (n->routing_key != NULL)
		sc->s[sc->n++] = n->routing_key;
	if ((u = curl_url()) == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return;
	}
	for (i = 0; i < 3; i++)
		for (k = 0; k < 2; k++)
			if (curl_url_get(u, parts[i], &v, k ? CURLU_URLDECODE : 0) == CURLUE_OK) {
				sc->curl[sc->ncurl++] = v;
				sc->s[sc->n++] = v;
			}
	curl_url_cleanup(u);
}

static void
secrets_free(struct secrets *sc)
{
	size_t i;

	for (i = 0; i < sc->ncurl; i++)
		curl_free(sc->curl[i]);
}

/* Scrub msg of the secrets and of every header value. */
static void
scrub_all(char *msg, size_t size, struct secrets *sc, const struct cfg_notifier *n)
{
	size_t i;

	httpclient_scrub(msg, size, sc->s, sc->n);
	for (i = 0; i < n->nheaders; i++)
		httpclient_scrub(msg, size, &n->headers[i].value, 1);
}

static void
free_headers(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/*
 * The request's headers into *list: ours, then the notifier's, then the signature when it
 * has a secret. Returns 0, or -1 with a message (never a value) in err.
 */
static int
build_headers(const struct cfg_notifier *n, const char *key, const unsigned char *body,
    size_t len, struct curl_slist **list, char *err, size_t errlen)
{
	char sig[WEBHOOK_SIG_SIZE], ts[32];
	struct curl_slist *l;
	long long now;
	size_t i;

	if (httpclient_add_header(list, "Content-Type", "application/json", 16, err,
	    errlen) == -1 ||
	    httpclient_add_header(list, "Idempotency-Key", key, strlen(key), err, errlen) == -1)
		return -1;
	/* "Expect:" removes libcurl's "Expect: 100-continue" (a round trip for a large body) */
	if ((l = curl_slist_append(*list, "Expect:")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*list = l;
	for (i = 0; i < n->nheaders; i++) {
		const struct cfg_kv *h = &n->headers[i];

		if (!webhook_header_allowed(h->key)) {
			snprintf(err, errlen, "header.%s: reeve sets this header itself", h->key);
			return -1;
		}
		if (httpclient_add_header(list, h->key, h->value, strlen(h->value), err,
		    errlen) == -1)
			return -1;
	}
	if (n->secret != NULL) {
		now = (long long)time(NULL);
		webhook_sign(n->secret, now, body, len, sig);
		snprintf(ts, sizeof(ts), "%lld", now);
		if (httpclient_add_header(list, "X-Webhook-Timestamp", ts, strlen(ts), err,
		    errlen) == -1 ||
		    httpclient_add_header(list, "X-Webhook-Signature", sig, strlen(sig), err,
		    errlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * POST body to url for notifier n and classify the answer into res: the one transport of
 * both types. Blocking, at most n->timeout; one easy handle per call, so several workers
 * may send at once.
 */
static void
post(const struct cfg_notifier *n, const char *url, const char *key, const unsigned char *body,
    size_t len, struct notify_result *res)
{
	struct httpclient_body answer = { .max = WEBHOOK_MAX_ANSWER, .drop_excess = 1 };
	struct httpclient_nets allow = { 0 }, deny = { 0 };
	struct httpclient_guard guard = { &allow, &deny, "" };
	struct curl_slist *headers = NULL;
	struct curl_header *ra;
	struct secrets sc;
	char errbuf[CURL_ERROR_SIZE], err[256], line[WEBHOOK_MAX_LINE + 1], *shown;
	double timeout = n->timeout > 0 ? n->timeout : WEBHOOK_DEFAULT_TIMEOUT;
	long status = 0;
	CURLcode rc;
	CURL *h = NULL;
	int bad = 0;

	memset(res, 0, sizeof(*res));
	res->status = NOTIFY_FAILED;
	secrets_collect(&sc, n, url);
	/* a URL that is not http(s) never becomes one: failed, not retried */
	if ((shown = httpclient_url_target(url, 0, err, sizeof(err))) == NULL) {
		snprintf(res->detail, sizeof(res->detail), "bad url: %s", err);
		goto out;
	}
	free(shown);
	if (build_headers(n, key, body, len, &headers, err, sizeof(err)) == -1) {
		snprintf(res->detail, sizeof(res->detail), "%s", err);
		goto out;
	}
	/* checked at load: they parse */
	httpclient_nets_parse(n->allow_networks, &allow, err, sizeof(err));
	httpclient_nets_parse(n->deny_networks ? n->deny_networks : HTTPCLIENT_DENY_DEFAULT, &deny,
	    err, sizeof(err));
	if ((h = curl_easy_init()) == NULL) {
		res->status = NOTIFY_RETRY;
		snprintf(res->detail, sizeof(res->detail), "cannot create a curl handle");
		goto out;
	}
	errbuf[0] = '\0';
#define SET(opt, val) bad |= curl_easy_setopt(h, opt, val) != CURLE_OK
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000));
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_USERAGENT, "reeve/" VERSION);
	/* the environment's http_proxy must not redirect a daemon's messages */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_HTTPHEADER, headers);
	/* not copied: body outlives the transfer */
	SET(CURLOPT_POSTFIELDS, (const char *)body);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_WRITEFUNCTION, httpclient_body_write);
	SET(CURLOPT_WRITEDATA, &answer);
	if (n->ca_file != NULL)
		SET(CURLOPT_CAINFO, n->ca_file);
#undef SET
	bad |= httpclient_guard_set(h, &guard) == -1;
	if (bad) {
		res->status = NOTIFY_RETRY;
		snprintf(res->detail, sizeof(res->detail), "cannot set up the curl handle");
		goto out;
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	res->status = webhook_classify((int)rc, status);
	if (rc != CURLE_OK && guard.denied[0] != '\0') {
		/* the configuration forbids it: retrying cannot help */
		res->status = NOTIFY_FAILED;
		snprintf(res->detail, sizeof(res->detail), "the address %s is not allowed for this "
		    "notifier (allow_networks, deny_networks; link-local addresses are denied unless "
		    "deny_networks says otherwise)", guard.denied);
		goto out;
	}
	if (rc != CURLE_OK) {
		snprintf(res->detail, sizeof(res->detail), "%s (curl error %d)",
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc), (int)rc);
		goto out;
	}
	first_line(answer.data != NULL ? answer.data : "", answer.len, line, sizeof(line));
	snprintf(res->detail, sizeof(res->detail), "HTTP %ld%s%s", status, line[0] ? ": " : "",
	    line);
	if (res->status == NOTIFY_RETRY &&
	    curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK &&
	    (res->retry_after = webhook_retry_after(ra->value, util_now())) < 0)
		res->retry_after = 0;
	if (res->status == NOTIFY_FAILED && status >= 300 && status <= 399)
		snprintf(res->detail + strlen(res->detail), sizeof(res->detail) -
		    strlen(res->detail), " (redirects are not followed)");
out:
	scrub_all(res->detail, sizeof(res->detail), &sc, n);
	secrets_free(&sc);
	if (h != NULL)
		curl_easy_cleanup(h);
	free_headers(headers);
	httpclient_body_free(&answer);
	httpclient_nets_free(&allow);
	httpclient_nets_free(&deny);
}

/* ---- the two types ------------------------------------------------------------------------ */

static int
webhook_render(const struct cfg_notifier *n, const struct notify_group *g,
    const struct notify_graph *graph, struct buf *body, char *err, size_t errlen)
{
	(void)graph;
	switch (n->format) {
	case CFG_FORMAT_GENERIC:
		webhook_generic_json(g, body);
		return 0;
	case CFG_FORMAT_SLACK:
		render_slack(g, body);
		return 0;
	case CFG_FORMAT_ALERTMANAGER:
		render_am_webhook(g, body);
		return 0;
	case CFG_FORMAT_PAGERDUTY:
		if (n->routing_key == NULL || n->routing_key[0] == '\0') {
			snprintf(err, errlen, "format pagerduty needs routing_key_file");
			return -1;
		}
		render_pagerduty(g, body);
		return 0;
	}
	snprintf(err, errlen, "unknown webhook format %d", n->format);
	return -1;
}

/*
 * A PagerDuty body begins with the stand-in of its routing key (render_pagerduty): the
 * notifier's current key goes in here, in a copy wiped after the request. Bodies spooled
 * by a version that wrote the key itself do not begin so and go out as they are.
 */
static void
webhook_send(const struct cfg_notifier *n, const char *key, const unsigned char *body,
    size_t len, struct notify_result *res)
{
	size_t k = strlen(WEBHOOK_PD_KEY_STANDIN);
	struct buf b = { 0 };

	if (n->format != CFG_FORMAT_PAGERDUTY || len < k ||
	    memcmp(body, WEBHOOK_PD_KEY_STANDIN, k) != 0) {
		post(n, n->url, key, body, len, res);
		return;
	}
	if (n->routing_key == NULL || n->routing_key[0] == '\0') {
		memset(res, 0, sizeof(*res));
		res->status = NOTIFY_FAILED;
		snprintf(res->detail, sizeof(res->detail), "format pagerduty needs routing_key_file");
		return;
	}
	buf_puts(&b, "{\"routing_key\":");
	buf_json_string(&b, n->routing_key);
	buf_append(&b, body + k, len - k);
	post(n, n->url, key, (const unsigned char *)b.data, b.len, res);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
}

static int
alertmanager_render(const struct cfg_notifier *n, const struct notify_group *g,
    const struct notify_graph *graph, struct buf *body, char *err, size_t errlen)
{
	(void)n;
	(void)graph;
	(void)err;
	(void)errlen;
	render_am_alerts(g, body);
	return 0;
}

/*
 * n->url is Alertmanager's base URL (a path prefix such as --web.route-prefix allowed):
 * the alerts go to its path + /api/v2/alerts.
 */
static void
alertmanager_send(const struct cfg_notifier *n, const char *key, const unsigned char *body,
    size_t len, struct notify_result *res)
{
	struct buf path = { 0 };
	CURLU *u;
	char *p = NULL, *url = NULL;
	size_t l;

	if ((u = curl_url()) != NULL && curl_url_set(u, CURLUPART_URL, n->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK) {
		l = strlen(p);
		while (l > 0 && p[l - 1] == '/')
			l--;
		buf_append(&path, p, l);
		buf_puts(&path, AM_ALERTS_PATH);
		if (curl_url_set(u, CURLUPART_PATH, path.data, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
			url = NULL;
	}
	/* a URL curl cannot take apart goes as it is: post() reports why it is bad */
	post(n, url != NULL ? url : n->url, key, body, len, res);
	curl_free(url);
	curl_free(p);
	curl_url_cleanup(u);
	buf_free(&path);
}

const struct notifier_type notifier_webhook = {
	.name = "webhook",
	.render = webhook_render,
	.send = webhook_send,
};

const struct notifier_type notifier_alertmanager = {
	.name = "alertmanager",
	.render = alertmanager_render,
	.send = alertmanager_send,
};
