/* vbench [SCALE [SPIN]]: vigil's benchmark inside Linux, in TSC cycles per
 * operation: getppid, a pipe ping-pong between two processes (one round
 * trip), fork+exit+wait, and page faults (fresh anonymous pages touched).
 * SCALE (percent, default 100) scales every operation count.
 *
 * Prints "VIGIL-BENCH ready", then, after each phase, "VIGIL-BENCH
 * name=NAME ops=N cycles=C"; after each of these lines it spins SPIN
 * million TSC cycles (default 0) without a system call, so that a reader
 * of vigil's console has time to ask vigil for its exit counts between
 * phases (scripts/bench.py types `status` when it sees each line). The
 * first phase, "null", does nothing: between two `status` answers it
 * holds one wait, as every other phase does, and what that costs in exits
 * (timer ticks) is subtracted from the others. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static uint64_t spin_cycles;

static void spin(void)
{
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < spin_cycles)
        __asm__ volatile("pause");
}

static void report(const char *name, unsigned long ops, uint64_t cycles)
{
    printf("VIGIL-BENCH name=%s ops=%lu cycles=%llu\n", name, ops, (unsigned long long)cycles);
    fflush(stdout);
    spin();
}

static void die(const char *what)
{
    printf("VIGIL-BENCH error %s\n", what);
    fflush(stdout);
    exit(1);
}

static uint64_t bench_getppid(unsigned long n)
{
    syscall(SYS_getppid);
    uint64_t t0 = rdtsc();
    for (unsigned long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return rdtsc() - t0;
}

/* One byte there and back: parent -> child on a, child -> parent on b. */
static uint64_t bench_pipe(unsigned long n)
{
    int a[2], b[2];
    char c = 'x';
    if (pipe(a) || pipe(b))
        die("pipe");
    pid_t p = fork();
    if (p < 0)
        die("fork");
    if (p == 0) {
        for (unsigned long i = 0; i <= n; i++)
            if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)     /* both sides running */
        die("pipe warm-up");
    uint64_t t0 = rdtsc();
    for (unsigned long i = 0; i < n; i++)
        if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
            die("pipe round trip");
    uint64_t t = rdtsc() - t0;
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
        die("pipe child");
    close(a[0]); close(a[1]); close(b[0]); close(b[1]);
    return t;
}

static uint64_t bench_fork(unsigned long n)
{
    uint64_t t0 = rdtsc();
    for (unsigned long i = 0; i < n; i++) {
        pid_t p = fork();
        if (p < 0)
            die("fork");
        if (p == 0)
            _exit(0);
        int st;
        if (waitpid(p, &st, 0) != p)
            die("wait");
    }
    return rdtsc() - t0;
}

/* n fresh pages, in mappings of at most 1024 pages (4 MiB), each page
 * written once; the mmap and munmap are counted with the faults. */
static uint64_t bench_fault(unsigned long n)
{
    uint64_t t = 0;
    for (unsigned long done = 0; done < n;) {
        unsigned long k = n - done < 1024 ? n - done : 1024;
        uint64_t t0 = rdtsc();
        volatile char *m = mmap(NULL, k * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            die("mmap");
        for (unsigned long i = 0; i < k; i++)
            m[i * 4096] = 1;
        munmap((void *)m, k * 4096);
        t += rdtsc() - t0;
        done += k;
    }
    return t;
}

int main(int argc, char **argv)
{
    unsigned long scale = argc > 1 ? strtoul(argv[1], NULL, 0) : 100;
    spin_cycles = (argc > 2 ? strtoull(argv[2], NULL, 0) : 0) * 1000000ull;
    unsigned long n_ppid = 2000 * scale, n_pipe = 20 * scale, n_fork = 2 * scale, n_fault = 80 * scale;
    printf("VIGIL-BENCH ready\n");
    fflush(stdout);
    spin();
    uint64_t t0 = rdtsc();
    report("null", 1, rdtsc() - t0);
    report("getppid", n_ppid, bench_getppid(n_ppid));
    report("pipe", n_pipe, bench_pipe(n_pipe));
    report("fork", n_fork, bench_fork(n_fork));
    report("pagefault", n_fault, bench_fault(n_fault));
    printf("VIGIL-BENCH done\n");
    fflush(stdout);
    return 0;
}
