/* vhide [SECONDS]: the process the test module's hide-process mode hides
 * (tests/linux/module/vigiltest.c: it finds it by its name). It works in
 * turns, 50 ms of computing then 10 ms asleep, for SECONDS (default 4) of
 * the guest's monotonic time, and prints a line every 10 turns: the proof
 * that it still runs once it is gone from the task list and from /proc.
 * It notes the TSC each time it runs again after 1 ms or more without the
 * CPU, and prints those at the end ("resumed T ..."): the test measures
 * the IDS's time to report it from when it first ran hidden. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define MAX_RESUMES 512
#define GAP 200000ull                       /* TSC cycles: 1 ms at Bochs's 200 MHz */

static unsigned long long resumes[MAX_RESUMES];
static int nresumes;

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

int main(int argc, char **argv)
{
    long long secs = argc > 1 ? atoll(argv[1]) : 4;
    long long end = now_ns() + secs * 1000000000ll;
    volatile unsigned long sum = 0;
    unsigned long long last = __rdtsc();
    setvbuf(stdout, 0, _IONBF, 0);
    printf("VIGIL-PROG vhide start pid %d\n", (int)getpid());
    for (int turn = 0; now_ns() < end; turn++) {
        long long stop = now_ns() + 50000000ll;
        while (now_ns() < stop) {
            for (int i = 0; i < 200; i++)
                sum += (unsigned long)i * 2654435761u;
            unsigned long long t = __rdtsc();
            if (t - last > GAP && nresumes < MAX_RESUMES)
                resumes[nresumes++] = t;
            last = t;
        }
        if (turn % 10 == 9)
            printf("VIGIL-PROG vhide alive %d\n", turn + 1);
        struct timespec z = { 0, 10000000 };
        nanosleep(&z, 0);
    }
    for (int i = 0; i < nresumes; i += 16) {
        char line[512];
        int n = snprintf(line, sizeof(line), "VIGIL-PROG vhide resumed");
        for (int j = i; j < nresumes && j < i + 16; j++)
            n += snprintf(line + n, sizeof(line) - n, " %llu", resumes[j]);
        printf("%s\n", line);
    }
    printf("VIGIL-PROG vhide done\n");
    return 0;
}
