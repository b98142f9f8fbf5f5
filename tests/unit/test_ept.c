/* Unit tests for vmm/ept.c: ept_build, ept_lookup, ept_pointer (Intel SDM
 * Vol. 3, 29.3 "The Extended Page Table Mechanism"; EPTP format 25.6.11).
 * Tables come from a host allocator (4 KiB-aligned heap pages, whose
 * addresses stand in for physical ones), and every built tree is walked in
 * full: identity addresses, RWX, memory type from the MTRRs, EPT_LARGE on
 * large leaves only, vigil's ranges absent, and the stats matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/ept.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define ADDR      0x000ffffffffff000ull
#define PHYS36    ((1ull << 36) - 1)
#define MAX_PAGES 4096

/* ---- allocator ---- */

static void *pages[MAX_PAGES];
static u32 npages, page_limit;

static void *alloc_page(void)
{
    if (npages >= page_limit || npages >= MAX_PAGES)
        return NULL;
    void *p = aligned_alloc(4096, 4096);
    if (!p)
        return NULL;
    memset(p, 0, 4096);
    pages[npages++] = p;
    return p;
}

static int setup(void **state)
{
    (void)state;
    npages = 0;
    page_limit = MAX_PAGES;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (u32 i = 0; i < npages; i++)
        free(pages[i]);
    npages = 0;
    return 0;
}

/* ---- MTRR states ---- */

static struct mtrr_state mtrr;

static void mtrr_wb(void)
{
    memset(&mtrr, 0, sizeof(mtrr));
    mtrr.enabled = true;
    mtrr.def_type = MT_WB;
    mtrr.addr_mask = PHYS36;
}

static void mtrr_var(u64 base, u64 size, u8 type)
{
    assert_true(mtrr.nvar < MTRR_MAX_VAR);
    mtrr.var[mtrr.nvar].base = base | type;
    mtrr.var[mtrr.nvar].mask = (~(size - 1) & PHYS36) | (1ull << 11);
    mtrr.nvar++;
}

/* Fixed ranges as a PC has them: RAM WB, VGA window UC, option ROMs and BIOS WP. */
static void mtrr_fixed_pc(void)
{
    mtrr.fixed_enabled = true;
    memset(mtrr.fixed, MT_WB, 16);                 /* 0 - 0x9ffff */
    memset(mtrr.fixed + 16, MT_UC, 8);             /* 0xa0000 - 0xbffff */
    memset(mtrr.fixed + 24, MT_WP, 64);            /* 0xc0000 - 0xfffff */
}

/* ---- building and checking ---- */

static const struct mem_range owned_std[] = {
    { 0x2000000, 0x2030000 },                      /* 192 KiB: 4K pages around it */
    { 0x1ee00000, 0x1fe00000 },                    /* 16 MiB, 2 MiB-aligned */
};

static struct ept_stats st;
static const struct mem_range *cur_owned;
static u32 cur_nowned;

static u64 *build(const struct mem_range *owned, u32 nowned, u64 top, bool g1, bool m2)
{
    cur_owned = owned;
    cur_nowned = nowned;
    memset(&st, 0xa5, sizeof(st));
    return ept_build(owned, nowned, top, &mtrr, g1, m2, alloc_page, &st);
}

struct tally {
    u32 p1g, p2m, p4k, tables;
    u64 mapped;
};

static u64 level_size(int lvl) { return 1ull << (12 + 9 * (lvl - 1)); }

static void walk(const u64 *t, int lvl, u64 base, struct tally *w)
{
    u64 size = level_size(lvl);
    for (u32 i = 0; i < 512; i++) {
        u64 e = t[i], g = base + i * size;
        if (!e)
            continue;
        if (lvl == 1 || (e & EPT_LARGE)) {
            if (lvl > 3)
                fail_msg("PML4 entry %u has EPT_LARGE: 0x%llx", i, (unsigned long long)e);
            u8 want;
            if (!mtrr_range_type(&mtrr, g, size, &want))
                fail_msg("leaf 0x%llx (level %d) over a range of mixed memory types",
                         (unsigned long long)g, lvl);
            u64 expect = g | EPT_RWX | (u64)want << 3 | (lvl > 1 ? EPT_LARGE : 0);
            if (e != expect)
                fail_msg("leaf for 0x%llx (level %d) is 0x%llx, expected 0x%llx", (unsigned long long)g,
                         lvl, (unsigned long long)e, (unsigned long long)expect);
            for (u32 j = 0; j < cur_nowned; j++)
                if (range_overlaps(g, g + size, cur_owned[j].start, cur_owned[j].end))
                    fail_msg("leaf 0x%llx-0x%llx maps vigil's 0x%llx-0x%llx", (unsigned long long)g,
                             (unsigned long long)(g + size), (unsigned long long)cur_owned[j].start,
                             (unsigned long long)cur_owned[j].end);
            if (lvl == 3)
                w->p1g++;
            else if (lvl == 2)
                w->p2m++;
            else
                w->p4k++;
            w->mapped += size;
            continue;
        }
        if ((e & ~ADDR) != EPT_RWX)
            fail_msg("table entry for 0x%llx (level %d) is 0x%llx: want RWX and nothing else",
                     (unsigned long long)g, lvl, (unsigned long long)e);
        w->tables++;
        walk((const u64 *)(uintptr_t)(e & ADDR), lvl - 1, g, w);
    }
}

/* Walks the whole tree; the stats must match what is there, and what is
 * mapped plus vigil's ranges (below top) must be exactly [0, top). */
static void check_tree(u64 *pml4)
{
    assert_non_null(pml4);
    struct tally w = { 0 };
    walk(pml4, 4, 0, &w);
    assert_int_equal(st.pages_1g, w.p1g);
    assert_int_equal(st.pages_2m, w.p2m);
    assert_int_equal(st.pages_4k, w.p4k);
    assert_int_equal(st.tables, w.tables + 1);     /* + the PML4 */
    assert_int_equal(st.tables, npages);
    u64 hidden = 0;
    for (u32 j = 0; j < cur_nowned; j++)
        if (cur_owned[j].start < st.top)
            hidden += (cur_owned[j].end < st.top ? cur_owned[j].end : st.top) - cur_owned[j].start;
    assert_int_equal(w.mapped + hidden, st.top);
}

/* The leaf for gpa: its level and entry. */
static int lookup(u64 *pml4, u64 gpa, u64 *entry)
{
    int level = -1;
    u64 *e = ept_lookup(pml4, gpa, &level);
    if (!e)
        return 0;
    *entry = *e;
    return level;
}

static void assert_leaf_(u64 *pml4, u64 gpa, int level, u8 type, const char *file, int line)
{
    u64 e = 0;
    int l = lookup(pml4, gpa, &e);
    u64 base = gpa & ~(level_size(level) - 1);
    u64 want = base | EPT_RWX | (u64)type << 3 | (level > 1 ? EPT_LARGE : 0);
    if (l != level || e != want) {
        print_error("gpa 0x%llx: level %d entry 0x%llx, expected level %d entry 0x%llx\n",
                    (unsigned long long)gpa, l, (unsigned long long)e, level, (unsigned long long)want);
        _fail(file, line);
    }
}
/* gpa is mapped by a leaf at `level` with the identity address, RWX, `type`. */
#define assert_leaf(pml4, gpa, level, type) assert_leaf_((pml4), (gpa), (level), (type), __FILE__, __LINE__)

static void assert_unmapped_(u64 *pml4, u64 gpa, const char *file, int line)
{
    int level = -1;
    u64 *e = ept_lookup(pml4, gpa, &level);
    if (e) {
        print_error("gpa 0x%llx is mapped: level %d entry 0x%llx\n", (unsigned long long)gpa, level,
                    (unsigned long long)*e);
        _fail(file, line);
    }
}
#define assert_unmapped(pml4, gpa) assert_unmapped_((pml4), (gpa), __FILE__, __LINE__)

/* ---- uniform write-back memory ---- */

static void test_all_wb_maps_4g_with_1g_pages(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(4), true, true);
    check_tree(pml4);
    assert_int_equal(st.pages_1g, 4);
    assert_int_equal(st.pages_2m, 0);
    assert_int_equal(st.pages_4k, 0);
    assert_int_equal(st.tables, 2);
    assert_int_equal(st.top, GiB(4));
    assert_leaf(pml4, 0, 3, MT_WB);
    assert_leaf(pml4, 0x12345678, 3, MT_WB);
    assert_leaf(pml4, 0xfee00000, 3, MT_WB);
    assert_leaf(pml4, GiB(4) - 1, 3, MT_WB);
    assert_unmapped(pml4, GiB(4));
}

static void test_2m_pages_when_1g_not_allowed(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(4), false, true);
    check_tree(pml4);
    assert_int_equal(st.pages_1g, 0);
    assert_int_equal(st.pages_2m, 2048);
    assert_int_equal(st.pages_4k, 0);
    assert_int_equal(st.tables, 2 + 4);
    assert_leaf(pml4, 0, 2, MT_WB);
    assert_leaf(pml4, 0x40212345, 2, MT_WB);
    assert_leaf(pml4, GiB(4) - 1, 2, MT_WB);
}

static void test_4k_pages_when_no_large_pages(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(1), false, false);
    check_tree(pml4);
    assert_int_equal(st.pages_1g, 0);
    assert_int_equal(st.pages_2m, 0);
    assert_int_equal(st.pages_4k, 262144);
    assert_int_equal(st.tables, 2 + 1 + 512);
    assert_leaf(pml4, 0x3456789, 1, MT_WB);
    assert_leaf(pml4, GiB(1) - 1, 1, MT_WB);
}

static void test_1g_allowed_without_2m_still_uses_1g(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(2), true, false);
    check_tree(pml4);
    assert_int_equal(st.pages_1g, 2);
    assert_int_equal(st.tables, 2);
}

static void test_top_is_rounded_up_to_1g(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(4) + 1, true, true);
    check_tree(pml4);
    assert_int_equal(st.top, GiB(5));
    assert_int_equal(st.pages_1g, 5);
    assert_leaf(pml4, GiB(5) - 1, 3, MT_WB);
    assert_unmapped(pml4, GiB(5));
}

static void test_top_is_capped_at_512g(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(4096), true, true);
    check_tree(pml4);
    assert_int_equal(st.top, GiB(512));
    assert_int_equal(st.pages_1g, 512);
    assert_int_equal(st.tables, 2);
    assert_leaf(pml4, GiB(511) + 5, 3, MT_WB);
    assert_unmapped(pml4, GiB(512));
    assert_unmapped(pml4, GiB(1024) + 0x1000);

    teardown(NULL);
    pml4 = build(NULL, 0, GiB(600), true, true);       /* just past one PDPT */
    check_tree(pml4);
    assert_int_equal(st.top, GiB(512));
    assert_int_equal(st.pages_1g, 512);
}

/* ---- vigil's ranges ---- */

static void test_owned_ranges_are_not_mapped(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(owned_std, 2, GiB(4), true, true);
    check_tree(pml4);
    assert_unmapped(pml4, 0x2000000);
    assert_unmapped(pml4, 0x2012345);
    assert_unmapped(pml4, 0x202ffff);
    assert_unmapped(pml4, 0x1ee00000);
    assert_unmapped(pml4, 0x1f500000);
    assert_unmapped(pml4, 0x1fdfffff);
    /* GiB 0 is a page directory; 2 MiB 16 (0x2000000) a page table of
     * which the first 48 entries are empty */
    assert_int_equal(st.pages_1g, 3);
    assert_int_equal(st.pages_2m, 512 - 1 - 8);
    assert_int_equal(st.pages_4k, 512 - 48);
    assert_int_equal(st.tables, 4);
}

static void test_pages_next_to_owned_ranges_are_identity_rwx(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(owned_std, 2, GiB(4), true, true);
    check_tree(pml4);
    assert_leaf(pml4, 0x1fff000, 2, MT_WB);            /* the 2M page below 0x2000000 */
    assert_leaf(pml4, 0x2030000, 1, MT_WB);            /* first page after the image */
    assert_leaf(pml4, 0x2031234, 1, MT_WB);
    assert_leaf(pml4, 0x21ff000, 1, MT_WB);            /* last 4K of that 2M */
    assert_leaf(pml4, 0x2200000, 2, MT_WB);
    assert_leaf(pml4, 0x1ec00000, 2, MT_WB);           /* just below the pool */
    assert_leaf(pml4, 0x1fe00000, 2, MT_WB);           /* just above it */
    assert_leaf(pml4, GiB(1), 3, MT_WB);
}

static void test_2m_aligned_owned_range_leaves_a_2m_hole(void **state)
{
    (void)state;
    mtrr_wb();
    static const struct mem_range o[] = { { 0x40200000, 0x40600000 } };
    u64 *pml4 = build(o, 1, GiB(4), true, true);
    check_tree(pml4);
    assert_leaf(pml4, 0x40000000, 2, MT_WB);
    assert_leaf(pml4, 0x401fffff, 2, MT_WB);
    assert_unmapped(pml4, 0x40200000);
    assert_unmapped(pml4, 0x40400000);
    assert_unmapped(pml4, 0x405fffff);
    assert_leaf(pml4, 0x40600000, 2, MT_WB);
    assert_int_equal(st.pages_1g, 3);
    assert_int_equal(st.pages_2m, 510);
    assert_int_equal(st.pages_4k, 0);
    assert_int_equal(st.tables, 3);
}

static void test_owned_whole_gib_has_no_table(void **state)
{
    (void)state;
    mtrr_wb();
    static const struct mem_range o[] = { { GiB(1), GiB(2) } };
    u64 *pml4 = build(o, 1, GiB(4), true, true);
    check_tree(pml4);
    assert_unmapped(pml4, GiB(1));
    assert_unmapped(pml4, GiB(2) - 1);
    assert_leaf(pml4, GiB(2), 3, MT_WB);
    assert_int_equal(st.pages_1g, 3);
    assert_int_equal(st.tables, 2);
}

static void test_owned_range_with_2m_pages_only(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(owned_std, 2, GiB(4), false, true);
    check_tree(pml4);
    assert_unmapped(pml4, 0x2000000);
    assert_leaf(pml4, 0x2030000, 1, MT_WB);
    assert_int_equal(st.pages_2m, 2048 - 1 - 8);
    assert_int_equal(st.pages_4k, 512 - 48);
    assert_int_equal(st.tables, 2 + 4 + 1);
}

static void test_owned_range_above_top_changes_nothing(void **state)
{
    (void)state;
    mtrr_wb();
    static const struct mem_range o[] = { { GiB(8), GiB(8) + MiB(2) } };
    u64 *pml4 = build(o, 1, GiB(4), true, true);
    assert_non_null(pml4);
    assert_int_equal(st.pages_1g, 4);
    assert_int_equal(st.tables, 2);
    assert_unmapped(pml4, GiB(8));
}

/* ---- memory types ---- */

static void test_fixed_mtrrs_split_the_first_2m_into_typed_4k_pages(void **state)
{
    (void)state;
    mtrr_wb();
    mtrr_fixed_pc();
    mtrr_var(0xc0000000, GiB(1), MT_UC);
    u64 *pml4 = build(NULL, 0, GiB(4), true, true);
    check_tree(pml4);
    assert_leaf(pml4, 0, 1, MT_WB);
    assert_leaf(pml4, 0x9f000, 1, MT_WB);
    assert_leaf(pml4, 0xa0000, 1, MT_UC);
    assert_leaf(pml4, 0xbf000, 1, MT_UC);
    assert_leaf(pml4, 0xc0000, 1, MT_WP);
    assert_leaf(pml4, 0xff000, 1, MT_WP);
    assert_leaf(pml4, 0x100000, 1, MT_WB);             /* same 2M: still 4K */
    assert_leaf(pml4, 0x1ff000, 1, MT_WB);
    assert_leaf(pml4, 0x200000, 2, MT_WB);
    assert_leaf(pml4, GiB(1), 3, MT_WB);
    assert_leaf(pml4, 0xc0000000, 3, MT_UC);           /* the UC variable range */
    assert_leaf(pml4, 0xfee00000, 3, MT_UC);
    assert_int_equal(st.pages_1g, 3);
    assert_int_equal(st.pages_2m, 511);
    assert_int_equal(st.pages_4k, 512);
    assert_int_equal(st.tables, 4);
}

static void test_variable_uc_range_of_1g_keeps_a_1g_page(void **state)
{
    (void)state;
    mtrr_wb();
    mtrr_var(0xc0000000, GiB(1), MT_UC);
    u64 *pml4 = build(NULL, 0, GiB(4), true, true);
    check_tree(pml4);
    assert_leaf(pml4, 0xc0000000, 3, MT_UC);
    assert_leaf(pml4, 0xbfffffff, 3, MT_WB);
    assert_int_equal(st.pages_1g, 4);
    assert_int_equal(st.tables, 2);
}

static void test_variable_uc_range_of_256m_splits_its_gib(void **state)
{
    (void)state;
    mtrr_wb();
    mtrr_var(0xc0000000, MiB(256), MT_UC);
    u64 *pml4 = build(NULL, 0, GiB(4), true, true);
    check_tree(pml4);
    assert_leaf(pml4, 0xc0000000, 2, MT_UC);
    assert_leaf(pml4, 0xcfe00000, 2, MT_UC);
    assert_leaf(pml4, 0xd0000000, 2, MT_WB);
    assert_leaf(pml4, 0xffe00000, 2, MT_WB);
    assert_int_equal(st.pages_4k, 0);
}

static void test_non_uniform_gib_without_2m_pages_uses_4k(void **state)
{
    (void)state;
    mtrr_wb();
    mtrr_var(0x10000000, MiB(256), MT_UC);
    u64 *pml4 = build(NULL, 0, GiB(1), true, false);
    check_tree(pml4);
    assert_leaf(pml4, 0xfffffff, 1, MT_WB);
    assert_leaf(pml4, 0x10000000, 1, MT_UC);
    assert_leaf(pml4, 0x1ffff000, 1, MT_UC);
    assert_leaf(pml4, 0x20000000, 1, MT_WB);
    assert_int_equal(st.pages_1g, 0);
    assert_int_equal(st.pages_2m, 0);
    assert_int_equal(st.pages_4k, 262144);
    assert_int_equal(st.tables, 515);
}

static void test_disabled_mtrrs_map_everything_uc(void **state)
{
    (void)state;
    mtrr_wb();
    mtrr_fixed_pc();
    mtrr.enabled = false;
    u64 *pml4 = build(NULL, 0, GiB(4), true, true);
    check_tree(pml4);
    assert_leaf(pml4, 0, 3, MT_UC);
    assert_leaf(pml4, GiB(3), 3, MT_UC);
    assert_int_equal(st.pages_1g, 4);
}

/* ---- allocation failure, ept_pointer ---- */

static void test_allocator_failure_returns_null(void **state)
{
    (void)state;
    mtrr_wb();
    /* owned_std needs 4 tables: PML4, PDPT, one PD, one PT */
    for (u32 limit = 0; limit < 4; limit++) {
        teardown(NULL);
        page_limit = limit;
        assert_null(build(owned_std, 2, GiB(4), true, true));
    }
    teardown(NULL);
    page_limit = 4;
    u64 *pml4 = build(owned_std, 2, GiB(4), true, true);
    check_tree(pml4);
}

static void test_allocator_failure_deep_in_the_tree(void **state)
{
    (void)state;
    mtrr_wb();
    page_limit = 100;                              /* far fewer than 515 */
    assert_null(build(NULL, 0, GiB(1), false, false));
    assert_int_equal(npages, 100);
}

static void test_ept_pointer_encodes_wb_and_4_level_walk(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(4), true, true);
    assert_non_null(pml4);
    u64 eptp = ept_pointer(pml4);
    assert_int_equal(eptp & 7, MT_WB);             /* bits 2:0: memory type 6 */
    assert_int_equal(eptp >> 3 & 7, 3);            /* bits 5:3: walk length - 1 */
    assert_int_equal(eptp & 0x40, 0);              /* no accessed/dirty flags */
    assert_int_equal(eptp & ~0xfffull, (u64)(uintptr_t)pml4);
    assert_int_equal(eptp, (u64)(uintptr_t)pml4 | 6 | 3 << 3);
}

static void test_pml4_points_at_the_pdpt(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(4), true, true);
    assert_non_null(pml4);
    assert_int_equal(pml4[0] & ~ADDR, EPT_RWX);
    for (u32 i = 1; i < 512; i++)
        assert_int_equal(pml4[i], 0);
    const u64 *pdpt = (const u64 *)(uintptr_t)(pml4[0] & ADDR);
    assert_int_equal(pdpt[3], GiB(3) | EPT_RWX | (u64)MT_WB << 3 | EPT_LARGE);
    assert_int_equal(pdpt[4], 0);
}

/* Execute permission off everywhere but the kernel's text: large pages
 * stay large away from it; the 2 MiB page around it is split and only the
 * kept 4 KiB pages keep X; memory types and R/W are untouched; one page
 * gets X back (split if need be), and unmapped ranges stay unmapped. */
static u64 perms_at(u64 *pml4, u64 gpa, int *lvl)
{
    u64 *e = ept_lookup(pml4, gpa, lvl);
    assert_non_null(e);
    return *e;
}

static void test_deny_exec_keeps_only_the_kept(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(owned_std, 2, GiB(4), true, true);
    assert_non_null(pml4);
    static const struct mem_range keep[] = { { 0x107000, 0x144000 } };
    u32 before = npages;
    assert_true(ept_deny_exec(pml4, keep, 1, alloc_page));
    int lvl;
    u64 e = perms_at(pml4, GiB(3) + 0x1000, &lvl);            /* a 1 GiB page far away */
    assert_int_equal(lvl, 3);
    assert_int_equal(e & EPT_RWX, EPT_R | EPT_W);
    assert_int_equal(e & (7 << 3), (u64)MT_WB << 3);
    e = perms_at(pml4, 0x106000, &lvl);                         /* just before: 4 KiB, no X */
    assert_int_equal(lvl, 1);
    assert_int_equal(e & EPT_RWX, EPT_R | EPT_W);
    for (u64 a = 0x107000; a < 0x144000; a += 0x1000) {         /* kept: X */
        e = perms_at(pml4, a, &lvl);
        assert_int_equal(lvl, 1);
        assert_int_equal(e & EPT_RWX, EPT_RWX);
    }
    e = perms_at(pml4, 0x144000, &lvl);
    assert_int_equal(e & EPT_RWX, EPT_R | EPT_W);
    e = perms_at(pml4, 0x2030000, &lvl);                         /* next to vigil's hole: no X */
    assert_int_equal(e & EPT_X, 0);
    assert_null(ept_lookup(pml4, 0x2000000, &lvl));              /* vigil's: still not mapped */
    assert_int_equal(npages - before, 1);                         /* one split: the 2 MiB page of the text */
    /* A page given X back: split from its 1 GiB page down to 4 KiB. */
    assert_true(ept_allow_exec(pml4, GiB(3) + 0x5000, alloc_page));
    e = perms_at(pml4, GiB(3) + 0x5000, &lvl);
    assert_int_equal(lvl, 1);
    assert_int_equal(e & EPT_RWX, EPT_RWX);
    e = perms_at(pml4, GiB(3) + 0x6000, &lvl);
    assert_int_equal(e & EPT_RWX, EPT_R | EPT_W);
    assert_false(ept_allow_exec(pml4, 0x2000000, alloc_page));  /* vigil's page: refused */
}

static void test_deny_exec_refuses_unaligned_and_runs_dry(void **state)
{
    (void)state;
    mtrr_wb();
    u64 *pml4 = build(NULL, 0, GiB(1), false, true);
    assert_non_null(pml4);
    static const struct mem_range odd[] = { { 0x107010, 0x144000 } };
    assert_false(ept_deny_exec(pml4, odd, 1, alloc_page));
    static const struct mem_range keep[] = { { 0x107000, 0x144000 } };
    page_limit = npages;                                          /* no table for the split */
    assert_false(ept_deny_exec(pml4, keep, 1, alloc_page));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_all_wb_maps_4g_with_1g_pages),
        T(test_2m_pages_when_1g_not_allowed),
        T(test_4k_pages_when_no_large_pages),
        T(test_1g_allowed_without_2m_still_uses_1g),
        T(test_top_is_rounded_up_to_1g),
        T(test_top_is_capped_at_512g),
        T(test_owned_ranges_are_not_mapped),
        T(test_pages_next_to_owned_ranges_are_identity_rwx),
        T(test_2m_aligned_owned_range_leaves_a_2m_hole),
        T(test_owned_whole_gib_has_no_table),
        T(test_owned_range_with_2m_pages_only),
        T(test_owned_range_above_top_changes_nothing),
        T(test_fixed_mtrrs_split_the_first_2m_into_typed_4k_pages),
        T(test_variable_uc_range_of_1g_keeps_a_1g_page),
        T(test_variable_uc_range_of_256m_splits_its_gib),
        T(test_non_uniform_gib_without_2m_pages_uses_4k),
        T(test_disabled_mtrrs_map_everything_uc),
        T(test_allocator_failure_returns_null),
        T(test_allocator_failure_deep_in_the_tree),
        T(test_deny_exec_keeps_only_the_kept),
        T(test_deny_exec_refuses_unaligned_and_runs_dry),
        T(test_ept_pointer_encodes_wb_and_4_level_walk),
        T(test_pml4_points_at_the_pdpt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
