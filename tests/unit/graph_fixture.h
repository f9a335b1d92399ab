/* graph_fixture.h: an RRD file holding a day of a wave, for the unit tests that draw graphs. */
#ifndef GRAPH_FIXTURE_H
#define GRAPH_FIXTURE_H

#include "graph.h"

struct graph_fixture {
	char dir[64];          /* a new temporary directory */
	char path[128];        /* dir/latency.rrd: DS "value", one step a minute */
	double start, end;     /* the day it holds */
	struct graph_line line;
	struct graph_spec spec; /* the day of it, titled GRAPH_FIXTURE_TITLE */
};

/* Non-ASCII on purpose: rrd_graph draws it with pango, a PDF keeps it as text. */
#define GRAPH_FIXTURE_TITLE "Größe in München"
#define GRAPH_FIXTURE_LEGEND "Antwortzeit"

/* Creates the directory and the file with rrd_create_r and rrd_update_r; fails the test
 * (cmocka) when librrd does. */
void graph_fixture_make(struct graph_fixture *f);
/* Removes the file and the directory. */
void graph_fixture_remove(struct graph_fixture *f);

#endif /* GRAPH_FIXTURE_H */
