/* Physical memory planning: where vigil's page pool goes, and the exact list
 * of ranges vigil owns (hidden from the guest). Pure: unit-tested on the host. */
#ifndef VIGIL_VMM_MEMMAP_H
#define VIGIL_VMM_MEMMAP_H

#include "lib/types.h"
#include "arch/x86_64/multiboot2.h"

struct mem_range {
    u64 start;   /* inclusive */
    u64 end;     /* exclusive */
};

#define MEM_MAX_AVOID 40

static inline bool range_overlaps(u64 a0, u64 a1, u64 b0, u64 b1) { return a0 < b1 && b0 < a1; }

/* Choose the highest `align`-aligned base for `size` bytes that lies wholly
 * inside available RAM of the memory map, at or above `floor`, below `limit`,
 * and overlaps neither any non-available map entry nor any range in avoid[].
 * Returns false when nothing fits. */
bool memmap_place(const struct boot_info *bi, const struct mem_range *avoid, u32 navoid,
                  u64 size, u64 align, u64 floor, u64 limit, u64 *base);

/* Total bytes of available RAM in the map (overlaps counted once is not
 * attempted: firmware maps are taken as given). */
u64 memmap_available(const struct boot_info *bi);

/* The end of the highest range the map names (any type), and at least
 * 4 GiB (the MMIO below it): how far guest-physical space reaches. */
u64 memmap_top(const struct boot_info *bi);

/* Is [start, end) entirely available RAM in the map? */
bool memmap_is_ram(const struct boot_info *bi, u64 start, u64 end);

/* The same answer as a list: the ranges below limit that memmap_is_ram
 * calls RAM and that overlap nothing in avoid[], sorted, disjoint and
 * merged where they touch. Returns their count, or -1 when there are more
 * than max. A range [s, e) then is RAM clear of avoid[] (and below limit)
 * exactly when one listed range holds it whole. */
#define MEMMAP_MAX_POINTS (2 * (MB2_MAX_MMAP + MEM_MAX_AVOID) + 2)
int memmap_ram_ranges(const struct boot_info *bi, const struct mem_range *avoid, u32 navoid, u64 limit,
                      struct mem_range *out, u32 max);

#endif
