/* Virtual machine introspection: guest-virtual reads through the guest's
 * page tables (with a translation cache that lives for one event), and
 * the guest's process list read through the profile, with bounded
 * traversal so that a cyclic or endless list cannot hang vigil. */
#ifndef VIGIL_IDS_VMI_H
#define VIGIL_IDS_VMI_H

#include "lib/types.h"
#include "ids/profile.h"
#include "lib/ptwalk.h"

#define VMI_MAX_PROCS 256                  /* Linux lists its kernel threads too */
#define VMI_LIST_STEPS 256

struct vmi_proc {
    s64 pid;
    char name[16];
    u64 cr3;
    u64 addr;                      /* guest-virtual address of its struct */
    u32 state;
    u64 alt_cr3;                   /* Linux: the address space it may also run on (active_mm: a kernel
                                    * thread's borrowed one, an exiting task's last), 0 if none */
    u64 kstack;                    /* the top of its kernel stack (the profile's proc.kstack_top), 0 if unknown */
};

void vmi_init(const struct profile *p);
/* How the IDS reads an address space: 4-level paging (the guests it knows
 * are 64-bit), bit 63 taken as XD. A guest without EFER.NXE that sets it
 * has made the mapping fault; the IDS sees it as no-execute. */
void vmi_paging(u64 cr3, struct pt_paging *pg);
/* pt_map_fn for the walker and the visitor: a 4 KiB page of guest RAM. */
const void *vmi_map(void *ctx, u64 gpa);
/* Forget every cached translation: at the start of each IDS event and
 * console command, since the guest changes its tables without exits. */
void vmi_flush(void);
bool vmi_translate(u64 cr3, u64 gva, struct pt_walk *w);
bool vmi_read_virt(u64 cr3, u64 gva, void *buf, u64 len);
/* Kernel objects: by arithmetic inside the kernel's image (where the
 * placed profile puts it) and, on Linux, its direct map (page_offset_base +
 * the frame's address), whatever the guest's tables say there; else through
 * the kernel's page tables (Linux, once known), else through cr3. */
bool vmi_read_kernel(u64 cr3, u64 kva, void *buf, u64 len);

/* The OS's view: the process list from its head symbol. Returns the count,
 * or -1 with *err set when the list cannot be read or is too long. */
int vmi_proc_list(u64 cr3, struct vmi_proc *out, int max, const char **err);
/* Every used slot of the process pool (free ones skipped): to name a
 * process that is missing from the list. */
int vmi_proc_pool(u64 cr3, struct vmi_proc *out, int max);
bool vmi_have_procs(void);
/* The profile says where a process keeps its kernel stack (proc.kstack_top). */
bool vmi_have_kstack(void);
/* The kernel stack top of the process structure at addr (8 bytes read). */
bool vmi_task_kstack(u64 cr3, u64 addr, u64 *kstack);
/* The task the guest kernel says runs (the profile's `current`: a pointer
 * to its process structure); false when the profile names none or it is
 * unreadable. */
bool vmi_current_task(u64 cr3, u64 *addr);
/* One process structure, read as the list entries are. */
bool vmi_read_task(u64 cr3, u64 addr, struct vmi_proc *p);
/* Linux: a task on its way out without an mm (do_exit has begun, PF_EXITING,
 * and a user task has dropped its mm; a kernel thread never had one): it
 * never runs user code again, and may unlink itself first.
 * *thread: it is not its thread group's leader (task->pid != tgid). */
bool vmi_linux_task_exiting(u64 task, bool *thread);
/* Linux: the name of the file the task's mm was exec'd from, the last
 * component of its path (mm->exe_file->f_path.dentry->d_name), which
 * prctl and /proc/PID/comm do not rewrite as they do comm. False without
 * the profile's fields (vmi_linux_have_exe), for a task without mm, an
 * unreadable chain, or a name of 16 characters or more; out is then left
 * as it was. */
bool vmi_linux_have_exe(void);
bool vmi_linux_exe_name(u64 task, char out[16]);

/* Linux (a placed `linux` profile): the task list from init_task, walked
 * through the kernel's own page tables (init_top_pgt), bounded. */
#define VMI_LINUX_STEPS 2048
struct vmi_task {
    s32 pid, tgid;
    u32 flags;
    char comm[16];
    u64 addr;                      /* its task_struct (kernel virtual) */
    u64 mm;                        /* 0: a kernel thread */
    u64 pgd;                       /* guest-physical PGD (mm->pgd), 0 without mm: the kernel CR3 */
    u64 active_pgd;                /* active_mm->pgd: what it runs on (lazy TLB for a kernel thread) */
};
/* Set up from the placed profile: false (with *err) when it lacks what the
 * walk needs. Called by the engine once the profile is placed. */
bool vmi_linux_init(const struct profile *p, const char **err);
bool vmi_have_linux(void);
/* The kernel's page-table root (init_top_pgt's guest-physical address), 0 if unknown. */
u64 vmi_linux_kernel_pgd(void);
/* The tasks from init_task; the count (at most max are stored), or -1 with
 * *err when the list cannot be read or is longer than VMI_LINUX_STEPS. */
int vmi_linux_tasks(struct vmi_task *out, int max, const char **err);
/* The tasks as the process list the policies share (pid = tgid, the
 * process's id; name = comm; cr3 = its mm's PGD, alt_cr3 = active_mm's);
 * -1 with *err when the list cannot be read or holds more than max. */
int vmi_linux_procs(struct vmi_proc *out, int max, const char **err);
/* The task the kernel runs on this vCPU: the per-CPU current_task, at the
 * kernel's per-CPU base (GS base in kernel mode, IA32_KERNEL_GS_BASE in
 * user mode; either is tried, and must be one of __per_cpu_offset[]). */
bool vmi_linux_current(u8 cpl, u64 *task);
/* Is it among the n tasks added last (fork links a new process at the
 * list's tail): a task by its address, or an address space by its key?
 * A few reads, where a snapshot of the whole list would be a walk. */
bool vmi_linux_recent(bool by_space, u64 key, int n);
/* Is a process (a thread-group leader, pid != 0) no longer linked into a
 * list at its task_struct.tasks: its next's prev or its prev's next is not
 * itself (list_del, list_del_init)? Six reads. False for threads and idle
 * tasks, which are on no list of their own. Linked is not listed: a task
 * moved into a ring of its own is found by the walk. */
bool vmi_linux_task_unlinked(u64 task);
/* The address-space key of a CR3 value: its page-table root without the
 * PCID bits (11:0) and bit 63, and on Linux with KPTI without bit 12 (the
 * user PGD is the kernel PGD + 4 KiB): one key per process. */
u64 vmi_space_key(u64 cr3);
/* Linux: an address space of the kernel's own (init_mm's PGD, text_poke's
 * poking_mm), by key. */
bool vmi_linux_kernel_space(u64 key);
u64 vmi_stats_walks(void);
/* Kernel reads (vmi_read_kernel, the Linux task list's), and those of them
 * translated by arithmetic (the image, the direct map), with no walk. */
void vmi_stats_reads(u64 *all, u64 *fixed);

#endif
