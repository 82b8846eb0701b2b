/* crypto_hash.c: hashing, randomness and fingerprints. */
#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
	struct crypto_iov iov = {data, len};
	crypto_sha256_v(&iov, 1, out);
}

void crypto_sha256_v(const struct crypto_iov *iov, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
	static EVP_MD *sha256; /* fetched once: EVP_get_digestbyname per call is slow */
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int outlen = CRYPTO_SHA256_LEN;
	const EVP_MD *md = __atomic_load_n(&sha256, __ATOMIC_ACQUIRE);

	if (md == NULL) {
		EVP_MD *fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
		EVP_MD *expected = NULL;
		if (fetched != NULL && !__atomic_compare_exchange_n(&sha256, &expected, fetched, 0,
		                                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			EVP_MD_free(fetched);
		md = __atomic_load_n(&sha256, __ATOMIC_ACQUIRE);
	}
	if (ctx == NULL || md == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (iov[i].len != 0 && EVP_DigestUpdate(ctx, iov[i].data, iov[i].len) != 1)
			goto fail;
	if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1)
		goto fail;
	EVP_MD_CTX_free(ctx);
	return;
fail:
	/* Only allocation failure gets here; a zero hash would be silently wrong. */
	EVP_MD_CTX_free(ctx);
	hx_log_err("crypto: SHA-256 failed (out of memory)");
	abort();
}

int crypto_random(void *buf, size_t n)
{
	if (n > INT32_MAX || RAND_bytes(buf, (int)n) != 1)
		return HX_EINTERNAL;
	return HX_OK;
}

int crypto_doc_id_new(char out[33])
{
	uint8_t raw[16];
	int rc = crypto_random(raw, sizeof(raw));
	if (rc != HX_OK)
		return rc;
	hx_hex_encode(raw, sizeof(raw), out);
	return HX_OK;
}

void crypto_fingerprint_format(const uint8_t fp[CRYPTO_SHA256_LEN], char *out, size_t size)
{
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	hx_hex_encode(fp, CRYPTO_SHA256_LEN, hex);
	snprintf(out, size, "SHA256:%s", hex);
}

void crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
