/* common_mem.c: the heap settings of a long-running process (see hx_malloc_tune in hx.h). */
#include "hx.h"

#include <malloc.h>

void hx_malloc_tune(void)
{
	/* Fixed values also turn off glibc's own adjustment of both thresholds, so the
	 * behaviour does not depend on which allocations a process happened to free first. */
	(void)mallopt(M_MMAP_THRESHOLD, (int)HX_MALLOC_MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, (int)HX_MALLOC_TRIM_THRESHOLD);
}
