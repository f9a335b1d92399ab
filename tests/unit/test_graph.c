/* test_graph.c: alerts/graph.c: one spec drawn by rrd_graph as PNG, SVG and PDF, and its errors. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poppler.h>

#include "graph.h"
#include "graph_fixture.h"
#include "util.h"

static struct graph_fixture fx;

static int
setup(void **state)
{
	(void)state;
	graph_fixture_make(&fx);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	graph_fixture_remove(&fx);
	return 0;
}

static void
render(enum graph_format f, unsigned char **out, size_t *len)
{
	char err[256] = "";

	if (graph_render(&fx.spec, f, out, len, err, sizeof(err)) != 0)
		fail_msg("graph_render: %s", err);
	assert_non_null(*out);
	assert_true(*len > 100);
}

/* A PNG, and graph_png gives the same image. */
static void
test_png(void **state)
{
	unsigned char *a, *b;
	size_t alen, blen;
	char err[256];

	(void)state;
	render(GRAPH_PNG, &a, &alen);
	assert_memory_equal(a, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(graph_png(&fx.spec, &b, &blen, err, sizeof(err)), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
}

/* GMarkup callbacks: count the elements, remember the first (the root). */
struct xml_seen {
	char root[16];
	int elements, paths;
};

static void
xml_start(GMarkupParseContext *ctx, const char *name, const char **attr_names,
    const char **attr_values, gpointer data, GError **error)
{
	struct xml_seen *s = data;

	(void)ctx;
	(void)attr_names;
	(void)attr_values;
	(void)error;
	if (s->elements++ == 0)
		snprintf(s->root, sizeof(s->root), "%s", name);
	if (strcmp(name, "path") == 0)
		s->paths++;
}

/* An SVG: well-formed XML (glib's parser) whose root is <svg>, drawn with paths. */
static void
test_svg(void **state)
{
	GMarkupParser parser = { xml_start, NULL, NULL, NULL, NULL };
	struct xml_seen seen = { "", 0, 0 };
	GMarkupParseContext *ctx;
	GError *gerr = NULL;
	unsigned char *svg;
	size_t len;

	(void)state;
	render(GRAPH_SVG, &svg, &len);
	assert_memory_equal(svg, "<?xml", 5);
	ctx = g_markup_parse_context_new(&parser, 0, &seen, NULL);
	if (!g_markup_parse_context_parse(ctx, (const char *)svg, (gssize)len, &gerr) ||
	    !g_markup_parse_context_end_parse(ctx, &gerr))
		fail_msg("the SVG is not well-formed: %s", gerr->message);
	g_markup_parse_context_free(ctx);
	assert_string_equal(seen.root, "svg");
	assert_true(seen.paths > 10);
	free(svg);
}

/* A one-page PDF whose title and legend are text, not pixels (poppler reads them back). */
static void
test_pdf(void **state)
{
	PopplerDocument *doc;
	PopplerPage *page;
	GError *gerr = NULL;
	GBytes *bytes;
	unsigned char *pdf;
	char *text;
	double w, h;
	size_t len;

	(void)state;
	render(GRAPH_PDF, &pdf, &len);
	assert_memory_equal(pdf, "%PDF-", 5);
	assert_non_null(memmem(pdf + len - 16, 16, "%%EOF", 5));
	bytes = g_bytes_new_static(pdf, len);
	doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	if (doc == NULL)
		fail_msg("poppler: %s", gerr->message);
	assert_int_equal(poppler_document_get_n_pages(doc), 1);
	page = poppler_document_get_page(doc, 0);
	poppler_page_get_size(page, &w, &h);
	assert_true(w > 600 && h > 200);   /* the plot area is 600 x 200, the axes and legend around */
	text = poppler_page_get_text(page);
	assert_non_null(strstr(text, GRAPH_FIXTURE_TITLE));
	assert_non_null(strstr(text, GRAPH_FIXTURE_LEGEND));
	g_free(text);
	g_object_unref(page);
	g_object_unref(doc);
	g_bytes_unref(bytes);
	free(pdf);
}

/* Errors come back as messages, with nothing allocated. */
static void
test_errors(void **state)
{
	struct graph_line missing = { "/nonexistent/reeve.rrd", NULL, NULL, "x", NULL, NULL };
	struct graph_spec spec = fx.spec;
	unsigned char *out = (unsigned char *)"untouched";
	size_t len = 7;
	char err[256];

	(void)state;
	assert_int_equal(graph_render(&spec, (enum graph_format)7, &out, &len, err, sizeof(err)), -1);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err, "unknown graph format"));
	spec.nlines = 0;
	assert_int_equal(graph_render(&spec, GRAPH_PDF, &out, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1 to 16 lines"));
	spec.lines = &missing;
	spec.nlines = 1;
	assert_int_equal(graph_render(&spec, GRAPH_SVG, &out, &len, err, sizeof(err)), -1);
	assert_null(out);
	assert_non_null(strstr(err, "rrd_graph: "));
	assert_non_null(strstr(err, "/nonexistent/reeve.rrd"));
}

/* Each thread draws every format a few times: graph.c's lock keeps librrd 1.7 alive. */
static void *
draw_all(void *arg)
{
	long ok = 0;

	(void)arg;
	for (int i = 0; i < 3; i++) {
		for (enum graph_format f = GRAPH_PNG; f <= GRAPH_PDF; f++) {
			unsigned char *out;
			size_t len;
			char err[256];

			if (graph_render(&fx.spec, f, &out, &len, err, sizeof(err)) == 0 && len > 100)
				ok++;
			free(out);
		}
	}
	return (void *)ok;
}

static void
test_threads(void **state)
{
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, draw_all, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *ok;

		assert_int_equal(pthread_join(t[i], &ok), 0);
		assert_int_equal((long)ok, 9);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_pdf),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("graph", tests, setup, teardown);
}
