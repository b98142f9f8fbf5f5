/* The guest page-table walker and range visitor (lib/ptwalk.h). One
 * description of the mode (struct geom, its rules for each level) and one
 * decoding of an entry (classify) serve both. */
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

/* How the entries of one level are read: resolved once per walk or visit,
 * so that the visitor's loop over a table keeps them in registers. */
struct rules {
    u64 rsvd_table;        /* reserved bits of an entry pointing to a table */
    u64 rsvd_page;         /* reserved bits of an entry mapping a page */
    u64 page_bits;         /* an entry with any of them maps a page: PS, or all at level 1, none where PS is not a page */
    u64 table_mask;        /* where a table's address lies */
    u64 page_mask;         /* where a page's address lies (a large page's bit 12 is PAT) */
    u64 pse36;             /* 32-bit paging's 4 MiB pages: bits 20:13, address bits 39:32 */
    u32 shift;             /* log2 of what one entry maps */
};

/* A paging mode. Levels as in pt_walk. */
struct geom {
    int top;               /* level of the root table in memory (PAE: the PDs below the PDPTEs) */
    bool wide;             /* 8-byte entries (4-byte in 32-bit paging) */
    u32 bits;              /* index bits per level: 9, or 10 in 32-bit paging */
    u32 va_bits;           /* 48, or 32 outside long mode */
    u64 phys;              /* the physical address space: bits MAXPHYADDR-1:0 */
    struct rules lv[5];    /* [1] PTEs ... [4] PML4Es */
};

static u64 phys_mask(u32 maxphys)
{
    u32 m = maxphys < 32 ? 32 : maxphys > 52 ? 52 : maxphys;
    return (1ull << m) - 1;
}

/* Level lvl: addresses in addr, rsvd reserved in every entry; pages: PS
 * makes a page here (always at level 1), whose bits large are reserved too. */
static void level(struct geom *g, int lvl, u64 addr, u64 rsvd, bool pages, u64 large)
{
    struct rules *r = &g->lv[lvl];
    r->shift = 12 + g->bits * (u32)(lvl - 1);
    r->rsvd_table = r->rsvd_page = rsvd;
    r->page_bits = lvl == 1 ? ~0ull : pages ? PS : 0;
    if (lvl > 1)
        r->rsvd_page |= large;
    r->table_mask = addr;
    r->page_mask = addr & ~((1ull << r->shift) - 1);
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
        /* A 4 MiB page holds address bits m-1:32 in bits m-20:13; bits
         * 21:m-19 are reserved. No other entry has reserved bits. Without
         * CR4.PSE, PS is ignored. */
        level(g, 2, 0xfffff000ull, 0, pg->pse, 0x3fffffull & ~((1ull << (m - 19)) - 1));
        level(g, 1, 0xfffff000ull, 0, true, 0);
        g->lv[2].pse36 = 0x1fe000ull;
        return true;
    }
    case PT_MODE_PAE: {                                /* SDM 4.4, Tables 4-8 to 4-11 */
        u64 above = ~g->phys & ~XD;                    /* bits 62:MAXPHYADDR */
        g->top = 2;
        g->wide = true;
        g->bits = 9;
        g->va_bits = 32;
        level(g, 2, PT_ADDR_MASK, above | nx, true, 0x1fe000ull);   /* bits 20:13 */
        level(g, 1, PT_ADDR_MASK, above | nx, true, 0);
        return true;
    }
    case PT_MODE_4LEVEL: {                             /* SDM 4.5, Tables 4-15 to 4-20 */
        u64 above = PT_ADDR_MASK & ~g->phys;           /* bits 51:MAXPHYADDR; 62:52 are ignored */
        g->top = 4;
        g->wide = true;
        g->bits = 9;
        g->va_bits = 48;
        level(g, 4, PT_ADDR_MASK, above | nx | PS, false, 0);      /* PS must be 0 in a PML4E */
        level(g, 3, PT_ADDR_MASK, above | nx, true, 0x3fffe000ull); /* bits 29:13 */
        level(g, 2, PT_ADDR_MASK, above | nx, true, 0x1fe000ull);   /* bits 20:13 */
        level(g, 1, PT_ADDR_MASK, above | nx, true, 0);
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
static inline u64 entry(bool wide, const void *t, u32 i)
{
    return wide ? ((const volatile u64 *)t)[i] : ((const volatile u32 *)t)[i];
}

enum kind { K_ABSENT, K_RESERVED, K_TABLE, K_PAGE };

/* What entry e is, read by rules r; *addr is the table or the page. */
static inline enum kind classify(const struct rules *r, u64 e, u64 *addr)
{
    if (!(e & P))
        return K_ABSENT;
    if (!(e & r->page_bits)) {
        if (e & r->rsvd_table)
            return K_RESERVED;
        *addr = e & r->table_mask;
        return K_TABLE;
    }
    if (e & r->rsvd_page)
        return K_RESERVED;
    *addr = (e & r->page_mask) | (e & r->pse36) << 19;
    return K_PAGE;
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
    u64 table = pg->cr3 & g.lv[g.top].table_mask & g.phys;
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
        const struct rules *r = &g.lv[lvl];
        u64 e = entry(g.wide, t, (u32)(gva >> r->shift) & ((1u << g.bits) - 1));
        w->entries[4 - lvl] = e;
        u64 addr = 0;
        enum kind k = classify(r, e, &addr);
        if (k == K_ABSENT)
            return w->status = PT_NOT_PRESENT;
        if (k == K_RESERVED)
            return w->status = PT_RESERVED;
        w->writable &= !!(e & RW);
        w->user &= !!(e & US);
        w->nx |= !!(e & XD);
        if (k == K_PAGE) {
            w->page_size = 1ull << r->shift;
            w->gpa = addr | (gva & (w->page_size - 1));
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

/* Rights inherited from the entries above, as entry bits: allow holds R/W
 * and U/S where every entry had them, deny XD where one had it. */
static bool visit_table(struct visit *c, u64 gpa, int lvl, u64 base, u64 allow, u64 deny);

/* Entries i0..i1 of table t, which maps from base (linear; gva: the same,
 * canonical). Inlined twice, for 8-byte and for 4-byte entries, with the
 * level's rules in registers: this loop is what a periodic audit spends
 * its time in. */
static inline __attribute__((always_inline)) bool visit_entries(struct visit *c, const void *t, bool wide, int lvl,
                                                                u64 base, u64 gva, u32 i0, u32 i1, u64 allow,
                                                                u64 deny, bool pages)
{
    const struct rules r = c->g->lv[lvl];
    for (u32 i = i0; i <= i1; i++) {
        u64 e = entry(wide, t, i), addr = 0;
        if (!pages && (!(e & P) || (e & r.page_bits)))
            continue;                  /* only its tables are visited: a page (or nothing) is passed at once */
        enum kind k = classify(&r, e, &addr);
        if (k == K_ABSENT || (k == K_PAGE && !pages))
            continue;
        if (k == K_RESERVED) {
            c->st->reserved++;
            continue;
        }
        u64 a = allow & e, d = deny | (e & XD);
        if (k == K_TABLE) {
            if (!visit_table(c, addr, lvl - 1, base + ((u64)i << r.shift), a, d))
                return false;
            continue;
        }
        /* A page is never in the root of 4-level paging, the one table
         * whose entries cross the non-canonical hole. */
        struct pt_leaf l = { gva + ((u64)i << r.shift), addr, 1ull << r.shift, e, lvl, a & RW, a & US, d != 0 };
        c->st->leaves++;
        if (!c->v->leaf(c->v->ctx, &l)) {
            c->st->stopped = true;
            return false;
        }
    }
    return true;
}

static bool visit_table(struct visit *c, u64 gpa, int lvl, u64 base, u64 allow, u64 deny)
{
    const struct geom *g = c->g;
    if (c->v->pass && c->v->pass(c->v->ctx, gpa, lvl, allow & RW, allow & US, deny != 0)) {
        c->st->passed++;
        return true;
    }
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
    u64 gva = canonical(g, base);
    enum pt_table_verdict verdict = PT_VISIT_ALL;
    if (c->v->table) {
        struct pt_table d = { gpa, t, lvl, gva, allow & RW, allow & US, deny != 0 };
        verdict = c->v->table(c->v->ctx, &d);
        if (verdict == PT_VISIT_NONE || (verdict == PT_VISIT_TABLES && lvl == 1))
            return true;
    }
    u32 shift = g->lv[lvl].shift, n = 1u << g->bits;
    /* The table's entries that map part of [first, last]: it maps part. */
    u32 i0 = c->first > base ? (u32)((c->first - base) >> shift) : 0;
    u32 i1 = c->last - base < ((u64)n << shift) - 1 ? (u32)((c->last - base) >> shift) : n - 1;
    bool pages = verdict == PT_VISIT_ALL;
    return g->wide ? visit_entries(c, t, true, lvl, base, gva, i0, i1, allow, deny, pages)
                   : visit_entries(c, t, false, lvl, base, gva, i0, i1, allow, deny, pages);
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
        visit_table(&c, pg->cr3 & g.lv[g.top].table_mask & g.phys, g.top, 0, RW | US, 0);
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
        if (!visit_table(&c, e & PT_ADDR_MASK, 2, (u64)i << 30, RW | US, 0))
            break;
    }
    return PT_OK;
}
