/* mhd_static.c: a minimal libmicrohttpd server answering GET /metrics with a file's bytes. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

/*
 * Usage: mhd_static FILE PORT [THREADS]
 *
 * The upper limit for reeve's /metrics on this machine: the same library, the same daemon
 * flags and options as src/http.c (MHD_USE_AUTO_INTERNAL_THREAD, a thread pool of THREADS,
 * default 2 as in etc/reeve.conf, connection limits and a 30 s timeout, 64 KiB per
 * connection), the answer queued on the second handler call as reeve does (keep-alive), and
 * one prepared response shared by every request. It listens on 127.0.0.1:PORT until SIGTERM.
 */

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static struct MHD_Response *metrics;
static int marker;
static volatile sig_atomic_t stop;

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)cls, (void)version, (void)upload_data;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0)
		return MHD_queue_response(c, MHD_HTTP_OK, metrics);
	r = MHD_create_response_from_buffer(10, (void *)"not found\n", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
	MHD_destroy_response(r);
	return ret;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct MHD_Daemon *d;
	char *body;
	long len, port;
	unsigned threads = 2;
	FILE *f;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mhd_static FILE PORT [THREADS]\n");
		return 2;
	}
	port = strtol(argv[2], NULL, 10);
	if (argc == 4)
		threads = (unsigned)strtoul(argv[3], NULL, 10);
	if ((f = fopen(argv[1], "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(argv[1]);
		return 1;
	}
	if ((body = malloc((size_t)len + 1)) == NULL || fread(body, 1, (size_t)len, f) != (size_t)len) {
		perror(argv[1]);
		return 1;
	}
	fclose(f);
	metrics = MHD_create_response_from_buffer((size_t)len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(metrics, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);

	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)32,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "mhd_static: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop)
		pause();
	MHD_stop_daemon(d);
	MHD_destroy_response(metrics);
	return 0;
}
