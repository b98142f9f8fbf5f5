/* The VM-entry rules vigil re-checks after a failed VM entry, to name the
 * offending field (a subset of Intel SDM Vol. 3, 27.2 and 27.3). Pure: it
 * judges a snapshot of VMCS fields, unit-tested on the host. */
#ifndef VIGIL_VMM_VMCS_CHECK_H
#define VIGIL_VMM_VMCS_CHECK_H

#include "lib/types.h"

struct vmcs_snapshot {
    u64 guest_cr0, guest_cr4, guest_efer, guest_rflags, guest_rip;
    u64 link_pointer, tr_ar, activity, entry_ctls, host_cr4;
    u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;   /* as vigil applies them (PE/PG free) */
};

struct vmcs_problem {
    const char *field;
    u64 value;
    const char *rule;
};

/* The first rule the snapshot breaks, or false when vigil's checks find none. */
bool vmcs_check(const struct vmcs_snapshot *s, struct vmcs_problem *p);

#endif
