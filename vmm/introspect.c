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

#define RESERVE_PAGES 48
#define MAX_PROT 32
#define MAX_WATCH 16

static u64 *pml4;
static void *reserve[RESERVE_PAGES];
static u32 nreserve;
static struct { u64 start, end, deny; } prot[MAX_PROT];
static u32 nprot;
static struct { u16 lo, hi; } watch[MAX_WATCH];
static u32 nwatch;
static struct spinlock ept_lock;       /* protect/split and open/close: one CPU at a time */

static void *reserve_page(void) { return nreserve ? reserve[--nreserve] : 0; }

void introspect_init(u64 *ept_pml4)
{
    pml4 = ept_pml4;
    /* Tables for splitting large EPT pages later, taken now: the exit path
     * never allocates. */
    for (nreserve = 0; nreserve < RESERVE_PAGES; nreserve++)
        reserve[nreserve] = hv_alloc_pages(1, 1);
}

static u64 ept_deny(u32 deny) { return (deny & IDS_WRITE ? EPT_W : 0) | (deny & IDS_EXEC ? EPT_X : 0); }

bool vmm_ept_protect(u64 gpa, u64 len, u32 deny)
{
    if (!pml4 || nprot == MAX_PROT || !len || hvmem_overlaps_owned(gpa, gpa + len))
        return false;
    spin_lock(&ept_lock);
    bool ok = true;
    for (u64 a = ALIGN_DOWN(gpa, 4096); a < gpa + len && ok; a += 4096)
        ok = ept_restrict(pml4, a, ept_deny(deny), reserve_page);
    if (ok)
        prot[nprot++] = (typeof(prot[0])){ ALIGN_DOWN(gpa, 4096), ALIGN_UP(gpa + len, 4096), ept_deny(deny) };
    spin_unlock(&ept_lock);
    smp_ept_changed();                   /* in force on every CPU from here on */
    return ok;
}

bool vmm_ept_is_protected(u64 gpa)
{
    for (u32 i = 0; i < nprot; i++)
        if (gpa >= prot[i].start && gpa < prot[i].end)
            return true;
    return false;
}

static u64 deny_of(u64 page)
{
    u64 d = 0;
    for (u32 i = 0; i < nprot; i++)
        if (page >= prot[i].start && page < prot[i].end)
            d |= prot[i].deny;
    return d;
}

void vmm_io_watch(u16 port, u16 count)
{
    if (nwatch < MAX_WATCH && count) {
        watch[nwatch].lo = port;
        watch[nwatch].hi = (u16)(port + count - 1);
        nwatch++;
        io_intercept(port, count);
    }
}

bool vmm_port_watched(u16 port)
{
    for (u32 i = 0; i < nwatch; i++)
        if (port >= watch[i].lo && port <= watch[i].hi)
            return true;
    return false;
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

u32 vmm_vcpu_count(void) { return ncpus; }

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
        ept_restrict(pml4, step->pages[i], deny_of(step->pages[i]), 0);
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
