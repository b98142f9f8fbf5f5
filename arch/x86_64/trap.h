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

void desc_init(void);                   /* load GDT, TSS and IDT */
u64 desc_gdt_base(void);
u64 desc_idt_base(void);
u64 desc_tss_base(void);

void trap_handler(struct trap_frame *f);

/* An NMI taken while vigil ran: the guest's, to be delivered to it on the
 * next VM entry (vmm/exit.c). */
extern volatile bool nmi_pending;

/* Print the reason, then "vigil: halted", then stop this CPU for good. */
__attribute__((noreturn, format(printf, 1, 2))) void vigil_panic(const char *fmt, ...);
__attribute__((noreturn)) void vigil_halt(void);

#endif
