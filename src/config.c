/* config.c: reads reeve.conf (and its includes) with inih into a struct cfg, reporting every error as file:line. */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Debian's libinih passes the line number as a fifth argument (REFERENCE.md 6.2). */
#define INI_HANDLER_LINENO 1
#include <ini.h>

#include "auth.h"
#include "config.h"
#include "cron.h"
#include "httpclient.h"
#include "log.h"
#include "report.h"
#include "spawn.h"
#include "template.h"
#include "tls.h"
#include "util.h"

#ifndef PROBEDIR
#error "PROBEDIR (the installed probe directory) must be defined by the build"
#endif

#define CFG_MAX_LINE 4000            /* characters per line, without the newline */
#define CFG_MAX_FILE (16u << 20)     /* bytes per configuration file */
#define CFG_MAX_DEPTH 8              /* include nesting */
#define CFG_MAX_DURATION (100.0 * 366 * 86400)
#define CFG_MAX_SECRET_FILE 4096     /* bytes of a secret_file */
#define CFG_MIN_SECRET 16            /* bytes of a [token NAME] secret */

/* ---- the key table --------------------------------------------------------------------- */

enum sect {
	S_NONE, S_REEVE, S_HTTP, S_STORE, S_OUTBOX, S_PROBE, S_TOKEN, S_ALERT, S_RECORD,
	S_NOTIFIER, S_ROUTE, S_INHIBIT, S_MAINT, S_REPORT, S_INVALID
};

enum ktype {
	K_STRING,    /* any text; F_EMPTY_NULL: an empty value means "none" (NULL) */
	K_DURATION,  /* double seconds */
	K_SIZE,      /* uint64_t bytes */
	K_UINT,      /* unsigned */
	K_U64,       /* uint64_t */
	K_BOOL,      /* int */
	K_ENUM,      /* int index into choices, or with F_ENUM_STR the choice as a string */
	K_LISTEN,    /* string, checked by cfg_parse_listen */
	K_RRDCACHED, /* string: unix:/path, /path or host[:port]; empty means none */
	K_INCLUDE,   /* handled by the parser, stores nothing */
	K_SECRET,    /* string never repeated in a message */
	K_SECRET_FILE, /* path of a file whose one line is the secret (read by set_secret) */
	K_BITS,      /* unsigned bitmask: choices[i] sets bit 1 << i ("read, push, admin") */
	K_WORD,      /* string of lower-case letters [a-z]+ */
	K_EXPR,      /* struct cfg_expr: the text with its file:line, parsed by the rule engine */
	K_DOUBLE,    /* double, a plain decimal number */
	K_LIST,      /* char ** at off and its size_t count right after: comma-separated words */
	K_URL,       /* string: an http:// or https:// URL */
	K_SECRET_PATH /* string: a path (relative to the config file) whose one line is a secret */
};

#define F_EMPTY_NULL 1u
#define F_ENUM_STR 2u
#define F_PATH 4u        /* K_STRING: a path, relative ones resolved against the file's directory */
#define F_NONE 8u        /* K_BITS: "none" (no bit) is allowed */
/* [notifier NAME] keys: the types that take the key */
#define F_EMAIL 0x100u
#define F_WEBHOOK 0x200u
#define F_AM 0x400u
#define F_EXEC 0x800u
#define F_ANY_NOTIFIER (F_EMAIL | F_WEBHOOK | F_AM | F_EXEC)

struct key {
	enum sect sect;
	const char *name;
	enum ktype type;
	size_t off;  /* into struct cfg, or struct cfg_probe, _token, _alert, _record for those */
	const char *def; /* default, parsed like a value; NULL = none or computed */
	double min, max;
	const char *const *choices;
	unsigned flags;
};

static const char *const log_levels[] = { "error", "warning", "info", "debug", NULL };
static const char *const log_targets[] = { "stderr", "syslog", NULL };
static const char *const presets[] = { "default", "compact", "long", NULL };
static const char *const nodata_modes[] = { "alert", "ok", "keep", NULL }; /* enum cfg_nodata */
/* enum cfg_notifier_kind, enum cfg_starttls, enum cfg_webhook_format */
static const char *const notifier_kinds[] = { "email", "webhook", "alertmanager", "exec", NULL };
static const char *const starttls_modes[] = { "required", "opportunistic", "off", NULL };
/* bit i of a K_BITS value is choices[i]: AUTH_READ, AUTH_PUSH, AUTH_ADMIN and AUTH_OPEN_* */
static const char *const role_names[] = { "read", "push", "admin", NULL };
static const char *const open_names[] = { "healthz", "metrics", "status", "api", NULL };
static const char *const webhook_formats[] = { "generic", "slack", "alertmanager", "pagerduty",
	NULL };

#define C(f) offsetof(struct cfg, f)
#define P(f) offsetof(struct cfg_probe, f)
#define T(f) offsetof(struct cfg_token, f)
#define A(f) offsetof(struct cfg_alert, f)
#define R(f) offsetof(struct cfg_record, f)
#define N(f) offsetof(struct cfg_notifier, f)
#define RT(f) offsetof(struct cfg_route, f)
#define IH(f) offsetof(struct cfg_inhibit, f)
#define MT(f) offsetof(struct cfg_maintenance, f)
#define RP(f) offsetof(struct cfg_report, f)
static const struct key keys[] = {
	{ S_REEVE, "data_dir", K_STRING, C(data_dir), "reeve-data", 0, 0, NULL, 0 },
	{ S_REEVE, "interval", K_DURATION, C(interval), "10s", 1, 86400, NULL, 0 },
	{ S_REEVE, "hostname", K_STRING, C(hostname), NULL, 0, 0, NULL, 0 },
	{ S_REEVE, "plugin_dir", K_STRING, C(plugin_dir), PROBEDIR, 0, 0, NULL, 0 },
	{ S_REEVE, "log_level", K_ENUM, C(log_level), "info", 0, 0, log_levels, 0 },
	{ S_REEVE, "log_target", K_ENUM, C(log_target), "stderr", 0, 0, log_targets, F_ENUM_STR },
	{ S_REEVE, "memory_window", K_DURATION, C(memory_window), "15m", 0, 86400, NULL, 0 },
	{ S_REEVE, "user", K_STRING, C(user), NULL, 0, 0, NULL, F_EMPTY_NULL },
	{ S_REEVE, "include", K_INCLUDE, 0, NULL, 0, 0, NULL, 0 },
	{ S_HTTP, "listen", K_LISTEN, C(listen), "127.0.0.1:9180", 0, 0, NULL, 0 },
	{ S_HTTP, "token", K_STRING, C(token), NULL, 0, 0, NULL, F_EMPTY_NULL },
	{ S_HTTP, "timeout", K_DURATION, C(http_timeout), "30s", 1, 3600, NULL, 0 },
	{ S_HTTP, "max_connections", K_UINT, C(max_connections), "256", 1, 65535, NULL, 0 },
	{ S_HTTP, "max_per_ip", K_UINT, C(max_per_ip), "32", 1, 65535, NULL, 0 },
	{ S_HTTP, "memory_limit", K_SIZE, C(memory_limit), "64KiB", 4096, 16777216, NULL, 0 },
	{ S_HTTP, "threads", K_UINT, C(http_threads), "2", 1, 64, NULL, 0 },
	{ S_HTTP, "push_max_body", K_SIZE, C(push_max_body), "4MiB", 1024, 268435456.0, NULL, 0 },
	{ S_HTTP, "push_ttl", K_DURATION, C(push_ttl), "0", 0, 31622400, NULL, 0 },
	{ S_HTTP, "external_url", K_URL, C(external_url), NULL, 0, 0, NULL, F_EMPTY_NULL },
	{ S_HTTP, "open", K_BITS, C(http_open), "healthz", 0, 0, open_names, F_NONE },
	{ S_HTTP, "max_body", K_SIZE, C(max_body), "1MiB", 1024, 268435456.0, NULL, 0 },
	{ S_HTTP, "query_timeout", K_DURATION, C(query_timeout), "2m", 0.1, 3600, NULL, 0 },
	{ S_HTTP, "query_max_samples", K_U64, C(query_max_samples), "50000000", 1000, 1e12, NULL, 0 },
	{ S_HTTP, "tls_cert", K_STRING, C(tls_cert), NULL, 0, 0, NULL, F_EMPTY_NULL | F_PATH },
	{ S_HTTP, "tls_key", K_STRING, C(tls_key), NULL, 0, 0, NULL, F_EMPTY_NULL | F_PATH },
	{ S_STORE, "rrdcached", K_RRDCACHED, C(rrdcached), NULL, 0, 0, NULL, F_EMPTY_NULL },
	{ S_STORE, "rrdcached_dir", K_STRING, C(rrdcached_dir), NULL, 0, 0, NULL, 0 },
	{ S_STORE, "preset", K_ENUM, C(preset), "default", 0, 0, presets, F_ENUM_STR },
	{ S_STORE, "queue_size", K_U64, C(queue_size), "100000", 100, 100000000, NULL, 0 },
	{ S_STORE, "flush_timeout", K_DURATION, C(flush_timeout), "10s", 0, 3600, NULL, 0 },
	{ S_STORE, "holt_winters", K_STRING, C(holt_winters), NULL, 0, 0, NULL, F_EMPTY_NULL },
	{ S_STORE, "holt_winters_season", K_DURATION, C(hw_season), "1d", 60, 31622400, NULL, 0 },
	{ S_PROBE, "type", K_STRING, P(type), NULL, 0, 0, NULL, 0 },
	{ S_PROBE, "interval", K_DURATION, P(interval), NULL, 1, 86400, NULL, 0 },
	{ S_PROBE, "timeout", K_DURATION, P(timeout), NULL, 0.1, 3600, NULL, 0 },
	{ S_TOKEN, "secret", K_SECRET, T(secret), NULL, 0, 0, NULL, 0 },
	{ S_TOKEN, "secret_file", K_SECRET_FILE, T(secret_file), NULL, 0, 0, NULL, 0 },
	{ S_TOKEN, "roles", K_BITS, T(roles), NULL, 0, 0, role_names, 0 },
	/* defaults of rule sections are set when the section opens; NULL ones are computed */
	{ S_ALERT, "expr", K_EXPR, A(expr), NULL, 0, 0, NULL, 0 },
	{ S_ALERT, "for", K_DURATION, A(for_), "0", 0, 366 * 86400, NULL, 0 },
	{ S_ALERT, "keep_firing_for", K_DURATION, A(keep_firing_for), "0", 0, 366 * 86400, NULL, 0 },
	{ S_ALERT, "recover", K_EXPR, A(recover), NULL, 0, 0, NULL, 0 },
	{ S_ALERT, "nodata", K_ENUM, A(nodata), "keep", 0, 0, nodata_modes, 0 },
	{ S_ALERT, "nodata_grace", K_DURATION, A(nodata_grace), NULL, 0, 366 * 86400, NULL, 0 },
	{ S_ALERT, "severity", K_WORD, A(severity), "warning", 0, 0, NULL, 0 },
	{ S_ALERT, "eval_interval", K_DURATION, A(eval_interval), NULL, 1, 86400, NULL, 0 },
	{ S_ALERT, "flap_changes", K_UINT, A(flap_changes), "6", 0, 1000, NULL, 0 },
	{ S_ALERT, "flap_window", K_DURATION, A(flap_window), "1h", 1, 7 * 86400, NULL, 0 },
	{ S_RECORD, "expr", K_EXPR, R(expr), NULL, 0, 0, NULL, 0 },
	{ S_RECORD, "eval_interval", K_DURATION, R(eval_interval), NULL, 1, 86400, NULL, 0 },
	{ S_OUTBOX, "retry_initial", K_DURATION, C(retry_initial), "10s", 0.1, 3600, NULL, 0 },
	{ S_OUTBOX, "retry_factor", K_DOUBLE, C(retry_factor), "2", 1, 10, NULL, 0 },
	{ S_OUTBOX, "retry_max", K_DURATION, C(retry_max), "10m", 1, 86400, NULL, 0 },
	{ S_OUTBOX, "max_age", K_DURATION, C(max_age), "24h", 60, 30 * 86400, NULL, 0 },
	/* notifier keys say in their flags which types take them; defaults set at open */
	{ S_NOTIFIER, "type", K_ENUM, N(type), NULL, 0, 0, notifier_kinds, F_ANY_NOTIFIER },
	{ S_NOTIFIER, "timeout", K_DURATION, N(timeout), "30s", 1, 600, NULL, F_ANY_NOTIFIER },
	{ S_NOTIFIER, "server", K_STRING, N(server), NULL, 0, 0, NULL, F_EMAIL },
	{ S_NOTIFIER, "starttls", K_ENUM, N(starttls), "required", 0, 0, starttls_modes, F_EMAIL },
	{ S_NOTIFIER, "ca_file", K_STRING, N(ca_file), NULL, 0, 0, NULL, F_EMAIL | F_PATH },
	{ S_NOTIFIER, "username", K_STRING, N(username), NULL, 0, 0, NULL, F_EMAIL },
	{ S_NOTIFIER, "password_file", K_SECRET_PATH, N(password_file), NULL, 0, 0, NULL, F_EMAIL },
	{ S_NOTIFIER, "from", K_STRING, N(from), NULL, 0, 0, NULL, F_EMAIL },
	{ S_NOTIFIER, "to", K_LIST, N(to), NULL, 0, 0, NULL, F_EMAIL },
	{ S_NOTIFIER, "url", K_URL, N(url), NULL, 0, 0, NULL, F_WEBHOOK | F_AM },
	{ S_NOTIFIER, "format", K_ENUM, N(format), "generic", 0, 0, webhook_formats, F_WEBHOOK },
	{ S_NOTIFIER, "secret_file", K_SECRET_PATH, N(secret_file), NULL, 0, 0, NULL, F_WEBHOOK },
	{ S_NOTIFIER, "routing_key_file", K_SECRET_PATH, N(routing_key_file), NULL, 0, 0, NULL,
	    F_WEBHOOK },
	{ S_NOTIFIER, "allow_networks", K_STRING, N(allow_networks), NULL, 0, 0, NULL,
	    F_WEBHOOK | F_AM | F_EMPTY_NULL },
	{ S_NOTIFIER, "deny_networks", K_STRING, N(deny_networks), NULL, 0, 0, NULL,
	    F_WEBHOOK | F_AM | F_EMPTY_NULL },
	{ S_NOTIFIER, "command", K_STRING, N(command), NULL, 0, 0, NULL, F_EXEC },
	{ S_ROUTE, "match", K_EXPR, RT(match), NULL, 0, 0, NULL, 0 },
	{ S_ROUTE, "notify", K_LIST, RT(notify), NULL, 0, 0, NULL, 0 },
	{ S_ROUTE, "continue", K_BOOL, RT(continue_), "no", 0, 0, NULL, 0 },
	{ S_ROUTE, "group_by", K_LIST, RT(group_by), "alertname", 0, 0, NULL, 0 },
	{ S_ROUTE, "group_wait", K_DURATION, RT(group_wait), "30s", 0, 86400, NULL, 0 },
	{ S_ROUTE, "group_interval", K_DURATION, RT(group_interval), "5m", 1, 86400, NULL, 0 },
	{ S_ROUTE, "repeat_interval", K_DURATION, RT(repeat_interval), "4h", 1, 30 * 86400, NULL,
	    0 },
	{ S_ROUTE, "escalate_after", K_DURATION, RT(escalate_after), "0", 0, 30 * 86400, NULL, 0 },
	{ S_ROUTE, "escalate_to", K_STRING, RT(escalate_to), NULL, 0, 0, NULL, 0 },
	{ S_INHIBIT, "source_match", K_EXPR, IH(source), NULL, 0, 0, NULL, 0 },
	{ S_INHIBIT, "target_match", K_EXPR, IH(target), NULL, 0, 0, NULL, 0 },
	{ S_INHIBIT, "equal", K_LIST, IH(equal), NULL, 0, 0, NULL, 0 },
	{ S_MAINT, "schedule", K_STRING, MT(schedule), NULL, 0, 0, NULL, 0 },
	{ S_MAINT, "timezone", K_STRING, MT(timezone), NULL, 0, 0, NULL, 0 },
	{ S_MAINT, "duration", K_DURATION, MT(duration), NULL, 60, 366 * 86400, NULL, 0 },
	{ S_MAINT, "match", K_EXPR, MT(match), NULL, 0, 0, NULL, 0 },
	{ S_MAINT, "comment", K_STRING, MT(comment), NULL, 0, 0, NULL, 0 },
	{ S_REPORT, "title", K_STRING, RP(title), NULL, 0, 0, NULL, 0 },
	{ S_REPORT, "schedule", K_STRING, RP(schedule), NULL, 0, 0, NULL, 0 },
	{ S_REPORT, "timezone", K_STRING, RP(timezone), NULL, 0, 0, NULL, 0 },
	{ S_REPORT, "period", K_STRING, RP(period), "1d", 0, 0, NULL, 0 },
	{ S_REPORT, "to", K_LIST, RP(to), NULL, 0, 0, NULL, 0 },
	{ S_REPORT, "cc", K_LIST, RP(cc), NULL, 0, 0, NULL, 0 },
	{ S_REPORT, "formats", K_LIST, RP(formats), "html, pdf, csv", 0, 0, NULL, 0 },
	{ S_REPORT, "notifier", K_STRING, RP(notifier), NULL, 0, 0, NULL, 0 },
	{ S_REPORT, "objective", K_STRING, RP(objective), "99.9%", 0, 0, NULL, 0 },
	{ S_REPORT, "retention", K_DURATION, RP(retention), "90d", 86400, 3660 * 86400, NULL, 0 },
	{ S_REPORT, "grace", K_DURATION, RP(grace), "12h", 0, 31 * 86400, NULL, 0 },
};
#undef C
#undef P
#undef T
#undef A
#undef R
#undef N
#undef RT
#undef IH
#undef MT
#undef RP
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const sect_names[] = { "", "reeve", "http", "store", "outbox", "probe",
	"token", "alert", "record", "notifier", "route", "inhibit", "maintenance", "report", "" };

/*
 * The notification sections: arrays in struct cfg whose elements start with their name and
 * keep where each key was set (locs, one per key of the table), handled alike.
 */
struct nsect {
	enum sect sect;
	size_t arr, count, size;       /* in struct cfg: the array and its count; element size */
	size_t name, file, line, locs; /* in the element */
};

#define NSECT(s, a, t) { s, offsetof(struct cfg, a), offsetof(struct cfg, n##a), sizeof(t), \
	offsetof(t, name), offsetof(t, file), offsetof(t, line), offsetof(t, locs) }
static const struct nsect nsects[] = {
	NSECT(S_NOTIFIER, notifiers, struct cfg_notifier),
	NSECT(S_ROUTE, routes, struct cfg_route),
	NSECT(S_INHIBIT, inhibits, struct cfg_inhibit),
	NSECT(S_MAINT, maintenances, struct cfg_maintenance),
	NSECT(S_REPORT, reports, struct cfg_report),
};
#undef NSECT
#define NNSECTS (sizeof(nsects) / sizeof(nsects[0]))

static const struct nsect *
nsect_of(enum sect s)
{
	for (size_t i = 0; i < NNSECTS; i++)
		if (nsects[i].sect == s)
			return &nsects[i];
	return NULL;
}

/* Fields of a notification section's element el (a struct cfg_notifier *, ...). */
#define NS_FIELD(d, el, f, type) ((type *)(void *)((char *)(el) + (d)->f))

/* Keys of their own sections, not of struct cfg: no defaults, no cfg_where, no free. */
#define NAMED_SECT(s) ((s) == S_PROBE || (s) == S_TOKEN || (s) == S_ALERT || (s) == S_RECORD || \
	nsect_of(s) != NULL)
#define RULE_SECT(s) ((s) == S_ALERT || (s) == S_RECORD)
#define SECTIONS_HINT "[reeve], [http], [store], [outbox], [probe NAME], [token NAME], " \
	"[alert NAME], [record NAME], [notifier NAME], [route NAME], [inhibit NAME], " \
	"[maintenance NAME] or [report NAME]"


/* ---- value parsers ---------------------------------------------------------------------- */

static const char *const dur_hint = "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)";

/*
 * Durations. strtod is only run on text already checked to be digits with an optional
 * fraction, so "nan", "inf", "1e400", hex floats and signs never reach it.
 */
int
cfg_parse_duration(const char *s, double *seconds, const char **errstr)
{
	static const struct { const char *u; double mult; } units[] = {
		{ "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
		{ "w", 7 * 86400 },
	};
	const char *p = s;
	char num[64];
	size_t n, i;
	double v;

	if (*s == '\0') {
		*errstr = "is empty (expected a duration such as 10s)";
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		*seconds = 0;
		return 0;
	}
	if (*s == '-') {
		*errstr = "is negative (a duration is 0 or more)";
		return -1;
	}
	while (isdigit((unsigned char)*p))
		p++;
	if (p == s) {
		*errstr = dur_hint;
		return -1;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p)) {
			*errstr = dur_hint;
			return -1;
		}
		while (isdigit((unsigned char)*p))
			p++;
	}
	n = (size_t)(p - s);
	if (*p == '\0') {
		*errstr = dur_hint;
		return -1;
	}
	if (isspace((unsigned char)*p)) {
		*errstr = "is not a duration (write the unit right after the number: 10s)";
		return -1;
	}
	if (n >= sizeof(num)) {
		*errstr = "is too large";
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].u) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		*errstr = "has an unknown unit (use ms, s, m, h, d or w)";
		return -1;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	errno = 0;
	v = strtod(num, NULL) * units[i].mult;
	if (errno == ERANGE || !isfinite(v) || v > CFG_MAX_DURATION) {
		*errstr = "is too large (at most 100 years)";
		return -1;
	}
	*seconds = v;
	return 0;
}

/* Sizes: whole numbers only, every multiplication checked for overflow. */
int
cfg_parse_size(const char *s, uint64_t *bytes, const char **errstr)
{
	static const struct { const char *u; uint64_t mult; } units[] = {
		{ "B", 1 },
		{ "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 }, { "TiB", 1ull << 40 },
		{ "kB", 1000ull }, { "MB", 1000000ull }, { "GB", 1000000000ull },
		{ "TB", 1000000000000ull },
	};
	const char *p = s;
	uint64_t v = 0;
	size_t i;

	if (*s == '\0') {
		*errstr = "is empty (expected a size such as 64KiB)";
		return -1;
	}
	if (strcmp(s, "0") == 0) {
		*bytes = 0;
		return 0;
	}
	if (*s == '-') {
		*errstr = "is negative (a size is 0 or more)";
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10) {
			*errstr = "is too large";
			return -1;
		}
		v = v * 10 + d;
	}
	if (p == s || *p == '\0' || *p == '.') {
		*errstr = "is not a size (use a whole number and a unit: 512B, 64KiB, 10MiB, 1GiB)";
		return -1;
	}
	if (isspace((unsigned char)*p)) {
		*errstr = "is not a size (write the unit right after the number: 64KiB)";
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(p, units[i].u) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		*errstr = "has an unknown unit (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)";
		return -1;
	}
	if (v > UINT64_MAX / units[i].mult) {
		*errstr = "is too large";
		return -1;
	}
	*bytes = v * units[i].mult;
	return 0;
}

int
cfg_parse_bool(const char *s, int *out, const char **errstr)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	*errstr = "is not a boolean (use yes or no)";
	return -1;
}

/* A port: 1..65535 in decimal digits only. */
static int
parse_port(const char *s, unsigned *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* A host name or IPv4 address: letters, digits, '-' and '.', not empty. */
static int
valid_hostname(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* An IPv6 address (optionally with a %zone) of n characters. */
static int
valid_ipv6(const char *s, size_t n)
{
	char tmp[INET6_ADDRSTRLEN + 64];
	struct in6_addr a;
	char *pct;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if ((pct = strchr(tmp, '%')) != NULL) {
		if (pct[1] == '\0')
			return 0;
		*pct = '\0';
	}
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/*
 * Split "host:port" or "[v6]:port". need_port: the port is required. Sets *h and *hn to the
 * host inside the string and *port (0 when absent and allowed).
 */
static int
split_hostport(const char *s, int need_port, const char **h, size_t *hn, unsigned *port,
    const char **errstr)
{
	const char *colon, *end;

	*port = 0;
	if (*s == '\0') {
		*errstr = "is empty (expected host:port, e.g. 127.0.0.1:9180 or [::1]:9180)";
		return -1;
	}
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || !valid_ipv6(s + 1, (size_t)(end - s - 1))) {
			*errstr = "is not a valid [IPv6 address]:port";
			return -1;
		}
		*h = s + 1;
		*hn = (size_t)(end - s - 1);
		colon = end[1] == '\0' ? NULL : end + 1;
		if (colon != NULL && *colon != ':') {
			*errstr = "has text after ']' (expected [IPv6 address]:port)";
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			*errstr = "looks like an IPv6 address: put it in brackets, e.g. [::1]:9180";
			return -1;
		}
		*h = s;
		*hn = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (!valid_hostname(s, *hn)) {
			*errstr = "has an invalid host (expected a host name, an IPv4 address or "
			    "[IPv6 address])";
			return -1;
		}
	}
	if (colon == NULL) {
		if (need_port) {
			*errstr = "has no port (expected host:port, e.g. 127.0.0.1:9180)";
			return -1;
		}
		return 0;
	}
	if (parse_port(colon + 1, port) == -1) {
		*errstr = "has an invalid port (expected 1 to 65535)";
		return -1;
	}
	return 0;
}

int
cfg_parse_listen(const char *s, char **host, unsigned *port, const char **errstr)
{
	const char *h;
	size_t hn;
	unsigned p;

	if (split_hostport(s, 1, &h, &hn, &p, errstr) == -1)
		return -1;
	if (host != NULL)
		*host = xstrndup(h, hn);
	if (port != NULL)
		*port = p;
	return 0;
}

/* rrdcached addresses as librrd takes them: unix:PATH, an absolute PATH or host[:port]. */
static int
parse_rrdcached(const char *s, const char **errstr)
{
	const char *h;
	size_t hn;
	unsigned p;

	if (strncmp(s, "unix:", 5) == 0)
		s += 5;
	else if (*s != '/')
		return split_hostport(s, 0, &h, &hn, &p, errstr);
	if (*s != '/') {
		*errstr = "needs an absolute socket path (unix:/path/to/rrdcached.sock)";
		return -1;
	}
	return 0;
}

/* Decimal unsigned integer without sign or junk. */
static int
parse_uint(const char *s, uint64_t *out, const char **errstr)
{
	uint64_t v = 0;
	const char *p;

	if (*s == '\0') {
		*errstr = "is empty (expected a whole number)";
		return -1;
	}
	if (*s == '-') {
		*errstr = "is negative (expected a whole number)";
		return -1;
	}
	for (p = s; *p; p++) {
		unsigned d;

		if (!isdigit((unsigned char)*p)) {
			*errstr = "is not a whole number";
			return -1;
		}
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10) {
			*errstr = "is too large";
			return -1;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Shortest exact text for a duration: "100ms", "10s", "15m", "1d". */
static void
fmt_duration(char *buf, size_t size, double s)
{
	static const struct { const char *u; double mult; } units[] = {
		{ "d", 86400 }, { "h", 3600 }, { "m", 60 }, { "s", 1 }, { "ms", 0.001 },
	};
	size_t i;

	if (s == 0) {
		snprintf(buf, size, "0");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double q = s / units[i].mult;

		if (q >= 1 && fabs(q - round(q)) < 1e-9) {
			snprintf(buf, size, "%.0f%s", round(q), units[i].u);
			return;
		}
	}
	snprintf(buf, size, "%gs", s);
}

static void
fmt_size(char *buf, size_t size, uint64_t b)
{
	if (b != 0 && b % (1u << 30) == 0)
		snprintf(buf, size, "%lluGiB", (unsigned long long)(b >> 30));
	else if (b != 0 && b % (1u << 20) == 0)
		snprintf(buf, size, "%lluMiB", (unsigned long long)(b >> 20));
	else if (b != 0 && b % (1u << 10) == 0)
		snprintf(buf, size, "%lluKiB", (unsigned long long)(b >> 10));
	else
		snprintf(buf, size, "%lluB", (unsigned long long)b);
}

/* ---- errors ------------------------------------------------------------------------------ */

void
cfg_error_add(struct cfg_errors *errs, const char *file, int line, const char *fmt, ...)
{
	struct buf b = { 0 };
	va_list ap;

	if (line > 0)
		buf_printf(&b, "%s:%d: ", file ? file : "(config)", line);
	else
		buf_printf(&b, "%s: ", file ? file : "(config)");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (errs->n == errs->cap) {
		errs->cap = errs->cap ? errs->cap * 2 : 8;
		errs->msgs = xreallocarray(errs->msgs, errs->cap, sizeof(*errs->msgs));
	}
	errs->msgs[errs->n++] = buf_steal(&b);
}

void
cfg_errors_clear(struct cfg_errors *errs)
{
	size_t i;

	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = errs->cap = 0;
}

/* ---- the parser -------------------------------------------------------------------------- */

/*
 * Every file is read into memory and classified line by line exactly as inih will see it,
 * so that every syntax error (which inih reports only as "the first bad line") gets its own
 * file:line, and over-long lines never reach inih to be split. inih then tokenizes the key
 * lines (comments, trimming, continuation lines); the handler only collects them. Finally
 * the lines are walked in order: section headers, keys and includes, so that an include is
 * read exactly where it stands.
 */

enum lkind { L_BLANK, L_SECTION, L_KEY, L_CONT, L_NOEQ, L_NOBRACKET, L_LONG, L_NUL };

struct line {
	unsigned char kind;
	unsigned char cut;  /* an inline comment was removed from this line */
	unsigned char seen; /* inih called the handler for it */
	char *section;      /* L_SECTION: the text between the brackets; L_SECTION with junk: NULL */
	size_t len;         /* L_LONG: length */
};

struct item {
	int line;
	char *key, *value;
	int cut;
};

struct ctx;

struct file {
	struct ctx *ctx;
	const char *name; /* interned */
	char *dir;        /* directory for relative includes, NULL = working directory */
	int depth;
	dev_t dev;
	ino_t ino;
	struct file *parent;
	const char *data;
	size_t len;
	struct line *lines; /* lines[1..nlines] */
	int nlines;
	struct item *items;
	size_t nitems, capitems;
	/* reader state */
	size_t pos;
	int rline;
	int at_bol;
	int internal; /* an internal mismatch was reported */
	/* walk state */
	enum sect sect;
	struct cfg_probe *probe;
	size_t probe_idx;
	struct cfg_token *token;
	size_t token_idx;
	struct cfg_alert *alert;
	size_t alert_idx;
	struct cfg_record *record;
	size_t record_idx;
	void *nel;          /* the open notification section's element, NULL when none */
	size_t nel_idx;
};

struct ctx {
	struct cfg *cfg;
	struct cfg_errors *errs;
};

static void
set_ini_options(void)
{
	ini_use_stack = 0;
	ini_allow_realloc = 1;
	ini_max_line = 4096;
	ini_allow_multiline = 1;
	ini_allow_bom = 1;
	ini_allow_inline_comments = 1;
	ini_inline_comment_prefixes = ";";  /* classify() assumes exactly these */
	ini_start_comment_prefixes = ";#";
	ini_stop_on_first_error = 0;
	ini_allow_no_value = 0;
}

/* inih's find_chars_or_comment: the first of chars, or a ';' after whitespace. */
static const char *
find_chars_or_comment(const char *s, const char *end, const char *chars)
{
	int was_space = 0;

	while (s < end && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* Classify lines[1..nlines] of f the way inih r55 will parse them. */
static void
classify(struct file *f)
{
	const char *p = f->data, *end = f->data + f->len;
	int n = 0, prev_name = 0, i;

	for (const char *q = p; q < end; q++)
		if (*q == '\n')
			n++;
	if (f->len > 0 && end[-1] != '\n')
		n++;
	f->nlines = n;
	f->lines = xcalloc((size_t)n + 1, sizeof(*f->lines));
	for (i = 1; i <= n; i++) {
		struct line *l = &f->lines[i];
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p, *e;

		size_t raw = (size_t)(le - p);

		if (raw > 0 && le[-1] == '\r')
			raw--;
		if (raw > CFG_MAX_LINE) {
			l->kind = L_LONG;
			l->len = raw;
		} else if (memchr(p, '\0', (size_t)(le - p)) != NULL) {
			l->kind = L_NUL;
		}
		if (l->kind == L_LONG || l->kind == L_NUL) {
			p = nl ? nl + 1 : end;
			continue;
		}
		if (i == 1 && le - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
		e = le;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		{
			const char *line_start = s;

			while (s < e && isspace((unsigned char)*s))
				s++;
			if (s == e || *s == ';' || *s == '#') {
				l->kind = L_BLANK;
			} else if (prev_name && s > line_start) {
				l->kind = L_CONT;
				l->cut = find_chars_or_comment(s, e, NULL) < e;
			} else if (*s == '[') {
				const char *r = find_chars_or_comment(s + 1, e, "]");

				if (r < e && *r == ']') {
					const char *t = r + 1;

					l->kind = L_SECTION;
					while (t < e && isspace((unsigned char)*t))
						t++;
					/* anything after ']' must be a comment */
					if (t == e || (*t == ';' && t > r + 1))
						l->section = xstrndup(s + 1, (size_t)(r - s - 1));
					prev_name = 0;
				} else {
					l->kind = L_NOBRACKET;
				}
			} else {
				const char *r = find_chars_or_comment(s, e, "=:");

				if (r < e && (*r == '=' || *r == ':')) {
					const char *ne = r;

					l->kind = L_KEY;
					while (ne > s && isspace((unsigned char)ne[-1]))
						ne--;
					prev_name = ne > s;
					l->cut = find_chars_or_comment(r + 1, e, NULL) < e;
				} else {
					l->kind = L_NOEQ;
				}
			}
		}
		p = nl ? nl + 1 : end;
	}
}

/* fgets-style reader over the file in memory; lines that are errors are served empty. */
static char *
reader(char *dst, int num, void *stream)
{
	struct file *f = stream;
	size_t n = 0, max;

	if (f->pos >= f->len || num < 2)
		return NULL;
	if (f->at_bol) {
		f->rline++;
		f->at_bol = 0;
		if (f->rline <= f->nlines &&
		    (f->lines[f->rline].kind == L_LONG || f->lines[f->rline].kind == L_NUL)) {
			const char *nl = memchr(f->data + f->pos, '\n', f->len - f->pos);

			f->pos = nl ? (size_t)(nl - f->data) + 1 : f->len;
			f->at_bol = 1;
			dst[0] = '\n';
			dst[1] = '\0';
			return dst;
		}
	}
	max = (size_t)num - 1;
	while (n < max && f->pos < f->len) {
		char c = f->data[f->pos++];

		dst[n++] = c;
		if (c == '\n') {
			f->at_bol = 1;
			break;
		}
	}
	dst[n] = '\0';
	return dst;
}

static void
internal_error(struct file *f, int line, const char *what)
{
	if (!f->internal)
		cfg_error_add(f->ctx->errs, f->name, line, "internal error: %s", what);
	f->internal = 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value, int lineno)
{
	struct file *f = user;
	struct line *l;

	(void)section;
	if (lineno != f->rline || lineno < 1 || lineno > f->nlines) {
		internal_error(f, f->rline, "inih reported a different line number");
		return 1;
	}
	l = &f->lines[lineno];
	l->seen = 1;
	if (value == NULL)
		value = "";
	if (l->kind == L_KEY) {
		struct item *it;

		if (f->nitems == f->capitems) {
			f->capitems = f->capitems ? f->capitems * 2 : 16;
			f->items = xreallocarray(f->items, f->capitems, sizeof(*f->items));
		}
		it = &f->items[f->nitems++];
		it->line = lineno;
		it->key = xstrdup(name);
		it->value = xstrdup(value);
		it->cut = l->cut;
	} else if (l->kind == L_CONT && f->nitems > 0) {
		struct item *it = &f->items[f->nitems - 1];
		const char *ce = find_chars_or_comment(value, value + strlen(value), NULL);
		char *v;

		/* inih r55 keeps inline comments on continuation lines; later releases drop them */
		while (ce > value && isspace((unsigned char)ce[-1]))
			ce--;
		v = *it->value ? xasprintf("%s %.*s", it->value, (int)(ce - value), value) :
		    xstrndup(value, (size_t)(ce - value));

		explicit_bzero(it->value, strlen(it->value));
		free(it->value);
		it->value = v;
		it->cut |= l->cut;
	} else {
		internal_error(f, lineno, "inih saw a key where none was expected");
	}
	return 1;
}

static const char *
intern(struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nfiles; i++)
		if (strcmp(cfg->files[i], name) == 0)
			return cfg->files[i];
	cfg->files = xreallocarray(cfg->files, cfg->nfiles + 1, sizeof(*cfg->files));
	cfg->files[cfg->nfiles] = xstrdup(name);
	return cfg->files[cfg->nfiles++];
}

static void parse_buffer(struct file *f);

/* Section display name for messages: "[http]", "[probe cpu]". */
static const char *
sect_label(struct file *f, char *buf, size_t size)
{
	if (f->sect == S_PROBE)
		snprintf(buf, size, "[probe %s]", f->probe->name);
	else if (f->sect == S_TOKEN)
		snprintf(buf, size, "[token %s]", f->token->name);
	else if (f->sect == S_ALERT)
		snprintf(buf, size, "[alert %s]", f->alert->name);
	else if (f->sect == S_RECORD)
		snprintf(buf, size, "[record %s]", f->record->name);
	else if (nsect_of(f->sect) != NULL)
		snprintf(buf, size, "[%s %s]", sect_names[f->sect],
		    *NS_FIELD(nsect_of(f->sect), f->nel, name, char *));
	else
		snprintf(buf, size, "[%s]", sect_names[f->sect]);
	return buf;
}

/* Names of [probe NAME], [token NAME] and [alert NAME]. */
static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return 0;
	return 1;
}

static int set_value(struct ctx *ctx, const struct key *k, void *base, const char *value,
    const char *label, const char *file, int line);

/*
 * [alert NAME] or [record NAME] (kind): check the name, append the rule, set the defaults
 * of its table keys. A record's name is the metric name of the series it computes.
 */
/*
 * The checks every [KIND NAME] header shares: it has a name, a valid one (rule says what a
 * name may hold), and no earlier section of its kind has it (dup_file, dup_line: where
 * that one is, NULL when none). Returns 0, or -1 after reporting.
 */
static int
section_name_ok(struct file *f, int line, const char *kind, const char *name, int valid,
    const char *rule, const char *dup_file, int dup_line)
{
	if (*name == '\0')
		cfg_error_add(f->ctx->errs, f->name, line, "[%s] needs a name: [%s NAME]", kind,
		    kind);
	else if (!valid)
		cfg_error_add(f->ctx->errs, f->name, line, "[%s %s]: invalid %s name (%s)", kind,
		    name, kind, rule);
	else if (dup_file != NULL)
		cfg_error_add(f->ctx->errs, f->name, line, "[%s %s] is already defined at %s:%d",
		    kind, name, dup_file, dup_line);
	else
		return 0;
	return -1;
}

#define NAME_RULE "use letters, digits, '_', '.' and '-'"

static void
open_rule(struct file *f, int line, const char *kind, const char *name)
{
	struct cfg *cfg = f->ctx->cfg;
	enum sect s = strcmp(kind, "alert") == 0 ? S_ALERT : S_RECORD;
	const char *ofile = NULL;
	int oline = 0;
	void *rule;
	size_t i;

	for (i = 0; s == S_ALERT && i < cfg->nalerts; i++)
		if (strcmp(cfg->alerts[i].name, name) == 0) {
			ofile = cfg->alerts[i].file;
			oline = cfg->alerts[i].line;
		}
	for (i = 0; s == S_RECORD && i < cfg->nrecords; i++)
		if (strcmp(cfg->records[i].name, name) == 0) {
			ofile = cfg->records[i].file;
			oline = cfg->records[i].line;
		}
	if (s == S_ALERT && section_name_ok(f, line, kind, name, valid_name(name), NAME_RULE,
	    ofile, oline) == -1)
		return;
	if (s == S_RECORD && section_name_ok(f, line, kind, name, util_valid_metric_name(name),
	    "it is the metric name of the series: letters, digits, '_' and ':', not starting "
	    "with a digit", ofile, oline) == -1)
		return;
	if (s == S_ALERT) {
		struct cfg_alert *a;

		cfg->alerts = xreallocarray(cfg->alerts, cfg->nalerts + 1, sizeof(*cfg->alerts));
		f->alert_idx = cfg->nalerts;
		a = f->alert = &cfg->alerts[cfg->nalerts++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(name);
		a->file = f->name;
		a->line = line;
		a->locs = xcalloc(NKEYS, sizeof(*a->locs));
		rule = a;
	} else {
		struct cfg_record *r;

		cfg->records = xreallocarray(cfg->records, cfg->nrecords + 1, sizeof(*cfg->records));
		f->record_idx = cfg->nrecords;
		r = f->record = &cfg->records[cfg->nrecords++];
		memset(r, 0, sizeof(*r));
		r->name = xstrdup(name);
		r->file = f->name;
		r->line = line;
		r->locs = xcalloc(NKEYS, sizeof(*r->locs));
		rule = r;
	}
	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == s && keys[i].def != NULL)
			set_value(f->ctx, &keys[i], rule, keys[i].def, keys[i].name, "(defaults)", 0);
	f->sect = s;
}

static int
cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct cfg_kv *)a)->key, ((const struct cfg_kv *)b)->key);
}

/*
 * labels.NAME of [reeve] (the external labels), [alert NAME] and [record NAME], and
 * annotations.NAME of [alert NAME]: key is the whole key. Label names follow Prometheus's
 * rules (names starting with __ are reserved); annotations are templates, checked here so
 * that a bad one is reported with its column.
 */
static void
set_kv(struct file *f, const char *sl, const char *key, const char *value, int line)
{
	struct cfg_errors *errs = f->ctx->errs;
	int is_label = strncmp(key, "labels.", 7) == 0;
	const char *name = key + (is_label ? 7 : 12);
	struct cfg_kv **list, *kv;
	size_t *n, i, col;
	char err[256];

	if (f->sect == S_REEVE) {
		list = &f->ctx->cfg->labels;
		n = &f->ctx->cfg->nlabels;
	} else if (is_label) {
		list = f->sect == S_ALERT ? &f->alert->labels : &f->record->labels;
		n = f->sect == S_ALERT ? &f->alert->nlabels : &f->record->nlabels;
	} else {
		list = &f->alert->annotations;
		n = &f->alert->nannotations;
	}
	if (!util_valid_label_name(name)) {
		cfg_error_add(errs, f->name, line, "%s %s: \"%s\" is not a valid %s name (letters, "
		    "digits and '_', not starting with a digit)", sl, key, name,
		    is_label ? "label" : "annotation");
		return;
	}
	if (strncmp(name, "__", 2) == 0) {
		cfg_error_add(errs, f->name, line,
		    "%s %s: names starting with __ are reserved", sl, key);
		return;
	}
	/*
	 * An external label never replaces an instance's own, and every alert has these two
	 * (its rule's name and severity): such a label would never be added.
	 */
	if (f->sect == S_REEVE && (strcmp(name, "alertname") == 0 ||
	    strcmp(name, "severity") == 0)) {
		cfg_error_add(errs, f->name, line, "%s %s: every alert has the label %s (its rule's "
		    "%s), and an external label never replaces one", sl, key, name,
		    name[0] == 'a' ? "name" : "severity");
		return;
	}
	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i].key, name) == 0) {
			cfg_error_add(errs, f->name, line, "%s key '%s' already set at %s:%d", sl, key,
			    (*list)[i].file, (*list)[i].line);
			return;
		}
	}
	if (*value == '\0') {
		cfg_error_add(errs, f->name, line, "%s %s: is empty", sl, key);
		return;
	}
	if (!is_label && template_check(value, &col, err, sizeof(err)) == -1) {
		cfg_error_add(errs, f->name, line, "%s %s: column %zu: %s", sl, key, col, err);
		return;
	}
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	kv = &(*list)[(*n)++];
	kv->key = xstrdup(name);
	kv->value = xstrdup(value);
	kv->file = f->name;
	kv->line = line;
	if (is_label)
		qsort(*list, *n, sizeof(**list), cmp_kv);
}

/* The element of the notification section f is in, again (the array may have moved). */
static void *
nel_refresh(struct file *f)
{
	const struct nsect *d = nsect_of(f->sect);
	char *arr = *(char **)(void *)((char *)f->ctx->cfg + d->arr);

	return f->nel = arr + f->nel_idx * d->size;
}

/* [notifier NAME], [route NAME], [inhibit NAME], [maintenance NAME]: append, set defaults. */
static void
open_named(struct file *f, int line, const struct nsect *d, const char *name)
{
	struct cfg *cfg = f->ctx->cfg;
	char **arr = (char **)(void *)((char *)cfg + d->arr);
	size_t *count = (size_t *)(void *)((char *)cfg + d->count), i;
	const char *ofile = NULL;
	int oline = 0;
	void *el;

	for (i = 0; i < *count; i++) {
		el = *arr + i * d->size;
		if (strcmp(*NS_FIELD(d, el, name, char *), name) == 0) {
			ofile = *NS_FIELD(d, el, file, const char *);
			oline = *NS_FIELD(d, el, line, int);
		}
	}
	if (section_name_ok(f, line, sect_names[d->sect], name, valid_name(name), NAME_RULE,
	    ofile, oline) == -1)
		return;
	*arr = xreallocarray(*arr, *count + 1, d->size);
	f->nel_idx = (*count)++;
	el = *arr + f->nel_idx * d->size;
	memset(el, 0, d->size);
	*NS_FIELD(d, el, name, char *) = xstrdup(name);
	*NS_FIELD(d, el, file, const char *) = f->name;
	*NS_FIELD(d, el, line, int) = line;
	*NS_FIELD(d, el, locs, struct cfg_loc *) = xcalloc(NKEYS, sizeof(struct cfg_loc));
	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == d->sect && keys[i].def != NULL)
			set_value(f->ctx, &keys[i], el, keys[i].def, keys[i].name, "(defaults)", 0);
	f->sect = d->sect;
	f->nel = el;
}

static void
open_section(struct file *f, int line, const char *raw)
{
	struct cfg *cfg = f->ctx->cfg;
	char *t = xstrdup(raw), *w, *e, *rest;
	size_t i;

	f->sect = S_INVALID;
	f->probe = NULL;
	f->token = NULL;
	f->alert = NULL;
	f->record = NULL;
	f->nel = NULL;
	for (w = t; isspace((unsigned char)*w); w++)
		;
	e = w + strlen(w);
	while (e > w && isspace((unsigned char)e[-1]))
		*--e = '\0';
	for (rest = w; *rest && !isspace((unsigned char)*rest); rest++)
		;
	if (*rest) {
		*rest++ = '\0';
		while (isspace((unsigned char)*rest))
			rest++;
	}
	if (strcmp(w, "probe") == 0) {
		const struct cfg_probe *dup = NULL;

		for (i = 0; i < cfg->nprobes; i++)
			if (strcmp(cfg->probes[i].name, rest) == 0)
				dup = &cfg->probes[i];
		if (section_name_ok(f, line, w, rest, valid_name(rest), NAME_RULE,
		    dup ? dup->file : NULL, dup ? dup->line : 0) == -1)
			goto out;
		cfg->probes = xreallocarray(cfg->probes, cfg->nprobes + 1, sizeof(*cfg->probes));
		f->probe_idx = cfg->nprobes;
		f->probe = &cfg->probes[cfg->nprobes++];
		memset(f->probe, 0, sizeof(*f->probe));
		f->probe->name = xstrdup(rest);
		f->probe->file = f->name;
		f->probe->line = line;
		f->sect = S_PROBE;
		goto out;
	}
	if (strcmp(w, "token") == 0) {
		const struct cfg_token *dup = NULL;

		for (i = 0; i < cfg->ntokens; i++)
			if (strcmp(cfg->tokens[i].name, rest) == 0)
				dup = &cfg->tokens[i];
		if (section_name_ok(f, line, w, rest, valid_name(rest), NAME_RULE,
		    dup ? dup->file : NULL, dup ? dup->line : 0) == -1)
			goto out;
		cfg->tokens = xreallocarray(cfg->tokens, cfg->ntokens + 1, sizeof(*cfg->tokens));
		f->token_idx = cfg->ntokens;
		f->token = &cfg->tokens[cfg->ntokens++];
		memset(f->token, 0, sizeof(*f->token));
		f->token->name = xstrdup(rest);
		f->token->file = f->name;
		f->token->line = line;
		f->sect = S_TOKEN;
		goto out;
	}
	if (strcmp(w, "alert") == 0 || strcmp(w, "record") == 0) {
		open_rule(f, line, w, rest);
		goto out;
	}
	for (i = 0; i < NNSECTS; i++)
		if (strcmp(w, sect_names[nsects[i].sect]) == 0) {
			open_named(f, line, &nsects[i], rest);
			goto out;
		}
	if (*rest == '\0') {
		for (i = S_REEVE; i <= S_OUTBOX; i++) {
			if (strcmp(w, sect_names[i]) == 0) {
				f->sect = (enum sect)i;
				goto out;
			}
		}
	}
	cfg_error_add(f->ctx->errs, f->name, line, "unknown section [%s] (expected " SECTIONS_HINT ")",
	    raw);
out:
	free(t);
}

static const struct key *
find_key(enum sect s, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == s && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
has_glob_chars(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_file(struct ctx *ctx, const char *path, struct file *parent, int line);

static void
do_include(struct file *f, int line, const char *pattern)
{
	struct cfg_errors *errs = f->ctx->errs;
	struct buf b = { 0 };
	glob_t g;
	size_t i;
	int rc;

	if (*pattern == '\0') {
		cfg_error_add(errs, f->name, line, "include: empty value (expected a file or a glob)");
		return;
	}
	if (f->depth >= CFG_MAX_DEPTH) {
		cfg_error_add(errs, f->name, line,
		    "include: nested more than %d levels deep (an include cycle?)", CFG_MAX_DEPTH);
		return;
	}
	/* A relative pattern is relative to the including file; its directory is quoted. */
	if (*pattern != '/' && f->dir != NULL) {
		const char *d;

		for (d = f->dir; *d; d++) {
			if (strchr("*?[\\", *d) != NULL)
				buf_putc(&b, '\\');
			buf_putc(&b, *d);
		}
		buf_putc(&b, '/');
	}
	buf_puts(&b, pattern);
	if (!has_glob_chars(pattern)) {
		/* a plain path: read it (the file may not exist: that is an error) */
		char *path = xstrdup(b.data);
		char *src, *dst;

		for (src = dst = path; *src; src++) { /* undo the quoting of the directory */
			if (*src == '\\' && src[1] != '\0')
				src++;
			*dst++ = *src;
		}
		*dst = '\0';
		load_file(f->ctx, path, f, line);
		free(path);
		buf_free(&b);
		return;
	}
	rc = glob(b.data, 0, NULL, &g);
	buf_free(&b);
	if (rc == GLOB_NOMATCH)
		return;
	if (rc != 0) {
		cfg_error_add(errs, f->name, line, "include: cannot expand \"%s\"%s", pattern,
		    rc == GLOB_NOSPACE ? ": out of memory" : ": read error");
		return;
	}
	qsort(g.gl_pathv, g.gl_pathc, sizeof(*g.gl_pathv), cmp_str);
	for (i = 0; i < g.gl_pathc; i++)
		load_file(f->ctx, g.gl_pathv[i], f, line);
	globfree(&g);
}

static struct cfg_loc *
key_loc(struct file *f, const struct key *k)
{
	if (k->sect == S_PROBE) {
		if (strcmp(k->name, "type") == 0)
			return &f->probe->loc_type;
		if (strcmp(k->name, "interval") == 0)
			return &f->probe->loc_interval;
		return &f->probe->loc_timeout;
	}
	if (k->sect == S_TOKEN) {
		if (k->type == K_SECRET)
			return &f->token->loc_secret;
		if (k->type == K_SECRET_FILE)
			return &f->token->loc_secret_file;
		return &f->token->loc_roles;
	}
	if (k->sect == S_ALERT)
		return &f->alert->locs[k - keys];
	if (k->sect == S_RECORD)
		return &f->record->locs[k - keys];
	if (nsect_of(k->sect) != NULL)
		return &(*NS_FIELD(nsect_of(k->sect), f->nel, locs, struct cfg_loc *))[k - keys];
	return &f->ctx->cfg->locs[k - keys];
}

/*
 * A K_BITS value: words of k->choices, comma- or space-separated, at least one (or "none"
 * alone when k->flags has F_NONE); choices[i] sets bit 1 << i.
 */
static int
set_bits(struct ctx *ctx, const struct key *k, unsigned *dst, const char *value,
    const char *label, const char *file, int line)
{
	const char *p = value;
	unsigned bits = 0;
	int bad = 0;
	size_t i, n;
	struct buf hint = { 0 };

	for (i = 0; k->choices[i] != NULL; i++)
		buf_printf(&hint, "%s%s", i == 0 ? "" : k->choices[i + 1] ? ", " : " or ",
		    k->choices[i]);
	if ((k->flags & F_NONE) && strcmp(value, "none") == 0) {
		buf_free(&hint);
		*dst = 0;
		return 0;
	}
	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, ", \t\r\n\v\f");
		for (i = 0; k->choices[i] != NULL; i++)
			if (strlen(k->choices[i]) == n && strncmp(p, k->choices[i], n) == 0)
				break;
		if (k->choices[i] == NULL) {
			cfg_error_add(ctx->errs, file, line, "%s: \"%.*s\" is not one of %s%s", label,
			    (int)n, p, hint.data, k->flags & F_NONE ? " (or none)" : "");
			bad = 1;
		} else {
			bits |= 1u << i;
		}
		p += n;
	}
	if (!bad && bits == 0)
		cfg_error_add(ctx->errs, file, line, "%s: is empty (expected one or more of %s%s)",
		    label, hint.data, k->flags & F_NONE ? ", or none" : "");
	buf_free(&hint);
	if (bad || bits == 0)
		return -1;
	*dst = bits;
	return 0;
}

/* A plain decimal number: digits with an optional fraction (no sign, exponent, nan or inf). */
static int
parse_decimal(const char *s, double *out)
{
	const char *p = s;

	while (isdigit((unsigned char)*p))
		p++;
	if (p == s)
		return -1;
	if (*p == '.') {
		const char *q = ++p;

		while (isdigit((unsigned char)*p))
			p++;
		if (p == q)
			return -1;
	}
	if (*p != '\0' || p - s > 30)
		return -1;
	*out = strtod(s, NULL);
	return 0;
}

/* A comma-separated list: items trimmed, none empty; replaces *list. */
static int
set_list(struct ctx *ctx, char ***list, size_t *n, const char *value, const char *label,
    const char *file, int line)
{
	char **v = NULL;
	size_t nv = 0;
	const char *p = value;

	for (;;) {
		const char *e = p + strcspn(p, ",");
		const char *a = p, *b = e;

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (a == b) {
			cfg_error_add(ctx->errs, file, line, "%s: \"%s\" %s", label, value,
			    *value ? "has an empty item (items are separated by commas)" : "is empty");
			for (size_t i = 0; i < nv; i++)
				free(v[i]);
			free(v);
			return -1;
		}
		v = xreallocarray(v, nv + 1, sizeof(*v));
		v[nv++] = xstrndup(a, (size_t)(b - a));
		if (*e == '\0')
			break;
		p = e + 1;
	}
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = v;
	*n = nv;
	return 0;
}

/* http:// or https://, a host, no blanks or control characters. */
static int
check_url(const char *s, const char **errstr)
{
	size_t scheme = strncasecmp(s, "http://", 7) == 0 ? 7 :
	    strncasecmp(s, "https://", 8) == 0 ? 8 : 0;

	if (scheme == 0) {
		*errstr = "is not an http:// or https:// URL";
		return -1;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*errstr = "contains a blank or a control character (percent-encode it)";
			return -1;
		}
	if (s[scheme] == '\0' || s[scheme] == '/' || s[scheme] == ':' || s[scheme] == '?') {
		*errstr = "has no host";
		return -1;
	}
	return 0;
}

/*
 * Parse value for key k and store it at base + k->off. label names the key in messages;
 * file NULL is used for the built-in defaults, whose errors are programmer errors.
 */
static int
set_value(struct ctx *ctx, const struct key *k, void *base, const char *value,
    const char *label, const char *file, int line)
{
	char *dst = (char *)base + k->off;
	const char *errstr = NULL;
	char lo[32], hi[32];
	double d;
	uint64_t u;
	int b;
	size_t i;

	switch (k->type) {
	case K_STRING:
	case K_LISTEN:
	case K_RRDCACHED:
		if (*value == '\0' && (k->flags & F_EMPTY_NULL)) {
			free(*(char **)dst);
			*(char **)dst = NULL;
			return 0;
		}
		if (*value == '\0') {
			errstr = "is empty";
			break;
		}
		if (k->type == K_LISTEN && cfg_parse_listen(value, NULL, NULL, &errstr) == -1)
			break;
		if (k->type == K_RRDCACHED && parse_rrdcached(value, &errstr) == -1)
			break;
		free(*(char **)dst);
		*(char **)dst = xstrdup(value);
		return 0;
	case K_DURATION:
		if (cfg_parse_duration(value, &d, &errstr) == -1)
			break;
		if (d < k->min || d > k->max) {
			fmt_duration(lo, sizeof(lo), k->min);
			fmt_duration(hi, sizeof(hi), k->max);
			cfg_error_add(ctx->errs, file, line, "%s: \"%s\" is out of range (%s to %s)",
			    label, value, lo, hi);
			return -1;
		}
		*(double *)dst = d;
		return 0;
	case K_SIZE:
		if (cfg_parse_size(value, &u, &errstr) == -1)
			break;
		if ((double)u < k->min || (double)u > k->max) {
			fmt_size(lo, sizeof(lo), (uint64_t)k->min);
			fmt_size(hi, sizeof(hi), (uint64_t)k->max);
			cfg_error_add(ctx->errs, file, line, "%s: \"%s\" is out of range (%s to %s)",
			    label, value, lo, hi);
			return -1;
		}
		*(uint64_t *)dst = u;
		return 0;
	case K_UINT:
	case K_U64:
		if (parse_uint(value, &u, &errstr) == -1)
			break;
		if ((double)u < k->min || (double)u > k->max) {
			cfg_error_add(ctx->errs, file, line,
			    "%s: \"%s\" is out of range (%.0f to %.0f)", label, value, k->min, k->max);
			return -1;
		}
		if (k->type == K_UINT)
			*(unsigned *)dst = (unsigned)u;
		else
			*(uint64_t *)dst = u;
		return 0;
	case K_BOOL:
		if (cfg_parse_bool(value, &b, &errstr) == -1)
			break;
		*(int *)dst = b;
		return 0;
	case K_ENUM:
		for (i = 0; k->choices[i] != NULL; i++) {
			if (strcmp(value, k->choices[i]) == 0) {
				if (k->flags & F_ENUM_STR) {
					free(*(char **)dst);
					*(char **)dst = xstrdup(value);
				} else {
					*(int *)dst = (int)i;
				}
				return 0;
			}
		}
		{
			struct buf c = { 0 };

			for (i = 0; k->choices[i] != NULL; i++)
				buf_printf(&c, "%s%s", i == 0 ? "" : k->choices[i + 1] ? ", " : " or ",
				    k->choices[i]);
			cfg_error_add(ctx->errs, file, line, "%s: \"%s\" is not one of %s", label,
			    value, c.data);
			buf_free(&c);
		}
		return -1;
	case K_BITS:
		return set_bits(ctx, k, (unsigned *)dst, value, label, file, line);
	case K_WORD:
		if (*value == '\0' || strspn(value, "abcdefghijklmnopqrstuvwxyz") != strlen(value)) {
			errstr = "is not a word of lower-case letters (e.g. critical, warning, info)";
			break;
		}
		free(*(char **)dst);
		*(char **)dst = xstrdup(value);
		return 0;
	case K_EXPR: {
		struct cfg_expr *e = (struct cfg_expr *)dst;
		const char *p = value;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0') {
			errstr = "is empty (expected an expression)";
			break;
		}
		free(e->text);
		e->text = xstrdup(value);
		e->file = file;
		e->line = line;
		return 0;
	}
	case K_DOUBLE:
		if (parse_decimal(value, &d) == -1) {
			errstr = "is not a number (e.g. 2 or 1.5)";
			break;
		}
		if (d < k->min || d > k->max) {
			cfg_error_add(ctx->errs, file, line, "%s: \"%s\" is out of range (%g to %g)",
			    label, value, k->min, k->max);
			return -1;
		}
		*(double *)dst = d;
		return 0;
	case K_LIST:
		return set_list(ctx, (char ***)(void *)dst, (size_t *)(void *)(dst + sizeof(char **)),
		    value, label, file, line);
	case K_URL:
		if (*value == '\0' && (k->flags & F_EMPTY_NULL)) {
			free(*(char **)dst);
			*(char **)dst = NULL;
			return 0;
		}
		if (check_url(value, &errstr) == -1) {
			/* not quoted: a URL may carry a password (http://user:pass@host/) */
			cfg_error_add(ctx->errs, file, line, "%s: the URL %s", label, errstr);
			return -1;
		}
		free(*(char **)dst);
		*(char **)dst = xstrdup(value);
		return 0;
	case K_INCLUDE:
	case K_SECRET:
	case K_SECRET_FILE:
	case K_SECRET_PATH:
		return 0; /* not stored here: see handle_key */
	}
	cfg_error_add(ctx->errs, file, line, "%s: \"%s\" %s", label, value, errstr);
	return -1;
}

/*
 * Read the secret in path: a regular file that only its owner may read or write, holding
 * one line (a trailing newline is dropped). Returns a new string, or NULL after reporting
 * the error at file:line. The secret itself never goes into a message.
 */
static char *
read_secret_file(struct file *f, int line, const char *path, const char *label)
{
	struct cfg_errors *errs = f->ctx->errs;
	char sl[128], buf[CFG_MAX_SECRET_FILE + 1], *secret = NULL;
	size_t got = 0;
	struct stat st;
	ssize_t r;
	int fd;

	sect_label(f, sl, sizeof(sl));
	/* O_NONBLOCK: a FIFO must not hang the load before fstat says it is not a file */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1) {
		cfg_error_add(errs, f->name, line, "%s %s: cannot open \"%s\": %s", sl, label, path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		cfg_error_add(errs, f->name, line, "%s %s: cannot stat \"%s\": %s", sl, label, path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_error_add(errs, f->name, line, "%s %s: \"%s\" is not a regular file", sl, label,
		    path);
		goto out;
	}
	if (st.st_mode & 077) {
		cfg_error_add(errs, f->name, line,
		    "%s %s %s is readable by others: chmod 600 it", sl, label, path);
		goto out;
	}
	while (got < sizeof(buf) && (r = read(fd, buf + got, sizeof(buf) - got)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			cfg_error_add(errs, f->name, line, "%s %s: cannot read \"%s\": %s", sl, label,
			    path, strerror(errno));
			goto out;
		}
		got += (size_t)r;
	}
	if (got > CFG_MAX_SECRET_FILE) {
		cfg_error_add(errs, f->name, line,
		    "%s %s: \"%s\" is larger than 4KiB (it holds one line: the secret)", sl, label,
		    path);
		goto out;
	}
	if (got > 0 && buf[got - 1] == '\n')
		got--;
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	if (got == 0)
		cfg_error_add(errs, f->name, line, "%s %s: \"%s\" is empty", sl, label, path);
	else if (memchr(buf, '\0', got) != NULL)
		cfg_error_add(errs, f->name, line, "%s %s: \"%s\" contains a NUL byte", sl, label,
		    path);
	else if (memchr(buf, '\n', got) != NULL)
		cfg_error_add(errs, f->name, line,
		    "%s %s: \"%s\" holds more than one line (it holds one line: the secret)", sl,
		    label, path);
	else
		secret = xstrndup(buf, got);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return secret;
}

/*
 * [token NAME] secret or secret_file (exactly one of them). A relative secret_file is
 * relative to the directory of the file that names it, like include. Messages never
 * repeat a secret.
 */
static void
set_secret(struct file *f, const struct key *k, const char *value, int line)
{
	struct cfg_token *t = f->token;
	const struct cfg_loc *other = k->type == K_SECRET ? &t->loc_secret_file : &t->loc_secret;
	char sl[128];
	char *path;

	sect_label(f, sl, sizeof(sl));
	if (other->file != NULL) {
		cfg_error_add(f->ctx->errs, f->name, line,
		    "%s %s: set either secret or secret_file, not both (%s is set at %s:%d)", sl,
		    k->name, k->type == K_SECRET ? "secret_file" : "secret", other->file,
		    other->line);
		return;
	}
	if (*value == '\0') {
		cfg_error_add(f->ctx->errs, f->name, line, "%s %s: is empty", sl, k->name);
		return;
	}
	if (k->type == K_SECRET) {
		t->secret = xstrdup(value);
		return;
	}
	if (*value != '/' && f->dir != NULL)
		path = xasprintf("%s/%s", f->dir, value);
	else
		path = xstrdup(value);
	t->secret_file = path;
	t->secret = read_secret_file(f, line, path, "secret_file");
}

/*
 * A [notifier NAME] key naming a secret's file (password_file, secret_file,
 * routing_key_file): the path is kept, the secret read now into the matching field.
 */
static void
set_secret_path(struct file *f, const struct key *k, const char *value, int line)
{
	static const struct { const char *key; size_t secret; } secrets[] = {
		{ "password_file", offsetof(struct cfg_notifier, password) },
		{ "secret_file", offsetof(struct cfg_notifier, secret) },
		{ "routing_key_file", offsetof(struct cfg_notifier, routing_key) },
	};
	char **path = (char **)(void *)((char *)f->nel + k->off), **secret = NULL;
	char sl[128];

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strcmp(secrets[i].key, k->name) == 0)
			secret = (char **)(void *)((char *)f->nel + secrets[i].secret);
	if (secret == NULL) {
		internal_error(f, line, "a secret file key without a secret");
		return;
	}
	if (*value == '\0') {
		cfg_error_add(f->ctx->errs, f->name, line, "%s %s: is empty",
		    sect_label(f, sl, sizeof(sl)), k->name);
		return;
	}
	if (*value != '/' && f->dir != NULL)
		*path = xasprintf("%s/%s", f->dir, value);
	else
		*path = xstrdup(value);
	*secret = read_secret_file(f, line, *path, k->name);
}

/* header.NAME = value of a [notifier NAME]: an HTTP header sent with every request. */
static void
set_header(struct file *f, const char *sl, const char *name, const char *value, int line)
{
	struct cfg_notifier *n = f->nel;
	struct cfg_kv *kv;

	if (*name == '\0' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789!#$%&'*+-.^_`|~") != strlen(name)) {
		cfg_error_add(f->ctx->errs, f->name, line,
		    "%s header.%s: not a valid HTTP header name", sl, name);
		return;
	}
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			cfg_error_add(f->ctx->errs, f->name, line,
			    "%s header.%s: the value contains a control character", sl, name);
			return;
		}
	for (size_t i = 0; i < n->nheaders; i++)
		if (strcasecmp(n->headers[i].key, name) == 0) {
			cfg_error_add(f->ctx->errs, f->name, line,
			    "%s header.%s: already set at %s:%d", sl, name, n->headers[i].file,
			    n->headers[i].line);
			return;
		}
	n->headers = xreallocarray(n->headers, n->nheaders + 1, sizeof(*n->headers));
	kv = &n->headers[n->nheaders++];
	kv->key = xstrdup(name);
	kv->value = xstrdup(value);
	kv->file = f->name;
	kv->line = line;
}

/* The sections of a report (kept in order) and what describes one of them. */
static const char *const report_sections[] = { "kpi.", "graph.", "availability.", "text.", NULL };
static const char *const report_options[] = { "title.", "unit.", "warn.", "crit.", "objective.",
	NULL };

static const char *
prefix_of(const char *key, const char *const *prefixes)
{
	for (size_t i = 0; prefixes[i] != NULL; i++)
		if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
			return prefixes[i];
	return NULL;
}

static int
report_item_name(const char *key)
{
	const char *dot = strchr(key, '.');

	return strcmp(key, "alerts") == 0 || (dot != NULL && valid_name(dot + 1));
}

/*
 * A section or an option of a [report NAME]: 1 when key is one (stored, or reported as an
 * error), 0 when it is not (an unknown key).
 */
static int
set_report_key(struct file *f, const char *sl, const char *key, const char *value, int line)
{
	struct cfg_report *r = f->nel;
	int section = strcmp(key, "alerts") == 0 || prefix_of(key, report_sections) != NULL;
	struct cfg_kv **arr = section ? &r->items : &r->options;
	size_t *n = section ? &r->nitems : &r->noptions;
	struct cfg_kv *kv;

	if (!section && prefix_of(key, report_options) == NULL)
		return 0;
	if (!report_item_name(key)) {
		cfg_error_add(f->ctx->errs, f->name, line, "%s %s: \"%s\" is not a valid name "
		    "(letters, digits, '_', '-' and '.')", sl, key, strchr(key, '.') + 1);
		return 1;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*arr)[i].key, key) == 0) {
			cfg_error_add(f->ctx->errs, f->name, line, "%s key '%s' already set at %s:%d",
			    sl, key, (*arr)[i].file, (*arr)[i].line);
			return 1;
		}
	*arr = xreallocarray(*arr, *n + 1, sizeof(**arr));
	kv = &(*arr)[(*n)++];
	kv->key = xstrdup(key);
	kv->value = xstrdup(value);
	kv->file = f->name;
	kv->line = line;
	return 1;
}

static void
handle_key(struct file *f, struct item *it)
{
	struct cfg_errors *errs = f->ctx->errs;
	const struct key *k;
	struct cfg_loc *loc;
	char sl[128], label[192];
	char *value = it->value;
	void *base;
	size_t n;

	if (f->sect == S_INVALID)
		return; /* the section header was reported */
	if (strcmp(it->key, "include") == 0 && (f->sect == S_NONE || f->sect == S_REEVE)) {
		do_include(f, it->line, value);
		return;
	}
	if (f->sect == S_PROBE)
		f->probe = &f->ctx->cfg->probes[f->probe_idx];
	if (f->sect == S_TOKEN)
		f->token = &f->ctx->cfg->tokens[f->token_idx];
	if (f->sect == S_ALERT)
		f->alert = &f->ctx->cfg->alerts[f->alert_idx];
	if (f->sect == S_RECORD)
		f->record = &f->ctx->cfg->records[f->record_idx];
	if (nsect_of(f->sect) != NULL)
		nel_refresh(f);
	if (f->sect == S_NONE) {
		cfg_error_add(errs, f->name, it->line,
		    "key '%s' is outside of any section (put it under " SECTIONS_HINT ")", it->key);
		return;
	}
	sect_label(f, sl, sizeof(sl));
	snprintf(label, sizeof(label), "%s %s", sl, it->key);
	n = strlen(value);
	if (it->cut && value[0] == '"' && (n < 2 || value[n - 1] != '"')) {
		cfg_error_add(errs, f->name, it->line,
		    "%s: the value was cut at \" ;\": an inline comment starts at whitespace "
		    "followed by ';', even inside quotes", label);
		return;
	}
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		memmove(value, value + 1, n - 2);
		value[n - 2] = '\0';
	}
	/* in [probe NAME], include is the probe's own key (e.g. a device filter) */
	if (strcmp(it->key, "include") == 0 && f->sect != S_PROBE) {
		cfg_error_add(errs, f->name, it->line,
		    "%s: include is only allowed in [reeve] or before the first section", label);
		return;
	}
	k = find_key(f->sect, it->key);
	if (k == NULL && f->sect == S_PROBE) {
		struct cfg_probe *p = f->probe;
		struct cfg_probe_opt *o;

		p->opts = xreallocarray(p->opts, p->nopts + 1, sizeof(*p->opts));
		o = &p->opts[p->nopts++];
		o->key = xstrdup(it->key);
		o->value = xstrdup(value);
		o->file = f->name;
		o->line = it->line;
		o->used = 0;
		return;
	}
	if (k == NULL && (RULE_SECT(f->sect) || f->sect == S_REEVE) &&
	    (strncmp(it->key, "labels.", 7) == 0 ||
	    (f->sect == S_ALERT && strncmp(it->key, "annotations.", 12) == 0))) {
		set_kv(f, sl, it->key, value, it->line);
		return;
	}
	if (k == NULL && f->sect == S_NOTIFIER && strncmp(it->key, "header.", 7) == 0) {
		set_header(f, sl, it->key + 7, value, it->line);
		return;
	}
	if (k == NULL && f->sect == S_REPORT && set_report_key(f, sl, it->key, value, it->line))
		return;
	if (k == NULL) {
		struct buf c = { 0 };
		size_t i;

		for (i = 0; i < NKEYS; i++)
			if (keys[i].sect == f->sect && keys[i].type != K_INCLUDE)
				buf_printf(&c, "%s%s", c.len ? ", " : "", keys[i].name);
		if (RULE_SECT(f->sect) || f->sect == S_REEVE)
			buf_printf(&c, ", labels.NAME%s", f->sect == S_ALERT ? ", annotations.NAME" : "");
		if (f->sect == S_NOTIFIER)
			buf_puts(&c, ", header.NAME");
		if (f->sect == S_REPORT)
			buf_puts(&c, ", and the sections kpi.NAME, graph.NAME, availability.NAME, "
			    "text.NAME, alerts with title.NAME, unit.NAME, warn.NAME, crit.NAME, "
			    "objective.NAME");
		cfg_error_add(errs, f->name, it->line, "%s unknown key '%s' (expected one of: %s)",
		    sl, it->key, c.data);
		buf_free(&c);
		return;
	}
	loc = key_loc(f, k);
	if (loc->file != NULL) {
		cfg_error_add(errs, f->name, it->line, "%s key '%s' already set at %s:%d", sl,
		    it->key, loc->file, loc->line);
		return;
	}
	loc->file = f->name;
	loc->line = it->line;
	if (k->type == K_SECRET || k->type == K_SECRET_FILE) {
		set_secret(f, k, value, it->line);
		return;
	}
	if (k->type == K_SECRET_PATH) {
		set_secret_path(f, k, value, it->line);
		return;
	}
	base = f->sect == S_PROBE ? (void *)f->probe : f->sect == S_TOKEN ? (void *)f->token :
	    f->sect == S_ALERT ? (void *)f->alert : f->sect == S_RECORD ? (void *)f->record :
	    f->nel != NULL ? f->nel : (void *)f->ctx->cfg;
	if ((k->flags & F_PATH) && *value != '\0' && *value != '/' && f->dir != NULL) {
		char *path = xasprintf("%s/%s", f->dir, value);

		set_value(f->ctx, k, base, path, label, f->name, it->line);
		free(path);
		return;
	}
	set_value(f->ctx, k, base, value, label, f->name, it->line);
}

/* Parse f->data: classify, tokenize with inih, then walk the lines in order. */
static void
parse_buffer(struct file *f)
{
	struct cfg_errors *errs = f->ctx->errs;
	size_t next = 0;
	int i, rc;

	classify(f);
	f->pos = 0;
	f->rline = 0;
	f->at_bol = 1;
	set_ini_options();
	rc = ini_parse_stream(reader, f, handler, f);
	if (rc == -2)
		cfg_error_add(errs, f->name, 0, "out of memory while parsing");
	f->sect = S_NONE;
	for (i = 1; i <= f->nlines; i++) {
		struct line *l = &f->lines[i];

		switch (l->kind) {
		case L_LONG:
			cfg_error_add(errs, f->name, i, "line is %zu characters long (at most %d)",
			    l->len, CFG_MAX_LINE);
			break;
		case L_NUL:
			cfg_error_add(errs, f->name, i, "line contains a NUL byte");
			break;
		case L_NOEQ:
			cfg_error_add(errs, f->name, i,
			    "expected 'key = value', a [section] header or a comment");
			break;
		case L_NOBRACKET:
			cfg_error_add(errs, f->name, i, "section header without a closing ']'");
			f->sect = S_INVALID; /* its keys would only repeat the error */
			break;
		case L_SECTION:
			if (l->section == NULL) {
				cfg_error_add(errs, f->name, i,
				    "unexpected text after ']' of a section header");
				f->sect = S_INVALID;
			} else {
				open_section(f, i, l->section);
			}
			break;
		case L_KEY:
			if (!l->seen || next >= f->nitems || f->items[next].line != i) {
				internal_error(f, i, "inih did not report this line");
				break;
			}
			handle_key(f, &f->items[next++]);
			break;
		case L_CONT:
			if (!l->seen)
				internal_error(f, i, "inih did not report this line");
			break;
		default:
			break;
		}
	}
}

static void
file_free(struct file *f)
{
	size_t j;
	int i;

	for (i = 1; i <= f->nlines; i++)
		free(f->lines[i].section);
	free(f->lines);
	for (j = 0; j < f->nitems; j++) {
		free(f->items[j].key);
		/* values may be secrets: wipe them (and the file's text, in load_file) */
		explicit_bzero(f->items[j].value, strlen(f->items[j].value));
		free(f->items[j].value);
	}
	free(f->items);
	free(f->dir);
}

static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return NULL;
	if (slash == path)
		return xstrdup("");
	return xstrndup(path, (size_t)(slash - path));
}

/* Read path into memory and parse it; parent/line say where it was included (NULL: main). */
static void
load_file(struct ctx *ctx, const char *path, struct file *parent, int line)
{
	/* errors about the file itself point at the include line, or at the file */
	const char *ef = parent ? parent->name : path;
	int el = parent ? line : 0;
	const char *prefix = parent ? "include: " : "";
	struct file f = { 0 };
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		cfg_error_add(ctx->errs, ef, el, "%scannot open \"%s\": %s", prefix, path,
		    strerror(errno));
		return;
	}
	if (fstat(fileno(fp), &st) == -1) {
		cfg_error_add(ctx->errs, ef, el, "%scannot stat \"%s\": %s", prefix, path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_error_add(ctx->errs, ef, el, "%s\"%s\" is not a regular file", prefix, path);
		goto out;
	}
	if ((uintmax_t)st.st_size > CFG_MAX_FILE) {
		cfg_error_add(ctx->errs, ef, el, "%s\"%s\" is larger than 16MiB", prefix, path);
		goto out;
	}
	for (struct file *a = parent; a != NULL; a = a->parent) {
		if (a->dev == st.st_dev && a->ino == st.st_ino) {
			cfg_error_add(ctx->errs, ef, el, "include: \"%s\" includes itself (an include cycle)",
			    path);
			goto out;
		}
	}
	data = xmalloc((size_t)st.st_size + 1);
	got = fread(data, 1, (size_t)st.st_size + 1, fp);
	if (ferror(fp) || got > (size_t)st.st_size) {
		cfg_error_add(ctx->errs, ef, el, "%scannot read \"%s\"%s", prefix, path,
		    ferror(fp) ? ": read error" : ": it grew while being read");
		goto out;
	}
	f.ctx = ctx;
	f.name = intern(ctx->cfg, path);
	f.dir = dir_of(path);
	f.depth = parent ? parent->depth + 1 : 0;
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	f.parent = parent;
	f.data = data;
	f.len = got;
	parse_buffer(&f);
	file_free(&f);
out:
	if (data != NULL)
		explicit_bzero(data, got);
	free(data);
	fclose(fp);
}

/* Defaults from the table, parsed like values; then the computed ones after loading. */
static struct cfg *
cfg_new_defaults(struct ctx *ctx)
{
	struct cfg *cfg = xcalloc(1, sizeof(*cfg));
	size_t i;

	cfg->locs = xcalloc(NKEYS, sizeof(*cfg->locs));
	for (i = 0; i < NKEYS; i++)
		if (!NAMED_SECT(keys[i].sect) && keys[i].def != NULL)
			set_value(ctx, &keys[i], cfg, keys[i].def, keys[i].name, "(defaults)", 0);
	/* REEVE_PLUGIN_DIR replaces the built-in probe directory (for running from a build tree) */
	if (getenv("REEVE_PLUGIN_DIR") && *getenv("REEVE_PLUGIN_DIR")) {
		free(cfg->plugin_dir);
		cfg->plugin_dir = xstrdup(getenv("REEVE_PLUGIN_DIR"));
	}
	return cfg;
}

/*
 * [store] rrdcached_dir: a relative path of plain names ([A-Za-z0-9._-], no "." or ".."),
 * so that it stays inside rrdcached's base directory. Defaults to the hostname, which is
 * checked the same way when rrdcached is reached over TCP (the only case it is used).
 */
static void
check_rrdcached_dir(struct ctx *ctx, struct cfg *cfg)
{
	const struct cfg_loc *l = cfg_where(cfg, "store", "rrdcached_dir");
	int tcp = cfg->rrdcached && strncmp(cfg->rrdcached, "unix:", 5) != 0 &&
	    cfg->rrdcached[0] != '/';
	int derived = 0;
	const char *d, *part;

	if (cfg->rrdcached_dir == NULL) {
		if (!tcp || cfg->hostname == NULL)
			return;
		cfg->rrdcached_dir = xstrdup(cfg->hostname);
		l = cfg_where(cfg, "store", "rrdcached");
		derived = 1;
	}
	d = cfg->rrdcached_dir;
	if (strlen(d) > 200)
		goto bad;
	for (const char *p = part = d;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - part);

			if (n == 0 || (n == 1 && part[0] == '.') || (n == 2 && !strncmp(part, "..", 2)))
				goto bad;
			if (*p == '\0')
				return;
			part = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-') {
			goto bad;
		}
	}
bad:
	cfg_error_add(ctx->errs, l->file, l->line, "[store] rrdcached_dir: \"%s\"%s is not a "
	    "relative path of names made of A-Z a-z 0-9 . _ - (at most 200 bytes, no . or .. "
	    "and no empty part)%s", d, derived ? " (the hostname)" : "",
	    derived ? ": set rrdcached_dir" : "");
}

static void
finish(struct ctx *ctx)
{
	struct cfg *cfg = ctx->cfg;
	const struct cfg_loc *hw = cfg_where(cfg, "store", "holt_winters");
	regex_t re;
	int rc;

	if (cfg->holt_winters != NULL &&
	    (rc = regcomp(&re, cfg->holt_winters, REG_EXTENDED | REG_NOSUB)) != 0) {
		char msg[256];

		regerror(rc, &re, msg, sizeof(msg));
		cfg_error_add(ctx->errs, hw->file, hw->line, "[store] holt_winters: \"%s\" is not a "
		    "regular expression: %s", cfg->holt_winters, msg);
	} else if (cfg->holt_winters != NULL)
		regfree(&re);
	char a[32], b[32];
	size_t i;

	if (cfg->user != NULL && getpwnam(cfg->user) == NULL) {
		const struct cfg_loc *l = cfg_where(cfg, "reeve", "user");

		cfg_error_add(ctx->errs, l->file, l->line, "[reeve] user: no user \"%s\" on this "
		    "system (useradd --system %s)", cfg->user, cfg->user);
	}
	if (cfg->hostname == NULL) {
		char hn[HOST_NAME_MAX + 1] = "";

		if (gethostname(hn, sizeof(hn)) == 0)
			hn[sizeof(hn) - 1] = '\0';
		if (hn[0] == '\0')
			cfg_error_add(ctx->errs, cfg->nfiles ? cfg->files[0] : NULL, 0,
			    "[reeve] hostname is not set and the system host name is unknown");
		else
			cfg->hostname = xstrdup(hn);
	}
	check_rrdcached_dir(ctx, cfg);
	for (i = 0; i < cfg->nprobes; i++) {
		struct cfg_probe *p = &cfg->probes[i];

		if (p->loc_type.file == NULL)
			cfg_error_add(ctx->errs, p->file, p->line, "[probe %s]: missing key 'type'",
			    p->name);
		if (p->loc_interval.file == NULL)
			p->interval = cfg->interval;
		if (p->loc_timeout.file == NULL) {
			p->timeout = p->interval < 10 ? p->interval : 10;
		} else if (p->timeout > p->interval) {
			fmt_duration(a, sizeof(a), p->timeout);
			fmt_duration(b, sizeof(b), p->interval);
			cfg_error_add(ctx->errs, p->loc_timeout.file, p->loc_timeout.line,
			    "[probe %s] timeout: %s is longer than the interval (%s%s); a timeout "
			    "must be at most the interval", p->name, a, b,
			    p->loc_interval.file ? "" : ", from [reeve] interval");
		}
	}
}

/* [http] tls_cert and tls_key: both or neither, and a key that belongs to the certificate. */
static void
finish_tls(struct ctx *ctx)
{
	struct cfg *cfg = ctx->cfg;
	const struct cfg_loc *lc = cfg_where(cfg, "http", "tls_cert");
	const struct cfg_loc *lk = cfg_where(cfg, "http", "tls_key");
	struct tls_cred *c;
	char err[512];

	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		const struct cfg_loc *l = cfg->tls_cert ? lc : lk;

		cfg_error_add(ctx->errs, l->file, l->line, "[http] %s: HTTPS needs both tls_cert "
		    "and tls_key", cfg->tls_cert ? "tls_cert" : "tls_key");
		return;
	}
	if (cfg->tls_cert == NULL)
		return;
	if ((c = tls_cred_load(cfg->tls_cert, cfg->tls_key, err, sizeof(err))) == NULL) {
		const struct cfg_loc *l = strncmp(err, "tls_key", 7) == 0 ? lk : lc;

		cfg_error_add(ctx->errs, l->file, l->line, "[http] %s", err);
		return;
	}
	tls_cred_free(c);
}

/* Every [token NAME] has a secret, long enough, and no two tokens share one. */
static void
finish_tokens(struct ctx *ctx)
{
	struct cfg *cfg = ctx->cfg;
	const struct cfg_loc *hl = cfg_where(cfg, "http", "token");
	size_t i, j;

	for (i = 0; i < cfg->ntokens; i++) {
		struct cfg_token *t = &cfg->tokens[i];
		const struct cfg_loc *l = t->loc_secret.file ? &t->loc_secret : &t->loc_secret_file;
		const char *key = t->loc_secret.file ? "secret" : "secret_file";

		if (t->loc_roles.file == NULL)
			t->roles = AUTH_READ;
		if (l->file == NULL) {
			cfg_error_add(ctx->errs, t->file, t->line,
			    "[token %s]: missing key 'secret' or 'secret_file'", t->name);
			continue;
		}
		if (t->secret == NULL)
			continue; /* reported */
		if (strlen(t->secret) < CFG_MIN_SECRET) {
			cfg_error_add(ctx->errs, l->file, l->line,
			    "[token %s] %s: the secret is shorter than %d bytes (make one with "
			    "`openssl rand -hex 32`)", t->name, key, CFG_MIN_SECRET);
			continue;
		}
		for (j = 0; j < i; j++) {
			const struct cfg_token *o = &cfg->tokens[j];

			if (o->secret != NULL && strcmp(o->secret, t->secret) == 0) {
				cfg_error_add(ctx->errs, l->file, l->line,
				    "[token %s] %s: the same secret as [token %s] at %s:%d (each token "
				    "needs its own)", t->name, key, o->name, o->file, o->line);
				break;
			}
		}
		if (cfg->token != NULL && strcmp(cfg->token, t->secret) == 0)
			cfg_error_add(ctx->errs, hl->file, hl->line,
			    "[http] token: the same secret as [token %s] at %s:%d (each token needs "
			    "its own)", t->name, t->file, t->line);
	}
}

/* The computed defaults of rule sections, and their required keys. */
static void
finish_rules(struct ctx *ctx)
{
	struct cfg *cfg = ctx->cfg;
	size_t i;

	for (i = 0; i < cfg->nalerts; i++) {
		struct cfg_alert *a = &cfg->alerts[i];

		if (cfg_rule_where(a, 0, "expr")->file == NULL) /* an empty one was reported */
			cfg_error_add(ctx->errs, a->file, a->line, "[alert %s]: missing key 'expr'",
			    a->name);
		if (cfg_rule_where(a, 0, "eval_interval")->file == NULL)
			a->eval_interval = cfg->interval;
		if (cfg_rule_where(a, 0, "nodata_grace")->file == NULL)
			a->nodata_grace = 2 * a->eval_interval;
	}
	for (i = 0; i < cfg->nrecords; i++) {
		struct cfg_record *r = &cfg->records[i];

		if (cfg_rule_where(r, 1, "expr")->file == NULL)
			cfg_error_add(ctx->errs, r->file, r->line, "[record %s]: missing key 'expr'",
			    r->name);
		if (cfg_rule_where(r, 1, "eval_interval")->file == NULL)
			r->eval_interval = cfg->interval;
	}
}

const struct cfg_loc *
cfg_section_where(const void *el, const char *kind, const char *key)
{
	for (size_t d = 0; d < NNSECTS; d++) {
		if (strcmp(sect_names[nsects[d].sect], kind) != 0)
			continue;
		for (size_t i = 0; i < NKEYS; i++)
			if (keys[i].sect == nsects[d].sect && strcmp(keys[i].name, key) == 0)
				return &(*NS_FIELD(&nsects[d], el, locs, struct cfg_loc *const))[i];
	}
	return NULL;
}

static const struct cfg_notifier *
find_notifier(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nnotifiers; i++)
		if (strcmp(cfg->notifiers[i].name, name) == 0)
			return &cfg->notifiers[i];
	return NULL;
}

/* host:port or host, port 1..65535 (email server). */
static int
parse_server(const char *s, const char **errstr)
{
	const char *colon = strrchr(s, ':');

	if (*s == '\0' || colon == s) {
		*errstr = "has no host (expected host:port)";
		return -1;
	}
	if (s[0] == '[' || (colon != NULL && strchr(s, ':') != colon)) {
		/* libesmtp cuts the server at its first ':' */
		*errstr = "is an IPv6 address, which the mail library cannot reach: use a host name";
		return -1;
	}
	if (colon != NULL && cfg_parse_listen(s, NULL, NULL, errstr) == -1)
		return -1;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*errstr = "contains a blank or a control character";
			return -1;
		}
	return 0;
}

/* A [notifier NAME]: its type, the keys its type takes and needs. */
static void
finish_notifier(struct ctx *ctx, struct cfg_notifier *n)
{
	static const unsigned type_flag[] = { F_EMAIL, F_WEBHOOK, F_AM, F_EXEC };
	static const char *const needs[][4] = {
		{ "server", "from", "to", NULL }, { "url", NULL }, { "url", NULL },
		{ "command", NULL },
	};
	struct cfg_errors *errs = ctx->errs;
	const struct cfg_loc *l;

	if (n->locs[find_key(S_NOTIFIER, "type") - keys].file == NULL) {
		cfg_error_add(errs, n->file, n->line,
		    "[notifier %s]: missing key 'type' (email, webhook, alertmanager or exec)", n->name);
		return;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		struct buf c = { 0 };

		if (keys[i].sect != S_NOTIFIER || n->locs[i].file == NULL ||
		    (keys[i].flags & type_flag[n->type]))
			continue;
		for (size_t j = 0; j < NKEYS; j++)
			if (keys[j].sect == S_NOTIFIER && (keys[j].flags & type_flag[n->type]))
				buf_printf(&c, "%s%s", c.len ? ", " : "", keys[j].name);
		cfg_error_add(errs, n->locs[i].file, n->locs[i].line,
		    "[notifier %s] %s: not a key of type %s (it takes %s%s)", n->name, keys[i].name,
		    notifier_kinds[n->type], c.data,
		    type_flag[n->type] & (F_WEBHOOK | F_AM) ? ", header.NAME" : "");
		buf_free(&c);
	}
	if (n->nheaders > 0 && !(type_flag[n->type] & (F_WEBHOOK | F_AM)))
		cfg_error_add(errs, n->headers[0].file, n->headers[0].line,
		    "[notifier %s] header.%s: only webhook and alertmanager notifiers send headers",
		    n->name, n->headers[0].key);
	for (size_t i = 0; needs[n->type][i] != NULL; i++)
		if (cfg_section_where(n, "notifier", needs[n->type][i])->file == NULL)
			cfg_error_add(errs, n->file, n->line, "[notifier %s]: missing key '%s' (type %s "
			    "needs it)", n->name, needs[n->type][i], notifier_kinds[n->type]);
	if (n->type == CFG_NOTIFIER_EMAIL) {
		const char *e = NULL;

		l = cfg_section_where(n, "notifier", "server");
		if (n->server != NULL && parse_server(n->server, &e) == -1)
			cfg_error_add(errs, l->file, l->line, "[notifier %s] server: \"%s\" %s",
			    n->name, n->server, e);
		if ((n->username != NULL) != (n->password_file != NULL))
			cfg_error_add(errs, n->file, n->line, "[notifier %s]: username and "
			    "password_file go together (AUTH needs both)", n->name);
	}
	if (n->type == CFG_NOTIFIER_EXEC && n->command != NULL) {
		struct spawn_argv argv = { 0 };
		char err[512];

		l = cfg_section_where(n, "notifier", "command");
		if (spawn_split(n->command, &argv, err, sizeof(err)) == -1 ||
		    spawn_check_program(argv.argv[0], err, sizeof(err)) == -1)
			cfg_error_add(errs, l->file, l->line, "[notifier %s] command: %s", n->name,
			    err);
		spawn_argv_free(&argv);
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i == 0 ? "allow_networks" : "deny_networks";
		struct httpclient_nets nets;
		char err[256];

		l = cfg_section_where(n, "notifier", key);
		if (l->file != NULL && httpclient_nets_parse(i == 0 ? n->allow_networks :
		    n->deny_networks, &nets, err, sizeof(err)) == -1)
			cfg_error_add(errs, l->file, l->line, "[notifier %s] %s: %s", n->name, key, err);
		else if (l->file != NULL)
			httpclient_nets_free(&nets);
	}
	if (n->type == CFG_NOTIFIER_WEBHOOK) {
		l = cfg_section_where(n, "notifier", "routing_key_file");
		if (n->format == CFG_FORMAT_PAGERDUTY && l->file == NULL)
			cfg_error_add(errs, n->file, n->line, "[notifier %s]: format pagerduty needs "
			    "routing_key_file (the integration key)", n->name);
		if (n->format != CFG_FORMAT_PAGERDUTY && l->file != NULL)
			cfg_error_add(errs, l->file, l->line, "[notifier %s] routing_key_file: only "
			    "for format pagerduty", n->name);
	}
}

/* Routes, inhibitions and maintenance windows: required keys and references. */
static void
finish_notify(struct ctx *ctx)
{
	struct cfg *cfg = ctx->cfg;
	struct cfg_errors *errs = ctx->errs;
	const struct cfg_loc *l;

	for (size_t i = 0; i < cfg->nnotifiers; i++)
		finish_notifier(ctx, &cfg->notifiers[i]);
	for (size_t i = 0; i < cfg->nroutes; i++) {
		struct cfg_route *r = &cfg->routes[i];

		l = cfg_section_where(r, "route", "notify");
		if (l->file == NULL)
			cfg_error_add(errs, r->file, r->line, "[route %s]: missing key 'notify' (the "
			    "[notifier NAME]s it sends to)", r->name);
		for (size_t j = 0; j < r->nnotify; j++)
			if (find_notifier(cfg, r->notify[j]) == NULL)
				cfg_error_add(errs, l->file, l->line, "[route %s] notify: no [notifier "
				    "%s] is defined", r->name, r->notify[j]);
		l = cfg_section_where(r, "route", "escalate_to");
		if (r->escalate_to != NULL && find_notifier(cfg, r->escalate_to) == NULL)
			cfg_error_add(errs, l->file, l->line, "[route %s] escalate_to: no [notifier "
			    "%s] is defined", r->name, r->escalate_to);
		if ((r->escalate_to != NULL) != (r->escalate_after > 0))
			cfg_error_add(errs, r->file, r->line, "[route %s]: escalate_after and "
			    "escalate_to go together", r->name);
		l = cfg_section_where(r, "route", "match");
		if (strcmp(r->name, "default") == 0 && l->file != NULL)
			cfg_error_add(errs, l->file, l->line, "[route default] match: the default "
			    "route takes every alert no other route took; it has no match");
		l = cfg_section_where(r, "route", "group_by");
		for (size_t j = 0; j < r->ngroup_by; j++)
			if ((strcmp(r->group_by[j], "...") == 0 && r->ngroup_by > 1) ||
			    (strcmp(r->group_by[j], "...") != 0 &&
			    !util_valid_label_name(r->group_by[j])))
				cfg_error_add(errs, l->file, l->line, "[route %s] group_by: \"%s\" is "
				    "not a label name (or \"...\" alone: every label)", r->name,
				    r->group_by[j]);
	}
	for (size_t i = 0; i < cfg->ninhibits; i++) {
		struct cfg_inhibit *h = &cfg->inhibits[i];

		if (h->source.text == NULL)
			cfg_error_add(errs, h->file, h->line, "[inhibit %s]: missing key "
			    "'source_match'", h->name);
		if (h->target.text == NULL)
			cfg_error_add(errs, h->file, h->line, "[inhibit %s]: missing key "
			    "'target_match'", h->name);
		l = cfg_section_where(h, "inhibit", "equal");
		for (size_t j = 0; j < h->nequal; j++)
			if (!util_valid_label_name(h->equal[j]))
				cfg_error_add(errs, l->file, l->line, "[inhibit %s] equal: \"%s\" is "
				    "not a label name", h->name, h->equal[j]);
	}
	for (size_t i = 0; i < cfg->nmaintenances; i++) {
		struct cfg_maintenance *m = &cfg->maintenances[i];
		static const char *const need[] = { "schedule", "duration", "match" };

		for (size_t j = 0; j < 3; j++)
			if (cfg_section_where(m, "maintenance", need[j])->file == NULL)
				cfg_error_add(errs, m->file, m->line, "[maintenance %s]: missing key "
				    "'%s'", m->name, need[j]);
		if (m->schedule != NULL) {
			char err[256];
			struct cron *c = cron_parse(m->schedule, err, sizeof(err));

			l = cfg_section_where(m, "maintenance", "schedule");
			if (c == NULL)
				cfg_error_add(errs, l->file, l->line, "[maintenance %s] schedule: %s",
				    m->name, err);
			cron_free(c);
		}
		if (m->timezone != NULL) {
			char err[256];

			l = cfg_section_where(m, "maintenance", "timezone");
			if (cron_tz_check(m->timezone, err, sizeof(err)) == -1)
				cfg_error_add(errs, l->file, l->line, "[maintenance %s] timezone: %s",
				    m->name, err);
		}
	}
}

/* The item of report r a NAME-qualified option names ("title.orders" -> kpi.orders), or NULL. */
static const struct cfg_kv *
report_item(const struct cfg_report *r, const char *name)
{
	for (size_t i = 0; i < r->nitems; i++) {
		const char *dot = strchr(r->items[i].key, '.');

		if (strcmp(dot ? dot + 1 : r->items[i].key, name) == 0)
			return &r->items[i];
	}
	return NULL;
}

static void
finish_report_options(struct cfg_errors *errs, const struct cfg_report *r)
{
	char err[256];

	for (size_t i = 0; i < r->noptions; i++) {
		const struct cfg_kv *o = &r->options[i];
		const char *name = strchr(o->key, '.') + 1;
		const struct cfg_kv *it = report_item(r, name);
		struct report_threshold t;
		double v;

		if (it == NULL) {
			cfg_error_add(errs, o->file, o->line, "[report %s] %s: the report has no "
			    "section named %s", r->name, o->key, name);
			continue;
		}
		if ((strncmp(o->key, "warn.", 5) == 0 || strncmp(o->key, "crit.", 5) == 0) &&
		    strncmp(it->key, "kpi.", 4) != 0)
			cfg_error_add(errs, o->file, o->line, "[report %s] %s: thresholds are for "
			    "kpi sections", r->name, o->key);
		else if ((strncmp(o->key, "warn.", 5) == 0 || strncmp(o->key, "crit.", 5) == 0) &&
		    report_threshold_parse(o->value, &t, err, sizeof(err)) == -1)
			cfg_error_add(errs, o->file, o->line, "[report %s] %s: %s", r->name, o->key,
			    err);
		if (strncmp(o->key, "objective.", 10) == 0 &&
		    strncmp(it->key, "availability.", 13) != 0)
			cfg_error_add(errs, o->file, o->line, "[report %s] %s: objectives are for "
			    "availability sections", r->name, o->key);
		else if (strncmp(o->key, "objective.", 10) == 0 &&
		    report_objective_parse(o->value, &v, err, sizeof(err)) == -1)
			cfg_error_add(errs, o->file, o->line, "[report %s] %s: %s", r->name, o->key,
			    err);
	}
}

static int
rule_defined(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nalerts; i++)
		if (strcmp(cfg->alerts[i].name, name) == 0)
			return 1;
	return 0;
}

/* Reports: period, schedule, formats, the notifier that mails them, their sections. */
static void
finish_reports(struct ctx *ctx)
{
	struct cfg *cfg = ctx->cfg;
	struct cfg_errors *errs = ctx->errs;
	static const char *const formats[] = { "html", "pdf", "csv", NULL };

	for (size_t i = 0; i < cfg->nreports; i++) {
		struct cfg_report *r = &cfg->reports[i];
		const struct cfg_loc *l;
		struct report_period p;
		char err[256];
		double v;

		if (r->nitems == 0)
			cfg_error_add(errs, r->file, r->line, "[report %s]: no sections (add "
			    "kpi.NAME, graph.NAME, availability.NAME, text.NAME or alerts)", r->name);
		l = cfg_section_where(r, "report", "period");
		if (report_period_parse(r->period, &p, err, sizeof(err)) == -1)
			cfg_error_add(errs, l->file ? l->file : r->file, l->file ? l->line : r->line,
			    "[report %s] period: %s", r->name, err);
		l = cfg_section_where(r, "report", "objective");
		if (report_objective_parse(r->objective, &v, err, sizeof(err)) == -1)
			cfg_error_add(errs, l->file ? l->file : r->file, l->file ? l->line : r->line,
			    "[report %s] objective: %s", r->name, err);
		if (r->schedule != NULL) {
			struct cron *c = cron_parse(r->schedule, err, sizeof(err));

			l = cfg_section_where(r, "report", "schedule");
			if (c == NULL)
				cfg_error_add(errs, l->file, l->line, "[report %s] schedule: %s",
				    r->name, err);
			cron_free(c);
		}
		l = cfg_section_where(r, "report", "timezone");
		if (r->timezone != NULL && cron_tz_check(r->timezone, err, sizeof(err)) == -1)
			cfg_error_add(errs, l->file, l->line, "[report %s] timezone: %s", r->name, err);
		l = cfg_section_where(r, "report", "formats");
		for (size_t j = 0; j < r->nformats; j++) {
			size_t k = 0;

			while (formats[k] != NULL && strcmp(formats[k], r->formats[j]) != 0)
				k++;
			if (formats[k] == NULL)
				cfg_error_add(errs, l->file, l->line, "[report %s] formats: unknown "
				    "format \"%s\" (expected html, pdf, csv)", r->name, r->formats[j]);
		}
		l = cfg_section_where(r, "report", "notifier");
		if (r->notifier != NULL) {
			const struct cfg_notifier *n = find_notifier(cfg, r->notifier);

			if (n == NULL || n->type != CFG_NOTIFIER_EMAIL)
				cfg_error_add(errs, l->file, l->line, "[report %s] notifier: no email "
				    "[notifier %s] is defined", r->name, r->notifier);
		} else if (r->nto + r->ncc > 0) {
			size_t j = 0;

			while (j < cfg->nnotifiers && cfg->notifiers[j].type != CFG_NOTIFIER_EMAIL)
				j++;
			if (j == cfg->nnotifiers)
				cfg_error_add(errs, r->file, r->line, "[report %s]: it has recipients "
				    "but no email [notifier NAME] is defined to send it", r->name);
		}
		for (size_t j = 0; j < r->nitems; j++)
			if (strncmp(r->items[j].value, "alert:", 6) == 0 &&
			    (strncmp(r->items[j].key, "availability.", 13) != 0 ||
			    !rule_defined(cfg, r->items[j].value + 6)))
				cfg_error_add(errs, r->items[j].file, r->items[j].line, "[report %s] %s: "
				    "alert:NAME is for availability sections and names an [alert NAME]",
				    r->name, r->items[j].key);
		for (size_t j = 0; j < r->nitems; j++)
			if (strcmp(r->items[j].key, "alerts") == 0 &&
			    strcmp(r->items[j].value, "yes") != 0)
				cfg_error_add(errs, r->items[j].file, r->items[j].line, "[report %s] "
				    "alerts: \"yes\" adds the alert summary here (leave the key out "
				    "for none)", r->name);
		finish_report_options(errs, r);
	}
}

const struct cfg_loc *
cfg_rule_where(const void *rule, int record, const char *key)
{
	enum sect s = record ? S_RECORD : S_ALERT;
	const struct cfg_loc *locs = record ? ((const struct cfg_record *)rule)->locs :
	    ((const struct cfg_alert *)rule)->locs;
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == s && strcmp(keys[i].name, key) == 0)
			return &locs[i];
	return NULL;
}

/* One expression through check; an error is reported at the expression's line. */
static int
check_expr(const char *sl, const char *key, const struct cfg_expr *e,
    int (*check)(void *, const char *, char *, size_t), void *arg, struct cfg_errors *errs)
{
	char err[512];

	if (e->text == NULL)
		return 0;
	err[0] = '\0';
	if (check(arg, e->text, err, sizeof(err)) == 0)
		return 0;
	cfg_error_add(errs, e->file, e->line, "%s %s: %s", sl, key,
	    err[0] ? err : "invalid expression");
	return -1;
}

int
cfg_check_exprs(const struct cfg *cfg, int (*check)(void *arg, const char *text, char *err,
    size_t errlen), void *arg, struct cfg_errors *errs)
{
	char sl[192];
	int rc = 0;
	size_t i;

	for (i = 0; i < cfg->nalerts; i++) {
		const struct cfg_alert *a = &cfg->alerts[i];

		snprintf(sl, sizeof(sl), "[alert %s]", a->name);
		rc |= check_expr(sl, "expr", &a->expr, check, arg, errs);
		rc |= check_expr(sl, "recover", &a->recover, check, arg, errs);
	}
	for (i = 0; i < cfg->nrecords; i++) {
		const struct cfg_record *r = &cfg->records[i];

		snprintf(sl, sizeof(sl), "[record %s]", r->name);
		rc |= check_expr(sl, "expr", &r->expr, check, arg, errs);
	}
	for (i = 0; i < cfg->nreports; i++) {
		const struct cfg_report *r = &cfg->reports[i];

		snprintf(sl, sizeof(sl), "[report %s]", r->name);
		for (size_t j = 0; j < r->nitems; j++) {
			const struct cfg_kv *it = &r->items[j];
			struct cfg_expr e = { it->value, it->file, it->line };

			if (prefix_of(it->key, report_sections) != NULL &&
			    strncmp(it->key, "text.", 5) != 0 && strncmp(it->value, "alert:", 6) != 0)
				rc |= check_expr(sl, it->key, &e, check, arg, errs);
		}
	}
	return rc ? -1 : 0;
}

int
cfg_check_matchers(const struct cfg *cfg, int (*check)(void *arg, const char *text, char *err,
    size_t errlen), void *arg, struct cfg_errors *errs)
{
	char sl[192];
	int rc = 0;

	for (size_t i = 0; i < cfg->nroutes; i++) {
		snprintf(sl, sizeof(sl), "[route %s]", cfg->routes[i].name);
		rc |= check_expr(sl, "match", &cfg->routes[i].match, check, arg, errs);
	}
	for (size_t i = 0; i < cfg->ninhibits; i++) {
		snprintf(sl, sizeof(sl), "[inhibit %s]", cfg->inhibits[i].name);
		rc |= check_expr(sl, "source_match", &cfg->inhibits[i].source, check, arg, errs);
		rc |= check_expr(sl, "target_match", &cfg->inhibits[i].target, check, arg, errs);
	}
	for (size_t i = 0; i < cfg->nmaintenances; i++) {
		snprintf(sl, sizeof(sl), "[maintenance %s]", cfg->maintenances[i].name);
		rc |= check_expr(sl, "match", &cfg->maintenances[i].match, check, arg, errs);
	}
	return rc ? -1 : 0;
}

/*
 * reeve watches its own notifications: with receivers configured, an alert fires when one
 * keeps failing or made dead letters (docs/notifications.md). A config may define its own
 * [alert ReeveNotificationsFailing] instead.
 */
static const char builtin_rules[] =
    "[alert ReeveNotificationsFailing]\n"
    "expr = max by (receiver) (reeve_notifier_failing) > 0\n"
    "  or sum by (receiver) (increase(reeve_notifications_dead_total[15m])) > 0\n"
    "for = 2m\n"
    "severity = critical\n"
    "annotations.summary = notifications to {{ labels.receiver }} are failing\n"
    "annotations.description = delivery to {{ labels.receiver }} keeps failing or made dead "
    "letters: see reeve outbox list\n";

static void
add_builtin_rules(struct ctx *ctx)
{
	struct file f = { 0 };

	if (ctx->cfg->nnotifiers == 0)
		return;
	for (size_t i = 0; i < ctx->cfg->nalerts; i++)
		if (strcmp(ctx->cfg->alerts[i].name, "ReeveNotificationsFailing") == 0)
			return;
	f.ctx = ctx;
	f.name = intern(ctx->cfg, "(built-in rules)");
	f.data = builtin_rules;
	f.len = strlen(builtin_rules);
	parse_buffer(&f);
	file_free(&f);
}

static struct cfg *
load(const char *path, const char *text, const char *name, struct cfg_errors *errs)
{
	struct ctx ctx = { NULL, errs };
	size_t before = errs->n;

	ctx.cfg = cfg_new_defaults(&ctx);
	if (path != NULL) {
		load_file(&ctx, path, NULL, 0);
	} else {
		struct file f = { 0 };

		f.ctx = &ctx;
		f.name = intern(ctx.cfg, name);
		f.data = text;
		f.len = strlen(text);
		parse_buffer(&f);
		file_free(&f);
	}
	add_builtin_rules(&ctx);
	finish(&ctx);
	finish_tls(&ctx);
	finish_tokens(&ctx);
	finish_rules(&ctx);
	finish_notify(&ctx);
	finish_reports(&ctx);
	if (errs->n != before) {
		cfg_free(ctx.cfg);
		return NULL;
	}
	return ctx.cfg;
}

struct cfg *
cfg_load(const char *path, struct cfg_errors *errs)
{
	return load(path, NULL, NULL, errs);
}

struct cfg *
cfg_load_string(const char *text, const char *name, struct cfg_errors *errs)
{
	return load(NULL, text, name, errs);
}

const struct cfg_loc *
cfg_where(const struct cfg *cfg, const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (!NAMED_SECT(keys[i].sect) && keys[i].type != K_INCLUDE &&
		    strcmp(sect_names[keys[i].sect], section) == 0 && strcmp(keys[i].name, key) == 0)
			return &cfg->locs[i];
	return NULL;
}

static void
kv_free(struct cfg_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* Free what one key holds at base (a struct cfg or a section's element). */
static void
key_free(const struct key *k, void *base)
{
	char *dst = (char *)base + k->off;

	switch (k->type) {
	case K_STRING:
	case K_LISTEN:
	case K_RRDCACHED:
	case K_URL:
	case K_SECRET_PATH:
	case K_WORD:
		free(*(char **)dst);
		break;
	case K_ENUM:
		if (k->flags & F_ENUM_STR)
			free(*(char **)dst);
		break;
	case K_EXPR:
		free(((struct cfg_expr *)(void *)dst)->text);
		break;
	case K_LIST: {
		char **v = *(char ***)(void *)dst;
		size_t n = *(size_t *)(void *)(dst + sizeof(char **));

		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		break;
	}
	default:
		break;
	}
}

static void
wipe(char *secret)
{
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* Free one element of a notification section (not the element itself). */
static void
nsect_free(const struct nsect *d, void *el)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sect == d->sect)
			key_free(&keys[i], el);
	if (d->sect == S_NOTIFIER) {
		struct cfg_notifier *n = el;

		wipe(n->password);
		wipe(n->secret);
		wipe(n->routing_key);
		for (size_t i = 0; i < n->nheaders; i++)
			explicit_bzero(n->headers[i].value, strlen(n->headers[i].value));
		kv_free(n->headers, n->nheaders);
	}
	if (d->sect == S_REPORT) {
		struct cfg_report *r = el;

		kv_free(r->items, r->nitems);
		kv_free(r->options, r->noptions);
	}
	free(*NS_FIELD(d, el, name, char *));
	free(*NS_FIELD(d, el, locs, struct cfg_loc *));
}

void
cfg_free(struct cfg *cfg)
{
	size_t i, j;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (NAMED_SECT(k->sect))
			continue;
		if (k->off == offsetof(struct cfg, token) && cfg->token != NULL)
			explicit_bzero(cfg->token, strlen(cfg->token));
		key_free(k, cfg);
	}
	for (i = 0; i < cfg->nprobes; i++) {
		struct cfg_probe *p = &cfg->probes[i];

		free(p->name);
		free(p->type);
		for (j = 0; j < p->nopts; j++) {
			free(p->opts[j].key);
			free(p->opts[j].value);
		}
		free(p->opts);
	}
	free(cfg->probes);
	kv_free(cfg->labels, cfg->nlabels);
	for (i = 0; i < cfg->ntokens; i++) {
		struct cfg_token *t = &cfg->tokens[i];

		if (t->secret != NULL)
			explicit_bzero(t->secret, strlen(t->secret));
		free(t->secret);
		free(t->secret_file);
		free(t->name);
	}
	free(cfg->tokens);
	for (i = 0; i < cfg->nalerts; i++) {
		struct cfg_alert *a = &cfg->alerts[i];

		free(a->name);
		free(a->expr.text);
		free(a->recover.text);
		free(a->severity);
		kv_free(a->labels, a->nlabels);
		kv_free(a->annotations, a->nannotations);
		free(a->locs);
	}
	free(cfg->alerts);
	for (i = 0; i < cfg->nrecords; i++) {
		struct cfg_record *r = &cfg->records[i];

		free(r->name);
		free(r->expr.text);
		kv_free(r->labels, r->nlabels);
		free(r->locs);
	}
	free(cfg->records);
	for (i = 0; i < NNSECTS; i++) {
		const struct nsect *d = &nsects[i];
		char *arr = *(char **)(void *)((char *)cfg + d->arr);
		size_t n = *(size_t *)(void *)((char *)cfg + d->count);

		for (j = 0; j < n; j++)
			nsect_free(d, arr + j * d->size);
		free(arr);
	}
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->locs);
	free(cfg);
}
