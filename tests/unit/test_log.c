/* Unit tests for lib/log.c, through a sink that captures every character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/log.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static char captured[4096];
static size_t ncaptured;

static void capture(char c)
{
    if (ncaptured + 1 < sizeof(captured))
        captured[ncaptured++] = c;
    captured[ncaptured] = 0;
}

static void clear_capture(void)
{
    ncaptured = 0;
    captured[0] = 0;
}

/* Every test starts at the beginning of a line, level info, empty capture. */
static int setup(void **state)
{
    (void)state;
    log_set_sink(capture);
    log_set_level(LOG_INFO);
    kprintf("\n");
    clear_capture();
    return 0;
}

/* ---- line handling ---- */

static void test_newline_becomes_crlf(void **state)
{
    (void)state;
    kprintf("one\ntwo\n");
    assert_string_equal(captured, "one\r\ntwo\r\n");
}

static void test_formats_arguments(void **state)
{
    (void)state;
    kprintf("vcpu %d exit %s\n", 0, "hlt");
    assert_string_equal(captured, "vcpu 0 exit hlt\r\n");
}

static void test_line_starting_with_brace_gets_leading_space(void **state)
{
    (void)state;
    kprintf("{\"type\":\"alert\"}\n");
    assert_string_equal(captured, " {\"type\":\"alert\"}\r\n");
}

static void test_brace_from_an_argument_at_line_start_gets_leading_space(void **state)
{
    (void)state;
    kprintf("%s\n", "{\"type\":\"alert\",\"seq\":1}");
    assert_string_equal(captured, " {\"type\":\"alert\",\"seq\":1}\r\n");
}

static void test_brace_after_newline_in_same_call_gets_leading_space(void **state)
{
    (void)state;
    kprintf("a\n{b}\n");
    assert_string_equal(captured, "a\r\n {b}\r\n");
}

static void test_brace_at_line_start_in_a_later_call_gets_leading_space(void **state)
{
    (void)state;
    kprintf("a\n");
    kprintf("{b}\n");
    assert_string_equal(captured, "a\r\n {b}\r\n");
}

static void test_brace_inside_a_line_is_unchanged(void **state)
{
    (void)state;
    kprintf("a{b}\n");
    kprintf("x");
    kprintf("{y}\n");
    assert_string_equal(captured, "a{b}\r\nx{y}\r\n");
}

static void test_overlong_line_is_cut_with_marker(void **state)
{
    (void)state;
    char big[700];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    kprintf("%s", big);
    /* 511 characters fit the formatting buffer, then the marker */
    assert_int_equal(ncaptured, 511 + strlen("...[cut]\r\n"));
    assert_memory_equal(captured + 511, "...[cut]\r\n", 10);
    assert_int_equal(captured[510], 'a');
}

static void test_no_sink_prints_nothing(void **state)
{
    (void)state;
    log_set_sink(NULL);
    kprintf("lost\n");
    log_record("{\"lost\":1}");
    log_set_sink(capture);
    assert_string_equal(captured, "");
}

/* ---- levels ---- */

static void test_level_info_hides_debug(void **state)
{
    (void)state;
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "i\r\nw\r\ne\r\n");
}

static void test_level_warn_hides_info_and_debug(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "w\r\ne\r\n");
}

static void test_level_error_shows_only_errors(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "e\r\n");
}

static void test_level_debug_shows_everything(void **state)
{
    (void)state;
    log_set_level(LOG_DEBUG);
    log_debug("d\n");
    log_info("i\n");
    log_warn("w\n");
    log_err("e\n");
    assert_string_equal(captured, "d\r\ni\r\nw\r\ne\r\n");
}

static void test_get_level_returns_the_level_set(void **state)
{
    (void)state;
    log_set_level(LOG_DEBUG);
    assert_int_equal(log_get_level(), LOG_DEBUG);
    log_set_level(LOG_ERROR);
    assert_int_equal(log_get_level(), LOG_ERROR);
}

static void test_kprintf_ignores_level(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    kprintf("always\n");
    assert_string_equal(captured, "always\r\n");
}

static void test_klog_brace_line_gets_leading_space(void **state)
{
    (void)state;
    log_err("{x}\n");
    assert_string_equal(captured, " {x}\r\n");
}

/* ---- log_record ---- */

static void test_record_is_written_verbatim(void **state)
{
    (void)state;
    log_record("{\"type\":\"alert\",\"seq\":7}");
    assert_string_equal(captured, "{\"type\":\"alert\",\"seq\":7}\r\n");
}

static void test_record_starts_on_a_new_line(void **state)
{
    (void)state;
    kprintf("partial");
    log_record("{\"seq\":1}");
    assert_string_equal(captured, "partial\r\n{\"seq\":1}\r\n");
}

static void test_record_stops_at_embedded_newline(void **state)
{
    (void)state;
    log_record("{\"seq\":1}\n{\"seq\":2}");
    assert_string_equal(captured, "{\"seq\":1}\r\n");
}

static void test_record_is_not_filtered_by_level(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR);
    log_record("{\"seq\":3}");
    assert_string_equal(captured, "{\"seq\":3}\r\n");
}

static void test_line_after_record_still_gets_leading_space(void **state)
{
    (void)state;
    log_record("{\"seq\":1}");
    kprintf("{fake}\n");
    assert_string_equal(captured, "{\"seq\":1}\r\n {fake}\r\n");
}

/* ---- log_parse_level ---- */

static void test_parse_level_knows_the_four_names(void **state)
{
    (void)state;
    enum log_level l = LOG_INFO;
    assert_true(log_parse_level("error", &l));
    assert_int_equal(l, LOG_ERROR);
    assert_true(log_parse_level("warn", &l));
    assert_int_equal(l, LOG_WARN);
    assert_true(log_parse_level("info", &l));
    assert_int_equal(l, LOG_INFO);
    assert_true(log_parse_level("debug", &l));
    assert_int_equal(l, LOG_DEBUG);
}

static void test_parse_level_refuses_other_words(void **state)
{
    (void)state;
    enum log_level l = LOG_WARN;
    assert_false(log_parse_level("", &l));
    assert_false(log_parse_level("verbose", &l));
    assert_false(log_parse_level("inf", &l));      /* prefix of a name */
    assert_false(log_parse_level("infos", &l));    /* a name is its prefix */
    assert_false(log_parse_level("warning", &l));
    assert_false(log_parse_level("debug ", &l));
    assert_int_equal(l, LOG_WARN);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_newline_becomes_crlf),
        T(test_formats_arguments),
        T(test_line_starting_with_brace_gets_leading_space),
        T(test_brace_from_an_argument_at_line_start_gets_leading_space),
        T(test_brace_after_newline_in_same_call_gets_leading_space),
        T(test_brace_at_line_start_in_a_later_call_gets_leading_space),
        T(test_brace_inside_a_line_is_unchanged),
        T(test_overlong_line_is_cut_with_marker),
        T(test_no_sink_prints_nothing),
        T(test_level_info_hides_debug),
        T(test_level_warn_hides_info_and_debug),
        T(test_level_error_shows_only_errors),
        T(test_level_debug_shows_everything),
        T(test_get_level_returns_the_level_set),
        T(test_kprintf_ignores_level),
        T(test_klog_brace_line_gets_leading_space),
        T(test_record_is_written_verbatim),
        T(test_record_starts_on_a_new_line),
        T(test_record_stops_at_embedded_newline),
        T(test_record_is_not_filtered_by_level),
        T(test_line_after_record_still_gets_leading_space),
        T(test_parse_level_knows_the_four_names),
        T(test_parse_level_refuses_other_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
