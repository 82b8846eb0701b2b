/*
 * bench_fanout: the cross-organisation query to N peers, against a libcurl-multi client calling
 * N nginx mTLS endpoints that serve the same answers (tests/bench/bench_fanout.sh sets it up).
 *
 *   bench_fanout CONFIG ROUNDS ANCHOR_PORTS CA CERT KEY DISCOVER_BODY QUERY_BODY [STALLED]
 *
 * A round: discover at every peer in parallel, then query at every peer in parallel.
 *   ours    fanout_run() with the node's configuration (every active peer is asked: no RLS);
 *   anchor  a libcurl multi: N POSTs of DISCOVER_BODY, then N POSTs of QUERY_BODY, to the N
 *           nginx ports listed (comma-separated) in ANCHOR_PORTS, client certificate CERT/KEY,
 *           verifying against CA.
 * warm: connections kept between rounds (one engine / one multi), 5 x ROUNDS rounds (a p99 of
 * at least 1,000), in blocks of 25 rounds, ours and the anchor's in turn, each block after a
 * 50 ms pause (see WARM_BLOCK), with, for reading, a third block after each pair against N
 * nginx processes of one port each (HX_FANOUT_PROCESS_PORTS, comma-separated) and the p99s
 * without the first round of each block; then the same number again with rounds alternating
 * one by one, printed for reading. cold: ROUNDS rounds, new connections every round, ours and the
 * anchor's in turn, each after the pause; ours may resume the TLS sessions it has (what a node
 * does when a peer's connection was closed), the anchor starts from nothing (a new multi, as a
 * fresh client does). With STALLED (the configuration of a node whose peers
 * include one that never answers), a last measure: rounds with a 200 ms deadline must end
 * by 205 ms.
 * Output: a line per measure, and last:
 *   fanout-N: ratio R (ours p99 X ms, anchor p99 Y ms) target <= 1.5
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "fanout.h"

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ours, cpu_anchor; /* the client's own CPU, warm rounds */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i = (size_t)((double)(n - 1) * p + 0.5);
	qsort(v, n, sizeof(double), dcmp);
	return v[i < n ? i : n - 1];
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		exit(2);
	b = malloc((size_t)n + 1);
	if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* Warm rounds are measured in blocks, ours and the anchor's in turn, each block after a pause:
 * a node's disclosure audit records are lazy writes, committed up to STORE_LAZY_MS (20 ms)
 * after the request, and N peer processes committing at once on a 2-core machine take
 * milliseconds. Rounds alternating one by one put the commits owed for our round into the
 * anchor's next round, counted as its latency; the pause lets them land before the anchor's
 * block (and lets ours land before our next block, which starts after a pause too: the
 * first round of a block is a round after a short idle, as a clinician's query is). */
#define WARM_BLOCK 25
#define DRAIN_MS 50

static void drain(void)
{
	struct timespec d = {0, DRAIN_MS * 1000000L};
	nanosleep(&d, NULL);
}

/* ---- the anchor --------------------------------------------------------------------------- */

static int ports[FANOUT_ORGS_MAX], nports;
/* The same endpoints, each served by its own nginx process (HX_FANOUT_PROCESS_PORTS). */
static int ports_proc[FANOUT_ORGS_MAX], nports_proc;
static const char *ca, *cert, *key;
static char *bodies[2];
static size_t blen[2];

static size_t sink(char *p, size_t s, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += s * n;
	return s * n;
}

static int anchor_step(CURLM *m, const int *pp, int step)
{
	CURL *e[FANOUT_ORGS_MAX];
	size_t got[FANOUT_ORGS_MAX] = {0};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	int running = 0, ok = 1;
	h = curl_slist_append(h, "Expect:");
	for (int i = 0; i < nports; i++) {
		char url[128];
		snprintf(url, sizeof(url), "https://localhost:%d%s", pp[i],
		         step == 0 ? "/hie/v1/patients/discover" : "/hie/v1/documents/query");
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_URL, url);
		curl_easy_setopt(e[i], CURLOPT_CAINFO, ca);
		curl_easy_setopt(e[i], CURLOPT_SSLCERT, cert);
		curl_easy_setopt(e[i], CURLOPT_SSLKEY, key);
		curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, bodies[step]);
		curl_easy_setopt(e[i], CURLOPT_POSTFIELDSIZE, (long)blen[step]);
		curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(e[i], CURLOPT_WRITEDATA, &got[i]);
		curl_easy_setopt(e[i], CURLOPT_TIMEOUT_MS, 5000L);
		/* As our client does: no SIGPIPE juggling (two sigaction calls a transfer). */
		curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
		curl_multi_add_handle(m, e[i]);
	}
	do {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running);
	for (int i = 0; i < nports; i++) {
		long st = 0;
		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &st);
		ok &= st == 200 && got[i] > 0;
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_slist_free_all(h);
	return ok;
}

static double anchor_round_at(CURLM *m, const int *pp)
{
	double t0 = now_ms();
	if (!anchor_step(m, pp, 0) || !anchor_step(m, pp, 1)) {
		fprintf(stderr, "bench_fanout: the anchor round failed\n");
		exit(1);
	}
	return now_ms() - t0;
}

static double anchor_round(CURLM *m)
{
	return anchor_round_at(m, ports);
}

/* ---- ours --------------------------------------------------------------------------------- */

static double ours_round(struct fanout_engine *e, const struct fanout_opts *o, int expect_ok)
{
	struct fanout_result *r;
	char err[256];
	double t0 = now_ms(), t;
	size_t ok = 0;
	if (fanout_run(e, o, &r, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_fanout: %s\n", err);
		exit(1);
	}
	t = now_ms() - t0;
	for (size_t i = 0; i < r->n_orgs; i++)
		ok += r->org[i].status == FANOUT_OK;
	if (expect_ok >= 0 && ok != (size_t)expect_ok) {
		fprintf(stderr, "bench_fanout: %zu of %zu organisations answered ok (%s)\n", ok,
		        r->n_orgs, r->n_orgs ? r->org[0].detail : "");
		exit(1);
	}
	fanout_result_free(r);
	return t;
}

static void load(const char *path, struct config *cfg, struct store **st)
{
	char err[CONFIG_ERR_MAX];
	struct store_opts so = {.read_only = 1};
	config_init(cfg);
	if (config_load(path, cfg, err, sizeof(err)) != HX_OK ||
	    store_open(cfg->store, &so, st, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_fanout: %s\n", err);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static Hie__V1__HumanName name = HIE__V1__HUMAN_NAME__INIT, *names[1] = {&name};
	static char *given[1] = {"Katherine"};
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	struct config cfg, cfg_s;
	struct store *st, *st_s;
	struct fanout_engine *e;
	struct fanout_opts o = {0};
	char err[256], *p;
	int rounds, warm;
	double *ow, *aw, *pw, *ow_alt, *aw_alt, *ow_nf, *aw_nf, *oc, *ac;
	size_t n_nf = 0;

	if (argc < 9) {
		fprintf(stderr, "usage: bench_fanout CONFIG ROUNDS ANCHOR_PORTS CA CERT KEY "
		                "DISCOVER_BODY QUERY_BODY [STALLED_CONFIG]\n");
		return 2;
	}
	/* Our engine runs in hiepeerd, which sets these heap settings at start; the anchor's
	 * client, in this same process, gets them too. */
	hx_malloc_tune();
	rounds = atoi(argv[2]);
	for (p = strtok(argv[3], ","); p != NULL && nports < FANOUT_ORGS_MAX; p = strtok(NULL, ","))
		ports[nports++] = atoi(p);
	ca = argv[4];
	cert = argv[5];
	key = argv[6];
	bodies[0] = slurp(argv[7], &blen[0]);
	bodies[1] = slurp(argv[8], &blen[1]);
	if (rounds < 2 || nports == 0)
		return 2;
	if (getenv("HX_FANOUT_PROCESS_PORTS") != NULL) {
		char *pl = strdup(getenv("HX_FANOUT_PROCESS_PORTS"));
		int extra = 0;
		if (pl == NULL)
			return 1;
		for (p = strtok(pl, ","); p != NULL; p = strtok(NULL, ",")) {
			if (nports_proc < nports)
				ports_proc[nports_proc++] = atoi(p);
			else
				extra = 1;
		}
		free(pl);
		if (nports_proc != nports || extra) {
			fprintf(stderr, "bench_fanout: HX_FANOUT_PROCESS_PORTS must list %d ports\n",
			        nports);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN); /* as hiepeerd does; both clients then set CURLOPT_NOSIGNAL */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	load(argv[1], &cfg, &st);
	name.family = "Smith";
	name.given = given;
	name.n_given = 1;
	d.names = names;
	d.n_names = 1;
	d.birth_date = "1980-03-04";
	d.sex = HIE__V1__SEX__SEX_FEMALE;
	o.cfg = &cfg;
	o.store = st;
	o.demographics = &d;
	o.purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	o.peer_timeout_ms = 5000;
	o.overall_timeout_ms = 10000;
	warm = rounds * 5;
	ow = calloc((size_t)warm, sizeof(double));
	aw = calloc((size_t)warm, sizeof(double));
	pw = calloc((size_t)warm, sizeof(double));
	ow_nf = calloc((size_t)warm, sizeof(double));
	aw_nf = calloc((size_t)warm, sizeof(double));
	ow_alt = calloc((size_t)warm, sizeof(double));
	aw_alt = calloc((size_t)warm, sizeof(double));
	oc = calloc((size_t)rounds, sizeof(double));
	ac = calloc((size_t)rounds, sizeof(double));
	if (ow == NULL || aw == NULL || pw == NULL || ow_nf == NULL || aw_nf == NULL ||
	    ow_alt == NULL || aw_alt == NULL || oc == NULL || ac == NULL)
		return 1;

	/* warm */
	if (fanout_engine_new(&cfg, &e, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_fanout: %s\n", err);
		return 1;
	}
	if (getenv("HX_FANOUT_PROFILE") != NULL) {
		/* For a profiler: only our warm (or cold) rounds, or only the anchor's warm ones
		 * ("anchor"), nothing else in the profile. */
		int cold = strcmp(getenv("HX_FANOUT_PROFILE"), "cold") == 0;
		if (strcmp(getenv("HX_FANOUT_PROFILE"), "anchor") == 0) {
			CURLM *m = curl_multi_init();
			for (int r = 0; r < rounds; r++)
				anchor_round(m);
			return 0;
		}
		for (int r = 0; r < rounds; r++) {
			if (cold && fanout_engine_disconnect(e) != HX_OK)
				return 1;
			ours_round(e, &o, nports);
		}
		fanout_engine_free(e);
		return 0;
	}
	{
		CURLM *m = curl_multi_init(), *mp = curl_multi_init();
		ours_round(e, &o, nports); /* connect first: warm means warm */
		anchor_round(m);
		if (nports_proc)
			anchor_round_at(mp, ports_proc);
		/* The measure: blocks of WARM_BLOCK rounds, ours and the anchor's in turn (ABBA), each
		 * after a pause of DRAIN_MS. */
		for (int b = 0; b * WARM_BLOCK < warm; b++) {
			int first = b / 2 % 2 == b % 2; /* ours first in blocks 0, 3, 4, 7, 8, ... */
			for (int side = 0; side < 2; side++) {
				int us = side == 0 ? first : !first;
				double c0;
				drain();
				c0 = cpu_ms();
				for (int r = b * WARM_BLOCK; r < (b + 1) * WARM_BLOCK && r < warm; r++) {
					if (us)
						ow[r] = ours_round(e, &o, nports);
					else
						aw[r] = anchor_round(m);
				}
				*(us ? &cpu_ours : &cpu_anchor) += cpu_ms() - c0;
			}
			/* For reading: the anchor as N processes, a block of its own after the pair. */
			if (nports_proc) {
				drain();
				for (int r = b * WARM_BLOCK; r < (b + 1) * WARM_BLOCK && r < warm; r++)
					pw[r] = anchor_round_at(mp, ports_proc);
			}
		}
		if (getenv("HX_FANOUT_DUMP") != NULL) {
			FILE *df = fopen(getenv("HX_FANOUT_DUMP"), "w");
			/* Round r of each side: the r % WARM_BLOCK-th round of its block. */
			for (int r = 0; df != NULL && r < warm; r++)
				fprintf(df, "%d %.3f %.3f %.3f\n", r, ow[r], aw[r], pw[r]);
			if (df != NULL)
				fclose(df);
		}
		for (int r = 0; r < warm; r++)
			if (r % WARM_BLOCK != 0) {
				ow_nf[n_nf] = ow[r];
				aw_nf[n_nf++] = aw[r];
			}
		/* For reading: rounds alternating one by one, as this bench measured before. */
		drain();
		for (int r = 0; r < warm; r++) {
			if (r % 2) {
				ow_alt[r] = ours_round(e, &o, nports);
				aw_alt[r] = anchor_round(m);
			} else {
				aw_alt[r] = anchor_round(m);
				ow_alt[r] = ours_round(e, &o, nports);
			}
		}
		curl_multi_cleanup(m);
		curl_multi_cleanup(mp);
	}
	/* cold: new connections every round (ours resuming the TLS sessions it has) */
	for (int r = 0; r < rounds; r++) {
		CURLM *m = curl_multi_init();
		if (fanout_engine_disconnect(e) != HX_OK)
			return 1;
		drain();
		oc[r] = ours_round(e, &o, nports);
		drain();
		ac[r] = anchor_round(m);
		curl_multi_cleanup(m);
	}
	fanout_engine_free(e);
	printf("fanout-%d warm: ours p50 %.2f ms p99 %.2f ms (client CPU %.3f ms a round); anchor "
	       "p50 %.2f ms p99 %.2f ms (client CPU %.3f ms)\n",
	       nports, pct(ow, (size_t)warm, 0.5), pct(ow, (size_t)warm, 0.99),
	       cpu_ours / warm, pct(aw, (size_t)warm, 0.5), pct(aw, (size_t)warm, 0.99),
	       cpu_anchor / warm);
	printf("fanout-%d warm percentiles (ms), p50 p90 p95 p99 p99.9 max:", nports);
	for (int k = 0; k < 2; k++) {
		double *v = k == 0 ? ow : aw;
		printf(" %s", k == 0 ? "ours" : "; anchor");
		for (size_t q = 0; q < 6; q++)
			printf(" %.2f", pct(v, (size_t)warm, (const double[]){0.5, 0.9, 0.95, 0.99,
			                                                       0.999, 1.0}[q]));
	}
	printf("\n");
	/* How much the rounds right after a pause weigh in the p99: without them. */
	printf("fanout-%d warm, without the first round of each block (for reading): ratio %.2f "
	       "(ours p99 %.2f ms, anchor p99 %.2f ms)\n",
	       nports, pct(ow_nf, n_nf, 0.99) / pct(aw_nf, n_nf, 0.99), pct(ow_nf, n_nf, 0.99),
	       pct(aw_nf, n_nf, 0.99));
	if (nports_proc)
		printf("fanout-%d warm, against %d nginx processes of one port each (the process "
		       "topology of our peers; for reading): ratio %.2f (ours p99 %.2f ms, anchor p99 "
		       "%.2f ms; p50 %.2f against %.2f ms)\n",
		       nports, nports, pct(ow, (size_t)warm, 0.99) / pct(pw, (size_t)warm, 0.99),
		       pct(ow, (size_t)warm, 0.99), pct(pw, (size_t)warm, 0.99),
		       pct(ow, (size_t)warm, 0.5), pct(pw, (size_t)warm, 0.5));
	if (nports_proc)
		/* What the topology alone costs, with the same server software on both sides. */
		printf("fanout-%d warm, nginx in that topology: %d nginx processes against one (for "
		       "reading): ratio %.2f (p99 %.2f against %.2f ms; p50 %.2f against %.2f ms)\n",
		       nports, nports, pct(pw, (size_t)warm, 0.99) / pct(aw, (size_t)warm, 0.99),
		       pct(pw, (size_t)warm, 0.99), pct(aw, (size_t)warm, 0.99),
		       pct(pw, (size_t)warm, 0.5), pct(aw, (size_t)warm, 0.5));
	printf("fanout-%d warm, rounds alternating one by one (for reading: each anchor round then "
	       "also carries audit commits our peers owe for the round before): ratio %.2f (ours "
	       "p99 %.2f ms, anchor p99 %.2f ms)\n",
	       nports, pct(ow_alt, (size_t)warm, 0.99) / pct(aw_alt, (size_t)warm, 0.99),
	       pct(ow_alt, (size_t)warm, 0.99), pct(aw_alt, (size_t)warm, 0.99));
	printf("fanout-%d cold: ratio %.2f (ours p50 %.2f ms, anchor p50 %.2f ms) target <= 0.5\n",
	       nports, pct(oc, (size_t)rounds, 0.5) / pct(ac, (size_t)rounds, 0.5),
	       pct(oc, (size_t)rounds, 0.5), pct(ac, (size_t)rounds, 0.5));
	if (argc > 9) {
		/* One peer never answers: the round ends at the deadline, not later. */
		struct fanout_opts os = o;
		double worst = 0, t;
		load(argv[9], &cfg_s, &st_s);
		os.cfg = &cfg_s;
		os.store = st_s;
		os.overall_timeout_ms = 200;
		if (fanout_engine_new(&cfg_s, &e, err, sizeof(err)) != HX_OK)
			return 1;
		for (int r = 0; r < (rounds < 20 ? rounds : 20); r++) {
			t = ours_round(e, &os, nports - 1);
			if (t > worst)
				worst = t;
		}
		fanout_engine_free(e);
		printf("fanout-%d stalled: one peer never answers; the worst round took %.1f ms for a "
		       "200 ms deadline (target <= 205 ms)\n", nports, worst);
		store_close(st_s);
	}
	printf("fanout-%d: ratio %.2f (ours p99 %.2f ms, anchor p99 %.2f ms) target <= 1.5\n",
	       nports, pct(ow, (size_t)warm, 0.99) / pct(aw, (size_t)warm, 0.99),
	       pct(ow, (size_t)warm, 0.99), pct(aw, (size_t)warm, 0.99));
	store_close(st);
	curl_global_cleanup();
	return 0;
}
