/* node/rls/tally.h: a locate's count of the organisations holding its tokens (RLS role).
 *
 * The store walks each token's holders (store_locator_lookup_each, with rls_tally_add as the
 * callback); the tally counts each organisation's hits, leaving out the caller's own. Then
 * rls_tally_keep drops those the caller may not be told about and rls_hits_sort puts the
 * answer in order: most hits first, then by organisation id. The common case (a handful of
 * organisations) allocates nothing. */
#ifndef HX_RLS_TALLY_H
#define HX_RLS_TALLY_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

#define RLS_TALLY_INLINE 32

struct rls_org {
	char id[PROTO_ORG_ID_MAX + 1];
	uint32_t hits;
	uint32_t hash; /* hx_hash_str(id) */
};

struct rls_tally {
	const char *self; /* the caller's organisation: not counted */
	size_t self_len;
	uint32_t self_hash;
	struct rls_org *slots; /* an open-addressing table of cap slots (empty id: free) */
	size_t cap, n;
	int failed; /* out of memory: the count is incomplete */
	int corrupt; /* an id longer than any organisation id: the count is incomplete */
	struct rls_org inline_slots[RLS_TALLY_INLINE];
};

void rls_tally_init(struct rls_tally *t, const char *self);
/* A store_org_cb: one hit for org_id (len bytes). Nonzero (stop) when out of memory (with
 * t->failed set) or for an id longer than PROTO_ORG_ID_MAX (t->corrupt). An organisation is counted once per call, so a token must list it once
 * (the locator holds each pair once). */
int rls_tally_add(const char *org_id, size_t len, void *tally);
/* Keep the organisations keep() says yes to, asked in runs of at most 64 (ids[i] and
 * hashes[i] in, yes[i] = 1 or 0 out); afterwards t->slots[0..returned) hold them, in no
 * particular order, and the tally only serves to read them. keep may be NULL: all kept. */
typedef void (*rls_tally_keep_fn)(void *arg, const char *const *ids, const uint32_t *hashes,
                                  size_t n, unsigned char *yes);
size_t rls_tally_keep(struct rls_tally *t, rls_tally_keep_fn keep, void *arg);
void rls_tally_release(struct rls_tally *t);

/* A locate's whole count into t (initialised by the caller): each token's holders through one
 * cursor, at most per_token counted for a token, then those keep() says yes to kept (as
 * rls_tally_keep: t->slots[0..*kept)). The caller and the organisations keep() refuses are
 * never answered, so they do not count toward per_token either: a first pass counts every
 * holder (no filter per hit, the common case); only when some token has more holders than
 * per_token is the count made again, token by token, the caller left out and keep() asked
 * about runs of 64 holders as they are read, each token's walk bounded at
 * STORE_LOCATOR_LOOKUP_MAX holders. *truncated is 1 when a token had more than were counted;
 * *left_out 1 when keep() refused some holder. HX_OK, HX_ENOMEM, HX_ECORRUPT, or the store's
 * error. */
struct store_txn;
int rls_locate_count(struct rls_tally *t, struct store_txn *txn, const uint8_t *const *tokens,
                     size_t n, size_t per_token, rls_tally_keep_fn keep, void *arg,
                     size_t *kept, int *truncated, int *left_out);

/* Most hits first, ties by organisation id (byte order). */
void rls_hits_sort(Hie__V1__LocateHit **h, size_t n);

#endif
