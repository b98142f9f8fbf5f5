#include "vmm/vmcs_check.h"

#define IA32E_GUEST (1u << 9)

static bool bad(struct vmcs_problem *p, const char *field, u64 value, const char *rule)
{
    p->field = field;
    p->value = value;
    p->rule = rule;
    return true;
}

bool vmcs_check(const struct vmcs_snapshot *s, struct vmcs_problem *p)
{
    u64 cr0 = s->guest_cr0, cr4 = s->guest_cr4, efer = s->guest_efer, rfl = s->guest_rflags;
    bool ia32e = s->entry_ctls & IA32E_GUEST;
    if ((cr0 & s->cr0_fixed0) != s->cr0_fixed0 || (cr0 & ~s->cr0_fixed1))
        return bad(p, "GUEST_CR0", cr0, "violates IA32_VMX_CR0_FIXED0/1");
    if ((cr4 & s->cr4_fixed0) != s->cr4_fixed0 || (cr4 & ~s->cr4_fixed1))
        return bad(p, "GUEST_CR4", cr4, "violates IA32_VMX_CR4_FIXED0/1");
    if ((cr0 & (1ull << 31)) && !(cr0 & 1))
        return bad(p, "GUEST_CR0", cr0, "PG set without PE");
    if (ia32e && (!(cr0 & (1ull << 31)) || !(cr4 & (1u << 5))))
        return bad(p, "GUEST_CR0/CR4", cr0, "IA-32e mode guest needs CR0.PG and CR4.PAE");
    if (!!(efer & (1u << 10)) != ia32e || (ia32e && !(efer & (1u << 8))))
        return bad(p, "GUEST_IA32_EFER", efer, "LMA must equal the IA-32e mode guest control (and LME be set)");
    if (!(rfl & 2) || (rfl & 0xffffffffffc08028ull))
        return bad(p, "GUEST_RFLAGS", rfl, "reserved bits (bit 1 must be 1)");
    if (s->link_pointer != ~0ull)
        return bad(p, "VMCS_LINK_POINTER", s->link_pointer, "must be all ones without VMCS shadowing");
    if ((s->tr_ar & 0x1000f) != 0xb && (s->tr_ar & 0x1000f) != 0x3)
        return bad(p, "GUEST_TR_AR", s->tr_ar, "TR must be a usable busy TSS");
    if (s->activity > 3)
        return bad(p, "GUEST_ACTIVITY_STATE", s->activity, "not a defined state");
    if (!ia32e && (s->guest_rip >> 32))
        return bad(p, "GUEST_RIP", s->guest_rip, "bits 63:32 must be 0 outside IA-32e mode");
    if (!(s->host_cr4 & (1u << 13)))
        return bad(p, "HOST_CR4", s->host_cr4, "VMXE must be set");
    return false;
}
