/* test_proc.c: unit tests of probes/proc.c, the /proc file reading shared by the probes. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probe_test_host.h"
#include "proc.h"

static void
test_join_path(void **unused)
{
	char dst[PATH_MAX], small[8];

	assert_int_equal(proc_join_path(dst, sizeof(dst), "/", "/proc/stat"), 0);
	assert_string_equal(dst, "/proc/stat");
	assert_int_equal(proc_join_path(dst, sizeof(dst), "", "/proc/stat"), 0);
	assert_string_equal(dst, "/proc/stat");
	assert_int_equal(proc_join_path(dst, sizeof(dst), "/srv/host//", "/proc/stat"), 0);
	assert_string_equal(dst, "/srv/host/proc/stat");
	errno = 0;
	assert_int_equal(proc_join_path(small, sizeof(small), "/srv", "/proc"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(proc_join_path(small, sizeof(small), "/srv", "/pr"), 0);
	assert_string_equal(small, "/srv/pr");
}

/* Replace the content of dir/name. */
static void
put_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
test_file_read(void **unused)
{
	char dir[] = "/tmp/test_proc.XXXXXX", path[PATH_MAX];
	struct proc_file f;
	size_t biglen = 3 * 4096 + 17, i;
	char *big = malloc(biglen);

	assert_non_null(big);
	for (i = 0; i < biglen; i++)
		big[i] = (char)('a' + i % 26);
	assert_non_null(mkdtemp(dir));
	put_file(dir, "big", big, biglen);

	/* a file larger than the first buffer is read whole, then NUL-terminated */
	assert_int_equal(proc_file_open(&f, dir, "/big"), 0);
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_string_equal(f.path, path);
	assert_int_equal(proc_file_read(&f), 0);
	assert_int_equal(f.len, biglen);
	assert_memory_equal(f.buf, big, biglen);
	assert_int_equal(f.buf[f.len], '\0');

	/* each read starts again at offset 0 and sees the new content */
	put_file(dir, "big", "short\n", 6);
	assert_int_equal(proc_file_read(&f), 0);
	assert_int_equal(f.len, 6);
	assert_string_equal(f.buf, "short\n");
	proc_file_close(&f);
	assert_int_equal(f.fd, -1);
	assert_null(f.buf);
	proc_file_close(&f);

	/* a failed open leaves nothing to free, and says which path */
	errno = 0;
	assert_int_equal(proc_file_open(&f, dir, "/missing"), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_string_equal(f.path, path);
	assert_int_equal(f.fd, -1);
	assert_null(f.buf);
	proc_file_close(&f);

	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(big);
}

static void
test_lines_and_fields(void **unused)
{
	const char buf[] = "cpu  1\t 22\n\nlast line cut";
	const char *p = buf, *end = buf + strlen(buf), *line, *eol, *f;
	size_t flen;

	assert_non_null(line = proc_next_line(&p, end, &eol));
	assert_ptr_equal(line, buf);
	assert_int_equal(*eol, '\n');
	assert_non_null(f = proc_next_field(&line, eol, &flen));
	assert_int_equal(flen, 3);
	assert_memory_equal(f, "cpu", 3);
	assert_non_null(f = proc_next_field(&line, eol, &flen));
	assert_int_equal(flen, 1);
	assert_memory_equal(f, "1", 1);
	assert_non_null(f = proc_next_field(&line, eol, &flen));
	assert_int_equal(flen, 2);
	assert_memory_equal(f, "22", 2);
	assert_null(proc_next_field(&line, eol, &flen));
	assert_ptr_equal(line, eol);

	/* an empty line has no fields */
	assert_non_null(line = proc_next_line(&p, end, &eol));
	assert_ptr_equal(line, eol);
	assert_null(proc_next_field(&line, eol, &flen));

	/* a last line without '\n' is a truncated read: never returned */
	assert_null(proc_next_line(&p, end, &eol));
	assert_null(proc_next_line(&p, end, &eol));
}

static void
test_parse_u64(void **unused)
{
	uint64_t v = 7;

	assert_int_equal(proc_parse_u64("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(proc_parse_u64("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(proc_parse_u64("123456", 3, &v), 0);	/* the length is honoured */
	assert_int_equal(v, 123);
	v = 7;
	assert_int_equal(proc_parse_u64("18446744073709551616", 20, &v), -1);
	assert_int_equal(proc_parse_u64("", 0, &v), -1);
	assert_int_equal(proc_parse_u64("-1", 2, &v), -1);
	assert_int_equal(proc_parse_u64("+1", 2, &v), -1);
	assert_int_equal(proc_parse_u64("1 ", 2, &v), -1);
	assert_int_equal(proc_parse_u64("0x10", 4, &v), -1);
	assert_int_equal(v, 7);
}

static void
test_parse_double(void **unused)
{
	double d = 7;

	assert_int_equal(proc_parse_double("12.5", 4, &d), 0);
	assert_true(d == 12.5);
	assert_int_equal(proc_parse_double("0.07 0.08", 4, &d), 0);
	assert_true(d == 0.07);
	d = 7;
	assert_int_equal(proc_parse_double("", 0, &d), -1);
	assert_int_equal(proc_parse_double("-1", 2, &d), -1);
	assert_int_equal(proc_parse_double(".5", 2, &d), -1);
	assert_int_equal(proc_parse_double("nan", 3, &d), -1);
	assert_int_equal(proc_parse_double("1e999", 5, &d), -1);
	assert_int_equal(proc_parse_double("1.5x", 4, &d), -1);
	assert_true(d == 7);
}

static void
test_opt_root(void **unused)
{
	const char *none[] = { NULL };
	const char *empty[] = { "root", "", NULL };
	const char *two[] = { "root", "/a", "root", "/b", NULL };
	struct reeve_probe_config cfg;

	ptest_config(&cfg, none);
	assert_string_equal(proc_opt_root(&cfg, ptest_host()), "/");
	ptest_config(&cfg, empty);
	assert_string_equal(proc_opt_root(&cfg, ptest_host()), "/");
	ptest_config(&cfg, two);
	assert_string_equal(proc_opt_root(&cfg, ptest_host()), "/b");
	assert_null(ptest_unasked(&cfg));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_path),
		cmocka_unit_test(test_file_read),
		cmocka_unit_test(test_lines_and_fields),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_double),
		cmocka_unit_test(test_opt_root),
	};

	return cmocka_run_group_tests_name("proc", tests, NULL, NULL);
}
