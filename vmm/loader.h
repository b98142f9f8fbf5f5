/* Guest kernel images: ELF32/ELF64 files carrying a multiboot2 or multiboot1
 * header. loader_check validates everything about an untrusted image before a
 * byte of it is copied: a bad image gets a message naming what is wrong. */
#ifndef VIGIL_VMM_LOADER_H
#define VIGIL_VMM_LOADER_H

#include "lib/types.h"
#include "arch/x86_64/multiboot2.h"
#include "vmm/memmap.h"

#define LOADER_MAX_SEGS 16

enum guest_boot { GUEST_BOOT_MB1 = 1, GUEST_BOOT_MB2 = 2 };

struct guest_segment {
    u64 paddr, memsz;      /* where it goes */
    u64 offset, filesz;    /* what of the file fills it; the rest is zeroed */
};

struct guest_image {
    enum guest_boot boot;
    u32 elf_class;         /* 32 or 64 */
    u64 entry;             /* physical */
    u32 nseg;
    struct guest_segment seg[LOADER_MAX_SEGS];
};

/* img/len: the file. Segments must lie in available RAM of bi's map, clear of
 * every module (the image's own bytes included) and of owned[]. */
int loader_check(const u8 *img, u64 len, const struct boot_info *bi, const struct mem_range *owned,
                 u32 nowned, struct guest_image *out, char *err, size_t errlen);

#endif
