/* main.c: the reeve command line: run, check, version, help. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "daemon.h"
#include "log.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

static const char usage_main[] =
    "usage: reeve <command> [options]\n"
    "\n"
    "commands:\n"
    "  run      run the daemon in the foreground\n"
    "  check    check a configuration file and exit\n"
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
	if (cmd[0] == '-')
		return bad_usage("unknown option", cmd, "");
	return bad_usage("unknown command", cmd, "");
}
