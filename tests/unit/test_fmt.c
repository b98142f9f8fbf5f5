/* Unit tests for lib/fmt.c: fmt_vsnprintf, fmt_snprintf, fmt_json_escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/fmt.h"
#include "lib/string.h"

/* Make UBSan findings fail the test binary instead of only printing. */
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* Formats through fmt_vsnprintf (no format attribute here, so conversions
 * the compiler would reject, like %q, can be tested) into a heap buffer of
 * exactly `size` bytes, so ASan reports any write past it. */
static void check_fmt_sized(const char *file, int line, size_t size, const char *want, int want_ret,
                            const char *fmt, ...)
{
    char *buf = size ? malloc(size) : NULL;
    if (size)
        memset(buf, 'Z', size);
    va_list ap;
    va_start(ap, fmt);
    int ret = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    _assert_int_equal(ret, want_ret, file, line);
    if (size)
        _assert_string_equal(buf, want, file, line);
    free(buf);
}

/* Enough room: the output must be `want` and the return its length. */
#define CHECK(want, ...) \
    check_fmt_sized(__FILE__, __LINE__, 256, (want), (int)strlen(want), __VA_ARGS__)
/* A buffer of `size` bytes: output `want`, return value `ret`. */
#define CHECK_SIZED(size, want, ret, ...) \
    check_fmt_sized(__FILE__, __LINE__, (size), (want), (ret), __VA_ARGS__)

/* ---- plain text and integer conversions ---- */

static void test_plain_text_is_copied(void **state)
{
    (void)state;
    CHECK("hello, world", "hello, world");
    CHECK("", "");
}

static void test_d_and_i_print_signed_decimal(void **state)
{
    (void)state;
    CHECK("0", "%d", 0);
    CHECK("42", "%d", 42);
    CHECK("-42", "%d", -42);
    CHECK("7 -7", "%i %i", 7, -7);
    CHECK("2147483647", "%d", INT32_MAX);
    CHECK("-2147483648", "%d", INT32_MIN);
}

static void test_ld_and_lld_print_64_bit_extremes(void **state)
{
    (void)state;
    CHECK("-9223372036854775808", "%lld", (long long)INT64_MIN);
    CHECK("9223372036854775807", "%lld", (long long)INT64_MAX);
    CHECK("-9223372036854775808", "%ld", (long)INT64_MIN);
    CHECK("-1", "%ld", -1L);
}

static void test_u_prints_unsigned_decimal(void **state)
{
    (void)state;
    CHECK("0", "%u", 0u);
    CHECK("4294967295", "%u", UINT32_MAX);
    /* %u takes an unsigned int: -1 is its maximum, not a 64-bit value */
    CHECK("4294967295", "%u", (unsigned)-1);
}

static void test_lu_llu_zu_print_64_bit_unsigned(void **state)
{
    (void)state;
    CHECK("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
    CHECK("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
    CHECK("18446744073709551615", "%zu", (size_t)SIZE_MAX);
    CHECK("4096", "%zu", (size_t)4096);
}

static void test_x_prints_lowercase_hex_and_X_uppercase(void **state)
{
    (void)state;
    CHECK("0", "%x", 0u);
    CHECK("deadbeef", "%x", 0xdeadbeefu);
    CHECK("DEADBEEF", "%X", 0xdeadbeefu);
    CHECK("ffffffff", "%x", (unsigned)-1);
}

static void test_llx_and_lx_print_64_bit_hex(void **state)
{
    (void)state;
    CHECK("deadbeefcafebabe", "%llx", 0xdeadbeefcafebabeull);
    CHECK("DEADBEEFCAFEBABE", "%llX", 0xdeadbeefcafebabeull);
    CHECK("ffffffffffffffff", "%lx", (unsigned long)UINT64_MAX);
    CHECK("100000000", "%llx", 0x100000000ull);
}

/* ---- width, padding, flags ---- */

static void test_width_right_aligns_with_blanks(void **state)
{
    (void)state;
    CHECK("   42", "%5d", 42);
    CHECK("  -42", "%5d", -42);
    CHECK(" beef", "%5x", 0xbeefu);
    CHECK("   ab", "%5s", "ab");
    CHECK("  z", "%3c", 'z');
}

static void test_width_smaller_than_value_does_not_truncate(void **state)
{
    (void)state;
    CHECK("123456", "%2d", 123456);
    CHECK("abcdef", "%3s", "abcdef");
}

static void test_minus_flag_left_aligns(void **state)
{
    (void)state;
    CHECK("42   |", "%-5d|", 42);
    CHECK("-42  |", "%-5d|", -42);
    CHECK("ab   |", "%-5s|", "ab");
    CHECK("z  |", "%-3c|", 'z');
    CHECK("ff    |", "%-6x|", 0xffu);
}

static void test_zero_flag_pads_numbers_with_zeros(void **state)
{
    (void)state;
    CHECK("00042", "%05d", 42);
    CHECK("0000beef", "%08x", 0xbeefu);
    CHECK("00000000000000ff", "%016llx", 0xffull);
    CHECK("00007", "%05u", 7u);
}

static void test_zero_flag_puts_minus_sign_before_zeros(void **state)
{
    (void)state;
    CHECK("-0042", "%05d", -42);
    CHECK("-9223372036854775808", "%020lld", (long long)INT64_MIN);
    CHECK("-09223372036854775808", "%021lld", (long long)INT64_MIN);
}

static void test_minus_flag_overrides_zero_flag(void **state)
{
    (void)state;
    CHECK("42   |", "%-05d|", 42);
    CHECK("42   |", "%0-5d|", 42);
    CHECK("-42  |", "%-05d|", -42);
}

static void test_star_width_comes_from_the_argument(void **state)
{
    (void)state;
    CHECK("   42", "%*d", 5, 42);
    CHECK("00042", "%0*d", 5, 42);
    CHECK("x   |", "%*s|", -4, "x"); /* negative width: left-aligned */
}

/* ---- strings, characters, pointers ---- */

static void test_s_prints_string(void **state)
{
    (void)state;
    CHECK("vigil", "%s", "vigil");
    CHECK("[]", "[%s]", "");
    CHECK("a b c", "%s %s %s", "a", "b", "c");
}

static void test_s_of_null_prints_null_marker(void **state)
{
    (void)state;
    const char *nothing = NULL;
    CHECK("(null)", "%s", nothing);
}

static void test_s_precision_limits_the_string(void **state)
{
    (void)state;
    CHECK("abc", "%.3s", "abcdef");
    CHECK("ab", "%.5s", "ab");
    CHECK("", "%.0s", "abc");
    CHECK("abcd", "%.*s", 4, "abcdefgh");
    CHECK("  abc", "%5.3s", "abcdef");
    CHECK("abc  |", "%-5.3s|", "abcdef");
}

static void test_s_precision_reads_no_further_than_precision(void **state)
{
    (void)state;
    /* not NUL-terminated: ASan reports a read past the 4 heap bytes */
    char *raw = malloc(4);
    memcpy(raw, "wxyz", 4);
    CHECK("wxyz", "%.4s", raw);
    CHECK("wx", "%.2s", raw);
    free(raw);
}

static void test_c_prints_one_character(void **state)
{
    (void)state;
    CHECK("A", "%c", 'A');
    CHECK("<x>", "<%c>", 'x');
}

static void test_p_prints_0x_and_hex(void **state)
{
    (void)state;
    CHECK("0x1234", "%p", (void *)0x1234);
    CHECK("0xffffffff80100000", "%p", (void *)0xffffffff80100000ull);
    CHECK("0x0", "%p", (void *)0);
    CHECK("  0xab", "%6p", (void *)0xab);
}

static void test_percent_percent_prints_one_percent(void **state)
{
    (void)state;
    CHECK("%", "%%");
    CHECK("100%", "%d%%", 100);
}

static void test_unknown_conversion_is_printed_and_consumes_no_argument(void **state)
{
    (void)state;
    CHECK("%q", "%q");
    /* the argument stays for the next conversion */
    CHECK("%q 5", "%q %d", 5);
    CHECK("%y|abc", "%y|%s", "abc");
}

static void test_trailing_lone_percent_stops_cleanly(void **state)
{
    (void)state;
    CHECK("abc", "abc%");
    CHECK("abc", "abc%-");
    CHECK("abc", "abc%05");
    CHECK("abc", "abc%l");
    CHECK("abc", "abc%z");
}

static void test_mixed_conversions(void **state)
{
    (void)state;
    CHECK("vcpu 0 rip=0xffffffff81000000 exit=48 (EPT violation)",
          "vcpu %u rip=0x%llx exit=%d (%s)", 0u, 0xffffffff81000000ull, 48, "EPT violation");
}

/* ---- truncation ---- */

static void test_truncation_returns_full_length_and_terminates(void **state)
{
    (void)state;
    CHECK_SIZED(6, "hello", 11, "hello world");
    CHECK_SIZED(4, "123", 8, "%d", 12345678);
    CHECK_SIZED(3, "  ", 5, "%5d", 1);
    CHECK_SIZED(4, "abc", 6, "%s%s", "abc", "def");
}

static void test_output_that_fits_exactly(void **state)
{
    (void)state;
    CHECK_SIZED(6, "hello", 5, "hello");   /* 5 characters + NUL */
    CHECK_SIZED(5, "hell", 5, "hello");    /* one byte short */
}

static void test_size_one_gives_empty_string(void **state)
{
    (void)state;
    CHECK_SIZED(1, "", 11, "hello world");
    CHECK_SIZED(1, "", 0, "");
}

static void test_size_zero_writes_nothing(void **state)
{
    (void)state;
    char guard[4] = { 'a', 'b', 'c', 'd' };
    assert_int_equal(fmt_snprintf(guard, 0, "%s", "xyz"), 3);
    assert_memory_equal(guard, "abcd", 4);
    /* C's vsnprintf accepts NULL with size 0 to measure; so does this one */
    assert_int_equal(fmt_snprintf(NULL, 0, "%d-%s", 123, "abc"), 7);
}

static void test_truncated_output_leaves_bytes_past_size_untouched(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, '#', sizeof(buf));
    assert_int_equal(fmt_snprintf(buf, 8, "%020d", 5), 20);
    assert_string_equal(buf, "0000000");
    for (size_t i = 8; i < sizeof(buf); i++)
        assert_int_equal(buf[i], '#');
}

/* ---- fmt_json_escape ---- */

/* Escapes src into a heap buffer of exactly `size` bytes starting at *pos. */
static char *json(size_t size, size_t *pos, const char *src)
{
    char *buf = malloc(size ? size : 1);
    memset(buf, 'Z', size ? size : 1);
    fmt_json_escape(buf, size, pos, src);
    return buf;
}

static void test_json_plain_text_is_unchanged(void **state)
{
    (void)state;
    size_t pos = 0;
    char *buf = json(64, &pos, "kernel-text ok");
    assert_string_equal(buf, "kernel-text ok");
    assert_int_equal(pos, 14);
    free(buf);
}

static void test_json_escapes_quote_and_backslash(void **state)
{
    (void)state;
    size_t pos = 0;
    char *buf = json(64, &pos, "a\"b\\c");
    assert_string_equal(buf, "a\\\"b\\\\c");
    assert_int_equal(pos, 7);
    free(buf);
}

static void test_json_escapes_control_characters_as_u00xx(void **state)
{
    (void)state;
    size_t pos = 0;
    char *buf = json(64, &pos, "\n\t\r\x01\x1f");
    assert_string_equal(buf, "\\u000a\\u0009\\u000d\\u0001\\u001f");
    assert_int_equal(pos, 30);
    free(buf);
}

static void test_json_escapes_bytes_from_0x7f_up(void **state)
{
    (void)state;
    size_t pos = 0;
    char *buf = json(64, &pos, "\x7f\x80\xff~");
    assert_string_equal(buf, "\\u007f\\u0080\\u00ff~");
    free(buf);
}

static void test_json_appends_at_pos(void **state)
{
    (void)state;
    char buf[32] = "{\"p\":\"";
    size_t pos = strlen(buf);
    fmt_json_escape(buf, sizeof(buf), &pos, "x\"y");
    assert_string_equal(buf, "{\"p\":\"x\\\"y");
    assert_int_equal(pos, 10);
}

static void test_json_stops_when_buffer_is_full(void **state)
{
    (void)state;
    size_t pos = 0;
    char *buf = json(5, &pos, "abcdefg");
    assert_string_equal(buf, "abcd");
    assert_int_equal(pos, 4);
    free(buf);
}

static void test_json_never_splits_an_escape(void **state)
{
    (void)state;
    size_t pos = 0;
    char *buf = json(6, &pos, "ab\x01");   /* \u0001 needs 6 + NUL */
    assert_string_equal(buf, "ab");
    assert_int_equal(pos, 2);
    free(buf);

    pos = 0;
    buf = json(4, &pos, "ab\"");           /* \" needs 2 + NUL */
    assert_string_equal(buf, "ab");
    assert_int_equal(pos, 2);
    free(buf);
}

static void test_json_stops_at_first_character_that_does_not_fit(void **state)
{
    (void)state;
    /* 'b' would fit after "a", but the output must stay a prefix */
    size_t pos = 0;
    char *buf = json(3, &pos, "a\"b");
    assert_string_equal(buf, "a");
    assert_int_equal(pos, 1);
    free(buf);
}

static void test_json_escape_fitting_exactly(void **state)
{
    (void)state;
    size_t pos = 0;
    char *buf = json(7, &pos, "\x02");     /* 6 characters + NUL */
    assert_string_equal(buf, "\\u0002");
    assert_int_equal(pos, 6);
    free(buf);
}

static void test_json_size_zero_writes_nothing(void **state)
{
    (void)state;
    char guard = 'G';
    size_t pos = 0;
    fmt_json_escape(&guard, 0, &pos, "abc");
    assert_int_equal(guard, 'G');
    assert_int_equal(pos, 0);
}

static void test_json_full_buffer_stays_unchanged(void **state)
{
    (void)state;
    char buf[4] = "abc";
    size_t pos = 3;
    fmt_json_escape(buf, sizeof(buf), &pos, "xyz");
    assert_string_equal(buf, "abc");
    assert_int_equal(pos, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_is_copied),
        cmocka_unit_test(test_d_and_i_print_signed_decimal),
        cmocka_unit_test(test_ld_and_lld_print_64_bit_extremes),
        cmocka_unit_test(test_u_prints_unsigned_decimal),
        cmocka_unit_test(test_lu_llu_zu_print_64_bit_unsigned),
        cmocka_unit_test(test_x_prints_lowercase_hex_and_X_uppercase),
        cmocka_unit_test(test_llx_and_lx_print_64_bit_hex),
        cmocka_unit_test(test_width_right_aligns_with_blanks),
        cmocka_unit_test(test_width_smaller_than_value_does_not_truncate),
        cmocka_unit_test(test_minus_flag_left_aligns),
        cmocka_unit_test(test_zero_flag_pads_numbers_with_zeros),
        cmocka_unit_test(test_zero_flag_puts_minus_sign_before_zeros),
        cmocka_unit_test(test_minus_flag_overrides_zero_flag),
        cmocka_unit_test(test_star_width_comes_from_the_argument),
        cmocka_unit_test(test_s_prints_string),
        cmocka_unit_test(test_s_of_null_prints_null_marker),
        cmocka_unit_test(test_s_precision_limits_the_string),
        cmocka_unit_test(test_s_precision_reads_no_further_than_precision),
        cmocka_unit_test(test_c_prints_one_character),
        cmocka_unit_test(test_p_prints_0x_and_hex),
        cmocka_unit_test(test_percent_percent_prints_one_percent),
        cmocka_unit_test(test_unknown_conversion_is_printed_and_consumes_no_argument),
        cmocka_unit_test(test_trailing_lone_percent_stops_cleanly),
        cmocka_unit_test(test_mixed_conversions),
        cmocka_unit_test(test_truncation_returns_full_length_and_terminates),
        cmocka_unit_test(test_output_that_fits_exactly),
        cmocka_unit_test(test_size_one_gives_empty_string),
        cmocka_unit_test(test_size_zero_writes_nothing),
        cmocka_unit_test(test_truncated_output_leaves_bytes_past_size_untouched),
        cmocka_unit_test(test_json_plain_text_is_unchanged),
        cmocka_unit_test(test_json_escapes_quote_and_backslash),
        cmocka_unit_test(test_json_escapes_control_characters_as_u00xx),
        cmocka_unit_test(test_json_escapes_bytes_from_0x7f_up),
        cmocka_unit_test(test_json_appends_at_pos),
        cmocka_unit_test(test_json_stops_when_buffer_is_full),
        cmocka_unit_test(test_json_never_splits_an_escape),
        cmocka_unit_test(test_json_stops_at_first_character_that_does_not_fit),
        cmocka_unit_test(test_json_escape_fitting_exactly),
        cmocka_unit_test(test_json_size_zero_writes_nothing),
        cmocka_unit_test(test_json_full_buffer_stays_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
