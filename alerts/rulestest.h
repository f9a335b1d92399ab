/* rulestest.h: `reeve rules test`: test files of input series and expected alerts, and their run. */
#ifndef REEVE_RULESTEST_H
#define REEVE_RULESTEST_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* One value of the expanding notation: a number, a missing point (_) or a stale marker. */
enum rulestest_kind { RULESTEST_VALUE, RULESTEST_MISSING, RULESTEST_STALE };

struct rulestest_point {
	enum rulestest_kind kind;
	double v;
};

#define RULESTEST_MAX_POINTS 1000000 /* values one series line may expand to */
#define RULESTEST_MAX_STEPS  1000000 /* evaluation steps of one test file */
#define RULESTEST_MAX_SIZE   (16 << 20) /* bytes of a test file */

/*
 * Expand Prometheus's notation for series values: space-separated items "V", "VxN" (N+1
 * times V), "V+DxN" / "V-DxN" (V, V+D, ... N+1 values), "_", "_xN" (N missing points) and
 * "stale". V may be a decimal number, "NaN", "Inf", "+Inf" or "-Inf". Returns 0 with *out
 * (malloc'd, the caller frees it; NULL when *n is 0), or -1 with a message in err. At most
 * RULESTEST_MAX_POINTS values.
 */
int rulestest_expand(const char *text, struct rulestest_point **out, size_t *n, char *err,
    size_t errlen);

/* A parsed test file (docs/alerts.md, "Testing rules"). */
struct rulestest;

/*
 * Parse a test file held in memory (text of len bytes, need not be NUL-terminated); file
 * names it in messages and is the base of a relative rules path. Returns a new test the
 * caller frees with rulestest_free, or NULL after adding every error to errs as
 * "file:line: message".
 */
struct rulestest *rulestest_parse(const char *text, size_t len, const char *file,
    struct cfg_errors *errs);
void rulestest_free(struct rulestest *t);

/* The number of expectations (tests) of a parsed file. */
size_t rulestest_count(const struct rulestest *t);

/*
 * Load the rules the test names and run them: every rule evaluated with the real state
 * machine on a controlled clock at 0, interval, 2 x interval, ... up to the last
 * expectation time (and at each expectation time), over the input series held in memory;
 * [record] rules first at each step, their results added to the series. Each failing
 * expectation is printed to out as "file:line: ..."; *passed and *failed are increased.
 * Returns 0, or -1 with errors in errs when the rules cannot be loaded or an expectation
 * names a rule they do not have (nothing is then counted).
 */
int rulestest_run(struct rulestest *t, FILE *out, unsigned *passed, unsigned *failed,
    struct cfg_errors *errs);

struct expr;
struct expr_source;
struct rule_set;


#endif /* REEVE_RULESTEST_H */
