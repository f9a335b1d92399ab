/* payload.c: the JSON of notifications: the generic document (webhook format generic, exec notifier stdin) and the pieces the other webhook formats share. */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "notify.h"
#include "payload.h"
#include "util.h"

/* payload_put_labels: labels (or annotations) as a JSON object, in their order, appended to b. */
void
payload_put_labels(struct buf *b, const struct reeve_label *l, size_t n)
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

/* payload_put_time: Unix time t as a JSON string in RFC 3339, UTC (util_fmt_rfc3339). */
void
payload_put_time(struct buf *b, double t)
{
	char s[48];

	buf_json_string(b, util_fmt_rfc3339(s, sizeof(s), t));
}

/* payload_put_string_or_null: s as a JSON string, or null for NULL. */
void
payload_put_string_or_null(struct buf *b, const char *s)
{
	if (s != NULL)
		buf_json_string(b, s);
	else
		buf_puts(b, "null");
}

/* payload_put_value: v as a JSON number, or null when it is not finite (JSON has no NaN or Inf). */
void
payload_put_value(struct buf *b, double v)
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

/* payload_alert_get: the value of a's label (annotation if ann) name, borrowed from a, or NULL. */
const char *
payload_alert_get(const struct notify_alert *a, int ann, const char *name)
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
 * payload_put_common: the labels (annotations if ann) every alert of g has with the same
 * value, as a JSON object in the first alert's order: Alertmanager's commonLabels and
 * commonAnnotations.
 */
void
payload_put_common(struct buf *b, const struct notify_group *g, int ann)
{
	const struct reeve_label *l;
	const char *v;
	size_t i, j, n;
	int first = 1;

	buf_putc(b, '{');
	l = g->nalerts > 0 ? alert_pairs(&g->alerts[0], ann, &n) : NULL;
	for (i = 0; l != NULL && i < n; i++) {
		for (j = 1; j < g->nalerts; j++)
			if ((v = payload_alert_get(&g->alerts[j], ann, l[i].name)) == NULL ||
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
 * payload_generator_url: the link to an alert in reeve, the history of its rule
 * (external_url/api/v1/alerts/history?rule=ALERTNAME; without ?rule= when it has no
 * alertname), appended to out. Returns 1, or 0 without [http] external_url (out untouched).
 */
int
payload_generator_url(const struct notify_group *g, const struct notify_alert *a,
    struct buf *out)
{
	const char *name = payload_alert_get(a, 0, "alertname"), *p;
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

/* payload_group_status: "firing" while any alert of g fires, else "resolved" (static storage). */
const char *
payload_group_status(const struct notify_group *g)
{
	return g->nfiring > 0 ? "firing" : "resolved";
}

/*
 * payload_generic_json: g appended to out as reeve's generic JSON document, version 1
 * (docs/webhook-generic.schema.json, docs/notifications.md): the webhook's format generic
 * and the exec notifier's stdin. The shape of Alertmanager's webhook payload:
 * {"version","receiver","status","groupKey","groupLabels","commonLabels",
 * "commonAnnotations","externalURL","alerts":[{"status","labels","annotations","startsAt",
 * "endsAt","value","fingerprint","generatorURL"}],"firing","resolved","time","test"}.
 * Times are RFC 3339 UTC; endsAt is null while firing; externalURL and generatorURL are
 * null without [http] external_url; value is null when not finite. No trailing newline.
 * g is borrowed.
 */
void
payload_generic_json(const struct notify_group *g, struct buf *out)
{
	struct buf url = { 0 };
	size_t i;

	buf_puts(out, "{\"version\":\"1\",\"receiver\":");
	buf_json_string(out, g->receiver);
	buf_puts(out, ",\"status\":");
	buf_json_string(out, payload_group_status(g));
	buf_puts(out, ",\"groupKey\":");
	buf_json_string(out, g->group_key);
	buf_puts(out, ",\"groupLabels\":");
	payload_put_labels(out, g->group_labels, g->ngroup_labels);
	buf_puts(out, ",\"commonLabels\":");
	payload_put_common(out, g, 0);
	buf_puts(out, ",\"commonAnnotations\":");
	payload_put_common(out, g, 1);
	buf_puts(out, ",\"externalURL\":");
	payload_put_string_or_null(out, g->external_url);
	buf_puts(out, ",\"alerts\":[");
	for (i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];

		buf_puts(out, i > 0 ? ",{\"status\":" : "{\"status\":");
		buf_json_string(out, a->firing ? "firing" : "resolved");
		buf_puts(out, ",\"labels\":");
		payload_put_labels(out, a->labels, a->nlabels);
		buf_puts(out, ",\"annotations\":");
		payload_put_labels(out, a->annotations, a->nannotations);
		buf_puts(out, ",\"startsAt\":");
		payload_put_time(out, a->starts_at);
		buf_puts(out, ",\"endsAt\":");
		if (a->firing)
			buf_puts(out, "null");
		else
			payload_put_time(out, a->ends_at);
		buf_puts(out, ",\"value\":");
		payload_put_value(out, a->value);
		buf_puts(out, ",\"fingerprint\":");
		buf_json_string(out, a->fingerprint);
		buf_puts(out, ",\"generatorURL\":");
		buf_reset(&url);
		payload_put_string_or_null(out, payload_generator_url(g, a, &url) ? url.data : NULL);
		buf_putc(out, '}');
	}
	buf_printf(out, "],\"firing\":%zu,\"resolved\":%zu,\"time\":", g->nfiring, g->nresolved);
	payload_put_time(out, g->time);
	buf_printf(out, ",\"test\":%s}", g->test ? "true" : "false");
	buf_free(&url);
}
