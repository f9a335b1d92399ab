/* test_template.c: unit tests of alerts/template.c: rendering, the humanize helpers, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "template.h"

static const struct reeve_label labels[] = {
	{ "host", "web1" }, { "mountpoint", "/var" }, { "size", "1536" },
};
static const struct template_data data = { "DiskFull", "critical", labels, 3, 0.9312 };

static void
expect_render(const char *tmpl, const struct template_data *d, const char *want)
{
	size_t col = 0;
	char err[256] = "";
	char *got;

	if (template_check(tmpl, &col, err, sizeof(err)) == -1)
		fail_msg("template_check(\"%s\"): column %zu: %s", tmpl, col, err);
	got = template_render(tmpl, d);
	assert_string_equal(got, want);
	free(got);
}

static void
test_render(void **state)
{
	struct template_data d = data;

	(void)state;
	expect_render("plain text", &d, "plain text");
	expect_render("", &d, "");
	expect_render("{{ labels.host }}: {{ labels.mountpoint }} is {{ value }} full", &d,
	    "web1: /var is 0.9312 full");
	expect_render("{{$labels.host}} {{ $value }}", &d, "web1 0.9312");
	expect_render("{{ name }} ({{ severity }})", &d, "DiskFull (critical)");
	expect_render("{{ humanizePercentage value }} used", &d, "93.12% used");
	expect_render("{{ $value | humanizePercentage }}", &d, "93.12%");
	expect_render("[{{ labels.nosuch }}]", &d, "[]");
	expect_render("{{ humanize1024 labels.size }}B", &d, "1.5KiB");
	expect_render("{{ humanize labels.host }}", &d, "web1"); /* not a number: as it is */
	expect_render("a }} b {{value}}}}", &d, "a }} b 0.9312}}");
	d.value = 1234567;
	expect_render("{{ humanize value }}", &d, "1.235M");
	expect_render("{{ value }}", &d, "1234567");
	d.value = 3723;
	expect_render("up for {{ humanizeDuration value }}", &d, "up for 1h 2m 3s");
	d.value = NAN;
	expect_render("{{ value }} {{ humanize value }}", &d, "NaN NaN");
}

static void
test_helpers(void **state)
{
	static const struct { double v; const char *want; } hum[] = {
		{ 0, "0" }, { 1, "1" }, { 999, "999" }, { 1000, "1k" }, { 1234567, "1.235M" },
		{ -2500, "-2.5k" }, { 1e9, "1G" }, { 0.5, "500m" }, { 0.000123, "123u" },
		{ 1e27, "1000Y" }, { INFINITY, "+Inf" }, { -INFINITY, "-Inf" },
	};
	static const struct { double v; const char *want; } h1024[] = {
		{ 0, "0" }, { 512, "512" }, { 1024, "1Ki" }, { 1536, "1.5Ki" },
		{ 1048576, "1Mi" }, { 5.5 * 1073741824.0, "5.5Gi" }, { 0.5, "0.5" },
	};
	static const struct { double v; const char *want; } dur[] = {
		{ 0, "0s" }, { 1, "1s" }, { 59, "59s" }, { 1.5, "1.5s" }, { 60, "1m 0s" },
		{ 3723, "1h 2m 3s" }, { 90061, "1d 1h 1m 1s" }, { 0.5, "500ms" },
		{ 0.000002, "2us" }, { -3723, "-1h 2m 3s" }, { NAN, "NaN" },
	};
	static const struct { double v; const char *want; } pct[] = {
		{ 0.1234, "12.34%" }, { 1, "100%" }, { 0, "0%" }, { 0.00001, "0.001%" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hum) / sizeof(hum[0]); i++)
		assert_string_equal(template_humanize(buf, sizeof(buf), hum[i].v), hum[i].want);
	for (i = 0; i < sizeof(h1024) / sizeof(h1024[0]); i++)
		assert_string_equal(template_humanize1024(buf, sizeof(buf), h1024[i].v),
		    h1024[i].want);
	for (i = 0; i < sizeof(dur) / sizeof(dur[0]); i++)
		assert_string_equal(template_humanize_duration(buf, sizeof(buf), dur[i].v),
		    dur[i].want);
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
		assert_string_equal(template_humanize_percentage(buf, sizeof(buf), pct[i].v),
		    pct[i].want);
}

static void
test_errors(void **state)
{
	static const struct { const char *t; size_t col; const char *err; } bad[] = {
		{ "disk {{ labels.host", 6, "unterminated {{ (close it with }})" },
		{ "{{ value }} and {{", 17, "unterminated {{ (close it with }})" },
		{ "x {{ }}", 3, "empty action {{ }}" },
		{ "{{ humanise value }}", 4, "unknown helper \"humanise\" (expected humanize, "
		    "humanize1024, humanizeDuration or humanizePercentage)" },
		{ "{{ value | humanise }}", 12, "unknown helper \"humanise\" (expected humanize, "
		    "humanize1024, humanizeDuration or humanizePercentage)" },
		{ "CPU {{ vaule }}", 8, "unknown field \"vaule\" (expected value, name, severity, "
		    "labels.NAME or a helper: humanize, humanize1024, humanizeDuration, "
		    "humanizePercentage)" },
		{ "{{ humanize }}", 4, "humanize needs an argument, e.g. {{ humanize value }}" },
		{ "{{ labels.1x }}", 4, "\"1x\" is not a label name" },
		{ "{{ labels. }}", 4, "\"\" is not a label name" },
		{ "{{ humanize value value }}", 19, "unexpected \"value\" (an action is a field, a "
		    "helper and a field, or a field | a helper)" },
		{ "{{ value | humanize x y }}", 21, "unexpected \"x y\" (an action is a field, a "
		    "helper and a field, or a field | a helper)" },
		{ "{{ | humanize }}", 1, "a pipe needs a field before and a helper after it: "
		    "{{ value | humanize }}" },
		{ "{{ value | }}", 1, "a pipe needs a field before and a helper after it: "
		    "{{ value | humanize }}" },
	};
	char err[256];
	size_t i, col;
	char *r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		col = 0;
		err[0] = '\0';
		if (template_check(bad[i].t, &col, err, sizeof(err)) != -1)
			fail_msg("\"%s\" was accepted", bad[i].t);
		assert_string_equal(err, bad[i].err);
		assert_int_equal(col, bad[i].col);
	}
	/* a template that does not check renders as its text: the message is never lost */
	r = template_render("{{ nope }}", &data);
	assert_string_equal(r, "{{ nope }}");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
