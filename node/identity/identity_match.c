/* identity_match.c: comparison vectors, the Fellegi–Sunter profile, scores, grades, and the
 * estimation of m and u (docs/matching.md). */
#include "identity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fields and levels ------------------------------------------------------------------ */

static const struct field_def {
	const char *name;
	int levels; /* missing included */
	const char *level_names[IDM_LEVELS_MAX];
} fields[IDM_NFIELDS] = {
	[IDM_FAMILY] = {"family", 5, {"missing", "exact", "close", "similar", "differ"}},
	[IDM_GIVEN] = {"given", 5, {"missing", "exact", "close", "similar", "differ"}},
	[IDM_BIRTH] = {"birth_date", 5, {"missing", "exact", "typo", "year", "differ"}},
	[IDM_SEX] = {"sex", 3, {"missing", "exact", "differ"}},
	[IDM_POSTCODE] = {"postcode", 4, {"missing", "exact", "typo", "differ"}},
	[IDM_STREET_NO] = {"street_number", 4, {"missing", "exact", "typo", "differ"}},
	[IDM_STREET] = {"street", 4, {"missing", "exact", "close", "differ"}},
	[IDM_LOCALITY] = {"locality", 4, {"missing", "exact", "close", "differ"}},
	[IDM_STATE] = {"state", 3, {"missing", "exact", "differ"}},
	[IDM_PHONE] = {"phone", 4, {"missing", "exact", "typo", "differ"}},
	[IDM_IDENT] = {"identifier", 4, {"missing", "exact", "typo", "differ"}},
};

const char *idm_field_name(int f)
{
	return f >= 0 && f < IDM_NFIELDS ? fields[f].name : "?";
}

int idm_field_levels(int f)
{
	return f >= 0 && f < IDM_NFIELDS ? fields[f].levels : 0;
}

const char *idm_level_name(int f, int l)
{
	if (f < 0 || f >= IDM_NFIELDS || l < 0 || l >= fields[f].levels)
		return "?";
	return fields[f].level_names[l];
}

const char *idm_grade_name(enum idm_grade g)
{
	switch (g) {
	case IDM_CERTAIN:
		return "certain";
	case IDM_PROBABLE:
		return "probable";
	case IDM_POSSIBLE:
		return "possible";
	default:
		return "none";
	}
}

/* ---- comparison ------------------------------------------------------------------------- */

/* Two names: 1 exact, 2 close, 3 similar, 4 differ (both non-empty). */
static int name_level(const char *a, const char *b)
{
	double jw;
	char sa[5], sb[5], na[24], nb[24];
	if (strcmp(a, b) == 0)
		return 1;
	jw = idc_jaro_winkler(a, b);
	/* One typo (an edit or two letters swapped) in a name of four letters or more is
	 * close, whatever Jaro-Winkler makes of it ("smith"/"smyth" is 0.89). */
	if (jw >= 0.92 || (strlen(a) >= 4 && strlen(b) >= 4 && idc_damerau_levenshtein_max1(a, b) == 1))
		return 2;
	if (jw >= 0.80)
		return 3;
	idc_nysiis(a, na, sizeof(na));
	idc_nysiis(b, nb, sizeof(nb));
	if (strcmp(na, nb) == 0)
		return 3;
	idc_soundex(a, sa);
	idc_soundex(b, sb);
	return strcmp(sa, sb) == 0 ? 3 : 4;
}

static int family_level(const struct idn_record *a, const struct idn_record *b)
{
	int best;
	if (a->family[0] == '\0' || b->family[0] == '\0')
		return 0;
	best = name_level(a->family, b->family);
	if (best == 1)
		return 1;
	/* Another name of either (maiden, previous, a part of a double name): at best close. */
	for (size_t i = 0; i < a->n_family_alt && best > 2; i++) {
		int l = name_level(a->family_alt[i], b->family);
		best = l < 2 ? 2 : (l < best ? l : best);
	}
	for (size_t i = 0; i < b->n_family_alt && best > 2; i++) {
		int l = name_level(a->family, b->family_alt[i]);
		best = l < 2 ? 2 : (l < best ? l : best);
	}
	return best;
}

static int given_level(const struct idn_record *a, const struct idn_record *b)
{
	int l;
	if (a->given[0] == '\0' || b->given[0] == '\0')
		return 0;
	l = name_level(a->given, b->given);
	if (l <= 2)
		return l;
	if (strcmp(a->given_canon, b->given_canon) == 0) /* a nickname */
		return 2;
	/* First and middle names swapped, or the middle name used. */
	if ((a->middle[0] != '\0' && strcmp(a->middle, b->given) == 0) ||
	    (b->middle[0] != '\0' && strcmp(b->middle, a->given) == 0))
		return 2;
	/* An initial for a name. */
	if ((a->given[1] == '\0' || b->given[1] == '\0') && a->given[0] == b->given[0])
		return 3;
	return l;
}

static int birth_level(const struct idn_record *a, const struct idn_record *b)
{
	if (a->birth_year == 0 || b->birth_year == 0)
		return 0;
	switch (idc_date_compare(a->birth_year, a->birth_month, a->birth_day, b->birth_year,
	                         b->birth_month, b->birth_day)) {
	case IDC_DATE_EXACT:
		return 1;
	case IDC_DATE_TRANSPOSED:
	case IDC_DATE_ONE_DIGIT:
		return 2;
	case IDC_DATE_MISSING: /* only partly known on one side */
		return a->birth_year == b->birth_year ? 3 : 4;
	default:
		return a->birth_year == b->birth_year ? 3 : 4;
	}
}

/* Codes (postcode, house number, phone, identifier): 1 exact, 2 one edit, 3 differ. */
static int code_level(const char *a, const char *b)
{
	if (a[0] == '\0' || b[0] == '\0')
		return 0;
	if (strcmp(a, b) == 0)
		return 1;
	return idc_damerau_levenshtein_max1(a, b) <= 1 ? 2 : 3;
}

static int text_level(const char *a, const char *b)
{
	if (a[0] == '\0' || b[0] == '\0')
		return 0;
	if (strcmp(a, b) == 0)
		return 1;
	return idc_jaro_winkler(a, b) >= 0.88 ? 2 : 3;
}

static int ident_level(const struct idn_record *a, const struct idn_record *b)
{
	int best = 0;
	for (size_t i = 0; i < a->n_ident; i++)
		for (size_t j = 0; j < b->n_ident; j++) {
			int l;
			if (strcmp(a->ident[i].system, b->ident[j].system) != 0)
				continue;
			l = code_level(a->ident[i].value, b->ident[j].value);
			if (l != 0 && (best == 0 || l < best))
				best = l;
		}
	return best;
}

void idm_compare(const struct idn_record *a, const struct idn_record *b,
                 uint8_t lv[IDM_NFIELDS])
{
	lv[IDM_FAMILY] = (uint8_t)family_level(a, b);
	lv[IDM_GIVEN] = (uint8_t)given_level(a, b);
	/* Given and family names swapped. */
	if (lv[IDM_FAMILY] >= 3 && lv[IDM_GIVEN] >= 3 && name_level(a->family, b->given) <= 2 &&
	    name_level(a->given, b->family) <= 2)
		lv[IDM_FAMILY] = lv[IDM_GIVEN] = 2;
	lv[IDM_BIRTH] = (uint8_t)birth_level(a, b);
	lv[IDM_SEX] = a->sex == 0 || b->sex == 0 ? 0 : a->sex == b->sex ? 1 : 2;
	lv[IDM_POSTCODE] = (uint8_t)code_level(a->postcode, b->postcode);
	lv[IDM_STREET_NO] = (uint8_t)code_level(a->street_number, b->street_number);
	lv[IDM_STREET] = (uint8_t)text_level(a->street, b->street);
	lv[IDM_LOCALITY] = (uint8_t)text_level(a->locality, b->locality);
	lv[IDM_STATE] = a->state[0] == '\0' || b->state[0] == '\0' ? 0
	                : strcmp(a->state, b->state) == 0 ? 1 : 2;
	lv[IDM_PHONE] = (uint8_t)code_level(a->phone, b->phone);
	lv[IDM_IDENT] = (uint8_t)ident_level(a, b);
}

/* ---- score and grade -------------------------------------------------------------------- */

/* The address fields are one piece of evidence, not five: the same street and number imply
 * the same locality, postcode and state, and a household shares them all. Their positive
 * weights together count for at most this many bits. */
#define ADDRESS_BITS_MAX 12.0

static int is_address(int f)
{
	return f == IDM_POSTCODE || f == IDM_STREET_NO || f == IDM_STREET || f == IDM_LOCALITY ||
	       f == IDM_STATE;
}

double idm_score(const struct idm_profile *p, const uint8_t lv[IDM_NFIELDS],
                 double contrib[IDM_NFIELDS])
{
	double s = 0, addr_pos = 0, w[IDM_NFIELDS];
	for (int f = 0; f < IDM_NFIELDS; f++) {
		int l = lv[f];
		w[f] = 0;
		if (l > 0 && l < fields[f].levels && p->m[f][l] > 0 && p->u[f][l] > 0)
			w[f] = log2(p->m[f][l] / p->u[f][l]);
		if (is_address(f) && w[f] > 0)
			addr_pos += w[f];
	}
	for (int f = 0; f < IDM_NFIELDS; f++) {
		/* Scale the address group's positive parts down to the cap, keeping their
		 * proportions (the trace then still shows which parts agreed). */
		if (is_address(f) && w[f] > 0 && addr_pos > ADDRESS_BITS_MAX)
			w[f] *= ADDRESS_BITS_MAX / addr_pos;
		if (contrib != NULL)
			contrib[f] = w[f];
		s += w[f];
	}
	return s;
}

enum idm_grade idm_grade_of(const struct idm_profile *p, double score,
                            const uint8_t lv[IDM_NFIELDS])
{
	int fam = lv[IDM_FAMILY] == 1 || lv[IDM_FAMILY] == 2;
	int giv = lv[IDM_GIVEN] == 1 || lv[IDM_GIVEN] == 2;
	int giv_sim = giv || lv[IDM_GIVEN] == 3;
	int dob = lv[IDM_BIRTH] == 1 || lv[IDM_BIRTH] == 2;
	int id_ok = lv[IDM_IDENT] == 1 || lv[IDM_IDENT] == 2;
	int id_bad = lv[IDM_IDENT] == 3;
	int addr = lv[IDM_STREET_NO] == 1 && (lv[IDM_STREET] == 1 || lv[IDM_STREET] == 2);

	score -= p->prior_bits;
	if (!p->household_guard) {
		/* No households in the data: a name agreeing closely and a birth date (or a shared
		 * identifier) for certain; either for probable. */
		int name_ok = fam || giv;
		int anchor = dob || lv[IDM_IDENT] == 1;
		if (score >= p->certain && name_ok && anchor)
			return IDM_CERTAIN;
		if (score >= p->probable && (name_ok || anchor))
			return IDM_PROBABLE;
		return score >= p->possible ? IDM_POSSIBLE : IDM_NONE;
	}
	/* Households. Scores assume the fields independent, and in a household they are not:
	 * a parent and child share a family name, an address and a phone; twins share a birth
	 * date too. So a grade also needs evidence about the person:
	 *   certain:  given name and birth date agree (at least closely), with the same family
	 *             name, or a shared identifier, or a family name close to it with the same
	 *             house or phone; and no shared identifier that disagrees;
	 *   probable: given name and birth date agree; or a shared identifier agrees (a typo
	 *             allowed) with a name or the birth date, or exactly with the house and
	 *             street; or family name and birth date agree with a similar given name.
	 * Twins and a parent and child of the same name stay possible unless an identifier
	 * tells them apart in their favour. */
	if (score >= p->certain && giv && dob && !id_bad &&
	    (lv[IDM_FAMILY] == 1 || id_ok || (fam && (addr || lv[IDM_PHONE] == 1))))
		return IDM_CERTAIN;
	if (score >= p->probable &&
	    ((giv && dob) || (id_ok && (giv || dob || fam)) || (fam && dob && giv_sim) ||
	     (lv[IDM_IDENT] == 1 && addr)))
		return IDM_PROBABLE;
	return score >= p->possible ? IDM_POSSIBLE : IDM_NONE;
}

static int hh_cmp_pair(const struct idn_record *r, size_t a, size_t b)
{
	int c = strcmp(r[a].family, r[b].family);
	if (c == 0)
		c = strcmp(r[a].street_number, r[b].street_number);
	return c != 0 ? c : strcmp(r[a].street, r[b].street);
}

static int hh_cmp(const void *a, const void *b, void *recs)
{
	return hh_cmp_pair(recs, *(const size_t *)a, *(const size_t *)b);
}

double idm_household_share(const struct idn_record *recs, size_t n)
{
	size_t *ix, *members, i = 0, with = 0, m = 0;
	if (n == 0)
		return 0;
	ix = malloc(n * sizeof(*ix));
	if (ix == NULL)
		return 1; /* cannot tell: be careful */
	for (size_t k = 0; k < n; k++)
		if (recs[k].family[0] && recs[k].street_number[0] && recs[k].street[0])
			ix[m++] = k;
	qsort_r(ix, m, sizeof(*ix), hh_cmp, (void *)recs);
	members = ix;
	while (i < m) {
		size_t j = i;
		while (j < m && hh_cmp_pair(recs, ix[i], ix[j]) == 0)
			j++;
		for (size_t a = i; a < j; a++)
			for (size_t b = i; b < j && b < i + 64; b++) {
				uint8_t lv[IDM_NFIELDS];
				if (a == b)
					continue;
				idm_compare(&recs[members[a]], &recs[members[b]], lv);
				if (lv[IDM_GIVEN] == 4 && lv[IDM_BIRTH] == 4) {
					with++;
					break;
				}
			}
		i = j;
	}
	free(ix);
	return (double)with / (double)n;
}

/* ---- estimation ------------------------------------------------------------------------- */

#define PROB_MIN 1e-6

void idm_estimate_u(struct idm_profile *p, const uint8_t (*vec)[IDM_NFIELDS], size_t n)
{
	for (int f = 0; f < IDM_NFIELDS; f++) {
		double cnt[IDM_LEVELS_MAX] = {0}, tot = 0;
		int L = fields[f].levels;
		for (size_t i = 0; i < n; i++)
			if (vec[i][f] > 0 && vec[i][f] < L) {
				cnt[vec[i][f]] += 1;
				tot += 1;
			}
		for (int l = 1; l < L; l++)
			/* Add-half smoothing: a level never seen among random pairs is rare, not
			 * impossible. */
			p->u[f][l] = (cnt[l] + 0.5) / (tot + 0.5 * (L - 1));
	}
}

double idm_estimate_m(struct idm_profile *p, const uint8_t (*vec)[IDM_NFIELDS], size_t n,
                      int iterations)
{
	double share = 0.1;
	if (n == 0)
		return 0;
	for (int it = 0; it < iterations; it++) {
		double cnt[IDM_NFIELDS][IDM_LEVELS_MAX] = {{0}}, gsum = 0;
		for (size_t i = 0; i < n; i++) {
			/* In log space: products of eleven small probabilities. */
			double lm = log(share), lu = log(1 - share), g;
			for (int f = 0; f < IDM_NFIELDS; f++) {
				int l = vec[i][f];
				if (l == 0 || l >= fields[f].levels)
					continue;
				lm += log(p->m[f][l]);
				lu += log(p->u[f][l]);
			}
			g = 1.0 / (1.0 + exp(lu - lm));
			gsum += g;
			for (int f = 0; f < IDM_NFIELDS; f++)
				cnt[f][vec[i][f]] += g;
		}
		share = gsum / (double)n;
		if (share < PROB_MIN)
			share = PROB_MIN;
		if (share > 1 - PROB_MIN)
			share = 1 - PROB_MIN;
		for (int f = 0; f < IDM_NFIELDS; f++) {
			int L = fields[f].levels;
			double tot = 0;
			for (int l = 1; l < L; l++)
				tot += cnt[f][l];
			if (tot <= 0)
				continue; /* never observed: keep the prior */
			for (int l = 1; l < L; l++) {
				double m = (cnt[f][l] + 0.01) / (tot + 0.01 * (L - 1));
				p->m[f][l] = m < PROB_MIN ? PROB_MIN : m;
			}
		}
	}
	return share;
}

/* ---- the built-in profile --------------------------------------------------------------- */

void idm_profile_default(struct idm_profile *p)
{
	/* m: how often a true match shows each level; u: how often two different people do.
	 * Fitted once on FEBRL data sets 1-3 together (bench_match --print-profile on their
	 * concatenation), then rounded. FEBRL has no sex and no phone: those two are set by
	 * hand (households share a phone: a match on it is worth about 11 bits, not 16). u of
	 * postcode, locality and state is set for one region, where many people share them
	 * (FEBRL spreads people over a whole country); a fit on the node's own patients
	 * replaces all of it. */
	static const double m[IDM_NFIELDS][IDM_LEVELS_MAX] = {
		[IDM_FAMILY] = {0, 0.589, 0.269, 0.033, 0.108},
		[IDM_GIVEN] = {0, 0.604, 0.210, 0.037, 0.149},
		[IDM_BIRTH] = {0, 0.910, 0.0117, 0.0023, 0.076},
		[IDM_SEX] = {0, 0.97, 0.03},
		[IDM_POSTCODE] = {0, 0.762, 0.199, 0.038},
		[IDM_STREET_NO] = {0, 0.804, 0.067, 0.129},
		[IDM_STREET] = {0, 0.521, 0.369, 0.110},
		[IDM_LOCALITY] = {0, 0.640, 0.261, 0.099},
		[IDM_STATE] = {0, 0.939, 0.061},
		[IDM_PHONE] = {0, 0.85, 0.05, 0.10},
		[IDM_IDENT] = {0, 0.857, 0.069, 0.074},
	};
	static const double u[IDM_NFIELDS][IDM_LEVELS_MAX] = {
		[IDM_FAMILY] = {0, 0.00337, 0.000724, 0.00302, 0.9929},
		[IDM_GIVEN] = {0, 0.00378, 0.00141, 0.00803, 0.9868},
		[IDM_BIRTH] = {0, 0.000206, 0.00100, 0.00963, 0.9892},
		[IDM_SEX] = {0, 0.5, 0.5},
		[IDM_POSTCODE] = {0, 0.01, 0.03, 0.96},
		[IDM_STREET_NO] = {0, 0.0138, 0.217, 0.769},
		[IDM_STREET] = {0, 0.00044, 0.00112, 0.9984},
		[IDM_LOCALITY] = {0, 0.02, 0.005, 0.975},
		[IDM_STATE] = {0, 0.5, 0.5},
		[IDM_PHONE] = {0, 0.0005, 0.002, 0.9975},
		[IDM_IDENT] = {0, 0.000192, 0.0000175, 0.9998},
	};
	memset(p, 0, sizeof(*p));
	memcpy(p->m, m, sizeof(m));
	memcpy(p->u, u, sizeof(u));
	p->certain = 8;
	p->probable = 3;
	p->possible = -4;
	p->household_guard = 1;
	snprintf(p->source, sizeof(p->source), "built-in");
}

/* ---- profile text ----------------------------------------------------------------------- */

size_t idm_profile_format(const struct idm_profile *p, char *out, size_t size)
{
	size_t o = 0;
#define PUT(...)                                                                              \
	do {                                                                                  \
		int n_ = snprintf(out + (o < size ? o : size), o < size ? size - o : 0,       \
		                  __VA_ARGS__);                                               \
		if (n_ > 0)                                                                   \
			o += (size_t)n_;                                                      \
	} while (0)
	PUT("# hiepeer match profile (%s)\n", p->source);
	PUT("# a field's level adds log2(m/u) bits to the score; a missing field adds 0\n");
	PUT("certain %.2f\nprobable %.2f\npossible %.2f\n", p->certain, p->probable, p->possible);
	PUT("household_guard %s\n", p->household_guard ? "on" : "off");
	for (int f = 0; f < IDM_NFIELDS; f++)
		for (int l = 1; l < fields[f].levels; l++)
			PUT("%-14s %-8s m=%.6g u=%.6g   # %+.2f bits\n", fields[f].name,
			    fields[f].level_names[l], p->m[f][l], p->u[f][l],
			    log2(p->m[f][l] / p->u[f][l]));
#undef PUT
	return o;
}

static int find_field(const char *name)
{
	for (int f = 0; f < IDM_NFIELDS; f++)
		if (strcmp(fields[f].name, name) == 0)
			return f;
	return -1;
}

static int find_level(int f, const char *name)
{
	for (int l = 1; l < fields[f].levels; l++)
		if (strcmp(fields[f].level_names[l], name) == 0)
			return l;
	return -1;
}

int idm_profile_parse(const char *text, struct idm_profile *p, char *err, size_t errlen)
{
	struct idm_profile q;
	unsigned seen[IDM_NFIELDS] = {0}, thr = 0;
	int guard_seen = 0;
	int lineno = 0;
	const char *s = text;

	memset(&q, 0, sizeof(q));
	snprintf(q.source, sizeof(q.source), "profile text");
	while (*s != '\0') {
		char line[256], a[32], b[32];
		double v1, v2;
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		char *hash;
		int f, l, n;
		lineno++;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "profile line %d: too long", lineno);
			return HX_EPARSE;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		s += len + (nl != NULL);
		if (strncmp(line, "# hiepeer match profile (", 25) == 0 && len > 26 &&
		    line[len - 1] == ')') {
			snprintf(q.source, sizeof(q.source), "%.*s", (int)(len - 26), line + 25);
			continue;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if (sscanf(line, " %31s", a) != 1)
			continue;
		if (sscanf(line, " household_guard %31s %n", b, &n) == 1 && line[n] == '\0') {
			if (strcmp(b, "on") != 0 && strcmp(b, "off") != 0) {
				snprintf(err, errlen, "profile line %d: household_guard on or off",
				         lineno);
				return HX_EPARSE;
			}
			q.household_guard = strcmp(b, "on") == 0;
			guard_seen = 1;
			continue;
		}
		if (sscanf(line, " %31s %lf %n", a, &v1, &n) == 2 && line[n] == '\0') {
			double *t = strcmp(a, "certain") == 0    ? &q.certain
			            : strcmp(a, "probable") == 0 ? &q.probable
			            : strcmp(a, "possible") == 0 ? &q.possible
			                                         : NULL;
			if (t == NULL || !isfinite(v1)) {
				snprintf(err, errlen, "profile line %d: unknown threshold '%s'", lineno,
				         a);
				return HX_EPARSE;
			}
			*t = v1;
			thr |= t == &q.certain ? 1u : t == &q.probable ? 2u : 4u;
			continue;
		}
		if (sscanf(line, " %31s %31s m=%lf u=%lf %n", a, b, &v1, &v2, &n) != 4 ||
		    line[n] != '\0') {
			snprintf(err, errlen, "profile line %d: expected 'FIELD LEVEL m=P u=P'",
			         lineno);
			return HX_EPARSE;
		}
		if ((f = find_field(a)) < 0 || (l = find_level(f, b)) < 0) {
			snprintf(err, errlen, "profile line %d: unknown field or level '%s %s'",
			         lineno, a, b);
			return HX_EPARSE;
		}
		if (!(v1 > 0 && v1 <= 1) || !(v2 > 0 && v2 <= 1)) {
			snprintf(err, errlen, "profile line %d: m and u must be in (0, 1]", lineno);
			return HX_EPARSE;
		}
		q.m[f][l] = v1;
		q.u[f][l] = v2;
		seen[f] |= 1u << l;
	}
	for (int f = 0; f < IDM_NFIELDS; f++)
		for (int l = 1; l < fields[f].levels; l++)
			if (!(seen[f] & (1u << l))) {
				snprintf(err, errlen, "profile: no line for '%s %s'", fields[f].name,
				         fields[f].level_names[l]);
				return HX_EPARSE;
			}
	if (thr != 7u) {
		snprintf(err, errlen, "profile: certain, probable and possible thresholds needed");
		return HX_EPARSE;
	}
	if (!(q.certain >= q.probable && q.probable >= q.possible)) {
		snprintf(err, errlen, "profile: thresholds must satisfy certain >= probable >= "
		                      "possible");
		return HX_EPARSE;
	}
	if (!guard_seen)
		q.household_guard = 1; /* the careful default */
	*p = q;
	return HX_OK;
}

int idm_profile_from_store(struct store_txn *t, struct idm_profile *p, char *err, size_t errlen)
{
	const void *val = NULL;
	size_t len = 0;
	char text[IDM_PROFILE_TEXT_MAX];
	int rc = store_meta_get(t, IDM_PROFILE_META, &val, &len);
	idm_profile_default(p);
	if (rc != HX_OK || len == 0)
		return rc == HX_OK ? HX_ENOTFOUND : rc;
	if (len >= sizeof(text)) {
		snprintf(err, errlen, "the stored match profile is too long");
		return HX_EPARSE;
	}
	memcpy(text, val, len);
	text[len] = '\0';
	rc = idm_profile_parse(text, p, err, errlen);
	if (rc != HX_OK)
		idm_profile_default(p);
	return rc;
}
