/* Extended page tables: guest-physical == host-physical for all RAM and MMIO,
 * except the ranges vigil owns, which are not mapped at all (Intel SDM Vol. 3,
 * 29.3 "The Extended Page Table Mechanism"). Built once, before the guest
 * starts; the exit path never allocates. */
#ifndef VIGIL_VMM_EPT_H
#define VIGIL_VMM_EPT_H

#include "lib/types.h"
#include "vmm/memmap.h"
#include "vmm/mtrr.h"

#define EPT_R 1ull
#define EPT_W 2ull
#define EPT_X 4ull
#define EPT_RWX 7ull
#define EPT_LARGE (1ull << 7)

struct ept_stats {
    u32 pages_1g, pages_2m, pages_4k, tables;
    u64 top;                       /* end of the mapped guest-physical space */
};

/* alloc returns a zeroed, identity-mapped 4 KiB page (or NULL). */
typedef void *(*ept_alloc_fn)(void);

/* Build the tables; returns the PML4 (physical == virtual in vigil). */
u64 *ept_build(const struct mem_range *owned, u32 nowned, u64 top, const struct mtrr_state *mtrr,
               bool large_1g, bool large_2m, ept_alloc_fn alloc, struct ept_stats *st);

/* The leaf entry mapping gpa, and its level (1 = 4K, 2 = 2M, 3 = 1G);
 * NULL when gpa is not mapped. */
u64 *ept_lookup(u64 *pml4, u64 gpa, int *level);

u64 ept_pointer(const u64 *pml4);

/* Take away `deny` (EPT_W and/or EPT_X) from the 4 KiB page holding gpa,
 * splitting large pages with tables from alloc. False if gpa is unmapped
 * or alloc ran dry. */
bool ept_restrict(u64 *pml4, u64 gpa, u64 deny, ept_alloc_fn alloc);
/* Set the RWX bits of the (already 4 KiB) leaf holding gpa. */
bool ept_set_perms(u64 *pml4, u64 gpa, u64 rwx);
/* Execute permission off everywhere but the kept ranges (whole 4 KiB
 * pages): large pages stay large where they map no kept byte, and are
 * split where they map some. False if alloc ran dry (what was done stays). */
bool ept_deny_exec(u64 *pml4, const struct mem_range *keep, u32 nkeep, ept_alloc_fn alloc);
/* Execute permission back for the 4 KiB page holding gpa (split if need be). */
bool ept_allow_exec(u64 *pml4, u64 gpa, ept_alloc_fn alloc);

#endif
