/* pagetable-audit: each new address space's page tables, and the running
 * one's every `interval` ticks (default 10), are visited (pt_visit, the one
 * walker's range visitor: the audit is its leaf callback) and checked for
 * what a rootkit sets up: kernel mappings that are writable and executable
 * (anywhere in the upper half, and supervisor mappings in the lower half),
 * the kernel's text mapped user-accessible, and any mapping of vigil's own
 * memory. The boot tables are not audited until they run again after the
 * boot, which is itself reported. The visit is bounded (AUDIT_MAX_TABLES tables) and reads tables
 * only from guest RAM, so hostile tables cost a bounded amount and cannot
 * reach vigil. An entry with reserved bits (PS in a PML4E among them) maps
 * nothing, as the CPU faults on it, and is not judged. */
#include "ids/engine.h"
#include "vmm/introspect.h"

#define AUDIT_MAX_TABLES 512
#define KERNEL_HALF_TICKS 10                   /* Linux: the shared kernel half, at most once in 100 ms */
#define MAX_REPORTED 64

enum finding { F_WX = 1, F_USER_TEXT = 2, F_HV = 3, F_WX_LOW = 4, F_BOOT = 5, F_WX_ALIAS = 6 };

/* Frames, not mappings: a frame executable (supervisor) through one
 * mapping and writable through another is W+X as surely as one mapping
 * that is both. Each audit collects the supervisor-executable leaves
 * outside the kernel's text, and the writable leaves outside the direct
 * map, and reports the frames they share. */
#define MAX_XS 32
#define MAX_WS 256
static struct alias { u64 pa, size, gva; } xs[MAX_XS], ws[MAX_WS];
static u32 nxs, nws;
static u64 dm_lo, dm_hi;                       /* the direct map's addresses (the profile's) */

static struct { u64 cr3, gva; enum finding kind; } reported[MAX_REPORTED];
static u32 nreported;
static u64 text_pa, text_end;
static u64 hv_lo, hv_hi;                       /* bounds of vigil's memory: a quick first test */
static const struct ids_event *cur_ev;
static u64 cur_cr3;

static bool first_report(enum finding f, u64 cr3, u64 gva)
{
    for (u32 i = 0; i < nreported && i < MAX_REPORTED; i++)
        if (reported[i].kind == f && reported[i].cr3 == cr3 && reported[i].gva == gva)
            return false;
    u32 slot = nreported++ % MAX_REPORTED;
    reported[slot].kind = f;
    reported[slot].cr3 = cr3;
    reported[slot].gva = gva;
    return true;
}

/* Same-kind findings fold: a guest that makes thousands of W+X mappings
 * (or boot tables full of them) would otherwise spend the console's whole
 * budget on them, and a later alert of another kind would be dropped. Of
 * each kind, FOLD_AFTER findings a second are records of their own; the
 * rest of that second are counted, and one record says how many and over
 * which addresses, once the second is over (at the next audit or tick). */
#define FOLD_AFTER 3
#define FOLD_TICKS 100
static const char *const kind_what[] = {
    [F_WX] = "kernel mappings W+X",
    [F_USER_TEXT] = "user mappings of kernel text",
    [F_HV] = "mappings of vigil's memory",
    [F_WX_LOW] = "lower-half supervisor mappings W+X",
    [F_BOOT] = "boot page table runs",
    [F_WX_ALIAS] = "frames W+X through two mappings",
};
static struct fold { u64 window, count, lo, hi, cr3; u32 own; } fold[F_WX_ALIAS + 1];
static u64 folded;

void pagetable_audit_folds(u64 *all, u64 *unsent)
{
    *all = folded;
    *unsent = 0;
    for (u32 f = 1; f <= F_WX_ALIAS; f++)
        *unsent += fold[f].count;
}

static void fold_flush(const struct ids_event *e, enum finding f)
{
    struct fold *k = &fold[f];
    if (k->count) {
        struct ids_event h = *e;
        h.cr3 = k->cr3;
        ids_raise(POL_PAGETABLE_AUDIT, &h, 0xf01d0000ull | f, &k->lo, 0,
                  "%llu more %s in the last second, at 0x%llx-0x%llx (folded)",
                  (unsigned long long)k->count, kind_what[f], (unsigned long long)k->lo, (unsigned long long)k->hi);
    }
    k->count = 0;
    k->own = 0;
    k->window = ids.ticks;
}

/* Due folds (their second is over) become records. */
static void fold_due(const struct ids_event *e)
{
    for (u32 f = 1; f <= F_WX_ALIAS; f++)
        if (ids.ticks - fold[f].window >= FOLD_TICKS && (fold[f].count || fold[f].own))
            fold_flush(e, (enum finding)f);
}

/* True: report this finding in a record of its own; false: it is counted. */
static bool fold_take(enum finding f, u64 gva)
{
    struct fold *k = &fold[f];
    if (ids.ticks - k->window >= FOLD_TICKS)
        fold_flush(cur_ev, f);
    if (k->own < FOLD_AFTER) {
        k->own++;
        return true;
    }
    if (!k->count || gva < k->lo)
        k->lo = gva;
    if (!k->count || gva > k->hi)
        k->hi = gva;
    if (!k->count)
        k->cr3 = cur_cr3;
    k->count++;
    folded++;
    return false;
}

static void finding(enum finding f, u64 gva, u64 pa, u64 size)
{
    if (!first_report(f, cur_cr3, gva) || !fold_take(f, gva))
        return;
    struct ids_event h = *cur_ev;
    h.cr3 = cur_cr3;
    if (f == F_WX)
        ids_raise(POL_PAGETABLE_AUDIT, &h, gva, &gva, &pa, "kernel mapping writable and executable (%llu KiB page)",
                  (unsigned long long)(size >> 10));
    else if (f == F_WX_LOW)
        ids_raise(POL_PAGETABLE_AUDIT, &h, gva, &gva, &pa,
                  "supervisor mapping writable and executable in the lower half (%llu KiB page)",
                  (unsigned long long)(size >> 10));
    else if (f == F_USER_TEXT)
        ids_raise(POL_PAGETABLE_AUDIT, &h, gva, &gva, &pa, "kernel text mapped user-accessible");
    else
        ids_raise(POL_PAGETABLE_AUDIT, &h, gva, &gva, &pa, "page tables map vigil's own memory");
}

static void finding_alias(u64 xva, u64 pa, u64 wva)
{
    struct ids_event h = *cur_ev;
    h.cr3 = cur_cr3;
    ids_raise(POL_PAGETABLE_AUDIT, &h, pa ^ F_WX_ALIAS, &xva, &pa,
              "frame executable here and writable at 0x%llx: W+X through two mappings", (unsigned long long)wva);
}

static void mark_table(int level, u32 bits);

/* Checked for every leaf of every audited table: kept to a few compares. */
static bool leaf(void *ctx, const struct pt_leaf *l)
{
    (void)ctx;
    u64 gva = l->gva, pa = l->gpa, size = l->size;
    if (l->writable && !l->nx && ((gva >> 63) || !l->user))
        finding(gva >> 63 ? F_WX : F_WX_LOW, gva, pa, size);
    if (l->user && pa < text_end && pa + size > text_pa)
        finding(F_USER_TEXT, gva, pa, size);
    /* A large page of the direct map may span vigil's memory beside the
     * guest's RAM (Linux maps its RAM in 2 MiB and 1 GiB pages): EPT refuses
     * the part that is vigil's, and its use is a reach for vigil
     * (hypervisor-guard). Any other mapping of it is reported. */
    if (pa < hv_hi && pa + size > hv_lo && vmm_is_hypervisor_memory(pa, pa + size) &&
        !(size > 4096 && gva >= dm_lo && gva < dm_hi))
        finding(F_HV, gva, pa, size);
    bool isx = !l->user && !l->nx && !(pa < text_end && pa + size > text_pa);
    bool isw = l->writable && !(gva >= dm_lo && gva < dm_hi);
    if ((isx || isw) && l->level >= 1 && l->level <= 3)
        mark_table(l->level, (isx ? 1u : 0) | (isw ? 2u : 0));
    if (isx && nxs < MAX_XS)
        xs[nxs++] = (struct alias){ pa, size, gva };
    if (isw) {
        struct alias *w = nws ? &ws[nws - 1] : 0;
        if (w && w->pa + w->size == pa && w->gva + w->size == gva)
            w->size += size;                   /* one run of pages, mapped in order */
        else if (nws < MAX_WS)
            ws[nws++] = (struct alias){ pa, size, gva };
    }
    return true;
}

/* The frames that the two lists share, each reported once per address
 * space (by frame, however many aliases it has). */
static void aliases(void)
{
    for (u32 i = 0; i < nxs; i++)
        for (u32 j = 0; j < nws; j++) {
            const struct alias *x = &xs[i], *w = &ws[j];
            if (w->pa >= x->pa + x->size || x->pa >= w->pa + w->size)
                continue;
            u64 pa = x->pa > w->pa ? x->pa : w->pa;
            u64 wva = w->gva + (pa - w->pa), xva = x->gva + (pa - x->pa);
            if (wva == xva)
                continue;                      /* one mapping, both: reported as such */
            if (first_report(F_WX_ALIAS, cur_cr3, pa) && fold_take(F_WX_ALIAS, xva))
                finding_alias(xva, pa, wva);
            break;
        }
}

/* The alias lists need every leaf, those of skipped tables too: an R+X
 * mapping audited once (its table then unchanged) must still pair with a
 * writable alias made later in another table (wx-alias-late). A skipped
 * table's leaves are collected here, from the entries the fingerprint just
 * read, with the tests leaf() makes for the lists: a table under a
 * no-execute entry that lies wholly in the direct map has none. */
/* What collect found in a table: bit 0 leaves for the executable list,
 * bit 1 for the writable one. */
static u32 collect(const struct pt_table *t, bool add)
{
    if (t->level > 3 || t->level < 1)
        return 0;                              /* a PML4 has no leaves */
    u64 size = 1ull << (12 + 9 * (t->level - 1)), span = size * 512;
    bool in_dm = t->gva >= dm_lo && t->gva + span <= dm_hi && dm_hi;
    u32 any = 0;
    if (t->nx && in_dm)
        return 0;
    const u64 *e = t->entries;
    for (u32 i = 0; i < 512; i++) {
        u64 x = e[i];
        if (!(x & 1) || (t->level > 1 && !(x & 0x80)))
            continue;                          /* not present, or a table */
        bool w = t->writable && (x & 2), u = t->user && (x & 4), nx = t->nx || (x >> 63);
        u64 pa = x & PT_ADDR_MASK & ~(size - 1), gva = t->gva + i * size;
        bool isx = !u && !nx && !(pa < text_end && pa + size > text_pa), isw = w && !(gva >= dm_lo && gva < dm_hi);
        any |= (isx ? 1u : 0) | (isw ? 2u : 0);
        if (!add)
            continue;
        if (isx && nxs < MAX_XS)
            xs[nxs++] = (struct alias){ pa, size, gva };
        if (isw) {
            struct alias *a = nws ? &ws[nws - 1] : 0;
            if (a && a->pa + a->size == pa && a->gva + a->size == gva)
                a->size += size;
            else if (nws < MAX_WS)
                ws[nws++] = (struct alias){ pa, size, gva };
        }
    }
    return any;
}

/* Skipped tables that hold leaves for the lists, collected after the visit
 * only if some table holds an executable one: with no supervisor-executable
 * page outside the text (testos, benign) there is nothing to pair, and the
 * writable leaves of unchanged tables are not read again. */
#define MAX_DEFERRED 128
static struct pt_table deferred[MAX_DEFERRED];
static u32 ndeferred;
static bool deferred_x;

/* Tables seldom change (a direct map is thousands of entries): the leaves
 * of a table whose entries, position and inherited permissions all match its
 * last audit cannot hold a new finding and are not checked again; its child
 * tables are still visited, since they can change on their own. */
#define FP_SLOTS 512
static struct { u64 table, gva, sum; u32 cand; } fp[FP_SLOTS];    /* cand: what collect found in it */
static int slot_at[4] = { -1, -1, -1, -1 };   /* the fingerprint slot of the table being visited, by level */

static enum pt_table_verdict table(void *ctx, const struct pt_table *t)
{
    (void)ctx;
    const u64 *e = t->entries;
    u64 sum = 0x9e3779b97f4a7c15ull;
    /* Only what the audit judges: present, writable, user, page size,
     * no-execute and the address. Accessed/dirty bits change all the time,
     * and OS-available bits are the kernel's own bookkeeping. */
    const u64 judged = 0x8000000000000087ull | PT_ADDR_MASK;
    for (u32 i = 0; i < 512; i++)
        sum = (sum ^ (e[i] & judged)) * 0x100000001b3ull;
    /* Keyed by the table itself, not the address space: the kernel half's
     * tables are shared by every process and audited once. The key is the
     * table, its rights (in its address's low bits) and its place, whole:
     * folded together, the tables of a direct map (each 4 KiB further in
     * memory and 2 MiB further in the address space) all had one key and
     * pushed each other out, and none was ever skipped. */
    u64 table = t->gpa | (u64)t->writable | (u64)t->user << 1 | (u64)t->nx << 2;
    u32 slot = (u32)(((table ^ t->gva * 0xff51afd7ed558ccdull) * 0x9e3779b97f4a7c15ull) >> 55) % FP_SLOTS;
    if (fp[slot].table == table && fp[slot].gva == t->gva && fp[slot].sum == sum) {
        if (t->level >= 1 && t->level <= 3)
            slot_at[t->level] = -1;
        if (fp[slot].cand) {                   /* its leaves still pair with a changed table's */
            deferred_x |= fp[slot].cand & 1;
            if (ndeferred < MAX_DEFERRED)
                deferred[ndeferred++] = *t;
            else
                collect(t, true);
        }
        return PT_VISIT_TABLES;
    }
    fp[slot].table = table;
    fp[slot].gva = t->gva;
    fp[slot].sum = sum;
    fp[slot].cand = 0;                         /* its leaves say (mark_table) */
    if (t->level >= 1 && t->level <= 3)
        slot_at[t->level] = (int)slot;
    return PT_VISIT_ALL;
}

/* A leaf of the table last opened at its level (the visitor goes depth
 * first: a table's leaves come after its own table() call, and its child
 * tables' calls are at other levels) belongs to the lists. */
static void mark_table(int level, u32 bits)
{
    if (slot_at[level] >= 0)
        fp[slot_at[level]].cand |= bits;
}

static void audit(const struct ids_event *e, u64 cr3)
{
    if (!ids.boot_done)
        return;
    if (!text_end && ids.have_profile) {
        u64 va, size;
        /* testos's kernel_text, or Linux's _stext.._etext */
        if ((profile_symbol(&ids.prof, "kernel_text", &va, &size) || profile_symbol(&ids.prof, "_stext", &va, &size)) &&
            size && (text_pa = profile_kva_to_pa(&ids.prof, va)))
            text_end = text_pa + size;
    }
    if (!hv_hi)
        vmm_hypervisor_bounds(&hv_lo, &hv_hi);
    cur_ev = e;
    cur_cr3 = vmi_space_key(cr3);      /* Linux under KPTI: the kernel PGD, which maps the user half too */
    struct pt_paging pg;
    vmi_paging(cur_cr3, &pg);
    if (!dm_hi && ids.have_profile && ids.prof.direct_map_base) {
        dm_lo = ids.prof.direct_map_base;
        dm_hi = dm_lo + ids.prof.direct_map_limit;
    }
    nxs = nws = ndeferred = 0;
    slot_at[1] = slot_at[2] = slot_at[3] = -1;
    deferred_x = false;
    const struct pt_visitor v = { .map = vmi_map, .max_tables = AUDIT_MAX_TABLES, .table = table, .leaf = leaf };
    /* Linux shares one kernel half among all its address spaces (its
     * top-level entries are the same in every PGD): it is audited once
     * every KERNEL_HALF_TICKS ticks, in whichever space runs then, and each
     * space's own audits cover its user half. */
    static u64 kernel_half_tick = ~0ull;
    bool whole = !vmi_have_linux() || kernel_half_tick == ~0ull || ids.ticks - kernel_half_tick >= KERNEL_HALF_TICKS;
    if (whole && vmi_have_linux())
        kernel_half_tick = ids.ticks;
    pt_visit(&pg, 0, whole ? ~0ull : 0x00007fffffffffffull, &v, 0);
    for (u32 i = 0; (nxs || deferred_x) && i < ndeferred; i++)
        if ((deferred[i].entries = vmi_map(0, deferred[i].gpa)))
            collect(&deferred[i], true);       /* the mapping may have moved: map it again */
    aliases();
    /* A user code page the execute watch granted X, also mapped for the
     * supervisor: ring 0 would run it with no exit (wx-user-grant). */
    for (u32 i = 0; i < nxs; i++) {
        u64 page;
        if (vmm_exec_granted(xs[i].pa, xs[i].pa + xs[i].size, &page))
            kernel_text_grant_alias(e, cur_cr3, xs[i].gva + (page - xs[i].pa), page);
    }
    fold_due(e);
}

bool pagetable_audit_supervisor_exec(u64 pa, u64 *gva)
{
    for (u32 i = 0; i < nxs; i++)
        if (pa >= xs[i].pa && pa < xs[i].pa + xs[i].size) {
            *gva = xs[i].gva + (pa - xs[i].pa);
            return true;
        }
    return false;
}

static void new_space(const struct ids_event *e, u64 cr3)
{
    if (cr3 != ids.first_cr3)
        audit(e, cr3);
}

/* The boot tables, which the kernel left (it loaded another CR3), run
 * again after the boot: no kernel goes back to them, and their identity
 * map is writable and executable. Reported once, with what an audit of
 * them finds (audited once: they are no address space of the OS's). */
void pagetable_audit_boot_tables(const struct ids_event *e)
{
    u64 cr3 = ids.first_cr3;
    if (!ids.boot_done || !ids.boot_tables_left || !first_report(F_BOOT, cr3, 0))
        return;
    struct ids_event h = *e;
    h.cr3 = cr3;
    ids_raise(POL_PAGETABLE_AUDIT, &h, cr3 ^ F_BOOT, 0, &cr3, "the boot page tables run again after the boot");
    audit(e, cr3);
}
static void boot_done(const struct ids_event *e)
{
    const struct ids_space *s;
    int n = ids_spaces(&s);
    for (int i = 0; i < n; i++)
        if (s[i].cr3 != ids.first_cr3)                  /* the abandoned boot-time tables */
            audit(e, s[i].cr3);
}
static void tick(const struct ids_event *e)
{
    cur_ev = e;
    fold_due(e);
    if ((e->cr3 & PT_ADDR_MASK) != ids.first_cr3)
        audit(e, e->cr3);               /* (a Linux user CR3: its kernel PGD, see audit) */
    else if (ids.boot_tables_left)                   /* the kernel left them, and they run again */
        pagetable_audit_boot_tables(e);
}

const struct policy_ops pol_pagetable_audit = {
    .id = POL_PAGETABLE_AUDIT, .boot_done = boot_done, .new_space = new_space, .tick = tick,
};
