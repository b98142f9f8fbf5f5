/* VM-exit handlers (one per basic exit reason, dispatched by exit.c) and the
 * pieces they share. Internal to vmm/. */
#ifndef VIGIL_VMM_EXIT_H
#define VIGIL_VMM_EXIT_H

#include "vmm/vcpu.h"
#include "vmm/acpi.h"
#include "ids/ids.h"
#include "vmm/traps.h"

typedef enum exit_action (*exit_handler)(struct vcpu *v);

enum exit_action exit_cr_access(struct vcpu *v);
enum exit_action exit_io(struct vcpu *v);
enum exit_action exit_rdmsr(struct vcpu *v);
enum exit_action exit_wrmsr(struct vcpu *v);
enum exit_action exit_gdtr_idtr(struct vcpu *v);
enum exit_action exit_ldtr_tr(struct vcpu *v);

const char *exit_reason_name(u32 reason);
/* Dump guest state, host state and controls (for the unexpected). */
void vmm_dump_state(void);
/* Start a vCPU at a SIPI's vector (real mode at vector << 12), on its CPU. */
enum exit_action vcpu_start(struct vcpu *v, u8 vector);
void vmm_report_entry_failure(u32 reason, u64 qual);

/* Power: how the guest asked to be turned off, replayed after the summary. */
enum power_how { POWER_BOCHS, POWER_QEMU, POWER_ACPI, POWER_RESET };
__attribute__((noreturn)) void vmm_guest_poweroff(enum power_how how, u16 port, u32 value);
void vmm_set_platform(u16 console_port, const struct acpi_power *acpi);
u16 vmm_console_port(void);
const struct acpi_power *vmm_acpi(void);

/* The suspended-vCPU loop: returns when the operator resumes. */
void vcpu_suspend_loop(struct vcpu *v);
void vmm_print_summary(void);
/* Operator input while the guest runs: true when the operator asked to
 * suspend (called on the periodic tick; never waits). */
bool vcpu_operator_poll(struct vcpu *v);

/* IDS glue (exit.c): an event filled from the current exit, and how a
 * verdict's suspend is applied; `done` is what the handler does otherwise. */
void vmm_fill_event(struct ids_event *e, enum ids_event_type t);
/* A reach for vigil (already refused): reported; *act becomes a suspend if
 * the IDS says so. */
void vmm_reach(struct vcpu *v, enum ids_reach what, u64 addr, const char *detail, enum exit_action *act);
enum exit_action vmm_verdict_suspend(struct vcpu *v, struct ids_verdict verdict, enum exit_action done);

/* introspect.c */
void introspect_init(u64 *ept_pml4);
const struct traps *vmm_traps(void);
/* WRMSR of msr is emulated by exit_msr.c, so it may be trapped (exit_msr.c). */
bool msr_write_virtualized(u32 msr);
/* vigil owns these CR0/CR4 bits from now on, on every vCPU: the guest's
 * changes of them exit (vmcs.c; before the guest runs). */
void vcpu_own_cr_bits(u8 cr, u64 bits);
/* CR3 loads exit from now on, on every vCPU (vmcs.c; before the guest runs). */
void vmcs_cr3_load_exiting(void);
/* This vCPU's CR3-target values (vmcs.c): loads of exactly these values do
 * not exit. At most what the CPU offers (and 4) are set; returns how many. */
u32 vmcs_set_cr3_targets(const u64 *vals, u32 n);
/* The step window's controls (vmcs.c): on, NMIs and (ext_int) external
 * interrupts exit instead of reaching the guest, every exception exits, and
 * (expire_now) the preemption timer ends the entry right after an injected
 * event is delivered, before any instruction (SDM 26.7.4). Off: as usual. */
void vmcs_step_controls(bool on, bool ext_int, bool expire_now);
bool vmcs_can_expire_now(void);
/* The preemption timer of this VM entry: an exit after `cycles` of TSC (at
 * most a tick), unless the step window has it expire at once. */
void vmcs_timer_in(u64 cycles);
void vmm_step_through(u64 gpa);
/* The execute watch (introspect.c): a fetch from gpa is the watch's to
 * judge; an allowed one's page gets X (false: no EPT table to split with). */
bool vmm_exec_watched(u64 gpa, u32 *owner);
bool vmm_exec_grant(u64 gpa);
/* The write at gpa that the window now open lets through is reported to the
 * IDS again (IDS_EV_EPT, ept.after, subscription owner) when it closes. */
void vmm_step_recheck(u64 gpa, u32 owner);
bool vmm_step_done(void);
/* Close an open window whose instruction did not run (an interrupt, NMI or
 * exception came first); false if none was open. */
bool vmm_step_abort(void);
void vmm_step_expire(void);

/* Copy to or from guest linear memory through the guest's paging; false if
 * an address does not translate to guest RAM (guestlin.c). */
bool guest_linear(u64 la, void *buf, u32 len, bool write);
/* An access the guest's instruction makes, which vigil performs for it
 * (guestlin.c), ending as the hardware would end it: checked against the
 * guest's paging (R/W, U/S, CR0.WP, SMAP; a #PF with its error code and CR2
 * where the CPU would fault), then against vigil's memory (#GP, reported)
 * and the IDS's traps on the frames (the IDS's verdict, as for an EPT
 * violation). Nothing moves unless all of it may. False: not done, and
 * *act says how the exit ends (an exception injected, or the instruction
 * skipped or suspended by the IDS). At most 16 bytes. */
#define GA_WRITE 1u
#define GA_IMPLICIT 2u                     /* an implicit supervisor access (a descriptor table) */
#define GA_CHECK_ONLY 4u                   /* check, set the accessed bits, move nothing (buf unused) */
bool guest_access(struct vcpu *v, u64 la, void *buf, u32 len, u32 flags, enum exit_action *act);
/* The base of segment register seg (0 ES ... 5 GS) for an operand address:
 * in 64-bit mode only FS and GS have one. */
u64 guest_seg_base(u32 seg, bool x64);

/* CR0/CR4 as the guest sees them: owned bits from the read shadows. */
u64 guest_cr0_visible(void);
u64 guest_cr4_visible(void);

/* Guest general register n (0 = RAX ... 15 = R15, 4 = RSP from the VMCS). */
u64 guest_gpr(struct vcpu *v, u32 n);
void guest_set_gpr(struct vcpu *v, u32 n, u64 val);

#endif
