/* VMX operation: IA32_FEATURE_CONTROL, the CR0/CR4 fixed bits, VMXON, and
 * VM-execution controls chosen against the capability MSRs
 * (Intel SDM Vol. 3, 24.7 "Enabling and entering VMX operation", A.3-A.5). */
#include "vmm/vmx_setup.h"
#include "vmm/vmx.h"
#include "vmm/hvmem.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "lib/log.h"

void vmwrite(u64 field, u64 value)
{
    if (!vmwrite_ok(field, value))
        vigil_panic("VMWRITE of %s (0x%llx) = 0x%llx failed: %s", vmx_field_name(field),
                    (unsigned long long)field, (unsigned long long)value,
                    vmx_instruction_error_name((u32)vmread(VM_INSTRUCTION_ERROR)));
}

u32 vmx_adjust_ctls(const char *name, u32 want, u32 must, u64 cap)
{
    u32 allowed0 = (u32)cap, allowed1 = (u32)(cap >> 32);
    if (must & ~allowed1)
        vigil_panic("VT-x: %s: required bits 0x%x not supported (allowed-1 0x%x)", name, must & ~allowed1,
                    allowed1);
    return ((want | must) & allowed1) | allowed0;
}

bool vmx_enable(const struct vmx_msrs *m, const struct vmx_caps *c, void *region, bool report)
{
    /* IA32_FEATURE_CONTROL: if firmware left it unlocked, enable VMX outside
     * SMX and lock it (SDM 24.7). vmxcap_usable refused locked-off. */
    u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (!(fc & 1)) {
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | 1 | 4);
        if (report)
            kprintf("vigil: IA32_FEATURE_CONTROL was unlocked: enabled VMX outside SMX and locked it\n");
    }
    /* CR0 and CR4 must hold the fixed bits in VMX operation (SDM A.7, A.8). */
    u64 cr0 = (read_cr0() | m->cr0_fixed0) & m->cr0_fixed1;
    u64 cr4 = (read_cr4() | m->cr4_fixed0 | (1u << 13)) & m->cr4_fixed1;
    /* The guest's XSETBV is executed by vigil (after validation), which
     * needs CR4.OSXSAVE in root mode too; vigil itself uses no XSAVE state. */
    u32 a, b, cx, d;
    cpuid(1, 0, &a, &b, &cx, &d);
    if (cx >> 26 & 1)
        cr4 |= 1u << 18;
    write_cr0(cr0);
    write_cr4(cr4);

    *(u32 *)region = c->revision;            /* bit 31 clear */
    if (!vmx_on((u64)region))
        return false;
    if (report)
        kprintf("vigil: VMX on (VMXON region 0x%llx)\n", (unsigned long long)(u64)region);
    return true;
}

const char *vmx_instruction_error_name(u32 e)
{
    static const char *const names[] = {
        [0] = "no error recorded",
        [1] = "VMCALL executed in VMX root operation",
        [2] = "VMCLEAR with invalid physical address",
        [3] = "VMCLEAR with VMXON pointer",
        [4] = "VMLAUNCH with non-clear VMCS",
        [5] = "VMRESUME with non-launched VMCS",
        [6] = "VMRESUME after VMXOFF",
        [7] = "VM entry with invalid control field(s)",
        [8] = "VM entry with invalid host-state field(s)",
        [9] = "VMPTRLD with invalid physical address",
        [10] = "VMPTRLD with VMXON pointer",
        [11] = "VMPTRLD with incorrect VMCS revision identifier",
        [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
        [13] = "VMWRITE to read-only VMCS component",
        [15] = "VMXON executed in VMX root operation",
        [16] = "VM entry with invalid executive-VMCS pointer",
        [17] = "VM entry with non-launched executive VMCS",
        [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
        [19] = "VMCALL with non-clear VMCS",
        [20] = "VMCALL with invalid VM-exit control fields",
        [22] = "VMCALL with incorrect MSEG revision identifier",
        [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
        [24] = "VMCALL with invalid SMM-monitor features",
        [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
        [26] = "VM entry with events blocked by MOV SS",
        [28] = "invalid operand to INVEPT/INVVPID",
    };
    return e < ARRAY_SIZE(names) && names[e] ? names[e] : "unknown VM-instruction error";
}

const char *vmx_field_name(u64 f)
{
    switch (f) {
#define N(x) case x: return #x;
    N(VPID) N(GUEST_ES_SEL) N(GUEST_CS_SEL) N(GUEST_SS_SEL) N(GUEST_DS_SEL) N(GUEST_FS_SEL)
    N(GUEST_GS_SEL) N(GUEST_LDTR_SEL) N(GUEST_TR_SEL) N(HOST_ES_SEL) N(HOST_CS_SEL) N(HOST_SS_SEL)
    N(HOST_DS_SEL) N(HOST_FS_SEL) N(HOST_GS_SEL) N(HOST_TR_SEL) N(IO_BITMAP_A) N(IO_BITMAP_B)
    N(MSR_BITMAP) N(EPT_POINTER) N(VMCS_LINK_POINTER) N(GUEST_IA32_DEBUGCTL) N(GUEST_IA32_PAT)
    N(GUEST_IA32_EFER) N(GUEST_PDPTE0) N(HOST_IA32_PAT) N(HOST_IA32_EFER) N(PIN_BASED_CTLS)
    N(PROC_BASED_CTLS) N(EXCEPTION_BITMAP) N(VM_EXIT_CTLS) N(VM_ENTRY_CTLS) N(VM_ENTRY_INTR_INFO)
    N(PROC_BASED_CTLS2) N(GUEST_CS_LIMIT) N(GUEST_CS_AR) N(GUEST_SS_AR) N(GUEST_TR_AR) N(GUEST_LDTR_AR)
    N(GUEST_INTERRUPTIBILITY) N(GUEST_ACTIVITY_STATE) N(VMX_PREEMPTION_TIMER) N(CR0_GUEST_HOST_MASK)
    N(CR4_GUEST_HOST_MASK) N(CR0_READ_SHADOW) N(CR4_READ_SHADOW) N(GUEST_CR0) N(GUEST_CR3) N(GUEST_CR4)
    N(GUEST_RIP) N(GUEST_RSP) N(GUEST_RFLAGS) N(GUEST_GDTR_BASE) N(GUEST_IDTR_BASE) N(GUEST_TR_BASE)
    N(HOST_CR0) N(HOST_CR3) N(HOST_CR4) N(HOST_RSP) N(HOST_RIP) N(HOST_TR_BASE) N(HOST_GDTR_BASE)
    N(HOST_IDTR_BASE)
#undef N
    default: return "VMCS field";
    }
}
