/*
 * node/identity/identity.h: patient identity: blocking keys (this file), and later
 * normalisation, comparators and probabilistic matching.
 */
#ifndef HX_IDENTITY_H
#define HX_IDENTITY_H

#include "proto.h"
#include "store.h"

#define IDENTITY_KEYS_MAX 16

/* Blocking keys for a patient's demographics: the keys under which candidate search finds
 * it. Each key is at most STORE_BLOCK_KEY_MAX bytes; `buf` holds their bytes and `keys`
 * points into it. Returns the number of keys (0 when there is nothing to block on). */
struct identity_keys {
	struct store_key keys[IDENTITY_KEYS_MAX];
	size_t n;
	uint8_t buf[IDENTITY_KEYS_MAX * STORE_BLOCK_KEY_MAX];
	size_t used;
};
size_t identity_keys_build(const Hie__V1__Demographics *d, struct identity_keys *out);

#endif
