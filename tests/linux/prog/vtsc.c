/* vtsc LABEL: print the guest's time stamp counter, "VIGIL-BENCH tsc LABEL N".
 * /init runs it first thing: in Bochs (clock sync=none) the TSC counts
 * emulated cycles from power-on, so this is the boot's length to /init,
 * and it repeats from run to run. */
#include <stdio.h>
#include <stdint.h>

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

int main(int argc, char **argv)
{
    uint64_t t = rdtsc();
    printf("VIGIL-BENCH tsc %s %llu\n", argc > 1 ? argv[1] : "now", (unsigned long long)t);
    return 0;
}
