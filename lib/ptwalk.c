/* The guest page-table walker and range visitor (lib/ptwalk.h). One
 * description of the mode (struct geom) and one decoding of an entry
 * (classify) serve both. */
#include "lib/ptwalk.h"
#include "lib/string.h"

#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define PS  (1ull << 7)
#define XD  (1ull << 63)

#define CR0_PG   (1ull << 31)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* A paging mode, resolved once per walk or visit. Levels as in pt_walk. */
struct geom {
    int top;               /* level of the root table in memory (PAE: the PDs below the PDPTEs) */
    bool wide;             /* 8-byte entries (4-byte in 32-bit paging) */
    u32 bits;              /* index bits per level: 9, or 10 in 32-bit paging */
    u32 va_bits;           /* 48, or 32 outside long mode */
    u64 phys;              /* the physical address space: bits MAXPHYADDR-1:0 */
    u64 addr;              /* where an entry holds a table or frame address */
    u64 rsvd[5];           /* reserved bits of an entry pointing to a table at each level; [1]: a PTE */
    u64 rsvd_large[5];     /* reserved bits of a large page at levels 2 and 3 */
    bool large[5];         /* PS makes a large page at this level */
};

static u64 phys_mask(u32 maxphys)
{
    u32 m = maxphys < 32 ? 32 : maxphys > 52 ? 52 : maxphys;
    return (1ull << m) - 1;
}

static bool geom_of(const struct pt_paging *pg, struct geom *g)
{
    memset(g, 0, sizeof(*g));
    g->phys = phys_mask(pg->maxphys);
    u64 nx = pg->nxe ? 0 : XD;
    switch (pg->mode) {
    case PT_MODE_32BIT: {                              /* SDM 4.3, Tables 4-4 to 4-6 */
        u32 m = pg->maxphys < 32 ? 32 : pg->maxphys > 40 ? 40 : pg->maxphys;   /* PSE-36 reaches bit 39 */
        g->top = 2;
        g->bits = 10;
        g->va_bits = 32;
        g->addr = 0xfffff000ull;
        g->large[2] = pg->pse;                         /* without CR4.PSE, PS is ignored */
        /* A 4 MiB page holds address bits m-1:32 in bits m-20:13; bits
         * 21:m-19 are reserved. No other entry has reserved bits. */
        g->rsvd_large[2] = 0x3fffffull & ~((1ull << (m - 19)) - 1);
        return true;
    }
    case PT_MODE_PAE: {                                /* SDM 4.4, Tables 4-8 to 4-11 */
        u64 above = ~g->phys & ~XD;                    /* bits 62:MAXPHYADDR */
        g->top = 2;
        g->wide = true;
        g->bits = 9;
        g->va_bits = 32;
        g->addr = PT_ADDR_MASK;
        g->rsvd[2] = g->rsvd[1] = above | nx;
        g->large[2] = true;
        g->rsvd_large[2] = above | nx | 0x1fe000ull;   /* bits 20:13 (bit 12 is PAT) */
        return true;
    }
    case PT_MODE_4LEVEL: {                             /* SDM 4.5, Tables 4-15 to 4-20 */
        u64 above = PT_ADDR_MASK & ~g->phys;           /* bits 51:MAXPHYADDR; 62:52 are ignored */
        g->top = 4;
        g->wide = true;
        g->bits = 9;
        g->va_bits = 48;
        g->addr = PT_ADDR_MASK;
        g->rsvd[4] = above | nx | PS;                  /* PS must be 0 in a PML4E */
        g->rsvd[3] = g->rsvd[2] = g->rsvd[1] = above | nx;
        g->large[3] = g->large[2] = true;
        g->rsvd_large[3] = above | nx | 0x3fffe000ull; /* bits 29:13 */
        g->rsvd_large[2] = above | nx | 0x1fe000ull;   /* bits 20:13 */
        return true;
    }
    case PT_MODE_5LEVEL:
        break;
    }
    return false;
}

bool pt_paging_of(u64 cr0, u64 cr4, u64 efer, u64 cr3, u32 maxphys, struct pt_paging *pg)
{
    memset(pg, 0, sizeof(*pg));
    if (!(cr0 & CR0_PG))
        return false;
    if (efer & EFER_LMA)
        pg->mode = cr4 & CR4_LA57 ? PT_MODE_5LEVEL : PT_MODE_4LEVEL;
    else
        pg->mode = cr4 & CR4_PAE ? PT_MODE_PAE : PT_MODE_32BIT;
    pg->cr3 = cr3;
    pg->maxphys = maxphys;
    pg->pse = cr4 & CR4_PSE;
    pg->nxe = efer & EFER_NXE;
    return true;
}

bool pt_pdpte_valid(u64 pdpte, u32 maxphys)
{
    return !(pdpte & P) || !(pdpte & (0x1e6ull | ~phys_mask(maxphys)));
}

/* The entry is read once: the guest may be changing its tables. */
static inline u64 entry(const struct geom *g, const void *t, u32 i)
{
    return g->wide ? ((const volatile u64 *)t)[i] : ((const volatile u32 *)t)[i];
}

static inline u32 shift_of(const struct geom *g, int lvl) { return 12 + g->bits * (u32)(lvl - 1); }

enum kind { K_ABSENT, K_RESERVED, K_TABLE, K_LEAF };

/* What entry e at level lvl is; *addr is the table or frame, *size a
 * leaf's size. */
static inline enum kind classify(const struct geom *g, int lvl, u64 e, u64 *addr, u64 *size)
{
    if (!(e & P))
        return K_ABSENT;
    if (lvl > 1 && !(g->large[lvl] && (e & PS))) {
        if (e & g->rsvd[lvl])
            return K_RESERVED;
        *addr = e & g->addr;
        return K_TABLE;
    }
    if (e & (lvl == 1 ? g->rsvd[1] : g->rsvd_large[lvl]))
        return K_RESERVED;
    *size = 1ull << shift_of(g, lvl);
    if (!g->wide && lvl == 2)
        *addr = (e & 0xffc00000ull) | (e & 0x1fe000ull) << 19;     /* PSE-36: bits 20:13 are 39:32 */
    else
        *addr = e & g->addr & ~(*size - 1);                      /* a large page's bit 12 is PAT */
    return K_LEAF;
}

static inline u64 canonical(const struct geom *g, u64 x)
{
    return g->va_bits == 48 ? (u64)((s64)(x << 16) >> 16) : x;
}

enum pt_status pt_walk(const struct pt_paging *pg, u64 gva, pt_map_fn map, void *ctx, struct pt_walk *w)
{
    memset(w, 0, sizeof(*w));
    w->writable = w->user = true;
    struct geom g;
    if (!geom_of(pg, &g))
        return w->status = PT_UNSUPPORTED;
    if (canonical(&g, gva & ((1ull << g.va_bits) - 1)) != gva)
        return w->status = PT_NONCANONICAL;
    u64 table = pg->cr3 & g.addr & g.phys;
    if (pg->mode == PT_MODE_PAE) {
        u64 e = pg->pdpte[gva >> 30 & 3];               /* PDPTEs grant no rights */
        w->level = 3;
        w->table_gpa[1] = pg->cr3 & PT_PDPT_MASK;
        w->entries[1] = e;
        if (!(e & P))
            return w->status = PT_NOT_PRESENT;
        if (!pt_pdpte_valid(e, pg->maxphys))
            return w->status = PT_RESERVED;
        table = e & PT_ADDR_MASK;
    }
    for (int lvl = g.top; lvl >= 1; lvl--) {
        w->level = lvl;
        w->table_gpa[4 - lvl] = table;
        const void *t = map(ctx, table);
        if (!t)
            return w->status = PT_BAD_TABLE;
        u64 e = entry(&g, t, (u32)(gva >> shift_of(&g, lvl)) & ((1u << g.bits) - 1));
        w->entries[4 - lvl] = e;
        u64 addr = 0, size = 0;
        enum kind k = classify(&g, lvl, e, &addr, &size);
        if (k == K_ABSENT)
            return w->status = PT_NOT_PRESENT;
        if (k == K_RESERVED)
            return w->status = PT_RESERVED;
        w->writable &= !!(e & RW);
        w->user &= !!(e & US);
        w->nx |= !!(e & XD);
        if (k == K_LEAF) {
            w->page_size = size;
            w->gpa = addr | (gva & (size - 1));
            return w->status = PT_OK;
        }
        table = addr;
    }
    return w->status = PT_BAD_TABLE;                   /* not reached: level 1 is always a leaf */
}

const char *pt_status_name(enum pt_status s)
{
    switch (s) {
    case PT_OK: return "ok";
    case PT_NOT_PRESENT: return "not present";
    case PT_BAD_TABLE: return "page table outside guest RAM";
    case PT_RESERVED: return "reserved bits set";
    case PT_NONCANONICAL: return "non-canonical address";
    case PT_UNSUPPORTED: return "5-level paging is not supported";
    }
    return "?";
}

/* ---- the range visitor ---- */

/* Addresses inside the visitor are linear-space offsets: the low va_bits
 * bits, so that the canonical upper half follows the lower one with no
 * hole. Callbacks see canonical addresses. */
struct visit {
    const struct geom *g;
    const struct pt_visitor *v;
    struct pt_visit_stats *st;
    u64 first, last;
    u32 tables_left;
};

/* The table at gpa, at level lvl, mapping from base; w, u, nx: the rights
 * granted above it. False once a leaf callback stopped the visit. */
static bool visit_table(struct visit *c, u64 gpa, int lvl, u64 base, bool w, bool u, bool nx)
{
    const struct geom *g = c->g;
    if (!c->tables_left) {
        c->st->over_budget++;
        return true;
    }
    const void *t = c->v->map(c->v->ctx, gpa);
    if (!t) {
        c->st->bad_tables++;
        return true;
    }
    c->tables_left--;
    c->st->tables++;
    enum pt_table_verdict verdict = PT_VISIT_ALL;
    if (c->v->table) {
        struct pt_table d = { gpa, t, lvl, canonical(g, base), w, u, nx };
        verdict = c->v->table(c->v->ctx, &d);
        if (verdict == PT_VISIT_NONE || (verdict == PT_VISIT_TABLES && lvl == 1))
            return true;
    }
    u32 shift = shift_of(g, lvl), n = 1u << g->bits;
    /* The table's entries that map part of [first, last]: it maps part. */
    u32 i0 = c->first > base ? (u32)((c->first - base) >> shift) : 0;
    u32 i1 = c->last - base < ((u64)n << shift) - 1 ? (u32)((c->last - base) >> shift) : n - 1;
    for (u32 i = i0; i <= i1; i++) {
        u64 e = entry(g, t, i), addr = 0, size = 0;
        enum kind k = classify(g, lvl, e, &addr, &size);
        if (k == K_ABSENT)
            continue;
        if (k == K_RESERVED) {
            c->st->reserved++;
            continue;
        }
        u64 x = base + ((u64)i << shift);
        bool ew = w && (e & RW), eu = u && (e & US), enx = nx || (e & XD);
        if (k == K_TABLE) {
            if (!visit_table(c, addr, lvl - 1, x, ew, eu, enx))
                return false;
            continue;
        }
        if (verdict == PT_VISIT_TABLES)
            continue;
        struct pt_leaf l = { canonical(g, x), addr, size, e, lvl, ew, eu, enx };
        c->st->leaves++;
        if (!c->v->leaf(c->v->ctx, &l)) {
            c->st->stopped = true;
            return false;
        }
    }
    return true;
}

enum pt_status pt_visit(const struct pt_paging *pg, u64 first, u64 last, const struct pt_visitor *v,
                        struct pt_visit_stats *stats)
{
    struct pt_visit_stats local;
    struct pt_visit_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof(*st));
    struct geom g;
    if (!geom_of(pg, &g))
        return PT_UNSUPPORTED;
    u64 space = (1ull << g.va_bits) - 1;
    if (g.va_bits == 48) {
        /* The non-canonical hole holds no address: the range's ends move
         * out of it, to the upper half's start and the lower half's end. */
        if (canonical(&g, first & space) != first)
            first = 0xffff800000000000ull;
        if (canonical(&g, last & space) != last)
            last = 0x00007fffffffffffull;
    } else if (last > space) {
        last = space;
    }
    if (first > last)
        return PT_OK;
    struct visit c = { &g, v, st, first & space, last & space, v->max_tables };
    if (pg->mode != PT_MODE_PAE) {
        visit_table(&c, pg->cr3 & g.addr & g.phys, g.top, 0, true, true, false);
        return PT_OK;
    }
    for (u32 i = (u32)(c.first >> 30); i <= (u32)(c.last >> 30); i++) {   /* the PDPTE registers */
        u64 e = pg->pdpte[i];
        if (!(e & P))
            continue;
        if (!pt_pdpte_valid(e, pg->maxphys)) {
            st->reserved++;
            continue;
        }
        if (!visit_table(&c, e & PT_ADDR_MASK, 2, (u64)i << 30, true, true, false))
            break;
    }
    return PT_OK;
}
