/* Linux guests: the x86 boot protocol (the kernel's
 * Documentation/x86/boot.rst). linux_parse reads and checks a bzImage's
 * setup header; linux_plan chooses where the kernel, the zero page and the
 * command line go; linux_zero_page builds struct boot_params. Pure: nothing
 * here touches the machine, and every check names what was wrong. */
#ifndef VIGIL_VMM_LINUXBOOT_H
#define VIGIL_VMM_LINUXBOOT_H

#include "lib/types.h"
#include "arch/x86_64/multiboot2.h"
#include "vmm/memmap.h"

#define LINUX_PROTO_MIN     0x020c   /* 2.12: xloadflags, 64-bit-capable headers */
#define LINUX_ZERO_PAGE     4096
#define LINUX_E820_MAX      128      /* e820_table in the zero page */
#define LINUX_LOADER_TYPE   0xff     /* "undefined": vigil has no assigned id */

/* loadflags (0x211) and xloadflags (0x236) bits vigil reads. */
#define LINUX_LOADED_HIGH   0x01
#define LINUX_CAN_USE_HEAP  0x80
#define LINUX_XLF_KERNEL_64 0x01

struct linux_header {
    u16 version;            /* boot protocol, 0x020f = 2.15 */
    u32 setup_size;         /* real-mode part: (setup_sects + 1) * 512 bytes */
    u64 pm_offset, pm_size; /* the protected-mode kernel within the file */
    u32 hdr_end;            /* 0x202 + the byte at 0x201: the setup header's end */
    u8 loadflags;
    u16 xloadflags;
    bool relocatable;
    u32 kernel_alignment;
    u64 pref_address;
    u32 init_size;          /* bytes from the load address the kernel uses to boot */
    u32 code32_start;
    u32 initrd_addr_max;    /* highest address the initrd's last byte may have */
    u32 cmdline_size;       /* longest command line, without its NUL */
};

/* Does the file carry a Linux setup header ("HdrS" at 0x202)? */
bool linux_is_bzimage(const u8 *img, u64 len);

/* Read and check the setup header of an untrusted image of len bytes.
 * 0, or -1 with a message ("linux: ...") in err. */
int linux_parse(const u8 *img, u64 len, struct linux_header *h, char *err, size_t errlen);

/* Where things go in guest-physical memory. */
struct linux_plan {
    u64 kernel;             /* the protected-mode kernel; also its 32-bit entry */
    u64 boot;               /* the boot pages: zero page, GDT, RSDP copy, command line */
    u64 boot_size;
    u64 zero_page, gdt, rsdp, cmdline;
    u64 initrd, initrd_size;   /* in place, where the loader put module `initrd` (0: none) */
};

/* Choose the load address (pref_address if free, else, if relocatable, the
 * highest kernel_alignment-aligned range of init_size bytes above
 * pref_address and below 4 GiB) and the boot pages, clear of vigil's ranges
 * (owned), every module and the first MiB; check the command line against
 * cmdline_size and the initrd against initrd_addr_max. */
int linux_plan(const struct linux_header *h, const struct boot_info *bi, const struct mem_range *owned,
               u32 nowned, const char *cmdline, const struct mb2_module *initrd, struct linux_plan *p,
               char *err, size_t errlen);

/* The guest's e820 map: the host's map with vigil's ranges, every module
 * but the initrd (Linux reserves that itself, and frees it once unpacked)
 * and the boot pages reserved. Returns the entry count, 0 if more than max. */
u32 linux_e820(const struct boot_info *bi, const struct mem_range *owned, u32 nowned,
               const struct linux_plan *p, struct mb2_mmap_entry *out, u32 max);

/* Fill the boot pages (p->boot_size bytes at buf, which will sit at
 * p->boot): the zero page with the image's setup header and vigil's
 * fields, a flat GDT (0x10 code, 0x18 data), the RSDP copy, the command line. */
void linux_boot_pages(u8 *buf, const u8 *img, const struct linux_header *h, const struct linux_plan *p,
                      const struct mb2_mmap_entry *e820, u32 ne820, const struct boot_info *bi,
                      const char *cmdline);

#endif
