/* Guest page-table walker: 4-level x86-64 paging (4 KiB, 2 MiB, 1 GiB pages),
 * reading tables through a callback that refuses anything that is not guest
 * RAM. A hostile guest's tables (loops, entries into vigil's memory or past
 * RAM, reserved bits) end the walk with an error, never a fault or a hang:
 * a walk reads at most four tables. Pure: unit-tested and fuzzed. */
#ifndef VIGIL_IDS_PTWALK_H
#define VIGIL_IDS_PTWALK_H

#include "lib/types.h"

/* Read 8 bytes of guest-physical memory; false if gpa is not guest RAM. */
typedef bool (*pt_read_fn)(void *ctx, u64 gpa, u64 *val);

enum pt_status {
    PT_OK = 0,
    PT_NOT_PRESENT,        /* an entry on the way has P = 0 */
    PT_BAD_TABLE,          /* a table lies outside guest RAM (vigil's memory, MMIO, past RAM) */
    PT_RESERVED,           /* reserved bits set in an entry */
    PT_NONCANONICAL,       /* the address is not canonical */
};

struct pt_walk {
    enum pt_status status;
    int level;                     /* where the walk ended: 4 = PML4 ... 1 = PT */
    u64 entries[4];                /* entries read, PML4 first */
    u64 table_gpa[4];              /* the table each was read from */
    u64 gpa;                       /* translated address (PT_OK) */
    u64 page_size;                 /* 4 KiB, 2 MiB or 1 GiB */
    bool writable, user, nx;       /* effective permissions (all levels combined) */
};

#define PT_ADDR_MASK 0x000ffffffffff000ull

/* cr3: the guest's CR3 (PCID and flag bits are masked off). maxphys: the
 * CPU's physical address width, for the reserved-bit checks. */
enum pt_status pt_walk(u64 cr3, u64 gva, u32 maxphys, pt_read_fn read, void *ctx, struct pt_walk *w);
const char *pt_status_name(enum pt_status s);

#endif
