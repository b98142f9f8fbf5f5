/* testos: attacks on what the lie detector and io-guard trust
 * (docs/testos.md, "Evasions"): a process hidden inside an address space
 * that is listed or owned by no process, and a process whose name or code
 * is changed under it so that an allow-list lets it through. */
#include "kernel.h"
#include "mm.h"
#include "proc.h"
#include "trap.h"
#include "scenario.h"
#include "syscall.h"

extern u8 boot_pml4[];           /* boot.asm: the boot tables' root (identity-linked) */

static bool listed(const struct proc *p)
{
    for (struct proc *q = proc_list; q; q = q->next)
        if (q == p)
            return true;
    return false;
}

static void unlink(struct proc *p)
{
    for (struct proc **pp = &proc_list; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

enum borrow { IN_KERNEL, IN_BOOT, IN_LISTED };

/* ---- the tick-phase dodge (hide-tick-phase) --------------------------------
 * A hider that knows how vigil samples: vigil's docs say its tick comes every
 * 10 ms of TSC, at the first VM exit after the period is up (or on the VMX
 * preemption timer). An exit takes the CPU away from the guest for thousands
 * of cycles, which RDTSC shows. So the rootkit, running as a listed process
 * with interrupts off, executes CPUID (an exit each) and reads the TSC until a
 * gap far longer than a CPUID exit's shows vigil's tick: it then knows the
 * tick is behind it and the next is a period away. It lets the ghost run for
 * one quantum (5 ms) and puts it to sleep again before the next tick, which
 * then finds the listed rootkit process running: the ghost is never on the
 * CPU when vigil looks. Bare there is no gap: the ghost runs freely. */
struct dodge {
    u64 ticks_found, period, gap, cpuid_gap;    /* TSC cycles */
    u64 rounds, ghost_ran;                       /* rounds the ghost ran in, between two ticks */
};

/* Spin with interrupts off until a gap > thresh shows an exit much longer
 * than CPUID's (0 after limit cycles). The smallest gap seen is CPUID's. */
static u64 tick_gap(u64 limit, u64 thresh, u64 *min_gap, u64 *gap)
{
    u32 a, b, c, d;
    u64 start = rdtsc(), prev = start;
    for (;;) {
        cpuid(0, 0, &a, &b, &c, &d);
        u64 t = rdtsc(), g = t - prev;
        prev = t;
        if (g < *min_gap)
            *min_gap = g;
        if (g > thresh) {
            *gap = g;
            return t;
        }
        if (t - start > limit)
            return 0;
    }
}

/* The expiry dodge (hide-sample-expiry): vigil's docs say a task missing
 * from the list is reported when two different tick periods miss it, and
 * that a suspicion is forgotten after a second unseen. So the ghost runs a
 * single quantum within one tick period, and then stays off the CPU for
 * longer than that second before its next round: whatever sample sees it,
 * each sighting is a first one. The tick is told from a sample by its
 * period (tick_by_period). */
#define EXPIRY_ROUNDS 20
#define EXPIRY_REST_MS 1200

/* The tick, told from the samples by its period (the expiry dodge): vigil
 * ticks every 10 ms of TSC, the samples come at random moments. Of the
 * gaps seen in 32 ms, two a whole number of periods apart (within a
 * quarter of a millisecond) are ticks; the next tick is a period after the
 * later one, and is the first gap within half a millisecond of that
 * moment. Returns its TSC, 0 (bare: no gap at all), or ~0 (gaps, but no
 * tick found: the round is given up, the ghost does not run in it). */
#define PERIOD_GAPS 64
static u64 tick_by_period(u64 per_ms, u64 thresh, u64 *min_gap, u64 *gap)
{
    u32 a, b, c, d;
    static u64 at[PERIOD_GAPS];
    unsigned n = 0;
    u64 start = rdtsc(), prev = start, period = 10 * per_ms, tick = 0;
    for (;;) {
        cpuid(0, 0, &a, &b, &c, &d);
        u64 t = rdtsc(), g = t - prev;
        prev = t;
        if (g < *min_gap)
            *min_gap = g;
        if (g > thresh && n < PERIOD_GAPS)
            at[n++] = t;
        if (t - start > 32 * per_ms)
            break;
    }
    if (!n)
        return 0;
    for (unsigned j = 1; j < n; j++)
        for (unsigned i = 0; i < j; i++) {
            u64 dt = at[j] - at[i], k = (dt + period / 2) / period;
            u64 off = dt > k * period ? dt - k * period : k * period - dt;
            if (k && off < per_ms / 4 && at[j] > tick)
                tick = at[j];
        }
    if (!tick)
        return ~0ull;
    u64 next = tick + period;
    while (next < prev + per_ms)
        next += period;
    for (;;) {
        cpuid(0, 0, &a, &b, &c, &d);
        u64 t = rdtsc(), g = t - prev;
        prev = t;
        if (g > thresh && t + per_ms / 2 >= next && t <= next + per_ms / 2) {
            *gap = g;
            return t;
        }
        if (t > next + per_ms / 2)
            next += period;                      /* no gap there: the next period's */
        if (t - start > 80 * per_ms)
            return ~0ull;
    }
}

/* g is asleep (hide_in put it to sleep as it unlinked it). rest_ms: how
 * long the ghost stays off the CPU between rounds (0: the next tick's). */
static void dodge_ticks(struct proc *g, struct dodge *st, unsigned rounds, unsigned rest_ms)
{
    u64 t0 = rdtsc(), u0 = ticks;
    proc_sleep(10);                              /* the TSC's rate, by the PIT */
    u64 per_ms = (rdtsc() - t0) / (ticks - u0 ? ticks - u0 : 1);
    if (rest_ms) {                               /* to a period's 0.1%: 50 PIT ticks, edge to edge */
        u0 = ticks;
        while (ticks == u0)
            __asm__ volatile("pause");
        t0 = rdtsc();
        u0 = ticks;
        while (ticks < u0 + 50)
            __asm__ volatile("pause");
        per_ms = (rdtsc() - t0) / 50;
    }
    u64 min_gap = ~0ull, gap = 0, last = 0;
    /* A CPUID exit is a few thousand cycles; vigil's tick tens of thousands. */
    u64 thresh = per_ms / 200;                   /* 5 us: no CPUID exit is that long */
    for (unsigned r = 0; r < rounds; r++) {
        u64 f = irq_save();
        g->state = PROC_SLEEPING;                /* off the CPU across the tick */
        g->wake_tick = ~0ull;
        u64 t = rest_ms ? tick_by_period(per_ms, thresh, &min_gap, &gap) : tick_gap(25 * per_ms, thresh, &min_gap, &gap);
        if (t == ~0ull) {                        /* vigil is there, its tick was not found: not this round */
            irq_restore(f);
            st->rounds++;
            proc_sleep(rest_ms);
            continue;
        }
        if (t) {
            st->ticks_found++;
            if (last && t - last < 15 * per_ms)
                st->period = t - last;
            last = t;
            st->gap = gap;
        }
        u64 until = t + 5 * per_ms;              /* one quantum, well before the next tick */
        g->state = PROC_RUNNABLE;
        u64 s0 = g->nswitch;
        irq_restore(f);
        if (t) {
            while (rdtsc() < until && g->nswitch == s0)
                proc_yield();                    /* the ghost runs its quantum; we come back after it */
        } else {
            proc_sleep(10);                      /* no tick to dodge: it runs freely */
        }
        if (g->nswitch > s0)
            st->ghost_ran++;
        st->rounds++;
        if (rest_ms && r + 1 < rounds) {
            f = irq_save();
            g->state = PROC_SLEEPING;            /* off the CPU until its suspicion has expired */
            g->wake_tick = ~0ull;
            irq_restore(f);
            proc_sleep(rest_ms);
        }
    }
    st->cpuid_gap = min_gap;
    u64 f = irq_save();
    g->state = PROC_RUNNABLE;
    irq_restore(f);
}

/* The lying `current` (hide-lying-current): while the ghost runs, the
 * kernel's `current` names the decoy instead. The rootkit hooks the
 * kernel's trap entry: on the way in it puts the truth back (the kernel
 * itself needs it: the scheduler, the fault handlers), on the way out to
 * the ghost it lies again. */
static struct proc *volatile lie_ghost, *volatile lie_decoy;
static volatile bool lying;
static volatile u64 lies;             /* returns to the ghost with `current` naming the decoy */

static void lie_hook(struct trap_frame *f, bool entry)
{
    (void)f;
    struct proc *g = lie_ghost, *d = lie_decoy;
    if (!g || !d) {
        if (lying && current == d)
            current = g;
        lying = false;
        return;
    }
    if (entry) {
        if (lying && current == d)
            current = g;
        lying = false;
    } else if (current == g) {
        current = d;
        lying = true;
        lies++;
    }
}

/* ---- hide-in-kernel-as, hide-in-boot-as, hide-in-listed-as ---------------
 * The ghost is unlinked from proc_list and its user half is grafted into
 * another root: the kernel's PML4, the boot tables' (with the kernel half
 * copied in, so the kernel still runs there), or the PML4 of a listed
 * decoy that the rootkit keeps asleep. The ghost then runs under that CR3,
 * which a lie detector comparing CR3 values finds listed or "no process". */
enum dodge_kind { NO_DODGE, DODGE_TICKS, DODGE_EXPIRY };

static bool hide_in(const char *n, enum borrow where, bool lie, enum dodge_kind dodge)
{
    struct proc *decoy = NULL;
    int dpid = -1;
    if (where == IN_LISTED) {
        dpid = proc_spawn("sleeper", 7, current->pid);
        u64 f = irq_save();
        decoy = dpid >= 0 ? proc_find(dpid) : NULL;
        if (decoy) {                     /* kept asleep while its tables are borrowed */
            decoy->state = PROC_SLEEPING;
            decoy->wake_tick = ticks + 100000;
        }
        irq_restore(f);
        if (!decoy)
            return false;
    }
    int pid = proc_spawn("ghost", dodge == DODGE_EXPIRY ? EXPIRY_ROUNDS * (EXPIRY_REST_MS + 50) : dodge ? 400 : 200,
                         current->pid);
    if (pid < 0)
        return false;
    proc_sleep(5);                       /* it runs, listed, in its own address space */
    attack_begin(n);
    u64 f = irq_save();
    struct proc *p = proc_find(pid);
    if (!p) {
        irq_restore(f);
        return false;
    }
    u64 own = p->cr3;
    u64 root = where == IN_KERNEL ? kernel_pml4 : where == IN_BOOT ? (u64)boot_pml4 : decoy->cr3;
    u64 *dst = phys_to_virt(root), *src = phys_to_virt(own);
    static u64 saved[512];
    memcpy(saved, dst, sizeof saved);
    if (where == IN_BOOT)                /* the kernel half, so that the kernel runs there too */
        for (int i = 256; i < 512; i++)
            dst[i] = ((u64 *)phys_to_virt(kernel_pml4))[i];
    for (int i = 0; i < 256; i++)
        if (src[i] & PTE_P)
            dst[i] = src[i];
    unlink(p);
    p->cr3 = root;
    if (dodge) {                         /* not on the CPU until the dodge has found vigil's tick */
        p->state = PROC_SLEEPING;
        p->wake_tick = ~0ull;
    }
    u64 s0 = p->nswitch;
    if (lie) {
        lie_ghost = p;
        lie_decoy = decoy;
        lies = 0;
        trap_edge_hook = lie_hook;
    }
    irq_restore(f);
    kprintf("%s: pid %d (ghost) unlinked, running on CR3 0x%lx (%s)\n", n, pid, root,
            where == IN_KERNEL ? "the kernel's" : where == IN_BOOT ? "the boot tables" : "the decoy's, listed");
    struct dodge st;
    memset(&st, 0, sizeof st);
    if (dodge)
        dodge_ticks(p, &st, dodge == DODGE_EXPIRY ? EXPIRY_ROUNDS : 20, dodge == DODGE_EXPIRY ? EXPIRY_REST_MS : 0);
    else
        proc_sleep(40);
    f = irq_save();
    if (lie) {
        trap_edge_hook = NULL;           /* (a trap already in the hook finishes it) */
        lie_ghost = lie_decoy = NULL;
        lying = false;
    }
    bool alive = proc_find(pid) == p, hidden = !listed(p), ran = alive && p->nswitch > s0 && p->cr3 == root;
    u64 s1 = alive ? p->nswitch : 0;
    if (alive) {                         /* back home, and listed again, before it exits */
        p->cr3 = own;
        struct proc **pp = &proc_list;
        while (*pp)
            pp = &(*pp)->next;
        p->next = NULL;
        *pp = p;
    }
    memcpy(dst, saved, sizeof saved);
    write_cr3(read_cr3());
    if (decoy)
        decoy->wake_tick = ticks;
    irq_restore(f);
    kprintf("%s: pid %d %s in proc_list; ran on the borrowed CR3: %s (%lu switches in %s)\n", n, pid,
            hidden ? "not" : "still", ran ? "yes" : "no", s1 - s0, dodge == DODGE_EXPIRY ? "20 rounds" : dodge ? "20 rounds" : "40 ms");
    if (dodge == DODGE_TICKS)
        kprintf("%s: hypervisor ticks found: %lu of %lu rounds (period %lu cycles, last gap %lu, CPUID exit %lu); "
                "the ghost ran between them in %lu rounds\n", n, st.ticks_found, st.rounds, st.period, st.gap,
                st.cpuid_gap, st.ghost_ran);
    if (dodge == DODGE_EXPIRY)
        kprintf("%s: hypervisor ticks found: %lu of %lu rounds (last gap %lu, CPUID exit %lu); the ghost ran one "
                "quantum after each in %lu rounds, %u ms apart\n", n, st.ticks_found, st.rounds, st.gap,
                st.cpuid_gap, st.ghost_ran, EXPIRY_REST_MS);
    if (lie)
        kprintf("%s: `current` named the decoy (pid %d) on %lu returns to the ghost\n", n, dpid, lies);
    attack_result(n, hidden && ran && (!lie || lies > 0));
    kprintf("%s: ghost exited with %d\n", n, proc_wait(pid));
    if (dpid >= 0)
        kprintf("%s: decoy exited with %d\n", n, proc_wait(dpid));
    return true;
}

bool sc_hide_in_kernel_as(void) { return hide_in("hide-in-kernel-as", IN_KERNEL, false, NO_DODGE); }
bool sc_hide_in_boot_as(void) { return hide_in("hide-in-boot-as", IN_BOOT, false, NO_DODGE); }
bool sc_hide_in_listed_as(void) { return hide_in("hide-in-listed-as", IN_LISTED, false, NO_DODGE); }
/* hide-lying-current: hide-in-listed-as, and `current` names the decoy
 * whenever the ghost runs: the CR3 and the task the kernel says runs are
 * both the listed decoy's. */
bool sc_hide_lying_current(void) { return hide_in("hide-lying-current", IN_LISTED, true, NO_DODGE); }
/* hide-tick-phase: hide-in-listed-as, with the ghost on the CPU only between
 * vigil's ticks (the tick-phase dodge above). */
bool sc_hide_tick_phase(void) { return hide_in("hide-tick-phase", IN_LISTED, false, DODGE_TICKS); }
/* hide-sample-expiry: the same, one quantum a round, and the ghost off the
 * CPU for longer than a suspicion lasts between rounds (the expiry dodge). */
bool sc_hide_sample_expiry(void) { return hide_in("hide-sample-expiry", IN_LISTED, false, DODGE_EXPIRY); }

/* ---- rename-diskd: a raw-disk process renamed to the allowed name -------- */

bool sc_rename_diskd(void)
{
    const char *n = "rename-diskd";
    int pid = proc_spawn("rawio", 30, current->pid);
    if (pid < 0)
        return false;
    proc_sleep(10);                      /* it has run as rawio, taken IOPL 3, and sleeps */
    attack_begin(n);
    u64 f = irq_save();
    struct proc *p = proc_find(pid);
    if (p)
        strlcpy(p->name, "diskd", sizeof p->name);
    irq_restore(f);
    kprintf("%s: pid %d renamed from rawio to %s; it now drives ports 0x1f0-0x1f7\n", n, pid, p ? p->name : "?");
    int code = proc_wait(pid);
    kprintf("%s: rawio exited with %d\n", n, code);
    attack_result(n, p && code == 0);
    return true;
}

/* ---- rename-with-pid, rename-with-pid-code: diskd's name and pid taken ----
 * diskd (allowed) runs and exits; rawio, spawned beside it, takes IOPL 3
 * and sleeps 60 ms. Meanwhile the rootkit gives rawio's entry diskd's pid
 * as well as its name, so that whatever vigil keys a process by, it looks
 * like diskd come back (or a new diskd in rawio's slot). rename-with-pid-
 * code also changes a byte of rawio's code (slack at the end of its code
 * page), so that it does not even look like the process that first ran.
 * Succeeded: the device answered (rawio, now "diskd", exits 0). */
static bool rename_with_pid(const char *n, bool code)
{
    int dpid = proc_spawn("diskd", 0, current->pid);
    int pid = proc_spawn("rawio", 60, current->pid);
    if (dpid < 0 || pid < 0)
        return false;
    int dcode = proc_wait(dpid);
    kprintf("%s: diskd (pid %d) drove the disk and exited with %d\n", n, dpid, dcode);
    attack_begin(n);
    u64 f = irq_save();
    struct proc *p = proc_find(pid);
    bool poked = false;
    if (p) {
        p->pid = dpid;
        strlcpy(p->name, "diskd", sizeof p->name);
        u64 a, fl;
        if (code && vm_translate(p->cr3, USER_IMAGE_BASE, &a, &fl)) {
            u8 *page = phys_to_virt(a & PTE_ADDR);
            page[PAGE_SIZE - 1] ^= 0x5a;   /* the slack after its code: never runs */
            poked = true;
        }
    }
    irq_restore(f);
    kprintf("%s: rawio (pid %d) now has diskd's pid %d and name%s; it drives ports 0x1f0-0x1f7\n", n, pid, dpid,
            poked ? ", and one byte of its code page changed" : "");
    int rc = proc_wait(dpid);
    kprintf("%s: rawio, as diskd (pid %d), exited with %d\n", n, dpid, rc);
    attack_result(n, p && rc == 0 && (!code || poked));
    return true;
}

bool sc_rename_with_pid(void) { return rename_with_pid("rename-with-pid", false); }
bool sc_rename_with_pid_code(void) { return rename_with_pid("rename-with-pid-code", true); }

/* ---- inject-diskd: code put into the allowed process ---------------------
 * While diskd sleeps in a system call (after taking IOPL 3), the rootkit
 * writes a stub into the slack at the end of diskd's last code page and
 * points the saved user RIP at it. The stub reads the ATA status register
 * and exits with 0x100 + the status: 0x1ff means nothing answered (a
 * refused read returns all ones). */
static const u8 stub[] = {
    0x66, 0xba, 0xf7, 0x01,              /* mov dx, 0x1f7 */
    0xec,                                /* in al, dx */
    0x0f, 0xb6, 0xc0,                    /* movzx eax, al */
    0x8d, 0xb8, 0x00, 0x01, 0x00, 0x00,  /* lea edi, [rax + 0x100] */
    0xb8, 0x04, 0x00, 0x00, 0x00,        /* mov eax, SYS_exit */
    0x0f, 0x05,                          /* syscall */
    0xeb, 0xfe,                          /* jmp $ */
};
_Static_assert(SYS_exit == 4, "the stub's system call number");

bool sc_inject_diskd(void)
{
    const char *n = "inject-diskd";
    int pid = proc_spawn("diskd", 30, current->pid);
    if (pid < 0)
        return false;
    proc_sleep(10);
    attack_begin(n);
    u64 f = irq_save();
    struct proc *p = proc_find(pid);
    u64 va = 0, pa = 0;
    /* The last executable page of its image, and the zero slack at its end. */
    for (u64 v = USER_IMAGE_BASE; p && v < USER_IMAGE_BASE + 64 * PAGE_SIZE; v += PAGE_SIZE) {
        u64 a, fl;
        if (vm_translate(p->cr3, v, &a, &fl) && !(fl & PTE_NX))
            va = v, pa = a & PTE_ADDR;
    }
    bool planted = false;
    if (va && p->uframe) {
        u8 *page = phys_to_virt(pa);
        u32 at = PAGE_SIZE - 64;
        bool slack = true;
        for (u32 i = at; i < PAGE_SIZE; i++)
            slack &= page[i] == 0;
        if (slack) {
            memcpy(page + at, stub, sizeof stub);
            p->uframe->rip = va + at;
            planted = true;
        }
    }
    irq_restore(f);
    kprintf("%s: stub %s diskd's code page 0x%lx (pid %d)\n", n, planted ? "planted in" : "not planted in", va, pid);
    int code = proc_wait(pid);
    kprintf("%s: diskd exited with 0x%x%s\n", n, code,
            code == 0x1ff ? " (the status read returned all ones)" : "");
    attack_result(n, planted && code >= 0x100 && code < 0x1ff);
    return true;
}
