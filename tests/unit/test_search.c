/* Unit tests for lib/search.c: the Horspool search against a plain one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/search.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static const u8 *plain(const u8 *hay, u32 n, const u8 *needle, u32 m)
{
    for (u32 i = 0; m && i + m <= n; i++)
        if (!memcmp(hay + i, needle, m))
            return hay + i;
    return NULL;
}

static const u8 *find(const u8 *hay, u32 n, const u8 *needle, u32 m)
{
    u8 skip[256];
    search_skip(skip, needle, m);
    return search_find(hay, n, needle, m, skip);
}

static void test_first_occurrence_at_every_place(void **state)
{
    (void)state;
    static u8 page[4096];
    const u8 sig[] = "VIGIL-SIGNATURE!";
    for (u32 at = 0; at + 16 <= 4096; at += 61) {
        memset(page, 0, sizeof(page));
        memcpy(page + at, sig, 16);
        if (at + 16 + 40 <= 4096)
            memcpy(page + at + 40, sig, 16);          /* a second one after: the first is found */
        assert_ptr_equal(find(page, 4096, sig, 16), page + at);
    }
    memset(page, 0, sizeof(page));
    memcpy(page + 4080, sig, 16);                     /* the page's last 16 bytes */
    assert_ptr_equal(find(page, 4096, sig, 16), page + 4080);
    memcpy(page + 4081, sig, 15);                     /* cut by the end: not there */
    memset(page + 4080, 0, 1);
    assert_null(find(page, 4096, sig, 16));
}

static void test_edges(void **state)
{
    (void)state;
    const u8 hay[] = "abcabcabd";
    assert_null(find(hay, 9, (const u8 *)"x", 0));                   /* an empty needle finds nothing */
    assert_null(find(hay, 3, (const u8 *)"abca", 4));                /* longer than the hay */
    assert_ptr_equal(find(hay, 9, (const u8 *)"abd", 3), hay + 6);
    assert_ptr_equal(find(hay, 9, (const u8 *)"c", 1), hay + 2);
    assert_ptr_equal(find(hay, 9, hay, 9), hay);                      /* the whole hay */
    u8 zero[256] = { 0 };                                             /* a table not made: still right */
    assert_ptr_equal(search_find(hay, 9, (const u8 *)"cabd", 4, zero), hay + 5);
}

/* Small alphabets make near misses and repeated bytes common. */
static void test_agrees_with_plain_search(void **state)
{
    (void)state;
    u64 x = 88172645463325252ull;
    static u8 hay[2048], needle[64];
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        u32 alpha = 2 + (u32)(x % 4), n = (u32)(x >> 8) % 2048, m = 1 + (u32)(x >> 24) % 24;
        for (u32 i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            hay[i] = (u8)('a' + x % alpha);
        }
        for (u32 i = 0; i < m; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            needle[i] = (u8)('a' + x % alpha);
        }
        if (n >= m && round % 3 == 0) {               /* planted, somewhere */
            u32 at = (u32)(x >> 32) % (n - m + 1);
            memcpy(hay + at, needle, m);
        }
        assert_ptr_equal(find(hay, n, needle, m), plain(hay, n, needle, m));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_occurrence_at_every_place),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_agrees_with_plain_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
