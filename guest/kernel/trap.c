/* testos: the C side of every interrupt and exception.
 *
 * IRQs: EOI, then the timer drives the scheduler. Exceptions:
 *   - a page fault on the current process's heap maps a zeroed page;
 *   - a fault in ring 3 kills the process, with a report;
 *   - a fault in ring 0 inside CATCH() resumes at the recovery point;
 *   - anything else in ring 0 is reported in full and the machine powers off.
 * Nothing is ever left to hang silently. */
#include "trap.h"
#include "proc.h"
#include "desc.h"

volatile u64 ticks;
u64 ud_skip_lo, ud_skip_hi;
volatile u64 ud_skipped;
void syscall_dispatch(struct trap_frame *f);
extern void catch_resume(void);

static const char *const names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "(15)", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

const char *vector_name(u64 v)
{
    if (v < 32 && names[v])
        return names[v];
    return v == VEC_SYSCALL_FRAME ? "syscall" : "(vector)";
}

void catch_push(struct catch *c)
{
    c->prev = current->catcher;
    c->vector = c->error = c->rip = c->cr2 = 0;
    current->catcher = c;
}

void catch_end(struct catch *c)
{
    current->catcher = c->prev;
}

static void report(const struct trap_frame *f, const char *what)
{
    kprintf("testos: %s: %s (vector %lu) error 0x%lx in %s mode, pid %d (%s)\n",
            what, vector_name(f->vector), f->vector, f->error, (f->cs & 3) ? "user" : "kernel",
            current ? current->pid : -1, current ? current->name : "?");
    kprintf("testos:   RIP 0x%016lx CS 0x%lx RFLAGS 0x%lx RSP 0x%016lx SS 0x%lx\n",
            f->rip, f->cs, f->rflags, f->rsp, f->ss);
    kprintf("testos:   CR0 0x%lx CR2 0x%016lx CR3 0x%lx CR4 0x%lx\n",
            read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

static void dump_regs(const struct trap_frame *f)
{
    kprintf("testos:   RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("testos:   RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    kprintf("testos:   R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
    kprintf("testos:   R13 %016lx R14 %016lx R15 %016lx\n", f->r13, f->r14, f->r15);
}

void (*trap_hook)(struct trap_frame *f);
void (*trap_edge_hook)(struct trap_frame *f, bool entry);

static void trap_body(struct trap_frame *f);

/* Every interrupt, exception and int 0x80 enters the kernel here. */
void trap(struct trap_frame *f)
{
    void (*h)(struct trap_frame *, bool) = trap_edge_hook;
    if (h)
        h(f, true);
    trap_body(f);
    if (h)
        h(f, false);
}

static void trap_body(struct trap_frame *f)
{
    u64 v = f->vector;
    if (v < 32 && trap_hook)
        trap_hook(f);
    if (v >= IRQ_BASE && v < IRQ_BASE + 16) {
        unsigned irq = v - IRQ_BASE;
        if (irq == 7 || irq == 15) {           /* spurious unless in service */
            outb(irq == 7 ? 0x20 : 0xa0, 0x0b);
            if (!(inb(irq == 7 ? 0x20 : 0xa0) & 0x80)) {
                if (irq == 15)
                    pic_eoi(0);
                return;
            }
        }
        pic_eoi(irq);
        if (irq == 0) {
            ticks++;
            sched_tick();
        }
        return;
    }
    if (v == VEC_INT80) {
        syscall_dispatch(f);
        return;
    }
    if (v == 2) {
        kprintf("testos: NMI at RIP 0x%lx, ignored\n", f->rip);
        return;
    }
    bool user = (f->cs & 3) == 3;
    if (v == 6 && !user && f->rip >= ud_skip_lo && f->rip < ud_skip_hi) {
        f->rip += 3;                           /* past the VMCALL (0f 01 c1) */
        ud_skipped++;
        return;
    }
    if (v == 14) {
        u64 cr2 = read_cr2();
        if (cr2 < USER_TOP && !(f->error & 1) && current && user_fault(cr2, f->error & 2))
            return;
    }
    if (user && v < 32) {
        report(f, "process killed by exception");
        proc_exit(128 + (int)v);
    }
    struct catch *c = current ? current->catcher : NULL;
    if (c && v < 32 && v != 8 && v != 18) {
        current->catcher = c->prev;
        c->vector = v;
        c->error = f->error;
        c->rip = f->rip;
        c->cr2 = v == 14 ? read_cr2() : 0;
        f->rip = (u64)catch_resume;
        f->rdi = (u64)c->jb;
        return;
    }
    report(f, "PANIC: unexpected exception");
    dump_regs(f);
    power_off();
}

void panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    cli();
    va_start(ap, fmt);
    kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kprintf("testos: PANIC: %s\n", buf);
    power_off();
}
