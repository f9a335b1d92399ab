/* graph_fixture.c: an RRD file holding a day of a wave, for the unit tests that draw graphs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <rrd.h>

#include "graph_fixture.h"
#include "util.h"

#define STEP 60
#define POINTS 1440

/*
 * In the sanitizer build, LeakSanitizer reads tests/lsan.supp (librrd's and fontconfig's
 * own leaks, which every program that draws graphs has), as the integration tests pass it
 * in LSAN_OPTIONS; the slow unwinder lets it see the library frames. LSAN_OPTIONS set by
 * the caller still wins. Unused in other builds.
 */
const char *__lsan_default_options(void);

const char *
__lsan_default_options(void)
{
	return "fast_unwind_on_malloc=0:suppressions=" REEVE_LSAN_SUPP;
}

void
graph_fixture_make(struct graph_fixture *f)
{
	const char *tmp = getenv("TMPDIR");
	const char *ds[] = { "DS:value:GAUGE:120:U:U", "RRA:AVERAGE:0.5:1:1500" };
	char **updates = xcalloc(POINTS, sizeof(char *));
	time_t end = time(NULL) / STEP * STEP, start = end - (time_t)STEP * POINTS;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/reeve-graph.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/latency.rrd", f->dir);
	rrd_clear_error();
	if (rrd_create_r(f->path, STEP, start - 1, 2, ds) != 0)
		fail_msg("rrd_create_r: %s", rrd_get_error());
	/* a daily wave between 20 and 120 ms */
	for (int i = 0; i < POINTS; i++)
		updates[i] = xasprintf("%lld:%.3f", (long long)(start + (time_t)STEP * (i + 1)),
		    70 + 50 * sin(2 * M_PI * i / POINTS));
	if (rrd_update_r(f->path, NULL, POINTS, (const char **)updates) != 0)
		fail_msg("rrd_update_r: %s", rrd_get_error());
	for (int i = 0; i < POINTS; i++)
		free(updates[i]);
	free(updates);
	f->start = (double)start;
	f->end = (double)end;
	f->line = (struct graph_line){ f->path, NULL, NULL, GRAPH_FIXTURE_LEGEND, NULL, NULL };
	f->spec = (struct graph_spec){ .start = f->start, .end = f->end, .title = GRAPH_FIXTURE_TITLE,
	    .vertical_label = "ms", .lines = &f->line, .nlines = 1 };
}

void
graph_fixture_remove(struct graph_fixture *f)
{
	unlink(f->path);
	rmdir(f->dir);
}
