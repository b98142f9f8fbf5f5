/* Unit tests for vmm/vmxcap.c: decoding VMX capability MSRs (Intel SDM
 * Vol. 3, Appendix A) and deciding whether vigil can run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/vmxcap.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* Bit positions (SDM Vol. 3 Appendix A); controls are allowed-1 bits, i.e.
 * bit (32 + n) of the capability MSR. */
enum {
    PIN_NMI_EXITING = 3, PIN_PREEMPTION_TIMER = 6,
    PROC_HLT = 7, PROC_CR3_LOAD = 15, PROC_IO_BITMAPS = 25, PROC_MTF = 27,
    PROC_MSR_BITMAPS = 28, PROC_SECONDARY = 31,
    PROC2_EPT = 1, PROC2_DESC_TABLE = 2, PROC2_RDTSCP = 3, PROC2_VPID = 5,
    PROC2_UNRESTRICTED = 7, PROC2_INVPCID = 12, PROC2_XSAVES = 20,
    EXIT_HOST_64 = 9, EXIT_SAVE_PAT = 18, EXIT_LOAD_PAT = 19, EXIT_SAVE_EFER = 20, EXIT_LOAD_EFER = 21,
    ENTRY_IA32E = 9, ENTRY_LOAD_PAT = 14, ENTRY_LOAD_EFER = 15,
    EPT_4LEVEL = 6, EPT_UC = 8, EPT_WB = 14, EPT_2M = 16, EPT_1G = 17, EPT_INVEPT = 20,
    EPT_AD = 21, EPT_INVEPT_SINGLE = 25, EPT_INVEPT_ALL = 26,
    VPID_INVVPID = 32, VPID_SINGLE = 41, VPID_ALL = 42,
};

#define BASIC_TRUE_CTLS (1ull << 55)

static void clear_allowed1(u64 *msr, int bit) { *msr &= ~(1ull << (32 + bit)); }
static void clear_bit(u64 *msr, int bit) { *msr &= ~(1ull << bit); }

/* Capability MSRs as a Core i7-4770 (Haswell) reports them. */
static struct vmx_msrs haswell(void)
{
    return (struct vmx_msrs){
        .cpuid_vmx = true,
        .intel = true,
        .feature_control = 0x5,                 /* locked, VMX outside SMX */
        .basic = 0x00da040000000012ull,         /* rev 0x12, 1 KiB, WB, true ctls */
        .pinbased = 0x0000007f00000016ull,
        .procbased = 0xfff9fffe0401e172ull,
        .exit = 0x007fffff00036dffull,
        .entry = 0x0000ffff000011ffull,
        .misc = 0x00000000300481e5ull,
        .cr0_fixed0 = 0x80000021ull,
        .cr0_fixed1 = 0xffffffffull,
        .cr4_fixed0 = 0x2000ull,
        .cr4_fixed1 = 0x1767ffull,
        .procbased2 = 0x000037ff00000000ull,
        .ept_vpid = 0x00000f0106334141ull,
        .true_pinbased = 0x0000007f00000016ull,
        .true_procbased = 0xfff9fffe04006172ull,
        .true_exit = 0x007fffff00036dfbull,
        .true_entry = 0x0000ffff000011fbull,
    };
}

static struct vmx_msrs m;
static struct vmx_caps c;

static int setup(void **state)
{
    (void)state;
    m = haswell();
    return 0;
}

static bool usable(const char **why)
{
    vmxcap_decode(&m, &c);
    *why = "(not set)";
    return vmxcap_usable(&m, &c, why);
}

static void assert_refused_(const char *want, const char *file, int line)
{
    const char *why;
    if (usable(&why)) {
        print_error("vmxcap_usable accepted; expected a refusal naming \"%s\"\n", want);
        _fail(file, line);
    }
    if (!strstr(why, want)) {
        print_error("reason \"%s\" does not name \"%s\"\n", why, want);
        _fail(file, line);
    }
}
#define assert_refused(want) assert_refused_((want), __FILE__, __LINE__)

static void assert_usable_(const char *file, int line)
{
    const char *why;
    if (!usable(&why)) {
        print_error("vmxcap_usable refused: %s\n", why);
        _fail(file, line);
    }
}
#define assert_usable() assert_usable_(__FILE__, __LINE__)

/* ---- vmxcap_decode ---- */

static void test_decode_haswell(void **state)
{
    (void)state;
    vmxcap_decode(&m, &c);
    assert_int_equal(c.revision, 0x12);
    assert_int_equal(c.vmcs_size, 1024);
    assert_true(c.true_ctls);
    assert_true(c.wb_vmcs);
    assert_true(c.fc_locked);
    assert_true(c.fc_vmx_outside_smx);
    assert_true(c.nmi_exiting);
    assert_true(c.preemption_timer);
    assert_int_equal(c.preemption_rate, 5);
    assert_true(c.hlt_exiting);
    assert_true(c.cr3_load_exiting);
    assert_true(c.io_bitmaps);
    assert_true(c.mtf);
    assert_true(c.msr_bitmaps);
    assert_true(c.secondary);
    assert_true(c.host_long_mode);
    assert_true(c.guest_long_mode);
    assert_true(c.save_pat);
    assert_true(c.load_pat);
    assert_true(c.save_efer);
    assert_true(c.load_efer);
    assert_true(c.ept);
    assert_true(c.desc_table_exiting);
    assert_true(c.rdtscp);
    assert_true(c.vpid);
    assert_true(c.unrestricted);
    assert_true(c.invpcid);
    assert_false(c.xsaves);                 /* Haswell has no XSAVES */
    assert_true(c.ept_4level);
    assert_true(c.ept_uc);
    assert_true(c.ept_wb);
    assert_true(c.ept_2m);
    assert_true(c.ept_1g);
    assert_true(c.ept_ad);
    assert_true(c.invept);
    assert_true(c.invept_single);
    assert_true(c.invept_all);
    assert_true(c.invvpid);
    assert_true(c.invvpid_single);
    assert_true(c.invvpid_all);
}

static void test_decode_xsaves_from_secondary_bit_20(void **state)
{
    (void)state;
    m.procbased2 |= 1ull << (32 + PROC2_XSAVES);
    vmxcap_decode(&m, &c);
    assert_true(c.xsaves);
}

static void test_decode_without_vmx_reads_only_feature_control(void **state)
{
    (void)state;
    m.cpuid_vmx = false;   /* the MSRs would #GP: their values mean nothing */
    vmxcap_decode(&m, &c);
    assert_true(c.fc_locked);
    assert_true(c.fc_vmx_outside_smx);
    assert_int_equal(c.revision, 0);
    assert_int_equal(c.vmcs_size, 0);
    assert_false(c.true_ctls);
    assert_false(c.secondary);
    assert_false(c.ept);
    assert_false(c.unrestricted);
    assert_false(c.invept);
}

static void test_decode_feature_control_bits(void **state)
{
    (void)state;
    m.feature_control = 0x4;              /* outside SMX, unlocked */
    vmxcap_decode(&m, &c);
    assert_false(c.fc_locked);
    assert_true(c.fc_vmx_outside_smx);
    m.feature_control = 0x3;              /* locked, inside SMX only */
    vmxcap_decode(&m, &c);
    assert_true(c.fc_locked);
    assert_false(c.fc_vmx_outside_smx);
}

static void test_decode_basic_fields(void **state)
{
    (void)state;
    /* revision is bits 30:0, size bits 44:32, memory type bits 53:50 */
    m.basic = (1ull << 55) | (1ull << 48) | (0x1000ull << 32) | 0x80000004ull;
    vmxcap_decode(&m, &c);
    assert_int_equal(c.revision, 4);
    assert_int_equal(c.vmcs_size, 0x1000);
    assert_false(c.wb_vmcs);              /* type 0 is uncacheable */
    assert_true(c.true_ctls);
    m.basic |= 0xeull << 50;              /* type 14: reserved, not 6 */
    vmxcap_decode(&m, &c);
    assert_false(c.wb_vmcs);
}

static void test_decode_preemption_rate_is_misc_bits_4_0(void **state)
{
    (void)state;
    m.misc = 0xffffffe0ull | 0x1f;
    vmxcap_decode(&m, &c);
    assert_int_equal(c.preemption_rate, 31);
}

static void test_decode_wait_for_sipi_is_misc_bit_8(void **state)
{
    (void)state;
    vmxcap_decode(&m, &c);
    assert_true(c.wait_for_sipi);              /* Haswell's 0x300481e5 has bits 6-8 */
    m.misc &= ~(1ull << 8);
    vmxcap_decode(&m, &c);
    assert_false(c.wait_for_sipi);
    m.misc = 1ull << 8;
    vmxcap_decode(&m, &c);
    assert_true(c.wait_for_sipi);
}

static void test_decode_uses_true_controls_when_basic_bit_55_is_set(void **state)
{
    (void)state;
    m.pinbased = m.procbased = m.exit = m.entry = 0;
    vmxcap_decode(&m, &c);
    assert_true(c.true_ctls);
    assert_true(c.nmi_exiting);
    assert_true(c.cr3_load_exiting);
    assert_true(c.secondary);
    assert_true(c.host_long_mode);
    assert_true(c.guest_long_mode);
    assert_usable();
}

static void test_decode_ignores_plain_controls_when_basic_bit_55_is_set(void **state)
{
    (void)state;
    m.true_pinbased = m.true_procbased = m.true_exit = m.true_entry = 0;
    vmxcap_decode(&m, &c);
    assert_false(c.nmi_exiting);
    assert_false(c.cr3_load_exiting);
    assert_false(c.secondary);
    assert_false(c.host_long_mode);
    assert_false(c.guest_long_mode);
}

static void test_decode_uses_plain_controls_when_basic_bit_55_is_clear(void **state)
{
    (void)state;
    m.basic &= ~BASIC_TRUE_CTLS;
    m.true_pinbased = m.true_procbased = m.true_exit = m.true_entry = 0;
    vmxcap_decode(&m, &c);
    assert_false(c.true_ctls);
    assert_true(c.nmi_exiting);
    assert_true(c.cr3_load_exiting);
    assert_true(c.secondary);
    assert_true(c.host_long_mode);
    assert_true(c.guest_long_mode);
    assert_usable();
}

static void test_decode_ignores_true_controls_when_basic_bit_55_is_clear(void **state)
{
    (void)state;
    m.basic &= ~BASIC_TRUE_CTLS;
    m.pinbased = m.procbased = m.exit = m.entry = 0;
    vmxcap_decode(&m, &c);
    assert_false(c.nmi_exiting);
    assert_false(c.cr3_load_exiting);
    assert_false(c.secondary);
    assert_false(c.host_long_mode);
    assert_false(c.guest_long_mode);
}

static void test_decode_reads_allowed_1_bits_not_allowed_0(void **state)
{
    (void)state;
    /* a control whose allowed-0 bit (low half) is set but allowed-1 clear */
    clear_allowed1(&m.true_procbased, PROC_CR3_LOAD);
    m.true_procbased |= 1ull << PROC_CR3_LOAD;
    vmxcap_decode(&m, &c);
    assert_false(c.cr3_load_exiting);
    /* and the other way round: nothing required, everything allowed */
    m = haswell();
    m.true_procbased &= 0xffffffff00000000ull;
    vmxcap_decode(&m, &c);
    assert_true(c.hlt_exiting);
    assert_true(c.cr3_load_exiting);
}

static void test_decode_ignores_secondary_msr_without_secondary_controls(void **state)
{
    (void)state;
    clear_allowed1(&m.true_procbased, PROC_SECONDARY);
    vmxcap_decode(&m, &c);
    assert_false(c.secondary);
    assert_false(c.ept);
    assert_false(c.vpid);
    assert_false(c.unrestricted);
    assert_false(c.rdtscp);
    /* and with neither EPT nor VPID, the EPT/VPID capability MSR */
    assert_false(c.ept_wb);
    assert_false(c.invept);
    assert_false(c.invvpid);
}

static void test_decode_reads_ept_caps_for_vpid_alone(void **state)
{
    (void)state;
    clear_allowed1(&m.procbased2, PROC2_EPT);
    vmxcap_decode(&m, &c);
    assert_false(c.ept);
    assert_true(c.vpid);
    assert_true(c.invvpid);
    assert_true(c.invvpid_all);
}

static void test_decode_load_pat_needs_exit_and_entry_controls(void **state)
{
    (void)state;
    clear_allowed1(&m.true_entry, ENTRY_LOAD_PAT);
    vmxcap_decode(&m, &c);
    assert_false(c.load_pat);
    assert_true(c.save_pat);
    m = haswell();
    clear_allowed1(&m.true_exit, EXIT_LOAD_PAT);
    vmxcap_decode(&m, &c);
    assert_false(c.load_pat);
}

static void test_decode_load_efer_needs_exit_and_entry_controls(void **state)
{
    (void)state;
    clear_allowed1(&m.true_entry, ENTRY_LOAD_EFER);
    vmxcap_decode(&m, &c);
    assert_false(c.load_efer);
    assert_true(c.save_efer);
    m = haswell();
    clear_allowed1(&m.true_exit, EXIT_LOAD_EFER);
    vmxcap_decode(&m, &c);
    assert_false(c.load_efer);
}

static void test_decode_each_ept_capability_bit(void **state)
{
    (void)state;
    static const struct { int bit; size_t field; } bits[] = {
        { EPT_4LEVEL, offsetof(struct vmx_caps, ept_4level) },
        { EPT_UC, offsetof(struct vmx_caps, ept_uc) },
        { EPT_WB, offsetof(struct vmx_caps, ept_wb) },
        { EPT_2M, offsetof(struct vmx_caps, ept_2m) },
        { EPT_1G, offsetof(struct vmx_caps, ept_1g) },
        { EPT_INVEPT, offsetof(struct vmx_caps, invept) },
        { EPT_AD, offsetof(struct vmx_caps, ept_ad) },
        { EPT_INVEPT_SINGLE, offsetof(struct vmx_caps, invept_single) },
        { EPT_INVEPT_ALL, offsetof(struct vmx_caps, invept_all) },
        { VPID_INVVPID, offsetof(struct vmx_caps, invvpid) },
        { VPID_SINGLE, offsetof(struct vmx_caps, invvpid_single) },
        { VPID_ALL, offsetof(struct vmx_caps, invvpid_all) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
        m = haswell();
        m.ept_vpid = 1ull << bits[i].bit;
        vmxcap_decode(&m, &c);
        const bool *f = (const bool *)((const char *)&c + bits[i].field);
        assert_true(*f);
        /* only that one */
        int set = c.ept_4level + c.ept_uc + c.ept_wb + c.ept_2m + c.ept_1g + c.invept + c.ept_ad +
                  c.invept_single + c.invept_all + c.invvpid + c.invvpid_single + c.invvpid_all;
        assert_int_equal(set, 1);
    }
}

/* ---- vmxcap_usable ---- */

static void test_haswell_is_usable(void **state)
{
    (void)state;
    assert_usable();
}

static void test_clear_unlocked_feature_control_is_usable(void **state)
{
    (void)state;
    m.feature_control = 0;                /* vigil sets and locks it */
    assert_usable();
}

static void test_refused_without_vmx_on_non_intel(void **state)
{
    (void)state;
    m.cpuid_vmx = false;
    m.intel = false;
    assert_refused("not an Intel CPU");
}

static void test_refused_without_vmx_on_intel(void **state)
{
    (void)state;
    m.cpuid_vmx = false;
    assert_refused("no VT-x: CPUID.1:ECX.VMX=0");
}

static void test_refused_when_firmware_locked_vmx_off(void **state)
{
    (void)state;
    m.feature_control = 0x1;
    assert_refused("disabled and locked by firmware");
}

static void test_refused_when_firmware_locked_vmx_to_smx_only(void **state)
{
    (void)state;
    m.feature_control = 0x3;
    assert_refused("disabled and locked by firmware");
}

static void test_refused_without_secondary_controls(void **state)
{
    (void)state;
    clear_allowed1(&m.true_procbased, PROC_SECONDARY);
    assert_refused("without EPT");
}

static void test_refused_without_ept(void **state)
{
    (void)state;
    clear_allowed1(&m.procbased2, PROC2_EPT);
    assert_refused("without EPT");
}

static void test_refused_without_4_level_ept(void **state)
{
    (void)state;
    clear_bit(&m.ept_vpid, EPT_4LEVEL);
    assert_refused("4-level");
}

static void test_refused_without_write_back_ept(void **state)
{
    (void)state;
    clear_bit(&m.ept_vpid, EPT_WB);
    assert_refused("write-back");
}

static void test_refused_without_unrestricted_guest(void **state)
{
    (void)state;
    clear_allowed1(&m.procbased2, PROC2_UNRESTRICTED);
    assert_refused("unrestricted guest");
}

static void test_refused_without_io_bitmaps(void **state)
{
    (void)state;
    clear_allowed1(&m.true_procbased, PROC_IO_BITMAPS);
    assert_refused("I/O or MSR bitmaps");
}

static void test_refused_without_msr_bitmaps(void **state)
{
    (void)state;
    clear_allowed1(&m.true_procbased, PROC_MSR_BITMAPS);
    assert_refused("I/O or MSR bitmaps");
}

static void test_refused_without_64_bit_host(void **state)
{
    (void)state;
    clear_allowed1(&m.true_exit, EXIT_HOST_64);
    assert_refused("64-bit host");
}

static void test_refused_without_ia32e_guest(void **state)
{
    (void)state;
    clear_allowed1(&m.true_entry, ENTRY_IA32E);
    assert_refused("IA-32e guest");
}

static void test_refused_without_cr3_load_exiting(void **state)
{
    (void)state;
    clear_allowed1(&m.true_procbased, PROC_CR3_LOAD);
    assert_refused("cannot trap CR3 loads");
}

static void test_refused_without_invept(void **state)
{
    (void)state;
    clear_bit(&m.ept_vpid, EPT_INVEPT);
    assert_refused("without INVEPT");
}

static void test_refused_without_all_context_invept(void **state)
{
    (void)state;
    clear_bit(&m.ept_vpid, EPT_INVEPT_ALL);
    assert_refused("INVEPT (all-context)");
}

static void test_single_context_invept_alone_is_not_needed(void **state)
{
    (void)state;
    clear_bit(&m.ept_vpid, EPT_INVEPT_SINGLE);
    assert_usable();
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_decode_haswell),
        T(test_decode_xsaves_from_secondary_bit_20),
        T(test_decode_without_vmx_reads_only_feature_control),
        T(test_decode_feature_control_bits),
        T(test_decode_basic_fields),
        T(test_decode_preemption_rate_is_misc_bits_4_0),
        T(test_decode_wait_for_sipi_is_misc_bit_8),
        T(test_decode_uses_true_controls_when_basic_bit_55_is_set),
        T(test_decode_ignores_plain_controls_when_basic_bit_55_is_set),
        T(test_decode_uses_plain_controls_when_basic_bit_55_is_clear),
        T(test_decode_ignores_true_controls_when_basic_bit_55_is_clear),
        T(test_decode_reads_allowed_1_bits_not_allowed_0),
        T(test_decode_ignores_secondary_msr_without_secondary_controls),
        T(test_decode_reads_ept_caps_for_vpid_alone),
        T(test_decode_load_pat_needs_exit_and_entry_controls),
        T(test_decode_load_efer_needs_exit_and_entry_controls),
        T(test_decode_each_ept_capability_bit),
        T(test_haswell_is_usable),
        T(test_clear_unlocked_feature_control_is_usable),
        T(test_refused_without_vmx_on_non_intel),
        T(test_refused_without_vmx_on_intel),
        T(test_refused_when_firmware_locked_vmx_off),
        T(test_refused_when_firmware_locked_vmx_to_smx_only),
        T(test_refused_without_secondary_controls),
        T(test_refused_without_ept),
        T(test_refused_without_4_level_ept),
        T(test_refused_without_write_back_ept),
        T(test_refused_without_unrestricted_guest),
        T(test_refused_without_io_bitmaps),
        T(test_refused_without_msr_bitmaps),
        T(test_refused_without_64_bit_host),
        T(test_refused_without_ia32e_guest),
        T(test_refused_without_cr3_load_exiting),
        T(test_refused_without_invept),
        T(test_refused_without_all_context_invept),
        T(test_single_context_invept_alone_is_not_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
