/* daemon.h: running reeve: start-up, signals, reload, shutdown, and reeve's own metrics. */
#ifndef REEVE_DAEMON_H
#define REEVE_DAEMON_H

/*
 * Load and fully validate a configuration (path NULL: the embedded default), probe keys
 * included. Prints "configuration OK" or every error as file:line: message to stderr/stdout.
 * Returns the exit status: 0 or 1.
 */
int daemon_check(const char *path);

/*
 * Run the daemon in the foreground until SIGTERM or SIGINT; SIGHUP reloads the config.
 * use_syslog sends logs to syslog instead of stderr. Returns the exit status.
 */
int daemon_run(const char *path, int use_syslog);

/*
 * reeve rules backtest: load the configuration at path (NULL: the embedded default), then
 * replay [alert rule] over the stored history (alerts/backtest.h), printing to stdout.
 * Returns the exit status: 0, or 2 for a bad configuration, an unknown rule or no history.
 */
int daemon_backtest(const char *path, const char *rule, double since, double step);

/*
 * `reeve report NAME [--out DIR] [--period P] [--send]`: make a report from the stored
 * history (reports/reporter.c, report_cli). Returns the exit status: 0, 1 when the report
 * could not be made, 2 for a bad configuration.
 */
int daemon_report(const char *path, const char *name, const char *outdir, const char *period,
    int send);

/*
 * `reeve notify test NAME` (notifier_test; 0 sent, 1 not, 2 bad config) and `reeve outbox
 * list` / `reeve outbox retry ID` (retry_id NULL: list; 0, or 1 after printing the error).
 */
int daemon_notify_test(const char *path, const char *name);
int daemon_outbox(const char *path, const char *retry_id);

/* `reeve silence add|list|expire` and `reeve ack` (kind SILENCE_ACK of alerts/silence.h). */
struct daemon_silence_args {
	int kind;                /* enum silence_kind */
	int list, all;           /* list (all: ended ones too) */
	const char *expire;      /* end this id */
	const char *matchers;    /* add: matchers, or for an ack an alert's fingerprint */
	double starts, ends;     /* add: 0 = now; the end */
	const char *comment, *author;
};
int daemon_silence(const char *path, const struct daemon_silence_args *a);

#endif /* REEVE_DAEMON_H */
