/* vCPU run state: suspend and resume, the final summary, and power-off. */
#include "vmm/exit.h"
#include "vmm/pci.h"
#include "vmm/exit_reasons.h"
#include "vmm/vmx.h"
#include "vmm/tsc.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/uart.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/fmt.h"
#include "lib/spinlock.h"
#include "vmm/smp.h"
#include "ids/ids.h"

static u16 console_port;
static const struct acpi_power *acpi;

void vmm_set_platform(u16 port, const struct acpi_power *a)
{
    console_port = port;
    acpi = a;
}

u16 vmm_console_port(void) { return console_port; }
const struct acpi_power *vmm_acpi(void) { return acpi; }

#define EXIT_REASON_NAME(n, id, name) [n] = name,
static const char *const reason_names[EXIT_REASON_COUNT] = { EXIT_REASONS(EXIT_REASON_NAME) };
#undef EXIT_REASON_NAME

const char *exit_reason_name(u32 r)
{
    return r < EXIT_REASON_COUNT && reason_names[r] ? reason_names[r] : "unknown";
}

/* The totals over every vCPU (their counters are stable: the caller holds
 * the world), then each vCPU's own line when there are several. */
void vmm_print_summary(void)
{
    u64 elapsed = rdtsc() - vmm_launch_tsc, in_vigil = 0, exits = 0, hv = 0, con = 0;
    u64 count[EXIT_REASON_COUNT], cycles[EXIT_REASON_COUNT];
    memset(count, 0, sizeof(count));
    memset(cycles, 0, sizeof(cycles));
    for (u32 c = 0; c < ncpus; c++) {
        const struct vcpu *v = &cpus[c].vcpu;
        exits += v->exits;
        hv += v->hv_mem_refusals;
        con += v->console_refusals;
        for (u32 i = 0; i < EXIT_REASON_COUNT; i++) {
            count[i] += v->exit_count[i];
            cycles[i] += v->exit_cycles[i];
            in_vigil += v->exit_cycles[i];
        }
    }
    kprintf("vigil: summary: guest ran %llu ms (%llu TSC cycles); %llu VM exits; %llu cycles in vigil (%llu.%llu%%)\n",
            (unsigned long long)(tsc_to_ns(elapsed) / 1000000), (unsigned long long)elapsed,
            (unsigned long long)exits, (unsigned long long)in_vigil,
            (unsigned long long)(elapsed && ncpus ? in_vigil * 100 / elapsed / ncpus : 0),
            (unsigned long long)(elapsed && ncpus ? in_vigil * 1000 / elapsed / ncpus % 10 : 0));
    kprintf("vigil: exits by reason:      reason  count  cycles  cycles/exit\n");
    for (u32 i = 0; i < EXIT_REASON_COUNT; i++)
        if (count[i])
            kprintf("  %2u %-26s %10llu %12llu %8llu\n", i, exit_reason_name(i), (unsigned long long)count[i],
                    (unsigned long long)cycles[i], (unsigned long long)(cycles[i] / count[i]));
    for (u32 c = 0; ncpus > 1 && c < ncpus; c++) {
        const struct vcpu *v = &cpus[c].vcpu;
        kprintf("vigil: vCPU %u (APIC ID %u): %llu exits:", c, cpus[c].apic_id, (unsigned long long)v->exits);
        for (u32 i = 0; i < EXIT_REASON_COUNT; i++)
            if (v->exit_count[i])
                kprintf(" %s %llu", exit_reason_name(i), (unsigned long long)v->exit_count[i]);
        kprintf("\n");
    }
    smp_print_summary();
    pci_print_summary();
    kprintf("vigil: refused: %llu accesses to hypervisor memory, %llu to vigil's console ports\n",
            (unsigned long long)hv, (unsigned long long)con);
    struct log_stats ls;
    log_get_stats(&ls);
    kprintf("vigil: console: %llu bytes through a %u-byte ring (at most %u queued); %llu lines waited for room, "
            "%llu records found it full\n", (unsigned long long)ls.bytes, LOG_RING_SIZE, ls.high_water,
            (unsigned long long)ls.waits, (unsigned long long)ls.records_dropped);
    ids_print_summary();
}

static void bochs_shutdown(void)
{
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (u8)*s);
}

/* Every way vigil knows to turn the machine off, in turn. */
static void machine_poweroff(void)
{
    log_flush();
    acpi_poweroff(acpi);
    bochs_shutdown();
    outb(0xf4, 0);                               /* QEMU isa-debug-exit */
}

void vmm_guest_poweroff(enum power_how how, u16 port, u32 value)
{
    static const char *const hows[] = {
        [POWER_BOCHS] = "Bochs shutdown port 0x8900", [POWER_QEMU] = "isa-debug-exit port",
        [POWER_ACPI] = "ACPI sleep request", [POWER_RESET] = "reset request (vigil does not reset guests)",
    };
    smp_world_stop();                            /* the other vCPUs stop where they are */
    log_set_async(false);                        /* the summary waits for the console */
    kprintf("vigil: guest powered off: %s (port 0x%x, value 0x%x)\n", hows[how], port, value);
    struct ids_event e;
    vmm_fill_event(&e, IDS_EV_POWEROFF);
    ids_event(&e);
    vmm_print_summary();
    kprintf("vigil: powering off\n");
    log_flush();                                 /* the last bytes leave the UART first */
    /* Replay what the guest asked for, now that the summary is out; if the
     * machine is still running after that (or for a reset), turn it off. */
    if (how == POWER_BOCHS)
        bochs_shutdown();
    else if (how == POWER_QEMU)
        outl(port, value);
    else if (how == POWER_ACPI)
        outw(port, (u16)value);
    machine_poweroff();
    vigil_halt();
}

/* --- suspended vCPU: vigil stays at the operator's service ---------------- */

/* A vCPU's registers: this one's as they are now, another's as it recorded
 * them when it stopped at the gate (its VMCS is current on its own CPU).
 * named (`regs N`): the lines say which vCPU, whichever CPU serves the
 * operator's console. */
static void print_regs(struct vcpu *v, bool named)
{
    struct cpu *c = &cpus[v->id];
    bool self = c == this_cpu();
    if (self)
        smp_snapshot(c);
    else if (c->mode == GM_WAIT_SIPI || !c->snap.valid) {
        kprintf("  vCPU %u: %s\n", v->id, c->mode == GM_WAIT_SIPI ? "waiting for SIPI (not started by the guest)"
                                                                  : "no registers recorded yet");
        return;
    }
    const struct vcpu_snapshot *s = &c->snap;
    const struct guest_regs *r = &s->regs;
    char who[16] = "";
    if (!self || named)
        fmt_snprintf(who, sizeof(who), "vCPU %u: ", v->id);
    kprintf("  %srip 0x%016llx  rsp 0x%016llx  rflags 0x%llx  activity %llu\n", who, (unsigned long long)s->rip,
            (unsigned long long)s->rsp, (unsigned long long)s->rflags, (unsigned long long)s->activity);
    kprintf("  rax 0x%016llx  rbx 0x%016llx  rcx 0x%016llx  rdx 0x%016llx\n", (unsigned long long)r->rax,
            (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
    kprintf("  rsi 0x%016llx  rdi 0x%016llx  rbp 0x%016llx  r8  0x%016llx\n", (unsigned long long)r->rsi,
            (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->r8);
    kprintf("  cr0 0x%llx  cr3 0x%llx  cr4 0x%llx  efer 0x%llx\n", (unsigned long long)s->cr0,
            (unsigned long long)s->cr3, (unsigned long long)s->cr4, (unsigned long long)s->efer);
}

/* One line of operator input, collected a byte at a time without waiting;
 * true when a whole non-empty line is in buf. */
static char line_buf[80];
static u32 line_len;

static bool poll_line(void)
{
    for (int c; (c = uart_getc(console_port)) >= 0;) {
        if (c == '\r' || c == '\n') {
            if (line_len) {
                line_buf[line_len] = 0;
                line_len = 0;
                return true;
            }
        } else if (c == 8 || c == 127) {
            if (line_len)
                line_len--;
        } else if (line_len + 1 < sizeof(line_buf) && c >= 0x20 && c < 0x7f) {
            line_buf[line_len++] = (char)c;
        }
    }
    return false;
}

enum op_result { OP_STAY, OP_RESUME, OP_SUSPEND };

static enum op_result operator_command(struct vcpu *v, const char *line)
{
    kprintf("vigil> %s\n", line);
    if (!strcmp(line, "help")) {
        kprintf("  status    run state of every vCPU and exit statistics\n  regs [N]  guest registers (of vCPU N)\n"
                "  suspend   stop every vCPU at once\n  resume    let the suspended vCPUs run again\n"
                "  poweroff  print the summary and power off\n");
        ids_console_command("help", 0);
    } else if (!strcmp(line, "status")) {
        for (u32 i = 0; i < ncpus; i++) {
            const struct cpu *c = &cpus[i];
            const struct vcpu *o = &c->vcpu;
            const char *st = o->dead ? "stopped" : o->suspended ? "suspended"
                           : c->mode == GM_WAIT_SIPI ? "waiting for SIPI" : v->suspended ? "held" : "running";
            kprintf("vigil: vCPU %u %s%s%s\n", i, st, o->suspend_reason ? ": " : "",
                    o->suspend_reason ? o->suspend_reason : "");
        }
        vmm_print_summary();
    } else if (!strcmp(line, "regs")) {
        print_regs(v, false);
    } else if (!strncmp(line, "regs ", 5)) {
        u64 n;
        if (!str_to_u64(line + 5, strlen(line + 5), &n) || n >= ncpus)
            kprintf("vigil: regs: no vCPU '%s' (0 to %u)\n", line + 5, ncpus - 1);
        else if (!v->suspended && n != v->id)
            kprintf("vigil: regs %llu: suspend first (a running vCPU's registers change)\n", (unsigned long long)n);
        else
            print_regs(&cpus[n].vcpu, true);
    } else if (!strcmp(line, "suspend")) {
        if (!v->suspended)
            return OP_SUSPEND;
        kprintf("vigil: vCPU %u is already suspended\n", v->id);
    } else if (!strcmp(line, "resume")) {
        if (v->dead)
            kprintf("vigil: the guest cannot continue (%s); only poweroff\n", v->suspend_reason);
        else if (!v->suspended)
            kprintf("vigil: vCPU %u is running\n", v->id);
        else
            return OP_RESUME;
    } else if (!strcmp(line, "poweroff")) {
        smp_world_stop();
        log_set_async(false);
        vmm_print_summary();
        kprintf("vigil: powering off\n");
        machine_poweroff();
        vigil_halt();
    } else if (!ids_console_command(line, vmread(GUEST_CR3))) {
        kprintf("vigil: unknown command '%s' (try help)\n", line);
    }
    return OP_STAY;
}

/* One CPU at a time reads the operator's line. */
static struct spinlock operator_lock;

bool vcpu_operator_poll(struct vcpu *v)
{
    if (!spin_trylock(&operator_lock))
        return false;
    if (!poll_line()) {
        spin_unlock(&operator_lock);
        return false;
    }
    /* Held until the command is done: another CPU's poll would overwrite
     * the line. */
    u64 t0 = rdtsc();
    enum op_result r = operator_command(v, line_buf);
    spin_unlock(&operator_lock);
    v->operator_cycles += rdtsc() - t0;
    if (r != OP_SUSPEND)
        return false;
    v->suspend_reason = "operator request";
    return true;
}

/* Suspend: every vCPU stops (this one here, the others at their gate) until
 * the operator resumes; only this CPU reads the console meanwhile. */
void vcpu_suspend_loop(struct vcpu *v)
{
    smp_world_stop();
    spin_lock(&operator_lock);
    v->suspended = true;
    kprintf("vigil: vCPU %u suspended: %s; rip 0x%llx%s\n", v->id, v->suspend_reason ? v->suspend_reason : "operator",
            (unsigned long long)vmread(GUEST_RIP), v->dead ? " (the guest cannot continue)" : "");
    if (ncpus > 1)
        kprintf("vigil: every vCPU is stopped (%u)\n", ncpus);
    kprintf("vigil: operator console: help, status, regs, %spoweroff\n", v->dead ? "" : "resume, ");
    for (;;) {
        /* Output still queues, drained here while the operator's input is
         * read: a long answer going out never makes vigil miss what is typed
         * meanwhile (the receive FIFO holds 16 bytes). */
        log_drain();
        if (!poll_line()) {
            cpu_relax();
            continue;
        }
        if (operator_command(v, line_buf) == OP_RESUME)
            break;
    }
    kprintf("vigil: vCPU %u resumed%s\n", v->id, ncpus > 1 ? " (and every vCPU with it)" : "");
    v->suspended = false;
    v->suspend_reason = 0;
    spin_unlock(&operator_lock);
    smp_world_start();
}
