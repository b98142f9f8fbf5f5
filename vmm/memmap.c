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

/* Every boundary of the map and of avoid[] below limit cuts [0, limit) into
 * pieces that are each wholly RAM or wholly not: each piece is asked once. */
int memmap_ram_ranges(const struct boot_info *bi, const struct mem_range *avoid, u32 navoid, u64 limit,
                      struct mem_range *out, u32 max)
{
    u64 pt[MEMMAP_MAX_POINTS];
    u32 np = 0, nmap = bi->mmap_count < MB2_MAX_MMAP ? bi->mmap_count : MB2_MAX_MMAP;
    if (navoid > MEM_MAX_AVOID)
        navoid = MEM_MAX_AVOID;
    pt[np++] = 0;
    pt[np++] = limit;
    for (u32 i = 0; i < nmap; i++) {
        u64 b = bi->mmap[i].base, e = b + bi->mmap[i].len;
        pt[np++] = b < limit ? b : limit;
        pt[np++] = e < limit && e >= b ? e : limit;      /* (an entry that wraps reaches past limit) */
    }
    for (u32 i = 0; i < navoid; i++) {
        pt[np++] = avoid[i].start < limit ? avoid[i].start : limit;
        pt[np++] = avoid[i].end < limit ? avoid[i].end : limit;
    }
    for (u32 i = 1; i < np; i++)                          /* insertion sort: a few hundred points, once */
        for (u32 j = i; j > 0 && pt[j - 1] > pt[j]; j--) {
            u64 t = pt[j];
            pt[j] = pt[j - 1];
            pt[j - 1] = t;
        }
    u32 n = 0;
    for (u32 i = 0; i + 1 < np; i++) {
        u64 a = pt[i], b = pt[i + 1];
        if (a >= b)
            continue;
        bool ok = memmap_is_ram(bi, a, b);
        for (u32 k = 0; ok && k < navoid; k++)
            ok = !range_overlaps(a, b, avoid[k].start, avoid[k].end);
        if (!ok)
            continue;
        if (n && out[n - 1].end == a) {
            out[n - 1].end = b;
            continue;
        }
        if (n == max)
            return -1;
        out[n++] = (struct mem_range){ a, b };
    }
    return (int)n;
}
