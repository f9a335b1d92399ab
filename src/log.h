/* log.h: uniform logging in the OpenBSD manner: stderr in the foreground, syslog otherwise. */
#ifndef REEVE_LOG_H
#define REEVE_LOG_H

#include <stdarg.h>

/* Levels match enum reeve_log_level in probes/reeve-probe.h. */
enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN = 1, LOG_LEVEL_INFO = 2, LOG_LEVEL_DEBUG = 3 };

/* Start logging: to stderr when use_syslog is 0, else to syslog with the given identity. */
void log_init(int use_syslog, const char *ident);
/* Messages above level are dropped. Safe to call while other threads log. */
void log_set_level(int level);
int log_get_level(void);

/*
 * A per-thread prefix ("probe cpu: "), used for messages logged on behalf of a probe.
 * The string is borrowed: it must stay valid until the prefix is changed or cleared (NULL).
 */
void log_set_prefix(const char *prefix);

/* log_warn appends ": strerror(errno)"; log_warnx does not. fatal/fatalx exit(1). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_vmsg(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/*
 * Rate limiting for a repeating failure: a struct log_limit per failure site. Returns 1 when
 * a message should be logged now (the first one, then at most one per interval seconds),
 * 0 when it should be suppressed; *suppressed is the count dropped since the last one.
 */
struct log_limit {
	double last;
	unsigned long dropped;
};
int log_limit_allow(struct log_limit *l, double interval, unsigned long *suppressed);

#endif /* REEVE_LOG_H */
