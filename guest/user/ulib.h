/* testos user library: system-call wrappers and a small printf.
 * ABI: SYSCALL with RAX = number, arguments RDI, RSI, RDX, R10, R8. */
#ifndef TESTOS_ULIB_H
#define TESTOS_ULIB_H
#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

#define SYS_write  0
#define SYS_yield  1
#define SYS_getpid 2
#define SYS_sleep  3
#define SYS_exit   4
#define SYS_spawn  5
#define SYS_wait   6
#define SYS_sbrk   7
#define SYS_iopl   8
#define SYS_uptime 9

static inline long sys3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

static inline long write(const void *buf, size_t n) { return sys3(SYS_write, (long)buf, (long)n, 0); }
static inline long yield(void) { return sys3(SYS_yield, 0, 0, 0); }
static inline long getpid(void) { return sys3(SYS_getpid, 0, 0, 0); }
static inline long sleep_ms(long ms) { return sys3(SYS_sleep, ms, 0, 0); }
static inline __attribute__((noreturn)) void exit(int code)
{
    sys3(SYS_exit, code, 0, 0);
    __builtin_unreachable();
}
static inline long spawn(const char *name, long arg) { return sys3(SYS_spawn, (long)name, arg, 0); }
static inline long wait(long pid) { return sys3(SYS_wait, pid, 0, 0); }
static inline void *sbrk(long incr) { return (void *)sys3(SYS_sbrk, incr, 0, 0); }
static inline long iopl(long level) { return sys3(SYS_iopl, level, 0, 0); }
static inline long uptime(void) { return sys3(SYS_uptime, 0, 0, 0); }

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }

size_t strlen(const char *s);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
