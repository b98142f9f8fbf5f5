/* Reading and printing the VT-x capabilities (hardware side of vmxcap). */
#include "vmm/vmxcap.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/string.h"

void vmxcap_read(struct vmx_msrs *m)
{
    u32 a, b, c, d;
    *m = (struct vmx_msrs){ 0 };
    cpuid(0, 0, &a, &b, &c, &d);
    m->intel = b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;   /* "GenuineIntel" */
    cpuid(1, 0, &a, &b, &c, &d);
    m->cpuid_vmx = c >> 5 & 1;
    if (!m->cpuid_vmx)
        return;            /* the VMX MSRs #GP without VMX: do not touch them */
    m->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
    m->basic = rdmsr(MSR_IA32_VMX_BASIC);
    m->pinbased = rdmsr(MSR_IA32_VMX_PINBASED);
    m->procbased = rdmsr(MSR_IA32_VMX_PROCBASED);
    m->exit = rdmsr(MSR_IA32_VMX_EXIT);
    m->entry = rdmsr(MSR_IA32_VMX_ENTRY);
    m->misc = rdmsr(MSR_IA32_VMX_MISC);
    m->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    m->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    m->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    m->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    if (m->procbased >> 63 & 1) {                   /* allowed-1 of bit 31 */
        m->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED2);
        if (m->procbased2 >> 32 & ((1 << 1) | (1 << 5)))   /* EPT or VPID */
            m->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
    }
    if (m->basic >> 55 & 1) {
        m->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED);
        m->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED);
        m->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT);
        m->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY);
    }
}

static const char *yn(bool b) { return b ? "yes" : "no"; }

void vmxcap_report(const struct vmx_msrs *m, const struct vmx_caps *c)
{
    kprintf("vigil: VT-x: VMX %s", m->cpuid_vmx ? "present" : "ABSENT");
    if (!m->cpuid_vmx) {
        kprintf("\n");
        return;
    }
    kprintf(", IA32_FEATURE_CONTROL 0x%llx (lock %u, VMX outside SMX %u)\n",
            (unsigned long long)m->feature_control, c->fc_locked, c->fc_vmx_outside_smx);
    kprintf("vigil: VT-x: VMCS revision 0x%x, %u bytes, write-back %s, TRUE controls %s\n",
            c->revision, c->vmcs_size, yn(c->wb_vmcs), yn(c->true_ctls));
    kprintf("vigil: VT-x: EPT %s (4-level %s, WB %s, 2MiB %s, 1GiB %s, A/D %s, INVEPT %s)\n",
            yn(c->ept), yn(c->ept_4level), yn(c->ept_wb), yn(c->ept_2m), yn(c->ept_1g), yn(c->ept_ad),
            yn(c->invept));
    kprintf("vigil: VT-x: VPID %s (INVVPID %s), unrestricted guest %s, preemption timer %s (TSC/%u)\n",
            yn(c->vpid), yn(c->invvpid), yn(c->unrestricted), yn(c->preemption_timer),
            1u << c->preemption_rate);
    kprintf("vigil: VT-x: MSR bitmaps %s, I/O bitmaps %s, CR3-load exiting %s, descriptor-table exiting %s, "
            "monitor trap flag %s\n",
            yn(c->msr_bitmaps), yn(c->io_bitmaps), yn(c->cr3_load_exiting), yn(c->desc_table_exiting),
            yn(c->mtf));
    kprintf("vigil: VT-x: NMI exiting %s, wait-for-SIPI activity state %s (IA32_VMX_MISC 0x%llx)\n",
            yn(c->nmi_exiting), yn(c->wait_for_sipi), (unsigned long long)m->misc);
}
