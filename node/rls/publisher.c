/* publisher.c: tell the record locator which patients this node knows, durably.
 *
 * A thread of hiepeerd (role node, with [rls] endpoints and linkage_key):
 *   prepare  turn the store's patient changes (written with each patient put or delete) into
 *            one queued LocatorPublish per batch: for each changed patient, its tokens now
 *            against those last published; a token is added when the first patient of this
 *            organisation has it and removed when the last one loses it (the locator knows
 *            organisations, not patients), counted in the outbox ('r' keys);
 *   send     for each endpoint, the queued publications after its cursor, in order, each
 *            until acknowledged with its sequence (then the cursor moves, in the store);
 *            a failure backs off (1 s doubling to 60 s) and is retried; nothing is lost
 *            while an RLS is down, and an acknowledged publication is never sent again;
 *   trim     forget publications every endpoint has;
 *   check    with nothing to send, ask each endpoint how far it has applied our stream (at
 *            start, then every [rls] check_interval): one restored from a backup meanwhile
 *            gets a snapshot without waiting for our next change.
 * The RLS is pinned to its enrolled certificate (the peer with role rls and that URL). */
#include "publisher.h"

#include "hx.h"
#include "identity.h"
#include "peer.h"
#include "trust.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREPARE_BATCH 500
#define SEND_PER_ROUND 200
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define PUBLISH_TOKENS_MAX 10000
#define ACK_MAX 1024

struct endpoint {
	char url[CONFIG_PATH_MAX];
	struct peer_pin pin;          /* the pins of the last calls */
	int pinned;
	int64_t next_try_ms;
	int64_t backoff_ms;
	unsigned gap_snapshots;       /* snapshots for gaps (found publishing or checking) since a
	                               * publication went through or a check found it level */
	int64_t gap_snapshot_ms;      /* when the last of them started */
	int64_t next_check_ms;        /* 0: at the first chance */
	int64_t check_backoff_ms;     /* after a failed check: its own, publications go on */
	int no_check;                 /* the RLS answered 404 to a check (an earlier version) */
	char check_problem[256];
	char problem[256];
};

struct publisher {
	struct store *store;
	struct trust *trust;          /* where our identity comes from (NULL: loaded once) */
	struct crypto_tls_client *tls;
	struct event_base *base;      /* the thread's: its connections stay open between calls */
	struct peer_client *pc;
	struct crypto_linkage_key key;
	uint64_t timeout_ms;
	uint64_t check_ms;
	struct endpoint ep[CONFIG_ENDPOINTS_MAX];
	unsigned n_ep;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
};

static const char *const shared_systems[] = {IDN_SYS_SSN, NULL};

/* ---- prepare ------------------------------------------------------------------------------ */

struct token_set {
	uint8_t (*t)[32];
	size_t n, cap;
};

static int set_find(const struct token_set *s, const uint8_t *tok)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->t[i], tok, 32) == 0)
			return (int)i;
	return -1;
}

static int set_add(struct token_set *s, const uint8_t *tok)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint8_t (*t)[32] = realloc(s->t, cap * sizeof(*t));
		if (t == NULL)
			return HX_ENOMEM;
		s->t = t;
		s->cap = cap;
	}
	memcpy(s->t[s->n++], tok, 32);
	return HX_OK;
}

static void set_del(struct token_set *s, int i)
{
	memmove(s->t[i], s->t[i + 1], (s->n - (size_t)i - 1) * 32);
	s->n--;
}

struct prep {
	struct publisher *p;
	struct token_set add, remove;
	struct { uint64_t seq; char id[PROTO_PATIENT_ID_MAX + 1]; } ch[PREPARE_BATCH];
	size_t n;
	size_t done;   /* changes the write took (the rest: the next batch) */
	size_t queued; /* publications queued by the write */
};

static int collect_change(uint64_t seq, const char *id, void *arg)
{
	struct prep *pr = arg;
	pr->ch[pr->n].seq = seq;
	hx_strlcpy(pr->ch[pr->n].id, id, sizeof(pr->ch[0].id));
	pr->n++;
	return pr->n == PREPARE_BATCH ? 1 : HX_OK;
}

struct now_tokens {
	const struct publisher *p;
	struct identity_token t[IDENTITY_TOKENS_MAX];
	size_t n;
};

static int tokens_cb(const char *id, const Hie__V1__Demographics *d, void *arg)
{
	struct now_tokens *nt = arg;
	struct idn_record r;
	(void)id;
	idn_from_demographics(d, &r);
	nt->n = identity_tokens(&nt->p->key, &r, shared_systems, nt->t, IDENTITY_TOKENS_MAX);
	return HX_OK;
}

/* The organisation gains or loses one patient holding tok: the locator hears of it when
 * that was the first or the last. */
static int token_delta(struct store_txn *t, struct prep *pr, const uint8_t *tok, int delta)
{
	uint32_t count;
	int rc = store_outbox_token_count(t, tok, delta, &count), i;
	if (rc != HX_OK)
		return rc;
	if (delta > 0 && count == 1) {
		if ((i = set_find(&pr->remove, tok)) >= 0)
			set_del(&pr->remove, i); /* removed and added again in this batch */
		else
			return set_add(&pr->add, tok);
	} else if (delta < 0 && count == 0) {
		if ((i = set_find(&pr->add, tok)) >= 0)
			set_del(&pr->add, i);
		else
			return set_add(&pr->remove, tok);
	}
	return HX_OK;
}

static int w_prepare(struct store_txn *t, void *arg)
{
	struct prep *pr = arg;
	int rc;
	pr->add.n = pr->remove.n = 0;
	pr->queued = 0;
	pr->done = 0;
	for (size_t i = 0; i < pr->n; i++) {
		/* One publication stays within what an RLS takes: a patient changes at most its
		 * tokens now and those published before. The rest wait for the next batch. */
		if (pr->add.n + pr->remove.n + 2 * IDENTITY_TOKENS_MAX > PUBLISH_TOKENS_MAX)
			break;
		pr->done = i + 1;
		struct now_tokens nt = {.p = pr->p};
		uint8_t old[IDENTITY_TOKENS_MAX][32], now[IDENTITY_TOKENS_MAX][32];
		size_t nold = 0;
		rc = store_patient_demographics_visit(t, pr->ch[i].id, tokens_cb, &nt);
		if (rc == HX_ENOTFOUND)
			nt.n = 0; /* deleted: everything it had goes */
		else if (rc != HX_OK)
			return rc;
		if ((rc = store_outbox_published_get(t, pr->ch[i].id, old, IDENTITY_TOKENS_MAX,
		                                     &nold)) != HX_OK)
			return rc;
		for (size_t k = 0; k < nt.n; k++)
			memcpy(now[k], nt.t[k].token, 32);
		for (size_t k = 0; k < nt.n; k++) {
			int had = 0;
			for (size_t j = 0; j < nold && !had; j++)
				had = memcmp(old[j], now[k], 32) == 0;
			if (!had && (rc = token_delta(t, pr, now[k], +1)) != HX_OK)
				return rc;
		}
		for (size_t j = 0; j < nold; j++) {
			int has = 0;
			for (size_t k = 0; k < nt.n && !has; k++)
				has = memcmp(old[j], now[k], 32) == 0;
			if (!has && (rc = token_delta(t, pr, old[j], -1)) != HX_OK)
				return rc;
		}
		if ((rc = store_outbox_published_put(t, pr->ch[i].id, (const uint8_t(*)[32])now,
		                                     nt.n)) != HX_OK ||
		    (rc = store_outbox_change_done(t, pr->ch[i].seq)) != HX_OK)
			return rc;
	}
	if (pr->add.n + pr->remove.n > 0) {
		Hie__V1__LocatorPublish m = HIE__V1__LOCATOR_PUBLISH__INIT;
		ProtobufCBinaryData *b = calloc(pr->add.n + pr->remove.n, sizeof(*b));
		if (b == NULL)
			return HX_ENOMEM;
		for (size_t k = 0; k < pr->add.n; k++)
			b[k] = (ProtobufCBinaryData){32, pr->add.t[k]};
		for (size_t k = 0; k < pr->remove.n; k++)
			b[pr->add.n + k] = (ProtobufCBinaryData){32, pr->remove.t[k]};
		m.add = b;
		m.n_add = pr->add.n;
		m.remove = b + pr->add.n;
		m.n_remove = pr->remove.n;
		rc = store_outbox_queue_put(t, &m, NULL);
		free(b);
		if (rc != HX_OK)
			return rc;
		pr->queued = 1;
	}
	return HX_OK;
}

/* One batch of changes into (at most) one publication. Returns the changes taken, or -1;
 * *more when changes remain. */
static long prepare(struct publisher *p, int *more)
{
	struct prep *pr = calloc(1, sizeof(*pr));
	struct store_txn *t;
	long taken = -1;
	int rc;
	if (pr == NULL)
		return -1;
	pr->p = p;
	if (store_read_begin(p->store, &t) == HX_OK) {
		rc = store_outbox_changes(t, PREPARE_BATCH, collect_change, pr);
		store_read_end(t);
		if (rc == HX_OK && pr->n == 0)
			taken = 0;
		else if (rc == HX_OK && (rc = store_write(p->store, w_prepare, pr)) == HX_OK)
			taken = (long)pr->done;
		else
			hx_log_err("rls: cannot prepare publications: %s", hx_strerror(rc));
	}
	*more = taken > 0 && (pr->done < pr->n || pr->n == PREPARE_BATCH);
	free(pr->add.t);
	free(pr->remove.t);
	free(pr);
	return taken;
}

/* ---- send --------------------------------------------------------------------------------- */

struct cursor_arg {
	const char *url;
	uint64_t seq;
};

static int w_cursor(struct store_txn *t, void *arg)
{
	struct cursor_arg *a = arg;
	return store_outbox_cursor_put(t, a->url, a->seq);
}

/* A failure noted: a warning when its reason changes (what: "" or "check: "), the back-off
 * doubled from BACKOFF_MIN_MS up to cap, and the next try put off by it. */
static void retry_later(const char *url, const char *what, char problem[256],
                        int64_t *backoff_ms, int64_t cap, int64_t *next_ms, const char *fmt,
                        va_list ap) __attribute__((format(printf, 7, 0)));
static void retry_later(const char *url, const char *what, char problem[256],
                        int64_t *backoff_ms, int64_t cap, int64_t *next_ms, const char *fmt,
                        va_list ap)
{
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (strcmp(msg, problem) != 0)
		hx_log_warn("rls: %s: %s%s; trying again with back-off", url, what, msg);
	hx_strlcpy(problem, msg, 256);
	*backoff_ms = *backoff_ms ? *backoff_ms * 2 : BACKOFF_MIN_MS;
	if (*backoff_ms > cap)
		*backoff_ms = cap;
	*next_ms = hx_time_now_ms() + *backoff_ms;
}

static void problem(struct endpoint *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct endpoint *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	retry_later(e->url, "", e->problem, &e->backoff_ms, BACKOFF_MAX_MS, &e->next_try_ms, fmt,
	            ap);
	va_end(ap);
}

static int w_stream_new(struct store_txn *t, void *arg)
{
	return store_outbox_stream_new(t, arg);
}

/* The outbox's stream id: the store's, or a new one (the first publication of this store). */
static int stream_id(struct publisher *p, uint8_t id[PROTO_STREAM_LEN])
{
	struct store_txn *t;
	int rc = store_read_begin(p->store, &t);
	if (rc != HX_OK)
		return rc;
	rc = store_outbox_stream_get(t, id);
	store_read_end(t);
	if (rc == HX_ENOTFOUND)
		rc = store_write(p->store, w_stream_new, id);
	return rc;
}

/* One publication to an endpoint, and its acknowledgement (*ack, for the caller to free):
 * HX_OK, or the problem noted on the endpoint. */
static int call(struct publisher *p, struct endpoint *e, const char *url, const struct hx_buf *msg,
                uint64_t seq, struct hx_buf *resp, Hie__V1__LocatorPublishAck **ack)
{
	struct peer_request req = {0};
	char err[256];
	long status = 0;
	int rc;
	req.url = url;
	req.fp = e->pin.fp;
	req.fp_next = e->pin.has_next ? e->pin.next : NULL;
	req.body = msg->data;
	req.body_len = msg->len;
	req.timeout_ms = p->timeout_ms;
	req.max_response = ACK_MAX;
	hx_buf_reset(resp);
	*ack = NULL;
	if ((rc = peer_call_wait(p->pc, p->base, &req, &status, resp, err, sizeof(err))) != HX_OK) {
		problem(e, "%s", err);
		return rc;
	}
	if (status != 200) {
		problem(e, "publication %llu (%zu bytes) answered %ld", (unsigned long long)seq,
		        msg->len, status);
		return HX_EPEER;
	}
	if (proto_locator_publish_ack_unpack(resp->data, resp->len, ack) != HX_OK ||
	    (*ack)->sequence != seq) {
		proto_free(*ack);
		*ack = NULL;
		problem(e, "publication %llu: the acknowledgement does not name it",
		        (unsigned long long)seq);
		return HX_EPEER;
	}
	return HX_OK;
}

static void published(struct endpoint *e)
{
	if (e->problem[0] != '\0')
		hx_log_notice("rls: %s: publishing again", e->url);
	e->problem[0] = '\0';
	e->backoff_ms = 0;
}

/* ---- snapshots ------------------------------------------------------------------------------
 * An endpoint that lacks what the queue no longer holds (added to the configuration after the
 * queue was trimmed), and every endpoint once the store proves an older copy of the one that
 * published, gets a snapshot: every token this organisation holds now, in 16 slices of the
 * token space (by the first four bits: each a bounded scan at the RLS), a slice in
 * publications of at most PUBLISH_TOKENS_MAX tokens, each saying "in this range we hold
 * exactly these" (POST /hie/v1/rls/snapshot). Progress is kept in the store, so a snapshot
 * resumes under its own stream where it stopped. */

/* The last token of slice k (0..15); none for the last slice. */
static void slice_end(int k, uint8_t hi[32], int *has_hi)
{
	*has_hi = k < 15;
	memset(hi, 0xff, 32);
	hi[0] = (uint8_t)((k << 4) | 0x0f);
}

/* The slice holding the first token after `after` (none: the first): 0..15, or 16 when the
 * last range has been sent. */
static int slice_next(const struct store_outbox_snap *st)
{
	int k, top = 1;
	if (!st->has_after)
		return 0;
	k = st->after[0] >> 4;
	for (int i = 1; i < 32 && top; i++)
		top = st->after[i] == 0xff;
	return (top && (st->after[0] & 0x0f) == 0x0f) ? k + 1 : k;
}

struct chunk {
	uint8_t (*tok)[32];
	size_t n;
	const uint8_t *hi; /* NULL: no upper bound */
};

static int chunk_token(const uint8_t token[32], void *arg)
{
	struct chunk *ch = arg;
	if (ch->hi != NULL && memcmp(token, ch->hi, 32) > 0)
		return 1; /* past the slice */
	memcpy(ch->tok[ch->n++], token, 32);
	return 0;
}

struct snap_arg {
	const char *url;
	struct store_outbox_snap st;
	int done;
};

/* Progress, or done; HX_EBUSY (nothing written) when the record is no longer this snapshot's:
 * `rls resync` started another meanwhile. */
static int w_snap(struct store_txn *t, void *arg)
{
	struct snap_arg *a = arg;
	struct store_outbox_snap now;
	int rc = store_outbox_snap_get(t, a->url, &now);
	if (rc == HX_ENOTFOUND ||
	    (rc == HX_OK && memcmp(now.stream, a->st.stream, PROTO_STREAM_LEN) != 0))
		return HX_EBUSY;
	if (rc != HX_OK)
		return rc;
	return a->done ? store_outbox_snap_done(t, a->url) : store_outbox_snap_put(t, a->url, &a->st);
}

static int w_snap_start(struct store_txn *t, void *arg)
{
	return store_outbox_snap_start(t, arg);
}

/* The store is an older copy: a new outbox stream, and a snapshot for every endpoint. */
struct restored_arg {
	struct publisher *p;
	uint8_t *stream;
};

static int w_restored(struct store_txn *t, void *arg)
{
	struct restored_arg *a = arg;
	int rc = store_outbox_stream_new(t, a->stream);
	for (unsigned i = 0; i < a->p->n_ep && rc == HX_OK; i++)
		rc = store_outbox_snap_start(t, a->p->ep[i].url);
	return rc;
}

/* The endpoint's snapshot in progress, from the store: HX_OK, or the problem noted. */
static int snap_load(struct publisher *p, struct endpoint *e, struct snap_arg *sa)
{
	struct store_txn *t;
	int rc = store_read_begin(p->store, &t);
	if (rc == HX_OK) {
		rc = store_outbox_snap_get(t, e->url, &sa->st);
		store_read_end(t);
	}
	if (rc != HX_OK && rc != HX_ENOTFOUND)
		problem(e, "reading the snapshot in progress: %s", hx_strerror(rc));
	sa->done = 0;
	return rc;
}

/* Snapshot publications sent in one go before the publisher turns to its other work
 * (preparing changes, other endpoints): a large snapshot holds nothing up for long. */
#define SNAPSHOT_PER_ROUND 32

/* Send the endpoint's snapshot in progress, from where it stopped: HX_OK when done, HX_EBUSY
 * when SNAPSHOT_PER_ROUND publications went and more remain, else the problem noted. */
static int snapshot(struct publisher *p, struct endpoint *e, const char *url,
                    const uint8_t main_stream[PROTO_STREAM_LEN], struct hx_buf *msg,
                    struct hx_buf *resp)
{
	struct chunk ch = {calloc(PUBLISH_TOKENS_MAX, 32), 0, NULL};
	ProtobufCBinaryData *b = calloc(PUBLISH_TOKENS_MAX, sizeof(*b));
	struct snap_arg sa = {.url = e->url};
	struct store_txn *t;
	int rc = HX_ENOMEM, conflicts = 0, calls = 0;

	if (ch.tok == NULL || b == NULL || (rc = snap_load(p, e, &sa)) != HX_OK)
		goto out;
	if (sa.st.seq == 0)
		hx_log_notice("rls: %s: sending it every token held now (a snapshot), then the queue "
		              "after publication %llu",
		              e->url, (unsigned long long)sa.st.upto);
	while (!p->stopping) {
		Hie__V1__LocatorSnapshot m = HIE__V1__LOCATOR_SNAPSHOT__INIT;
		Hie__V1__TokenRange range = HIE__V1__TOKEN_RANGE__INIT;
		Hie__V1__LocatorPublishAck *ack = NULL;
		uint8_t hi[32], through[32];
		int k = slice_next(&sa.st), has_hi, has_through;
		if (k > 15) { /* every range acknowledged */
			sa.done = 1;
		} else if (calls++ == SNAPSHOT_PER_ROUND) {
			rc = HX_EBUSY; /* the rest next round: the progress is in the store */
			break;
		} else {
			slice_end(k, hi, &has_hi);
			ch.n = 0;
			ch.hi = has_hi ? hi : NULL;
			if ((rc = store_read_begin(p->store, &t)) != HX_OK) {
				problem(e, "reading the tokens held: %s", hx_strerror(rc));
				break;
			}
			rc = store_outbox_tokens(t, sa.st.has_after ? sa.st.after : NULL,
			                         PUBLISH_TOKENS_MAX, chunk_token, &ch);
			store_read_end(t);
			if (rc != HX_OK) {
				problem(e, "reading the tokens held: %s", hx_strerror(rc));
				break;
			}
			/* A full chunk ends at its last token; else the range runs to the slice's end
			 * (the last slice's is open: so is a full chunk's there that ends at ff..ff, so
			 * that the last range always goes, with the resume point). */
			has_through = ch.n == PUBLISH_TOKENS_MAX || has_hi;
			memcpy(through, ch.n == PUBLISH_TOKENS_MAX ? ch.tok[ch.n - 1] : hi, 32);
			if (has_through && !has_hi) {
				int top = 1;
				for (size_t i = 0; i < 32 && top; i++)
					top = through[i] == 0xff;
				has_through = !top;
			}
			for (size_t i = 0; i < ch.n; i++)
				b[i] = (ProtobufCBinaryData){32, ch.tok[i]};
			m.tokens = b;
			m.n_tokens = ch.n;
			m.sequence = sa.st.seq + 1;
			m.stream = (ProtobufCBinaryData){PROTO_STREAM_LEN, sa.st.stream};
			if (sa.st.has_after)
				range.after = (ProtobufCBinaryData){32, sa.st.after};
			if (has_through)
				range.through = (ProtobufCBinaryData){32, through};
			else if (sa.st.upto > 0) { /* the last range: the queue goes on after upto */
				m.resume_stream = (ProtobufCBinaryData){PROTO_STREAM_LEN, (uint8_t *)main_stream};
				m.resume_sequence = sa.st.upto;
			}
			m.range = &range;
			hx_buf_reset(msg);
			if ((rc = proto_pack(&m, msg)) != HX_OK ||
			    (rc = call(p, e, url, msg, m.sequence, resp, &ack)) != HX_OK)
				break;
			if (ack->gap) {
				/* The RLS lost ranges of this snapshot it had acknowledged (restored from a
				 * backup meanwhile): the snapshot again from the start, under a new stream. */
				proto_free(ack);
				if (++conflicts > 3) {
					problem(e, "snapshot publication %llu: a gap again",
					        (unsigned long long)m.sequence);
					rc = HX_EPEER;
					break;
				}
				hx_log_warn("rls: %s: lost part of the snapshot it had acknowledged: starting "
				            "it again",
				            e->url);
				if ((rc = store_write(p->store, w_snap_start, (void *)e->url)) != HX_OK ||
				    (rc = snap_load(p, e, &sa)) != HX_OK) {
					problem(e, "cannot start the snapshot again: %s", hx_strerror(rc));
					break;
				}
				continue;
			}
			if (ack->conflict) {
				/* This sequence (an ack lost, the range read again since) or a later one was
				 * applied with other tokens: the range again under the next free sequence.
				 * Every range holds the state at or after `upto`, so sending one again is
				 * harmless. */
				uint64_t applied = ack->applied;
				proto_free(ack);
				if (++conflicts > 3) {
					problem(e, "snapshot publication %llu: conflicts again (applied up to %llu)",
					        (unsigned long long)m.sequence, (unsigned long long)applied);
					rc = HX_EPEER;
					break;
				}
				sa.st.seq = applied; /* at least this sequence: the next one is free */
			} else {
				proto_free(ack);
				conflicts = 0;
				sa.st.seq = m.sequence;
				if (!has_through) {
					sa.done = 1;
				} else {
					sa.st.has_after = 1;
					memcpy(sa.st.after, through, 32);
				}
			}
		}
		rc = store_write(p->store, w_snap, &sa);
		if (rc == HX_EBUSY) { /* another snapshot was started meanwhile: that one instead */
			hx_log_notice("rls: %s: a new snapshot was asked for: starting it", e->url);
			if ((rc = snap_load(p, e, &sa)) != HX_OK)
				break;
			continue;
		}
		if (rc != HX_OK) {
			problem(e, "cannot record the snapshot's progress: %s", hx_strerror(rc));
			break;
		}
		if (sa.done)
			break;
	}
	if (rc == HX_OK && sa.done) {
		hx_log_notice("rls: %s: snapshot done after %llu publication(s); the queue follows "
		              "from %llu",
		              e->url, (unsigned long long)sa.st.seq, (unsigned long long)sa.st.upto + 1);
		published(e);
		/* Checked at once: a level answer shows the RLS took it (and that a later restore
		 * there deserves a snapshot of its own); one still behind shows it did not. */
		e->next_check_ms = 0;
	} else if (rc == HX_OK) {
		rc = HX_ECLOSED; /* stopping */
	}
out:
	free(ch.tok);
	free(b);
	return rc;
}

/* The endpoint lacks publications it had acknowledged (a gap, found publishing or by a
 * check): whether to send a snapshot. Not again within 12 check intervals of the last one
 * for that, with no publication applied or level check since: lacking them again so soon
 * says two URLs for one RLS, or two RLS stores behind one address (a snapshot each time would
 * never end); a real second restore is then brought up to date a little later, or at once by
 * `rls resync`. */
static int gap_snapshot_ok(const struct publisher *p, struct endpoint *e)
{
	int64_t now = hx_time_now_ms();
	if (e->gap_snapshots > 0 && now - e->gap_snapshot_ms < 12 * (int64_t)p->check_ms)
		return 0;
	e->gap_snapshots++;
	e->gap_snapshot_ms = now;
	return 1;
}

/* Send this endpoint's publications after its cursor; returns 1 if more remain. */
static int send_some(struct publisher *p, struct endpoint *e)
{
	struct peer_pin f;
	struct store_txn *t;
	struct hx_buf msg, resp;
	char url[CONFIG_PATH_MAX + 32], snap_url[CONFIG_PATH_MAX + 32];
	uint8_t stream[PROTO_STREAM_LEN];
	int rc, more = 0, renewed = 0;

	if (peer_pin_by_url(p->store, e->url, HIE__V1__PEER_ROLE__PEER_ROLE_RLS, &f) != HX_OK) {
		problem(e, "no active enrolled peer with role rls has this URL");
		return 0;
	}
	/* Re-pinned since the last calls: not over a connection verified against the old pins. */
	if (e->pinned && (memcmp(e->pin.fp, f.fp, sizeof(f.fp)) != 0 ||
	                  e->pin.has_next != f.has_next ||
	                  (f.has_next && memcmp(e->pin.next, f.next, sizeof(f.next)) != 0)))
		peer_client_disconnect(p->pc);
	e->pin = f;
	e->pinned = 1;
	if ((rc = stream_id(p, stream)) != HX_OK) {
		problem(e, "cannot read the outbox's stream id: %s", hx_strerror(rc));
		return 0;
	}
	peer_url_join(e->url, "/hie/v1/rls/publish", url, sizeof(url));
	peer_url_join(e->url, "/hie/v1/rls/snapshot", snap_url, sizeof(snap_url));
	hx_buf_init(&msg, 1u << 20);
	hx_buf_init(&resp, ACK_MAX);
	for (int i = 0; i < SEND_PER_ROUND && !p->stopping; i++) {
		Hie__V1__LocatorPublishAck *ack = NULL;
		struct store_outbox_snap st;
		uint64_t cursor = 0, seq = 0, last = 0;
		int lacking = 0, snapping = 0;
		if (store_read_begin(p->store, &t) != HX_OK)
			break;
		rc = store_outbox_snap_get(t, e->url, &st);
		snapping = rc == HX_OK;
		if (rc == HX_ENOTFOUND)
			rc = store_outbox_cursor_get(t, e->url, &cursor);
		if (rc == HX_OK && !snapping)
			rc = store_outbox_lacking(t, cursor, &lacking, &last);
		if (rc == HX_OK && !snapping && !lacking)
			rc = store_outbox_queue_next(t, cursor, &seq, &msg);
		store_read_end(t);
		if (rc == HX_OK && snapping) {
			if ((rc = snapshot(p, e, snap_url, stream, &msg, &resp)) == HX_EBUSY)
				more = 1; /* more of it next round, after the other work */
			if (rc != HX_OK)
				break;
			continue;
		}
		if (rc == HX_OK && lacking) { /* what it lacks was trimmed: a snapshot first */
			if ((rc = store_write(p->store, w_snap_start, e->url)) != HX_OK) {
				problem(e, "cannot start a snapshot: %s", hx_strerror(rc));
				break;
			}
			continue;
		}
		if (rc == HX_ENOTFOUND)
			break; /* all sent */
		if (rc == HX_OK) { /* the stream, appended: protobuf merges a concatenation */
			Hie__V1__LocatorPublish sm = HIE__V1__LOCATOR_PUBLISH__INIT;
			sm.stream = (ProtobufCBinaryData){PROTO_STREAM_LEN, stream};
			rc = proto_pack(&sm, &msg);
		}
		if (rc != HX_OK) {
			problem(e, "reading the outbox: %s", hx_strerror(rc));
			break;
		}
		if (call(p, e, url, &msg, seq, &resp, &ack) != HX_OK)
			break;
		if (ack->gap) {
			/* The RLS has applied our stream only up to an earlier publication than the one
			 * before this: it lost some (restored from a backup). A snapshot, then the queue;
			 * a gap again right after one is a problem (two URLs for one RLS?), with back-off
			 * and no snapshot for a while (gap_snapshot_ok). */
			unsigned long long applied = (unsigned long long)ack->applied;
			proto_free(ack);
			if (!gap_snapshot_ok(p, e)) {
				problem(e, "publication %llu leaves a gap again after a snapshot (applied up "
				        "to %llu)",
				        (unsigned long long)seq, applied);
				break;
			}
			hx_log_warn("rls: %s: has applied this store's publications only up to %llu, "
			            "short of %llu (restored from a backup?): a snapshot, then the queue",
			            e->url, applied, (unsigned long long)seq);
			if ((rc = store_write(p->store, w_snap_start, e->url)) != HX_OK) {
				e->gap_snapshots--; /* none started */
				problem(e, "cannot start a snapshot: %s", hx_strerror(rc));
				break;
			}
			continue;
		}
		if (ack->conflict) {
			/* The RLS applied this stream's sequence with other tokens, or later ones: this
			 * store is an older copy of the one that published (restored from a backup), and
			 * its sequences name other changes now. What every RLS holds of ours may be
			 * wrong either way: a new stream, and a snapshot for every endpoint. */
			unsigned long long applied = (unsigned long long)ack->applied;
			struct restored_arg ra = {p, stream};
			proto_free(ack);
			if (renewed++) {
				problem(e, "publication %llu conflicts with a new stream (applied up to %llu)",
				        (unsigned long long)seq, applied);
				break;
			}
			hx_log_warn("rls: %s: publication %llu conflicts with what it applied of this "
			            "store's (up to %llu): the store is an older copy; a new stream, and "
			            "a snapshot to every RLS",
			            e->url, (unsigned long long)seq, applied);
			if ((rc = store_write(p->store, w_restored, &ra)) != HX_OK) {
				problem(e, "cannot start a new outbox stream: %s", hx_strerror(rc));
				break;
			}
			continue;
		}
		proto_free(ack);
		e->gap_snapshots = 0; /* applied: the stream is whole there */
		{
			struct cursor_arg ca = {e->url, seq};
			if ((rc = store_write(p->store, w_cursor, &ca)) != HX_OK) {
				problem(e, "cannot record the acknowledgement: %s", hx_strerror(rc));
				break;
			}
		}
		published(e);
		more = i == SEND_PER_ROUND - 1;
	}
	hx_buf_clear(&msg);
	hx_buf_clear(&resp);
	return more;
}

/* ---- checks -------------------------------------------------------------------------------
 * An RLS restored from a backup lacks what it had acknowledged since. A node that publishes
 * finds out from its next publication (a gap); one with nothing to publish asks instead: at
 * start, then every check_interval, while it has nothing to send there, how far the RLS has
 * applied its stream, against what it has acknowledged (the endpoint's cursor). */

/* Whether the endpoint has nothing to send: no snapshot in progress, nothing queued after its
 * cursor (*cursor), nothing it lacks. */
static int idle_at(struct publisher *p, struct endpoint *e, uint64_t *cursor)
{
	struct store_outbox_snap st;
	struct store_txn *t;
	uint64_t last = 0;
	int lacking = 0, idle = 0;
	if (store_read_begin(p->store, &t) != HX_OK)
		return 0;
	if (store_outbox_snap_get(t, e->url, &st) == HX_ENOTFOUND &&
	    store_outbox_cursor_get(t, e->url, cursor) == HX_OK &&
	    store_outbox_lacking(t, *cursor, &lacking, &last) == HX_OK)
		idle = !lacking && last <= *cursor; /* nothing queued after the cursor */
	store_read_end(t);
	return idle;
}

/* A check's outcome, recorded in the store for `status`. */
struct check_arg {
	const char *url;
	struct store_outbox_check c;
};

static int w_check(struct store_txn *t, void *arg)
{
	struct check_arg *a = arg;
	return store_outbox_check_put(t, a->url, &a->c);
}

/* The check's outcome, for `status` (a failure to record it is only logged). */
static void check_record(struct publisher *p, struct endpoint *e, enum store_check_outcome o,
                         uint64_t applied, uint64_t acknowledged)
{
	struct check_arg a = {e->url, {(uint64_t)hx_time_now_ms(), applied, acknowledged, o}};
	int rc = store_write(p->store, w_check, &a);
	if (rc != HX_OK)
		hx_log_err("rls: %s: cannot record the check: %s", e->url, hx_strerror(rc));
}

/* A check that failed: its own back-off (1 s doubling, up to the interval), a warning when the
 * reason changes; the endpoint's publications are not held up. */
static void check_failed(struct publisher *p, struct endpoint *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check_failed(struct publisher *p, struct endpoint *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	retry_later(e->url, "check: ", e->check_problem, &e->check_backoff_ms,
	            p->check_ms < BACKOFF_MAX_MS ? (int64_t)p->check_ms : BACKOFF_MAX_MS,
	            &e->next_check_ms, fmt, ap);
	va_end(ap);
	check_record(p, e, STORE_CHECK_FAILED, 0, 0);
}

static void check(struct publisher *p, struct endpoint *e)
{
	Hie__V1__LocatorCheck m = HIE__V1__LOCATOR_CHECK__INIT;
	Hie__V1__LocatorPublishAck *ack = NULL;
	struct peer_request req = {0};
	struct hx_buf msg, resp;
	uint8_t stream[PROTO_STREAM_LEN];
	char url[CONFIG_PATH_MAX + 32], err[256];
	uint64_t cursor = 0, applied;
	enum store_check_outcome outcome = STORE_CHECK_LEVEL;
	long status = 0;
	int rc;

	if (!idle_at(p, e, &cursor))
		return; /* sending: a gap would show in the answers */
	if ((rc = stream_id(p, stream)) != HX_OK) {
		check_failed(p, e, "cannot read the outbox's stream id: %s", hx_strerror(rc));
		return;
	}
	m.stream = (ProtobufCBinaryData){PROTO_STREAM_LEN, stream};
	m.acknowledged = cursor;
	hx_buf_init(&msg, 256);
	hx_buf_init(&resp, ACK_MAX);
	peer_url_join(e->url, "/hie/v1/rls/check", url, sizeof(url));
	req.url = url;
	req.fp = e->pin.fp;
	req.fp_next = e->pin.has_next ? e->pin.next : NULL;
	req.timeout_ms = p->timeout_ms;
	req.max_response = ACK_MAX;
	if ((rc = proto_pack(&m, &msg)) != HX_OK) {
		check_failed(p, e, "cannot make one: %s", hx_strerror(rc));
		goto out;
	}
	req.body = msg.data;
	req.body_len = msg.len;
	if (peer_call_wait(p->pc, p->base, &req, &status, &resp, err, sizeof(err)) != HX_OK) {
		check_failed(p, e, "%s", err);
		goto out;
	}
	if (status == 404) {
		/* An RLS of an earlier version (its gaps show when we publish): asked again every
		 * 12 intervals, in case it is upgraded. */
		if (!e->no_check)
			hx_log_notice("rls: %s: does not answer checks (an earlier version?); a restore "
			              "there is noticed at the next publication; asking again in %llu s",
			              e->url, (unsigned long long)(12 * p->check_ms / 1000));
		e->no_check = 1;
		e->next_check_ms = hx_time_now_ms() + 12 * (int64_t)p->check_ms;
		check_record(p, e, STORE_CHECK_UNSUPPORTED, 0, cursor);
		goto out;
	}
	if (status != 200) {
		check_failed(p, e, "answered %ld", status);
		goto out;
	}
	if (proto_locator_publish_ack_unpack(resp.data, resp.len, &ack) != HX_OK ||
	    ack->sequence != 0) {
		check_failed(p, e, "the answer is not a valid LocatorPublishAck");
		goto out;
	}
	applied = ack->applied;
	if (e->check_problem[0] != '\0' || e->no_check)
		hx_log_notice("rls: %s: answers checks again", e->url);
	e->check_problem[0] = '\0';
	e->no_check = 0;
	e->check_backoff_ms = 0;
	if (applied < cursor && !gap_snapshot_ok(p, e)) {
		hx_log_warn("rls: %s: has applied this store's publications only up to %llu of the "
		            "%llu it acknowledged, though a snapshot for that was sent lately and not "
		            "found level since: not sending another for now (two URLs for one RLS, or "
		            "two RLS stores behind one address? `hiepeerctl rls resync` sends one at "
		            "once)",
		            e->url, (unsigned long long)applied, (unsigned long long)cursor);
		outcome = STORE_CHECK_HELD;
	} else if (applied < cursor) {
		hx_log_warn("rls: %s: has applied this store's publications only up to %llu of the "
		            "%llu it acknowledged (restored from a backup?): a snapshot, then the queue",
		            e->url, (unsigned long long)applied, (unsigned long long)cursor);
		if ((rc = store_write(p->store, w_snap_start, e->url)) != HX_OK) {
			e->gap_snapshots--; /* none started */
			check_failed(p, e, "cannot start a snapshot: %s", hx_strerror(rc));
			goto out;
		}
		outcome = STORE_CHECK_BEHIND;
	} else if (applied > cursor) {
		struct restored_arg ra = {p, stream};
		hx_log_warn("rls: %s: has applied this store's publications up to %llu, past the %llu "
		            "acknowledged here: the store is an older copy; a new stream, and a "
		            "snapshot to every RLS",
		            e->url, (unsigned long long)applied, (unsigned long long)cursor);
		if ((rc = store_write(p->store, w_restored, &ra)) != HX_OK) {
			check_failed(p, e, "cannot start a new outbox stream: %s", hx_strerror(rc));
			goto out;
		}
		outcome = STORE_CHECK_AHEAD;
	} else {
		e->gap_snapshots = 0; /* level: the stream is whole there */
	}
	check_record(p, e, outcome, applied, cursor);
	e->next_check_ms = hx_time_now_ms() + (int64_t)p->check_ms;
out:
	proto_free(ack);
	hx_buf_clear(&msg);
	hx_buf_clear(&resp);
}

struct trim_arg {
	uint64_t upto;
};

static int w_trim(struct store_txn *t, void *arg)
{
	return store_outbox_queue_trim(t, ((struct trim_arg *)arg)->upto);
}

static void trim(struct publisher *p)
{
	struct store_txn *t;
	struct trim_arg a = {UINT64_MAX};
	if (store_read_begin(p->store, &t) != HX_OK)
		return;
	for (unsigned i = 0; i < p->n_ep; i++) {
		uint64_t c = 0;
		store_outbox_cursor_get(t, p->ep[i].url, &c);
		if (c < a.upto)
			a.upto = c;
	}
	store_read_end(t);
	if (a.upto != 0 && a.upto != UINT64_MAX)
		store_write(p->store, w_trim, &a);
}

/* ---- the thread ----------------------------------------------------------------------------- */

_Static_assert(STORE_KEY_ID_LEN <= sizeof(((struct crypto_linkage_key *)0)->id), "a key id");

struct key_arg {
	const uint8_t *id;
	int changed;
	uint64_t patients;
};

static int w_key(struct store_txn *t, void *arg)
{
	struct key_arg *k = arg;
	return store_outbox_key(t, k->id, &k->changed, &k->patients);
}

/* Tokens made under another linkage key than the one loaded: every published patient is
 * prepared again (its old tokens withdrawn, its new ones added). One write: the key is
 * recorded with the changes, or neither (then tried again next round). */
static int key_check(struct publisher *p)
{
	struct key_arg k = {p->key.id, 0, 0};
	int rc = store_write(p->store, w_key, &k);
	if (rc != HX_OK)
		hx_log_err("rls: cannot record the linkage key in the outbox: %s", hx_strerror(rc));
	else if (k.changed)
		hx_log_notice("rls: the linkage key changed: the tokens of %llu patient(s) will be "
		              "withdrawn and published again under the new key",
		              (unsigned long long)k.patients);
	return rc;
}

static void *run(void *arg)
{
	struct publisher *p = arg;
	int64_t last_trim = 0;
	int key_recorded = 0;
	while (!p->stopping) {
		if (!key_recorded)
			key_recorded = key_check(p) == HX_OK;
		int more = 0;
		(void)prepare(p, &more); /* a failure is logged, and tried again next round */
		int64_t now = hx_time_now_ms(), wait_ms = 500;
		if (p->trust != NULL) { /* our certificate renewed: present the new one */
			struct crypto_tls_client *ct = trust_client_get(p->trust);
			if (ct != p->tls) {
				peer_client_set_tls(p->pc, ct);
				peer_client_disconnect(p->pc);
				crypto_tls_client_free(p->tls);
				p->tls = ct;
			} else {
				crypto_tls_client_free(ct);
			}
		}
		for (unsigned i = 0; i < p->n_ep && !p->stopping; i++) {
			struct endpoint *e = &p->ep[i];
			if (now < e->next_try_ms) {
				if (e->next_try_ms - now < wait_ms)
					wait_ms = e->next_try_ms - now;
				continue;
			}
			if (send_some(p, e)) {
				more = 1;
				continue;
			}
			/* Nothing more to send there, and no failure just now: a check when due. */
			if (!p->stopping && hx_time_now_ms() >= e->next_try_ms &&
			    hx_time_now_ms() >= e->next_check_ms)
				check(p, e);
			if (e->next_check_ms > now && e->next_check_ms - now < wait_ms)
				wait_ms = e->next_check_ms - now;
		}
		if (now - last_trim > 5000) {
			trim(p);
			last_trim = now;
		}
		if (more)
			continue;
		pthread_mutex_lock(&p->lock);
		if (!p->stopping) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
			until.tv_sec += (time_t)(wait_ms / 1000) + until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&p->wake, &p->lock, &until);
		}
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

int publisher_start(const struct config *cfg, struct store *store, struct trust *trust,
                    struct publisher **out, char *err, size_t errlen)
{
	struct publisher *p;
	int rc;
	*out = NULL;
	if (cfg->n_endpoints == 0)
		return HX_OK; /* nothing to publish to */
	if (cfg->linkage_key[0] == '\0') {
		snprintf(err, errlen, "[rls] endpoints are set but no [rls] linkage_key");
		return HX_EINVAL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return HX_ENOMEM;
	p->store = store;
	p->trust = trust;
	p->timeout_ms = cfg->peer_timeout_ms;
	p->check_ms = cfg->rls_check_ms;
	if (trust != NULL)
		p->tls = trust_client_get(trust);
	if ((rc = crypto_linkage_key_load(cfg->linkage_key, &p->key, err, errlen)) != HX_OK ||
	    (p->tls == NULL && (rc = crypto_tls_client_new(cfg->certificate, cfg->key, cfg->ca,
	                                                    cfg->crl, &p->tls, err,
	                                                    errlen)) != HX_OK)) {
		crypto_tls_client_free(p->tls);
		crypto_wipe(&p->key, sizeof(p->key));
		free(p);
		return rc;
	}
	for (unsigned i = 0; i < cfg->n_endpoints; i++)
		hx_strlcpy(p->ep[p->n_ep++].url, cfg->endpoints[i], sizeof(p->ep[0].url));
	if ((p->base = event_base_new()) == NULL ||
	    peer_client_new(p->base, p->tls, &p->pc) != HX_OK) {
		if (p->base != NULL)
			event_base_free(p->base);
		crypto_tls_client_free(p->tls);
		crypto_wipe(&p->key, sizeof(p->key));
		free(p);
		snprintf(err, errlen, "cannot set up the RLS publisher's client");
		return HX_ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		peer_client_free(p->pc);
		event_base_free(p->base);
		crypto_tls_client_free(p->tls);
		free(p);
		snprintf(err, errlen, "cannot start the RLS publisher thread");
		return HX_ENOMEM;
	}
	pthread_setname_np(p->thread, "hx-publisher");
	{
		char id[17];
		hx_hex_encode(p->key.id, 8, id);
		hx_log_notice("rls: publishing to %u endpoint(s), linkage key %s", p->n_ep, id);
	}
	*out = p;
	return HX_OK;
}

void publisher_stop(struct publisher *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	peer_client_free(p->pc); /* the thread's client: used only by it, now done */
	event_base_free(p->base);
	crypto_tls_client_free(p->tls);
	crypto_wipe(&p->key, sizeof(p->key));
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	free(p);
}
