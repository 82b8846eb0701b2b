/* api_rls.c: the record locator service (served when [node] role = rls), DESIGN §4:
 *   POST /hie/v1/rls/publish  LocatorPublish → LocatorPublishAck: the caller's organisation
 *                             (from its enrolment) now holds the added tokens and no longer
 *                             the removed ones;
 *   POST /hie/v1/rls/snapshot LocatorSnapshot → LocatorPublishAck: in a range of tokens, the
 *                             caller's organisation holds exactly these;
 *   POST /hie/v1/rls/locate   LocateRequest → LocateResponse: which other organisations hold
 *                             any of the tokens, and how many of them each holds;
 *   POST /hie/v1/rls/check    LocatorCheck → LocatorPublishAck: how far one of the caller's
 *                             streams has been applied here.
 * The RLS keeps tokens and organisation ids only (docs/peer-api.md). Tokens are never
 * logged. */
#include "api.h"

#include "crypto.h"
#include "tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most organisations counted per token of a locate. */
#define RLS_LOCATE_ORGS_PER_TOKEN 256
/* Most organisations in one LocateResponse (its wire cap, proto_check.c). */
#define RLS_LOCATE_ORGS_MAX 1000

_Static_assert(API_RLS_PUBLISH_TOKENS_MAX == 10000, "the publish error text names the limit");
/* Tokens (tag, length, 32 bytes each), a sequence (11), a stream (18), a range (70), a
 * resume point (18 + 11). */
_Static_assert(API_RLS_PUBLISH_TOKENS_MAX * (2 + PROTO_TOKEN_LEN) + 11 + 18 + 70 + 29 <=
                   API_RLS_PUBLISH_BODY_MAX,
               "a publish or snapshot of the most tokens fits the route's body limit");

/* The actor of an audit record: organisation and certificate from the enrolment. */
struct actor {
	char org[PROTO_ORG_ID_MAX + 1];
	uint8_t fp[CRYPTO_SHA256_LEN];
};

static void audit_init(Hie__V1__AuditEvent *ev, struct actor *a, const struct http_ctx *ctx,
                       Hie__V1__AuditAction action)
{
	hie__v1__audit_event__init(ev);
	ev->time = hx_time_now_ms();
	ev->action = action;
	ev->outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	hx_strlcpy(a->org, ctx->peer->org_id, sizeof(a->org));
	ev->actor_org = a->org;
	if (ctx->peer_fp != NULL) {
		memcpy(a->fp, ctx->peer_fp, CRYPTO_SHA256_LEN);
		ev->actor_fingerprint.data = a->fp;
		ev->actor_fingerprint.len = CRYPTO_SHA256_LEN;
	}
}

/* ---- publish and snapshot --------------------------------------------------------------- */

/* A publication (LocatorPublish) or a snapshot of a range (LocatorSnapshot): one of msg and
 * snap is set. */
struct publish {
	Hie__V1__LocatorPublish *msg;
	Hie__V1__LocatorSnapshot *snap;
	uint8_t (*snap_tokens)[PROTO_TOKEN_LEN]; /* the snapshot's tokens, packed */
	uint64_t sequence;
	Hie__V1__AuditEvent ev;
	struct actor actor;
	char detail[128];
	struct store_locator_seq seq;    /* with a stream: its sequence and the tokens' digest */
	struct store_locator_seq_out at; /* set by w_publish: where the stream stood */
};

/* Removes first, then adds (a token in both lists ends up held), then the audit record: one
 * write, so all of it commits or none. A snapshot makes the caller's tokens in its range
 * exactly those it lists. A publication of a stream whose sequence was applied before
 * changes nothing and is not audited again: it is a resend whose ack was lost, or a duplicate
 * that arrived late (applied again, it could undo a later publication); one whose sequence
 * conflicts with its stream is audited as denied. Acts only through t, and reads *arg except
 * `at`, `detail` and the record's outcome, which it sets: the writer may run it twice. */
static int w_publish(struct store_txn *t, void *arg)
{
	struct publish *p = arg;
	const char *org = p->actor.org;
	int rc;

	memset(&p->at, 0, sizeof(p->at));
	p->ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	if (p->seq.seq != 0) {
		if ((rc = store_locator_sequence(t, org, &p->seq, &p->at)) != HX_OK)
			return rc;
		if (!p->at.apply && !p->at.conflict && !p->at.gap)
			return HX_OK; /* a resend: audited when it was applied */
		if (!p->at.apply) { /* a late duplicate, an older copy of a store, or lost ones here */
			snprintf(p->detail, sizeof(p->detail),
			         "%s: sequence %llu %s its stream (applied up to %llu): not applied",
			         p->snap != NULL ? "snapshot" : "publish", (unsigned long long)p->sequence,
			         p->at.gap ? "leaves a gap in" : "conflicts with",
			         (unsigned long long)p->at.applied);
			p->ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_DENIED;
			return store_audit_append(t, &p->ev, NULL);
		}
	}
	if (p->snap != NULL) {
		const Hie__V1__TokenRange *rg = p->snap->range;
		size_t removed = 0, added = 0;
		rc = store_locator_replace(t, org, rg != NULL && rg->after.len ? rg->after.data : NULL,
		                           rg != NULL && rg->through.len ? rg->through.data : NULL,
		                           (const uint8_t(*)[PROTO_TOKEN_LEN])p->snap_tokens,
		                           p->snap->n_tokens, &removed, &added);
		if (rc != HX_OK)
			return rc;
		/* The last range: the publisher's queue goes on after resume_sequence. */
		if (p->snap->resume_stream.len == PROTO_STREAM_LEN &&
		    (rc = store_locator_resume(t, org, p->snap->resume_stream.data,
		                               p->snap->resume_sequence)) != HX_OK)
			return rc;
		snprintf(p->detail, sizeof(p->detail),
		         "snapshot: %zu held in the range, %zu added, %zu removed, sequence %llu",
		         p->snap->n_tokens, added, removed, (unsigned long long)p->sequence);
		return store_audit_append(t, &p->ev, NULL);
	}
	for (size_t i = 0; i < p->msg->n_remove; i++)
		if ((rc = store_locator_remove(t, p->msg->remove[i].data, org)) != HX_OK)
			return rc;
	for (size_t i = 0; i < p->msg->n_add; i++)
		if ((rc = store_locator_add(t, p->msg->add[i].data, org)) != HX_OK)
			return rc;
	snprintf(p->detail, sizeof(p->detail), "publish: %zu added, %zu removed, sequence %llu",
	         p->msg->n_add, p->msg->n_remove, (unsigned long long)p->sequence);
	return store_audit_append(t, &p->ev, NULL);
}

static void publish_free(void *arg)
{
	struct publish *p = arg;
	proto_free(p->msg);
	proto_free(p->snap);
	free(p->snap_tokens);
	free(p);
}

/* Chain the digest over a list of tokens, in runs of 64: D = H(D || label || run) ... */
static void digest_tokens(uint8_t d[32], const char *label, const ProtobufCBinaryData *tok,
                          size_t nt)
{
	struct crypto_iov iov[2 + 64];
	size_t i = 0, n;
	do {
		n = 0;
		iov[n++] = (struct crypto_iov){d, 32};
		iov[n++] = (struct crypto_iov){label, strlen(label)};
		for (size_t k = 0; k < 64 && i < nt; k++, i++)
			iov[n++] = (struct crypto_iov){tok[i].data, tok[i].len};
		crypto_sha256_v(iov, n, d);
	} while (i < nt);
}

/* A stream's place and what the publication carries: a digest of its added, then its removed
 * tokens (a snapshot: its range, then its tokens), in their order; a resend has the same. */
static void publish_digest(struct publish *p, const ProtobufCBinaryData *stream)
{
	struct store_locator_seq *s = &p->seq;
	memcpy(s->stream, stream->data, PROTO_STREAM_LEN);
	s->seq = p->sequence;
	memset(s->digest, 0, sizeof(s->digest));
	if (p->snap != NULL) {
		const Hie__V1__TokenRange *rg = p->snap->range;
		ProtobufCBinaryData bounds[2] = {{0, NULL}, {0, NULL}};
		if (rg != NULL) {
			bounds[0] = rg->after;
			bounds[1] = rg->through;
		}
		uint8_t lens[2] = {(uint8_t)bounds[0].len, (uint8_t)bounds[1].len};
		ProtobufCBinaryData lb = {sizeof(lens), lens};
		digest_tokens(s->digest, "range", &lb, 1); /* an open bound differs from any other */
		digest_tokens(s->digest, "bounds", bounds, 2);
		digest_tokens(s->digest, "held", p->snap->tokens, p->snap->n_tokens);
		return;
	}
	digest_tokens(s->digest, "add", p->msg->add, p->msg->n_add);
	digest_tokens(s->digest, "remove", p->msg->remove, p->msg->n_remove);
}

/* On the worker, once the publication is durable (or not): the ack. */
static int publish_answer(void *arg, int rc, struct hx_buf *body, const char **why)
{
	struct publish *p = arg;
	Hie__V1__LocatorPublishAck ack = HIE__V1__LOCATOR_PUBLISH_ACK__INIT;
	const char *what = p->snap != NULL ? "snapshot" : "publish";
	if (rc != HX_OK) {
		hx_log_err("rls: %s from %s (sequence %llu) not stored: %s", what, p->actor.org,
		           (unsigned long long)p->sequence, hx_strerror(rc));
		if (rc == HX_ESPACE)
			*why = "the locator's store is full";
		return rc;
	}
	ack.replay = p->seq.seq != 0 && !p->at.apply;
	if (ack.replay && p->at.gap)
		hx_log_warn("rls: %s from %s: sequence %llu, but its stream was applied here only up to "
		            "%llu (this RLS restored from a backup?): not applied; a snapshot is asked "
		            "for",
		            what, p->actor.org, (unsigned long long)p->sequence,
		            (unsigned long long)p->at.applied);
	else if (ack.replay && p->at.conflict)
		hx_log_warn("rls: %s from %s: sequence %llu conflicts with its stream (applied up to "
		            "%llu with other tokens): not applied; the publisher's store may be an "
		            "older copy",
		            what, p->actor.org, (unsigned long long)p->sequence,
		            (unsigned long long)p->at.applied);
	else if (ack.replay)
		hx_log_info("rls: %s from %s: sequence %llu applied before, acknowledged again", what,
		            p->actor.org, (unsigned long long)p->sequence);
	else
		hx_log_info("rls: %s from %s: %s", what, p->actor.org, p->detail);
	ack.sequence = p->sequence;
	ack.applied = p->at.applied;
	ack.conflict = p->at.conflict;
	ack.gap = p->at.gap;
	return proto_pack(&ack, body);
}

/* Audited, queued for the writer, answered once durable (the publisher drops the change from
 * its outbox on the ack); the worker serves its other connections meanwhile, and concurrent
 * publications share a commit. */
static int publish_submit(struct http_ctx *ctx, struct publish *p,
                          const ProtobufCBinaryData *stream)
{
	if (stream->len == PROTO_STREAM_LEN)
		publish_digest(p, stream);
	audit_init(&p->ev, &p->actor, ctx, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_PUBLISH);
	p->ev.detail = p->detail;
	return api_write_defer(ctx, ctx->cfg->read_timeout_ms, w_publish, publish_answer,
	                       publish_free, p);
}

int api_rls_publish(struct http_ctx *ctx)
{
	Hie__V1__LocatorPublish *msg = NULL;
	struct publish *p;

	if (proto_locator_publish_unpack(ctx->body, ctx->body_len, &msg) != HX_OK) {
		ctx->error_text = "the body is not a valid LocatorPublish (at least one token to add "
		                  "or remove; every token exactly 32 bytes; a stream is 16 bytes, with "
		                  "a sequence from 1)";
		return HX_EPARSE;
	}
	if (msg->n_add + msg->n_remove > API_RLS_PUBLISH_TOKENS_MAX) {
		ctx->error_text = "too many tokens: at most 10000 added and removed together in one "
		                  "publish";
		proto_free(msg);
		return HX_ELIMIT;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		proto_free(msg);
		return HX_ENOMEM;
	}
	p->msg = msg;
	p->sequence = msg->sequence;
	snprintf(p->detail, sizeof(p->detail), "publish: %zu added, %zu removed, sequence %llu",
	         msg->n_add, msg->n_remove, (unsigned long long)msg->sequence);
	return publish_submit(ctx, p, &msg->stream);
}

/* The RLS scans every pair of the range in one write: a range is held to a sixteenth of the
 * token space (a slice: the first four bits), as publishers send them. */
static int range_in_one_slice(const Hie__V1__TokenRange *rg)
{
	int first = 0, last = 15; /* the slices of the first and last tokens the range can hold */
	if (rg != NULL && rg->after.len == PROTO_TOKEN_LEN) {
		const uint8_t *a = rg->after.data;
		int top = (a[0] & 0x0f) == 0x0f;
		for (size_t i = 1; i < PROTO_TOKEN_LEN && top; i++)
			top = a[i] == 0xff;
		first = (a[0] >> 4) + top; /* the token after a slice's last is the next slice's */
	}
	if (rg != NULL && rg->through.len == PROTO_TOKEN_LEN)
		last = rg->through.data[0] >> 4;
	return first == last;
}

int api_rls_snapshot(struct http_ctx *ctx)
{
	Hie__V1__LocatorSnapshot *snap = NULL;
	struct publish *p;

	if (proto_locator_snapshot_unpack(ctx->body, ctx->body_len, &snap) != HX_OK) {
		ctx->error_text = "the body is not a valid LocatorSnapshot (tokens of exactly 32 bytes, "
		                  "ascending, inside the range; range bounds of 32 bytes, after below "
		                  "through; a stream of 16 bytes, with a sequence from 1)";
		return HX_EPARSE;
	}
	if (snap->n_tokens > API_RLS_PUBLISH_TOKENS_MAX) {
		ctx->error_text = "too many tokens: at most 10000 in one snapshot";
		proto_free(snap);
		return HX_ELIMIT;
	}
	if (!range_in_one_slice(snap->range)) {
		ctx->error_text = "a snapshot's range spans at most one sixteenth of the token space "
		                  "(its first and last possible tokens share their first four bits)";
		proto_free(snap);
		return HX_EPARSE;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (snap->n_tokens > 0 &&
	     (p->snap_tokens = calloc(snap->n_tokens, PROTO_TOKEN_LEN)) == NULL)) {
		free(p);
		proto_free(snap);
		return HX_ENOMEM;
	}
	for (size_t i = 0; i < snap->n_tokens; i++)
		memcpy(p->snap_tokens[i], snap->tokens[i].data, PROTO_TOKEN_LEN);
	p->snap = snap;
	p->sequence = snap->sequence;
	snprintf(p->detail, sizeof(p->detail), "snapshot: %zu held in the range, sequence %llu",
	         snap->n_tokens, (unsigned long long)snap->sequence);
	return publish_submit(ctx, p, &snap->stream);
}

/* ---- locate ----------------------------------------------------------------------------- */

/* The tally keeps only organisations enrolled and active here now. */
static void keep_active(void *trust, const char *const *ids, const uint32_t *hashes, size_t n,
                        unsigned char *yes)
{
	trust_orgs_active(trust, ids, hashes, n, yes);
}

/* Tokens in byte order, by insertion (a locate has at most 64). */
static void tokens_sort(ProtobufCBinaryData **tok, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		ProtobufCBinaryData *x = tok[i];
		size_t j = i;
		for (; j > 0 && memcmp(tok[j - 1]->data, x->data, PROTO_TOKEN_LEN) > 0; j--)
			tok[j] = tok[j - 1];
		tok[j] = x;
	}
}

/* The audit record of a locate: lazy (the answer does not wait for it), as for discover. */
struct locate_audit {
	Hie__V1__AuditEvent ev;
	struct actor actor;
	char detail[96];
};

static int w_locate_audit(struct store_txn *t, void *arg)
{
	return store_audit_append(t, &((struct locate_audit *)arg)->ev, NULL);
}

static void locate_audit_done(int rc, void *arg)
{
	if (rc != HX_OK)
		hx_log_err("rls: the audit record of a locate failed: %s", hx_strerror(rc));
	free(arg);
}

static void audit_locate(struct http_ctx *ctx, size_t tokens, size_t orgs)
{
	struct locate_audit *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		hx_log_err("rls: no memory for the audit record of a locate");
		return;
	}
	audit_init(&a->ev, &a->actor, ctx, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_LOCATE);
	snprintf(a->detail, sizeof(a->detail), "locate: %zu tokens, %zu organisations", tokens,
	         orgs);
	a->ev.detail = a->detail;
	if (store_write_lazy(ctx->store, w_locate_audit, locate_audit_done, a) != HX_OK) {
		hx_log_err("rls: cannot submit the audit record of a locate");
		free(a);
	}
}

int api_rls_locate(struct http_ctx *ctx)
{
	Hie__V1__LocateRequest *req = NULL;
	Hie__V1__LocateResponse resp = HIE__V1__LOCATE_RESPONSE__INIT;
	Hie__V1__LocateHit inline_hits[RLS_TALLY_INLINE], *inline_hitp[RLS_TALLY_INLINE];
	Hie__V1__LocateHit *hits = inline_hits, **hitp = inline_hitp;
	ProtobufCBinaryData *tok[64];
	const uint8_t *keys[64];
	struct rls_tally l;
	struct store_txn *t = NULL;
	size_t ntok = 0, norgs = 0;
	int truncated = 0, left_out = 0, rc;

	rls_tally_init(&l, ctx->peer->org_id);
	if (proto_locate_request_unpack(ctx->body, ctx->body_len, &req) != HX_OK) {
		ctx->error_text = "the body is not a valid LocateRequest (1 to 64 tokens, each "
		                  "exactly 32 bytes)";
		return HX_EPARSE;
	}
	if (req->n_tokens > HX_ARRAY_SIZE(tok)) { /* the wire cap already says so */
		rc = HX_EPARSE;
		goto done;
	}
	/* A token sent twice counts once; in byte order, the cursor moves forward. */
	for (size_t i = 0; i < req->n_tokens; i++)
		tok[i] = &req->tokens[i];
	tokens_sort(tok, req->n_tokens);
	for (size_t i = 0; i < req->n_tokens; i++)
		if (ntok == 0 || memcmp(keys[ntok - 1], tok[i]->data, PROTO_TOKEN_LEN) != 0)
			keys[ntok++] = tok[i]->data;

	if ((rc = store_read_begin(ctx->store, &t)) != HX_OK)
		goto done;
	/* Only organisations enrolled and active here now are named: one removed or suspended
	 * is not (its tokens stay in the locator, named again if it is resumed), and does not
	 * count toward a token's cap either. */
	rc = rls_locate_count(&l, t, keys, ntok, RLS_LOCATE_ORGS_PER_TOKEN, keep_active,
	                      ctx->trust, &norgs, &truncated, &left_out);
	store_read_end(t);
	if (rc != HX_OK)
		goto done;
	if (norgs > RLS_TALLY_INLINE &&
	    ((hits = malloc(norgs * sizeof(*hits))) == NULL ||
	     (hitp = malloc(norgs * sizeof(*hitp))) == NULL)) {
		rc = HX_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < norgs; i++) {
		hie__v1__locate_hit__init(&hits[i]);
		hits[i].org_id = l.slots[i].id;
		hits[i].hits = l.slots[i].hits;
		hitp[i] = &hits[i];
	}
	rls_hits_sort(hitp, norgs);
	resp.n_orgs = norgs < RLS_LOCATE_ORGS_MAX ? norgs : RLS_LOCATE_ORGS_MAX;
	resp.orgs = hitp;
	truncated |= norgs > RLS_LOCATE_ORGS_MAX;
	/* Every locate is in the audit trail; the log has it at debug, at info when cut. */
	hx_log(truncated ? HX_LOG_INFO : HX_LOG_DEBUG,
	       "rls: locate from %s: %zu token(s), %zu organisation(s)%s%s", l.self, req->n_tokens,
	       resp.n_orgs, truncated ? " (organisation cap reached)" : "",
	       left_out ? " (and some not active here, left out)" : "");
	rc = proto_pack(&resp, ctx->out);
	if (rc == HX_OK)
		audit_locate(ctx, req->n_tokens, resp.n_orgs);
done:
	if (hitp != inline_hitp)
		free(hitp);
	if (hits != inline_hits)
		free(hits);
	rls_tally_release(&l);
	proto_free(req);
	return rc;
}

/* ---- check ------------------------------------------------------------------------------ */

int api_rls_check(struct http_ctx *ctx)
{
	Hie__V1__LocatorCheck *req = NULL;
	Hie__V1__LocatorPublishAck ack = HIE__V1__LOCATOR_PUBLISH_ACK__INIT;
	struct store_txn *t;
	uint64_t applied = 0, acknowledged;
	int rc;

	if (proto_locator_check_unpack(ctx->body, ctx->body_len, &req) != HX_OK) {
		ctx->error_text = "the body is not a valid LocatorCheck (a stream of exactly 16 bytes)";
		return HX_EPARSE;
	}
	if ((rc = store_read_begin(ctx->store, &t)) == HX_OK) {
		rc = store_locator_applied(t, ctx->peer->org_id, req->stream.data, &applied);
		store_read_end(t);
	}
	acknowledged = req->acknowledged;
	proto_free(req);
	if (rc != HX_OK)
		return rc;
	/* Not audited: the caller learns only how far its own publications went. */
	if (applied < acknowledged)
		hx_log_notice("rls: check from %s: its stream is applied here up to %llu, short of the "
		              "%llu it had acknowledged (restored from a backup?): a snapshot is due "
		              "from it",
		              ctx->peer->org_id, (unsigned long long)applied,
		              (unsigned long long)acknowledged);
	else /* every node, every few minutes: not worth an info line */
		hx_log_debug("rls: check from %s: its stream is applied up to %llu", ctx->peer->org_id,
		             (unsigned long long)applied);
	ack.applied = applied;
	return proto_pack(&ack, ctx->out);
}
