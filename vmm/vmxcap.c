#include "vmm/vmxcap.h"

static bool allowed1(u64 msr, int bit) { return msr >> 32 >> bit & 1; }

void vmxcap_decode(const struct vmx_msrs *m, struct vmx_caps *c)
{
    *c = (struct vmx_caps){ 0 };
    c->fc_locked = m->feature_control & 1;
    c->fc_vmx_outside_smx = m->feature_control >> 2 & 1;
    if (!m->cpuid_vmx)
        return;
    c->revision = (u32)(m->basic & 0x7fffffff);
    c->vmcs_size = (u32)(m->basic >> 32 & 0x1fff);
    c->wb_vmcs = (m->basic >> 50 & 0xf) == 6;
    c->true_ctls = m->basic >> 55 & 1;

    u64 pin = c->true_ctls ? m->true_pinbased : m->pinbased;
    u64 proc = c->true_ctls ? m->true_procbased : m->procbased;
    u64 exit = c->true_ctls ? m->true_exit : m->exit;
    u64 entry = c->true_ctls ? m->true_entry : m->entry;

    c->nmi_exiting = allowed1(pin, 3);
    c->preemption_timer = allowed1(pin, 6);
    c->preemption_rate = (u32)(m->misc & 0x1f);
    c->cr3_targets = (u32)(m->misc >> 16 & 0x1ff);
    c->wait_for_sipi = m->misc >> 8 & 1;       /* IA32_VMX_MISC[8]: entry into wait-for-SIPI (SDM A.6) */
    c->hlt_exiting = allowed1(proc, 7);
    c->cr3_load_exiting = allowed1(proc, 15);
    c->io_bitmaps = allowed1(proc, 25);
    c->mtf = allowed1(proc, 27);
    c->msr_bitmaps = allowed1(proc, 28);
    c->secondary = allowed1(proc, 31);
    c->host_long_mode = allowed1(exit, 9);
    c->save_pat = allowed1(exit, 18);
    c->load_pat = allowed1(exit, 19) && allowed1(entry, 14);
    c->save_efer = allowed1(exit, 20);
    c->load_efer = allowed1(exit, 21) && allowed1(entry, 15);
    c->guest_long_mode = allowed1(entry, 9);

    if (c->secondary) {
        u64 p2 = m->procbased2;
        c->ept = allowed1(p2, 1);
        c->desc_table_exiting = allowed1(p2, 2);
        c->rdtscp = allowed1(p2, 3);
        c->vpid = allowed1(p2, 5);
        c->unrestricted = allowed1(p2, 7);
        c->invpcid = allowed1(p2, 12);
        c->xsaves = allowed1(p2, 20);
    }
    if (c->ept || c->vpid) {
        u64 e = m->ept_vpid;
        c->ept_4level = e >> 6 & 1;
        c->ept_uc = e >> 8 & 1;
        c->ept_wb = e >> 14 & 1;
        c->ept_2m = e >> 16 & 1;
        c->ept_1g = e >> 17 & 1;
        c->invept = e >> 20 & 1;
        c->ept_ad = e >> 21 & 1;
        c->invept_single = e >> 25 & 1;
        c->invept_all = e >> 26 & 1;
        c->invvpid = e >> 32 & 1;
        c->invvpid_single = e >> 41 & 1;
        c->invvpid_all = e >> 42 & 1;
    }
}

bool vmxcap_usable(const struct vmx_msrs *m, const struct vmx_caps *c, const char **why)
{
    if (!m->intel && !m->cpuid_vmx)
        *why = "this is not an Intel CPU and it offers no VT-x (CPUID.1:ECX.VMX=0); vigil needs Intel VT-x";
    else if (!m->cpuid_vmx)
        *why = "no VT-x: CPUID.1:ECX.VMX=0 (VT-x absent, or hidden by a hypervisor below vigil)";
    else if (c->fc_locked && !c->fc_vmx_outside_smx)
        *why = "VT-x is disabled and locked by firmware (IA32_FEATURE_CONTROL lock=1, VMX outside SMX=0): "
               "enable Intel Virtualization Technology in the firmware setup";
    else if (!c->secondary || !c->ept)
        *why = "VT-x without EPT: vigil needs extended page tables";
    else if (!c->ept_4level || !c->ept_wb)
        *why = "EPT without 4-level walks or write-back paging structures";
    else if (!c->unrestricted)
        *why = "VT-x without unrestricted guest: vigil enters guests in 32-bit protected mode without paging";
    else if (!c->io_bitmaps || !c->msr_bitmaps)
        *why = "VT-x without I/O or MSR bitmaps";
    else if (!c->host_long_mode || !c->guest_long_mode)
        *why = "VT-x without 64-bit host or IA-32e guest support";
    else if (!c->cr3_load_exiting)
        *why = "VT-x that cannot trap CR3 loads";
    else if (!c->invept || !c->invept_all)
        *why = "VT-x without INVEPT (all-context)";
    else
        return true;
    return false;
}
