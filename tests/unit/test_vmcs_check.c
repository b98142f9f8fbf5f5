/* vmcs_check: the VM-entry rules vigil re-checks to name the offending
 * field after a failed entry. Each test breaks one rule of a good snapshot
 * (the state vigil launches a guest in) and checks the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "vmm/vmcs_check.h"

static struct vmcs_snapshot good(void)
{
    struct vmcs_snapshot s = {
        .guest_cr0 = 0x31,                    /* PE, ET, NE: 32-bit protected mode, paging off */
        .guest_cr4 = 0x2000,                  /* VMXE */
        .guest_efer = 0, .guest_rflags = 0x2, .guest_rip = 0x100020,
        .link_pointer = ~0ull, .tr_ar = 0x8b, .activity = 0, .entry_ctls = 0x11fb, .host_cr4 = 0x2020,
        .cr0_fixed0 = 0x20, .cr0_fixed1 = 0xffffffff, .cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x3727ff,
    };
    return s;
}

static void expect(const struct vmcs_snapshot *s, const char *field, const char *rule_part)
{
    struct vmcs_problem p;
    assert_true(vmcs_check(s, &p));
    assert_string_equal(p.field, field);
    assert_non_null(strstr(p.rule, rule_part));
}

static void test_launch_state_is_good(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    struct vmcs_problem p;
    assert_false(vmcs_check(&s, &p));
}

static void test_long_mode_state_is_good(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_cr0 = 0x80010031;
    s.guest_cr4 = 0x20a0 | 0x2000;
    s.guest_efer = 0x500;
    s.entry_ctls |= 1u << 9;
    s.guest_rip = 0xffffffff80100000ull;
    struct vmcs_problem p;
    assert_false(vmcs_check(&s, &p));
}

static void test_cr0_missing_fixed_bit(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_cr0 &= ~0x20ull;                 /* NE */
    expect(&s, "GUEST_CR0", "FIXED0/1");
}

static void test_cr0_reserved_bit(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_cr0 |= 1ull << 40;
    expect(&s, "GUEST_CR0", "FIXED0/1");
}

static void test_cr4_without_vmxe(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_cr4 = 0;
    expect(&s, "GUEST_CR4", "FIXED0/1");
}

static void test_pg_without_pe(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_cr0 = 0x80000030;
    expect(&s, "GUEST_CR0", "PG set without PE");
}

static void test_ia32e_without_pae(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_cr0 = 0x80000031;
    s.guest_efer = 0x500;
    s.entry_ctls |= 1u << 9;
    expect(&s, "GUEST_CR0/CR4", "PAE");
}

static void test_lma_without_ia32e_control(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_efer = 0x500;
    expect(&s, "GUEST_IA32_EFER", "LMA must equal");
}

static void test_ia32e_without_lme(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_cr0 = 0x80000031;
    s.guest_cr4 = 0x2020;
    s.guest_efer = 0x400;
    s.entry_ctls |= 1u << 9;
    expect(&s, "GUEST_IA32_EFER", "LME");
}

static void test_rflags_bit1_clear(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_rflags = 0;
    expect(&s, "GUEST_RFLAGS", "bit 1 must be 1");
}

static void test_rflags_reserved(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_rflags = 0x2 | (1ull << 3);
    expect(&s, "GUEST_RFLAGS", "reserved");
}

static void test_link_pointer(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.link_pointer = 0;
    expect(&s, "VMCS_LINK_POINTER", "all ones");
}

static void test_tr_not_busy_tss(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.tr_ar = 0x89;                          /* available, not busy */
    expect(&s, "GUEST_TR_AR", "busy TSS");
    s.tr_ar = 0x1008b;                       /* unusable */
    expect(&s, "GUEST_TR_AR", "busy TSS");
}

static void test_activity_state(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.activity = 4;
    expect(&s, "GUEST_ACTIVITY_STATE", "not a defined state");
}

static void test_rip_high_bits_outside_long_mode(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.guest_rip = 0x100000000ull;
    expect(&s, "GUEST_RIP", "63:32");
}

static void test_host_cr4_without_vmxe(void **state)
{
    (void)state;
    struct vmcs_snapshot s = good();
    s.host_cr4 = 0x20;
    expect(&s, "HOST_CR4", "VMXE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_launch_state_is_good),
        cmocka_unit_test(test_long_mode_state_is_good),
        cmocka_unit_test(test_cr0_missing_fixed_bit),
        cmocka_unit_test(test_cr0_reserved_bit),
        cmocka_unit_test(test_cr4_without_vmxe),
        cmocka_unit_test(test_pg_without_pe),
        cmocka_unit_test(test_ia32e_without_pae),
        cmocka_unit_test(test_lma_without_ia32e_control),
        cmocka_unit_test(test_ia32e_without_lme),
        cmocka_unit_test(test_rflags_bit1_clear),
        cmocka_unit_test(test_rflags_reserved),
        cmocka_unit_test(test_link_pointer),
        cmocka_unit_test(test_tr_not_busy_tss),
        cmocka_unit_test(test_activity_state),
        cmocka_unit_test(test_rip_high_bits_outside_long_mode),
        cmocka_unit_test(test_host_cr4_without_vmxe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
