/* http.c: benchmark of the http probe's round over many targets against sequential curl. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "bench.h"
#include "log.h"
#include "plugin.h"
#include "registry.h"
#include "util.h"

/*
 * Usage: http -p PROBEDIR -u URL_PREFIX -n TARGETS -b BYTES [-k ROUNDS] [-c CONNECTIONS]
 *
 * The probe runs through the daemon's real plugin layer: a generated config with one
 * [probe] section of type http and TARGETS urls URL_PREFIX0 .. URL_PREFIX<TARGETS-1> is read
 * by cfg_load, plugin_create_all loads the module and runs init(), and each round is one
 * plugin_collect (every target must report http_up 1 and BYTES bytes). The baseline is a
 * loop of sequential curl_easy_perform calls over the same urls with one reused easy
 * handle (keep-alive, the best case for a sequential client), checking status and size.
 * Rounds of both alternate in blocks. CPU is getrusage of the whole process (libcurl's
 * threads included); threads are counted in separate rounds by a sampler thread reading
 * /proc/self/task every 200 us (itself not counted), so its CPU stays out of the figures.
 */

#define BLOCK 10

static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	*(size_t *)arg += size * nmemb;
	return size * nmemb;
}

static void
baseline_round(CURL *h, char **urls, int n, size_t bytes)
{
	for (int i = 0; i < n; i++) {
		size_t got = 0;
		long status = 0;
		CURLcode rc;

		curl_easy_setopt(h, CURLOPT_URL, urls[i]);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
		if ((rc = curl_easy_perform(h)) != CURLE_OK)
			bench_die("curl %s: %s", urls[i], curl_easy_strerror(rc));
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200 || got != bytes)
			bench_die("curl %s: status %ld, %zu bytes (want 200, %zu)", urls[i], status,
			    got, bytes);
	}
}

static void
probe_round(struct probe_inst *p, struct reg_batch *b, int n, size_t bytes)
{
	size_t up = 0, sized = 0;
	char err[512];

	if (plugin_collect(p, b, err, sizeof(err)) != 0)
		bench_die("probe collect failed: %s", err);
	for (size_t i = 0; i < b->n; i++) {
		const char *name = b->arena.data + b->s[i].name;

		if (strcmp(name, "http_up") == 0 && b->s[i].value == 1)
			up++;
		if (strcmp(name, "http_response_size_bytes") == 0 && b->s[i].value == (double)bytes)
			sized++;
	}
	if (up != (size_t)n || sized != (size_t)n)
		bench_die("probe round: %zu of %d targets up, %zu with %zu bytes", up, n, sized,
		    bytes);
}

static int
count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		bench_die("/proc/self/task: %s", strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static volatile int sampling;
static int max_threads;

static void *
sampler(void *arg)
{
	(void)arg;
	do {
		int n = count_threads() - 1;

		if (n > max_threads)
			max_threads = n;
		nanosleep(&(struct timespec){ 0, 200000 }, NULL);
	} while (sampling);
	return NULL;
}

/* Most threads seen while running rounds of one kind (0: baseline, 1: probe). */
static int
threads_during(int kind, CURL *h, char **urls, int n, size_t bytes, struct probe_inst *p,
    struct reg_batch *b)
{
	pthread_t t;

	max_threads = 0;
	sampling = 1;
	if (pthread_create(&t, NULL, sampler, NULL) != 0)
		bench_die("pthread_create");
	for (int i = 0; i < BLOCK; i++)
		kind ? probe_round(p, b, n, bytes) : baseline_round(h, urls, n, bytes);
	sampling = 0;
	pthread_join(t, NULL);
	return max_threads;
}

int
main(int argc, char **argv)
{
	const char *probedir = NULL, *prefix = NULL;
	long rounds = 100, targets = 200, conns = 16, bytes = -1;
	struct cfg_errors errs = { 0 };
	struct probe_inst **inst = NULL;
	struct reg_batch b = { 0 };
	double bw = 0, bc = 0, pw = 0, pc = 0, w, c;
	size_t ninst = 0;
	struct cfg *cfg;
	char **urls;
	CURL *h;
	int ch, tb, tp;

	while ((ch = getopt(argc, argv, "p:u:n:b:k:c:")) != -1) {
		switch (ch) {
		case 'p': probedir = optarg; break;
		case 'u': prefix = optarg; break;
		case 'n': targets = strtol(optarg, NULL, 10); break;
		case 'b': bytes = strtol(optarg, NULL, 10); break;
		case 'k': rounds = strtol(optarg, NULL, 10); break;
		case 'c': conns = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (probedir == NULL || prefix == NULL || targets < 1 || targets > 10000 || bytes < 0 ||
	    rounds < BLOCK || conns < 1)
		goto usage;
	log_set_level(LOG_LEVEL_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	urls = xcalloc((size_t)targets, sizeof(*urls));
	for (long i = 0; i < targets; i++) {
		size_t len = strlen(prefix) + 24;

		urls[i] = xmalloc(len);
		snprintf(urls[i], len, "%s%ld", prefix, i);
	}

	/* the daemon's own path: a config file, cfg_load, plugin_create_all */
	{
		char path[] = "/tmp/reeve-bench-http-XXXXXX";
		int fd = mkstemp(path);
		FILE *f;

		if (fd == -1 || (f = fdopen(fd, "w")) == NULL)
			bench_die("mkstemp: %s", strerror(errno));
		fprintf(f, "[reeve]\ndata_dir = /nonexistent\nplugin_dir = %s\nlog_level = warning\n"
		    "interval = 1s\n\n[probe web]\ntype = http\nrequest_timeout = 900ms\n"
		    "max_connections = %ld\n", probedir, conns);
		for (long i = 0; i < targets; i++)
			fprintf(f, "url = %s\n", urls[i]);
		fclose(f);
		cfg = cfg_load(path, &errs);
		unlink(path);
		if (cfg == NULL || plugin_create_all(cfg, &errs, &inst, &ninst) == -1 || ninst != 1) {
			for (size_t i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			bench_die("the generated config was refused");
		}
	}
	if ((h = curl_easy_init()) == NULL)
		bench_die("curl_easy_init");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 900L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");

	/* warm up: connections open, caches and allocations settle */
	baseline_round(h, urls, (int)targets, (size_t)bytes);
	probe_round(inst[0], &b, (int)targets, (size_t)bytes);
	for (long done = 0; done < rounds; done += BLOCK) {
		w = util_monotonic(), c = bench_cpu_self();
		for (int i = 0; i < BLOCK; i++)
			baseline_round(h, urls, (int)targets, (size_t)bytes);
		bw += util_monotonic() - w, bc += bench_cpu_self() - c;
		w = util_monotonic(), c = bench_cpu_self();
		for (int i = 0; i < BLOCK; i++)
			probe_round(inst[0], &b, (int)targets, (size_t)bytes);
		pw += util_monotonic() - w, pc += bench_cpu_self() - c;
	}
	rounds = rounds / BLOCK * BLOCK;
	tb = threads_during(0, h, urls, (int)targets, (size_t)bytes, NULL, NULL);
	tp = threads_during(1, NULL, NULL, (int)targets, (size_t)bytes, inst[0], &b);

	printf("http K=%ld rounds of %ld targets (%ld bytes each, max_connections %ld)\n", rounds,
	    targets, bytes, conns);
	printf("  sequential curl easy loop: %8.2f ms/round cpu, %8.2f ms/round wall, %d threads\n",
	    bc * 1e3 / rounds, bw * 1e3 / rounds, tb);
	printf("  http probe (multi):        %8.2f ms/round cpu, %8.2f ms/round wall, %d threads\n",
	    pc * 1e3 / rounds, pw * 1e3 / rounds, tp);
	printf("http: sequential %.2f ms/round, probe %.2f ms/round (cpu), ratio %.2f; wall ratio "
	    "%.2f; threads %d vs %d; at a 1 s interval the probe uses %.1f%% of one core\n",
	    bc * 1e3 / rounds, pc * 1e3 / rounds, pc / bc, pw / bw, tp, tb, pc / rounds * 100);

	curl_easy_cleanup(h);
	plugin_inst_free(inst[0]);
	free(inst);
	reg_batch_free(&b);
	cfg_free(cfg);
	for (long i = 0; i < targets; i++)
		free(urls[i]);
	free(urls);
	curl_global_cleanup();
	return 0;
usage:
	fprintf(stderr, "usage: http -p PROBEDIR -u URL_PREFIX -n TARGETS -b BYTES [-k ROUNDS >= %d] "
	    "[-c CONNECTIONS]\n", BLOCK);
	return 2;
}
