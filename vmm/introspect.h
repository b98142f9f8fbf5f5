/* What vmm/ offers the IDS: guest memory (guestmem.h), EPT protection of
 * guest pages, port watching, the guest's descriptor-table registers. */
#ifndef VIGIL_VMM_INTROSPECT_H
#define VIGIL_VMM_INTROSPECT_H

#include "lib/types.h"
#include "vmm/guestmem.h"
#include "vmm/traps.h"
#include "vmm/memmap.h"

/* Subscriptions: the IDS traps guest-physical ranges (IDS_READ, IDS_WRITE,
 * IDS_EXEC: the accesses that arrive as IDS_EV_EPT), port ranges
 * (IDS_EV_IO, every byte of an access checked), MSR writes
 * (IDS_EV_MSR_WRITE) and CR0/CR4 bits (IDS_EV_CR_WRITE, armed before the
 * guest runs). `owner` is the IDS's own number for the subscription; every
 * event the trap raises carries it back (ids_event.owner). All or nothing:
 * on false, err says what did not fit or why, and nothing is left armed.
 * EPT pages are split to 4 KiB from a reserve set aside before the guest
 * started. vmm/traps.h holds the tables and their capacities. */
bool vmm_trap_pages(u64 gpa, u64 len, u32 access, u32 owner, char *err, size_t errlen);
bool vmm_trap_ports(u16 lo, u16 hi, u32 owner, char *err, size_t errlen);
bool vmm_trap_msr_write(u32 msr, u32 owner, char *err, size_t errlen);
bool vmm_trap_cr_write(u8 cr, u64 bits, u32 owner, char *err, size_t errlen);
/* Every vCPU drops the guest-linear translations it caches (the IDS put a
 * paging entry back that the guest may already have used). */
void vmm_flush_guest_translations(void);
/* Every MOV to CR3 to arrive as IDS_EV_CR3_LOAD (CR3-load exiting), from
 * the guest's first instruction: before the guest runs. Without it the
 * guest loads CR3 natively, without an exit. */
bool vmm_trap_cr3_loads(char *err, size_t errlen);
/* With CR3-load exiting: loads of exactly these values (bit 63 included)
 * on the vCPU of the current event do not exit, until the next call
 * replaces them (n = 0: every load exits). Returns how many the CPU took
 * (IA32_VMX_MISC offers up to 4, maybe none). */
u32 vmm_cr3_targets(const u64 *vals, u32 n);
/* IDS_EV_SAMPLE events at random moments of each vCPU's guest time, spaced
 * by exponential intervals of mean_us microseconds on average (cut at eight
 * means): memoryless, so that the guest cannot learn their phase as it can
 * the periodic tick's. With the VMX preemption timer they come on time;
 * without it, at the first exit after they are due. 0: none. */
void vmm_random_samples(u64 mean_us);
/* The guest's GS base now and its IA32_KERNEL_GS_BASE (SWAPGS's other
 * half): the kernel's per-CPU base is one of them. */
void vmm_guest_gs_bases(u64 *gs, u64 *kernel_gs);
/* The trap registry as it stands (read-only). */
const struct traps *vmm_traps(void);
/* Is any access to the page holding gpa trapped? */
bool vmm_ept_is_protected(u64 gpa);
/* The execute watch: X off in EPT everywhere but the known code ranges; a
 * fetch elsewhere arrives as an IDS_EV_EPT event of `owner` with access
 * IDS_EXEC, and an allowed one gets its 4 KiB page X until vmm_exec_revoke
 * takes every grant back. False (err says why) if it cannot be armed. */
bool vmm_watch_exec(const struct mem_range *known, u32 n, u32 owner, char *err, size_t errlen);
void vmm_exec_revoke(void);
/* One grant taken back: the page holding gpa (no change if it has none). */
void vmm_exec_revoke_page(u64 gpa);
/* Is a page of [start, end) granted X now? *page: the first one found. */
bool vmm_exec_granted(u64 start, u64 end, u64 *page);
void vmm_exec_stats(u64 *grants, u64 *revokes, u32 *granted);
/* The boot report's line: each table's use. */
void vmm_trap_report(void);
/* The base of the guest's TR (its TSS) on this vCPU now. */
u64 vmm_guest_tr_base(void);
/* The guest's IDTR and GDTR now. */
void vmm_guest_dtr(u64 *idt_base, u16 *idt_limit, u64 *gdt_base, u16 *gdt_limit);
void vmm_set_guest_dtr(bool idt, u64 base, u16 limit);
bool vmm_is_hypervisor_memory(u64 start, u64 end);
/* The smallest range holding all of vigil's memory (a quick first test). */
void vmm_hypervisor_bounds(u64 *start, u64 *end);
u32 vmm_maxphys(void);
u64 vmm_uptime_ns(void);
/* Wall-clock time, Unix ms (the RTC read at boot, kept by the TSC); 0 if
 * vigil could not read the clock. */
u64 vmm_wallclock_ms(void);
/* The machine's name for alert records (`host=`), or NULL. */
const char *vmm_host_name(void);
/* The guest's vCPUs (known before IDS_EV_START). */
u32 vmm_vcpu_count(void);

#endif
