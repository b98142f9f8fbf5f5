/* The Linux x86 boot protocol (Documentation/x86/boot.rst, zero-page.rst):
 * setup header, placement, zero page. Pure. */
#include "vmm/linuxboot.h"
#include "vmm/guestinfo.h"
#include "vmm/palloc.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static u16 r16(const u8 *p) { u16 v; memcpy(&v, p, 2); return v; }
static u32 r32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static u64 r64(const u8 *p) { u64 v; memcpy(&v, p, 8); return v; }
static void w8(u8 *p, u8 v) { *p = v; }
static void w32(u8 *p, u32 v) { memcpy(p, &v, 4); }
static void w64(u8 *p, u64 v) { memcpy(p, &v, 8); }

/* Setup-header offsets (boot.rst, "The real-mode kernel header"). */
enum {
    H_SETUP_SECTS = 0x1f1, H_SYSSIZE = 0x1f4, H_BOOT_FLAG = 0x1fe, H_JUMP = 0x200, H_MAGIC = 0x202,
    H_VERSION = 0x206, H_TYPE_OF_LOADER = 0x210, H_LOADFLAGS = 0x211, H_CODE32_START = 0x214,
    H_RAMDISK_IMAGE = 0x218, H_RAMDISK_SIZE = 0x21c, H_HEAP_END = 0x224, H_CMD_LINE_PTR = 0x228,
    H_INITRD_ADDR_MAX = 0x22c, H_KERNEL_ALIGNMENT = 0x230, H_RELOCATABLE = 0x234, H_XLOADFLAGS = 0x236,
    H_CMDLINE_SIZE = 0x238, H_HARDWARE_SUBARCH = 0x23c, H_SETUP_DATA = 0x250, H_PREF_ADDRESS = 0x258,
    H_INIT_SIZE = 0x260, H_MIN_END = 0x264,
};
/* Zero-page fields outside the setup header (zero-page.rst). */
enum {
    ZP_ACPI_RSDP = 0x070, ZP_EXT_RAMDISK_IMAGE = 0x0c0, ZP_EXT_RAMDISK_SIZE = 0x0c4, ZP_EXT_CMD_LINE_PTR = 0x0c8,
    ZP_ALT_MEM_K = 0x1e0, ZP_E820_ENTRIES = 0x1e8, ZP_SENTINEL = 0x1ef, ZP_EDD_MBR_SIG = 0x290,
    ZP_E820_TABLE = 0x2d0,
};
_Static_assert(ZP_E820_TABLE + LINUX_E820_MAX * 20 <= 0xd00, "e820_table ends where eddbuf begins");

/* Boot pages: the zero page, then the GDT, the RSDP copy, the command line. */
#define BP_GDT     LINUX_ZERO_PAGE
#define BP_RSDP    (LINUX_ZERO_PAGE + 64)
#define BP_CMDLINE (LINUX_ZERO_PAGE + 128)

bool linux_is_bzimage(const u8 *img, u64 len)
{
    return len >= H_MAGIC + 4 && !memcmp(img + H_MAGIC, "HdrS", 4);
}

int linux_parse(const u8 *img, u64 len, struct linux_header *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    if (!linux_is_bzimage(img, len))
        FAIL("linux: not a bzImage: no \"HdrS\" setup header signature at offset 0x202 (%llu bytes)",
             (unsigned long long)len);
    if (len < H_MIN_END)
        FAIL("linux: bzImage truncated: %llu bytes, the setup header alone needs 0x%x",
             (unsigned long long)len, H_MIN_END);
    h->version = r16(img + H_VERSION);
    if (h->version < LINUX_PROTO_MIN)
        FAIL("linux: boot protocol %u.%02u is too old: vigil needs %u.%02u or later", h->version >> 8,
             h->version & 0xff, LINUX_PROTO_MIN >> 8, LINUX_PROTO_MIN & 0xff);
    if (r16(img + H_BOOT_FLAG) != 0xaa55)
        FAIL("linux: boot_flag at 0x1fe is 0x%04x, not 0xaa55", r16(img + H_BOOT_FLAG));
    h->hdr_end = H_JUMP + 2 + img[H_JUMP + 1];
    if (img[H_JUMP] != 0xeb || h->hdr_end < H_MIN_END || h->hdr_end > ZP_EDD_MBR_SIG)
        FAIL("linux: the setup header ends at 0x%x (from the jump at 0x200), outside 0x%x-0x%x", h->hdr_end,
             H_MIN_END, ZP_EDD_MBR_SIG);
    u32 sects = img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4;
    h->setup_size = (sects + 1) * 512;
    if (h->setup_size < h->hdr_end)
        FAIL("linux: setup_sects %u leaves the setup header (to 0x%x) outside the %u-byte setup", sects,
             h->hdr_end, h->setup_size);
    h->loadflags = img[H_LOADFLAGS];
    if (!(h->loadflags & LINUX_LOADED_HIGH))
        FAIL("linux: loadflags 0x%02x: LOADED_HIGH is clear, a zImage loaded at 0x10000; vigil loads "
             "only bzImages", h->loadflags);
    h->xloadflags = r16(img + H_XLOADFLAGS);
    h->code32_start = r32(img + H_CODE32_START);
    h->initrd_addr_max = r32(img + H_INITRD_ADDR_MAX);
    h->kernel_alignment = r32(img + H_KERNEL_ALIGNMENT);
    h->relocatable = img[H_RELOCATABLE] != 0;
    h->cmdline_size = r32(img + H_CMDLINE_SIZE);
    h->pref_address = r64(img + H_PREF_ADDRESS);
    h->init_size = r32(img + H_INIT_SIZE);
    h->pm_offset = h->setup_size;
    if (len <= h->pm_offset)
        FAIL("linux: bzImage truncated: %llu bytes, nothing after the %u-byte setup", (unsigned long long)len,
             h->setup_size);
    h->pm_size = len - h->pm_offset;
    u64 syssize = (u64)r32(img + H_SYSSIZE) * 16;
    if (syssize > h->pm_size)
        FAIL("linux: bzImage truncated: syssize says the protected-mode kernel is %llu bytes, the file "
             "holds %llu after the setup", (unsigned long long)syssize, (unsigned long long)h->pm_size);
    if (syssize)
        h->pm_size = syssize;
    if (h->relocatable && (h->kernel_alignment < PAGE_SIZE || (h->kernel_alignment & (h->kernel_alignment - 1))))
        FAIL("linux: kernel_alignment 0x%x is not a power of two of at least 4 KiB", h->kernel_alignment);
    if (h->init_size < h->pm_size)
        FAIL("linux: init_size 0x%x is smaller than the protected-mode kernel (0x%llx bytes)", h->init_size,
             (unsigned long long)h->pm_size);
    if (h->pref_address < MiB(1) || h->pref_address + h->init_size > GiB(4))
        FAIL("linux: pref_address 0x%llx (init_size 0x%x) is not between 1 MiB and 4 GiB",
             (unsigned long long)h->pref_address, h->init_size);
    if (h->initrd_addr_max < MiB(1))
        FAIL("linux: initrd_addr_max 0x%x is below 1 MiB", h->initrd_addr_max);
    return 0;
}

static u32 avoid_list(const struct boot_info *bi, const struct mem_range *owned, u32 nowned,
                      struct mem_range *a, u32 max)
{
    u32 n = 0;
    a[n++] = (struct mem_range){ 0, MiB(1) };
    for (u32 i = 0; i < nowned && n < max; i++)
        a[n++] = owned[i];
    for (u32 i = 0; i < bi->module_count && n < max; i++)
        a[n++] = (struct mem_range){ ALIGN_DOWN(bi->modules[i].start, PAGE_SIZE),
                                     ALIGN_UP(bi->modules[i].end, PAGE_SIZE) };
    return n;
}

static bool clear_of(const struct mem_range *a, u32 n, u64 s, u64 e, u32 *which)
{
    for (u32 i = 0; i < n; i++)
        if (range_overlaps(s, e, a[i].start, a[i].end)) {
            *which = i;
            return false;
        }
    return true;
}

int linux_plan(const struct linux_header *h, const struct boot_info *bi, const struct mem_range *owned,
               u32 nowned, const char *cmdline, const struct mb2_module *initrd, struct linux_plan *p,
               char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    size_t cl = strlen(cmdline);
    if (cl > h->cmdline_size)
        FAIL("linux: the command line is %zu bytes; the kernel takes at most %u (cmdline_size)", cl,
             h->cmdline_size);
    if (nowned + bi->module_count + 2 > MEM_MAX_AVOID)
        FAIL("linux: %u modules and %u ranges of vigil's: more than vigil can place around (%d)",
             bi->module_count, nowned, MEM_MAX_AVOID);
    struct mem_range avoid[MEM_MAX_AVOID];
    u32 na = avoid_list(bi, owned, nowned, avoid, MEM_MAX_AVOID - 1);

    /* The kernel: at pref_address if that is free, else anywhere aligned
     * above it (boot.rst: a relocatable kernel may be loaded at any
     * kernel_alignment-aligned address; below pref_address the 64-bit
     * decompressor would move itself up to LOAD_PHYSICAL_ADDR anyway). */
    u64 pref = h->pref_address, size = ALIGN_UP(h->init_size, PAGE_SIZE);
    u32 which = 0;
    bool pref_ok = memmap_is_ram(bi, pref, pref + size) && clear_of(avoid, na, pref, pref + size, &which);
    if (pref_ok)
        p->kernel = pref;
    else if (!h->relocatable)
        FAIL("linux: the kernel is not relocatable and does not fit at 0x%llx-0x%llx (init_size): %s",
             (unsigned long long)pref, (unsigned long long)(pref + size),
             !memmap_is_ram(bi, pref, pref + size) ? "not all available RAM" :
             which == 0 ? "the first MiB" : which <= nowned ? "vigil's memory is there" : "a module is there");
    else if (!memmap_place(bi, avoid, na, size, h->kernel_alignment, pref, GiB(4), &p->kernel))
        FAIL("linux: the kernel does not fit: no %llu MiB of RAM (init_size 0x%x) aligned to 0x%x between "
             "0x%llx and 4 GiB clear of vigil and the modules", (unsigned long long)(size >> 20), h->init_size,
             h->kernel_alignment, (unsigned long long)pref);
    avoid[na++] = (struct mem_range){ p->kernel, p->kernel + size };

    p->boot_size = ALIGN_UP(BP_CMDLINE + cl + 1, PAGE_SIZE);
    if (!memmap_place(bi, avoid, na, p->boot_size, PAGE_SIZE, MiB(1), GiB(4), &p->boot))
        FAIL("linux: no %llu bytes of RAM below 4 GiB left for the zero page and command line",
             (unsigned long long)p->boot_size);
    p->zero_page = p->boot;
    p->gdt = p->boot + BP_GDT;
    p->rsdp = bi->rsdp_rev ? p->boot + BP_RSDP : 0;
    p->cmdline = p->boot + BP_CMDLINE;

    if (initrd) {
        u64 s = initrd->start, n = initrd->end - initrd->start;
        if (!n)
            FAIL("linux: module 'initrd' is empty");
        if (!memmap_is_ram(bi, s, initrd->end))
            FAIL("linux: module 'initrd' at 0x%llx-0x%llx is not in available RAM", (unsigned long long)s,
                 (unsigned long long)initrd->end);
        if (n - 1 > h->initrd_addr_max)
            FAIL("linux: the initrd does not fit: %llu bytes, and initrd_addr_max is 0x%x",
                 (unsigned long long)n, h->initrd_addr_max);
        if (initrd->end - 1 > h->initrd_addr_max)
            FAIL("linux: module 'initrd' at 0x%llx-0x%llx lies above initrd_addr_max 0x%x", (unsigned long long)s,
                 (unsigned long long)initrd->end, h->initrd_addr_max);
        p->initrd = s;
        p->initrd_size = n;
    }
    return 0;
}

u32 linux_e820(const struct boot_info *bi, const struct mem_range *owned, u32 nowned,
               const struct linux_plan *p, struct mb2_mmap_entry *out, u32 max)
{
    struct mem_range r[MEM_MAX_AVOID + MB2_MAX_MODULES];
    u32 n = 0;
    for (u32 i = 0; i < nowned && n < ARRAY_SIZE(r); i++)
        r[n++] = owned[i];
    for (u32 i = 0; i < bi->module_count && n < ARRAY_SIZE(r); i++)
        if (strcmp(bi->modules[i].name, "initrd"))
            r[n++] = (struct mem_range){ ALIGN_DOWN(bi->modules[i].start, PAGE_SIZE),
                                         ALIGN_UP(bi->modules[i].end, PAGE_SIZE) };
    if (n < ARRAY_SIZE(r))
        r[n++] = (struct mem_range){ p->boot, p->boot + p->boot_size };
    /* guest_mmap_build wants them sorted and disjoint. */
    for (u32 i = 1; i < n; i++) {
        struct mem_range t = r[i];
        u32 j = i;
        while (j > 0 && r[j - 1].start > t.start) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = t;
    }
    u32 m = 0;
    for (u32 i = 0; i < n; i++) {
        if (r[i].end <= r[i].start)
            continue;
        if (m && r[i].start <= r[m - 1].end) {
            if (r[i].end > r[m - 1].end)
                r[m - 1].end = r[i].end;
        } else {
            r[m++] = r[i];
        }
    }
    return guest_mmap_build(bi, r, m, out, max);
}

void linux_boot_pages(u8 *buf, const u8 *img, const struct linux_header *h, const struct linux_plan *p,
                      const struct mb2_mmap_entry *e820, u32 ne820, const struct boot_info *bi,
                      const char *cmdline)
{
    memset(buf, 0, p->boot_size);
    u8 *zp = buf;
    /* boot.rst, "32-bit boot protocol": zero the page, copy the setup
     * header from 0x1f1 to its end, then fill in the loader's fields. */
    memcpy(zp + H_SETUP_SECTS, img + H_SETUP_SECTS, h->hdr_end - H_SETUP_SECTS);
    w8(zp + ZP_SENTINEL, 0);
    w8(zp + H_TYPE_OF_LOADER, LINUX_LOADER_TYPE);
    /* No real-mode setup code runs, so no heap for it. */
    w8(zp + H_LOADFLAGS, (u8)(h->loadflags & ~LINUX_CAN_USE_HEAP));
    zp[H_HEAP_END] = zp[H_HEAP_END + 1] = 0;
    w32(zp + H_CODE32_START, (u32)p->kernel);
    w32(zp + H_RAMDISK_IMAGE, (u32)p->initrd);
    w32(zp + H_RAMDISK_SIZE, (u32)p->initrd_size);
    w32(zp + ZP_EXT_RAMDISK_IMAGE, (u32)(p->initrd >> 32));
    w32(zp + ZP_EXT_RAMDISK_SIZE, (u32)(p->initrd_size >> 32));
    w32(zp + H_CMD_LINE_PTR, (u32)p->cmdline);
    w32(zp + ZP_EXT_CMD_LINE_PTR, (u32)(p->cmdline >> 32));
    w32(zp + H_HARDWARE_SUBARCH, 0);
    w64(zp + H_SETUP_DATA, 0);
    w64(zp + ZP_ACPI_RSDP, p->rsdp);
    u32 lo, up;
    guest_meminfo(e820, ne820, &lo, &up);
    w32(zp + ZP_ALT_MEM_K, up);
    u32 n = ne820 < LINUX_E820_MAX ? ne820 : LINUX_E820_MAX;
    w8(zp + ZP_E820_ENTRIES, (u8)n);
    for (u32 i = 0; i < n; i++) {
        u8 *e = zp + ZP_E820_TABLE + 20 * i;
        w64(e, e820[i].base);
        w64(e + 8, e820[i].len);
        w32(e + 16, e820[i].type);
    }
    /* boot.rst: a GDT with flat 4 GiB __BOOT_CS (0x10, execute/read) and
     * __BOOT_DS (0x18, read/write). */
    w64(buf + BP_GDT + 16, 0x00cf9b000000ffffull);
    w64(buf + BP_GDT + 24, 0x00cf93000000ffffull);
    if (p->rsdp)
        memcpy(buf + BP_RSDP, bi->rsdp, bi->rsdp_rev == 1 ? 20 : 36);
    memcpy(buf + BP_CMDLINE, cmdline, strlen(cmdline) + 1);
}
