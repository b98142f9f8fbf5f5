/* init: the benign workload. Two generations of children (so address spaces
 * come and go): workers that compute and use heap memory, a sleeper, a
 * pager that touches fresh pages; init waits for each and sums the results. */
#include "ulib.h"

static long run_generation(int gen, const char *const *names, const long *args, int n)
{
    long pids[8], sum = 0;
    for (int i = 0; i < n; i++) {
        pids[i] = spawn(names[i], args[i]);
        if (pids[i] < 0) {
            printf("init: spawn %s failed\n", names[i]);
            return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        long code = wait(pids[i]);
        if (code < 0 || code >= 128) {
            printf("init: %s (pid %ld) failed with %ld\n", names[i], pids[i], code);
            return -1;
        }
        sum += code;
    }
    printf("init: generation %d: %d children exited, result sum %ld\n", gen, n, sum);
    return sum;
}

int main(long arg)
{
    (void)arg;
    printf("init: pid %ld running\n", getpid());
    static const char *const g1[] = { "worker", "worker", "sleeper", "pager" };
    static const long a1[] = { 1, 2, 3, 64 };
    static const char *const g2[] = { "worker", "worker", "sleeper" };
    static const long a2[] = { 3, 4, 5 };
    if (run_generation(1, g1, a1, 4) < 0 || run_generation(2, g2, a2, 3) < 0)
        return 1;
    printf("init: all work done\n");
    return 0;
}
