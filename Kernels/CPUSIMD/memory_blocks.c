// mremap for LargeBlockCache (declared in vision_simd.h): this target is the kernels'
// only C code, and mremap's prototype is variadic, which Swift does not import.

#define _GNU_SOURCE
#include <stddef.h>
#include <sys/mman.h>

#include "vision_simd.h"

void *vk_remap_block(void *p, unsigned long old_bytes, unsigned long new_bytes) {
#if defined(__linux__)
    void *q = mremap(p, (size_t)old_bytes, (size_t)new_bytes, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
#else
    (void)p; (void)old_bytes; (void)new_bytes;
    return NULL;
#endif
}
