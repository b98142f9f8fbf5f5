/* hypervisor-guard: any reach for vigil itself -- its memory, its console
 * ports, VMX instructions, VMCALL. vmm/ has already refused the access
 * (#GP, #UD, dropped write); this policy reports it and may suspend. It
 * cannot be switched off. */
#include "ids/engine.h"

static struct ids_verdict event(const struct ids_event *e)
{
    static const char *const what[] = {
        [REACH_MEMORY] = "access to hypervisor memory", [REACH_CONSOLE] = "access to vigil's console port",
        [REACH_VMX_INSN] = "VMX instruction", [REACH_VMCALL] = "VMCALL",
    };
    u64 gpa = e->reach.addr;
    struct ids_verdict v = ids_raise(POL_HYPERVISOR_GUARD, e, ((u64)e->reach.what << 60) ^ (gpa & ~0xfffull),
                                     0, e->reach.what == REACH_MEMORY ? &gpa : 0,
                                     e->reach.detail && e->reach.detail[0] ? "%s: %s refused" : "%s refused%s",
                                     what[e->reach.what], e->reach.detail ? e->reach.detail : "");
    if (v.action == IDS_ALLOW)
        v.action = IDS_BLOCK;
    return v;
}

const struct policy_ops pol_hypervisor_guard = { .id = POL_HYPERVISOR_GUARD, .event = event };
