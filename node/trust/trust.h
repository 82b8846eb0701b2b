/*
 * node/trust/trust.h: what the running daemon trusts now: the TLS server context and the
 * table of enrolled peers (fingerprint → organisation, status, roles), rebuilt together
 * whenever the store's trust generation moves. Readers never see a half-built state: a new
 * pair is built aside and swapped in; connections keep the context they were accepted with.
 */
#ifndef HX_TRUST_H
#define HX_TRUST_H

#include <stdint.h>

#include "crypto.h"
#include "store.h"

struct trust;

struct trust_files {
	const char *cert_file, *key_file, *ca_file, *crl_file;
};

/* What a caller is, as enrolled: a peer organisation, or one of our own systems registered
 * as a local client (store `clients`; served only on the local listener). */
struct trust_peer {
	char org_id[PROTO_ORG_ID_MAX + 1]; /* a peer's OID; for a local client "local:NAME" (logs,
	                                      per-caller connection accounting) */
	int status;      /* Hie__V1__PeerStatus */
	unsigned roles;  /* 1 << Hie__V1__PeerRole */
	int local;       /* a local client */
	unsigned rights; /* a local client's: 1 << Hie__V1__ClientRight */
	char name[49];   /* a local client's name */
};

/* Build the first state from the store. HX_ETLS etc. with err set. */
int trust_new(struct store *store, const struct trust_files *files, struct trust **out, char *err,
              size_t errlen);
void trust_free(struct trust *t);
/* Check the store's trust generation and the TLS files (certificate, key, CA bundle, CRL);
 * rebuild if any moved. Cheap when nothing changed. A failed rebuild (a CRL past nextUpdate,
 * unparsable or signed by another CA, a key that does not fit its certificate...) keeps the
 * previous state serving, is logged once and shows in trust_status_get(). Returns 1 if
 * rebuilt. */
int trust_refresh(struct trust *t);
/* The current TLS server (a reference: free it with crypto_tls_server_free). */
struct crypto_tls_server *trust_server_get(struct trust *t);
/* Our identity for calls to peers, built from the same certificate, key and CA files as the
 * server and replaced with it when they change (hiepeerctl cert install): a reference the
 * caller releases with crypto_tls_client_free(). */
struct crypto_tls_client *trust_client_get(struct trust *t);
/* The enrolled, active peer (or active local client) holding this certificate fingerprint
 * (a peer's current or staged next). HX_OK and *out filled; HX_EDENIED if not enrolled or not
 * active. */
int trust_peer_lookup(struct trust *t, const uint8_t fp[CRYPTO_SHA256_LEN], struct trust_peer *out);
uint64_t trust_generation(struct trust *t);
/* Whether each of n organisations is an enrolled, active peer (not a local client):
 * active[i] = 1 or 0, under one lock; hashes[i] = hx_hash_str(org_ids[i]). The RLS names
 * only those in a locate's answer. */
void trust_orgs_active(struct trust *t, const char *const *org_ids, const uint32_t *hashes,
                       size_t n, unsigned char *active);

/* What the daemon trusts now, for the state file and `hiepeerctl status`. */
struct trust_status {
	uint64_t generation;      /* the store's trust generation now served */
	int64_t crl_next_update;  /* Unix ms; 0 without a CRL */
	int64_t cert_not_after;   /* our certificate's expiry, Unix ms */
	size_t enrolled;          /* enrolled certificate fingerprints (current + staged) */
	char problem[256];        /* why the last change was not taken ("" when none) */
	int64_t problem_since;    /* Unix ms */
	uint64_t changes;         /* rebuilds since start: the state file is rewritten on change */
};
void trust_status_get(struct trust *t, struct trust_status *out);

#endif
