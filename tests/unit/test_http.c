/* test_http.c: unit tests of the http probe: option parsing, labels, and collect() against
 * a small HTTP server on 127.0.0.1 run by the test in a thread. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "probe_test_host.h"

struct status_range {
	int lo, hi;
};

/* From probes/http.c, visible with REEVE_TESTING. */
int parse_expect_status(const char *s, struct status_range *r, size_t max, size_t *n,
    char *err, size_t errlen);
int status_expected(const struct status_range *r, size_t n, long status);
void http_phases(double namelookup, double connect, double appconnect, double starttransfer,
    double total, double out[5]);
int parse_cert_date(const char *s, double *out);
const struct reeve_probe *reeve_probe_entry(void);

static void
test_expect_status(void **unused)
{
	struct status_range r[4];
	char err[256];
	size_t n;

	assert_int_equal(parse_expect_status("200", r, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_true(status_expected(r, n, 200));
	assert_false(status_expected(r, n, 201));
	assert_int_equal(parse_expect_status(" 200-299 , 301,404 ", r, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_true(status_expected(r, n, 250));
	assert_true(status_expected(r, n, 301));
	assert_true(status_expected(r, n, 404));
	assert_false(status_expected(r, n, 302));
	assert_false(status_expected(r, n, 0));
	assert_int_equal(parse_expect_status("200 - 204", r, 4, &n, err, sizeof(err)), 0);
	assert_true(status_expected(r, n, 204));

	assert_int_equal(parse_expect_status("", r, 4, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "expected a status code 100-599 or a range like 200-299 at ''");
	assert_int_equal(parse_expect_status("200,", r, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(parse_expect_status("2000", r, 4, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "expected a status code 100-599 or a range like 200-299 at '2000'");
	assert_int_equal(parse_expect_status("099", r, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(parse_expect_status("600", r, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(parse_expect_status("2xx", r, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(parse_expect_status("200 201", r, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(parse_expect_status("299-200", r, 4, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "range 299-200 is empty");
	assert_int_equal(parse_expect_status("200-", r, 4, &n, err, sizeof(err)), -1);
	assert_int_equal(parse_expect_status("200,201,202,203,204", r, 4, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "more than 4 items");
}

static void
test_phases(void **unused)
{
	double ph[5];

	/* https, new connection */
	http_phases(0.001, 0.003, 0.010, 0.015, 0.020, ph);
	assert_float_equal(ph[0], 0.001, 1e-9);
	assert_float_equal(ph[1], 0.002, 1e-9);
	assert_float_equal(ph[2], 0.007, 1e-9);
	assert_float_equal(ph[3], 0.005, 1e-9);
	assert_float_equal(ph[4], 0.005, 1e-9);
	/* plain http: no tls phase, processing starts at the connect */
	http_phases(0.001, 0.003, 0, 0.015, 0.020, ph);
	assert_float_equal(ph[2], 0, 1e-9);
	assert_float_equal(ph[3], 0.012, 1e-9);
	/* never negative */
	http_phases(0.002, 0.001, 0, 0, 0.001, ph);
	for (int i = 0; i < 5; i++)
		assert_true(ph[i] >= 0);
}

static void
test_cert_date(void **unused)
{
	double t;

	assert_int_equal(parse_cert_date("Nov 14 22:13:20 2023 GMT", &t), 0);
	assert_true(t == 1700000000.0);
	assert_int_equal(parse_cert_date("Mar  1 00:00:00 2030 GMT", &t), 0);
	assert_true(t == 1898553600.0);
	assert_int_equal(parse_cert_date("2030-03-01", &t), -1);
	assert_int_equal(parse_cert_date("Mar  1 00:00:00 2030 PST", &t), -1);
	assert_int_equal(parse_cert_date("", &t), -1);
}

/* ---- init and collect ----------------------------------------------------------------- */

/* init with kv; returns the state or NULL, leaving the first error in cfg->error. */
static void *
init(struct reeve_probe_config *cfg, const char *const *kv)
{
	void *state = NULL;

	ptest_config(cfg, kv);
	if (reeve_probe_entry()->init(cfg, ptest_host(), &state) == -1) {
		assert_true(cfg->nerrors > 0);
		return NULL;
	}
	assert_int_equal(cfg->nerrors, 0);
	return state;
}

static void
init_fails(const char *const *kv, const char *want)
{
	struct reeve_probe_config cfg;

	assert_null(init(&cfg, kv));
	if (strcmp(cfg.error, want) != 0)
		fail_msg("got '%s', want '%s'", cfg.error, want);
	assert_null(strstr(cfg.error, "hunter2"));
}

static void
test_config_errors(void **unused)
{
	char missing[] = "/nonexistent/token";

#define U "url", "http://127.0.0.1:1/"
	init_fails((const char *[]){ NULL }, "(section): no url: give at least one url = http(s)://...");
	init_fails((const char *[]){ "url", "ftp://u:hunter2@x/", NULL },
	    "url: url #1 of 1: only http:// and https:// URLs are supported");
	init_fails((const char *[]){ U, "url", "http://hunter2@", NULL },
	    "url: url #2 of 2: not a valid URL: No host part in the URL");
	init_fails((const char *[]){ U, "url", "http://u:hunter2@127.0.0.1:1/", NULL },
	    "url: url #2 of 2 (http://127.0.0.1:1/) is listed twice");
	init_fails((const char *[]){ U, "method", "FETCH", NULL },
	    "method: unknown method 'FETCH' (use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS)");
	init_fails((const char *[]){ U, "body", "x", NULL },
	    "method: a request body needs a method such as POST or PUT, not GET");
	init_fails((const char *[]){ U, "method", "POST", "body", "x", "body_file", "/etc/hostname",
	    NULL }, "body_file: give body or body_file, not both");
	init_fails((const char *[]){ U, "method", "POST", "body_file", missing, NULL },
	    "body_file: cannot read /nonexistent/token: No such file or directory");
	init_fails((const char *[]){ U, "expect_status", "2xx", NULL },
	    "expect_status: expected a status code 100-599 or a range like 200-299 at '2xx'");
	init_fails((const char *[]){ U, "body_regex", "a(", NULL },
	    "body_regex: invalid regular expression 'a(': Unmatched ( or \\(");
	init_fails((const char *[]){ U, "request_timeout", "0", NULL },
	    "request_timeout: must be from 1ms to 1h");
	init_fails((const char *[]){ U, "max_body", "10", NULL },
	    "max_body: \"10\" is not a size (use a whole number and a unit: 512B, 64KiB, 10MiB, 1GiB)");
	init_fails((const char *[]){ U, "ca_file", missing, NULL },
	    "ca_file: cannot read /nonexistent/token: No such file or directory");
	init_fails((const char *[]){ U, "value.q", "queue..pending", NULL },
	    "value.q: bad JSON path 'queue..pending': at offset 6: expected a key after '.'");
	init_fails((const char *[]){ U, "value.9q", "a", NULL },
	    "value.9q: '9q' is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
	init_fails((const char *[]){ U, "value.http_up", "a", NULL },
	    "value.http_up: metric names starting with http_ or reeve_ are the probe's and the "
	    "daemon's own");
	init_fails((const char *[]){ U, "value.", "a", NULL }, "value.: a name must follow 'value.'");
	init_fails((const char *[]){ U, "value.q", "a", "value.q", "b", NULL },
	    "value.q: set more than once");
	init_fails((const char *[]){ U, "labels.target", "x", NULL },
	    "labels.target: label target is set by the probe");
	init_fails((const char *[]){ U, "labels.a-b", "x", NULL },
	    "labels.a-b: 'a-b' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting "
	    "with __)");
	init_fails((const char *[]){ U, "header.X Y", "hunter2", NULL },
	    "header.X Y: 'X Y' is not a valid header name");
	init_fails((const char *[]){ U, "header.X-Token", "hunter2\nX: y", NULL },
	    "header.X-Token: the value of header X-Token holds a line break or a NUL byte");
	init_fails((const char *[]){ U, "header_file.X-Token", missing, NULL },
	    "header_file.X-Token: cannot read /nonexistent/token: No such file or directory");
	init_fails((const char *[]){ U, "header_env.X-Token", "REEVE_TEST_UNSET_VAR", NULL },
	    "header_env.X-Token: environment variable REEVE_TEST_UNSET_VAR is not set");
	init_fails((const char *[]){ U, "method", "HEAD", "body_regex", "ok", NULL },
	    "method: HEAD has no body to check with body_regex or value.NAME");
	init_fails((const char *[]){ U, "tls_verify", "maybe", NULL },
	    "tls_verify: not a boolean: 'maybe'");
#undef U
}

/* Every key the probe documents is asked for (none left over as unknown). */
static void
test_config_ok(void **unused)
{
	struct reeve_probe_config cfg;
	void *st;

	setenv("REEVE_TEST_TOKEN", "hunter2-env", 1);
	st = init(&cfg, (const char *[]){ "url", "http://127.0.0.1:1/", "url",
	    "https://u:hunter2@127.0.0.1:2/x", "method", "POST", "body", "{}",
	    "header.Content-Type", "application/json", "header_env.X-Token", "REEVE_TEST_TOKEN",
	    "expect_status", "200-299, 304", "body_regex", "ok", "value.q", "queue.pending",
	    "labels.shop", "berlin", "request_timeout", "2s", "connect_timeout", "1s",
	    "tls_verify", "no", "follow_redirects", "yes", "max_redirects", "3",
	    "max_connections", "10", "max_body", "64KiB", "user_agent", "test", "ca_file",
	    "/etc/hostname", "proxy", "", NULL });
	assert_non_null(st);
	assert_null(ptest_unasked(&cfg));
	reeve_probe_entry()->destroy(st);
	reeve_probe_entry()->destroy(NULL);
}

/* ---- a real HTTP server on 127.0.0.1, in a thread ---- */

struct server {
	int fd;
	int port;
	pthread_t thread;
};

static void *
serve(void *arg)
{
	struct server *s = arg;
	char req[4096], resp[1024], path[256];
	const char *body, *status;
	ssize_t n;
	size_t len;
	int c;

	while ((c = accept(s->fd, NULL, NULL)) != -1) {
		len = 0;
		while (len < sizeof(req) - 1 && (n = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
			len += (size_t)n;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[len] = '\0';
		if (sscanf(req, "%*s %255s", path) != 1)
			snprintf(path, sizeof(path), "/");
		status = "200 OK";
		if (strcmp(path, "/quit") == 0) {
			close(c);
			break;
		} else if (strcmp(path, "/json") == 0)
			body = "{\"queue\":{\"pending\":7},\"shops\":[{\"orders\":3}],\"ok\":true}";
		else if (strcmp(path, "/string") == 0)
			body = "{\"queue\":{\"pending\":\"many\"}}";
		else if (strcmp(path, "/notjson") == 0)
			body = "{\"queue\": oops";
		else if (strcmp(path, "/big") == 0)
			body = "0123456789012345678901234567890123456789012345678901234567890123456789";
		else {
			status = "500 Internal Server Error";
			body = "failed";
		}
		n = snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s", status, strlen(body), body);
		if (write(c, resp, (size_t)n) != n)
			fprintf(stderr, "# short write\n");
		close(c);
	}
	return NULL;
}

static int
server_start(void **state)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	assert_non_null(s);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 64), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
	*state = s;
	return 0;
}

static int
server_stop(void **state)
{
	struct server *s = *state;
	char url[64];
	CURL *h = curl_easy_init();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/quit", s->port);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
	curl_easy_perform(h);
	curl_easy_cleanup(h);
	pthread_join(s->thread, NULL);
	close(s->fd);
	free(s);
	return 0;
}

/* A port on 127.0.0.1 nothing listens on: bound, then closed. */
static int
closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static double
sample(const struct reeve_emitter *em, const char *name, const char *labels)
{
	const struct ptest_sample *s = ptest_find(em, name, labels);

	if (s == NULL)
		fail_msg("no sample %s{%s}", name, labels);
	return s->value;
}

static void
test_collect(void **state)
{
	struct server *s = *state;
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	char u_json[64], u_str[64], u_bad[64], u_500[64], u_big[64], u_closed[64], l[256];
	char err[256];
	size_t logs;
	void *st;

	snprintf(u_json, sizeof(u_json), "http://u:hunter2@127.0.0.1:%d/json", s->port);
	snprintf(u_str, sizeof(u_str), "http://127.0.0.1:%d/string", s->port);
	snprintf(u_bad, sizeof(u_bad), "http://127.0.0.1:%d/notjson", s->port);
	snprintf(u_500, sizeof(u_500), "http://127.0.0.1:%d/fail", s->port);
	snprintf(u_big, sizeof(u_big), "http://127.0.0.1:%d/big", s->port);
	snprintf(u_closed, sizeof(u_closed), "http://127.0.0.1:%d/", closed_port());
	st = init(&cfg, (const char *[]){ "url", u_json, "url", u_str, "url", u_bad, "url", u_500,
	    "url", u_big, "url", u_closed, "value.queue_pending", "queue.pending",
	    "labels.shop", "berlin", "max_body", "64B", "request_timeout", "5s",
	    /* fewer connections than targets: the probe queues the rest */
	    "max_connections", "2", NULL });
	assert_non_null(st);
	logs = ptest_log_count();
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);

	/* the json target: up, its value, credentials gone from the label */
	snprintf(l, sizeof(l), "shop=berlin,target=http://127.0.0.1:%d/json", s->port);
	assert_true(sample(&em, "http_up", l) == 1);
	assert_true(sample(&em, "http_status_code", l) == 200);
	assert_true(sample(&em, "queue_pending", l) == 7);
	assert_true(sample(&em, "http_response_size_bytes", l) == 56);
	assert_true(sample(&em, "http_request_duration_seconds", l) > 0);
	/* phases only for the four transfers that completed */
	assert_int_equal(ptest_count(&em, "http_phase_duration_seconds"), 4 * 5);
	assert_null(ptest_find(&em, "http_tls_cert_expiry_seconds", l));
	/* a string where a number should be: down, no value */
	snprintf(l, sizeof(l), "shop=berlin,target=http://127.0.0.1:%d/string", s->port);
	assert_true(sample(&em, "http_up", l) == 0);
	assert_true(sample(&em, "http_status_code", l) == 200);
	assert_null(ptest_find(&em, "queue_pending", l));
	snprintf(l, sizeof(l), "shop=berlin,target=http://127.0.0.1:%d/notjson", s->port);
	assert_true(sample(&em, "http_up", l) == 0);
	/* a 500 is not in the default 200-399 */
	snprintf(l, sizeof(l), "shop=berlin,target=http://127.0.0.1:%d/fail", s->port);
	assert_true(sample(&em, "http_up", l) == 0);
	assert_true(sample(&em, "http_status_code", l) == 500);
	/* a body over max_body fails its target */
	snprintf(l, sizeof(l), "shop=berlin,target=http://127.0.0.1:%d/big", s->port);
	assert_true(sample(&em, "http_up", l) == 0);
	/* nothing listening: status 0 */
	snprintf(l, sizeof(l), "shop=berlin,target=%s", u_closed);
	assert_true(sample(&em, "http_up", l) == 0);
	assert_true(sample(&em, "http_status_code", l) == 0);
	assert_int_equal(ptest_count(&em, "http_up"), 6);
	/* five targets down: five warnings (and debug lines), logged once */
	assert_true(ptest_log_count() > logs + 5);
	logs = ptest_log_count();
	ptest_emitter_reset(&em);
	assert_int_equal(reeve_probe_entry()->collect(st, &em, err, sizeof(err)), 0);
	assert_int_equal(ptest_count(&em, "http_up"), 6);
	/* the second round logs only its 6 debug lines, no new warning */
	assert_int_equal(ptest_log_count(), logs + 6);
	ptest_emitter_free(&em);
	reeve_probe_entry()->destroy(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_status),
		cmocka_unit_test(test_phases),
		cmocka_unit_test(test_cert_date),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_ok),
		cmocka_unit_test_setup_teardown(test_collect, server_start, server_stop),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
