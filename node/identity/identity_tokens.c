/* identity_tokens.c: patient tokens for the record locator (docs/tokens.md).
 *
 * A token is HMAC-SHA256, under the community linkage key, of one fixed combination of
 * normalised fields:
 *
 *   "hiepeer-token-v1" 0x1f KIND 0x1f FIELD 0x1f FIELD ...
 *
 * (0x1f, the ASCII unit separator, cannot occur in a normalised field). The kinds:
 *
 *   fgbs  family, canonical given name, birth date YYYYMMDD, sex (f, m, o)
 *   fbp   family, birth date, postcode
 *   fgp   family, canonical given name, postcode (a birth date with a typo)
 *   sgb   Soundex(family), Soundex(canonical given name), birth date
 *   sgbx  the same with day and month swapped (when both are 12 or less and differ), so
 *         that a record and a query that transposed them meet
 *   id    identifier system, normalised value: one per shared identifier
 *
 * fgbs, fbp and fgp are made for the primary family name and for each other family name (a
 * maiden name, a part of a double name), so a married woman is found under either. A kind
 * whose fields are not all known is not made. The same demographics give the same tokens on
 * every node: the normalisation is this code's, and the key is the region's. */
#include "identity.h"

#include <stdio.h>
#include <string.h>

#define SEP "\x1f"
#define TOKEN_FAMILIES 3 /* the primary family name and up to two others */

struct tok_out {
	struct identity_token *t;
	size_t n, max;
	const struct crypto_linkage_key *key;
};

static void emit(struct tok_out *o, const char *kind, const char *const *fields, size_t nf)
{
	struct crypto_iov iov[CRYPTO_HMAC_IOV_MAX];
	size_t k = 0;
	if (o->n == o->max)
		return;
	for (size_t i = 0; i < nf; i++)
		if (fields[i] == NULL || fields[i][0] == '\0')
			return; /* a field not known: no token of this kind */
	iov[k++] = (struct crypto_iov){"hiepeer-token-v1" SEP, 17};
	iov[k++] = (struct crypto_iov){kind, strlen(kind)};
	for (size_t i = 0; i < nf && k + 2 <= CRYPTO_HMAC_IOV_MAX; i++) {
		iov[k++] = (struct crypto_iov){SEP, 1};
		iov[k++] = (struct crypto_iov){fields[i], strlen(fields[i])};
	}
	crypto_hmac_sha256_v(o->key->key, o->key->len, iov, k, o->t[o->n].token);
	snprintf(o->t[o->n].kind, sizeof(o->t[o->n].kind), "%s", kind);
	/* The same token twice (two family names normalising alike) is one token. */
	for (size_t i = 0; i < o->n; i++)
		if (memcmp(o->t[i].token, o->t[o->n].token, CRYPTO_SHA256_LEN) == 0)
			return;
	o->n++;
}

size_t identity_tokens(const struct crypto_linkage_key *key, const struct idn_record *r,
                       const char *const *shared_systems, struct identity_token *out,
                       size_t max)
{
	struct tok_out o = {out, 0, max, key};
	char dob[12] = "", dobx[12] = "", sf[5], sg[5];
	const char *sex = r->sex == 1 ? "f" : r->sex == 2 ? "m" : r->sex == 3 ? "o" : "";
	const char *fams[TOKEN_FAMILIES];
	size_t nfam = 0;

	if (r->birth_year != 0 && r->birth_month != 0 && r->birth_day != 0)
		snprintf(dob, sizeof(dob), "%04u%02u%02u", r->birth_year, r->birth_month,
		         r->birth_day);
	if (dob[0] != '\0' && r->birth_day <= 12 && r->birth_day != r->birth_month)
		snprintf(dobx, sizeof(dobx), "%04u%02u%02u", r->birth_year, r->birth_day,
		         r->birth_month);
	if (r->family[0] != '\0')
		fams[nfam++] = r->family;
	for (size_t i = 0; i < r->n_family_alt && nfam < TOKEN_FAMILIES; i++)
		fams[nfam++] = r->family_alt[i];
	for (size_t i = 0; i < nfam; i++) {
		const char *fgbs[] = {fams[i], r->given_canon, dob, sex};
		const char *fbp[] = {fams[i], dob, r->postcode};
		const char *fgp[] = {fams[i], r->given_canon, r->postcode};
		emit(&o, "fgbs", fgbs, 4);
		emit(&o, "fbp", fbp, 3);
		emit(&o, "fgp", fgp, 3);
	}
	idc_soundex(r->family, sf);
	idc_soundex(r->given_canon, sg);
	{
		const char *sgb[] = {sf, sg, dob};
		const char *sgbx[] = {sf, sg, dobx};
		emit(&o, "sgb", sgb, 3);
		emit(&o, "sgbx", sgbx, 3);
	}
	for (size_t i = 0; i < r->n_ident; i++)
		for (size_t s = 0; shared_systems != NULL && shared_systems[s] != NULL; s++)
			if (strcmp(r->ident[i].system, shared_systems[s]) == 0) {
				const char *id[] = {r->ident[i].system, r->ident[i].value};
				emit(&o, "id", id, 2);
			}
	return o.n;
}
