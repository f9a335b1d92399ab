/* test_auth.c: unit tests of auth.c: which endpoint needs a token, and every token against every role. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "config.h"

#define S_READ "read-secret-0123456789"
#define S_PUSH "push-secret-0123456789"
#define S_ADMIN "admin-secret-0123456789"
#define S_RP "readpush-secret-0123456789"
#define S_HTTP "http-token-secret"

/* Build the table of a config text; the config is freed at once (auth keeps copies). */
static struct auth *
auth_of(const char *text)
{
	struct cfg_errors errs = { 0 };
	struct cfg *cfg = cfg_load_string(text, "auth.conf", &errs);
	struct auth *a;

	for (size_t i = 0; i < errs.n; i++)
		print_message("# error: %s\n", errs.msgs[i]);
	assert_non_null(cfg);
	cfg_errors_clear(&errs);
	a = auth_new(cfg);
	cfg_free(cfg);
	assert_non_null(a);
	return a;
}

/* auth_check's status, and that the token name it reports is want_name (NULL: none). */
static void
expect(const struct auth *a, const char *hdr, unsigned role, int want, const char *want_name)
{
	const char *name = "unset";
	int rc = auth_check(a, hdr, role, 0, &name);

	if (rc != want)
		fail_msg("header \"%s\", role %s: got %d, expected %d", hdr ? hdr : "(none)",
		    auth_role_name(role), rc, want);
	if (want_name == NULL)
		assert_null(name);
	else
		assert_string_equal(name, want_name);
	assert_int_equal(auth_check(a, hdr, role, 0, NULL), want);
}

static void
test_no_tokens(void **state)
{
	struct auth *a = auth_of("[http]\ntoken =\n");
	static const unsigned roles[] = { AUTH_READ, AUTH_PUSH, AUTH_ADMIN };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_false(auth_required(a, roles[i]));
		expect(a, NULL, roles[i], 0, NULL);
		expect(a, "Bearer anything-at-all-here", roles[i], 0, NULL);
		expect(a, "Basic dXNlcjpwYXNz", roles[i], 0, NULL);
	}
	auth_free(a);
	auth_free(NULL);
}

/* Only a push token: /metrics stays open, push and admin need a token. */
static void
test_push_only(void **state)
{
	struct auth *a = auth_of("[token app]\nsecret = " S_PUSH "\nroles = push\n");

	(void)state;
	assert_false(auth_required(a, AUTH_READ));
	assert_true(auth_required(a, AUTH_PUSH));
	assert_true(auth_required(a, AUTH_ADMIN));
	expect(a, NULL, AUTH_READ, 0, NULL);
	expect(a, "Bearer wrong-wrong-wrong-wrong", AUTH_READ, 0, NULL);
	expect(a, "Bearer " S_PUSH, AUTH_READ, 0, "app");
	expect(a, NULL, AUTH_PUSH, 401, NULL);
	expect(a, "Bearer wrong-wrong-wrong-wrong", AUTH_PUSH, 401, NULL);
	expect(a, "Bearer " S_PUSH, AUTH_PUSH, 0, "app");
	expect(a, NULL, AUTH_ADMIN, 401, NULL);
	expect(a, "Bearer " S_PUSH, AUTH_ADMIN, 403, "app");
	auth_free(a);
}

/* A read-only token makes push endpoints need a token too (any token configured). */
static void
test_read_only(void **state)
{
	struct auth *a = auth_of("[token grafana]\nsecret = " S_READ "\n"); /* roles default: read */

	(void)state;
	assert_true(auth_required(a, AUTH_READ));
	assert_true(auth_required(a, AUTH_PUSH));
	expect(a, NULL, AUTH_READ, 401, NULL);
	expect(a, "Bearer " S_READ, AUTH_READ, 0, "grafana");
	expect(a, NULL, AUTH_PUSH, 401, NULL);
	expect(a, "Bearer " S_READ, AUTH_PUSH, 403, "grafana");
	auth_free(a);
}

/* Every presented token against every role with a full table, [http] token included. */
static void
test_matrix(void **state)
{
	static const struct {
		const char *hdr, *name;
		int read, push, admin;
	} rows[] = {
		{ NULL, NULL, 401, 401, 401 },
		{ "Bearer not-a-configured-secret", NULL, 401, 401, 401 },
		{ "Bearer " S_READ, "r", 0, 403, 403 },
		{ "Bearer " S_PUSH, "p", 403, 0, 403 },
		{ "Bearer " S_ADMIN, "a", 403, 403, 0 },
		{ "Bearer " S_RP, "rp", 0, 0, 403 },
		{ "Bearer " S_HTTP, "[http] token", 0, 0, 0 },
	};
	struct auth *a = auth_of(
	    "[http]\ntoken = " S_HTTP "\n"
	    "[token r]\nsecret = " S_READ "\nroles = read\n"
	    "[token p]\nsecret = " S_PUSH "\nroles = push\n"
	    "[token a]\nsecret = " S_ADMIN "\nroles = admin\n"
	    "[token rp]\nsecret = " S_RP "\nroles = push,read\n");

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		expect(a, rows[i].hdr, AUTH_READ, rows[i].read, rows[i].name);
		expect(a, rows[i].hdr, AUTH_PUSH, rows[i].push, rows[i].name);
		expect(a, rows[i].hdr, AUTH_ADMIN, rows[i].admin, rows[i].name);
	}
	auth_free(a);
}

/* [http] token alone: one token with every role. */
static void
test_http_token(void **state)
{
	struct auth *a = auth_of("[http]\ntoken = short\n");

	(void)state;
	expect(a, NULL, AUTH_READ, 401, NULL);
	expect(a, NULL, AUTH_PUSH, 401, NULL);
	expect(a, "Bearer short", AUTH_READ, 0, "[http] token");
	expect(a, "Bearer short", AUTH_PUSH, 0, "[http] token");
	expect(a, "Bearer short", AUTH_ADMIN, 0, "[http] token");
	auth_free(a);
}

/* The Authorization header: scheme in any case, then the exact secret and nothing else. */
static void
test_header_forms(void **state)
{
	static const struct { const char *hdr; int want; } cases[] = {
		{ "Bearer " S_READ, 0 },
		{ "bearer " S_READ, 0 },
		{ "BEARER   " S_READ, 0 },
		{ "Bearer\t" S_READ, 0 },
		{ "Bearer" S_READ, 401 },
		{ S_READ, 401 },
		{ "Basic " S_READ, 401 },
		{ "Bearer ", 401 },
		{ "Bearer", 401 },
		{ "", 401 },
		{ "Bearer " S_READ "x", 401 },
		{ "Bearer " S_READ " ", 401 },
		{ "Bearer read-secret-012345678", 401 }, /* one byte short */
		{ "Bearer READ-SECRET-0123456789", 401 },
	};
	struct auth *a = auth_of("[token r]\nsecret = " S_READ "\n");

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(a, cases[i].hdr, AUTH_READ, cases[i].want, cases[i].want ? NULL : "r");
	auth_free(a);
}

/* [http] open: the endpoints listed are read without a token; the rest are not; writes never. */
static void
test_open(void **state)
{
	static const unsigned classes[] = { AUTH_OPEN_HEALTHZ, AUTH_OPEN_METRICS, AUTH_OPEN_STATUS,
		AUTH_OPEN_API };
	static const struct { const char *open; int want[4]; } cases[] = {
		{ "", { 0, 401, 401, 401 } },                 /* the default: healthz */
		{ "open = none\n", { 401, 401, 401, 401 } },
		{ "open = metrics, api\n", { 401, 0, 401, 0 } },
		{ "open = healthz metrics status api\n", { 0, 0, 0, 0 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char conf[256];
		struct auth *a;

		snprintf(conf, sizeof(conf), "[http]\n%s[token r]\nsecret = " S_READ "\n"
		    "[token p]\nsecret = " S_PUSH "\nroles = push, admin\n", cases[i].open);
		a = auth_of(conf);
		for (size_t k = 0; k < 4; k++) {
			if (auth_check(a, NULL, AUTH_READ, classes[k], NULL) != cases[i].want[k])
				fail_msg("%sclass %u: got %d", cases[i].open, classes[k],
				    auth_check(a, NULL, AUTH_READ, classes[k], NULL));
			/* a token's roles still count where a token is given */
			assert_int_equal(auth_check(a, "Bearer " S_READ, AUTH_READ, classes[k], NULL), 0);
			assert_int_equal(auth_check(a, NULL, AUTH_PUSH, classes[k], NULL), 401);
			assert_int_equal(auth_check(a, NULL, AUTH_ADMIN, classes[k], NULL), 401);
		}
		auth_free(a);
	}
}

static void
test_role_names(void **state)
{
	(void)state;
	assert_string_equal(auth_role_name(AUTH_READ), "read");
	assert_string_equal(auth_role_name(AUTH_PUSH), "push");
	assert_string_equal(auth_role_name(AUTH_ADMIN), "admin");
	assert_string_equal(auth_role_name(0), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_tokens),
		cmocka_unit_test(test_push_only),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_http_token),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_role_names),
	};

	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
