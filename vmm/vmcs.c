/* The VMCS of the one guest: host state, guest entry state (32-bit protected
 * mode, paging off, as both multiboot specs require), VM-execution controls
 * chosen against the capability MSRs, and the I/O and MSR bitmaps.
 * Intel SDM Vol. 3, chapter 25 "Virtual Machine Control Structures". */
#include "vmm/vmx_setup.h"
#include "vmm/vmx.h"
#include "vmm/vcpu.h"
#include "vmm/hvmem.h"
#include "vmm/tsc.h"
#include "vmm/exit.h"
#include "vmm/smp.h"
#include "lib/spinlock.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "lib/log.h"

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)

static u8 *io_bitmap;            /* A (ports 0-0x7fff) then B; one for every vCPU */
static u8 *msr_bitmap;           /* read low, read high, write low, write high */
static u8 exit_stack[16384] __attribute__((aligned(16)));   /* the boot CPU's */

/* What every vCPU's VMCS shares, chosen once by the boot CPU. */
static struct {
    u32 pin, proc, proc2, exit, entry;
    u32 pin_hold;                        /* the step window's: NMI and external-interrupt exiting as offered */
    u64 eptp;
    u32 preempt, preempt_rate;
    bool vpid;
    u32 cr3_targets;                     /* CR3-target values offered (at most 4 used) */
} ctl;

extern char vmx_exit_stub[];

void io_intercept(u16 port, u16 count)
{
    for (u32 p = port; p < (u32)port + count && p <= 0xffff; p++)
        io_bitmap[p / 8] |= (u8)(1u << (p % 8));
}

void msr_intercept(u32 msr, bool read, bool write)
{
    u32 base, bit;
    if (msr <= 0x1fff) {
        base = 0;
        bit = msr;
    } else if (msr >= 0xc0000000 && msr <= 0xc0001fff) {
        base = 1024;
        bit = msr - 0xc0000000;
    } else {
        return;                  /* outside the bitmaps: always exits */
    }
    if (read)
        msr_bitmap[base + bit / 8] |= (u8)(1u << (bit % 8));
    if (write)
        msr_bitmap[2048 + base + bit / 8] |= (u8)(1u << (bit % 8));
}

static void setup_bitmaps(u16 console_port)
{
    io_bitmap = hv_alloc_pages(2, 1);
    msr_bitmap = hv_alloc_pages(1, 1);

    io_intercept(console_port, 8);      /* vigil's console: the guest may not speak in its name */
    io_intercept(0x8900, 1);            /* Bochs "Shutdown" port */
    io_intercept(0xf4, 4);              /* QEMU isa-debug-exit */
    io_intercept(0xcf9, 1);             /* reset control register */
    io_intercept(0x92, 1);              /* system control port A (fast reset) */
    io_intercept(0x64, 1);              /* keyboard controller: 0xfe pulses reset */
    const struct acpi_power *acpi = vmm_acpi();
    if (acpi && acpi->valid) {          /* ACPI sleep requests (SLP_EN) */
        io_intercept(acpi->pm1a_cnt, 2);
        if (acpi->pm1b_cnt)
            io_intercept(acpi->pm1b_cnt, 2);
    }

    msr_intercept(MSR_IA32_FEATURE_CONTROL, true, true);
    for (u32 m = MSR_IA32_VMX_BASIC; m <= MSR_IA32_VMX_VMFUNC; m++)
        msr_intercept(m, true, true);   /* VMX is hidden from the guest */
    msr_intercept(0x079, false, true);  /* microcode update trigger */
    msr_intercept(0x09b, true, true);   /* SMM monitor control */
    /* MTRRs steer vigil's own memory types too: guest writes are dropped. */
    for (u32 m = 0x200; m < 0x220; m++)
        msr_intercept(m, false, true);
    static const u32 fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e,
                                 0x26f, 0x2ff };
    for (u32 i = 0; i < ARRAY_SIZE(fixed); i++)
        msr_intercept(fixed[i], false, true);
    /* EFER writes are validated (LME, LMA are vigil's to keep straight);
     * the MSRs the IDS traps are added by vmm_trap_msr_write. */
    msr_intercept(MSR_IA32_EFER, false, true);
}

static void setup_host(struct cpu *cpu)
{
    vmwrite(HOST_CR0, read_cr0());
    vmwrite(HOST_CR3, read_cr3());
    vmwrite(HOST_CR4, read_cr4());
    vmwrite(HOST_CS_SEL, SEL_CODE);
    vmwrite(HOST_SS_SEL, SEL_DATA);
    vmwrite(HOST_DS_SEL, SEL_DATA);
    vmwrite(HOST_ES_SEL, SEL_DATA);
    vmwrite(HOST_FS_SEL, 0);
    vmwrite(HOST_GS_SEL, 0);
    vmwrite(HOST_TR_SEL, SEL_TSS);
    vmwrite(HOST_FS_BASE, 0);
    vmwrite(HOST_GS_BASE, (u64)cpu);   /* this_cpu() */
    vmwrite(HOST_TR_BASE, desc_tss_base(cpu->desc));
    vmwrite(HOST_GDTR_BASE, desc_gdt_base(cpu->desc));
    vmwrite(HOST_IDTR_BASE, desc_idt_base());
    vmwrite(HOST_SYSENTER_CS, 0);
    vmwrite(HOST_SYSENTER_ESP, 0);
    vmwrite(HOST_SYSENTER_EIP, 0);
    vmwrite(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
    vmwrite(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
    vmwrite(HOST_RSP, cpu->index ? (u64)cpu->exit_stack_top : (u64)&exit_stack[sizeof(exit_stack)]);
    vmwrite(HOST_RIP, (u64)vmx_exit_stub);
}

static void seg(u64 sel_f, u64 base_f, u64 limit_f, u64 ar_f, u16 sel, u32 limit, u32 ar)
{
    vmwrite(sel_f, sel);
    vmwrite(base_f, 0);
    vmwrite(limit_f, limit);
    vmwrite(ar_f, ar);
}

/* What a guest's entry state has whatever mode it starts in: CR0 as the
 * guest sees it (the real one adds the bits VMX fixes, NE, except PE and PG,
 * which unrestricted guest leaves free), CR3 and CR4 clear, IF clear, the
 * power-on MSRs, nothing blocked or pending. */
static void guest_base_state(u64 cr0_visible, u64 rip)
{
    struct vcpu *v = vcpu_self();
    vmwrite(GUEST_CR0, (cr0_visible | v->cr0_fixed0) & v->cr0_fixed1);
    vmwrite(CR0_READ_SHADOW, cr0_visible);
    vmwrite(GUEST_CR3, 0);
    vmwrite(GUEST_CR4, v->cr4_fixed0 & v->cr4_fixed1);
    vmwrite(CR4_READ_SHADOW, 0);
    vmwrite(GUEST_DR7, 0x400);
    vmwrite(GUEST_RSP, 0);
    vmwrite(GUEST_RIP, rip);
    vmwrite(GUEST_RFLAGS, 0x2);
    vmwrite(GUEST_IA32_DEBUGCTL, 0);
    vmwrite(GUEST_IA32_PAT, 0x0007040600070406ull);   /* power-on default */
    vmwrite(GUEST_IA32_EFER, 0);
    vmwrite(GUEST_SYSENTER_CS, 0);
    vmwrite(GUEST_SYSENTER_ESP, 0);
    vmwrite(GUEST_SYSENTER_EIP, 0);
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_LINK_POINTER, ~0ull);
}

/* The boot vCPU: 32-bit protected mode, paging off, IF clear (both
 * multiboot specs). */
static void setup_guest(const struct guest_entry *g)
{
    guest_base_state(CR0_PE | CR0_ET, g->eip);

    /* Flat 4 GiB segments: code 32-bit execute/read, data read/write. */
    seg(GUEST_CS_SEL, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR, g->cs_sel, 0xffffffff, 0xc09b);
    seg(GUEST_SS_SEL, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR, g->ds_sel, 0xffffffff, 0xc093);
    seg(GUEST_DS_SEL, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR, g->ds_sel, 0xffffffff, 0xc093);
    seg(GUEST_ES_SEL, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR, g->ds_sel, 0xffffffff, 0xc093);
    seg(GUEST_FS_SEL, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR, g->ds_sel, 0xffffffff, 0xc093);
    seg(GUEST_GS_SEL, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR, g->ds_sel, 0xffffffff, 0xc093);
    seg(GUEST_LDTR_SEL, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR, 0, 0, 0x10000); /* unusable */
    seg(GUEST_TR_SEL, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR, 0, 0xff, 0x8b);        /* busy TSS */
    vmwrite(GUEST_GDTR_BASE, g->gdt_base);
    vmwrite(GUEST_GDTR_LIMIT, g->gdt_limit);
    vmwrite(GUEST_IDTR_BASE, 0);
    vmwrite(GUEST_IDTR_LIMIT, 0x3ff);
    vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
}

/* The state INIT leaves a processor in (SDM Vol. 3, 10.1.1, Table 10-1), as
 * the guest sees it; the vCPU then waits for SIPI. */
void vmcs_guest_init_state(void)
{
    struct vcpu *v = vcpu_self();
    guest_base_state(0x60000010ull, 0xfff0);            /* CR0: CD, NW, ET */
    vmwrite(VM_ENTRY_CTLS, vmread(VM_ENTRY_CTLS) & ~ENTRY_IA32E_GUEST);
    seg(GUEST_CS_SEL, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR, 0xf000, 0xffff, 0x9b);
    vmwrite(GUEST_CS_BASE, 0xffff0000);
    seg(GUEST_SS_SEL, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR, 0, 0xffff, 0x93);
    seg(GUEST_DS_SEL, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR, 0, 0xffff, 0x93);
    seg(GUEST_ES_SEL, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR, 0, 0xffff, 0x93);
    seg(GUEST_FS_SEL, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR, 0, 0xffff, 0x93);
    seg(GUEST_GS_SEL, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR, 0, 0xffff, 0x93);
    seg(GUEST_LDTR_SEL, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR, 0, 0xffff, 0x82);
    seg(GUEST_TR_SEL, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR, 0, 0xffff, 0x8b);
    vmwrite(GUEST_GDTR_BASE, 0);
    vmwrite(GUEST_GDTR_LIMIT, 0xffff);
    vmwrite(GUEST_IDTR_BASE, 0);
    vmwrite(GUEST_IDTR_LIMIT, 0xffff);
    vmwrite(VM_ENTRY_INTR_INFO, 0);
    if (v->regs) {
        u32 a, b, c, d;
        cpuid(1, 0, &a, &b, &c, &d);
        *v->regs = (struct guest_regs){ .rdx = a };      /* EDX: the processor signature */
    }
    vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
}

/* A SIPI with vector V starts the processor in real mode at V*0x1000
 * (SDM Vol. 3, 9.4.4.1). */
void vmcs_guest_sipi(u8 vector)
{
    seg(GUEST_CS_SEL, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR, (u16)(vector << 8), 0xffff, 0x9b);
    vmwrite(GUEST_CS_BASE, (u64)vector << 12);
    vmwrite(GUEST_RIP, 0);
    vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    /* Nothing is blocked in the started processor (Bochs records the SMI
     * and NMI masking of wait-for-SIPI in the exit's interruptibility). */
    vmwrite(GUEST_INTERRUPTIBILITY, 0);
}

/* Make this CPU's VMCS current and fill what every vCPU's has. */
static void load_common(const struct vmx_caps *c, struct cpu *cpu)
{
    struct vcpu *v = &cpu->vcpu;
    u32 *vmcs = cpu->vmcs;
    vmcs[0] = c->revision;
    if (!vmcs_clear((u64)vmcs) || !vmcs_load((u64)vmcs))
        vigil_panic("VMCLEAR/VMPTRLD of CPU %u's VMCS at 0x%llx failed", cpu->index, (unsigned long long)(u64)vmcs);
    vmwrite(PIN_BASED_CTLS, ctl.pin);
    vmwrite(PROC_BASED_CTLS, ctl.proc);
    vmwrite(PROC_BASED_CTLS2, ctl.proc2);
    vmwrite(VM_EXIT_CTLS, ctl.exit);
    vmwrite(VM_ENTRY_CTLS, ctl.entry);
    vmwrite(EXCEPTION_BITMAP, 0);
    vmwrite(PF_ERROR_CODE_MASK, 0);
    vmwrite(PF_ERROR_CODE_MATCH, 0);
    vmwrite(CR3_TARGET_COUNT, 0);
    vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VM_ENTRY_INTR_INFO, 0);
    vmwrite(TSC_OFFSET, 0);
    vmwrite(EPT_POINTER, ctl.eptp);
    v->eptp = ctl.eptp;
    if (ctl.vpid) {
        v->vpid = (u16)(cpu->index + 1);  /* one VPID per vCPU */
        vmwrite(VPID, v->vpid);
    }
    if (ctl.pin & PIN_PREEMPTION_TIMER)
        vmwrite(VMX_PREEMPTION_TIMER, ctl.preempt);
    vmwrite(CR0_GUEST_HOST_MASK, v->cr0_mask);
    vmwrite(CR4_GUEST_HOST_MASK, v->cr4_mask);
    vmwrite(IO_BITMAP_A, (u64)io_bitmap);
    vmwrite(IO_BITMAP_B, (u64)io_bitmap + 4096);
    vmwrite(MSR_BITMAP, (u64)msr_bitmap);
    setup_host(cpu);
}

void vmcs_setup(const struct vmx_msrs *m, const struct vmx_caps *c, u64 eptp, const struct guest_entry *g,
                u16 console_port)
{
    struct cpu *cpu = this_cpu();
    struct vcpu *v = &cpu->vcpu;
    cpu->vmcs = hv_alloc_pages(1, 1);

    u64 pin_cap = c->true_ctls ? m->true_pinbased : m->pinbased;
    u64 proc_cap = c->true_ctls ? m->true_procbased : m->procbased;
    u64 exit_cap = c->true_ctls ? m->true_exit : m->exit;
    u64 entry_cap = c->true_ctls ? m->true_entry : m->entry;

    /* NMI exiting with more than one vCPU: vigil's CPUs kick each other
     * with NMIs (smp.c); the guest's own NMIs are injected back. */
    u32 pin = vmx_adjust_ctls("pin-based controls", c->preemption_timer ? PIN_PREEMPTION_TIMER : 0,
                              ncpus > 1 ? PIN_NMI_EXITING : 0, pin_cap);
    u32 proc = vmx_adjust_ctls("processor-based controls", 0,
                               PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_SECONDARY,
                               proc_cap);       /* CR3-load exiting: when the IDS asks (vmcs_cr3_load_exiting) */
    u32 proc2 = vmx_adjust_ctls("secondary controls",
                                (c->vpid ? PROC2_VPID : 0) | (c->rdtscp ? PROC2_RDTSCP : 0) |
                                (c->invpcid ? PROC2_INVPCID : 0) | PROC2_WBINVD_EXITING |
                                (c->desc_table_exiting ? PROC2_DESC_TABLE_EXITING : 0),
                                PROC2_EPT | PROC2_UNRESTRICTED, m->procbased2);
    u32 exit = vmx_adjust_ctls("VM-exit controls", EXIT_SAVE_PAT | EXIT_LOAD_PAT,
                               EXIT_HOST_ADDR_SPACE | EXIT_SAVE_EFER | EXIT_LOAD_EFER, exit_cap);
    u32 entry = vmx_adjust_ctls("VM-entry controls", ENTRY_LOAD_PAT, ENTRY_LOAD_EFER, entry_cap);
    entry &= ~ENTRY_IA32E_GUEST;         /* the guest starts in 32-bit protected mode */
    ctl.pin = pin;
    ctl.pin_hold = vmx_adjust_ctls("pin-based controls (step window)", pin | PIN_NMI_EXITING | PIN_EXT_INT_EXITING,
                                   pin, pin_cap);
    ctl.proc = proc;
    ctl.proc2 = proc2;
    ctl.exit = exit;
    ctl.entry = entry;
    ctl.eptp = eptp;
    ctl.vpid = proc2 & PROC2_VPID;
    ctl.cr3_targets = c->cr3_targets < 4 ? c->cr3_targets : 4;
    if (pin & PIN_PREEMPTION_TIMER) {
        /* An exit at least every tick (TICK_HZ) of guest time; the timer counts down
         * at TSC >> rate (SDM 26.5.1). Without "save timer value" it
         * restarts from this value on every VM entry. */
        u64 ticks = (tsc_hz() / TICK_HZ) >> c->preemption_rate;
        ctl.preempt_rate = c->preemption_rate;
        ctl.preempt = ticks > 0xffffffffull ? 0xffffffffu : (u32)ticks;
    }

    /* CR0/CR4 bits vigil owns: the fixed bits (NE, VMXE) and reserved
     * bits; the IDS adds the ones it traps (vcpu_own_cr_bits). */
    v->cr0_fixed0 = m->cr0_fixed0 & ~(CR0_PE | CR0_PG);
    v->cr0_fixed1 = m->cr0_fixed1;
    v->cr4_fixed0 = m->cr4_fixed0;
    v->cr4_fixed1 = m->cr4_fixed1;
    v->unrestricted = true;
    v->insouts_info = m->basic >> 54 & 1;
    v->cr0_mask = v->cr0_fixed0 | ~v->cr0_fixed1;
    v->cr4_mask = v->cr4_fixed0 | ~v->cr4_fixed1 | CR4_VMXE;
    for (u32 i = 1; i < ncpus; i++) {    /* the same for every vCPU */
        struct vcpu *o = &cpus[i].vcpu;
        o->cr0_fixed0 = v->cr0_fixed0;
        o->cr0_fixed1 = v->cr0_fixed1;
        o->cr4_fixed0 = v->cr4_fixed0;
        o->cr4_fixed1 = v->cr4_fixed1;
        o->unrestricted = true;
        o->insouts_info = v->insouts_info;
        o->cr0_mask = v->cr0_mask;
        o->cr4_mask = v->cr4_mask;
    }

    setup_bitmaps(console_port);
    load_common(c, cpu);
    setup_guest(g);
    kprintf("vigil: VMCS at 0x%llx: pin 0x%x proc 0x%x proc2 0x%x exit 0x%x entry 0x%x\n",
            (unsigned long long)(u64)cpu->vmcs, pin, proc, proc2, exit, entry);
}

void vmcs_step_controls(bool on, bool ext_int, bool expire_now)
{
    u32 pin = ctl.pin;
    if (on)
        pin |= ctl.pin_hold & (PIN_NMI_EXITING | (ext_int ? PIN_EXT_INT_EXITING : 0));
    vmwrite(PIN_BASED_CTLS, pin);
    vmwrite(EXCEPTION_BITMAP, on ? 0xffffffffu : 0);
    if (ctl.pin & PIN_PREEMPTION_TIMER)
        vmwrite(VMX_PREEMPTION_TIMER, on && expire_now ? 0 : ctl.preempt);
    this_cpu()->vcpu.timer_expire_now = on && expire_now;
}

void vmcs_timer_in(u64 cycles)
{
    if (!(ctl.pin & PIN_PREEMPTION_TIMER) || this_cpu()->vcpu.timer_expire_now)
        return;
    u64 t = (cycles + (1ull << ctl.preempt_rate) - 1) >> ctl.preempt_rate;   /* not early */
    vmwrite(VMX_PREEMPTION_TIMER, t < ctl.preempt ? (u32)t : ctl.preempt);
}

bool vmcs_can_expire_now(void) { return ctl.pin & PIN_PREEMPTION_TIMER; }

void vmcs_cr3_load_exiting(void)
{
    /* The current VMCS is the boot CPU's; the others take ctl.proc when
     * they launch. vmxcap_usable required the control. */
    ctl.proc |= PROC_CR3_LOAD_EXITING;
    vmwrite(PROC_BASED_CTLS, ctl.proc);
}

u32 vmcs_set_cr3_targets(const u64 *vals, u32 n)
{
    /* The current VMCS (this vCPU's): a MOV to CR3 whose operand, bit 63
     * included, equals one of these does not exit (SDM 25.1.3). */
    if (n > ctl.cr3_targets)
        n = ctl.cr3_targets;
    for (u32 i = 0; i < n; i++)
        vmwrite(CR3_TARGET_VALUE0 + 2 * i, vals[i]);
    vmwrite(CR3_TARGET_COUNT, n);
    return n;
}

void vcpu_own_cr_bits(u8 cr, u64 bits)
{
    /* The current VMCS is the boot CPU's; the others load theirs from
     * struct vcpu when they launch. The read shadow takes the guest's
     * present value of the newly owned bits. */
    bool c0 = cr == 0;
    u64 mask = vmread(c0 ? CR0_GUEST_HOST_MASK : CR4_GUEST_HOST_MASK);
    u64 fresh = bits & ~mask, shadow = vmread(c0 ? CR0_READ_SHADOW : CR4_READ_SHADOW);
    shadow = (shadow & ~fresh) | (vmread(c0 ? GUEST_CR0 : GUEST_CR4) & fresh);
    vmwrite(c0 ? CR0_READ_SHADOW : CR4_READ_SHADOW, shadow);
    vmwrite(c0 ? CR0_GUEST_HOST_MASK : CR4_GUEST_HOST_MASK, mask | bits);
    for (u32 i = 0; i < ncpus; i++) {
        if (c0)
            cpus[i].vcpu.cr0_mask |= bits;
        else
            cpus[i].vcpu.cr4_mask |= bits;
    }
}

bool vmx_launch(const struct guest_regs *regs);

void vmcs_launch_ap(struct cpu *c, const struct vmx_caps *caps)
{
    static struct guest_regs regs[VIGIL_MAX_CPUS];
    load_common(caps, c);
    c->vcpu.regs = &regs[c->index];
    vmcs_guest_init_state();
    c->vcpu.regs = 0;
    smp_mb();
    c->state = CPU_LAUNCHED;
    smp_before_entry(c, GM_WAIT_SIPI);
    vmx_launch(&regs[c->index]);
    c->mode = GM_ROOT;
    u32 err = (u32)vmread(VM_INSTRUCTION_ERROR);
    kprintf("vigil: CPU %u: VMLAUNCH failed: VM-instruction error %u (%s)\n", c->index, err,
            vmx_instruction_error_name(err));
}
