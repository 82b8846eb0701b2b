/* peer_verify.c: what a consumer checks before handing on a document retrieved from a peer. */
#include "peer.h"

#include <stdio.h>
#include <string.h>

int peer_document_verify(struct store *s, const Hie__V1__Document *d, int allow_unsigned,
                         char *msg, size_t msglen)
{
	const Hie__V1__DocumentEntry *e = d->entry;
	uint8_t digest[CRYPTO_SHA256_LEN];
	Hie__V1__Peer *origin = NULL;
	struct store_txn *t;
	int rc, ok = 0;

	crypto_sha256(d->content.data, d->content.len, digest);
	if (e->sha256.len != CRYPTO_SHA256_LEN || memcmp(digest, e->sha256.data, sizeof(digest)) ||
	    (e->size != 0 && e->size != d->content.len)) {
		snprintf(msg, msglen, "%s does not match its SHA-256 or size", e->id);
		return HX_ECORRUPT;
	}
	if (e->origin_signature.len == 0) {
		if (!allow_unsigned) {
			snprintf(msg, msglen, "%s is not signed by its origin (%s)", e->id, e->origin_org);
			return HX_EDENIED;
		}
		snprintf(msg, msglen, "signature: none (unsigned documents allowed)");
		return HX_OK;
	}
	if ((rc = store_read_begin(s, &t)) == HX_OK) {
		rc = store_peer_get(t, e->origin_org, &origin);
		store_read_end(t);
	}
	if (rc != HX_OK) {
		snprintf(msg, msglen, "the origin %s of %s is not enrolled: its signature cannot be "
		         "checked", e->origin_org, e->id);
		return HX_EDENIED;
	}
	if (origin->certificate.len == 0 && origin->next_certificate.len == 0) {
		snprintf(msg, msglen, "%s was enrolled without its certificate (enrol it again): the "
		         "signature of %s cannot be checked", e->origin_org, e->id);
		proto_free(origin);
		return HX_EDENIED;
	}
	for (int k = 0; k < 2 && !ok; k++) {
		const ProtobufCBinaryData *cert = k == 0 ? &origin->certificate
		                                         : &origin->next_certificate;
		if (cert->len > 0)
			ok = crypto_doc_verify(cert->data, cert->len, e->origin_org, e->id,
			                       e->sha256.data, e->size, e->origin_signature.data,
			                       e->origin_signature.len) == HX_OK;
	}
	if (!ok) {
		snprintf(msg, msglen, "the origin signature of %s does not verify with %s's "
		         "certificate", e->id, e->origin_org);
		proto_free(origin);
		return HX_EDENIED;
	}
	snprintf(msg, msglen, "signature verified: origin %s (%s)", e->origin_org, origin->name);
	proto_free(origin);
	return HX_OK;
}
