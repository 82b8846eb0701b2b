/*
 * store/store.h: the node's LMDB environment and every record in it.
 *
 * One environment per node, a directory holding data.mdb and lock.mdb. hiepeerd and
 * hiepeerctl open the same environment at the same time (LMDB is multi-process safe).
 * Sub-databases and key layouts: docs/store.md.
 *
 * Reading: store_read_begin() gives a read transaction (a consistent snapshot). Keep it
 * short: it must never outlive a callback of the event loop. Pointers into the store
 * ("views") are valid only until store_read_end() of the transaction that produced them.
 * Records returned as messages (Hie__V1__*) are copies the caller frees with proto_free().
 *
 * Writing (group commit): every write runs on the store's single writer thread. A caller
 * submits a write function with store_write() (blocks until durable) or store_write_submit()
 * (calls back when durable). The writer takes all queued submissions, runs them in one LMDB
 * transaction and commits once: concurrent submitters share one fsync. Each submission sees
 * the effects of those before it in the batch and succeeds or fails on its own: a write
 * function that returns an error has none of its changes committed. A write function may
 * be called more than once (the batch is re-run without a failed member); it must act only
 * through its transaction and its argument. If the map is full (MDB_MAP_FULL) the whole
 * batch fails with HX_ESPACE; reads keep working, and writes succeed again once space is
 * freed or the map is grown (store_map_grow(), or by another process) with no restart.
 *
 * Every function returns HX_OK or a negative enum hx_err; out-parameters are untouched on
 * failure. Errors common to all: HX_ENOMEM, HX_EIO, HX_ECORRUPT (damaged store), and for
 * writes HX_ESPACE (map or disk full) and HX_ECLOSED (store closing).
 */
#ifndef HX_STORE_H
#define HX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "hx.h"
#include "proto.h"

/* Schema version written by this build; a store with a higher one is refused. */
#define STORE_SCHEMA_VERSION 1
/* Default map size for a new store. */
#define STORE_MAP_SIZE_DEFAULT (1ULL << 30)
/* Most items any list call returns in one go. */
#define STORE_LIST_MAX 10000
/* Most candidates a blocking-key lookup may return. */
#define STORE_CANDIDATES_MAX 1000
/* Longest blocking key. */
#define STORE_BLOCK_KEY_MAX 64
/* Room for an error text from store_open(). */
#define STORE_ERR_MAX 256

struct store;
struct store_txn;

struct store_opts {
	int create;            /* make a new store at path (which must not hold one) */
	const char *org_id;    /* with create: this node's organisation OID */
	int read_only;         /* open without a writer: writes fail with HX_EDENIED */
	uint64_t map_size;     /* bytes; 0 = keep the store's (STORE_MAP_SIZE_DEFAULT if new) */
	unsigned max_readers;  /* LMDB reader slots; 0 = 256 */
	unsigned batch_max;    /* most submissions in one commit; 0 = 4096 */
};

/*
 * Open (or with opts->create, create) the store in directory `path`. Runs
 * mdb_reader_check() to clear reader slots of dead processes and starts the writer thread.
 * Errors, each with a sentence naming the problem in err[errlen]:
 *   HX_ENOTFOUND  no store at path (and not create)
 *   HX_EEXIST     create, but a hiepeer store is already there
 *   HX_EPERM      the directory or its files are not readable/writable by us
 *   HX_ECORRUPT   data.mdb is not an LMDB file, or is a foreign LMDB environment
 *   HX_EVERSION   the schema is newer than STORE_SCHEMA_VERSION
 *   HX_EINVAL     bad options (missing or invalid org_id on create)
 */
int store_open(const char *path, const struct store_opts *opts, struct store **out,
               char *err, size_t errlen);
/* Drain pending writes (each is committed or failed, and its submitter told), stop the
 * writer and close the environment. NULL is a no-op. No transaction may be open. */
void store_close(struct store *s);

/* This node's organisation OID (borrowed; lives as long as the store). */
const char *store_org_id(const struct store *s);
const char *store_path(const struct store *s);

struct store_stat {
	uint64_t map_size;       /* bytes mapped */
	uint64_t used;           /* bytes in use (last page number × page size) */
	unsigned page_size;
	uint32_t schema_version;
	uint64_t patients, documents, peers, audit_records, block_keys;
	uint64_t commits;        /* commits by this process's writer */
	uint64_t writes;         /* submissions committed by this process's writer */
};
int store_stat_get(struct store *s, struct store_stat *out);
/* Patients in the store as the transaction sees it (O(1)); 0 on error. */
uint64_t store_patient_count(struct store_txn *t);

/* Grow the map to `size` bytes (rounded up to a page) while running; persisted for other
 * processes with a commit. HX_EINVAL if smaller than the current map. */
int store_map_grow(struct store *s, uint64_t size);

/* ---- transactions ----------------------------------------------------------------------- */

int store_read_begin(struct store *s, struct store_txn **out);
/* End a read transaction; every view obtained from it dies here. NULL is a no-op. */
void store_read_end(struct store_txn *t);

/* A write function runs on the writer thread inside the batch's transaction. */
typedef int (*store_write_fn)(struct store_txn *t, void *arg);
/* Called on the writer thread once the batch holding the write is durable (rc HX_OK) or
 * has failed. It must not block and must not call store_write(). */
typedef void (*store_done_fn)(int rc, void *arg);

/* Run fn in the next batch and wait until it is durable. Returns fn's error, or the
 * commit's. Must not be called from the writer thread (from a write or done function). */
int store_write(struct store *s, store_write_fn fn, void *arg);
/* Queue fn; done(rc, arg) is called when its batch is durable or failed. HX_ECLOSED if the
 * store is closing (done is then not called). */
int store_write_submit(struct store *s, store_write_fn fn, store_done_fn done, void *arg);
/* The same for a write nobody waits on (audit records of disclosures): it may wait up to
 * STORE_LAZY_MS for others to share its commit, unless STORE_LAZY_BATCH are queued or an
 * ordinary write comes first. Cuts the commits of a steady stream of small records. */
#define STORE_LAZY_MS 20
#define STORE_LAZY_BATCH 1024
int store_write_lazy(struct store *s, store_write_fn fn, store_done_fn done, void *arg);

/* The store a transaction belongs to. */
struct store *store_txn_store(struct store_txn *t);

/* ---- meta ------------------------------------------------------------------------------- */

/* Trust generation: bumped by every change to peers, clients, CA bundle or CRL. */
int store_trust_gen_get(struct store_txn *t, uint64_t *out);
int store_trust_gen_bump(struct store_txn *t, uint64_t *out_new);

/* Small named values an operator or later module keeps in meta (name: [a-z0-9_.]{1,32};
 * reserved names are refused with HX_EDENIED). View valid until the transaction ends. */
int store_meta_get(struct store_txn *t, const char *name, const void **val, size_t *len);
int store_meta_put(struct store_txn *t, const char *name, const void *val, size_t len);

/* ---- patients --------------------------------------------------------------------------- */

/* Insert or replace a patient with its blocking keys (each 1..STORE_BLOCK_KEY_MAX bytes,
 * at most 64), in one transaction: keys of the previous version are removed. The patient
 * must pass proto_check(PROTO_PATIENT) (HX_EINVAL otherwise). */
struct store_key {
	const uint8_t *data;
	size_t len;
};
int store_patient_put(struct store_txn *t, const Hie__V1__Patient *p,
                      const struct store_key *keys, size_t nkeys);
/* The same, with the caller's match record: bytes derived from the demographics (node/
 * identity packs the normalised record), at most STORE_MATCH_RECORD_MAX, kept with the
 * patient and replaced with it. rec NULL (rec_len 0): none. */
#define STORE_MATCH_RECORD_MAX 2048 /* also proto_check's cap: raising it needs a schema
                                       * version, or older builds refuse such patients */
int store_patient_put_rec(struct store_txn *t, const Hie__V1__Patient *p,
                          const struct store_key *keys, size_t nkeys, const void *rec,
                          size_t rec_len);
/* HX_ENOTFOUND. */
int store_patient_get(struct store_txn *t, const char *id, Hie__V1__Patient **out);
/* Read a patient's demographics without allocating, for candidate search: fn gets the id
 * and demographics as stored (valid during the call only). The record is decoded by
 * protobuf-c into a per-thread buffer and not checked again: it was checked when written.
 * HX_ENOTFOUND; HX_EPARSE if it does not decode (or needs more than 64 KB); else fn's
 * return. */
typedef int (*store_demographics_fn)(const char *id, const Hie__V1__Demographics *d, void *arg);
int store_patient_demographics_visit(struct store_txn *t, const char *id,
                                     store_demographics_fn fn, void *arg);
/* Candidate search's read of one patient: rec_fn gets the match record stored with it, read
 * in place (nothing else is decoded; valid during the call only). When the patient has none,
 * or rec_fn returns HX_EVERSION (a record it cannot use), demo_fn gets the demographics as
 * store_patient_demographics_visit gives them. HX_ENOTFOUND; HX_EPARSE; else the callback's
 * return. */
typedef int (*store_match_record_fn)(const char *id, const uint8_t *rec, size_t len,
                                     void *arg);
int store_patient_match_visit(struct store_txn *t, const char *id,
                              store_match_record_fn rec_fn, store_demographics_fn demo_fn,
                              void *arg);
/* Remove a patient and its blocking keys. HX_ENOTFOUND; HX_EEXIST if it still has
 * documents (delete those first). */
int store_patient_delete(struct store_txn *t, const char *id);
/* Patients in id order after `after` (NULL: from the start), at most `limit`
 * (<= STORE_LIST_MAX). cb returns nonzero to stop early. *more is set when more remain. */
typedef int (*store_patient_cb)(const Hie__V1__Patient *p, void *arg);
int store_patient_list(struct store_txn *t, const char *after, size_t limit,
                       store_patient_cb cb, void *arg, int *more);
/* Local patient ids filed under a blocking key, at most `max` (<= STORE_CANDIDATES_MAX).
 * cb gets each id (a view). *truncated is set when more were there. */
typedef int (*store_id_cb)(const char *id, void *arg);
int store_block_lookup(struct store_txn *t, const uint8_t *key, size_t keylen, size_t max,
                       store_id_cb cb, void *arg, int *truncated);

/* ---- the correlation cache (store_xref.c) -------------------------------------------------
 * Which patients an organisation matched (certain or probable) for a query's demographics,
 * identified by a 32-byte fingerprint of them, until an expiry: a repeated query skips the
 * discover step there. */
#define STORE_XREF_IDS_MAX 32
int store_xref_put(struct store_txn *t, const uint8_t query[32], const char *org,
                   int64_t expires_ms, const char *const *ids, size_t n);
/* HX_ENOTFOUND when absent or expired at now_ms. */
int store_xref_get(struct store_txn *t, const uint8_t query[32], const char *org, int64_t now_ms,
                   char ids[][PROTO_PATIENT_ID_MAX + 1], size_t max, size_t *n);

/* ---- the RLS outbox (store_outbox.c) --------------------------------------------------------
 * Every patient put or delete records a change (in its own transaction), for the daemon to
 * turn into publications to the record locator: it reads the changes in order, compares the
 * patient's tokens now with those the locator was told ('published'), queues a LocatorPublish
 * of the difference, and sends the queue to each RLS endpoint from its cursor. */
int store_outbox_change(struct store_txn *t, const char *id);
typedef int (*store_change_cb)(uint64_t seq, const char *id, void *arg); /* 1: stop */
int store_outbox_changes(struct store_txn *t, size_t max, store_change_cb cb, void *arg);
int store_outbox_change_done(struct store_txn *t, uint64_t seq);
int store_outbox_published_get(struct store_txn *t, const char *id, uint8_t tokens[][32],
                               size_t max, size_t *n);
/* n == 0 forgets the patient. */
int store_outbox_published_put(struct store_txn *t, const char *id, const uint8_t tokens[][32],
                               size_t n);
/* Queue a publication; its sequence is assigned here (and written into it). */
int store_outbox_queue_put(struct store_txn *t, const Hie__V1__LocatorPublish *msg,
                           uint64_t *seq);
/* The first queued publication after `after` (packed, into msg); HX_ENOTFOUND if none. */
int store_outbox_queue_next(struct store_txn *t, uint64_t after, uint64_t *seq,
                            struct hx_buf *msg);
/* Forget publications up to `upto` (every endpoint has them). */
int store_outbox_queue_trim(struct store_txn *t, uint64_t upto);
/* Changes not yet prepared, and publications after `after`. */
int store_outbox_pending(struct store_txn *t, uint64_t after, uint64_t *changes,
                         uint64_t *queued);
/* Add delta to how many of our patients hold a token; *count is the new number (the entry
 * goes at 0). */
int store_outbox_token_count(struct store_txn *t, const uint8_t token[32], int delta,
                             uint32_t *count);
/* How far an RLS endpoint (its URL) has acknowledged (0: nothing yet). */
int store_outbox_cursor_get(struct store_txn *t, const char *endpoint, uint64_t *seq);
int store_outbox_cursor_put(struct store_txn *t, const char *endpoint, uint64_t seq);
/* The sequence of the last publication ever queued (0: none). */
int store_outbox_queue_last(struct store_txn *t, uint64_t *seq);
/* Whether an endpoint acknowledged up to `cursor` lacks publications the queue no longer
 * holds (trimmed before it was configured): then it needs a snapshot of every token held
 * now, and the queue after *last (the last publication queued). */
int store_outbox_lacking(struct store_txn *t, uint64_t cursor, int *lacking, uint64_t *last);
/* An endpoint's snapshot in progress (`meta` `rls.<hash>.snap`): every token held, sent in
 * ranges under a stream of its own, so that an interrupted snapshot (a failure, a restart)
 * resumes where it stopped, under the same stream. When it is done the endpoint's cursor
 * moves to `upto`, the last publication queued when it started: the queue after it replays
 * every later change over the snapshot. */
struct store_outbox_snap {
	uint64_t upto;                      /* the last publication queued at the start */
	uint8_t stream[PROTO_STREAM_LEN];   /* the snapshot's stream */
	uint64_t seq;                       /* its last acknowledged sequence */
	int has_after;                      /* the ranges up to `after` are acknowledged */
	uint8_t after[32];
};
/* HX_ENOTFOUND when no snapshot is in progress. */
int store_outbox_snap_get(struct store_txn *t, const char *endpoint,
                          struct store_outbox_snap *out);
int store_outbox_snap_put(struct store_txn *t, const char *endpoint,
                          const struct store_outbox_snap *s);
/* Begin one (a new random stream, upto = the last publication queued now). */
int store_outbox_snap_start(struct store_txn *t, const char *endpoint);
/* Done: the cursor moves to its upto, and the record goes. */
int store_outbox_snap_done(struct store_txn *t, const char *endpoint);
/* The last check of an endpoint (POST /hie/v1/rls/check) by the publisher, for `status`. */
enum store_check_outcome {
	STORE_CHECK_LEVEL = 1,   /* the RLS has applied exactly what it acknowledged */
	STORE_CHECK_BEHIND,      /* it lacked some: a snapshot was started */
	STORE_CHECK_AHEAD,       /* it had more: this store is an older copy, a new stream */
	STORE_CHECK_HELD,        /* it lacked some right after a snapshot: none sent again */
	STORE_CHECK_FAILED,      /* no usable answer */
	STORE_CHECK_UNSUPPORTED, /* 404: an RLS of an earlier version */
};
struct store_outbox_check {
	uint64_t time_ms;
	uint64_t applied, acknowledged;
	enum store_check_outcome outcome;
};
/* HX_ENOTFOUND before the first check. */
int store_outbox_check_get(struct store_txn *t, const char *endpoint,
                           struct store_outbox_check *out);
int store_outbox_check_put(struct store_txn *t, const char *endpoint,
                           const struct store_outbox_check *c);
/* The tokens this organisation's patients hold now ('r'), in byte order, strictly after
 * `after` (NULL: from the first), at most max; cb returns nonzero to stop. */
typedef int (*store_token_cb)(const uint8_t token[32], void *arg);
int store_outbox_tokens(struct store_txn *t, const uint8_t after[32], size_t max,
                        store_token_cb cb, void *arg);
/* The linkage key the outbox's tokens are made under, by its id (crypto_linkage_key.id, the
 * first STORE_KEY_ID_LEN bytes; `meta` `outbox_key`). The first call records it. With
 * another key, *changed = 1 and every patient whose tokens were published gets a change
 * (*patients of them): prepared again, its old tokens are withdrawn and its new ones added. */
#define STORE_KEY_ID_LEN 16
int store_outbox_key(struct store_txn *t, const uint8_t id[STORE_KEY_ID_LEN], int *changed,
                     uint64_t *patients);
/* The outbox's stream id, sent with each publication (LocatorPublish.stream): HX_ENOTFOUND
 * before the first. _new draws a new random one (the first, or when an RLS shows that this
 * store is an older copy of the one that published: restored from a backup). */
int store_outbox_stream_get(struct store_txn *t, uint8_t id[PROTO_STREAM_LEN]);
int store_outbox_stream_new(struct store_txn *t, uint8_t id[PROTO_STREAM_LEN]);

/* ---- documents -------------------------------------------------------------------------- */

/* Insert or replace a document: entry, content and per-patient index entry, atomically.
 * The entry must pass proto_check(PROTO_DOCUMENT_ENTRY); its size and sha256 must match
 * the content (HX_EINVAL); its patient must exist (HX_ENOTFOUND). */
int store_doc_put(struct store_txn *t, const Hie__V1__DocumentEntry *e, const uint8_t *content,
                  size_t len);
int store_doc_get(struct store_txn *t, const char *id, Hie__V1__DocumentEntry **out);
/* The stored, packed DocumentEntry as a view (checked when it was written), valid until the
 * transaction ends. HX_ENOTFOUND. */
int store_doc_entry_raw(struct store_txn *t, const char *id, const uint8_t **data, size_t *len);
/* The content as a view, valid until the transaction ends. HX_ENOTFOUND. */
int store_doc_content(struct store_txn *t, const char *id, const uint8_t **data, size_t *len);
/* Remove entry, content and index entry. HX_ENOTFOUND. */
int store_doc_delete(struct store_txn *t, const char *id);

/* A patient's documents, newest first. Codes match on code, and on system when the
 * filter's system is non-empty. */
struct store_doc_filter {
	int64_t created_from;                  /* inclusive, Unix ms; 0 = open */
	int64_t created_to;                    /* exclusive, Unix ms; 0 = open */
	Hie__V1__Code *const *type_codes;      /* any of these; none = any type */
	size_t n_type_codes;
	Hie__V1__Code *const *class_codes;
	size_t n_class_codes;
	unsigned status_mask;                  /* 1 << DocumentStatus; 0 = approved only */
	size_t limit;                          /* 0 or > STORE_LIST_MAX = STORE_LIST_MAX */
};
typedef int (*store_doc_cb)(const char *doc_id, int64_t creation_time, void *arg);
int store_doc_list(struct store_txn *t, const char *patient_id, const struct store_doc_filter *f,
                   store_doc_cb cb, void *arg, int *truncated);
/* Number of documents a patient has. */
int store_doc_count(struct store_txn *t, const char *patient_id, size_t *out);

/* ---- peers ------------------------------------------------------------------------------ */

/* Insert or replace a peer (must pass proto_check(PROTO_PEER)); bumps the trust generation. */
int store_peer_put(struct store_txn *t, const Hie__V1__Peer *p);
int store_peer_get(struct store_txn *t, const char *org_id, Hie__V1__Peer **out);
/* Bumps the trust generation. HX_ENOTFOUND. */
int store_peer_delete(struct store_txn *t, const char *org_id);
typedef int (*store_peer_cb)(const Hie__V1__Peer *p, void *arg);
int store_peer_list(struct store_txn *t, store_peer_cb cb, void *arg);

/* ---- local clients (db `clients`) --------------------------------------------------------
 * This organisation's own systems allowed on the local API, by certificate fingerprint. */

/* Insert or replace (must pass proto_check(PROTO_LOCAL_CLIENT)); bumps the trust generation.
 * Names are unique: the caller checks with store_client_get_by_name() first. */
int store_client_put(struct store_txn *t, const Hie__V1__LocalClient *c);
/* Bumps the trust generation. HX_ENOTFOUND. */
int store_client_delete(struct store_txn *t, const uint8_t fp[PROTO_FINGERPRINT_LEN]);
typedef int (*store_client_cb)(const Hie__V1__LocalClient *c, void *arg);
int store_client_list(struct store_txn *t, store_client_cb cb, void *arg);
/* HX_ENOTFOUND; free *out with proto_free(). */
int store_client_get_by_name(struct store_txn *t, const char *name, Hie__V1__LocalClient **out);

/* ---- record locator (RLS role) ---------------------------------------------------------- */

/* A blinded patient token (HMAC-SHA256, DESIGN §7): the RLS sees tokens and organisation
 * ids, nothing else. Each (token, organisation) pair is held once. */
#define STORE_TOKEN_LEN PROTO_TOKEN_LEN
/* Most organisations one store_locator_lookup() returns. */
#define STORE_LOCATOR_LOOKUP_MAX 1000

/* Record that organisation org_id (an OID) holds token. Idempotent: adding a pair already
 * there is HX_OK and changes nothing. Write transactions only. HX_EINVAL (read transaction,
 * bad org id); HX_ESPACE over the store's quota (docs/store.md: a full map). */
int store_locator_add(struct store_txn *t, const uint8_t token[STORE_TOKEN_LEN],
                      const char *org_id);
/* Remove that pair only (other organisations holding the token keep theirs). Idempotent:
 * HX_OK if it was not there. Write transactions only; HX_EINVAL. Allowed over the quota. */
int store_locator_remove(struct store_txn *t, const uint8_t token[STORE_TOKEN_LEN],
                         const char *org_id);
/* The organisations holding token, in byte order of their ids, at most `max` (0 or more
 * than STORE_LOCATOR_LOOKUP_MAX: that many). cb gets each id (NUL-terminated, len bytes,
 * valid during the call only) and returns nonzero to stop. *truncated (may be NULL) is set
 * on success: 1 when more organisations hold the token than were given. A token nobody
 * holds is HX_OK with no call. HX_ECORRUPT for a stored value that cannot be an
 * organisation id. */
typedef int (*store_org_cb)(const char *org_id, size_t len, void *arg);
int store_locator_lookup(struct store_txn *t, const uint8_t token[STORE_TOKEN_LEN], size_t max,
                         store_org_cb cb, void *arg, int *truncated);
/* The same for n tokens through one cursor (a locate's tokens, best ascending: a token near
 * the last one is found from the cursor's page). `max` applies to each token; *truncated is
 * 1 when any token was cut short; a nonzero cb stops the whole walk. */
int store_locator_lookup_each(struct store_txn *t, const uint8_t *const *tokens, size_t n,
                              size_t max, store_org_cb cb, void *arg, int *truncated);
/* Make org_id's tokens in the range (after, through] exactly `tokens` (ascending, each in the
 * range): its pairs there whose token is not listed are removed, the listed ones added.
 * after NULL: from the first token; through NULL: to the last. A publisher's snapshot, sent in
 * consecutive ranges, so the locator ends up holding what the organisation holds now,
 * whatever it was told before. Scans every pair in the range (all organisations').
 * *removed and *added count the pairs that changed. HX_EINVAL for tokens out of order or out
 * of the range, or an empty range. */
int store_locator_replace(struct store_txn *t, const char *org_id,
                          const uint8_t after[STORE_TOKEN_LEN],
                          const uint8_t through[STORE_TOKEN_LEN],
                          const uint8_t (*tokens)[STORE_TOKEN_LEN], size_t n, size_t *removed,
                          size_t *added);
/* Where a publisher's stream (LocatorPublish.stream) stands at the locator, kept in `meta`,
 * one entry per (organisation, stream): the highest sequence applied and its digest.
 * Publication `seq` with content `digest` (of its tokens):
 *   the next one (1 for a stream not seen): apply = 1, and it becomes the highest;
 *   further on:               apply = 0, gap = 1: the RLS lacks the ones between (restored
 *                             from a backup, or the stream evicted): the publisher sends a
 *                             snapshot, whose resume point (store_locator_resume) the
 *                             stream then goes on from;
 *   the highest, same digest: a resend whose ack was lost: apply = 0;
 *   otherwise:                apply = 0, conflict = 1: a late duplicate (applying it could
 *                             undo a later publication), or a publisher whose store is an
 *                             older copy (its sequences name other changes now).
 * applied: the stream's highest applied sequence after the call. An organisation's streams are
 * kept up to STORE_LOCATOR_STREAMS_MAX, the longest unused evicted. Write transactions only;
 * HX_EINVAL for seq 0 or a bad org id. */
/* Streams remembered per organisation: a new one beyond this evicts the longest unused. */
#define STORE_LOCATOR_STREAMS_MAX 16
struct store_locator_seq {
	uint8_t stream[PROTO_STREAM_LEN];
	uint64_t seq;
	uint8_t digest[32];
};
struct store_locator_seq_out {
	int apply, conflict;
	int gap;          /* past the highest applied + 1: not applied, the RLS lacks some */
	uint64_t applied;
};
int store_locator_sequence(struct store_txn *t, const char *org_id,
                           const struct store_locator_seq *in, struct store_locator_seq_out *out);
/* A snapshot brought org_id's tokens up to sequence seq of stream: that sequence counts as
 * applied (no digest: a resend of it is a conflict), unless a later one already is. */
int store_locator_resume(struct store_txn *t, const char *org_id,
                         const uint8_t stream[PROTO_STREAM_LEN], uint64_t seq);
/* The highest sequence of org_id's stream applied here (*seq = 0: a stream not known, or
 * evicted). Any transaction; HX_EINVAL for a bad org id, HX_ECORRUPT. */
int store_locator_applied(struct store_txn *t, const char *org_id,
                          const uint8_t stream[PROTO_STREAM_LEN], uint64_t *seq);
/* Every publisher stream the locator remembers (for `status` at an RLS): organisation, stream,
 * highest sequence applied and when (Unix ms; 0 for one recorded before times were kept), in
 * byte order of the organisation ids. cb returns nonzero to stop. */
typedef int (*store_stream_cb)(const char *org_id, const uint8_t stream[PROTO_STREAM_LEN],
                               uint64_t seq, uint64_t time_ms, void *arg);
int store_locator_streams(struct store_txn *t, store_stream_cb cb, void *arg);
/* (token, organisation) pairs in the locator (O(1)). */
int store_locator_stat(struct store_txn *t, uint64_t *pairs);

/* ---- audit ------------------------------------------------------------------------------ */

/*
 * Append an audit record in the caller's write transaction (so it commits with the change
 * it describes). The store sets seq (previous + 1) and prev_hash (SHA-256 of the previous
 * record's stored bytes; zeros for the first); the caller's ev is not modified and the
 * assigned sequence is returned in *seq (may be NULL). HX_EINVAL if ev fails proto_check.
 */
int store_audit_append(struct store_txn *t, const Hie__V1__AuditEvent *ev, uint64_t *seq);
int store_audit_get(struct store_txn *t, uint64_t seq, Hie__V1__AuditEvent **out);
/* Records from seq `from` upwards, at most limit. */
typedef int (*store_audit_cb)(const Hie__V1__AuditEvent *ev, void *arg);
int store_audit_list(struct store_txn *t, uint64_t from, size_t limit, store_audit_cb cb,
                     void *arg);

struct store_audit_report {
	uint64_t records;      /* records checked */
	uint64_t bad_seq;      /* first record that fails, 0 if none */
	char problem[160];     /* what failed, empty if none */
};
/* Walk the whole chain: sequence numbers contiguous from 1, each record's prev_hash equal to
 * the hash of the one before, the last equal to the head kept in meta. HX_OK, or
 * HX_ECORRUPT with the report saying where and what. */
int store_audit_verify(struct store_txn *t, struct store_audit_report *out);

#endif /* HX_STORE_H */
