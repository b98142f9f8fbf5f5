/* RDMSR/WRMSR exits (reasons 31, 32). MSRs outside the bitmaps' ranges and
 * the ones vigil intercepts land here. vigil never executes an MSR access
 * it has not vetted: what the hardware would refuse, or what would reach
 * into VMX or vigil's own state, becomes #GP in the guest. */
#include "vmm/exit.h"
#include "vmm/ipi.h"
#include "vmm/vmx.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static bool canonical(u64 a) { return (u64)((s64)(a << 16) >> 16) == a; }

static bool mtrr_msr(u32 m)
{
    return (m >= 0x200 && m < 0x220) || m == 0x250 || m == 0x258 || m == 0x259 ||
           (m >= 0x268 && m <= 0x26f) || m == 0x2ff;
}

enum exit_action exit_rdmsr(struct vcpu *v)
{
    u32 msr = (u32)v->regs->rcx;
    u64 val;
    if (msr == MSR_IA32_FEATURE_CONTROL)
        val = (rdmsr(MSR_IA32_FEATURE_CONTROL) & ~6ull) | 1;   /* locked, VMX off: as a CPU without it */
    else {
        vcpu_inject_gp();          /* VMX capability MSRs, SMM monitor, or no such MSR */
        return EXIT_RESUME;
    }
    v->regs->rax = (u32)val;
    v->regs->rdx = val >> 32;
    return EXIT_ADVANCE;
}

static bool efer_write(u64 val)
{
    u32 a, b, c, d;
    cpuid(0x80000001, 0, &a, &b, &c, &d);
    u64 allowed = EFER_LMA | (d >> 11 & 1 ? EFER_SCE : 0) | (d >> 20 & 1 ? EFER_NXE : 0) |
                  (d >> 29 & 1 ? EFER_LME : 0);
    u64 old = vmread(GUEST_IA32_EFER);
    bool paging = guest_cr0_visible() >> 31 & 1;
    if ((val & ~allowed) || (paging && ((val ^ old) & EFER_LME)))
        return false;
    vmwrite(GUEST_IA32_EFER, (val & ~EFER_LMA) | (old & EFER_LMA));   /* LMA is the CPU's to set */
    return true;
}

/* The guest's present value of an MSR whose writes vigil emulates. */
static bool guest_msr(u32 msr, u64 *val)
{
    switch (msr) {
    case MSR_IA32_EFER: *val = vmread(GUEST_IA32_EFER); return true;
    case MSR_IA32_STAR: case MSR_IA32_LSTAR: case MSR_IA32_CSTAR: *val = rdmsr(msr); return true;
    case MSR_IA32_SYSENTER_CS: *val = vmread(GUEST_SYSENTER_CS); return true;
    case MSR_IA32_SYSENTER_ESP: *val = vmread(GUEST_SYSENTER_ESP); return true;
    case MSR_IA32_SYSENTER_EIP: *val = vmread(GUEST_SYSENTER_EIP); return true;
    }
    return false;
}

bool msr_write_virtualized(u32 msr)
{
    u64 v;
    return guest_msr(msr, &v);
}

enum exit_action exit_wrmsr(struct vcpu *v)
{
    u32 msr = (u32)v->regs->rcx;
    u64 val = (v->regs->rdx << 32) | (u32)v->regs->rax;
    bool ok = true;
    static bool told_mtrr, told_ucode;

    if (ipi_wrmsr(msr, val, &ok)) {             /* the x2APIC ICR and the APIC base (ipi.c) */
        if (!ok)
            vcpu_inject_gp();
        return ok ? EXIT_ADVANCE : EXIT_RESUME;
    }
    /* A write the IDS trapped is judged before it takes effect. */
    const struct trap_msr *t = trap_msr_find(vmm_traps(), msr);
    if (t) {
        struct ids_event e;
        vmm_fill_event(&e, IDS_EV_MSR_WRITE);
        e.owner = t->owner;
        e.msr.msr = msr;
        e.msr.value = val;
        guest_msr(msr, &e.msr.old);
        struct ids_verdict verdict = ids_event(&e);
        if (verdict.action != IDS_ALLOW)
            return vmm_verdict_suspend(v, verdict, EXIT_ADVANCE);   /* the MSR keeps its value */
    }

    switch (msr) {
    case MSR_IA32_EFER:
        ok = efer_write(val);
        break;
    case MSR_IA32_STAR:
        wrmsr(msr, val);           /* not used by vigil: the guest's value lives in the MSR */
        break;
    case MSR_IA32_LSTAR:
    case MSR_IA32_CSTAR:
        ok = canonical(val);
        if (ok)
            wrmsr(msr, val);
        break;
    case MSR_IA32_SYSENTER_CS:
        vmwrite(GUEST_SYSENTER_CS, val & 0xffffffff);
        break;
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
        ok = canonical(val);
        if (ok)
            vmwrite(msr == MSR_IA32_SYSENTER_ESP ? GUEST_SYSENTER_ESP : GUEST_SYSENTER_EIP, val);
        break;
    case 0x079:
        if (!told_ucode) {
            told_ucode = true;
            kprintf("vigil: guest microcode update request ignored\n");
        }
        break;
    default:
        if (mtrr_msr(msr)) {
            if (!told_mtrr) {
                told_mtrr = true;
                kprintf("vigil: guest MTRR writes are ignored (MSR 0x%x): memory types are vigil's\n", msr);
            }
            break;
        }
        ok = false;                /* feature control, VMX MSRs, SMM monitor, or no such MSR */
        break;
    }
    if (!ok) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    return EXIT_ADVANCE;
}
