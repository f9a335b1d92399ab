/* payload.c: the generic JSON document of a notification, shared by the exec notifier and the webhook's generic format. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "notify.h"
#include "payload.h"
#include "util.h"

/* The value of label name in l (n of them), or NULL. */
static const char *
label_value(const struct reeve_label *l, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return l[i].value;
	return NULL;
}

/* {"name":"value",...} of n labels, added to o as key; returns 0 or -1 (out of memory). */
static int
add_labels(cJSON *o, const char *key, const struct reeve_label *l, size_t n)
{
	cJSON *obj = cJSON_AddObjectToObject(o, key);
	size_t i;

	if (obj == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (cJSON_AddStringToObject(obj, l[i].name, l[i].value) == NULL)
			return -1;
	return 0;
}

/*
 * The labels (or annotations) that every alert of g has, with the same value, in the first
 * alert's order, added to o as key (Alertmanager's commonLabels, commonAnnotations).
 */
static int
add_common(cJSON *o, const char *key, const struct notify_group *g, int annotations)
{
	const struct notify_alert *a0 = g->nalerts > 0 ? &g->alerts[0] : NULL;
	const struct reeve_label *l = NULL, *other;
	cJSON *obj = cJSON_AddObjectToObject(o, key);
	size_t i, j, n = 0, nother;
	const char *v;

	if (obj == NULL)
		return -1;
	if (a0 != NULL) {
		l = annotations ? a0->annotations : a0->labels;
		n = annotations ? a0->nannotations : a0->nlabels;
	}
	for (i = 0; i < n; i++) {
		for (j = 1; j < g->nalerts; j++) {
			other = annotations ? g->alerts[j].annotations : g->alerts[j].labels;
			nother = annotations ? g->alerts[j].nannotations : g->alerts[j].nlabels;
			v = label_value(other, nother, l[i].name);
			if (v == NULL || strcmp(v, l[i].value) != 0)
				break;
		}
		if (j == g->nalerts && cJSON_AddStringToObject(obj, l[i].name, l[i].value) == NULL)
			return -1;
	}
	return 0;
}

/* Append s to b percent-encoded as a URL query value (RFC 3986 unreserved kept). */
static void
put_query_value(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_putc(b, (char)*p);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hex[*p >> 4]);
			buf_putc(b, hex[*p & 15]);
		}
	}
}

/*
 * generatorURL: where reeve shows the alert's rule: its history in the API
 * (external_url/api/v1/alerts/history?rule=NAME); "" without an external_url.
 */
static void
generator_url(struct buf *b, const struct notify_group *g, const struct notify_alert *a)
{
	const char *name = label_value(a->labels, a->nlabels, "alertname");
	size_t len;

	buf_reset(b);
	buf_puts(b, "");	/* b->data is a string even when the URL is empty */
	if (g->external_url == NULL || *g->external_url == '\0' || name == NULL)
		return;
	len = strlen(g->external_url);
	buf_append(b, g->external_url, len > 0 && g->external_url[len - 1] == '/' ? len - 1 : len);
	buf_puts(b, "/api/v1/alerts/history?rule=");
	put_query_value(b, name);
}

/* One alert of the document; returns 0 or -1 (out of memory). */
static int
add_alert(cJSON *arr, const struct notify_group *g, const struct notify_alert *a,
    struct buf *tmp)
{
	cJSON *o = cJSON_CreateObject();
	char t[48];

	if (o == NULL || !cJSON_AddItemToArray(arr, o))
		goto fail;
	generator_url(tmp, g, a);
	if (cJSON_AddStringToObject(o, "status", a->firing ? "firing" : "resolved") == NULL ||
	    add_labels(o, "labels", a->labels, a->nlabels) == -1 ||
	    add_labels(o, "annotations", a->annotations, a->nannotations) == -1 ||
	    cJSON_AddStringToObject(o, "startsAt", util_fmt_rfc3339(t, sizeof(t),
	    a->starts_at)) == NULL ||
	    /* a firing alert ends at Go's zero time, as Alertmanager writes it */
	    cJSON_AddStringToObject(o, "endsAt", util_fmt_rfc3339(t, sizeof(t),
	    a->firing ? NAN : a->ends_at)) == NULL ||
	    cJSON_AddNumberToObject(o, "value", a->value) == NULL ||	/* NaN prints as null */
	    cJSON_AddStringToObject(o, "fingerprint", a->fingerprint != NULL ? a->fingerprint :
	    "") == NULL ||
	    cJSON_AddStringToObject(o, "generatorURL", tmp->data) == NULL)
		return -1;
	return 0;
fail:
	cJSON_Delete(o);
	return -1;
}

/*
 * payload_generic_json: append g to out as reeve's generic JSON document (docs/
 * notifications.md), the shape of Alertmanager's webhook payload with version "1":
 * {"version","receiver","status","groupKey","groupLabels","commonLabels",
 * "commonAnnotations","externalURL","alerts":[{"status","labels","annotations","startsAt",
 * "endsAt","value","fingerprint","generatorURL"}],"firing","resolved","time","test"}.
 * Times are RFC 3339 UTC; status is "firing" while any alert fires; value is null when
 * NaN. No trailing newline. g is borrowed. Returns 0, or -1 when out of memory (out is
 * then unchanged).
 */
int
payload_generic_json(const struct notify_group *g, struct buf *out)
{
	struct buf tmp = { 0 };
	cJSON *root, *alerts;
	char t[48], *s = NULL;
	size_t i;
	int rc = -1;

	if ((root = cJSON_CreateObject()) == NULL)
		return -1;
	if (cJSON_AddStringToObject(root, "version", "1") == NULL ||
	    cJSON_AddStringToObject(root, "receiver", g->receiver) == NULL ||
	    cJSON_AddStringToObject(root, "status", g->nfiring > 0 ? "firing" : "resolved") ==
	    NULL ||
	    cJSON_AddStringToObject(root, "groupKey", g->group_key) == NULL ||
	    add_labels(root, "groupLabels", g->group_labels, g->ngroup_labels) == -1 ||
	    add_common(root, "commonLabels", g, 0) == -1 ||
	    add_common(root, "commonAnnotations", g, 1) == -1 ||
	    cJSON_AddStringToObject(root, "externalURL", g->external_url != NULL ?
	    g->external_url : "") == NULL ||
	    (alerts = cJSON_AddArrayToObject(root, "alerts")) == NULL)
		goto out;
	for (i = 0; i < g->nalerts; i++)
		if (add_alert(alerts, g, &g->alerts[i], &tmp) == -1)
			goto out;
	if (cJSON_AddNumberToObject(root, "firing", (double)g->nfiring) == NULL ||
	    cJSON_AddNumberToObject(root, "resolved", (double)g->nresolved) == NULL ||
	    cJSON_AddStringToObject(root, "time", util_fmt_rfc3339(t, sizeof(t), g->time)) ==
	    NULL ||
	    cJSON_AddBoolToObject(root, "test", g->test != 0) == NULL ||
	    (s = cJSON_PrintUnformatted(root)) == NULL)
		goto out;
	buf_puts(out, s);
	rc = 0;
out:
	cJSON_free(s);
	cJSON_Delete(root);
	buf_free(&tmp);
	return rc;
}
