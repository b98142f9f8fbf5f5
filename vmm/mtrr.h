/* MTRR memory types (Intel SDM Vol. 3, 12.11): which type a physical range
 * has, and whether it has one type throughout (so one large EPT page can map
 * it). Decoding is pure; mtrr_read fills the state from the MSRs. */
#ifndef VIGIL_VMM_MTRR_H
#define VIGIL_VMM_MTRR_H

#include "lib/types.h"

#define MT_UC 0
#define MT_WC 1
#define MT_WT 4
#define MT_WP 5
#define MT_WB 6

#define MTRR_MAX_VAR 16

struct mtrr_state {
    bool enabled, fixed_enabled;
    u8 def_type;
    u8 fixed[88];                  /* 8 x 64K, 16 x 16K, 64 x 4K below 1 MiB */
    u32 nvar;
    struct { u64 base, mask; } var[MTRR_MAX_VAR];
    u64 addr_mask;                 /* physical address bits (MAXPHYADDR) */
};

/* Type of [start, start + size), size a power of two >= 4 KiB and start
 * aligned to it. Returns false when the range is not of one type. */
bool mtrr_range_type(const struct mtrr_state *s, u64 start, u64 size, u8 *type);
const char *mtrr_type_name(u8 t);

void mtrr_read(struct mtrr_state *s);

#endif
