/* report_sample_doc.h: a realistic sample report document for the renderers' tests. */
#ifndef REEVE_REPORT_SAMPLE_DOC_H
#define REEVE_REPORT_SAMPLE_DOC_H

#include "report.h"

/* The graphs of the sample that are drawn; one more fails on purpose (its error is shown). */
#define REPORT_SAMPLE_GRAPHS 2

/*
 * A report of a fixed day (Mon 16 Nov 2026, Europe/Berlin) with every kind of section: two
 * KPI tables (one empty with the note "no data"), availability met and not met with two
 * maintenance windows, the alert summary, two text paragraphs and three graphs, two of them
 * drawn by graph_png from an RRD file made in tmpdir (tmpdir/sample.rrd, left for the
 * caller to remove) and one failed. Names hold non-ASCII text and HTML's special characters.
 * Returns a doc the caller frees with report_doc_free, or NULL with the reason on stderr
 * (librrd failed).
 */
struct report_doc *report_sample_doc(const char *tmpdir);

#endif /* REEVE_REPORT_SAMPLE_DOC_H */
