/*
 * node/identity/identity.h: patient identity matching.
 *
 *   normalise (identity_text.h) → blocking keys → candidates from the store (capped) →
 *   a comparison vector per candidate (one level per field) → Fellegi–Sunter score (the sum
 *   of log2(m/u) of each field's level) → grade (certain / probable / possible / none).
 *
 * The m and u probabilities and the grade thresholds form a profile, kept as a small text an
 * operator can read and tune (docs/matching.md). m is estimated by EM over candidate pairs, u
 * from random pairs, both from the data being matched.
 */
#ifndef HX_IDENTITY_H
#define HX_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "identity_text.h"
#include "proto.h"
#include "store.h"

/* ---- blocking keys ---------------------------------------------------------------------- */

#define IDENTITY_KEYS_MAX 16

/* Blocking keys for a patient's demographics: the keys under which candidate search finds
 * it. Each key is at most STORE_BLOCK_KEY_MAX bytes; `buf` holds their bytes and `keys`
 * points into it. Returns the number of keys (0 when there is nothing to block on). */
struct identity_keys {
	struct store_key keys[IDENTITY_KEYS_MAX];
	size_t n;
	uint8_t buf[IDENTITY_KEYS_MAX * STORE_BLOCK_KEY_MAX];
	size_t used;
	/* identity_keys_build only: the normalised record, packed (idn_pack), to store with
	 * the patient (store_patient_put_rec); record_len 0 if it did not fit. */
	uint8_t record[IDN_PACK_MAX];
	size_t record_len;
};
size_t identity_keys_build(const Hie__V1__Demographics *d, struct identity_keys *out);
size_t identity_keys_from_record(const struct idn_record *r, struct identity_keys *out);

/* ---- patient tokens (identity_tokens.c, docs/tokens.md) ------------------------------------ */

#define IDENTITY_TOKENS_MAX 16
struct identity_token {
	uint8_t token[CRYPTO_SHA256_LEN];
	char kind[8]; /* "fgbs", "sgb", "fbp", "id" */
};
/* The blinded tokens of a normalised record under the community linkage key: at most `max`
 * (IDENTITY_TOKENS_MAX is enough for every kind), no duplicates. Identifiers count only when
 * their system is one of shared_systems (NULL-terminated; e.g. {IDN_SYS_SSN, NULL}): an
 * organisation's own record numbers mean nothing elsewhere. */
size_t identity_tokens(const struct crypto_linkage_key *key, const struct idn_record *r,
                       const char *const *shared_systems, struct identity_token *out,
                       size_t max);

/* ---- comparison --------------------------------------------------------------------------- */

enum idm_field {
	IDM_FAMILY,
	IDM_GIVEN,
	IDM_BIRTH,
	IDM_SEX,
	IDM_POSTCODE,
	IDM_STREET_NO,
	IDM_STREET,
	IDM_LOCALITY,
	IDM_STATE,
	IDM_PHONE,
	IDM_IDENT,
	IDM_NFIELDS
};
/* Level 0 of every field is "missing on one side" (weight 0); level 1 is full agreement;
 * the last level of each field is disagreement. */
#define IDM_LEVELS_MAX 5

const char *idm_field_name(int field);
/* Number of levels of a field, missing included; and a level's name ("exact", "jw92"...). */
int idm_field_levels(int field);
const char *idm_level_name(int field, int level);

/* The comparison vector of two normalised records. */
void idm_compare(const struct idn_record *a, const struct idn_record *b,
                 uint8_t levels[IDM_NFIELDS]);

/* ---- profile, score, grade ---------------------------------------------------------------- */

enum idm_grade { IDM_NONE = 0, IDM_CERTAIN = 1, IDM_PROBABLE = 2, IDM_POSSIBLE = 3 };
const char *idm_grade_name(enum idm_grade g);

struct idm_profile {
	double m[IDM_NFIELDS][IDM_LEVELS_MAX];
	double u[IDM_NFIELDS][IDM_LEVELS_MAX];
	/* Score thresholds, in bits over prior_bits: log2 of the number of patients searched.
	 * One record among N is the person with prior odds of about 1 to N, so a score of
	 * log2(N) is a coin toss, and `probable` 4 bits more is odds of 16 to 1. */
	double certain, probable, possible;
	double prior_bits;                  /* set by idm_search from the index (not in the text) */
	/* Whether the population has households: people who share a family name, an address and
	 * a phone without being the same person. Then a grade also needs evidence about the
	 * person (given name, birth date, identifier), not only the household (see
	 * idm_grade_of). On in the built-in profile; a fit measures it (idm_household_share). */
	int household_guard;
	char source[96];                    /* where it came from: "built-in", "em: 1000 records" */
};

/* The share of records that have a household member in the set: another record with the
 * same family name, house number and street, whose given name and birth date both differ.
 * A fit turns household_guard on when it is above IDM_HOUSEHOLD_SHARE_MIN. */
#define IDM_HOUSEHOLD_SHARE_MIN 0.02
double idm_household_share(const struct idn_record *recs, size_t n);

/* Where a node keeps its profile (store meta, as text), and the longest text. */
#define IDM_PROFILE_META "match_profile"
#define IDM_PROFILE_TEXT_MAX 4096 /* = what store_meta_put takes */
/* The store's profile (HX_OK), or the built-in one when none is set (HX_ENOTFOUND); an
 * unparsable stored text gives HX_EPARSE with err set, and the built-in one in *p. */
int idm_profile_from_store(struct store_txn *t, struct idm_profile *p, char *err,
                           size_t errlen);

/* The built-in profile, fitted once on the FEBRL data sets 1–3 (see docs/matching.md). */
void idm_profile_default(struct idm_profile *p);
/* The profile as text ("field level m u weight" lines and thresholds), and back. */
size_t idm_profile_format(const struct idm_profile *p, char *out, size_t size);
int idm_profile_parse(const char *text, struct idm_profile *p, char *err, size_t errlen);

/* Score of a comparison vector; contrib (may be NULL) receives each field's part. */
double idm_score(const struct idm_profile *p, const uint8_t levels[IDM_NFIELDS],
                 double contrib[IDM_NFIELDS]);
enum idm_grade idm_grade_of(const struct idm_profile *p, double score,
                            const uint8_t levels[IDM_NFIELDS]);

/* ---- estimation --------------------------------------------------------------------------- */

/* u from comparison vectors of random record pairs (level frequencies, smoothed). */
void idm_estimate_u(struct idm_profile *p, const uint8_t (*vec)[IDM_NFIELDS], size_t n);
/* m (and the share of matches among the pairs) by EM over candidate pairs' vectors, u held
 * fixed. Returns the estimated share of matching pairs. */
double idm_estimate_m(struct idm_profile *p, const uint8_t (*vec)[IDM_NFIELDS], size_t n,
                      int iterations);

/* ---- search ------------------------------------------------------------------------------- */

#define IDM_CANDIDATES_MAX 500 /* most candidates scored per query, whatever the keys find */
#define IDM_RESULTS_MAX 32

struct idm_result {
	char patient_id[PROTO_PATIENT_ID_MAX + 1];
	double score;
	enum idm_grade grade;
	uint8_t levels[IDM_NFIELDS];
	double contrib[IDM_NFIELDS];
};

struct idm_search_out {
	struct idm_result r[IDM_RESULTS_MAX]; /* best first; only grades up to min_grade */
	size_t n;
	size_t candidates;   /* scored */
	int truncated;       /* the candidate cap was reached */
	double best_score;   /* of any candidate, graded or not (-inf without candidates) */
	unsigned suggest;    /* bit per suggestion (IDM_SUGGEST_*), when nothing reached probable */
};
#define IDM_SUGGEST_IDENTIFIER 1u
#define IDM_SUGGEST_ADDRESS 2u
#define IDM_SUGGEST_TELECOM 4u
#define IDM_SUGGEST_BIRTH_DATE 8u
#define IDM_SUGGEST_SEX 16u
#define IDM_SUGGEST_GIVEN 32u
/* Names of the suggestion bits ("identifier", "address"...), for DiscoverResponse. */
size_t idm_suggest_names(unsigned bits, const char **out, size_t max);

/* Search the store's patients for q. Keeps results of grade min_grade or better (IDM_POSSIBLE
 * for everything graded); `skip_id` (may be NULL) is left out (a record against the others).
 * HX_EINVAL when q has nothing to block on (no scan of the whole index ever happens). */
int idm_search(struct store_txn *t, const struct idm_profile *p, const struct idn_record *q,
               const char *skip_id, enum idm_grade min_grade, struct idm_search_out *out);

/* Whether demographics are specific enough to search: at least a family name with a given
 * name or a birth date, or an identifier. `why` gets the reason when not (HX_EINVAL). */
int idm_query_check(const struct idn_record *q, char *why, size_t whylen);

#endif
