/* Hypervisor memory: the pool vigil allocates its own structures from, and
 * the exact list of physical ranges vigil owns (its image and its pool). */
#ifndef VIGIL_VMM_HVMEM_H
#define VIGIL_VMM_HVMEM_H

#include "lib/types.h"
#include "vmm/memmap.h"

#define HV_OWNED_MAX 4

void hvmem_init(const struct boot_info *bi);
/* n zeroed contiguous pages, aligned to align_pages; panics when exhausted
 * (only called at set-up time). */
void *hv_alloc_pages(u32 n, u32 align_pages);
/* The ranges vigil owns, sorted by address. */
u32 hvmem_owned(const struct mem_range **ranges);
bool hvmem_overlaps_owned(u64 start, u64 end);
void hvmem_stats(u32 *used_pages, u32 *total_pages);

#endif
