/* test_payload.c: unit tests of alerts/payload.c: the generic JSON document of a notification (its pieces: test_webhook.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "notify.h"
#include "payload.h"
#include "util.h"

static const struct reeve_label l_disk_a[] = {
	{ "alertname", "disk full" }, { "instance", "a" }, { "severity", "critical" },
};
static const struct reeve_label l_disk_b[] = {
	{ "alertname", "disk full" }, { "instance", "b" }, { "severity", "critical" },
};
static const struct reeve_label an_a[] = {
	{ "summary", "a is \"full\"\n" }, { "runbook", "http://wiki/disk" },
};
static const struct reeve_label an_b[] = {
	{ "summary", "b is full" }, { "runbook", "http://wiki/disk" },
};
static const struct reeve_label groupl[] = { { "alertname", "disk full" } };

static void
test_two_alerts(void **unused)
{
	const struct notify_alert alerts[] = {
		{ .labels = l_disk_a, .nlabels = 3, .annotations = an_a, .nannotations = 2,
		  .firing = 1, .starts_at = 1774746000.25, .ends_at = 0, .value = 97.5,
		  .fingerprint = "0123456789abcdef" },
		{ .labels = l_disk_b, .nlabels = 3, .annotations = an_b, .nannotations = 2,
		  .firing = 0, .starts_at = 1774742400, .ends_at = 1774745999, .value = NAN,
		  .fingerprint = "fedcba9876543210" },
	};
	const struct notify_group g = {
		.receiver = "ops", .group_key = "default:{alertname=\"disk full\"}",
		.group_labels = groupl, .ngroup_labels = 1, .alerts = alerts, .nalerts = 2,
		.nfiring = 1, .nresolved = 1, .key = "k1", .time = 1774746060,
		.external_url = "https://mon.example/", .hostname = "h", .test = 0,
	};
	struct buf b = { 0 };

	buf_puts(&b, "kept:");
	payload_generic_json(&g, &b);
	assert_string_equal(b.data, "kept:"
	    "{\"version\":\"1\",\"receiver\":\"ops\",\"status\":\"firing\","
	    "\"groupKey\":\"default:{alertname=\\\"disk full\\\"}\","
	    "\"groupLabels\":{\"alertname\":\"disk full\"},"
	    "\"commonLabels\":{\"alertname\":\"disk full\",\"severity\":\"critical\"},"
	    "\"commonAnnotations\":{\"runbook\":\"http://wiki/disk\"},"
	    "\"externalURL\":\"https://mon.example/\","
	    "\"alerts\":[{\"status\":\"firing\","
	    "\"labels\":{\"alertname\":\"disk full\",\"instance\":\"a\",\"severity\":\"critical\"},"
	    "\"annotations\":{\"summary\":\"a is \\\"full\\\"\\n\",\"runbook\":\"http://wiki/disk\"},"
	    "\"startsAt\":\"2026-03-29T01:00:00.25Z\",\"endsAt\":null,"
	    "\"value\":97.5,\"fingerprint\":\"0123456789abcdef\","
	    "\"generatorURL\":\"https://mon.example/api/v1/alerts/history?rule=disk%20full\"},"
	    "{\"status\":\"resolved\","
	    "\"labels\":{\"alertname\":\"disk full\",\"instance\":\"b\",\"severity\":\"critical\"},"
	    "\"annotations\":{\"summary\":\"b is full\",\"runbook\":\"http://wiki/disk\"},"
	    "\"startsAt\":\"2026-03-29T00:00:00Z\",\"endsAt\":\"2026-03-29T00:59:59Z\","
	    "\"value\":null,\"fingerprint\":\"fedcba9876543210\","
	    "\"generatorURL\":\"https://mon.example/api/v1/alerts/history?rule=disk%20full\"}],"
	    "\"firing\":1,\"resolved\":1,\"time\":\"2026-03-29T01:01:00Z\",\"test\":false}");
	buf_free(&b);
}

static void
test_empty_and_resolved(void **unused)
{
	const struct notify_alert alerts[] = {
		{ .labels = l_disk_a + 1, .nlabels = 1, .firing = 0, .starts_at = 0, .ends_at = 60,
		  .value = 0.1, .fingerprint = "0000000000000001" },
	};
	struct notify_group g = {
		.receiver = "r", .group_key = "{}", .alerts = alerts, .nalerts = 1, .nresolved = 1,
		.key = "k", .time = 120, .test = 1,
	};
	struct buf b = { 0 };

	/* resolved, no external_url, an alert without alertname */
	payload_generic_json(&g, &b);
	assert_string_equal(b.data,
	    "{\"version\":\"1\",\"receiver\":\"r\",\"status\":\"resolved\",\"groupKey\":\"{}\","
	    "\"groupLabels\":{},\"commonLabels\":{\"instance\":\"a\"},\"commonAnnotations\":{},"
	    "\"externalURL\":null,\"alerts\":[{\"status\":\"resolved\",\"labels\":{\"instance\":\"a\"},"
	    "\"annotations\":{},\"startsAt\":\"1970-01-01T00:00:00Z\","
	    "\"endsAt\":\"1970-01-01T00:01:00Z\",\"value\":0.1,\"fingerprint\":\"0000000000000001\","
	    "\"generatorURL\":null}],\"firing\":0,\"resolved\":1,"
	    "\"time\":\"1970-01-01T00:02:00Z\",\"test\":true}");
	buf_free(&b);

	/* no alerts at all */
	g.nalerts = 0;
	g.nresolved = 0;
	payload_generic_json(&g, &b);
	assert_non_null(strstr(b.data, "\"commonLabels\":{},\"commonAnnotations\":{},"
	    "\"externalURL\":null,\"alerts\":[],\"firing\":0,\"resolved\":0"));
	buf_free(&b);

	/* an external_url, an alert without alertname: the history of every rule */
	g.nalerts = 1;
	g.external_url = "http://mon:9180";
	payload_generic_json(&g, &b);
	assert_non_null(strstr(b.data, "\"generatorURL\":\"http://mon:9180/api/v1/alerts/history\"}"));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_alerts),
		cmocka_unit_test(test_empty_and_resolved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
