/* Unit tests for lib/clock.c: the RTC's registers decoded (BCD and binary,
 * 12- and 24-hour, the century register, every refusal), civil dates to
 * Unix time and back, and RFC 3339 with milliseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/clock.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

static void regs(u8 r[RTC_NREGS], u8 sec, u8 min, u8 hour, u8 day, u8 mon, u8 year, u8 cent, u8 b)
{
    r[RTC_SEC] = sec, r[RTC_MIN] = min, r[RTC_HOUR] = hour, r[RTC_DAY] = day, r[RTC_MONTH] = mon;
    r[RTC_YEAR] = year, r[RTC_CENTURY] = cent, r[RTC_STATUS_B] = b;
}

static void check_date(const u8 r[RTC_NREGS], u32 y, u32 mo, u32 d, u32 h, u32 mi, u32 s)
{
    struct civil c;
    char err[80] = "";
    assert_true(rtc_decode(r, &c, err, sizeof err));
    assert_string_equal(err, "");
    assert_int_equal(c.year, y);
    assert_int_equal(c.month, mo);
    assert_int_equal(c.day, d);
    assert_int_equal(c.hour, h);
    assert_int_equal(c.min, mi);
    assert_int_equal(c.sec, s);
}

static void check_refused(const u8 r[RTC_NREGS], const char *want)
{
    struct civil c = { 1, 2, 3, 4, 5, 6 };
    char err[80] = "";
    assert_false(rtc_decode(r, &c, err, sizeof err));
    assert_string_equal(err, want);
    assert_int_equal(c.year, 1);                      /* untouched */
}

static void test_bcd_24h(void **state)
{
    (void)state;
    u8 r[RTC_NREGS];
    regs(r, 0x03, 0x59, 0x16, 0x01, 0x12, 0x26, 0x20, RTC_B_24H);
    check_date(r, 2026, 12, 1, 16, 59, 3);
}

static void test_binary_24h(void **state)
{
    (void)state;
    u8 r[RTC_NREGS];
    regs(r, 3, 59, 16, 1, 12, 26, 20, RTC_B_24H | RTC_B_BINARY);
    check_date(r, 2026, 12, 1, 16, 59, 3);
}

static void test_12_hour_clock(void **state)
{
    (void)state;
    u8 r[RTC_NREGS];
    regs(r, 0, 0, 0x12, 1, 1, 0x30, 0x20, 0);              /* 12 AM: midnight */
    check_date(r, 2030, 1, 1, 0, 0, 0);
    regs(r, 0, 0, 0x92, 1, 1, 0x30, 0x20, 0);              /* 12 PM: noon */
    check_date(r, 2030, 1, 1, 12, 0, 0);
    regs(r, 0, 0, 0x81 + 0x10, 1, 1, 0x30, 0x20, 0);       /* 11 PM (BCD 0x11 with the PM bit) */
    check_date(r, 2030, 1, 1, 23, 0, 0);
    regs(r, 0, 0, 0x80 | 11, 1, 1, 30, 20, RTC_B_BINARY);  /* binary 11 PM */
    check_date(r, 2030, 1, 1, 23, 0, 0);
}

static void test_no_century_register_means_2000s(void **state)
{
    (void)state;
    u8 r[RTC_NREGS];
    regs(r, 0, 0, 0, 0x29, 0x02, 0x24, 0x00, RTC_B_24H);
    check_date(r, 2024, 2, 29, 0, 0, 0);
    regs(r, 0, 0, 0, 0x31, 0x12, 0x99, 0x19, RTC_B_24H);
    check_date(r, 1999, 12, 31, 0, 0, 0);
}

static void test_refusals_name_the_field(void **state)
{
    (void)state;
    u8 r[RTC_NREGS];
    regs(r, 0x5a, 0, 0, 1, 1, 0x26, 0x20, RTC_B_24H);
    check_refused(r, "RTC second register 0x5a is not BCD");
    regs(r, 0, 0, 0, 1, 0x13, 0x26, 0x20, RTC_B_24H);
    check_refused(r, "RTC month 13 is out of range");
    regs(r, 0, 0, 0, 0x29, 0x02, 0x25, 0x20, RTC_B_24H);
    check_refused(r, "RTC day 29 is not a day of month 2 of 2025");
    regs(r, 0, 0, 0, 0x31, 0x04, 0x25, 0x20, RTC_B_24H);
    check_refused(r, "RTC day 31 is not a day of month 4 of 2025");
    regs(r, 0, 0, 0, 0, 1, 0x25, 0x20, RTC_B_24H);
    check_refused(r, "RTC day 0 is not a day of month 1 of 2025");
    regs(r, 0, 0, 0x24, 1, 1, 0x25, 0x20, RTC_B_24H);
    check_refused(r, "RTC time 24:00:00 is out of range");
    regs(r, 0, 0, 0x13, 1, 1, 0x25, 0x20, 0);
    check_refused(r, "RTC hour 13 is not a 12-hour clock's");
    regs(r, 0, 0, 0, 1, 1, 150, 20, RTC_B_24H | RTC_B_BINARY);
    check_refused(r, "RTC year 2150 is out of range");
    regs(r, 0, 0, 0, 1, 1, 0x69, 0x19, RTC_B_24H);
    check_refused(r, "RTC year 1969 is out of range");
    regs(r, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);  /* nothing answers: all ones, binary */
    check_refused(r, "RTC year 25755 is out of range");
}

static void test_unix_time_both_ways(void **state)
{
    (void)state;
    static const struct { struct civil c; u64 t; } known[] = {
        { { 1970, 1, 1, 0, 0, 0 }, 0 },
        { { 2000, 2, 29, 12, 0, 0 }, 951825600 },
        { { 2026, 12, 1, 16, 59, 3 }, 1796144343 },
        { { 2038, 1, 19, 3, 14, 8 }, 2147483648ull },
        { { 2100, 3, 1, 0, 0, 0 }, 4107542400ull },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        assert_int_equal(civil_to_unix(&known[i].c), known[i].t);
        struct civil c;
        unix_to_civil(known[i].t, &c);
        assert_memory_equal(&c, &known[i].c, sizeof c);
    }
    /* Every day for 400 years round-trips. */
    for (u64 t = 0; t < 146097ull * 86400; t += 86400 + 3661) {
        struct civil c;
        unix_to_civil(t, &c);
        assert_int_equal(civil_to_unix(&c), t);
    }
}

static void test_rfc3339_with_milliseconds(void **state)
{
    (void)state;
    char buf[32];
    assert_int_equal(fmt_rfc3339_ms(1796144343123ull, buf, sizeof buf), 24);
    assert_string_equal(buf, "2026-12-01T16:59:03.123Z");
    assert_int_equal(fmt_rfc3339_ms(7, buf, sizeof buf), 24);
    assert_string_equal(buf, "1970-01-01T00:00:00.007Z");
    assert_int_equal(fmt_rfc3339_ms(7, buf, 24), 0);          /* no room for the NUL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_24h),
        cmocka_unit_test(test_binary_24h),
        cmocka_unit_test(test_12_hour_clock),
        cmocka_unit_test(test_no_century_register_means_2000s),
        cmocka_unit_test(test_refusals_name_the_field),
        cmocka_unit_test(test_unix_time_both_ways),
        cmocka_unit_test(test_rfc3339_with_milliseconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
