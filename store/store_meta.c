/* store_meta.c: the meta sub-database: marker, schema version, org id, trust generation. */
#include "store_internal.h"

#include <string.h>

/* Names the store itself manages; store_meta_put() refuses them. */
static const char *const reserved[] = {"magic", "schema", "org_id", "created", "trust_gen",
                                       "audit_head", "map_size"};

int store_meta_get_raw(struct store_txn *t, const char *name, MDB_val *v)
{
	MDB_val k = {strlen(name), (void *)name};
	return store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_META], &k, v));
}

int store_meta_put_raw(struct store_txn *t, const char *name, const void *val, size_t len)
{
	MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)val};
	return store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0));
}

int store_meta_init(struct store_txn *t, const char *org_id)
{
	uint8_t schema[4] = {0, 0, 0, STORE_SCHEMA_VERSION}, be[8];
	int rc;

	if ((rc = store_meta_put_raw(t, "magic", "hiepeer", 7)) != HX_OK ||
	    (rc = store_meta_put_raw(t, "schema", schema, sizeof(schema))) != HX_OK ||
	    (rc = store_meta_put_raw(t, "org_id", org_id, strlen(org_id))) != HX_OK)
		return rc;
	store_be64_put(be, (uint64_t)hx_time_now_ms());
	if ((rc = store_meta_put_raw(t, "created", be, sizeof(be))) != HX_OK)
		return rc;
	store_be64_put(be, 1);
	return store_meta_put_raw(t, "trust_gen", be, sizeof(be));
}

int store_trust_gen_get(struct store_txn *t, uint64_t *out)
{
	MDB_val v;
	int rc = store_meta_get_raw(t, "trust_gen", &v);
	if (rc == HX_ENOTFOUND)
		return HX_ECORRUPT;
	if (rc != HX_OK)
		return rc;
	if (v.mv_size != 8)
		return HX_ECORRUPT;
	*out = store_be64_get(v.mv_data);
	return HX_OK;
}

int store_trust_gen_bump(struct store_txn *t, uint64_t *out_new)
{
	uint64_t gen;
	uint8_t be[8];
	int rc;

	STORE_REQUIRE_WRITE(t);
	if ((rc = store_trust_gen_get(t, &gen)) != HX_OK)
		return rc;
	store_be64_put(be, gen + 1);
	if ((rc = store_meta_put_raw(t, "trust_gen", be, sizeof(be))) != HX_OK)
		return rc;
	if (out_new != NULL)
		*out_new = gen + 1;
	return HX_OK;
}

static int name_check(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 32)
		return HX_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_' || name[i] == '.'))
			return HX_EINVAL;
	return HX_OK;
}

int store_meta_get(struct store_txn *t, const char *name, const void **val, size_t *len)
{
	MDB_val v;
	int rc;
	if ((rc = name_check(name)) != HX_OK)
		return rc;
	if ((rc = store_meta_get_raw(t, name, &v)) != HX_OK)
		return rc;
	*val = v.mv_data;
	*len = v.mv_size;
	return HX_OK;
}

int store_meta_put(struct store_txn *t, const char *name, const void *val, size_t len)
{
	int rc;
	STORE_REQUIRE_WRITE(t);
	if ((rc = name_check(name)) != HX_OK)
		return rc;
	for (size_t i = 0; i < HX_ARRAY_SIZE(reserved); i++)
		if (strcmp(name, reserved[i]) == 0)
			return HX_EDENIED;
	if (len > 4096)
		return HX_ELIMIT;
	return store_meta_put_raw(t, name, val, len);
}
