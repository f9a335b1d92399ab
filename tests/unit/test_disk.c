/* test_disk.c: unit tests of the disk probe on recorded /proc/diskstats samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probe_test_host.h"

/* From probes/disk.c, visible with REEVE_TESTING. */
typedef void (*disk_fn)(void *arg, const char *name, const uint64_t *v, size_t nv);
int parse_diskstats(const char *buf, size_t len, disk_fn fn, void *arg);

struct devs {
	char name[16][64];
	uint64_t v[16][17];
	size_t nv[16];
	size_t n;
};

static void
record(void *arg, const char *name, const uint64_t *v, size_t nv)
{
	struct devs *d = arg;

	assert_true(d->n < 16);
	assert_true(nv == 11 || nv == 15 || nv == 17);
	snprintf(d->name[d->n], sizeof(d->name[0]), "%s", name);
	memcpy(d->v[d->n], v, nv * sizeof(*v));
	d->nv[d->n] = nv;
	d->n++;
}

static int
parse(const char *buf, size_t len, struct devs *d)
{
	memset(d, 0, sizeof(*d));
	return parse_diskstats(buf, len, record, d);
}

static void
test_parse_formats(void **unused)
{
	struct devs d;
	size_t len;
	char *buf;
	const char *f18 = "   8       0 sdc 10 1 80 5 20 2 160 7 0 12 14 3 0 48 2\n";

	/* 20 fields (5.5+), recorded on this machine */
	buf = ptest_slurp("6.18.44-fc-v669", "proc/diskstats", &len);
	assert_non_null(buf);
	assert_int_equal(parse(buf, len, &d), 8 + 2);
	assert_string_equal(d.name[8], "vda");
	assert_int_equal(d.nv[8], 17);
	assert_int_equal(d.v[8][0], 31077);		/* reads completed */
	assert_int_equal(d.v[8][2], 2691058);		/* sectors read */
	assert_int_equal(d.v[8][9], 3720);		/* ms doing I/O */
	assert_int_equal(d.v[8][16], 42);		/* ms flushing */
	free(buf);

	/* 14 fields (old): the 7-field partition line sda1 is skipped */
	buf = ptest_slurp("3.10.0", "proc/diskstats", &len);
	assert_non_null(buf);
	assert_int_equal(parse(buf, len, &d), 5);
	assert_string_equal(d.name[2], "sda");
	assert_int_equal(d.nv[2], 11);
	assert_int_equal(d.v[2][2], 2735422);
	assert_string_equal(d.name[3], "sda2");
	free(buf);

	/* 18 fields (4.18+) */
	assert_int_equal(parse(f18, strlen(f18), &d), 1);
	assert_int_equal(d.nv[0], 15);
	assert_int_equal(d.v[0][13], 48);
}

static void
test_parse_bad(void **unused)
{
	const char *bad =
	    "   8 0 sda 1 2 3 4 5 6 7 8 9 10\n"		/* 10 stats */
	    "   8 0 sdb 1 2 3 4 5 6 7 8 9 10 x\n"		/* garbage */
	    "   x 0 sdc 1 2 3 4 5 6 7 8 9 10 11\n"		/* bad major */
	    "   8 0\n"
	    "\n"
	    "   8 0 sdd 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n"	/* future */
	    "   8 0 sde 1 2 3 4 5 6 7 8 9 10 11";		/* cut: no newline */
	char junk[300];
	struct devs d;
	size_t i;

	assert_int_equal(parse(bad, strlen(bad), &d), 1);
	assert_string_equal(d.name[0], "sdd");
	assert_int_equal(d.nv[0], 17);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 31 % 256);
	assert_int_equal(parse(junk, sizeof(junk), &d), 0);
}

static const char *
device_value(const struct reeve_emitter *em, const char *metric, const char *dev, double *v)
{
	char labels[128];
	const struct ptest_sample *s;

	snprintf(labels, sizeof(labels), "device=%s", dev);
	if ((s = ptest_find(em, metric, labels)) == NULL)
		return NULL;
	*v = s->value;
	return s->name;
}

static void
test_collect_defaults(void **unused)
{
	const char *kv[] = { "root", NULL, NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st = NULL;
	double v;
	int round;

	kv[1] = ptest_root("5.15.0");
	ptest_config(&cfg, kv);
	assert_string_equal(p->name, "disk");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	for (round = 0; round < 2; round++) {	/* the second uses the cached decisions */
		ptest_emitter_reset(&em);
		assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
		assert_null(device_value(&em, "disk_reads_completed_total", "loop0", &v));
		assert_non_null(device_value(&em, "disk_reads_completed_total", "nvme0n1", &v));
		assert_true(v == 198234);
		assert_non_null(device_value(&em, "disk_read_bytes_total", "nvme0n1", &v));
		assert_true(v == 12345678.0 * 512);
		assert_non_null(device_value(&em, "disk_written_bytes_total", "nvme0n1", &v));
		assert_true(v == 23456789.0 * 512);
		assert_non_null(device_value(&em, "disk_writes_completed_total", "nvme0n1", &v));
		assert_true(v == 345678);
		assert_non_null(device_value(&em, "disk_io_time_seconds_total", "nvme0n1", &v));
		assert_true(v == 456.789);
		assert_non_null(device_value(&em, "disk_read_time_seconds_total", "nvme0n1", &v));
		assert_true(v == 87.654);
		assert_non_null(device_value(&em, "disk_write_time_seconds_total", "nvme0n1", &v));
		assert_true(v == 234.567);
		assert_non_null(device_value(&em, "disk_io_now", "nvme0n1", &v));
		assert_true(v == 2);
		assert_non_null(device_value(&em, "disk_flush_requests_total", "nvme0n1", &v));
		assert_true(v == 4567);
		assert_non_null(device_value(&em, "disk_discarded_bytes_total", "nvme0n1", &v));
		assert_true(v == 567890.0 * 512);
		/* partitions are kept */
		assert_non_null(device_value(&em, "disk_reads_completed_total", "nvme0n1p1", &v));
		assert_int_equal(ptest_count(&em, "disk_io_now"), 3);
		assert_int_equal(em.n, 3 * 17);
	}
	p->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_collect_old_and_filters(void **unused)
{
	const char *kv[] = { "root", NULL, "include", "^(sd|dm-)", "exclude", "[0-9]$", NULL };
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	struct reeve_emitter em = { 0 };
	char err[256];
	void *st = NULL;
	double v;

	kv[1] = ptest_root("3.10.0");
	ptest_config(&cfg, kv);
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	assert_int_equal(p->collect(st, &em, err, sizeof(err)), 0);
	/* only sda: sda2 and dm-0 end in a digit, ram0 and loop0 are not included */
	assert_int_equal(em.n, 11);
	assert_non_null(device_value(&em, "disk_written_bytes_total", "sda", &v));
	assert_true(v == 5123400.0 * 512);
	assert_int_equal(ptest_count(&em, "disk_flush_requests_total"), 0);
	p->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_bad_options(void **unused)
{
	const char *kv[] = { "exclude", "(loop", NULL };
	const char *kv2[] = { "include", "[", "root", "/nonexistent", NULL };
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_int_equal(cfg.nerrors, 1);
	assert_non_null(strstr(cfg.error, "exclude: invalid regular expression '(loop'"));
	ptest_config(&cfg, kv2);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_int_equal(cfg.nerrors, 2);	/* every error is reported, not only the first */
	assert_non_null(strstr(cfg.error, "include: "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_formats),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_collect_defaults),
		cmocka_unit_test(test_collect_old_and_filters),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests_name("disk", tests, NULL, NULL);
}
