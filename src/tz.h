/* tz.h: time zones without TZ and tzset: TZif files of the tz database, POSIX TZ rules, civil dates. */
#ifndef REEVE_TZ_H
#define REEVE_TZ_H

/*
 * The daemon has threads, so it cannot switch time zones through setenv("TZ") and tzset.
 * A struct tz is read from /usr/share/zoneinfo/NAME (TZif version 1 to 4, RFC 8536) and
 * answers "what is the UTC offset at this instant" for any time: from the file's
 * transitions, and past the last one from its POSIX TZ footer. A loaded zone is immutable,
 * so threads may share it.
 */

#include <stddef.h>
#include <stdint.h>

#define TZ_ZONEINFO "/usr/share/zoneinfo"

struct tz;

/* ---- tz.c ---- */
struct tz *tz_load(const char *name, char *err, size_t errlen);
struct tz *tz_from_tzif(const unsigned char *data, size_t len, char *err, size_t errlen);
struct tz *tz_from_posix(const char *s, char *err, size_t errlen);
void tz_free(struct tz *z);
long tz_span(const struct tz *z, int64_t t, int64_t *start, int64_t *end);
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int tz_days_in_month(int64_t y, int m);
int tz_weekday(int64_t days);

#endif /* REEVE_TZ_H */
