/* ctl_rls.c: tokens (what this node would publish to, or ask, the record locator for some
 * demographics), and the RLS part of `status`. */
#include "ctl.h"

#include "config.h"
#include "fanout.h"
#include "identity.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int ctl_tokens_run(struct ctl *c)
{
	static const char *const shared[] = {IDN_SYS_SSN, NULL};
	static const struct option opts[] = {
		CTL_DEMOGRAPHICS_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	struct ctl_demographics a;
	struct config cfg;
	struct crypto_linkage_key key;
	struct identity_token t[IDENTITY_TOKENS_MAX];
	struct idn_record r;
	char err[CONFIG_ERR_MAX], hex[2 * CRYPTO_SHA256_LEN + 1];
	size_t n;
	int ch, rc;

	ctl_demographics_init(&a);
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		if ((rc = ctl_demographics_opt(&a, "tokens", ch, optarg)) < 0)
			return 1;
		if (rc == 0)
			return 2;
	}
	if (optind != c->argc)
		return ctl_fail("tokens: unexpected argument '%s'", c->argv[optind]);
	if (ctl_demographics_finish(&a, "tokens") != 0)
		return 1;
	if (c->config_path == NULL)
		return ctl_fail("tokens needs hiepeerd's configuration (its [rls] linkage_key): "
		                "--config FILE");
	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	if (cfg.linkage_key[0] == '\0')
		return ctl_fail("tokens: %s sets no [rls] linkage_key", c->config_path);
	if (crypto_linkage_key_load(cfg.linkage_key, &key, err, sizeof(err)) != HX_OK)
		return ctl_fail("tokens: %s", err);
	idn_from_demographics(&a.d, &r);
	n = identity_tokens(&key, &r, shared, t, IDENTITY_TOKENS_MAX);
	crypto_wipe(&key, sizeof(key));
	if (c->json) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			hx_hex_encode(t[i].token, CRYPTO_SHA256_LEN, hex);
			cJSON_AddStringToObject(o, "kind", t[i].kind);
			cJSON_AddStringToObject(o, "token", hex);
			cJSON_AddItemToArray(arr, o);
		}
		ctl_json_print(arr);
		return 0;
	}
	if (n == 0)
		printf("(no tokens: too little is known)\n");
	for (size_t i = 0; i < n; i++) {
		hx_hex_encode(t[i].token, CRYPTO_SHA256_LEN, hex);
		printf("%-5s %s\n", t[i].kind, hex);
	}
	return 0;
}

static const char *check_outcome_name(enum store_check_outcome o)
{
	switch (o) {
	case STORE_CHECK_LEVEL: return "level";
	case STORE_CHECK_BEHIND: return "behind";
	case STORE_CHECK_AHEAD: return "ahead";
	case STORE_CHECK_HELD: return "behind-held";
	case STORE_CHECK_FAILED: return "failed";
	case STORE_CHECK_UNSUPPORTED: return "unsupported";
	}
	return "unknown";
}

/* The endpoint's last check in words: "; last check 2026-11-26 04:30 UTC: ..." or "". */
static void check_words(const struct store_outbox_check *k, int have, char *out, size_t size)
{
	char when[32];
	if (!have) {
		snprintf(out, size, "; not checked yet");
		return;
	}
	ctl_time_short((int64_t)k->time_ms, when, sizeof(when));
	switch (k->outcome) {
	case STORE_CHECK_LEVEL:
		snprintf(out, size, "; checked %s UTC: it has all %llu", when,
		         (unsigned long long)k->acknowledged);
		break;
	case STORE_CHECK_BEHIND:
		snprintf(out, size, "; checked %s UTC: it had only %llu of %llu (restored?), a snapshot "
		         "was started", when, (unsigned long long)k->applied,
		         (unsigned long long)k->acknowledged);
		break;
	case STORE_CHECK_AHEAD:
		snprintf(out, size, "; checked %s UTC: it had %llu, past the %llu acknowledged here (this "
		         "store is an older copy): a new stream and snapshots were started", when,
		         (unsigned long long)k->applied, (unsigned long long)k->acknowledged);
		break;
	case STORE_CHECK_HELD:
		snprintf(out, size, "; checked %s UTC: it had only %llu of %llu right after a snapshot: "
		         "none sent again for now (rls resync sends one)", when,
		         (unsigned long long)k->applied, (unsigned long long)k->acknowledged);
		break;
	case STORE_CHECK_FAILED:
		snprintf(out, size, "; the check at %s UTC failed (the log says why)", when);
		break;
	case STORE_CHECK_UNSUPPORTED:
		snprintf(out, size, "; checked %s UTC: it does not answer checks (an earlier version)",
		         when);
		break;
	default:
		snprintf(out, size, "; checked %s UTC", when);
	}
}

int ctl_status_rls(struct ctl *c, const struct config *cfg, cJSON *j)
{
	struct store_txn *t;
	cJSON *arr = NULL;
	int rc;
	if (cfg->n_endpoints == 0)
		return 0;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("status: %s", hx_strerror(rc));
	if (j != NULL)
		arr = cJSON_AddArrayToObject(j, "rls");
	for (unsigned i = 0; i < cfg->n_endpoints; i++) {
		uint64_t cursor = 0, changes = 0, queued = 0, last = 0;
		struct store_outbox_snap st;
		struct store_outbox_check k;
		int lacking = 0, have_check;
		if ((rc = store_outbox_cursor_get(t, cfg->endpoints[i], &cursor)) != HX_OK ||
		    (rc = store_outbox_pending(t, cursor, &changes, &queued)) != HX_OK ||
		    (rc = store_outbox_lacking(t, cursor, &lacking, &last)) != HX_OK ||
		    ((rc = store_outbox_snap_get(t, cfg->endpoints[i], &st)) != HX_OK &&
		     rc != HX_ENOTFOUND)) {
			store_read_end(t);
			return ctl_fail("status: the RLS outbox: %s", hx_strerror(rc));
		}
		lacking |= rc == HX_OK; /* a snapshot in progress */
		rc = store_outbox_check_get(t, cfg->endpoints[i], &k);
		if (rc != HX_OK && rc != HX_ENOTFOUND) {
			store_read_end(t);
			return ctl_fail("status: the RLS outbox: %s", hx_strerror(rc));
		}
		have_check = rc == HX_OK;
		if (arr != NULL) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "endpoint", cfg->endpoints[i]);
			cJSON_AddNumberToObject(o, "acknowledged", (double)cursor);
			cJSON_AddNumberToObject(o, "publications_waiting", (double)queued);
			cJSON_AddNumberToObject(o, "changes_to_prepare", (double)changes);
			cJSON_AddBoolToObject(o, "catching_up", lacking);
			if (have_check) {
				cJSON *ck = cJSON_AddObjectToObject(o, "last_check");
				char iso[32];
				hx_time_format((int64_t)k.time_ms, iso, sizeof(iso));
				cJSON_AddStringToObject(ck, "time", iso);
				cJSON_AddStringToObject(ck, "outcome", check_outcome_name(k.outcome));
				cJSON_AddNumberToObject(ck, "applied", (double)k.applied);
				cJSON_AddNumberToObject(ck, "acknowledged", (double)k.acknowledged);
			}
			cJSON_AddItemToArray(arr, o);
		} else {
			char words[256];
			check_words(&k, have_check, words, sizeof(words));
			printf("%-14s %s: %s%llu publication(s) waiting, %llu change(s) to prepare, "
			       "acknowledged up to %llu%s\n", "rls", cfg->endpoints[i],
			       lacking ? "a snapshot of every token held to send first, then " : "",
			       (unsigned long long)queued, (unsigned long long)changes,
			       (unsigned long long)cursor, words);
		}
	}
	store_read_end(t);
	return 0;
}

/* Per publishing organisation: its streams and the one applied last. */
struct publisher_line {
	char org[PROTO_ORG_ID_MAX + 1];
	unsigned streams;
	uint64_t seq, time_ms;
};

struct publishers {
	struct ctl *c;
	cJSON *arr;
	struct publisher_line cur;
	unsigned n;
};

static void publisher_flush(struct publishers *p)
{
	char when[32];
	if (p->cur.org[0] == '\0')
		return;
	p->n++;
	if (p->arr != NULL) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "org_id", p->cur.org);
		cJSON_AddNumberToObject(o, "streams", p->cur.streams);
		cJSON_AddNumberToObject(o, "sequence", (double)p->cur.seq);
		if (p->cur.time_ms != 0) {
			hx_time_format((int64_t)p->cur.time_ms, when, sizeof(when));
			cJSON_AddStringToObject(o, "last_applied", when);
		}
		cJSON_AddItemToArray(p->arr, o);
	} else {
		if (p->cur.time_ms != 0) {
			ctl_time_short((int64_t)p->cur.time_ms, when, sizeof(when));
			hx_strlcpy(when + strlen(when), " UTC", sizeof(when) - strlen(when));
		} else {
			hx_strlcpy(when, "at a time not recorded", sizeof(when));
		}
		printf("%-14s %s: last applied %s (sequence %llu of its stream; %u stream(s) known)\n",
		       "publisher", p->cur.org, when, (unsigned long long)p->cur.seq, p->cur.streams);
	}
	p->cur.org[0] = '\0';
}

static int stream_cb(const char *org, const uint8_t stream[PROTO_STREAM_LEN], uint64_t seq,
                     uint64_t time_ms, void *arg)
{
	struct publishers *p = arg;
	(void)stream;
	if (strcmp(org, p->cur.org) != 0) {
		publisher_flush(p);
		hx_strlcpy(p->cur.org, org, sizeof(p->cur.org));
		p->cur.streams = 0;
		p->cur.seq = p->cur.time_ms = 0;
	}
	p->cur.streams++;
	if (time_ms >= p->cur.time_ms) {
		p->cur.time_ms = time_ms;
		p->cur.seq = seq;
	}
	return 0;
}

int ctl_status_locator(struct ctl *c, cJSON *j)
{
	struct publishers p = {.c = c};
	struct store_txn *t;
	uint64_t pairs = 0;
	cJSON *loc = NULL;
	int rc;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("status: %s", hx_strerror(rc));
	if ((rc = store_locator_stat(t, &pairs)) != HX_OK) {
		store_read_end(t);
		return ctl_fail("status: the locator: %s", hx_strerror(rc));
	}
	if (j != NULL) {
		loc = cJSON_AddObjectToObject(j, "locator");
		cJSON_AddNumberToObject(loc, "pairs", (double)pairs);
		p.arr = cJSON_AddArrayToObject(loc, "publishers");
	} else {
		printf("%-14s %llu (token, organisation) pair(s)\n", "locator",
		       (unsigned long long)pairs);
	}
	rc = store_locator_streams(t, stream_cb, &p);
	store_read_end(t);
	if (rc != HX_OK)
		return ctl_fail("status: the locator's publishers: %s", hx_strerror(rc));
	publisher_flush(&p);
	if (j == NULL && p.n == 0)
		printf("%-14s none yet (publications with a stream)\n", "publishers");
	return 0;
}

int ctl_linkage_key_run(struct ctl *c)
{
	char err[256];
	if (c->argc != 2)
		return ctl_fail("pki linkage-key: usage: hiepeerctl pki linkage-key FILE");
	if (crypto_linkage_key_new(c->argv[1], err, sizeof(err)) != HX_OK)
		return ctl_fail("pki linkage-key: %s", err);
	printf("wrote a new linkage key to %s (mode 0600): give the same file to every node of "
	       "the region, never to the RLS\n", c->argv[1]);
	return 0;
}

struct remove_arg {
	const char *id;
};

static int w_remove(struct store_txn *t, void *arg)
{
	struct remove_arg *a = arg;
	int rc = store_patient_delete(t, a->id);
	if (rc != HX_OK)
		return rc;
	return ctl_audit_patient(t, a->id, "patient removed");
}

int ctl_patient_remove_run(struct ctl *c)
{
	struct remove_arg a;
	int rc;
	if (c->argc != 2)
		return ctl_fail("patient remove: usage: hiepeerctl patient remove ID");
	a.id = c->argv[1];
	if (proto_id_patient_check(a.id) != HX_OK)
		return ctl_fail("patient remove: '%s' is not a patient id", a.id);
	if (ctl_store_open(c, 0) != 0)
		return 1;
	rc = store_write(c->store, w_remove, &a);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("patient remove: no patient %s", a.id);
	if (rc == HX_EEXIST)
		return ctl_fail("patient remove: %s still has documents", a.id);
	if (rc != HX_OK)
		return ctl_fail("patient remove: %s", hx_strerror(rc));
	printf("removed patient %s\n", a.id);
	return 0;
}

/* ---- query: the cross-organisation query ----------------------------------------------------- */

/* The answer, from the fan-out run here or from hiepeerd's local API: the same message. */
static void query_print(struct ctl *c, const Hie__V1__OutsideQueryResponse *r)
{
	size_t with_docs = 0;
	for (size_t i = 0; i < r->n_orgs; i++)
		with_docs += r->orgs[i]->status == HIE__V1__ORG_STATUS__ORG_STATUS_OK &&
		             r->orgs[i]->documents > 0;
	if (c->json) {
		cJSON *j = cJSON_CreateObject(), *orgs = cJSON_AddArrayToObject(j, "organisations");
		cJSON *docs = cJSON_AddArrayToObject(j, "documents");
		cJSON_AddStringToObject(j, "locator", r->locator);
		cJSON_AddNumberToObject(j, "ms", (double)r->ms);
		for (size_t i = 0; i < r->n_orgs; i++) {
			const Hie__V1__OrgResult *g = r->orgs[i];
			cJSON *o2 = cJSON_CreateObject(), *m = cJSON_AddArrayToObject(o2, "patients");
			cJSON_AddStringToObject(o2, "org_id", g->org_id);
			cJSON_AddStringToObject(o2, "name", g->name);
			cJSON_AddStringToObject(o2, "status", fanout_status_name((int)g->status));
			cJSON_AddStringToObject(o2, "detail", g->detail);
			cJSON_AddNumberToObject(o2, "hits", g->hits);
			cJSON_AddBoolToObject(o2, "cached", g->cached);
			cJSON_AddNumberToObject(o2, "documents", (double)g->documents);
			cJSON_AddNumberToObject(o2, "ms", (double)g->ms);
			for (size_t k = 0; k < g->n_matches; k++)
				cJSON_AddItemToArray(m, cJSON_CreateString(g->matches[k]->patient_id));
			cJSON_AddItemToArray(orgs, o2);
		}
		for (size_t i = 0; i < r->n_entries; i++) {
			cJSON *e = ctl_entry_json(r->entries[i]);
			cJSON_AddStringToObject(e, "listed_by", r->entry_orgs[i]);
			cJSON_AddItemToArray(docs, e);
		}
		ctl_json_print(j);
		return;
	}
	if (r->locator[0] != '\0')
		printf("locator: %s\n", r->locator);
	printf("%-26s ", "ORGANISATION");
	ctl_print_padded("NAME", 24);
	printf(" %-9s %-24s %9s %6s\n", "STATUS", "PATIENTS", "DOCUMENTS", "MS");
	for (size_t i = 0; i < r->n_orgs; i++) {
		const Hie__V1__OrgResult *g = r->orgs[i];
		char pats[128] = "";
		for (size_t k = 0, o2 = 0; k < g->n_matches && o2 < sizeof(pats) - 1; k++)
			o2 += (size_t)snprintf(pats + o2, sizeof(pats) - o2, "%s%s", k ? "," : "",
			                       g->matches[k]->patient_id);
		printf("%-26s ", g->org_id);
		ctl_print_padded(g->name, 24);
		printf(" %-9s %-24s %9u %6u%s%s\n", fanout_status_name((int)g->status),
		       pats[0] ? pats : "-", g->documents, g->ms, g->detail[0] ? "  " : "", g->detail);
	}
	if (r->n_entries > 0) {
		printf("\n%-32s %-26s %-12s %-10s %s\n", "DOCUMENT", "ORIGIN", "PATIENT", "CREATED",
		       "TITLE");
		for (size_t i = 0; i < r->n_entries; i++) {
			const Hie__V1__DocumentEntry *e = r->entries[i];
			char when[24];
			ctl_time_short(e->creation_time, when, sizeof(when));
			when[10] = '\0';
			printf("%-32s %-26s %-12s %-10s %s\n", e->id, e->origin_org, e->patient_id, when,
			       e->title);
		}
	}
	{
		/* Organisations that know the patient but list no document for her are worth
		 * saying: "found 0 documents" alone reads as "nobody knows her". */
		size_t matched = 0;
		for (size_t i = 0; i < r->n_orgs; i++)
			matched += r->orgs[i]->n_matches > 0;
		printf("found %zu document(s) at %zu organisation(s) in %u ms", r->n_entries, with_docs,
		       r->ms);
		if (matched > with_docs)
			printf("; the patient is known at %zu organisation(s)", matched);
		printf("\n");
	}
}

/* The query run here, in this process (the daemon's own fan-out engine is not involved). */
static int query_here(struct ctl *c, const struct config *cfg, const Hie__V1__OutsideQuery *q,
                      uint64_t timeout, struct hx_buf *out)
{
	struct crypto_linkage_key key;
	struct fanout_opts o = {0};
	struct fanout_result *r = NULL;
	char err[CONFIG_ERR_MAX];
	int rc, have_key = 0;

	if (ctl_store_open(c, 0) != 0) /* writable: the correlation cache */
		return 1;
	if (cfg->linkage_key[0] != '\0') {
		if (crypto_linkage_key_load(cfg->linkage_key, &key, err, sizeof(err)) != HX_OK)
			return ctl_fail("query: %s", err);
		have_key = 1;
	}
	o.cfg = cfg;
	o.store = c->store;
	o.key = have_key ? &key : NULL;
	o.demographics = q->demographics;
	o.purpose = q->purpose;
	o.user = q->user;
	o.peer_timeout_ms = cfg->peer_timeout_ms;
	o.overall_timeout_ms = timeout != 0 ? timeout : cfg->query_timeout_ms;
	o.cache_ttl_ms = q->no_cache ? 0 : FANOUT_CACHE_TTL_MS;
	rc = fanout_query(&o, &r, err, sizeof(err));
	if (have_key)
		crypto_wipe(&key, sizeof(key));
	if (rc != HX_OK)
		return ctl_fail("query: %s", rc == HX_EINVAL ? err : hx_strerror(rc));
	{ /* recorded here before anything is shown, as the daemon records a local client's */
		char summary[160], detail[192];
		fanout_result_summary(r, summary, sizeof(summary));
		snprintf(detail, sizeof(detail), "command line: %s", summary);
		if (ctl_audit_outside(c, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_OUTSIDE_QUERY, q->purpose,
		                      q->user != NULL ? q->user->id : NULL, r->entries, r->n_entries,
		                      detail) != 0) {
			fanout_result_free(r);
			return 1;
		}
	}
	rc = fanout_result_pack(r, out);
	fanout_result_free(r);
	return rc != HX_OK ? ctl_fail("query: %s", hx_strerror(rc)) : 0;
}

int ctl_query_run(struct ctl *c)
{
	static const struct option opts[] = {
		CTL_DEMOGRAPHICS_OPTIONS,
		{"purpose", required_argument, NULL, 'P'},
		{"timeout", required_argument, NULL, 'T'},
		{"no-cache", no_argument, NULL, 'N'},
		{"local", no_argument, NULL, 'L'},
		{"client-cert", required_argument, NULL, 'c'},
		{"client-key", required_argument, NULL, 'k'},
		{"user", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__OutsideQuery q = HIE__V1__OUTSIDE_QUERY__INIT;
	Hie__V1__RequestingUser user = HIE__V1__REQUESTING_USER__INIT;
	Hie__V1__OutsideQueryResponse *r = NULL;
	struct ctl_demographics a;
	struct config cfg;
	const char *client_cert = NULL, *client_key = NULL;
	struct hx_buf resp;
	char err[CONFIG_ERR_MAX];
	uint64_t timeout = 0;
	int ch, rc, purpose = 0, local = 0;

	ctl_demographics_init(&a);
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		if ((rc = ctl_demographics_opt(&a, "query", ch, optarg)) < 0)
			return 1;
		if (rc > 0)
			continue;
		if (ch == 'P') {
			if (ctl_purpose_parse("query", optarg, &purpose))
				return 1;
		} else if (ch == 'T') {
			if (ctl_parse_u64("--timeout", optarg, &timeout))
				return 1;
			if (timeout < 10 || timeout > 600000)
				return ctl_fail("query: --timeout: 10 to 600000 ms");
		} else if (ch == 'N') {
			q.no_cache = 1;
		} else if (ch == 'L') {
			local = 1;
		} else if (ch == 'c') {
			client_cert = optarg;
		} else if (ch == 'k') {
			client_key = optarg;
		} else if (ch == 'u') {
			if (ctl_user_check("query", optarg))
				return 1;
			user.id = optarg;
			q.user = &user;
		} else {
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("query: unexpected argument '%s'", c->argv[optind]);
	if (purpose == 0)
		return ctl_fail("query: --purpose is required (treatment, payment, operations, "
		                "public-health, research, emergency or patient-request)");
	if (local && (client_cert == NULL || client_key == NULL))
		return ctl_fail("query --local: --client-cert FILE and --client-key FILE (a registered "
		                "local client's) are required");
	if (!local && (client_cert != NULL || client_key != NULL))
		return ctl_fail("query: --client-cert and --client-key go with --local");
	if (ctl_demographics_finish(&a, "query") != 0)
		return 1;
	if (c->config_path == NULL)
		return ctl_fail("query needs hiepeerd's configuration: --config FILE");
	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	if (cfg.role == CONFIG_ROLE_RLS)
		return ctl_fail("query: %s is a record locator's configuration (role = rls); a "
		                "locator holds no patients and asks no one for them: use a node's",
		                c->config_path);
	q.demographics = &a.d;
	q.purpose = purpose;
	q.overall_timeout_ms = (uint32_t)timeout;
	hx_buf_init(&resp, 64u << 20);
	if (local)
		rc = ctl_local_call(&cfg, "query --local", client_cert, client_key, "/local/v1/query",
		                    &q, (timeout != 0 ? timeout : cfg.query_timeout_ms) + 5000, &resp);
	else
		rc = query_here(c, &cfg, &q, timeout, &resp);
	if (rc == 0 && proto_outside_query_response_unpack(resp.data, resp.len, &r) != HX_OK)
		rc = ctl_fail("query: the answer is not a valid OutsideQueryResponse");
	hx_buf_clear(&resp);
	if (rc != 0)
		return rc;
	query_print(c, r);
	/* Exit 3 when organisations were asked and none could answer (each timed out, refused
	 * us or failed): "found nothing" and "could not ask" are not the same to a script. */
	rc = 0;
	if (r->n_orgs > 0) {
		rc = 3;
		for (size_t i = 0; i < r->n_orgs; i++)
			if (r->orgs[i]->status == HIE__V1__ORG_STATUS__ORG_STATUS_OK ||
			    r->orgs[i]->status == HIE__V1__ORG_STATUS__ORG_STATUS_NO_MATCH)
				rc = 0;
	}
	proto_free(r);
	return rc;
}

struct resync_arg {
	const char *const *urls;
	size_t n;
	int started[CONFIG_ENDPOINTS_MAX];
};

static int w_resync(struct store_txn *t, void *arg)
{
	struct resync_arg *a = arg;
	/* Always a new one: a snapshot in progress may have had ranges acknowledged by what the
	 * RLS has since lost (restored from a backup); the running publisher takes the new one
	 * up at its next step. */
	for (size_t i = 0; i < a->n; i++) {
		struct store_outbox_snap st;
		int rc = store_outbox_snap_get(t, a->urls[i], &st);
		if (rc != HX_OK && rc != HX_ENOTFOUND)
			return rc;
		a->started[i] = rc == HX_ENOTFOUND ? 1 : 2;
		if ((rc = store_outbox_snap_start(t, a->urls[i])) != HX_OK)
			return rc;
	}
	return HX_OK;
}

int ctl_rls_resync_run(struct ctl *c)
{
	struct config cfg;
	struct resync_arg a = {0};
	const char *urls[CONFIG_ENDPOINTS_MAX];
	char err[CONFIG_ERR_MAX];
	int rc;

	if (c->config_path == NULL)
		return ctl_fail("rls resync needs hiepeerd's configuration (its [rls] endpoints): "
		                "--config FILE");
	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	if (cfg.n_endpoints == 0)
		return ctl_fail("rls resync: %s names no [rls] endpoints", c->config_path);
	if (c->argc > 1 + (int)cfg.n_endpoints)
		return ctl_fail("rls resync: more URLs than [rls] endpoints");
	for (int i = 1; i < c->argc; i++) {
		unsigned k = 0;
		int seen = 0;
		while (k < cfg.n_endpoints && strcmp(cfg.endpoints[k], c->argv[i]) != 0)
			k++;
		if (k == cfg.n_endpoints)
			return ctl_fail("rls resync: %s is not one of the [rls] endpoints of %s",
			                c->argv[i], c->config_path);
		for (size_t j = 0; j < a.n; j++)
			seen |= urls[j] == cfg.endpoints[k];
		if (!seen)
			urls[a.n++] = cfg.endpoints[k];
	}
	if (a.n == 0)
		for (unsigned k = 0; k < cfg.n_endpoints; k++)
			urls[a.n++] = cfg.endpoints[k];
	a.urls = urls;
	if (ctl_store_open(c, 0) != 0)
		return 1;
	if ((rc = store_write(c->store, w_resync, &a)) != HX_OK)
		return ctl_fail("rls resync: %s", hx_strerror(rc));
	for (size_t i = 0; i < a.n; i++)
		printf("%s: a snapshot of every token held will be sent, then the changes since%s "
		       "(the running hiepeerd starts it at its next step for that endpoint)\n",
		       urls[i], a.started[i] == 2 ? "; it replaces the one in progress" : "");
	return 0;
}
