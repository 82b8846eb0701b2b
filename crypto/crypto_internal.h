/* crypto_internal.h: shared by the files of crypto/ only. */
#ifndef HX_CRYPTO_INTERNAL_H
#define HX_CRYPTO_INTERNAL_H

#include <stddef.h>

/* Put a sentence in err[errlen] (when err is not NULL) and return rc. */
int crypto_say(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
