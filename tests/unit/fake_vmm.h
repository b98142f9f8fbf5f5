/* A fake vmm/ for host tests of the IDS (tests/unit/test_policies.c): what
 * ids/ calls outside itself (vmm/introspect.h, vmm/guestmem.h), backed by a
 * guest-physical memory array, plus records of what the IDS asked of vmm/
 * (protected ranges, watched ports, descriptor-table writes) and a capture
 * of vigil's console. Helpers build guest page tables in that memory. */
#ifndef VIGIL_TESTS_FAKE_VMM_H
#define VIGIL_TESTS_FAKE_VMM_H

#include "lib/types.h"
#include "vmm/traps.h"
#include "vmm/memmap.h"

/* Guest-physical memory: [0, FAKE_MEM_SIZE), except vigil's own region
 * [FAKE_HV_LO, FAKE_HV_HI), which guestmem_* refuse, as the real one does. */
#define FAKE_MEM_SIZE MiB(64)
#define FAKE_HV_LO    0x3000000ull
#define FAKE_HV_HI    0x3400000ull
/* Where fake_alloc_page hands out zeroed pages from (page tables, user pages). */
#define FAKE_ALLOC_LO 0x1000000ull
#define FAKE_ALLOC_HI 0x3000000ull

extern u8 *fake_mem;

#define FAKE_MAX_RECORDS 64
struct fake_protect { u64 gpa, len; u32 deny; };
struct fake_watch { u16 port, count; };
struct fake_dtr_set { bool idt; u64 base; u16 limit; };

struct fake_vmm {
    u32 nprotect;
    u32 flushes;                 /* vmm_flush_guest_translations calls */
    struct fake_protect protect[FAKE_MAX_RECORDS];
    u32 nwatch;
    struct fake_watch watch[FAKE_MAX_RECORDS];
    u32 nset_dtr;
    struct fake_dtr_set set_dtr[FAKE_MAX_RECORDS];
    u64 idt_base, gdt_base;                  /* what vmm_guest_dtr returns */
    u16 idt_limit, gdt_limit;
    bool protect_fails;                      /* vmm_ept_protect refuses */
    u64 now_ns;
    u64 wall_ms;                  /* vmm_wallclock_ms at now_ns 0 (0: no clock) */
    bool exec_watching;           /* vmm_watch_exec was called: */
    struct mem_range exec_known;  /*   its first known range */
    u32 exec_owner;               /*   and the owner its events carry */
    u64 exec_revokes;
    u64 exec_granted[16];         /* grants a test made (fake_exec_grant), until taken back */
    u32 exec_ngranted;
    u64 exec_page_revokes;        /* vmm_exec_revoke_page calls that took one back */
    char host[64];                /* vmm_host_name ("": none) */
    u32 nvcpus;                              /* vmm_vcpu_count (0: 1) */
    bool cr3_loads_trapped;                  /* vmm_trap_cr3_loads was asked */
    u32 ncr3_targets;                        /* vmm_cr3_targets: the last values set */
    u64 sample_mean_us;                      /* vmm_random_samples */
    u64 cr3_targets[4];
    u64 gs_base, kernel_gs_base;             /* what vmm_guest_gs_bases returns */
    u64 tr_base;                             /* vmm_guest_tr_base (0: none) */
};
extern struct fake_vmm fake;
/* What vmm/ does after an allowed fetch under the execute watch. */
void fake_exec_grant(u64 gpa);

/* Fresh memory (all zero), records and console. */
void fake_reset(void);

/* Physical memory helpers for the test (no checks: the test builds the guest). */
void fake_poke(u64 gpa, const void *src, u64 len);
void fake_w64(u64 gpa, u64 v);
void fake_w32(u64 gpa, u32 v);
u64 fake_r64(u64 gpa);
u64 fake_alloc_page(void);                   /* zeroed, 4 KiB aligned */

/* Page-table entry bits. */
#define PTE_P  (1ull << 0)
#define PTE_W  (1ull << 1)
#define PTE_U  (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)

/* Map gva to pa in the 4-level tables rooted at cr3: a 4 KiB page
 * (level 1), or a 2 MiB one (level 2, PS set here). Missing tables are
 * allocated with P|W|U (the leaf's bits decide). */
void fake_map(u64 cr3, u64 gva, u64 pa, u64 flags);
void fake_map_2m(u64 cr3, u64 gva, u64 pa, u64 flags);

/* Console capture (log_set_console). */
const char *fake_console(void);              /* everything so far, NUL-terminated */
size_t fake_console_len(void);
bool fake_console_has(size_t from, const char *needle);

/* Alert records printed since console offset `from`, parsed. */
struct fake_alert {
    char policy[24], action[12], severity[12], process[20], detail[160];
    char rip[24], cr3[24], gva[24], gpa[24];
    long long pid, seq;                      /* pid -1: absent */
    bool has_gva, has_gpa;
    size_t len;                              /* the record's bytes, without CR LF */
};
u32 fake_alerts(size_t from, struct fake_alert *out, u32 max);

/* The registry the IDS subscribed through (as vmm/ keeps it). */
const struct traps *fake_traps(void);

bool fake_protected(u64 gpa, u64 len, u32 deny);  /* such a vmm_ept_protect call was made */
bool fake_watched(u16 port, u16 count);

#endif
