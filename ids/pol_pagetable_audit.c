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
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/hash.h"
#include "lib/string.h"

#define AUDIT_MAX_TABLES 512
#define MAX_REPORTED 64

enum finding { F_WX = 1, F_USER_TEXT = 2, F_HV = 3, F_WX_LOW = 4, F_BOOT = 5, F_WX_ALIAS = 6 };

/* Frames, not mappings: a frame executable (supervisor) through one
 * mapping and writable through another is W+X as surely as one mapping
 * that is both. Each audit collects the supervisor-executable leaves
 * outside the kernel's text, and the writable leaves outside the direct
 * map, and reports the frames they share. */
#define MAX_XS 32
#define MAX_WS 256
struct alias { u64 pa, size, gva; };
static u64 dm_lo, dm_hi;                       /* the direct map's addresses (the profile's) */

/* Skipped tables that hold leaves for the lists (see collect). */
#define MAX_DEFERRED 128
/* An audit's lists: one for each address space's own audit, and one for
 * Linux's kernel half, which is audited in slices over several ticks (a
 * round) and pairs its frames once the round is over. */
struct lists {
    struct alias xs[MAX_XS], ws[MAX_WS];
    u32 nxs, nws;
    struct pt_table deferred[MAX_DEFERRED];
    u32 ndeferred;
    bool deferred_x;
};
static struct lists space_lists, kernel_lists, *L = &space_lists;

static struct { u64 cr3, gva; enum finding kind; } reported[MAX_REPORTED];
static u32 nreported;
static u64 text_pa, text_end;
static u64 hv_lo, hv_hi;                       /* bounds of vigil's memory: a quick first test */
static const struct ids_event *cur_ev;
static u64 cur_cr3;

/* What the audits read, for the power-off summary (the operator's view of
 * where pagetable-audit's cycles go). */
static struct {
    u64 audits, tables, skipped, collected, leaves, over_budget, passed, cycles;
    u64 table_cycles, collect_cycles;   /* in table() (the fingerprints), in collect() */
    u64 visit_cycles, pass_cycles;      /* in the walker's visits (callbacks included), in pass() */
} st;

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
    if (isx && L->nxs < MAX_XS)
        L->xs[L->nxs++] = (struct alias){ pa, size, gva };
    if (isw) {
        struct alias *w = L->nws ? &L->ws[L->nws - 1] : 0;
        if (w && w->pa + w->size == pa && w->gva + w->size == gva)
            w->size += size;                   /* one run of pages, mapped in order */
        else if (L->nws < MAX_WS)
            L->ws[L->nws++] = (struct alias){ pa, size, gva };
    }
    return true;
}

/* The frames that the two lists share, each reported once per address
 * space (by frame, however many aliases it has). */
static void aliases(void)
{
    for (u32 i = 0; i < L->nxs; i++)
        for (u32 j = 0; j < L->nws; j++) {
            const struct alias *x = &L->xs[i], *w = &L->ws[j];
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
static u32 collect_leaves(const struct pt_table *t, bool add);
static u32 collect(const struct pt_table *t, bool add)
{
    u64 t0 = rdtsc();
    u32 r = collect_leaves(t, add);
    st.collect_cycles += rdtsc() - t0;
    return r;
}

static u32 collect_leaves(const struct pt_table *t, bool add)
{
    st.collected += add;
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
        if (isx && L->nxs < MAX_XS)
            L->xs[L->nxs++] = (struct alias){ pa, size, gva };
        if (isw) {
            struct alias *a = L->nws ? &L->ws[L->nws - 1] : 0;
            if (a && a->pa + a->size == pa && a->gva + a->size == gva)
                a->size += size;
            else if (L->nws < MAX_WS)
                L->ws[L->nws++] = (struct alias){ pa, size, gva };
        }
    }
    return any;
}

/* Skipped tables that hold leaves for the lists, collected after the visit
 * only if some table holds an executable one: with no supervisor-executable
 * page outside the text (testos, benign) there is nothing to pair, and the
 * writable leaves of unchanged tables are not read again. */

/* Tables seldom change (a direct map is thousands of entries): the leaves
 * of a table whose entries, position and inherited permissions all match its
 * last audit cannot hold a new finding and are not checked again; its child
 * tables are still visited, since they can change on their own. */
#define FP_SLOTS 1024
#define FP_WAYS 4                      /* set-associative: tables that hash alike do not push each other out */
static struct {
    u64 table, gva, sum;
    u32 cand;                          /* what collect found in it */
    u32 used;                          /* fp_clock when last matched: the least recently used way is replaced */
    bool empty;                        /* all zero when last read: checked with a scan, not the hash */
    bool kids;                         /* it had child tables: unchanged without, nothing below it to visit */
} fp[FP_SLOTS];
static u32 fp_clock;
static u64 tables_judged;              /* tables read whose fingerprint was new or changed */
static int slot_at[4] = { -1, -1, -1, -1 };   /* the fingerprint slot of the table being visited, by level */

/* All 512 entries zero (Linux preallocates the PUD pages of its vmalloc
 * area: 62 empty tables): one string instruction, where the hash takes a
 * multiply per entry. */
static bool all_zero(const u64 *e)
{
    u64 n = 512;
    const u64 *p = e;
    bool nz;
    __asm__ volatile("xor %%eax, %%eax; repe scasq; setne %0"
                     : "=q"(nz), "+c"(n), "+D"(p) : "m"(*(const u64(*)[512])e) : "rax", "cc");
    return !nz;
}

static u64 fp_sum(const u64 *e)
{
    u64 sum = 0x9e3779b97f4a7c15ull;
    /* Only what the audit judges: present, writable, user, page size,
     * no-execute and the address. Accessed/dirty bits change all the time,
     * and OS-available bits are the kernel's own bookkeeping. */
    const u64 judged = 0x8000000000000087ull | PT_ADDR_MASK;
#pragma GCC unroll 8
    for (u32 i = 0; i < 512; i++)
        sum = (sum ^ (e[i] & judged)) * 0x100000001b3ull;
    return sum;
}

/* A present entry that is a table, not a page (PS clear above level 1). */
static bool has_kids(const struct pt_table *t)
{
    const u64 *e = t->entries;
    if (t->level <= 1)
        return false;
    for (u32 i = 0; i < 512; i++)
        if ((e[i] & 0x81) == 1)
            return true;
    return false;
}

/* Tables already visited in this audit (or this round of Linux's kernel
 * half), by frame and inherited rights: a table reached again through
 * another entry maps the same frames with the same rights, and it and
 * everything below it are judged once, at the first place. Linux's ESPFIX
 * area maps one PMD page and its PTE pages through every entry of its PUD
 * (2,054 table visits for a handful of tables); the audit's budget of 512
 * tables used to run out there, before the kernel image and the modules. */
#define SEEN_SLOTS 1024
struct seen { u64 key[SEEN_SLOTS]; u32 gen[SEEN_SLOTS]; u32 cur; };
static struct seen space_seen, kernel_seen, *S = &space_seen;

static bool seen_before(u64 key)
{
    u32 h = (u32)((key * 0x9e3779b97f4a7c15ull) >> 40) % SEEN_SLOTS;
    for (u32 p = 0; p < 8; p++) {
        u32 i = (h + p) % SEEN_SLOTS;
        if (S->gen[i] != S->cur) {
            S->gen[i] = S->cur;
            S->key[i] = key;
            return false;
        }
        if (S->key[i] == key)
            return true;
    }
    return false;                      /* full here: visited again, as before */
}

/* Before a table is read: one seen already in this audit is passed over. */
static bool pass(void *ctx, u64 gpa, int level, bool writable, bool user, bool nx)
{
    (void)ctx;
    u64 t0 = rdtsc();
    bool r = level < 4 && seen_before(gpa | (u64)writable | (u64)user << 1 | (u64)nx << 2);
    st.pass_cycles += rdtsc() - t0;
    return r;
}

static enum pt_table_verdict table_fp(void *ctx, const struct pt_table *t)
{
    (void)ctx;
    if (t->level == 4)
        return PT_VISIT_ALL;           /* a PML4 holds no leaves: nothing to skip, no fingerprint */
    const u64 *e = t->entries;
    /* Keyed by the table itself, not the address space: the kernel half's
     * tables are shared by every process and audited once. The key is the
     * table, its rights (in its address's low bits) and its place, whole:
     * folded together, the tables of a direct map (each 4 KiB further in
     * memory and 2 MiB further in the address space) all had one key and
     * pushed each other out, and none was ever skipped. */
    u64 table = t->gpa | (u64)t->writable | (u64)t->user << 1 | (u64)t->nx << 2;
    u32 set = (u32)(((table ^ t->gva * 0xff51afd7ed558ccdull) * 0x9e3779b97f4a7c15ull) >> 40) % (FP_SLOTS / FP_WAYS);
    u32 slot = set * FP_WAYS, way = FP_WAYS;
    for (u32 w = 0; w < FP_WAYS; w++)
        if (fp[slot + w].table == table && fp[slot + w].gva == t->gva)
            way = w;
    bool empty = false;
    u64 sum = 0;
    if (way < FP_WAYS) {
        slot += way;
        bool same = fp[slot].empty ? (empty = all_zero(e)) : (sum = fp_sum(e)) == fp[slot].sum;
        if (same) {
            st.skipped++;
            fp[slot].used = ++fp_clock;
            if (t->level >= 1 && t->level <= 3)
                slot_at[t->level] = -1;
            if (fp[slot].cand) {               /* its leaves still pair with a changed table's */
                L->deferred_x |= fp[slot].cand & 1;
                if (L->ndeferred < MAX_DEFERRED)
                    L->deferred[L->ndeferred++] = *t;
                else
                    collect(t, true);
            }
            return fp[slot].kids ? PT_VISIT_TABLES : PT_VISIT_NONE;
        }
        if (fp[slot].empty)
            sum = fp_sum(e);
    } else {
        for (u32 w = 1; w < FP_WAYS; w++)      /* a new table: in the least recently used way */
            if (fp[set * FP_WAYS + w].used < fp[slot].used)
                slot = set * FP_WAYS + w;
        empty = all_zero(e);
        sum = empty ? 0 : fp_sum(e);
    }
    fp[slot].table = table;
    fp[slot].gva = t->gva;
    fp[slot].sum = sum;
    fp[slot].empty = empty;
    fp[slot].kids = has_kids(t);
    fp[slot].used = ++fp_clock;
    fp[slot].cand = 0;                         /* its leaves say (mark_table) */
    tables_judged += L == &kernel_lists;       /* (a user half's audit between slices is not the round's) */
    if (t->level >= 1 && t->level <= 3)
        slot_at[t->level] = (int)slot;
    return PT_VISIT_ALL;
}

static enum pt_table_verdict table(void *ctx, const struct pt_table *t)
{
    u64 t0 = rdtsc();
    enum pt_table_verdict v = table_fp(ctx, t);
    st.table_cycles += rdtsc() - t0;
    return v;
}

/* A leaf of the table last opened at its level (the visitor goes depth
 * first: a table's leaves come after its own table() call, and its child
 * tables' calls are at other levels) belongs to the lists. */
static void mark_table(int level, u32 bits)
{
    if (slot_at[level] >= 0)
        fp[slot_at[level]].cand |= bits;
}

/* What an audit needs from the profile, once. */
static void audit_setup(void)
{
    if (!text_end && ids.have_profile) {
        u64 va, size;
        /* testos's kernel_text, or Linux's _stext.._etext */
        if ((profile_symbol(&ids.prof, "kernel_text", &va, &size) || profile_symbol(&ids.prof, "_stext", &va, &size)) &&
            size && (text_pa = profile_kva_to_pa(&ids.prof, va)))
            text_end = text_pa + size;
    }
    if (!hv_hi)
        vmm_hypervisor_bounds(&hv_lo, &hv_hi);
    if (!dm_hi && ids.have_profile && ids.prof.direct_map_base) {
        dm_lo = ids.prof.direct_map_base;
        dm_hi = dm_lo + ids.prof.direct_map_limit;
    }
}

static void lists_start(struct lists *l, struct seen *s)
{
    L = l;
    L->nxs = L->nws = L->ndeferred = 0;
    L->deferred_x = false;
    S = s;
    S->cur++;
}

/* Visit [first, last] of the space cur_cr3 into the current lists. */
static u32 visit(const struct pt_paging *pg, u64 first, u64 last, u32 max_tables)
{
    slot_at[1] = slot_at[2] = slot_at[3] = -1;
    const struct pt_visitor v = { .map = vmi_map, .max_tables = max_tables, .table = table, .leaf = leaf,
                                  .pass = pass };
    struct pt_visit_stats vs;
    u64 t0 = rdtsc();
    pt_visit(pg, first, last, &v, &vs);
    st.visit_cycles += rdtsc() - t0;
    st.passed += vs.passed;
    st.tables += vs.tables;
    st.leaves += vs.leaves;
    st.over_budget += vs.over_budget;
    return vs.tables;
}

/* The current lists are complete: pair their frames. */
static void lists_done(const struct ids_event *e)
{
    for (u32 i = 0; (L->nxs || L->deferred_x) && i < L->ndeferred; i++)
        if ((L->deferred[i].entries = vmi_map(0, L->deferred[i].gpa)))
            collect(&L->deferred[i], true);       /* the mapping may have moved: map it again */
    aliases();
    /* A user code page the execute watch granted X, also mapped for the
     * supervisor: ring 0 would run it with no exit (wx-user-grant). */
    for (u32 i = 0; i < L->nxs; i++) {
        u64 page;
        if (vmm_exec_granted(L->xs[i].pa, L->xs[i].pa + L->xs[i].size, &page))
            kernel_text_grant_alias(e, cur_cr3, L->xs[i].gva + (page - L->xs[i].pa), page);
    }
    fold_due(e);
}

/* One address space whole (testos), or on Linux its user half: Linux's
 * kernel half is the same in every PGD, and is audited in slices
 * (pagetable_audit_slice). */
static void audit(const struct ids_event *e, u64 cr3)
{
    if (!ids.boot_done)
        return;
    u64 t0 = rdtsc();
    audit_setup();
    cur_ev = e;
    cur_cr3 = vmi_space_key(cr3);      /* Linux under KPTI: the kernel PGD, which maps the user half too */
    struct pt_paging pg;
    vmi_paging(cur_cr3, &pg);
    lists_start(&space_lists, &space_seen);
    visit(&pg, 0, vmi_have_linux() ? 0x00007fffffffffffull : ~0ull, AUDIT_MAX_TABLES);
    lists_done(e);
    st.audits++;
    st.cycles += rdtsc() - t0;
}

/* Linux's kernel half, a slice a tick: the kernel's top-level entries
 * 256-511 of the running space in turn, from where the last slice stopped,
 * until the slice has read its budget of tables. A round (all of them)
 * takes at most about KERNEL_ROUND_TICKS ticks: the budget is the last
 * round's tables over that, at least SLICE_MIN_TABLES. Its frames are
 * paired once the round is over. Bounded: a round reads at most
 * ROUND_MAX_TABLES tables, a slice at most AUDIT_MAX_TABLES. */
#define KERNEL_ROUND_TICKS 10
#define SLICE_MIN_TABLES 8
#define ROUND_MAX_TABLES 2048
static struct {
    u32 next;                          /* the next top-level entry; 0: a round starts */
    u32 budget, round_tables;
    u64 round_start, last_round_ticks, rounds, slices, cycles;
    /* A round that found the kernel half as the last whole round left it:
     * the top-level entries it visited the same (sig), every table's
     * fingerprint unchanged (judged: none judged anew), nothing over the
     * budget. Its leaves are the last round's, frame for frame and right
     * for right, so pairing them again finds nothing new: the skipped
     * tables' leaves are not collected again, and the last round's
     * executable list stands (last_xs). */
    u64 sig, last_sig, judged_at_start;
    bool over, have_last;
    u64 same_rounds;
    struct alias last_xs[MAX_XS];
    u32 last_nxs;
} kr = { .budget = SLICE_MIN_TABLES };

void pagetable_audit_slice(const struct ids_event *e)
{
    if (!ids.boot_done || !vmi_have_linux() || e->vcpu != 0 || !ids_policy_on(POL_PAGETABLE_AUDIT))
        return;
    u64 key = vmi_space_key(e->cr3);
    if (key == (ids.first_cr3 & PT_ADDR_MASK) && ids.kernel_cr3)
        key = ids.kernel_cr3;          /* (never after Linux's boot; the kernel's own then) */
    const u64 *root = vmi_map(0, key);
    if (!root)
        return;
    u64 t0 = rdtsc();
    audit_setup();
    struct lists *saved = L;
    struct seen *saved_s = S;
    cur_ev = e;
    cur_cr3 = key;
    if (!kr.next) {
        lists_start(&kernel_lists, &kernel_seen);
        kr.next = 256;
        kr.round_tables = 0;
        kr.round_start = ids.ticks;
        kr.sig = FNV64_BASIS;
        kr.over = false;
        kr.judged_at_start = tables_judged;
    }
    L = &kernel_lists;
    S = &kernel_seen;
    struct pt_paging pg;
    vmi_paging(key, &pg);
    u32 done = 0;
    while (kr.next < 512 && done < kr.budget && kr.round_tables < ROUND_MAX_TABLES) {
        u32 i = kr.next++;
        u64 top = root[i];
        kr.sig = fnv64_add(kr.sig, (top & (0x8000000000000087ull | PT_ADDR_MASK)) ^ i);
        if (!(top & 1))
            continue;
        u64 lo = 0xffff000000000000ull | (u64)i << 39;
        u32 left = ROUND_MAX_TABLES - kr.round_tables;
        u64 over = st.over_budget;
        u32 n = visit(&pg, lo, lo + (1ull << 39) - 1, left < AUDIT_MAX_TABLES ? left : AUDIT_MAX_TABLES);
        kr.over |= st.over_budget != over;
        n = n ? n - 1 : 0;             /* the root, read again for each entry */
        done += n;
        kr.round_tables += n;
    }
    kr.slices++;
    if (kr.next >= 512 || kr.round_tables >= ROUND_MAX_TABLES) {
        bool same = kr.have_last && kr.next >= 512 && !kr.over && kr.sig == kr.last_sig &&
                    tables_judged == kr.judged_at_start;
        if (same) {
            kr.same_rounds++;
            L->ndeferred = 0;          /* their leaves are the last round's: paired then */
            L->deferred_x = false;
            memcpy(L->xs, kr.last_xs, sizeof(L->xs));
            L->nxs = kr.last_nxs;
        }
        lists_done(e);
        if (!same) {
            kr.have_last = kr.next >= 512 && !kr.over;
            kr.last_sig = kr.sig;
            memcpy(kr.last_xs, L->xs, sizeof(L->xs));
            kr.last_nxs = L->nxs;
        }
        kr.next = 0;
        kr.rounds++;
        kr.last_round_ticks = ids.ticks - kr.round_start + 1;
        u32 b = kr.round_tables / KERNEL_ROUND_TICKS + 1;
        kr.budget = b > SLICE_MIN_TABLES ? b : SLICE_MIN_TABLES;
    }
    L = saved;
    S = saved_s;
    kr.cycles += rdtsc() - t0;
}

void pagetable_audit_summary(void)
{
    if (!st.audits)
        return;
    kprintf("vigil: pagetable-audit: %llu audits, %llu cycles each on average; %llu tables read (%llu unchanged, "
            "%llu of them read again for the alias lists; %llu reached again and passed over), %llu leaves judged, "
            "%llu tables over the budget; %llu cycles in visits (%llu of them in fingerprints, %llu in passes), %llu in "
            "collecting skipped tables' leaves\n",
            (unsigned long long)st.audits, (unsigned long long)(st.cycles / st.audits), (unsigned long long)st.tables,
            (unsigned long long)st.skipped, (unsigned long long)st.collected, (unsigned long long)st.passed,
            (unsigned long long)st.leaves, (unsigned long long)st.over_budget, (unsigned long long)st.visit_cycles,
            (unsigned long long)st.table_cycles, (unsigned long long)st.pass_cycles,
            (unsigned long long)st.collect_cycles);
    if (kr.rounds)
        kprintf("vigil: pagetable-audit: Linux's kernel half in %llu slices (%llu cycles each on average), %llu rounds "
                "(%llu as the last left it: not paired again); the last round %u tables in %llu ticks\n",
                (unsigned long long)kr.slices, (unsigned long long)(kr.cycles / kr.slices),
                (unsigned long long)kr.rounds, (unsigned long long)kr.same_rounds, kr.round_tables,
                (unsigned long long)kr.last_round_ticks);
}

bool pagetable_audit_supervisor_exec(u64 pa, u64 *gva)
{
    const struct lists *ls[2] = { &space_lists, &kernel_lists };
    for (u32 k = 0; k < 2; k++)
        for (u32 i = 0; i < ls[k]->nxs; i++)
            if (pa >= ls[k]->xs[i].pa && pa < ls[k]->xs[i].pa + ls[k]->xs[i].size) {
                *gva = ls[k]->xs[i].gva + (pa - ls[k]->xs[i].pa);
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
