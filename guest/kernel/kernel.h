/* testos: common types, CPU primitives and the kernel-wide constants. */
#ifndef TESTOS_KERNEL_H
#define TESTOS_KERNEL_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t i64;
typedef int32_t i32;

/* Memory layout (docs/testos.md, "Memory layout"). */
#define KERNEL_VMA_OFFSET 0xffffffff80000000ul  /* kernel image: virt = phys + this */
#define DIRECT_MAP_BASE   0xffff800000000000ul  /* available RAM below PHYS_LIMIT   */
#define KMAP_BASE         0xffff880000000000ul  /* temporary mappings, 512 x 4 KiB   */
#define KMAP_SLOTS        512
#define KSTACK_BASE       0xffffff0000000000ul  /* per-process kernel stacks         */
#define KSTACK_SLOT_SIZE  0x10000ul             /* 64 KiB: 16 KiB stack + guard      */
#define KSTACK_PAGES      4
#define PHYS_LIMIT        0x01800000ul          /* testos never uses RAM above 24 MiB */

#define USER_IMAGE_BASE   0x0000000000400000ul
#define USER_HEAP_BASE    0x0000000010000000ul
#define USER_HEAP_MAX     (16ul << 20)
#define USER_STACK_TOP    0x0000000080000000ul
#define USER_STACK_PAGES  4
#define USER_TOP          0x0000800000000000ul

#define PAGE_SIZE 4096ul
#define PAGE_MASK (~(PAGE_SIZE - 1))

/* Page-table entry bits (SDM Vol. 3, 4.5). PTE_OWNED (an available bit)
 * marks a leaf whose frame belongs to the address space and is freed with it;
 * alias mappings of someone else's frames never carry it. */
#define PTE_P     (1ul << 0)
#define PTE_W     (1ul << 1)
#define PTE_U     (1ul << 2)
#define PTE_PS    (1ul << 7)
#define PTE_G     (1ul << 8)
#define PTE_OWNED (1ul << 9)
#define PTE_NX    (1ul << 63)
#define PTE_ADDR  0x000ffffffffff000ul

/* Segment selectors: the order SYSCALL/SYSRET need (STAR, SDM 5.8.8). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS   0x28

#define CR0_WP   (1ul << 16)
#define CR0_NE   (1ul << 5)
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)
#define CR4_VMXE (1ul << 13)
#define RFLAGS_IF 0x200ul

#define MSR_EFER   0xc0000080
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_FMASK  0xc0000084
#define EFER_SCE   (1ul << 0)
#define EFER_NXE   (1ul << 11)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

#define DEFINE_CR(n) \
    static inline u64 read_cr##n(void) { u64 v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(u64 v) { __asm__ volatile("mov %0, %%cr" #n :: "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(u64 va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline u64 irq_save(void)
{
    u64 f;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) :: "memory");
    return f;
}
static inline void irq_restore(u64 f)
{
    if (f & RFLAGS_IF)
        sti();
}
static inline void serialize(void)
{
    u32 a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
}

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strlcpy(char *d, const char *s, size_t n);
bool parse_u64(const char *s, size_t n, u64 *out);
u64 rand64(void);

/* console.c */
void console_init(u16 port);
u16 console_port(void);
void kputs(const char *s);
void console_flush(void);
void kwrite(const char *s, size_t n);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
bool uart_write_raw(u16 port, const char *s, size_t n);

/* power.c */
void acpi_init(u64 rsdp_phys_copy_addr, size_t len);
void power_off(void) __attribute__((noreturn));
extern bool poweroff_acpi_only;

/* panic */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Kernel image bounds from kernel.ld. */
extern char __kernel_phys_start[], __kernel_phys_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_start[], __bss_end[], __kernel_end[];

extern volatile u64 ticks;
extern bool cpu_has_smep;

#endif
