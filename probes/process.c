/* process.c: the process probe: processes by state, and named groups of processes. */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <reeve-probe.h>

#include "proc.h"

#define PROC_STAT_MAX 4096	/* /proc/PID/stat is about 300 bytes, at most ~1100 */
#define PROC_CMDLINE_MAX 4096	/* groups match the first 4 KiB of a command line */
#define PROC_COMM_MAX 128

enum {
	ST_RUNNING, ST_SLEEPING, ST_DISK_SLEEP, ST_ZOMBIE, ST_STOPPED, ST_IDLE, ST_OTHER,
	ST_NSTATES
};

static const char *const state_names[ST_NSTATES] = {
	"running", "sleeping", "disk_sleep", "zombie", "stopped", "idle", "other"
};

/* What the process probe reads from one /proc/PID/stat. */
REEVE_STATIC int parse_pid_stat(const char *buf, size_t len, char *comm, size_t commlen,
    char *state, uint64_t *ticks, uint64_t *threads, uint64_t *rss);
REEVE_STATIC int state_index(char state);
REEVE_STATIC size_t cmdline_join(char *buf, size_t len);

static const struct reeve_metric m_processes = {
	"processes", "Processes in each state.", REEVE_GAUGE
};
static const struct reeve_metric m_threads = {
	"processes_threads", "Threads of all processes.", REEVE_GAUGE
};
static const struct reeve_metric m_group_count = {
	"process_group_processes", "Processes matching the group.", REEVE_GAUGE
};
static const struct reeve_metric m_group_cpu = {
	"process_group_cpu_seconds_total",
	"User and system cpu time of the processes now in the group (drops when one exits).",
	REEVE_COUNTER
};
static const struct reeve_metric m_group_rss = {
	"process_group_resident_bytes", "Resident memory of the processes in the group.",
	REEVE_GAUGE
};
static const struct reeve_metric m_group_fds = {
	"process_group_open_fds", "Open file descriptors of the processes in the group.",
	REEVE_GAUGE
};

struct group {
	char *name;
	regex_t re;
	uint64_t count;		/* the sums of one collect */
	uint64_t ticks;
	uint64_t rss_pages;
	uint64_t fds;
};

struct process_state {
	const struct reeve_host *host;
	char procdir[PATH_MAX];
	DIR *dir;		/* <root>/proc, rewound each collect */
	int match_cmdline;	/* match groups against the command line, not comm */
	struct group *groups;
	size_t ngroups;
	double tck;
	double pagesize;
};

/* The processes{state} index of a /proc/PID/stat state letter. */
REEVE_STATIC int
state_index(char state)
{
	switch (state) {
	case 'R':
		return ST_RUNNING;
	case 'S':
		return ST_SLEEPING;
	case 'D':
		return ST_DISK_SLEEP;
	case 'Z':
		return ST_ZOMBIE;
	case 'T':
	case 't':
		return ST_STOPPED;
	case 'I':
		return ST_IDLE;
	default:
		return ST_OTHER;
	}
}

/*
 * Parse one /proc/PID/stat line. comm is what lies between the first '(' and the last ')'
 * (a name may itself hold spaces and parentheses), truncated to commlen - 1 bytes.
 * *ticks is utime + stime, *rss in pages (a negative rss counts as 0). Returns 0, or -1
 * when the line is incomplete or malformed.
 */
REEVE_STATIC int
parse_pid_stat(const char *buf, size_t len, char *comm, size_t commlen, char *state,
    uint64_t *ticks, uint64_t *threads, uint64_t *rss)
{
	const char *p = buf, *eol, *open, *close, *f;
	uint64_t v[22];
	size_t flen, i, n;

	/* a name may hold a newline too: the line ends at the first newline after the last ')' */
	if (commlen == 0 || len == 0 || (open = memchr(buf, '(', len)) == NULL ||
	    (close = memrchr(open, ')', len - (size_t)(open - buf))) == NULL)
		return -1;
	p = close + 1;
	if (proc_next_line(&p, buf + len, &eol) == NULL)
		return -1;
	p = close + 1;
	if ((f = proc_next_field(&p, eol, &flen)) == NULL || flen != 1)
		return -1;
	*state = f[0];
	/* after the state: ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt utime(11) stime(12) cutime cstime priority nice num_threads(17)
	 * itrealvalue starttime vsize rss(21) */
	for (i = 1; i < 22; i++) {
		if ((f = proc_next_field(&p, eol, &flen)) == NULL)
			return -1;
		if (i == 21 && flen > 1 && f[0] == '-') {
			if (proc_parse_u64(f + 1, flen - 1, &v[i]) == -1)
				return -1;
			v[i] = 0;
		} else if (proc_parse_u64(f, flen, &v[i]) == -1 && (i == 11 || i == 12 ||
		    i == 17 || i == 21))
			return -1;
	}
	if (v[11] > UINT64_MAX - v[12])
		return -1;
	n = (size_t)(close - open - 1);
	if (n >= commlen)
		n = commlen - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	*ticks = v[11] + v[12];
	*threads = v[17];
	*rss = v[21];
	return 0;
}

/*
 * Turn the NUL-separated arguments of /proc/PID/cmdline into one line: NULs become spaces,
 * trailing ones are dropped. Returns the new length; buf is not NUL-terminated by this.
 */
REEVE_STATIC size_t
cmdline_join(char *buf, size_t len)
{
	size_t i;

	while (len > 0 && (buf[len - 1] == '\0' || buf[len - 1] == ' '))
		len--;
	for (i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	return len;
}

/* Read at most size - 1 bytes of PID/name below the /proc dir fd; -1 when it vanished. */
static ssize_t
read_pid_file(int dfd, const char *pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", pid, name) >= (int)sizeof(path))
		return -1;
	if ((fd = openat(dfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = read(fd, buf, size - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Open descriptors of a process; 0 when /proc/PID/fd cannot be read (EACCES, gone). */
static uint64_t
count_fds(int dfd, const char *pid)
{
	char path[64];
	struct dirent *de;
	uint64_t n = 0;
	DIR *d;
	int fd;

	if (snprintf(path, sizeof(path), "%s/fd", pid) >= (int)sizeof(path))
		return 0;
	if ((fd = openat(dfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void
account_groups(struct process_state *st, int dfd, const char *pid, const char *comm,
    uint64_t ticks, uint64_t rss)
{
	char cmdline[PROC_CMDLINE_MAX];
	const char *subject = comm;
	uint64_t fds = 0;
	int counted_fds = 0;
	ssize_t n;
	size_t i;

	if (st->match_cmdline) {
		n = read_pid_file(dfd, pid, "cmdline", cmdline, sizeof(cmdline));
		if (n > 0) {
			n = (ssize_t)cmdline_join(cmdline, (size_t)n);
			cmdline[n] = '\0';
			if (n > 0)
				subject = cmdline;	/* kernel threads have none: use comm */
		}
	}
	for (i = 0; i < st->ngroups; i++) {
		struct group *g = &st->groups[i];

		if (regexec(&g->re, subject, 0, NULL, 0) != 0)
			continue;
		if (!counted_fds) {
			fds = count_fds(dfd, pid);
			counted_fds = 1;
		}
		g->count++;
		g->ticks += ticks;
		g->rss_pages += rss;
		g->fds += fds;
	}
}

static int
process_collect(void *state, struct reeve_emitter *em, char *err, size_t errlen)
{
	struct process_state *st = state;
	char buf[PROC_STAT_MAX], comm[PROC_COMM_MAX], pstate;
	uint64_t counts[ST_NSTATES] = { 0 }, nthreads = 0, ticks, threads, rss;
	struct reeve_label label;
	struct dirent *de;
	ssize_t n;
	size_t i;
	int dfd = dirfd(st->dir);

	for (i = 0; i < st->ngroups; i++)
		st->groups[i].count = st->groups[i].ticks = st->groups[i].rss_pages =
		    st->groups[i].fds = 0;
	rewinddir(st->dir);
	for (;;) {
		errno = 0;
		if ((de = readdir(st->dir)) == NULL)
			break;
		if (!all_digits(de->d_name))
			continue;
		/* a process may exit at any point from here on: then it is just skipped */
		if ((n = read_pid_file(dfd, de->d_name, "stat", buf, sizeof(buf))) <= 0)
			continue;
		if (parse_pid_stat(buf, (size_t)n, comm, sizeof(comm), &pstate, &ticks,
		    &threads, &rss) == -1)
			continue;
		counts[state_index(pstate)]++;
		nthreads += threads;
		if (st->ngroups > 0)
			account_groups(st, dfd, de->d_name, comm, ticks, rss);
	}
	if (errno != 0) {
		snprintf(err, errlen, "readdir %s: %s", st->procdir, strerror(errno));
		return -1;
	}
	label.name = "state";
	for (i = 0; i < ST_NSTATES; i++) {
		label.value = state_names[i];
		st->host->emit(em, &m_processes, &label, 1, (double)counts[i]);
	}
	st->host->emit(em, &m_threads, NULL, 0, (double)nthreads);
	label.name = "group";
	for (i = 0; i < st->ngroups; i++) {
		struct group *g = &st->groups[i];

		label.value = g->name;
		st->host->emit(em, &m_group_count, &label, 1, (double)g->count);
		st->host->emit(em, &m_group_cpu, &label, 1, (double)g->ticks / st->tck);
		st->host->emit(em, &m_group_rss, &label, 1, (double)g->rss_pages * st->pagesize);
		st->host->emit(em, &m_group_fds, &label, 1, (double)g->fds);
	}
	return 0;
}

static void
process_destroy(void *state)
{
	struct process_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->ngroups; i++) {
		free(st->groups[i].name);
		regfree(&st->groups[i].re);
	}
	free(st->groups);
	if (st->dir != NULL)
		closedir(st->dir);
	free(st);
}

/* Add the group of a "NAME REGEX" option value. Returns 0, or -1 after a config error. */
static int
add_group(struct process_state *st, struct reeve_probe_config *cfg, const char *value)
{
	const struct reeve_host *host = st->host;
	const char *sp, *re;
	struct group *g;
	char msg[256];
	size_t i, nlen;
	int rc;

	for (sp = value; *sp != '\0' && !isspace((unsigned char)*sp); sp++)
		;
	for (re = sp; isspace((unsigned char)*re); re++)
		;
	nlen = (size_t)(sp - value);
	if (nlen == 0 || *re == '\0') {
		host->config_error(cfg, "group", "expected 'NAME REGEX', got '%s'", value);
		return -1;
	}
	for (i = 0; i < st->ngroups; i++)
		if (strlen(st->groups[i].name) == nlen &&
		    memcmp(st->groups[i].name, value, nlen) == 0) {
			host->config_error(cfg, "group", "group '%.*s' defined twice", (int)nlen,
			    value);
			return -1;
		}
	g = &st->groups[st->ngroups];
	if ((g->name = strndup(value, nlen)) == NULL) {
		host->config_error(cfg, "group", "out of memory");
		return -1;
	}
	if ((rc = regcomp(&g->re, re, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &g->re, msg, sizeof(msg));
		host->config_error(cfg, "group", "invalid regular expression '%s' of group '%s': %s",
		    re, g->name, msg);
		free(g->name);
		return -1;
	}
	st->ngroups++;
	return 0;
}

static int
process_init(struct reeve_probe_config *cfg, const struct reeve_host *host, void **state)
{
	struct process_state *st;
	const char *root = proc_opt_root(cfg, host), *v, *match = NULL;
	size_t i, n;
	long tck, pagesize;
	int rc = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		host->config_error(cfg, NULL, "out of memory");
		return -1;
	}
	st->host = host;
	tck = sysconf(_SC_CLK_TCK);
	st->tck = tck > 0 ? (double)tck : 100.0;
	pagesize = sysconf(_SC_PAGESIZE);
	st->pagesize = pagesize > 0 ? (double)pagesize : 4096.0;
	for (i = 0; (v = host->opt_get(cfg, "match", i)) != NULL; i++)
		match = v;
	if (match != NULL && strcmp(match, "cmdline") == 0)
		st->match_cmdline = 1;
	else if (match != NULL && strcmp(match, "comm") != 0) {
		host->config_error(cfg, "match", "expected comm or cmdline, got '%s'", match);
		rc = -1;
	}
	for (n = 0; host->opt_get(cfg, "group", n) != NULL; n++)
		;
	if (n > 0 && (st->groups = calloc(n, sizeof(*st->groups))) == NULL) {
		host->config_error(cfg, "group", "out of memory");
		rc = -1;
		n = 0;
	}
	for (i = 0; i < n; i++)
		if (add_group(st, cfg, host->opt_get(cfg, "group", i)) == -1)
			rc = -1;
	if (proc_join_path(st->procdir, sizeof(st->procdir), root, "/proc") == -1 ||
	    (st->dir = opendir(st->procdir)) == NULL) {
		host->config_error(cfg, "root", "cannot open %s: %s", st->procdir, strerror(errno));
		rc = -1;
	}
	if (rc == -1) {
		process_destroy(st);
		return -1;
	}
	*state = st;
	return 0;
}

static const struct reeve_probe probe = {
	.abi_version = REEVE_PROBE_ABI_VERSION,
	.size = sizeof(struct reeve_probe),
	.name = "process",
	.description = "processes by state and named process groups (/proc/PID)",
	.init = process_init,
	.collect = process_collect,
	.destroy = process_destroy,
};

/* reeve_probe_entry: the process probe's description; static storage, never freed. */
const struct reeve_probe *
reeve_probe_entry(void)
{
	return &probe;
}
