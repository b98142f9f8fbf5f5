/* vigil's own exceptions: print everything a developer needs, then halt. */
#include "arch/x86_64/trap.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"

_Static_assert(sizeof(struct trap_frame) == 22 * 8, "isr.asm pushes 22 quadwords");
_Static_assert(__builtin_offsetof(struct trap_frame, vector) == 15 * 8, "isr.asm: vector after 15 GPRs");
_Static_assert(__builtin_offsetof(struct trap_frame, rip) == 17 * 8, "isr.asm: CPU frame after error code");

extern char __vigil_start[], __vigil_end[];

static const char *const names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualization exception",
    "#CP control protection", "reserved 22", "reserved 23", "reserved 24",
    "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security exception", "reserved 31",
};

static volatile int crashing;
static void (*nmi_hook)(void);

void trap_set_nmi_hook(void (*hook)(void)) { nmi_hook = hook; }

void trap_handler(struct trap_frame *f)
{
    if (f->vector == 2) {
        /* An NMI while vigil runs: the guest's, or one vigil's CPUs sent
         * each other (vmm/smp.c tells which). */
        if (nmi_hook)
            nmi_hook();
        return;
    }
    log_set_async(false);           /* what is queued, then the report, straight out */
    if (crashing++) {
        kprintf("\nvigil: exception %llu while reporting a crash\n", (unsigned long long)f->vector);
        vigil_halt();
    }
    kprintf("\nvigil: CRASH: %s (vector %llu) in the hypervisor\n",
            f->vector < 32 ? names[f->vector] : "unknown", (unsigned long long)f->vector);
    kprintf("  error 0x%llx  rip 0x%016llx  cs 0x%llx  rflags 0x%llx\n",
            (unsigned long long)f->error, (unsigned long long)f->rip,
            (unsigned long long)f->cs, (unsigned long long)f->rflags);
    kprintf("  rsp 0x%016llx  ss 0x%llx  cr2 0x%016llx\n", (unsigned long long)f->rsp,
            (unsigned long long)f->ss, (unsigned long long)read_cr2());
    kprintf("  cr0 0x%llx  cr3 0x%llx  cr4 0x%llx\n", (unsigned long long)read_cr0(),
            (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
#define R(a, b, c, d) \
    kprintf("  %-3s 0x%016llx  %-3s 0x%016llx  %-3s 0x%016llx  %-3s 0x%016llx\n", \
            #a, (unsigned long long)f->a, #b, (unsigned long long)f->b, \
            #c, (unsigned long long)f->c, #d, (unsigned long long)f->d)
    R(rax, rbx, rcx, rdx);
    R(rsi, rdi, rbp, r8);
    R(r9, r10, r11, r12);
#undef R
    kprintf("  r13 0x%016llx  r14 0x%016llx  r15 0x%016llx\n", (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);

    /* Frame-pointer backtrace, trusting only frames inside vigil's image. */
    kprintf("  backtrace:");
    u64 rbp = f->rbp;
    for (int i = 0; i < 16; i++) {
        if (rbp & 7 || rbp < (u64)__vigil_start || rbp + 16 > (u64)__vigil_end)
            break;
        u64 ret = ((u64 *)rbp)[1];
        kprintf(" 0x%llx", (unsigned long long)ret);
        rbp = ((u64 *)rbp)[0];
    }
    kprintf("\n");
    vigil_halt();
}

void vigil_halt(void)
{
    log_set_async(false);
    kprintf("vigil: halted\n");
    cpu_halt_forever();
}

void vigil_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kprintf("vigil: PANIC: ");
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    vigil_halt();
}
