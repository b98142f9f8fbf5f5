/* testos: the remapping scenarios (issue 9, class 1). EPT protects frames,
 * but the page tables say which frame an address means: each of these
 * copies a protected page (kernel text, the system-call table, the IDT, the
 * GDT) to a fresh frame, patches the copy, and points the kernel's
 * translation at it, by a different entry or a different way of writing
 * one. "succeeded" means the copy is what the CPU now uses, seen from
 * inside: the hooked system call runs, int 0x80 reaches the hook, LSL reads
 * the patched descriptor. Each undoes itself afterwards. */
#include "scenario.h"
#include "scn_remap.h"
#include "mm.h"
#include "desc.h"
#include "proc.h"
#include "syscall.h"
#include "trap.h"

extern volatile u64 hook_int80_hits;
extern u64 hook_int80_orig;
extern void hook_int80_stub(void);

#define CR4_PGE (1ul << 7)


static int run_probe(void)
{
    int pid = proc_spawn("probe", 8, current->pid);
    return pid < 0 ? -1000 : proc_wait(pid);
}

/* Every translation, global ones included, is flushed (CR4.PGE off and on). */
static void flush_all(void)
{
    u64 cr4 = read_cr4();
    write_cr4(cr4 & ~CR4_PGE);
    write_cr4(cr4);
}

/* The entry of `level` (4 = PML4E ... 1 = PTE) through which pml4 maps va,
 * through the direct map; NULL if a level above is missing or a large page. */
static u64 *entry_of(u64 pml4, u64 va, int level)
{
    u64 *t = phys_to_virt(pml4);
    for (int l = 4; l > level; l--) {
        u64 e = t[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(e & PTE_P) || (e & PTE_PS))
            return NULL;
        t = phys_to_virt(e & PTE_ADDR);
    }
    return &t[(va >> (12 + 9 * (level - 1))) & 511];
}

/* A fresh frame holding a copy of the kernel page at va. */
static u64 copy_page(u64 va)
{
    u64 f = palloc();
    if (f)
        memcpy(phys_to_virt(f), (const void *)(va & PAGE_MASK), PAGE_SIZE);
    return f;
}

static u64 with_frame(u64 e, u64 frame) { return (e & ~PTE_ADDR) | (frame & PTE_ADDR); }

/* ---- the hooks the copies lead to ---------------------------------------- */

static volatile u64 text_hits, sys_hits;

static i64 hook_getpid(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a0, (void)a1, (void)a2, (void)a3, (void)a4;
    text_hits++;
    return current->pid;
}

static i64 hook_sys(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    sys_hits++;
    return sys_getpid(a0, a1, a2, a3, a4);
}

/* In the copy of sys_getpid's page at copy: a jmp to hook_getpid at its start. */
static void patch_getpid(u8 *copy)
{
    u64 at = (u64)sys_getpid;
    i32 rel = (i32)((u64)hook_getpid - (at + 5));
    u8 *p = copy + (at & 0xfff);
    p[0] = 0xe9;
    memcpy(p + 1, &rel, 4);
}

static i64 int80_getpid(void)
{
    i64 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"((u64)SYS_getpid) : "memory");
    return r;
}

/* ---- kernel text: the PTE of sys_getpid's page ----------------------------- */

enum how { BY_DIRECT_MAP, BY_ALIAS, BY_STRADDLE };

/* Write the PTE at pte (in page-table frame pt) with val: through the
 * direct map, through a fresh kmap alias of the table frame, or by an
 * unaligned 8-byte store that starts in the entry before (its high half,
 * unchanged) and ends in this one (the low half: frame and flags). */
static void write_pte(volatile u64 *pte, u64 val, enum how how)
{
    u64 pt = ((u64)pte - DIRECT_MAP_BASE) & PAGE_MASK, off = (u64)pte & 0xfff;
    if (how == BY_ALIAS) {
        volatile u64 *a = kmap(pt, PAGE_SIZE, PTE_W | PTE_NX);
        if (!a)
            return;
        a[off / 8] = val;
        kunmap((void *)a, PAGE_SIZE);
    } else if (how == BY_STRADDLE && off >= 8) {
        u64 both = (pte[-1] >> 32) | (val << 32);
        *(volatile u64 *)((u64)pte - 4) = both;       /* bytes off-4 .. off+3 */
    } else {
        *pte = val;
    }
}

static bool remap_text(const char *n, enum how how)
{
    u64 va = (u64)sys_getpid & PAGE_MASK;
    volatile u64 *pte = entry_of(kernel_pml4, va, 1);
    u64 f = copy_page(va);
    if (!pte || !f)
        return false;
    if (how == BY_STRADDLE && (f >> 32 || ((u64)pte & 0xfff) < 8)) {
        kprintf("%s: the copy at 0x%lx or the PTE's place does not suit a straddling store\n", n, f);
        pfree(f);
        return false;
    }
    patch_getpid(phys_to_virt(f));
    u64 orig = *pte;
    attack_begin(n);
    kprintf("%s: sys_getpid's page 0x%lx: PTE at phys 0x%lx is 0x%lx; copy with a jmp to the hook at 0x%lx; "
            "writing the PTE %s\n", n, va, (u64)pte - DIRECT_MAP_BASE, orig, f,
            how == BY_ALIAS ? "through a kmap alias of its table" :
            how == BY_STRADDLE ? "by an 8-byte store starting 4 bytes into the entry before" : "through the direct map");
    write_pte(pte, with_frame(orig, f), how);
    invlpg(va);
    bool remapped = (*pte & PTE_ADDR) == f;
    u64 h0 = text_hits;
    int code = run_probe();
    u64 hits = text_hits - h0;
    kprintf("%s: PTE now 0x%lx (%s); the hook ran %lu times (probe exit %d)\n", n, *pte,
            remapped ? "the copy" : "the kernel's frame", hits, code);
    attack_result(n, remapped && hits > 0);
    *pte = orig;
    invlpg(va);
    pfree(f);
    return true;
}

bool sc_remap_text_pte(void) { return remap_text("remap-text-pte", BY_DIRECT_MAP); }
bool sc_remap_text_alias(void) { return remap_text("remap-text-alias", BY_ALIAS); }
bool sc_remap_wide_store(void) { return remap_text("remap-wide-store", BY_STRADDLE); }

/* ---- kernel text made writable through its own PTE ------------------------ */

bool sc_remap_text_rw(void)
{
    const char *n = "remap-text-rw";
    u64 va = (u64)sys_getpid & PAGE_MASK;
    volatile u64 *pte = entry_of(kernel_pml4, va, 1);
    if (!pte)
        return false;
    volatile u8 *target = (volatile u8 *)(u64)sys_getpid;
    u8 saved[5], patch[5] = { 0xe9 };
    i32 rel = (i32)((u64)hook_getpid - ((u64)target + 5));
    memcpy(patch + 1, &rel, 4);
    for (int i = 0; i < 5; i++)
        saved[i] = target[i];
    u64 orig = *pte;
    attack_begin(n);
    kprintf("%s: setting R/W in the PTE of sys_getpid's page 0x%lx (0x%lx), then writing a jmp into it with "
            "CR0.WP set\n", n, va, orig);
    *pte = orig | PTE_W;
    invlpg(va);
    bool writable = *pte & PTE_W;
    struct catch c;
    bool wrote = false;
    if (CATCH(&c)) {
        for (int i = 0; i < 5; i++)
            target[i] = patch[i];
        serialize();
        catch_end(&c);
        wrote = true;
    } else {
        kprintf("%s: the write faulted: %s error 0x%lx at RIP 0x%lx CR2 0x%lx\n", n, vector_name(c.vector),
                c.error, c.rip, c.cr2);
    }
    bool in_place = true;
    for (int i = 0; i < 5; i++)
        in_place &= target[i] == patch[i];
    u64 h0 = text_hits;
    int code = run_probe();
    u64 hits = text_hits - h0;
    kprintf("%s: PTE %s; the jmp %s; the hook ran %lu times (probe exit %d)\n", n,
            writable ? "writable" : "still read-only", in_place ? "in place" : wrote ? "not in place" : "not written",
            hits, code);
    attack_result(n, writable && in_place && hits > 0);
    if (in_place) {
        for (int i = 0; i < 5; i++)
            target[i] = saved[i];
        serialize();
    }
    *pte = orig;
    invlpg(va);
    return true;
}

/* ---- the system-call table: its PDE, to a copied page table ---------------- */

bool sc_remap_table_pde(void)
{
    const char *n = "remap-table-pde";
    u64 slot = (u64)&syscall_table[SYS_getpid], va = slot & PAGE_MASK;
    volatile u64 *pde = entry_of(kernel_pml4, va, 2);
    u64 *pte = entry_of(kernel_pml4, va, 1);
    u64 pt2 = palloc(), page2 = copy_page(va);
    if (!pde || !pte || !pt2 || !page2)
        return false;
    u64 *opt = (u64 *)((u64)pte & PAGE_MASK), *npt = phys_to_virt(pt2);
    memcpy(npt, opt, PAGE_SIZE);
    u64 idx = (va >> 12) & 511;
    npt[idx] = with_frame(opt[idx], page2);
    *(syscall_fn *)((u8 *)phys_to_virt(page2) + (slot & 0xfff)) = hook_sys;
    u64 orig = *pde;
    attack_begin(n);
    kprintf("%s: syscall_table[%d] at 0x%lx: its PDE (phys 0x%lx, 0x%lx) pointed at a copied page table 0x%lx "
            "whose PTE maps a patched copy 0x%lx\n", n, SYS_getpid, slot, (u64)pde - DIRECT_MAP_BASE, orig, pt2,
            page2);
    *pde = with_frame(orig, pt2);
    flush_all();
    bool redirected = syscall_table[SYS_getpid] == hook_sys;
    u64 h0 = sys_hits;
    int code = run_probe();
    u64 hits = sys_hits - h0;
    kprintf("%s: PDE now 0x%lx; syscall_table[%d] %s; the hook ran %lu times (probe exit %d)\n", n, *pde,
            SYS_getpid, redirected ? "redirected" : "unchanged", hits, code);
    attack_result(n, redirected && hits > 0);
    *pde = orig;
    flush_all();
    pfree(pt2);
    pfree(page2);
    return true;
}

/* ---- the IDT: its PTE, or a new address space's PML4E ----------------------- */

/* In a copy of the IDT's page at copy: vector 0x80 to the hook. */
static void patch_idt(u8 *copy)
{
    struct idt_entry *t = (struct idt_entry *)(copy + ((u64)idt & 0xfff));
    idt_set(t, VEC_INT80, (u64)hook_int80_stub, 3, 0);
}

bool sc_remap_idt_pte(void)
{
    const char *n = "remap-idt-pte";
    u64 va = (u64)&idt[VEC_INT80] & PAGE_MASK;
    volatile u64 *pte = entry_of(kernel_pml4, va, 1);
    u64 f = copy_page(va);
    if (!pte || !f)
        return false;
    hook_int80_orig = idt_handler(&idt[VEC_INT80]);
    patch_idt(phys_to_virt(f));
    u64 orig = *pte;
    attack_begin(n);
    kprintf("%s: the IDT page 0x%lx (IDTR's): PTE 0x%lx pointed at a copy 0x%lx with vector 0x80 hooked\n", n, va,
            orig, f);
    u64 fl = irq_save();
    *pte = with_frame(orig, f);
    invlpg(va);
    bool remapped = (*pte & PTE_ADDR) == f;
    u64 h0 = hook_int80_hits;
    i64 r = int80_getpid();
    u64 hits = hook_int80_hits - h0;
    *pte = orig;
    invlpg(va);
    irq_restore(fl);
    kprintf("%s: PTE %s; int 0x80 returned %ld; the hook ran %lu times\n", n,
            remapped ? "pointed at the copy" : "unchanged", r, hits);
    attack_result(n, remapped && hits > 0 && r == current->pid);
    pfree(f);
    return true;
}

bool sc_remap_idt_pml4(void)
{
    const char *n = "remap-idt-pml4";
    u64 va = (u64)&idt[VEC_INT80] & PAGE_MASK;
    u64 *e4 = entry_of(kernel_pml4, va, 4), *e3 = entry_of(kernel_pml4, va, 3), *e2 = entry_of(kernel_pml4, va, 2),
        *e1 = entry_of(kernel_pml4, va, 1);
    u64 space = vm_new_pml4(), pdpt = palloc(), pd = palloc(), pt = palloc(), page = copy_page(va);
    if (!e4 || !e3 || !e2 || !e1 || !space || !pdpt || !pd || !pt || !page)
        return false;
    /* The chain below the kernel's PML4E, copied level by level, ending at
     * the patched copy of the IDT page (mapped not global, so that a flush
     * of this space drops it). */
    memcpy(phys_to_virt(pdpt), (void *)((u64)e3 & PAGE_MASK), PAGE_SIZE);
    memcpy(phys_to_virt(pd), (void *)((u64)e2 & PAGE_MASK), PAGE_SIZE);
    memcpy(phys_to_virt(pt), (void *)((u64)e1 & PAGE_MASK), PAGE_SIZE);
    ((u64 *)phys_to_virt(pt))[(va >> 12) & 511] = with_frame(*e1, page) & ~PTE_G;
    ((u64 *)phys_to_virt(pd))[(va >> 21) & 511] = with_frame(*e2, pt);
    ((u64 *)phys_to_virt(pdpt))[(va >> 30) & 511] = with_frame(*e3, pd);
    u64 *top = phys_to_virt(space);
    u64 i4 = (va >> 39) & 511;
    top[i4] = with_frame(*e4, pdpt);
    hook_int80_orig = idt_handler(&idt[VEC_INT80]);
    patch_idt(phys_to_virt(page));
    attack_begin(n);
    kprintf("%s: a new address space 0x%lx whose PML4E %lu (0x%lx) leads through copied tables to a copy of the "
            "IDT page with vector 0x80 hooked\n", n, space, i4, top[i4]);
    u64 fl = irq_save();
    write_cr3(space);
    flush_all();
    bool remapped = (top[i4] & PTE_ADDR) == pdpt;
    u64 h0 = hook_int80_hits;
    i64 r = int80_getpid();
    u64 hits = hook_int80_hits - h0;
    write_cr3(kernel_pml4);
    flush_all();
    irq_restore(fl);
    kprintf("%s: PML4E %lu in it now 0x%lx (%s); int 0x80 returned %ld; the hook ran %lu times\n", n, i4, top[i4],
            remapped ? "the copied tables" : "the kernel's", r, hits);
    attack_result(n, remapped && hits > 0 && r == current->pid);
    pfree(space);
    pfree(pdpt);
    pfree(pd);
    pfree(pt);
    pfree(page);
    return true;
}

/* The running address space's own PML4E, changed while it runs: a new
 * space is loaded as the kernel's (its CR3 load finds nothing), then its
 * PML4E 511 is pointed at copied tables leading to a hooked copy of the IDT
 * page, and int 0x80 is called N times with interrupts off. Bare every call
 * reaches the hook. vigil sees no exit for the write (that page is not
 * write-protected): it finds the change at its next tick, puts the entry
 * back and flushes the guest's translations. succeeded means the hook ran
 * at all; the detail line says how many times and whether the entry is
 * still the copy's at the end. */
bool sc_remap_own_pml4(void)
{
    const char *n = "remap-own-pml4";
    u64 va = (u64)&idt[VEC_INT80] & PAGE_MASK;
    u64 *e4 = entry_of(kernel_pml4, va, 4), *e3 = entry_of(kernel_pml4, va, 3), *e2 = entry_of(kernel_pml4, va, 2),
        *e1 = entry_of(kernel_pml4, va, 1);
    u64 space = vm_new_pml4(), pdpt = palloc(), pd = palloc(), pt = palloc(), page = copy_page(va);
    if (!e4 || !e3 || !e2 || !e1 || !space || !pdpt || !pd || !pt || !page)
        return false;
    memcpy(phys_to_virt(pdpt), (void *)((u64)e3 & PAGE_MASK), PAGE_SIZE);
    memcpy(phys_to_virt(pd), (void *)((u64)e2 & PAGE_MASK), PAGE_SIZE);
    memcpy(phys_to_virt(pt), (void *)((u64)e1 & PAGE_MASK), PAGE_SIZE);
    ((u64 *)phys_to_virt(pt))[(va >> 12) & 511] = with_frame(*e1, page) & ~PTE_G;
    ((u64 *)phys_to_virt(pd))[(va >> 21) & 511] = with_frame(*e2, pt);
    ((u64 *)phys_to_virt(pdpt))[(va >> 30) & 511] = with_frame(*e3, pd);
    volatile u64 *top = phys_to_virt(space);
    u64 i4 = (va >> 39) & 511;
    hook_int80_orig = idt_handler(&idt[VEC_INT80]);
    patch_idt(phys_to_virt(page));
    const u64 calls = 20000;
    attack_begin(n);
    kprintf("%s: address space 0x%lx loaded as the kernel's, then its own PML4E %lu pointed at copied tables "
            "leading to a copy of the IDT page with vector 0x80 hooked; %lu int 0x80 calls, interrupts off\n", n,
            space, i4, calls);
    u64 fl = irq_save();
    write_cr3(space);
    top[i4] = with_frame(*e4, pdpt);
    flush_all();
    u64 h0 = hook_int80_hits, last = 0;
    for (u64 i = 0; i < calls; i++) {
        u64 h = hook_int80_hits;
        int80_getpid();
        if (hook_int80_hits != h)
            last = i + 1;
    }
    u64 hits = hook_int80_hits - h0;
    bool still = (top[i4] & PTE_ADDR) == pdpt;
    top[i4] = *e4;
    write_cr3(kernel_pml4);
    flush_all();
    irq_restore(fl);
    kprintf("%s: the hook ran %lu of %lu times (the last at call %lu); PML4E %lu at the end: %s\n", n, hits, calls,
            last, i4, still ? "the copied tables" : "the kernel's (put back)");
    attack_result(n, hits > 0);
    pfree(space);
    pfree(pdpt);
    pfree(pd);
    pfree(pt);
    pfree(page);
    return true;
}

/* ---- the GDT: its PTE, to a copy with a changed descriptor ------------------- */

static bool lsl(u64 sel, u64 *limit)
{
    u64 lim = 0;
    u8 ok;
    __asm__ volatile("lsl %2, %0\n\tsetz %1" : "=r"(lim), "=q"(ok) : "r"(sel) : "cc");
    *limit = lim;
    return ok;
}

bool sc_remap_gdt_pte(void)
{
    const char *n = "remap-gdt-pte";
    u64 va = (u64)gdt & PAGE_MASK;
    volatile u64 *pte = entry_of(kernel_pml4, va, 1);
    u64 f = copy_page(va);
    if (!pte || !f)
        return false;
    /* Descriptor 3 (user data, 0x18) in the copy: byte granularity, limit
     * 0x12345 (the kernel's has 4 KiB granularity and the largest limit). */
    u64 *d = (u64 *)((u8 *)phys_to_virt(f) + ((u64)&gdt[3] & 0xfff));
    *d = (*d & ~(0xffffull | 0xfull << 48 | 1ull << 55)) | 0x2345 | 1ull << 48;
    u64 orig = *pte, before = 0, after = 0;
    lsl(0x18, &before);
    attack_begin(n);
    kprintf("%s: the GDT page 0x%lx (GDTR's): PTE 0x%lx pointed at a copy 0x%lx whose descriptor 0x18 has limit "
            "0x12345 (LSL reads 0x%lx now)\n", n, va, orig, f, before);
    u64 fl = irq_save();
    *pte = with_frame(orig, f);
    invlpg(va);
    bool remapped = (*pte & PTE_ADDR) == f;
    bool ok = lsl(0x18, &after);
    *pte = orig;
    invlpg(va);
    irq_restore(fl);
    kprintf("%s: PTE %s; LSL of 0x18 %s 0x%lx\n", n, remapped ? "pointed at the copy" : "unchanged",
            ok ? "reads" : "failed, read", after);
    attack_result(n, remapped && ok && after == 0x12345);
    pfree(f);
    return true;
}

/* ---- inside the step window: the table page opened for a fault's handler ---- */

/* A write to the table page that vigil opens for one instruction, which then
 * faults (#PF on the next page, which the alias leaves unmapped): the
 * handler, if the page were still open, would repoint the PTE unseen. */
static volatile u64 *sw_pte;
static u64 sw_val;
static volatile u64 sw_hits;

static void sw_hook(struct trap_frame *f)
{
    if (f->vector != 14 || !sw_pte)
        return;
    sw_hits++;
    *sw_pte = sw_val;
    sw_pte = 0;
}

bool sc_remap_step_window(void)
{
    const char *n = "remap-step-window";
    u64 va = (u64)sys_getpid & PAGE_MASK;
    volatile u64 *volatile pte = entry_of(kernel_pml4, va, 1);
    u64 f = copy_page(va);
    if (!pte || !f)
        return false;
    u64 pt = ((u64)pte - DIRECT_MAP_BASE) & PAGE_MASK;
    u8 *a = kmap(pt, 2 * PAGE_SIZE, PTE_W | PTE_NX);
    if (!a) {
        pfree(f);
        return false;
    }
    vm_unmap(kernel_pml4, (u64)a + PAGE_SIZE);
    invlpg((u64)a + PAGE_SIZE);
    patch_getpid(phys_to_virt(f));
    u64 orig = *pte;
    attack_begin(n);
    kprintf("%s: alias 0x%lx of the page table holding sys_getpid's PTE at phys 0x%lx; an 8-byte write at +0xffc "
            "faults into the unmapped page after it, and the #PF handler repoints the PTE to a copy 0x%lx\n", n,
            (u64)a, (u64)pte - DIRECT_MAP_BASE, f);
    sw_pte = pte;
    sw_val = with_frame(orig, f);
    sw_hits = 0;
    trap_hook = sw_hook;
    struct catch c;
    if (CATCH(&c)) {
        *(volatile u64 *)(a + 0xffc) = 0;
        catch_end(&c);
        kprintf("%s: the write across the pages did not fault\n", n);
    } else {
        kprintf("%s: the write across the pages faulted: %s at RIP 0x%lx CR2 0x%lx\n", n, vector_name(c.vector),
                c.rip, c.cr2);
    }
    trap_hook = 0;
    sw_pte = 0;
    invlpg(va);
    bool remapped = (*pte & PTE_ADDR) == f;
    u64 h0 = text_hits;
    int code = run_probe();
    u64 hits = text_hits - h0;
    kprintf("%s: the #PF handler ran %lu times\n", n, sw_hits);
    kprintf("%s: PTE now 0x%lx (%s); the hook ran %lu times (probe exit %d)\n", n, *pte,
            remapped ? "the copy" : "the kernel's frame", hits, code);
    attack_result(n, remapped && hits > 0);
    *pte = orig;
    invlpg(va);
    kunmap(a, 2 * PAGE_SIZE);
    pfree(f);
    return sw_hits == 1;
}

/* ---- bench-ptwrite: what a write to a guarded table page costs ---------------- */

/* Writes an unused entry of the page table that maps kernel text (one that
 * no protected translation goes through) N times: under vigil each is a
 * trapped write, let through and compared once it ran. */
bool sc_bench_ptwrite(void)
{
    volatile u64 *pte = entry_of(kernel_pml4, (u64)sys_getpid & PAGE_MASK, 1);
    if (!pte)
        return false;
    volatile u64 *pt = (volatile u64 *)((u64)pte & PAGE_MASK);
    int k = 511;
    while (k >= 0 && pt[k])
        k--;
    if (k < 0) {
        kprintf("bench-ptwrite: no unused entry in the page table at phys 0x%lx\n", (u64)pt - DIRECT_MAP_BASE);
        return false;
    }
    const int n = 1000;
    u64 t0 = rdtsc();
    for (int i = 0; i < n; i++)
        pt[k] = 0;
    u64 t1 = rdtsc();
    kprintf("bench-ptwrite: %d writes of entry %d of the page table at phys 0x%lx (it maps kernel text)\n", n, k,
            (u64)pt - DIRECT_MAP_BASE);
    kprintf("BENCH name=ptwrite ops=%d cycles=%lu\n", n, t1 - t0);
    return true;
}
