/* The operator's investigation commands: ps (the OS's and the hardware's
 * view side by side), alerts, dump (guest-virtual or guest-physical), pt
 * (the page-table walk for an address), policy. vmm/ runs the console and
 * hands over the commands it does not know. */
#include "ids/engine.h"
#include "ids/alert.h"
#include "vmm/introspect.h"
#include "lib/log.h"
#include "lib/string.h"

static void ps_linux(void);

static void ps(u64 cr3)
{
    if (vmi_have_linux()) {
        ps_linux();
        return;
    }
    const struct vmi_proc *p;
    const struct ids_space *s;
    const char *err = "no profile";
    int np = vmi_have_procs() ? ids_procs(cr3, &p) : -1;
    int ns = ids_spaces(&s);
    if (np < 0 && vmi_have_procs()) {
        static struct vmi_proc tmp[VMI_MAX_PROCS];
        np = vmi_proc_list(cr3, tmp, VMI_MAX_PROCS, &err);
        p = tmp;
    }
    kprintf("vigil: ps: the OS's view (process list) beside the hardware's view (CR3 loads)\n");
    kprintf("  %-18s | %5s %-15s | %10s  %s\n", "CR3", "PID", "NAME", "CR3 LOADS", "VERDICT");
    if (np < 0)
        kprintf("  (process list unreadable: %s)\n", err);
    for (int i = 0; i < np; i++) {
        u64 loads = 0;
        for (int j = 0; j < ns; j++)
            if (s[j].cr3 == p[i].cr3)
                loads = s[j].loads;
        kprintf("  0x%016llx | %5lld %-15s | %10llu  %s\n", (unsigned long long)p[i].cr3, (long long)p[i].pid,
                p[i].name, (unsigned long long)loads, loads ? "ok" : "not run yet");
    }
    for (int j = 0; j < ns; j++) {
        bool listed = false;
        for (int i = 0; i < np; i++)
            listed |= p[i].cr3 == s[j].cr3;
        if (listed)
            continue;
        bool kernel = s[j].cr3 == ids.first_cr3 || s[j].cr3 == ids.kernel_cr3;
        s64 pid;
        char name[16];
        ids_proc_of(s[j].cr3, &pid, name);
        if (kernel)
            kprintf("  0x%016llx | %5s %-15s | %10llu  kernel address space\n", (unsigned long long)s[j].cr3, "-",
                    "(kernel)", (unsigned long long)s[j].loads);
        else
            kprintf("  0x%016llx | %5s %-15s | %10llu  HIDDEN: runs, not in the process list%s%s\n",
                    (unsigned long long)s[j].cr3, "-", "-", (unsigned long long)s[j].loads,
                    pid >= 0 ? "; pool says " : "", pid >= 0 ? name : "");
    }
}

/* Linux: the task list from init_task (pid, tgid, comm, the PGD of its mm)
 * beside the address spaces the CPU loaded. Under KPTI a process has two
 * CR3 values, its kernel PGD and the user one 4 KiB above it; kernel
 * threads have no mm and run on whatever mm was active. */
static void ps_linux(void)
{
    static struct vmi_task t[256];
    const char *err;
    const struct ids_space *s;
    int ns = ids_spaces(&s);
    int n = vmi_linux_tasks(t, 256, &err);
    u64 kpgd = vmi_linux_kernel_pgd();
    kprintf("vigil: ps: Linux's task list (from init_task) beside the hardware's view (CR3 loads)\n");
    kprintf("  %6s %6s %-16s | %-18s %8s | %-18s %8s | %s\n", "PID", "TGID", "COMM", "KERNEL CR3 (PGD)", "LOADS",
            "USER CR3 (KPTI)", "LOADS", "VERDICT");
    if (n < 0) {
        kprintf("  (task list unreadable: %s)\n", err);
        n = 0;
    }
    int shown = n < 256 ? n : 256;
    for (int i = 0; i < shown; i++) {
        u64 kl = 0, ul = 0;
        for (int j = 0; t[i].pgd && j < ns; j++) {
            if (s[j].cr3 == t[i].pgd)
                kl = s[j].loads;
            if (s[j].cr3 == t[i].pgd + 4096)
                ul = s[j].loads;
        }
        if (!t[i].mm)
            kprintf("  %6d %6d %-16s | %-18s %8s | %-18s %8s | kernel thread\n", t[i].pid, t[i].tgid, t[i].comm, "-",
                    "-", "-", "-");
        else
            kprintf("  %6d %6d %-16s | 0x%016llx %8llu | 0x%016llx %8llu | %s\n", t[i].pid, t[i].tgid, t[i].comm,
                    (unsigned long long)t[i].pgd, (unsigned long long)kl, (unsigned long long)(t[i].pgd + 4096),
                    (unsigned long long)ul, kl || ul ? (t[i].pid != t[i].tgid ? "ok (thread)" : "ok") : "not run yet");
    }
    if (n > shown)
        kprintf("  (%d more tasks not shown)\n", n - shown);
    for (int j = 0; j < ns; j++) {
        bool known = s[j].cr3 == kpgd || s[j].cr3 == ids.first_cr3;
        for (int i = 0; i < shown && !known; i++)
            known = t[i].pgd && (s[j].cr3 == t[i].pgd || s[j].cr3 == t[i].pgd + 4096);
        if (s[j].cr3 == kpgd)
            kprintf("  %6s %6s %-16s | 0x%016llx %8llu | %-18s %8s | kernel page tables (init_top_pgt)\n", "-", "-",
                    "(kernel)", (unsigned long long)s[j].cr3, (unsigned long long)s[j].loads, "-", "-");
        else if (!known)
            kprintf("  %6s %6s %-16s | 0x%016llx %8llu | %-18s %8s | not in the task list (exited, or hidden)\n", "-",
                    "-", "-", (unsigned long long)s[j].cr3, (unsigned long long)s[j].loads, "-", "-");
    }
    kprintf("vigil: ps: %d tasks, %d address spaces seen\n", n, ns);
}

static void alerts(void)
{
    const struct alert_log *l = ids_alert_log();
    u32 n = l->nrecent < ALERT_RECENT ? l->nrecent : ALERT_RECENT;
    kprintf("vigil: %llu alerts printed, %llu suppressed, %llu dropped; the last %u:\n",
            (unsigned long long)l->emitted, (unsigned long long)l->suppressed, (unsigned long long)l->dropped, n);
    for (u32 i = l->nrecent - n; i < l->nrecent; i++) {
        const struct alert *a = &l->recent[i % ALERT_RECENT];
        kprintf("  #%llu %s %s rip 0x%llx cr3 0x%llx %s%s: %s\n", (unsigned long long)a->seq, policy_name(a->policy),
                action_name(a->action), (unsigned long long)a->rip, (unsigned long long)a->cr3, a->process,
                a->process[0] ? "" : "-", a->detail);
    }
}

/* "0x1234" (guest-virtual, through cr3), "p:0x1234" (guest-physical), or
 * a symbol the profile names (its run-time address, slid under KASLR). */
static bool parse_addr(const char *s, bool *phys, u64 *addr)
{
    *phys = !strncmp(s, "p:", 2);
    if (*phys)
        s += 2;
    if (str_to_u64(s, strlen(s), addr))
        return true;
    return !*phys && ids.have_profile && (*addr = profile_sym(&ids.prof, s)) != 0;
}

/* The page tables to read a guest-virtual address through: the current
 * CR3, except that on Linux a kernel address is read through the kernel's
 * tables (under KPTI the user CR3 maps almost none of the kernel). */
static u64 walk_root(u64 cr3, u64 va)
{
    return vmi_have_linux() && va >> 63 ? vmi_linux_kernel_pgd() : cr3;
}

static void dump(const char *args, u64 cr3)
{
    char a[32], l[16];
    u32 i = 0, j = 0;
    while (*args == ' ')
        args++;
    while (*args && *args != ' ' && i + 1 < sizeof(a))
        a[i++] = *args++;
    a[i] = 0;
    while (*args == ' ')
        args++;
    while (*args && *args != ' ' && j + 1 < sizeof(l))
        l[j++] = *args++;
    l[j] = 0;
    bool phys;
    u64 addr, len = 64;
    if (!parse_addr(a, &phys, &addr) || (l[0] && !str_to_u64(l, strlen(l), &len)) || !len || len > 4096) {
        kprintf("vigil: usage: dump ADDR [LEN]   (ADDR guest-virtual or a profile symbol, or p:ADDR guest-physical; "
                "LEN <= 4096)\n");
        return;
    }
    static u8 buf[4096];
    bool ok = phys ? guestmem_read(addr, buf, len) : vmi_read_virt(walk_root(cr3, addr), addr, buf, len);
    if (!ok) {
        kprintf("vigil: dump: 0x%llx+%llu is not readable guest %s memory\n", (unsigned long long)addr,
                (unsigned long long)len, phys ? "physical" : "virtual");
        return;
    }
    for (u64 off = 0; off < len; off += 16) {
        char hex[16 * 3 + 1], asc[17];
        u32 n = 0;
        for (u32 k = 0; k < 16; k++) {
            if (off + k < len) {
                u8 c = buf[off + k];
                static const char d[] = "0123456789abcdef";
                hex[n++] = d[c >> 4];
                hex[n++] = d[c & 15];
                hex[n++] = ' ';
                asc[k] = c >= 0x20 && c < 0x7f ? (char)c : '.';
            } else {
                hex[n++] = ' ';
                hex[n++] = ' ';
                hex[n++] = ' ';
                asc[k] = ' ';
            }
        }
        hex[n] = 0;
        asc[16] = 0;
        kprintf("  %016llx  %s |%s|\n", (unsigned long long)(addr + off), hex, asc);
    }
}

static void pt(const char *args, u64 cr3)
{
    while (*args == ' ')
        args++;
    u64 gva;
    bool phys;
    if (!parse_addr(args, &phys, &gva) || phys) {
        kprintf("vigil: usage: pt ADDR   (guest-virtual or a profile symbol, walked through the current CR3; on "
                "Linux a kernel address through the kernel's page tables)\n");
        return;
    }
    cr3 = walk_root(cr3, gva);
    struct pt_walk w;
    vmi_translate(cr3, gva, &w);
    static const char *const lv[] = { "PML4E", "PDPTE", "PDE", "PTE" };
    kprintf("vigil: pt 0x%llx through CR3 0x%llx: %s\n", (unsigned long long)gva, (unsigned long long)cr3,
            pt_status_name(w.status));
    for (int i = 0; i < 4 && i <= 4 - w.level; i++) {
        u64 e = w.entries[i];
        if (!w.table_gpa[i] && i)
            break;
        kprintf("  %-5s table 0x%llx -> 0x%016llx %s%s%s%s%s\n", lv[i], (unsigned long long)w.table_gpa[i],
                (unsigned long long)e, e & 1 ? "P " : "-", e & 2 ? "RW " : "RO ", e & 4 ? "U " : "S ",
                e & 0x80 ? "PS " : "", e >> 63 ? "NX" : "");
    }
    if (w.status == PT_OK)
        kprintf("  -> gpa 0x%llx (%llu KiB page) %s %s %s\n", (unsigned long long)w.gpa,
                (unsigned long long)(w.page_size >> 10), w.writable ? "writable" : "read-only",
                w.user ? "user" : "supervisor", w.nx ? "no-execute" : "executable");
}

static void policy(void)
{
    for (u32 i = 0; i < POL_COUNT; i++)
        kprintf("  %-17s %-3s action=%s severity=%s\n", policy_name((enum policy_id)i),
                ids.cfg.pol[i].enabled ? "on" : "off", action_name(ids.cfg.pol[i].action),
                severity_name(ids.cfg.pol[i].severity));
}

static bool command(const char *line, u64 cr3);

bool ids_console_command(const char *line, u64 cr3)
{
    ids_lock_take();
    vmi_flush();                      /* the guest ran since: no stale translations for dump, pt */
    bool known = command(line, cr3);
    ids_lock_drop();
    return known;
}

static bool command(const char *line, u64 cr3)
{
    if (!strcmp(line, "help")) {
        kprintf("  ps        processes: the OS's list beside the address spaces the CPU ran\n"
                "  alerts    the last alerts\n"
                "  dump ADDR [LEN]  guest memory (ADDR virtual or a profile symbol, or p:ADDR physical)\n"
                "  pt ADDR   the page-table walk for a guest-virtual address (or a profile symbol)\n"
                "  policy    the policies in force\n");
        return true;
    }
    if (!ids_enabled()) {
        if (!strcmp(line, "ps") || !strcmp(line, "alerts") || !strncmp(line, "dump", 4) || !strncmp(line, "pt", 2)) {
            kprintf("vigil: the IDS is off (ids=off)\n");
            return true;
        }
        return false;
    }
    cr3 &= PT_ADDR_MASK;
    if (!strcmp(line, "ps"))
        ps(cr3);
    else if (!strcmp(line, "alerts"))
        alerts();
    else if (!strncmp(line, "dump", 4) && (line[4] == ' ' || !line[4]))
        dump(line + 4, cr3);
    else if (!strncmp(line, "pt", 2) && (line[2] == ' ' || !line[2]))
        pt(line + 2, cr3);
    else if (!strcmp(line, "policy"))
        policy();
    else
        return false;
    return true;
}
