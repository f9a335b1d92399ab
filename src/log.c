/* log.c: uniform logging in the OpenBSD manner: stderr in the foreground, syslog otherwise. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "util.h"

static int use_syslog;
static volatile int max_level = LOG_LEVEL_INFO;
static __thread const char *thread_prefix;
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void
log_init(int to_syslog, const char *ident)
{
	use_syslog = to_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int level)
{
	if (level < LOG_LEVEL_ERROR)
		level = LOG_LEVEL_ERROR;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	max_level = level;
}

int
log_get_level(void)
{
	return max_level;
}

void
log_set_prefix(const char *prefix)
{
	thread_prefix = prefix;
}

static void
log_line(int level, const char *msg)
{
	const char *prefix = thread_prefix ? thread_prefix : "";

	if (use_syslog) {
		syslog(syslog_prio[level], "%s%s", prefix, msg);
	} else {
		char stamp[32];
		struct tm tm;
		time_t t = time(NULL);

		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		/* one fprintf per line: stdio locks the stream, so lines never interleave */
		fprintf(stderr, "%s reeve[%s]: %s%s\n", stamp, level_names[level], prefix, msg);
	}
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char msg[2048];

	if (level < 0)
		level = 0;
	if (level > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_line(level, msg);
}

/* Like log_vmsg at level, with ": strerror(errno)" appended; errno is preserved. */
static void
log_verrno(int level, const char *fmt, va_list ap)
{
	char msg[1800], line[2048];
	int saved = errno;

	if (level <= max_level) {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		snprintf(line, sizeof(line), "%s: %s", msg, strerror(saved));
		log_line(level, line);
	}
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

int
log_limit_allow(struct log_limit *l, double interval, unsigned long *suppressed)
{
	double now = util_monotonic();
	int allow = 0;

	pthread_mutex_lock(&limit_lock);
	if (l->last == 0 || now - l->last >= interval) {
		allow = 1;
		*suppressed = l->dropped;
		l->dropped = 0;
		l->last = now;
	} else {
		l->dropped++;
	}
	pthread_mutex_unlock(&limit_lock);
	return allow;
}
