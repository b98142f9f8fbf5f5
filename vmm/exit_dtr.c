/* Descriptor-table exits (reasons 46 and 47): with descriptor-table exiting
 * on, LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT and STR all exit, so vigil
 * emulates each; LIDT and LGDT are reported to the IDS before they take
 * effect. Operands come from the VM-exit instruction-information field
 * (SDM Vol. 3, 28.2.5, Tables 28-10 and 28-11). Guest memory is reached
 * through the guest's own paging (none, 32-bit, PAE or 4-level); an operand
 * that does not translate gets #GP. */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/guestmem.h"
#include "ids/ptwalk.h"
#include "vmm/introspect.h"
#include "lib/string.h"

static bool rd8(void *ctx, u64 gpa, u64 *v)
{
    (void)ctx;
    return guestmem_read(gpa, v, 8);
}

/* Paging outside long mode (SDM 4.3 and 4.4): 32-bit paging with 4 MiB
 * pages under CR4.PSE, or PAE paging through the PDPTEs the VMCS holds. */
static bool legacy_walk(u64 la, u64 *pa)
{
    u64 cr4 = guest_cr4_visible(), cr3 = vmread(GUEST_CR3), e;
    la &= 0xffffffff;
    if (cr4 & (1u << 5)) {                                  /* PAE */
        u64 pdpte = vmread(GUEST_PDPTE0 + 2 * (la >> 30));
        if (!(pdpte & 1) || !guestmem_read((pdpte & 0xffffffffff000ull) + (la >> 21 & 511) * 8, &e, 8) ||
            !(e & 1))
            return false;
        if (e & 0x80) {
            *pa = (e & 0xfffffffe00000ull) | (la & 0x1fffff);
            return true;
        }
        if (!guestmem_read((e & 0xffffffffff000ull) + (la >> 12 & 511) * 8, &e, 8) || !(e & 1))
            return false;
        *pa = (e & 0xffffffffff000ull) | (la & 0xfff);
        return true;
    }
    u32 d, t;                                               /* 32-bit paging */
    if (!guestmem_read((cr3 & 0xfffff000) + (la >> 22) * 4, &d, 4) || !(d & 1))
        return false;
    if ((d & 0x80) && (cr4 & (1u << 4))) {
        *pa = (d & 0xffc00000) | (u64)(d >> 13 & 0xff) << 32 | (la & 0x3fffff);
        return true;
    }
    if (!guestmem_read((d & 0xfffff000) + (la >> 12 & 1023) * 4, &t, 4) || !(t & 1))
        return false;
    *pa = (t & 0xfffff000) | (la & 0xfff);
    return true;
}

/* Copy to or from guest linear memory, a page at a time. */
static bool linear(u64 la, void *buf, u32 len, bool write)
{
    u8 *p = buf;
    bool paging = guest_cr0_visible() >> 31 & 1, lma = vmread(GUEST_IA32_EFER) >> 10 & 1;
    while (len) {
        u64 pa = la;
        if (paging && lma) {
            struct pt_walk w;
            if (pt_walk(vmread(GUEST_CR3), la, vmm_maxphys(), rd8, 0, &w) != PT_OK)
                return false;
            pa = w.gpa;
        } else if (paging && !legacy_walk(la, &pa)) {
            return false;
        }
        u32 n = 4096 - (u32)(la & 0xfff);
        if (n > len)
            n = len;
        if (!(write ? guestmem_write(pa, p, n) : guestmem_read(pa, p, n)))
            return false;
        p += n;
        la += n;
        len -= n;
    }
    return true;
}

static const u64 seg_base_field[6] = { GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE, GUEST_DS_BASE,
                                       GUEST_FS_BASE, GUEST_GS_BASE };

static u64 operand_address(struct vcpu *v, u32 info)
{
    u64 disp = vmread(EXIT_QUALIFICATION), a = disp;
    u32 asz = info >> 7 & 7, seg = info >> 15 & 7;
    if (!(info >> 27 & 1))
        a += guest_gpr(v, info >> 23 & 15);
    if (!(info >> 22 & 1))
        a += guest_gpr(v, info >> 18 & 15) << (info & 3);
    bool x64 = vmread(GUEST_CS_AR) >> 13 & 1;
    if (seg < 6 && (!x64 || seg >= 4))
        a += vmread(seg_base_field[seg]);
    return asz == 0 ? a & 0xffff : asz == 1 ? a & 0xffffffff : a;
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
        if (!linear(la, m, len, false))
            return fault();
        u16 limit;
        u64 base = 0;
        memcpy(&limit, m, 2);
        memcpy(&base, m + 2, x64 ? 8 : 4);
        if (!x64 && !(info >> 11 & 1))
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
    if (!linear(la, m, len, true))
        return fault();
    return EXIT_ADVANCE;
}

/* Load LDTR or TR from the GDT (SDM 3.5, 7.2.3): the descriptor must be of
 * the right type and present; LTR marks the TSS busy. */
static bool load_system_seg(u16 sel, bool tr)
{
    bool x64 = vmread(GUEST_IA32_EFER) >> 10 & 1;
    if (!(sel & ~3)) {
        if (tr)
            return false;                            /* LTR with a null selector: #GP */
        vmwrite(GUEST_LDTR_SEL, sel);
        vmwrite(GUEST_LDTR_AR, 0x10000);             /* unusable */
        return true;
    }
    if (sel & 4)
        return false;                                /* must come from the GDT */
    u64 gdt = vmread(GUEST_GDTR_BASE), off = sel & ~7u, dlen = x64 ? 16 : 8;
    if (off + dlen - 1 > vmread(GUEST_GDTR_LIMIT))
        return false;
    u64 d[2] = { 0, 0 };
    if (!linear(gdt + off, d, (u32)dlen, false))
        return false;
    u32 type = (u32)(d[0] >> 40 & 0xf), s = d[0] >> 44 & 1, p = d[0] >> 47 & 1;
    if (s || !p || (tr ? (type != 9 && type != 1) : type != 2))
        return false;
    u64 base = (d[0] >> 16 & 0xffffff) | (d[0] >> 56 & 0xff) << 24 | (x64 ? (d[1] & 0xffffffff) << 32 : 0);
    u32 limit = (u32)((d[0] & 0xffff) | (d[0] >> 48 & 0xf) << 16);
    if (d[0] >> 55 & 1)
        limit = limit << 12 | 0xfff;
    u32 ar = (u32)(d[0] >> 40 & 0xf0ff);
    if (tr) {
        d[0] |= 2ull << 40;                          /* busy */
        if (!linear(gdt + off, d, 8, true))
            return false;
        ar |= 2;
    }
    vmwrite(tr ? GUEST_TR_SEL : GUEST_LDTR_SEL, sel);
    vmwrite(tr ? GUEST_TR_BASE : GUEST_LDTR_BASE, base);
    vmwrite(tr ? GUEST_TR_LIMIT : GUEST_LDTR_LIMIT, limit);
    vmwrite(tr ? GUEST_TR_AR : GUEST_LDTR_AR, ar);
    return true;
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
        if (reg)
            sel = (u16)guest_gpr(v, r1);
        else if (!linear(operand_address(v, info), &sel, 2, false))
            return fault();
        return load_system_seg(sel, tr) ? EXIT_ADVANCE : fault();
    }
    u16 sel = (u16)vmread(tr ? GUEST_TR_SEL : GUEST_LDTR_SEL);
    if (reg)
        guest_set_gpr(v, r1, sel);                   /* zero-extended into the register */
    else if (!linear(operand_address(v, info), &sel, 2, true))
        return fault();
    return EXIT_ADVANCE;
}
