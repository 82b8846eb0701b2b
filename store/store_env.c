/* store_env.c: opening, checking and closing the environment; read transactions. */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	unsigned flags;
} db_table[DB_COUNT] = {
	[DB_META] = {"meta", 0},
	[DB_PATIENTS] = {"patients", 0},
	[DB_BLOCKS] = {"blocks", MDB_DUPSORT},
	[DB_DOCS] = {"docs", 0},
	[DB_CONTENT] = {"content", 0},
	[DB_PAT_DOCS] = {"pat_docs", 0},
	[DB_XREF] = {"xref", 0},
	[DB_PEERS] = {"peers", 0},
	[DB_CLIENTS] = {"clients", 0},
	[DB_CONSENT] = {"consent", 0},
	[DB_LOCATOR] = {"locator", MDB_DUPSORT},
	[DB_OUTBOX] = {"outbox", 0},
	[DB_AUDIT] = {"audit", 0},
};

int store_err_from_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return HX_OK;
	case MDB_NOTFOUND:
		return HX_ENOTFOUND;
	case MDB_KEYEXIST:
		return HX_EEXIST;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		return HX_ESPACE;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		return HX_ECORRUPT;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_DBS_FULL:
	case MDB_TLS_FULL:
	case MDB_PAGE_FULL:
		return HX_ELIMIT;
	case MDB_MAP_RESIZED:
		return HX_EBUSY;
	case MDB_BAD_VALSIZE:
	case EINVAL:
		return HX_EINVAL;
	case ENOMEM:
		return HX_ENOMEM;
	case EACCES:
	case EPERM:
	case EROFS:
		return HX_EPERM;
	case ENOENT:
		return HX_ENOTFOUND;
	case EIO:
		return HX_EIO;
	default:
		return rc > 0 ? HX_EIO : HX_EINTERNAL;
	}
}

int store_txn_begin_raw(struct store *s, MDB_txn *parent, unsigned flags, MDB_txn **out)
{
	int rc;

	if (parent != NULL)
		return store_err_from_mdb(mdb_txn_begin(s->env, parent, flags, out));
	for (int attempt = 0; attempt < 2; attempt++) {
		pthread_rwlock_rdlock(&s->map_lock);
		rc = mdb_txn_begin(s->env, NULL, flags, out);
		if (rc != MDB_MAP_RESIZED)
			break;
		/* Another process grew the map and used it: adopt its size. */
		pthread_rwlock_unlock(&s->map_lock);
		pthread_rwlock_wrlock(&s->map_lock);
		rc = mdb_env_set_mapsize(s->env, 0);
		pthread_rwlock_unlock(&s->map_lock);
		if (rc != MDB_SUCCESS)
			return store_err_from_mdb(rc);
		hx_log_info("store: adopted a map grown by another process");
	}
	if (rc != MDB_SUCCESS) {
		pthread_rwlock_unlock(&s->map_lock);
		return store_err_from_mdb(rc);
	}
	return HX_OK;
}

/* End a top-level transaction begun with store_txn_begin_raw(). With commit, *rc gets the
 * commit's result. */
void store_txn_end_raw(struct store *s, MDB_txn *txn, int commit, int *rc)
{
	if (commit) {
		int r = mdb_txn_commit(txn);
		if (rc != NULL)
			*rc = store_err_from_mdb(r);
	} else {
		mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->map_lock);
}

static atomic_uint_fast64_t store_ids;
static __thread uint64_t tl_store_id;
static __thread struct store_txn *tl_txn;

/* Renew a thread's kept read transaction under the map lock. */
static int txn_renew(struct store *s, struct store_txn *t)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int r;
		pthread_rwlock_rdlock(&s->map_lock);
		r = mdb_txn_renew(t->txn);
		if (r == MDB_SUCCESS)
			return HX_OK;
		pthread_rwlock_unlock(&s->map_lock);
		if (r != MDB_MAP_RESIZED)
			return store_err_from_mdb(r);
		pthread_rwlock_wrlock(&s->map_lock);
		r = mdb_env_set_mapsize(s->env, 0);
		pthread_rwlock_unlock(&s->map_lock);
		if (r != MDB_SUCCESS)
			return store_err_from_mdb(r);
	}
	return HX_EBUSY;
}

int store_read_begin(struct store *s, struct store_txn **out)
{
	struct store_txn *t;
	int rc;

	if (tl_txn != NULL && tl_store_id == s->id && !tl_txn->in_use) {
		t = tl_txn;
		if ((rc = txn_renew(s, t)) != HX_OK)
			return rc;
		t->in_use = 1;
		*out = t;
		return HX_OK;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return HX_ENOMEM;
	rc = store_txn_begin_raw(s, NULL, MDB_RDONLY, &t->txn);
	if (rc != HX_OK) {
		free(t);
		return rc;
	}
	t->s = s;
	t->in_use = 1;
	/* Keep it for this thread's next read, unless the thread already keeps one. */
	if (tl_store_id != s->id) {
		t->cached = 1;
		pthread_mutex_lock(&s->cache_lock);
		t->next_cached = s->cached;
		s->cached = t;
		pthread_mutex_unlock(&s->cache_lock);
		tl_store_id = s->id;
		tl_txn = t;
	}
	*out = t;
	return HX_OK;
}

void store_read_end(struct store_txn *t)
{
	if (t == NULL)
		return;
	if (t->cached) {
		mdb_txn_reset(t->txn);
		t->in_use = 0;
		pthread_rwlock_unlock(&t->s->map_lock);
		return;
	}
	store_txn_end_raw(t->s, t->txn, 0, NULL);
	free(t);
}

/* Abort every kept read transaction (store_close). */
static void read_cache_clear(struct store *s)
{
	struct store_txn *t = s->cached, *next;
	for (; t != NULL; t = next) {
		next = t->next_cached;
		mdb_txn_abort(t->txn);
		free(t);
	}
	s->cached = NULL;
}

struct store *store_txn_store(struct store_txn *t)
{
	return t->s;
}

const char *store_org_id(const struct store *s)
{
	return s->org_id;
}

const char *store_path(const struct store *s)
{
	return s->path;
}

int store_unpack(enum proto_kind kind, const MDB_val *v, void **out)
{
	int rc = proto_unpack(kind, v->mv_data, v->mv_size, out);
	if (rc == HX_EPARSE) {
		hx_log_err("store: a stored %s record does not parse", proto_kind_name(kind));
		return HX_ECORRUPT;
	}
	return rc;
}

int store_pack(const void *msg, uint8_t **out, size_t *len)
{
	size_t n = proto_packed_size(msg);
	uint8_t *p = malloc(n != 0 ? n : 1);
	if (p == NULL)
		return HX_ENOMEM;
	proto_pack_to(msg, p);
	*out = p;
	*len = n;
	return HX_OK;
}

/* ---- open ------------------------------------------------------------------------------- */

#define ERR(code, ...) \
	do { \
		snprintf(err, errlen, __VA_ARGS__); \
		rc = (code); \
		goto fail; \
	} while (0)

/* Refuse an environment whose main database holds anything but our sub-databases. */
static int check_foreign(MDB_txn *txn, MDB_dbi main_dbi, int *foreign)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, main_dbi, &c);

	*foreign = 0;
	if (rc != MDB_SUCCESS)
		return store_err_from_mdb(rc);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		int ours = 0;
		for (int i = 0; i < DB_COUNT; i++)
			if (k.mv_size == strlen(db_table[i].name) &&
			    memcmp(k.mv_data, db_table[i].name, k.mv_size) == 0)
				ours = 1;
		if (!ours)
			*foreign = 1;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? HX_OK : store_err_from_mdb(rc);
}

static int open_dbs(struct store *s, MDB_txn *txn, int create, char *err, size_t errlen)
{
	int rc;
	for (int i = 0; i < DB_COUNT; i++) {
		unsigned flags = db_table[i].flags | (create ? MDB_CREATE : 0);
		int r = mdb_dbi_open(txn, db_table[i].name, flags, &s->dbi[i]);
		if (r == MDB_NOTFOUND)
			ERR(HX_ECORRUPT, "store %s: sub-database '%s' is missing (damaged store?)",
			    s->path, db_table[i].name);
		if (r == MDB_INCOMPATIBLE)
			ERR(HX_ECORRUPT, "store %s: sub-database '%s' has the wrong flags", s->path,
			    db_table[i].name);
		if (r != MDB_SUCCESS)
			ERR(store_err_from_mdb(r), "store %s: cannot open '%s': %s", s->path,
			    db_table[i].name, mdb_strerror(r));
	}
	return HX_OK;
fail:
	return rc;
}

/* Read and check schema version and org id from meta. */
static int check_meta(struct store *s, MDB_txn *txn, char *err, size_t errlen)
{
	struct store_txn t = {.s = s, .txn = txn};
	MDB_val v;
	uint32_t version;
	int rc;

	rc = store_meta_get_raw(&t, "magic", &v);
	if (rc != HX_OK || v.mv_size != 7 || memcmp(v.mv_data, "hiepeer", 7) != 0)
		ERR(HX_ECORRUPT, "store %s: not a hiepeer store (no hiepeer marker in meta)",
		    s->path);
	rc = store_meta_get_raw(&t, "schema", &v);
	if (rc != HX_OK || v.mv_size != 4)
		ERR(HX_ECORRUPT, "store %s: schema version missing from meta", s->path);
	version = (uint32_t)((const uint8_t *)v.mv_data)[0] << 24 |
	          (uint32_t)((const uint8_t *)v.mv_data)[1] << 16 |
	          (uint32_t)((const uint8_t *)v.mv_data)[2] << 8 | ((const uint8_t *)v.mv_data)[3];
	if (version > STORE_SCHEMA_VERSION)
		ERR(HX_EVERSION,
		    "store %s: schema version %u is newer than this program's %u; upgrade hiepeer",
		    s->path, version, STORE_SCHEMA_VERSION);
	if (version == 0)
		ERR(HX_ECORRUPT, "store %s: schema version 0 is invalid", s->path);
	rc = store_meta_get_raw(&t, "org_id", &v);
	if (rc != HX_OK || v.mv_size == 0 || v.mv_size > PROTO_ORG_ID_MAX)
		ERR(HX_ECORRUPT, "store %s: organisation id missing from meta", s->path);
	memcpy(s->org_id, v.mv_data, v.mv_size);
	s->org_id[v.mv_size] = '\0';
	if (proto_id_org_check(s->org_id) != HX_OK)
		ERR(HX_ECORRUPT, "store %s: organisation id in meta is not an OID", s->path);
	return HX_OK;
fail:
	return rc;
}

static int prepare_dir(const char *path, const struct store_opts *o, char *err, size_t errlen)
{
	struct stat st;
	char data[4096];
	int rc;

	if (strlen(path) + 16 > sizeof(data))
		ERR(HX_EINVAL, "store path too long");
	if (o->create && mkdir(path, 0700) != 0 && errno != EEXIST)
		ERR(errno == EACCES ? HX_EPERM : HX_EIO, "store %s: cannot create directory: %s",
		    path, strerror(errno));
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			ERR(HX_ENOTFOUND, "no store at %s (create one with 'hiepeerctl init')", path);
		ERR(HX_EPERM, "store %s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		ERR(HX_EINVAL, "store %s: not a directory", path);
	if (access(path, R_OK | X_OK | (o->read_only ? 0 : W_OK)) != 0)
		ERR(HX_EPERM, "store %s: directory is not %s by this user", path,
		    o->read_only ? "readable" : "writable");
	snprintf(data, sizeof(data), "%s/data.mdb", path);
	if (stat(data, &st) == 0) {
		if (access(data, R_OK | (o->read_only ? 0 : W_OK)) != 0)
			ERR(HX_EPERM, "store %s: data.mdb is not %s by this user", path,
			    o->read_only ? "readable" : "writable");
		if (st.st_size > 0 && st.st_size < 8192)
			ERR(HX_ECORRUPT, "store %s: data.mdb is truncated (%lld bytes)", path,
			    (long long)st.st_size);
	} else if (!o->create) {
		ERR(HX_ENOTFOUND, "no store at %s (create one with 'hiepeerctl init')", path);
	}
	return HX_OK;
fail:
	return rc;
}

int store_open(const char *path, const struct store_opts *opts, struct store **out, char *err,
               size_t errlen)
{
	static const struct store_opts defaults;
	const struct store_opts *o = opts != NULL ? opts : &defaults;
	struct store *s = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi main_dbi;
	char dummy[STORE_ERR_MAX];
	int rc, r, dead = 0, fresh = 0;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (o->create && (o->read_only || o->org_id == NULL || proto_id_org_check(o->org_id) != HX_OK))
		ERR(HX_EINVAL, "a new store needs a valid organisation OID (e.g. 2.16.840.1.113883.3.7001)");
	if ((rc = prepare_dir(path, o, err, errlen)) != HX_OK)
		return rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL)
		ERR(HX_ENOMEM, "out of memory");
	s->read_only = o->read_only;
	s->batch_max = o->batch_max != 0 ? o->batch_max : 4096;
	{
		pthread_rwlockattr_t attr;
		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&s->map_lock, &attr);
		pthread_rwlockattr_destroy(&attr);
	}
	pthread_mutex_init(&s->qlock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	s->id = atomic_fetch_add(&store_ids, 1) + 1;
	pthread_cond_init(&s->qcond, NULL);
	pthread_cond_init(&s->donecond, NULL);

	if ((r = mdb_env_create(&s->env)) != MDB_SUCCESS)
		ERR(store_err_from_mdb(r), "store %s: %s", path, mdb_strerror(r));
	mdb_env_set_maxdbs(s->env, DB_COUNT + 2);
	mdb_env_set_maxreaders(s->env, o->max_readers != 0 ? o->max_readers : 256);
	if (o->map_size != 0)
		mdb_env_set_mapsize(s->env, (size_t)o->map_size);
	else if (o->create)
		mdb_env_set_mapsize(s->env, (size_t)STORE_MAP_SIZE_DEFAULT);
	r = mdb_env_open(s->env, path, MDB_NOTLS | (o->read_only ? MDB_RDONLY : 0), 0600);
	if (r == MDB_INVALID || r == MDB_VERSION_MISMATCH || r == MDB_CORRUPTED)
		ERR(HX_ECORRUPT, "store %s: data.mdb is not a usable LMDB file (%s)", path,
		    mdb_strerror(r));
	if (r != MDB_SUCCESS)
		ERR(store_err_from_mdb(r), "store %s: cannot open: %s", path, mdb_strerror(r));
	if (o->map_size == 0 && !o->create)
		mdb_env_set_mapsize(s->env, 0); /* adopt the size recorded in the store */
	if (!o->read_only) {
		mdb_reader_check(s->env, &dead);
		if (dead > 0)
			hx_log_notice("store: cleared %d reader slot(s) left by dead processes", dead);
	}

	if ((rc = store_txn_begin_raw(s, NULL, o->create ? 0 : MDB_RDONLY, &txn)) != HX_OK)
		ERR(rc, "store %s: cannot begin a transaction: %s", path, hx_strerror(rc));
	if ((r = mdb_dbi_open(txn, NULL, 0, &main_dbi)) != MDB_SUCCESS)
		ERR(store_err_from_mdb(r), "store %s: %s", path, mdb_strerror(r));
	{
		MDB_dbi meta;
		int foreign;
		r = mdb_dbi_open(txn, "meta", 0, &meta);
		if (r == MDB_NOTFOUND) {
			if ((rc = check_foreign(txn, main_dbi, &foreign)) != HX_OK)
				ERR(rc, "store %s: cannot read: %s", path, hx_strerror(rc));
			if (foreign || !o->create)
				ERR(HX_ECORRUPT, "store %s: a foreign LMDB environment, not a hiepeer store",
				    path);
			fresh = 1;
		} else if (r != MDB_SUCCESS) {
			ERR(HX_ECORRUPT, "store %s: cannot read meta: %s", path, mdb_strerror(r));
		} else if (o->create) {
			ERR(HX_EEXIST, "store %s: already initialised", path);
		}
	}
	if ((rc = open_dbs(s, txn, fresh, err, errlen)) != HX_OK)
		goto fail;
	if (fresh) {
		struct store_txn t = {.s = s, .txn = txn, .write = 1};
		Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
		ev.time = hx_time_now_ms();
		ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_STORE_INIT;
		ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
		ev.actor_org = (char *)o->org_id;
		ev.detail = "store created";
		if ((rc = store_meta_init(&t, o->org_id)) != HX_OK ||
		    (rc = store_audit_append(&t, &ev, NULL)) != HX_OK)
			ERR(rc, "store %s: cannot initialise: %s", path, hx_strerror(rc));
	}
	if ((rc = check_meta(s, txn, err, errlen)) != HX_OK)
		goto fail;
	store_txn_end_raw(s, txn, 1, &rc);
	txn = NULL;
	if (rc != HX_OK)
		ERR(rc, "store %s: cannot commit: %s", path, hx_strerror(rc));

	store_quota_update(s);
	if (!o->read_only && (rc = store_writer_start(s)) != HX_OK)
		ERR(rc, "store %s: cannot start the writer thread", path);
	*out = s;
	return HX_OK;
fail:
	if (txn != NULL)
		store_txn_end_raw(s, txn, 0, NULL);
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_writer_stop(s);
	read_cache_clear(s);
	if (s->env != NULL)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->map_lock);
	pthread_mutex_destroy(&s->qlock);
	pthread_mutex_destroy(&s->cache_lock);
	pthread_cond_destroy(&s->qcond);
	pthread_cond_destroy(&s->donecond);
	free(s->path);
	free(s);
}

static int count_db(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
	MDB_stat st;
	int r = mdb_stat(txn, dbi, &st);
	if (r != MDB_SUCCESS)
		return store_err_from_mdb(r);
	*out = st.ms_entries;
	return HX_OK;
}

uint64_t store_patient_count(struct store_txn *t)
{
	uint64_t n = 0;
	if (count_db(t->txn, t->s->dbi[DB_PATIENTS], &n) != HX_OK)
		return 0;
	return n;
}

int store_stat_get(struct store *s, struct store_stat *out)
{
	struct store_stat st = {0};
	struct store_txn *t;
	MDB_envinfo info;
	MDB_stat est;
	MDB_val v;
	int rc;

	if ((rc = store_read_begin(s, &t)) != HX_OK)
		return rc;
	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &est);
	st.map_size = info.me_mapsize;
	st.page_size = est.ms_psize;
	st.used = (uint64_t)(info.me_last_pgno + 1) * est.ms_psize;
	if ((rc = count_db(t->txn, s->dbi[DB_PATIENTS], &st.patients)) != HX_OK ||
	    (rc = count_db(t->txn, s->dbi[DB_DOCS], &st.documents)) != HX_OK ||
	    (rc = count_db(t->txn, s->dbi[DB_PEERS], &st.peers)) != HX_OK ||
	    (rc = count_db(t->txn, s->dbi[DB_AUDIT], &st.audit_records)) != HX_OK ||
	    (rc = count_db(t->txn, s->dbi[DB_BLOCKS], &st.block_keys)) != HX_OK)
		goto out;
	if (store_meta_get_raw(t, "schema", &v) == HX_OK && v.mv_size == 4) {
		const uint8_t *p = v.mv_data;
		st.schema_version = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		                    (uint32_t)p[2] << 8 | p[3];
	}
	st.commits = atomic_load(&s->commits);
	st.writes = atomic_load(&s->writes);
	*out = st;
out:
	store_read_end(t);
	return rc;
}

/* ---- space quota ------------------------------------------------------------------------ */

#define QUOTA_RESERVE_MIN (256u * 1024u)

int store_quota_check(struct store_txn *t)
{
	if (!atomic_load(&t->s->over_quota))
		return HX_OK;
	t->quota_refused = 1;
	return HX_ESPACE;
}

/* Pages on LMDB's free list (the FREE_DBI, dbi 0: txn id → list of page numbers). */
static int free_pages(MDB_txn *txn, uint64_t *out)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t n = 0;
	int r = mdb_cursor_open(txn, 0, &c);
	if (r != MDB_SUCCESS)
		return store_err_from_mdb(r);
	while ((r = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == MDB_SUCCESS)
		if (v.mv_size >= sizeof(size_t))
			n += *(const size_t *)v.mv_data;
	mdb_cursor_close(c);
	*out = n;
	return r == MDB_NOTFOUND ? HX_OK : store_err_from_mdb(r);
}

void store_quota_update(struct store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	MDB_txn *txn;
	uint64_t reserve, used, nfree = 0;
	int over = 0;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	reserve = info.me_mapsize / 16 > QUOTA_RESERVE_MIN ? info.me_mapsize / 16 : QUOTA_RESERVE_MIN;
	s->soft_limit = info.me_mapsize > reserve ? info.me_mapsize - reserve : 0;
	used = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	/* Only near the limit is it worth counting the free list. */
	if (used > s->soft_limit && store_txn_begin_raw(s, NULL, MDB_RDONLY, &txn) == HX_OK) {
		if (free_pages(txn, &nfree) != HX_OK)
			nfree = 0;
		store_txn_end_raw(s, txn, 0, NULL);
		used -= nfree * st.ms_psize < used ? nfree * st.ms_psize : used;
		over = used > s->soft_limit;
	}
	if (over != atomic_exchange(&s->over_quota, over)) {
		if (over)
			hx_log_warn("store: %llu of %zu bytes in use: over the quota, new patients and "
			            "documents are refused until space is freed or the map grown",
			            (unsigned long long)used, info.me_mapsize);
		else
			hx_log_notice("store: back under the space quota");
	}
}
