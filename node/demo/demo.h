/*
 * node/demo/demo.h: the deterministic synthetic data generator.
 *
 * A "region" is a population of people, numbered 0..persons-1, and org_count organisations
 * (numbered 0..org_count-1) that each hold some of them as patients. demo_generate() streams
 * what ONE organisation of the region holds: its patients (Patient messages with its own local
 * ids and MRNs) and their documents (DocumentEntry metadata plus content). Run it once per
 * organisation with the same seed and org_count and the organisations' records describe the
 * same people, the way real hospitals of a region do: each person has one true identity
 * (names, sex, birth date, address, phone, SSN); the person's "home" organisation holds it
 * clean, and every other organisation that holds the person has its own, independently drawn,
 * realistic defects (typos, nicknames, a transposed birth date, an old address, a married
 * name, missing phone or SSN...). The patient's ground truth (person number, home or not,
 * which defects) comes with each patient, for matching tests and benchmarks.
 *
 * Determinism: everything comes from the library's own PRNG (xoshiro256** seeded through
 * splitmix64), never rand(), the clock or the OS. A person's identity depends on (seed,
 * person) only; whether an organisation holds the person, its local record and its documents
 * depend on (seed, person, org_index) only. So the same options give the same bytes, document
 * ids included, and a person's data does not change when `persons` grows. Document metadata
 * does not depend on doc_size (only the content, its size and hash do).
 *
 * All times are fixed relative to DEMO_EPOCH_MS (2026-01-01T00:00:00Z): birth dates give ages
 * 0..99 on that day, documents are created in the ten years before it.
 *
 * No function here logs, and the data is synthetic: names come from tables of common names,
 * phone numbers are in the fictional 555 exchange, SSNs in the never-issued 9xx range.
 */
#ifndef HX_DEMO_H
#define HX_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "hx.h"
#include "proto.h"

/* 2026-01-01T00:00:00Z in Unix ms: "now" for the generated region. */
#define DEMO_EPOCH_MS INT64_C(1767225600000)

/* Limits of struct demo_opts (beyond them demo_generate() fails with HX_EINVAL). */
#define DEMO_PERSONS_MAX 100000000u /* local ids are 8-digit MRNs, unique within an org */
#define DEMO_DOCS_PER_PATIENT_MAX 10000u
#define DEMO_DOC_SIZE_MAX (16u << 20)
#define DEMO_ORG_COUNT_MAX 100000u

/* The SSN identifier system (US Social Security Number). */
#define DEMO_SSN_SYSTEM "2.16.840.1.113883.4.1"

struct demo_opts {
	uint64_t seed;             /* region seed: same seed → same region, byte for byte */
	const char *org_id;        /* this organisation's OID (origin_org of its documents) */
	unsigned org_index;        /* 0..org_count-1: which organisation of the region this is */
	unsigned org_count;        /* organisations in the region (1..DEMO_ORG_COUNT_MAX) */
	size_t persons;            /* people in the region's population (0..DEMO_PERSONS_MAX) */
	double share;              /* probability that a person is a patient at a given
	                              non-home org, 0..1; 0 means the default 0.6 */
	unsigned docs_per_patient; /* mean documents per patient; each patient gets a count drawn
	                              uniformly from 0..2*mean (0 = no documents) */
	size_t doc_size;           /* approximate content bytes per document; 0 = natural size
	                              (1-4 KB of narrative: about 1-4 KB as text, 3-7 KB as XML) */
};

/*
 * The defects an organisation's record carries (struct demo_patient_info.vary); the home
 * organisation's record has none. Rough rates at a non-home organisation are given; some
 * apply only when possible (a nickname needs a name that has one, an initial needs a middle
 * name, ...).
 */
enum demo_vary {
	DEMO_VARY_TYPO_FAMILY = 1u << 0,  /* one typo in the family name (~15%) */
	DEMO_VARY_TYPO_GIVEN = 1u << 1,   /* one typo in the first given name (~15%) */
	DEMO_VARY_NICKNAME = 1u << 2,     /* nickname as given name or as a USUAL name (~30% of
	                                     names that have a usual nickname: ~8% overall) */
	DEMO_VARY_BIRTH_DATE = 1u << 3,   /* day/month transposed, or one digit wrong (~10%) */
	DEMO_VARY_MOVED = 1u << 4,        /* an old address (~15%) */
	DEMO_VARY_NAME_CHANGE = 1u << 5,  /* married name with the old one kept, or a stale record
	                                     under the maiden name only (~8% of adults) */
	DEMO_VARY_NO_PHONE = 1u << 6,     /* no phone number (~20%) */
	DEMO_VARY_NO_SSN = 1u << 7,       /* the SSN is not on file (~30% of people with one) */
	DEMO_VARY_HYPHENATED = 1u << 8,   /* a hyphenated double family name (~5%) */
	DEMO_VARY_ASCII = 1u << 9,        /* accents stripped: García → Garcia (~25% of accented) */
	DEMO_VARY_MIDDLE = 1u << 10,      /* middle name reduced to an initial or missing (~20% of
	                                     people with a middle name) */
	DEMO_VARY_SURNAME_FORM = 1u << 11, /* "García López" kept as "García" or hyphenated */
	DEMO_VARY_ADDRESS_FORM = 1u << 12, /* "Street" spelled out, unit line missing (~10%) */
};

/* Ground truth handed along with each generated patient. */
struct demo_patient_info {
	uint64_t person;   /* the person's number in the population, 0..persons-1 */
	int home;          /* 1 if this org is the person's home org (clean record) */
	unsigned home_org; /* index of the person's home org */
	unsigned vary;     /* enum demo_vary bits of this record (0 when home) */
	unsigned docs;     /* how many documents follow for this patient (when on_doc is set) */
};

/*
 * Callbacks. The messages and bytes are borrowed: valid during the call only (copy or pack
 * what you keep). Return 0 to go on; any other value stops demo_generate(), which returns it.
 */
typedef int (*demo_patient_fn)(const Hie__V1__Patient *p, const struct demo_patient_info *info,
                               void *arg);
typedef int (*demo_doc_fn)(const Hie__V1__DocumentEntry *e, const uint8_t *content, size_t len,
                           void *arg);
typedef int (*demo_demographics_fn)(const Hie__V1__Demographics *d, void *arg);

/*
 * Generate what organisation o->org_index of the region holds, in increasing person order.
 * For each person it holds, on_patient() is called, then on_doc() once per document of that
 * patient (a patient always comes before its documents). Either callback may be NULL (with
 * on_doc NULL no document is built at all).
 *
 * Who is held: the person's home org (a hash of seed and person, modulo org_count) always;
 * every other org independently with probability `share`.
 *
 * Patients: Patient.id is "MRN" followed by 8 digits, unique within the org (a keyed
 * permutation of the person number). Demographics: names (official first; maiden, previous
 * and usual names follow), birth date, sex, one home address, at most one phone, identifiers:
 * the SSN (system DEMO_SSN_SYSTEM) when on file, then always last the org's MRN (system
 * org_id + ".2", value the 8 digits). Every patient passes proto_check(PROTO_PATIENT).
 *
 * Documents: DocumentEntry with a 32-hex id from the PRNG, unique_id the OID org_id + ".1."
 * + MRN (as a number) + "." + n (n = 1, 2, ...), a LOINC type code (13 document types),
 * class, format, confidentiality (about 90% N, 8% R, 2% V), facility type (HL7 RoleCode),
 * practice setting (SNOMED CT) and one author (a clinician of the org: person, institution,
 * role, specialty), creation time in the ten years before DEMO_EPOCH_MS and after birth,
 * service start <= stop <= creation, en-US, status (about 5% deprecated), size == len,
 * sha256 of the content, origin_org = org_id and no signature. Content is either
 * "text/xml" (a well-formed C-CDA-like ClinicalDocument whose recordTarget carries this org's
 * record of the patient) or "text/plain" (a narrative note). With doc_size > 0 the narrative
 * is padded to within a few hundred bytes of doc_size; a document is never smaller than its
 * header and sections (about 1 KB as text, 2.5 KB as XML). Every entry passes
 * proto_check(PROTO_DOCUMENT_ENTRY).
 *
 * Returns HX_OK when done, the first nonzero callback return, or:
 *   HX_EINVAL  o or o->org_id NULL, org_id not a valid OID (proto_id_org_check), org_count 0
 *              or above DEMO_ORG_COUNT_MAX, org_index >= org_count, share outside 0..1,
 *              persons, docs_per_patient or doc_size above their DEMO_*_MAX;
 *   HX_ENOMEM  out of memory;
 *   HX_EINTERNAL  a generated message failed its own proto_check (a bug).
 * Memory: a few KB of working state plus one content buffer of about doc_size, all freed
 * before returning.
 */
int demo_generate(const struct demo_opts *o, demo_patient_fn on_patient, demo_doc_fn on_doc,
                  void *arg);

/*
 * The person's true identity, as the home org holds it, minus the org's MRN: exactly
 * p->demographics of the home org's Patient with its last identifier left out. fn() is
 * called once with the demographics (borrowed for the call) and demo_person_demographics()
 * returns what fn() returns. For benchmarks: query the network with what the person would
 * say of themselves.
 */
int demo_person_demographics(uint64_t seed, uint64_t person, demo_demographics_fn fn,
                             void *arg);

/*
 * The person's official name, "Given Middle Family", into out[size]. HX_OK, or HX_ELIMIT
 * when it does not fit (out is then left untouched).
 */
int demo_person_name(uint64_t seed, uint64_t person, char *out, size_t size);

/*
 * A made-up name for organisation org_index of the region ("Lakeview Medical Center"), as
 * its documents' author institution reads. Different orgs of a region have different names
 * (up to 30 orgs). HX_OK or HX_ELIMIT as above.
 */
int demo_org_name(uint64_t seed, unsigned org_index, char *out, size_t size);

/*
 * The local patient id ("MRN" + 8 digits) that org org_index gives person `person`: 12 bytes
 * with the NUL. HX_EINVAL when person >= DEMO_PERSONS_MAX.
 */
int demo_patient_id(uint64_t seed, unsigned org_index, uint64_t person, char out[12]);

#endif /* HX_DEMO_H */
