/* The guest's interprocessor interrupts, with more than one vCPU.
 *
 * INIT and SIPI are how one CPU starts or resets another, so with several
 * vCPUs they pass through vigil: the guest's writes of its local APIC's
 * page are write-protected in EPT and emulated here (xAPIC), and its
 * writes of the x2APIC ICR (MSR 0x830) are intercepted. Every other write,
 * and every other IPI, reaches the APIC as the guest wrote it.
 *
 * - INIT to a vCPU: vigil resets that vCPU itself (vmcs_guest_init_state on
 *   its own CPU, asked for with a kick). The INIT never reaches the
 *   processor, which is in VMX operation: there INIT would be held or be a
 *   VM exit, and Bochs 2.7 never clears one (docs/testing.md). A vCPU that
 *   already waits for SIPI is left alone, as INIT would leave it. INIT for
 *   vCPU 0 is refused: vigil does not reset guests. INIT level de-assert is
 *   a no-op on every processor since the Pentium 4, and is dropped.
 * - SIPI to a vCPU: a vCPU waiting for SIPI in the guest gets a real SIPI
 *   (a SIPI VM exit on that CPU starts it: exit.c). A vCPU that vigil has
 *   reset waits for its SIPI in vigil, and the SIPI is posted to it
 *   (ipi_guest_signals). A running vCPU ignores SIPI.
 * - CPUs that are not the guest's (parked beyond cpus=N) get neither.
 * - The guest's ICR high half (the destination) is kept per CPU, because
 *   vigil sends IPIs of its own through the same register.
 *
 * Destinations: physical APIC IDs and the shorthands. A logical destination
 * is taken as "every other vCPU" for INIT and SIPI (operating systems start
 * CPUs by physical ID). */
#include "vmm/ipi.h"
#include "vmm/ept.h"
#include "vmm/exit.h"
#include "vmm/smp.h"
#include "vmm/vmx.h"
#include "vmm/vmx_setup.h"
#include "vmm/hvmem.h"
#include "vmm/tsc.h"
#include "arch/x86_64/cpu.h"
#include "lib/insn.h"
#include "lib/log.h"

#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_ICR 0x830
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310

#define DM_INIT 5
#define DM_SIPI 6

static bool on;
static u64 apic_gpa;                     /* the guest's xAPIC page (its IA32_APIC_BASE) */
static u64 apic_base_msr;                /* its IA32_APIC_BASE as vigil found it */
static u32 told_insn, told_base, told_bsp;

static void *one_page(void) { return hv_alloc_pages(1, 1); }

void ipi_init(u64 *ept_pml4)
{
    if (ncpus < 2)
        return;
    apic_base_msr = rdmsr(MSR_APIC_BASE);
    apic_gpa = apic_base_msr & 0xffffff000ull;
    if (!ept_restrict(ept_pml4, apic_gpa, EPT_W | EPT_X, one_page))
        vigil_panic("EPT: cannot write-protect the local APIC page at 0x%llx for the guest's IPIs",
                    (unsigned long long)apic_gpa);
    msr_intercept(MSR_X2APIC_ICR, false, true);
    msr_intercept(MSR_APIC_BASE, false, true);
    on = true;
    kprintf("vigil: IPIs: the guest's INIT and SIPI pass through vigil (local APIC page 0x%llx write-protected, "
            "x2APIC ICR intercepted)\n", (unsigned long long)apic_gpa);
}

bool ipi_apic_page(u64 gpa) { return on && (gpa & ~0xfffull) == apic_gpa; }

static bool is_target(const struct cpu *c, const struct cpu *me, u32 icr, u32 dest, bool x2apic)
{
    switch (icr >> 18 & 3) {
    case 1: return c == me;
    case 2: return true;
    case 3: return c != me;
    }
    if (icr & (1u << 11))                /* logical destination: see the top of the file */
        return c != me;
    u32 all = x2apic ? 0xffffffffu : 0xffu;
    return dest == all || c->apic_id == dest;
}

/* INIT or SIPI for one vCPU. */
static void signal_vcpu(struct cpu *t, u32 icr)
{
    bool init = (icr >> 8 & 7) == DM_INIT;
    if (init && t->index == 0) {
        if (told_bsp++ < 4)
            kprintf("vigil: refused the guest's INIT for vCPU 0 (its boot CPU): vigil does not reset guests\n");
        return;
    }
    spin_lock(&t->sig_lock);
    if (init && t->parked) {
        t->sipi_req = 0;                 /* reset already, waiting in vigil: a SIPI not yet taken is void */
    } else if (init) {
        if (t->mode != GM_WAIT_SIPI || t->init_req) {
            t->init_req = true;
            t->sipi_req = 0;
            if (t != this_cpu())
                smp_kick(t);             /* it resets itself at this exit */
        }
    } else if (t->init_req || t->parked) {
        t->sipi_req = 0x100 | (icr & 0xff);  /* posted: it starts itself */
    } else if (t->mode == GM_WAIT_SIPI) {
        smp_lapic_send(t->apic_id, 0x4600u | (icr & 0xff));   /* SIPI, physical, to it alone */
    }
    spin_unlock(&t->sig_lock);
}

static void send(u32 icr, u32 dest, bool x2apic)
{
    u32 dm = icr >> 8 & 7;
    if (dm != DM_INIT && dm != DM_SIPI) {
        smp_lapic_send(dest, icr);
        return;
    }
    if (dm == DM_INIT && !(icr & (1u << 14)))
        return;                          /* INIT level de-assert */
    struct cpu *me = this_cpu();
    for (u32 i = 0; i < ncpus; i++)
        if (is_target(&cpus[i], me, icr, dest, x2apic))
            signal_vcpu(&cpus[i], icr);
}

enum exit_action ipi_guest_signals(struct cpu *c, struct vcpu *v, enum exit_action act)
{
    if (!c->init_req)
        return act;
    spin_lock(&c->sig_lock);
    u32 sipi = c->sipi_req;
    c->init_req = false;
    c->sipi_req = 0;
    c->parked = !sipi;
    spin_unlock(&c->sig_lock);
    vmcs_guest_init_state();
    kprintf("vigil: vCPU %u reset by the guest's INIT\n", v->id);
    if (!sipi) {
        /* Its SIPI is posted to it here, not sent: a real SIPI reaches a
         * CPU only once it waits in the guest, and would be lost in the
         * moments before its VM entry. A second (1 s of TSC) without one
         * and it waits for SIPI in the guest, where a real one starts it. */
        u64 t0 = rdtsc(), wait = tsc_hz();
        while (!c->sipi_req && rdtsc() - t0 < wait)
            cpu_relax();
        spin_lock(&c->sig_lock);
        sipi = c->sipi_req;
        c->sipi_req = 0;
        c->parked = false;
        spin_unlock(&c->sig_lock);
    }
    return sipi ? vcpu_start(v, (u8)sipi) : act;
}

/* The store at RIP that wrote the APIC page (lib/insn.c: 32-bit MOV or
 * XCHG, as compilers and Linux's apic_write emit them). */
static bool decode_store(struct insn_store *st)
{
    u8 code[15];
    bool x64 = vmread(GUEST_CS_AR) >> 13 & 1;
    u64 la = (x64 ? 0 : vmread(GUEST_CS_BASE)) + vmread(GUEST_RIP);
    /* To the end of its page, then the rest from the next page if that is
     * mapped (the instruction may end before a page it cannot reach). */
    u32 first = 4096 - (u32)(la & 0xfff), n = first < sizeof(code) ? first : sizeof(code);
    if (!guest_linear(la, code, n, false))
        return false;
    if (n < sizeof(code) && guest_linear(la + n, code + n, sizeof(code) - n, false))
        n = sizeof(code);
    return insn_store32(code, n, x64 ? INSN_MODE_64 : INSN_MODE_32, st);
}

enum exit_action ipi_apic_write(struct vcpu *v, u64 gpa)
{
    u32 off = gpa & 0xfff;
    struct insn_store st;
    if ((off & 3) || !decode_store(&st)) {
        if (told_insn++ < 4)
            kprintf("vigil: refused a write of the local APIC page at 0x%llx (rip 0x%llx): not a 32-bit MOV or "
                    "XCHG vigil can carry out\n", (unsigned long long)gpa, (unsigned long long)vmread(GUEST_RIP));
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    u32 val = st.src_reg < 0 ? st.imm : (u32)guest_gpr(v, (u32)st.src_reg);
    volatile u32 *reg = (volatile u32 *)(apic_gpa + off);
    if (st.xchg)
        guest_set_gpr(v, (u32)st.src_reg, *reg);
    struct cpu *c = this_cpu();
    if (off == APIC_ICR_HI)
        c->guest_icr_hi = val;
    if (off == APIC_ICR_LO)
        send(val, c->guest_icr_hi >> 24, false);
    else
        *reg = val;
    vcpu_skip_insn(st.len);
    return EXIT_RESUME;
}

bool ipi_wrmsr(u32 msr, u64 val, bool *ok)
{
    if (!on || (msr != MSR_X2APIC_ICR && msr != MSR_APIC_BASE))
        return false;
    u64 cur = rdmsr(MSR_APIC_BASE);
    if (msr == MSR_X2APIC_ICR) {
        *ok = cur & APIC_BASE_EXTD;      /* the x2APIC ICR exists only in x2APIC mode */
        if (*ok)
            send((u32)val, (u32)(val >> 32), true);
        return true;
    }
    /* The base may not move (EPT guards it there), nor may the APIC be
     * turned off: vigil's CPUs signal each other through it. Entering
     * x2APIC mode is the guest's to do. */
    u64 keep = 0xffffff000ull | APIC_BASE_EN;
    *ok = (val & keep) == (apic_base_msr & keep);
    if (*ok)
        wrmsr(MSR_APIC_BASE, val);
    else if (told_base++ < 4)
        kprintf("vigil: refused the guest's IA32_APIC_BASE write 0x%llx: with several vCPUs the local APIC stays "
                "enabled at 0x%llx\n", (unsigned long long)val, (unsigned long long)apic_gpa);
    return true;
}
