/*
 * node/identity/identity_text.h: patient-identity text: normalised demographics (idn_) and
 * the string, phonetic, date and nickname comparators (idc_) that record matching scores.
 *
 * Everything here is pure: no allocation, no global state, no locks; every function is
 * thread-safe and bounded. Names and other fields are cut to their buffer sizes; the
 * comparators look at the first IDC_MAX bytes of each string and ignore the rest.
 *
 * Normalised text is lowercase ASCII. The phonetic codes (soundex, NYSIIS) are uppercase,
 * as jellyfish returns them. The comparators give the same results as python3-jellyfish
 * (0.8.9) on lowercase ASCII input; tests/unit/identity_oracle.py checks that.
 */
#ifndef HX_IDENTITY_TEXT_H
#define HX_IDENTITY_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define IDN_STR 48       /* a normalised name or street, with its NUL */
#define IDN_ALT 8        /* other family names kept */
#define IDN_IDENT_MAX 4  /* identifiers kept */
#define IDN_SYS_SSN "2.16.840.1.113883.4.1"

#define IDC_MAX 64       /* the comparators use at most this many bytes of each string */

struct idn_ident {
	char system[64]; /* as given, surrounding white space trimmed, cut at 63 bytes */
	char value[32];  /* ASCII letters and digits only, lowercased, cut at 31 */
};

/* One person's demographics, normalised for matching. An empty string or a 0 means
 * "not known". */
struct idn_record {
	/* Primary family name (the first OFFICIAL name; else the first name that is not
	 * MAIDEN, PREVIOUS or NICKNAME; else the first name): letters a-z only, parts joined
	 * ("Smith-Jones" -> "smithjones"). */
	char family[IDN_STR];
	/* Each part of a multi-part primary family name ("smith", "jones"), then the family
	 * name of every other name (maiden, previous, ...) and its parts, in order. A part
	 * that is a particle (van, der, de, la, y, ...) is no alternative on its own. No
	 * duplicates, never equal to `family`, at most IDN_ALT (the rest are dropped). */
	char family_alt[IDN_ALT][IDN_STR];
	size_t n_family_alt;
	/* First and second given name of the primary name, a-z only. The given names are
	 * split on white space, so given "Mary Ann" gives given "mary", middle "ann". */
	char given[IDN_STR];
	char middle[IDN_STR];
	/* idc_nickname_canon(given) ("bill" -> "william"), else a copy of given. */
	char given_canon[IDN_STR];
	/* From birth_date "YYYY-MM-DD" (a trailing time is ignored; "YYYY" and "YYYY-MM" give
	 * the known parts). Year 1800..2200, month 1..12, day valid for the month; 0 = missing
	 * or unparsable (a bad month drops the day too). */
	uint16_t birth_year;
	uint8_t birth_month, birth_day;
	uint8_t sex; /* 0 unknown/unspecified, 1 female, 2 male, 3 other */
	/* The address used is the first one whose use is not OLD (else the first). */
	/* Letters and digits, lowercased, everything else dropped; a 9-digit all-digit code
	 * (US ZIP+4) is cut to 5. Cut at 11. */
	char postcode[12];
	/* Leading house number of the first address line, letters and digits ("6", "12a"),
	 * or "" when the line does not start with a digit. */
	char street_number[12];
	/* The rest of the first address line: lowercase words of letters and digits joined
	 * by single spaces, accents folded, punctuation dropped, street-type abbreviations
	 * expanded (st -> street, rd -> road, ave/av -> avenue, dr -> drive, ...) except in
	 * the first word of a multi-word street ("St Kilda Rd" -> "st kilda road"). */
	char street[IDN_STR];
	char locality[IDN_STR]; /* city: lowercase a-z words joined by single spaces */
	char state[16];         /* lowercase a-z only */
	/* Digits of the first PHONE contact point, up to the first letter after a digit (so
	 * an extension is left out); the last 10 digits at most. */
	char phone[16];
	/* The first IDN_IDENT_MAX identifiers whose normalised value is not empty. */
	struct idn_ident ident[IDN_IDENT_MAX];
	size_t n_ident;
};

/* Normalise demographics into *out (every field is written). NULL strings and NULL
 * elements are treated as empty. Never fails: what cannot be used is left empty. */
void idn_from_demographics(const Hie__V1__Demographics *d, struct idn_record *out);

/* A normalised record in a compact form (identity_pack.c), stored with each patient so
 * that candidate search reads it instead of normalising the demographics again.
 * IDN_PACK_VERSION names the layout AND the normalisation rules: change it whenever what
 * idn_from_demographics produces changes (test_match_record in
 * tests/unit/test_identity_match.c holds a digest of the output for a fixed set of people
 * and fails until you do); records of another version are not used. idn_pack returns the length written, 0 if cap is too small;
 * idn_unpack returns HX_OK, HX_EVERSION or HX_ECORRUPT. */
#define IDN_PACK_VERSION 1
#define IDN_PACK_MAX 1280
size_t idn_pack(const struct idn_record *r, uint8_t *out, size_t cap);
int idn_unpack(const uint8_t *in, size_t len, struct idn_record *out);

/* Normalise one name into out[size]: UTF-8 Latin letters folded to ASCII (é -> e,
 * ß -> ss, æ -> ae, ø -> o, ł -> l, ñ -> n, œ -> oe, þ -> th: all of Latin-1 Supplement
 * and Latin Extended-A, and ș/ț), lowercased, a-z kept, everything else dropped
 * (apostrophes, hyphens, spaces, dots, digits: "Goldner995" -> "goldner"; other
 * characters and invalid UTF-8 bytes). Cut at size-1 bytes; out is always terminated
 * when size > 0. Returns strlen(out). */
size_t idn_name(const char *in, char *out, size_t size);

/* Split a family name on white space and hyphens into normalised parts (idn_name of each;
 * parts that normalise to "" are skipped). At most `max` parts; returns their count. */
size_t idn_name_parts(const char *in, char out[][IDN_STR], size_t max);

/* ---- comparators (on normalised ASCII strings; NULL is taken as "") ---------------------- */

/* Jaro similarity in [0, 1]; 0 when either string is empty. = jellyfish.jaro_similarity */
double idc_jaro(const char *a, const char *b);
/* Jaro-Winkler similarity (prefix scale 0.1, up to 4 characters, applied when Jaro > 0.7).
 * = jellyfish.jaro_winkler_similarity(a, b), whose long_tolerance defaults to False. */
double idc_jaro_winkler(const char *a, const char *b);
/* The same with the long-string adjustment: jellyfish.jaro_winkler_similarity(a, b, True). */
double idc_jaro_winkler_long(const char *a, const char *b);

/* American Soundex: the first character uppercased and 3 digits ("R163"), "" for "".
 * H and W do not separate letters with the same code; vowels do. = jellyfish.soundex */
void idc_soundex(const char *s, char out[5]);
/* NYSIIS code, uppercase and not truncated to 6 (at most strlen(s) characters), "" for "".
 * = jellyfish.nysiis of jellyfish 0.8's C implementation, whose rules differ from its
 * Python one (EV, SCH and PH emit their leading letters even after the same letter; a
 * trailing S is dropped *or* AY becomes Y, not both; a space ends the name). Cut at size-1;
 * returns strlen(out). */
size_t idc_nysiis(const char *s, char *out, size_t size);

/* Edit distances (insert, delete, substitute; the Damerau form also transposes adjacent
 * characters, unrestricted: = jellyfish.damerau_levenshtein_distance). */
int idc_levenshtein(const char *a, const char *b);
int idc_damerau_levenshtein(const char *a, const char *b);
/* min(idc_damerau_levenshtein(a, b), 2), in one pass and no table: what the matcher asks
 * ("at most one typo?"), without the (IDC_MAX + 2)² table the full distance fills. */
int idc_damerau_levenshtein_max1(const char *a, const char *b);

/* ---- dates ------------------------------------------------------------------------------- */

enum idc_date_level {
	IDC_DATE_MISSING = 0, /* either date lacks its year, month or day (or year > 9999) */
	IDC_DATE_EXACT,
	IDC_DATE_TRANSPOSED,  /* same year, day and month swapped (and they differ) */
	IDC_DATE_ONE_DIGIT,   /* YYYYMMDD: exactly one digit differs, or two adjacent swapped */
	IDC_DATE_DIFFERENT,
};
/* Compare two dates; the first level that holds, in the order of the enum. */
enum idc_date_level idc_date_compare(uint16_t y1, uint8_t m1, uint8_t d1, uint16_t y2,
                                     uint8_t m2, uint8_t d2);

/* ---- nicknames --------------------------------------------------------------------------- */

/* The canonical given name for a common English (and a few Spanish) nickname or spelling
 * variant of a normalised given name ("bill" -> "william", "peggy" -> "margaret",
 * "catherine" -> "katherine"); NULL when `given` is not in the table (canonical names
 * themselves give NULL). The result is a static string. */
const char *idc_nickname_canon(const char *given);
/* The table itself, sorted by nickname (for tests): entry i < idc_nickname_count(). */
size_t idc_nickname_count(void);
void idc_nickname_at(size_t i, const char **nick, const char **canon);

#endif
