/* vhide [SECONDS]: the process the test module's hide-process mode hides
 * (tests/linux/module/vigiltest.c: it finds it by its name). It works in
 * turns, 50 ms of computing then 10 ms asleep, for SECONDS (default 4) of
 * the guest's monotonic time, and prints a line every 10 turns: the proof
 * that it still runs once it is gone from the task list and from /proc. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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
    setvbuf(stdout, 0, _IONBF, 0);
    printf("VIGIL-PROG vhide start pid %d\n", (int)getpid());
    for (int turn = 0; now_ns() < end; turn++) {
        long long stop = now_ns() + 50000000ll;
        while (now_ns() < stop)
            for (int i = 0; i < 1000; i++)
                sum += (unsigned long)i * 2654435761u;
        if (turn % 10 == 9)
            printf("VIGIL-PROG vhide alive %d\n", turn + 1);
        struct timespec z = { 0, 10000000 };
        nanosleep(&z, 0);
    }
    printf("VIGIL-PROG vhide done\n");
    return 0;
}
