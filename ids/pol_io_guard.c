/* io-guard: port ranges that only named processes may drive (by default
 * the ATA controller, 0x1f0-0x1f7, for a process called diskd). Accesses
 * to a watched port are attributed to the process whose address space is
 * loaded, and judged by its identity (ids/ident.c), not by the name in its
 * own entry, which the guest can rewrite; any other process is reported,
 * and blocked (the write dropped, a read returns all ones) if the rule says
 * so. */
#include "ids/engine.h"
#include "ids/alert.h"
#include "lib/fmt.h"
#include "lib/string.h"

static void start(void)
{
    for (u32 r = 0; r < ids.cfg.nio; r++)
        for (u32 i = 0; i < ids.cfg.io[r].nranges; i++)
            ids_trap_ports(POL_IO_GUARD, ids.cfg.io[r].ranges[i].lo, ids.cfg.io[r].ranges[i].hi, "a port range", r);
}

/* The listed process whose address space is loaded, and its identity
 * (what vigil recorded when it first saw it run). */
static struct ids_ident *identity_of(u64 cr3)
{
    cr3 = vmi_space_key(cr3);
    if (ids_kernel_space(cr3))
        return 0;                                   /* the kernel's own: no process, "kernel" */
    const struct vmi_proc *p;
    int n = ids_procs(cr3, &p);
    for (int i = 0; i < n; i++)
        if (p[i].cr3 == cr3)
            return ids_ident(&p[i]);
    return 0;
}

static bool allowed(const struct io_rule *rule, const char *name)
{
    for (u32 i = 0; i < rule->nallow; i++)
        if (name[0] && !strcmp(name, rule->allow[i]))
            return true;
    return false;
}

/* An access that touched a range of the rule its subscription names (every
 * port of a 2- or 4-byte access counts). A process is allowed by its
 * identity: the name it first ran with, and only while its code is the
 * code it first ran (a rename, or code put into an allowed process, does
 * not carry the allowance). */
static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    u32 r = ids_object_of(e)->arg;
    if (r >= ids.cfg.nio)
        return v;
    const struct io_rule *rule = &ids.cfg.io[r];
    s64 pid;
    char name[16], who[96];
    ids_proc_of(e->cr3, &pid, name);
    struct ids_ident *id = vmi_have_procs() && !vmi_have_linux() ? identity_of(e->cr3) : 0;
    /* Linux runs its drivers in whatever process's address space it is
     * in: a supervisor-mode access is the kernel's own. User-mode port I/O
     * (granted by ioperm or iopl) is the process's. */
    struct vmi_proc cur, *as = 0;
    u64 task;
    if (vmi_have_linux() && e->cpl != 3) {
        id = 0;
        pid = -1;
        str_copy(name, "kernel", sizeof(name));
    } else if (vmi_have_linux() && vmi_linux_current(e->cpl, &task) && vmi_read_task(e->cr3, task, &cur) &&
               vmi_space_key(cur.cr3) == vmi_space_key(e->cr3)) {
        /* The task that runs, read now, in user mode: its exec is over. A
         * snapshot can be from inside its exec (the new address space
         * loaded, the task not yet renamed), so the identity is made from
         * this read (an identity is keyed by task, pid and address space). */
        pid = cur.pid;
        str_copy(name, cur.name, sizeof(name));
        as = &cur;
        id = ids_ident(&cur);
    } else if (vmi_have_linux()) {
        id = identity_of(e->cr3);
    }
    const char *known = id ? id->name : name;
    bool intact = !id || (!id->foreign && ids_ident_code_intact(id));
    if (allowed(rule, known) && intact)
        return v;
    if (!name[0])
        str_copy(who, "an unknown process", sizeof(who));
    else if (id && vmi_have_linux() && strcmp(id->name, name))
        fmt_snprintf(who, sizeof(who), "%s (pid %lld, program %s)%s", name, (long long)pid, id->name,
                     id->foreign ? ", not that program's first code" : !intact ? ", its code changed" : "");
    else if (id && strcmp(id->name, name) && id->pid != id->first_pid)
        fmt_snprintf(who, sizeof(who), "%s (pid %lld, first ran as %s, pid %lld)", name, (long long)pid, id->name,
                     (long long)id->first_pid);
    else if (id && id->foreign)
        fmt_snprintf(who, sizeof(who), "%s (pid %lld), not the code the first %s ran", name, (long long)pid, name);
    else if (id && strcmp(id->name, name))
        fmt_snprintf(who, sizeof(who), "%s (pid %lld, first ran as %s)", name, (long long)pid, id->name);
    else if (!intact)
        fmt_snprintf(who, sizeof(who), "%s (pid %lld), whose code changed since it first ran", name,
                     (long long)pid);
    else
        str_copy(who, name, sizeof(who));
    char detail[ALERT_DETAIL], where[24] = "the default rule", width[12] = "";
    if (rule->line)
        fmt_snprintf(where, sizeof(where), "policy line %u", rule->line);
    if (e->io.size > 1)
        fmt_snprintf(width, sizeof(width), " (%u bytes)", e->io.size);
    fmt_snprintf(detail, sizeof(detail), "%s port 0x%x%s by %s, not allowed by %s", e->io.in ? "IN from" : "OUT to",
                 e->io.port, width, who, where);
    return ids_raise_action_task(POL_IO_GUARD, rule->action, e, as, e->io.port, detail);
}

const struct policy_ops pol_io_guard = { .id = POL_IO_GUARD, .start = start, .event = event };
