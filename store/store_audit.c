/* store_audit.c: the audit trail, an append-only chain of records linked by SHA-256.
 *
 * audit key:   sequence number (u64 big-endian), from 1
 * audit value: packed AuditEvent with seq and prev_hash set by the store
 * meta "audit_head": last sequence (u64 BE) + SHA-256 of the last record's stored bytes,
 *                    so that a removed or changed last record is detected too.
 */
#include "store_internal.h"

#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_LEN (8 + CRYPTO_SHA256_LEN)

static int head_get(struct store_txn *t, uint64_t *seq, uint8_t hash[CRYPTO_SHA256_LEN])
{
	MDB_val v;
	int rc = store_meta_get_raw(t, "audit_head", &v);
	if (rc == HX_ENOTFOUND) {
		*seq = 0;
		memset(hash, 0, CRYPTO_SHA256_LEN);
		return HX_OK;
	}
	if (rc != HX_OK)
		return rc;
	if (v.mv_size != HEAD_LEN)
		return HX_ECORRUPT;
	*seq = store_be64_get(v.mv_data);
	memcpy(hash, (const uint8_t *)v.mv_data + 8, CRYPTO_SHA256_LEN);
	return HX_OK;
}

int store_audit_append(struct store_txn *t, const Hie__V1__AuditEvent *ev, uint64_t *seq_out)
{
	Hie__V1__AuditEvent rec;
	uint8_t prev[CRYPTO_SHA256_LEN], key[8], head[HEAD_LEN], *buf;
	uint64_t seq;
	size_t len;
	MDB_val k, v;
	int rc;

	STORE_REQUIRE_WRITE(t);
	if ((rc = head_get(t, &seq, prev)) != HX_OK)
		return rc;
	rec = *ev;
	rec.seq = seq + 1;
	rec.prev_hash.data = prev;
	rec.prev_hash.len = sizeof(prev);
	if (proto_check(PROTO_AUDIT_EVENT, &rec) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_pack(&rec, &buf, &len)) != HX_OK)
		return rc;
	store_be64_put(key, rec.seq);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	v.mv_size = len;
	v.mv_data = buf;
	rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_AUDIT], &k, &v, MDB_NOOVERWRITE));
	if (rc == HX_OK) {
		store_be64_put(head, rec.seq);
		crypto_sha256(buf, len, head + 8);
		rc = store_meta_put_raw(t, "audit_head", head, sizeof(head));
	}
	free(buf);
	if (rc == HX_EEXIST)
		rc = HX_ECORRUPT; /* the head is behind the records */
	if (rc == HX_OK && seq_out != NULL)
		*seq_out = rec.seq;
	return rc;
}

int store_audit_get(struct store_txn *t, uint64_t seq, Hie__V1__AuditEvent **out)
{
	uint8_t key[8];
	MDB_val k = {sizeof(key), key}, v;
	void *m;
	int rc;

	store_be64_put(key, seq);
	if ((rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_AUDIT], &k, &v))) != HX_OK)
		return rc;
	if ((rc = store_unpack(PROTO_AUDIT_EVENT, &v, &m)) != HX_OK)
		return rc;
	*out = m;
	return HX_OK;
}

int store_audit_list(struct store_txn *t, uint64_t from, size_t limit, store_audit_cb cb,
                     void *arg)
{
	uint8_t key[8];
	MDB_val k = {sizeof(key), key}, v;
	MDB_cursor *c;
	size_t n = 0;
	int r, rc = HX_OK;

	if (limit == 0 || limit > STORE_LIST_MAX)
		limit = STORE_LIST_MAX;
	store_be64_put(key, from);
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); r == MDB_SUCCESS && n < limit;
	     r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		void *m;
		if ((rc = store_unpack(PROTO_AUDIT_EVENT, &v, &m)) != HX_OK)
			break;
		n++;
		int stop = cb(m, arg);
		proto_free(m);
		if (stop)
			break;
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	return rc;
}

#define BAD(seq_, ...) \
	do { \
		rep.bad_seq = (seq_); \
		snprintf(rep.problem, sizeof(rep.problem), __VA_ARGS__); \
		rc = HX_ECORRUPT; \
		goto done; \
	} while (0)

int store_audit_verify(struct store_txn *t, struct store_audit_report *out)
{
	struct store_audit_report rep = {0};
	uint8_t prev[CRYPTO_SHA256_LEN] = {0}, head_hash[CRYPTO_SHA256_LEN];
	uint64_t expect = 1, head_seq;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int r, rc;

	if ((rc = head_get(t, &head_seq, head_hash)) != HX_OK) {
		if (rc != HX_ECORRUPT)
			return rc;
		BAD(0, "the audit head in meta is malformed");
	}
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_AUDIT], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == MDB_SUCCESS;
	     r = mdb_cursor_get(c, &k, &v, MDB_NEXT), expect++) {
		Hie__V1__AuditEvent *ev;
		uint64_t kseq;
		void *m;

		if (k.mv_size != 8)
			BAD(expect, "record key of %zu bytes", k.mv_size);
		kseq = store_be64_get(k.mv_data);
		if (kseq != expect)
			BAD(expect, "record %llu is missing (next is %llu)", (unsigned long long)expect,
			    (unsigned long long)kseq);
		if (proto_unpack(PROTO_AUDIT_EVENT, v.mv_data, v.mv_size, &m) != HX_OK)
			BAD(kseq, "record %llu does not parse", (unsigned long long)kseq);
		ev = m;
		int seq_ok = ev->seq == kseq;
		int link_ok = ev->prev_hash.len == sizeof(prev) &&
		              memcmp(ev->prev_hash.data, prev, sizeof(prev)) == 0;
		proto_free(ev);
		if (!seq_ok)
			BAD(kseq, "record %llu carries another sequence number (moved?)",
			    (unsigned long long)kseq);
		if (!link_ok)
			BAD(kseq, "record %llu does not link to record %llu (changed, removed or "
			          "reordered)",
			    (unsigned long long)kseq, (unsigned long long)kseq - 1);
		crypto_sha256(v.mv_data, v.mv_size, prev);
		rep.records++;
	}
	if (r != MDB_NOTFOUND) {
		rc = store_err_from_mdb(r);
		goto done;
	}
	if (rep.records != head_seq)
		BAD(rep.records + 1 > head_seq ? head_seq + 1 : rep.records + 1,
		    "the chain has %llu records but the head says %llu (records removed or added)",
		    (unsigned long long)rep.records, (unsigned long long)head_seq);
	if (head_seq != 0 && memcmp(prev, head_hash, sizeof(prev)) != 0)
		BAD(head_seq, "record %llu does not match the audit head (changed)",
		    (unsigned long long)head_seq);
	rc = HX_OK;
done:
	if (c != NULL)
		mdb_cursor_close(c);
	if (out != NULL)
		*out = rep;
	return rc;
}
