/* expo.c: the Prometheus text exposition format 0.0.4. */
#include <string.h>

#include "expo.h"
#include "registry.h"

void
expo_escape_label(struct buf *b, const char *v)
{
	const char *p = v, *run = v;

	for (; *p; p++) {
		const char *esc = NULL;

		if (*p == '\\')
			esc = "\\\\";
		else if (*p == '"')
			esc = "\\\"";
		else if (*p == '\n')
			esc = "\\n";
		if (esc) {
			buf_append(b, run, (size_t)(p - run));
			buf_append(b, esc, 2);
			run = p + 1;
		}
	}
	buf_append(b, run, (size_t)(p - run));
}

void
expo_escape_help(struct buf *b, const char *v)
{
	const char *p = v, *run = v;

	for (; *p; p++) {
		if (*p == '\\' || *p == '\n') {
			buf_append(b, run, (size_t)(p - run));
			buf_append(b, *p == '\\' ? "\\\\" : "\\n", 2);
			run = p + 1;
		}
	}
	buf_append(b, run, (size_t)(p - run));
}

void
expo_render(struct registry *r, struct buf *out)
{
	struct reg_family **fams;
	size_t nfam;
	char num[40];

	reg_rdlock(r);
	fams = reg_families(r, &nfam);
	for (size_t i = 0; i < nfam; i++) {
		struct reg_family *f = fams[i];
		size_t live = 0;

		for (size_t j = 0; j < f->nseries; j++)
			live += !f->series[j]->stale;
		if (live == 0)
			continue;
		buf_printf(out, "# HELP %s ", f->name);
		expo_escape_help(out, f->help);
		buf_printf(out, "\n# TYPE %s %s\n", f->name,
		    f->type == REEVE_COUNTER ? "counter" : "gauge");
		for (size_t j = 0; j < f->nseries; j++) {
			struct reg_series *s = f->series[j];

			if (s->stale)
				continue;
			buf_puts(out, s->key);
			buf_putc(out, ' ');
			buf_puts(out, util_fmt_double(num, sizeof(num), s->value));
			buf_putc(out, '\n');
		}
	}
	reg_unlock(r);
}
