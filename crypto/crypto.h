/*
 * crypto/crypto.h: every OpenSSL call of hiepeer lives behind this header.
 *
 * This header exposes no OpenSSL types, so modules that must not see OpenSSL (store/)
 * may use its hashing functions. Later issues add TLS contexts, certificates, signatures
 * and patient tokens here.
 */
#ifndef HX_CRYPTO_H
#define HX_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "hx.h"

#define CRYPTO_SHA256_LEN 32

/* SHA-256 of one buffer. */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);

/* SHA-256 over several buffers, as if concatenated. */
struct crypto_iov {
	const void *data;
	size_t len;
};
void crypto_sha256_v(const struct crypto_iov *iov, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);

/* Fill buf with n bytes from the OS CSPRNG (via OpenSSL). HX_EINTERNAL if it fails. */
int crypto_random(void *buf, size_t n);

/* A fresh 128-bit document id as 32 lowercase hex digits (out: 33 bytes). */
int crypto_doc_id_new(char out[33]);

/* "SHA256:<64 hex>" for a 32-byte fingerprint (out: 72 bytes). */
void crypto_fingerprint_format(const uint8_t fp[CRYPTO_SHA256_LEN], char *out, size_t size);

/* Wipe memory that held a secret. */
void crypto_wipe(void *p, size_t n);

#endif
