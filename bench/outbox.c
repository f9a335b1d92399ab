/* outbox.c: benchmark of the outbox (accept, delivery to a local receiver) against fsync'd files. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench.h"
#include "config.h"
#include "log.h"
#include "outbox.h"
#include "util.h"

/*
 * Usage: outbox -u URL -d DIR [-n MESSAGES] [-b BODY_BYTES]
 *
 * One webhook notifier `sink` posts to URL (bench/webhook_sink, started by bench/notify.sh).
 * Each message is a JSON body of BODY_BYTES (default 1024) bytes, distinct per message.
 * MESSAGES (N, default 2000) is rounded down to a multiple of BLOCKS. Everything happens in
 * one spool, DIR/spool, so that the outbox and the baseline create their files in the same
 * directory (tmp/) and so in the same part of the file system:
 *
 *   accept:     no worker running, N outbox_put calls as fast as they go: the accept
 *               rate, and each call's time (p50, p99).
 *   drain:      then outbox_start: the time until the queue is empty (outbox_get_stats
 *               says nothing queued), i.e. delivery alone from a full queue.
 *   flow:       with the worker running, N/BLOCKS puts as fast as they go, then the wait
 *               until the queue is empty, BLOCKS times: the outbox's throughput with
 *               accepting and delivering at once. The queue length when a block's last
 *               put returned shows whether delivery kept up.
 *   baseline:   files of the size of a spool file (header and body, as the warm-up
 *               message's file measured), each made in tmp/ with mkstemp, written,
 *               fsync'd, closed, renamed into files/ and that directory fsync'd, as
 *               outbox_put does (util_write_file_atomic); then each unlinked and files/
 *               fsync'd, as a delivered message is. N/BLOCKS files per block, in blocks
 *               alternating with those of flow, so both see the same disk and load.
 *
 * Before anything is timed, one message is put (it is delivered with the drain) and N files
 * are written and removed untimed. Without that the first measurement runs on a file system
 * that has not recently deleted files, which is not the state a spool works in: ext4
 * without a journal skips inodes freed in the last minute when it allocates one, so
 * creating files gets slower once files are being deleted (on the machine of
 * docs/performance.md the first round measured about twice every later one).
 *
 * Every run must end with every message sent and no dead letter, or the program fails.
 */

#define POLL_US 1000
#define BLOCKS 4

static int nmsg = 2000, body_bytes = 1024;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[0..n-1], sorted in place (nearest rank). */
static double
quantile(double *v, int n, double q)
{
	int k;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	k = (int)(q * n + 0.999999) - 1;
	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static struct cfg *
sink_cfg(const char *url)
{
	struct buf text = { 0 };
	struct cfg_errors errs = { 0 };
	struct cfg *cfg;

	buf_printf(&text, "[reeve]\ndata_dir = /nonexistent\nlog_level = warning\n"
	    "[outbox]\nretry_initial = 100ms\nretry_max = 1s\n"
	    "[notifier sink]\ntype = webhook\nurl = %s\ntimeout = 10s\n", url);
	if ((cfg = cfg_load_string(text.data, "bench", &errs)) == NULL)
		bench_die("config: %s", errs.n ? errs.msgs[0] : "?");
	buf_free(&text);
	return cfg;
}

/* Message i's body: JSON of exactly body_bytes bytes (padding in a string). */
static void
make_body(struct buf *b, int i)
{
	buf_reset(b);
	buf_printf(b, "{\"version\":\"1\",\"receiver\":\"sink\",\"status\":\"firing\","
	    "\"groupKey\":\"bench:%d\",\"pad\":\"", i);
	while (b->len + 2 < (size_t)body_bytes)
		buf_putc(b, 'x');
	buf_puts(b, "\"}");
}

/* Put messages first .. first+n-1 as fast as they go; each[k] gets the k-th call's time. */
static void
put_range(struct outbox *ob, int first, int n, double *each)
{
	struct buf body = { 0 };
	char key[32], subject[64], err[512];

	for (int i = first; i < first + n; i++) {
		double t;

		make_body(&body, i);
		snprintf(key, sizeof(key), "bench-%d", i);
		snprintf(subject, sizeof(subject), "[FIRING:1] bench %d", i);
		t = util_monotonic();
		if (outbox_put(ob, "sink", key, subject, body.data, body.len, NULL, err,
		    sizeof(err)) == -1)
			bench_die("outbox_put: %s", err);
		if (each != NULL)
			each[i - first] = util_monotonic() - t;
	}
	buf_free(&body);
}

/* Messages queued now. */
static size_t
queued(struct outbox *ob)
{
	struct outbox_stats st;
	size_t n;

	outbox_get_stats(ob, &st);
	n = st.receivers[0].queued + st.receivers[1].queued;
	outbox_stats_free(&st);
	return n;
}

/*
 * Wait until nothing is queued and `sent` messages were sent in all; fail on a dead
 * letter or after timeout seconds. *retries gets the receiver's retries so far.
 */
static void
wait_empty(struct outbox *ob, unsigned long sent, double timeout, unsigned long *retries)
{
	double until = util_monotonic() + timeout;
	struct outbox_stats st;

	for (;;) {
		size_t q;
		unsigned long s, dead;

		outbox_get_stats(ob, &st);
		q = st.receivers[0].queued + st.receivers[1].queued;
		s = st.receivers[0].sent;
		dead = st.receivers[0].dead + st.receivers[0].expired + st.dead_files;
		*retries = st.receivers[0].retries;
		outbox_stats_free(&st);
		if (dead > 0)
			bench_die("%lu dead letters (is the receiver running?)", dead);
		if (q == 0) {
			if (s != sent)
				bench_die("queue empty but %lu of %lu messages sent", s, sent);
			return;
		}
		if (util_monotonic() > until)
			bench_die("%zu messages still queued after %.0f s", q, timeout);
		usleep(POLL_US);
	}
}

/* The size of a file in dir, or -1. */
static long
first_file_size(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	long size = -1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0)
			size = (long)st.st_size;
		free(p);
		break;
	}
	closedir(d);
	return size;
}

static void
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1 || fsync(fd) == -1)
		bench_die("fsync %s: %s", dir, strerror(errno));
	close(fd);
}

/*
 * The baseline: files first .. first+n-1 of size bytes made in tmp and renamed into queue
 * durably, as outbox_put does, then removed durably as delivery does. Adds the seconds each
 * half took.
 */
static void
baseline(const char *tmp, const char *queue, int first, int n, long size, double *write_s,
    double *remove_s)
{
	char *data = xmalloc((size_t)size);
	double t;

	memset(data, 'x', (size_t)size);
	t = util_monotonic();
	for (int i = first; i < first + n; i++) {
		char *tp = xasprintf("%s/.f%07d.XXXXXX", tmp, i), *qp = xasprintf("%s/f%07d", queue, i);
		int fd = mkstemp(tp);

		data[0] = (char)('a' + i % 26);
		if (fd == -1 || util_write_all(fd, data, (size_t)size) == -1 || fsync(fd) == -1 ||
		    close(fd) == -1 || rename(tp, qp) == -1)
			bench_die("write %s: %s", qp, strerror(errno));
		fsync_dir(queue);
		free(tp);
		free(qp);
	}
	*write_s += util_monotonic() - t;
	t = util_monotonic();
	for (int i = first; i < first + n; i++) {
		char *qp = xasprintf("%s/f%07d", queue, i);

		if (unlink(qp) == -1)
			bench_die("unlink %s: %s", qp, strerror(errno));
		fsync_dir(queue);
		free(qp);
	}
	*remove_s += util_monotonic() - t;
	free(data);
}

static void
usage(void)
{
	fprintf(stderr, "usage: outbox -u URL -d DIR [-n MESSAGES] [-b BODY_BYTES]\n");
	exit(2);
}


int
main(int argc, char **argv)
{
	const char *url = NULL, *dir = NULL;
	struct cfg *cfg;
	struct outbox *ob;
	double *each, t, c, accept_s, accept_cpu, drain_s, flow_s = 0, flow_cpu = 0;
	double bw = 0, br = 0, p50, p99, base_w, base_cycle, flow;
	unsigned long retries_drain, retries_flow = 0;
	size_t backlog = 0;
	long fsize;
	char *spool, *tmp, *queue, *files, err[512];
	int ch, per;

	while ((ch = getopt(argc, argv, "u:d:n:b:")) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'd': dir = optarg; break;
		case 'n': nmsg = bench_arg_int(optarg, BLOCKS, 1000000, usage); break;
		case 'b': body_bytes = bench_arg_int(optarg, 64, 1 << 20, usage); break;
		default: usage();
		}
	}
	if (url == NULL || dir == NULL || optind != argc)
		usage();
	per = nmsg / BLOCKS;
	nmsg = per * BLOCKS;
	log_init(0, "outbox");
	log_set_level(LOG_LEVEL_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cfg = sink_cfg(url);
	each = xcalloc((size_t)nmsg, sizeof(*each));
	spool = xasprintf("%s/spool", dir);
	tmp = xasprintf("%s/tmp", spool);
	queue = xasprintf("%s/queue", spool);
	files = xasprintf("%s/files", spool);
	if ((ob = outbox_open(spool, cfg, err, sizeof(err))) == NULL)
		bench_die("outbox_open: %s", err);
	if (util_mkdir_p(files) == -1)
		bench_die("mkdir %s: %s", files, strerror(errno));

	/* warm-up: one message (its file's size measured), N files written and removed */
	put_range(ob, nmsg, 1, NULL);
	if ((fsize = first_file_size(queue)) <= 0)
		bench_die("no spool file in %s", queue);
	baseline(tmp, files, 0, nmsg, fsize, &t, &c);

	/* accept: no worker; then drain: delivery alone (the warm-up message too) */
	t = util_monotonic(), c = bench_cpu_self();
	put_range(ob, 0, nmsg, each);
	accept_s = util_monotonic() - t, accept_cpu = bench_cpu_self() - c;
	p99 = quantile(each, nmsg, 0.99);
	p50 = quantile(each, nmsg, 0.50);
	t = util_monotonic();
	outbox_start(ob);
	wait_empty(ob, (unsigned long)nmsg + 1, 600, &retries_drain);
	drain_s = util_monotonic() - t;

	/* flow and the baseline in alternating blocks, each first in every other block */
	for (int b = 0; b < BLOCKS; b++) {
		for (int k = 0; k < 2; k++) {
			if ((b + k) % 2 == 0) {
				baseline(tmp, files, nmsg + b * per, per, fsize, &bw, &br);
				continue;
			}
			t = util_monotonic(), c = bench_cpu_self();
			put_range(ob, nmsg + 1 + b * per, per, NULL);
			if (queued(ob) > backlog)
				backlog = queued(ob);
			wait_empty(ob, (unsigned long)(nmsg + 1 + (b + 1) * per), 600, &retries_flow);
			flow_s += util_monotonic() - t, flow_cpu += bench_cpu_self() - c;
		}
	}
	outbox_free(ob, 10);
	retries_flow -= retries_drain;

	flow = nmsg / flow_s;
	base_w = nmsg / bw;
	base_cycle = nmsg / (bw + br);
	printf("outbox N=%d messages of %d bytes (spool files of %ld bytes), one webhook receiver\n",
	    nmsg, body_bytes, fsize);
	printf("  baseline: write+fsync+rename+fsync dir %8.0f files/s\n", base_w);
	printf("  baseline: unlink+fsync dir             %8.0f files/s; both (a message's life on "
	    "disk) %.0f files/s\n", nmsg / br, base_cycle);
	printf("  accept (outbox_put, no worker):        %8.0f msgs/s  (p50 %.2f ms, p99 %.2f ms "
	    "per put; cpu %.0f us/msg)\n", nmsg / accept_s, p50 * 1e3, p99 * 1e3,
	    accept_cpu * 1e6 / nmsg);
	printf("  drain (delivery from a full queue):    %8.0f msgs/s  (%lu retries)\n",
	    (nmsg + 1) / drain_s, retries_drain);
	printf("  flow (put and deliver at once):        %8.0f msgs/s  (at most %zu queued when a "
	    "block's last put returned; %lu retries; cpu %.0f us/msg)\n", flow, backlog,
	    retries_flow, flow_cpu * 1e6 / nmsg);
	printf("outbox: %.0f msgs/s delivered, baseline %.0f durable files/s, ratio %.2f "
	    "(accept %.0f msgs/s, ratio %.2f; delivered against a file's life on disk %.2f)\n",
	    flow, base_w, flow / base_w, nmsg / accept_s, nmsg / accept_s / base_w,
	    flow / base_cycle);

	free(each);
	free(spool);
	free(tmp);
	free(queue);
	free(files);
	cfg_free(cfg);
	curl_global_cleanup();
	return 0;
}
