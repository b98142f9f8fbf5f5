#include "lib/ptaccess.h"

bool pt_access_faults(enum pt_found found, bool writable, bool user_page, const struct pt_access *a, u32 *err)
{
    bool user = a->user && !a->implicit;
    u32 code = (a->write ? PF_W : 0) | (user ? PF_U : 0);
    if (found == PT_FOUND_NOT_PRESENT) {
        *err = code;
        return true;
    }
    if (found == PT_FOUND_RESERVED) {
        *err = code | PF_P | PF_RSVD;
        return true;
    }
    bool denied;
    if (user) {
        /* User mode: the page must be a user page, and writable to write. */
        denied = !user_page || (a->write && !writable);
    } else {
        /* Supervisor mode: a read-only page is writable only with CR0.WP
         * clear; SMAP denies user pages to explicit accesses made with
         * RFLAGS.AC clear, and to implicit ones always. */
        denied = (a->write && !writable && a->wp) || (user_page && a->smap && (a->implicit || !a->ac));
    }
    *err = code | PF_P;
    return denied;
}
