/* Port I/O exits (reason 30; qualification in SDM Vol. 3, Table 28-5). Only
 * the ports set in the I/O bitmaps exit: vigil's console (refused: writes
 * dropped, reads float high), and the ports through which a guest turns the
 * machine off or resets it (turned into an orderly guest power-off). */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"

static u32 port_in(u16 port, u32 size)
{
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(u16 port, u32 size, u32 val)
{
    if (size == 1)
        outb(port, (u8)val);
    else if (size == 2)
        outw(port, (u16)val);
    else
        outl(port, val);
}

static void set_in_result(struct vcpu *v, u32 size, u32 val)
{
    u64 rax = v->regs->rax;
    if (size == 1)
        rax = (rax & ~0xffull) | (val & 0xff);
    else if (size == 2)
        rax = (rax & ~0xffffull) | (val & 0xffff);
    else
        rax = val;                               /* a 32-bit result zero-extends */
    v->regs->rax = rax;
}

enum exit_action exit_io(struct vcpu *v)
{
    u64 q = vmread(EXIT_QUALIFICATION);
    u32 size = (u32)(q & 7) + 1, in = q >> 3 & 1, string = q >> 4 & 1;
    u16 port = (u16)(q >> 16), con = vmm_console_port();
    u32 val = in ? 0 : (u32)v->regs->rax & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    const struct acpi_power *acpi = vmm_acpi();

    if (port >= con && port < con + 8) {
        /* vigil's console: the guest may neither write into it nor read
         * what the operator types. */
        if (v->console_refusals++ == 0)
            kprintf("vigil: refused guest %s of vigil's console port 0x%x at rip 0x%llx (further refusals counted)\n",
                    in ? "read" : "write", port, (unsigned long long)vmread(GUEST_RIP));
        enum exit_action act = EXIT_ADVANCE;
        if (string) {
            vcpu_inject_gp();
            act = EXIT_RESUME;
        } else if (in) {
            set_in_result(v, size, 0xffffffffu);
        }
        struct ids_event e;
        vmm_fill_event(&e, IDS_EV_HV_REACH);
        e.reach.what = REACH_CONSOLE;
        e.reach.addr = port;
        e.reach.detail = in ? "read" : "write";
        return vmm_verdict_suspend(v, ids_event(&e), act);
    }
    if (string) {
        /* String I/O to a power or reset port: refused rather than emulated. */
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    if (vmm_port_watched(port)) {
        /* A port an IDS policy watches: judged before it happens. */
        struct ids_event e;
        vmm_fill_event(&e, IDS_EV_IO);
        e.io.port = port;
        e.io.size = (u8)size;
        e.io.in = in;
        e.io.value = val;
        struct ids_verdict verdict = ids_event(&e);
        if (verdict.action != IDS_ALLOW) {
            if (string) {
                vcpu_inject_gp();
                return vmm_verdict_suspend(v, verdict, EXIT_RESUME);
            }
            if (in)
                set_in_result(v, size, 0xffffffffu);   /* nothing answers */
            return vmm_verdict_suspend(v, verdict, EXIT_ADVANCE);
        }
        if (!string) {
            if (in)
                set_in_result(v, size, port_in(port, size));
            else
                port_out(port, size, val);
            return EXIT_ADVANCE;
        }
    }
    if (in) {
        u32 r = port == 0x8900 || (port >= 0xf4 && port < 0xf8) ? 0xffffffffu : port_in(port, size);
        set_in_result(v, size, r);
        return EXIT_ADVANCE;
    }

    if (port == 0x8900) {
        /* Bochs powers off on the bytes "Shutdown"; vigil collects them and
         * sends them itself after its summary. */
        static const char word[] = "Shutdown";
        u8 c = (u8)val;
        v->shutdown_match = c == (u8)word[v->shutdown_match] ? v->shutdown_match + 1 : c == 'S' ? 1 : 0;
        if (v->shutdown_match == 8)
            vmm_guest_poweroff(POWER_BOCHS, port, 0);
        return EXIT_ADVANCE;
    }
    if (port >= 0xf4 && port < 0xf8)
        vmm_guest_poweroff(POWER_QEMU, 0xf4, val);
    if (acpi->valid && (port == acpi->pm1a_cnt || (acpi->pm1b_cnt && port == acpi->pm1b_cnt)) &&
        (val & (1u << 13)))
        vmm_guest_poweroff(POWER_ACPI, port, val);  /* SLP_EN: the guest asks for a sleep state */
    if ((port == 0xcf9 && (val & 4)) || (port == 0x92 && (val & 1)) || (port == 0x64 && (val & 0xff) == 0xfe))
        vmm_guest_poweroff(POWER_RESET, port, val);
    if (port == 0x92)
        val &= ~1u;
    port_out(port, size, val);
    return EXIT_ADVANCE;
}
