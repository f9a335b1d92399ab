/* jsonpath.h: a small path syntax that picks one number out of a JSON document. */
#ifndef REEVE_PROBES_JSONPATH_H
#define REEVE_PROBES_JSONPATH_H

/*
 * Internal to the http probe (compiled into its module; nothing here is part of the probe
 * ABI). The syntax, documented in docs/metrics.md (section http):
 *
 *   path    = [ "$" ] first { step }
 *   first   = key | index | quoted          (a path may not be empty; "$" alone is the root)
 *   step    = "." key | index | quoted
 *   key     = one or more bytes other than . [ ] " \ and ASCII space/control characters
 *   index   = "[" [ "-" ] digits "]"        ([-1] is the last element)
 *   quoted  = "[" '"' { char | "\\" | "\"" } '"' "]"   (any key, e.g. ["a.b"])
 *
 * Examples: queue.pending, shops[0].orders, ["key.with.dots"].n, items[-1], $.a.
 */

#include <stddef.h>

#include <cjson/cJSON.h>

#define JSONPATH_MAX_LEN 1024	/* longest path text accepted */
#define JSONPATH_MAX_STEPS 64	/* most steps in one path */

struct jsonpath;

/*
 * jsonpath_new: parse text (NUL-terminated). Returns a new path the caller frees with
 * jsonpath_free, or NULL with a message naming the offending position in err (errlen
 * bytes, always NUL-terminated).
 */
struct jsonpath *jsonpath_new(const char *text, char *err, size_t errlen);

/* jsonpath_free: free a path; NULL is a no-op. */
void jsonpath_free(struct jsonpath *p);

/*
 * jsonpath_format: the canonical text of p into buf (bufsize bytes, NUL-terminated,
 * truncated when too small): keys as .key where the syntax allows it, else ["key"].
 * jsonpath_new of the result gives the same path. Returns the length the full text needs.
 */
size_t jsonpath_format(const struct jsonpath *p, char *buf, size_t bufsize);

/*
 * jsonpath_eval: follow p from root (borrowed). A number gives its value, true 1 and
 * false 0. Returns 0 with *out set, or -1 with a message in err saying where the path
 * failed and what was found there (a missing key, an index out of range, a string, null,
 * an object or an array). Values found are never copied into err.
 */
int jsonpath_eval(const struct jsonpath *p, const cJSON *root, double *out, char *err,
    size_t errlen);

#endif /* REEVE_PROBES_JSONPATH_H */
