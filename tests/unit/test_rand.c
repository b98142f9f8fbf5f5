/* Unit tests for lib/rand.c: the splitmix64 stream, the fixed-point
 * -ln(U) against libm, and the exponential intervals vigil's random-time
 * samples are spaced by: their mean, their cut, and that they are
 * memoryless (what is left of an interval that has lasted a while has the
 * same mean as a fresh one: a guest that saw a sample learns nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "lib/rand.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void test_splitmix_stream(void **state)
{
    (void)state;
    u64 s = 0;
    assert_true(rand_next(&s) == 0xe220a8397b1dcdafull);   /* splitmix64's published first output for seed 0 */
    assert_true(rand_next(&s) == 0x6e789e6aa1b965f4ull);
    u64 a = 12345, b = 12345;
    for (int i = 0; i < 100; i++)
        assert_true(rand_next(&a) == rand_next(&b));        /* a seed is its sequence */
}

static void test_neglog_against_libm(void **state)
{
    (void)state;
    u64 s = 7;
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        u64 r = rand_next(&s);
        if (i < 64)
            r = 1ull << i;                                   /* every power of two, down to 1 */
        double u = (double)(r | 1) / 18446744073709551616.0;
        double want = -log(u), got = rand_neglog_q16(r) / 65536.0;
        double err = fabs(got - want);
        if (err > worst)
            worst = err;
    }
    assert_true(worst < 1.0 / 2048);
    assert_true(rand_neglog_q16(~0ull) < 4);                 /* U near 1: near 0 */
    assert_true(rand_neglog_q16(1) / 65536.0 > 44.3);        /* the largest: -ln(2^-64) */
}

static void test_exp_mean_and_cut(void **state)
{
    (void)state;
    const u64 mean = 2000000;                                /* 10 ms of a 200 MHz TSC */
    u64 s = 99, max = 0;
    double sum = 0;
    const int n = 400000;
    for (int i = 0; i < n; i++) {
        u64 d = rand_exp_interval(rand_next(&s), mean, 8);
        sum += (double)d;
        if (d > max)
            max = d;
    }
    double m = sum / n;
    assert_true(m > 0.99 * mean && m < 1.01 * mean);         /* the cut at 8 means takes 0.03% off */
    assert_true(max <= 8 * mean);
    assert_true(max > 6 * mean);                             /* the tail is there (e^-6 of 400k draws) */
    assert_true(rand_exp_interval(1, mean, 0) > 40 * mean);  /* no cut */
}

/* Of the intervals that have already lasted a (one mean), what remains has
 * the mean of a fresh one; and half of all intervals end before ln 2 means. */
static void test_exp_memoryless(void **state)
{
    (void)state;
    const u64 mean = 1000000;
    u64 s = 4242;
    double left = 0;
    int longer = 0, short_half = 0;
    const int n = 400000;
    for (int i = 0; i < n; i++) {
        u64 d = rand_exp_interval(rand_next(&s), mean, 0);
        if (d < (u64)(0.693147 * mean))
            short_half++;
        if (d > mean) {
            longer++;
            left += (double)(d - mean);
        }
    }
    double p = (double)longer / n, rest = left / longer;
    assert_true(p > 0.362 && p < 0.374);                     /* e^-1 = 0.368 */
    assert_true(rest > 0.98 * mean && rest < 1.02 * mean);
    assert_true(short_half > 0.495 * n && short_half < 0.505 * n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix_stream),
        cmocka_unit_test(test_neglog_against_libm),
        cmocka_unit_test(test_exp_mean_and_cut),
        cmocka_unit_test(test_exp_memoryless),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
