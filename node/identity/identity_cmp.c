/* identity_cmp.c: string comparators (Jaro, Jaro-Winkler, edit distances), phonetic codes
 * (Soundex, NYSIIS) and the birth-date comparison. Written from the published definitions,
 * with jellyfish's choices where definitions differ; see identity_text.h. Fixed stack
 * arrays only: every string is cut at IDC_MAX bytes. */
#include "identity_text.h"

#include <stdbool.h>
#include <string.h>

/* strnlen cut at IDC_MAX, NULL as "". */
static size_t cut_len(const char *s)
{
	return s != NULL ? strnlen(s, IDC_MAX) : 0;
}

static int imin3(int a, int b, int c)
{
	int m = a < b ? a : b;
	return m < c ? m : c;
}

/* ---- Jaro and Jaro-Winkler ---------------------------------------------------------------- */

static double jaro_winkler(const char *a, const char *b, bool winkler, bool long_tol)
{
	size_t la = cut_len(a), lb = cut_len(b);
	bool fa[IDC_MAX] = {false}, fb[IDC_MAX] = {false};

	if (la == 0 || lb == 0)
		return 0.0;
	size_t longer = la > lb ? la : lb, min_len = la < lb ? la : lb;
	size_t range = longer / 2 >= 1 ? longer / 2 - 1 : 0;

	/* Matches: each character of a takes the first unmatched equal character of b
	 * within `range` positions. */
	size_t common = 0;
	for (size_t i = 0; i < la; i++) {
		size_t lo = i > range ? i - range : 0;
		size_t hi = i + range < lb - 1 ? i + range : lb - 1;
		for (size_t j = lo; j <= hi; j++) {
			if (!fb[j] && a[i] == b[j]) {
				fa[i] = fb[j] = true;
				common++;
				break;
			}
		}
	}
	if (common == 0)
		return 0.0;

	/* Half the number of matched characters that are out of order. */
	size_t k = 0, trans = 0;
	for (size_t i = 0; i < la; i++) {
		if (!fa[i])
			continue;
		while (!fb[k])
			k++;
		if (a[i] != b[k])
			trans++;
		k++;
	}
	trans /= 2;

	double c = (double)common;
	double w = (c / (double)la + c / (double)lb + (c - (double)trans) / c) / 3.0;
	if (!winkler || w <= 0.7)
		return w;

	size_t p = 0; /* common prefix, at most 4 */
	while (p < 4 && p < min_len && a[p] == b[p])
		p++;
	if (p > 0)
		w += (double)p * 0.1 * (1.0 - w);
	/* Long strings: after the prefix, at least two more agree and the agreeing characters
	 * are at least half of the rest. */
	if (long_tol && min_len > 4 && common > p + 1 && 2 * common >= min_len + p)
		w += (1.0 - w) * ((double)(common - p - 1) / (double)(la + lb - 2 * p + 2));
	return w;
}

double idc_jaro(const char *a, const char *b)
{
	return jaro_winkler(a, b, false, false);
}

double idc_jaro_winkler(const char *a, const char *b)
{
	return jaro_winkler(a, b, true, false);
}

double idc_jaro_winkler_long(const char *a, const char *b)
{
	return jaro_winkler(a, b, true, true);
}

/* ---- edit distances ----------------------------------------------------------------------- */

int idc_levenshtein(const char *a, const char *b)
{
	size_t la = cut_len(a), lb = cut_len(b);
	int row[IDC_MAX + 1];

	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0]; /* row[i-1][j-1] */
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			row[j] = imin3(diag + (a[i - 1] == b[j - 1] ? 0 : 1), up + 1, row[j - 1] + 1);
			diag = up;
		}
	}
	return row[lb];
}

/* Distance 0, 1 or "2 or more": one edit is one insertion, deletion or substitution, or
 * two adjacent characters swapped (a transposition with anything between them costs more
 * than 1 in the unrestricted form too). */
int idc_damerau_levenshtein_max1(const char *a, const char *b)
{
	size_t la = cut_len(a), lb = cut_len(b), i = 0;
	if (la < lb) { /* a is the longer (or as long) */
		const char *t = a;
		size_t tl = la;
		a = b, la = lb;
		b = t, lb = tl;
	}
	if (la - lb > 1)
		return 2;
	while (i < lb && a[i] == b[i])
		i++;
	if (la != lb) /* one deletion from a at i */
		return memcmp(a + i + 1, b + i, lb - i) == 0 ? 1 : 2;
	if (i == la)
		return 0;
	if (memcmp(a + i + 1, b + i + 1, la - i - 1) == 0) /* a substitution at i */
		return 1;
	return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	               memcmp(a + i + 2, b + i + 2, la - i - 2) == 0
	           ? 1
	           : 2;
}

/* Unrestricted Damerau-Levenshtein (Lowrance-Wagner): a transposition may have characters
 * inserted between its two letters. d[i+1][j+1] is the distance of a[0..i) and b[0..j). */
int idc_damerau_levenshtein(const char *a, const char *b)
{
	size_t la = cut_len(a), lb = cut_len(b);
	int d[IDC_MAX + 2][IDC_MAX + 2];
	size_t last_row[256] = {0}; /* last row (1-based) where each byte was seen in a */
	int inf = (int)(la + lb);

	d[0][0] = inf;
	for (size_t i = 0; i <= la; i++) {
		d[i + 1][0] = inf;
		d[i + 1][1] = (int)i;
	}
	for (size_t j = 0; j <= lb; j++) {
		d[0][j + 1] = inf;
		d[1][j + 1] = (int)j;
	}
	for (size_t i = 1; i <= la; i++) {
		size_t last_col = 0; /* last column in this row where a[i-1] matched */
		for (size_t j = 1; j <= lb; j++) {
			size_t i1 = last_row[(unsigned char)b[j - 1]], j1 = last_col;
			int cost = 1;
			if (a[i - 1] == b[j - 1]) {
				cost = 0;
				last_col = j;
			}
			int v = imin3(d[i][j] + cost, d[i + 1][j] + 1, d[i][j + 1] + 1);
			int t = d[i1][j1] + (int)(i - i1 - 1) + 1 + (int)(j - j1 - 1);
			d[i + 1][j + 1] = v < t ? v : t;
		}
		last_row[(unsigned char)a[i - 1]] = i;
	}
	return d[la + 1][lb + 1];
}

/* ---- Soundex ------------------------------------------------------------------------------ */

static char up(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Soundex digit of a letter, 0 for vowels, H, W, Y and anything else. */
static char soundex_code(char c)
{
	static const char codes[27] = "01230120022455012623010202";
	c = up(c);
	return c >= 'A' && c <= 'Z' ? (char)(codes[c - 'A'] == '0' ? 0 : codes[c - 'A']) : 0;
}

void idc_soundex(const char *s, char out[5])
{
	size_t n = cut_len(s), o = 1;

	out[0] = '\0';
	if (n == 0)
		return;
	out[0] = up(s[0]);
	char last = soundex_code(s[0]);
	for (size_t i = 1; i < n && o < 4; i++) {
		char c = soundex_code(s[i]);
		char u = up(s[i]);
		if (c != 0) {
			if (c != last)
				out[o++] = c;
			last = c;
		} else if (u != 'H' && u != 'W') {
			last = 0; /* a vowel separates; H and W do not */
		}
	}
	while (o < 4)
		out[o++] = '0';
	out[4] = '\0';
}

/* ---- NYSIIS ------------------------------------------------------------------------------- */

static bool vowel(char c)
{
	return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U';
}

/* Append c unless it repeats the last character of the key. */
static void key_add(char *key, size_t *n, char c)
{
	if (key[*n - 1] != c)
		key[(*n)++] = c;
}

size_t idc_nysiis(const char *s, char *out, size_t size)
{
	char w[IDC_MAX + 1], key[IDC_MAX + 1];
	size_t n = cut_len(s), k = 0;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		w[i] = up(s[i]);
	w[n] = '\0';

	/* Prefixes: MAC -> MCC, KN -> NN, K -> C, PH/PF -> FF, SCH -> SSS. */
	if (strncmp(w, "MAC", 3) == 0)
		w[1] = 'C';
	else if (strncmp(w, "KN", 2) == 0)
		w[0] = 'N';
	else if (w[0] == 'K')
		w[0] = 'C';
	else if (strncmp(w, "PH", 2) == 0 || strncmp(w, "PF", 2) == 0)
		w[0] = w[1] = 'F';
	else if (strncmp(w, "SCH", 3) == 0)
		w[1] = w[2] = 'S';

	/* Suffixes: EE, IE -> Y; DT, RT, RD, NT, ND -> D. */
	if (n >= 2) {
		char c1 = w[n - 1], c2 = w[n - 2];
		if ((c1 == 'E' && (c2 == 'E' || c2 == 'I'))) {
			w[n - 2] = 'Y';
			w[--n] = '\0';
		} else if ((c1 == 'T' && (c2 == 'D' || c2 == 'R' || c2 == 'N')) ||
		           (c1 == 'D' && (c2 == 'R' || c2 == 'N'))) {
			w[n - 2] = 'D';
			w[--n] = '\0';
		}
	}

	/* The first character is kept; the rest are translated. w[n] is NUL, so looking one
	 * or two ahead stays inside w. Each translation appends its last character only when
	 * it differs from the key's last; EV, SCH and PH append their leading characters
	 * unconditionally (jellyfish's C code). */
	key[k++] = w[0];
	for (size_t i = 1; i < n; i++) {
		char c = w[i], prev = w[i - 1], next = w[i + 1];
		if (c == ' ') /* jellyfish's C code ends the name at a space */
			break;
		switch (c) {
		case 'E':
			if (next == 'V') {
				key[k++] = 'A';
				c = 'F';
				i++;
			} else {
				c = 'A';
			}
			break;
		case 'A':
		case 'I':
		case 'O':
		case 'U':
			c = 'A';
			break;
		case 'Q':
			c = 'G';
			break;
		case 'Z':
			c = 'S';
			break;
		case 'M':
			c = 'N';
			break;
		case 'K':
			c = next == 'N' ? 'N' : 'C';
			break;
		case 'S':
			if (next == 'C' && w[i + 2] == 'H') {
				key[k++] = 'S';
				key[k++] = 'S';
				i += 2;
			}
			break;
		case 'P':
			if (next == 'H') {
				key[k++] = 'F';
				c = 'F';
				i++;
			}
			break;
		case 'H':
			if (!vowel(prev) || !vowel(next))
				c = vowel(prev) ? 'A' : prev;
			break;
		case 'W':
			if (vowel(prev))
				c = prev;
			break;
		default:
			break;
		}
		key_add(key, &k, c);
	}

	/* Trailing S dropped, else trailing AY -> Y; then a trailing A dropped (a one-letter
	 * key is kept). */
	if (k > 1 && key[k - 1] == 'S')
		k--;
	else if (k > 1 && key[k - 1] == 'Y' && key[k - 2] == 'A')
		key[--k - 1] = 'Y';
	if (k > 1 && key[k - 1] == 'A')
		k--;
	key[k] = '\0';

	if (k >= size)
		k = size - 1;
	memcpy(out, key, k);
	out[k] = '\0';
	return k;
}

/* ---- dates -------------------------------------------------------------------------------- */

/* YYYYMMDD as 8 digits (y <= 9999, m and d <= 99): "%04u%02u%02u" without printf, which a
 * candidate's every date comparison used to pay. */
static void date_digits(unsigned y, unsigned m, unsigned d, char out[8])
{
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = (char)('0' + m / 10);
	out[5] = (char)('0' + m % 10);
	out[6] = (char)('0' + d / 10);
	out[7] = (char)('0' + d % 10);
}

enum idc_date_level idc_date_compare(uint16_t y1, uint8_t m1, uint8_t d1, uint16_t y2,
                                     uint8_t m2, uint8_t d2)
{
	char s1[8], s2[8];
	size_t diff[8], nd = 0;

	if (y1 == 0 || m1 == 0 || d1 == 0 || y2 == 0 || m2 == 0 || d2 == 0 || y1 > 9999 ||
	    y2 > 9999 || m1 > 99 || m2 > 99 || d1 > 99 || d2 > 99)
		return IDC_DATE_MISSING;
	if (y1 == y2 && m1 == m2 && d1 == d2)
		return IDC_DATE_EXACT;
	if (y1 == y2 && m1 == d2 && d1 == m2 && m1 != d1)
		return IDC_DATE_TRANSPOSED;
	date_digits(y1, m1, d1, s1);
	date_digits(y2, m2, d2, s2);
	for (size_t i = 0; i < 8; i++)
		if (s1[i] != s2[i])
			diff[nd++] = i;
	if (nd == 1)
		return IDC_DATE_ONE_DIGIT;
	if (nd == 2 && diff[1] == diff[0] + 1 && s1[diff[0]] == s2[diff[1]] &&
	    s1[diff[1]] == s2[diff[0]])
		return IDC_DATE_ONE_DIGIT;
	return IDC_DATE_DIFFERENT;
}
