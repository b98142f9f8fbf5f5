/* hidden-process: Livewire's lie detector. The hardware's view is what
 * the CPU actually runs: the address spaces it loads (CR3 loads), and the
 * task the kernel says runs (the profile's `current`) with the privilege
 * level the CPU is in; the OS's view is its process list, read through the
 * profile. Reported:
 * - an address space that runs with no process in the list behind it
 *   (DKOM: unlinked from the list but still scheduled);
 * - a running task that is not in the list, whatever address space it
 *   borrows (one grafted into a listed process's tables, or the kernel's);
 * - user-mode code in the kernel's address space or the boot tables, which
 *   no process owns;
 * - a listed process whose name is not the one vigil first saw it run with
 *   (ids/ident.c): names are what allow-lists go by.
 * To keep spawn and exit races quiet, a missing address space or task is
 * reported only after list snapshots taken in two different ticks missed
 * it, and never listed it in between. Each is named by what can be learned
 * of it (the process pool, or its own structure), and each process is
 * reported once, whichever way it was found. */
#include "ids/engine.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vmm/introspect.h"

#define MAX_SUSPECTS 16
#define SUSPECT_EXPIRY 100                  /* ticks (1 s) unseen: a suspect is forgotten */

enum suspect_kind { BY_SPACE, BY_TASK };

/* Address spaces, or tasks, seen running while missing from the list. A
 * suspect is tied to the process named for it: a reused page-table root or
 * pool slot with another process behind it is a new suspect, reported anew. */
static struct {
    bool used, reported;
    enum suspect_kind kind;
    u64 key, first_tick, last_tick, misses;
    s64 pid;
    u64 space;                              /* its address space's key (a task's too, on Linux) */
    char name[16];
} suspects[MAX_SUSPECTS];
static u32 nsuspects;                       /* slots in use: the CR3 path skips the table when 0 */

/* User mode seen in the kernel's or the boot address space: once per
 * (address space, task). */
#define MAX_USER_IN_KERNEL 8
static struct { u64 cr3, task; } user_in_kernel[MAX_USER_IN_KERNEL];
static u32 nuser_in_kernel;

/* The last keys found in the snapshot, while it is the same snapshot: a
 * context switch between two processes looks the same two up again and
 * again (the CR3 path of every switch), a compare instead of a scan. */
#define HIT_CACHE 4
static struct { u64 gen; u64 key[HIT_CACHE]; enum suspect_kind kind[HIT_CACHE]; u32 n; } hits;

static bool in_snapshot(enum suspect_kind kind, u64 key, u64 view_cr3)
{
    const struct vmi_proc *p;
    int n = ids_procs(view_cr3, &p);
    if (n < 0)
        return true;                                /* no OS view: no verdict */
    u64 gen = ids_procs_generation();
    if (hits.gen != gen) {
        hits.gen = gen;
        hits.n = 0;
    }
    for (u32 i = 0; i < hits.n && i < HIT_CACHE; i++)
        if (hits.key[i] == key && hits.kind[i] == kind)
            return true;
    for (int i = 0; i < n; i++)
        /* A listed PGD is its own key (a PGD has no PCID bits, and KPTI's
         * kernel PGD is the even page of its pair). */
        if (kind == BY_SPACE ? p[i].cr3 == key || (p[i].alt_cr3 && p[i].alt_cr3 == key) : p[i].addr == key) {
            u32 slot = hits.n++ % HIT_CACHE;
            hits.key[slot] = key;
            hits.kind[slot] = kind;
            return true;
        }
    return false;
}

/* A miss is checked against the list as it is now: on Linux (no process
 * pool to tell a reused page-table root's new owner from the old) its tail
 * first (where fork puts a new process), then a snapshot of this event;
 * on testos a snapshot of this event (the tick's may predate a spawn). */
#define RECENT_TASKS 4

static bool listed(enum suspect_kind kind, u64 key, u64 view_cr3)
{
    if (in_snapshot(kind, key, view_cr3))
        return true;
    if (vmi_have_linux() && vmi_linux_recent(kind == BY_SPACE, key, RECENT_TASKS))
        return true;
    return ids_procs_refresh() && in_snapshot(kind, key, view_cr3);
}

/* Linux: a process of that pid (tgid) is listed, in address space cr3
 * when one is given (any_space false). */
static bool pid_listed(s64 pid, bool any_space, u64 cr3, u64 view_cr3)
{
    const struct vmi_proc *p;
    int n = ids_procs(view_cr3, &p);
    for (int i = 0; i < n; i++)
        if (p[i].pid == pid && (any_space || p[i].cr3 == cr3))
            return true;
    return n < 0;
}

/* Linux lists processes (thread-group leaders), not threads: a task is
 * accounted for when its process is listed with the same address space.
 * A CPU's idle task other than CPU 0's (pid 0, no mm) is in no list. */
static bool linux_thread_listed(const struct vmi_proc *t, u64 view_cr3)
{
    return (t->pid == 0 && !t->cr3) || pid_listed(t->pid, false, t->cr3, view_cr3);
}

static void forget(int i)
{
    suspects[i].used = false;
    nsuspects--;
}

static int find(enum suspect_kind kind, u64 key)
{
    for (int i = 0; nsuspects && i < MAX_SUSPECTS; i++)
        if (suspects[i].used && suspects[i].kind == kind && suspects[i].key == key)
            return i;
    return -1;
}

static bool pid_reported(s64 pid)
{
    for (int i = 0; pid >= 0 && nsuspects && i < MAX_SUSPECTS; i++)
        if (suspects[i].used && suspects[i].reported && suspects[i].pid == pid)
            return true;
    return false;
}

/* Missing from the list now: the suspect's slot, kept or made. Returns -1
 * when it is not yet to be reported (first miss, or reported already).
 * A confirmed miss is reported at once (see sure_miss). */
#define DEFER_TICKS 10                      /* Linux, a CR3 load with no name: wait for a tick to name it */

/* Linux: what a tick learned of the process behind an address space (the
 * task that ran in it), for the CR3 loads that cannot tell. */
static bool named_space(u64 space, s64 *pid, char name[16])
{
    for (int i = 0; nsuspects && i < MAX_SUSPECTS; i++)
        if (suspects[i].used && suspects[i].space == space && suspects[i].pid >= 0) {
            *pid = suspects[i].pid;
            str_copy(name, suspects[i].name, 16);
            return true;
        }
    return false;
}

static int missed(enum suspect_kind kind, u64 key, s64 pid, bool defer, u64 space, const char *name,
                  bool confirmed)
{
    int slot = find(kind, key);
    if (slot >= 0 && (suspects[slot].pid != pid || ids.ticks - suspects[slot].last_tick > SUSPECT_EXPIRY))
        forget(slot), slot = -1;                     /* another process, or long gone: start over */
    if (slot < 0) {
        for (int i = 0; i < MAX_SUSPECTS && slot < 0; i++)
            if (!suspects[i].used)
                slot = i;
        if (slot < 0) {
            slot = 0;                                /* full: replace the one seen longest ago */
            for (int i = 1; i < MAX_SUSPECTS; i++)
                if (suspects[i].last_tick < suspects[slot].last_tick)
                    slot = i;
        } else {
            nsuspects++;
        }
        suspects[slot].used = true;
        suspects[slot].reported = false;
        suspects[slot].kind = kind;
        suspects[slot].key = key;
        suspects[slot].pid = pid;
        suspects[slot].space = space;
        str_copy(suspects[slot].name, name, sizeof(suspects[slot].name));
        suspects[slot].first_tick = ids.ticks;
        suspects[slot].misses = 0;
    }
    suspects[slot].misses++;
    suspects[slot].last_tick = ids.ticks;
    if (suspects[slot].reported || (ids.ticks == suspects[slot].first_tick && !confirmed))
        return -1;
    if (defer && ids.ticks - suspects[slot].first_tick < DEFER_TICKS)
        return -1;
    bool again = pid_reported(pid);
    suspects[slot].reported = true;
    return again ? -1 : slot;
}

/* The two-tick rule is for the kernel's own races: a process spawned after
 * the snapshot, one that unlinks itself on its way out, exec changing an
 * address space. All of those are kernel-mode moments. A task caught
 * running user code (CPL 3) and missing from a walk of the list taken in
 * this very event is no race: it is reported at once. Without this, a
 * hider that runs a few milliseconds within one tick's period and then
 * stays off the CPU until its suspicion expires (a second) would be a
 * first miss every time it is seen (hide-sample-expiry). */
static bool sure_miss(const struct ids_event *e) { return e->cpl == 3 && ids_procs_fresh(); }

/* cur: the task the kernel runs (at a tick; 0 on a CR3 load, where the
 * kernel has not switched it yet). */
static struct ids_verdict check_space(const struct ids_event *e, u64 cr3, const struct vmi_proc *cur)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    cr3 = vmi_space_key(cr3);
    if (!ids.boot_done || !vmi_have_procs() || ids_kernel_space(cr3))
        return v;
    int slot = find(BY_SPACE, cr3);
    if (listed(BY_SPACE, cr3, cr3)) {
        /* Listed now: whatever was suspected of this CR3 is cleared (page-
         * table roots are reused, and a spawn can race a snapshot). */
        if (slot >= 0)
            forget(slot);
        return v;
    }
    s64 pid;
    char name[16];
    ids_proc_of(cr3, &pid, name);
    /* Linux keeps no pool: the running task names its own address space. */
    if (pid < 0 && cur && cur->cr3 && vmi_space_key(cur->cr3) == cr3) {
        pid = cur->pid;
        str_copy(name, cur->name, sizeof(name));
    }
    if (pid < 0 && vmi_have_linux())
        named_space(cr3, &pid, name);
    if (missed(BY_SPACE, cr3, pid, pid < 0 && vmi_have_linux(), cr3, name, cur && sure_miss(e)) < 0)
        return v;
    struct ids_event h = *e;
    h.cr3 = cr3;                                     /* the alert is about the hidden process */
    if (pid >= 0) {
        struct vmi_proc who;
        memset(&who, 0, sizeof(who));
        who.pid = pid;
        who.cr3 = cr3;
        str_copy(who.name, name, sizeof(who.name));
        return ids_raise_task(POL_HIDDEN_PROCESS, &h, &who, cr3, 0, &cr3,
                              "address space runs but no process in the list has it: hidden process pid %lld \"%s\"",
                              (long long)pid, name);
    }
    return ids_raise(POL_HIDDEN_PROCESS, &h, cr3, 0, &cr3,
                     "address space runs but no process in the list has it: hidden process (no name known)");
}

/* Linux: a task excused as exiting (vmi_linux_task_exiting: a user task
 * past exit_mm, or a kernel thread in do_exit). A thread of a
 * listed process (its tgid listed: a group's leader stays listed, a zombie
 * if need be, until its last thread is gone) is accounted for by its
 * process: after exit_mm its exit can take long (a final close that
 * lingers). Any other is excused for EXIT_GRACE_TICKS from when vigil
 * first saw it so: a leader, or a thread whose group is gone, unlinks
 * itself at the very end of do_exit (release_task, for a self-reaping
 * one), microseconds before its last switch away. One still running
 * unlisted and "exiting" half a second later set those flags itself (a
 * rootkit's hidden kernel thread with PF_EXITING set): it is reported,
 * at once (two sightings that far apart are
 * more than the two-tick rule asks, and a hider that runs once every few
 * seconds would outlive any suspicion). */
#define EXIT_GRACE_TICKS 50
#define MAX_EXITING 16
static struct { u64 task; s64 pid; u64 first; } exiting[MAX_EXITING];

/* A slot is free once its task's grace is long over (2 x EXIT_GRACE_TICKS:
 * such a task has been reported if it still ran). More tasks excused at
 * once than the table holds get no excuse: evicting the oldest let a flood
 * of 17 forged "exiting" tasks, each seen in turn, renew each other's
 * grace forever. */
static bool exit_excused(u64 task, s64 pid, bool *full)
{
    int slot = -1;
    *full = false;
    for (u32 i = 0; i < MAX_EXITING; i++) {
        if (exiting[i].task == task && exiting[i].pid == pid)
            return ids.ticks - exiting[i].first < EXIT_GRACE_TICKS;
        if (slot < 0 && (!exiting[i].first || ids.ticks - exiting[i].first >= 2 * EXIT_GRACE_TICKS))
            slot = (int)i;
    }
    if (slot < 0) {
        *full = true;
        return false;
    }
    exiting[slot].task = task;
    exiting[slot].pid = pid;
    exiting[slot].first = ids.ticks ? ids.ticks : 1;
    return true;
}

/* The task the kernel runs, by its structure: in the list, wherever it runs. */
static void check_task(const struct ids_event *e, u64 task, const struct vmi_proc *tp)
{
    int slot = find(BY_TASK, task);
    struct vmi_proc t = *tp;
    if (listed(BY_TASK, task, e->cr3) || (vmi_have_linux() && linux_thread_listed(&t, e->cr3))) {
        if (slot >= 0)
            forget(slot);
        return;
    }
    /* Linux: a task past exit_mm (or a kernel thread in do_exit), in the
     * kernel, may already have unlinked itself (a thread, or a parent that
     * does not wait): no miss, for a while (exit_excused). A rootkit's task
     * marked so is still caught whenever it runs user code (sure_miss does
     * not look at the flags), and when it is still at it half a second
     * later. */
    bool overdue = false, thread, full = false;
    if (e->cpl != 3 && !t.cr3 && vmi_have_linux() && vmi_linux_task_exiting(task, &thread)) {
        if ((thread && pid_listed(t.pid, true, 0, e->cr3)) || exit_excused(task, t.pid, &full))
            return;
        overdue = true;
    }
    /* Linux links a task into the list before it can first run
     * (copy_process, before wake_up_new_task), and a task leaves the list
     * only at the very end of its exit (excused above): a task that runs,
     * missing from a walk taken in this event, is hidden, in kernel mode
     * too. A hidden kernel thread that runs a moment every few seconds
     * never meets the two-tick rule (its suspicion expires between). */
    bool sure = sure_miss(e) || overdue || (vmi_have_linux() && ids_procs_fresh());
    if (missed(BY_TASK, task, t.pid, false, vmi_space_key(t.cr3), t.name, sure) < 0)
        return;
    char where[40] = "its own address space";
    u64 key = vmi_space_key(t.cr3);
    if (!t.cr3 && vmi_have_linux())
        str_copy(where, "no address space (a kernel thread)", sizeof(where));
    else if (key == ids.kernel_cr3 || vmi_linux_kernel_space(key))
        str_copy(where, "the kernel's address space", sizeof(where));
    else if (key == vmi_space_key(ids.first_cr3))
        str_copy(where, "the boot page tables", sizeof(where));
    else if (listed(BY_SPACE, key, e->cr3))
        str_copy(where, "a listed process's address space", sizeof(where));
    struct ids_event h = *e;
    h.cr3 = t.cr3;
    if (overdue && full)
        str_copy(where, "no address space, too many \"exiting\"", sizeof(where));
    else if (overdue)
        fmt_snprintf(where, sizeof(where), "no address space, \"exiting\" for %u ms", EXIT_GRACE_TICKS * 10);
    ids_raise_task(POL_HIDDEN_PROCESS, &h, &t, task, &task, 0,
              "the running task is not in the process list: hidden process pid %lld \"%s\" in %s",
              (long long)t.pid, t.name, where);
}

/* The kernel stack the CPU runs on, by the TSS's RSP0 (what the CPU loads
 * on every entry from ring 3: testos sets it on each switch), against the
 * one `current` names. A rootkit that points `current` at a listed task
 * while its hidden task runs cannot point RSP0 there too without running
 * the hidden task's kernel entries on the listed task's stack. A mismatch
 * on a listed task is the switch itself (RSP0 and `current` are two
 * writes); on an unlisted one it is the hidden task (two-tick rule). */
static void check_stack(const struct ids_event *e, u64 task)
{
    u64 tr = vmm_guest_tr_base(), rsp0 = 0;
    if (!vmi_have_kstack() || !tr || !vmi_read_kernel(e->cr3, tr + 4, &rsp0, 8) || !rsp0)
        return;
    u64 ks;
    if (task && vmi_task_kstack(e->cr3, task, &ks) && ks == rsp0)
        return;                                      /* `current` tells the truth (8 bytes read) */
    struct vmi_proc cur;
    bool have_cur = task && vmi_read_task(e->cr3, task, &cur);
    const struct vmi_proc *p;
    int n = ids_procs(e->cr3, &p);
    for (int i = 0; i < n; i++)
        if (p[i].kstack == rsp0)
            return;                                  /* a listed task's: a switch under way */
    static struct vmi_proc pool[VMI_MAX_PROCS];
    int m = vmi_proc_pool(e->cr3, pool, VMI_MAX_PROCS);
    const struct vmi_proc *owner = 0;
    for (int i = 0; i < m && !owner; i++)
        if (pool[i].kstack == rsp0)
            owner = &pool[i];
    if (missed(BY_TASK, owner ? owner->addr : rsp0 | 1, owner ? owner->pid : -1, false,
               owner ? vmi_space_key(owner->cr3) : 0, owner ? owner->name : "", false) < 0)
        return;
    char says[40] = "no task";
    if (have_cur)
        fmt_snprintf(says, sizeof(says), "pid %lld \"%s\"", (long long)cur.pid, cur.name);
    struct ids_event h = *e;
    if (owner) {
        h.cr3 = owner->cr3;
        ids_raise_task(POL_HIDDEN_PROCESS, &h, owner, owner->addr, &owner->addr, 0,
                       "kernel stack of hidden process pid %lld \"%s\" in use (TSS RSP0 0x%llx); current: %s",
                       (long long)owner->pid, owner->name, (unsigned long long)rsp0, says);
    } else {
        ids_raise(POL_HIDDEN_PROCESS, &h, rsp0 | 1, 0, 0,
                  "kernel stack of no known task in use (TSS RSP0 0x%llx); current: %s",
                  (unsigned long long)rsp0, says);
    }
}

/* Ring 3 in an address space no process owns: code grafted into the
 * kernel's tables or the boot tables. */
static void check_user_mode(const struct ids_event *e, u64 task)
{
    u64 cr3 = vmi_space_key(e->cr3);
    if (e->cpl != 3 || !ids_kernel_space(cr3))
        return;
    for (u32 i = 0; i < nuser_in_kernel && i < MAX_USER_IN_KERNEL; i++)
        if (user_in_kernel[i].cr3 == cr3 && user_in_kernel[i].task == task)
            return;
    user_in_kernel[nuser_in_kernel++ % MAX_USER_IN_KERNEL] = (typeof(user_in_kernel[0])){ cr3, task };
    struct vmi_proc t;
    char who[48] = "no task known";
    bool known = task && vmi_read_task(e->cr3, task, &t);
    if (known)
        fmt_snprintf(who, sizeof(who), "task pid %lld \"%s\"", (long long)t.pid, t.name);
    ids_raise_task(POL_HIDDEN_PROCESS, e, known ? &t : 0, cr3 ^ 3, &e->rip, &cr3, "user-mode code runs in %s (%s)",
                   cr3 == vmi_space_key(ids.first_cr3) && cr3 != ids.kernel_cr3 ? "the boot page tables"
                                                                                : "the kernel's address space", who);
}

/* Listed processes whose name is not the one they first ran with. */
static void check_names(const struct ids_event *e)
{
    ids_ident_refresh(e->cr3, 0);
    const struct vmi_proc *p;
    int n = ids_procs(e->cr3, &p);
    for (int i = 0; i < n; i++) {
        struct ids_ident *id = ids_ident(&p[i]);
        if (id->foreign && !id->foreign_reported) {
            id->foreign_reported = true;
            struct ids_event h = *e;
            h.cr3 = p[i].cr3;
            ids_raise(POL_HIDDEN_PROCESS, &h, p[i].addr ^ 2, &p[i].addr, 0,
                      "process pid %lld \"%s\" does not run the code the first \"%s\" ran: another program under "
                      "its name", (long long)p[i].pid, p[i].name, p[i].name);
        }
        if (id->renamed || !strcmp(id->name, p[i].name))
            continue;
        if (id->pid != id->first_pid) {
            id->renamed = true;
            struct ids_event h = *e;
            h.cr3 = p[i].cr3;
            ids_raise(POL_HIDDEN_PROCESS, &h, p[i].addr ^ 1, &p[i].addr, 0,
                      "process pid %lld \"%s\" took the name \"%s\" and pid %lld after it first ran",
                      (long long)id->first_pid, id->name, p[i].name, (long long)p[i].pid);
            continue;
        }
        id->renamed = true;
        struct ids_event h = *e;
        h.cr3 = p[i].cr3;
        ids_raise(POL_HIDDEN_PROCESS, &h, p[i].addr ^ 1, &p[i].addr, 0,
                  "process pid %lld \"%s\" was renamed \"%s\" after it first ran; vigil still knows it as \"%s\"",
                  (long long)p[i].pid, id->name, p[i].name, id->name);
    }
}

static struct ids_verdict event(const struct ids_event *e) { return check_space(e, e->load.new_cr3, 0); }

static void new_space(const struct ids_event *e, u64 cr3)
{
    if (!vmi_have_procs())
        return;
    ids_procs_stale();                               /* it was listed just before it first ran */
    /* Linux loads a new address space in exec before it renames the task:
     * identities there are made when first needed. */
    if (!vmi_have_linux())
        ids_ident_refresh(e->cr3, cr3);
}

/* What each vCPU last found running and accounted for: the same task, in
 * the same address space (KPTI's pair is one), against the same snapshot of
 * the list, is accounted for again (if it is still linked into the list:
 * Linux), without reading it again. Most samples find what the last one
 * found. */
static struct { u64 task, space, gen; } seen_ok[IDS_MAX_VCPUS];

/* What runs now, against the list: at every tick, and at random-time
 * samples between them. */
static void who_runs(const struct ids_event *e)
{
    u64 task = 0;
    struct vmi_proc cur;
    bool have = false;
    u32 v = e->vcpu < IDS_MAX_VCPUS ? e->vcpu : 0;
    if (ids.boot_done && vmi_have_procs()) {
        have = (vmi_have_linux() ? vmi_linux_current(e->cpl, &task) : vmi_current_task(e->cr3, &task)) && task;
        bool unlinked = have && vmi_have_linux() && vmi_linux_task_unlinked(task);
        /* (by address space: KPTI's two roots are one; ring 3 in the kernel's is always judged) */
        u64 space = vmi_space_key(e->cr3);
        if (have && !unlinked && !vmi_have_kstack() && e->type == IDS_EV_SAMPLE && task == seen_ok[v].task &&
            space == seen_ok[v].space && !(e->cpl == 3 && ids_kernel_space(space)) &&
            ids_procs_generation() == seen_ok[v].gen)
            return;
        have = have && vmi_read_task(e->cr3, task, &cur);  /* not a structure vigil can read: no verdict */
        /* Linux walks its task list every LINUX_SNAP_TICKS ticks (ids.c);
         * between walks the running process's own links say whether it was
         * taken off the list, and if so the list is walked now. */
        if (have && unlinked)
            ids_procs_stale();
    }
    check_space(e, e->cr3, have ? &cur : 0);
    if (ids.boot_done && vmi_have_procs()) {
        if (have)
            check_task(e, task, &cur);
        check_stack(e, have ? task : 0);
        check_user_mode(e, have ? task : 0);
    }
    if (have && !nsuspects)
        seen_ok[v] = (typeof(seen_ok[0])){ task, vmi_space_key(e->cr3), ids_procs_generation() };
    else
        seen_ok[v].task = 0;
}

static void tick(const struct ids_event *e)
{
    who_runs(e);
    /* Linux: exec renames its task (same task_struct, a new comm), so
     * renames are not judged there yet. */
    if (ids.boot_done && vmi_have_procs() && !vmi_have_linux())
        check_names(e);
    for (int i = 0; nsuspects && i < MAX_SUSPECTS; i++)       /* suspects not seen for a while */
        if (suspects[i].used && ids.ticks - suspects[i].last_tick > SUSPECT_EXPIRY)
            forget(i);
}

/* The tick comes on a fixed period, which a guest can learn from the gap
 * each one leaves in its TSC, and a hider could run only between two ticks
 * (the testos scenario hide-tick-phase does). The samples between them come
 * at exponentially spaced moments: memoryless, so a sample seen says
 * nothing of when the next comes, and a task is sampled in proportion to
 * its time on the CPU whatever it knows. */
#define SAMPLE_MEAN_US 10000

static void start(void)
{
    if (ids.cfg.samples_off)
        kprintf("vigil: hidden-process: samples=off: only the periodic tick looks at what runs\n");
    else
        vmm_random_samples(SAMPLE_MEAN_US);
}

const struct policy_ops pol_hidden_process = {
    .id = POL_HIDDEN_PROCESS, .start = start, .event = event, .new_space = new_space, .tick = tick,
    .sample = who_runs,
};
