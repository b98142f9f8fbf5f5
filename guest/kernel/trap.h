/* testos: trap frames, exception handling, recoverable kernel faults. */
#ifndef TESTOS_TRAP_H
#define TESTOS_TRAP_H
#include "kernel.h"

/* Layout built by entry.asm (PUSH_GPRS after vector and error code). */
struct trap_frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "entry.asm pushes 22 qwords");
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "entry.asm: vector after 15 GPRs");
_Static_assert(offsetof(struct trap_frame, rip) == 17 * 8, "entry.asm: CPU frame after error code");

#define VEC_SYSCALL_FRAME 0x100

/* A recovery point for kernel code that may fault on purpose (attacks whose
 * effect a monitor may refuse, VMX instructions, probes of hidden memory):
 *
 *   struct catch c;
 *   if (CATCH(&c)) { ...risky...; catch_end(&c); } else { c.vector, c.rip ... }
 */
struct catch {
    u64 jb[8];
    struct catch *prev;
    u64 vector, error, rip, cr2;
};

int k_setjmp(u64 *jb) __attribute__((returns_twice));
void k_longjmp(u64 *jb, int v) __attribute__((noreturn));
void catch_push(struct catch *c);
void catch_end(struct catch *c);
#define CATCH(c) (catch_push(c), k_setjmp((c)->jb) == 0)

/* #UD at an address in [ud_skip_lo, ud_skip_hi) (alert-flood-distinct's
 * VMCALLs) resumes past the 3-byte instruction; counted in ud_skipped. */
extern u64 ud_skip_lo, ud_skip_hi;
extern volatile u64 ud_skipped;

const char *vector_name(u64 v);
/* A rootkit's exception hook: called first for every exception (the
 * step-window scenario installs one). */
extern void (*trap_hook)(struct trap_frame *f);
/* Called on the way into and out of every trap (a rootkit's hook on the
 * kernel's entry; scn_hide.c's lying `current`). */
extern void (*trap_edge_hook)(struct trap_frame *f, bool entry);
void trap(struct trap_frame *f);

#endif
