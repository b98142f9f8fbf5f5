/* Freestanding string and memory helpers. GCC may emit calls to memcpy,
 * memset, memmove and memcmp itself, so these keep their standard names. */
#include "lib/string.h"

#ifndef VIGIL_HOST
#undef memcpy
#undef memset
#undef memcmp

/* Eight bytes a step, then the rest: each step of a string instruction
 * costs about an instruction (Bochs counts each as one), so a 4 KiB copy
 * is 512 steps, not 4096. */
void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    size_t q = n >> 3, r = n & 7;
    __asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) :: "memory");
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(r) :: "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    size_t q = n >> 3, r = n & 7;
    u64 v = (u8)c * 0x0101010101010101ull;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(v) : "memory");
    return dst;
}

/* Eight bytes a step while they are equal; the first difference is then
 * found byte by byte. */
int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        u64 p, q;
        __builtin_memcpy(&p, x, 8);
        __builtin_memcpy(&q, y, 8);
        if (p != q)
            break;
    }
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (u8)*a - (u8)*b;
        if (!*a)
            return 0;
    }
    return 0;
}
#endif

size_t str_nlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

size_t str_copy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = 0;
    }
    return len;
}

bool str_to_u64(const char *s, size_t len, u64 *out)
{
    u64 v = 0, base = 10;
    size_t i = 0;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == len)
        return false;
    for (; i < len; i++) {
        char c = s[i];
        u64 d;
        if (c >= '0' && c <= '9')
            d = (u64)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (u64)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (u64)(c - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}
