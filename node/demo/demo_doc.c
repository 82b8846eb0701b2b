/* demo_doc.c: one document: DocumentEntry metadata and its content, C-CDA-like XML or text. */
#include "demo_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define CONTENT_SLACK (256u << 10) /* headers and sections beyond doc_size */

#define LOINC "2.16.840.1.113883.6.1"
#define SNOMED "2.16.840.1.113883.6.96"
#define ROLE_CODE "2.16.840.1.113883.5.111"
#define CONFIDENTIALITY "2.16.840.1.113883.5.25"
#define CLASS_SYSTEM "1.3.6.1.4.1.19376.1.2.6.1"
#define FORMAT_SYSTEM "1.3.6.1.4.1.19376.1.2.3"
#define NPI_SYSTEM "2.16.840.1.113883.4.6"

static const struct conf {
	const char *code, *display;
} confs[] = {{"N", "normal"}, {"R", "restricted"}, {"V", "very restricted"}};

static const struct format {
	const char *mime, *code, *display;
} formats[] = {
	{"text/xml", "urn:hl7-org:sdwg:ccda-structuredBody:2.1",
	 "Documents following C-CDA constraints using a structured body"},
	{"text/plain", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "mimeType Sufficient"},
};

void demo_doc_gen_init(struct demo_doc_gen *g, const struct demo_opts *o)
{
	memset(g, 0, sizeof(*g));
	g->seed = o->seed;
	g->org_id = o->org_id;
	g->org_index = o->org_index;
	g->doc_size = o->doc_size;
	demo_org_name_make(o->seed, o->org_index, g->org_name, sizeof(g->org_name));
	hx_buf_init(&g->content, o->doc_size + CONTENT_SLACK);
}

void demo_doc_gen_clear(struct demo_doc_gen *g)
{
	hx_buf_clear(&g->content);
}

/* ---- choices ---------------------------------------------------------------------------- */

static const struct demo_doc_type *type_pick(struct demo_rng *r)
{
	unsigned total = 0;
	uint64_t x;
	size_t i;

	for (i = 0; i < demo_doc_type_count; i++)
		total += demo_doc_types[i].weight;
	x = demo_rng_below(r, total);
	for (i = 0; i + 1 < demo_doc_type_count && x >= demo_doc_types[i].weight; i++)
		x -= demo_doc_types[i].weight;
	return &demo_doc_types[i];
}

static const struct demo_proc *proc_pick(struct demo_rng *r, int surgical)
{
	size_t cand[16], n = 0;
	for (size_t i = 0; i < demo_proc_count && n < HX_ARRAY_SIZE(cand); i++)
		if (!surgical || demo_procs[i].surgical)
			cand[n++] = i;
	return &demo_procs[cand[demo_rng_below(r, n)]];
}

static const struct demo_condition *cond_pick(struct demo_rng *r, int child)
{
	size_t cand[64], n = 0;
	for (size_t i = 0; i < demo_condition_count && n < HX_ARRAY_SIZE(cand); i++)
		if (demo_conditions[i].child == child)
			cand[n++] = i;
	return &demo_conditions[cand[demo_rng_below(r, n)]];
}

static unsigned setting_pick(struct demo_rng *r, uint32_t mask, int female)
{
	unsigned cand[32], n = 0;
	for (unsigned i = 0; i < demo_setting_count && i < 32; i++)
		if ((mask & (1u << i)) && (female || !demo_settings[i].female_only))
			cand[n++] = i;
	return n == 0 ? 0 : cand[demo_rng_below(r, n)];
}

/* A clinician of the org in that setting: a few per setting, the same across documents. */
static void author_make(struct demo_doc_gen *g, unsigned setting, unsigned which)
{
	const struct demo_setting *s = &demo_settings[setting];
	const struct demo_table *given, *family;
	struct demo_rng r;
	int hispanic, female;

	demo_rng_seed(&r, g->seed, DEMO_S_ORG, g->org_index, 1000 + setting, which);
	female = demo_rng_chance(&r, 0.5);
	demo_origin_pick(&r, female, &given, &family, &hispanic);
	hx_strlcpy(g->author_given, demo_table_pick(given, &r), sizeof(g->author_given));
	hx_strlcpy(g->author_family, demo_table_pick(family, &r), sizeof(g->author_family));
	snprintf(g->npi, sizeof(g->npi), "1%09u", (unsigned)demo_rng_below(&r, 1000000000));
	snprintf(g->author_person, sizeof(g->author_person), "%s %s, %s", g->author_given,
	         g->author_family, s->cred);
}

/* Creation time: a day in the ten years before the epoch (after birth), at a time of day
 * that fits the setting; service times around it. */
static void times_pick(struct demo_rng *r, const struct demo_person *p, int timing,
                       int64_t *created, int64_t *start, int64_t *stop)
{
	int64_t epoch_day = DEMO_EPOCH_MS / DAY_MS, birth_day = p->birth_ms / DAY_MS;
	int64_t lo = epoch_day - 3652, hi = epoch_day - 1, day, tod, c, s, e;

	if (lo < birth_day + 1)
		lo = birth_day + 1 < hi ? birth_day + 1 : hi;
	day = demo_rng_range(r, lo, hi);
	if (timing == DEMO_T_VISIT || timing == DEMO_T_TEST)
		tod = demo_rng_range(r, 7 * 60 + 30, 18 * 60) * MIN_MS;
	else
		tod = demo_rng_range(r, 0, 24 * 60 - 1) * MIN_MS;
	/* Local times of a US region, about five hours behind UTC. */
	c = day * DAY_MS + tod + 5 * HOUR_MS + demo_rng_range(r, 0, 59) * 1000;
	if (c >= DEMO_EPOCH_MS)
		c = DEMO_EPOCH_MS - HOUR_MS;
	switch (timing) {
	case DEMO_T_STAY:
		s = c - demo_rng_range(r, 1, 10) * DAY_MS;
		s -= demo_rng_range(r, 0, 12) * HOUR_MS;
		e = c - demo_rng_range(r, 0, 4 * 60) * MIN_MS;
		break;
	case DEMO_T_ED:
		s = c - demo_rng_range(r, 60, 10 * 60) * MIN_MS;
		e = c - demo_rng_range(r, 0, 30) * MIN_MS;
		break;
	case DEMO_T_TEST:
		s = c - demo_rng_range(r, 60, 48 * 60) * MIN_MS;
		e = s + demo_rng_range(r, 10, 90) * MIN_MS;
		break;
	default:
		s = c - demo_rng_range(r, 20, 180) * MIN_MS;
		e = s + demo_rng_range(r, 15, 60) * MIN_MS;
		break;
	}
	if (s < p->birth_ms)
		s = p->birth_ms;
	if (e > c)
		e = c;
	if (e < s)
		e = s;
	*created = c;
	*start = s;
	*stop = e;
}

/* ---- content ---------------------------------------------------------------------------- */

/* HL7 TS "20240305140709+0000". */
static void ts_format(int64_t ms, char *out, size_t size)
{
	int64_t days = ms / DAY_MS, rem = ms % DAY_MS;
	int y, m, d;
	hx_days_to_date(days, &y, &m, &d);
	snprintf(out, size, "%04d%02d%02d%02d%02d%02d+0000", y, m, d, (int)(rem / HOUR_MS),
	         (int)(rem % HOUR_MS / MIN_MS), (int)(rem % MIN_MS / 1000));
}

/* "2024-03-05 14:07 UTC". */
static void time_human(int64_t ms, char *out, size_t size)
{
	int64_t days = ms / DAY_MS, rem = ms % DAY_MS;
	int y, m, d;
	hx_days_to_date(days, &y, &m, &d);
	snprintf(out, size, "%04d-%02d-%02d %02d:%02d UTC", y, m, d, (int)(rem / HOUR_MS),
	         (int)(rem % HOUR_MS / MIN_MS));
}

static void xml_elem(struct demo_text *t, const char *tag, const char *value)
{
	demo_text_putf(t, "<%s>", tag);
	demo_text_esc(t, value);
	demo_text_putf(t, "</%s>", tag);
}

static void xml_patient(struct demo_text *t, const struct demo_record *rec, const char *org_id,
                        const char *mrn)
{
	const struct demo_name *n = &rec->names[0];

	demo_text_putf(t, "<recordTarget>\n<patientRole>\n<id root=\"%s.2\" extension=\"%s\"/>\n",
	               org_id, mrn);
	if (rec->ssn[0] != '\0')
		demo_text_putf(t, "<id root=\"" DEMO_SSN_SYSTEM "\" extension=\"%s\"/>\n",
		               rec->ssn);
	demo_text_put(t, "<addr use=\"HP\">");
	xml_elem(t, "streetAddressLine", rec->addr.line1);
	if (rec->addr.line2[0] != '\0')
		xml_elem(t, "streetAddressLine", rec->addr.line2);
	xml_elem(t, "city", rec->addr.city);
	xml_elem(t, "state", rec->addr.state);
	xml_elem(t, "postalCode", rec->addr.zip);
	demo_text_put(t, "<country>US</country></addr>\n");
	if (rec->phone[0] != '\0') {
		int mobile = rec->phone_use == HIE__V1__CONTACT_USE__CONTACT_USE_MOBILE;
		demo_text_putf(t, "<telecom use=\"%s\" value=\"tel:+1-%s\"/>\n",
		               mobile ? "MC" : "HP", rec->phone);
	}
	demo_text_put(t, "<patient>\n<name use=\"L\">");
	for (unsigned i = 0; i < n->n_given; i++)
		xml_elem(t, "given", n->given[i]);
	xml_elem(t, "family", n->family);
	demo_text_putf(t, "</name>\n<administrativeGenderCode code=\"%s\" "
	                  "codeSystem=\"2.16.840.1.113883.5.1\" displayName=\"%s\"/>\n"
	                  "<birthTime value=\"%04d%02d%02d\"/>\n</patient>\n</patientRole>\n"
	                  "</recordTarget>\n",
	               t->female ? "F" : "M", t->female ? "Female" : "Male", rec->year, rec->month,
	               rec->day);
}

static void xml_head(struct demo_text *t, const struct demo_doc_gen *g,
                     const struct demo_doc_type *type, const struct demo_setting *set,
                     const struct demo_record *rec, const char *mrn, const char *conf,
                     int64_t created, int64_t start, int64_t stop)
{
	char c[32], s[32], e[32];

	ts_format(created, c, sizeof(c));
	ts_format(start, s, sizeof(s));
	ts_format(stop, e, sizeof(e));
	demo_text_put(t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                 "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n<realmCode code=\"US\"/>\n"
	                 "<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\n"
	                 "<templateId root=\"2.16.840.1.113883.10.20.22.1.1\" "
	                 "extension=\"2015-08-01\"/>\n");
	demo_text_putf(t, "<id root=\"%s\"/>\n<code code=\"%s\" codeSystem=\"" LOINC "\" "
	                  "codeSystemName=\"LOINC\" displayName=\"%s\"/>\n<title>%s</title>\n"
	                  "<effectiveTime value=\"%s\"/>\n<confidentialityCode code=\"%s\" "
	                  "codeSystem=\"" CONFIDENTIALITY "\"/>\n<languageCode code=\"en-US\"/>\n",
	               g->unique_id, type->code, type->display, type->display, c, conf);
	xml_patient(t, rec, g->org_id, mrn);
	demo_text_putf(t, "<author>\n<time value=\"%s\"/>\n<assignedAuthor>\n"
	                  "<id root=\"" NPI_SYSTEM "\" extension=\"%s\"/>\n<assignedPerson><name>",
	               c, g->npi);
	xml_elem(t, "given", g->author_given);
	xml_elem(t, "family", g->author_family);
	xml_elem(t, "suffix", set->cred);
	demo_text_putf(t, "</name></assignedPerson>\n<representedOrganization><id root=\"%s\"/>",
	               g->org_id);
	xml_elem(t, "name", g->org_name);
	demo_text_putf(t, "</representedOrganization>\n</assignedAuthor>\n</author>\n<custodian>"
	                  "<assignedCustodian><representedCustodianOrganization><id root=\"%s\"/>",
	               g->org_id);
	xml_elem(t, "name", g->org_name);
	demo_text_putf(t, "</representedCustodianOrganization></assignedCustodian></custodian>\n"
	                  "<documentationOf><serviceEvent classCode=\"PCPR\"><effectiveTime>"
	                  "<low value=\"%s\"/><high value=\"%s\"/></effectiveTime></serviceEvent>"
	                  "</documentationOf>\n<componentOf><encompassingEncounter><effectiveTime>"
	                  "<low value=\"%s\"/><high value=\"%s\"/></effectiveTime><location>"
	                  "<healthCareFacility><code code=\"%s\" codeSystem=\"" ROLE_CODE "\" "
	                  "displayName=\"",
	               s, e, s, e, set->fac_code);
	demo_text_esc(t, set->fac_display);
	demo_text_put(t, "\"/></healthCareFacility></location></encompassingEncounter>"
	                 "</componentOf>\n<component>\n<structuredBody>\n");
}

static const char xml_tail[] = "</structuredBody>\n</component>\n</ClinicalDocument>\n";

static void xml_section(struct demo_text *t, const struct demo_section *s)
{
	demo_text_putf(t, "<component>\n<section>\n<code code=\"%s\" codeSystem=\"" LOINC "\" "
	                  "codeSystemName=\"LOINC\" displayName=\"%s\"/>\n<title>%s</title>\n"
	                  "<text>\n",
	               s->code, s->title, s->title);
	demo_text_section_body(t, s);
	demo_text_put(t, "</text>\n</section>\n</component>\n");
}

static void text_head(struct demo_text *t, const struct demo_doc_gen *g,
                      const struct demo_doc_type *type, const struct demo_setting *set,
                      const struct demo_record *rec, const char *mrn, int64_t start)
{
	char name[2 * DEMO_FAMILY_MAX], when[32];

	for (const char *c = type->display; *c != '\0'; c++)
		demo_text_putf(t, "%c", *c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	demo_text_putf(t, "\n%s, %s\n\n", g->org_name, set->fac_display);
	demo_name_format(&rec->names[0], name, sizeof(name));
	time_human(start, when, sizeof(when));
	demo_text_putf(t, "Patient: %s\nMRN: %s\nDate of birth: %s\nSex: %s\n"
	                  "Date of service: %s\nAuthor: %s, %s (%s)\n",
	               name, mrn, rec->birth_date, t->female ? "Female" : "Male", when,
	               g->author_person, set->role, set->prac_display);
}

static void text_section(struct demo_text *t, const struct demo_section *s)
{
	demo_text_put(t, "\n");
	for (const char *c = s->title; *c != '\0'; c++)
		demo_text_putf(t, "%c", *c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	demo_text_put(t, "\n");
	demo_text_section_body(t, s);
}

/* ---- the document ----------------------------------------------------------------------- */

static void code_set(Hie__V1__Code *c, const char *code, const char *system, const char *display)
{
	hie__v1__code__init(c);
	c->code = (char *)code;
	c->system = (char *)system;
	c->display = (char *)display;
}

int demo_doc_build(struct demo_doc_gen *g, const struct demo_person *p,
                   const struct demo_record *rec, const char *local_id, const char *mrn,
                   unsigned k)
{
	Hie__V1__DocumentEntry *e = &g->entry;
	const struct demo_doc_type *type;
	const struct demo_setting *set;
	const struct conf *conf;
	const struct format *fmt;
	struct demo_text t;
	struct demo_rng r;
	uint64_t id[2], x;
	int64_t created, start, stop;
	Hie__V1__DocumentStatus status;
	unsigned setting;
	size_t target;
	int female = rec->sex == HIE__V1__SEX__SEX_FEMALE, child, y, m, d;
	char signed_at[32];

	/* Metadata: the document's own stream, independent of doc_size. */
	memset(&t, 0, sizeof(t));
	demo_rng_seed(&r, g->seed, DEMO_S_DOC, p->number, g->org_index, k);
	id[0] = demo_rng_next(&r);
	id[1] = demo_rng_next(&r);
	snprintf(g->id, sizeof(g->id), "%016llx%016llx", (unsigned long long)id[0],
	         (unsigned long long)id[1]);
	/* An OID: the MRN as an arc (no leading zeros), then the document's number. */
	snprintf(g->unique_id, sizeof(g->unique_id), "%s.1.%lu.%u", g->org_id,
	         strtoul(mrn, NULL, 10), k + 1);
	type = type_pick(&r);
	if (type->proc != 0) {
		t.proc = proc_pick(&r, type->proc == 2);
		setting = t.proc->setting;
	} else {
		t.proc = &demo_procs[demo_rng_below(&r, demo_proc_count)];
		setting = setting_pick(&r, type->settings, female);
	}
	set = &demo_settings[setting];
	author_make(g, setting, (unsigned)demo_rng_below(&r, 4));
	times_pick(&r, p, set->timing, &created, &start, &stop);
	x = demo_rng_below(&r, 100);
	conf = &confs[x < 90 ? 0 : x < 98 ? 1 : 2];
	fmt = &formats[demo_rng_chance(&r, 0.6) ? 0 : 1];
	t.study = &demo_studies[demo_rng_below(&r, demo_study_count)];
	t.size_mm = (unsigned)demo_rng_range(&r, 3, 9);
	t.ef = (unsigned)demo_rng_range(&r, 52, 65);
	hx_days_to_date(created / DAY_MS, &y, &m, &d);
	t.age_months = (y - rec->year) * 12 + (m - rec->month) - (d < rec->day);
	if (t.age_months < 0)
		t.age_months = 0;
	child = t.age_months < 18 * 12;
	t.cond = cond_pick(&r, child);
	{
		const struct demo_table *acute = demo_slot_table("acute", 5, child);
		const struct demo_table *sym = demo_slot_table("sym2", 4, 0);
		t.acute = acute->v[demo_rng_below(&r, acute->n)];
		t.sym = sym->v[demo_rng_below(&r, sym->n)];
	}
	status = demo_rng_chance(&r, 0.05) ? HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_DEPRECATED
	                                    : HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	target = g->doc_size != 0 ? g->doc_size : (size_t)demo_rng_range(&r, 1024, 4096);

	/* Content: its own stream. */
	demo_rng_seed(&t.r, g->seed, DEMO_S_TEXT, p->number, g->org_index, k);
	hx_buf_reset(&g->content);
	t.b = &g->content;
	t.xml = fmt == &formats[0];
	t.rec = rec;
	t.female = female;
	t.birth_year = rec->year;
	if (t.xml)
		xml_head(&t, g, type, set, rec, mrn, conf->code, created, start, stop);
	else
		text_head(&t, g, type, set, rec, mrn, start);
	for (size_t i = 0; i < DEMO_SECTIONS_MAX && type->sections[i] != DEMO_SEC_END; i++) {
		if (t.xml)
			xml_section(&t, &demo_sections[type->sections[i]]);
		else
			text_section(&t, &demo_sections[type->sections[i]]);
	}
	time_human(created, signed_at, sizeof(signed_at));
	if (t.xml) {
		demo_text_pad(&t, target, sizeof(xml_tail) - 1);
		demo_text_put(&t, xml_tail);
	} else {
		char sig[256];
		snprintf(sig, sizeof(sig), "\nElectronically signed by %s on %s.\n",
		         g->author_person, signed_at);
		demo_text_pad(&t, target, strlen(sig));
		demo_text_put(&t, sig);
	}
	if (t.rc != HX_OK)
		return t.rc;

	/* The entry. */
	hie__v1__document_entry__init(e);
	e->status = status;
	e->id = g->id;
	e->unique_id = g->unique_id;
	e->patient_id = (char *)local_id;
	code_set(&g->class_code, type->class_code, CLASS_SYSTEM, type->class_display);
	code_set(&g->type_code, type->code, LOINC, type->display);
	code_set(&g->format_code, fmt->code, FORMAT_SYSTEM, fmt->display);
	code_set(&g->conf, conf->code, CONFIDENTIALITY, conf->display);
	code_set(&g->facility, set->fac_code, ROLE_CODE, set->fac_display);
	code_set(&g->practice, set->prac_code, SNOMED, set->prac_display);
	e->class_code = &g->class_code;
	e->type_code = &g->type_code;
	e->format_code = &g->format_code;
	g->conf_ptr = &g->conf;
	e->n_confidentiality = 1;
	e->confidentiality = &g->conf_ptr;
	e->creation_time = created;
	e->service_start = start;
	e->service_stop = stop;
	hie__v1__author__init(&g->author);
	g->author.person = g->author_person;
	g->author.institution = g->org_name;
	g->author.role = (char *)set->role;
	g->author.specialty = (char *)set->prac_display;
	g->author_ptr = &g->author;
	e->n_authors = 1;
	e->authors = &g->author_ptr;
	e->facility_type = &g->facility;
	e->practice_setting = &g->practice;
	e->language = (char *)"en-US";
	e->mime_type = (char *)fmt->mime;
	e->size = g->content.len;
	crypto_sha256(g->content.data, g->content.len, g->sha256);
	e->sha256.data = g->sha256;
	e->sha256.len = sizeof(g->sha256);
	e->title = (char *)type->display;
	e->origin_org = (char *)g->org_id;
	return HX_OK;
}
