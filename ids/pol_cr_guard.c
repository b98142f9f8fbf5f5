/* cr-guard: once set, CR0.WP (supervisor write protection), CR4.SMEP and
 * CR4.SMAP stay set. Clearing one is how kernel exploits get at read-only
 * memory or run user pages in ring 0. (A kernel that never sets them is
 * not protected by them, and this policy has nothing to hold.) */
#include "ids/engine.h"

#define CR0_WP (1ull << 16)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)

static void start(void)
{
    ids_trap_cr(POL_CR_GUARD, 0, CR0_WP, "CR0.WP");
    ids_trap_cr(POL_CR_GUARD, 4, CR4_SMEP | CR4_SMAP, "CR4.SMEP and CR4.SMAP");
}

static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    u64 cleared = e->cr.old & ~e->cr.value;
    if (e->cr.cr == 0 && (cleared & CR0_WP))
        return ids_raise(POL_CR_GUARD, e, 0x0010, 0, 0, "CR0.WP cleared (0x%llx -> 0x%llx)",
                         (unsigned long long)e->cr.old, (unsigned long long)e->cr.value);
    if (e->cr.cr == 4 && (cleared & (CR4_SMEP | CR4_SMAP)))
        return ids_raise(POL_CR_GUARD, e, 0x0400 | (cleared & (CR4_SMEP | CR4_SMAP)) >> 20, 0, 0,
                         "CR4.%s cleared (0x%llx -> 0x%llx)",
                         (cleared & CR4_SMEP) && (cleared & CR4_SMAP) ? "SMEP and SMAP"
                         : cleared & CR4_SMEP ? "SMEP" : "SMAP",
                         (unsigned long long)e->cr.old, (unsigned long long)e->cr.value);
    return v;
}

const struct policy_ops pol_cr_guard = { .id = POL_CR_GUARD, .start = start, .event = event };
