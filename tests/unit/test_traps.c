/* Unit tests for vmm/traps.c: the trap registry's capacities (each table
 * fills to exactly its capacity and the next addition is refused with a
 * message naming the table), bad requests, all-or-nothing page traps, the
 * most specific page range, and the full-width port checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/traps.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static struct traps t;
static char err[160];

static int setup(void **state)
{
    (void)state;
    memset(&t, 0, sizeof(t));
    memset(err, 0, sizeof(err));
    return 0;
}

static void test_page_table_fills_to_capacity(void **state)
{
    (void)state;
    for (u32 i = 0; i < TRAP_MAX_PAGES; i++)
        assert_int_equal(trap_add_page(&t, 0x100000 + i * 0x1000ull, 0x1000, TRAP_WRITE, i, err, sizeof(err)), (int)i);
    assert_int_equal(trap_add_page(&t, 0x900000, 0x1000, TRAP_WRITE, 99, err, sizeof(err)), -1);
    assert_string_equal(err, "the page trap table is full (64 of 64)");
    assert_int_equal(t.npages, TRAP_MAX_PAGES);
    assert_null(trap_page_find(&t, 0x900000, TRAP_WRITE));
}

static void test_port_table_fills_to_capacity(void **state)
{
    (void)state;
    for (u32 i = 0; i < TRAP_MAX_PORTS; i++)
        assert_int_equal(trap_add_ports(&t, (u16)(0x100 + 2 * i), (u16)(0x100 + 2 * i), i, err, sizeof(err)), (int)i);
    assert_int_equal(trap_add_ports(&t, 0x1f0, 0x1f7, 99, err, sizeof(err)), -1);
    assert_string_equal(err, "the port trap table is full (64 of 64)");
    assert_int_equal(trap_port_next(&t, 0x1f0, 1, 0), -1);
}

static void test_msr_table_fills_to_capacity(void **state)
{
    (void)state;
    for (u32 i = 0; i < TRAP_MAX_MSRS; i++)
        assert_int_equal(trap_add_msr(&t, 0xc0000080 + i, i, err, sizeof(err)), (int)i);
    assert_int_equal(trap_add_msr(&t, 0x174, 99, err, sizeof(err)), -1);
    assert_string_equal(err, "the MSR trap table is full (16 of 16)");
    assert_null(trap_msr_find(&t, 0x174));
    assert_int_equal(trap_msr_find(&t, 0xc0000082)->owner, 2);
}

static void test_msr_trapped_twice_refused(void **state)
{
    (void)state;
    assert_int_equal(trap_add_msr(&t, 0xc0000082, 1, err, sizeof(err)), 0);
    assert_int_equal(trap_add_msr(&t, 0xc0000082, 2, err, sizeof(err)), -1);
    assert_string_equal(err, "MSR 0xc0000082 is already trapped");
    assert_int_equal(trap_msr_find(&t, 0xc0000082)->owner, 1);
}

static void test_cr_table_and_bad_requests(void **state)
{
    (void)state;
    for (u32 i = 0; i < TRAP_MAX_CRS; i++)
        assert_int_equal(trap_add_cr(&t, 4, 1ull << (20 + i), i, err, sizeof(err)), (int)i);
    assert_int_equal(trap_add_cr(&t, 0, 1ull << 16, 99, err, sizeof(err)), -1);
    assert_string_equal(err, "the CR trap table is full (8 of 8)");
    memset(&t, 0, sizeof(t));
    assert_int_equal(trap_add_cr(&t, 3, 1, 0, err, sizeof(err)), -1);
    assert_string_equal(err, "bad CR trap: CR3 bits 0x1 (only CR0 and CR4, each bit once)");
    assert_int_equal(trap_add_cr(&t, 0, 0, 0, err, sizeof(err)), -1);
    assert_int_equal(trap_add_cr(&t, 0, 1ull << 16, 7, err, sizeof(err)), 0);
    assert_int_equal(trap_add_cr(&t, 0, 3ull << 15, 8, err, sizeof(err)), -1);   /* bit 16 again */
    assert_int_equal(trap_cr_bits(&t, 0), 1ull << 16);
    assert_int_equal(trap_cr_bits(&t, 4), 0);
}

static void test_cr_change_reaches_every_subscription(void **state)
{
    (void)state;
    assert_int_equal(trap_add_cr(&t, 4, 1ull << 20, 10, err, sizeof(err)), 0);
    assert_int_equal(trap_add_cr(&t, 0, 1ull << 16, 11, err, sizeof(err)), 1);
    assert_int_equal(trap_add_cr(&t, 4, 1ull << 21, 12, err, sizeof(err)), 2);
    u64 changed = 3ull << 20;
    int i = trap_cr_next(&t, 4, changed, 0);
    assert_int_equal(i, 0);
    i = trap_cr_next(&t, 4, changed, i + 1);
    assert_int_equal(i, 2);
    assert_int_equal(trap_cr_next(&t, 4, changed, i + 1), -1);
    assert_int_equal(trap_cr_next(&t, 4, 1ull << 7, 0), -1);              /* PGE: nobody's */
    assert_int_equal(trap_cr_next(&t, 0, 1ull << 16, 0), 1);
}

static void test_bad_page_requests(void **state)
{
    (void)state;
    assert_int_equal(trap_add_page(&t, 0x1000, 0, TRAP_WRITE, 0, err, sizeof(err)), -1);
    assert_string_equal(err, "bad page trap: gpa 0x1000, 0 bytes, access 0x2");
    assert_int_equal(trap_add_page(&t, ~0ull - 10, 100, TRAP_WRITE, 0, err, sizeof(err)), -1);
    assert_int_equal(trap_add_page(&t, 0x1000, 8, 0, 0, err, sizeof(err)), -1);
    assert_int_equal(trap_add_page(&t, 0x1000, 8, 8, 0, err, sizeof(err)), -1);
    assert_int_equal(t.npages, 0);
}

static void test_drop_last_page_undoes_it(void **state)
{
    (void)state;
    assert_int_equal(trap_add_page(&t, 0x100000, 0x3000, TRAP_WRITE, 1, err, sizeof(err)), 0);
    assert_int_equal(trap_add_page(&t, 0x200000, 0x1000, TRAP_EXEC, 2, err, sizeof(err)), 1);
    trap_drop_last_page(&t);
    assert_int_equal(t.npages, 1);
    assert_int_equal(trap_page_access(&t, 0x200000), 0);
    assert_int_equal(trap_page_access(&t, 0x102fff), TRAP_WRITE);
}

/* The most specific object wins: an exact table inside protected pages. */
static void test_most_specific_range(void **state)
{
    (void)state;
    assert_int_equal(trap_add_page(&t, 0x110000, 0x4000, TRAP_WRITE, 1, err, sizeof(err)), 0);   /* rodata */
    assert_int_equal(trap_add_page(&t, 0x112000, 80, TRAP_WRITE, 2, err, sizeof(err)), 1);       /* a table in it */
    assert_int_equal(trap_page_find(&t, 0x112000, TRAP_WRITE)->owner, 2);
    assert_int_equal(trap_page_find(&t, 0x11204f, TRAP_WRITE)->owner, 2);
    assert_int_equal(trap_page_find(&t, 0x112050, TRAP_WRITE)->owner, 1);
    assert_int_equal(trap_page_find(&t, 0x113fff, TRAP_WRITE)->owner, 1);
    assert_null(trap_page_find(&t, 0x114000, TRAP_WRITE));
    assert_null(trap_page_find(&t, 0x112000, TRAP_READ));                  /* nobody traps reads */
}

/* A small object alone on its page: the page is trapped, but bytes outside
 * the object belong to no subscription. */
static void test_object_smaller_than_its_page(void **state)
{
    (void)state;
    assert_int_equal(trap_add_page(&t, 0x5010, 0x20, TRAP_WRITE, 3, err, sizeof(err)), 0);
    assert_int_equal(trap_page_access(&t, 0x5000), TRAP_WRITE);
    assert_int_equal(trap_page_access(&t, 0x5fff), TRAP_WRITE);
    assert_int_equal(trap_page_access(&t, 0x6000), 0);
    assert_null(trap_page_find(&t, 0x5000, TRAP_WRITE));
    assert_int_equal(trap_page_find(&t, 0x502f, TRAP_WRITE)->owner, 3);
    assert_null(trap_page_find(&t, 0x5030, TRAP_WRITE));
}

static void test_access_kinds_combine_per_page(void **state)
{
    (void)state;
    assert_int_equal(trap_add_page(&t, 0x7000, 0x1000, TRAP_WRITE, 1, err, sizeof(err)), 0);
    assert_int_equal(trap_add_page(&t, 0x7800, 0x100, TRAP_EXEC, 2, err, sizeof(err)), 1);
    assert_int_equal(trap_page_access(&t, 0x7abc), TRAP_WRITE | TRAP_EXEC);
    /* A write inside the exec-trapped bytes is the write subscriber's. */
    assert_int_equal(trap_page_find(&t, 0x7840, TRAP_WRITE)->owner, 1);
    assert_int_equal(trap_page_find(&t, 0x7840, TRAP_EXEC)->owner, 2);
}

/* An emulated store of several bytes: the range it overlaps, and the first
 * byte of the store that range holds. */
static void test_overlap(void **state)
{
    (void)state;
    u64 hit = 0;
    assert_int_equal(trap_add_page(&t, 0x110000, 0x4000, TRAP_WRITE, 1, err, sizeof(err)), 0);
    assert_int_equal(trap_add_page(&t, 0x112000, 80, TRAP_WRITE, 2, err, sizeof(err)), 1);
    assert_null(trap_page_overlap(&t, 0x10fff0, 0x10, TRAP_WRITE, &hit));               /* ends just before */
    assert_int_equal(trap_page_overlap(&t, 0x10fffa, 10, TRAP_WRITE, &hit)->owner, 1);
    assert_int_equal(hit, 0x110000);
    assert_int_equal(trap_page_overlap(&t, 0x111ffc, 10, TRAP_WRITE, &hit)->owner, 2);  /* into the table */
    assert_int_equal(hit, 0x112000);
    assert_int_equal(trap_page_overlap(&t, 0x112040, 10, TRAP_WRITE, &hit)->owner, 2);
    assert_int_equal(hit, 0x112040);
    assert_null(trap_page_overlap(&t, 0x112040, 10, TRAP_READ, &hit));
    assert_null(trap_page_overlap(&t, 0x114000, 16, TRAP_WRITE, &hit));
}

/* Every port of a 1-, 2- or 4-byte access counts. */
static void test_port_width(void **state)
{
    (void)state;
    assert_true(trap_ports_touch(0x3f8, 1, 0x3f8, 0x3ff));
    assert_false(trap_ports_touch(0x3f7, 1, 0x3f8, 0x3ff));
    assert_true(trap_ports_touch(0x3f7, 2, 0x3f8, 0x3ff));        /* out 0x3f7, ax */
    assert_true(trap_ports_touch(0x3f5, 4, 0x3f8, 0x3ff));        /* out 0x3f5, eax: 0x3f5-0x3f8 */
    assert_false(trap_ports_touch(0x3f4, 4, 0x3f8, 0x3ff));
    assert_true(trap_ports_touch(0x3ff, 4, 0x3f8, 0x3ff));
    assert_false(trap_ports_touch(0x400, 4, 0x3f8, 0x3ff));
    assert_true(trap_ports_touch(0xfffe, 4, 0x0, 0x1));           /* wraps past 0xffff */
    assert_true(trap_ports_touch(0xffff, 1, 0xffff, 0xffff));
}

static void test_port_access_reaches_every_subscription(void **state)
{
    (void)state;
    assert_int_equal(trap_add_ports(&t, 0x1f0, 0x1f7, 5, err, sizeof(err)), 0);
    assert_int_equal(trap_add_ports(&t, 0x1f8, 0x1f8, 6, err, sizeof(err)), 1);
    assert_int_equal(trap_port_next(&t, 0x1ef, 1, 0), -1);
    assert_int_equal(trap_port_next(&t, 0x1ef, 2, 0), 0);          /* the word reaches 0x1f0 */
    int i = trap_port_next(&t, 0x1f6, 4, 0);                       /* 0x1f6-0x1f9: both */
    assert_int_equal(i, 0);
    assert_int_equal(trap_port_next(&t, 0x1f6, 4, i + 1), 1);
    assert_int_equal(trap_port_next(&t, 0x1f6, 4, 2), -1);
    assert_int_equal(trap_add_ports(&t, 0x20, 0x1f, 7, err, sizeof(err)), -1);
    assert_string_equal(err, "bad port trap: 0x20-0x1f");
}

static void test_io_byte_at(void **state)
{
    (void)state;
    u8 b = 0;
    assert_true(io_byte_at(0xcf8, 2, 0x0600, 0xcf9, &b));           /* out 0xcf8, ax: 0x06 reaches 0xcf9 */
    assert_int_equal(b, 0x06);
    assert_true(io_byte_at(0xcf8, 4, 0x11223344, 0xcfb, &b));
    assert_int_equal(b, 0x11);
    assert_false(io_byte_at(0xcf8, 2, 0x0600, 0xcfa, &b));
    assert_false(io_byte_at(0xcf9, 1, 0x06, 0xcf8, &b));
    assert_true(io_byte_at(0xffff, 2, 0xab00, 0x0000, &b));         /* wraps */
    assert_int_equal(b, 0xab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_page_table_fills_to_capacity, setup),
        cmocka_unit_test_setup(test_port_table_fills_to_capacity, setup),
        cmocka_unit_test_setup(test_msr_table_fills_to_capacity, setup),
        cmocka_unit_test_setup(test_msr_trapped_twice_refused, setup),
        cmocka_unit_test_setup(test_cr_table_and_bad_requests, setup),
        cmocka_unit_test_setup(test_cr_change_reaches_every_subscription, setup),
        cmocka_unit_test_setup(test_bad_page_requests, setup),
        cmocka_unit_test_setup(test_drop_last_page_undoes_it, setup),
        cmocka_unit_test_setup(test_most_specific_range, setup),
        cmocka_unit_test_setup(test_object_smaller_than_its_page, setup),
        cmocka_unit_test_setup(test_access_kinds_combine_per_page, setup),
        cmocka_unit_test_setup(test_overlap, setup),
        cmocka_unit_test_setup(test_port_width, setup),
        cmocka_unit_test_setup(test_port_access_reaches_every_subscription, setup),
        cmocka_unit_test_setup(test_io_byte_at, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
