/* vcheck: a static C program of the test initramfs that exercises what
 * the shell workload does not reach directly: fork and an exit status,
 * a pipe between two processes, anonymous memory faulted in and read
 * back, the TSC. Its one line must be the same bare and under vigil. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static const char *fork_status(void)
{
    pid_t p = fork();
    if (p < 0)
        return "fork-failed";
    if (p == 0)
        _exit(42);
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
        return "wait-failed";
    return WEXITSTATUS(st) == 42 ? "42" : "wrong-status";
}

static const char *pipe_check(void)
{
    int a[2], b[2];
    if (pipe(a) || pipe(b))
        return "pipe-failed";
    pid_t p = fork();
    if (p < 0)
        return "fork-failed";
    if (p == 0) {                     /* the child upper-cases what it reads */
        char buf[16];
        ssize_t n = read(a[0], buf, sizeof(buf));
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] = (char)(buf[i] - 32);
        _exit(n > 0 && write(b[1], buf, (size_t)n) == n ? 0 : 1);
    }
    char out[16] = {0};
    if (write(a[1], "vigil", 5) != 5 || read(b[0], out, sizeof(out) - 1) != 5)
        return "io-failed";
    waitpid(p, NULL, 0);
    return strcmp(out, "VIGIL") ? "wrong-data" : "ok";
}

static const char *mmap_check(void)
{
    const size_t pages = 64, len = pages * 4096;
    uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return "mmap-failed";
    for (size_t i = 0; i < len; i += 4096)
        if (m[i])
            return "not-zero";
    for (size_t i = 0; i < len; i += 512)
        m[i] = (uint8_t)(i / 512);
    unsigned sum = 0, want = 0;
    for (size_t i = 0; i < len; i += 512) {
        sum += m[i];
        want += (uint8_t)(i / 512);
    }
    munmap(m, len);
    return sum == want ? "ok" : "wrong-sum";
}

int main(void)
{
    uint64_t t0 = rdtsc();
    const char *f = fork_status(), *p = pipe_check(), *m = mmap_check();
    uint64_t t1 = rdtsc();
    printf("VIGIL-LINUX vcheck fork=%s pipe=%s mmap=%s tsc=%s\n", f, p, m, t1 > t0 ? "ok" : "not-monotonic");
    return 0;
}
