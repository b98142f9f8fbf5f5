/* Every CPU of the machine under vigil: the per-CPU state, bringing the
 * other processors into VMX before the guest runs, and the cross-CPU
 * protocol (kick, stop the world, EPT shootdown). docs/design.md
 * "Processors" describes the ordering. Internal to vmm/. */
#ifndef VIGIL_VMM_SMP_H
#define VIGIL_VMM_SMP_H

#include "lib/types.h"
#include "lib/spinlock.h"
#include "vmm/vcpu.h"
#include "vmm/madt.h"
#include "vmm/vmxcap.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/multiboot2.h"
#include "ids/ids.h"

#define VIGIL_MAX_CPUS CPU_TABLE_MAX
_Static_assert(VIGIL_MAX_CPUS <= IDS_MAX_VCPUS, "the IDS keeps state for every vCPU");

/* Bring-up states of a CPU (written by that CPU, read by the boot CPU). */
enum cpu_state {
    CPU_OFF,          /* not woken (yet) */
    CPU_ALIVE,        /* running vigil's code, checking VT-x */
    CPU_VMX,          /* VMXON done: INIT is blocked from now on */
    CPU_PARKED,       /* in VMX root operation, halted for good: not offered to the guest */
    CPU_LAUNCHED,     /* entering the guest in the wait-for-SIPI state */
    CPU_FAILED,       /* could not be brought under VMX: `why` says what */
};

/* Where a CPU is with respect to its guest (for kicks and shootdowns). */
enum guest_mode { GM_ROOT, GM_GUEST, GM_WAIT_SIPI };

/* The one-instruction window of a protected page (introspect.c). */
struct step_window {
    bool active, tf_was_set;
    bool delivery;                       /* the write is an event's delivery: no instruction stepped */
    u32 pushf;                           /* the stepped instruction is PUSHF of this many bytes (else 0) */
    u64 intr;                            /* guest interruptibility before the window */
    u32 n;
    u64 pages[4];
    /* Writes the IDS allowed with IDS_RECHECK: reported again (ept.after)
     * when the window closes, before any other guest instruction runs. */
    u32 nrecheck;
    struct { u64 gpa, rip; u32 owner; } recheck[4];
};

/* Guest state of a vCPU held outside the guest, for the operator. */
struct vcpu_snapshot {
    bool valid;
    u64 rip, rsp, rflags, cr0, cr3, cr4, efer, activity;
    struct guest_regs regs;
};

struct cpu {
    struct cpu *self;                    /* at %gs:0 in vigil (HOST_GS_BASE) */
    u32 index;                           /* 0 = the boot CPU = vCPU 0 */
    u32 apic_id;
    volatile u32 state;                  /* enum cpu_state */
    const char *why;                     /* CPU_FAILED: what was wrong */
    volatile u32 mode;                   /* enum guest_mode */
    volatile u32 kicks_sent, kicks_seen; /* NMIs vigil sent this CPU, and those it has taken */
    u32 ept_gen;                         /* the EPT generation this CPU last flushed */
    bool nmi_pending;                    /* a guest NMI to inject at the next entry (smp.c alone writes it) */
    struct spinlock sig_lock;            /* init_req and sipi_req (ipi.c) */
    volatile bool init_req;              /* the guest sent this vCPU INIT: it resets itself */
    volatile u32 sipi_req;               /* 0x100 | vector: a SIPI posted to it */
    volatile bool parked;                /* reset by vigil, waiting in vigil for its SIPI */
    u32 guest_icr_hi;                    /* the guest's ICR destination (vigil uses the register too) */
    bool guest_in_nmi;                   /* in an NMI vigil injected, maybe not returned from */
    u64 bringup_tsc;                     /* boot CPU's TSC when this CPU was woken, and when it was in VMX */
    u64 bringup_cycles;
    struct vcpu vcpu;
    struct step_window step;
    struct vcpu_snapshot snap;
    struct cpu_desc *desc;
    void *vmxon, *vmcs;                  /* pages from the pool, taken by the boot CPU */
    u8 *stack_top, *exit_stack_top;
};

extern struct cpu cpus[VIGIL_MAX_CPUS];
extern u32 ncpus;                        /* vCPUs: cpus[0 .. ncpus-1] */
extern u64 vmm_launch_tsc;

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}
static inline struct vcpu *vcpu_self(void) { return &this_cpu()->vcpu; }

/* The boot CPU's own per-CPU state (GS base, descriptor tables, locks). */
void smp_init_boot_cpu(void);
/* `cpus=N` from vigil's command line: offer at most N vCPUs to the guest
 * (0: all); CPUs beyond are parked in VMX root operation. */
void smp_set_limit(u32 n);
/* Find every processor (MADT, else MP table), wake each, bring it into VMX
 * with the same checks as the boot CPU, and leave it in the wait-for-SIPI
 * state under a VMCS of its own. Refuses (vigil halts) when a processor
 * cannot be brought under VMX. Called by the boot CPU before it launches. */
void smp_start_aps(const struct boot_info *bi, const struct vmx_msrs *m, const struct vmx_caps *c);
/* Let the APs that are vCPUs build their VMCS and enter the wait-for-SIPI
 * state; returns when all have (after IDS_EV_START, before the boot CPU
 * launches the guest). */
void smp_launch_aps(void);
/* The AP's half (vmcs.c): build this CPU's VMCS and enter the guest in the
 * wait-for-SIPI state. Returns only if VMLAUNCH failed. */
void vmcs_launch_ap(struct cpu *c, const struct vmx_caps *caps);

/* The gate before every VM entry: waits while another CPU holds the world,
 * flushes EPT translations this CPU may hold from before the last change,
 * and marks the CPU as in the guest (mode GM_GUEST or GM_WAIT_SIPI). */
void smp_before_entry(struct cpu *c, u32 mode);
/* An NMI exit or an NMI taken in vigil: vigil's kick, or else the guest's
 * NMI, which becomes pending for injection. */
void smp_nmi(struct cpu *c);
/* Inject the guest NMI held for this CPU, when nothing blocks it (at the
 * end of an exit; never into wait-for-SIPI). */
void smp_deliver_nmi(struct cpu *c, bool waiting);
/* The same for an NMI that caused a VM exit; also ends the NMI blocking
 * Bochs leaves behind it (see smp.c). */
void smp_nmi_exit(struct cpu *c);
/* An IRET to itself in VMX root: ends the NMI blocking Bochs leaves after
 * an NMI exit or a SIPI exit (a no-op on hardware). */
void smp_end_root_nmi_blocking(void);
/* NMI to a vCPU's CPU: it leaves the guest (ipi.c's INIT). */
void smp_kick(struct cpu *c);
/* An IPI through this CPU's local APIC in the mode it is in now: dest is
 * the xAPIC destination byte or the x2APIC ID, icr the ICR's low half. */
void smp_lapic_send(u32 dest, u32 icr);
/* Stop every other vCPU outside guest mode until smp_world_start
 * (re-entrant for the CPU that holds it). */
void smp_world_stop(void);
void smp_world_start(void);
/* After an EPT change: on return no CPU uses a translation from before it. */
void smp_ept_changed(void);
/* Record this CPU's guest state (from its current VMCS) in c->snap. */
void smp_snapshot(struct cpu *c);
/* Shootdown statistics for the summary. */
void smp_print_summary(void);

/* A recursive lock for whole log lines (installed into lib/log). */
void smp_log_lock(void);
bool smp_log_trylock(void);
void smp_log_unlock(void);

#endif
