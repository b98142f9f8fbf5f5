/* ghost: the process the hide-in-* scenarios hide. It computes in ring 3
 * for `ms` milliseconds of uptime, asking the time only every 4096 rounds,
 * so that it is nearly always in user mode while it runs. Exit 0. */
#include "ulib.h"

int main(long ms)
{
    long end = uptime() + ms;
    uint64_t x = 0x9e3779b97f4a7c15ull, rounds = 0;
    while (uptime() < end) {
        for (int i = 0; i < 4096; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        rounds++;
    }
    printf("ghost: pid %ld ran %lu rounds (%lx)\n", getpid(), (unsigned long)rounds, (unsigned long)(x & 0xff));
    return 0;
}
