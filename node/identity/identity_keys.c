/* identity_keys.c: blocking keys, a first cut: enough to find candidates for an exact or
 * near-exact record. The matching issue replaces the normalisation with the full one. */
#include "identity.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Lowercase ASCII letters only: accents and punctuation dropped, digits dropped. */
static void fold(const char *s, char *out, size_t size)
{
	size_t o = 0;
	for (; *s != '\0' && o + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalpha(c) && c < 0x80)
			out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
}

/* Add the key "<tag>:<a>:<b>" (cut at STORE_BLOCK_KEY_MAX bytes). */
static void add(struct identity_keys *k, const char *tag, const char *a, const char *b)
{
	char tmp[STORE_BLOCK_KEY_MAX + 1];
	int n = snprintf(tmp, sizeof(tmp), "%s:%s:%s", tag, a, b);
	if (n <= 0 || k->n == IDENTITY_KEYS_MAX)
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

size_t identity_keys_build(const Hie__V1__Demographics *d, struct identity_keys *out)
{
	char fam[64], giv[64];

	out->n = 0;
	out->used = 0;
	for (size_t i = 0; i < d->n_names && i < 4; i++) {
		const Hie__V1__HumanName *nm = d->names[i];
		fold(nm->family, fam, sizeof(fam));
		fold(nm->n_given > 0 ? nm->given[0] : "", giv, sizeof(giv));
		/* birth date + first two letters of the family name */
		if (d->birth_date[0] != '\0' && fam[0] != '\0') {
			char two[3] = {fam[0], fam[1], '\0'};
			add(out, "bd", d->birth_date, two);
		}
		/* full family + given name */
		if (fam[0] != '\0' && giv[0] != '\0')
			add(out, "fg", fam, giv);
	}
	for (size_t i = 0; i < d->n_identifiers; i++)
		add(out, "id", d->identifiers[i]->system, d->identifiers[i]->value);
	return out->n;
}
