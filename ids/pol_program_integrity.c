/* program-integrity (Livewire's user program integrity detector, on
 * Linux): the code pages of processes that run a named program are
 * compared with known-good hashes computed from the program's file on the
 * host (scripts/progpages.py; the profile's `program` records, ids/progdb.c).
 *
 * - Which program a process runs: task->mm->exe_file->f_path.dentry->d_name,
 *   the name of the file the kernel exec'd (not comm, which prctl rewrites).
 *   Read once per (address space, pid) and kept while the process is listed
 *   and, read again before each check, still in that address space.
 * - What is checked: its resident code pages, those its page tables map
 *   present, user and executable (under KPTI through its user PGD, as the
 *   CPU runs them) at a page the program has a hash for. A page not
 *   present (never run yet, or reclaimed) is passed over: there is nothing
 *   in memory to judge, and its next fault reads the file again.
 * - When: every `interval` ticks (10: 100 ms) the process list is looked at;
 *   a process first seen is checked before the others, then every tracked
 *   process in turn (round-robin), PI_PAGES pages hashed a check at most,
 *   resuming where the last check of that process stopped. A frame judged
 *   in the last second at the same page is not hashed again (the cache).
 * - A page that differs is reported once per (pid, page) with its address.
 *   An audit has nothing to block: the record says alert. */
#include "ids/engine.h"
#include "ids/progdb.h"
#include "vmm/introspect.h"
#include "arch/x86_64/cpu.h"
#include "lib/hash.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/string.h"

#define PI_TRACK 64                      /* processes tracked at once */
#define PI_PAGES 64                      /* pages hashed per check (all processes) */
#define PI_TABLES 64                     /* page tables read per check (all processes) */
#define PI_REPORTED 128                  /* (pid, page) pairs reported */
#define PI_CACHE 1024                    /* pages judged lately */
#define PI_CACHE_CHECKS 10               /* a judged page is taken as judged for 10 checks (1 s) */

static struct progdb db;
static bool db_ok;
static bool want[PROGDB_MAX_PROGRAMS];   /* checked: named by the policy (or all) and hashed */
static u32 nwant;

static bool fields_said;

struct track {
    bool used, seen, fresh;              /* fresh: not yet checked once whole */
    int prog;                            /* index in db, -1: not a checked program */
    s64 pid;
    u64 cr3, task, cursor;               /* cursor: the next page to check (0: the first) */
    u64 checked;                         /* the check (st.checks) that last looked at it */
    char comm[16];
};
static struct track tr[PI_TRACK];
static u32 rr;                           /* round-robin: the next tracked slot to check */
static struct { s64 pid; u64 va; } reported[PI_REPORTED];
static u32 nreported;
static struct {
    u64 checks, cycles, max_cycles, processes, pages, cached, differ, passes, untracked, gone;
} st;
/* A frame seen lately at a page of a program, and the verdict of its hash:
 * the processes of one program share its page-cache frames, so a frame is
 * hashed once for all of them and again when its verdict is PI_CACHE_CHECKS
 * checks old. A write through /proc/PID/mem or ptrace gives the process a
 * new (copy-on-write) frame, which is hashed when it is first visited; a
 * write into the shared frame itself is found when its verdict expires. */
static struct { u64 frame, vpn, check; int prog; bool ok; } cache[PI_CACHE];

void program_integrity_load(const char *text, size_t len)
{
    char err[160];
    db_ok = progdb_parse(text, len, &db, err, sizeof(err)) == 0;
    if (!db_ok)
        kprintf("vigil: program-integrity: the profile's program records are refused: %s\n", err);
}

static void start(void)
{
    nwant = 0;
    memset(want, 0, sizeof(want));
    if (!db_ok || !db.nprog) {
        if (ids.have_profile && profile_is_linux(&ids.prof))
            kprintf("vigil: program-integrity: the profile carries no program hashes: nothing to check\n");
        return;
    }
    const struct policy_config *c = &ids.cfg;
    for (u32 i = 0; i < c->npi_prog; i++) {
        int k = progdb_find(&db, c->pi_prog[i]);
        if (k < 0)
            kprintf("vigil: program-integrity: no hashes for '%s' in the profile: not checked\n", c->pi_prog[i]);
        else
            want[k] = true;
    }
    if (!c->npi_prog)
        for (u32 k = 0; k < db.nprog; k++)
            want[k] = true;
    char names[200];
    u32 at = 0, pages = 0;
    names[0] = 0;
    for (u32 k = 0; k < db.nprog; k++)
        if (want[k]) {
            nwant++;
            pages += db.prog[k].count;
            at += (u32)fmt_snprintf(names + at, sizeof(names) - at, "%s%s", at ? "," : "", db.prog[k].name);
            if (at >= sizeof(names))
                at = sizeof(names) - 1;
        }
    kprintf("vigil: program-integrity: %u programs (%s), %u code pages known-good\n", nwant, names, pages);
}

/* The profile's fields for the exe name (vmi_linux_exe_name), said once
 * when it lacks them. */
static bool fields(void)
{
    if (!vmi_linux_have_exe() && !fields_said) {
        fields_said = true;
        kprintf("vigil: program-integrity: the profile lacks task_struct.mm, mm_struct.exe_file, "
                "file.f_path.dentry or dentry.d_name.name: no process's program is known\n");
    }
    return vmi_linux_have_exe();
}

static bool first_report(s64 pid, u64 va)
{
    for (u32 i = 0; i < nreported && i < PI_REPORTED; i++)
        if (reported[i].pid == pid && reported[i].va == va)
            return false;
    reported[nreported % PI_REPORTED].pid = pid;
    reported[nreported % PI_REPORTED].va = va;
    nreported++;
    return true;
}

/* The task at task is still process pid, in the address space key. */
static bool still(u64 task, s64 pid, u64 key)
{
    struct vmi_proc now;
    return vmi_read_task(0, task, &now) && now.pid == pid && now.cr3 && vmi_space_key(now.cr3) == key;
}

/* The tracked processes as the list has them now: new ones identified,
 * gone ones dropped. */
static void refresh(const struct ids_event *e)
{
    const struct vmi_proc *procs;
    int n = ids_procs(e->cr3, &procs);
    if (n < 0)
        return;
    for (u32 i = 0; i < PI_TRACK; i++)
        tr[i].seen = false;
    for (int i = 0; i < n; i++) {
        const struct vmi_proc *p = &procs[i];
        if (!p->cr3)
            continue;                    /* a kernel thread */
        u64 key = vmi_space_key(p->cr3);
        if (vmi_linux_kernel_space(key))
            continue;
        struct track *t = 0, *free = 0;
        for (u32 j = 0; j < PI_TRACK && !t; j++) {
            if (tr[j].used && tr[j].cr3 == key && tr[j].pid == p->pid)
                t = &tr[j];
            else if (!tr[j].used && !free)
                free = &tr[j];
        }
        if (t) {
            t->seen = true;              /* a thread of a tracked process, or the process again */
            continue;
        }
        if (!free) {
            st.untracked++;
            continue;
        }
        char exe[16];
        int k = vmi_linux_exe_name(p->addr, exe) ? progdb_find(&db, exe) : -1;
        if (!still(p->addr, p->pid, key))
            continue;                    /* exec'd (or gone) since the snapshot: its program is not that
                                          * space's; the next snapshot has it as it is */
        *free = (struct track){ .used = true, .seen = true, .fresh = true, .prog = k >= 0 && want[k] ? k : -1,
                                .pid = p->pid, .cr3 = key, .task = p->addr };
        memcpy(free->comm, p->name, 16);
        if (free->prog >= 0)
            st.processes++;
    }
    for (u32 i = 0; i < PI_TRACK; i++)
        if (tr[i].used && !tr[i].seen)
            tr[i].used = false;          /* gone from the list (exited, or exec'd into a new space) */
}

struct walk {
    const struct ids_event *e;
    struct track *t;
    u32 *pages;                          /* the check's budget left */
    u64 next;                            /* the next page not looked at */
};

static enum pt_table_verdict table(void *ctx, const struct pt_table *tb)
{
    (void)ctx;
    return tb->user ? PT_VISIT_ALL : PT_VISIT_NONE;
}

static void differs(const struct walk *w, u64 va, u64 gpa)
{
    struct track *t = w->t;
    st.differ++;
    if (!first_report(t->pid, va))
        return;
    struct ids_event h = *w->e;
    h.cr3 = t->cr3;
    struct vmi_proc who;
    memset(&who, 0, sizeof(who));
    who.pid = t->pid;
    memcpy(who.name, t->comm, 16);
    who.cr3 = t->cr3;
    who.addr = t->task;
    ids_raise_task(POL_PROGRAM_INTEGRITY, &h, &who, (u64)t->pid << 32 ^ va >> 12, &va, &gpa,
                   "code page 0x%llx of %s (pid %lld) differs from the program's file", (unsigned long long)va,
                   db.prog[t->prog].name, (long long)t->pid);
}

static bool leaf(void *ctx, const struct pt_leaf *l)
{
    struct walk *w = ctx;
    for (u64 off = 0; off < l->size; off += 4096) {
        u64 va = l->gva + off;
        if (va < w->next)
            continue;                    /* a large page that starts before the cursor */
        if (!*w->pages)
            return false;                /* the budget is spent: resume here next time */
        w->next = va + 4096;
        u64 want_hash;
        if (!l->user || l->nx || !progdb_page(&db, (u32)w->t->prog, va, &want_hash))
            continue;                    /* not user code at a page of the program's */
        u64 frame = (l->gpa + off) >> 12, vpn = va >> 12;
        u32 slot = (u32)((frame ^ vpn * 31) % PI_CACHE);
        if (cache[slot].check && cache[slot].frame == frame && cache[slot].vpn == vpn &&
            cache[slot].prog == w->t->prog && st.checks - cache[slot].check < PI_CACHE_CHECKS) {
            st.cached++;
            if (!cache[slot].ok)
                differs(w, va, l->gpa + off);   /* a frame already found changed, in another process */
            continue;
        }
        const u64 *page = guestmem_map(l->gpa + off, 4096);
        if (!page)
            continue;
        (*w->pages)--;
        st.pages++;
        bool ok = fnv64_qwords(FNV64_BASIS, page, 512) == want_hash;
        cache[slot].frame = frame;
        cache[slot].vpn = vpn;
        cache[slot].prog = w->t->prog;
        cache[slot].check = st.checks;
        cache[slot].ok = ok;
        if (!ok)
            differs(w, va, l->gpa + off);
    }
    return true;
}

/* Check t's resident code pages from its cursor, within the budget. The
 * task is read again first: a process that exited or exec'd since the
 * snapshot freed its address space, and another process's tables may be
 * at that page already (its code is not this program's). */
static void check(const struct ids_event *e, struct track *t, u32 *pages, u32 *tables)
{
    const struct progdb *d = &db;
    if (!still(t->task, t->pid, t->cr3)) {
        t->used = false;
        st.gone++;
        return;
    }
    t->checked = st.checks;
    u32 first = d->prog[t->prog].first, count = d->prog[t->prog].count;
    u64 lo = d->page[first].va, hi = d->page[first + count - 1].va + 4095;
    struct walk w = { e, t, pages, t->cursor > lo ? t->cursor : lo };
    /* Under KPTI the kernel PGD maps the user half no-execute (its top-level
     * entries have XD): the user PGD, 4 KiB above, is what the CPU runs
     * user code through, with the same tables below the top. */
    u64 root = vmi_space_key(t->cr3 | 0x1000) == t->cr3 ? t->cr3 | 0x1000 : t->cr3;
    struct pt_paging pg;
    vmi_paging(root, &pg);
    const struct pt_visitor v = { .map = vmi_map, .ctx = &w, .max_tables = *tables, .table = table, .leaf = leaf };
    struct pt_visit_stats vs;
    memset(&vs, 0, sizeof(vs));
    pt_visit(&pg, w.next, hi, &v, &vs);
    *tables = vs.tables < *tables ? *tables - vs.tables : 0;
    if (vs.stopped || vs.over_budget) {
        t->cursor = w.next;              /* the rest next time */
        return;
    }
    t->cursor = 0;                       /* a whole pass: start over next time */
    t->fresh = false;
    st.passes++;
}

static void tick(const struct ids_event *e)
{
    if (!nwant || !vmi_have_linux() || !fields())
        return;
    u64 t0 = rdtsc();
    st.checks++;
    refresh(e);
    u32 pages = PI_PAGES, tables = PI_TABLES;
    /* First seen first: a new process is checked before the round. */
    for (u32 i = 0; i < PI_TRACK && pages && tables; i++)
        if (tr[i].used && tr[i].prog >= 0 && tr[i].fresh)
            check(e, &tr[i], &pages, &tables);
    for (u32 k = 0; k < PI_TRACK && pages && tables; k++) {
        struct track *t = &tr[rr];
        rr = (rr + 1) % PI_TRACK;
        if (t->used && t->prog >= 0 && !t->fresh && t->checked != st.checks)
            check(e, t, &pages, &tables);
    }
    u64 c = rdtsc() - t0;
    st.cycles += c;
    if (c > st.max_cycles)
        st.max_cycles = c;
}

void program_integrity_summary(void)
{
    if (!st.checks)
        return;
    kprintf("vigil: program-integrity: %llu processes of checked programs seen, %llu code pages hashed (%llu more "
            "judged lately), %llu differed; %llu whole passes; %llu gone before a check (exited or exec'd); %llu "
            "checks, %llu cycles each on average (at most %llu)%s\n",
            (unsigned long long)st.processes, (unsigned long long)st.pages, (unsigned long long)st.cached,
            (unsigned long long)st.differ,
            (unsigned long long)st.passes, (unsigned long long)st.gone, (unsigned long long)st.checks,
            (unsigned long long)(st.cycles / st.checks), (unsigned long long)st.max_cycles,
            st.untracked ? "; some processes not tracked (table full)" : "");
}

const struct policy_ops pol_program_integrity = { .id = POL_PROGRAM_INTEGRITY, .start = start, .tick = tick };
