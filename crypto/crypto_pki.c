/* crypto_pki.c: a throw-away PKI for tests, the demo and small regions: a CA directory, node
 * certificates (and deliberately wrong ones for the test matrix), CRLs. */
#include "crypto.h"
#include "crypto_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAYS_MAX 36500u
#define DAY_S 86400
#define INDEX_MAX (16u << 20)
#define NAME_MAX_BYTES 64 /* ub-common-name, ub-organization-name */
#define SERIAL_BYTES 16
#define SERIAL_HEX_MAX (2 * SERIAL_BYTES + 1)

static const char *const variant_names[] = {
	[CRYPTO_PKI_NORMAL] = "normal",
	[CRYPTO_PKI_EXPIRED] = "expired",
	[CRYPTO_PKI_NOT_YET_VALID] = "not-yet-valid",
	[CRYPTO_PKI_SELF_SIGNED] = "self-signed",
	[CRYPTO_PKI_CA_LEAF] = "ca-leaf",
	[CRYPTO_PKI_WRONG_EKU] = "wrong-eku",
	[CRYPTO_PKI_RSA1024] = "rsa1024",
	[CRYPTO_PKI_SHA1] = "sha1",
	[CRYPTO_PKI_OTHER_CA] = "other-ca",
};

const char *crypto_pki_variant_name(enum crypto_pki_variant v)
{
	return (unsigned)v < HX_ARRAY_SIZE(variant_names) ? variant_names[v] : "?";
}

int crypto_pki_variant_parse(const char *name, enum crypto_pki_variant *out)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(variant_names); i++)
		if (strcmp(name, variant_names[i]) == 0) {
			*out = (enum crypto_pki_variant)i;
			return HX_OK;
		}
	return HX_ENOTFOUND;
}

/* ---- small helpers ---------------------------------------------------------------------- */



/* An OpenSSL call failed: forget its error queue (nothing else reads it) and say so. */
static int ossl_fail(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char reason[128] = "";
	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return crypto_say(err, errlen, HX_EINTERNAL, "%s failed%s%s", what, reason[0] ? ": " : "",
	           reason);
}

static int err_from_errno(int e, const char *path, char *err, size_t errlen)
{
	switch (e) {
	case EEXIST:
		return crypto_say(err, errlen, HX_EEXIST, "%s already exists", path);
	case ENOENT:
	case ENOTDIR:
		return crypto_say(err, errlen, HX_ENOTFOUND, "%s: no such directory", path);
	case EACCES:
	case EPERM:
	case EROFS:
		return crypto_say(err, errlen, HX_EPERM, "%s: permission denied", path);
	case ENOSPC:
	case EDQUOT:
		return crypto_say(err, errlen, HX_ESPACE, "%s: disk full", path);
	default:
		return crypto_say(err, errlen, HX_EIO, "%s: %s", path, strerror(e));
	}
}

static int path_join(char *out, size_t size, const char *dir, const char *name, char *err,
                     size_t errlen)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return crypto_say(err, errlen, HX_EINVAL, "path too long: %s/%s", dir, name);
	return HX_OK;
}

static int path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 || errno != ENOENT;
}

/*
 * Write a file with exactly `mode` (whatever the umask). Without `replace` the file must not
 * exist (O_EXCL); with it, a temporary file is written and renamed over path. On failure
 * nothing is left behind.
 */
static int file_write(const char *path, const void *data, size_t len, mode_t mode, int replace,
                      char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	const char *target = path;
	const uint8_t *p = data;
	int fd, rc, e;

	if (replace) {
		int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
		if (n < 0 || (size_t)n >= sizeof(tmp))
			return crypto_say(err, errlen, HX_EINVAL, "path too long: %s", path);
		unlink(tmp); /* a leftover of a crashed run with the same pid */
		target = tmp;
	}
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_from_errno(errno, path, err, errlen);
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (replace && rename(tmp, path) != 0)
		goto fail;
	return HX_OK;
fail:
	e = errno;
	rc = err_from_errno(e, path, err, errlen);
	if (fd >= 0)
		close(fd);
	unlink(target);
	return rc;
}

/* Write what a memory BIO holds. */
static int bio_write_file(BIO *bio, const char *path, mode_t mode, int replace, char *err,
                          size_t errlen)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	if (len <= 0)
		return crypto_say(err, errlen, HX_EINTERNAL, "%s: nothing to write", path);
	return file_write(path, data, (size_t)len, mode, replace, err, errlen);
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

static int pem_load_cert(const char *path, X509 **out, char *err, size_t errlen)
{
	struct hx_buf b;
	BIO *bio;
	X509 *x;
	int rc;

	if ((rc = crypto_file_read(path, CRYPTO_PEM_FILE_MAX, &b, err, errlen)) != HX_OK)
		return rc;
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	x = bio != NULL ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	hx_buf_clear(&b);
	ERR_clear_error();
	if (x == NULL)
		return crypto_say(err, errlen, HX_EPARSE, "%s: no PEM certificate found", path);
	*out = x;
	return HX_OK;
}

static int pem_load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	struct hx_buf b;
	BIO *bio;
	EVP_PKEY *k;
	int rc;

	if ((rc = crypto_file_read(path, CRYPTO_PEM_FILE_MAX, &b, err, errlen)) != HX_OK)
		return rc;
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	k = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	hx_buf_wipe_clear(&b);
	ERR_clear_error();
	if (k == NULL)
		return crypto_say(err, errlen, HX_EPARSE, "%s: no unencrypted PEM private key found",
		           path);
	*out = k;
	return HX_OK;
}

/* ---- the CA directory ------------------------------------------------------------------- */

struct pki_ca {
	X509 *cert;
	EVP_PKEY *key;
	char dir[PATH_MAX];
};

static void ca_clear(struct pki_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->cert = NULL;
	ca->key = NULL;
}

static int ca_load(const char *dir, struct pki_ca *ca, char *err, size_t errlen)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX];
	int rc;

	if ((rc = path_join(cert_path, sizeof(cert_path), dir, "ca.pem", err, errlen)) != HX_OK ||
	    (rc = path_join(key_path, sizeof(key_path), dir, "ca.key", err, errlen)) != HX_OK)
		return rc;
	hx_strlcpy(ca->dir, dir, sizeof(ca->dir));
	if (!path_exists(cert_path) || !path_exists(key_path))
		return crypto_say(err, errlen, HX_ENOTFOUND, "no CA in %s (ca.pem and ca.key)", dir);
	if ((rc = pem_load_cert(cert_path, &ca->cert, err, errlen)) != HX_OK ||
	    (rc = pem_load_key(key_path, &ca->key, err, errlen)) != HX_OK)
		goto fail;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		rc = crypto_say(err, errlen, HX_EPARSE, "%s: ca.key is not the key of ca.pem", dir);
		goto fail;
	}
	if (X509_check_ca(ca->cert) < 1) {
		rc = crypto_say(err, errlen, HX_EPARSE, "%s: ca.pem is not a CA certificate", dir);
		goto fail;
	}
	ERR_clear_error();
	return HX_OK;
fail:
	ERR_clear_error();
	ca_clear(ca);
	return rc;
}

/* Does the index (its text in b) hold a line for serial `hex`? */
static int index_has(const struct hx_buf *b, const char *hex)
{
	size_t n = strlen(hex);
	const char *p = (const char *)b->data, *end = p + b->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > n && memcmp(p, hex, n) == 0 && p[n] == ' ')
			return 1;
		p += len + 1;
	}
	return 0;
}

/* A random positive 128-bit serial, not yet in the CA's index (index_dir NULL: no CA). */
static int serial_new(const char *index_dir, BIGNUM **out, char hex[SERIAL_HEX_MAX], char *err,
                      size_t errlen)
{
	struct hx_buf idx = {0};
	char path[PATH_MAX];
	uint8_t raw[SERIAL_BYTES];
	int rc;

	hx_buf_init(&idx, INDEX_MAX);
	if (index_dir != NULL) {
		if ((rc = path_join(path, sizeof(path), index_dir, "index", err, errlen)) != HX_OK)
			return rc;
		rc = crypto_file_read(path, INDEX_MAX, &idx, err, errlen);
		if (rc == HX_ENOTFOUND)
			hx_buf_init(&idx, INDEX_MAX);
		else if (rc != HX_OK)
			return rc;
	}
	for (int tries = 0; tries < 16; tries++) {
		BIGNUM *bn;
		if ((rc = crypto_random(raw, sizeof(raw))) != HX_OK)
			break;
		raw[0] &= 0x7f; /* positive */
		raw[0] |= 0x40; /* and always 16 octets long */
		hx_hex_encode(raw, sizeof(raw), hex);
		if (index_has(&idx, hex))
			continue;
		if ((bn = BN_bin2bn(raw, sizeof(raw), NULL)) == NULL) {
			rc = HX_ENOMEM;
			break;
		}
		hx_buf_clear(&idx);
		*out = bn;
		return HX_OK;
	}
	hx_buf_clear(&idx);
	return crypto_say(err, errlen, rc != HX_OK ? rc : HX_EINTERNAL, "cannot draw a fresh serial");
}

static int index_append(const char *dir, const char *line, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len = strlen(line);
	int fd, rc;

	if ((rc = path_join(path, sizeof(path), dir, "index", err, errlen)) != HX_OK)
		return rc;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_from_errno(errno, path, err, errlen);
	if (write(fd, line, len) != (ssize_t)len || fsync(fd) != 0) {
		rc = err_from_errno(errno, path, err, errlen);
		close(fd);
		return rc;
	}
	if (close(fd) != 0)
		return err_from_errno(errno, path, err, errlen);
	return HX_OK;
}

/* ---- certificates ----------------------------------------------------------------------- */

struct cert_spec {
	const char *cn, *org_name;   /* org_name may be NULL */
	EVP_PKEY *key;               /* the subject's key */
	X509 *issuer;                /* NULL: self-signed */
	EVP_PKEY *sign_key;          /* the issuer's key (the subject's when self-signed) */
	const EVP_MD *md;
	long not_before_s;           /* relative to now */
	long not_after_s;
	int ca;                      /* basicConstraints CA:TRUE */
	const char *key_usage;       /* X509v3 config value */
	const char *ext_key_usage;   /* or NULL */
	const GENERAL_NAMES *san;    /* or NULL */
	const BIGNUM *serial;
	const char *crl_uri;         /* crlDistributionPoints URI, or NULL */
};

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

/* crlDistributionPoints with one URI; the value is checked to be a plain URL first, since
 * the X509v3 config syntax would interpret commas and colons. */
static int crl_dp_add(X509 *x, X509V3_CTX *ctx, const char *uri)
{
	char value[600];
	if (strlen(uri) > 512 ||
	    (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0) ||
	    strpbrk(uri, ", \t\r\n") != NULL)
		return 0;
	snprintf(value, sizeof(value), "URI:%s", uri);
	return ext_add(x, ctx, NID_crl_distribution_points, value);
}

static int time_set(ASN1_TIME *t, time_t now, long offset_s)
{
	return ASN1_TIME_adj(t, now, (int)(offset_s / DAY_S), offset_s % DAY_S) != NULL;
}

static int cert_build(const struct cert_spec *s, X509 **out, char *err, size_t errlen)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	time_t now = time(NULL);
	int rc;

	if (x == NULL || name == NULL) {
		rc = crypto_say(err, errlen, HX_ENOMEM, "out of memory");
		goto fail;
	}
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	                               (const unsigned char *)s->cn, -1, -1, 0) != 1 ||
	    (s->org_name != NULL &&
	     X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
	                                (const unsigned char *)s->org_name, -1, -1, 0) != 1)) {
		ERR_clear_error();
		rc = crypto_say(err, errlen, HX_EINVAL, "the common or organisation name is not UTF-8");
		goto fail;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_to_ASN1_INTEGER(s->serial, X509_get_serialNumber(x)) == NULL ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(s->issuer) : name) !=
	            1 ||
	    !time_set(X509_getm_notBefore(x), now, s->not_before_s) ||
	    !time_set(X509_getm_notAfter(x), now, s->not_after_s) ||
	    X509_set_pubkey(x, s->key) != 1) {
		rc = ossl_fail(err, errlen, "building the certificate");
		goto fail;
	}
	/* The subject key id goes first: the authority key id of a self-signed one uses it. */
	X509V3_set_ctx(&ctx, s->issuer != NULL ? s->issuer : x, x, NULL, NULL, 0);
	if (!ext_add(x, &ctx, NID_basic_constraints,
	             s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
	    !ext_add(x, &ctx, NID_key_usage, s->key_usage) ||
	    (s->ext_key_usage != NULL && !ext_add(x, &ctx, NID_ext_key_usage, s->ext_key_usage)) ||
	    !ext_add(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !ext_add(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
	    (s->san != NULL && X509_add1_ext_i2d(x, NID_subject_alt_name, (void *)s->san, 0,
	                                         X509V3_ADD_DEFAULT) != 1) ||
	    (s->crl_uri != NULL && !crl_dp_add(x, &ctx, s->crl_uri))) {
		rc = ossl_fail(err, errlen, "adding the certificate's extensions");
		goto fail;
	}
	if (X509_sign(x, s->sign_key, s->md) <= 0) {
		rc = ossl_fail(err, errlen, "signing the certificate");
		goto fail;
	}
	X509_NAME_free(name);
	*out = x;
	return HX_OK;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return rc;
}

static int cert_write(X509 *x, const char *path, char *err, size_t errlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc;
	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
		rc = ossl_fail(err, errlen, "encoding the certificate");
	else
		rc = bio_write_file(bio, path, 0644, 0, err, errlen);
	BIO_free(bio);
	return rc;
}

/* The private key as PKCS#8 PEM, mode 0600. The PEM text lives in a secure-memory BIO,
 * which is wiped when freed. */
static int key_write(EVP_PKEY *k, const char *path, char *err, size_t errlen)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	int rc;
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1)
		rc = ossl_fail(err, errlen, "encoding the private key");
	else
		rc = bio_write_file(bio, path, 0600, 0, err, errlen);
	BIO_free(bio);
	return rc;
}

static int fingerprint(X509 *x, uint8_t fp[CRYPTO_SHA256_LEN], char *err, size_t errlen)
{
	unsigned int n = 0;
	uint8_t md[EVP_MAX_MD_SIZE];
	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != CRYPTO_SHA256_LEN)
		return ossl_fail(err, errlen, "hashing the certificate");
	if (fp != NULL)
		memcpy(fp, md, CRYPTO_SHA256_LEN);
	return HX_OK;
}

/* A name for a subject attribute: 1..64 bytes, no control characters. */
static int name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > NAME_MAX_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* ---- a CA ------------------------------------------------------------------------------- */

int crypto_pki_ca_new(const char *dir, const char *cn, unsigned days,
                      uint8_t fp[CRYPTO_SHA256_LEN], char *err, size_t errlen)
{
	static const char *const files[] = {"ca.key", "ca.pem", "index", "crlnumber"};
	char paths[4][PATH_MAX], serial_hex[SERIAL_HEX_MAX];
	struct cert_spec s = {0};
	EVP_PKEY *key = NULL;
	BIGNUM *serial = NULL;
	X509 *x = NULL;
	int rc, written = 0;

	if (!name_ok(cn))
		return crypto_say(err, errlen, HX_EINVAL,
		           "the CA name must be 1 to %d bytes without control characters",
		           NAME_MAX_BYTES);
	if (days > DAYS_MAX)
		return crypto_say(err, errlen, HX_EINVAL, "at most %u days", DAYS_MAX);
	for (size_t i = 0; i < HX_ARRAY_SIZE(files); i++)
		if ((rc = path_join(paths[i], sizeof(paths[i]), dir, files[i], err, errlen)) !=
		    HX_OK)
			return rc;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_from_errno(errno, dir, err, errlen);
	if (path_exists(paths[0]) || path_exists(paths[1]))
		return crypto_say(err, errlen, HX_EEXIST, "%s already holds a CA", dir);
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		rc = ossl_fail(err, errlen, "generating the CA key");
		goto fail;
	}
	if ((rc = serial_new(NULL, &serial, serial_hex, err, errlen)) != HX_OK)
		goto fail;
	s.cn = cn;
	s.key = key;
	s.sign_key = key;
	s.md = EVP_sha256();
	s.not_before_s = -300;
	s.not_after_s = (long)(days != 0 ? days : 3650) * DAY_S;
	s.ca = 1;
	s.key_usage = "critical,keyCertSign,cRLSign";
	s.serial = serial;
	if ((rc = cert_build(&s, &x, err, errlen)) != HX_OK)
		goto fail;
	if ((rc = key_write(key, paths[0], err, errlen)) != HX_OK)
		goto fail;
	written++;
	if ((rc = cert_write(x, paths[1], err, errlen)) != HX_OK)
		goto fail;
	written++;
	if ((rc = file_write(paths[2], "", 0, 0644, 1, err, errlen)) != HX_OK)
		goto fail;
	written++;
	if ((rc = file_write(paths[3], "1\n", 2, 0644, 1, err, errlen)) != HX_OK)
		goto fail;
	written++;
	if ((rc = fingerprint(x, fp, err, errlen)) != HX_OK)
		goto fail;
	rc = HX_OK;
fail:
	if (rc != HX_OK)
		while (written > 0)
			unlink(paths[--written]);
	ERR_clear_error();
	X509_free(x);
	BN_free(serial);
	EVP_PKEY_free(key);
	return rc;
}

/* ---- node certificates ------------------------------------------------------------------ */

/* A DNS name: labels of [A-Za-z0-9-] (1..63, no '-' at either end), optionally "*." first. */
static int dns_ok(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (strncmp(s, "*.", 2) == 0) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

static int org_id_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n < 3 || n > 64)
		return 0;
	return strspn(s, "0123456789.") == n;
}

static int issue_check(const struct crypto_pki_issue *o, char *err, size_t errlen)
{
	if ((unsigned)o->variant >= HX_ARRAY_SIZE(variant_names))
		return crypto_say(err, errlen, HX_EINVAL, "unknown certificate variant %d",
		           (int)o->variant);
	if (!name_ok(o->cn))
		return crypto_say(err, errlen, HX_EINVAL,
		           "the common name must be 1 to %d bytes without control characters",
		           NAME_MAX_BYTES);
	if (o->org_name != NULL && !name_ok(o->org_name))
		return crypto_say(err, errlen, HX_EINVAL,
		           "the organisation name must be 1 to %d bytes without control "
		           "characters", NAME_MAX_BYTES);
	if (!org_id_ok(o->org_id))
		return crypto_say(err, errlen, HX_EINVAL, "the organisation id must be an OID");
	if (o->n_dns > CRYPTO_PKI_NAMES_MAX || o->n_ips > CRYPTO_PKI_NAMES_MAX)
		return crypto_say(err, errlen, HX_EINVAL, "at most %d DNS names and %d IP addresses",
		           CRYPTO_PKI_NAMES_MAX, CRYPTO_PKI_NAMES_MAX);
	for (size_t i = 0; i < o->n_dns; i++)
		if (!dns_ok(o->dns[i]))
			return crypto_say(err, errlen, HX_EINVAL, "'%s' is not a DNS name", o->dns[i]);
	if (o->days > DAYS_MAX)
		return crypto_say(err, errlen, HX_EINVAL, "at most %u days", DAYS_MAX);
	if (o->out_prefix == NULL || o->out_prefix[0] == '\0')
		return crypto_say(err, errlen, HX_EINVAL, "no output prefix");
	if (o->variant == CRYPTO_PKI_OTHER_CA && o->other_ca_dir == NULL)
		return crypto_say(err, errlen, HX_EINVAL,
		           "the other-ca variant needs the other CA's folder");
	if (o->variant != CRYPTO_PKI_SELF_SIGNED && o->ca_dir == NULL)
		return crypto_say(err, errlen, HX_EINVAL, "no CA folder");
	return HX_OK;
}

static int san_push(GENERAL_NAMES *gens, int type, const char *value)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_STRING *v = NULL;

	if (g == NULL)
		return HX_ENOMEM;
	if (type == GEN_IPADD) {
		if ((v = a2i_IPADDRESS(value)) == NULL) {
			ERR_clear_error();
			GENERAL_NAME_free(g);
			return HX_EINVAL;
		}
	} else if ((v = ASN1_IA5STRING_new()) == NULL || ASN1_STRING_set(v, value, -1) != 1) {
		ASN1_STRING_free(v);
		GENERAL_NAME_free(g);
		return HX_ENOMEM;
	}
	GENERAL_NAME_set0_value(g, type, v);
	if (sk_GENERAL_NAME_push(gens, g) <= 0) {
		GENERAL_NAME_free(g);
		return HX_ENOMEM;
	}
	return HX_OK;
}

static int san_build(const struct crypto_pki_issue *o, GENERAL_NAMES **out, char *err,
                     size_t errlen)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	char uri[8 + 64 + 1];
	int rc = HX_ENOMEM;

	if (gens == NULL)
		goto fail;
	for (size_t i = 0; i < o->n_dns; i++)
		if ((rc = san_push(gens, GEN_DNS, o->dns[i])) != HX_OK)
			goto fail;
	for (size_t i = 0; i < o->n_ips; i++)
		if ((rc = san_push(gens, GEN_IPADD, o->ips[i])) != HX_OK) {
			if (rc == HX_EINVAL) {
				rc = crypto_say(err, errlen, HX_EINVAL, "'%s' is not an IP address",
				         o->ips[i]);
				GENERAL_NAMES_free(gens);
				return rc;
			}
			goto fail;
		}
	snprintf(uri, sizeof(uri), "urn:oid:%s", o->org_id);
	if ((rc = san_push(gens, GEN_URI, uri)) != HX_OK)
		goto fail;
	*out = gens;
	return HX_OK;
fail:
	GENERAL_NAMES_free(gens);
	return crypto_say(err, errlen, rc, "out of memory");
}

/* How the variant shapes the certificate (validity, usages, digest, key). */
static void spec_for_variant(struct cert_spec *s, const struct crypto_pki_issue *o)
{
	long days = (long)(o->days != 0 ? o->days : 365);

	s->md = EVP_sha256();
	s->not_before_s = -300;
	s->not_after_s = days * DAY_S;
	s->key_usage = "critical,digitalSignature";
	s->ext_key_usage = "serverAuth,clientAuth";
	switch (o->variant) {
	case CRYPTO_PKI_EXPIRED:
		s->not_before_s = -30L * DAY_S;
		s->not_after_s = -1L * DAY_S;
		break;
	case CRYPTO_PKI_NOT_YET_VALID:
		s->not_before_s = DAY_S;
		s->not_after_s = DAY_S + days * DAY_S;
		break;
	case CRYPTO_PKI_CA_LEAF:
		s->ca = 1;
		s->key_usage = "critical,digitalSignature,keyCertSign";
		break;
	case CRYPTO_PKI_WRONG_EKU:
		s->ext_key_usage = "emailProtection";
		break;
	case CRYPTO_PKI_SHA1:
		s->md = EVP_sha1();
		break;
	default:
		break;
	}
}

int crypto_pki_issue(const struct crypto_pki_issue *o, uint8_t fp[CRYPTO_SHA256_LEN], char *err,
                     size_t errlen)
{
	char cert_path[PATH_MAX], key_path[PATH_MAX], serial_hex[SERIAL_HEX_MAX];
	char line[SERIAL_HEX_MAX + 2 * CRYPTO_SHA256_LEN + NAME_MAX_BYTES + 64];
	uint8_t md[CRYPTO_SHA256_LEN];
	struct pki_ca ca = {0};
	struct cert_spec s = {0};
	GENERAL_NAMES *san = NULL;
	EVP_PKEY *key = NULL;
	BIGNUM *serial = NULL;
	X509 *x = NULL;
	const char *signer_dir;
	int rc, wrote_key = 0, wrote_cert = 0, n;

	if ((rc = issue_check(o, err, errlen)) != HX_OK)
		return rc;
	n = snprintf(cert_path, sizeof(cert_path), "%s.pem", o->out_prefix);
	if (n < 0 || (size_t)n >= sizeof(cert_path) ||
	    snprintf(key_path, sizeof(key_path), "%s.key", o->out_prefix) >= (int)sizeof(key_path))
		return crypto_say(err, errlen, HX_EINVAL, "path too long: %s", o->out_prefix);
	if (path_exists(cert_path) || path_exists(key_path))
		return crypto_say(err, errlen, HX_EEXIST, "%s already exists",
		           path_exists(cert_path) ? cert_path : key_path);
	signer_dir = o->variant == CRYPTO_PKI_OTHER_CA    ? o->other_ca_dir
	             : o->variant == CRYPTO_PKI_SELF_SIGNED ? NULL
	                                                    : o->ca_dir;
	if (signer_dir != NULL && (rc = ca_load(signer_dir, &ca, err, errlen)) != HX_OK)
		return rc;
	if ((rc = san_build(o, &san, err, errlen)) != HX_OK)
		goto fail;
	key = o->variant == CRYPTO_PKI_RSA1024 ? EVP_RSA_gen(1024) : EVP_EC_gen("P-256");
	if (key == NULL) {
		rc = ossl_fail(err, errlen, "generating the key");
		goto fail;
	}
	if ((rc = serial_new(signer_dir, &serial, serial_hex, err, errlen)) != HX_OK)
		goto fail;
	spec_for_variant(&s, o);
	s.cn = o->cn;
	s.org_name = o->org_name;
	s.key = key;
	s.issuer = ca.cert;
	s.sign_key = signer_dir != NULL ? ca.key : key;
	s.san = san;
	s.crl_uri = o->crl_uri;
	s.serial = serial;
	if ((rc = cert_build(&s, &x, err, errlen)) != HX_OK)
		goto fail;
	if ((rc = fingerprint(x, md, err, errlen)) != HX_OK)
		goto fail;
	if ((rc = key_write(key, key_path, err, errlen)) != HX_OK)
		goto fail;
	wrote_key = 1;
	if ((rc = cert_write(x, cert_path, err, errlen)) != HX_OK)
		goto fail;
	wrote_cert = 1;
	if (signer_dir != NULL) {
		char hex[2 * CRYPTO_SHA256_LEN + 1];
		int64_t not_after = 0;
		struct tm tm;
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
			not_after = (int64_t)timegm(&tm);
		hx_hex_encode(md, sizeof(md), hex);
		snprintf(line, sizeof(line), "%s %s %lld %s %s\n", serial_hex, hex,
		         (long long)not_after, variant_names[o->variant], o->cn);
		if ((rc = index_append(signer_dir, line, err, errlen)) != HX_OK)
			goto fail;
	}
	if (fp != NULL)
		memcpy(fp, md, sizeof(md));
	rc = HX_OK;
fail:
	if (rc != HX_OK && wrote_cert)
		unlink(cert_path);
	if (rc != HX_OK && wrote_key)
		unlink(key_path);
	ERR_clear_error();
	X509_free(x);
	BN_free(serial);
	EVP_PKEY_free(key);
	GENERAL_NAMES_free(san);
	ca_clear(&ca);
	return rc;
}

/* ---- CRLs ------------------------------------------------------------------------------- */

static int crlnumber_read(const char *path, uint64_t *out, char *err, size_t errlen)
{
	struct hx_buf b;
	int rc = crypto_file_read(path, 64, &b, err, errlen);

	if (rc == HX_ENOTFOUND) {
		*out = 1;
		return HX_OK;
	}
	if (rc != HX_OK)
		return rc;
	while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.data[--b.len] = '\0';
	rc = hx_u64_parse((const char *)b.data, out);
	hx_buf_clear(&b);
	if (rc != HX_OK || *out == 0 || *out >= UINT64_MAX / 2)
		return crypto_say(err, errlen, HX_EPARSE, "%s is damaged", path);
	return HX_OK;
}

/* Add x's serial to the CRL, once. */
static int crl_revoke(X509_CRL *crl, X509 *x, const ASN1_TIME *when)
{
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
	X509_REVOKED *r;

	for (int i = 0; i < sk_X509_REVOKED_num(revoked); i++) {
		const X509_REVOKED *r0 = sk_X509_REVOKED_value(revoked, i);
		if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(r0), serial) == 0)
			return 1;
	}
	if ((r = X509_REVOKED_new()) == NULL)
		return 0;
	if (X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)serial) != 1 ||
	    X509_REVOKED_set_revocationDate(r, (ASN1_TIME *)when) != 1 ||
	    X509_CRL_add0_revoked(crl, r) != 1) {
		X509_REVOKED_free(r);
		return 0;
	}
	return 1;
}

int crypto_pki_crl(const char *ca_dir, const char *const *revoke, size_t n, unsigned days,
                   int64_t next_update_offset_s, const char *out_path, char *err, size_t errlen)
{
	char num_path[PATH_MAX], buf[32];
	struct pki_ca ca = {0};
	X509_CRL *crl = NULL;
	ASN1_TIME *t_this = NULL, *t_next = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *akid = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	X509V3_CTX ctx;
	uint64_t crlnum;
	time_t now = time(NULL), next, this_update;
	int rc, len;

	if (days > DAYS_MAX)
		return crypto_say(err, errlen, HX_EINVAL, "at most %u days", DAYS_MAX);
	if (n > 0 && revoke == NULL)
		return crypto_say(err, errlen, HX_EINVAL, "no certificates to revoke given");
	if (next_update_offset_s < -(int64_t)DAYS_MAX * DAY_S ||
	    next_update_offset_s > (int64_t)DAYS_MAX * DAY_S)
		return crypto_say(err, errlen, HX_EINVAL, "next update offset out of range");
	if ((rc = path_join(num_path, sizeof(num_path), ca_dir, "crlnumber", err, errlen)) != HX_OK)
		return rc;
	if ((rc = ca_load(ca_dir, &ca, err, errlen)) != HX_OK)
		return rc;
	if ((rc = crlnumber_read(num_path, &crlnum, err, errlen)) != HX_OK)
		goto fail;
	next = now + (time_t)days * DAY_S + (time_t)next_update_offset_s;
	/* Backdated a little, like certificates' notBefore: a verifier whose clock is a moment
	 * behind must not see a CRL from the future. */
	this_update = next < now ? next - DAY_S : now - 300;
	crl = X509_CRL_new();
	t_this = ASN1_TIME_set(NULL, this_update);
	t_next = ASN1_TIME_set(NULL, next);
	num = ASN1_INTEGER_new();
	if (crl == NULL || t_this == NULL || t_next == NULL || num == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca.cert)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, t_this) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, t_next) != 1) {
		rc = ossl_fail(err, errlen, "building the CRL");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = pem_load_cert(revoke[i], &x, err, errlen)) != HX_OK)
			goto fail;
		if (X509_check_issued(ca.cert, x) != X509_V_OK ||
		    X509_verify(x, X509_get0_pubkey(ca.cert)) != 1) {
			ERR_clear_error();
			rc = crypto_say(err, errlen, HX_EINVAL, "%s was not issued by the CA in %s",
			         revoke[i], ca_dir);
			goto fail;
		}
		if (!crl_revoke(crl, x, t_this)) {
			rc = ossl_fail(err, errlen, "adding a revoked certificate");
			goto fail;
		}
		X509_free(x);
		x = NULL;
	}
	X509V3_set_ctx(&ctx, ca.cert, NULL, NULL, crl, 0);
	if (ASN1_INTEGER_set_uint64(num, crlnum) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1 ||
	    (akid = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier,
	                                 "keyid:always")) == NULL ||
	    X509_CRL_add_ext(crl, akid, -1) != 1 || X509_CRL_sort(crl) != 1 ||
	    X509_CRL_sign(crl, ca.key, EVP_sha256()) <= 0) {
		rc = ossl_fail(err, errlen, "signing the CRL");
		goto fail;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_CRL(bio, crl) != 1) {
		rc = ossl_fail(err, errlen, "encoding the CRL");
		goto fail;
	}
	if ((rc = bio_write_file(bio, out_path, 0644, 1, err, errlen)) != HX_OK)
		goto fail;
	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)crlnum + 1);
	rc = file_write(num_path, buf, (size_t)len, 0644, 1, err, errlen);
fail:
	ERR_clear_error();
	BIO_free(bio);
	X509_free(x);
	X509_EXTENSION_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t_this);
	ASN1_TIME_free(t_next);
	X509_CRL_free(crl);
	ca_clear(&ca);
	return rc;
}
