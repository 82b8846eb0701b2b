/* ctl_remote.c: drive the peer client against a running node: peer ping, remote query,
 * remote retrieve. Our TLS identity comes from hiepeerd's configuration (--config). */
#include "ctl.h"

#include "config.h"
#include "crypto.h"
#include "peer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMOTE_RESPONSE_MAX (256u << 20)

struct remote {
	struct config cfg;
	struct crypto_tls_client *tls;
	Hie__V1__Peer *peer;
	char base_url[CONFIG_PATH_MAX];
	int audited; /* the call is audited here (ctl_audit_outside): open the store writable */
};

static void remote_clear(struct remote *r)
{
	crypto_tls_client_free(r->tls);
	proto_free(r->peer);
}

/* Load our identity (hiepeerd's configuration and TLS client) and open the store. Prints the
 * problem and returns 1. */
static int remote_identity(struct ctl *c, struct remote *r)
{
	char err[512];
	config_init(&r->cfg);
	if (c->config_path == NULL)
		return ctl_fail("remote calls need hiepeerd's configuration: --config FILE");
	if (config_load(c->config_path, &r->cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	if (r->cfg.certificate[0] == '\0' || r->cfg.key[0] == '\0' || r->cfg.ca[0] == '\0')
		return ctl_fail("%s: [tls] certificate, key and ca are needed for calls to peers",
		                c->config_path);
	if (ctl_store_open(c, !r->audited) != 0) /* writable for the audit record of a lookup */
		return 1;
	if (crypto_tls_client_new(r->cfg.certificate, r->cfg.key, r->cfg.ca, r->cfg.crl, &r->tls,
	                          err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	return 0;
}

/* Load our identity and the peer's enrolment. Prints the problem and returns 1. */
static int remote_open(struct ctl *c, const char *org, struct remote *r)
{
	struct store_txn *t;
	int rc;

	if (proto_id_org_check(org) != HX_OK)
		return ctl_fail("'%s' is not an organisation OID", org);
	if (remote_identity(c, r) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("store: %s", hx_strerror(rc));
	rc = store_peer_get(t, org, &r->peer);
	store_read_end(t);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("no peer %s is enrolled (hiepeerctl peer add)", org);
	if (rc != HX_OK)
		return ctl_fail("store: %s", hx_strerror(rc));
	if (r->peer->status != HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE)
		return ctl_fail("peer %s is not active", org);
	if (r->peer->endpoint[0] == '\0')
		return ctl_fail("peer %s has no endpoint URL", org);
	snprintf(r->base_url, sizeof(r->base_url), "%s", r->peer->endpoint);
	{
		size_t n = strlen(r->base_url);
		while (n > 0 && r->base_url[n - 1] == '/')
			r->base_url[--n] = '\0';
	}
	return 0;
}

int ctl_call_pb(const struct crypto_tls_client *tls, struct peer_request *req,
                const void *msg, const char *what, struct hx_buf *resp)
{
	struct hx_buf body;
	char err[256];
	long status = 0;
	int rc;

	hx_buf_init(&body, 1u << 20);
	if (msg != NULL && proto_pack(msg, &body) != HX_OK) {
		hx_buf_clear(&body);
		return ctl_fail("%s: request too large", what);
	}
	req->body = msg != NULL ? body.data : NULL;
	req->body_len = body.len;
	req->max_response = resp->max;
	rc = peer_call_sync(tls, req, &status, resp, err, sizeof(err));
	hx_buf_clear(&body);
	/* The server refused our certificate (a TLS 1.3 server says so after our side of the
	 * handshake): say so, with OpenSSL's words after it. */
	if (rc == HX_ETLS && peer_refused_us(err))
		return ctl_fail("%s: refused our certificate (not enrolled or registered there, "
		                "suspended, or revoked): %s", what, err);
	if (rc != HX_OK)
		return ctl_fail("%s: %s: %s", what, hx_strerror(rc), err);
	if (status != 200) {
		Hie__V1__Error *e = NULL;
		if (proto_error_unpack(resp->data, resp->len, &e) == HX_OK) {
			ctl_fail("%s: %ld: %s", what, status, e->message);
			proto_free(e);
		} else {
			ctl_fail("%s: HTTP %ld", what, status);
		}
		return 1;
	}
	return 0;
}

/* Call path on the peer; on anything but 200, print the Error and return 1. */
static int remote_call(struct remote *r, const char *what, const char *path, const void *msg,
                       struct hx_buf *resp)
{
	struct peer_request req = {0};
	char url[CONFIG_PATH_MAX + 64];

	snprintf(url, sizeof(url), "%s%s", r->base_url, path);
	req.url = url;
	req.fp = r->peer->fingerprint.data;
	if (r->peer->next_fingerprint.len == CRYPTO_SHA256_LEN)
		req.fp_next = r->peer->next_fingerprint.data;
	req.timeout_ms = r->peer->profile != NULL && r->peer->profile->timeout_ms != 0
	                         ? r->peer->profile->timeout_ms
	                         : r->cfg.peer_timeout_ms;
	return ctl_call_pb(r->tls, &req, msg, what, resp);
}

int ctl_remote_call(struct ctl *c, const char *org, const char *what, const char *path,
                    const void *msg, struct hx_buf *resp)
{
	struct remote r = {.audited = 1};
	int rc = remote_open(c, org, &r) != 0 || remote_call(&r, what, path, msg, resp) != 0;
	remote_clear(&r);
	return rc;
}

/* ---- peer ping --all: every active peer's health route, in parallel ---------------------- */

struct ping {
	struct ping_all *all;
	char org_id[PROTO_ORG_ID_MAX + 1], name[128];
	uint8_t fp[CRYPTO_SHA256_LEN], next[CRYPTO_SHA256_LEN];
	int has_next;
	char url[CONFIG_PATH_MAX + 64];
	const char *result;    /* ok, timeout, refused, error */
	char detail[256];
	double ms;
	struct peer_call *call;
};

struct ping_all {
	struct ping *v;
	size_t n, cap;
	size_t inactive;       /* enrolled, not active or without an endpoint: not asked */
	size_t pending;
	uint64_t timeout_ms;
	int64_t t0;
	int failed;            /* out of memory while listing */
};

static int ping_collect(const Hie__V1__Peer *pe, void *arg)
{
	struct ping_all *a = arg;
	struct ping *p;
	if (pe->status != HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE || pe->endpoint[0] == '\0' ||
	    pe->fingerprint.len != CRYPTO_SHA256_LEN) {
		a->inactive++;
		return HX_OK;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct ping *v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL)
			goto oom;
		a->v = v;
		a->cap = cap;
	}
	/* What the call needs, kept beyond the read transaction. */
	p = &a->v[a->n++];
	memset(p, 0, sizeof(*p));
	hx_strlcpy(p->org_id, pe->org_id, sizeof(p->org_id));
	hx_strlcpy(p->name, pe->name, sizeof(p->name));
	memcpy(p->fp, pe->fingerprint.data, CRYPTO_SHA256_LEN);
	if ((p->has_next = pe->next_fingerprint.len == CRYPTO_SHA256_LEN))
		memcpy(p->next, pe->next_fingerprint.data, CRYPTO_SHA256_LEN);
	peer_url_join(pe->endpoint, "/hie/v1/health", p->url, sizeof(p->url));
	return HX_OK;
oom:
	a->failed = 1;
	return HX_ENOMEM;
}

static void ping_done(struct peer_call *call, const struct peer_result *res, void *arg)
{
	struct ping *p = arg;
	Hie__V1__Health *h = NULL;
	(void)call;
	p->call = NULL;
	p->ms = (double)(hx_time_mono_ns() - p->all->t0) / 1e6;
	p->all->pending--;
	p->result = "error";
	if (res->rc == HX_ETIMEOUT) {
		p->result = "timeout";
		snprintf(p->detail, sizeof(p->detail), "no answer within %llu ms",
		         (unsigned long long)p->all->timeout_ms);
	} else if (res->rc == HX_ETLS) {
		p->result = "refused";
		snprintf(p->detail, sizeof(p->detail), "TLS: %.240s", res->error);
	} else if (res->rc != HX_OK) {
		snprintf(p->detail, sizeof(p->detail), "%.250s", res->error);
	} else if (res->status == 401 || res->status == 403) {
		p->result = "refused";
		snprintf(p->detail, sizeof(p->detail), "HTTP %ld: it does not trust us", res->status);
	} else if (res->status != 200) {
		snprintf(p->detail, sizeof(p->detail), "HTTP %ld", res->status);
	} else if (proto_health_unpack(res->body.data, res->body.len, &h) != HX_OK) {
		snprintf(p->detail, sizeof(p->detail), "the answer is not a Health message");
	} else if (strcmp(h->org_id, p->org_id) != 0) {
		snprintf(p->detail, sizeof(p->detail), "it answers as organisation %.64s", h->org_id);
	} else {
		p->result = "ok";
		snprintf(p->detail, sizeof(p->detail), "%.32s, version %.32s, trust generation %llu",
		         h->status, h->version, (unsigned long long)h->trust_generation);
	}
	proto_free(h);
}

static int ping_all_run(struct ctl *c, uint64_t timeout_ms)
{
	struct remote r = {0};
	struct ping_all a = {0};
	struct event_base *base = NULL;
	struct peer_client *pc = NULL;
	struct store_txn *t;
	size_t nok = 0;
	int rc = 1;

	if (remote_identity(c, &r) != 0)
		goto out;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK) {
		rc = ctl_fail("store: %s", hx_strerror(rc));
		goto out;
	}
	rc = store_peer_list(t, ping_collect, &a);
	store_read_end(t);
	if (rc != HX_OK || a.failed) {
		ctl_fail("peer ping: cannot list the peers: %s", hx_strerror(a.failed ? HX_ENOMEM : rc));
		rc = 1;
		goto out;
	}
	rc = 1;
	a.timeout_ms = timeout_ms != 0 ? timeout_ms : r.cfg.peer_timeout_ms;
	if ((base = event_base_new()) == NULL || peer_client_new(base, r.tls, &pc) != HX_OK) {
		ctl_fail("peer ping: out of memory");
		goto out;
	}
	a.t0 = hx_time_mono_ns();
	for (size_t i = 0; i < a.n; i++) {
		struct ping *p = &a.v[i];
		struct peer_request req = {0};
		p->all = &a;
		req.url = p->url;
		req.fp = p->fp;
		req.fp_next = p->has_next ? p->next : NULL;
		req.timeout_ms = a.timeout_ms;
		req.max_response = 64 * 1024;
		if (peer_call_start(pc, &req, ping_done, p, &p->call) != HX_OK) {
			p->result = "error";
			snprintf(p->detail, sizeof(p->detail), "cannot call %.200s", p->url);
			continue;
		}
		a.pending++;
	}
	while (a.pending > 0 && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].result == NULL) { /* the loop gave up on it (it should not) */
			a.v[i].result = "error";
			snprintf(a.v[i].detail, sizeof(a.v[i].detail), "the call ended without a result");
		}
	if (c->json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < a.n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "org_id", a.v[i].org_id);
			cJSON_AddStringToObject(o, "name", a.v[i].name);
			cJSON_AddStringToObject(o, "result", a.v[i].result);
			cJSON_AddNumberToObject(o, "ms", (double)(int64_t)(a.v[i].ms * 10) / 10);
			cJSON_AddStringToObject(o, "detail", a.v[i].detail);
			cJSON_AddItemToArray(arr, o);
		}
		ctl_json_print(arr);
	} else {
		printf("%-32s %-20s %-8s %9s  %s\n", "ORGANISATION", "NAME", "RESULT", "MS", "DETAIL");
		for (size_t i = 0; i < a.n; i++)
			printf("%-32s %-20.20s %-8s %9.1f  %s\n", a.v[i].org_id, a.v[i].name,
			       a.v[i].result, a.v[i].ms, a.v[i].detail);
	}
	for (size_t i = 0; i < a.n; i++)
		nok += strcmp(a.v[i].result, "ok") == 0;
	fprintf(stderr, "peer ping: %zu of %zu active peer(s) answered%s", nok, a.n,
	        a.inactive ? "" : "\n");
	if (a.inactive)
		fprintf(stderr, "; %zu not active or without an endpoint, not asked\n", a.inactive);
	rc = nok == a.n ? 0 : 1;
out:
	peer_client_free(pc);
	if (base != NULL)
		event_base_free(base);
	free(a.v);
	remote_clear(&r);
	return rc;
}

int ctl_peer_ping_run(struct ctl *c)
{
	struct remote r = {0};
	struct hx_buf resp;
	Hie__V1__Health *h = NULL;
	int64_t t0;
	int rc = 1;

	if (c->argc >= 2 && strcmp(c->argv[1], "--all") == 0) {
		uint64_t timeout = 0;
		if (c->argc == 4 && strcmp(c->argv[2], "--timeout") == 0) {
			char *end;
			unsigned long long v = strtoull(c->argv[3], &end, 10);
			if (*end != '\0' || v == 0 || v > 600000)
				return ctl_fail("peer ping: --timeout takes milliseconds, 1 to 600000");
			timeout = v;
		} else if (c->argc != 2) {
			return ctl_fail("peer ping: usage: hiepeerctl --config FILE peer ping ORG | --all "
			                "[--timeout MS]");
		}
		return ping_all_run(c, timeout);
	}
	if (c->argc != 2)
		return ctl_fail("peer ping: usage: hiepeerctl --config FILE peer ping ORG | --all "
		                "[--timeout MS]");
	hx_buf_init(&resp, 64 * 1024);
	if (remote_open(c, c->argv[1], &r) != 0)
		goto out;
	t0 = hx_time_mono_ns();
	if (remote_call(&r, "peer ping", "/hie/v1/health", NULL, &resp) != 0)
		goto out;
	if (proto_health_unpack(resp.data, resp.len, &h) != HX_OK) {
		ctl_fail("peer ping: the answer is not a Health message");
		goto out;
	}
	printf("%s: %s, organisation %s, version %s, trust generation %llu, %.1f ms\n",
	       c->argv[1], h->status, h->org_id, h->version,
	       (unsigned long long)h->trust_generation, (double)(hx_time_mono_ns() - t0) / 1e6);
	rc = 0;
out:
	proto_free(h);
	hx_buf_clear(&resp);
	remote_clear(&r);
	return rc;
}

int ctl_remote_query_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"patient", required_argument, NULL, 'p'}, {"type", required_argument, NULL, 'y'},
		{"class", required_argument, NULL, 'c'},   {"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},      {"status", required_argument, NULL, 's'},
		{"purpose", required_argument, NULL, 'P'}, {"user", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__DocumentQuery q = HIE__V1__DOCUMENT_QUERY__INIT;
	Hie__V1__RequestingUser user = HIE__V1__REQUESTING_USER__INIT;
	int purpose;
	Hie__V1__Code type = HIE__V1__CODE__INIT, cls = HIE__V1__CODE__INIT;
	Hie__V1__Code *types[1] = {&type}, *classes[1] = {&cls};
	Hie__V1__DocumentStatus statuses[2];
	Hie__V1__DocumentQueryResponse *qr = NULL;
	char *pids[64];
	struct remote r = {.audited = 1};
	struct hx_buf resp;
	int ch, rc = 1;

	q.purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	q.patient_ids = pids;
	while ((ch = getopt_long(c->argc, c->argv, "p:y:c:f:t:s:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (q.n_patient_ids == HX_ARRAY_SIZE(pids))
				return ctl_fail("remote query: at most %zu --patient", HX_ARRAY_SIZE(pids));
			if (proto_id_patient_check(optarg) != HX_OK)
				return ctl_fail("remote query: '%s' is not a valid patient id", optarg);
			pids[q.n_patient_ids++] = optarg;
			break;
		case 'y':
			type.code = optarg;
			q.type_codes = types;
			q.n_type_codes = 1;
			break;
		case 'c':
			cls.code = optarg;
			q.class_codes = classes;
			q.n_class_codes = 1;
			break;
		case 'f':
			if (ctl_parse_time("--from", optarg, &q.created_from))
				return 1;
			break;
		case 't':
			if (ctl_parse_time("--to", optarg, &q.created_to))
				return 1;
			break;
		case 'P':
			if (ctl_purpose_parse("remote query", optarg, &purpose))
				return 1;
			q.purpose = purpose;
			break;
		case 'u':
			if (ctl_user_check("remote query", optarg))
				return 1;
			user.id = optarg;
			q.user = &user;
			break;
		case 's':
			if (strcmp(optarg, "any") == 0) {
				statuses[0] = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
				statuses[1] = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_DEPRECATED;
				q.n_statuses = 2;
			} else if (strcmp(optarg, "deprecated") == 0) {
				statuses[0] = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_DEPRECATED;
				q.n_statuses = 1;
			} else if (strcmp(optarg, "approved") != 0) {
				return ctl_fail("--status: approved, deprecated or any (not '%s')", optarg);
			}
			q.statuses = statuses;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != c->argc || q.n_patient_ids == 0)
		return ctl_fail("remote query: usage: hiepeerctl --config FILE remote query ORG "
		                "--patient ID [--type CODE] [--class CODE] [--from DATE] [--to DATE] "
		                "[--purpose P] [--user ID]");
	hx_buf_init(&resp, REMOTE_RESPONSE_MAX);
	if (remote_open(c, c->argv[optind], &r) != 0 ||
	    remote_call(&r, "remote query", "/hie/v1/documents/query", &q, &resp) != 0)
		goto out;
	if (proto_document_query_response_unpack(resp.data, resp.len, &qr) != HX_OK) {
		ctl_fail("remote query: the answer is not a valid DocumentQueryResponse");
		goto out;
	}
	{ /* recorded before anything is shown */
		char detail[160];
		snprintf(detail, sizeof(detail), "command line: remote query at %s: %zu document(s)",
		         c->argv[optind], qr->n_entries);
		if (ctl_audit_outside(c, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_OUTSIDE_QUERY, q.purpose,
		                      user.id, qr->entries, qr->n_entries, detail) != 0)
			goto out;
	}
	if (c->json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < qr->n_entries; i++)
			cJSON_AddItemToArray(arr, ctl_entry_json(qr->entries[i]));
		ctl_json_print(arr);
	} else {
		printf("%-32s %-16s %-12s %-8s %8s  %s\n", "ID", "CREATED (UTC)", "PATIENT", "TYPE",
		       "BYTES", "TITLE");
		for (size_t i = 0; i < qr->n_entries; i++) {
			const Hie__V1__DocumentEntry *e = qr->entries[i];
			char when[24];
			ctl_time_short(e->creation_time, when, sizeof(when));
			printf("%-32s %-16s %-12s %-8s %8llu  %s\n", e->id, when, e->patient_id,
			       e->type_code->code, (unsigned long long)e->size, e->title);
		}
		if (qr->truncated)
			printf("(the peer cut the list)\n");
	}
	rc = 0;
out:
	proto_free(qr);
	hx_buf_clear(&resp);
	remote_clear(&r);
	return rc;
}

/* fetch --local: through the running hiepeerd's local API, which checks the SHA-256 and the
 * origin signature before it hands the document on. */
static int fetch_local(struct ctl *c, const char *outpath, int allow_unsigned,
                       const char *client_cert, const char *client_key, int purpose,
                       Hie__V1__RequestingUser *user)
{
	Hie__V1__OutsideRetrieve q = HIE__V1__OUTSIDE_RETRIEVE__INIT;
	Hie__V1__RetrieveResponse *rr = NULL;
	struct config cfg;
	struct hx_buf resp;
	char err[CONFIG_ERR_MAX], *ids[1];
	uint8_t digest[CRYPTO_SHA256_LEN];
	int rc = 1;

	if (optind + 2 != c->argc || outpath == NULL || client_cert == NULL || client_key == NULL)
		return ctl_fail("fetch --local: usage: hiepeerctl --config FILE fetch ORG DOCID -o FILE "
		                "--local --client-cert FILE --client-key FILE [--allow-unsigned]");
	if (c->config_path == NULL)
		return ctl_fail("fetch --local needs hiepeerd's configuration: --config FILE");
	if (proto_id_org_check(c->argv[optind]) != HX_OK)
		return ctl_fail("fetch: '%s' is not an organisation OID", c->argv[optind]);
	if (proto_id_doc_check(c->argv[optind + 1]) != HX_OK)
		return ctl_fail("fetch: '%s' is not a document id", c->argv[optind + 1]);
	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	ids[0] = c->argv[optind + 1];
	q.org_id = c->argv[optind];
	q.document_ids = ids;
	q.n_document_ids = 1;
	q.purpose = purpose;
	q.user = user->id[0] != '\0' ? user : NULL;
	q.allow_unsigned = allow_unsigned;
	hx_buf_init(&resp, REMOTE_RESPONSE_MAX);
	if (ctl_local_call(&cfg, "fetch --local", client_cert, client_key, "/local/v1/retrieve", &q,
	                   cfg.peer_timeout_ms + 5000, &resp) != 0)
		goto out;
	if (proto_retrieve_response_unpack(resp.data, resp.len, &rr) != HX_OK) {
		ctl_fail("fetch --local: the answer is not a valid RetrieveResponse");
		goto out;
	}
	if (rr->n_documents == 0) {
		ctl_fail("fetch --local: %s has no document %s", q.org_id, ids[0]);
		goto out;
	}
	crypto_sha256(rr->documents[0]->content.data, rr->documents[0]->content.len, digest);
	if (memcmp(digest, rr->documents[0]->entry->sha256.data, sizeof(digest)) != 0) {
		ctl_fail("fetch --local: the document does not match its SHA-256; not written");
		goto out;
	}
	if (ctl_write_private("fetch --local", outpath, rr->documents[0]->content.data,
	                      rr->documents[0]->content.len) != 0)
		goto out;
	printf("retrieved %s from %s through hiepeerd's local API: %zu bytes, %s, SHA-256 and "
	       "origin signature checked by the node, written to %s\n", ids[0], q.org_id,
	       rr->documents[0]->content.len, rr->documents[0]->entry->mime_type, outpath);
	rc = 0;
out:
	proto_free(rr);
	hx_buf_clear(&resp);
	return rc;
}

int ctl_remote_retrieve_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"allow-unsigned", no_argument, NULL, 'U'},
		{"local", no_argument, NULL, 'L'},
		{"client-cert", required_argument, NULL, 'c'},
		{"client-key", required_argument, NULL, 'k'},
		{"purpose", required_argument, NULL, 'P'},
		{"user", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__RetrieveRequest rq = HIE__V1__RETRIEVE_REQUEST__INIT;
	Hie__V1__RequestingUser user = HIE__V1__REQUESTING_USER__INIT;
	int purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	const char *client_cert = NULL, *client_key = NULL;
	int local = 0;
	Hie__V1__RetrieveResponse *rr = NULL;
	struct remote r = {.audited = 1};
	struct hx_buf resp;
	const char *outpath = NULL;
	char *ids[1], verdict[256];
	int ch, rc = 1, allow_unsigned = 0;

	while ((ch = getopt_long(c->argc, c->argv, "o:", opts, NULL)) != -1) {
		if (ch == 'o')
			outpath = optarg;
		else if (ch == 'U')
			allow_unsigned = 1;
		else if (ch == 'L')
			local = 1;
		else if (ch == 'c')
			client_cert = optarg;
		else if (ch == 'k')
			client_key = optarg;
		else if (ch == 'P') {
			if (ctl_purpose_parse(c->cmd, optarg, &purpose))
				return 1;
		} else if (ch == 'u') {
			if (ctl_user_check(c->cmd, optarg))
				return 1;
			user.id = optarg;
		} else
			return 2;
	}
	/* fetch is the same command under its everyday name: messages say the one typed */
	const char *name = c->cmd;
	if (local)
		return fetch_local(c, outpath, allow_unsigned, client_cert, client_key, purpose, &user);
	if (optind + 2 != c->argc || outpath == NULL)
		return ctl_fail("%s: usage: hiepeerctl --config FILE %s ORG DOCID -o FILE "
		                "[--allow-unsigned] (or --local --client-cert FILE --client-key FILE)",
		                name, name);
	if (proto_id_doc_check(c->argv[optind + 1]) != HX_OK)
		return ctl_fail("%s: '%s' is not a document id", name, c->argv[optind + 1]);
	ids[0] = c->argv[optind + 1];
	rq.n_document_ids = 1;
	rq.document_ids = ids;
	rq.purpose = purpose;
	if (user.id[0] != '\0')
		rq.user = &user;
	hx_buf_init(&resp, REMOTE_RESPONSE_MAX);
	if (remote_open(c, c->argv[optind], &r) != 0 ||
	    remote_call(&r, name, "/hie/v1/documents/retrieve", &rq, &resp) != 0)
		goto out;
	if (proto_retrieve_response_unpack(resp.data, resp.len, &rr) != HX_OK) {
		ctl_fail("%s: the answer is not a valid RetrieveResponse", name);
		goto out;
	}
	if (rr->n_documents == 0) {
		ctl_fail("%s: %s has no document %s", name, c->argv[optind], ids[0]);
		goto out;
	}
	{
		const Hie__V1__Document *d = rr->documents[0];
		if (strcmp(d->entry->id, ids[0]) != 0) {
			ctl_fail("%s: %s answered with another document; not written", name,
			         c->argv[optind]);
			goto out;
		}
		if (peer_document_verify(c->store, d, allow_unsigned, verdict, sizeof(verdict)) !=
		    HX_OK) {
			ctl_fail("%s: %s; not written%s", name, verdict,
			         d->entry->origin_signature.len == 0 ? " (--allow-unsigned to take it "
			                                               "anyway)" : "");
			goto out;
		}
		char detail[160];
		snprintf(detail, sizeof(detail), "command line: %s from %s", name, c->argv[optind]);
		if (ctl_audit_outside(c, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_OUTSIDE_RETRIEVE, purpose,
		                      user.id, &d->entry, 1, detail) != 0)
			goto out;
		if (ctl_write_private(name, outpath, d->content.data, d->content.len) != 0)
			goto out;
		printf("retrieved %s from %s: %zu bytes, %s, SHA-256 verified, written to %s\n",
		       ids[0], c->argv[optind], d->content.len, d->entry->mime_type, outpath);
		printf("%s\n", verdict);
	}
	rc = 0;
out:
	proto_free(rr);
	hx_buf_clear(&resp);
	remote_clear(&r);
	return rc;
}
