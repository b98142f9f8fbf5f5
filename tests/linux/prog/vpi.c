/* vpi MODE: code injected into a running program's text, for the IDS's
 * program-integrity policy (docs/ids.md). vpi is itself a named program:
 * its code pages' known-good hashes are in the profile (scripts/progpages.py).
 *   self    writes its own code through /proc/self/mem (the kernel's
 *           FOLL_FORCE write: it works on read-only text, breaking
 *           copy-on-write into a private copy of the page);
 *   ptrace  forks a child that stops itself, writes the child's code with
 *           ptrace(PTRACE_POKETEXT) and lets it go on;
 *   none    runs the same code unpatched (the benign case).
 * The patched function returns 42 instead of 1; each mode prints what the
 * code returned after the write (the proof that the patched code runs), and
 * the patched process stays alive 600 ms so that the periodic check sees it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) int vpi_value(void)
{
    __asm__ volatile("");
    return 1;
}
static int (*volatile fn)(void) = vpi_value;

/* The address of the immediate of vpi_value's `mov eax, 1` (b8 01 00 00 00). */
static uintptr_t imm_addr(void)
{
    const unsigned char *p = (const unsigned char *)(uintptr_t)vpi_value;
    for (int i = 0; i < 32; i++)
        if (p[i] == 0xb8 && p[i + 1] == 1 && !p[i + 2] && !p[i + 3] && !p[i + 4])
            return (uintptr_t)(p + i + 1);
    return 0;
}

static void stay(void)
{
    struct timespec t = { 0, 600 * 1000000l };
    nanosleep(&t, 0);
}

static int mode_self(uintptr_t at)
{
    int fd = open("/proc/self/mem", O_RDWR);
    unsigned char v = 42;
    if (fd < 0 || pwrite(fd, &v, 1, (off_t)at) != 1) {
        printf("VIGIL-PROG vpi self failed: /proc/self/mem: %s\n", strerror(errno));
        return 1;
    }
    close(fd);
    printf("VIGIL-PROG vpi self: pid %d wrote its code at 0x%lx through /proc/self/mem: vpi_value returns %d "
           "(was 1)\n", getpid(), (unsigned long)(at & ~0xffful), fn());
    fflush(stdout);
    stay();
    printf("VIGIL-PROG vpi self done\n");
    return 0;
}

static int mode_ptrace(uintptr_t at)
{
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) {
        printf("VIGIL-PROG vpi ptrace failed: fork: %s\n", strerror(errno));
        return 1;
    }
    if (c == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        printf("VIGIL-PROG vpi ptrace: child pid %d, its code at 0x%lx written by its parent: vpi_value returns "
               "%d (was 1)\n", getpid(), (unsigned long)(at & ~0xffful), fn());
        fflush(stdout);
        stay();
        _exit(0);
    }
    int st;
    if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st)) {
        printf("VIGIL-PROG vpi ptrace failed: the child did not stop\n");
        return 1;
    }
    uintptr_t word = at & ~(uintptr_t)7;
    errno = 0;
    long w = ptrace(PTRACE_PEEKTEXT, c, (void *)word, 0);
    if (errno) {
        printf("VIGIL-PROG vpi ptrace failed: PEEKTEXT: %s\n", strerror(errno));
        return 1;
    }
    unsigned char *b = (unsigned char *)&w;
    b[at - word] = 42;
    if (ptrace(PTRACE_POKETEXT, c, (void *)word, (void *)w) != 0) {
        printf("VIGIL-PROG vpi ptrace failed: POKETEXT: %s\n", strerror(errno));
        return 1;
    }
    ptrace(PTRACE_DETACH, c, 0, 0);
    waitpid(c, &st, 0);
    printf("VIGIL-PROG vpi ptrace done\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "none";
    uintptr_t at = imm_addr();
    if (!at) {
        printf("VIGIL-PROG vpi failed: no 'mov eax, 1' in vpi_value\n");
        return 1;
    }
    if (!strcmp(mode, "self"))
        return mode_self(at);
    if (!strcmp(mode, "ptrace"))
        return mode_ptrace(at);
    printf("VIGIL-PROG vpi none: vpi_value returns %d\n", fn());
    fflush(stdout);
    stay();
    return 0;
}
