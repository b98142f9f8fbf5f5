/* Physical page allocator over vigil's pool: a bitmap, first fit, contiguous
 * runs for structures that need them. Pure: it hands out addresses and never
 * touches the memory (hvmem zeroes pages). Used only at set-up time: nothing
 * is allocated on the VM-exit path. */
#ifndef VIGIL_VMM_PALLOC_H
#define VIGIL_VMM_PALLOC_H

#include "lib/types.h"

#define PAGE_SIZE 4096u
#define PALLOC_MAX_PAGES 8192u          /* 32 MiB pool at most */

struct palloc {
    u64 base;
    u32 npages;
    u32 used;
    u64 bitmap[PALLOC_MAX_PAGES / 64];
};

/* base must be page-aligned; npages at most PALLOC_MAX_PAGES. */
bool palloc_init(struct palloc *pa, u64 base, u32 npages);
/* n contiguous pages aligned to align_pages (a power of two); 0 if none. */
u64 palloc_alloc(struct palloc *pa, u32 n, u32 align_pages);
/* Frees n pages at addr; false (and nothing freed) if any is not allocated
 * or outside the pool. */
bool palloc_free(struct palloc *pa, u64 addr, u32 n);

#endif
