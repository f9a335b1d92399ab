/* reporter.h: scheduled reports: their slots sent exactly once, their files, the archive. */
#ifndef REEVE_REPORTER_H
#define REEVE_REPORTER_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"
#include "util.h"

struct outbox;
struct reporter;

/*
 * The reporter keeps data_dir/reports: one folder per report with the archived files of
 * its runs (NAME-STAMP.html, .pdf, .csv and the graphs' PNGs) and state.json, the slot
 * each report last sent. A slot is sent exactly once: before a run the slot is recorded as
 * claimed; the mail goes to the outbox, and the outbox records the slot as sent before any
 * delivery worker may see the mail (outbox_put_then); after a crash, a claimed slot whose
 * mail is in the spool counts as sent (reporter_recover, before the outbox starts), any
 * other claimed slot is run again. A slot missed while reeve was down is run once after
 * start when it is at most the report's grace old; older ones are skipped (and logged).
 */
struct reporter_params {
	const struct cfg *cfg;
	struct report_env env;     /* cfg, the data, the store, the alert history */
	struct outbox *outbox;     /* mail goes here; NULL: archived only */
	const char *data_dir;
};

/* Open (creating data_dir/reports) and read the state. NULL with a message in err. */
struct reporter *reporter_new(const struct reporter_params *p, char *err, size_t errlen);
/* Settle slots claimed when reeve stopped (see above): call before outbox_start. */
void reporter_recover(struct reporter *r);
/* Start the scheduler thread. */
void reporter_start(struct reporter *r);
/*
 * Use cfg from now on (reports added, changed or removed); the next slots follow it. A run
 * under way finishes first (with the old cfg, which the caller frees after this returns).
 */
void reporter_reload(struct reporter *r, const struct cfg *cfg);
/* Stop the thread (a run under way finishes first) and free; NULL is a no-op. */
void reporter_free(struct reporter *r);

/*
 * POST /api/v1/reports/NAME/run: run report name now, in the scheduler thread (its period
 * ends now; archived and mailed, not counted as a slot). Returns 0, or -1 with a message
 * in err (no such report).
 */
int reporter_request(struct reporter *r, const char *name, char *err, size_t errlen);

/* Counters for /metrics. */
struct reporter_stats {
	unsigned long runs, failures, skipped;
	double last_duration;      /* seconds the last run took */
};
void reporter_get_stats(struct reporter *r, struct reporter_stats *st);

/*
 * ---- what a run produces (also for `reeve report NAME --out DIR` and `--send`) ----------
 */

/* One file of a run: its name, type and bytes. */
struct report_file {
	char *name;                /* "ops-20261116.pdf" */
	const char *type;          /* "application/pdf" */
	struct buf data;
	const char *cid;           /* an inline image of the mail: its Content-ID; else NULL */
};

/*
 * The files of doc for r's formats: HTML with its graphs as files beside it, PDF, CSV (in
 * that order, those r->formats names), and the plain text. Returns 0 with *files (free
 * with report_files_free), or -1 with a message in err.
 */
int report_files(const struct report_doc *d, const struct cfg_report *r,
    struct report_file **files, size_t *n, char *err, size_t errlen);
void report_files_free(struct report_file *f, size_t n);

/* Write files into dir (made when missing), each atomically. Returns 0 or -1 with err. */
int report_files_write(const struct report_file *f, size_t n, const char *dir, char *err,
    size_t errlen);

/*
 * The archive as JSON for GET /api/v1/reports: every configured report with its title,
 * schedule, last slot sent and archived runs (files with sizes), newest first.
 */
void reporter_archive_json(struct reporter *r, struct buf *out);

/*
 * The path of archived file `file` of report `name` for GET /reports/NAME/FILE, or NULL
 * when there is none (names are checked: one path component, no dot files).
 */
char *reporter_archive_path(struct reporter *r, const char *name, const char *file);

/*
 * `reeve report NAME`: make report name from the stored history of cfg's data_dir (period
 * ends now; period, when not NULL, replaces the report's), write its files into outdir
 * (when not NULL) and list them on out, and with send queue its mail in the spool (a
 * running daemon sends it). Returns 0, or -1 with a message in err.
 */
int report_cli(const struct cfg *cfg, const char *name, const char *outdir, const char *period,
    int send, FILE *out, char *err, size_t errlen);

#endif /* REEVE_REPORTER_H */
