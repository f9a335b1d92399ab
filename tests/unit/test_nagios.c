/* test_nagios.c: unit tests of the Nagios plugin output parser (probes/nagios.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nagios.h"

#define MIB (1024.0 * 1024)

static void
parse(const char *text, struct nagios_output *o)
{
	nagios_parse(text, strlen(text), o);
}

static const struct nagios_perf *
find(const struct nagios_output *o, const char *label)
{
	for (size_t i = 0; i < o->nperf; i++)
		if (strcmp(o->perf[i].label, label) == 0)
			return &o->perf[i];
	return NULL;
}

static void
test_status_only(void **unused)
{
	struct nagios_output o;

	parse("OK - all fine\nsecond line\n", &o);
	assert_string_equal(o.status, "OK - all fine");
	assert_int_equal(o.nperf, 0);
	assert_int_equal(o.nbad, 0);
	nagios_output_free(&o);
	parse("", &o);
	assert_string_equal(o.status, "");
	assert_int_equal(o.nperf, 0);
	nagios_output_free(&o);
	parse("  CRITICAL: down  \r\n", &o);
	assert_string_equal(o.status, "CRITICAL: down");
	nagios_output_free(&o);
	parse("|", &o);
	assert_string_equal(o.status, "");
	assert_int_equal(o.nperf + o.nbad, 0);
	nagios_output_free(&o);
	/* control characters of the status become spaces */
	parse("bad\tstatus\x01here | a=1\n", &o);
	assert_string_equal(o.status, "bad status here");
	assert_int_equal(o.nperf, 1);
	nagios_output_free(&o);
	nagios_output_free(NULL);
}

/* The example of the plugin development guidelines: perfdata on the first and later lines. */
static void
test_guidelines_example(void **unused)
{
	static const char text[] =
	    "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
	    "/ 15272 MB (77%);\n"
	    "/boot 68 MB (69%);\n"
	    "/home 69357 MB (27%);\n"
	    "/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
	    "/home=69357MB;253404;253409;0;253414 \n"
	    "/var/log=818MB;970;975;0;980\n";
	struct nagios_output o;
	const struct nagios_perf *p;

	parse(text, &o);
	assert_string_equal(o.status, "DISK OK - free space: / 3326 MB (56%);");
	assert_int_equal(o.nbad, 0);
	assert_int_equal(o.nperf, 4);
	assert_non_null(p = find(&o, "/"));
	assert_int_equal(p->unit, NAGIOS_UNIT_BYTES);
	assert_true(p->value == 2643 * MIB);
	assert_true(p->has_warn && p->warn == 5948 * MIB);
	assert_true(p->has_crit && p->crit == 5958 * MIB);
	assert_non_null(p = find(&o, "/boot"));
	assert_true(p->value == 68 * MIB);
	assert_non_null(p = find(&o, "/home"));
	assert_true(p->crit == 253409 * MIB);
	assert_non_null(p = find(&o, "/var/log"));
	assert_true(p->value == 818 * MIB);
	/* the long text before the second '|' is not perfdata */
	assert_null(find(&o, "(77%);"));
	nagios_output_free(&o);
}

static void
test_quoted_labels(void **unused)
{
	struct nagios_output o;
	const struct nagios_perf *p;

	parse("OK | 'my label'=5s;1;2 'it''s'=10ms 'a=b c'=1 '''q'''=2 'é ✓'=3\n", &o);
	assert_int_equal(o.nbad, 0);
	assert_int_equal(o.nperf, 5);
	assert_non_null(p = find(&o, "my label"));
	assert_int_equal(p->unit, NAGIOS_UNIT_SECONDS);
	assert_true(p->value == 5 && p->warn == 1 && p->crit == 2);
	assert_non_null(p = find(&o, "it's"));
	assert_true(p->value == 0.01);
	assert_non_null(find(&o, "a=b c"));
	assert_non_null(find(&o, "'q'"));
	assert_non_null(find(&o, "é ✓"));
	nagios_output_free(&o);
}

static void
test_units(void **unused)
{
	struct nagios_output o;
	const struct nagios_perf *p;

	parse("OK | t=250us;100;200 s=2s pct=42.5%;80;90;0;100 b=512B k=2KB m=1MB g=3GB "
	    "t2=1TB ki=1KiB gi=2GiB n=7 c=123c temp=41.5dBm neg=-3.5 e=1.5e3 plus=+4\n", &o);
	assert_int_equal(o.nbad, 0);
	assert_non_null(p = find(&o, "t"));
	assert_int_equal(p->unit, NAGIOS_UNIT_SECONDS);
	assert_true(p->value == 250e-6 && p->warn == 100e-6 && p->crit == 200e-6);
	assert_non_null(p = find(&o, "s"));
	assert_true(p->value == 2);
	assert_non_null(p = find(&o, "pct"));
	assert_int_equal(p->unit, NAGIOS_UNIT_RATIO);
	assert_true(p->value == 0.425 && p->warn == 0.8 && p->crit == 0.9);
	assert_non_null(p = find(&o, "b"));
	assert_int_equal(p->unit, NAGIOS_UNIT_BYTES);
	assert_true(p->value == 512);
	assert_true(find(&o, "k")->value == 2048);
	assert_true(find(&o, "m")->value == MIB);
	assert_true(find(&o, "g")->value == 3 * 1024 * MIB);
	assert_true(find(&o, "t2")->value == 1024.0 * 1024 * MIB);
	assert_true(find(&o, "ki")->value == 1024);
	assert_true(find(&o, "gi")->value == 2 * 1024 * MIB);
	assert_non_null(p = find(&o, "n"));
	assert_int_equal(p->unit, NAGIOS_UNIT_NONE);
	assert_true(p->value == 7 && !p->has_warn && !p->has_crit);
	assert_non_null(p = find(&o, "c"));
	assert_int_equal(p->unit, NAGIOS_UNIT_COUNTER);
	assert_true(p->value == 123);
	/* a unit the guidelines do not define: the number as printed */
	assert_non_null(p = find(&o, "temp"));
	assert_int_equal(p->unit, NAGIOS_UNIT_NONE);
	assert_true(p->value == 41.5);
	assert_true(find(&o, "neg")->value == -3.5);
	assert_true(find(&o, "e")->value == 1500);
	assert_true(find(&o, "plus")->value == 4);
	assert_string_equal(nagios_unit_name(NAGIOS_UNIT_BYTES), "bytes");
	assert_string_equal(nagios_unit_name(NAGIOS_UNIT_RATIO), "ratio");
	nagios_output_free(&o);
}

static void
test_thresholds(void **unused)
{
	struct nagios_output o;
	const struct nagios_perf *p;

	/* ranges are valid but not plain numbers: not reported as thresholds */
	parse("OK | a=5;10:20;@5:6 b=5;~:10;; c=1;;;; d=2;3 e=1;5:;~: f=1MB;;;0MB;9\n", &o);
	assert_int_equal(o.nbad, 0);
	assert_int_equal(o.nperf, 6);
	p = find(&o, "a");
	assert_false(p->has_warn || p->has_crit);
	p = find(&o, "b");
	assert_false(p->has_warn || p->has_crit);
	p = find(&o, "c");
	assert_false(p->has_warn || p->has_crit);
	p = find(&o, "d");
	assert_true(p->has_warn && p->warn == 3 && !p->has_crit);
	p = find(&o, "e");
	assert_false(p->has_warn || p->has_crit);
	nagios_output_free(&o);
}

/* One malformed item: skipped, counted, explained; the others kept. */
static void
check_bad(const char *item, const char *why)
{
	char text[512];
	struct nagios_output o;

	snprintf(text, sizeof(text), "WARNING - x | good=1 %s last=2\n", item);
	parse(text, &o);
	assert_string_equal(o.status, "WARNING - x");
	assert_int_equal(o.nbad, 1);
	if (strstr(o.bad, why) == NULL || strncmp(o.bad, "perfdata item 2 (", 17) != 0)
		fail_msg("'%s': got '%s', expected '%s'", item, o.bad, why);
	assert_non_null(find(&o, "good"));
	if (strcmp(why, "unterminated quote") != 0)
		assert_non_null(find(&o, "last"));
	nagios_output_free(&o);
}

static void
test_malformed(void **unused)
{
	check_bad("a=", "no value");
	check_bad("=5", "empty label");
	check_bad("''=5", "empty label");
	check_bad("novalue", "no '='");
	check_bad("'q'x=1", "no '=' right after the quoted label");
	check_bad("a=x", "the value is not a number");
	check_bad("a=1;2;3;4;5;6", "more than 5");
	check_bad("a=1;x", "warning threshold");
	check_bad("a=1;;x:y", "critical threshold");
	check_bad("a=1;;;x", "minimum");
	check_bad("a=1;;;;5s", "maximum");
	check_bad("a=-1c", "counter (c) is negative");
	check_bad("a=1e999", "not a number");
	check_bad("a=inf", "not a number");
	check_bad("a=nan", "not a number");
	check_bad("a=1.2.3", "the value is not a number");
	check_bad("a=1-2", "the value is not a number");
	check_bad("a=1\x01", "control character, ' or =");
	check_bad("a=.", "not a number");
	check_bad("a=1%=", "control character, ' or =");
	check_bad("good=3", "appeared before");
	check_bad("'\xff\xfe'=1", "not UTF-8");
	check_bad("'\xc0\x80'=1", "not UTF-8");
	check_bad("'\xed\xa0\x80'=1", "not UTF-8");
	check_bad("'\xc2\x85'=1", "not UTF-8");
	check_bad("'abc=5", "unterminated quote");
}

static void
test_undetermined_and_limits(void **unused)
{
	struct nagios_output o;
	char *text, label[200];
	size_t i, off;

	parse("UNKNOWN | a=U b=1\n", &o);
	assert_int_equal(o.nbad, 0);
	assert_int_equal(o.nperf, 1);
	assert_null(find(&o, "a"));
	nagios_output_free(&o);

	memset(label, 'x', NAGIOS_LABEL_MAX);
	snprintf(label + NAGIOS_LABEL_MAX, sizeof(label) - NAGIOS_LABEL_MAX, "=1");
	text = malloc(2 * NAGIOS_LABEL_MAX + 64);
	assert_non_null(text);
	snprintf(text, 2 * NAGIOS_LABEL_MAX + 64, "OK | %s x%s\n", label, label);
	parse(text, &o);
	assert_int_equal(o.nperf, 1);	/* 128 bytes is fine, 129 is not */
	assert_int_equal(o.nbad, 1);
	assert_non_null(strstr(o.bad, "longer than 128"));
	nagios_output_free(&o);
	free(text);

	text = malloc(20 * (NAGIOS_PERF_MAX + 10) + 16);
	assert_non_null(text);
	off = (size_t)sprintf(text, "OK |");
	for (i = 0; i < NAGIOS_PERF_MAX + 5; i++)
		off += (size_t)sprintf(text + off, " m%zu=%zu", i, i);
	parse(text, &o);
	assert_int_equal(o.nperf, NAGIOS_PERF_MAX);
	assert_int_equal(o.nbad, 5);
	assert_non_null(strstr(o.bad, "more than 1000"));
	assert_true(find(&o, "m999")->value == 999);
	nagios_output_free(&o);
	free(text);
}

static void
test_garbage(void **unused)
{
	static const char nul[] = "OK\0hidden | a=1\0 b=2 c\0=3 d=4\n";
	struct nagios_output o;
	char junk[2000];
	size_t i;

	nagios_parse(nul, sizeof(nul) - 1, &o);
	/* the status is cut at nothing: its NUL shows as a space */
	assert_string_equal(o.status, "OK hidden");
	assert_non_null(find(&o, "b"));
	assert_non_null(find(&o, "d"));
	assert_null(find(&o, "a"));
	assert_int_equal(o.nbad, 2);
	nagios_output_free(&o);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 % 251);
	nagios_parse(junk, sizeof(junk), &o);
	for (i = 0; i < o.nperf; i++)
		assert_true(strlen(o.perf[i].label) <= NAGIOS_LABEL_MAX);
	nagios_output_free(&o);
	/* the length is honoured: nothing past it is read */
	nagios_parse("OK | a=1 b=2", 8, &o);
	assert_int_equal(o.nperf, 1);
	assert_string_equal(o.perf[0].label, "a");
	nagios_output_free(&o);
	/* a long snippet is cut in the message */
	parse("OK | 'a very long quoted label that goes on and on and on'=x\n", &o);
	assert_int_equal(o.nbad, 1);
	assert_non_null(strstr(o.bad, "...'"));
	nagios_output_free(&o);
}

static void
test_status_codes(void **unused)
{
	assert_int_equal(nagios_status(0, 0), 0);
	assert_int_equal(nagios_status(1, 0), 1);
	assert_int_equal(nagios_status(2, 0), 2);
	assert_int_equal(nagios_status(3, 0), 3);
	assert_int_equal(nagios_status(4, 0), 3);
	assert_int_equal(nagios_status(255, 0), 3);
	assert_int_equal(nagios_status(-1, 0), 3);
	assert_int_equal(nagios_status(0, 1), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_only),
		cmocka_unit_test(test_guidelines_example),
		cmocka_unit_test(test_quoted_labels),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_undetermined_and_limits),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_status_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
