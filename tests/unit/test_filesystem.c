/* test_filesystem.c: unit tests of the filesystem probe on recorded mount tables. */
#include <sys/stat.h>

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

/* From probes/filesystem.c, visible with REEVE_TESTING. */
typedef void (*mount_fn)(void *arg, const char *device, const char *mountpoint,
    const char *fstype, int ro);
int unescape_octal(char *dst, size_t dstlen, const char *src, size_t srclen);
int parse_mountinfo(const char *buf, size_t len, mount_fn fn, void *arg);
int parse_mounts(const char *buf, size_t len, mount_fn fn, void *arg);

struct mnts {
	char dev[32][128];
	char mp[32][128];
	char fs[32][32];
	int ro[32];
	size_t n;
};

static void
record(void *arg, const char *device, const char *mountpoint, const char *fstype, int ro)
{
	struct mnts *m = arg;

	assert_true(m->n < 32);
	snprintf(m->dev[m->n], sizeof(m->dev[0]), "%s", device);
	snprintf(m->mp[m->n], sizeof(m->mp[0]), "%s", mountpoint);
	snprintf(m->fs[m->n], sizeof(m->fs[0]), "%s", fstype);
	m->ro[m->n] = ro;
	m->n++;
}

static void
test_unescape(void **unused)
{
	const char *s = "/mnt/my\\040backup\\134disk";
	char out[64], small[4];

	assert_int_equal(unescape_octal(out, sizeof(out), s, strlen(s)), 0);
	assert_string_equal(out, "/mnt/my backup\\disk");
	assert_int_equal(unescape_octal(out, sizeof(out), "a\\011b\\012", 10), 0);
	assert_string_equal(out, "a\tb\n");
	/* not an escape: kept as is */
	assert_int_equal(unescape_octal(out, sizeof(out), "a\\9x\\04", 7), 0);
	assert_string_equal(out, "a\\9x\\04");
	assert_int_equal(unescape_octal(out, sizeof(out), "a\\000b", 6), -1);
	assert_int_equal(unescape_octal(small, sizeof(small), "abcd", 4), -1);
	assert_int_equal(unescape_octal(small, sizeof(small), "abc", 3), 0);
	assert_int_equal(unescape_octal(out, sizeof(out), "", 0), 0);
	assert_string_equal(out, "");
}

static void
test_parse_mountinfo(void **unused)
{
	struct mnts m = { 0 };
	size_t len;
	char *buf = ptest_slurp("6.18.44-fc-v669", "proc/self/mountinfo", &len);

	assert_non_null(buf);
	assert_int_equal(parse_mountinfo(buf, len, record, &m), 20);
	assert_string_equal(m.mp[5], "/");
	assert_string_equal(m.dev[5], "/dev/vda");
	assert_string_equal(m.fs[5], "ext4");
	assert_int_equal(m.ro[5], 0);
	assert_string_equal(m.mp[6], "/mnt/ro dir");
	assert_int_equal(m.ro[6], 1);
	free(buf);

	memset(&m, 0, sizeof(m));
	buf = ptest_slurp("5.15.0", "proc/self/mountinfo", &len);
	assert_non_null(buf);
	assert_int_equal(parse_mountinfo(buf, len, record, &m), 13);
	/* two optional fields before the separator */
	assert_string_equal(m.mp[12], "/net/share");
	assert_string_equal(m.dev[12], "server:/export dir");
	assert_string_equal(m.fs[12], "nfs4");
	free(buf);
}

static void
test_parse_bad(void **unused)
{
	const char *bad =
	    "36 35 98:0 /mnt1 /mnt/a rw,noatime master:1 ext3 /dev/root rw\n"	/* no '-' */
	    "36 35 98:0 /mnt1 /mnt/b rw -\n"
	    "36 35 98:0\n"
	    "36 35 98:0 / relative rw - ext4 /dev/x rw\n"
	    "36 35 98:0 / /mnt/\\000 rw - ext4 /dev/x rw\n"
	    "36 35 98:0 / /ok rw - ext4 /dev/x ro\n"
	    "36 35 98:0 / /cut rw - ext4 /dev/x rw";
	const char *badmounts = "/dev/a /a ext4\n/dev/b /b ext4 rw 0 0\n/dev/c /c";
	struct mnts m = { 0 };
	char junk[500];
	size_t i;

	assert_int_equal(parse_mountinfo(bad, strlen(bad), record, &m), 1);
	assert_string_equal(m.mp[0], "/ok");
	assert_int_equal(m.ro[0], 1);	/* read-only superblock */
	memset(&m, 0, sizeof(m));
	assert_int_equal(parse_mounts(badmounts, strlen(badmounts), record, &m), 1);
	assert_string_equal(m.dev[0], "/dev/b");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 % 256);
	assert_int_equal(parse_mountinfo(junk, sizeof(junk), record, &m), 0);
	assert_int_equal(parse_mounts(junk, sizeof(junk), record, &m), 0);
}

static void *
start(const char *const *kv)
{
	const struct reeve_probe *p = reeve_probe_entry();
	struct reeve_probe_config cfg;
	void *st = NULL;

	ptest_config(&cfg, kv);
	assert_string_equal(p->name, "filesystem");
	assert_int_equal(p->init(&cfg, ptest_host(), &st), 0);
	assert_null(ptest_unasked(&cfg));
	return st;
}

static void
collect(void *st, struct reeve_emitter *em)
{
	char err[256];

	ptest_emitter_reset(em);
	assert_int_equal(reeve_probe_entry()->collect(st, em, err, sizeof(err)), 0);
}

static size_t
count_mountpoint(const struct reeve_emitter *em, const char *mp)
{
	char suffix[256];
	size_t i, n = 0, sl;

	snprintf(suffix, sizeof(suffix), ",mountpoint=%s", mp);
	sl = strlen(suffix);
	for (i = 0; i < em->n; i++) {
		size_t l = strlen(em->s[i].labels);

		if (strcmp(em->s[i].name, "filesystem_size_bytes") == 0 && l >= sl &&
		    strcmp(em->s[i].labels + l - sl, suffix) == 0)
			n++;
	}
	return n;
}

static void
test_collect_mountinfo(void **unused)
{
	const char *kv[] = { "root", NULL, NULL };
	struct reeve_emitter em = { 0 };
	const struct ptest_sample *s, *f, *a;
	size_t logs;
	void *st;

	kv[1] = ptest_root("5.15.0");
	st = start(kv);
	logs = ptest_log_count();
	collect(st, &em);
	/* /media/usb stick and /net/share do not exist here: skipped, each logged once */
	assert_true(ptest_log_count() >= logs + 2);
	logs = ptest_log_count();
	collect(st, &em);
	assert_int_equal(ptest_log_count(), logs);

	s = ptest_find(&em, "filesystem_size_bytes", "device=/dev/nvme0n1p2,fstype=ext4,mountpoint=/");
	f = ptest_find(&em, "filesystem_free_bytes", "device=/dev/nvme0n1p2,fstype=ext4,mountpoint=/");
	a = ptest_find(&em, "filesystem_avail_bytes", "device=/dev/nvme0n1p2,fstype=ext4,mountpoint=/");
	assert_non_null(s);
	assert_non_null(f);
	assert_non_null(a);
	assert_int_equal(s->type, REEVE_GAUGE);
	assert_true(s->value > 0 && s->value >= f->value && f->value >= a->value);
	assert_non_null(ptest_find(&em, "filesystem_files",
	    "device=/dev/nvme0n1p2,fstype=ext4,mountpoint=/"));
	assert_non_null(ptest_find(&em, "filesystem_files_free",
	    "device=/dev/nvme0n1p2,fstype=ext4,mountpoint=/"));
	/* /tmp was mounted twice: only the last mount, once; its "ro" option makes it readonly */
	assert_int_equal(count_mountpoint(&em, "/tmp"), 1);
	s = ptest_find(&em, "filesystem_readonly", "device=/dev/mapper/vg-tmp,fstype=ext4,mountpoint=/tmp");
	assert_non_null(s);
	assert_true(s->value == 1);
	/* excluded by default: pseudo filesystems, /dev /proc /sys, docker, squashfs */
	assert_int_equal(count_mountpoint(&em, "/proc"), 0);
	assert_int_equal(count_mountpoint(&em, "/sys"), 0);
	assert_int_equal(count_mountpoint(&em, "/dev/shm"), 0);
	assert_int_equal(count_mountpoint(&em, "/var/lib/docker/overlay2/abc/merged"), 0);
	assert_int_equal(count_mountpoint(&em, "/snap/core/1234"), 0);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_collect_mounts_fallback_and_filters(void **unused)
{
	const char *kv[] = { "root", NULL, "fstype_include", "^xfs$", "mount_exclude", "^/proc",
	    NULL };
	const char *kv2[] = { "root", NULL, "mount_include", "^/tmp$", "fstype_exclude", "",
	    NULL };
	struct reeve_emitter em = { 0 };
	const struct ptest_sample *s;
	void *st;

	/* no mountinfo in the 3.10 sample: /proc/mounts is read */
	kv[1] = ptest_root("3.10.0");
	st = start(kv);
	collect(st, &em);
	assert_int_equal(ptest_count(&em, "filesystem_size_bytes"), 2);
	/* rootfs, then the real root over it: the last one counts */
	assert_non_null(ptest_find(&em, "filesystem_size_bytes",
	    "device=/dev/mapper/centos-root,fstype=xfs,mountpoint=/"));
	s = ptest_find(&em, "filesystem_readonly", "device=/dev/sda1,fstype=xfs,mountpoint=/tmp");
	assert_non_null(s);
	assert_true(s->value == 1);
	reeve_probe_entry()->destroy(st);

	kv2[1] = ptest_root("3.10.0");
	st = start(kv2);
	collect(st, &em);
	assert_int_equal(ptest_count(&em, "filesystem_size_bytes"), 1);
	assert_int_equal(count_mountpoint(&em, "/tmp"), 1);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
test_table_change(void **unused)
{
	char dir[] = "/tmp/reeve-fs-XXXXXX", proc[64], self[80], mi[100];
	const char *kv[] = { "root", dir, NULL };
	struct reeve_emitter em = { 0 };
	void *st;
	size_t logs;

	assert_non_null(mkdtemp(dir));
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	snprintf(self, sizeof(self), "%s/self", proc);
	snprintf(mi, sizeof(mi), "%s/mountinfo", self);
	assert_int_equal(mkdir(proc, 0700), 0);
	assert_int_equal(mkdir(self, 0700), 0);
	write_file(mi, "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
	    "3 1 8:3 / /nonexistent/reeve rw - ext4 /dev/sda3 rw\n");
	st = start(kv);
	logs = ptest_log_count();
	collect(st, &em);
	assert_int_equal(ptest_count(&em, "filesystem_size_bytes"), 1);
	assert_int_equal(ptest_log_count(), logs + 1);
	write_file(mi, "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /tmp rw - ext4 /dev/sda2 rw\n"
	    "3 1 8:3 / /nonexistent/reeve rw - ext4 /dev/sda3 rw\n");
	collect(st, &em);
	assert_int_equal(ptest_count(&em, "filesystem_size_bytes"), 2);
	/* the failing mount was already logged: a new table does not log it again */
	assert_int_equal(ptest_log_count(), logs + 1);
	assert_non_null(ptest_find(&em, "filesystem_size_bytes",
	    "device=/dev/sda2,fstype=ext4,mountpoint=/tmp"));
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
	unlink(mi);
	rmdir(self);
	rmdir(proc);
	rmdir(dir);
}

static void
test_live(void **unused)
{
	struct reeve_emitter em = { 0 };
	void *st = start(NULL);

	/* the real /proc/self/mountinfo: read at init, then only when poll() reports a change */
	collect(st, &em);
	collect(st, &em);
	reeve_probe_entry()->destroy(st);
	ptest_emitter_free(&em);
}

static void
test_bad_options(void **unused)
{
	static const char *const keys[] = {
		"fstype_include", "fstype_exclude", "mount_include", "mount_exclude"
	};
	const char *kv[] = { NULL, "a{1", NULL };
	struct reeve_probe_config cfg;
	char want[64];
	void *st = NULL;
	size_t i;

	for (i = 0; i < 4; i++) {
		kv[0] = keys[i];
		ptest_config(&cfg, kv);
		assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
		snprintf(want, sizeof(want), "%s: invalid regular expression", keys[i]);
		assert_non_null(strstr(cfg.error, want));
	}
	kv[0] = "root";
	kv[1] = "/nonexistent";
	ptest_config(&cfg, kv);
	assert_int_equal(reeve_probe_entry()->init(&cfg, ptest_host(), &st), -1);
	assert_non_null(strstr(cfg.error, "root: cannot open /nonexistent/proc/mounts"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_parse_mountinfo),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_collect_mountinfo),
		cmocka_unit_test(test_collect_mounts_fallback_and_filters),
		cmocka_unit_test(test_table_change),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests_name("filesystem", tests, NULL, NULL);
}
