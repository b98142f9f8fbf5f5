/* Multiboot2 boot information: a bounds-checked parser into vigil's own
 * structure (multiboot2 spec, 3.6 "Boot information format"). Pure: it reads
 * only the bytes it is given and is unit-tested and fuzzed on the host. */
#ifndef VIGIL_ARCH_MULTIBOOT2_H
#define VIGIL_ARCH_MULTIBOOT2_H

#include "lib/types.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_INFO_MAX_SIZE    (1u << 20)   /* larger than any sane loader writes */
#define MB2_MAX_MMAP         128
#define MB2_MAX_MODULES      16
#define MB2_CMDLINE_MAX      256
#define MB2_NAME_MAX         16

enum mb2_mem_type {
    MB2_MEM_AVAILABLE = 1,
    MB2_MEM_RESERVED = 2,
    MB2_MEM_ACPI_RECLAIMABLE = 3,
    MB2_MEM_NVS = 4,
    MB2_MEM_BADRAM = 5,
};

struct mb2_mmap_entry {
    u64 base;
    u64 len;
    u32 type;
};

struct mb2_module {
    u64 start;                     /* physical, inclusive */
    u64 end;                       /* physical, exclusive */
    char name[MB2_NAME_MAX];       /* first word of the module's command line */
    char args[MB2_CMDLINE_MAX];    /* the rest, leading blanks removed */
};

struct boot_info {
    u64 mbi_start, mbi_end;        /* the information structure itself */
    char cmdline[MB2_CMDLINE_MAX];
    char loader[64];
    bool has_meminfo;
    u32 mem_lower_kb, mem_upper_kb;
    u32 mmap_count;
    struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
    u32 module_count;
    struct mb2_module modules[MB2_MAX_MODULES];
    u8 rsdp_rev;                   /* 0 = none, 1 = ACPI 1.0 RSDP, 2 = ACPI 2.0+ */
    u8 rsdp[36];                   /* copy of the RSDP the loader passed */
};

/* Parse `avail` bytes at `mbi` (the structure's physical address is
 * `mbi_phys`, for messages and for bi->mbi_start/end). Returns 0, or -1 with a
 * message naming the offset, tag and field that were wrong in err. */
int mb2_parse(const void *mbi, size_t avail, u64 mbi_phys, struct boot_info *bi,
              char *err, size_t errlen);

/* The module whose name is `name`, or NULL. */
const struct mb2_module *mb2_find_module(const struct boot_info *bi, const char *name);

const char *mb2_mem_type_name(u32 type);

#endif
