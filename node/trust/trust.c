/* trust.c: the daemon's trust state, rebuilt aside and swapped on a trust-generation change. */
#include "trust.h"

#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trust_entry {
	uint8_t fp[CRYPTO_SHA256_LEN];
	struct trust_peer peer;
};

struct org_entry {
	uint32_t hash;                    /* hx_hash_str(id) */
	char id[PROTO_ORG_ID_MAX + 1];    /* "" = an empty slot */
};

struct trust_table {
	uint64_t gen;
	size_t n, cap;
	struct trust_entry *e; /* sorted by fingerprint */
	size_t orgs_cap;         /* a power of two, at least twice the organisations */
	struct org_entry *orgs;  /* the active peers' organisations: an open-addressing set */
};

/* What a file looked like when last read: a change to any of these rebuilds. */
struct file_stamp {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct trust {
	struct store *store;
	struct trust_files files;
	struct file_stamp stamps[4]; /* cert, key, ca, crl */
	char problem[256];
	int64_t problem_since;
	uint64_t changes;
	pthread_rwlock_t lock;        /* guards table and server */
	pthread_mutex_t refresh_lock; /* one rebuild at a time */
	struct trust_table *table;
	struct crypto_tls_server *server;
	struct crypto_tls_client *client; /* our identity for calls to peers, from the same files */
	uint64_t gen;
	int64_t last_check_ms;
};

static void stamp_take(const char *path, struct file_stamp *st)
{
	struct stat sb;
	memset(st, 0, sizeof(*st));
	if (path == NULL || stat(path, &sb) != 0)
		return;
	st->exists = 1;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
}

static const char *const file_names[4] = {"certificate", "key", "CA bundle", "CRL"};

/* Take stamps of the four files; returns a bit mask (1 << index) of those that differ from
 * what is in t. */
static unsigned stamps_changed(struct trust *t, struct file_stamp now[4])
{
	const char *paths[4] = {t->files.cert_file, t->files.key_file, t->files.ca_file,
	                        t->files.crl_file};
	unsigned changed = 0;
	for (int i = 0; i < 4; i++) {
		stamp_take(paths[i], &now[i]);
		if (now[i].exists != t->stamps[i].exists || now[i].ino != t->stamps[i].ino ||
		    now[i].dev != t->stamps[i].dev || now[i].size != t->stamps[i].size ||
		    now[i].mtime.tv_sec != t->stamps[i].mtime.tv_sec ||
		    now[i].mtime.tv_nsec != t->stamps[i].mtime.tv_nsec)
			changed |= 1u << i;
	}
	return changed;
}

/* Whether any file of the mask was modified less than SETTLE_MS ago: an administrator may
 * be halfway through replacing a key and its certificate (or a CA bundle with them). A CRL
 * stands alone: a bad one is reported at once. */
#define SETTLE_MS 2000
static int stamps_fresh(const struct file_stamp now[4], unsigned mask)
{
	int64_t t = hx_time_now_ms();
	for (int i = 0; i < 4; i++) {
		int64_t m = (int64_t)now[i].mtime.tv_sec * 1000 + now[i].mtime.tv_nsec / 1000000;
		if ((mask & (1u << i)) && now[i].exists && t - m < SETTLE_MS)
			return 1;
	}
	return 0;
}

/* ---- audit of file changes ----------------------------------------------------------------
 * A change to the TLS files is made outside the store (an editor, a deployment tool, `cert
 * install`), so the daemon records when it adopted one, or why it did not: which files, and
 * the old and new fingerprints of our certificate. The record goes through group commit
 * without waiting (the caller is a worker's event loop). */
struct file_audit {
	Hie__V1__AuditEvent ev;
	uint8_t old_fp[CRYPTO_SHA256_LEN], new_fp[CRYPTO_SHA256_LEN];
	char detail[200];
};

static int w_file_audit(struct store_txn *txn, void *arg)
{
	return store_audit_append(txn, &((struct file_audit *)arg)->ev, NULL);
}

static void file_audit_done(int rc, void *arg)
{
	if (rc != HX_OK)
		hx_log_err("trust: cannot write the audit record of a TLS file change: %s",
		           hx_strerror(rc));
	free(arg);
}

static void file_audit(struct trust *t, unsigned mask, const struct crypto_tls_server *old_srv,
                       const struct crypto_tls_server *new_srv, const char *problem)
{
	struct file_audit *a = calloc(1, sizeof(*a));
	size_t o;
	if (a == NULL)
		return;
	hie__v1__audit_event__init(&a->ev);
	a->ev.time = hx_time_now_ms();
	a->ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_TRUST_CHANGE;
	a->ev.outcome = problem == NULL ? HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS
	                                : HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_FAILED;
	a->ev.actor_org = (char *)store_org_id(t->store);
	a->ev.actor_user = (char *)"hiepeerd";
	o = (size_t)snprintf(a->detail, sizeof(a->detail), "TLS files changed:");
	for (int i = 0; i < 4 && o < sizeof(a->detail); i++)
		if (mask & (1u << i))
			o += (size_t)snprintf(a->detail + o, sizeof(a->detail) - o, " %s",
			                      file_names[i]);
	if (o < sizeof(a->detail))
		snprintf(a->detail + o, sizeof(a->detail) - o, problem == NULL ? "; adopted"
		         : "; not adopted, still serving the previous state: %s", problem);
	a->ev.detail = a->detail;
	if (old_srv != NULL) {
		crypto_tls_server_cert_fingerprint(old_srv, a->old_fp);
		a->ev.old_fingerprint.data = a->old_fp;
		a->ev.old_fingerprint.len = CRYPTO_SHA256_LEN;
	}
	if (new_srv != NULL) {
		crypto_tls_server_cert_fingerprint(new_srv, a->new_fp);
		a->ev.new_fingerprint.data = a->new_fp;
		a->ev.new_fingerprint.len = CRYPTO_SHA256_LEN;
	}
	if (store_write_submit(t->store, w_file_audit, file_audit_done, a) != HX_OK)
		free(a);
}

static void table_free(struct trust_table *tb)
{
	if (tb == NULL)
		return;
	free(tb->e);
	free(tb->orgs);
	free(tb);
}

static int table_add(struct trust_table *tb, const uint8_t *fp, const Hie__V1__Peer *p)
{
	struct trust_entry *e;
	if (tb->n == tb->cap) {
		size_t cap = tb->cap != 0 ? tb->cap * 2 : 16;
		e = realloc(tb->e, cap * sizeof(*e));
		if (e == NULL)
			return HX_ENOMEM;
		tb->e = e;
		tb->cap = cap;
	}
	e = &tb->e[tb->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->fp, fp, CRYPTO_SHA256_LEN);
	hx_strlcpy(e->peer.org_id, p->org_id, sizeof(e->peer.org_id));
	e->peer.status = p->status;
	e->peer.roles = 0;
	for (size_t i = 0; i < p->n_roles; i++)
		if ((unsigned)p->roles[i] < 32) /* an unknown role grants nothing */
			e->peer.roles |= 1u << p->roles[i];
	return HX_OK;
}

static int peer_cb(const Hie__V1__Peer *p, void *arg)
{
	struct trust_table *tb = arg;
	if (p->fingerprint.len == CRYPTO_SHA256_LEN && table_add(tb, p->fingerprint.data, p) != HX_OK)
		return 1;
	if (p->next_fingerprint.len == CRYPTO_SHA256_LEN &&
	    table_add(tb, p->next_fingerprint.data, p) != HX_OK)
		return 1;
	return 0;
}

static int client_cb(const Hie__V1__LocalClient *c, void *arg)
{
	struct trust_table *tb = arg;
	struct trust_entry *e;
	if (tb->n == tb->cap) {
		size_t cap = tb->cap != 0 ? tb->cap * 2 : 16;
		e = realloc(tb->e, cap * sizeof(*e));
		if (e == NULL)
			return 1;
		tb->e = e;
		tb->cap = cap;
	}
	e = &tb->e[tb->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->fp, c->fingerprint.data, CRYPTO_SHA256_LEN);
	snprintf(e->peer.org_id, sizeof(e->peer.org_id), "local:%s", c->name);
	hx_strlcpy(e->peer.name, c->name, sizeof(e->peer.name));
	e->peer.status = c->status;
	e->peer.local = 1;
	for (size_t i = 0; i < c->n_rights; i++)
		e->peer.rights |= 1u << (c->rights[i] & 31);
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return memcmp(((const struct trust_entry *)a)->fp, ((const struct trust_entry *)b)->fp,
	              CRYPTO_SHA256_LEN);
}

/* The slot of org_id in the set: where it is, or the empty one where it would go. */
static struct org_entry *org_slot(const struct trust_table *tb, const char *org_id, uint32_t h)
{
	size_t i = h & (tb->orgs_cap - 1);
	while (tb->orgs[i].id[0] != '\0' &&
	       (tb->orgs[i].hash != h || strcmp(tb->orgs[i].id, org_id) != 0))
		i = (i + 1) & (tb->orgs_cap - 1);
	return &tb->orgs[i];
}

/* The active peers' organisations (a peer has one or two entries: current and staged). */
static int orgs_index(struct trust_table *tb)
{
	size_t cap = 16;
	while (cap < 2 * tb->n)
		cap *= 2;
	if ((tb->orgs = calloc(cap, sizeof(*tb->orgs))) == NULL)
		return HX_ENOMEM;
	tb->orgs_cap = cap;
	for (size_t i = 0; i < tb->n; i++) {
		const struct trust_peer *p = &tb->e[i].peer;
		uint32_t h;
		struct org_entry *o;
		if (p->local || p->status != HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE)
			continue;
		h = hx_hash_str(p->org_id);
		o = org_slot(tb, p->org_id, h);
		o->hash = h;
		hx_strlcpy(o->id, p->org_id, sizeof(o->id));
	}
	return HX_OK;
}

static int table_load(struct store *store, struct trust_table **out)
{
	struct trust_table *tb = calloc(1, sizeof(*tb));
	struct store_txn *t;
	int rc;

	if (tb == NULL)
		return HX_ENOMEM;
	if ((rc = store_read_begin(store, &t)) != HX_OK) {
		free(tb);
		return rc;
	}
	rc = store_trust_gen_get(t, &tb->gen);
	if (rc == HX_OK)
		rc = store_peer_list(t, peer_cb, tb);
	if (rc == HX_OK)
		rc = store_client_list(t, client_cb, tb);
	store_read_end(t);
	if (rc != HX_OK) {
		table_free(tb);
		return rc;
	}
	if (tb->n > 1)
		qsort(tb->e, tb->n, sizeof(*tb->e), entry_cmp);
	if ((rc = orgs_index(tb)) != HX_OK) {
		table_free(tb);
		return rc;
	}
	*out = tb;
	return HX_OK;
}

static int admit(const uint8_t fp[CRYPTO_SHA256_LEN], void *arg)
{
	struct trust_peer p;
	return trust_peer_lookup(arg, fp, &p) == HX_OK;
}

/* Build a table, a server and (cli_out not NULL) a client for the store's current generation
 * and the files. */
static int build(struct trust *t, struct trust_table **tb_out, struct crypto_tls_server **srv_out,
                 struct crypto_tls_client **cli_out, char *err, size_t errlen)
{
	struct crypto_tls_server_opts o = {
		.cert_file = t->files.cert_file,
		.key_file = t->files.key_file,
		.ca_file = t->files.ca_file,
		.crl_file = t->files.crl_file,
		.admit = admit,
		.admit_arg = t,
	};
	struct trust_table *tb;
	int rc = table_load(t->store, &tb);
	if (rc != HX_OK) {
		snprintf(err, errlen, "trust: cannot read peers from the store: %s", hx_strerror(rc));
		return rc;
	}
	o.trust_gen = tb->gen;
	if ((rc = crypto_tls_server_new(&o, srv_out, err, errlen)) != HX_OK) {
		table_free(tb);
		return rc;
	}
	if (cli_out != NULL &&
	    (rc = crypto_tls_client_new(t->files.cert_file, t->files.key_file, t->files.ca_file,
	                                t->files.crl_file, cli_out, err, errlen)) != HX_OK) {
		crypto_tls_server_free(*srv_out);
		table_free(tb);
		return rc;
	}
	*tb_out = tb;
	return HX_OK;
}

int trust_new(struct store *store, const struct trust_files *files, struct trust **out, char *err,
              size_t errlen)
{
	struct trust *t = calloc(1, sizeof(*t));
	int rc;
	if (t == NULL)
		return HX_ENOMEM;
	t->store = store;
	t->files = *files;
	pthread_rwlock_init(&t->lock, NULL);
	pthread_mutex_init(&t->refresh_lock, NULL);
	stamps_changed(t, t->stamps);
	if ((rc = build(t, &t->table, &t->server, &t->client, err, errlen)) != HX_OK) {
		trust_free(t);
		return rc;
	}
	t->gen = t->table->gen;
	hx_log_info("trust: generation %llu, %zu enrolled certificate(s)",
	            (unsigned long long)t->gen, t->table->n);
	*out = t;
	return HX_OK;
}

void trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	table_free(t->table);
	crypto_tls_server_free(t->server);
	crypto_tls_client_free(t->client);
	pthread_rwlock_destroy(&t->lock);
	pthread_mutex_destroy(&t->refresh_lock);
	free(t);
}

int trust_refresh(struct trust *t)
{
	struct trust_table *tb = NULL, *old_tb;
	struct crypto_tls_server *srv = NULL, *old_srv;
	struct crypto_tls_client *cli = NULL, *old_cli;
	struct file_stamp now[4], was[4];
	struct store_txn *txn;
	uint64_t gen = 0;
	char err[256];
	int rc;
	unsigned files_moved;

	if (pthread_mutex_trylock(&t->refresh_lock) != 0)
		return 0; /* another worker is at it */
	rc = store_read_begin(t->store, &txn);
	if (rc == HX_OK) {
		rc = store_trust_gen_get(txn, &gen);
		store_read_end(txn);
	}
	files_moved = stamps_changed(t, now);
	if (rc != HX_OK || (gen == t->gen && !files_moved)) {
		pthread_mutex_unlock(&t->refresh_lock);
		return 0;
	}
	/* Whatever happens next, this change has been looked at: remember it. */
	memcpy(was, t->stamps, sizeof(was));
	memcpy(t->stamps, now, sizeof(now));
	/* The client is built again only when the files moved: workers then switch to it. */
	if (build(t, &tb, &srv, files_moved ? &cli : NULL, err, sizeof(err)) != HX_OK) {
		if (stamps_fresh(now, files_moved & 7u)) {
			/* Perhaps a key replaced and its certificate not yet: look again next tick,
			 * and only call it a problem once the files have been still for a while. */
			memcpy(t->stamps, was, sizeof(was));
			pthread_mutex_unlock(&t->refresh_lock);
			return 0;
		}
		if (files_moved)
			file_audit(t, files_moved, t->server, NULL, err);
		hx_log_err("%s; still serving trust generation %llu", err, (unsigned long long)t->gen);
		pthread_rwlock_wrlock(&t->lock);
		hx_strlcpy(t->problem, err, sizeof(t->problem));
		t->problem_since = hx_time_now_ms();
		t->gen = gen; /* do not retry a broken state every tick; the next change will */
		t->changes++;
		pthread_rwlock_unlock(&t->lock);
		pthread_mutex_unlock(&t->refresh_lock);
		return 0;
	}
	pthread_rwlock_wrlock(&t->lock);
	old_tb = t->table;
	old_srv = t->server;
	old_cli = t->client;
	t->table = tb;
	t->server = srv;
	t->client = cli != NULL ? cli : crypto_tls_client_up_ref(old_cli);
	t->gen = tb->gen;
	t->problem[0] = '\0';
	t->problem_since = 0;
	t->changes++;
	pthread_rwlock_unlock(&t->lock);
	if (files_moved)
		file_audit(t, files_moved, old_srv, srv, NULL);
	table_free(old_tb);
	crypto_tls_server_free(old_srv);
	crypto_tls_client_free(old_cli); /* workers holding it let go at their next tick */
	hx_log_notice("trust: now generation %llu, %zu enrolled certificate(s)%s",
	              (unsigned long long)tb->gen, tb->n,
	              files_moved ? " (TLS files changed)" : "");
	pthread_mutex_unlock(&t->refresh_lock);
	return 1;
}

void trust_status_get(struct trust *t, struct trust_status *out)
{
	memset(out, 0, sizeof(*out));
	pthread_rwlock_rdlock(&t->lock);
	out->generation = t->table->gen;
	out->crl_next_update = crypto_tls_server_crl_next_update(t->server);
	out->cert_not_after = crypto_tls_server_cert_not_after(t->server);
	out->enrolled = t->table->n;
	hx_strlcpy(out->problem, t->problem, sizeof(out->problem));
	out->problem_since = t->problem_since;
	out->changes = t->changes;
	pthread_rwlock_unlock(&t->lock);
}

struct crypto_tls_server *trust_server_get(struct trust *t)
{
	struct crypto_tls_server *s;
	pthread_rwlock_rdlock(&t->lock);
	s = crypto_tls_server_ref(t->server);
	pthread_rwlock_unlock(&t->lock);
	return s;
}

struct crypto_tls_client *trust_client_get(struct trust *t)
{
	struct crypto_tls_client *c;
	pthread_rwlock_rdlock(&t->lock);
	c = crypto_tls_client_up_ref(t->client);
	pthread_rwlock_unlock(&t->lock);
	return c;
}

int trust_peer_lookup(struct trust *t, const uint8_t fp[CRYPTO_SHA256_LEN], struct trust_peer *out)
{
	struct trust_entry key, *e;
	int rc = HX_EDENIED;

	memcpy(key.fp, fp, CRYPTO_SHA256_LEN);
	pthread_rwlock_rdlock(&t->lock);
	e = t->table->n == 0 ? NULL
	                     : bsearch(&key, t->table->e, t->table->n, sizeof(key), entry_cmp);
	if (e != NULL && e->peer.status == HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE) {
		*out = e->peer;
		rc = HX_OK;
	}
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

void trust_orgs_active(struct trust *t, const char *const *org_ids, const uint32_t *hashes,
                       size_t n, unsigned char *active)
{
	pthread_rwlock_rdlock(&t->lock);
	for (size_t i = 0; i < n; i++)
		active[i] = org_ids[i][0] != '\0' &&
		            org_slot(t->table, org_ids[i], hashes[i])->id[0] != '\0';
	pthread_rwlock_unlock(&t->lock);
}

uint64_t trust_generation(struct trust *t)
{
	uint64_t g;
	pthread_rwlock_rdlock(&t->lock);
	g = t->table->gen;
	pthread_rwlock_unlock(&t->lock);
	return g;
}
