/* Inside the IDS: what the engine offers its policy modules. Internal to ids/. */
#ifndef VIGIL_IDS_ENGINE_H
#define VIGIL_IDS_ENGINE_H

#include "ids/ids.h"
#include "ids/policy.h"
#include "ids/profile.h"
#include "ids/vmi.h"

/* One policy module (one file each: ids/pol_*.c). Every hook is optional. */
struct policy_ops {
    enum policy_id id;
    void (*start)(void);                                     /* before the guest runs */
    void (*boot_done)(const struct ids_event *e);            /* the guest's kernel finished booting */
    void (*new_space)(const struct ids_event *e, u64 cr3);   /* an address space seen the first time */
    void (*tick)(const struct ids_event *e);                 /* every `interval` ticks */
    struct ids_verdict (*event)(const struct ids_event *e);  /* the events it is routed */
    void (*vcpu_start)(const struct ids_event *e);           /* vCPU e->vcpu starts over (SIPI) */
};

struct ids_state {
    struct policy_config cfg;
    struct profile prof;
    bool have_profile;
    bool boot_done;                /* the kernel's set-up is over: its tables are locked */
    bool have_idt_symbol;
    u64 idt_kva;
    u64 first_cr3, kernel_cr3;
    u64 ticks;
};

extern struct ids_state ids;

bool ids_policy_on(enum policy_id id);
/* Raise an alert for policy id about event e. object keys the repeat
 * limiter; gva/gpa may be NULL. Returns the verdict the policy's action
 * gives (alert: allow, block, suspend). */
struct ids_verdict ids_raise(enum policy_id id, const struct ids_event *e, u64 object, const u64 *gva,
                             const u64 *gpa, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
struct ids_verdict ids_raise_action(enum policy_id id, enum action act, const struct ids_event *e, u64 object,
                                    const u64 *gva, const u64 *gpa, const char *detail);

/* Who runs in address space cr3: pid and name from the process list (or,
 * for a process missing from it, from the process pool); pid -1 if unknown.
 * Returns true when the process is in the list. */
bool ids_proc_of(u64 cr3, s64 *pid, char name[16]);
/* The list as of this tick (refreshed at most once a tick). */
int ids_procs(u64 cr3, const struct vmi_proc **procs);
/* Address spaces seen through CR3 loads (the hardware's view). */
struct ids_space { u64 cr3, loads, first_tick, last_tick; };
int ids_spaces(const struct ids_space **spaces);

/* Protected guest-physical regions and who owns them. */
void ids_region_add(u64 gpa, u64 len, enum policy_id id, const char *what);
/* Write-protect in EPT the kernel object the profile calls sym and register
 * it as policy id's region (the whole pages, or exactly the object); its
 * guest-physical place in *gpa, *size. Warns and returns false when the
 * profile does not place it inside the kernel image or EPT refuses. */
bool ids_protect_object(enum policy_id id, const char *sym, const char *what, bool whole_pages, u64 *gpa,
                        u64 *size);

/* The alert log, for the operator's `alerts`. */
const struct alert_log *ids_alert_log(void);
bool ids_region_find(u64 gpa, enum policy_id *id, const char **what, u64 *start);

/* Length of the instruction at the event's RIP (0 when unknown). */
u32 ids_insn_len(const struct ids_event *e);

extern const struct policy_ops pol_kernel_text, pol_critical_tables, pol_msr_guard, pol_cr_guard,
    pol_hidden_process, pol_pagetable_audit, pol_io_guard, pol_signature, pol_hypervisor_guard;

/* The engine's lock (ids.c): console commands take it as events do. */
void ids_lock_take(void);
void ids_lock_drop(void);

#endif
