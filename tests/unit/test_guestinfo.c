/* Unit tests for vmm/guestinfo.c: the memory map vigil gives its guest
 * (guest_mmap_build), mem_lower/mem_upper (guest_meminfo), and the boot
 * information structures for multiboot2 guests (guest_mb2_info, read back
 * with vigil's own mb2_parse) and multiboot1 guests (guest_mb1_info, read
 * by hand against multiboot spec 3.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/guestinfo.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define AVAIL MB2_MEM_AVAILABLE
#define RESV  MB2_MEM_RESERVED

static struct boot_info bi;

static void map(const struct mb2_mmap_entry *e, u32 n)
{
    memset(&bi, 0, sizeof(bi));
    for (u32 i = 0; i < n; i++)
        bi.mmap[i] = e[i];
    bi.mmap_count = n;
}
#define MAP(...) do { \
        static const struct mb2_mmap_entry e_[] = { __VA_ARGS__ }; \
        map(e_, ARRAY_SIZE(e_)); \
    } while (0)

/* The usual machine: low RAM, EBDA/ROM hole, RAM 1 MiB - 512 MiB, reserved above. */
static void machine_map(void)
{
    MAP({ 0, 0x9f000, AVAIL },
        { 0x9f000, 0x61000, RESV },
        { 0x100000, 0x1ff00000, AVAIL },
        { 0x20000000, 0xdec00000, RESV },
        { 0xfec00000, 0x1400000, RESV });
}

static const struct mem_range owned[] = {
    { 0x2000000, 0x2030000 },
    { 0x1ee00000, 0x1fe00000 },
};

static void assert_entry_(const struct mb2_mmap_entry *e, u64 base, u64 len, u32 type,
                          const char *file, int line)
{
    if (e->base != base || e->len != len || e->type != type) {
        print_error("entry {0x%llx, 0x%llx, %u}, expected {0x%llx, 0x%llx, %u}\n",
                    (unsigned long long)e->base, (unsigned long long)e->len, e->type,
                    (unsigned long long)base, (unsigned long long)len, type);
        _fail(file, line);
    }
}
#define assert_entry(e, base, len, type) assert_entry_((e), (base), (len), (type), __FILE__, __LINE__)

/* ---- guest_mmap_build ---- */

static struct mb2_mmap_entry gm[GUEST_MMAP_MAX];

static void test_mmap_cuts_owned_ranges_out_as_reserved(void **state)
{
    (void)state;
    machine_map();
    u32 n = guest_mmap_build(&bi, owned, 2, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 9);
    assert_entry(&gm[0], 0, 0x9f000, AVAIL);
    assert_entry(&gm[1], 0x9f000, 0x61000, RESV);
    assert_entry(&gm[2], 0x100000, 0x1f00000, AVAIL);
    assert_entry(&gm[3], 0x2000000, 0x30000, RESV);
    assert_entry(&gm[4], 0x2030000, 0x1ee00000 - 0x2030000, AVAIL);
    assert_entry(&gm[5], 0x1ee00000, 0x1000000, RESV);
    assert_entry(&gm[6], 0x1fe00000, 0x200000, AVAIL);
    assert_entry(&gm[7], 0x20000000, 0xdec00000, RESV);
    assert_entry(&gm[8], 0xfec00000, 0x1400000, RESV);
}

static void test_mmap_without_owned_ranges_is_a_copy(void **state)
{
    (void)state;
    machine_map();
    u32 n = guest_mmap_build(&bi, NULL, 0, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, bi.mmap_count);
    for (u32 i = 0; i < n; i++)
        assert_entry(&gm[i], bi.mmap[i].base, bi.mmap[i].len, bi.mmap[i].type);
}

/* A UEFI machine's map as GRUB gives it: the firmware's runtime code
 * (GRUB's type 20) is reserved to the guest; persistent memory (7, 12)
 * and the five standard types are passed as they are. */
static void test_mmap_efi_types(void **state)
{
    (void)state;
    MAP({ 0, 0xa0000, AVAIL },
        { 0x100000, 0x1ee00000, AVAIL },
        { 0x1f9ec000, 0x100000, 20 },
        { 0x1fb6c000, 0x12000, MB2_MEM_ACPI_RECLAIMABLE },
        { 0x1fb7e000, 0x80000, MB2_MEM_NVS },
        { 0x40000000, 0x10000000, 7 },
        { 0x50000000, 0x1000, 12 },
        { 0x60000000, 0x1000, 99 });
    u32 n = guest_mmap_build(&bi, NULL, 0, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 8);
    assert_entry(&gm[2], 0x1f9ec000, 0x100000, RESV);
    assert_entry(&gm[3], 0x1fb6c000, 0x12000, MB2_MEM_ACPI_RECLAIMABLE);
    assert_entry(&gm[4], 0x1fb7e000, 0x80000, MB2_MEM_NVS);
    assert_entry(&gm[5], 0x40000000, 0x10000000, 7);
    assert_entry(&gm[6], 0x50000000, 0x1000, 12);
    assert_entry(&gm[7], 0x60000000, 0x1000, RESV);
}

static void test_mmap_is_sorted_by_base(void **state)
{
    (void)state;
    MAP({ 0xfec00000, 0x1400000, RESV },
        { 0x100000, 0x1ff00000, AVAIL },
        { 0x9f000, 0x61000, RESV },
        { 0x20000000, 0xdec00000, RESV },
        { 0, 0x9f000, AVAIL });
    u32 n = guest_mmap_build(&bi, owned, 2, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 9);
    for (u32 i = 1; i < n; i++)
        assert_true(gm[i - 1].base < gm[i].base);
    assert_entry(&gm[0], 0, 0x9f000, AVAIL);
    assert_entry(&gm[3], 0x2000000, 0x30000, RESV);
    assert_entry(&gm[5], 0x1ee00000, 0x1000000, RESV);
    assert_entry(&gm[8], 0xfec00000, 0x1400000, RESV);
}

static void test_mmap_owned_range_spanning_two_entries(void **state)
{
    (void)state;
    MAP({ 0x100000, 0xf00000, AVAIL },             /* 1 MiB - 16 MiB */
        { 0x1000000, 0x1000000, AVAIL });          /* 16 MiB - 32 MiB */
    const struct mem_range o[] = { { 0xf00000, 0x1100000 } };
    u32 n = guest_mmap_build(&bi, o, 1, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 4);
    assert_entry(&gm[0], 0x100000, 0xe00000, AVAIL);
    assert_entry(&gm[1], 0xf00000, 0x100000, RESV);
    assert_entry(&gm[2], 0x1000000, 0x100000, RESV);
    assert_entry(&gm[3], 0x1100000, 0xf00000, AVAIL);
}

static void test_mmap_owned_range_over_available_and_reserved(void **state)
{
    (void)state;
    MAP({ 0x100000, 0xf00000, AVAIL },
        { 0x1000000, 0x100000, MB2_MEM_NVS });
    const struct mem_range o[] = { { 0xf80000, 0x1080000 } };
    u32 n = guest_mmap_build(&bi, o, 1, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 3);
    assert_entry(&gm[0], 0x100000, 0xe80000, AVAIL);
    assert_entry(&gm[1], 0xf80000, 0x80000, RESV);
    assert_entry(&gm[2], 0x1000000, 0x100000, MB2_MEM_NVS);   /* kept as it was */
}

static void test_mmap_owned_range_at_edges_leaves_no_empty_entry(void **state)
{
    (void)state;
    MAP({ 0x100000, 0xf00000, AVAIL },
        { 0x1000000, 0x1000000, AVAIL });
    const struct mem_range o[] = {
        { 0x100000, 0x200000 },                    /* the start of the first */
        { 0x1000000, 0x2000000 },                  /* all of the second */
    };
    u32 n = guest_mmap_build(&bi, o, 2, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 3);
    assert_entry(&gm[0], 0x100000, 0x100000, RESV);
    assert_entry(&gm[1], 0x200000, 0xe00000, AVAIL);
    assert_entry(&gm[2], 0x1000000, 0x1000000, RESV);
    for (u32 i = 0; i < n; i++)
        assert_true(gm[i].len != 0);
}

static void test_mmap_two_owned_ranges_in_one_entry(void **state)
{
    (void)state;
    MAP({ 0x100000, 0x1ff00000, AVAIL });
    u32 n = guest_mmap_build(&bi, owned, 2, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 5);
    assert_entry(&gm[0], 0x100000, 0x1f00000, AVAIL);
    assert_entry(&gm[1], 0x2000000, 0x30000, RESV);
    assert_entry(&gm[2], 0x2030000, 0x1cdd0000, AVAIL);
    assert_entry(&gm[3], 0x1ee00000, 0x1000000, RESV);
    assert_entry(&gm[4], 0x1fe00000, 0x200000, AVAIL);
}

static void test_mmap_owned_range_outside_ram_changes_nothing(void **state)
{
    (void)state;
    MAP({ 0x100000, 0xf00000, AVAIL },
        { 0xfec00000, 0x1400000, RESV });
    const struct mem_range o[] = { { 0xfee00000, 0xfee01000 } };
    u32 n = guest_mmap_build(&bi, o, 1, gm, GUEST_MMAP_MAX);
    assert_int_equal(n, 2);
    assert_entry(&gm[0], 0x100000, 0xf00000, AVAIL);
    assert_entry(&gm[1], 0xfec00000, 0x1400000, RESV);
}

static void test_mmap_max_too_small_returns_0(void **state)
{
    (void)state;
    machine_map();
    assert_int_equal(guest_mmap_build(&bi, owned, 2, gm, 9), 9);
    for (u32 max = 0; max < 9; max++) {
        struct mb2_mmap_entry *small = malloc(sizeof(*small) * (max ? max : 1));
        assert_non_null(small);
        assert_int_equal(guest_mmap_build(&bi, owned, 2, small, max), 0);
        free(small);
    }
}

static void test_mmap_of_empty_map_is_empty(void **state)
{
    (void)state;
    map(NULL, 0);
    assert_int_equal(guest_mmap_build(&bi, owned, 2, gm, GUEST_MMAP_MAX), 0);
}

/* ---- guest_meminfo ---- */

static void meminfo(const struct mb2_mmap_entry *m, u32 n, u32 *lo, u32 *up)
{
    *lo = *up = 0xdeadbeef;
    guest_meminfo(m, n, lo, up);
}

static void test_meminfo_of_the_guest_map_stops_at_vigil(void **state)
{
    (void)state;
    machine_map();
    u32 n = guest_mmap_build(&bi, owned, 2, gm, GUEST_MMAP_MAX);
    u32 lo, up;
    meminfo(gm, n, &lo, &up);
    assert_int_equal(lo, 0x9f000 >> 10);                 /* 636 KiB */
    assert_int_equal(up, (0x2000000 - 0x100000) >> 10);  /* 1 MiB - 32 MiB */
}

static void test_meminfo_of_the_host_map(void **state)
{
    (void)state;
    machine_map();
    u32 lo, up;
    meminfo(bi.mmap, bi.mmap_count, &lo, &up);
    assert_int_equal(lo, 636);
    assert_int_equal(up, (0x20000000 - 0x100000) >> 10);
}

static void test_meminfo_joins_adjacent_entries_in_any_order(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = {
        { 0x3000000, 0x1000000, AVAIL },           /* 48-64 MiB */
        { 0x1000000, 0x2000000, AVAIL },           /* 16-48 MiB */
        { 0x100000, 0xf00000, AVAIL },             /* 1-16 MiB */
        { 0x5000000, 0x1000000, AVAIL },           /* after a hole: not counted */
    };
    u32 lo, up;
    meminfo(m, ARRAY_SIZE(m), &lo, &up);
    assert_int_equal(lo, 0);                       /* nothing at 0 */
    assert_int_equal(up, (0x4000000 - 0x100000) >> 10);
}

static void test_meminfo_ignores_non_available_entries(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = {
        { 0, 0x9fc00, MB2_MEM_RESERVED },
        { 0x100000, 0x100000, AVAIL },
        { 0x200000, 0x100000, MB2_MEM_ACPI_RECLAIMABLE },
        { 0x300000, 0x100000, AVAIL },
    };
    u32 lo, up;
    meminfo(m, ARRAY_SIZE(m), &lo, &up);
    assert_int_equal(lo, 0);
    assert_int_equal(up, 1024);
}

static void test_meminfo_without_ram_at_1m(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = {
        { 0, 0x9fc00, AVAIL },
        { 0x200000, 0x1000000, AVAIL },
    };
    u32 lo, up;
    meminfo(m, ARRAY_SIZE(m), &lo, &up);
    assert_int_equal(lo, 0x9fc00 >> 10);
    assert_int_equal(up, 0);
    meminfo(m, 0, &lo, &up);
    assert_int_equal(lo, 0);
    assert_int_equal(up, 0);
}

static void test_meminfo_caps_lower_at_640k_and_upper_at_4g(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = {
        { 0, 0x800000, AVAIL },                    /* 0 - 8 MiB in one entry */
    };
    u32 lo, up;
    meminfo(m, ARRAY_SIZE(m), &lo, &up);
    assert_int_equal(lo, 640);
    assert_int_equal(up, (0x800000 - 0x100000) >> 10);

    static const struct mb2_mmap_entry big[] = {
        { 0x100000, 0x200000000ull, AVAIL },       /* up to 8 GiB */
    };
    meminfo(big, ARRAY_SIZE(big), &lo, &up);
    assert_int_equal(up, (GiB(4) - MiB(1)) >> 10);
}

/* ---- guest boot information: common parameters ---- */

static struct mb2_module mods[2];
static const struct mb2_module *mod_ptrs[2] = { &mods[0], &mods[1] };
static struct guest_boot_params params;
static u32 gm_n;

#define CMDLINE "scenario=benign console=com2 loglevel=debug"
#define LOADER  "vigil 0.1"

/* A 36-byte ACPI 2.0 RSDP with both checksums right (ACPI 5.2.5.3). */
static void make_rsdp(u8 r[36], u8 revision)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "VIGIL ", 6);
    r[15] = revision;
    u32 rsdt = 0x7fe1000, len = 36;
    memcpy(r + 16, &rsdt, 4);
    memcpy(r + 20, &len, 4);
    u64 xsdt = 0x7fe2000;
    memcpy(r + 24, &xsdt, 8);
    u8 sum = 0;
    for (int i = 0; i < 20; i++)
        sum += r[i];
    r[8] = (u8)-sum;
    sum = 0;
    for (int i = 0; i < 36; i++)
        sum += r[i];
    r[32] = (u8)-sum;
}

static void set_module(struct mb2_module *m, u64 start, u64 end, const char *name, const char *args)
{
    memset(m, 0, sizeof(*m));
    m->start = start;
    m->end = end;
    str_copy(m->name, name, sizeof(m->name));
    str_copy(m->args, args, sizeof(m->args));
}

static int params_setup(void **state)
{
    (void)state;
    machine_map();
    bi.rsdp_rev = 2;
    make_rsdp(bi.rsdp, 2);
    gm_n = guest_mmap_build(&bi, owned, 2, gm, GUEST_MMAP_MAX);
    assert_int_equal(gm_n, 9);
    set_module(&mods[0], 0x4000000, 0x4800000, "initrd", "root=/dev/ram0 quiet");
    set_module(&mods[1], 0x5000000, 0x5001234, "extra", "");
    params = (struct guest_boot_params){ CMDLINE, LOADER, gm, gm_n, mod_ptrs, 2, &bi };
    return 0;
}

static u32 rd32(const u8 *b, size_t off) { u32 v; memcpy(&v, b + off, 4); return v; }
static u64 rd64(const u8 *b, size_t off) { u64 v; memcpy(&v, b + off, 8); return v; }

static _Alignas(8) u8 buf[8192];
static struct boot_info back;
static char err[256];

/* ---- guest_mb2_info ---- */

static size_t mb2_build_and_parse(void)
{
    memset(buf, 0xcc, sizeof(buf));
    size_t n = guest_mb2_info(buf, sizeof(buf), &params);
    assert_true(n > 16);
    assert_int_equal(n % 8, 0);
    assert_int_equal(rd32(buf, 0), n);             /* total_size */
    assert_int_equal(rd32(buf, 4), 0);             /* reserved */
    err[0] = 0;
    if (mb2_parse(buf, n, 0x10000, &back, err, sizeof(err))) {
        print_error("mb2_parse refused what guest_mb2_info built: %s\n", err);
        fail();
    }
    return n;
}

static void test_mb2_info_parses_back(void **state)
{
    (void)state;
    size_t n = mb2_build_and_parse();
    assert_int_equal(back.mbi_end - back.mbi_start, n);
    assert_string_equal(back.cmdline, CMDLINE);
    assert_string_equal(back.loader, LOADER);
}

static void test_mb2_info_modules(void **state)
{
    (void)state;
    mb2_build_and_parse();
    assert_int_equal(back.module_count, 2);
    assert_int_equal(back.modules[0].start, 0x4000000);
    assert_int_equal(back.modules[0].end, 0x4800000);
    assert_string_equal(back.modules[0].name, "initrd");
    assert_string_equal(back.modules[0].args, "root=/dev/ram0 quiet");
    assert_int_equal(back.modules[1].start, 0x5000000);
    assert_int_equal(back.modules[1].end, 0x5001234);
    assert_string_equal(back.modules[1].name, "extra");
    assert_string_equal(back.modules[1].args, "");
}

static void test_mb2_info_module_string_is_name_space_args(void **state)
{
    (void)state;
    mb2_build_and_parse();
    /* tags: cmdline at 8, loader name next, then the modules */
    size_t off = 8;
    assert_int_equal(rd32(buf, off), 1);
    assert_int_equal(rd32(buf, off + 4), 8 + sizeof(CMDLINE));
    assert_string_equal((char *)buf + off + 8, CMDLINE);
    off += ALIGN_UP(rd32(buf, off + 4), 8);
    assert_int_equal(rd32(buf, off), 2);
    assert_string_equal((char *)buf + off + 8, LOADER);
    off += ALIGN_UP(rd32(buf, off + 4), 8);
    assert_int_equal(rd32(buf, off), 3);
    assert_int_equal(rd32(buf, off + 4), 16 + sizeof("initrd root=/dev/ram0 quiet"));
    assert_string_equal((char *)buf + off + 16, "initrd root=/dev/ram0 quiet");
    off += ALIGN_UP(rd32(buf, off + 4), 8);
    assert_int_equal(rd32(buf, off), 3);
    assert_int_equal(rd32(buf, off + 4), 16 + sizeof("extra"));
    assert_string_equal((char *)buf + off + 16, "extra");         /* no trailing blank */
}

static void test_mb2_info_memory_map(void **state)
{
    (void)state;
    mb2_build_and_parse();
    assert_int_equal(back.mmap_count, gm_n);
    for (u32 i = 0; i < gm_n; i++)
        assert_entry(&back.mmap[i], gm[i].base, gm[i].len, gm[i].type);
    assert_entry(&back.mmap[3], 0x2000000, 0x30000, RESV);
}

static void test_mb2_info_meminfo(void **state)
{
    (void)state;
    mb2_build_and_parse();
    assert_true(back.has_meminfo);
    assert_int_equal(back.mem_lower_kb, 636);
    assert_int_equal(back.mem_upper_kb, 31744);
}

static void test_mb2_info_rsdp_copy(void **state)
{
    (void)state;
    mb2_build_and_parse();
    assert_int_equal(back.rsdp_rev, 2);
    assert_memory_equal(back.rsdp, bi.rsdp, 36);

    struct boot_info old = bi;
    old.rsdp_rev = 1;
    memset(old.rsdp, 0, sizeof(old.rsdp));
    make_rsdp(old.rsdp, 0);
    memset(old.rsdp + 20, 0, 16);                  /* an ACPI 1.0 RSDP is 20 bytes */
    params.bi = &old;
    mb2_build_and_parse();
    params.bi = &bi;
    assert_int_equal(back.rsdp_rev, 1);
    assert_memory_equal(back.rsdp, old.rsdp, 20);
}

static void test_mb2_info_without_rsdp(void **state)
{
    (void)state;
    params.bi = NULL;
    mb2_build_and_parse();
    params.bi = &bi;
    assert_int_equal(back.rsdp_rev, 0);

    struct boot_info none = bi;
    none.rsdp_rev = 0;
    params.bi = &none;
    mb2_build_and_parse();
    params.bi = &bi;
    assert_int_equal(back.rsdp_rev, 0);
}

static void test_mb2_info_without_modules(void **state)
{
    (void)state;
    params.nmodules = 0;
    mb2_build_and_parse();
    params.nmodules = 2;
    assert_int_equal(back.module_count, 0);
    assert_string_equal(back.cmdline, CMDLINE);
    assert_int_equal(back.mmap_count, gm_n);
}

static void test_mb2_info_too_small_returns_0(void **state)
{
    (void)state;
    size_t need = guest_mb2_info(buf, sizeof(buf), &params);
    assert_true(need > 0);
    /* each smaller buffer is a heap block of exactly that size (ASan) */
    for (size_t size = 0; size < need; size++) {
        u8 *b = malloc(size ? size : 1);
        assert_non_null(b);
        assert_int_equal(guest_mb2_info(b, size, &params), 0);
        free(b);
    }
    u8 *b = malloc(need);
    assert_non_null(b);
    assert_int_equal(guest_mb2_info(b, need, &params), need);
    free(b);
}

/* ---- guest_mb1_info (multiboot spec 3.3) ---- */

#define MB1_PHYS 0x9000u

/* The string a multiboot1 pointer designates, checked to lie in [0, n). */
static const char *mb1_string(size_t n, u32 ptr)
{
    assert_true(ptr >= MB1_PHYS && ptr < MB1_PHYS + n);
    size_t off = ptr - MB1_PHYS;
    assert_true(strnlen((const char *)buf + off, n - off) < n - off);
    return (const char *)buf + off;
}

static size_t mb1_build(void)
{
    memset(buf, 0xcc, sizeof(buf));
    size_t n = guest_mb1_info(buf, sizeof(buf), MB1_PHYS, &params);
    assert_true(n >= 88);
    return n;
}

static void test_mb1_info_flags(void **state)
{
    (void)state;
    mb1_build();
    /* mem (0), cmdline (2), mods (3), mmap (6), boot_loader_name (9) */
    assert_int_equal(rd32(buf, 0), (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
}

static void test_mb1_info_mem_lower_upper(void **state)
{
    (void)state;
    mb1_build();
    assert_int_equal(rd32(buf, 4), 636);
    assert_int_equal(rd32(buf, 8), 31744);
}

static void test_mb1_info_cmdline(void **state)
{
    (void)state;
    size_t n = mb1_build();
    u32 p = rd32(buf, 16);
    assert_int_equal(p, MB1_PHYS + 88);            /* right after the 88-byte info */
    assert_string_equal(mb1_string(n, p), CMDLINE);
}

static void test_mb1_info_modules(void **state)
{
    (void)state;
    size_t n = mb1_build();
    assert_int_equal(rd32(buf, 20), 2);            /* mods_count */
    u32 ma = rd32(buf, 24);
    assert_int_equal(ma, MB1_PHYS + 88 + ALIGN_UP(sizeof(CMDLINE), 4));
    assert_int_equal(ma % 4, 0);
    size_t mo = ma - MB1_PHYS;
    assert_true(mo + 32 <= n);
    assert_int_equal(rd32(buf, mo), 0x4000000);
    assert_int_equal(rd32(buf, mo + 4), 0x4800000);
    assert_string_equal(mb1_string(n, rd32(buf, mo + 8)), "initrd root=/dev/ram0 quiet");
    assert_int_equal(rd32(buf, mo + 12), 0);       /* reserved */
    assert_int_equal(rd32(buf, mo + 16), 0x5000000);
    assert_int_equal(rd32(buf, mo + 20), 0x5001234);
    assert_string_equal(mb1_string(n, rd32(buf, mo + 24)), "extra");
    assert_int_equal(rd32(buf, mo + 28), 0);
}

static void test_mb1_info_memory_map(void **state)
{
    (void)state;
    size_t n = mb1_build();
    assert_int_equal(rd32(buf, 44), 24 * gm_n);    /* mmap_length */
    u32 mm = rd32(buf, 48);
    assert_true(mm >= MB1_PHYS && mm - MB1_PHYS + 24 * gm_n <= n);
    size_t off = mm - MB1_PHYS;
    for (u32 i = 0; i < gm_n; i++, off += 24) {
        assert_int_equal(rd32(buf, off), 20);      /* size of the rest */
        assert_int_equal(rd64(buf, off + 4), gm[i].base);
        assert_int_equal(rd64(buf, off + 12), gm[i].len);
        assert_int_equal(rd32(buf, off + 20), gm[i].type);
    }
    off = mm - MB1_PHYS + 3 * 24;
    assert_int_equal(rd64(buf, off + 4), 0x2000000);
    assert_int_equal(rd64(buf, off + 12), 0x30000);
    assert_int_equal(rd32(buf, off + 20), RESV);
}

static void test_mb1_info_loader_name(void **state)
{
    (void)state;
    size_t n = mb1_build();
    assert_string_equal(mb1_string(n, rd32(buf, 64)), LOADER);
}

static void test_mb1_info_unused_fields_are_zero(void **state)
{
    (void)state;
    mb1_build();
    assert_int_equal(rd32(buf, 12), 0);            /* boot_device */
    for (size_t off = 28; off < 44; off += 4)      /* syms */
        assert_int_equal(rd32(buf, off), 0);
    for (size_t off = 52; off < 64; off += 4)      /* drives, config_table */
        assert_int_equal(rd32(buf, off), 0);
    for (size_t off = 68; off < 88; off += 4)      /* apm, vbe */
        assert_int_equal(rd32(buf, off), 0);
}

static void test_mb1_info_without_modules(void **state)
{
    (void)state;
    params.nmodules = 0;
    size_t n = mb1_build();
    params.nmodules = 2;
    assert_true(rd32(buf, 0) & (1u << 3));
    assert_int_equal(rd32(buf, 20), 0);
    assert_string_equal(mb1_string(n, rd32(buf, 16)), CMDLINE);
    assert_string_equal(mb1_string(n, rd32(buf, 64)), LOADER);
}

static void test_mb1_info_pointers_follow_phys(void **state)
{
    (void)state;
    memset(buf, 0, sizeof(buf));
    size_t a = guest_mb1_info(buf, sizeof(buf), 0, &params);
    u32 cmd0 = rd32(buf, 16), mods0 = rd32(buf, 24), mm0 = rd32(buf, 48), ld0 = rd32(buf, 64);
    size_t b = guest_mb1_info(buf, sizeof(buf), 0x7ff000, &params);
    assert_int_equal(a, b);                        /* the size does not depend on phys */
    assert_int_equal(rd32(buf, 16), cmd0 + 0x7ff000);
    assert_int_equal(rd32(buf, 24), mods0 + 0x7ff000);
    assert_int_equal(rd32(buf, 48), mm0 + 0x7ff000);
    assert_int_equal(rd32(buf, 64), ld0 + 0x7ff000);
}

static void test_mb1_info_too_small_returns_0(void **state)
{
    (void)state;
    size_t need = guest_mb1_info(buf, sizeof(buf), MB1_PHYS, &params);
    assert_true(need > 88);
    for (size_t size = 0; size < need; size++) {
        u8 *b = malloc(size ? size : 1);
        assert_non_null(b);
        assert_int_equal(guest_mb1_info(b, size, MB1_PHYS, &params), 0);
        free(b);
    }
    u8 *b = malloc(need);
    assert_non_null(b);
    assert_int_equal(guest_mb1_info(b, need, MB1_PHYS, &params), need);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmap_cuts_owned_ranges_out_as_reserved),
        cmocka_unit_test(test_mmap_without_owned_ranges_is_a_copy),
        cmocka_unit_test(test_mmap_efi_types),
        cmocka_unit_test(test_mmap_is_sorted_by_base),
        cmocka_unit_test(test_mmap_owned_range_spanning_two_entries),
        cmocka_unit_test(test_mmap_owned_range_over_available_and_reserved),
        cmocka_unit_test(test_mmap_owned_range_at_edges_leaves_no_empty_entry),
        cmocka_unit_test(test_mmap_two_owned_ranges_in_one_entry),
        cmocka_unit_test(test_mmap_owned_range_outside_ram_changes_nothing),
        cmocka_unit_test(test_mmap_max_too_small_returns_0),
        cmocka_unit_test(test_mmap_of_empty_map_is_empty),
        cmocka_unit_test(test_meminfo_of_the_guest_map_stops_at_vigil),
        cmocka_unit_test(test_meminfo_of_the_host_map),
        cmocka_unit_test(test_meminfo_joins_adjacent_entries_in_any_order),
        cmocka_unit_test(test_meminfo_ignores_non_available_entries),
        cmocka_unit_test(test_meminfo_without_ram_at_1m),
        cmocka_unit_test(test_meminfo_caps_lower_at_640k_and_upper_at_4g),
        cmocka_unit_test_setup(test_mb2_info_parses_back, params_setup),
        cmocka_unit_test_setup(test_mb2_info_modules, params_setup),
        cmocka_unit_test_setup(test_mb2_info_module_string_is_name_space_args, params_setup),
        cmocka_unit_test_setup(test_mb2_info_memory_map, params_setup),
        cmocka_unit_test_setup(test_mb2_info_meminfo, params_setup),
        cmocka_unit_test_setup(test_mb2_info_rsdp_copy, params_setup),
        cmocka_unit_test_setup(test_mb2_info_without_rsdp, params_setup),
        cmocka_unit_test_setup(test_mb2_info_without_modules, params_setup),
        cmocka_unit_test_setup(test_mb2_info_too_small_returns_0, params_setup),
        cmocka_unit_test_setup(test_mb1_info_flags, params_setup),
        cmocka_unit_test_setup(test_mb1_info_mem_lower_upper, params_setup),
        cmocka_unit_test_setup(test_mb1_info_cmdline, params_setup),
        cmocka_unit_test_setup(test_mb1_info_modules, params_setup),
        cmocka_unit_test_setup(test_mb1_info_memory_map, params_setup),
        cmocka_unit_test_setup(test_mb1_info_loader_name, params_setup),
        cmocka_unit_test_setup(test_mb1_info_unused_fields_are_zero, params_setup),
        cmocka_unit_test_setup(test_mb1_info_without_modules, params_setup),
        cmocka_unit_test_setup(test_mb1_info_pointers_follow_phys, params_setup),
        cmocka_unit_test_setup(test_mb1_info_too_small_returns_0, params_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
