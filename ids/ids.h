/* The IDS as vmm/ sees it: events in, verdicts out. vmm/ fills an event
 * from the exit it is handling (no policy names), ids/ decides (no VMCS
 * encodings). docs/ids.md describes the events and the verdicts. */
#ifndef VIGIL_IDS_IDS_H
#define VIGIL_IDS_IDS_H

#include "lib/types.h"
#include "arch/x86_64/multiboot2.h"

enum ids_event_type {
    IDS_EV_START,          /* before the first VM entry: policies set up their traps; a block refuses the guest */
    IDS_EV_POWEROFF,       /* the guest is going away: final summary */
    IDS_EV_CR3_LOAD,       /* MOV to CR3 (before it takes effect) */
    IDS_EV_EPT,            /* access to a page an IDS policy protects */
    IDS_EV_IO,             /* port access to a port a policy watches */
    IDS_EV_MSR_WRITE,      /* WRMSR of a watched MSR (before it takes effect) */
    IDS_EV_CR_WRITE,       /* MOV to CR0/CR4 changing a watched bit (before it takes effect) */
    IDS_EV_DTR_LOAD,       /* LIDT / LGDT (before it takes effect) */
    IDS_EV_TICK,           /* periodic (VMX preemption timer) */
    IDS_EV_HV_REACH,       /* a reach for vigil itself; already refused by vmm/ */
    IDS_EV_VCPU_START,     /* the guest started (SIPI) or reset (INIT) vCPU e->vcpu: it sets up its own tables again */
    IDS_EV_DMA,            /* device DMA: a transfer vmm/ refused, or a bus-master enable to judge */
    IDS_EV_SAMPLE,         /* a random moment of guest time (vmm_random_samples): what runs now */
    IDS_EV_COUNT
};

/* vCPUs the IDS keeps per-vCPU state for (vmm/ offers no more). */
#define IDS_MAX_VCPUS 64

enum ids_access { IDS_READ = 1, IDS_WRITE = 2, IDS_EXEC = 4 };
/* REACH_CONSOLE: an access that covers the data register of vigil's console
 * UART (a byte for vigil's log, or the operator's typing); REACH_CONSOLE_PROBE:
 * one that touches only its control and status registers, which moves no
 * data (a driver looking for a UART). vmm/ refuses both alike. */
enum ids_reach { REACH_MEMORY, REACH_CONSOLE, REACH_VMX_INSN, REACH_VMCALL, REACH_CONSOLE_PROBE };
/* IDS_EV_DMA: what vmm/ saw. The first three are transfers a mediated
 * device was told to start and vmm/ refused (the device never started);
 * DMA_BUS_MASTER asks whether a device vmm/ does not mediate may master the
 * bus (allow: yes; anything else: its bus-master enable stays off);
 * DMA_TABLE_CHANGED says the guest rewrote a table after its start was
 * checked (the device read vigil's copy, so the change had no effect). */
enum ids_dma_kind {
    DMA_HYPERVISOR,        /* a PRD region in vigil's memory */
    DMA_PROTECTED,         /* a PRD region in a frame a subscription holds (owner: that subscription) */
    DMA_BAD_TABLE,         /* the PRD table is outside guest RAM or has no end */
    DMA_BUS_MASTER,        /* a bus-master enable of a device vmm/ does not mediate */
    DMA_TABLE_CHANGED,     /* at the stop: the guest's table differs from the copy the device used (no effect) */
};

struct ids_event {
    enum ids_event_type type;
    u32 vcpu;
    u64 rip, cr3;              /* guest RIP and CR3 at the event */
    u8 cpl;
    bool long_mode;            /* 64-bit code segment: how to decode instructions */
    u32 owner;                 /* EPT, I/O, MSR and CR events: the subscription's owner number (the IDS's own) */
    union {
        struct { u64 new_cr3; } load;
        /* after: the access was allowed with IDS_RECHECK and has now run
         * (the step window closed, or vigil emulated it): judge what it left. */
        struct { u64 gpa, gva; bool gva_valid; u32 access; bool after; } ept;
        struct { u16 port; u8 size; bool in; u32 value; } io;
        struct { u32 msr; u64 old, value; } msr;
        struct { u8 cr; u64 old, value; } cr;
        struct { bool idt; u64 base; u16 limit; } dtr;
        struct { enum ids_reach what; u64 addr; const char *detail; } reach;
        struct {
            enum ids_dma_kind kind;
            bool to_memory;                /* the device would write memory (else read it) */
            bool at_boot;                  /* vigil's own scan before the guest ran: judge, do not report */
            u8 bus, dev, fn;
            u16 vendor, device;
            u32 class_code;                /* class, subclass, programming interface */
            u64 addr, len, hit;            /* the PRD region refused, its first forbidden byte */
            u32 entry;                     /* its index in the table */
            const char *device_name;       /* what vmm/ calls the device ("IDE bus master, secondary channel") */
        } dma;
    };
};

enum ids_action { IDS_ALLOW, IDS_BLOCK, IDS_SUSPEND };
#define IDS_RECHECK 0x80000000u
/* IDS_EV_EPT refusals of a fetch (the execute watch), in skip_len: the
 * fetch faults as from a not-present page (the #PF error code without P).
 * Without it the error code says present + fetch, which a guest that finds
 * its own tables allowing the fetch takes for a stale TLB entry and
 * retries (Linux's spurious-fault check): it would never see the fault. */
#define IDS_FETCH_NOT_PRESENT 0x40000000u

struct ids_verdict {
    enum ids_action action;
    u32 skip_len;              /* IDS_EV_EPT blocks: bytes of the instruction to skip; 0 = unknown.
                                * IDS_EV_EPT allows: IDS_RECHECK asks vmm/ to report the access again
                                * (ept.after) once it has run, before any other guest instruction. */
    const char *reason;        /* for a suspend: what the operator is told */
};

/* Policy and profile from the modules (NULL when absent). Returns false
 * (after printing what was wrong) when the guest must not start. */
bool ids_init(const struct boot_info *bi, bool enabled);
bool ids_enabled(void);
struct ids_verdict ids_event(const struct ids_event *e);

/* Operator console: true if the IDS knows the command. */
bool ids_console_command(const char *line, u64 cr3);
void ids_print_summary(void);

#endif
