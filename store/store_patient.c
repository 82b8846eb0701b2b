/* store_patient.c: patients and their blocking keys (candidate search for matching). */
#include "store_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static MDB_val id_key(const char *id)
{
	MDB_val k = {strlen(id), (void *)id};
	return k;
}

static int get_stored(struct store_txn *t, const char *id, Hie__V1__StoredPatient **out)
{
	MDB_val k = id_key(id), v;
	void *m;
	int rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_PATIENTS], &k, &v));
	if (rc != HX_OK)
		return rc;
	if ((rc = store_unpack(PROTO_STORED_PATIENT, &v, &m)) != HX_OK)
		return rc;
	*out = m;
	return HX_OK;
}

/* Remove the (key → id) pairs a stored patient wrote. */
static int keys_delete(struct store_txn *t, const char *id, const ProtobufCBinaryData *keys,
                       size_t n)
{
	MDB_val v = id_key(id);
	for (size_t i = 0; i < n; i++) {
		MDB_val k = {keys[i].len, keys[i].data};
		int r = mdb_del(t->txn, t->s->dbi[DB_BLOCKS], &k, &v);
		if (r != MDB_SUCCESS && r != MDB_NOTFOUND)
			return store_err_from_mdb(r);
	}
	return HX_OK;
}

int store_patient_put(struct store_txn *t, const Hie__V1__Patient *p,
                      const struct store_key *keys, size_t nkeys)
{
	return store_patient_put_rec(t, p, keys, nkeys, NULL, 0);
}

int store_patient_put_rec(struct store_txn *t, const Hie__V1__Patient *p,
                          const struct store_key *keys, size_t nkeys, const void *rec,
                          size_t rec_len)
{
	Hie__V1__StoredPatient sp = HIE__V1__STORED_PATIENT__INIT, *old = NULL;
	ProtobufCBinaryData bk[64];
	uint8_t *buf = NULL;
	size_t len;
	MDB_val k, v;
	int rc;

	STORE_REQUIRE_WRITE(t);
	if ((rc = store_quota_check(t)) != HX_OK)
		return rc;
	if (nkeys > HX_ARRAY_SIZE(bk) || proto_check(PROTO_PATIENT, p) != HX_OK ||
	    rec_len > STORE_MATCH_RECORD_MAX || (rec == NULL && rec_len != 0))
		return HX_EINVAL;
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].len == 0 || keys[i].len > STORE_BLOCK_KEY_MAX)
			return HX_EINVAL;
		bk[i].data = (uint8_t *)keys[i].data;
		bk[i].len = keys[i].len;
	}
	rc = get_stored(t, p->id, &old);
	if (rc == HX_OK) {
		rc = keys_delete(t, p->id, old->blocking_keys, old->n_blocking_keys);
		proto_free(old);
		if (rc != HX_OK)
			return rc;
	} else if (rc != HX_ENOTFOUND) {
		return rc;
	}
	sp.patient = (Hie__V1__Patient *)p;
	sp.n_blocking_keys = nkeys;
	sp.blocking_keys = bk;
	sp.match_record.data = (uint8_t *)rec;
	sp.match_record.len = rec_len;
	if ((rc = store_pack(&sp, &buf, &len)) != HX_OK)
		return rc;
	k = id_key(p->id);
	v.mv_size = len;
	v.mv_data = buf;
	rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_PATIENTS], &k, &v, 0));
	free(buf);
	if (rc != HX_OK)
		return rc;
	v = id_key(p->id);
	for (size_t i = 0; i < nkeys; i++) {
		MDB_val bkey = {keys[i].len, (void *)keys[i].data};
		int r = mdb_put(t->txn, t->s->dbi[DB_BLOCKS], &bkey, &v, MDB_NODUPDATA);
		if (r != MDB_SUCCESS && r != MDB_KEYEXIST) /* a key listed twice is fine */
			return store_err_from_mdb(r);
	}
	return store_outbox_change(t, p->id); /* the record locator must hear of it */
}

int store_patient_get(struct store_txn *t, const char *id, Hie__V1__Patient **out)
{
	Hie__V1__StoredPatient *sp;
	int rc;

	if (proto_id_patient_check(id) != HX_OK)
		return HX_EINVAL;
	if ((rc = get_stored(t, id, &sp)) != HX_OK)
		return rc;
	/* Hand out the inner patient: detach it so the envelope can be freed alone. */
	*out = sp->patient;
	sp->patient = NULL;
	proto_free(sp);
	return HX_OK;
}

/* A bump allocator over one thread's buffer, for reading many patients in a row (candidate
 * search): nothing to free one by one, nothing handed to malloc while the buffer lasts. */
#define ARENA_SIZE (64u * 1024)
struct arena {
	size_t used;
	_Alignas(max_align_t) unsigned char buf[ARENA_SIZE];
};

static void *arena_alloc(void *data, size_t size)
{
	struct arena *a = data;
	size_t at = (a->used + _Alignof(max_align_t) - 1) & ~(size_t)(_Alignof(max_align_t) - 1);
	if (size > ARENA_SIZE || at > ARENA_SIZE - size)
		return NULL; /* protobuf-c then fails the unpack: HX_EPARSE */
	a->used = at + size;
	return a->buf + at;
}

static void arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

/* The demographics of a stored patient's bytes, decoded into the thread's arena, to fn. */
static int demographics_of(const MDB_val *v, store_demographics_fn fn, void *arg)
{
	static _Thread_local struct arena arena;
	ProtobufCAllocator alloc = {arena_alloc, arena_free, &arena};
	Hie__V1__StoredPatient *sp;
	arena.used = 0;
	sp = hie__v1__stored_patient__unpack(&alloc, v->mv_size, v->mv_data);
	if (sp == NULL || sp->patient == NULL || sp->patient->demographics == NULL)
		return HX_EPARSE;
	return fn(sp->patient->id, sp->patient->demographics, arg);
}

int store_patient_demographics_visit(struct store_txn *t, const char *id,
                                     store_demographics_fn fn, void *arg)
{
	MDB_val k = id_key(id), v;
	int rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_PATIENTS], &k, &v));
	if (rc != HX_OK)
		return rc;
	return demographics_of(&v, fn, arg);
}

int store_patient_delete(struct store_txn *t, const char *id)
{
	Hie__V1__StoredPatient *sp;
	size_t ndocs;
	MDB_val k = id_key(id);
	int rc;

	STORE_REQUIRE_WRITE(t);
	if (proto_id_patient_check(id) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_doc_count(t, id, &ndocs)) != HX_OK)
		return rc;
	if (ndocs > 0)
		return HX_EEXIST;
	if ((rc = get_stored(t, id, &sp)) != HX_OK)
		return rc;
	rc = keys_delete(t, id, sp->blocking_keys, sp->n_blocking_keys);
	proto_free(sp);
	if (rc != HX_OK)
		return rc;
	if ((rc = store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_PATIENTS], &k, NULL))) != HX_OK)
		return rc;
	return store_outbox_change(t, id);
}

int store_patient_list(struct store_txn *t, const char *after, size_t limit,
                       store_patient_cb cb, void *arg, int *more)
{
	MDB_cursor *c;
	MDB_val k, v;
	size_t n = 0;
	int r, rc = HX_OK;

	if (limit == 0 || limit > STORE_LIST_MAX)
		limit = STORE_LIST_MAX;
	if (more != NULL)
		*more = 0;
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_PATIENTS], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	if (after != NULL) {
		k = id_key(after);
		r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (r == MDB_SUCCESS && k.mv_size == strlen(after) &&
		    memcmp(k.mv_data, after, k.mv_size) == 0)
			r = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	} else {
		r = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	}
	for (; r == MDB_SUCCESS; r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		Hie__V1__StoredPatient *sp;
		if (n == limit) {
			if (more != NULL)
				*more = 1;
			break;
		}
		if ((rc = store_unpack(PROTO_STORED_PATIENT, &v, (void **)&sp)) != HX_OK)
			break;
		n++;
		int stop = cb(sp->patient, arg);
		proto_free(sp);
		if (stop)
			break;
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	return rc;
}

int store_block_lookup(struct store_txn *t, const uint8_t *key, size_t keylen, size_t max,
                       store_id_cb cb, void *arg, int *truncated)
{
	MDB_cursor *c;
	MDB_val k = {keylen, (void *)key}, v;
	char id[PROTO_PATIENT_ID_MAX + 1];
	size_t n = 0;
	int r;

	if (keylen == 0 || keylen > STORE_BLOCK_KEY_MAX)
		return HX_EINVAL;
	if (max == 0 || max > STORE_CANDIDATES_MAX)
		max = STORE_CANDIDATES_MAX;
	if (truncated != NULL)
		*truncated = 0;
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_BLOCKS], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (r = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); r == MDB_SUCCESS;
	     r = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		if (n == max) {
			if (truncated != NULL)
				*truncated = 1;
			break;
		}
		if (v.mv_size == 0 || v.mv_size > PROTO_PATIENT_ID_MAX) {
			mdb_cursor_close(c);
			return HX_ECORRUPT;
		}
		memcpy(id, v.mv_data, v.mv_size);
		id[v.mv_size] = '\0';
		n++;
		if (cb(id, arg))
			break;
	}
	mdb_cursor_close(c);
	return r == MDB_SUCCESS || r == MDB_NOTFOUND ? HX_OK : store_err_from_mdb(r);
}

int store_patient_match_visit(struct store_txn *t, const char *id,
                              store_match_record_fn rec_fn, store_demographics_fn demo_fn,
                              void *arg)
{
	MDB_val k = id_key(id), v;
	const uint8_t *rec;
	size_t rec_len;
	int rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_PATIENTS], &k, &v));
	if (rc != HX_OK)
		return rc;
	switch (proto_wire_find_bytes(v.mv_data, v.mv_size, 3 /* StoredPatient.match_record */, &rec,
	                              &rec_len)) {
	case -1:
		return HX_EPARSE;
	case 1:
		if (rec_len > 0 && (rc = rec_fn(id, rec, rec_len, arg)) != HX_EVERSION)
			return rc;
		break;
	default:
		break;
	}
	return demographics_of(&v, demo_fn, arg);
}
