/* testos: descriptor tables, PIC and PIT.
 * The IDT and the GDT each fill a page of their own (page-aligned, nothing
 * else on it), so a monitor can write-protect them without catching
 * unrelated writes. */
#include "desc.h"

struct idt_entry idt[256] __attribute__((aligned(4096), section(".data.pagealigned")));
u64 gdt[512] __attribute__((aligned(4096), section(".data.pagealigned")));
struct tss tss __attribute__((aligned(128)));
static u8 ist_df[4096] __attribute__((aligned(16)));
static u8 ist_nmi[4096] __attribute__((aligned(16)));

void idt_set(struct idt_entry *table, unsigned vec, u64 h, unsigned dpl, unsigned ist)
{
    struct idt_entry *e = &table[vec];
    e->off_lo = (u16)h;
    e->sel = SEL_KCODE;
    e->ist = (u8)ist;
    e->type = 0x8e | (u8)(dpl << 5);        /* present, 64-bit interrupt gate */
    e->off_mid = (u16)(h >> 16);
    e->off_hi = (u32)(h >> 32);
    e->zero = 0;
}

u64 idt_handler(const struct idt_entry *e)
{
    return (u64)e->off_lo | ((u64)e->off_mid << 16) | ((u64)e->off_hi << 32);
}

void desc_init(void)
{
    gdt[0] = 0;
    gdt[1] = 0x00209a0000000000ull;   /* 0x08 kernel code, 64-bit */
    gdt[2] = 0x00cf92000000ffffull;   /* 0x10 kernel data */
    gdt[3] = 0x00cff2000000ffffull;   /* 0x18 user data (DPL 3) */
    gdt[4] = 0x0020fa0000000000ull;   /* 0x20 user code, 64-bit (DPL 3) */
    u64 t = (u64)&tss;
    u64 lim = sizeof tss - 1;
    gdt[5] = (lim & 0xffff) | ((t & 0xffffff) << 16) | (0x89ull << 40) |
             (((lim >> 16) & 0xf) << 48) | (((t >> 24) & 0xff) << 56);
    gdt[6] = t >> 32;
    tss.ist[0] = (u64)ist_df + sizeof ist_df;
    tss.ist[1] = (u64)ist_nmi + sizeof ist_nmi;
    tss.iomap_base = sizeof tss;      /* no I/O bitmap: IOPL alone decides */

    struct dtr g = { 7 * 8 - 1, (u64)gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "xorl %%eax, %%eax\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        :: "m"(g), "i"(SEL_KCODE), "i"(SEL_KDATA) : "rax", "memory");
    __asm__ volatile("ltr %w0" :: "r"(SEL_TSS));

    for (unsigned v = 0; v < 256; v++)
        if (isr_stubs[v])
            idt_set(idt, v, isr_stubs[v], v == VEC_INT80 ? 3 : 0, v == 8 ? 1 : v == 2 ? 2 : 0);
    struct dtr i = { sizeof idt - 1, (u64)idt };
    lidt(&i);
}

/* 8259A: ICW1-4, master at 0x20, slave at 0x28, all masked but IRQ0 (and the
 * cascade). 8254: channel 0, mode 2, TIMER_HZ. */
void pic_pit_init(void)
{
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, IRQ_BASE);
    outb(0xa1, IRQ_BASE + 8);
    outb(0x21, 4);
    outb(0xa1, 2);
    outb(0x21, 1);
    outb(0xa1, 1);
    outb(0x21, 0xfa);                 /* unmask IRQ0 and IRQ2 */
    outb(0xa1, 0xff);
    unsigned div = 1193182 / TIMER_HZ;
    outb(0x43, 0x34);
    outb(0x40, div & 0xff);
    outb(0x40, div >> 8);
}

void pic_eoi(unsigned irq)
{
    if (irq >= 8)
        outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

extern void syscall_entry(void);

/* SYSCALL/SYSRET (SDM 5.8.8): STAR[47:32] = kernel CS (SS = +8),
 * STAR[63:48] + 16 = user CS, + 8 = user SS; FMASK clears IF, TF, DF, AC, NT
 * so system calls run with interrupts off until they block. */
void syscall_msr_init(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((u64)(SEL_KDATA) << 48) | ((u64)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (u64)syscall_entry);
    wrmsr(MSR_FMASK, 0x47700);
}
