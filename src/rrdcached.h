/* rrdcached.h: a client for rrdcached's text protocol that sends updates with BATCH. */
#ifndef REEVE_RRDCACHED_H
#define REEVE_RRDCACHED_H

#include <stddef.h>

struct rrdcached;

/*
 * Prepare a client for addr: "unix:/path", "/path", "host" or "host:port" (port 42217 by
 * default). Nothing is connected yet. Returns NULL with a message in err for a bad address.
 */
struct rrdcached *rrdcached_new(const char *addr, char *err, size_t errlen);
void rrdcached_free(struct rrdcached *c);

/* 1 when addr is a TCP address: the daemon then wants paths relative to its base dir. */
int rrdcached_is_remote(const struct rrdcached *c);

/*
 * Send one command line (without the newline) and read its status. Returns the status
 * (>= 0) with any extra lines discarded, or -1 with the daemon's or the socket's message in
 * err. Reconnects once if the connection was lost.
 */
int rrdcached_command(struct rrdcached *c, const char *line, char *err, size_t errlen);

/*
 * Send one command line and hand each line of its reply after the status to on_line (a
 * NUL-terminated line without its newline, borrowed for the call). on_line returns 0, or -1
 * when the line makes no sense: the rest of the reply is then read and dropped and -1
 * returned with a message in err. Returns the status otherwise, as rrdcached_command.
 */
int rrdcached_query(struct rrdcached *c, const char *line,
    int (*on_line)(void *arg, const char *line), void *arg, char *err, size_t errlen);

/*
 * Send ncmds newline-terminated command lines in cmds with BATCH. on_error is called for
 * each command the daemon rejected, with its 0-based index and message. Returns 0 when the
 * batch was processed (some commands may have failed), or -1 with a message in err when
 * the connection failed (then no command is known to have been applied).
 */
int rrdcached_batch(struct rrdcached *c, const char *cmds, size_t len, size_t ncmds,
    void (*on_error)(void *arg, size_t index, const char *msg), void *arg,
    char *err, size_t errlen);

#endif /* REEVE_RRDCACHED_H */
