/* api_discover.c: POST /hie/v1/patients/discover (XCPD ITI-55): demographics and purpose of
 * use → this node's matching local patients, with score and grade.
 *
 * Only certain and probable matches are disclosed unless the caller asks for possible ones
 * too. When candidates exist and none reaches probable, the response names the attributes
 * that would help (as XCPD does). The match profile is the store's (meta "match_profile",
 * set by `hiepeerctl match profile`), else the built-in one; it is re-read at most once a
 * second. */
#include "api.h"

#include "crypto.h"
#include "identity.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISCOVER_RESULTS_DEFAULT 10

/* The profile in use, shared by the workers. */
static struct {
	pthread_mutex_t lock;
	int loaded;
	int64_t checked_ms;
	struct idm_profile p;
	size_t text_len;
	uint8_t text_hash[32];
} prof = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int match_profile(struct store_txn *t, struct idm_profile *out)
{
	int64_t now = hx_time_now_ms();
	pthread_mutex_lock(&prof.lock);
	if (!prof.loaded || now - prof.checked_ms >= 1000) {
		const void *val = NULL;
		size_t len = 0;
		uint8_t h[32];
		int rc = store_meta_get(t, IDM_PROFILE_META, &val, &len);
		prof.checked_ms = now;
		if (rc == HX_OK && len > 0 && len < IDM_PROFILE_TEXT_MAX) {
			crypto_sha256(val, len, h);
			if (!prof.loaded || len != prof.text_len || memcmp(h, prof.text_hash, 32) != 0) {
				char text[IDM_PROFILE_TEXT_MAX], err[160];
				struct idm_profile p;
				memcpy(text, val, len);
				text[len] = '\0';
				if (idm_profile_parse(text, &p, err, sizeof(err)) == HX_OK) {
					prof.p = p;
					hx_log_info("discover: match profile from the store (%s)", p.source);
				} else {
					/* `match profile set` validates; a store edited by other means
					 * keeps the previous profile. */
					hx_log_err("discover: the store's match profile is unusable (%s); "
					           "keeping the %s one", err,
					           prof.loaded ? "previous" : "built-in");
					if (!prof.loaded)
						idm_profile_default(&prof.p);
				}
				prof.text_len = len;
				memcpy(prof.text_hash, h, 32);
				prof.loaded = 1;
			}
		} else if (!prof.loaded || prof.text_len != 0) {
			idm_profile_default(&prof.p);
			prof.text_len = 0;
			prof.loaded = 1;
		}
	}
	*out = prof.p;
	pthread_mutex_unlock(&prof.lock);
	return HX_OK;
}

static const Hie__V1__MatchGrade wire_grade[] = {
	[IDM_CERTAIN] = HIE__V1__MATCH_GRADE__MATCH_GRADE_CERTAIN,
	[IDM_PROBABLE] = HIE__V1__MATCH_GRADE__MATCH_GRADE_PROBABLE,
	[IDM_POSSIBLE] = HIE__V1__MATCH_GRADE__MATCH_GRADE_POSSIBLE,
};

int api_patients_discover(struct http_ctx *ctx)
{
	static _Thread_local char why[160];
	Hie__V1__DiscoverRequest *dr = NULL;
	void *m = NULL;
	Hie__V1__DiscoverResponse resp = HIE__V1__DISCOVER_RESPONSE__INIT;
	Hie__V1__PatientMatch pm[IDM_RESULTS_MAX], *pmp[IDM_RESULTS_MAX];
	const char *sugg[8];
	struct idm_search_out *out = NULL;
	struct idm_profile p;
	struct idn_record q;
	struct store_txn *t = NULL;
	size_t max;
	int rc;

	/* Decoded into the thread's scratch arena: the request is dropped before we return. */
	if (proto_unpack_scratch(PROTO_DISCOVER_REQUEST, ctx->body, ctx->body_len, &m) != HX_OK) {
		ctx->error_text = "the body is not a valid DiscoverRequest (demographics and a "
		                  "purpose of use are required; dates must be real YYYY-MM-DD, and a "
		                  "birth date not in the future)";
		return HX_EPARSE;
	}
	dr = m;
	idn_from_demographics(dr->demographics, &q);
	if (idm_query_check(&q, why, sizeof(why)) != HX_OK) {
		ctx->error_text = why;
		proto_scratch_free(dr);
		return HX_EINVAL;
	}
	max = dr->max_results != 0 && dr->max_results < IDM_RESULTS_MAX ? dr->max_results
	      : dr->max_results != 0                                     ? IDM_RESULTS_MAX
	                                                                 : DISCOVER_RESULTS_DEFAULT;
	if ((out = malloc(sizeof(*out))) == NULL) {
		proto_scratch_free(dr);
		return HX_ENOMEM;
	}
	if ((rc = store_read_begin(ctx->store, &t)) != HX_OK)
		goto done;
	match_profile(t, &p);
	rc = idm_search(t, &p, &q, NULL, dr->include_possible ? IDM_POSSIBLE : IDM_PROBABLE, out);
	store_read_end(t);
	if (rc == HX_EINVAL) {
		ctx->error_text = "nothing in the demographics to search on";
		goto done;
	}
	if (rc != HX_OK)
		goto done;
	for (size_t i = 0; i < out->n && i < max; i++) {
		hie__v1__patient_match__init(&pm[i]);
		pm[i].patient_id = out->r[i].patient_id;
		pm[i].score = out->r[i].score;
		pm[i].grade = wire_grade[out->r[i].grade];
		pmp[i] = &pm[i];
		resp.n_matches++;
	}
	resp.matches = pmp;
	resp.n_suggested_attributes = idm_suggest_names(out->suggest, sugg, 8);
	resp.suggested_attributes = (char **)sugg;
	/* Every discover is in the audit trail; the log has it at debug, and at info only when
	 * the candidate cap cut the search (an index with crowded blocking keys). */
	hx_log(out->truncated ? HX_LOG_INFO : HX_LOG_DEBUG,
	       "discover: organisation %s: %zu candidate(s), %zu match(es)%s",
	       ctx->peer != NULL ? ctx->peer->org_id : "-", out->candidates, resp.n_matches,
	       out->truncated ? " (candidate cap reached)" : "");
	rc = proto_pack(&resp, ctx->out);
	if (rc == HX_OK) {
		const char *ids[IDM_RESULTS_MAX];
		char detail[96];
		for (size_t i = 0; i < resp.n_matches; i++)
			ids[i] = resp.matches[i]->patient_id;
		snprintf(detail, sizeof(detail), "discover: %zu candidate(s), %zu disclosed",
		         out->candidates, resp.n_matches);
		api_audit_disclosure(ctx, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_DISCOVER, dr->purpose,
		                     dr->user != NULL ? dr->user->id : NULL, ids, resp.n_matches, NULL,
		                     0, detail);
	}
done:
	free(out);
	proto_scratch_free(dr);
	return rc;
}
