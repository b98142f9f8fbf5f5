/* libFuzzer target: arbitrary bytes as a multiboot2 information structure.
 * mb2_parse must never read outside the `avail` bytes it is given (the input
 * is copied to a heap block of exactly that size, so ASan sees any overread),
 * and what it accepts must respect the limits of struct boot_info. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/multiboot2.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define PHYS 0x9000ull   /* 8-byte aligned, as mb2_parse requires */

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_string(const char *s, size_t size)
{
    check(strnlen(s, size) < size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *mbi = malloc(size ? size : 1);
    if (size)
        memcpy(mbi, data, size);

    static struct boot_info bi;
    char err[160];
    int r = mb2_parse(size ? mbi : NULL, size, PHYS, &bi, err, sizeof(err));
    check(r == 0 || r == -1);
    check_string(err, sizeof(err));

    if (r == 0) {
        check(err[0] == 0);
        check(bi.mbi_start == PHYS && bi.mbi_end > bi.mbi_start + 8 && bi.mbi_end <= PHYS + size);
        check(bi.mmap_count >= 1 && bi.mmap_count <= MB2_MAX_MMAP);
        for (uint32_t i = 0; i < bi.mmap_count; i++) {
            check(bi.mmap[i].len == 0 || bi.mmap[i].base + bi.mmap[i].len > bi.mmap[i].base);
            check(mb2_mem_type_name(bi.mmap[i].type) != NULL);
        }
        check(bi.module_count <= MB2_MAX_MODULES);
        check_string(bi.cmdline, sizeof(bi.cmdline));
        check_string(bi.loader, sizeof(bi.loader));
        check(bi.rsdp_rev <= 2);
        for (uint32_t i = 0; i < bi.module_count; i++) {
            const struct mb2_module *m = &bi.modules[i];
            check_string(m->name, sizeof(m->name));
            check_string(m->args, sizeof(m->args));
            check(m->start <= m->end);
            check(!strpbrk(m->name, " \t"));
            check(m->args[0] != ' ' && m->args[0] != '\t');
            const struct mb2_module *f = mb2_find_module(&bi, m->name);
            check(f != NULL && f <= m && !strcmp(f->name, m->name));
        }
        mb2_find_module(&bi, "guest");
    } else {
        check(err[0] != 0);
        /* no message buffer: still refused, and nothing written */
        check(mb2_parse(size ? mbi : NULL, size, PHYS, &bi, NULL, 0) == -1);
    }
    free(mbi);
    return 0;
}
