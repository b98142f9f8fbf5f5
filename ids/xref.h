/* Reference translations: for each protected object, the chain of paging
 * entries (PML4E, PDPTE, PDE, PTE) through which the kernel's address space
 * maps each of its pages, with the bits that decide what the address means
 * (frame, P, RW, US, PS, XD). Built once, at the boot lock, from the kernel's
 * page tables; then every write to a table page on those chains, and every
 * new address space's top-level entries, is compared with it. Pure: the
 * tables are read through the walker's map callback (unit-tested in
 * tests/unit/test_xref.c). */
#ifndef VIGIL_IDS_XREF_H
#define VIGIL_IDS_XREF_H

#include "lib/types.h"
#include "lib/ptwalk.h"

#define XREF_MAX_ENTRIES 512           /* distinct entries on every chain (Linux: its 4 KiB-split tails) */
#define XREF_MAX_TABLES 24             /* distinct table pages holding them */
#define XREF_MAX_OBJECTS 8
/* The bits of an entry that say which frame an address means and how it may
 * be used; accessed, dirty, global, caching and ignored bits are not judged. */
#define XREF_BITS (PT_ADDR_MASK | 0x87ull | (1ull << 63))

struct xref_entry {
    u64 table;                         /* gpa of the table page holding it */
    u16 index;                         /* its index in that table */
    u8 level;                          /* 4 = PML4E ... 1 = PTE */
    u8 objs;                           /* bit i: object i's translation goes through it */
    u64 value;                         /* the whole entry at the lock (what a block puts back) */
    u64 va;                            /* the first protected address that goes through it */
};

struct xref_object {
    const char *what;
    u64 va, len;
    u32 owner;                         /* the caller's number for it (its policy) */
};

struct xref {
    u32 n, ntables, nobjs;
    struct xref_entry e[XREF_MAX_ENTRIES];
    u64 tables[XREF_MAX_TABLES];
    struct xref_object obj[XREF_MAX_OBJECTS];
};

static inline bool xref_same(const struct xref_entry *x, u64 value)
{
    return (value & XREF_BITS) == (x->value & XREF_BITS);
}

void xref_init(struct xref *r);
/* Record the chains of every page of [va, va + len) in the address space
 * pg: object `what` (owner: the caller's number). Returns 0, or -1 with err
 * saying what did not translate or what table is full. All or nothing. */
int xref_add(struct xref *r, const struct pt_paging *pg, pt_map_fn map, void *ctx, const char *what, u64 va,
             u64 len, u32 owner, char *err, size_t errlen);
/* The index of table page gpa in r->tables, or -1. */
int xref_table_of(const struct xref *r, u64 gpa);
/* The entries of table page `table` whose judged bits differ from the
 * reference in the 512 entries `now`: their indexes in r->e, at most max of
 * them, into out. Returns how many. */
u32 xref_changed(const struct xref *r, u64 table, const u64 *now, u32 *out, u32 max);
/* The name of a level's entry: "PML4E", "PDPTE", "PDE", "PTE". */
const char *xref_level_name(u8 level);

#endif
