/* libFuzzer target: arbitrary bytes as a guest kernel image for loader_check.
 * The image is copied to a heap block of exactly its size, so ASan sees any
 * read past the end; what loader_check accepts must satisfy its contract
 * (vmm/loader.h): every segment inside the file, in available RAM, clear of
 * vigil's ranges, of every module and of the other segments, and the entry
 * inside a segment below 4 GiB. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/loader.h"
#include "fuzz_bootinfo.h"

static const struct mem_range owned[] = {
    { 0x2000000, 0x2030000 },
    { 0x1ee00000, 0x1fe00000 },
};

/* The machine of tests/unit/test_loader.c, with 1 GiB of RAM above 4 GiB
 * so that segments there (and entries at or above 4 GiB) can be reached. */
static void machine(void)
{
    memset(&bi, 0, sizeof(bi));
    add_mmap(0, 0x9f000, MB2_MEM_AVAILABLE);
    add_mmap(0x9f000, 0x61000, MB2_MEM_RESERVED);
    add_mmap(0x100000, 0x1ff00000, MB2_MEM_AVAILABLE);
    add_mmap(0x20000000, 0xdec00000, MB2_MEM_RESERVED);
    add_mmap(0xfec00000, 0x1400000, MB2_MEM_RESERVED);
    add_mmap(0x100000000ull, 0x40000000, MB2_MEM_AVAILABLE);
    add_module(0x3000000, 0x3002000, "guest");
    add_module(0x3100000, 0x3101000, "policy");
    add_module(0x4000000, 0x4800000, "initrd");
}

static void check_accepted(const struct guest_image *g, size_t size)
{
    check(g->boot == GUEST_BOOT_MB1 || g->boot == GUEST_BOOT_MB2);
    check(g->elf_class == 32 || g->elf_class == 64);
    check(g->nseg >= 1 && g->nseg <= LOADER_MAX_SEGS);
    bool entry_in = false;
    for (u32 i = 0; i < g->nseg; i++) {
        const struct guest_segment *s = &g->seg[i];
        u64 end = s->paddr + s->memsz;
        check(s->memsz > 0 && end > s->paddr);
        check(s->filesz <= s->memsz);
        check(s->offset <= size && s->filesz <= size - s->offset);
        check(memmap_is_ram(&bi, s->paddr, end));
        for (u32 j = 0; j < ARRAY_SIZE(owned); j++)
            check(!range_overlaps(s->paddr, end, owned[j].start, owned[j].end));
        for (u32 j = 0; j < bi.module_count; j++)
            check(!range_overlaps(s->paddr, end, bi.modules[j].start, bi.modules[j].end));
        for (u32 j = 0; j < i; j++)
            check(!range_overlaps(s->paddr, end, g->seg[j].paddr, g->seg[j].paddr + g->seg[j].memsz));
        if (g->entry >= s->paddr && g->entry < end)
            entry_in = true;
    }
    check(entry_in);
    check(g->entry < GiB(4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        machine();
        ready = true;
    }
    uint8_t *img = malloc(size ? size : 1);
    if (size)
        memcpy(img, data, size);

    static struct guest_image g;
    char err[200];
    err[0] = 0;
    int r = loader_check(img, size, &bi, owned, ARRAY_SIZE(owned), &g, err, sizeof(err));
    check(r == 0 || r == -1);
    check(strnlen(err, sizeof(err)) < sizeof(err));
    if (r == 0) {
        check(err[0] == 0);                        /* nothing written on success */
        check_accepted(&g, size);
    } else {
        check(!strncmp(err, "guest: ", 7));
    }

    /* the same verdict with no room for a message, and with a tiny one */
    static struct guest_image g2;
    check(loader_check(img, size, &bi, owned, ARRAY_SIZE(owned), &g2, NULL, 0) == r);
    char tiny[4];
    memset(tiny, 'Q', sizeof(tiny));
    check(loader_check(img, size, &bi, owned, ARRAY_SIZE(owned), &g2, tiny, sizeof(tiny)) == r);
    if (r)
        check(!strcmp(tiny, "gue"));
    else
        check(g2.entry == g.entry && g2.nseg == g.nseg);
    free(img);
    return 0;
}
