/* Filling the MTRR state from the MSRs (hardware side of mtrr.c). */
#include "vmm/mtrr.h"
#include "arch/x86_64/cpu.h"
#include "lib/string.h"
#include "vmm/introspect.h"

void mtrr_read(struct mtrr_state *s)
{
    u32 a, b, c, d;
    memset(s, 0, sizeof(*s));
    u32 maxphys = vmm_maxphys();
    s->addr_mask = (maxphys >= 64 ? ~0ull : (1ull << maxphys) - 1);
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(d >> 12 & 1)) {                 /* no MTRRs: everything WB */
        s->enabled = true;
        s->def_type = MT_WB;
        return;
    }
    u64 cap = rdmsr(MSR_IA32_MTRRCAP), def = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
    s->enabled = def >> 11 & 1;
    s->fixed_enabled = (def >> 10 & 1) && (cap >> 8 & 1);
    s->def_type = (u8)(def & 0xff);
    s->nvar = (u32)(cap & 0xff);
    if (s->nvar > MTRR_MAX_VAR)
        s->nvar = MTRR_MAX_VAR;
    for (u32 i = 0; i < s->nvar; i++) {
        s->var[i].base = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i);
        s->var[i].mask = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i + 1);
    }
    if (s->fixed_enabled) {
        static const u32 msrs[11] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
                                      0x26c, 0x26d, 0x26e, 0x26f };
        for (u32 i = 0; i < 11; i++) {
            u64 v = rdmsr(msrs[i]);
            for (u32 j = 0; j < 8; j++)
                s->fixed[i * 8 + j] = (u8)(v >> (8 * j));
        }
    }
}
