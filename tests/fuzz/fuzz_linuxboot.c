/* libFuzzer target: arbitrary bytes as a Linux bzImage for linux_parse, and
 * what it accepts through linux_plan, linux_e820 and linux_boot_pages on the
 * machine of tests/unit/test_linuxboot.c. The image is copied to a heap
 * block of exactly its size, so ASan sees any read past the end. The first
 * two bytes, when the image is long enough, are not part of the header: they
 * pick the command line's length and whether an initrd is given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/linuxboot.h"
#include "fuzz_bootinfo.h"

static const struct mem_range owned[] = {
    { 0x2000000, 0x2044000 },
    { 0x1ee00000, 0x1fe00000 },
};

static void machine(void)
{
    memset(&bi, 0, sizeof(bi));
    add_mmap(0, 0x9f000, MB2_MEM_AVAILABLE);
    add_mmap(0x9f000, 0x1000, MB2_MEM_RESERVED);
    add_mmap(0xe8000, 0x18000, MB2_MEM_RESERVED);
    add_mmap(0x100000, 0x1fef0000, MB2_MEM_AVAILABLE);
    add_mmap(0x1fff0000, 0x10000, 3);
    add_mmap(0xfffc0000, 0x40000, MB2_MEM_RESERVED);
    add_mmap(0x100000000ull, 0x40000000, MB2_MEM_AVAILABLE);
    add_module(0x2045000, 0x2820000, "guest");
    add_module(0x2820000, 0x2920123, "initrd");
    bi.rsdp_rev = 2;
    memcpy(bi.rsdp, "RSD PTR ", 8);
}

static bool clear(u64 s, u64 e)
{
    for (u32 i = 0; i < 2; i++)
        if (range_overlaps(s, e, owned[i].start, owned[i].end))
            return false;
    for (u32 i = 0; i < bi.module_count; i++)
        if (range_overlaps(s, e, bi.modules[i].start, bi.modules[i].end))
            return false;
    return s >= MiB(1) && e <= GiB(4) && memmap_is_ram(&bi, s, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        machine();
        ready = true;
    }
    u32 cl_len = 0;
    bool with_initrd = false;
    if (size > 0x300) {
        cl_len = data[size - 2] * 9;
        with_initrd = data[size - 1] & 1;
    }
    uint8_t *img = malloc(size ? size : 1);
    if (size)
        memcpy(img, data, size);
    struct linux_header h;
    char err[200];
    err[0] = 0;
    int r = linux_parse(img, size, &h, err, sizeof(err));
    check(r == 0 || r == -1);
    check(strnlen(err, sizeof(err)) < sizeof(err));
    check(linux_parse(img, size, &h, NULL, 0) == r);
    if (r) {
        check(!strncmp(err, "linux: ", 7));
        free(img);
        return 0;
    }
    check(err[0] == 0);
    check(h.version >= LINUX_PROTO_MIN);
    check(h.pm_offset + h.pm_size <= size);
    check(h.hdr_end <= h.setup_size && h.hdr_end <= 0x290);
    check(h.init_size >= h.pm_size);

    static char cmdline[9 * 256 + 1];
    memset(cmdline, 'c', cl_len);
    cmdline[cl_len] = 0;
    struct linux_plan p;
    const struct mb2_module *initrd = with_initrd ? mb2_find_module(&bi, "initrd") : NULL;
    r = linux_plan(&h, &bi, owned, 2, cmdline, initrd, &p, err, sizeof(err));
    if (r) {
        check(!strncmp(err, "linux: ", 7));
        free(img);
        return 0;
    }
    check(cl_len <= h.cmdline_size);
    check(clear(p.kernel, p.kernel + ALIGN_UP(h.init_size, 4096)));
    check(clear(p.boot, p.boot + p.boot_size));
    check(!range_overlaps(p.boot, p.boot + p.boot_size, p.kernel, p.kernel + h.init_size));
    check(!h.relocatable ? p.kernel == h.pref_address : (p.kernel % h.kernel_alignment == 0 || p.kernel == h.pref_address));
    check(p.cmdline + cl_len < p.boot + p.boot_size);
    if (initrd)
        check(p.initrd + p.initrd_size - 1 <= h.initrd_addr_max);

    struct mb2_mmap_entry e[LINUX_E820_MAX];
    u32 n = linux_e820(&bi, owned, 2, &p, e, LINUX_E820_MAX);
    check(n > 0);
    u8 *buf = malloc(p.boot_size);
    linux_boot_pages(buf, img, &h, &p, e, n, &bi, cmdline);
    check(buf[0x1ef] == 0 && buf[0x210] == LINUX_LOADER_TYPE && buf[0x1e8] == n);
    check(!strcmp((char *)buf + (p.cmdline - p.boot), cmdline));
    free(buf);
    free(img);
    return 0;
}
