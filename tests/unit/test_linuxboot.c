/* Unit tests for vmm/linuxboot.c: the Linux boot protocol's setup-header
 * parser, placement, e820 map and zero page, on synthetic bzImages laid out
 * as Documentation/x86/boot.rst says. Each image is handed over in a heap
 * block of exactly its length, so ASan reports any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/linuxboot.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define AVAIL MB2_MEM_AVAILABLE
#define RESV  MB2_MEM_RESERVED

static struct boot_info bi;
static const struct mem_range owned[] = {
    { 0x2000000, 0x2044000 },          /* vigil's image at 32 MiB */
    { 0x1ee00000, 0x1fe00000 },        /* vigil's page pool */
};

static void add_mmap(u64 base, u64 len, u32 type)
{
    bi.mmap[bi.mmap_count++] = (struct mb2_mmap_entry){ base, len, type };
}

static void add_module(u64 start, u64 end, const char *name, const char *args)
{
    struct mb2_module *m = &bi.modules[bi.module_count++];
    m->start = start;
    m->end = end;
    str_copy(m->name, name, sizeof(m->name));
    str_copy(m->args, args, sizeof(m->args));
}

/* Bochs with 512 MiB, as GRUB reports it, with vmlinuz and an initrd. */
static int setup(void **state)
{
    (void)state;
    memset(&bi, 0, sizeof(bi));
    add_mmap(0, 0x9f000, AVAIL);
    add_mmap(0x9f000, 0x1000, RESV);
    add_mmap(0xe8000, 0x18000, RESV);
    add_mmap(0x100000, 0x1fef0000, AVAIL);
    add_mmap(0x1fff0000, 0x10000, 3);                     /* ACPI tables */
    add_mmap(0xfffc0000, 0x40000, RESV);
    add_module(0x2045000, 0x2820000, "guest", "console=ttyS1,115200");
    add_module(0x2820000, 0x2920123, "initrd", "");
    bi.rsdp_rev = 1;
    memcpy(bi.rsdp, "RSD PTR \x42XXXXXX\0\xe0\xff\x1f", 20);
    return 0;
}

/* ---- image builder ---- */

#define SETUP_SECTS 39
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)
#define PM_SIZE     0x4000

static u8 img[SETUP_SIZE + PM_SIZE];
static u64 img_len;

static void p8(u32 off, u8 v) { img[off] = v; }
static void p16(u32 off, u16 v) { memcpy(img + off, &v, 2); }
static void p32(u32 off, u32 v) { memcpy(img + off, &v, 4); }
static void p64(u32 off, u64 v) { memcpy(img + off, &v, 8); }
static u8 g8(const u8 *b, u32 off) { return b[off]; }
static u32 g32(const u8 *b, u32 off) { u32 v; memcpy(&v, b + off, 4); return v; }
static u64 g64(const u8 *b, u32 off) { u64 v; memcpy(&v, b + off, 8); return v; }

/* Debian 6.1's header values. */
static void bzimage(void)
{
    memset(img, 0x90, sizeof(img));
    memset(img, 0, SETUP_SIZE);
    p8(0x1f1, SETUP_SECTS);
    p32(0x1f4, PM_SIZE / 16);
    p16(0x1fe, 0xaa55);
    p8(0x200, 0xeb);
    p8(0x201, 106);                                       /* header ends at 0x26c */
    memcpy(img + 0x202, "HdrS", 4);
    p16(0x206, 0x020f);
    p8(0x211, LINUX_LOADED_HIGH);
    p32(0x214, 0x100000);
    p32(0x22c, 0x7fffffff);
    p32(0x230, 0x200000);
    p8(0x234, 1);
    p8(0x235, 21);
    p16(0x236, 0x7f);
    p32(0x238, 0x7ff);
    p64(0x258, 0x1000000);
    p32(0x260, 0x3f98000);
    p32(0x264, 0x12345);                                  /* handover_offset, copied as is */
    img_len = sizeof(img);
}

static int parse(struct linux_header *h, char *err, size_t n)
{
    u8 *copy = malloc(img_len ? img_len : 1);
    memcpy(copy, img, img_len);
    int r = linux_parse(copy, img_len, h, err, n);
    free(copy);
    return r;
}

static void refused(const char *want)
{
    struct linux_header h;
    char err[200] = "";
    assert_int_equal(parse(&h, err, sizeof(err)), -1);
    if (!strstr(err, want))
        fail_msg("expected \"%s\" in \"%s\"", want, err);
    assert_true(!strncmp(err, "linux: ", 7));
}

/* ---- parser ---- */

static void t_parse_ok(void **s)
{
    (void)s;
    bzimage();
    struct linux_header h;
    char err[200] = "";
    assert_true(linux_is_bzimage(img, img_len));
    assert_int_equal(parse(&h, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(h.version, 0x020f);
    assert_int_equal(h.setup_size, SETUP_SIZE);
    assert_int_equal(h.pm_offset, SETUP_SIZE);
    assert_int_equal(h.pm_size, PM_SIZE);
    assert_int_equal(h.hdr_end, 0x26c);
    assert_true(h.relocatable);
    assert_int_equal(h.kernel_alignment, 0x200000);
    assert_int_equal(h.pref_address, 0x1000000);
    assert_int_equal(h.init_size, 0x3f98000);
    assert_int_equal(h.code32_start, 0x100000);
    assert_int_equal(h.initrd_addr_max, 0x7fffffff);
    assert_int_equal(h.cmdline_size, 0x7ff);
    assert_int_equal(h.xloadflags, 0x7f);
}

static void t_not_bzimage(void **s)
{
    (void)s;
    bzimage();
    memcpy(img + 0x202, "HdrT", 4);
    assert_false(linux_is_bzimage(img, img_len));
    refused("not a bzImage: no \"HdrS\"");
    img_len = 0x100;
    refused("not a bzImage");
    img_len = 0;
    refused("not a bzImage");
}

static void t_truncated(void **s)
{
    (void)s;
    bzimage();
    img_len = 0x240;
    refused("bzImage truncated: 576 bytes, the setup header alone");
    bzimage();
    img_len = SETUP_SIZE;
    refused("nothing after the 20480-byte setup");
    bzimage();
    img_len = SETUP_SIZE + PM_SIZE - 16;
    refused("syssize says the protected-mode kernel is 16384 bytes, the file holds 16368");
}

static void t_old_protocol(void **s)
{
    (void)s;
    bzimage();
    p16(0x206, 0x020b);
    refused("boot protocol 2.11 is too old: vigil needs 2.12 or later");
    p16(0x206, 0x0100);
    refused("boot protocol 1.00 is too old");
}

static void t_header_fields(void **s)
{
    (void)s;
    bzimage();
    p16(0x1fe, 0x1234);
    refused("boot_flag at 0x1fe is 0x1234");
    bzimage();
    p8(0x201, 0xff);
    refused("the setup header ends at 0x301");
    bzimage();
    p8(0x200, 0x90);
    refused("the setup header ends");
    bzimage();
    p8(0x211, 0);
    refused("LOADED_HIGH is clear");
    bzimage();
    p32(0x230, 0x300000);
    refused("kernel_alignment 0x300000 is not a power of two");
    bzimage();
    p32(0x260, PM_SIZE - 1);
    refused("init_size 0x3fff is smaller than the protected-mode kernel");
    bzimage();
    p64(0x258, 0xfff00000);
    refused("pref_address 0xfff00000");
    bzimage();
    p32(0x22c, 0xfffff);
    refused("initrd_addr_max 0xfffff is below 1 MiB");
    bzimage();
    p8(0x1f1, 0);                                         /* 0 means 4: 2.5 KiB, the header fits */
    struct linux_header h;
    char err[200];
    assert_int_equal(parse(&h, err, sizeof(err)), 0);
    assert_int_equal(h.setup_size, 5 * 512);
}

/* ---- placement ---- */

static int plan(struct linux_plan *p, const char *cmdline, const struct mb2_module *initrd, char *err)
{
    struct linux_header h;
    char e[200];
    assert_int_equal(parse(&h, e, sizeof(e)), 0);
    return linux_plan(&h, &bi, owned, ARRAY_SIZE(owned), cmdline, initrd, p, err, 200);
}

static void plan_refused(const char *cmdline, const struct mb2_module *initrd, const char *want)
{
    struct linux_plan p;
    char err[200] = "";
    assert_int_equal(plan(&p, cmdline, initrd, err), -1);
    if (!strstr(err, want))
        fail_msg("expected \"%s\" in \"%s\"", want, err);
}

static bool overlaps_any(u64 s, u64 e)
{
    for (u32 i = 0; i < ARRAY_SIZE(owned); i++)
        if (range_overlaps(s, e, owned[i].start, owned[i].end))
            return true;
    for (u32 i = 0; i < bi.module_count; i++)
        if (range_overlaps(s, e, bi.modules[i].start, bi.modules[i].end))
            return true;
    return s < MiB(1);
}

static void t_plan_relocated(void **s)
{
    (void)s;
    bzimage();
    struct linux_plan p;
    char err[200] = "";
    /* 16 MiB + 64 MiB would cover vigil at 32 MiB: the kernel moves up. */
    assert_int_equal(plan(&p, "console=ttyS1,115200", mb2_find_module(&bi, "initrd"), err), 0);
    assert_true(p.kernel > 0x1000000);
    assert_int_equal(p.kernel % 0x200000, 0);
    assert_true(p.kernel + 0x3f98000 <= 0x1ee00000);
    assert_false(overlaps_any(p.kernel, p.kernel + 0x3f98000));
    assert_false(overlaps_any(p.boot, p.boot + p.boot_size));
    assert_false(range_overlaps(p.boot, p.boot + p.boot_size, p.kernel, p.kernel + 0x3f98000));
    assert_int_equal(p.boot_size, 8192);
    assert_int_equal(p.zero_page, p.boot);
    assert_int_equal(p.cmdline, p.boot + 4096 + 128);
    assert_int_equal(p.rsdp, p.boot + 4096 + 64);
    assert_int_equal(p.initrd, 0x2820000);
    assert_int_equal(p.initrd_size, 0x100123);
}

static void t_plan_pref(void **s)
{
    (void)s;
    bzimage();
    p32(0x260, 0x800000);                                 /* 8 MiB: fits at 16 MiB */
    struct linux_plan p;
    char err[200];
    assert_int_equal(plan(&p, "", NULL, err), 0);
    assert_int_equal(p.kernel, 0x1000000);
    assert_int_equal(p.initrd, 0);
}

static void t_plan_refusals(void **s)
{
    (void)s;
    bzimage();
    p8(0x234, 0);
    plan_refused("", NULL, "not relocatable and does not fit at 0x1000000-0x4f98000 (init_size): vigil's memory");
    p64(0x258, 0x2800000);
    plan_refused("", NULL, "a module is there");
    bzimage();
    p32(0x260, 0x1d000000);                               /* 464 MiB */
    plan_refused("", NULL, "the kernel does not fit: no 464 MiB of RAM");
    bzimage();
    char longline[0x801];
    memset(longline, 'x', 0x800);
    longline[0x800] = 0;
    plan_refused(longline, NULL, "the command line is 2048 bytes; the kernel takes at most 2047");
    bzimage();
    p32(0x22c, 0x2900000);
    plan_refused("", mb2_find_module(&bi, "initrd"),
                 "module 'initrd' at 0x2820000-0x2920123 lies above initrd_addr_max 0x2900000");
    p32(0x22c, 0x100000);
    plan_refused("", mb2_find_module(&bi, "initrd"), "the initrd does not fit: 1048867 bytes");
    bzimage();
    struct mb2_module empty = { 0x3000000, 0x3000000, "initrd", "" };
    plan_refused("", &empty, "module 'initrd' is empty");
    struct mb2_module hole = { 0x9f000, 0xa0000, "initrd", "" };
    plan_refused("", &hole, "is not in available RAM");
}

/* ---- e820 and the zero page ---- */

static void t_e820_and_zero_page(void **s)
{
    (void)s;
    bzimage();
    struct linux_plan p;
    char err[200];
    const char *cl = "console=ttyS1,115200 nokaslr";
    assert_int_equal(plan(&p, cl, mb2_find_module(&bi, "initrd"), err), 0);
    struct mb2_mmap_entry e[LINUX_E820_MAX];
    u32 n = linux_e820(&bi, owned, ARRAY_SIZE(owned), &p, e, LINUX_E820_MAX);
    assert_true(n > 0);
    /* sorted, contiguous where the host's map was */
    for (u32 i = 1; i < n; i++)
        assert_true(e[i].base >= e[i - 1].base + e[i - 1].len);
    bool vigil_image = false, guest_mod = false, boot = false, initrd_ram = false;
    for (u32 i = 0; i < n; i++) {
        u64 b = e[i].base, end = b + e[i].len;
        if (b == 0x2000000 && e[i].type == RESV)
            vigil_image = end == 0x2044000;
        if (b <= 0x2045000 && end >= 0x2820000 && e[i].type == RESV)
            guest_mod = true;
        if (b <= p.boot && end >= p.boot + p.boot_size && e[i].type == RESV)
            boot = true;
        if (b <= 0x2820000 && end >= 0x2920123 && e[i].type == AVAIL)
            initrd_ram = true;
        if (e[i].type == AVAIL)
            assert_false(range_overlaps(b, end, owned[1].start, owned[1].end));
    }
    assert_true(vigil_image);
    assert_true(guest_mod);
    assert_true(boot);
    assert_true(initrd_ram);
    assert_int_equal(linux_e820(&bi, owned, ARRAY_SIZE(owned), &p, e, 3), 0);

    u8 *buf = malloc(p.boot_size);
    struct linux_header h;
    assert_int_equal(parse(&h, err, sizeof(err)), 0);
    linux_boot_pages(buf, img, &h, &p, e, n, &bi, cl);
    assert_memory_equal(buf + 0x1f1, img + 0x1f1, 0x210 - 0x1f1);   /* the header, copied */
    assert_memory_equal(buf + 0x202, "HdrS", 4);
    assert_int_equal(g32(buf, 0x264), 0x12345);
    assert_int_equal(g8(buf, 0x1ef), 0);                            /* sentinel */
    assert_int_equal(g8(buf, 0x210), 0xff);                         /* type_of_loader */
    assert_int_equal(g8(buf, 0x211), LINUX_LOADED_HIGH);
    assert_int_equal(g32(buf, 0x214), p.kernel);
    assert_int_equal(g32(buf, 0x218), 0x2820000);
    assert_int_equal(g32(buf, 0x21c), 0x100123);
    assert_int_equal(g32(buf, 0x0c0), 0);
    assert_int_equal(g32(buf, 0x228), p.cmdline);
    assert_int_equal(g64(buf, 0x070), p.rsdp);
    assert_int_equal(g8(buf, 0x1e8), n);
    for (u32 i = 0; i < n; i++) {
        assert_int_equal(g64(buf, 0x2d0 + 20 * i), e[i].base);
        assert_int_equal(g64(buf, 0x2d0 + 20 * i + 8), e[i].len);
        assert_int_equal(g32(buf, 0x2d0 + 20 * i + 16), e[i].type);
    }
    assert_string_equal((char *)buf + (p.cmdline - p.boot), cl);
    assert_memory_equal(buf + (p.rsdp - p.boot), bi.rsdp, 20);
    assert_int_equal(g64(buf, p.gdt - p.boot + 16), 0x00cf9b000000ffffull);
    assert_int_equal(g64(buf, p.gdt - p.boot + 24), 0x00cf93000000ffffull);
    assert_int_equal(g32(buf, 0x1e0), 0x7c00);    /* alt_mem_k: 1 MiB up to vigil at 32 MiB */
    free(buf);
}

static void t_no_rsdp(void **s)
{
    (void)s;
    bzimage();
    bi.rsdp_rev = 0;
    struct linux_plan p;
    char err[200];
    assert_int_equal(plan(&p, "", NULL, err), 0);
    assert_int_equal(p.rsdp, 0);
    bi.rsdp_rev = 1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_parse_ok),
        cmocka_unit_test(t_not_bzimage),
        cmocka_unit_test(t_truncated),
        cmocka_unit_test(t_old_protocol),
        cmocka_unit_test(t_header_fields),
        cmocka_unit_test(t_plan_relocated),
        cmocka_unit_test(t_plan_pref),
        cmocka_unit_test(t_plan_refusals),
        cmocka_unit_test(t_e820_and_zero_page),
        cmocka_unit_test(t_no_rsdp),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
