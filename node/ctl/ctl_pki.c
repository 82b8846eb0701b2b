/* ctl_pki.c: pki ca, pki issue, pki crl (a throw-away PKI for tests and the demo), cert show. */
#include "ctl.h"

#include "crypto.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define DAY_MS (86400LL * 1000)
#define CRL_REVOKE_MAX 256

void ctl_days_left(int64_t not_after, char *out, size_t size)
{
	int64_t diff = not_after - hx_time_now_ms();
	if (diff >= 0)
		snprintf(out, size, "%lld days left", (long long)(diff / DAY_MS));
	else
		snprintf(out, size, "expired %lld days ago",
		         (long long)((-diff + DAY_MS - 1) / DAY_MS));
}

int64_t ctl_days_left_n(int64_t not_after)
{
	int64_t diff = not_after - hx_time_now_ms();
	return diff >= 0 ? diff / DAY_MS : -((-diff + DAY_MS - 1) / DAY_MS);
}

const char *ctl_expiry_mark(int64_t not_after)
{
	int64_t d = ctl_days_left_n(not_after);
	if (d < 0)
		return "  ! EXPIRED";
	return d <= CTL_WARN_DAYS ? "  ! renew: 30 days or fewer left" : "";
}

static int parse_days(const char *s, unsigned *out)
{
	uint64_t v;
	if (ctl_parse_u64("--days", s, &v))
		return 1;
	if (v == 0 || v > 36500)
		return ctl_fail("--days: between 1 and 36500");
	*out = (unsigned)v;
	return 0;
}

/* ---- pki ca ----------------------------------------------------------------------------- */

int ctl_pki_ca_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"cn", required_argument, NULL, 'n'},
		{"days", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *cn = "hiepeer test CA";
	unsigned days = 0;
	uint8_t fp[CRYPTO_SHA256_LEN];
	char err[512], fps[80];
	int ch, rc;

	while ((ch = getopt_long(c->argc, c->argv, "n:d:j", opts, NULL)) != -1) {
		if (ch == 'n')
			cn = optarg;
		else if (ch == 'd') {
			if (parse_days(optarg, &days))
				return 1;
		} else if (ch == 'j')
			c->json = 1;
		else
			return 2;
	}
	if (optind != c->argc - 1)
		return ctl_fail("pki ca: usage: hiepeerctl pki ca DIR [--cn NAME] [--days N]");
	rc = crypto_pki_ca_new(c->argv[optind], cn, days, fp, err, sizeof(err));
	if (rc != HX_OK)
		return ctl_fail("pki ca: %s", err);
	crypto_fingerprint_format(fp, fps, sizeof(fps));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "dir", c->argv[optind]);
		cJSON_AddStringToObject(j, "fingerprint", fps);
		ctl_json_print(j);
	} else {
		printf("%s\n", fps);
	}
	return 0;
}

/* ---- pki issue -------------------------------------------------------------------------- */

int ctl_pki_issue_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"ca", required_argument, NULL, 'a'},
		{"org", required_argument, NULL, 'o'},
		{"org-name", required_argument, NULL, 'O'},
		{"cn", required_argument, NULL, 'n'},
		{"dns", required_argument, NULL, 'D'},
		{"ip", required_argument, NULL, 'I'},
		{"out", required_argument, NULL, 'w'},
		{"days", required_argument, NULL, 'd'},
		{"variant", required_argument, NULL, 'v'},
		{"other-ca", required_argument, NULL, 'x'},
		{"crl-uri", required_argument, NULL, 'u'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *dns[CRYPTO_PKI_NAMES_MAX], *ips[CRYPTO_PKI_NAMES_MAX];
	struct crypto_pki_issue o = {.dns = dns, .ips = ips};
	uint8_t fp[CRYPTO_SHA256_LEN];
	char err[512], fps[80];
	int ch, rc;

	while ((ch = getopt_long(c->argc, c->argv, "a:o:O:n:D:I:w:d:v:x:u:j", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			o.ca_dir = optarg;
			break;
		case 'o':
			o.org_id = optarg;
			break;
		case 'O':
			o.org_name = optarg;
			break;
		case 'n':
			o.cn = optarg;
			break;
		case 'D':
			if (o.n_dns == CRYPTO_PKI_NAMES_MAX)
				return ctl_fail("--dns: at most %d names", CRYPTO_PKI_NAMES_MAX);
			dns[o.n_dns++] = optarg;
			break;
		case 'I':
			if (o.n_ips == CRYPTO_PKI_NAMES_MAX)
				return ctl_fail("--ip: at most %d addresses", CRYPTO_PKI_NAMES_MAX);
			ips[o.n_ips++] = optarg;
			break;
		case 'w':
			o.out_prefix = optarg;
			break;
		case 'd':
			if (parse_days(optarg, &o.days))
				return 1;
			break;
		case 'v':
			if (crypto_pki_variant_parse(optarg, &o.variant) != HX_OK)
				return ctl_fail("--variant: '%s' is not one of expired, "
				                "not-yet-valid, self-signed, ca-leaf, wrong-eku, "
				                "rsa1024, sha1, other-ca", optarg);
			break;
		case 'x':
			o.other_ca_dir = optarg;
			break;
		case 'u':
			if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
				return ctl_fail("--crl-uri: an http:// or https:// URL, not '%s'", optarg);
			o.crl_uri = optarg;
			break;
		case 'j':
			c->json = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("pki issue: unexpected argument '%s'", c->argv[optind]);
	if (o.org_id == NULL || o.cn == NULL || o.out_prefix == NULL)
		return ctl_fail("pki issue: --org OID, --cn NAME and --out PREFIX are required");
	if (proto_id_org_check(o.org_id) != HX_OK)
		return ctl_fail("pki issue: --org '%s' is not an OID "
		                "(e.g. 2.16.840.1.113883.3.7001)", o.org_id);
	if (o.ca_dir == NULL && o.variant != CRYPTO_PKI_SELF_SIGNED)
		return ctl_fail("pki issue: --ca DIR is required");
	if ((o.other_ca_dir != NULL) != (o.variant == CRYPTO_PKI_OTHER_CA))
		return ctl_fail("pki issue: --other-ca DIR goes with --variant other-ca, and only "
		                "with it");
	rc = crypto_pki_issue(&o, fp, err, sizeof(err));
	if (rc != HX_OK)
		return ctl_fail("pki issue: %s", err);
	crypto_fingerprint_format(fp, fps, sizeof(fps));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		char path[4096];
		snprintf(path, sizeof(path), "%s.pem", o.out_prefix);
		cJSON_AddStringToObject(j, "cert", path);
		snprintf(path, sizeof(path), "%s.key", o.out_prefix);
		cJSON_AddStringToObject(j, "key", path);
		cJSON_AddStringToObject(j, "variant", crypto_pki_variant_name(o.variant));
		cJSON_AddStringToObject(j, "fingerprint", fps);
		ctl_json_print(j);
	} else {
		printf("%s\n", fps);
	}
	return 0;
}

/* ---- pki crl ---------------------------------------------------------------------------- */

int ctl_pki_crl_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"ca", required_argument, NULL, 'a'},
		{"out", required_argument, NULL, 'w'},
		{"revoke", required_argument, NULL, 'r'},
		{"days", required_argument, NULL, 'd'},
		{"expired", no_argument, NULL, 'e'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *revoke[CRL_REVOKE_MAX], *ca = NULL, *out = NULL;
	size_t n = 0;
	unsigned days = 30;
	int ch, rc, expired = 0, days_given = 0;
	int64_t offset = 0, next;
	char err[512], when[24];

	while ((ch = getopt_long(c->argc, c->argv, "a:w:r:d:ej", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			ca = optarg;
			break;
		case 'w':
			out = optarg;
			break;
		case 'r':
			if (n == CRL_REVOKE_MAX)
				return ctl_fail("--revoke: at most %d certificates",
				                CRL_REVOKE_MAX);
			revoke[n++] = optarg;
			break;
		case 'd':
			if (parse_days(optarg, &days))
				return 1;
			days_given = 1;
			break;
		case 'e':
			expired = 1;
			break;
		case 'j':
			c->json = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("pki crl: unexpected argument '%s'", c->argv[optind]);
	if (ca == NULL || out == NULL)
		return ctl_fail("pki crl: --ca DIR and --out FILE are required");
	if (expired && days_given)
		return ctl_fail("pki crl: --days and --expired exclude each other");
	if (expired) {
		/* A stale CRL for tests: its nextUpdate passed an hour ago. */
		days = 0;
		offset = -3600;
	}
	rc = crypto_pki_crl(ca, revoke, n, days, offset, out, err, sizeof(err));
	if (rc != HX_OK)
		return ctl_fail("pki crl: %s", err);
	next = hx_time_now_ms() + (int64_t)days * DAY_MS + offset * 1000;
	ctl_time_short(next, when, sizeof(when));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		char iso[32];
		hx_time_format(next / 1000 * 1000, iso, sizeof(iso));
		cJSON_AddStringToObject(j, "crl", out);
		cJSON_AddNumberToObject(j, "revoked", (double)n);
		cJSON_AddStringToObject(j, "next_update", iso);
		ctl_json_print(j);
	} else {
		printf("wrote %s: %zu certificate%s revoked, next update %s UTC\n", out, n,
		       n == 1 ? "" : "s", when);
	}
	return 0;
}

/* ---- cert show -------------------------------------------------------------------------- */

struct usage_name {
	unsigned bit;
	const char *name;
};

static const struct usage_name ku_names[] = {
	{CRYPTO_KU_DIGITAL_SIGNATURE, "digitalSignature"},
	{CRYPTO_KU_KEY_ENCIPHERMENT, "keyEncipherment"},
	{CRYPTO_KU_KEY_AGREEMENT, "keyAgreement"},
	{CRYPTO_KU_KEY_CERT_SIGN, "keyCertSign"},
	{CRYPTO_KU_CRL_SIGN, "cRLSign"},
	{CRYPTO_KU_OTHER, "other"},
};

static const struct usage_name eku_names[] = {
	{CRYPTO_EKU_SERVER_AUTH, "serverAuth"},
	{CRYPTO_EKU_CLIENT_AUTH, "clientAuth"},
	{CRYPTO_EKU_EMAIL, "emailProtection"},
	{CRYPTO_EKU_CODE_SIGNING, "codeSigning"},
	{CRYPTO_EKU_ANY, "anyExtendedKeyUsage"},
	{CRYPTO_EKU_OTHER, "other"},
};

/* The names of the bits set, as "a, b" in text and (when arr is not NULL) as JSON strings. */
static void usage_text(const struct usage_name *t, size_t n, unsigned bits, cJSON *arr,
                       char *text, size_t size)
{
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(text);
		if (!(bits & t[i].bit))
			continue;
		if (arr != NULL)
			cJSON_AddItemToArray(arr, cJSON_CreateString(t[i].name));
		snprintf(text + len, size - len, "%s%s", len ? ", " : "", t[i].name);
	}
}

/* The organisation line: the id, or why there is none usable. */
static const char *org_text(const struct crypto_cert_info *ci)
{
	switch (ci->org_state) {
	case CRYPTO_CERT_ORG_OK:
		return proto_id_org_check(ci->org_id) == HX_OK ? ci->org_id : "(not a valid OID)";
	case CRYPTO_CERT_ORG_MALFORMED:
		return "(malformed urn:oid: URI)";
	case CRYPTO_CERT_ORG_AMBIGUOUS:
		return "(several different urn:oid: URIs)";
	default:
		return "(none)";
	}
}

static cJSON *cert_json(const char *file, const struct crypto_cert_info *ci, const char *fps)
{
	cJSON *j = cJSON_CreateObject(), *ku = NULL, *eku = NULL;
	char iso[32], text[256];

	cJSON_AddStringToObject(j, "file", file);
	cJSON_AddStringToObject(j, "fingerprint", fps);
	cJSON_AddStringToObject(j, "subject_cn", ci->subject_cn);
	cJSON_AddStringToObject(j, "subject_o", ci->subject_o);
	cJSON_AddStringToObject(j, "issuer_cn", ci->issuer_cn);
	cJSON_AddStringToObject(j, "serial", ci->serial);
	hx_time_format(ci->not_before, iso, sizeof(iso));
	cJSON_AddStringToObject(j, "not_before", iso);
	hx_time_format(ci->not_after, iso, sizeof(iso));
	cJSON_AddStringToObject(j, "not_after", iso);
	cJSON_AddNumberToObject(j, "days_left", (double)ctl_days_left_n(ci->not_after));
	cJSON_AddBoolToObject(j, "is_ca", ci->is_ca);
	cJSON_AddBoolToObject(j, "self_issued", ci->self_issued);
	cJSON_AddStringToObject(j, "key", ci->key_type);
	cJSON_AddNumberToObject(j, "key_bits", ci->key_bits);
	cJSON_AddStringToObject(j, "signature", ci->sig_alg);
	if (ci->has_key_usage)
		ku = cJSON_AddArrayToObject(j, "key_usage");
	else
		cJSON_AddNullToObject(j, "key_usage");
	usage_text(ku_names, HX_ARRAY_SIZE(ku_names), ci->key_usage, ku, text, sizeof(text));
	if (ci->has_ext_key_usage)
		eku = cJSON_AddArrayToObject(j, "ext_key_usage");
	else
		cJSON_AddNullToObject(j, "ext_key_usage");
	usage_text(eku_names, HX_ARRAY_SIZE(eku_names), ci->ext_key_usage, eku, text,
	           sizeof(text));
	cJSON_AddStringToObject(j, "org_id", ci->org_state == CRYPTO_CERT_ORG_OK ? ci->org_id : "");
	cJSON_AddStringToObject(j, "san", ci->san);
	return j;
}

int ctl_cert_show_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct crypto_cert_info ci;
	char err[512], fps[80], from[24], until[24], left[48], ku[256], eku[256];
	const char *file;
	int ch, rc;

	while ((ch = getopt_long(c->argc, c->argv, "j", opts, NULL)) != -1) {
		if (ch != 'j')
			return 2;
		c->json = 1;
	}
	if (optind != c->argc - 1)
		return ctl_fail("cert show: usage: hiepeerctl cert show FILE [--json]");
	file = c->argv[optind];
	if ((rc = crypto_cert_info_load(file, &ci, err, sizeof(err))) != HX_OK)
		return ctl_fail("cert show: %s", err);
	crypto_fingerprint_format(ci.fingerprint, fps, sizeof(fps));
	if (c->json) {
		ctl_json_print(cert_json(file, &ci, fps));
		return 0;
	}
	ctl_time_short(ci.not_before, from, sizeof(from));
	ctl_time_short(ci.not_after, until, sizeof(until));
	if (ci.not_before > hx_time_now_ms())
		snprintf(left, sizeof(left), "not yet valid");
	else
		ctl_days_left(ci.not_after, left, sizeof(left));
	usage_text(ku_names, HX_ARRAY_SIZE(ku_names), ci.key_usage, NULL, ku, sizeof(ku));
	usage_text(eku_names, HX_ARRAY_SIZE(eku_names), ci.ext_key_usage, NULL, eku, sizeof(eku));
	printf("certificate    %s\n", file);
	printf("fingerprint    %s\n", fps);
	printf("subject        CN=%s%s%s\n", ci.subject_cn, ci.subject_o[0] ? ", O=" : "",
	       ci.subject_o);
	printf("issuer         CN=%s%s\n", ci.issuer_cn, ci.self_issued ? " (self-issued)" : "");
	printf("serial         %s\n", ci.serial);
	printf("valid from     %s UTC\n", from);
	printf("valid until    %s UTC (%s)\n", until, left);
	printf("CA             %s\n", ci.is_ca ? "yes" : "no");
	printf("key            %s\n", ci.key_type);
	printf("signature      %s\n", ci.sig_alg);
	printf("key usage      %s\n", ci.has_key_usage ? ku : "(any: no keyUsage extension)");
	printf("ext key usage  %s\n",
	       ci.has_ext_key_usage ? eku : "(any: no extKeyUsage extension)");
	printf("organisation   %s\n", org_text(&ci));
	printf("alt names      %s\n", ci.san[0] ? ci.san : "(none)");
	return 0;
}
