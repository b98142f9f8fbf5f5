/* kernel-text: the guest kernel's code and read-only data are write-
 * protected in EPT from before its first instruction. A write is refused
 * (block: the writing instruction is skipped), or logged, or the vCPU is
 * suspended. The guest's own page tables cannot undo this: the protection
 * is on guest-physical pages, so writable aliases are caught too. Once
 * the kernel has booted, supervisor execution outside its text is caught
 * when it happens (the execute watch, below). */
#include "ids/engine.h"
#include "ids/patchsite.h"
#include "ids/modarea.h"
#include "ids/xgrant.h"
#include "vmm/introspect.h"
#include "vmm/guestmem.h"
#include "lib/log.h"
#include "lib/string.h"

static u64 text_gpa, text_end;           /* the kernel's code, guest-physical */
static u64 text_va;                      /* ... and its run-time address (text_gpa's page) */

static void protect(const char *sym, const char *what)
{
    u64 gpa, size;
    if (ids_protect_object(POL_KERNEL_TEXT, sym, what, true, 0, &gpa, &size)) {
        kprintf("vigil: kernel-text: %s at gpa 0x%llx-0x%llx write-protected\n", what, (unsigned long long)gpa,
                (unsigned long long)(gpa + size));
        if (!strcmp(sym, "kernel_text")) {
            text_gpa = gpa, text_end = gpa + size;
            text_va = ALIGN_DOWN(profile_sym(&ids.prof, "kernel_text"), 4096);
        }
    }
}

/* --- Linux: the kernel patches its own text ------------------------------------------
 *
 * After the boot lock Linux still rewrites its core text through
 * text_poke (through a temporary mm, poking_mm: EPT sees the write at the
 * text's frame whatever the address): static keys and tracepoints (jump
 * labels) and static calls. Who writes is no evidence (a rootkit can call
 * text_poke too); where and what is. The kernel's patch sites are read from
 * the tables in its image at the lock (ids/patchsite.h); a write into one
 * goes through the step window and is judged once it has run: the site
 * must hold one of its own forms whole, or text_poke_bp's int3 in front,
 * and the bytes after it must be unchanged. Anything else, and any write
 * outside a site, is an alert (a block puts the site back). */
static struct patch_sites sites;
static bool have_sites;
static u64 n_patched, n_refused;
static struct pending {                  /* per vCPU: a site write in the step window */
    bool on;
    struct patch_site site;
    u64 gpa;                             /* the site's first byte */
    u8 snap[40];                         /* the site and what follows, before the write */
} pend[IDS_MAX_VCPUS];

/* Sites text_poke_bp has put its int3 in and not finished yet, with the
 * whole form they held before. The int3 is accepted as a passing state
 * only: the kernel's int3 handler emulates, meanwhile, whatever its
 * descriptor (writable data) says, so a site left so would be a hook. One
 * still holding the int3 OPEN_TICKS after it was written is reported and
 * put back to that form. (A batch of the kernel's own, up to ~170 sites,
 * three exits each, ends well within that.) */
#define OPEN_MAX 256
#define OPEN_TICKS 50                    /* 500 ms */
static struct open_site { struct patch_site site; u64 gpa, since; u8 form[5]; } open[OPEN_MAX];
static u32 nopen;

static struct open_site *open_of(u64 gpa)
{
    for (u32 i = 0; i < nopen; i++)
        if (open[i].gpa == gpa)
            return &open[i];
    return 0;
}

static void open_drop(struct open_site *o) { *o = open[--nopen]; }

static const u8 *text_bytes(u64 va, u64 len)
{
    u64 pa = profile_kva_to_pa(&ids.prof, va);
    return pa ? guestmem_map(pa, len) : 0;
}

/* Relative s32 at the table entry's field (the kernel's own encoding). */
static u64 rel_at(u64 field_va, const u8 *p) { s32 r; memcpy(&r, p, 4); return field_va + (u64)(s64)r; }

static u32 load_table(const char *sym, u32 entry, bool jump)
{
    u64 va, len;
    u32 kept = 0;
    if (!profile_symbol(&ids.prof, sym, &va, &len) || !len)
        return 0;
    const u8 *t = text_bytes(va, len);
    if (!t)
        return 0;
    for (u64 i = 0; i + entry <= len; i += entry) {
        u64 code = rel_at(va + i, t + i), other = rel_at(va + i + 4, t + i + 4);
        const u8 *cur = text_bytes(code, 5);
        if (!cur)
            continue;
        enum patch_kind k = jump ? PATCH_JUMP : (other & 1) ? PATCH_TAIL : PATCH_CALL;
        kept += patch_sites_add(&sites, code, k, jump ? other : 0, cur, 5);
    }
    return kept;
}

static void load_sites(void)
{
    u64 tva = 0, tlen = 0, tr = 0, trlen = 0;
    if (!profile_is_linux(&ids.prof) || !profile_symbol(&ids.prof, "kernel_text", &tva, &tlen))
        return;
    profile_symbol(&ids.prof, "__static_call_text_start", &tr, &trlen);
    patch_sites_init(&sites, tva, tlen, tr, tr + trlen);
    u32 j = load_table("__start___jump_table", 16, true);
    u32 c = load_table("__start_static_call_sites", 8, false);
    patch_sites_sort(&sites);
    have_sites = true;
    kprintf("vigil: kernel-text: the kernel's own patch sites: %u jump labels, %u static call sites, %llu bytes of "
            "static call trampolines%s\n", j, c, (unsigned long long)trlen,
            sites.dropped ? " (some dropped: table full)" : "");
}

/* A write at va in the text: a patch site's (judged once it has run), or not. */
static bool site_write(const struct ids_event *e, u64 va, struct ids_verdict *v)
{
    struct pending *p = &pend[e->vcpu < IDS_MAX_VCPUS ? e->vcpu : 0];
    struct patch_site s;
    if (!have_sites || !patch_site_find(&sites, va, &s))
        return false;
    p->gpa = e->ept.gpa - (va - (sites.text + s.off));
    if (!guestmem_read(p->gpa, p->snap, sizeof(p->snap)))
        return false;
    p->on = true;
    p->site = s;
    v->skip_len = IDS_RECHECK;
    return true;
}

static struct ids_verdict site_after(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    struct pending *p = &pend[e->vcpu < IDS_MAX_VCPUS ? e->vcpu : 0];
    u8 now[sizeof(p->snap)];
    if (!p->on || !guestmem_read(p->gpa, now, sizeof(now)))
        return v;
    p->on = false;
    bool rest_same = !memcmp(now + p->site.len, p->snap + p->site.len, sizeof(now) - p->site.len);
    struct open_site *o = open_of(p->gpa);
    if (rest_same && patch_site_form(&sites, &p->site, now)) {
        n_patched++;
        if (o)
            open_drop(o);                /* whole again */
        return v;
    }
    if (rest_same && now[0] == 0xcc && (o || (p->snap[0] != 0xcc && nopen < OPEN_MAX))) {
        n_patched++;
        if (!o) {
            o = &open[nopen++];
            o->site = p->site;
            o->gpa = p->gpa;
            o->since = ids.ticks;
            memcpy(o->form, p->snap, 5);
        }
        return v;
    }
    n_refused++;
    u64 va = sites.text + p->site.off, gpa = p->gpa;
    static const char *const kinds[] = { "", "jump label", "static call", "static tail call", "static call trampoline" };
    v = ids_raise_fixed(POL_KERNEL_TEXT, e, gpa & ~7ull, &va, &gpa,
                        "write to protected kernel text at 0x%llx, a %s: %02x %02x %02x %02x %02x is %s", 
                        (unsigned long long)va, kinds[p->site.kind], now[0], now[1], now[2], now[3], now[4],
                        rest_same ? "not one of its forms" : "more than the site");
    if (v.action != IDS_ALLOW)
        guestmem_write(p->gpa, p->snap, sizeof(p->snap));
    return v;
}

/* --- Linux: supervisor code outside the core text -------------------------------------
 *
 * Linux runs supervisor code outside _stext.._etext: module text, kprobe
 * instruction pages and BPF program packs, all in the module area, which
 * hidden-module knows how to read (hidden_module_code). A supervisor fetch
 * outside the core text exits; it is granted X (that 4 KiB frame) when the
 * address is such code now and the kernel's own page tables map it to the
 * frame that was fetched, executable and supervisor-only. Everything else
 * is refused as on testos, with a not-present #PF (Linux's spurious-fault
 * check would retry a present one forever). Grants are taken back with the
 * user grants every second, and every 10 ticks those of code whose owner
 * has gone (a module unloaded, its init text freed, a pack freed) are taken
 * back at once. A module that took itself out of the list keeps running:
 * its code, granted while it was listed, is named at its next fetch as
 * hidden-module's finding (its action decides) rather than refused at a
 * moment the kernel cannot survive (a timer, an interrupt: an oops there
 * panics). */
#define LX_OWNERS (2 * 64 + 32)
#define LX_RECHECK_TICKS 10
static bool lx_watch;                     /* armed on Linux */
static struct xgrants lx;
static u64 lx_granted, lx_refused, lx_hidden, lx_dropped;

static bool linux_mapped(u64 gva, u64 gpa)
{
    struct pt_walk w;
    return vmi_translate(vmi_linux_kernel_pgd(), gva, &w) && w.status == PT_OK && !w.nx && !w.user &&
           ALIGN_DOWN(w.gpa, 4096) == ALIGN_DOWN(gpa, 4096);
}

/* The record for a grant of the frame at gpa, mapped at gva. Every record
 * active (128 pages of module-area code running within a second): every
 * grant is taken back and the table starts over. */
static struct xgrant *record(u64 gpa, u64 gva)
{
    struct xgrant *g = xgrant_get(&lx, gpa, gva);
    if (!g) {
        lx_dropped++;
        vmm_exec_revoke();
        xgrant_revoke_all(&lx);
        g = xgrant_get(&lx, gpa, gva);   /* a slot is free now */
    }
    return g;
}

/* Granted (allow), or a refusal to make. */
static bool linux_code(const struct ids_event *e, struct ids_verdict *v)
{
    static struct mod_range r[LX_OWNERS];
    static struct code_owner o[LX_OWNERS];
    u64 gva = e->ept.gva, gpa = e->ept.gpa;
    bool whole;
    if (!e->ept.gva_valid || !linux_mapped(gva, gpa))
        return false;                    /* not the kernel's own mapping of that frame */
    u32 n = hidden_module_code(r, o, LX_OWNERS, &whole);
    int i = modarea_find(r, n, gva);
    struct xgrant *g;
    if (i >= 0) {
        g = record(gpa, gva);
        g->mod = o[i].mod;
        g->hidden = false;
        str_copy(g->name, o[i].name, sizeof(g->name));
        xgrant_mark(&lx, g);
        lx_granted++;
        return true;
    }
    /* Not the kernel's now: code of a module that the watch let run while
     * it was listed, out of the list since and still itself (its struct
     * module reads as it did, with gva in its text)? */
    const struct xgrant *was = 0;
    bool reported = false;
    for (u32 k = 0; whole && k < lx.n && !was; k++)
        if (lx.g[k].mod && hidden_module_still(lx.g[k].mod, lx.g[k].name, gva))
            was = &lx.g[k];
    if (!was)
        return false;
    for (u32 k = 0; k < lx.n; k++)
        reported |= lx.g[k].mod == was->mod && lx.g[k].reported;
    u64 mod = was->mod;
    char name[XGRANT_NAME];
    str_copy(name, was->name, sizeof(name));
    lx_hidden++;
    if (!reported) {
        struct ids_event h = *e;
        h.cr3 = ids.kernel_cr3;
        *v = ids_raise_task(POL_HIDDEN_MODULE, &h, ids_kernel_proc(), ALIGN_DOWN(gva, 4096) | 1, &gva, &gpa,
                            "hidden module \"%s\": its code runs at 0x%llx, out of the module list", name,
                            (unsigned long long)gva);
        if (v->action != IDS_ALLOW)
            return false;
    }
    g = record(gpa, gva);
    g->mod = mod;
    str_copy(g->name, name, sizeof(g->name));
    g->hidden = g->reported = true;
    xgrant_mark(&lx, g);
    return true;
}

/* Every LX_RECHECK_TICKS: grants whose owner is gone are taken back. */
static void linux_recheck(void)
{
    static struct mod_range r[LX_OWNERS];
    static struct code_owner o[LX_OWNERS];
    if (!xgrant_active(&lx))
        return;
    bool whole;
    u32 n = hidden_module_code(r, o, LX_OWNERS, &whole);
    if (!whole)
        return;                          /* changing under the walk: next time */
    for (u32 k = 0; k < lx.n; k++) {
        struct xgrant *g = &lx.g[k];
        u64 page;
        if (g->active && !vmm_exec_granted(g->gpa, g->gpa + 4096, &page))
            g->active = false;           /* taken back already (a full grant table) */
        if (!g->active || g->hidden)
            continue;
        int i = modarea_find(r, n, g->gva);
        if (i < 0 || o[i].mod != g->mod) {
            vmm_exec_revoke_page(g->gpa);
            g->active = false;
        }
    }
}

static void linux_summary(void)
{
    if (lx_watch)
        kprintf("vigil: kernel-text: execute watch on Linux: %llu supervisor fetches outside the core text granted "
                "(module-area code the kernel owns), %llu refused, %llu from hidden modules, %u granted now; the "
                "records were full %llu times\n", (unsigned long long)lx_granted, (unsigned long long)lx_refused,
                (unsigned long long)lx_hidden, xgrant_active(&lx), (unsigned long long)lx_dropped);
}

/* Once the kernel has booted, supervisor code may run only in its text:
 * EPT takes execute permission from every other page. A user-mode fetch
 * there is allowed (the page is user code) and its page executes from
 * then on; the grants are taken back every second, so a page that was
 * user code does not stay executable for a supervisor alias of it. A
 * guest with code elsewhere (Linux's modules, BPF, trampolines) needs them
 * known first: the watch is armed only for a profile that places
 * `kernel_text` and says `exec_watch` (testos's does). */
#define REVOKE_TICKS 100
static bool watching;

static void boot_done(const struct ids_event *e)
{
    (void)e;
    u64 yes = 0;
    if (ids.have_profile && ids.prof.kaslr) {
        load_sites();                    /* before the text is protected: read as the kernel left it */
        protect("kernel_text", "kernel text");
        protect("kernel_rodata", "kernel read-only data");
    }
    bool lin = ids.have_profile && profile_is_linux(&ids.prof);
    if (!text_end || ids.cfg.exec_watch_off)
        return;
    if (lin && !hidden_module_knows_code()) {
        kprintf("vigil: kernel-text: execution not watched: Linux's code outside its text (modules, kprobe pages, "
                "BPF packs) is known through hidden-module, which is off or lacks the module layouts' text_size\n");
        return;
    }
    if (!lin && (!profile_const(&ids.prof, "exec_watch", &yes) || !yes))
        return;
    const struct mem_range known = { ALIGN_DOWN(text_gpa, 4096), ALIGN_UP(text_end, 4096) };
    watching = ids_watch_exec(POL_KERNEL_TEXT, &known, 1, "supervisor code outside the kernel's text");
    lx_watch = watching && lin;
    if (lx_watch)
        kprintf("vigil: kernel-text: execution watched: supervisor code runs only in the kernel's text (gpa "
                "0x%llx-0x%llx) and in module-area code the kernel owns (listed modules' text, kprobe instruction "
                "pages, BPF program packs), judged at its first fetch; a user page executes once it first runs in "
                "user mode, until the next second\n", (unsigned long long)known.start, (unsigned long long)known.end);
    else if (watching)
        kprintf("vigil: kernel-text: execution watched: supervisor code runs only in the kernel's text (gpa "
                "0x%llx-0x%llx); a user page executes once it first runs in user mode, until the next second\n",
                (unsigned long long)known.start, (unsigned long long)known.end);
}

static struct ids_verdict exec_event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    u64 page = ALIGN_DOWN(e->ept.gpa, 4096), gpa = e->ept.gpa, sva;
    if (e->cpl == 3) {
        /* User code: its page may execute, unless the supervisor has a
         * mapping of it that executes too (the last audit's): the grant
         * would let ring 0 run it through that alias with no exit. */
        if (!pagetable_audit_supervisor_exec(page, &sva))
            return v;
        return ids_raise(POL_KERNEL_TEXT, e, page | 2, &e->ept.gva, &gpa,
                         "user code page at 0x%llx (gpa 0x%llx) is also mapped supervisor-executable at 0x%llx: "
                         "not granted X", (unsigned long long)e->ept.gva, (unsigned long long)gpa,
                         (unsigned long long)sva);
    }
    if (lx_watch && linux_code(e, &v))
        return v;                        /* code the kernel owns: granted */
    if (v.action != IDS_ALLOW)
        return (struct ids_verdict){ v.action, IDS_FETCH_NOT_PRESENT, v.reason };   /* hidden-module refused it */
    /* Each fetch is judged (a refused one faults again when retried); the
     * repeat limiter folds the records of one page. */
    v = ids_raise(POL_KERNEL_TEXT, e, page | 1, &e->ept.gva, &gpa,
                  "supervisor code ran outside the kernel's text: at 0x%llx (gpa 0x%llx)",
                  (unsigned long long)e->ept.gva, (unsigned long long)gpa);
    if (lx_watch) {
        lx_refused++;
        v.skip_len |= IDS_FETCH_NOT_PRESENT;
    }
    return v;
}

/* An int3 left in a site: reported, and the site's last whole form put back. */
static void open_tick(const struct ids_event *e)
{
    for (u32 i = 0; i < nopen;) {
        struct open_site *o = &open[i];
        u8 b;
        if (ids.ticks - o->since < OPEN_TICKS) {
            i++;
            continue;
        }
        if (guestmem_read(o->gpa, &b, 1) && b == 0xcc) {
            u64 va = sites.text + o->site.off, gpa = o->gpa;
            n_refused++;
            struct ids_verdict v = ids_raise_fixed(POL_KERNEL_TEXT, e, gpa & ~7ull, &va, &gpa,
                                                   "kernel text at 0x%llx, a patch site, still holds text_poke_bp's "
                                                   "int3 %u ms after it was written", (unsigned long long)va,
                                                   OPEN_TICKS * 10);
            if (v.action != IDS_ALLOW)
                guestmem_write(o->gpa, o->form, o->site.len);
        }
        open_drop(o);
    }
}

void kernel_text_grant_alias(const struct ids_event *e, u64 cr3, u64 gva, u64 page)
{
    if (xgrant_active_gpa(&lx, page))
        return;                          /* granted as the kernel's supervisor code (Linux), not user code */
    struct ids_event h = *e;
    h.cr3 = cr3;
    ids_raise(POL_KERNEL_TEXT, &h, page | 3, &gva, &page,
              "page granted X for user code is mapped supervisor-executable at 0x%llx: every grant taken back",
              (unsigned long long)gva);
    vmm_exec_revoke();
    xgrant_revoke_all(&lx);
}

static void tick(const struct ids_event *e)
{
    if (watching && e->vcpu == 0 && ids.ticks % REVOKE_TICKS == 0) {
        vmm_exec_revoke();
        xgrant_revoke_all(&lx);
    } else if (lx_watch && e->vcpu == 0 && ids.ticks % LX_RECHECK_TICKS == 0) {
        linux_recheck();
    }
    if (nopen && e->vcpu == 0)
        open_tick(e);
}

static void start(void)
{
    if (!ids.have_profile) {
        log_warn("vigil: kernel-text: no profile, so no kernel text to protect\n");
        return;
    }
    if (ids.prof.kaslr) {
        kprintf("vigil: kernel-text: the kernel moves at boot (KASLR): its text and read-only data are "
                "write-protected at the boot lock\n");
        return;
    }
    protect("kernel_text", "kernel text");
    protect("kernel_rodata", "kernel read-only data");
}

static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    const struct ids_object *o = ids_object_of(e);
    u64 gpa = e->ept.gpa;
    if (e->ept.access == IDS_EXEC)
        return exec_event(e);
    if (!(e->ept.access & IDS_WRITE))
        return v;
    if (e->ept.after)
        return site_after(e);
    bool in_text = text_end && gpa >= text_gpa && gpa < text_end;
    if (in_text && site_write(e, text_va + (gpa - text_gpa), &v))
        return v;
    if (in_text && have_sites)
        v = ids_raise(POL_KERNEL_TEXT, e, gpa & ~7ull, e->ept.gva_valid ? &e->ept.gva : 0, &gpa,
                      "write to protected %s at offset 0x%llx (0x%llx: not a patch site of the kernel's)", o->what,
                      (unsigned long long)(gpa - o->start), (unsigned long long)(text_va + (gpa - text_gpa)));
    else
        v = ids_raise(POL_KERNEL_TEXT, e, gpa & ~7ull, e->ept.gva_valid ? &e->ept.gva : 0, &gpa,
                      "write to protected %s at offset 0x%llx", o->what, (unsigned long long)(gpa - o->start));
    if (v.action != IDS_ALLOW)
        v.skip_len = ids_insn_len(e);
    return v;
}

void kernel_text_summary(void)
{
    linux_summary();
    if (have_sites)
        kprintf("vigil: kernel-text: %llu writes to the kernel's patch sites accepted, %llu refused\n",
                (unsigned long long)n_patched, (unsigned long long)n_refused);
}

const struct policy_ops pol_kernel_text = {
    .id = POL_KERNEL_TEXT, .start = start, .boot_done = boot_done, .event = event, .tick = tick,
};
