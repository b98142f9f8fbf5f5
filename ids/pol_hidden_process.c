/* hidden-process: Livewire's lie detector. The hardware's view is the set
 * of address spaces the CPU actually loads (CR3 loads); the OS's view is its
 * process list, read through the profile. An address space that runs with
 * no process in the list behind it is a hidden process (DKOM: unlinked from
 * the list but still scheduled). To keep spawn and exit races quiet, it is
 * reported only after it was found missing from list snapshots taken in two
 * different ticks, and never listed in between. It is named by what can be
 * learned of it: the process pool still holds its pid and name. */
#include "ids/engine.h"

#define MAX_SUSPECTS 16
#define SUSPECT_EXPIRY 100                  /* ticks (1 s) unseen: a suspect is forgotten */

/* Address spaces seen running while missing from the list. A suspect is
 * tied to the process the pool names for it: a reused page-table root with
 * another process behind it is a new suspect, reported anew. */
static struct {
    bool used, reported;
    u64 cr3, first_tick, last_tick, misses;
    s64 pid;
} suspects[MAX_SUSPECTS];
static u32 nsuspects;                       /* slots in use: the CR3 path skips the table when 0 */

static bool listed(u64 cr3, u64 view_cr3)
{
    const struct vmi_proc *p;
    int n = ids_procs(view_cr3, &p);
    if (n < 0)
        return true;                                /* no OS view: no verdict */
    for (int i = 0; i < n; i++)
        if (p[i].cr3 == cr3)
            return true;
    return false;
}

static void forget(int i)
{
    suspects[i].used = false;
    nsuspects--;
}

static int find(u64 cr3)
{
    for (int i = 0; nsuspects && i < MAX_SUSPECTS; i++)
        if (suspects[i].used && suspects[i].cr3 == cr3)
            return i;
    return -1;
}

static struct ids_verdict check(const struct ids_event *e, u64 cr3)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    cr3 &= PT_ADDR_MASK;
    if (!ids.boot_done || !vmi_have_procs() || cr3 == ids.kernel_cr3 || cr3 == ids.first_cr3)
        return v;
    int slot = find(cr3);
    if (listed(cr3, cr3)) {
        /* Listed now: whatever was suspected of this CR3 is cleared (page-
         * table roots are reused, and a spawn can race a snapshot). */
        if (slot >= 0)
            forget(slot);
        return v;
    }
    s64 pid;
    char name[16];
    ids_proc_of(cr3, &pid, name);
    if (slot >= 0 && (suspects[slot].pid != pid || ids.ticks - suspects[slot].last_tick > SUSPECT_EXPIRY))
        forget(slot), slot = -1;                     /* another process, or long gone: start over */
    if (slot < 0) {
        for (int i = 0; i < MAX_SUSPECTS && slot < 0; i++)
            if (!suspects[i].used)
                slot = i;
        if (slot < 0) {
            slot = 0;                                /* full: replace the one seen longest ago */
            for (int i = 1; i < MAX_SUSPECTS; i++)
                if (suspects[i].last_tick < suspects[slot].last_tick)
                    slot = i;
        } else {
            nsuspects++;
        }
        suspects[slot].used = true;
        suspects[slot].reported = false;
        suspects[slot].cr3 = cr3;
        suspects[slot].pid = pid;
        suspects[slot].first_tick = ids.ticks;
        suspects[slot].misses = 0;
    }
    suspects[slot].misses++;
    suspects[slot].last_tick = ids.ticks;
    if (suspects[slot].reported || ids.ticks == suspects[slot].first_tick)
        return v;
    suspects[slot].reported = true;
    struct ids_event h = *e;
    h.cr3 = cr3;                                     /* the alert is about the hidden process */
    if (pid >= 0)
        return ids_raise(POL_HIDDEN_PROCESS, &h, cr3, 0, &cr3,
                         "address space runs but no process in the list has it: hidden process pid %lld \"%s\"",
                         (long long)pid, name);
    return ids_raise(POL_HIDDEN_PROCESS, &h, cr3, 0, &cr3,
                     "address space runs but no process in the list has it: hidden process (no name known)");
}

static struct ids_verdict event(const struct ids_event *e) { return check(e, e->load.new_cr3); }

static void tick(const struct ids_event *e)
{
    check(e, e->cr3);
    for (int i = 0; nsuspects && i < MAX_SUSPECTS; i++)       /* suspects not seen for a while */
        if (suspects[i].used && ids.ticks - suspects[i].last_tick > SUSPECT_EXPIRY)
            forget(i);
}

const struct policy_ops pol_hidden_process = { .id = POL_HIDDEN_PROCESS, .event = event, .tick = tick };
