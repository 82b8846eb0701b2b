/* ctl_match.c: patient matching from the command line: the demographics options shared with
 * `remote discover`, `match` against this node's own patients, the match profile (show, fit
 * by EM from the store, set from a file, reset to the built-in one) and `remote discover`
 * against a peer (POST /hie/v1/patients/discover). */
#include "ctl.h"

#include "identity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- demographics options ----------------------------------------------------------------- */

/* Given on the command line (protobuf-c's init sets strings to "", not NULL). */
static int given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

void ctl_demographics_init(struct ctl_demographics *a)
{
	memset(a, 0, sizeof(*a));
	hie__v1__demographics__init(&a->d);
	hie__v1__human_name__init(&a->name);
	hie__v1__human_name__init(&a->maiden);
	hie__v1__address__init(&a->addr);
	hie__v1__contact_point__init(&a->phone);
	hie__v1__identifier__init(&a->ssn);
	for (size_t i = 0; i < CTL_IDENT_MAX; i++)
		hie__v1__identifier__init(&a->ident[i]);
	a->name.use = HIE__V1__NAME_USE__NAME_USE_OFFICIAL;
	a->maiden.use = HIE__V1__NAME_USE__NAME_USE_MAIDEN;
	a->name.given = a->given;
	a->addr.lines = a->lines;
	a->phone.system = HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_PHONE;
}

static const struct {
	const char *name;
	Hie__V1__Sex sex;
} sexes[] = {
	{"female", HIE__V1__SEX__SEX_FEMALE},
	{"male", HIE__V1__SEX__SEX_MALE},
	{"other", HIE__V1__SEX__SEX_OTHER},
	{"unknown", HIE__V1__SEX__SEX_UNKNOWN},
};

int ctl_demographics_opt(struct ctl_demographics *a, const char *cmd, int ch, char *arg)
{
	char *eq;
	int rc;
	switch (ch) {
	case CTL_OPT_FAMILY:
		a->name.family = arg;
		return 1;
	case CTL_OPT_GIVEN:
		if (a->name.n_given == CTL_GIVEN_MAX) {
			ctl_fail("%s: at most %d --given", cmd, CTL_GIVEN_MAX);
			return -1;
		}
		a->given[a->name.n_given++] = arg;
		return 1;
	case CTL_OPT_MAIDEN:
		a->maiden.family = arg;
		return 1;
	case CTL_OPT_BIRTH_DATE:
		if ((rc = hx_birth_date_check(arg, hx_time_now_ms())) != HX_OK) {
			ctl_fail(rc == HX_EINVAL ? "%s: --birth-date: '%s' is in the future"
			                         : "%s: --birth-date: '%s' is not a real date (YYYY-MM-DD)",
			         cmd, arg);
			return -1;
		}
		a->d.birth_date = arg;
		return 1;
	case CTL_OPT_SEX:
		for (size_t i = 0; i < HX_ARRAY_SIZE(sexes); i++)
			if (strcmp(arg, sexes[i].name) == 0) {
				a->d.sex = sexes[i].sex;
				return 1;
			}
		ctl_fail("%s: --sex: female, male, other or unknown (not '%s')", cmd, arg);
		return -1;
	case CTL_OPT_SSN:
		if (!given(a->ssn.value) && a->n_ident == CTL_IDENT_MAX) {
			ctl_fail("%s: at most %d identifiers (--ssn and --identifier)", cmd,
			         CTL_IDENT_MAX);
			return -1;
		}
		a->ssn.system = IDN_SYS_SSN;
		a->ssn.value = arg;
		return 1;
	case CTL_OPT_IDENTIFIER:
		if (a->n_ident + given(a->ssn.value) == CTL_IDENT_MAX) {
			ctl_fail("%s: at most %d identifiers (--ssn and --identifier)", cmd,
			         CTL_IDENT_MAX);
			return -1;
		}
		eq = strchr(arg, '=');
		if (eq == NULL || eq == arg || eq[1] == '\0') {
			ctl_fail("%s: --identifier: SYSTEM=VALUE (not '%s')", cmd, arg);
			return -1;
		}
		*eq = '\0';
		a->ident[a->n_ident].system = arg;
		a->ident[a->n_ident].value = eq + 1;
		a->n_ident++;
		return 1;
	case CTL_OPT_ADDRESS:
		if (a->addr.n_lines == CTL_LINES_MAX) {
			ctl_fail("%s: at most %d --address lines", cmd, CTL_LINES_MAX);
			return -1;
		}
		a->lines[a->addr.n_lines++] = arg;
		return 1;
	case CTL_OPT_CITY:
		a->addr.city = arg;
		return 1;
	case CTL_OPT_STATE:
		a->addr.state = arg;
		return 1;
	case CTL_OPT_POSTCODE:
		a->addr.postal_code = arg;
		return 1;
	case CTL_OPT_PHONE:
		a->phone.value = arg;
		return 1;
	default:
		return 0;
	}
}

int ctl_demographics_finish(struct ctl_demographics *a, const char *cmd)
{
	Hie__V1__Demographics *d = &a->d;

	d->n_names = 0;
	d->names = a->names;
	if (given(a->name.family) || a->name.n_given > 0)
		a->names[d->n_names++] = &a->name;
	if (given(a->maiden.family))
		a->names[d->n_names++] = &a->maiden;
	d->n_addresses = 0;
	if (a->addr.n_lines > 0 || given(a->addr.city) || given(a->addr.state) ||
	    given(a->addr.postal_code)) {
		a->addrs[0] = &a->addr;
		d->addresses = a->addrs;
		d->n_addresses = 1;
	}
	d->n_telecom = 0;
	if (given(a->phone.value)) {
		a->telecom[0] = &a->phone;
		d->telecom = a->telecom;
		d->n_telecom = 1;
	}
	d->n_identifiers = 0;
	d->identifiers = a->idents;
	if (given(a->ssn.value))
		a->idents[d->n_identifiers++] = &a->ssn;
	for (size_t i = 0; i < a->n_ident; i++)
		a->idents[d->n_identifiers++] = &a->ident[i];
	if (proto_check(PROTO_DEMOGRAPHICS, d) != HX_OK)
		return ctl_fail("%s: the demographics are not acceptable (UTF-8 text, no control "
		                "characters, within length limits, identifiers and phone not "
		                "empty)", cmd);
	return 0;
}

/* ---- match -------------------------------------------------------------------------------- */

/* The profile in use: the store's, else the built-in one (with a warning when the stored
 * one cannot be used). *from_store tells which. */
static int profile_in_use(struct store_txn *t, struct idm_profile *p, int *from_store,
                          char *why, size_t whylen)
{
	int rc = idm_profile_from_store(t, p, why, whylen);
	*from_store = rc == HX_OK;
	if (rc == HX_EPARSE) {
		fprintf(stderr, "hiepeerctl: warning: the store's match profile is unusable (%s); "
		                "using the built-in one\n", why);
		return HX_OK;
	}
	if (rc == HX_ENOTFOUND) {
		snprintf(why, whylen, "none stored");
		return HX_OK;
	}
	return rc;
}

static void print_suggestions(const char *const *names, size_t n)
{
	if (n == 0)
		return;
	printf("would help:");
	for (size_t i = 0; i < n; i++)
		printf("%s %s", i > 0 ? "," : "", names[i]);
	printf("\n");
}

static cJSON *trace_json(const struct idm_result *r)
{
	cJSON *o = cJSON_CreateObject();
	for (int f = 0; f < IDM_NFIELDS; f++) {
		cJSON *x = cJSON_AddObjectToObject(o, idm_field_name(f));
		cJSON_AddStringToObject(x, "level", idm_level_name(f, r->levels[f]));
		cJSON_AddNumberToObject(x, "bits", round(r->contrib[f] * 100) / 100);
	}
	return o;
}

/* Name ("Family, Given") and birth date of a local patient, for the table. */
static void patient_brief(struct store_txn *t, const char *id, char *name, size_t nsize,
                          char *born, size_t bsize)
{
	Hie__V1__Patient *p = NULL;
	snprintf(name, nsize, "-");
	snprintf(born, bsize, "-");
	if (store_patient_get(t, id, &p) != HX_OK)
		return;
	if (p->demographics->n_names > 0) {
		const Hie__V1__HumanName *nm = p->demographics->names[0];
		snprintf(name, nsize, "%s, %s", nm->family, nm->n_given > 0 ? nm->given[0] : "");
	}
	if (p->demographics->birth_date[0] != '\0')
		snprintf(born, bsize, "%s", p->demographics->birth_date);
	proto_free(p);
}

int ctl_match_run(struct ctl *c)
{
	static const struct option opts[] = {
		CTL_DEMOGRAPHICS_OPTIONS,
		{"possible", no_argument, NULL, 'p'},
		{"trace", no_argument, NULL, 't'},
		{"limit", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct ctl_demographics a;
	struct idn_record q;
	struct idm_profile p;
	struct idm_search_out out;
	struct store_txn *t;
	const char *sugg[8];
	size_t nsugg, shown;
	uint64_t limit = IDM_RESULTS_MAX;
	char why[160];
	int ch, rc, possible = 0, trace = 0, from_store;

	ctl_demographics_init(&a);
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		if ((rc = ctl_demographics_opt(&a, "match", ch, optarg)) != 0) {
			if (rc < 0)
				return 1;
		} else if (ch == 'p') {
			possible = 1;
		} else if (ch == 't') {
			trace = 1;
		} else if (ch == 'l') {
			if (ctl_parse_u64("--limit", optarg, &limit))
				return 1;
			if (limit == 0 || limit > IDM_RESULTS_MAX)
				return ctl_fail("--limit: between 1 and %d", IDM_RESULTS_MAX);
		} else {
			return 2;
		}
	}
	if (optind != c->argc)
		return ctl_fail("match: unexpected argument '%s'", c->argv[optind]);
	if (ctl_demographics_finish(&a, "match"))
		return 1;
	idn_from_demographics(&a.d, &q);
	if (idm_query_check(&q, why, sizeof(why)) != HX_OK)
		return ctl_fail("match: %s", why);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("match: %s", hx_strerror(rc));
	if ((rc = profile_in_use(t, &p, &from_store, why, sizeof(why))) != HX_OK ||
	    (rc = idm_search(t, &p, &q, NULL, possible ? IDM_POSSIBLE : IDM_PROBABLE, &out)) !=
	            HX_OK) {
		store_read_end(t);
		if (rc == HX_EINVAL)
			return ctl_fail("match: nothing in the demographics to search on");
		return ctl_fail("match: %s", hx_strerror(rc));
	}
	shown = out.n < limit ? out.n : (size_t)limit;
	nsugg = idm_suggest_names(out.suggest, sugg, HX_ARRAY_SIZE(sugg));
	if (c->json) {
		cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "matches"), *s;
		for (size_t i = 0; i < shown; i++) {
			cJSON *o = cJSON_CreateObject();
			char name[160], born[16];
			patient_brief(t, out.r[i].patient_id, name, sizeof(name), born,
			              sizeof(born));
			cJSON_AddStringToObject(o, "patient_id", out.r[i].patient_id);
			cJSON_AddStringToObject(o, "grade", idm_grade_name(out.r[i].grade));
			cJSON_AddNumberToObject(o, "score", round(out.r[i].score * 100) / 100);
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddStringToObject(o, "birth_date", born);
			cJSON_AddItemToObject(o, "trace", trace_json(&out.r[i]));
			cJSON_AddItemToArray(arr, o);
		}
		cJSON_AddNumberToObject(j, "candidates", (double)out.candidates);
		cJSON_AddBoolToObject(j, "truncated", out.truncated);
		s = cJSON_AddArrayToObject(j, "suggested_attributes");
		for (size_t i = 0; i < nsugg; i++)
			cJSON_AddItemToArray(s, cJSON_CreateString(sugg[i]));
		cJSON_AddStringToObject(j, "profile", from_store ? "store" : "built-in");
		store_read_end(t);
		ctl_json_print(j);
		return 0;
	}
	if (shown == 0)
		printf("no matches (%s)\n", possible ? "certain, probable or possible"
		                                     : "certain or probable; --possible for more");
	else
		printf("%-20s %-8s %7s  %-36s %s\n", "PATIENT", "GRADE", "SCORE", "NAME",
		       "BIRTH DATE");
	for (size_t i = 0; i < shown; i++) {
		const struct idm_result *r = &out.r[i];
		char name[160], born[16];
		patient_brief(t, r->patient_id, name, sizeof(name), born, sizeof(born));
		printf("%-20s %-8s %7.2f  ", r->patient_id, idm_grade_name(r->grade), r->score);
		ctl_print_padded(name, 36);
		printf(" %s\n", born);
		for (int f = 0; trace && f < IDM_NFIELDS; f++)
			printf("    %-14s %-8s %+7.2f\n", idm_field_name(f),
			       idm_level_name(f, r->levels[f]), r->contrib[f]);
	}
	store_read_end(t);
	if (out.n > shown)
		printf("(%zu more: --limit)\n", out.n - shown);
	printf("%zu candidate(s) scored%s\n", out.candidates,
	       out.truncated ? ", cap reached" : "");
	print_suggestions(sugg, nsugg);
	return 0;
}

/* ---- match profile: show, fit, set, reset --------------------------------------------------- */

/* The source a profile text names in its first line ("# hiepeer match profile (SOURCE)",
 * as idm_profile_format writes it), which idm_profile_parse does not keep. */
static void profile_source_recover(const char *text, struct idm_profile *p)
{
	static const char head[] = "# hiepeer match profile (";
	for (const char *s = text; s != NULL && *s != '\0';) {
		const char *nl = strchr(s, '\n');
		size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (len > sizeof(head) && strncmp(s, head, sizeof(head) - 1) == 0 &&
		    s[len - 1] == ')') {
			size_t n = len - (sizeof(head) - 1) - 1;
			if (n >= sizeof(p->source))
				n = sizeof(p->source) - 1;
			memcpy(p->source, s + sizeof(head) - 1, n);
			p->source[n] = '\0';
			return;
		}
		s = nl != NULL ? nl + 1 : NULL;
	}
}

/* The profile in use, with its source recovered from the stored text. */
static int profile_load(struct ctl *c, struct idm_profile *p, int *from_store, char *why,
                        size_t whylen)
{
	struct store_txn *t;
	int rc;
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return rc;
	rc = profile_in_use(t, p, from_store, why, whylen);
	if (rc == HX_OK && *from_store) {
		const void *val;
		size_t len;
		char text[IDM_PROFILE_TEXT_MAX];
		if (store_meta_get(t, IDM_PROFILE_META, &val, &len) == HX_OK &&
		    len < sizeof(text)) {
			memcpy(text, val, len);
			text[len] = '\0';
			profile_source_recover(text, p);
		}
	}
	store_read_end(t);
	return rc;
}

static cJSON *profile_json(const struct idm_profile *p, int from_store)
{
	cJSON *j = cJSON_CreateObject(), *fields;
	cJSON_AddStringToObject(j, "in_use", from_store ? "store" : "built-in");
	cJSON_AddStringToObject(j, "source", p->source);
	cJSON_AddNumberToObject(j, "certain", p->certain);
	cJSON_AddNumberToObject(j, "probable", p->probable);
	cJSON_AddNumberToObject(j, "possible", p->possible);
	cJSON_AddBoolToObject(j, "household_guard", p->household_guard);
	fields = cJSON_AddObjectToObject(j, "fields");
	for (int f = 0; f < IDM_NFIELDS; f++) {
		cJSON *fo = cJSON_AddObjectToObject(fields, idm_field_name(f));
		for (int l = 1; l < idm_field_levels(f); l++) {
			cJSON *lo = cJSON_AddObjectToObject(fo, idm_level_name(f, l));
			cJSON_AddNumberToObject(lo, "m", p->m[f][l]);
			cJSON_AddNumberToObject(lo, "u", p->u[f][l]);
			cJSON_AddNumberToObject(lo, "bits", log2(p->m[f][l] / p->u[f][l]));
		}
	}
	return j;
}

int ctl_match_profile_show_run(struct ctl *c)
{
	static char text[IDM_PROFILE_TEXT_MAX];
	struct idm_profile p;
	char why[160];
	int rc, from_store;

	if (c->argc != 1)
		return ctl_fail("match profile show: unexpected argument '%s'", c->argv[1]);
	if (ctl_store_open(c, 1) != 0)
		return 1;
	if ((rc = profile_load(c, &p, &from_store, why, sizeof(why))) != HX_OK)
		return ctl_fail("match profile show: %s", hx_strerror(rc));
	if (c->json) {
		ctl_json_print(profile_json(&p, from_store));
		return 0;
	}
	if (from_store)
		printf("# in use: the store's profile (meta %s)\n", IDM_PROFILE_META);
	else
		printf("# in use: the built-in profile (%s)\n", why);
	idm_profile_format(&p, text, sizeof(text));
	fputs(text, stdout);
	return 0;
}

struct profile_write {
	const char *text; /* NULL: remove the stored profile */
	size_t len;
	const char *detail;
};

static int w_profile(struct store_txn *t, void *arg)
{
	struct profile_write *pw = arg;
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	int rc;

	if (pw->text == NULL) {
		const void *val;
		size_t len = 0;
		rc = store_meta_get(t, IDM_PROFILE_META, &val, &len);
		if (rc == HX_ENOTFOUND || (rc == HX_OK && len == 0))
			return HX_ENOTFOUND; /* nothing to reset: no change, no record */
		if (rc != HX_OK)
			return rc;
	}
	/* An empty value is "unset" to idm_profile_from_store (meta has no delete). */
	if ((rc = store_meta_put(t, IDM_PROFILE_META, pw->text != NULL ? pw->text : "",
	                         pw->text != NULL ? pw->len : 0)) != HX_OK)
		return rc;
	ev.time = hx_time_now_ms();
	ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_STORE_CHANGE;
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)store_org_id(store_txn_store(t));
	ev.actor_user = (char *)ctl_actor();
	ev.detail = (char *)pw->detail;
	return store_audit_append(t, &ev, NULL);
}

static int profile_store(struct ctl *c, const char *cmd, const struct idm_profile *p,
                         const char *detail)
{
	static char text[IDM_PROFILE_TEXT_MAX];
	struct profile_write pw = {text, 0, detail};
	int rc;
	pw.len = idm_profile_format(p, text, sizeof(text));
	if (pw.len >= sizeof(text))
		return ctl_fail("%s: the profile text is too long", cmd);
	rc = store_write(c->store, w_profile, &pw);
	if (rc == HX_ELIMIT)
		return ctl_fail("%s: the profile text (%zu bytes) is too long for the store", cmd,
		                pw.len);
	if (rc != HX_OK)
		return ctl_fail("%s: %s", cmd, hx_strerror(rc));
	return 0;
}

static void today(char out[11])
{
	char iso[32];
	hx_time_format(hx_time_now_ms(), iso, sizeof(iso));
	memcpy(out, iso, 10);
	out[10] = '\0';
}

/* ---- fit ---- */

#define FIT_MIN_PATIENTS 50
#define FIT_U_PAIRS 200000
#define FIT_ITERATIONS 50
#define FIT_FEW_PAIRS 100 /* --em: fewer candidate pairs are refused */
#define FIT_SHARE_SUSPECT 0.5 /* --em: more "matches" than this: not stored */

struct fit_set {
	char (*ids)[PROTO_PATIENT_ID_MAX + 1];
	struct idn_record *recs; /* normalised, recs[i] is patient ids[i] */
	size_t n, cap;
	int oom;
};

static void fit_set_clear(struct fit_set *s)
{
	free(s->ids);
	free(s->recs);
}

static int fit_load_cb(const Hie__V1__Patient *p, void *arg)
{
	struct fit_set *s = arg;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		char (*ids)[PROTO_PATIENT_ID_MAX + 1] = realloc(s->ids, cap * sizeof(*ids));
		struct idn_record *recs;
		if (ids == NULL) {
			s->oom = 1;
			return 1;
		}
		s->ids = ids;
		if ((recs = realloc(s->recs, cap * sizeof(*recs))) == NULL) {
			s->oom = 1;
			return 1;
		}
		s->recs = recs;
		s->cap = cap;
	}
	hx_strlcpy(s->ids[s->n], p->id, sizeof(s->ids[0]));
	idn_from_demographics(p->demographics, &s->recs[s->n]);
	s->n++;
	return 0;
}

static int fit_load(struct store_txn *t, struct fit_set *s)
{
	int more = 1, rc;
	while (more) {
		more = 0;
		rc = store_patient_list(t, s->n > 0 ? s->ids[s->n - 1] : NULL, STORE_LIST_MAX,
		                        fit_load_cb, s, &more);
		if (s->oom)
			return HX_ENOMEM;
		if (rc != HX_OK)
			return rc;
	}
	return HX_OK;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* u from random pairs: every pair when there are at most FIT_U_PAIRS, else FIT_U_PAIRS
 * pairs of a fixed-seed generator (the same store gives the same profile). */
static int fit_u(const struct fit_set *s, struct idm_profile *p, size_t *npairs)
{
	uint64_t all = (uint64_t)s->n * (s->n - 1) / 2, x = 0x9e3779b97f4a7c15ull;
	size_t n = all <= FIT_U_PAIRS ? (size_t)all : FIT_U_PAIRS, k = 0;
	uint8_t (*vec)[IDM_NFIELDS] = malloc(n * sizeof(*vec));
	if (vec == NULL)
		return HX_ENOMEM;
	if (all <= FIT_U_PAIRS) {
		for (size_t i = 0; i < s->n; i++)
			for (size_t j = i + 1; j < s->n; j++)
				idm_compare(&s->recs[i], &s->recs[j], vec[k++]);
	} else {
		while (k < n) {
			size_t i = (size_t)(xorshift(&x) % s->n), j = (size_t)(xorshift(&x) % s->n);
			if (i != j)
				idm_compare(&s->recs[i], &s->recs[j], vec[k++]);
		}
	}
	idm_estimate_u(p, (const uint8_t (*)[IDM_NFIELDS])vec, n);
	free(vec);
	*npairs = n;
	return HX_OK;
}

/* m by EM over the candidate pairs of every patient (each against the others). */
static int fit_m(struct store_txn *t, const struct fit_set *s, struct idm_profile *p,
                 size_t *npairs, double *share)
{
	struct idm_profile wide = *p;
	struct idm_search_out *out = malloc(sizeof(*out));
	uint8_t (*vec)[IDM_NFIELDS] = NULL;
	size_t n = 0, cap = 0;
	int rc = HX_OK;

	if (out == NULL)
		return HX_ENOMEM;
	wide.certain = wide.probable = wide.possible = -1e30; /* every candidate is kept */
	for (size_t i = 0; i < s->n; i++) {
		rc = idm_search(t, &wide, &s->recs[i], s->ids[i], IDM_POSSIBLE, out);
		if (rc == HX_EINVAL) { /* nothing to block on */
			rc = HX_OK;
			continue;
		}
		if (rc != HX_OK)
			goto done;
		if (n + out->n > cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t (*v)[IDM_NFIELDS];
			while (ncap < n + out->n)
				ncap *= 2;
			if ((v = realloc(vec, ncap * sizeof(*v))) == NULL) {
				rc = HX_ENOMEM;
				goto done;
			}
			vec = v;
			cap = ncap;
		}
		for (size_t k = 0; k < out->n; k++)
			memcpy(vec[n++], out->r[k].levels, IDM_NFIELDS);
	}
	*share = idm_estimate_m(p, (const uint8_t (*)[IDM_NFIELDS])vec, n, FIT_ITERATIONS);
	*npairs = n;
done:
	free(vec);
	free(out);
	return rc;
}

int ctl_match_profile_fit_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"em", no_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	struct fit_set s = {0};
	struct idm_profile p;
	struct store_txn *t = NULL;
	size_t upairs = 0, mpairs = 0;
	double share = 0, hh;
	char why[160], date[11];
	int ch, rc, dry = 0, em = 0, from_store, ret = 1;

	while ((ch = getopt_long(c->argc, c->argv, "ne", opts, NULL)) != -1) {
		if (ch == 'n')
			dry = 1;
		else if (ch == 'e')
			em = 1;
		else
			return 2;
	}
	if (optind != c->argc)
		return ctl_fail("match profile fit: unexpected argument '%s'", c->argv[optind]);
	if (ctl_store_open(c, dry) != 0)
		return 1;
	if ((rc = profile_load(c, &p, &from_store, why, sizeof(why))) != HX_OK)
		return ctl_fail("match profile fit: %s", hx_strerror(rc));
	if ((rc = store_read_begin(c->store, &t)) != HX_OK)
		return ctl_fail("match profile fit: %s", hx_strerror(rc));
	if ((rc = fit_load(t, &s)) != HX_OK) {
		ctl_fail("match profile fit: reading the patients: %s", hx_strerror(rc));
		goto done;
	}
	if (s.n < FIT_MIN_PATIENTS) {
		ctl_fail("match profile fit: too few patients to fit (%zu; at least %d are needed)",
		         s.n, FIT_MIN_PATIENTS);
		goto done;
	}
	/* Thresholds are kept from the profile in use. u always: how often different people of
	 * this population agree is exactly what the node's own patients tell. m only with --em:
	 * EM learns what true matches look like from the duplicates among the candidate pairs,
	 * and a hospital's own index normally has none (EM then models look-alikes, and a
	 * namesake born the same year becomes probable). Without --em, m stays the profile's:
	 * how often records of one person disagree is a property of record keeping, fitted on
	 * labelled data (FEBRL) for the built-in profile. */
	if ((rc = fit_u(&s, &p, &upairs)) != HX_OK ||
	    (em && (rc = fit_m(t, &s, &p, &mpairs, &share)) != HX_OK)) {
		ctl_fail("match profile fit: %s", hx_strerror(rc));
		goto done;
	}
	store_read_end(t);
	t = NULL;
	hh = idm_household_share(s.recs, s.n);
	p.household_guard = hh > IDM_HOUSEHOLD_SHARE_MIN;
	today(date);
	if (em)
		snprintf(p.source, sizeof(p.source), "fit: %zu patients, u and m (em, %zu candidate "
		         "pairs), %s", s.n, mpairs, date);
	else
		snprintf(p.source, sizeof(p.source), "fit: %zu patients, u, %s", s.n, date);
	if (em && mpairs < FIT_FEW_PAIRS) {
		ctl_fail("match profile fit --em: only %zu candidate pairs: too few to learn m "
		         "from; fit without --em", mpairs);
		goto done;
	}
	if (em && share > FIT_SHARE_SUSPECT && !dry) {
		ctl_fail("match profile fit --em: EM took %.0f%% of the candidate pairs for matches: "
		         "this index holds few duplicate records, so m would describe different "
		         "people who look alike; not stored (fit without --em, or look with "
		         "--dry-run)", share * 100);
		goto done;
	}
	if (!dry && profile_store(c, "match profile fit", &p, "match profile fitted") != 0)
		goto done;
	if (c->json) {
		cJSON *j = profile_json(&p, !dry);
		cJSON_DeleteItemFromObject(j, "in_use");
		cJSON_AddBoolToObject(j, "stored", !dry);
		cJSON_AddNumberToObject(j, "patients", (double)s.n);
		cJSON_AddNumberToObject(j, "random_pairs", (double)upairs);
		cJSON_AddNumberToObject(j, "candidate_pairs", (double)mpairs);
		cJSON_AddNumberToObject(j, "match_share", share);
		cJSON_AddNumberToObject(j, "household_share", hh);
		ctl_json_print(j);
	} else if (dry) {
		static char text[IDM_PROFILE_TEXT_MAX];
		idm_profile_format(&p, text, sizeof(text));
		printf("# fitted, not stored (--dry-run): u from %zu pairs, %.1f%% estimated "
		       "matches among the candidate pairs, household share %.1f%%\n",
		       upairs, share * 100, hh * 100);
		fputs(text, stdout);
	} else {
		if (em)
			printf("match profile fitted and stored: %zu patients, u from %zu pairs, m "
			       "from %zu candidate pairs (%.1f%% estimated matches), household share "
			       "%.1f%%: guard %s\n",
			       s.n, upairs, mpairs, share * 100, hh * 100,
			       p.household_guard ? "on" : "off");
		else
			printf("match profile fitted and stored: %zu patients, u from %zu pairs (m "
			       "kept), household share %.1f%%: guard %s\n",
			       s.n, upairs, hh * 100, p.household_guard ? "on" : "off");
	}
	ret = 0;
done:
	store_read_end(t);
	fit_set_clear(&s);
	return ret;
}

/* ---- set, reset ---- */

int ctl_match_profile_set_run(struct ctl *c)
{
	static char text[IDM_PROFILE_TEXT_MAX];
	struct idm_profile p;
	const char *file, *base;
	char err[160], date[11], src[sizeof(p.source)];
	size_t len;
	FILE *f;

	if (c->argc != 2)
		return ctl_fail("match profile set: usage: hiepeerctl match profile set FILE");
	file = c->argv[1];
	if ((f = fopen(file, "rb")) == NULL)
		return ctl_fail("match profile set: cannot read %s", file);
	len = fread(text, 1, sizeof(text), f);
	if (ferror(f)) {
		fclose(f);
		return ctl_fail("match profile set: cannot read %s", file);
	}
	fclose(f);
	if (len >= sizeof(text))
		return ctl_fail("match profile set: %s is larger than %d bytes", file,
		                IDM_PROFILE_TEXT_MAX - 1);
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL)
		return ctl_fail("match profile set: %s is not a text file", file);
	if (idm_profile_parse(text, &p, err, sizeof(err)) != HX_OK)
		return ctl_fail("match profile set: %s: %s", file, err);
	/* What is stored is the canonical text of what was parsed (the operator's comments
	 * are not kept); its source says where it came from. */
	p.source[0] = '\0';
	profile_source_recover(text, &p);
	hx_strlcpy(src, p.source, sizeof(src));
	base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	today(date);
	{
		char s[2 * sizeof(p.source) + 300];
		snprintf(s, sizeof(s), "set from %.128s on %s%s%s%s", base, date,
		         src[0] != '\0' ? " (was: " : "", src, src[0] != '\0' ? ")" : "");
		hx_strlcpy(p.source, s, sizeof(p.source));
	}
	if (ctl_store_open(c, 0) != 0)
		return 1;
	if (profile_store(c, "match profile set", &p, "match profile set") != 0)
		return 1;
	printf("match profile set from %s (thresholds certain %.2f, probable %.2f, possible "
	       "%.2f)\n", file, p.certain, p.probable, p.possible);
	return 0;
}

int ctl_match_profile_reset_run(struct ctl *c)
{
	struct profile_write pw = {NULL, 0, "match profile reset"};
	int rc;

	if (c->argc != 1)
		return ctl_fail("match profile reset: unexpected argument '%s'", c->argv[1]);
	if (ctl_store_open(c, 0) != 0)
		return 1;
	rc = store_write(c->store, w_profile, &pw);
	if (rc == HX_ENOTFOUND) {
		printf("no match profile was stored; the built-in one is in use\n");
		return 0;
	}
	if (rc != HX_OK)
		return ctl_fail("match profile reset: %s", hx_strerror(rc));
	printf("match profile reset: the built-in one is in use\n");
	return 0;
}

/* ---- remote discover ---------------------------------------------------------------------- */


static const struct {
	const char *name;
	Hie__V1__PurposeOfUse v;
} purposes[] = {
	{"treatment", HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT},
	{"payment", HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_PAYMENT},
	{"operations", HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_OPERATIONS},
	{"public-health", HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_PUBLIC_HEALTH},
	{"research", HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_RESEARCH},
	{"emergency", HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_EMERGENCY},
	{"patient-request", HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_PATIENT_REQUEST},
};
#define PURPOSE_LIST                                                                          \
	"treatment, payment, operations, public-health, research, emergency or patient-request"

int ctl_purpose_parse(const char *cmd, const char *s, int *out)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(purposes); i++)
		if (strcmp(s, purposes[i].name) == 0) {
			*out = purposes[i].v;
			return 0;
		}
	return ctl_fail("%s: --purpose: %s (not '%s')", cmd, PURPOSE_LIST, s);
}

static const char *wire_grade_name(Hie__V1__MatchGrade g)
{
	switch (g) {
	case HIE__V1__MATCH_GRADE__MATCH_GRADE_CERTAIN:
		return idm_grade_name(IDM_CERTAIN);
	case HIE__V1__MATCH_GRADE__MATCH_GRADE_PROBABLE:
		return idm_grade_name(IDM_PROBABLE);
	case HIE__V1__MATCH_GRADE__MATCH_GRADE_POSSIBLE:
		return idm_grade_name(IDM_POSSIBLE);
	default:
		return "unspecified";
	}
}

int ctl_remote_discover_run(struct ctl *c)
{
	static const struct option opts[] = {
		CTL_DEMOGRAPHICS_OPTIONS,
		{"purpose", required_argument, NULL, 'P'},
		{"possible", no_argument, NULL, 'p'},
		{"limit", required_argument, NULL, 'l'},
		{"user", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	Hie__V1__DiscoverRequest dr = HIE__V1__DISCOVER_REQUEST__INIT;
	Hie__V1__RequestingUser user = HIE__V1__REQUESTING_USER__INIT;
	Hie__V1__DiscoverResponse *resp = NULL;
	struct ctl_demographics a;
	struct hx_buf body;
	const char *org;
	uint64_t limit;
	int ch, rc, ret = 1;

	ctl_demographics_init(&a);
	while ((ch = getopt_long(c->argc, c->argv, "", opts, NULL)) != -1) {
		if ((rc = ctl_demographics_opt(&a, "remote discover", ch, optarg)) != 0) {
			if (rc < 0)
				return 1;
		} else if (ch == 'P') {
			int v = 0;
			if (ctl_purpose_parse("remote discover", optarg, &v))
				return 1;
			dr.purpose = v;
		} else if (ch == 'p') {
			dr.include_possible = 1;
		} else if (ch == 'l') {
			if (ctl_parse_u64("--limit", optarg, &limit))
				return 1;
			if (limit == 0 || limit > IDM_RESULTS_MAX)
				return ctl_fail("--limit: between 1 and %d", IDM_RESULTS_MAX);
			dr.max_results = (uint32_t)limit;
		} else if (ch == 'u') {
			if (ctl_user_check("remote discover", optarg))
				return 1;
			user.id = optarg;
		} else {
			return 2;
		}
	}
	if (optind + 1 != c->argc)
		return ctl_fail("remote discover: usage: hiepeerctl --config FILE remote discover "
		                "ORG [demographics] --purpose PURPOSE [--possible] [--limit N] "
		                "[--user ID]");
	if (dr.purpose == HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED)
		return ctl_fail("remote discover: --purpose is required (%s)", PURPOSE_LIST);
	org = c->argv[optind];
	if (ctl_demographics_finish(&a, "remote discover"))
		return 1;
	dr.demographics = &a.d;
	if (user.id[0] == '\0') /* no --user: the login running the command */
		user.id = (char *)ctl_actor();
	dr.user = &user;
	hx_buf_init(&body, 1u << 20);
	if (ctl_remote_call(c, org, "remote discover", "/hie/v1/patients/discover", &dr, &body))
		goto out;
	if (proto_discover_response_unpack(body.data, body.len, &resp) != HX_OK) {
		ctl_fail("remote discover: the answer is not a valid DiscoverResponse");
		goto out;
	}
	{ /* recorded before anything is shown (the foreign ids are not written to the audit) */
		char detail[160];
		snprintf(detail, sizeof(detail), "command line: remote discover at %s: %zu match(es)",
		         org, resp->n_matches);
		if (ctl_audit_outside(c, HIE__V1__AUDIT_ACTION__AUDIT_ACTION_OUTSIDE_QUERY, dr.purpose,
		                      user.id, NULL, 0, detail) != 0)
			goto out;
	}
	if (c->json) {
		cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "matches"), *s;
		cJSON_AddStringToObject(j, "org", org);
		for (size_t i = 0; i < resp->n_matches; i++) {
			const Hie__V1__PatientMatch *pm = resp->matches[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "patient_id", pm->patient_id);
			cJSON_AddStringToObject(o, "grade", wire_grade_name(pm->grade));
			cJSON_AddNumberToObject(o, "score", round(pm->score * 100) / 100);
			cJSON_AddItemToArray(arr, o);
		}
		s = cJSON_AddArrayToObject(j, "suggested_attributes");
		for (size_t i = 0; i < resp->n_suggested_attributes; i++)
			cJSON_AddItemToArray(s, cJSON_CreateString(resp->suggested_attributes[i]));
		ctl_json_print(j);
	} else {
		if (resp->n_matches == 0)
			printf("no matches at %s\n", org);
		else
			printf("%-20s %-8s %7s\n", "PATIENT", "GRADE", "SCORE");
		for (size_t i = 0; i < resp->n_matches; i++)
			printf("%-20s %-8s %7.2f\n", resp->matches[i]->patient_id,
			       wire_grade_name(resp->matches[i]->grade), resp->matches[i]->score);
		print_suggestions((const char *const *)resp->suggested_attributes,
		                  resp->n_suggested_attributes);
	}
	ret = 0;
out:
	proto_free(resp);
	hx_buf_clear(&body);
	return ret;
}
