#include "ids/modarea.h"

bool modarea_add(struct mod_range *set, u32 *n, u32 max, u64 start, u64 end)
{
    if (start >= end)
        return true;
    u32 i = 0;
    while (i < *n && set[i].end < start)
        i++;                                    /* set[i] is the first that ends at or after start */
    u32 j = i;
    while (j < *n && set[j].start <= end)
        j++;                                    /* set[i..j) touch or overlap [start, end) */
    if (i == j) {
        if (*n == max)
            return false;
        for (u32 k = *n; k > i; k--)
            set[k] = set[k - 1];
        set[i].start = start;
        set[i].end = end;
        (*n)++;
        return true;
    }
    if (set[i].start < start)
        start = set[i].start;
    if (set[j - 1].end > end)
        end = set[j - 1].end;
    set[i].start = start;
    set[i].end = end;
    u32 gone = j - i - 1;
    for (u32 k = i + 1; k + gone < *n; k++)
        set[k] = set[k + gone];
    *n -= gone;
    return true;
}

u32 modarea_uncovered(u64 start, u64 end, const struct mod_range *owned, u32 nowned, struct mod_range *out, u32 max)
{
    u32 count = 0;
    u64 at = start;
    while (at < end) {
        bool moved = false;
        for (u32 i = 0; i < nowned; i++)
            if (owned[i].start <= at && at < owned[i].end) {
                at = owned[i].end;              /* covered up to there */
                moved = true;
            }
        if (moved)
            continue;
        u64 next = end;                         /* the next owner's start after at */
        for (u32 i = 0; i < nowned; i++)
            if (owned[i].start > at && owned[i].start < next && owned[i].start < owned[i].end)
                next = owned[i].start;
        if (count < max) {
            out[count].start = at;
            out[count].end = next;
        }
        count++;
        at = next;
    }
    return count;
}

bool modarea_overlaps(const struct mod_range *set, u32 n, u64 start, u64 end)
{
    for (u32 i = 0; i < n; i++)
        if (set[i].start < end && start < set[i].end)
            return true;
    return false;
}

int modarea_find(const struct mod_range *set, u32 n, u64 addr)
{
    for (u32 i = 0; i < n; i++)
        if (set[i].start <= addr && addr < set[i].end)
            return (int)i;
    return -1;
}
