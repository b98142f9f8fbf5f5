#include "vmm/hvmem.h"
#include "vmm/palloc.h"
#include "arch/x86_64/trap.h"
#include "lib/log.h"
#include "lib/string.h"

extern char __vigil_start[], __vigil_end[];

static struct palloc pool;
static struct mem_range owned[HV_OWNED_MAX];
static u32 owned_count;

/* The pool is placed below 4 GiB (what the boot page tables map), above the
 * first MiB (firmware data, real-mode IVT/BDA/EBDA, option ROMs), clear of the
 * loader's information structure and of every module. Placed from the top of
 * RAM down, so that the guest keeps low memory in one piece. */
void hvmem_init(const struct boot_info *bi)
{
    struct mem_range avoid[MEM_MAX_AVOID];
    u32 n = 0;
    avoid[n++] = (struct mem_range){ 0, MiB(1) };
    avoid[n++] = (struct mem_range){ (u64)__vigil_start, (u64)__vigil_end };
    avoid[n++] = (struct mem_range){ ALIGN_DOWN(bi->mbi_start, PAGE_SIZE), ALIGN_UP(bi->mbi_end, PAGE_SIZE) };
    for (u32 i = 0; i < bi->module_count && n < MEM_MAX_AVOID; i++)
        avoid[n++] = (struct mem_range){ ALIGN_DOWN(bi->modules[i].start, PAGE_SIZE),
                                         ALIGN_UP(bi->modules[i].end, PAGE_SIZE) };

    if (!memmap_is_ram(bi, (u64)__vigil_start, (u64)__vigil_end))
        vigil_panic("vigil's image 0x%llx-0x%llx is not in available RAM of the memory map",
                    (unsigned long long)(u64)__vigil_start, (unsigned long long)(u64)__vigil_end);

    u64 base = 0, size;
    for (size = MiB(16); size >= MiB(4); size /= 2)
        if (memmap_place(bi, avoid, n, size, MiB(2), MiB(1), GiB(4), &base))
            break;
    if (size < MiB(4))
        vigil_panic("no room for vigil's 4 MiB page pool in RAM below 4 GiB (clear of modules)");
    if (!palloc_init(&pool, base, (u32)(size / PAGE_SIZE)))
        vigil_panic("page pool at 0x%llx: bad geometry", (unsigned long long)base);

    owned[0] = (struct mem_range){ (u64)__vigil_start, (u64)__vigil_end };
    owned[1] = (struct mem_range){ base, base + size };
    owned_count = 2;
    if (owned[1].start < owned[0].start) {
        struct mem_range t = owned[0];
        owned[0] = owned[1];
        owned[1] = t;
    }
    kprintf("vigil: hypervisor memory (hidden from the guest):\n");
    kprintf("  0x%016llx-0x%016llx  image (%llu KiB)\n", (unsigned long long)(u64)__vigil_start,
            (unsigned long long)(u64)__vigil_end,
            (unsigned long long)((u64)(__vigil_end - __vigil_start) >> 10));
    kprintf("  0x%016llx-0x%016llx  page pool (%llu MiB)\n", (unsigned long long)base,
            (unsigned long long)(base + size), (unsigned long long)(size >> 20));
}

void *hv_alloc_pages(u32 n, u32 align_pages)
{
    u64 p = palloc_alloc(&pool, n, align_pages);
    if (!p)
        vigil_panic("hypervisor page pool exhausted (%u of %u pages used, wanted %u)", pool.used, pool.npages, n);
    memset((void *)p, 0, (size_t)n * PAGE_SIZE);
    return (void *)p;
}

u32 hvmem_owned(const struct mem_range **ranges)
{
    *ranges = owned;
    return owned_count;
}

bool hvmem_overlaps_owned(u64 start, u64 end)
{
    for (u32 i = 0; i < owned_count; i++)
        if (range_overlaps(start, end, owned[i].start, owned[i].end))
            return true;
    return false;
}

void hvmem_stats(u32 *used_pages, u32 *total_pages)
{
    *used_pages = pool.used;
    *total_pages = pool.npages;
}
