/* The guest page-table walker: the one place that knows the x86 paging
 * structures (SDM Vol. 3, ch. 4), for every paging mode a guest can run:
 *   - 32-bit paging (4 KiB pages; 4 MiB pages under CR4.PSE, with PSE-36
 *     high address bits up to bit min(MAXPHYADDR, 40) - 1),
 *   - PAE paging (the four PDPTEs are supplied by the caller: outside long
 *     mode the CPU holds them in registers, the VMCS's guest PDPTEs),
 *   - 4-level paging (4 KiB, 2 MiB, 1 GiB pages).
 * 5-level paging (CR4.LA57) is refused: PT_UNSUPPORTED.
 *
 * Reserved bits are checked as the CPU checks them (SDM 4.3-4.5; bits
 * MAXPHYADDR and up of an address, bit 63 without EFER.NXE, PS in a PML4E,
 * the low address bits of a large page, the reserved bits of a PDPTE):
 * PT_RESERVED is where the CPU would raise #PF with P = 1 and RSVD = 1.
 * Ignored and OS-available bits are not checked. The 1-GiB-page and PSE-36
 * features are taken as present (every VT-x processor has both).
 *
 * Tables are reached through a callback that maps a 4 KiB page of guest
 * RAM and refuses anything else (vigil's memory, MMIO, past RAM). Each entry
 * is read once. A walk reads at most four tables; a visit at most the
 * tables its budget allows. Hostile tables (loops, entries pointing into
 * vigil's memory, reserved bits) end a walk with a status, never a fault or
 * a hang. Pure: unit-tested (tests/unit/test_ptwalk.c) and fuzzed
 * (tests/fuzz/fuzz_ptwalk.c). */
#ifndef VIGIL_LIB_PTWALK_H
#define VIGIL_LIB_PTWALK_H

#include "lib/types.h"

/* Bits 51:12 of CR3 or of an 8-byte paging-structure entry (page tables
 * and EPT alike): the address of a table or page frame. */
#define PT_ADDR_MASK 0x000ffffffffff000ull
/* Bits 31:5 of CR3 under PAE paging: the 32-byte-aligned PDPT. */
#define PT_PDPT_MASK 0x00000000ffffffe0ull

enum pt_mode {
    PT_MODE_32BIT,         /* CR0.PG, CR4.PAE = 0 */
    PT_MODE_PAE,           /* CR0.PG, CR4.PAE, EFER.LMA = 0 */
    PT_MODE_4LEVEL,        /* EFER.LMA, CR4.LA57 = 0 */
    PT_MODE_5LEVEL,        /* EFER.LMA, CR4.LA57: not supported */
};

/* An address space as the CPU sees it. */
struct pt_paging {
    enum pt_mode mode;
    u64 cr3;               /* flag and PCID bits are ignored */
    u32 maxphys;           /* MAXPHYADDR (CPUID 0x80000008); taken within 32..52 */
    bool pse;              /* CR4.PSE: 4 MiB pages in 32-bit paging (PAE and 4-level always have large pages) */
    bool nxe;              /* EFER.NXE: bit 63 is XD; without it bit 63 is reserved (PAE, 4-level) */
    u64 pdpte[4];          /* PAE paging: the PDPTE registers */
};

/* The paging mode of CR0/CR4/EFER (pdpte left zero for the caller to fill
 * in). False when paging is off (CR0.PG = 0). */
bool pt_paging_of(u64 cr0, u64 cr4, u64 efer, u64 cr3, u32 maxphys, struct pt_paging *pg);

/* A PAE PDPTE is usable: not present, or present with no reserved bit
 * (2:1, 8:5, 63:MAXPHYADDR). Loading one that is not faults (#GP). */
bool pt_pdpte_valid(u64 pdpte, u32 maxphys);

/* The 4 KiB page of guest RAM at gpa (4 KiB-aligned), or NULL when it is not
 * guest RAM. The walker reads each entry once, and nothing past the page. */
typedef const void *(*pt_map_fn)(void *ctx, u64 gpa);

enum pt_status {
    PT_OK = 0,
    PT_NOT_PRESENT,        /* an entry on the way has P = 0: #PF with P = 0 */
    PT_BAD_TABLE,          /* a table lies outside guest RAM (vigil's memory, MMIO, past RAM) */
    PT_RESERVED,           /* reserved bits set in an entry: #PF with P = 1, RSVD = 1 */
    PT_NONCANONICAL,       /* not an address of the mode (non-canonical, or above 4 GiB outside long mode): #GP */
    PT_UNSUPPORTED,        /* 5-level paging */
};

/* Levels are numbered as in 4-level paging whatever the mode: 4 = PML4E,
 * 3 = PDPTE, 2 = PDE, 1 = PTE. PAE paging starts at 3 (the PDPTE
 * registers), 32-bit paging at 2 (its 4-byte entries are zero-extended). */
struct pt_walk {
    enum pt_status status;
    int level;                     /* where the walk ended */
    u64 entries[4];                /* entries read, PML4E first: entries[4 - level] */
    u64 table_gpa[4];              /* the table each was read from (PAE: the PDPT's address in CR3) */
    u64 gpa;                       /* translated address (PT_OK) */
    u64 page_size;                 /* 4 KiB, 2 MiB, 4 MiB or 1 GiB (PT_OK) */
    /* The access rights of the translation (PT_OK), combined over every
     * level as SDM 4.6 does before CPL, CR0.WP, SMEP and SMAP, which the
     * caller applies: writable = R/W is 1 in every entry, user = U/S is 1 in
     * every entry, nx = XD is 1 in some entry (never in 32-bit paging; PAE
     * PDPTEs carry no rights). */
    bool writable, user, nx;
};

enum pt_status pt_walk(const struct pt_paging *pg, u64 gva, pt_map_fn map, void *ctx, struct pt_walk *w);
const char *pt_status_name(enum pt_status s);

/* ---- the range visitor: every leaf mapping a part of [first, last] ---- */

/* A table the visitor has mapped, before it reads the entries. */
struct pt_table {
    u64 gpa;
    const void *entries;           /* its 4 KiB: 512 8-byte entries (1024 4-byte ones in 32-bit paging) */
    int level;
    u64 gva;                       /* the first address it maps (canonical) */
    bool writable, user, nx;       /* the rights the entries above it grant */
};

enum pt_table_verdict {
    PT_VISIT_ALL,                  /* its leaves and its child tables */
    PT_VISIT_TABLES,               /* only its child tables (its leaves are known) */
    PT_VISIT_NONE,                 /* nothing below it */
};

/* A page the tables map: present, without reserved bits. */
struct pt_leaf {
    u64 gva;                       /* its first address (canonical); may lie before first */
    u64 gpa;                       /* its frame */
    u64 size;
    u64 entry;
    int level;
    bool writable, user, nx;       /* as in struct pt_walk */
};

struct pt_visitor {
    pt_map_fn map;
    void *ctx;
    u32 max_tables;                /* tables read at most (the root included); the rest are not read */
    /* Optional: each table read, before its entries. */
    enum pt_table_verdict (*table)(void *ctx, const struct pt_table *t);
    /* Optional: each table about to be read (its frame, level, first
     * address and inherited rights); true passes over it and everything
     * below it, unread and not counted against max_tables (a table the
     * caller has seen already in this visit, at another place). */
    bool (*pass)(void *ctx, u64 gpa, int level, bool writable, bool user, bool nx);
    /* Each leaf, in address order; false stops the visit. */
    bool (*leaf)(void *ctx, const struct pt_leaf *l);
};

struct pt_visit_stats {
    u32 tables;                    /* tables read */
    u32 over_budget;               /* tables not read: max_tables reached */
    u32 passed;                    /* tables the pass callback passed over */
    u32 bad_tables;                /* tables outside guest RAM (the root included) */
    u32 reserved;                  /* entries with reserved bits: not followed, no leaf (the page
                                    * entries of a PT_VISIT_TABLES table are not looked at) */
    u64 leaves;                    /* leaf callbacks made */
    bool stopped;                  /* a leaf callback stopped the visit */
};

/* Visits the leaves that map any part of [first, last] (inclusive; the
 * non-canonical hole, or what lies above 4 GiB outside long mode, is
 * passed over). An entry with reserved bits maps nothing (the CPU faults on
 * it) and is passed over: PS in a PML4E is one. Returns PT_UNSUPPORTED for
 * 5-level paging, else PT_OK; stats (may be NULL) says what was seen. */
enum pt_status pt_visit(const struct pt_paging *pg, u64 first, u64 last, const struct pt_visitor *v,
                        struct pt_visit_stats *stats);

#endif
