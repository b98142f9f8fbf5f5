/* hypervisor-guard: any reach for vigil itself -- its memory, its console
 * ports, VMX instructions, VMCALL. vmm/ has already refused the access
 * (#GP, #UD, dropped write); this policy reports it and may suspend. It
 * cannot be switched off. */
#include "ids/engine.h"

static struct ids_verdict event(const struct ids_event *e)
{
    /* A probe of the console's control and status registers (Linux's 8250
     * driver looks for a UART at COM1 at boot): refused, since vmm/ has
     * dropped it already, but it neither speaks nor listens on vigil's
     * console, so it is not reported. */
    if (e->reach.what == REACH_CONSOLE_PROBE)
        return (struct ids_verdict){ IDS_BLOCK, 0, 0 };
    static const char *const what[] = {
        [REACH_MEMORY] = "access to hypervisor memory", [REACH_CONSOLE] = "access to vigil's console port",
        [REACH_VMX_INSN] = "VMX instruction", [REACH_VMCALL] = "VMCALL",
        [REACH_CONSOLE_PROBE] = "probe of vigil's console port",
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
