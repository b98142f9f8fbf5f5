/* testos user library: string helpers and printf (%d %u %x %s %c, 'l'). */
#include "ulib.h"

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

static void put(char *b, size_t *len, size_t cap, char c)
{
    if (*len < cap)
        b[*len] = c;
    (*len)++;
}

static void num(char *b, size_t *len, size_t cap, uint64_t v, unsigned base, int neg, int width, char pad)
{
    char t[24];
    int i = 0;
    do {
        t[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        t[i++] = '-';
    for (int w = i; w < width; w++)
        put(b, len, cap, pad);
    while (i)
        put(b, len, cap, t[--i]);
}

int printf(const char *fmt, ...)
{
    char b[256];
    size_t len = 0, cap = sizeof b;
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(b, &len, cap, *fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            lng = 1, fmt++;
        switch (*fmt) {
        case 'd': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            num(b, &len, cap, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u':
            num(b, &len, cap, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, width, pad);
            break;
        case 'x':
            num(b, &len, cap, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0, width, pad);
            break;
        case 's':
            for (const char *s = va_arg(ap, const char *); *s; s++)
                put(b, &len, cap, *s);
            break;
        case 'c':
            put(b, &len, cap, (char)va_arg(ap, int));
            break;
        case 0:
            fmt--;
            break;
        default:
            put(b, &len, cap, *fmt);
        }
    }
    va_end(ap);
    write(b, len < cap ? len : cap);
    return (int)len;
}
