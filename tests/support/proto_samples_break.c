/* proto_samples_break.c: ways to make each kind's full sample invalid (near misses). */
#include "proto_samples.h"

#include <string.h>

/* Each breaker applies its i-th change to a full sample and returns what it did, or NULL
 * when there is no i-th change. */
typedef const char *(*break_fn)(struct proto_sample *s, void *msg, unsigned i);

/* A copy of `n` elements of size `elem` all equal to the first of `arr`. */
static void *repeat_first(struct proto_sample *s, const void *arr, size_t n, size_t elem)
{
	unsigned char *out = proto_sample_alloc(s, n * elem);
	for (size_t k = 0; k < n; k++)
		memcpy(out + k * elem, arr, elem);
	return out;
}

static const char *break_entry(struct proto_sample *s, Hie__V1__DocumentEntry *e, unsigned i)
{
	switch (i) {
	case 0: e->id = "4F1C2A9BE07D4C55A1B3000000000001"; return "entry id in uppercase hex";
	case 1: e->sha256.len = PROTO_SHA256_LEN - 1; return "entry sha256 of 31 bytes";
	case 2: e->sha256.len = 0; return "entry without sha256";
	case 3: e->patient_id = "a b"; return "entry patient id with a space";
	case 4: e->origin_org = "1.02"; return "entry origin org with a leading zero arc";
	case 5: e->status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_UNSPECIFIED;
		return "entry status unspecified";
	case 6: e->mime_type = ""; return "entry without mime type";
	case 7: e->type_code = NULL; return "entry without type code";
	case 8: e->creation_time = 0; return "entry without creation time";
	case 9: e->service_stop = e->service_start - 1; return "entry service stop before start";
	case 10: e->size = PROTO_CONTENT_MAX + 1ULL; return "entry size over the content cap";
	case 11: e->title = "bell\a"; return "entry title with a control character";
	case 12:
		e->authors = repeat_first(s, e->authors, 17, sizeof(*e->authors));
		e->n_authors = 17;
		return "entry with 17 authors (cap 16)";
	default: return NULL;
	}
}

static const char *break_demographics(Hie__V1__Demographics *d, unsigned i)
{
	switch (i) {
	case 0: d->birth_date = "2023-02-29"; return "birth date Feb 29 of a common year";
	case 1: d->birth_date = "1849-12-31"; return "birth date before 1850";
	case 2: d->identifiers[1]->system = ""; return "identifier without system";
	case 3: d->identifiers[0]->value = ""; return "identifier without value";
	case 4: d->telecom[1]->value = ""; return "telecom without value";
	case 5: d->names[0]->use = 42; return "name use 42 (unknown enum)";
	case 6: d->names[1]->family = "\xed\xa0\x80"; return "family name with a surrogate";
	case 7: d->addresses[0]->lines[1] = "\xc0\xaf"; return "address line with an overlong";
	default: return NULL;
	}
}

static const char *b_error(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__Error *e = msg;
	(void)s;
	switch (i) {
	case 0:
		e->code = HIE__V1__ERROR_CODE__ERROR_CODE_INTERNAL + 1;
		return "code one past the last";
	case 1: e->message = "red \x1b[31m"; return "message with an ANSI escape";
	default: return NULL;
	}
}

static const char *b_health(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__Health *h = msg;
	(void)s;
	switch (i) {
	case 0: h->status = "ok\x7f"; return "status with DEL";
	case 1: h->version = "\xc2\x85"; return "version with C1 NEL";
	default: return NULL;
	}
}

static const char *b_patient(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__Patient *p = msg;
	(void)s;
	switch (i) {
	case 0: p->id = ".."; return "patient id \"..\"";
	case 1: p->demographics = NULL; return "patient without demographics";
	case 2: p->updated = -1; return "patient updated before 1970";
	default: return break_demographics(p->demographics, i - 3);
	}
}

static const char *b_demographics(struct proto_sample *s, void *msg, unsigned i)
{
	(void)s;
	return break_demographics(msg, i);
}

static const char *b_document_entry(struct proto_sample *s, void *msg, unsigned i)
{
	return break_entry(s, msg, i);
}

static const char *b_document(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__Document *d = msg;
	switch (i) {
	case 0: d->content.len--; return "content one byte shorter than entry size";
	case 1: d->entry->size++; return "entry size one more than the content";
	case 2: d->entry = NULL; return "document without entry";
	default: return break_entry(s, d->entry, i - 3);
	}
}

static const char *b_discover_request(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__DiscoverRequest *r = msg;
	(void)s;
	switch (i) {
	case 0: r->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED;
		return "purpose unspecified";
	case 1: r->purpose = 99; return "purpose 99 (unknown enum)";
	case 2: r->demographics = NULL; return "no demographics";
	case 3: r->user->name = "a\r\nb"; return "user name with CR LF";
	default: return break_demographics(r->demographics, i - 4);
	}
}

static const char *b_discover_response(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__DiscoverResponse *r = msg;
	(void)s;
	switch (i) {
	case 0: r->matches[1]->patient_id = "abc-"; return "match patient id ending in '-'";
	case 1: r->matches[0]->grade = HIE__V1__MATCH_GRADE__MATCH_GRADE_UNSPECIFIED;
		return "match grade unspecified";
	case 2: r->matches[0]->patient_id = ""; return "match without patient id";
	case 3: r->suggested_attributes[1] = "\xff"; return "suggested attribute 0xff";
	default: return NULL;
	}
}

static const char *b_document_query(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__DocumentQuery *q = msg;
	switch (i) {
	case 0: q->n_patient_ids = 0; return "no patient ids";
	case 1: q->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED;
		return "purpose unspecified";
	case 2: q->patient_ids[1] = "../x"; return "patient id \"../x\"";
	case 3: q->created_to = q->created_from - 1; return "created_to before created_from";
	case 4: q->created_from = -5; return "negative created_from";
	case 5: q->type_codes[0]->code = ""; return "type code without code";
	case 6: q->class_codes[1]->code = ""; return "class code without code";
	case 7: q->statuses[1] = 3; return "status 3 (unknown enum)";
	case 8:
		q->statuses = repeat_first(s, q->statuses, 5, sizeof(*q->statuses));
		q->n_statuses = 5;
		return "5 statuses (cap 4)";
	default: return NULL;
	}
}

static const char *b_query_response(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__DocumentQueryResponse *r = msg;
	return break_entry(s, r->entries[1], i);
}

static const char *b_retrieve_request(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__RetrieveRequest *r = msg;
	(void)s;
	switch (i) {
	case 0: r->n_document_ids = 0; return "no document ids";
	case 1: r->document_ids[2] = "4f1c2a9be07d4c55a1b300000000000"; return "doc id of 31 chars";
	case 2:
		r->document_ids[0] = "4f1c2a9be07d4c55a1b30000000000001";
		return "doc id of 33 chars";
	case 3: r->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED;
		return "purpose unspecified";
	default: return NULL;
	}
}

static const char *b_retrieve_response(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__RetrieveResponse *r = msg;
	(void)s;
	switch (i) {
	case 0: r->missing_ids[1] = "%2e%2e"; return "missing id \"%2e%2e\"";
	case 1: r->documents[1]->content.len = 0; return "document content shorter than its size";
	case 2: r->documents[0]->entry->id = ""; return "document with an empty id";
	default: return NULL;
	}
}

static const char *b_locator_publish(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__LocatorPublish *p = msg;
	(void)s;
	switch (i) {
	case 0: p->n_add = 0; p->n_remove = 0; return "nothing added or removed";
	case 1: p->add[0].len = PROTO_TOKEN_LEN - 1; return "token of 31 bytes";
	case 2: p->remove[1].len = 0; return "empty token";
	default: return NULL;
	}
}

static const char *b_locator_snapshot(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__LocatorSnapshot *p = msg;
	(void)s;
	switch (i) {
	case 0: p->tokens[0].len = PROTO_TOKEN_LEN - 1; return "token of 31 bytes";
	case 1: memcpy(p->tokens[1].data, p->tokens[0].data, PROTO_TOKEN_LEN); return "a token twice";
	case 2: memset(p->tokens[0].data, 0x0f, PROTO_TOKEN_LEN); return "token at the lower bound";
	case 3: p->tokens[1].data[0] = 0x20; return "token past the upper bound";
	case 4: p->range->after.data[0] = 0x20; return "an empty range";
	case 5: p->range->through.len = 31; return "a bound of 31 bytes";
	case 6: p->stream.len = 0; return "no stream";
	case 7: p->sequence = 0; return "sequence 0";
	case 8: p->resume_stream.len = 15; return "a resume stream of 15 bytes";
	case 9: p->resume_sequence = 0; return "a resume stream without a sequence";
	default: return NULL;
	}
}

static const char *b_locator_check(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__LocatorCheck *p = msg;
	(void)s;
	switch (i) {
	case 0: p->stream.len = 0; return "no stream";
	case 1: p->stream.len = PROTO_STREAM_LEN - 1; return "a stream of 15 bytes";
	default: return NULL;
	}
}

static const char *b_locate_request(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__LocateRequest *r = msg;
	switch (i) {
	case 0: r->n_tokens = 0; return "no tokens";
	case 1: r->tokens[2].len = 0; return "empty token";
	case 2: {
		ProtobufCBinaryData t = {PROTO_TOKEN_LEN + 1,
		                          proto_sample_alloc(s, PROTO_TOKEN_LEN + 1)};
		r->tokens[1] = t;
		return "token of 33 bytes";
	}
	default: return NULL;
	}
}

static const char *b_locate_response(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__LocateResponse *r = msg;
	(void)s;
	switch (i) {
	case 0: r->orgs[0]->org_id = "3.1"; return "org id with first arc 3";
	case 1: r->orgs[1]->hits = 0; return "org with 0 hits";
	case 2: r->orgs[1]->org_id = ""; return "org without id";
	default: return NULL;
	}
}

static const char *b_peer(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__Peer *p = msg;
	(void)s;
	switch (i) {
	case 0: p->org_id = ""; return "peer without org id";
	case 1: p->fingerprint.len = 0; return "peer without fingerprint";
	case 2: p->next_fingerprint.len = 16; return "next fingerprint of 16 bytes";
	case 3:
		p->status = HIE__V1__PEER_STATUS__PEER_STATUS_UNSPECIFIED;
		return "status unspecified";
	case 4: p->endpoint = "http://peer.example:80"; return "plain http endpoint";
	case 5: p->roles[1] = 9; return "role 9 (unknown enum)";
	case 6: p->name = "Clinic\nGroup"; return "name with a newline";
	default: return NULL;
	}
}

static const char *b_audit_event(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__AuditEvent *e = msg;
	switch (i) {
	case 0: e->action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_UNSPECIFIED; return "no action";
	case 1: e->outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_UNSPECIFIED; return "no outcome";
	case 2: e->time = 0; return "no time";
	case 3: e->actor_org = "1..2"; return "actor org \"1..2\"";
	case 4: e->target_org = "1.2 "; return "target org with a trailing space";
	case 5: e->prev_hash.len = PROTO_SHA256_LEN - 1; return "prev hash of 31 bytes";
	case 6:
		e->actor_fingerprint.data = proto_sample_alloc(s, PROTO_FINGERPRINT_LEN + 1);
		e->actor_fingerprint.len = PROTO_FINGERPRINT_LEN + 1;
		return "actor fingerprint of 33 bytes";
	case 7: e->patient_ids[0] = ".abc"; return "patient id starting with '.'";
	case 8: e->document_ids[1] = "zz1c2a9be07d4c55a1b3000000000002"; return "doc id not hex";
	case 9: e->detail = "a\nb"; return "detail with a newline";
	default: return NULL;
	}
}

static const char *b_consent(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__Consent *c = msg;
	(void)s;
	switch (i) {
	case 0: c->patient_id = ""; return "consent without patient id";
	case 1: c->denied_orgs[1] = "1.2."; return "denied org with a trailing dot";
	case 2: c->policy = 5; return "policy 5 (unknown enum)";
	case 3: c->sensitive_categories[0]->display = "\xe0\x80\xaf"; return "display overlong";
	default: return NULL;
	}
}

static const char *b_stored_patient(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__StoredPatient *sp = msg;
	switch (i) {
	case 0: sp->patient = NULL; return "no patient";
	case 1: sp->blocking_keys[0].len = 0; return "empty blocking key";
	case 2: {
		ProtobufCBinaryData k = {65, proto_sample_alloc(s, 65)};
		sp->blocking_keys[1] = k;
		return "blocking key of 65 bytes";
	}
	case 3: sp->patient->id = "a%00b"; return "patient id \"a%00b\"";
	case 4: {
		ProtobufCBinaryData r = {2049, proto_sample_alloc(s, 2049)};
		sp->match_record = r;
		return "match record of 2049 bytes";
	}
	default: return NULL;
	}
}

static const char *b_local_client(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__LocalClient *c = msg;
	(void)s;
	switch (i) {
	case 0: c->name = ""; return "client without a name";
	case 1: c->name = "-ehr"; return "client name starting with '-'";
	case 2: c->name = "ehr main"; return "client name with a space";
	case 3: c->fingerprint.len = 31; return "fingerprint of 31 bytes";
	case 4:
		c->status = HIE__V1__PEER_STATUS__PEER_STATUS_UNSPECIFIED;
		return "status unspecified";
	case 5:
		c->rights[0] = HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_UNSPECIFIED;
		return "right unspecified";
	default: return NULL;
	}
}

static const char *b_outside_query(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__OutsideQuery *q = msg;
	(void)s;
	switch (i) {
	case 0: q->demographics = NULL; return "no demographics";
	case 1:
		q->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED;
		return "no purpose";
	case 2: q->demographics->birth_date = "1980-02-30"; return "birth date 1980-02-30";
	default: return NULL;
	}
}

static const char *b_outside_query_response(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__OutsideQueryResponse *r = msg;
	(void)s;
	switch (i) {
	case 0: r->n_entry_orgs = 0; return "entries without the organisations that listed them";
	case 1: r->entry_orgs[0] = "1..2"; return "entry org \"1..2\"";
	case 2: r->orgs[0]->org_id = ""; return "org result without org id";
	case 3: r->entries[0]->id = "xyz"; return "entry with a bad id";
	default: return NULL;
	}
}

static const char *b_outside_retrieve(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__OutsideRetrieve *r = msg;
	(void)s;
	switch (i) {
	case 0: r->org_id = ""; return "no organisation";
	case 1: r->n_document_ids = 0; return "no document ids";
	case 2: r->document_ids[1] = "ABC"; return "document id \"ABC\"";
	case 3:
		r->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED;
		return "no purpose";
	case 4: {
		char **ids = proto_sample_alloc(s, 33 * sizeof(char *));
		for (int k = 0; k < 33; k++)
			ids[k] = r->document_ids[0];
		r->document_ids = ids;
		r->n_document_ids = 33;
		return "33 document ids";
	}
	default: return NULL;
	}
}

static const char *b_document_publish(struct proto_sample *s, void *msg, unsigned i)
{
	Hie__V1__DocumentPublish *d = msg;
	(void)s;
	switch (i) {
	case 0: d->entry = NULL; return "no entry";
	case 1: d->entry->patient_id = ""; return "no patient id";
	case 2: d->entry->type_code = NULL; return "no type code";
	case 3: d->entry->id = "XYZ"; return "an id that is not one";
	case 4: d->entry->sha256.len = 31; return "a SHA-256 of 31 bytes";
	default: return NULL;
	}
}

static const break_fn breakers[PROTO_KIND_COUNT] = {
	[PROTO_ERROR] = b_error,
	[PROTO_HEALTH] = b_health,
	[PROTO_PATIENT] = b_patient,
	[PROTO_DEMOGRAPHICS] = b_demographics,
	[PROTO_DOCUMENT_ENTRY] = b_document_entry,
	[PROTO_DOCUMENT] = b_document,
	[PROTO_DISCOVER_REQUEST] = b_discover_request,
	[PROTO_DISCOVER_RESPONSE] = b_discover_response,
	[PROTO_DOCUMENT_QUERY] = b_document_query,
	[PROTO_DOCUMENT_QUERY_RESPONSE] = b_query_response,
	[PROTO_RETRIEVE_REQUEST] = b_retrieve_request,
	[PROTO_RETRIEVE_RESPONSE] = b_retrieve_response,
	[PROTO_LOCATOR_PUBLISH] = b_locator_publish,
	[PROTO_LOCATOR_SNAPSHOT] = b_locator_snapshot,
	[PROTO_LOCATOR_CHECK] = b_locator_check,
	[PROTO_LOCATOR_PUBLISH_ACK] = NULL, /* a bare sequence number cannot be invalid */
	[PROTO_LOCATE_REQUEST] = b_locate_request,
	[PROTO_LOCATE_RESPONSE] = b_locate_response,
	[PROTO_PEER] = b_peer,
	[PROTO_AUDIT_EVENT] = b_audit_event,
	[PROTO_CONSENT] = b_consent,
	[PROTO_STORED_PATIENT] = b_stored_patient,
	[PROTO_LOCAL_CLIENT] = b_local_client,
	[PROTO_OUTSIDE_QUERY] = b_outside_query,
	[PROTO_OUTSIDE_QUERY_RESPONSE] = b_outside_query_response,
	[PROTO_OUTSIDE_RETRIEVE] = b_outside_retrieve,
	[PROTO_DOCUMENT_PUBLISH] = b_document_publish,
};

int proto_sample_break(struct proto_sample *s, unsigned i, const char **what)
{
	const char *w;

	if ((unsigned)s->kind >= PROTO_KIND_COUNT || s->msg == NULL || breakers[s->kind] == NULL)
		return HX_ENOTFOUND;
	w = breakers[s->kind](s, s->msg, i);
	if (w == NULL)
		return HX_ENOTFOUND;
	*what = w;
	return HX_OK;
}
