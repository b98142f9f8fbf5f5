/* signature: byte patterns (the policy file's, or the built-in test
 * pattern) searched in a process's user memory when its address space is
 * first seen (up to SIG_MAX_PAGES pages), and in the running one's every
 * `interval` ticks, SIG_PERIODIC_PAGES pages at a time, picking up where the
 * last periodic scan of that address space stopped. A pattern is reported
 * once per address space. The user half is visited with pt_visit (the scan
 * is its leaf callback), reading at most SIG_MAX_TABLES tables. */
#include "ids/engine.h"
#include "vmm/introspect.h"
#include "ids/alert.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/search.h"

#define SIG_MAX_PAGES 256
#define SIG_PERIODIC_PAGES 16
#define SIG_MAX_TABLES 512              /* tables read per scan: hostile tables cost a bounded amount */
#define USER_HALF_END 0x00007fffffffffffull
#define MAX_REPORTED 64

static u64 reported[MAX_REPORTED];
static u32 nreported;
static u32 pages_left;
static u64 skip_left;                   /* user pages to pass over before scanning (the cursor) */
static u64 seen_pages;                  /* user pages passed in this walk */
static struct { u64 cr3, cursor; } resume;

static bool first_report(u64 key)
{
    for (u32 i = 0; i < nreported && i < MAX_REPORTED; i++)
        if (reported[i] == key)
            return false;
    reported[nreported++ % MAX_REPORTED] = key;
    return true;
}

/* Each signature's skip table (lib/search.h), made at start. */
_Static_assert(SIG_MAX_LEN <= SEARCH_MAX_NEEDLE, "a signature is longer than a skip table reaches");
static u8 skip[SIG_MAX][256];

static void start(void)
{
    for (u32 s = 0; s < ids.cfg.nsig && s < SIG_MAX; s++)
        search_skip(skip[s], ids.cfg.sig[s].bytes, ids.cfg.sig[s].len);
}

static void scan_page(const struct ids_event *e, u64 cr3, u64 gva, u64 pa)
{
    seen_pages++;
    if (skip_left) {
        skip_left--;
        return;
    }
    const u8 *page = pages_left ? guestmem_map(pa, 4096) : 0;
    if (!page)
        return;
    pages_left--;
    for (u32 s = 0; s < ids.cfg.nsig; s++) {
        const struct signature *sig = &ids.cfg.sig[s];
        const u8 *hit = search_find(page, 4096, sig->bytes, sig->len, skip[s]);
        if (!hit || !first_report(cr3 * 31 + s))
            continue;
        struct ids_event h = *e;
        h.cr3 = cr3;
        u64 at = gva + (u64)(hit - page), hpa = pa + (u64)(hit - page);
        char detail[ALERT_DETAIL];
        fmt_snprintf(detail, sizeof(detail), "signature '%s' (%u bytes) found in process memory", sig->name,
                     sig->len);
        ids_raise_action(POL_SIGNATURE, sig->action, &h, cr3 * 31 + s, &at, &hpa, detail);
    }
}

struct scan { const struct ids_event *e; u64 cr3; };

/* Nothing below a table the user cannot reach is scanned. */
static enum pt_table_verdict table(void *ctx, const struct pt_table *t)
{
    (void)ctx;
    return t->user ? PT_VISIT_ALL : PT_VISIT_NONE;
}

/* Every 4 KiB of a user page (a large page page by page), until the
 * budget is spent. */
static bool leaf(void *ctx, const struct pt_leaf *l)
{
    const struct scan *c = ctx;
    for (u64 off = 0; off < l->size && pages_left && l->user; off += 4096)
        scan_page(c->e, c->cr3, l->gva + off, l->gpa + off);
    return pages_left != 0;
}

static void scan(const struct ids_event *e, u64 cr3, u32 pages, u64 skip)
{
    cr3 = vmi_space_key(cr3);          /* Linux under KPTI: one scan per process, through its kernel PGD */
    if ((cr3 == ids.kernel_cr3 && ids.kernel_cr3) || vmi_linux_kernel_space(cr3))
        return;
    pages_left = pages;
    skip_left = skip;
    seen_pages = 0;
    struct scan c = { e, cr3 };
    struct pt_paging pg;
    vmi_paging(cr3, &pg);
    const struct pt_visitor v = { .map = vmi_map, .ctx = &c, .max_tables = SIG_MAX_TABLES, .table = table,
                                  .leaf = leaf };
    pt_visit(&pg, 0, USER_HALF_END, &v, 0);                /* the user half */
}

static void new_space(const struct ids_event *e, u64 cr3) { scan(e, cr3, SIG_MAX_PAGES, 0); }

static void tick(const struct ids_event *e)
{
    u64 cr3 = vmi_space_key(e->cr3);
    if (resume.cr3 != cr3) {
        resume.cr3 = cr3;
        resume.cursor = 0;
    }
    scan(e, cr3, SIG_PERIODIC_PAGES, resume.cursor);
    /* A walk that ran out of pages to scan starts over next time. */
    resume.cursor = pages_left ? 0 : resume.cursor + SIG_PERIODIC_PAGES;
}

const struct policy_ops pol_signature = { .id = POL_SIGNATURE, .start = start, .new_space = new_space,
                                          .tick = tick };
