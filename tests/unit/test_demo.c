/*
 * test_demo.c: node/demo, the synthetic region generator: determinism, validity of every
 * message, the shape of a region across organisations (home records clean, others varied
 * within bounds), document sizes and well-formed XML, callbacks that stop, bad options.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "crypto.h"
#include "demo.h"
#include "demo_internal.h" /* table sizes */
#include "hx.h"
#include "proto.h"

#define ORG0 "2.16.840.1.113883.3.7001"
#define ORG1 "2.16.840.1.113883.3.7002"
#define ORG2 "2.16.840.1.113883.3.7003"
static const char *const orgs[] = {ORG0, ORG1, ORG2};

/* ---- helpers ---------------------------------------------------------------------------- */

static void pack(const void *msg, struct hx_buf *b)
{
	hx_buf_reset(b);
	assert_int_equal(proto_pack(msg, b), HX_OK);
}

/* A running digest: h = SHA-256(h || bytes). */
static void chain(uint8_t h[32], const void *p, size_t n)
{
	struct crypto_iov iov[2] = {{h, 32}, {p, n}};
	crypto_sha256_v(iov, 2, h);
}

static struct demo_opts opts(uint64_t seed, unsigned org, unsigned count, size_t persons)
{
	struct demo_opts o = {
		.seed = seed,
		.org_id = orgs[org],
		.org_index = org,
		.org_count = count,
		.persons = persons,
		.docs_per_patient = 2,
	};
	return o;
}

/* ---- determinism ------------------------------------------------------------------------ */

struct digest {
	uint8_t h[32];
	size_t patients, docs;
	struct hx_buf b;
	uint8_t per_person[400][32]; /* digest of each person's patient + documents */
	int64_t last_person;
};

static int dg_patient(const Hie__V1__Patient *p, const struct demo_patient_info *info, void *arg)
{
	struct digest *d = arg;
	pack(p, &d->b);
	chain(d->h, d->b.data, d->b.len);
	chain(d->h, info, sizeof(*info));
	d->patients++;
	d->last_person = (int64_t)info->person;
	if (info->person < 400) {
		memset(d->per_person[info->person], 0, 32);
		chain(d->per_person[info->person], d->b.data, d->b.len);
	}
	return 0;
}

static int dg_doc(const Hie__V1__DocumentEntry *e, const uint8_t *c, size_t len, void *arg)
{
	struct digest *d = arg;
	pack(e, &d->b);
	chain(d->h, d->b.data, d->b.len);
	chain(d->h, c, len);
	d->docs++;
	if (d->last_person < 400) {
		chain(d->per_person[d->last_person], d->b.data, d->b.len);
		chain(d->per_person[d->last_person], c, len);
	}
	return 0;
}

static void digest_run(const struct demo_opts *o, struct digest *d)
{
	memset(d, 0, sizeof(*d));
	hx_buf_init(&d->b, 1u << 20);
	assert_int_equal(demo_generate(o, dg_patient, dg_doc, d), HX_OK);
	hx_buf_clear(&d->b);
}

static void test_same_options_same_bytes(void **state)
{
	struct demo_opts o = opts(42, 1, 3, 300);
	struct digest *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	(void)state;

	digest_run(&o, a);
	digest_run(&o, b);
	assert_true(a->patients > 100);
	assert_true(a->docs > 100);
	assert_int_equal(a->patients, b->patients);
	assert_int_equal(a->docs, b->docs);
	assert_memory_equal(a->h, b->h, 32);

	/* A person's records do not depend on the population size (nor on the ones before). */
	o.persons = 150;
	digest_run(&o, b);
	assert_true(b->patients < a->patients);
	for (size_t i = 0; i < 150; i++)
		assert_memory_equal(a->per_person[i], b->per_person[i], 32);
	free(a);
	free(b);
}

static void test_different_seeds_differ(void **state)
{
	struct demo_opts o1 = opts(1, 0, 3, 200), o2 = opts(2, 0, 3, 200);
	struct digest *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char n1[256], n2[256];
	unsigned same = 0;
	(void)state;

	digest_run(&o1, a);
	digest_run(&o2, b);
	assert_memory_not_equal(a->h, b->h, 32);
	for (uint64_t p = 0; p < 200; p++) {
		assert_int_equal(demo_person_name(1, p, n1, sizeof(n1)), HX_OK);
		assert_int_equal(demo_person_name(2, p, n2, sizeof(n2)), HX_OK);
		same += strcmp(n1, n2) == 0;
	}
	assert_true(same < 10);
	free(a);
	free(b);
}

/* ---- validity --------------------------------------------------------------------------- */

#define MAX_IDS 20000

struct valid {
	const struct demo_opts *o;
	struct hx_buf b;
	char (*patient_ids)[16];
	size_t n_patients;
	char (*doc_ids)[40];
	char (*unique_ids)[96];
	size_t n_docs;
	char current[16];
	unsigned docs_left;
	size_t xml, text;
};

static int valid_patient(const Hie__V1__Patient *p, const struct demo_patient_info *info,
                         void *arg)
{
	struct valid *v = arg;
	const Hie__V1__Demographics *d = p->demographics;
	const Hie__V1__Identifier *mrn;
	char id[12], sys[96];
	void *back = NULL;

	assert_int_equal(proto_check(PROTO_PATIENT, p), HX_OK);
	assert_int_equal(v->docs_left, 0); /* the previous patient's documents all came */
	assert_int_equal(demo_patient_id(v->o->seed, v->o->org_index, info->person, id), HX_OK);
	assert_string_equal(p->id, id);
	assert_int_equal(strlen(p->id), 11);
	assert_true(p->updated > 0 && p->updated <= DEMO_EPOCH_MS);
	assert_int_equal(info->home, info->home_org == v->o->org_index);
	if (info->home)
		assert_int_equal(info->vary, 0);
	/* MRN last: org_id.2, the id's digits. */
	assert_true(d->n_identifiers >= 1);
	mrn = d->identifiers[d->n_identifiers - 1];
	snprintf(sys, sizeof(sys), "%s.2", v->o->org_id);
	assert_string_equal(mrn->system, sys);
	assert_string_equal(mrn->value, p->id + 3);
	assert_true(d->n_names >= 1);
	assert_int_equal(d->names[0]->use, HIE__V1__NAME_USE__NAME_USE_OFFICIAL);
	assert_int_equal(hx_date_check(d->birth_date), HX_OK);
	assert_true(d->sex == HIE__V1__SEX__SEX_FEMALE || d->sex == HIE__V1__SEX__SEX_MALE);
	/* What goes on the wire comes back through the checked door. */
	pack(p, &v->b);
	assert_int_equal(proto_unpack(PROTO_PATIENT, v->b.data, v->b.len, &back), HX_OK);
	proto_free(back);

	assert_true(v->n_patients < MAX_IDS);
	memcpy(v->patient_ids[v->n_patients++], p->id, strlen(p->id) + 1);
	memcpy(v->current, p->id, strlen(p->id) + 1);
	v->docs_left = info->docs;
	return 0;
}

static int valid_doc(const Hie__V1__DocumentEntry *e, const uint8_t *c, size_t len, void *arg)
{
	struct valid *v = arg;
	uint8_t sha[32];
	char prefix[96];

	assert_int_equal(proto_check(PROTO_DOCUMENT_ENTRY, e), HX_OK);
	assert_true(v->docs_left > 0);
	v->docs_left--;
	assert_string_equal(e->patient_id, v->current);
	assert_string_equal(e->origin_org, v->o->org_id);
	assert_int_equal(e->size, len);
	crypto_sha256(c, len, sha);
	assert_int_equal(e->sha256.len, 32);
	assert_memory_equal(e->sha256.data, sha, 32);
	assert_int_equal(e->origin_signature.len, 0);
	assert_int_equal(proto_id_org_check(e->unique_id), HX_OK);
	snprintf(prefix, sizeof(prefix), "%s.1.", v->o->org_id);
	assert_int_equal(strncmp(e->unique_id, prefix, strlen(prefix)), 0);
	assert_string_equal(e->type_code->system, "2.16.840.1.113883.6.1");
	assert_string_equal(e->title, e->type_code->display);
	assert_string_equal(e->class_code->system, "1.3.6.1.4.1.19376.1.2.6.1");
	assert_string_equal(e->format_code->system, "1.3.6.1.4.1.19376.1.2.3");
	assert_int_equal(e->n_confidentiality, 1);
	assert_string_equal(e->confidentiality[0]->system, "2.16.840.1.113883.5.25");
	assert_int_equal(e->n_authors, 1);
	assert_true(strlen(e->authors[0]->person) > 5);
	assert_string_equal(e->language, "en-US");
	/* Created in the ten years before the epoch; service before creation. */
	assert_true(e->creation_time > DEMO_EPOCH_MS - INT64_C(3653) * 86400000);
	assert_true(e->creation_time < DEMO_EPOCH_MS);
	assert_true(e->service_start <= e->service_stop);
	assert_true(e->service_stop <= e->creation_time);
	if (strcmp(e->mime_type, "text/xml") == 0) {
		assert_string_equal(e->format_code->code,
		                    "urn:hl7-org:sdwg:ccda-structuredBody:2.1");
		v->xml++;
	} else {
		assert_string_equal(e->mime_type, "text/plain");
		assert_string_equal(e->format_code->code,
		                    "urn:ihe:iti:xds:2017:mimeTypeSufficient");
		v->text++;
	}
	assert_true(v->n_docs < MAX_IDS);
	memcpy(v->doc_ids[v->n_docs], e->id, 33);
	assert_true(strlen(e->unique_id) < 96);
	memcpy(v->unique_ids[v->n_docs], e->unique_id, strlen(e->unique_id) + 1);
	v->n_docs++;
	return 0;
}

static int cmp16(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int cmp40(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int cmp96(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_every_message_valid(void **state)
{
	struct valid v;
	size_t all_docs = 0;
	char (*every_doc)[40] = calloc(3 * MAX_IDS, 40);
	(void)state;

	memset(&v, 0, sizeof(v));
	v.patient_ids = calloc(MAX_IDS, 16);
	v.doc_ids = calloc(MAX_IDS, 40);
	v.unique_ids = calloc(MAX_IDS, 96);
	hx_buf_init(&v.b, 1u << 20);
	for (unsigned org = 0; org < 3; org++) {
		struct demo_opts o = opts(7, org, 3, 800);
		o.docs_per_patient = 3;
		v.o = &o;
		v.n_patients = v.n_docs = 0;
		v.docs_left = 0;
		assert_int_equal(demo_generate(&o, valid_patient, valid_doc, &v), HX_OK);
		assert_int_equal(v.docs_left, 0);
		assert_true(v.n_patients > 400);
		assert_true(v.n_docs > 1000);
		/* Local ids and unique ids are unique within the org. */
		qsort(v.patient_ids, v.n_patients, 16, cmp16);
		for (size_t i = 1; i < v.n_patients; i++)
			assert_string_not_equal(v.patient_ids[i - 1], v.patient_ids[i]);
		qsort(v.unique_ids, v.n_docs, 96, cmp96);
		for (size_t i = 1; i < v.n_docs; i++)
			assert_string_not_equal(v.unique_ids[i - 1], v.unique_ids[i]);
		memcpy(every_doc + all_docs, v.doc_ids, v.n_docs * 40);
		all_docs += v.n_docs;
	}
	/* Document ids are unique across the region. */
	qsort(every_doc, all_docs, 40, cmp40);
	for (size_t i = 1; i < all_docs; i++)
		assert_string_not_equal(every_doc[i - 1], every_doc[i]);
	/* Both kinds of content are made. */
	assert_true(v.xml > all_docs / 4);
	assert_true(v.text > all_docs / 5);
	hx_buf_clear(&v.b);
	free(v.patient_ids);
	free(v.doc_ids);
	free(v.unique_ids);
	free(every_doc);
}

/* ---- the region ------------------------------------------------------------------------- */

#define PERSONS 2000

struct seen {
	unsigned orgs;   /* how many orgs hold the person */
	unsigned homes;  /* how many said home */
	unsigned home_org;
};

struct region {
	const struct demo_opts *o;
	struct seen *seen;
	struct hx_buf b, truth;
	size_t other, differ, typo, no_phone, with_ssn_truth, no_ssn, vary_none;
	size_t home_checked;
};

static int truth_pack(const Hie__V1__Demographics *d, void *arg)
{
	pack(d, arg);
	return 0;
}

static int truth_copy(const Hie__V1__Demographics *d, void *arg)
{
	Hie__V1__Demographics **out = arg;
	void *copy = NULL;
	struct hx_buf b;
	hx_buf_init(&b, 1u << 16);
	pack(d, &b);
	assert_int_equal(proto_unpack(PROTO_DEMOGRAPHICS, b.data, b.len, &copy), HX_OK);
	hx_buf_clear(&b);
	*out = copy;
	return 0;
}

static int has_ssn(const Hie__V1__Demographics *d)
{
	for (size_t i = 0; i < d->n_identifiers; i++)
		if (strcmp(d->identifiers[i]->system, DEMO_SSN_SYSTEM) == 0)
			return 1;
	return 0;
}

static int given_differs(const Hie__V1__HumanName *a, const Hie__V1__HumanName *b)
{
	return a->n_given == 0 || b->n_given == 0 || strcmp(a->given[0], b->given[0]) != 0;
}

static int region_patient(const Hie__V1__Patient *p, const struct demo_patient_info *info,
                          void *arg)
{
	struct region *r = arg;
	Hie__V1__Demographics d = *p->demographics, *truth = NULL;
	struct seen *s = &r->seen[info->person];
	int differs;

	assert_true(info->person < PERSONS);
	s->orgs++;
	s->homes += info->home;
	s->home_org = info->home_org;
	assert_int_equal(hx_date_check(d.birth_date), HX_OK);

	/* Without its MRN (last), the record is the person's demographics as they are... */
	d.n_identifiers--;
	pack(&d, &r->b);
	assert_int_equal(demo_person_demographics(r->o->seed, info->person, truth_pack, &r->truth),
	                 HX_OK);
	if (info->home || info->vary == 0) {
		/* ...byte for byte at the home org, and wherever the org made no mistake. */
		assert_int_equal(r->b.len, r->truth.len);
		assert_memory_equal(r->b.data, r->truth.data, r->b.len);
		r->home_checked += info->home;
		r->vary_none += !info->home;
		if (info->home)
			return 0;
	} else {
		assert_true(r->b.len != r->truth.len ||
		            memcmp(r->b.data, r->truth.data, r->b.len) != 0);
	}
	r->other++;
	assert_int_equal(demo_person_demographics(r->o->seed, info->person, truth_copy, &truth),
	                 HX_OK);
	differs = strcmp(d.names[0]->family, truth->names[0]->family) != 0 ||
	          given_differs(d.names[0], truth->names[0]) ||
	          strcmp(d.birth_date, truth->birth_date) != 0;
	if (differs) /* every difference has a reason in the ground truth */
		assert_true(info->vary &
		            (DEMO_VARY_TYPO_FAMILY | DEMO_VARY_TYPO_GIVEN | DEMO_VARY_NICKNAME |
		             DEMO_VARY_BIRTH_DATE | DEMO_VARY_NAME_CHANGE | DEMO_VARY_HYPHENATED |
		             DEMO_VARY_ASCII | DEMO_VARY_SURNAME_FORM));
	if (info->vary & (DEMO_VARY_TYPO_FAMILY | DEMO_VARY_TYPO_GIVEN | DEMO_VARY_BIRTH_DATE))
		assert_true(differs);
	r->differ += differs;
	r->typo += (info->vary & (DEMO_VARY_TYPO_FAMILY | DEMO_VARY_TYPO_GIVEN)) != 0;
	r->no_phone += d.n_telecom == 0;
	if (has_ssn(truth)) {
		r->with_ssn_truth++;
		r->no_ssn += !has_ssn(&d);
	}
	proto_free(truth);
	return 0;
}

static void test_region_across_orgs(void **state)
{
	struct region r;
	size_t several = 0;
	(void)state;

	memset(&r, 0, sizeof(r));
	r.seen = calloc(PERSONS, sizeof(*r.seen));
	hx_buf_init(&r.b, 1u << 16);
	hx_buf_init(&r.truth, 1u << 16);
	for (unsigned org = 0; org < 3; org++) {
		struct demo_opts o = opts(2024, org, 3, PERSONS);
		o.share = 0.6;
		r.o = &o;
		assert_int_equal(demo_generate(&o, region_patient, NULL, &r), HX_OK);
	}
	for (size_t i = 0; i < PERSONS; i++) {
		/* Everyone is at their home org, and only one org is home. */
		assert_true(r.seen[i].orgs >= 1);
		assert_int_equal(r.seen[i].homes, 1);
		assert_true(r.seen[i].home_org < 3);
		several += r.seen[i].orgs >= 2;
	}
	assert_int_equal(r.home_checked, PERSONS);
	/* P(at 2+ orgs) = 1 - 0.4^2 = 0.84. */
	assert_true(several > PERSONS * 75 / 100 && several < PERSONS * 92 / 100);
	/* Non-home records: about 2 per person * 0.6. */
	assert_true(r.other > PERSONS && r.other < PERSONS * 3 / 2);
	/* Names or birth dates differ in a measurable, bounded fraction. */
	assert_true(r.differ > r.other * 10 / 100);
	assert_true(r.differ < r.other * 60 / 100);
	/* Rates near their targets: typos 30%, missing phone 20%, missing SSN 30%. */
	assert_true(r.typo > r.other * 22 / 100 && r.typo < r.other * 38 / 100);
	assert_true(r.no_phone > r.other * 14 / 100 && r.no_phone < r.other * 26 / 100);
	assert_true(r.with_ssn_truth > r.other * 60 / 100 && r.with_ssn_truth < r.other * 80 / 100);
	assert_true(r.no_ssn > r.with_ssn_truth * 22 / 100);
	assert_true(r.no_ssn < r.with_ssn_truth * 38 / 100);
	/* Some records are perfect copies at other orgs too. */
	assert_true(r.vary_none > 0);
	hx_buf_clear(&r.b);
	hx_buf_clear(&r.truth);
	free(r.seen);
}

static int count_patient(const Hie__V1__Patient *p, const struct demo_patient_info *info,
                         void *arg)
{
	(void)p;
	(void)info;
	(*(size_t *)arg)++;
	return 0;
}

static void test_share_extremes(void **state)
{
	struct demo_opts o = opts(5, 2, 3, 500);
	size_t n = 0;
	(void)state;

	o.share = 1.0; /* everyone everywhere */
	assert_int_equal(demo_generate(&o, count_patient, NULL, &n), HX_OK);
	assert_int_equal(n, 500);
	o = opts(5, 0, 1, 500); /* one org: everyone is home */
	n = 0;
	assert_int_equal(demo_generate(&o, count_patient, NULL, &n), HX_OK);
	assert_int_equal(n, 500);
	o = opts(5, 0, 3, 0); /* nobody */
	n = 0;
	assert_int_equal(demo_generate(&o, count_patient, NULL, &n), HX_OK);
	assert_int_equal(n, 0);
}

/* ---- documents -------------------------------------------------------------------------- */

struct sizes {
	size_t docs, xml, lo, hi, min, max;
};

static int size_doc(const Hie__V1__DocumentEntry *e, const uint8_t *c, size_t len, void *arg)
{
	struct sizes *s = arg;
	s->docs++;
	if (len < s->min)
		s->min = len;
	if (len > s->max)
		s->max = len;
	assert_true(len >= s->lo && len <= s->hi);
	assert_null(memchr(c, '\0', len));
	if (strcmp(e->mime_type, "text/xml") == 0) {
		xmlDocPtr doc = xmlReadMemory((const char *)c, (int)len, "doc.xml", NULL,
		                              XML_PARSE_NONET | XML_PARSE_NOERROR |
		                                  XML_PARSE_NOWARNING);
		xmlNodePtr root;
		assert_non_null(doc);
		root = xmlDocGetRootElement(doc);
		assert_non_null(root);
		assert_string_equal((const char *)root->name, "ClinicalDocument");
		xmlFreeDoc(doc);
		s->xml++;
	}
	return 0;
}

static void test_document_sizes_and_xml(void **state)
{
	struct demo_opts o = opts(99, 0, 2, 120);
	struct sizes s = {.lo = 9000, .hi = 11000, .min = SIZE_MAX};
	(void)state;

	o.doc_size = 10000;
	assert_int_equal(demo_generate(&o, NULL, size_doc, &s), HX_OK);
	assert_true(s.docs > 100);
	assert_true(s.xml > 20 && s.xml < s.docs);
	assert_true(s.min >= 9500); /* padding stops within a sentence or two of the target */

	/* Natural size: 1-4 KB of narrative, a little more for long XML documents. */
	memset(&s, 0, sizeof(s));
	s.lo = 700;
	s.hi = 9000;
	s.min = SIZE_MAX;
	o.doc_size = 0;
	o.docs_per_patient = 4;
	assert_int_equal(demo_generate(&o, NULL, size_doc, &s), HX_OK);
	assert_true(s.docs > 200);
	assert_true(s.xml > 50);

	/* Large: one MiB, within a percent. */
	memset(&s, 0, sizeof(s));
	s.lo = (1u << 20) - 10000;
	s.hi = (1u << 20) + 10000;
	s.min = SIZE_MAX;
	o.persons = 4;
	o.docs_per_patient = 1;
	o.doc_size = 1u << 20;
	assert_int_equal(demo_generate(&o, NULL, size_doc, &s), HX_OK);
	assert_true(s.docs >= 1);
}

/* Metadata does not depend on doc_size: only the content, its size and hash do. */
struct meta {
	char ids[64][40];
	int64_t created[64];
	size_t n;
};

static int meta_doc(const Hie__V1__DocumentEntry *e, const uint8_t *c, size_t len, void *arg)
{
	struct meta *m = arg;
	(void)c;
	(void)len;
	if (m->n < 64) {
		memcpy(m->ids[m->n], e->id, 33);
		m->created[m->n] = e->creation_time;
		m->n++;
	}
	return 0;
}

static void test_metadata_independent_of_size(void **state)
{
	struct demo_opts o = opts(3, 1, 2, 40);
	struct meta *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	(void)state;

	assert_int_equal(demo_generate(&o, NULL, meta_doc, a), HX_OK);
	o.doc_size = 20000;
	assert_int_equal(demo_generate(&o, NULL, meta_doc, b), HX_OK);
	assert_true(a->n > 10);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_string_equal(a->ids[i], b->ids[i]);
		assert_int_equal(a->created[i], b->created[i]);
	}
	free(a);
	free(b);
}

/* ---- callbacks and options -------------------------------------------------------------- */

struct stop {
	size_t patients, docs, stop_patient, stop_doc;
};

static int stop_patient(const Hie__V1__Patient *p, const struct demo_patient_info *info,
                        void *arg)
{
	struct stop *s = arg;
	(void)p;
	(void)info;
	return ++s->patients == s->stop_patient ? 7 : 0;
}

static int stop_doc(const Hie__V1__DocumentEntry *e, const uint8_t *c, size_t len, void *arg)
{
	struct stop *s = arg;
	(void)e;
	(void)c;
	(void)len;
	return ++s->docs == s->stop_doc ? -5 : 0;
}

static void test_callback_stops(void **state)
{
	struct demo_opts o = opts(11, 0, 3, 300);
	struct stop s = {.stop_patient = 3};
	(void)state;

	assert_int_equal(demo_generate(&o, stop_patient, NULL, &s), 7);
	assert_int_equal(s.patients, 3);
	memset(&s, 0, sizeof(s));
	s.stop_doc = 4;
	assert_int_equal(demo_generate(&o, stop_patient, stop_doc, &s), -5);
	assert_int_equal(s.docs, 4);
	assert_true(s.patients >= 1 && s.patients <= 4);
	/* A nonzero return that happens to be an error code is passed through as is. */
	memset(&s, 0, sizeof(s));
	s.stop_patient = 1;
	assert_int_equal(demo_generate(&o, stop_patient, stop_doc, &s), 7);
	assert_int_equal(s.docs, 0);
}

static void test_bad_options(void **state)
{
	struct demo_opts good = opts(1, 0, 3, 10), o;
	struct stop s = {0};
	(void)state;

	assert_int_equal(demo_generate(NULL, stop_patient, NULL, &s), HX_EINVAL);
#define BAD(field, value) \
	do { \
		o = good; \
		o.field = value; \
		assert_int_equal(demo_generate(&o, stop_patient, stop_doc, &s), HX_EINVAL); \
	} while (0)
	BAD(org_id, NULL);
	BAD(org_id, "");
	BAD(org_id, "hospital");
	BAD(org_id, "2.16.840.01");
	BAD(org_id, "7.1.2");
	BAD(org_count, 0);
	BAD(org_index, 3);
	BAD(org_index, 100);
	BAD(share, 1.5);
	BAD(share, -0.1);
	BAD(share, NAN);
	BAD(doc_size, (size_t)DEMO_DOC_SIZE_MAX + 1);
	BAD(persons, (size_t)DEMO_PERSONS_MAX + 1);
	BAD(docs_per_patient, DEMO_DOCS_PER_PATIENT_MAX + 1);
#undef BAD
	assert_int_equal(s.patients, 0);
	assert_int_equal(s.docs, 0);
	/* The limits themselves are accepted. */
	o = good;
	o.persons = 0;
	o.doc_size = DEMO_DOC_SIZE_MAX;
	o.docs_per_patient = DEMO_DOCS_PER_PATIENT_MAX;
	assert_int_equal(demo_generate(&o, stop_patient, stop_doc, &s), HX_OK);
}

/* ---- helpers and tables ----------------------------------------------------------------- */

static int first_name(const Hie__V1__Patient *p, const struct demo_patient_info *info,
                      void *arg)
{
	char *out = arg;
	const Hie__V1__HumanName *n = p->demographics->names[0];
	if (!info->home)
		return 0;
	if (n->n_given > 1)
		snprintf(out, 256, "%s %s %s", n->given[0], n->given[1], n->family);
	else
		snprintf(out, 256, "%s %s", n->given[0], n->family);
	return 1;
}

static void test_helpers_and_tables(void **state)
{
	struct demo_opts o = opts(8, 0, 1, 1);
	char name[256], got[256], small[4] = "xyz", org[3][96], id[12];
	(void)state;

	/* demo_person_name() is the home org's official name. */
	assert_int_equal(demo_generate(&o, first_name, NULL, got), 1);
	assert_int_equal(demo_person_name(8, 0, name, sizeof(name)), HX_OK);
	assert_string_equal(name, got);
	assert_int_equal(demo_person_name(8, 0, small, sizeof(small)), HX_ELIMIT);
	assert_string_equal(small, "xyz");

	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(demo_org_name(8, i, org[i], sizeof(org[i])), HX_OK);
		assert_true(strlen(org[i]) > 5);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(org[i], org[j]);
	}
	assert_int_equal(demo_patient_id(8, 0, DEMO_PERSONS_MAX, id), HX_EINVAL);
	assert_int_equal(demo_patient_id(8, 0, DEMO_PERSONS_MAX - 1, id), HX_OK);
	assert_int_equal(proto_id_patient_check(id), HX_OK);

	/* The tables are as large as promised, and folding reaches plain ASCII. */
	assert_true(demo_given_count(1) >= 150);
	assert_true(demo_given_count(0) >= 150);
	assert_true(demo_family_count() >= 250);
	assert_true(demo_nickname_count() >= 40);
	assert_true(demo_city_count >= 40);
	assert_true(demo_doc_type_count >= 10);
	assert_int_equal(demo_ascii_fold("Nguyễn García Müller Łukasz Đức ß", name, sizeof(name)),
	                 1);
	assert_string_equal(name, "Nguyen Garcia Muller Lukasz Duc ss");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_options_same_bytes),
		cmocka_unit_test(test_different_seeds_differ),
		cmocka_unit_test(test_every_message_valid),
		cmocka_unit_test(test_region_across_orgs),
		cmocka_unit_test(test_share_extremes),
		cmocka_unit_test(test_document_sizes_and_xml),
		cmocka_unit_test(test_metadata_independent_of_size),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_helpers_and_tables),
	};
	int rc;

	xmlInitParser();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
