/* bench: user-side workloads, timed with RDTSC. arg = mode | count << 8.
 * Prints one line per workload: BENCH name=NAME ops=N cycles=C. */
#include "ulib.h"

enum { CTX_LEADER = 1, CTX_PARTNER = 2, SYSCALL = 3, PAGEFAULT = 4, MEMLOOP = 5 };

static void result(const char *name, uint64_t ops, uint64_t cycles)
{
    printf("BENCH name=%s ops=%lu cycles=%lu\n", name, ops, cycles);
}

int main(long arg)
{
    long mode = arg & 0xff, n = arg >> 8;
    uint64_t t0, t1;
    switch (mode) {
    case CTX_LEADER:
        yield();                         /* the partner is running now */
        t0 = rdtsc();
        for (long i = 0; i < n; i++)
            yield();
        t1 = rdtsc();
        result("ctxswitch", 2 * (uint64_t)n, t1 - t0);
        return 0;
    case CTX_PARTNER:
        for (long i = 0; i < n + 64; i++)
            yield();
        return 0;
    case SYSCALL:
        t0 = rdtsc();
        for (long i = 0; i < n; i++)
            getpid();
        t1 = rdtsc();
        result("syscall", (uint64_t)n, t1 - t0);
        return 0;
    case PAGEFAULT: {
        volatile char *m = sbrk(n * 4096);
        if ((long)m < 0)
            return 210;
        t0 = rdtsc();
        for (long i = 0; i < n; i++)
            m[i * 4096] = 1;
        t1 = rdtsc();
        result("pagefault", (uint64_t)n, t1 - t0);
        return 0;
    }
    case MEMLOOP: {
        const long words = 32768;        /* 256 KiB */
        volatile uint64_t *m = sbrk(words * 8);
        if ((long)m < 0)
            return 211;
        for (long i = 0; i < words; i += 512)
            m[i] = 0;
        uint64_t sum = 0;
        t0 = rdtsc();
        for (long pass = 0; pass < n; pass++)
            for (long i = 0; i < words; i++) {
                sum += m[i];
                m[i] = sum;
            }
        t1 = rdtsc();
        result("memloop", (uint64_t)n * words, t1 - t0);
        return (int)(sum & 1);
    }
    }
    return 212;
}
