/* testos: physical page allocator and 4-level paging (SDM Vol. 3, 4.5).
 *
 * Frames come only from memory-map ranges of type 1 (available), between
 * 1 MiB and PHYS_LIMIT, outside the kernel image. The final page tables map
 * the kernel image with per-section rights, the available RAM below
 * PHYS_LIMIT at DIRECT_MAP_BASE (NX; kernel text and rodata read-only there
 * too, so the direct map is no writable alias of code), a window of
 * temporary mappings, and the per-process kernel stacks with guard pages. */
#include "mm.h"

#define NPAGES (PHYS_LIMIT / PAGE_SIZE)
enum { PG_NONE, PG_FREE, PG_USED, PG_KERNEL };

static u8 page_state[NPAGES];
static bool page_ram[NPAGES];
static u64 nfree, ntotal, hint;
u64 kernel_pml4;
u64 phys_virt_base = KERNEL_VMA_OFFSET;   /* the boot tables' alias until paging_init */

static u64 *kmap_pt;                     /* the page table behind the kmap window */
static u8 kmap_used[KMAP_SLOTS];

void mm_init(const struct bootinfo *bi)
{
    u64 ks = (u64)__kernel_phys_start, ke = ALIGN_UP((u64)__kernel_phys_end, PAGE_SIZE);
    for (int i = 0; i < bi->nmmap; i++) {
        const struct memrange *r = &bi->mmap[i];
        if (r->type != MEM_AVAILABLE)
            continue;
        u64 s = ALIGN_UP(r->base, PAGE_SIZE), e = (r->base + r->len) & PAGE_MASK;
        for (u64 p = s; p < e && p < PHYS_LIMIT; p += PAGE_SIZE)
            page_ram[p / PAGE_SIZE] = true;
    }
    /* A type-1 range may overlap a reserved one in broken maps: reserved wins. */
    for (int i = 0; i < bi->nmmap; i++) {
        const struct memrange *r = &bi->mmap[i];
        if (r->type == MEM_AVAILABLE)
            continue;
        u64 s = r->base & PAGE_MASK, e = ALIGN_UP(r->base + r->len, PAGE_SIZE);
        for (u64 p = s; p < e && p < PHYS_LIMIT; p += PAGE_SIZE)
            page_ram[p / PAGE_SIZE] = false;
    }
    for (u64 i = 0; i < NPAGES; i++) {
        u64 p = i * PAGE_SIZE;
        if (p >= ks && p < ke)
            page_state[i] = PG_KERNEL;
        else if (page_ram[i] && p >= 0x100000) {
            page_state[i] = PG_FREE;
            nfree++;
        }
    }
    ntotal = nfree;
    hint = 0;
    if (!page_ram[ks / PAGE_SIZE] || !page_ram[(ke - 1) / PAGE_SIZE])
        panic("the kernel image 0x%lx-0x%lx is not in available RAM", ks, ke);
}

bool phys_is_ram(u64 phys) { return phys < PHYS_LIMIT && page_ram[phys / PAGE_SIZE]; }
u64 palloc_free_count(void) { return nfree; }
u64 palloc_total(void) { return ntotal; }

u64 palloc(void)
{
    u64 f = irq_save();
    for (u64 i = hint; i < NPAGES; i++) {
        if (page_state[i] == PG_FREE) {
            page_state[i] = PG_USED;
            nfree--;
            hint = i + 1;
            irq_restore(f);
            u64 p = i * PAGE_SIZE;
            memset(phys_to_virt(p), 0, PAGE_SIZE);
            return p;
        }
    }
    irq_restore(f);
    return 0;
}

void pfree(u64 p)
{
    u64 i = p / PAGE_SIZE;
    if (p % PAGE_SIZE || i >= NPAGES || page_state[i] != PG_USED)
        panic("pfree of frame 0x%lx that is not allocated", p);
    /* Scrub: a freed frame keeps nothing of its last owner (a scanner of
     * free memory must not find the signature process's code, for one). */
    memset(phys_to_virt(p), 0, PAGE_SIZE);
    u64 f = irq_save();
    page_state[i] = PG_FREE;
    nfree++;
    if (i < hint)
        hint = i;
    irq_restore(f);
}

u64 *vm_pte(u64 pml4, u64 va, bool create)
{
    u64 *t = phys_to_virt(pml4);
    for (int level = 3; level > 0; level--) {
        unsigned idx = (va >> (12 + 9 * level)) & 511;
        u64 e = t[idx];
        if (!(e & PTE_P)) {
            if (!create)
                return NULL;
            if (level == 3 && va >= USER_TOP && kernel_pml4 && pml4 != kernel_pml4)
                panic("kernel-half PML4 entry %u missing in 0x%lx", idx, pml4);
            u64 p = palloc();
            if (!p)
                return NULL;
            e = p | PTE_P | PTE_W | (va < USER_TOP ? PTE_U : 0);
            t[idx] = e;
        } else if (e & PTE_PS) {
            return NULL;
        }
        t = phys_to_virt(e & PTE_ADDR);
    }
    return &t[(va >> 12) & 511];
}

bool vm_map(u64 pml4, u64 va, u64 pa, u64 flags)
{
    u64 *pte = vm_pte(pml4, va, true);
    if (!pte)
        return false;
    *pte = (pa & PTE_ADDR) | flags | PTE_P;
    invlpg(va);
    return true;
}

u64 vm_unmap(u64 pml4, u64 va)
{
    u64 *pte = vm_pte(pml4, va, false);
    if (!pte)
        return 0;
    u64 old = *pte;
    *pte = 0;
    invlpg(va);
    return old;
}

bool vm_translate(u64 pml4, u64 va, u64 *pa, u64 *flags)
{
    u64 *pte = vm_pte(pml4, va, false);
    if (!pte || !(*pte & PTE_P))
        return false;
    if (pa)
        *pa = (*pte & PTE_ADDR) | (va & 0xfff);
    if (flags)
        *flags = *pte & ~PTE_ADDR;
    return true;
}

static void free_table(u64 table, int level)
{
    u64 *t = phys_to_virt(table);
    for (int i = 0; i < 512; i++) {
        u64 e = t[i];
        if (!(e & PTE_P))
            continue;
        if (level > 0 && !(e & PTE_PS))
            free_table(e & PTE_ADDR, level - 1);
        else if (level == 0 && (e & PTE_OWNED))
            pfree(e & PTE_ADDR);
        t[i] = 0;
    }
    pfree(table);
}

void vm_free_user(u64 pml4)
{
    u64 *t = phys_to_virt(pml4);
    for (int i = 0; i < 256; i++) {
        if (t[i] & PTE_P)
            free_table(t[i] & PTE_ADDR, 2);
        t[i] = 0;
    }
}

u64 vm_new_pml4(void)
{
    u64 p = palloc();
    if (!p)
        return 0;
    u64 *n = phys_to_virt(p), *k = phys_to_virt(kernel_pml4);
    for (int i = 256; i < 512; i++)
        n[i] = k[i];
    return p;
}

static void map_range(u64 va, u64 pa, u64 len, u64 flags)
{
    for (u64 o = 0; o < len; o += PAGE_SIZE)
        if (!vm_map(kernel_pml4, va + o, pa + o, flags))
            panic("out of memory building the kernel page tables");
}

void paging_init(void)
{
    kernel_pml4 = palloc();
    if (!kernel_pml4)
        panic("out of memory for the kernel PML4");
    u64 text_s = kimage_virt_to_phys(__text_start), text_e = kimage_virt_to_phys(__text_end);
    u64 ro_s = kimage_virt_to_phys(__rodata_start), ro_e = ALIGN_UP(kimage_virt_to_phys(__rodata_end), PAGE_SIZE);
    u64 data_s = kimage_virt_to_phys(__data_start), end = kimage_virt_to_phys(__kernel_end);
    text_e = ALIGN_UP(text_e, PAGE_SIZE);

    /* Kernel image: text R-X, rodata R--, data and bss RW-. */
    map_range((u64)__text_start, text_s, text_e - text_s, PTE_G);
    map_range((u64)__rodata_start, ro_s, ro_e - ro_s, PTE_G | PTE_NX);
    map_range((u64)__data_start, data_s, end - data_s, PTE_G | PTE_W | PTE_NX);

    /* Direct map of available RAM; the kernel's code and rodata stay read-only. */
    for (u64 p = 0; p < PHYS_LIMIT; p += PAGE_SIZE) {
        if (!page_ram[p / PAGE_SIZE])
            continue;
        bool ro = p >= text_s && p < ro_e;
        if (!vm_map(kernel_pml4, DIRECT_MAP_BASE + p, p, PTE_G | PTE_NX | (ro ? 0 : PTE_W)))
            panic("out of memory building the direct map");
    }

    /* Tables for the kmap window and the kernel stacks, created now so that
     * every process PML4 (which copies the kernel half) shares them. */
    kmap_pt = (u64 *)((u64)vm_pte(kernel_pml4, KMAP_BASE, true));
    for (u64 va = KSTACK_BASE; va < KSTACK_BASE + 64 * KSTACK_SLOT_SIZE; va += 0x200000)
        if (!vm_pte(kernel_pml4, va, true))
            panic("out of memory for kernel stack tables");
    if (!kmap_pt)
        panic("out of memory for the kmap window");

    write_cr4(read_cr4() | (1 << 7));    /* PGE: kernel mappings are global */
    write_cr3(kernel_pml4);
    phys_virt_base = DIRECT_MAP_BASE;
    /* kmap_pt was computed through the boot alias; recompute through the direct map. */
    kmap_pt = vm_pte(kernel_pml4, KMAP_BASE, false);
}

void *kmap(u64 phys, size_t len, u64 flags)
{
    u64 off = phys & 0xfff;
    size_t n = ALIGN_UP(off + len, PAGE_SIZE) / PAGE_SIZE;
    u64 f = irq_save();
    for (size_t s = 0; s + n <= KMAP_SLOTS; s++) {
        size_t k;
        for (k = 0; k < n && !kmap_used[s + k]; k++)
            ;
        if (k < n) {
            s += k;
            continue;
        }
        for (k = 0; k < n; k++) {
            kmap_used[s + k] = 1;
            u64 va = KMAP_BASE + (s + k) * PAGE_SIZE;
            kmap_pt[s + k] = ((phys & PTE_ADDR) + k * PAGE_SIZE) | PTE_P | (flags & (PTE_W | PTE_NX));
            invlpg(va);
        }
        irq_restore(f);
        return (void *)(KMAP_BASE + s * PAGE_SIZE + off);
    }
    irq_restore(f);
    return NULL;
}

void kunmap(void *va, size_t len)
{
    u64 v = (u64)va;
    if (v < KMAP_BASE || v >= KMAP_BASE + KMAP_SLOTS * PAGE_SIZE)
        panic("kunmap of %p outside the window", va);
    size_t s = (v - KMAP_BASE) / PAGE_SIZE;
    size_t n = ALIGN_UP((v & 0xfff) + len, PAGE_SIZE) / PAGE_SIZE;
    u64 f = irq_save();
    for (size_t k = 0; k < n && s + k < KMAP_SLOTS; k++) {
        kmap_pt[s + k] = 0;
        kmap_used[s + k] = 0;
        invlpg(KMAP_BASE + (s + k) * PAGE_SIZE);
    }
    irq_restore(f);
}

u64 kstack_map(unsigned slot)
{
    u64 top = KSTACK_BASE + (slot + 1) * KSTACK_SLOT_SIZE;
    for (unsigned i = 1; i <= KSTACK_PAGES; i++) {
        u64 p = palloc();
        if (!p || !vm_map(kernel_pml4, top - i * PAGE_SIZE, p, PTE_W | PTE_NX | PTE_G | PTE_OWNED)) {
            if (p)
                pfree(p);
            kstack_unmap(slot);
            return 0;
        }
    }
    return top;
}

void kstack_unmap(unsigned slot)
{
    u64 top = KSTACK_BASE + (slot + 1) * KSTACK_SLOT_SIZE;
    for (unsigned i = 1; i <= KSTACK_PAGES; i++) {
        u64 old = vm_unmap(kernel_pml4, top - i * PAGE_SIZE);
        if (old & PTE_P)
            pfree(old & PTE_ADDR);
    }
}
