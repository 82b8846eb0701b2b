/* fuzz.h: the libFuzzer entry point, shared by the targets and the plain corpus driver. */
#ifndef HX_FUZZ_H
#define HX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run one input. Returns 0; a violated invariant aborts (libFuzzer records the input). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* HX_FUZZ_H */
