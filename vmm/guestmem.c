#include "vmm/guestmem.h"
#include "vmm/hvmem.h"
#include "vmm/memmap.h"
#include "lib/string.h"

static const struct boot_info *boot;

void guestmem_init(const struct boot_info *bi) { boot = bi; }

bool guestmem_is_guest_ram(u64 gpa, u64 len)
{
    if (!boot || len == 0 || len > GUESTMEM_MAX_READ || gpa + len < gpa || gpa + len > GiB(4))
        return false;
    return memmap_is_ram(boot, gpa, gpa + len) && !hvmem_overlaps_owned(gpa, gpa + len);
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
