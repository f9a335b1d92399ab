/* test_filter.c: unit tests of probes/filter.c, the include/exclude options of the probes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter.h"
#include "probe_test_host.h"

static void
test_init(void **unused)
{
	const char *none[] = { NULL };
	const char *empty[] = { "exclude", "", NULL };
	const char *two[] = { "include", "^sd", "include", "^nvme", NULL };
	const char *bad[] = { "include", "(sd", NULL };
	struct reeve_probe_config cfg;
	struct filter inc, exc;

	/* absent: the default, if any */
	ptest_config(&cfg, none);
	assert_int_equal(filter_init(&inc, &cfg, ptest_host(), "include", NULL), 0);
	assert_int_equal(inc.set, 0);
	assert_int_equal(filter_init(&exc, &cfg, ptest_host(), "exclude", "^loop"), 0);
	assert_int_equal(exc.set, 1);
	assert_int_equal(filter_pass(&inc, &exc, "sda"), 1);
	assert_int_equal(filter_pass(&inc, &exc, "loop0"), 0);
	filter_free(&exc);
	assert_int_equal(exc.set, 0);
	filter_free(&exc);

	/* empty: no filter, even over a default */
	ptest_config(&cfg, empty);
	assert_int_equal(filter_init(&exc, &cfg, ptest_host(), "exclude", "^loop"), 0);
	assert_int_equal(exc.set, 0);
	assert_int_equal(filter_pass(&inc, &exc, "loop0"), 1);

	/* repeated: the last value */
	ptest_config(&cfg, two);
	assert_int_equal(filter_init(&inc, &cfg, ptest_host(), "include", NULL), 0);
	assert_int_equal(filter_pass(&inc, &exc, "nvme0n1"), 1);
	assert_int_equal(filter_pass(&inc, &exc, "sda"), 0);
	filter_free(&inc);
	assert_null(ptest_unasked(&cfg));

	/* invalid: reported against the key */
	ptest_config(&cfg, bad);
	assert_int_equal(filter_init(&inc, &cfg, ptest_host(), "include", NULL), -1);
	assert_int_equal(inc.set, 0);
	assert_int_equal(cfg.nerrors, 1);
	assert_non_null(strstr(cfg.error, "include: invalid regular expression '(sd'"));
}

static void
test_cache(void **unused)
{
	const char *kv[] = { "include", "^eth", "exclude", "^eth1$", NULL };
	struct reeve_probe_config cfg;
	struct filter inc, exc;
	struct filter_cache nc;
	char longname[100];
	size_t i;

	memset(&nc, 0, sizeof(nc));
	ptest_config(&cfg, kv);
	assert_int_equal(filter_init(&inc, &cfg, ptest_host(), "include", NULL), 0);
	assert_int_equal(filter_init(&exc, &cfg, ptest_host(), "exclude", NULL), 0);

	assert_int_equal(filter_cache_want(&nc, 0, "lo", &inc, &exc), 0);
	assert_int_equal(filter_cache_want(&nc, 1, "eth0", &inc, &exc), 1);
	assert_int_equal(filter_cache_want(&nc, 2, "eth1", &inc, &exc), 0);
	assert_int_equal(nc.n, 3);

	/* another name at a known position is decided again */
	assert_int_equal(filter_cache_want(&nc, 1, "eth1", &inc, &exc), 0);
	assert_int_equal(filter_cache_want(&nc, 2, "eth2", &inc, &exc), 1);
	assert_int_equal(nc.n, 3);

	/* more names than the first allocation holds */
	for (i = 3; i < 40; i++)
		assert_int_equal(filter_cache_want(&nc, i, i % 2 ? "eth7" : "wlan0", &inc, &exc),
		    (int)(i % 2));
	assert_int_equal(nc.n, 40);
	assert_int_equal(filter_cache_want(&nc, 0, "lo", &inc, &exc), 0);
	assert_int_equal(filter_cache_want(&nc, 39, "eth7", &inc, &exc), 1);

	/* a name longer than the cache keeps is still decided right, each time */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "eth", 3);
	assert_int_equal(filter_cache_want(&nc, 5, longname, &inc, &exc), 1);
	assert_int_equal(filter_cache_want(&nc, 5, longname, &inc, &exc), 1);

	filter_cache_free(&nc);
	assert_null(nc.v);
	assert_int_equal(nc.n, 0);
	filter_cache_free(&nc);
	filter_free(&inc);
	filter_free(&exc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
