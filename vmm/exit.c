/* VM-exit dispatch: a bounds-checked table indexed by the basic exit reason
 * (Intel SDM Vol. 3, Appendix C), one handler each, and a fallback that dumps
 * everything and suspends the guest. Handlers never allocate. */
#include "vmm/exit.h"
#include "vmm/ipi.h"
#include "vmm/exit_reasons.h"
#include "vmm/vmx.h"
#include "vmm/vmx_setup.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/fmt.h"
#include "vmm/introspect.h"
#include "vmm/tsc.h"
#include "vmm/smp.h"
#include "lib/rand.h"


/* --- helpers shared by handlers ------------------------------------------ */

void vcpu_inject_exception(u8 vector, bool has_error, u32 error)
{
    /* No error code is delivered in real mode (CR0.PE = 0, SDM 26.2.1.3). */
    if (!(vmread(GUEST_CR0) & 1))
        has_error = false;
    vmwrite(VM_ENTRY_INTR_INFO, INTR_VALID | INTR_TYPE_HW_EXC | vector | (has_error ? INTR_ERRCODE : 0));
    if (has_error)
        vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
}

void vcpu_inject_gp(void) { vcpu_inject_exception(13, true, 0); }
void vcpu_inject_ud(void) { vcpu_inject_exception(6, false, 0); }

_Static_assert(R_XRSTORS < EXIT_REASON_COUNT, "every named exit reason has a slot");

void vcpu_advance_rip(void) { vcpu_skip_insn((u32)vmread(VM_EXIT_INSTRUCTION_LEN)); }

void vcpu_skip_insn(u32 len)
{
    vmwrite(GUEST_RIP, vmread(GUEST_RIP) + len);
    /* The instruction completed: STI and MOV-SS blocking end with it, and a
     * single-step trap is due (SDM 26.3.1.5, 27.3.4). */
    u64 intr = vmread(GUEST_INTERRUPTIBILITY);
    if (intr & 3)
        vmwrite(GUEST_INTERRUPTIBILITY, intr & ~3ull);
    if (vmread(GUEST_RFLAGS) & (1u << 8))
        vmwrite(GUEST_PENDING_DBG, vmread(GUEST_PENDING_DBG) | (1u << 14));
}

/* struct guest_regs is what vmexit.asm pushes: RAX at the lowest address,
 * R15 at the highest, 15 quadwords. */
#define GREG(r) __builtin_offsetof(struct guest_regs, r)
_Static_assert(sizeof(struct guest_regs) == 15 * 8, "vmexit.asm: PUSH_GUEST pushes 15 registers");
_Static_assert(GREG(rax) == 0 && GREG(rcx) == 8 && GREG(rdx) == 16 && GREG(rbx) == 24 && GREG(rbp) == 32 &&
               GREG(rsi) == 40 && GREG(rdi) == 48, "vmexit.asm: push order rax..rdi");
_Static_assert(GREG(r8) == 56 && GREG(r9) == 64 && GREG(r10) == 72 && GREG(r11) == 80 && GREG(r12) == 88 &&
               GREG(r13) == 96 && GREG(r14) == 104 && GREG(r15) == 112, "vmexit.asm: push order r8..r15");

/* Register number (as exit qualifications and instruction information give
 * it: 0 RAX ... 4 RSP ... 15 R15) to its offset in struct guest_regs; RSP
 * lives in the VMCS. */
static const u8 gpr_off[16] = { GREG(rax), GREG(rcx), GREG(rdx), GREG(rbx), 0xff, GREG(rbp), GREG(rsi), GREG(rdi),
                                GREG(r8), GREG(r9), GREG(r10), GREG(r11), GREG(r12), GREG(r13), GREG(r14),
                                GREG(r15) };

u64 guest_gpr(struct vcpu *v, u32 n)
{
    if ((n & 15) == 4)
        return vmread(GUEST_RSP);
    return *(u64 *)((u8 *)v->regs + gpr_off[n & 15]);
}

void guest_set_gpr(struct vcpu *v, u32 n, u64 val)
{
    if ((n & 15) == 4) {
        vmwrite(GUEST_RSP, val);
        return;
    }
    *(u64 *)((u8 *)v->regs + gpr_off[n & 15]) = val;
}

void vmm_fill_event(struct ids_event *e, enum ids_event_type t)
{
    memset(e, 0, sizeof(*e));
    e->type = t;
    e->vcpu = this_cpu()->index;
    e->rip = vmread(GUEST_RIP);
    e->cr3 = vmread(GUEST_CR3);
    e->cpl = (u8)(vmread(GUEST_SS_AR) >> 5 & 3);        /* CPL is SS.DPL */
    e->long_mode = (vmread(GUEST_CS_AR) >> 13 & 1) && (vmread(GUEST_IA32_EFER) >> 10 & 1);
}

enum exit_action vmm_verdict_suspend(struct vcpu *v, struct ids_verdict verdict, enum exit_action done)
{
    if (verdict.action != IDS_SUSPEND)
        return done;
    if (done == EXIT_ADVANCE)
        vcpu_advance_rip();                      /* the refused instruction is behind the guest */
    fmt_snprintf(v->reason_buf, sizeof(v->reason_buf), "IDS policy %s", verdict.reason ? verdict.reason : "?");
    v->suspend_reason = v->reason_buf;
    return EXIT_SUSPEND;
}

void vmm_reach(struct vcpu *v, enum ids_reach what, u64 addr, const char *detail, enum exit_action *act)
{
    struct ids_event e;
    vmm_fill_event(&e, IDS_EV_HV_REACH);
    e.reach.what = what;
    e.reach.addr = addr;
    e.reach.detail = detail;
    *act = vmm_verdict_suspend(v, ids_event(&e), *act);
}

/* --- handlers ------------------------------------------------------------- */

static enum exit_action h_unexpected(struct vcpu *v);

static enum exit_action h_cpuid(struct vcpu *v)
{
    struct guest_regs *r = v->regs;
    u32 leaf = (u32)r->rax, sub = (u32)r->rcx, a, b, c, d;
    if (leaf >= 0x40000000 && leaf <= 0x400000ff) {
        /* The hypervisor leaves: 0x40000000 names vigil. */
        a = b = c = d = 0;
        if (leaf == 0x40000000) {
            a = 0x40000001;
            memcpy(&b, "vigi", 4);
            memcpy(&c, "l-hv", 4);
            memcpy(&d, "-ids", 4);
        }
    } else {
        cpuid(leaf, sub, &a, &b, &c, &d);
        if (leaf == 1) {
            c &= ~(1u << 5);          /* VMX: vigil does not offer nested VT-x */
            c &= ~(1u << 6);          /* SMX: GETSEC is refused */
            c |= 1u << 31;            /* a hypervisor is present */
        } else if (leaf == 0xd && sub == 1) {
            a &= ~(1u << 3);          /* XSAVES/XRSTORS are not enabled for the guest */
        }
    }
    r->rax = a;
    r->rbx = b;
    r->rcx = c;
    r->rdx = d;
    return EXIT_ADVANCE;
}

static enum exit_action h_hlt(struct vcpu *v)
{
    /* An application processor may halt with interrupts off (an OS parks
     * its idle or offline CPUs so): NMI, INIT and SIPI still reach it. */
    if ((vmread(GUEST_RFLAGS) & (1u << 9)) || v->id) {
        /* Let the guest wait for its interrupt in HLT state (SDM 26.4.2). */
        vcpu_advance_rip();
        vmwrite(GUEST_ACTIVITY_STATE, 1);
        return EXIT_RESUME;
    }
    kprintf("vigil: guest executed HLT with interrupts disabled at rip 0x%llx: it has stopped for good\n",
            (unsigned long long)vmread(GUEST_RIP));
    v->suspend_reason = "guest halted with interrupts disabled";
    return EXIT_DEAD;
}

static enum exit_action h_ud(struct vcpu *v)
{
    u32 reason = (u32)vmread(EXIT_REASON) & 0xffff;
    vcpu_inject_ud();               /* VMX instructions and VMCALL: as a CPU without VMX */
    enum exit_action act = EXIT_RESUME;
    vmm_reach(v, reason == R_VMCALL ? REACH_VMCALL : REACH_VMX_INSN, 0, exit_reason_name(reason), &act);
    return act;
}

static enum exit_action h_invd(struct vcpu *v)
{
    (void)v;
    /* INVD would throw away vigil's dirty cache lines: write them back. */
    __asm__ volatile("wbinvd" ::: "memory");
    return EXIT_ADVANCE;
}

static enum exit_action h_xsetbv(struct vcpu *v)
{
    struct guest_regs *r = v->regs;
    u64 val = (r->rdx << 32) | (u32)r->rax;
    u32 a, b, c, d;
    if (!(guest_cr4_visible() & (1u << 18))) {        /* CR4.OSXSAVE */
        vcpu_inject_ud();
        return EXIT_RESUME;
    }
    cpuid(0xd, 0, &a, &b, &c, &d);
    u64 supported = ((u64)d << 32) | a;
    bool ok = (u32)r->rcx == 0 && (vmread(GUEST_CS_AR) >> 5 & 3) == 0 &&
              (val & 1) && !(val & ~supported) &&
              (!(val & 4) || (val & 2)) &&                          /* AVX needs SSE */
              ((val >> 3 & 1) == (val >> 4 & 1)) &&                 /* MPX: both or neither */
              (!(val & 0xe0) || ((val & 0xe0) == 0xe0 && (val & 4)));/* AVX-512: all three, and AVX */
    if (!ok) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    __asm__ volatile("xsetbv" :: "c"(0), "a"((u32)val), "d"((u32)(val >> 32)));
    return EXIT_ADVANCE;
}

static enum exit_action h_triple_fault(struct vcpu *v)
{
    kprintf("vigil: GUEST CRASH: triple fault (the guest could not deliver an exception)\n");
    vmm_dump_state();
    v->suspend_reason = "guest triple fault";
    return EXIT_DEAD;
}

/* INIT to an application processor resets it into the wait-for-SIPI
 * state, as the hardware would (INIT is blocked in VMX root operation, and
 * a vCPU waiting for SIPI is not interrupted by another INIT). The boot
 * CPU is not reset: vigil does not reboot guests. */
static enum exit_action h_init(struct vcpu *v)
{
    if (v->id) {
        /* The INIT of the guest's INIT-SIPI-SIPI, sent while this vCPU
         * waited for SIPI, is held pending there (wait-for-SIPI blocks INIT,
         * SDM 26.2) and exits right after the SIPI's exit, before the
         * started CPU has run an instruction. It is the INIT that came
         * first: the vCPU was already in the state it asks for. */
        if (v->sipi_fresh && vmread(GUEST_RIP) == 0)
            return EXIT_RESUME;
        vmcs_guest_init_state();
        return EXIT_RESUME;
    }
    kprintf("vigil: INIT signal for the guest's boot CPU: vigil does not reset guests\n");
    v->suspend_reason = "INIT signal (guest reset)";
    return EXIT_DEAD;
}

/* A SIPI reaches a vCPU only in the wait-for-SIPI state: it starts in real
 * mode at the vector's page, under the same EPT and IDS as every vCPU. */
enum exit_action vcpu_start(struct vcpu *v, u8 vector)
{
    vmcs_guest_sipi(vector);
    /* Bochs leaves the NMI and SMI masking of wait-for-SIPI in place after
     * the SIPI's exit: an IRET in VMX root operation ends NMI blocking (as
     * it does on hardware, where nothing is blocked here anyway), so that
     * vigil's kicks reach this CPU. */
    smp_end_root_nmi_blocking();
    kprintf("vigil: vCPU %u started by the guest (SIPI vector 0x%x: real mode at 0x%x)\n", v->id, vector,
            (u32)vector << 12);
    struct ids_event e;
    vmm_fill_event(&e, IDS_EV_VCPU_START);
    return vmm_verdict_suspend(v, ids_event(&e), EXIT_RESUME);
}

static enum exit_action h_sipi(struct vcpu *v)
{
    return vcpu_start(v, (u8)vmread(EXIT_QUALIFICATION));
}

/* The periodic tick (TICK_HZ, 10 ms): IDS periodic checks and the operator's input.
 * Driven by TSC time checked on every exit; the preemption timer only makes
 * sure an exit comes. (It restarts on each VM entry, so a guest that exits
 * often would starve a timer-only tick; Bochs's does not run in HLT state.) */
static u64 tick_period;                         /* TSC cycles; set on the first exit */

static enum exit_action tick(struct vcpu *v, u64 now)
{
    v->last_tick = now;
    v->preempt_ticks++;
    struct ids_event e;
    vmm_fill_event(&e, IDS_EV_TICK);
    enum exit_action act = vmm_verdict_suspend(v, ids_event(&e), EXIT_RESUME);
    if (act == EXIT_RESUME && vcpu_operator_poll(v))
        act = EXIT_SUSPEND;
    return act;
}

/* Random-time samples (vmm_random_samples): exponentially spaced, so that
 * one seen tells the guest nothing of the next. Each vCPU draws its own from
 * a generator seeded from RDRAND (where the CPU has it) and the TSC, in
 * vigil's memory. */
static u64 sample_mean;                         /* TSC cycles; 0: no samples */
static u64 sample_seed;

static inline bool rdrand64(u64 *r)
{
    u8 ok;
    __asm__ volatile("rdrand %0; setc %1" : "=r"(*r), "=qm"(ok));
    return ok;
}

void vmm_random_samples(u64 mean_us)
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    u64 r = 0;
    bool hw = c & (1u << 30);                    /* CPUID.1:ECX.RDRAND */
    for (int i = 0; hw && i < 10 && !rdrand64(&r); i++)
        ;
    sample_seed = r ^ rdtsc();
    sample_mean = tsc_hz() / 1000000 * mean_us;
    kprintf("vigil: random-time samples every %llu us on average (exponential intervals; seed from %s)\n",
            (unsigned long long)mean_us, hw ? "RDRAND and the TSC" : "the TSC: the CPU has no RDRAND");
}

static enum exit_action sample(struct vcpu *v, u64 now)
{
    if (!v->rng)
        v->rng = sample_seed ^ (0x9e3779b97f4a7c15ull * (v->id + 1)) ^ now;
    v->next_sample = now + rand_exp_interval(rand_next(&v->rng), sample_mean, 8);
    struct ids_event e;
    vmm_fill_event(&e, IDS_EV_SAMPLE);
    return vmm_verdict_suspend(v, ids_event(&e), EXIT_RESUME);
}

static enum exit_action h_preempt(struct vcpu *v)
{
    vmm_step_expire();                   /* a window the guest ran past (an exception in the step) closes */
    u64 now = rdtsc();
    if (sample_mean && now - v->last_tick < tick_period)
        return EXIT_RESUME;              /* the timer was a sample's (taken below) */
    return tick(v, now);
}

/* A fetch the execute watch judges: allowed, its page may execute from now
 * on (until the grants are taken back); refused, the fetch faults as from
 * a no-execute page (#PF, error code present + instruction fetch, + user
 * in ring 3, CR2 the address), or as from a not-present page when the IDS
 * asks (IDS_FETCH_NOT_PRESENT). */
static enum exit_action exec_watch(struct vcpu *v, u64 q, u64 gpa, u32 owner)
{
    struct ids_event e;
    vmm_fill_event(&e, IDS_EV_EPT);
    e.owner = owner;
    e.ept.gpa = gpa;
    e.ept.gva_valid = q >> 7 & 1;
    e.ept.gva = e.ept.gva_valid ? vmread(GUEST_LINEAR_ADDRESS) : vmread(GUEST_RIP);
    e.ept.access = IDS_EXEC;
    struct ids_verdict verdict = ids_event(&e);
    if (verdict.action == IDS_ALLOW) {
        if (vmm_exec_grant(gpa))
            return EXIT_RESUME;
        v->suspend_reason = "the execute watch has no EPT table left";
        return EXIT_SUSPEND;
    }
    u64 cr2 = e.ept.gva;
    __asm__ volatile("mov %0, %%cr2" ::"r"(cr2));
    u32 present = verdict.skip_len & IDS_FETCH_NOT_PRESENT ? 0 : 1;
    vcpu_inject_exception(14, true, 0x10 | present | (e.cpl == 3 ? 4 : 0));
    return vmm_verdict_suspend(v, verdict, EXIT_RESUME);
}

static enum exit_action h_ept_violation(struct vcpu *v)
{
    u64 q = vmread(EXIT_QUALIFICATION), gpa = vmread(GUEST_PHYSICAL_ADDRESS);
    const char *what = q & 2 ? "write" : q & 4 ? "instruction fetch" : "read";
    if ((q & 2) && ipi_apic_page(gpa))
        return ipi_apic_write(v, gpa);                           /* the guest's IPIs (ipi.c) */
    u32 owner;
    if ((q & 4) && (q & 1 << 3) && vmm_exec_watched(gpa, &owner))   /* a fetch from a readable page the watch holds */
        return exec_watch(v, q, gpa, owner);
    if (vmm_ept_is_protected(gpa)) {
        /* A page the IDS trapped. The subscription holding this byte for
         * this access judges it; a byte of the page that none holds (the
         * page around a small object) goes through unjudged. */
        u32 access = (q & 1 ? IDS_READ : 0) | (q & 2 ? IDS_WRITE : 0) | (q & 4 ? IDS_EXEC : 0);
        const struct trap_page *t = trap_page_find(vmm_traps(), gpa, access);
        if (!t) {
            vmm_step_through(gpa);
            return EXIT_RESUME;
        }
        struct ids_event e;
        vmm_fill_event(&e, IDS_EV_EPT);
        e.owner = t->owner;
        e.ept.gpa = gpa;
        e.ept.gva_valid = q >> 7 & 1;
        e.ept.gva = e.ept.gva_valid ? vmread(GUEST_LINEAR_ADDRESS) : 0;
        e.ept.access = access;
        struct ids_verdict verdict = ids_event(&e);
        if (verdict.action == IDS_ALLOW) {
            vmm_step_through(gpa);           /* let this one instruction through */
            if (verdict.skip_len & IDS_RECHECK)
                vmm_step_recheck(gpa, t->owner);
            return EXIT_RESUME;
        }
        /* Block: the write never happens; the instruction is skipped when
         * its length is known, else it faults (#GP) like a refused access. */
        if (verdict.skip_len) {
            vcpu_skip_insn(verdict.skip_len);
        } else {
            vcpu_inject_gp();
        }
        return vmm_verdict_suspend(v, verdict, EXIT_RESUME);
    }
    /* Unmapped GPAs are vigil's memory or beyond what exists: refuse with
     * #GP at the faulting instruction, as a bus with nothing there would. */
    if (v->hv_mem_refusals++ < 16)
        kprintf("vigil: refused guest %s of hypervisor or unmapped memory: gpa 0x%llx gva 0x%llx rip 0x%llx\n",
                what, (unsigned long long)gpa, (unsigned long long)(q & (1u << 7) ? vmread(GUEST_LINEAR_ADDRESS) : 0),
                (unsigned long long)vmread(GUEST_RIP));
    if ((q & (1u << 12)) && !(vmread(IDT_VECTORING_INFO) & INTR_VALID))
        vmwrite(GUEST_INTERRUPTIBILITY, vmread(GUEST_INTERRUPTIBILITY) | 8);  /* re-block NMIs (SDM 27.2.3) */
    vcpu_inject_gp();
    enum exit_action act = EXIT_RESUME;
    if (vmm_is_hypervisor_memory(gpa, gpa + 1))
        vmm_reach(v, REACH_MEMORY, gpa, what, &act);
    return act;
}

/* An exception the stepped instruction raised while the window was open
 * (every exception exits then): delivered to the guest as the CPU would
 * have, now that the page is closed again. */
static enum exit_action deliver_exit_exception(u32 info)
{
    u32 type = info & (7u << 8), vector = info & 0xff;
    if (vector == 14) {
        u64 cr2 = vmread(EXIT_QUALIFICATION);       /* a #PF exit leaves CR2 alone (SDM 27.1) */
        __asm__ volatile("mov %0, %%cr2" ::"r"(cr2));
    }
    vmwrite(VM_ENTRY_INTR_INFO, INTR_VALID | type | vector | (info & INTR_ERRCODE));
    if (info & INTR_ERRCODE)
        vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, vmread(VM_EXIT_INTR_ERROR_CODE));
    if (type == INTR_TYPE_SW_EXC || type == INTR_TYPE_PRIV_SW_EXC)
        vmwrite(VM_ENTRY_INSTRUCTION_LEN, vmread(VM_EXIT_INSTRUCTION_LEN));
    if ((info & (1u << 12)) && vector != 8)
        vmwrite(GUEST_INTERRUPTIBILITY, vmread(GUEST_INTERRUPTIBILITY) | 8);  /* NMI unblocked by IRET: re-block (SDM 27.2.3) */
    return EXIT_RESUME;
}

static enum exit_action h_exception(struct vcpu *v)
{
    u32 info = (u32)vmread(VM_EXIT_INTR_INFO);
    if ((info & (7u << 8)) == INTR_TYPE_NMI) {
        /* NMI exiting (more than one vCPU, or a step window): vigil's own
         * kick, or the guest's NMI, which is delivered to it at this entry
         * (a window closes first: the instruction runs again after it). */
        vmm_step_abort();
        smp_nmi_exit(this_cpu());
        return EXIT_RESUME;
    }
    if ((info & 0xff) == 1 && vmm_step_done())
        return EXIT_RESUME;                  /* the allowed write went through; page closed again */
    if (vmm_step_abort())
        return deliver_exit_exception(info);
    return h_unexpected(v);
}

/* External-interrupt exiting is on only in a step window: the interrupt
 * (not acknowledged) is delivered once the window is closed, and the
 * instruction runs again after its handler. */
static enum exit_action h_ext_int(struct vcpu *v)
{
    if (vmm_step_abort())
        return EXIT_RESUME;
    return h_unexpected(v);
}

static enum exit_action h_ept_misconfig(struct vcpu *v)
{
    kprintf("vigil: EPT misconfiguration at gpa 0x%llx: a bug in vigil's EPT\n",
            (unsigned long long)vmread(GUEST_PHYSICAL_ADDRESS));
    vmm_dump_state();
    v->suspend_reason = "EPT misconfiguration";
    return EXIT_DEAD;
}

static enum exit_action h_unexpected(struct vcpu *v)
{
    u32 reason = (u32)vmread(EXIT_REASON) & 0xffff;
    kprintf("vigil: unexpected VM exit %u (%s), qualification 0x%llx\n", reason, exit_reason_name(reason),
            (unsigned long long)vmread(EXIT_QUALIFICATION));
    vmm_dump_state();
    v->suspend_reason = "unexpected VM exit";
    return EXIT_SUSPEND;
}

static const exit_handler handlers[EXIT_REASON_COUNT] = {
    [R_EXCEPTION] = h_exception,
    [R_EXT_INT] = h_ext_int,
    [R_TRIPLE_FAULT] = h_triple_fault,
    [R_INIT] = h_init,
    [R_SIPI] = h_sipi,
    [R_CPUID] = h_cpuid,
    [R_GETSEC] = h_ud,
    [R_HLT] = h_hlt,
    [R_INVD] = h_invd,
    [R_VMCALL] = h_ud, [R_VMCLEAR] = h_ud, [R_VMLAUNCH] = h_ud, [R_VMPTRLD] = h_ud,
    [R_VMPTRST] = h_ud, [R_VMREAD] = h_ud, [R_VMRESUME] = h_ud, [R_VMWRITE] = h_ud,
    [R_VMXOFF] = h_ud, [R_VMXON] = h_ud, [R_INVEPT] = h_ud, [R_INVVPID] = h_ud, [R_VMFUNC] = h_ud,
    [R_CR] = exit_cr_access,
    [R_IO] = exit_io,
    [R_RDMSR] = exit_rdmsr,
    [R_WRMSR] = exit_wrmsr,
    [R_DTR] = exit_gdtr_idtr,
    [R_LDTR_TR] = exit_ldtr_tr,
    [R_EPT_VIOLATION] = h_ept_violation,
    [R_EPT_MISCONFIG] = h_ept_misconfig,
    [R_PREEMPT] = h_preempt,
    [R_WBINVD] = h_invd,
    [R_XSETBV] = h_xsetbv,
};

void vmexit_dispatch(struct guest_regs *regs);
void vmresume_failed(struct guest_regs *regs);

void vmexit_dispatch(struct guest_regs *regs)
{
    struct cpu *c = this_cpu();
    c->mode = GM_ROOT;
    struct vcpu *v = &c->vcpu;
    u64 t0 = rdtsc(), op0 = v->operator_cycles;
    v->regs = regs;
    u32 full = (u32)vmread(EXIT_REASON), reason = full & 0xffff;
    v->exits++;

    if (full & (1u << 31)) {                        /* VM-entry failure (SDM 27.8) */
        vmm_report_entry_failure(reason, vmread(EXIT_QUALIFICATION));
        v->suspend_reason = "VM entry failed";
        v->dead = true;
        vcpu_suspend_loop(v);                       /* never returns for a dead vCPU */
    }

    /* An event whose delivery was cut short by this exit is re-injected
     * unless the handler injects something of its own (SDM 28.2.4). */
    u32 vect = (u32)vmread(IDT_VECTORING_INFO);
    vmwrite(VM_ENTRY_INTR_INFO, 0);

    u32 slot = reason < EXIT_REASON_COUNT ? reason : EXIT_REASON_COUNT - 1;
    v->exit_count[slot]++;                          /* counted first: a power-off exit never returns */
    exit_handler h = reason < EXIT_REASON_COUNT && handlers[reason] ? handlers[reason] : h_unexpected;
    enum exit_action act = h(v);
    v->sipi_fresh = reason == R_SIPI || (v->sipi_fresh && reason == R_PREEMPT);

    if ((vect & INTR_VALID) && !(vmread(VM_ENTRY_INTR_INFO) & INTR_VALID)) {
        vmwrite(VM_ENTRY_INTR_INFO, vect & 0x80000fffu);
        if (vect & INTR_ERRCODE)
            vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, vmread(IDT_VECTORING_ERROR_CODE));
        u32 type = vect & (7u << 8);
        if (type == INTR_TYPE_SW_INT || type == INTR_TYPE_PRIV_SW_EXC || type == INTR_TYPE_SW_EXC)
            vmwrite(VM_ENTRY_INSTRUCTION_LEN, vmread(VM_EXIT_INSTRUCTION_LEN));
        if (act == EXIT_ADVANCE)
            act = EXIT_RESUME;                      /* the instruction did not run */
    }
    if (act == EXIT_ADVANCE)
        vcpu_advance_rip();
    if (c->init_req && (act == EXIT_RESUME || act == EXIT_ADVANCE))
        act = ipi_guest_signals(c, v, act);         /* an INIT (and SIPI) another vCPU sent this one */
    bool waiting = vmread(GUEST_ACTIVITY_STATE) == ACTIVITY_WAIT_SIPI;
    if (waiting)
        vmwrite(VM_ENTRY_INTR_INFO, 0);             /* nothing may be injected into wait-for-SIPI */
    smp_deliver_nmi(c, waiting);
    if (!tick_period)
        tick_period = tsc_hz() / TICK_HZ;           /* not a division on every exit */
    if ((act == EXIT_RESUME || act == EXIT_ADVANCE) && reason != R_PREEMPT && !waiting &&
        t0 - v->last_tick >= tick_period)
        act = tick(v, t0);                          /* RIP, if it was to move, has moved */
    if (sample_mean && (act == EXIT_RESUME || act == EXIT_ADVANCE) && !waiting) {
        if (t0 >= v->next_sample)
            act = sample(v, t0);
        u64 now = rdtsc(), due = v->last_tick + tick_period;
        if (v->next_sample < due)
            due = v->next_sample;
        vmcs_timer_in(due > now ? due - now : 0);   /* the tick's or the next sample's moment */
    }
    log_drain();                                    /* the console takes what it can at once */

    v->exit_cycles[slot] += rdtsc() - t0 - (v->operator_cycles - op0);

    if (act == EXIT_SUSPEND || act == EXIT_DEAD) {
        v->dead = act == EXIT_DEAD;
        vcpu_suspend_loop(v);
    }
    if (v->id) {
        /* "Blocking by SMI" outside SMM fails the entry; Bochs records it
         * for a CPU that waited for SIPI (its SMI mask is never lifted). */
        u64 intr = vmread(GUEST_INTERRUPTIBILITY);
        if (intr & 4)
            vmwrite(GUEST_INTERRUPTIBILITY, intr & ~4ull);
    }
    smp_before_entry(c, waiting ? GM_WAIT_SIPI : GM_GUEST);
}

void vmresume_failed(struct guest_regs *regs)
{
    struct cpu *c = this_cpu();
    struct vcpu *v = &c->vcpu;
    c->mode = GM_ROOT;
    v->regs = regs;
    u32 err = (u32)vmread(VM_INSTRUCTION_ERROR);
    kprintf("vigil: vCPU %u: VMRESUME failed: VM-instruction error %u (%s)\n", v->id, err,
            vmx_instruction_error_name(err));
    vmcs_diagnose();
    vmm_dump_state();
    v->suspend_reason = "VMRESUME failed";
    v->dead = true;
    vcpu_suspend_loop(v);
    vigil_halt();
}
