/* Turning VMX on and building the VMCS for the one guest. */
#ifndef VIGIL_VMM_VMX_SETUP_H
#define VIGIL_VMM_VMX_SETUP_H

#include "lib/types.h"
#include "vmm/vmxcap.h"

struct guest_entry {
    u32 eip, eax, ebx;
    u32 gdt_base;
    u16 gdt_limit;
    u16 cs_sel, ds_sel;
};

/* VMXON on this CPU with `region` (a zeroed page); false if VMXON failed. */
bool vmx_enable(const struct vmx_msrs *m, const struct vmx_caps *c, void *region, bool report);
/* (want | must) within what the capability MSR allows; panics naming the
 * control word when a must-have bit is not allowed. */
u32 vmx_adjust_ctls(const char *name, u32 want, u32 must, u64 cap);
/* Allocate and fill the VMCS, bitmaps; make it current. */
void vmcs_setup(const struct vmx_msrs *m, const struct vmx_caps *c, u64 eptp, const struct guest_entry *g,
                u16 console_port);
/* Re-check the current VMCS against the entry rules vigil knows and name
 * the first field that breaks one (used after a failed VM entry). */
void vmcs_diagnose(void);
/* The guest state INIT leaves (activity: wait-for-SIPI), and a SIPI's start. */
void vmcs_guest_init_state(void);
void vmcs_guest_sipi(u8 vector);

/* I/O and MSR interception (bitmaps live in vmcs.c). */
void io_intercept(u16 port, u16 count);
void msr_intercept(u32 msr, bool read, bool write);

#endif
