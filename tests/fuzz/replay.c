/* replay.c: runs a fuzz target on every file of its corpus, printing TAP (make check). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/*
 * Usage: replay_NAME [DIR...]. Without arguments the corpus is $FUZZ_CORPUS/NAME, NAME
 * being the program's name without "replay_" (and libtool's "lt-"), so make check runs
 * each replay program on its own corpus. Every regular file of each directory is read into
 * a buffer of exactly its size (so sanitizers see reads past the end) and passed to
 * LLVMFuzzerTestOneInput, in name order. A crash or broken property aborts the program;
 * an empty or missing corpus is a failure, so the test cannot pass without running.
 */

struct list {
	char **v;
	size_t n, cap;
};

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_dir(struct list *l, const char *dir)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *path;
	size_t len;

	if ((d = opendir(dir)) == NULL) {
		printf("Bail out! cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		len = strlen(dir) + strlen(de->d_name) + 2;
		if ((path = malloc(len)) == NULL)
			abort();
		snprintf(path, len, "%s/%s", dir, de->d_name);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			if ((l->v = realloc(l->v, l->cap * sizeof(*l->v))) == NULL)
				abort();
		}
		l->v[l->n++] = path;
	}
	closedir(d);
	return 0;
}

/* The whole file in a new buffer of exactly its size (*size); NULL on error. */
static uint8_t *
slurp(const char *path, size_t *size)
{
	FILE *fp;
	uint8_t *data = NULL;
	long n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) == -1)
		goto out;
	/* malloc(0) may return NULL: keep one byte, but pass a size of 0 */
	if ((data = malloc(n ? (size_t)n : 1)) == NULL)
		abort();
	if (fread(data, 1, (size_t)n, fp) != (size_t)n) {
		free(data);
		data = NULL;
		goto out;
	}
	*size = (size_t)n;
out:
	fclose(fp);
	return data;
}

int
main(int argc, char **argv)
{
	struct list l = { 0 };
	const char *base, *root;
	char *dir;
	size_t i, size, len;
	uint8_t *data;
	int fail = 0;

	if (argc > 1) {
		for (i = 1; i < (size_t)argc; i++)
			if (add_dir(&l, argv[i]) == -1)
				return 1;
	} else {
		if ((root = getenv("FUZZ_CORPUS")) == NULL || *root == '\0') {
			printf("Bail out! give corpus directories or set FUZZ_CORPUS\n");
			return 1;
		}
		base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
		if (strncmp(base, "lt-", 3) == 0)
			base += 3;
		if (strncmp(base, "replay_", 7) != 0) {
			printf("Bail out! %s: name is not replay_NAME\n", base);
			return 1;
		}
		base += 7;
		len = strlen(root) + strlen(base) + 2;
		if ((dir = malloc(len)) == NULL)
			abort();
		snprintf(dir, len, "%s/%s", root, base);
		if (add_dir(&l, dir) == -1)
			return 1;
		free(dir);
	}
	if (l.n == 0) {
		printf("Bail out! empty corpus\n");
		return 1;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_path);
	printf("1..%zu\n", l.n);
	fflush(stdout);
	for (i = 0; i < l.n; i++) {
		if ((data = slurp(l.v[i], &size)) == NULL) {
			printf("not ok %zu - %s: cannot read: %s\n", i + 1, l.v[i], strerror(errno));
			fail = 1;
		} else {
			LLVMFuzzerTestOneInput(data, size);
			printf("ok %zu - %s\n", i + 1, strrchr(l.v[i], '/') + 1);
			free(data);
		}
		fflush(stdout);
		free(l.v[i]);
	}
	free(l.v);
	return fail;
}
