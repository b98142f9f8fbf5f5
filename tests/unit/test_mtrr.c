/* Unit tests for vmm/mtrr.c: mtrr_range_type decoding of fixed and variable
 * MTRRs (Intel SDM Vol. 3, 12.11 "Memory Type Range Registers") and
 * mtrr_type_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/mtrr.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define PHYS36   ((1ull << 36) - 1)
#define VALID    (1ull << 11)
#define NONE     0xee                 /* a type no MTRR ever has: "not written" */

static struct mtrr_state s;

/* Enabled MTRRs, default type def, no fixed ranges, no variable ranges. */
static void mtrr_init(u8 def)
{
    memset(&s, 0, sizeof(s));
    s.enabled = true;
    s.def_type = def;
    s.addr_mask = PHYS36;
}

/* A valid variable range [base, base + size), size a power of two. */
static void var(u64 base, u64 size, u8 type)
{
    assert_true(s.nvar < MTRR_MAX_VAR);
    s.var[s.nvar].base = base | type;
    s.var[s.nvar].mask = (~(size - 1) & PHYS36) | VALID;
    s.nvar++;
}

/* The type of [start, start + size), or -1 when it is not uniform. */
static int type_of(u64 start, u64 size)
{
    u8 t = NONE;
    if (!mtrr_range_type(&s, start, size, &t)) {
        assert_int_equal(t, NONE);                 /* untouched when not uniform */
        return -1;
    }
    assert_int_not_equal(t, NONE);
    return t;
}

/* ---- disabled ---- */

static void test_disabled_mtrrs_are_uc_everywhere(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    s.fixed_enabled = true;
    memset(s.fixed, MT_WB, sizeof(s.fixed));
    s.fixed[3] = MT_WC;
    var(0, GiB(2), MT_WB);
    var(0xc0000000, MiB(1), MT_WT);
    s.enabled = false;
    assert_int_equal(type_of(0, GiB(1)), MT_UC);   /* crosses 1 MiB and a small range */
    assert_int_equal(type_of(0x30000, 0x1000), MT_UC);
    assert_int_equal(type_of(0xc0000000, GiB(1)), MT_UC);
    assert_int_equal(type_of(GiB(4), GiB(1)), MT_UC);
}

/* ---- fixed ranges (SDM 12.11.2.2) ---- */

/* fixed[i] = i, so the type names the granule that was read. */
static void fixed_numbered(void)
{
    mtrr_init(MT_WB);
    s.fixed_enabled = true;
    for (u32 i = 0; i < sizeof(s.fixed); i++)
        s.fixed[i] = (u8)i;
}

static void test_fixed_64k_granules(void **state)
{
    (void)state;
    fixed_numbered();
    assert_int_equal(type_of(0, 0x1000), 0);
    assert_int_equal(type_of(0xf000, 0x1000), 0);
    assert_int_equal(type_of(0x10000, 0x1000), 1);
    assert_int_equal(type_of(0x10000, 0x10000), 1);    /* the whole granule */
    assert_int_equal(type_of(0x70000, 0x10000), 7);
    assert_int_equal(type_of(0x7f000, 0x1000), 7);
}

static void test_fixed_16k_granules(void **state)
{
    (void)state;
    fixed_numbered();
    assert_int_equal(type_of(0x80000, 0x1000), 8);
    assert_int_equal(type_of(0x83000, 0x1000), 8);
    assert_int_equal(type_of(0x84000, 0x1000), 9);
    assert_int_equal(type_of(0x9c000, 0x4000), 15);
    assert_int_equal(type_of(0xa0000, 0x1000), 16);
    assert_int_equal(type_of(0xbc000, 0x1000), 23);
    assert_int_equal(type_of(0xbf000, 0x1000), 23);
}

static void test_fixed_4k_granules(void **state)
{
    (void)state;
    fixed_numbered();
    assert_int_equal(type_of(0xc0000, 0x1000), 24);
    assert_int_equal(type_of(0xc1000, 0x1000), 25);
    assert_int_equal(type_of(0xe0000, 0x1000), 56);
    assert_int_equal(type_of(0xff000, 0x1000), 87);
}

static void test_fixed_range_of_mixed_types_is_not_uniform(void **state)
{
    (void)state;
    fixed_numbered();
    assert_int_equal(type_of(0, 0x20000), -1);        /* two 64K granules */
    assert_int_equal(type_of(0x80000, 0x8000), -1);   /* two 16K granules */
    assert_int_equal(type_of(0xc0000, 0x2000), -1);   /* two 4K granules */
    assert_int_equal(type_of(0, 0x100000), -1);       /* all of the first MiB */
}

static void test_fixed_range_of_one_type_is_uniform(void **state)
{
    (void)state;
    mtrr_init(MT_UC);
    s.fixed_enabled = true;
    memset(s.fixed, MT_WB, sizeof(s.fixed));
    assert_int_equal(type_of(0, 0x100000), MT_WB);
    s.fixed[8] = s.fixed[9] = s.fixed[10] = s.fixed[11] = MT_WT;   /* 0x80000-0x8ffff */
    assert_int_equal(type_of(0x80000, 0x10000), MT_WT);
    assert_int_equal(type_of(0x80000, 0x20000), -1);
    assert_int_equal(type_of(0, 0x80000), MT_WB);
    s.fixed[87] = MT_WP;                                             /* 0xff000 */
    assert_int_equal(type_of(0xfe000, 0x1000), MT_WB);
    assert_int_equal(type_of(0xfe000, 0x2000), -1);
}

static void test_range_crossing_1m_with_fixed_enabled_is_not_uniform(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    s.fixed_enabled = true;
    memset(s.fixed, MT_WB, sizeof(s.fixed));          /* WB on both sides */
    assert_int_equal(type_of(0, MiB(2)), -1);
    assert_int_equal(type_of(0, GiB(1)), -1);
    assert_int_equal(type_of(MiB(1), MiB(1)), MT_WB); /* at 1 MiB: variable rules */
}

static void test_fixed_ranges_take_precedence_below_1m(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    s.fixed_enabled = true;
    memset(s.fixed, MT_WT, sizeof(s.fixed));
    var(0, MiB(1), MT_UC);                            /* overlaps the fixed area */
    assert_int_equal(type_of(0x40000, 0x1000), MT_WT);
    assert_int_equal(type_of(MiB(1) - 0x1000, 0x1000), MT_WT);
}

static void test_fixed_disabled_uses_variable_ranges_below_1m(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    memset(s.fixed, MT_UC, sizeof(s.fixed));          /* ignored: not enabled */
    assert_int_equal(type_of(0, MiB(2)), MT_WB);
    assert_int_equal(type_of(0, 0x1000), MT_WB);
    var(0, MiB(1), MT_WT);
    assert_int_equal(type_of(0x9f000, 0x1000), MT_WT);
    assert_int_equal(type_of(0, MiB(1)), MT_WT);
    assert_int_equal(type_of(0, MiB(2)), -1);
}

/* ---- variable ranges (SDM 12.11.2.3) ---- */

static void test_variable_range_match(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    var(0xc0000000, GiB(1), MT_UC);
    assert_int_equal(type_of(0xc0000000, GiB(1)), MT_UC);
    assert_int_equal(type_of(0xc0200000, MiB(2)), MT_UC);
    assert_int_equal(type_of(0xfffff000, 0x1000), MT_UC);
    assert_int_equal(type_of(0xbffff000, 0x1000), MT_WB);     /* just below */
}

static void test_variable_range_no_match_gives_default_type(void **state)
{
    (void)state;
    mtrr_init(MT_WT);
    var(0xc0000000, GiB(1), MT_UC);
    assert_int_equal(type_of(0, GiB(1)), MT_WT);
    assert_int_equal(type_of(GiB(1), MiB(2)), MT_WT);
    assert_int_equal(type_of(GiB(4), GiB(1)), MT_WT);
    assert_int_equal(type_of(0x1c0000000ull, GiB(1)), MT_WT); /* differs in bit 32 */
    mtrr_init(MT_UC);
    assert_int_equal(type_of(GiB(2), GiB(1)), MT_UC);        /* no ranges at all */
}

static void test_variable_range_type_is_the_low_byte_of_base(void **state)
{
    (void)state;
    mtrr_init(MT_UC);
    var(0x80000000, GiB(1), MT_WC);
    var(0x40000000, GiB(1), MT_WP);
    assert_int_equal(type_of(0x80000000, MiB(2)), MT_WC);
    assert_int_equal(type_of(0x40000000, GiB(1)), MT_WP);
}

static void test_mask_inside_the_range_is_not_uniform(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    var(0xc0000000, MiB(256), MT_UC);
    assert_int_equal(type_of(0xc0000000, GiB(1)), -1);       /* part UC, part WB */
    assert_int_equal(type_of(0xc0000000, MiB(256)), MT_UC);
    assert_int_equal(type_of(0xcfe00000, MiB(2)), MT_UC);
    assert_int_equal(type_of(0xd0000000, MiB(2)), MT_WB);
    assert_int_equal(type_of(0xd0000000, MiB(256)), MT_WB);
}

static void test_overlap_uc_wins(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    var(0x40000000, GiB(1), MT_UC);                           /* listed first */
    var(0, GiB(2), MT_WB);
    assert_int_equal(type_of(0x40000000, GiB(1)), MT_UC);
    assert_int_equal(type_of(0x7fe00000, MiB(2)), MT_UC);
    assert_int_equal(type_of(0, GiB(1)), MT_WB);             /* only the WB one */

    mtrr_init(MT_WB);
    var(0, GiB(2), MT_WT);
    var(0x40000000, GiB(1), MT_UC);                           /* listed last */
    assert_int_equal(type_of(0x40000000, MiB(2)), MT_UC);
}

static void test_overlap_wt_and_wb_gives_wt(void **state)
{
    (void)state;
    mtrr_init(MT_UC);
    var(0, GiB(4), MT_WB);
    var(0x80000000, GiB(1), MT_WT);
    assert_int_equal(type_of(0x80000000, GiB(1)), MT_WT);
    assert_int_equal(type_of(0, GiB(1)), MT_WB);

    mtrr_init(MT_UC);
    var(0x80000000, GiB(1), MT_WT);                           /* other order */
    var(0, GiB(4), MT_WB);
    assert_int_equal(type_of(0x80000000, MiB(2)), MT_WT);
}

static void test_overlap_of_same_type_keeps_it(void **state)
{
    (void)state;
    mtrr_init(MT_UC);
    var(0, GiB(4), MT_WC);
    var(0x80000000, GiB(1), MT_WC);
    assert_int_equal(type_of(0x80000000, GiB(1)), MT_WC);
}

static void test_overlap_of_other_types_is_uc(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    var(0, GiB(4), MT_WB);
    var(0x80000000, GiB(1), MT_WC);
    assert_int_equal(type_of(0x80000000, GiB(1)), MT_UC);

    mtrr_init(MT_WB);
    var(0, GiB(4), MT_WT);
    var(0x80000000, GiB(1), MT_WP);
    assert_int_equal(type_of(0x80000000, GiB(1)), MT_UC);

    /* three ranges: WB and WT give WT, then WC makes it UC */
    mtrr_init(MT_WB);
    var(0, GiB(4), MT_WB);
    var(0, GiB(2), MT_WT);
    var(0, GiB(1), MT_WC);
    assert_int_equal(type_of(0, MiB(2)), MT_UC);
    assert_int_equal(type_of(GiB(1), MiB(2)), MT_WT);
    assert_int_equal(type_of(GiB(2), MiB(2)), MT_WB);
}

static void test_invalid_ranges_are_ignored(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    var(0xc0000000, MiB(1), MT_UC);
    var(0, GiB(4), MT_WC);
    s.var[0].mask &= ~VALID;
    s.var[1].mask &= ~VALID;
    /* neither the small one (it would make 1 GiB non-uniform) nor the big one counts */
    assert_int_equal(type_of(0xc0000000, GiB(1)), MT_WB);
    assert_int_equal(type_of(0xc0000000, 0x1000), MT_WB);
    assert_int_equal(type_of(0, GiB(1)), MT_WB);
}

static void test_nvar_limits_the_ranges_read(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    var(0xc0000000, GiB(1), MT_UC);
    s.nvar = 0;
    assert_int_equal(type_of(0xc0000000, GiB(1)), MT_WB);
}

static void test_addr_mask_limits_the_mask(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    /* a mask with every bit set above the range size, beyond MAXPHYADDR too */
    s.var[0].base = 0xc0000000 | MT_UC;
    s.var[0].mask = ~(GiB(1) - 1) | VALID;
    s.nvar = 1;
    s.addr_mask = PHYS36;
    /* bit 36 is past the 36 physical address bits: it is not compared */
    assert_int_equal(type_of(0x10c0000000ull, GiB(1)), MT_UC);
    assert_int_equal(type_of(0x8c0000000ull, GiB(1)), MT_WB);        /* bit 35 is */
    s.addr_mask = (1ull << 40) - 1;
    assert_int_equal(type_of(0x10c0000000ull, GiB(1)), MT_WB);
    assert_int_equal(type_of(0xc0000000, GiB(1)), MT_UC);
}

static void test_mask_low_bits_and_valid_bit_are_not_compared(void **state)
{
    (void)state;
    mtrr_init(MT_WB);
    s.var[0].base = 0xc0000000 | MT_UC;
    s.var[0].mask = (~(GiB(1) - 1) & PHYS36) | VALID | 0x7ff;   /* junk in 0-10 */
    s.nvar = 1;
    assert_int_equal(type_of(0xc0000000, 0x1000), MT_UC);
    assert_int_equal(type_of(0xc0001000, 0x1000), MT_UC);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(mtrr_type_name(MT_UC), "UC");
    assert_string_equal(mtrr_type_name(MT_WC), "WC");
    assert_string_equal(mtrr_type_name(MT_WT), "WT");
    assert_string_equal(mtrr_type_name(MT_WP), "WP");
    assert_string_equal(mtrr_type_name(MT_WB), "WB");
    assert_string_equal(mtrr_type_name(2), "??");
    assert_string_equal(mtrr_type_name(7), "??");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disabled_mtrrs_are_uc_everywhere),
        cmocka_unit_test(test_fixed_64k_granules),
        cmocka_unit_test(test_fixed_16k_granules),
        cmocka_unit_test(test_fixed_4k_granules),
        cmocka_unit_test(test_fixed_range_of_mixed_types_is_not_uniform),
        cmocka_unit_test(test_fixed_range_of_one_type_is_uniform),
        cmocka_unit_test(test_range_crossing_1m_with_fixed_enabled_is_not_uniform),
        cmocka_unit_test(test_fixed_ranges_take_precedence_below_1m),
        cmocka_unit_test(test_fixed_disabled_uses_variable_ranges_below_1m),
        cmocka_unit_test(test_variable_range_match),
        cmocka_unit_test(test_variable_range_no_match_gives_default_type),
        cmocka_unit_test(test_variable_range_type_is_the_low_byte_of_base),
        cmocka_unit_test(test_mask_inside_the_range_is_not_uniform),
        cmocka_unit_test(test_overlap_uc_wins),
        cmocka_unit_test(test_overlap_wt_and_wb_gives_wt),
        cmocka_unit_test(test_overlap_of_same_type_keeps_it),
        cmocka_unit_test(test_overlap_of_other_types_is_uc),
        cmocka_unit_test(test_invalid_ranges_are_ignored),
        cmocka_unit_test(test_nvar_limits_the_ranges_read),
        cmocka_unit_test(test_addr_mask_limits_the_mask),
        cmocka_unit_test(test_mask_low_bits_and_valid_bit_are_not_compared),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
