/* Guest linear memory, reached through the guest's own paging as the CPU
 * would: none, 32-bit (with 4 MiB pages under CR4.PSE), PAE (through the
 * PDPTEs in the VMCS) or 4-level. Used by instructions vigil emulates
 * (descriptor-table loads and stores, string I/O). */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/guestmem.h"
#include "vmm/introspect.h"
#include "lib/ptwalk.h"
#include "lib/ptaccess.h"

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

/* Copy to or from guest linear memory, a page at a time: vigil's own view
 * (no rights checked, no traps asked). */
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


/* --- accesses made for the guest's instruction ---------------------------- */

#define GA_MAX 16                          /* the widest emulated operand: a 16-byte GDT descriptor */

/* Set the accessed bits on the walk's entries, and the dirty bit on the
 * leaf of a write, as the CPU would (atomically: other vCPUs may walk the
 * same tables). PAE's PDPTEs are registers, with no accessed bit. */
static void set_accessed(const struct pt_paging *pg, const struct pt_walk *w, u64 la, bool write)
{
    bool wide = pg->mode != PT_MODE_32BIT;
    int top = pg->mode == PT_MODE_4LEVEL ? 4 : 2;      /* PAE and 32-bit paging: the PDE first */
    for (int lvl = top; lvl >= w->level; lvl--) {
        u64 idx = wide ? la >> (12 + 9 * (lvl - 1)) & 511 : la >> (12 + 10 * (lvl - 1)) & 1023;
        u64 at = w->table_gpa[4 - lvl] + idx * (wide ? 8 : 4);
        u32 *e = (u32 *)guestmem_map(at & ~3ull, 4);
        if (!e)
            return;
        u32 bits = 1u << 5 | (write && lvl == w->level ? 1u << 6 : 0);
        if ((*e & bits) != bits)
            __atomic_fetch_or(e, bits, __ATOMIC_SEQ_CST);
    }
}

static bool refuse(enum exit_action *act)
{
    vcpu_inject_gp();
    *act = EXIT_RESUME;
    return false;
}

bool guest_access(struct vcpu *v, u64 la, void *buf, u32 len, u32 flags, enum exit_action *act)
{
    bool write = flags & GA_WRITE;
    struct pt_paging pg;
    bool paging = guest_paging(&pg);
    u64 cr0 = guest_cr0_visible(), cr4 = guest_cr4_visible();
    struct pt_access a = {
        .write = write, .user = (vmread(GUEST_SS_AR) >> 5 & 3) == 3, .implicit = flags & GA_IMPLICIT,
        .wp = cr0 >> 16 & 1, .smap = cr4 >> 21 & 1, .ac = vmread(GUEST_RFLAGS) >> 18 & 1,
    };
    struct { u64 la, gpa; u32 n; struct pt_walk w; } part[2];
    u32 np = 0;
    if (!len || len > GA_MAX)
        return refuse(act);
    if (paging && pg.mode != PT_MODE_4LEVEL)
        la = (u32)la;
    /* 1. The guest's paging, for every page of the access before any byte
     *    moves: a fault ends it as the CPU would end it. */
    for (u64 at = la, left = len; left; np++) {
        u32 n = 4096 - (u32)(at & 0xfff);
        if (n > left)
            n = (u32)left;
        part[np].la = at;
        part[np].n = n;
        part[np].gpa = at;
        if (paging) {
            struct pt_walk *w = &part[np].w;
            enum pt_status st = pt_walk(&pg, at, map, 0, w);
            enum pt_found f = st == PT_OK ? PT_FOUND_PAGE : st == PT_NOT_PRESENT ? PT_FOUND_NOT_PRESENT
                            : st == PT_RESERVED ? PT_FOUND_RESERVED : (enum pt_found)-1;
            if (f == (enum pt_found)-1)
                return refuse(act);                    /* non-canonical, tables outside RAM, 5-level */
            u32 err;
            if ((cr4 >> 22 & 1) && f == PT_FOUND_PAGE && w->user)
                return refuse(act);                    /* protection keys: not emulated, refused */
            if (pt_access_faults(f, w->writable, w->user, &a, &err)) {
                __asm__ volatile("mov %0, %%cr2" ::"r"(at));
                vcpu_inject_exception(14, true, err);
                *act = EXIT_RESUME;
                return false;
            }
            part[np].gpa = w->gpa;
        }
        at = (at + n) & (paging && pg.mode != PT_MODE_4LEVEL ? 0xffffffffull : ~0ull);
        left -= n;
    }
    /* 2. The frames: vigil's memory is refused and reported, as EPT refuses
     *    it; a trapped frame gets the IDS's verdict, as an EPT violation
     *    would. A refused access moves nothing; the instruction is skipped. */
    u32 recheck = 0;                               /* parts the IDS sees again once written */
    u32 owner[ARRAY_SIZE(part)];
    u64 at[ARRAY_SIZE(part)];
    for (u32 i = 0; i < np; i++) {
        u64 gpa = part[i].gpa;
        if (!guestmem_is_guest_ram(gpa, part[i].n)) {
            refuse(act);
            if (vmm_is_hypervisor_memory(gpa, gpa + part[i].n))
                vmm_reach(v, REACH_MEMORY, gpa, write ? "write" : "read", act);
            return false;
        }
        u64 hit;
        const struct trap_page *t = trap_page_overlap(vmm_traps(), gpa, part[i].n, write ? IDS_WRITE : IDS_READ, &hit);
        if (t) {
            struct ids_event e;
            vmm_fill_event(&e, IDS_EV_EPT);
            e.owner = t->owner;
            e.ept.gpa = hit;
            e.ept.gva = part[i].la + (hit - gpa);
            e.ept.gva_valid = true;
            e.ept.access = write ? IDS_WRITE : IDS_READ;
            struct ids_verdict verdict = ids_event(&e);
            if (verdict.action != IDS_ALLOW) {
                *act = vmm_verdict_suspend(v, verdict, EXIT_ADVANCE);
                return false;
            }
            if (verdict.skip_len & IDS_RECHECK) {
                recheck |= 1u << i;
                owner[i] = t->owner;
                at[i] = hit;
            }
        }
    }
    /* 3. The access, and the accessed and dirty bits it sets. */
    u8 *p = buf;
    for (u32 i = 0; i < np; i++) {
        if (paging)
            set_accessed(&pg, &part[i].w, part[i].la, write);
        if (flags & GA_CHECK_ONLY)
            continue;
        if (!(write ? guestmem_write(part[i].gpa, p, part[i].n) : guestmem_read(part[i].gpa, p, part[i].n)))
            return refuse(act);
        p += part[i].n;
    }
    for (u32 i = 0; i < np; i++)
        if (recheck >> i & 1) {
            struct ids_event e;
            vmm_fill_event(&e, IDS_EV_EPT);
            e.owner = owner[i];
            e.ept.gpa = at[i];
            e.ept.access = IDS_WRITE;
            e.ept.after = true;
            ids_event(&e);                         /* it puts back what it refuses */
        }
    return true;
}
