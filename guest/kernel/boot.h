/* testos: what the kernel learns from the multiboot2 information structure. */
#ifndef TESTOS_BOOT_H
#define TESTOS_BOOT_H
#include "kernel.h"

#define MBI_MAX    16384
#define MMAP_MAX   64
#define MEM_AVAILABLE 1

struct memrange {
    u64 base, len;
    u32 type;                    /* multiboot2 / e820 type: 1 = available RAM */
};

struct bootinfo {
    char cmdline[256];
    char loader[64];
    struct memrange mmap[MMAP_MAX];
    int nmmap;
    u8 rsdp[64];                 /* copy of the ACPI RSDP from tag 14 or 15 */
    size_t rsdp_len;
};

extern u8 mbi_copy[MBI_MAX];
extern struct bootinfo bootinfo;

/* Parses a copied information structure; on error returns false and fills err. */
bool mb2_parse(const u8 *mbi, size_t copied, size_t total, struct bootinfo *bi,
               char *err, size_t errlen);
/* Finds key=value in the command line; copies value to out. */
bool cmdline_get(const char *cmdline, const char *key, char *out, size_t outlen);
/* Marks [base, end) reserved in the map (the hide= test option). */
void mmap_hide(struct bootinfo *bi, u64 base, u64 end);
const char *memtype_name(u32 type);

#endif
