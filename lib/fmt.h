/* printf-style formatting into a bounded buffer (no floating point).
 * Conversions: %d %i %u %x %X %p %s %c %%, flags '-' '0', width and precision
 * (digits or *), length modifiers l, ll, z. The output is always
 * NUL-terminated when size > 0; the return value is the length the full
 * output would have had (as C's vsnprintf). */
#ifndef VIGIL_LIB_FMT_H
#define VIGIL_LIB_FMT_H

#include "lib/types.h"

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append a JSON string body (no quotes) of src, escaping ", \ and control
 * characters, into buf of size at position *pos; never overflows. */
bool fmt_json_escape(char *buf, size_t size, size_t *pos, const char *src);
/* (returns false when src did not fit whole) */

#endif
