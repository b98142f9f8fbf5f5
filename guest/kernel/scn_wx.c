/* testos: code the kernel did not ship, run where the audit of kernel
 * mappings did not look (docs/testos.md, "Evasions"): a supervisor W+X
 * page in the lower half, and code run under the abandoned boot tables'
 * W+X identity map. */
#include "kernel.h"
#include "mm.h"
#include "proc.h"
#include "scenario.h"
#include "trap.h"

extern u8 boot_pml4[];           /* boot.asm: the boot tables' root (identity-linked) */

#define LOWER_WX_VA 0x50000000ul
#define MAGIC 0x5a5a1234u

/* Calls code at p; a fault (a monitor refusing the fetch) is reported and
 * gives 0. */
static u32 call_caught(const char *n, void *p)
{
    volatile u32 r = 0;
    struct catch c;
    if (CATCH(&c)) {
        r = ((u32 (*)(void))p)();
        catch_end(&c);
    } else {
        kprintf("%s: the call faulted: %s error 0x%lx at RIP 0x%lx\n", n, vector_name(c.vector), c.error, c.rip);
    }
    return r;
}

/* ---- wx-lower-half: a supervisor W+X page below the kernel half ---------- */

bool sc_wx_lower_half(void)
{
    const char *n = "wx-lower-half";
    attack_begin(n);
    u64 page = palloc();
    if (!page || !vm_map(kernel_pml4, LOWER_WX_VA, page, PTE_W)) {   /* supervisor, writable, no NX */
        kprintf("%s: cannot map the page\n", n);
        return false;
    }
    u8 *wx = (u8 *)LOWER_WX_VA;
    u32 m = MAGIC;
    wx[0] = 0xb8;                        /* mov eax, MAGIC; ret */
    memcpy(wx + 1, &m, 4);
    wx[5] = 0xc3;
    u32 r = call_caught(n, wx);
    kprintf("%s: supervisor page 0x%lx mapped W+X in the kernel's lower half; code written there ran: %s\n", n,
            LOWER_WX_VA, r == MAGIC ? "yes" : "no");
    proc_sleep(150);                     /* a rootkit keeps its code page */
    u64 f = irq_save();
    vm_unmap(kernel_pml4, LOWER_WX_VA);
    invlpg(LOWER_WX_VA);
    irq_restore(f);
    pfree(page);
    attack_result(n, r == MAGIC);
    return true;
}

/* ---- boot-tables-exec: code run under the boot tables' identity map ------
 * With interrupts off, the rootkit loads the boot CR3 (its identity map of
 * the first 24 MiB is writable and executable, 2 MiB pages), jumps to code
 * it wrote into a free frame at that frame's physical address, and comes
 * back to the kernel's CR3. No stack is touched while the boot tables are
 * loaded: the kernel's stacks are not mapped there (so a refused fetch
 * cannot even be reported: the #PF finds no stack, and testos panics on
 * the double fault). */
bool sc_boot_tables_exec(void)
{
    const char *n = "boot-tables-exec";
    attack_begin(n);
    u64 page = palloc();
    if (!page || page >= 24ul << 20) {
        kprintf("%s: no free frame under the boot tables' identity map\n", n);
        return false;
    }
    static const u8 code[] = { 0xbb, 0x34, 0x12, 0x5a, 0x5a, 0xff, 0xe0 };  /* mov ebx, MAGIC; jmp rax */
    memcpy(phys_to_virt(page), code, sizeof code);
    u64 boot = (u64)boot_pml4, kcr3 = read_cr3(), f = irq_save();
    u32 r = 0;
    __asm__ volatile("mov %[boot], %%cr3\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "jmp *%[code]\n"
                     "1:\n\t"
                     "mov %[kcr3], %%cr3"
                     : "=b"(r)
                     : [boot] "r"(boot), [code] "r"(page), [kcr3] "r"(kcr3)
                     : "rax", "memory");
    irq_restore(f);
    pfree(page);
    kprintf("%s: code at identity address 0x%lx ran under the boot CR3 0x%lx: %s\n", n, page, boot,
            r == MAGIC ? "yes" : "no");
    attack_result(n, r == MAGIC);
    return true;
}

/* ---- wx-alias: one frame, a W+NX mapping and an R+X mapping --------------
 * Neither mapping is W+X; the frame is. Code is written through the
 * writable alias and run through the executable one (both in the kmap
 * window), and kept for 150 ms. */
bool sc_wx_alias(void)
{
    const char *n = "wx-alias";
    attack_begin(n);
    u64 page = palloc();
    u8 *w = page ? kmap(page, PAGE_SIZE, PTE_W | PTE_NX) : NULL;
    u8 *x = w ? kmap(page, PAGE_SIZE, 0) : NULL;
    if (!x) {
        kprintf("%s: cannot map the aliases\n", n);
        return false;
    }
    u32 m = MAGIC;
    w[0] = 0xb8;                         /* mov eax, MAGIC; ret */
    memcpy(w + 1, &m, 4);
    w[5] = 0xc3;
    u32 r = call_caught(n, x);
    kprintf("%s: frame 0x%lx writable at 0x%lx (NX), executable at 0x%lx; code written through one ran through "
            "the other: %s\n", n, page, (u64)w, (u64)x, r == MAGIC ? "yes" : "no");
    proc_sleep(150);
    kunmap(x, PAGE_SIZE);
    kunmap(w, PAGE_SIZE);
    pfree(page);
    attack_result(n, r == MAGIC);
    return true;
}

/* ---- wx-flash: a W+X mapping that lives for microseconds ----------------
 * A kernel page is mapped writable and executable, code written and
 * called, and the mapping removed at once: far too short for a periodic
 * audit. Only catching the execution itself stops it. */
bool sc_wx_flash(void)
{
    const char *n = "wx-flash";
    attack_begin(n);
    u64 page = palloc();
    u8 *wx = page ? kmap(page, PAGE_SIZE, PTE_W) : NULL;   /* no NX: W+X */
    if (!wx) {
        kprintf("%s: cannot map the page\n", n);
        return false;
    }
    u64 t0 = rdtsc();
    u32 m = MAGIC;
    wx[0] = 0xb8;                        /* mov eax, MAGIC; ret */
    memcpy(wx + 1, &m, 4);
    wx[5] = 0xc3;
    volatile u32 r = 0;
    struct catch c;
    bool faulted = false;
    if (CATCH(&c)) {                     /* the fault is told after the unmap: the window stays short */
        r = ((u32 (*)(void))(void *)wx)();
        catch_end(&c);
    } else {
        faulted = true;
    }
    kunmap(wx, PAGE_SIZE);
    u64 t1 = rdtsc();
    pfree(page);
    if (faulted)
        kprintf("%s: the call faulted: %s error 0x%lx at RIP 0x%lx\n", n, vector_name(c.vector), c.error, c.rip);
    kprintf("%s: kernel page mapped W+X for %lu TSC cycles; code written there ran: %s\n", n, t1 - t0,
            r == MAGIC ? "yes" : "no");
    attack_result(n, r == MAGIC);
    return true;
}

/* A call through p that reports only its first fault (a loop of calls). */
static u32 call_quiet(const char *n, void *p, bool *told)
{
    volatile u32 r = 0;
    struct catch c;
    if (CATCH(&c)) {
        r = ((u32 (*)(void))p)();
        catch_end(&c);
    } else if (!*told) {
        *told = true;
        kprintf("%s: the call faulted: %s error 0x%lx at RIP 0x%lx\n", n, vector_name(c.vector), c.error, c.rip);
    }
    return r;
}

/* ---- wx-user-grant: ring 0 runs a user page through the execute watch's grant
 * A user code page gets X in EPT when it first runs in user mode (the
 * grant), and EPT's X bit binds both modes: the rootkit writes its code
 * into the slack of ghost's code page (through the direct map, which
 * changes nothing in EPT), maps that frame supervisor-executable in the
 * kmap window, and calls it from ring 0 every 10 ms for 400 ms while ghost
 * keeps running (and so keeps its grant). Succeeded: the last ten calls
 * all ran. */
#define GRANT_SLACK 0xf00
bool sc_wx_user_grant(void)
{
    const char *n = "wx-user-grant";
    int pid = proc_spawn("ghost", 700, current->pid);
    if (pid < 0)
        return false;
    proc_sleep(5);                       /* it runs: its code page is granted X by its own fetches */
    attack_begin(n);
    u64 f = irq_save();
    struct proc *p = proc_find(pid);
    u64 *pte = p ? vm_pte(p->cr3, USER_IMAGE_BASE, false) : NULL;
    u64 frame = pte && (*pte & PTE_P) ? *pte & PTE_ADDR : 0;
    irq_restore(f);
    u8 *x = frame ? kmap(frame, PAGE_SIZE, 0) : NULL;     /* supervisor, read-only, executable */
    if (!x) {
        kprintf("%s: cannot find or map ghost's code page\n", n);
        return false;
    }
    u8 *slack = (u8 *)phys_to_virt(frame) + GRANT_SLACK;
    u32 m = MAGIC;
    slack[0] = 0xb8;                     /* mov eax, MAGIC; ret */
    memcpy(slack + 1, &m, 4);
    slack[5] = 0xc3;
    int ran = 0, tail = 0;
    bool told = false;
    for (int i = 0; i < 40; i++) {
        if (call_quiet(n, x + GRANT_SLACK, &told) == MAGIC) {
            ran++;
            tail += i >= 30;
        }
        proc_sleep(10);
    }
    kunmap(x, PAGE_SIZE);
    kprintf("%s: frame 0x%lx of ghost's user code (granted X by its own user-mode fetches) mapped supervisor at "
            "0x%lx; ring 0 ran the code there %d of 40 times, %d of the last 10\n", n, frame,
            (u64)x + GRANT_SLACK, ran, tail);
    int code = proc_wait(pid);
    kprintf("%s: ghost exited with %d\n", n, code);
    attack_result(n, tail == 10);
    return true;
}

/* ---- wx-alias-late: the alias made after its executable half was audited
 * An R+X supervisor mapping of a fresh frame sits in a page table of its
 * own (lower half, 0x58000000) through a few audits: it pairs with
 * nothing, and the audit's fingerprint of that unchanged table then skips
 * its leaves. Only then is a W+NX alias of the frame made in another table
 * (the 2 MiB past the kmap window), code written through it and called
 * through the R+X one, and both kept for 150 ms. */
#define LATE_X_VA 0x58000000ul
#define LATE_W_VA (KMAP_BASE + KMAP_SLOTS * PAGE_SIZE + 0x100000)
bool sc_wx_alias_late(void)
{
    const char *n = "wx-alias-late";
    attack_begin(n);
    u64 page = palloc();
    if (!page || !vm_map(kernel_pml4, LATE_X_VA, page, 0)) {   /* supervisor, read-only, executable */
        kprintf("%s: cannot map the executable alias\n", n);
        return false;
    }
    u8 *x = (u8 *)LATE_X_VA;
    proc_sleep(250);                     /* audited, unchanged: its table's leaves are skipped from now on */
    if (!vm_map(kernel_pml4, LATE_W_VA, page, PTE_W | PTE_NX)) {
        kprintf("%s: cannot map the writable alias\n", n);
        return false;
    }
    u8 *w = (u8 *)LATE_W_VA;
    u32 m = MAGIC;
    w[0] = 0xb8;                         /* mov eax, MAGIC; ret */
    memcpy(w + 1, &m, 4);
    w[5] = 0xc3;
    u32 r = call_caught(n, x);
    kprintf("%s: frame 0x%lx executable at 0x%lx since 250 ms, writable at 0x%lx (NX) since now; code written "
            "through one ran through the other: %s\n", n, page, (u64)x, LATE_W_VA, r == MAGIC ? "yes" : "no");
    proc_sleep(150);
    u64 f = irq_save();
    vm_unmap(kernel_pml4, LATE_W_VA);
    invlpg(LATE_W_VA);
    vm_unmap(kernel_pml4, LATE_X_VA);
    invlpg(LATE_X_VA);
    irq_restore(f);
    pfree(page);
    attack_result(n, r == MAGIC);
    return true;
}
