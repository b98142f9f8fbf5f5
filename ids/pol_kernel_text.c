/* kernel-text: the guest kernel's code and read-only data are write-
 * protected in EPT from before its first instruction. A write is refused
 * (block: the writing instruction is skipped), or logged, or the vCPU is
 * suspended. The guest's own page tables cannot undo this: the protection
 * is on guest-physical pages, so writable aliases are caught too. */
#include "ids/engine.h"
#include "vmm/introspect.h"
#include "lib/log.h"

static void protect(const char *sym, const char *what)
{
    u64 gpa, size;
    if (ids_protect_object(POL_KERNEL_TEXT, sym, what, true, 0, &gpa, &size))
        kprintf("vigil: kernel-text: %s at gpa 0x%llx-0x%llx write-protected\n", what, (unsigned long long)gpa,
                (unsigned long long)(gpa + size));
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
    if (!(e->ept.access & IDS_WRITE))
        return v;
    v = ids_raise(POL_KERNEL_TEXT, e, gpa & ~7ull, e->ept.gva_valid ? &e->ept.gva : 0, &gpa,
                  "write to protected %s at offset 0x%llx", o->what, (unsigned long long)(gpa - o->start));
    if (v.action != IDS_ALLOW)
        v.skip_len = ids_insn_len(e);
    return v;
}

const struct policy_ops pol_kernel_text = { .id = POL_KERNEL_TEXT, .start = start, .event = event };
