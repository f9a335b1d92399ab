/* tls.c: the HTTPS server's certificate chain and key (GnuTLS), replaced while it serves. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"
#include "util.h"

#define TLS_MAX_FILE (1024 * 1024) /* a PEM file larger than this is not a certificate */
#define TLS_MAX_CHAIN 16            /* certificates in the chain */

struct tls_cred {
	gnutls_pcert_st certs[TLS_MAX_CHAIN];
	unsigned ncerts;
	gnutls_privkey_t key;
	double expiry;
	unsigned char digest[32];           /* of both files' bytes: "the same files" */
	struct tls_cred *older;                     /* sets served before, kept for tls_serve_end */
};

void
tls_cred_free(struct tls_cred *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->ncerts; i++)
		gnutls_pcert_deinit(&c->certs[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
}

double
tls_cred_expiry(const struct tls_cred *c)
{
	return c->expiry;
}

/* The notAfter of the first certificate of the chain. */
static double
leaf_expiry(const gnutls_pcert_st *leaf)
{
	gnutls_x509_crt_t crt;
	time_t t = 0;

	if (gnutls_x509_crt_init(&crt) < 0)
		return 0;
	if (gnutls_x509_crt_import(crt, &leaf->cert, GNUTLS_X509_FMT_DER) >= 0)
		t = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	return t == (time_t)-1 ? 0 : (double)t;
}

/* Read path (a PEM file, at most TLS_MAX_FILE bytes). NULL with a message in err. */
static char *
read_pem(const char *what, const char *path, size_t *len, char *err, size_t errlen)
{
	char *data = util_read_file(path, TLS_MAX_FILE, len);

	if (data == NULL)
		snprintf(err, errlen, "%s \"%s\": %s", what, path, errno == EFBIG ?
		    "larger than 1 MiB, not a PEM file" : strerror(errno));
	else if (strstr(data, "-----BEGIN ") == NULL) {
		snprintf(err, errlen, "%s \"%s\": not a PEM file (no -----BEGIN line)", what, path);
		explicit_bzero(data, *len);
		free(data);
		data = NULL;
	}
	return data;
}

struct tls_cred *
tls_cred_load(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct tls_cred *c = xcalloc(1, sizeof(*c));
	char *cert = NULL, *key = NULL;
	size_t certlen = 0, keylen = 0;
	gnutls_certificate_credentials_t check = NULL;
	gnutls_datum_t cd, kd;
	struct stat st;
	gnutls_hash_hd_t sha;
	int rc;

	if (stat(key_path, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
		snprintf(err, errlen, "tls_key \"%s\": readable or writable by every user "
		    "(chmod 600, or 640 with a group of its own)", key_path);
		goto fail;
	}
	if ((cert = read_pem("tls_cert", cert_path, &certlen, err, errlen)) == NULL ||
	    (key = read_pem("tls_key", key_path, &keylen, err, errlen)) == NULL)
		goto fail;
	cd = (gnutls_datum_t){ (unsigned char *)cert, (unsigned)certlen };
	kd = (gnutls_datum_t){ (unsigned char *)key, (unsigned)keylen };
	c->ncerts = TLS_MAX_CHAIN;
	rc = gnutls_pcert_list_import_x509_raw(c->certs, &c->ncerts, &cd, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		c->ncerts = 0;
		snprintf(err, errlen, "tls_cert \"%s\": %s", cert_path,
		    rc == GNUTLS_E_SHORT_MEMORY_BUFFER ? "more than 16 certificates" :
		    gnutls_strerror(rc));
		goto fail;
	}
	if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		snprintf(err, errlen, "tls_key \"%s\": %s (an unencrypted PEM private key is "
		    "needed)", key_path, gnutls_strerror(rc));
		goto fail;
	}
	/* GnuTLS's own check that the key is the certificate's */
	if ((rc = gnutls_certificate_allocate_credentials(&check)) < 0 ||
	    (rc = gnutls_certificate_set_x509_key_mem(check, &cd, &kd, GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errlen, "tls_key \"%s\" with tls_cert \"%s\": %s", key_path, cert_path,
		    rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ?
		    "the key does not belong to the certificate" : gnutls_strerror(rc));
		goto fail;
	}
	gnutls_certificate_free_credentials(check);
	c->expiry = leaf_expiry(&c->certs[0]);
	if (gnutls_hash_init(&sha, GNUTLS_DIG_SHA256) == 0) {
		gnutls_hash(sha, cert, certlen);
		gnutls_hash(sha, key, keylen);
		gnutls_hash_deinit(sha, c->digest);
	}
	free(cert);
	explicit_bzero(key, keylen);
	free(key);
	return c;
fail:
	if (check != NULL)
		gnutls_certificate_free_credentials(check);
	free(cert);
	if (key != NULL)
		explicit_bzero(key, keylen);
	free(key);
	tls_cred_free(c);
	return NULL;
}

/* ---- serving --------------------------------------------------------------------------- */

static pthread_mutex_t serve_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_cred *serving;   /* the newest set; ->older the ones before it */

static int
retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
    unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	(void)session;
	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	pthread_mutex_lock(&serve_lock);
	if (serving == NULL) {
		pthread_mutex_unlock(&serve_lock);
		return -1;
	}
	/* GnuTLS neither frees nor changes these: they stay ours until tls_serve_end */
	*pcert = serving->certs;
	*pcert_length = serving->ncerts;
	*privkey = serving->key;
	pthread_mutex_unlock(&serve_lock);
	return 0;
}

gnutls_certificate_retrieve_function2 *
tls_callback(void)
{
	return retrieve;
}

void
tls_serve(struct tls_cred *c)
{
	pthread_mutex_lock(&serve_lock);
	if (serving != NULL && memcmp(serving->digest, c->digest, sizeof(c->digest)) == 0) {
		pthread_mutex_unlock(&serve_lock);
		tls_cred_free(c);
		return;
	}
	c->older = serving;
	serving = c;
	pthread_mutex_unlock(&serve_lock);
}

double
tls_serve_expiry(void)
{
	double t;

	pthread_mutex_lock(&serve_lock);
	t = serving ? serving->expiry : 0;
	pthread_mutex_unlock(&serve_lock);
	return t;
}

void
tls_serve_end(void)
{
	struct tls_cred *c;

	pthread_mutex_lock(&serve_lock);
	c = serving;
	serving = NULL;
	pthread_mutex_unlock(&serve_lock);
	while (c != NULL) {
		struct tls_cred *o = c->older;

		tls_cred_free(c);
		c = o;
	}
}
