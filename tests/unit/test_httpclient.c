/* test_httpclient.c: unit tests of src/httpclient.c: URLs fit to show, header lines, the capped body, scrubbing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "httpclient.h"

static void
target_is(const char *url, int keep_query, const char *want)
{
	char err[256], *l = httpclient_url_target(url, keep_query, err, sizeof(err));

	if (l == NULL)
		fail_msg("%s: %s", url, err);
	assert_string_equal(l, want);
	free(l);
}

static void
target_fails(const char *url, const char *want)
{
	char err[256], *l = httpclient_url_target(url, 1, err, sizeof(err));

	assert_null(l);
	assert_string_equal(err, want);
	assert_null(strstr(err, "hunter2"));
}

static void
test_url_target(void **unused)
{
	target_is("http://127.0.0.1:8080/json", 1, "http://127.0.0.1:8080/json");
	target_is("https://user:hunter2@example.com/a?b=1", 1, "https://example.com/a?b=1");
	target_is("https://user:hunter2@example.com/a?token=hunter2", 0, "https://example.com/a");
	target_is("http://hunter2@example.com/", 1, "http://example.com/");
	target_is("HTTP://Example.com", 1, "http://Example.com/");
	target_is("http://example.com/x#frag", 1, "http://example.com/x");
	target_fails("ftp://user:hunter2@example.com/", "only http:// and https:// URLs are supported");
	target_fails("file:///etc/passwd", "only http:// and https:// URLs are supported");
	target_fails("http://user:hunter2@", "not a valid URL: No host part in the URL");
	target_fails("not a url hunter2", "not a valid URL: Bad scheme");
	target_fails("", "not a valid URL: Bad scheme");
}

static void
test_scrub(void **unused)
{
	char *secrets[] = { "hunter2x", "abc", "tok-123456", NULL, "redacted" };
	char msg[64];

	snprintf(msg, sizeof(msg), "failed for hunter2x at abc with tok-123456 hunter2x");
	httpclient_scrub(msg, sizeof(msg), secrets, 3);
	assert_string_equal(msg, "failed for <redacted> at abc with <redacted> <redacted>");
	/* no room to expand: cut before the secret */
	snprintf(msg, sizeof(msg), "01234567890123456789012345678901234567890123456789012 hunter2x");
	httpclient_scrub(msg, sizeof(msg), secrets, 3);
	assert_string_equal(msg, "01234567890123456789012345678901234567890123456789012 ");
	/* a secret found in "<redacted>" itself, a NULL one: both skipped over */
	snprintf(msg, sizeof(msg), "hunter2x redacted");
	httpclient_scrub(msg, sizeof(msg), secrets, 5);
	assert_string_equal(msg, "<<redacted>> <redacted>");
}

static void
test_header_name(void **unused)
{
	assert_true(httpclient_header_name_ok("Authorization"));
	assert_true(httpclient_header_name_ok("X-Api_Key.1"));
	assert_false(httpclient_header_name_ok(""));
	assert_false(httpclient_header_name_ok("Bad Name"));
	assert_false(httpclient_header_name_ok("Bad:Name"));
}

static void
test_add_header(void **unused)
{
	struct curl_slist *l = NULL;
	char err[256];

	assert_int_equal(httpclient_add_header(&l, "Authorization", "Bearer hunter2", 14, err,
	    sizeof(err)), 0);
	assert_int_equal(httpclient_add_header(&l, "X-Empty", "", 0, err, sizeof(err)), 0);
	assert_int_equal(httpclient_add_header(&l, "X-Part", "abcdef", 3, err, sizeof(err)), 0);
	assert_string_equal(l->data, "Authorization: Bearer hunter2");
	assert_string_equal(l->next->data, "X-Empty;");
	assert_string_equal(l->next->next->data, "X-Part: abc");
	assert_int_equal(httpclient_add_header(&l, "X-Bad", "hunter2\r\nX-Evil: 1", 18, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "the value of header X-Bad holds a line break or a NUL byte");
	assert_null(l->next->next->next);
	curl_slist_free_all(l);
}

static void
test_body(void **unused)
{
	struct httpclient_body b = { .max = 10 };
	char chunk[8] = "abcdefg";

	/* failing mode: a chunk that does not fit aborts, what came before stays */
	assert_int_equal(httpclient_body_write(chunk, 1, 7, &b), 7);
	assert_int_equal(httpclient_body_write(chunk, 1, 7, &b), 0);
	assert_true(b.over);
	assert_int_equal(b.len, 7);
	assert_string_equal(b.data, "abcdefg");
	httpclient_body_reset(&b);
	assert_int_equal(b.len, 0);
	assert_false(b.over);
	assert_string_equal(b.data, "");
	/* dropping mode: keep max bytes, take (and drop) every later byte */
	b.drop_excess = 1;
	assert_int_equal(httpclient_body_write(chunk, 1, 7, &b), 7);
	assert_int_equal(httpclient_body_write(chunk, 7, 1, &b), 7);
	assert_int_equal(httpclient_body_write(chunk, 1, 7, &b), 7);
	assert_true(b.over);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "abcdefgabc");
	assert_true(b.cap <= 11);
	httpclient_body_free(&b);
	assert_null(b.data);
	/* max 0 and dropping: nothing is kept, nothing allocated */
	b.max = 0;
	assert_int_equal(httpclient_body_write(chunk, 1, 7, &b), 7);
	assert_null(b.data);
	httpclient_body_free(&b);
}

/* Whether text (an IPv4 or IPv6 address) lies in the networks of list. */
static int
in_nets(const char *list, const char *text)
{
	struct httpclient_nets n;
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	char err[256];
	int r;

	assert_int_equal(httpclient_nets_parse(list, &n, err, sizeof(err)), 0);
	if (inet_pton(AF_INET, text, &a4.sin_addr) == 1)
		r = httpclient_nets_match(&n, (struct sockaddr *)&a4);
	else {
		assert_int_equal(inet_pton(AF_INET6, text, &a6.sin6_addr), 1);
		r = httpclient_nets_match(&n, (struct sockaddr *)&a6);
	}
	httpclient_nets_free(&n);
	return r;
}

static void
test_nets(void **state)
{
	static const char *const bad[] = { "10.0.0.0/33", "fe80::/129", "10.0.0/8", "host.example",
		"10.0.0.0/", "10.0.0.0/-1", "::1/1x", "1.2.3.4/08x" };
	struct httpclient_nets n;
	char err[256];

	(void)state;
	assert_true(in_nets(HTTPCLIENT_DENY_DEFAULT, "169.254.169.254"));
	assert_true(in_nets(HTTPCLIENT_DENY_DEFAULT, "::ffff:169.254.169.254")); /* mapped */
	assert_true(in_nets(HTTPCLIENT_DENY_DEFAULT, "fe80::1"));
	assert_true(in_nets(HTTPCLIENT_DENY_DEFAULT, "fd00:ec2::254"));
	assert_true(in_nets(HTTPCLIENT_DENY_DEFAULT, "100.100.100.200"));
	assert_false(in_nets(HTTPCLIENT_DENY_DEFAULT, "169.255.0.1"));
	assert_false(in_nets(HTTPCLIENT_DENY_DEFAULT, "127.0.0.1"));
	assert_false(in_nets(HTTPCLIENT_DENY_DEFAULT, "fec0::1"));
	assert_true(in_nets("10.1.2.0/23", "10.1.3.255"));
	assert_false(in_nets("10.1.2.0/23", "10.1.4.0"));
	assert_true(in_nets("0.0.0.0/0", "203.0.113.9"));
	assert_false(in_nets("0.0.0.0/0", "2001:db8::1"));  /* IPv4 networks hold no IPv6 */
	assert_true(in_nets("::/0", "2001:db8::1"));
	assert_true(in_nets("192.0.2.7", "192.0.2.7"));
	assert_false(in_nets("192.0.2.7", "192.0.2.6"));
	assert_false(in_nets("none", "192.0.2.7"));
	assert_false(in_nets("", "192.0.2.7"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(httpclient_nets_parse(bad[i], &n, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "is not a network"));
		assert_null(n.v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_target),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_header_name),
		cmocka_unit_test(test_add_header),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_nets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
