/* identity_keys.c: blocking keys. Each key is a cheap, typo-resistant summary of a few
 * fields; a record is a candidate for a query when they share any key. Several keys, each
 * blind to a different kind of error, give recall; each is specific enough that its bucket
 * stays small in an index of millions (docs/matching.md lists them). */
#include "identity.h"

#include <stdio.h>
#include <string.h>

/* Add the key "<tag>:<a>:<b>" (cut at STORE_BLOCK_KEY_MAX bytes), unless a part is empty. */
static void add(struct identity_keys *k, const char *tag, const char *a, const char *b)
{
	char tmp[STORE_BLOCK_KEY_MAX + 1];
	int n;
	if (a[0] == '\0' || b[0] == '\0' || k->n == IDENTITY_KEYS_MAX)
		return;
	n = snprintf(tmp, sizeof(tmp), "%s:%s:%s", tag, a, b);
	if (n <= 0)
		return;
	if ((size_t)n > STORE_BLOCK_KEY_MAX)
		n = STORE_BLOCK_KEY_MAX;
	for (size_t i = 0; i < k->n; i++) /* no duplicates */
		if (k->keys[i].len == (size_t)n && memcmp(k->keys[i].data, tmp, (size_t)n) == 0)
			return;
	memcpy(k->buf + k->used, tmp, (size_t)n);
	k->keys[k->n].data = k->buf + k->used;
	k->keys[k->n].len = (size_t)n;
	k->used += (size_t)n;
	k->n++;
}

/* A name's NYSIIS code, cut to 6 characters (the customary length: typos late in a long
 * name then do not matter). */
static void ny6(const char *name, char out[8])
{
	idc_nysiis(name, out, 8);
	out[6] = '\0';
}

size_t identity_keys_from_record(const struct idn_record *r, struct identity_keys *out)
{
	char dob[16] = "", dob_swapped[16] = "", sf[5], sg[5], nf[8], ng[8], pair[40], year[8];

	out->n = 0;
	out->used = 0;
	out->record_len = 0;
	if (r->birth_year != 0 && r->birth_month != 0 && r->birth_day != 0) {
		snprintf(dob, sizeof(dob), "%04u%02u%02u", r->birth_year, r->birth_month,
		         r->birth_day);
		if (r->birth_day <= 12 && r->birth_day != r->birth_month)
			snprintf(dob_swapped, sizeof(dob_swapped), "%04u%02u%02u", r->birth_year,
			         r->birth_day, r->birth_month);
	}
	if (r->birth_year != 0)
		snprintf(year, sizeof(year), "%04u", r->birth_year);
	else
		year[0] = '\0';
	idc_soundex(r->family, sf);
	idc_soundex(r->given, sg);
	ny6(r->family, nf);
	ny6(r->given, ng);
	/* Exact birth date with the sound of either name: any typo in the other name, or in
	 * this one past its first letter. Day and month swapped is filed the same way. */
	add(out, "fb", sf, dob);
	add(out, "gb", sg, dob);
	add(out, "fb", sf, dob_swapped);
	/* Both names by NYSIIS, in either order: any birth-date error, swapped names. */
	if (strcmp(nf, ng) <= 0)
		add(out, "nn", nf, ng);
	else
		add(out, "nn", ng, nf);
	/* The given name (canonical: nicknames meet) with the birth year: a married name. */
	add(out, "gy", r->given_canon, year);
	/* Where the person lives, with the family name's sound: birth date and given name
	 * both wrong. */
	add(out, "pf", r->postcode, sf);
	if (r->street_number[0] != '\0' && r->street[0] != '\0') {
		char st[16];
		snprintf(st, sizeof(st), "%.4s", r->street);
		snprintf(pair, sizeof(pair), "%s:%s", r->street_number, st);
		add(out, "sa", pair, r->postcode[0] != '\0' ? r->postcode : r->locality);
	}
	/* Previous and other family names, like the first two keys. */
	for (size_t i = 0; i < r->n_family_alt; i++) {
		char sa[5];
		idc_soundex(r->family_alt[i], sa);
		add(out, "fb", sa, dob);
	}
	/* Shared identifiers and the phone number, whole. */
	for (size_t i = 0; i < r->n_ident; i++)
		add(out, "id", r->ident[i].value, r->ident[i].system);
	add(out, "ph", r->phone, "t");
	return out->n;
}

size_t identity_keys_build(const Hie__V1__Demographics *d, struct identity_keys *out)
{
	struct idn_record r;
	size_t n;
	idn_from_demographics(d, &r);
	n = identity_keys_from_record(&r, out);
	out->record_len = idn_pack(&r, out->record, sizeof(out->record));
	return n;
}
