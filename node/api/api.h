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
int api_rls_locate(struct http_ctx *ctx);

/* The local API (api_local.c): the cross-organisation query and the retrieve of remote
 * documents, for registered local clients. Both defer their answer. */
int api_local_query(struct http_ctx *ctx);
int api_local_retrieve(struct http_ctx *ctx);
/* Publishing the organisation's own patients and documents (signed by the node); answered
 * once durable. */
int api_local_patient(struct http_ctx *ctx);
int api_local_document(struct http_ctx *ctx);
/* Frees a worker's local API state (its fan-out engine, the linkage key). */
void api_local_state_free(void *slot);

#endif
