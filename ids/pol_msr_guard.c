/* msr-guard: once the guest kernel has booted, the MSRs that steer system
 * calls and long mode (LSTAR, STAR, CSTAR, SYSENTER_CS/ESP/EIP, EFER) keep
 * the values it set. A write that changes one is a hook being installed. */
#include "ids/engine.h"

static const char *msr_name(u32 m)
{
    switch (m) {
    case 0xc0000080: return "EFER";
    case 0xc0000081: return "STAR";
    case 0xc0000082: return "LSTAR";
    case 0xc0000083: return "CSTAR";
    case 0x174: return "SYSENTER_CS";
    case 0x175: return "SYSENTER_ESP";
    case 0x176: return "SYSENTER_EIP";
    default: return 0;
    }
}

static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    const char *name = msr_name(e->msr.msr);
    if (!name || !ids.boot_done || e->msr.value == e->msr.old)
        return v;
    return ids_raise(POL_MSR_GUARD, e, e->msr.msr, 0, 0, "WRMSR %s 0x%llx -> 0x%llx after boot", name,
                     (unsigned long long)e->msr.old, (unsigned long long)e->msr.value);
}

const struct policy_ops pol_msr_guard = { .id = POL_MSR_GUARD, .event = event };
