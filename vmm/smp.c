/* Every CPU under vigil (docs/design.md "Processors").
 *
 * Before the guest runs, the boot CPU finds every processor (MADT, else the
 * MP table), wakes each with INIT-SIPI-SIPI into vigil's trampoline, and the
 * AP turns VMX on with the boot CPU's checks. From VMXON on, INIT is blocked
 * on that CPU (SDM Vol. 3, 24.8 "Restrictions on VMX operation"); the AP then
 * enters the guest in the wait-for-SIPI activity state, so the guest's INIT
 * and SIPI reach vigil as VM exits (SDM 26.2 "Other causes of VM exits").
 * A CPU beyond `cpus=N` stays halted in VMX root operation, where neither INIT
 * nor SIPI can start it. A CPU that cannot be brought under VMX stops vigil:
 * the guest is not started while a processor it could wake natively exists.
 *
 * Cross-CPU protocol: vigil's CPUs kick each other with NMIs (NMI exiting is
 * on when there is more than one vCPU). Every VM entry passes a gate
 * (smp_before_entry) that waits while another CPU holds the world and
 * flushes EPT translations older than the last change. */
#include "vmm/smp.h"
#include "vmm/hvmem.h"
#include "vmm/memmap.h"
#include "vmm/palloc.h"
#include "vmm/acpi.h"
#include "vmm/tsc.h"
#include "vmm/vmx.h"
#include "vmm/vmx_setup.h"
#include "vmm/exit.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/spinlock.h"

struct cpu cpus[VIGIL_MAX_CPUS];
u32 ncpus = 1;
u64 vmm_launch_tsc;

static struct cpu_desc boot_desc;
static u32 limit;                        /* cpus=N; 0 = all */

/* --- the local APIC ------------------------------------------------------- */

#define MSR_IA32_APIC_BASE 0x1b
#define APIC_BASE_X2APIC (1u << 10)
#define APIC_BASE_ENABLE (1u << 11)
#define ICR_INIT   0x00004500u            /* delivery mode INIT, level assert */
#define ICR_SIPI   0x00004600u            /* start-up, vector in bits 7:0 */
#define ICR_NMI    0x00004400u            /* NMI, level assert */
#define ICR_PENDING (1u << 12)            /* xAPIC delivery status */

static volatile u32 *lapic;              /* xAPIC MMIO (identity-mapped), or NULL in x2APIC mode */

static bool lapic_init(void)
{
    u64 b = rdmsr(MSR_IA32_APIC_BASE);
    if (!(b & APIC_BASE_ENABLE))
        return false;
    lapic = b & APIC_BASE_X2APIC ? 0 : (volatile u32 *)(b & 0xfffff000ull);
    return true;
}

/* In the mode this CPU's APIC is in now: the guest may have turned on
 * x2APIC mode (ipi.c lets it). */
static void lapic_send(u32 apic_id, u32 icr)
{
    if (!lapic || (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC)) {
        wrmsr(0x830, (u64)apic_id << 32 | icr);          /* x2APIC ICR */
        return;
    }
    for (u32 spin = 0; lapic[0x300 / 4] & ICR_PENDING && spin < 1000000; spin++)
        cpu_relax();
    lapic[0x310 / 4] = apic_id << 24;
    lapic[0x300 / 4] = icr;
}

static u32 my_apic_id(void)
{
    u32 a, b, c, d;
    if (!lapic) {
        cpuid(0xb, 0, &a, &b, &c, &d);                 /* x2APIC ID */
        return d;
    }
    cpuid(1, 0, &a, &b, &c, &d);
    return b >> 24;
}

static void udelay(u64 us)
{
    u64 end = rdtsc() + tsc_hz() / 1000000 * us;
    while (rdtsc() < end)
        cpu_relax();
}

/* --- locks ---------------------------------------------------------------- */

static struct spinlock log_lock;
static volatile u32 log_owner;           /* index + 1 */
static u32 log_depth;

void smp_log_lock(void)
{
    u32 me = this_cpu()->index + 1;
    if (log_owner == me) {               /* a crash report inside a print */
        log_depth++;
        return;
    }
    spin_lock(&log_lock);
    log_owner = me;
    log_depth = 1;
}

bool smp_log_trylock(void)
{
    u32 me = this_cpu()->index + 1;
    if (log_owner == me) {
        log_depth++;
        return true;
    }
    if (!spin_trylock(&log_lock))
        return false;
    log_owner = me;
    log_depth = 1;
    return true;
}

void smp_log_unlock(void)
{
    if (--log_depth)
        return;
    log_owner = 0;
    spin_unlock(&log_lock);
}

/* --- the boot CPU ----------------------------------------------------------- */

static void host_nmi(void) { smp_nmi(this_cpu()); }

void smp_init_boot_cpu(void)
{
    struct cpu *c = &cpus[0];
    c->self = c;
    c->index = 0;
    c->desc = &boot_desc;
    c->state = CPU_VMX;
    wrmsr(MSR_IA32_GS_BASE, (u64)c);
    desc_init(&boot_desc);
    trap_set_nmi_hook(host_nmi);
    log_set_lock(smp_log_lock, smp_log_trylock, smp_log_unlock);
}

void smp_set_limit(u32 n) { limit = n; }

/* --- the cross-CPU protocol ---------------------------------------------- */

static struct spinlock world_lock;
static volatile u32 world_holder;        /* index + 1 of the CPU holding the world, or 0 */
static u32 world_depth;
static volatile u32 ept_gen;
static u64 shootdowns, shootdown_cycles, kicks, stops, stop_cycles;

void smp_deliver_nmi(struct cpu *c, bool waiting)
{
    if (waiting)
        c->nmi_pending = false;                     /* a CPU waiting for SIPI takes none */
    if (c->nmi_pending && !(vmread(VM_ENTRY_INTR_INFO) & INTR_VALID) &&
        !(vmread(GUEST_INTERRUPTIBILITY) & 0xb)) {      /* not under STI, MOV-SS or NMI blocking (SDM 26.3.1.5) */
        c->nmi_pending = false;
        vmwrite(VM_ENTRY_INTR_INFO, INTR_VALID | INTR_TYPE_NMI | 2);
        if (vmread(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
            vmwrite(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    }
}

void smp_nmi(struct cpu *c)
{
    u32 sent = c->kicks_sent;
    if (c->kicks_seen == sent)
        c->nmi_pending = true;           /* the guest's: injected at the next entry */
    else
        c->kicks_seen = sent;            /* NMIs coalesce: one covers every kick so far */
}

/* Bochs 2.7 leaves NMIs blocked after an NMI-caused VM exit, in VMX root
 * and in the guest state it saved, though the guest never received that
 * NMI: unless the guest is inside an NMI vigil gave it, it would then hold
 * every later kick until its preemption timer, and each world stop or EPT
 * shootdown would wait a tick. An IRET ends the blocking in root; the
 * guest's is cleared. (On hardware both are no-ops.) */
void smp_end_root_nmi_blocking(void)
{
    __asm__ volatile("movq %%rsp, %%rax\n\t"
                     "pushq %1\n\tpushq %%rax\n\tpushfq\n\tpushq %2\n\t"
                     "leaq 1f(%%rip), %%rax\n\tpushq %%rax\n\tiretq\n1:"
                     ::"a"(0), "i"(SEL_DATA), "i"(SEL_CODE) : "memory");
}

void smp_nmi_exit(struct cpu *c)
{
    smp_nmi(c);
    smp_end_root_nmi_blocking();
    if (!c->guest_in_nmi)
        vmwrite(GUEST_INTERRUPTIBILITY, vmread(GUEST_INTERRUPTIBILITY) & ~8ull);
}

void smp_lapic_send(u32 dest, u32 icr) { lapic_send(dest, icr); }

static void kick(struct cpu *c)
{
    __atomic_add_fetch(&c->kicks_sent, 1, __ATOMIC_SEQ_CST);
    kicks++;
    lapic_send(c->apic_id, ICR_NMI);
}

void smp_kick(struct cpu *c) { kick(c); }

/* Kick every other vCPU that is in the guest (not waiting for SIPI: those
 * use no translations, and Bochs holds NMIs there) and wait until each has
 * left it. */
static void kick_out(void)
{
    struct cpu *me = this_cpu();
    for (u32 i = 0; i < ncpus; i++)
        if (&cpus[i] != me && cpus[i].mode == GM_GUEST)
            kick(&cpus[i]);
    for (u32 i = 0; i < ncpus; i++) {
        struct cpu *c = &cpus[i];
        if (c == me)
            continue;
        while (c->mode == GM_GUEST)
            cpu_relax();
    }
}

void smp_world_stop(void)
{
    struct cpu *me = this_cpu();
    if (world_holder == me->index + 1) {
        world_depth++;
        return;
    }
    /* The holder waits only for CPUs in guest mode; spinning here, in
     * vigil, is never what it waits for. */
    spin_lock(&world_lock);
    u64 t0 = rdtsc();
    world_holder = me->index + 1;
    world_depth = 1;
    smp_mb();
    if (ncpus > 1) {
        kick_out();
        stops++;
        stop_cycles += rdtsc() - t0;
    }
}

void smp_world_start(void)
{
    if (--world_depth)
        return;
    world_holder = 0;
    spin_unlock(&world_lock);
}

void smp_ept_changed(void)
{
    u64 t0 = rdtsc();
    u32 gen = __atomic_add_fetch(&ept_gen, 1, __ATOMIC_SEQ_CST);
    struct cpu *me = this_cpu();
    me->ept_gen = gen;
    invept(INVEPT_ALL, 0);
    if (ncpus == 1)
        return;
    smp_mb();
    /* Dekker with the gate: we wrote gen before reading each mode; a CPU
     * writes its mode before reading gen. Either we see it in the guest and
     * kick it, or it sees the new gen and flushes before it enters. */
    kick_out();
    shootdowns++;
    shootdown_cycles += rdtsc() - t0;
}

void smp_snapshot(struct cpu *c)
{
    struct vcpu_snapshot *s = &c->snap;
    s->rip = vmread(GUEST_RIP);
    s->rsp = vmread(GUEST_RSP);
    s->rflags = vmread(GUEST_RFLAGS);
    s->cr0 = guest_cr0_visible();
    s->cr3 = vmread(GUEST_CR3);
    s->cr4 = guest_cr4_visible();
    s->efer = vmread(GUEST_IA32_EFER);
    s->activity = vmread(GUEST_ACTIVITY_STATE);
    if (c->vcpu.regs)
        s->regs = *c->vcpu.regs;
    s->valid = true;
}

void smp_before_entry(struct cpu *c, u32 mode)
{
    if (ncpus == 1)
        return;                          /* no one to wait for; smp_ept_changed flushed this CPU */
    u32 me = c->index + 1;
    for (;;) {
        u32 h = world_holder;
        if (h && h != me) {
            smp_snapshot(c);             /* for the operator's `regs N` */
            while (world_holder == h)
                cpu_relax();
            continue;
        }
        c->mode = mode;
        smp_mb();
        h = world_holder;
        if (h && h != me) {
            c->mode = GM_ROOT;
            continue;
        }
        break;
    }
    u32 gen = ept_gen;
    if (c->ept_gen != gen) {
        c->ept_gen = gen;
        invept(INVEPT_ALL, 0);
    }
    u32 inj = (u32)vmread(VM_ENTRY_INTR_INFO);
    if ((inj & INTR_VALID) && (inj & (7u << 8)) == INTR_TYPE_NMI)
        c->guest_in_nmi = true;
    else if (!(vmread(GUEST_INTERRUPTIBILITY) & 8))
        c->guest_in_nmi = false;                 /* not blocking NMIs: out of any handler */
}

void smp_print_summary(void)
{
    if (ncpus == 1)
        return;
    kprintf("vigil: CPUs: %u vCPUs; %llu EPT shootdowns (%llu cycles each on average), %llu kicks; "
            "%llu world stops (%llu cycles each on average)\n", ncpus, (unsigned long long)shootdowns,
            (unsigned long long)(shootdowns ? shootdown_cycles / shootdowns : 0), (unsigned long long)kicks,
            (unsigned long long)stops, (unsigned long long)(stops ? stop_cycles / stops : 0));
}

/* --- bringing the other CPUs up -------------------------------------------- */

/* The hand-off block of the trampoline (aptramp.asm), at offset 8. */
struct ap_handoff {
    u16 gdt_limit;
    u32 gdt_base;
    u16 pad0;
    u32 pm32_off;
    u16 pm32_sel, pad1;
    u32 lm64_off;
    u16 lm64_sel, pad2;
    u32 cr3, efer;
    u64 stack, cpu;
    u64 gdt[4];
} __attribute__((packed));
_Static_assert(__builtin_offsetof(struct ap_handoff, pm32_off) == 8, "aptramp.asm: tr_pm32");
_Static_assert(__builtin_offsetof(struct ap_handoff, lm64_off) == 16, "aptramp.asm: tr_lm64");
_Static_assert(__builtin_offsetof(struct ap_handoff, cr3) == 24, "aptramp.asm: tr_cr3");
_Static_assert(__builtin_offsetof(struct ap_handoff, stack) == 32, "aptramp.asm: tr_stack");
_Static_assert(__builtin_offsetof(struct ap_handoff, cpu) == 40, "aptramp.asm: tr_cpu");
_Static_assert(__builtin_offsetof(struct ap_handoff, gdt) == 48, "aptramp.asm: tr_gdt");

extern const u8 ap_tramp_start[], ap_tramp_end[];
extern char ap_entry64[];
void ap_main(struct cpu *c);

#define TRAMP_HANDOFF 8
#define TRAMP_CODE32_SEL 0x08
#define TRAMP_CODE64_SEL 0x18
#define AP_STACK_PAGES 4
#define AP_EXIT_STACK_PAGES 4

static const struct vmx_msrs *boot_msrs;
static u32 napps;                        /* APs brought into VMX (vCPUs and parked) */
static u64 bringup_cycles;
static volatile bool go;                 /* APs may build their VMCS and enter */

__attribute__((noreturn)) static void ap_stop(void)
{
    cpu_halt_forever();                  /* in VMX root (INIT blocked) once VMXON is done */
}

static void ap_fail(struct cpu *c, const char *why)
{
    c->why = why;
    smp_mb();
    c->state = CPU_FAILED;
    ap_stop();
}

/* The first field where two CPUs' VT-x capabilities differ, or NULL: one
 * control choice and one VMCS layout serve every CPU. */
static const char *vmx_differs(const struct vmx_msrs *a, const struct vmx_msrs *b)
{
#define CMP(f) if (a->f != b->f) return "IA32_VMX_" #f " differs from the boot CPU's"
    CMP(basic); CMP(pinbased); CMP(procbased); CMP(exit); CMP(entry); CMP(misc);
    CMP(cr0_fixed0); CMP(cr0_fixed1); CMP(cr4_fixed0); CMP(cr4_fixed1); CMP(procbased2); CMP(ept_vpid);
    CMP(true_pinbased); CMP(true_procbased); CMP(true_exit); CMP(true_entry);
#undef CMP
    return 0;
}

void ap_main(struct cpu *c)
{
    wrmsr(MSR_IA32_GS_BASE, (u64)c);
    desc_init(c->desc);
    c->state = CPU_ALIVE;
    static struct vmx_msrs ms[VIGIL_MAX_CPUS];
    static struct vmx_caps cs[VIGIL_MAX_CPUS];
    struct vmx_msrs *m = &ms[c->index];
    struct vmx_caps *caps = &cs[c->index];
    const char *why;
    vmxcap_read(m);
    vmxcap_decode(m, caps);
    if (!vmxcap_usable(m, caps, &why))
        ap_fail(c, why);
    if ((why = vmx_differs(m, boot_msrs)))
        ap_fail(c, why);
    if (!vmx_enable(m, caps, c->vmxon, false))
        ap_fail(c, "VMXON failed");
    c->bringup_cycles = rdtsc() - c->bringup_tsc;
    smp_mb();
    if (c->index >= ncpus) {
        c->state = CPU_PARKED;
        ap_stop();
    }
    c->state = CPU_VMX;
    while (!go)
        cpu_relax();
    vmcs_launch_ap(c, caps);             /* returns only if VMLAUNCH failed */
    ap_fail(c, "VMLAUNCH of its VMCS failed");
}

static const char *state_name(u32 s)
{
    static const char *const n[] = { "did not answer INIT-SIPI-SIPI", "answered but did not finish its VT-x checks",
                                     "in VMX", "parked", "launched", "failed" };
    return s < ARRAY_SIZE(n) ? n[s] : "?";
}

/* The processors the firmware lists: the MADT, else the MP table. */
static bool find_cpus(const struct boot_info *bi, struct cpu_table *t, const char **src)
{
    char err[160];
    const u8 *madt = acpi_find(bi, "APIC");
    if (madt) {
        u32 len;
        memcpy(&len, madt + 4, 4);
        if (madt_parse(madt, len, t, err, sizeof(err)))
            vigil_panic("cannot tell which processors exist: %s", err);
        *src = "ACPI MADT";
        return true;
    }
    /* MP floating pointer: the EBDA's first KiB, the last KiB of base
     * memory, then the BIOS ROM (MP spec 1.4, 4.1). */
    u16 seg;
    u64 bda = 0x40e;                     /* the BIOS data area's EBDA segment */
    __asm__ volatile("movw (%1), %0" : "=r"(seg) : "r"(bda));
    u64 ebda = (u64)seg << 4;
    const struct { u64 base, len; } where[] = { { ebda, 1024 }, { 0x9fc00, 1024 }, { 0xf0000, 0x10000 } };
    for (u32 i = 0; i < ARRAY_SIZE(where); i++) {
        u64 cfg;
        if (!where[i].base || !mp_find((const u8 *)where[i].base, where[i].len, where[i].base, &cfg))
            continue;
        if (cfg >= GiB(4) - 0x10000)     /* vigil maps the first 4 GiB; the table is < 64 KiB */
            break;
        if (mp_parse((const u8 *)cfg, 0x10000, t, err, sizeof(err)))
            vigil_panic("cannot tell which processors exist: %s", err);
        *src = "MP table";
        return true;
    }
    return false;
}

static void wake(struct cpu *c, u8 vector)
{
    lapic_send(c->apic_id, ICR_INIT);
    udelay(10000);
    c->bringup_tsc = rdtsc();            /* bring-up time counts from the SIPI */
    for (int sipi = 0; sipi < 2 && c->state == CPU_OFF; sipi++) {
        lapic_send(c->apic_id, ICR_SIPI | vector);
        udelay(300);
    }
    /* A second SIPI is sent only if the first was not answered, and none
     * after that: a late one would find the CPU in wait-for-SIPI under VMX. */
    for (u64 end = rdtsc() + tsc_hz() / 5; rdtsc() < end;) {   /* 200 ms */
        u32 s = c->state;
        if (s == CPU_VMX || s == CPU_PARKED || s == CPU_FAILED)
            break;
        cpu_relax();
    }
}

void smp_start_aps(const struct boot_info *bi, const struct vmx_msrs *m, const struct vmx_caps *caps)
{
    static struct cpu_table t;
    const char *src;
    boot_msrs = m;
    if (!lapic_init())
        vigil_panic("the boot CPU's local APIC is disabled (IA32_APIC_BASE 0x%llx): vigil cannot tell its "
                    "other processors to start", (unsigned long long)rdmsr(MSR_IA32_APIC_BASE));
    u32 bsp = my_apic_id();
    cpus[0].apic_id = bsp;
    if (!find_cpus(bi, &t, &src)) {
        kprintf("vigil: CPUs: no MADT and no MP table: only the boot CPU (APIC ID %u) is known\n", bsp);
        ncpus = 1;
        return;
    }
    if (t.dropped)
        vigil_panic("the %s lists %u processors; vigil supports %u: the rest could be started by the guest "
                    "outside VMX", src, t.count + t.dropped, VIGIL_MAX_CPUS);
    /* Which entries name processors that could run: enabled ones, and
     * online-capable ones (which firmware may list for absent sockets). */
    u32 n = 1, listed = 0;
    bool bsp_listed = false;
    for (u32 i = 0; i < t.count; i++) {
        const struct cpu_entry *e = &t.cpu[i];
        if (!e->enabled && !e->online_capable)
            continue;
        listed++;
        if (e->apic_id == bsp) {
            bsp_listed = true;
            continue;
        }
        if (lapic && e->apic_id > 0xfe)
            vigil_panic("processor with x2APIC ID %u cannot be addressed in xAPIC mode", e->apic_id);
        struct cpu *c = &cpus[n];
        c->self = c;
        c->index = n;
        c->apic_id = e->apic_id;
        c->vcpu.id = n;
        n++;
    }
    if (!bsp_listed)
        log_warn("vigil: CPUs: the boot CPU (APIC ID %u) is not in the %s\n", bsp, src);
    u32 offered = limit && limit < n ? limit : n;
    if (offered > 1 && (!caps->wait_for_sipi || !caps->nmi_exiting)) {
        /* Without the wait-for-SIPI activity state the guest's SIPI could
         * not reach vigil, and without NMI exiting vigil's CPUs could not
         * kick each other: every AP is parked in VMX root operation. */
        kprintf("vigil: CPUs: no %s: the other processors are parked in VMX root operation, where INIT and "
                "SIPI cannot start them; the guest gets one vCPU\n",
                !caps->wait_for_sipi ? "wait-for-SIPI activity state (IA32_VMX_MISC[8])" : "NMI exiting");
        offered = 1;
    }
    ncpus = offered;
    kprintf("vigil: CPUs: %u listed in the %s (boot CPU APIC ID %u, %s); %u vCPU%s for the guest\n", listed, src,
            bsp, lapic ? "xAPIC" : "x2APIC", offered, offered == 1 ? "" : "s");
    if (n == 1)
        return;

    /* Everything an AP needs is taken from the pool here, by this CPU: the
     * allocator is not shared. */
    for (u32 i = 1; i < n; i++) {
        struct cpu *c = &cpus[i];
        c->desc = hv_alloc_pages((sizeof(struct cpu_desc) + 4095) / 4096, 1);
        c->vmxon = hv_alloc_pages(1, 1);
        c->vmcs = hv_alloc_pages(1, 1);
        c->stack_top = (u8 *)hv_alloc_pages(AP_STACK_PAGES, 1) + AP_STACK_PAGES * 4096;
        c->exit_stack_top = (u8 *)hv_alloc_pages(AP_EXIT_STACK_PAGES, 1) + AP_EXIT_STACK_PAGES * 4096;
    }

    /* The trampoline: a free page below 1 MiB, its contents given back. */
    const struct mem_range *owned;
    u32 nowned = hvmem_owned(&owned);
    struct mem_range avoid[MEM_MAX_AVOID];
    u32 na = 0;
    avoid[na++] = (struct mem_range){ 0, 0x1000 };
    avoid[na++] = (struct mem_range){ ALIGN_DOWN(bi->mbi_start, PAGE_SIZE), ALIGN_UP(bi->mbi_end, PAGE_SIZE) };
    for (u32 i = 0; i < nowned && na < MEM_MAX_AVOID; i++)
        avoid[na++] = owned[i];
    for (u32 i = 0; i < bi->module_count && na < MEM_MAX_AVOID; i++)
        avoid[na++] = (struct mem_range){ ALIGN_DOWN(bi->modules[i].start, PAGE_SIZE),
                                          ALIGN_UP(bi->modules[i].end, PAGE_SIZE) };
    u64 page;
    if (!memmap_place(bi, avoid, na, PAGE_SIZE, PAGE_SIZE, 0x1000, 0xa0000, &page))
        vigil_panic("no free page of RAM below 640 KiB for the processors' start-up code");
    static u8 saved[PAGE_SIZE];
    u8 *tp = (u8 *)page;
    memcpy(saved, tp, PAGE_SIZE);
    u32 tsize = (u32)(ap_tramp_end - ap_tramp_start);
    memcpy(tp, ap_tramp_start, tsize);
    struct ap_handoff *h = (struct ap_handoff *)(tp + TRAMP_HANDOFF);
    h->gdt_limit = sizeof(h->gdt) - 1;
    h->gdt_base = (u32)(page + TRAMP_HANDOFF + __builtin_offsetof(struct ap_handoff, gdt));
    extern const u8 tr_code32_off[];
    h->pm32_off = (u32)(page + (u64)tr_code32_off);
    h->pm32_sel = TRAMP_CODE32_SEL;
    h->lm64_off = (u32)(u64)ap_entry64;
    h->lm64_sel = TRAMP_CODE64_SEL;
    h->cr3 = (u32)read_cr3();
    h->efer = (u32)(rdmsr(MSR_IA32_EFER) & ((1u << 8) | (1u << 11)));   /* LME, NXE */

    bool refuse = false;
    u64 t0 = rdtsc();
    for (u32 i = 1; i < n; i++) {
        struct cpu *c = &cpus[i];
        h->stack = (u64)c->stack_top;
        h->cpu = (u64)c;
        smp_mb();
        wake(c, (u8)(page >> 12));
        u32 s = c->state;
        if (s == CPU_VMX || s == CPU_PARKED) {
            kprintf("vigil: CPU %u (APIC ID %u): VMX on in %llu us%s\n", i, c->apic_id,
                    (unsigned long long)(tsc_to_ns(c->bringup_cycles) / 1000),
                    s == CPU_PARKED ? "; parked in VMX root operation (cpus= limit), never the guest's" : "");
        } else {
            kprintf("vigil: CPU %u (APIC ID %u): %s%s%s\n", i, c->apic_id, state_name(s), c->why ? ": " : "",
                    c->why ? c->why : "");
            refuse = true;
        }
    }
    memcpy(tp, saved, PAGE_SIZE);
    if (refuse)
        vigil_panic("not every processor is under VMX: the guest could start one outside vigil; not starting it");
    napps = n - 1;
    bringup_cycles = rdtsc() - t0;
}

void smp_launch_aps(void)
{
    if (!napps)
        return;
    u64 t0 = rdtsc();
    go = true;
    for (u32 i = 1; i < ncpus; i++) {
        struct cpu *c = &cpus[i];
        u64 end = rdtsc() + tsc_hz() / 5;
        while (c->state != CPU_LAUNCHED && c->state != CPU_FAILED && rdtsc() < end)
            cpu_relax();
        if (c->state != CPU_LAUNCHED)
            vigil_panic("CPU %u (APIC ID %u) did not enter the guest's wait-for-SIPI state: %s", i, c->apic_id,
                        c->why ? c->why : state_name(c->state));
    }
    kprintf("vigil: CPUs: %u application processor%s under VMX: woken and checked in %llu us, %u in the guest's "
            "wait-for-SIPI state %llu us later (the guest's INIT and SIPI are vigil's)\n", napps,
            napps == 1 ? "" : "s", (unsigned long long)(tsc_to_ns(bringup_cycles) / 1000), ncpus - 1,
            (unsigned long long)(tsc_to_ns(rdtsc() - t0) / 1000));
}
