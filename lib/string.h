/* Freestanding string and memory helpers. */
#ifndef VIGIL_LIB_STRING_H
#define VIGIL_LIB_STRING_H

#include "lib/types.h"

#ifndef VIGIL_HOST
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* -ffreestanding makes every call a call: through the builtins the compiler
 * inlines a copy, fill or compare of a small constant size (an 8-byte read
 * of guest memory is two moves, not a call and a string instruction), and
 * calls the functions above for the rest. */
#define memcpy(d, s, n) __builtin_memcpy(d, s, n)
#define memset(d, c, n) __builtin_memset(d, c, n)
#define memcmp(a, b, n) __builtin_memcmp(a, b, n)
#else
#include <string.h>
#endif

/* Bounded length: at most max. */
size_t str_nlen(const char *s, size_t max);
/* Copy with truncation; dst is always NUL-terminated (size > 0). Returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t size);
/* Parse an unsigned number: decimal, or hex with 0x. Whole string must match.
 * Returns false on empty input, bad digits or overflow. */
bool str_to_u64(const char *s, size_t len, u64 *out);

#endif
