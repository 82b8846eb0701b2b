/* store_xref.c: the correlation cache (docs/store.md): which patients an organisation
 * matched, certain or probable, for the demographics a query carried, until an expiry.
 * Key: 'q' SHA-256(query fingerprint) org id; value: expiry (u64 BE, Unix ms), then the
 * remote patient ids, each NUL-terminated. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#define XREF_KEY_MAX (1 + 32 + PROTO_ORG_ID_MAX)

static size_t xref_key(uint8_t *key, const uint8_t query[32], const char *org)
{
	size_t n = strlen(org);
	key[0] = 'q';
	memcpy(key + 1, query, 32);
	memcpy(key + 33, org, n);
	return 33 + n;
}

int store_xref_put(struct store_txn *t, const uint8_t query[32], const char *org,
                   int64_t expires_ms, const char *const *ids, size_t n)
{
	uint8_t key[XREF_KEY_MAX], *val;
	size_t len = 8, o;
	MDB_val k, v;
	int rc;
	STORE_REQUIRE_WRITE(t);
	if (proto_id_org_check(org) != HX_OK || n == 0 || n > STORE_XREF_IDS_MAX)
		return HX_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (proto_id_patient_check(ids[i]) != HX_OK)
			return HX_EINVAL;
		len += strlen(ids[i]) + 1;
	}
	if ((val = malloc(len)) == NULL)
		return HX_ENOMEM;
	store_be64_put(val, (uint64_t)expires_ms);
	o = 8;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(ids[i]) + 1;
		memcpy(val + o, ids[i], l);
		o += l;
	}
	k.mv_size = xref_key(key, query, org);
	k.mv_data = key;
	v.mv_size = len;
	v.mv_data = val;
	rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_XREF], &k, &v, 0));
	free(val);
	return rc;
}

int store_xref_get(struct store_txn *t, const uint8_t query[32], const char *org, int64_t now_ms,
                   char ids[][PROTO_PATIENT_ID_MAX + 1], size_t max, size_t *n)
{
	uint8_t key[XREF_KEY_MAX];
	MDB_val k, v;
	const char *p, *end;
	int r;
	*n = 0;
	if (proto_id_org_check(org) != HX_OK)
		return HX_EINVAL;
	k.mv_size = xref_key(key, query, org);
	k.mv_data = key;
	r = mdb_get(t->txn, t->s->dbi[DB_XREF], &k, &v);
	if (r != MDB_SUCCESS)
		return store_err_from_mdb(r);
	if (v.mv_size < 9)
		return HX_ECORRUPT;
	if ((int64_t)store_be64_get(v.mv_data) <= now_ms)
		return HX_ENOTFOUND; /* expired: as good as absent */
	p = (const char *)v.mv_data + 8;
	end = (const char *)v.mv_data + v.mv_size;
	while (p < end && *n < max) {
		size_t l = strnlen(p, (size_t)(end - p));
		if (l == (size_t)(end - p) || l > PROTO_PATIENT_ID_MAX)
			return HX_ECORRUPT;
		memcpy(ids[*n], p, l + 1);
		(*n)++;
		p += l + 1;
	}
	return *n > 0 ? HX_OK : HX_ECORRUPT;
}
