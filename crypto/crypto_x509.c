/* crypto_x509.c: certificate inspection (fingerprint, names, validity, key, usages, the
 * organisation id in the SAN) and whether a key belongs to a certificate. */
#include "crypto.h"
#include "crypto_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define URN_OID "urn:oid:"

/* Put a sentence in err[errlen] and return rc. */
int crypto_say(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int too_large(char *err, size_t errlen, const char *path, size_t max)
{
	if (max >= 1024)
		return crypto_say(err, errlen, HX_ELIMIT, "%s: larger than %zu KiB", path, max / 1024);
	return crypto_say(err, errlen, HX_ELIMIT, "%s: larger than %zu bytes", path, max);
}

int crypto_file_read(const char *path, size_t max, struct hx_buf *out, char *err, size_t errlen)
{
	struct hx_buf b;
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below as not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return crypto_say(err, errlen, HX_ENOTFOUND, "%s: no such file", path);
		if (errno == EACCES || errno == EPERM)
			return crypto_say(err, errlen, HX_EPERM, "%s: permission denied", path);
		return crypto_say(err, errlen, HX_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = crypto_say(err, errlen, HX_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return crypto_say(err, errlen, HX_EINVAL, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return too_large(err, errlen, path, max);
	}
	hx_buf_init(&b, max);
	/* Room for the whole file at once: a key is not left behind in a realloc'd block. */
	if ((rc = hx_buf_reserve(&b, (size_t)st.st_size)) != HX_OK) {
		rc = crypto_say(err, errlen, rc, "%s: %s", path, hx_strerror(rc));
		goto fail;
	}
	for (;;) {
		size_t room = b.cap > 0 ? b.cap - 1 - b.len : 0;
		uint8_t probe;
		ssize_t n;

		if (room == 0) {
			/* Full as sized by fstat: EOF here is the normal end; more data means the
			 * file grew (past max: refused). */
			n = read(fd, &probe, 1);
			if (n > 0 && (rc = hx_buf_append(&b, &probe, 1)) != HX_OK) {
				if (rc == HX_ELIMIT)
					too_large(err, errlen, path, max);
				else
					crypto_say(err, errlen, rc, "%s: %s", path, hx_strerror(rc));
				goto fail;
			}
		} else {
			n = read(fd, b.data + b.len, room);
			if (n > 0)
				b.len += (size_t)n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = crypto_say(err, errlen, HX_EIO, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
	}
	close(fd);
	b.data[b.len] = '\0';
	*out = b;
	return HX_OK;
fail:
	close(fd);
	hx_buf_wipe_clear(&b);
	return rc;
}

/* ---- strings from certificates ---------------------------------------------------------- */

/* Copy n bytes of (supposedly) UTF-8 text, replacing controls and NULs by '?', cutting at a
 * character boundary to fit size. */
static void text_copy(char *dst, size_t size, const unsigned char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = s[i];
		if (ch < 0x20 || ch == 0x7f)
			ch = '?';
		if (o + 1 >= size)
			break;
		dst[o++] = (char)ch;
	}
	/* Do not end inside a multi-byte character. */
	if (o < n && o > 0) {
		size_t k = o;
		while (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0xc0)
			o = k - 1;
	}
	dst[o] = '\0';
}

static void name_entry(const X509_NAME *nm, int nid, char *out, size_t size)
{
	int idx = X509_NAME_get_index_by_NID(nm, nid, -1);
	unsigned char *utf8 = NULL;
	int n;

	out[0] = '\0';
	if (idx < 0)
		return;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, idx)));
	if (n >= 0)
		text_copy(out, size, utf8, (size_t)n);
	OPENSSL_free(utf8);
}

static int asn1_time_ms(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return HX_EPARSE;
	*out = (int64_t)timegm(&tm) * 1000;
	return HX_OK;
}

/* ---- the parts of a certificate --------------------------------------------------------- */

static void key_describe(X509 *x, struct crypto_cert_info *o)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[40];
	size_t glen;

	snprintf(o->key_type, sizeof(o->key_type), "unknown");
	o->key_bits = 0;
	o->key_security_bits = 0;
	if (pk == NULL) {
		ERR_clear_error();
		return;
	}
	o->key_bits = EVP_PKEY_get_bits(pk);
	o->key_security_bits = EVP_PKEY_get_security_bits(pk);
	if (EVP_PKEY_is_a(pk, "EC")) {
		const char *nist = NULL;
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                   sizeof(group), &glen) != 1)
			snprintf(group, sizeof(group), "?");
		else
			nist = EC_curve_nid2nist(OBJ_sn2nid(group));
		snprintf(o->key_type, sizeof(o->key_type), "EC %s", nist != NULL ? nist : group);
	} else if (EVP_PKEY_is_a(pk, "RSA")) {
		snprintf(o->key_type, sizeof(o->key_type), "RSA %d", o->key_bits);
	} else if (EVP_PKEY_get0_type_name(pk) != NULL) {
		snprintf(o->key_type, sizeof(o->key_type), "%s", EVP_PKEY_get0_type_name(pk));
	}
}

static void sig_describe(const X509 *x, struct crypto_cert_info *o)
{
	int nid = X509_get_signature_nid(x), secbits = -1;
	const char *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;

	snprintf(o->sig_alg, sizeof(o->sig_alg), "%s", ln != NULL ? ln : "unknown");
	if (X509_get_signature_info((X509 *)x, NULL, NULL, &secbits, NULL) != 1)
		secbits = -1;
	o->sig_security_bits = secbits;
}

static const struct {
	uint32_t openssl;
	unsigned ours;
} ku_map[] = {
	{KU_DIGITAL_SIGNATURE, CRYPTO_KU_DIGITAL_SIGNATURE},
	{KU_KEY_ENCIPHERMENT, CRYPTO_KU_KEY_ENCIPHERMENT},
	{KU_KEY_AGREEMENT, CRYPTO_KU_KEY_AGREEMENT},
	{KU_KEY_CERT_SIGN, CRYPTO_KU_KEY_CERT_SIGN},
	{KU_CRL_SIGN, CRYPTO_KU_CRL_SIGN},
	{KU_NON_REPUDIATION, CRYPTO_KU_OTHER},
	{KU_DATA_ENCIPHERMENT, CRYPTO_KU_OTHER},
	{KU_ENCIPHER_ONLY, CRYPTO_KU_OTHER},
	{KU_DECIPHER_ONLY, CRYPTO_KU_OTHER},
};

static const struct {
	int nid;
	unsigned ours;
} eku_map[] = {
	{NID_server_auth, CRYPTO_EKU_SERVER_AUTH},
	{NID_client_auth, CRYPTO_EKU_CLIENT_AUTH},
	{NID_email_protect, CRYPTO_EKU_EMAIL},
	{NID_code_sign, CRYPTO_EKU_CODE_SIGNING},
	{NID_anyExtendedKeyUsage, CRYPTO_EKU_ANY},
};

static void usage_describe(X509 *x, struct crypto_cert_info *o)
{
	uint32_t ku = X509_get_key_usage(x);
	EXTENDED_KEY_USAGE *eku;

	o->has_key_usage = (X509_get_extension_flags(x) & EXFLAG_KUSAGE) != 0;
	o->key_usage = 0;
	if (o->has_key_usage)
		for (size_t i = 0; i < HX_ARRAY_SIZE(ku_map); i++)
			if (ku & ku_map[i].openssl)
				o->key_usage |= ku_map[i].ours;
	o->ext_key_usage = 0;
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	o->has_ext_key_usage = eku != NULL;
	for (int i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
		int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
		unsigned bit = CRYPTO_EKU_OTHER;
		for (size_t k = 0; k < HX_ARRAY_SIZE(eku_map); k++)
			if (eku_map[k].nid == nid)
				bit = eku_map[k].ours;
		o->ext_key_usage |= bit;
	}
	EXTENDED_KEY_USAGE_free(eku);
}

/* Append "sep label value" to the SAN text, with "..." once it no longer fits. */
static void san_append(char *san, size_t size, const char *label, const unsigned char *v,
                       size_t n)
{
	size_t len = strlen(san);
	char val[CRYPTO_CERT_SAN_MAX];

	if (len >= 3 && strcmp(san + len - 3, "...") == 0)
		return;
	text_copy(val, sizeof(val), v, n);
	if (len + (len ? 2 : 0) + strlen(label) + strlen(val) + 4 >= size) {
		if (len + 4 <= size)
			memcpy(san + len, "...", 4);
		return;
	}
	snprintf(san + len, size - len, "%s%s%s", len ? ", " : "", label, val);
}

/* An organisation id from a SAN URI: digits and dots only, 1..64 of them. */
static int org_chars_ok(const unsigned char *s, size_t n)
{
	if (n == 0 || n >= CRYPTO_CERT_ORG_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return 0;
	return 1;
}

static void org_seen(struct crypto_cert_info *o, const unsigned char *s, size_t n)
{
	if (o->org_state == CRYPTO_CERT_ORG_MALFORMED || o->org_state == CRYPTO_CERT_ORG_AMBIGUOUS)
		return;
	if (!org_chars_ok(s, n)) {
		o->org_state = CRYPTO_CERT_ORG_MALFORMED;
		o->org_id[0] = '\0';
		return;
	}
	if (o->org_state == CRYPTO_CERT_ORG_OK) {
		if (strlen(o->org_id) != n || memcmp(o->org_id, s, n) != 0) {
			o->org_state = CRYPTO_CERT_ORG_AMBIGUOUS;
			o->org_id[0] = '\0';
		}
		return;
	}
	memcpy(o->org_id, s, n);
	o->org_id[n] = '\0';
	o->org_state = CRYPTO_CERT_ORG_OK;
}

static void san_describe(X509 *x, struct crypto_cert_info *o)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	o->san[0] = '\0';
	o->org_id[0] = '\0';
	o->org_state = CRYPTO_CERT_ORG_NONE;
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		size_t n;
		char ip[INET6_ADDRSTRLEN];

		switch (g->type) {
		case GEN_DNS:
		case GEN_URI:
		case GEN_EMAIL:
			d = ASN1_STRING_get0_data(g->d.ia5);
			n = (size_t)ASN1_STRING_length(g->d.ia5);
			san_append(o->san, sizeof(o->san),
			           g->type == GEN_DNS   ? "DNS:"
			           : g->type == GEN_URI ? "URI:"
			                                : "email:",
			           d, n);
			if (g->type == GEN_URI && n >= strlen(URN_OID) &&
			    strncasecmp((const char *)d, URN_OID, strlen(URN_OID)) == 0)
				org_seen(o, d + strlen(URN_OID), n - strlen(URN_OID));
			break;
		case GEN_IPADD:
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			n = (size_t)ASN1_STRING_length(g->d.iPAddress);
			if ((n != 4 && n != 16) ||
			    inet_ntop(n == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip)) == NULL)
				snprintf(ip, sizeof(ip), "?");
			san_append(o->san, sizeof(o->san), "IP:", (const unsigned char *)ip,
			           strlen(ip));
			break;
		default:
			san_append(o->san, sizeof(o->san), "other:", (const unsigned char *)"?", 1);
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

static int serial_describe(const X509 *x, char *out, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int rc = HX_EPARSE;

	if (hex != NULL && strlen(hex) < size) {
		for (char *p = hex; *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
		snprintf(out, size, "%s", hex);
		rc = HX_OK;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

/* Fill *out from a decoded certificate. */
static int info_from_x509(X509 *x, struct crypto_cert_info *out, char *err, size_t errlen)
{
	struct crypto_cert_info *o = calloc(1, sizeof(*o)); /* 3 KiB: not on small stacks */
	BASIC_CONSTRAINTS *bc;
	unsigned int mdlen = 0;
	int rc;

	if (o == NULL)
		return crypto_say(err, errlen, HX_ENOMEM, "out of memory");
	/* Decoding extensions sets EXFLAG_INVALID for a malformed or repeated extension. */
	if (X509_get_extension_flags(x) & EXFLAG_INVALID) {
		rc = crypto_say(err, errlen, HX_EPARSE,
		         "certificate has malformed or repeated extensions");
		goto fail;
	}
	if (X509_digest(x, EVP_sha256(), o->fingerprint, &mdlen) != 1 ||
	    mdlen != CRYPTO_SHA256_LEN) {
		rc = crypto_say(err, errlen, HX_ENOMEM, "cannot hash the certificate");
		goto fail;
	}
	if (serial_describe(x, o->serial, sizeof(o->serial)) != HX_OK) {
		rc = crypto_say(err, errlen, HX_EPARSE, "certificate serial is longer than 32 bytes");
		goto fail;
	}
	if (asn1_time_ms(X509_get0_notBefore(x), &o->not_before) != HX_OK ||
	    asn1_time_ms(X509_get0_notAfter(x), &o->not_after) != HX_OK) {
		rc = crypto_say(err, errlen, HX_EPARSE, "certificate validity dates are malformed");
		goto fail;
	}
	name_entry(X509_get_subject_name(x), NID_commonName, o->subject_cn, sizeof(o->subject_cn));
	name_entry(X509_get_subject_name(x), NID_organizationName, o->subject_o,
	           sizeof(o->subject_o));
	name_entry(X509_get_issuer_name(x), NID_commonName, o->issuer_cn, sizeof(o->issuer_cn));
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	o->is_ca = bc != NULL && bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	o->self_issued = (X509_get_extension_flags(x) & EXFLAG_SI) != 0;
	key_describe(x, o);
	sig_describe(x, o);
	usage_describe(x, o);
	san_describe(x, o);
	ERR_clear_error();
	*out = *o;
	free(o);
	return HX_OK;
fail:
	ERR_clear_error();
	free(o);
	return rc;
}

/* Never prompt for a passphrase: an encrypted key is refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static X509 *x509_from_pem(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	return x;
}

int crypto_cert_info_from_pem(const char *pem, size_t len, struct crypto_cert_info *out,
                              char *err, size_t errlen)
{
	X509 *x;
	int rc;

	if (len > CRYPTO_PEM_FILE_MAX)
		return crypto_say(err, errlen, HX_ELIMIT, "PEM text larger than %u KiB",
		           CRYPTO_PEM_FILE_MAX / 1024);
	if ((x = x509_from_pem(pem, len)) == NULL)
		return crypto_say(err, errlen, HX_EPARSE, "no PEM certificate found");
	rc = info_from_x509(x, out, err, errlen);
	X509_free(x);
	return rc;
}

int crypto_cert_info_load(const char *pem_path, struct crypto_cert_info *out, char *err,
                          size_t errlen)
{
	struct hx_buf b;
	char why[160];
	int rc;

	if ((rc = crypto_file_read(pem_path, CRYPTO_PEM_FILE_MAX, &b, err, errlen)) != HX_OK)
		return rc;
	rc = crypto_cert_info_from_pem((const char *)b.data, b.len, out, why, sizeof(why));
	if (rc != HX_OK)
		crypto_say(err, errlen, rc, "%s: %s", pem_path, why);
	hx_buf_clear(&b);
	return rc;
}

int crypto_key_matches_cert(const char *key_path, const char *cert_path)
{
	struct hx_buf kb = {0}, cb = {0};
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	int rc;

	if ((rc = crypto_file_read(key_path, CRYPTO_PEM_FILE_MAX, &kb, NULL, 0)) != HX_OK)
		return rc;
	if ((rc = crypto_file_read(cert_path, CRYPTO_PEM_FILE_MAX, &cb, NULL, 0)) != HX_OK)
		goto fail;
	rc = HX_EPARSE;
	if ((x = x509_from_pem((const char *)cb.data, cb.len)) == NULL)
		goto fail;
	if ((bio = BIO_new_mem_buf(kb.data, (int)kb.len)) == NULL) {
		rc = HX_ENOMEM;
		goto fail;
	}
	if ((key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL)
		goto fail;
	rc = X509_check_private_key(x, key) == 1 ? HX_OK : HX_EINVAL;
fail:
	ERR_clear_error();
	EVP_PKEY_free(key);
	BIO_free(bio);
	X509_free(x);
	hx_buf_wipe_clear(&kb);
	hx_buf_clear(&cb);
	return rc;
}
