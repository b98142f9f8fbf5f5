/* vigil's own CPU tables (GDT, TSS, IDT) and what happens when vigil itself
 * takes an exception: a crash report, then a clean halt. */
#ifndef VIGIL_ARCH_TRAP_H
#define VIGIL_ARCH_TRAP_H

#include "lib/types.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS  0x18

struct trap_frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8;
    u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss;       /* pushed by the CPU */
};

struct tss {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
} __attribute__((packed));

#define DESC_IST_STACK 4096
/* One CPU's descriptor tables and exception stacks (#DF, NMI, #MC). */
struct cpu_desc {
    u64 gdt[5] __attribute__((aligned(16)));
    struct tss tss __attribute__((aligned(16)));
    u8 ist[3][DESC_IST_STACK] __attribute__((aligned(16)));
};

void desc_init(struct cpu_desc *d);     /* load this CPU's GDT and TSS, and the shared IDT */
static inline u64 desc_gdt_base(const struct cpu_desc *d) { return (u64)d->gdt; }
static inline u64 desc_tss_base(const struct cpu_desc *d) { return (u64)&d->tss; }
u64 desc_idt_base(void);

void trap_handler(struct trap_frame *f);

/* Called for an NMI taken while vigil runs (vmm/ decides whose it is). */
void trap_set_nmi_hook(void (*hook)(void));

/* Print the reason, then "vigil: halted", then stop this CPU for good. */
__attribute__((noreturn, format(printf, 1, 2))) void vigil_panic(const char *fmt, ...);
__attribute__((noreturn)) void vigil_halt(void);

#endif
