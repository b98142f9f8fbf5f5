/* vsig [SECONDS]: a process that holds the IDS's test signature (the 16
 * bytes the signature policy looks for by default) in its memory, in a
 * page of its own at the bottom of its address space, and computes for
 * SECONDS (default 2) of the guest's time so that it runs when the
 * periodic scans look. The bytes are put together at run time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ll + t.tv_nsec;
}

int main(int argc, char **argv)
{
    long long secs = argc > 1 ? atoll(argv[1]) : 2;
    char *p = mmap((void *)0x10000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        perror("VIGIL-PROG vsig mmap");
        return 1;
    }
    memcpy(p, "VIGIL-", 6);
    memcpy(p + 6, "SIGNATURE!", 10);
    printf("VIGIL-PROG vsig holds the signature at %p\n", (void *)p);
    fflush(stdout);
    volatile unsigned long sum = 0;
    for (long long end = now_ns() + secs * 1000000000ll; now_ns() < end;)
        for (int i = 0; i < 1000; i++)
            sum += (unsigned long)i * 2654435761u + (unsigned char)p[i & 15];
    printf("VIGIL-PROG vsig done\n");
    return 0;
}
