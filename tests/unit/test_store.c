/* test_store.c: series path encoding, RRA presets, and the store writing real RRD files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <rrd.h>

#include "store.h"
#include "util.h"

static void
roundtrip(const char *name, const struct reeve_label *l, size_t n)
{
	char *path = store_path_encode(name, l, n), *dname;
	struct reeve_label *dl;
	size_t dn;

	assert_non_null(path);
	/* never leaves the directory: no absolute path, no ".." component */
	assert_true(path[0] != '/');
	assert_null(strstr(path, "/../"));
	assert_true(strncmp(path, "../", 3) != 0);
	assert_int_equal(store_path_decode(path, &dname, &dl, &dn), 0);
	assert_string_equal(dname, name);
	assert_int_equal(dn, n);
	for (size_t i = 0; i < n; i++) {
		/* labels come back sorted by name */
		size_t j = 0;
		while (j < n && strcmp(l[j].name, dl[i].name) != 0)
			j++;
		assert_true(j < n);
		assert_string_equal(dl[i].value, l[j].value);
	}
	free(dname);
	store_labels_free(dl, dn);
	free(path);
}

static void
test_encode_plain(void **state)
{
	struct reeve_label l[2] = { { "mode", "user" }, { "cpu", "0" } };
	char *p;

	(void)state;
	p = store_path_encode("load1", NULL, 0);
	assert_string_equal(p, "load1.rrd");
	free(p);
	p = store_path_encode("cpu_seconds_total", l, 2);
	assert_string_equal(p, "cpu_seconds_total/cpu=0/mode=user.rrd");
	free(p);
	roundtrip("cpu_seconds_total", l, 2);
}

static void
test_encode_hostile(void **state)
{
	static const char *const values[] = {
		"../x", "/", "..", ".", "a/b/../../c", "%", "%2F", "a=b,c", "\"quoted\"", "sp ace",
		"new\nline", "tab\t", "\xff\xfe\x80junk\x01", "é-ü", ".rrd", "x.rrd", "-", "_",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct reeve_label l[2] = { { "mountpoint", values[i] }, { "device", values[i] } };
		char *p = store_path_encode("filesystem_free_bytes", l, 2);

		assert_non_null(p);
		/* exactly one '/' per label: no value contributes a separator */
		size_t slashes = 0;
		for (char *c = p; *c; c++)
			slashes += *c == '/';
		assert_int_equal(slashes, 2);
		free(p);
		roundtrip("filesystem_free_bytes", l, 2);
	}
}

static void
test_encode_injective(void **state)
{
	/* values that differ only in characters that get encoded must give different paths */
	struct reeve_label a = { "v", "a/b" }, b = { "v", "a%2Fb" }, c = { "v", "a_b" };
	char *pa = store_path_encode("m", &a, 1), *pb = store_path_encode("m", &b, 1),
	     *pc = store_path_encode("m", &c, 1);

	(void)state;
	assert_string_not_equal(pa, pb);
	assert_string_not_equal(pa, pc);
	assert_string_not_equal(pb, pc);
	free(pa);
	free(pb);
	free(pc);
}

static void
test_encode_limits(void **state)
{
	char big[300];
	struct reeve_label l = { "v", big }, dup[2] = { { "a", "1" }, { "a", "2" } };
	struct reeve_label badname = { "1abc", "x" }, empty = { "a", "" };

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(store_path_encode("m", &l, 1));         /* component over 255 bytes */
	big[240] = '\0';
	char *p = store_path_encode("m", &l, 1);
	assert_non_null(p);
	free(p);
	big[100] = '\0';
	memset(big, '/', 100);                               /* 300 bytes once encoded */
	assert_null(store_path_encode("m", &l, 1));
	assert_null(store_path_encode("bad-name", NULL, 0)); /* invalid metric name */
	assert_null(store_path_encode("m", dup, 2));         /* duplicate label */
	assert_null(store_path_encode("m", &badname, 1));    /* invalid label name */
	assert_null(store_path_encode("m", &empty, 1));      /* empty value: decode rejects it */
}

static void
test_decode_rejects(void **state)
{
	static const char *const bad[] = {
		"", ".rrd", "x", "x.rr", "/abs.rrd", "../x.rrd", "m/../x.rrd", "m/a.rrd", "m/a=.rrd",
		"m/a=%2.rrd", "m/a=%zz.rrd", "m/a=%41.rrd" /* 'A' must not be encoded */, "m/a=x y.rrd",
		"m/b=1/a=2.rrd" /* unsorted */, "m/a=1/a=1.rrd", "m/1a=1.rrd", "bad-name.rrd", "m/a=%00.rrd",
	};
	char big[300];
	char *name = NULL;
	struct reeve_label *l = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store_path_decode(bad[i], &name, &l, &n) == 0) {
			fail_msg("decoded a bad path: '%s'", bad[i]);
		}
	}
	/* a component longer than encode makes: "a=000...0.rrd" of 256 bytes */
	snprintf(big, sizeof(big), "m/a=%0*d.rrd", 250, 0);
	assert_int_equal(store_path_decode(big, &name, &l, &n), -1);
	snprintf(big, sizeof(big), "m/a=%0*d.rrd", 249, 0);	/* one byte shorter: 255 */
	assert_int_equal(store_path_decode(big, &name, &l, &n), 0);
	free(name);
	store_labels_free(l, n);
}

static void
test_presets(void **state)
{
	char args[16][64];

	(void)state;
	assert_int_equal(store_preset_rras("default", 10, args, 16), 12);
	assert_string_equal(args[0], "RRA:MIN:0.5:1:8640");
	assert_string_equal(args[1], "RRA:AVERAGE:0.5:1:8640");
	assert_string_equal(args[3], "RRA:MIN:0.5:30:2016");     /* 5 min for 7 days */
	assert_string_equal(args[11], "RRA:MAX:0.5:2160:1464");  /* 6 h for 366 days */
	assert_int_equal(store_preset_rras("compact", 10, args, 16), 9);
	assert_string_equal(args[0], "RRA:MIN:0.5:6:1440");
	assert_int_equal(store_preset_rras("long", 60, args, 16), 12);
	assert_int_equal(store_preset_rras("nope", 10, args, 16), -1);
	assert_int_equal(store_preset_rras("default", 0, args, 16), -1);
}

/* The store writes real files that rrdtool's library reads back; errors are counted. */
static void
test_store_writes(void **state)
{
	char dir[] = "/tmp/reeve-store-XXXXXX", err[256];
	struct store_params p = { NULL, NULL, "default", 1000, NULL, 0, NULL };
	struct reeve_label l = { "mountpoint", "/var/../x" };
	struct store_stats st;
	struct store *s;
	struct store_file *g, *c;
	time_t last;
	unsigned long ds_cnt;
	char **names;
	rrd_value_t *data;
	time_t start, end;
	unsigned long step = 1; /* in/out: the resolution wanted */

	(void)state;
	assert_non_null(mkdtemp(dir));
	p.data_dir = dir;
	s = store_new(&p, err, sizeof(err));
	assert_non_null(s);
	g = store_file_get(s, "test_gauge", &l, 1, REEVE_GAUGE, 1, err, sizeof(err));
	c = store_file_get(s, "test_total", NULL, 0, REEVE_COUNTER, 1, err, sizeof(err));
	assert_non_null(g);
	assert_non_null(c);
	assert_ptr_equal(g, store_file_get(s, "test_gauge", &l, 1, REEVE_GAUGE, 1, err, sizeof(err)));
	double t0 = 1700000000;
	for (int i = 0; i < 10; i++) {
		store_put(s, g, t0 + i, 5.5 + i);
		store_put(s, c, t0 + i, 100 + 2.5 * i);
	}
	store_put(s, g, t0 + 9.5, 99); /* same second: dropped, one value a second */
	store_sync(s);
	store_get_stats(s, &st);
	assert_int_equal(st.updates, 20);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.creates, 2);
	assert_non_null(strstr(store_file_path(g), "/rrd/test_gauge/mountpoint=%2Fvar%2F..%2Fx.rrd"));
	rrd_clear_error();
	last = rrd_last_r(store_file_path(g));
	assert_int_equal(last, (time_t)t0 + 9);
	/* the counter is stored as a rate: 2.5 per second */
	start = (time_t)t0 + 2;
	end = (time_t)t0 + 9;
	assert_int_equal(rrd_fetch_r(store_file_path(c), "AVERAGE", &start, &end, &step, &ds_cnt,
	    &names, &data), 0);
	assert_true(step >= 1);
	int seen = 0;
	for (time_t t = start; t < end; t += (time_t)step) {
		double v = data[(t - start) / (time_t)step];
		if (v == v) {
			assert_true(v > 2.49 && v < 2.51);
			seen++;
		}
	}
	assert_true(seen > 0);
	free(names[0]);
	free(names);
	free(data);
	/* an update older than the file is an error, counted, and the store goes on */
	store_put(s, g, t0 - 100, 1);
	store_sync(s);
	store_get_stats(s, &st);
	assert_int_equal(st.updates, 20);
	store_free(s, 5);
	/* a new store finds the files again */
	s = store_new(&p, err, sizeof(err));
	assert_non_null(s);
	store_get_stats(s, &st);
	assert_int_equal(st.files, 2);
	store_free(s, 5);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_plain),
		cmocka_unit_test(test_encode_hostile),
		cmocka_unit_test(test_encode_injective),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_store_writes),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
