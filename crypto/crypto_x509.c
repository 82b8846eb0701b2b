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

/* ---- validation before enrolment -------------------------------------------------------- */

/* Read the certificates of a PEM text, at most max: HX_OK (possibly none), HX_ELIMIT (more
 * than max), HX_EPARSE (a malformed PEM block or certificate), HX_ENOMEM. */
static int pem_certs(const struct hx_buf *b, size_t max, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio = NULL;
	X509 *x;
	int rc = HX_ENOMEM;

	if (sk == NULL || (bio = BIO_new_mem_buf(b->data, (int)b->len)) == NULL)
		goto fail;
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		if ((size_t)sk_X509_num(sk) >= max) {
			X509_free(x);
			rc = HX_ELIMIT;
			goto fail;
		}
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			goto fail;
		}
	}
	/* The end of the text reads as "no start line"; anything else is a damaged block. */
	if (ERR_GET_LIB(ERR_peek_last_error()) != ERR_LIB_PEM ||
	    ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		rc = HX_EPARSE;
		goto fail;
	}
	ERR_clear_error();
	BIO_free(bio);
	*out = sk;
	return HX_OK;
fail:
	ERR_clear_error();
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

/* The CRLs of a PEM text into the store; HX_EPARSE if there are none or one is damaged. */
static int pem_crls(const struct hx_buf *b, X509_STORE *st)
{
	BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);
	X509_CRL *crl;
	int n = 0, rc = HX_OK;

	if (bio == NULL)
		return HX_ENOMEM;
	ERR_clear_error();
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, no_passphrase, NULL)) != NULL) {
		int ok = X509_STORE_add_crl(st, crl);
		X509_CRL_free(crl);
		if (ok != 1) {
			rc = HX_ENOMEM;
			goto done;
		}
		n++;
	}
	if (n == 0 || ERR_GET_LIB(ERR_peek_last_error()) != ERR_LIB_PEM ||
	    ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
		rc = HX_EPARSE;
done:
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

/* What the leaf says about itself: the organisation, dates, role, usages and strength. */
static int leaf_check(const struct crypto_cert_info *ci, const char *org_id, int64_t now_ms,
                      char *why, size_t whylen)
{
	static const char *const strong[] = {"EC P-256", "EC P-384", "EC P-521", "ED25519",
	                                     "ED448"};
	unsigned both = CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH;
	int key_ok = 0;
	char t[32];

	switch (ci->org_state) {
	case CRYPTO_CERT_ORG_NONE:
		return crypto_say(why, whylen, HX_EDENIED,
		                  "names no organisation (no SAN URI urn:oid:OID)");
	case CRYPTO_CERT_ORG_MALFORMED:
		return crypto_say(why, whylen, HX_EDENIED, "has a malformed urn:oid: URI");
	case CRYPTO_CERT_ORG_AMBIGUOUS:
		return crypto_say(why, whylen, HX_EDENIED, "names several organisations");
	default:
		break;
	}
	if (org_id == NULL || strcmp(ci->org_id, org_id) != 0)
		return crypto_say(why, whylen, HX_EDENIED, "is for organisation %s, not %s",
		                  ci->org_id, org_id != NULL ? org_id : "(none)");
	if (now_ms < ci->not_before) {
		hx_time_format(ci->not_before, t, sizeof(t));
		return crypto_say(why, whylen, HX_EDENIED, "is not yet valid (not before %s)", t);
	}
	if (now_ms > ci->not_after) {
		hx_time_format(ci->not_after, t, sizeof(t));
		return crypto_say(why, whylen, HX_EDENIED, "expired on %s", t);
	}
	if (ci->is_ca || (ci->has_key_usage && (ci->key_usage & CRYPTO_KU_KEY_CERT_SIGN)))
		return crypto_say(why, whylen, HX_EDENIED,
		                  "is a CA certificate (CA:TRUE or keyCertSign), "
		                  "not an end-entity");
	if (ci->has_key_usage && !(ci->key_usage & CRYPTO_KU_DIGITAL_SIGNATURE))
		return crypto_say(why, whylen, HX_EDENIED, "key usage lacks digitalSignature");
	if (!ci->has_ext_key_usage || (ci->ext_key_usage & both) != both)
		return crypto_say(why, whylen, HX_EDENIED,
		                  "extended key usage lacks %s (a peer is a TLS server and client)",
		                  !(ci->ext_key_usage & CRYPTO_EKU_SERVER_AUTH) ? "serverAuth"
		                                                                 : "clientAuth");
	for (size_t i = 0; i < HX_ARRAY_SIZE(strong); i++)
		if (strcmp(ci->key_type, strong[i]) == 0)
			key_ok = 1;
	if (strncmp(ci->key_type, "RSA ", 4) == 0 && ci->key_bits >= 2048)
		key_ok = 1;
	if (!key_ok)
		return crypto_say(why, whylen, HX_EDENIED,
		                  "has a weak or unsupported key (%s; EC P-256 or stronger, or RSA "
		                  "of 2048 bits or more, is needed)",
		                  ci->key_type);
	if (ci->sig_security_bits < 112)
		return crypto_say(why, whylen, HX_EDENIED,
		                  "has a weak signature (%s; SHA-256 or stronger is needed)",
		                  ci->sig_alg);
	return HX_OK;
}

/* One sentence for X509_verify_cert()'s verdict. */
static int chain_refusal(int e, const char *ca_file, const char *crl_file, char *why,
                         size_t whylen)
{
	const char *s = X509_verify_cert_error_string(e);

	switch (e) {
	case X509_V_ERR_CERT_REVOKED:
		return crypto_say(why, whylen, HX_EDENIED, "is revoked in the CRL %s", crl_file);
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return crypto_say(why, whylen, HX_EDENIED,
		                  "is self-signed, not issued by the community CA in %s", ca_file);
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return crypto_say(why, whylen, HX_EDENIED,
		                  "is not issued by the community CA in %s (%s)", ca_file, s);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
		return crypto_say(why, whylen, HX_EDENIED,
		                  "cannot be checked against the CRL %s (%s)", crl_file, s);
	default:
		return crypto_say(why, whylen, HX_EDENIED,
		                  "does not verify against the community CA in %s (%s)", ca_file,
		                  s);
	}
}

int crypto_cert_validate(const char *pem_path, const char *ca_file, const char *crl_file,
                         const char *org_id, int64_t now_ms, struct crypto_cert_info *info,
                         char *why, size_t whylen)
{
	struct hx_buf pb = {0}, cb = {0}, rb = {0};
	STACK_OF(X509) *chain = NULL, *cas = NULL;
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	struct crypto_cert_info *ci = NULL;
	int have_crl = crl_file != NULL && crl_file[0] != '\0';
	char err[256];
	int rc;

	if ((rc = crypto_file_read(pem_path, CRYPTO_PEM_FILE_MAX, &pb, why, whylen)) != HX_OK)
		return rc;
	rc = pem_certs(&pb, CRYPTO_CHAIN_MAX, &chain);
	if (rc == HX_ELIMIT) {
		crypto_say(why, whylen, rc, "%s: more than %d certificates in one file", pem_path,
		           CRYPTO_CHAIN_MAX);
		goto out;
	}
	if (rc == HX_EPARSE) {
		crypto_say(why, whylen, rc, "%s: malformed PEM (a damaged block or certificate)",
		           pem_path);
		goto out;
	}
	if (rc != HX_OK) {
		crypto_say(why, whylen, rc, "%s: %s", pem_path, hx_strerror(rc));
		goto out;
	}
	if (sk_X509_num(chain) == 0) {
		rc = crypto_say(why, whylen, HX_EPARSE, "%s: no PEM certificate found", pem_path);
		goto out;
	}
	if ((ci = calloc(1, sizeof(*ci))) == NULL) {
		rc = crypto_say(why, whylen, HX_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = info_from_x509(sk_X509_value(chain, 0), ci, err, sizeof(err))) != HX_OK ||
	    (rc = leaf_check(ci, org_id, now_ms, err, sizeof(err))) != HX_OK) {
		crypto_say(why, whylen, rc, "%s: %s", pem_path, err);
		goto out;
	}

	/* The chain, to the community CA, at now_ms, and the CRL. */
	if ((rc = crypto_file_read(ca_file, CRYPTO_PEM_FILE_MAX, &cb, why, whylen)) != HX_OK)
		goto out;
	if ((rc = pem_certs(&cb, 1000, &cas)) != HX_OK || sk_X509_num(cas) == 0) {
		rc = rc == HX_ENOMEM ? rc : HX_EPARSE;
		crypto_say(why, whylen, rc, "%s: no usable CA certificate", ca_file);
		goto out;
	}
	if ((st = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL)
		goto nomem;
	for (int i = 0; i < sk_X509_num(cas); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(cas, i)) != 1)
			goto nomem;
	if (have_crl) {
		rc = crypto_file_read(crl_file, CRYPTO_PEM_FILE_MAX, &rb, why, whylen);
		if (rc != HX_OK)
			goto out;
		if ((rc = pem_crls(&rb, st)) != HX_OK) {
			crypto_say(why, whylen, rc, "%s: %s", crl_file,
			           rc == HX_EPARSE ? "not a PEM CRL" : hx_strerror(rc));
			goto out;
		}
	}
	if (X509_STORE_CTX_init(ctx, st, sk_X509_value(chain, 0), chain) != 1)
		goto nomem;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)(now_ms / 1000));
	X509_VERIFY_PARAM_set_auth_level(param, 2); /* 112-bit keys and signatures throughout */
	if (have_crl)
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
	if (X509_verify_cert(ctx) != 1) {
		rc = chain_refusal(X509_STORE_CTX_get_error(ctx), ca_file, crl_file, err,
		                   sizeof(err));
		crypto_say(why, whylen, rc, "%s: %s", pem_path, err);
		goto out;
	}
	if (info != NULL)
		*info = *ci;
	rc = HX_OK;
	goto out;
nomem:
	rc = crypto_say(why, whylen, HX_ENOMEM, "out of memory");
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_pop_free(chain, X509_free);
	free(ci);
	hx_buf_clear(&pb);
	hx_buf_clear(&cb);
	hx_buf_clear(&rb);
	return rc;
}
