/* ctl_client.c: local clients (this organisation's own systems on the local API) and calls to
 * the running daemon's local API. */
#include "ctl.h"

#include "config.h"
#include "crypto.h"
#include "peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	int right;
	const char *name;
} right_names[] = {
	{HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_QUERY, "query"},
	{HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_RETRIEVE, "retrieve"},
	{HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_PUBLISH, "publish"},
};

/* "query,retrieve" → rights; prints a one-line error. */
static int rights_parse(const char *s, Hie__V1__ClientRight *out, size_t *n)
{
	char buf[128];
	*n = 0;
	hx_strlcpy(buf, s, sizeof(buf));
	for (char *save = NULL, *w = strtok_r(buf, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < HX_ARRAY_SIZE(right_names); i++)
			if (strcmp(w, right_names[i].name) == 0)
				break;
		if (i == HX_ARRAY_SIZE(right_names))
			return ctl_fail("--rights: '%s' is not query, retrieve or publish", w);
		for (size_t k = 0; k < *n; k++)
			if (out[k] == (Hie__V1__ClientRight)right_names[i].right)
				return ctl_fail("--rights: '%s' given twice", w);
		out[(*n)++] = (Hie__V1__ClientRight)right_names[i].right;
	}
	if (*n == 0)
		return ctl_fail("--rights: name at least one of query, retrieve, publish");
	return 0;
}

static void rights_text(const Hie__V1__LocalClient *lc, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < lc->n_rights && o < size; i++)
		for (size_t k = 0; k < HX_ARRAY_SIZE(right_names); k++)
			if ((int)lc->rights[i] == right_names[k].right)
				o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "",
				                      right_names[k].name);
	if (out[0] == '\0')
		hx_strlcpy(out, "-", size);
}

static void audit_client(struct ctl *c, Hie__V1__AuditEvent *ev, int action, const uint8_t *fp,
                         const char *detail)
{
	hie__v1__audit_event__init(ev);
	ev->time = hx_time_now_ms();
	ev->action = action;
	ev->outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev->actor_org = (char *)store_org_id(c->store);
	ev->actor_user = (char *)ctl_actor();
	ev->new_fingerprint.data = (uint8_t *)fp;
	ev->new_fingerprint.len = CRYPTO_SHA256_LEN;
	ev->detail = (char *)detail;
}

/* ---- client add ----------------------------------------------------------------------------- */

struct client_add {
	const Hie__V1__LocalClient *lc;
	const Hie__V1__AuditEvent *ev;
	int why; /* 1: name taken, 2: the certificate is a peer's, 3: already registered */
};

struct fp_seen {
	const uint8_t *fp;
	int seen;
};

static int fp_is_peer(const Hie__V1__Peer *p, void *arg)
{
	struct fp_seen *s = arg;
	s->seen |= (p->fingerprint.len == 32 && memcmp(p->fingerprint.data, s->fp, 32) == 0) ||
	           (p->next_fingerprint.len == 32 &&
	            memcmp(p->next_fingerprint.data, s->fp, 32) == 0);
	return s->seen;
}

static int fp_is_client(const Hie__V1__LocalClient *lc, void *arg)
{
	struct fp_seen *s = arg;
	s->seen |= memcmp(lc->fingerprint.data, s->fp, 32) == 0;
	return s->seen;
}

static int w_client_add(struct store_txn *t, void *arg)
{
	struct client_add *a = arg;
	Hie__V1__LocalClient *old = NULL;
	struct fp_seen peer = {a->lc->fingerprint.data, 0}, client = peer;
	int rc = store_client_get_by_name(t, a->lc->name, &old);
	if (rc == HX_OK) {
		proto_free(old);
		a->why = 1;
		return HX_EEXIST;
	}
	if (rc != HX_ENOTFOUND)
		return rc;
	/* One certificate, one role: a peer's certificate is not also a local client's. */
	if ((rc = store_peer_list(t, fp_is_peer, &peer)) != HX_OK ||
	    (rc = store_client_list(t, fp_is_client, &client)) != HX_OK)
		return rc;
	if (peer.seen || client.seen) {
		a->why = peer.seen ? 2 : 3;
		return HX_EEXIST;
	}
	if ((rc = store_client_put(t, a->lc)) != HX_OK)
		return rc;
	return store_audit_append(t, a->ev, NULL);
}

int ctl_client_add_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"cert", required_argument, NULL, 'c'},
		{"ca", required_argument, NULL, 'C'},
		{"crl", required_argument, NULL, 'R'},
		{"rights", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__LocalClient lc = HIE__V1__LOCAL_CLIENT__INIT;
	Hie__V1__ClientRight rights[HX_ARRAY_SIZE(right_names)];
	Hie__V1__AuditEvent ev;
	struct crypto_cert_info ci;
	struct client_add a = {&lc, &ev, 0};
	const char *cert = NULL, *ca = NULL, *crl = NULL, *name;
	char fps[80], detail[256], rtext[64];
	size_t nrights = 0;
	int ch, rc;

	rights[0] = HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_QUERY;
	rights[1] = HIE__V1__CLIENT_RIGHT__CLIENT_RIGHT_RETRIEVE;
	nrights = 2;
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		if (ch == 'c')
			cert = optarg;
		else if (ch == 'C')
			ca = optarg;
		else if (ch == 'R')
			crl = optarg;
		else if (ch == 'r') {
			if (rights_parse(optarg, rights, &nrights))
				return 1;
		} else
			return 2;
	}
	if (optind + 1 != c->argc || cert == NULL)
		return ctl_fail("client add: usage: hiepeerctl client add NAME --cert FILE "
		                "[--rights query,retrieve] [--ca FILE] [--crl FILE]");
	name = c->argv[optind];
	if (proto_id_client_check(name) != HX_OK)
		return ctl_fail("client add: '%s' is not a client name (1 to 48 of A-Z a-z 0-9 . _ -, "
		                "starting with a letter or digit)", name);
	if (ctl_store_open(c, 0) != 0)
		return 1;
	/* A local client is one of this organisation's own systems: its certificate names us. */
	if (ctl_cert_check(c, "client add", cert, ca, crl, store_org_id(c->store), &ci) != 0)
		return 1;
	lc.name = (char *)name;
	lc.fingerprint.data = ci.fingerprint;
	lc.fingerprint.len = CRYPTO_SHA256_LEN;
	lc.status = HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE;
	lc.rights = rights;
	lc.n_rights = nrights;
	lc.not_after = ci.not_after;
	lc.created = lc.updated = hx_time_now_ms();
	rights_text(&lc, rtext, sizeof(rtext));
	snprintf(detail, sizeof(detail), "local client %s registered (rights %s)", name, rtext);
	audit_client(c, &ev, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_CLIENT_ADD, ci.fingerprint, detail);
	rc = store_write(c->store, w_client_add, &a);
	if (rc == HX_EEXIST)
		return ctl_fail("client add: %s", a.why == 1 ? "a client of that name is registered "
		                "(client remove it first)" : a.why == 2 ? "that certificate is "
		                "enrolled as a peer's; a local client needs its own" : "that "
		                "certificate is already registered for another client");
	if (rc != HX_OK)
		return ctl_fail("client add: %s", hx_strerror(rc));
	crypto_fingerprint_format(ci.fingerprint, fps, sizeof(fps));
	printf("registered local client %s (%s) %s\n", name, rtext, fps);
	return 0;
}

/* ---- client list ---------------------------------------------------------------------------- */

static const char *status_word(int s)
{
	return s == HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE ? "active"
	       : s == HIE__V1__PEER_STATUS__PEER_STATUS_SUSPENDED ? "suspended" : "revoked";
}

static int list_cb(const Hie__V1__LocalClient *lc, void *arg)
{
	cJSON *arr = arg;
	char fps[80], rtext[64], left[48];
	crypto_fingerprint_format(lc->fingerprint.data, fps, sizeof(fps));
	rights_text(lc, rtext, sizeof(rtext));
	ctl_days_left(lc->not_after, left, sizeof(left));
	if (arr != NULL) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", lc->name);
		cJSON_AddStringToObject(j, "status", status_word(lc->status));
		cJSON_AddStringToObject(j, "rights", rtext);
		cJSON_AddStringToObject(j, "fingerprint", fps);
		cJSON_AddNumberToObject(j, "days_left", (double)ctl_days_left_n(lc->not_after));
		cJSON_AddItemToArray(arr, j);
	} else {
		printf("%-24s %-9s %-15s %s  %s%s\n", lc->name, status_word(lc->status), rtext, fps,
		       left, ctl_expiry_mark(lc->not_after));
	}
	return 0;
}

int ctl_client_list_run(struct ctl *c)
{
	struct store_txn *t;
	cJSON *arr = NULL;
	int rc;
	if (c->argc != 1)
		return ctl_fail("client list: no arguments");
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if (c->json)
		arr = cJSON_CreateArray();
	else
		printf("%-24s %-9s %-15s %s\n", "NAME", "STATUS", "RIGHTS", "FINGERPRINT");
	if ((rc = store_read_begin(c->store, &t)) == HX_OK) {
		rc = store_client_list(t, list_cb, arr);
		store_read_end(t);
	}
	if (rc != HX_OK) {
		cJSON_Delete(arr);
		return ctl_fail("client list: %s", hx_strerror(rc));
	}
	if (arr != NULL)
		ctl_json_print(arr);
	return 0;
}

/* ---- client remove / suspend / resume ------------------------------------------------------ */

struct client_change {
	const char *name;
	int op; /* 0 remove, else the new status */
	const char *user;
	int found;
};

static int w_client_change(struct store_txn *t, void *arg)
{
	struct client_change *a = arg;
	Hie__V1__LocalClient *lc = NULL;
	Hie__V1__AuditEvent ev;
	char detail[160];
	int rc = store_client_get_by_name(t, a->name, &lc);
	if (rc != HX_OK)
		return rc;
	a->found = 1;
	hie__v1__audit_event__init(&ev);
	ev.time = hx_time_now_ms();
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)store_org_id(store_txn_store(t));
	ev.actor_user = (char *)a->user;
	ev.old_fingerprint = lc->fingerprint;
	ev.detail = detail;
	if (a->op == 0) {
		ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_CLIENT_REMOVE;
		snprintf(detail, sizeof(detail), "local client %s removed", a->name);
		rc = store_client_delete(t, lc->fingerprint.data);
	} else {
		ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_CLIENT_CHANGE;
		snprintf(detail, sizeof(detail), "local client %s %s", a->name,
		         a->op == HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE ? "resumed" : "suspended");
		lc->status = a->op;
		lc->updated = hx_time_now_ms();
		rc = store_client_put(t, lc);
	}
	if (rc == HX_OK)
		rc = store_audit_append(t, &ev, NULL);
	proto_free(lc);
	return rc;
}

static int client_change(struct ctl *c, const char *cmd, int op, const char *done)
{
	struct client_change a = {NULL, op, ctl_actor(), 0};
	int rc;
	if (c->argc != 2)
		return ctl_fail("%s: usage: hiepeerctl %s NAME", cmd, cmd);
	a.name = c->argv[1];
	if (proto_id_client_check(a.name) != HX_OK)
		return ctl_fail("%s: '%s' is not a client name", cmd, a.name);
	if (ctl_store_open(c, 0) != 0)
		return 1;
	rc = store_write(c->store, w_client_change, &a);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("%s: no local client %s", cmd, a.name);
	if (rc != HX_OK)
		return ctl_fail("%s: %s", cmd, hx_strerror(rc));
	printf("%s local client %s\n", done, a.name);
	return 0;
}

int ctl_client_remove_run(struct ctl *c)
{
	return client_change(c, "client remove", 0, "removed");
}

int ctl_client_suspend_run(struct ctl *c)
{
	return client_change(c, "client suspend", HIE__V1__PEER_STATUS__PEER_STATUS_SUSPENDED,
	                     "suspended");
}

int ctl_client_resume_run(struct ctl *c)
{
	return client_change(c, "client resume", HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE,
	                     "resumed");
}

/* ---- calls to the local API ---------------------------------------------------------------- */

/* Where the daemon's local listener is: [listen] local, or (port 0) its state file. */
static int local_url(const struct config *cfg, const char *path, char *url, size_t size)
{
	char host[256], statepath[CONFIG_PATH_MAX + 32], line[512];
	unsigned port = cfg->local.port;
	FILE *f;
	if (!cfg->local.set)
		return ctl_fail("the configuration has no [listen] local: the local API is off");
	hx_strlcpy(host, cfg->local.host, sizeof(host));
	if (port == 0) {
		if (cfg->state[0] != '\0')
			snprintf(statepath, sizeof(statepath), "%s", cfg->state);
		else
			snprintf(statepath, sizeof(statepath), "%s/hiepeerd.state", cfg->store);
		if ((f = fopen(statepath, "r")) == NULL)
			return ctl_fail("hiepeerd is not running (no state file %s)", statepath);
		while (fgets(line, sizeof(line), f) != NULL) {
			char *colon;
			if (strncmp(line, "local = ", 8) != 0 || (colon = strrchr(line, ':')) == NULL)
				continue;
			port = (unsigned)strtoul(colon + 1, NULL, 10);
		}
		fclose(f);
		if (port == 0)
			return ctl_fail("hiepeerd's state file %s names no local listener", statepath);
	}
	if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
		hx_strlcpy(host, "127.0.0.1", sizeof(host));
	else if (strcmp(host, "::") == 0)
		hx_strlcpy(host, "::1", sizeof(host));
	snprintf(url, size, strchr(host, ':') != NULL ? "https://[%s]:%u%s" : "https://%s:%u%s",
	         host, port, path);
	return 0;
}

int ctl_local_call(const struct config *cfg, const char *cmd, const char *client_cert,
                   const char *client_key, const char *path, const void *msg,
                   uint64_t timeout_ms, struct hx_buf *resp)
{
	struct crypto_tls_client *tls = NULL;
	struct crypto_cert_info own;
	struct peer_request req = {0};
	char url[CONFIG_PATH_MAX + 64], err[512], what[CONFIG_PATH_MAX + 160];
	int rc;

	if (local_url(cfg, path, url, sizeof(url)) != 0)
		return 1;
	if (crypto_cert_info_load(cfg->certificate, &own, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s: %s", cmd, err);
	/* The daemon is pinned by fingerprint, and its chain checked against [tls] ca and crl as
	 * any peer's is: a certificate revoked in the region's CRL is refused here too. */
	if (crypto_tls_client_new(client_cert, client_key, cfg->ca, cfg->crl, &tls, err,
	                          sizeof(err)) != HX_OK)
		return ctl_fail("%s: %s", cmd, err);
	req.url = url;
	req.fp = own.fingerprint; /* the daemon presents [tls] certificate */
	req.timeout_ms = timeout_ms;
	snprintf(what, sizeof(what), "%s: the local API at %s", cmd, url);
	rc = ctl_call_pb(tls, &req, msg, what, resp);
	crypto_tls_client_free(tls);
	return rc;
}
