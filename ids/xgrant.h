/* The execute watch's supervisor grants on Linux (kernel-text), pure
 * (unit-tested: tests/unit/test_xgrant.c): which page of module-area code
 * was let execute, at which address, for which owner (a struct module, or
 * 0 for the kernel's own: a kprobe instruction page, a BPF program pack).
 * A record outlives its grant (active false once the page lost X again),
 * so that code running from a module that has left the list since can
 * still be named. Internal to ids/. */
#ifndef VIGIL_IDS_XGRANT_H
#define VIGIL_IDS_XGRANT_H

#include "lib/types.h"

#define XGRANT_MAX 128
#define XGRANT_NAME 56                      /* MODULE_NAME_LEN */

struct xgrant {
    u64 gpa, gva;                           /* the pages (4 KiB aligned) */
    u64 mod;                                /* its struct module; 0: the kernel's own code */
    char name[XGRANT_NAME];
    bool active;                            /* the page has X now (as far as the IDS granted it) */
    bool hidden;                            /* granted as a module's that left the list */
    bool reported;                          /* that module's code was reported running */
    u64 seq;                                /* when last granted (the oldest inactive goes first) */
};

struct xgrants {
    struct xgrant g[XGRANT_MAX];
    u32 n;
    u64 seq;
};

/* The record of the page at gpa mapped at gva, new if there is none (an
 * inactive record's slot is reused when the table is full, the oldest
 * first); NULL when every slot holds an active grant. */
struct xgrant *xgrant_get(struct xgrants *t, u64 gpa, u64 gva);
/* The record granted X now: active, and the latest granted. */
void xgrant_mark(struct xgrants *t, struct xgrant *g);
/* Is the page holding gpa an active record's? */
bool xgrant_active_gpa(const struct xgrants *t, u64 gpa);
/* Every grant taken back (records kept, inactive). */
void xgrant_revoke_all(struct xgrants *t);
/* Active records, for the summary. */
u32 xgrant_active(const struct xgrants *t);

#endif
