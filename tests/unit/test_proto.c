/*
 * test_proto.c: proto/ wrappers. Every kind round-trips; size, count, length, UTF-8, enum,
 * id-grammar and required-field refusals are HX_EPARSE; truncated and random input never
 * crashes and is either refused or a valid message; proto_check() of a bad message is
 * HX_EINVAL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"
#include "proto_samples.h"

#define BUF_MAX (512u << 20)

/* Fail with context when `cond` is false. */
#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) { \
			print_error(__VA_ARGS__); \
			print_error("\n"); \
			fail_msg("%s", #cond); \
		} \
	} while (0)

static const char *kname(int k)
{
	return proto_kind_name((enum proto_kind)k);
}

static void sample_init(struct proto_sample *s, int kind, enum proto_sample_variant v)
{
	assert_int_equal(proto_sample_init(s, (enum proto_kind)kind, v), HX_OK);
	assert_non_null(s->msg);
}

static void pack(const void *msg, struct hx_buf *b)
{
	hx_buf_init(b, BUF_MAX);
	assert_int_equal(proto_pack(msg, b), HX_OK);
}

/* Unpack, free, return the code; an accepted message must also pass proto_check(). */
static int unpack_rc(int kind, const uint8_t *p, size_t n)
{
	void *m = NULL;
	int rc = proto_unpack((enum proto_kind)kind, p, n, &m);
	if (rc == HX_OK) {
		assert_non_null(m);
		assert_int_equal(proto_check((enum proto_kind)kind, m), HX_OK);
		proto_free(m);
	}
	return rc;
}

static int sample_rc(const struct proto_sample *s)
{
	struct hx_buf b;
	int rc;
	pack(s->msg, &b);
	rc = unpack_rc(s->kind, b.data, b.len);
	hx_buf_clear(&b);
	return rc;
}

/* Make repeated field `name` of m hold n copies of its first element. */
static void replicate(struct proto_sample *s, ProtobufCMessage *m, const char *name, size_t n)
{
	assert_int_equal(proto_sample_repeat(s, m, name, n), HX_OK);
}

/* ---- wire helpers ------------------------------------------------------------------------ */

static size_t varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	do {
		out[n] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		n++;
		v >>= 7;
	} while (v != 0);
	return n;
}

static int varint_get(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64 && *off < len; shift += 7) {
		uint8_t c = p[(*off)++];
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (c < 0x80)
			return 0;
	}
	return -1;
}

/* Mark in `boundary` (len+1 flags) the offsets where a top-level field starts or ends. */
static void field_boundaries(const uint8_t *p, size_t len, uint8_t *boundary)
{
	size_t off = 0;
	uint64_t key, v;

	memset(boundary, 0, len + 1);
	boundary[0] = 1;
	while (off < len) {
		assert_int_equal(varint_get(p, len, &off, &key), 0);
		switch (key & 7) {
		case 0: assert_int_equal(varint_get(p, len, &off, &v), 0); break;
		case 1: off += 8; break;
		case 5: off += 4; break;
		case 2:
			assert_int_equal(varint_get(p, len, &off, &v), 0);
			off += v;
			break;
		default: fail_msg("wire type %u in a sample", (unsigned)(key & 7));
		}
		assert_true(off <= len);
		boundary[off] = 1;
	}
}

/* Payload size that makes `base` + unknown-field header + payload exactly `total` bytes. */
static size_t pad_for(size_t base, size_t total)
{
	uint8_t tmp[16];
	for (size_t vlen = 1; vlen <= 10; vlen++) {
		size_t payload = total - base - 2 - vlen; /* the key 1000<<3|2 takes 2 bytes */
		if (varint_put(tmp, payload) == vlen)
			return payload;
	}
	fail_msg("no padding for %zu -> %zu", base, total);
	return 0;
}

/* xorshift64*: reproducible pseudo-random bytes. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

/* An accepted message is valid and repacks to bytes that unpack and repack identically. */
static void check_accepted(int kind, const uint8_t *p, size_t n)
{
	struct hx_buf b1, b2;
	void *m1 = NULL, *m2 = NULL;

	assert_int_equal(proto_unpack((enum proto_kind)kind, p, n, &m1), HX_OK);
	assert_int_equal(proto_check((enum proto_kind)kind, m1), HX_OK);
	pack(m1, &b1);
	EXPECT(proto_unpack((enum proto_kind)kind, b1.data, b1.len, &m2) == HX_OK,
	       "%s: repacked message refused", kname(kind));
	pack(m2, &b2);
	EXPECT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
	       "%s: second repack differs", kname(kind));
	proto_free(m1);
	proto_free(m2);
	hx_buf_clear(&b1);
	hx_buf_clear(&b2);
}

/* ---- kinds, samples, round trips --------------------------------------------------------- */

static void test_kind_table(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		enum proto_kind parsed = PROTO_KIND_COUNT;
		assert_string_not_equal(kname(k), "?");
		assert_int_equal(proto_kind_parse(kname(k), &parsed), HX_OK);
		assert_int_equal(parsed, k);
		assert_true(proto_kind_max_size((enum proto_kind)k) >= 1024);
		assert_non_null(proto_kind_descriptor((enum proto_kind)k));
	}
	assert_string_equal(proto_kind_name(PROTO_KIND_COUNT), "?");
	assert_int_equal(proto_kind_max_size(PROTO_KIND_COUNT), 0);
	assert_null(proto_kind_descriptor(PROTO_KIND_COUNT));
	enum proto_kind untouched = PROTO_PEER;
	assert_int_equal(proto_kind_parse("Nope", &untouched), HX_ENOTFOUND);
	assert_int_equal(proto_kind_parse("documententry", &untouched), HX_ENOTFOUND);
	assert_int_equal(untouched, PROTO_PEER);
	assert_string_equal(proto_kind_name(PROTO_DOCUMENT_QUERY_RESPONSE),
	                    "DocumentQueryResponse");
}

static void test_samples_valid_and_full(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		struct proto_sample full, min;
		struct hx_buf bf, bm;
		const char *unset = NULL;

		sample_init(&full, k, PROTO_SAMPLE_FULL);
		sample_init(&min, k, PROTO_SAMPLE_MINIMAL);
		assert_ptr_equal(full.msg->descriptor, proto_kind_descriptor((enum proto_kind)k));
		EXPECT(proto_check((enum proto_kind)k, full.msg) == HX_OK, "%s full", kname(k));
		EXPECT(proto_check((enum proto_kind)k, min.msg) == HX_OK, "%s minimal", kname(k));
		EXPECT(proto_sample_all_set(full.msg, &unset), "%s full sample leaves %s unset",
		       kname(k), unset);
		pack(full.msg, &bf);
		pack(min.msg, &bm);
		EXPECT(bm.len < bf.len, "%s: minimal %zu >= full %zu", kname(k), bm.len, bf.len);
		hx_buf_clear(&bf);
		hx_buf_clear(&bm);
		proto_sample_clear(&full);
		proto_sample_clear(&min);
	}
	/* The helpers refuse what they cannot build. */
	struct proto_sample bad;
	assert_int_equal(proto_sample_init(&bad, PROTO_KIND_COUNT, PROTO_SAMPLE_FULL), HX_EINVAL);
	assert_null(bad.msg);
	proto_sample_clear(&bad);
}

static void test_round_trip(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		for (int v = PROTO_SAMPLE_FULL; v <= PROTO_SAMPLE_MINIMAL; v++) {
			struct proto_sample s;
			struct hx_buf a, b, c;
			void *m = NULL;

			sample_init(&s, k, (enum proto_sample_variant)v);
			pack(s.msg, &a);
			EXPECT(proto_unpack((enum proto_kind)k, a.data, a.len, &m) == HX_OK,
			       "%s variant %d refused", kname(k), v);
			EXPECT(proto_sample_equal(s.msg, m), "%s variant %d: fields differ",
			       kname(k), v);
			pack(m, &b);
			EXPECT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0,
			       "%s variant %d: repack differs", kname(k), v);
			/* proto_pack appends, proto_pack_to and proto_packed_size agree. */
			hx_buf_init(&c, BUF_MAX);
			assert_int_equal(hx_buf_puts(&c, "xy"), HX_OK);
			assert_int_equal(proto_pack(m, &c), HX_OK);
			assert_int_equal(c.len, a.len + 2);
			assert_memory_equal(c.data + 2, a.data, a.len);
			assert_int_equal(proto_packed_size(m), a.len);
			uint8_t *raw = malloc(a.len + 1);
			assert_non_null(raw);
			assert_int_equal(proto_pack_to(m, raw), a.len);
			assert_memory_equal(raw, a.data, a.len);
			free(raw);
			proto_free(m);
			hx_buf_clear(&a);
			hx_buf_clear(&b);
			hx_buf_clear(&c);
			proto_sample_clear(&s);
		}
	}
	proto_free(NULL);
}

/* proto_unpack_scratch: the same acceptance and the same message as proto_unpack(), for
 * every kind; a message larger than the thread's arena is unpacked on the heap (and freed
 * by proto_scratch_free: the sanitizers see a leak otherwise); a broken one is refused. */
static void test_scratch(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		struct proto_sample s;
		struct hx_buf a, b;
		void *m = NULL;
		const char *what;

		sample_init(&s, k, PROTO_SAMPLE_FULL);
		pack(s.msg, &a);
		EXPECT(proto_unpack_scratch((enum proto_kind)k, a.data, a.len, &m) == HX_OK,
		       "%s refused", kname(k));
		EXPECT(proto_sample_equal(s.msg, m), "%s: fields differ", kname(k));
		pack(m, &b);
		EXPECT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "%s: repack differs",
		       kname(k));
		proto_scratch_free(m);
		hx_buf_clear(&a);
		hx_buf_clear(&b);
		proto_sample_clear(&s);
		sample_init(&s, k, PROTO_SAMPLE_FULL);
		if (proto_sample_break(&s, 0, &what) == HX_OK) {
			pack(s.msg, &a);
			m = NULL;
			EXPECT(proto_unpack_scratch((enum proto_kind)k, a.data, a.len, &m) == HX_EPARSE,
			       "%s: broken (%s) accepted", kname(k), what);
			hx_buf_clear(&a);
		}
		proto_sample_clear(&s);
	}
	/* Larger than the arena: 40 KB of content. */
	struct proto_sample s;
	struct hx_buf a;
	void *m = NULL;
	sample_init(&s, PROTO_DOCUMENT, PROTO_SAMPLE_FULL);
	Hie__V1__Document *d = (Hie__V1__Document *)s.msg;
	d->content.len = 40 * 1024;
	d->content.data = proto_sample_alloc(&s, d->content.len);
	memset(d->content.data, 'x', d->content.len);
	d->entry->size = d->content.len;
	pack(s.msg, &a);
	assert_int_equal(proto_unpack_scratch(PROTO_DOCUMENT, a.data, a.len, &m), HX_OK);
	assert_true(proto_sample_equal(s.msg, m));
	proto_scratch_free(m);
	/* The arena is usable again afterwards, and a truncated message is refused. */
	m = NULL;
	assert_int_equal(proto_unpack_scratch(PROTO_DOCUMENT, a.data, a.len - 1, &m), HX_EPARSE);
	hx_buf_clear(&a);
	proto_sample_clear(&s);
	proto_scratch_free(NULL);
}

/* The support walkers used above are not vacuous: they notice a change deep inside. */
static void test_walk_helpers(void **state)
{
	struct proto_sample s1, s2;
	const char *unset = NULL;
	(void)state;

	sample_init(&s1, PROTO_STORED_PATIENT, PROTO_SAMPLE_FULL);
	sample_init(&s2, PROTO_STORED_PATIENT, PROTO_SAMPLE_FULL);
	assert_true(proto_sample_equal(s1.msg, s2.msg));
	Hie__V1__StoredPatient *sp = (Hie__V1__StoredPatient *)s2.msg;
	sp->patient->demographics->names[1]->given[1] = "F";
	assert_false(proto_sample_equal(s1.msg, s2.msg));
	sp->patient->demographics->names[1]->given[1] = "E";
	assert_true(proto_sample_equal(s1.msg, s2.msg));
	sp->blocking_keys[1].data[63] ^= 1;
	assert_false(proto_sample_equal(s1.msg, s2.msg));
	sp->blocking_keys[1].data[63] ^= 1;
	sp->patient->updated++;
	assert_false(proto_sample_equal(s1.msg, s2.msg));

	assert_true(proto_sample_all_set(s2.msg, &unset));
	sp->patient->demographics->addresses[1]->n_lines = 1;
	assert_false(proto_sample_all_set(s2.msg, &unset));
	assert_string_equal(unset, "lines");
	sp->patient->demographics->addresses[1]->n_lines = 2;
	sp->patient->demographics->addresses[1]->postal_code = "";
	assert_false(proto_sample_all_set(s2.msg, &unset));
	assert_string_equal(unset, "postal_code");

	assert_int_equal(proto_sample_repeat(&s2, s2.msg, "patient", 3), HX_ENOTFOUND);
	assert_int_equal(proto_sample_repeat(&s2, s2.msg, "nope", 3), HX_ENOTFOUND);
	assert_int_equal(proto_sample_repeat(&s2, s2.msg, "blocking_keys", 5), HX_OK);
	assert_int_equal(sp->n_blocking_keys, 5);
	assert_int_equal(sp->blocking_keys[4].len, sp->blocking_keys[0].len);
	proto_sample_clear(&s1);
	proto_sample_clear(&s2);
}

/* Each typed wrapper unpacks its own kind and hands back the typed fields. */
static void test_typed_wrappers(void **state)
{
	struct hx_buf b;
	(void)state;

#define WRAP_OK(kind, name, type) \
	do { \
		type *m_ = NULL; \
		assert_int_equal(proto_sample_pack(kind, PROTO_SAMPLE_FULL, &b), HX_OK); \
		assert_int_equal(proto_##name##_unpack(b.data, b.len, &m_), HX_OK); \
		assert_ptr_equal(m_->base.descriptor, proto_kind_descriptor(kind)); \
		proto_free(m_); \
		hx_buf_reset(&b); \
	} while (0)

	hx_buf_init(&b, BUF_MAX);
	WRAP_OK(PROTO_ERROR, error, Hie__V1__Error);
	WRAP_OK(PROTO_HEALTH, health, Hie__V1__Health);
	WRAP_OK(PROTO_PATIENT, patient, Hie__V1__Patient);
	WRAP_OK(PROTO_DEMOGRAPHICS, demographics, Hie__V1__Demographics);
	WRAP_OK(PROTO_DOCUMENT_ENTRY, document_entry, Hie__V1__DocumentEntry);
	WRAP_OK(PROTO_DOCUMENT, document, Hie__V1__Document);
	WRAP_OK(PROTO_DISCOVER_REQUEST, discover_request, Hie__V1__DiscoverRequest);
	WRAP_OK(PROTO_DISCOVER_RESPONSE, discover_response, Hie__V1__DiscoverResponse);
	WRAP_OK(PROTO_DOCUMENT_QUERY, document_query, Hie__V1__DocumentQuery);
	WRAP_OK(PROTO_DOCUMENT_QUERY_RESPONSE, document_query_response,
	        Hie__V1__DocumentQueryResponse);
	WRAP_OK(PROTO_RETRIEVE_REQUEST, retrieve_request, Hie__V1__RetrieveRequest);
	WRAP_OK(PROTO_RETRIEVE_RESPONSE, retrieve_response, Hie__V1__RetrieveResponse);
	WRAP_OK(PROTO_LOCATOR_PUBLISH, locator_publish, Hie__V1__LocatorPublish);
	WRAP_OK(PROTO_LOCATOR_SNAPSHOT, locator_snapshot, Hie__V1__LocatorSnapshot);
	WRAP_OK(PROTO_LOCATOR_CHECK, locator_check, Hie__V1__LocatorCheck);
	WRAP_OK(PROTO_LOCATOR_PUBLISH_ACK, locator_publish_ack, Hie__V1__LocatorPublishAck);
	WRAP_OK(PROTO_LOCATE_REQUEST, locate_request, Hie__V1__LocateRequest);
	WRAP_OK(PROTO_LOCATE_RESPONSE, locate_response, Hie__V1__LocateResponse);
	WRAP_OK(PROTO_PEER, peer, Hie__V1__Peer);
	WRAP_OK(PROTO_AUDIT_EVENT, audit_event, Hie__V1__AuditEvent);
	WRAP_OK(PROTO_CONSENT, consent, Hie__V1__Consent);
	WRAP_OK(PROTO_STORED_PATIENT, stored_patient, Hie__V1__StoredPatient);
#undef WRAP_OK

	/* Key fields through the typed structs. */
	Hie__V1__RetrieveRequest *rr = NULL;
	assert_int_equal(proto_sample_pack(PROTO_RETRIEVE_REQUEST, PROTO_SAMPLE_FULL, &b), HX_OK);
	assert_int_equal(proto_retrieve_request_unpack(b.data, b.len, &rr), HX_OK);
	assert_int_equal(rr->n_document_ids, 3);
	assert_string_equal(rr->document_ids[2], "4f1c2a9be07d4c55a1b3000000000003");
	assert_int_equal(rr->purpose, HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_EMERGENCY);
	assert_string_equal(rr->user->id, "dr.jones");
	proto_free(rr);
	hx_buf_reset(&b);

	Hie__V1__Document *doc = NULL;
	assert_int_equal(proto_sample_pack(PROTO_DOCUMENT, PROTO_SAMPLE_FULL, &b), HX_OK);
	assert_int_equal(proto_document_unpack(b.data, b.len, &doc), HX_OK);
	assert_int_equal(doc->entry->size, doc->content.len);
	assert_memory_equal(doc->content.data, "<ClinicalDocument>", 18);
	assert_int_equal(doc->entry->sha256.len, PROTO_SHA256_LEN);
	assert_string_equal(doc->entry->title, "Discharge summary \xe2\x80\x94 cardiology");
	assert_int_equal(doc->entry->creation_time, INT64_C(1709647629000));
	proto_free(doc);
	hx_buf_reset(&b);

	Hie__V1__Patient *p = NULL;
	assert_int_equal(proto_sample_pack(PROTO_PATIENT, PROTO_SAMPLE_FULL, &b), HX_OK);
	assert_int_equal(proto_patient_unpack(b.data, b.len, &p), HX_OK);
	assert_string_equal(p->id, "MRN-000123");
	assert_string_equal(p->demographics->birth_date, "1984-02-29");
	assert_string_equal(p->demographics->names[0]->family, "Garc\xc3\xad" "a L\xc3\xb3pez");
	assert_int_equal(p->demographics->n_identifiers, 2);
	proto_free(p);
	hx_buf_clear(&b);
}

/* proto_check(): a message of another kind, NULL, or an unknown kind is HX_EINVAL. */
static void test_check_wrong_kind(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		struct proto_sample s;
		sample_init(&s, k, PROTO_SAMPLE_FULL);
		for (int other = 0; other < PROTO_KIND_COUNT; other++)
			EXPECT(proto_check((enum proto_kind)other, s.msg) ==
			               (other == k ? HX_OK : HX_EINVAL),
			       "%s checked as %s", kname(k), kname(other));
		assert_int_equal(proto_check(PROTO_KIND_COUNT, s.msg), HX_EINVAL);
		assert_int_equal(proto_check((enum proto_kind)-1, s.msg), HX_EINVAL);
		proto_sample_clear(&s);
	}
	assert_int_equal(proto_check(PROTO_PEER, NULL), HX_EINVAL);

	void *m = NULL;
	assert_int_equal(proto_unpack(PROTO_KIND_COUNT, (const uint8_t *)"", 0, &m), HX_EINVAL);
	assert_int_equal(proto_unpack(PROTO_HEALTH, NULL, 1, &m), HX_EPARSE);
	assert_null(m);
	/* Empty input is the empty message: fine for Health, not for a RetrieveRequest. */
	assert_int_equal(unpack_rc(PROTO_HEALTH, NULL, 0), HX_OK);
	assert_int_equal(unpack_rc(PROTO_RETRIEVE_REQUEST, NULL, 0), HX_EPARSE);
}

/* ---- size and count caps ----------------------------------------------------------------- */

/* The full sample followed by an (allowed) unknown field of zeros: `total` bytes in all. The
 * buffer is calloc'd so that the zero pages of a huge one are never touched. */
static uint8_t *padded_sample(int kind, size_t total)
{
	struct hx_buf b;
	uint8_t hdr[16], *out;
	size_t h;

	hx_buf_init(&b, BUF_MAX);
	assert_int_equal(proto_sample_pack((enum proto_kind)kind, PROTO_SAMPLE_FULL, &b), HX_OK);
	h = varint_put(hdr, 1000u << 3 | 2);
	h += varint_put(hdr + h, pad_for(b.len, total));
	out = calloc(1, total);
	assert_non_null(out);
	memcpy(out, b.data, b.len);
	memcpy(out + b.len, hdr, h);
	assert_true(b.len + h <= total);
	hx_buf_clear(&b);
	return out;
}

static void test_oversize(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		size_t max = proto_kind_max_size((enum proto_kind)k);
		uint8_t *p = padded_sample(k, max + 1);
		void *m = (void *)&p;

		EXPECT(proto_unpack((enum proto_kind)k, p, max + 1, &m) == HX_EPARSE,
		       "%s: %zu bytes accepted", kname(k), max + 1);
		assert_ptr_equal(m, (void *)&p); /* untouched */
		free(p);
		/* The same construction at exactly the cap is accepted (skip the 256 MiB one). */
		if (max <= (80u << 20)) {
			p = padded_sample(k, max);
			EXPECT(unpack_rc(k, p, max) == HX_OK, "%s: exactly %zu refused", kname(k),
			       max);
			free(p);
		}
	}
}

static const struct count_cap {
	enum proto_kind kind;
	const char *field;
	size_t cap;
} count_caps[] = {
	{PROTO_RETRIEVE_REQUEST, "document_ids", 100},
	{PROTO_LOCATE_REQUEST, "tokens", 64},
	{PROTO_DOCUMENT_QUERY_RESPONSE, "entries", 10000},
	{PROTO_DOCUMENT_QUERY, "patient_ids", 64},
	{PROTO_DOCUMENT_QUERY, "type_codes", 64},
	{PROTO_DOCUMENT_QUERY, "statuses", 4},
	{PROTO_RETRIEVE_RESPONSE, "documents", 100},
	{PROTO_RETRIEVE_RESPONSE, "missing_ids", 100},
	{PROTO_DISCOVER_RESPONSE, "matches", 100},
	{PROTO_DISCOVER_RESPONSE, "suggested_attributes", 16},
	{PROTO_DEMOGRAPHICS, "names", 16},
	{PROTO_DEMOGRAPHICS, "identifiers", 32},
	{PROTO_DOCUMENT_ENTRY, "authors", 16},
	{PROTO_DOCUMENT_ENTRY, "confidentiality", 8},
	{PROTO_LOCATOR_PUBLISH, "add", 100000},
	{PROTO_LOCATE_RESPONSE, "orgs", 1000},
	{PROTO_PEER, "roles", 4},
	{PROTO_AUDIT_EVENT, "patient_ids", 100},
	{PROTO_AUDIT_EVENT, "document_ids", 1000},
	{PROTO_CONSENT, "denied_orgs", 1000},
	{PROTO_CONSENT, "sensitive_categories", 64},
	{PROTO_STORED_PATIENT, "blocking_keys", 64},
};

static void test_too_many_elements(void **state)
{
	(void)state;
	for (size_t i = 0; i < HX_ARRAY_SIZE(count_caps); i++) {
		const struct count_cap *c = &count_caps[i];
		for (size_t n = c->cap; n <= c->cap + 1; n++) {
			struct proto_sample s;
			struct hx_buf b;
			int want = n <= c->cap ? HX_OK : HX_EPARSE;

			sample_init(&s, c->kind, PROTO_SAMPLE_FULL);
			replicate(&s, s.msg, c->field, n);
			pack(s.msg, &b);
			/* Refused for the count, not the size. */
			assert_true(b.len <= proto_kind_max_size(c->kind));
			EXPECT(unpack_rc(c->kind, b.data, b.len) == want, "%s.%s with %zu elements",
			       kname(c->kind), c->field, n);
			assert_int_equal(proto_check(c->kind, s.msg),
			                 want == HX_OK ? HX_OK : HX_EINVAL);
			hx_buf_clear(&b);
			proto_sample_clear(&s);
		}
	}
}

/* Caps of repeated fields inside sub-messages. */
static void test_nested_counts(void **state)
{
	struct proto_sample s;
	(void)state;

	sample_init(&s, PROTO_PATIENT, PROTO_SAMPLE_FULL);
	Hie__V1__Patient *p = (Hie__V1__Patient *)s.msg;
	replicate(&s, &p->demographics->names[1]->base, "given", 8);
	assert_int_equal(sample_rc(&s), HX_OK);
	replicate(&s, &p->demographics->names[1]->base, "given", 9);
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);

	sample_init(&s, PROTO_DISCOVER_REQUEST, PROTO_SAMPLE_FULL);
	Hie__V1__DiscoverRequest *r = (Hie__V1__DiscoverRequest *)s.msg;
	replicate(&s, &r->demographics->addresses[0]->base, "lines", 8);
	assert_int_equal(sample_rc(&s), HX_OK);
	replicate(&s, &r->demographics->addresses[0]->base, "lines", 9);
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);

	sample_init(&s, PROTO_RETRIEVE_RESPONSE, PROTO_SAMPLE_FULL);
	Hie__V1__RetrieveResponse *rr = (Hie__V1__RetrieveResponse *)s.msg;
	replicate(&s, &rr->documents[1]->entry->base, "authors", 17);
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);
}

/* Unknown fields from a newer sender are kept, up to 64 of them. */
static void test_unknown_fields(void **state)
{
	(void)state;
	for (unsigned n = 64; n <= 65; n++) {
		struct hx_buf b;
		hx_buf_init(&b, BUF_MAX);
		assert_int_equal(proto_sample_pack(PROTO_HEALTH, PROTO_SAMPLE_FULL, &b), HX_OK);
		for (unsigned i = 0; i < n; i++) {
			uint8_t f[8];
			size_t len = varint_put(f, (uint64_t)(100 + i) << 3);
			f[len++] = 1;
			assert_int_equal(hx_buf_append(&b, f, len), HX_OK);
		}
		assert_int_equal(unpack_rc(PROTO_HEALTH, b.data, b.len),
		                 n <= 64 ? HX_OK : HX_EPARSE);
		if (n <= 64)
			check_accepted(PROTO_HEALTH, b.data, b.len);
		hx_buf_clear(&b);
	}
}

/* Field numbers 1..2^29-1 only: protobuf-c keeps 0 (written 0x80 0x00) or larger numbers as
 * unknown fields but cannot read them back once repacked (found by fuzz_unpack_*). */
static void test_field_numbers(void **state)
{
	static const struct {
		uint64_t number;
		unsigned wire_type;
		int want;
	} cases[] = {
		{0, 0, HX_EPARSE},
		{0, 1, HX_EPARSE},
		{0, 2, HX_EPARSE},
		{1000, 0, HX_OK},
		{0x1fffffff, 0, HX_OK},
		{0x1fffffff, 2, HX_OK},
		{0x20000000, 0, HX_EPARSE},
		{0x20000000, 5, HX_EPARSE},
		{UINT64_C(1) << 32, 0, HX_EPARSE},
	};
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		for (size_t i = 0; i < HX_ARRAY_SIZE(cases); i++) {
			struct hx_buf b;
			uint8_t f[32];
			size_t len;

			hx_buf_init(&b, BUF_MAX);
			assert_int_equal(proto_sample_pack((enum proto_kind)k, PROTO_SAMPLE_FULL, &b),
			                 HX_OK);
			if (cases[i].number == 0) {
				f[0] = 0x80 | (uint8_t)cases[i].wire_type; /* key 0, in two bytes */
				f[1] = 0x00;
				len = 2;
			} else {
				len = varint_put(f, cases[i].number << 3 | cases[i].wire_type);
			}
			switch (cases[i].wire_type) {
			case 0: f[len++] = 1; break;
			case 1: memset(f + len, 7, 8); len += 8; break;
			case 2: f[len++] = 2; f[len++] = 'h'; f[len++] = 'i'; break;
			default: memset(f + len, 7, 4); len += 4; break;
			}
			assert_int_equal(hx_buf_append(&b, f, len), HX_OK);
			EXPECT(unpack_rc(k, b.data, b.len) == cases[i].want, "%s: field %llu type %u",
			       kname(k), (unsigned long long)cases[i].number, cases[i].wire_type);
			if (cases[i].want == HX_OK)
				check_accepted(k, b.data, b.len);
			hx_buf_clear(&b);
		}
	}
	/* Inside a sub-message too: a DocumentQuery's user with a field 0. */
	struct proto_sample s;
	struct hx_buf b;
	sample_init(&s, PROTO_DOCUMENT_QUERY, PROTO_SAMPLE_FULL);
	Hie__V1__DocumentQuery *q = (Hie__V1__DocumentQuery *)s.msg;
	q->user->id = "X";
	pack(s.msg, &b);
	uint8_t *x = memmem(b.data, b.len, "\x0a\x01X", 3); /* RequestingUser.id = "X" */
	assert_non_null(x);
	assert_int_equal(unpack_rc(PROTO_DOCUMENT_QUERY, b.data, b.len), HX_OK);
	x[0] = 0x80; /* key 0x80 0x00: field 0, then the varint 'X' */
	x[1] = 0x00;
	assert_int_equal(unpack_rc(PROTO_DOCUMENT_QUERY, b.data, b.len), HX_EPARSE);
	hx_buf_clear(&b);
	proto_sample_clear(&s);
}

/* ---- truncated and random input ---------------------------------------------------------- */

static void test_truncated(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		struct hx_buf b;
		size_t refused = 0;

		hx_buf_init(&b, BUF_MAX);
		assert_int_equal(proto_sample_pack((enum proto_kind)k, PROTO_SAMPLE_FULL, &b),
		                 HX_OK);
		uint8_t *boundary = malloc(b.len + 1);
		assert_non_null(boundary);
		field_boundaries(b.data, b.len, boundary);
		for (size_t n = 0; n < b.len; n++) {
			/* A copy of exactly n bytes so that ASan sees any read past the end. */
			uint8_t *p = malloc(n != 0 ? n : 1);
			assert_non_null(p);
			memcpy(p, b.data, n);
			int rc = unpack_rc(k, p, n);
			EXPECT(rc == HX_OK || rc == HX_EPARSE, "%s prefix %zu: %d", kname(k), n,
			       rc);
			EXPECT(boundary[n] || rc == HX_EPARSE, "%s: prefix %zu cut inside a field "
			       "accepted", kname(k), n);
			if (rc == HX_OK)
				check_accepted(k, p, n);
			refused += rc == HX_EPARSE;
			free(p);
		}
		EXPECT(refused > 0, "%s: no prefix refused", kname(k));
		free(boundary);
		hx_buf_clear(&b);
	}
}

static void test_random_garbage(void **state)
{
	uint64_t rng = UINT64_C(0x9e3779b97f4a7c15);
	size_t accepted = 0, refused = 0;
	(void)state;

	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		struct hx_buf sample;
		hx_buf_init(&sample, BUF_MAX);
		assert_int_equal(proto_sample_pack((enum proto_kind)k, PROTO_SAMPLE_FULL, &sample),
		                 HX_OK);
		for (int i = 0; i < 3000; i++) {
			size_t n;
			uint8_t *p;
			if (i % 2 == 0) {
				/* Pure noise. */
				n = rng_next(&rng) % 300;
				p = malloc(n + 1);
				assert_non_null(p);
				for (size_t j = 0; j < n; j++)
					p[j] = (uint8_t)rng_next(&rng);
			} else {
				/* The sample with 1..4 bytes changed. */
				n = sample.len;
				p = malloc(n + 1);
				assert_non_null(p);
				memcpy(p, sample.data, n);
				for (uint64_t j = 1 + rng_next(&rng) % 4; j > 0 && n > 0; j--)
					p[rng_next(&rng) % n] = (uint8_t)rng_next(&rng);
			}
			int rc = unpack_rc(k, p, n);
			EXPECT(rc == HX_OK || rc == HX_EPARSE, "%s input %d: %d", kname(k), i, rc);
			if (rc == HX_OK) {
				check_accepted(k, p, n);
				accepted++;
			} else {
				refused++;
			}
			free(p);
		}
		hx_buf_clear(&sample);
	}
	/* Both outcomes happen: the inputs do reach the validators. */
	assert_true(accepted > 1000);
	assert_true(refused > 1000);
}

/* ---- ids --------------------------------------------------------------------------------- */

static const char *const org_good[] = {
	"1.2", "0.0", "2.999", "2.16.840.1.113883.3.72", "1.3.6.1.4.1.99999.7",
	"1.12345678901234567890",
};
static const char *const org_bad[] = {
	"", "1", "3.1", "1.02", "1..2", "1.2.", "1.2 ", " 1.2", "1.2\n", ".1.2", "01.2", "12.3",
	"1.2a", "1.-2", "1,2", "1.123456789012345678901", "urn:oid:1.2", "..", "../x", "%2e%2e",
	"1.2%00", "1.2\r\n", ("1\xef\xbc\x8e" "2"), /* fullwidth full stop */
	"\xef\xbc\x91.2",                       /* fullwidth digit one */
	"1.2\xc2\xa0",                          /* trailing no-break space */
	"1.\xd9\xa3",                           /* Arabic-Indic digit three */
};

static const char *const doc_good[] = {
	"4f1c2a9be07d4c55a1b3000000000001", "00000000000000000000000000000000",
	"ffffffffffffffffffffffffffffffff", "0123456789abcdef0123456789abcdef",
};
static const char *const doc_bad[] = {
	"", "..", "a..b", "../x", "%2e%2e", "a%00b", "a\r\nb", "a b",
	"4F1C2A9BE07D4C55A1B3000000000001",   /* uppercase */
	"4f1c2a9be07d4c55a1b300000000000A",   /* one uppercase digit */
	"4f1c2a9be07d4c55a1b300000000000",    /* 31 */
	"4f1c2a9be07d4c55a1b30000000000001",  /* 33 */
	"4f1c2a9be07d4c55a1b3000000000001\n", "4f1c2a9be07d4c55a1b300000000000g",
	"0x1c2a9be07d4c55a1b3000000000001", "4f1c2a9b-e07d-4c55-a1b3-000000000001",
	" 4f1c2a9be07d4c55a1b300000000001",
	("4f1c2a9be07d4c55a1b3\xef\xbc\x90\xef\xbc\x90" "000000000001"), /* fullwidth zeros */
};

static const char *const patient_good[] = {
	"a", "Z", "0", "A1", "MRN-000123", "pat.00456_b", "a.b.c", "x-1.y_2", "a-.b",
};
static const char *const patient_bad[] = {
	"", "..", "a..b", "../x", "%2e%2e", "a%00b", "a\r\nb", "a b", ".abc", "abc-", "-abc",
	"_abc", "abc.", "abc_", "a/b", "a\\b", "a:b", "a\tb", "a;b",
	("\xef\xbd\x81" "bc"),   /* fullwidth a */
	("\xd0\xb0" "bc"),       /* Cyrillic a */
	("a\xe2\x80\xa4" "b"),   /* one dot leader */
	("a\xc2\xa0" "b"),       /* no-break space */
	"abc\xe2\x80\x8b",       /* zero-width space */
	("ab\xe2\x80\x90" "c"),  /* Unicode hyphen */
	"\xc3\xa9t\xc3\xa9",     /* accented letters */
};

/* A string of n characters: `fill` repeated, so that it stays valid for the grammar. */
static char *repeat_str(const char *head, char fill, size_t n)
{
	char *s = malloc(n + 1);
	size_t h = strlen(head);
	assert_non_null(s);
	memset(s, fill, n);
	memcpy(s, head, h < n ? h : n);
	s[n] = '\0';
	return s;
}

enum id_kind { ID_ORG, ID_DOC, ID_PATIENT };

/* Put `id` where each wrapper reads an id of that grammar; check every one gives `want`. */
static void id_through_wrappers(enum id_kind which, const char *id, int want)
{
	struct proto_sample s;
	struct hx_buf b;
	char *dup;

#define THROUGH(kind, name, type, assign) \
	do { \
		type *m_ = NULL; \
		sample_init(&s, kind, PROTO_SAMPLE_FULL); \
		dup = proto_sample_strdup(&s, id); \
		type *t_ = (type *)s.msg; \
		assign; \
		pack(s.msg, &b); \
		int rc_ = proto_##name##_unpack(b.data, b.len, &m_); \
		EXPECT(rc_ == want, "id \"%s\" through %s: %d", id, #name, rc_); \
		if (rc_ == HX_OK) \
			proto_free(m_); \
		EXPECT(proto_check(kind, s.msg) == (want == HX_OK ? HX_OK : HX_EINVAL), \
		       "proto_check of %s with \"%s\"", #name, id); \
		hx_buf_clear(&b); \
		proto_sample_clear(&s); \
	} while (0)

	switch (which) {
	case ID_ORG:
		THROUGH(PROTO_PEER, peer, Hie__V1__Peer, t_->org_id = dup);
		THROUGH(PROTO_LOCATE_RESPONSE, locate_response, Hie__V1__LocateResponse,
		        t_->orgs[1]->org_id = dup);
		THROUGH(PROTO_CONSENT, consent, Hie__V1__Consent, t_->denied_orgs[0] = dup);
		THROUGH(PROTO_DOCUMENT_ENTRY, document_entry, Hie__V1__DocumentEntry,
		        t_->origin_org = dup);
		break;
	case ID_DOC:
		THROUGH(PROTO_RETRIEVE_REQUEST, retrieve_request, Hie__V1__RetrieveRequest,
		        t_->document_ids[1] = dup);
		THROUGH(PROTO_DOCUMENT_ENTRY, document_entry, Hie__V1__DocumentEntry, t_->id = dup);
		THROUGH(PROTO_RETRIEVE_RESPONSE, retrieve_response, Hie__V1__RetrieveResponse,
		        t_->missing_ids[0] = dup);
		THROUGH(PROTO_AUDIT_EVENT, audit_event, Hie__V1__AuditEvent,
		        t_->document_ids[0] = dup);
		break;
	case ID_PATIENT:
		THROUGH(PROTO_CONSENT, consent, Hie__V1__Consent, t_->patient_id = dup);
		THROUGH(PROTO_DOCUMENT_QUERY, document_query, Hie__V1__DocumentQuery,
		        t_->patient_ids[1] = dup);
		THROUGH(PROTO_PATIENT, patient, Hie__V1__Patient, t_->id = dup);
		THROUGH(PROTO_DISCOVER_RESPONSE, discover_response, Hie__V1__DiscoverResponse,
		        t_->matches[0]->patient_id = dup);
		break;
	}
#undef THROUGH
}

static void check_ids(enum id_kind which, int (*check)(const char *), const char *const *good,
                      size_t n_good, const char *const *bad, size_t n_bad)
{
	for (size_t i = 0; i < n_good; i++) {
		EXPECT(check(good[i]) == HX_OK, "good id \"%s\" refused", good[i]);
		id_through_wrappers(which, good[i], HX_OK);
	}
	for (size_t i = 0; i < n_bad; i++) {
		EXPECT(check(bad[i]) == HX_EPARSE, "bad id \"%s\" accepted", bad[i]);
		id_through_wrappers(which, bad[i], HX_EPARSE);
	}
}

static void test_ids_org(void **state)
{
	(void)state;
	check_ids(ID_ORG, proto_id_org_check, org_good, HX_ARRAY_SIZE(org_good), org_bad,
	          HX_ARRAY_SIZE(org_bad));
	/* 64 characters is the longest: "2.1.1...1" then "1". */
	char *s64 = malloc(65), *s65 = malloc(66);
	assert_non_null(s64);
	assert_non_null(s65);
	strcpy(s64, "2");
	while (strlen(s64) < 63)
		strcat(s64, ".1");
	strcat(s64, "1");
	assert_int_equal(strlen(s64), 64);
	snprintf(s65, 66, "%s1", s64);
	check_ids(ID_ORG, proto_id_org_check, (const char *const *)&s64, 1,
	          (const char *const *)&s65, 1);
	free(s64);
	free(s65);
}

static void test_ids_doc(void **state)
{
	(void)state;
	check_ids(ID_DOC, proto_id_doc_check, doc_good, HX_ARRAY_SIZE(doc_good), doc_bad,
	          HX_ARRAY_SIZE(doc_bad));
	/* Every single non-hex or uppercase character in an otherwise good id. */
	char id[] = "0123456789abcdef0123456789abcdef";
	for (int c = 1; c < 256; c++) {
		int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		id[17] = (char)c;
		EXPECT(proto_id_doc_check(id) == (hex ? HX_OK : HX_EPARSE), "char 0x%02x", c);
	}
}

static void test_ids_patient(void **state)
{
	(void)state;
	char *s64 = repeat_str("P", 'a', 64), *s65 = repeat_str("P", 'a', 65);
	check_ids(ID_PATIENT, proto_id_patient_check, patient_good, HX_ARRAY_SIZE(patient_good),
	          patient_bad, HX_ARRAY_SIZE(patient_bad));
	check_ids(ID_PATIENT, proto_id_patient_check, (const char *const *)&s64, 1,
	          (const char *const *)&s65, 1);
	free(s64);
	free(s65);
}

/* A NUL inside a string on the wire must not cut the id short ("<id>\0junk" is not <id>). */
static void test_embedded_nul(void **state)
{
	static const struct {
		enum proto_kind kind;
		const char *marked; /* '#' becomes NUL on the wire */
	} cases[] = {
		{PROTO_CONSENT, "MRN-000123#../../x"},
		{PROTO_RETRIEVE_REQUEST, "4f1c2a9be07d4c55a1b3000000000002#x"},
		{PROTO_PEER, "1.3.6.1.4.1.99999.7#"},
		{PROTO_ERROR, "malformed#input"},
	};
	(void)state;
	for (size_t i = 0; i < HX_ARRAY_SIZE(cases); i++) {
		struct proto_sample s;
		struct hx_buf b;
		char *dup;

		sample_init(&s, cases[i].kind, PROTO_SAMPLE_FULL);
		dup = proto_sample_strdup(&s, cases[i].marked);
		switch (cases[i].kind) {
		case PROTO_CONSENT: ((Hie__V1__Consent *)s.msg)->patient_id = dup; break;
		case PROTO_RETRIEVE_REQUEST:
			((Hie__V1__RetrieveRequest *)s.msg)->document_ids[1] = dup;
			break;
		case PROTO_PEER: ((Hie__V1__Peer *)s.msg)->org_id = dup; break;
		default: ((Hie__V1__Error *)s.msg)->message = dup; break;
		}
		pack(s.msg, &b);
		uint8_t *hash = memmem(b.data, b.len, cases[i].marked, strlen(cases[i].marked));
		assert_non_null(hash);
		hash += strchr(cases[i].marked, '#') - cases[i].marked;
		/* Without the NUL the message is invalid only for the '#', so check both. */
		*hash = 'x';
		if (cases[i].kind == PROTO_ERROR)
			assert_int_equal(unpack_rc(cases[i].kind, b.data, b.len), HX_OK);
		*hash = '\0';
		EXPECT(unpack_rc(cases[i].kind, b.data, b.len) == HX_EPARSE,
		       "%s: string with an embedded NUL accepted", kname(cases[i].kind));
		hx_buf_clear(&b);
		proto_sample_clear(&s);
	}
}

/* ---- text, enums, required fields -------------------------------------------------------- */

static const char *const text_good[] = {
	"", "plain ASCII ~!@#$%^&*()", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9d\x84\x9e",
	"\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xc2\xa0", "\xed\x9f\xbf", "\xee\x80\x80",
	"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
};
static const char *const text_bad[] = {
	"\xc3", "\xc3(", "\xa9", "\x80", "abc\xe2\x82", "\xf0\x9d\x84",  /* truncated, stray */
	"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xf0\x80\x80\xaf",
	"\xf0\x8f\xbf\xbf",                                                /* overlongs */
	"\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xb0\x80",                    /* surrogates */
	"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe", "\xff",
	"\x01", "a\tb", "a\nb", "a\rb", "\x1b[31mred", "\x1f", "\x7f",     /* C0, DEL */
	"\xc2\x80", "\xc2\x85", "\xc2\x9f",                                /* C1 */
};

static int error_message_rc(const char *text)
{
	struct proto_sample s;
	int rc;
	sample_init(&s, PROTO_ERROR, PROTO_SAMPLE_FULL);
	((Hie__V1__Error *)s.msg)->message = (char *)text;
	rc = sample_rc(&s);
	assert_int_equal(proto_check(PROTO_ERROR, s.msg), rc == HX_OK ? HX_OK : HX_EINVAL);
	proto_sample_clear(&s);
	return rc;
}

static void test_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < HX_ARRAY_SIZE(text_good); i++)
		EXPECT(error_message_rc(text_good[i]) == HX_OK, "good text %zu refused", i);
	for (size_t i = 0; i < HX_ARRAY_SIZE(text_bad); i++)
		EXPECT(error_message_rc(text_bad[i]) == HX_EPARSE, "bad text %zu accepted", i);

	/* Length caps count bytes: Error.message 1024, a default string 512. */
	char *t = repeat_str("", 'm', 1025);
	assert_int_equal(error_message_rc(t), HX_EPARSE);
	t[1024] = '\0';
	assert_int_equal(error_message_rc(t), HX_OK);
	for (int i = 0; i < 512; i++)
		memcpy(t + 2 * i, "\xc3\xa9", 2);
	assert_int_equal(error_message_rc(t), HX_OK); /* 512 characters, 1024 bytes */
	memcpy(t + 1022, "\xe2\x82\xac", 4);           /* 1025 bytes */
	assert_int_equal(error_message_rc(t), HX_EPARSE);
	free(t);

	struct proto_sample s;
	char *s512 = repeat_str("", 's', 512), *s513 = repeat_str("", 's', 513);
	sample_init(&s, PROTO_HEALTH, PROTO_SAMPLE_FULL);
	((Hie__V1__Health *)s.msg)->status = s512;
	assert_int_equal(sample_rc(&s), HX_OK);
	((Hie__V1__Health *)s.msg)->status = s513;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);
	/* Elements of a repeated string field have the default cap too. */
	sample_init(&s, PROTO_DISCOVER_RESPONSE, PROTO_SAMPLE_FULL);
	((Hie__V1__DiscoverResponse *)s.msg)->suggested_attributes[1] = s512;
	assert_int_equal(sample_rc(&s), HX_OK);
	((Hie__V1__DiscoverResponse *)s.msg)->suggested_attributes[1] = s513;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	((Hie__V1__DiscoverResponse *)s.msg)->suggested_attributes[1] = "\xed\xa0\x80";
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);
	free(s512);
	free(s513);
}

static void test_unknown_enum(void **state)
{
	struct proto_sample s;
	(void)state;

	sample_init(&s, PROTO_ERROR, PROTO_SAMPLE_FULL);
	Hie__V1__Error *e = (Hie__V1__Error *)s.msg;
	e->code = HIE__V1__ERROR_CODE__ERROR_CODE_INTERNAL;
	assert_int_equal(sample_rc(&s), HX_OK);
	e->code = HIE__V1__ERROR_CODE__ERROR_CODE_INTERNAL + 1;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	e->code = -1;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	e->code = 1000000;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);

	/* A repeated enum, and enums inside sub-messages. */
	sample_init(&s, PROTO_DOCUMENT_QUERY, PROTO_SAMPLE_FULL);
	((Hie__V1__DocumentQuery *)s.msg)->statuses[1] = 3;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);
	sample_init(&s, PROTO_PATIENT, PROTO_SAMPLE_FULL);
	((Hie__V1__Patient *)s.msg)->demographics->telecom[1]->use = 4;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	((Hie__V1__Patient *)s.msg)->demographics->telecom[1]->use = 3;
	assert_int_equal(sample_rc(&s), HX_OK);
	((Hie__V1__Patient *)s.msg)->demographics->sex = 5;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);
}

static void test_required_fields(void **state)
{
	struct proto_sample s;
	(void)state;

	/* DocumentQuery: no patient ids; purpose unspecified. */
	sample_init(&s, PROTO_DOCUMENT_QUERY, PROTO_SAMPLE_MINIMAL);
	Hie__V1__DocumentQuery *q = (Hie__V1__DocumentQuery *)s.msg;
	assert_int_equal(sample_rc(&s), HX_OK);
	q->n_patient_ids = 0;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	q->n_patient_ids = 1;
	q->purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_UNSPECIFIED;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);

	/* DocumentEntry: no sha256, 31 and 33 bytes of it. */
	sample_init(&s, PROTO_DOCUMENT_ENTRY, PROTO_SAMPLE_FULL);
	Hie__V1__DocumentEntry *e = (Hie__V1__DocumentEntry *)s.msg;
	ProtobufCBinaryData sha = e->sha256;
	e->sha256.len = 0;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	e->sha256.len = 31;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	e->sha256.data = proto_sample_alloc(&s, 33);
	e->sha256.len = 33;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	e->sha256 = sha;
	assert_int_equal(sample_rc(&s), HX_OK);
	proto_sample_clear(&s);

	/* Document: content length must equal entry.size, both ways; empty content is fine. */
	sample_init(&s, PROTO_DOCUMENT, PROTO_SAMPLE_FULL);
	Hie__V1__Document *d = (Hie__V1__Document *)s.msg;
	d->entry->size = d->content.len + 1;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	d->entry->size = d->content.len - 1;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	d->entry->size = 0;
	d->content.len = 0;
	assert_int_equal(sample_rc(&s), HX_OK);
	d->entry = NULL;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);

	/* RetrieveRequest, LocateRequest, LocatorPublish: empty is refused. */
	sample_init(&s, PROTO_LOCATOR_PUBLISH, PROTO_SAMPLE_MINIMAL);
	Hie__V1__LocatorPublish *lp = (Hie__V1__LocatorPublish *)s.msg;
	lp->n_remove = lp->n_add;
	lp->remove = lp->add;
	lp->n_add = 0;
	assert_int_equal(sample_rc(&s), HX_OK); /* only removals is fine */
	lp->n_remove = 0;
	assert_int_equal(sample_rc(&s), HX_EPARSE);
	proto_sample_clear(&s);
}

/* Every near miss of every kind: refused by unpack, HX_EINVAL from proto_check. */
static void test_breaks(void **state)
{
	(void)state;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		unsigned i;
		for (i = 0;; i++) {
			struct proto_sample s;
			const char *what = NULL;
			sample_init(&s, k, PROTO_SAMPLE_FULL);
			if (proto_sample_break(&s, i, &what) != HX_OK) {
				proto_sample_clear(&s);
				break;
			}
			assert_non_null(what);
			EXPECT(proto_check((enum proto_kind)k, s.msg) == HX_EINVAL,
			       "%s: proto_check passes with %s", kname(k), what);
			EXPECT(sample_rc(&s) == HX_EPARSE, "%s: unpack accepts %s", kname(k), what);
			proto_sample_clear(&s);
		}
		EXPECT(i >= 2 || k == PROTO_LOCATOR_PUBLISH_ACK, "%s: only %u near misses",
		       kname(k), i);
	}
}

static void test_pack_limit(void **state)
{
	struct proto_sample s;
	struct hx_buf b;
	(void)state;

	sample_init(&s, PROTO_PEER, PROTO_SAMPLE_FULL);
	size_t n = proto_packed_size(s.msg);
	hx_buf_init(&b, n + 2);
	assert_int_equal(hx_buf_puts(&b, "ab"), HX_OK);
	assert_int_equal(proto_pack(s.msg, &b), HX_OK);
	assert_int_equal(b.len, n + 2);
	hx_buf_reset(&b);
	assert_int_equal(hx_buf_puts(&b, "abc"), HX_OK);
	assert_int_equal(proto_pack(s.msg, &b), HX_ELIMIT);
	assert_int_equal(b.len, 3);
	assert_string_equal((char *)b.data, "abc");
	hx_buf_clear(&b);
	proto_sample_clear(&s);
}

/* The hand-framed RetrieveResponse is byte for byte what protobuf-c packs. */
static void test_retrieve_framing(void **state)
{
	(void)state;
	Hie__V1__Code type = HIE__V1__CODE__INIT;
	Hie__V1__DocumentEntry e = HIE__V1__DOCUMENT_ENTRY__INIT;
	Hie__V1__Document d[2], *dp[2] = {&d[0], &d[1]};
	Hie__V1__RetrieveResponse r = HIE__V1__RETRIEVE_RESPONSE__INIT;
	static uint8_t sha[32], big[300];
	char *missing[1] = {"0123456789abcdef0123456789abcdef"};
	struct hx_buf want, got, entry;

	type.code = "11506-3";
	e.id = "fedcba9876543210fedcba9876543210";
	e.patient_id = "P1";
	e.origin_org = "1.2.3";
	e.type_code = &type;
	e.mime_type = "text/plain";
	e.status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
	e.creation_time = 1;
	e.sha256.data = sha;
	e.sha256.len = 32;
	memset(big, 'x', sizeof(big));
	hx_buf_init(&entry, 1 << 20);
	assert_int_equal(proto_pack(&e, &entry), HX_OK);
	for (int i = 0; i < 2; i++) {
		hie__v1__document__init(&d[i]);
		d[i].entry = &e;
		d[i].content.data = big;
		d[i].content.len = i == 0 ? sizeof(big) : 0; /* a long one and an empty one */
	}
	r.n_documents = 2;
	r.documents = dp;
	r.n_missing_ids = 1;
	r.missing_ids = missing;
	hx_buf_init(&want, 1 << 20);
	hx_buf_init(&got, 1 << 20);
	assert_int_equal(proto_pack(&r, &want), HX_OK);
	assert_int_equal(proto_retrieve_response_add_document(&got, entry.data, entry.len, big,
	                                                      sizeof(big)), HX_OK);
	assert_int_equal(proto_retrieve_response_add_document(&got, entry.data, entry.len, big, 0),
	                 HX_OK);
	assert_int_equal(proto_retrieve_response_add_missing(&got, missing[0]), HX_OK);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	hx_buf_clear(&want);
	hx_buf_clear(&got);
	hx_buf_clear(&entry);
}

/* The hand-framed DocumentQueryResponse is byte for byte what protobuf-c packs. */
static void test_query_framing(void **state)
{
	(void)state;
	Hie__V1__Code type = HIE__V1__CODE__INIT;
	Hie__V1__DocumentEntry e[2], *ep[2] = {&e[0], &e[1]};
	Hie__V1__DocumentQueryResponse r = HIE__V1__DOCUMENT_QUERY_RESPONSE__INIT;
	static uint8_t sha[32];
	static char title[400];
	struct hx_buf want, got, entry[2];

	type.code = "11506-3";
	memset(title, 't', sizeof(title) - 1); /* an entry over 127 bytes: a 2-byte length */
	for (int i = 0; i < 2; i++) {
		hie__v1__document_entry__init(&e[i]);
		e[i].id = i == 0 ? "fedcba9876543210fedcba9876543210" : "0123456789abcdef0123456789abcdef";
		e[i].patient_id = "P1";
		e[i].origin_org = "1.2.3";
		e[i].type_code = &type;
		e[i].mime_type = "text/plain";
		e[i].title = i == 0 ? title : "short";
		e[i].status = HIE__V1__DOCUMENT_STATUS__DOCUMENT_STATUS_APPROVED;
		e[i].creation_time = 1;
		e[i].sha256.data = sha;
		e[i].sha256.len = 32;
		hx_buf_init(&entry[i], 1 << 20);
		assert_int_equal(proto_pack(&e[i], &entry[i]), HX_OK);
	}
	for (int truncated = 0; truncated < 2; truncated++) {
		r.n_entries = 2;
		r.entries = ep;
		r.truncated = truncated;
		hx_buf_init(&want, 1 << 20);
		hx_buf_init(&got, 1 << 20);
		assert_int_equal(proto_pack(&r, &want), HX_OK);
		for (int i = 0; i < 2; i++)
			assert_int_equal(proto_query_response_add_entry(&got, entry[i].data, entry[i].len),
			                 HX_OK);
		if (truncated)
			assert_int_equal(proto_query_response_set_truncated(&got), HX_OK);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len);
		hx_buf_clear(&want);
		hx_buf_clear(&got);
	}
	/* past the buffer's maximum */
	hx_buf_init(&got, 64);
	assert_int_equal(proto_query_response_add_entry(&got, entry[0].data, entry[0].len),
	                 HX_ELIMIT);
	hx_buf_clear(&got);
	for (int i = 0; i < 2; i++)
		hx_buf_clear(&entry[i]);
}

/* A birth date in the future is refused in what is sent to us (a Patient, a DiscoverRequest),
 * not in a StoredPatient read back (written before the rule, it stays readable). */
static void test_birth_date_future(void **state)
{
	Hie__V1__HumanName n = HIE__V1__HUMAN_NAME__INIT, *np[1] = {&n};
	char *given[1] = {"Ann"};
	Hie__V1__Demographics d = HIE__V1__DEMOGRAPHICS__INIT;
	Hie__V1__Patient p = HIE__V1__PATIENT__INIT;
	Hie__V1__StoredPatient sp = HIE__V1__STORED_PATIENT__INIT;
	Hie__V1__DiscoverRequest dr = HIE__V1__DISCOVER_REQUEST__INIT;
	(void)state;
	n.family = "Smith";
	n.given = given;
	n.n_given = 1;
	d.names = np;
	d.n_names = 1;
	p.id = "P1";
	p.demographics = &d;
	sp.patient = &p;
	dr.demographics = &d;
	dr.purpose = HIE__V1__PURPOSE_OF_USE__PURPOSE_OF_USE_TREATMENT;
	d.birth_date = "1980-01-02";
	assert_int_equal(proto_check(PROTO_PATIENT, &p), HX_OK);
	assert_int_equal(proto_check(PROTO_DISCOVER_REQUEST, &dr), HX_OK);
	assert_int_equal(proto_check(PROTO_STORED_PATIENT, &sp), HX_OK);
	d.birth_date = "2091-01-01";
	assert_int_not_equal(proto_check(PROTO_PATIENT, &p), HX_OK);
	assert_int_not_equal(proto_check(PROTO_DISCOVER_REQUEST, &dr), HX_OK);
	assert_int_equal(proto_check(PROTO_STORED_PATIENT, &sp), HX_OK);
	d.birth_date = "2023-02-30"; /* impossible: refused everywhere */
	assert_int_not_equal(proto_check(PROTO_STORED_PATIENT, &sp), HX_OK);
}

/* One length-delimited field read from wire bytes without decoding the rest. */
static void test_wire_find_bytes(void **state)
{
	(void)state;
	const uint8_t *d;
	size_t n;
	/* 1: varint 150; 2: "ab"; 5: fixed32; 1: fixed64; 2: "xyz" (the last one counts) */
	static const uint8_t msg[] = {0x08, 0x96, 0x01, 0x12, 2,    'a',  'b',  0x2d, 1,    2,
	                              3,    4,    0x09, 1,    2,    3,    4,    5,    6,    7,
	                              8,    0x12, 3,    'x',  'y',  'z'};
	assert_int_equal(proto_wire_find_bytes(msg, sizeof(msg), 2, &d, &n), 1);
	assert_int_equal(n, 3);
	assert_memory_equal(d, "xyz", 3);
	assert_int_equal(proto_wire_find_bytes(msg, sizeof(msg), 3, &d, &n), 0);
	assert_int_equal(proto_wire_find_bytes(msg, 0, 2, &d, &n), 0);
	/* Every cut inside a field is refused, never read past. */
	static const size_t ends[] = {0, 3, 7, 12, 21, 26}; /* where the fields end */
	for (size_t cut = 1; cut < sizeof(msg); cut++) {
		int whole = 0;
		for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
			whole |= ends[i] == cut;
		if (!whole)
			assert_int_equal(proto_wire_find_bytes(msg, cut, 2, &d, &n), -1);
	}
	static const uint8_t too_long[] = {0x12, 5, 'a'};       /* a length past the end */
	static const uint8_t group[] = {0x0b, 0x0c};             /* a group */
	static const uint8_t varint11[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                   0xff, 0xff, 0xff, 0xff, 0xff, 0x01}; /* 11 bytes */
	assert_int_equal(proto_wire_find_bytes(too_long, sizeof(too_long), 2, &d, &n), -1);
	assert_int_equal(proto_wire_find_bytes(group, sizeof(group), 2, &d, &n), -1);
	assert_int_equal(proto_wire_find_bytes(varint11, sizeof(varint11), 2, &d, &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_table),
		cmocka_unit_test(test_query_framing),
		cmocka_unit_test(test_wire_find_bytes),
		cmocka_unit_test(test_birth_date_future),
		cmocka_unit_test(test_samples_valid_and_full),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_scratch),
		cmocka_unit_test(test_walk_helpers),
		cmocka_unit_test(test_typed_wrappers),
		cmocka_unit_test(test_check_wrong_kind),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_too_many_elements),
		cmocka_unit_test(test_nested_counts),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_field_numbers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_random_garbage),
		cmocka_unit_test(test_ids_org),
		cmocka_unit_test(test_ids_doc),
		cmocka_unit_test(test_ids_patient),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_unknown_enum),
		cmocka_unit_test(test_required_fields),
		cmocka_unit_test(test_breaks),
		cmocka_unit_test(test_pack_limit),
		cmocka_unit_test(test_retrieve_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
