/* msr-guard: the MSRs that steer system calls (LSTAR, STAR, CSTAR,
 * SYSENTER_CS/ESP/EIP) keep the value the kernel first gave them -- for
 * LSTAR, the profile's `syscall_entry` when it names one -- and EFER never
 * loses NXE, SCE or LME once set. A write that breaks this is a hook being
 * installed (or protection being turned off). Rewriting the same value, or
 * restoring the locked one, is fine. SYSENTER_ESP is each CPU's own (Linux
 * points it at that CPU's entry stack): it is locked per vCPU, from the
 * first value after the vCPU first starts. A vCPU the guest starts again
 * (an INIT-SIPI after it ran) keeps its lock: the same kernel onlining the
 * same CPU writes the same value, and a rootkit that restarts a CPU into
 * code of its own cannot choose a new one. */
#include "ids/engine.h"
#include "lib/string.h"

#define NWATCH 7
static const struct { u32 msr; const char *name; } watched[NWATCH] = {
    { 0xc0000080, "EFER" }, { 0xc0000081, "STAR" }, { 0xc0000082, "LSTAR" }, { 0xc0000083, "CSTAR" },
    { 0x174, "SYSENTER_CS" }, { 0x175, "SYSENTER_ESP" }, { 0x176, "SYSENTER_EIP" },
};
#define PER_CPU 5                               /* SYSENTER_ESP: each CPU's own entry stack */
static u64 locked[NWATCH];
static bool is_locked[NWATCH];
static u64 cpu_locked[IDS_MAX_VCPUS];           /* PER_CPU's, for each vCPU */
static bool cpu_is_locked[IDS_MAX_VCPUS];

static void start(void)
{
    for (u32 i = 0; i < NWATCH; i++)
        ids_trap_msr(POL_MSR_GUARD, watched[i].msr, watched[i].name, i);
    u64 entry;
    if (ids.have_profile && profile_symbol(&ids.prof, "syscall_entry", &entry, 0)) {
        locked[2] = entry;
        is_locked[2] = true;
    }
}

static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    u32 i = ids_object_of(e)->arg;
    if (i >= NWATCH || e->msr.value == e->msr.old)
        return v;
    if (i == 0) {                                   /* EFER: bits may be set, never dropped */
        u64 dropped = e->msr.old & ~e->msr.value & ((1ull << 0) | (1ull << 8) | (1ull << 11));
        if (!dropped)
            return v;
        char bits[16] = "";
        const char *names[3] = { dropped & 1 ? "SCE" : 0, dropped & 0x100 ? "LME" : 0, dropped & 0x800 ? "NXE" : 0 };
        for (int k = 0; k < 3; k++)
            if (names[k]) {
                if (bits[0])
                    str_copy(bits + strlen(bits), " ", sizeof(bits) - strlen(bits));
                str_copy(bits + strlen(bits), names[k], sizeof(bits) - strlen(bits));
            }
        return ids_raise(POL_MSR_GUARD, e, e->msr.msr, 0, 0, "WRMSR EFER 0x%llx -> 0x%llx clears %s",
                         (unsigned long long)e->msr.old, (unsigned long long)e->msr.value, bits);
    }
    /* The others hold the same value on every CPU: the first CPU's locks
     * them for all. */
    bool per_cpu = i == PER_CPU && e->vcpu < IDS_MAX_VCPUS;
    u64 *lk = per_cpu ? &cpu_locked[e->vcpu] : &locked[i];
    bool *is = per_cpu ? &cpu_is_locked[e->vcpu] : &is_locked[i];
    if (!*is) {
        if (e->msr.value) {                         /* the kernel's first value: trusted */
            *lk = e->msr.value;
            *is = true;
        }
        return v;
    }
    if (e->msr.value == *lk)
        return v;
    return ids_raise(POL_MSR_GUARD, e, e->msr.msr, 0, 0, "WRMSR %s 0x%llx -> 0x%llx (the kernel set 0x%llx)",
                     watched[i].name, (unsigned long long)e->msr.old, (unsigned long long)e->msr.value,
                     (unsigned long long)*lk);
}

const struct policy_ops pol_msr_guard = { .id = POL_MSR_GUARD, .start = start, .event = event };
