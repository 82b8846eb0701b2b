/*
 * bench_ingest.c: durable document ingest through group commit, against raw LMDB.
 *
 * Ours: 4 threads submit 10 KB documents (entry + content + per-patient index) with
 * store_write_submit(), each keeping a window of submissions in flight, as a server with
 * many concurrent requests would; every document is acknowledged only once durable.
 * Anchor: one thread doing raw durable LMDB puts, 1,000 per transaction, of the same
 * key/value pairs (for each document: the 10 KB content, an entry-sized value, an index
 * row) into a fresh environment on the same disk.
 * Rounds alternate ours/anchor. ratio = ours documents/s ÷ (anchor puts/s ÷ 3), where 3 is
 * 1 + the 2 index entries (docs, pat_docs) written per document besides its content.
 */
#include <lmdb.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "crypto.h"
#include "store.h"

#define ORG "2.16.840.1.113883.3.7001"
#define THREADS 4
#define WINDOW 256
#define PATIENTS 200
#define DOC_SIZE 10240

struct doc {
	Hie__V1__DocumentEntry e;
	Hie__V1__Code type;
	char id[33], pid[16];
	uint8_t sha[32];
	uint8_t *content;
};

static struct doc *docs;
static size_t ndocs;

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void make_docs(size_t n)
{
	docs = calloc(n, sizeof(*docs));
	ndocs = n;
	for (size_t i = 0; i < n; i++) {
		struct doc *d = &docs[i];
		hie__v1__document_entry__init(&d->e);
		hie__v1__code__init(&d->type);
		crypto_doc_id_new(d->id);
		snprintf(d->pid, sizeof(d->pid), "P%05zu", i % PATIENTS);
		d->content = malloc(DOC_SIZE);
		for (size_t j = 0; j < DOC_SIZE; j++)
			d->content[j] = (uint8_t)("abcdefghij klmnopqrstuvwxyz.\n"[(i * 31 + j * 7) % 29]);
		crypto_sha256(d->content, DOC_SIZE, d->sha);
		d->type.code = "11506-3";
		d->type.system = "2.16.840.1.113883.6.1";
		d->type.display = "Progress note";
		d->e.id = d->id;
		d->e.unique_id = "2.16.840.1.113883.3.7001.1.99";
		d->e.patient_id = d->pid;
		d->e.type_code = &d->type;
		d->e.creation_time = 1700000000000 + (int64_t)i * 1000;
		d->e.mime_type = "text/plain";
		d->e.language = "en-US";
		d->e.title = "Progress note";
		d->e.size = DOC_SIZE;
		d->e.sha256.data = d->sha;
		d->e.sha256.len = 32;
		d->e.status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
		d->e.origin_org = ORG;
	}
}

/* ---- ours -------------------------------------------------------------------------------- */

struct worker {
	struct store *s;
	size_t from, to;
	sem_t window;
	atomic_size_t acked;
	atomic_int failed;
};

struct sub {
	struct worker *w;
	struct doc *d;
};

static int w_doc(struct store_txn *t, void *arg)
{
	struct sub *sb = arg;
	return store_doc_put(t, &sb->d->e, sb->d->content, DOC_SIZE);
}

static void d_doc(int rc, void *arg)
{
	struct sub *sb = arg;
	if (rc != HX_OK && atomic_fetch_add(&sb->w->failed, 1) == 0)
		fprintf(stderr, "bench: a document failed: %s\n", hx_strerror(rc));
	atomic_fetch_add(&sb->w->acked, 1);
	sem_post(&sb->w->window);
	free(sb);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (size_t i = w->from; i < w->to; i++) {
		struct sub *sb = malloc(sizeof(*sb));
		sb->w = w;
		sb->d = &docs[i];
		sem_wait(&w->window);
		if (store_write_submit(w->s, w_doc, d_doc, sb) != HX_OK) {
			atomic_fetch_add(&w->failed, 1);
			atomic_fetch_add(&w->acked, 1);
			sem_post(&w->window);
			free(sb);
		}
	}
	/* Wait for every acknowledgement. */
	for (int k = 0; k < WINDOW; k++)
		sem_wait(&w->window);
	return NULL;
}

struct pat_arg {
	int dummy;
};

static int w_patients(struct store_txn *t, void *arg)
{
	(void)arg;
	for (int i = 0; i < PATIENTS; i++) {
		Hie__V1__Patient p = HIE__V1__PATIENT__INIT;
		Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
		char id[16];
		snprintf(id, sizeof(id), "P%05d", i);
		p.id = id;
		p.demographics = &d;
		int rc = store_patient_put(t, &p, NULL, 0);
		if (rc != HX_OK)
			return rc;
	}
	return HX_OK;
}

static double run_ours(const char *dir, double *cpu_per_doc, uint64_t *commits)
{
	struct store_opts o = {.create = 1, .org_id = ORG, .map_size = 8ULL << 30};
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct store *s;
	struct store_stat st;
	char err[STORE_ERR_MAX];
	double t0, t1, c0, c1;
	int failed = 0;

	if (store_open(dir, &o, &s, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench: %s\n", err);
		exit(1);
	}
	if (store_write(s, w_patients, NULL) != HX_OK)
		exit(1);
	c0 = cpu_seconds();
	t0 = (double)hx_time_mono_ns() / 1e9;
	for (int i = 0; i < THREADS; i++) {
		w[i].s = s;
		w[i].from = ndocs * (size_t)i / THREADS;
		w[i].to = ndocs * (size_t)(i + 1) / THREADS;
		sem_init(&w[i].window, 0, WINDOW);
		atomic_init(&w[i].acked, 0);
		atomic_init(&w[i].failed, 0);
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		failed += atomic_load(&w[i].failed);
	}
	t1 = (double)hx_time_mono_ns() / 1e9;
	c1 = cpu_seconds();
	store_stat_get(s, &st);
	store_close(s);
	if (failed != 0 || st.documents != ndocs) {
		fprintf(stderr, "bench: %d failed, %llu stored of %zu\n", failed,
		        (unsigned long long)st.documents, ndocs);
		exit(1);
	}
	*cpu_per_doc = (c1 - c0) / (double)ndocs;
	*commits = st.commits;
	return (double)ndocs / (t1 - t0);
}

/* ---- anchor: raw LMDB ------------------------------------------------------------------- */

static double run_raw(const char *dir, double *cpu_per_put)
{
	MDB_env *env;
	MDB_txn *txn = NULL;
	MDB_dbi dbi[3];
	const char *names[3] = {"docs", "content", "pat_docs"};
	uint8_t entry[512], idx[128];
	size_t entry_len, puts = 0;
	double t0, t1, c0, c1;

	mdb_env_create(&env);
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_mapsize(env, 8ULL << 30);
	if (mdb_env_open(env, dir, 0, 0600) != 0)
		exit(1);
	mdb_txn_begin(env, NULL, 0, &txn);
	for (int i = 0; i < 3; i++)
		mdb_dbi_open(txn, names[i], MDB_CREATE, &dbi[i]);
	mdb_txn_commit(txn);
	/* An entry-sized value: the packed entry of the first document. */
	entry_len = proto_pack_to(&docs[0].e, entry);
	memset(idx, 7, sizeof(idx));

	c0 = cpu_seconds();
	t0 = (double)hx_time_mono_ns() / 1e9;
	txn = NULL;
	for (size_t i = 0; i < ndocs; i++) {
		struct doc *d = &docs[i];
		uint8_t ikey[64];
		size_t pl = strlen(d->pid);
		MDB_val k = {32, d->id}, v;
		memcpy(ikey, d->pid, pl + 1);
		memcpy(ikey + pl + 1, d->id, 24);
		MDB_val ik = {pl + 25, ikey};
		for (int j = 0; j < 3; j++) {
			if (txn == NULL)
				mdb_txn_begin(env, NULL, 0, &txn);
			if (j == 0) {
				v.mv_size = entry_len;
				v.mv_data = entry;
				mdb_put(txn, dbi[0], &k, &v, 0);
			} else if (j == 1) {
				v.mv_size = DOC_SIZE;
				v.mv_data = d->content;
				mdb_put(txn, dbi[1], &k, &v, 0);
			} else {
				v.mv_size = 40;
				v.mv_data = idx;
				mdb_put(txn, dbi[2], &ik, &v, 0);
			}
			if (++puts % 1000 == 0) {
				if (mdb_txn_commit(txn) != 0)
					exit(1);
				txn = NULL;
			}
		}
	}
	if (txn != NULL && mdb_txn_commit(txn) != 0)
		exit(1);
	t1 = (double)hx_time_mono_ns() / 1e9;
	c1 = cpu_seconds();
	mdb_env_close(env);
	*cpu_per_put = (c1 - c0) / (double)puts;
	return (double)puts / (t1 - t0);
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 20000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	const char *base = getenv("HX_BENCH_DIR") != NULL ? getenv("HX_BENCH_DIR") : "/var/tmp";
	double ours[16], raw[16];
	char dir[512];

	if (rounds < 1 || rounds > 16 || n < 1000)
		return 2;
	hx_log_init("bench_ingest", HX_LOG_WARNING);
	make_docs(n);
	if (proto_check(PROTO_DOCUMENT_ENTRY, &docs[0].e) != HX_OK) {
		fprintf(stderr, "bench: a generated entry fails proto_check\n");
		return 1;
	}
	printf("ingest: %zu documents of %d bytes per round, %d rounds, %d threads x window %d, "
	       "dir %s\n", n, DOC_SIZE, rounds, THREADS, WINDOW, base);
	for (int r = 0; r < rounds; r++) {
		double cpu_doc, cpu_put;
		uint64_t commits;
		snprintf(dir, sizeof(dir), "%s/hx-bench-ours-%d", base, (int)getpid());
		rm_rf(dir);
		ours[r] = run_ours(dir, &cpu_doc, &commits);
		rm_rf(dir);
		snprintf(dir, sizeof(dir), "%s/hx-bench-raw-%d", base, (int)getpid());
		rm_rf(dir);
		char mk[600];
		snprintf(mk, sizeof(mk), "mkdir -p '%s'", dir);
		if (system(mk) != 0)
			return 1;
		raw[r] = run_raw(dir, &cpu_put);
		rm_rf(dir);
		printf("round %d: ours %.0f docs/s (%llu commits, %.1f us CPU/doc); raw LMDB %.0f "
		       "puts/s (%.1f us CPU/put) = %.0f doc-equivalents/s\n",
		       r + 1, ours[r], (unsigned long long)commits, cpu_doc * 1e6, raw[r],
		       cpu_put * 1e6, raw[r] / 3);
		fflush(stdout);
	}
	qsort(ours, (size_t)rounds, sizeof(double), cmp_double);
	qsort(raw, (size_t)rounds, sizeof(double), cmp_double);
	double o = ours[rounds / 2], a = raw[rounds / 2] / 3;
	printf("ingest: ratio %.2f (ours %.0f docs/s, anchor %.0f docs/s) target >= 0.5\n", o / a, o,
	       a);
	return 0;
}
