/* cron.h: 5-field cron expressions and their next and previous times in a time zone (docs/cron.md). */
#ifndef REEVE_CRON_H
#define REEVE_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cron;
struct tz;

/* ---- cron.c ---- */
struct cron *cron_parse(const char *text, char *err, size_t errlen);
void cron_free(struct cron *c);
int cron_next(const struct cron *c, const char *tz, time_t after, time_t *next);
int cron_prev(const struct cron *c, const char *tz, time_t at, time_t *prev);
int cron_next_in(const struct cron *c, const struct tz *z, time_t after, time_t *next);
int cron_prev_in(const struct cron *c, const struct tz *z, time_t at, time_t *prev);
int cron_tz_check(const char *tz, char *err, size_t errlen);
int cron_local(const struct tz *z, time_t t, int64_t *w);
int cron_instant(const struct tz *z, int64_t w, time_t *t);

#endif /* REEVE_CRON_H */
