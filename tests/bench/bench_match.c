/*
 * bench_match: matching accuracy on FEBRL-format files, through the node's own code path
 * (normalisation, blocking keys in a real LMDB store, candidate search, Fellegi–Sunter
 * scoring and grades).
 *
 *   bench_match [--name NAME] [--profile builtin|em] [--print-profile] FILE
 *       deduplicate FILE: each record is looked up in an index of all the others;
 *   bench_match [...] FILE_A FILE_B
 *       link A against B: each record of A is looked up in an index of B.
 *
 * Ground truth is in the record id (rec-N-org, rec-N-dup-K: same N, same person). Precision
 * and recall count record pairs. The baseline, computed in the same run, links records whose
 * exact key (normalised family + given + birth date) is equal. With --profile em (the
 * default) u comes from random record pairs and m from EM over the candidate pairs of the
 * data being matched; the grade thresholds are the built-in profile's.
 *
 * Output: one line, "match NAME: certain P=… R=… F1=…; certain+probable P=… R=… F1=…;
 * baseline P=… R=… F1=…", after a few lines of detail on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "proto.h"
#include "store.h"

#define FIELDS 11
#define LINE_MAX_ 1024

struct rec {
	char id[64];
	long truth;                 /* N of rec-N-... */
	char f[FIELDS][64];         /* the CSV fields */
	struct idn_record norm;
	char key[160];              /* baseline key, "" if a part is missing */
};

struct set {
	struct rec *r;
	size_t n;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	while (s[i] == ' ')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* The demographics a hospital would hold for this record. Strings point into r. */
struct demo_buf {
	Hie__V1__Demographics d;
	Hie__V1__HumanName name, *names[1];
	char *given[1];
	Hie__V1__Address addr, *addrs[1];
	char *lines[2];
	char line0[140];
	Hie__V1__Identifier ident, *idents[1];
	char dob[16];
};

static void to_demographics(struct rec *r, struct demo_buf *b)
{
	/* rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode,
	 * state, date_of_birth, soc_sec_id */
	const char *dob = r->f[9];
	hie__v1__demographics__init(&b->d);
	hie__v1__human_name__init(&b->name);
	hie__v1__address__init(&b->addr);
	hie__v1__identifier__init(&b->ident);
	b->name.use = HIE__V1__NAME_USE__NAME_USE_OFFICIAL;
	b->name.family = r->f[2];
	b->given[0] = r->f[1];
	b->name.given = b->given;
	b->name.n_given = r->f[1][0] != '\0';
	b->names[0] = &b->name;
	b->d.names = b->names;
	b->d.n_names = 1;
	b->dob[0] = '\0';
	if (strlen(dob) == 8) {
		snprintf(b->dob, sizeof(b->dob), "%.4s-%.2s-%.2s", dob, dob + 4, dob + 6);
		if (hx_date_check(b->dob) != HX_OK)
			b->dob[0] = '\0'; /* a typo made it impossible: a node would refuse it */
	}
	b->d.birth_date = b->dob;
	snprintf(b->line0, sizeof(b->line0), "%s%s%s", r->f[3], r->f[3][0] ? " " : "", r->f[4]);
	b->lines[0] = b->line0;
	b->lines[1] = r->f[5];
	b->addr.lines = b->lines;
	b->addr.n_lines = r->f[5][0] != '\0' ? 2 : 1;
	b->addr.city = r->f[6];
	b->addr.postal_code = r->f[7];
	b->addr.state = r->f[8];
	b->addrs[0] = &b->addr;
	b->d.addresses = b->addrs;
	b->d.n_addresses = 1;
	if (r->f[10][0] != '\0') {
		b->ident.system = (char *)"urn:febrl:soc_sec_id";
		b->ident.value = r->f[10];
		b->idents[0] = &b->ident;
		b->d.identifiers = b->idents;
		b->d.n_identifiers = 1;
	}
}

static int load(const char *path, struct set *s)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_];
	size_t cap = 0;
	int header = 1;
	if (f == NULL) {
		fprintf(stderr, "bench_match: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct rec *r;
		char *p = line, *comma;
		const char *n;
		if (header) {
			header = 0;
			if (strncmp(line, "rec_id", 6) == 0)
				continue;
		}
		if (s->n == cap) {
			cap = cap ? cap * 2 : 1024;
			s->r = realloc(s->r, cap * sizeof(*s->r));
			if (s->r == NULL)
				abort();
		}
		r = &s->r[s->n];
		memset(r, 0, sizeof(*r));
		for (int i = 0; i < FIELDS; i++) {
			comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			{
				size_t len = strlen(p);
				if (len >= sizeof(r->f[i]))
					len = sizeof(r->f[i]) - 1;
				memcpy(r->f[i], p, len);
				r->f[i][len] = '\0';
			}
			trim(r->f[i]);
			if (comma == NULL)
				break;
			p = comma + 1;
		}
		snprintf(r->id, sizeof(r->id), "%s", r->f[0]);
		n = strncmp(r->id, "rec-", 4) == 0 ? r->id + 4 : NULL;
		if (n == NULL || proto_id_patient_check(r->id) != HX_OK) {
			fprintf(stderr, "bench_match: %s: record id '%s' is not rec-N-...\n", path,
			        r->id);
			fclose(f);
			return -1;
		}
		r->truth = strtol(n, NULL, 10);
		s->n++;
	}
	fclose(f);
	for (size_t i = 0; i < s->n; i++) {
		struct demo_buf b;
		struct rec *r = &s->r[i];
		to_demographics(r, &b);
		idn_from_demographics(&b.d, &r->norm);
		if (r->norm.family[0] && r->norm.given[0] && r->norm.birth_year)
			snprintf(r->key, sizeof(r->key), "%s|%s|%04u%02u%02u", r->norm.family,
			         r->norm.given, r->norm.birth_year, r->norm.birth_month,
			         r->norm.birth_day);
	}
	return 0;
}

/* ---- the index: a real store -------------------------------------------------------------- */

struct put_arg {
	struct set *s;
	size_t from, to;
};

static int w_put(struct store_txn *t, void *arg)
{
	struct put_arg *a = arg;
	for (size_t i = a->from; i < a->to; i++) {
		struct demo_buf b;
		struct identity_keys k;
		Hie__V1__Patient p = HIE__V1__PATIENT__INIT;
		int rc;
		to_demographics(&a->s->r[i], &b);
		p.id = a->s->r[i].id;
		p.demographics = &b.d;
		p.updated = 1;
		identity_keys_build(&b.d, &k);
		if ((rc = store_patient_put_rec(t, &p, k.keys, k.n, k.record, k.record_len)) != HX_OK) {
			fprintf(stderr, "bench_match: cannot store %s: %s\n", p.id, hx_strerror(rc));
			return rc;
		}
	}
	return HX_OK;
}

static struct store *index_build(struct set *s, char *dir)
{
	struct store_opts o = {.create = 1, .org_id = "2.16.840.1.113883.3.9999",
	                       .map_size = 1ULL << 30};
	struct store *st;
	char err[STORE_ERR_MAX];
	if (mkdtemp(dir) == NULL) {
		perror("bench_match: mkdtemp");
		return NULL;
	}
	if (store_open(dir, &o, &st, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "bench_match: %s\n", err);
		return NULL;
	}
	for (size_t i = 0; i < s->n; i += 1000) {
		struct put_arg a = {s, i, i + 1000 < s->n ? i + 1000 : s->n};
		if (store_write(st, w_put, &a) != HX_OK) {
			store_close(st);
			return NULL;
		}
	}
	return st;
}

static void index_remove(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_match: could not remove %s\n", dir);
}

/* ---- pairs -------------------------------------------------------------------------------- */

struct pair {
	uint32_t a, b; /* indexes: into the one set (a < b), or A and B */
	int grade;
};

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return p->grade - q->grade; /* best grade (lowest number) first */
}

struct pairs {
	struct pair *p;
	size_t n, cap;
};

static void pairs_add(struct pairs *ps, uint32_t a, uint32_t b, int grade)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 4096;
		ps->p = realloc(ps->p, ps->cap * sizeof(*ps->p));
		if (ps->p == NULL)
			abort();
	}
	ps->p[ps->n++] = (struct pair){a, b, grade};
}

/* Sort and keep each pair once, with its best grade. */
static void pairs_unique(struct pairs *ps)
{
	size_t o = 0;
	qsort(ps->p, ps->n, sizeof(*ps->p), pair_cmp);
	for (size_t i = 0; i < ps->n; i++)
		if (o == 0 || ps->p[o - 1].a != ps->p[i].a || ps->p[o - 1].b != ps->p[i].b)
			ps->p[o++] = ps->p[i];
	ps->n = o;
}

struct prf {
	double p, r, f1;
	size_t tp, fp;
};

static struct prf score_pairs(const struct pairs *ps, const struct set *A, const struct set *B,
                              int max_grade, size_t truth_pairs)
{
	struct prf x = {0};
	size_t pred = 0;
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->p[i].grade > max_grade)
			continue;
		pred++;
		if (A->r[ps->p[i].a].truth == B->r[ps->p[i].b].truth)
			x.tp++;
		else
			x.fp++;
	}
	x.p = pred ? (double)x.tp / (double)pred : 1.0;
	x.r = truth_pairs ? (double)x.tp / (double)truth_pairs : 1.0;
	x.f1 = x.p + x.r > 0 ? 2 * x.p * x.r / (x.p + x.r) : 0;
	return x;
}

static int truth_cmp(const void *x, const void *y)
{
	long a = *(const long *)x, b = *(const long *)y;
	return a < b ? -1 : a > b;
}

/* True pairs: within one set (dedup) or across A and B (link). */
static size_t count_truth(const struct set *A, const struct set *B, int link)
{
	long *ta = malloc((A->n + 1) * sizeof(long)), *tb = malloc((B->n + 1) * sizeof(long));
	size_t n = 0, i = 0, j = 0;
	for (size_t k = 0; k < A->n; k++)
		ta[k] = A->r[k].truth;
	for (size_t k = 0; k < B->n; k++)
		tb[k] = B->r[k].truth;
	qsort(ta, A->n, sizeof(long), truth_cmp);
	qsort(tb, B->n, sizeof(long), truth_cmp);
	if (!link) {
		for (i = 0; i < A->n;) {
			size_t k = i;
			while (k < A->n && ta[k] == ta[i])
				k++;
			n += (k - i) * (k - i - 1) / 2;
			i = k;
		}
	} else {
		while (i < A->n && j < B->n) {
			if (ta[i] < tb[j])
				i++;
			else if (ta[i] > tb[j])
				j++;
			else {
				size_t ki = i, kj = j;
				while (ki < A->n && ta[ki] == ta[i])
					ki++;
				while (kj < B->n && tb[kj] == tb[j])
					kj++;
				n += (ki - i) * (kj - j);
				i = ki;
				j = kj;
			}
		}
	}
	free(ta);
	free(tb);
	return n;
}

/* Baseline: pairs with equal exact keys. */
static void baseline(const struct set *A, const struct set *B, int link, struct pairs *out)
{
	for (size_t i = 0; i < A->n; i++) {
		if (A->r[i].key[0] == '\0')
			continue;
		for (size_t j = link ? 0 : i + 1; j < B->n; j++)
			if (strcmp(A->r[i].key, B->r[j].key) == 0)
				pairs_add(out, (uint32_t)i, (uint32_t)j, IDM_CERTAIN);
	}
}

/* ---- run ---------------------------------------------------------------------------------- */

static size_t find_index(const struct set *s, const char *id)
{
	/* ids are unique; the set is small enough for a sorted lookup table built once */
	static const struct set *cached;
	static size_t *order;
	size_t lo = 0, hi;
	if (cached != s) {
		free(order);
		order = malloc(s->n * sizeof(size_t));
		for (size_t i = 0; i < s->n; i++)
			order[i] = i;
		cached = s;
		{ /* a shell sort by id: no qsort context needed */
			size_t gap;
			for (gap = s->n / 2; gap > 0; gap /= 2)
				for (size_t i = gap; i < s->n; i++) {
					size_t tmp = order[i], j = i;
					while (j >= gap && strcmp(s->r[order[j - gap]].id, s->r[tmp].id) > 0) {
						order[j] = order[j - gap];
						j -= gap;
					}
					order[j] = tmp;
				}
		}
	}
	hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->r[order[mid]].id, id);
		if (c == 0)
			return order[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"profile", required_argument, NULL, 'p'},
		{"print-profile", no_argument, NULL, 'P'},
		{"scores", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *name = NULL, *prof = "em";
	int print_profile = 0, show_scores = 0, ch, link;
	struct set A = {0}, B = {0}, *I;
	struct idm_profile p, wide;
	struct store *st;
	struct store_txn *t;
	char dir[] = "/tmp/hx-bench-match-XXXXXX";
	struct pairs got = {0}, base = {0};
	size_t truth, candidates = 0, truncated = 0;
	double t0, t_search;
	uint8_t (*vec)[IDM_NFIELDS];
	size_t nvec = 0, capvec;

	while ((ch = getopt_long(argc, argv, "n:p:Ps", opts, NULL)) != -1) {
		if (ch == 'n')
			name = optarg;
		else if (ch == 'p')
			prof = optarg;
		else if (ch == 'P')
			print_profile = 1;
		else if (ch == 's')
			show_scores = 1;
		else
			return 2;
	}
	if (argc - optind < 1 || argc - optind > 2 ||
	    (strcmp(prof, "em") != 0 && strcmp(prof, "builtin") != 0)) {
		fprintf(stderr, "usage: bench_match [--name NAME] [--profile em|builtin] "
		                "[--print-profile] FILE [FILE_B]\n");
		return 2;
	}
	link = argc - optind == 2;
	if (load(argv[optind], &A) != 0 || (link && load(argv[optind + 1], &B) != 0))
		return 1;
	if (!link)
		B = A;
	I = &B; /* the index */
	if (name == NULL) {
		const char *s = strrchr(argv[optind], '/');
		name = s ? s + 1 : argv[optind];
	}
	truth = count_truth(&A, &B, link);
	if ((st = index_build(I, dir)) == NULL)
		return 1;
	if (store_read_begin(st, &t) != HX_OK)
		return 1;

	idm_profile_default(&p);
	if (strcmp(prof, "em") == 0) {
		/* u from random pairs of the index's records. */
		size_t nr = 200000;
		uint64_t x = 0x9e3779b97f4a7c15ull;
		uint8_t (*rv)[IDM_NFIELDS] = malloc(nr * sizeof(*rv));
		for (size_t k = 0; k < nr; k++) {
			size_t i, j;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			i = (size_t)(x % A.n);
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			j = (size_t)(x % I->n);
			idm_compare(&A.r[i].norm, &I->r[j].norm, rv[k]);
		}
		idm_estimate_u(&p, (const uint8_t (*)[IDM_NFIELDS])rv, nr);
		free(rv);
		/* m by EM over every candidate pair the blocking keys give. */
		wide = p;
		wide.certain = wide.probable = wide.possible = -1e30;
		capvec = A.n * 8;
		vec = malloc(capvec * sizeof(*vec));
		for (size_t i = 0; i < A.n; i++) {
			struct idm_search_out out;
			if (idm_search(t, &wide, &A.r[i].norm, link ? NULL : A.r[i].id, IDM_POSSIBLE,
			               &out) != HX_OK)
				continue;
			for (size_t k = 0; k < out.n; k++) {
				if (nvec == capvec) {
					capvec *= 2;
					vec = realloc(vec, capvec * sizeof(*vec));
				}
				memcpy(vec[nvec++], out.r[k].levels, IDM_NFIELDS);
			}
		}
		double share = idm_estimate_m(&p, (const uint8_t (*)[IDM_NFIELDS])vec, nvec, 50);
		free(vec);
		{
			struct idn_record *nr_ = malloc(I->n * sizeof(*nr_));
			double hh;
			for (size_t k = 0; k < I->n; k++)
				nr_[k] = I->r[k].norm;
			hh = idm_household_share(nr_, I->n);
			free(nr_);
			p.household_guard = hh > IDM_HOUSEHOLD_SHARE_MIN;
			fprintf(stderr, "%s: household share %.4f: household guard %s\n", name, hh,
			        p.household_guard ? "on" : "off");
		}
		snprintf(p.source, sizeof(p.source), "em: u from %zu random pairs, m from %zu "
		         "candidate pairs (%.1f%% matches)", nr, nvec, share * 100);
	}
	if (print_profile) {
		static char text[16384];
		idm_profile_format(&p, text, sizeof(text));
		fputs(text, stderr);
	}

	t0 = now_s();
	for (size_t i = 0; i < A.n; i++) {
		struct idm_search_out out;
		int rc = idm_search(t, &p, &A.r[i].norm, link ? NULL : A.r[i].id, IDM_POSSIBLE, &out);
		if (rc == HX_EINVAL)
			continue; /* nothing to block on */
		if (rc != HX_OK) {
			fprintf(stderr, "bench_match: search: %s\n", hx_strerror(rc));
			return 1;
		}
		candidates += out.candidates;
		truncated += out.truncated != 0;
		for (size_t k = 0; k < out.n; k++) {
			size_t j = find_index(I, out.r[k].patient_id);
			if (j == (size_t)-1)
				continue;
			if (show_scores) {
				fprintf(stderr, "score %s %s %.2f %s %s:", A.r[i].id, I->r[j].id,
				        out.r[k].score, idm_grade_name(out.r[k].grade),
				        A.r[i].truth == I->r[j].truth ? "true" : "false");
				for (int f = 0; f < IDM_NFIELDS; f++)
					if (out.r[k].levels[f] != 0)
						fprintf(stderr, " %s=%s", idm_field_name(f),
						        idm_level_name(f, out.r[k].levels[f]));
				fprintf(stderr, "\n");
			}
			if (link)
				pairs_add(&got, (uint32_t)i, (uint32_t)j, out.r[k].grade);
			else
				pairs_add(&got, (uint32_t)(i < j ? i : j), (uint32_t)(i < j ? j : i),
				          out.r[k].grade);
		}
	}
	t_search = now_s() - t0;
	store_read_end(t);
	store_close(st);
	index_remove(dir);
	pairs_unique(&got);
	baseline(&A, &B, link, &base);

	struct prf c = score_pairs(&got, &A, &B, IDM_CERTAIN, truth);
	struct prf cp = score_pairs(&got, &A, &B, IDM_PROBABLE, truth);
	struct prf b = score_pairs(&base, &A, &B, IDM_CERTAIN, truth);
	struct prf po = score_pairs(&got, &A, &B, IDM_POSSIBLE, truth);
	fprintf(stderr,
	        "%s: %zu records%s%zu; %zu true pairs; %.1f candidates per lookup (%zu capped); "
	        "%.0f lookups/s\n",
	        name, A.n, link ? " linked against " : ", index of ", I->n, truth,
	        (double)candidates / (double)A.n, truncated, (double)A.n / t_search);
	fprintf(stderr, "%s: certain tp=%zu fp=%zu; +probable tp=%zu fp=%zu; +possible tp=%zu "
	                "fp=%zu (R=%.4f)\n",
	        name, c.tp, c.fp, cp.tp, cp.fp, po.tp, po.fp, po.r);
	printf("match %s: certain P=%.4f R=%.4f F1=%.4f; certain+probable P=%.4f R=%.4f "
	       "F1=%.4f; baseline P=%.4f R=%.4f F1=%.4f\n",
	       name, c.p, c.r, c.f1, cp.p, cp.r, cp.f1, b.p, b.r, b.f1);
	free(got.p);
	free(base.p);
	free(A.r);
	if (link)
		free(B.r);
	return 0;
}
