/* proto_samples_walk.c: generic walks over any message by its descriptor (compare, check
 * that every field is set, grow a repeated field). */
#include "proto_samples.h"

#include <string.h>

static size_t elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4; /* 32-bit integers, enums, float */
	}
}

static size_t *count_of(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (size_t *)((char *)m + f->quantifier_offset);
}

static void *at(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return (char *)m + f->offset;
}

static int value_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *x = *(char *const *)a, *y = *(char *const *)b;
		return strcmp(x != NULL ? x : "", y != NULL ? y : "") == 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *x = a, *y = b;
		return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *x = *(ProtobufCMessage *const *)a;
		const ProtobufCMessage *y = *(ProtobufCMessage *const *)b;
		if (x == NULL || y == NULL)
			return x == y;
		return proto_sample_equal(x, y);
	}
	default:
		return memcmp(a, b, elem_size(f)) == 0;
	}
}

int proto_sample_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	const ProtobufCMessageDescriptor *md = a->descriptor;

	if (b->descriptor != md)
		return 0;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *count_of(a, f);
			const char *xa = *(char **)at(a, f), *xb = *(char **)at(b, f);
			if (n != *count_of(b, f))
				return 0;
			for (size_t k = 0; k < n; k++)
				if (!value_equal(f, xa + k * elem_size(f), xb + k * elem_size(f)))
					return 0;
		} else if (!value_equal(f, at(a, f), at(b, f))) {
			return 0;
		}
	}
	return 1;
}

static int value_set(const ProtobufCFieldDescriptor *f, const void *p, const char **unset)
{
	static const uint8_t zero[8];
	int ok;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		ok = s != NULL && s[0] != '\0';
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		ok = ((const ProtobufCBinaryData *)p)->len != 0;
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
		if (sub != NULL)
			return proto_sample_all_set(sub, unset);
		ok = 0;
		break;
	}
	default:
		ok = memcmp(p, zero, elem_size(f)) != 0;
		break;
	}
	if (!ok)
		*unset = f->name;
	return ok;
}

int proto_sample_all_set(const ProtobufCMessage *m, const char **unset)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;

	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *count_of(m, f);
			const char *arr = *(char **)at(m, f);
			if (n < 2) {
				*unset = f->name;
				return 0;
			}
			for (size_t k = 0; k < n; k++)
				if (!value_set(f, arr + k * elem_size(f), unset))
					return 0;
		} else if (!value_set(f, at(m, f), unset)) {
			return 0;
		}
	}
	return 1;
}

int proto_sample_repeat(struct proto_sample *s, ProtobufCMessage *m, const char *name, size_t n)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
	size_t esz;
	char *copy;
	void **arr;

	if (f == NULL || f->label != PROTOBUF_C_LABEL_REPEATED || *count_of(m, f) == 0)
		return HX_ENOTFOUND;
	esz = elem_size(f);
	arr = at(m, f);
	copy = proto_sample_alloc(s, n * esz);
	for (size_t k = 0; k < n; k++)
		memcpy(copy + k * esz, *arr, esz);
	*arr = copy;
	*count_of(m, f) = n;
	return HX_OK;
}
