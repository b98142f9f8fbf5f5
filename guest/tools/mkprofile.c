/* mkprofile NM_OUTPUT PROFILE: writes build/testos.profile.
 * Layouts come from the kernel's own headers (same compiler, same ABI). */
#include "profile.h"
#include "proc.h"
#include "syscall.h"
#include <stdlib.h>
#include <string.h>

#define FIELD(s, f) { #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f) }

static const struct prof_value values[] = {
    { "kernel_virt_base", "KERNEL_VMA_OFFSET", 0 },
    { "kernel_phys_start", "__kernel_phys_start", 0 },
    { "kernel_phys_end", "__kernel_phys_end", 0 },
    { "direct_map_base", NULL, DIRECT_MAP_BASE },
    { "direct_map_limit", NULL, PHYS_LIMIT },
    { "user_top", NULL, USER_TOP },
};

static const struct prof_symbol symbols[] = {
    { "kernel_text", "__text_start", "__text_end" },
    { "kernel_rodata", "__rodata_start", "__rodata_end" },
    { "kernel_data", "__data_start", "__kernel_end" },
    { "proc_list", "proc_list", NULL },
    { "task_list", "task_list", NULL },
    { "current", "current", NULL },
    { "proc_pool", "proc_pool", NULL },
    { "syscall_table", "syscall_table", NULL },
    { "syscall_entry", "syscall_entry", NULL },
    { "idt", "idt", NULL },
    { "gdt", "gdt", NULL },
    { "tss", "tss", NULL },
    { "kernel_pml4", "kernel_pml4", NULL },
};

static const struct prof_syscall syscalls[] = {
    { SYS_write, "write", "sys_write" },
    { SYS_yield, "yield", "sys_yield" },
    { SYS_getpid, "getpid", "sys_getpid" },
    { SYS_sleep, "sleep", "sys_sleep" },
    { SYS_exit, "exit", "sys_exit" },
    { SYS_spawn, "spawn", "sys_spawn" },
    { SYS_wait, "wait", "sys_wait" },
    { SYS_sbrk, "sbrk", "sys_sbrk" },
    { SYS_iopl, "iopl", "sys_iopl" },
    { SYS_uptime, "uptime", "sys_uptime" },
};
_Static_assert(sizeof syscalls / sizeof syscalls[0] == NR_SYSCALLS, "one line per system call");

static const struct prof_field fields[] = {
    { "proc", NULL, 0, sizeof(struct proc) },
    FIELD(proc, pid),
    FIELD(proc, ppid),
    FIELD(proc, name),
    FIELD(proc, cr3),
    FIELD(proc, state),
    FIELD(proc, flags),
    FIELD(proc, next),
    FIELD(proc, task_next),
    FIELD(proc, kstack_top),
    FIELD(proc, nswitch),
    FIELD(proc, nsyscall),
};

static const struct prof_const consts[] = {
    { "syscall_count", NR_SYSCALLS },
    { "exec_watch", 1 },             /* all supervisor code is in kernel_text: vigil may watch the rest */
    { "nproc", NPROC },
    { "proc.state.free", PROC_FREE },
    { "proc.state.runnable", PROC_RUNNABLE },
    { "proc.state.running", PROC_RUNNING },
    { "proc.state.sleeping", PROC_SLEEPING },
    { "proc.state.waiting", PROC_WAITING },
    { "proc.state.dead", PROC_DEAD },
    { "proc.flags.kernel", PROC_KERNEL },
};

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkprofile NM_OUTPUT PROFILE\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    static char text[4 << 20];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = 0;
    static struct nm_sym syms[16384];
    char err[256];
    int n = nm_parse(text, syms, N(syms), err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "mkprofile: %s: %s\n", argv[1], err);
        return 1;
    }
    struct prof_spec spec = { "testos", 1, values, N(values), symbols, N(symbols), syscalls, N(syscalls),
                              fields, N(fields), consts, N(consts) };
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        perror(tmp);
        return 1;
    }
    int r = profile_write(out, &spec, syms, n, err, sizeof err);
    if (fclose(out) || r) {
        fprintf(stderr, "mkprofile: %s\n", r ? err : "write failed");
        remove(tmp);
        return 1;
    }
    if (rename(tmp, argv[2])) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
