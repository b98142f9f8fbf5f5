/* Unit tests for vmm/loader.c: loader_check on synthetic guest kernel images
 * (ELF32/ELF64, multiboot2 header per multiboot2 spec 3.1, multiboot1
 * header per multiboot spec 3.1). Every image is handed to loader_check in a
 * heap block of exactly its length, so ASan reports any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/loader.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define AVAIL MB2_MEM_AVAILABLE
#define RESV  MB2_MEM_RESERVED

#define IMG_MAX 0xa000      /* 40 KiB: room for a header just past 32 KiB */
#define PHOFF   64          /* program headers right after the ELF64 header */
#define MBOFF   0x800       /* where the multiboot header goes by default */
#define DATA    0x1000      /* file offset of segment bytes */
#define LEN     0x2000      /* default file length */

#define MB2_MAGIC 0xe85250d6u
#define MB1_MAGIC 0x1badb002u

#define PT_LOAD 1
#define PT_NOTE 4

/* ---- the machine: memory map, vigil's ranges, modules ---- */

static struct boot_info bi;

static const struct mem_range owned[] = {
    { 0x2000000, 0x2030000 },          /* vigil's image */
    { 0x1ee00000, 0x1fe00000 },        /* vigil's page pool */
};

static void add_mmap(struct boot_info *b, u64 base, u64 len, u32 type)
{
    assert_true(b->mmap_count < MB2_MAX_MMAP);
    b->mmap[b->mmap_count++] = (struct mb2_mmap_entry){ base, len, type };
}

static void add_module(struct boot_info *b, u64 start, u64 end, const char *name, const char *args)
{
    struct mb2_module *m = &b->modules[b->module_count++];
    m->start = start;
    m->end = end;
    str_copy(m->name, name, sizeof(m->name));
    str_copy(m->args, args, sizeof(m->args));
}

static void machine(struct boot_info *b)
{
    memset(b, 0, sizeof(*b));
    add_mmap(b, 0, 0x9f000, AVAIL);
    add_mmap(b, 0x9f000, 0x61000, RESV);
    add_mmap(b, 0x100000, 0x1ff00000, AVAIL);              /* 1 MiB - 512 MiB */
    add_mmap(b, 0x20000000, 0xdec00000, RESV);             /* up to the APIC */
    add_mmap(b, 0xfec00000, 0x1400000, RESV);
    add_module(b, 0x3000000, 0x3002000, "guest", "scenario=benign");
    add_module(b, 0x3100000, 0x3101000, "policy", "");
    add_module(b, 0x4000000, 0x4800000, "initrd", "");
}

static int group_setup(void **state)
{
    (void)state;
    machine(&bi);
    return 0;
}

/* ---- image builder ---- */

static u8 img[IMG_MAX];
static u64 img_len;
static int cls;                 /* 32 or 64 */
static u32 phnum;

static void w8(u64 at, u8 v) { assert_true(at < IMG_MAX); img[at] = v; }
static void w16(u64 at, u16 v) { assert_true(at + 2 <= IMG_MAX); memcpy(img + at, &v, 2); }
static void w32(u64 at, u32 v) { assert_true(at + 4 <= IMG_MAX); memcpy(img + at, &v, 4); }
static void w64(u64 at, u64 v) { assert_true(at + 8 <= IMG_MAX); memcpy(img + at, &v, 8); }

static u64 e_phnum_at(void) { return cls == 64 ? 56 : 44; }

/* An ELF header of the class, EXEC, right machine, no program headers yet. */
static void elf_begin(int c)
{
    memset(img, 0, sizeof(img));
    cls = c;
    phnum = 0;
    img_len = LEN;
    memcpy(img, "\x7f" "ELF", 4);
    w8(4, c == 64 ? 2 : 1);             /* EI_CLASS */
    w8(5, 1);                           /* EI_DATA: little-endian */
    w8(6, 1);                           /* EI_VERSION */
    w16(16, 2);                         /* ET_EXEC */
    w16(18, c == 64 ? 62 : 3);          /* EM_X86_64 / EM_386 */
    w32(20, 1);
    if (c == 64) {
        w64(32, PHOFF);
        w16(52, 64);
        w16(54, 56);
    } else {
        w32(28, PHOFF);
        w16(40, 52);
        w16(42, 32);
    }
}

static void elf_entry(u64 e)
{
    if (cls == 64)
        w64(24, e);
    else
        w32(24, (u32)e);
}

static void elf_phdr(u32 type, u64 off, u64 vaddr, u64 paddr, u64 filesz, u64 memsz)
{
    if (cls == 64) {
        u64 p = PHOFF + 56 * (u64)phnum;
        w32(p, type);
        w32(p + 4, 7);
        w64(p + 8, off);
        w64(p + 16, vaddr);
        w64(p + 24, paddr);
        w64(p + 32, filesz);
        w64(p + 40, memsz);
        w64(p + 48, 0x1000);
    } else {
        u64 p = PHOFF + 32 * (u64)phnum;
        w32(p, type);
        w32(p + 4, (u32)off);
        w32(p + 8, (u32)vaddr);
        w32(p + 12, (u32)paddr);
        w32(p + 16, (u32)filesz);
        w32(p + 20, (u32)memsz);
        w32(p + 24, 7);
        w32(p + 28, 0x1000);
    }
    phnum++;
    w16(e_phnum_at(), (u16)phnum);
}

/* A PT_LOAD segment whose virtual address is its physical one. */
static void elf_load(u64 paddr, u64 off, u64 filesz, u64 memsz)
{
    elf_phdr(PT_LOAD, off, paddr, paddr, filesz, memsz);
}

/* multiboot2 header: magic, architecture, header_length, checksum, tags. */
static u64 mb2_at;
static u32 mb2_len;

static void mb2_begin(u64 at)
{
    mb2_at = at;
    mb2_len = 16;
    w32(at, MB2_MAGIC);
}

static u64 mb2_tag(u16 type, u16 flags, const void *body, u32 n)
{
    u64 t = mb2_at + mb2_len;
    assert_true(t + 8 + n <= IMG_MAX);
    w16(t, type);
    w16(t + 2, flags);
    w32(t + 4, 8 + n);
    if (n)
        memcpy(img + t + 8, body, n);
    mb2_len += (8 + n + 7) & ~7u;
    return t;
}

static void mb2_header_fields(u32 arch, u32 hlen)
{
    w32(mb2_at + 4, arch);
    w32(mb2_at + 8, hlen);
    w32(mb2_at + 12, (u32)-(MB2_MAGIC + arch + hlen));
}

/* End tag, then header_length and checksum for what was built. */
static void mb2_finish(void)
{
    mb2_tag(0, 0, NULL, 0);
    mb2_header_fields(0, mb2_len);
}

static void mb1_header_sum(u64 at, u32 flags, u32 sum)
{
    w32(at, MB1_MAGIC);
    w32(at + 4, flags);
    w32(at + 8, sum);
}

static void mb1_header(u64 at, u32 flags) { mb1_header_sum(at, flags, (u32)-(MB1_MAGIC + flags)); }

/* The usual valid images: one 4 KiB segment at 1 MiB, entry at its start. */
static void std64_no_mb(void)
{
    elf_begin(64);
    elf_entry(0x100000);
    elf_load(0x100000, DATA, 0x1000, 0x1000);
}

static void std64(void)
{
    std64_no_mb();
    mb2_begin(MBOFF);
    mb2_finish();
}

static void std32(void)
{
    elf_begin(32);
    elf_entry(0x100000);
    elf_load(0x100000, DATA, 0x1000, 0x1000);
    mb1_header(MBOFF, 3);
}

/* ---- running loader_check ---- */

static struct guest_image out;
static char err[256];

static int run_on(const struct boot_info *b)
{
    u8 *copy = malloc(img_len ? img_len : 1);
    assert_non_null(copy);
    memcpy(copy, img, img_len);
    memset(err, 'Q', sizeof(err) - 1);
    err[sizeof(err) - 1] = 0;
    memset(&out, 0xa5, sizeof(out));
    int r = loader_check(copy, img_len, b, owned, ARRAY_SIZE(owned), &out, err, sizeof(err));
    free(copy);
    return r;
}

static int run(void) { return run_on(&bi); }

static void expect_ok_(const char *file, int line)
{
    if (run() != 0) {
        print_error("loader_check refused the image: %s\n", err);
        _fail(file, line);
    }
}
#define expect_ok() expect_ok_(__FILE__, __LINE__)

static void assert_err_names_(const char *want, const char *file, int line)
{
    if (!strstr(err, want)) {
        print_error("error message \"%s\" does not contain \"%s\"\n", err, want);
        _fail(file, line);
    }
}
#define assert_err_names(want) assert_err_names_((want), __FILE__, __LINE__)

/* Refused, and the message names `want`. */
#define expect_error(want) do { \
        assert_int_equal(run(), -1); \
        assert_err_names(want); \
    } while (0)

/* ---- valid images ---- */

static void test_elf64_mb2_is_accepted(void **state)
{
    (void)state;
    std64();
    elf_entry(0x100010);
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB2);
    assert_int_equal(out.elf_class, 64);
    assert_int_equal(out.entry, 0x100010);
    assert_int_equal(out.nseg, 1);
    assert_int_equal(out.seg[0].paddr, 0x100000);
    assert_int_equal(out.seg[0].memsz, 0x1000);
    assert_int_equal(out.seg[0].offset, DATA);
    assert_int_equal(out.seg[0].filesz, 0x1000);
}

static void test_elf32_mb1_is_accepted(void **state)
{
    (void)state;
    std32();
    elf_entry(0x100020);
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB1);
    assert_int_equal(out.elf_class, 32);
    assert_int_equal(out.entry, 0x100020);
    assert_int_equal(out.nseg, 1);
    assert_int_equal(out.seg[0].paddr, 0x100000);
    assert_int_equal(out.seg[0].memsz, 0x1000);
}

static void test_elf32_mb2_is_accepted(void **state)
{
    (void)state;
    std32();
    memset(img + MBOFF, 0, 12);                   /* drop the mb1 header */
    mb2_begin(MBOFF + 0x100);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB2);
    assert_int_equal(out.elf_class, 32);
}

static void test_mb2_is_preferred_over_mb1(void **state)
{
    (void)state;
    std64();
    mb1_header(0x400, 3);                         /* earlier in the file */
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB2);
}

static void test_elf64_with_mb1_is_accepted(void **state)
{
    (void)state;
    std64_no_mb();
    mb1_header(MBOFF, 0);
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB1);
    assert_int_equal(out.elf_class, 64);
}

static void test_virtual_entry_is_translated_through_its_segment(void **state)
{
    (void)state;
    elf_begin(64);
    /* a higher-half kernel: text at 0xffffffff80100000 loaded at 1 MiB, data
     * at 0xffffffff80200000 loaded at 2 MiB; the entry is in the data one */
    elf_phdr(PT_LOAD, DATA, 0xffffffff80100000ull, 0x100000, 0x800, 0x1000);
    elf_phdr(PT_LOAD, DATA + 0x800, 0xffffffff80200000ull, 0x200000, 0x800, 0x3000);
    elf_entry(0xffffffff80202345ull);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.entry, 0x202345);
    assert_int_equal(out.nseg, 2);
    assert_int_equal(out.seg[1].paddr, 0x200000);
    assert_int_equal(out.seg[1].offset, DATA + 0x800);
}

static void test_virtual_entry_of_elf32_is_translated(void **state)
{
    (void)state;
    elf_begin(32);
    elf_phdr(PT_LOAD, DATA, 0xc0100000u, 0x100000, 0x1000, 0x1000);
    elf_entry(0xc010000cu);
    mb1_header(MBOFF, 3);
    expect_ok();
    assert_int_equal(out.entry, 0x10000c);
}

static void test_entry_is_translated_through_the_first_segment_holding_it(void **state)
{
    (void)state;
    elf_begin(64);
    /* two segments at the same virtual address (an overlay): the first wins */
    elf_phdr(PT_LOAD, DATA, 0xc0000000u, 0x100000, 0x100, 0x1000);
    elf_phdr(PT_LOAD, DATA, 0xc0000000u, 0x300000, 0x100, 0x1000);
    elf_entry(0xc0000010u);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.entry, 0x100010);
}

static void test_mb2_entry_tag_overrides_e_entry(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0x200000, DATA, 0x100, 0x1000);
    elf_entry(0x100000);
    mb2_begin(MBOFF);
    u32 body[2] = { 0x200080, 0 };
    mb2_tag(3, 0, body, 4);                       /* entry_addr, size 12 */
    mb2_finish();
    expect_ok();
    assert_int_equal(out.entry, 0x200080);
}

static void test_mb2_entry_tag_makes_e_entry_irrelevant(void **state)
{
    (void)state;
    std64_no_mb();
    elf_entry(0x7000000);                         /* in no segment */
    mb2_begin(MBOFF);
    u32 e = 0x100400;
    mb2_tag(3, 0, &e, 4);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.entry, 0x100400);
}

static void test_bss_memsz_larger_than_filesz(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0x200000, DATA, 0x234, 0x40000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.nseg, 2);
    assert_int_equal(out.seg[1].filesz, 0x234);
    assert_int_equal(out.seg[1].memsz, 0x40000);
}

static void test_non_load_and_empty_segments_are_skipped(void **state)
{
    (void)state;
    elf_begin(64);
    elf_phdr(PT_NOTE, 0, 0, 0x2000000, 0x10, 0x10);     /* over vigil: ignored */
    elf_load(0x100000, DATA, 0, 0);                      /* memsz 0: ignored */
    elf_load(0x300000, DATA, 0x1000, 0x1000);
    elf_entry(0x300000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.nseg, 1);
    assert_int_equal(out.seg[0].paddr, 0x300000);
}

static void test_segment_may_touch_vigil_and_modules(void **state)
{
    (void)state;
    elf_begin(64);
    elf_load(0x2000000 - 0x1000, DATA, 0x1000, 0x1000);  /* ends where vigil starts */
    elf_load(0x2030000, DATA, 0x1000, 0x1000);           /* starts where vigil ends */
    elf_load(0x3002000, DATA, 0x1000, 0xfe000);          /* between two modules */
    elf_entry(0x2030000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.nseg, 3);
}

static void test_sixteen_segments_are_accepted(void **state)
{
    (void)state;
    elf_begin(64);
    for (u32 i = 0; i < LOADER_MAX_SEGS; i++)
        elf_load(0x100000 + i * 0x1000, DATA, 0x100, 0x1000);
    elf_entry(0x10f000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.nseg, LOADER_MAX_SEGS);
    assert_int_equal(out.seg[15].paddr, 0x10f000);
    assert_int_equal(out.entry, 0x10f000);
}

static void test_mb2_optional_and_harmless_tags_are_accepted(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 provided[] = { 1, 2, 3, 4, 6, 14, 15 };
    mb2_tag(1, 0, provided, sizeof(provided));           /* all provided: fine */
    u32 unknown[] = { 5, 8, 21 };
    mb2_tag(1, 1, unknown, sizeof(unknown));             /* optional request */
    u32 addr[4] = { 0x100000, 0x100000, 0x101000, 0x101000 };
    mb2_tag(2, 1, addr, sizeof(addr));                   /* optional address tag */
    u32 console = 3;
    mb2_tag(4, 0, &console, 4);                          /* console flags */
    u32 fb[3] = { 1024, 768, 32 };
    mb2_tag(5, 1, fb, sizeof(fb));                       /* optional framebuffer */
    mb2_tag(6, 0, NULL, 0);                              /* module alignment */
    mb2_tag(7, 1, NULL, 0);                              /* optional EFI boot services */
    u32 reloc[3] = { 0x100000, 0x1000000, 0x1000 };
    mb2_tag(10, 0, reloc, sizeof(reloc));                /* relocatable */
    mb2_finish();
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB2);
}

static void test_mb1_memory_and_address_flags_are_accepted(void **state)
{
    (void)state;
    std32();
    mb1_header(MBOFF, 0x10003);                           /* page align, meminfo, a.out fields */
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB1);
}

static void test_mb2_header_at_last_allowed_offset(void **state)
{
    (void)state;
    std64_no_mb();
    img_len = 0x8100;
    mb2_begin(0x7ff8);
    mb2_finish();
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB2);
}

static void test_mb1_header_at_last_allowed_offset(void **state)
{
    (void)state;
    std64_no_mb();
    img_len = 0x2100;
    mb1_header(0x1ffc, 3);
    expect_ok();
    assert_int_equal(out.boot, GUEST_BOOT_MB1);
}

static void test_segment_above_4g_needs_ram_there(void **state)
{
    (void)state;
    /* no RAM above 4 GiB in this machine, and vigil loads nothing there
     * anyway: the second segment is refused and the message names it */
    std64();
    elf_load(0x100000000ull, DATA, 0x100, 0x1000);
    expect_error("segment 1 at 0x100000000-0x100001000 ends above 4 GiB");
}

/* ---- ELF header errors ---- */

static void test_not_elf(void **state)
{
    (void)state;
    std64();
    img[1] = 'X';
    expect_error("not an ELF file");
    img_len = 3;
    memcpy(img, "\x7f" "EL", 3);
    expect_error("not an ELF file (3 bytes");
    img_len = 0;
    expect_error("not an ELF file (0 bytes");
}

static void test_truncated_elf_header(void **state)
{
    (void)state;
    std32();
    img_len = 51;
    expect_error("ELF file truncated: 51 bytes");
    std64();
    img_len = 63;
    expect_error("ELF64 file truncated: 63 bytes");
}

static void test_bad_class(void **state)
{
    (void)state;
    std64();
    img[4] = 0;
    expect_error("ELF class 0 is neither");
    img[4] = 3;
    expect_error("ELF class 3 is neither");
}

static void test_big_endian(void **state)
{
    (void)state;
    std64();
    img[5] = 2;
    expect_error("not little-endian");
}

static void test_not_executable(void **state)
{
    (void)state;
    std64();
    w16(16, 3);                                   /* ET_DYN */
    expect_error("ELF type 3 is not an executable");
    w16(16, 1);                                   /* ET_REL */
    expect_error("ELF type 1 is not an executable");
}

static void test_wrong_machine_for_class(void **state)
{
    (void)state;
    std64();
    w16(18, 3);
    expect_error("ELF machine 3 is not x86-64 (62)");
    std32();
    w16(18, 62);
    expect_error("ELF machine 62 is not i386 (3)");
}

static void test_bad_phentsize(void **state)
{
    (void)state;
    std64();
    w16(54, 32);
    expect_error("program header size 32, expected 56");
    std32();
    w16(42, 56);
    expect_error("program header size 56, expected 32");
}

static void test_no_program_headers(void **state)
{
    (void)state;
    std64();
    w16(56, 0);
    expect_error("no program headers");
}

static void test_program_headers_past_eof(void **state)
{
    (void)state;
    std64();
    w64(32, LEN - 55);                            /* one byte short */
    expect_error("ELF program headers (1 at offset 0x1fc9) run past the end of the 8192-byte file");
    w64(32, LEN - 56);                            /* exactly fits: gets further */
    assert_int_equal(run(), -1);
    assert_null(strstr(err, "program headers"));
    w64(32, 0xfffffffffffffff0ull);               /* offset + size wraps */
    expect_error("run past the end");
    std32();
    w16(44, 0xffff);                              /* 65535 x 32 bytes */
    expect_error("ELF program headers (65535 at offset 0x40)");
}

/* ---- multiboot header errors ---- */

static void test_no_multiboot_header(void **state)
{
    (void)state;
    std64_no_mb();
    expect_error("no multiboot2 or multiboot1 header");
}

static void test_mb2_header_must_be_8_aligned(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF + 4);
    mb2_finish();
    expect_error("no multiboot2 or multiboot1 header");
}

static void test_mb2_header_past_32k_is_not_found(void **state)
{
    (void)state;
    std64_no_mb();
    img_len = 0x8100;
    mb2_begin(0x8000);
    mb2_finish();
    expect_error("no multiboot2 or multiboot1 header");
}

static void test_mb1_header_past_8k_is_not_found(void **state)
{
    (void)state;
    std64_no_mb();
    img_len = 0x2100;
    mb1_header(0x2000, 3);
    expect_error("no multiboot2 or multiboot1 header");
}

static void test_mb2_bad_checksum(void **state)
{
    (void)state;
    std64();
    u32 sum;
    memcpy(&sum, img + MBOFF + 12, 4);
    w32(MBOFF + 12, sum + 1);
    expect_error("multiboot2 header at file offset 0x800: bad checksum");
}

static void test_mb2_arch_not_i386(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    mb2_tag(0, 0, NULL, 0);
    mb2_header_fields(4, mb2_len);                /* MIPS, checksum right */
    expect_error("architecture 4 is not i386");
}

static void test_mb2_header_length_past_file(void **state)
{
    (void)state;
    std64();
    img_len = LEN;
    mb2_header_fields(0, LEN - MBOFF + 8);
    expect_error("header_length 6152 runs past the file");
    mb2_header_fields(0, 16);                     /* no room for an end tag */
    expect_error("header_length 16");
}

static void test_mb2_header_at_end_of_file(void **state)
{
    (void)state;
    /* header_length ends exactly at the end of the file: accepted */
    std64_no_mb();
    mb2_begin(LEN - 24);
    mb2_finish();
    expect_ok();
    /* one byte less of file: refused */
    img_len = LEN - 1;
    expect_error("header_length 24 runs past the file");
}

static void test_mb2_tag_past_header(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 console = 0;
    u64 t = mb2_tag(4, 0, &console, 4);
    mb2_finish();
    w32(t + 4, 200);                              /* size beyond header_length */
    expect_error("tag type 4 at +16: size 200 runs past the header");
    w32(t + 4, 4);                                /* smaller than a tag header */
    expect_error("tag type 4 at +16: size 4");
}

static void test_mb2_required_unknown_info_request(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 want[] = { 1, 6, 5 };                     /* 5: BIOS boot device */
    mb2_tag(1, 0, want, sizeof(want));
    mb2_finish();
    expect_error("requires multiboot2 information tag 5");
}

static void test_mb2_required_framebuffer_info_request(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 want = 8;                                 /* framebuffer info */
    mb2_tag(1, 0, &want, 4);
    mb2_finish();
    expect_error("information tag 8, which vigil does not provide");
}

static void test_mb2_required_address_tag(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 addr[4] = { 0x100000, 0x100000, 0x101000, 0x101000 };
    mb2_tag(2, 0, addr, sizeof(addr));
    mb2_finish();
    expect_error("address tag (a.out kludge) is not supported");
}

static void test_mb2_required_framebuffer_tag(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 fb[3] = { 1024, 768, 32 };
    mb2_tag(5, 0, fb, sizeof(fb));
    mb2_finish();
    expect_error("requires multiboot2 header tag 5 (framebuffer)");
}

static void test_mb2_required_efi_tags(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    mb2_tag(7, 0, NULL, 0);
    mb2_finish();
    expect_error("header tag 7 (EFI boot services)");

    std64_no_mb();
    mb2_begin(MBOFF);
    u32 e = 0x100000;
    mb2_tag(8, 0, &e, 4);
    mb2_finish();
    expect_error("header tag 8 (EFI entry)");

    std64_no_mb();
    mb2_begin(MBOFF);
    mb2_tag(9, 0, &e, 4);
    mb2_finish();
    expect_error("header tag 9 (EFI entry)");
}

static void test_mb2_required_unknown_tag(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    mb2_tag(42, 0, NULL, 0);
    mb2_finish();
    expect_error("header tag 42 (unknown)");
}

static void test_mb2_entry_tag_too_short(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    mb2_tag(3, 0, NULL, 0);                       /* size 8: no entry_addr */
    mb2_finish();
    expect_error("entry address tag too short");
}

static void test_mb2_without_end_tag(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 console = 0;
    mb2_tag(4, 0, &console, 4);
    mb2_header_fields(0, mb2_len);                /* 32 bytes, no end tag */
    expect_error("multiboot2 header has no end tag");
}

static void test_mb1_bad_checksum(void **state)
{
    (void)state;
    std32();
    mb1_header_sum(MBOFF, 3, 0);
    expect_error("multiboot1 header at file offset 0x800: bad checksum");
}

static void test_mb1_video_flag(void **state)
{
    (void)state;
    std32();
    mb1_header(MBOFF, 7);
    expect_error("requires flags 0x4 vigil cannot meet (video mode");
    mb1_header(MBOFF, 0x8001);
    expect_error("requires flags 0x8000");
}

/* ---- segment errors ---- */

static void test_filesz_larger_than_memsz(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0x200000, DATA, 0x801, 0x800);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segment 1: file size 0x801 is larger than its memory size 0x800");
}

static void test_segment_bytes_past_eof(void **state)
{
    (void)state;
    std64();
    img_len = 0x1800;                             /* the segment wants 0x1000-0x2000 */
    expect_error("segment 0: bytes 0x1000-0x2000 of the file, but the image is truncated at 0x1800");

    std64_no_mb();
    elf_load(0x200000, LEN + 0x10, 0, 0x1000);    /* offset past the end */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segment 1: bytes 0x2010-0x2010");

    std64_no_mb();
    elf_load(0x200000, DATA, 0xffffffffffffff00ull, 0xffffffffffffff00ull);  /* would wrap */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("image is truncated at 0x2000");
}

static void test_more_than_16_segments(void **state)
{
    (void)state;
    elf_begin(64);
    for (u32 i = 0; i < LOADER_MAX_SEGS + 1; i++)
        elf_load(0x100000 + i * 0x1000, DATA, 0x100, 0x1000);
    elf_entry(0x100000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("more than 16 loadable segments");
}

static void test_segment_wraps(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0xfffffffffffff000ull, DATA, 0x100, 0x2000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segment 1: address 0xfffffffffffff000 + size 0x2000 wraps around");
}

static void test_segment_over_vigil(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0x1ff0000, DATA, 0x100, 0x10001);    /* one byte into vigil's image */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segment 1 at 0x1ff0000-0x2000001 overlaps vigil's memory 0x2000000-0x2030000");

    std64_no_mb();
    elf_load(0x1f000000, DATA, 0x100, 0x1000);    /* inside the page pool */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("overlaps vigil's memory 0x1ee00000-0x1fe00000");

    std64_no_mb();
    elf_load(0x1000000, DATA, 0x100, 0x2000000);  /* covers the image entirely */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("overlaps vigil's memory 0x2000000-0x2030000");
}

static void test_segment_outside_ram(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0x9e000, DATA, 0x100, 0x2000);       /* into the EBDA hole */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segment 1 at 0x9e000-0xa0000 is not in available RAM");

    std64_no_mb();
    elf_load(0x1fff0000, DATA, 0x100, 0x20000);   /* past the end of RAM */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segment 1 at 0x1fff0000-0x20010000 is not in available RAM");

    std64_no_mb();
    elf_load(0xfee00000, DATA, 0x100, 0x1000);    /* reserved: local APIC */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("is not in available RAM");
}

static void test_segment_over_module(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0x3fff000, DATA, 0x100, 0x2000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segment 1 at 0x3fff000-0x4001000 overlaps module 'initrd' at 0x4000000-0x4800000");

    std64_no_mb();
    elf_load(0x3001000, DATA, 0x100, 0x100);      /* over the image's own bytes */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("overlaps module 'guest' at 0x3000000-0x3002000");
}

static void test_overlapping_segments(void **state)
{
    (void)state;
    std64_no_mb();
    elf_load(0x100800, DATA, 0x100, 0x1000);      /* 0x100800-0x101800 over 0x100000-0x101000 */
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segments 0 and 1 overlap (0x100000-0x101000 and 0x100800-0x101800)");

    elf_begin(64);
    elf_load(0x200000, DATA, 0x100, 0x1000);
    elf_load(0x100000, DATA, 0x100, 0x1000);
    elf_load(0x1ff000, DATA, 0x100, 0x2000);      /* over the first one */
    elf_entry(0x100000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("segments 0 and 2 overlap");
}

static void test_no_loadable_segment(void **state)
{
    (void)state;
    elf_begin(64);
    elf_phdr(PT_NOTE, DATA, 0x100000, 0x100000, 0x10, 0x10);
    elf_load(0x100000, DATA, 0, 0);
    elf_entry(0x100000);
    mb2_begin(MBOFF);
    mb2_finish();
    expect_error("ELF has no loadable segment");
}

static void test_entry_in_no_segment(void **state)
{
    (void)state;
    std64();
    elf_entry(0x101000);                          /* one past the end */
    expect_error("entry point 0x101000 lies in no loadable segment");
    elf_entry(0xfffff);                           /* one before the start */
    expect_error("entry point 0xfffff lies in no loadable segment");
}

static void test_entry_only_in_a_non_load_segment(void **state)
{
    (void)state;
    std64();
    elf_phdr(PT_NOTE, DATA, 0x500000, 0x500000, 0x100, 0x100);
    elf_entry(0x500000);
    expect_error("entry point 0x500000 lies in no loadable segment");
}

static void test_entry_tag_outside_segments(void **state)
{
    (void)state;
    std64_no_mb();
    mb2_begin(MBOFF);
    u32 e = 0x101000;
    mb2_tag(3, 0, &e, 4);
    mb2_finish();
    expect_error("entry point 0x101000 is not in a loaded segment below 4 GiB");
}

static void test_segment_above_4g_refused(void **state)
{
    (void)state;
    /* a machine with RAM above 4 GiB, a segment there, and the entry in it:
     * vigil maps 4 GiB, so the segment itself is refused */
    static struct boot_info big;
    machine(&big);
    add_mmap(&big, 0x100000000ull, 0x40000000, AVAIL);
    elf_begin(64);
    elf_load(0x100000, DATA, 0x100, 0x1000);
    elf_load(0x100000000ull, DATA, 0x100, 0x1000);
    elf_entry(0x100000010ull);
    mb2_begin(MBOFF);
    mb2_finish();
    assert_int_equal(run_on(&big), -1);
    assert_err_names("segment 1 at 0x100000000-0x100001000 ends above 4 GiB");
}

/* ---- the message buffer ---- */

static void test_message_is_truncated_to_errlen(void **state)
{
    (void)state;
    std64_no_mb();
    char small[8];
    memset(small, 'Q', sizeof(small));
    struct guest_image o;
    assert_int_equal(loader_check(img, img_len, &bi, owned, 2, &o, small, sizeof(small)), -1);
    assert_string_equal(small, "guest: ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf64_mb2_is_accepted),
        cmocka_unit_test(test_elf32_mb1_is_accepted),
        cmocka_unit_test(test_elf32_mb2_is_accepted),
        cmocka_unit_test(test_mb2_is_preferred_over_mb1),
        cmocka_unit_test(test_elf64_with_mb1_is_accepted),
        cmocka_unit_test(test_virtual_entry_is_translated_through_its_segment),
        cmocka_unit_test(test_virtual_entry_of_elf32_is_translated),
        cmocka_unit_test(test_entry_is_translated_through_the_first_segment_holding_it),
        cmocka_unit_test(test_mb2_entry_tag_overrides_e_entry),
        cmocka_unit_test(test_mb2_entry_tag_makes_e_entry_irrelevant),
        cmocka_unit_test(test_bss_memsz_larger_than_filesz),
        cmocka_unit_test(test_non_load_and_empty_segments_are_skipped),
        cmocka_unit_test(test_segment_may_touch_vigil_and_modules),
        cmocka_unit_test(test_sixteen_segments_are_accepted),
        cmocka_unit_test(test_mb2_optional_and_harmless_tags_are_accepted),
        cmocka_unit_test(test_mb1_memory_and_address_flags_are_accepted),
        cmocka_unit_test(test_mb2_header_at_last_allowed_offset),
        cmocka_unit_test(test_mb1_header_at_last_allowed_offset),
        cmocka_unit_test(test_segment_above_4g_needs_ram_there),
        cmocka_unit_test(test_not_elf),
        cmocka_unit_test(test_truncated_elf_header),
        cmocka_unit_test(test_bad_class),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_not_executable),
        cmocka_unit_test(test_wrong_machine_for_class),
        cmocka_unit_test(test_bad_phentsize),
        cmocka_unit_test(test_no_program_headers),
        cmocka_unit_test(test_program_headers_past_eof),
        cmocka_unit_test(test_no_multiboot_header),
        cmocka_unit_test(test_mb2_header_must_be_8_aligned),
        cmocka_unit_test(test_mb2_header_past_32k_is_not_found),
        cmocka_unit_test(test_mb1_header_past_8k_is_not_found),
        cmocka_unit_test(test_mb2_bad_checksum),
        cmocka_unit_test(test_mb2_arch_not_i386),
        cmocka_unit_test(test_mb2_header_length_past_file),
        cmocka_unit_test(test_mb2_header_at_end_of_file),
        cmocka_unit_test(test_mb2_tag_past_header),
        cmocka_unit_test(test_mb2_required_unknown_info_request),
        cmocka_unit_test(test_mb2_required_framebuffer_info_request),
        cmocka_unit_test(test_mb2_required_address_tag),
        cmocka_unit_test(test_mb2_required_framebuffer_tag),
        cmocka_unit_test(test_mb2_required_efi_tags),
        cmocka_unit_test(test_mb2_required_unknown_tag),
        cmocka_unit_test(test_mb2_entry_tag_too_short),
        cmocka_unit_test(test_mb2_without_end_tag),
        cmocka_unit_test(test_mb1_bad_checksum),
        cmocka_unit_test(test_mb1_video_flag),
        cmocka_unit_test(test_filesz_larger_than_memsz),
        cmocka_unit_test(test_segment_bytes_past_eof),
        cmocka_unit_test(test_more_than_16_segments),
        cmocka_unit_test(test_segment_wraps),
        cmocka_unit_test(test_segment_over_vigil),
        cmocka_unit_test(test_segment_outside_ram),
        cmocka_unit_test(test_segment_over_module),
        cmocka_unit_test(test_overlapping_segments),
        cmocka_unit_test(test_no_loadable_segment),
        cmocka_unit_test(test_entry_in_no_segment),
        cmocka_unit_test(test_entry_only_in_a_non_load_segment),
        cmocka_unit_test(test_entry_tag_outside_segments),
        cmocka_unit_test(test_segment_above_4g_refused),
        cmocka_unit_test(test_message_is_truncated_to_errlen),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
