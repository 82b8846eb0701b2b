/*
 * node/demo/demo_internal.h: what the demo_*.c files share (not part of the API).
 *
 *   demo_gen.c       options, the generation loop, PRNG, ids
 *   demo_names.c     tables: given and family names, nicknames, streets, cities, org names
 *   demo_person.c    a person's true identity, an org's varied record, the Patient message
 *   demo_clinical.c  tables: document types, settings, sections, sentence templates
 *   demo_slot.c      template expansion: the slots of a sentence
 *   demo_text.c      sections and padding: XML escaping, text wrapping
 *   demo_doc.c       DocumentEntry metadata and the document content (XML or text)
 */
#ifndef HX_DEMO_INTERNAL_H
#define HX_DEMO_INTERNAL_H

#include "demo.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 --------------------------------------- */

struct demo_rng {
	uint64_t s[4];
};

/* Independent streams: every draw of the generator belongs to exactly one of them. */
enum demo_stream {
	DEMO_S_PERSON = 1, /* (seed, person): true identity */
	DEMO_S_HOME,       /* (seed, person): home org */
	DEMO_S_HOLD,       /* (seed, person, org): is the person a patient there */
	DEMO_S_VARY,       /* (seed, person, org): the org's record of the person */
	DEMO_S_DOCS,       /* (seed, person, org): number of documents */
	DEMO_S_DOC,        /* (seed, person, org, k): document k's metadata */
	DEMO_S_TEXT,       /* (seed, person, org, k): document k's content */
	DEMO_S_MRN,        /* (seed, org, round): MRN permutation */
	DEMO_S_ORG,        /* (seed, org): the org's name, clinicians */
	DEMO_S_REGION,     /* (seed): where the region is */
};

void demo_rng_seed(struct demo_rng *r, uint64_t seed, enum demo_stream s, uint64_t a,
                   uint64_t b, uint64_t c);
uint64_t demo_rng_next(struct demo_rng *r);
/* Uniform in 0..n-1 (n > 0). */
uint64_t demo_rng_below(struct demo_rng *r, uint64_t n);
/* Uniform in lo..hi inclusive (lo <= hi). */
int64_t demo_rng_range(struct demo_rng *r, int64_t lo, int64_t hi);
/* Uniform in [0, 1). */
double demo_rng_unit(struct demo_rng *r);
/* 1 with probability p. Always consumes one draw. */
int demo_rng_chance(struct demo_rng *r, double p);
/* One 64-bit hash of the stream key (no state). */
uint64_t demo_hash(uint64_t seed, enum demo_stream s, uint64_t a, uint64_t b);

/* ---- tables (demo_names.c) -------------------------------------------------------------- */

/* A list of strings; the first `common` entries are drawn more often (see demo_table_pick). */
struct demo_table {
	const char *const *v;
	size_t n;
	size_t common;
};

extern const struct demo_table demo_family_hispanic;
extern const struct demo_table demo_streets;
extern const struct demo_table demo_street_suffixes; /* "St", ... */

/* A frequency-skewed pick: 30% among the common head of the table, else uniform. */
const char *demo_table_pick(const struct demo_table *t, struct demo_rng *r);
/* Draw an origin of the population (US 55%, Hispanic 18%, European, East and South Asian,
 * Arabic, African) and return its given-name table for the sex (a third of non-US-origin
 * people get a US given name) and family-name table; *hispanic tells if the family table
 * is the Hispanic one (two-part family names). */
void demo_origin_pick(struct demo_rng *r, int female, const struct demo_table **given,
                      const struct demo_table **family, int *hispanic);
/* Sizes of the tables over all origins (for tests). */
size_t demo_given_count(int female);
size_t demo_family_count(void);
size_t demo_nickname_count(void);
/* Spelled-out street suffix ("Street" for "St"); the input when unknown. */
const char *demo_suffix_long(const char *abbrev);

struct demo_city {
	const char *city;
	const char *state;
	const char *zip3;  /* first three ZIP digits */
	const char *area;  /* telephone area code */
	unsigned group;    /* census-like region, 0..DEMO_CITY_GROUPS-1 */
};
#define DEMO_CITY_GROUPS 5
extern const struct demo_city demo_cities[];
extern const size_t demo_city_count;
/* A city: with probability 0.85 from the region's group, else anywhere. */
const struct demo_city *demo_city_pick(unsigned group, struct demo_rng *r);

/* A nickname for a given name (one of its usual ones), or NULL when it has none. */
const char *demo_nickname(const char *given, struct demo_rng *r);
/* A keyboard neighbour of the ASCII letter c (QWERTY), same case. */
char demo_key_neighbour(char c, struct demo_rng *r);
/* Copy s into out[size] with accented letters folded to ASCII (ü → u, ß → ss); other
 * non-ASCII characters are dropped. Returns 1 if anything changed. */
int demo_ascii_fold(const char *s, char *out, size_t size);

/* The org's name (see demo_org_name). */
void demo_org_name_make(uint64_t seed, unsigned org_index, char *out, size_t size);

/* ---- persons and records (demo_person.c) ------------------------------------------------ */

#define DEMO_FAMILY_MAX 128
#define DEMO_GIVEN_MAX 48
#define DEMO_NAMES_MAX 4

struct demo_name {
	int use; /* Hie__V1__NameUse */
	char family[DEMO_FAMILY_MAX];
	char given[2][DEMO_GIVEN_MAX];
	unsigned n_given;
};

struct demo_addr {
	char line1[96];
	char line2[32]; /* "Apt 4B" or empty */
	char city[48];
	char state[4];
	char zip[8];
	char area[4]; /* telephone area code of the city */
};

/* What an organisation holds about a person (the home org: the truth). */
struct demo_record {
	int sex; /* Hie__V1__Sex */
	int year, month, day;
	char birth_date[16];
	struct demo_name names[DEMO_NAMES_MAX];
	unsigned n_names;
	struct demo_addr addr;
	char phone[24]; /* empty: none */
	int phone_use;  /* Hie__V1__ContactUse */
	char ssn[16];   /* empty: none */
};

/* A person of the population: the true record and the facts variations draw on. */
struct demo_person {
	uint64_t number;
	struct demo_record truth;
	int64_t birth_ms;
	int compound;                        /* family name is "García López"-like */
	char birth_family[DEMO_FAMILY_MAX];  /* before any marriage */
	char spouse_family[DEMO_FAMILY_MAX]; /* married name, taken or for a later change */
	char second_family[DEMO_FAMILY_MAX]; /* for a hyphenated double name */
	struct demo_addr prev_addr;          /* where the person lived before */
};

/* Storage for the Patient message of one record (points into the record). */
struct demo_patient_msg {
	Hie__V1__Patient patient;
	Hie__V1__Demographics demo;
	Hie__V1__HumanName names[DEMO_NAMES_MAX];
	Hie__V1__HumanName *name_ptrs[DEMO_NAMES_MAX];
	char *given[DEMO_NAMES_MAX][2];
	Hie__V1__Address addr;
	Hie__V1__Address *addr_ptr;
	char *lines[2];
	Hie__V1__ContactPoint tel;
	Hie__V1__ContactPoint *tel_ptr;
	Hie__V1__Identifier ids[2];
	Hie__V1__Identifier *id_ptrs[2];
	char country[4];
	char ssn_system[32];
	char mrn_system[PROTO_ORG_ID_MAX + 8];
	char mrn[12];
	char id[16];
};

void demo_person_init(struct demo_person *p, uint64_t seed, uint64_t number);
/* Copy the truth into rec and apply this org's defects; returns the enum demo_vary bits. */
unsigned demo_record_vary(const struct demo_person *p, uint64_t seed, unsigned org_index,
                          struct demo_record *rec);
/* Fill m from rec (borrowing its strings). org_id and mrn NULL: no MRN, empty id. */
void demo_patient_msg_fill(struct demo_patient_msg *m, const struct demo_record *rec,
                           const char *org_id, const char *mrn, const char *local_id,
                           int64_t updated);
/* "Given Middle Family" of a name. */
void demo_name_format(const struct demo_name *n, char *out, size_t size);

/* ---- documents (demo_clinical.c, demo_doc.c) -------------------------------------------- */

/* Where and by whom a document is made. */
struct demo_setting {
	const char *fac_code, *fac_display;   /* HL7 RoleCode (ServiceDeliveryLocationRoleType) */
	const char *prac_code, *prac_display; /* SNOMED CT clinical specialty */
	const char *role;                     /* author role */
	const char *cred;                     /* author credential */
	int timing;                           /* enum demo_timing */
	int female_only;
};

enum demo_timing { DEMO_T_VISIT, DEMO_T_STAY, DEMO_T_ED, DEMO_T_TEST };

#define DEMO_SECTIONS_MAX 10

struct demo_doc_type {
	const char *code, *display;             /* LOINC */
	const char *class_code, *class_display; /* XDS class code */
	unsigned weight;                        /* relative frequency */
	uint32_t settings;                      /* bit i: demo_settings[i] may author it */
	int proc;                               /* 1: about a procedure (its setting wins),
	                                           2: a surgical one */
	unsigned char sections[DEMO_SECTIONS_MAX]; /* enum demo_section_kind, 0-terminated */
};

enum demo_section_kind {
	DEMO_SEC_END = 0,
	DEMO_SEC_CC,
	DEMO_SEC_HPI,
	DEMO_SEC_PMH,
	DEMO_SEC_MEDS,
	DEMO_SEC_ALLERGY,
	DEMO_SEC_SOCIAL,
	DEMO_SEC_VITALS,
	DEMO_SEC_EXAM,
	DEMO_SEC_RESULTS,
	DEMO_SEC_PROBLEMS,
	DEMO_SEC_ASSESS_PLAN,
	DEMO_SEC_PLAN,
	DEMO_SEC_REFERRAL,
	DEMO_SEC_ADMIT_DX,
	DEMO_SEC_COURSE,
	DEMO_SEC_DISCH_DX,
	DEMO_SEC_DISCH_MEDS,
	DEMO_SEC_INSTRUCTIONS,
	DEMO_SEC_STUDY_REASON,
	DEMO_SEC_FINDINGS,
	DEMO_SEC_IMPRESSION,
	DEMO_SEC_PROC_IND,
	DEMO_SEC_PROC_DESC,
	DEMO_SEC_PROC_FINDINGS,
	DEMO_SEC_COMPLICATIONS,
	DEMO_SEC_COUNT
};

/* How a section's text is made. */
enum demo_gen_kind {
	DEMO_GEN_TEXT,     /* sentences from templates, one paragraph */
	DEMO_GEN_LIST,     /* one list item per template drawn */
	DEMO_GEN_LABS,     /* a results table */
	DEMO_GEN_FINDINGS, /* the imaging study's findings */
	DEMO_GEN_IMPRESSION,
	DEMO_GEN_PROC_FINDINGS,
};

struct demo_section {
	const char *code, *title; /* LOINC section code, title */
	int gen;                  /* enum demo_gen_kind */
	const char *const *templates;
	size_t n_templates;
	const char *const *child; /* templates for patients under 18, when set */
	size_t n_child;
	unsigned min, max; /* sentences or items */
	unsigned lead;     /* the first `lead` templates always come first, in order */
	int ordered;       /* keep the drawn templates in table order */
};

extern const struct demo_setting demo_settings[];
extern const size_t demo_setting_count;
extern const struct demo_doc_type demo_doc_types[];
extern const size_t demo_doc_type_count;
extern const struct demo_section demo_sections[DEMO_SEC_COUNT];
/* Narrative sentences that pad a document to its size. */
extern const struct demo_section demo_padding;

/* Values of a template slot ("{sym}" → "sym"), the child variant when child and there is
 * one. NULL for a slot that is not a table. */
const struct demo_table *demo_slot_table(const char *name, size_t len, int child);

/* Chronic conditions, each with the specialty that treats it and a usual medication. */
struct demo_condition {
	const char *name, *spec, *med;
	int child; /* for patients under 18 */
};
extern const struct demo_condition demo_conditions[];
extern const size_t demo_condition_count;

/* Imaging studies: a coherent report each. */
struct demo_study {
	const char *name;
	const char *findings[6]; /* NULL-terminated */
	const char *impression;
};
extern const struct demo_study demo_studies[];
extern const size_t demo_study_count;

/* Procedures, with the setting where they are done. */
struct demo_proc {
	const char *name, *indication, *finding;
	unsigned setting;
	int surgical;
};
extern const struct demo_proc demo_procs[];
extern const size_t demo_proc_count;

/* Lab tests, grouped in panels; ranges are scaled by 10^dec. */
struct demo_lab {
	unsigned panel;
	const char *name, *unit;
	int lo, hi, dec;
};
extern const struct demo_lab demo_labs[];
extern const size_t demo_lab_count;
extern const char *const demo_lab_panels[];
extern const size_t demo_lab_panel_count;

/* Writing one document's content (demo_text.c). Errors are sticky in rc. */
struct demo_text {
	struct demo_rng r; /* the document's content stream */
	struct hx_buf *b;
	int rc;
	int xml;      /* escape for XML; else wrap plain text at 78 columns */
	unsigned col; /* plain text: current column */
	/* what the sentences are about */
	const struct demo_record *rec;
	int age_months, female, birth_year;
	const struct demo_condition *cond;
	const char *acute, *sym;
	const struct demo_study *study;
	const struct demo_proc *proc;
	unsigned size_mm, ef;
};

void demo_text_put(struct demo_text *t, const char *s);
void demo_text_putf(struct demo_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s escaped for XML text and attributes (&, <, >, ", '); plain text: as is. */
void demo_text_esc(struct demo_text *t, const char *s);
/* Expand a template's slots into out[size] (demo_slot.c); "a|b" picks one alternative. */
void demo_text_expand(struct demo_text *t, const char *tmpl, char *out, size_t size);
/* Whether the patient was under 18 at the document's time. */
int demo_text_child(const struct demo_text *t);
/* The body of a section (paragraph, list, table) without its heading. */
void demo_text_section_body(struct demo_text *t, const struct demo_section *s);
/* Pad with narrative until about `target` bytes, `reserve` of which are for what follows. */
void demo_text_pad(struct demo_text *t, size_t target, size_t reserve);

/* The document generator's reusable state. */
struct demo_doc_gen {
	uint64_t seed;
	const char *org_id;
	unsigned org_index;
	size_t doc_size;
	char org_name[96];
	struct hx_buf content;
	/* entry storage */
	Hie__V1__DocumentEntry entry;
	Hie__V1__Code class_code, type_code, format_code, conf, facility, practice;
	Hie__V1__Code *conf_ptr;
	Hie__V1__Author author;
	Hie__V1__Author *author_ptr;
	char id[PROTO_DOC_ID_LEN + 1];
	char unique_id[PROTO_ORG_ID_MAX + 48];
	char author_person[DEMO_GIVEN_MAX + DEMO_FAMILY_MAX + 16];
	char author_given[DEMO_GIVEN_MAX], author_family[DEMO_FAMILY_MAX];
	char npi[16];
	uint8_t sha256[32];
};

void demo_doc_gen_init(struct demo_doc_gen *g, const struct demo_opts *o);
void demo_doc_gen_clear(struct demo_doc_gen *g);
/* Build document k of a patient into g->entry and g->content. HX_ENOMEM, HX_ELIMIT. */
int demo_doc_build(struct demo_doc_gen *g, const struct demo_person *p,
                   const struct demo_record *rec, const char *local_id, const char *mrn,
                   unsigned k);

#endif /* HX_DEMO_INTERNAL_H */
