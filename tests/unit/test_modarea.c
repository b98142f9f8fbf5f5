/* Unit tests for ids/modarea.c: hidden-module's range set (coalescing the
 * executable leaves the page-table visit finds) and the parts of a range
 * that no owner covers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ids/modarea.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define P 0x1000ull
#define B 0xffffffffc0000000ull

static void assert_set(const struct mod_range *set, u32 n, const u64 *want, u32 nwant)
{
    assert_int_equal(n, nwant);
    for (u32 i = 0; i < n; i++) {
        assert_int_equal(set[i].start, want[2 * i]);
        assert_int_equal(set[i].end, want[2 * i + 1]);
    }
}

/* Leaves in address order: touching pages merge, a gap starts a range. */
static void test_add_in_order(void **state)
{
    (void)state;
    struct mod_range s[8];
    u32 n = 0;
    assert_true(modarea_add(s, &n, 8, B, B + P));
    assert_true(modarea_add(s, &n, 8, B + P, B + 2 * P));
    assert_true(modarea_add(s, &n, 8, B + 4 * P, B + 5 * P));
    assert_true(modarea_add(s, &n, 8, B + 0x200000, B + 0x400000));    /* a 2 MiB page */
    const u64 want[] = { B, B + 2 * P, B + 4 * P, B + 5 * P, B + 0x200000, B + 0x400000 };
    assert_set(s, n, want, 3);
}

/* Out of order, overlapping, bridging: still sorted and disjoint. */
static void test_add_any_order(void **state)
{
    (void)state;
    struct mod_range s[8];
    u32 n = 0;
    assert_true(modarea_add(s, &n, 8, B + 10 * P, B + 11 * P));
    assert_true(modarea_add(s, &n, 8, B + 2 * P, B + 3 * P));
    assert_true(modarea_add(s, &n, 8, B + 6 * P, B + 7 * P));
    assert_true(modarea_add(s, &n, 8, B + 2 * P, B + 3 * P));            /* again: no change */
    assert_true(modarea_add(s, &n, 8, B + 5 * P, B + 5 * P));            /* empty: no change */
    const u64 w1[] = { B + 2 * P, B + 3 * P, B + 6 * P, B + 7 * P, B + 10 * P, B + 11 * P };
    assert_set(s, n, w1, 3);
    assert_true(modarea_add(s, &n, 8, B + 3 * P, B + 10 * P));           /* bridges all three */
    const u64 w2[] = { B + 2 * P, B + 11 * P };
    assert_set(s, n, w2, 1);
    assert_true(modarea_add(s, &n, 8, B, B + 12 * P));                   /* covers it */
    const u64 w3[] = { B, B + 12 * P };
    assert_set(s, n, w3, 1);
}

/* Full: false, and the set as it was; a merge still fits. */
static void test_add_full(void **state)
{
    (void)state;
    struct mod_range s[2];
    u32 n = 0;
    assert_true(modarea_add(s, &n, 2, B, B + P));
    assert_true(modarea_add(s, &n, 2, B + 4 * P, B + 5 * P));
    assert_false(modarea_add(s, &n, 2, B + 2 * P, B + 3 * P));
    const u64 w[] = { B, B + P, B + 4 * P, B + 5 * P };
    assert_set(s, n, w, 2);
    assert_true(modarea_add(s, &n, 2, B + P, B + 2 * P));                /* touches the first */
    const u64 w2[] = { B, B + 2 * P, B + 4 * P, B + 5 * P };
    assert_set(s, n, w2, 2);
}

/* Ownership: a module's text inside its core is owned; code beyond it,
 * or between two modules, is not. */
static void test_uncovered(void **state)
{
    (void)state;
    struct mod_range out[4];
    const struct mod_range owned[] = {
        { B + 8 * P, B + 12 * P },                  /* listed out of order */
        { B, B + 4 * P },
        { B + 2 * P, B + 3 * P },                   /* overlapping the first (a kprobe page, say) */
    };
    assert_int_equal(modarea_uncovered(B, B + 2 * P, owned, 3, out, 4), 0);          /* all owned */
    assert_int_equal(modarea_uncovered(B + 8 * P, B + 12 * P, owned, 3, out, 4), 0); /* exactly */
    assert_int_equal(modarea_uncovered(B + 2 * P, B + 6 * P, owned, 3, out, 4), 1);  /* its tail */
    assert_int_equal(out[0].start, B + 4 * P);
    assert_int_equal(out[0].end, B + 6 * P);
    assert_int_equal(modarea_uncovered(B + 3 * P, B + 14 * P, owned, 3, out, 4), 2); /* the gap, and past */
    assert_int_equal(out[0].start, B + 4 * P);
    assert_int_equal(out[0].end, B + 8 * P);
    assert_int_equal(out[1].start, B + 12 * P);
    assert_int_equal(out[1].end, B + 14 * P);
    assert_int_equal(modarea_uncovered(B + 20 * P, B + 21 * P, owned, 3, out, 4), 1); /* no owner near */
    assert_int_equal(out[0].start, B + 20 * P);
    assert_int_equal(modarea_uncovered(B, B + P, owned, 0, out, 4), 1);              /* no owners at all */
    assert_int_equal(modarea_uncovered(B + P, B + P, owned, 3, out, 4), 0);          /* empty */
}

/* More gaps than out holds: counted, the first max written. */
static void test_uncovered_more_than_max(void **state)
{
    (void)state;
    struct mod_range owned[8], out[2];
    for (u32 i = 0; i < 8; i++)
        owned[i] = (struct mod_range){ B + (2 * i + 1) * P, B + (2 * i + 2) * P };
    assert_int_equal(modarea_uncovered(B, B + 16 * P, owned, 8, out, 2), 8);
    assert_int_equal(out[0].start, B);
    assert_int_equal(out[0].end, B + P);
    assert_int_equal(out[1].start, B + 2 * P);
    assert_int_equal(out[1].end, B + 3 * P);
    const struct mod_range empty_owner[] = { { B + 5 * P, B + 5 * P } };              /* an empty owner */
    assert_int_equal(modarea_uncovered(B, B + 8 * P, empty_owner, 1, out, 2), 1);
    assert_int_equal(out[0].end, B + 8 * P);
}

static void test_overlaps(void **state)
{
    (void)state;
    const struct mod_range s[] = { { B + P, B + 3 * P } };
    assert_true(modarea_overlaps(s, 1, B, B + 2 * P));
    assert_true(modarea_overlaps(s, 1, B + 2 * P, B + 9 * P));
    assert_false(modarea_overlaps(s, 1, B, B + P));                     /* touching is not overlapping */
    assert_false(modarea_overlaps(s, 1, B + 3 * P, B + 4 * P));
    assert_false(modarea_overlaps(s, 0, B, B + 9 * P));
}

/* The execute watch's question: which owner's range holds an address
 * (half-open; overlapping owners: the first listed). */
static void test_find(void **state)
{
    (void)state;
    const struct mod_range s[] = { { B + 4 * P, B + 6 * P }, { B, B + P }, { B + 5 * P, B + 9 * P } };
    assert_int_equal(modarea_find(s, 3, B), 1);
    assert_int_equal(modarea_find(s, 3, B + P - 1), 1);
    assert_int_equal(modarea_find(s, 3, B + P), -1);                     /* the end is not in it */
    assert_int_equal(modarea_find(s, 3, B + 5 * P + 8), 0);              /* both: the first */
    assert_int_equal(modarea_find(s, 3, B + 8 * P), 2);
    assert_int_equal(modarea_find(s, 3, B + 9 * P), -1);
    assert_int_equal(modarea_find(s, 0, B), -1);
    const struct mod_range empty[] = { { B + P, B + P } };
    assert_int_equal(modarea_find(empty, 1, B + P), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_in_order),
        cmocka_unit_test(test_add_any_order),
        cmocka_unit_test(test_add_full),
        cmocka_unit_test(test_uncovered),
        cmocka_unit_test(test_uncovered_more_than_max),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
