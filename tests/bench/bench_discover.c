/*
 * bench_discover: in-process patient discovery against a store of demo-data patients.
 *
 *   bench_discover search STORE SEED PERSONS QUERIES
 *       QUERIES lookups, each for a random person of the population as the person would
 *       describe themselves (demo_person_demographics); the store holds another
 *       organisation's records of them (typos, nicknames, moves, married names...). Prints
 *       one line (each lookup timed from the person's Demographics message to the graded
 *       matches: normalisation, blocking keys, candidates, scores): queries=N p50_us=… p99_us=… qps=… cpu_us_per_query=… found=… (the share of
 *       queries whose person's record came back certain or probable) wrong=… (queries that
 *       returned someone else as certain or probable).
 *   bench_discover search-one STORE SEED PERSONS QUERIES PERSON
 *       the same, always for PERSON (the cost of the one request the endpoint load sends).
 *   bench_discover bodies SEED PERSONS N OUT
 *       the DiscoverRequests of the N persons `search` looks up, in its order, as records
 *       for bench_load --bodies (the endpoint then does the same mix of lookups).
 *   bench_discover request SEED PERSON ORG_INDEX OUT
 *       write the DiscoverRequest body for that person (for the endpoint load).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "demo.h"
#include "identity.h"
#include "proto.h"
#include "store.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Keep the person's demographics as packed bytes: the timed loop unpacks nothing (that is
 * the endpoint's plumbing) but normalises them, as the match from demographics does. */
static int take(const Hie__V1__Demographics *d, void *arg)
{
	Hie__V1__Demographics **out = arg;
	size_t len = hie__v1__demographics__get_packed_size(d);
	uint8_t *buf = malloc(len ? len : 1);
	if (buf == NULL)
		return 1;
	hie__v1__demographics__pack(d, buf);
	*out = hie__v1__demographics__unpack(NULL, len, buf);
	free(buf);
	return *out == NULL;
}

struct pack_arg {
	const char *out;
	int rc;
};

static int pack_request(const Hie__V1__Demographics *d, void *arg)
{
	struct pack_arg *a = arg;
	Hie__V1__DiscoverRequest r = HIE__V1__DISCOVER_REQUEST__INIT;
	struct hx_buf b;
	FILE *f;
	r.demographics = (Hie__V1__Demographics *)d;
	r.purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	hx_buf_init(&b, 1u << 20);
	if (proto_pack(&r, &b) != HX_OK || (f = fopen(a->out, "wb")) == NULL) {
		hx_buf_clear(&b);
		return a->rc = 1;
	}
	a->rc = fwrite(b.data, 1, b.len, f) != b.len;
	a->rc |= fclose(f) != 0;
	hx_buf_clear(&b);
	return a->rc;
}

/* bodies SEED PERSONS N OUT: the DiscoverRequests of the persons `search` would look up,
 * in the same order, as bench_load --bodies records. */
struct bodies_arg {
	FILE *f;
	int rc;
};

static int write_body(const Hie__V1__Demographics *d, void *arg)
{
	struct bodies_arg *a = arg;
	Hie__V1__DiscoverRequest r = HIE__V1__DISCOVER_REQUEST__INIT;
	struct hx_buf b;
	unsigned char len4[4];
	r.demographics = (Hie__V1__Demographics *)d;
	r.purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	hx_buf_init(&b, 1u << 20);
	if (proto_pack(&r, &b) != HX_OK) {
		hx_buf_clear(&b);
		return a->rc = 1;
	}
	len4[0] = (unsigned char)(b.len >> 24);
	len4[1] = (unsigned char)(b.len >> 16);
	len4[2] = (unsigned char)(b.len >> 8);
	len4[3] = (unsigned char)b.len;
	a->rc = fwrite(len4, 1, 4, a->f) != 4 || fwrite(b.data, 1, b.len, a->f) != b.len;
	hx_buf_clear(&b);
	return a->rc;
}

static int bodies(uint64_t seed, uint64_t persons, size_t n, const char *path)
{
	struct bodies_arg a = {fopen(path, "wb"), 0};
	uint64_t x = 0x2545f4914f6cdd1dull;
	if (a.f == NULL)
		return 1;
	for (size_t i = 0; i < n && a.rc == 0; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		demo_person_demographics(seed, x % persons, write_body, &a);
	}
	return fclose(a.f) != 0 || a.rc != 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "bodies") == 0)
		return bodies(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
		              strtoull(argv[4], NULL, 10), argv[5]);
	if (argc == 6 && strcmp(argv[1], "request") == 0) {
		struct pack_arg a = {argv[5], 0};
		if (demo_person_demographics(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
		                             pack_request, &a) != 0 || a.rc != 0) {
			fprintf(stderr, "bench_discover: cannot write %s\n", argv[5]);
			return 1;
		}
		(void)argv[4];
		return 0;
	}
	int one = argc == 7 && strcmp(argv[1], "search-one") == 0;
	if (!one && (argc != 6 || strcmp(argv[1], "search") != 0)) {
		fprintf(stderr, "usage: bench_discover search STORE SEED PERSONS QUERIES | "
		                "search-one STORE SEED PERSONS QUERIES PERSON | "
		                "request SEED PERSON ORG_INDEX OUT\n");
		return 2;
	}
	struct store_opts so = {.read_only = 1};
	struct store *st;
	struct store_txn *t;
	struct idm_profile p;
	char err[STORE_ERR_MAX];
	uint64_t seed = strtoull(argv[3], NULL, 10), persons = strtoull(argv[4], NULL, 10);
	size_t n = strtoull(argv[5], NULL, 10), found = 0, wrong = 0, cand = 0;
	double *lat = malloc(n * sizeof(double)), t0, c0, wall, cpu;
	uint64_t x = 0x2545f4914f6cdd1dull;
	unsigned org_index = 1;

	if (lat == NULL || n == 0 || persons == 0)
		return 2;
	if (store_open(argv[2], &so, &st, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_discover: %s\n", err);
		return 1;
	}
	if (getenv("HX_BENCH_ORG_INDEX") != NULL)
		org_index = (unsigned)atoi(getenv("HX_BENCH_ORG_INDEX"));
	store_read_begin(st, &t);
	idm_profile_from_store(t, &p, err, sizeof(err));
	store_read_end(t);
	/* The queries and the ids they should find, made before the clock starts: only the
	 * search is timed. */
	Hie__V1__Demographics **qs = calloc(n, sizeof(*qs));
	char (*wants)[12] = malloc(n * sizeof(*wants));
	if (qs == NULL || wants == NULL)
		return 1;
	for (size_t i = 0; i < n; i++) {
		uint64_t person;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		person = one ? strtoull(argv[6], NULL, 10) : x % persons;
		demo_person_demographics(seed, person, take, &qs[i]);
		demo_patient_id(seed, org_index, person, wants[i]);
	}
	t0 = now_us();
	c0 = cpu_us();
	for (size_t i = 0; i < n; i++) {
		struct idm_search_out out;
		struct idn_record q;
		const char *want = wants[i];
		char why[160];
		double a;
		a = now_us();
		idn_from_demographics(qs[i], &q);
		if (idm_query_check(&q, why, sizeof(why)) != HX_OK) {
			fprintf(stderr, "bench_discover: a query was refused: %s\n", why);
			return 1;
		}
		store_read_begin(st, &t);
		if (idm_search(t, &p, &q, NULL, IDM_PROBABLE, &out) != HX_OK) {
			fprintf(stderr, "bench_discover: search failed\n");
			return 1;
		}
		store_read_end(t);
		lat[i] = now_us() - a;
		cand += out.candidates;
		for (size_t k = 0; k < out.n; k++) {
			if (strcmp(out.r[k].patient_id, want) == 0)
				found++;
			else {
				wrong++;
				if (getenv("HX_BENCH_DIAG") != NULL && wrong <= 30) {
					fprintf(stderr, "wrong: want %s got %s %s %.1f:", want,
					        out.r[k].patient_id, idm_grade_name(out.r[k].grade),
					        out.r[k].score);
					for (int f = 0; f < IDM_NFIELDS; f++)
						fprintf(stderr, " %s=%s", idm_field_name(f),
						        idm_level_name(f, out.r[k].levels[f]));
					fprintf(stderr, "\n");
				}
			}
		}
	}
	wall = now_us() - t0;
	cpu = cpu_us() - c0;
	qsort(lat, n, sizeof(double), dcmp);
	printf("queries=%zu p50_us=%.1f p99_us=%.1f qps=%.0f cpu_us_per_query=%.1f "
	       "candidates_per_query=%.1f found=%.4f wrong=%zu\n",
	       n, lat[n / 2], lat[(size_t)((double)n * 0.99)], (double)n / (wall / 1e6),
	       cpu / (double)n, (double)cand / (double)n, (double)found / (double)n, wrong);
	free(lat);
	for (size_t i = 0; i < n; i++)
		hie__v1__demographics__free_unpacked(qs[i], NULL);
	free(qs);
	free(wants);
	store_close(st);
	return 0;
}
