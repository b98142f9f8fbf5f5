#include "vmm/palloc.h"
#include "lib/string.h"

static bool test(const struct palloc *pa, u32 i) { return pa->bitmap[i / 64] >> (i % 64) & 1; }
static void set(struct palloc *pa, u32 i, bool v)
{
    if (v)
        pa->bitmap[i / 64] |= 1ull << (i % 64);
    else
        pa->bitmap[i / 64] &= ~(1ull << (i % 64));
}

bool palloc_init(struct palloc *pa, u64 base, u32 npages)
{
    memset(pa, 0, sizeof(*pa));
    if ((base & (PAGE_SIZE - 1)) || npages == 0 || npages > PALLOC_MAX_PAGES)
        return false;
    pa->base = base;
    pa->npages = npages;
    return true;
}

u64 palloc_alloc(struct palloc *pa, u32 n, u32 align_pages)
{
    if (n == 0 || align_pages == 0 || (align_pages & (align_pages - 1)))
        return 0;
    /* Alignment is of the physical address, not of the index. */
    u64 first = ALIGN_UP(pa->base, (u64)align_pages * PAGE_SIZE);
    for (u64 i = (first - pa->base) / PAGE_SIZE; i + n <= pa->npages; i += align_pages) {
        u32 j = 0;
        while (j < n && !test(pa, (u32)i + j))
            j++;
        if (j == n) {
            for (j = 0; j < n; j++)
                set(pa, (u32)i + j, true);
            pa->used += n;
            return pa->base + i * PAGE_SIZE;
        }
    }
    return 0;
}

bool palloc_free(struct palloc *pa, u64 addr, u32 n)
{
    if (addr < pa->base || (addr - pa->base) % PAGE_SIZE)
        return false;
    u64 i = (addr - pa->base) / PAGE_SIZE;
    if (n == 0 || i + n > pa->npages)
        return false;
    for (u32 j = 0; j < n; j++)
        if (!test(pa, (u32)i + j))
            return false;
    for (u32 j = 0; j < n; j++)
        set(pa, (u32)i + j, false);
    pa->used -= n;
    return true;
}
