/* Unit tests for vmm/memmap.c: memmap_place, memmap_available, memmap_is_ram,
 * memmap_ram_ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm/memmap.h"
#include "lib/string.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define AVAIL MB2_MEM_AVAILABLE
#define RESV  MB2_MEM_RESERVED
#define NO_BASE 0xdeadbeefdeadbeefull

static struct boot_info bi;

static void map(const struct mb2_mmap_entry *e, u32 n)
{
    memset(&bi, 0, sizeof(bi));
    for (u32 i = 0; i < n; i++)
        bi.mmap[i] = e[i];
    bi.mmap_count = n;
}
#define MAP(...) do { \
        static const struct mb2_mmap_entry e_[] = { __VA_ARGS__ }; \
        map(e_, ARRAY_SIZE(e_)); \
    } while (0)

/* memmap_place with the hypervisor's usual 2 MiB size and alignment. */
static u64 place(const struct mem_range *avoid, u32 navoid, u64 floor, u64 limit)
{
    u64 base = NO_BASE;
    if (!memmap_place(&bi, avoid, navoid, MiB(2), MiB(2), floor, limit, &base))
        assert_true(base == NO_BASE);    /* untouched on failure */
    return base;
}

/* ---- memmap_place ---- */

static void test_place_takes_highest_aligned_fit(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });                 /* [1M, 64M) */
    assert_int_equal(place(NULL, 0, 0, GiB(4)), MiB(62));
}

static void test_place_aligns_down_inside_unaligned_entry(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(62) + KiB(4), AVAIL });        /* ends at 63M + 4K */
    assert_int_equal(place(NULL, 0, 0, GiB(4)), MiB(60));
}

static void test_place_prefers_the_higher_entry(void **state)
{
    (void)state;
    MAP({ MiB(64), MiB(16), AVAIL },
        { MiB(1), MiB(31), AVAIL });
    assert_int_equal(place(NULL, 0, 0, GiB(4)), MiB(78));
    /* whatever the order of the map */
    MAP({ MiB(1), MiB(31), AVAIL },
        { MiB(64), MiB(16), AVAIL },
        { MiB(40), MiB(8), AVAIL });
    assert_int_equal(place(NULL, 0, 0, GiB(4)), MiB(78));
}

static void test_place_uses_only_available_entries(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(15), AVAIL },
        { MiB(16), MiB(64), RESV },
        { MiB(80), MiB(64), MB2_MEM_ACPI_RECLAIMABLE });
    assert_int_equal(place(NULL, 0, 0, GiB(4)), MiB(14));
}

static void test_place_slides_below_an_avoid_range(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });
    const struct mem_range avoid[] = { { MiB(60), MiB(62) + 1 } };
    assert_int_equal(place(avoid, 1, 0, GiB(4)), MiB(58));
}

static void test_place_slides_down_several_times(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });
    /* each range lands inside the next candidate down */
    const struct mem_range avoid[] = {
        { MiB(62) + KiB(4), MiB(63) },
        { MiB(60) + KiB(512), MiB(61) },
        { MiB(59), MiB(59) + KiB(4) },
    };
    assert_int_equal(place(avoid, 3, 0, GiB(4)), MiB(56));
}

static void test_place_slides_below_every_range_a_candidate_overlaps(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });
    /* the first candidate [62M, 64M) overlaps the first two ranges */
    const struct mem_range avoid[] = {
        { MiB(63), MiB(63) + KiB(4) },
        { MiB(62) + KiB(4), MiB(62) + KiB(8) },
        { MiB(61), MiB(61) + KiB(4) },
    };
    assert_int_equal(place(avoid, 3, 0, GiB(4)), MiB(58));
}

static void test_place_may_touch_an_avoid_range(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });
    const struct mem_range avoid[] = { { MiB(60), MiB(62) } };  /* ends where 62M starts */
    assert_int_equal(place(avoid, 1, 0, GiB(4)), MiB(62));
}

static void test_place_avoids_reserved_entry_inside_available_ram(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL },
        { MiB(63), KiB(4), RESV });                  /* broken map: overlaps */
    assert_int_equal(place(NULL, 0, 0, GiB(4)), MiB(60));
}

static void test_place_respects_floor(void **state)
{
    (void)state;
    MAP({ 0, MiB(8), AVAIL });
    const struct mem_range avoid[] = { { MiB(6), MiB(8) } };
    assert_int_equal(place(avoid, 1, 0, GiB(4)), MiB(4));
    /* with a floor of 5M the only room left is below it */
    assert_true(place(avoid, 1, MiB(5), GiB(4)) == NO_BASE);
}

static void test_place_floor_clips_start_of_entry(void **state)
{
    (void)state;
    MAP({ 0, MiB(5), AVAIL });
    assert_int_equal(place(NULL, 0, MiB(1), GiB(4)), MiB(2));
    assert_true(place(NULL, 0, MiB(3) + 1, GiB(4)) == NO_BASE);
}

static void test_place_respects_limit(void **state)
{
    (void)state;
    MAP({ MiB(1), GiB(8), AVAIL });
    assert_int_equal(place(NULL, 0, 0, GiB(4)), GiB(4) - MiB(2));
    assert_int_equal(place(NULL, 0, 0, MiB(33)), MiB(30));
}

static void test_place_skips_entries_above_limit(void **state)
{
    (void)state;
    MAP({ GiB(4), GiB(4), AVAIL },
        { MiB(1), MiB(15), AVAIL });
    assert_int_equal(place(NULL, 0, MiB(1), GiB(4)), MiB(14));
}

static void test_place_fails_when_nothing_is_big_enough(void **state)
{
    (void)state;
    MAP({ 0, MiB(1), AVAIL },
        { MiB(2), MiB(1) + KiB(4), AVAIL });
    assert_true(place(NULL, 0, 0, GiB(4)) == NO_BASE);
}

static void test_place_fails_when_alignment_leaves_no_room(void **state)
{
    (void)state;
    /* 2M + 4K long, but no 2M boundary with 2M after it */
    MAP({ MiB(1), MiB(2) + KiB(4), AVAIL });
    assert_true(place(NULL, 0, 0, GiB(4)) == NO_BASE);
}

static void test_place_fails_when_avoid_covers_everything(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });
    const struct mem_range avoid[] = { { 0, MiB(64) } };
    assert_true(place(avoid, 1, 0, GiB(4)) == NO_BASE);
}

static void test_place_falls_back_to_lower_entry_when_higher_is_blocked(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(15), AVAIL },
        { MiB(32), MiB(2), AVAIL });
    const struct mem_range avoid[] = { { MiB(33), MiB(33) + 1 } };
    assert_int_equal(place(avoid, 1, 0, GiB(4)), MiB(14));
}

static void test_place_fails_on_empty_map(void **state)
{
    (void)state;
    map(NULL, 0);
    assert_true(place(NULL, 0, 0, GiB(4)) == NO_BASE);
}

static void test_place_refuses_alignment_not_power_of_two(void **state)
{
    (void)state;
    MAP({ 0, GiB(1), AVAIL });
    u64 base = NO_BASE;
    assert_false(memmap_place(&bi, NULL, 0, MiB(2), MiB(3), 0, GiB(4), &base));
    assert_false(memmap_place(&bi, NULL, 0, MiB(2), 0, 0, GiB(4), &base));
    assert_true(base == NO_BASE);
}

static void test_place_refuses_size_zero(void **state)
{
    (void)state;
    MAP({ 0, GiB(1), AVAIL });
    u64 base = NO_BASE;
    assert_false(memmap_place(&bi, NULL, 0, 0, KiB(4), 0, GiB(4), &base));
    assert_true(base == NO_BASE);
}

static void test_place_with_page_alignment(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(1), AVAIL });
    u64 base = 0;
    assert_true(memmap_place(&bi, NULL, 0, KiB(12), KiB(4), 0, GiB(4), &base));
    assert_int_equal(base, MiB(2) - KiB(12));
}

/* ---- memmap_available ---- */

static void test_available_sums_available_entries_only(void **state)
{
    (void)state;
    MAP({ 0, KiB(639), AVAIL },
        { KiB(639), KiB(1), RESV },
        { MiB(1), MiB(127), AVAIL },
        { MiB(128), MiB(1), MB2_MEM_NVS },
        { GiB(4), GiB(2), AVAIL });
    assert_int_equal(memmap_available(&bi), KiB(639) + MiB(127) + GiB(2));
}

static void test_top_is_the_highest_end_and_at_least_4g(void **state)
{
    (void)state;
    MAP({ 0, KiB(639), AVAIL },
        { MiB(1), MiB(127), AVAIL });
    assert_true(memmap_top(&bi) == GiB(4));           /* RAM below 4 GiB: the MMIO up to it */
    MAP({ MiB(1), MiB(127), AVAIL },
        { GiB(4), GiB(2), AVAIL },
        { GiB(8), MiB(1), RESV });
    assert_true(memmap_top(&bi) == GiB(8) + MiB(1));  /* any type counts */
}

static void test_available_of_empty_map_is_zero(void **state)
{
    (void)state;
    map(NULL, 0);
    assert_int_equal(memmap_available(&bi), 0);
}

/* ---- memmap_is_ram ---- */

static void test_is_ram_inside_one_entry(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });
    assert_true(memmap_is_ram(&bi, MiB(2), MiB(3)));
    assert_true(memmap_is_ram(&bi, MiB(1), MiB(64)));   /* the whole entry */
}

static void test_is_ram_spanning_two_adjacent_entries(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(1), AVAIL },
        { MiB(2), MiB(2), AVAIL });
    assert_true(memmap_is_ram(&bi, MiB(1) + KiB(4), MiB(3)));
}

static void test_is_ram_spanning_entries_listed_out_of_order(void **state)
{
    (void)state;
    MAP({ MiB(3), MiB(1), AVAIL },
        { MiB(1), MiB(1), AVAIL },
        { MiB(2), MiB(1), AVAIL });
    assert_true(memmap_is_ram(&bi, MiB(1), MiB(4)));
}

static void test_is_ram_false_across_a_hole(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(1), AVAIL },
        { MiB(2) + KiB(4), MiB(2), AVAIL });
    assert_false(memmap_is_ram(&bi, MiB(1), MiB(3)));
    assert_true(memmap_is_ram(&bi, MiB(2) + KiB(4), MiB(3)));
}

static void test_is_ram_false_past_the_end_of_ram(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(1), AVAIL });
    assert_false(memmap_is_ram(&bi, MiB(1), MiB(2) + 1));
    assert_false(memmap_is_ram(&bi, 0, KiB(4)));
}

static void test_is_ram_false_where_reserved_overlaps_available(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL },
        { MiB(8), KiB(4), RESV });
    assert_false(memmap_is_ram(&bi, MiB(7), MiB(9)));
    assert_false(memmap_is_ram(&bi, MiB(8), MiB(8) + 1));
    /* touching the reserved entry is fine */
    assert_true(memmap_is_ram(&bi, MiB(7), MiB(8)));
    assert_true(memmap_is_ram(&bi, MiB(8) + KiB(4), MiB(9)));
}

static void test_is_ram_false_for_non_available_types(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(1), MB2_MEM_ACPI_RECLAIMABLE },
        { MiB(2), MiB(1), MB2_MEM_BADRAM });
    assert_false(memmap_is_ram(&bi, MiB(1), MiB(2)));
    assert_false(memmap_is_ram(&bi, MiB(2), MiB(3)));
}

static void test_is_ram_false_for_empty_or_reversed_range(void **state)
{
    (void)state;
    MAP({ MiB(1), MiB(63), AVAIL });
    assert_false(memmap_is_ram(&bi, MiB(2), MiB(2)));
    assert_false(memmap_is_ram(&bi, MiB(3), MiB(2)));
}

/* ---- memmap_ram_ranges ---- */

/* The list's answer for [s, e): one listed range holds it whole. */
static bool listed(const struct mem_range *r, int n, u64 s, u64 e)
{
    for (int i = 0; i < n; i++)
        if (s >= r[i].start && e <= r[i].end)
            return s < e;
    return false;
}

/* The slow answer the list replaces. */
static bool slow(const struct mem_range *avoid, u32 navoid, u64 limit, u64 s, u64 e)
{
    if (e > limit || !memmap_is_ram(&bi, s, e))
        return false;
    for (u32 i = 0; i < navoid; i++)
        if (range_overlaps(s, e, avoid[i].start, avoid[i].end))
            return false;
    return true;
}

static void test_ram_ranges_cut_out_avoid_and_merge(void **state)
{
    (void)state;
    /* low memory, then two adjacent entries out of order, a reserved hole
     * inside them, RAM above the limit */
    MAP({ 0, KiB(639), AVAIL }, { MiB(64), MiB(448), AVAIL }, { MiB(1), MiB(63), AVAIL },
        { MiB(100), KiB(8), RESV }, { GiB(4), GiB(1), AVAIL });
    const struct mem_range avoid[] = { { MiB(32), MiB(33) }, { MiB(500), MiB(504) } };
    struct mem_range r[16];
    int n = memmap_ram_ranges(&bi, avoid, 2, GiB(4), r, 16);
    assert_int_equal(n, 5);
    assert_true(r[0].start == 0 && r[0].end == KiB(639));
    assert_true(r[1].start == MiB(1) && r[1].end == MiB(32));
    assert_true(r[2].start == MiB(33) && r[2].end == MiB(100));   /* 1M..64M and 64M.. merged */
    assert_true(r[3].start == MiB(100) + KiB(8) && r[3].end == MiB(500));
    assert_true(r[4].start == MiB(504) && r[4].end == MiB(512));    /* the 4 GiB entry is past the limit */
    assert_int_equal(memmap_ram_ranges(&bi, avoid, 2, GiB(4), r, 4), -1);   /* more than max */
}

static u64 rnd(u64 *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Every range of a pseudo-random set of maps gets the same answer from the
 * list as from memmap_is_ram and the avoid list. */
static void test_ram_ranges_agree_with_is_ram(void **state)
{
    (void)state;
    static u64 x = 0x2545f4914f6cdd1dull;
#define RND() rnd(&x)
    for (int round = 0; round < 200; round++) {
        struct mb2_mmap_entry e[8];
        u32 ne = 1 + (u32)(RND() % 8);
        for (u32 i = 0; i < ne; i++)
            e[i] = (struct mb2_mmap_entry){ (RND() % 64) * KiB(64), (1 + RND() % 32) * KiB(64),
                                            RND() % 3 ? AVAIL : RESV };
        map(e, ne);
        struct mem_range avoid[3];
        u32 na = (u32)(RND() % 4);
        for (u32 i = 0; i < na; i++) {
            avoid[i].start = (RND() % 64) * KiB(64);
            avoid[i].end = avoid[i].start + (1 + RND() % 8) * KiB(64);
        }
        u64 limit = (16 + RND() % 80) * KiB(64);
        struct mem_range r[64];
        int n = memmap_ram_ranges(&bi, avoid, na, limit, r, 64);
        assert_true(n >= 0);
        for (int i = 0; i + 1 < n; i++)
            assert_true(r[i].start < r[i].end && r[i].end < r[i + 1].start);   /* sorted, disjoint, merged */
        for (int t = 0; t < 400; t++) {
            u64 s = (RND() % 100) * KiB(32), len = (RND() % 40) * KiB(32) + (RND() % 2);
            assert_int_equal(listed(r, n, s, s + len), len && slow(avoid, na, limit, s, s + len));
        }
    }
#undef RND
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_takes_highest_aligned_fit),
        cmocka_unit_test(test_place_aligns_down_inside_unaligned_entry),
        cmocka_unit_test(test_place_prefers_the_higher_entry),
        cmocka_unit_test(test_place_uses_only_available_entries),
        cmocka_unit_test(test_place_slides_below_an_avoid_range),
        cmocka_unit_test(test_place_slides_down_several_times),
        cmocka_unit_test(test_place_slides_below_every_range_a_candidate_overlaps),
        cmocka_unit_test(test_place_may_touch_an_avoid_range),
        cmocka_unit_test(test_place_avoids_reserved_entry_inside_available_ram),
        cmocka_unit_test(test_place_respects_floor),
        cmocka_unit_test(test_place_floor_clips_start_of_entry),
        cmocka_unit_test(test_place_respects_limit),
        cmocka_unit_test(test_place_skips_entries_above_limit),
        cmocka_unit_test(test_place_fails_when_nothing_is_big_enough),
        cmocka_unit_test(test_place_fails_when_alignment_leaves_no_room),
        cmocka_unit_test(test_place_fails_when_avoid_covers_everything),
        cmocka_unit_test(test_place_falls_back_to_lower_entry_when_higher_is_blocked),
        cmocka_unit_test(test_place_fails_on_empty_map),
        cmocka_unit_test(test_place_refuses_alignment_not_power_of_two),
        cmocka_unit_test(test_place_refuses_size_zero),
        cmocka_unit_test(test_place_with_page_alignment),
        cmocka_unit_test(test_available_sums_available_entries_only),
        cmocka_unit_test(test_available_of_empty_map_is_zero),
        cmocka_unit_test(test_is_ram_inside_one_entry),
        cmocka_unit_test(test_is_ram_spanning_two_adjacent_entries),
        cmocka_unit_test(test_is_ram_spanning_entries_listed_out_of_order),
        cmocka_unit_test(test_is_ram_false_across_a_hole),
        cmocka_unit_test(test_is_ram_false_past_the_end_of_ram),
        cmocka_unit_test(test_is_ram_false_where_reserved_overlaps_available),
        cmocka_unit_test(test_is_ram_false_for_non_available_types),
        cmocka_unit_test(test_is_ram_false_for_empty_or_reversed_range),
        cmocka_unit_test(test_top_is_the_highest_end_and_at_least_4g),
        cmocka_unit_test(test_ram_ranges_cut_out_avoid_and_merge),
        cmocka_unit_test(test_ram_ranges_agree_with_is_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
