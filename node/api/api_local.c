/* api_local.c: the local API (DESIGN §4, docs/local-api.md): this organisation's own systems,
 * registered as local clients, ask the network for a patient's outside records (the fan-out
 * of DESIGN §6) and retrieve remote documents, which are handed on only once their SHA-256
 * and their origin's signature have been checked.
 *
 * Both answers wait on calls to peers, so both handlers defer: the worker's event loop and its
 * libcurl multi carry the calls while the worker goes on serving other connections. */
#include "api.h"

#include "crypto.h"
#include "fanout.h"
#include "identity.h"
#include "peer.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A retrieve answer may carry up to 32 documents of at most PROTO_CONTENT_MAX each; this
 * caps what one call may bring in. */
#define LOCAL_RETRIEVE_RESPONSE_MAX (256u << 20)
/* Slack of the connection's deadline beyond the work's own. */
#define LOCAL_DEADLINE_SLACK_MS 2000

/* A write of the organisation's own records, queued for group commit; the worker goes on
 * serving while it is made durable, and answers when the writer thread says it is. */
struct write_op {
	int is_doc;
	Hie__V1__Patient *patient;  /* the patient to store */
	Hie__V1__DocumentPublish *doc; /* or the document as sent (freed as unpacked) */
	Hie__V1__DocumentEntry entry;  /* its entry completed by the node: a shallow copy, so that
	                                  the node's own strings are never freed as the message's */
	char id[33], uid[64];
	uint8_t sha[CRYPTO_SHA256_LEN];
	struct hx_buf sig;
	struct identity_keys keys;
	char who[128], detail[128];
	uint8_t fp[CRYPTO_SHA256_LEN];
	const char *org;
};

static void write_op_free(void *arg)
{
	struct write_op *op = arg;
	proto_free(op->patient);
	proto_free(op->doc);
	hx_buf_clear(&op->sig);
	free(op);
}

/* Per worker: the fan-out engine (attached to the worker's loop and peer client: connections
 * and TLS sessions to peers stay warm between queries), the linkage key, the signer of the
 * documents published here. */
struct local_state {
	struct fanout_engine *eng;
	struct crypto_linkage_key key;
	int key_state; /* 0: not read yet, 1: loaded, -1: none or unreadable */
	struct crypto_signer *signer;
	int signer_state;
};

void api_local_state_free(struct local_state *ls)
{
	fanout_engine_free(ls->eng);
	crypto_signer_free(ls->signer);
	crypto_wipe(&ls->key, sizeof(ls->key));
	free(ls);
}

static struct local_state *local_state(struct http_ctx *ctx)
{
	struct api_worker *w = api_worker_get(ctx);
	struct local_state *ls;
	if (w == NULL)
		return NULL;
	if (w->local != NULL)
		return w->local;
	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	if (fanout_engine_attach(ctx->base, ctx->peers, &ls->eng) != HX_OK) {
		free(ls);
		return NULL;
	}
	w->local = ls;
	return ls;
}

static const struct crypto_linkage_key *linkage_key(struct local_state *ls,
                                                   const struct config *cfg)
{
	char err[256];
	if (ls->key_state == 0) {
		ls->key_state = -1;
		if (cfg->linkage_key[0] == '\0')
			hx_log_notice("local: no [rls] linkage_key: queries ask every active peer");
		else if (crypto_linkage_key_load(cfg->linkage_key, &ls->key, err, sizeof(err)) != HX_OK)
			hx_log_err("local: %s; queries ask every active peer", err);
		else
			ls->key_state = 1;
	}
	return ls->key_state == 1 ? &ls->key : NULL;
}

/* The audit record at the requesting side: the local client and its user as the actor. */
static void audit(struct store *store, const struct config *cfg, const struct trust_peer *client,
                  const uint8_t *fp, int action, int purpose, const char *user,
                  const char *const *doc_ids, size_t nd, const char *detail)
{
	struct trust_peer me = {0};
	struct http_ctx actx = {0};
	char who[192];
	hx_strlcpy(me.org_id, cfg->org_id, sizeof(me.org_id));
	actx.store = store;
	actx.peer = &me;
	actx.peer_fp = fp;
	snprintf(who, sizeof(who), "%s/%s", client->name, user != NULL && user[0] ? user : "-");
	api_audit_disclosure(&actx, action, purpose, who, NULL, 0, doc_ids, nd, detail);
}

static uint64_t cap_ms(uint32_t asked, uint64_t limit)
{
	return asked != 0 && asked < limit ? asked : limit;
}

/* ---- POST /local/v1/query ---------------------------------------------------------------- */

struct query_op {
	struct http_deferred *d;
	struct fanout *f;
	Hie__V1__OutsideQuery *q;
	struct fanout_opts o;
	struct store *store;
	const struct config *cfg;
	struct trust_peer client;
	uint8_t fp[CRYPTO_SHA256_LEN];
};

static void query_op_free(struct query_op *op)
{
	proto_free(op->q);
	free(op);
}

static void query_cancel(void *arg)
{
	struct query_op *op = arg;
	fanout_cancel(op->f);
	query_op_free(op);
}

static void query_done(struct fanout_result *r, void *arg)
{
	struct query_op *op = arg;
	const char **ids = calloc(r->n_entries + 1, sizeof(*ids));
	char summary[160], detail[256];
	int rc;

	for (size_t i = 0; ids != NULL && i < r->n_entries; i++)
		ids[i] = r->entries[i]->id;
	fanout_result_summary(r, summary, sizeof(summary));
	snprintf(detail, sizeof(detail), "local client %s: %s", op->client.name, summary);
	audit(op->store, op->cfg, &op->client, op->fp, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_OUTSIDE_QUERY,
	      op->q->purpose, op->q->user != NULL ? op->q->user->id : NULL, ids,
	      ids != NULL ? r->n_entries : 0, detail);
	free(ids);
	hx_log_info("local: query by %s: %zu organisation(s), %zu document(s) in %lld ms",
	            op->client.name, r->n_orgs, r->n_entries, (long long)r->ms);
	rc = fanout_result_pack(r, http_deferred_body(op->d));
	fanout_result_free(r);
	http_deferred_answer(op->d, rc, NULL, NULL);
	query_op_free(op);
}

int api_local_query(struct http_ctx *ctx)
{
	struct local_state *ls = local_state(ctx);
	struct query_op *op;
	char err[256];
	int rc;

	if (ls == NULL)
		return HX_ENOMEM;
	if ((op = calloc(1, sizeof(*op))) == NULL)
		return HX_ENOMEM;
	if (proto_outside_query_unpack(ctx->body, ctx->body_len, &op->q) != HX_OK) {
		free(op);
		ctx->error_text = "the body is not a valid OutsideQuery (demographics with a valid "
		                  "birth date, and a purpose of use, are required)";
		return HX_EPARSE;
	}
	op->store = ctx->store;
	op->cfg = ctx->cfg;
	op->client = *ctx->peer;
	memcpy(op->fp, ctx->peer_fp, sizeof(op->fp));
	op->o.cfg = ctx->cfg;
	op->o.store = ctx->store;
	op->o.key = linkage_key(ls, ctx->cfg);
	op->o.demographics = op->q->demographics;
	op->o.purpose = op->q->purpose;
	op->o.user = op->q->user;
	op->o.peer_timeout_ms = cap_ms(op->q->peer_timeout_ms, ctx->cfg->peer_timeout_ms);
	op->o.overall_timeout_ms = cap_ms(op->q->overall_timeout_ms, ctx->cfg->query_timeout_ms);
	op->o.cache_ttl_ms = op->q->no_cache ? 0 : FANOUT_CACHE_TTL_MS;
	op->d = http_defer(ctx, op->o.overall_timeout_ms + LOCAL_DEADLINE_SLACK_MS, query_cancel, op);
	rc = fanout_start(ls->eng, &op->o, query_done, op, &op->f, err, sizeof(err));
	if (rc != HX_OK) {
		/* Not started: answer now (the deferral is answered, never cancelled). */
		http_deferred_answer(op->d, rc, NULL, rc == HX_EINVAL ? err : NULL);
		query_op_free(op);
	}
	return HTTP_DEFERRED;
}

/* ---- POST /local/v1/retrieve ------------------------------------------------------------- */

struct retrieve_op {
	struct http_deferred *d;
	struct peer_call *call;
	Hie__V1__OutsideRetrieve *q;
	struct store *store;
	const struct config *cfg;
	struct trust_peer client;
	uint8_t fp[CRYPTO_SHA256_LEN];
	uint64_t timeout_ms;
	char why[320];
};

static void retrieve_op_free(struct retrieve_op *op)
{
	proto_free(op->q);
	free(op);
}

static void retrieve_cancel(void *arg)
{
	struct retrieve_op *op = arg;
	if (op->call != NULL)
		peer_call_cancel(op->call);
	retrieve_op_free(op);
}

static void retrieve_finish(struct retrieve_op *op, int rc, const char *const *ids, size_t n,
                            const char *detail)
{
	char line[160];
	snprintf(line, sizeof(line), "local client %s from %s: %s", op->client.name, op->q->org_id,
	         detail);
	audit(op->store, op->cfg, &op->client, op->fp,
	      HIE__V1__AUDIT_ACTION__AUDIT_ACTION_OUTSIDE_RETRIEVE, op->q->purpose,
	      op->q->user != NULL ? op->q->user->id : NULL, ids, n, line);
	if (rc != HX_OK)
		hx_log_warn("local: retrieve by %s from %s: %s", op->client.name, op->q->org_id,
		            detail);
	http_deferred_answer(op->d, rc, NULL, rc != HX_OK ? op->why : NULL);
	retrieve_op_free(op);
}

static void retrieve_answered(struct peer_call *call, const struct peer_result *res, void *arg)
{
	struct retrieve_op *op = arg;
	Hie__V1__RetrieveResponse *rr = NULL;
	const char *ids[32];
	size_t n = 0;
	(void)call;
	op->call = NULL;
	if (res->rc != HX_OK || res->status != 200) {
		int rc = res->rc == HX_ETIMEOUT ? HX_ETIMEOUT : HX_EPEER;
		if (res->rc == HX_ETIMEOUT)
			snprintf(op->why, sizeof(op->why), "%s did not answer within %llu ms",
			         op->q->org_id, (unsigned long long)op->timeout_ms);
		else if (res->rc != HX_OK)
			snprintf(op->why, sizeof(op->why), "%s: %s", op->q->org_id, res->error);
		else
			snprintf(op->why, sizeof(op->why), "%s answered HTTP %ld", op->q->org_id,
			         res->status);
		retrieve_finish(op, rc, NULL, 0, op->why);
		return;
	}
	if (proto_retrieve_response_unpack(res->body.data, res->body.len, &rr) != HX_OK) {
		snprintf(op->why, sizeof(op->why), "%s's answer is not a valid RetrieveResponse",
		         op->q->org_id);
		retrieve_finish(op, HX_EPEER, NULL, 0, op->why);
		return;
	}
	/* Nothing unverified is handed on: one document that fails fails the answer. */
	for (size_t i = 0; i < rr->n_documents; i++) {
		const Hie__V1__Document *doc = rr->documents[i];
		int asked = 0;
		for (size_t k = 0; k < op->q->n_document_ids && !asked; k++)
			asked = strcmp(op->q->document_ids[k], doc->entry->id) == 0;
		if (!asked) {
			snprintf(op->why, sizeof(op->why), "%s answered with a document not asked for",
			         op->q->org_id);
			proto_free(rr);
			retrieve_finish(op, HX_EPEER, NULL, 0, op->why);
			return;
		}
		if (peer_document_verify(op->store, doc, op->q->allow_unsigned, op->why,
		                         sizeof(op->why)) != HX_OK) {
			proto_free(rr);
			retrieve_finish(op, HX_EPEER, NULL, 0, op->why);
			return;
		}
		if (n < 32)
			ids[n++] = doc->entry->id;
	}
	/* The peer's bytes, checked, are the answer. */
	if (hx_buf_append(http_deferred_body(op->d), res->body.data, res->body.len) != HX_OK) {
		proto_free(rr);
		retrieve_finish(op, HX_ENOMEM, NULL, 0, "no memory for the answer");
		return;
	}
	{
		char detail[96];
		snprintf(detail, sizeof(detail), "%zu document(s) verified, %zu missing",
		         rr->n_documents, rr->n_missing_ids);
		retrieve_finish(op, HX_OK, ids, n, detail);
	}
	proto_free(rr);
}

int api_local_retrieve(struct http_ctx *ctx)
{
	Hie__V1__RetrieveRequest rq = HIE__V1__RETRIEVE_REQUEST__INIT;
	struct peer_request req = {0};
	struct retrieve_op *op;
	Hie__V1__Peer *peer = NULL;
	struct store_txn *t;
	struct hx_buf body;
	char url[CONFIG_PATH_MAX + 64];
	int rc, node = 0;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return HX_ENOMEM;
	if (proto_outside_retrieve_unpack(ctx->body, ctx->body_len, &op->q) != HX_OK) {
		free(op);
		ctx->error_text = "the body is not a valid OutsideRetrieve (an organisation id, 1 to 32 "
		                  "document ids and a purpose of use are required)";
		return HX_EPARSE;
	}
	if ((rc = store_read_begin(ctx->store, &t)) == HX_OK) {
		rc = store_peer_get(t, op->q->org_id, &peer);
		store_read_end(t);
	}
	if (rc == HX_OK)
		for (size_t i = 0; i < peer->n_roles; i++)
			node |= peer->roles[i] == HIE__V1__PEER_ROLE__PEER_ROLE_NODE;
	if (rc != HX_OK || !node || peer->status != HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE ||
	    peer->endpoint == NULL || peer->endpoint[0] == '\0') {
		proto_free(peer);
		retrieve_op_free(op);
		ctx->error_text = "no active enrolled node with that organisation id";
		return HX_ENOTFOUND;
	}
	op->store = ctx->store;
	op->cfg = ctx->cfg;
	op->client = *ctx->peer;
	memcpy(op->fp, ctx->peer_fp, sizeof(op->fp));
	op->timeout_ms = ctx->cfg->peer_timeout_ms;
	rq.document_ids = op->q->document_ids;
	rq.n_document_ids = op->q->n_document_ids;
	rq.purpose = op->q->purpose;
	rq.user = op->q->user;
	hx_buf_init(&body, 64 * 1024);
	peer_url_join(peer->endpoint, "/hie/v1/documents/retrieve", url, sizeof(url));
	req.url = url;
	req.fp = peer->fingerprint.data;
	req.fp_next = peer->next_fingerprint.len == CRYPTO_SHA256_LEN ? peer->next_fingerprint.data
	                                                             : NULL;
	req.timeout_ms = op->timeout_ms;
	req.max_response = LOCAL_RETRIEVE_RESPONSE_MAX;
	if ((rc = proto_pack(&rq, &body)) == HX_OK) {
		req.body = body.data;
		req.body_len = body.len;
		op->d = http_defer(ctx, op->timeout_ms + LOCAL_DEADLINE_SLACK_MS, retrieve_cancel, op);
		rc = peer_call_start(ctx->peers, &req, retrieve_answered, op, &op->call);
		if (rc != HX_OK) {
			http_deferred_answer(op->d, rc, NULL, NULL);
			retrieve_op_free(op);
		}
		rc = HTTP_DEFERRED;
	} else {
		retrieve_op_free(op);
	}
	hx_buf_clear(&body);
	proto_free(peer);
	return rc;
}

/* ---- POST /local/v1/patients, POST /local/v1/documents ----------------------------------- */

static int w_publish(struct store_txn *t, void *arg)
{
	struct write_op *op = arg;
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	char *pids[1], *dids[1];
	int rc;
	if (op->is_doc) {
		Hie__V1__DocumentEntry *old = NULL;
		if (store_doc_get(t, op->entry.id, &old) == HX_OK) {
			proto_free(old);
			return HX_EEXIST;
		}
		rc = store_doc_put(t, &op->entry, op->doc->content.data, op->doc->content.len);
		pids[0] = op->entry.patient_id;
		dids[0] = op->entry.id;
		ev.n_document_ids = 1;
		ev.document_ids = dids;
		ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_IMPORT;
	} else {
		rc = store_patient_put_rec(t, op->patient, op->keys.keys, op->keys.n,
		                           op->keys.record, op->keys.record_len);
		pids[0] = op->patient->id;
		ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_PATIENT_CHANGE;
	}
	if (rc != HX_OK)
		return rc;
	ev.time = hx_time_now_ms();
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)op->org;
	ev.actor_user = op->who;
	ev.actor_fingerprint.data = op->fp;
	ev.actor_fingerprint.len = CRYPTO_SHA256_LEN;
	ev.n_patient_ids = 1;
	ev.patient_ids = pids;
	ev.detail = op->detail;
	return store_audit_append(t, &ev, NULL);
}

/* On the worker, once written: the record as stored. */
static int publish_answer(void *arg, int rc, struct hx_buf *body, const char **why)
{
	struct write_op *op = arg;
	if (rc == HX_OK)
		return op->is_doc ? proto_pack(&op->entry, body) : proto_pack(op->patient, body);
	*why = rc == HX_EEXIST      ? "a document with that id is stored already"
	       : rc == HX_ENOTFOUND ? "no such patient: publish the patient first"
	       : rc == HX_EINVAL    ? "the record is not acceptable"
	                            : NULL;
	return rc;
}

static int publish_submit(struct http_ctx *ctx, struct write_op *op)
{
	op->org = store_org_id(ctx->store);
	memcpy(op->fp, ctx->peer_fp, sizeof(op->fp));
	return api_write_defer(ctx, ctx->cfg->read_timeout_ms, w_publish, publish_answer,
	                       write_op_free, op);
}

int api_local_patient(struct http_ctx *ctx)
{
	struct local_state *ls = local_state(ctx);
	struct write_op *op;
	if (ls == NULL || (op = calloc(1, sizeof(*op))) == NULL)
		return HX_ENOMEM;
	hx_buf_init(&op->sig, 1);
	if (proto_patient_unpack(ctx->body, ctx->body_len, &op->patient) != HX_OK ||
	    op->patient->demographics == NULL) {
		write_op_free(op);
		ctx->error_text = "the body is not a valid Patient (an id of the local grammar and "
		                  "demographics are required)";
		return HX_EPARSE;
	}
	op->patient->updated = hx_time_now_ms();
	identity_keys_build(op->patient->demographics, &op->keys);
	snprintf(op->who, sizeof(op->who), "%s", ctx->peer->name);
	snprintf(op->detail, sizeof(op->detail), "patient published by local client %s",
	         ctx->peer->name);
	return publish_submit(ctx, op);
}

int api_local_document(struct http_ctx *ctx)
{
	struct local_state *ls = local_state(ctx);
	Hie__V1__DocumentEntry *e;
	struct write_op *op;
	char err[256];
	if (ls == NULL || (op = calloc(1, sizeof(*op))) == NULL)
		return HX_ENOMEM;
	hx_buf_init(&op->sig, 4096);
	op->is_doc = 1;
	if (proto_document_publish_unpack(ctx->body, ctx->body_len, &op->doc) != HX_OK) {
		write_op_free(op);
		ctx->error_text = "the body is not a valid DocumentPublish (an entry with a patient id "
		                  "and a type code, and the content, are required)";
		return HX_EPARSE;
	}
	op->entry = *op->doc->entry;
	e = &op->entry;
	/* What is the node's to say: who made it, what it is, and its signature. */
	crypto_sha256(op->doc->content.data, op->doc->content.len, op->sha);
	if (e->sha256.len == CRYPTO_SHA256_LEN && memcmp(e->sha256.data, op->sha, 32) != 0) {
		write_op_free(op);
		ctx->error_text = "the content does not match the SHA-256 given";
		return HX_EPARSE;
	}
	if (e->id == NULL || e->id[0] == '\0') {
		crypto_doc_id_new(op->id);
		e->id = op->id;
	}
	snprintf(op->uid, sizeof(op->uid), "urn:uuid:%.8s-%.4s-%.4s-%.4s-%.12s", e->id, e->id + 8,
	         e->id + 12, e->id + 16, e->id + 20);
	if (e->unique_id == NULL || e->unique_id[0] == '\0')
		e->unique_id = op->uid;
	e->origin_org = (char *)store_org_id(ctx->store);
	e->size = op->doc->content.len;
	e->sha256.data = op->sha;
	e->sha256.len = CRYPTO_SHA256_LEN;
	if (e->status == HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_UNSPECIFIED)
		e->status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	if (e->creation_time == 0)
		e->creation_time = hx_time_now_ms();
	if (ls->signer_state == 0) {
		ls->signer_state = -1;
		if (crypto_signer_new(ctx->cfg->key, &ls->signer, err, sizeof(err)) != HX_OK)
			hx_log_err("local: cannot sign published documents: %s", err);
		else
			ls->signer_state = 1;
	}
	if (ls->signer == NULL ||
	    crypto_doc_sign(ls->signer, e->origin_org, e->id, e->sha256.data, e->size, &op->sig) !=
	        HX_OK) {
		write_op_free(op);
		return HX_EINTERNAL;
	}
	e->origin_signature.data = op->sig.data;
	e->origin_signature.len = op->sig.len;
	if (proto_check(PROTO_DOCUMENT_ENTRY, e) != HX_OK) {
		write_op_free(op);
		ctx->error_text = "the entry is not acceptable once completed (codes, title, mime type, "
		                  "times)";
		return HX_EPARSE;
	}
	snprintf(op->who, sizeof(op->who), "%s", ctx->peer->name);
	snprintf(op->detail, sizeof(op->detail), "document published by local client %s",
	         ctx->peer->name);
	return publish_submit(ctx, op);
}
