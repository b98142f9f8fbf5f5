/* Wall-clock time for alert records: the RTC's registers decoded into a
 * civil date, civil dates to Unix time and back, and RFC 3339 (UTC, with
 * milliseconds). Pure: unit-tested on the host. */
#ifndef VIGIL_LIB_CLOCK_H
#define VIGIL_LIB_CLOCK_H

#include "lib/types.h"

/* The CMOS RTC registers vigil reads, in this order. */
enum rtc_reg { RTC_SEC, RTC_MIN, RTC_HOUR, RTC_DAY, RTC_MONTH, RTC_YEAR, RTC_CENTURY, RTC_STATUS_B, RTC_NREGS };
#define RTC_B_24H    0x02              /* status B: 24-hour mode (else 12-hour, bit 7 of the hour = PM) */
#define RTC_B_BINARY 0x04              /* status B: binary (else BCD) */

struct civil { u32 year, month, day, hour, min, sec; };

/* The registers as read: BCD or binary, 12- or 24-hour, the century from
 * its register (0: the 2000s). Returns false with the field named in err
 * when a value is not a date (a bad BCD digit, month 13, ...). */
bool rtc_decode(const u8 regs[RTC_NREGS], struct civil *out, char *err, size_t errlen);
/* Seconds since 1970-01-01T00:00:00Z (dates from 1970 on). */
u64 civil_to_unix(const struct civil *c);
void unix_to_civil(u64 secs, struct civil *c);
/* "2026-12-01T16:59:03.123Z" (24 characters and a NUL): 0 if buf is too small. */
size_t fmt_rfc3339_ms(u64 unix_ms, char *buf, size_t size);

#endif
