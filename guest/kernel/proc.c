/* testos: processes, the ELF loader for built-in images, and a preemptive
 * round-robin scheduler driven by the PIT. One CPU; every list change happens
 * with interrupts off. */
#include "proc.h"
#include "mm.h"
#include "desc.h"
#include "elf.h"

#define QUANTUM 5                /* timer ticks */
#define NEXITS 64

struct proc proc_pool[NPROC];
struct proc *proc_list;          /* every process (see proc.h) */
struct proc *task_list;          /* what the scheduler runs */
struct proc *current;
u64 cur_kstack_top;              /* SYSCALL's stack: current->kstack_top */

static struct proc *idle;
static struct proc *dead_pending;
static int next_pid = 1;
static struct { i32 pid, code; } exits[NEXITS];
static unsigned nexits;

extern u8 boot_stack_top[];
extern void switch_to(u64 *save, u64 rsp);
extern void task_start_user(void);
extern void task_start_kernel(void);

void sched_init(void)
{
    idle = &proc_pool[0];
    idle->pid = 0;
    strlcpy(idle->name, "idle", PROC_NAME_LEN);
    idle->cr3 = kernel_pml4;
    idle->state = PROC_RUNNING;
    idle->flags = PROC_KERNEL;
    idle->kstack_top = (u64)boot_stack_top;
    idle->quantum = QUANTUM;
    proc_list = task_list = current = idle;
    tss.rsp0 = cur_kstack_top = idle->kstack_top;
}

static void list_append(struct proc **head, struct proc *p, size_t link_off)
{
    struct proc **pp = head;
    while (*pp)
        pp = (struct proc **)((u8 *)*pp + link_off);
    *(struct proc **)((u8 *)p + link_off) = NULL;
    *pp = p;
}

static void list_remove(struct proc **head, struct proc *p, size_t link_off)
{
    for (struct proc **pp = head; *pp; pp = (struct proc **)((u8 *)*pp + link_off)) {
        if (*pp == p) {
            *pp = *(struct proc **)((u8 *)p + link_off);
            return;
        }
    }
}

bool proc_in_list(const struct proc *p)
{
    for (struct proc *q = proc_list; q; q = q->next)
        if (q == p)
            return true;
    return false;
}

struct proc *proc_find(int pid)
{
    for (struct proc *p = task_list; p; p = p->task_next)
        if (p->pid == pid && p->state != PROC_DEAD)
            return p;
    return NULL;
}

int proc_count(void)
{
    int n = 0;
    for (struct proc *p = proc_list; p; p = p->next)
        n++;
    return n;
}

static const char *state_name(int s)
{
    static const char *const n[] = { "free", "runnable", "running", "sleeping", "waiting", "dead" };
    return s >= 0 && s < (int)ARRAY_SIZE(n) ? n[s] : "?";
}

void ps(const char *title)
{
    u64 f = irq_save();
    kprintf("ps (%s):\n    PID  PPID  STATE     CR3         NAME\n", title);
    for (struct proc *p = proc_list; p; p = p->next)
        kprintf("  %5d %5d  %-8s  0x%08lx  %s\n", p->pid, p->ppid, state_name(p->state), p->cr3, p->name);
    irq_restore(f);
}

/* Runs on the new task's stack right after every switch: the task that
 * exited can give back its kernel stack now that nobody runs on it. */
void sched_tail(void)
{
    struct proc *d = dead_pending;
    if (!d)
        return;
    dead_pending = NULL;
    list_remove(&task_list, d, offsetof(struct proc, task_next));
    kstack_unmap(d->slot);
    memset(d, 0, sizeof *d);
}

void schedule(void)
{
    struct proc *prev = current, *next = NULL;
    if (prev->state == PROC_RUNNING)
        prev->state = PROC_RUNNABLE;
    struct proc *p = prev;
    do {
        p = p->task_next ? p->task_next : task_list;
        if (p != idle && p->state == PROC_RUNNABLE) {
            next = p;
            break;
        }
    } while (p != prev);
    if (!next)
        next = idle;
    next->state = PROC_RUNNING;
    next->quantum = QUANTUM;
    if (next == prev)
        return;
    next->nswitch++;
    tss.rsp0 = cur_kstack_top = next->kstack_top;
    if (read_cr3() != next->cr3)
        write_cr3(next->cr3);
    current = next;
    switch_to(&prev->saved_rsp, next->saved_rsp);
    sched_tail();
}

void sched_tick(void)
{
    bool woke = false;
    for (struct proc *p = task_list; p; p = p->task_next) {
        if (p->state == PROC_SLEEPING && p->wake_tick <= ticks) {
            p->state = PROC_RUNNABLE;
            woke = true;
        }
    }
    if ((current == idle && woke) || --current->quantum == 0 || current->quantum > QUANTUM)
        schedule();
}

static struct proc *proc_alloc(const char *name, int ppid)
{
    for (unsigned i = 1; i < NPROC; i++) {
        struct proc *p = &proc_pool[i];
        if (p->state == PROC_FREE && !p->kstack_top) {
            memset(p, 0, sizeof *p);
            p->slot = i;
            p->pid = next_pid++;
            p->ppid = ppid;
            strlcpy(p->name, name, PROC_NAME_LEN);
            p->state = PROC_SLEEPING;         /* reserved, not yet runnable */
            p->wake_tick = ~0ull;
            p->kstack_top = kstack_map(i);
            if (!p->kstack_top) {
                memset(p, 0, sizeof *p);
                return NULL;
            }
            return p;
        }
    }
    return NULL;
}

static void proc_release(struct proc *p)
{
    kstack_unmap(p->slot);
    memset(p, 0, sizeof *p);
}

static void make_runnable(struct proc *p)
{
    list_append(&proc_list, p, offsetof(struct proc, next));
    list_append(&task_list, p, offsetof(struct proc, task_next));
    p->state = PROC_RUNNABLE;
}

/* Bytes [off, off+n) of an image, decoded if it is stored XOR-encoded. */
static void img_read(const struct image *img, u64 off, void *dst, size_t n)
{
    u8 *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = img->data[off + i] ^ img->xor_key;
}

static bool load_elf(struct proc *p, const struct image *img, u64 *entry)
{
    u64 size = img->end - img->data;
    struct elf64_ehdr eh;
    if (size < sizeof eh)
        return false;
    img_read(img, 0, &eh, sizeof eh);
    if (memcmp(eh.ident, "\x7f" "ELF", 4) || eh.ident[4] != 2 || eh.ident[5] != 1 ||
        eh.type != ET_EXEC || eh.machine != EM_X86_64 || eh.phentsize != sizeof(struct elf64_phdr) ||
        eh.phoff > size || (u64)eh.phnum * sizeof(struct elf64_phdr) > size - eh.phoff) {
        kprintf("testos: image %s: not a valid x86-64 executable\n", img->name);
        return false;
    }
    bool entry_ok = false;
    for (unsigned i = 0; i < eh.phnum; i++) {
        struct elf64_phdr ph;
        img_read(img, eh.phoff + i * sizeof ph, &ph, sizeof ph);
        if (ph.type != PT_LOAD || !ph.memsz)
            continue;
        if (ph.vaddr < USER_IMAGE_BASE || ph.memsz > USER_HEAP_BASE - ph.vaddr ||
            ph.vaddr + ph.memsz > USER_HEAP_BASE || ph.filesz > ph.memsz ||
            ph.offset > size || ph.filesz > size - ph.offset) {
            kprintf("testos: image %s: segment %u out of bounds\n", img->name, i);
            return false;
        }
        u64 flags = PTE_U | PTE_OWNED | ((ph.flags & PF_W) ? PTE_W : 0) | ((ph.flags & PF_X) ? 0 : PTE_NX);
        for (u64 va = ph.vaddr & PAGE_MASK; va < ph.vaddr + ph.memsz; va += PAGE_SIZE) {
            if (vm_translate(p->cr3, va, NULL, NULL)) {
                kprintf("testos: image %s: segments share page 0x%lx\n", img->name, va);
                return false;
            }
            u64 pa = palloc();
            if (!pa || !vm_map(p->cr3, va, pa, flags)) {
                if (pa)
                    pfree(pa);
                return false;
            }
            u64 lo = va > ph.vaddr ? va : ph.vaddr;
            u64 hi = va + PAGE_SIZE < ph.vaddr + ph.filesz ? va + PAGE_SIZE : ph.vaddr + ph.filesz;
            if (lo < hi)
                img_read(img, ph.offset + (lo - ph.vaddr), (u8 *)phys_to_virt(pa) + (lo - va), hi - lo);
        }
        if ((ph.flags & PF_X) && eh.entry >= ph.vaddr && eh.entry < ph.vaddr + ph.memsz)
            entry_ok = true;
    }
    if (!entry_ok) {
        kprintf("testos: image %s: entry point 0x%lx not in executable code\n", img->name, eh.entry);
        return false;
    }
    *entry = eh.entry;
    return true;
}

int proc_spawn(const char *name, u64 arg, int ppid)
{
    const struct image *img = image_find(name);
    if (!img)
        return -1;
    u64 f = irq_save();
    struct proc *p = proc_alloc(name, ppid);
    irq_restore(f);
    if (!p)
        return -1;
    u64 entry;
    p->cr3 = vm_new_pml4();
    bool ok = p->cr3 && load_elf(p, img, &entry);
    for (unsigned i = 1; ok && i <= USER_STACK_PAGES; i++) {
        u64 pa = palloc();
        ok = pa && vm_map(p->cr3, USER_STACK_TOP - i * PAGE_SIZE, pa, PTE_U | PTE_W | PTE_NX | PTE_OWNED);
        if (!ok && pa)
            pfree(pa);
    }
    if (!ok) {
        kprintf("testos: spawn %s failed (out of memory or bad image)\n", name);
        if (p->cr3) {
            vm_free_user(p->cr3);
            pfree(p->cr3);
        }
        f = irq_save();
        proc_release(p);
        irq_restore(f);
        return -1;
    }
    p->brk = USER_HEAP_BASE;

    struct trap_frame *tf = (struct trap_frame *)(p->kstack_top - sizeof *tf);
    memset(tf, 0, sizeof *tf);
    tf->rip = entry;
    tf->cs = SEL_UCODE;
    tf->rflags = RFLAGS_IF | 2;
    tf->rsp = USER_STACK_TOP;
    tf->ss = SEL_UDATA;
    tf->rdi = arg;
    u64 *sw = (u64 *)tf - 7;
    memset(sw, 0, 6 * 8);
    sw[6] = (u64)task_start_user;
    p->saved_rsp = (u64)sw;

    f = irq_save();
    make_runnable(p);
    irq_restore(f);
    return p->pid;
}

int kthread_spawn(const char *name, int (*fn)(u64), u64 arg)
{
    u64 f = irq_save();
    struct proc *p = proc_alloc(name, 0);
    if (!p) {
        irq_restore(f);
        return -1;
    }
    p->flags = PROC_KERNEL;
    p->cr3 = kernel_pml4;
    u64 *sw = (u64 *)p->kstack_top - 7;
    memset(sw, 0, 7 * 8);
    sw[3] = (u64)fn;                 /* r12 */
    sw[2] = arg;                     /* r13 */
    sw[6] = (u64)task_start_kernel;
    p->saved_rsp = (u64)sw;
    make_runnable(p);
    irq_restore(f);
    return p->pid;
}

void proc_exit(int code)
{
    cli();
    struct proc *p = current;
    if (p == idle)
        panic("the idle thread tried to exit");
    /* Leave the address space before it goes: its CR3 is never loaded again
     * after the process leaves proc_list. */
    if (read_cr3() != kernel_pml4)
        write_cr3(kernel_pml4);
    if (!(p->flags & PROC_KERNEL)) {
        vm_free_user(p->cr3);
        pfree(p->cr3);
    }
    p->cr3 = kernel_pml4;
    exits[nexits++ % NEXITS].pid = p->pid;
    exits[(nexits - 1) % NEXITS].code = code;
    p->exit_code = code;
    list_remove(&proc_list, p, offsetof(struct proc, next));
    for (struct proc *q = task_list; q; q = q->task_next)
        if (q->state == PROC_WAITING && q->wait_pid == p->pid)
            q->state = PROC_RUNNABLE;
    p->state = PROC_DEAD;
    dead_pending = p;
    schedule();
    panic("a dead process was scheduled");
}

void kthread_exit(int code) { proc_exit(code); }

int proc_wait(int pid)
{
    u64 f = irq_save();
    while (proc_find(pid)) {
        current->wait_pid = pid;
        current->state = PROC_WAITING;
        schedule();
    }
    int code = -1;
    for (unsigned i = 0; i < NEXITS && i < nexits; i++) {
        unsigned k = (nexits - 1 - i) % NEXITS;
        if (exits[k].pid == pid) {
            code = exits[k].code;
            break;
        }
    }
    irq_restore(f);
    return code;
}

void proc_sleep(u64 n)
{
    u64 f = irq_save();
    current->wake_tick = ticks + n;
    current->state = PROC_SLEEPING;
    schedule();
    irq_restore(f);
}

void proc_yield(void)
{
    u64 f = irq_save();
    schedule();
    irq_restore(f);
}

bool user_fault(u64 addr, bool write)
{
    (void)write;
    struct proc *p = current;
    if (p->flags & PROC_KERNEL)
        return false;
    if (addr >= USER_HEAP_BASE && addr < p->brk) {
        u64 pa = palloc();
        if (!pa)
            return false;
        if (!vm_map(p->cr3, addr & PAGE_MASK, pa, PTE_U | PTE_W | PTE_NX | PTE_OWNED)) {
            pfree(pa);
            return false;
        }
        return true;
    }
    return false;
}

bool copy_from_user(void *dst, u64 src, size_t n)
{
    if (src >= USER_TOP || n > USER_TOP - src)
        return false;
    struct catch c;
    if (CATCH(&c)) {
        memcpy(dst, (const void *)src, n);
        catch_end(&c);
        return true;
    }
    return false;
}

bool copy_str_from_user(char *dst, u64 src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!copy_from_user(&dst[i], src + i, 1))
            return false;
        if (!dst[i])
            return true;
    }
    dst[n - 1] = 0;
    return true;
}
