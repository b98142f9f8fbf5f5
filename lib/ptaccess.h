/* Access rights of a guest linear access, as the CPU checks them after its
 * page walk (SDM Vol. 3, 4.6 and 4.7): for the accesses vigil makes on the
 * guest's behalf (the stores of SIDT, SGDT, SLDT, STR and INS, the reads of
 * LGDT, LIDT, LLDT, LTR, OUTS and the GDT), so that each ends as the
 * hardware would end it. Pure: unit-tested. */
#ifndef VIGIL_LIB_PTACCESS_H
#define VIGIL_LIB_PTACCESS_H

#include "lib/types.h"

/* #PF error-code bits (SDM 4.7). */
#define PF_P    (1u << 0)          /* a protection violation (0: not present) */
#define PF_W    (1u << 1)          /* the access was a write */
#define PF_U    (1u << 2)          /* a user-mode access */
#define PF_RSVD (1u << 3)          /* a reserved bit set in a paging entry */

struct pt_access {
    bool write;
    bool user;                     /* a user-mode access: CPL 3, and not an implicit supervisor access */
    bool implicit;                 /* an implicit supervisor access (a descriptor table, whatever the CPL) */
    bool wp, smap, ac;             /* CR0.WP, CR4.SMAP, RFLAGS.AC */
};

/* What the walk found for the page: not present, a reserved bit, or a
 * translation with its combined rights. */
enum pt_found { PT_FOUND_PAGE, PT_FOUND_NOT_PRESENT, PT_FOUND_RESERVED };

/* True when the CPU would raise #PF; *err is then its error code. */
bool pt_access_faults(enum pt_found found, bool writable, bool user_page, const struct pt_access *a, u32 *err);

#endif
