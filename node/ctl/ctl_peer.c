/* ctl_peer.c: peer add, list, show, suspend, resume, revoke, remove. Every change is one
 * write: the peer record (which bumps the trust generation) and its audit record commit
 * together or not at all. */
#include "ctl.h"

#include "config.h"
#include "crypto.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEER_NAME_MAX 128
#define PEER_URL_MAX 255

/* Profile defaults for a new peer. */
#define PEER_TIMEOUT_MS 5000
#define PEER_CONCURRENCY 16
#define PEER_MAX_DOCS 100

static const char *status_name(int s)
{
	switch (s) {
	case HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE:
		return "active";
	case HIE__V1__PEER_STATUS__PEER_STATUS_SUSPENDED:
		return "suspended";
	case HIE__V1__PEER_STATUS__PEER_STATUS_REVOKED:
		return "revoked";
	default:
		return "?";
	}
}

static const char *role_name(int r)
{
	return r == HIE__V1__PEER_ROLE__PEER_ROLE_RLS ? "rls" : "node";
}

/* https://HOST[:PORT][/]: HOST a DNS name, IPv4 address or [IPv6]; no user, path or query. */
static int url_ok(const char *u)
{
	const char *p = u + 8, *host = p;
	size_t n = strlen(u);

	if (n > PEER_URL_MAX || strncmp(u, "https://", 8) != 0)
		return 0;
	if (*p == '[') {
		p++;
		while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		       (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.')
			p++;
		if (*p != ']' || p == host + 1)
			return 0;
		p++;
	} else {
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '-' || *p == '.')
			p++;
		if (p == host)
			return 0;
	}
	if (*p == ':') {
		unsigned long port = 0;
		const char *d = ++p;
		while (*p >= '0' && *p <= '9' && p - d < 6)
			port = port * 10 + (unsigned long)(*p++ - '0');
		if (p == d || port == 0 || port > 65535)
			return 0;
	}
	if (*p == '/')
		p++;
	return *p == '\0';
}

/* A display name: 1..PEER_NAME_MAX bytes, no control characters (UTF-8 is checked by the
 * store's message check). */
static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PEER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static void audit_init(struct ctl *c, Hie__V1__AuditEvent *ev, int action, const char *org)
{
	hie__v1__audit_event__init(ev);
	ev->time = hx_time_now_ms();
	ev->action = action;
	ev->outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev->actor_org = (char *)store_org_id(c->store);
	ev->actor_user = (char *)ctl_actor();
	ev->target_org = (char *)org;
}

int ctl_cert_check(struct ctl *c, const char *cmd, const char *cert, const char *ca,
                    const char *crl, const char *org, struct crypto_cert_info *ci)
{
	struct config *cfg = NULL;
	char err[512];
	int rc;

	if (ca == NULL && c->config_path == NULL)
		return ctl_fail("%s: --ca FILE (the community CA) is required without --config", cmd);
	if (c->config_path != NULL && (ca == NULL || crl == NULL)) {
		/* The node's [tls] ca and crl, unless given here. */
		if ((cfg = calloc(1, sizeof(*cfg))) == NULL)
			return ctl_fail("%s: out of memory", cmd);
		config_init(cfg);
		if (config_load(c->config_path, cfg, err, sizeof(err)) != HX_OK) {
			free(cfg);
			return ctl_fail("%s", err);
		}
		if (ca == NULL && cfg->ca[0] == '\0') {
			free(cfg);
			return ctl_fail("%s: %s has no [tls] ca; give --ca FILE", cmd, c->config_path);
		}
		ca = ca != NULL ? ca : cfg->ca;
		crl = crl != NULL ? crl : cfg->crl;
	}
	rc = crypto_cert_validate(cert, ca, crl, org, hx_time_now_ms(), ci, err, sizeof(err));
	free(cfg);
	if (rc != HX_OK)
		return ctl_fail("%s: refused: %s", cmd, err);
	return 0;
}

/* ---- peer add --------------------------------------------------------------------------- */

struct peer_add {
	const Hie__V1__Peer *p;
	const Hie__V1__AuditEvent *ev;
};

static int w_peer_add(struct store_txn *t, void *arg)
{
	struct peer_add *a = arg;
	Hie__V1__Peer *old = NULL;
	int rc = store_peer_get(t, a->p->org_id, &old);

	if (rc == HX_OK) {
		proto_free(old);
		return HX_EEXIST;
	}
	if (rc != HX_ENOTFOUND)
		return rc;
	if ((rc = store_peer_put(t, a->p)) != HX_OK)
		return rc;
	return store_audit_append(t, a->ev, NULL);
}

int ctl_peer_add_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"org", required_argument, NULL, 'o'},
		{"name", required_argument, NULL, 'n'},
		{"url", required_argument, NULL, 'u'},
		{"cert", required_argument, NULL, 'c'},
		{"ca", required_argument, NULL, 'C'},
		{"crl", required_argument, NULL, 'R'},
		{"role", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	const char *org = NULL, *name = NULL, *url = NULL, *cert = NULL, *ca = NULL, *crl = NULL;
	Hie__V1__Peer p = HIE__V1__PEER__INIT;
	Hie__V1__PeerProfile prof = HIE__V1__PEER_PROFILE__INIT;
	Hie__V1__AuditEvent ev;
	Hie__V1__PeerRole role = HIE__V1__PEER_ROLE__PEER_ROLE_NODE;
	struct crypto_cert_info ci;
	struct peer_add a = {&p, &ev};
	struct hx_buf der;
	char fps[80], detail[512], derr[256];
	int ch, rc;

	hx_buf_init(&der, CRYPTO_PEM_FILE_MAX);

	while ((ch = getopt_long(c->argc, c->argv, "o:n:u:c:r:j", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			org = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'C':
			ca = optarg;
			break;
		case 'R':
			crl = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "node") == 0)
				role = HIE__V1__PEER_ROLE__PEER_ROLE_NODE;
			else if (strcmp(optarg, "rls") == 0)
				role = HIE__V1__PEER_ROLE__PEER_ROLE_RLS;
			else
				return ctl_fail("--role: '%s' is not node or rls", optarg);
			break;
		case 'j':
			c->json = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("peer add: unexpected argument '%s'", c->argv[optind]);
	if (org == NULL || name == NULL || url == NULL || cert == NULL)
		return ctl_fail("peer add: --org OID, --name NAME, --url https://HOST:PORT and "
		                "--cert FILE are required");
	if (proto_id_org_check(org) != HX_OK)
		return ctl_fail("peer add: --org '%s' is not an OID "
		                "(e.g. 2.16.840.1.113883.3.7002)", org);
	if (!name_ok(name))
		return ctl_fail("peer add: --name must be 1 to %d bytes without control "
		                "characters", PEER_NAME_MAX);
	if (!url_ok(url))
		return ctl_fail("peer add: --url '%s' is not https://HOST[:PORT]", url);
	if (ctl_cert_check(c, "peer add", cert, ca, crl, org, &ci) != 0)
		return 1;
	if (crypto_cert_der_load(cert, &der, derr, sizeof(derr)) != HX_OK)
		return ctl_fail("peer add: %s", derr);
	if (ctl_store_open(c, 0) != 0) {
		hx_buf_clear(&der);
		return 1;
	}
	if (strcmp(org, store_org_id(c->store)) == 0) {
		hx_buf_clear(&der);
		return ctl_fail("peer add: %s is this node's own organisation", org);
	}

	p.org_id = (char *)org;
	p.name = (char *)name;
	p.endpoint = (char *)url;
	p.fingerprint.data = ci.fingerprint;
	p.fingerprint.len = CRYPTO_SHA256_LEN;
	p.certificate.data = der.data;
	p.certificate.len = der.len;
	p.status = HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE;
	p.n_roles = 1;
	p.roles = &role;
	prof.timeout_ms = PEER_TIMEOUT_MS;
	prof.max_concurrency = PEER_CONCURRENCY;
	prof.max_docs_per_retrieve = PEER_MAX_DOCS;
	p.profile = &prof;
	p.not_after = ci.not_after;
	p.created = p.updated = hx_time_now_ms();
	audit_init(c, &ev, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_PEER_ADD, org);
	ev.new_fingerprint = p.fingerprint;
	snprintf(detail, sizeof(detail), "enrolled %s (%s) at %s", name, role_name(role), url);
	ev.detail = detail;

	rc = store_write(c->store, w_peer_add, &a);
	hx_buf_clear(&der);
	if (rc == HX_EEXIST)
		return ctl_fail("peer add: organisation %s is already enrolled (peer remove it "
		                "first; certificate rotation is peer rotate)", org);
	if (rc == HX_EINVAL)
		return ctl_fail("peer add: the peer record is not acceptable: its name or URL is not "
		                "valid UTF-8 text, or its certificate is over 16 KB");
	if (rc != HX_OK)
		return ctl_fail("peer add: %s", hx_strerror(rc));
	crypto_fingerprint_format(ci.fingerprint, fps, sizeof(fps));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "org_id", org);
		cJSON_AddStringToObject(j, "status", "active");
		cJSON_AddStringToObject(j, "fingerprint", fps);
		ctl_json_print(j);
	} else {
		printf("enrolled %s (%s) %s\n", org, name, fps);
	}
	return 0;
}

/* ---- peer list, peer show --------------------------------------------------------------- */

static cJSON *peer_json(const Hie__V1__Peer *p)
{
	cJSON *o = cJSON_CreateObject(), *roles, *prof;
	char fps[80], iso[32];

	cJSON_AddStringToObject(o, "org_id", p->org_id);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "status", status_name(p->status));
	cJSON_AddStringToObject(o, "url", p->endpoint);
	roles = cJSON_AddArrayToObject(o, "roles");
	for (size_t i = 0; i < p->n_roles; i++)
		cJSON_AddItemToArray(roles, cJSON_CreateString(role_name(p->roles[i])));
	crypto_fingerprint_format(p->fingerprint.data, fps, sizeof(fps));
	cJSON_AddStringToObject(o, "fingerprint", fps);
	if (p->next_fingerprint.len == CRYPTO_SHA256_LEN) {
		crypto_fingerprint_format(p->next_fingerprint.data, fps, sizeof(fps));
		cJSON_AddStringToObject(o, "next_fingerprint", fps);
	}
	hx_time_format(p->not_after, iso, sizeof(iso));
	cJSON_AddStringToObject(o, "not_after", iso);
	cJSON_AddNumberToObject(o, "days_left", (double)ctl_days_left_n(p->not_after));
	cJSON_AddBoolToObject(o, "expiry_warning", ctl_days_left_n(p->not_after) <= CTL_WARN_DAYS);
	prof = cJSON_AddObjectToObject(o, "profile");
	if (p->profile != NULL) {
		cJSON_AddNumberToObject(prof, "timeout_ms", p->profile->timeout_ms);
		cJSON_AddNumberToObject(prof, "max_concurrency", p->profile->max_concurrency);
		cJSON_AddNumberToObject(prof, "max_docs_per_retrieve",
		                        p->profile->max_docs_per_retrieve);
	}
	hx_time_format(p->created, iso, sizeof(iso));
	cJSON_AddStringToObject(o, "created", iso);
	hx_time_format(p->updated, iso, sizeof(iso));
	cJSON_AddStringToObject(o, "updated", iso);
	return o;
}

struct list_state {
	cJSON *arr;
	size_t n;
};

static int list_cb(const Hie__V1__Peer *p, void *arg)
{
	struct list_state *st = arg;
	char fps[80], until[24], left[48];

	st->n++;
	if (st->arr != NULL) {
		cJSON_AddItemToArray(st->arr, peer_json(p));
		return 0;
	}
	crypto_fingerprint_format(p->fingerprint.data, fps, sizeof(fps));
	fps[7 + 16] = '\0'; /* "SHA256:" and 16 hex digits */
	ctl_time_short(p->not_after, until, sizeof(until));
	until[10] = '\0';
	ctl_days_left(p->not_after, left, sizeof(left));
	printf("%-26s ", p->org_id);
	ctl_print_padded(p->name, 24);
	printf(" %-9s %-34s %-23s %s (%s)%s\n", status_name(p->status), p->endpoint, fps, until,
	       left, ctl_expiry_mark(p->not_after));
	return 0;
}

/* With --config, peer list ends with this node's own certificate and the community CA, with
 * the same expiry warning (in JSON: entries with "self": "certificate" / "ca"). */
static int own_lines(struct ctl *c, cJSON *arr)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	const char *what[2] = {"certificate", "ca"};

	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	const char *path[2] = {cfg.certificate, cfg.ca};
	if (arr == NULL)
		printf("\n");
	for (int i = 0; i < 2; i++) {
		struct crypto_cert_info ci;
		char fps[80], until[24], left[48];
		if (path[i][0] == '\0')
			continue;
		if (crypto_cert_info_load(path[i], &ci, err, sizeof(err)) != HX_OK)
			return ctl_fail("peer list: %s", err);
		crypto_fingerprint_format(ci.fingerprint, fps, sizeof(fps));
		ctl_time_short(ci.not_after, until, sizeof(until));
		until[10] = '\0';
		ctl_days_left(ci.not_after, left, sizeof(left));
		if (arr != NULL) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "self", what[i]);
			cJSON_AddStringToObject(o, "file", path[i]);
			cJSON_AddStringToObject(o, "fingerprint", fps);
			cJSON_AddNumberToObject(o, "days_left", (double)ctl_days_left_n(ci.not_after));
			cJSON_AddBoolToObject(o, "expiry_warning",
			                      ctl_days_left_n(ci.not_after) <= CTL_WARN_DAYS);
			cJSON_AddItemToArray(arr, o);
			continue;
		}
		fps[7 + 16] = '\0';
		printf("%-26s ", i == 0 ? cfg.org_id : "(community CA)");
		ctl_print_padded(i == 0 ? "this node" : "CA", 24);
		printf(" %-9s %-34s %-23s %s (%s)%s\n", "-", path[i], fps, until, left,
		       ctl_expiry_mark(ci.not_after));
	}
	return 0;
}

int ctl_peer_list_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	struct list_state st = {0};
	struct store_txn *t;
	int ch, rc;

	while ((ch = getopt_long(c->argc, c->argv, "j", opts, NULL)) != -1) {
		if (ch != 'j')
			return 2;
		c->json = 1;
	}
	if (optind != c->argc)
		return ctl_fail("peer list: unexpected argument '%s'", c->argv[optind]);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("peer list: %s", hx_strerror(rc));
	if (c->json) {
		st.arr = cJSON_CreateArray();
	} else {
		printf("%-26s ", "ORG");
		ctl_print_padded("NAME", 24);
		printf(" %-9s %-34s %-23s %s\n", "STATUS", "URL", "FINGERPRINT", "NOT AFTER");
	}
	rc = store_peer_list(t, list_cb, &st);
	store_read_end(t);
	if (rc != HX_OK) {
		cJSON_Delete(st.arr);
		return ctl_fail("peer list: %s", hx_strerror(rc));
	}
	if (st.n == 0 && st.arr == NULL)
		printf("(no peers enrolled)\n");
	if (c->config_path != NULL && own_lines(c, st.arr) != 0) {
		cJSON_Delete(st.arr);
		return 1;
	}
	if (st.arr != NULL)
		ctl_json_print(st.arr);
	return 0;
}

/* Parse "[--json] ORG" for the commands on one peer. */
static int one_org(struct ctl *c, const char *cmd, const char **org)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(c->argc, c->argv, "j", opts, NULL)) != -1) {
		if (ch != 'j')
			return 2;
		c->json = 1;
	}
	if (optind != c->argc - 1)
		return ctl_fail("%s: usage: hiepeerctl %s ORG", cmd, cmd);
	*org = c->argv[optind];
	if (proto_id_org_check(*org) != HX_OK)
		return ctl_fail("%s: '%s' is not an OID", cmd, *org);
	return 0;
}

int ctl_peer_show_run(struct ctl *c)
{
	Hie__V1__Peer *p;
	struct store_txn *t;
	const char *org;
	char fps[80], when[24], left[48];
	int rc;

	if ((rc = one_org(c, "peer show", &org)) != 0)
		return rc;
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("peer show: %s", hx_strerror(rc));
	rc = store_peer_get(t, org, &p);
	store_read_end(t);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("peer show: no peer %s is enrolled", org);
	if (rc != HX_OK)
		return ctl_fail("peer show: %s", hx_strerror(rc));
	if (c->json) {
		ctl_json_print(peer_json(p));
		proto_free(p);
		return 0;
	}
	printf("organisation   %s\n", p->org_id);
	printf("name           %s\n", p->name);
	printf("status         %s\n", status_name(p->status));
	printf("url            %s\n", p->endpoint);
	printf("roles         ");
	for (size_t i = 0; i < p->n_roles; i++)
		printf(" %s", role_name(p->roles[i]));
	printf("\n");
	crypto_fingerprint_format(p->fingerprint.data, fps, sizeof(fps));
	printf("fingerprint    %s\n", fps);
	if (p->next_fingerprint.len == CRYPTO_SHA256_LEN) {
		crypto_fingerprint_format(p->next_fingerprint.data, fps, sizeof(fps));
		printf("next           %s\n", fps);
	}
	ctl_time_short(p->not_after, when, sizeof(when));
	ctl_days_left(p->not_after, left, sizeof(left));
	printf("not after      %s UTC (%s)%s\n", when, left, ctl_expiry_mark(p->not_after));
	if (p->profile != NULL)
		printf("profile        timeout %u ms, concurrency %u, %u documents per retrieve\n",
		       p->profile->timeout_ms, p->profile->max_concurrency,
		       p->profile->max_docs_per_retrieve);
	ctl_time_short(p->created, when, sizeof(when));
	printf("created        %s UTC\n", when);
	ctl_time_short(p->updated, when, sizeof(when));
	printf("updated        %s UTC\n", when);
	proto_free(p);
	return 0;
}

/* ---- status changes, remove -------------------------------------------------------------- */

#define BIT(s) (1u << (s))

/* The status commands: the status each sets and the statuses it may start from. */
static const struct peer_transition {
	const char *cmd;
	Hie__V1__PeerStatus to;
	unsigned from; /* BIT(status) of allowed starting points */
	const char *past;
} transitions[] = {
	{"peer suspend", HIE__V1__PEER_STATUS__PEER_STATUS_SUSPENDED,
	 BIT(HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE), "suspended"},
	{"peer resume", HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE,
	 BIT(HIE__V1__PEER_STATUS__PEER_STATUS_SUSPENDED), "resumed"},
	{"peer revoke", HIE__V1__PEER_STATUS__PEER_STATUS_REVOKED,
	 BIT(HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE) |
	         BIT(HIE__V1__PEER_STATUS__PEER_STATUS_SUSPENDED),
	 "revoked"},
};

struct peer_change {
	const struct peer_transition *tr; /* NULL: remove */
	Hie__V1__AuditEvent *ev;
	int from;                          /* out: the status found */
	uint8_t fp[CRYPTO_SHA256_LEN];
	char detail[PEER_NAME_MAX + 96];
};

static int w_peer_change(struct store_txn *t, void *arg)
{
	struct peer_change *a = arg;
	Hie__V1__Peer *p;
	int rc;

	if ((rc = store_peer_get(t, a->ev->target_org, &p)) != HX_OK)
		return rc;
	a->from = p->status;
	memcpy(a->fp, p->fingerprint.data, CRYPTO_SHA256_LEN);
	if (a->tr == NULL) {
		snprintf(a->detail, sizeof(a->detail), "removed %s (was %s)", p->name,
		         status_name(p->status));
		rc = store_peer_delete(t, p->org_id);
	} else if ((a->tr->from & BIT(p->status)) == 0) {
		rc = HX_EINVAL;
	} else {
		snprintf(a->detail, sizeof(a->detail), "%s: status %s -> %s", p->name,
		         status_name(p->status), status_name(a->tr->to));
		p->status = a->tr->to;
		p->updated = hx_time_now_ms();
		rc = store_peer_put(t, p);
	}
	proto_free(p);
	if (rc != HX_OK)
		return rc;
	a->ev->old_fingerprint.data = a->fp;
	a->ev->old_fingerprint.len = CRYPTO_SHA256_LEN;
	a->ev->detail = a->detail;
	return store_audit_append(t, a->ev, NULL);
}

static int peer_change(struct ctl *c, const char *cmd, const struct peer_transition *tr)
{
	Hie__V1__AuditEvent ev;
	struct peer_change a = {.tr = tr, .ev = &ev};
	const char *org;
	int rc;

	if ((rc = one_org(c, cmd, &org)) != 0)
		return rc;
	if (ctl_store_open(c, 0) != 0)
		return 1;
	audit_init(c, &ev,
	           tr != NULL ? HIE__V1__AUDIT_ACTION__AUDIT_ACTION_PEER_CHANGE
	                      : HIE__V1__AUDIT_ACTION__AUDIT_ACTION_PEER_REMOVE,
	           org);
	rc = store_write(c->store, w_peer_change, &a);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("%s: no peer %s is enrolled", cmd, org);
	if (rc == HX_EINVAL && tr != NULL && a.from == HIE__V1__PEER_STATUS__PEER_STATUS_REVOKED)
		return ctl_fail("%s: %s is revoked, which is final (peer remove, then peer add)",
		                cmd, org);
	if (rc == HX_EINVAL && tr != NULL)
		return ctl_fail("%s: %s is already %s", cmd, org, status_name(a.from));
	if (rc != HX_OK)
		return ctl_fail("%s: %s", cmd, hx_strerror(rc));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "org_id", org);
		cJSON_AddStringToObject(j, "old_status", status_name(a.from));
		cJSON_AddStringToObject(j, "status", tr != NULL ? status_name(tr->to) : "removed");
		ctl_json_print(j);
	} else {
		printf("%s %s\n", tr != NULL ? tr->past : "removed", org);
	}
	return 0;
}

int ctl_peer_suspend_run(struct ctl *c)
{
	return peer_change(c, transitions[0].cmd, &transitions[0]);
}

int ctl_peer_resume_run(struct ctl *c)
{
	return peer_change(c, transitions[1].cmd, &transitions[1]);
}

int ctl_peer_revoke_run(struct ctl *c)
{
	return peer_change(c, transitions[2].cmd, &transitions[2]);
}

int ctl_peer_remove_run(struct ctl *c)
{
	return peer_change(c, "peer remove", NULL);
}

/* ---- peer rotate: stage a peer's next certificate, then commit (or abort) ----------------- */

enum rotate_op { ROTATE_STAGE, ROTATE_COMMIT, ROTATE_ABORT };

struct peer_rotate {
	enum rotate_op op;
	const struct crypto_cert_info *ci; /* STAGE */
	const struct hx_buf *der;          /* STAGE: the certificate */
	Hie__V1__AuditEvent *ev;
	uint8_t old_fp[CRYPTO_SHA256_LEN], new_fp[CRYPTO_SHA256_LEN];
	char detail[PEER_NAME_MAX + 128];
};

static int w_peer_rotate(struct store_txn *t, void *arg)
{
	struct peer_rotate *a = arg;
	Hie__V1__Peer *p;
	int rc;

	if ((rc = store_peer_get(t, a->ev->target_org, &p)) != HX_OK)
		return rc;
	if (p->status == HIE__V1__PEER_STATUS__PEER_STATUS_REVOKED) {
		proto_free(p);
		return HX_EDENIED;
	}
	memcpy(a->old_fp, p->fingerprint.data, CRYPTO_SHA256_LEN);
	if (a->op == ROTATE_STAGE) {
		if (memcmp(a->ci->fingerprint, p->fingerprint.data, CRYPTO_SHA256_LEN) == 0) {
			proto_free(p);
			return HX_EEXIST;
		}
		memcpy(a->new_fp, a->ci->fingerprint, CRYPTO_SHA256_LEN);
		free(p->next_fingerprint.data);
		p->next_fingerprint.data = malloc(CRYPTO_SHA256_LEN);
		if (p->next_fingerprint.data == NULL) {
			proto_free(p);
			return HX_ENOMEM;
		}
		memcpy(p->next_fingerprint.data, a->ci->fingerprint, CRYPTO_SHA256_LEN);
		p->next_fingerprint.len = CRYPTO_SHA256_LEN;
		free(p->next_certificate.data);
		p->next_certificate.len = 0;
		if ((p->next_certificate.data = malloc(a->der->len)) == NULL) {
			proto_free(p);
			return HX_ENOMEM;
		}
		memcpy(p->next_certificate.data, a->der->data, a->der->len);
		p->next_certificate.len = a->der->len;
		p->next_not_after = a->ci->not_after;
		snprintf(a->detail, sizeof(a->detail), "%s: next certificate staged (both accepted)",
		         p->name);
	} else {
		if (p->next_fingerprint.len != CRYPTO_SHA256_LEN) {
			proto_free(p);
			return HX_ENOTFOUND;
		}
		memcpy(a->new_fp, p->next_fingerprint.data, CRYPTO_SHA256_LEN);
		if (a->op == ROTATE_COMMIT) {
			memcpy(p->fingerprint.data, p->next_fingerprint.data, CRYPTO_SHA256_LEN);
			p->not_after = p->next_not_after;
			free(p->certificate.data);
			p->certificate = p->next_certificate; /* moved */
			p->next_certificate.data = NULL;
			p->next_certificate.len = 0;
			snprintf(a->detail, sizeof(a->detail),
			         "%s: rotation committed (the old certificate is refused)", p->name);
		} else {
			snprintf(a->detail, sizeof(a->detail), "%s: staged certificate withdrawn",
			         p->name);
		}
		p->next_fingerprint.len = 0;
		p->next_not_after = 0;
		free(p->next_certificate.data);
		p->next_certificate.data = NULL;
		p->next_certificate.len = 0;
	}
	p->updated = hx_time_now_ms();
	rc = store_peer_put(t, p);
	proto_free(p);
	if (rc != HX_OK)
		return rc;
	a->ev->old_fingerprint.data = a->op == ROTATE_ABORT ? a->new_fp : a->old_fp;
	a->ev->old_fingerprint.len = CRYPTO_SHA256_LEN;
	a->ev->new_fingerprint.data = a->op == ROTATE_ABORT ? a->old_fp : a->new_fp;
	a->ev->new_fingerprint.len = CRYPTO_SHA256_LEN;
	a->ev->detail = a->detail;
	return store_audit_append(t, a->ev, NULL);
}

int ctl_peer_rotate_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"cert", required_argument, NULL, 'c'}, {"ca", required_argument, NULL, 'C'},
		{"crl", required_argument, NULL, 'R'},  {"commit", no_argument, NULL, 'm'},
		{"abort", no_argument, NULL, 'a'},      {NULL, 0, NULL, 0},
	};
	const char *cert = NULL, *ca = NULL, *crl = NULL, *org;
	struct crypto_cert_info ci;
	Hie__V1__AuditEvent ev;
	struct hx_buf der;
	char derr[256];
	struct peer_rotate a = {.op = ROTATE_STAGE, .ci = &ci, .der = &der, .ev = &ev};
	char fps[80];
	int ch, rc, ops = 0;

	while ((ch = getopt_long(c->argc, c->argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cert = optarg;
			break;
		case 'C':
			ca = optarg;
			break;
		case 'R':
			crl = optarg;
			break;
		case 'm':
			a.op = ROTATE_COMMIT;
			ops++;
			break;
		case 'a':
			a.op = ROTATE_ABORT;
			ops++;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != c->argc || ops + (cert != NULL) != 1)
		return ctl_fail("peer rotate: usage: hiepeerctl peer rotate ORG --cert NEW.pem | "
		                "--commit | --abort");
	org = c->argv[optind];
	if (proto_id_org_check(org) != HX_OK)
		return ctl_fail("peer rotate: '%s' is not an OID", org);
	hx_buf_init(&der, CRYPTO_PEM_FILE_MAX);
	if (cert != NULL && ctl_cert_check(c, "peer rotate", cert, ca, crl, org, &ci) != 0)
		return 1;
	if (cert != NULL && crypto_cert_der_load(cert, &der, derr, sizeof(derr)) != HX_OK)
		return ctl_fail("peer rotate: %s", derr);
	if (ctl_store_open(c, 0) != 0) {
		hx_buf_clear(&der);
		return 1;
	}
	audit_init(c, &ev, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_PEER_CHANGE, org);
	rc = store_write(c->store, w_peer_rotate, &a);
	hx_buf_clear(&der);
	if (rc == HX_ENOTFOUND && a.op != ROTATE_STAGE)
		return ctl_fail("peer rotate: %s has no staged certificate (or is not enrolled)", org);
	if (rc == HX_ENOTFOUND)
		return ctl_fail("peer rotate: no peer %s is enrolled", org);
	if (rc == HX_EDENIED)
		return ctl_fail("peer rotate: %s is revoked", org);
	if (rc == HX_EEXIST)
		return ctl_fail("peer rotate: that is already %s's current certificate", org);
	if (rc != HX_OK)
		return ctl_fail("peer rotate: %s", hx_strerror(rc));
	crypto_fingerprint_format(a.new_fp, fps, sizeof(fps));
	printf("%s: %s %s\n", org,
	       a.op == ROTATE_STAGE    ? "staged"
	       : a.op == ROTATE_COMMIT ? "now uses"
	                               : "withdrew the staged",
	       fps);
	return 0;
}
