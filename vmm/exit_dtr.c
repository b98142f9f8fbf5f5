/* Descriptor-table exits (reasons 46 and 47): with descriptor-table exiting
 * on, LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT and STR all exit, so vigil
 * emulates each; LIDT and LGDT are reported to the IDS before they take
 * effect. Operands come from the VM-exit instruction-information field
 * (SDM Vol. 3, 28.2.5, Tables 28-10 and 28-11). Guest memory is reached
 * through the guest's own paging (none, 32-bit, PAE or 4-level), checked as
 * the CPU checks it (guest_access): a store into a read-only page faults
 * with the same #PF, and one into a trapped frame gets the IDS's verdict. */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/guestmem.h"
#include "vmm/introspect.h"
#include "lib/string.h"

static u64 operand_address(struct vcpu *v, u32 info)
{
    u64 disp = vmread(EXIT_QUALIFICATION), a = disp;
    u32 asz = info >> 7 & 7, seg = info >> 15 & 7;
    if (!(info >> 27 & 1))
        a += guest_gpr(v, info >> 23 & 15);
    if (!(info >> 22 & 1))
        a += guest_gpr(v, info >> 18 & 15) << (info & 3);
    /* The offset wraps at the address size; the segment base is added to
     * the wrapped offset (a real-mode trampoline's DS base is above 64 KiB). */
    a = asz == 0 ? a & 0xffff : asz == 1 ? a & 0xffffffff : a;
    bool x64 = vmread(GUEST_CS_AR) >> 13 & 1;
    a += guest_seg_base(seg, x64);
    return x64 ? a : a & 0xffffffff;
}

/* LGDT/LIDT outside 64-bit mode: is the operand size 32 bits? The
 * instruction-information field says so in bit 11 (SDM Vol. 3, Table
 * 28-10), but Bochs 2.7 leaves bits 14:11 zero, which would cut a 32-bit
 * base (Linux's startup_32 GDT at its load address) to 24 bits. So the
 * instruction's own bytes decide: CS.D, flipped by a 0x66 prefix. */
static bool lxdt_op32(struct vcpu *v, u32 info, bool *op32, enum exit_action *act)
{
    *op32 = true;
    if (info >> 11 & 1)
        return true;
    bool d = vmread(GUEST_CS_AR) >> 14 & 1, o16 = false;
    u8 b[15];
    u32 len = (u32)vmread(VM_EXIT_INSTRUCTION_LEN);
    if (len > sizeof(b))
        len = sizeof(b);
    if (!guest_access(v, (u32)(vmread(GUEST_CS_BASE) + vmread(GUEST_RIP)), b, len, 0, act))
        return false;                                /* the fault the fetch would have raised */
    for (u32 i = 0; i < len; i++) {
        u8 c = b[i];
        if (c == 0x66)
            o16 = true;
        else if (!(c == 0x67 || c == 0xf0 || c == 0xf2 || c == 0xf3 || c == 0x2e || c == 0x36 || c == 0x3e ||
                   c == 0x26 || c == 0x64 || c == 0x65))
            break;
    }
    *op32 = d != o16;
    return true;
}

static enum exit_action fault(void)
{
    vcpu_inject_gp();
    return EXIT_RESUME;
}

enum exit_action exit_gdtr_idtr(struct vcpu *v)
{
    u32 info = (u32)vmread(VMX_INSTRUCTION_INFO), id = info >> 28 & 3;
    bool idt = id & 1, load = id & 2, x64 = vmread(GUEST_CS_AR) >> 13 & 1;
    u64 la = operand_address(v, info);
    u32 len = x64 ? 10 : 6;
    u8 m[10] = { 0 };
    if (load) {
        if (vmread(GUEST_SS_AR) >> 5 & 3)
            return fault();                          /* CPL > 0 */
        enum exit_action act;
        if (!guest_access(v, la, m, len, 0, &act))
            return act;
        u16 limit;
        u64 base = 0;
        memcpy(&limit, m, 2);
        memcpy(&base, m + 2, x64 ? 8 : 4);
        bool op32 = true;
        if (!x64 && !lxdt_op32(v, info, &op32, &act))
            return act;
        if (!op32)
            base &= 0xffffff;                        /* 16-bit operand size */
        struct ids_event e;
        vmm_fill_event(&e, IDS_EV_DTR_LOAD);
        e.dtr.idt = idt;
        e.dtr.base = base;
        e.dtr.limit = limit;
        struct ids_verdict verdict = ids_event(&e);
        if (verdict.action != IDS_ALLOW)
            return vmm_verdict_suspend(v, verdict, EXIT_ADVANCE);   /* the register keeps its table */
        vmwrite(idt ? GUEST_IDTR_BASE : GUEST_GDTR_BASE, base);
        vmwrite(idt ? GUEST_IDTR_LIMIT : GUEST_GDTR_LIMIT, limit);
        return EXIT_ADVANCE;
    }
    u16 limit = (u16)vmread(idt ? GUEST_IDTR_LIMIT : GUEST_GDTR_LIMIT);
    u64 base = vmread(idt ? GUEST_IDTR_BASE : GUEST_GDTR_BASE);
    memcpy(m, &limit, 2);
    memcpy(m + 2, &base, x64 ? 8 : 4);
    enum exit_action act;
    if (!guest_access(v, la, m, len, GA_WRITE, &act))
        return act;
    return EXIT_ADVANCE;
}

/* Load LDTR or TR from the GDT (SDM 3.5, 7.2.3): the descriptor must be of
 * the right type and present; LTR marks the TSS busy. */
static enum exit_action load_system_seg(struct vcpu *v, u16 sel, bool tr)
{
    enum exit_action act;
    bool x64 = vmread(GUEST_IA32_EFER) >> 10 & 1;
    if (!(sel & ~3)) {
        if (tr)
            return fault();                          /* LTR with a null selector: #GP */
        vmwrite(GUEST_LDTR_SEL, sel);
        vmwrite(GUEST_LDTR_AR, 0x10000);             /* unusable */
        return EXIT_ADVANCE;
    }
    if (sel & 4)
        return fault();                              /* must come from the GDT */
    u64 gdt = vmread(GUEST_GDTR_BASE), off = sel & ~7u, dlen = x64 ? 16 : 8;
    if (off + dlen - 1 > vmread(GUEST_GDTR_LIMIT))
        return fault();
    u64 d[2] = { 0, 0 };
    if (!guest_access(v, gdt + off, d, (u32)dlen, GA_IMPLICIT, &act))
        return act;
    u32 type = (u32)(d[0] >> 40 & 0xf), s = d[0] >> 44 & 1, p = d[0] >> 47 & 1;
    if (s || !p || (tr ? (type != 9 && type != 1) : type != 2))
        return fault();
    u64 base = (d[0] >> 16 & 0xffffff) | (d[0] >> 56 & 0xff) << 24 | (x64 ? (d[1] & 0xffffffff) << 32 : 0);
    u32 limit = (u32)((d[0] & 0xffff) | (d[0] >> 48 & 0xf) << 16);
    if (d[0] >> 55 & 1)
        limit = limit << 12 | 0xfff;
    u32 ar = (u32)(d[0] >> 40 & 0xf0ff);
    if (tr) {
        d[0] |= 2ull << 40;                          /* busy */
        if (!guest_access(v, gdt + off, d, 8, GA_WRITE | GA_IMPLICIT, &act))
            return act;
        ar |= 2;
    }
    vmwrite(tr ? GUEST_TR_SEL : GUEST_LDTR_SEL, sel);
    vmwrite(tr ? GUEST_TR_BASE : GUEST_LDTR_BASE, base);
    vmwrite(tr ? GUEST_TR_LIMIT : GUEST_LDTR_LIMIT, limit);
    vmwrite(tr ? GUEST_TR_AR : GUEST_LDTR_AR, ar);
    return EXIT_ADVANCE;
}

enum exit_action exit_ldtr_tr(struct vcpu *v)
{
    u32 info = (u32)vmread(VMX_INSTRUCTION_INFO), id = info >> 28 & 3;
    bool reg = info >> 10 & 1, tr = id & 1, load = id & 2;
    u32 r1 = info >> 3 & 15;
    if (load) {
        if (vmread(GUEST_SS_AR) >> 5 & 3)
            return fault();
        u16 sel;
        enum exit_action act;
        if (reg)
            sel = (u16)guest_gpr(v, r1);
        else if (!guest_access(v, operand_address(v, info), &sel, 2, 0, &act))
            return act;
        return load_system_seg(v, sel, tr);
    }
    u16 sel = (u16)vmread(tr ? GUEST_TR_SEL : GUEST_LDTR_SEL);
    enum exit_action act;
    if (reg)
        guest_set_gpr(v, r1, sel);                   /* zero-extended into the register */
    else if (!guest_access(v, operand_address(v, info), &sel, 2, GA_WRITE, &act))
        return act;
    return EXIT_ADVANCE;
}
