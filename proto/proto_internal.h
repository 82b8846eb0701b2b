/* proto_internal.h: shared between the files of proto/ only. */
#ifndef HX_PROTO_INTERNAL_H
#define HX_PROTO_INTERNAL_H

#include "proto.h"

/* Walk a message checking the caps of proto_check.c. HX_OK or HX_EPARSE. */
int proto_walk(const ProtobufCMessage *m);
/* Wire-level checks protobuf-c does not make: no NUL inside a string field (protobuf-c
 * would cut the string there), field numbers 1..2^29-1 (others do not repack). HX_OK or
 * HX_EPARSE. */
int proto_wire_check(const ProtobufCMessageDescriptor *md, const uint8_t *buf, size_t len);

#endif
