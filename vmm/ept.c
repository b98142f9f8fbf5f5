/* EPT construction (pure apart from the allocator it is given). */
#include "vmm/ept.h"
#include "lib/ptwalk.h"            /* PT_ADDR_MASK: EPT entries hold addresses where page tables do */

struct ctx {
    const struct mem_range *owned;
    u32 nowned;
    const struct mtrr_state *mtrr;
    bool large_1g, large_2m;
    ept_alloc_fn alloc;
    struct ept_stats *st;
    bool failed;
};

static int owned_overlap(const struct ctx *c, u64 s, u64 e)
{
    /* 0: none, 1: partial, 2: the whole range is owned */
    for (u32 i = 0; i < c->nowned; i++) {
        const struct mem_range *r = &c->owned[i];
        if (range_overlaps(s, e, r->start, r->end))
            return r->start <= s && e <= r->end ? 2 : 1;
    }
    return 0;
}

/* Fill the entry for [base, base + size) at a level whose children are
 * size / 512 bytes each. */
static u64 map_entry(struct ctx *c, u64 base, u64 size)
{
    int ov = owned_overlap(c, base, base + size);
    if (ov == 2)
        return 0;                                   /* vigil's: not mapped */
    u8 type;
    bool uniform = mtrr_range_type(c->mtrr, base, size, &type);
    bool can_leaf = size == 0x1000 || (size == GiB(1) && c->large_1g) || (size == MiB(2) && c->large_2m);
    if (ov == 0 && uniform && can_leaf) {
        if (size == 0x1000)
            c->st->pages_4k++;
        else if (size == MiB(2))
            c->st->pages_2m++;
        else
            c->st->pages_1g++;
        return base | EPT_RWX | (u64)type << 3 | (size > 0x1000 ? EPT_LARGE : 0);
    }
    u64 *t = c->alloc();
    if (!t) {
        c->failed = true;
        return 0;
    }
    c->st->tables++;
    for (u32 i = 0; i < 512; i++)
        t[i] = map_entry(c, base + i * (size / 512), size / 512);
    return (u64)(uintptr_t)t | EPT_RWX;
}

u64 *ept_build(const struct mem_range *owned, u32 nowned, u64 top, const struct mtrr_state *mtrr,
               bool large_1g, bool large_2m, ept_alloc_fn alloc, struct ept_stats *st)
{
    struct ctx c = { owned, nowned, mtrr, large_1g, large_2m, alloc, st, false };
    *st = (struct ept_stats){ 0 };
    for (u32 i = 0; i < nowned; i++)
        if ((owned[i].start | owned[i].end) & 0xfff)
            return 0;                               /* owned ranges are whole pages (no endless split) */
    top = ALIGN_UP(top, GiB(1));
    if (top > GiB(512))
        top = GiB(512);                             /* one PML4 entry */
    st->top = top;
    u64 *pml4 = alloc(), *pdpt = alloc();
    if (!pml4 || !pdpt)
        return 0;
    st->tables += 2;
    pml4[0] = (u64)(uintptr_t)pdpt | EPT_RWX;
    for (u64 g = 0; g < top / GiB(1); g++)
        pdpt[g] = map_entry(&c, g * GiB(1), GiB(1));
    return c.failed ? 0 : pml4;
}

u64 *ept_lookup(u64 *pml4, u64 gpa, int *level)
{
    u64 *t = pml4;
    for (int lvl = 4; lvl >= 1; lvl--) {
        u64 *e = &t[gpa >> (12 + 9 * (lvl - 1)) & 511];
        if (!(*e & EPT_RWX))
            return 0;
        if (lvl == 1 || (*e & EPT_LARGE)) {
            *level = lvl;
            return e;
        }
        t = (u64 *)(uintptr_t)(*e & PT_ADDR_MASK);
    }
    return 0;
}

u64 ept_pointer(const u64 *pml4)
{
    /* write-back paging structures, 4-level walk (SDM 25.6.11) */
    return (u64)(uintptr_t)pml4 | MT_WB | (3 << 3);
}

/* Split the large leaf *e (of `size` bytes) into a table of 512 children
 * with the same permissions and memory type. */
static bool split(u64 *e, u64 size, ept_alloc_fn alloc)
{
    u64 *t = alloc();
    if (!t)
        return false;
    u64 child = size / 512, base = *e & PT_ADDR_MASK & ~(size - 1), attrs = *e & 0x7f;   /* RWX, type, ignore-PAT */
    for (u32 i = 0; i < 512; i++)
        t[i] = (base + i * child) | attrs | (child > 0x1000 ? EPT_LARGE : 0);
    *e = (u64)(uintptr_t)t | EPT_RWX;
    return true;
}

static u64 *leaf4k(u64 *pml4, u64 gpa, ept_alloc_fn alloc)
{
    u64 *t = pml4;
    for (int lvl = 4; lvl >= 1; lvl--) {
        u64 *e = &t[gpa >> (12 + 9 * (lvl - 1)) & 511];
        if (!(*e & EPT_RWX))
            return 0;
        if (lvl == 1)
            return e;
        if (*e & EPT_LARGE) {
            if (!alloc || !split(e, 1ull << (12 + 9 * (lvl - 1)), alloc))
                return 0;
        }
        t = (u64 *)(uintptr_t)(*e & PT_ADDR_MASK);
    }
    return 0;
}

bool ept_restrict(u64 *pml4, u64 gpa, u64 deny, ept_alloc_fn alloc)
{
    u64 *e = leaf4k(pml4, gpa, alloc);
    if (!e)
        return false;
    *e &= ~(deny & (EPT_W | EPT_X));
    return true;
}

bool ept_set_perms(u64 *pml4, u64 gpa, u64 rwx)
{
    u64 *e = leaf4k(pml4, gpa, 0);
    if (!e)
        return false;
    *e = (*e & ~EPT_RWX) | (rwx & EPT_RWX);
    return true;
}

static bool kept_overlap(const struct mem_range *keep, u32 n, u64 s, u64 e, bool *whole)
{
    for (u32 i = 0; i < n; i++)
        if (range_overlaps(s, e, keep[i].start, keep[i].end)) {
            *whole = keep[i].start <= s && e <= keep[i].end;
            return true;
        }
    return false;
}

/* The entries of table t (level lvl, each child `size` bytes, the first at
 * base): X off in every leaf that maps no kept byte; a large leaf that maps
 * some is split and its children judged; tables are followed. */
static bool deny_exec(u64 *t, int lvl, u64 base, const struct mem_range *keep, u32 nkeep, ept_alloc_fn alloc)
{
    u64 size = 1ull << (12 + 9 * (lvl - 1));
    for (u32 i = 0; i < 512; i++) {
        u64 *e = &t[i], s = base + i * size;
        if (!(*e & EPT_RWX))
            continue;
        bool whole = false, some = kept_overlap(keep, nkeep, s, s + size, &whole);
        bool leaf = lvl == 1 || (*e & EPT_LARGE);
        if (leaf && !some) {
            *e &= ~EPT_X;
            continue;
        }
        if (leaf && whole)
            continue;
        if (leaf && !split(e, size, alloc))
            return false;
        if (!deny_exec((u64 *)(uintptr_t)(*e & PT_ADDR_MASK), lvl - 1, s, keep, nkeep, alloc))
            return false;
    }
    return true;
}

bool ept_deny_exec(u64 *pml4, const struct mem_range *keep, u32 nkeep, ept_alloc_fn alloc)
{
    for (u32 i = 0; i < nkeep; i++)
        if ((keep[i].start | keep[i].end) & 0xfff)
            return false;
    return deny_exec(pml4, 4, 0, keep, nkeep, alloc);
}

bool ept_allow_exec(u64 *pml4, u64 gpa, ept_alloc_fn alloc)
{
    u64 *e = leaf4k(pml4, gpa, alloc);
    if (!e)
        return false;
    *e |= EPT_X;
    return true;
}
