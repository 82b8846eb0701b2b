/*
 * node/fanout/fanout.h: the cross-organisation query (DESIGN §6): demographics → tokens →
 * the record locator's organisations (or every active peer) → discover at each, in
 * parallel → query for the matched patients, in parallel → entries merged by SHA-256, with a
 * status per organisation. A per-peer and an overall deadline: a partial answer is an answer.
 */
#ifndef HX_FANOUT_H
#define HX_FANOUT_H

#include <stdint.h>

#include "config.h"
#include "crypto.h"
#include "proto.h"
#include "store.h"

#define FANOUT_ORGS_MAX 256
#define FANOUT_ENTRIES_MAX 10000

enum fanout_status {
	FANOUT_PENDING = 0,
	FANOUT_OK,        /* matched, documents listed (maybe none) */
	FANOUT_NO_MATCH,  /* answered, no certain or probable match */
	FANOUT_TIMEOUT,   /* no answer within its deadline */
	FANOUT_REFUSED,   /* TLS refused, or 401/403 */
	FANOUT_ERROR,     /* any other failure: a bad answer, an HTTP error, no connection */
};
const char *fanout_status_name(enum fanout_status s);

struct fanout_org {
	char org_id[PROTO_ORG_ID_MAX + 1];
	char name[128];
	unsigned hits;                      /* tokens the RLS said it holds (0 without an RLS) */
	enum fanout_status status;
	char detail[320];                   /* why, for anything but OK */
	size_t n_matches;
	char matches[32][PROTO_PATIENT_ID_MAX + 1]; /* its local patient ids */
	int grades[32];                     /* Hie__V1__MatchGrade */
	size_t n_entries;                   /* its documents (before merging) */
	int cached;                         /* its matches came from the correlation cache */
	int64_t ms;                         /* from the start to its last answer */
};

struct fanout_opts {
	const struct config *cfg;           /* TLS identity, [rls] endpoints, timeouts */
	struct store *store;                /* enrolled peers */
	const struct crypto_linkage_key *key; /* NULL: no tokens, every active peer is asked */
	const Hie__V1__Demographics *demographics;
	Hie__V1__PurposeOfUse purpose;
	/* The clinician on whose behalf we ask (NULL: none), sent with every discover and query
	 * so that each organisation that answers records them in its audit trail. */
	const Hie__V1__RequestingUser *user;
	uint64_t peer_timeout_ms;           /* per call */
	uint64_t overall_timeout_ms;
	/* The correlation cache (store xref): matches an organisation gave for the same
	 * demographics within cache_ttl_ms are reused (no discover there); new certain and probable
	 * matches are written to it (the store must then be writable; a read-only one is only
	 * read). 0: no cache. */
	int64_t cache_ttl_ms;
};
#define FANOUT_CACHE_TTL_MS (24LL * 3600 * 1000)

struct fanout_result {
	struct fanout_org *org;             /* n_orgs of them */
	size_t n_orgs;
	char rls[512];                      /* how the locator answered ("" without one) */
	Hie__V1__DocumentEntry **entries;   /* merged: one per SHA-256, newest first */
	size_t *entry_org;                  /* the organisation that listed each (index into org) */
	size_t n_entries;
	int64_t ms;
};

/* Run one query to completion (its own event loop; returns within the overall deadline and a
 * little). HX_EINVAL with err set for demographics with too little to search on. */
int fanout_query(const struct fanout_opts *o, struct fanout_result **out, char *err,
                 size_t errlen);

/* An engine kept between queries (our TLS identity loaded once, one event loop, one libcurl
 * multi whose connections and TLS sessions stay warm): fanout_query() is fanout_run() on a
 * fresh one. */
struct fanout_engine;
int fanout_engine_new(const struct config *cfg, struct fanout_engine **out, char *err,
                      size_t errlen);
void fanout_engine_free(struct fanout_engine *e);
/* Close the engine's connections to peers (first contact again), keeping the TLS sessions
 * to resume: for benchmarks. HX_EBUSY while a query runs. */
int fanout_engine_disconnect(struct fanout_engine *e);
int fanout_run(struct fanout_engine *e, const struct fanout_opts *o, struct fanout_result **out,
               char *err, size_t errlen);

/* The same without waiting, on an event loop and peer client the caller runs (a worker of
 * hiepeerd): an engine attached to them (it keeps the peer list, owns neither). */
struct event_base;
struct peer_client;
int fanout_engine_attach(struct event_base *base, struct peer_client *pc,
                         struct fanout_engine **out);
/* Start a query: done(result, arg) is called once, from the loop, within the overall
 * deadline and a little; the result is the callee's to free. o (and what it points at) must
 * stay valid until then. Correlation-cache writes are queued (store_write_lazy) on an
 * attached engine. HX_EINVAL with err set for demographics with too little to search on. */
struct fanout;
typedef void (*fanout_done_fn)(struct fanout_result *r, void *arg);
int fanout_start(struct fanout_engine *e, const struct fanout_opts *o, fanout_done_fn done,
                 void *arg, struct fanout **out, char *err, size_t errlen);
/* Stop a query started and not yet done: its calls are cancelled, done is not called. */
void fanout_cancel(struct fanout *f);
void fanout_result_free(struct fanout_result *r);
/* The result as the local API answers it: an OutsideQueryResponse appended to out. */
int fanout_result_pack(const struct fanout_result *r, struct hx_buf *out);
/* How many organisations, and how many with each status, for an audit record's detail:
 * "3 organisation(s): ok 2, no match 1, timeout 0, refused 0, error 0". */
void fanout_result_summary(const struct fanout_result *r, char *out, size_t size);

#endif
