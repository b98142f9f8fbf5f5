/* Readable reports: guest/host state and controls for the unexpected, and
 * VM-entry failures decoded down to the field that broke a rule. */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/vmx_setup.h"
#include "vmm/vmcs_check.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "vmm/smp.h"

#define X(f) (unsigned long long)vmread(f)

void vmm_dump_state(void)
{
    kprintf("  guest: rip 0x%llx rsp 0x%llx rflags 0x%llx activity %llu interruptibility 0x%llx\n",
            X(GUEST_RIP), X(GUEST_RSP), X(GUEST_RFLAGS), X(GUEST_ACTIVITY_STATE), X(GUEST_INTERRUPTIBILITY));
    kprintf("  guest: cr0 0x%llx (shadow 0x%llx) cr3 0x%llx cr4 0x%llx (shadow 0x%llx) efer 0x%llx\n",
            X(GUEST_CR0), X(CR0_READ_SHADOW), X(GUEST_CR3), X(GUEST_CR4), X(CR4_READ_SHADOW), X(GUEST_IA32_EFER));
    kprintf("  guest: cs %llx base 0x%llx limit 0x%llx ar 0x%llx; ss %llx ar 0x%llx; tr %llx ar 0x%llx\n",
            X(GUEST_CS_SEL), X(GUEST_CS_BASE), X(GUEST_CS_LIMIT), X(GUEST_CS_AR), X(GUEST_SS_SEL),
            X(GUEST_SS_AR), X(GUEST_TR_SEL), X(GUEST_TR_AR));
    kprintf("  guest: gdtr 0x%llx/0x%llx idtr 0x%llx/0x%llx\n", X(GUEST_GDTR_BASE), X(GUEST_GDTR_LIMIT),
            X(GUEST_IDTR_BASE), X(GUEST_IDTR_LIMIT));
    if (vcpu_self()->regs) {
        struct guest_regs *r = vcpu_self()->regs;
        kprintf("  guest: rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx rsi 0x%llx rdi 0x%llx rbp 0x%llx\n",
                (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx,
                (unsigned long long)r->rdx, (unsigned long long)r->rsi, (unsigned long long)r->rdi,
                (unsigned long long)r->rbp);
    }
    kprintf("  exit: reason 0x%llx qualification 0x%llx gpa 0x%llx gla 0x%llx intr-info 0x%llx idt-vectoring 0x%llx\n",
            X(EXIT_REASON), X(EXIT_QUALIFICATION), X(GUEST_PHYSICAL_ADDRESS), X(GUEST_LINEAR_ADDRESS),
            X(VM_EXIT_INTR_INFO), X(IDT_VECTORING_INFO));
    kprintf("  host: cr0 0x%llx cr3 0x%llx cr4 0x%llx rsp 0x%llx rip 0x%llx efer 0x%llx\n", X(HOST_CR0),
            X(HOST_CR3), X(HOST_CR4), X(HOST_RSP), X(HOST_RIP), X(HOST_IA32_EFER));
    kprintf("  controls: pin 0x%llx proc 0x%llx proc2 0x%llx exit 0x%llx entry 0x%llx eptp 0x%llx\n",
            X(PIN_BASED_CTLS), X(PROC_BASED_CTLS), X(PROC_BASED_CTLS2), X(VM_EXIT_CTLS), X(VM_ENTRY_CTLS),
            X(EPT_POINTER));
    kprintf("  controls: cr0 mask 0x%llx cr4 mask 0x%llx exception bitmap 0x%llx entry intr-info 0x%llx\n",
            X(CR0_GUEST_HOST_MASK), X(CR4_GUEST_HOST_MASK), X(EXCEPTION_BITMAP), X(VM_ENTRY_INTR_INFO));
}

/* Re-check the current VMCS against the entry rules vigil knows (vmcs_check.c)
 * and name the first field that breaks one. */
void vmcs_diagnose(void)
{
    struct vcpu *v = vcpu_self();
    struct vmcs_snapshot s = {
        .guest_cr0 = vmread(GUEST_CR0), .guest_cr4 = vmread(GUEST_CR4), .guest_efer = vmread(GUEST_IA32_EFER),
        .guest_rflags = vmread(GUEST_RFLAGS), .guest_rip = vmread(GUEST_RIP),
        .link_pointer = vmread(VMCS_LINK_POINTER), .tr_ar = vmread(GUEST_TR_AR),
        .activity = vmread(GUEST_ACTIVITY_STATE), .entry_ctls = vmread(VM_ENTRY_CTLS), .host_cr4 = vmread(HOST_CR4),
        .cr0_fixed0 = v->cr0_fixed0, .cr0_fixed1 = v->cr0_fixed1, .cr4_fixed0 = v->cr4_fixed0,
        .cr4_fixed1 = v->cr4_fixed1,
    };
    struct vmcs_problem p;
    if (vmcs_check(&s, &p))
        kprintf("vigil: offending field: %s = 0x%llx: %s\n", p.field, (unsigned long long)p.value, p.rule);
    else
        kprintf("vigil: no offending field found by vigil's checks\n");
}

void vmm_report_entry_failure(u32 reason, u64 qual)
{
    static const char *const quals[] = { "default", "reserved", "PDPTE loading", "NMI injection",
                                          "invalid VMCS link pointer" };
    kprintf("vigil: VM ENTRY FAILED: exit reason %u (%s), qualification %llu (%s)\n", reason,
            exit_reason_name(reason), (unsigned long long)qual,
            qual < ARRAY_SIZE(quals) ? quals[qual] : "unknown");
    if (reason == 34)
        kprintf("vigil: MSR-load entry %llu failed\n", (unsigned long long)qual);
    vmcs_diagnose();
    vmm_dump_state();
}
