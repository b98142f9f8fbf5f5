/* Unit tests for ids/xref.c: the reference chains of protected objects
 * through synthetic 4-level page tables (a 2 MiB host array as guest RAM).
 * Entries shared by several pages and objects are recorded once; every
 * table page on the walks is listed once; a change of frame or of the
 * judged rights is found, accessed/dirty/global bits are not; an address
 * that does not translate, or a full table, is named and takes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ids/xref.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define RAM (2u << 20)
#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define A   (1ull << 5)
#define D   (1ull << 6)
#define PS  (1ull << 7)
#define G   (1ull << 8)
#define NX  (1ull << 63)

#define PML4 0x1000ull
#define PDPT 0x2000ull
#define PD   0x3000ull
#define PT   0x4000ull
#define PT2  0x5000ull
#define KVA  0xffffffff80000000ull          /* PML4E 511, PDPTE 510 */

static u64 ram[RAM / 8];
static struct xref r;
static struct pt_paging pg;
static char err[200];

static const void *map(void *ctx, u64 gpa)
{
    (void)ctx;
    return gpa < RAM && !(gpa & 0xfff) ? (const u8 *)ram + gpa : NULL;
}

static u64 *ent(u64 table, u32 i) { return &ram[(table + 8ull * i) / 8]; }

/* The kernel at KVA + 0x100000: PT maps 0x100000-0x1fffff 4 KiB by 4 KiB
 * (text: read-only, executable); PD entry 1 a 2 MiB page (NX, writable). */
static int setup(void **state)
{
    (void)state;
    memset(ram, 0, sizeof(ram));
    *ent(PML4, 511) = PDPT | P | RW | A;
    *ent(PDPT, 510) = PD | P | RW | A;
    *ent(PD, 0) = PT | P | RW | A;
    *ent(PD, 1) = 0x200000 | P | RW | PS | NX;
    for (u32 i = 256; i < 512; i++)
        *ent(PT, i) = (0x1000ull * i) | P | G | (i < 300 ? 0 : NX | RW);
    memset(&pg, 0, sizeof(pg));
    pg.mode = PT_MODE_4LEVEL;
    pg.cr3 = PML4;
    pg.maxphys = 39;
    pg.nxe = true;
    xref_init(&r);
    memset(err, 0, sizeof(err));
    return 0;
}

static void test_chains_shared_entries_once(void **state)
{
    (void)state;
    assert_int_equal(xref_add(&r, &pg, map, 0, "text", KVA + 0x100000, 0x3000, 7, err, sizeof(err)), 0);
    /* PML4E, PDPTE, PDE, and three PTEs. */
    assert_int_equal(r.n, 6);
    assert_int_equal(r.ntables, 4);
    assert_int_equal(r.nobjs, 1);
    assert_int_equal(r.obj[0].owner, 7);
    assert_int_equal(r.e[0].level, 4);
    assert_int_equal(r.e[0].table, PML4);
    assert_int_equal(r.e[0].index, 511);
    assert_int_equal(r.e[3].level, 1);
    assert_int_equal(r.e[3].table, PT);
    assert_int_equal(r.e[3].index, 256);
    assert_int_equal(r.e[3].value, 0x100000 | P | G);
    assert_int_equal(r.e[3].va, KVA + 0x100000);
    assert_int_equal(r.e[5].index, 258);
    /* An unaligned object covers each page it touches. */
    assert_int_equal(xref_add(&r, &pg, map, 0, "table", KVA + 0x102ff8, 16, 8, err, sizeof(err)), 0);
    assert_int_equal(r.n, 7);                      /* PTE 259 is new; 258 and above are shared */
    assert_int_equal(r.e[5].objs, 3);              /* PTE 258: both objects */
    assert_int_equal(r.e[6].objs, 2);
    assert_int_equal(r.e[0].objs, 3);
    /* A 2 MiB page: its chain ends at the PDE. */
    assert_int_equal(xref_add(&r, &pg, map, 0, "big", KVA + 0x200000, 0x2000, 9, err, sizeof(err)), 0);
    assert_int_equal(r.n, 8);
    assert_int_equal(r.e[7].level, 2);
    assert_int_equal(r.e[7].index, 1);
    assert_int_equal(r.ntables, 4);
    assert_int_equal(xref_table_of(&r, PT + 0x18), 3);
    assert_int_equal(xref_table_of(&r, PT2), -1);
}

static void test_changes_found_and_ignored(void **state)
{
    (void)state;
    assert_int_equal(xref_add(&r, &pg, map, 0, "text", KVA + 0x100000, 0x3000, 0, err, sizeof(err)), 0);
    u32 out[8];
    assert_int_equal(xref_changed(&r, PT, (const u64 *)((u8 *)ram + PT), out, 8), 0);
    /* The CPU's accessed and dirty bits, the global bit, other entries. */
    *ent(PT, 256) |= A | D;
    *ent(PT, 257) &= ~G;
    *ent(PT, 300) = 0;
    assert_int_equal(xref_changed(&r, PT, (const u64 *)((u8 *)ram + PT), out, 8), 0);
    /* Another frame; R/W; U/S; XD cleared elsewhere does not matter, set here does. */
    *ent(PT, 256) = 0x900000 | P;
    *ent(PT, 257) |= RW;
    *ent(PT, 258) |= NX;
    assert_int_equal(xref_changed(&r, PT, (const u64 *)((u8 *)ram + PT), out, 8), 3);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[2], 5);
    assert_int_equal(xref_changed(&r, PT, (const u64 *)((u8 *)ram + PT), out, 2), 2);   /* at most max */
    /* A PDE pointing at a copy of the table. */
    *ent(PD, 0) = PT2 | P | RW | A;
    assert_int_equal(xref_changed(&r, PD, (const u64 *)((u8 *)ram + PD), out, 8), 1);
    assert_int_equal(r.e[out[0]].level, 2);
    /* Not present is a change too (the translation is gone). */
    *ent(PML4, 511) = 0;
    assert_int_equal(xref_changed(&r, PML4, (const u64 *)((u8 *)ram + PML4), out, 8), 1);
    assert_true(xref_same(&r.e[0], PDPT | P | RW));
}

static void test_untranslated_named_all_or_nothing(void **state)
{
    (void)state;
    assert_int_equal(xref_add(&r, &pg, map, 0, "text", KVA + 0x100000, 0x1000, 0, err, sizeof(err)), 0);
    u32 n = r.n, t = r.ntables;
    /* Past the PT's last mapped page into PD entry 2, which is absent. */
    assert_int_equal(xref_add(&r, &pg, map, 0, "idt", KVA + 0x1ff000, 0x202000, 1, err, sizeof(err)), -1);
    assert_string_equal(err, "idt: 0xffffffff80400000 does not translate in the kernel's tables (not present at "
                             "the PDE)");
    assert_int_equal(r.n, n);
    assert_int_equal(r.ntables, t);
    assert_int_equal(r.nobjs, 1);
    for (u32 i = 0; i < r.n; i++)
        assert_int_equal(r.e[i].objs, 1);        /* the failed object's marks are taken back */
    assert_int_equal(xref_add(&r, &pg, map, 0, "empty", KVA, 0, 1, err, sizeof(err)), -1);
    assert_string_equal(err, "empty: bad range 0xffffffff80000000, 0 bytes");
    /* A table outside RAM. */
    *ent(PD, 0) = 0x40000000 | P | RW;
    assert_int_equal(xref_add(&r, &pg, map, 0, "gdt", KVA + 0x100000, 8, 1, err, sizeof(err)), -1);
    assert_string_equal(err, "gdt: 0xffffffff80100000 does not translate in the kernel's tables (page table outside "
                             "guest RAM at the PTE)");
}

static void test_capacities_named(void **state)
{
    (void)state;
    /* 1024 PTEs mapped (PD entries 2 and 3, two full page tables): more
     * than the entry table holds. */
    *ent(PD, 2) = PT2 | P | RW | A;
    *ent(PD, 3) = 0x6000 | P | RW | A;
    for (u32 i = 0; i < 512; i++) {
        *ent(PT2, i) = (0x400000ull + 0x1000ull * i) | P;
        *ent(0x6000, i) = (0x600000ull + 0x1000ull * i) | P;
    }
    assert_int_equal(xref_add(&r, &pg, map, 0, "big", KVA + 0x400000, 0x400000, 0, err, sizeof(err)), -1);
    assert_string_equal(err, "big: the entry table is full (512 of 512)");
    assert_int_equal(r.n, 0);
    assert_int_equal(r.ntables, 0);
    for (u32 i = 0; i < XREF_MAX_OBJECTS; i++)
        assert_int_equal(xref_add(&r, &pg, map, 0, "o", KVA + 0x100000, 8, i, err, sizeof(err)), 0);
    assert_int_equal(xref_add(&r, &pg, map, 0, "ninth", KVA + 0x100000, 8, 0, err, sizeof(err)), -1);
    assert_string_equal(err, "ninth: the object table is full (8 of 8)");
    assert_string_equal(xref_level_name(4), "PML4E");
    assert_string_equal(xref_level_name(1), "PTE");
    assert_string_equal(xref_level_name(9), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_chains_shared_entries_once, setup),
        cmocka_unit_test_setup(test_changes_found_and_ignored, setup),
        cmocka_unit_test_setup(test_untranslated_named_all_or_nothing, setup),
        cmocka_unit_test_setup(test_capacities_named, setup),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
