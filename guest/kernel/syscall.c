/* testos: system-call dispatch through syscall_table.
 * Entry: SYSCALL (LSTAR = syscall_entry) or int 0x80; both build a trap
 * frame. RAX = number, arguments in RDI, RSI, RDX, R10, R8; result in RAX.
 * System calls run with interrupts off (FMASK) except while they block. */
#include "syscall.h"
#include "proc.h"
#include "trap.h"

#define ENOSYS 38
#define EFAULT 14
#define EINVAL 22

static i64 sys_write(u64 buf, u64 len, u64 a2, u64 a3, u64 a4)
{
    (void)a2, (void)a3, (void)a4;
    char k[256];
    if (len > 4096)
        return -EINVAL;
    for (u64 done = 0; done < len;) {
        size_t n = len - done < sizeof k ? len - done : sizeof k;
        if (!copy_from_user(k, buf + done, n))
            return -EFAULT;
        kwrite(k, n);
        done += n;
    }
    return (i64)len;
}

static i64 sys_yield(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a0, (void)a1, (void)a2, (void)a3, (void)a4;
    proc_yield();
    return 0;
}

/* Not inlined and not static: patch-kernel-text overwrites its first bytes. */
__attribute__((noinline, aligned(16))) i64 sys_getpid(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a0, (void)a1, (void)a2, (void)a3, (void)a4;
    return current->pid;
}

static i64 sys_sleep(u64 ms, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a1, (void)a2, (void)a3, (void)a4;
    proc_sleep(ms ? ms : 1);          /* TIMER_HZ = 1000: one tick per ms */
    return 0;
}

static i64 sys_exit(u64 code, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a1, (void)a2, (void)a3, (void)a4;
    proc_exit((int)code);
}

static i64 sys_spawn(u64 uname, u64 arg, u64 a2, u64 a3, u64 a4)
{
    (void)a2, (void)a3, (void)a4;
    char name[PROC_NAME_LEN];
    if (!copy_str_from_user(name, uname, sizeof name))
        return -EFAULT;
    return proc_spawn(name, arg, current->pid);
}

static i64 sys_wait(u64 pid, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a1, (void)a2, (void)a3, (void)a4;
    return proc_wait((int)pid);
}

static i64 sys_sbrk(u64 incr, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a1, (void)a2, (void)a3, (void)a4;
    u64 old = current->brk;
    if ((i64)incr < 0 || incr > USER_HEAP_MAX || old + incr > USER_HEAP_BASE + USER_HEAP_MAX)
        return -EINVAL;
    current->brk = old + incr;
    return (i64)old;
}

/* iopl(level): like Linux's iopl(2), sets RFLAGS.IOPL of the caller, which
 * SYSRET restores from R11; IOPL 3 lets ring 3 use IN/OUT on every port. */
static i64 sys_iopl(u64 level, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a1, (void)a2, (void)a3, (void)a4;
    struct trap_frame *f = current->uframe;
    if (level > 3 || !f || (f->cs & 3) != 3)
        return -EINVAL;
    f->rflags = (f->rflags & ~0x3000ull) | (level << 12);
    return 0;
}

static i64 sys_uptime(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a0, (void)a1, (void)a2, (void)a3, (void)a4;
    return (i64)ticks;
}

syscall_fn const syscall_table[NR_SYSCALLS] = {
    [SYS_write] = sys_write,
    [SYS_yield] = sys_yield,
    [SYS_getpid] = sys_getpid,
    [SYS_sleep] = sys_sleep,
    [SYS_exit] = sys_exit,
    [SYS_spawn] = sys_spawn,
    [SYS_wait] = sys_wait,
    [SYS_sbrk] = sys_sbrk,
    [SYS_iopl] = sys_iopl,
    [SYS_uptime] = sys_uptime,
};

const char *const syscall_names[NR_SYSCALLS] = {
    "write", "yield", "getpid", "sleep", "exit", "spawn", "wait", "sbrk", "iopl", "uptime",
};

void syscall_dispatch(struct trap_frame *f)
{
    struct proc *p = current;
    u64 nr = f->rax;
    struct trap_frame *saved = p->uframe;
    p->uframe = f;
    p->nsyscall++;
    f->rax = nr < NR_SYSCALLS ? (u64)syscall_table[nr](f->rdi, f->rsi, f->rdx, f->r10, f->r8) : (u64)-ENOSYS;
    p->uframe = saved;
    /* SYSRET to a non-canonical RIP would fault in ring 0 (SDM: SYSRET). */
    if (f->vector == VEC_SYSCALL_FRAME && f->rip >= USER_TOP)
        proc_exit(128 + 13);
}
