/* report.c: a report's period, its sections computed from the data, and its files. */
#include <stdlib.h>

#include "report.h"

static void
section_free(struct report_section *s)
{
	for (size_t i = 0; i < s->nkpis; i++) {
		free(s->kpis[i].name);
		free(s->kpis[i].unit);
	}
	free(s->kpis);
	for (size_t i = 0; i < s->navail; i++) {
		free(s->avail[i].section);
		free(s->avail[i].target);
	}
	free(s->avail);
	for (size_t i = 0; i < s->nwindows; i++) {
		free(s->windows[i].name);
		free(s->windows[i].comment);
	}
	free(s->windows);
	free(s->graph.title);
	free(s->graph.file);
	free(s->graph.cid);
	free(s->graph.png);
	free(s->graph.pdf);
	free(s->graph.error);
	for (size_t i = 0; i < s->alerts.nseverities; i++)
		free(s->alerts.severities[i].name);
	free(s->alerts.severities);
	for (size_t i = 0; i < s->alerts.nnoisiest; i++)
		free(s->alerts.noisiest[i].name);
	free(s->alerts.noisiest);
	for (size_t i = 0; i < s->alerts.nlongest; i++) {
		free(s->alerts.longest[i].rule);
		free(s->alerts.longest[i].labels);
		free(s->alerts.longest[i].severity);
	}
	free(s->alerts.longest);
	free(s->text);
	free(s->note);
	free(s->title);
}

void
report_doc_free(struct report_doc *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nsections; i++)
		section_free(&d->sections[i]);
	free(d->sections);
	free(d->name);
	free(d->title);
	free(d->hostname);
	free(d->timezone);
	free(d->base);
	free(d);
}
