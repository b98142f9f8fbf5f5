/* What vmm/ offers the boot code: run the one guest. */
#ifndef VIGIL_VMM_VMM_H
#define VIGIL_VMM_VMM_H

#include "arch/x86_64/multiboot2.h"
#include "vmm/vmxcap.h"

/* Load the module named "guest", turn VMX on, build EPT and the VMCS, and
 * enter the guest. Does not return. */
__attribute__((noreturn)) void vmm_run_guest(const struct boot_info *bi, const struct vmx_msrs *m,
                                             const struct vmx_caps *c, u16 console_port);

#endif
