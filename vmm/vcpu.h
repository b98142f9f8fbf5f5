/* A virtual CPU: guest registers VMX does not keep in the VMCS, exit
 * statistics, and run state (running / suspended). One per CPU of the
 * machine that the guest may use (vmm/smp.h holds them). */
#ifndef VIGIL_VMM_VCPU_H
#define VIGIL_VMM_VCPU_H

#include "lib/types.h"

/* General registers as vmexit.asm pushes them (RSP is in the VMCS). */
struct guest_regs {
    u64 rax, rcx, rdx, rbx, rbp, rsi, rdi;
    u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

#define EXIT_REASON_COUNT 70

/* The periodic tick: IDS periodic checks and operator input (docs/ids.md). */
#define TICK_HZ 100

enum exit_action {
    EXIT_RESUME,             /* re-enter at the same RIP (or an injected event) */
    EXIT_ADVANCE,            /* skip the exiting instruction, then re-enter */
    EXIT_SUSPEND,            /* stop running guest code until the operator resumes */
    EXIT_DEAD,               /* the guest cannot continue (triple fault, bad state) */
};

struct vcpu {
    u32 id;                              /* vCPU number (0 = the boot CPU) */
    struct guest_regs *regs;             /* of the exit being handled */
    u16 vpid;
    u64 eptp;
    u64 cr0_mask, cr4_mask;              /* bits vigil owns */
    u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    bool unrestricted;
    bool insouts_info;                   /* IA32_VMX_BASIC[54]: INS/OUTS operand information */
    bool suspended, dead;
    bool sipi_fresh;                     /* started by a SIPI, no instruction run since */
    const char *suspend_reason;
    u64 exits;
    u64 exit_count[EXIT_REASON_COUNT];
    u64 exit_cycles[EXIT_REASON_COUNT];
    u64 last_tick;                       /* TSC of this vCPU's last tick */
    u64 preempt_ticks;
    u64 next_sample;                     /* the next random-time sample's TSC (vmm_random_samples) */
    u64 rng;                             /* their generator's state; 0 until the first */
    bool timer_expire_now;               /* the step window set the preemption timer to 0 */
    u64 operator_cycles;                 /* time at the operator console, not charged to exits */
    u64 console_refusals, hv_mem_refusals;
    u8 shutdown_match;                   /* bytes of "Shutdown" seen at 0x8900 */
    char reason_buf[48];

};

/* Queue a hardware exception for the next VM entry (RIP is not advanced). */
void vcpu_inject_exception(u8 vector, bool has_error, u32 error);
void vcpu_inject_gp(void);
void vcpu_inject_ud(void);
/* Move RIP past the exiting instruction, or past len bytes: the one place
 * RIP moves. It ends STI/MOV-SS blocking and makes the single-step trap
 * due when RFLAGS.TF is set, as the completed instruction would. */
void vcpu_advance_rip(void);
void vcpu_skip_insn(u32 len);

#endif
