/* rrdcached.c: a client for rrdcached's text protocol that sends updates with BATCH. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "rrdcached.h"
#include "util.h"

#define RRDCACHED_PORT "42217"
#define RRDCACHED_IO_TIMEOUT 10 /* seconds a send or receive may block */
#define RRDCACHED_LINE_MAX 8192 /* longest reply line kept whole (a LIST line is a path) */

struct rrdcached {
	char *path;       /* unix socket, or NULL */
	char *host, *port;
	int fd;
	char rbuf[RRDCACHED_LINE_MAX + 1024]; /* received, not yet consumed */
	size_t rlen;
};

struct rrdcached *
rrdcached_new(const char *addr, char *err, size_t errlen)
{
	struct rrdcached *c;
	const char *colon;

	if (addr == NULL || *addr == '\0') {
		snprintf(err, errlen, "empty rrdcached address");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	if (strncmp(addr, "unix:", 5) == 0)
		c->path = xstrdup(addr + 5);
	else if (addr[0] == '/')
		c->path = xstrdup(addr);
	else if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':')) {
			snprintf(err, errlen, "bad rrdcached address '%s'", addr);
			free(c);
			return NULL;
		}
		c->host = xstrndup(addr + 1, (size_t)(end - addr - 1));
		c->port = xstrdup(end[1] == ':' ? end + 2 : RRDCACHED_PORT);
	} else if ((colon = strrchr(addr, ':')) != NULL) {
		c->host = xstrndup(addr, (size_t)(colon - addr));
		c->port = xstrdup(colon + 1);
	} else {
		c->host = xstrdup(addr);
		c->port = xstrdup(RRDCACHED_PORT);
	}
	if (c->path && strlen(c->path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "rrdcached socket path too long");
		rrdcached_free(c);
		return NULL;
	}
	return c;
}

static void
disconnect(struct rrdcached *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

void
rrdcached_free(struct rrdcached *c)
{
	if (c == NULL)
		return;
	disconnect(c);
	free(c->path);
	free(c->host);
	free(c->port);
	free(c);
}

int
rrdcached_is_remote(const struct rrdcached *c)
{
	return c->path == NULL;
}

static void
set_timeouts(int fd)
{
	struct timeval tv = { RRDCACHED_IO_TIMEOUT, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
do_connect(struct rrdcached *c, char *err, size_t errlen)
{
	if (c->fd >= 0)
		return 0;
	if (c->path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strlcpy_r(sa.sun_path, c->path, sizeof(sa.sun_path));
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
			snprintf(err, errlen, "rrdcached at unix:%s: %s", c->path, strerror(errno));
			disconnect(c);
			return -1;
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
		int rc = getaddrinfo(c->host, c->port, &hints, &res);

		if (rc != 0) {
			snprintf(err, errlen, "rrdcached at %s:%s: %s", c->host, c->port, gai_strerror(rc));
			return -1;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (c->fd >= 0 && connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			snprintf(err, errlen, "rrdcached at %s:%s: %s", c->host, c->port, strerror(errno));
			disconnect(c);
		}
		freeaddrinfo(res);
		if (c->fd < 0)
			return -1;
	}
	set_timeouts(c->fd);
	return 0;
}

static int
send_all(struct rrdcached *c, const char *p, size_t n, char *err, size_t errlen)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "rrdcached: send: %s", w < 0 ? strerror(errno) : "closed");
			disconnect(c);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one line (without the newline) into line; returns 0 or -1 with err set. */
static int
read_line(struct rrdcached *c, char *line, size_t size, char *err, size_t errlen)
{
	for (;;) {
		char *nl = memchr(c->rbuf, '\n', c->rlen);
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - c->rbuf);
			size_t copy = n < size - 1 ? n : size - 1;

			memcpy(line, c->rbuf, copy);
			line[copy] = '\0';
			memmove(c->rbuf, nl + 1, c->rlen - n - 1);
			c->rlen -= n + 1;
			return 0;
		}
		if (c->rlen == sizeof(c->rbuf))
			c->rlen = 0; /* an absurdly long line: drop what we have, keep reading */
		r = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "rrdcached: receive: %s",
			    r < 0 ? strerror(errno) : "connection closed");
			disconnect(c);
			return -1;
		}
		c->rlen += (size_t)r;
	}
}

/* Read a status line "N message"; returns N (which may be negative) or INT_MIN on I/O error. */
static int
read_status(struct rrdcached *c, char *msg, size_t msglen, char *err, size_t errlen)
{
	char line[1024], *end;
	long st;

	if (read_line(c, line, sizeof(line), err, errlen) == -1)
		return -1000000;
	st = strtol(line, &end, 10);
	if (end == line) {
		snprintf(err, errlen, "rrdcached: bad reply '%.100s'", line);
		disconnect(c);
		return -1000000;
	}
	while (*end == ' ')
		end++;
	strlcpy_r(msg, end, msglen);
	return (int)st;
}

int
rrdcached_query(struct rrdcached *c, const char *line,
    int (*on_line)(void *arg, const char *line), void *arg, char *err, size_t errlen)
{
	char msg[1024], extra[RRDCACHED_LINE_MAX];

	for (int attempt = 0; attempt < 2; attempt++) {
		int st, stop = 0;

		if (do_connect(c, err, errlen) == -1)
			return -1;
		if (send_all(c, line, strlen(line), err, errlen) == -1 ||
		    send_all(c, "\n", 1, err, errlen) == -1)
			continue;
		st = read_status(c, msg, sizeof(msg), err, errlen);
		if (st == -1000000)
			continue;
		if (st < 0) {
			snprintf(err, errlen, "rrdcached: %s", msg);
			/* an error's message may run over more lines (1.7's "No permission to
			 * recursively create" does), which would be read as the next reply */
			disconnect(c);
			return -1;
		}
		for (int i = 0; i < st; i++) {
			if (read_line(c, extra, sizeof(extra), err, errlen) == -1)
				return -1;
			/* every line is read even after a refusal, so the next reply starts clean */
			if (on_line && !stop && on_line(arg, extra) == -1)
				stop = 1;
		}
		if (stop) {
			snprintf(err, errlen, "rrdcached: unexpected reply to %.40s", line);
			return -1;
		}
		return st;
	}
	return -1;
}

int
rrdcached_command(struct rrdcached *c, const char *line, char *err, size_t errlen)
{
	return rrdcached_query(c, line, NULL, NULL, err, errlen);
}

int
rrdcached_batch(struct rrdcached *c, const char *cmds, size_t len, size_t ncmds,
    void (*on_error)(void *arg, size_t index, const char *msg), void *arg,
    char *err, size_t errlen)
{
	char msg[1024], line[1024];
	int st;

	if (ncmds == 0)
		return 0;
	/* Reconnect once if the daemon went away since the last batch; a failure after the
	 * batch was sent is not retried, because some commands may have been applied. */
	if (rrdcached_command(c, "BATCH", err, errlen) < 0)
		return -1;
	if (send_all(c, cmds, len, err, errlen) == -1 || send_all(c, ".\n", 2, err, errlen) == -1)
		return -1;
	st = read_status(c, msg, sizeof(msg), err, errlen);
	if (st == -1000000)
		return -1;
	/* "0 Success" or "N errors" followed by N lines "<command number> <message>" */
	for (int i = 0; i < st; i++) {
		char *end;
		long idx;

		if (read_line(c, line, sizeof(line), err, errlen) == -1)
			return -1;
		idx = strtol(line, &end, 10);
		while (*end == ' ')
			end++;
		if (on_error && idx >= 1 && (size_t)idx <= ncmds)
			on_error(arg, (size_t)idx - 1, end);
	}
	return 0;
}
