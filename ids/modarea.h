/* hidden-module's arithmetic on address ranges, pure (unit-tested:
 * tests/unit/test_modarea.c): the executable ranges of the module area,
 * coalesced as the page-table visit finds them in address order, and the
 * parts of one that no owner (a listed module's layout, a kprobe slot page,
 * a module that left the list a moment ago) covers. Ranges are half-open,
 * [start, end). Internal to ids/. */
#ifndef VIGIL_IDS_MODAREA_H
#define VIGIL_IDS_MODAREA_H

#include "lib/types.h"

struct mod_range { u64 start, end; };

/* Add [start, end) to the set (sorted, disjoint, touching ranges merged).
 * False when it would take more than max ranges (the set is then as it was).
 * An empty range (start >= end) is no change. */
bool modarea_add(struct mod_range *set, u32 *n, u32 max, u64 start, u64 end);
/* The parts of [start, end) that no range of owned (in any order, may
 * overlap) covers, in address order: at most max written to out; returns
 * how many there are (more than max: the rest were not written). */
u32 modarea_uncovered(u64 start, u64 end, const struct mod_range *owned, u32 nowned, struct mod_range *out, u32 max);
/* Does any range of set overlap [start, end)? */
bool modarea_overlaps(const struct mod_range *set, u32 n, u64 start, u64 end);
/* The first range of set (in any order) that holds addr: its index, or -1. */
int modarea_find(const struct mod_range *set, u32 n, u64 addr);

#endif
