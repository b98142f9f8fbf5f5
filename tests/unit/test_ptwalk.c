/* Unit tests for lib/ptwalk.c: pt_walk in every paging mode (4-level, PAE,
 * 32-bit), pt_visit, pt_paging_of, pt_pdpte_valid and pt_status_name, on
 * synthetic guest page tables. Guest-physical memory is a 4 MiB host array;
 * the map callback refuses anything outside it and the window
 * [VIGIL_LO, VIGIL_HI), which stands for vigil's own memory (EPT does not
 * map it to the guest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/ptwalk.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define RAM_SIZE  MiB(4)
#define VIGIL_LO  MiB(3)              /* "vigil's memory": not guest RAM */
#define VIGIL_HI  (MiB(3) + KiB(512))
#define MAXPHYS   39

#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define PWT (1ull << 3)
#define A   (1ull << 5)
#define D   (1ull << 6)
#define PS  (1ull << 7)
#define G   (1ull << 8)
#define NX  (1ull << 63)
#define TBL (P | RW | US | A)         /* a table pointer granting everything */

/* Table locations in guest-physical memory. */
#define PML4 0x1000ull
#define PDPT 0x2000ull
#define PD   0x3000ull
#define PT   0x4000ull
#define PAGE 0x00123000ull            /* 4 KiB frame the test address maps to */

static u64 ram[RAM_SIZE / 8];

/* Every table the walker maps: count and addresses. */
static u32 nreads;
static u64 read_gpa[16];

static const void *map_ram(void *ctx, u64 gpa)
{
    assert_ptr_equal(ctx, ram);
    if (nreads < ARRAY_SIZE(read_gpa))
        read_gpa[nreads] = gpa;
    nreads++;
    assert_int_equal(gpa & 0xfff, 0);   /* tables are whole pages */
    if (gpa >= RAM_SIZE)
        return NULL;
    if (gpa >= VIGIL_LO && gpa < VIGIL_HI)
        return NULL;
    return (const u8 *)ram + gpa;
}

static u32 idx(u64 gva, int level) { return (u32)(gva >> (12 + 9 * (level - 1))) & 511; }

static void set_entry(u64 table, u32 i, u64 e)
{
    assert_true(table + i * 8 + 8 <= RAM_SIZE);
    ram[table / 8 + i] = e;
}

/* A user-half address with a different index at each level and a page
 * offset that shows up in the result. */
#define GVA ((0x0a5ull << 39) | (0x1c3ull << 30) | (0x0f0ull << 21) | (0x12dull << 12) | 0x9abull)

static void reset(void)
{
    memset(ram, 0, sizeof(ram));
    nreads = 0;
    memset(read_gpa, 0, sizeof(read_gpa));
}

/* Four levels for gva down to a 4 KiB page at PAGE; perm[i] are the flag
 * bits of the entry at level 4 - i (PML4E first). */
static void map_4k(u64 gva, const u64 perm[4])
{
    set_entry(PML4, idx(gva, 4), PDPT | perm[0]);
    set_entry(PDPT, idx(gva, 3), PD | perm[1]);
    set_entry(PD, idx(gva, 2), PT | perm[2]);
    set_entry(PT, idx(gva, 1), PAGE | perm[3]);
}

static const u64 all_perm[4] = { TBL, TBL, TBL, P | RW | US | A | D };

static struct pt_paging pg4(u64 cr3, u32 maxphys)
{
    struct pt_paging pg = { .mode = PT_MODE_4LEVEL, .cr3 = cr3, .maxphys = maxphys, .nxe = true };
    return pg;
}

static enum pt_status walk_pg(const struct pt_paging *pg, u64 gva, struct pt_walk *w)
{
    nreads = 0;
    return pt_walk(pg, gva, map_ram, ram, w);
}

static enum pt_status walk_phys(u64 cr3, u64 gva, u32 maxphys, struct pt_walk *w)
{
    struct pt_paging pg = pg4(cr3, maxphys);
    return walk_pg(&pg, gva, w);
}

static enum pt_status walk(u64 cr3, u64 gva, struct pt_walk *w) { return walk_phys(cr3, gva, MAXPHYS, w); }

/* ---- leaves ---- */

static void test_4k_page(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_int_equal(w.status, PT_OK);
    assert_int_equal(w.level, 1);
    assert_true(w.gpa == (PAGE | 0x9ab));
    assert_true(w.page_size == KiB(4));
    assert_true(w.writable);
    assert_true(w.user);
    assert_false(w.nx);
    assert_int_equal(nreads, 4);
}

static void test_4k_page_fills_entries_and_table_gpas(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_true(w.entries[0] == (PDPT | TBL));
    assert_true(w.entries[1] == (PD | TBL));
    assert_true(w.entries[2] == (PT | TBL));
    assert_true(w.entries[3] == (PAGE | P | RW | US | A | D));
    assert_true(w.table_gpa[0] == PML4);
    assert_true(w.table_gpa[1] == PDPT);
    assert_true(w.table_gpa[2] == PD);
    assert_true(w.table_gpa[3] == PT);
    /* and the tables mapped were exactly the four, top down */
    assert_true(read_gpa[0] == PML4);
    assert_true(read_gpa[1] == PDPT);
    assert_true(read_gpa[2] == PD);
    assert_true(read_gpa[3] == PT);
}

static void test_4k_page_ignores_flag_and_available_bits_in_address(void **state)
{
    (void)state;
    reset();
    /* PWT, G, the OS-available bits 9-11 and 52-58, protection key 59-62:
     * none of them is part of an address */
    u64 extra = PWT | G | (7ull << 9) | (0x7full << 52) | (0xfull << 59);
    const u64 perm[4] = { TBL | extra, TBL | extra, TBL | extra, P | RW | US | extra };
    map_4k(GVA, perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_true(w.gpa == (PAGE | 0x9ab));
    assert_true(w.table_gpa[3] == PT);
}

static void test_2m_page(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, idx(GVA, 4), PDPT | TBL);
    set_entry(PDPT, idx(GVA, 3), PD | TBL);
    set_entry(PD, idx(GVA, 2), MiB(6) | P | RW | PS);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_int_equal(w.level, 2);
    assert_true(w.page_size == MiB(2));
    assert_true(w.gpa == (MiB(6) | (GVA & (MiB(2) - 1))));
    assert_true(w.gpa == MiB(6) + 0x12d9ab);
    assert_true(w.writable);
    assert_false(w.user);           /* the PDE lacks US */
    assert_int_equal(nreads, 3);
    assert_true(w.entries[3] == 0);
    assert_true(w.table_gpa[3] == 0);
}

static void test_2m_page_with_pat_bit(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, idx(GVA, 4), PDPT | TBL);
    set_entry(PDPT, idx(GVA, 3), PD | TBL);
    /* bit 12 of a large-page entry is PAT, not an address bit */
    set_entry(PD, idx(GVA, 2), MiB(6) | (1ull << 12) | P | PS);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_true(w.gpa == MiB(6) + 0x12d9ab);
}

static void test_1g_page(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, idx(GVA, 4), PDPT | TBL);
    set_entry(PDPT, idx(GVA, 3), GiB(5) | P | US | PS | NX);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_int_equal(w.level, 3);
    assert_true(w.page_size == GiB(1));
    assert_true(w.gpa == (GiB(5) | (GVA & (GiB(1) - 1))));
    assert_true(w.gpa == GiB(5) + (0x0f0ull << 21) + 0x12d9ab);
    assert_false(w.writable);
    assert_true(w.user);
    assert_true(w.nx);
    assert_int_equal(nreads, 2);
}

static void test_1g_page_with_pat_bit(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, idx(GVA, 4), PDPT | TBL);
    set_entry(PDPT, idx(GVA, 3), GiB(2) | (1ull << 12) | P | PS);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_true(w.gpa == GiB(2) + (0x0f0ull << 21) + 0x12d9ab);
}

static void test_kernel_half_address(void **state)
{
    (void)state;
    reset();
    u64 gva = 0xffffffff80123456ull;     /* indices 511, 510, 0, 0x123 */
    assert_int_equal(idx(gva, 4), 511);
    assert_int_equal(idx(gva, 3), 510);
    map_4k(gva, all_perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4, gva, &w), PT_OK);
    assert_true(w.gpa == (PAGE | 0x456));
    assert_true(read_gpa[0] == PML4);
    assert_true(w.entries[0] == (PDPT | TBL));      /* entry 511 was the one read */
}

static void test_canonical_boundaries_are_walked(void **state)
{
    (void)state;
    reset();
    const u64 lo = 0x00007fffffffffffull, hi = 0xffff800000000000ull;
    map_4k(lo, all_perm);
    map_4k(hi, all_perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4, lo, &w), PT_OK);
    assert_true(w.gpa == (PAGE | 0xfff));
    assert_int_equal(walk(PML4, hi, &w), PT_OK);
    assert_true(w.gpa == PAGE);
}

/* ---- permissions combined over the levels ---- */

static void test_writable_only_if_rw_at_every_level(void **state)
{
    (void)state;
    for (int drop = 0; drop < 4; drop++) {
        reset();
        u64 perm[4] = { TBL, TBL, TBL, P | RW | US };
        perm[drop] &= ~RW;
        map_4k(GVA, perm);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_OK);
        assert_false(w.writable);
        assert_true(w.user);
        assert_false(w.nx);
    }
}

static void test_user_only_if_us_at_every_level(void **state)
{
    (void)state;
    for (int drop = 0; drop < 4; drop++) {
        reset();
        u64 perm[4] = { TBL, TBL, TBL, P | RW | US };
        perm[drop] &= ~US;
        map_4k(GVA, perm);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_OK);
        assert_false(w.user);
        assert_true(w.writable);
        assert_false(w.nx);
    }
}

static void test_nx_if_nx_at_any_level(void **state)
{
    (void)state;
    for (int set = 0; set < 4; set++) {
        reset();
        u64 perm[4] = { TBL, TBL, TBL, P | RW | US };
        perm[set] |= NX;
        map_4k(GVA, perm);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_OK);
        assert_true(w.nx);
        assert_true(w.writable);
        assert_true(w.user);
    }
}

static void test_read_only_kernel_page(void **state)
{
    (void)state;
    reset();
    const u64 perm[4] = { P, P, P, P };
    map_4k(GVA, perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_false(w.writable);
    assert_false(w.user);
    assert_false(w.nx);
}

static void test_large_page_permissions_use_only_levels_walked(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, idx(GVA, 4), PDPT | TBL);
    set_entry(PDPT, idx(GVA, 3), PD | TBL);
    set_entry(PD, idx(GVA, 2), MiB(2) | P | RW | US | PS);
    /* memory at the 2 MiB page's address is all zero (not-present
     * entries): it must not be consulted as a page table */
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_true(w.writable);
    assert_true(w.user);
    assert_false(w.nx);
}

/* ---- CR3 ---- */

static void test_cr3_pcid_bits_are_masked(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4 | 0x123, GVA, &w), PT_OK);
    assert_true(w.table_gpa[0] == PML4);
    assert_true(w.gpa == (PAGE | 0x9ab));
}

static void test_cr3_flag_bits_and_bit63_are_masked(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    struct pt_walk w;
    /* PWT/PCD (3, 4) and the no-flush bit 63 of MOV CR3 with PCIDs */
    assert_int_equal(walk(PML4 | (1ull << 63) | 0x18, GVA, &w), PT_OK);
    assert_true(w.table_gpa[0] == PML4);
    assert_true(read_gpa[0] == PML4);
    assert_true(w.gpa == (PAGE | 0x9ab));
}

/* ---- not present ---- */

static void test_not_present_at_each_level(void **state)
{
    (void)state;
    for (int level = 4; level >= 1; level--) {
        reset();
        u64 perm[4] = { TBL, TBL, TBL, P | RW | US };
        perm[4 - level] &= ~P;
        map_4k(GVA, perm);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_NOT_PRESENT);
        assert_int_equal(w.status, PT_NOT_PRESENT);
        assert_int_equal(w.level, level);
        assert_int_equal(nreads, 5 - level);
        /* the entry that stopped the walk is reported */
        assert_true(w.entries[4 - level] == (level == 4 ? PDPT : level == 3 ? PD : level == 2 ? PT : PAGE) + (perm[4 - level]));
        assert_true(w.gpa == 0);
        assert_true(w.page_size == 0);
    }
}

static void test_empty_pml4_is_not_present(void **state)
{
    (void)state;
    reset();
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_NOT_PRESENT);
    assert_int_equal(w.level, 4);
    assert_true(w.entries[0] == 0);
    assert_true(w.table_gpa[0] == PML4);
}

/* ---- tables outside guest RAM ---- */

static void test_cr3_outside_guest_ram(void **state)
{
    (void)state;
    reset();
    struct pt_walk w;
    assert_int_equal(walk(VIGIL_LO, GVA, &w), PT_BAD_TABLE);
    assert_int_equal(w.level, 4);
    assert_true(w.table_gpa[0] == VIGIL_LO);
    assert_int_equal(nreads, 1);
    assert_int_equal(walk(GiB(1), GVA, &w), PT_BAD_TABLE);
    assert_int_equal(w.level, 4);
}

static void test_table_in_vigil_memory_at_each_level(void **state)
{
    (void)state;
    for (int level = 3; level >= 1; level--) {
        reset();
        map_4k(GVA, all_perm);
        /* the entry one level up points into vigil's memory */
        u64 tables[4] = { PML4, PDPT, PD, PT };
        u64 bad = VIGIL_LO + KiB(64);
        set_entry(tables[3 - level], idx(GVA, level + 1), bad | TBL);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_BAD_TABLE);
        assert_int_equal(w.status, PT_BAD_TABLE);
        assert_int_equal(w.level, level);
        assert_true(w.table_gpa[4 - level] == bad);
        assert_true(w.entries[4 - level] == 0);   /* nothing was read there */
        assert_int_equal(nreads, 5 - level);
        assert_true(read_gpa[4 - level] == bad);
    }
}

static void test_table_past_the_end_of_ram(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    set_entry(PDPT, idx(GVA, 3), GiB(64) | TBL);    /* inside maxphys, past RAM */
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_BAD_TABLE);
    assert_int_equal(w.level, 2);
    assert_true(w.table_gpa[2] == GiB(64));
}

/* ---- reserved bits ---- */

static void test_address_above_maxphys_at_each_level(void **state)
{
    (void)state;
    for (int level = 4; level >= 1; level--) {
        reset();
        u64 perm[4] = { TBL, TBL, TBL, P | RW | US };
        perm[4 - level] |= 1ull << MAXPHYS;          /* the first reserved address bit */
        map_4k(GVA, perm);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_RESERVED);
        assert_int_equal(w.level, level);
        assert_int_equal(nreads, 5 - level);
    }
}

static void test_address_bit51_reserved_with_small_maxphys(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    set_entry(PD, idx(GVA, 2), PT | TBL | (1ull << 51));
    struct pt_walk w;
    assert_int_equal(walk_phys(PML4, GVA, 36, &w), PT_RESERVED);
    assert_int_equal(w.level, 2);
}

static void test_address_below_maxphys_is_not_reserved(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    set_entry(PT, idx(GVA, 1), (1ull << (MAXPHYS - 1)) | P);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_true(w.gpa == ((1ull << (MAXPHYS - 1)) | 0x9ab));
}

static void test_maxphys_52_and_above_allows_all_address_bits(void **state)
{
    (void)state;
    u32 widths[] = { 52, 53, 64, 200 };
    for (u32 i = 0; i < ARRAY_SIZE(widths); i++) {
        reset();
        map_4k(GVA, all_perm);
        set_entry(PT, idx(GVA, 1), 0x000ffffffffff000ull | P);
        struct pt_walk w;
        assert_int_equal(walk_phys(PML4, GVA, widths[i], &w), PT_OK);
        assert_true(w.gpa == 0x000ffffffffff9abull);
    }
}

static void test_ps_in_pml4e_is_reserved(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    set_entry(PML4, idx(GVA, 4), PDPT | TBL | PS);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_RESERVED);
    assert_int_equal(w.level, 4);
    assert_int_equal(nreads, 1);
}

static void test_2m_page_with_low_address_bits_is_reserved(void **state)
{
    (void)state;
    u64 bits[] = { 1ull << 13, 1ull << 20, 0x1fe000ull };
    for (u32 i = 0; i < ARRAY_SIZE(bits); i++) {
        reset();
        set_entry(PML4, idx(GVA, 4), PDPT | TBL);
        set_entry(PDPT, idx(GVA, 3), PD | TBL);
        set_entry(PD, idx(GVA, 2), MiB(6) | bits[i] | P | PS);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_RESERVED);
        assert_int_equal(w.level, 2);
    }
}

static void test_1g_page_with_low_address_bits_is_reserved(void **state)
{
    (void)state;
    u64 bits[] = { 1ull << 13, 1ull << 21, 1ull << 29 };
    for (u32 i = 0; i < ARRAY_SIZE(bits); i++) {
        reset();
        set_entry(PML4, idx(GVA, 4), PDPT | TBL);
        set_entry(PDPT, idx(GVA, 3), GiB(1) | bits[i] | P | PS);
        struct pt_walk w;
        assert_int_equal(walk(PML4, GVA, &w), PT_RESERVED);
        assert_int_equal(w.level, 3);
    }
}

static void test_ps_in_pte_is_pat_not_a_large_page(void **state)
{
    (void)state;
    reset();
    const u64 perm[4] = { TBL, TBL, TBL, P | RW | PS };     /* bit 7 of a PTE is PAT */
    map_4k(GVA, perm);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_true(w.page_size == KiB(4));
    assert_true(w.gpa == (PAGE | 0x9ab));
}

/* ---- non-canonical ---- */

static void test_noncanonical_addresses(void **state)
{
    (void)state;
    u64 bad[] = { 0x0000800000000000ull, 0xffff7fffffffffffull, 0x8000000000000000ull,
                  0x0001000000000000ull, 0x7fffffffffffffffull };
    reset();
    map_4k(GVA, all_perm);
    for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
        struct pt_walk w;
        assert_int_equal(walk(PML4, bad[i], &w), PT_NONCANONICAL);
        assert_int_equal(w.status, PT_NONCANONICAL);
        assert_int_equal(nreads, 0);
        assert_true(w.gpa == 0);
    }
}

/* ---- hostile tables ---- */

static void test_self_referencing_pml4_terminates(void **state)
{
    (void)state;
    reset();
    /* every PML4 entry points back at the PML4: each level reads it again */
    for (u32 i = 0; i < 512; i++)
        set_entry(PML4, i, PML4 | TBL);
    struct pt_walk w;
    enum pt_status s = walk(PML4, GVA, &w);
    assert_true(nreads <= 4);
    /* the recursive mapping is legal x86: the last read is taken as the PTE */
    assert_int_equal(s, PT_OK);
    assert_int_equal(nreads, 4);
    assert_true(w.gpa == (PML4 | 0x9ab));
    for (int i = 0; i < 4; i++)
        assert_true(w.table_gpa[i] == PML4);
}

static void test_self_referencing_table_below_terminates(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, idx(GVA, 4), PDPT | TBL);
    for (u32 i = 0; i < 512; i++)
        set_entry(PDPT, i, PDPT | TBL);
    struct pt_walk w;
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    assert_int_equal(nreads, 4);
    assert_true(w.gpa == (PDPT | 0x9ab));
}

static void test_result_does_not_depend_on_previous_contents(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    struct pt_walk w;
    memset(&w, 0xa5, sizeof(w));
    assert_int_equal(walk(PML4, GVA, &w), PT_OK);
    struct pt_walk w2;
    memset(&w2, 0x5a, sizeof(w2));
    assert_int_equal(walk(PML4, GVA, &w2), PT_OK);
    assert_memory_equal(w.entries, w2.entries, sizeof(w.entries));
    assert_true(w.gpa == w2.gpa);
    /* a short walk after a long one leaves no stale entries */
    memset(&w, 0xa5, sizeof(w));
    set_entry(PDPT, idx(GVA, 3), 0);
    assert_int_equal(walk(PML4, GVA, &w), PT_NOT_PRESENT);
    assert_true(w.entries[2] == 0 && w.entries[3] == 0);
    assert_true(w.table_gpa[2] == 0 && w.table_gpa[3] == 0);
    assert_true(w.gpa == 0 && w.page_size == 0);
    assert_false(w.nx);
}

/* ---- 4-level: XD and EFER.NXE ---- */

static void test_xd_reserved_without_nxe_at_each_level(void **state)
{
    (void)state;
    for (int level = 4; level >= 1; level--) {
        reset();
        u64 perm[4] = { TBL, TBL, TBL, P | RW | US };
        perm[4 - level] |= NX;
        map_4k(GVA, perm);
        struct pt_paging pg = pg4(PML4, MAXPHYS);
        pg.nxe = false;
        struct pt_walk w;
        assert_int_equal(walk_pg(&pg, GVA, &w), PT_RESERVED);
        assert_int_equal(w.level, level);
        assert_int_equal(nreads, 5 - level);
    }
}

static void test_xd_reserved_without_nxe_in_large_pages(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, idx(GVA, 4), PDPT | TBL);
    set_entry(PDPT, idx(GVA, 3), GiB(1) | P | PS | NX);
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    pg.nxe = false;
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA, &w), PT_RESERVED);
    assert_int_equal(w.level, 3);
    pg.nxe = true;
    assert_int_equal(walk_pg(&pg, GVA, &w), PT_OK);
    assert_true(w.nx);
}

static void test_without_nxe_a_clear_bit63_walks(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    pg.nxe = false;
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA, &w), PT_OK);
    assert_false(w.nx);
    assert_true(w.gpa == (PAGE | 0x9ab));
}

static void test_5level_is_unsupported(void **state)
{
    (void)state;
    reset();
    map_4k(GVA, all_perm);
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    pg.mode = PT_MODE_5LEVEL;
    struct pt_walk w;
    memset(&w, 0xa5, sizeof(w));
    assert_int_equal(walk_pg(&pg, GVA, &w), PT_UNSUPPORTED);
    assert_int_equal(w.status, PT_UNSUPPORTED);
    assert_int_equal(nreads, 0);
    assert_true(w.gpa == 0);
    pg.mode = (enum pt_mode)77;                     /* not a mode at all */
    assert_int_equal(walk_pg(&pg, GVA, &w), PT_UNSUPPORTED);
}

/* ---- 32-bit paging (SDM 4.3) ---- */

#define PD32 0x5000ull
#define PT32 0x6000ull

static void set32(u64 table, u32 i, u32 e)
{
    assert_true(i < 1024);
    memcpy((u8 *)ram + table + i * 4, &e, 4);
}

static struct pt_paging pg32(u64 cr3, bool pse, u32 maxphys)
{
    struct pt_paging pg = { .mode = PT_MODE_32BIT, .cr3 = cr3, .maxphys = maxphys, .pse = pse, .nxe = true };
    return pg;
}

/* 0xc0a5b9ab: PDE 0x302, PTE 0x25b */
#define GVA32 0xc0a5b9abull

static void map32_4k(u32 pde_flags, u32 pte_flags)
{
    set32(PD32, (u32)(GVA32 >> 22), (u32)PT32 | pde_flags);
    set32(PT32, (u32)(GVA32 >> 12) & 1023, (u32)PAGE | pte_flags);
}

static void test_32bit_4k_page(void **state)
{
    (void)state;
    reset();
    map32_4k(P | RW | US, P | RW | US | A | D);
    struct pt_paging pg = pg32(PD32, false, MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_int_equal(w.level, 1);
    assert_true(w.gpa == (PAGE | 0x9ab));
    assert_true(w.page_size == KiB(4));
    assert_true(w.writable && w.user);
    assert_false(w.nx);
    assert_int_equal(nreads, 2);
    assert_true(read_gpa[0] == PD32 && read_gpa[1] == PT32);
    /* named as in 4-level paging: entries[2] the PDE, entries[3] the PTE */
    assert_true(w.entries[0] == 0 && w.entries[1] == 0);
    assert_true(w.entries[2] == (PT32 | P | RW | US));
    assert_true(w.entries[3] == (PAGE | P | RW | US | A | D));
    assert_true(w.table_gpa[2] == PD32 && w.table_gpa[3] == PT32);
}

static void test_32bit_entries_are_four_bytes(void **state)
{
    (void)state;
    reset();
    /* neighbours on both sides of each entry: read as 8 bytes, they would
     * change the address or the flags */
    u32 pdi = (u32)(GVA32 >> 22), pti = (u32)(GVA32 >> 12) & 1023;
    set32(PD32, pdi - 1, 0xfffff1ffu);
    set32(PD32, pdi + 1, 0xfffff1ffu);
    set32(PT32, pti - 1, 0xfffff1ffu);
    set32(PT32, pti + 1, 0xfffff1ffu);
    map32_4k(P, P);
    struct pt_paging pg = pg32(PD32, true, MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_true(w.gpa == (PAGE | 0x9ab));
    assert_true(w.entries[2] == (PT32 | P) && w.entries[3] == (PAGE | P));
    assert_false(w.writable || w.user || w.nx);
    /* the last entry of each table */
    reset();
    set32(PD32, 1023, (u32)PT32 | P | RW);
    set32(PT32, 1023, 0xfffff000u | P | RW);
    assert_int_equal(walk_pg(&pg, 0xffffffffull, &w), PT_OK);
    assert_true(w.gpa == 0xffffffffull);
}

static void test_32bit_rights_combine(void **state)
{
    (void)state;
    const u32 pde[4] = { P | RW | US, P | US, P | RW, P | RW | US };
    const u32 pte[4] = { P | US, P | RW | US, P | RW | US, P | RW };
    for (int i = 0; i < 4; i++) {
        reset();
        map32_4k(pde[i], pte[i]);
        struct pt_paging pg = pg32(PD32, false, MAXPHYS);
        struct pt_walk w;
        assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
        assert_true(w.writable == !!(pde[i] & pte[i] & RW));
        assert_true(w.user == !!(pde[i] & pte[i] & US));
        assert_false(w.nx);
    }
}

static void test_32bit_not_present(void **state)
{
    (void)state;
    reset();
    map32_4k(RW | US, P);
    struct pt_paging pg = pg32(PD32, false, MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_NOT_PRESENT);
    assert_int_equal(w.level, 2);
    reset();
    map32_4k(P, RW);
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_NOT_PRESENT);
    assert_int_equal(w.level, 1);
}

static void test_32bit_4m_page_under_pse(void **state)
{
    (void)state;
    reset();
    set32(PD32, (u32)(GVA32 >> 22), 0x40000000u | P | RW | PS | (1u << 12));   /* bit 12: PAT */
    struct pt_paging pg = pg32(PD32, true, MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_int_equal(w.level, 2);
    assert_true(w.page_size == MiB(4));
    assert_true(w.gpa == (0x40000000ull | (GVA32 & (MiB(4) - 1))));
    assert_true(w.writable);
    assert_false(w.user);
    assert_int_equal(nreads, 1);
}

static void test_32bit_ps_ignored_without_pse(void **state)
{
    (void)state;
    reset();
    map32_4k(P | RW | US | PS, P | RW | US);
    struct pt_paging pg = pg32(PD32, false, MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_int_equal(w.level, 1);
    assert_true(w.page_size == KiB(4));
    assert_true(w.gpa == (PAGE | 0x9ab));
}

static void test_32bit_pse36_high_address_bits(void **state)
{
    (void)state;
    reset();
    /* bits 20:13 are address bits 39:32 */
    set32(PD32, (u32)(GVA32 >> 22), 0x00400000u | (0xabu << 13) | P | PS);
    struct pt_paging pg = pg32(PD32, true, 40);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_true(w.gpa == ((0xabull << 32) | 0x00400000ull | (GVA32 & (MiB(4) - 1))));
    /* MAXPHYADDR above 40: PSE-36 still reaches bit 39 only; bit 21 reserved */
    pg.maxphys = 46;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    set32(PD32, (u32)(GVA32 >> 22), 0x00400000u | (1u << 21) | P | PS);
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_RESERVED);
    assert_int_equal(w.level, 2);
}

static void test_32bit_4m_reserved_bits_follow_maxphys(void **state)
{
    (void)state;
    /* MAXPHYADDR 36: bits 16:13 are address bits 35:32, bits 21:17 reserved */
    for (u32 bit = 13; bit <= 21; bit++) {
        reset();
        set32(PD32, (u32)(GVA32 >> 22), 0x00400000u | (1u << bit) | P | PS);
        struct pt_paging pg = pg32(PD32, true, 36);
        struct pt_walk w;
        assert_int_equal(walk_pg(&pg, GVA32, &w), bit <= 16 ? PT_OK : PT_RESERVED);
        if (bit <= 16)
            assert_true(w.gpa == ((1ull << (bit + 19)) | 0x00400000ull | (GVA32 & (MiB(4) - 1))));
        /* MAXPHYADDR 32 (taken as the least): all of 21:13 reserved */
        pg.maxphys = 32;
        assert_int_equal(walk_pg(&pg, GVA32, &w), PT_RESERVED);
    }
}

static void test_32bit_has_no_other_reserved_bits(void **state)
{
    (void)state;
    reset();
    /* every bit set in a PDE pointing to a table and in a PTE (bit 7 of a
     * PTE is PAT): all are flags or address */
    set32(PD32, (u32)(GVA32 >> 22), (u32)PT32 | 0xf7fu);
    set32(PT32, (u32)(GVA32 >> 12) & 1023, 0xffffffffu);
    struct pt_paging pg = pg32(PD32, true, MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_true(w.gpa == 0xfffff9abull);
    assert_false(w.nx);
}

static void test_32bit_cr3_low_bits_and_addresses_above_4g(void **state)
{
    (void)state;
    reset();
    map32_4k(P, P);
    struct pt_paging pg = pg32(PD32 | 0x18, false, MAXPHYS);   /* PWT, PCD */
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_true(w.table_gpa[2] == PD32);
    assert_int_equal(walk_pg(&pg, 0x100000000ull | GVA32, &w), PT_NONCANONICAL);
    assert_int_equal(nreads, 0);
}

static void test_32bit_tables_outside_ram(void **state)
{
    (void)state;
    reset();
    set32(PD32, (u32)(GVA32 >> 22), (u32)(VIGIL_LO + 0x3000) | P);
    struct pt_paging pg = pg32(PD32, false, MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_BAD_TABLE);
    assert_int_equal(w.level, 1);
    pg.cr3 = 0xfffff000ull;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_BAD_TABLE);
    assert_int_equal(w.level, 2);
}

/* ---- PAE paging (SDM 4.4) ---- */

#define PDPT_AT 0x7020ull            /* CR3: a 32-byte-aligned PDPT (its contents are the caller's) */

/* 0xc0a5b9ab: PDPTE 3, PDE 0x005, PTE 0x05b */
static struct pt_paging pgpae(u32 maxphys)
{
    struct pt_paging pg = { .mode = PT_MODE_PAE, .cr3 = PDPT_AT, .maxphys = maxphys, .nxe = true };
    pg.pdpte[3] = PD | P;
    return pg;
}

static void map_pae_4k(u64 pde, u64 pte)
{
    set_entry(PD, (u32)(GVA32 >> 21) & 511, PT | pde);
    set_entry(PT, (u32)(GVA32 >> 12) & 511, PAGE | pte);
}

static void test_pae_4k_page(void **state)
{
    (void)state;
    reset();
    map_pae_4k(P | RW | US, P | RW | US | NX);
    struct pt_paging pg = pgpae(MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_int_equal(w.level, 1);
    assert_true(w.gpa == (PAGE | 0x9ab));
    assert_true(w.page_size == KiB(4));
    /* the PDPTE grants no rights (its bits 1 and 2 are reserved) */
    assert_true(w.writable && w.user && w.nx);
    /* the PDPTEs are the caller's: only the PD and PT are mapped */
    assert_int_equal(nreads, 2);
    assert_true(read_gpa[0] == PD && read_gpa[1] == PT);
    assert_true(w.entries[1] == (PD | P) && w.table_gpa[1] == (PDPT_AT & ~0x1full));
    assert_true(w.entries[2] == (PT | P | RW | US) && w.table_gpa[2] == PD);
    assert_true(w.entries[3] == (PAGE | P | RW | US | NX) && w.table_gpa[3] == PT);
}

static void test_pae_2m_page(void **state)
{
    (void)state;
    reset();
    set_entry(PD, (u32)(GVA32 >> 21) & 511, MiB(6) | (1ull << 12) | P | US | PS);    /* bit 12: PAT */
    struct pt_paging pg = pgpae(MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_int_equal(w.level, 2);
    assert_true(w.page_size == MiB(2));
    assert_true(w.gpa == (MiB(6) | (GVA32 & (MiB(2) - 1))));
    assert_false(w.writable);
    assert_true(w.user);
    for (u32 bit = 13; bit <= 20; bit++) {
        set_entry(PD, (u32)(GVA32 >> 21) & 511, MiB(6) | (1ull << bit) | P | PS);
        assert_int_equal(walk_pg(&pg, GVA32, &w), PT_RESERVED);
        assert_int_equal(w.level, 2);
    }
}

static void test_pae_pdpte_selects_by_bits_31_30(void **state)
{
    (void)state;
    reset();
    struct pt_paging pg = pgpae(MAXPHYS);
    pg.pdpte[3] = 0;
    pg.pdpte[1] = PD | P;
    set_entry(PD, 0, PT | P);
    set_entry(PT, 0, PAGE | P);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, 0x40000123ull, &w), PT_OK);
    assert_true(w.gpa == (PAGE | 0x123));
    assert_int_equal(walk_pg(&pg, 0xc0000123ull, &w), PT_NOT_PRESENT);
    assert_int_equal(w.level, 3);
    assert_int_equal(nreads, 0);
    assert_true(w.entries[1] == 0);
}

static void test_pae_pdpte_reserved_bits(void **state)
{
    (void)state;
    reset();
    map_pae_4k(P | RW, P | RW);
    u64 bad[] = { 1ull << 1, 1ull << 2, 1ull << 5, 1ull << 6, 1ull << 7, 1ull << 8,
                  1ull << MAXPHYS, 1ull << 51, 1ull << 52, 1ull << 62, NX };
    for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
        struct pt_paging pg = pgpae(MAXPHYS);
        pg.pdpte[3] |= bad[i];
        struct pt_walk w;
        assert_int_equal(walk_pg(&pg, GVA32, &w), PT_RESERVED);
        assert_int_equal(w.level, 3);
        assert_int_equal(nreads, 0);
        assert_false(pt_pdpte_valid(pg.pdpte[3], MAXPHYS));
        /* not present: nothing is reserved */
        assert_true(pt_pdpte_valid(pg.pdpte[3] & ~P, MAXPHYS));
    }
    /* PWT, PCD (3, 4), the available bits 11:9, an address below MAXPHYADDR */
    struct pt_paging pg = pgpae(MAXPHYS);
    pg.pdpte[3] |= (1ull << 3) | (1ull << 4) | (7ull << 9);
    assert_true(pt_pdpte_valid(pg.pdpte[3], MAXPHYS));
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_true(pt_pdpte_valid((1ull << (MAXPHYS - 1)) | P, MAXPHYS));
    assert_true(pt_pdpte_valid(0x000ffffffffff000ull | P, 52));
    assert_false(pt_pdpte_valid(0x000ffffffffff000ull | P, 51));
}

static void test_pae_high_bits_are_reserved(void **state)
{
    (void)state;
    /* unlike 4-level paging, bits 62:MAXPHYADDR are reserved, not ignored */
    u64 bits[] = { 1ull << MAXPHYS, 1ull << 52, 1ull << 58, 1ull << 62 };
    for (u32 i = 0; i < ARRAY_SIZE(bits); i++)
        for (int level = 2; level >= 1; level--) {
            reset();
            map_pae_4k(P | (level == 2 ? bits[i] : 0), P | (level == 1 ? bits[i] : 0));
            struct pt_paging pg = pgpae(MAXPHYS);
            struct pt_walk w;
            assert_int_equal(walk_pg(&pg, GVA32, &w), PT_RESERVED);
            assert_int_equal(w.level, level);
        }
    /* with MAXPHYADDR 52, 62:52 still are */
    reset();
    map_pae_4k(P, P | (1ull << 52));
    struct pt_paging pg = pgpae(52);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_RESERVED);
}

static void test_pae_xd_needs_nxe(void **state)
{
    (void)state;
    reset();
    map_pae_4k(P | RW | NX, P | RW);
    struct pt_paging pg = pgpae(MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_OK);
    assert_true(w.nx);
    pg.nxe = false;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_RESERVED);
    assert_int_equal(w.level, 2);
}

static void test_pae_addresses_above_4g_and_bad_tables(void **state)
{
    (void)state;
    reset();
    map_pae_4k(P, P);
    struct pt_paging pg = pgpae(MAXPHYS);
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, 0x100000000ull | GVA32, &w), PT_NONCANONICAL);
    assert_int_equal(nreads, 0);
    pg.pdpte[3] = (VIGIL_LO + 0x1000) | P;
    assert_int_equal(walk_pg(&pg, GVA32, &w), PT_BAD_TABLE);
    assert_int_equal(w.level, 2);
    assert_true(w.table_gpa[2] == VIGIL_LO + 0x1000);
}

/* ---- pt_paging_of ---- */

static void test_paging_of_control_registers(void **state)
{
    (void)state;
    const u64 PG = 1ull << 31, PSE = 1ull << 4, PAE = 1ull << 5, LA57 = 1ull << 12;
    const u64 LME = 1ull << 8, LMA = 1ull << 10, NXE = 1ull << 11;
    struct pt_paging pg;
    memset(&pg, 0xa5, sizeof(pg));
    assert_false(pt_paging_of(1, PAE, LME | LMA, 0x1000, 40, &pg));      /* paging off */
    assert_true(pt_paging_of(PG | 1, PSE, 0, 0x2000, 40, &pg));
    assert_int_equal(pg.mode, PT_MODE_32BIT);
    assert_true(pg.pse && !pg.nxe && pg.cr3 == 0x2000 && pg.maxphys == 40);
    assert_true(pg.pdpte[0] == 0 && pg.pdpte[3] == 0);
    assert_true(pt_paging_of(PG | 1, PAE, NXE, 0x3020, 36, &pg));
    assert_int_equal(pg.mode, PT_MODE_PAE);
    assert_true(!pg.pse && pg.nxe && pg.cr3 == 0x3020 && pg.maxphys == 36);
    assert_true(pt_paging_of(PG | 1, PAE | PSE, LME | LMA | NXE, 0x4000, 39, &pg));
    assert_int_equal(pg.mode, PT_MODE_4LEVEL);
    assert_true(pg.nxe);
    assert_true(pt_paging_of(PG | 1, PAE | LA57, LME | LMA, 0x4000, 39, &pg));
    assert_int_equal(pg.mode, PT_MODE_5LEVEL);
    /* LME without LMA (not yet active): PAE paging */
    assert_true(pt_paging_of(PG | 1, PAE, LME, 0x4000, 39, &pg));
    assert_int_equal(pg.mode, PT_MODE_PAE);
}

/* ---- the visitor ---- */

#define MAX_LEAVES 64
static struct pt_leaf leaves[MAX_LEAVES];
static u32 nleaves, stop_after;
static struct pt_table tables[64];
static u32 ntables;
static enum pt_table_verdict (*verdict_of)(const struct pt_table *t);

static bool on_leaf(void *ctx, const struct pt_leaf *l)
{
    assert_ptr_equal(ctx, ram);
    if (nleaves < MAX_LEAVES)
        leaves[nleaves] = *l;
    nleaves++;
    return !stop_after || nleaves < stop_after;
}

static enum pt_table_verdict on_table(void *ctx, const struct pt_table *t)
{
    assert_ptr_equal(ctx, ram);
    assert_ptr_equal(t->entries, (const u8 *)ram + t->gpa);
    if (ntables < ARRAY_SIZE(tables))
        tables[ntables] = *t;
    ntables++;
    return verdict_of ? verdict_of(t) : PT_VISIT_ALL;
}

static enum pt_status visit(const struct pt_paging *pg, u64 first, u64 last, u32 max_tables,
                            struct pt_visit_stats *st)
{
    nleaves = ntables = 0;
    nreads = 0;
    const struct pt_visitor v = { .map = map_ram, .ctx = ram, .max_tables = max_tables, .table = on_table,
                                  .leaf = on_leaf };
    return pt_visit(pg, first, last, &v, st);
}

/* A small 4-level address space: a 4 KiB user page, a 2 MiB page, a 1 GiB
 * page and a kernel-half 4 KiB page. */
#define V_4K   0x0000000000401000ull
#define V_2M   0x0000000000600000ull
#define V_1G   0x0000008040000000ull      /* PML4 1, PDPT 1 */
#define V_KERN 0xffffffff80002000ull
#define PDPT_B 0x8000ull
#define PDPT_K 0x9000ull
#define PD_K   0xa000ull
#define PT_K   0xb000ull

static void build_space(void)
{
    reset();
    set_entry(PML4, 0, PDPT | TBL);
    set_entry(PDPT, 0, PD | TBL);
    set_entry(PD, 2, PT | TBL);
    set_entry(PT, 1, PAGE | P | RW | US);                      /* V_4K */
    set_entry(PD, 3, MiB(8) | P | US | PS | NX);               /* V_2M */
    set_entry(PML4, 1, PDPT_B | P | RW);
    set_entry(PDPT_B, 1, GiB(3) | P | RW | US | PS);           /* V_1G: not user (the PML4E) */
    set_entry(PML4, 511, PDPT_K | P | RW);
    set_entry(PDPT_K, 510, PD_K | P | RW);
    set_entry(PD_K, 0, PT_K | P | RW);
    set_entry(PT_K, 2, 0x7000ull | P | RW | G);                 /* V_KERN */
}

static void test_visit_reports_every_leaf_in_order(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    assert_int_equal(visit(&pg, 0, ~0ull, 100, &st), PT_OK);
    assert_int_equal(nleaves, 4);
    assert_int_equal(st.leaves, 4);
    assert_true(leaves[0].gva == V_4K && leaves[0].gpa == PAGE && leaves[0].size == KiB(4));
    assert_true(leaves[0].level == 1 && leaves[0].writable && leaves[0].user && !leaves[0].nx);
    assert_true(leaves[0].entry == (PAGE | P | RW | US));
    assert_true(leaves[1].gva == V_2M && leaves[1].gpa == MiB(8) && leaves[1].size == MiB(2));
    assert_true(leaves[1].level == 2 && !leaves[1].writable && leaves[1].user && leaves[1].nx);
    assert_true(leaves[2].gva == V_1G && leaves[2].gpa == GiB(3) && leaves[2].size == GiB(1));
    assert_true(leaves[2].level == 3 && leaves[2].writable && !leaves[2].user);
    /* the upper half, canonical */
    assert_true(leaves[3].gva == V_KERN && leaves[3].gpa == 0x7000 && leaves[3].size == KiB(4));
    assert_int_equal(st.tables, 8);
    assert_int_equal(ntables, 8);
    assert_int_equal(st.reserved, 0);
    assert_int_equal(st.bad_tables, 0);
    assert_int_equal(st.over_budget, 0);
    assert_false(st.stopped);
    /* the root first, with everything granted */
    assert_true(tables[0].gpa == PML4 && tables[0].level == 4 && tables[0].gva == 0);
    assert_true(tables[0].writable && tables[0].user && !tables[0].nx);
    /* the kernel half's tables: canonical addresses, rights from above */
    bool seen = false;
    for (u32 i = 0; i < ntables; i++)
        if (tables[i].gpa == PT_K) {
            assert_true(tables[i].gva == 0xffffffff80000000ull && tables[i].level == 1);
            assert_true(tables[i].writable && !tables[i].user);
            seen = true;
        }
    assert_true(seen);
}

static void test_visit_agrees_with_walk(void **state)
{
    (void)state;
    build_space();
    /* hostile corners too: reserved entries, a table in vigil's memory */
    set_entry(PD, 4, MiB(10) | (1ull << 13) | P | PS);           /* reserved: bit 13 of a 2 MiB page */
    set_entry(PD, 5, (VIGIL_LO + 0x2000) | P);                   /* table outside guest RAM */
    set_entry(PML4, 2, PDPT | TBL | PS);                         /* PS in a PML4E */
    set_entry(PT, 7, PAGE | P | (1ull << MAXPHYS));              /* above MAXPHYADDR */
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    assert_int_equal(visit(&pg, 0, ~0ull, 100, &st), PT_OK);
    assert_int_equal(st.reserved, 3);
    assert_int_equal(st.bad_tables, 1);
    struct pt_leaf got[MAX_LEAVES];
    u32 n = nleaves;
    memcpy(got, leaves, sizeof(got));
    for (u32 i = 0; i < n; i++) {
        struct pt_walk w;
        assert_int_equal(walk_pg(&pg, got[i].gva, &w), PT_OK);
        assert_true(w.gpa == got[i].gpa && w.page_size == got[i].size && w.level == got[i].level);
        assert_true(w.writable == got[i].writable && w.user == got[i].user && w.nx == got[i].nx);
    }
    struct pt_walk w;
    assert_int_equal(walk_pg(&pg, 0x800000, &w), PT_RESERVED);
    assert_int_equal(walk_pg(&pg, 0xa00000, &w), PT_BAD_TABLE);
    assert_int_equal(walk_pg(&pg, 2ull << 39, &w), PT_RESERVED);
    assert_int_equal(walk_pg(&pg, 0x407000, &w), PT_RESERVED);
}

static void test_visit_user_half_only(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    visit(&pg, 0, 0x00007fffffffffffull, 100, &st);
    assert_int_equal(nleaves, 3);
    for (u32 i = 0; i < nleaves; i++)
        assert_true(leaves[i].gva < 0x0000800000000000ull);
    assert_int_equal(st.tables, 5);                              /* PDPT_K and below not read */
    /* and the upper half alone */
    visit(&pg, 0xffff800000000000ull, ~0ull, 100, &st);
    assert_int_equal(nleaves, 1);
    assert_true(leaves[0].gva == V_KERN);
    assert_int_equal(st.tables, 4);
}

static void test_visit_range_inside_tables(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    /* one byte of the 2 MiB page: it is reported whole, from its start */
    visit(&pg, V_2M + 0x12345, V_2M + 0x12345, 100, &st);
    assert_int_equal(nleaves, 1);
    assert_true(leaves[0].gva == V_2M && leaves[0].size == MiB(2));
    /* the 4 KiB page's last byte to the 2 MiB page's first */
    visit(&pg, V_4K + 0xfff, V_2M, 100, &st);
    assert_int_equal(nleaves, 2);
    assert_true(leaves[0].gva == V_4K && leaves[1].gva == V_2M);
    /* just past the 4 KiB page: nothing until the 2 MiB one */
    visit(&pg, V_4K + 0x1000, V_2M - 1, 100, &st);
    assert_int_equal(nleaves, 0);
    /* an empty range */
    visit(&pg, V_2M, V_4K, 100, &st);
    assert_int_equal(nleaves, 0);
    assert_int_equal(st.tables, 0);
}

static void test_visit_noncanonical_range_ends(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    /* wholly inside the hole: nothing */
    visit(&pg, 0x0000800000000000ull, 0xffff7fffffffffffull, 100, &st);
    assert_int_equal(nleaves, 0);
    assert_int_equal(st.tables, 0);
    /* from inside the hole to the top: the upper half */
    visit(&pg, 0x0001000000000000ull, ~0ull, 100, &st);
    assert_int_equal(nleaves, 1);
    assert_true(leaves[0].gva == V_KERN);
    /* from 0 into the hole: the lower half */
    visit(&pg, 0, 0x8000000000000000ull, 100, &st);
    assert_int_equal(nleaves, 3);
}

static void test_visit_budget(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    visit(&pg, 0, ~0ull, 3, &st);                                /* PML4, PDPT, PD */
    assert_int_equal(st.tables, 3);
    assert_int_equal(ntables, 3);
    /* the PD's 2 MiB leaf is still reported; PT, PDPT_B, PDPT_K are not read */
    assert_int_equal(nleaves, 1);
    assert_true(leaves[0].gva == V_2M);
    assert_int_equal(st.over_budget, 3);
    visit(&pg, 0, ~0ull, 0, &st);
    assert_int_equal(st.tables, 0);
    assert_int_equal(st.over_budget, 1);
    assert_int_equal(nleaves, 0);
}

/* The pass callback: a table it passes over is not read, nor counted
 * against the budget, nor anything below it (a PD reached through every
 * entry of a PDPT is read once). */
static u64 passed_gpa[8];
static u32 npassed;
static bool pass_seen(void *ctx, u64 gpa, int level, bool w, bool u, bool nx)
{
    (void)ctx; (void)level; (void)w; (void)u; (void)nx;
    for (u32 i = 0; i < npassed; i++)
        if (passed_gpa[i] == gpa)
            return true;
    if (npassed < 8)
        passed_gpa[npassed++] = gpa;
    return false;
}

static void test_visit_pass_callback(void **state)
{
    (void)state;
    reset();
    set_entry(PML4, 0, PDPT | TBL);
    for (u32 i = 0; i < 512; i++)
        set_entry(PDPT, i, PD | TBL);                             /* one PD, 512 times */
    set_entry(PD, 2, PT | TBL);
    set_entry(PT, 1, PAGE | P | RW | US);                         /* V_4K */
    set_entry(PML4, 511, PDPT_K | P | RW);                        /* after the clones */
    set_entry(PDPT_K, 510, PD_K | P | RW);
    set_entry(PD_K, 0, PT_K | P | RW);
    set_entry(PT_K, 2, 0x7000ull | P | RW | G);
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    nleaves = ntables = 0;
    nreads = 0;
    npassed = 0;
    const struct pt_visitor v = { .map = map_ram, .ctx = ram, .max_tables = 8, .table = on_table,
                                  .leaf = on_leaf, .pass = pass_seen };
    struct pt_visit_stats st;
    assert_int_equal(pt_visit(&pg, 0, ~0ull, &v, &st), PT_OK);
    assert_int_equal(st.tables, 7);                               /* PML4, PDPT, PD, PT, PDPT_K, PD_K, PT_K */
    assert_int_equal(st.passed, 511);
    assert_int_equal(st.over_budget, 0);
    assert_int_equal(nleaves, 2);
    assert_true(leaves[0].gva == V_4K && leaves[1].gva == V_KERN);
    /* Without it the clones spend the budget, and the kernel half is not read. */
    visit(&pg, 0, ~0ull, 8, &st);
    assert_int_equal(st.passed, 0);
    assert_true(st.over_budget > 0);
    assert_int_equal(nleaves, 3);                                 /* PML4, PDPT, then PD and PT three times */
    assert_true(leaves[0].gva == V_4K && leaves[2].gva == V_4K + (2ull << 30));   /* the same PT, 1 GiB apart */
}

static void test_visit_hostile_loops_are_bounded(void **state)
{
    (void)state;
    reset();
    /* every entry of every level is the PML4 itself: 512^4 leaves if
     * followed; the budget stops it at 64 tables */
    for (u32 i = 0; i < 512; i++)
        set_entry(PML4, i, PML4 | TBL);
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    visit(&pg, 0, ~0ull, 64, &st);
    assert_int_equal(st.tables, 64);
    assert_int_equal(st.leaves, 61 * 512);                       /* PML4, PDPT, PD, then 61 PTs */
    assert_true(st.over_budget > 0);
    assert_false(st.stopped);
    /* a leaf callback that has seen enough ends it sooner */
    stop_after = 1000;
    visit(&pg, 0, ~0ull, 64, &st);
    stop_after = 0;
    assert_int_equal(st.leaves, 1000);
    assert_int_equal(st.tables, 5);
    assert_true(st.stopped);
    /* the lower half, a smaller budget */
    visit(&pg, 0, 0x7fffffffffffull, 8, &st);
    assert_int_equal(st.tables, 8);
    assert_int_equal(st.leaves, 5 * 512);                        /* the five PTs read */
    assert_false(st.stopped);
}

static void test_visit_leaf_callback_stops(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    stop_after = 2;
    visit(&pg, 0, ~0ull, 100, &st);
    stop_after = 0;
    assert_int_equal(nleaves, 2);
    assert_true(st.stopped);
    assert_int_equal(st.tables, 4);                              /* nothing read after the stop */
}

static enum pt_table_verdict skip_pt(const struct pt_table *t) { return t->gpa == PT ? PT_VISIT_NONE : PT_VISIT_ALL; }
static enum pt_table_verdict leaves_of_pd(const struct pt_table *t)
{
    return t->gpa == PD ? PT_VISIT_TABLES : PT_VISIT_ALL;
}
static enum pt_table_verdict only_user(const struct pt_table *t) { return t->user ? PT_VISIT_ALL : PT_VISIT_NONE; }
static enum pt_table_verdict known_pt(const struct pt_table *t)
{
    return t->level == 1 ? PT_VISIT_TABLES : PT_VISIT_ALL;
}

static void test_visit_table_hook(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    /* nothing below the PT */
    verdict_of = skip_pt;
    visit(&pg, 0, ~0ull, 100, &st);
    assert_int_equal(nleaves, 3);
    assert_true(leaves[0].gva == V_2M);
    /* the PD's own leaves skipped, its child table still visited */
    verdict_of = leaves_of_pd;
    visit(&pg, 0, ~0ull, 100, &st);
    assert_int_equal(nleaves, 3);
    assert_true(leaves[0].gva == V_4K && leaves[1].gva == V_1G);
    /* tables the user cannot reach: not descended (V_1G, the kernel half) */
    verdict_of = only_user;
    visit(&pg, 0, ~0ull, 100, &st);
    assert_int_equal(nleaves, 2);
    assert_true(leaves[0].gva == V_4K && leaves[1].gva == V_2M);
    /* PT_VISIT_TABLES at level 1: nothing left to do there */
    verdict_of = known_pt;
    visit(&pg, 0, ~0ull, 100, &st);
    assert_int_equal(nleaves, 2);
    assert_true(leaves[0].gva == V_2M && leaves[1].gva == V_1G);
    verdict_of = NULL;
    /* no hook at all */
    nleaves = 0;
    const struct pt_visitor v = { .map = map_ram, .ctx = ram, .max_tables = 100, .leaf = on_leaf };
    assert_int_equal(pt_visit(&pg, 0, ~0ull, &v, NULL), PT_OK);
    assert_int_equal(nleaves, 4);
}

static void test_visit_reserved_entries_are_not_followed(void **state)
{
    (void)state;
    build_space();
    /* PS in a PML4E: neither a 512 GiB page nor a table */
    set_entry(PML4, 0, PDPT | TBL | PS);
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    visit(&pg, 0, ~0ull, 100, &st);
    assert_int_equal(st.reserved, 1);
    assert_int_equal(nleaves, 2);
    assert_true(leaves[0].gva == V_1G && leaves[1].gva == V_KERN);
    /* XD without EFER.NXE */
    build_space();
    pg.nxe = false;
    visit(&pg, 0, ~0ull, 100, &st);
    assert_int_equal(st.reserved, 1);                            /* the 2 MiB page */
    assert_int_equal(nleaves, 3);
}

static void test_visit_bad_tables(void **state)
{
    (void)state;
    build_space();
    set_entry(PML4, 0, (VIGIL_LO + 0x5000) | TBL);
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    struct pt_visit_stats st;
    visit(&pg, 0, ~0ull, 100, &st);
    assert_int_equal(st.bad_tables, 1);
    assert_int_equal(nleaves, 2);                                /* the other subtrees go on */
    pg.cr3 = GiB(1);
    assert_int_equal(visit(&pg, 0, ~0ull, 100, &st), PT_OK);
    assert_int_equal(st.bad_tables, 1);
    assert_int_equal(st.tables, 0);
    assert_int_equal(nleaves, 0);
}

static void test_visit_5level_unsupported(void **state)
{
    (void)state;
    build_space();
    struct pt_paging pg = pg4(PML4, MAXPHYS);
    pg.mode = PT_MODE_5LEVEL;
    struct pt_visit_stats st;
    assert_int_equal(visit(&pg, 0, ~0ull, 100, &st), PT_UNSUPPORTED);
    assert_int_equal(nreads, 0);
    assert_int_equal(nleaves, 0);
}

static void test_visit_32bit(void **state)
{
    (void)state;
    reset();
    set32(PD32, 0, (u32)PT32 | P | RW | US);
    set32(PT32, 5, 0x9000u | P | US);
    set32(PT32, 1023, 0xa000u | P | RW | US);
    set32(PD32, 0x300, 0x40000000u | (0x12u << 13) | P | RW | PS);       /* 4 MiB, PSE-36 */
    set32(PD32, 0x301, 0x40400000u | (1u << 21) | P | PS);                /* reserved bit 21 */
    struct pt_paging pg = pg32(PD32, true, 40);
    struct pt_visit_stats st;
    assert_int_equal(visit(&pg, 0, ~0ull, 100, &st), PT_OK);
    assert_int_equal(nleaves, 3);
    assert_true(leaves[0].gva == 0x5000 && leaves[0].gpa == 0x9000 && leaves[0].size == KiB(4));
    assert_true(!leaves[0].writable && leaves[0].user && !leaves[0].nx);
    assert_true(leaves[1].gva == 0x3ff000 && leaves[1].gpa == 0xa000 && leaves[1].writable);
    assert_true(leaves[2].gva == 0xc0000000ull && leaves[2].size == MiB(4));
    assert_true(leaves[2].gpa == ((0x12ull << 32) | 0x40000000ull) && leaves[2].level == 2);
    assert_true(leaves[2].writable && !leaves[2].user);
    assert_int_equal(st.reserved, 1);
    assert_int_equal(st.tables, 2);
    assert_true(tables[0].gpa == PD32 && tables[0].level == 2);
    assert_true(tables[1].gpa == PT32 && tables[1].level == 1 && tables[1].gva == 0);
    /* above 4 GiB there is nothing; a range into it is cut at 4 GiB */
    visit(&pg, 0x100000000ull, ~0ull, 100, &st);
    assert_int_equal(nleaves, 0);
    assert_int_equal(st.tables, 0);
    visit(&pg, 0xc0000000ull, 0x1ffffffffull, 100, &st);
    assert_int_equal(nleaves, 1);
    /* without PSE, the PDE at 0x300 points to a table (outside RAM), at
     * bits 31:12 of the entry */
    pg.pse = false;
    visit(&pg, 0xc0000000ull, 0xc03fffffull, 100, &st);
    assert_int_equal(st.tables, 1);
    assert_int_equal(st.bad_tables, 1);
    assert_int_equal(nreads, 2);
    assert_true(read_gpa[1] == 0x40024000ull);
}

static void test_visit_pae(void **state)
{
    (void)state;
    reset();
    struct pt_paging pg = pgpae(MAXPHYS);
    pg.pdpte[0] = PDPT | P;                                      /* the 1st GiB: PD at PDPT */
    pg.pdpte[1] = PD | P | (1ull << 1);                          /* reserved: not followed */
    pg.pdpte[2] = 0;
    set_entry(PDPT, 1, MiB(4) | P | RW | US | PS);
    set_entry(PD, 0, PT | P | RW | US);
    set_entry(PD, 0x1ff, MiB(2) | P | RW | PS | NX);
    set_entry(PT, 3, PAGE | P | US);
    struct pt_visit_stats st;
    assert_int_equal(visit(&pg, 0, ~0ull, 100, &st), PT_OK);
    assert_int_equal(st.reserved, 1);
    assert_int_equal(nleaves, 3);
    assert_true(leaves[0].gva == 0x200000 && leaves[0].gpa == MiB(4) && leaves[0].size == MiB(2));
    assert_true(leaves[0].writable && leaves[0].user);
    assert_true(leaves[1].gva == 0xc0003000ull && leaves[1].gpa == PAGE && !leaves[1].writable);
    assert_true(leaves[2].gva == 0xffe00000ull && leaves[2].nx && !leaves[2].user);
    assert_int_equal(st.tables, 3);                              /* two PDs and a PT: the PDPT is registers */
    /* the third and fourth GiB only */
    visit(&pg, 0x80000000ull, ~0ull, 100, &st);
    assert_int_equal(nleaves, 2);
    assert_int_equal(st.reserved, 0);
    /* XD without NXE is reserved in a PAE PDE */
    pg.nxe = false;
    visit(&pg, 0x80000000ull, ~0ull, 100, &st);
    assert_int_equal(nleaves, 1);
    assert_int_equal(st.reserved, 1);
}

/* ---- pt_status_name ---- */

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(pt_status_name(PT_OK), "ok");
    assert_string_equal(pt_status_name(PT_NOT_PRESENT), "not present");
    assert_string_equal(pt_status_name(PT_BAD_TABLE), "page table outside guest RAM");
    assert_string_equal(pt_status_name(PT_RESERVED), "reserved bits set");
    assert_string_equal(pt_status_name(PT_NONCANONICAL), "non-canonical address");
    assert_string_equal(pt_status_name(PT_UNSUPPORTED), "5-level paging is not supported");
    assert_string_equal(pt_status_name((enum pt_status)99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_4k_page),
        cmocka_unit_test(test_4k_page_fills_entries_and_table_gpas),
        cmocka_unit_test(test_4k_page_ignores_flag_and_available_bits_in_address),
        cmocka_unit_test(test_2m_page),
        cmocka_unit_test(test_2m_page_with_pat_bit),
        cmocka_unit_test(test_1g_page),
        cmocka_unit_test(test_1g_page_with_pat_bit),
        cmocka_unit_test(test_kernel_half_address),
        cmocka_unit_test(test_canonical_boundaries_are_walked),
        cmocka_unit_test(test_writable_only_if_rw_at_every_level),
        cmocka_unit_test(test_user_only_if_us_at_every_level),
        cmocka_unit_test(test_nx_if_nx_at_any_level),
        cmocka_unit_test(test_read_only_kernel_page),
        cmocka_unit_test(test_large_page_permissions_use_only_levels_walked),
        cmocka_unit_test(test_cr3_pcid_bits_are_masked),
        cmocka_unit_test(test_cr3_flag_bits_and_bit63_are_masked),
        cmocka_unit_test(test_not_present_at_each_level),
        cmocka_unit_test(test_empty_pml4_is_not_present),
        cmocka_unit_test(test_cr3_outside_guest_ram),
        cmocka_unit_test(test_table_in_vigil_memory_at_each_level),
        cmocka_unit_test(test_table_past_the_end_of_ram),
        cmocka_unit_test(test_address_above_maxphys_at_each_level),
        cmocka_unit_test(test_address_bit51_reserved_with_small_maxphys),
        cmocka_unit_test(test_address_below_maxphys_is_not_reserved),
        cmocka_unit_test(test_maxphys_52_and_above_allows_all_address_bits),
        cmocka_unit_test(test_ps_in_pml4e_is_reserved),
        cmocka_unit_test(test_2m_page_with_low_address_bits_is_reserved),
        cmocka_unit_test(test_1g_page_with_low_address_bits_is_reserved),
        cmocka_unit_test(test_ps_in_pte_is_pat_not_a_large_page),
        cmocka_unit_test(test_noncanonical_addresses),
        cmocka_unit_test(test_self_referencing_pml4_terminates),
        cmocka_unit_test(test_self_referencing_table_below_terminates),
        cmocka_unit_test(test_result_does_not_depend_on_previous_contents),
        cmocka_unit_test(test_xd_reserved_without_nxe_at_each_level),
        cmocka_unit_test(test_xd_reserved_without_nxe_in_large_pages),
        cmocka_unit_test(test_without_nxe_a_clear_bit63_walks),
        cmocka_unit_test(test_5level_is_unsupported),
        cmocka_unit_test(test_32bit_4k_page),
        cmocka_unit_test(test_32bit_entries_are_four_bytes),
        cmocka_unit_test(test_32bit_rights_combine),
        cmocka_unit_test(test_32bit_not_present),
        cmocka_unit_test(test_32bit_4m_page_under_pse),
        cmocka_unit_test(test_32bit_ps_ignored_without_pse),
        cmocka_unit_test(test_32bit_pse36_high_address_bits),
        cmocka_unit_test(test_32bit_4m_reserved_bits_follow_maxphys),
        cmocka_unit_test(test_32bit_has_no_other_reserved_bits),
        cmocka_unit_test(test_32bit_cr3_low_bits_and_addresses_above_4g),
        cmocka_unit_test(test_32bit_tables_outside_ram),
        cmocka_unit_test(test_pae_4k_page),
        cmocka_unit_test(test_pae_2m_page),
        cmocka_unit_test(test_pae_pdpte_selects_by_bits_31_30),
        cmocka_unit_test(test_pae_pdpte_reserved_bits),
        cmocka_unit_test(test_pae_high_bits_are_reserved),
        cmocka_unit_test(test_pae_xd_needs_nxe),
        cmocka_unit_test(test_pae_addresses_above_4g_and_bad_tables),
        cmocka_unit_test(test_paging_of_control_registers),
        cmocka_unit_test(test_visit_reports_every_leaf_in_order),
        cmocka_unit_test(test_visit_agrees_with_walk),
        cmocka_unit_test(test_visit_user_half_only),
        cmocka_unit_test(test_visit_range_inside_tables),
        cmocka_unit_test(test_visit_noncanonical_range_ends),
        cmocka_unit_test(test_visit_budget),
        cmocka_unit_test(test_visit_pass_callback),
        cmocka_unit_test(test_visit_hostile_loops_are_bounded),
        cmocka_unit_test(test_visit_leaf_callback_stops),
        cmocka_unit_test(test_visit_table_hook),
        cmocka_unit_test(test_visit_reserved_entries_are_not_followed),
        cmocka_unit_test(test_visit_bad_tables),
        cmocka_unit_test(test_visit_5level_unsupported),
        cmocka_unit_test(test_visit_32bit),
        cmocka_unit_test(test_visit_pae),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
