/* Unit tests for lib/cmdline.c: cmdline_next, cmdline_get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lib/cmdline.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

struct word {
    char key[32];
    char val[32];
    bool cut;
};

/* Next word of *p into w with full-size buffers; false at the end. */
static bool next(const char **p, struct word *w)
{
    w->cut = true;   /* must be overwritten by cmdline_next */
    return cmdline_next(p, w->key, sizeof(w->key), w->val, sizeof(w->val), &w->cut);
}

/* ---- cmdline_next ---- */

static void test_next_bare_word_has_empty_value(void **state)
{
    (void)state;
    const char *p = "guest";
    struct word w;
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "guest");
    assert_string_equal(w.val, "");
    assert_false(w.cut);
    assert_false(next(&p, &w));
}

static void test_next_splits_key_and_value(void **state)
{
    (void)state;
    const char *p = "console=com1";
    struct word w;
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "console");
    assert_string_equal(w.val, "com1");
    assert_false(next(&p, &w));
}

static void test_next_walks_words_in_order(void **state)
{
    (void)state;
    const char *p = "guest scenario=benign console=com2";
    struct word w;
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "guest");
    assert_string_equal(w.val, "");
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "scenario");
    assert_string_equal(w.val, "benign");
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "console");
    assert_string_equal(w.val, "com2");
    assert_false(next(&p, &w));
}

static void test_next_skips_runs_of_blanks_and_tabs(void **state)
{
    (void)state;
    const char *p = " \t  a=1 \t\t b  \t";
    struct word w;
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "a");
    assert_string_equal(w.val, "1");
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "b");
    assert_string_equal(w.val, "");
    assert_false(next(&p, &w));
}

static void test_next_tab_ends_a_value(void **state)
{
    (void)state;
    const char *p = "a=1\tb=2";
    struct word w;
    assert_true(next(&p, &w));
    assert_string_equal(w.val, "1");
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "b");
    assert_string_equal(w.val, "2");
}

static void test_next_value_keeps_further_equals_signs(void **state)
{
    (void)state;
    const char *p = "a=b=c";
    struct word w;
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "a");
    assert_string_equal(w.val, "b=c");
}

static void test_next_key_with_empty_value(void **state)
{
    (void)state;
    const char *p = "loglevel= ids=on";
    struct word w;
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "loglevel");
    assert_string_equal(w.val, "");
    assert_true(next(&p, &w));
    assert_string_equal(w.key, "ids");
}

static void test_next_empty_line_has_no_words(void **state)
{
    (void)state;
    const char *p = "";
    struct word w;
    assert_false(next(&p, &w));
}

static void test_next_blank_line_has_no_words(void **state)
{
    (void)state;
    const char *p = "  \t \t ";
    struct word w;
    assert_false(next(&p, &w));
}

static void test_next_cuts_long_key_and_reports_it(void **state)
{
    (void)state;
    const char *p = "console=com1 ids=on";
    char key[4], val[8];
    bool cut = false;
    assert_true(cmdline_next(&p, key, sizeof(key), val, sizeof(val), &cut));
    assert_string_equal(key, "con");
    assert_string_equal(val, "com1");
    assert_true(cut);
    /* the walk continues after the whole word, not after the cut */
    assert_true(cmdline_next(&p, key, sizeof(key), val, sizeof(val), &cut));
    assert_string_equal(key, "ids");
    assert_string_equal(val, "on");
    assert_false(cut);
}

static void test_next_cuts_long_value_and_reports_it(void **state)
{
    (void)state;
    const char *p = "scenario=patch-kernel-text x";
    char key[16], val[6];
    bool cut = false;
    assert_true(cmdline_next(&p, key, sizeof(key), val, sizeof(val), &cut));
    assert_string_equal(key, "scenario");
    assert_string_equal(val, "patch");
    assert_true(cut);
    assert_true(cmdline_next(&p, key, sizeof(key), val, sizeof(val), &cut));
    assert_string_equal(key, "x");
    assert_false(cut);
}

static void test_next_word_filling_buffer_exactly_is_not_cut(void **state)
{
    (void)state;
    const char *p = "abc=xyz";
    char key[4], val[4];
    bool cut = true;
    assert_true(cmdline_next(&p, key, sizeof(key), val, sizeof(val), &cut));
    assert_string_equal(key, "abc");
    assert_string_equal(val, "xyz");
    assert_false(cut);
}

static void test_next_accepts_null_truncation_flag(void **state)
{
    (void)state;
    const char *p = "averylongkey=averylongvalue";
    char key[4], val[4];
    assert_true(cmdline_next(&p, key, sizeof(key), val, sizeof(val), NULL));
    assert_string_equal(key, "ave");
    assert_string_equal(val, "ave");
}

/* ---- cmdline_get ---- */

static void test_get_finds_value(void **state)
{
    (void)state;
    char val[16];
    assert_true(cmdline_get("console=com2 ids=off loglevel=debug", "ids", val, sizeof(val)));
    assert_string_equal(val, "off");
    assert_true(cmdline_get("console=com2 ids=off loglevel=debug", "loglevel", val, sizeof(val)));
    assert_string_equal(val, "debug");
}

static void test_get_bare_word_gives_empty_value(void **state)
{
    (void)state;
    char val[16] = "junk";
    assert_true(cmdline_get("quiet console=com1", "quiet", val, sizeof(val)));
    assert_string_equal(val, "");
}

static void test_get_missing_key_returns_false(void **state)
{
    (void)state;
    char val[16];
    assert_false(cmdline_get("console=com1 ids=on", "loglevel", val, sizeof(val)));
    assert_false(cmdline_get("", "console", val, sizeof(val)));
}

static void test_get_does_not_match_a_key_that_only_starts_with_the_name(void **state)
{
    (void)state;
    char val[16];
    assert_true(cmdline_get("consoles=x console=com2", "console", val, sizeof(val)));
    assert_string_equal(val, "com2");
    assert_false(cmdline_get("consoles=x", "console", val, sizeof(val)));
}

static void test_get_does_not_match_a_prefix_of_the_key(void **state)
{
    (void)state;
    char val[16];
    assert_false(cmdline_get("console=com1", "cons", val, sizeof(val)));
}

static void test_get_does_not_match_values(void **state)
{
    (void)state;
    char val[16];
    assert_false(cmdline_get("a=console", "console", val, sizeof(val)));
}

static void test_get_first_occurrence_wins(void **state)
{
    (void)state;
    char val[16];
    assert_true(cmdline_get("ids=on ids=off", "ids", val, sizeof(val)));
    assert_string_equal(val, "on");
}

/* A value that does not fit is refused, not cut: a cut "offline" would
 * read as "off". The caller's buffer (its default) is left alone. */
static void test_get_refuses_value_longer_than_buffer(void **state)
{
    (void)state;
    char val[4] = "dfl";
    assert_false(cmdline_get("console=com1", "console", val, sizeof(val)));
    assert_string_equal(val, "dfl");
    assert_false(cmdline_get("ids=offline", "ids", val, sizeof(val)));
    assert_string_equal(val, "dfl");
}

/* A miss leaves the caller's default alone, whatever the other words say
 * (this once switched the IDS off for "acpi=off"). */
static void test_get_miss_leaves_default(void **state)
{
    (void)state;
    char val[8] = "on";
    assert_false(cmdline_get("console=com1 acpi=off", "ids", val, sizeof(val)));
    assert_string_equal(val, "on");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_bare_word_has_empty_value),
        cmocka_unit_test(test_next_splits_key_and_value),
        cmocka_unit_test(test_next_walks_words_in_order),
        cmocka_unit_test(test_next_skips_runs_of_blanks_and_tabs),
        cmocka_unit_test(test_next_tab_ends_a_value),
        cmocka_unit_test(test_next_value_keeps_further_equals_signs),
        cmocka_unit_test(test_next_key_with_empty_value),
        cmocka_unit_test(test_next_empty_line_has_no_words),
        cmocka_unit_test(test_next_blank_line_has_no_words),
        cmocka_unit_test(test_next_cuts_long_key_and_reports_it),
        cmocka_unit_test(test_next_cuts_long_value_and_reports_it),
        cmocka_unit_test(test_next_word_filling_buffer_exactly_is_not_cut),
        cmocka_unit_test(test_next_accepts_null_truncation_flag),
        cmocka_unit_test(test_get_finds_value),
        cmocka_unit_test(test_get_bare_word_gives_empty_value),
        cmocka_unit_test(test_get_missing_key_returns_false),
        cmocka_unit_test(test_get_does_not_match_a_key_that_only_starts_with_the_name),
        cmocka_unit_test(test_get_does_not_match_a_prefix_of_the_key),
        cmocka_unit_test(test_get_does_not_match_values),
        cmocka_unit_test(test_get_first_occurrence_wins),
        cmocka_unit_test(test_get_refuses_value_longer_than_buffer),
        cmocka_unit_test(test_get_miss_leaves_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
