/*
 * fuzz_unpack.c: the fuzz target of one proto kind, chosen at build time with
 * -DFUZZ_KIND=PROTO_<KIND> (fuzz_unpack_<kind> under libFuzzer, fuzz_seed_<kind> with the
 * plain driver).
 *
 * Whatever the bytes, the kind's typed wrapper either refuses them with HX_EPARSE or returns
 * a message of that kind which passes proto_check() and survives pack -> unpack -> pack with
 * identical bytes. Anything else aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

#ifndef FUZZ_KIND
#error "compile with -DFUZZ_KIND=PROTO_<KIND>"
#endif

#define FUZZ_BUF_MAX (1u << 30)

static void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_unpack(%s): %s\n", proto_kind_name(FUZZ_KIND), what);
	abort();
}

/* Unpack through the kind's typed wrapper: the door the rest of the code uses. */
static int fuzz_unpack(const uint8_t *data, size_t size, void **out)
{
#define KIND_CASE(kind, name, type) \
	case kind: { \
		type *m = NULL; \
		int rc = proto_##name##_unpack(data, size, &m); \
		if (rc == HX_OK) \
			*out = m; \
		return rc; \
	}
	switch (FUZZ_KIND) {
	KIND_CASE(PROTO_ERROR, error, Hie__V1__Error)
	KIND_CASE(PROTO_HEALTH, health, Hie__V1__Health)
	KIND_CASE(PROTO_PATIENT, patient, Hie__V1__Patient)
	KIND_CASE(PROTO_DEMOGRAPHICS, demographics, Hie__V1__Demographics)
	KIND_CASE(PROTO_DOCUMENT_ENTRY, document_entry, Hie__V1__DocumentEntry)
	KIND_CASE(PROTO_DOCUMENT, document, Hie__V1__Document)
	KIND_CASE(PROTO_DISCOVER_REQUEST, discover_request, Hie__V1__DiscoverRequest)
	KIND_CASE(PROTO_DISCOVER_RESPONSE, discover_response, Hie__V1__DiscoverResponse)
	KIND_CASE(PROTO_DOCUMENT_QUERY, document_query, Hie__V1__DocumentQuery)
	KIND_CASE(PROTO_DOCUMENT_QUERY_RESPONSE, document_query_response,
	          Hie__V1__DocumentQueryResponse)
	KIND_CASE(PROTO_RETRIEVE_REQUEST, retrieve_request, Hie__V1__RetrieveRequest)
	KIND_CASE(PROTO_RETRIEVE_RESPONSE, retrieve_response, Hie__V1__RetrieveResponse)
	KIND_CASE(PROTO_LOCATOR_PUBLISH, locator_publish, Hie__V1__LocatorPublish)
	KIND_CASE(PROTO_LOCATOR_SNAPSHOT, locator_snapshot, Hie__V1__LocatorSnapshot)
	KIND_CASE(PROTO_LOCATOR_CHECK, locator_check, Hie__V1__LocatorCheck)
	KIND_CASE(PROTO_LOCATOR_PUBLISH_ACK, locator_publish_ack, Hie__V1__LocatorPublishAck)
	KIND_CASE(PROTO_LOCATE_REQUEST, locate_request, Hie__V1__LocateRequest)
	KIND_CASE(PROTO_LOCATE_RESPONSE, locate_response, Hie__V1__LocateResponse)
	KIND_CASE(PROTO_PEER, peer, Hie__V1__Peer)
	KIND_CASE(PROTO_AUDIT_EVENT, audit_event, Hie__V1__AuditEvent)
	KIND_CASE(PROTO_CONSENT, consent, Hie__V1__Consent)
	KIND_CASE(PROTO_STORED_PATIENT, stored_patient, Hie__V1__StoredPatient)
	KIND_CASE(PROTO_LOCAL_CLIENT, local_client, Hie__V1__LocalClient)
	KIND_CASE(PROTO_OUTSIDE_QUERY, outside_query, Hie__V1__OutsideQuery)
	KIND_CASE(PROTO_OUTSIDE_QUERY_RESPONSE, outside_query_response,
	          Hie__V1__OutsideQueryResponse)
	KIND_CASE(PROTO_OUTSIDE_RETRIEVE, outside_retrieve, Hie__V1__OutsideRetrieve)
	KIND_CASE(PROTO_DOCUMENT_PUBLISH, document_publish, Hie__V1__DocumentPublish)
	case PROTO_KIND_COUNT:
		break;
	}
#undef KIND_CASE
	fuzz_fail("no typed wrapper for this kind");
	return HX_EINTERNAL;
}

static void fuzz_pack(const void *msg, struct hx_buf *b)
{
	hx_buf_init(b, FUZZ_BUF_MAX);
	if (proto_pack(msg, b) != HX_OK)
		fuzz_fail("proto_pack failed");
	if (b->len != proto_packed_size(msg))
		fuzz_fail("proto_pack and proto_packed_size disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hx_buf b1, b2;
	void *m1 = NULL, *m2 = NULL;
	int rc = fuzz_unpack(data, size, &m1);

	if (rc == HX_EPARSE) {
		if (m1 != NULL)
			fuzz_fail("refusal wrote *out");
		return 0;
	}
	if (rc != HX_OK || m1 == NULL)
		fuzz_fail("unpack returned neither HX_OK nor HX_EPARSE");
	if (((const ProtobufCMessage *)m1)->descriptor != proto_kind_descriptor(FUZZ_KIND))
		fuzz_fail("message of another kind");
	if (proto_check(FUZZ_KIND, m1) != HX_OK)
		fuzz_fail("accepted message fails proto_check");

	fuzz_pack(m1, &b1);
	if (proto_unpack(FUZZ_KIND, b1.data, b1.len, &m2) != HX_OK)
		fuzz_fail("repacked message refused");
	fuzz_pack(m2, &b2);
	if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
		fuzz_fail("pack -> unpack -> pack changed the bytes");

	proto_free(m1);
	proto_free(m2);
	hx_buf_clear(&b1);
	hx_buf_clear(&b2);
	return 0;
}
