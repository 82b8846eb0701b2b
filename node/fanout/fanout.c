/* fanout.c: the cross-organisation query (fanout.h). One event loop, one libcurl multi: every
 * call to every organisation is in flight at once, each with its own deadline, all under the
 * overall one. */
#include "fanout.h"

#include "identity.h"
#include "peer.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESPONSE_MAX (8u << 20)
#define LOCATE_TOKENS_MAX 64

const char *fanout_status_name(enum fanout_status s)
{
	static const char *const names[] = {"pending", "ok", "no match", "timeout", "refused",
	                                    "error"};
	return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s] : "?";
}

/* Who can be asked: the active node peers, as enrolled. Kept by the engine and read again
 * only when the trust generation moves (every enrolment change moves it). */
struct peer_entry {
	char org_id[PROTO_ORG_ID_MAX + 1];
	char name[128];
	char url[CONFIG_PATH_MAX];
	uint8_t fp[32], next[32];
	int has_next;
};

struct fanout_engine {
	struct crypto_tls_client *tls; /* NULL when attached to someone else's loop and client */
	struct event_base *base;
	struct peer_client *pc;
	int owned;                     /* base and pc are the engine's own */
	struct peer_entry *peers;
	size_t n_peers;
	uint64_t peers_gen;
	int peers_loaded;
};

struct target {
	struct fanout_org *org;
	char url[CONFIG_PATH_MAX];
	uint8_t fp[32], next[32];
	int has_next;
	struct peer_call *call;
	int step; /* 0: discover, 1: query */
	struct fanout *f;
};

struct fanout {
	const struct fanout_opts *o;
	struct fanout_result *r;
	struct fanout_engine *eng;
	struct event_base *base;   /* the engine's */
	struct peer_client *pc;    /* the engine's: connections kept alive between queries */
	struct event *deadline;
	struct event *done_ev;     /* made active when nothing is outstanding */
	fanout_done_fn done;
	void *done_arg;
	int lazy_cache;            /* the cache write is queued, not waited for */
	struct target *t;          /* one per organisation asked (r->org alike) */
	size_t n;
	int outstanding;
	int64_t t0, end;
	struct identity_token tokens[IDENTITY_TOKENS_MAX];
	size_t n_tokens;
	/* the RLS call */
	struct peer_call *rls_call;
	unsigned rls_index;
	Hie__V1__DocumentEntry **entries;
	size_t *entry_org;         /* which organisation listed each entry (index into r->org) */
	size_t n_entries, cap_entries;
	uint8_t query_fp[32]; /* the demographics, for the correlation cache */
};

static uint64_t remaining(struct fanout *f)
{
	int64_t left = f->end - hx_time_now_ms();
	uint64_t per = f->o->peer_timeout_ms;
	if (left < 1)
		left = 1;
	return (uint64_t)left < per ? (uint64_t)left : per;
}

/* Completion always runs from the loop (never inside fanout_start() or a callback that may
 * still touch the target). */
static void finish(struct fanout *f)
{
	if (f->outstanding == 0 && f->done_ev != NULL)
		event_active(f->done_ev, EV_TIMEOUT, 0);
}

static void target_done(struct target *t, enum fanout_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void target_done(struct target *t, enum fanout_status st, const char *fmt, ...)
{
	va_list ap;
	t->org->status = st;
	t->org->ms = hx_time_now_ms() - t->f->t0;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(t->org->detail, sizeof(t->org->detail), fmt, ap);
		va_end(ap);
	}
	t->call = NULL;
	t->f->outstanding--;
	finish(t->f);
}

/* A failed call's status: timeout, refused (TLS, 401, 403) or error. */
static int failed(struct target *t, const struct peer_result *res, const char *what)
{
	if (res->rc == HX_ETIMEOUT) {
		target_done(t, FANOUT_TIMEOUT, "%s: no answer within %llu ms", what,
		            (unsigned long long)t->f->o->peer_timeout_ms);
		return 1;
	}
	if (res->rc == HX_ETLS) {
		target_done(t, FANOUT_REFUSED, "%s: TLS: %s", what, res->error);
		return 1;
	}
	if (res->rc != HX_OK) {
		target_done(t, FANOUT_ERROR, "%s: %s", what, res->error);
		return 1;
	}
	if (res->status == 401 || res->status == 403) {
		target_done(t, FANOUT_REFUSED, "%s: HTTP %ld", what, res->status);
		return 1;
	}
	if (res->status != 200) {
		target_done(t, FANOUT_ERROR, "%s: HTTP %ld", what, res->status);
		return 1;
	}
	return 0;
}

static void on_call(struct peer_call *call, const struct peer_result *res, void *arg);

static int start_call_bytes(struct target *t, const char *path, const uint8_t *body,
                            size_t len)
{
	struct peer_request req = {0};
	char url[CONFIG_PATH_MAX + 64];
	peer_url_join(t->url, path, url, sizeof(url));
	req.url = url;
	req.fp = t->fp;
	req.fp_next = t->has_next ? t->next : NULL;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = remaining(t->f);
	req.max_response = RESPONSE_MAX;
	return peer_call_start(t->f->pc, &req, on_call, t, &t->call);
}

static int start_call(struct target *t, const char *path, const ProtobufCMessage *msg)
{
	struct hx_buf body;
	int rc;
	hx_buf_init(&body, 1u << 20);
	if ((rc = proto_pack(msg, &body)) == HX_OK)
		rc = start_call_bytes(t, path, body.data, body.len);
	hx_buf_clear(&body);
	return rc;
}

static void add_entries(struct fanout *f, size_t org, Hie__V1__DocumentQueryResponse *dr)
{
	for (size_t i = 0; i < dr->n_entries; i++) {
		Hie__V1__DocumentEntry *e = dr->entries[i];
		int dup = 0;
		for (size_t k = 0; k < f->n_entries && !dup; k++)
			dup = f->entries[k]->sha256.len == e->sha256.len &&
			      memcmp(f->entries[k]->sha256.data, e->sha256.data, e->sha256.len) == 0;
		if (dup || f->n_entries == FANOUT_ENTRIES_MAX)
			continue;
		if (f->n_entries == f->cap_entries) {
			size_t cap = f->cap_entries ? f->cap_entries * 2 : 64;
			Hie__V1__DocumentEntry **p = realloc(f->entries, cap * sizeof(*p));
			size_t *po;
			if (p == NULL)
				return;
			f->entries = p;
			if ((po = realloc(f->entry_org, cap * sizeof(*po))) == NULL)
				return;
			f->entry_org = po;
			f->cap_entries = cap;
		}
		f->entry_org[f->n_entries] = org;
		f->entries[f->n_entries++] = e;
		dr->entries[i] = NULL; /* taken */
	}
}

static int start_query(struct target *t)
{
	Hie__V1__DocumentQuery q = HIE__V1__DOCUMENT_QUERY__INIT;
	char *ids[32];
	for (size_t k = 0; k < t->org->n_matches; k++)
		ids[k] = t->org->matches[k];
	q.patient_ids = ids;
	q.n_patient_ids = t->org->n_matches;
	q.purpose = t->f->o->purpose;
	q.user = (Hie__V1__RequestingUser *)t->f->o->user;
	t->step = 1;
	return start_call(t, "/hie/v1/documents/query", &q.base);
}

static void on_call(struct peer_call *call, const struct peer_result *res, void *arg)
{
	struct target *t = arg;
	struct fanout_org *org = t->org;
	(void)call;
	if (t->step == 0) {
		Hie__V1__DiscoverResponse *d = NULL;
		if (failed(t, res, "discover"))
			return;
		if (proto_discover_response_unpack(res->body.data, res->body.len, &d) != HX_OK) {
			target_done(t, FANOUT_ERROR, "discover: the answer is not a DiscoverResponse");
			return;
		}
		for (size_t i = 0; i < d->n_matches && org->n_matches < 32; i++) {
			if (d->matches[i]->grade != HIE__V1__MATCH_GRADE__MATCH_GRADE_CERTAIN &&
			    d->matches[i]->grade != HIE__V1__MATCH_GRADE__MATCH_GRADE_PROBABLE)
				continue; /* only links someone may rely on */
			hx_strlcpy(org->matches[org->n_matches], d->matches[i]->patient_id,
			           sizeof(org->matches[0]));
			org->grades[org->n_matches] = d->matches[i]->grade;
			org->n_matches++;
		}
		proto_free(d);
		if (org->n_matches == 0) {
			target_done(t, FANOUT_NO_MATCH, NULL);
			return;
		}
		if (start_query(t) != HX_OK)
			target_done(t, FANOUT_ERROR, "query: cannot start the call");
		return;
	}
	{
		Hie__V1__DocumentQueryResponse *dr = NULL;
		if (failed(t, res, "query"))
			return;
		if (proto_document_query_response_unpack(res->body.data, res->body.len, &dr) !=
		    HX_OK) {
			target_done(t, FANOUT_ERROR, "query: the answer is not a DocumentQueryResponse");
			return;
		}
		org->n_entries = dr->n_entries;
		add_entries(t->f, (size_t)(t - t->f->t), dr);
		proto_free(dr);
		target_done(t, FANOUT_OK, org->cached ? "matched from the correlation cache" : NULL);
	}
}

/* ---- the correlation cache ------------------------------------------------------------------ */

static int from_cache(struct fanout *f, struct target *t)
{
	struct store_txn *txn;
	size_t n = 0;
	int rc;
	if (store_read_begin(f->o->store, &txn) != HX_OK)
		return 0;
	rc = store_xref_get(txn, f->query_fp, t->org->org_id, hx_time_now_ms(), t->org->matches, 32,
	                    &n);
	store_read_end(txn);
	if (rc != HX_OK || n == 0)
		return 0;
	t->org->n_matches = n;
	t->org->cached = 1;
	for (size_t i = 0; i < n; i++)
		t->org->grades[i] = 0; /* the cache keeps the link, not its grade */
	return 1;
}

/* New links to remember: a copy, so that a queued write outlives the query. */
struct cache_link {
	char org_id[PROTO_ORG_ID_MAX + 1];
	char ids[32][PROTO_PATIENT_ID_MAX + 1];
	size_t n;
};
struct cache_write {
	uint8_t query_fp[32];
	int64_t until;
	size_t n;
	struct cache_link link[];
};

static int w_cache(struct store_txn *txn, void *arg)
{
	const struct cache_write *cw = arg;
	for (size_t i = 0; i < cw->n; i++) {
		const char *ids[32];
		int rc;
		for (size_t k = 0; k < cw->link[i].n; k++)
			ids[k] = cw->link[i].ids[k];
		if ((rc = store_xref_put(txn, cw->query_fp, cw->link[i].org_id, cw->until, ids,
		                         cw->link[i].n)) != HX_OK)
			return rc;
	}
	return HX_OK;
}

static void cache_done(int rc, void *arg)
{
	(void)rc; /* a read-only store, a full one: not cached, no harm */
	free(arg);
}

static void cache_links(struct fanout *f)
{
	struct cache_write *cw;
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct fanout_org *g = &f->r->org[i];
		n += !g->cached && g->n_matches > 0 && g->status == FANOUT_OK;
	}
	if (n == 0 || (cw = calloc(1, sizeof(*cw) + n * sizeof(cw->link[0]))) == NULL)
		return;
	memcpy(cw->query_fp, f->query_fp, 32);
	cw->until = hx_time_now_ms() + f->o->cache_ttl_ms;
	for (size_t i = 0; i < f->n; i++) {
		const struct fanout_org *g = &f->r->org[i];
		struct cache_link *l = &cw->link[cw->n];
		if (g->cached || g->n_matches == 0 || g->status != FANOUT_OK)
			continue;
		hx_strlcpy(l->org_id, g->org_id, sizeof(l->org_id));
		for (size_t k = 0; k < g->n_matches; k++)
			hx_strlcpy(l->ids[k], g->matches[k], sizeof(l->ids[k]));
		l->n = g->n_matches;
		cw->n++;
	}
	if (f->lazy_cache) {
		if (store_write_lazy(f->o->store, w_cache, cache_done, cw) != HX_OK)
			free(cw);
		return;
	}
	store_write(f->o->store, w_cache, cw);
	free(cw);
}

/* ---- who to ask ------------------------------------------------------------------------------ */


static int peer_cb(const Hie__V1__Peer *pe, void *arg)
{
	struct fanout_engine *e = arg;
	struct peer_entry *p;
	int node = 0;
	for (size_t i = 0; i < pe->n_roles; i++)
		node |= pe->roles[i] == HIE__V1__PEER_ROLE__PEER_ROLE_NODE;
	if (!node || pe->status != HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE ||
	    pe->fingerprint.len != 32 || e->n_peers == FANOUT_ORGS_MAX)
		return 0;
	p = &e->peers[e->n_peers++];
	hx_strlcpy(p->org_id, pe->org_id, sizeof(p->org_id));
	hx_strlcpy(p->name, pe->name, sizeof(p->name));
	hx_strlcpy(p->url, pe->endpoint, sizeof(p->url));
	memcpy(p->fp, pe->fingerprint.data, 32);
	if ((p->has_next = pe->next_fingerprint.len == 32))
		memcpy(p->next, pe->next_fingerprint.data, 32);
	return 0;
}

/* The engine's peer list, read again when the trust generation moved. */
static void peers_refresh(struct fanout_engine *e, struct store *store)
{
	struct store_txn *t;
	uint64_t gen = 0;
	if (store_read_begin(store, &t) != HX_OK)
		return;
	if (store_trust_gen_get(t, &gen) == HX_OK && (!e->peers_loaded || gen != e->peers_gen)) {
		e->n_peers = 0;
		if (store_peer_list(t, peer_cb, e) == HX_OK) {
			e->peers_gen = gen;
			e->peers_loaded = 1;
		}
	}
	store_read_end(t);
}

static void ask_all(struct fanout *f, const Hie__V1__LocateResponse *only)
{
	struct fanout_engine *e = f->eng;
	Hie__V1__DiscoverRequest dr = HIE__V1__DISCOVER_REQUEST__INIT;
	struct hx_buf body;
	size_t cap;
	peers_refresh(e, f->o->store);
	/* Sized to the peers: a query allocates (and the kernel zeroes) only what it uses. */
	cap = e->n_peers > 0 ? e->n_peers : 1;
	if ((f->t = calloc(cap, sizeof(*f->t))) == NULL ||
	    (f->r->org = calloc(cap, sizeof(*f->r->org))) == NULL) {
		snprintf(f->r->rls, sizeof(f->r->rls), "out of memory");
		finish(f);
		return;
	}
	for (size_t i = 0; i < e->n_peers && f->n < FANOUT_ORGS_MAX; i++) {
		const struct peer_entry *p = &e->peers[i];
		struct target *t;
		unsigned hits = 0;
		if (only != NULL) {
			int listed = 0;
			for (size_t k = 0; k < only->n_orgs && !listed; k++)
				if (strcmp(only->orgs[k]->org_id, p->org_id) == 0) {
					listed = 1;
					hits = only->orgs[k]->hits;
				}
			if (!listed)
				continue;
		}
		t = &f->t[f->n];
		t->org = &f->r->org[f->n];
		t->f = f;
		hx_strlcpy(t->org->org_id, p->org_id, sizeof(t->org->org_id));
		hx_strlcpy(t->org->name, p->name, sizeof(t->org->name));
		t->org->hits = hits;
		hx_strlcpy(t->url, p->url, sizeof(t->url));
		memcpy(t->fp, p->fp, 32);
		memcpy(t->next, p->next, 32);
		t->has_next = p->has_next;
		f->n++;
	}
	f->r->n_orgs = f->n;
	dr.demographics = (Hie__V1__Demographics *)f->o->demographics;
	dr.purpose = f->o->purpose;
	dr.user = (Hie__V1__RequestingUser *)f->o->user;
	/* One request body for every organisation. */
	hx_buf_init(&body, 1u << 20);
	if (proto_pack(&dr, &body) != HX_OK)
		body.len = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct target *tg = &f->t[i];
		f->outstanding++;
		if (f->o->cache_ttl_ms > 0 && from_cache(f, tg) && start_query(tg) == HX_OK)
			continue;
		tg->org->n_matches = 0;
		tg->org->cached = 0;
		tg->step = 0;
		if (body.len == 0 ||
		    start_call_bytes(tg, "/hie/v1/patients/discover", body.data, body.len) != HX_OK)
			target_done(tg, FANOUT_ERROR, "discover: cannot start the call");
	}
	hx_buf_clear(&body);
	finish(f);
}

/* The locator could not say: [rls] fallback decides (every active peer, or nobody). */
static void fall_back(struct fanout *f)
{
	size_t n = strlen(f->r->rls);
	if (f->o->cfg->rls_fallback == CONFIG_FALLBACK_NONE) {
		snprintf(f->r->rls + n, sizeof(f->r->rls) - n, "; nobody asked ([rls] fallback = none)");
		finish(f);
		return;
	}
	snprintf(f->r->rls + n, sizeof(f->r->rls) - n, "; asking every active peer");
	ask_all(f, NULL);
}

/* The RLS: whom to ask. A failure falls back as configured. */
static void on_locate(struct peer_call *call, const struct peer_result *res, void *arg)
{
	struct fanout *f = arg;
	Hie__V1__LocateResponse *lr = NULL;
	(void)call;
	f->rls_call = NULL;
	f->outstanding--;
	if (res->rc != HX_OK || res->status != 200 ||
	    proto_locate_response_unpack(res->body.data, res->body.len, &lr) != HX_OK) {
		snprintf(f->r->rls, sizeof(f->r->rls), "the locator failed (%.200s)",
		         res->rc != HX_OK ? res->error
		         : res->status != 200 ? "an HTTP error" : "a bad answer");
		fall_back(f);
		return;
	}
	snprintf(f->r->rls, sizeof(f->r->rls), "the locator named %zu organisation(s)",
	         lr->n_orgs);
	ask_all(f, lr);
	proto_free(lr);
}

static void locate(struct fanout *f)
{
	const char *rls_url = f->o->cfg->endpoints[0];
	struct peer_pin pin;
	Hie__V1__LocateRequest lr = HIE__V1__LOCATE_REQUEST__INIT;
	ProtobufCBinaryData toks[IDENTITY_TOKENS_MAX];
	struct peer_request req = {0};
	struct hx_buf body;
	char url[CONFIG_PATH_MAX + 32];

	if (peer_pin_by_url(f->o->store, rls_url, HIE__V1__PEER_ROLE__PEER_ROLE_RLS, &pin) !=
	    HX_OK) {
		snprintf(f->r->rls, sizeof(f->r->rls), "no active enrolled RLS at %.200s", rls_url);
		fall_back(f);
		return;
	}
	for (size_t i = 0; i < f->n_tokens && i < LOCATE_TOKENS_MAX; i++)
		toks[i] = (ProtobufCBinaryData){32, f->tokens[i].token};
	lr.tokens = toks;
	lr.n_tokens = f->n_tokens;
	hx_buf_init(&body, 64 * 1024);
	if (proto_pack(&lr, &body) != HX_OK) {
		hx_buf_clear(&body);
		snprintf(f->r->rls, sizeof(f->r->rls), "cannot call the locator");
		fall_back(f);
		return;
	}
	peer_url_join(rls_url, "/hie/v1/rls/locate", url, sizeof(url));
	req.url = url;
	req.fp = pin.fp;
	req.fp_next = pin.has_next ? pin.next : NULL;
	req.body = body.data;
	req.body_len = body.len;
	req.timeout_ms = remaining(f);
	req.max_response = RESPONSE_MAX;
	f->outstanding++;
	if (peer_call_start(f->pc, &req, on_locate, f, &f->rls_call) != HX_OK) {
		f->outstanding--;
		snprintf(f->r->rls, sizeof(f->r->rls), "cannot call the locator");
		fall_back(f);
	}
	hx_buf_clear(&body);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct fanout *f = arg;
	(void)fd;
	(void)what;
	if (f->rls_call != NULL) {
		peer_call_cancel(f->rls_call);
		f->rls_call = NULL;
		f->outstanding--;
		snprintf(f->r->rls, sizeof(f->r->rls), "the locator did not answer in time");
	}
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].call != NULL) {
			peer_call_cancel(f->t[i].call);
			target_done(&f->t[i], FANOUT_TIMEOUT, "%s: no answer before the overall "
			            "deadline", f->t[i].step == 0 ? "discover" : "query");
		}
	finish(f);
}

struct entry_pair {
	Hie__V1__DocumentEntry *e;
	size_t org;
};

static int entry_newest_first(const void *a, const void *b)
{
	const Hie__V1__DocumentEntry *x = ((const struct entry_pair *)a)->e;
	const Hie__V1__DocumentEntry *y = ((const struct entry_pair *)b)->e;
	return x->creation_time < y->creation_time ? 1 : x->creation_time > y->creation_time ? -1 : 0;
}

/* Newest first, each entry keeping the organisation that listed it. */
static void entries_sort(struct fanout *f)
{
	struct entry_pair *p;
	if (f->n_entries < 2 || (p = malloc(f->n_entries * sizeof(*p))) == NULL)
		return;
	for (size_t i = 0; i < f->n_entries; i++)
		p[i] = (struct entry_pair){f->entries[i], f->entry_org[i]};
	qsort(p, f->n_entries, sizeof(*p), entry_newest_first);
	for (size_t i = 0; i < f->n_entries; i++) {
		f->entries[i] = p[i].e;
		f->entry_org[i] = p[i].org;
	}
	free(p);
}

int fanout_engine_new(const struct config *cfg, struct fanout_engine **out, char *err,
                      size_t errlen)
{
	struct fanout_engine *e = calloc(1, sizeof(*e));
	int rc;
	*out = NULL;
	if (e == NULL || (e->peers = calloc(FANOUT_ORGS_MAX, sizeof(*e->peers))) == NULL) {
		free(e);
		return HX_ENOMEM;
	}
	e->owned = 1;
	if ((rc = crypto_tls_client_new(cfg->certificate, cfg->key, cfg->ca, cfg->crl, &e->tls,
	                                err, errlen)) != HX_OK) {
		free(e->peers);
		free(e);
		return rc;
	}
	{
		/* Timers to the microsecond (timerfd), not rounded up to the next millisecond:
		 * deadlines are kept closely. */
		struct event_config *ec = event_config_new();
		if (ec != NULL) {
			event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
			e->base = event_base_new_with_config(ec);
			event_config_free(ec);
		}
	}
	if (e->base == NULL ||
	    (rc = peer_client_new(e->base, e->tls, &e->pc)) != HX_OK) {
		snprintf(err, errlen, "cannot set up the peer client");
		fanout_engine_free(e);
		return rc != HX_OK ? rc : HX_ENOMEM;
	}
	*out = e;
	return HX_OK;
}

int fanout_engine_attach(struct event_base *base, struct peer_client *pc,
                         struct fanout_engine **out)
{
	struct fanout_engine *e = calloc(1, sizeof(*e));
	*out = NULL;
	if (e == NULL || (e->peers = calloc(FANOUT_ORGS_MAX, sizeof(*e->peers))) == NULL) {
		free(e);
		return HX_ENOMEM;
	}
	e->base = base;
	e->pc = pc;
	*out = e;
	return HX_OK;
}

int fanout_engine_disconnect(struct fanout_engine *e)
{
	return peer_client_disconnect(e->pc);
}

void fanout_engine_free(struct fanout_engine *e)
{
	if (e == NULL)
		return;
	if (e->owned) {
		peer_client_free(e->pc);
		if (e->base != NULL)
			event_base_free(e->base);
		crypto_tls_client_free(e->tls);
	}
	free(e->peers);
	free(e);
}

int fanout_query(const struct fanout_opts *o, struct fanout_result **out, char *err,
                 size_t errlen)
{
	struct fanout_engine *e;
	int rc = fanout_engine_new(o->cfg, &e, err, errlen);
	if (rc != HX_OK)
		return rc;
	rc = fanout_run(e, o, out, err, errlen);
	fanout_engine_free(e);
	return rc;
}

static void fanout_free(struct fanout *f)
{
	if (f->deadline != NULL)
		event_free(f->deadline);
	if (f->done_ev != NULL)
		event_free(f->done_ev);
	for (size_t i = 0; i < f->n_entries; i++)
		proto_free(f->entries[i]);
	free(f->entries);
	free(f->entry_org);
	free(f->t);
	fanout_result_free(f->r);
	free(f);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct fanout *f = arg;
	fanout_done_fn done = f->done;
	void *done_arg = f->done_arg;
	struct fanout_result *r;
	(void)fd;
	(void)what;
	event_del(f->deadline);
	if (f->o->cache_ttl_ms > 0)
		cache_links(f);
	entries_sort(f);
	r = f->r;
	r->entries = f->entries;
	r->entry_org = f->entry_org;
	r->n_entries = f->n_entries;
	r->ms = hx_time_now_ms() - f->t0;
	f->entries = NULL;
	f->entry_org = NULL;
	f->n_entries = 0;
	f->r = NULL;
	fanout_free(f);
	done(r, done_arg);
}

int fanout_start(struct fanout_engine *eng, const struct fanout_opts *o, fanout_done_fn done,
                 void *arg, struct fanout **out, char *err, size_t errlen)
{
	static const char *const shared[] = {IDN_SYS_SSN, NULL};
	struct fanout *f = calloc(1, sizeof(*f));
	struct idn_record q;
	struct timeval tv;

	*out = NULL;
	if (f == NULL || (f->r = calloc(1, sizeof(*f->r))) == NULL) {
		free(f);
		return HX_ENOMEM;
	}
	f->o = o;
	f->done = done;
	f->done_arg = arg;
	f->lazy_cache = !eng->owned;
	idn_from_demographics(o->demographics, &q);
	if (idm_query_check(&q, err, errlen) != HX_OK) {
		fanout_free(f);
		return HX_EINVAL;
	}
	if (o->key != NULL)
		f->n_tokens = identity_tokens(o->key, &q, shared, f->tokens, IDENTITY_TOKENS_MAX);
	{
		/* The cache's name for these demographics: their normalised fields. */
		char canon[512];
		int n = snprintf(canon, sizeof(canon), "hiepeer-xref-v1|%s|%s|%s|%04u%02u%02u|%u|%s|%s",
		                 q.family, q.given_canon, q.middle, q.birth_year, q.birth_month,
		                 q.birth_day, q.sex, q.postcode, q.n_ident > 0 ? q.ident[0].value : "");
		crypto_sha256(canon, n > 0 ? (size_t)n : 0, f->query_fp);
	}
	f->eng = eng;
	f->base = eng->base;
	f->pc = eng->pc;
	if ((f->deadline = evtimer_new(f->base, on_deadline, f)) == NULL ||
	    (f->done_ev = event_new(f->base, -1, 0, on_done, f)) == NULL) {
		snprintf(err, errlen, "cannot set up the deadline");
		fanout_free(f);
		return HX_ENOMEM;
	}
	f->t0 = hx_time_now_ms();
	f->end = f->t0 + (int64_t)o->overall_timeout_ms;
	{
		/* The answer is due at the deadline: stop waiting a little before it, so that
		 * cancelling the calls left and merging what came fit within it. */
		uint64_t ms = o->overall_timeout_ms > 20 ? o->overall_timeout_ms - 1
		                                          : o->overall_timeout_ms;
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	}
	evtimer_add(f->deadline, &tv);
	*out = f;
	if (o->cfg->n_endpoints > 0 && f->n_tokens > 0)
		locate(f);
	else
		ask_all(f, NULL);
	finish(f); /* nobody to ask: done at the next loop turn */
	return HX_OK;
}

void fanout_cancel(struct fanout *f)
{
	if (f == NULL)
		return;
	if (f->rls_call != NULL)
		peer_call_cancel(f->rls_call);
	for (size_t i = 0; i < f->n; i++)
		if (f->t[i].call != NULL)
			peer_call_cancel(f->t[i].call);
	fanout_free(f);
}

struct run_wait {
	struct event_base *base;
	struct fanout_result *r;
	int done;
};

static void run_done(struct fanout_result *r, void *arg)
{
	struct run_wait *w = arg;
	w->r = r;
	w->done = 1;
	event_base_loopbreak(w->base);
}

int fanout_run(struct fanout_engine *eng, const struct fanout_opts *o,
               struct fanout_result **out, char *err, size_t errlen)
{
	struct run_wait w = {eng->base, NULL, 0};
	struct fanout *f;
	int rc = fanout_start(eng, o, run_done, &w, &f, err, errlen);
	*out = NULL;
	if (rc != HX_OK)
		return rc;
	while (!w.done)
		if (event_base_dispatch(eng->base) < 0)
			break;
	if (!w.done) {
		fanout_cancel(f);
		snprintf(err, errlen, "the event loop failed");
		return HX_EINTERNAL;
	}
	*out = w.r;
	return HX_OK;
}

void fanout_result_free(struct fanout_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_entries; i++)
		proto_free(r->entries[i]);
	free(r->entries);
	free(r->entry_org);
	free(r->org);
	free(r);
}

static const Hie__V1__OrgStatus org_status[] = {
	[FANOUT_PENDING] = HIE__V1__ORG_STATUS__ORG_STATUS_UNSPECIFIED,
	[FANOUT_OK] = HIE__V1__ORG_STATUS__ORG_STATUS_OK,
	[FANOUT_NO_MATCH] = HIE__V1__ORG_STATUS__ORG_STATUS_NO_MATCH,
	[FANOUT_TIMEOUT] = HIE__V1__ORG_STATUS__ORG_STATUS_TIMEOUT,
	[FANOUT_REFUSED] = HIE__V1__ORG_STATUS__ORG_STATUS_REFUSED,
	[FANOUT_ERROR] = HIE__V1__ORG_STATUS__ORG_STATUS_ERROR,
};

void fanout_result_summary(const struct fanout_result *r, char *out, size_t size)
{
	size_t counts[FANOUT_ERROR + 1] = {0};
	for (size_t i = 0; i < r->n_orgs; i++)
		counts[r->org[i].status]++;
	snprintf(out, size, "%zu organisation(s): ok %zu, no match %zu, timeout %zu, refused %zu, "
	         "error %zu", r->n_orgs, counts[FANOUT_OK], counts[FANOUT_NO_MATCH],
	         counts[FANOUT_TIMEOUT], counts[FANOUT_REFUSED], counts[FANOUT_ERROR]);
}

int fanout_result_pack(const struct fanout_result *r, struct hx_buf *out)
{
	Hie__V1__OutsideQueryResponse m = HIE__V1__OUTSIDE_QUERY_RESPONSE__INIT;
	Hie__V1__OrgResult *orgs = calloc(r->n_orgs + 1, sizeof(*orgs));
	Hie__V1__OrgResult **porgs = calloc(r->n_orgs + 1, sizeof(*porgs));
	Hie__V1__PatientMatch *pm = calloc(r->n_orgs * 32 + 1, sizeof(*pm));
	Hie__V1__PatientMatch **ppm = calloc(r->n_orgs * 32 + 1, sizeof(*ppm));
	char **eorgs = calloc(r->n_entries + 1, sizeof(*eorgs));
	int rc = HX_ENOMEM;

	if (orgs == NULL || porgs == NULL || pm == NULL || ppm == NULL || eorgs == NULL)
		goto out;
	for (size_t i = 0; i < r->n_orgs; i++) {
		const struct fanout_org *g = &r->org[i];
		Hie__V1__OrgResult *o = &orgs[i];
		hie__v1__org_result__init(o);
		o->org_id = (char *)g->org_id;
		o->name = (char *)g->name;
		o->status = org_status[g->status];
		o->detail = (char *)g->detail;
		o->documents = (uint32_t)g->n_entries;
		o->cached = g->cached;
		o->ms = g->ms > 0 ? (uint32_t)g->ms : 0;
		o->hits = g->hits;
		o->matches = &ppm[i * 32];
		for (size_t k = 0; k < g->n_matches; k++) {
			Hie__V1__PatientMatch *p = &pm[i * 32 + k];
			hie__v1__patient_match__init(p);
			p->patient_id = (char *)g->matches[k];
			p->grade = g->grades[k];
			o->matches[o->n_matches++] = p;
		}
		porgs[i] = o;
	}
	for (size_t i = 0; i < r->n_entries; i++)
		eorgs[i] = (char *)r->org[r->entry_org[i]].org_id;
	m.orgs = porgs;
	m.n_orgs = r->n_orgs;
	m.entries = r->entries;
	m.n_entries = r->n_entries;
	m.entry_orgs = eorgs;
	m.n_entry_orgs = r->n_entries;
	m.locator = (char *)r->rls;
	m.ms = r->ms > 0 ? (uint32_t)r->ms : 0;
	rc = proto_pack(&m, out);
out:
	free(orgs);
	free(porgs);
	free(pm);
	free(ppm);
	free(eorgs);
	return rc;
}
