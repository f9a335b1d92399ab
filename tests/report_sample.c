/* report_sample.c: writes the sample report (report_sample_doc.c) as HTML, text and CSV (tests). */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "report_sample_doc.h"
#include "util.h"

/*
 * usage: report_sample --out DIR
 * Writes DIR/sample.html (the images as files beside it: the drawn graphs' PNGs, named by
 * graph.file), DIR/sample.txt, DIR/sample.csv and DIR/sample.pdf. Runs in the environment's locale (LC_ALL,
 * LANG). Exits 0, 1 when something failed (on stderr), 2 on bad arguments.
 */

static int
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = util_write_file_atomic(path, NULL, data, len);

	if (rc == -1)
		fprintf(stderr, "report_sample: %s: %s\n", path, strerror(errno));
	free(path);
	return rc;
}

/* Renders d with one renderer (the HTML one with images_cid 0) into DIR/name. */
static int
write_rendered(const struct report_doc *d, const char *dir, const char *name, char kind)
{
	struct buf b = { 0 };
	char err[256] = "";
	int rc = kind == 'h' ? render_html(d, 0, &b, err, sizeof(err)) :
	    kind == 't' ? render_text(d, &b, err, sizeof(err)) :
	    kind == 'p' ? render_pdf(d, &b, err, sizeof(err)) : render_csv(d, &b, err, sizeof(err));

	if (rc == -1)
		fprintf(stderr, "report_sample: %s: %s\n", name, err);
	else
		rc = write_file(dir, name, b.data, b.len);
	buf_free(&b);
	return rc;
}

static int
write_all(const struct report_doc *d, const char *dir)
{
	int rc = 0;

	for (size_t i = 0; i < d->nsections; i++) {
		const struct report_graph *g = &d->sections[i].graph;

		if (d->sections[i].kind == REPORT_GRAPH && g->png &&
		    write_file(dir, g->file, g->png, g->png_len) == -1)
			rc = -1;
	}
	if (write_rendered(d, dir, "sample.html", 'h') == -1 ||
	    write_rendered(d, dir, "sample.txt", 't') == -1 ||
	    write_rendered(d, dir, "sample.csv", 'c') == -1 ||
	    write_rendered(d, dir, "sample.pdf", 'p') == -1)
		rc = -1;
	return rc;
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpdir, *rrd;
	struct report_doc *d;
	int rc = 1;

	/* the environment's locale, so that a test can run it where the decimal point is ',' */
	setlocale(LC_ALL, "");
	log_init(0, "report_sample");
	if (argc != 3 || strcmp(argv[1], "--out") != 0) {
		fprintf(stderr, "usage: report_sample --out DIR\n");
		return 2;
	}
	if (util_mkdir_p(argv[2]) == -1) {
		fprintf(stderr, "report_sample: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	tmpdir = xasprintf("%s/report_sample.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "report_sample: %s: %s\n", tmpdir, strerror(errno));
		free(tmpdir);
		return 1;
	}
	d = report_sample_doc(tmpdir);
	if (d && write_all(d, argv[2]) == 0)
		rc = 0;
	report_doc_free(d);
	rrd = xasprintf("%s/sample.rrd", tmpdir);
	unlink(rrd);
	rmdir(tmpdir);
	free(rrd);
	free(tmpdir);
	return rc;
}
