/* template.h: alert annotation templates: {{ labels.x }}, {{ value }}, {{ humanize value }}. */
#ifndef REEVE_TEMPLATE_H
#define REEVE_TEMPLATE_H

#include <stddef.h>

#include "reeve-probe.h"

/* What a template is rendered with. Everything is borrowed for the call. */
struct template_data {
	const char *name;                  /* the rule's name: {{ name }} */
	const char *severity;              /* {{ severity }} */
	const struct reeve_label *labels;  /* the alert instance's labels: {{ labels.x }} */
	size_t nlabels;
	double value;                      /* {{ value }}; NaN when there is none */
};

/*
 * Check the syntax of a template. Returns 0, or -1 with *col set to the 1-based column
 * (in bytes) of the action at fault and a message in err, e.g. unknown helper "humanise".
 */
int template_check(const char *text, size_t *col, char *err, size_t errlen);

/*
 * Render a template (one template_check accepted) with d. A label the instance does not
 * have renders as the empty string. Returns a new string the caller frees; a template that
 * does not check renders as its text unchanged, so a message is never lost.
 */
char *template_render(const char *text, const struct template_data *d);

/*
 * The helpers, also used by reports: write into buf (at least 32 bytes) and return buf.
 * humanize: SI prefixes, 1234567 -> "1.235M", 0.001 -> "1m". humanize1024: binary
 * prefixes, 2048 -> "2Ki". humanizeDuration: seconds, 3723 -> "1h 2m 3s", 0.5 -> "500ms".
 * humanizePercentage: 0.1234 -> "12.34%". NaN and infinities print as NaN, +Inf, -Inf.
 */
char *template_humanize(char *buf, size_t size, double v);
char *template_humanize1024(char *buf, size_t size, double v);
char *template_humanize_duration(char *buf, size_t size, double v);
char *template_humanize_percentage(char *buf, size_t size, double v);

#endif /* REEVE_TEMPLATE_H */
