/* kernel-text: the guest kernel's code and read-only data are write-
 * protected in EPT from before its first instruction. A write is refused
 * (block: the writing instruction is skipped), or logged, or the vCPU is
 * suspended. The guest's own page tables cannot undo this: the protection
 * is on guest-physical pages, so writable aliases are caught too. Once
 * the kernel has booted, supervisor execution outside its text is caught
 * when it happens (the execute watch, below). */
#include "ids/engine.h"
#include "vmm/introspect.h"
#include "lib/log.h"
#include "lib/string.h"

static u64 text_gpa, text_end;           /* the kernel's code, guest-physical */

static void protect(const char *sym, const char *what)
{
    u64 gpa, size;
    if (ids_protect_object(POL_KERNEL_TEXT, sym, what, true, 0, &gpa, &size)) {
        kprintf("vigil: kernel-text: %s at gpa 0x%llx-0x%llx write-protected\n", what, (unsigned long long)gpa,
                (unsigned long long)(gpa + size));
        if (!strcmp(sym, "kernel_text"))
            text_gpa = gpa, text_end = gpa + size;
    }
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
    if (!text_end || ids.cfg.exec_watch_off || !profile_const(&ids.prof, "exec_watch", &yes) || !yes)
        return;
    const struct mem_range known = { ALIGN_DOWN(text_gpa, 4096), ALIGN_UP(text_end, 4096) };
    watching = ids_watch_exec(POL_KERNEL_TEXT, &known, 1, "supervisor code outside the kernel's text");
    if (watching)
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
    /* Each fetch is judged (a refused one faults again when retried); the
     * repeat limiter folds the records of one page. */
    v = ids_raise(POL_KERNEL_TEXT, e, page | 1, &e->ept.gva, &gpa,
                  "supervisor code ran outside the kernel's text: at 0x%llx (gpa 0x%llx)",
                  (unsigned long long)e->ept.gva, (unsigned long long)gpa);
    return v;
}

void kernel_text_grant_alias(const struct ids_event *e, u64 cr3, u64 gva, u64 page)
{
    struct ids_event h = *e;
    h.cr3 = cr3;
    ids_raise(POL_KERNEL_TEXT, &h, page | 3, &gva, &page,
              "page granted X for user code is mapped supervisor-executable at 0x%llx: every grant taken back",
              (unsigned long long)gva);
    vmm_exec_revoke();
}

static void tick(const struct ids_event *e)
{
    if (watching && e->vcpu == 0 && ids.ticks % REVOKE_TICKS == 0)
        vmm_exec_revoke();
}

static void start(void)
{
    if (!ids.have_profile) {
        log_warn("vigil: kernel-text: no profile, so no kernel text to protect\n");
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
    v = ids_raise(POL_KERNEL_TEXT, e, gpa & ~7ull, e->ept.gva_valid ? &e->ept.gva : 0, &gpa,
                  "write to protected %s at offset 0x%llx", o->what, (unsigned long long)(gpa - o->start));
    if (v.action != IDS_ALLOW)
        v.skip_len = ids_insn_len(e);
    return v;
}

const struct policy_ops pol_kernel_text = {
    .id = POL_KERNEL_TEXT, .start = start, .boot_done = boot_done, .event = event, .tick = tick,
};
