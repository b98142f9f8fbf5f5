/* Intel VT-d (Intel Virtualization Technology for Directed I/O,
 * Architecture Specification rev. 4.1), the pure part: the ACPI DMAR table
 * (chapter 8: its remapping hardware units and reserved memory regions),
 * and the DMA remapping tables vigil would give every unit (chapter 9):
 * one root table, one context table shared by every bus, every device in
 * one domain whose second-level tables identity-map guest memory except
 * vigil's (not present) and the frames the IDS protects (read-only, or not
 * present for a read trap). The programming of a unit goes through a
 * register-access interface (struct vtd_mmio), so that it too runs on the
 * host against a model of the registers: no machine here has a unit (Bochs
 * has no VT-d), see docs/design.md. */
#ifndef VIGIL_VMM_VTD_H
#define VIGIL_VMM_VTD_H

#include "lib/types.h"

#define DMAR_MAX_UNITS 8
#define DMAR_MAX_RMRR 8

struct dmar_unit { u64 reg_base; u16 segment; bool include_all; };
struct dmar_rmrr { u64 base, limit; u16 segment; };    /* [base, limit] inclusive, as the table gives it */

struct dmar_info {
    u8 haw;                          /* host address width in bits */
    u8 flags;
    u32 nunits, nrmrr;
    struct dmar_unit unit[DMAR_MAX_UNITS];
    struct dmar_rmrr rmrr[DMAR_MAX_RMRR];
};

/* Parse a DMAR table (signature, length and checksum checked; at most len
 * bytes read; every structure's length checked). 0, or -1 with err. */
int dmar_parse(const u8 *t, size_t len, struct dmar_info *d, char *err, size_t errlen);

/* What a device may do at a page: nothing, read it, or read and write. */
enum { VTD_NONE = 0, VTD_READ = 1, VTD_RW = 3 };

/* A range the devices may not (fully) reach: [start, end), whole pages
 * after rounding outwards. */
struct vtd_deny { u64 start, end; u8 perm; };

/* Zeroed 4 KiB page, 4 KiB-aligned, whose address the hardware uses (vigil
 * is identity-mapped); NULL when none is left. */
typedef void *(*vtd_alloc_fn)(void *ctx);

struct vtd_stats { u32 tables, pages_2m, pages_4k; };

/* Build the tables: [0, top) identity-mapped read-write (2 MiB pages where
 * nothing denied lies inside, when large is true), minus the denied ranges
 * (the least permission of all that cover a page wins). Returns the root
 * table's address, 0 when the allocator ran dry or top is beyond 512 GiB. */
u64 vtd_build(u64 top, const struct vtd_deny *deny, u32 ndeny, bool large, vtd_alloc_fn alloc, void *ctx,
              struct vtd_stats *st);
/* Walk the tables as a remapping unit would for a request by bus:devfn to
 * address addr: the permission it finds (VTD_NONE on any missing entry). */
u32 vtd_lookup(u64 root, u8 bus, u8 devfn, u64 addr);
/* Lower the permission of the 4 KiB page at addr to perm (the least of the
 * old and the new), splitting a 2 MiB page with a table from alloc. False
 * when addr is beyond the tables or alloc ran dry. */
bool vtd_restrict(u64 root, u64 addr, u32 perm, vtd_alloc_fn alloc, void *ctx);

/* A remapping unit's registers (chapter 11): reads and writes at offsets
 * from its register base. */
struct vtd_mmio {
    void *ctx;
    u32 (*rd32)(void *ctx, u32 off);
    u64 (*rd64)(void *ctx, u32 off);
    void (*wr32)(void *ctx, u32 off, u32 v);
    void (*wr64)(void *ctx, u32 off, u64 v);
};
/* The bytes of its register page(s), from its capabilities: at least 4 KiB. */
u64 vtd_reg_size(const struct vtd_mmio *io);
/* Give the unit the root table and turn translation on: root table pointer
 * set and latched, context cache and IOTLB invalidated globally (register-
 * based invalidation), translation enabled. Each step is waited for, at
 * most `spins` reads. 0, or -1 with err naming the step or the missing
 * capability (no 4-level second-level tables, queued invalidation already
 * on). */
int vtd_enable(const struct vtd_mmio *io, u64 root, u32 spins, char *err, size_t errlen);
/* Invalidate the unit's IOTLB (after vtd_restrict). 0, or -1 with err. */
int vtd_flush(const struct vtd_mmio *io, u32 spins, char *err, size_t errlen);

#endif
