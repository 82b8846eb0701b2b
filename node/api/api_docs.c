/* api_docs.c: POST /hie/v1/documents/query and /hie/v1/documents/retrieve (XCA ITI-38/39). */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_RESULTS_DEFAULT 1000
#define QUERY_RESULTS_MAX 10000
#define RETRIEVE_BYTES_MAX (64u << 20)

/* The answer is framed from the stored entries (as a retrieve's is): no unpacking and packing
 * of each. The ids listed are kept for the audit record. */
struct query_state {
	struct store_txn *t;
	struct hx_buf *out;
	char (*ids)[PROTO_DOC_ID_LEN + 1];
	size_t n, cap, max;
	int truncated;
	int rc;
};

static int query_cb(const char *id, int64_t ctime, void *arg)
{
	struct query_state *q = arg;
	const uint8_t *entry;
	size_t len;
	(void)ctime;
	if (q->n == q->max) {
		q->truncated = 1;
		return 1;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		char(*ids)[PROTO_DOC_ID_LEN + 1] = realloc(q->ids, cap * sizeof(*ids));
		if (ids == NULL) {
			q->rc = HX_ENOMEM;
			return 1;
		}
		q->ids = ids;
		q->cap = cap;
	}
	if ((q->rc = store_doc_entry_raw(q->t, id, &entry, &len)) != HX_OK ||
	    (q->rc = proto_query_response_add_entry(q->out, entry, len)) != HX_OK)
		return 1;
	hx_strlcpy(q->ids[q->n++], id, sizeof(q->ids[0]));
	return 0;
}

int api_documents_query(struct http_ctx *ctx)
{
	Hie__V1__DocumentQuery *dq = NULL;
	struct query_state q = {0};
	struct store_doc_filter f = {0};
	int rc;

	if (proto_document_query_unpack(ctx->body, ctx->body_len, &dq) != HX_OK) {
		ctx->error_text = "the body is not a valid DocumentQuery";
		return HX_EPARSE;
	}
	q.max = dq->max_results != 0 && dq->max_results < QUERY_RESULTS_MAX ? dq->max_results
	        : dq->max_results != 0                                      ? QUERY_RESULTS_MAX
	                                                                     : QUERY_RESULTS_DEFAULT;
	q.out = ctx->out;
	f.created_from = dq->created_from;
	f.created_to = dq->created_to;
	f.type_codes = dq->type_codes;
	f.n_type_codes = dq->n_type_codes;
	f.class_codes = dq->class_codes;
	f.n_class_codes = dq->n_class_codes;
	for (size_t i = 0; i < dq->n_statuses; i++)
		f.status_mask |= 1u << (dq->statuses[i] & 31);
	if ((rc = store_read_begin(ctx->store, &q.t)) != HX_OK)
		goto out;
	for (size_t i = 0; i < dq->n_patient_ids && !q.truncated; i++) {
		f.limit = q.max - q.n + 1; /* one more tells us the list was cut */
		rc = store_doc_list(q.t, dq->patient_ids[i], &f, query_cb, &q, NULL);
		if (rc == HX_OK)
			rc = q.rc;
		if (rc != HX_OK)
			break;
	}
	store_read_end(q.t);
	if (rc == HX_OK && q.truncated)
		rc = proto_query_response_set_truncated(ctx->out);
	if (rc == HX_OK) {
		const char **docs = calloc(q.n ? q.n : 1, sizeof(*docs));
		char detail[96];
		for (size_t i = 0; docs != NULL && i < q.n; i++)
			docs[i] = q.ids[i];
		snprintf(detail, sizeof(detail), "query: %zu patient(s), %zu document(s)%s",
		         dq->n_patient_ids, q.n, q.truncated ? " (cut)" : "");
		api_audit_disclosure(ctx, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_QUERY, dq->purpose,
		                     dq->user != NULL ? dq->user->id : NULL,
		                     (const char *const *)dq->patient_ids, dq->n_patient_ids, docs,
		                     docs != NULL ? q.n : 0, detail);
		free(docs);
	}
out:
	free(q.ids);
	proto_free(dq);
	return rc;
}

int api_documents_retrieve(struct http_ctx *ctx)
{
	Hie__V1__RetrieveRequest *rr = NULL;
	const char *missing[100], *given[100];
	struct store_txn *t = NULL;
	size_t nm = 0, ng = 0, total = 0;
	int rc;

	if (proto_retrieve_request_unpack(ctx->body, ctx->body_len, &rr) != HX_OK) {
		ctx->error_text = "the body is not a valid RetrieveRequest";
		return HX_EPARSE;
	}
	if ((rc = store_read_begin(ctx->store, &t)) != HX_OK)
		goto out;
	/* The response is framed from the stored bytes: each entry as stored (it was checked
	 * when written), each content straight from the map; one copy into the answer. */
	for (size_t i = 0; i < rr->n_document_ids && rc == HX_OK; i++) {
		const char *id = rr->document_ids[i];
		const uint8_t *entry, *data;
		size_t elen, len;
		rc = store_doc_entry_raw(t, id, &entry, &elen);
		if (rc == HX_ENOTFOUND) {
			if (nm < HX_ARRAY_SIZE(missing))
				missing[nm++] = id;
			rc = HX_OK;
			continue;
		}
		if (rc != HX_OK || (rc = store_doc_content(t, id, &data, &len)) != HX_OK)
			break;
		total += len;
		if (total > RETRIEVE_BYTES_MAX) {
			ctx->error_text = "the documents exceed 64 MiB together; retrieve fewer at a time";
			rc = HX_ELIMIT;
			break;
		}
		rc = proto_retrieve_response_add_document(ctx->out, entry, elen, data, len);
		if (ng < HX_ARRAY_SIZE(given))
			given[ng++] = id;
	}
	for (size_t i = 0; i < nm && rc == HX_OK; i++)
		rc = proto_retrieve_response_add_missing(ctx->out, missing[i]);
	if (rc == HX_OK && ng > 0) {
		char detail[96];
		snprintf(detail, sizeof(detail), "retrieve: %zu document(s), %zu missing", ng, nm);
		api_audit_disclosure(ctx, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_RETRIEVE, rr->purpose,
		                     rr->user != NULL ? rr->user->id : NULL, NULL, 0, given, ng,
		                     detail);
	}
out:
	store_read_end(t);
	proto_free(rr);
	return rc;
}
