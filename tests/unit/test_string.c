/* Unit tests for lib/string.c: str_nlen, str_copy, str_to_u64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* ---- str_nlen ---- */

static void test_nlen_of_short_string_is_its_length(void **state)
{
    (void)state;
    assert_int_equal(str_nlen("abc", 10), 3);
    assert_int_equal(str_nlen("", 10), 0);
}

static void test_nlen_stops_at_max(void **state)
{
    (void)state;
    assert_int_equal(str_nlen("abcdef", 4), 4);
    assert_int_equal(str_nlen("abcd", 4), 4);
}

static void test_nlen_reads_no_further_than_max(void **state)
{
    (void)state;
    /* not NUL-terminated: ASan reports a read past the 3 heap bytes */
    char *raw = malloc(3);
    memcpy(raw, "xyz", 3);
    assert_int_equal(str_nlen(raw, 3), 3);
    free(raw);
}

static void test_nlen_with_max_zero_reads_nothing(void **state)
{
    (void)state;
    assert_int_equal(str_nlen(NULL, 0), 0);
}

/* ---- str_copy ---- */

static void test_copy_that_fits(void **state)
{
    (void)state;
    char dst[8];
    assert_int_equal(str_copy(dst, "guest", sizeof(dst)), 5);
    assert_string_equal(dst, "guest");
}

static void test_copy_fitting_exactly(void **state)
{
    (void)state;
    char *dst = malloc(6);
    assert_int_equal(str_copy(dst, "guest", 6), 5);
    assert_string_equal(dst, "guest");
    free(dst);
}

static void test_copy_truncates_and_terminates(void **state)
{
    (void)state;
    char *dst = malloc(4);   /* exact size: ASan catches an overflow */
    assert_int_equal(str_copy(dst, "profile", 4), 7);
    assert_string_equal(dst, "pro");
    free(dst);
}

static void test_copy_size_one_gives_empty_string(void **state)
{
    (void)state;
    char dst = 'x';
    assert_int_equal(str_copy(&dst, "abc", 1), 3);
    assert_int_equal(dst, 0);
}

static void test_copy_size_zero_writes_nothing(void **state)
{
    (void)state;
    char dst = 'x';
    assert_int_equal(str_copy(&dst, "abc", 0), 3);
    assert_int_equal(dst, 'x');
}

/* ---- str_to_u64 ---- */

static void test_to_u64_parses_decimal(void **state)
{
    (void)state;
    u64 v = 1;
    assert_true(str_to_u64("0", 1, &v));
    assert_int_equal(v, 0);
    assert_true(str_to_u64("12345", 5, &v));
    assert_int_equal(v, 12345);
    assert_true(str_to_u64("007", 3, &v));
    assert_int_equal(v, 7);
}

static void test_to_u64_parses_hex_with_0x(void **state)
{
    (void)state;
    u64 v = 0;
    assert_true(str_to_u64("0x1f", 4, &v));
    assert_int_equal(v, 0x1f);
    assert_true(str_to_u64("0XAbCd", 6, &v));
    assert_int_equal(v, 0xabcd);
    assert_true(str_to_u64("0x0", 3, &v));
    assert_int_equal(v, 0);
}

static void test_to_u64_uses_only_len_bytes(void **state)
{
    (void)state;
    u64 v = 0;
    assert_true(str_to_u64("123abc", 3, &v));
    assert_int_equal(v, 123);
    assert_true(str_to_u64("0x10 rest", 4, &v));
    assert_int_equal(v, 0x10);
    /* "0x" cut to "0" is a plain decimal zero */
    assert_true(str_to_u64("0x", 1, &v));
    assert_int_equal(v, 0);
}

static void test_to_u64_accepts_the_largest_value(void **state)
{
    (void)state;
    u64 v = 0;
    assert_true(str_to_u64("18446744073709551615", 20, &v));
    assert_true(v == UINT64_MAX);
    v = 0;
    assert_true(str_to_u64("0xffffffffffffffff", 18, &v));
    assert_true(v == UINT64_MAX);
}

static void test_to_u64_refuses_overflow_at_2_pow_64(void **state)
{
    (void)state;
    u64 v = 99;
    assert_false(str_to_u64("18446744073709551616", 20, &v));
    assert_false(str_to_u64("18446744073709551620", 20, &v));
    assert_false(str_to_u64("99999999999999999999", 20, &v));
    assert_false(str_to_u64("0x10000000000000000", 19, &v));
    assert_int_equal(v, 99);
}

static void test_to_u64_refuses_empty_input(void **state)
{
    (void)state;
    u64 v = 99;
    assert_false(str_to_u64("", 0, &v));
    assert_false(str_to_u64("5", 0, &v));
    assert_int_equal(v, 99);
}

static void test_to_u64_refuses_bare_0x(void **state)
{
    (void)state;
    u64 v = 99;
    assert_false(str_to_u64("0x", 2, &v));
    assert_false(str_to_u64("0X", 2, &v));
    assert_int_equal(v, 99);
}

static void test_to_u64_refuses_bad_digits(void **state)
{
    (void)state;
    u64 v = 99;
    assert_false(str_to_u64("12a", 3, &v));
    assert_false(str_to_u64("ff", 2, &v));      /* hex digits need 0x */
    assert_false(str_to_u64("0x1g", 4, &v));
    assert_false(str_to_u64("-1", 2, &v));
    assert_false(str_to_u64("+1", 2, &v));
    assert_false(str_to_u64(" 1", 2, &v));
    assert_false(str_to_u64("1 ", 2, &v));
    assert_false(str_to_u64("0x0x1", 5, &v));
    assert_int_equal(v, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nlen_of_short_string_is_its_length),
        cmocka_unit_test(test_nlen_stops_at_max),
        cmocka_unit_test(test_nlen_reads_no_further_than_max),
        cmocka_unit_test(test_nlen_with_max_zero_reads_nothing),
        cmocka_unit_test(test_copy_that_fits),
        cmocka_unit_test(test_copy_fitting_exactly),
        cmocka_unit_test(test_copy_truncates_and_terminates),
        cmocka_unit_test(test_copy_size_one_gives_empty_string),
        cmocka_unit_test(test_copy_size_zero_writes_nothing),
        cmocka_unit_test(test_to_u64_parses_decimal),
        cmocka_unit_test(test_to_u64_parses_hex_with_0x),
        cmocka_unit_test(test_to_u64_uses_only_len_bytes),
        cmocka_unit_test(test_to_u64_accepts_the_largest_value),
        cmocka_unit_test(test_to_u64_refuses_overflow_at_2_pow_64),
        cmocka_unit_test(test_to_u64_refuses_empty_input),
        cmocka_unit_test(test_to_u64_refuses_bare_0x),
        cmocka_unit_test(test_to_u64_refuses_bad_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
