/* testos: system calls. Numbers are the user ABI (guest/user/ulib.h). */
#ifndef TESTOS_SYSCALL_H
#define TESTOS_SYSCALL_H
#include "kernel.h"

#define SYS_write  0
#define SYS_yield  1
#define SYS_getpid 2
#define SYS_sleep  3
#define SYS_exit   4
#define SYS_spawn  5
#define SYS_wait   6
#define SYS_sbrk   7
#define SYS_iopl   8
#define SYS_uptime 9
#define NR_SYSCALLS 10

typedef i64 (*syscall_fn)(u64, u64, u64, u64, u64);
extern syscall_fn const syscall_table[NR_SYSCALLS];
extern const char *const syscall_names[NR_SYSCALLS];
i64 sys_getpid(u64, u64, u64, u64, u64);

#endif
