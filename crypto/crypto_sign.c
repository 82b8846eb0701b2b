/* crypto_sign.c: origin signatures of documents (crypto.h). */
#include "crypto.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crypto_signer {
	EVP_PKEY *key;
};

/* The signed bytes: "hiepeer-doc-sig-v1" 0x1f ORIGIN 0x1f DOCID 0x1f SHA256-HEX 0x1f SIZE. */
static int message(const char *origin, const char *doc_id, const uint8_t sha256[32],
                   uint64_t size, char *out, size_t outlen)
{
	char hex[65];
	int n;
	hx_hex_encode(sha256, 32, hex);
	n = snprintf(out, outlen, "hiepeer-doc-sig-v1\x1f%s\x1f%s\x1f%s\x1f%llu", origin, doc_id, hex,
	             (unsigned long long)size);
	return n > 0 && (size_t)n < outlen ? n : -1;
}

/* Ed25519 and Ed448 sign the message itself; the others a SHA-256 digest of it. */
static const EVP_MD *md_for(EVP_PKEY *k)
{
	int id = EVP_PKEY_get_base_id(k);
	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
}

int crypto_signer_new(const char *key_path, struct crypto_signer **out, char *err,
                      size_t errlen)
{
	struct crypto_signer *s;
	BIO *b = BIO_new_file(key_path, "r");
	EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (k == NULL) {
		snprintf(err, errlen, "%s: no usable private key (PEM, not encrypted)", key_path);
		return HX_EPARSE;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		EVP_PKEY_free(k);
		return HX_ENOMEM;
	}
	s->key = k;
	*out = s;
	return HX_OK;
}

void crypto_signer_free(struct crypto_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	free(s);
}

int crypto_doc_sign(struct crypto_signer *s, const char *origin_org, const char *doc_id,
                    const uint8_t sha256[32], uint64_t size, struct hx_buf *sig)
{
	char msg[512];
	int n = message(origin_org, doc_id, sha256, size, msg, sizeof(msg));
	EVP_MD_CTX *ctx;
	size_t len = 0;
	int rc = HX_ETLS;
	if (n < 0)
		return HX_EINVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return HX_ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, md_for(s->key), NULL, s->key) == 1 &&
	    EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)msg, (size_t)n) == 1) {
		hx_buf_reset(sig);
		if (hx_buf_reserve(sig, len) != HX_OK)
			rc = HX_ENOMEM;
		else if (EVP_DigestSign(ctx, sig->data, &len, (const unsigned char *)msg, (size_t)n) ==
		         1) {
			sig->len = len;
			rc = HX_OK;
		}
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int crypto_doc_verify(const uint8_t *cert_der, size_t cert_len, const char *origin_org,
                      const char *doc_id, const uint8_t sha256[32], uint64_t size,
                      const uint8_t *sig, size_t siglen)
{
	const unsigned char *p = cert_der;
	X509 *x = cert_len > 0 ? d2i_X509(NULL, &p, (long)cert_len) : NULL;
	EVP_PKEY *k = x != NULL ? X509_get0_pubkey(x) : NULL;
	EVP_MD_CTX *ctx = NULL;
	char msg[512];
	int n = message(origin_org, doc_id, sha256, size, msg, sizeof(msg)), rc = HX_EDENIED;
	if (k == NULL || n < 0) {
		X509_free(x);
		ERR_clear_error();
		return HX_EPARSE;
	}
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, md_for(k), NULL, k) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)msg, (size_t)n) == 1)
		rc = HX_OK;
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int crypto_cert_der_load(const char *pem_path, struct hx_buf *der, char *err, size_t errlen)
{
	BIO *b = BIO_new_file(pem_path, "r");
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *out = NULL;
	int len;
	BIO_free(b);
	if (x == NULL || (len = i2d_X509(x, &out)) <= 0) {
		X509_free(x);
		ERR_clear_error();
		snprintf(err, errlen, "%s: no certificate", pem_path);
		return HX_EPARSE;
	}
	X509_free(x);
	hx_buf_reset(der);
	len = hx_buf_append(der, out, (size_t)len) == HX_OK ? len : -1;
	OPENSSL_free(out);
	return len > 0 ? HX_OK : HX_ELIMIT;
}
