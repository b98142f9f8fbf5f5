/* The services vmm/ offers the IDS (introspect.h), and the one-instruction
 * window that lets an allowed write through a protected page: the page is
 * opened, the guest single-steps that instruction (RFLAGS.TF with #DB
 * intercepted: Bochs has no monitor trap flag), and the page is closed again
 * before any other guest instruction runs. With several vCPUs the other
 * vCPUs are held outside the guest while a page is open (smp_world_stop),
 * and every EPT change is flushed on every CPU before it is relied on
 * (smp_ept_changed). */
#include "vmm/introspect.h"
#include "vmm/ept.h"
#include "vmm/hvmem.h"
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/vmx_setup.h"
#include "vmm/tsc.h"
#include "vmm/smp.h"
#include "vmm/pci.h"
#include "arch/x86_64/cpu.h"
#include "lib/spinlock.h"
#include "lib/log.h"
#include "lib/fmt.h"

#define RESERVE_PAGES 352               /* the trap registry's splits, and the execute watch's (2 MiB regions) */

static u64 *pml4;
static void *reserve[RESERVE_PAGES];
static u32 nreserve;
static struct traps traps;             /* what the IDS subscribed to */
static struct spinlock ept_lock;       /* traps, splits and open/close: one CPU at a time */

static void *reserve_page(void) { return nreserve ? reserve[--nreserve] : 0; }

void introspect_init(u64 *ept_pml4)
{
    pml4 = ept_pml4;
    /* Tables for splitting large EPT pages later, taken now: the exit path
     * never allocates. */
    for (nreserve = 0; nreserve < RESERVE_PAGES; nreserve++)
        reserve[nreserve] = hv_alloc_pages(1, 1);
}

const struct traps *vmm_traps(void) { return &traps; }

/* The EPT permissions of a page whose trapped accesses are `access`. A
 * write without read is an EPT misconfiguration, so a read trap takes
 * every access away. */
static u64 ept_perms(u32 access)
{
    if (access & TRAP_READ)
        return 0;
    return EPT_RWX & ~((access & TRAP_WRITE ? EPT_W : 0) | (access & TRAP_EXEC ? EPT_X : 0));
}

/* The execute watch (vmm_watch_exec): X is off in EPT outside the code the
 * IDS named, until a fetch there is allowed and its page granted X; the
 * grants are taken back together (vmm_exec_revoke). */
#define MAX_KNOWN 8
#define MAX_GRANTS 256
static struct {
    bool on;
    u32 owner;
    struct mem_range known[MAX_KNOWN];
    u32 nknown;
    u64 granted[MAX_GRANTS];
    u32 ngranted;
    u64 grants, revokes;
} xw;

static bool exec_allowed(u64 page)
{
    if (!xw.on)
        return true;
    for (u32 i = 0; i < xw.nknown; i++)
        if (page >= xw.known[i].start && page < xw.known[i].end)
            return true;
    for (u32 i = 0; i < xw.ngranted; i++)
        if (xw.granted[i] == page)
            return true;
    return false;
}

/* What the page's EPT entry allows: its traps' permissions, without X
 * where the execute watch keeps it off. */
static u64 page_perms(u64 page)
{
    u64 p = ept_perms(trap_page_access(&traps, page));
    return exec_allowed(page) ? p : p & ~EPT_X;
}

static bool set_page(u64 page)
{
    return ept_restrict(pml4, page, 0, reserve_page) &&      /* split to 4 KiB if need be */
           ept_set_perms(pml4, page, page_perms(page));
}

bool vmm_watch_exec(const struct mem_range *known, u32 n, u32 owner, char *err, size_t errlen)
{
    if (n > MAX_KNOWN || xw.on) {
        fmt_snprintf(err, errlen, xw.on ? "execution is watched already" : "more than %u code ranges", MAX_KNOWN);
        return false;
    }
    spin_lock(&ept_lock);
    for (u32 i = 0; i < n; i++)
        xw.known[i] = (struct mem_range){ ALIGN_DOWN(known[i].start, 4096), ALIGN_UP(known[i].end, 4096) };
    xw.nknown = n;
    xw.owner = owner;
    bool ok = ept_deny_exec(pml4, xw.known, n, reserve_page);
    xw.on = true;
    /* The trapped pages (4 KiB already): their own permissions, X as the watch says. */
    for (u32 i = 0; ok && i < traps.npages; i++)
        for (u64 a = ALIGN_DOWN(traps.page[i].start, 4096); a < traps.page[i].end; a += 4096)
            ept_set_perms(pml4, a, page_perms(a));
    spin_unlock(&ept_lock);
    smp_ept_changed();
    if (!ok)
        fmt_snprintf(err, errlen, "EPT cannot split the pages around the known code (%u spare tables)", RESERVE_PAGES);
    return ok;
}

bool vmm_exec_watched(u64 gpa, u32 *owner)
{
    if (!xw.on)
        return false;
    *owner = xw.owner;
    const struct trap_page *t = trap_page_find(&traps, gpa, TRAP_EXEC);
    return !t && !exec_allowed(ALIGN_DOWN(gpa, 4096));
}

/* X for the page a fetch was allowed on (a full grant table is taken back
 * first: the pages still in use fault again once, and are granted again). */
bool vmm_exec_grant(u64 gpa)
{
    u64 page = ALIGN_DOWN(gpa, 4096);
    if (xw.ngranted == MAX_GRANTS)
        vmm_exec_revoke();
    spin_lock(&ept_lock);
    bool ok = ept_allow_exec(pml4, page, reserve_page);
    if (ok) {
        xw.granted[xw.ngranted++] = page;
        xw.grants++;
    }
    spin_unlock(&ept_lock);
    if (!ok) {
        kprintf("vigil: execute watch: EPT cannot split the page at gpa 0x%llx to let it execute (%u spare tables "
                "used up)\n", (unsigned long long)page, RESERVE_PAGES);
        return false;
    }
    smp_ept_changed();
    return true;
}

void vmm_exec_revoke(void)
{
    if (!xw.on || !xw.ngranted)
        return;
    spin_lock(&ept_lock);
    u32 n = xw.ngranted;
    xw.ngranted = 0;
    for (u32 i = 0; i < n; i++)
        ept_set_perms(pml4, xw.granted[i], page_perms(xw.granted[i]));
    xw.revokes++;
    spin_unlock(&ept_lock);
    smp_ept_changed();
}

void vmm_exec_revoke_page(u64 gpa)
{
    u64 page = ALIGN_DOWN(gpa, 4096);
    bool found = false;
    spin_lock(&ept_lock);
    for (u32 i = 0; xw.on && i < xw.ngranted && !found; i++)
        if (xw.granted[i] == page) {
            xw.granted[i] = xw.granted[--xw.ngranted];
            ept_set_perms(pml4, page, page_perms(page));
            found = true;
        }
    spin_unlock(&ept_lock);
    if (found)
        smp_ept_changed();
}

bool vmm_exec_granted(u64 start, u64 end, u64 *page)
{
    for (u32 i = 0; xw.on && i < xw.ngranted; i++)
        if (xw.granted[i] >= ALIGN_DOWN(start, 4096) && xw.granted[i] < end) {
            *page = xw.granted[i];
            return true;
        }
    return false;
}

void vmm_exec_stats(u64 *grants, u64 *revokes, u32 *granted)
{
    *grants = xw.grants;
    *revokes = xw.revokes;
    *granted = xw.ngranted;
}

bool vmm_trap_pages(u64 gpa, u64 len, u32 access, u32 owner, char *err, size_t errlen)
{
    if (!pml4 || hvmem_overlaps_owned(gpa, gpa + len)) {
        fmt_snprintf(err, errlen, "gpa 0x%llx-0x%llx is %s", (unsigned long long)gpa,
                     (unsigned long long)(gpa + len), pml4 ? "vigil's own memory" : "not mapped yet");
        return false;
    }
    spin_lock(&ept_lock);
    bool ok = trap_add_page(&traps, gpa, len, access, owner, err, errlen) >= 0;
    u64 first = ALIGN_DOWN(gpa, 4096), end = ALIGN_UP(gpa + len, 4096), a = first;
    while (ok && a < end && set_page(a))
        a += 4096;
    if (ok && a == end && (access & (TRAP_READ | TRAP_WRITE)) && !pci_vtd_protect(first, end - first, access & TRAP_READ))
        kprintf("vigil: VT-d: gpa 0x%llx-0x%llx stays writable for devices: the remapping tables' spare tables are "
                "used up\n", (unsigned long long)first, (unsigned long long)end);
    if (ok && a < end) {
        /* All or nothing: the pages done so far get their old permissions. */
        fmt_snprintf(err, errlen, "EPT cannot split the page at gpa 0x%llx (its %u spare tables are used up)",
                     (unsigned long long)a, RESERVE_PAGES);
        trap_drop_last_page(&traps);
        for (u64 b = first; b <= a; b += 4096)
            set_page(b);
        ok = false;
    }
    spin_unlock(&ept_lock);
    smp_ept_changed();                   /* in force on every CPU from here on */
    return ok;
}

bool vmm_ept_is_protected(u64 gpa) { return trap_page_access(&traps, gpa) != 0; }

/* With EPT every guest-linear translation is a combined mapping, which
 * INVEPT invalidates (SDM 28.4.3.4): the EPT shootdown drops them all. */
void vmm_flush_guest_translations(void) { smp_ept_changed(); }

bool vmm_trap_ports(u16 lo, u16 hi, u32 owner, char *err, size_t errlen)
{
    if (trap_add_ports(&traps, lo, hi, owner, err, errlen) < 0)
        return false;
    io_intercept(lo, (u16)(hi - lo + 1));
    return true;
}

bool vmm_trap_msr_write(u32 msr, u32 owner, char *err, size_t errlen)
{
    if (!msr_write_virtualized(msr)) {
        fmt_snprintf(err, errlen, "vigil does not virtualize writes of MSR 0x%x", msr);
        return false;
    }
    if (trap_add_msr(&traps, msr, owner, err, errlen) < 0)
        return false;
    msr_intercept(msr, false, true);
    return true;
}

bool vmm_trap_cr_write(u8 cr, u64 bits, u32 owner, char *err, size_t errlen)
{
    if (vmm_launch_tsc) {
        fmt_snprintf(err, errlen, "CR traps are armed before the guest runs");
        return false;
    }
    if (trap_add_cr(&traps, cr, bits, owner, err, errlen) < 0)
        return false;
    vcpu_own_cr_bits(cr, bits);
    return true;
}

bool vmm_trap_cr3_loads(char *err, size_t errlen)
{
    if (vmm_launch_tsc) {
        fmt_snprintf(err, errlen, "CR3-load exiting is armed before the guest runs");
        return false;
    }
    vmcs_cr3_load_exiting();
    return true;
}

u32 vmm_cr3_targets(const u64 *vals, u32 n) { return vmcs_set_cr3_targets(vals, n); }

void vmm_guest_gs_bases(u64 *gs, u64 *kernel_gs)
{
    *gs = vmread(GUEST_GS_BASE);
    /* vigil never runs SWAPGS nor writes IA32_KERNEL_GS_BASE, and the
     * guest's accesses to it do not exit: the MSR holds the guest's value. */
    *kernel_gs = rdmsr(MSR_IA32_KERNEL_GS_BASE);
}

void vmm_trap_report(void)
{
    kprintf("vigil: traps: %u of %u page ranges, %u of %u port ranges, %u of %u MSRs, %u of %u CR bit sets; "
            "%u of %u EPT split tables left\n", traps.npages, TRAP_MAX_PAGES, traps.nports, TRAP_MAX_PORTS,
            traps.nmsrs, TRAP_MAX_MSRS, traps.ncrs, TRAP_MAX_CRS, nreserve, RESERVE_PAGES);
}

void vmm_guest_dtr(u64 *ib, u16 *il, u64 *gb, u16 *gl)
{
    *ib = vmread(GUEST_IDTR_BASE);
    *il = (u16)vmread(GUEST_IDTR_LIMIT);
    *gb = vmread(GUEST_GDTR_BASE);
    *gl = (u16)vmread(GUEST_GDTR_LIMIT);
}

void vmm_set_guest_dtr(bool idt, u64 base, u16 limit)
{
    vmwrite(idt ? GUEST_IDTR_BASE : GUEST_GDTR_BASE, base);
    vmwrite(idt ? GUEST_IDTR_LIMIT : GUEST_GDTR_LIMIT, limit);
}

u64 vmm_guest_tr_base(void) { return vmread(GUEST_TR_BASE); }

bool vmm_is_hypervisor_memory(u64 start, u64 end) { return hvmem_overlaps_owned(start, end); }

void vmm_hypervisor_bounds(u64 *start, u64 *end)
{
    const struct mem_range *r;
    u32 n = hvmem_owned(&r);
    *start = ~0ull;
    *end = 0;
    for (u32 i = 0; i < n; i++) {
        if (r[i].start < *start)
            *start = r[i].start;
        if (r[i].end > *end)
            *end = r[i].end;
    }
}

/* MAXPHYADDR (CPUID 0x80000008 EAX[7:0]; 36 where the leaf is missing),
 * read once: CPUID serializes, and the CR3 path needs it. */
u32 vmm_maxphys(void)
{
    static u32 bits;
    if (!bits) {
        u32 a, b, c, d;
        cpuid(0x80000000, 0, &a, &b, &c, &d);
        bits = 36;
        if (a >= 0x80000008) {
            cpuid(0x80000008, 0, &a, &b, &c, &d);
            bits = a & 0xff;
        }
    }
    return bits;
}

u64 vmm_uptime_ns(void) { return vmm_launch_tsc ? tsc_to_ns(rdtsc() - vmm_launch_tsc) : 0; }

u32 vmm_vcpu_count(void) { return ncpus; }

/* --- the one-instruction window ---------------------------------------- */

/* Nothing but the stepped instruction runs while the page is open:
 *   - external interrupts (when RFLAGS.IF lets them in) and NMIs exit
 *     instead of reaching the guest, and every exception exits; any of these
 *     closes the window before a handler runs: an interrupt or NMI is then
 *     delivered as usual and the instruction runs again, an exception the
 *     instruction raised is delivered as the CPU would have;
 *   - TF is vigil's: the guest's own TF is restored, and a PUSHF that ran in
 *     the window has TF taken out of the image it pushed;
 *   - a write made by the delivery of an event (its frame pushed onto a
 *     protected page) has no instruction to step: the preemption timer,
 *     started at 0, ends the entry right after the delivery.
 * A tick that finds the window open closes it (the instruction has not run:
 * it runs again). */

/* The instruction at RIP is PUSHF (after prefixes): its operand size. */
static u32 pushf_size(void)
{
    u8 b[15];
    bool x64 = (vmread(GUEST_CS_AR) >> 13 & 1) && (vmread(GUEST_IA32_EFER) >> 10 & 1);
    bool d32 = x64 || (vmread(GUEST_CS_AR) >> 14 & 1);
    if (!guest_linear(vmread(GUEST_CS_BASE) + vmread(GUEST_RIP), b, 1, false))
        return 0;
    bool osize = false;
    for (u32 i = 0; i < sizeof(b); i++) {
        if (i && !guest_linear(vmread(GUEST_CS_BASE) + vmread(GUEST_RIP) + i, b + i, 1, false))
            return 0;
        u8 c = b[i];
        if (c == 0x66)
            osize = true;
        else if (c == 0x67 || c == 0xf0 || c == 0xf2 || c == 0xf3 || c == 0x26 || c == 0x2e || c == 0x36 ||
                 c == 0x3e || c == 0x64 || c == 0x65 || (x64 && (c & 0xf0) == 0x40))
            continue;
        else
            return c == 0x9c ? (osize ? 2 : x64 ? 8 : d32 ? 4 : 2) : 0;
    }
    return 0;
}

void vmm_step_through(u64 gpa)
{
    struct step_window *step = &this_cpu()->step;
    u64 page = ALIGN_DOWN(gpa, 4096);
    if (step->n == ARRAY_SIZE(step->pages)) {
        vcpu_inject_gp();                      /* an instruction touching >4 protected pages: refuse */
        return;
    }
    /* No other vCPU runs guest code while a page is open. */
    if (!step->active)
        smp_world_stop();
    spin_lock(&ept_lock);
    ept_set_perms(pml4, page, EPT_RWX);
    spin_unlock(&ept_lock);
    step->pages[step->n++] = page;
    invept(INVEPT_ALL, 0);
    if (step->active)
        return;
    step->active = true;
    u64 rfl = vmread(GUEST_RFLAGS);
    step->tf_was_set = rfl & (1u << 8);
    step->intr = vmread(GUEST_INTERRUPTIBILITY);
    step->delivery = (vmread(IDT_VECTORING_INFO) & INTR_VALID) && vmcs_can_expire_now();
    step->pushf = step->delivery ? 0 : pushf_size();
    vmcs_step_controls(true, rfl & (1u << 9), step->delivery);
    if (step->delivery)
        return;                                /* the event is injected again at this entry */
    vmwrite(GUEST_RFLAGS, rfl | (1u << 8));
    /* With TF set, VM entry demands a pending single-step if STI/MOV-SS
     * blocking is on (SDM 26.3.1.5); that would trap before the write. */
    if (step->intr & 3)
        vmwrite(GUEST_INTERRUPTIBILITY, step->intr & ~3ull);
}

void vmm_step_recheck(u64 gpa, u32 owner)
{
    struct step_window *step = &this_cpu()->step;
    if (!step->active || step->nrecheck == ARRAY_SIZE(step->recheck))
        return;                                /* refused (#GP), or already four: each page is judged whole */
    step->recheck[step->nrecheck++] = (typeof(step->recheck[0])){ gpa, vmread(GUEST_RIP), owner };
}

/* The IDS judges what the writes it asked to see again left (an interrupted
 * instruction may have written part: a REP iteration). The other vCPUs are
 * still held. */
static void step_after(struct step_window *step)
{
    u32 n = step->nrecheck;
    step->nrecheck = 0;
    for (u32 i = 0; i < n; i++) {
        struct ids_event e;
        vmm_fill_event(&e, IDS_EV_EPT);
        e.rip = step->recheck[i].rip;          /* the writing instruction's */
        e.owner = step->recheck[i].owner;
        e.ept.gpa = step->recheck[i].gpa;
        e.ept.access = IDS_WRITE;
        e.ept.after = true;
        ids_event(&e);                         /* it puts back what it refuses; a suspend comes at the next tick */
    }
}

/* Close the window: the pages get their trapped permissions back, the
 * controls and the guest's own TF return. ran: the instruction completed. */
static void step_close(struct step_window *step, bool ran)
{
    if (ran && step->pushf && !step->tf_was_set) {
        /* The image PUSHF stored (the page is still open) carries vigil's TF. */
        u64 sp = vmread(GUEST_SS_BASE) + vmread(GUEST_RSP), img = 0;
        if (guest_linear(sp, &img, step->pushf, false)) {
            img &= ~(u64)(1u << 8);
            guest_linear(sp, &img, step->pushf, true);
        }
    }
    spin_lock(&ept_lock);
    for (u32 i = 0; i < step->n; i++)
        ept_set_perms(pml4, step->pages[i], page_perms(step->pages[i]));
    spin_unlock(&ept_lock);
    invept(INVEPT_ALL, 0);
    vmcs_step_controls(false, false, false);
    if (!step->delivery && !step->tf_was_set)
        vmwrite(GUEST_RFLAGS, vmread(GUEST_RFLAGS) & ~(u64)(1u << 8));
    if (!ran && !step->delivery)
        vmwrite(GUEST_INTERRUPTIBILITY, step->intr);   /* as it was before the instruction */
    step->n = 0;
    step->active = false;
    step_after(step);
    smp_world_start();
}

bool vmm_step_done(void)
{
    struct step_window *step = &this_cpu()->step;
    if (!step->active || step->delivery)
        return false;
    bool tf = step->tf_was_set;
    step_close(step, true);
    if (tf)
        vcpu_inject_exception(1, false, 0);    /* the guest was single-stepping itself */
    return true;
}

bool vmm_step_abort(void)
{
    struct step_window *step = &this_cpu()->step;
    if (!step->active)
        return false;
    step_close(step, false);
    return true;
}

void vmm_step_expire(void) { vmm_step_abort(); }
