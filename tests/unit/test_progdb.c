/* Unit tests for ids/progdb.c: the `program NAME PAGE_VA HASH` records
 * that scripts/progpages.py appends to a profile (docs/profile.md), and the
 * page lookup program-integrity does with them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ids/progdb.h"
#include "ids/profile.h"
#include "lib/hash.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static struct progdb db;
static char err[200];

/* A profile as make writes build/linux.profile: the kernel's records, then
 * the programs' (the profile's parser passes them over). */
static const char PROFILE[] =
    "profile linux 1\n"
    "kaslr 1\n"
    "kernel_virt_base 0xffffffff80000000\n"
    "kernel_phys_start 0x1000000\n"
    "kernel_phys_end 0x4000000\n"
    "symbol init_task 0xffffffff82a0c940 9792\n"
    "struct mm_struct.exe_file 944 8\n"
    "# program-integrity: known-good hashes of programs' code pages (scripts/progpages.py; docs/profile.md)\n"
    "program busybox 0x401000 0x082a05303fa740fe\n"
    "program busybox 0x402000 0xcece2e47de9c056d\n"
    "program busybox 0x404000 0x1\n"
    "program vpi 0x401000 0xffffffffffffffff\n";

static int parse(const char *s) { return progdb_parse(s, strlen(s), &db, err, sizeof(err)); }

static void assert_err_(int r, const char *want, const char *file, int line)
{
    if (r != -1 || !strstr(err, want)) {
        fprintf(stderr, "%s:%d: want -1 with '%s', got %d '%s'\n", file, line, want, r, err);
        fail();
    }
}
#define assert_err(r, want) assert_err_((r), (want), __FILE__, __LINE__)

static void test_profile_with_programs(void **state)
{
    (void)state;
    assert_int_equal(parse(PROFILE), 0);
    assert_int_equal(db.nprog, 2);
    assert_int_equal(db.npages, 4);
    assert_int_equal(progdb_find(&db, "busybox"), 0);
    assert_int_equal(progdb_find(&db, "vpi"), 1);
    assert_int_equal(progdb_find(&db, "vp"), -1);
    assert_int_equal(progdb_find(&db, "busybox2"), -1);
    u64 h = 0;
    assert_true(progdb_page(&db, 0, 0x401000, &h));
    assert_true(h == 0x082a05303fa740feull);
    assert_true(progdb_page(&db, 0, 0x404000, &h) && h == 1);
    assert_true(progdb_page(&db, 1, 0x401000, &h) && h == ~0ull);
    assert_false(progdb_page(&db, 0, 0x403000, &h));       /* a gap */
    assert_false(progdb_page(&db, 0, 0x400000, &h));
    assert_false(progdb_page(&db, 0, 0x405000, &h));
    assert_false(progdb_page(&db, 1, 0x402000, &h));
    assert_false(progdb_page(&db, 2, 0x401000, &h));       /* no such program */
    /* ... and the profile's own parser takes the same text, ignoring them. */
    static struct profile p;
    assert_int_equal(profile_parse(PROFILE, strlen(PROFILE), &p, err, sizeof(err)), 0);
    assert_int_equal(p.nsyms, 1);
}

static void test_no_programs(void **state)
{
    (void)state;
    assert_int_equal(parse("profile testos 1\nsymbol idt 0x1000 4096\n"), 0);
    assert_int_equal(db.nprog, 0);
    assert_int_equal(progdb_find(&db, "busybox"), -1);
    u64 h;
    assert_false(progdb_page(&db, 0, 0x401000, &h));
    assert_int_equal(parse(""), 0);
}

static void test_tabs_crlf_comments(void **state)
{
    (void)state;
    assert_int_equal(parse("program\tvpi 0x401000  0x10 # a comment\r\n\n# program x 0x1000 0x1\n"), 0);
    assert_int_equal(db.nprog, 1);
    u64 h;
    assert_true(progdb_page(&db, 0, 0x401000, &h) && h == 0x10);
}

static void test_binary_search_over_many_pages(void **state)
{
    (void)state;
    static char text[PROGDB_MAX_PAGES * 48];
    size_t n = 0;
    for (u32 i = 0; i < PROGDB_MAX_PAGES; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "program %s 0x%x %u\n", i < 1024 ? "a" : "b",
                              0x400000 + 0x1000 * (i % 1024) * 2, i);
    assert_int_equal(progdb_parse(text, n, &db, err, sizeof(err)), 0);
    assert_int_equal(db.npages, PROGDB_MAX_PAGES);
    for (u32 i = 0; i < PROGDB_MAX_PAGES; i++) {
        u64 h;
        assert_true(progdb_page(&db, i < 1024 ? 0 : 1, 0x400000 + 0x1000 * (i % 1024) * 2, &h));
        assert_int_equal(h, i);
        assert_false(progdb_page(&db, i < 1024 ? 0 : 1, 0x401000 + 0x1000 * (i % 1024) * 2, &h));
    }
    /* one more is refused */
    n += (size_t)snprintf(text + n, sizeof(text) - n, "program b 0x10000000 1\n");
    assert_err(progdb_parse(text, n, &db, err, sizeof(err)), "more than 2048 program pages");
}

static void test_errors(void **state)
{
    (void)state;
    assert_err(parse("program vpi 0x401000\n"), "profile line 1: 'program NAME PAGE_VA HASH' expected");
    assert_err(parse("\nprogram vpi 0x401000 0x1 0x2\n"), "profile line 2: 'program NAME PAGE_VA HASH'");
    assert_err(parse("program vpi 0x40100g 0x1\n"), "'program NAME PAGE_VA HASH' expected");
    assert_err(parse("program vpi 0x401000 -1\n"), "'program NAME PAGE_VA HASH' expected");
    assert_err(parse("program vpi 0x401000 0x1ffffffffffffffff\n"), "'program NAME PAGE_VA HASH' expected");
    assert_err(parse("program sixteen-chars-xx 0x401000 1\n"), "(NAME 1-15 characters)");
    assert_err(parse("program vpi 0x401001 1\n"), "page 0x401001 of vpi is not a 4 KiB-aligned user address");
    assert_err(parse("program vpi 0x800000000000 1\n"), "not a 4 KiB-aligned user address");
    assert_err(parse("program vpi 0x402000 1\nprogram vpi 0x401000 1\n"),
               "profile line 2: page 0x401000 of vpi does not come after 0x402000 (ascending order)");
    assert_err(parse("program vpi 0x402000 1\nprogram vpi 0x402000 2\n"), "does not come after 0x402000");
    assert_err(parse("program a 0x1000 1\nprogram b 0x1000 1\nprogram a 0x2000 1\n"),
               "profile line 3: the pages of a are not together");
    char big[300];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = 0;
    assert_err(parse(big), "profile line 1: longer than 255 characters");
    char many[40 * 20] = "";
    size_t n = 0;
    for (int i = 0; i <= PROGDB_MAX_PROGRAMS; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, "program p%d 0x1000 1\n", i);
    assert_err(progdb_parse(many, n, &db, err, sizeof(err)), "profile line 17: more than 16 programs");
    assert_err(progdb_parse(many, 262145, &db, err, sizeof(err)), "at most 262144");
}

/* The hash the host tool computes (tests/unit/test_progpages.py checks the
 * same values against scripts/progpages.py). */
static void test_page_hash_is_lib_hash(void **state)
{
    (void)state;
    static u64 page[512];
    memset(page, 0, sizeof(page));
    assert_true(fnv64_qwords(FNV64_BASIS, page, 512) == 0x7da144b97d054b25ull);
    for (u32 i = 0; i < 512; i++)
        page[i] = 0x0101010101010101ull * (i & 0xff);
    assert_true(fnv64_qwords(FNV64_BASIS, page, 512) == 0x5b69a57d92e12125ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_with_programs),
        cmocka_unit_test(test_no_programs),
        cmocka_unit_test(test_tabs_crlf_comments),
        cmocka_unit_test(test_binary_search_over_many_pages),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_page_hash_is_lib_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
