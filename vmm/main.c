/* vigil's C entry: console, boot information, memory, CPU, then the guest. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/uart.h"
#include "lib/cmdline.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vmm/hvmem.h"
#include "vmm/vmxcap.h"
#include "vmm/vmm.h"
#include "vmm/exit.h"
#include "vmm/acpi.h"
#include "vmm/tsc.h"
#include "vmm/introspect.h"
#include "vmm/wallclock.h"
#include "vmm/smbios.h"
#include "vmm/guestmem.h"
#include "vmm/smp.h"
#include "ids/ids.h"

#define VIGIL_VERSION "0.1"

static u16 console_port = COM1_PORT;
static struct boot_info boot;

static u32 console_write(const char *buf, u32 n, bool wait) { return uart_write(console_port, buf, n, wait); }

/* Options on vigil's own command line. Unknown or bad ones are reported and
 * ignored: the console must come up whatever the line says. */
static void apply_cmdline(const char *line)
{
    const char *p = line;
    char key[32], val[80];
    bool cut;
    while (cmdline_next(&p, key, sizeof(key), val, sizeof(val), &cut)) {
        if (!strcmp(key, "console")) {
            if (strcmp(val, "com1") && strcmp(val, "com2"))
                log_warn("vigil: console=%s is not com1 or com2; using com1\n", val);
        } else if (!strcmp(key, "loglevel")) {
            enum log_level l;
            if (log_parse_level(val, &l))
                log_set_level(l);
            else
                log_warn("vigil: loglevel=%s is not error|warn|info|debug; keeping info\n", val);
        } else if (!strcmp(key, "cpus")) {
            u64 n;
            if (str_to_u64(val, strlen(val), &n) && n >= 1 && n <= VIGIL_MAX_CPUS)
                smp_set_limit((u32)n);
            else
                log_warn("vigil: cpus=%s is not a number from 1 to %u; offering every CPU\n", val, VIGIL_MAX_CPUS);
        } else if (!strcmp(key, "host")) {
            if (!wallclock_set_host(val))
                log_warn("vigil: host=%s is not a host name (1-63 letters, digits, '-', '.', '_'); records carry "
                         "no host\n", val);
        } else if (!strcmp(key, "ids")) {
            if (strcmp(val, "on") && strcmp(val, "off"))
                log_warn("vigil: ids=%s is not on or off; keeping on\n", val);
        } else {
            log_warn("vigil: unknown option '%s' on the command line, ignored\n", key);
        }
    }
}

/* Without host=, the machine is named by its SMBIOS system UUID, where the
 * firmware gives one: the entry point in the BIOS ROM area, the table below
 * 4 GiB (vigil maps the first 4 GiB as they are). Under UEFI the entry
 * point is in the EFI configuration table, which vigil does not read. */
static void host_from_smbios(void)
{
    u64 table;
    u32 len;
    char uuid[37];
    if (!smbios_find((const u8 *)0xf0000ull, 0x10000, &table, &len)) {
        kprintf("vigil: host: none (no host= and no SMBIOS entry point)\n");
        return;
    }
    if (len > 0x10000)
        len = 0x10000;
    if (!table || table + len > GiB(4) || !smbios_uuid((const u8 *)table, len, uuid)) {
        kprintf("vigil: host: none (no host= and no SMBIOS system UUID)\n");
        return;
    }
    wallclock_set_host(uuid);
    kprintf("vigil: host: %s (SMBIOS system UUID)\n", uuid);
}

static void print_cpu(void)
{
    u32 a, b, c, d;
    char vendor[13], brand[49];
    cpuid(0, 0, &a, &b, &c, &d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    cpuid(1, 0, &a, &b, &c, &d);
    u32 family = a >> 8 & 0xf, model = a >> 4 & 0xf, stepping = a & 0xf;
    if (family == 6 || family == 15)
        model |= (a >> 16 & 0xf) << 4;
    if (family == 15)
        family += a >> 20 & 0xff;
    brand[0] = 0;
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    if (a >= 0x80000004) {
        for (u32 i = 0; i < 3; i++) {
            u32 *w = (u32 *)(brand + i * 16);
            cpuid(0x80000002 + i, 0, &w[0], &w[1], &w[2], &w[3]);
        }
        brand[48] = 0;
    }
    const char *bp = brand;
    while (*bp == ' ')
        bp++;
    kprintf("vigil: CPU: %s family 0x%x model 0x%x stepping %u \"%s\"\n", vendor, family, model, stepping, bp);
}

static void print_boot_info(void)
{
    kprintf("vigil: loaded by \"%s\", command line \"%s\"\n", boot.loader[0] ? boot.loader : "(unnamed loader)",
            boot.cmdline);
    kprintf("vigil: memory map (%u entries, %llu MiB available):\n", boot.mmap_count,
            (unsigned long long)(memmap_available(&boot) >> 20));
    for (u32 i = 0; i < boot.mmap_count; i++) {
        const struct mb2_mmap_entry *e = &boot.mmap[i];
        kprintf("  0x%016llx-0x%016llx  %-16s (type %u)\n", (unsigned long long)e->base,
                (unsigned long long)(e->base + e->len), mb2_mem_type_name(e->type), e->type);
    }
    kprintf("vigil: %u module%s\n", boot.module_count, boot.module_count == 1 ? "" : "s");
    for (u32 i = 0; i < boot.module_count; i++) {
        const struct mb2_module *m = &boot.modules[i];
        kprintf("  0x%016llx-0x%016llx  %-8s %llu bytes  \"%s\"\n", (unsigned long long)m->start,
                (unsigned long long)m->end, m->name, (unsigned long long)(m->end - m->start), m->args);
        if (strcmp(m->name, "guest") && strcmp(m->name, "policy") && strcmp(m->name, "profile") &&
            strcmp(m->name, "initrd"))
            log_warn("vigil: module '%s' has a name vigil does not know (guest, policy, profile, initrd)\n",
                     m->name);
    }
    if (boot.rsdp_rev)
        kprintf("vigil: ACPI RSDP revision %u passed by the loader\n", boot.rsdp[15]);
    else
        kprintf("vigil: no ACPI RSDP passed by the loader\n");
}

void vigil_main(u32 magic, u32 mbi_phys);

void vigil_main(u32 magic, u32 mbi_phys)
{
    char err[160];
    /* The information structure lies in RAM the boot tables map (< 4 GiB);
     * the parser bounds every read by total_size and by what is left below
     * 4 GiB. */
    size_t avail = mbi_phys ? (size_t)(GiB(4) - mbi_phys) : 0;
    int perr = mb2_parse((const void *)(u64)mbi_phys, avail, mbi_phys, &boot, err, sizeof(err));

    char val[8];
    if (perr == 0 && cmdline_get(boot.cmdline, "console", val, sizeof(val)) && !strcmp(val, "com2"))
        console_port = COM2_PORT;
    uart_init(console_port);
    log_set_console(console_write);
    smp_init_boot_cpu();                /* GS base, GDT/TSS/IDT, the log lock */

    kprintf("\nvigil %s: hypervisor-based intrusion detection (x86-64, VT-x + EPT)\n", VIGIL_VERSION);
    if (magic != MB2_BOOTLOADER_MAGIC)     /* boot.asm checks this first; keep C honest too */
        vigil_panic("not loaded by a multiboot2 loader (magic 0x%x)", magic);
    if (perr)
        vigil_panic("bad boot information: %s", err);
    apply_cmdline(boot.cmdline);
    print_boot_info();
    print_cpu();
    wallclock_init();
    if (vmm_host_name())
        kprintf("vigil: host: %s (host=)\n", vmm_host_name());
    else
        host_from_smbios();
    hvmem_init(&boot);

    struct vmx_msrs msrs;
    struct vmx_caps caps;
    const char *why;
    vmxcap_read(&msrs);
    vmxcap_decode(&msrs, &caps);
    vmxcap_report(&msrs, &caps);
    if (!vmxcap_usable(&msrs, &caps, &why))
        vigil_panic("cannot run guests: %s", why);
    kprintf("vigil: VT-x is usable\n");

    tsc_calibrate();
    static struct acpi_power acpi;
    acpi_init(&boot, &acpi);
    vmm_set_platform(console_port, &acpi);
    guestmem_init(&boot);
    char ids_opt[8] = "on";
    cmdline_get(boot.cmdline, "ids", ids_opt, sizeof(ids_opt));
    if (mb2_find_module(&boot, "guest") && !ids_init(&boot, strcmp(ids_opt, "off") != 0))
        vigil_halt();
    vmm_run_guest(&boot, &msrs, &caps, console_port);
}
