/* store_outbox.c: what the record locator must be told, durably (docs/store.md).
 *
 * The `outbox` sub-database holds four key spaces:
 *   'c' seq (u64 BE) → patient id      a change to a patient, written in the same transaction
 *                                       as the change (store_patient_put/_delete)
 *   'p' patient id   → tokens (32 × n)  the tokens the RLS has been told this patient has
 *   'q' seq (u64 BE) → LocatorPublish   a publication prepared from changes, in order; each
 *                                       RLS endpoint's cursor (meta "rls.<hash>") says how far
 *                                       it has acknowledged
 *   'r' token (32)   → u32 BE           how many of our patients hold the token (the locator
 *                                       knows organisations: a token goes when the last goes)
 * and in `meta`: "rls.<hash>.snap" an endpoint's snapshot in progress, "rls.<hash>.check" its
 * last check, "outbox_stream" the
 * stream id sent with each publication, "outbox_key" the id of the linkage key the tokens
 * are made under (another key at start: every published patient is changed again).
 * Changes need no linkage key (hiepeerctl writes them); the daemon turns them into
 * publications. */
#include "store_internal.h"

#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int next_seq(struct store_txn *t, const char *name, uint64_t *out)
{
	MDB_val v;
	uint8_t be[8];
	uint64_t seq = 0;
	int rc = store_meta_get_raw(t, name, &v);
	if (rc == HX_OK && v.mv_size == 8)
		seq = store_be64_get(v.mv_data);
	else if (rc != HX_OK && rc != HX_ENOTFOUND)
		return rc;
	store_be64_put(be, ++seq);
	if ((rc = store_meta_put_raw(t, name, be, sizeof(be))) != HX_OK)
		return rc;
	*out = seq;
	return HX_OK;
}

static void seq_key(uint8_t key[9], char space, uint64_t seq)
{
	key[0] = (uint8_t)space;
	store_be64_put(key + 1, seq);
}

int store_outbox_change(struct store_txn *t, const char *id)
{
	uint8_t key[9];
	uint64_t seq;
	MDB_val k = {sizeof(key), key}, v = {strlen(id), (void *)id};
	int rc;
	STORE_REQUIRE_WRITE(t);
	if ((rc = next_seq(t, "outbox_change_seq", &seq)) != HX_OK)
		return rc;
	seq_key(key, 'c', seq);
	return store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_OUTBOX], &k, &v, 0));
}

/* Walk the entries of a key space after `after`, in order, at most max. */
static int walk(struct store_txn *t, char space, uint64_t after, size_t max,
                int (*fn)(uint64_t seq, const MDB_val *v, void *arg), void *arg)
{
	MDB_cursor *c;
	uint8_t key[9];
	MDB_val k = {sizeof(key), key}, v;
	size_t n = 0;
	int r, rc = HX_OK;
	if (after == UINT64_MAX)
		return HX_OK;
	seq_key(key, space, after + 1);
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_OUTBOX], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (r == MDB_SUCCESS && n < max && k.mv_size == 9 && ((uint8_t *)k.mv_data)[0] == space) {
		if ((rc = fn(store_be64_get((uint8_t *)k.mv_data + 1), &v, arg)) != HX_OK)
			break;
		n++;
		r = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	return rc == 1 ? HX_OK : rc; /* 1: the callback stopped the walk */
}

struct change_arg {
	store_change_cb cb;
	void *arg;
};

static int change_fn(uint64_t seq, const MDB_val *v, void *arg)
{
	struct change_arg *a = arg;
	char id[PROTO_PATIENT_ID_MAX + 1];
	if (v->mv_size == 0 || v->mv_size > PROTO_PATIENT_ID_MAX)
		return HX_ECORRUPT;
	memcpy(id, v->mv_data, v->mv_size);
	id[v->mv_size] = '\0';
	return a->cb(seq, id, a->arg);
}

int store_outbox_changes(struct store_txn *t, size_t max, store_change_cb cb, void *arg)
{
	struct change_arg a = {cb, arg};
	return walk(t, 'c', 0, max, change_fn, &a);
}

int store_outbox_change_done(struct store_txn *t, uint64_t seq)
{
	uint8_t key[9];
	MDB_val k = {sizeof(key), key};
	int r;
	STORE_REQUIRE_WRITE(t);
	seq_key(key, 'c', seq);
	r = mdb_del(t->txn, t->s->dbi[DB_OUTBOX], &k, NULL);
	return r == MDB_NOTFOUND ? HX_OK : store_err_from_mdb(r);
}

static MDB_val published_key(const char *id, uint8_t *buf)
{
	size_t n = strlen(id);
	buf[0] = 'p';
	memcpy(buf + 1, id, n);
	return (MDB_val){n + 1, buf};
}

int store_outbox_published_get(struct store_txn *t, const char *id,
                               uint8_t tokens[][32], size_t max, size_t *n)
{
	uint8_t kb[PROTO_PATIENT_ID_MAX + 2];
	MDB_val k, v;
	int r;
	*n = 0;
	if (proto_id_patient_check(id) != HX_OK)
		return HX_EINVAL;
	k = published_key(id, kb);
	r = mdb_get(t->txn, t->s->dbi[DB_OUTBOX], &k, &v);
	if (r == MDB_NOTFOUND)
		return HX_OK;
	if (r != MDB_SUCCESS)
		return store_err_from_mdb(r);
	if (v.mv_size % 32 != 0 || v.mv_size / 32 > max)
		return HX_ECORRUPT;
	memcpy(tokens, v.mv_data, v.mv_size);
	*n = v.mv_size / 32;
	return HX_OK;
}

int store_outbox_published_put(struct store_txn *t, const char *id,
                               const uint8_t tokens[][32], size_t n)
{
	uint8_t kb[PROTO_PATIENT_ID_MAX + 2];
	MDB_val k, v = {n * 32, (void *)tokens};
	int r;
	STORE_REQUIRE_WRITE(t);
	if (proto_id_patient_check(id) != HX_OK)
		return HX_EINVAL;
	k = published_key(id, kb);
	if (n == 0) {
		r = mdb_del(t->txn, t->s->dbi[DB_OUTBOX], &k, NULL);
		return r == MDB_NOTFOUND ? HX_OK : store_err_from_mdb(r);
	}
	return store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_OUTBOX], &k, &v, 0));
}

int store_outbox_queue_put(struct store_txn *t, const Hie__V1__LocatorPublish *msg,
                           uint64_t *seq_out)
{
	Hie__V1__LocatorPublish m = *msg;
	uint8_t key[9], *buf;
	size_t len;
	uint64_t seq;
	MDB_val k = {sizeof(key), key}, v;
	int rc;
	STORE_REQUIRE_WRITE(t);
	if ((rc = next_seq(t, "outbox_queue_seq", &seq)) != HX_OK)
		return rc;
	m.sequence = seq;
	if ((rc = store_pack(&m, &buf, &len)) != HX_OK)
		return rc;
	seq_key(key, 'q', seq);
	v.mv_size = len;
	v.mv_data = buf;
	rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_OUTBOX], &k, &v, 0));
	free(buf);
	if (rc == HX_OK && seq_out != NULL)
		*seq_out = seq;
	return rc;
}

struct queue_arg {
	uint64_t seq;
	struct hx_buf *out;
	int rc;
};

static int queue_fn(uint64_t seq, const MDB_val *v, void *arg)
{
	struct queue_arg *a = arg;
	a->seq = seq;
	hx_buf_reset(a->out);
	a->rc = hx_buf_append(a->out, v->mv_data, v->mv_size);
	return 1; /* one is enough */
}

int store_outbox_queue_next(struct store_txn *t, uint64_t after, uint64_t *seq,
                            struct hx_buf *msg)
{
	struct queue_arg a = {0, msg, HX_ENOTFOUND};
	int rc = walk(t, 'q', after, 1, queue_fn, &a);
	if (rc != HX_OK)
		return rc;
	*seq = a.seq;
	return a.rc;
}

static int count_fn(uint64_t seq, const MDB_val *v, void *arg)
{
	(void)seq;
	(void)v;
	(*(uint64_t *)arg)++;
	return HX_OK;
}

int store_outbox_pending(struct store_txn *t, uint64_t after, uint64_t *changes,
                         uint64_t *queued)
{
	int rc;
	*changes = *queued = 0;
	if ((rc = walk(t, 'c', 0, SIZE_MAX, count_fn, changes)) != HX_OK)
		return rc;
	return walk(t, 'q', after, SIZE_MAX, count_fn, queued);
}

struct trim_arg {
	uint64_t upto;
	uint64_t seqs[256];
	size_t n;
};

static int trim_fn(uint64_t seq, const MDB_val *v, void *arg)
{
	struct trim_arg *a = arg;
	(void)v;
	if (seq > a->upto || a->n == 256)
		return 1;
	a->seqs[a->n++] = seq;
	return HX_OK;
}

int store_outbox_queue_trim(struct store_txn *t, uint64_t upto)
{
	struct trim_arg a = {.upto = upto};
	int rc;
	STORE_REQUIRE_WRITE(t);
	do {
		a.n = 0;
		if ((rc = walk(t, 'q', 0, 256, trim_fn, &a)) != HX_OK)
			return rc;
		for (size_t i = 0; i < a.n; i++) {
			uint8_t key[9];
			MDB_val k = {sizeof(key), key};
			seq_key(key, 'q', a.seqs[i]);
			if ((rc = store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_OUTBOX], &k, NULL))) !=
			    HX_OK)
				return rc;
		}
	} while (a.n == 256);
	return HX_OK;
}

static void cursor_name(const char *endpoint, char name[24])
{
	uint8_t h[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	crypto_sha256(endpoint, strlen(endpoint), h);
	hx_hex_encode(h, 8, hex);
	snprintf(name, 24, "rls.%.16s", hex);
}

int store_outbox_cursor_get(struct store_txn *t, const char *endpoint, uint64_t *seq)
{
	char name[24];
	MDB_val v;
	int rc;
	cursor_name(endpoint, name);
	*seq = 0;
	rc = store_meta_get_raw(t, name, &v);
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc == HX_OK && v.mv_size == 8)
		*seq = store_be64_get(v.mv_data);
	return rc;
}

int store_outbox_cursor_put(struct store_txn *t, const char *endpoint, uint64_t seq)
{
	char name[24];
	uint8_t be[8];
	STORE_REQUIRE_WRITE(t);
	cursor_name(endpoint, name);
	store_be64_put(be, seq);
	return store_meta_put_raw(t, name, be, sizeof(be));
}

int store_outbox_token_count(struct store_txn *t, const uint8_t token[32], int delta,
                             uint32_t *count)
{
	uint8_t key[33], be[4];
	MDB_val k = {sizeof(key), key}, v;
	uint32_t n = 0;
	int r;
	STORE_REQUIRE_WRITE(t);
	key[0] = 'r';
	memcpy(key + 1, token, 32);
	r = mdb_get(t->txn, t->s->dbi[DB_OUTBOX], &k, &v);
	if (r == MDB_SUCCESS && v.mv_size == 4)
		n = (uint32_t)((uint8_t *)v.mv_data)[0] << 24 | (uint32_t)((uint8_t *)v.mv_data)[1] << 16 |
		    (uint32_t)((uint8_t *)v.mv_data)[2] << 8 | ((uint8_t *)v.mv_data)[3];
	else if (r != MDB_NOTFOUND && r != MDB_SUCCESS)
		return store_err_from_mdb(r);
	if (delta < 0 && n < (uint32_t)-delta)
		n = 0; /* never below zero, whatever happened before */
	else
		n = (uint32_t)((int64_t)n + delta);
	*count = n;
	if (n == 0) {
		r = mdb_del(t->txn, t->s->dbi[DB_OUTBOX], &k, NULL);
		return r == MDB_NOTFOUND ? HX_OK : store_err_from_mdb(r);
	}
	be[0] = (uint8_t)(n >> 24);
	be[1] = (uint8_t)(n >> 16);
	be[2] = (uint8_t)(n >> 8);
	be[3] = (uint8_t)n;
	v.mv_size = 4;
	v.mv_data = be;
	return store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_OUTBOX], &k, &v, 0));
}

int store_outbox_stream_get(struct store_txn *t, uint8_t id[PROTO_STREAM_LEN])
{
	MDB_val v;
	int rc = store_meta_get_raw(t, "outbox_stream", &v);
	if (rc != HX_OK)
		return rc;
	if (v.mv_size != PROTO_STREAM_LEN)
		return HX_ECORRUPT;
	memcpy(id, v.mv_data, PROTO_STREAM_LEN);
	return HX_OK;
}

int store_outbox_stream_new(struct store_txn *t, uint8_t id[PROTO_STREAM_LEN])
{
	STORE_REQUIRE_WRITE(t);
	if (crypto_random(id, PROTO_STREAM_LEN) != HX_OK)
		return HX_EIO;
	return store_meta_put_raw(t, "outbox_stream", id, PROTO_STREAM_LEN);
}

int store_outbox_queue_last(struct store_txn *t, uint64_t *seq)
{
	MDB_val v;
	int rc = store_meta_get_raw(t, "outbox_queue_seq", &v);
	*seq = 0;
	if (rc == HX_ENOTFOUND)
		return HX_OK;
	if (rc == HX_OK && v.mv_size != 8)
		return HX_ECORRUPT;
	if (rc == HX_OK)
		*seq = store_be64_get(v.mv_data);
	return rc;
}

int store_outbox_tokens(struct store_txn *t, const uint8_t after[32], size_t max,
                        store_token_cb cb, void *arg)
{
	MDB_cursor *c;
	uint8_t key[33];
	MDB_val k = {sizeof(key), key}, v;
	size_t n = 0;
	int r, rc = HX_OK;
	key[0] = 'r';
	if (after != NULL)
		memcpy(key + 1, after, 32);
	else
		memset(key + 1, 0, 32);
	if ((r = mdb_cursor_open(t->txn, t->s->dbi[DB_OUTBOX], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (r == MDB_SUCCESS && after != NULL && k.mv_size == 33 && memcmp(k.mv_data, key, 33) == 0)
		r = mdb_cursor_get(c, &k, &v, MDB_NEXT); /* strictly after */
	while (r == MDB_SUCCESS && n < max && k.mv_size == 33 && ((uint8_t *)k.mv_data)[0] == 'r') {
		if (cb((uint8_t *)k.mv_data + 1, arg) != 0)
			break;
		n++;
		r = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	return rc;
}

int store_outbox_lacking(struct store_txn *t, uint64_t cursor, int *lacking, uint64_t *last)
{
	uint8_t key[9];
	MDB_val k = {sizeof(key), key}, v;
	int r, rc = store_outbox_queue_last(t, last);
	*lacking = 0;
	if (rc != HX_OK || *last <= cursor)
		return rc;
	seq_key(key, 'q', cursor + 1); /* the next publication, if the queue still holds it */
	r = mdb_get(t->txn, t->s->dbi[DB_OUTBOX], &k, &v);
	if (r == MDB_NOTFOUND)
		*lacking = 1;
	else if (r != MDB_SUCCESS)
		rc = store_err_from_mdb(r);
	return rc;
}

/* Every patient whose tokens were published gets a change: prepared again, under the key in
 * use now. In runs of 256 ids, the cursor reopened after each run's writes. */
static int republish_all(struct store_txn *t, uint64_t *n)
{
	char ids[256][PROTO_PATIENT_ID_MAX + 1], last[PROTO_PATIENT_ID_MAX + 1] = "";
	uint8_t kb[PROTO_PATIENT_ID_MAX + 2];
	size_t got;
	int rc;
	*n = 0;
	do {
		MDB_cursor *c;
		MDB_val k = published_key(last, kb), v;
		int r = mdb_cursor_open(t->txn, t->s->dbi[DB_OUTBOX], &c);
		if (r != MDB_SUCCESS)
			return store_err_from_mdb(r);
		got = 0;
		r = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (r == MDB_SUCCESS && last[0] != '\0' && k.mv_size == 1 + strlen(last) &&
		    memcmp((uint8_t *)k.mv_data + 1, last, k.mv_size - 1) == 0)
			r = mdb_cursor_get(c, &k, &v, MDB_NEXT); /* strictly after the last run */
		for (; r == MDB_SUCCESS && got < 256 && k.mv_size >= 2 &&
		       ((uint8_t *)k.mv_data)[0] == 'p';
		     r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (k.mv_size - 1 > PROTO_PATIENT_ID_MAX) {
				mdb_cursor_close(c);
				return HX_ECORRUPT;
			}
			memcpy(ids[got], (uint8_t *)k.mv_data + 1, k.mv_size - 1);
			ids[got][k.mv_size - 1] = '\0';
			got++;
		}
		mdb_cursor_close(c);
		if (r != MDB_SUCCESS && r != MDB_NOTFOUND)
			return store_err_from_mdb(r);
		for (size_t i = 0; i < got; i++)
			if ((rc = store_outbox_change(t, ids[i])) != HX_OK)
				return rc;
		if (got > 0)
			memcpy(last, ids[got - 1], sizeof(last));
		*n += got;
	} while (got == 256);
	return HX_OK;
}

int store_outbox_key(struct store_txn *t, const uint8_t id[STORE_KEY_ID_LEN], int *changed,
                     uint64_t *patients)
{
	MDB_val v;
	int rc;
	STORE_REQUIRE_WRITE(t);
	*changed = 0;
	*patients = 0;
	rc = store_meta_get_raw(t, "outbox_key", &v);
	if (rc == HX_OK && v.mv_size == STORE_KEY_ID_LEN && memcmp(v.mv_data, id, STORE_KEY_ID_LEN) == 0)
		return HX_OK;
	if (rc != HX_OK && rc != HX_ENOTFOUND)
		return rc;
	/* The first key named (a store from before keys were recorded: taken as the same key), or
	 * another key: every token published so far was made under the old one. */
	if (rc == HX_OK) {
		*changed = 1;
		if ((rc = republish_all(t, patients)) != HX_OK)
			return rc;
	}
	return store_meta_put_raw(t, "outbox_key", id, STORE_KEY_ID_LEN);
}

/* meta "rls.<hash>.check": an endpoint's last check, time, applied, acknowledged (u64 BE each)
 * and the outcome (one byte). */
#define CHECK_LEN (3 * 8 + 1)

/* meta "rls.<hash>.<what>": a record kept per endpoint beside its cursor. */
static void endpoint_name(const char *endpoint, const char *what, char name[32])
{
	char cur[24];
	cursor_name(endpoint, cur);
	snprintf(name, 32, "%s.%s", cur, what);
}

/* Such a record's bytes, which must be exactly len long (else HX_ECORRUPT). */
static int endpoint_get(struct store_txn *t, const char *endpoint, const char *what, size_t len,
                        const uint8_t **out)
{
	char name[32];
	MDB_val v;
	int rc;
	endpoint_name(endpoint, what, name);
	if ((rc = store_meta_get_raw(t, name, &v)) != HX_OK)
		return rc;
	if (v.mv_size != len)
		return HX_ECORRUPT;
	*out = v.mv_data;
	return HX_OK;
}

int store_outbox_check_get(struct store_txn *t, const char *endpoint,
                           struct store_outbox_check *out)
{
	const uint8_t *b;
	int rc;
	if ((rc = endpoint_get(t, endpoint, "check", CHECK_LEN, &b)) != HX_OK)
		return rc;
	out->time_ms = store_be64_get(b);
	out->applied = store_be64_get(b + 8);
	out->acknowledged = store_be64_get(b + 16);
	out->outcome = (enum store_check_outcome)b[24];
	return HX_OK;
}

int store_outbox_check_put(struct store_txn *t, const char *endpoint,
                           const struct store_outbox_check *c)
{
	char name[32];
	uint8_t b[CHECK_LEN];
	STORE_REQUIRE_WRITE(t);
	endpoint_name(endpoint, "check", name);
	store_be64_put(b, c->time_ms);
	store_be64_put(b + 8, c->applied);
	store_be64_put(b + 16, c->acknowledged);
	b[24] = (uint8_t)c->outcome;
	return store_meta_put_raw(t, name, b, sizeof(b));
}

/* meta "rls.<hash>.snap": an endpoint's snapshot in progress (store.h). */
#define SNAP_LEN (8 + PROTO_STREAM_LEN + 8 + 1 + 32)

int store_outbox_snap_get(struct store_txn *t, const char *endpoint, struct store_outbox_snap *out)
{
	const uint8_t *b;
	int rc;
	if ((rc = endpoint_get(t, endpoint, "snap", SNAP_LEN, &b)) != HX_OK)
		return rc;
	out->upto = store_be64_get(b);
	memcpy(out->stream, b + 8, PROTO_STREAM_LEN);
	out->seq = store_be64_get(b + 8 + PROTO_STREAM_LEN);
	out->has_after = b[16 + PROTO_STREAM_LEN] != 0;
	memcpy(out->after, b + 17 + PROTO_STREAM_LEN, 32);
	return HX_OK;
}

int store_outbox_snap_put(struct store_txn *t, const char *endpoint,
                          const struct store_outbox_snap *s)
{
	char name[32];
	uint8_t b[SNAP_LEN];
	STORE_REQUIRE_WRITE(t);
	endpoint_name(endpoint, "snap", name);
	store_be64_put(b, s->upto);
	memcpy(b + 8, s->stream, PROTO_STREAM_LEN);
	store_be64_put(b + 8 + PROTO_STREAM_LEN, s->seq);
	b[16 + PROTO_STREAM_LEN] = s->has_after ? 1 : 0;
	memcpy(b + 17 + PROTO_STREAM_LEN, s->after, 32);
	return store_meta_put_raw(t, name, b, sizeof(b));
}

int store_outbox_snap_start(struct store_txn *t, const char *endpoint)
{
	struct store_outbox_snap s = {0};
	int rc;
	STORE_REQUIRE_WRITE(t);
	if ((rc = store_outbox_queue_last(t, &s.upto)) != HX_OK)
		return rc;
	if (crypto_random(s.stream, sizeof(s.stream)) != HX_OK)
		return HX_EIO;
	return store_outbox_snap_put(t, endpoint, &s);
}

int store_outbox_snap_done(struct store_txn *t, const char *endpoint)
{
	struct store_outbox_snap s;
	char name[32];
	MDB_val k;
	int rc;
	STORE_REQUIRE_WRITE(t);
	if ((rc = store_outbox_snap_get(t, endpoint, &s)) != HX_OK)
		return rc;
	if ((rc = store_outbox_cursor_put(t, endpoint, s.upto)) != HX_OK)
		return rc;
	endpoint_name(endpoint, "snap", name);
	k = (MDB_val){strlen(name), name};
	return store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_META], &k, NULL));
}
