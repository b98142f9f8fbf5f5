#include "vmm/memmap.h"

static bool clashes(const struct boot_info *bi, const struct mem_range *avoid, u32 navoid,
                    u64 s, u64 e, u64 *next_end)
{
    /* On a clash, *next_end is the start of the clashing range: the next
     * candidate must end at or below it. */
    for (u32 i = 0; i < navoid; i++) {
        if (range_overlaps(s, e, avoid[i].start, avoid[i].end)) {
            *next_end = avoid[i].start;
            return true;
        }
    }
    for (u32 i = 0; i < bi->mmap_count; i++) {
        const struct mb2_mmap_entry *m = &bi->mmap[i];
        if (m->type != MB2_MEM_AVAILABLE && range_overlaps(s, e, m->base, m->base + m->len)) {
            *next_end = m->base;
            return true;
        }
    }
    return false;
}

bool memmap_place(const struct boot_info *bi, const struct mem_range *avoid, u32 navoid,
                  u64 size, u64 align, u64 floor, u64 limit, u64 *base)
{
    bool found = false;
    u64 best = 0;
    if (!size || !align || (align & (align - 1)))
        return false;
    for (u32 i = 0; i < bi->mmap_count; i++) {
        const struct mb2_mmap_entry *m = &bi->mmap[i];
        if (m->type != MB2_MEM_AVAILABLE)
            continue;
        u64 lo = m->base < floor ? floor : m->base;
        u64 hi = m->base + m->len > limit ? limit : m->base + m->len;
        if (hi <= lo || hi - lo < size)
            continue;
        u64 end = hi;
        /* Slide the candidate down past every clash; each step moves below a
         * range start, so this ends after at most navoid + mmap_count steps. */
        for (u32 guard = 0; guard <= navoid + bi->mmap_count + 1; guard++) {
            if (end < lo + size)
                break;
            u64 s = ALIGN_DOWN(end - size, align);
            if (s < lo)
                break;
            u64 next;
            if (!clashes(bi, avoid, navoid, s, s + size, &next)) {
                if (!found || s > best)
                    best = s;
                found = true;
                break;
            }
            if (next >= end)   /* cannot move further down */
                break;
            end = next;
        }
    }
    if (found)
        *base = best;
    return found;
}

u64 memmap_available(const struct boot_info *bi)
{
    u64 total = 0;
    for (u32 i = 0; i < bi->mmap_count; i++)
        if (bi->mmap[i].type == MB2_MEM_AVAILABLE)
            total += bi->mmap[i].len;
    return total;
}

u64 memmap_top(const struct boot_info *bi)
{
    u64 top = GiB(4);
    for (u32 i = 0; i < bi->mmap_count; i++)
        if (bi->mmap[i].base + bi->mmap[i].len > top)
            top = bi->mmap[i].base + bi->mmap[i].len;
    return top;
}

bool memmap_is_ram(const struct boot_info *bi, u64 start, u64 end)
{
    if (end <= start)
        return false;
    for (u32 i = 0; i < bi->mmap_count; i++) {
        const struct mb2_mmap_entry *m = &bi->mmap[i];
        if (m->type != MB2_MEM_AVAILABLE && range_overlaps(start, end, m->base, m->base + m->len))
            return false;   /* broken maps overlap entries: reserved wins */
    }
    /* Walk forward: each step must find an available entry covering `start`. */
    for (u32 step = 0; step <= bi->mmap_count && start < end; step++) {
        bool moved = false;
        for (u32 i = 0; i < bi->mmap_count; i++) {
            const struct mb2_mmap_entry *m = &bi->mmap[i];
            if (m->type == MB2_MEM_AVAILABLE && m->base <= start && start < m->base + m->len) {
                start = m->base + m->len;
                moved = true;
                break;
            }
        }
        if (!moved)
            return false;
    }
    return start >= end;
}
