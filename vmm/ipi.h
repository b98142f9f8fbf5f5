/* The guest's interprocessor interrupts with more than one vCPU: INIT and
 * SIPI pass through vigil (ipi.c). */
#ifndef VIGIL_VMM_IPI_H
#define VIGIL_VMM_IPI_H

#include "lib/types.h"
#include "vmm/vcpu.h"

struct cpu;

/* With two or more vCPUs: write-protect the guest's local APIC page and
 * intercept the x2APIC ICR and IA32_APIC_BASE. After vmcs_setup. */
void ipi_init(u64 *ept_pml4);
/* Is gpa the guest's local APIC page (and mediated)? */
bool ipi_apic_page(u64 gpa);
/* An EPT write violation on that page: the store emulated. */
enum exit_action ipi_apic_write(struct vcpu *v, u64 gpa);
/* WRMSR of the x2APIC ICR or IA32_APIC_BASE: true if handled here, with
 * *ok false when the write is refused (#GP). */
bool ipi_wrmsr(u32 msr, u64 val, bool *ok);
/* On a vCPU's own CPU, before its VM entry: an INIT (and SIPI) another
 * vCPU sent it, carried out; act, or the started vCPU's verdict. */
enum exit_action ipi_guest_signals(struct cpu *c, struct vcpu *v, enum exit_action act);

#endif
