/* Inside the IDS: what the engine offers its policy modules. Internal to ids/. */
#ifndef VIGIL_IDS_ENGINE_H
#define VIGIL_IDS_ENGINE_H

#include "ids/ids.h"
#include "ids/policy.h"
#include "ids/profile.h"
#include "ids/vmi.h"
#include "vmm/traps.h"
#include "vmm/memmap.h"

/* One policy module (one file each: ids/pol_*.c). Every hook is optional. */
struct policy_ops {
    enum policy_id id;
    void (*start)(void);                                     /* before the guest runs */
    void (*boot_done)(const struct ids_event *e);            /* the guest's kernel finished booting */
    void (*new_space)(const struct ids_event *e, u64 cr3);   /* an address space seen the first time */
    void (*tick)(const struct ids_event *e);                 /* every `interval` ticks */
    void (*sample)(const struct ids_event *e);               /* a random-time sample (IDS_EV_SAMPLE) */
    struct ids_verdict (*event)(const struct ids_event *e);  /* the events it is routed */
    void (*vcpu_start)(const struct ids_event *e);           /* vCPU e->vcpu starts over (SIPI) */
    void (*placed)(const struct ids_event *e);               /* a kaslr profile is placed: run-time addresses known */
};

struct ids_state {
    struct policy_config cfg;
    struct profile prof;
    bool have_profile;
    bool boot_done;                /* the kernel's set-up is over: its tables are locked */
    bool have_idt_symbol;
    u64 idt_kva;
    u64 first_cr3, kernel_cr3;
    bool boot_tables_left;         /* a CR3 other than the first was loaded */
    u64 ticks;
};

extern struct ids_state ids;

bool ids_policy_on(enum policy_id id);
/* Raise an alert for policy id about event e. object keys the repeat
 * limiter; gva/gpa may be NULL. Returns the verdict the policy's action
 * gives (alert: allow, block, suspend). */
struct ids_verdict ids_raise(enum policy_id id, const struct ids_event *e, u64 object, const u64 *gva,
                             const u64 *gpa, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* ids_raise about a process other than the one e->cr3 belongs to (a task
 * running in a borrowed address space): the record names task. */
struct ids_verdict ids_raise_task(enum policy_id id, const struct ids_event *e, const struct vmi_proc *task,
                                  u64 object, const u64 *gva, const u64 *gpa, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* As ids_raise, for a change the caller can undo (it puts the old value
 * back when the verdict is not allow): a block stays a block whatever the
 * event, and a suspend is a block now and a stop at the next tick or CR3
 * load. */
struct ids_verdict ids_raise_fixed(enum policy_id id, const struct ids_event *e, u64 object, const u64 *gva,
                                   const u64 *gpa, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
struct ids_verdict ids_raise_action(enum policy_id id, enum action act, const struct ids_event *e, u64 object,
                                    const u64 *gva, const u64 *gpa, const char *detail);
/* ids_raise_action naming task (NULL: as ids_raise_action). */
struct ids_verdict ids_raise_action_task(enum policy_id id, enum action act, const struct ids_event *e,
                                         const struct vmi_proc *task, u64 object, const char *detail);

/* Who runs in address space cr3: pid and name from the process list (or,
 * for a process missing from it, from the process pool); pid -1 if unknown.
 * Returns true when the process is in the list. */
bool ids_proc_of(u64 cr3, s64 *pid, char name[16]);
/* An address-space key (vmi_space_key) that is the kernel's own: its page
 * tables, the boot tables, Linux's init_top_pgt or poking_mm. No process. */
bool ids_kernel_space(u64 key);
/* The kernel, as an alert names it (pid -1, "kernel"): for a finding about
 * the kernel's own memory, not the task a tick interrupted. */
const struct vmi_proc *ids_kernel_proc(void);
/* The list as of this tick (refreshed at most once a tick). */
int ids_procs(u64 cr3, const struct vmi_proc **procs);
/* The next ids_procs reads the list again (a new address space runs). */
void ids_procs_stale(void);
/* Which snapshot ids_procs gave last: a new number for every walk. */
u64 ids_procs_generation(void);
/* Before a miss counts: the snapshot is taken again unless it was taken in
 * this event (a process forked since, on a reused page-table root, is in
 * no earlier snapshot). False when it was already fresh. */
/* The snapshot was taken in this very event: a miss in it is no race with a stale list. */
bool ids_procs_fresh(void);
bool ids_procs_refresh(void);
/* Process identities (ids/ident.c): what vigil recorded of a process when
 * it first saw it, which later writes to its structure do not change. */
struct ids_ident {
    bool used;
    bool renamed, code_changed;    /* reported once each */
    bool foreign, foreign_reported;/* its code is not the code its name's first process ran */
    s64 pid, first_pid;            /* its pid now (a continued identity follows it) and when first seen */
    u64 task, cr3;                 /* its structure (the key, with pid) and its address space */
    char name[16];                 /* its name then; on Linux its program's (the file exec'd, not comm) */
    u64 code, code_now;            /* hash of its user-executable pages then, and as last hashed */
    u32 pages;
    u64 first_tick, last_tick, code_tick;
};
/* The identity of listed process p, recorded now if vigil has none. */
struct ids_ident *ids_ident(const struct vmi_proc *p);
/* Every listed process gets its identity (identities out of the list for a
 * second are forgotten); returns the one of the listed process that owns
 * address space of_cr3 (0: none asked, or none listed). */
const struct ids_ident *ids_ident_refresh(u64 cr3, u64 of_cr3);
/* Its user code hashes as when it was first seen (hashed at most once a tick). */
bool ids_ident_code_intact(struct ids_ident *id);
/* Hash of the user-executable pages of an address space (at most 64). */
u64 ids_code_hash(u64 cr3, u32 *pages);
/* Address spaces seen through CR3 loads (the hardware's view). */
struct ids_space { u64 cr3, loads, first_tick, last_tick; };
int ids_spaces(const struct ids_space **spaces);

/* What the policies trap. Each subscription is an object here, and its
 * index is the owner number vmm/ hands back in the events the trap raises:
 * ids_event dispatches on it with no second lookup. */
struct ids_object {
    enum policy_id policy;
    const char *what;
    u64 start, len;                /* guest-physical bytes; first port and count; MSR; CR bits */
    u32 arg;                       /* the policy's own number for it (a table, a rule) */
};
#define IDS_MAX_OBJECTS (TRAP_MAX_PAGES + TRAP_MAX_PORTS + TRAP_MAX_MSRS + TRAP_MAX_CRS + 1)   /* + the execute watch */

/* Subscribe policy id to an access (IDS_READ/WRITE/EXEC) of guest-physical
 * [gpa, gpa + len), to ports lo..hi, to writes of an MSR, to changes of CR0
 * or CR4 bits. All or nothing. A subscription that cannot be made is named
 * on the console; before the guest runs vigil then refuses to start it
 * (fail closed), later the vCPU is suspended. */
bool ids_trap_pages(enum policy_id id, u64 gpa, u64 len, u32 access, const char *what, u32 arg);
bool ids_trap_ports(enum policy_id id, u16 lo, u16 hi, const char *what, u32 arg);
bool ids_trap_msr(enum policy_id id, u32 msr, const char *what, u32 arg);
bool ids_trap_cr(enum policy_id id, u8 cr, u64 bits, const char *what);
/* Watch execution outside the known code ranges (guest-physical, whole
 * pages): each fetch elsewhere is an IDS_EV_EPT event of policy id with
 * access IDS_EXEC (one subscription; see vmm_watch_exec). */
bool ids_watch_exec(enum policy_id id, const struct mem_range *known, u32 n, const char *what);
/* The subscription an EPT, I/O, MSR or CR event came through; the one
 * with owner number `owner` (a trap registry entry's). */
const struct ids_object *ids_object_of(const struct ids_event *e);
const struct ids_object *ids_object(u32 owner);
/* Write-protect in EPT the kernel object the profile calls sym and subscribe
 * policy id to writes of it (the whole pages, or exactly the object); its
 * guest-physical place in *gpa, *size; arg as for ids_trap_pages. Warns and
 * returns false when the profile does not place it inside the kernel image
 * or the trap cannot be made. */
bool ids_protect_object(enum policy_id id, const char *sym, const char *what, bool whole_pages, u32 arg,
                        u64 *gpa, u64 *size);

/* The alert log, for the operator's `alerts`. */
const struct alert_log *ids_alert_log(void);

/* Length of the instruction at the event's RIP (0 when unknown). */
u32 ids_insn_len(const struct ids_event *e);

extern const struct policy_ops pol_kernel_text, pol_critical_tables, pol_msr_guard, pol_cr_guard,
    pol_hidden_process, pol_pagetable_audit, pol_io_guard, pol_signature, pol_hypervisor_guard, pol_dma_guard,
    pol_hidden_module, pol_raw_socket;
extern const struct policy_ops pol_program_integrity;

/* hidden-module and raw-socket: their summary lines. */
void hidden_module_summary(void);
void raw_socket_summary(void);

/* dma-guard's backstop: an exit saw a write to the protected frame holding
 * gpa (its next hash is a new reference, not a finding). */
void dma_guard_write_seen(u64 gpa);
void dma_guard_stats(u64 *pages_hashed, u64 *changes);

/* kernel-text: the patch-site counts (Linux), for the summary. */
void kernel_text_summary(void);

/* pagetable-audit: the boot tables were loaded after the boot. */
void pagetable_audit_boot_tables(const struct ids_event *e);
/* pagetable-audit: Linux's kernel half, a slice every tick (vCPU 0's). */
void pagetable_audit_slice(const struct ids_event *e);
/* pagetable-audit: what its audits read, for the summary. */
void pagetable_audit_summary(void);
/* pagetable-audit: is the frame at pa mapped supervisor-executable (outside
 * the kernel's text) by the last audit's leaves? *gva: where. */
bool pagetable_audit_supervisor_exec(u64 pa, u64 *gva);
/* pagetable-audit: findings folded into counts in all, and those whose
 * count no record carries yet (the summary's line). */
void pagetable_audit_folds(u64 *folded, u64 *unsent);
/* kernel-text: an audit found a supervisor-executable mapping (at gva, in
 * cr3) of a page the execute watch granted X for user code. */
void kernel_text_grant_alias(const struct ids_event *e, u64 cr3, u64 gva, u64 page);

/* hidden-module (Linux), for kernel-text's execute watch: the code the
 * kernel owns in the module area now, read fresh from its lists: each
 * range r[i] (a listed module's text, a kprobe instruction page, a BPF
 * program pack) with its owner o[i] (mod 0: the kernel's own). *whole is
 * false when the list could not be read whole (nothing is then known). */
struct mod_range;
struct code_owner { u64 mod; char name[56]; };
bool hidden_module_knows_code(void);
u32 hidden_module_code(struct mod_range *r, struct code_owner *o, u32 max, bool *whole);
/* Is the struct module at mod still the module `name` (formed), with gva
 * in its core or init text? (Code of a module that took itself out of the
 * list.) */
bool hidden_module_still(u64 mod, const char *name, u64 gva);

/* program-integrity: the `program` records of the profile module's text
 * (parsed once, at set-up), and its line in the summary. */
void program_integrity_load(const char *text, size_t len);
void program_integrity_summary(void);

/* The engine's lock (ids.c): console commands take it as events do. */
void ids_lock_take(void);
void ids_lock_drop(void);

#endif
