/* For fuzz targets that check a guest image against a machine: the boot
 * information they build (its memory map and modules), and the check that
 * ends the run when a contract is broken. Included by one target each. */
#ifndef VIGIL_FUZZ_BOOTINFO_H
#define VIGIL_FUZZ_BOOTINFO_H

#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/multiboot2.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static struct boot_info bi;

static void check(int ok)
{
    if (!ok)
        abort();
}

static void add_mmap(u64 base, u64 len, u32 type)
{
    bi.mmap[bi.mmap_count++] = (struct mb2_mmap_entry){ base, len, type };
}

static void add_module(u64 start, u64 end, const char *name)
{
    struct mb2_module *m = &bi.modules[bi.module_count++];
    m->start = start;
    m->end = end;
    strcpy(m->name, name);
}

#endif
