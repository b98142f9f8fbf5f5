/* Unit tests for arch/x86_64/multiboot2.c: mb2_parse on synthetic boot
 * information structures (multiboot2 spec 3.6), mb2_find_module,
 * mb2_mem_type_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "arch/x86_64/multiboot2.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define PHYS 0x10000ull   /* where the structure pretends to be */

/* ---- builder: header, then tags, each starting 8-byte aligned ---- */

struct mb {
    u8 *buf;
    u32 cap;
    u32 len;
};

static _Alignas(8) u8 storage[64 * 1024];

static void put32(struct mb *b, u32 at, u32 v)
{
    assert_true(at + 4 <= b->cap);
    memcpy(b->buf + at, &v, 4);
}

static void put64(struct mb *b, u32 at, u64 v)
{
    assert_true(at + 8 <= b->cap);
    memcpy(b->buf + at, &v, 8);
}

/* Starts an empty structure: 8 header bytes, filled in by mb_finish. */
static void mb_begin(struct mb *b)
{
    memset(storage, 0, sizeof(storage));
    b->buf = storage;
    b->cap = sizeof(storage);
    b->len = 8;
}

/* A tag whose size field says `size` and whose body is n bytes; the next tag
 * goes at the 8-aligned end of the body. Returns the tag's offset. */
static u32 mb_tag_raw(struct mb *b, u32 type, u32 size, const void *body, u32 n)
{
    u32 off = b->len;
    assert_true(off + 8 + n <= b->cap);
    put32(b, off, type);
    put32(b, off + 4, size);
    if (n)
        memcpy(b->buf + off + 8, body, n);
    b->len = (off + 8 + n + 7) & ~7u;
    return off;
}

static u32 mb_tag(struct mb *b, u32 type, const void *body, u32 n)
{
    return mb_tag_raw(b, type, 8 + n, body, n);
}

static u32 mb_string(struct mb *b, u32 type, const char *s)
{
    return mb_tag(b, type, s, (u32)strlen(s) + 1);
}

static u32 mb_cmdline(struct mb *b, const char *s) { return mb_string(b, 1, s); }
static u32 mb_loader(struct mb *b, const char *s) { return mb_string(b, 2, s); }

static u32 mb_module(struct mb *b, u32 start, u32 end, const char *s)
{
    u8 body[600];
    u32 n = (u32)strlen(s) + 1;
    assert_true(8 + n <= sizeof(body));
    memcpy(body, &start, 4);
    memcpy(body + 4, &end, 4);
    memcpy(body + 8, s, n);
    return mb_tag(b, 3, body, 8 + n);
}

static u32 mb_meminfo(struct mb *b, u32 lower_kb, u32 upper_kb)
{
    u32 body[2] = { lower_kb, upper_kb };
    return mb_tag(b, 4, body, sizeof(body));
}

struct ent {
    u64 base, len;
    u32 type;
};

/* Memory map tag with entries of esize bytes (the spec's 24 or more). */
static u32 mb_mmap_sized(struct mb *b, u32 esize, const struct ent *e, u32 n)
{
    u32 off = b->len;
    u32 size = 16 + n * esize;
    assert_true(off + size + 8 <= b->cap);
    put32(b, off, 6);
    put32(b, off + 4, size);
    put32(b, off + 8, esize);
    put32(b, off + 12, 0);               /* entry_version */
    for (u32 i = 0; i < n; i++) {
        u32 at = off + 16 + i * esize;
        memset(b->buf + at, 0, esize);
        put64(b, at, e[i].base);
        put64(b, at + 8, e[i].len);
        put32(b, at + 16, e[i].type);
    }
    b->len = (off + size + 7) & ~7u;
    return off;
}

static u32 mb_mmap(struct mb *b, const struct ent *e, u32 n) { return mb_mmap_sized(b, 24, e, n); }

static const struct ent one_ram[] = { { 0x100000, 0x7f00000, MB2_MEM_AVAILABLE } };

static u32 mb_mmap_default(struct mb *b) { return mb_mmap(b, one_ram, 1); }

/* A 36-byte ACPI 2.0 RSDP with both checksums right (ACPI 5.2.5.3); an
 * ACPI 1.0 RSDP is its first 20 bytes. */
static void make_rsdp(u8 r[36], u8 revision, u32 rsdt)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "VIGIL ", 6);
    r[15] = revision;
    memcpy(r + 16, &rsdt, 4);
    u32 len = 36;
    memcpy(r + 20, &len, 4);
    u64 xsdt = 0x7fe0000 + rsdt;
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

static u32 mb_rsdp_old(struct mb *b, u32 rsdt)
{
    u8 r[36];
    make_rsdp(r, 0, rsdt);
    return mb_tag(b, 14, r, 20);
}

static u32 mb_rsdp_new(struct mb *b, u32 rsdt)
{
    u8 r[36];
    make_rsdp(r, 2, rsdt);
    return mb_tag(b, 15, r, 36);
}

static u32 mb_end(struct mb *b) { return mb_tag(b, 0, NULL, 0); }

/* Writes total_size (= everything built so far) and the reserved field. */
static void mb_finish(struct mb *b)
{
    put32(b, 0, b->len);
    put32(b, 4, 0);
}

/* ---- parsing and checking ---- */

static struct boot_info bi;
static char err[256];

static int parse_avail(struct mb *b, size_t avail)
{
    memset(err, 'Q', sizeof(err) - 1);
    err[sizeof(err) - 1] = 0;
    return mb2_parse(b->buf, avail, PHYS, &bi, err, sizeof(err));
}

/* Finishes b and parses exactly the bytes built. */
static int parse(struct mb *b)
{
    mb_finish(b);
    return parse_avail(b, b->len);
}

static void assert_err_names_(const char *want, const char *file, int line)
{
    if (!strstr(err, want)) {
        print_error("error message \"%s\" does not contain \"%s\"\n", err, want);
        _fail(file, line);
    }
}
#define assert_err_names(want) assert_err_names_((want), __FILE__, __LINE__)

static void assert_err_names_offset_(u32 off, const char *file, int line)
{
    char want[32];
    snprintf(want, sizeof(want), "offset %u", off);
    assert_err_names_(want, file, line);
}
#define assert_err_names_offset(off) assert_err_names_offset_((off), __FILE__, __LINE__)

#define assert_parse_fails(b) assert_int_equal(parse(b), -1)

static void assert_parse_ok_(struct mb *b, const char *file, int line)
{
    if (parse(b) != 0) {
        print_error("mb2_parse failed: %s\n", err);
        _fail(file, line);
    }
}
#define assert_parse_ok(b) assert_parse_ok_((b), __FILE__, __LINE__)

static char *repeat(char c, size_t n)
{
    static char s[1024];
    assert_true(n < sizeof(s));
    memset(s, c, n);
    s[n] = 0;
    return s;
}

/* ---- valid structures ---- */

static void test_full_structure_is_parsed(void **state)
{
    (void)state;
    static const struct ent map[] = {
        { 0x0, 0x9fc00, MB2_MEM_AVAILABLE },
        { 0x9fc00, 0x400, MB2_MEM_RESERVED },
        { 0x100000, 0x7fee0000, MB2_MEM_AVAILABLE },
        { 0x7ffe0000, 0x20000, MB2_MEM_ACPI_RECLAIMABLE },
        { 0xfffc0000, 0x40000, MB2_MEM_RESERVED },
    };
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, "console=com1 loglevel=debug");
    mb_loader(&b, "GRUB 2.06");
    mb_meminfo(&b, 639, 523264);
    mb_tag(&b, 21, "\0\0\x10\0", 4);     /* load base address: not used */
    mb_mmap(&b, map, 5);
    mb_module(&b, 0x200000, 0x2345678, "guest scenario=benign console=com2");
    mb_module(&b, 0x3000000, 0x3001000, "policy");
    mb_module(&b, 0x3002000, 0x3003000, " \t profile \t extra  args");
    mb_rsdp_old(&b, 0x7ffe1000);
    mb_rsdp_new(&b, 0x7ffe2000);
    mb_end(&b);
    assert_parse_ok(&b);

    assert_string_equal(bi.cmdline, "console=com1 loglevel=debug");
    assert_string_equal(bi.loader, "GRUB 2.06");
    assert_true(bi.has_meminfo);
    assert_int_equal(bi.mem_lower_kb, 639);
    assert_int_equal(bi.mem_upper_kb, 523264);

    assert_int_equal(bi.mmap_count, 5);
    for (u32 i = 0; i < 5; i++) {
        assert_int_equal(bi.mmap[i].base, map[i].base);
        assert_int_equal(bi.mmap[i].len, map[i].len);
        assert_int_equal(bi.mmap[i].type, map[i].type);
    }

    assert_int_equal(bi.module_count, 3);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x2345678);
    assert_string_equal(bi.modules[0].name, "guest");
    assert_string_equal(bi.modules[0].args, "scenario=benign console=com2");
    assert_int_equal(bi.modules[1].start, 0x3000000);
    assert_int_equal(bi.modules[1].end, 0x3001000);
    assert_string_equal(bi.modules[1].name, "policy");
    assert_string_equal(bi.modules[1].args, "");
    assert_string_equal(bi.modules[2].name, "profile");
    assert_string_equal(bi.modules[2].args, "extra  args");

    u8 want[36];
    make_rsdp(want, 2, 0x7ffe2000);
    assert_int_equal(bi.rsdp_rev, 2);
    assert_memory_equal(bi.rsdp, want, 36);
}

static void test_minimal_structure_is_mmap_and_end(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.mmap_count, 1);
    assert_string_equal(bi.cmdline, "");
    assert_string_equal(bi.loader, "");
    assert_false(bi.has_meminfo);
    assert_int_equal(bi.module_count, 0);
    assert_int_equal(bi.rsdp_rev, 0);
}

static void test_structure_bounds_are_recorded(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, "x");
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.mbi_start, PHYS);
    assert_int_equal(bi.mbi_end, PHYS + b.len);
}

static void test_avail_larger_than_total_size_is_fine(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_end(&b);
    mb_finish(&b);
    assert_int_equal(parse_avail(&b, b.len + 4096), 0);
    assert_int_equal(bi.mbi_end, PHYS + b.len);
}

static void test_unknown_tags_are_skipped(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_tag(&b, 8, "framebuffer-ish", 15);
    mb_tag(&b, 9999, NULL, 0);
    mb_mmap_default(&b);
    mb_tag(&b, 21, "abc", 3);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.mmap_count, 1);
}

static void test_tags_after_the_end_tag_are_ignored(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, "first");
    mb_mmap_default(&b);
    mb_end(&b);
    mb_cmdline(&b, "second");            /* a duplicate, if it were read */
    mb_tag_raw(&b, 1, 4, NULL, 0);       /* a broken tag, if it were read */
    assert_parse_ok(&b);
    assert_string_equal(bi.cmdline, "first");
}

static void test_unaligned_tag_sizes_round_up_to_8(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 c = mb_cmdline(&b, "ab");        /* size 11 */
    u32 l = mb_loader(&b, "x");          /* must start at c + 16 */
    mb_mmap_default(&b);
    mb_end(&b);
    assert_int_equal(l, c + 16);
    assert_parse_ok(&b);
    assert_string_equal(bi.cmdline, "ab");
    assert_string_equal(bi.loader, "x");
}

static void test_mmap_with_larger_entry_size_is_read_at_that_stride(void **state)
{
    (void)state;
    static const struct ent map[] = {
        { 0x0, 0x9f000, MB2_MEM_AVAILABLE },
        { 0x100000, 0x1000000, MB2_MEM_NVS },
        { 0x2000000, 0x3000000, MB2_MEM_BADRAM },
    };
    struct mb b;
    mb_begin(&b);
    mb_mmap_sized(&b, 40, map, 3);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.mmap_count, 3);
    for (u32 i = 0; i < 3; i++) {
        assert_int_equal(bi.mmap[i].base, map[i].base);
        assert_int_equal(bi.mmap[i].len, map[i].len);
        assert_int_equal(bi.mmap[i].type, map[i].type);
    }
}

static void test_mmap_entry_of_length_zero_at_the_top_is_accepted(void **state)
{
    (void)state;
    static const struct ent map[] = { { UINT64_MAX, 0, MB2_MEM_RESERVED } };
    struct mb b;
    mb_begin(&b);
    mb_mmap(&b, map, 1);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.mmap_count, 1);
}

static void test_128_mmap_entries_are_accepted(void **state)
{
    (void)state;
    static struct ent map[MB2_MAX_MMAP];
    for (u32 i = 0; i < MB2_MAX_MMAP; i++)
        map[i] = (struct ent){ (u64)i << 20, 1 << 20, MB2_MEM_AVAILABLE };
    struct mb b;
    mb_begin(&b);
    mb_mmap(&b, map, MB2_MAX_MMAP);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.mmap_count, MB2_MAX_MMAP);
    assert_int_equal(bi.mmap[127].base, 127ull << 20);
}

static void test_16_modules_are_accepted(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    for (u32 i = 0; i < MB2_MAX_MODULES; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%u", i);
        mb_module(&b, 0x1000000 + i * 0x1000, 0x1001000 + i * 0x1000, name);
    }
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.module_count, MB2_MAX_MODULES);
    assert_string_equal(bi.modules[15].name, "m15");
    assert_int_equal(bi.modules[15].start, 0x1000000 + 15 * 0x1000);
}

static void test_empty_module_is_accepted(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_module(&b, 0x400000, 0x400000, "initrd");
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(bi.modules[0].start, bi.modules[0].end);
}

static void test_longest_strings_that_fit_are_accepted(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, repeat('c', MB2_CMDLINE_MAX - 1));
    mb_loader(&b, repeat('l', sizeof(bi.loader) - 1));
    mb_mmap_default(&b);
    mb_module(&b, 0x400000, 0x500000, repeat('n', MB2_NAME_MAX - 1));
    char line[400];
    snprintf(line, sizeof(line), "guest %s", repeat('a', MB2_CMDLINE_MAX - 1));
    mb_module(&b, 0x500000, 0x600000, line);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_int_equal(strlen(bi.cmdline), MB2_CMDLINE_MAX - 1);
    assert_int_equal(strlen(bi.loader), sizeof(bi.loader) - 1);
    assert_int_equal(strlen(bi.modules[0].name), MB2_NAME_MAX - 1);
    assert_int_equal(strlen(bi.modules[1].args), MB2_CMDLINE_MAX - 1);
}

static void test_old_rsdp_alone_is_kept(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_rsdp_old(&b, 0xe0000);
    mb_end(&b);
    assert_parse_ok(&b);
    u8 want[36];
    make_rsdp(want, 0, 0xe0000);
    memset(want + 20, 0, 16);            /* only the 20 ACPI 1.0 bytes */
    assert_int_equal(bi.rsdp_rev, 1);
    assert_memory_equal(bi.rsdp, want, 36);
}

static void test_new_rsdp_wins_over_a_later_old_one(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_rsdp_new(&b, 0x2000);
    mb_rsdp_old(&b, 0x1000);
    mb_end(&b);
    assert_parse_ok(&b);
    u8 want[36];
    make_rsdp(want, 2, 0x2000);
    assert_int_equal(bi.rsdp_rev, 2);
    assert_memory_equal(bi.rsdp, want, 36);
}

/* ---- refused: the structure as a whole ---- */

static void test_null_structure_is_refused(void **state)
{
    (void)state;
    assert_int_equal(mb2_parse(NULL, 4096, PHYS, &bi, err, sizeof(err)), -1);
    assert_err_names("no information structure");
}

static void test_misaligned_address_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_end(&b);
    mb_finish(&b);
    assert_int_equal(mb2_parse(b.buf, b.len, PHYS + 4, &bi, err, sizeof(err)), -1);
    assert_err_names("not 8-byte aligned");
    assert_err_names("0x10004");
    assert_int_equal(mb2_parse(b.buf, b.len, PHYS + 1, &bi, err, sizeof(err)), -1);
    assert_err_names("not 8-byte aligned");
}

static void test_fewer_than_8_bytes_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_end(&b);
    mb_finish(&b);
    assert_int_equal(parse_avail(&b, 7), -1);
    assert_err_names("truncated");
    assert_int_equal(parse_avail(&b, 0), -1);
    assert_err_names("truncated");
}

static void test_total_size_below_16_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_end(&b);
    mb_finish(&b);
    put32(&b, 0, 15);
    assert_int_equal(parse_avail(&b, b.len), -1);
    assert_err_names("total_size 15");
    assert_err_names("too small");
}

static void test_total_size_above_maximum_is_refused(void **state)
{
    (void)state;
    size_t n = MB2_INFO_MAX_SIZE + 8;
    u8 *big = calloc(1, n);   /* really that large: avail is honest */
    u32 total = (u32)n;
    memcpy(big, &total, 4);
    assert_int_equal(mb2_parse(big, n, PHYS, &bi, err, sizeof(err)), -1);
    free(big);
    assert_err_names("total_size 1048584");
    assert_err_names("larger than");
}

static void test_total_size_beyond_avail_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_end(&b);
    mb_finish(&b);
    assert_int_equal(parse_avail(&b, b.len - 8), -1);
    assert_err_names("runs past");
    assert_err_names("available");
}

/* ---- refused: tag headers ---- */

static void test_tag_smaller_than_its_header_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag_raw(&b, 5, 4, NULL, 0);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("size 4");
    assert_err_names_offset(off);
}

static void test_tag_of_size_zero_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_tag_raw(&b, 1, 0, NULL, 0);
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("smaller than a tag header");
    assert_err_names_offset(off);
}

static void test_tag_running_past_total_size_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag_raw(&b, 1, 64, "abc", 4);   /* only 16 bytes remain */
    assert_parse_fails(&b);
    assert_err_names("runs past total_size");
    assert_err_names_offset(off);
}

static void test_end_tag_with_wrong_size_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag_raw(&b, 0, 16, "\0\0\0\0\0\0\0\0", 8);
    assert_parse_fails(&b);
    assert_err_names("end tag");
    assert_err_names("size 16");
    assert_err_names_offset(off);
}

static void test_missing_end_tag_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_cmdline(&b, "no end");
    assert_parse_fails(&b);
    assert_err_names("no end tag");
}

static void test_end_tag_outside_total_size_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_end(&b);
    mb_finish(&b);
    put32(&b, 0, b.len - 4);             /* cuts the end tag in half */
    assert_int_equal(parse_avail(&b, b.len), -1);
    assert_err_names("no end tag");
}

static void test_missing_memory_map_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, "console=com1");
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("memory map");
}

static void test_memory_map_after_the_end_tag_does_not_count(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_end(&b);
    mb_mmap_default(&b);
    assert_parse_fails(&b);
    assert_err_names("memory map");
}

/* ---- refused: duplicates ---- */

static void test_second_cmdline_tag_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, "a");
    mb_mmap_default(&b);
    u32 off = mb_cmdline(&b, "b");
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("second command-line tag");
    assert_err_names_offset(off);
}

static void test_second_loader_tag_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_loader(&b, "GRUB");
    u32 off = mb_loader(&b, "evil");
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("second boot-loader-name tag");
    assert_err_names_offset(off);
}

static void test_second_mmap_tag_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("second memory map tag");
    assert_err_names_offset(off);
}

/* ---- refused: strings ---- */

static void test_unterminated_cmdline_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    /* the padding after the tag is zero: it must not count as the NUL */
    u32 off = mb_tag(&b, 1, "abcd", 4);
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("command-line");
    assert_err_names("not NUL-terminated");
    assert_err_names_offset(off);
}

static void test_empty_cmdline_tag_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_tag(&b, 1, NULL, 0);              /* no room even for the NUL */
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("not NUL-terminated");
}

static void test_unterminated_loader_name_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_tag(&b, 2, "GRUB", 4);
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("boot-loader-name");
    assert_err_names("not NUL-terminated");
}

static void test_unterminated_module_string_is_refused(void **state)
{
    (void)state;
    u8 body[8 + 5];
    u32 start = 0x400000, end = 0x401000;
    memcpy(body, &start, 4);
    memcpy(body + 4, &end, 4);
    memcpy(body + 8, "guest", 5);
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag(&b, 3, body, sizeof(body));
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("module");
    assert_err_names("not NUL-terminated");
    assert_err_names_offset(off);
}

static void test_overlong_cmdline_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_cmdline(&b, repeat('c', MB2_CMDLINE_MAX));
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("command-line");
    assert_err_names("256 bytes, at most 255");
    assert_err_names_offset(off);
}

static void test_overlong_loader_name_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_loader(&b, repeat('l', sizeof(bi.loader)));
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("boot-loader-name");
    assert_err_names("at most 63");
}

static void test_overlong_module_name_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_module(&b, 0x400000, 0x401000, "averyveryverylongname args");
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("name 'averyveryverylongname'");
    assert_err_names("longer than 15");
    assert_err_names_offset(off);
}

static void test_overlong_module_args_are_refused(void **state)
{
    (void)state;
    char line[400];
    snprintf(line, sizeof(line), "guest   %s", repeat('a', MB2_CMDLINE_MAX));
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_module(&b, 0x400000, 0x401000, line);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("module 'guest'");
    assert_err_names("command line longer than 255");
}

static void test_overlong_module_string_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_module(&b, 0x400000, 0x401000, repeat('x', 300));
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("module tag");
    assert_err_names("string is 300 bytes");
    assert_err_names_offset(off);
}

/* ---- refused: modules ---- */

static void test_module_tag_without_string_is_refused(void **state)
{
    (void)state;
    u32 body[2] = { 0x400000, 0x401000 };
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag(&b, 3, body, sizeof(body));
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("module tag");
    assert_err_names("size 16 is too small");
    assert_err_names_offset(off);
}

static void test_module_ending_before_its_start_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_module(&b, 0x401000, 0x400fff, "guest");
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("mod_end 0x400fff is below mod_start 0x401000");
    assert_err_names_offset(off);
}

static void test_more_than_16_modules_are_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    for (u32 i = 0; i <= MB2_MAX_MODULES; i++)
        mb_module(&b, 0x1000000, 0x1001000, "m");
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("more than 16 modules");
}

/* ---- refused: basic memory information ---- */

static void test_short_basic_memory_tag_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_tag(&b, 4, "\x7f\x02\0\0", 4);
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("basic memory tag");
    assert_err_names("size 12");
    assert_err_names_offset(off);
}

/* ---- refused: memory map ---- */

static void test_mmap_tag_too_short_for_its_header_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_tag(&b, 6, "\x18\0\0\0", 4);    /* entry_size only */
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("memory map tag");
    assert_err_names("size 12 is too small");
    assert_err_names_offset(off);
}

static void test_mmap_entry_size_below_24_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_mmap_sized(&b, 16, one_ram, 1);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("entry_size 16");
    assert_err_names_offset(off);
}

static void test_mmap_entry_size_zero_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_tag(&b, 6, "\0\0\0\0\0\0\0\0", 8);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("entry_size 0");
    assert_err_names_offset(off);
}

static void test_mmap_entry_size_not_multiple_of_8_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_mmap_sized(&b, 28, one_ram, 1);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("entry_size 28");
    assert_err_names("multiple of 8");
    assert_err_names_offset(off);
}

static void test_mmap_body_not_multiple_of_entry_size_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_mmap(&b, one_ram, 1);
    put32(&b, off + 4, 16 + 24 + 8);     /* a third of an entry too many */
    b.len = off + 16 + 24 + 8;
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("32 bytes of entries is not a multiple of entry_size 24");
    assert_err_names_offset(off);
}

static void test_mmap_without_entries_is_refused(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    u32 off = mb_mmap(&b, NULL, 0);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("memory map tag");
    assert_err_names("no entries");
    assert_err_names_offset(off);
}

static void test_more_than_128_mmap_entries_are_refused(void **state)
{
    (void)state;
    static struct ent map[MB2_MAX_MMAP + 1];
    for (u32 i = 0; i <= MB2_MAX_MMAP; i++)
        map[i] = (struct ent){ (u64)i << 20, 1 << 20, MB2_MEM_AVAILABLE };
    struct mb b;
    mb_begin(&b);
    mb_mmap(&b, map, MB2_MAX_MMAP + 1);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("129 entries");
    assert_err_names("at most 128");
}

static void test_mmap_entry_wrapping_around_is_refused(void **state)
{
    (void)state;
    static const struct ent map[] = {
        { 0x0, 0x9f000, MB2_MEM_AVAILABLE },
        { 0xfffffffffffff000ull, 0x2000, MB2_MEM_RESERVED },
    };
    struct mb b;
    mb_begin(&b);
    mb_mmap(&b, map, 2);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("memory map entry 1");
    assert_err_names("wraps around");
}

/* ---- refused: ACPI RSDP ---- */

static void test_rsdp_with_bad_signature_is_refused(void **state)
{
    (void)state;
    u8 r[36];
    make_rsdp(r, 0, 0xe0000);
    r[0] = 'X';
    r[8] += 'R' - 'X';                    /* checksum still right */
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag(&b, 14, r, 20);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("RSDP");
    assert_err_names("signature");
    assert_err_names_offset(off);
}

static void test_old_rsdp_with_bad_checksum_is_refused(void **state)
{
    (void)state;
    u8 r[36];
    make_rsdp(r, 0, 0xe0000);
    r[16] ^= 1;                           /* RSDT address */
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag(&b, 14, r, 20);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("RSDP");
    assert_err_names("bad checksum");
    assert_err_names_offset(off);
}

static void test_new_rsdp_with_bad_checksum_is_refused(void **state)
{
    (void)state;
    u8 r[36];
    make_rsdp(r, 2, 0xe0000);
    r[9] ^= 0x20;                         /* OEM id, inside the first 20 bytes */
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_tag(&b, 15, r, 36);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("bad checksum");
}

static void test_short_old_rsdp_is_refused(void **state)
{
    (void)state;
    u8 r[36];
    make_rsdp(r, 0, 0xe0000);
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag(&b, 14, r, 19);
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("holds no 20-byte RSDP");
    assert_err_names_offset(off);
}

static void test_short_new_rsdp_is_refused(void **state)
{
    (void)state;
    u8 r[36];
    make_rsdp(r, 2, 0xe0000);
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    u32 off = mb_tag(&b, 15, r, 20);      /* an ACPI 1.0 body in a 2.0 tag */
    mb_end(&b);
    assert_parse_fails(&b);
    assert_err_names("holds no 36-byte RSDP");
    assert_err_names_offset(off);
}

/* ---- error reporting ---- */

static void test_error_without_message_buffer_still_fails(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, "no map");
    mb_end(&b);
    mb_finish(&b);
    assert_int_equal(mb2_parse(b.buf, b.len, PHYS, &bi, NULL, 0), -1);
}

static void test_error_message_is_cut_to_its_buffer(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_cmdline(&b, "no map");
    mb_end(&b);
    mb_finish(&b);
    char *small = malloc(12);             /* exact size: ASan guards it */
    assert_int_equal(mb2_parse(b.buf, b.len, PHYS, &bi, small, 12), -1);
    assert_string_equal(small, "multiboot2:");
    free(small);
}

static void test_success_leaves_error_message_empty(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_end(&b);
    assert_parse_ok(&b);
    assert_string_equal(err, "");
}

/* ---- mb2_find_module, mb2_mem_type_name ---- */

static void test_find_module_by_name(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_module(&b, 0x400000, 0x500000, "guest scenario=benign");
    mb_module(&b, 0x500000, 0x501000, "policy");
    mb_end(&b);
    assert_parse_ok(&b);
    const struct mb2_module *m = mb2_find_module(&bi, "policy");
    assert_ptr_equal(m, &bi.modules[1]);
    m = mb2_find_module(&bi, "guest");
    assert_ptr_equal(m, &bi.modules[0]);
    assert_string_equal(m->args, "scenario=benign");
}

static void test_find_module_missing_or_by_prefix_is_null(void **state)
{
    (void)state;
    struct mb b;
    mb_begin(&b);
    mb_mmap_default(&b);
    mb_module(&b, 0x400000, 0x500000, "guest");
    mb_end(&b);
    assert_parse_ok(&b);
    assert_null(mb2_find_module(&bi, "profile"));
    assert_null(mb2_find_module(&bi, "gue"));
    assert_null(mb2_find_module(&bi, "guests"));
}

static void test_mem_type_names(void **state)
{
    (void)state;
    assert_string_equal(mb2_mem_type_name(MB2_MEM_AVAILABLE), "available");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_RESERVED), "reserved");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_ACPI_RECLAIMABLE), "ACPI reclaimable");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_NVS), "ACPI NVS");
    assert_string_equal(mb2_mem_type_name(MB2_MEM_BADRAM), "bad RAM");
    assert_string_equal(mb2_mem_type_name(7), "persistent");
    assert_string_equal(mb2_mem_type_name(12), "persistent (old)");
    assert_string_equal(mb2_mem_type_name(20), "firmware code");
    assert_string_equal(mb2_mem_type_name(0), "unknown");
    assert_string_equal(mb2_mem_type_name(77), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_structure_is_parsed),
        cmocka_unit_test(test_minimal_structure_is_mmap_and_end),
        cmocka_unit_test(test_structure_bounds_are_recorded),
        cmocka_unit_test(test_avail_larger_than_total_size_is_fine),
        cmocka_unit_test(test_unknown_tags_are_skipped),
        cmocka_unit_test(test_tags_after_the_end_tag_are_ignored),
        cmocka_unit_test(test_unaligned_tag_sizes_round_up_to_8),
        cmocka_unit_test(test_mmap_with_larger_entry_size_is_read_at_that_stride),
        cmocka_unit_test(test_mmap_entry_of_length_zero_at_the_top_is_accepted),
        cmocka_unit_test(test_128_mmap_entries_are_accepted),
        cmocka_unit_test(test_16_modules_are_accepted),
        cmocka_unit_test(test_empty_module_is_accepted),
        cmocka_unit_test(test_longest_strings_that_fit_are_accepted),
        cmocka_unit_test(test_old_rsdp_alone_is_kept),
        cmocka_unit_test(test_new_rsdp_wins_over_a_later_old_one),
        cmocka_unit_test(test_null_structure_is_refused),
        cmocka_unit_test(test_misaligned_address_is_refused),
        cmocka_unit_test(test_fewer_than_8_bytes_is_refused),
        cmocka_unit_test(test_total_size_below_16_is_refused),
        cmocka_unit_test(test_total_size_above_maximum_is_refused),
        cmocka_unit_test(test_total_size_beyond_avail_is_refused),
        cmocka_unit_test(test_tag_smaller_than_its_header_is_refused),
        cmocka_unit_test(test_tag_of_size_zero_is_refused),
        cmocka_unit_test(test_tag_running_past_total_size_is_refused),
        cmocka_unit_test(test_end_tag_with_wrong_size_is_refused),
        cmocka_unit_test(test_missing_end_tag_is_refused),
        cmocka_unit_test(test_end_tag_outside_total_size_is_refused),
        cmocka_unit_test(test_missing_memory_map_is_refused),
        cmocka_unit_test(test_memory_map_after_the_end_tag_does_not_count),
        cmocka_unit_test(test_second_cmdline_tag_is_refused),
        cmocka_unit_test(test_second_loader_tag_is_refused),
        cmocka_unit_test(test_second_mmap_tag_is_refused),
        cmocka_unit_test(test_unterminated_cmdline_is_refused),
        cmocka_unit_test(test_empty_cmdline_tag_is_refused),
        cmocka_unit_test(test_unterminated_loader_name_is_refused),
        cmocka_unit_test(test_unterminated_module_string_is_refused),
        cmocka_unit_test(test_overlong_cmdline_is_refused),
        cmocka_unit_test(test_overlong_loader_name_is_refused),
        cmocka_unit_test(test_overlong_module_name_is_refused),
        cmocka_unit_test(test_overlong_module_args_are_refused),
        cmocka_unit_test(test_overlong_module_string_is_refused),
        cmocka_unit_test(test_module_tag_without_string_is_refused),
        cmocka_unit_test(test_module_ending_before_its_start_is_refused),
        cmocka_unit_test(test_more_than_16_modules_are_refused),
        cmocka_unit_test(test_short_basic_memory_tag_is_refused),
        cmocka_unit_test(test_mmap_tag_too_short_for_its_header_is_refused),
        cmocka_unit_test(test_mmap_entry_size_below_24_is_refused),
        cmocka_unit_test(test_mmap_entry_size_zero_is_refused),
        cmocka_unit_test(test_mmap_entry_size_not_multiple_of_8_is_refused),
        cmocka_unit_test(test_mmap_body_not_multiple_of_entry_size_is_refused),
        cmocka_unit_test(test_mmap_without_entries_is_refused),
        cmocka_unit_test(test_more_than_128_mmap_entries_are_refused),
        cmocka_unit_test(test_mmap_entry_wrapping_around_is_refused),
        cmocka_unit_test(test_rsdp_with_bad_signature_is_refused),
        cmocka_unit_test(test_old_rsdp_with_bad_checksum_is_refused),
        cmocka_unit_test(test_new_rsdp_with_bad_checksum_is_refused),
        cmocka_unit_test(test_short_old_rsdp_is_refused),
        cmocka_unit_test(test_short_new_rsdp_is_refused),
        cmocka_unit_test(test_error_without_message_buffer_still_fails),
        cmocka_unit_test(test_error_message_is_cut_to_its_buffer),
        cmocka_unit_test(test_success_leaves_error_message_empty),
        cmocka_unit_test(test_find_module_by_name),
        cmocka_unit_test(test_find_module_missing_or_by_prefix_is_null),
        cmocka_unit_test(test_mem_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
