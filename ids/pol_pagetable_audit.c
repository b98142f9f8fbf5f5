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

static void finding(enum finding f, u64 gva, u64 pa, u64 size)
{
    if (!first_report(f, cur_cr3, gva))
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
    if (!l->user && !l->nx && !(pa < text_end && pa + size > text_pa) && nxs < MAX_XS)
        xs[nxs++] = (struct alias){ pa, size, gva };
    if (l->writable && !(gva >= dm_lo && gva < dm_hi)) {
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
            if (first_report(F_WX_ALIAS, cur_cr3, pa))
                finding_alias(xva, pa, wva);
            break;
        }
}

/* Tables seldom change (a direct map is thousands of entries): the leaves
 * of a table whose entries, position and inherited permissions all match its
 * last audit cannot hold a new finding and are not checked again; its child
 * tables are still visited, since they can change on their own. */
#define FP_SLOTS 512
static struct { u64 table, gva, sum; } fp[FP_SLOTS];

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
    if (fp[slot].table == table && fp[slot].gva == t->gva && fp[slot].sum == sum)
        return PT_VISIT_TABLES;
    fp[slot].table = table;
    fp[slot].gva = t->gva;
    fp[slot].sum = sum;
    return PT_VISIT_ALL;
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
    nxs = nws = 0;
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
    aliases();
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
    if ((e->cr3 & PT_ADDR_MASK) != ids.first_cr3)
        audit(e, e->cr3);               /* (a Linux user CR3: its kernel PGD, see audit) */
    else if (ids.boot_tables_left)                   /* the kernel left them, and they run again */
        pagetable_audit_boot_tables(e);
}

const struct policy_ops pol_pagetable_audit = {
    .id = POL_PAGETABLE_AUDIT, .boot_done = boot_done, .new_space = new_space, .tick = tick,
};
