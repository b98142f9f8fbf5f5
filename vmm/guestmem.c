#include "vmm/guestmem.h"
#include "vmm/hvmem.h"
#include "vmm/memmap.h"
#include "lib/string.h"

static const struct boot_info *boot;

/* Guest RAM as a short list (the memory map less vigil's ranges, below
 * 4 GiB), made once: the IDS asks for every table and structure it reads,
 * and a look here is a few compares where the map and vigil's ranges took a
 * hundred instructions. nram < 0: too many pieces, the map is asked. */
#define GUESTMEM_RANGES 64
static struct mem_range ram[GUESTMEM_RANGES];
static int nram = -1;
static u32 last_hit;

void guestmem_init(const struct boot_info *bi)
{
    boot = bi;
    const struct mem_range *own;
    u32 n = hvmem_owned(&own);
    nram = memmap_ram_ranges(bi, own, n, GiB(4), ram, GUESTMEM_RANGES);
}

bool guestmem_is_guest_ram(u64 gpa, u64 len)
{
    if (!boot || len == 0 || len > GUESTMEM_MAX_READ || gpa + len < gpa || gpa + len > GiB(4))
        return false;
    if (nram < 0)
        return memmap_is_ram(boot, gpa, gpa + len) && !hvmem_overlaps_owned(gpa, gpa + len);
    u32 h = last_hit;                        /* (vCPUs may each set it: read once) */
    if (h < (u32)nram && gpa >= ram[h].start && gpa + len <= ram[h].end)
        return true;
    for (u32 i = 0; i < (u32)nram; i++)
        if (gpa >= ram[i].start && gpa < ram[i].end) {
            last_hit = i;
            return gpa + len <= ram[i].end;
        }
    return false;
}

const void *guestmem_map(u64 gpa, u64 len)
{
    return guestmem_is_guest_ram(gpa, len) ? (const void *)gpa : 0;
}

bool guestmem_read(u64 gpa, void *buf, u64 len)
{
    if (!guestmem_is_guest_ram(gpa, len))
        return false;
    memcpy(buf, (const void *)gpa, len);
    return true;
}

bool guestmem_write(u64 gpa, const void *buf, u64 len)
{
    if (!guestmem_is_guest_ram(gpa, len))
        return false;
    memcpy((void *)gpa, buf, len);
    return true;
}
