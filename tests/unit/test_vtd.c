/* Unit tests for vmm/vtd.c: the ACPI DMAR parse (units, reserved regions,
 * every length and the checksum checked) and the remapping tables, walked
 * as a remapping unit walks them: identity everywhere, vigil's memory not
 * reachable by any device, protected frames read-only, the least
 * permission winning where ranges overlap, and the allocator running dry
 * reported rather than half-built tables used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vtd.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* --- DMAR --------------------------------------------------------------------- */

static u8 tbl[512];
static size_t tlen;

static void start(void)
{
    memset(tbl, 0, sizeof(tbl));
    memcpy(tbl, "DMAR", 4);
    tbl[36] = 38;                                  /* 39-bit host address width */
    tlen = 48;
}

static void add(u16 type, u16 len, const void *body)
{
    memcpy(tbl + tlen, &type, 2);
    memcpy(tbl + tlen + 2, &len, 2);
    memcpy(tbl + tlen + 4, body, len - 4);
    tlen += len;
}

static void drhd(u64 base, bool all)
{
    u8 b[12] = { 0 };
    b[0] = all;
    memcpy(b + 4, &base, 8);
    add(0, 16, b);
}

static void rmrr(u64 base, u64 limit)
{
    u8 b[20] = { 0 };
    memcpy(b + 4, &base, 8);
    memcpy(b + 12, &limit, 8);
    add(1, 24, b);
}

static void finish(void)
{
    u32 l = (u32)tlen;
    memcpy(tbl + 4, &l, 4);
    tbl[9] = 0;
    u8 s = 0;
    for (size_t i = 0; i < tlen; i++)
        s = (u8)(s + tbl[i]);
    tbl[9] = (u8)-s;
}

static void test_dmar_ok(void **state)
{
    (void)state;
    start();
    drhd(0xfed90000, false);
    rmrr(0x7a000000, 0x7a0fffff);
    u8 other[8] = { 0 };
    add(2, 12, other);                             /* ATSR: skipped by its length */
    drhd(0xfed91000, true);
    finish();
    struct dmar_info d;
    char err[120];
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), 0);
    assert_int_equal(d.haw, 39);
    assert_int_equal(d.nunits, 2);
    assert_int_equal(d.unit[0].reg_base, 0xfed90000);
    assert_false(d.unit[0].include_all);
    assert_true(d.unit[1].include_all);
    assert_int_equal(d.nrmrr, 1);
    assert_int_equal(d.rmrr[0].limit, 0x7a0fffff);
}

static void test_dmar_bad(void **state)
{
    (void)state;
    struct dmar_info d;
    char err[120];
    start();
    finish();
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "DMAR: no remapping hardware unit (DRHD)");
    start();
    drhd(0xfed90800, false);
    finish();
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "DMAR: DRHD at offset 48: register base 0xfed90800 is not a 4 KiB-aligned address");
    start();
    drhd(0xfed90000, false);
    finish();
    tbl[50] = 200;                                 /* the structure claims more than the table has */
    finish();
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "DMAR: structure at offset 48 (type 0): length 200 outside 4..16");
    start();
    drhd(0xfed90000, false);
    rmrr(0x1000, 0x1800);
    finish();
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "DMAR: RMRR at offset 64: 0x1000-0x1800 is not a range of whole pages");
    start();
    drhd(0xfed90000, false);
    finish();
    tbl[20]++;
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "DMAR: checksum is off by 0x01");
    assert_int_equal(dmar_parse(tbl, 40, &d, err, sizeof(err)), -1);
    start();
    for (int i = 0; i < 9; i++)
        drhd(0xfed90000 + 0x1000ull * i, false);
    finish();
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "DMAR: more than 8 remapping units");
    start();
    u8 tiny[1] = { 0 };
    add(0, 5, tiny);
    finish();
    assert_int_equal(dmar_parse(tbl, tlen, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "DMAR: DRHD at offset 48: length 5, at least 16");
}

/* --- the tables ---------------------------------------------------------------- */

static u32 npages, limit;
static void *pages[4096];

static void *alloc(void *ctx)
{
    (void)ctx;
    if (npages == limit)
        return NULL;
    void *p = aligned_alloc(4096, 4096);
    assert_non_null(p);
    memset(p, 0, 4096);
    return pages[npages++] = p;
}

static int setup(void **state)
{
    (void)state;
    npages = 0;
    limit = 4096;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (u32 i = 0; i < npages; i++)
        free(pages[i]);
    return 0;
}

#define VIGIL_LO 0x2000000ull
#define VIGIL_HI 0x2044000ull
#define TEXT_LO  0x107000ull
#define TEXT_HI  0x10f000ull

static const struct vtd_deny deny[] = {
    { VIGIL_LO, VIGIL_HI, VTD_NONE },
    { TEXT_LO, TEXT_HI, VTD_READ },
    { 0x130010, 0x130020, VTD_READ },              /* a small object: its whole page */
    { 0x130000, 0x131000, VTD_NONE },              /* and a read trap on the same page: none wins */
    { 0x200000, 0x400000, VTD_RW },                /* a range that denies nothing splits nothing */
};

static void test_tables(void **state)
{
    (void)state;
    struct vtd_stats st;
    u64 root = vtd_build(GiB(4), deny, 5, true, alloc, 0, &st);
    assert_true(root != 0);
    /* 2 MiB pages except the two regions holding something denied. */
    assert_int_equal(st.pages_4k, 2 * 512);
    assert_int_equal(st.pages_2m, 2048 - 2);
    assert_int_equal(st.tables, 4 + 4 + 2);
    for (u32 bus = 0; bus < 256; bus += 85)
        for (u32 df = 0; df < 256; df += 51) {
            assert_int_equal(vtd_lookup(root, (u8)bus, (u8)df, 0), VTD_RW);
            assert_int_equal(vtd_lookup(root, (u8)bus, (u8)df, VIGIL_LO), VTD_NONE);
        }
    assert_int_equal(vtd_lookup(root, 0, 9, VIGIL_LO - 1), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, VIGIL_HI - 1), VTD_NONE);
    assert_int_equal(vtd_lookup(root, 0, 9, VIGIL_HI), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, TEXT_LO - 1), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, TEXT_LO), VTD_READ);
    assert_int_equal(vtd_lookup(root, 0, 9, TEXT_HI - 8), VTD_READ);
    assert_int_equal(vtd_lookup(root, 0, 9, TEXT_HI), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x130000), VTD_NONE);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x131000), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x300000), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, GiB(4) - 1), VTD_RW);
    /* Beyond what was built: nothing. */
    assert_int_equal(vtd_lookup(root, 0, 9, GiB(4)), VTD_NONE);
    assert_int_equal(vtd_lookup(root, 0, 9, 1ull << 48), VTD_NONE);
}

static void test_tables_4k_only(void **state)
{
    (void)state;
    struct vtd_stats st;
    u64 root = vtd_build(MiB(64), deny, 5, false, alloc, 0, &st);
    assert_true(root != 0);
    assert_int_equal(st.pages_2m, 0);
    assert_int_equal(st.pages_4k, 32 * 512);
    assert_int_equal(vtd_lookup(root, 3, 7, VIGIL_LO + 0x1000), VTD_NONE);
    assert_int_equal(vtd_lookup(root, 3, 7, TEXT_LO + 0x1000), VTD_READ);
    assert_int_equal(vtd_lookup(root, 3, 7, MiB(64) - 4096), VTD_RW);
}

static void test_tables_allocator_dry(void **state)
{
    (void)state;
    struct vtd_stats st;
    for (u32 l = 0; l < 10; l++) {
        teardown(0);
        setup(0);
        limit = l;
        assert_int_equal(vtd_build(GiB(4), deny, 5, true, alloc, 0, &st), 0);
    }
    assert_int_equal(vtd_build(GiB(600), deny, 5, true, alloc, 0, &st), 0);
    assert_int_equal(vtd_build(0, deny, 5, true, alloc, 0, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dmar_ok),
        cmocka_unit_test(test_dmar_bad),
        cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_4k_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_allocator_dry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
