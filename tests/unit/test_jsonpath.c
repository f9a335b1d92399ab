/* test_jsonpath.c: unit tests of the http probe's JSON path syntax (probes/jsonpath.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonpath.h"

static const char doc[] =
	"{\"queue\":{\"pending\":7},\"shops\":[{\"orders\":3},{\"orders\":-2.5}],\"ok\":true,"
	"\"bad\":false,\"name\":\"secret-string\",\"nothing\":null,\"key.with.dots\":{\"n\":42},"
	"\"quo\\\"te\":5,\"m\":[[1,2],[3,4]],\"big\":1e300,\"ünï\":9}";

/* Evaluate text on doc: 0 and *out, or -1 and the message in err. */
static int
eval(const char *text, double *out, char *err, size_t errlen)
{
	struct jsonpath *p;
	cJSON *root;
	int rc;

	p = jsonpath_new(text, err, errlen);
	assert_non_null(p);
	root = cJSON_ParseWithLengthOpts(doc, sizeof(doc), NULL, 1);
	assert_non_null(root);
	rc = jsonpath_eval(p, root, out, err, errlen);
	cJSON_Delete(root);
	jsonpath_free(p);
	return rc;
}

static double
value(const char *text)
{
	char err[256];
	double v = -12345;

	if (eval(text, &v, err, sizeof(err)) != 0)
		fail_msg("%s: %s", text, err);
	return v;
}

/* The message of a path that must fail on doc. */
static const char *
eval_error(const char *text)
{
	static char err[256];
	double v;

	assert_int_equal(eval(text, &v, err, sizeof(err)), -1);
	assert_true(err[0] != '\0');
	return err;
}

/* The message of a path that must not parse. */
static const char *
parse_error(const char *text)
{
	static char err[256];
	struct jsonpath *p = jsonpath_new(text, err, sizeof(err));

	if (p != NULL)
		fail_msg("'%s' parsed", text);
	assert_true(err[0] != '\0');
	return err;
}

static void
test_values(void **unused)
{
	assert_true(value("queue.pending") == 7);
	assert_true(value("shops[0].orders") == 3);
	assert_true(value("shops[1].orders") == -2.5);
	assert_true(value("shops[-1].orders") == -2.5);
	assert_true(value("shops[-2].orders") == 3);
	assert_true(value("ok") == 1);
	assert_true(value("bad") == 0);
	assert_true(value("[\"key.with.dots\"].n") == 42);
	assert_true(value("[\"key.with.dots\"][\"n\"]") == 42);
	assert_true(value("[\"quo\\\"te\"]") == 5);
	assert_true(value("m[1][0]") == 3);
	assert_true(value("$.m[0][1]") == 2);
	assert_true(value("$[\"queue\"].pending") == 7);
	assert_true(value("big") == 1e300);
	assert_true(value("ünï") == 9);
}

static void
test_root(void **unused)
{
	char err[256];
	struct jsonpath *p = jsonpath_new("$", err, sizeof(err));
	cJSON *root = cJSON_Parse("12.5");
	double v = 0;

	assert_non_null(p);
	assert_non_null(root);
	assert_int_equal(jsonpath_eval(p, root, &v, err, sizeof(err)), 0);
	assert_true(v == 12.5);
	cJSON_Delete(root);
	jsonpath_free(p);
}

static void
test_eval_errors(void **unused)
{
	const char *e;

	assert_string_equal(eval_error("queue.missing"), "no such key: 'queue.missing'");
	assert_string_equal(eval_error("shops[2].orders"),
	    "no such element: 'shops[2]' (the array has 2)");
	assert_string_equal(eval_error("shops[-3]"), "no such element: 'shops[-3]' (the array has 2)");
	/* a string is reported by kind; its content never appears */
	e = eval_error("name");
	assert_string_equal(e, "expected a number or a boolean at 'name', found a string");
	assert_null(strstr(e, "secret-string"));
	assert_string_equal(eval_error("nothing"),
	    "expected a number or a boolean at 'nothing', found null");
	assert_string_equal(eval_error("queue"),
	    "expected a number or a boolean at 'queue', found an object");
	assert_string_equal(eval_error("shops"),
	    "expected a number or a boolean at 'shops', found an array");
	assert_string_equal(eval_error("queue[0]"), "expected an array at 'queue', found an object");
	assert_string_equal(eval_error("shops.orders"),
	    "expected an object at 'shops', found an array");
	assert_string_equal(eval_error("queue.pending.x"),
	    "expected an object at 'queue.pending', found a number");
	/* keys are case-sensitive */
	assert_string_equal(eval_error("Queue.pending"), "no such key: 'Queue'");
	assert_string_equal(eval_error("[\"key.with.dots\"].m"),
	    "no such key: '[\"key.with.dots\"].m'");
}

static void
test_parse_errors(void **unused)
{
	char big[JSONPATH_MAX_LEN + 2];
	char many[JSONPATH_MAX_STEPS * 2 + 4];
	size_t i;

	assert_string_equal(parse_error(""), "empty path");
	assert_string_equal(parse_error("a..b"), "at offset 2: expected a key after '.'");
	assert_string_equal(parse_error("a."), "at offset 2: expected a key after '.'");
	assert_string_equal(parse_error(".a"), "at offset 0: unexpected '.' where a key was "
	    "expected (quote keys with special characters: [\"key\"])");
	assert_string_equal(parse_error("a.[0]"), "at offset 2: expected a key after '.'");
	assert_string_equal(parse_error("a[0"), "at offset 3: expected ']' after the index");
	assert_string_equal(parse_error("a[x]"),
	    "at offset 1: expected an index or a quoted key after '['");
	assert_string_equal(parse_error("a[]"),
	    "at offset 1: expected an index or a quoted key after '['");
	assert_string_equal(parse_error("a[-0]"),
	    "at offset 1: index -0 is not an element (use [0] or [-1])");
	assert_string_equal(parse_error("a[\"b]"), "at offset 1: unterminated quoted key "
	    "(expected \"])");
	assert_string_equal(parse_error("a[\"b\\n\"]"), "at offset 4: only \\\" and \\\\ may "
	    "follow a backslash in a quoted key");
	assert_string_equal(parse_error("a[0]b"),
	    "at offset 4: unexpected 'b' (expected '.', '[' or the end)");
	assert_string_equal(parse_error("a b"),
	    "at offset 1: unexpected ' ' (expected '.', '[' or the end)");
	assert_string_equal(parse_error("a]"),
	    "at offset 1: unexpected ']' (expected '.', '[' or the end)");
	assert_string_equal(parse_error("a\x01"),
	    "at offset 1: unexpected '?' (expected '.', '[' or the end)");
	assert_string_equal(parse_error("$."), "at offset 1: expected a key after '$.'");
	assert_string_equal(parse_error("a[99999999999]"), "at offset 2: index too large");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_string_equal(parse_error(big), "path longer than 1024 bytes");
	for (i = 0; i < JSONPATH_MAX_STEPS + 1; i++)
		memcpy(many + 2 * i, "a.", 2);
	many[2 * i - 1] = '\0';
	assert_string_equal(parse_error(many), "more than 64 steps");
}

/* The canonical text parses back to itself. */
static void
test_format(void **unused)
{
	static const char *const cases[][2] = {
		{ "queue.pending", "queue.pending" },
		{ "$.queue.pending", "queue.pending" },
		{ "$", "$" },
		{ "[\"a.b\"].c", "[\"a.b\"].c" },
		{ "[\"ab\"][007]", "ab[7]" },
		{ "a[-1][\"q\\\"\\\\\"]", "a[-1][\"q\\\"\\\\\"]" },
		{ "[\"$\"].x", "[\"$\"].x" },
		{ "[\"\"]", "[\"\"]" },
		{ "$a.b", "$a.b" },
	};
	char err[256], out[256], again[256];
	struct jsonpath *p, *q;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = jsonpath_new(cases[i][0], err, sizeof(err));
		if (p == NULL)
			fail_msg("%s: %s", cases[i][0], err);
		assert_int_equal(jsonpath_format(p, out, sizeof(out)), strlen(cases[i][1]));
		assert_string_equal(out, cases[i][1]);
		q = jsonpath_new(out, err, sizeof(err));
		assert_non_null(q);
		jsonpath_format(q, again, sizeof(again));
		assert_string_equal(again, out);
		jsonpath_free(p);
		jsonpath_free(q);
	}
	/* truncation: the full length is still returned */
	p = jsonpath_new("abcdef.ghi", err, sizeof(err));
	assert_int_equal(jsonpath_format(p, out, 5), 10);
	assert_string_equal(out, "abcd");
	jsonpath_free(p);
	jsonpath_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_eval_errors),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
