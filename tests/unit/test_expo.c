/* test_expo.c: Prometheus text format escaping and rendering of the registry. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expo.h"
#include "registry.h"
#include "util.h"

static void
test_escape_label(void **state)
{
	struct buf b = { 0 };

	(void)state;
	expo_escape_label(&b, "plain");
	assert_string_equal(b.data, "plain");
	buf_reset(&b);
	expo_escape_label(&b, "a\\b\"c\nd");
	assert_string_equal(b.data, "a\\\\b\\\"c\\nd");
	buf_reset(&b);
	expo_escape_label(&b, "tab\tstays, utf-8 é stays");
	assert_string_equal(b.data, "tab\tstays, utf-8 é stays");
	buf_reset(&b);
	expo_escape_label(&b, "");
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void
test_escape_help(void **state)
{
	struct buf b = { 0 };

	(void)state;
	/* in HELP only backslash and newline are escaped; quotes stay */
	expo_escape_help(&b, "say \"hi\"\\n\nnext");
	assert_string_equal(b.data, "say \"hi\"\\\\n\\nnext");
	buf_free(&b);
}

static void
test_numbers(void **state)
{
	char n[40];

	(void)state;
	assert_string_equal(util_fmt_double(n, sizeof(n), 0.1), "0.1");
	assert_string_equal(util_fmt_double(n, sizeof(n), 42), "42");
	assert_string_equal(util_fmt_double(n, sizeof(n), -3), "-3");
	assert_string_equal(util_fmt_double(n, sizeof(n), 1e300), "1e+300");
	assert_string_equal(util_fmt_double(n, sizeof(n), NAN), "NaN");
	assert_string_equal(util_fmt_double(n, sizeof(n), INFINITY), "+Inf");
	assert_string_equal(util_fmt_double(n, sizeof(n), -INFINITY), "-Inf");
	assert_true(strtod(util_fmt_double(n, sizeof(n), 1.0 / 3), NULL) == 1.0 / 3);
	/* the shortest form that reads back: 15, 16 or 17 digits, fewer for subnormals */
	assert_string_equal(util_fmt_double(n, sizeof(n), 123456.789), "123456.789");
	assert_string_equal(util_fmt_double(n, sizeof(n), 2.0 / 3), "0.6666666666666666");
	assert_string_equal(util_fmt_double(n, sizeof(n), 0.1 + 0.2), "0.30000000000000004");
	assert_string_equal(util_fmt_double(n, sizeof(n), 1e15 + 0.5), "1000000000000000.5");
	assert_string_equal(util_fmt_double(n, sizeof(n), 5e-324), "4.94066e-324");
}

static void
test_render(void **state)
{
	struct registry *r = reg_new(60, NULL);
	struct reg_owner *o = reg_owner_new(r, "t", 1, 0);
	struct reg_batch b = { 0 };
	struct reeve_label l1[2] = { { "path", "C:\\dir \"x\"\nnext" }, { "a", "1" } };
	struct reeve_label l2[1] = { { "a", "0" } };
	struct buf out = { 0 };

	(void)state;
	reg_batch_add(&b, "zeta_bytes", "Last family", REEVE_GAUGE, NULL, 0, 1.5);
	reg_batch_add(&b, "alpha_total", "First family\nwith a newline", REEVE_COUNTER, l1, 2, 7);
	reg_batch_add(&b, "alpha_total", "ignored second help", REEVE_COUNTER, l2, 1, 3);
	assert_int_equal(reg_batch_add(&b, "bad-name", "x", REEVE_GAUGE, NULL, 0, 1), -1);
	assert_int_equal(b.rejected, 1);
	reg_commit(r, o, 1000, &b);
	expo_render(r, &out);
	assert_string_equal(out.data,
	    "# HELP alpha_total First family\\nwith a newline\n"
	    "# TYPE alpha_total counter\n"
	    "alpha_total{a=\"0\"} 3\n"
	    "alpha_total{a=\"1\",path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 7\n"
	    "# HELP zeta_bytes Last family\n"
	    "# TYPE zeta_bytes gauge\n"
	    "zeta_bytes 1.5\n");
	/* a series missing from the owner's next round is stale and disappears */
	reg_batch_reset(&b);
	reg_batch_add(&b, "zeta_bytes", "Last family", REEVE_GAUGE, NULL, 0, 2);
	reg_commit(r, o, 1001, &b);
	buf_reset(&out);
	expo_render(r, &out);
	assert_string_equal(out.data,
	    "# HELP zeta_bytes Last family\n"
	    "# TYPE zeta_bytes gauge\n"
	    "zeta_bytes 2\n");
	buf_free(&out);
	reg_batch_free(&b);
	reg_owner_free(r, o);
	reg_free(r);
}

/* Parse text into a fresh registry through a batch and render it back. */
static long
parse_render(const char *text, const struct expo_opts *o, struct buf *out, char *err, size_t errlen)
{
	struct registry *r = reg_new(60, NULL);
	struct reg_owner *ow = reg_owner_new(r, "t", 1, 0);
	struct reg_batch b = { 0 };
	struct expo_opts none = { 0 };
	long n = expo_parse_batch(&b, text, strlen(text), o ? o : &none, err, errlen);

	if (n >= 0) {
		reg_commit(r, ow, 1000, &b);
		buf_reset(out);
		expo_render(r, out);
	}
	reg_batch_free(&b);
	reg_owner_free(r, ow);
	reg_free(r);
	return n;
}

static void
test_parse_types(void **state)
{
	struct buf out = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(parse_render(
	    "# A comment line\n"
	    "\n"
	    "# HELP req_total Requests\\\\served\\nby path.\n"
	    "# TYPE req_total counter\n"
	    "req_total{path=\"/a\\\"b\\\\c\\nd\",code=\"200\",} 1027 1395066363000\n"
	    "  # TYPE temp gauge\n"
	    "temp\t-3.5e1\r\n"
	    "# TYPE lat histogram\n"
	    "lat_bucket{le=\"0.1\"} 3\n"
	    "lat_bucket{le=\"+Inf\"} 5\n"
	    "lat_sum 1.25\n"
	    "lat_count 5\n"
	    "# TYPE rpc summary\n"
	    "rpc{quantile=\"0.5\"} 0.2\n"
	    "rpc_sum 9\n"
	    "rpc_count 40\n"
	    "plain NaN\n"
	    "big +Inf\n"
	    "small -Inf\n"
	    "hex 0x10\n"
	    "utf{city=\"Zürich 東京\"} 2\n"
	    "empty{} 7\n", NULL, &out, err, sizeof(err)), 15);
	assert_string_equal(out.data,
	    "# HELP big big\n# TYPE big gauge\nbig +Inf\n"
	    "# HELP empty empty\n# TYPE empty gauge\nempty 7\n"
	    "# HELP hex hex\n# TYPE hex gauge\nhex 16\n"
	    "# HELP lat_bucket lat_bucket\n# TYPE lat_bucket counter\n"
	    "lat_bucket{le=\"+Inf\"} 5\nlat_bucket{le=\"0.1\"} 3\n"
	    "# HELP lat_count lat_count\n# TYPE lat_count counter\nlat_count 5\n"
	    "# HELP lat_sum lat_sum\n# TYPE lat_sum counter\nlat_sum 1.25\n"
	    "# HELP plain plain\n# TYPE plain gauge\nplain NaN\n"
	    "# HELP req_total Requests\\\\served\\nby path.\n# TYPE req_total counter\n"
	    "req_total{code=\"200\",path=\"/a\\\"b\\\\c\\nd\"} 1027\n"
	    "# HELP rpc rpc\n# TYPE rpc gauge\nrpc{quantile=\"0.5\"} 0.2\n"
	    "# HELP rpc_count rpc_count\n# TYPE rpc_count counter\nrpc_count 40\n"
	    "# HELP rpc_sum rpc_sum\n# TYPE rpc_sum counter\nrpc_sum 9\n"
	    "# HELP small small\n# TYPE small gauge\nsmall -Inf\n"
	    "# HELP temp temp\n# TYPE temp gauge\ntemp -35\n"
	    "# HELP utf utf\n# TYPE utf gauge\nutf{city=\"Zürich 東京\"} 2\n");
	/* the empty text is valid and has no samples */
	assert_int_equal(parse_render("", NULL, &out, err, sizeof(err)), 0);
	buf_free(&out);
}

static void
test_parse_prefix_labels(void **state)
{
	struct reeve_label extra[2] = { { "job", "shop" }, { "instance", "web1:9100" } };
	struct expo_opts o = { .prefix = "app_", .labels = extra, .nlabels = 2 };
	struct buf out = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(parse_render("orders{job=\"batch\",state=\"new\"} 4\n", &o, &out, err,
	    sizeof(err)), 1);
	assert_string_equal(out.data,
	    "# HELP app_orders app_orders\n# TYPE app_orders gauge\n"
	    "app_orders{exported_job=\"batch\",instance=\"web1:9100\",job=\"shop\",state=\"new\"} 4\n");
	/* when exported_job is taken too, the prefix doubles */
	assert_int_equal(parse_render("x{exported_job=\"e\",job=\"j\"} 1\n", &o, &out, err,
	    sizeof(err)), 1);
	assert_non_null(strstr(out.data,
	    "app_x{exported_exported_job=\"j\",exported_job=\"e\",instance=\"web1:9100\",job=\"shop\"} 1\n"));
	buf_free(&out);
}

static void
test_parse_all_or_nothing(void **state)
{
	struct reg_batch b = { 0 };
	struct expo_opts o = { .lim = { .max_samples = 2 } }, dflt = { 0 };
	const char *three = "a 1\nb 2\nc 3\n";
	char err[256];

	(void)state;
	reg_batch_add(&b, "kept", "", REEVE_GAUGE, NULL, 0, 1);
	assert_int_equal(expo_parse_batch(&b, "x 1\ny 2\nz{ 3\n", 13, &dflt, err, sizeof(err)), -1);
	assert_string_equal(err, "line 3: expected a label name, found \"3\"");
	assert_int_equal(b.n, 1); /* what came before the call stays, nothing of the text */
	assert_int_equal(expo_parse_batch(&b, three, strlen(three), &o, err, sizeof(err)), -1);
	assert_string_equal(err, "line 3: more than 2 samples");
	assert_int_equal(b.n, 1);
	assert_int_equal(expo_parse_batch(&b, three, 8, &o, err, sizeof(err)), 2);
	assert_int_equal(b.n, 3);
	reg_batch_free(&b);
}

/* The length limit is each label value's, not the sum of a sample's values. */
static void
test_parse_value_limit(void **state)
{
	struct reg_batch b = { 0 };
	struct expo_opts dflt = { 0 };
	struct buf t = { 0 };
	char err[256], *x = xcalloc(1, EXPO_DEFAULT_MAX_VALUE + 2);

	(void)state;
	memset(x, 'x', EXPO_DEFAULT_MAX_VALUE);
	buf_printf(&t, "m{a=\"%s\",b=\"%s\"} 1\n", x, x); /* two values at the limit */
	assert_int_equal(expo_parse_batch(&b, t.data, t.len, &dflt, err, sizeof(err)), 1);
	t.len = 0;
	x[EXPO_DEFAULT_MAX_VALUE] = 'x';
	buf_printf(&t, "m{a=\"y\",b=\"%s\"} 1\n", x); /* one byte over */
	assert_int_equal(expo_parse_batch(&b, t.data, t.len, &dflt, err, sizeof(err)), -1);
	assert_string_equal(err, "line 1: label value longer than 4096 bytes");
	reg_batch_free(&b);
	buf_free(&t);
	free(x);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	char tmp[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	buf_append(&b, "", 0);
	*len = b.len;
	return buf_steal(&b);
}

static int
count_sample(void *arg, const struct expo_sample *s)
{
	(void)s;
	(*(size_t *)arg)++;
	return 0;
}

/* Captured node_exporter 1.5.0 output parses completely, with its types. */
static void
test_parse_node_exporter(void **state)
{
	char path[4096], err[256];
	struct buf out = { 0 };
	size_t len, n = 0, lines = 0;
	char *text;

	(void)state;
	snprintf(path, sizeof(path), "%s/expo/node_exporter.prom", getenv("TEST_DATA"));
	text = slurp(path, &len);
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' && i + 1 < len && text[i + 1] != '#')
			lines++;
	assert_int_equal(expo_parse(text, len, NULL, count_sample, &n, err, sizeof(err)), 0);
	assert_int_equal(n, lines + (text[0] != '#'));
	assert_int_equal(parse_render(text, NULL, &out, err, sizeof(err)), (long)n);
	assert_non_null(strstr(out.data, "# TYPE node_cpu_seconds_total counter\n"));
	assert_non_null(strstr(out.data, "# TYPE node_memory_MemFree_bytes gauge\n"));
	assert_non_null(strstr(out.data, "# TYPE go_gc_duration_seconds_count counter\n"));
	assert_non_null(strstr(out.data, "go_gc_duration_seconds{quantile=\"0.5\"}"));
	free(text);
	buf_free(&out);
}

/*
 * Every file under tests/data/expo/bad is rejected, with the error its first line names
 * ("# expect: TEXT"), at a line number, and nothing reaches the batch.
 */
static void
test_parse_malformed_corpus(void **state)
{
	char dir[4096], path[8192], err[256];
	struct dirent *de;
	size_t files = 0;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/expo/bad", getenv("TEST_DATA"));
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		struct reg_batch b = { 0 };
		struct expo_opts o = { 0 };
		char *text, *nl, expect[256];
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = slurp(path, &len);
		assert_true(strncmp(text, "# expect: ", 10) == 0);
		nl = strchr(text, '\n');
		snprintf(expect, sizeof(expect), "%.*s", (int)(nl - text - 10), text + 10);
		if (expo_parse_batch(&b, text, len, &o, err, sizeof(err)) != -1 ||
		    strncmp(err, "line ", 5) != 0 || strstr(err, expect) == NULL) {
			print_error("%s: got \"%s\", expected \"%s\"\n", de->d_name, err, expect);
			fail();
		}
		assert_int_equal(b.n, 0);
		reg_batch_free(&b);
		free(text);
		files++;
	}
	closedir(d);
	assert_true(files >= 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_label),
		cmocka_unit_test(test_escape_help),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_parse_types),
		cmocka_unit_test(test_parse_prefix_labels),
		cmocka_unit_test(test_parse_all_or_nothing),
		cmocka_unit_test(test_parse_value_limit),
		cmocka_unit_test(test_parse_node_exporter),
		cmocka_unit_test(test_parse_malformed_corpus),
	};
	return cmocka_run_group_tests_name("expo", tests, NULL, NULL);
}
