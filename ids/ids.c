/* The IDS engine: policy and profile set-up, event routing to the policy
 * modules, alert raising, and the views the policies share (the process
 * list, the address spaces seen, the protected regions). Nothing here
 * allocates: every table is fixed-size and bounded. */
#include "lib/spinlock.h"
#include "ids/engine.h"
#include "ids/alert.h"
#include "ids/elfsyms.h"
#include "lib/insn.h"
#include "ids/xlate.h"
#include "vmm/introspect.h"
#include "arch/x86_64/cpu.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/string.h"

struct ids_state ids;
static bool enabled;
static struct alert_log alog;
static u64 reported_suppressed, reported_dropped;
/* A suspend raised where there is no access to hold (an audit, a scan, a
 * tick, a CR3 load): carried out at the end of the next tick or CR3 load. */
static const char *pending_suspend;
static struct ids_object objects[IDS_MAX_OBJECTS];
static u32 nobjects;
static u32 trap_failures;              /* before the guest runs: any refuses the guest */
static bool started;                   /* IDS_EV_START is over: the guest runs */
static bool place_tried;               /* a kaslr profile: the first LSTAR write was looked at */
static bool no_pml4;                   /* the profile names no kernel_pml4 (Linux's): not looked up again */

static const struct policy_ops *const policies[POL_COUNT] = {
    [POL_KERNEL_TEXT] = &pol_kernel_text,
    [POL_CRITICAL_TABLES] = &pol_critical_tables,
    [POL_MSR_GUARD] = &pol_msr_guard,
    [POL_CR_GUARD] = &pol_cr_guard,
    [POL_HIDDEN_PROCESS] = &pol_hidden_process,
    [POL_PAGETABLE_AUDIT] = &pol_pagetable_audit,
    [POL_IO_GUARD] = &pol_io_guard,
    [POL_SIGNATURE] = &pol_signature,
    [POL_HYPERVISOR_GUARD] = &pol_hypervisor_guard,
    [POL_DMA_GUARD] = &pol_dma_guard,
    [POL_HIDDEN_MODULE] = &pol_hidden_module,
    [POL_RAW_SOCKET] = &pol_raw_socket,
    [POL_PROGRAM_INTEGRITY] = &pol_program_integrity,
};

/* Which policy an event type goes to when no subscription names it; the
 * others are dispatched in ids_event itself. */
static const enum policy_id route[IDS_EV_COUNT] = {
    [IDS_EV_DTR_LOAD] = POL_CRITICAL_TABLES,
    [IDS_EV_HV_REACH] = POL_HYPERVISOR_GUARD,
    [IDS_EV_DMA] = POL_DMA_GUARD,
};

static const char *const event_names[IDS_EV_COUNT] = {
    "start", "power-off", "CR3 load", "EPT (protected page)", "port I/O", "MSR write", "CR0/CR4 write",
    "IDTR/GDTR load", "tick", "reach for vigil", "vCPU start", "DMA", "random-time sample",
};
static u64 ev_count[IDS_EV_COUNT], ev_cycles[IDS_EV_COUNT];
static u64 vticks[IDS_MAX_VCPUS];
static u64 pol_cycles[POL_COUNT];
static u64 tick_cycles[POL_COUNT + 1];   /* the periodic part alone; [POL_COUNT]: the translation guard */

/* Run a policy hook and charge its cycles to the policy. */
#define TIMED(id, call) do { u64 _t = rdtsc(); call; pol_cycles[id] += rdtsc() - _t; } while (0)
/* A tick's hook: charged to the policy, and to its periodic share. */
#define TIMED_TICK(id, call) do { u64 _t = rdtsc(); call; _t = rdtsc() - _t; pol_cycles[id] += _t; \
                                  tick_cycles[id] += _t; } while (0)

bool ids_enabled(void) { return enabled; }

bool ids_policy_on(enum policy_id id) { return enabled && ids.cfg.pol[id].enabled; }

/* --- set-up ----------------------------------------------------------------- */

bool ids_init(const struct boot_info *bi, bool on)
{
    char err[200];
    policy_defaults(&ids.cfg);
    alert_log_init(&alog);
    nobjects = trap_failures = 0;
    started = place_tried = no_pml4 = false;
    enabled = on;
    const struct mb2_module *m = mb2_find_module(bi, "policy");
    if (m) {
        if (policy_parse((const char *)m->start, m->end - m->start, &ids.cfg, err, sizeof(err))) {
            kprintf("vigil: bad policy file: %s\n", err);
            if (on) {
                kprintf("vigil: refusing to start the guest with a broken policy (fail closed; ids=off overrides)\n");
                return false;
            }
            kprintf("vigil: ids=off: starting the guest anyway, without the IDS\n");
        } else {
            kprintf("vigil: policy file: %llu bytes\n", (unsigned long long)(m->end - m->start));
        }
    }
    m = mb2_find_module(bi, "profile");
    if (m) {
        if (profile_parse((const char *)m->start, m->end - m->start, &ids.prof, err, sizeof(err)))
            kprintf("vigil: bad profile, introspection limited to the hardware view: %s\n", err);
        else
            ids.have_profile = true;
        if (ids.have_profile)
            program_integrity_load((const char *)m->start, m->end - m->start);
    }
    if (!ids.have_profile && (m = mb2_find_module(bi, "guest"))) {
        /* No profile: the guest ELF's own symbol table gives the kernel's
         * image and tables, though no structure layouts (no process list). */
        if (elfsyms_profile((const u8 *)m->start, m->end - m->start, &ids.prof, err, sizeof(err)))
            kprintf("vigil: no profile module, and no symbols either: %s\n", err);
        else {
            ids.have_profile = true;
            kprintf("vigil: no profile module: symbols from the guest ELF (no structure layouts: no process list)\n");
        }
    }
    if (!on) {
        kprintf("vigil: IDS off (ids=off): no policies run; vigil still refuses any reach for itself\n");
        return true;
    }
    vmi_init(ids.have_profile ? &ids.prof : 0);
    ids.have_idt_symbol = ids.have_profile && profile_symbol(&ids.prof, "idt", &ids.idt_kva, 0);
    kprintf("vigil: IDS on; profile: %s%s%s\n", ids.have_profile ? ids.prof.os : "none (no process names)",
            ids.have_profile && ids.prof.release[0] ? " " : "", ids.have_profile ? ids.prof.release : "");
    if (ids.have_profile && ids.prof.kaslr)
        kprintf("vigil: the profile's addresses are link-time: placed when the kernel first writes LSTAR "
                "(KASLR)\n");
    for (u32 i = 0; i < POL_COUNT; i++) {
        const char *src = ids.cfg.pol[i].line ? "policy file" : "default";
        kprintf("  %-17s %-3s action=%-7s severity=%-8s (%s)\n", policy_name((enum policy_id)i),
                ids.cfg.pol[i].enabled ? "on" : "off", action_name(ids.cfg.pol[i].action),
                severity_name(ids.cfg.pol[i].severity), src);
    }
    return true;
}

/* --- alerts ---------------------------------------------------------------- */

/* The record is completed (process name, detail) and formatted only when
 * it can be printed: a suppressed or dropped alert costs little. The
 * detail is fmt with ap, or fmt itself when ap is 0. */
static const struct vmi_proc *raise_as;         /* the process an alert names, when not e->cr3's */

static struct ids_verdict raise(enum policy_id id, enum action act, const struct ids_event *e, u64 object,
                                const u64 *gva, const u64 *gpa, bool undoable, const char *fmt, va_list *ap)
{
    /* Only an access can be refused. A finding of a periodic check or on a
     * CR3 load (which is never refused) is reported as an alert when its
     * policy says block, and a suspend happens at the next tick or CR3 load:
     * the record says what vigil did. An undoable finding (a change the
     * caller puts back) keeps its block, and its suspend is carried out at
     * the next tick or CR3 load, whatever the event. */
    bool access = e->type == IDS_EV_EPT || e->type == IDS_EV_IO || e->type == IDS_EV_MSR_WRITE ||
                  e->type == IDS_EV_CR_WRITE || e->type == IDS_EV_DTR_LOAD || e->type == IDS_EV_HV_REACH ||
                  e->type == IDS_EV_DMA;
    if (undoable)
        access = false;
    if (!access && !undoable && act == ACT_BLOCK)
        act = ACT_ALERT;
    struct alert a;
    memset(&a, 0, sizeof(a));
    a.time_ns = vmm_uptime_ns();
    a.wall_ms = vmm_wallclock_ms();
    if (vmm_host_name())
        str_copy(a.host, vmm_host_name(), sizeof(a.host));
    a.policy = id;
    a.severity = ids.cfg.pol[id].severity;
    a.action = act;
    a.vcpu = e->vcpu;
    a.rip = e->rip;
    a.cr3 = e->cr3;
    a.pid = -1;
    if (gva) {
        a.has_gva = true;
        a.gva = *gva;
    }
    if (gpa) {
        a.has_gpa = true;
        a.gpa = *gpa;
    }
    if (alert_log_admit(&alog, &a, object)) {
        if (raise_as) {
            a.pid = raise_as->pid;
            str_copy(a.process, raise_as->name, sizeof(a.process));
        } else {
            ids_proc_of(e->cr3, &a.pid, a.process);
            /* Linux, in one of the kernel's own address spaces (init_top_pgt,
             * or text_poke's poking_mm): the task that runs is the one to
             * name (the insmod whose module calls text_poke, say). Never for
             * a user address space: at a CR3 load `current` is still the
             * task switched away from. */
            u64 task;
            struct vmi_proc t;
            if (vmi_have_linux() && e->cpl == 0 && a.pid < 0 && ids_kernel_space(vmi_space_key(e->cr3)) &&
                vmi_linux_current(0, &task) && task &&
                vmi_read_task(e->cr3, task, &t) && t.pid > 0) {
                a.pid = t.pid;
                str_copy(a.process, t.name, sizeof(a.process));
            }
        }
        if (ap)
            fmt_vsnprintf(a.detail, sizeof(a.detail), fmt, *ap);
        else
            str_copy(a.detail, fmt, sizeof(a.detail));
        alert_log_print(&alog, &a, object, log_record);
    }
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    if (act == ACT_BLOCK) {
        v.action = IDS_BLOCK;
    } else if (act == ACT_SUSPEND && access) {
        v.action = IDS_SUSPEND;
        v.reason = policy_name(id);
    } else if (act == ACT_SUSPEND) {
        if (!pending_suspend)
            pending_suspend = policy_name(id);
        if (undoable)
            v.action = IDS_BLOCK;                   /* put back now, stopped within a tick */
    }
    return v;
}

struct ids_verdict ids_raise_action(enum policy_id id, enum action act, const struct ids_event *e, u64 object,
                                    const u64 *gva, const u64 *gpa, const char *detail)
{
    return raise(id, act, e, object, gva, gpa, false, detail, 0);
}

struct ids_verdict ids_raise_action_task(enum policy_id id, enum action act, const struct ids_event *e,
                                         const struct vmi_proc *task, u64 object, const char *detail)
{
    raise_as = task;
    struct ids_verdict v = raise(id, act, e, object, 0, 0, false, detail, 0);
    raise_as = 0;
    return v;
}

struct ids_verdict ids_raise_fixed(enum policy_id id, const struct ids_event *e, u64 object, const u64 *gva,
                                   const u64 *gpa, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ids_verdict v = raise(id, ids.cfg.pol[id].action, e, object, gva, gpa, true, fmt, &ap);
    va_end(ap);
    return v;
}

struct ids_verdict ids_raise(enum policy_id id, const struct ids_event *e, u64 object, const u64 *gva,
                             const u64 *gpa, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct ids_verdict v = raise(id, ids.cfg.pol[id].action, e, object, gva, gpa, false, fmt, &ap);
    va_end(ap);
    return v;
}

struct ids_verdict ids_raise_task(enum policy_id id, const struct ids_event *e, const struct vmi_proc *task,
                                  u64 object, const u64 *gva, const u64 *gpa, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    raise_as = task;
    struct ids_verdict v = raise(id, ids.cfg.pol[id].action, e, object, gva, gpa, false, fmt, &ap);
    raise_as = 0;
    va_end(ap);
    return v;
}

/* --- the two views of processes ----------------------------------------------- */

static struct vmi_proc snap[VMI_MAX_PROCS];
static int nsnap = -1;
static u64 snap_tick = ~0ull;
static u64 event_seq, snap_event;           /* the event the snapshot was taken in */
static u64 snap_gen;                        /* walks taken */
#define LINUX_SNAP_TICKS 10

int ids_procs(u64 cr3, const struct vmi_proc **procs)
{
    /* Once a tick; on Linux (a long list, its kernel threads too) every
     * LINUX_SNAP_TICKS ticks (100 ms), as a miss takes a new one anyway
     * (ids_procs_refresh), and hidden-process's tick takes one at once when
     * the running process is no longer linked into the list (its links are
     * read every tick). */
    if ((snap_tick != ids.ticks && !(vmi_have_linux() && ids.ticks - snap_tick < LINUX_SNAP_TICKS)) || nsnap < 0) {
        const char *err;
        nsnap = vmi_proc_list(cr3, snap, VMI_MAX_PROCS, &err);
        snap_gen++;
        snap_tick = ids.ticks;
        snap_event = event_seq;
    }
    *procs = snap;
    return nsnap;
}

void ids_procs_stale(void) { nsnap = -1; }

u64 ids_procs_generation(void) { return snap_gen; }

bool ids_procs_fresh(void) { return snap_event == event_seq && nsnap >= 0; }

bool ids_procs_refresh(void)
{
    if (ids_procs_fresh())
        return false;                       /* taken in this very event: nothing newer to see */
    nsnap = -1;
    return true;
}

const struct vmi_proc *ids_kernel_proc(void)
{
    static const struct vmi_proc kernel = { .pid = -1, .name = "kernel" };
    return &kernel;
}

bool ids_kernel_space(u64 key)
{
    return key == ids.kernel_cr3 || key == vmi_space_key(ids.first_cr3) || vmi_linux_kernel_space(key);
}

bool ids_proc_of(u64 cr3, s64 *pid, char name[16])
{
    *pid = -1;
    name[0] = 0;
    cr3 = vmi_space_key(cr3);
    if (!vmi_have_procs())
        return false;
    if (ids_kernel_space(cr3)) {
        str_copy(name, "kernel", 16);
        return true;
    }
    const struct vmi_proc *p;
    for (int again = 0; again < 2; again++) {
        int n = ids_procs(cr3, &p);
        int i = 0;
        while (i < n && p[i].cr3 != cr3)
            i++;
        if (i == n) {
            /* Linux: the snapshot may predate this process (exec'd since). */
            if (vmi_have_linux() && !again && ids_procs_refresh())
                continue;
            break;
        }
        /* Linux: the snapshot may be from inside this process's exec (its
         * new address space, its old name): the name as it is now. And it
         * may be up to LINUX_SNAP_TICKS old: a task that has exited since
         * (off the list) whose page-table root a new process took is no
         * answer; the list is walked again. */
        struct vmi_proc t;
        bool now = vmi_have_linux() && vmi_read_task(cr3, p[i].addr, &t) && t.cr3 == cr3 &&
                   !vmi_linux_task_unlinked(p[i].addr);
        if (vmi_have_linux() && !now && !again && ids_procs_refresh())
            continue;
        *pid = p[i].pid;
        str_copy(name, now ? t.name : p[i].name, 16);
        return true;
    }
    /* Not in the list: what the process pool still says of it. */
    static struct vmi_proc pool[VMI_MAX_PROCS];
    int m = vmi_proc_pool(cr3, pool, VMI_MAX_PROCS);
    for (int i = 0; i < m; i++)
        if (pool[i].cr3 == cr3) {
            *pid = pool[i].pid;
            str_copy(name, pool[i].name, 16);
            break;
        }
    return false;
}

#define MAX_SPACES 128
static struct ids_space spaces[MAX_SPACES];
static int nspaces;

int ids_spaces(const struct ids_space **s)
{
    *s = spaces;
    return nspaces;
}

/* Record a CR3 load; true if this address space is new. Constant time in
 * the common case: the last space hit is checked first. */
static bool note_space(u64 cr3)
{
    static int last;
    if (last < nspaces && spaces[last].cr3 == cr3) {
        spaces[last].loads++;
        spaces[last].last_tick = ids.ticks;
        return false;
    }
    for (int i = 0; i < nspaces; i++)
        if (spaces[i].cr3 == cr3) {
            spaces[i].loads++;
            spaces[i].last_tick = ids.ticks;
            last = i;
            return false;
        }
    int slot = nspaces < MAX_SPACES ? nspaces++ : 0;
    if (slot == 0 && nspaces == MAX_SPACES) {
        /* Full: forget the space that ran least recently. */
        for (int i = 1; i < MAX_SPACES; i++)
            if (spaces[i].last_tick < spaces[slot].last_tick)
                slot = i;
    }
    spaces[slot] = (struct ids_space){ cr3, 1, ids.ticks, ids.ticks };
    last = slot;
    return true;
}

/* --- subscriptions ------------------------------------------------------------- */


/* A new object for a subscription, or NULL (named) when the table is full. */
static struct ids_object *new_object(enum policy_id id, const char *what, u64 start, u64 len, u32 arg)
{
    if (nobjects == IDS_MAX_OBJECTS)
        return 0;
    objects[nobjects] = (struct ids_object){ id, what, start, len, arg };
    return &objects[nobjects];
}

/* The subscription was made (ok) or refused (err): keep the object, or say
 * what failed and fail closed. */
static bool subscribed(enum policy_id id, const char *what, bool ok, const char *err)
{
    if (ok) {
        nobjects++;
        return true;
    }
    kprintf("vigil: %s: cannot trap %s: %s\n", policy_name(id), what,
            nobjects == IDS_MAX_OBJECTS ? "the IDS's subscription table is full" : err);
    if (!started)
        trap_failures++;
    else if (!pending_suspend)
        pending_suspend = policy_name(id);      /* the guest runs: it stops until an operator looks */
    return false;
}

bool ids_trap_pages(enum policy_id id, u64 gpa, u64 len, u32 access, const char *what, u32 arg)
{
    char err[120] = "";
    bool ok = new_object(id, what, gpa, len, arg) && vmm_trap_pages(gpa, len, access, nobjects, err, sizeof(err));
    return subscribed(id, what, ok, err);
}

bool ids_watch_exec(enum policy_id id, const struct mem_range *known, u32 n, const char *what)
{
    char err[120] = "";
    bool ok = new_object(id, what, n ? known[0].start : 0, n ? known[0].end - known[0].start : 0, 0) &&
              vmm_watch_exec(known, n, nobjects, err, sizeof(err));
    return subscribed(id, what, ok, err);
}

bool ids_trap_ports(enum policy_id id, u16 lo, u16 hi, const char *what, u32 arg)
{
    char err[120] = "";
    bool ok = new_object(id, what, lo, (u64)hi - lo + 1, arg) && vmm_trap_ports(lo, hi, nobjects, err, sizeof(err));
    return subscribed(id, what, ok, err);
}

bool ids_trap_msr(enum policy_id id, u32 msr, const char *what, u32 arg)
{
    char err[120] = "";
    bool ok = new_object(id, what, msr, 1, arg) && vmm_trap_msr_write(msr, nobjects, err, sizeof(err));
    return subscribed(id, what, ok, err);
}

bool ids_trap_cr(enum policy_id id, u8 cr, u64 bits, const char *what)
{
    char err[120] = "";
    bool ok = new_object(id, what, bits, 0, cr) && vmm_trap_cr_write(cr, bits, nobjects, err, sizeof(err));
    return subscribed(id, what, ok, err);
}

const struct ids_object *ids_object_of(const struct ids_event *e)
{
    return ids_object(e->owner);
}

const struct ids_object *ids_object(u32 owner)
{
    return owner < nobjects ? &objects[owner] : 0;
}

bool ids_protect_object(enum policy_id id, const char *sym, const char *what, bool whole_pages, u32 arg,
                        u64 *gpa, u64 *size)
{
    u64 va, len, pa = 0;
    if (!profile_symbol(&ids.prof, sym, &va, &len) || !len) {
        log_warn("vigil: %s: the %s (%s): the profile does not place it; not protected\n", policy_name(id), what, sym);
        return false;
    }
    if (!(pa = profile_kva_to_pa(&ids.prof, va))) {
        log_warn("vigil: %s: the %s (%s): it lies outside the kernel image; not protected\n", policy_name(id), what,
                 sym);
        return false;
    }
    u64 start = ALIGN_DOWN(pa, 4096), end = ALIGN_UP(pa + len, 4096);
    *gpa = whole_pages ? start : pa;
    *size = whole_pages ? end - start : len;
    return ids_trap_pages(id, *gpa, *size, IDS_WRITE, what, arg);
}

u32 ids_insn_len(const struct ids_event *e)
{
    u8 code[15];
    u32 n = 0;
    /* Read as much of the 15 bytes as is mapped (the instruction may end
     * before an unmapped page). */
    for (; n < sizeof(code); n++)
        if (!vmi_read_virt(e->cr3, e->rip + n, code + n, 1))
            break;
    return n ? insn_length(code, n, e->long_mode ? INSN_MODE_64 : INSN_MODE_32) : 0;
}

/* --- Linux: where the kernel is (KASLR) ------------------------------------------------ */

/* KPTI's cost (docs/ids.md, "KPTI's cost"): a process's kernel CR3 (PGD |
 * PCID) with and without the no-flush bit 63, and its user CR3 (the PGD +
 * 4 KiB, the user PCID with bit 11) with bit 63, are the vCPU's CR3-target
 * values once it has loaded one of them: its system calls, interrupts and
 * faults switch CR3 without an exit, and the next load of another
 * process's CR3 (a context switch) exits and moves the targets to that
 * process. The user CR3 without bit 63 (the kernel flushes that PCID's
 * TLB entries: after a fork's copy-on-write, an munmap, a new PCID) still
 * exits, so the user root is seen loaded by the CPU too, seldom. Returns
 * how many targets the CPU took. */
static u32 linux_cr3_targets(u64 cr3)
{
    u64 k = cr3 & ~((1ull << 63) | 0x1800ull);
    bool pcid = (k & 0xfff) != 0;                      /* Linux's kernel PCIDs are never 0 */
    u64 u = k | (pcid ? 0x1800ull : 0x1000ull);
    u64 t[3] = { k | 1ull << 63, u | 1ull << 63, k };
    if (!pcid)
        t[1] = u;                          /* without PCIDs bit 63 is reserved: no load has it */
    return vmm_cr3_targets(t, 3);
}

#define MSR_LSTAR 0xc0000082u

/* A `kaslr` profile (Linux's) holds link-time addresses. The kernel's first
 * LSTAR write gives the virtual slide (LSTAR - entry_SYSCALL_64 as linked),
 * and the kernel's own page tables (the CR3 it runs on then) give where its
 * image is in guest-physical memory. Only then is the profile placed: until
 * that moment it yields no address (ids/profile.h), so nothing is armed on
 * link-time values. The placement is checked before it is kept: the slid
 * linux_banner must read "Linux version ", and the page tables must map the
 * end of the read-only data where the profile's translation says. */
static void place_linux(const struct ids_event *e, u64 lstar)
{
    struct profile *p = &ids.prof;
    place_tried = true;
    u64 entry, text, probe;
    if (!profile_link_symbol(p, "entry_SYSCALL_64", &entry) || !profile_link_symbol(p, "_text", &text)) {
        kprintf("vigil: linux: the profile names no entry_SYSCALL_64 or _text: the kernel cannot be placed; "
                "no kernel addresses from the profile\n");
        return;
    }
    u64 slide = lstar - entry;
    u64 image = p->kernel_virt_base + p->kernel_phys_start;        /* the image's first byte, as linked */
    struct pt_walk w;
    if (!vmi_translate(e->cr3, text + slide, &w)) {
        kprintf("vigil: linux: LSTAR 0x%llx gives a KASLR slide of 0x%llx, but the kernel's page tables (CR3 "
                "0x%llx) do not map _text at 0x%llx: the profile does not describe this kernel; no kernel "
                "addresses from the profile\n", (unsigned long long)lstar, (unsigned long long)slide,
                (unsigned long long)e->cr3, (unsigned long long)(text + slide));
        return;
    }
    u64 phys = w.gpa - (text - image);
    if (!profile_place(p, slide, phys)) {
        kprintf("vigil: linux: LSTAR 0x%llx gives a KASLR slide of 0x%llx and the image at gpa 0x%llx, which "
                "cannot be this kernel's (not page-aligned, or outside the kernel's 2 GiB): the profile does "
                "not describe this kernel; no kernel addresses from the profile\n", (unsigned long long)lstar,
                (unsigned long long)slide, (unsigned long long)phys);
        return;
    }
    char banner[15] = "";
    bool banner_ok = !profile_link_symbol(p, "linux_banner", &probe) ||
                     (vmi_read_kernel(0, probe + slide, banner, 14) && !memcmp(banner, "Linux version ", 14));
    bool tables_ok = true;
    if (profile_link_symbol(p, "__end_rodata", &probe) && probe > text) {
        struct pt_walk w2;
        tables_ok = vmi_translate(e->cr3, probe + slide - 1, &w2) &&
                    w2.gpa == profile_kva_to_pa(p, probe + slide - 1);
    }
    if (!banner_ok || !tables_ok) {
        p->placed = false;
        p->slide = 0;
        kprintf("vigil: linux: with a KASLR slide of 0x%llx (LSTAR 0x%llx) %s: the profile does not describe "
                "this kernel; no kernel addresses from the profile\n", (unsigned long long)slide,
                (unsigned long long)lstar, !banner_ok ? "linux_banner does not read \"Linux version\""
                                                      : "the kernel's page tables do not map its image in one piece");
        return;
    }
    u64 pob = profile_sym(p, "page_offset_base"), dm = 0;
    if (pob && vmi_read_kernel(0, pob, &dm, 8) && dm >= 0xffff800000000000ull && !(dm & 0xfff))
        p->direct_map_base = dm;
    kprintf("vigil: linux: KASLR slide 0x%llx (LSTAR 0x%llx, entry_SYSCALL_64 linked at 0x%llx), kernel text at "
            "gpa 0x%llx (_text 0x%llx), direct map at 0x%llx; profile %s placed\n", (unsigned long long)slide,
            (unsigned long long)lstar, (unsigned long long)entry, (unsigned long long)profile_kva_to_pa(p, text + slide),
            (unsigned long long)(text + slide), (unsigned long long)p->direct_map_base,
            p->release[0] ? p->release : "linux");
    const char *err = "";
    if (profile_is_linux(p) && vmi_linux_init(p, &err)) {
        ids.kernel_cr3 = vmi_linux_kernel_pgd();   /* the kernel's own address space */
        kprintf("vigil: linux: kernel page tables (init_top_pgt) at gpa 0x%llx; task list from init_task at 0x%llx\n",
                (unsigned long long)vmi_linux_kernel_pgd(), (unsigned long long)profile_sym(p, "init_task"));
        u32 nt = linux_cr3_targets(e->cr3);
        kprintf("vigil: linux: %u CR3-target values: %s\n", nt,
                nt == 3 ? "the running process's kernel and user CR3 (KPTI) load without an exit, but for a "
                          "user CR3 that flushes"
                        : "too few for KPTI's pair; every CR3 load other than the targets exits");
    } else if (profile_is_linux(p))
        kprintf("vigil: linux: no task list: %s\n", err);
    struct ids_event b = *e;
    b.type = IDS_EV_TICK;                  /* what a policy arms here cannot block the WRMSR */
    for (u32 i = 0; i < POL_COUNT; i++)
        if (ids_policy_on((enum policy_id)i) && policies[i]->placed)
            policies[i]->placed(&b);
}

/* --- events ------------------------------------------------------------------------- */

static void boot_done(const struct ids_event *e, const char *why);

/* Where the guest kernel's set-up ends. With a profile: once the IDTR holds
 * the kernel's own IDT (the profile's `idt`), the kernel's tables are in
 * place. Without one: the first process (see the CR3 and tick cases). The
 * kernel's page-table root is learned as soon as the kernel has set it. */
static bool linux_lock(void)
{
    /* A placed Linux profile (one that could not be placed falls back on
     * the generic lock: the first tick in user mode). */
    return ids.have_profile && ids.prof.kaslr && profile_is_linux(&ids.prof) && !(place_tried && !ids.prof.placed);
}

/* Linux has made its text and read-only data read-only (mark_rodata_ro):
 * its own page tables map _stext and __start_rodata without R/W. */
static bool linux_text_ro(void)
{
    static const char *const syms[] = { "_stext", "__start_rodata" };
    for (u32 i = 0; i < ARRAY_SIZE(syms); i++) {
        u64 va;
        struct pt_walk w;
        if (!profile_symbol(&ids.prof, syms[i], &va, 0) || !vmi_translate(ids.kernel_cr3, va, &w) || w.writable)
            return false;
    }
    return true;
}

/* Linux's boot ends when its text is read-only and a process runs: the
 * first CR3 load of an address space other than the kernel's (init's
 * exec: KPTI's user PGD is the kernel's + 4 KiB) or a tick in user mode,
 * once mark_rodata_ro has run. Before that, the kernel patches its own
 * text (alternatives, jump labels, ftrace's NOPs) and fills its
 * read-only-after-init data: all accepted (docs/ids.md, "The boot lock on
 * Linux"). */
static void check_boot_linux(const struct ids_event *e)
{
    if (ids.boot_done || !ids.prof.placed || !ids.kernel_cr3)
        return;
    bool process = e->type == IDS_EV_CR3_LOAD ? (e->load.new_cr3 & PT_ADDR_MASK & ~0x1000ull) != ids.kernel_cr3
                                              : e->type == IDS_EV_TICK && e->cpl == 3;
    if (process && linux_text_ro())
        boot_done(e, e->type == IDS_EV_CR3_LOAD ? "its text is read-only and a process address space is loaded"
                                                : "its text is read-only and a vCPU runs in user mode");
}

static void check_boot(const struct ids_event *e)
{
    u64 kp;
    if (linux_lock()) {
        check_boot_linux(e);
        return;
    }
    if (!ids.kernel_cr3 && !no_pml4 && ids.have_profile && !profile_symbol(&ids.prof, "kernel_pml4", &kp, 0))
        no_pml4 = !ids.prof.kaslr || ids.prof.placed;   /* a kaslr profile names nothing until placed */
    else if (!ids.kernel_cr3 && !no_pml4 && ids.have_profile && vmi_read_kernel(e->cr3, kp, &ids.kernel_cr3, 8))
        ids.kernel_cr3 &= PT_ADDR_MASK;
    if (ids.boot_done || !ids.have_idt_symbol)
        return;
    u64 ib, gb;
    u16 il, gl;
    vmm_guest_dtr(&ib, &il, &gb, &gl);
    if (ib == ids.idt_kva)
        boot_done(e, "the IDTR holds the kernel's IDT");
}

static void boot_done(const struct ids_event *e, const char *why)
{
    ids.boot_done = true;
    kprintf("vigil: IDS: the guest kernel has booted (%s); boot-time state locked\n", why);
    /* Whatever event noticed the boot, the policies' boot-time work is not
     * part of it: a finding made there cannot block that event's access. */
    struct ids_event b = *e;
    b.type = IDS_EV_TICK;
    for (u32 i = 0; i < POL_COUNT; i++)
        if (ids_policy_on((enum policy_id)i) && policies[i]->boot_done)
            policies[i]->boot_done(&b);
    if (ids_policy_on(POL_KERNEL_TEXT) || ids_policy_on(POL_CRITICAL_TABLES))
        xlate_boot(&b);                             /* the translations of what the two protect */
}

static struct ids_verdict worst(struct ids_verdict a, struct ids_verdict b)
{
    return b.action > a.action ? b : a;
}

static struct ids_verdict event(const struct ids_event *e);

/* Events from several vCPUs: one at a time through the engine (its policy
 * state, caches and the alert log are shared). vmm/ never holds this lock
 * across a VM entry, and nothing under it waits for another vCPU. */
static struct spinlock ids_lock;

void ids_lock_take(void) { spin_lock(&ids_lock); }
void ids_lock_drop(void) { spin_unlock(&ids_lock); }

struct ids_verdict ids_event(const struct ids_event *e)
{
    spin_lock(&ids_lock);
    /* The guest may have changed its page tables since the last event
     * (INVLPG, INVPCID and plain PTE writes do not exit): no translation
     * vigil cached is used across events. */
    vmi_flush();
    event_seq++;
    struct ids_verdict v = event(e);
    spin_unlock(&ids_lock);
    return v;
}

static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    if (e->type >= IDS_EV_COUNT)
        return v;
    if (!enabled) {
        /* vigil's self-protection does not depend on the IDS being on, and
         * with no policy to allow it, no device vigil does not mediate
         * masters the bus (fail closed). */
        if (e->type == IDS_EV_DMA)
            v.action = IDS_BLOCK;
        return v;
    }
    u64 t0 = rdtsc();
    if (e->type != IDS_EV_START && e->type != IDS_EV_POWEROFF && !(e->type == IDS_EV_DMA && e->dma.at_boot))
        check_boot(e);                     /* (vigil's own scan before launch has no guest state) */
    switch (e->type) {
    case IDS_EV_START: {
        /* The engine's view of address spaces: every CR3 load, whatever
         * the policies (with ids=off the guest loads CR3 without an exit). */
        char err[120] = "";
        if (!vmm_trap_cr3_loads(err, sizeof(err))) {
            kprintf("vigil: IDS: CR3 loads cannot be trapped: %s\n", err);
            trap_failures++;
        }
        alert_log_set_vcpus(&alog, vmm_vcpu_count());
        for (u32 i = 0; i < POL_COUNT; i++)
            if (ids_policy_on((enum policy_id)i) && policies[i]->start)
                policies[i]->start();
        /* A kaslr profile is placed at the kernel's first LSTAR write:
         * watched whether or not msr-guard is on (if it is off, the event
         * only places the profile). */
        if (ids.have_profile && ids.prof.kaslr && !ids_policy_on(POL_MSR_GUARD))
            ids_trap_msr(POL_MSR_GUARD, MSR_LSTAR, "LSTAR (where the kernel is)", ~0u);
        started = true;
        if (trap_failures) {
            kprintf("vigil: %u IDS traps could not be made: refusing to start the guest (fail closed; ids=off "
                    "overrides)\n", trap_failures);
            v.action = IDS_BLOCK;
        }
        break;
    }
    case IDS_EV_CR3_LOAD: {
        u64 cr3 = e->load.new_cr3 & PT_ADDR_MASK;
        if (!ids.first_cr3)
            ids.first_cr3 = cr3;
        else if (cr3 != ids.first_cr3)
            ids.boot_tables_left = true;
        bool fresh = note_space(cr3);
        /* Without a profile, the first process's address space (neither
         * the boot tables nor the kernel's) ends the boot. */
        if (!ids.boot_done && !ids.have_idt_symbol && cr3 != ids.first_cr3 && cr3 != ids.kernel_cr3 &&
            ids.kernel_cr3 && !linux_lock())
            boot_done(e, "the first process address space");
        if (fresh)
            for (u32 i = 0; i < POL_COUNT; i++)
                if (ids_policy_on((enum policy_id)i) && policies[i]->new_space)
                    TIMED(i, policies[i]->new_space(e, cr3));
        if (ids_policy_on(POL_HIDDEN_PROCESS))
            TIMED(POL_HIDDEN_PROCESS, v = pol_hidden_process.event(e));
        if (cr3 == ids.first_cr3 && ids.boot_tables_left && ids.boot_done && ids_policy_on(POL_PAGETABLE_AUDIT))
            TIMED(POL_PAGETABLE_AUDIT, pagetable_audit_boot_tables(e));
        xlate_cr3(e, cr3);                          /* its top-level entries over the protected objects */
        if (vmi_have_linux())
            linux_cr3_targets(e->load.new_cr3);     /* this process's KPTI pair loads natively from now */
        break;
    }
    case IDS_EV_EPT:
    case IDS_EV_IO:
    case IDS_EV_MSR_WRITE:
        if (e->type == IDS_EV_MSR_WRITE && e->msr.msr == MSR_LSTAR && ids.have_profile && !ids.prof.placed &&
            !place_tried && e->msr.value)
            place_linux(e, e->msr.value);
        /* fall through */
    case IDS_EV_CR_WRITE: {
        /* A subscription's event: its owner names the policy. */
        const struct ids_object *o = ids_object_of(e);
        if (e->type == IDS_EV_EPT && (e->ept.access & IDS_WRITE))
            dma_guard_write_seen(e->ept.gpa);  /* the backstop: this write was seen */
        if (o && e->type == IDS_EV_EPT && o->arg >= XLATE_ARG)
            v = xlate_event(e, o->arg - XLATE_ARG);  /* a page table on a protected translation */
        else if (o && ids_policy_on(o->policy) && policies[o->policy]->event)
            v = policies[o->policy]->event(e);
        break;
    }
    case IDS_EV_TICK: {
        /* vCPU 0's tick keeps the IDS's clock; every vCPU's tick runs the
         * periodic checks on what that vCPU runs (its own count decides
         * which checks are due). */
        u64 vt = ++vticks[e->vcpu < IDS_MAX_VCPUS ? e->vcpu : 0];
        if (e->vcpu == 0)
            ids.ticks++;
        if (e->vcpu == 0 && ids.ticks % ALERT_WINDOW_TICKS == 0)
            alert_log_tick(&alog);                  /* the alert budget is per window (100 ms) */
        /* Once a second at most: what was not printed. */
        if (e->vcpu == 0 && ids.ticks % 100 == 0 && alog.suppressed != reported_suppressed) {
            kprintf("vigil: %llu alerts suppressed in the last second (repeats); %llu in all\n",
                    (unsigned long long)(alog.suppressed - reported_suppressed),
                    (unsigned long long)alog.suppressed);
            reported_suppressed = alog.suppressed;
        }
        if (e->vcpu == 0 && ids.ticks % 100 == 0 && alog.dropped != reported_dropped) {
            kprintf("vigil: %llu alerts dropped in the last second (console over capacity); %llu in all\n",
                    (unsigned long long)(alog.dropped - reported_dropped), (unsigned long long)alog.dropped);
            reported_dropped = alog.dropped;
        }
        if (!ids.boot_done && !ids.have_idt_symbol && e->cpl == 3 && ids.first_cr3 && !linux_lock())
            boot_done(e, "the first tick in user mode");
        /* Linux: the running process's CR3 pair loads without an exit (the
         * CR3-target values), so the hardware's view of it is also what the
         * ticks find running. Counted with the loads; nothing new is judged
         * here that the policies' ticks do not judge. */
        if (vmi_have_linux() && ids.first_cr3)
            note_space(e->cr3 & PT_ADDR_MASK);
        for (u32 i = 0; i < POL_COUNT; i++) {
            u32 every = ids.cfg.pol[i].interval ? ids.cfg.pol[i].interval : 1;
            if (ids_policy_on((enum policy_id)i) && policies[i]->tick && vt % every == 0)
                TIMED_TICK(i, policies[i]->tick(e));
        }
        if (ids_policy_on(POL_PAGETABLE_AUDIT))
            TIMED_TICK(POL_PAGETABLE_AUDIT, pagetable_audit_slice(e));   /* Linux's kernel half, in slices */
        u64 tx = rdtsc();
        xlate_tick(e);                              /* every 10 ticks: a change no exit saw */
        tick_cycles[POL_COUNT] += rdtsc() - tx;
        break;
    }
    case IDS_EV_SAMPLE:
        for (u32 i = 0; i < POL_COUNT; i++)
            if (ids_policy_on((enum policy_id)i) && policies[i]->sample)
                TIMED(i, policies[i]->sample(e));
        break;
    case IDS_EV_VCPU_START:
        for (u32 i = 0; i < POL_COUNT; i++)
            if (ids_policy_on((enum policy_id)i) && policies[i]->vcpu_start)
                policies[i]->vcpu_start(e);
        break;
    case IDS_EV_POWEROFF:
        break;
    default:
        if (ids_policy_on(route[e->type]) && policies[route[e->type]]->event)
            v = worst(v, policies[route[e->type]]->event(e));
        break;
    }
    if (pending_suspend && (e->type == IDS_EV_TICK || e->type == IDS_EV_CR3_LOAD) && v.action != IDS_SUSPEND) {
        v.action = IDS_SUSPEND;
        v.reason = pending_suspend;
        pending_suspend = 0;
    }
    ev_count[e->type]++;
    ev_cycles[e->type] += rdtsc() - t0;
    return v;
}

void ids_print_summary(void)
{
    if (!enabled) {
        kprintf("vigil: alerts: IDS off\n");
        return;
    }
    /* raised = printed + suppressed + dropped, exactly */
    kprintf("vigil: alerts: %llu raised, %llu printed, %llu suppressed as repeats, %llu dropped (console over "
            "capacity)\n", (unsigned long long)(alog.next_seq - 1), (unsigned long long)alog.emitted,
            (unsigned long long)alog.suppressed, (unsigned long long)alog.dropped);
    for (u32 i = 0; i < POL_COUNT; i++) {
        if (!alog.by_policy[i])
            continue;
        char dropped[40] = "";
        if (alog.dropped_by_policy[i])
            fmt_snprintf(dropped, sizeof(dropped), ", %llu dropped", (unsigned long long)alog.dropped_by_policy[i]);
        kprintf("  %-17s %8llu alerts (%llu suppressed%s)\n", policy_name((enum policy_id)i),
                (unsigned long long)alog.by_policy[i], (unsigned long long)alog.suppressed_by_policy[i], dropped);
    }
    kprintf("vigil: IDS cost by event:   event  count  cycles  cycles/event\n");
    for (u32 i = 0; i < IDS_EV_COUNT; i++)
        if (ev_count[i])
            kprintf("  %-22s %10llu %12llu %8llu\n", event_names[i], (unsigned long long)ev_count[i],
                    (unsigned long long)ev_cycles[i], (unsigned long long)(ev_cycles[i] / ev_count[i]));
    kprintf("vigil: IDS cost by policy (cycles):");
    for (u32 i = 0; i < POL_COUNT; i++)
        if (pol_cycles[i])
            kprintf(" %s %llu", policy_name((enum policy_id)i), (unsigned long long)pol_cycles[i]);
    kprintf("\n");
    /* What the periodic checks cost, per tick, by policy: where a tick's
     * cycles go (the operator's, and make bench's, view of it). */
    if (ev_count[IDS_EV_TICK]) {
        u64 n = ev_count[IDS_EV_TICK];
        kprintf("vigil: IDS periodic cost per tick (cycles, %llu ticks): all %llu;", (unsigned long long)n,
                (unsigned long long)(ev_cycles[IDS_EV_TICK] / n));
        for (u32 i = 0; i <= POL_COUNT; i++)
            if (tick_cycles[i])
                kprintf(" %s %llu", i < POL_COUNT ? policy_name((enum policy_id)i) : "translation-guard",
                        (unsigned long long)(tick_cycles[i] / n));
        kprintf("\n");
    }
    u64 grants, revokes;
    u32 granted;
    vmm_exec_stats(&grants, &revokes, &granted);
    if (grants)
        kprintf("vigil: execute watch: %llu pages granted X (user code; on Linux also the kernel's module-area "
                "code), taken back %llu times, %u granted now\n",
                (unsigned long long)grants, (unsigned long long)revokes, granted);
    u64 folded, unsent;
    pagetable_audit_folds(&folded, &unsent);
    if (folded)
        kprintf("vigil: pagetable-audit: %llu findings folded into counts (%llu of them not yet in a record)\n",
                (unsigned long long)folded, (unsigned long long)unsent);
    u64 kreads, kfixed;
    vmi_stats_reads(&kreads, &kfixed);
    kprintf("vigil: IDS: %d address spaces seen, %llu page walks; %llu kernel reads, %llu of them by the image's or "
            "the direct map's arithmetic\n", nspaces, (unsigned long long)vmi_stats_walks(),
            (unsigned long long)kreads, (unsigned long long)kfixed);
    xlate_summary();
    kernel_text_summary();
    hidden_module_summary();
    raw_socket_summary();
    program_integrity_summary();
    pagetable_audit_summary();
}

const struct alert_log *ids_alert_log(void) { return &alog; }
