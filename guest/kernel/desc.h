/* testos: GDT, TSS, IDT, the 8259 PIC and the 8254 PIT. */
#ifndef TESTOS_DESC_H
#define TESTOS_DESC_H
#include "kernel.h"

#define IRQ_BASE     0x20        /* PIC remapped: IRQ0 (PIT) = vector 0x20 */
#define VEC_INT80    0x80        /* legacy system-call gate, DPL 3 */
#define TIMER_HZ     1000

struct idt_entry {
    u16 off_lo, sel;
    u8 ist, type;
    u16 off_mid;
    u32 off_hi, zero;
} __attribute__((packed));

struct tss {
    u32 reserved0;
    u64 rsp0, rsp1, rsp2;
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3, iomap_base;
} __attribute__((packed));

struct dtr { u16 limit; u64 base; } __attribute__((packed));

extern struct idt_entry idt[256];
extern u64 gdt[512];
extern struct tss tss;
extern u64 isr_stubs[256];       /* entry.asm: address of each vector's stub */

void desc_init(void);
void pic_pit_init(void);
void pic_eoi(unsigned irq);
void idt_set(struct idt_entry *table, unsigned vec, u64 handler, unsigned dpl, unsigned ist);
u64 idt_handler(const struct idt_entry *e);
void syscall_msr_init(void);
static inline void sidt(struct dtr *d) { __asm__ volatile("sidt %0" : "=m"(*d)); }
static inline void lidt(const struct dtr *d) { __asm__ volatile("lidt %0" :: "m"(*d)); }

#endif
