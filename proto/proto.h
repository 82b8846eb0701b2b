/*
 * proto/proto.h: the only door between bytes and hie.v1 messages.
 *
 * Nothing outside proto/ calls the generated *__pack / *__unpack functions. Incoming bytes
 * go through proto_unpack(), which, in this order:
 *   1. refuses input longer than the kind's size cap (HX_ELIMIT is NOT used here: every
 *      refusal of untrusted input is HX_EPARSE, so callers map it to one 400);
 *   2. unpacks with protobuf-c (garbage, truncation → HX_EPARSE), and refuses what
 *      protobuf-c lets through: a NUL inside a string, field numbers outside 1..2^29-1;
 *   3. walks the message: every repeated field within its element cap, every string within
 *      its length cap, valid UTF-8 and free of control characters, every bytes field within
 *      its cap, every enum a known value;
 *   4. runs the kind's validator: required fields present, ids valid for their grammar
 *      (organisation OID, document id, local patient id), fixed-size fields the right size.
 * On failure nothing is allocated and *out is untouched. On success the caller owns the
 * message and frees it with proto_free().
 *
 * Messages built in memory (to send or to store) are checked with proto_check() and packed
 * with proto_pack(). The caps are listed in proto_check.c (one table); ids in docs/ids.md.
 */
#ifndef HX_PROTO_H
#define HX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "hx.h"
#include "hie/v1/admin.pb-c.h"
#include "hie/v1/common.pb-c.h"
#include "hie/v1/document.pb-c.h"
#include "hie/v1/exchange.pb-c.h"
#include "hie/v1/local.pb-c.h"
#include "hie/v1/locator.pb-c.h"
#include "hie/v1/patient.pb-c.h"
#include "hie/v1/store.pb-c.h"

/* Every message that is packed or unpacked on its own. */
enum proto_kind {
	PROTO_ERROR,
	PROTO_HEALTH,
	PROTO_PATIENT,
	PROTO_DEMOGRAPHICS,
	PROTO_DOCUMENT_ENTRY,
	PROTO_DOCUMENT,
	PROTO_DISCOVER_REQUEST,
	PROTO_DISCOVER_RESPONSE,
	PROTO_DOCUMENT_QUERY,
	PROTO_DOCUMENT_QUERY_RESPONSE,
	PROTO_RETRIEVE_REQUEST,
	PROTO_RETRIEVE_RESPONSE,
	PROTO_LOCATOR_PUBLISH,
	PROTO_LOCATOR_SNAPSHOT,
	PROTO_LOCATOR_CHECK,
	PROTO_LOCATOR_PUBLISH_ACK,
	PROTO_LOCATE_REQUEST,
	PROTO_LOCATE_RESPONSE,
	PROTO_PEER,
	PROTO_AUDIT_EVENT,
	PROTO_CONSENT,
	PROTO_STORED_PATIENT,
	PROTO_LOCAL_CLIENT,
	PROTO_OUTSIDE_QUERY,
	PROTO_OUTSIDE_QUERY_RESPONSE,
	PROTO_OUTSIDE_RETRIEVE,
	PROTO_DOCUMENT_PUBLISH,
	PROTO_KIND_COUNT
};

/* Largest document content accepted anywhere (Document.content). */
#define PROTO_CONTENT_MAX (64u << 20)
/* Lengths of the fixed-size byte fields. */
#define PROTO_SHA256_LEN 32
#define PROTO_TOKEN_LEN 32
/* The length of a publisher's outbox stream id (LocatorPublish.stream). */
#define PROTO_STREAM_LEN 16
#define PROTO_FINGERPRINT_LEN 32
/* Id lengths (without NUL). */
#define PROTO_DOC_ID_LEN 32
#define PROTO_PATIENT_ID_MAX 64
#define PROTO_ORG_ID_MAX 64

/* "DocumentEntry" etc.; "?" for an unknown kind. */
const char *proto_kind_name(enum proto_kind kind);
/* Parse a kind name as printed by proto_kind_name(); HX_ENOTFOUND. */
int proto_kind_parse(const char *name, enum proto_kind *out);
/* The largest packed size accepted for a kind. */
size_t proto_kind_max_size(enum proto_kind kind);
const ProtobufCMessageDescriptor *proto_kind_descriptor(enum proto_kind kind);

/* Unpack and validate (see above). HX_EPARSE on any refusal, HX_ENOMEM. */
int proto_unpack(enum proto_kind kind, const uint8_t *buf, size_t len, void **out);
/* Free a message returned by proto_unpack() (or by a store_*_get). NULL is a no-op. */
void proto_free(void *msg);
/* proto_unpack() into the calling thread's scratch arena, for a request decoded, used and
 * dropped within one call: no allocation per field. The message lives until the thread's
 * next proto_unpack_scratch() (so one at a time per thread, and not to be kept); release
 * it with proto_scratch_free() (a message too large for the arena is on the heap). */
int proto_unpack_scratch(enum proto_kind kind, const uint8_t *buf, size_t len, void **out);
void proto_scratch_free(void *msg);

/* Validate a message built in memory: the same walk and validator as proto_unpack().
 * HX_EINVAL when it does not pass (it is our own message, not input). */
int proto_check(enum proto_kind kind, const void *msg);
/* Append the packed message to `out`. HX_ELIMIT if the buffer's maximum is exceeded. */
int proto_pack(const void *msg, struct hx_buf *out);
size_t proto_packed_size(const void *msg);
/* Pack into a caller buffer of at least proto_packed_size() bytes; returns bytes written. */
size_t proto_pack_to(const void *msg, uint8_t *out);

/*
 * Build a RetrieveResponse directly from stored bytes, without unpacking and packing each
 * entry: append a Document made of an already packed, already checked DocumentEntry (as
 * the store keeps it) and its content, or a missing id. The bytes are the same protobuf
 * encoding protobuf-c would produce for that message (documents, then missing ids).
 * HX_ELIMIT past the buffer's maximum.
 */
int proto_retrieve_response_add_document(struct hx_buf *out, const uint8_t *entry,
                                         size_t entry_len, const uint8_t *content,
                                         size_t content_len);
int proto_retrieve_response_add_missing(struct hx_buf *out, const char *doc_id);
/* The same for a DocumentQueryResponse: append an already packed, already checked
 * DocumentEntry; then, last, the truncated flag when it is set. */
int proto_query_response_add_entry(struct hx_buf *out, const uint8_t *entry, size_t entry_len);
int proto_query_response_set_truncated(struct hx_buf *out);
/* The last length-delimited field `field` of a message's wire bytes, found by stepping over
 * the others without decoding them (what protobuf keeps of a singular field is its last
 * occurrence). Returns 1 and sets *data, *len when found; 0 when absent; -1 when the bytes
 * do not parse (or hold a group). */
int proto_wire_find_bytes(const uint8_t *p, size_t n, uint32_t field, const uint8_t **data,
                          size_t *len);

/* Id grammars (docs/ids.md). Each returns HX_OK or HX_EPARSE. */
int proto_id_org_check(const char *s);     /* OID: 0|1|2 then .arc, 3..64 chars */
int proto_id_doc_check(const char *s);     /* 32 lowercase hex digits */
/* A local client name: 1..48 of [A-Za-z0-9._-], starting alphanumeric. */
int proto_id_client_check(const char *s);
/* UTF-8 without control characters, at most `max` bytes. HX_OK or HX_EPARSE. */
int proto_text_check(const char *s, size_t max);
int proto_id_patient_check(const char *s); /* 1..64 of [A-Za-z0-9._-], starts and ends
                                              alphanumeric, no ".." */
/* Validate demographics as a caller sent them (names, dates, identifiers; a birth date not
 * in the future). A StoredPatient read back is checked without the future rule. */
int proto_demographics_check(const Hie__V1__Demographics *d);

/* Typed wrappers: proto_<name>_unpack(buf, len, &msg). */
#define PROTO_WRAP(kind, name, type) \
	static inline int proto_##name##_unpack(const uint8_t *buf, size_t len, type **out) \
	{ \
		void *m = NULL; \
		int rc = proto_unpack(kind, buf, len, &m); \
		if (rc == HX_OK) \
			*out = (type *)m; \
		return rc; \
	}
PROTO_WRAP(PROTO_ERROR, error, Hie__V1__Error)
PROTO_WRAP(PROTO_HEALTH, health, Hie__V1__Health)
PROTO_WRAP(PROTO_PATIENT, patient, Hie__V1__Patient)
PROTO_WRAP(PROTO_DEMOGRAPHICS, demographics, Hie__V1__Demographics)
PROTO_WRAP(PROTO_DOCUMENT_ENTRY, document_entry, Hie__V1__DocumentEntry)
PROTO_WRAP(PROTO_DOCUMENT, document, Hie__V1__Document)
PROTO_WRAP(PROTO_DISCOVER_REQUEST, discover_request, Hie__V1__DiscoverRequest)
PROTO_WRAP(PROTO_DISCOVER_RESPONSE, discover_response, Hie__V1__DiscoverResponse)
PROTO_WRAP(PROTO_DOCUMENT_QUERY, document_query, Hie__V1__DocumentQuery)
PROTO_WRAP(PROTO_DOCUMENT_QUERY_RESPONSE, document_query_response,
           Hie__V1__DocumentQueryResponse)
PROTO_WRAP(PROTO_RETRIEVE_REQUEST, retrieve_request, Hie__V1__RetrieveRequest)
PROTO_WRAP(PROTO_RETRIEVE_RESPONSE, retrieve_response, Hie__V1__RetrieveResponse)
PROTO_WRAP(PROTO_LOCATOR_PUBLISH, locator_publish, Hie__V1__LocatorPublish)
PROTO_WRAP(PROTO_LOCATOR_SNAPSHOT, locator_snapshot, Hie__V1__LocatorSnapshot)
PROTO_WRAP(PROTO_LOCATOR_CHECK, locator_check, Hie__V1__LocatorCheck)
PROTO_WRAP(PROTO_LOCATOR_PUBLISH_ACK, locator_publish_ack, Hie__V1__LocatorPublishAck)
PROTO_WRAP(PROTO_LOCATE_REQUEST, locate_request, Hie__V1__LocateRequest)
PROTO_WRAP(PROTO_LOCATE_RESPONSE, locate_response, Hie__V1__LocateResponse)
PROTO_WRAP(PROTO_PEER, peer, Hie__V1__Peer)
PROTO_WRAP(PROTO_AUDIT_EVENT, audit_event, Hie__V1__AuditEvent)
PROTO_WRAP(PROTO_CONSENT, consent, Hie__V1__Consent)
PROTO_WRAP(PROTO_STORED_PATIENT, stored_patient, Hie__V1__StoredPatient)
PROTO_WRAP(PROTO_LOCAL_CLIENT, local_client, Hie__V1__LocalClient)
PROTO_WRAP(PROTO_OUTSIDE_QUERY, outside_query, Hie__V1__OutsideQuery)
PROTO_WRAP(PROTO_OUTSIDE_QUERY_RESPONSE, outside_query_response, Hie__V1__OutsideQueryResponse)
PROTO_WRAP(PROTO_OUTSIDE_RETRIEVE, outside_retrieve, Hie__V1__OutsideRetrieve)
PROTO_WRAP(PROTO_DOCUMENT_PUBLISH, document_publish, Hie__V1__DocumentPublish)
#undef PROTO_WRAP

#endif /* HX_PROTO_H */
