/* Starting the guest: validate and load its kernel, build EPT and its boot
 * information, fill the VMCS, VMLAUNCH. */
#include "vmm/vmm.h"
#include "vmm/vmx.h"
#include "vmm/vmx_setup.h"
#include "vmm/vcpu.h"
#include "vmm/exit.h"
#include "vmm/ept.h"
#include "vmm/ipi.h"
#include "vmm/vtd.h"
#include "vmm/mtrr.h"
#include "vmm/hvmem.h"
#include "vmm/loader.h"
#include "vmm/guestinfo.h"
#include "vmm/linuxboot.h"
#include "vmm/palloc.h"
#include "vmm/smp.h"
#include "vmm/introspect.h"
#include "vmm/pci.h"
#include "vmm/pcidma.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "lib/log.h"
#include "lib/string.h"

#define LOADER_NAME "vigil 0.1"

bool vmx_launch(const struct guest_regs *regs);

static void *ept_page(void) { return hv_alloc_pages(1, 1); }

static u8 info_buf[16384];
static struct mb2_mmap_entry gmap[GUEST_MMAP_MAX];

static struct mb2_mmap_entry e820[LINUX_E820_MAX];

/* The guest is a Linux bzImage: the kernel's x86 boot protocol
 * (Documentation/x86/boot.rst, "32-bit boot protocol"). Checks and places
 * everything before VMX is turned on; fills *e and *esi. */
static void linux_prepare(const struct boot_info *bi, const struct mb2_module *gm, const struct mem_range *owned,
                          u32 nowned, struct linux_header *h, struct linux_plan *p)
{
    char err[200];
    const u8 *img = (const u8 *)gm->start;
    const struct mb2_module *initrd = mb2_find_module(bi, "initrd");
    if (linux_parse(img, gm->end - gm->start, h, err, sizeof(err)) ||
        linux_plan(h, bi, owned, nowned, gm->args, initrd, p, err, sizeof(err))) {
        kprintf("vigil: cannot start the guest: %s\n", err);
        vigil_halt();
    }
    kprintf("vigil: guest: Linux bzImage, boot protocol %u.%02u, %llu-byte kernel%s, init_size 0x%x, "
            "alignment 0x%x, xloadflags 0x%x\n", h->version >> 8, h->version & 0xff,
            (unsigned long long)h->pm_size, h->relocatable ? " (relocatable)" : "", h->init_size,
            h->kernel_alignment, h->xloadflags);
    kprintf("vigil: guest: kernel at 0x%llx (preferred 0x%llx), zero page at 0x%llx, initrd %s",
            (unsigned long long)p->kernel, (unsigned long long)h->pref_address, (unsigned long long)p->zero_page,
            initrd ? "" : "none\n");
    if (initrd)
        kprintf("at 0x%llx (%llu bytes)\n", (unsigned long long)p->initrd, (unsigned long long)p->initrd_size);
}

static bool is_vigil_module(const char *name)
{
    return !strcmp(name, "guest") || !strcmp(name, "policy") || !strcmp(name, "profile");
}

__attribute__((noreturn)) void vmm_run_guest(const struct boot_info *bi, const struct vmx_msrs *m, const struct vmx_caps *c,
                   u16 console_port)
{
    char err[200];
    const struct mb2_module *gm = mb2_find_module(bi, "guest");
    if (!gm) {
        kprintf("vigil: no module named 'guest': nothing to run (add `module2 /boot/KERNEL guest ...` "
                "to the GRUB entry)\n");
        vigil_halt();
    }
    const struct mem_range *owned;
    u32 nowned = hvmem_owned(&owned);
    bool is_linux = linux_is_bzimage((const u8 *)gm->start, gm->end - gm->start);
    struct linux_header lh;
    struct linux_plan lp;
    u32 ne820 = 0;
    if (is_linux) {
        linux_prepare(bi, gm, owned, nowned, &lh, &lp);
        ne820 = linux_e820(bi, owned, nowned, &lp, e820, LINUX_E820_MAX);
        if (!ne820)
            vigil_panic("the guest's e820 map does not fit %d entries", LINUX_E820_MAX);
        goto commit;
    }
    struct guest_image img;
    if (loader_check((const u8 *)gm->start, gm->end - gm->start, bi, owned, nowned, &img, err, sizeof(err))) {
        kprintf("vigil: cannot start the guest: %s\n", err);
        vigil_halt();
    }
    kprintf("vigil: guest: ELF%u, multiboot%u, %u segment%s, entry 0x%llx\n", img.elf_class,
            img.boot == GUEST_BOOT_MB2 ? 2 : 1, img.nseg, img.nseg == 1 ? "" : "s",
            (unsigned long long)img.entry);

    /* Boot information: memory map with vigil's ranges reserved, modules
     * passed on, placed high in guest RAM clear of everything else. */
    u32 ngmap = guest_mmap_build(bi, owned, nowned, gmap, GUEST_MMAP_MAX);
    if (!ngmap)
        vigil_panic("guest memory map does not fit %d entries", GUEST_MMAP_MAX);
    const struct mb2_module *pass[MB2_MAX_MODULES];
    u32 npass = 0;
    for (u32 i = 0; i < bi->module_count; i++)
        if (!is_vigil_module(bi->modules[i].name))
            pass[npass++] = &bi->modules[i];
    struct guest_boot_params p = { gm->args, LOADER_NAME, gmap, ngmap, pass, npass, bi };
    size_t isize = img.boot == GUEST_BOOT_MB2 ? guest_mb2_info(info_buf, sizeof(info_buf), &p)
                                               : guest_mb1_info(info_buf, sizeof(info_buf), 0, &p);
    if (!isize)
        vigil_panic("guest boot information does not fit %zu bytes", sizeof(info_buf));

    struct mem_range avoid[MEM_MAX_AVOID];
    u32 na = 0;
    avoid[na++] = (struct mem_range){ 0, MiB(1) };
    for (u32 i = 0; i < nowned && na < MEM_MAX_AVOID; i++)
        avoid[na++] = owned[i];
    for (u32 i = 0; i < img.nseg && na < MEM_MAX_AVOID; i++)
        avoid[na++] = (struct mem_range){ ALIGN_DOWN(img.seg[i].paddr, PAGE_SIZE),
                                          ALIGN_UP(img.seg[i].paddr + img.seg[i].memsz, PAGE_SIZE) };
    for (u32 i = 0; i < bi->module_count && na < MEM_MAX_AVOID; i++)
        avoid[na++] = (struct mem_range){ ALIGN_DOWN(bi->modules[i].start, PAGE_SIZE),
                                          ALIGN_UP(bi->modules[i].end, PAGE_SIZE) };
    u64 where;
    u64 need = ALIGN_UP(isize, 16) + 32;
    if (!memmap_place(bi, avoid, na, ALIGN_UP(need, PAGE_SIZE), PAGE_SIZE, MiB(1), GiB(4), &where))
        vigil_panic("no guest RAM below 4 GiB for the guest's boot information (%llu bytes)",
                    (unsigned long long)need);
    if (img.boot == GUEST_BOOT_MB1)
        isize = guest_mb1_info(info_buf, sizeof(info_buf), (u32)where, &p);

    /* From here on vigil commits: VMX on, EPT, the image copied in. */
commit:
    if (!vmx_enable(m, c, hv_alloc_pages(1, 1), true))
        vigil_panic("VMXON failed (CR0 0x%llx, CR4 0x%llx, feature control 0x%llx)", (unsigned long long)read_cr0(),
                    (unsigned long long)read_cr4(), (unsigned long long)rdmsr(MSR_IA32_FEATURE_CONTROL));
    /* Every other processor into VMX before anything of the guest's runs. */
    smp_start_aps(bi, m, c);
    struct mtrr_state mtrr;
    mtrr_read(&mtrr);
    u64 top = memmap_top(bi);
    /* EPT leaves out vigil's ranges, the MMCONFIG windows (the guest
     * reaches configuration space only through the ports vigil mediates)
     * and the VT-d units' registers (which vigil programs there). */
    struct mem_range holes[HV_OWNED_MAX + MCFG_MAX + DMAR_MAX_UNITS];
    u32 nholes = 0;
    for (u32 i = 0; i < nowned && nholes < HV_OWNED_MAX; i++)
        holes[nholes++] = owned[i];
    if (!pci_mcfg_holes(bi, holes, &nholes, ARRAY_SIZE(holes)))
        vigil_panic("the ACPI MCFG table cannot be honoured: vigil does not start the guest with "
                    "configuration space it cannot mediate");
    struct ept_stats es;
    u64 *pml4 = ept_build(holes, nholes, top, &mtrr, c->ept_1g, c->ept_2m, ept_page, &es);
    if (!pml4)
        vigil_panic("building EPT failed: page pool exhausted");
    if (!invept(INVEPT_ALL, 0))
        vigil_panic("INVEPT failed");
    introspect_init(pml4);
    kprintf("vigil: EPT: 0-0x%llx identity-mapped except vigil's ranges: %u x 1GiB, %u x 2MiB, %u x 4KiB pages, "
            "%u tables\n", (unsigned long long)es.top, es.pages_1g, es.pages_2m, es.pages_4k, es.tables);

    struct guest_entry e;
    u32 esi = 0;
    if (is_linux) {
        /* The protected-mode kernel, then the zero page; entry at its start
         * (code32_start) in 32-bit protected mode, paging and interrupts
         * off, ESI = the zero page, EBX = EBP = EDI = 0 (boot.rst). */
        memcpy((void *)lp.kernel, (const u8 *)gm->start + lh.pm_offset, lh.pm_size);
        linux_boot_pages((u8 *)lp.boot, (const u8 *)gm->start, &lh, &lp, e820, ne820, bi, gm->args);
        e = (struct guest_entry){ .eip = (u32)lp.kernel, .gdt_base = (u32)lp.gdt, .gdt_limit = 31,
                                  .cs_sel = 0x10, .ds_sel = 0x18 };
        esi = (u32)lp.zero_page;
        vmcs_setup(m, c, ept_pointer(pml4), &e, console_port);
        kprintf("vigil: zero page for the guest at 0x%llx (%u e820 entries), command line \"%s\"\n",
                (unsigned long long)lp.zero_page, ne820, gm->args);
    } else {
        for (u32 i = 0; i < img.nseg; i++) {
            const struct guest_segment *s = &img.seg[i];
            memcpy((void *)s->paddr, (const u8 *)gm->start + s->offset, s->filesz);
            memset((u8 *)s->paddr + s->filesz, 0, s->memsz - s->filesz);
        }
        memcpy((void *)where, info_buf, isize);
        /* A flat GDT (null, null, code 0x10, data 0x18), as GRUB leaves one;
         * the guest must load its own before reloading segments. */
        u64 gdt = where + ALIGN_UP(isize, 16);
        u64 *g = (u64 *)gdt;
        g[0] = g[1] = 0;
        g[2] = 0x00cf9b000000ffffull;
        g[3] = 0x00cf93000000ffffull;

        e = (struct guest_entry){
            .eip = (u32)img.entry,
            .eax = img.boot == GUEST_BOOT_MB2 ? MB2_BOOTLOADER_MAGIC : 0x2badb002u,
            .ebx = (u32)where,
            .gdt_base = (u32)gdt, .gdt_limit = 31, .cs_sel = 0x10, .ds_sel = 0x18,
        };
        vmcs_setup(m, c, ept_pointer(pml4), &e, console_port);
        kprintf("vigil: boot information for the guest at 0x%llx (%zu bytes), command line \"%s\"\n",
                (unsigned long long)where, isize, gm->args);
    }
    kprintf("vigil: launching the guest at 0x%x\n", e.eip);
    ipi_init(pml4);
    pci_init();

    /* The IDS sets up its traps (protected pages, watched ports) now, while
     * allocation is still allowed and before the guest runs. */
    struct ids_event start;
    vmm_fill_event(&start, IDS_EV_START);
    bool refused = ids_event(&start).action != IDS_ALLOW;
    vmm_trap_report();
    if (refused)
        vigil_halt();
    pci_boot_scan();

    smp_launch_aps();
    log_set_async(true);                 /* from here on the console never stalls the guest */
    static struct guest_regs regs;
    regs.rax = e.eax;
    regs.rbx = e.ebx;
    regs.rsi = esi;
    struct cpu *self = this_cpu();
    self->vcpu.regs = &regs;
    vmm_launch_tsc = rdtsc();
    kprintf("vigil: guest time 0 (alert records' time_ns) is TSC %llu\n", (unsigned long long)vmm_launch_tsc);
    smp_before_entry(self, GM_GUEST);
    vmx_launch(&regs);
    self->mode = GM_ROOT;

    /* Only here if VMLAUNCH itself failed (VMfailValid: the controls or the
     * host state; guest-state failures arrive as a VM exit instead). */
    u32 ierr = (u32)vmread(VM_INSTRUCTION_ERROR);
    kprintf("vigil: VMLAUNCH failed: VM-instruction error %u (%s)\n", ierr, vmx_instruction_error_name(ierr));
    vmcs_diagnose();
    vmm_dump_state();
    vigil_halt();
}
