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
#include "arch/x86_64/cpu.h"
#include "lib/spinlock.h"
#include "lib/log.h"
#include "lib/fmt.h"

#define RESERVE_PAGES 48

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

static bool set_page(u64 page)
{
    return ept_restrict(pml4, page, 0, reserve_page) &&      /* split to 4 KiB if need be */
           ept_set_perms(pml4, page, ept_perms(trap_page_access(&traps, page)));
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

/* --- the one-instruction window ---------------------------------------- */

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
    vmwrite(GUEST_RFLAGS, rfl | (1u << 8));
    vmwrite(EXCEPTION_BITMAP, vmread(EXCEPTION_BITMAP) | (1u << 1));
    /* With TF set, VM entry demands a pending single-step if STI/MOV-SS
     * blocking is on (SDM 26.3.1.5); that would trap before the write. */
    u64 intr = vmread(GUEST_INTERRUPTIBILITY);
    if (intr & 3)
        vmwrite(GUEST_INTERRUPTIBILITY, intr & ~3ull);
}

/* A #DB exit: the window's instruction has run (or another #DB arrived). */
static void step_close(struct step_window *step)
{
    spin_lock(&ept_lock);
    for (u32 i = 0; i < step->n; i++)
        ept_set_perms(pml4, step->pages[i], ept_perms(trap_page_access(&traps, step->pages[i])));
    spin_unlock(&ept_lock);
    invept(INVEPT_ALL, 0);
    step->n = 0;
    step->active = false;
    vmwrite(EXCEPTION_BITMAP, vmread(EXCEPTION_BITMAP) & ~(u64)(1u << 1));
    smp_world_start();
}

bool vmm_step_done(void)
{
    struct step_window *step = &this_cpu()->step;
    if (!step->active)
        return false;
    bool tf = step->tf_was_set;
    step_close(step);
    if (!tf)
        vmwrite(GUEST_RFLAGS, vmread(GUEST_RFLAGS) & ~(u64)(1u << 8));
    else
        vcpu_inject_exception(1, false, 0);    /* the guest was single-stepping itself */
    return true;
}

/* A tick while the window is open: the stepped instruction did not end in
 * a #DB (it faulted, and the guest's handler cleared TF). The page closes
 * and the other vCPUs go on; the guest keeps what TF it has now. */
void vmm_step_expire(void)
{
    struct step_window *step = &this_cpu()->step;
    if (step->active)
        step_close(step);
}
