/* demo_gen.c: the PRNG, options, local ids and the generation loop. */
#include "demo_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SHARE 0.6
#define MRN_HALF 10000u /* MRNs are two 4-digit halves: 10^8 values */

/* ---- PRNG ------------------------------------------------------------------------------- */

/* splitmix64's finaliser (Steele, Lea, Flood 2014). */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

static uint64_t key_hash(uint64_t seed, enum demo_stream s, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = mix64(seed + GOLDEN);
	h = mix64(h ^ mix64((uint64_t)s + 2 * GOLDEN));
	h = mix64(h ^ mix64(a + 3 * GOLDEN));
	h = mix64(h ^ mix64(b + 4 * GOLDEN));
	return mix64(h ^ mix64(c + 5 * GOLDEN));
}

uint64_t demo_hash(uint64_t seed, enum demo_stream s, uint64_t a, uint64_t b)
{
	return key_hash(seed, s, a, b, 0);
}

void demo_rng_seed(struct demo_rng *r, uint64_t seed, enum demo_stream s, uint64_t a,
                   uint64_t b, uint64_t c)
{
	uint64_t x = key_hash(seed, s, a, b, c);
	for (int i = 0; i < 4; i++) { /* splitmix64 fills the state: never all zero */
		x += GOLDEN;
		r->s[i] = mix64(x);
	}
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman, Vigna 2018). */
uint64_t demo_rng_next(struct demo_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t demo_rng_below(struct demo_rng *r, uint64_t n)
{
	/* Rejection keeps it exactly uniform; the loop almost never repeats. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
	do
		x = demo_rng_next(r);
	while (x >= limit);
	return x % n;
}

int64_t demo_rng_range(struct demo_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)demo_rng_below(r, (uint64_t)(hi - lo) + 1);
}

double demo_rng_unit(struct demo_rng *r)
{
	return (double)(demo_rng_next(r) >> 11) * 0x1.0p-53;
}

int demo_rng_chance(struct demo_rng *r, double p)
{
	return demo_rng_unit(r) < p;
}

/* ---- ids -------------------------------------------------------------------------------- */

/* A keyed permutation of 0..10^8-1 (a 4-round Feistel network over two 4-digit halves), so
 * MRNs look random and never collide within an org. */
static uint32_t mrn_permute(uint64_t seed, unsigned org_index, uint32_t x)
{
	uint32_t l = x / MRN_HALF, r = x % MRN_HALF;
	for (uint64_t round = 0; round < 4; round++) {
		uint32_t f = (uint32_t)(demo_hash(seed, DEMO_S_MRN, org_index, round << 32 | r) %
		                        MRN_HALF);
		uint32_t nl = r;
		r = (l + f) % MRN_HALF;
		l = nl;
	}
	return l * MRN_HALF + r;
}

static void mrn_make(uint64_t seed, unsigned org_index, uint64_t person, char mrn[12],
                     char id[12])
{
	uint32_t v = mrn_permute(seed, org_index, (uint32_t)person);
	snprintf(mrn, 12, "%08u", v);
	snprintf(id, 12, "MRN%08u", v);
}

int demo_patient_id(uint64_t seed, unsigned org_index, uint64_t person, char out[12])
{
	char mrn[12];
	if (person >= DEMO_PERSONS_MAX)
		return HX_EINVAL;
	mrn_make(seed, org_index, person, mrn, out);
	return HX_OK;
}

static unsigned home_org(uint64_t seed, uint64_t person, unsigned org_count)
{
	return (unsigned)(demo_hash(seed, DEMO_S_HOME, person, 0) % org_count);
}

static int holds(uint64_t seed, uint64_t person, unsigned org_index, double share)
{
	uint64_t h = demo_hash(seed, DEMO_S_HOLD, person, org_index);
	return (double)(h >> 11) * 0x1.0p-53 < share;
}

/* ---- generation ------------------------------------------------------------------------- */

/* Everything one run needs, allocated once. */
struct demo_run {
	struct demo_person person;
	struct demo_record rec;
	struct demo_patient_msg pm;
	struct demo_doc_gen docs;
	char mrn[12];
	char id[12];
};

static int opts_check(const struct demo_opts *o, double *share)
{
	if (o == NULL || o->org_id == NULL || proto_id_org_check(o->org_id) != HX_OK)
		return HX_EINVAL;
	if (o->org_count == 0 || o->org_count > DEMO_ORG_COUNT_MAX || o->org_index >= o->org_count)
		return HX_EINVAL;
	if (isnan(o->share) || o->share < 0.0 || o->share > 1.0)
		return HX_EINVAL;
	if (o->persons > DEMO_PERSONS_MAX || o->docs_per_patient > DEMO_DOCS_PER_PATIENT_MAX ||
	    o->doc_size > DEMO_DOC_SIZE_MAX)
		return HX_EINVAL;
	*share = o->share == 0.0 ? DEFAULT_SHARE : o->share;
	return HX_OK;
}

/* One patient and its documents. */
static int patient_emit(struct demo_run *run, const struct demo_opts *o, uint64_t person,
                        unsigned home, demo_patient_fn on_patient, demo_doc_fn on_doc, void *arg)
{
	struct demo_patient_info info = {.person = person, .home_org = home};
	struct demo_rng r;
	int64_t updated;
	int rc;

	demo_person_init(&run->person, o->seed, person);
	info.home = home == o->org_index;
	if (info.home)
		run->rec = run->person.truth;
	else
		info.vary = demo_record_vary(&run->person, o->seed, o->org_index, &run->rec);
	mrn_make(o->seed, o->org_index, person, run->mrn, run->id);

	demo_rng_seed(&r, o->seed, DEMO_S_DOCS, person, o->org_index, 0);
	info.docs = (unsigned)demo_rng_range(&r, 0, 2 * (int64_t)o->docs_per_patient);
	updated = DEMO_EPOCH_MS - demo_rng_range(&r, 3600, 365 * 86400) * 1000;
	if (updated < run->person.birth_ms)
		updated = run->person.birth_ms;

	demo_patient_msg_fill(&run->pm, &run->rec, o->org_id, run->mrn, run->id, updated);
	if (proto_check(PROTO_PATIENT, &run->pm.patient) != HX_OK)
		return HX_EINTERNAL;
	if (on_patient != NULL && (rc = on_patient(&run->pm.patient, &info, arg)) != 0)
		return rc;
	if (on_doc == NULL)
		return HX_OK;
	for (unsigned k = 0; k < info.docs; k++) {
		rc = demo_doc_build(&run->docs, &run->person, &run->rec, run->id, run->mrn, k);
		if (rc != HX_OK)
			return rc == HX_ELIMIT ? HX_EINTERNAL : rc;
		if (proto_check(PROTO_DOCUMENT_ENTRY, &run->docs.entry) != HX_OK)
			return HX_EINTERNAL;
		rc = on_doc(&run->docs.entry, run->docs.content.data, run->docs.content.len, arg);
		if (rc != 0)
			return rc;
	}
	return HX_OK;
}

int demo_generate(const struct demo_opts *o, demo_patient_fn on_patient, demo_doc_fn on_doc,
                  void *arg)
{
	struct demo_run *run;
	double share;
	int rc;

	if ((rc = opts_check(o, &share)) != HX_OK)
		return rc;
	run = calloc(1, sizeof(*run));
	if (run == NULL)
		return HX_ENOMEM;
	demo_doc_gen_init(&run->docs, o);
	for (uint64_t person = 0; person < o->persons; person++) {
		unsigned home = home_org(o->seed, person, o->org_count);
		if (home != o->org_index && !holds(o->seed, person, o->org_index, share))
			continue;
		rc = patient_emit(run, o, person, home, on_patient, on_doc, arg);
		if (rc != HX_OK)
			break;
	}
	demo_doc_gen_clear(&run->docs);
	free(run);
	return rc;
}

/* ---- the truth, for tests and benchmarks ------------------------------------------------ */

int demo_person_demographics(uint64_t seed, uint64_t person, demo_demographics_fn fn,
                             void *arg)
{
	struct demo_person p;
	struct demo_patient_msg pm;

	demo_person_init(&p, seed, person);
	demo_patient_msg_fill(&pm, &p.truth, NULL, NULL, NULL, 0);
	return fn(&pm.demo, arg);
}

int demo_person_name(uint64_t seed, uint64_t person, char *out, size_t size)
{
	struct demo_person p;
	char name[3 * DEMO_FAMILY_MAX];

	demo_person_init(&p, seed, person);
	demo_name_format(&p.truth.names[0], name, sizeof(name));
	if (strlen(name) >= size)
		return HX_ELIMIT;
	memcpy(out, name, strlen(name) + 1);
	return HX_OK;
}

int demo_org_name(uint64_t seed, unsigned org_index, char *out, size_t size)
{
	char name[128];
	demo_org_name_make(seed, org_index, name, sizeof(name));
	if (strlen(name) >= size)
		return HX_ELIMIT;
	memcpy(out, name, strlen(name) + 1);
	return HX_OK;
}
