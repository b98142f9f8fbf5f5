/* testos: processes and the scheduler.
 *
 * Two lists hold the processes, as in real kernels:
 *   proc_list  (linked by next)      every process: what `ps` and an
 *                                    introspecting IDS walk;
 *   task_list  (linked by task_next) what the scheduler runs.
 * Unlinking a process from proc_list (DKOM) hides it but does not stop it. */
#ifndef TESTOS_PROC_H
#define TESTOS_PROC_H
#include "kernel.h"
#include "trap.h"

#define NPROC 64
#define PROC_NAME_LEN 16

enum proc_state {
    PROC_FREE = 0,
    PROC_RUNNABLE = 1,
    PROC_RUNNING = 2,
    PROC_SLEEPING = 3,           /* until wake_tick */
    PROC_WAITING = 4,            /* until process wait_pid exits */
    PROC_DEAD = 5,               /* exited; kernel stack freed after the switch */
};

#define PROC_KERNEL 0x1          /* kernel thread: kernel CR3, no user half */

/* The fields up to `next` are the ones the profile names; keep them first. */
struct proc {
    i32 pid;
    i32 ppid;
    char name[PROC_NAME_LEN];
    u64 cr3;                     /* physical address of this process's PML4 */
    i32 state;                   /* enum proc_state */
    u32 flags;
    struct proc *next;           /* proc_list */
    struct proc *task_next;      /* task_list */
    u64 kstack_top;
    u64 saved_rsp;               /* switch_to */
    u64 wake_tick;
    i32 wait_pid;
    i32 exit_code;
    u64 brk;                     /* user heap: [USER_HEAP_BASE, brk) */
    u64 nswitch;                 /* times scheduled in */
    u64 nsyscall;
    struct trap_frame *uframe;   /* user frame of the current system call */
    struct catch *catcher;
    u32 slot;
    u32 quantum;
};

extern struct proc *proc_list;
extern struct proc *task_list;
extern struct proc *current;
extern u64 cur_kstack_top;

void sched_init(void);           /* the boot thread becomes pid 0, "idle" */
void schedule(void);             /* call with interrupts off */
void sched_tick(void);           /* from the timer interrupt */
int proc_spawn(const char *image, u64 arg, int ppid);
int kthread_spawn(const char *name, int (*fn)(u64), u64 arg);
void proc_exit(int code) __attribute__((noreturn));
int proc_wait(int pid);          /* blocks until pid exits; its exit code */
void proc_sleep(u64 nticks);
void proc_yield(void);
struct proc *proc_find(int pid); /* searches task_list: finds hidden ones too */
bool proc_in_list(const struct proc *p);
int proc_count(void);
void ps(const char *title);
bool user_fault(u64 addr, bool write);  /* demand paging of heap and stack */
bool copy_from_user(void *dst, u64 src, size_t n);
bool copy_str_from_user(char *dst, u64 src, size_t n);

/* images.c: programs linked into the kernel. */
struct image {
    const char *name;
    const u8 *data;
    const u8 *end;
    u8 xor_key;                  /* nonzero: the image is stored XOR-encoded */
};
const struct image *image_find(const char *name);

#endif
