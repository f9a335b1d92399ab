/* test_network.c: unit tests of the network probe on recorded /proc/net/dev samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe_test_host.h"

/* From probes/network.c, visible with REEVE_TESTING. */
typedef void (*netdev_fn)(void *arg, const char *name, const uint64_t *v);
int parse_netdev(const char *buf, size_t len, netdev_fn fn, void *arg);

struct ifs {
	char name[8][64];
	uint64_t v[8][16];
	size_t n;
};

static void
record(void *arg, const char *name, const uint64_t *v)
{
	struct ifs *d = arg;

	assert_true(d->n < 8);
	snprintf(d->name[d->n], sizeof(d->name[0]), "%s", name);
	memcpy(d->v[d->n], v, sizeof(d->v[0]));
	d->n++;
}

static int
parse(const char *buf, size_t len, struct ifs *d)
{
	memset(d, 0, sizeof(*d));
	return parse_netdev(buf, len, record, d);
}

static void
test_parse_recorded(void **unused)
{
	struct ifs d;
	size_t len;
	char *buf = ptest_slurp("6.18.44-fc-v669", "proc/net/dev", &len);

	assert_non_null(buf);
	assert_int_equal(parse(buf, len, &d), 4);
	assert_string_equal(d.name[0], "lo");
	assert_string_equal(d.name[3], "eth0");
	assert_int_equal(d.v[3][0], 57436997);	/* receive bytes */
	assert_int_equal(d.v[3][1], 1230);	/* receive packets */
	assert_int_equal(d.v[3][8], 56649);	/* transmit bytes */
	assert_int_equal(d.v[3][9], 701);	/* transmit packets */
	free(buf);
	/* old kernels: no space after the colon */
	buf = ptest_slurp("3.10.0", "proc/net/dev", &len);
	assert_non_null(buf);
	assert_int_equal(parse(buf, len, &d), 2);
	assert_string_equal(d.name[1], "eth0");
	assert_int_equal(d.v[1][0], 1234567890);
	assert_int_equal(d.v[1][3], 7);
	assert_int_equal(d.v[1][7], 1234);
	free(buf);
}

static void
test_parse_bad(void **unused)
{
	const char *bad =
	    "  a: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"		/* 15 counters */
	    "  b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"	/* 17 */
	    "  c: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n"
	    "   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	    "x y: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	    "  ok: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	    "  d: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16";		/* cut */
	char junk[400];
	struct ifs d;
	size_t i;

	assert_int_equal(parse(bad, strlen(bad), &d), 1);
	assert_string_equal(d.name[0], "ok");
	assert_int_equal(d.v[0][15], 16);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 13 % 256);
	assert_int_equal(parse(junk, sizeof(junk), &d), 0);
}

static void
run(const char *const *kv, struct reeve_emitter *em)
{
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	char err[256];
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_string_equal(p->name, "network");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	assert_int_equal(p->collect(st, em, err, sizeof(err)), 0);
	ptest_emitter_reset(em);
	assert_int_equal(p->collect(st, em, err, sizeof(err)), 0);
	p->destroy(st);
}

static void
test_collect(void **unused)
{
	const char *kv[] = { "root", NULL, NULL };
	struct reeve_emitter em = { 0 };
	const struct ptest_sample *s;

	kv[1] = ptest_root("5.15.0");
	run(kv, &em);
	assert_int_equal(em.n, 3 * 16);
	s = ptest_find(&em, "network_receive_bytes_total", "interface=enp3s0");
	assert_non_null(s);
	assert_int_equal(s->type, REEVE_COUNTER);
	assert_true(s->value == 98765432109.0);
	assert_true(ptest_find(&em, "network_transmit_bytes_total",
	    "interface=enp3s0")->value == 12345678901.0);
	assert_true(ptest_find(&em, "network_receive_packets_total",
	    "interface=enp3s0")->value == 87654321);
	assert_true(ptest_find(&em, "network_transmit_packets_total",
	    "interface=enp3s0")->value == 23456789);
	assert_true(ptest_find(&em, "network_receive_errors_total",
	    "interface=enp3s0")->value == 12);
	assert_true(ptest_find(&em, "network_receive_drop_total",
	    "interface=enp3s0")->value == 34);
	assert_true(ptest_find(&em, "network_transmit_errors_total",
	    "interface=enp3s0")->value == 1);
	assert_true(ptest_find(&em, "network_transmit_drop_total",
	    "interface=enp3s0")->value == 2);
	assert_true(ptest_find(&em, "network_transmit_carrier_total",
	    "interface=enp3s0")->value == 4);
	assert_non_null(ptest_find(&em, "network_receive_bytes_total", "interface=lo"));
	ptest_emitter_free(&em);
}

static void
test_filters(void **unused)
{
	const char *kv[] = { "root", NULL, "exclude", "^(lo|docker[0-9]+)$", NULL };
	const char *kv2[] = { "root", NULL, "include", "^docker", NULL };
	struct reeve_emitter em = { 0 };

	kv[1] = ptest_root("5.15.0");
	run(kv, &em);
	assert_int_equal(em.n, 16);
	assert_non_null(ptest_find(&em, "network_receive_bytes_total", "interface=enp3s0"));
	kv2[1] = ptest_root("5.15.0");
	run(kv2, &em);
	assert_int_equal(em.n, 16);
	assert_true(ptest_find(&em, "network_transmit_bytes_total",
	    "interface=docker0")->value == 1234);
	ptest_emitter_free(&em);
}

static void
test_bad_options(void **unused)
{
	const char *kv[] = { "include", "*eth", NULL };
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_non_null(strstr(cfg.error, "include: invalid regular expression '*eth'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_recorded),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests_name("network", tests, NULL, NULL);
}
