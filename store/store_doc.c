/* store_doc.c: documents: entry (docs), bytes (content) and the per-patient index (pat_docs).
 *
 * pat_docs key:   patient id, 0x00, creation time (u64 big-endian), document id (16 bytes)
 * pat_docs value: status (u8), then class code, class system, type code, type system, each
 *                 a u8 length and bytes: enough to filter a listing without unpacking entries.
 */
#include "store_internal.h"

#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#define IDX_KEY_MAX (PROTO_PATIENT_ID_MAX + 1 + 8 + 16)
#define IDX_VAL_MAX (1 + 4 * 256)

static MDB_val str_val(const char *s)
{
	MDB_val v = {strlen(s), (void *)s};
	return v;
}

static size_t idx_key(uint8_t *out, const char *pid, int64_t ctime, const char *doc_id)
{
	size_t n = strlen(pid);
	memcpy(out, pid, n);
	out[n++] = 0;
	store_be64_put(out + n, (uint64_t)ctime);
	n += 8;
	if (doc_id != NULL) {
		hx_hex_decode(doc_id, out + n, 16);
		n += 16;
	}
	return n;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n > 255)
		n = 255;
	p[0] = (uint8_t)n;
	memcpy(p + 1, s, n);
	return n + 1;
}

static size_t idx_val(uint8_t *out, const Hie__V1__DocumentEntry *e)
{
	size_t n = 0;
	out[n++] = (uint8_t)e->status;
	n += put_str(out + n, e->class_code != NULL ? e->class_code->code : "");
	n += put_str(out + n, e->class_code != NULL ? e->class_code->system : "");
	n += put_str(out + n, e->type_code->code);
	n += put_str(out + n, e->type_code->system);
	return n;
}

static int get_entry(struct store_txn *t, const char *id, Hie__V1__DocumentEntry **out)
{
	MDB_val k = str_val(id), v;
	void *m;
	int rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_DOCS], &k, &v));
	if (rc != HX_OK)
		return rc;
	if ((rc = store_unpack(PROTO_DOCUMENT_ENTRY, &v, &m)) != HX_OK)
		return rc;
	*out = m;
	return HX_OK;
}

static int idx_delete(struct store_txn *t, const Hie__V1__DocumentEntry *e)
{
	uint8_t key[IDX_KEY_MAX];
	MDB_val k = {idx_key(key, e->patient_id, e->creation_time, e->id), key};
	int r = mdb_del(t->txn, t->s->dbi[DB_PAT_DOCS], &k, NULL);
	return r == MDB_NOTFOUND ? HX_ECORRUPT : store_err_from_mdb(r);
}

int store_doc_put(struct store_txn *t, const Hie__V1__DocumentEntry *e, const uint8_t *content,
                  size_t len)
{
	Hie__V1__DocumentEntry *old = NULL;
	uint8_t digest[CRYPTO_SHA256_LEN], key[IDX_KEY_MAX], val[IDX_VAL_MAX], *buf;
	size_t blen;
	MDB_val k, v;
	int rc;

	STORE_REQUIRE_WRITE(t);
	if ((rc = store_quota_check(t)) != HX_OK)
		return rc;
	if (proto_check(PROTO_DOCUMENT_ENTRY, e) != HX_OK || e->size != len ||
	    (len != 0 && content == NULL))
		return HX_EINVAL;
	crypto_sha256(content, len, digest);
	if (memcmp(digest, e->sha256.data, sizeof(digest)) != 0)
		return HX_EINVAL;
	k = str_val(e->patient_id);
	if ((rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_PATIENTS], &k, &v))) != HX_OK)
		return rc;

	rc = get_entry(t, e->id, &old);
	if (rc == HX_OK) {
		rc = idx_delete(t, old);
		proto_free(old);
		if (rc != HX_OK)
			return rc;
	} else if (rc != HX_ENOTFOUND) {
		return rc;
	}

	if ((rc = store_pack(e, &buf, &blen)) != HX_OK)
		return rc;
	k = str_val(e->id);
	v.mv_size = blen;
	v.mv_data = buf;
	rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_DOCS], &k, &v, 0));
	free(buf);
	if (rc != HX_OK)
		return rc;
	v.mv_size = len;
	v.mv_data = (void *)content;
	if ((rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_CONTENT], &k, &v, 0))) != HX_OK)
		return rc;
	k.mv_size = idx_key(key, e->patient_id, e->creation_time, e->id);
	k.mv_data = key;
	v.mv_size = idx_val(val, e);
	v.mv_data = val;
	return store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_PAT_DOCS], &k, &v, 0));
}

int store_doc_get(struct store_txn *t, const char *id, Hie__V1__DocumentEntry **out)
{
	if (proto_id_doc_check(id) != HX_OK)
		return HX_EINVAL;
	return get_entry(t, id, out);
}

int store_doc_entry_raw(struct store_txn *t, const char *id, const uint8_t **data, size_t *len)
{
	MDB_val k = str_val(id), v;
	int rc;
	if (proto_id_doc_check(id) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_DOCS], &k, &v))) != HX_OK)
		return rc;
	*data = v.mv_data;
	*len = v.mv_size;
	return HX_OK;
}

int store_doc_content(struct store_txn *t, const char *id, const uint8_t **data, size_t *len)
{
	MDB_val k = str_val(id), v;
	int rc;
	if (proto_id_doc_check(id) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_CONTENT], &k, &v))) != HX_OK)
		return rc;
	*data = v.mv_data;
	*len = v.mv_size;
	return HX_OK;
}

int store_doc_delete(struct store_txn *t, const char *id)
{
	Hie__V1__DocumentEntry *e;
	MDB_val k = str_val(id);
	int rc;

	STORE_REQUIRE_WRITE(t);
	if (proto_id_doc_check(id) != HX_OK)
		return HX_EINVAL;
	if ((rc = get_entry(t, id, &e)) != HX_OK)
		return rc;
	rc = idx_delete(t, e);
	proto_free(e);
	if (rc != HX_OK)
		return rc;
	if ((rc = store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_DOCS], &k, NULL))) != HX_OK)
		return rc;
	rc = store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_CONTENT], &k, NULL));
	return rc == HX_ENOTFOUND ? HX_ECORRUPT : rc;
}

/* Read one length-prefixed string of an index value. */
static int get_str(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
	if (*p >= end || (size_t)(end - *p) < 1u + **p)
		return HX_ECORRUPT;
	*n = **p;
	*s = *p + 1;
	*p += 1 + *n;
	return HX_OK;
}

static int str_eq(const uint8_t *s, size_t n, const char *c)
{
	return strlen(c) == n && memcmp(s, c, n) == 0;
}

static int code_match(Hie__V1__Code *const *codes, size_t ncodes, const uint8_t *code,
                      size_t code_len, const uint8_t *sys, size_t sys_len)
{
	if (ncodes == 0)
		return 1;
	for (size_t i = 0; i < ncodes; i++)
		if (str_eq(code, code_len, codes[i]->code) &&
		    (codes[i]->system[0] == '\0' || str_eq(sys, sys_len, codes[i]->system)))
			return 1;
	return 0;
}

/* Does an index value pass the filter? 1 yes, 0 no, HX_ECORRUPT. */
static int idx_match(const MDB_val *v, const struct store_doc_filter *f)
{
	const uint8_t *p = v->mv_data, *end = p + v->mv_size, *cc, *cs, *tc, *ts;
	size_t ccn, csn, tcn, tsn;
	unsigned mask = f->status_mask != 0 ? f->status_mask
	                                    : 1u << HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	unsigned status;

	if (v->mv_size < 1)
		return HX_ECORRUPT;
	status = *p++;
	if (get_str(&p, end, &cc, &ccn) || get_str(&p, end, &cs, &csn) ||
	    get_str(&p, end, &tc, &tcn) || get_str(&p, end, &ts, &tsn))
		return HX_ECORRUPT;
	if (status >= 32 || !(mask & (1u << status)))
		return 0;
	return code_match(f->type_codes, f->n_type_codes, tc, tcn, ts, tsn) &&
	       code_match(f->class_codes, f->n_class_codes, cc, ccn, cs, csn);
}

int store_doc_list(struct store_txn *t, const char *patient_id, const struct store_doc_filter *f,
                   store_doc_cb cb, void *arg, int *truncated)
{
	static const struct store_doc_filter all;
	uint8_t start[IDX_KEY_MAX];
	size_t plen, limit, n = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int r, rc = HX_OK;

	if (proto_id_patient_check(patient_id) != HX_OK)
		return HX_EINVAL;
	if (f == NULL)
		f = &all;
	limit = f->limit == 0 || f->limit > STORE_LIST_MAX ? STORE_LIST_MAX : f->limit;
	if (truncated != NULL)
		*truncated = 0;
	plen = strlen(patient_id) + 1;
	/* Newest first: position just past the upper bound, then walk backwards. */
	k.mv_size = idx_key(start, patient_id, f->created_to > 0 ? f->created_to : INT64_MAX, NULL);
	k.mv_data = start;
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_PAT_DOCS], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	r = mdb_cursor_get(c, &k, &v, r == MDB_SUCCESS ? MDB_PREV : MDB_LAST);
	for (; r == MDB_SUCCESS; r = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		const uint8_t *kp = k.mv_data;
		char doc_id[PROTO_DOC_ID_LEN + 1];
		int64_t ctime;
		int m;

		if (k.mv_size != plen + 8 + 16 || memcmp(kp, patient_id, plen) != 0)
			break; /* another patient */
		ctime = (int64_t)store_be64_get(kp + plen);
		if (ctime < f->created_from)
			break;
		if ((m = idx_match(&v, f)) < 0) {
			rc = m;
			break;
		}
		if (!m)
			continue;
		if (n == limit) {
			if (truncated != NULL)
				*truncated = 1;
			break;
		}
		hx_hex_encode(kp + plen + 8, 16, doc_id);
		n++;
		if (cb(doc_id, ctime, arg))
			break;
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	return rc;
}

int store_doc_count(struct store_txn *t, const char *patient_id, size_t *out)
{
	uint8_t start[IDX_KEY_MAX];
	size_t plen = strlen(patient_id) + 1, n = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int r;

	k.mv_size = idx_key(start, patient_id, 0, NULL);
	k.mv_data = start;
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_PAT_DOCS], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); r == MDB_SUCCESS;
	     r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, patient_id, plen) != 0)
			break;
		n++;
	}
	mdb_cursor_close(c);
	if (r != MDB_SUCCESS && r != MDB_NOTFOUND)
		return store_err_from_mdb(r);
	*out = n;
	return HX_OK;
}
