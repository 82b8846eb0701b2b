/* store_peer.c: enrolled peers (org id → Peer). Every change bumps the trust generation. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

int store_peer_put(struct store_txn *t, const Hie__V1__Peer *p)
{
	uint8_t *buf;
	size_t len;
	MDB_val k, v;
	int rc;

	STORE_REQUIRE_WRITE(t);
	if (proto_check(PROTO_PEER, p) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_pack(p, &buf, &len)) != HX_OK)
		return rc;
	k.mv_size = strlen(p->org_id);
	k.mv_data = p->org_id;
	v.mv_size = len;
	v.mv_data = buf;
	rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_PEERS], &k, &v, 0));
	free(buf);
	return rc != HX_OK ? rc : store_trust_gen_bump(t, NULL);
}

int store_peer_get(struct store_txn *t, const char *org_id, Hie__V1__Peer **out)
{
	MDB_val k = {strlen(org_id), (void *)org_id}, v;
	void *m;
	int rc;

	if (proto_id_org_check(org_id) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_err_from_mdb(mdb_get(t->txn, t->s->dbi[DB_PEERS], &k, &v))) != HX_OK)
		return rc;
	if ((rc = store_unpack(PROTO_PEER, &v, &m)) != HX_OK)
		return rc;
	*out = m;
	return HX_OK;
}

int store_peer_delete(struct store_txn *t, const char *org_id)
{
	MDB_val k = {strlen(org_id), (void *)org_id};
	int rc;

	STORE_REQUIRE_WRITE(t);
	if (proto_id_org_check(org_id) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_PEERS], &k, NULL))) != HX_OK)
		return rc;
	return store_trust_gen_bump(t, NULL);
}

int store_db_each(struct store_txn *t, enum store_db db, enum proto_kind kind,
                  int (*cb)(const void *msg, void *arg), void *arg)
{
	MDB_cursor *c;
	MDB_val k, v;
	int r, rc = HX_OK;

	if ((r = mdb_cursor_open(t->txn, t->s->dbi[db], &c)) != MDB_SUCCESS)
		return store_err_from_mdb(r);
	for (r = mdb_cursor_get(c, &k, &v, MDB_FIRST); r == MDB_SUCCESS;
	     r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		void *m;
		int stop;
		if ((rc = store_unpack(kind, &v, &m)) != HX_OK)
			break;
		stop = cb(m, arg);
		proto_free(m);
		if (stop)
			break;
	}
	mdb_cursor_close(c);
	if (rc == HX_OK && r != MDB_SUCCESS && r != MDB_NOTFOUND)
		rc = store_err_from_mdb(r);
	return rc;
}

struct peer_each {
	store_peer_cb cb;
	void *arg;
};

static int peer_each(const void *msg, void *arg)
{
	const struct peer_each *e = arg;
	return e->cb(msg, e->arg);
}

int store_peer_list(struct store_txn *t, store_peer_cb cb, void *arg)
{
	struct peer_each e = {cb, arg};
	return store_db_each(t, DB_PEERS, PROTO_PEER, peer_each, &e);
}
