#include "lib/clock.h"
#include "lib/fmt.h"

static bool bcd(u8 v, u32 *out)
{
    if ((v & 0xf) > 9 || (v >> 4) > 9)
        return false;
    *out = (v >> 4) * 10u + (v & 0xf);
    return true;
}

#define BAD(...) do { if (err && errlen) fmt_snprintf(err, errlen, __VA_ARGS__); return false; } while (0)

bool rtc_decode(const u8 regs[RTC_NREGS], struct civil *out, char *err, size_t errlen)
{
    static const char *const names[] = { "second", "minute", "hour", "day", "month", "year", "century" };
    bool binary = regs[RTC_STATUS_B] & RTC_B_BINARY, h24 = regs[RTC_STATUS_B] & RTC_B_24H;
    u32 v[RTC_CENTURY + 1];
    bool pm = !h24 && (regs[RTC_HOUR] & 0x80);
    for (int i = 0; i <= RTC_CENTURY; i++) {
        u8 raw = i == RTC_HOUR && !h24 ? regs[i] & 0x7f : regs[i];
        if (binary)
            v[i] = raw;
        else if (!bcd(raw, &v[i]))
            BAD("RTC %s register 0x%02x is not BCD", names[i], regs[i]);
    }
    if (!v[RTC_CENTURY])
        v[RTC_CENTURY] = 20;                        /* no century register: the 2000s */
    if (!h24) {
        if (v[RTC_HOUR] < 1 || v[RTC_HOUR] > 12)
            BAD("RTC hour %u is not a 12-hour clock's", v[RTC_HOUR]);
        v[RTC_HOUR] = v[RTC_HOUR] % 12 + (pm ? 12 : 0);
    }
    struct civil c = { v[RTC_CENTURY] * 100 + v[RTC_YEAR], v[RTC_MONTH], v[RTC_DAY], v[RTC_HOUR], v[RTC_MIN],
                       v[RTC_SEC] };
    static const u8 mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
    if (v[RTC_YEAR] > 99 || c.year < 1970 || c.year > 9999)
        BAD("RTC year %u is out of range", c.year);
    if (c.month < 1 || c.month > 12)
        BAD("RTC month %u is out of range", c.month);
    if (c.day < 1 || c.day > mdays[c.month - 1] || (c.month == 2 && c.day == 29 && !leap))
        BAD("RTC day %u is not a day of month %u of %u", c.day, c.month, c.year);
    if (c.hour > 23 || c.min > 59 || c.sec > 59)
        BAD("RTC time %u:%02u:%02u is out of range", c.hour, c.min, c.sec);
    *out = c;
    return true;
}

/* Days since 1970-01-01 of a civil date (the proleptic Gregorian calendar;
 * the year taken from March, so that February's leap day comes last). */
static u64 days_from_civil(u32 y, u32 m, u32 d)
{
    y -= m <= 2;
    u32 era = y / 400, yoe = y - era * 400;
    u32 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    u32 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (u64)era * 146097 + doe - 719468;
}

u64 civil_to_unix(const struct civil *c)
{
    return days_from_civil(c->year, c->month, c->day) * 86400 + c->hour * 3600u + c->min * 60u + c->sec;
}

void unix_to_civil(u64 secs, struct civil *c)
{
    u64 z = secs / 86400 + 719468, rem = secs % 86400;
    u64 era = z / 146097, doe = z - era * 146097;
    u64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    u64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    c->day = (u32)(doy - (153 * mp + 2) / 5 + 1);
    c->month = (u32)(mp < 10 ? mp + 3 : mp - 9);
    c->year = (u32)(yoe + era * 400 + (c->month <= 2));
    c->hour = (u32)(rem / 3600);
    c->min = (u32)(rem / 60 % 60);
    c->sec = (u32)(rem % 60);
}

size_t fmt_rfc3339_ms(u64 unix_ms, char *buf, size_t size)
{
    struct civil c;
    unix_to_civil(unix_ms / 1000, &c);
    int n = fmt_snprintf(buf, size, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", c.year, c.month, c.day, c.hour, c.min,
                         c.sec, (u32)(unix_ms % 1000));
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
