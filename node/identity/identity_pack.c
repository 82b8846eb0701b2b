/* identity_pack.c: a normalised record in a compact form, kept with each patient so that
 * candidate search neither decodes nor normalises the candidates' demographics again.
 *
 *   byte 0      IDN_PACK_VERSION
 *   strings     one length byte, then the bytes (no NUL), in this order: family, the
 *               n_family_alt other family names (count byte first), given, middle,
 *               given_canon, postcode, street_number, street, locality, state, phone
 *   numbers     birth_year (2 bytes, little-endian), birth_month, birth_day, sex
 *   identifiers a count byte, then system and value of each, as strings
 *
 * A record of another version, or one that does not decode exactly (a length past the end
 * or the field, a NUL inside a string, a count over its cap, bytes left over), is refused:
 * the caller then normalises the demographics as before. */
#include "identity.h"

#include <stddef.h>
#include <string.h>

/* The strings after the family names, in their order on disk: one table for both ways. */
#define FIELD(f) {offsetof(struct idn_record, f), sizeof(((struct idn_record *)0)->f)}
static const struct {
	size_t off, cap;
} tail_strings[] = {
	FIELD(given),  FIELD(middle),   FIELD(given_canon), FIELD(postcode), FIELD(street_number),
	FIELD(street), FIELD(locality), FIELD(state),       FIELD(phone),
};

struct wr {
	uint8_t *p, *end;
	int ok;
};

static void put_byte(struct wr *w, unsigned v)
{
	if (w->p >= w->end) {
		w->ok = 0;
		return;
	}
	*w->p++ = (uint8_t)v;
}

static void put_str(struct wr *w, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n >= cap || n > 255 || (size_t)(w->end - w->p) < n + 1) {
		w->ok = 0;
		return;
	}
	*w->p++ = (uint8_t)n;
	memcpy(w->p, s, n);
	w->p += n;
}

size_t idn_pack(const struct idn_record *r, uint8_t *out, size_t cap)
{
	struct wr w = {out, out + cap, 1};
	put_byte(&w, IDN_PACK_VERSION);
	put_str(&w, r->family, sizeof(r->family));
	put_byte(&w, (unsigned)r->n_family_alt);
	for (size_t i = 0; i < r->n_family_alt && i < IDN_ALT; i++)
		put_str(&w, r->family_alt[i], sizeof(r->family_alt[i]));
	for (size_t i = 0; i < sizeof(tail_strings) / sizeof(tail_strings[0]); i++)
		put_str(&w, (const char *)r + tail_strings[i].off, tail_strings[i].cap);
	put_byte(&w, r->birth_year & 0xff);
	put_byte(&w, r->birth_year >> 8);
	put_byte(&w, r->birth_month);
	put_byte(&w, r->birth_day);
	put_byte(&w, r->sex);
	put_byte(&w, (unsigned)r->n_ident);
	for (size_t i = 0; i < r->n_ident && i < IDN_IDENT_MAX; i++) {
		put_str(&w, r->ident[i].system, sizeof(r->ident[i].system));
		put_str(&w, r->ident[i].value, sizeof(r->ident[i].value));
	}
	if (r->n_family_alt > IDN_ALT || r->n_ident > IDN_IDENT_MAX)
		w.ok = 0;
	return w.ok ? (size_t)(w.p - out) : 0;
}

struct rd {
	const uint8_t *p, *end;
	int ok;
};

static unsigned get_byte(struct rd *r)
{
	if (r->p >= r->end) {
		r->ok = 0;
		return 0;
	}
	return *r->p++;
}

static void get_str(struct rd *r, char *dst, size_t cap)
{
	size_t n = get_byte(r);
	if (!r->ok || n >= cap || (size_t)(r->end - r->p) < n || memchr(r->p, '\0', n) != NULL) {
		r->ok = 0;
		return;
	}
	memcpy(dst, r->p, n);
	dst[n] = '\0';
	r->p += n;
}

int idn_unpack(const uint8_t *in, size_t len, struct idn_record *out)
{
	struct rd r = {in, in + len, 1};
	memset(out, 0, sizeof(*out));
	if (get_byte(&r) != IDN_PACK_VERSION)
		return HX_EVERSION;
	get_str(&r, out->family, sizeof(out->family));
	out->n_family_alt = get_byte(&r);
	if (out->n_family_alt > IDN_ALT)
		return HX_ECORRUPT;
	for (size_t i = 0; i < out->n_family_alt; i++)
		get_str(&r, out->family_alt[i], sizeof(out->family_alt[i]));
	for (size_t i = 0; i < sizeof(tail_strings) / sizeof(tail_strings[0]); i++)
		get_str(&r, (char *)out + tail_strings[i].off, tail_strings[i].cap);
	out->birth_year = (uint16_t)get_byte(&r);
	out->birth_year = (uint16_t)(out->birth_year | get_byte(&r) << 8);
	out->birth_month = (uint8_t)get_byte(&r);
	out->birth_day = (uint8_t)get_byte(&r);
	out->sex = (uint8_t)get_byte(&r);
	out->n_ident = get_byte(&r);
	if (out->n_ident > IDN_IDENT_MAX)
		return HX_ECORRUPT;
	for (size_t i = 0; i < out->n_ident; i++) {
		get_str(&r, out->ident[i].system, sizeof(out->ident[i].system));
		get_str(&r, out->ident[i].value, sizeof(out->ident[i].value));
	}
	return r.ok && r.p == r.end ? HX_OK : HX_ECORRUPT;
}
