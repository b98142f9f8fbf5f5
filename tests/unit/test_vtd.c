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


/* --- vtd_restrict: a protection made after the tables were built ------------- */

static void test_restrict(void **state)
{
    (void)state;
    struct vtd_stats st;
    u64 root = vtd_build(GiB(4), deny, 5, true, alloc, 0, &st);
    assert_true(root != 0);
    u32 before = npages;
    /* In a 2 MiB page: split, the page read-only, its neighbours still RW. */
    assert_true(vtd_restrict(root, 0x40001000, VTD_READ, alloc, 0));
    assert_int_equal(npages, before + 1);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x40001000), VTD_READ);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x40001fff), VTD_READ);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x40000fff), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x40002000), VTD_RW);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x401ff000), VTD_RW);
    /* Again in the same region: no new table; the least permission wins. */
    assert_true(vtd_restrict(root, 0x40002000, VTD_NONE, alloc, 0));
    assert_true(vtd_restrict(root, 0x40001000, VTD_RW, alloc, 0));
    assert_int_equal(npages, before + 1);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x40002000), VTD_NONE);
    assert_int_equal(vtd_lookup(root, 0, 9, 0x40001000), VTD_READ);
    /* vigil's own memory stays out of reach whatever is asked. */
    assert_true(vtd_restrict(root, VIGIL_LO, VTD_RW, alloc, 0));
    assert_int_equal(vtd_lookup(root, 0, 9, VIGIL_LO), VTD_NONE);
    /* Beyond the tables, or no table left to split with. */
    assert_false(vtd_restrict(root, GiB(4), VTD_READ, alloc, 0));
    limit = npages;
    assert_false(vtd_restrict(root, 0x80000000, VTD_READ, alloc, 0));
    assert_int_equal(vtd_lookup(root, 0, 9, 0x80000000), VTD_RW);
}

/* --- vtd_enable / vtd_flush against a model of a unit's registers ------------- */

struct unit {
    u64 cap, ecap, rtaddr, ccmd, iotlb;
    u32 gsts;
    bool latch_root, enable_te, complete_inval;   /* what the model does when asked */
    char log[256];                                /* the writes, in order */
};

#define IRO 0x150                                 /* ECAP.IRO: the IOTLB registers at 0x1500 */

static void note(struct unit *u, const char *w)
{
    strncat(u->log, w, sizeof(u->log) - strlen(u->log) - 1);
}

static u32 u_rd32(void *c, u32 o)
{
    struct unit *u = c;
    assert_int_equal(o, 0x1c);                    /* only GSTS is read 32 bits wide */
    return u->gsts;
}

static u64 u_rd64(void *c, u32 o)
{
    struct unit *u = c;
    switch (o) {
    case 0x08: return u->cap;
    case 0x10: return u->ecap;
    case 0x28: return u->ccmd;
    case IRO * 16 + 8: return u->iotlb;
    }
    fail_msg("64-bit read of register 0x%x", o);
    return 0;
}

static void u_wr32(void *c, u32 o, u32 v)
{
    struct unit *u = c;
    assert_int_equal(o, 0x18);                    /* GCMD */
    /* One command at a time, the status bits kept as they are (11.4.4). */
    u32 cmd = v & ~(u->gsts & 0x96ffffffu);
    if (cmd == 1u << 30) {
        note(u, "srtp ");
        if (u->latch_root)
            u->gsts |= 1u << 30;
    } else if (cmd == 1u << 31) {
        note(u, "te ");
        if (u->enable_te)
            u->gsts |= 1u << 31;
    } else {
        fail_msg("GCMD 0x%x with GSTS 0x%x: not one command", v, u->gsts);
    }
}

static void u_wr64(void *c, u32 o, u64 v)
{
    struct unit *u = c;
    if (o == 0x20) {
        u->rtaddr = v;
        note(u, "rtaddr ");
    } else if (o == 0x28) {
        assert_true(v == (1ull << 63 | 1ull << 61));          /* ICC, global */
        note(u, "ccmd ");
        u->ccmd = u->complete_inval ? v & ~(1ull << 63) : v;
    } else if (o == IRO * 16 + 8) {
        assert_true((v & (1ull << 63 | 3ull << 60)) == (1ull << 63 | 1ull << 60));   /* IVT, global */
        note(u, "iotlb ");
        u->iotlb = u->complete_inval ? v & ~(1ull << 63) : v;
    } else {
        fail_msg("64-bit write of register 0x%x", o);
    }
}

static struct vtd_mmio io_of(struct unit *u) { return (struct vtd_mmio){ u, u_rd32, u_rd64, u_wr32, u_wr64 }; }

static struct unit good_unit(void)
{
    struct unit u = { 0 };
    u.cap = 4ull << 8 | 2ull << 8 | 0x22ull << 24 | 7ull << 40;    /* SAGAW 39/48-bit, FRO 0x220, 8 fault records */
    u.ecap = (u64)IRO << 8;
    u.latch_root = u.enable_te = u.complete_inval = true;
    return u;
}

static void test_enable(void **state)
{
    (void)state;
    char err[120] = "";
    struct unit u = good_unit();
    struct vtd_mmio io = io_of(&u);
    assert_int_equal(vtd_reg_size(&io), 0x2000);   /* the IOTLB registers at 0x1500-0x150f: two pages */
    assert_int_equal(vtd_enable(&io, 0x1234000, 100, err, sizeof(err)), 0);
    assert_string_equal(u.log, "rtaddr srtp ccmd iotlb te ");
    assert_true(u.rtaddr == 0x1234000);
    assert_true(u.gsts & 1u << 31);
    u.log[0] = 0;
    assert_int_equal(vtd_flush(&io, 100, err, sizeof(err)), 0);
    assert_string_equal(u.log, "iotlb ");
}

static void test_enable_refused(void **state)
{
    (void)state;
    char err[120];
    struct unit u = good_unit();
    struct vtd_mmio io = io_of(&u);
    u.cap &= ~(4ull << 8);                         /* 3-level only */
    assert_int_equal(vtd_enable(&io, 0x1000, 100, err, sizeof(err)), -1);
    assert_string_equal(err, "no 4-level second-level tables (48-bit AGAW; SAGAW 0x2)");
    assert_string_equal(u.log, "");
    u = good_unit();
    u.gsts = 1u << 26;                             /* the firmware left queued invalidation on */
    assert_int_equal(vtd_enable(&io, 0x1000, 100, err, sizeof(err)), -1);
    assert_string_equal(err, "queued invalidation is on (the firmware's); vigil invalidates through the registers");
    u = good_unit();
    u.latch_root = false;
    assert_int_equal(vtd_enable(&io, 0x1000, 100, err, sizeof(err)), -1);
    assert_string_equal(err, "the root table pointer was not latched (GSTS.RTPS)");
    assert_string_equal(u.log, "rtaddr srtp ");    /* translation never turned on with no root */
    u = good_unit();
    u.complete_inval = false;
    assert_int_equal(vtd_enable(&io, 0x1000, 100, err, sizeof(err)), -1);
    assert_string_equal(err, "the global context-cache invalidation did not complete");
    assert_false(u.gsts & 1u << 31);
    assert_int_equal(vtd_flush(&io, 100, err, sizeof(err)), -1);
    assert_string_equal(err, "the global IOTLB invalidation did not complete");
    u = good_unit();
    u.enable_te = false;
    assert_int_equal(vtd_enable(&io, 0x1000, 100, err, sizeof(err)), -1);
    assert_string_equal(err, "translation was not enabled (GSTS.TES)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dmar_ok),
        cmocka_unit_test(test_dmar_bad),
        cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_4k_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_allocator_dry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restrict, setup, teardown),
        cmocka_unit_test(test_enable),
        cmocka_unit_test(test_enable_refused),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
