/* ctl_status.c: hiepeerctl status: what the running daemon trusts now, against the store;
 * expiry warnings for our certificate, the CA and the peers; the CRL's state. */
#include "ctl.h"

#include "config.h"
#include "crypto.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARN_DAYS CTL_WARN_DAYS

struct state {
	long pid;
	char peer[300];
	char local[300];
	uint64_t generation;
	int has_generation;
	char crl_next_update[40];
	char problem[300];
	char problem_since[40];
};

/* Read the daemon's state file (key = value lines). 1 if there is none. */
static int state_read(const char *path, struct state *st)
{
	char line[512];
	FILE *f = fopen(path, "r");
	memset(st, 0, sizeof(*st));
	if (f == NULL)
		return 1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strstr(line, " = "), *v;
		if (eq == NULL)
			continue;
		*eq = '\0';
		v = eq + 3;
		v[strcspn(v, "\n")] = '\0';
		if (strcmp(line, "pid") == 0)
			st->pid = strtol(v, NULL, 10);
		else if (strcmp(line, "peer") == 0)
			hx_strlcpy(st->peer, v, sizeof(st->peer));
		else if (strcmp(line, "local") == 0)
			hx_strlcpy(st->local, v, sizeof(st->local));
		else if (strcmp(line, "trust_generation") == 0)
			st->has_generation = hx_u64_parse(v, &st->generation) == HX_OK;
		else if (strcmp(line, "crl_next_update") == 0)
			hx_strlcpy(st->crl_next_update, v, sizeof(st->crl_next_update));
		else if (strcmp(line, "trust_problem") == 0)
			hx_strlcpy(st->problem, v, sizeof(st->problem));
		else if (strcmp(line, "trust_problem_since") == 0)
			hx_strlcpy(st->problem_since, v, sizeof(st->problem_since));
	}
	fclose(f);
	return 0;
}

struct peer_tally {
	unsigned active, suspended, revoked, expiring;
	cJSON *warnings;
	int json;
};

static void warn(struct peer_tally *pt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct peer_tally *pt, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(pt->warnings, cJSON_CreateString(msg));
	if (!pt->json)
		printf("warning: %s\n", msg);
}

static int peer_cb(const Hie__V1__Peer *p, void *arg)
{
	struct peer_tally *pt = arg;
	if (p->status == HIE__V1__PEER_STATUS__PEER_STATUS_ACTIVE) {
		pt->active++;
		if (p->not_after != 0 && ctl_days_left_n(p->not_after) <= WARN_DAYS) {
			char left[48];
			ctl_days_left(p->not_after, left, sizeof(left));
			pt->expiring++;
			warn(pt, "peer %s (%s): certificate %s", p->org_id, p->name, left);
		}
	} else if (p->status == HIE__V1__PEER_STATUS__PEER_STATUS_SUSPENDED) {
		pt->suspended++;
	} else {
		pt->revoked++;
	}
	return 0;
}

static void cert_line(struct peer_tally *pt, cJSON *j, const char *what, const char *path)
{
	struct crypto_cert_info ci;
	char err[256], fp[80], left[48], when[32];
	if (path[0] == '\0')
		return;
	if (crypto_cert_info_load(path, &ci, err, sizeof(err)) != HX_OK) {
		warn(pt, "%s %s: %s", what, path, err);
		return;
	}
	crypto_fingerprint_format(ci.fingerprint, fp, sizeof(fp));
	ctl_days_left(ci.not_after, left, sizeof(left));
	hx_time_format(ci.not_after, when, sizeof(when));
	when[10] = '\0';
	if (!pt->json)
		printf("%-14s %s, not after %s (%s)\n", what, fp, when, left);
	{
		cJSON *o = cJSON_AddObjectToObject(j, what);
		cJSON_AddStringToObject(o, "fingerprint", fp);
		cJSON_AddStringToObject(o, "not_after", when);
		cJSON_AddNumberToObject(o, "days_left", (double)ctl_days_left_n(ci.not_after));
	}
	if (ctl_days_left_n(ci.not_after) <= WARN_DAYS)
		warn(pt, "%s %s: %s", what, path, left);
}

int ctl_status_run(struct ctl *c)
{
	struct config cfg;
	struct state st;
	struct peer_tally pt = {0};
	struct store_txn *t;
	char err[CONFIG_ERR_MAX], path[CONFIG_PATH_MAX + 32];
	uint64_t store_gen = 0;
	int running = 0, rc;
	cJSON *j;

	if (c->argc != 1)
		return ctl_fail("status: takes no arguments (use --config FILE)");
	if (c->config_path == NULL)
		return ctl_fail("status needs hiepeerd's configuration: --config FILE");
	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("status: %s", hx_strerror(rc));
	pt.json = c->json;
	pt.warnings = cJSON_CreateArray();
	j = cJSON_CreateObject();
	rc = store_trust_gen_get(t, &store_gen);
	store_read_end(t);
	if (rc != HX_OK) {
		cJSON_Delete(j);
		cJSON_Delete(pt.warnings);
		return ctl_fail("status: %s", hx_strerror(rc));
	}
	if (cfg.state[0] != '\0')
		snprintf(path, sizeof(path), "%s", cfg.state);
	else
		snprintf(path, sizeof(path), "%s/hiepeerd.state", cfg.store);
	if (state_read(path, &st) == 0 && st.pid > 0)
		running = kill((pid_t)st.pid, 0) == 0 || errno == EPERM;

	cJSON_AddStringToObject(j, "org_id", store_org_id(c->store));
	cJSON_AddBoolToObject(j, "running", running);
	cJSON_AddNumberToObject(j, "store_trust_generation", (double)store_gen);
	if (running) {
		cJSON_AddNumberToObject(j, "pid", (double)st.pid);
		cJSON_AddStringToObject(j, "peer_listener", st.peer);
		if (st.local[0] != '\0')
			cJSON_AddStringToObject(j, "local_listener", st.local);
		cJSON_AddNumberToObject(j, "daemon_trust_generation", (double)st.generation);
	}
	if (!c->json) {
		printf("%-14s %s\n", "organisation", store_org_id(c->store));
		if (running)
			printf("%-14s running (pid %ld), serving peers on %s%s%s\n", "daemon", st.pid,
			       st.peer, st.local[0] ? ", local clients on " : "", st.local);
		else
			printf("%-14s not running\n", "daemon");
		if (running && st.has_generation)
			printf("%-14s daemon serves generation %llu, store is at %llu%s\n", "trust",
			       (unsigned long long)st.generation, (unsigned long long)store_gen,
			       st.generation == store_gen ? " (current)" : "");
		else
			printf("%-14s store is at generation %llu\n", "trust",
			       (unsigned long long)store_gen);
	}
	if (running && st.has_generation && st.generation != store_gen && st.problem[0] == '\0')
		warn(&pt, "the daemon has not yet taken trust generation %llu (it looks every second)",
		     (unsigned long long)store_gen);
	if (running && st.problem[0] != '\0')
		warn(&pt, "the daemon kept its previous trust state since %s: %s", st.problem_since,
		     st.problem);
	cert_line(&pt, j, "certificate", cfg.certificate);
	cert_line(&pt, j, "ca", cfg.ca);
	if (cfg.crl[0] == '\0') {
		if (!c->json)
			printf("%-14s none configured\n", "crl");
	} else if (running) {
		if (!c->json)
			printf("%-14s %s, next update %s\n", "crl", cfg.crl, st.crl_next_update);
		cJSON_AddStringToObject(j, "crl_next_update", st.crl_next_update);
		{
			int64_t nu;
			if (hx_time_parse(st.crl_next_update, &nu) == HX_OK && nu < hx_time_now_ms())
				warn(&pt, "the CRL in use is past its nextUpdate (%s); publish a fresh one",
				     st.crl_next_update);
		}
	}
	if (ctl_store_open(c, 1) == 0 && store_read_begin(c->store, &t) == HX_OK) {
		store_peer_list(t, peer_cb, &pt);
		store_read_end(t);
	}
	if (!c->json)
		printf("%-14s %u active, %u suspended, %u revoked; %u expiring within %d days\n",
		       "peers", pt.active, pt.suspended, pt.revoked, pt.expiring, WARN_DAYS);
	cJSON_AddNumberToObject(j, "peers_active", pt.active);
	cJSON_AddNumberToObject(j, "peers_suspended", pt.suspended);
	cJSON_AddNumberToObject(j, "peers_revoked", pt.revoked);
	if ((cfg.role == CONFIG_ROLE_RLS && ctl_status_locator(c, c->json ? j : NULL) != 0) ||
	    ctl_status_rls(c, &cfg, c->json ? j : NULL) != 0) {
		cJSON_Delete(j);
		cJSON_Delete(pt.warnings);
		return 1;
	}
	cJSON_AddItemToObject(j, "warnings", pt.warnings);
	if (c->json)
		ctl_json_print(j);
	else
		cJSON_Delete(j);
	return 0;
}
