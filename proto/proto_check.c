/* proto_check.c: the generic cap walk over any hie.v1 message, and the caps table. */
#include "proto_internal.h"

#include <pthread.h>
#include <string.h>

/* Defaults for any field not named in cap_table. */
#define CAP_STRING 512
#define CAP_BYTES 512
#define CAP_REPEATED 64
#define CAP_DEPTH 8

static const struct field_cap {
	const char *message; /* full name, "hie.v1.X" */
	const char *field;
	size_t max;          /* elements for repeated fields, else bytes */
} cap_table[] = {
	{"hie.v1.Document", "content", PROTO_CONTENT_MAX},
	{"hie.v1.Code", "code", 128},
	{"hie.v1.Code", "system", 255},
	{"hie.v1.DocumentEntry", "title", 1024},
	{"hie.v1.DocumentEntry", "origin_signature", 1024},
	{"hie.v1.DocumentEntry", "confidentiality", 8},
	{"hie.v1.DocumentEntry", "authors", 16},
	{"hie.v1.Demographics", "names", 16},
	{"hie.v1.Demographics", "addresses", 16},
	{"hie.v1.Demographics", "telecom", 16},
	{"hie.v1.Demographics", "identifiers", 32},
	{"hie.v1.HumanName", "given", 8},
	{"hie.v1.Address", "lines", 8},
	{"hie.v1.DiscoverResponse", "matches", 100},
	{"hie.v1.DiscoverResponse", "suggested_attributes", 16},
	{"hie.v1.DocumentQuery", "patient_ids", 64},
	{"hie.v1.DocumentQuery", "statuses", 4},
	{"hie.v1.DocumentQueryResponse", "entries", 10000},
	{"hie.v1.RetrieveRequest", "document_ids", 100},
	{"hie.v1.RetrieveResponse", "documents", 100},
	{"hie.v1.RetrieveResponse", "missing_ids", 100},
	{"hie.v1.LocatorPublish", "add", 100000},
	{"hie.v1.LocatorPublish", "remove", 100000},
	{"hie.v1.LocatorSnapshot", "tokens", 100000},
	{"hie.v1.LocateRequest", "tokens", 64},
	{"hie.v1.LocateResponse", "orgs", 1000},
	{"hie.v1.Peer", "roles", 4},
	{"hie.v1.Peer", "certificate", 16384},      /* DER; CRYPTO_PEM_FILE_MAX is the file's */
	{"hie.v1.Peer", "next_certificate", 16384},
	{"hie.v1.DocumentEntry", "origin_signature", 1024},
	{"hie.v1.Consent", "denied_orgs", 1000},
	{"hie.v1.AuditEvent", "patient_ids", 100},
	{"hie.v1.AuditEvent", "document_ids", 1000},
	{"hie.v1.AuditEvent", "detail", 1024},
	{"hie.v1.Error", "message", 1024},
	{"hie.v1.StoredPatient", "blocking_keys", 64},
	{"hie.v1.StoredPatient", "match_record", 2048}, /* STORE_MATCH_RECORD_MAX */
};

static size_t field_cap_lookup(const ProtobufCMessageDescriptor *md,
                               const ProtobufCFieldDescriptor *f)
{
	for (size_t i = 0; i < HX_ARRAY_SIZE(cap_table); i++)
		if (strcmp(cap_table[i].field, f->name) == 0 &&
		    strcmp(cap_table[i].message, md->name) == 0)
			return cap_table[i].max;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return CAP_REPEATED;
	return f->type == PROTOBUF_C_TYPE_BYTES ? CAP_BYTES : CAP_STRING;
}

/* The caps resolved once per field descriptor (names are compared only at start-up), in an
 * open-addressing table keyed by the descriptor's address. */
#define CAP_SLOTS 1024
static struct {
	const ProtobufCFieldDescriptor *f;
	size_t cap;
} cap_cache[CAP_SLOTS];
static pthread_once_t cap_once = PTHREAD_ONCE_INIT;

static size_t cap_slot(const ProtobufCFieldDescriptor *f)
{
	return ((uintptr_t)f >> 3) * 0x9E3779B97F4A7C15ull >> 54; /* top 10 bits */
}

static void cap_add(const ProtobufCMessageDescriptor *md, unsigned depth)
{
	if (depth > CAP_DEPTH)
		return;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		size_t k = cap_slot(f);
		while (cap_cache[k].f != NULL && cap_cache[k].f != f)
			k = (k + 1) % CAP_SLOTS;
		if (cap_cache[k].f == f)
			continue;
		cap_cache[k].f = f;
		cap_cache[k].cap = field_cap_lookup(md, f);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			cap_add(f->descriptor, depth + 1);
	}
}

static void cap_init(void)
{
	for (int k = 0; k < PROTO_KIND_COUNT; k++)
		cap_add(proto_kind_descriptor((enum proto_kind)k), 0);
}

static size_t field_cap(const ProtobufCMessageDescriptor *md, const ProtobufCFieldDescriptor *f)
{
	size_t k;
	pthread_once(&cap_once, cap_init);
	for (k = cap_slot(f); cap_cache[k].f != NULL; k = (k + 1) % CAP_SLOTS)
		if (cap_cache[k].f == f)
			return cap_cache[k].cap;
	return field_cap_lookup(md, f); /* not reachable from a kind: resolve by name */
}

/* Valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) without C0/C1 controls or DEL. */
int proto_text_check(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p != '\0') {
		unsigned c = *p;
		unsigned cp, need;
		if (++n > max)
			return HX_EPARSE;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return HX_EPARSE;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return HX_EPARSE;
		}
		for (unsigned i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return HX_EPARSE;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			return HX_EPARSE;
		n += need;
		if (n > max)
			return HX_EPARSE;
		p += need + 1;
	}
	return HX_OK;
}

static int enum_known(const ProtobufCEnumDescriptor *ed, int v)
{
	return protobuf_c_enum_descriptor_get_value(ed, v) != NULL;
}

static int walk(const ProtobufCMessage *m, unsigned depth);

/* Check one value of field f stored at p. */
static int check_value(const ProtobufCFieldDescriptor *f, const void *p, size_t cap,
                       unsigned depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s == NULL ? HX_OK : proto_text_check(s, cap);
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		return b->len > cap ? HX_EPARSE : HX_OK;
	}
	case PROTOBUF_C_TYPE_ENUM:
		return enum_known(f->descriptor, *(const int *)p) ? HX_OK : HX_EPARSE;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		return sub == NULL ? HX_OK : walk(sub, depth + 1);
	}
	default:
		return HX_OK;
	}
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	default:
		return 0; /* scalars need no check */
	}
}

static int walk(const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;

	if (depth > CAP_DEPTH)
		return HX_EPARSE;
	/* Unknown fields from a newer sender are tolerated but bounded. */
	if (m->n_unknown_fields > CAP_REPEATED)
		return HX_EPARSE;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		const char *base = (const char *)m + f->offset;
		size_t cap = field_cap(md, f), vsz = value_size(f);
		int rc;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			const char *arr = *(char *const *)base;
			size_t elem_cap = f->type == PROTOBUF_C_TYPE_BYTES ? CAP_BYTES : CAP_STRING;
			if (n > cap)
				return HX_EPARSE;
			if (vsz == 0)
				continue;
			for (size_t k = 0; k < n; k++)
				if ((rc = check_value(f, arr + k * vsz, elem_cap, depth)) != HX_OK)
					return rc;
		} else if (vsz != 0) {
			if ((rc = check_value(f, base, cap, depth)) != HX_OK)
				return rc;
		}
	}
	return HX_OK;
}

int proto_walk(const ProtobufCMessage *m)
{
	return walk(m, 0);
}

/*
 * Two things protobuf-c lets through, refused by scanning the wire bytes it has accepted
 * (the top level and every known sub-message):
 *  - a NUL inside a string: strings come back NUL-terminated without their length, so
 *    "id\0junk" would be validated (and used) as "id";
 *  - field number 0 (when the key is not the single byte 0x00) or above 2^29-1: kept as an
 *    unknown field, it repacks as a key protobuf-c itself refuses, so the message could not
 *    be read back after proto_pack().
 */
#define FIELD_NUMBER_MAX 0x1fffffffu

static int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (c < 0x80)
			return HX_OK;
	}
	return HX_EPARSE;
}

static int wire_check(const ProtobufCMessageDescriptor *md, const uint8_t *p, size_t len,
                      unsigned depth)
{
	const uint8_t *end = p + len;
	uint64_t key, n;

	if (depth > CAP_DEPTH)
		return HX_EPARSE;
	while (p < end) {
		if (wire_varint(&p, end, &key) != HX_OK || key >> 3 == 0 ||
		    key >> 3 > FIELD_NUMBER_MAX)
			return HX_EPARSE;
		switch (key & 7) {
		case PROTOBUF_C_WIRE_TYPE_VARINT:
			if (wire_varint(&p, end, &n) != HX_OK)
				return HX_EPARSE;
			break;
		case PROTOBUF_C_WIRE_TYPE_64BIT:
		case PROTOBUF_C_WIRE_TYPE_32BIT:
			n = (key & 7) == PROTOBUF_C_WIRE_TYPE_64BIT ? 8 : 4;
			if (n > (uint64_t)(end - p))
				return HX_EPARSE;
			p += n;
			break;
		case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED: {
			const ProtobufCFieldDescriptor *f =
				protobuf_c_message_descriptor_get_field(md, (unsigned)(key >> 3));
			if (wire_varint(&p, end, &n) != HX_OK || n > (uint64_t)(end - p))
				return HX_EPARSE;
			if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING &&
			    memchr(p, 0, n) != NULL)
				return HX_EPARSE;
			if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    wire_check(f->descriptor, p, n, depth + 1) != HX_OK)
				return HX_EPARSE;
			p += n;
			break;
		}
		default:
			return HX_EPARSE; /* groups: protobuf-c refuses them too */
		}
	}
	return HX_OK;
}

int proto_wire_check(const ProtobufCMessageDescriptor *md, const uint8_t *buf, size_t len)
{
	return wire_check(md, buf, len, 0);
}
