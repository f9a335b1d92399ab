/* test_outbox.c: the spool: durable puts read back at open, corrupt files set aside, list and retry. */
#include <sys/stat.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "outbox.h"
#include "util.h"

static const char conf[] =
    "[notifier a]\ntype = webhook\nurl = http://127.0.0.1:9/a\n"
    "[notifier b]\ntype = webhook\nurl = http://127.0.0.1:9/b\n";

struct fixture {
	char dir[64];
	char spool[96];
	struct cfg *cfg;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct cfg_errors errs = { 0 };

	snprintf(f->dir, sizeof(f->dir), "/tmp/reeve-outbox-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
	f->cfg = cfg_load_string(conf, "test", &errs);
	assert_non_null(f->cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	cfg_free(f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static size_t
files_in(const char *spool, const char *sub)
{
	char path[160];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", spool, sub);
	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void
stats_of(struct outbox *ob, size_t *qa, size_t *qb, unsigned long *corrupt)
{
	struct outbox_stats st;

	outbox_get_stats(ob, &st);
	assert_int_equal(st.nreceivers, 3);
	assert_string_equal(st.receivers[0].name, "a");
	*qa = st.receivers[0].queued;
	*qb = st.receivers[1].queued;
	*corrupt = st.corrupt;
	outbox_stats_free(&st);
}

static void
write_file(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	fclose(fp);
}

/* Messages put are there after a restart, in order; a bad body size is refused. */
static void
test_put_reopen(void **state)
{
	struct fixture *f = *state;
	char err[256], id1[OUTBOX_ID_LEN], id2[OUTBOX_ID_LEN];
	struct outbox *ob = outbox_open(f->spool, f->cfg, err, sizeof(err));
	size_t qa, qb;
	unsigned long corrupt;

	assert_non_null(ob);
	assert_int_equal(outbox_put(ob, "a", "k1", "first", "hello", 5, id1, err, sizeof(err)), 0);
	assert_int_equal(outbox_put(ob, "a", "k2", "second\nline", "", 0, id2, err, sizeof(err)), 0);
	assert_int_equal(outbox_put(ob, "b", "k3", "third", "x", 1, NULL, err, sizeof(err)), 0);
	assert_true(strcmp(id1, id2) < 0);
	stats_of(ob, &qa, &qb, &corrupt);
	assert_int_equal(qa, 2);
	assert_int_equal(qb, 1);
	outbox_free(ob, 1);
	assert_int_equal(files_in(f->spool, "queue"), 3);
	assert_int_equal(files_in(f->spool, "tmp"), 0);
	ob = outbox_open(f->spool, f->cfg, err, sizeof(err));
	assert_non_null(ob);
	stats_of(ob, &qa, &qb, &corrupt);
	assert_int_equal(qa, 2);
	assert_int_equal(qb, 1);
	assert_int_equal(corrupt, 0);
	outbox_free(ob, 1);
}

/* Empty, truncated, foreign and altered files are set aside at open, the rest stays. */
static void
test_corrupt(void **state)
{
	struct fixture *f = *state;
	char err[256], id[OUTBOX_ID_LEN], path[200], *data;
	struct outbox *ob = outbox_open(f->spool, f->cfg, err, sizeof(err));
	size_t qa, qb, n;
	unsigned long corrupt;
	FILE *fp;

	assert_non_null(ob);
	assert_int_equal(outbox_put(ob, "a", "k", "good", "body bytes", 10, id, err, sizeof(err)), 0);
	outbox_free(ob, 1);
	snprintf(path, sizeof(path), "%s/queue/%s", f->spool, id);
	assert_non_null(fp = fopen(path, "rb"));
	data = xcalloc(1, 4096);
	n = fread(data, 1, 4096, fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/queue/0000000000001-000000-0001", f->spool);
	write_file(path, "", 0);
	snprintf(path, sizeof(path), "%s/queue/0000000000001-000000-0002", f->spool);
	write_file(path, data, n - 3); /* truncated */
	snprintf(path, sizeof(path), "%s/queue/0000000000001-000000-0003", f->spool);
	write_file(path, "GIF89a garbage\n\n", 16);
	data[n - 1] ^= 1; /* one bit of the body flipped */
	snprintf(path, sizeof(path), "%s/queue/0000000000001-000000-0004", f->spool);
	write_file(path, data, n);
	/* an hour-old left-over of a crash goes; a fresh file may be another process's put */
	snprintf(path, sizeof(path), "%s/tmp/left-over", f->spool);
	write_file(path, "x", 1);
	{
		struct timeval old[2] = { { time(NULL) - 3600, 0 }, { time(NULL) - 3600, 0 } };

		assert_int_equal(utimes(path, old), 0);
	}
	snprintf(path, sizeof(path), "%s/tmp/being-written", f->spool);
	write_file(path, "y", 1);
	ob = outbox_open(f->spool, f->cfg, err, sizeof(err));
	assert_non_null(ob);
	stats_of(ob, &qa, &qb, &corrupt);
	assert_int_equal(qa, 1);
	assert_int_equal(corrupt, 4);
	assert_int_equal(files_in(f->spool, "corrupt"), 4);
	assert_int_equal(files_in(f->spool, "queue"), 1);
	assert_int_equal(files_in(f->spool, "tmp"), 1);
	outbox_free(ob, 1);
	free(data);
}

/* `reeve outbox list` shows queued and dead messages; retry puts a dead one back. */
static void
test_list_retry(void **state)
{
	struct fixture *f = *state;
	char err[256], id[OUTBOX_ID_LEN], from[200], to[200], *out = NULL;
	struct outbox *ob = outbox_open(f->spool, f->cfg, err, sizeof(err));
	size_t len = 0;
	FILE *mem;

	assert_non_null(ob);
	assert_int_equal(outbox_put(ob, "b", "k", "[FIRING:1] DiskFull", "{}", 2, id, err,
	    sizeof(err)), 0);
	outbox_free(ob, 1);
	snprintf(from, sizeof(from), "%s/queue/%s", f->spool, id);
	snprintf(to, sizeof(to), "%s/dead/%s", f->spool, id);
	assert_int_equal(rename(from, to), 0);
	assert_non_null(mem = open_memstream(&out, &len));
	assert_int_equal(outbox_list(f->spool, mem, err, sizeof(err)), 0);
	fclose(mem);
	assert_non_null(strstr(out, id));
	assert_non_null(strstr(out, "dead"));
	assert_non_null(strstr(out, "[FIRING:1] DiskFull"));
	assert_non_null(strstr(out, "1 message\n"));
	free(out);
	assert_int_equal(outbox_retry(f->spool, "nosuch", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a message id"));
	assert_int_equal(outbox_retry(f->spool, "0000000000001-000000-0001", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no dead letter"));
	assert_int_equal(outbox_retry(f->spool, id, err, sizeof(err)), 0);
	assert_int_equal(files_in(f->spool, "dead"), 0);
	assert_int_equal(files_in(f->spool, "queue"), 1);
	assert_int_equal(outbox_list("/nonexistent", stdout, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_retry, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
