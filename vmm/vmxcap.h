/* VT-x capabilities: raw capability MSRs decoded into what vigil needs
 * (Intel SDM Vol. 3, Appendix A "VMX Capability Reporting Facility").
 * Decoding is pure and unit-tested; reading the MSRs is in vmxcap_read. */
#ifndef VIGIL_VMM_VMXCAP_H
#define VIGIL_VMM_VMXCAP_H

#include "lib/types.h"

struct vmx_msrs {
    bool cpuid_vmx;            /* CPUID.1:ECX.VMX[bit 5] */
    bool intel;                /* vendor GenuineIntel */
    u64 feature_control;
    u64 basic, pinbased, procbased, exit, entry, misc;
    u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    u64 procbased2, ept_vpid;
    u64 true_pinbased, true_procbased, true_exit, true_entry;
};

struct vmx_caps {
    u32 revision;
    u32 vmcs_size;
    bool true_ctls;
    bool wb_vmcs;
    bool fc_locked, fc_vmx_outside_smx;
    bool secondary, io_bitmaps, msr_bitmaps, cr3_load_exiting, hlt_exiting, mtf;
    bool preemption_timer, nmi_exiting, wait_for_sipi;
    u32 preemption_rate;       /* timer counts down every 2^rate TSC ticks */
    u32 cr3_targets;           /* CR3-target values the CPU offers (IA32_VMX_MISC[24:16]) */
    bool ept, vpid, unrestricted, desc_table_exiting, rdtscp, invpcid, xsaves;
    bool ept_wb, ept_uc, ept_4level, ept_2m, ept_1g, ept_ad, invept, invept_single, invept_all;
    bool invvpid, invvpid_single, invvpid_all;
    bool save_efer, load_efer, load_pat, save_pat, host_long_mode, guest_long_mode;
};

void vmxcap_decode(const struct vmx_msrs *m, struct vmx_caps *c);

/* Can vigil run guests on this CPU? If not, *why says exactly what is
 * missing (a static string). A clear-but-unlocked IA32_FEATURE_CONTROL is
 * usable: vigil sets and locks it itself. */
bool vmxcap_usable(const struct vmx_msrs *m, const struct vmx_caps *c, const char **why);

/* Read CPUID and (only where CPUID says VMX exists) the capability MSRs. */
void vmxcap_read(struct vmx_msrs *m);
void vmxcap_report(const struct vmx_msrs *m, const struct vmx_caps *c);

#endif
