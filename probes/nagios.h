/* nagios.h: parsing the output of a Nagios plugin (status text and performance data). */
#ifndef REEVE_PROBES_NAGIOS_H
#define REEVE_PROBES_NAGIOS_H

/*
 * Internal to the exec probe: nagios.c is compiled into probes/exec.la (and the tests).
 * Nothing here is part of the probe ABI.
 *
 * The format is the one of the Nagios plugin development guidelines (also followed by
 * the Monitoring Plugins project):
 *
 *   TEXT OUTPUT | OPTIONAL PERFDATA
 *   LONG TEXT LINE 1
 *   LONG TEXT LINE 2 | PERFDATA LINE 2
 *   PERFDATA LINE 3
 *
 * Perfdata is the text after the '|' of the first line, plus everything after the first
 * '|' found in the later lines (all lines after that one are perfdata as a whole). An item
 * is 'label'=value[UOM];[warn];[crit];[min];[max], items separated by white space.
 */

#include <stddef.h>

#define NAGIOS_LABEL_MAX 128	/* bytes of a perfdata label; longer ones are malformed */
#define NAGIOS_PERF_MAX 1000	/* perfdata items kept from one output; more are skipped */

/* The unit of a perfdata value, after conversion to a base unit. */
enum nagios_unit {
	NAGIOS_UNIT_NONE,	/* no UOM, or one the guidelines do not define: as printed */
	NAGIOS_UNIT_SECONDS,	/* s, ms, us */
	NAGIOS_UNIT_BYTES,	/* B, KB, MB, GB, TB (1024-based), KiB, MiB, GiB, TiB */
	NAGIOS_UNIT_RATIO,	/* %, divided by 100 */
	NAGIOS_UNIT_COUNTER	/* c: a continuous counter */
};

/* One perfdata item; value, warn and crit are converted to the base unit. */
struct nagios_perf {
	const char *label;	/* unquoted, '' undone; valid UTF-8 without control characters */
	enum nagios_unit unit;
	double value;
	double warn;		/* meaningful only when has_warn */
	double crit;		/* meaningful only when has_crit */
	int has_warn;		/* warn was a plain number (not a range such as 10:20 or @5) */
	int has_crit;
};

/* What nagios_parse() found. All strings point into storage owned by the struct. */
struct nagios_output {
	const char *status;	/* first line before '|', white space trimmed; "" when none */
	struct nagios_perf *perf;
	size_t nperf;
	size_t nbad;		/* malformed (or surplus) perfdata items skipped */
	char bad[256];		/* why the first of them was skipped, with its position */
	char *text;		/* private: a copy of the input the strings point into */
	size_t cap;		/* private: room in perf */
};

/* ---- nagios.c ---- */

/*
 * nagios_parse: parse len bytes of plugin output (NUL bytes included: they end nothing,
 * a NUL inside a label or value makes that item malformed). Fills *out, which the caller
 * releases with nagios_output_free(). Never fails: anything malformed in the perfdata is
 * skipped and counted in out->nbad, with the first reason in out->bad; a value of U
 * (undetermined) is skipped silently. A label seen twice keeps its first item.
 */
void nagios_parse(const char *text, size_t len, struct nagios_output *out);

/* nagios_output_free: release what nagios_parse() allocated; out may be zeroed or NULL. */
void nagios_output_free(struct nagios_output *out);

/*
 * nagios_status: the Nagios state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) of a plugin
 * that exited with code (0..255), or of one killed by a signal (signaled != 0): any code
 * other than 0..3, and any death by signal, is UNKNOWN.
 */
int nagios_status(int code, int signaled);

/* nagios_unit_name: "none", "seconds", "bytes", "ratio" or "counter". */
const char *nagios_unit_name(enum nagios_unit unit);

#endif /* REEVE_PROBES_NAGIOS_H */
