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
static struct { u64 cr3, first_tick, misses; bool reported; } suspects[MAX_SUSPECTS];
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

static struct ids_verdict check(const struct ids_event *e, u64 cr3)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    cr3 &= PT_ADDR_MASK;
    if (!ids.boot_done || !vmi_have_procs() || cr3 == ids.kernel_cr3 || cr3 == ids.first_cr3)
        return v;
    int slot = -1;
    for (int i = 0; nsuspects && i < MAX_SUSPECTS; i++)
        if (suspects[i].cr3 == cr3) {
            slot = i;
            break;
        }
    if (listed(cr3, cr3)) {
        /* Listed now: whatever was suspected of this CR3 is cleared (page-
         * table roots are reused, and a spawn can race a snapshot). */
        if (slot >= 0) {
            suspects[slot].cr3 = 0;
            nsuspects--;
        }
        return v;
    }
    if (slot < 0) {
        for (int i = 0; i < MAX_SUSPECTS && slot < 0; i++)
            if (!suspects[i].cr3)
                slot = i;
        if (slot < 0)
            slot = (int)(cr3 >> 12) % MAX_SUSPECTS;
        else
            nsuspects++;
        suspects[slot].cr3 = cr3;
        suspects[slot].first_tick = ids.ticks;
        suspects[slot].misses = 0;
        suspects[slot].reported = false;
    }
    suspects[slot].misses++;
    if (suspects[slot].reported || ids.ticks == suspects[slot].first_tick)
        return v;
    suspects[slot].reported = true;
    struct ids_event h = *e;
    h.cr3 = cr3;                                     /* the alert is about the hidden process */
    s64 pid;
    char name[16];
    ids_proc_of(cr3, &pid, name);
    if (pid >= 0)
        return ids_raise(POL_HIDDEN_PROCESS, &h, cr3, 0, &cr3,
                         "address space runs but no process in the list has it: hidden process pid %lld \"%s\"",
                         (long long)pid, name);
    return ids_raise(POL_HIDDEN_PROCESS, &h, cr3, 0, &cr3,
                     "address space runs but no process in the list has it: hidden process (no name known)");
}

static struct ids_verdict event(const struct ids_event *e) { return check(e, e->load.new_cr3); }

static void tick(const struct ids_event *e) { check(e, e->cr3); }

const struct policy_ops pol_hidden_process = { .id = POL_HIDDEN_PROCESS, .event = event, .tick = tick };
