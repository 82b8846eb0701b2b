/*
 * test_identity_text.c: node/identity text normalisation and comparators: names folded
 * from UTF-8 (accents, digits, invalid bytes, cuts), family-name parts, a whole
 * Demographics normalised (primary and other names, date, sex, address, phone,
 * identifiers), nicknames, birth-date levels, and known comparator values (the full
 * agreement with jellyfish is identity_oracle.py's job).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "identity_text.h"

/* ---- names -------------------------------------------------------------------------------- */

static void name_is(const char *in, const char *want)
{
	char out[IDN_STR];
	size_t n = idn_name(in, out, sizeof(out));
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_name_fold(void **state)
{
	(void)state;
	name_is("José", "jose");
	name_is("Müller", "muller");
	name_is("MÜLLER", "muller");
	name_is("Łukasz", "lukasz");
	name_is("Straße", "strasse");
	name_is("O'Brien", "obrien");
	name_is("O’Brien", "obrien"); /* U+2019 */
	name_is("Goldner995", "goldner");
	name_is("Smith-Jones", "smithjones");
	name_is("Garcia Lopez", "garcialopez");
	name_is("St. John", "stjohn");
	name_is("Ægir Þórsson", "aegirthorsson");
	name_is("Søren Kierkegaard", "sorenkierkegaard");
	name_is("Œdipe", "oedipe");
	name_is("Ĳsbrand", "ijsbrand");
	name_is("Dvořák", "dvorak");
	name_is("Nuñez", "nunez");
	name_is("Ștefănescu", "stefanescu");
	name_is("ſ", "s");
	name_is("Ÿvonne", "yvonne");
	name_is("e\xcc\x81mile", "emile"); /* combining acute: the mark is dropped */
	name_is("Ivanov Иванов", "ivanov"); /* other scripts are dropped */
	name_is("", "");
	name_is(NULL, "");
	name_is("1234 -- '", "");
}

static void test_name_invalid_utf8(void **state)
{
	(void)state;
	name_is("Jo\xff\xfese", "jose");         /* bytes that never start UTF-8 */
	name_is("\xc3\x28" "abc", "abc");         /* a lead byte without its continuation */
	name_is("abc\xc3", "abc");                /* cut mid-character at the end */
	name_is("\xc0\xa9" "x", "x");             /* overlong encodings */
	name_is("\xe0\x83\x80" "x", "x");         /* overlong U+00C0 is not "a" */
	name_is("\xed\xa0\x80" "y", "y");         /* a UTF-16 surrogate */
	name_is("\xf4\x90\x80\x80" "z", "z");     /* past U+10FFFF */
	name_is("\x80\x80\x80" "\xc3\xa9", "e"); /* stray continuation bytes */
}

static void test_name_cut(void **state)
{
	char in[501], out[IDN_STR], small[4];
	(void)state;

	memset(in, 'a', 500);
	in[500] = '\0';
	assert_int_equal(idn_name(in, out, sizeof(out)), IDN_STR - 1);
	assert_int_equal(strlen(out), IDN_STR - 1);
	for (size_t i = 0; i + 1 < 500; i += 2) { /* 250 x "é" */
		in[i] = '\xc3';
		in[i + 1] = '\xa9';
	}
	assert_int_equal(idn_name(in, out, sizeof(out)), IDN_STR - 1);
	assert_int_equal(out[0], 'e');
	assert_int_equal(idn_name("ßßß", small, sizeof(small)), 3); /* a cut inside "ss" */
	assert_string_equal(small, "sss");
	small[0] = 'q';
	assert_int_equal(idn_name("abc", small, 0), 0);
	assert_int_equal(small[0], 'q');
	assert_int_equal(idn_name("abc", small, 1), 0);
	assert_string_equal(small, "");
}

static void test_name_parts(void **state)
{
	char parts[4][IDN_STR];
	(void)state;

	assert_int_equal(idn_name_parts("Garcia Lopez", parts, 4), 2);
	assert_string_equal(parts[0], "garcia");
	assert_string_equal(parts[1], "lopez");
	assert_int_equal(idn_name_parts("Smith-Jones", parts, 4), 2);
	assert_string_equal(parts[0], "smith");
	assert_string_equal(parts[1], "jones");
	assert_int_equal(idn_name_parts("  de la  Peña--Ruíz 2 ", parts, 4), 4);
	assert_string_equal(parts[2], "pena");
	assert_string_equal(parts[3], "ruiz");
	assert_int_equal(idn_name_parts("a b c d e f", parts, 3), 3);
	assert_string_equal(parts[2], "c");
	assert_int_equal(idn_name_parts("O'Neil", parts, 4), 1);
	assert_string_equal(parts[0], "oneil");
	assert_int_equal(idn_name_parts("", parts, 4), 0);
	assert_int_equal(idn_name_parts(" - 99 -", parts, 4), 0);
}

/* ---- demographics ------------------------------------------------------------------------- */

static bool has_alt(const struct idn_record *r, const char *s)
{
	for (size_t i = 0; i < r->n_family_alt; i++)
		if (strcmp(r->family_alt[i], s) == 0)
			return true;
	return false;
}

static void test_demographics_names(void **state)
{
	Hie__V1__HumanName official = HIE__V1__HUMAN_NAME__INIT, maiden = HIE__V1__HUMAN_NAME__INIT,
			   previous = HIE__V1__HUMAN_NAME__INIT;
	Hie__V1__HumanName *names[] = {&maiden, &official, &previous};
	char *given[] = {(char *)"Bill", (char *)"Henry"};
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	struct idn_record r;
	(void)state;

	maiden.use = HIE__V1__NAME_USE__NAME_USE_MAIDEN;
	maiden.family = (char *)"García López";
	official.use = HIE__V1__NAME_USE__NAME_USE_OFFICIAL;
	official.family = (char *)"Smith-Jones";
	official.n_given = 2;
	official.given = given;
	previous.use = HIE__V1__NAME_USE__NAME_USE_PREVIOUS;
	previous.family = (char *)"SMITH";
	d.n_names = 3;
	d.names = names;

	idn_from_demographics(&d, &r);
	assert_string_equal(r.family, "smithjones");
	assert_string_equal(r.given, "bill");
	assert_string_equal(r.middle, "henry");
	assert_string_equal(r.given_canon, "william");
	/* parts of the official name first, then the maiden name and its parts; "smith" once */
	assert_int_equal(r.n_family_alt, 5);
	assert_string_equal(r.family_alt[0], "smith");
	assert_string_equal(r.family_alt[1], "jones");
	assert_string_equal(r.family_alt[2], "garcialopez");
	assert_string_equal(r.family_alt[3], "garcia");
	assert_string_equal(r.family_alt[4], "lopez");
	assert_false(has_alt(&r, "smithjones"));

	/* No OFFICIAL name: the first that is not maiden/previous/nickname is primary. */
	official.use = HIE__V1__NAME_USE__NAME_USE_USUAL;
	official.n_given = 1;
	given[0] = (char *)"Mary Ann";
	idn_from_demographics(&d, &r);
	assert_string_equal(r.family, "smithjones");
	assert_string_equal(r.given, "mary");
	assert_string_equal(r.middle, "ann");
	assert_string_equal(r.given_canon, "mary");

	/* Only maiden names: the first is primary; a particle is no alternative on its own. */
	official.use = HIE__V1__NAME_USE__NAME_USE_MAIDEN;
	official.family = (char *)"van der Berg";
	d.n_names = 2;
	idn_from_demographics(&d, &r);
	assert_string_equal(r.family, "garcialopez");
	assert_true(has_alt(&r, "vanderberg"));
	assert_true(has_alt(&r, "berg"));
	assert_false(has_alt(&r, "van"));
	assert_false(has_alt(&r, "der"));
	assert_true(has_alt(&r, "garcia"));

	/* Many names: at most IDN_ALT alternatives, no duplicates. */
	Hie__V1__HumanName many[12];
	Hie__V1__HumanName *many_p[12];
	static const char *const fams[] = {"Primary", "A-B", "C D", "E", "F", "G", "A",
	                                   "H",       "I",   "J",   "K", "L"};
	for (size_t i = 0; i < 12; i++) {
		Hie__V1__HumanName init = HIE__V1__HUMAN_NAME__INIT;
		many[i] = init;
		many[i].family = (char *)fams[i];
		many_p[i] = &many[i];
	}
	d.n_names = 12;
	d.names = many_p;
	idn_from_demographics(&d, &r);
	assert_string_equal(r.family, "primary");
	assert_int_equal(r.n_family_alt, IDN_ALT);
	for (size_t i = 0; i < r.n_family_alt; i++)
		for (size_t j = i + 1; j < r.n_family_alt; j++)
			assert_string_not_equal(r.family_alt[i], r.family_alt[j]);
	assert_string_equal(r.family_alt[0], "ab");
	assert_string_equal(r.family_alt[1], "a");

	/* Nothing at all. */
	Hie__V1__Demographics empty = HIE__V1__DEMOGRAPHICS__INIT;
	idn_from_demographics(&empty, &r);
	assert_string_equal(r.family, "");
	assert_int_equal(r.n_family_alt, 0);
	assert_int_equal(r.birth_year, 0);
	idn_from_demographics(NULL, &r);
	assert_string_equal(r.given_canon, "");
}

static void date_is(const char *s, unsigned y, unsigned m, unsigned dd)
{
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	struct idn_record r;

	d.birth_date = (char *)s;
	idn_from_demographics(&d, &r);
	assert_int_equal(r.birth_year, y);
	assert_int_equal(r.birth_month, m);
	assert_int_equal(r.birth_day, dd);
}

static void test_demographics_date_sex(void **state)
{
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	struct idn_record r;
	(void)state;

	date_is("1980-03-04", 1980, 3, 4);
	date_is("2000-02-29", 2000, 2, 29);
	date_is("1900-02-29", 1900, 2, 0); /* not a leap year */
	date_is("1980-03-04T10:00:00Z", 1980, 3, 4);
	date_is("1980-03", 1980, 3, 0);
	date_is("1980", 1980, 0, 0);
	date_is("1980-13-04", 1980, 0, 0);
	date_is("1980-04-31", 1980, 4, 0);
	date_is("1700-01-01", 0, 0, 0);
	date_is("80-03-04", 0, 0, 0);
	date_is("19800304", 0, 0, 0);
	date_is("", 0, 0, 0);
	date_is(NULL, 0, 0, 0);

	static const struct {
		Hie__V1__Sex in;
		uint8_t out;
	} sexes[] = {{HIE__V1__SEX__SEX_UNSPECIFIED, 0}, {HIE__V1__SEX__SEX_FEMALE, 1},
	             {HIE__V1__SEX__SEX_MALE, 2},        {HIE__V1__SEX__SEX_OTHER, 3},
	             {HIE__V1__SEX__SEX_UNKNOWN, 0},     {(Hie__V1__Sex)99, 0}};
	for (size_t i = 0; i < HX_ARRAY_SIZE(sexes); i++) {
		d.sex = sexes[i].in;
		idn_from_demographics(&d, &r);
		assert_int_equal(r.sex, sexes[i].out);
	}
}

static struct idn_record with_address(const char *line, const char *city, const char *state,
                                      const char *postcode)
{
	Hie__V1__Address old = HIE__V1__ADDRESS__INIT, a = HIE__V1__ADDRESS__INIT;
	Hie__V1__Address *addrs[] = {&old, &a};
	char *old_lines[] = {(char *)"1 Old Rd"};
	char *lines[] = {(char *)line};
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	struct idn_record r;

	old.use = HIE__V1__ADDRESS_USE__ADDRESS_USE_OLD; /* passed over for the current one */
	old.n_lines = 1;
	old.lines = old_lines;
	old.postal_code = (char *)"99999";
	a.use = HIE__V1__ADDRESS_USE__ADDRESS_USE_HOME;
	a.n_lines = 1;
	a.lines = lines;
	a.city = (char *)city;
	a.state = (char *)state;
	a.postal_code = (char *)postcode;
	d.n_addresses = 2;
	d.addresses = addrs;
	idn_from_demographics(&d, &r);
	return r;
}

static void test_demographics_address(void **state)
{
	struct idn_record r;
	(void)state;

	r = with_address("6 Tullaroop St", "Maryborough", "VIC", "3465");
	assert_string_equal(r.street_number, "6");
	assert_string_equal(r.street, "tullaroop street");
	assert_string_equal(r.locality, "maryborough");
	assert_string_equal(r.state, "vic");
	assert_string_equal(r.postcode, "3465");

	r = with_address("10 Downing Street", "London", "", "SW1A 1AA");
	assert_string_equal(r.postcode, "sw1a1aa");
	assert_string_equal(r.street, "downing street");

	r = with_address("  12A,  Main   Ave. Apt 4", "Winston-Salem", "N.C.", "02139-1234");
	assert_string_equal(r.postcode, "02139");
	assert_string_equal(r.street_number, "12a");
	assert_string_equal(r.street, "main avenue apt 4");
	assert_string_equal(r.locality, "winston salem");
	assert_string_equal(r.state, "nc");

	r = with_address("St Kilda Rd", "St. Kilda  East", "Victoria", "021391234");
	assert_string_equal(r.street_number, "");
	assert_string_equal(r.street, "st kilda road");
	assert_string_equal(r.locality, "st kilda east");
	assert_string_equal(r.postcode, "02139");

	r = with_address("12-14 Rue de l'Église", "Montréal", "Québec", "H2X 1Y4");
	assert_string_equal(r.street_number, "12");
	assert_string_equal(r.street, "rue de leglise");
	assert_string_equal(r.locality, "montreal");
	assert_string_equal(r.state, "quebec");
	assert_string_equal(r.postcode, "h2x1y4");

	r = with_address("Dr", "", "", "");
	assert_string_equal(r.street, "drive");
	assert_string_equal(r.postcode, "");

	/* Long values are cut to their fields. */
	r = with_address("123456789012345 Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa St",
	                 "Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	                 "New South Wales Territory", "ABCDEFGHIJKLMNOP");
	assert_string_equal(r.street_number, "12345678901");
	assert_int_equal(strlen(r.street), IDN_STR - 1);
	assert_int_equal(strlen(r.locality), IDN_STR - 1);
	assert_int_equal(strlen(r.state), 15);
	assert_string_equal(r.postcode, "abcdefghijk");
}

static void test_demographics_phone_ident(void **state)
{
	Hie__V1__ContactPoint email = HIE__V1__CONTACT_POINT__INIT,
			      tel = HIE__V1__CONTACT_POINT__INIT, tel2 = HIE__V1__CONTACT_POINT__INIT;
	Hie__V1__ContactPoint *telecom[] = {&email, &tel, &tel2};
	Hie__V1__Identifier ssn = HIE__V1__IDENTIFIER__INIT, blank = HIE__V1__IDENTIFIER__INIT,
			    mrn = HIE__V1__IDENTIFIER__INIT, more[4];
	Hie__V1__Identifier *ids[7] = {&blank, &ssn, &mrn};
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	struct idn_record r;
	(void)state;

	email.system = HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_EMAIL;
	email.value = (char *)"ann@example.org";
	tel.system = HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_PHONE;
	tel.value = (char *)"+1 (617) 555-0100";
	tel2.system = HIE__V1__CONTACT_SYSTEM__CONTACT_SYSTEM_PHONE;
	tel2.value = (char *)"0400 000 000";
	d.n_telecom = 3;
	d.telecom = telecom;

	ssn.system = (char *)"  " IDN_SYS_SSN "\t";
	ssn.value = (char *)"123-45-6789";
	blank.system = (char *)"urn:oid:1.2.3";
	blank.value = (char *)" - ";
	mrn.system = (char *)"2.16.840.1.113883.3.7001";
	mrn.value = (char *)"MRN-00A7";
	d.n_identifiers = 3;
	d.identifiers = ids;

	idn_from_demographics(&d, &r);
	assert_string_equal(r.phone, "6175550100");
	assert_int_equal(r.n_ident, 2);
	assert_string_equal(r.ident[0].system, IDN_SYS_SSN);
	assert_string_equal(r.ident[0].value, "123456789");
	assert_string_equal(r.ident[1].system, "2.16.840.1.113883.3.7001");
	assert_string_equal(r.ident[1].value, "mrn00a7");

	tel.value = (char *)"(03) 5461-1234 ext. 56";
	for (size_t i = 0; i < 4; i++) {
		Hie__V1__Identifier init = HIE__V1__IDENTIFIER__INIT;
		more[i] = init;
		more[i].system = (char *)"s";
		more[i].value = (char *)"v";
		ids[3 + i] = &more[i];
	}
	d.n_identifiers = 7;
	idn_from_demographics(&d, &r);
	assert_string_equal(r.phone, "0354611234");
	assert_int_equal(r.n_ident, IDN_IDENT_MAX);
	assert_string_equal(r.ident[3].value, "v");

	tel.value = (char *)"555-0100";
	idn_from_demographics(&d, &r);
	assert_string_equal(r.phone, "5550100");
}

/* ---- nicknames ---------------------------------------------------------------------------- */

static void test_nicknames(void **state)
{
	const char *prev = NULL, *nick, *canon;
	(void)state;

	assert_string_equal(idc_nickname_canon("bill"), "william");
	assert_string_equal(idc_nickname_canon("billy"), "william");
	assert_string_equal(idc_nickname_canon("will"), "william");
	assert_string_equal(idc_nickname_canon("willy"), "william");
	assert_string_equal(idc_nickname_canon("bob"), "robert");
	assert_string_equal(idc_nickname_canon("robbie"), "robert");
	assert_string_equal(idc_nickname_canon("kate"), "katherine");
	assert_string_equal(idc_nickname_canon("cathy"), "katherine");
	assert_string_equal(idc_nickname_canon("peggy"), "margaret");
	assert_string_equal(idc_nickname_canon("maggie"), "margaret");
	assert_string_equal(idc_nickname_canon("jimmy"), "james");
	assert_string_equal(idc_nickname_canon("abbie"), "abigail"); /* first entry */
	assert_string_equal(idc_nickname_canon("zeke"), "ezekiel");  /* last entry */
	assert_null(idc_nickname_canon("liam"));
	assert_null(idc_nickname_canon("william"));
	assert_null(idc_nickname_canon("zzz"));
	assert_null(idc_nickname_canon("aaa"));
	assert_null(idc_nickname_canon("Bill")); /* normalised input only */
	assert_null(idc_nickname_canon(""));
	assert_null(idc_nickname_canon(NULL));

	/* The table is sorted (bisection depends on it), has no duplicate and no chain. */
	assert_in_range(idc_nickname_count(), 150, 300);
	for (size_t i = 0; i < idc_nickname_count(); i++) {
		idc_nickname_at(i, &nick, &canon);
		if (prev != NULL)
			assert_true(strcmp(prev, nick) < 0);
		assert_string_not_equal(nick, canon);
		assert_null(idc_nickname_canon(canon));
		assert_string_equal(idc_nickname_canon(nick), canon);
		prev = nick;
	}
	idc_nickname_at(idc_nickname_count(), &nick, &canon);
	assert_null(nick);
}

/* ---- dates -------------------------------------------------------------------------------- */

static void test_dates(void **state)
{
	(void)state;
	assert_int_equal(idc_date_compare(1980, 3, 4, 1980, 3, 4), IDC_DATE_EXACT);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1980, 4, 3), IDC_DATE_TRANSPOSED);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1981, 3, 4), IDC_DATE_ONE_DIGIT);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1980, 3, 5), IDC_DATE_ONE_DIGIT);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1908, 3, 4), IDC_DATE_ONE_DIGIT);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1980, 3, 40), IDC_DATE_ONE_DIGIT);
	assert_int_equal(idc_date_compare(1980, 12, 1, 1980, 11, 2), IDC_DATE_DIFFERENT);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1975, 6, 9), IDC_DATE_DIFFERENT);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1981, 4, 3), IDC_DATE_DIFFERENT);
	assert_int_equal(idc_date_compare(1980, 3, 3, 1980, 3, 3), IDC_DATE_EXACT);
	assert_int_equal(idc_date_compare(1980, 1, 10, 1980, 10, 1), IDC_DATE_TRANSPOSED);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1980, 3, 43), IDC_DATE_DIFFERENT);
	assert_int_equal(idc_date_compare(1980, 3, 4, 1980, 3, 0), IDC_DATE_MISSING);
	assert_int_equal(idc_date_compare(0, 3, 4, 1980, 3, 4), IDC_DATE_MISSING);
	assert_int_equal(idc_date_compare(1980, 0, 4, 1980, 3, 4), IDC_DATE_MISSING);
	assert_int_equal(idc_date_compare(12000, 3, 4, 12000, 3, 4), IDC_DATE_MISSING);
	/* Against the definition written with printf (digits of YYYYMMDD): dates close to one
	 * another, so that one-digit and swapped-digit cases come up often. */
	{
		unsigned seed = 777;
		for (int k = 0; k < 200000; k++) {
			unsigned r[6];
			char s1[16], s2[16];
			size_t diff[8], nd = 0;
			enum idc_date_level want;
			for (int q = 0; q < 6; q++)
				r[q] = (seed = seed * 1103515245u + 12345u) >> 16;
			unsigned y1 = 1 + r[0] % 9999, m1 = 1 + r[1] % 99, d1 = 1 + r[2] % 99;
			unsigned y2 = r[3] % 2 ? y1 : 1 + r[3] % 9999, m2 = r[4] % 3 ? m1 : 1 + r[4] % 99,
			         d2 = r[5] % 3 ? d1 : 1 + r[5] % 99;
			if (r[5] % 5 == 0)
				y2 = y1 + 9 * ((r[5] >> 4) % 2) + 90 * ((r[5] >> 5) % 2) <= 9999
				         ? y1 + 9 * ((r[5] >> 4) % 2) + 90 * ((r[5] >> 5) % 2)
				         : y1;
			snprintf(s1, sizeof(s1), "%04u%02u%02u", y1, m1, d1);
			snprintf(s2, sizeof(s2), "%04u%02u%02u", y2, m2, d2);
			for (size_t i = 0; i < 8; i++)
				if (s1[i] != s2[i])
					diff[nd++] = i;
			if (y1 == y2 && m1 == m2 && d1 == d2)
				want = IDC_DATE_EXACT;
			else if (y1 == y2 && m1 == d2 && d1 == m2 && m1 != d1)
				want = IDC_DATE_TRANSPOSED;
			else if (nd == 1 || (nd == 2 && diff[1] == diff[0] + 1 &&
			                     s1[diff[0]] == s2[diff[1]] && s1[diff[1]] == s2[diff[0]]))
				want = IDC_DATE_ONE_DIGIT;
			else
				want = IDC_DATE_DIFFERENT;
			assert_int_equal(idc_date_compare((uint16_t)y1, (uint8_t)m1, (uint8_t)d1,
			                                  (uint16_t)y2, (uint8_t)m2, (uint8_t)d2),
			                 want);
		}
	}
}

/* ---- comparators -------------------------------------------------------------------------- */

static void test_comparators(void **state)
{
	char code[IDC_MAX + 1], sx[5], a70[71], b70[71];
	(void)state;

	/* Values from jellyfish 0.8.9 */
	assert_true(idc_jaro("martha", "marhta") == 0.9444444444444445);
	assert_true(idc_jaro_winkler("martha", "marhta") == 0.9611111111111111);
	assert_true(idc_jaro_winkler_long("martha", "marhta") == 0.9708333333333333);
	assert_true(idc_jaro_winkler("dwayne", "duane") == 0.8400000000000001);
	assert_true(idc_jaro_winkler("jellyfish", "smellyfish") == 0.8962962962962964);
	assert_true(idc_jaro_winkler_long("jellyfish", "smellyfish") == 0.9308641975308642);
	assert_true(idc_jaro_winkler("abc", "abc") == 1.0);
	assert_true(idc_jaro_winkler("", "abc") == 0.0);
	assert_true(idc_jaro_winkler(NULL, NULL) == 0.0);
	assert_true(idc_jaro("a", "b") == 0.0);

	static const struct {
		const char *in, *soundex, *nysiis;
	} codes[] = {
		{"robert", "R163", "RABAD"},     {"rupert", "R163", "RAPAD"},
		{"ashcraft", "A261", "ASCRAFT"}, {"tymczak", "T522", "TYNCSAC"},
		{"pfister", "P236", "FASTAR"},   {"honeyman", "H555", "HANAYNAN"},
		{"lloyd", "L300", "LAYD"},       {"knight", "K523", "NAGT"},
		{"macdonald", "M235", "MCDANALD"}, {"schmidt", "S530", "SNAD"},
		{"phillips", "P412", "FALAP"},   {"stevens", "S315", "STAFAN"},
		{"jay", "J000", "JY"},           {"ee", "E000", "Y"},
		{"a", "A000", "A"},              {"", "", ""},
		{"fhevoazho", "F120", "FAFASZ"}, {"kdejziuyz", "K322", "CDAJSAY"},
	};
	for (size_t i = 0; i < HX_ARRAY_SIZE(codes); i++) {
		idc_soundex(codes[i].in, sx);
		assert_string_equal(sx, codes[i].soundex);
		assert_int_equal(idc_nysiis(codes[i].in, code, sizeof(code)), strlen(codes[i].nysiis));
		assert_string_equal(code, codes[i].nysiis);
	}
	assert_int_equal(idc_nysiis("macdonald", code, 4), 3); /* cut to the buffer */
	assert_string_equal(code, "MCD");

	assert_int_equal(idc_levenshtein("kitten", "sitting"), 3);
	assert_int_equal(idc_levenshtein("", "abc"), 3);
	assert_int_equal(idc_levenshtein(NULL, "ab"), 2);
	assert_int_equal(idc_damerau_levenshtein("ca", "abc"), 2); /* unrestricted */
	assert_int_equal(idc_damerau_levenshtein("abcdef", "badcfe"), 3);
	assert_int_equal(idc_levenshtein("abcdef", "badcfe"), 4);
	assert_int_equal(idc_damerau_levenshtein("", ""), 0);

	/* Past IDC_MAX bytes nothing counts. */
	memset(a70, 'x', 70);
	memset(b70, 'x', 70);
	a70[70] = b70[70] = '\0';
	b70[66] = 'y';
	assert_int_equal(idc_levenshtein(a70, b70), 0);
	assert_int_equal(idc_damerau_levenshtein(a70, b70), 0);
	assert_int_equal(idc_damerau_levenshtein_max1(a70, b70), 0);
	assert_true(idc_jaro_winkler(a70, b70) == 1.0);
	assert_int_equal(idc_nysiis(a70, code, sizeof(code)), 1);
}

static int imin(int a, int b)
{
	return a < b ? a : b;
}

/* idc_damerau_levenshtein_max1 is min(idc_damerau_levenshtein, 2): on chosen cases, and on
 * every pair of a set of words with their one- and two-edit variants (random but seeded). */
static void test_within_one_edit(void **state)
{
	static const char *const words[] = {
	    "smith", "smyth", "simth", "smiht", "mith", "smithe", "johnson", "jonhson", "jonson",
	    "katherine", "kathrine", "katharine", "catherine", "ab", "ba", "a", "", "abc", "acb",
	    "bac", "cab", "abcd", "abdc", "badc", "ca", "2000", "2001", "20001", "0200", "1234567",
	    "1234576", "1243567", "2134567", "123456", "12345678", "maria", "mariah", "marie"};
	char vs[2000][12];
	size_t nv = 0;
	unsigned seed = 12345;
	(void)state;
	assert_int_equal(idc_damerau_levenshtein_max1("smith", "smith"), 0);
	assert_int_equal(idc_damerau_levenshtein_max1("smith", "smiht"), 1); /* swapped */
	assert_int_equal(idc_damerau_levenshtein_max1("smith", "smth"), 1);  /* deleted */
	assert_int_equal(idc_damerau_levenshtein_max1("smth", "smith"), 1);  /* inserted */
	assert_int_equal(idc_damerau_levenshtein_max1("smith", "smyth"), 1); /* substituted */
	assert_int_equal(idc_damerau_levenshtein_max1("smith", "msiht"), 2); /* two swaps */
	assert_int_equal(idc_damerau_levenshtein_max1("ca", "abc"), 2);
	assert_int_equal(idc_damerau_levenshtein_max1("", "a"), 1);
	assert_int_equal(idc_damerau_levenshtein_max1(NULL, "ab"), 2);
	for (size_t i = 0; i < HX_ARRAY_SIZE(words); i++)
		for (size_t j = 0; j < HX_ARRAY_SIZE(words); j++)
			assert_int_equal(idc_damerau_levenshtein_max1(words[i], words[j]),
			                 imin(idc_damerau_levenshtein(words[i], words[j]), 2));
	/* Variants over a small alphabet, so that one and two edits apart come up often. */
	for (size_t k = 0; k < HX_ARRAY_SIZE(vs); k++) {
		size_t len = (seed = seed * 1103515245u + 12345u) >> 16 & 7;
		for (size_t c = 0; c < len; c++)
			vs[k][c] = (char)('a' + ((seed = seed * 1103515245u + 12345u) >> 16) % 3);
		vs[k][len] = '\0';
		nv++;
	}
	for (size_t i = 0; i < nv; i += 7)
		for (size_t j = 0; j < nv; j += 3)
			assert_int_equal(idc_damerau_levenshtein_max1(vs[i], vs[j]),
			                 imin(idc_damerau_levenshtein(vs[i], vs[j]), 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_fold),
		cmocka_unit_test(test_within_one_edit),
		cmocka_unit_test(test_name_invalid_utf8),
		cmocka_unit_test(test_name_cut),
		cmocka_unit_test(test_name_parts),
		cmocka_unit_test(test_demographics_names),
		cmocka_unit_test(test_demographics_date_sex),
		cmocka_unit_test(test_demographics_address),
		cmocka_unit_test(test_demographics_phone_ident),
		cmocka_unit_test(test_nicknames),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_comparators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
