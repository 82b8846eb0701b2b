/*
 * test_tokens.c: HMAC-SHA256 against RFC 4231; the linkage key file (good, too open, not hex,
 * too short, made fresh); patient tokens: their documented input, the same person at two
 * organisations of a demo region (typos, nicknames, married names, moves) sharing tokens,
 * different people not, and another key giving other tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "demo.h"
#include "identity.h"

static void hex_is(const uint8_t *b, const char *want)
{
	char got[2 * CRYPTO_SHA256_LEN + 1];
	hx_hex_encode(b, CRYPTO_SHA256_LEN, got);
	assert_string_equal(got, want);
}

static void test_hmac_rfc4231(void **state)
{
	uint8_t out[CRYPTO_SHA256_LEN], key[131];
	(void)state;
	memset(key, 0x0b, 20); /* test case 1 */
	crypto_hmac_sha256(key, 20, "Hi There", 8, out);
	hex_is(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	crypto_hmac_sha256((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, out);
	hex_is(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key)); /* test case 6: a key longer than the block */
	crypto_hmac_sha256(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	                   out);
	hex_is(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	{ /* the vector form is the same as one buffer */
		struct crypto_iov iov[3] = {{"what do ", 8}, {"ya want for", 11}, {" nothing?", 9}};
		crypto_hmac_sha256_v((const uint8_t *)"Jefe", 4, iov, 3, out);
		hex_is(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	}
}

static char dir[64];

static const char *file_with(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_linkage_key(void **state)
{
	struct crypto_linkage_key k, k2;
	char err[256], path[128];
	const char *hex64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hx-test-tokens-XXXXXX");
	assert_non_null(mkdtemp(dir));

	assert_int_equal(crypto_linkage_key_load(file_with("good", hex64, 0600), &k, err,
	                                         sizeof(err)), HX_OK);
	assert_int_equal(k.len, 32);
	assert_int_equal(k.key[1], 0x11);
	assert_int_equal(crypto_linkage_key_load(file_with("open", hex64, 0644), &k, err,
	                                         sizeof(err)), HX_EPERM);
	assert_non_null(strstr(err, "readable by others"));
	assert_int_equal(crypto_linkage_key_load(file_with("short", "00112233\n", 0600), &k, err,
	                                         sizeof(err)), HX_EPARSE);
	assert_int_equal(crypto_linkage_key_load(file_with("nothex", "zz112233445566778899aabbcc"
	                                                   "ddeeff00112233445566778899aabbccddeeff\n",
	                                                   0600), &k, err, sizeof(err)), HX_EPARSE);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(crypto_linkage_key_load(path, &k, err, sizeof(err)), HX_ENOTFOUND);

	snprintf(path, sizeof(path), "%s/new", dir);
	assert_int_equal(crypto_linkage_key_new(path, err, sizeof(err)), HX_OK);
	assert_int_equal(crypto_linkage_key_new(path, err, sizeof(err)), HX_EEXIST);
	assert_int_equal(crypto_linkage_key_load(path, &k, err, sizeof(err)), HX_OK);
	assert_int_equal(k.len, CRYPTO_LINKAGE_KEY_MIN);
	assert_int_equal(crypto_linkage_key_load(path, &k2, err, sizeof(err)), HX_OK);
	assert_memory_equal(k.id, k2.id, CRYPTO_SHA256_LEN);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static void key_fixed(struct crypto_linkage_key *k, uint8_t fill)
{
	memset(k, 0, sizeof(*k));
	memset(k->key, fill, 32);
	k->len = 32;
}

static void test_token_input(void **state)
{
	/* The fgbs token is HMAC over the documented string, nothing else. */
	static const char *const shared[] = {IDN_SYS_SSN, NULL};
	struct crypto_linkage_key k;
	struct identity_token t[IDENTITY_TOKENS_MAX];
	struct idn_record r;
	uint8_t want[CRYPTO_SHA256_LEN];
	const char input[] = "hiepeer-token-v1\x1f" "fgbs\x1f" "smith\x1f" "katherine\x1f"
	                     "19800304\x1f" "f";
	size_t n, kinds[6] = {0};
	(void)state;
	key_fixed(&k, 7);
	memset(&r, 0, sizeof(r));
	strcpy(r.family, "smith");
	strcpy(r.given, "kate");
	strcpy(r.given_canon, "katherine");
	strcpy(r.family_alt[0], "miller");
	r.n_family_alt = 1;
	r.birth_year = 1980;
	r.birth_month = 3;
	r.birth_day = 4;
	r.sex = 1;
	strcpy(r.postcode, "02139");
	strcpy(r.ident[0].system, IDN_SYS_SSN);
	strcpy(r.ident[0].value, "123456789");
	strcpy(r.ident[1].system, "2.16.840.1.113883.3.7001.2"); /* a local MRN: not shared */
	strcpy(r.ident[1].value, "00001234");
	r.n_ident = 2;
	n = identity_tokens(&k, &r, shared, t, IDENTITY_TOKENS_MAX);
	/* fgbs, fbp, fgp for smith and miller, sgb, sgbx (4 March), one id */
	assert_int_equal(n, 9);
	crypto_hmac_sha256(k.key, k.len, input, sizeof(input) - 1, want);
	assert_string_equal(t[0].kind, "fgbs");
	assert_memory_equal(t[0].token, want, CRYPTO_SHA256_LEN);
	for (size_t i = 0; i < n; i++) {
		kinds[0] += strcmp(t[i].kind, "fgbs") == 0;
		kinds[1] += strcmp(t[i].kind, "fbp") == 0;
		kinds[2] += strcmp(t[i].kind, "sgb") == 0;
		kinds[3] += strcmp(t[i].kind, "id") == 0;
		kinds[4] += strcmp(t[i].kind, "fgp") == 0;
		kinds[5] += strcmp(t[i].kind, "sgbx") == 0;
	}
	assert_int_equal(kinds[4], 2);
	assert_int_equal(kinds[5], 1);
	assert_int_equal(kinds[0], 2);
	assert_int_equal(kinds[1], 2);
	assert_int_equal(kinds[2], 1);
	assert_int_equal(kinds[3], 1);
	/* Without the sex, no fgbs; without a birth date, fgp and the identifier. */
	r.sex = 0;
	n = identity_tokens(&k, &r, shared, t, IDENTITY_TOKENS_MAX);
	assert_int_equal(n, 7);
	r.birth_year = 0;
	n = identity_tokens(&k, &r, shared, t, IDENTITY_TOKENS_MAX);
	assert_int_equal(n, 3);
	assert_string_equal(t[2].kind, "id");
	/* The cap is kept. */
	r.birth_year = 1980;
	r.sex = 1;
	assert_int_equal(identity_tokens(&k, &r, shared, t, 3), 3);
}

/* ---- the same person at two organisations ------------------------------------------------- */

#define PERSONS 2000

struct region_side {
	struct identity_token (*t)[IDENTITY_TOKENS_MAX];
	size_t *n;
	int *held;
	const struct crypto_linkage_key *key;
};

static int on_patient(const Hie__V1__Patient *p, const struct demo_patient_info *info, void *arg)
{
	static const char *const shared[] = {IDN_SYS_SSN, NULL};
	struct region_side *s = arg;
	struct idn_record r;
	idn_from_demographics(p->demographics, &r);
	s->n[info->person] = identity_tokens(s->key, &r, shared, s->t[info->person],
	                                     IDENTITY_TOKENS_MAX);
	s->held[info->person] = 1;
	return 0;
}

static size_t common(const struct identity_token *a, size_t na, const struct identity_token *b,
                     size_t nb)
{
	size_t c = 0;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			c += memcmp(a[i].token, b[j].token, CRYPTO_SHA256_LEN) == 0;
	return c;
}

static void side(struct region_side *s, const struct crypto_linkage_key *key, unsigned org)
{
	struct demo_opts o = {.seed = 11, .org_id = org ? "2.16.840.1.113883.3.7002"
	                                               : "2.16.840.1.113883.3.7001",
	                      .org_index = org, .org_count = 2, .persons = PERSONS, .share = 1};
	s->t = calloc(PERSONS, sizeof(*s->t));
	s->n = calloc(PERSONS, sizeof(*s->n));
	s->held = calloc(PERSONS, sizeof(*s->held));
	s->key = key;
	assert_int_equal(demo_generate(&o, on_patient, NULL, s), HX_OK);
}

static void side_free(struct region_side *s)
{
	free(s->t);
	free(s->n);
	free(s->held);
}

static void test_same_person_across_orgs(void **state)
{
	struct crypto_linkage_key k, other;
	struct region_side a, b, c;
	size_t both = 0, linked = 0, strangers = 0, pairs = 0;
	(void)state;
	key_fixed(&k, 1);
	key_fixed(&other, 2);
	side(&a, &k, 0);
	side(&b, &k, 1);
	for (size_t p = 0; p < PERSONS; p++) {
		if (!a.held[p] || !b.held[p])
			continue;
		both++;
		linked += common(a.t[p], a.n[p], b.t[p], b.n[p]) > 0;
		/* A different person (the next one held by B) */
		for (size_t q = p + 1; q < PERSONS && q < p + 50; q++)
			if (b.held[q]) {
				pairs++;
				strangers += common(a.t[p], a.n[p], b.t[q], b.n[q]) > 0;
				break;
			}
	}
	print_message("tokens: %zu of %zu persons held at both share a token; %zu of %zu "
	              "strangers do\n", linked, both, strangers, pairs);
	assert_true(both > PERSONS / 2);
	assert_true(linked * 100 >= both * 95); /* typos, nicknames, moves, married names */
	assert_true(strangers * 100 <= pairs);  /* namesakes born the same day are rare */
	/* Another region's key: nothing in common with this one's tokens. */
	side(&c, &other, 0);
	for (size_t p = 0; p < PERSONS; p++)
		if (a.held[p] && c.held[p])
			assert_int_equal(common(a.t[p], a.n[p], c.t[p], c.n[p]), 0);
	side_free(&a);
	side_free(&b);
	side_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_linkage_key),
		cmocka_unit_test(test_token_input),
		cmocka_unit_test(test_same_person_across_orgs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
