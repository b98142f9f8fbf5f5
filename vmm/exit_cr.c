/* Control-register accesses (exit reason 28; qualification in SDM Vol. 3,
 * Table 28-3). vigil owns the CR0/CR4 bits in the guest/host masks, so every
 * guest change of them lands here: it is validated as the CPU would, the
 * fixed bits are kept in the real register, and the guest sees its own value
 * through the read shadow. CR3 loads exit too (CR3-load exiting). */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/guestmem.h"
#include "vmm/introspect.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/ptwalk.h"

#define CR0_PE (1ull << 0)
#define CR0_TS (1ull << 3)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_VMXE (1ull << 13)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static u64 maxphys_mask(void) { return (1ull << vmm_maxphys()) - 1; }

static void flush_guest_tlb(struct vcpu *v, bool keep_global)
{
    if (v->vpid)
        invvpid(keep_global ? INVVPID_SINGLE_KEEP_GLOBAL : INVVPID_SINGLE, v->vpid, 0);
}

u64 guest_cr0_visible(void)
{
    u64 mask = vmread(CR0_GUEST_HOST_MASK);
    return (vmread(GUEST_CR0) & ~mask) | (vmread(CR0_READ_SHADOW) & mask);
}

u64 guest_cr4_visible(void)
{
    u64 mask = vmread(CR4_GUEST_HOST_MASK);
    return (vmread(GUEST_CR4) & ~mask) | (vmread(CR4_READ_SHADOW) & mask);
}

/* PAE paging outside long mode takes its PDPTEs from the VMCS, which the
 * VMM must load whenever the CPU would (SDM 4.4.1, 26.3.1.6). */
static bool load_pdptes(u64 cr3)
{
    u64 pdpte[4];
    if (!guestmem_read(cr3 & PT_PDPT_MASK, pdpte, sizeof(pdpte)))
        return false;
    for (int i = 0; i < 4; i++)
        if (!pt_pdpte_valid(pdpte[i], vmm_maxphys()))
            return false;                           /* reserved bits: #GP */
    for (int i = 0; i < 4; i++)
        vmwrite(GUEST_PDPTE0 + 2 * i, pdpte[i]);
    return true;
}

static bool pae_legacy_paging(u64 cr0, u64 cr4, u64 efer)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA);
}

/* Each subscription to a bit the write changes judges it before it takes
 * effect; a refused write is skipped whole (the register keeps its value). */
static bool ids_refuses(struct vcpu *v, u8 cr, u64 old, u64 val, enum exit_action *act)
{
    const struct traps *t = vmm_traps();
    for (int i = trap_cr_next(t, cr, old ^ val, 0); i >= 0; i = trap_cr_next(t, cr, old ^ val, i + 1)) {
        struct ids_event e;
        vmm_fill_event(&e, IDS_EV_CR_WRITE);
        e.owner = t->cr[i].owner;
        e.cr.cr = cr;
        e.cr.old = old;
        e.cr.value = val;
        struct ids_verdict verdict = ids_event(&e);
        if (verdict.action != IDS_ALLOW) {
            *act = vmm_verdict_suspend(v, verdict, EXIT_ADVANCE);
            return true;
        }
    }
    return false;
}

static enum exit_action emulate_cr0(struct vcpu *v, u64 val)
{
    u64 old = guest_cr0_visible(), efer = vmread(GUEST_IA32_EFER), cr4 = guest_cr4_visible();
    if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD))) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    enum exit_action act;
    if (ids_refuses(v, 0, old, val, &act))
        return act;
    u32 entry = (u32)vmread(VM_ENTRY_CTLS);
    if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
        if (!(cr4 & CR4_PAE)) {
            vcpu_inject_gp();
            return EXIT_RESUME;
        }
        efer |= EFER_LMA;                           /* entering IA-32e mode (SDM 10.8.5) */
        entry |= 1u << 9;
    } else if (!(val & CR0_PG) && (old & CR0_PG) && (efer & EFER_LMA)) {
        efer &= ~EFER_LMA;
        entry &= ~(1u << 9);
    }
    if (pae_legacy_paging(val, cr4, efer) && !(pae_legacy_paging(old, cr4, efer)) &&
        !load_pdptes(vmread(GUEST_CR3))) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    vmwrite(GUEST_IA32_EFER, efer);
    vmwrite(VM_ENTRY_CTLS, entry);
    vmwrite(GUEST_CR0, (val | v->cr0_fixed0) & v->cr0_fixed1);
    vmwrite(CR0_READ_SHADOW, val);
    flush_guest_tlb(v, false);
    return EXIT_ADVANCE;
}

static enum exit_action emulate_cr4(struct vcpu *v, u64 val)
{
    u64 old = guest_cr4_visible(), cr0 = guest_cr0_visible(), efer = vmread(GUEST_IA32_EFER);
    /* VMXE is refused as on a CPU without VMX; unsupported bits likewise. */
    if ((val & CR4_VMXE) || (val & ~v->cr4_fixed1) || ((efer & EFER_LMA) && !(val & CR4_PAE)) ||
        ((val & CR4_PCIDE) && !(old & CR4_PCIDE) && (!(efer & EFER_LMA) || (vmread(GUEST_CR3) & 0xfff)))) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    enum exit_action act;
    if (ids_refuses(v, 4, old, val, &act))
        return act;
    if (pae_legacy_paging(cr0, val, efer) && ((val ^ old) & (CR4_PAE | CR4_PGE | CR4_PSE)) &&
        !load_pdptes(vmread(GUEST_CR3))) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    vmwrite(GUEST_CR4, (val | v->cr4_fixed0) & v->cr4_fixed1);
    vmwrite(CR4_READ_SHADOW, val);
    flush_guest_tlb(v, false);
    return EXIT_ADVANCE;
}

static enum exit_action emulate_cr3(struct vcpu *v, u64 val)
{
    u64 cr4 = guest_cr4_visible();
    bool noflush = (cr4 & CR4_PCIDE) && (val >> 63);
    val &= ~(1ull << 63);
    if (val & ~maxphys_mask()) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    if (pae_legacy_paging(guest_cr0_visible(), cr4, vmread(GUEST_IA32_EFER)) && !load_pdptes(val)) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    struct ids_event e;
    vmm_fill_event(&e, IDS_EV_CR3_LOAD);
    e.load.new_cr3 = val;
    struct ids_verdict verdict = ids_event(&e);
    vmwrite(GUEST_CR3, val);
    if (!noflush)
        flush_guest_tlb(v, true);
    return vmm_verdict_suspend(v, verdict, EXIT_ADVANCE);   /* a CR3 load itself is never refused */
}

enum exit_action exit_cr_access(struct vcpu *v)
{
    u64 q = vmread(EXIT_QUALIFICATION);
    u32 cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
    switch (type) {
    case 0: {                                        /* MOV to CR */
        u64 val = guest_gpr(v, gpr);
        if (!(vmread(GUEST_IA32_EFER) & EFER_LMA))
            val = (u32)val;                          /* outside long mode the operand is 32-bit */
        if (cr == 0)
            return emulate_cr0(v, val);
        if (cr == 3)
            return emulate_cr3(v, val);
        if (cr == 4)
            return emulate_cr4(v, val);
        if (cr == 8) {
            __asm__ volatile("mov %0, %%cr8" :: "r"(val & 15));
            return EXIT_ADVANCE;
        }
        break;
    }
    case 1:                                          /* MOV from CR */
        if (cr == 3) {
            guest_set_gpr(v, gpr, vmread(GUEST_CR3));
            return EXIT_ADVANCE;
        }
        if (cr == 8) {
            u64 tpr;
            __asm__ volatile("mov %%cr8, %0" : "=r"(tpr));
            guest_set_gpr(v, gpr, tpr);
            return EXIT_ADVANCE;
        }
        break;
    case 2:                                          /* CLTS */
        vmwrite(GUEST_CR0, vmread(GUEST_CR0) & ~CR0_TS);
        vmwrite(CR0_READ_SHADOW, vmread(CR0_READ_SHADOW) & ~CR0_TS);
        return EXIT_ADVANCE;
    case 3: {                                        /* LMSW: sets PE/MP/EM/TS, never clears PE */
        u64 src = (q >> 16) & 0xf, old = guest_cr0_visible();
        return emulate_cr0(v, (old & ~0xeull) | src | (old & CR0_PE));
    }
    }
    kprintf("vigil: unhandled control-register access (qualification 0x%llx)\n", (unsigned long long)q);
    vcpu_inject_ud();
    return EXIT_RESUME;
}
