/* crypto_tls.c: the peer-facing TLS server policy and non-blocking server connections. */
#include "crypto.h"

#include <errno.h>
#include <openssl/err.h>
#include <pthread.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS "X25519:P-256:P-384"

struct crypto_tls_server {
	atomic_int refs;
	SSL_CTX *ctx;
	int64_t crl_next_update;     /* Unix ms, 0 without a CRL */
	int64_t cert_not_after;      /* our own certificate's */
	uint8_t cert_fp[CRYPTO_SHA256_LEN]; /* and its SHA-256 fingerprint */
	crypto_tls_admit_fn admit;
	void *admit_arg;
};

struct crypto_tls_conn {
	SSL *ssl;
	/* The server it was accepted by: its SSL_CTX's ex_data points at it (the admit callback
	 * runs during the handshake), so it must live as long as the connection, even after the
	 * daemon swapped in a newer one. */
	struct crypto_tls_server *srv;
	char error[160];
};

static int ex_server_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void ex_init(void)
{
	ex_server_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL's first queued reason, then clear the queue. */
static void ssl_reason(char *out, size_t size)
{
	unsigned long e = ERR_peek_last_error();
	if (e == 0)
		snprintf(out, size, "unknown TLS error");
	else
		ERR_error_string_n(e, out, size);
	ERR_clear_error();
}

/* Depth 0 of a verified chain: ask the admit callback about the leaf's fingerprint. */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;
	struct crypto_tls_server *s;
	X509 *cert;
	uint8_t fp[CRYPTO_SHA256_LEN];
	unsigned int n = sizeof(fp);

	/* A CRL that was current when loaded and has since passed its nextUpdate still lists
	 * what it listed: keep using it rather than refusing every peer (the daemon warns, and
	 * hiepeerctl status shows it, until a fresh CRL is published). */
	if (!ok && X509_STORE_CTX_get_error(xs) == X509_V_ERR_CRL_HAS_EXPIRED) {
		X509_STORE_CTX_set_error(xs, X509_V_OK);
		ok = 1;
	}
	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	s = ssl != NULL ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_server_index) : NULL;
	if (s == NULL || s->admit == NULL)
		return ok;
	cert = X509_STORE_CTX_get_current_cert(xs);
	if (cert == NULL || X509_digest(cert, EVP_sha256(), fp, &n) != 1)
		return 0;
	/* OpenSSL takes a CA certificate as a leaf; a peer's identity must not be one. */
	if (X509_check_ca(cert) != 0) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_INVALID_CA);
		return 0;
	}
	if (!s->admit(fp, s->admit_arg)) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

#define FAIL(code, ...) \
	do { \
		snprintf(err, errlen, __VA_ARGS__); \
		rc = (code); \
		goto fail; \
	} while (0)

static int file_readable(const char *path)
{
	return path != NULL && access(path, R_OK) == 0;
}

/* The CA certificate that issued a CRL (by name), from the context's store. */
static X509 *crl_issuer(X509_STORE *store, const X509_CRL *crl)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (ca != NULL && X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0)
			return ca;
	}
	return NULL;
}

/* Load the CRL(s) of path into the context's store. Each must be signed by a CA of the
 * bundle and not past its nextUpdate: a CRL that is not is refused (the caller keeps its
 * previous trust state). *next_update gets the earliest nextUpdate (Unix ms). */
static int load_crl(X509_STORE *store, const char *path, int64_t *next_update, char *err,
                    size_t errlen)
{
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *bio = BIO_new_file(path, "r");
	time_t now = time(NULL);
	int n = 0, rc = HX_OK;

	*next_update = 0;
	if (bio == NULL)
		FAIL(HX_ENOTFOUND, "CRL %s: cannot read", path);
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	if (infos == NULL)
		FAIL(HX_ETLS, "CRL %s: not PEM", path);
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);
		const ASN1_TIME *nu;
		X509 *ca;
		int64_t nu_ms;
		struct tm tm;
		if (xi->crl == NULL)
			continue;
		ca = crl_issuer(store, xi->crl);
		if (ca == NULL || X509_CRL_verify(xi->crl, X509_get0_pubkey(ca)) != 1)
			FAIL(HX_ETLS, "CRL %s: not signed by a CA of the bundle", path);
		nu = X509_CRL_get0_nextUpdate(xi->crl);
		if (nu == NULL || ASN1_TIME_to_tm(nu, &tm) != 1)
			FAIL(HX_ETLS, "CRL %s: no nextUpdate", path);
		nu_ms = (int64_t)timegm(&tm) * 1000;
		if (X509_cmp_time(nu, &now) < 0)
			FAIL(HX_ETLS, "CRL %s: past its nextUpdate; publish a fresh one", path);
		if (*next_update == 0 || nu_ms < *next_update)
			*next_update = nu_ms;
		if (X509_STORE_add_crl(store, xi->crl) != 1)
			FAIL(HX_ETLS, "CRL %s: cannot add", path);
		n++;
	}
	if (n == 0)
		FAIL(HX_ETLS, "CRL %s: holds no CRL", path);
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
fail:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int crypto_tls_server_new(const struct crypto_tls_server_opts *o, struct crypto_tls_server **out,
                          char *err, size_t errlen)
{
	struct crypto_tls_server *s = NULL;
	SSL_CTX *ctx = NULL;
	char why[160];
	int rc = HX_OK;

	pthread_once(&ex_once, ex_init);
	if (!file_readable(o->cert_file) || !file_readable(o->key_file) ||
	    !file_readable(o->ca_file))
		FAIL(HX_ENOTFOUND, "TLS: cannot read %s",
		     !file_readable(o->cert_file) ? (o->cert_file ? o->cert_file : "(no certificate)")
		     : !file_readable(o->key_file) ? (o->key_file ? o->key_file : "(no key)")
		                                   : (o->ca_file ? o->ca_file : "(no CA bundle)"));
	s = calloc(1, sizeof(*s));
	ctx = SSL_CTX_new(TLS_server_method());
	if (s == NULL || ctx == NULL)
		FAIL(HX_ENOMEM, "TLS: out of memory");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	/* Level 2 whatever the system's openssl.cnf says: keys >= 112 bits (no RSA-1024),
	 * no SHA-1 signatures. */
	SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE |
	                             /* A client that closes without close_notify (HTTP frames by
	                              * Content-Length, so nothing is truncated unseen) must not
	                              * count as a fatal error, which would evict its session. */
	                             SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
		FAIL(HX_ETLS, "TLS: cannot set the cipher policy");
	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
		ssl_reason(why, sizeof(why));
		FAIL(HX_ETLS, "TLS: certificate %s: %s", o->cert_file, why);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_reason(why, sizeof(why));
		FAIL(HX_ETLS, "TLS: key %s does not fit %s: %s", o->key_file, o->cert_file, why);
	}
	if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
		ssl_reason(why, sizeof(why));
		FAIL(HX_ETLS, "TLS: CA bundle %s: %s", o->ca_file, why);
	}
	{
		/* Tell clients which CAs we accept. */
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_file);
		if (names != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	if (o->crl_file != NULL && o->crl_file[0] != '\0' &&
	    (rc = load_crl(SSL_CTX_get_cert_store(ctx), o->crl_file, &s->crl_next_update, err,
	                   errlen)) != HX_OK)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	/* Resumption: server-side cache only; the session id context is the trust generation. */
	/* No automatic flush: OpenSSL would walk the whole cache every 255 handshakes; expired
	 * sessions are flushed by crypto_tls_server_flush() from the daemon's timer instead. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR);
	SSL_CTX_sess_set_cache_size(ctx, o->session_cache != 0 ? o->session_cache : 20480);
	SSL_CTX_set_timeout(ctx, o->session_timeout_s != 0 ? o->session_timeout_s : 300);
	{
		uint8_t sid[16] = "hiepeer-trust";
		memcpy(sid + 8, &o->trust_gen, 8);
		SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid));
	}
	SSL_CTX_set_num_tickets(ctx, 1);
	/* Read whole records (and whatever follows) in one read(2); SSL_has_pending() tells
	 * the caller whether to read again before waiting for the socket. */
	SSL_CTX_set_read_ahead(ctx, 1);
	{
		X509 *own = SSL_CTX_get0_certificate(ctx);
		const ASN1_TIME *na = X509_get0_notAfter(own);
		struct tm tm;
		unsigned int fplen = 0;
		if (na != NULL && ASN1_TIME_to_tm(na, &tm) == 1)
			s->cert_not_after = (int64_t)timegm(&tm) * 1000;
		if (own != NULL)
			X509_digest(own, EVP_sha256(), s->cert_fp, &fplen);
	}
	s->ctx = ctx;
	s->admit = o->admit;
	s->admit_arg = o->admit_arg;
	atomic_init(&s->refs, 1);
	SSL_CTX_set_ex_data(ctx, ex_server_index, s);
	*out = s;
	return HX_OK;
fail:
	SSL_CTX_free(ctx);
	free(s);
	ERR_clear_error();
	return rc;
}

int64_t crypto_tls_server_crl_next_update(const struct crypto_tls_server *s)
{
	return s->crl_next_update;
}

int64_t crypto_tls_server_cert_not_after(const struct crypto_tls_server *s)
{
	return s->cert_not_after;
}

void crypto_tls_server_cert_fingerprint(const struct crypto_tls_server *s,
                                        uint8_t out[CRYPTO_SHA256_LEN])
{
	memcpy(out, s->cert_fp, CRYPTO_SHA256_LEN);
}

void crypto_tls_server_flush(struct crypto_tls_server *s)
{
	SSL_CTX_flush_sessions(s->ctx, (long)time(NULL));
}

struct crypto_tls_server *crypto_tls_server_ref(struct crypto_tls_server *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void crypto_tls_server_free(struct crypto_tls_server *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	SSL_CTX_free(s->ctx);
	free(s);
}

/* ---- connections ------------------------------------------------------------------------ */

int crypto_tls_conn_new(struct crypto_tls_server *s, int fd, struct crypto_tls_conn **out)
{
	struct crypto_tls_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return HX_ENOMEM;
	c->ssl = SSL_new(s->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return HX_ENOMEM;
	}
	SSL_set_accept_state(c->ssl);
	c->srv = crypto_tls_server_ref(s);
	*out = c;
	return HX_OK;
}

void crypto_tls_conn_free(struct crypto_tls_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	crypto_tls_server_free(c->srv);
	free(c);
}

/* Map an SSL_* result. */
static int io_result(struct crypto_tls_conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return CRYPTO_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return CRYPTO_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return CRYPTO_TLS_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			/* EOF or a reset without close_notify. */
			snprintf(c->error, sizeof(c->error), "connection closed (%s)",
			         errno != 0 ? strerror(errno) : "EOF");
			ERR_clear_error();
			return CRYPTO_TLS_EOF;
		}
		ssl_reason(c->error, sizeof(c->error));
		return HX_ETLS;
	default: {
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK)
			snprintf(c->error, sizeof(c->error), "client certificate refused: %s",
			         X509_verify_cert_error_string(v));
		else
			ssl_reason(c->error, sizeof(c->error));
		ERR_clear_error();
		return HX_ETLS;
	}
	}
}

int crypto_tls_conn_handshake(struct crypto_tls_conn *c)
{
	int r;
	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	return r == 1 ? CRYPTO_TLS_DONE : io_result(c, r);
}

int crypto_tls_conn_read(struct crypto_tls_conn *c, void *buf, size_t n, size_t *got)
{
	int r;
	/* The error queue is left empty by every failure path, so no clearing here. */
	errno = 0;
	r = SSL_read_ex(c->ssl, buf, n, got);
	return r == 1 ? CRYPTO_TLS_DONE : io_result(c, 0);
}

int crypto_tls_conn_write(struct crypto_tls_conn *c, const void *buf, size_t n, size_t *put)
{
	int r;
	errno = 0;
	r = SSL_write_ex(c->ssl, buf, n, put);
	if (r == 1)
		return CRYPTO_TLS_DONE;
	r = io_result(c, 0);
	return r == CRYPTO_TLS_EOF ? HX_ETLS : r;
}

void crypto_tls_conn_shutdown(struct crypto_tls_conn *c)
{
	ERR_clear_error();
	if (SSL_is_init_finished(c->ssl))
		SSL_shutdown(c->ssl);
	ERR_clear_error();
}

int crypto_tls_conn_peer_fingerprint(struct crypto_tls_conn *c, uint8_t out[CRYPTO_SHA256_LEN])
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	unsigned int n = CRYPTO_SHA256_LEN;
	if (cert == NULL || X509_digest(cert, EVP_sha256(), out, &n) != 1)
		return HX_EDENIED;
	return HX_OK;
}

const char *crypto_tls_conn_version(const struct crypto_tls_conn *c)
{
	return SSL_get_version(c->ssl);
}

int crypto_tls_conn_has_pending(const struct crypto_tls_conn *c)
{
	return SSL_has_pending(c->ssl);
}

int crypto_tls_conn_resumed(const struct crypto_tls_conn *c)
{
	return SSL_session_reused(c->ssl);
}

const char *crypto_tls_conn_error(const struct crypto_tls_conn *c)
{
	return c->error;
}

/* ---- client side ------------------------------------------------------------------------ */

struct crypto_tls_client {
	atomic_int refs;
	uint8_t id[CRYPTO_SHA256_LEN]; /* SHA-256 of cert (DER) */
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
	X509_STORE *store;
};

/* The fingerprints a client accepts for the server's leaf: the enrolled one, and during a
 * rotation the staged next one. */
struct pin {
	uint8_t fp[2][CRYPTO_SHA256_LEN];
	int n;
};

static int pin_index = -1;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void pin_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void pin_init(void)
{
	pin_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, pin_free);
}

int crypto_tls_client_new(const char *cert_file, const char *key_file, const char *ca_file,
                          const char *crl_file, struct crypto_tls_client **out, char *err,
                          size_t errlen)
{
	struct crypto_tls_client *c = calloc(1, sizeof(*c));
	BIO *bio = NULL;
	char why[160];
	int rc = HX_OK;

	pthread_once(&pin_once, pin_init);
	if (c == NULL)
		FAIL(HX_ENOMEM, "out of memory");
	atomic_init(&c->refs, 1);
	if ((bio = BIO_new_file(cert_file, "r")) == NULL)
		FAIL(HX_ENOTFOUND, "TLS client: cannot read %s", cert_file);
	if ((c->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		FAIL(HX_ETLS, "TLS client: %s holds no certificate", cert_file);
	c->chain = sk_X509_new_null();
	for (X509 *x; (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL;)
		sk_X509_push(c->chain, x);
	ERR_clear_error();
	BIO_free(bio);
	if ((bio = BIO_new_file(key_file, "r")) == NULL)
		FAIL(HX_ENOTFOUND, "TLS client: cannot read %s", key_file);
	if ((c->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		FAIL(HX_ETLS, "TLS client: %s holds no private key", key_file);
	if (X509_check_private_key(c->cert, c->key) != 1)
		FAIL(HX_ETLS, "TLS client: key %s does not fit %s", key_file, cert_file);
	{
		unsigned int n = 0;
		if (X509_digest(c->cert, EVP_sha256(), c->id, &n) != 1 || n != CRYPTO_SHA256_LEN)
			FAIL(HX_ETLS, "TLS client: cannot fingerprint %s", cert_file);
	}
	c->store = X509_STORE_new();
	if (c->store == NULL || X509_STORE_load_file(c->store, ca_file) != 1) {
		ssl_reason(why, sizeof(why));
		FAIL(HX_ETLS, "TLS client: CA bundle %s: %s", ca_file, why);
	}
	if (crl_file != NULL && crl_file[0] != '\0') { /* peers we call are checked against it too */
		int64_t next_update;
		if ((rc = load_crl(c->store, crl_file, &next_update, err, errlen)) != HX_OK)
			goto fail;
	}
	BIO_free(bio);
	*out = c;
	return HX_OK;
fail:
	BIO_free(bio);
	crypto_tls_client_free(c);
	ERR_clear_error();
	return rc;
}

void crypto_tls_client_id(const struct crypto_tls_client *c, uint8_t out[CRYPTO_SHA256_LEN])
{
	memcpy(out, c->id, CRYPTO_SHA256_LEN);
}

struct crypto_tls_client *crypto_tls_client_up_ref(struct crypto_tls_client *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

void crypto_tls_client_free(struct crypto_tls_client *c)
{
	if (c == NULL || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	X509_free(c->cert);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	X509_STORE_free(c->store);
	free(c);
}

/* Depth 0 of the server's chain: its fingerprint must be the pinned one. */
static int client_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;
	const struct pin *pin;
	uint8_t fp[CRYPTO_SHA256_LEN];
	unsigned int n = sizeof(fp);
	int match = 0;

	/* As the server does: a CRL past its nextUpdate still lists what it listed. */
	if (!ok && X509_STORE_CTX_get_error(xs) == X509_V_ERR_CRL_HAS_EXPIRED) {
		X509_STORE_CTX_set_error(xs, X509_V_OK);
		ok = 1;
	}
	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	pin = ssl != NULL ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pin_index) : NULL;
	if (pin == NULL)
		return ok;
	if (X509_check_ca(X509_STORE_CTX_get_current_cert(xs)) == 0 &&
	    X509_digest(X509_STORE_CTX_get_current_cert(xs), EVP_sha256(), fp, &n) == 1)
		for (int i = 0; i < pin->n; i++)
			match |= memcmp(fp, pin->fp[i], sizeof(fp)) == 0;
	if (!match) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

int crypto_tls_client_configure(const struct crypto_tls_client *c, void *ssl_ctx,
                                const uint8_t fp[CRYPTO_SHA256_LEN],
                                const uint8_t fp_next[CRYPTO_SHA256_LEN])
{
	SSL_CTX *ctx = ssl_ctx;
	struct pin *pin = NULL;

	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_security_level(ctx, 2);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1 ||
	    SSL_CTX_use_certificate(ctx, c->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, c->key) != 1)
		goto fail;
	for (int i = 0; i < sk_X509_num(c->chain); i++)
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(c->chain, i)) != 1)
			goto fail;
	/* The shared store: one more reference, nothing read from disk. */
	if (X509_STORE_up_ref(c->store) != 1)
		goto fail;
	SSL_CTX_set_cert_store(ctx, c->store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, client_verify_cb);
	if (fp != NULL) {
		pthread_once(&pin_once, pin_init);
		pin = calloc(1, sizeof(*pin));
		if (pin == NULL)
			goto fail;
		memcpy(pin->fp[pin->n++], fp, CRYPTO_SHA256_LEN);
		if (fp_next != NULL)
			memcpy(pin->fp[pin->n++], fp_next, CRYPTO_SHA256_LEN);
		if (SSL_CTX_set_ex_data(ctx, pin_index, pin) != 1) {
			free(pin);
			goto fail;
		}
	}
	return HX_OK;
fail:
	ERR_clear_error();
	return HX_ETLS;
}
