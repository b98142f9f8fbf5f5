/* pagetable-audit: each new address space's page tables, and the running
 * one's every `interval` ticks (default 50), are walked and checked for what a rootkit
 * sets up: kernel mappings that are writable and executable, the kernel's
 * text mapped user-accessible, and any mapping of vigil's own memory. The
 * walk is bounded (AUDIT_MAX_TABLES tables) and reads tables only from guest
 * RAM, so hostile tables cost a bounded amount and cannot reach vigil. */
#include "ids/engine.h"
#include "vmm/introspect.h"

#define AUDIT_MAX_TABLES 512
#define MAX_REPORTED 64

enum finding { F_WX = 1, F_USER_TEXT = 2, F_HV = 3 };

static struct { u64 cr3, gva; enum finding kind; } reported[MAX_REPORTED];
static u32 nreported;
static u64 text_pa, text_end;
static u64 hv_lo, hv_hi;                       /* bounds of vigil's memory: a quick first test */
static u32 tables_left;
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
    else if (f == F_USER_TEXT)
        ids_raise(POL_PAGETABLE_AUDIT, &h, gva, &gva, &pa, "kernel text mapped user-accessible");
    else
        ids_raise(POL_PAGETABLE_AUDIT, &h, gva, &gva, &pa, "page tables map vigil's own memory");
}

/* Checked for every leaf of every audited table: kept to a few compares. */
static inline void leaf(u64 gva, u64 pa, u64 size, bool w, bool u, bool nx)
{
    if ((gva >> 63) && w && !nx)
        finding(F_WX, gva, pa, size);
    if (u && pa < text_end && pa + size > text_pa)
        finding(F_USER_TEXT, gva, pa, size);
    if (pa < hv_hi && pa + size > hv_lo && vmm_is_hypervisor_memory(pa, pa + size))
        finding(F_HV, gva, pa, size);
}

/* Tables seldom change (a direct map is thousands of entries): the leaves
 * of a table whose entries, position and inherited permissions all match its
 * last audit cannot hold a new finding and are not checked again; its child
 * tables are still visited, since they can change on their own. */
#define FP_SLOTS 512
static struct { u64 key, sum; } fp[FP_SLOTS];

static bool unchanged(const u64 *t, u64 table, u64 base, bool w, bool u, bool nx)
{
    u64 sum = 0x9e3779b97f4a7c15ull;
    /* Only what the audit judges: present, writable, user, page size,
     * no-execute and the address. Accessed/dirty bits change all the time,
     * and OS-available bits are the kernel's own bookkeeping. */
    const u64 judged = 0x8000000000000087ull | 0x000ffffffffff000ull;
    for (u32 i = 0; i < 512; i++)
        sum = (sum ^ (t[i] & judged)) * 0x100000001b3ull;
    /* Keyed by the table itself, not the address space: the kernel half's
     * tables are shared by every process and audited once. */
    u64 key = table ^ (base >> 9) ^ ((u64)w << 1 | (u64)u << 2 | (u64)nx << 3);
    u32 slot = (u32)((key * 0x9e3779b97f4a7c15ull) >> 55) % FP_SLOTS;
    if (fp[slot].key == key && fp[slot].sum == sum)
        return true;
    fp[slot].key = key;
    fp[slot].sum = sum;
    return false;
}

static void walk(u64 table, int level, u64 base, bool w, bool u, bool nx)
{
    const u64 *t = tables_left ? guestmem_map(table, 4096) : 0;
    if (!t)
        return;
    tables_left--;
    bool same = unchanged(t, table, base, w, u, nx);
    if (same && level == 1)
        return;
    for (u32 i = 0; i < 512; i++) {
        u64 e = t[i];
        if (!(e & 1))
            continue;
        u64 gva = base | ((u64)i << (12 + 9 * (level - 1)));
        if (level == 4 && (gva >> 47))
            gva |= 0xffff000000000000ull;          /* canonical upper half */
        bool ew = w && (e & 2), eu = u && (e & 4), enx = nx || (e >> 63);
        u64 pa = e & 0x000ffffffffff000ull;
        if (level == 1 || ((level == 2 || level == 3) && (e & 0x80))) {
            u64 size = 1ull << (12 + 9 * (level - 1));
            if (!same)
                leaf(gva, pa & ~(size - 1), size, ew, eu, enx);
        } else if (level > 1 && !(level == 4 && (e & 0x80))) {
            walk(pa, level - 1, gva, ew, eu, enx);
        }
    }
}

static void audit(const struct ids_event *e, u64 cr3)
{
    if (!ids.boot_done)
        return;
    if (!text_end && ids.have_profile) {
        u64 va, size;
        if (profile_symbol(&ids.prof, "kernel_text", &va, &size) && (text_pa = profile_kva_to_pa(&ids.prof, va)))
            text_end = text_pa + size;
    }
    if (!hv_hi)
        vmm_hypervisor_bounds(&hv_lo, &hv_hi);
    cur_ev = e;
    cur_cr3 = cr3 & PT_ADDR_MASK;
    tables_left = AUDIT_MAX_TABLES;
    walk(cur_cr3, 4, 0, true, true, false);
}

static void new_space(const struct ids_event *e, u64 cr3)
{
    if (cr3 != ids.first_cr3)
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
        audit(e, e->cr3);
}

const struct policy_ops pol_pagetable_audit = {
    .id = POL_PAGETABLE_AUDIT, .boot_done = boot_done, .new_space = new_space, .tick = tick,
};
