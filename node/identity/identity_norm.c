/* identity_norm.c: demographics normalised for matching: names folded to a-z, dates split,
 * addresses, phone and identifiers reduced to the characters that carry identity. No
 * allocation; every output is cut to its field. See identity_text.h. */
#include "identity_text.h"

#include <stdbool.h>
#include <string.h>

/* Input bytes looked at per field: past this a value is not a name or an address. */
#define SCAN_MAX 1024

static const char *str0(const char *s)
{
	return s != NULL ? s : "";
}

/* ---- UTF-8 to ASCII ----------------------------------------------------------------------- */

/* U+00C0..U+00FF and U+0100..U+017F: the ASCII letter each folds to. Upper case stands for
 * two letters (A ae, T th, S ss, J ij, O oe), '-' for none (multiplication, division). */
static const char latin1[] = "aaaaaaAc" "eeeeiiii" "dnooooo-" "ouuuuyTS"
                             "aaaaaaAc" "eeeeiiii" "dnooooo-" "ouuuuyTy";
static const char latin_ext_a[] = "aaaaaacc" "ccccccdd" "ddeeeeee" "eeeegggg"
                                  "gggghhhh" "iiiiiiii" "iiJJjjkk" "klllllll"
                                  "lllnnnnn" "nnnnoooo" "ooOOrrrr" "rrssssss"
                                  "sstttttt" "uuuuuuuu" "uuuuwwyy" "yzzzzzzs";
_Static_assert(sizeof(latin1) == 65 && sizeof(latin_ext_a) == 129, "fold tables");

/* The ASCII for one code point ("" when it has none). `buf` holds a one-letter answer. */
static const char *fold_cp(uint32_t cp, char buf[2])
{
	char c = 0;

	if (cp < 0x80) {
		c = (char)cp;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
	} else if (cp >= 0xC0 && cp <= 0xFF) {
		c = latin1[cp - 0xC0];
	} else if (cp >= 0x100 && cp <= 0x17F) {
		c = latin_ext_a[cp - 0x100];
	} else if (cp == 0x218 || cp == 0x219) { /* Ș ș */
		c = 's';
	} else if (cp == 0x21A || cp == 0x21B) { /* Ț ț */
		c = 't';
	} else if (cp == 0x1A0 || cp == 0x1A1) { /* Ơ ơ */
		c = 'o';
	} else if (cp == 0x1AF || cp == 0x1B0) { /* Ư ư */
		c = 'u';
	} else if (cp == 0x1E9E) { /* ẞ */
		c = 'S';
	}
	switch (c) {
	case 'A': return "ae";
	case 'T': return "th";
	case 'S': return "ss";
	case 'J': return "ij";
	case 'O': return "oe";
	case '-':
	case 0: return "";
	default:
		buf[0] = c;
		buf[1] = '\0';
		return buf;
	}
}

/* Decode one UTF-8 character at *pp (before end), advancing past it. An invalid, overlong
 * or truncated sequence yields U+FFFD and advances one byte. */
static uint32_t utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t cp;
	size_t n;

	*pp = p + 1;
	if (p[0] < 0x80)
		return p[0];
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 1;
		cp = p[0] & 0x1Fu;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 2;
		cp = p[0] & 0x0Fu;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 3;
		cp = p[0] & 0x07u;
	} else {
		return 0xFFFD;
	}
	if ((size_t)(end - p) <= n)
		return 0xFFFD;
	for (size_t i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0xFFFD;
		cp = cp << 6 | (p[i] & 0x3Fu);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0xFFFD;
	*pp = p + 1 + n;
	return cp;
}

static bool is_apostrophe(uint32_t cp)
{
	return cp == '\'' || cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == '`';
}

/*
 * Fold in[0..len) into out[size]: letters (accents folded) and, with `digits`, ASCII digits
 * are kept, lowercased. Without `words` everything else vanishes; with it apostrophes
 * vanish and any other run of characters becomes one space, none at either end. Cut at
 * size-1 bytes (a cut never leaves a trailing space). Returns strlen(out).
 */
static size_t fold_text(const char *in, size_t len, char *out, size_t size, bool digits,
                        bool words)
{
	const unsigned char *p = (const unsigned char *)in, *end;
	size_t o = 0;
	bool gap = false;
	char one[2];

	if (size == 0)
		return 0;
	if (len > SCAN_MAX)
		len = SCAN_MAX;
	end = p + len;
	while (p < end && o + 1 < size) {
		uint32_t cp = utf8_next(&p, end);
		const char *r = fold_cp(cp, one);
		bool keep = (r[0] >= 'a' && r[0] <= 'z') || (digits && cp >= '0' && cp <= '9');
		if (!keep) {
			if (words && !is_apostrophe(cp) && o > 0)
				gap = true;
			continue;
		}
		if (gap) {
			out[o++] = ' ';
			gap = false;
		}
		for (; *r != '\0' && o + 1 < size; r++)
			out[o++] = *r;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

size_t idn_name(const char *in, char *out, size_t size)
{
	in = str0(in);
	return fold_text(in, strnlen(in, SCAN_MAX), out, size, false, false);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t idn_name_parts(const char *in, char out[][IDN_STR], size_t max)
{
	size_t n = 0, len;
	const char *p, *end;

	in = str0(in);
	len = strnlen(in, SCAN_MAX);
	end = in + len;
	for (p = in; p < end && n < max;) {
		while (p < end && (is_space(*p) || *p == '-'))
			p++;
		const char *s = p;
		while (p < end && !is_space(*p) && *p != '-')
			p++;
		if (p > s && fold_text(s, (size_t)(p - s), out[n], IDN_STR, false, false) > 0)
			n++;
	}
	return n;
}

/* ---- names -------------------------------------------------------------------------------- */

/* Family-name particles: kept inside the joined name, never an alternative on their own. */
static bool particle(const char *s)
{
	static const char *const words[] = {"al",  "bin", "da",  "das", "de", "del", "della",
	                                    "den", "der", "di",  "do",  "dos", "du", "e",
	                                    "el",  "ibn", "la",  "las", "le", "les", "los",
	                                    "st",  "ten", "ter", "van", "von", "y"};
	for (size_t i = 0; i < HX_ARRAY_SIZE(words); i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	return false;
}

static void alt_add(struct idn_record *r, const char *s)
{
	if (s[0] == '\0' || strcmp(s, r->family) == 0 || r->n_family_alt == IDN_ALT)
		return;
	for (size_t i = 0; i < r->n_family_alt; i++)
		if (strcmp(s, r->family_alt[i]) == 0)
			return;
	memcpy(r->family_alt[r->n_family_alt++], s, strlen(s) + 1);
}

/* The family name (joined) and, when it has several, its parts. */
static void alt_add_family(struct idn_record *r, const char *family, bool joined)
{
	char parts[IDN_ALT][IDN_STR], whole[IDN_STR];
	size_t n = idn_name_parts(family, parts, IDN_ALT);

	if (joined) {
		idn_name(family, whole, sizeof(whole));
		alt_add(r, whole);
	}
	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++)
		if (!particle(parts[i]))
			alt_add(r, parts[i]);
}

/* The primary name: the first OFFICIAL; else the first not MAIDEN, PREVIOUS or NICKNAME;
 * else the first. -1 when there is none. */
static long primary_name(const Hie__V1__Demographics *d)
{
	long other = -1;

	for (size_t i = 0; i < d->n_names; i++) {
		const Hie__V1__HumanName *nm = d->names[i];
		if (nm == NULL)
			continue;
		if (nm->use == HIE__V1__NAME_USE__NAME_USE_OFFICIAL)
			return (long)i;
		if (other < 0 && nm->use != HIE__V1__NAME_USE__NAME_USE_MAIDEN &&
		    nm->use != HIE__V1__NAME_USE__NAME_USE_PREVIOUS &&
		    nm->use != HIE__V1__NAME_USE__NAME_USE_NICKNAME)
			other = (long)i;
	}
	if (other < 0 && d->n_names > 0 && d->names[0] != NULL)
		other = 0;
	return other;
}

/* given and middle: the first two white-space separated words of the given names. */
static void given_names(const Hie__V1__HumanName *nm, struct idn_record *r)
{
	size_t got = 0;

	for (size_t i = 0; i < nm->n_given && got < 2; i++) {
		const char *g = str0(nm->given[i]), *end = g + strnlen(g, SCAN_MAX);
		for (const char *p = g; p < end && got < 2;) {
			while (p < end && is_space(*p))
				p++;
			const char *s = p;
			while (p < end && !is_space(*p))
				p++;
			char *dst = got == 0 ? r->given : r->middle;
			if (p > s && fold_text(s, (size_t)(p - s), dst, IDN_STR, false, false) > 0)
				got++;
		}
	}
}

static void names(const Hie__V1__Demographics *d, struct idn_record *r)
{
	long pi = primary_name(d);
	const char *canon;

	if (pi < 0)
		return;
	const Hie__V1__HumanName *pn = d->names[pi];
	idn_name(pn->family, r->family, sizeof(r->family));
	alt_add_family(r, str0(pn->family), false);
	given_names(pn, r);
	for (size_t i = 0; i < d->n_names; i++)
		if ((long)i != pi && d->names[i] != NULL)
			alt_add_family(r, str0(d->names[i]->family), true);
	canon = idc_nickname_canon(r->given);
	hx_strlcpy(r->given_canon, canon != NULL ? canon : r->given, sizeof(r->given_canon));
}

/* ---- birth date and sex ------------------------------------------------------------------- */

/* n decimal digits at s, or -1. */
static int digits_at(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

static void birth_date(const char *s, struct idn_record *r)
{
	int y = digits_at(s, 4), m, dd;

	if (y < 1800 || y > 2200 || (s[4] != '\0' && s[4] != '-'))
		return;
	r->birth_year = (uint16_t)y;
	if (s[4] != '-' || (m = digits_at(s + 5, 2)) < 1 || m > 12)
		return;
	r->birth_month = (uint8_t)m;
	if (s[7] != '-' || (dd = digits_at(s + 8, 2)) < 1 || dd > month_days(y, m))
		return;
	if (s[10] != '\0' && s[10] != 'T' && s[10] != ' ')
		return;
	r->birth_day = (uint8_t)dd;
}

static uint8_t sex_code(Hie__V1__Sex s)
{
	switch (s) {
	case HIE__V1__SEX__SEX_FEMALE: return 1;
	case HIE__V1__SEX__SEX_MALE: return 2;
	case HIE__V1__SEX__SEX_OTHER: return 3;
	default: return 0;
	}
}

/* ---- address ------------------------------------------------------------------------------ */

static const struct {
	const char *abbr;
	const char *word;
} street_types[] = {
	{"av", "avenue"},     {"ave", "avenue"},   {"blvd", "boulevard"}, {"cct", "circuit"},
	{"cir", "circle"},    {"cres", "crescent"}, {"crt", "court"},     {"ct", "court"},
	{"dr", "drive"},      {"hwy", "highway"},  {"ln", "lane"},        {"pde", "parade"},
	{"pkwy", "parkway"},  {"pl", "place"},     {"rd", "road"},        {"sq", "square"},
	{"st", "street"},     {"tce", "terrace"},
};

static const char *street_word(const char *w, size_t n)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(street_types); i++)
		if (strlen(street_types[i].abbr) == n && memcmp(street_types[i].abbr, w, n) == 0)
			return street_types[i].word;
	return NULL;
}

/* Append word w[0..n) to out (with a space before all but the first), cut at size-1. */
static void put_word(char *out, size_t size, size_t *o, const char *w, size_t n)
{
	if (*o > 0) {
		if (*o + 2 >= size)
			return;
		out[(*o)++] = ' ';
	}
	for (size_t i = 0; i < n && *o + 1 < size; i++)
		out[(*o)++] = w[i];
	out[*o] = '\0';
}

/* "6 Tullaroop St" -> number "6", street "tullaroop street". */
static void street_line(const char *line, struct idn_record *r)
{
	const char *p = line, *end = line + strnlen(line, SCAN_MAX);
	char words[IDN_STR * 2];
	size_t n = 0, o = 0;

	while (p < end && (is_space(*p) || *p == ','))
		p++;
	if (p < end && *p >= '0' && *p <= '9') {
		/* The house number: its digits and the letters right after ("12a"); the rest of
		 * the first word ("-14", "/3") is dropped. */
		while (p < end && *p >= '0' && *p <= '9' && n + 1 < sizeof(r->street_number))
			r->street_number[n++] = *p++;
		while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) &&
		       n + 1 < sizeof(r->street_number)) {
			r->street_number[n++] = (char)(*p | 0x20);
			p++;
		}
		r->street_number[n] = '\0';
		while (p < end && !is_space(*p) && *p != ',')
			p++;
	}
	fold_text(p, (size_t)(end - p), words, sizeof(words), true, true);

	/* Expand street-type words, except the first of several ("St Kilda"). */
	bool several = strchr(words, ' ') != NULL;
	for (const char *w = words; *w != '\0';) {
		const char *s = w, *full;
		while (*w != '\0' && *w != ' ')
			w++;
		size_t len = (size_t)(w - s);
		if ((s != words || !several) && (full = street_word(s, len)) != NULL)
			put_word(r->street, sizeof(r->street), &o, full, strlen(full));
		else
			put_word(r->street, sizeof(r->street), &o, s, len);
		if (*w == ' ')
			w++;
	}
}

static void postcode(const char *s, struct idn_record *r)
{
	char tmp[32];
	size_t n = 0;
	bool all_digits = true;

	for (size_t i = 0; i < SCAN_MAX && s[i] != '\0' && n + 1 < sizeof(tmp); i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			all_digits = all_digits && c <= '9';
			tmp[n++] = c;
		}
	}
	if (n == 9 && all_digits) /* US ZIP+4 */
		n = 5;
	tmp[n] = '\0';
	hx_strlcpy(r->postcode, tmp, sizeof(r->postcode));
}

static void address(const Hie__V1__Demographics *d, struct idn_record *r)
{
	const Hie__V1__Address *a = NULL;

	for (size_t i = 0; i < d->n_addresses && a == NULL; i++)
		if (d->addresses[i] != NULL &&
		    d->addresses[i]->use != HIE__V1__ADDRESS_USE__ADDRESS_USE_OLD)
			a = d->addresses[i];
	if (a == NULL && d->n_addresses > 0)
		a = d->addresses[0];
	if (a == NULL)
		return;
	if (a->n_lines > 0)
		street_line(str0(a->lines[0]), r);
	fold_text(str0(a->city), strnlen(str0(a->city), SCAN_MAX), r->locality,
	          sizeof(r->locality), false, true);
	fold_text(str0(a->state), strnlen(str0(a->state), SCAN_MAX), r->state, sizeof(r->state),
	          false, false);
	postcode(str0(a->postal_code), r);
}

/* ---- phone and identifiers ---------------------------------------------------------------- */

static void phone(const Hie__V1__Demographics *d, struct idn_record *r)
{
	char dig[64];
	size_t n = 0, keep;

	for (size_t i = 0; i < d->n_telecom; i++) {
		const Hie__V1__ContactPoint *t = d->telecom[i];
		if (t == NULL || t->system != HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_PHONE)
			continue;
		const char *v = str0(t->value);
		for (size_t j = 0; j < SCAN_MAX && v[j] != '\0' && n < sizeof(dig); j++) {
			char c = v[j];
			if (c >= '0' && c <= '9')
				dig[n++] = c;
			else if (n > 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
				break; /* "x12", "ext 12" */
		}
		break;
	}
	keep = n > 10 ? 10 : n;
	memcpy(r->phone, dig + (n - keep), keep);
	r->phone[keep] = '\0';
}

static void identifiers(const Hie__V1__Demographics *d, struct idn_record *r)
{
	for (size_t i = 0; i < d->n_identifiers && r->n_ident < IDN_IDENT_MAX; i++) {
		const Hie__V1__Identifier *id = d->identifiers[i];
		struct idn_ident *out = &r->ident[r->n_ident];
		size_t n = 0;

		if (id == NULL)
			continue;
		const char *v = str0(id->value);
		for (size_t j = 0; j < SCAN_MAX && v[j] != '\0' && n + 1 < sizeof(out->value); j++) {
			char c = v[j];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
				out->value[n++] = c;
		}
		out->value[n] = '\0';
		if (n == 0)
			continue;

		const char *s = str0(id->system), *e = s + strnlen(s, SCAN_MAX);
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		size_t len = (size_t)(e - s);
		if (len >= sizeof(out->system))
			len = sizeof(out->system) - 1;
		memcpy(out->system, s, len);
		out->system[len] = '\0';
		r->n_ident++;
	}
}

void idn_from_demographics(const Hie__V1__Demographics *d, struct idn_record *out)
{
	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return;
	names(d, out);
	birth_date(str0(d->birth_date), out);
	out->sex = sex_code(d->sex);
	address(d, out);
	phone(d, out);
	identifiers(d, out);
}
