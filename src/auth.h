/* auth.h: bearer tokens with roles: who may read /metrics and who may push data. */
#ifndef REEVE_AUTH_H
#define REEVE_AUTH_H

struct cfg;
struct auth;

/* Roles a token can hold; a [token NAME] section lists them in roles = ... */
enum auth_role { AUTH_READ = 1, AUTH_PUSH = 2, AUTH_ADMIN = 4 };

/*
 * Endpoints that [http] open = ... lets anyone read without a token (bit i is the i-th word
 * of healthz, metrics, status, api): /healthz and /readyz; /metrics; the status page /; the
 * read endpoints of the API.
 */
enum auth_open { AUTH_OPEN_HEALTHZ = 1, AUTH_OPEN_METRICS = 2, AUTH_OPEN_STATUS = 4,
	AUTH_OPEN_API = 8 };

/* Every role: what [http] token is given. */
#define AUTH_ALL (AUTH_READ | AUTH_PUSH | AUTH_ADMIN)

/*
 * The token table of a loaded configuration: every [token NAME] and [http] token (named
 * "[http] token", with every role). Keeps the SHA-256 of each secret, never the secret
 * itself, and a copy of each name; cfg may be freed afterwards. Never returns NULL.
 */
struct auth *auth_new(const struct cfg *cfg);

/* Wipe and free; auth_free(NULL) is a no-op. */
void auth_free(struct auth *a);

/*
 * Whether an endpoint that needs role (one AUTH_* value) asks for a token at all:
 * AUTH_READ when at least one token holds the read role, any other role when at least
 * one token is configured. Without tokens everything is open.
 */
int auth_required(const struct auth *a, unsigned role);

/*
 * Check the value of an Authorization header (NULL when absent) for an endpoint that needs
 * role and belongs to the AUTH_OPEN_* class endpoint (0: none). Returns 0 when the request
 * may go on (always for a read of an endpoint [http] open lists), 401 when a token is required and none or an
 * unknown one was given (or the header is not "Bearer <token>"), 403 when a known token
 * lacks role. The presented token is compared with every configured secret, in time that
 * depends neither on where nor whether it matches. *token_name (if token_name is not
 * NULL) is set to the name of the matching token, borrowed from a (valid until auth_free),
 * or NULL when none matched.
 */
int auth_check(const struct auth *a, const char *authorization, unsigned role,
    unsigned endpoint, const char **token_name);

/* "read", "push", "admin" for one AUTH_* value; "?" otherwise. Static text. */
const char *auth_role_name(unsigned role);

#endif /* REEVE_AUTH_H */
