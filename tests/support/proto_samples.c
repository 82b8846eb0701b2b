/* proto_samples.c: builders of a valid sample message of every proto_kind (synthetic data). */
#include "proto_samples.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct proto_sample_chunk {
	struct proto_sample_chunk *next;
	alignas(max_align_t) unsigned char data[];
};

/* Allocate and run the generated initialiser of a message type. */
#define SAMPLE_NEW(s, var, init) \
	do { \
		(var) = proto_sample_alloc((s), sizeof(*(var))); \
		init(var); \
	} while (0)

#define T0 INT64_C(1709647629000) /* 2024-03-05T14:07:09Z */
#define ORG_A "2.16.840.1.113883.3.72.1"
#define ORG_B "1.3.6.1.4.1.99999.7"
#define PATIENT_A "MRN-000123"
#define PATIENT_B "pat.00456_b"
#define LOINC "2.16.840.1.113883.6.1"
#define CONF "2.16.840.1.113883.5.25"

static const char content_text[] = "<ClinicalDocument>synthetic sample</ClinicalDocument>";

void *proto_sample_alloc(struct proto_sample *s, size_t n)
{
	struct proto_sample_chunk *c = calloc(1, sizeof(*c) + (n != 0 ? n : 1));

	if (c == NULL) {
		fprintf(stderr, "proto_sample_alloc: out of memory (%zu bytes)\n", n);
		abort();
	}
	c->next = s->chunks;
	s->chunks = c;
	return c->data;
}

char *proto_sample_strdup(struct proto_sample *s, const char *str)
{
	size_t n = strlen(str) + 1;
	return memcpy(proto_sample_alloc(s, n), str, n);
}

void proto_sample_clear(struct proto_sample *s)
{
	while (s->chunks != NULL) {
		struct proto_sample_chunk *c = s->chunks;
		s->chunks = c->next;
		free(c);
	}
	s->msg = NULL;
}

/* n bytes following a pattern that depends on `seed`. */
static ProtobufCBinaryData sample_bytes(struct proto_sample *s, size_t n, unsigned seed)
{
	ProtobufCBinaryData b = {n, proto_sample_alloc(s, n)};
	for (size_t i = 0; i < n; i++)
		b.data[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	return b;
}

static void *sample_array(struct proto_sample *s, size_t n, size_t elem)
{
	return proto_sample_alloc(s, n * elem);
}

/* A 32-hex-digit document id ending in `tag`. */
static char *sample_doc_id(struct proto_sample *s, unsigned tag)
{
	char id[PROTO_DOC_ID_LEN + 1];
	snprintf(id, sizeof(id), "4f1c2a9be07d4c55a1b3%012x", tag);
	return proto_sample_strdup(s, id);
}

static Hie__V1__Code *sample_code(struct proto_sample *s, const char *code, const char *system,
                                  const char *display)
{
	Hie__V1__Code *c;
	SAMPLE_NEW(s, c, hie__v1__code__init);
	c->code = (char *)code;
	c->system = (char *)system;
	c->display = (char *)display;
	return c;
}

static Hie__V1__RequestingUser *sample_user(struct proto_sample *s)
{
	Hie__V1__RequestingUser *u;
	SAMPLE_NEW(s, u, hie__v1__requesting_user__init);
	u->id = "dr.jones";
	u->role = "attending physician";
	u->name = "Dr Alex Jones";
	return u;
}

/* ---- patients ---------------------------------------------------------------------------- */

static Hie__V1__HumanName *sample_name(struct proto_sample *s, int maiden)
{
	Hie__V1__HumanName *n;
	SAMPLE_NEW(s, n, hie__v1__human_name__init);
	n->use = maiden ? HIE__V1__NAME_USE__NAME_USE_MAIDEN : HIE__V1__NAME_USE__NAME_USE_OFFICIAL;
	n->family = maiden ? "Smith-Jones" : "García López";
	n->n_given = 2;
	n->given = sample_array(s, 2, sizeof(char *));
	n->given[0] = "María";
	n->given[1] = maiden ? "E" : "Elena";
	n->prefix = maiden ? "Miss" : "Dr";
	n->suffix = maiden ? "II" : "PhD";
	return n;
}

static Hie__V1__Address *sample_address(struct proto_sample *s, int work)
{
	Hie__V1__Address *a;
	SAMPLE_NEW(s, a, hie__v1__address__init);
	a->use = work ? HIE__V1__ADDRESS_USE__ADDRESS_USE_WORK
	              : HIE__V1__ADDRESS_USE__ADDRESS_USE_HOME;
	a->n_lines = 2;
	a->lines = sample_array(s, 2, sizeof(char *));
	a->lines[0] = work ? "1 Hospital Plaza" : "12 Elm Street";
	a->lines[1] = work ? "Building C" : "Apt 4";
	a->city = "Springfield";
	a->state = "IL";
	a->postal_code = work ? "62702" : "62701";
	a->country = "US";
	return a;
}

static Hie__V1__ContactPoint *sample_contact(struct proto_sample *s, int email)
{
	Hie__V1__ContactPoint *c;
	SAMPLE_NEW(s, c, hie__v1__contact_point__init);
	c->system = email ? HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_EMAIL
	                  : HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_PHONE;
	c->value = email ? "m.garcia@example.org" : "+1-555-0100";
	c->use = email ? HIE__V1__CONTACT_USE__CONTACT_USE_WORK
	               : HIE__V1__CONTACT_USE__CONTACT_USE_MOBILE;
	return c;
}

static Hie__V1__Identifier *sample_identifier(struct proto_sample *s, int mrn)
{
	Hie__V1__Identifier *id;
	SAMPLE_NEW(s, id, hie__v1__identifier__init);
	id->system = mrn ? "urn:oid:" ORG_A : "2.16.840.1.113883.4.1";
	id->value = mrn ? "000123" : "999-00-1234";
	return id;
}

static Hie__V1__Demographics *sample_demographics(struct proto_sample *s, int full)
{
	Hie__V1__Demographics *d;
	SAMPLE_NEW(s, d, hie__v1__demographics__init);
	if (!full)
		return d;
	d->n_names = 2;
	d->names = sample_array(s, 2, sizeof(*d->names));
	d->birth_date = "1984-02-29";
	d->sex = HIE__V1__SEX__SEX_FEMALE;
	d->n_addresses = 2;
	d->addresses = sample_array(s, 2, sizeof(*d->addresses));
	d->n_telecom = 2;
	d->telecom = sample_array(s, 2, sizeof(*d->telecom));
	d->n_identifiers = 2;
	d->identifiers = sample_array(s, 2, sizeof(*d->identifiers));
	for (int i = 0; i < 2; i++) {
		d->names[i] = sample_name(s, i);
		d->addresses[i] = sample_address(s, i);
		d->telecom[i] = sample_contact(s, i);
		d->identifiers[i] = sample_identifier(s, i);
	}
	return d;
}

static Hie__V1__Patient *sample_patient(struct proto_sample *s, int full)
{
	Hie__V1__Patient *p;
	SAMPLE_NEW(s, p, hie__v1__patient__init);
	p->id = full ? PATIENT_A : "p";
	p->demographics = sample_demographics(s, full);
	p->updated = full ? T0 : 0;
	return p;
}

static Hie__V1__StoredPatient *sample_stored_patient(struct proto_sample *s, int full)
{
	Hie__V1__StoredPatient *sp;
	SAMPLE_NEW(s, sp, hie__v1__stored_patient__init);
	sp->patient = sample_patient(s, full);
	if (full) {
		sp->n_blocking_keys = 2;
		sp->blocking_keys = sample_array(s, 2, sizeof(*sp->blocking_keys));
		sp->blocking_keys[0] = sample_bytes(s, 12, 1);
		sp->blocking_keys[1] = sample_bytes(s, 64, 2);
		sp->match_record = sample_bytes(s, 140, 3);
	}
	return sp;
}

static Hie__V1__DiscoverRequest *sample_discover_request(struct proto_sample *s, int full)
{
	Hie__V1__DiscoverRequest *r;
	SAMPLE_NEW(s, r, hie__v1__discover_request__init);
	r->demographics = sample_demographics(s, full);
	r->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	if (full) {
		r->user = sample_user(s);
		r->include_possible = 1;
		r->max_results = 10;
	}
	return r;
}

static Hie__V1__DiscoverResponse *sample_discover_response(struct proto_sample *s, int full)
{
	Hie__V1__DiscoverResponse *r;
	SAMPLE_NEW(s, r, hie__v1__discover_response__init);
	if (!full)
		return r;
	r->n_matches = 2;
	r->matches = sample_array(s, 2, sizeof(*r->matches));
	for (int i = 0; i < 2; i++) {
		Hie__V1__PatientMatch *m;
		SAMPLE_NEW(s, m, hie__v1__patient_match__init);
		m->patient_id = i == 0 ? PATIENT_A : PATIENT_B;
		m->score = i == 0 ? 0.97 : 0.81;
		m->grade = i == 0 ? HIE__V1__MATCH_GRADE__MATCH_GRADE_CERTAIN
		                  : HIE__V1__MATCH_GRADE__MATCH_GRADE_PROBABLE;
		r->matches[i] = m;
	}
	r->n_suggested_attributes = 2;
	r->suggested_attributes = sample_array(s, 2, sizeof(char *));
	r->suggested_attributes[0] = "identifier";
	r->suggested_attributes[1] = "telecom";
	return r;
}

/* ---- documents --------------------------------------------------------------------------- */

static Hie__V1__Author *sample_author(struct proto_sample *s, int i)
{
	Hie__V1__Author *a;
	SAMPLE_NEW(s, a, hie__v1__author__init);
	a->person = i == 0 ? "Dr Alex Jones" : "Sam Lee, RN";
	a->institution = "Springfield General Hospital";
	a->role = i == 0 ? "attending" : "nurse";
	a->specialty = i == 0 ? "Cardiology" : "Internal medicine";
	return a;
}

/* Entry `tag` describing content of `size` bytes. */
static Hie__V1__DocumentEntry *sample_entry(struct proto_sample *s, int full, unsigned tag,
                                            size_t size)
{
	Hie__V1__DocumentEntry *e;
	SAMPLE_NEW(s, e, hie__v1__document_entry__init);
	e->id = sample_doc_id(s, tag);
	e->patient_id = full ? PATIENT_A : "p";
	e->type_code = sample_code(s, "34133-9", full ? LOINC : "",
	                           full ? "Summary of episode note" : "");
	e->creation_time = full ? T0 : 1;
	e->mime_type = full ? "text/xml" : "text/plain";
	e->size = size;
	e->sha256 = sample_bytes(s, PROTO_SHA256_LEN, tag);
	e->status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	e->origin_org = full ? ORG_A : "1.2";
	if (!full)
		return e;
	e->unique_id = "2.25.329800735698586629295641978511506172918";
	e->class_code = sample_code(s, "11488-4", LOINC, "Consult note");
	e->format_code = sample_code(s, "urn:ihe:pcc:xphr:2007", "1.3.6.1.4.1.19376.1.2.3",
	                             "HL7 CCD Document");
	e->n_confidentiality = 2;
	e->confidentiality = sample_array(s, 2, sizeof(*e->confidentiality));
	e->confidentiality[0] = sample_code(s, "N", CONF, "normal");
	e->confidentiality[1] = sample_code(s, "R", CONF, "restricted");
	e->service_start = T0 - 86400000;
	e->service_stop = T0 - 3600000;
	e->n_authors = 2;
	e->authors = sample_array(s, 2, sizeof(*e->authors));
	e->authors[0] = sample_author(s, 0);
	e->authors[1] = sample_author(s, 1);
	e->facility_type = sample_code(s, "22232009", "2.16.840.1.113883.6.96", "Hospital");
	e->practice_setting = sample_code(s, "394579002", "2.16.840.1.113883.6.96", "Cardiology");
	e->language = "en-US";
	e->title = "Discharge summary — cardiology";
	e->origin_signature = sample_bytes(s, 64, tag + 100);
	return e;
}

static Hie__V1__Document *sample_document(struct proto_sample *s, int full, unsigned tag)
{
	Hie__V1__Document *d;
	size_t len = full ? sizeof(content_text) - 1 : 0;
	SAMPLE_NEW(s, d, hie__v1__document__init);
	d->entry = sample_entry(s, full, tag, len);
	d->content.len = len;
	d->content.data = len != 0 ? memcpy(proto_sample_alloc(s, len), content_text, len) : NULL;
	return d;
}

static Hie__V1__DocumentQuery *sample_document_query(struct proto_sample *s, int full)
{
	Hie__V1__DocumentQuery *q;
	SAMPLE_NEW(s, q, hie__v1__document_query__init);
	q->n_patient_ids = full ? 2 : 1;
	q->patient_ids = sample_array(s, 2, sizeof(char *));
	q->patient_ids[0] = full ? PATIENT_A : "p";
	q->patient_ids[1] = PATIENT_B;
	q->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	if (!full)
		return q;
	q->n_type_codes = 2;
	q->type_codes = sample_array(s, 2, sizeof(*q->type_codes));
	q->type_codes[0] = sample_code(s, "34133-9", LOINC, "Summary of episode note");
	q->type_codes[1] = sample_code(s, "18842-5", LOINC, "Discharge summary");
	q->n_class_codes = 2;
	q->class_codes = sample_array(s, 2, sizeof(*q->class_codes));
	q->class_codes[0] = sample_code(s, "11488-4", LOINC, "Consult note");
	q->class_codes[1] = sample_code(s, "11506-3", LOINC, "Progress note");
	q->n_statuses = 2;
	q->statuses = sample_array(s, 2, sizeof(*q->statuses));
	q->statuses[0] = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	q->statuses[1] = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_DEPRECATED;
	q->created_from = T0 - 365LL * 86400000;
	q->created_to = T0;
	q->user = sample_user(s);
	q->max_results = 500;
	return q;
}

static Hie__V1__DocumentQueryResponse *sample_query_response(struct proto_sample *s, int full)
{
	Hie__V1__DocumentQueryResponse *r;
	SAMPLE_NEW(s, r, hie__v1__document_query_response__init);
	if (!full)
		return r;
	r->n_entries = 2;
	r->entries = sample_array(s, 2, sizeof(*r->entries));
	r->entries[0] = sample_entry(s, 1, 1, sizeof(content_text) - 1);
	r->entries[1] = sample_entry(s, 1, 2, 4096);
	r->truncated = 1;
	return r;
}

static Hie__V1__RetrieveRequest *sample_retrieve_request(struct proto_sample *s, int full)
{
	Hie__V1__RetrieveRequest *r;
	SAMPLE_NEW(s, r, hie__v1__retrieve_request__init);
	r->n_document_ids = full ? 3 : 1;
	r->document_ids = sample_array(s, r->n_document_ids, sizeof(char *));
	for (size_t i = 0; i < r->n_document_ids; i++)
		r->document_ids[i] = sample_doc_id(s, (unsigned)i + 1);
	r->purpose = full ? HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_EMERGENCY
	                  : HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	if (full)
		r->user = sample_user(s);
	return r;
}

static Hie__V1__RetrieveResponse *sample_retrieve_response(struct proto_sample *s, int full)
{
	Hie__V1__RetrieveResponse *r;
	SAMPLE_NEW(s, r, hie__v1__retrieve_response__init);
	if (!full)
		return r;
	r->n_documents = 2;
	r->documents = sample_array(s, 2, sizeof(*r->documents));
	r->documents[0] = sample_document(s, 1, 1);
	r->documents[1] = sample_document(s, 1, 2);
	r->n_missing_ids = 2;
	r->missing_ids = sample_array(s, 2, sizeof(char *));
	r->missing_ids[0] = sample_doc_id(s, 3);
	r->missing_ids[1] = sample_doc_id(s, 4);
	return r;
}

/* ---- record locator ---------------------------------------------------------------------- */

static ProtobufCBinaryData *sample_tokens(struct proto_sample *s, size_t n, unsigned seed)
{
	ProtobufCBinaryData *t = sample_array(s, n, sizeof(*t));
	for (size_t i = 0; i < n; i++)
		t[i] = sample_bytes(s, PROTO_TOKEN_LEN, seed + (unsigned)i);
	return t;
}

static Hie__V1__LocatorPublish *sample_locator_publish(struct proto_sample *s, int full)
{
	Hie__V1__LocatorPublish *p;
	SAMPLE_NEW(s, p, hie__v1__locator_publish__init);
	p->n_add = full ? 2 : 1;
	p->add = sample_tokens(s, p->n_add, 10);
	if (full) {
		p->n_remove = 2;
		p->remove = sample_tokens(s, 2, 20);
		p->sequence = 42;
		p->stream = sample_bytes(s, PROTO_STREAM_LEN, 30);
	}
	return p;
}

/* Minimal: a stream id. Full: and the sequence acknowledged. */
static Hie__V1__LocatorCheck *sample_locator_check(struct proto_sample *s, int full)
{
	Hie__V1__LocatorCheck *p;
	SAMPLE_NEW(s, p, hie__v1__locator_check__init);
	p->stream = sample_bytes(s, PROTO_STREAM_LEN, 60);
	p->acknowledged = full ? 12 : 0;
	return p;
}

/* Minimal: a stream's first snapshot of every token, holding none. Full: two ascending tokens
 * inside a range. */
static Hie__V1__LocatorSnapshot *sample_locator_snapshot(struct proto_sample *s, int full)
{
	Hie__V1__LocatorSnapshot *p;
	SAMPLE_NEW(s, p, hie__v1__locator_snapshot__init);
	p->sequence = 1;
	p->stream = sample_bytes(s, PROTO_STREAM_LEN, 50);
	if (full) {
		p->sequence = 9;
		p->n_tokens = 2;
		p->tokens = sample_tokens(s, 2, 51);
		p->tokens[0].data[0] = 0x10;
		p->tokens[1].data[0] = 0x11;
		SAMPLE_NEW(s, p->range, hie__v1__token_range__init);
		p->range->after = sample_bytes(s, PROTO_TOKEN_LEN, 53);
		p->range->through = sample_bytes(s, PROTO_TOKEN_LEN, 54);
		memset(p->range->after.data, 0x0f, PROTO_TOKEN_LEN);
		memset(p->range->through.data, 0x1f, PROTO_TOKEN_LEN);
		p->resume_stream = sample_bytes(s, PROTO_STREAM_LEN, 55);
		p->resume_sequence = 77;
	}
	return p;
}

static Hie__V1__LocatorPublishAck *sample_publish_ack(struct proto_sample *s, int full)
{
	Hie__V1__LocatorPublishAck *a;
	SAMPLE_NEW(s, a, hie__v1__locator_publish_ack__init);
	a->sequence = full ? 42 : 0;
	if (full) {
		a->replay = 1;
		a->applied = 43;
		a->conflict = 1;
		a->gap = 1;
	}
	return a;
}

static Hie__V1__LocateRequest *sample_locate_request(struct proto_sample *s, int full)
{
	Hie__V1__LocateRequest *r;
	SAMPLE_NEW(s, r, hie__v1__locate_request__init);
	r->n_tokens = full ? 3 : 1;
	r->tokens = sample_tokens(s, r->n_tokens, 30);
	return r;
}

static Hie__V1__LocateResponse *sample_locate_response(struct proto_sample *s, int full)
{
	Hie__V1__LocateResponse *r;
	SAMPLE_NEW(s, r, hie__v1__locate_response__init);
	if (!full)
		return r;
	r->n_orgs = 2;
	r->orgs = sample_array(s, 2, sizeof(*r->orgs));
	for (int i = 0; i < 2; i++) {
		Hie__V1__LocateHit *h;
		SAMPLE_NEW(s, h, hie__v1__locate_hit__init);
		h->org_id = i == 0 ? ORG_A : ORG_B;
		h->hits = i == 0 ? 3 : 1;
		r->orgs[i] = h;
	}
	return r;
}

/* ---- admin records ----------------------------------------------------------------------- */

static Hie__V1__Peer *sample_peer(struct proto_sample *s, int full)
{
	Hie__V1__Peer *p;
	SAMPLE_NEW(s, p, hie__v1__peer__init);
	p->org_id = full ? ORG_B : "1.2";
	p->fingerprint = sample_bytes(s, PROTO_FINGERPRINT_LEN, 40);
	p->status = HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE;
	if (!full)
		return p;
	p->name = "Riverside Clinic Group";
	p->endpoint = "https://peer.riverside.example:7443";
	p->next_fingerprint = sample_bytes(s, PROTO_FINGERPRINT_LEN, 41);
	p->n_roles = 2;
	p->roles = sample_array(s, 2, sizeof(*p->roles));
	p->roles[0] = HIE__V1__PEER_ROLE__PEER_ROLE_NODE;
	p->roles[1] = HIE__V1__PEER_ROLE__PEER_ROLE_RLS;
	SAMPLE_NEW(s, p->profile, hie__v1__peer_profile__init);
	p->profile->timeout_ms = 5000;
	p->profile->max_concurrency = 8;
	p->profile->max_docs_per_retrieve = 50;
	p->not_after = T0 + 365LL * 86400000;
	p->next_not_after = T0 + 730LL * 86400000;
	p->created = T0 - 86400000;
	p->updated = T0;
	p->certificate = sample_bytes(s, 600, 42);      /* a DER certificate's size */
	p->next_certificate = sample_bytes(s, 600, 43);
	return p;
}

static Hie__V1__LocalClient *sample_local_client(struct proto_sample *s, int full)
{
	Hie__V1__LocalClient *c;
	SAMPLE_NEW(s, c, hie__v1__local_client__init);
	c->name = full ? "ehr-main.prod_1" : "e";
	c->fingerprint = sample_bytes(s, PROTO_FINGERPRINT_LEN, 50);
	c->status = HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE;
	if (!full)
		return c;
	c->n_rights = 2;
	c->rights = sample_array(s, 2, sizeof(*c->rights));
	c->rights[0] = HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_QUERY;
	c->rights[1] = HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_RETRIEVE;
	c->not_after = T0 + 365LL * 86400000;
	c->created = T0 - 86400000;
	c->updated = T0;
	return c;
}

static Hie__V1__OutsideQuery *sample_outside_query(struct proto_sample *s, int full)
{
	Hie__V1__OutsideQuery *q;
	SAMPLE_NEW(s, q, hie__v1__outside_query__init);
	q->demographics = sample_demographics(s, full);
	q->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	if (full) {
		q->user = sample_user(s);
		q->peer_timeout_ms = 1500;
		q->overall_timeout_ms = 4000;
		q->no_cache = 1;
	}
	return q;
}

static Hie__V1__OrgResult *sample_org_result(struct proto_sample *s, unsigned i)
{
	Hie__V1__OrgResult *o;
	SAMPLE_NEW(s, o, hie__v1__org_result__init);
	o->org_id = i == 0 ? ORG_B : ORG_A;
	o->name = i == 0 ? "Riverside Clinic Group" : "Lakeside Hospital";
	o->status = i == 0 ? HIE__V1__ORG_STATUS__ORG_STATUS_OK
	                   : HIE__V1__ORG_STATUS__ORG_STATUS_TIMEOUT;
	o->detail = i == 0 ? "matched from the correlation cache" : "discover: no answer within 1500 ms";
	o->n_matches = 2;
	o->matches = sample_array(s, 2, sizeof(*o->matches));
	for (unsigned k = 0; k < 2; k++) {
		Hie__V1__PatientMatch *m;
		SAMPLE_NEW(s, m, hie__v1__patient_match__init);
		m->patient_id = k == 0 ? PATIENT_A : PATIENT_B;
		m->score = 31.5 - k;
		m->grade = k == 0 ? HIE__V1__MATCH_GRADE__MATCH_GRADE_CERTAIN
		                  : HIE__V1__MATCH_GRADE__MATCH_GRADE_PROBABLE;
		o->matches[k] = m;
	}
	o->documents = 2 - i;
	o->cached = 1;
	o->ms = 12 + i;
	o->hits = 3;
	return o;
}

static Hie__V1__OutsideQueryResponse *sample_outside_query_response(struct proto_sample *s,
                                                                    int full)
{
	Hie__V1__OutsideQueryResponse *r;
	SAMPLE_NEW(s, r, hie__v1__outside_query_response__init);
	if (!full)
		return r;
	r->n_orgs = 2;
	r->orgs = sample_array(s, 2, sizeof(*r->orgs));
	r->n_entries = r->n_entry_orgs = 2;
	r->entries = sample_array(s, 2, sizeof(*r->entries));
	r->entry_orgs = sample_array(s, 2, sizeof(char *));
	for (unsigned i = 0; i < 2; i++) {
		r->orgs[i] = sample_org_result(s, i);
		r->entries[i] = sample_document(s, 1, i + 1)->entry;
		r->entry_orgs[i] = ORG_B;
	}
	r->locator = "the locator named 2 organisation(s)";
	r->ms = 40;
	return r;
}

static Hie__V1__OutsideRetrieve *sample_outside_retrieve(struct proto_sample *s, int full)
{
	Hie__V1__OutsideRetrieve *r;
	SAMPLE_NEW(s, r, hie__v1__outside_retrieve__init);
	r->org_id = ORG_B;
	r->n_document_ids = full ? 2 : 1;
	r->document_ids = sample_array(s, r->n_document_ids, sizeof(char *));
	for (size_t i = 0; i < r->n_document_ids; i++)
		r->document_ids[i] = sample_doc_id(s, (unsigned)i + 1);
	r->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	if (full) {
		r->user = sample_user(s);
		r->allow_unsigned = 1;
	}
	return r;
}

static Hie__V1__DocumentPublish *sample_document_publish(struct proto_sample *s, int full)
{
	Hie__V1__DocumentPublish *d;
	Hie__V1__Document *doc = sample_document(s, full, 7);
	SAMPLE_NEW(s, d, hie__v1__document_publish__init);
	d->entry = doc->entry;
	d->content = doc->content;
	return d;
}

static Hie__V1__AuditEvent *sample_audit_event(struct proto_sample *s, int full)
{
	Hie__V1__AuditEvent *e;
	SAMPLE_NEW(s, e, hie__v1__audit_event__init);
	e->time = full ? T0 : 1;
	e->action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_RETRIEVE;
	e->outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	if (!full)
		return e;
	e->seq = 7;
	e->actor_org = ORG_B;
	e->actor_user = "dr.jones";
	e->actor_fingerprint = sample_bytes(s, PROTO_FINGERPRINT_LEN, 50);
	e->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	e->n_patient_ids = 2;
	e->patient_ids = sample_array(s, 2, sizeof(char *));
	e->patient_ids[0] = PATIENT_A;
	e->patient_ids[1] = PATIENT_B;
	e->n_document_ids = 2;
	e->document_ids = sample_array(s, 2, sizeof(char *));
	e->document_ids[0] = sample_doc_id(s, 1);
	e->document_ids[1] = sample_doc_id(s, 2);
	e->target_org = ORG_A;
	e->old_fingerprint = sample_bytes(s, PROTO_FINGERPRINT_LEN, 51);
	e->new_fingerprint = sample_bytes(s, PROTO_FINGERPRINT_LEN, 52);
	e->detail = "2 documents disclosed";
	e->prev_hash = sample_bytes(s, PROTO_SHA256_LEN, 53);
	return e;
}

static Hie__V1__Consent *sample_consent(struct proto_sample *s, int full)
{
	Hie__V1__Consent *c;
	SAMPLE_NEW(s, c, hie__v1__consent__init);
	c->patient_id = full ? PATIENT_A : "p";
	if (!full)
		return c;
	c->policy = HIE__V1__CONSENT_POLICY__CONSENT_POLICY_OPT_OUT;
	c->n_denied_orgs = 2;
	c->denied_orgs = sample_array(s, 2, sizeof(char *));
	c->denied_orgs[0] = ORG_B;
	c->denied_orgs[1] = "1.2.840.10008";
	c->n_sensitive_categories = 2;
	c->sensitive_categories = sample_array(s, 2, sizeof(*c->sensitive_categories));
	c->sensitive_categories[0] = sample_code(s, "PSY", "2.16.840.1.113883.5.4", "psychiatry");
	c->sensitive_categories[1] = sample_code(s, "HIV", "2.16.840.1.113883.5.4", "HIV/AIDS");
	c->updated = T0;
	return c;
}

/* ---- common ------------------------------------------------------------------------------ */

static Hie__V1__Error *sample_error(struct proto_sample *s, int full)
{
	Hie__V1__Error *e;
	SAMPLE_NEW(s, e, hie__v1__error__init);
	if (full) {
		e->code = HIE__V1__ERROR_CODE__ERROR_CODE_PARSE;
		e->message = "malformed input";
	}
	return e;
}

static Hie__V1__Health *sample_health(struct proto_sample *s, int full)
{
	Hie__V1__Health *h;
	SAMPLE_NEW(s, h, hie__v1__health__init);
	if (full) {
		h->status = "ok";
		h->org_id = ORG_A;
		h->version = "0.1.0";
		h->trust_generation = 3;
	}
	return h;
}

/* ---- the table --------------------------------------------------------------------------- */

static void *build(struct proto_sample *s, enum proto_kind kind, int full)
{
	switch (kind) {
	case PROTO_ERROR: return sample_error(s, full);
	case PROTO_HEALTH: return sample_health(s, full);
	case PROTO_PATIENT: return sample_patient(s, full);
	case PROTO_DEMOGRAPHICS: return sample_demographics(s, full);
	case PROTO_DOCUMENT_ENTRY: return sample_entry(s, full, 1, full ? 2048 : 0);
	case PROTO_DOCUMENT: return sample_document(s, full, 1);
	case PROTO_DISCOVER_REQUEST: return sample_discover_request(s, full);
	case PROTO_DISCOVER_RESPONSE: return sample_discover_response(s, full);
	case PROTO_DOCUMENT_QUERY: return sample_document_query(s, full);
	case PROTO_DOCUMENT_QUERY_RESPONSE: return sample_query_response(s, full);
	case PROTO_RETRIEVE_REQUEST: return sample_retrieve_request(s, full);
	case PROTO_RETRIEVE_RESPONSE: return sample_retrieve_response(s, full);
	case PROTO_LOCATOR_PUBLISH: return sample_locator_publish(s, full);
	case PROTO_LOCATOR_SNAPSHOT: return sample_locator_snapshot(s, full);
	case PROTO_LOCATOR_CHECK: return sample_locator_check(s, full);
	case PROTO_LOCATOR_PUBLISH_ACK: return sample_publish_ack(s, full);
	case PROTO_LOCATE_REQUEST: return sample_locate_request(s, full);
	case PROTO_LOCATE_RESPONSE: return sample_locate_response(s, full);
	case PROTO_PEER: return sample_peer(s, full);
	case PROTO_AUDIT_EVENT: return sample_audit_event(s, full);
	case PROTO_CONSENT: return sample_consent(s, full);
	case PROTO_STORED_PATIENT: return sample_stored_patient(s, full);
	case PROTO_LOCAL_CLIENT: return sample_local_client(s, full);
	case PROTO_OUTSIDE_QUERY: return sample_outside_query(s, full);
	case PROTO_OUTSIDE_QUERY_RESPONSE: return sample_outside_query_response(s, full);
	case PROTO_OUTSIDE_RETRIEVE: return sample_outside_retrieve(s, full);
	case PROTO_DOCUMENT_PUBLISH: return sample_document_publish(s, full);
	case PROTO_KIND_COUNT: break;
	}
	return NULL;
}

int proto_sample_init(struct proto_sample *s, enum proto_kind kind,
                      enum proto_sample_variant variant)
{
	s->kind = kind;
	s->msg = NULL;
	s->chunks = NULL;
	if ((unsigned)kind >= PROTO_KIND_COUNT ||
	    (variant != PROTO_SAMPLE_FULL && variant != PROTO_SAMPLE_MINIMAL))
		return HX_EINVAL;
	s->msg = build(s, kind, variant == PROTO_SAMPLE_FULL);
	return HX_OK;
}

int proto_sample_pack(enum proto_kind kind, enum proto_sample_variant variant,
                      struct hx_buf *out)
{
	struct proto_sample s;
	int rc = proto_sample_init(&s, kind, variant);

	if (rc == HX_OK)
		rc = proto_pack(s.msg, out);
	proto_sample_clear(&s);
	return rc;
}
