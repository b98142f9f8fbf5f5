/* Process identities: what vigil recorded of a process when it first saw
 * it (docs/ids.md, "Process identity"). A process's name lives in its own
 * structure, which the guest kernel, or a rootkit in it, can rewrite at any
 * time. Its identity is what vigil saw before that could matter: the name
 * it had, its structure's address, its address space, and a hash of its
 * user code, all as of the first CR3 load into its address space or the
 * first tick that found it listed, whichever came first. An identity is
 * keyed by the structure's address and the pid: a slot of the process
 * pool reused by a new process is a new identity. io-guard allows by
 * identity; hidden-process reports a listed process whose name no longer
 * matches. On Linux the name is the program's, the file the kernel exec'd
 * (vmi_linux_exe_name), not comm: a process rewrites its comm at will
 * (prctl), and identities there are made when first needed, which may be
 * after a rename; and exec installs the new mm with its file before it
 * sets comm. */
#include "ids/engine.h"
#include "vmm/introspect.h"
#include "lib/hash.h"
#include "lib/string.h"

#define MAX_IDENTS 64
#define IDENT_EXPIRY 100                    /* ticks (1 s) out of the list: forgotten */
#define CODE_MAX_PAGES 64
#define CODE_MAX_TABLES 64
#define USER_HALF_END 0x00007fffffffffffull

static struct ids_ident idents[MAX_IDENTS];

struct code_sum { u64 h; u32 pages; };

static enum pt_table_verdict code_table(void *ctx, const struct pt_table *t)
{
    (void)ctx;
    return t->user ? PT_VISIT_ALL : PT_VISIT_NONE;
}

/* Each user-executable page, by address and content (at most
 * CODE_MAX_PAGES; a page vigil cannot map counts by its address only). */
static bool code_leaf(void *ctx, const struct pt_leaf *l)
{
    struct code_sum *c = ctx;
    if (!l->user || l->nx)
        return true;
    for (u64 off = 0; off < l->size && c->pages < CODE_MAX_PAGES; off += 4096) {
        const u64 *p = guestmem_map(l->gpa + off, 4096);
        c->h = fnv64_add(c->h, l->gva + off);
        if (p)
            c->h = fnv64_qwords(c->h, p, 512);
        c->pages++;
    }
    return c->pages < CODE_MAX_PAGES;
}

u64 ids_code_hash(u64 cr3, u32 *pages)
{
    struct code_sum c = { FNV64_BASIS, 0 };
    struct pt_paging pg;
    vmi_paging(cr3 & PT_ADDR_MASK, &pg);
    const struct pt_visitor v = { .map = vmi_map, .ctx = &c, .max_tables = CODE_MAX_TABLES, .table = code_table,
                                  .leaf = code_leaf };
    pt_visit(&pg, 0, USER_HALF_END, &v, 0);
    if (pages)
        *pages = c.pages;
    return c.h;
}

/* The code each name's first process ran (trust on first use): a later
 * process under that name that runs other code is not that program, so a
 * name (and a pid) taken over does not carry what the name is allowed. */
#define MAX_PROGRAMS 32
static struct { char name[16]; u64 code; } programs[MAX_PROGRAMS];
static u32 nprograms;

static bool program_matches(const char *name, u64 code)
{
    for (u32 i = 0; i < nprograms; i++)
        if (!strcmp(programs[i].name, name))
            return programs[i].code == code;
    if (nprograms < MAX_PROGRAMS) {
        str_copy(programs[nprograms].name, name, sizeof(programs[0].name));
        programs[nprograms++].code = code;
    }
    return true;
}

struct ids_ident *ids_ident(const struct vmi_proc *p)
{
    int slot = -1;
    for (int i = 0; i < MAX_IDENTS; i++) {
        struct ids_ident *id = &idents[i];
        /* Linux's exec keeps the task and starts a new address space (and
         * program): a new identity. */
        if (id->used && id->task == p->addr && id->pid == p->pid && (!vmi_have_linux() || id->cr3 == p->cr3)) {
            id->last_tick = ids.ticks;
            return id;
        }
        if (!id->used && slot < 0)
            slot = i;
    }
    /* Another pid in a structure and address space vigil knows, running
     * the code that identity recorded: the same process with its pid
     * rewritten (rename-with-pid), not a new one. It keeps its identity.
     * (A new process in a reused pool slot and page-table root gets there
     * only if vigil saw no tick between the two; running the same code
     * under the same name, it loses nothing by being taken for the old.) */
    for (int i = 0; p->cr3 && i < MAX_IDENTS; i++) {
        struct ids_ident *id = &idents[i];
        if (id->used && id->task == p->addr && id->cr3 == p->cr3 && ids_code_hash(p->cr3, 0) == id->code) {
            id->pid = p->pid;
            id->last_tick = ids.ticks;
            return id;
        }
    }
    if (slot < 0) {
        slot = 0;                           /* full: replace the one listed longest ago */
        for (int i = 1; i < MAX_IDENTS; i++)
            if (idents[i].last_tick < idents[slot].last_tick)
                slot = i;
    }
    struct ids_ident *id = &idents[slot];
    memset(id, 0, sizeof(*id));
    id->used = true;
    id->pid = id->first_pid = p->pid;
    id->task = p->addr;
    id->cr3 = p->cr3;
    str_copy(id->name, p->name, sizeof(id->name));
    char exe[16];
    if (vmi_have_linux() && vmi_linux_exe_name(p->addr, exe))
        str_copy(id->name, exe, sizeof(id->name));
    id->first_tick = id->last_tick = id->code_tick = ids.ticks;
    id->code = id->code_now = ids_code_hash(p->cr3, &id->pages);
    id->foreign = !program_matches(id->name, id->code);
    return id;
}

bool ids_ident_code_intact(struct ids_ident *id)
{
    if (id->code_tick != ids.ticks) {       /* at most one hash per process per tick */
        id->code_now = ids_code_hash(id->cr3, 0);
        id->code_tick = ids.ticks;
    }
    return id->code_now == id->code;
}

const struct ids_ident *ids_ident_refresh(u64 cr3, u64 of_cr3)
{
    const struct vmi_proc *p;
    const struct ids_ident *found = 0;
    int n = ids_procs(cr3, &p);
    for (int i = 0; i < n; i++) {
        if (!p[i].cr3 && vmi_have_linux())
            continue;                       /* a kernel thread: no user code, no identity */
        struct ids_ident *id = ids_ident(&p[i]);
        if (of_cr3 && p[i].cr3 == (of_cr3 & PT_ADDR_MASK) && !found)
            found = id;
    }
    for (int i = 0; i < MAX_IDENTS; i++)
        if (idents[i].used && ids.ticks - idents[i].last_tick > IDENT_EXPIRY)
            idents[i].used = false;
    return found;
}
