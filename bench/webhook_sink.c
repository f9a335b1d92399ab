/* webhook_sink.c: a minimal libmicrohttpd webhook receiver that logs each POST with its arrival time. */
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

/*
 * Usage: webhook_sink LOG PORT [THREADS]
 *
 * The local receiver of bench/notify.sh. It listens on 127.0.0.1:PORT (a thread pool of
 * THREADS, default 2), answers every request 200 "ok", and for each POST appends one line
 * to LOG once the whole body has arrived:
 *
 *     <arrival, Unix time with microseconds> TAB <body, with CR, LF and TAB as spaces> LF
 *
 * Each line is written and flushed under a lock, so `wc -l LOG` counts complete requests.
 * A body over 1 MiB is answered 413 and not logged. It runs until SIGTERM or SIGINT.
 */

#define MAX_BODY (1u << 20)

struct req {
	char *data;
	size_t len, cap;
	int too_big;
};

static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct MHD_Response *ok, *too_big;
static volatile sig_atomic_t stop;

static double
now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
append(struct req *r, const char *data, size_t n)
{
	if (r->too_big || r->len + n > MAX_BODY) {
		r->too_big = 1;
		return;
	}
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *p;

		while (cap < r->len + n)
			cap *= 2;
		if ((p = realloc(r->data, cap)) == NULL) {
			r->too_big = 1;
			return;
		}
		r->data = p;
		r->cap = cap;
	}
	memcpy(r->data + r->len, data, n);
	r->len += n;
}

static void
log_request(struct req *r, double t)
{
	for (size_t i = 0; i < r->len; i++)
		if (r->data[i] == '\n' || r->data[i] == '\r' || r->data[i] == '\t')
			r->data[i] = ' ';
	pthread_mutex_lock(&log_lock);
	fprintf(log_file, "%.6f\t", t);
	if (r->len > 0)
		fwrite(r->data, 1, r->len, log_file);
	fputc('\n', log_file);
	fflush(log_file);
	pthread_mutex_unlock(&log_lock);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct req *r = *con_cls;

	(void)cls, (void)url, (void)version;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		append(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return MHD_queue_response(c, MHD_HTTP_CONTENT_TOO_LARGE, too_big);
	if (strcmp(method, "POST") == 0)
		log_request(r, now_real());
	return MHD_queue_response(c, MHD_HTTP_OK, ok);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls, (void)c, (void)toe;
	if (r != NULL) {
		free(r->data);
		free(r);
		*con_cls = NULL;
	}
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
	unsigned threads = 2;
	char *end;
	long port;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: webhook_sink LOG PORT [THREADS]\n");
		return 2;
	}
	port = strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "webhook_sink: bad port %s\n", argv[2]);
		return 2;
	}
	if (argc == 4 && ((threads = (unsigned)strtoul(argv[3], &end, 10)) < 1 || *end != '\0')) {
		fprintf(stderr, "webhook_sink: bad thread count %s\n", argv[3]);
		return 2;
	}
	if ((log_file = fopen(argv[1], "a")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	ok = MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
	too_big = MHD_create_response_from_buffer(9, (void *)"too big\n", MHD_RESPMEM_PERSISTENT);
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "webhook_sink: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop)
		pause();
	MHD_stop_daemon(d);
	MHD_destroy_response(ok);
	MHD_destroy_response(too_big);
	fclose(log_file);
	return 0;
}
