/* backtest.h: replays an alert rule over the stored RRD history and reports its transitions. */
#ifndef REEVE_BACKTEST_H
#define REEVE_BACKTEST_H

#include <stdio.h>

#include "config.h"

/*
 * Evaluate [alert name] of cfg every step seconds (0: its eval_interval, at least 60 s)
 * from now - since to now over the RRD files under cfg's data_dir, with the real state
 * machine, and print each transition (RFC 3339 time, instance labels, from -> to, value)
 * and per instance how often and how long it fired. Writes nothing: no state file, no
 * history log. Returns 0, or -1 with a message in err (an unknown rule, no stored history).
 */
int backtest_run(const struct cfg *cfg, const char *name, double since, double step, FILE *out,
    char *err, size_t errlen);

#endif /* REEVE_BACKTEST_H */
