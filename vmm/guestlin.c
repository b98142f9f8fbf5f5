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

/* The guest's paging now: false when paging is off. Outside long mode the
 * PDPTEs are the CPU's registers, which the VMCS holds. */
static bool guest_paging(struct pt_paging *pg)
{
    if (!pt_paging_of(guest_cr0_visible(), guest_cr4_visible(), vmread(GUEST_IA32_EFER), vmread(GUEST_CR3),
                      vmm_maxphys(), pg))
        return false;
    if (pg->mode == PT_MODE_PAE)
        for (u32 i = 0; i < 4; i++)
            pg->pdpte[i] = vmread(GUEST_PDPTE0 + 2 * i);
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
    struct pt_paging pg;
    bool paging = guest_paging(&pg);
    while (len) {
        u64 pa = la;
        if (paging) {
            struct pt_walk w;
            /* Outside long mode, linear addresses are 32-bit. */
            if (pt_walk(&pg, pg.mode == PT_MODE_4LEVEL ? la : (u32)la, map, 0, &w) != PT_OK)
                return false;
            pa = w.gpa;
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

