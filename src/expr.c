/* expr.c: the rule expression language: matching series, and freeing what a source returns. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

int
expr_matches(const struct expr_matcher *m, size_t nm, const char *name,
    const struct reeve_label *labels, size_t nlabels)
{
	for (size_t i = 0; i < nm; i++) {
		const char *v = "";
		int eq;

		if (strcmp(m[i].name, "__name__") == 0)
			v = name;
		else
			for (size_t j = 0; j < nlabels; j++)
				if (strcmp(labels[j].name, m[i].name) == 0)
					v = labels[j].value;
		if (m[i].op == EXPR_MATCH_EQ || m[i].op == EXPR_MATCH_NE)
			eq = strcmp(v, m[i].value) == 0;
		else
			eq = regexec((const regex_t *)m[i].re, v, 0, NULL, 0) == 0;
		if (eq != (m[i].op == EXPR_MATCH_EQ || m[i].op == EXPR_MATCH_RE))
			return 0;
	}
	return 1;
}

void
expr_series_free(struct expr_series *s, size_t n)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < s[i].nlabels; j++) {
			free((char *)s[i].labels[j].name);
			free((char *)s[i].labels[j].value);
		}
		free(s[i].labels);
		free(s[i].name);
		free(s[i].ts);
		free(s[i].v);
	}
	free(s);
}
