/*
 * bench_locate: the record locator's lookups in process, against raw LMDB on the same index.
 *
 *   bench_locate [ORGS [TOKENS_PER_ORG [ROUNDS [SECONDS]]]]   (20, 50000, 5, 2)
 *
 * Builds a store in $HX_BENCH_DIR (/var/tmp) whose locator holds TOKENS_PER_ORG random tokens
 * for each of ORGS organisations, a quarter of them shared with the next organisation (people
 * known at two places). Then, in interleaved rounds, looks up random known tokens:
 *   ours    store_locator_lookup() in a read transaction (what /hie/v1/rls/locate does per
 *           token: the organisations holding it, copied out);
 *   anchor  raw LMDB on the same file: mdb_cursor_get(MDB_SET) + MDB_NEXT_DUP over the
 *           token's organisations, in a read transaction of the same size (a child process
 *           of this program: LMDB forbids one process to open an environment twice).
 * Last line:  locate: ratio R (ours X lookups/s, anchor Y lookups/s) target >= 0.7
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "store.h"

#define TXN_LOOKUPS 64 /* lookups per read transaction, both sides (a locate asks up to 64) */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t (*tokens)[32];
static size_t ntokens;
static unsigned orgs, per_org;

/* The tokens, the same in the parent and the anchor's child. */
static int make_tokens(void)
{
	uint64_t x = 0x243f6a8885a308d3ull;
	ntokens = (size_t)orgs * per_org;
	tokens = malloc(ntokens * 32);
	if (tokens == NULL)
		return -1;
	for (size_t i = 0; i < ntokens; i++)
		for (int k = 0; k < 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(tokens[i] + 8 * k, &x, 8);
		}
	return 0;
}

static double run_anchor(MDB_env *env, MDB_dbi dbi, double secs, size_t *found);

/* bench_locate --anchor DIR ORGS PER_ORG SECONDS: one anchor round; prints lookups/s. */
static int anchor_child(char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	size_t found = 0;
	double r;
	orgs = (unsigned)atoi(argv[3]);
	per_org = (unsigned)atoi(argv[4]);
	if (make_tokens() != 0 || mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 32) != 0 ||
	    mdb_env_set_mapsize(env, 4ULL << 30) != 0 ||
	    mdb_env_open(env, argv[2], MDB_RDONLY | MDB_NOTLS, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
	    mdb_dbi_open(txn, "locator", MDB_DUPSORT, &dbi) != 0) {
		fprintf(stderr, "bench_locate: cannot open the store with raw LMDB\n");
		return 1;
	}
	mdb_txn_commit(txn);
	r = run_anchor(env, dbi, atof(argv[5]), &found);
	printf("%.1f %zu\n", r, found);
	mdb_env_close(env);
	return 0;
}

static double anchor_round(const char *self, const char *dir, double secs, size_t *found)
{
	char cmd[1024];
	double r = 0;
	size_t f = 0;
	FILE *p;
	snprintf(cmd, sizeof(cmd), "'%s' --anchor '%s' %u %u %f", self, dir, orgs, per_org, secs);
	if ((p = popen(cmd, "r")) == NULL || fscanf(p, "%lf %zu", &r, &f) != 2) {
		fprintf(stderr, "bench_locate: the anchor round failed\n");
		exit(1);
	}
	pclose(p);
	*found += f;
	return r;
}

static void org_id(unsigned i, char out[32])
{
	snprintf(out, 32, "2.16.840.1.113883.3.%u", 8000 + i);
}

struct fill {
	unsigned org;
	size_t from, to;
};

static int w_fill(struct store_txn *t, void *arg)
{
	struct fill *f = arg;
	char org[32];
	org_id(f->org, org);
	for (size_t i = f->from; i < f->to; i++) {
		int rc = store_locator_add(t, tokens[i % ntokens], org);
		if (rc != HX_OK)
			return rc;
	}
	return HX_OK;
}

static int count_cb(const char *org, size_t len, void *arg)
{
	(void)org;
	(void)len;
	(*(size_t *)arg)++;
	return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static size_t pick(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (size_t)(rng % ntokens);
}

static double run_ours(struct store *s, double secs, size_t *found)
{
	double t0 = now_s(), t;
	size_t n = 0;
	do {
		struct store_txn *txn;
		if (store_read_begin(s, &txn) != HX_OK)
			abort();
		for (int i = 0; i < TXN_LOOKUPS; i++) {
			int trunc;
			store_locator_lookup(txn, tokens[pick()], 256, count_cb, found, &trunc);
		}
		store_read_end(txn);
		n += TXN_LOOKUPS;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

static double run_anchor(MDB_env *env, MDB_dbi dbi, double secs, size_t *found)
{
	double t0 = now_s(), t;
	size_t n = 0;
	MDB_txn *txn = NULL;
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		abort();
	mdb_txn_reset(txn);
	do {
		MDB_cursor *c;
		if (mdb_txn_renew(txn) != 0 || mdb_cursor_open(txn, dbi, &c) != 0)
			abort();
		for (int i = 0; i < TXN_LOOKUPS; i++) {
			MDB_val k = {32, tokens[pick()]}, v;
			int r = mdb_cursor_get(c, &k, &v, MDB_SET);
			while (r == 0) {
				char org[64];
				size_t len = v.mv_size < sizeof(org) ? v.mv_size : sizeof(org) - 1;
				memcpy(org, v.mv_data, len); /* copied out, as ours does */
				org[len] = '\0';
				(*found)++;
				r = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
			}
		}
		mdb_cursor_close(c);
		mdb_txn_reset(txn);
		n += TXN_LOOKUPS;
		t = now_s() - t0;
	} while (t < secs);
	mdb_txn_abort(txn);
	return (double)n / t;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *base = getenv("HX_BENCH_DIR") ? getenv("HX_BENCH_DIR") : "/var/tmp";
	char dir[256], err[STORE_ERR_MAX], cmd[300];
	unsigned rounds;
	double secs, ours[64], anchor[64];
	struct store *s;
	struct store_opts so = {.create = 1, .org_id = "2.16.840.1.113883.3.7000",
	                        .map_size = 4ULL << 30};
	size_t fo = 0, fa = 0;

	if (argc == 6 && strcmp(argv[1], "--anchor") == 0)
		return anchor_child(argv);

	orgs = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
	per_org = argc > 2 ? (unsigned)atoi(argv[2]) : 50000;
	rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 5;
	secs = argc > 4 ? atof(argv[4]) : 2;
	if (orgs == 0 || per_org == 0 || rounds == 0 || rounds > 64 || secs <= 0) {
		fprintf(stderr, "usage: bench_locate [ORGS [TOKENS_PER_ORG [ROUNDS [SECONDS]]]]\n");
		return 2;
	}
	/* Tokens: each organisation has per_org, the first quarter shared with the previous. */
	if (make_tokens() != 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/hx-bench-locate-XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("bench_locate: mkdtemp");
		return 1;
	}
	if (store_open(dir, &so, &s, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_locate: %s\n", err);
		return 1;
	}
	for (unsigned o = 0; o < orgs; o++) {
		size_t start = (size_t)o * per_org, shared = per_org / 4;
		size_t from = start >= shared ? start - shared : start; /* known here and before */
		for (size_t i = from; i < start + per_org; i += 10000) {
			struct fill f = {o, i, i + 10000 < start + per_org ? i + 10000 : start + per_org};
			if (store_write(s, w_fill, &f) != HX_OK) {
				fprintf(stderr, "bench_locate: filling failed\n");
				return 1;
			}
		}
	}
	{
		struct store_txn *t;
		uint64_t pairs = 0;
		store_read_begin(s, &t);
		store_locator_stat(t, &pairs);
		store_read_end(t);
		printf("locate: index of %llu (token, organisation) pairs, %zu tokens, %u "
		       "organisations\n", (unsigned long long)pairs, ntokens, orgs);
	}
	fflush(stdout);
	for (unsigned r = 0; r < rounds; r++) {
		if (r % 2 == 0) {
			anchor[r] = anchor_round(argv[0], dir, secs, &fa);
			ours[r] = run_ours(s, secs, &fo);
		} else {
			ours[r] = run_ours(s, secs, &fo);
			anchor[r] = anchor_round(argv[0], dir, secs, &fa);
		}
		printf("  round %u: ours %.0f lookups/s, anchor %.0f lookups/s\n", r + 1, ours[r],
		       anchor[r]);
	}
	qsort(ours, rounds, sizeof(double), dcmp);
	qsort(anchor, rounds, sizeof(double), dcmp);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_locate: could not remove %s\n", dir);
	if (fo == 0 || fa == 0) {
		fprintf(stderr, "bench_locate: the lookups found nothing\n");
		return 1;
	}
	printf("locate: ratio %.2f (ours %.0f lookups/s, anchor %.0f lookups/s) target >= 0.7\n",
	       ours[rounds / 2] / anchor[rounds / 2], ours[rounds / 2], anchor[rounds / 2]);
	free(tokens);
	return 0;
}
