/* store_writer.c: group commit. One writer thread batches every write into one transaction. */
#include "store_internal.h"

#include <time.h>

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

struct store_op {
	store_write_fn fn;
	store_done_fn done; /* NULL: a synchronous submitter waits on donecond */
	void *arg;
	int rc;
	int finished;       /* synchronous ops: set under qlock when rc is final */
	int lazy;           /* may wait up to STORE_LAZY_MS for company (store_write_lazy) */
	int64_t queued_ms;  /* CLOCK_MONOTONIC, when enqueued */
	struct store_op *next;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the writer should take a batch now: something eager is queued, enough lazy ops
 * have gathered, the oldest lazy one has waited long enough, or the store is closing. Sets
 * *wait_ms to how long to sleep otherwise. Called with qlock held and qhead != NULL. */
static int batch_due(struct store *s, int64_t *wait_ms)
{
	int64_t age;
	if (s->qeager > 0 || s->qcount >= STORE_LAZY_BATCH || s->stopping)
		return 1;
	age = mono_ms() - s->qhead->queued_ms;
	if (age >= STORE_LAZY_MS)
		return 1;
	*wait_ms = STORE_LAZY_MS - age;
	return 0;
}

/* Run every op of the batch in `txn`. Returns HX_OK when all succeeded, else the index of
 * the first failure in *failed and its error. */
static int run_direct(struct store *s, MDB_txn *txn, struct store_op *ops, struct store_op **failed)
{
	struct store_txn t = {.s = s, .txn = txn, .write = 1};
	for (struct store_op *op = ops; op != NULL; op = op->next) {
		op->rc = op->fn(&t, op->arg);
		if (op->rc != HX_OK) {
			*failed = op;
			/* A quota refusal is the op's own failure; a real MAP_FULL ends the batch. */
			return op->rc == HX_ESPACE && t.quota_refused ? HX_EDENIED : op->rc;
		}
	}
	return HX_OK;
}

/* Run each op in its own nested transaction, so a failing op leaves no trace. Returns
 * HX_ESPACE (or another batch-fatal error) if the batch as a whole cannot go on. */
static int run_nested(struct store *s, MDB_txn *txn, struct store_op *ops)
{
	for (struct store_op *op = ops; op != NULL; op = op->next) {
		struct store_txn t = {.s = s, .write = 1};
		int rc = store_txn_begin_raw(s, txn, 0, &t.txn);
		if (rc != HX_OK)
			return rc;
		op->rc = op->fn(&t, op->arg);
		if (op->rc == HX_OK) {
			op->rc = store_err_from_mdb(mdb_txn_commit(t.txn));
		} else {
			mdb_txn_abort(t.txn);
		}
		if (op->rc == HX_ESPACE && !t.quota_refused)
			return HX_ESPACE;
	}
	return HX_OK;
}

/* Adopt a map grown by another process (its size is in the shared meta page). Returns 1 if
 * the map is now larger. Called with no transaction open. */
static int adopt_grown_map(struct store *s)
{
	MDB_envinfo before, after;

	pthread_rwlock_wrlock(&s->map_lock);
	mdb_env_info(s->env, &before);
	mdb_env_set_mapsize(s->env, 0);
	mdb_env_info(s->env, &after);
	pthread_rwlock_unlock(&s->map_lock);
	if (after.me_mapsize > before.me_mapsize) {
		hx_log_info("store: map grown by another process to %zu bytes", after.me_mapsize);
		return 1;
	}
	return 0;
}

/* LMDB reports a short write (a full disk) as EIO. Tell the two apart by looking at the
 * filesystem: an I/O error while it has (almost) no room left is HX_ESPACE. */
static int classify_commit_error(struct store *s, int rc)
{
	struct statvfs fs;
	if (rc != HX_EIO || statvfs(s->path, &fs) != 0)
		return rc;
	if ((uint64_t)fs.f_bavail * fs.f_frsize < (16u << 20)) {
		hx_log_err("store: the disk holding the store is full (%llu bytes free)",
		           (unsigned long long)fs.f_bavail * fs.f_frsize);
		return HX_ESPACE;
	}
	return rc;
}

static void set_all(struct store_op *ops, int rc, int only_ok)
{
	for (struct store_op *op = ops; op != NULL; op = op->next)
		if (!only_ok || op->rc == HX_OK)
			op->rc = rc;
}

static int count_ok(struct store_op *ops)
{
	int n = 0;
	for (struct store_op *op = ops; op != NULL; op = op->next)
		n += op->rc == HX_OK;
	return n;
}

static void run_batch(struct store *s, struct store_op *ops)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct store_op *failed = NULL;
		MDB_txn *txn;
		int rc = store_txn_begin_raw(s, NULL, 0, &txn);

		if (rc != HX_OK) {
			set_all(ops, rc, 0);
			return;
		}
		rc = run_direct(s, txn, ops, &failed);
		if (rc != HX_OK && rc != HX_ESPACE) {
			/* One op failed: redo the batch with each op isolated. */
			store_txn_end_raw(s, txn, 0, NULL);
			if ((rc = store_txn_begin_raw(s, NULL, 0, &txn)) != HX_OK) {
				set_all(ops, rc, 0);
				return;
			}
			rc = run_nested(s, txn, ops);
		}
		if (rc == HX_OK) {
			store_txn_end_raw(s, txn, 1, &rc);
			if (rc == HX_OK) {
				store_quota_update(s);
				atomic_fetch_add(&s->commits, 1);
				atomic_fetch_add(&s->writes, (uint64_t)count_ok(ops));
				return;
			}
			/* A failed commit (full disk, I/O error) fails every member that had
			 * succeeded; growing the map would not help. */
			set_all(ops, classify_commit_error(s, rc), 1);
			return;
		} else {
			store_txn_end_raw(s, txn, 0, NULL);
		}
		if (rc != HX_ESPACE) {
			set_all(ops, rc, 1);
			return;
		}
		/* Map full. If another process grew the map, adopt it and try once more. */
		if (attempt == 0 && adopt_grown_map(s))
			continue;
		hx_log_warn("store: map is full; a batch of writes failed (grow the map or free space)");
		set_all(ops, HX_ESPACE, 0);
		return;
	}
}

/* Serve a store_map_grow() request. No transaction is open in this thread. */
static int grow_map(struct store *s, uint64_t size)
{
	MDB_envinfo info;
	MDB_txn *txn;
	uint8_t be[8];
	int r, rc;

	pthread_rwlock_wrlock(&s->map_lock);
	mdb_env_info(s->env, &info);
	if (size < info.me_mapsize) {
		pthread_rwlock_unlock(&s->map_lock);
		return HX_EINVAL;
	}
	r = mdb_env_set_mapsize(s->env, (size_t)size);
	pthread_rwlock_unlock(&s->map_lock);
	if (r != MDB_SUCCESS)
		return store_err_from_mdb(r);
	/* A commit persists the new size for other processes. */
	if ((rc = store_txn_begin_raw(s, NULL, 0, &txn)) != HX_OK)
		return rc;
	store_be64_put(be, size);
	{
		struct store_txn t = {.s = s, .txn = txn, .write = 1};
		rc = store_meta_put_raw(&t, "map_size", be, sizeof(be));
	}
	if (rc != HX_OK) {
		store_txn_end_raw(s, txn, 0, NULL);
		return rc;
	}
	store_txn_end_raw(s, txn, 1, &rc);
	store_quota_update(s);
	if (rc == HX_OK)
		hx_log_notice("store: map grown to %llu bytes", (unsigned long long)size);
	return rc;
}

static void *writer_main(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->qlock);
	for (;;) {
		struct store_op *batch, *last, *op, *next;
		unsigned n;

		for (;;) {
			int64_t wait_ms = 0;
			if (s->grow_to != 0 || (s->qhead == NULL && s->stopping))
				break;
			if (s->qhead == NULL) {
				pthread_cond_wait(&s->qcond, &s->qlock);
				continue;
			}
			if (batch_due(s, &wait_ms))
				break;
			{ /* only lazy ops: let them gather a little longer */
				struct timespec until;
				clock_gettime(CLOCK_REALTIME, &until);
				until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
				until.tv_sec += (time_t)(wait_ms / 1000) + until.tv_nsec / 1000000000L;
				until.tv_nsec %= 1000000000L;
				pthread_cond_timedwait(&s->qcond, &s->qlock, &until);
			}
		}
		if (s->grow_to != 0) {
			uint64_t size = s->grow_to;
			pthread_mutex_unlock(&s->qlock);
			int rc = grow_map(s, size);
			pthread_mutex_lock(&s->qlock);
			s->grow_to = 0;
			s->grow_rc = rc;
			s->grow_serial++;
			pthread_cond_broadcast(&s->donecond);
			continue;
		}
		if (s->qhead == NULL)
			break; /* stopping and drained */
		batch = last = s->qhead;
		s->qeager -= !last->lazy;
		for (n = 1; n < s->batch_max && last->next != NULL; n++) {
			last = last->next;
			s->qeager -= !last->lazy;
		}
		s->qcount -= n;
		s->qhead = last->next;
		if (s->qhead == NULL)
			s->qtail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->qlock);

		run_batch(s, batch);

		/* Tell asynchronous submitters (outside the lock) and free their ops; keep the
		 * synchronous ones, whose ops live on their submitters' stacks. */
		struct store_op *sync_ops = NULL;
		for (op = batch; op != NULL; op = next) {
			next = op->next;
			if (op->done != NULL) {
				op->done(op->rc, op->arg);
				free(op);
			} else {
				op->next = sync_ops;
				sync_ops = op;
			}
		}
		pthread_mutex_lock(&s->qlock);
		for (op = sync_ops; op != NULL; op = next) {
			next = op->next; /* read before finished: the submitter may then return */
			op->finished = 1;
		}
		pthread_cond_broadcast(&s->donecond);
	}
	pthread_mutex_unlock(&s->qlock);
	return NULL;
}

int store_writer_start(struct store *s)
{
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
		return HX_ENOMEM;
	pthread_setname_np(s->writer, "hx-writer");
	s->writer_started = 1;
	return HX_OK;
}

void store_writer_stop(struct store *s)
{
	if (!s->writer_started)
		return;
	pthread_mutex_lock(&s->qlock);
	s->stopping = 1;
	pthread_cond_signal(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	pthread_join(s->writer, NULL);
	s->writer_started = 0;
}

/* Append op to the queue; the caller holds qlock. */
static int enqueue_locked(struct store *s, struct store_op *op)
{
	if (s->stopping || !s->writer_started)
		return s->read_only ? HX_EDENIED : HX_ECLOSED;
	op->next = NULL;
	op->queued_ms = mono_ms();
	if (s->qtail != NULL)
		s->qtail->next = op;
	else
		s->qhead = op;
	s->qtail = op;
	s->qcount++;
	s->qeager += !op->lazy;
	/* A lazy op wakes the writer only when it is the first (the writer then sleeps until
	 * the op is due) or completes a batch. */
	if (!op->lazy || s->qcount == 1 || s->qcount == STORE_LAZY_BATCH)
		pthread_cond_signal(&s->qcond);
	return HX_OK;
}

int store_write(struct store *s, store_write_fn fn, void *arg)
{
	struct store_op op = {.fn = fn, .arg = arg};
	int rc;

	if (s->read_only)
		return HX_EDENIED;
	if (pthread_equal(pthread_self(), s->writer))
		return HX_EINVAL; /* would wait for itself */
	pthread_mutex_lock(&s->qlock);
	rc = enqueue_locked(s, &op);
	if (rc == HX_OK) {
		/* op is on the batch's list until finished is set: do not return before. */
		while (!op.finished)
			pthread_cond_wait(&s->donecond, &s->qlock);
		rc = op.rc;
	}
	pthread_mutex_unlock(&s->qlock);
	return rc;
}

static int submit(struct store *s, store_write_fn fn, store_done_fn done, void *arg, int lazy)
{
	struct store_op *op;
	int rc;

	if (s->read_only)
		return HX_EDENIED;
	if (done == NULL)
		return HX_EINVAL;
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return HX_ENOMEM;
	op->fn = fn;
	op->done = done;
	op->arg = arg;
	op->lazy = lazy;
	pthread_mutex_lock(&s->qlock);
	rc = enqueue_locked(s, op);
	pthread_mutex_unlock(&s->qlock);
	if (rc != HX_OK)
		free(op);
	return rc;
}

int store_write_submit(struct store *s, store_write_fn fn, store_done_fn done, void *arg)
{
	return submit(s, fn, done, arg, 0);
}

int store_write_lazy(struct store *s, store_write_fn fn, store_done_fn done, void *arg)
{
	return submit(s, fn, done, arg, 1);
}

int store_map_grow(struct store *s, uint64_t size)
{
	uint64_t serial;
	int rc;

	if (s->read_only)
		return HX_EDENIED;
	pthread_mutex_lock(&s->qlock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->qlock);
		return HX_ECLOSED;
	}
	while (s->grow_to != 0) /* one request at a time */
		pthread_cond_wait(&s->donecond, &s->qlock);
	serial = s->grow_serial;
	s->grow_to = size;
	pthread_cond_signal(&s->qcond);
	while (s->grow_serial == serial)
		pthread_cond_wait(&s->donecond, &s->qlock);
	rc = s->grow_rc;
	pthread_mutex_unlock(&s->qlock);
	return rc;
}
