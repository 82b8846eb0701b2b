/* node/api/api.h: the handlers behind the route table (one file per route group). */
#ifndef HX_API_H
#define HX_API_H

#include "http.h"

int api_health(struct http_ctx *ctx);
int api_documents_query(struct http_ctx *ctx);
int api_documents_retrieve(struct http_ctx *ctx);
int api_patients_discover(struct http_ctx *ctx);

/* The audit record of a disclosure to the calling peer (api_audit.c): queued before the answer
 * leaves, durable within STORE_LAZY_MS. Lists are cut at the audit record's caps. */
#define API_AUDIT_PATIENTS_MAX 100
#define API_AUDIT_DOCUMENTS_MAX 1000
void api_audit_disclosure(struct http_ctx *ctx, int action, int purpose, const char *user,
                          const char *const *patient_ids, size_t np,
                          const char *const *doc_ids, size_t nd, const char *detail);

/* The record locator (role rls): api_rls.c. */
/* Most tokens one LocatorPublish may add and remove together (more: 413). */
#define API_RLS_PUBLISH_TOKENS_MAX 10000
/* Body limit of a publish: that many tokens take 34 bytes each on the wire, plus room. */
#define API_RLS_PUBLISH_BODY_MAX (384u * 1024)
int api_rls_publish(struct http_ctx *ctx);
int api_rls_snapshot(struct http_ctx *ctx);
int api_rls_locate(struct http_ctx *ctx);
int api_rls_check(struct http_ctx *ctx);

/* The local API (api_local.c): the cross-organisation query and the retrieve of remote
 * documents, for registered local clients. Both defer their answer. */
int api_local_query(struct http_ctx *ctx);
int api_local_retrieve(struct http_ctx *ctx);
/* Publishing the organisation's own patients and documents (signed by the node); answered
 * once durable. */
int api_local_patient(struct http_ctx *ctx);
int api_local_document(struct http_ctx *ctx);
/* Frees a worker's local API state (its fan-out engine, the linkage key, its signer). */
struct local_state;
void api_local_state_free(struct local_state *ls);

/* Per-worker state of the handlers, in ctx->worker_slot (api_write.c): made on first use,
 * freed when the worker stops (http_worker_slot_free). */
struct api_mailbox;
struct api_worker {
	struct api_mailbox *mb;     /* durable writes answered on this worker */
	struct local_state *local;  /* the local API's (api_local.c), made on first use */
};
struct api_worker *api_worker_get(struct http_ctx *ctx);
void api_worker_free(void *slot);

/* An answer given once a write is durable, without holding the worker (api_write.c). The
 * handler returns what this returns (HTTP_DEFERRED, or an hx_err if nothing could be
 * started). fn runs on the store's writer thread in a group commit (perhaps more than once,
 * see store.h) with arg; then, on the worker, answer(arg, rc, body, &why) gets the write's
 * result, may append the answer to body and set an Error text, and returns the answer's
 * status as an hx_err (HX_OK: 200 with body). answer is not called if the connection went
 * away first (timeout_ms, a stop, trust withdrawn); the write still commits. free_fn(arg) is
 * called in every case, once. */
typedef int (*api_write_answer_fn)(void *arg, int rc, struct hx_buf *body, const char **why);
typedef void (*api_write_free_fn)(void *arg);
int api_write_defer(struct http_ctx *ctx, uint64_t timeout_ms, store_write_fn fn,
                    api_write_answer_fn answer, api_write_free_fn free_fn, void *arg);

#endif
