/* proto_msg.c: the kind table, unpack/pack, and each kind's validator. */
#include "proto_internal.h"

#include <stddef.h>
#include <string.h>

#define KIB 1024u
#define MIB (1024u * 1024u)

typedef int (*validate_fn)(const void *msg);

static int nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int opt_org(const char *s)
{
	return nonempty(s) ? proto_id_org_check(s) : HX_OK;
}

static int fixed_len(const ProtobufCBinaryData *b, size_t len, int optional)
{
	if (optional && b->len == 0)
		return HX_OK;
	return b->len == len ? HX_OK : HX_EPARSE;
}

static int ids_check(char *const *ids, size_t n, int (*check)(const char *))
{
	for (size_t i = 0; i < n; i++)
		if (check(ids[i]) != HX_OK)
			return HX_EPARSE;
	return HX_OK;
}

/* stored: demographics read back from our store, checked as they were when written (a birth
 * date that was in the future then is read, not refused). */
static int demographics_check(const Hie__V1__Demographics *d, int stored)
{
	if (nonempty(d->birth_date) &&
	    (stored ? hx_date_check(d->birth_date)
	            : hx_birth_date_check(d->birth_date, hx_time_now_ms())) != HX_OK)
		return HX_EPARSE; /* not a date, or (sent to us) one in the future */
	for (size_t i = 0; i < d->n_identifiers; i++)
		if (!nonempty(d->identifiers[i]->system) || !nonempty(d->identifiers[i]->value))
			return HX_EPARSE;
	for (size_t i = 0; i < d->n_telecom; i++)
		if (!nonempty(d->telecom[i]->value))
			return HX_EPARSE;
	return HX_OK;
}

int proto_demographics_check(const Hie__V1__Demographics *d)
{
	return demographics_check(d, 0);
}

static int v_none(const void *msg)
{
	(void)msg;
	return HX_OK;
}

static int v_demographics(const void *msg)
{
	return proto_demographics_check(msg);
}

static int patient_check(const Hie__V1__Patient *p, int stored)
{
	if (proto_id_patient_check(p->id) != HX_OK || p->demographics == NULL || p->updated < 0)
		return HX_EPARSE;
	return demographics_check(p->demographics, stored);
}

static int v_patient(const void *msg)
{
	return patient_check(msg, 0);
}

static int v_document_entry(const void *msg)
{
	const Hie__V1__DocumentEntry *e = msg;
	if (proto_id_doc_check(e->id) != HX_OK || proto_id_patient_check(e->patient_id) != HX_OK ||
	    proto_id_org_check(e->origin_org) != HX_OK)
		return HX_EPARSE;
	if (fixed_len(&e->sha256, PROTO_SHA256_LEN, 0) != HX_OK)
		return HX_EPARSE;
	if (e->status == HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_UNSPECIFIED ||
	    !nonempty(e->mime_type) || e->type_code == NULL || !nonempty(e->type_code->code))
		return HX_EPARSE;
	if (e->creation_time <= 0 || e->size > PROTO_CONTENT_MAX)
		return HX_EPARSE;
	if (e->service_start < 0 || e->service_stop < 0 ||
	    (e->service_stop != 0 && e->service_stop < e->service_start))
		return HX_EPARSE;
	return HX_OK;
}

static int v_document(const void *msg)
{
	const Hie__V1__Document *d = msg;
	if (d->entry == NULL || v_document_entry(d->entry) != HX_OK)
		return HX_EPARSE;
	return d->content.len == d->entry->size ? HX_OK : HX_EPARSE;
}

static int v_discover_request(const void *msg)
{
	const Hie__V1__DiscoverRequest *r = msg;
	if (r->demographics == NULL ||
	    r->purpose == HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED)
		return HX_EPARSE;
	return proto_demographics_check(r->demographics);
}

static int v_discover_response(const void *msg)
{
	const Hie__V1__DiscoverResponse *r = msg;
	for (size_t i = 0; i < r->n_matches; i++)
		if (proto_id_patient_check(r->matches[i]->patient_id) != HX_OK ||
		    r->matches[i]->grade == HIE__V1__MATCH_GRADE__MATCH_GRADE_UNSPECIFIED)
			return HX_EPARSE;
	return HX_OK;
}

static int v_document_query(const void *msg)
{
	const Hie__V1__DocumentQuery *q = msg;
	if (q->n_patient_ids == 0 || ids_check(q->patient_ids, q->n_patient_ids,
	                                       proto_id_patient_check) != HX_OK)
		return HX_EPARSE;
	if (q->purpose == HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED)
		return HX_EPARSE;
	if (q->created_from < 0 || q->created_to < 0 ||
	    (q->created_to != 0 && q->created_to < q->created_from))
		return HX_EPARSE;
	for (size_t i = 0; i < q->n_type_codes; i++)
		if (!nonempty(q->type_codes[i]->code))
			return HX_EPARSE;
	for (size_t i = 0; i < q->n_class_codes; i++)
		if (!nonempty(q->class_codes[i]->code))
			return HX_EPARSE;
	return HX_OK;
}

static int v_document_query_response(const void *msg)
{
	const Hie__V1__DocumentQueryResponse *r = msg;
	for (size_t i = 0; i < r->n_entries; i++)
		if (v_document_entry(r->entries[i]) != HX_OK)
			return HX_EPARSE;
	return HX_OK;
}

static int v_retrieve_request(const void *msg)
{
	const Hie__V1__RetrieveRequest *r = msg;
	if (r->n_document_ids == 0 ||
	    ids_check(r->document_ids, r->n_document_ids, proto_id_doc_check) != HX_OK)
		return HX_EPARSE;
	return r->purpose == HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED ? HX_EPARSE
	                                                                         : HX_OK;
}

static int v_retrieve_response(const void *msg)
{
	const Hie__V1__RetrieveResponse *r = msg;
	for (size_t i = 0; i < r->n_documents; i++)
		if (v_document(r->documents[i]) != HX_OK)
			return HX_EPARSE;
	return ids_check(r->missing_ids, r->n_missing_ids, proto_id_doc_check);
}

static int tokens_check(const ProtobufCBinaryData *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].len != PROTO_TOKEN_LEN)
			return HX_EPARSE;
	return HX_OK;
}

static int v_locator_publish(const void *msg)
{
	const Hie__V1__LocatorPublish *p = msg;
	if (p->n_add == 0 && p->n_remove == 0) {
		return HX_EPARSE;
	}
	if (tokens_check(p->add, p->n_add) != HX_OK || tokens_check(p->remove, p->n_remove) != HX_OK)
		return HX_EPARSE;
	if (p->stream.len != 0 && (p->stream.len != PROTO_STREAM_LEN || p->sequence == 0))
		return HX_EPARSE; /* a stream orders sequences from 1 */
	return HX_OK;
}

static int v_locator_check(const void *msg)
{
	const Hie__V1__LocatorCheck *p = msg;
	return p->stream.len == PROTO_STREAM_LEN ? HX_OK : HX_EPARSE;
}

/* A bound of a TokenRange: unset, or a token. */
static int bound_len(const ProtobufCBinaryData *b)
{
	return b->len == 0 || b->len == PROTO_TOKEN_LEN ? HX_OK : HX_EPARSE;
}

static int v_locator_snapshot(const void *msg)
{
	const Hie__V1__LocatorSnapshot *p = msg;
	const ProtobufCBinaryData *lo = NULL, *hi = NULL;
	if (p->stream.len != PROTO_STREAM_LEN || p->sequence == 0 ||
	    tokens_check(p->tokens, p->n_tokens) != HX_OK)
		return HX_EPARSE;
	if (p->resume_stream.len != 0 &&
	    (p->resume_stream.len != PROTO_STREAM_LEN || p->resume_sequence == 0))
		return HX_EPARSE;
	if (p->range != NULL) {
		if (bound_len(&p->range->after) != HX_OK || bound_len(&p->range->through) != HX_OK)
			return HX_EPARSE;
		lo = p->range->after.len ? &p->range->after : NULL;
		hi = p->range->through.len ? &p->range->through : NULL;
		if (lo && hi && memcmp(lo->data, hi->data, PROTO_TOKEN_LEN) >= 0)
			return HX_EPARSE; /* an empty range */
	}
	for (size_t i = 0; i < p->n_tokens; i++)
		if ((i > 0 && memcmp(p->tokens[i - 1].data, p->tokens[i].data, PROTO_TOKEN_LEN) >= 0) ||
		    (lo && memcmp(p->tokens[i].data, lo->data, PROTO_TOKEN_LEN) <= 0) ||
		    (hi && memcmp(p->tokens[i].data, hi->data, PROTO_TOKEN_LEN) > 0))
			return HX_EPARSE; /* not ascending, or outside the range */
	return HX_OK;
}

static int v_locate_request(const void *msg)
{
	const Hie__V1__LocateRequest *r = msg;
	return r->n_tokens == 0 ? HX_EPARSE : tokens_check(r->tokens, r->n_tokens);
}

static int v_locate_response(const void *msg)
{
	const Hie__V1__LocateResponse *r = msg;
	for (size_t i = 0; i < r->n_orgs; i++)
		if (proto_id_org_check(r->orgs[i]->org_id) != HX_OK || r->orgs[i]->hits == 0)
			return HX_EPARSE;
	return HX_OK;
}

static int v_peer(const void *msg)
{
	const Hie__V1__Peer *p = msg;
	if (proto_id_org_check(p->org_id) != HX_OK ||
	    fixed_len(&p->fingerprint, PROTO_FINGERPRINT_LEN, 0) != HX_OK ||
	    fixed_len(&p->next_fingerprint, PROTO_FINGERPRINT_LEN, 1) != HX_OK ||
	    p->status == HIE__V1__PEER_STATUS__PEER_STATUS_UNSPECIFIED)
		return HX_EPARSE;
	if (nonempty(p->endpoint) && strncmp(p->endpoint, "https://", 8) != 0)
		return HX_EPARSE;
	return HX_OK;
}

static int v_audit_event(const void *msg)
{
	const Hie__V1__AuditEvent *e = msg;
	if (e->action == HIE__V1__AUDIT_ACTION__AUDIT_ACTION_UNSPECIFIED ||
	    e->outcome == HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_UNSPECIFIED || e->time <= 0)
		return HX_EPARSE;
	if (opt_org(e->actor_org) != HX_OK || opt_org(e->target_org) != HX_OK)
		return HX_EPARSE;
	if (fixed_len(&e->prev_hash, PROTO_SHA256_LEN, 1) != HX_OK ||
	    fixed_len(&e->actor_fingerprint, PROTO_FINGERPRINT_LEN, 1) != HX_OK ||
	    fixed_len(&e->old_fingerprint, PROTO_FINGERPRINT_LEN, 1) != HX_OK ||
	    fixed_len(&e->new_fingerprint, PROTO_FINGERPRINT_LEN, 1) != HX_OK)
		return HX_EPARSE;
	if (ids_check(e->patient_ids, e->n_patient_ids, proto_id_patient_check) != HX_OK ||
	    ids_check(e->document_ids, e->n_document_ids, proto_id_doc_check) != HX_OK)
		return HX_EPARSE;
	return HX_OK;
}

static int v_consent(const void *msg)
{
	const Hie__V1__Consent *c = msg;
	if (proto_id_patient_check(c->patient_id) != HX_OK)
		return HX_EPARSE;
	return ids_check(c->denied_orgs, c->n_denied_orgs, proto_id_org_check);
}

static int v_stored_patient(const void *msg)
{
	const Hie__V1__StoredPatient *s = msg;
	if (s->patient == NULL || patient_check(s->patient, 1) != HX_OK)
		return HX_EPARSE;
	for (size_t i = 0; i < s->n_blocking_keys; i++)
		if (s->blocking_keys[i].len == 0 || s->blocking_keys[i].len > 64)
			return HX_EPARSE;
	return HX_OK;
}

static int v_local_client(const void *msg)
{
	const Hie__V1__LocalClient *c = msg;
	if (proto_id_client_check(c->name) != HX_OK ||
	    fixed_len(&c->fingerprint, PROTO_FINGERPRINT_LEN, 0) != HX_OK ||
	    c->status == HIE__V1__PEER_STATUS__PEER_STATUS_UNSPECIFIED)
		return HX_EPARSE;
	for (size_t i = 0; i < c->n_rights; i++)
		if (c->rights[i] == HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_UNSPECIFIED)
			return HX_EPARSE;
	return HX_OK;
}

static int v_outside_query(const void *msg)
{
	const Hie__V1__OutsideQuery *q = msg;
	if (q->demographics == NULL ||
	    q->purpose == HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED)
		return HX_EPARSE;
	return proto_demographics_check(q->demographics);
}

static int v_outside_query_response(const void *msg)
{
	const Hie__V1__OutsideQueryResponse *r = msg;
	if (r->n_entry_orgs != r->n_entries)
		return HX_EPARSE;
	for (size_t i = 0; i < r->n_entries; i++)
		if (v_document_entry(r->entries[i]) != HX_OK ||
		    proto_id_org_check(r->entry_orgs[i]) != HX_OK)
			return HX_EPARSE;
	for (size_t i = 0; i < r->n_orgs; i++)
		if (proto_id_org_check(r->orgs[i]->org_id) != HX_OK)
			return HX_EPARSE;
	return HX_OK;
}

/* At most this many documents in one OutsideRetrieve. */
#define OUTSIDE_RETRIEVE_MAX 32
static int v_outside_retrieve(const void *msg)
{
	const Hie__V1__OutsideRetrieve *r = msg;
	if (proto_id_org_check(r->org_id) != HX_OK || r->n_document_ids == 0 ||
	    r->n_document_ids > OUTSIDE_RETRIEVE_MAX ||
	    ids_check(r->document_ids, r->n_document_ids, proto_id_doc_check) != HX_OK)
		return HX_EPARSE;
	return r->purpose == HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED ? HX_EPARSE
	                                                                         : HX_OK;
}

/* What a local system sends to be stored: the node completes and checks the entry itself. */
static int v_document_publish(const void *msg)
{
	const Hie__V1__DocumentPublish *d = msg;
	const Hie__V1__DocumentEntry *e = d->entry;
	if (e == NULL || proto_id_patient_check(e->patient_id) != HX_OK || e->type_code == NULL ||
	    !nonempty(e->type_code->code) || d->content.len > PROTO_CONTENT_MAX)
		return HX_EPARSE;
	if ((nonempty(e->id) && proto_id_doc_check(e->id) != HX_OK) ||
	    fixed_len(&e->sha256, PROTO_SHA256_LEN, 1) != HX_OK)
		return HX_EPARSE;
	return HX_OK;
}

static const struct proto_kind_info {
	const char *name;
	const ProtobufCMessageDescriptor *desc;
	size_t max_size;
	validate_fn validate;
} kinds[PROTO_KIND_COUNT] = {
	[PROTO_ERROR] = {"Error", &hie__v1__error__descriptor, 4 * KIB, v_none},
	[PROTO_HEALTH] = {"Health", &hie__v1__health__descriptor, 4 * KIB, v_none},
	[PROTO_PATIENT] = {"Patient", &hie__v1__patient__descriptor, 64 * KIB, v_patient},
	[PROTO_DEMOGRAPHICS] = {"Demographics", &hie__v1__demographics__descriptor, 64 * KIB,
	                        v_demographics},
	[PROTO_DOCUMENT_ENTRY] = {"DocumentEntry", &hie__v1__document_entry__descriptor,
	                          32 * KIB, v_document_entry},
	[PROTO_DOCUMENT] = {"Document", &hie__v1__document__descriptor,
	                    PROTO_CONTENT_MAX + 64 * KIB, v_document},
	[PROTO_DISCOVER_REQUEST] = {"DiscoverRequest", &hie__v1__discover_request__descriptor,
	                            64 * KIB, v_discover_request},
	[PROTO_DISCOVER_RESPONSE] = {"DiscoverResponse",
	                             &hie__v1__discover_response__descriptor, 64 * KIB,
	                             v_discover_response},
	[PROTO_DOCUMENT_QUERY] = {"DocumentQuery", &hie__v1__document_query__descriptor,
	                          64 * KIB, v_document_query},
	[PROTO_DOCUMENT_QUERY_RESPONSE] = {"DocumentQueryResponse",
	                                   &hie__v1__document_query_response__descriptor,
	                                   32 * MIB, v_document_query_response},
	[PROTO_RETRIEVE_REQUEST] = {"RetrieveRequest", &hie__v1__retrieve_request__descriptor,
	                            64 * KIB, v_retrieve_request},
	[PROTO_RETRIEVE_RESPONSE] = {"RetrieveResponse",
	                             &hie__v1__retrieve_response__descriptor, 256 * MIB,
	                             v_retrieve_response},
	[PROTO_LOCATOR_PUBLISH] = {"LocatorPublish", &hie__v1__locator_publish__descriptor,
	                           8 * MIB, v_locator_publish},
	[PROTO_LOCATOR_SNAPSHOT] = {"LocatorSnapshot", &hie__v1__locator_snapshot__descriptor,
	                            8 * MIB, v_locator_snapshot},
	[PROTO_LOCATOR_CHECK] = {"LocatorCheck", &hie__v1__locator_check__descriptor, 1 * KIB,
	                         v_locator_check},
	[PROTO_LOCATOR_PUBLISH_ACK] = {"LocatorPublishAck",
	                               &hie__v1__locator_publish_ack__descriptor, 1 * KIB,
	                               v_none},
	[PROTO_LOCATE_REQUEST] = {"LocateRequest", &hie__v1__locate_request__descriptor,
	                          16 * KIB, v_locate_request},
	[PROTO_LOCATE_RESPONSE] = {"LocateResponse", &hie__v1__locate_response__descriptor,
	                           256 * KIB, v_locate_response},
	[PROTO_PEER] = {"Peer", &hie__v1__peer__descriptor, 16 * KIB, v_peer},
	[PROTO_AUDIT_EVENT] = {"AuditEvent", &hie__v1__audit_event__descriptor, 128 * KIB,
	                       v_audit_event},
	[PROTO_CONSENT] = {"Consent", &hie__v1__consent__descriptor, 128 * KIB, v_consent},
	[PROTO_STORED_PATIENT] = {"StoredPatient", &hie__v1__stored_patient__descriptor,
	                          72 * KIB, v_stored_patient},
	[PROTO_LOCAL_CLIENT] = {"LocalClient", &hie__v1__local_client__descriptor, 4 * KIB,
	                        v_local_client},
	[PROTO_OUTSIDE_QUERY] = {"OutsideQuery", &hie__v1__outside_query__descriptor, 64 * KIB,
	                         v_outside_query},
	[PROTO_OUTSIDE_QUERY_RESPONSE] = {"OutsideQueryResponse",
	                                  &hie__v1__outside_query_response__descriptor, 64 * MIB,
	                                  v_outside_query_response},
	[PROTO_OUTSIDE_RETRIEVE] = {"OutsideRetrieve", &hie__v1__outside_retrieve__descriptor,
	                            8 * KIB, v_outside_retrieve},
	[PROTO_DOCUMENT_PUBLISH] = {"DocumentPublish", &hie__v1__document_publish__descriptor,
	                            PROTO_CONTENT_MAX + 64 * KIB, v_document_publish},
};

static const struct proto_kind_info *kind_info(enum proto_kind kind)
{
	if ((unsigned)kind >= PROTO_KIND_COUNT)
		return NULL;
	return &kinds[kind];
}

const char *proto_kind_name(enum proto_kind kind)
{
	const struct proto_kind_info *k = kind_info(kind);
	return k != NULL ? k->name : "?";
}

int proto_kind_parse(const char *name, enum proto_kind *out)
{
	for (int i = 0; i < PROTO_KIND_COUNT; i++) {
		if (strcmp(kinds[i].name, name) == 0) {
			*out = (enum proto_kind)i;
			return HX_OK;
		}
	}
	return HX_ENOTFOUND;
}

size_t proto_kind_max_size(enum proto_kind kind)
{
	const struct proto_kind_info *k = kind_info(kind);
	return k != NULL ? k->max_size : 0;
}

const ProtobufCMessageDescriptor *proto_kind_descriptor(enum proto_kind kind)
{
	const struct proto_kind_info *k = kind_info(kind);
	return k != NULL ? k->desc : NULL;
}

static int check_msg(const struct proto_kind_info *k, const ProtobufCMessage *m)
{
	if (m->descriptor != k->desc)
		return HX_EPARSE;
	if (proto_walk(m) != HX_OK || k->validate(m) != HX_OK)
		return HX_EPARSE;
	return HX_OK;
}

/* Unpack with `alloc` (NULL: malloc) and validate. */
static int unpack_with(enum proto_kind kind, ProtobufCAllocator *alloc, const uint8_t *buf,
                       size_t len, void **out)
{
	const struct proto_kind_info *k = kind_info(kind);
	ProtobufCMessage *m;

	if (k == NULL)
		return HX_EINVAL;
	if (len > k->max_size || (buf == NULL && len != 0))
		return HX_EPARSE;
	if (buf == NULL)
		buf = (const uint8_t *)"";
	m = protobuf_c_message_unpack(k->desc, alloc, len, buf);
	if (m == NULL)
		return HX_EPARSE;
	if (proto_wire_check(k->desc, buf, len) != HX_OK || check_msg(k, m) != HX_OK) {
		protobuf_c_message_free_unpacked(m, alloc);
		return HX_EPARSE;
	}
	*out = m;
	return HX_OK;
}

int proto_unpack(enum proto_kind kind, const uint8_t *buf, size_t len, void **out)
{
	return unpack_with(kind, NULL, buf, len, out);
}

/* The thread's scratch arena (proto_unpack_scratch): a bump allocator that a request's
 * message is unpacked into, instead of one malloc per field and submessage and one free
 * each afterwards. A request is a few hundred bytes; one that does not fit is unpacked on
 * the heap instead. */
#define SCRATCH_SIZE (16u * KIB)
static _Thread_local struct scratch {
	size_t used;
	int spilled; /* an allocation did not fit */
	_Alignas(max_align_t) unsigned char buf[SCRATCH_SIZE];
} scratch;

static void *scratch_alloc(void *data, size_t size)
{
	struct scratch *a = data;
	size_t at = (a->used + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1);
	if (size > SCRATCH_SIZE || at > SCRATCH_SIZE - size) {
		a->spilled = 1; /* protobuf-c then fails the unpack; it is redone on the heap */
		return NULL;
	}
	a->used = at + size;
	return a->buf + at;
}

static void scratch_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

int proto_unpack_scratch(enum proto_kind kind, const uint8_t *buf, size_t len, void **out)
{
	ProtobufCAllocator a = {scratch_alloc, scratch_free, &scratch};
	int rc;

	scratch.used = 0;
	scratch.spilled = 0;
	rc = unpack_with(kind, &a, buf, len, out);
	if (rc == HX_EPARSE && scratch.spilled)
		rc = unpack_with(kind, NULL, buf, len, out);
	return rc;
}

void proto_scratch_free(void *msg)
{
	const unsigned char *p = msg;
	if (p != NULL && (p < scratch.buf || p >= scratch.buf + SCRATCH_SIZE))
		protobuf_c_message_free_unpacked(msg, NULL); /* it was unpacked on the heap */
}

void proto_free(void *msg)
{
	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, NULL);
}

int proto_check(enum proto_kind kind, const void *msg)
{
	const struct proto_kind_info *k = kind_info(kind);
	if (k == NULL || msg == NULL)
		return HX_EINVAL;
	return check_msg(k, msg) == HX_OK ? HX_OK : HX_EINVAL;
}

size_t proto_packed_size(const void *msg)
{
	return protobuf_c_message_get_packed_size(msg);
}

size_t proto_pack_to(const void *msg, uint8_t *out)
{
	return protobuf_c_message_pack(msg, out);
}

int proto_pack(const void *msg, struct hx_buf *out)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	int rc = hx_buf_reserve(out, n);
	if (rc != HX_OK)
		return rc;
	protobuf_c_message_pack(msg, out->data + out->len);
	out->len += n;
	out->data[out->len] = '\0';
	return HX_OK;
}

/* ---- reading one field from wire bytes ---------------------------------------------------- */

/* Read a varint at *p (below end). Returns 0 if it is cut or longer than 10 bytes. */
static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 70 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return 1;
		}
	}
	return 0;
}

int proto_wire_find_bytes(const uint8_t *p, size_t n, uint32_t field, const uint8_t **data,
                          size_t *len)
{
	const uint8_t *end = p + n;
	int found = 0;
	while (p < end) {
		uint64_t tag, v;
		if (!wire_varint(&p, end, &tag))
			return -1;
		switch (tag & 7) {
		case 0:
			if (!wire_varint(&p, end, &v))
				return -1;
			break;
		case 1:
		case 5: {
			size_t w = (tag & 7) == 1 ? 8 : 4;
			if ((size_t)(end - p) < w)
				return -1;
			p += w;
			break;
		}
		case 2:
			if (!wire_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return -1;
			if ((tag >> 3) == field) {
				*data = p;
				*len = (size_t)v;
				found = 1;
			}
			p += v;
			break;
		default:
			return -1; /* groups: not in our messages */
		}
	}
	return found;
}

/* ---- hand-framed RetrieveResponse ------------------------------------------------------- */

static size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Field numbers (exchange.proto / document.proto). */
#define TAG_RETRIEVE_DOCUMENTS 0x0a   /* RetrieveResponse.documents = 1, length-delimited */
#define TAG_RETRIEVE_MISSING 0x12     /* RetrieveResponse.missing_ids = 2 */
#define TAG_DOCUMENT_ENTRY 0x0a       /* Document.entry = 1 */
#define TAG_DOCUMENT_CONTENT 0x12     /* Document.content = 2 */
#define TAG_QUERY_ENTRIES 0x0a        /* DocumentQueryResponse.entries = 1 */
#define TAG_QUERY_TRUNCATED 0x10      /* DocumentQueryResponse.truncated = 2, varint */

int proto_retrieve_response_add_document(struct hx_buf *out, const uint8_t *entry,
                                         size_t entry_len, const uint8_t *content,
                                         size_t content_len)
{
	size_t doc_len = 1 + varint_len(entry_len) + entry_len +
	                 (content_len > 0 ? 1 + varint_len(content_len) + content_len : 0);
	size_t total = 1 + varint_len(doc_len) + doc_len;
	uint8_t *p;
	int rc = hx_buf_reserve(out, total);

	if (rc != HX_OK)
		return rc;
	p = out->data + out->len;
	*p++ = TAG_RETRIEVE_DOCUMENTS;
	p += varint_put(p, doc_len);
	*p++ = TAG_DOCUMENT_ENTRY;
	p += varint_put(p, entry_len);
	memcpy(p, entry, entry_len);
	p += entry_len;
	if (content_len > 0) { /* proto3 leaves an empty bytes field out */
		*p++ = TAG_DOCUMENT_CONTENT;
		p += varint_put(p, content_len);
		memcpy(p, content, content_len);
	}
	out->len += total;
	out->data[out->len] = '\0';
	return HX_OK;
}

/* One length-delimited field (a one-byte tag): all of it, or nothing and HX_ELIMIT. */
static int append_field(struct hx_buf *out, uint8_t tag, const void *data, size_t len)
{
	uint8_t head[1 + 10];
	size_t h = 0;
	int rc;
	head[h++] = tag;
	h += varint_put(head + h, len);
	if ((rc = hx_buf_reserve(out, h + len)) != HX_OK)
		return rc;
	hx_buf_append(out, head, h);
	return hx_buf_append(out, data, len);
}

int proto_retrieve_response_add_missing(struct hx_buf *out, const char *doc_id)
{
	return append_field(out, TAG_RETRIEVE_MISSING, doc_id, strlen(doc_id));
}

int proto_query_response_add_entry(struct hx_buf *out, const uint8_t *entry, size_t entry_len)
{
	return append_field(out, TAG_QUERY_ENTRIES, entry, entry_len);
}

int proto_query_response_set_truncated(struct hx_buf *out)
{
	static const uint8_t flag[2] = {TAG_QUERY_TRUNCATED, 1};
	return hx_buf_append(out, flag, sizeof(flag));
}
