/* hidden-module (Linux): the kernel's module list against the kernel's
 * module memory. Every `interval` ticks (default 10: 100 ms), on vCPU 0:
 * - the list from `modules` (struct module.list), bounded, each module's
 *   core and init layout recorded; a module new in the list, or gone from
 *   it, is an `info` line on the console (no alert);
 * - the kernel's page tables (init_top_pgt) over the module area
 *   (the profile's modules_vaddr..modules_end) visited with pt_visit, the
 *   supervisor-executable leaves coalesced into ranges;
 * - a range, or part of one, that no listed module's layout, no kprobe
 *   instruction slot page (kprobe_insn_slots, kprobe_optinsn_slots), no
 *   BPF program pack (pack_list: the kernel's own code there, its JIT's;
 *   the kernel's boot JITs one, ptp_classifier) and no module that left the list less than
 *   HM_GRACE_TICKS ago covers, and that stayed so for HM_GRACE_TICKS
 *   (or was a listed module's before), is a hidden module: reported once, with its
 *   range and the name of its struct module when that can be found (the
 *   module vigil saw listed there before, or a struct module in the pages
 *   after the range whose core_layout.base is the range's start).
 * The grace is for the kernel's own order: unloading takes a module out of
 * the list before it frees its memory (after an RCU grace period), and the
 * init layout is freed by a work item after init_layout.base is cleared. */
#include "ids/engine.h"
#include "ids/modarea.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/string.h"

#define HM_MAX_MODULES 64                   /* listed modules tracked; more: a scan is incomplete */
#define HM_LIST_STEPS 512                   /* list entries read at most (a cyclic list ends there) */
#define HM_MAX_TABLES 64                    /* page tables read per visit of the module area */
#define HM_MAX_EXEC 64                      /* executable ranges per scan */
#define HM_MAX_GONE 32                      /* layouts that left the list, remembered */
#define HM_MAX_UNOWNED 16                   /* code ranges owned by no one, waiting out the grace */
#define HM_GRACE_TICKS 20                   /* 200 ms: out of the list, still owned (the kernel frees after an
                                             * RCU grace period, a few jiffies) */
#define HM_MAX_REPORTED 32
#define HM_NAME 56                          /* MODULE_NAME_LEN */
#define HM_NAME_SCAN_PAGES 64               /* pages after a hidden range searched for its struct module */
#define HM_MAX_KERNEL_EXEC 32               /* the kernel's own executable allocations there, read */

struct hm_mod {
    u64 addr;                               /* its struct module */
    char name[HM_NAME];
    u64 core, core_size, init, init_size;
    u32 state;                              /* MODULE_STATE_LIVE 0, COMING 1 (its init runs), GOING 2, UNFORMED 3 */
};
#define MOD_LIVE 0
#define MOD_COMING 1

static struct {
    bool ok, warned;
    u64 head, vaddr, end;
    u64 off_list, off_name, off_state, off_core, off_core_size, off_init, off_init_size, name_size;
    u64 kp[2], off_kp_pages, off_kip_list, off_kip_insns;
    bool have_kp;
    u64 bpf_packs, off_pack_list, off_pack_ptr, pack_size;
    bool have_bpf;
} hm;

static struct hm_mod mods[HM_MAX_MODULES];
static u32 nmods;
static bool first_scan_done;
static struct { u64 start, end, tick; char name[HM_NAME]; } gone[HM_MAX_GONE];
static u32 ngone;
static u64 reported[HM_MAX_REPORTED];
static u32 nreported;
static u64 scans, exec_ranges_seen;

static bool rd(u64 va, void *buf, u64 n) { return vmi_read_kernel(0, va, buf, n); }

static void clean_name(char *n, u64 size)
{
    n[size - 1] = 0;
    for (u32 i = 0; n[i]; i++)
        if ((unsigned char)n[i] < 0x20 || (unsigned char)n[i] >= 0x7f)
            n[i] = '?';                         /* the guest's bytes are not trusted text */
}

static void setup(void)
{
    memset(&hm, 0, sizeof(hm));
    const struct profile *p = &ids.prof;
    u64 sz;
    hm.head = profile_sym(p, "modules");
    hm.ok = hm.head && profile_const(p, "modules_vaddr", &hm.vaddr) && profile_const(p, "modules_end", &hm.end) &&
            hm.vaddr < hm.end && profile_field(p, "module.list", &hm.off_list, 0) &&
            profile_field(p, "module.name", &hm.off_name, &hm.name_size) &&
            profile_field(p, "module.state", &hm.off_state, 0) &&
            profile_field(p, "module.core_layout.base", &hm.off_core, 0) &&
            profile_field(p, "module.core_layout.size", &hm.off_core_size, &sz) && sz == 4 &&
            profile_field(p, "module.init_layout.base", &hm.off_init, 0) &&
            profile_field(p, "module.init_layout.size", &hm.off_init_size, &sz) && sz == 4 &&
            hm.name_size >= 2 && hm.name_size <= HM_NAME;
    hm.kp[0] = profile_sym(p, "kprobe_insn_slots");
    hm.kp[1] = profile_sym(p, "kprobe_optinsn_slots");
    hm.have_kp = hm.kp[0] && profile_field(p, "kprobe_insn_cache.pages", &hm.off_kp_pages, 0) &&
                 profile_const(p, "kprobe_insn_page.list", &hm.off_kip_list) &&
                 profile_const(p, "kprobe_insn_page.insns", &hm.off_kip_insns);
    hm.bpf_packs = profile_sym(p, "pack_list");
    hm.have_bpf = hm.bpf_packs && profile_const(p, "bpf_prog_pack.list", &hm.off_pack_list) &&
                  profile_const(p, "bpf_prog_pack.ptr", &hm.off_pack_ptr) &&
                  profile_const(p, "bpf_prog_pack_size", &hm.pack_size) && hm.pack_size && !(hm.pack_size & 0xfff);
    if (!hm.ok)
        kprintf("vigil: hidden-module: the profile lacks `modules`, the module area (modules_vaddr, modules_end) "
                "or a struct module field: not watching modules\n");
    else
        kprintf("vigil: hidden-module: module list from `modules` against executable memory in 0x%llx-0x%llx, "
                "every %u ticks; the kernel's own there: %s%s%s\n", (unsigned long long)hm.vaddr,
                (unsigned long long)hm.end, ids.cfg.pol[POL_HIDDEN_MODULE].interval,
                hm.have_kp ? "kprobe instruction slots" : "", hm.have_kp && hm.have_bpf ? ", " : "",
                hm.have_bpf ? "BPF program packs" : hm.have_kp ? "" : "none known (no kprobe or BPF lists in the profile)");
}

/* The module list now: false when it cannot be read whole (a scan then
 * judges nothing). */
static bool read_list(struct hm_mod *out, u32 *n)
{
    u64 node;
    *n = 0;
    if (!rd(hm.head, &node, 8))
        return false;
    for (u32 steps = 0; node != hm.head; steps++) {
        if (steps == HM_LIST_STEPS || *n == HM_MAX_MODULES || node < hm.off_list)
            return false;
        struct hm_mod m;
        memset(&m, 0, sizeof(m));
        m.addr = node - hm.off_list;
        u32 csz = 0, isz = 0;
        if (!rd(m.addr + hm.off_name, m.name, hm.name_size) || !rd(m.addr + hm.off_core, &m.core, 8) ||
            !rd(m.addr + hm.off_core_size, &csz, 4) || !rd(m.addr + hm.off_init, &m.init, 8) ||
            !rd(m.addr + hm.off_init_size, &isz, 4) || !rd(m.addr + hm.off_state, &m.state, 4))
            return false;
        clean_name(m.name, hm.name_size);
        m.core_size = csz;
        m.init_size = m.init ? isz : 0;
        out[(*n)++] = m;
        if (!rd(node, &node, 8))                /* list.next */
            return false;
    }
    return true;
}

static const struct hm_mod *find_mod(const struct hm_mod *set, u32 n, u64 addr, const char *name)
{
    for (u32 i = 0; i < n; i++)
        if (set[i].addr == addr && !strcmp(set[i].name, name))
            return &set[i];
    return 0;
}

static void remember_gone(u64 start, u64 size, const char *name)
{
    if (!start || !size)
        return;
    u32 slot = ngone < HM_MAX_GONE ? ngone++ : 0;
    if (slot == 0 && ngone == HM_MAX_GONE)
        for (u32 i = 1; i < HM_MAX_GONE; i++)           /* full: the oldest goes */
            if (gone[i].tick < gone[slot].tick)
                slot = i;
    gone[slot].start = start;
    gone[slot].end = start + size;
    gone[slot].tick = ids.ticks;
    str_copy(gone[slot].name, name, HM_NAME);
}

static u64 page_up(u64 v) { return (v + 0xfff) & ~0xfffull; }

static void info_left(const struct hm_mod *m)
{
    kprintf("vigil: info: hidden-module: module \"%s\" left the list: core 0x%llx-0x%llx\n", m->name,
            (unsigned long long)m->core, (unsigned long long)(m->core + m->core_size));
    remember_gone(m->core, page_up(m->core_size), m->name);
    remember_gone(m->init, page_up(m->init_size), m->name);
}

/* Loads and unloads against the last list: info lines. A module unloaded
 * and loaded again at the same place between two scans is the same entry,
 * unless this scan finds the new one's init running (COMING, or an init
 * layout again) where the last found the old one done with it. */
static void diff_lists(const struct hm_mod *now, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        const struct hm_mod *was = find_mod(mods, nmods, now[i].addr, now[i].name);
        bool again = was && was->state == MOD_LIVE && !was->init &&
                     (now[i].state == MOD_COMING || now[i].init);
        if (again)
            info_left(was);
        if (!was || again) {
            kprintf("vigil: info: hidden-module: module \"%s\" %s: core 0x%llx-0x%llx%s\n", now[i].name,
                    first_scan_done ? "loaded" : "listed at the first look", (unsigned long long)now[i].core,
                    (unsigned long long)(now[i].core + now[i].core_size), now[i].init ? ", init layout too" : "");
        } else if (was->init && was->init != now[i].init) {
            remember_gone(was->init, page_up(was->init_size), was->name);   /* freed after init, a little later */
        }
    }
    for (u32 i = 0; i < nmods; i++)
        if (!find_mod(now, n, mods[i].addr, mods[i].name))
            info_left(&mods[i]);
}

/* One list of the kernel's own executable allocations in the module area:
 * each entry (its list_head at list_off) points (at ptr_off) into one of
 * `size` bytes. */
static u32 kernel_list(u64 head, u64 list_off, u64 ptr_off, u64 size, struct mod_range *out, u32 max)
{
    u64 node;
    u32 n = 0;
    if (!head || !rd(head, &node, 8))
        return 0;
    for (u32 steps = 0; node != head && steps < HM_MAX_KERNEL_EXEC && n < max; steps++) {
        u64 ptr;
        if (node < list_off || !rd(node - list_off + ptr_off, &ptr, 8))
            break;
        out[n].start = ptr & ~0xfffull;
        out[n].end = out[n].start + size;
        n++;
        if (!rd(node, &node, 8))
            break;
    }
    return n;
}

/* The kernel's own code there, no module's: the pages of kprobes'
 * instruction caches and BPF's JIT program packs (both module_alloc'd). */
static u32 kernel_exec(struct mod_range *out, u32 max)
{
    u32 n = 0;
    for (u32 c = 0; hm.have_kp && c < 2; c++)
        if (hm.kp[c])
            n += kernel_list(hm.kp[c] + hm.off_kp_pages, hm.off_kip_list, hm.off_kip_insns, 4096, out + n, max - n);
    if (hm.have_bpf)
        n += kernel_list(hm.bpf_packs, hm.off_pack_list, hm.off_pack_ptr, hm.pack_size, out + n, max - n);
    return n;
}

struct exec_ctx {
    struct mod_range r[HM_MAX_EXEC];
    u32 n;
    bool full;
};

static bool leaf(void *ctx, const struct pt_leaf *l)
{
    struct exec_ctx *c = ctx;
    if (l->nx || l->user)
        return true;
    u64 s = l->gva < hm.vaddr ? hm.vaddr : l->gva, e = l->gva + l->size > hm.end ? hm.end : l->gva + l->size;
    if (!modarea_add(c->r, &c->n, HM_MAX_EXEC, s, e))
        c->full = true;
    return !c->full;
}

/* A struct module for the hidden code at [start, end): one whose
 * core_layout.base is start, in the pages after the code (the module's
 * data holds it), with a name that reads as one. */
static bool find_name(u64 start, u64 end, char name[HM_NAME])
{
    static u64 page[512];
    for (u64 va = end; va < end + HM_NAME_SCAN_PAGES * 4096ull && va < hm.end; va += 4096) {
        if (!rd(va, page, 4096))
            return false;
        for (u32 i = 0; i < 512; i++) {
            u64 m = va + 8 * i - hm.off_core;
            u32 csz;
            if (page[i] != start || va + 8 * i < hm.off_core || !rd(m + hm.off_name, name, hm.name_size) ||
                !rd(m + hm.off_core_size, &csz, 4) || csz < end - start)
                continue;
            name[hm.name_size - 1] = 0;
            bool ok = name[0] != 0;
            for (u32 k = 0; name[k] && ok; k++)
                ok = (unsigned char)name[k] > 0x20 && (unsigned char)name[k] < 0x7f;
            if (ok)
                return true;
        }
    }
    return false;
}

static bool was_reported(u64 key)
{
    for (u32 i = 0; i < nreported && i < HM_MAX_REPORTED; i++)
        if (reported[i] == key)
            return true;
    return false;
}

static bool first_report(u64 key)
{
    if (was_reported(key))
        return false;
    reported[nreported++ % HM_MAX_REPORTED] = key;
    return true;
}

static void report(const struct ids_event *e, u64 start, u64 end)
{
    char name[HM_NAME] = "";
    const char *how = "";
    u64 latest = 0;
    for (u32 i = 0; i < ngone; i++)             /* the last module there (addresses are reused) */
        if (gone[i].start < end && start < gone[i].end && (!name[0] || gone[i].tick >= latest)) {
            str_copy(name, gone[i].name, sizeof(name));
            latest = gone[i].tick;
            how = "it left the list";
        }
    if (!name[0] && find_name(start, end, name))
        how = "its struct module";
    struct ids_event h = *e;
    h.cr3 = ids.kernel_cr3;                     /* no process's: the kernel's module memory */
    /* (the record's detail holds 119 characters: the name comes first) */
    if (name[0])
        ids_raise_task(POL_HIDDEN_MODULE, &h, ids_kernel_proc(), start, &start, 0, "hidden module \"%s\": code at 0x%llx-0x%llx "
                       "owned by no listed module (%s)", name, (unsigned long long)start, (unsigned long long)end, how);
    else
        ids_raise_task(POL_HIDDEN_MODULE, &h, ids_kernel_proc(), start, &start, 0, "hidden module: code at 0x%llx-0x%llx owned "
                       "by no listed module (no struct module found)", (unsigned long long)start,
                       (unsigned long long)end);
}

/* A layout seen in the list once, now out of it: its grace is served. */
static bool left_list(u64 start, u64 end)
{
    for (u32 i = 0; i < ngone; i++)
        if (gone[i].start < end && start < gone[i].end && ids.ticks - gone[i].tick >= HM_GRACE_TICKS)
            return true;
    return false;
}

/* A whole list read: its loads and unloads said, and it is the last. */
static void take_list(const struct hm_mod *now, u32 n)
{
    diff_lists(now, n);
    memcpy(mods, now, n * sizeof(now[0]));
    nmods = n;
    first_scan_done = true;
}

static void scan(const struct ids_event *e)
{
    static struct hm_mod now[HM_MAX_MODULES];
    u32 n;
    if (!read_list(now, &n))
        return;                                 /* changing under the walk, or not a list: next time */
    take_list(now, n);
    scans++;

    static struct exec_ctx ex;
    ex.n = 0;
    ex.full = false;
    struct pt_paging pg;
    vmi_paging(vmi_linux_kernel_pgd(), &pg);
    const struct pt_visitor v = { .map = vmi_map, .ctx = &ex, .max_tables = HM_MAX_TABLES, .leaf = leaf };
    pt_visit(&pg, hm.vaddr, hm.end - 1, &v, 0);
    exec_ranges_seen += ex.n;

    /* The owners: listed modules' layouts (whole pages), kprobe slot pages,
     * and what left the list within the grace. */
    static struct mod_range owned[2 * HM_MAX_MODULES + HM_MAX_KERNEL_EXEC + HM_MAX_GONE];
    u32 no = 0;
    for (u32 i = 0; i < nmods; i++) {
        if (mods[i].core)
            owned[no++] = (struct mod_range){ mods[i].core & ~0xfffull, page_up(mods[i].core + mods[i].core_size) };
        if (mods[i].init)
            owned[no++] = (struct mod_range){ mods[i].init & ~0xfffull, page_up(mods[i].init + mods[i].init_size) };
    }
    no += kernel_exec(owned + no, HM_MAX_KERNEL_EXEC);
    for (u32 i = 0; i < ngone; i++)
        if (ids.ticks - gone[i].tick < HM_GRACE_TICKS)
            owned[no++] = (struct mod_range){ gone[i].start, gone[i].end };
    /* Code no one owns must stay so for the grace too: a module loaded and
     * unloaded between two scans was never seen in the list, and a scan in
     * its unload (out of the list, not yet freed) finds its text owned by
     * no one. A hidden module stays. */
    static struct { u64 start, since; bool seen; } unowned[HM_MAX_UNOWNED];
    for (u32 i = 0; i < HM_MAX_UNOWNED; i++)
        unowned[i].seen = false;
    for (u32 i = 0; i < ex.n; i++) {
        struct mod_range un[8];
        u32 k = modarea_uncovered(ex.r[i].start, ex.r[i].end, owned, no, un, ARRAY_SIZE(un));
        for (u32 j = 0; j < k && j < ARRAY_SIZE(un); j++) {
            if (was_reported(un[j].start))
                continue;                       /* (it holds no slot of the grace) */
            u32 u = 0, free = HM_MAX_UNOWNED;
            while (u < HM_MAX_UNOWNED && !(unowned[u].since && unowned[u].start == un[j].start)) {
                if (!unowned[u].since && free == HM_MAX_UNOWNED)
                    free = u;
                u++;
            }
            bool due = left_list(un[j].start, un[j].end);
            if (u == HM_MAX_UNOWNED && free == HM_MAX_UNOWNED) {
                due = true;                     /* more unowned code than unloads explain: no grace (a
                                                 * flood must not push a waiting range out) */
            } else {
                if (u == HM_MAX_UNOWNED) {
                    unowned[free].start = un[j].start;
                    unowned[free].since = ids.ticks ? ids.ticks : 1;
                    u = free;
                }
                unowned[u].seen = true;
                due = due || ids.ticks - unowned[u].since >= HM_GRACE_TICKS;
            }
            if (due && first_report(un[j].start))
                report(e, un[j].start, un[j].end);
        }
    }
    for (u32 i = 0; i < HM_MAX_UNOWNED; i++)
        if (!unowned[i].seen)
            unowned[i].since = 0;               /* owned again, or gone */
}

static void placed(const struct ids_event *e)
{
    (void)e;
    if (vmi_have_linux())
        setup();
}

static void tick(const struct ids_event *e)
{
    if (e->vcpu != 0 || !ids.boot_done || !hm.ok || !vmi_have_linux())
        return;
    scan(e);
}

void hidden_module_summary(void)
{
    if (hm.ok)
        kprintf("vigil: hidden-module: %llu scans, %u modules listed at the last, %llu executable ranges seen\n",
                (unsigned long long)scans, nmods, (unsigned long long)exec_ranges_seen);
}

const struct policy_ops pol_hidden_module = {
    .id = POL_HIDDEN_MODULE, .placed = placed, .tick = tick,
};

/* --- the code the kernel owns in the module area (kernel-text's execute watch) -------
 *
 * On Linux supervisor code runs outside the core text only where the kernel
 * put it in the module area: a listed module's text (the text part of its
 * core and init layouts), a kprobe instruction page, a BPF program pack.
 * kernel-text asks when a fetch there exits, and on its own re-judging; the
 * lists are read fresh each time (a module may have loaded since the last
 * scan), the same way and with the same bounds as the scan reads them. */
#define MOD_UNFORMED 3
static struct { bool done; u64 core_text, init_text; bool have_init_text; } cx;

static void code_setup(void)
{
    u64 sz = 0;
    if (cx.done)
        return;
    cx.done = true;
    if (!profile_field(&ids.prof, "module.core_layout.text_size", &cx.core_text, &sz) || sz != 4)
        cx.core_text = 0;
    cx.have_init_text = profile_field(&ids.prof, "module.init_layout.text_size", &cx.init_text, &sz) && sz == 4;
}

bool hidden_module_knows_code(void)
{
    code_setup();
    return hm.ok && cx.core_text;
}

/* A layout's text: [base, base + text_size), within the layout. */
static bool layout_text(u64 mod, u64 base, u64 size, u64 text_off, bool have, struct mod_range *r)
{
    u32 ts = (u32)size;
    if (!base || !size || (have && !rd(mod + text_off, &ts, 4)))
        return false;
    *r = (struct mod_range){ base, base + (ts < size ? ts : size) };
    return r->start < r->end;
}

u32 hidden_module_code(struct mod_range *r, struct code_owner *o, u32 max, bool *whole)
{
    static struct hm_mod l[HM_MAX_MODULES];
    u32 n, k = 0;
    *whole = hidden_module_knows_code() && read_list(l, &n);
    if (!*whole)
        return 0;
    if (ids.boot_done)
        take_list(l, n);                            /* a load is said at its code's first fetch, its init's: one that
                                                     * comes and goes between two scans is not missed */
    for (u32 i = 0; i < n && k + 2 <= max; i++) {
        if (l[i].state >= MOD_UNFORMED)
            continue;                               /* not formed yet: none of its code runs */
        struct mod_range t;
        if (layout_text(l[i].addr, l[i].core, l[i].core_size, cx.core_text, true, &t)) {
            r[k] = t;
            o[k].mod = l[i].addr;
            str_copy(o[k++].name, l[i].name, sizeof(o[0].name));
        }
        if (layout_text(l[i].addr, l[i].init, l[i].init_size, cx.init_text, cx.have_init_text, &t)) {
            r[k] = t;
            o[k].mod = l[i].addr;
            str_copy(o[k++].name, l[i].name, sizeof(o[0].name));
        }
    }
    u32 nk = kernel_exec(r + k, max - k);
    for (u32 j = 0; j < nk; j++) {
        o[k + j].mod = 0;
        str_copy(o[k + j].name, "kernel", sizeof(o[0].name));
    }
    return k + nk;
}

bool hidden_module_still(u64 mod, const char *name, u64 gva)
{
    char now[HM_NAME];
    u64 core = 0, init = 0;
    u32 csz = 0, isz = 0, state = 0;
    struct mod_range t;
    if (!hidden_module_knows_code() || !mod || !rd(mod + hm.off_name, now, hm.name_size) ||
        !rd(mod + hm.off_core, &core, 8) || !rd(mod + hm.off_core_size, &csz, 4) ||
        !rd(mod + hm.off_init, &init, 8) || !rd(mod + hm.off_init_size, &isz, 4) || !rd(mod + hm.off_state, &state, 4))
        return false;
    clean_name(now, hm.name_size);
    if (strcmp(now, name) || state >= MOD_UNFORMED)
        return false;
    /* its core text, or its init text while its init runs (a module that
     * hides itself from its init goes on running that) */
    return (layout_text(mod, core, csz, cx.core_text, true, &t) && t.start <= gva && gva < t.end) ||
           (layout_text(mod, init, isz, cx.init_text, cx.have_init_text, &t) && t.start <= gva && gva < t.end);
}
