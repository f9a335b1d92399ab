/* config.h: INI configuration files into a typed struct cfg, with file:line for every value. */
#ifndef REEVE_CONFIG_H
#define REEVE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* A list of "file:line: message" errors, collected so that all of them can be reported. */
struct cfg_errors {
	char **msgs;
	size_t n, cap;
};

/* Where a value was set: file is interned in struct cfg (borrowed), NULL when defaulted. */
struct cfg_loc {
	const char *file;
	int line;
};

/* One probe-specific key of a [probe NAME] section, kept as text for the probe to parse. */
struct cfg_probe_opt {
	char *key;
	char *value;
	const char *file; /* interned in struct cfg, borrowed */
	int line;
	int used; /* set by the probe host when the probe asked for this key */
};

/* One [probe NAME] section. */
struct cfg_probe {
	char *name;       /* instance name, unique */
	char *type;       /* module name, e.g. "cpu" */
	double interval;  /* seconds; defaults to [reeve] interval */
	double timeout;   /* seconds; defaults to the interval, at most 10 s */
	struct cfg_probe_opt *opts;
	size_t nopts;
	const char *file; /* where the section header is */
	int line;
	/* where type, interval and timeout were set (file NULL when defaulted) */
	struct cfg_loc loc_type, loc_interval, loc_timeout;
};

/*
 * One [token NAME] section: a bearer token and its roles. The secret is checked at load:
 * at least 16 bytes, unique among the tokens and [http] token. cfg_free wipes it.
 */
struct cfg_token {
	char *name;        /* unique */
	char *secret;      /* from secret, or the one line of secret_file (read at load) */
	char *secret_file; /* the path read (relative ones resolved), NULL for an inline secret */
	unsigned roles;    /* AUTH_READ | AUTH_PUSH | AUTH_ADMIN (auth.h); default AUTH_READ */
	const char *file;  /* where the section header is */
	int line;
	/* where secret, secret_file and roles were set (file NULL when not set) */
	struct cfg_loc loc_secret, loc_secret_file, loc_roles;
};

/* A labels.NAME key of [reeve] or of a rule section, or annotations.NAME of an [alert]. */
struct cfg_kv {
	char *key;        /* NAME, without the labels. or annotations. prefix */
	char *value;
	const char *file; /* interned in struct cfg, borrowed */
	int line;
};

/*
 * A rule expression as written (continuation lines joined with one space), with where it
 * was set, so that the expression parser's errors read "file:line: [alert x] expr: 1:14: ...".
 * text is NULL when the key is not set.
 */
struct cfg_expr {
	char *text;
	const char *file; /* interned in struct cfg, borrowed */
	int line;
};

/* [alert NAME] nodata: what an instance whose series have no data does. */
enum cfg_nodata { CFG_NODATA_ALERT, CFG_NODATA_OK, CFG_NODATA_KEEP };

/* One [alert NAME] section (docs/alerts.md). Times are in seconds. */
struct cfg_alert {
	char *name;             /* letters, digits, '_', '.', '-'; unique among alerts */
	struct cfg_expr expr;   /* required */
	struct cfg_expr recover; /* optional: text NULL when not set */
	double for_;            /* "for": how long the condition holds before firing, default 0 */
	double keep_firing_for; /* default 0 */
	int nodata;             /* enum cfg_nodata, default CFG_NODATA_KEEP */
	double nodata_grace;    /* default 2 x eval_interval */
	char *severity;         /* a word of [a-z], default "warning" */
	struct cfg_kv *labels;  /* sorted by key, names checked, unique */
	size_t nlabels;
	struct cfg_kv *annotations; /* in file order, templates checked (template.h) */
	size_t nannotations;
	double eval_interval;   /* default [reeve] interval */
	unsigned flap_changes;  /* more changes than this within flap_window: flapping; 0 = off */
	double flap_window;     /* default 1h */
	const char *file;       /* where the section header is */
	int line;
	struct cfg_loc *locs;   /* private: where each key was set; see cfg_rule_where */
};

/* One [record NAME] section: NAME is the metric name of the computed series. */
struct cfg_record {
	char *name;             /* a valid metric name, unique among records */
	struct cfg_expr expr;   /* required */
	struct cfg_kv *labels;  /* sorted by key */
	size_t nlabels;
	double eval_interval;   /* default [reeve] interval */
	const char *file;
	int line;
	struct cfg_loc *locs;   /* private */
};

/* [notifier NAME] type = ... (docs/notifications.md). */
enum cfg_notifier_kind {
	CFG_NOTIFIER_EMAIL,
	CFG_NOTIFIER_WEBHOOK,
	CFG_NOTIFIER_ALERTMANAGER,
	CFG_NOTIFIER_EXEC
};
/* email: starttls = required|opportunistic|off */
enum cfg_starttls { CFG_STARTTLS_REQUIRED, CFG_STARTTLS_OPPORTUNISTIC, CFG_STARTTLS_OFF };
/* webhook: format = generic|slack|alertmanager|pagerduty */
enum cfg_webhook_format {
	CFG_FORMAT_GENERIC,
	CFG_FORMAT_SLACK,
	CFG_FORMAT_ALERTMANAGER,
	CFG_FORMAT_PAGERDUTY
};

/*
 * One [notifier NAME] section: a receiver of notifications. Keys of other types than the
 * section's are rejected at load; the ones a type requires are checked there too. Secrets
 * (password, secret, routing_key) are read from their files at load (mode 0600, one line)
 * and wiped by cfg_free; they never appear in a message.
 */
struct cfg_notifier {
	char *name;            /* letters, digits, '_', '.', '-'; unique */
	int type;              /* enum cfg_notifier_kind; required */
	double timeout;        /* one delivery attempt, default 30s */
	/* email */
	char *server;          /* "host:port" (required; port 25 when left out) */
	int starttls;          /* enum cfg_starttls, default required */
	char *ca_file;         /* certificates trusted for STARTTLS; NULL: the system store */
	char *username;        /* AUTH PLAIN/LOGIN; needs password_file */
	char *password;        /* from password_file */
	char *password_file;
	char *from;            /* required: "addr@example.org" or "Name <addr@example.org>" */
	char **to;             /* required: comma-separated addresses */
	size_t nto;
	/* webhook and alertmanager */
	char *url;             /* required: http:// or https://; alertmanager: its base URL */
	int format;            /* webhook: enum cfg_webhook_format, default generic */
	char *secret;          /* webhook: HMAC-SHA256 key, from secret_file; NULL: unsigned */
	char *secret_file;
	char *routing_key;     /* webhook, format pagerduty: from routing_key_file (required there) */
	char *routing_key_file;
	struct cfg_kv *headers; /* header.NAME = value, in file order (webhook, alertmanager) */
	size_t nheaders;
	/* networks its connections may reach (httpclient.h); NULL allow: any; NULL deny: link-local */
	char *allow_networks, *deny_networks;
	/* exec */
	char *command;         /* required: program and arguments, split on blanks, no shell */
	const char *file;      /* where the section header is */
	int line;
	struct cfg_loc *locs;  /* private: see cfg_section_where */
};

/*
 * One [route NAME] section. Routes are tried in file order; an alert goes to the first
 * whose match it satisfies, and on to the next ones while the matched route says continue.
 * [route default] (no match) takes what no other route took.
 */
struct cfg_route {
	char *name;
	struct cfg_expr match;  /* label matchers as in a selector's braces; text NULL: any alert */
	char **notify;          /* [notifier NAME]s, at least one, each defined */
	size_t nnotify;
	int continue_;          /* "continue", default no */
	char **group_by;        /* default "alertname"; "..." alone: every label */
	size_t ngroup_by;
	double group_wait;      /* default 30s */
	double group_interval;  /* default 5m */
	double repeat_interval; /* default 4h */
	double escalate_after;  /* 0: no escalation */
	char *escalate_to;      /* a [notifier NAME]; required with escalate_after */
	const char *file;
	int line;
	struct cfg_loc *locs;
};

/* One [inhibit NAME] section: a firing source alert mutes matching target alerts. */
struct cfg_inhibit {
	char *name;
	struct cfg_expr source; /* source_match: required */
	struct cfg_expr target; /* target_match: required */
	char **equal;           /* labels source and target must share; may be empty */
	size_t nequal;
	const char *file;
	int line;
	struct cfg_loc *locs;
};

/* One [maintenance NAME] section: a recurring window that mutes matching alerts. */
struct cfg_maintenance {
	char *name;
	char *schedule;         /* 5-field cron: when the window opens; required */
	char *timezone;         /* the cron's time zone (tz database name), NULL: local time */
	double duration;        /* how long it stays open; required, > 0 */
	struct cfg_expr match;  /* required */
	char *comment;
	const char *file;
	int line;
	struct cfg_loc *locs;
};

/*
 * One [report NAME] section (docs/reports.md). Its sections are the keys kpi.NAME,
 * graph.NAME, availability.NAME, text.NAME and alerts, kept in file order in items (key
 * and value as written); title.NAME, unit.NAME, warn.NAME, crit.NAME and objective.NAME
 * describe the item NAME and are kept in options.
 */
struct cfg_report {
	char *name;
	char *title;            /* NULL: the name */
	char *schedule;         /* 5-field cron; NULL: only on demand (CLI, API) */
	char *timezone;         /* of the schedule and of the calendar periods; NULL: local time */
	char *period;           /* "1d", "7d", "1M", "previous day|week|month"; default "1d" */
	char **to;              /* recipients; none: archived only */
	size_t nto;
	char **cc;
	size_t ncc;
	char **formats;         /* attachments and archive files: html, pdf, csv (default all) */
	size_t nformats;
	char *notifier;         /* the email [notifier NAME] that sends it; NULL: the first one */
	char *objective;        /* availability objective, "99.9%" (default) */
	double retention;       /* archive copies older than this are deleted, default 90d */
	double grace;           /* a slot missed while reeve was down is sent this late at most, default 12h */
	struct cfg_kv *items;   /* the sections, in order */
	size_t nitems;
	struct cfg_kv *options; /* title.NAME, unit.NAME, warn.NAME, crit.NAME, objective.NAME */
	size_t noptions;
	const char *file;
	int line;
	struct cfg_loc *locs;
};

/* The whole configuration. All strings are owned by the struct; cfg_free frees them. */
struct cfg {
	/* [reeve] */
	char *data_dir;       /* default "reeve-data" */
	double interval;      /* seconds, default 10 */
	char *hostname;       /* default: gethostname() */
	char *plugin_dir;     /* colon-separated list, default PROBEDIR */
	int log_level;        /* enum reeve_log_level, default REEVE_LOG_INFO */
	char *log_target;     /* "stderr" or "syslog", default "stderr" */
	double memory_window; /* seconds of recent samples kept in memory per series, default 15m */
	char *user;           /* started as root: become this user once the port is bound; NULL: stay */
	/*
	 * labels.NAME: the external labels, added to every alert instance that has no label of
	 * the name (rule.c); sorted by key, names checked, unique
	 */
	struct cfg_kv *labels;
	size_t nlabels;
	/* [http] */
	char *listen;         /* "host:port", "[v6]:port"; default "127.0.0.1:9180" */
	char *token;          /* a token with every role, NULL = none; wiped by cfg_free */
	double http_timeout;  /* seconds of inactivity before a connection is closed, default 30 */
	unsigned max_connections;  /* default 256 */
	unsigned max_per_ip;       /* default 32 */
	uint64_t memory_limit;     /* bytes per connection, default 64 KiB */
	unsigned http_threads;     /* default 2 */
	uint64_t push_max_body;    /* bytes of a POST to /api/v1/push or /events, default 4 MiB */
	double push_ttl;           /* seconds a pushed series lives unless renewed, 0 = for ever */
	char *external_url;        /* reeve's address as users reach it, for links; NULL: none */
	unsigned http_open;        /* AUTH_OPEN_* endpoints that never ask for a token, default healthz */
	uint64_t max_body;         /* bytes of a POST to the other endpoints (queries, silences), 1 MiB */
	double query_timeout;      /* seconds a query may take, default 2 min */
	uint64_t query_max_samples; /* points a query may hold, default 50 million */
	char *tls_cert, *tls_key;  /* PEM files: serve HTTPS; NULL: plain HTTP */
	/* [store] */
	char *rrdcached;      /* NULL, "unix:/path", "/path" or "host:port" */
	char *rrdcached_dir;  /* over TCP: this reeve's directory on rrdcached, default the hostname */
	char *preset;         /* RRA preset name, default "default" */
	char *holt_winters;   /* regex on metric names whose files get Holt-Winters RRAs, or NULL */
	double hw_season;     /* their seasonal period in seconds, default 1 day */
	uint64_t queue_size;  /* max queued updates before new ones are dropped, default 100000 */
	double flush_timeout; /* how long shutdown may take to flush, default 10 s */

	struct cfg_probe *probes;
	size_t nprobes;

	struct cfg_token *tokens;
	size_t ntokens;

	struct cfg_alert *alerts;
	size_t nalerts;
	struct cfg_record *records;
	size_t nrecords;
	/* [outbox]: delivery of notifications (docs/notifications.md) */
	double retry_initial; /* first wait after a failed attempt, default 10s */
	double retry_factor;  /* each further wait is this many times longer, default 2 */
	double retry_max;     /* the longest wait, default 10m */
	double max_age;       /* older undelivered messages go to the dead letters, default 24h */
	struct cfg_notifier *notifiers;
	size_t nnotifiers;
	struct cfg_route *routes;
	size_t nroutes;
	struct cfg_inhibit *inhibits;
	size_t ninhibits;
	struct cfg_maintenance *maintenances;
	size_t nmaintenances;
	struct cfg_report *reports;
	size_t nreports;

	char **files; /* every file read, interned; cfg_probe_opt.file etc. point here */
	size_t nfiles;

	struct cfg_loc *locs; /* private: one per key of the table in config.c; use cfg_where */
};

/*
 * Read path (and everything it includes). Returns a new cfg, or NULL after appending every
 * error found to errs. Nothing is checked that needs the probes themselves: probe-specific
 * keys are kept as struct cfg_probe_opt for the probe host to validate.
 */
struct cfg *cfg_load(const char *path, struct cfg_errors *errs);

/*
 * The same for a config held in memory (the embedded default); name is used in error
 * messages as the file name, and relative includes resolve against the working directory.
 */
struct cfg *cfg_load_string(const char *text, const char *name, struct cfg_errors *errs);

/*
 * Where a key of [reeve], [http] or [store] was set, e.g. cfg_where(cfg, "http", "listen"),
 * so that later modules can point at the line of a value they reject. Returns a pointer
 * into cfg (borrowed) whose file is NULL when the default is in use, or NULL when there is
 * no such key. Probe keys: see struct cfg_probe.
 */
const struct cfg_loc *cfg_where(const struct cfg *cfg, const char *section, const char *key);

/*
 * Where a key of an [alert NAME] (record 0) or [record NAME] (record 1) section was set:
 * rule is a struct cfg_alert * or struct cfg_record *. Returns a pointer into the rule
 * (borrowed) whose file is NULL when the default is in use, or NULL for an unknown key.
 */
const struct cfg_loc *cfg_rule_where(const void *rule, int record, const char *key);

/*
 * Where a key of a [notifier|route|inhibit|maintenance NAME] section was set: el is the
 * section's struct (struct cfg_notifier *, ...), kind "notifier", "route", "inhibit" or
 * "maintenance". Returns a pointer into el (borrowed) whose file is NULL when the key was
 * not set (default in use), or NULL for an unknown key.
 */
const struct cfg_loc *cfg_section_where(const void *el, const char *kind, const char *key);
/*
 * Check every rule expression (expr and recover of each [alert], expr of each [record])
 * with check, which returns 0, or -1 with a message in err such as "1:14: unknown
 * function". Each failure is added to errs as "file:line: [alert NAME] expr: message".
 * This is where the expression parser plugs in (reeve check, load and reload), without the
 * config depending on it. Returns 0 when every expression passed, -1 otherwise.
 */
int cfg_check_exprs(const struct cfg *cfg, int (*check)(void *arg, const char *text,
    char *err, size_t errlen), void *arg, struct cfg_errors *errs);

/*
 * The same for the label matchers of [route] match, [inhibit] source_match and
 * target_match, and [maintenance] match (expr_parse_matchers plugs in).
 */
int cfg_check_matchers(const struct cfg *cfg, int (*check)(void *arg, const char *text,
    char *err, size_t errlen), void *arg, struct cfg_errors *errs);
/* Free a cfg, wiping the secrets first; cfg_free(NULL) is a no-op. */
void cfg_free(struct cfg *cfg);

/* Append "file:line: message" (or "file: message" when line is 0) to errs. */
void cfg_error_add(struct cfg_errors *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Free the messages of errs and reset it to empty. */
void cfg_errors_clear(struct cfg_errors *errs);

/*
 * Value parsers. Their errstr is a static phrase that follows the quoted value in a
 * message, e.g. "is not a duration (use a unit: 500ms, 10s, 5m, 1h, 7d)".
 *
 * Durations: a number followed by a unit, ms s m h d w ("500ms", "10s", "1.5h", "7d");
 * "0" alone is accepted. Sets *seconds, returns 0, or -1 with *errstr set to a static
 * message. Bare numbers other than 0 are rejected as ambiguous.
 */
int cfg_parse_duration(const char *s, double *seconds, const char **errstr);

/*
 * Sizes: a whole number followed by B, KiB, MiB, GiB, TiB (binary) or kB, MB, GB, TB
 * (decimal), e.g. "64KiB", "10MiB"; "0" alone is accepted. Sets *bytes, returns 0 or -1.
 */
int cfg_parse_size(const char *s, uint64_t *bytes, const char **errstr);

/* Booleans: yes/no, true/false, on/off, 1/0 (any case). Returns 0 or -1. */
int cfg_parse_bool(const char *s, int *out, const char **errstr);

/*
 * Listen addresses: "host:port" (a host name or IPv4 address) or "[ipv6]:port", port
 * 1..65535. Sets *host to a new string without brackets (the caller frees it) and *port,
 * returns 0; or returns -1 with *errstr set and *host untouched. host and port may be NULL.
 */
int cfg_parse_listen(const char *s, char **host, unsigned *port, const char **errstr);

#endif /* REEVE_CONFIG_H */
