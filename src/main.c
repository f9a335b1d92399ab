/* main.c: the reeve command line: run, check, rules, notify, outbox, silence, ack, version, help. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "rulestest.h"
#include "util.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static const char usage_main[] =
    "usage: reeve <command> [options]\n"
    "\n"
    "commands:\n"
    "  run      run the daemon in the foreground\n"
    "  check    check a configuration file and exit\n"
    "  rules    test alert rules against given series (reeve rules test FILE...), or replay\n"
    "           one over the stored history (reeve rules backtest NAME)\n"
    "  notify   send a test notification to a receiver (reeve notify test NAME)\n"
    "  outbox   list the spooled and dead-letter notifications, or send a dead one again\n"
    "  silence  mute alerts for a while (add), list and end (expire) silences\n"
    "  ack      acknowledge a firing alert: no escalation and no repeats for a while\n"
    "  report   make a report into files (reeve report NAME --out DIR) or mail it now\n"
    "  version  print the version\n"
    "  help     show help for a command (reeve help run)\n"
    "\n"
    "Without -c, run and check use the built-in default configuration (etc/reeve.conf).\n";

static const char usage_run[] =
    "usage: reeve run [-c FILE] [--syslog]\n"
    "\n"
    "Run the daemon in the foreground. SIGHUP reloads the configuration, SIGTERM and SIGINT\n"
    "stop it after writing out what is queued.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: the built-in default configuration)\n"
    "      --syslog       log to syslog instead of stderr\n"
    "  -h, --help         show this help\n";

static const char usage_check[] =
    "usage: reeve check [-c FILE]\n"
    "\n"
    "Check a configuration file, probe settings included. Prints \"configuration OK\" and exits\n"
    "0, or prints every error as file:line: message and exits 1.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: the built-in default configuration)\n"
    "  -h, --help         show this help\n";

static const char usage_rules[] =
    "usage: reeve rules test FILE...\n"
    "       reeve rules backtest NAME [--since DURATION] [--step DURATION] [-c FILE]\n"
    "\n"
    "rules test: run the rules a test file names over the input series it gives, with a\n"
    "controlled clock, and check the alerts (and expression values) it expects at given\n"
    "times. Prints every failing expectation as file:line and \"N tests passed, M failed\";\n"
    "exits 0 when all pass, 1 when any fails, 2 when a file cannot be used.\n"
    "\n"
    "  -h, --help           show this help\n"
    "\n"
    "The test file format is described in docs/alerts.md, \"Testing rules\".\n"
    "\n"
    "rules backtest: replay [alert NAME] over the RRD history of the configuration's data_dir\n"
    "(default: the last 7d, every eval_interval but at least 1m) with the real state machine,\n"
    "and print when it would have gone pending, fired and resolved. Writes nothing.\n"
    "\n"
    "  -c, --config FILE    configuration file (default: the built-in default configuration)\n"
    "      --since DURATION how far back to start (default 7d)\n"
    "      --step DURATION  time between evaluations (default: eval_interval, at least 1m)\n";

static const char usage_notify[] =
    "usage: reeve notify test NAME [-c FILE]\n"
    "\n"
    "Send a test notification (one firing alert \"ReeveTest\") to [notifier NAME] with its own\n"
    "settings and timeout, and print whether the receiver accepted it. Exits 0 when it did,\n"
    "1 when it did not, 2 for a bad command line or configuration.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: the built-in default configuration)\n";

static const char usage_report[] =
    "usage: reeve report NAME [--out DIR] [--period PERIOD] [--send] [-c FILE]\n"
    "\n"
    "Make [report NAME] now from the stored history of the configuration's data_dir, for the\n"
    "period that ends now (docs/reports.md). Works beside a running daemon.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: the built-in default configuration)\n"
    "      --out DIR      write its files into DIR (HTML with its graphs, PDF, CSV, text)\n"
    "      --period P     cover P instead of the report's period (1d, 7d, 1M, previous week,\n"
    "                     previous month, ...)\n"
    "      --send         mail it now: queued in the spool, the running daemon sends it\n"
    "  -h, --help         show this help\n";

static const char usage_outbox[] =
    "usage: reeve outbox list [-c FILE]\n"
    "       reeve outbox retry ID [-c FILE]\n"
    "\n"
    "list: the notifications waiting in the spool (data_dir/spool) and the dead letters, with\n"
    "their receiver, age, subject and last error. retry: put dead letter ID back in the queue;\n"
    "a running daemon sends it within a second. Both work without a running daemon.\n"
    "\n"
    "  -c, --config FILE  configuration file (default: the built-in default configuration)\n";

static const char usage_silence[] =
    "usage: reeve silence add MATCHERS (--duration D | --end TIME) [--start TIME]\n"
    "                         --comment TEXT [--author NAME] [-c FILE]\n"
    "       reeve silence list [--all] [-c FILE]\n"
    "       reeve silence expire ID [-c FILE]\n"
    "\n"
    "add: mute the alerts MATCHERS select (as in a [route] match: 'instance=\"db1\",\n"
    "severity=~\"warning|info\"') from --start (default now) for --duration or until --end\n"
    "(RFC 3339 or Unix seconds); prints the new silence's id. Muted alerts still fire and show\n"
    "in the API, but are left out of notifications. list: the silences in force or to come\n"
    "(--all: ended ones too). expire: end silence ID now. A running daemon sees the changes\n"
    "within a second. --author defaults to $USER.\n";

static const char usage_ack[] =
    "usage: reeve ack ALERT --comment TEXT [--duration D] [--author NAME] [-c FILE]\n"
    "\n"
    "Acknowledge a firing alert: ALERT is its fingerprint (\"fingerprint\" in /api/v1/alerts) or\n"
    "label matchers. For --duration (default 24h) it is neither escalated nor repeated; changes\n"
    "are still told. Prints the acknowledgement's id (reeve silence expire ID ends it).\n";

/* Complain about the command line: what (e.g. "unknown option"), the word, and the command. */
static int
bad_usage(const char *what, const char *arg, const char *cmd)
{
	fprintf(stderr, "reeve: %s '%s'\nTry 'reeve %s--help' for more information.\n", what, arg, cmd);
	return 2;
}

/* Parse the options of run and check. Returns -1 to exit with *status. */
static int
parse_opts(int argc, char **argv, const char *cmd, const char *usage, const char **config,
    int *use_syslog, int *status)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "syslog", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char prefix[32];
	int ch;

	snprintf(prefix, sizeof(prefix), "%s ", cmd);
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*config = optarg;
			break;
		case 's':
			if (use_syslog == NULL) {
				*status = bad_usage("unknown option", "--syslog", prefix);
				return -1;
			}
			*use_syslog = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			*status = 0;
			return -1;
		case ':':
			*status = bad_usage("missing argument for option", argv[optind - 1], prefix);
			return -1;
		default:
			*status = bad_usage("unknown option", argv[optind - 1], prefix);
			return -1;
		}
	}
	if (optind < argc) {
		*status = bad_usage("unexpected argument", argv[optind], prefix);
		return -1;
	}
	return 0;
}

/* reeve rules test FILE...: 0 all passed, 1 some failed, 2 a file could not be used. */
static int
rules_test(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	int bad = 0;

	if (argc < 1) {
		fputs("reeve: rules test needs at least one test file\nTry 'reeve rules --help' for "
		    "more information.\n", stderr);
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		struct cfg_errors errs = { 0 };
		struct rulestest *t = NULL;
		size_t len = 0;
		char *text;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_rules, stdout);
			return 0;
		}
		if ((text = util_read_file(argv[i], RULESTEST_MAX_SIZE, &len)) == NULL) {
			fprintf(stderr, "reeve: %s: %s\n", argv[i], strerror(errno));
			bad = 1;
			continue;
		}
		t = rulestest_parse(text, len, argv[i], &errs);
		free(text);
		if (t == NULL || rulestest_run(t, stdout, &passed, &failed, &errs) == -1)
			bad = 1;
		for (size_t k = 0; k < errs.n; k++)
			fprintf(stderr, "%s\n", errs.msgs[k]);
		cfg_errors_clear(&errs);
		rulestest_free(t);
	}
	printf("%u tests passed, %u failed\n", passed, failed);
	return bad ? 2 : failed ? 1 : 0;
}

/* reeve report NAME [--out DIR] [--period P] [--send] [-c FILE] */
static int
report_cmd(int argc, char **argv)
{
	const char *path = NULL, *name = NULL, *out = NULL, *period = NULL;
	int send = 0, status;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_report, stdout);
			return 0;
		}
		if (strcmp(a, "--send") == 0) {
			send = 1;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strcmp(a, "--out") == 0 || strcmp(a, "--period") == 0) {
			if (i + 1 == argc)
				return bad_usage("missing argument for option", a, "report ");
			*(a[1] == 'c' || a[2] == 'c' ? &path : a[2] == 'o' ? &out : &period) = argv[++i];
		} else if (a[0] == '-') {
			return bad_usage("unknown option", a, "report ");
		} else if (name == NULL) {
			name = a;
		} else {
			return bad_usage("unexpected argument", a, "report ");
		}
	}
	if (name == NULL || (out == NULL && !send)) {
		fputs(name == NULL ? "reeve: report needs the name of a [report]\n" :
		    "reeve: report needs --out DIR, --send or both\n", stderr);
		fputs("Try 'reeve report --help' for more information.\n", stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	status = daemon_report(path, name, out, period, send);
	curl_global_cleanup();
	return status;
}

/* reeve rules backtest NAME [--since D] [--step D] [-c FILE] */
static int
rules_backtest(int argc, char **argv)
{
	const char *path = NULL, *rule = NULL, *e;
	double since = 7 * 86400, step = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		double *dst = NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_rules, stdout);
			return 0;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strcmp(a, "--since") == 0 || strcmp(a, "--step") == 0) {
			if (i + 1 == argc)
				return bad_usage("missing argument for option", a, "rules ");
			if (a[1] == 'c' || a[2] == 'c')
				path = argv[++i];
			else {
				dst = strcmp(a, "--since") == 0 ? &since : &step;
				if (cfg_parse_duration(argv[++i], dst, &e) == -1 || *dst <= 0) {
					fprintf(stderr, "reeve: %s \"%s\" %s\n", a, argv[i],
					    *dst <= 0 ? "must be more than 0" : e);
					return 2;
				}
			}
		} else if (a[0] == '-')
			return bad_usage("unknown option", a, "rules ");
		else if (rule == NULL)
			rule = a;
		else
			return bad_usage("unexpected argument", a, "rules ");
	}
	if (rule == NULL) {
		fputs("reeve: rules backtest needs the name of an [alert] rule\nTry 'reeve rules --help' "
		    "for more information.\n", stderr);
		return 2;
	}
	return daemon_backtest(path, rule, since, step);
}

/*
 * "reeve CMD SUB [ARG] [-c FILE]" (notify, outbox): sets *config and *arg (NULL when the
 * sub-command takes none). Returns -1 to exit with *status.
 */
static int
sub_args(int argc, char **argv, const char *prefix, const char *usage, int want_arg,
    const char **config, const char **arg, int *status)
{
	*arg = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			*status = 0;
			return -1;
		}
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			if (i + 1 == argc) {
				*status = bad_usage("missing argument for option", argv[i], prefix);
				return -1;
			}
			*config = argv[++i];
		} else if (argv[i][0] == '-') {
			*status = bad_usage("unknown option", argv[i], prefix);
			return -1;
		} else if (want_arg && *arg == NULL) {
			*arg = argv[i];
		} else {
			*status = bad_usage("unexpected argument", argv[i], prefix);
			return -1;
		}
	}
	if (want_arg && *arg == NULL) {
		fprintf(stderr, "reeve: %sneeds an argument\n%s", prefix, usage);
		*status = 2;
		return -1;
	}
	return 0;
}

/* reeve notify test NAME, reeve outbox list, reeve outbox retry ID */
static int
notify_cmd(int argc, char **argv, int outbox)
{
	const char *usage = outbox ? usage_outbox : usage_notify, *config = NULL, *arg;
	int status = 2;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!outbox && strcmp(argv[1], "test") == 0) {
		if (sub_args(argc - 2, argv + 2, "notify test ", usage, 1, &config, &arg,
		    &status) == -1)
			return status;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		status = daemon_notify_test(config, arg);
		curl_global_cleanup();
		return status;
	}
	if (outbox && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "retry") == 0)) {
		int retry = argv[1][0] == 'r';

		if (sub_args(argc - 2, argv + 2, retry ? "outbox retry " : "outbox list ", usage,
		    retry, &config, &arg, &status) == -1)
			return status;
		return daemon_outbox(config, arg);
	}
	return bad_usage(outbox ? "unknown outbox command" : "unknown notify command", argv[1],
	    outbox ? "outbox " : "notify ");
}

/* reeve silence add|list|expire ..., reeve ack ALERT ... (ack: argv[0] is "ack") */
static int
silence_cmd(int argc, char **argv, int ack)
{
	struct daemon_silence_args a = { 0 };
	const char *usage = ack ? usage_ack : usage_silence, *prefix = ack ? "ack " : "silence ";
	const char *config = NULL, *sub = ack ? "add" : argc > 1 ? argv[1] : NULL, *e;
	double duration = ack ? 86400 : 0;
	int i = ack ? 1 : 2;

	if (sub == NULL || (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0))) {
		fputs(usage, sub == NULL ? stderr : stdout);
		return sub == NULL ? 2 : 0;
	}
	a.kind = ack;
	a.author = getenv("USER");
	if (a.author == NULL || *a.author == '\0') {
		struct passwd *pw = getpwuid(getuid());

		a.author = pw != NULL ? pw->pw_name : NULL;
	}
	a.list = strcmp(sub, "list") == 0;
	if (!a.list && strcmp(sub, "add") != 0 && strcmp(sub, "expire") != 0)
		return bad_usage("unknown silence command", sub, prefix);
	for (; i < argc; i++) {
		const char *o = argv[i];
		int has = i + 1 < argc;

		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(o, "--all") == 0 && a.list) {
			a.all = 1;
			continue;
		}
		if (o[0] != '-') {
			if (a.list || (strcmp(sub, "expire") == 0 ? a.expire : a.matchers) != NULL)
				return bad_usage("unexpected argument", o, prefix);
			if (strcmp(sub, "expire") == 0)
				a.expire = o;
			else
				a.matchers = o;
			continue;
		}
		if (!has)
			return bad_usage("missing argument for option", o, prefix);
		if (strcmp(o, "-c") == 0 || strcmp(o, "--config") == 0)
			config = argv[++i];
		else if (a.list || strcmp(sub, "expire") == 0)
			return bad_usage("unknown option", o, prefix);
		else if (strcmp(o, "--comment") == 0)
			a.comment = argv[++i];
		else if (strcmp(o, "--author") == 0)
			a.author = argv[++i];
		else if (strcmp(o, "--duration") == 0) {
			if (cfg_parse_duration(argv[++i], &duration, &e) == -1 || duration <= 0) {
				fprintf(stderr, "reeve: --duration \"%s\" %s\n", argv[i],
				    duration <= 0 ? "must be more than 0" : e);
				return 2;
			}
		} else if (strcmp(o, "--start") == 0 || strcmp(o, "--end") == 0) {
			double *t = o[2] == 's' ? &a.starts : &a.ends;

			if (util_parse_time(argv[++i], t) == -1) {
				fprintf(stderr, "reeve: %s \"%s\" is not an RFC 3339 or Unix time\n", o,
				    argv[i]);
				return 2;
			}
		} else
			return bad_usage("unknown option", o, prefix);
	}
	if (strcmp(sub, "expire") == 0 && a.expire == NULL) {
		fprintf(stderr, "reeve: silence expire needs an id\n%s", usage);
		return 2;
	}
	if (strcmp(sub, "add") == 0) {
		if (a.matchers == NULL) {
			fprintf(stderr, "reeve: %sneeds %s\n%s", ack ? "ack " : "silence add ",
			    ack ? "an alert" : "matchers", usage);
			return 2;
		}
		if (a.ends == 0 && duration == 0) {
			fprintf(stderr, "reeve: silence add needs --duration or --end\n%s", usage);
			return 2;
		}
		if (a.ends == 0)
			a.ends = (a.starts ? a.starts : util_now()) + duration;
	}
	return daemon_silence(config, &a);
}

static int
rules_cmd(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_rules, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_rules, stdout);
		return 0;
	}
	if (strcmp(argv[1], "test") == 0)
		return rules_test(argc - 2, argv + 2);
	if (strcmp(argv[1], "backtest") == 0) {
		int status;

		curl_global_init(CURL_GLOBAL_DEFAULT);
		status = rules_backtest(argc - 2, argv + 2);
		curl_global_cleanup();
		return status;
	}
	return bad_usage("unknown rules command", argv[1], "rules ");
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	const char *config = NULL;
	int use_syslog = 0, status = 0;

	if (cmd == NULL) {
		fputs(usage_main, stderr);
		return 2;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    (strcmp(cmd, "help") == 0 && argc == 2)) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (strcmp(argv[2], "run") == 0)
			fputs(usage_run, stdout);
		else if (strcmp(argv[2], "check") == 0)
			fputs(usage_check, stdout);
		else if (strcmp(argv[2], "rules") == 0)
			fputs(usage_rules, stdout);
		else if (strcmp(argv[2], "notify") == 0)
			fputs(usage_notify, stdout);
		else if (strcmp(argv[2], "outbox") == 0)
			fputs(usage_outbox, stdout);
		else if (strcmp(argv[2], "silence") == 0)
			fputs(usage_silence, stdout);
		else if (strcmp(argv[2], "ack") == 0)
			fputs(usage_ack, stdout);
		else if (strcmp(argv[2], "report") == 0)
			fputs(usage_report, stdout);
		else if (strcmp(argv[2], "version") == 0)
			fputs("usage: reeve version\n\nPrint the version of reeve.\n", stdout);
		else
			return bad_usage("unknown command", argv[2], "");
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		if (argc > 2 && strcmp(argv[2], "--help") == 0) {
			fputs("usage: reeve version\n\nPrint the version of reeve.\n", stdout);
			return 0;
		}
		if (argc > 2)
			return bad_usage("unexpected argument", argv[2], "version ");
		printf("reeve %s\n", VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0) {
		if (parse_opts(argc - 1, argv + 1, "run", usage_run, &config, &use_syslog, &status) == -1)
			return status;
		/* once, before any thread: probes and notifiers use libcurl */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		status = daemon_run(config, use_syslog);
		curl_global_cleanup();
		return status;
	}
	if (strcmp(cmd, "check") == 0) {
		if (parse_opts(argc - 1, argv + 1, "check", usage_check, &config, NULL, &status) == -1)
			return status;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		status = daemon_check(config);
		curl_global_cleanup();
		return status;
	}
	if (strcmp(cmd, "rules") == 0)
		return rules_cmd(argc - 1, argv + 1);
	if (strcmp(cmd, "silence") == 0 || strcmp(cmd, "ack") == 0)
		return silence_cmd(argc - 1, argv + 1, cmd[0] == 'a');
	if (strcmp(cmd, "notify") == 0 || strcmp(cmd, "outbox") == 0)
		return notify_cmd(argc - 1, argv + 1, cmd[0] == 'o');
	if (strcmp(cmd, "report") == 0)
		return report_cmd(argc - 1, argv + 1);
	if (cmd[0] == '-')
		return bad_usage("unknown option", cmd, "");
	return bad_usage("unknown command", cmd, "");
}
