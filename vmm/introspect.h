/* What vmm/ offers the IDS: guest memory (guestmem.h), EPT protection of
 * guest pages, port watching, the guest's descriptor-table registers. */
#ifndef VIGIL_VMM_INTROSPECT_H
#define VIGIL_VMM_INTROSPECT_H

#include "lib/types.h"
#include "vmm/guestmem.h"

/* Deny writes (and/or execution) of [gpa, gpa + len) in EPT: pages are split
 * to 4 KiB from a reserve set aside before the guest started. Accesses then
 * arrive as IDS_EV_EPT. False if the range cannot be protected. */
bool vmm_ept_protect(u64 gpa, u64 len, u32 deny);
bool vmm_ept_is_protected(u64 gpa);
/* Ports whose accesses arrive as IDS_EV_IO. */
void vmm_io_watch(u16 port, u16 count);
/* The guest's IDTR and GDTR now. */
void vmm_guest_dtr(u64 *idt_base, u16 *idt_limit, u64 *gdt_base, u16 *gdt_limit);
void vmm_set_guest_dtr(bool idt, u64 base, u16 limit);
bool vmm_is_hypervisor_memory(u64 start, u64 end);
/* The smallest range holding all of vigil's memory (a quick first test). */
void vmm_hypervisor_bounds(u64 *start, u64 *end);
u32 vmm_maxphys(void);
u64 vmm_uptime_ns(void);
/* The guest's vCPUs (known before IDS_EV_START). */
u32 vmm_vcpu_count(void);

#endif
