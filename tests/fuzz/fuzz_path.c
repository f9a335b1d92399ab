/* fuzz_path.c: fuzz target for the series path encoding of the store (injective, reversible). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "store.h"

/* Whether two decoded series are the same: name, then the labels in order. */
static int
same(const char *n1, const struct reeve_label *l1, size_t c1, const char *n2,
    const struct reeve_label *l2, size_t c2)
{
	if (strcmp(n1, n2) != 0 || c1 != c2)
		return 0;
	for (size_t i = 0; i < c1; i++)
		if (strcmp(l1[i].name, l2[i].name) != 0 || strcmp(l1[i].value, l2[i].value) != 0)
			return 0;
	return 1;
}

/* decode(path) then encode must give path back: no two paths name the same series. */
static void
check_decode(const char *path)
{
	struct reeve_label *labels;
	char *name, *again;
	size_t n;

	if (store_path_decode(path, &name, &labels, &n) != 0)
		return;
	again = store_path_encode(name, labels, n);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(strcmp(again, path) == 0);
	free(again);
	free(name);
	store_labels_free(labels, n);
}

/* encode(series) then decode must give the series back, labels sorted by name. */
static void
check_encode(const char *name, struct reeve_label *labels, size_t n)
{
	struct reeve_label *dl, tmp;
	char *path, *dname;
	size_t dn;

	if ((path = store_path_encode(name, labels, n)) == NULL)
		return;
	FUZZ_CHECK(path[0] != '/');
	FUZZ_CHECK(store_path_decode(path, &dname, &dl, &dn) == 0);
	for (size_t i = 1; i < n; i++)	/* insertion sort: labels as encode orders them */
		for (size_t j = i; j > 0 && strcmp(labels[j - 1].name, labels[j].name) > 0; j--) {
			tmp = labels[j];
			labels[j] = labels[j - 1];
			labels[j - 1] = tmp;
		}
	FUZZ_CHECK(same(name, labels, n, dname, dl, dn));
	/* and every component is a plain file name: no "..", ".", or empty component */
	for (const char *c = path, *e; *c; c = *e ? e + 1 : e) {
		e = strchrnul(c, '/');
		FUZZ_CHECK(e > c && e - c <= 255);
		FUZZ_CHECK(!(e - c == 1 && c[0] == '.') && !(e - c == 2 && c[0] == '.' && c[1] == '.'));
	}
	free(path);
	free(dname);
	store_labels_free(dl, dn);
}

/*
 * The input split at NUL bytes into strings: the first is the metric name, then label
 * name/value pairs (up to 8). The input as one string is also decoded.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reeve_label labels[8];
	const char *parts[17];
	size_t np = 0, n;
	char *text;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	check_decode(text);

	for (const char *p = text; p <= text + size && np < 17; p += strlen(p) + 1)
		parts[np++] = p;
	n = (np - 1) / 2;
	for (size_t i = 0; i < n; i++) {
		labels[i].name = parts[1 + 2 * i];
		labels[i].value = parts[2 + 2 * i];
	}
	check_encode(parts[0], labels, n);
	free(text);
	return 0;
}
