/* store_locator.c: the record locator (RLS role): blinded patient token → organisations that
 * published it. `locator` is a dupsort sub-database: key = the 32-byte token, one value per
 * organisation holding it (its OID, without NUL), kept in byte order by LMDB. */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int org_val(const char *org_id, MDB_val *v)
{
	if (org_id == NULL || proto_id_org_check(org_id) != HX_OK)
		return HX_EINVAL;
	v->mv_size = strlen(org_id);
	v->mv_data = (void *)org_id;
	return HX_OK;
}

int store_locator_add(struct store_txn *t, const uint8_t token[STORE_TOKEN_LEN],
                      const char *org_id)
{
	MDB_val k = {STORE_TOKEN_LEN, (void *)token}, v;
	int r, rc;

	STORE_REQUIRE_WRITE(t);
	if (token == NULL || (rc = org_val(org_id, &v)) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_quota_check(t)) != HX_OK)
		return rc;
	r = mdb_put(t->txn, t->s->dbi[DB_LOCATOR], &k, &v, MDB_NODUPDATA);
	return r == MDB_KEYEXIST ? HX_OK : store_err_from_mdb(r); /* already there: nothing to do */
}

int store_locator_remove(struct store_txn *t, const uint8_t token[STORE_TOKEN_LEN],
                         const char *org_id)
{
	MDB_val k = {STORE_TOKEN_LEN, (void *)token}, v;
	int r, rc;

	STORE_REQUIRE_WRITE(t);
	if (token == NULL || (rc = org_val(org_id, &v)) != HX_OK)
		return HX_EINVAL;
	/* With a data value, mdb_del removes only that pair: other organisations keep theirs. */
	r = mdb_del(t->txn, t->s->dbi[DB_LOCATOR], &k, &v);
	return r == MDB_NOTFOUND ? HX_OK : store_err_from_mdb(r);
}

int store_locator_lookup_each(struct store_txn *t, const uint8_t *const *tokens, size_t n,
                              size_t max, store_org_cb cb, void *arg, int *truncated)
{
	MDB_cursor *c;
	char org[PROTO_ORG_ID_MAX + 1];
	int more = 0, stop = 0, r = MDB_NOTFOUND, rc = HX_OK;

	if ((tokens == NULL && n > 0) || cb == NULL)
		return HX_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (tokens[i] == NULL)
			return HX_EINVAL;
	if (max == 0 || max > STORE_LOCATOR_LOOKUP_MAX)
		max = STORE_LOCATOR_LOOKUP_MAX;
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_LOCATOR], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (size_t i = 0; i < n && rc == HX_OK && !stop; i++) {
		MDB_val k = {STORE_TOKEN_LEN, (void *)tokens[i]}, v;
		size_t got = 0;
		for (r = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); r == MDB_SUCCESS;
		     r = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
			if (got == max) {
				more = 1;
				break;
			}
			if (v.mv_size == 0 || v.mv_size > PROTO_ORG_ID_MAX) {
				rc = HX_ECORRUPT;
				break;
			}
			memcpy(org, v.mv_data, v.mv_size);
			org[v.mv_size] = '\0';
			got++;
			if (cb(org, v.mv_size, arg)) {
				stop = 1;
				break;
			}
		}
		if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
			rc = store_err_from_mdb(r);
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && truncated != NULL)
		*truncated = more;
	return rc;
}

int store_locator_lookup(struct store_txn *t, const uint8_t token[STORE_TOKEN_LEN], size_t max,
                         store_org_cb cb, void *arg, int *truncated)
{
	if (token == NULL)
		return HX_EINVAL;
	return store_locator_lookup_each(t, &token, 1, max, cb, arg, truncated);
}

int store_locator_stat(struct store_txn *t, uint64_t *pairs)
{
	MDB_stat st;
	int r = mdb_stat(t->txn, t->s->dbi[DB_LOCATOR], &st);
	if (r != MDB_SUCCESS)
		return store_err_from_mdb(r);
	*pairs = st.ms_entries; /* in a dupsort database: every (key, value) pair */
	return HX_OK;
}

/* meta "locator_seq <org> <stream hex>" → the stream's highest applied sequence (u64 BE), the
 * digest of that publication (32 bytes) and when it was applied (u64 BE ms). One entry per
 * stream an organisation has published under, so a late request of an older stream still
 * finds its own; at most STORE_LOCATOR_STREAMS_MAX an organisation (a new one evicts the
 * longest unused). */
#define SEQ_VAL_LEN (8 + 32 + 8)

static int seq_name(const char *org, const uint8_t stream[PROTO_STREAM_LEN], char *name,
                    size_t size)
{
	char hex[2 * PROTO_STREAM_LEN + 1];
	if (stream == NULL)
		return snprintf(name, size, "locator_seq %s ", org);
	hx_hex_encode(stream, PROTO_STREAM_LEN, hex);
	return snprintf(name, size, "locator_seq %s %s", org, hex);
}

/* Room for one more stream of org: the longest unused goes when there are already as many
 * as allowed. */
static int streams_make_room(struct store_txn *t, const char *org)
{
	char prefix[16 + PROTO_ORG_ID_MAX], oldest[16 + PROTO_ORG_ID_MAX + 2 * PROTO_STREAM_LEN];
	size_t plen = (size_t)seq_name(org, NULL, prefix, sizeof(prefix)), n = 0;
	uint64_t oldest_ms = UINT64_MAX;
	MDB_cursor *c;
	MDB_val k = {plen, prefix}, v;
	int r;
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_META], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     r == MDB_SUCCESS && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0;
	     r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint64_t ms = v.mv_size == SEQ_VAL_LEN ? store_be64_get((uint8_t *)v.mv_data + 40) : 0;
		if (k.mv_size >= sizeof(oldest))
			continue; /* not one of ours */
		n++;
		if (ms < oldest_ms) {
			oldest_ms = ms;
			memcpy(oldest, k.mv_data, k.mv_size);
			oldest[k.mv_size] = '\0';
		}
	}
	mdb_cursor_close(c);
	if (r != MDB_SUCCESS && r != MDB_NOTFOUND)
		return store_err_from_mdb(r);
	if (n < STORE_LOCATOR_STREAMS_MAX)
		return HX_OK;
	k = (MDB_val){strlen(oldest), oldest};
	return store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_META], &k, NULL));
}

int store_locator_streams(struct store_txn *t, store_stream_cb cb, void *arg)
{
	static const char prefix[] = "locator_seq ";
	const size_t plen = sizeof(prefix) - 1;
	MDB_cursor *c;
	MDB_val k = {plen, (void *)prefix}, v;
	int r, rc = HX_OK;
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_META], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     r == MDB_SUCCESS && k.mv_size > plen && memcmp(k.mv_data, prefix, plen) == 0;
	     r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		/* "locator_seq <org> <32 hex>" */
		char name[16 + PROTO_ORG_ID_MAX + 2 * PROTO_STREAM_LEN], *sp;
		uint8_t stream[PROTO_STREAM_LEN];
		if (k.mv_size >= sizeof(name) || (v.mv_size != SEQ_VAL_LEN && v.mv_size != 40)) {
			rc = HX_ECORRUPT;
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if ((sp = strrchr(name, ' ')) == NULL || sp == name + plen - 1 ||
		    hx_hex_decode(sp + 1, stream, PROTO_STREAM_LEN) != HX_OK) {
			rc = HX_ECORRUPT;
			break;
		}
		*sp = '\0';
		if (cb(name + plen, stream, store_be64_get(v.mv_data),
		       v.mv_size == SEQ_VAL_LEN ? store_be64_get((uint8_t *)v.mv_data + 40) : 0, arg))
			break;
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	return rc;
}

int store_locator_sequence(struct store_txn *t, const char *org_id,
                           const struct store_locator_seq *in, struct store_locator_seq_out *out)
{
	char name[16 + PROTO_ORG_ID_MAX + 2 * PROTO_STREAM_LEN];
	uint8_t val[SEQ_VAL_LEN];
	uint64_t last = 0;
	MDB_val v;
	int rc;

	STORE_REQUIRE_WRITE(t);
	if (in == NULL || in->seq == 0 || proto_id_org_check(org_id) != HX_OK)
		return HX_EINVAL;
	memset(out, 0, sizeof(*out));
	seq_name(org_id, in->stream, name, sizeof(name));
	rc = store_meta_get_raw(t, name, &v);
	if (rc == HX_OK && v.mv_size != SEQ_VAL_LEN && v.mv_size != 40)
		return HX_ECORRUPT; /* 40: written before the time was kept (taken as time 0) */
	if (rc == HX_OK)
		last = store_be64_get(v.mv_data);
	else if (rc != HX_ENOTFOUND)
		return rc;
	if (in->seq <= last) {
		out->applied = last;
		out->conflict = in->seq < last ||
		                memcmp((const uint8_t *)v.mv_data + 8, in->digest, 32) != 0;
		return HX_OK;
	}
	/* Publications of this stream never seen here: the RLS lost them (restored from a
	 * backup), or evicted the stream. A stream starts at 1; a publisher's stream that goes on
	 * after a snapshot is known from the snapshot's resume point. */
	if (in->seq > last + 1) {
		out->applied = last;
		out->gap = 1;
		return HX_OK;
	}
	if (rc == HX_ENOTFOUND && (rc = streams_make_room(t, org_id)) != HX_OK)
		return rc;
	out->apply = 1;
	out->applied = in->seq;
	store_be64_put(val, in->seq);
	memcpy(val + 8, in->digest, 32);
	store_be64_put(val + 40, (uint64_t)hx_time_now_ms());
	return store_meta_put_raw(t, name, val, sizeof(val));
}

/* Is tok among the sorted tokens[*i..n)? Advances *i past those below tok (the scan visits
 * keys in order, so the whole range costs one pass over both). */
static int in_sorted(const uint8_t (*tokens)[STORE_TOKEN_LEN], size_t n, size_t *i,
                     const uint8_t *tok)
{
	while (*i < n && memcmp(tokens[*i], tok, STORE_TOKEN_LEN) < 0)
		(*i)++;
	return *i < n && memcmp(tokens[*i], tok, STORE_TOKEN_LEN) == 0;
}

int store_locator_replace(struct store_txn *t, const char *org_id,
                          const uint8_t after[STORE_TOKEN_LEN],
                          const uint8_t through[STORE_TOKEN_LEN],
                          const uint8_t (*tokens)[STORE_TOKEN_LEN], size_t n, size_t *removed,
                          size_t *added)
{
	MDB_cursor *c;
	MDB_val k, d, v;
	uint8_t start[STORE_TOKEN_LEN] = {0}, (*gone)[STORE_TOKEN_LEN] = NULL;
	size_t i = 0, ngone = 0, cap = 0;
	int r, rc;

	STORE_REQUIRE_WRITE(t);
	*removed = *added = 0;
	if ((rc = org_val(org_id, &v)) != HX_OK)
		return rc;
	for (size_t j = 0; j < n; j++)
		if ((j > 0 && memcmp(tokens[j - 1], tokens[j], STORE_TOKEN_LEN) >= 0) ||
		    (after != NULL && memcmp(tokens[j], after, STORE_TOKEN_LEN) <= 0) ||
		    (through != NULL && memcmp(tokens[j], through, STORE_TOKEN_LEN) > 0))
			return HX_EINVAL; /* not ascending, or outside the range */
	if (after != NULL && through != NULL && memcmp(after, through, STORE_TOKEN_LEN) >= 0)
		return HX_EINVAL;
	if (after != NULL)
		memcpy(start, after, sizeof(start));

	/* Every pair in the range, in order: this organisation's whose token is not listed go. */
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_LOCATOR], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	k = (MDB_val){STORE_TOKEN_LEN, start};
	r = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
	if (r == MDB_SUCCESS && after != NULL && k.mv_size == STORE_TOKEN_LEN &&
	    memcmp(k.mv_data, after, STORE_TOKEN_LEN) == 0)
		r = mdb_cursor_get(c, &k, &d, MDB_NEXT_NODUP); /* strictly after */
	for (; r == MDB_SUCCESS; r = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size != STORE_TOKEN_LEN) {
			rc = HX_ECORRUPT;
			break;
		}
		if (through != NULL && memcmp(k.mv_data, through, STORE_TOKEN_LEN) > 0)
			break;
		if (d.mv_size != v.mv_size || memcmp(d.mv_data, v.mv_data, v.mv_size) != 0 ||
		    in_sorted(tokens, n, &i, k.mv_data))
			continue;
		if (ngone == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			uint8_t (*g)[STORE_TOKEN_LEN] = realloc(gone, ncap * STORE_TOKEN_LEN);
			if (g == NULL) {
				rc = HX_ENOMEM;
				break;
			}
			gone = g;
			cap = ncap;
		}
		memcpy(gone[ngone++], k.mv_data, STORE_TOKEN_LEN);
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	for (size_t j = 0; j < ngone && rc == HX_OK; j++) {
		MDB_val gk = {STORE_TOKEN_LEN, gone[j]}, ov = v;
		rc = store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_LOCATOR], &gk, &ov));
	}
	free(gone);
	if (rc != HX_OK)
		return rc;
	*removed = ngone;

	for (size_t j = 0; j < n; j++) {
		MDB_val tk = {STORE_TOKEN_LEN, (void *)tokens[j]}, ov = v;
		if ((rc = store_quota_check(t)) != HX_OK)
			return rc;
		r = mdb_put(t->txn, t->s->dbi[DB_LOCATOR], &tk, &ov, MDB_NODUPDATA);
		if (r == MDB_SUCCESS)
			(*added)++;
		else if (r != MDB_KEYEXIST)
			return store_err_from_mdb(r);
	}
	return HX_OK;
}

int store_locator_applied(struct store_txn *t, const char *org_id,
                          const uint8_t stream[PROTO_STREAM_LEN], uint64_t *seq)
{
	char name[16 + PROTO_ORG_ID_MAX + 2 * PROTO_STREAM_LEN];
	MDB_val v;
	int rc;

	*seq = 0;
	if (stream == NULL || proto_id_org_check(org_id) != HX_OK)
		return HX_EINVAL;
	seq_name(org_id, stream, name, sizeof(name));
	rc = store_meta_get_raw(t, name, &v);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc != HX_OK)
		return rc;
	if (v.mv_size != SEQ_VAL_LEN && v.mv_size != 40)
		return HX_ECORRUPT;
	*seq = store_be64_get(v.mv_data);
	return HX_OK;
}

int store_locator_resume(struct store_txn *t, const char *org_id,
                         const uint8_t stream[PROTO_STREAM_LEN], uint64_t seq)
{
	char name[16 + PROTO_ORG_ID_MAX + 2 * PROTO_STREAM_LEN];
	uint8_t val[SEQ_VAL_LEN] = {0};
	MDB_val v;
	int rc;

	STORE_REQUIRE_WRITE(t);
	if (stream == NULL || seq == 0 || proto_id_org_check(org_id) != HX_OK)
		return HX_EINVAL;
	seq_name(org_id, stream, name, sizeof(name));
	rc = store_meta_get_raw(t, name, &v);
	if (rc == HX_OK && v.mv_size != SEQ_VAL_LEN && v.mv_size != 40)
		return HX_ECORRUPT;
	if (rc != HX_OK && rc != HX_ENOTFOUND)
		return rc;
	if (rc == HX_OK && store_be64_get(v.mv_data) >= seq) {
		/* Already further on: only marked as used now. A snapshot's own stream is used
		 * later than the queue's stream it resumes, so without this an idle publisher's
		 * queue stream would be the longest unused after 15 snapshots and be evicted, and
		 * its next publication would be a gap (one more snapshot for nothing). */
		memcpy(val, v.mv_data, 40);
		store_be64_put(val + 40, (uint64_t)hx_time_now_ms());
		return store_meta_put_raw(t, name, val, sizeof(val));
	}
	if (rc == HX_ENOTFOUND && (rc = streams_make_room(t, org_id)) != HX_OK)
		return rc;
	store_be64_put(val, seq);
	store_be64_put(val + 40, (uint64_t)hx_time_now_ms());
	return store_meta_put_raw(t, name, val, sizeof(val));
}
