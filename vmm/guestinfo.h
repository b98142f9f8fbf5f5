/* The boot information vigil hands its guest, built as a multiboot2 or
 * multiboot1 loader would: the guest's command line, a memory map in which
 * vigil's ranges are reserved, the modules passed on (an initrd), ACPI RSDP.
 * Pure: builds into a buffer whose guest-physical address is given. */
#ifndef VIGIL_VMM_GUESTINFO_H
#define VIGIL_VMM_GUESTINFO_H

#include "lib/types.h"
#include "arch/x86_64/multiboot2.h"
#include "vmm/memmap.h"

#define GUEST_MMAP_MAX (MB2_MAX_MMAP + 8)

struct guest_boot_params {
    const char *cmdline;
    const char *loader;
    const struct mb2_mmap_entry *mmap;
    u32 nmmap;
    const struct mb2_module *const *modules;   /* passed on, with "name args" as command line */
    u32 nmodules;
    const struct boot_info *bi;                /* RSDP copy */
};

/* The host map with each owned range cut out of available RAM and listed
 * as reserved; sorted by address. Returns the entry count (0: no room). */
u32 guest_mmap_build(const struct boot_info *bi, const struct mem_range *owned, u32 nowned,
                     struct mb2_mmap_entry *out, u32 max);

/* mem_lower/mem_upper in KiB (conventional memory, and contiguous RAM from
 * 1 MiB up) as both multiboot versions report them. */
void guest_meminfo(const struct mb2_mmap_entry *mmap, u32 n, u32 *lower_kb, u32 *upper_kb);

/* Returns the size used, or 0 when size is too small. */
size_t guest_mb2_info(u8 *buf, size_t size, const struct guest_boot_params *p);
size_t guest_mb1_info(u8 *buf, size_t size, u32 buf_phys, const struct guest_boot_params *p);

#endif
