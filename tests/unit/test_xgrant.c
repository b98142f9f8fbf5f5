/* Unit tests for ids/xgrant.c: the execute watch's records of the
 * supervisor code it let execute on Linux (kernel-text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ids/xgrant.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define P 0x1000ull
#define VA 0xffffffffc0000000ull

static struct xgrants t;

static int setup(void **state)
{
    (void)state;
    memset(&t, 0, sizeof(t));
    return 0;
}

/* One record per page pair, found again by its pages. */
static void test_get_and_find(void **state)
{
    (void)state;
    struct xgrant *g = xgrant_get(&t, 0x5000123, VA + 0x10);
    assert_non_null(g);
    assert_int_equal(g->gpa, 0x5000000);
    assert_int_equal(g->gva, VA);
    assert_false(g->active);
    g->mod = 0xffff888001234000ull;
    xgrant_mark(&t, g);
    assert_true(g->active);
    assert_ptr_equal(xgrant_get(&t, 0x5000fff, VA + 0xfff), g);     /* same pages: same record */
    assert_int_equal(g->mod, 0xffff888001234000ull);                 /* kept */
    assert_true(xgrant_active_gpa(&t, 0x5000800));
    assert_false(xgrant_active_gpa(&t, 0x5001000));
    assert_int_equal(xgrant_active(&t), 1);
}

/* Revoking keeps the records (they still name the owner), inactive. */
static void test_revoke_keeps(void **state)
{
    (void)state;
    struct xgrant *a = xgrant_get(&t, 0x1000, VA), *b = xgrant_get(&t, 0x2000, VA + P);
    xgrant_mark(&t, a);
    xgrant_mark(&t, b);
    assert_int_equal(xgrant_active(&t), 2);
    xgrant_revoke_all(&t);
    assert_int_equal(xgrant_active(&t), 0);
    assert_false(xgrant_active_gpa(&t, 0x1000));
    assert_ptr_equal(xgrant_get(&t, 0x1000, VA), a);              /* the same record, still naming its owner */
    assert_int_equal(t.n, 2);
}

/* Full: an inactive record's slot is reused, the oldest granted first;
 * every slot active: none. */
static void test_full(void **state)
{
    (void)state;
    for (u32 i = 0; i < XGRANT_MAX; i++) {
        struct xgrant *g = xgrant_get(&t, i * P, VA + i * P);
        assert_non_null(g);
        xgrant_mark(&t, g);
    }
    assert_null(xgrant_get(&t, 0x7770000, VA - P));
    assert_ptr_equal(xgrant_get(&t, 5 * P, VA + 5 * P), &t.g[5]);    /* an existing one is still found */
    t.g[7].active = false;
    t.g[3].active = false;                                          /* granted before 7: the older */
    struct xgrant *g = xgrant_get(&t, 0x7770000, VA - P);
    assert_ptr_equal(g, &t.g[3]);
    assert_int_equal(g->gpa, 0x7770000);
    assert_int_equal(g->mod, 0);                                    /* a fresh record */
    assert_false(g->active);
    assert_int_equal(t.n, XGRANT_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_get_and_find, setup),
        cmocka_unit_test_setup(test_revoke_keeps, setup),
        cmocka_unit_test_setup(test_full, setup),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
