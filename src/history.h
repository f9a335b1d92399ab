/* history.h: the series of the expression language: the registry's window, then the RRD files. */
#ifndef REEVE_HISTORY_H
#define REEVE_HISTORY_H

struct expr_source;
struct history;
struct registry;
struct store;

/*
 * A history over a registry keeping window seconds in memory and the store's RRD files
 * (store may be NULL: memory only). Neither is owned. Thread-safe.
 */
struct history *history_new(struct registry *r, struct store *s, double window);
void history_free(struct history *h);

/*
 * Fill src to read through h: ranges within the registry's window come from memory; a
 * range reaching further back is read from the RRD files (at their resolution), counters
 * turned from stored rates back into a running total that meets the raw values in memory;
 * series only the files still hold (gone from memory) are read then too.
 * holt_winters_anomaly reads the FAILURES RRA of files that have one.
 */
void history_source(struct history *h, struct expr_source *src);

/* Replace the wall clock that decides what memory covers (tests); NULL restores it. */
void history_set_clock(struct history *h, double (*now)(void));

#endif /* REEVE_HISTORY_H */
