/* store_internal.h: shared between the files of store/ only. */
#ifndef HX_STORE_INTERNAL_H
#define HX_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store.h"

enum store_db {
	DB_META,
	DB_PATIENTS,
	DB_BLOCKS,
	DB_DOCS,
	DB_CONTENT,
	DB_PAT_DOCS,
	DB_XREF,
	DB_PEERS,
	DB_CLIENTS,
	DB_CONSENT,
	DB_LOCATOR,
	DB_OUTBOX,
	DB_AUDIT,
	DB_COUNT
};

struct store_op;

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	char *path;
	char org_id[PROTO_ORG_ID_MAX + 1];
	int read_only;
	unsigned batch_max;

	/* Held shared by every transaction of this process, exclusively to change the map
	 * size (LMDB requires that no transaction is active then). Writer-preferring. */
	pthread_rwlock_t map_lock;

	pthread_t writer;
	int writer_started;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;    /* writer waits for work */
	pthread_cond_t donecond; /* synchronous submitters wait for their batch */
	struct store_op *qhead, *qtail;
	unsigned qcount;         /* ops queued */
	unsigned qeager;         /* of which not lazy (see store_write_lazy) */
	int stopping;
	uint64_t grow_to;        /* pending store_map_grow() request */
	int grow_rc;
	uint64_t grow_serial;    /* bumped when a grow request is served */

	/* Space quota: writes that add patients or documents are refused with HX_ESPACE once
	 * the pages in use pass soft_limit (map size less a reserve), so that deletes, audit
	 * records and trust changes always find room. */
	uint64_t soft_limit;
	atomic_int over_quota;

	/* Read transactions kept per thread (reset between uses, renewed: much cheaper than
	 * begin/abort), all aborted by store_close. `id` tells a thread's kept transaction of
	 * this store from one of a store closed before. */
	uint64_t id;
	pthread_mutex_t cache_lock;
	struct store_txn *cached;

	atomic_uint_fast64_t commits;
	atomic_uint_fast64_t writes;
};

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	int write;
	int quota_refused; /* a put was refused by the quota: an ordinary failure */
	int cached;        /* a thread's kept read transaction: reset, not freed, at the end */
	int in_use;
	struct store_txn *next_cached;
};

/* The one place MDB_* and errno codes become hx_err. */
int store_err_from_mdb(int rc);

/* Begin an LMDB transaction under the map lock (shared), adopting a map grown by another
 * process when LMDB says MDB_MAP_RESIZED. */
int store_txn_begin_raw(struct store *s, MDB_txn *parent, unsigned flags, MDB_txn **out);
void store_txn_end_raw(struct store *s, MDB_txn *txn, int commit, int *rc);

/* Writes must run inside a write function. */
#define STORE_REQUIRE_WRITE(t) \
	do { \
		if (!(t)->write) \
			return HX_EINVAL; \
	} while (0)

/* Unpack a stored value of a kind; a value that fails is store corruption. */
int store_unpack(enum proto_kind kind, const MDB_val *v, void **out);
/* Pack msg into a fresh heap buffer (caller frees). */
int store_pack(const void *msg, uint8_t **out, size_t *len);
/* Every record of a small db, unpacked as `kind`, in key order, to cb until it returns
 * nonzero (peers, local clients). */
int store_db_each(struct store_txn *t, enum store_db db, enum proto_kind kind,
                  int (*cb)(const void *msg, void *arg), void *arg);

/* Refuse a put that adds data while the store is over its quota (HX_ESPACE). */
int store_quota_check(struct store_txn *t);
/* Recompute over_quota from the committed state (called by the writer after commits). */
void store_quota_update(struct store *s);

/* Start/stop the writer (store_writer.c). */
int store_writer_start(struct store *s);
void store_writer_stop(struct store *s);

/* Meta helpers (store_meta.c). */
int store_meta_get_raw(struct store_txn *t, const char *name, MDB_val *v);
int store_meta_put_raw(struct store_txn *t, const char *name, const void *val, size_t len);
int store_meta_init(struct store_txn *t, const char *org_id);

static inline void store_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t store_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
