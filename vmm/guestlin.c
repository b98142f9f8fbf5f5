/* Guest linear memory, reached through the guest's own paging as the CPU
 * would: none, 32-bit (with 4 MiB pages under CR4.PSE), PAE (through the
 * PDPTEs in the VMCS) or 4-level. Used by instructions vigil emulates
 * (descriptor-table loads and stores, string I/O). */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/guestmem.h"
#include "vmm/introspect.h"
#include "lib/ptwalk.h"

static const void *map(void *ctx, u64 gpa)
{
    (void)ctx;
    return guestmem_map(gpa, 4096);
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

u64 guest_seg_base(u32 seg, bool x64)
{
    static const u64 field[6] = { GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE, GUEST_DS_BASE,
                                  GUEST_FS_BASE, GUEST_GS_BASE };
    return seg < 6 && (!x64 || seg >= 4) ? vmread(field[seg]) : 0;
}

/* Copy to or from guest linear memory, a page at a time. */
bool guest_linear(u64 la, void *buf, u32 len, bool write)
{
    u8 *p = buf;
    bool paging = guest_cr0_visible() >> 31 & 1, lma = vmread(GUEST_IA32_EFER) >> 10 & 1;
    while (len) {
        u64 pa = la;
        if (paging && lma) {
            struct pt_walk w;
            struct pt_paging pg;
            pt_paging_of(guest_cr0_visible(), guest_cr4_visible(), vmread(GUEST_IA32_EFER), vmread(GUEST_CR3),
                         vmm_maxphys(), &pg);
            if (pt_walk(&pg, la, map, 0, &w) != PT_OK)
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

