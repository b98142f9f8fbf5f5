/* Unit tests for vmm/palloc.c: the bitmap page allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/palloc.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define POOL 0x4000000ull        /* 64 MiB: 2 MiB-aligned */
#define PG(i) (POOL + (u64)(i) * PAGE_SIZE)

static struct palloc pa;

/* ---- palloc_init ---- */

static void test_init_accepts_page_aligned_pool(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    assert_int_equal(pa.base, POOL);
    assert_int_equal(pa.npages, 16);
    assert_int_equal(pa.used, 0);
}

static void test_init_refuses_unaligned_base(void **state)
{
    (void)state;
    assert_false(palloc_init(&pa, POOL + 0x800, 16));
    assert_false(palloc_init(&pa, POOL + 1, 16));
}

static void test_init_refuses_zero_pages(void **state)
{
    (void)state;
    assert_false(palloc_init(&pa, POOL, 0));
}

static void test_init_refuses_more_than_max_pages(void **state)
{
    (void)state;
    assert_false(palloc_init(&pa, POOL, PALLOC_MAX_PAGES + 1));
    assert_true(palloc_init(&pa, POOL, PALLOC_MAX_PAGES));
}

static void test_failed_init_leaves_an_empty_pool(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    assert_false(palloc_init(&pa, POOL + 1, 16));
    assert_int_equal(palloc_alloc(&pa, 1, 1), 0);
}

/* ---- palloc_alloc ---- */

static void test_single_pages_come_in_order(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(0));
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(1));
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(2));
    assert_int_equal(pa.used, 3);
}

static void test_contiguous_run_is_allocated_whole(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    assert_int_equal(palloc_alloc(&pa, 4, 1), PG(0));
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(4));
    assert_int_equal(pa.used, 5);
}

static void test_run_skips_a_gap_too_small_for_it(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(0));
    u64 b = palloc_alloc(&pa, 2, 1);
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(3));
    assert_true(palloc_free(&pa, b, 2));
    /* the 2-page hole at 1..2 is too small for 3 pages */
    assert_int_equal(palloc_alloc(&pa, 3, 1), PG(4));
    /* but first fit puts a single page into it */
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(1));
}

static void test_alignment_is_of_the_physical_address(void **state)
{
    (void)state;
    /* base 3 pages past a 16 KiB boundary */
    u64 base = POOL + 3 * PAGE_SIZE;
    assert_true(palloc_init(&pa, base, 32));
    assert_int_equal(palloc_alloc(&pa, 2, 4), POOL + 4 * PAGE_SIZE);
    assert_int_equal(palloc_alloc(&pa, 1, 4), POOL + 8 * PAGE_SIZE);
    assert_int_equal(palloc_alloc(&pa, 1, 1), base);
}

static void test_alignment_to_2mib(void **state)
{
    (void)state;
    u64 base = POOL + 0x5000;
    assert_true(palloc_init(&pa, base, 600));     /* up to POOL + 0x25d000 */
    assert_int_equal(palloc_alloc(&pa, 1, 512), POOL + 0x200000);
    /* the next 2 MiB boundary is past the pool's last page */
    assert_int_equal(palloc_alloc(&pa, 1, 512), 0);
}

static void test_alignment_on_aligned_base_starts_at_base(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    assert_int_equal(palloc_alloc(&pa, 1, 8), PG(0));
    assert_int_equal(palloc_alloc(&pa, 1, 8), PG(8));
    assert_int_equal(palloc_alloc(&pa, 1, 8), 0);
}

static void test_alloc_refuses_bad_arguments(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    assert_int_equal(palloc_alloc(&pa, 0, 1), 0);
    assert_int_equal(palloc_alloc(&pa, 1, 0), 0);
    assert_int_equal(palloc_alloc(&pa, 1, 3), 0);
    assert_int_equal(palloc_alloc(&pa, 1, 6), 0);
    assert_int_equal(pa.used, 0);
}

static void test_exhaustion_returns_zero(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 4));
    for (u32 i = 0; i < 4; i++)
        assert_int_equal(palloc_alloc(&pa, 1, 1), PG(i));
    assert_int_equal(palloc_alloc(&pa, 1, 1), 0);
    assert_int_equal(pa.used, 4);
}

static void test_run_longer_than_pool_returns_zero(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 4));
    assert_int_equal(palloc_alloc(&pa, 5, 1), 0);
    assert_int_equal(palloc_alloc(&pa, 4, 1), PG(0));
}

static void test_whole_maximum_pool_in_one_run(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, PALLOC_MAX_PAGES));
    assert_int_equal(palloc_alloc(&pa, PALLOC_MAX_PAGES, 1), POOL);
    assert_int_equal(pa.used, PALLOC_MAX_PAGES);
    assert_int_equal(palloc_alloc(&pa, 1, 1), 0);
}

static void test_last_page_of_maximum_pool(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, PALLOC_MAX_PAGES));
    assert_int_equal(palloc_alloc(&pa, PALLOC_MAX_PAGES - 1, 1), POOL);
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(PALLOC_MAX_PAGES - 1));
    assert_true(palloc_free(&pa, PG(PALLOC_MAX_PAGES - 1), 1));
}

/* ---- palloc_free ---- */

static void test_freed_page_is_reused(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    u64 a = palloc_alloc(&pa, 1, 1);
    palloc_alloc(&pa, 1, 1);
    assert_true(palloc_free(&pa, a, 1));
    assert_int_equal(pa.used, 1);
    assert_int_equal(palloc_alloc(&pa, 1, 1), a);
    assert_int_equal(pa.used, 2);
}

static void test_freed_run_is_reused_as_a_run(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 8));
    u64 run = palloc_alloc(&pa, 4, 1);
    palloc_alloc(&pa, 4, 1);
    assert_int_equal(palloc_alloc(&pa, 4, 1), 0);
    assert_true(palloc_free(&pa, run, 4));
    assert_int_equal(palloc_alloc(&pa, 4, 1), run);
}

static void test_double_free_is_refused(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    u64 a = palloc_alloc(&pa, 1, 1);
    palloc_alloc(&pa, 1, 1);
    assert_true(palloc_free(&pa, a, 1));
    assert_false(palloc_free(&pa, a, 1));
    assert_int_equal(pa.used, 1);
}

static void test_free_of_partly_free_run_frees_nothing(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 16));
    u64 a = palloc_alloc(&pa, 2, 1);   /* pages 0..1; page 2 is free */
    assert_false(palloc_free(&pa, a, 3));
    assert_int_equal(pa.used, 2);
    /* pages 0..1 are still allocated */
    assert_int_equal(palloc_alloc(&pa, 1, 1), PG(2));
    assert_true(palloc_free(&pa, a, 2));
}

static void test_free_outside_the_pool_is_refused(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 4));
    for (u32 i = 0; i < 4; i++)
        palloc_alloc(&pa, 1, 1);
    assert_false(palloc_free(&pa, POOL - PAGE_SIZE, 1));   /* below */
    assert_false(palloc_free(&pa, PG(4), 1));              /* just past the end */
    assert_false(palloc_free(&pa, PG(3), 2));              /* runs past the end */
    assert_false(palloc_free(&pa, 0, 1));
    assert_int_equal(pa.used, 4);
}

static void test_free_of_unaligned_address_is_refused(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 4));
    palloc_alloc(&pa, 2, 1);
    assert_false(palloc_free(&pa, PG(0) + 8, 1));
    assert_int_equal(pa.used, 2);
}

static void test_free_of_zero_pages_is_refused(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 4));
    u64 a = palloc_alloc(&pa, 1, 1);
    assert_false(palloc_free(&pa, a, 0));
    assert_int_equal(pa.used, 1);
}

static void test_used_counts_pages_through_alloc_and_free(void **state)
{
    (void)state;
    assert_true(palloc_init(&pa, POOL, 64));
    u64 a = palloc_alloc(&pa, 3, 1);
    u64 b = palloc_alloc(&pa, 5, 4);
    palloc_alloc(&pa, 1, 1);
    assert_int_equal(pa.used, 9);
    assert_true(palloc_free(&pa, b, 5));
    assert_int_equal(pa.used, 4);
    assert_true(palloc_free(&pa, a + PAGE_SIZE, 2));   /* the tail of a run */
    assert_int_equal(pa.used, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_accepts_page_aligned_pool),
        cmocka_unit_test(test_init_refuses_unaligned_base),
        cmocka_unit_test(test_init_refuses_zero_pages),
        cmocka_unit_test(test_init_refuses_more_than_max_pages),
        cmocka_unit_test(test_failed_init_leaves_an_empty_pool),
        cmocka_unit_test(test_single_pages_come_in_order),
        cmocka_unit_test(test_contiguous_run_is_allocated_whole),
        cmocka_unit_test(test_run_skips_a_gap_too_small_for_it),
        cmocka_unit_test(test_alignment_is_of_the_physical_address),
        cmocka_unit_test(test_alignment_to_2mib),
        cmocka_unit_test(test_alignment_on_aligned_base_starts_at_base),
        cmocka_unit_test(test_alloc_refuses_bad_arguments),
        cmocka_unit_test(test_exhaustion_returns_zero),
        cmocka_unit_test(test_run_longer_than_pool_returns_zero),
        cmocka_unit_test(test_whole_maximum_pool_in_one_run),
        cmocka_unit_test(test_last_page_of_maximum_pool),
        cmocka_unit_test(test_freed_page_is_reused),
        cmocka_unit_test(test_freed_run_is_reused_as_a_run),
        cmocka_unit_test(test_double_free_is_refused),
        cmocka_unit_test(test_free_of_partly_free_run_frees_nothing),
        cmocka_unit_test(test_free_outside_the_pool_is_refused),
        cmocka_unit_test(test_free_of_unaligned_address_is_refused),
        cmocka_unit_test(test_free_of_zero_pages_is_refused),
        cmocka_unit_test(test_used_counts_pages_through_alloc_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
