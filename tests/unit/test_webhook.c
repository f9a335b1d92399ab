/* test_webhook.c: unit tests of alerts/webhook.c: every body format parsed back field by field, the signature, Retry-After, classification. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "notify.h"
#include "util.h"
#include "webhook.h"

#define T0 1700000000.0	/* 2023-11-14T22:13:20Z */
#define TRICKY "web\"01\n<!channel> & <@U123> \xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe2\x9c\x93 \\x"

static const struct reeve_label l_web01[] = {
	{ "alertname", "DiskFull" }, { "instance", "web01" }, { "mountpoint", "/" },
	{ "severity", "critical" },
};
static const struct reeve_label l_web02[] = {
	{ "alertname", "DiskFull" }, { "instance", "web02" }, { "mountpoint", "/" },
	{ "severity", "warning" },
};
static const struct reeve_label l_tricky[] = {
	{ "alertname", "DiskFull" }, { "instance", TRICKY }, { "mountpoint", "/" },
	{ "severity", "page" },
};
static const struct reeve_label a_web01[] = {
	{ "summary", "Disk / is 92% full" }, { "runbook", "http://wiki/disk?a=1&b=2" },
};
static const struct reeve_label a_web02[] = {
	{ "summary", "Disk / is 95% full" }, { "runbook", "http://wiki/disk?a=1&b=2" },
};
static const struct reeve_label a_tricky[] = {
	{ "summary", "<!channel> \"quoted\"\nline two" },
};
static const struct reeve_label group_labels[] = { { "alertname", "DiskFull" } };

static const struct notify_alert alerts_firing[] = {
	{ l_web01, 4, a_web01, 2, 1, T0, 0, 0.92, "1a30ba71cca2921f", NULL, 0 },
	{ l_web02, 4, a_web02, 2, 1, T0 + 60, 0, NAN, "2b41cb82ddb3a320", NULL, 0 },
};
static const struct notify_alert alerts_resolved[] = {
	{ l_web01, 4, a_web01, 2, 0, T0, T0 + 300, 0.5, "1a30ba71cca2921f", NULL, 0 },
};
static const struct notify_alert alerts_mixed[] = {
	{ l_tricky, 4, a_tricky, 1, 1, T0, 0, 1e21, "3c52dc93eec4a431", NULL, 0 },
	{ l_web02, 4, a_web02, 2, 0, T0 + 60, T0 + 120.25, 0.1, "2b41cb82ddb3a320", NULL, 0 },
};

static const struct notify_group g_firing = {
	"ops", "{}:{alertname=\"DiskFull\"}", group_labels, 1, alerts_firing, 2, 2, 0,
	"key-1", T0 + 90, "http://reeve.example:9180/", "mon01", 0
};
static const struct notify_group g_resolved = {
	"ops", "{}:{alertname=\"DiskFull\"}", group_labels, 1, alerts_resolved, 1, 0, 1,
	"key-2", T0 + 300, NULL, "mon01", 0
};
static const struct notify_group g_mixed = {
	"ops", "{}:{alertname=\"DiskFull\"}", group_labels, 1, alerts_mixed, 2, 1, 1,
	"key-3", T0 + 130, "http://reeve.example:9180", "mon01", 1
};

/* Render g with n and parse the body strictly; the caller cJSON_Deletes it. */
static cJSON *
render(const struct notifier_type *type, const struct cfg_notifier *n,
    const struct notify_group *g)
{
	struct buf b = { 0 };
	char err[256] = "";
	const char *end = NULL;
	cJSON *root;

	if (type->render(n, g, NULL, &b, err, sizeof(err)) == -1)
		fail_msg("render: %s", err);
	root = cJSON_ParseWithLengthOpts(b.data, b.len + 1, &end, 1);
	if (root == NULL)
		fail_msg("not JSON at byte %zu: %s", (size_t)(end - b.data), b.data);
	buf_free(&b);
	return root;
}

static cJSON *
get(const cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (v == NULL)
		fail_msg("no key %s", k);
	return v;
}

static const char *
str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(get(o, k));

	if (s == NULL)
		fail_msg("%s is not a string", k);
	return s;
}

static double
num(const cJSON *o, const char *k)
{
	cJSON *v = get(o, k);

	if (!cJSON_IsNumber(v))
		fail_msg("%s is not a number", k);
	return v->valuedouble;
}

/* o is an object with exactly the n pairs of l */
static void
same_pairs(const cJSON *o, const struct reeve_label *l, size_t n)
{
	size_t i;

	assert_true(cJSON_IsObject(o));
	assert_int_equal(cJSON_GetArraySize(o), n);
	for (i = 0; i < n; i++)
		assert_string_equal(str(o, l[i].name), l[i].value);
}

static void
test_generic(void **unused)
{
	struct cfg_notifier n = { .type = CFG_NOTIFIER_WEBHOOK, .format = CFG_FORMAT_GENERIC };
	static const struct reeve_label common[] = {
		{ "alertname", "DiskFull" }, { "mountpoint", "/" },
	};
	static const struct reeve_label common_ann[] = {
		{ "runbook", "http://wiki/disk?a=1&b=2" },
	};
	cJSON *r = render(&notifier_webhook, &n, &g_firing), *al, *a;

	assert_string_equal(str(r, "version"), "1");
	assert_string_equal(str(r, "receiver"), "ops");
	assert_string_equal(str(r, "status"), "firing");
	assert_string_equal(str(r, "groupKey"), "{}:{alertname=\"DiskFull\"}");
	same_pairs(get(r, "groupLabels"), group_labels, 1);
	same_pairs(get(r, "commonLabels"), common, 2);
	same_pairs(get(r, "commonAnnotations"), common_ann, 1);
	assert_string_equal(str(r, "externalURL"), "http://reeve.example:9180/");
	assert_int_equal(num(r, "firing"), 2);
	assert_int_equal(num(r, "resolved"), 0);
	assert_string_equal(str(r, "time"), "2023-11-14T22:14:50Z");
	assert_true(cJSON_IsFalse(get(r, "test")));
	al = get(r, "alerts");
	assert_int_equal(cJSON_GetArraySize(al), 2);
	a = cJSON_GetArrayItem(al, 0);
	assert_int_equal(cJSON_GetArraySize(a), 8);
	assert_string_equal(str(a, "status"), "firing");
	same_pairs(get(a, "labels"), l_web01, 4);
	same_pairs(get(a, "annotations"), a_web01, 2);
	assert_string_equal(str(a, "startsAt"), "2023-11-14T22:13:20Z");
	assert_true(cJSON_IsNull(get(a, "endsAt")));
	assert_float_equal(num(a, "value"), 0.92, 0);
	assert_string_equal(str(a, "fingerprint"), "1a30ba71cca2921f");
	assert_string_equal(str(a, "generatorURL"),
	    "http://reeve.example:9180/api/v1/alerts/history?rule=DiskFull");
	a = cJSON_GetArrayItem(al, 1);
	same_pairs(get(a, "labels"), l_web02, 4);
	assert_string_equal(str(a, "startsAt"), "2023-11-14T22:14:20Z");
	assert_true(cJSON_IsNull(get(a, "value")));	/* NaN */
	cJSON_Delete(r);

	/* resolved, no external_url: nulls */
	r = render(&notifier_webhook, &n, &g_resolved);
	assert_string_equal(str(r, "status"), "resolved");
	assert_true(cJSON_IsNull(get(r, "externalURL")));
	assert_int_equal(num(r, "firing"), 0);
	assert_int_equal(num(r, "resolved"), 1);
	same_pairs(get(r, "commonLabels"), l_web01, 4);
	same_pairs(get(r, "commonAnnotations"), a_web01, 2);
	a = cJSON_GetArrayItem(get(r, "alerts"), 0);
	assert_string_equal(str(a, "status"), "resolved");
	assert_string_equal(str(a, "endsAt"), "2023-11-14T22:18:20Z");
	assert_true(cJSON_IsNull(get(a, "generatorURL")));
	cJSON_Delete(r);

	/* mixed, quotes, newlines, unicode: every byte comes back */
	r = render(&notifier_webhook, &n, &g_mixed);
	assert_string_equal(str(r, "status"), "firing");
	assert_true(cJSON_IsTrue(get(r, "test")));
	same_pairs(get(r, "commonLabels"), common, 2);
	assert_int_equal(cJSON_GetArraySize(get(r, "commonAnnotations")), 0);
	a = cJSON_GetArrayItem(get(r, "alerts"), 0);
	same_pairs(get(a, "labels"), l_tricky, 4);
	same_pairs(get(a, "annotations"), a_tricky, 1);
	assert_float_equal(num(a, "value"), 1e21, 0);
	a = cJSON_GetArrayItem(get(r, "alerts"), 1);
	assert_string_equal(str(a, "status"), "resolved");
	assert_string_equal(str(a, "endsAt"), "2023-11-14T22:15:20.25Z");
	cJSON_Delete(r);
}

static void
test_alertmanager_format(void **unused)
{
	struct cfg_notifier n = { .type = CFG_NOTIFIER_WEBHOOK, .format = CFG_FORMAT_ALERTMANAGER };
	static const char *const keys[] = {
		"version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
		"commonLabels", "commonAnnotations", "externalURL", "alerts",
	};
	static const char *const akeys[] = {
		"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint",
	};
	cJSON *r = render(&notifier_webhook, &n, &g_firing), *a;
	size_t i;

	assert_int_equal(cJSON_GetArraySize(r), 10);
	for (i = 0; i < 10; i++)
		get(r, keys[i]);
	assert_string_equal(str(r, "version"), "4");
	assert_string_equal(str(r, "groupKey"), "{}:{alertname=\"DiskFull\"}");
	assert_int_equal(num(r, "truncatedAlerts"), 0);
	assert_string_equal(str(r, "status"), "firing");
	assert_string_equal(str(r, "receiver"), "ops");
	same_pairs(get(r, "groupLabels"), group_labels, 1);
	assert_string_equal(str(r, "externalURL"), "http://reeve.example:9180/");
	a = cJSON_GetArrayItem(get(r, "alerts"), 0);
	assert_int_equal(cJSON_GetArraySize(a), 7);
	for (i = 0; i < 7; i++)
		get(a, akeys[i]);
	assert_string_equal(str(a, "status"), "firing");
	same_pairs(get(a, "labels"), l_web01, 4);
	same_pairs(get(a, "annotations"), a_web01, 2);
	assert_string_equal(str(a, "startsAt"), "2023-11-14T22:13:20Z");
	assert_string_equal(str(a, "endsAt"), "0001-01-01T00:00:00Z");
	assert_string_equal(str(a, "generatorURL"),
	    "http://reeve.example:9180/api/v1/alerts/history?rule=DiskFull");
	assert_string_equal(str(a, "fingerprint"), "1a30ba71cca2921f");
	cJSON_Delete(r);

	r = render(&notifier_webhook, &n, &g_resolved);
	assert_string_equal(str(r, "status"), "resolved");
	assert_string_equal(str(r, "externalURL"), "");
	a = cJSON_GetArrayItem(get(r, "alerts"), 0);
	assert_string_equal(str(a, "endsAt"), "2023-11-14T22:18:20Z");
	assert_string_equal(str(a, "generatorURL"), "");
	cJSON_Delete(r);

	r = render(&notifier_webhook, &n, &g_mixed);
	a = cJSON_GetArrayItem(get(r, "alerts"), 0);
	same_pairs(get(a, "labels"), l_tricky, 4);
	cJSON_Delete(r);
}

/* Every mrkdwn text of a Slack message: no markup came from alert text. */
static void
slack_safe(const char *s)
{
	const char *p;

	for (p = strchr(s, '<'); p != NULL; p = strchr(p + 1, '<'))
		/* the only link is ours */
		assert_int_equal(strncmp(p, "<http://reeve.example:9180/api/v1/alerts/history?", 49), 0);
}

static void
test_slack(void **unused)
{
	struct cfg_notifier n = { .type = CFG_NOTIFIER_WEBHOOK, .format = CFG_FORMAT_SLACK };
	struct notify_alert many[60];
	struct reeve_label long_ann = { "description", NULL };
	struct notify_group g;
	cJSON *r = render(&notifier_webhook, &n, &g_mixed), *blocks, *b, *t;
	char *text;
	size_t i;

	assert_string_equal(str(r, "text"), ":fire: [TEST] [FIRING:1] DiskFull");
	blocks = get(r, "blocks");
	/* header, two sections, the test note */
	assert_int_equal(cJSON_GetArraySize(blocks), 4);
	b = cJSON_GetArrayItem(blocks, 0);
	assert_string_equal(str(b, "type"), "header");
	assert_string_equal(str(get(b, "text"), "type"), "plain_text");
	assert_string_equal(str(get(b, "text"), "text"), ":fire: [TEST] [FIRING:1] DiskFull");
	b = cJSON_GetArrayItem(blocks, 1);
	assert_string_equal(str(b, "type"), "section");
	t = get(b, "text");
	assert_string_equal(str(t, "type"), "mrkdwn");
	assert_string_equal(str(t, "text"),
	    ":fire: *FIRING* *DiskFull*\n"
	    "instance=web\"01\n&lt;!channel&gt; &amp; &lt;@U123&gt; \xc3\xbcn\xc3\xaf" "c\xc3\xb8"
	    "d\xc3\xa9 \xe2\x9c\x93 \\x, mountpoint=/, severity=page\n"
	    "*summary:* &lt;!channel&gt; \"quoted\"\nline two\n"
	    "Since 2023-11-14T22:13:20Z, value 1e+21\n"
	    "<http://reeve.example:9180/api/v1/alerts/history?rule=DiskFull|History in reeve>");
	slack_safe(str(t, "text"));
	b = cJSON_GetArrayItem(blocks, 2);
	assert_string_equal(str(get(b, "text"), "text"),
	    ":white_check_mark: *RESOLVED* *DiskFull*\n"
	    "instance=web02, mountpoint=/, severity=warning\n"
	    "*summary:* Disk / is 95% full\n*runbook:* http://wiki/disk?a=1&amp;b=2\n"
	    "Resolved 2023-11-14T22:15:20.25Z\n"
	    "<http://reeve.example:9180/api/v1/alerts/history?rule=DiskFull|History in reeve>");
	b = cJSON_GetArrayItem(blocks, 3);
	assert_string_equal(str(b, "type"), "context");
	assert_string_equal(str(cJSON_GetArrayItem(get(b, "elements"), 0), "text"),
	    "A test message from reeve notify test.");
	cJSON_Delete(r);

	/* resolved, no link */
	r = render(&notifier_webhook, &n, &g_resolved);
	assert_string_equal(str(r, "text"), ":white_check_mark: [RESOLVED] DiskFull");
	assert_int_equal(cJSON_GetArraySize(get(r, "blocks")), 2);
	assert_null(strchr(str(get(cJSON_GetArrayItem(get(r, "blocks"), 1), "text"), "text"), '<'));
	cJSON_Delete(r);

	/* 60 alerts, one with a 5000-byte annotation of entities: Slack's limits hold */
	text = xmalloc(5001);
	for (i = 0; i < 5000; i++)
		text[i] = "<&>\xc3\xa9"[i % 5];
	text[5000] = '\0';
	long_ann.value = text;
	for (i = 0; i < 60; i++) {
		many[i] = alerts_firing[0];
		if (i == 0) {
			many[i].annotations = &long_ann;
			many[i].nannotations = 1;
		}
	}
	g = g_firing;
	g.alerts = many;
	g.nalerts = 60;
	g.nfiring = 60;
	r = render(&notifier_webhook, &n, &g);
	blocks = get(r, "blocks");
	assert_int_equal(cJSON_GetArraySize(blocks), 1 + 45 + 1);
	t = get(cJSON_GetArrayItem(blocks, 1), "text");
	assert_true(strlen(str(t, "text")) <= 3000);
	/* cut before an entity or UTF-8 sequence is torn, with an ellipsis */
	assert_non_null(strstr(str(t, "text"), "\xe2\x80\xa6"));
	i = strlen(str(t, "text")) - 3;
	assert_string_equal(str(t, "text") + i, "\xe2\x80\xa6");
	assert_true(str(t, "text")[i - 1] == ';' || (unsigned char)str(t, "text")[i - 1] == 0xa9);
	b = cJSON_GetArrayItem(blocks, 46);
	assert_string_equal(str(cJSON_GetArrayItem(get(b, "elements"), 0), "text"),
	    "and 15 more alerts (60 firing, 0 resolved in all)");
	cJSON_Delete(r);
	free(text);
}

static void
test_pagerduty(void **unused)
{
	struct cfg_notifier n = { .type = CFG_NOTIFIER_WEBHOOK, .format = CFG_FORMAT_PAGERDUTY,
	    .routing_key = "R0UT1NGKEY0123456789abcdef012345" };
	static const char *const sevs[][3] = {
		/* alert severities, PagerDuty's */
		{ "info", "info", "info" }, { "info", "error", "error" },
		{ "page", "info", "warning" }, { "critical", "error", "critical" },
	};
	struct reeve_label l1[2], l2[2];
	struct notify_alert two[2];
	struct notify_group g;
	struct buf b = { 0 };
	cJSON *r = render(&notifier_webhook, &n, &g_firing), *p, *d, *links;
	char err[256], dedup[32];
	size_t i;

	/* the key goes in when the message is sent: the rendered (spooled) body holds none */
	assert_string_equal(str(r, "routing_key"), "(routing_key_file)");
	assert_string_equal(str(r, "event_action"), "trigger");
	snprintf(dedup, sizeof(dedup), "%s", str(r, "dedup_key"));
	assert_int_equal(strlen(dedup), 6 + 16);
	assert_int_equal(strncmp(dedup, "reeve-", 6), 0);
	assert_string_equal(str(r, "client"), "reeve");
	assert_string_equal(str(r, "client_url"), "http://reeve.example:9180/");
	p = get(r, "payload");
	assert_string_equal(str(p, "summary"), "[FIRING:2] DiskFull");
	assert_string_equal(str(p, "source"), "mon01");
	assert_string_equal(str(p, "severity"), "critical");
	assert_string_equal(str(p, "timestamp"), "2023-11-14T22:14:50Z");
	d = get(p, "custom_details");
	assert_string_equal(str(d, "receiver"), "ops");
	assert_int_equal(num(d, "firing"), 2);
	assert_int_equal(num(d, "truncatedAlerts"), 0);
	assert_int_equal(cJSON_GetArraySize(get(d, "alerts")), 2);
	same_pairs(get(cJSON_GetArrayItem(get(d, "alerts"), 1), "labels"), l_web02, 4);
	links = get(r, "links");
	assert_int_equal(cJSON_GetArraySize(links), 1);
	assert_string_equal(str(cJSON_GetArrayItem(links, 0), "href"),
	    "http://reeve.example:9180/api/v1/alerts/history?rule=DiskFull");
	cJSON_Delete(r);

	/* resolved: the same dedup_key, no payload */
	r = render(&notifier_webhook, &n, &g_resolved);
	assert_string_equal(str(r, "event_action"), "resolve");
	assert_string_equal(str(r, "dedup_key"), dedup);
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "payload"));
	cJSON_Delete(r);

	/* the highest severity of the firing alerts, mapped */
	for (i = 0; i < 4; i++) {
		l1[0] = (struct reeve_label){ "alertname", "X" };
		l1[1] = (struct reeve_label){ "severity", sevs[i][0] };
		l2[0] = l1[0];
		l2[1] = (struct reeve_label){ "severity", sevs[i][1] };
		two[0] = alerts_firing[0];
		two[0].labels = l1;
		two[0].nlabels = 2;
		two[1] = two[0];
		two[1].labels = l2;
		g = g_firing;
		g.alerts = two;
		g.nalerts = 2;
		r = render(&notifier_webhook, &n, &g);
		assert_string_equal(str(get(r, "payload"), "severity"), sevs[i][2]);
		cJSON_Delete(r);
	}

	/* no routing key: an error, nothing rendered */
	n.routing_key = NULL;
	assert_int_equal(notifier_webhook.render(&n, &g_firing, NULL, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "format pagerduty needs routing_key_file");
	assert_int_equal(b.len, 0);
}

static void
test_alertmanager_api(void **unused)
{
	struct cfg_notifier n = { .type = CFG_NOTIFIER_ALERTMANAGER };
	cJSON *r = render(&notifier_alertmanager, &n, &g_mixed), *a;

	assert_true(cJSON_IsArray(r));
	assert_int_equal(cJSON_GetArraySize(r), 2);
	a = cJSON_GetArrayItem(r, 0);
	assert_int_equal(cJSON_GetArraySize(a), 4);	/* firing: no endsAt */
	same_pairs(get(a, "labels"), l_tricky, 4);
	same_pairs(get(a, "annotations"), a_tricky, 1);
	assert_string_equal(str(a, "startsAt"), "2023-11-14T22:13:20Z");
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "endsAt"));
	assert_string_equal(str(a, "generatorURL"),
	    "http://reeve.example:9180/api/v1/alerts/history?rule=DiskFull");
	a = cJSON_GetArrayItem(r, 1);
	assert_string_equal(str(a, "endsAt"), "2023-11-14T22:15:20.25Z");
	cJSON_Delete(r);

	r = render(&notifier_alertmanager, &n, &g_resolved);
	a = cJSON_GetArrayItem(r, 0);
	assert_int_equal(cJSON_GetArraySize(a), 4);	/* no external_url: no generatorURL */
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "generatorURL"));
	assert_string_equal(str(a, "endsAt"), "2023-11-14T22:18:20Z");
	cJSON_Delete(r);
}

static void
test_signature(void **unused)
{
	static const char body[] = "{\"text\":\"disk full on web01\"}";
	char sig[WEBHOOK_SIG_SIZE];

	/* the value Python's hmac gives */
	webhook_sign("whsec_test_secret", 1700000000, (const unsigned char *)body,
	    strlen(body), sig);
	assert_string_equal(sig, "sha256=e3009dc19420c679378870fcd2b2b4c35f4fddba86b1ec07719cbfffc6b47951");
	webhook_sign("Jefe", 1700000000, NULL, 0, sig);
	assert_string_equal(sig, "sha256=80201faaa9258f8cfe66f88ad9fc60a52f73dd0e34d0aa77e8903d388732fc5e");
}

static void
test_retry_after(void **unused)
{
	assert_float_equal(webhook_retry_after("120", T0), 120, 0);
	assert_float_equal(webhook_retry_after(" 30 ", T0), 30, 0);
	assert_float_equal(webhook_retry_after("0", T0), 0, 0);
	assert_float_equal(webhook_retry_after("99999999999", T0), WEBHOOK_MAX_RETRY_AFTER, 0);
	assert_float_equal(webhook_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", T0), 100, 0);
	assert_float_equal(webhook_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", T0), 0, 0);
	assert_float_equal(webhook_retry_after("Wed, 14 Nov 2024 22:00:00 GMT", T0),
	    WEBHOOK_MAX_RETRY_AFTER, 0);
	assert_true(webhook_retry_after("soon", T0) < 0);
	assert_true(webhook_retry_after("", T0) < 0);
	assert_true(webhook_retry_after("12abc", T0) < 0);
}

static void
test_classify(void **unused)
{
	static const struct { int rc; long status; enum notify_status want; } cases[] = {
		{ CURLE_OK, 200, NOTIFY_SENT }, { CURLE_OK, 202, NOTIFY_SENT },
		{ CURLE_OK, 204, NOTIFY_SENT }, { CURLE_OK, 299, NOTIFY_SENT },
		{ CURLE_OK, 500, NOTIFY_RETRY }, { CURLE_OK, 503, NOTIFY_RETRY },
		{ CURLE_OK, 599, NOTIFY_RETRY }, { CURLE_OK, 408, NOTIFY_RETRY },
		{ CURLE_OK, 429, NOTIFY_RETRY }, { CURLE_OK, 400, NOTIFY_FAILED },
		{ CURLE_OK, 401, NOTIFY_FAILED }, { CURLE_OK, 404, NOTIFY_FAILED },
		{ CURLE_OK, 410, NOTIFY_FAILED }, { CURLE_OK, 301, NOTIFY_FAILED },
		{ CURLE_OK, 302, NOTIFY_FAILED }, { CURLE_OK, 100, NOTIFY_FAILED },
		{ CURLE_COULDNT_CONNECT, 0, NOTIFY_RETRY },
		{ CURLE_OPERATION_TIMEDOUT, 0, NOTIFY_RETRY },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, NOTIFY_RETRY },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, NOTIFY_RETRY },
		{ CURLE_SSL_CONNECT_ERROR, 0, NOTIFY_RETRY },
		{ CURLE_GOT_NOTHING, 0, NOTIFY_RETRY },
		{ CURLE_URL_MALFORMAT, 0, NOTIFY_FAILED },
		{ CURLE_UNSUPPORTED_PROTOCOL, 0, NOTIFY_RETRY }, /* an answer that is not HTTP */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (webhook_classify(cases[i].rc, cases[i].status) != cases[i].want)
			fail_msg("rc %d status %ld", cases[i].rc, cases[i].status);
}

/* Failures that need no server: a bad URL, a refused connection, a reserved header. */
static void
test_send_errors(void **unused)
{
	struct cfg_kv hdr[] = { { "Authorization", "Bearer s3cr3t-h3ad3r", NULL, 0 } };
	struct cfg_notifier n = { .type = CFG_NOTIFIER_WEBHOOK, .timeout = 5,
	    .secret = "whsec_test_secret", .headers = hdr, .nheaders = 1 };
	struct notify_result res;
	static const unsigned char body[] = "{}";

	n.url = "ftp://user:hunter2pw@127.0.0.1/";
	notifier_webhook.send(&n, "k1", body, 2, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "bad url: only http:// and https:// URLs are supported");
	n.url = "file:///etc/passwd";
	notifier_webhook.send(&n, "k1", body, 2, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	n.url = "http://user:hunter2pw@127.0.0.1:1/hook?token=querys3cret";
	notifier_webhook.send(&n, "k1", body, 2, &res);
	assert_int_equal(res.status, NOTIFY_RETRY);
	assert_float_equal(res.retry_after, 0, 0);
	assert_non_null(strstr(res.detail, "(curl error 7)"));
	assert_null(strstr(res.detail, "hunter2pw"));
	assert_null(strstr(res.detail, "querys3cret"));
	n.type = CFG_NOTIFIER_ALERTMANAGER;
	notifier_alertmanager.send(&n, "k1", body, 2, &res);
	assert_int_equal(res.status, NOTIFY_RETRY);
	n.url = "gopher://127.0.0.1:1/";
	notifier_alertmanager.send(&n, "k1", body, 2, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	/* a header the transport sets itself */
	n.url = "http://127.0.0.1:1/";
	hdr[0].key = "Content-Type";
	notifier_webhook.send(&n, "k1", body, 2, &res);
	assert_int_equal(res.status, NOTIFY_FAILED);
	assert_string_equal(res.detail, "header.Content-Type: reeve sets this header itself");
	assert_true(webhook_header_allowed("Authorization"));
	assert_true(webhook_header_allowed("User-Agent"));
	assert_false(webhook_header_allowed("idempotency-key"));
	assert_false(webhook_header_allowed("X-Webhook-Signature"));
	assert_false(webhook_header_allowed("Bad Name"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_alertmanager_format),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_pagerduty),
		cmocka_unit_test(test_alertmanager_api),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_send_errors),
		cmocka_unit_test(test_signature),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
