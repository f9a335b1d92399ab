/* auth.c: bearer tokens with roles, checked in constant time against every configured one. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "auth.h"
#include "config.h"
#include "util.h"

struct auth_token {
	char *name;
	unsigned roles;
	unsigned char digest[SHA256_DIGEST_LENGTH]; /* SHA-256 of the secret */
};

/* Immutable once built: read by any number of threads without a lock. */
struct auth {
	struct auth_token *tokens;
	size_t n;
	unsigned roles; /* the union of every token's roles */
	unsigned open;  /* AUTH_OPEN_* read without a token */
};

static void
add(struct auth *a, const char *name, const char *secret, unsigned roles)
{
	struct auth_token *t = &a->tokens[a->n++];

	t->name = xstrdup(name);
	t->roles = roles;
	SHA256((const unsigned char *)secret, strlen(secret), t->digest);
	a->roles |= roles;
}

struct auth *
auth_new(const struct cfg *cfg)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	size_t i;

	a->open = cfg->http_open;
	a->tokens = xcalloc(cfg->ntokens + 1, sizeof(*a->tokens));
	for (i = 0; i < cfg->ntokens; i++)
		add(a, cfg->tokens[i].name, cfg->tokens[i].secret, cfg->tokens[i].roles);
	if (cfg->token != NULL && *cfg->token != '\0')
		add(a, "[http] token", cfg->token, AUTH_ALL);
	return a;
}

void
auth_free(struct auth *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->tokens[i].name);
	explicit_bzero(a->tokens, a->n * sizeof(*a->tokens));
	free(a->tokens);
	free(a);
}

int
auth_required(const struct auth *a, unsigned role)
{
	if (role == AUTH_READ)
		return (a->roles & AUTH_READ) != 0;
	return a->n > 0;
}

/* The token of "Bearer <token>" (scheme in any case, one or more spaces), or NULL. */
static const char *
bearer(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	return *h != '\0' ? h : NULL;
}

/*
 * The index + 1 of the token whose secret hashes to the same digest as presented, or 0.
 * Both sides are SHA-256 digests, so the comparison time says nothing about lengths, and
 * every token is compared with no early exit and no branch on the outcome.
 */
static size_t
find(const struct auth *a, const char *presented)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	size_t i, found = 0;

	SHA256((const unsigned char *)presented, strlen(presented), d);
	for (i = 0; i < a->n; i++) {
		size_t eq = (size_t)(CRYPTO_memcmp(d, a->tokens[i].digest, sizeof(d)) == 0);
		size_t mask = (size_t)0 - eq;

		found = (found & ~mask) | ((i + 1) & mask);
	}
	explicit_bzero(d, sizeof(d));
	return found;
}

int
auth_check(const struct auth *a, const char *authorization, unsigned role,
    unsigned endpoint, const char **token_name)
{
	const char *presented = bearer(authorization);
	const struct auth_token *t = NULL;
	size_t i;

	if (token_name != NULL)
		*token_name = NULL;
	if (presented != NULL && (i = find(a, presented)) != 0)
		t = &a->tokens[i - 1];
	if (t != NULL && token_name != NULL)
		*token_name = t->name;
	if (!auth_required(a, role) || (role == AUTH_READ && (a->open & endpoint) != 0))
		return 0;
	if (t == NULL)
		return 401;
	if ((t->roles & role) == 0)
		return 403;
	return 0;
}

const char *
auth_role_name(unsigned role)
{
	switch (role) {
	case AUTH_READ:
		return "read";
	case AUTH_PUSH:
		return "push";
	case AUTH_ADMIN:
		return "admin";
	default:
		return "?";
	}
}
