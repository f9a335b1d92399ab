/* tls.h: the HTTPS server's certificate chain and key (GnuTLS), replaced while it serves. */
#ifndef REEVE_TLS_H
#define REEVE_TLS_H

#include <stddef.h>

#include <gnutls/abstract.h>

struct tls_cred;

/*
 * Read a PEM certificate chain (the server's certificate first, then intermediates) and
 * its PEM private key, and check them: both parse, the key belongs to the certificate,
 * and the key file is not readable by others. Returns NULL with a message naming the
 * file in err. The key never appears in a message.
 */
struct tls_cred *tls_cred_load(const char *cert_path, const char *key_path, char *err,
    size_t errlen);

/* Free; NULL is a no-op. Never free a set given to tls_serve. */
void tls_cred_free(struct tls_cred *c);

/* When the server's certificate expires (Unix seconds). */
double tls_cred_expiry(const struct tls_cred *c);

/*
 * The certificate callback for libmicrohttpd (MHD_OPTION_HTTPS_CERT_CALLBACK, a GnuTLS
 * gnutls_certificate_retrieve_function2). It has no argument of its own, so the set it
 * answers with is process-wide: one HTTPS server per process.
 */
gnutls_certificate_retrieve_function2 *tls_callback(void);

/*
 * Make c the set every new TLS handshake gets, taking it over. The set it replaces stays
 * alive (handshakes under way may hold it) until tls_serve_end; a set with the same files'
 * bytes as the current one is freed at once and changes nothing. Thread-safe.
 */
void tls_serve(struct tls_cred *c);

/* The expiry of the set being served, 0 when none. */
double tls_serve_expiry(void);

/* Free every set given to tls_serve, once the server has stopped. */
void tls_serve_end(void);

#endif /* REEVE_TLS_H */
