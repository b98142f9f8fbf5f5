/* Unit tests for ids/profile.c: profile_parse (format: docs/profile.md),
 * the lookups and profile_kva_to_pa. SAMPLE is a build/testos.profile as
 * mkprofile writes it; LINUX a part of build/linux.profile as
 * scripts/linuxprofile.py writes it (link-time addresses, placed at run
 * time by profile_place). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ids/profile.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static const char SAMPLE[] =
    "# testos kernel profile: symbols and structure layouts for introspection.\n"
    "# Format: docs/testos.md, \"Profile\". One record a line, fields separated by\n"
    "# spaces; addresses are 0x-prefixed hex, offsets and sizes decimal.\n"
    "profile testos 1\n"
    "arch x86_64\n"
    "kernel_virt_base 0xffffffff80000000\n"
    "kernel_phys_start 0x100000\n"
    "kernel_phys_end 0x13e000\n"
    "direct_map_base 0xffff800000000000\n"
    "direct_map_limit 0x1800000\n"
    "user_top 0x800000000000\n"
    "symbol kernel_text 0xffffffff80107000 31853\n"
    "symbol kernel_rodata 0xffffffff8010f000 113656\n"
    "symbol kernel_data 0xffffffff8012b000 77824\n"
    "symbol proc_list 0xffffffff80137a98 8\n"
    "symbol task_list 0xffffffff80137a90 8\n"
    "symbol current 0xffffffff80137a88 8\n"
    "symbol proc_pool 0xffffffff80137aa0 8704\n"
    "symbol syscall_table 0xffffffff80110a20 80\n"
    "symbol syscall_entry 0xffffffff8010eb40 0\n"
    "symbol idt 0xffffffff8012c000 4096\n"
    "symbol gdt 0xffffffff8012b000 4096\n"
    "symbol tss 0xffffffff8012e000 104\n"
    "symbol kernel_pml4 0xffffffff80134820 8\n"
    "syscall 0 write 0xffffffff8010d4b0\n"
    "syscall 1 yield 0xffffffff8010d4a0\n"
    "syscall 2 getpid 0xffffffff8010d370\n"
    "struct proc 136\n"
    "struct proc.pid 0 4\n"
    "struct proc.ppid 4 4\n"
    "struct proc.name 8 16\n"
    "struct proc.cr3 24 8\n"
    "struct proc.state 32 4\n"
    "struct proc.flags 36 4\n"
    "struct proc.next 40 8\n"
    "struct proc.task_next 48 8\n"
    "struct proc.kstack_top 56 8\n"
    "struct proc.nswitch 96 8\n"
    "struct proc.nsyscall 104 8\n"
    "const syscall_count 10\n"
    "const nproc 64\n"
    "const proc.state.free 0\n"
    "const proc.state.runnable 1\n"
    "const proc.state.running 2\n"
    "const proc.state.sleeping 3\n"
    "const proc.state.waiting 4\n"
    "const proc.state.dead 5\n"
    "const proc.flags.kernel 1\n";

static struct profile prof;
static char err[256];

/* The text is copied to an exact-size heap block: ASan sees reads past len. */
static int parse_len(const char *text, size_t len)
{
    memset(err, 0, sizeof(err));
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int r = profile_parse(copy, len, &prof, err, sizeof(err));
    free(copy);
    return r;
}

static int parse(const char *text) { return parse_len(text, strlen(text)); }

static void assert_ok_(int r, const char *file, int line)
{
    if (r != 0) {
        print_error("profile_parse failed: %s\n", err);
        _fail(file, line);
    }
}
#define assert_ok(r) assert_ok_((r), __FILE__, __LINE__)

/* The error names line `ln` exactly and contains `want`. */
static void assert_err_(int r, u32 ln, const char *want, const char *file, int line)
{
    char prefix[48];
    snprintf(prefix, sizeof(prefix), "profile line %u:", ln);
    if (r != -1) {
        print_error("profile_parse returned %d, expected -1 (%s %s)\n", r, prefix, want);
        _fail(file, line);
    }
    if (strncmp(err, prefix, strlen(prefix))) {
        print_error("error \"%s\" does not start with \"%s\"\n", err, prefix);
        _fail(file, line);
    }
    if (!strstr(err, want)) {
        print_error("error \"%s\" does not contain \"%s\"\n", err, want);
        _fail(file, line);
    }
}
#define assert_err(r, ln, want) assert_err_((r), (ln), (want), __FILE__, __LINE__)

/* "profile testos 1\n" followed by `body`. */
static int parse_with_header(const char *body)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf), "profile testos 1\n%s", body);
    return parse(buf);
}

/* ---- the sample ---- */

static void test_sample_header_and_layout(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    assert_string_equal(prof.os, "testos");
    assert_true(prof.kernel_virt_base == 0xffffffff80000000ull);
    assert_true(prof.kernel_phys_start == 0x100000);
    assert_true(prof.kernel_phys_end == 0x13e000);
    assert_true(prof.direct_map_base == 0xffff800000000000ull);
    assert_true(prof.direct_map_limit == 0x1800000);
    assert_true(prof.user_top == 0x800000000000ull);
    assert_int_equal(prof.nsyms, 13);
    assert_int_equal(prof.nfields, 12);
    assert_int_equal(prof.nconsts, 9);
}

static void test_symbol_lookup(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    u64 addr = 0, size = 0;
    assert_true(profile_symbol(&prof, "syscall_table", &addr, &size));
    assert_true(addr == 0xffffffff80110a20ull);
    assert_true(size == 80);
    assert_true(profile_symbol(&prof, "kernel_pml4", &addr, &size));
    assert_true(addr == 0xffffffff80134820ull);
    assert_true(size == 8);
    /* size 0: unknown */
    assert_true(profile_symbol(&prof, "syscall_entry", &addr, &size));
    assert_true(addr == 0xffffffff8010eb40ull);
    assert_true(size == 0);
    /* size is optional for the caller */
    addr = 0;
    assert_true(profile_symbol(&prof, "idt", &addr, NULL));
    assert_true(addr == 0xffffffff8012c000ull);
}

static void test_symbol_lookup_absent(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    u64 addr = 0x1111, size = 0x2222;
    assert_false(profile_symbol(&prof, "sys_call_table", &addr, &size));
    assert_false(profile_symbol(&prof, "idt2", &addr, &size));
    assert_false(profile_symbol(&prof, "id", &addr, &size));
    assert_false(profile_symbol(&prof, "", &addr, &size));
    /* a syscall record is not a symbol */
    assert_false(profile_symbol(&prof, "write", &addr, &size));
    /* nor is a struct or a const */
    assert_false(profile_symbol(&prof, "proc", &addr, &size));
    assert_false(profile_symbol(&prof, "nproc", &addr, &size));
    assert_true(addr == 0x1111 && size == 0x2222);
}

static void test_symbol_without_size(void **state)
{
    (void)state;
    assert_ok(parse_with_header("symbol bare 0xffffffff80100000\nsymbol sized 0x10 0x20\n"));
    u64 addr = 0, size = 99;
    assert_true(profile_symbol(&prof, "bare", &addr, &size));
    assert_true(addr == 0xffffffff80100000ull);
    assert_true(size == 0);
    assert_true(profile_symbol(&prof, "sized", &addr, &size));
    assert_true(addr == 0x10 && size == 0x20);
}

static void test_first_of_duplicate_names_wins(void **state)
{
    (void)state;
    assert_ok(parse_with_header("symbol a 1 2\nsymbol a 3 4\n"));
    u64 addr = 0, size = 0;
    assert_true(profile_symbol(&prof, "a", &addr, &size));
    assert_true(addr == 1 && size == 2);
}

static void test_field_lookup(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    u64 off = 0, size = 0;
    assert_true(profile_field(&prof, "proc.cr3", &off, &size));
    assert_true(off == 24 && size == 8);
    assert_true(profile_field(&prof, "proc.name", &off, &size));
    assert_true(off == 8 && size == 16);
    assert_true(profile_field(&prof, "proc.nsyscall", &off, NULL));
    assert_true(off == 104);
    /* the structure's own size */
    assert_true(profile_field(&prof, "proc", &off, &size));
    assert_true(off == 136);
    assert_true(size == 0);
}

static void test_field_lookup_absent(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    u64 off = 7, size = 9;
    assert_false(profile_field(&prof, "proc.uid", &off, &size));
    assert_false(profile_field(&prof, "task", &off, &size));
    assert_false(profile_field(&prof, "proc.cr", &off, &size));
    assert_false(profile_field(&prof, "proc_list", &off, &size));
    assert_true(off == 7 && size == 9);
}

static void test_const_lookup(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    u64 v = 99;
    assert_true(profile_const(&prof, "syscall_count", &v));
    assert_true(v == 10);
    assert_true(profile_const(&prof, "proc.state.free", &v));
    assert_true(v == 0);
    assert_true(profile_const(&prof, "proc.state.dead", &v));
    assert_true(v == 5);
    assert_true(profile_const(&prof, "proc.flags.kernel", &v));
    assert_true(v == 1);
    v = 42;
    assert_false(profile_const(&prof, "proc.state.zombie", &v));
    assert_false(profile_const(&prof, "proc.state", &v));
    assert_true(v == 42);
}

static void test_kva_to_pa_inside_the_image(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    assert_true(profile_kva_to_pa(&prof, 0xffffffff80100000ull) == 0x100000);
    assert_true(profile_kva_to_pa(&prof, 0xffffffff80110a20ull) == 0x110a20);
    assert_true(profile_kva_to_pa(&prof, 0xffffffff8013dfffull) == 0x13dfff);
}

static void test_kva_to_pa_outside_the_image(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    assert_true(profile_kva_to_pa(&prof, 0xffffffff800fffffull) == 0);    /* just below */
    assert_true(profile_kva_to_pa(&prof, 0xffffffff8013e000ull) == 0);    /* the end */
    assert_true(profile_kva_to_pa(&prof, 0xffffffff80000000ull) == 0);    /* the base itself */
    assert_true(profile_kva_to_pa(&prof, 0xffffffffffffffffull) == 0);
    assert_true(profile_kva_to_pa(&prof, 0xffff800000100000ull) == 0);    /* direct map */
    assert_true(profile_kva_to_pa(&prof, 0x100000) == 0);                 /* a physical address */
    assert_true(profile_kva_to_pa(&prof, 0) == 0);
}

/* No kernel_virt_base: an identity-mapped kernel, translated 1:1 within
 * its image and not at all outside it. */
static void test_kva_to_pa_identity_mapped_kernel(void **state)
{
    (void)state;
    assert_ok(parse_with_header("kernel_phys_start 0x100000\nkernel_phys_end 0x13e000\n"));
    assert_true(profile_kva_to_pa(&prof, 0x100000) == 0x100000);
    assert_true(profile_kva_to_pa(&prof, 0x13dfff) == 0x13dfff);
    assert_true(profile_kva_to_pa(&prof, 0x13e000) == 0);
    assert_true(profile_kva_to_pa(&prof, 0xfffff) == 0);
    assert_true(profile_kva_to_pa(&prof, 0xffffffff80100000ull) == 0);
}

/* Regression: with kernel_phys_end missing (or below kernel_phys_start)
 * the image size underflowed and every address at or above base + start
 * was "inside the image". */
static void test_kva_to_pa_with_missing_or_reversed_image_bounds(void **state)
{
    (void)state;
    assert_ok(parse_with_header("kernel_virt_base 0xffffffff80000000\nkernel_phys_start 0x100000\n"));
    assert_true(profile_kva_to_pa(&prof, 0xffffffff80100000ull) == 0);
    assert_true(profile_kva_to_pa(&prof, 0xffffffffffffffffull) == 0);
    assert_ok(parse_with_header("kernel_virt_base 0xffffffff80000000\nkernel_phys_start 0x200000\n"
                                "kernel_phys_end 0x100000\n"));
    assert_true(profile_kva_to_pa(&prof, 0xffffffff80300000ull) == 0);
}

/* ---- format details ---- */

static void test_comments_blank_lines_crlf_tabs(void **state)
{
    (void)state;
    assert_ok(parse("\r\n# comment\r\n\r\n   \r\n\tprofile\ttestos\t1\t# trailing\r\n"
                    "symbol  a   0x10  8   # two spaces\r\n"
                    "const b 7 #c"));                                     /* no final newline */
    assert_string_equal(prof.os, "testos");
    u64 addr = 0, size = 0, v = 0;
    assert_true(profile_symbol(&prof, "a", &addr, &size));
    assert_true(addr == 0x10 && size == 8);
    assert_true(profile_const(&prof, "b", &v));
    assert_true(v == 7);
}

static void test_unknown_records_are_ignored(void **state)
{
    (void)state;
    assert_ok(parse_with_header("arch x86_64\nsyscall 0 write 0xffffffff8010d4b0\n"
                                "linux_task_offset 1234 whatever\nX\n"));
    assert_int_equal(prof.nsyms, 0);
    assert_int_equal(prof.nfields, 0);
    assert_int_equal(prof.nconsts, 0);
}

static void test_number_forms(void **state)
{
    (void)state;
    assert_ok(parse_with_header("symbol a 0XFFFFFFFF80000000 0x10\nsymbol b 18446744073709551615 0\n"
                                "const c 0xffffffffffffffff\n"));
    u64 addr = 0, size = 0, v = 0;
    assert_true(profile_symbol(&prof, "a", &addr, &size));
    assert_true(addr == 0xffffffff80000000ull && size == 16);
    assert_true(profile_symbol(&prof, "b", &addr, &size));
    assert_true(addr == UINT64_MAX);
    assert_true(profile_const(&prof, "c", &v));
    assert_true(v == UINT64_MAX);
}

static void test_longest_name(void **state)
{
    (void)state;
    char body[256];
    char name[PROFILE_NAME];
    memset(name, 'n', PROFILE_NAME - 1);
    name[PROFILE_NAME - 1] = 0;                  /* 39 characters */
    snprintf(body, sizeof(body), "symbol %s 1\nstruct %s 2\nconst %s 3\n", name, name, name);
    assert_ok(parse_with_header(body));
    u64 a = 0, s = 0, v = 0;
    assert_true(profile_symbol(&prof, name, &a, &s));
    assert_true(a == 1);
    assert_true(profile_field(&prof, name, &a, &s));
    assert_true(a == 2);
    assert_true(profile_const(&prof, name, &v));
    assert_true(v == 3);
}

static void test_maximum_counts(void **state)
{
    (void)state;
    static char body[8192];
    size_t pos = 0;
    for (int i = 0; i < PROFILE_MAX_SYMS; i++)
        pos += (size_t)snprintf(body + pos, sizeof(body) - pos, "symbol s%d %d %d\n", i, i, i * 2);
    for (int i = 0; i < PROFILE_MAX_FIELDS; i++)
        pos += (size_t)snprintf(body + pos, sizeof(body) - pos, "struct t.f%d %d 8\n", i, i * 8);
    for (int i = 0; i < PROFILE_MAX_CONSTS; i++)
        pos += (size_t)snprintf(body + pos, sizeof(body) - pos, "const c%d %d\n", i, 1000 + i);
    assert_ok(parse_with_header(body));
    assert_int_equal(prof.nsyms, PROFILE_MAX_SYMS);
    assert_int_equal(prof.nfields, PROFILE_MAX_FIELDS);
    assert_int_equal(prof.nconsts, PROFILE_MAX_CONSTS);
    u64 a = 0, s = 0;
    assert_true(profile_symbol(&prof, "s47", &a, &s));
    assert_true(a == 47 && s == 94);
    assert_true(profile_field(&prof, "t.f31", &a, &s));
    assert_true(a == 248 && s == 8);
    assert_true(profile_const(&prof, "c31", &a));
    assert_true(a == 1031);
}

static void test_longest_line(void **state)
{
    (void)state;
    char text[512];
    int n = snprintf(text, sizeof(text), "profile testos 1\n# ");
    memset(text + n, 'x', 255 - 2);             /* a 255-character comment line */
    text[n + 253] = 0;
    assert_ok(parse(text));
}

static void test_parse_clears_the_previous_profile(void **state)
{
    (void)state;
    assert_ok(parse(SAMPLE));
    assert_ok(parse("profile other 2\n"));
    assert_string_equal(prof.os, "other");
    assert_int_equal(prof.nsyms, 0);
    assert_true(prof.kernel_virt_base == 0);
}

/* ---- errors ---- */

static void test_err_missing_header(void **state)
{
    (void)state;
    const char *body = strstr(SAMPLE, "arch x86_64");
    assert_int_equal(parse(body), -1);
    assert_string_equal(err, "profile: no 'profile NAME VERSION' line: not a profile");
    assert_int_equal(parse(""), -1);
    assert_non_null(strstr(err, "not a profile"));
    assert_int_equal(parse("# profile testos 1\n"), -1);
    assert_non_null(strstr(err, "not a profile"));
}

static void test_err_bad_header(void **state)
{
    (void)state;
    assert_err(parse("profile\n"), 1, "'profile NAME VERSION' expected");
    assert_err(parse("# x\nprofile # testos 1\n"), 2, "'profile NAME VERSION' expected");
    /* the name must fit os[24] */
    assert_err(parse("profile name-of-24-characters-xy 1\n"), 1, "'profile NAME VERSION' expected");
    assert_ok(parse("profile name-of-23-characters-x 1\n"));
    assert_string_equal(prof.os, "name-of-23-characters-x");
}

static void test_err_bad_layout_numbers(void **state)
{
    (void)state;
    assert_err(parse_with_header("kernel_virt_base 0xffffffffzz000000\n"), 2, "'kernel_virt_base' needs one number");
    assert_err(parse_with_header("kernel_phys_start\n"), 2, "'kernel_phys_start' needs one number");
    assert_err(parse_with_header("kernel_phys_end 1 2\n"), 2, "'kernel_phys_end' needs one number");
    assert_err(parse_with_header("direct_map_base -1\n"), 2, "'direct_map_base' needs one number");
    assert_err(parse_with_header("\ndirect_map_limit 0x\n"), 3, "'direct_map_limit' needs one number");
    assert_err(parse_with_header("user_top 0x10000000000000000\n"), 2, "'user_top' needs one number");
    assert_err(parse_with_header("user_top 1e6\n"), 2, "'user_top' needs one number");
}

static void test_err_bad_symbol(void **state)
{
    (void)state;
    const char *want = "'symbol NAME ADDR [SIZE]' expected";
    assert_err(parse_with_header("symbol a 0xzz\n"), 2, want);
    assert_err(parse_with_header("symbol a 0x10 big\n"), 2, want);
    assert_err(parse_with_header("symbol a\n"), 2, want);
    assert_err(parse_with_header("symbol\n"), 2, want);
    assert_err(parse_with_header("symbol a ffffffff80000000\n"), 2, want);   /* hex needs 0x */
    assert_err(parse_with_header("symbol a 0x10 -8\n"), 2, want);
}

static void test_err_bad_struct(void **state)
{
    (void)state;
    const char *want = "'struct NAME SIZE' or 'struct NAME.FIELD OFFSET SIZE' expected";
    assert_err(parse_with_header("struct proc.pid x 4\n"), 2, want);
    assert_err(parse_with_header("struct proc.pid 0 y\n"), 2, want);
    assert_err(parse_with_header("struct proc\n"), 2, want);
}

static void test_err_bad_const(void **state)
{
    (void)state;
    const char *want = "'const NAME VALUE' expected";
    assert_err(parse_with_header("const a b\n"), 2, want);
    assert_err(parse_with_header("const a\n"), 2, want);
    assert_err(parse_with_header("const a 1 2\n"), 2, want);
}

static void test_err_name_too_long(void **state)
{
    (void)state;
    char body[256];
    char name[PROFILE_NAME + 1];
    memset(name, 'n', PROFILE_NAME);
    name[PROFILE_NAME] = 0;                       /* 40 characters */
    snprintf(body, sizeof(body), "symbol %s 1\n", name);
    assert_err(parse_with_header(body), 2, "'symbol NAME ADDR [SIZE]' expected");
    snprintf(body, sizeof(body), "struct %s 1\n", name);
    assert_err(parse_with_header(body), 2, "'struct NAME SIZE'");
    snprintf(body, sizeof(body), "const %s 1\n", name);
    assert_err(parse_with_header(body), 2, "'const NAME VALUE' expected");
}

static void test_err_too_many_symbols(void **state)
{
    (void)state;
    static char body[8192];
    size_t pos = 0;
    for (int i = 0; i < PROFILE_MAX_SYMS + 1; i++)
        pos += (size_t)snprintf(body + pos, sizeof(body) - pos, "symbol s%d %d\n", i, i);
    assert_err(parse_with_header(body), PROFILE_MAX_SYMS + 2, "more than 64 symbols");
}

static void test_err_too_many_fields(void **state)
{
    (void)state;
    static char body[8192];
    size_t pos = 0;
    for (int i = 0; i < PROFILE_MAX_FIELDS + 1; i++)
        pos += (size_t)snprintf(body + pos, sizeof(body) - pos, "struct t.f%d %d 8\n", i, i);
    assert_err(parse_with_header(body), PROFILE_MAX_FIELDS + 2, "more than 64 structure fields");
}

static void test_err_too_many_consts(void **state)
{
    (void)state;
    static char body[8192];
    size_t pos = 0;
    for (int i = 0; i < PROFILE_MAX_CONSTS + 1; i++)
        pos += (size_t)snprintf(body + pos, sizeof(body) - pos, "const c%d %d\n", i, i);
    assert_err(parse_with_header(body), PROFILE_MAX_CONSTS + 2, "more than 32 constants");
}

static void test_err_line_too_long(void **state)
{
    (void)state;
    char text[512];
    int n = snprintf(text, sizeof(text), "profile testos 1\n# ");
    memset(text + n, 'x', 256 - 2);             /* a 256-character comment line */
    text[n + 254] = 0;
    assert_err(parse(text), 2, "longer than 255 characters");
}

static void test_err_non_printable_byte(void **state)
{
    (void)state;
    assert_err(parse("profile testos 1\nsymbol a\x01 1\n"), 2, "byte 0x01 is not printable text");
    assert_err(parse("profile testos 1\n\nconst a 1\x7f\n"), 3, "byte 0x7f is not printable text");
    assert_err(parse("profile test\xc3\xb6s 1\n"), 1, "byte 0xc3 is not printable text");
    /* even in a comment */
    assert_err(parse("profile testos 1\n# \x1b[0m\n"), 2, "byte 0x1b");
    static const char nul[] = "profile testos 1\nsymbol a 1\0\n";
    assert_err(parse_len(nul, sizeof(nul) - 1), 2, "byte 0x00 is not printable text");
}

static void test_err_too_big(void **state)
{
    (void)state;
    size_t len = 262145;
    char *f = malloc(len);
    assert_non_null(f);
    memset(f, '\n', len);
    memcpy(f, "profile testos 1", 16);
    assert_int_equal(parse_len(f, len), -1);
    assert_string_equal(err, "profile is 262145 bytes; at most 262144");
    /* 262144 bytes is fine */
    assert_ok(parse_len(f, len - 1));
    free(f);
}

static void test_err_small_buffer_is_terminated(void **state)
{
    (void)state;
    char small[13];
    memset(small, 'Z', sizeof(small));
    assert_int_equal(profile_parse("symbol\n", 7, &prof, small, sizeof(small)), -1);
    assert_string_equal(small, "profile line");
}


static const char LINUX[] =
    "profile linux 1\n"
    "arch x86_64\n"
    "release 6.1.0-57-amd64\n"
    "kaslr 1\n"
    "kernel_virt_base 0xffffffff80000000\n"
    "kernel_phys_start 0x1000000\n"
    "kernel_phys_end 0x4430000\n"
    "direct_map_base 0xffff888000000000\n"
    "user_top 0x7ffffffff000\n"
    "symbol _text 0xffffffff81000000 54722560\n"
    "symbol init_task 0xffffffff82a1aa40 9792\n"
    "symbol entry_SYSCALL_64 0xffffffff81c00080 0\n"
    "symbol idt_table 0xffffffff83313000 4096\n"
    "const percpu.gdt_page 0xb000\n"
    "struct task_struct 9792\n"
    "struct task_struct.pid 2416 4\n"
    "struct module.core_layout.base 320 8\n";

static void test_linux_profile_is_unplaced_until_placed(void **state)
{
    (void)state;
    assert_ok(parse(LINUX));
    assert_true(profile_is_linux(&prof));
    assert_true(prof.kaslr);
    assert_false(prof.placed);
    assert_string_equal(prof.release, "6.1.0-57-amd64");
    u64 a = 1, s = 1;
    /* nothing is placed: no symbol, no translation */
    assert_false(profile_symbol(&prof, "init_task", &a, &s));
    assert_int_equal(profile_sym(&prof, "init_task"), 0);
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff82a1aa40ull), 0);
    /* the link-time value is there for the engine to compute the slide */
    assert_true(profile_link_symbol(&prof, "entry_SYSCALL_64", &a));
    assert_int_equal(a, 0xffffffff81c00080ull);
    /* layouts and constants do not move */
    u64 off;
    assert_true(profile_field(&prof, "module.core_layout.base", &off, &s));
    assert_int_equal(off, 320);
    assert_true(profile_const(&prof, "percpu.gdt_page", &a));
    assert_int_equal(a, 0xb000);
}

static void test_linux_profile_placed_gives_slid_addresses(void **state)
{
    (void)state;
    assert_ok(parse(LINUX));
    const u64 slide = 0x1e600000, phys = 0x1ae00000;
    assert_true(profile_place(&prof, slide, phys));
    assert_true(prof.placed);
    u64 a, s;
    assert_true(profile_symbol(&prof, "init_task", &a, &s));
    assert_int_equal(a, 0xffffffff82a1aa40ull + slide);
    assert_int_equal(s, 9792);
    assert_int_equal(profile_sym(&prof, "idt_table"), 0xffffffff83313000ull + slide);
    assert_int_equal(profile_sym(&prof, "no_such_symbol"), 0);
    /* run-time virtual to run-time physical, inside the slid image only */
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff81000000ull + slide), phys);
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff82a1aa40ull + slide), phys + 0x1a1aa40);
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff81000000ull + slide - 1), 0);
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff84430000ull + slide - 1), phys + 0x342ffff);
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff84430000ull + slide), 0);
    /* the link-time address is not the run-time one any more */
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff81000000ull), 0);
    /* slide 0 (nokaslr) with the image moved physically */
    assert_ok(parse(LINUX));
    assert_true(profile_place(&prof, 0, 0x1ae00000));
    assert_int_equal(profile_sym(&prof, "_text"), 0xffffffff81000000ull);
    assert_int_equal(profile_kva_to_pa(&prof, 0xffffffff81000010ull), 0x1ae00010);
}

static void test_linux_profile_place_refuses_nonsense(void **state)
{
    (void)state;
    assert_ok(parse(LINUX));
    assert_false(profile_place(&prof, 0x123, 0x1ae00000));               /* slide not page-aligned */
    assert_false(profile_place(&prof, 0x200000, 0x1ae00123));            /* physical not page-aligned */
    assert_false(profile_place(&prof, 0 - 0x2000000ull, 0x1ae00000));    /* below the top 2 GiB */
    assert_false(profile_place(&prof, 0x7e000000, 0x1ae00000));          /* past the end of the address space */
    assert_false(profile_place(&prof, 0x200000, 0 - 0x1000ull));         /* the physical extent wraps */
    assert_false(prof.placed);
    assert_int_equal(profile_sym(&prof, "_text"), 0);
    /* a profile without kaslr is placed already, and stays where it is */
    assert_ok(parse(SAMPLE));
    assert_true(prof.placed);
    assert_false(profile_is_linux(&prof));
    assert_false(profile_place(&prof, 0x200000, 0x100000));
    assert_int_equal(profile_sym(&prof, "idt"), 0xffffffff8012c000ull);
}

static void test_err_bad_release_and_kaslr(void **state)
{
    (void)state;
    assert_err(parse_with_header("release\n"), 2, "'release STRING' expected");
    assert_err(parse_with_header("release a b\n"), 2, "'release STRING' expected");
    assert_err(parse_with_header("release 0123456789012345678901234567890123456789012345678\n"), 2,
               "at most 47 characters");
    assert_err(parse_with_header("kaslr 2\n"), 2, "'kaslr 0' or 'kaslr 1' expected");
    assert_err(parse_with_header("kaslr\n"), 2, "'kaslr 0' or 'kaslr 1' expected");
    /* a kaslr profile without the image's extent cannot be placed */
    assert_int_equal(parse_with_header("kaslr 1\n"), -1);
    assert_string_equal(err, "profile: 'kaslr 1' needs kernel_virt_base, kernel_phys_start and kernel_phys_end");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_header_and_layout),
        cmocka_unit_test(test_symbol_lookup),
        cmocka_unit_test(test_symbol_lookup_absent),
        cmocka_unit_test(test_symbol_without_size),
        cmocka_unit_test(test_first_of_duplicate_names_wins),
        cmocka_unit_test(test_field_lookup),
        cmocka_unit_test(test_field_lookup_absent),
        cmocka_unit_test(test_const_lookup),
        cmocka_unit_test(test_kva_to_pa_inside_the_image),
        cmocka_unit_test(test_kva_to_pa_outside_the_image),
        cmocka_unit_test(test_kva_to_pa_identity_mapped_kernel),
        cmocka_unit_test(test_kva_to_pa_with_missing_or_reversed_image_bounds),
        cmocka_unit_test(test_comments_blank_lines_crlf_tabs),
        cmocka_unit_test(test_unknown_records_are_ignored),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_longest_name),
        cmocka_unit_test(test_maximum_counts),
        cmocka_unit_test(test_longest_line),
        cmocka_unit_test(test_parse_clears_the_previous_profile),
        cmocka_unit_test(test_err_missing_header),
        cmocka_unit_test(test_err_bad_header),
        cmocka_unit_test(test_err_bad_layout_numbers),
        cmocka_unit_test(test_err_bad_symbol),
        cmocka_unit_test(test_err_bad_struct),
        cmocka_unit_test(test_err_bad_const),
        cmocka_unit_test(test_err_name_too_long),
        cmocka_unit_test(test_err_too_many_symbols),
        cmocka_unit_test(test_err_too_many_fields),
        cmocka_unit_test(test_err_too_many_consts),
        cmocka_unit_test(test_err_line_too_long),
        cmocka_unit_test(test_err_non_printable_byte),
        cmocka_unit_test(test_err_too_big),
        cmocka_unit_test(test_err_small_buffer_is_terminated),
        cmocka_unit_test(test_linux_profile_is_unplaced_until_placed),
        cmocka_unit_test(test_linux_profile_placed_gives_slid_addresses),
        cmocka_unit_test(test_linux_profile_place_refuses_nonsense),
        cmocka_unit_test(test_err_bad_release_and_kaslr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
