/* store_client.c: the local clients (db `clients`): certificate fingerprint → LocalClient. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

int store_client_put(struct store_txn *t, const Hie__V1__LocalClient *c)
{
	uint8_t *buf;
	size_t len;
	MDB_val k, v;
	int rc;

	STORE_REQUIRE_WRITE(t);
	if (proto_check(PROTO_LOCAL_CLIENT, c) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_pack(c, &buf, &len)) != HX_OK)
		return rc;
	k.mv_size = c->fingerprint.len;
	k.mv_data = c->fingerprint.data;
	v.mv_size = len;
	v.mv_data = buf;
	rc = store_err_from_mdb(mdb_put(t->txn, t->s->dbi[DB_CLIENTS], &k, &v, 0));
	free(buf);
	return rc != HX_OK ? rc : store_trust_gen_bump(t, NULL);
}

int store_client_delete(struct store_txn *t, const uint8_t fp[PROTO_FINGERPRINT_LEN])
{
	MDB_val k = {PROTO_FINGERPRINT_LEN, (void *)fp};
	int rc;

	STORE_REQUIRE_WRITE(t);
	if ((rc = store_err_from_mdb(mdb_del(t->txn, t->s->dbi[DB_CLIENTS], &k, NULL))) != HX_OK)
		return rc;
	return store_trust_gen_bump(t, NULL);
}

struct client_each {
	store_client_cb cb;
	void *arg;
};

static int client_each(const void *msg, void *arg)
{
	const struct client_each *e = arg;
	return e->cb(msg, e->arg);
}

int store_client_list(struct store_txn *t, store_client_cb cb, void *arg)
{
	struct client_each e = {cb, arg};
	return store_db_each(t, DB_CLIENTS, PROTO_LOCAL_CLIENT, client_each, &e);
}

struct by_name {
	const char *name;
	Hie__V1__LocalClient *found;
};

static int by_name_cb(const Hie__V1__LocalClient *c, void *arg)
{
	struct by_name *b = arg;
	void *m = NULL;
	if (strcmp(c->name, b->name) != 0)
		return 0;
	/* The list frees its copy: keep one of our own. */
	{
		struct hx_buf buf;
		hx_buf_init(&buf, 64 * 1024);
		if (proto_pack(c, &buf) == HX_OK &&
		    proto_unpack(PROTO_LOCAL_CLIENT, buf.data, buf.len, &m) == HX_OK)
			b->found = m;
		hx_buf_clear(&buf);
	}
	return 1;
}

int store_client_get_by_name(struct store_txn *t, const char *name, Hie__V1__LocalClient **out)
{
	struct by_name b = {name, NULL};
	int rc;
	if (proto_id_client_check(name) != HX_OK)
		return HX_EINVAL;
	if ((rc = store_client_list(t, by_name_cb, &b)) != HX_OK)
		return rc;
	if (b.found == NULL)
		return HX_ENOTFOUND;
	*out = b.found;
	return HX_OK;
}
