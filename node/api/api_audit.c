/* api_audit.c: the audit record of a disclosure to a peer (discover, query, retrieve).
 *
 * Who asked (organisation and certificate from the enrolment, the requesting user and the
 * purpose from the request), what was disclosed (local patient ids, document ids), and a
 * short detail. It is queued for group commit before the answer is sent, as a lazy write
 * (durable within STORE_LAZY_MS, sharing its commit with the others of that moment); the
 * answer does not wait for it. A crash in that window loses the record (docs/decisions.md). */
#include "api.h"

#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One allocation: the event, then the id pointers, then the strings. */
struct disclosure {
	Hie__V1__AuditEvent ev;
	char org[PROTO_ORG_ID_MAX + 1], user[128], detail[128];
	uint8_t fp[CRYPTO_SHA256_LEN];
	char *ptr[];
};

static int w_disclosure(struct store_txn *t, void *arg)
{
	return store_audit_append(t, &((struct disclosure *)arg)->ev, NULL);
}

static void disclosure_done(int rc, void *arg)
{
	if (rc != HX_OK)
		hx_log_err("audit: the record of a disclosure failed: %s", hx_strerror(rc));
	free(arg);
}

void api_audit_disclosure(struct http_ctx *ctx, int action, int purpose, const char *user,
                          const char *const *patient_ids, size_t np,
                          const char *const *doc_ids, size_t nd, const char *detail)
{
	struct disclosure *a;
	size_t bytes = 0;
	char *s;
	if (np > API_AUDIT_PATIENTS_MAX)
		np = API_AUDIT_PATIENTS_MAX;
	if (nd > API_AUDIT_DOCUMENTS_MAX)
		nd = API_AUDIT_DOCUMENTS_MAX;
	for (size_t i = 0; i < np; i++)
		bytes += strlen(patient_ids[i]) + 1;
	for (size_t i = 0; i < nd; i++)
		bytes += strlen(doc_ids[i]) + 1;
	if ((a = calloc(1, sizeof(*a) + (np + nd) * sizeof(char *) + bytes)) == NULL) {
		hx_log_err("audit: no memory for the record of a disclosure");
		return;
	}
	hie__v1__audit_event__init(&a->ev);
	a->ev.time = hx_time_now_ms();
	a->ev.action = action;
	a->ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	hx_strlcpy(a->org, ctx->peer != NULL ? ctx->peer->org_id : "", sizeof(a->org));
	a->ev.actor_org = a->org;
	/* Cut, if it must be, between characters: a record whose text is not UTF-8 is refused
	 * by the store, and the disclosure would go unrecorded (a peer's user id can be longer
	 * than this field). */
	hx_strlcpy_utf8(a->user, user != NULL ? user : "", sizeof(a->user));
	a->ev.actor_user = a->user;
	if (ctx->peer_fp != NULL) {
		memcpy(a->fp, ctx->peer_fp, CRYPTO_SHA256_LEN);
		a->ev.actor_fingerprint.data = a->fp;
		a->ev.actor_fingerprint.len = CRYPTO_SHA256_LEN;
	}
	a->ev.purpose = purpose;
	s = (char *)(a->ptr + np + nd);
	for (size_t i = 0; i < np + nd; i++) {
		const char *src = i < np ? patient_ids[i] : doc_ids[i - np];
		size_t l = strlen(src) + 1;
		memcpy(s, src, l);
		a->ptr[i] = s;
		s += l;
	}
	a->ev.patient_ids = a->ptr;
	a->ev.n_patient_ids = np;
	a->ev.document_ids = a->ptr + np;
	a->ev.n_document_ids = nd;
	hx_strlcpy_utf8(a->detail, detail, sizeof(a->detail));
	a->ev.detail = a->detail;
	if (store_write_lazy(ctx->store, w_disclosure, disclosure_done, a) != HX_OK) {
		hx_log_err("audit: cannot queue the record of a disclosure");
		free(a);
	}
}
