#include "vmm/mtrr.h"

static u8 fixed_type(const struct mtrr_state *s, u64 a)
{
    if (a < 0x80000)
        return s->fixed[a >> 16];
    if (a < 0xc0000)
        return s->fixed[8 + ((a - 0x80000) >> 14)];
    return s->fixed[24 + ((a - 0xc0000) >> 12)];
}

/* Two or more variable ranges overlapping: UC wins; WT and WB give WT;
 * anything else is undefined by the SDM, and vigil takes UC. */
static u8 combine(u8 a, u8 b)
{
    if (a == b)
        return a;
    if (a == MT_UC || b == MT_UC)
        return MT_UC;
    if ((a == MT_WT && b == MT_WB) || (a == MT_WB && b == MT_WT))
        return MT_WT;
    return MT_UC;
}

bool mtrr_range_type(const struct mtrr_state *s, u64 start, u64 size, u8 *type)
{
    if (!s->enabled) {
        *type = MT_UC;
        return true;
    }
    if (s->fixed_enabled && start < 0x100000) {
        if (start + size > 0x100000)
            return false;
        u8 t = fixed_type(s, start);
        for (u64 a = start; a < start + size; a += 0x1000)
            if (fixed_type(s, a) != t)
                return false;
        *type = t;
        return true;
    }
    bool matched = false;
    u8 t = s->def_type;
    for (u32 i = 0; i < s->nvar; i++) {
        u64 mask = s->var[i].mask;
        if (!(mask >> 11 & 1))
            continue;                              /* not valid */
        mask &= s->addr_mask & ~0xfffull;
        /* Bits above the range's size decide whether any address in it can
         * match; only a range that can match and has mask bits inside the
         * range covers part of it. */
        if ((start ^ s->var[i].base) & mask & ~(size - 1))
            continue;
        if (mask & (size - 1))
            return false;                          /* matches part of the range */
        u8 vt = (u8)(s->var[i].base & 0xff);
        t = matched ? combine(t, vt) : vt;
        matched = true;
    }
    *type = t;
    return true;
}

const char *mtrr_type_name(u8 t)
{
    switch (t) {
    case MT_UC: return "UC";
    case MT_WC: return "WC";
    case MT_WT: return "WT";
    case MT_WP: return "WP";
    case MT_WB: return "WB";
    default: return "??";
    }
}
