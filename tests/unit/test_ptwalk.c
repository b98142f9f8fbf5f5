/* Unit tests for ids/ptwalk.c: pt_walk on synthetic guest page tables and
 * pt_status_name. Guest-physical memory is a 4 MiB host array; the read
 * callback refuses anything outside it and the window [VIGIL_LO, VIGIL_HI),
 * which stands for vigil's own memory (EPT does not map it to the guest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ids/ptwalk.h"
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

/* Every read the walker makes: count and addresses. */
static u32 nreads;
static u64 read_gpa[16];

static bool read_ram(void *ctx, u64 gpa, u64 *val)
{
    assert_ptr_equal(ctx, ram);
    if (nreads < ARRAY_SIZE(read_gpa))
        read_gpa[nreads] = gpa;
    nreads++;
    if (gpa >= RAM_SIZE || RAM_SIZE - gpa < 8)
        return false;
    if (gpa + 8 > VIGIL_LO && gpa < VIGIL_HI)
        return false;
    assert_int_equal(gpa & 7, 0);     /* entries are 8-byte aligned */
    *val = ram[gpa / 8];
    return true;
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

static enum pt_status walk(u64 cr3, u64 gva, struct pt_walk *w)
{
    nreads = 0;
    return pt_walk(cr3, gva, MAXPHYS, read_ram, ram, w);
}

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
    /* and the reads were exactly the four entries, top down */
    assert_true(read_gpa[0] == PML4 + idx(GVA, 4) * 8);
    assert_true(read_gpa[1] == PDPT + idx(GVA, 3) * 8);
    assert_true(read_gpa[2] == PD + idx(GVA, 2) * 8);
    assert_true(read_gpa[3] == PT + idx(GVA, 1) * 8);
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
    assert_true(read_gpa[0] == PML4 + 511 * 8);
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
    assert_true(read_gpa[0] == PML4 + idx(GVA, 4) * 8);
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
        assert_true(read_gpa[4 - level] == bad + idx(GVA, level) * 8);
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
    nreads = 0;
    assert_int_equal(pt_walk(PML4, GVA, 36, read_ram, ram, &w), PT_RESERVED);
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
        nreads = 0;
        assert_int_equal(pt_walk(PML4, GVA, widths[i], read_ram, ram, &w), PT_OK);
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

/* ---- pt_status_name ---- */

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(pt_status_name(PT_OK), "ok");
    assert_string_equal(pt_status_name(PT_NOT_PRESENT), "not present");
    assert_string_equal(pt_status_name(PT_BAD_TABLE), "page table outside guest RAM");
    assert_string_equal(pt_status_name(PT_RESERVED), "reserved bits set");
    assert_string_equal(pt_status_name(PT_NONCANONICAL), "non-canonical address");
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
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
