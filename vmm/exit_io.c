/* Port I/O exits (reason 30; qualification in SDM Vol. 3, Table 28-5). Only
 * the ports set in the I/O bitmaps exit: vigil's console (refused: writes
 * dropped, reads float high), the ports the IDS trapped (judged first), and
 * the ports through which a guest turns the machine off or resets it
 * (turned into an orderly guest power-off), and PCI configuration space and
 * the IDE bus master, which vigil carries out itself (vmm/pci.c). An access of 2 or 4 bytes
 * covers as many ports, and each is checked. */
#include "vmm/exit.h"
#include "vmm/vmx.h"
#include "vmm/pci.h"
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

/* INS/OUTS (with or without REP) to a port a policy allows: emulated a
 * slice at a time, element by element, through the guest's paging. A long
 * REP is done in slices of at most STRING_SLICE elements: RIP stays on the
 * instruction until RCX runs out, as when an interrupt splits it. */
#define STRING_SLICE 4096

static enum exit_action string_io(struct vcpu *v, u64 q, u16 port, u32 size, bool in)
{
    bool rep = q >> 5 & 1, x64 = (vmread(GUEST_CS_AR) >> 13 & 1) && (vmread(GUEST_IA32_EFER) >> 10 & 1);
    u32 info = v->insouts_info ? (u32)vmread(VMX_INSTRUCTION_INFO) : (x64 ? 2u << 7 : 1u << 7) | 3u << 15;
    u32 asz = info >> 7 & 7, seg = in ? 0 : info >> 15 & 7;       /* INS always writes ES:rDI */
    if (asz > 2 || seg > 5) {
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    u64 amask = asz == 0 ? 0xffff : asz == 1 ? 0xffffffff : ~0ull;
    u64 base = guest_seg_base(seg, x64);
    u64 *idx = in ? &v->regs->rdi : &v->regs->rsi;
    u64 step = vmread(GUEST_RFLAGS) >> 10 & 1 ? (u64)-(s64)size : size;   /* DF */
    u64 count = rep ? v->regs->rcx & amask : 1;
    for (u64 i = 0; i < count && i < STRING_SLICE; i++) {
        u64 la = base + (*idx & amask);
        u32 val = 0;
        enum exit_action act;
        if (in) {
            /* The buffer is checked before the port is read: a faulting
             * INS consumes no data (as on the CPU, which checks first). */
            if (!guest_access(v, la, 0, size, GA_WRITE | GA_CHECK_ONLY, &act))
                return act == EXIT_ADVANCE && i ? EXIT_RESUME : act;
            val = port_in(port, size);
            guest_linear(la, &val, size, true);
        } else {
            if (!guest_access(v, la, &val, size, 0, &act))
                return act == EXIT_ADVANCE && i ? EXIT_RESUME : act;
            port_out(port, size, val);
        }
        *idx = (*idx & ~amask) | ((*idx + step) & amask);
        if (rep)
            v->regs->rcx = (v->regs->rcx & ~amask) | ((v->regs->rcx - 1) & amask);
    }
    return rep && (v->regs->rcx & amask) ? EXIT_RESUME : EXIT_ADVANCE;
}

/* A byte of this access went to a port that turns the machine off or
 * resets it: the power-off is vigil's, after its summary. Every byte of a
 * wide access counts (a word written at 0xcf8 reaches 0xcf9), except that a
 * doubleword at 0xcf8 is the PCI configuration address (CONFIG_ADDRESS):
 * the chipset decodes it whole, and it never reaches the reset control
 * register at 0xcf9 (Linux writes it for every PCI configuration access). */
static void power_ports(struct vcpu *v, u16 port, u32 size, u32 val)
{
    const struct acpi_power *acpi = vmm_acpi();
    u8 b;
    if (io_byte_at(port, size, val, 0x8900, &b)) {
        /* Bochs powers off on the bytes "Shutdown"; vigil collects them and
         * sends them itself after its summary. */
        static const char word[] = "Shutdown";
        v->shutdown_match = b == (u8)word[v->shutdown_match] ? v->shutdown_match + 1 : b == 'S' ? 1 : 0;
        if (v->shutdown_match == 8)
            vmm_guest_poweroff(POWER_BOCHS, 0x8900, 0);
    }
    if (trap_ports_touch(port, size, 0xf4, 0xf7))
        vmm_guest_poweroff(POWER_QEMU, 0xf4, val);
    /* SLP_EN (PM1 control bit 13): the guest asks for a sleep state. */
    if (acpi->valid && ((io_byte_at(port, size, val, (u16)(acpi->pm1a_cnt + 1), &b) && (b & 0x20)) ||
                        (acpi->pm1b_cnt && io_byte_at(port, size, val, (u16)(acpi->pm1b_cnt + 1), &b) && (b & 0x20))))
        vmm_guest_poweroff(POWER_ACPI, port, val);
    bool pci_config_address = port == 0xcf8 && size == 4;
    if ((!pci_config_address && io_byte_at(port, size, val, 0xcf9, &b) && (b & 4)) || (io_byte_at(port, size, val, 0x92, &b) && (b & 1)) ||
        (io_byte_at(port, size, val, 0x64, &b) && b == 0xfe))
        vmm_guest_poweroff(POWER_RESET, port, val);
}

enum exit_action exit_io(struct vcpu *v)
{
    u64 q = vmread(EXIT_QUALIFICATION);
    u32 size = (u32)(q & 7) + 1, in = q >> 3 & 1, string = q >> 4 & 1;
    u16 port = (u16)(q >> 16), con = vmm_console_port();
    u32 val = in ? 0 : (u32)v->regs->rax & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    const struct traps *t = vmm_traps();

    /* Every port an access covers is checked, here as in the I/O bitmap:
     * `out 0x3f7, ax` reaches 0x3f8 too. */
    if (trap_ports_touch(port, size, con, (u16)(con + 7))) {
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
        vmm_reach(v, trap_ports_touch(port, size, con, con) ? REACH_CONSOLE : REACH_CONSOLE_PROBE, port,
                  in ? "read" : "write", &act);
        return act;
    }
    int i = trap_port_next(t, port, size, 0);
    if (i >= 0) {
        /* Ports the IDS trapped: every subscription the access touches
         * judges it before it happens; the worst verdict stands. */
        struct ids_verdict verdict = { IDS_ALLOW, 0, 0 };
        for (; i >= 0; i = trap_port_next(t, port, size, i + 1)) {
            struct ids_event e;
            vmm_fill_event(&e, IDS_EV_IO);
            e.owner = t->port[i].owner;
            e.io.port = port;
            e.io.size = (u8)size;
            e.io.in = in;
            e.io.value = val;
            struct ids_verdict w = ids_event(&e);
            if (w.action > verdict.action)
                verdict = w;
        }
        if (verdict.action != IDS_ALLOW) {
            /* Refused: the instruction is skipped with no effect (a string
             * instruction moves no data and leaves its registers alone). */
            if (in && !string)
                set_in_result(v, size, 0xffffffffu);   /* nothing answers */
            return vmm_verdict_suspend(v, verdict, EXIT_ADVANCE);
        }
        if (pci_owns(port, size))
            return pci_io(v, port, size, in, string, val);
        if (string)
            return string_io(v, q, port, size, in);
        if (in)
            set_in_result(v, size, port_in(port, size));
        else
            port_out(port, size, val);
        return EXIT_ADVANCE;
    }
    /* PCI configuration space and the IDE bus master: vigil's to carry out
     * (vmm/pci.c), after any subscription above has judged the access. */
    if (pci_owns(port, size))
        return pci_io(v, port, size, in, string, val);
    if (string) {
        /* String I/O to a power or reset port: refused rather than emulated. */
        vcpu_inject_gp();
        return EXIT_RESUME;
    }
    if (in) {
        bool none = trap_ports_touch(port, size, 0x8900, 0x8900) || trap_ports_touch(port, size, 0xf4, 0xf7);
        set_in_result(v, size, none ? 0xffffffffu : port_in(port, size));
        return EXIT_ADVANCE;
    }
    power_ports(v, port, size, val);
    u8 b;
    if (io_byte_at(port, size, val, 0x92, &b))
        val &= ~(1u << (8 * (0x92 - port)));          /* the fast-reset bit never reaches the chipset */
    if (!io_byte_at(port, size, val, 0x8900, &b))
        port_out(port, size, val);
    return EXIT_ADVANCE;
}
