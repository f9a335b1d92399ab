/* notifier.c: the receivers of notifications: the type of each [notifier NAME], and `reeve notify test`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifier.h"
#include "util.h"

/* The type by enum cfg_notifier_kind (the types are declared in notify.h). */
const struct notifier_type *
notifier_type_of(const struct cfg_notifier *n)
{
	switch (n->type) {
	case CFG_NOTIFIER_EMAIL: return &notifier_email;
	case CFG_NOTIFIER_WEBHOOK: return &notifier_webhook;
	case CFG_NOTIFIER_ALERTMANAGER: return &notifier_alertmanager;
	case CFG_NOTIFIER_EXEC: return &notifier_exec;
	}
	return NULL;
}

const struct cfg_notifier *
notifier_find(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nnotifiers; i++)
		if (strcmp(cfg->notifiers[i].name, name) == 0)
			return &cfg->notifiers[i];
	return NULL;
}

static const char *const status_names[] = { "sent", "failed, will be retried",
	"failed permanently" };

int
notifier_test(const struct cfg *cfg, const char *name, FILE *out)
{
	const struct cfg_notifier *n = notifier_find(cfg, name);
	const struct notifier_type *type;
	struct reeve_label labels[3], ann[2];
	struct notify_alert a = { 0 };
	struct notify_group g = { 0 };
	struct notify_result res = { 0 };
	struct buf body = { 0 };
	char key[64], fp[17], err[512], *summary, *desc;
	double now = util_now(), t0 = util_monotonic();
	unsigned long long h;
	int rc = 1;

	if (n == NULL) {
		fprintf(out, "reeve: notify test: no [notifier %s] in the configuration\n", name);
		return 1;
	}
	if ((type = notifier_type_of(n)) == NULL || type->render == NULL) {
		fprintf(out, "reeve: notify test: notifiers of this type are not built in\n");
		return 1;
	}
	labels[0] = (struct reeve_label){ "alertname", "ReeveTest" };
	labels[1] = (struct reeve_label){ "instance", cfg->hostname };
	labels[2] = (struct reeve_label){ "severity", "info" };
	summary = xasprintf("Test notification from reeve on %s", cfg->hostname);
	desc = xasprintf("Sent by `reeve notify test %s`: reeve reaches this receiver.", name);
	ann[0] = (struct reeve_label){ "summary", summary };
	ann[1] = (struct reeve_label){ "description", desc };
	h = util_hash(cfg->hostname, strlen(cfg->hostname)) ^ (unsigned long long)(now * 1e6);
	snprintf(fp, sizeof(fp), "%016llx", util_hash(cfg->hostname, strlen(cfg->hostname)));
	snprintf(key, sizeof(key), "reeve-test-%016llx", h);
	a.labels = labels;
	a.nlabels = 3;
	a.annotations = ann;
	a.nannotations = 2;
	a.firing = 1;
	a.starts_at = now;
	a.value = NAN;
	a.fingerprint = fp;
	g.receiver = n->name;
	g.group_key = "test/{alertname=\"ReeveTest\"}";
	g.group_labels = labels;
	g.ngroup_labels = 1;
	g.alerts = &a;
	g.nalerts = 1;
	g.nfiring = 1;
	g.key = key;
	g.time = now;
	g.external_url = cfg->external_url;
	g.hostname = cfg->hostname;
	g.test = 1;
	if (type->render(n, &g, NULL, &body, err, sizeof(err)) == -1) {
		fprintf(out, "reeve: notify test: %s: cannot render the message: %s\n", name, err);
		goto out;
	}
	type->send(n, key, (const unsigned char *)body.data, body.len, &res);
	fprintf(out, "%s: %s (%s) after %.1f s", name, status_names[res.status], type->name,
	    util_monotonic() - t0);
	if (res.detail[0] != '\0')
		fprintf(out, ": %s", res.detail);
	if (res.retry_after > 0)
		fprintf(out, " (retry after %.0f s)", res.retry_after);
	fputc('\n', out);
	rc = res.status == NOTIFY_SENT ? 0 : 1;
out:
	buf_free(&body);
	free(summary);
	free(desc);
	return rc;
}
