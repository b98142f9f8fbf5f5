/* testos: boot in C. kmain_early runs on the boot stack in the higher half,
 * still on the boot page tables, and becomes the idle thread (pid 0). */
#include "boot.h"
#include "mm.h"
#include "desc.h"
#include "proc.h"
#include "scenario.h"

bool cpu_has_smep;

static const char *const known_opts[] = { "scenario", "console", "hide", "poweroff", "rawio_proc", "flood" };

static void check_options(const char *cmdline)
{
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *tok = p;
        while (*p && *p != ' ')
            p++;
        if (p == tok)
            break;
        const char *eq = tok;
        while (eq < p && *eq != '=')
            eq++;
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(known_opts) && eq < p; i++)
            known |= (size_t)(eq - tok) == strlen(known_opts[i]) && !strncmp(tok, known_opts[i], eq - tok);
        if (!known) {
            char t[64];
            size_t n = (size_t)(p - tok) < sizeof t - 1 ? (size_t)(p - tok) : sizeof t - 1;
            memcpy(t, tok, n);
            t[n] = 0;
            kprintf("testos: unknown option '%s' on the command line, ignored\n", t);
        }
    }
}

void kmain_early(u32 ext_edx, u32 copied, u32 total)
{
    char err[128], opt[64];
    bool ok = mb2_parse(mbi_copy, copied, total, &bootinfo, err, sizeof err);
    u16 port = 0x2f8;
    bool bad_console = false;
    if (ok && cmdline_get(bootinfo.cmdline, "console", opt, sizeof opt)) {
        if (!strcmp(opt, "com1"))
            port = 0x3f8;
        else
            bad_console = strcmp(opt, "com2") != 0;
    }
    console_init(port);
    if (!ok)
        panic("bad multiboot2 information: %s", err);
    kprintf("testos: booted by \"%s\", command line \"%s\"\n", bootinfo.loader, bootinfo.cmdline);
    if (bad_console)
        kprintf("testos: console=%s is neither com1 nor com2; using com2\n", opt);
    check_options(bootinfo.cmdline);
    if (!(ext_edx & (1u << 20)))
        panic("this CPU has no NX (CPUID.80000001H:EDX bit 20); testos maps data non-executable");
    if (cmdline_get(bootinfo.cmdline, "poweroff", opt, sizeof opt))
        poweroff_acpi_only = !strcmp(opt, "acpi");
    if (cmdline_get(bootinfo.cmdline, "hide", opt, sizeof opt)) {
        char *dash = opt;
        while (*dash && *dash != '-')
            dash++;
        u64 s, e;
        if (*dash && parse_u64(opt, dash - opt, &s) && parse_u64(dash + 1, strlen(dash + 1), &e) && s < e) {
            mmap_hide(&bootinfo, s & PAGE_MASK, ALIGN_UP(e, PAGE_SIZE));
            kprintf("testos: hide=0x%lx-0x%lx: treating that range as reserved\n", s, e);
        } else {
            kprintf("testos: hide=%s is not START-END; ignored\n", opt);
        }
    }
    u64 avail = 0;
    for (int i = 0; i < bootinfo.nmmap; i++)
        if (bootinfo.mmap[i].type == MEM_AVAILABLE)
            avail += bootinfo.mmap[i].len;
    kprintf("testos: memory map, %d entries, %lu MiB available:\n", bootinfo.nmmap, avail >> 20);
    for (int i = 0; i < bootinfo.nmmap; i++)
        kprintf("  0x%016lx-0x%016lx %s\n", bootinfo.mmap[i].base,
                bootinfo.mmap[i].base + bootinfo.mmap[i].len, memtype_name(bootinfo.mmap[i].type));

    mm_init(&bootinfo);
    paging_init();
    desc_init();
    syscall_msr_init();
    u32 a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    if (a >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        cpu_has_smep = b & (1u << 7);
    }
    if (cpu_has_smep)
        write_cr4(read_cr4() | CR4_SMEP);
    write_cr0(read_cr0() | CR0_WP | CR0_NE);
    kprintf("testos: kernel 0x%lx-0x%lx (phys 0x%lx-0x%lx), %lu pages free for processes\n",
            (u64)__text_start, (u64)__kernel_end, (u64)__kernel_phys_start, (u64)__kernel_phys_end,
            palloc_free_count());
    kprintf("testos: paging on: NX, WP, %s; PIT %u Hz; SYSCALL entry 0x%lx\n",
            cpu_has_smep ? "SMEP" : "no SMEP (CPU lacks it)", TIMER_HZ, rdmsr(MSR_LSTAR));
    acpi_init((u64)bootinfo.rsdp, bootinfo.rsdp_len);

    sched_init();
    pic_pit_init();
    if (kthread_spawn("kmain", scenario_main, 0) < 0)
        panic("cannot start the scenario thread");
    for (;;) {
        cli();
        schedule();
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}
