/* test_pki.c: the throw-away PKI and certificate inspection, checked against the openssl
 * command line and against OpenSSL directly: fingerprints, names, usages, validity, every
 * deliberately wrong variant, CRLs, file modes, and the documented refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"

#define ORG "2.16.840.1.113883.3.7001"
#define DAY_MS (86400LL * 1000)

struct env {
	char dir[64];
	char ca[128];    /* the CA folder */
	char other[128]; /* another CA */
};

static char *path(const struct env *e, const char *name)
{
	static char buf[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", e->dir, name);
	return buf[k];
}

/* Run a shell command (stdout and stderr to dir/cmd.out); its exit status. */
static int run(const struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(const struct env *e, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n, st;
	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(cmd) - 200);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " >'%s/cmd.out' 2>&1", e->dir);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Does dir/cmd.out (the last command's output) contain s, ignoring case? */
static int output_has(const struct env *e, const char *s)
{
	char buf[65536];
	FILE *f = fopen(path(e, "cmd.out"), "r");
	size_t n;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strcasestr(buf, s) != NULL;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	uint8_t fp[CRYPTO_SHA256_LEN];
	char err[256];
	int rc;

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/hx-pki-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->ca, sizeof(e->ca), "%s/ca", e->dir);
	snprintf(e->other, sizeof(e->other), "%s/other", e->dir);
	rc = crypto_pki_ca_new(e->ca, "Test Community CA", 0, fp, err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("ca_new: %s", err);
	rc = crypto_pki_ca_new(e->other, "Other CA", 30, NULL, err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("ca_new other: %s", err);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

static const char *const node_dns[] = {"node1.example.org", "localhost"};
static const char *const node_ips[] = {"127.0.0.1", "::1"};

static void issue_opts(const struct env *e, struct crypto_pki_issue *o, const char *prefix,
                       enum crypto_pki_variant v)
{
	memset(o, 0, sizeof(*o));
	o->ca_dir = e->ca;
	o->cn = "node1.example.org";
	o->org_name = "St Mary's Hospital";
	o->org_id = ORG;
	o->dns = node_dns;
	o->n_dns = 2;
	o->ips = node_ips;
	o->n_ips = 2;
	o->out_prefix = prefix;
	o->variant = v;
	o->other_ca_dir = e->other;
}

/* Issue a certificate to dir/<name>.pem (and .key); returns the certificate path. */
static const char *issue(const struct env *e, const char *name, enum crypto_pki_variant v,
                         uint8_t fp[CRYPTO_SHA256_LEN])
{
	static char pem[256];
	struct crypto_pki_issue o;
	char err[256];
	int rc;

	issue_opts(e, &o, path(e, name), v);
	rc = crypto_pki_issue(&o, fp, err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("issue %s: %s (%s)", name, err, hx_errname(rc));
	snprintf(pem, sizeof(pem), "%s/%s.pem", e->dir, name);
	return pem;
}

static void info_of(const char *pem, struct crypto_cert_info *ci)
{
	char err[256];
	int rc = crypto_cert_info_load(pem, ci, err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("cert info %s: %s", pem, err);
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

/* SHA-256 of the certificate's DER, computed here with OpenSSL directly. */
static void der_sha256(const char *pem, uint8_t out[CRYPTO_SHA256_LEN])
{
	FILE *f = fopen(pem, "r");
	X509 *x;
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, CRYPTO_SHA256_LEN);
	OPENSSL_free(der);
	X509_free(x);
}

/* The fingerprint as `openssl x509 -fingerprint -sha256` prints it: AA:BB:... */
static void openssl_fingerprint(const char *pem, char *out, size_t size)
{
	char cmd[512], line[256];
	FILE *p;
	char *eq;

	snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 -in '%s'", pem);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	eq = strchr(line, '=');
	assert_non_null(eq);
	eq[strcspn(eq, "\n")] = '\0';
	snprintf(out, size, "%s", eq + 1);
}

static void colon_hex(const uint8_t fp[CRYPTO_SHA256_LEN], char *out)
{
	for (int i = 0; i < CRYPTO_SHA256_LEN; i++)
		sprintf(out + 3 * i, "%02X%s", fp[i], i + 1 < CRYPTO_SHA256_LEN ? ":" : "");
}

/* ---- the CA ------------------------------------------------------------------------------ */

static void test_ca(void **state)
{
	struct env *e = *state;
	struct crypto_cert_info ci;
	char ca_pem[256], ca_key[256], idx[256];
	uint8_t fp[CRYPTO_SHA256_LEN];

	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", e->ca);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", e->ca);
	snprintf(idx, sizeof(idx), "%s/index", e->ca);
	assert_int_equal(mode_of(ca_key), 0600);
	assert_int_equal(mode_of(e->ca), 0700);
	assert_int_equal(access(idx, F_OK), 0);
	info_of(ca_pem, &ci);
	assert_true(ci.is_ca);
	assert_true(ci.self_issued);
	assert_string_equal(ci.subject_cn, "Test Community CA");
	assert_string_equal(ci.issuer_cn, "Test Community CA");
	assert_true(ci.has_key_usage);
	assert_int_equal(ci.key_usage, CRYPTO_KU_KEY_CERT_SIGN | CRYPTO_KU_CRL_SIGN);
	assert_false(ci.has_ext_key_usage);
	assert_string_equal(ci.key_type, "EC P-256");
	assert_int_equal(ci.org_state, CRYPTO_CERT_ORG_NONE);
	assert_string_equal(ci.org_id, "");
	/* Ten years by default. */
	assert_true(ci.not_after - hx_time_now_ms() > 3649 * DAY_MS);
	assert_true(ci.not_after - hx_time_now_ms() < 3651 * DAY_MS);
	der_sha256(ca_pem, fp);
	assert_memory_equal(fp, ci.fingerprint, CRYPTO_SHA256_LEN);
	assert_int_equal(crypto_key_matches_cert(ca_key, ca_pem), HX_OK);
	/* basicConstraints and keyUsage are critical; key ids present. */
	assert_int_equal(run(e, "openssl x509 -noout -text -in '%s'", ca_pem), 0);
	assert_true(output_has(e, "X509v3 Basic Constraints: critical"));
	assert_true(output_has(e, "CA:TRUE"));
	assert_true(output_has(e, "X509v3 Key Usage: critical"));
	assert_true(output_has(e, "Certificate Sign, CRL Sign"));
	assert_true(output_has(e, "X509v3 Subject Key Identifier"));
	assert_true(output_has(e, "X509v3 Authority Key Identifier"));
	/* The CA verifies itself as a trust anchor. */
	assert_int_equal(run(e, "openssl verify -CAfile '%s' '%s'", ca_pem, ca_pem), 0);
}

/* ---- a node certificate ------------------------------------------------------------------ */

static void test_node_cert(void **state)
{
	struct env *e = *state;
	struct crypto_cert_info ci;
	uint8_t fp[CRYPTO_SHA256_LEN], der_fp[CRYPTO_SHA256_LEN];
	char ossl[128], mine[128], ca_pem[256], ca_key[256];
	const char *pem = issue(e, "node", CRYPTO_PKI_NORMAL, fp);
	int64_t now = hx_time_now_ms();

	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", e->ca);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", e->ca);
	info_of(pem, &ci);
	/* The fingerprint: as issued, as OpenSSL computes it, as the openssl tool prints it. */
	assert_memory_equal(ci.fingerprint, fp, CRYPTO_SHA256_LEN);
	der_sha256(pem, der_fp);
	assert_memory_equal(ci.fingerprint, der_fp, CRYPTO_SHA256_LEN);
	openssl_fingerprint(pem, ossl, sizeof(ossl));
	colon_hex(ci.fingerprint, mine);
	assert_string_equal(mine, ossl);

	assert_string_equal(ci.subject_cn, "node1.example.org");
	assert_string_equal(ci.subject_o, "St Mary's Hospital");
	assert_string_equal(ci.issuer_cn, "Test Community CA");
	assert_int_equal(ci.org_state, CRYPTO_CERT_ORG_OK);
	assert_string_equal(ci.org_id, ORG);
	assert_false(ci.is_ca);
	assert_false(ci.self_issued);
	assert_string_equal(ci.key_type, "EC P-256");
	assert_int_equal(ci.key_bits, 256);
	assert_int_equal(ci.key_security_bits, 128);
	assert_string_equal(ci.sig_alg, "ecdsa-with-SHA256");
	assert_int_equal(ci.sig_security_bits, 128);
	assert_true(ci.has_key_usage);
	assert_int_equal(ci.key_usage, CRYPTO_KU_DIGITAL_SIGNATURE);
	assert_true(ci.has_ext_key_usage);
	assert_int_equal(ci.ext_key_usage, CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH);
	assert_int_equal(strlen(ci.serial), 32);
	/* Validity: [now - 5 min, now + 365 days], to within a minute. */
	assert_true(llabs(ci.not_before - (now - 300 * 1000)) < 60 * 1000);
	assert_true(llabs(ci.not_after - (now + 365 * DAY_MS)) < 60 * 1000);
	assert_non_null(strstr(ci.san, "DNS:node1.example.org"));
	assert_non_null(strstr(ci.san, "DNS:localhost"));
	assert_non_null(strstr(ci.san, "IP:127.0.0.1"));
	assert_non_null(strstr(ci.san, "IP:::1"));
	assert_non_null(strstr(ci.san, "URI:urn:oid:" ORG));

	/* Files: the key 0600, the certificate readable. */
	assert_int_equal(mode_of(path(e, "node.key")), 0600);
	assert_int_equal(mode_of(pem), 0644);
	assert_int_equal(crypto_key_matches_cert(path(e, "node.key"), pem), HX_OK);
	assert_int_equal(crypto_key_matches_cert(ca_key, pem), HX_EINVAL);

	/* The chain verifies, for both TLS purposes; the critical CA:FALSE is there. */
	assert_int_equal(run(e, "openssl verify -CAfile '%s' -purpose sslserver '%s'", ca_pem, pem),
	                 0);
	assert_int_equal(run(e, "openssl verify -CAfile '%s' -purpose sslclient '%s'", ca_pem, pem),
	                 0);
	assert_int_equal(run(e, "openssl x509 -noout -text -in '%s'", pem), 0);
	assert_true(output_has(e, "X509v3 Basic Constraints: critical"));
	assert_true(output_has(e, "CA:FALSE"));
	assert_true(output_has(e, "X509v3 Key Usage: critical"));

	/* Serials are fresh each time, and the CA's index lists both issued certificates. */
	{
		struct crypto_cert_info c2;
		char idx[256], hexfp[65];
		struct hx_buf b;
		info_of(issue(e, "node-b", CRYPTO_PKI_NORMAL, NULL), &c2);
		assert_string_not_equal(c2.serial, ci.serial);
		snprintf(idx, sizeof(idx), "%s/index", e->ca);
		assert_int_equal(crypto_file_read(idx, 1 << 20, &b, NULL, 0), HX_OK);
		hx_hex_encode(ci.fingerprint, CRYPTO_SHA256_LEN, hexfp);
		assert_non_null(strstr((char *)b.data, ci.serial));
		assert_non_null(strstr((char *)b.data, c2.serial));
		assert_non_null(strstr((char *)b.data, hexfp));
		hx_buf_clear(&b);
	}
}

/* ---- the variants, each with the property it claims ------------------------------------- */

static void test_variants(void **state)
{
	struct env *e = *state;
	struct crypto_cert_info ci;
	char ca_pem[256], other_pem[256];
	const char *pem;
	int64_t now = hx_time_now_ms();

	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", e->ca);
	snprintf(other_pem, sizeof(other_pem), "%s/ca.pem", e->other);

	pem = issue(e, "expired", CRYPTO_PKI_EXPIRED, NULL);
	info_of(pem, &ci);
	assert_true(ci.not_after < now);
	assert_true(ci.not_before < ci.not_after);
	assert_int_not_equal(run(e, "openssl verify -CAfile '%s' '%s'", ca_pem, pem), 0);
	assert_true(output_has(e, "certificate has expired"));

	pem = issue(e, "future", CRYPTO_PKI_NOT_YET_VALID, NULL);
	info_of(pem, &ci);
	assert_true(ci.not_before > now);
	assert_int_not_equal(run(e, "openssl verify -CAfile '%s' '%s'", ca_pem, pem), 0);
	assert_true(output_has(e, "certificate is not yet valid"));

	pem = issue(e, "selfsigned", CRYPTO_PKI_SELF_SIGNED, NULL);
	info_of(pem, &ci);
	assert_true(ci.self_issued);
	assert_string_equal(ci.issuer_cn, ci.subject_cn);
	assert_string_equal(ci.org_id, ORG);
	assert_false(ci.is_ca);
	assert_int_not_equal(run(e, "openssl verify -CAfile '%s' '%s'", ca_pem, pem), 0);

	pem = issue(e, "caleaf", CRYPTO_PKI_CA_LEAF, NULL);
	info_of(pem, &ci);
	assert_true(ci.is_ca);
	assert_string_equal(ci.issuer_cn, "Test Community CA");
	assert_true(ci.key_usage & CRYPTO_KU_KEY_CERT_SIGN);
	assert_int_equal(run(e, "openssl verify -CAfile '%s' '%s'", ca_pem, pem), 0);

	pem = issue(e, "wrongeku", CRYPTO_PKI_WRONG_EKU, NULL);
	info_of(pem, &ci);
	assert_true(ci.has_ext_key_usage);
	assert_int_equal(ci.ext_key_usage, CRYPTO_EKU_EMAIL);
	assert_int_not_equal(run(e, "openssl verify -CAfile '%s' -purpose sslclient '%s'", ca_pem,
	                         pem),
	                     0);
	assert_int_not_equal(run(e, "openssl verify -CAfile '%s' -purpose sslserver '%s'", ca_pem,
	                         pem),
	                     0);

	pem = issue(e, "rsa1024", CRYPTO_PKI_RSA1024, NULL);
	info_of(pem, &ci);
	assert_string_equal(ci.key_type, "RSA 1024");
	assert_int_equal(ci.key_bits, 1024);
	assert_int_equal(ci.key_security_bits, 80);
	assert_string_equal(ci.sig_alg, "ecdsa-with-SHA256"); /* the CA signed it */
	assert_int_equal(crypto_key_matches_cert(path(e, "rsa1024.key"), pem), HX_OK);

	pem = issue(e, "sha1", CRYPTO_PKI_SHA1, NULL);
	info_of(pem, &ci);
	assert_string_equal(ci.sig_alg, "ecdsa-with-SHA1");
	assert_true(ci.sig_security_bits >= 0 && ci.sig_security_bits < 80);
	assert_string_equal(ci.key_type, "EC P-256");

	pem = issue(e, "otherca", CRYPTO_PKI_OTHER_CA, NULL);
	info_of(pem, &ci);
	assert_string_equal(ci.issuer_cn, "Other CA");
	assert_int_not_equal(run(e, "openssl verify -CAfile '%s' '%s'", ca_pem, pem), 0);
	assert_int_equal(run(e, "openssl verify -CAfile '%s' '%s'", other_pem, pem), 0);

	assert_int_equal(crypto_pki_variant_parse("not-yet-valid", &(enum crypto_pki_variant){0}),
	                 HX_OK);
	assert_int_equal(crypto_pki_variant_parse("bogus", &(enum crypto_pki_variant){0}),
	                 HX_ENOTFOUND);
	assert_string_equal(crypto_pki_variant_name(CRYPTO_PKI_OTHER_CA), "other-ca");
}

/* ---- CRLs -------------------------------------------------------------------------------- */

static void test_crl(void **state)
{
	struct env *e = *state;
	struct crypto_cert_info revoked, kept;
	char ca_pem[256], err[256], num[256];
	const char *list[2];
	const char *pem_r, *pem_k;
	int rc;

	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", e->ca);
	snprintf(num, sizeof(num), "%s/crlnumber", e->ca);
	pem_r = strdup(issue(e, "revoked", CRYPTO_PKI_NORMAL, NULL));
	pem_k = strdup(issue(e, "kept", CRYPTO_PKI_NORMAL, NULL));
	info_of(pem_r, &revoked);
	info_of(pem_k, &kept);
	list[0] = pem_r;
	list[1] = pem_r; /* listed once */
	rc = crypto_pki_crl(e->ca, list, 2, 7, 0, path(e, "crl.pem"), err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("crl: %s", err);
	assert_int_equal(run(e, "openssl crl -noout -text -in '%s'", path(e, "crl.pem")), 0);
	assert_true(output_has(e, revoked.serial));
	assert_false(output_has(e, kept.serial));
	assert_true(output_has(e, "X509v3 CRL Number"));
	assert_int_equal(run(e, "openssl crl -noout -text -in '%s' | grep -c 'Serial Number:' "
	                        "| grep -qx 1",
	                     path(e, "crl.pem")),
	                 0);
	/* The CRL is signed by the CA and OpenSSL applies it. */
	assert_int_equal(run(e, "openssl crl -noout -CAfile '%s' -in '%s'", ca_pem,
	                     path(e, "crl.pem")),
	                 0);
	assert_true(output_has(e, "verify OK"));
	assert_int_not_equal(run(e, "openssl verify -crl_check -CRLfile '%s' -CAfile '%s' '%s'",
	                         path(e, "crl.pem"), ca_pem, pem_r),
	                     0);
	assert_true(output_has(e, "certificate revoked"));
	assert_int_equal(run(e, "openssl verify -crl_check -CRLfile '%s' -CAfile '%s' '%s'",
	                     path(e, "crl.pem"), ca_pem, pem_k),
	                 0);
	assert_int_equal(run(e, "grep -qx 2 '%s'", num), 0);

	/* A stale CRL: nextUpdate an hour ago; OpenSSL calls it expired. Replaces the file. */
	rc = crypto_pki_crl(e->ca, NULL, 0, 0, -3600, path(e, "crl.pem"), err, sizeof(err));
	if (rc != HX_OK)
		fail_msg("crl: %s", err);
	assert_int_not_equal(run(e, "openssl verify -crl_check -CRLfile '%s' -CAfile '%s' '%s'",
	                         path(e, "crl.pem"), ca_pem, pem_k),
	                     0);
	assert_true(output_has(e, "CRL has expired"));
	assert_int_equal(run(e, "grep -qx 3 '%s'", num), 0);

	/* Revoking a certificate of another CA is refused, and nothing is written. */
	list[0] = issue(e, "foreign", CRYPTO_PKI_OTHER_CA, NULL);
	assert_int_equal(crypto_pki_crl(e->ca, list, 1, 7, 0, path(e, "crl2.pem"), err,
	                                sizeof(err)),
	                 HX_EINVAL);
	assert_non_null(strstr(err, "was not issued by the CA"));
	assert_int_not_equal(access(path(e, "crl2.pem"), F_OK), 0);
	list[0] = path(e, "nonexistent.pem");
	assert_int_equal(crypto_pki_crl(e->ca, list, 1, 7, 0, path(e, "crl2.pem"), err,
	                                sizeof(err)),
	                 HX_ENOTFOUND);
	assert_int_equal(crypto_pki_crl(path(e, "noca"), NULL, 0, 7, 0, path(e, "crl2.pem"), err,
	                                sizeof(err)),
	                 HX_ENOTFOUND);
	free((void *)pem_r);
	free((void *)pem_k);
}

/* ---- organisation ids from certificates made elsewhere ---------------------------------- */

static void test_org_ids(void **state)
{
	static const struct {
		const char *name, *san;
		enum crypto_cert_org want;
		const char *id;
	} cases[] = {
		{"nosan", NULL, CRYPTO_CERT_ORG_NONE, ""},
		{"dnsonly", "DNS:a.example", CRYPTO_CERT_ORG_NONE, ""},
		{"one", "DNS:a.example,URI:urn:oid:1.2.3.4", CRYPTO_CERT_ORG_OK, "1.2.3.4"},
		{"upper", "URI:URN:OID:1.2.3.4", CRYPTO_CERT_ORG_OK, "1.2.3.4"},
		{"same2", "URI:urn:oid:1.2.3,URI:urn:oid:1.2.3", CRYPTO_CERT_ORG_OK, "1.2.3"},
		{"two", "URI:urn:oid:1.2.3,URI:urn:oid:1.2.4", CRYPTO_CERT_ORG_AMBIGUOUS, ""},
		{"letters", "URI:urn:oid:1.2.x", CRYPTO_CERT_ORG_MALFORMED, ""},
		{"empty", "URI:urn:oid:", CRYPTO_CERT_ORG_MALFORMED, ""},
		{"otheruri", "URI:https://example.org/1.2.3", CRYPTO_CERT_ORG_NONE, ""},
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct crypto_cert_info ci;
		char pem[256];
		if (run(e,
		        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=%s "
		        "-keyout '%s/%s.key' -out '%s/%s.pem'%s%s",
		        cases[i].name, e->dir, cases[i].name, e->dir, cases[i].name,
		        cases[i].san != NULL ? " -addext subjectAltName=" : "",
		        cases[i].san != NULL ? cases[i].san : "") != 0)
			fail_msg("openssl req for %s failed", cases[i].name);
		snprintf(pem, sizeof(pem), "%s/%s.pem", e->dir, cases[i].name);
		info_of(pem, &ci);
		if (ci.org_state != cases[i].want || strcmp(ci.org_id, cases[i].id) != 0)
			fail_msg("%s: org state %d id '%s', want %d '%s'", cases[i].name,
			         (int)ci.org_state, ci.org_id, (int)cases[i].want, cases[i].id);
		assert_string_equal(ci.key_type, "RSA 2048");
		assert_string_equal(ci.sig_alg, "sha256WithRSAEncryption");
	}
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void write_file(const char *p, const char *data, size_t len)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_refusals(void **state)
{
	struct env *e = *state;
	struct crypto_cert_info ci, before;
	struct crypto_pki_issue o;
	char err[256], *big;
	const char *pem;
	uint8_t fp[CRYPTO_SHA256_LEN];
	const char *bad_dns[] = {"bad_name.example"};
	const char *bad_ip[] = {"300.1.1.1"};

	memset(&ci, 0x5a, sizeof(ci));
	before = ci;
	/* An existing CA is never overwritten. */
	assert_int_equal(crypto_pki_ca_new(e->ca, "Again", 0, fp, err, sizeof(err)), HX_EEXIST);
	assert_non_null(strstr(err, "already holds a CA"));
	/* A missing CA, and a missing parent folder. */
	issue_opts(e, &o, path(e, "x"), CRYPTO_PKI_NORMAL);
	o.ca_dir = path(e, "noca");
	assert_int_equal(crypto_pki_issue(&o, fp, err, sizeof(err)), HX_ENOTFOUND);
	assert_non_null(strstr(err, "no CA in"));
	assert_int_not_equal(access(path(e, "x.key"), F_OK), 0);
	assert_int_equal(crypto_pki_ca_new(path(e, "no/such/ca"), "X", 0, fp, err, sizeof(err)),
	                 HX_ENOTFOUND);
	/* An existing certificate is not overwritten. */
	pem = issue(e, "keep", CRYPTO_PKI_NORMAL, fp);
	issue_opts(e, &o, path(e, "keep"), CRYPTO_PKI_NORMAL);
	assert_int_equal(crypto_pki_issue(&o, NULL, err, sizeof(err)), HX_EEXIST);
	info_of(pem, &ci);
	assert_memory_equal(ci.fingerprint, fp, CRYPTO_SHA256_LEN);
	/* Bad options, and nothing left behind. */
	issue_opts(e, &o, path(e, "bad"), CRYPTO_PKI_NORMAL);
	o.dns = bad_dns;
	o.n_dns = 1;
	assert_int_equal(crypto_pki_issue(&o, NULL, err, sizeof(err)), HX_EINVAL);
	issue_opts(e, &o, path(e, "bad"), CRYPTO_PKI_NORMAL);
	o.ips = bad_ip;
	o.n_ips = 1;
	assert_int_equal(crypto_pki_issue(&o, NULL, err, sizeof(err)), HX_EINVAL);
	assert_non_null(strstr(err, "300.1.1.1"));
	issue_opts(e, &o, path(e, "bad"), CRYPTO_PKI_NORMAL);
	o.org_id = "1.2.x";
	assert_int_equal(crypto_pki_issue(&o, NULL, err, sizeof(err)), HX_EINVAL);
	issue_opts(e, &o, path(e, "bad"), CRYPTO_PKI_NORMAL);
	o.cn = "";
	assert_int_equal(crypto_pki_issue(&o, NULL, err, sizeof(err)), HX_EINVAL);
	issue_opts(e, &o, path(e, "bad"), CRYPTO_PKI_OTHER_CA);
	o.other_ca_dir = NULL;
	assert_int_equal(crypto_pki_issue(&o, NULL, err, sizeof(err)), HX_EINVAL);
	issue_opts(e, &o, path(e, "nodir/bad"), CRYPTO_PKI_NORMAL);
	assert_int_equal(crypto_pki_issue(&o, NULL, err, sizeof(err)), HX_ENOTFOUND);
	assert_int_not_equal(access(path(e, "bad.pem"), F_OK), 0);
	assert_int_not_equal(access(path(e, "bad.key"), F_OK), 0);

	/* Inspection: no file, garbage, a key without certificate, a folder, too large. */
	ci = before;
	assert_int_equal(crypto_cert_info_load(path(e, "none.pem"), &ci, err, sizeof(err)),
	                 HX_ENOTFOUND);
	assert_memory_equal(&ci, &before, sizeof(ci)); /* untouched on failure */
	{
		static const char garbage[] = "hello\n-----BEGIN CERTIFICATE-----\nnot base64!\n"
		                              "-----END CERTIFICATE-----\n";
		write_file(path(e, "garbage.pem"), garbage, sizeof(garbage) - 1);
	}
	assert_int_equal(crypto_cert_info_load(path(e, "garbage.pem"), &ci, err, sizeof(err)),
	                 HX_EPARSE);
	assert_non_null(strstr(err, "garbage.pem"));
	assert_int_equal(crypto_cert_info_load(path(e, "keep.key"), &ci, err, sizeof(err)),
	                 HX_EPARSE);
	assert_int_equal(crypto_cert_info_load(e->ca, &ci, err, sizeof(err)), HX_EINVAL);
	assert_memory_equal(&ci, &before, sizeof(ci));
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 'A', 1 << 20);
	write_file(path(e, "big.pem"), big, 1 << 20);
	assert_int_equal(crypto_cert_info_load(path(e, "big.pem"), &ci, err, sizeof(err)),
	                 HX_ELIMIT);
	assert_int_equal(crypto_cert_info_from_pem(big, 1 << 20, &ci, err, sizeof(err)),
	                 HX_ELIMIT);
	free(big);
	assert_int_equal(crypto_cert_info_from_pem("", 0, &ci, err, sizeof(err)), HX_EPARSE);
	/* A key and certificate file in one: the certificate is found after the key. */
	assert_int_equal(run(e, "{ cat '%s' '%s' > '%s'; }", path(e, "keep.key"), pem,
	                     path(e, "both.pem")),
	                 0);
	info_of(path(e, "both.pem"), &ci);
	assert_memory_equal(ci.fingerprint, fp, CRYPTO_SHA256_LEN);
	/* Key checks: a certificate is not a key; missing files. */
	assert_int_equal(crypto_key_matches_cert(pem, pem), HX_EPARSE);
	assert_int_equal(crypto_key_matches_cert(path(e, "none.key"), pem), HX_ENOTFOUND);
	assert_int_equal(crypto_key_matches_cert(path(e, "keep.key"), path(e, "none")),
	                 HX_ENOTFOUND);
}

/* ---- validation before enrolment --------------------------------------------------------- */

/* crypto_cert_validate(pem) must refuse with rc and a reason containing `word`. */
static void refused(const char *pem, const char *ca, const char *crl, const char *org, int rc,
                    const char *word)
{
	struct crypto_cert_info ci;
	char why[512];
	int got;

	memset(&ci, 0x5a, sizeof(ci));
	why[0] = '\0';
	got = crypto_cert_validate(pem, ca, crl, org, (int64_t)time(NULL) * 1000, &ci, why,
	                           sizeof(why));
	if (got != rc || strstr(why, word) == NULL || strchr(why, '\n') != NULL)
		fail_msg("%s: got %s '%s', want %s '%s'", pem, hx_errname(got), why, hx_errname(rc),
		         word);
	assert_int_equal(((unsigned char *)&ci)[0], 0x5a); /* untouched on failure */
}

static void test_validate(void **state)
{
	static const struct {
		enum crypto_pki_variant v;
		const char *word;
	} bad[] = {
		{CRYPTO_PKI_EXPIRED, "expired on"},
		{CRYPTO_PKI_NOT_YET_VALID, "not yet valid"},
		{CRYPTO_PKI_SELF_SIGNED, "is self-signed"},
		{CRYPTO_PKI_CA_LEAF, "not an end-entity"},
		{CRYPTO_PKI_WRONG_EKU, "extended key usage lacks"},
		{CRYPTO_PKI_RSA1024, "weak or unsupported key"},
		{CRYPTO_PKI_SHA1, "weak signature"},
		{CRYPTO_PKI_OTHER_CA, "not issued by the community CA"},
	};
	struct env *e = *state;
	struct crypto_cert_info ci;
	uint8_t fp[CRYPTO_SHA256_LEN];
	char ca[256], pem[256], why[512], name[32];
	const char *list[1];
	int64_t now = (int64_t)time(NULL) * 1000;
	int rc;

	snprintf(ca, sizeof(ca), "%s/ca.pem", e->ca);
	snprintf(pem, sizeof(pem), "%s", issue(e, "val-good", CRYPTO_PKI_NORMAL, fp));
	/* Success: info describes the leaf. */
	rc = crypto_cert_validate(pem, ca, NULL, ORG, now, &ci, why, sizeof(why));
	if (rc != HX_OK)
		fail_msg("validate: %s", why);
	assert_memory_equal(ci.fingerprint, fp, CRYPTO_SHA256_LEN);
	assert_string_equal(ci.org_id, ORG);
	assert_int_equal(crypto_cert_validate(pem, ca, "", ORG, now, NULL, why, sizeof(why)),
	                 HX_OK);
	/* The dates are those of now_ms: a year and a day on, it has expired. */
	assert_int_equal(crypto_cert_validate(pem, ca, NULL, ORG, now + 367 * DAY_MS, NULL, why,
	                                      sizeof(why)),
	                 HX_EDENIED);
	assert_non_null(strstr(why, "expired on"));
	/* Each flawed variant, for its own flaw. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "val-%d", (int)bad[i].v);
		refused(issue(e, name, bad[i].v, NULL), ca, NULL, ORG, HX_EDENIED, bad[i].word);
	}
	/* The wrong organisation; no CA; another CA bundle. */
	refused(pem, ca, NULL, "2.16.840.1.113883.3.7999", HX_EDENIED, "is for organisation");
	refused(pem, path(e, "none.pem"), NULL, ORG, HX_ENOTFOUND, "no such file");
	snprintf(why, sizeof(why), "%s/ca.pem", e->other);
	refused(pem, why, NULL, ORG, HX_EDENIED, "not issued by the community CA");
	/* Revoked in a CRL; a CRL of another CA cannot vouch; a file that is no CRL. */
	list[0] = issue(e, "val-revoked", CRYPTO_PKI_NORMAL, NULL);
	rc = crypto_pki_crl(e->ca, list, 1, 7, 0, path(e, "val.crl"), why, sizeof(why));
	assert_int_equal(rc, HX_OK);
	refused(path(e, "val-revoked.pem"), ca, path(e, "val.crl"), ORG, HX_EDENIED, "revoked");
	assert_int_equal(crypto_cert_validate(pem, ca, path(e, "val.crl"), ORG, now, NULL, why,
	                                      sizeof(why)),
	                 HX_OK);
	rc = crypto_pki_crl(e->other, NULL, 0, 7, 0, path(e, "other.crl"), why, sizeof(why));
	assert_int_equal(rc, HX_OK);
	refused(pem, ca, path(e, "other.crl"), ORG, HX_EDENIED, "against the CRL");
	refused(pem, ca, pem, ORG, HX_EPARSE, "not a PEM CRL");
	/* Malformed PEM, no certificate, too large, too many certificates. */
	assert_int_equal(run(e, "{ sed '3s/^./#/' '%s' > '%s'; }", pem, path(e, "val-bad.pem")),
	                 0);
	refused(path(e, "val-bad.pem"), ca, NULL, ORG, HX_EPARSE, "malformed PEM");
	assert_int_equal(run(e, "{ head -c 300 '%s' > '%s'; }", pem, path(e, "val-cut.pem")), 0);
	refused(path(e, "val-cut.pem"), ca, NULL, ORG, HX_EPARSE, "malformed PEM");
	assert_int_equal(run(e, "{ echo hello > '%s'; }", path(e, "val-none.pem")), 0);
	refused(path(e, "val-none.pem"), ca, NULL, ORG, HX_EPARSE, "no PEM certificate");
	assert_int_equal(run(e, "{ head -c 1048576 /dev/zero > '%s'; }", path(e, "val-big.pem")),
	                 0);
	refused(path(e, "val-big.pem"), ca, NULL, ORG, HX_ELIMIT, "larger than 256 KiB");
	assert_int_equal(run(e, "{ for i in $(seq 11); do cat '%s'; done > '%s'; }", pem,
	                     path(e, "val-11.pem")),
	                 0);
	refused(path(e, "val-11.pem"), ca, NULL, ORG, HX_ELIMIT, "more than 10 certificates");
	/* Ten, the key first and the CA as a (needless) intermediate: accepted. */
	assert_int_equal(run(e, "{ { cat '%s/val-good.key' '%s'; for i in $(seq 9); do cat '%s'; "
	                        "done; } > '%s'; }",
	                     e->dir, pem, ca, path(e, "val-10.pem")),
	                 0);
	rc = crypto_cert_validate(path(e, "val-10.pem"), ca, NULL, ORG, now, NULL, why,
	                          sizeof(why));
	if (rc != HX_OK)
		fail_msg("validate 10: %s", why);
	/* Where a key is involved, it must be the certificate's. */
	assert_int_equal(crypto_key_matches_cert(path(e, "val-good.key"), pem), HX_OK);
	assert_int_equal(crypto_key_matches_cert(path(e, "val-revoked.key"), pem), HX_EINVAL);
}

/* Origin signatures: a document signed with a node's key verifies with its certificate, and
 * not after any change to what was signed, nor with another node's certificate. */
static void test_doc_signature(void **state)
{
	struct env *e = *state;
	struct crypto_signer *sg;
	struct hx_buf sig, der, other;
	uint8_t sha[32], fp[CRYPTO_SHA256_LEN];
	char key[256], err[256];
	const char *id = "0123456789abcdef0123456789abcdef";
	const char *pem = issue(e, "signer", CRYPTO_PKI_NORMAL, fp);

	hx_buf_init(&sig, 4096);
	hx_buf_init(&der, 65536);
	hx_buf_init(&other, 65536);
	assert_int_equal(crypto_cert_der_load(pem, &der, err, sizeof(err)), HX_OK);
	pem = issue(e, "stranger", CRYPTO_PKI_NORMAL, fp);
	assert_int_equal(crypto_cert_der_load(pem, &other, err, sizeof(err)), HX_OK);
	snprintf(key, sizeof(key), "%s/signer.key", e->dir);
	assert_int_equal(crypto_signer_new(key, &sg, err, sizeof(err)), HX_OK);
	crypto_sha256("content", 7, sha);
	assert_int_equal(crypto_doc_sign(sg, ORG, id, sha, 7, &sig), HX_OK);
	assert_true(sig.len > 0);
	assert_int_equal(crypto_doc_verify(der.data, der.len, ORG, id, sha, 7, sig.data, sig.len),
	                 HX_OK);
	/* Any change to what was signed, or another key, or a damaged signature: refused. */
	assert_int_equal(crypto_doc_verify(der.data, der.len, ORG, id, sha, 8, sig.data, sig.len),
	                 HX_EDENIED);
	assert_int_equal(crypto_doc_verify(der.data, der.len, "2.16.840.1.113883.3.9", id, sha, 7,
	                                   sig.data, sig.len), HX_EDENIED);
	sha[0] ^= 1;
	assert_int_equal(crypto_doc_verify(der.data, der.len, ORG, id, sha, 7, sig.data, sig.len),
	                 HX_EDENIED);
	sha[0] ^= 1;
	assert_int_equal(crypto_doc_verify(other.data, other.len, ORG, id, sha, 7, sig.data,
	                                   sig.len), HX_EDENIED);
	sig.data[sig.len / 2] ^= 0x40;
	assert_int_equal(crypto_doc_verify(der.data, der.len, ORG, id, sha, 7, sig.data, sig.len),
	                 HX_EDENIED);
	assert_int_equal(crypto_doc_verify((const uint8_t *)"junk", 4, ORG, id, sha, 7, sig.data,
	                                   sig.len), HX_EPARSE);
	assert_int_equal(crypto_signer_new(pem, &sg, err, sizeof(err)) == HX_OK ? 1 : 0, 0);
	crypto_signer_free(sg);
	hx_buf_clear(&sig);
	hx_buf_clear(&der);
	hx_buf_clear(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca),
		cmocka_unit_test(test_node_cert),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_org_ids),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_doc_signature),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
