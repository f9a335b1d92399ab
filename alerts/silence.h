/* silence.h: silences and acknowledgements: label matchers with a time span, kept in one file. */
#ifndef REEVE_SILENCE_H
#define REEVE_SILENCE_H

#include <stddef.h>
#include <stdio.h>

#include "reeve-probe.h"
#include "util.h"

/*
 * A silence mutes the alerts its matchers select from starts_at to ends_at: they are left
 * out of notifications (they still fire, show in /api/v1/alerts and the history). An
 * acknowledgement (ack) says someone took care of the alerts it selects: they are not
 * escalated and not repeated until it ends, but changes are still told.
 *
 * Both live in one file, data_dir/alerts/silences.json, written atomically under an
 * exclusive lock (silences.json.lock) so that `reeve silence ...` and a running daemon can
 * change it at the same time; the daemon reads it again when it changed. Entries that
 * ended more than SILENCE_KEEP ago are dropped.
 */
#define SILENCE_KEEP (5 * 86400.0)
#define SILENCE_MAX 10000          /* entries in the file */
#define SILENCE_MAX_TEXT 4096      /* bytes of matchers, comment or author */
#define SILENCE_ACK_DEFAULT 86400.0 /* an acknowledgement without an end lasts a day */

enum silence_kind { SILENCE_MUTE, SILENCE_ACK };

struct silences;

/* Open the store in file path (created on the first change). NULL with a message in err. */
struct silences *silences_open(const char *path, char *err, size_t errlen);
void silences_free(struct silences *s);

/* Read the file again if it changed since the last look (cheap: a stat). */
void silences_refresh(struct silences *s);

/*
 * Add an entry: matchers as in a [route] match (`alertname="DiskFull", instance=~"web.*"`),
 * from starts (0: now) to ends (> starts and in the future), with a comment and an author
 * (both required, for whoever wonders later why alerts were quiet). Writes the file.
 * Returns 0 with its id (16 hex digits) in id, or -1 with a message in err.
 */
int silences_add(struct silences *s, enum silence_kind kind, const char *matchers,
    double starts, double ends, const char *comment, const char *author, char id[17],
    char *err, size_t errlen);

/* End entry id now. Returns 0, or -1 with a message in err (no such id, already ended). */
int silences_expire(struct silences *s, const char *id, char *err, size_t errlen);

/*
 * Whether an entry of kind is in force at now for an alert with these labels; *id (may be
 * NULL) gets the id of one that is (valid until the next call on s).
 */
int silences_match(struct silences *s, enum silence_kind kind, const struct reeve_label *l,
    size_t n, double now, const char **id);

/*
 * POST /api/v1/silences and POST /api/v1/alerts/ID/ack: a JSON body {"matchers": "...",
 * "startsAt": time, "endsAt": time | "duration": "2h", "comment": "...", "createdBy":
 * "..."} (times RFC 3339 or Unix seconds). matchers, when not NULL, replaces the body's
 * (an ack names its alert in the path); default_duration is used without endsAt and
 * duration (0: one of them is required). Returns 0 with the id, or -1 with what is wrong.
 */
int silences_api_add(struct silences *s, enum silence_kind kind, const char *matchers,
    const char *body, size_t len, double default_duration, char id[17], char *err,
    size_t errlen);

/* GET /api/v1/silences: {"status":"success","data":[...]} appended to out. */
void silences_json(struct silences *s, double now, struct buf *out);

/* `reeve silence list`: a table of the entries in force or to come (all: ended ones too). */
void silences_print(struct silences *s, double now, int all, FILE *out);

#endif /* REEVE_SILENCE_H */
