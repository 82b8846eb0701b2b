/* identity_search.c: candidate search through the blocking keys, with a hard cap, and the
 * scoring of each candidate. */
#include "identity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most ids taken from one key's bucket: a bucket this full is not specific (a common name
 * with a common birth year) and the other keys do better. */
#define PER_KEY_MAX 100

int idm_query_check(const struct idn_record *q, char *why, size_t whylen)
{
	if (q->n_ident > 0)
		return HX_OK;
	if (q->family[0] == '\0' && q->given[0] == '\0') {
		snprintf(why, whylen, "the demographics hold no usable name and no identifier");
		return HX_EINVAL;
	}
	if (q->family[0] == '\0' || (q->given[0] == '\0' && q->birth_year == 0)) {
		snprintf(why, whylen, "too little to search on: a family name with a given name or "
		                      "a birth date, or an identifier, is needed");
		return HX_EINVAL;
	}
	return HX_OK;
}

static const char *const suggest_names[] = {"identifier", "address", "telecom",
                                            "birth_date", "sex", "given"};

size_t idm_suggest_names(unsigned bits, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(suggest_names) / sizeof(*suggest_names) && n < max; i++)
		if (bits & (1u << i))
			out[n++] = suggest_names[i];
	return n;
}

struct collect {
	char (*ids)[PROTO_PATIENT_ID_MAX + 1];
	size_t n, cap;
	int truncated;
};

static int collect_cb(const char *id, void *arg)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		c->truncated = 1;
		return 1;
	}
	hx_strlcpy(c->ids[c->n++], id, sizeof(c->ids[0]));
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int result_cmp(const void *a, const void *b)
{
	const struct idm_result *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(x->patient_id, y->patient_id);
}

/* Keep the IDM_RESULTS_MAX best results. */
static void keep(struct idm_search_out *out, const struct idm_result *r)
{
	if (out->n < IDM_RESULTS_MAX) {
		out->r[out->n++] = *r;
		return;
	}
	size_t worst = 0;
	for (size_t i = 1; i < out->n; i++)
		if (result_cmp(&out->r[i], &out->r[worst]) > 0)
			worst = i;
	if (result_cmp(r, &out->r[worst]) < 0)
		out->r[worst] = *r;
}

/* The candidate's stored match record, when this build can read it: no decoding of its
 * demographics and no normalising again. Anything else falls back to normalise_cb. */
static int record_cb(const char *id, const uint8_t *rec, size_t len, void *arg)
{
	(void)id;
	return idn_unpack(rec, len, arg) == HX_OK ? HX_OK : HX_EVERSION;
}

static int normalise_cb(const char *id, const Hie__V1__Demographics *d, void *arg)
{
	(void)id;
	idn_from_demographics(d, arg);
	return HX_OK;
}

int idm_search(struct store_txn *t, const struct idm_profile *profile,
               const struct idn_record *q, const char *skip_id, enum idm_grade min_grade,
               struct idm_search_out *out)
{
	struct idm_profile pr = *profile, *p = &pr;
	uint64_t npat = store_patient_count(t);
	static _Thread_local char ids[IDENTITY_KEYS_MAX * PER_KEY_MAX][PROTO_PATIENT_ID_MAX + 1];
	struct identity_keys keys;
	struct collect c = {.ids = ids, .cap = IDENTITY_KEYS_MAX * PER_KEY_MAX};
	size_t n = 0;
	int rc, best_grade = IDM_NONE;

	/* The header only: r[] is filled up to n (6 KB not written for nothing a query). */
	out->n = out->candidates = 0;
	out->truncated = 0;
	out->suggest = 0;
	out->best_score = -INFINITY;
	pr.prior_bits = log2((double)(npat > 2 ? npat : 2));
	if (identity_keys_from_record(q, &keys) == 0)
		return HX_EINVAL;
	for (size_t k = 0; k < keys.n; k++) {
		int trunc = 0;
		size_t cap0 = c.cap;
		c.cap = c.n + PER_KEY_MAX < cap0 ? c.n + PER_KEY_MAX : cap0;
		rc = store_block_lookup(t, keys.keys[k].data, keys.keys[k].len, PER_KEY_MAX,
		                        collect_cb, &c, &trunc);
		c.cap = cap0;
		if (rc != HX_OK && rc != HX_ENOTFOUND)
			return rc;
		if (trunc)
			out->truncated = 1;
	}
	qsort(ids, c.n, sizeof(ids[0]), id_cmp);
	for (size_t i = 0; i < c.n; i++) {
		struct idm_result r;
		struct idn_record cand;
		if ((i > 0 && strcmp(ids[i], ids[i - 1]) == 0) ||
		    (skip_id != NULL && strcmp(ids[i], skip_id) == 0))
			continue;
		if (n == IDM_CANDIDATES_MAX) {
			out->truncated = 1;
			break;
		}
		rc = store_patient_match_visit(t, ids[i], record_cb, normalise_cb, &cand);
		if (rc == HX_ENOTFOUND)
			continue; /* removed since: the key went with it */
		if (rc != HX_OK)
			return rc;
		n++;
		memset(&r, 0, sizeof(r));
		hx_strlcpy(r.patient_id, ids[i], sizeof(r.patient_id));
		idm_compare(q, &cand, r.levels);
		r.score = idm_score(p, r.levels, r.contrib);
		r.grade = idm_grade_of(p, r.score, r.levels);
		if (r.score > out->best_score)
			out->best_score = r.score;
		if (r.grade != IDM_NONE && (best_grade == IDM_NONE || (int)r.grade < best_grade))
			best_grade = (int)r.grade;
		if (r.grade != IDM_NONE && r.grade <= min_grade)
			keep(out, &r);
	}
	out->candidates = n;
	qsort(out->r, out->n, sizeof(out->r[0]), result_cmp);
	/* Candidates, but none good enough to disclose: say what would help (as XCPD does). */
	if (n > 0 && (best_grade == IDM_NONE || best_grade > IDM_PROBABLE)) {
		if (q->n_ident == 0)
			out->suggest |= IDM_SUGGEST_IDENTIFIER;
		if (q->postcode[0] == '\0' && q->street[0] == '\0')
			out->suggest |= IDM_SUGGEST_ADDRESS;
		if (q->phone[0] == '\0')
			out->suggest |= IDM_SUGGEST_TELECOM;
		if (q->birth_year == 0 || q->birth_day == 0)
			out->suggest |= IDM_SUGGEST_BIRTH_DATE;
		if (q->sex == 0)
			out->suggest |= IDM_SUGGEST_SEX;
		if (q->given[0] == '\0')
			out->suggest |= IDM_SUGGEST_GIVEN;
	}
	return HX_OK;
}
