/* testos: physical pages, page tables, temporary mappings. */
#ifndef TESTOS_MM_H
#define TESTOS_MM_H
#include "boot.h"

extern u64 kernel_pml4;          /* physical address of the kernel's PML4 */
extern u64 phys_virt_base;

static inline void *phys_to_virt(u64 p) { return (void *)(phys_virt_base + p); }
static inline u64 kimage_virt_to_phys(const void *v) { return (u64)v - KERNEL_VMA_OFFSET; }

void mm_init(const struct bootinfo *bi);
void paging_init(void);

u64 palloc(void);                /* one zeroed 4 KiB frame below PHYS_LIMIT, or 0 */
void pfree(u64 phys);            /* scrubs the frame and returns it */
u64 palloc_free_count(void);
u64 palloc_total(void);
bool phys_is_ram(u64 phys);      /* an available (type 1) frame below PHYS_LIMIT */

u64 *vm_pte(u64 pml4, u64 va, bool create);
bool vm_map(u64 pml4, u64 va, u64 pa, u64 flags);
u64 vm_unmap(u64 pml4, u64 va);  /* returns the old entry */
bool vm_translate(u64 pml4, u64 va, u64 *pa, u64 *flags);
void vm_free_user(u64 pml4);     /* frees the user half: owned frames and tables */
u64 vm_new_pml4(void);           /* user half empty, kernel half shared */

void *kmap(u64 phys, size_t len, u64 flags);   /* flags: PTE_W, PTE_NX (exec if absent) */
void kunmap(void *va, size_t len);

u64 kstack_map(unsigned slot);   /* returns the stack top, or 0 */
void kstack_unmap(unsigned slot);

#endif
