/* GDT with a 64-bit TSS, and the IDT for vigil's own exceptions. #DF, NMI and
 * #MC run on their own IST stacks so that a blown stack still yields a crash
 * report instead of a triple fault. */
#include "arch/x86_64/trap.h"
#include "lib/string.h"

_Static_assert(sizeof(struct tss) == 104, "TSS is 104 bytes (SDM 8.7)");

struct idt_gate {
    u16 off_lo, sel;
    u8 ist, type;
    u16 off_mid;
    u32 off_hi, reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

struct dtr {
    u16 limit;
    u64 base;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(16)));
static bool idt_built;
extern const u64 isr_table[32];

/* The IDT is one for all CPUs; each CPU has its own GDT, TSS and IST stacks
 * (a TSS is marked busy by LTR, and a stack serves one CPU). */
void desc_init(struct cpu_desc *d)
{
    u64 *gdt = d->gdt;
    struct tss *tss = &d->tss;
    gdt[0] = 0;
    gdt[SEL_CODE / 8] = 0x00af9b000000ffffull;   /* 64-bit code, DPL 0, accessed */
    gdt[SEL_DATA / 8] = 0x00cf93000000ffffull;   /* data, DPL 0, accessed */
    u64 t = (u64)tss, lim = sizeof(*tss) - 1;
    gdt[SEL_TSS / 8] = (lim & 0xffff) | ((t & 0xffffff) << 16) | (0x89ull << 40) |
                       ((lim >> 16 & 0xf) << 48) | ((t >> 24 & 0xff) << 56);
    gdt[SEL_TSS / 8 + 1] = t >> 32;

    memset(tss, 0, sizeof(*tss));
    for (int i = 0; i < 3; i++)
        tss->ist[i] = (u64)&d->ist[i][DESC_IST_STACK];
    tss->iomap_base = sizeof(*tss);              /* no I/O permission bitmap */

    if (!idt_built) {                            /* the boot CPU builds it */
        for (int v = 0; v < 32; v++) {
            u64 h = isr_table[v];
            idt[v].off_lo = (u16)h;
            idt[v].sel = SEL_CODE;
            idt[v].ist = v == 8 ? 1 : v == 2 ? 2 : v == 18 ? 3 : 0;
            idt[v].type = 0x8e;                  /* present, DPL 0, interrupt gate */
            idt[v].off_mid = (u16)(h >> 16);
            idt[v].off_hi = (u32)(h >> 32);
            idt[v].reserved = 0;
        }
        idt_built = true;
    }
    struct dtr g = { sizeof(d->gdt) - 1, (u64)gdt }, i = { sizeof(idt) - 1, (u64)idt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %2\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w3, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "ltr %w4\n\t"
        "lidt %1"
        :: "m"(g), "m"(i), "i"(SEL_CODE), "i"(SEL_DATA), "r"((u16)SEL_TSS) : "rax", "memory");
}

u64 desc_idt_base(void) { return (u64)idt; }
