/*
 * tests/support/proto_samples.h: a valid sample message of every proto_kind, for the unit
 * tests and the fuzz seed corpus.
 *
 * A sample is built in memory from an arena that belongs to `struct proto_sample`. Its
 * fields may be changed freely afterwards (pointed at string literals, at the caller's
 * arrays or at proto_sample_alloc() memory): proto_sample_clear() frees only the arena.
 * Never pass a sample's `msg` to proto_free().
 *
 * Memory exhaustion aborts (this is test code).
 */
#ifndef HX_PROTO_SAMPLES_H
#define HX_PROTO_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "hx.h"
#include "proto.h"

enum proto_sample_variant {
	/* Every field set (strings non-empty, numbers non-zero, enums known and not
	 * UNSPECIFIED, sub-messages present), every repeated field with at least 2 elements. */
	PROTO_SAMPLE_FULL,
	/* Only what the kind's validator requires; may pack to zero bytes. */
	PROTO_SAMPLE_MINIMAL,
};

struct proto_sample_chunk;

struct proto_sample {
	enum proto_kind kind;
	ProtobufCMessage *msg;             /* the root message; its descriptor is the kind's */
	struct proto_sample_chunk *chunks; /* the arena (private) */
};

/* Build the sample of `kind`. HX_EINVAL for an unknown kind or variant (s is then empty,
 * and proto_sample_clear() is still safe). */
int proto_sample_init(struct proto_sample *s, enum proto_kind kind,
                      enum proto_sample_variant variant);
/* Free the arena; the sample is empty afterwards. */
void proto_sample_clear(struct proto_sample *s);

/* Zeroed memory that lives until proto_sample_clear(). */
void *proto_sample_alloc(struct proto_sample *s, size_t n);
char *proto_sample_strdup(struct proto_sample *s, const char *str);

/*
 * Make the sample invalid in the i-th way known for its kind (a bad id, a missing required
 * field, a wrong fixed length, an unknown enum value, a control character...), for tests
 * and near-miss seeds. `s` must be a freshly built PROTO_SAMPLE_FULL sample. On success
 * *what describes the change (static string). HX_ENOTFOUND when i is past the last way
 * (LocatorPublishAck has none: a bare sequence number cannot be invalid).
 */
int proto_sample_break(struct proto_sample *s, unsigned i, const char **what);

/* ---- walks over any message, by its descriptor (proto_samples_walk.c) ---- */

/* 1 when every field of a and b is equal, recursively (a NULL string equals ""), else 0. */
int proto_sample_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);
/* 1 when every field of m is set as PROTO_SAMPLE_FULL promises, recursively; else 0 and
 * *unset names the first field that is not. */
int proto_sample_all_set(const ProtobufCMessage *m, const char **unset);
/* Make repeated field `name` of m (part of sample s) hold n copies of its first element.
 * HX_ENOTFOUND when m has no such repeated field or it is empty. */
int proto_sample_repeat(struct proto_sample *s, ProtobufCMessage *m, const char *name,
                        size_t n);

/* Build the sample and append its packed bytes to `out` (HX_EINVAL, HX_ELIMIT). */
int proto_sample_pack(enum proto_kind kind, enum proto_sample_variant variant,
                      struct hx_buf *out);

#endif /* HX_PROTO_SAMPLES_H */
