/* demo_person.c: a person's true identity, an organisation's varied record, the Patient. */
#include "demo_internal.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)

static int64_t epoch_days(void)
{
	return DEMO_EPOCH_MS / DAY_MS;
}

static void set_date(struct demo_record *rec, int y, int m, int d)
{
	rec->year = y;
	rec->month = m;
	rec->day = d;
	snprintf(rec->birth_date, sizeof(rec->birth_date), "%04d-%02d-%02d", y, m, d);
}

static void copy(char *dst, size_t size, const char *src)
{
	hx_strlcpy(dst, src, size);
}

/* A draw from t different from `other` (a few tries; tables have many entries). */
static const char *pick_other(const struct demo_table *t, struct demo_rng *r, const char *other)
{
	const char *s = demo_table_pick(t, r);
	for (int i = 0; i < 4 && strcmp(s, other) == 0; i++)
		s = demo_table_pick(t, r);
	return s;
}

static void addr_make(struct demo_addr *a, unsigned group, struct demo_rng *r)
{
	static const char *const dirs[] = {"N ", "S ", "E ", "W "};
	const struct demo_city *c = demo_city_pick(group, r);
	const char *street = demo_table_pick(&demo_streets, r);
	const char *suffix = demo_table_pick(&demo_street_suffixes, r);
	const char *dir = demo_rng_chance(r, 0.1) ? dirs[demo_rng_below(r, 4)] : "";
	unsigned num = demo_rng_chance(r, 0.6) ? (unsigned)demo_rng_range(r, 1, 999)
	                                        : (unsigned)demo_rng_range(r, 1000, 19999);

	snprintf(a->line1, sizeof(a->line1), "%u %s%s %s", num, dir, street, suffix);
	a->line2[0] = '\0';
	if (demo_rng_chance(r, 0.2)) {
		unsigned n = (unsigned)demo_rng_range(r, 1, 40);
		switch (demo_rng_below(r, 3)) {
		case 0:
			snprintf(a->line2, sizeof(a->line2), "Apt %u", n);
			break;
		case 1:
			snprintf(a->line2, sizeof(a->line2), "Unit %u%c", n,
			         (char)('A' + demo_rng_below(r, 4)));
			break;
		default:
			snprintf(a->line2, sizeof(a->line2), "# %u", n * 10 + 1);
			break;
		}
	}
	copy(a->city, sizeof(a->city), c->city);
	copy(a->state, sizeof(a->state), c->state);
	snprintf(a->zip, sizeof(a->zip), "%s%02u", c->zip3, (unsigned)demo_rng_below(r, 100));
	copy(a->area, sizeof(a->area), c->area);
}

void demo_person_init(struct demo_person *p, uint64_t seed, uint64_t number)
{
	struct demo_record *t = &p->truth;
	struct demo_name *n = &t->names[0];
	const struct demo_table *given, *family, *sp_given, *sp_family;
	struct demo_rng r;
	int female, hispanic, sp_hispanic, y, m, d, age;
	int64_t lo, hi, days;
	const char *area;
	unsigned group = (unsigned)(demo_hash(seed, DEMO_S_REGION, 0, 0) % DEMO_CITY_GROUPS);

	memset(p, 0, sizeof(*p));
	p->number = number;
	demo_rng_seed(&r, seed, DEMO_S_PERSON, number, 0, 0);

	female = demo_rng_chance(&r, 0.51);
	t->sex = female ? HIE__V1__SEX__SEX_FEMALE : HIE__V1__SEX__SEX_MALE;

	/* Ages 0..99 on the epoch day: most under 80, a tail to 99. */
	if (demo_rng_chance(&r, 0.94)) {
		lo = 1;
		hi = 80 * 36525 / 100;
	} else {
		lo = 80 * 36525 / 100;
		hi = 100 * 36525 / 100 - 1;
	}
	days = epoch_days() - demo_rng_range(&r, lo, hi);
	hx_days_to_date(days, &y, &m, &d);
	set_date(t, y, m, d);
	p->birth_ms = days * DAY_MS;
	age = 2025 - y; /* age at the epoch's eve, close enough for "adult" */

	/* Names: origin, given names, family name (Hispanic two-part half the time). */
	demo_origin_pick(&r, female, &given, &family, &hispanic);
	n->use = HIE__V1__NAME_USE__NAME_USE_OFFICIAL;
	copy(n->given[0], DEMO_GIVEN_MAX, demo_table_pick(given, &r));
	n->n_given = 1;
	if (demo_rng_chance(&r, 0.6)) {
		copy(n->given[1], DEMO_GIVEN_MAX, pick_other(given, &r, n->given[0]));
		n->n_given = 2;
	}
	copy(n->family, DEMO_FAMILY_MAX, demo_table_pick(family, &r));
	if (hispanic && demo_rng_chance(&r, 0.5)) {
		const char *second = pick_other(&demo_family_hispanic, &r, n->family);
		size_t len = strlen(n->family);
		snprintf(n->family + len, DEMO_FAMILY_MAX - len, " %s", second);
		p->compound = 1;
	}
	copy(p->birth_family, DEMO_FAMILY_MAX, n->family);
	copy(p->second_family, DEMO_FAMILY_MAX, pick_other(family, &r, n->family));

	/* A spouse's family name: taken by some married women; used for later changes. */
	demo_origin_pick(&r, 0, &sp_given, &sp_family, &sp_hispanic);
	copy(p->spouse_family, DEMO_FAMILY_MAX, pick_other(sp_family, &r, n->family));
	t->n_names = 1;
	if (female && age >= 20 && demo_rng_chance(&r, 0.45)) {
		t->names[1] = *n;
		t->names[1].use = HIE__V1__NAME_USE__NAME_USE_MAIDEN;
		copy(n->family, DEMO_FAMILY_MAX, p->spouse_family);
		t->n_names = 2;
	}

	addr_make(&t->addr, group, &r);
	addr_make(&p->prev_addr, group, &r);
	/* Mobile numbers often keep the area code of an earlier home. (One draw per statement:
	 * the order of evaluation of arguments is unspecified, the bytes must not be.) */
	area = demo_rng_chance(&r, 0.8) ? t->addr.area : p->prev_addr.area;
	snprintf(t->phone, sizeof(t->phone), "%s-555-%04u", area,
	         (unsigned)demo_rng_below(&r, 10000));
	t->phone_use = demo_rng_chance(&r, 0.75) ? HIE__V1__CONTACT_USE__CONTACT_USE_MOBILE
	                                          : HIE__V1__CONTACT_USE__CONTACT_USE_HOME;
	/* Fictional SSNs: area 9xx is never issued. */
	if (demo_rng_chance(&r, 0.7)) {
		unsigned ssn_area = (unsigned)demo_rng_below(&r, 100);
		unsigned grp = (unsigned)demo_rng_range(&r, 1, 99);
		unsigned serial = (unsigned)demo_rng_range(&r, 1, 9999);
		snprintf(t->ssn, sizeof(t->ssn), "9%02u-%02u-%04u", ssn_area, grp, serial);
	}
}

/* ---- variations ------------------------------------------------------------------------- */

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One typing error in s (never in the first letter): transposition, keyboard substitution,
 * deletion or doubling. Only ASCII letters are touched, so UTF-8 stays valid. */
static int typo_apply(char *s, size_t size, struct demo_rng *r)
{
	size_t len = strlen(s), pos[DEMO_FAMILY_MAX], n = 0, i;
	uint64_t kind = demo_rng_below(r, 4);

	for (i = 1; i < len && n < DEMO_FAMILY_MAX; i++)
		if (is_letter(s[i]))
			pos[n++] = i;
	if (n == 0)
		return 0;
	if (kind == 0) { /* transposition of two different adjacent letters */
		size_t cand[DEMO_FAMILY_MAX], k = 0;
		for (i = 0; i < n; i++)
			if (is_letter(s[pos[i] + 1]) && s[pos[i] + 1] != s[pos[i]])
				cand[k++] = pos[i];
		if (k > 0) {
			char c;
			i = cand[demo_rng_below(r, k)];
			c = s[i];
			s[i] = s[i + 1];
			s[i + 1] = c;
			return 1;
		}
	} else if (kind == 1 && len > 3) { /* deletion */
		i = pos[demo_rng_below(r, n)];
		memmove(s + i, s + i + 1, len - i);
		return 1;
	} else if (kind == 2 && len + 2 <= size) { /* doubling */
		i = pos[demo_rng_below(r, n)];
		memmove(s + i + 1, s + i, len - i + 1);
		return 1;
	}
	i = pos[demo_rng_below(r, n)];
	s[i] = demo_key_neighbour(s[i], r);
	return 1;
}

static int date_ok(int y, int m, int d)
{
	char s[16];
	int64_t days;
	snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
	if (hx_date_check(s) != HX_OK || hx_date_to_days(y, m, d, &days) != HX_OK)
		return 0;
	return days < epoch_days();
}

/* Day and month swapped when that is a different valid date, else one digit mistyped
 * (off by one on the keypad), else a day off. The result is always a valid past date. */
static int birth_vary(struct demo_record *rec, struct demo_rng *r)
{
	int y = rec->year, m = rec->month, d = rec->day;
	int64_t days;

	if (d <= 12 && d != m && demo_rng_chance(r, 0.7) && date_ok(y, d, m)) {
		set_date(rec, y, d, m);
		return 1;
	}
	for (int tries = 0; tries < 16; tries++) {
		int v[3] = {y, m, d};
		int which = (int)demo_rng_below(r, 3);
		/* A year's last or tens digit; mostly the last digit of month and day. */
		int unit = demo_rng_chance(r, which == 0 ? 0.5 : 0.7) ? 1 : 10;
		int digit = (v[which] / unit) % 10;
		int nd = demo_rng_chance(r, 0.5) ? (digit + 1) % 10 : (digit + 9) % 10;
		v[which] += (nd - digit) * unit;
		if (date_ok(v[0], v[1], v[2])) {
			set_date(rec, v[0], v[1], v[2]);
			return 1;
		}
	}
	if (hx_date_to_days(y, m, d, &days) != HX_OK)
		return 0;
	days += days + 1 < epoch_days() ? 1 : -1;
	hx_days_to_date(days, &y, &m, &d);
	set_date(rec, y, m, d);
	return 1;
}

/* "Street" for "St" at the end of the first line; drop the unit line. */
static int addr_reformat(struct demo_addr *a)
{
	char *sp = strrchr(a->line1, ' ');
	int changed = a->line2[0] != '\0';
	if (sp != NULL) {
		const char *full = demo_suffix_long(sp + 1);
		if (strcmp(full, sp + 1) != 0) {
			hx_strlcpy(sp + 1, full, sizeof(a->line1) - (size_t)(sp + 1 - a->line1));
			changed = 1;
		}
	}
	a->line2[0] = '\0';
	return changed;
}

static int name_has_non_ascii(const struct demo_record *rec)
{
	for (unsigned i = 0; i < rec->n_names; i++) {
		const struct demo_name *n = &rec->names[i];
		for (const char *s = n->family; *s != '\0'; s++)
			if ((unsigned char)*s >= 0x80)
				return 1;
		for (unsigned g = 0; g < n->n_given; g++)
			for (const char *s = n->given[g]; *s != '\0'; s++)
				if ((unsigned char)*s >= 0x80)
					return 1;
	}
	return 0;
}

static void name_fold(struct demo_name *n)
{
	char tmp[DEMO_FAMILY_MAX];
	demo_ascii_fold(n->family, tmp, sizeof(tmp));
	copy(n->family, DEMO_FAMILY_MAX, tmp);
	for (unsigned g = 0; g < n->n_given; g++) {
		demo_ascii_fold(n->given[g], tmp, DEMO_GIVEN_MAX);
		copy(n->given[g], DEMO_GIVEN_MAX, tmp);
	}
}

/* Middle name reduced to its first character (a whole UTF-8 sequence), or dropped. */
static void middle_vary(struct demo_name *n, struct demo_rng *r)
{
	char *g = n->given[1];
	size_t k = 1;
	if (demo_rng_chance(r, 0.5)) {
		n->n_given = 1;
		g[0] = '\0';
		return;
	}
	while (((unsigned char)g[k] & 0xc0) == 0x80)
		k++;
	g[k] = '\0';
}

unsigned demo_record_vary(const struct demo_person *p, uint64_t seed, unsigned org_index,
                          struct demo_record *rec)
{
	const struct demo_record *t = &p->truth;
	struct demo_name *n = &rec->names[0];
	struct demo_rng r;
	unsigned vary = 0;
	int female = t->sex == HIE__V1__SEX__SEX_FEMALE, adult = t->year <= 2007;

	*rec = *t;
	demo_rng_seed(&r, seed, DEMO_S_VARY, p->number, org_index, 0);
	/* Every roll is drawn, whether it applies or not, so each is independent of the rest. */
	int typo = demo_rng_chance(&r, 0.30), typo_family = demo_rng_chance(&r, 0.5);
	int nick = demo_rng_chance(&r, 0.30), birth = demo_rng_chance(&r, 0.10);
	int moved = demo_rng_chance(&r, 0.15);
	int change = adult && demo_rng_chance(&r, female ? 0.13 : 0.03);
	int no_phone = demo_rng_chance(&r, 0.20), no_ssn = demo_rng_chance(&r, 0.30);
	int hyphen = demo_rng_chance(&r, 0.05), ascii = demo_rng_chance(&r, 0.25);
	int middle = demo_rng_chance(&r, 0.20), form = demo_rng_chance(&r, 0.40);
	int addr_form = demo_rng_chance(&r, 0.10);

	if (change) {
		if (t->n_names > 1) { /* a stale record from before her marriage */
			copy(n->family, DEMO_FAMILY_MAX, p->birth_family);
			rec->n_names = 1;
		} else {
			rec->names[1] = *n;
			rec->names[1].use = female && demo_rng_chance(&r, 0.6)
			                        ? HIE__V1__NAME_USE__NAME_USE_MAIDEN
			                        : HIE__V1__NAME_USE__NAME_USE_PREVIOUS;
			copy(n->family, DEMO_FAMILY_MAX, p->spouse_family);
			rec->n_names = 2;
		}
		vary |= DEMO_VARY_NAME_CHANGE;
	}
	if (hyphen && !change && strchr(n->family, '-') == NULL && strchr(n->family, ' ') == NULL) {
		size_t len = strlen(n->family);
		snprintf(n->family + len, DEMO_FAMILY_MAX - len, "-%s", p->second_family);
		vary |= DEMO_VARY_HYPHENATED;
	}
	if (form && p->compound && !change) {
		char *sp = strchr(n->family, ' ');
		if (sp != NULL) {
			if (demo_rng_chance(&r, 0.6))
				*sp = '\0';
			else
				*sp = '-';
			vary |= DEMO_VARY_SURNAME_FORM;
		}
	}
	if (middle && n->n_given == 2) {
		middle_vary(n, &r);
		vary |= DEMO_VARY_MIDDLE;
	}
	if (nick) {
		const char *nn = demo_nickname(n->given[0], &r);
		if (nn != NULL) {
			if (demo_rng_chance(&r, 0.7) || rec->n_names >= DEMO_NAMES_MAX) {
				copy(n->given[0], DEMO_GIVEN_MAX, nn);
			} else {
				struct demo_name *u = &rec->names[rec->n_names++];
				*u = *n;
				u->use = HIE__V1__NAME_USE__NAME_USE_USUAL;
				copy(u->given[0], DEMO_GIVEN_MAX, nn);
				u->n_given = 1;
			}
			vary |= DEMO_VARY_NICKNAME;
		}
	}
	if (typo) {
		if (typo_family && typo_apply(n->family, DEMO_FAMILY_MAX, &r))
			vary |= DEMO_VARY_TYPO_FAMILY;
		else if (!typo_family && typo_apply(n->given[0], DEMO_GIVEN_MAX, &r))
			vary |= DEMO_VARY_TYPO_GIVEN;
	}
	if (ascii && name_has_non_ascii(rec)) {
		for (unsigned i = 0; i < rec->n_names; i++)
			name_fold(&rec->names[i]);
		vary |= DEMO_VARY_ASCII;
	}
	if (birth && birth_vary(rec, &r))
		vary |= DEMO_VARY_BIRTH_DATE;
	if (moved) {
		rec->addr = p->prev_addr;
		vary |= DEMO_VARY_MOVED;
	}
	if (addr_form && addr_reformat(&rec->addr))
		vary |= DEMO_VARY_ADDRESS_FORM;
	if (no_phone && rec->phone[0] != '\0') {
		rec->phone[0] = '\0';
		vary |= DEMO_VARY_NO_PHONE;
	}
	if (no_ssn && rec->ssn[0] != '\0') {
		rec->ssn[0] = '\0';
		vary |= DEMO_VARY_NO_SSN;
	}
	return vary;
}

/* ---- the Patient message ---------------------------------------------------------------- */

void demo_name_format(const struct demo_name *n, char *out, size_t size)
{
	if (n->n_given > 1)
		snprintf(out, size, "%s %s %s", n->given[0], n->given[1], n->family);
	else
		snprintf(out, size, "%s %s", n->given[0], n->family);
}

void demo_patient_msg_fill(struct demo_patient_msg *m, const struct demo_record *rec,
                           const char *org_id, const char *mrn, const char *local_id,
                           int64_t updated)
{
	Hie__V1__Demographics *d = &m->demo;
	size_t ids = 0;

	hie__v1__patient__init(&m->patient);
	hie__v1__demographics__init(d);
	for (unsigned i = 0; i < rec->n_names; i++) {
		Hie__V1__HumanName *h = &m->names[i];
		hie__v1__human_name__init(h);
		h->use = rec->names[i].use;
		h->family = (char *)rec->names[i].family;
		for (unsigned g = 0; g < rec->names[i].n_given; g++)
			m->given[i][g] = (char *)rec->names[i].given[g];
		h->n_given = rec->names[i].n_given;
		h->given = m->given[i];
		m->name_ptrs[i] = h;
	}
	d->n_names = rec->n_names;
	d->names = m->name_ptrs;
	d->birth_date = (char *)rec->birth_date;
	d->sex = rec->sex;

	hie__v1__address__init(&m->addr);
	m->addr.use = HIE__V1__ADDRESS_USE__ADDRESS_USE_HOME;
	m->lines[0] = (char *)rec->addr.line1;
	m->lines[1] = (char *)rec->addr.line2;
	m->addr.n_lines = rec->addr.line2[0] != '\0' ? 2 : 1;
	m->addr.lines = m->lines;
	m->addr.city = (char *)rec->addr.city;
	m->addr.state = (char *)rec->addr.state;
	m->addr.postal_code = (char *)rec->addr.zip;
	copy(m->country, sizeof(m->country), "US");
	m->addr.country = m->country;
	m->addr_ptr = &m->addr;
	d->n_addresses = 1;
	d->addresses = &m->addr_ptr;

	if (rec->phone[0] != '\0') {
		hie__v1__contact_point__init(&m->tel);
		m->tel.system = HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_PHONE;
		m->tel.value = (char *)rec->phone;
		m->tel.use = rec->phone_use;
		m->tel_ptr = &m->tel;
		d->n_telecom = 1;
		d->telecom = &m->tel_ptr;
	}

	if (rec->ssn[0] != '\0') {
		hie__v1__identifier__init(&m->ids[ids]);
		copy(m->ssn_system, sizeof(m->ssn_system), DEMO_SSN_SYSTEM);
		m->ids[ids].system = m->ssn_system;
		m->ids[ids].value = (char *)rec->ssn;
		m->id_ptrs[ids] = &m->ids[ids];
		ids++;
	}
	if (org_id != NULL && mrn != NULL) {
		hie__v1__identifier__init(&m->ids[ids]);
		snprintf(m->mrn_system, sizeof(m->mrn_system), "%s.2", org_id);
		copy(m->mrn, sizeof(m->mrn), mrn);
		m->ids[ids].system = m->mrn_system;
		m->ids[ids].value = m->mrn;
		m->id_ptrs[ids] = &m->ids[ids];
		ids++;
	}
	d->n_identifiers = ids;
	d->identifiers = m->id_ptrs;

	copy(m->id, sizeof(m->id), local_id != NULL ? local_id : "");
	m->patient.id = m->id;
	m->patient.demographics = d;
	m->patient.updated = updated;
}
