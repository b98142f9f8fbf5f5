/* Unit tests for the IDS policy logic: the real ids/ sources (engine, the nine
 * policies, vmi, alert log, policy and profile parsers) compiled for the
 * host against a fake vmm/ (tests/unit/fake_vmm.c) whose guest-physical
 * memory holds a synthetic guest: a profile, a kernel image with its
 * tables, a process list and pool, and 4-level page tables.
 *
 * The engine keeps static state (policy tables, the alert log, the
 * address spaces seen), so every scenario runs in a forked child: the
 * child builds the guest, feeds events, checks verdicts and the printed
 * records, and exits 0 or prints what failed and exits 1; the cmocka test
 * in the parent checks the exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/fake_vmm.h"
#include "ids/ids.h"
#include "lib/ptwalk.h"
#include "ids/policy.h"
#include "ids/engine.h"
#include "ids/alert.h"
#include "vmm/introspect.h"
#include "lib/string.h"
#include "lib/hash.h"

const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

/* --- checks inside the child ------------------------------------------------------ */

static void child_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void child_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    size_t n = fake_console_len();
    const char *c = fake_console();
    fprintf(stderr, "\n--- vigil's console (last 6000 bytes) ---\n%s\n---\n", c + (n > 6000 ? n - 6000 : 0));
    fflush(stderr);
    _exit(1);
}

#define CHECK(c) do { if (!(c)) child_fail(__FILE__, __LINE__, "CHECK(%s) failed", #c); } while (0)
#define CHECK_U(a, b) do { unsigned long long _a = (a), _b = (b); \
    if (_a != _b) child_fail(__FILE__, __LINE__, "%s is 0x%llx (%llu), expected 0x%llx (%llu)", #a, _a, _a, _b, _b); } while (0)
#define CHECK_S(a, b) do { const char *_a = (a), *_b = (b); \
    if (strcmp(_a, _b)) child_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #a, _a, _b); } while (0)
#define CHECK_HEX(s, v) do { unsigned long long _v = (v); char _e[24]; snprintf(_e, sizeof(_e), "0x%llx", _v); \
    if (strcmp((s), _e)) child_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #s, (s), _e); } while (0)
#define CHECK_HAS(from, s) do { if (!fake_console_has((from), (s))) \
    child_fail(__FILE__, __LINE__, "console lacks \"%s\"", (s)); } while (0)
#define CHECK_LACKS(from, s) do { if (fake_console_has((from), (s))) \
    child_fail(__FILE__, __LINE__, "console unexpectedly has \"%s\"", (s)); } while (0)
#define CHECK_NO_ALERT(from) do { u32 _n = fake_alerts((from), 0, 0); \
    if (_n) child_fail(__FILE__, __LINE__, "%u alert records where none is due", _n); } while (0)
#define CHECK_ALLOW(v) CHECK_U((v).action, IDS_ALLOW)
#define CHECK_BLOCK(v) CHECK_U((v).action, IDS_BLOCK)

/* The one alert printed since `from`, which must be of policy pol and action act. */
static struct fake_alert one_alert_at(const char *file, int line, size_t from, const char *pol, const char *act)
{
    struct fake_alert a[8];
    u32 n = fake_alerts(from, a, 8);
    if (n != 1)
        child_fail(file, line, "%u alert records, expected exactly one (%s %s)", n, pol, act);
    if (strcmp(a[0].policy, pol) || strcmp(a[0].action, act))
        child_fail(file, line, "alert is %s/%s, expected %s/%s", a[0].policy, a[0].action, pol, act);
    return a[0];
}
#define ONE_ALERT(from, pol, act) one_alert_at(__FILE__, __LINE__, (from), (pol), (act))
#define MARK() fake_console_len()

/* How many times s is on the console since from. */
static u32 count_of(size_t from, const char *s)
{
    u32 n = 0;
    for (const char *p = fake_console() + from; (p = strstr(p, s)); p += strlen(s))
        n++;
    return n;
}

/* --- the synthetic guest ------------------------------------------------------------ */

#define KVB           0xffffffff80000000ull
#define K(pa)         (KVB + (pa))
#define TEXT_PA       0x100000ull
#define TEXT_SIZE     0x10000ull
#define RODATA_PA     0x110000ull
#define RODATA_SIZE   0x8000ull
#define SYSCALL_PA    0x112000ull           /* in rodata, 10 entries */
#define ENTRY_PA      0x101000ull           /* syscall_entry */
#define IDT_PA        0x120000ull
#define GDT_PA        0x121000ull
#define GDT_SIZE      0x40ull
#define LIST_PA       0x130000ull           /* proc_list: pointer to the first struct proc */
#define PML4VAR_PA    0x130008ull           /* kernel_pml4: the kernel's CR3 */
#define CURRENT_PA    0x130010ull           /* current: the struct proc that runs (0: none said) */
#define POOL_PA       0x131000ull
#define NPROC         16
#define PROC_SIZE     136
#define INSN_PA       0x101234ull           /* 48 89 18: mov [rax], rbx */
#define KRIP          K(INSN_PA)
#define USER_CODE     0x400000ull
#define USER_STACK    0x7ffff000ull

static const char profile_text[] =
    "# a synthetic testos-like profile\n"
    "profile fakeos 1\n"
    "arch x86_64\n"
    "kernel_virt_base 0xffffffff80000000\n"
    "kernel_phys_start 0x100000\n"
    "kernel_phys_end 0x200000\n"
    "direct_map_base 0xffff800000000000\n"
    "direct_map_limit 0x1800000\n"
    "user_top 0x800000000000\n"
    "symbol kernel_text 0xffffffff80100000 65536\n"
    "symbol kernel_rodata 0xffffffff80110000 32768\n"
    "symbol syscall_table 0xffffffff80112000 80\n"
    "symbol syscall_entry 0xffffffff80101000 0\n"
    "symbol idt 0xffffffff80120000 4096\n"
    "symbol gdt 0xffffffff80121000 64\n"
    "symbol proc_list 0xffffffff80130000 8\n"
    "symbol kernel_pml4 0xffffffff80130008 8\n"
    "symbol proc_pool 0xffffffff80131000 2176\n"
    "symbol current 0xffffffff80130010 8\n"
    "struct proc 136\n"
    "struct proc.pid 0 4\n"
    "struct proc.name 8 16\n"
    "struct proc.cr3 24 8\n"
    "struct proc.state 32 4\n"
    "struct proc.next 40 8\n"
    "struct proc.kstack_top 48 8\n"
    "const nproc 16\n"
    "const proc.state.free 0\n"
    "const proc.state.runnable 1\n";

/* Address spaces of the standard guest. */
static u64 kernel_cr3, boot_cr3;
enum { S_INIT, S_DISKD, S_RAWIO, S_EVIL, S_COUNT };
static const struct { u32 pid; const char *name; } std_procs[S_COUNT] = {
    [S_INIT] = { 1, "init" }, [S_DISKD] = { 2, "diskd" }, [S_RAWIO] = { 3, "rawio" }, [S_EVIL] = { 4, "evil" },
};
static u64 cr3_of[NPROC];                   /* by pool slot */
static u64 code_pa_of[NPROC];               /* each space's user code page */

static struct boot_info bi;
static u64 ticks_now;                        /* ticks sent since init_ids (the engine's tick count when on) */

/* An address space sharing the kernel half, with a user code page (an
 * instruction at USER_CODE + 0x10) and a user stack page. */
static u64 new_space(u64 *code_pa)
{
    u64 cr3 = fake_alloc_page();
    for (u32 i = 256; i < 512; i++)
        fake_w64(cr3 + i * 8, fake_r64(kernel_cr3 + i * 8));
    u64 code = fake_alloc_page(), stack = fake_alloc_page();
    static const u8 movimm[] = { 0xc7, 0x00, 0x78, 0x56, 0x34, 0x12 }; /* mov dword [rax], 0x12345678 */
    fake_poke(code + 0x10, movimm, sizeof(movimm));
    fake_map(cr3, USER_CODE, code, PTE_P | PTE_U);
    fake_map(cr3, USER_STACK, stack, PTE_P | PTE_W | PTE_U | PTE_NX);
    if (code_pa)
        *code_pa = code;
    return cr3;
}

static u64 proc_pa(u32 slot) { return POOL_PA + (u64)slot * PROC_SIZE; }

static void proc_set(u32 slot, u32 pid, const char *name, u64 cr3, u32 state)
{
    u64 p = proc_pa(slot);
    memset(fake_mem + p, 0, PROC_SIZE);
    fake_w32(p + 0, pid);
    memcpy(fake_mem + p + 8, name, strlen(name) < 15 ? strlen(name) : 15);
    fake_w64(p + 24, cr3);
    fake_w32(p + 32, state);
}

/* The process list: the pool slots given, in order (-1 ends the list). */
static void list_link(const int *slots)
{
    u64 at = LIST_PA;                         /* the head, then each proc's next */
    for (; *slots >= 0; slots++) {
        fake_w64(at, K(proc_pa((u32)*slots)));
        at = proc_pa((u32)*slots) + 40;
    }
    fake_w64(at, 0);
}

static void build_guest(void)
{
    /* The kernel's page tables: its image (text and rodata read-only and
     * executable, the rest writable and no-execute) and a direct map of the
     * first 24 MiB (writable, no-execute, 2 MiB pages). */
    kernel_cr3 = fake_alloc_page();
    for (u64 pa = 0x100000; pa < 0x200000; pa += 4096)
        fake_map(kernel_cr3, K(pa), pa, pa < RODATA_PA + RODATA_SIZE ? PTE_P : PTE_P | PTE_W | PTE_NX);
    for (u64 pa = 0; pa < 0x1800000; pa += 0x200000)
        fake_map_2m(kernel_cr3, 0xffff800000000000ull + pa, pa, PTE_P | PTE_W | PTE_NX);
    fake_w64(PML4VAR_PA, kernel_cr3);
    /* The boot tables: the kernel half and an identity map of the first 2 MiB. */
    boot_cr3 = fake_alloc_page();
    for (u32 i = 256; i < 512; i++)
        fake_w64(boot_cr3 + i * 8, fake_r64(kernel_cr3 + i * 8));
    fake_map_2m(boot_cr3, 0, 0, PTE_P | PTE_W);

    static const u8 insn[] = { 0x48, 0x89, 0x18 };
    fake_poke(INSN_PA, insn, sizeof(insn));
    for (u32 i = 0; i < 10; i++)
        fake_w64(SYSCALL_PA + i * 8, K(0x102000 + i * 0x100));
    for (u32 v = 0; v < 256; v++)                  /* an IDT of interrupt gates */
        fake_w64(IDT_PA + v * 16, 0x80008e0000081000ull + v);
    /* The GDT: null; kernel code, kernel data, user code, user data (not
     * yet accessed); kernel data (accessed); an LDT descriptor (a system
     * descriptor, 16 bytes, whose type has bit 40 clear: not to be touched). */
    static const u64 gdt[8] = {
        0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0x00affa000000ffffull,
        0x00cff2000000ffffull, 0x00cf93000000ffffull, 0x0000820000000fffull, 0,
    };
    fake_poke(GDT_PA, gdt, sizeof(gdt));

    for (u32 s = 0; s < S_COUNT; s++) {
        cr3_of[s] = new_space(&code_pa_of[s]);
        proc_set(s, std_procs[s].pid, std_procs[s].name, cr3_of[s], 1);
    }
    static const int all[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, -1 };
    list_link(all);

    /* Before the kernel loads its own: a boot IDT and GDT elsewhere. */
    fake.idt_base = 0x8000;
    fake.idt_limit = 0xff;
    fake.gdt_base = 0x9000;
    fake.gdt_limit = 0x17;
}

static const char *policy_text;              /* the policy module, or NULL */
static const char *profile_in_use;           /* the profile module: profile_text unless a scenario says */

static void build_boot_info(void)
{
    memset(&bi, 0, sizeof(bi));
    bi.module_count = 1;
    bi.modules[0].start = (u64)(uintptr_t)profile_in_use;
    bi.modules[0].end = bi.modules[0].start + strlen(profile_in_use);
    str_copy(bi.modules[0].name, "profile", MB2_NAME_MAX);
    if (policy_text) {
        bi.modules[1].start = (u64)(uintptr_t)policy_text;
        bi.modules[1].end = bi.modules[1].start + strlen(policy_text);
        str_copy(bi.modules[1].name, "policy", MB2_NAME_MAX);
        bi.module_count = 2;
    }
}

/* Fresh fake vmm, the standard guest, ids_init with the given profile text. */
static bool init_ids_profile(const char *profile, const char *policy, bool on)
{
    fake_reset();
    build_guest();
    policy_text = policy;
    profile_in_use = profile;
    ticks_now = 0;
    build_boot_info();
    return ids_init(&bi, on);
}

/* Fresh fake vmm, the standard guest, ids_init. */
static bool init_ids(const char *policy, bool on) { return init_ids_profile(profile_text, policy, on); }

/* --- events ------------------------------------------------------------------------------ */

static struct ids_event ev(enum ids_event_type t, u64 cr3, u64 rip)
{
    struct ids_event e;
    memset(&e, 0, sizeof(e));
    e.type = t;
    e.cr3 = cr3;
    e.rip = rip;
    e.cpl = rip >> 63 ? 0 : 3;
    e.long_mode = true;
    return e;
}

static struct ids_verdict start(void)
{
    struct ids_event e = ev(IDS_EV_START, 0, 0);
    return ids_event(&e);
}

static struct ids_verdict cr3_load(u64 cur, u64 new_cr3)
{
    struct ids_event e = ev(IDS_EV_CR3_LOAD, cur, K(0x103000));
    e.load.new_cr3 = new_cr3;
    return ids_event(&e);
}

static struct ids_verdict tick(u64 cr3)
{
    ticks_now++;
    struct ids_event e = ev(IDS_EV_TICK, cr3, cr3 == kernel_cr3 || cr3 == boot_cr3 ? K(0x104000) : USER_CODE);
    return ids_event(&e);
}

/* A tick that finds the CPU in the kernel (CPL 0) on cr3. */
static struct ids_verdict ktick(u64 cr3)
{
    ticks_now++;
    struct ids_event e = ev(IDS_EV_TICK, cr3, K(0x104000));
    return ids_event(&e);
}

/* Events as vmm/ raises them: only through a subscription, whose owner
 * they carry; an access no subscription holds never reaches the IDS. */
static const struct ids_verdict allowed = { IDS_ALLOW, 0, 0 };

static struct ids_verdict ept(u64 cr3, u64 rip, u64 gva, u64 gpa, u32 access)
{
    const struct trap_page *t = trap_page_find(fake_traps(), gpa, access);
    if (!t)
        return allowed;
    struct ids_event e = ev(IDS_EV_EPT, cr3, rip);
    e.owner = t->owner;
    e.ept.gpa = gpa;
    e.ept.gva = gva;
    e.ept.gva_valid = true;
    e.ept.access = access;
    return ids_event(&e);
}

static struct ids_verdict io_sized(u64 cr3, u16 port, u32 size, bool in)
{
    const struct traps *t = fake_traps();
    struct ids_verdict v = allowed;
    for (int i = trap_port_next(t, port, size, 0); i >= 0; i = trap_port_next(t, port, size, i + 1)) {
        struct ids_event e = ev(IDS_EV_IO, cr3, USER_CODE + 0x20);
        e.owner = t->port[i].owner;
        e.io.port = port;
        e.io.size = (u8)size;
        e.io.in = in;
        struct ids_verdict w = ids_event(&e);
        if (w.action > v.action)
            v = w;
    }
    return v;
}

static struct ids_verdict io(u64 cr3, u16 port, bool in) { return io_sized(cr3, port, 1, in); }

static struct ids_verdict msr(u64 cr3, u32 m, u64 old, u64 value)
{
    const struct trap_msr *t = trap_msr_find(fake_traps(), m);
    if (!t)
        return allowed;
    struct ids_event e = ev(IDS_EV_MSR_WRITE, cr3, K(0x105000));
    e.owner = t->owner;
    e.msr.msr = m;
    e.msr.old = old;
    e.msr.value = value;
    return ids_event(&e);
}

static struct ids_verdict crw(u64 cr3, u8 cr, u64 old, u64 value)
{
    const struct traps *t = fake_traps();
    struct ids_verdict v = allowed;
    for (int i = trap_cr_next(t, cr, old ^ value, 0); i >= 0 && v.action == IDS_ALLOW;
         i = trap_cr_next(t, cr, old ^ value, i + 1)) {
        struct ids_event e = ev(IDS_EV_CR_WRITE, cr3, K(0x105100));
        e.owner = t->cr[i].owner;
        e.cr.cr = cr;
        e.cr.old = old;
        e.cr.value = value;
        v = ids_event(&e);
    }
    return v;
}

static struct ids_verdict dtr(u64 cr3, bool idt, u64 base, u16 limit)
{
    struct ids_event e = ev(IDS_EV_DTR_LOAD, cr3, K(0x105200));
    e.dtr.idt = idt;
    e.dtr.base = base;
    e.dtr.limit = limit;
    return ids_event(&e);
}

static struct ids_verdict reach(u64 cr3, u64 rip, enum ids_reach what, u64 addr, const char *detail)
{
    struct ids_event e = ev(IDS_EV_HV_REACH, cr3, rip);
    e.reach.what = what;
    e.reach.addr = addr;
    e.reach.detail = detail;
    return ids_event(&e);
}

/* The guest's boot: the boot tables' CR3 (the first one vigil sees), then
 * the kernel loads its own IDT and GDT and the next tick locks them. */
static void boot(void)
{
    size_t m = MARK();
    start();
    cr3_load(0, boot_cr3);
    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = (u16)(GDT_SIZE - 1);
    tick(boot_cr3);
    CHECK_HAS(m, "the guest kernel has booted");
    CHECK_NO_ALERT(m);
}

/* Ticks with cr3 running until the engine's tick count is target. */
static void tick_to(u64 cr3, u64 target)
{
    while (ticks_now < target)
        tick(cr3);
}

/* Into the next window of the alert budget (10 ticks): the console line
 * has carried what was printed, and takes four or five records again. */
static void next_window(u64 cr3) { tick_to(cr3, (ticks_now / ALERT_WINDOW_TICKS + 1) * ALERT_WINDOW_TICKS); }

/* --- scenarios -------------------------------------------------------------------------- */

/* 1. Nothing is locked before the IDTR holds the profile's IDT; the first
 * tick after it does locks the IDT, GDT and their registers. */
static void scn_boot_lock(void)
{
    CHECK(init_ids(NULL, true));
    CHECK_HAS(0, "vigil: IDS on; profile: fakeos");
    size_t m = MARK();
    CHECK(!fake.cr3_loads_trapped);
    CHECK_ALLOW(start());
    CHECK(fake.cr3_loads_trapped);           /* the engine's view of address spaces */
    /* Before the guest runs: kernel text, rodata, and the system-call table. */
    CHECK(fake_protected(TEXT_PA, TEXT_SIZE, IDS_WRITE));
    CHECK(fake_protected(RODATA_PA, RODATA_SIZE, IDS_WRITE));
    CHECK(fake_protected(SYSCALL_PA, 0x1000, IDS_WRITE));
    CHECK_U(fake.nprotect, 3);
    CHECK_HAS(m, "vigil: critical-tables: system-call table at gpa 0x112000 (80 bytes) write-protected and hashed");
    CHECK_HAS(m, "vigil: kernel-text: kernel text at gpa 0x100000-0x110000 write-protected");

    m = MARK();
    CHECK_ALLOW(cr3_load(0, boot_cr3));
    CHECK_ALLOW(tick(boot_cr3));
    /* The kernel's own LIDT, before boot: allowed, nothing said. */
    CHECK_ALLOW(dtr(boot_cr3, true, K(IDT_PA), 0xfff));
    CHECK_ALLOW(tick(boot_cr3));
    CHECK_LACKS(m, "has booted");
    CHECK_U(fake.nprotect, 3);
    CHECK(!vmm_ept_is_protected(IDT_PA));
    CHECK(!vmm_ept_is_protected(GDT_PA));
    CHECK_U(fake_r64(GDT_PA + 8), 0x00af9a000000ffffull);

    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = 0x3f;
    m = MARK();
    CHECK_ALLOW(tick(boot_cr3));
    CHECK_HAS(m, "vigil: IDS: the guest kernel has booted (the IDTR holds the kernel's IDT); boot-time state locked");
    CHECK(fake_protected(IDT_PA, 0x1000, IDS_WRITE));
    CHECK(fake_protected(GDT_PA, 0x1000, IDS_WRITE));
    /* And the four page-table pages (PML4, PDPT, PD, PT) through which the
     * kernel maps its protected objects: the translation guard. */
    CHECK_U(fake.nprotect, 5 + 4);
    CHECK(fake_protected(kernel_cr3, 0x1000, IDS_WRITE));
    CHECK_HAS(m, "vigil: IDS: translations of 7 protected objects guarded: ");
    CHECK_HAS(m, "vigil: critical-tables: IDT at gpa 0x120000 (4096 bytes) write-protected and hashed");
    CHECK_HAS(m, "vigil: critical-tables: GDT at gpa 0x121000 (64 bytes) write-protected and hashed");
    CHECK_HAS(m, "vigil: critical-tables: set the accessed bit of 4 GDT descriptors");
    CHECK_HAS(m, "vigil: critical-tables: IDTR 0xffffffff80120000/0xfff locked");
    CHECK_HAS(m, "vigil: critical-tables: GDTR 0xffffffff80121000/0x3f locked");
    /* Accessed set on code/data descriptors only; null and LDT untouched. */
    CHECK_U(fake_r64(GDT_PA + 0x00), 0);
    CHECK_U(fake_r64(GDT_PA + 0x08), 0x00af9b000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x10), 0x00cf93000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x18), 0x00affb000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x20), 0x00cff3000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x28), 0x00cf93000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x30), 0x0000820000000fffull);
    CHECK_U(fake_r64(GDT_PA + 0x38), 0);
    CHECK_NO_ALERT(0);

    /* Once only. */
    m = MARK();
    CHECK_ALLOW(tick(boot_cr3));
    CHECK_ALLOW(cr3_load(boot_cr3, cr3_of[S_INIT]));
    CHECK_LACKS(m, "has booted");
    CHECK_U(fake.nprotect, 5 + 4);
    CHECK_NO_ALERT(0);
}

/* 2. msr-guard. */
#define MSR_EFER  0xc0000080u
#define MSR_STAR  0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define HOOK      0xffffffffc0de0000ull
static void scn_msr_guard(void)
{
    CHECK(init_ids(NULL, true));
    start();
    u64 evil = cr3_of[S_EVIL];
    size_t m = MARK();
    /* LSTAR: the profile's syscall_entry is the locked value from the start. */
    CHECK_ALLOW(msr(evil, MSR_LSTAR, 0, K(ENTRY_PA)));
    CHECK_NO_ALERT(m);
    struct ids_verdict v = msr(evil, MSR_LSTAR, K(ENTRY_PA), HOOK);
    CHECK_BLOCK(v);
    struct fake_alert a = ONE_ALERT(m, "msr-guard", "block");
    CHECK_S(a.detail, "WRMSR LSTAR 0xffffffff80101000 -> 0xffffffffc0de0000 (the kernel set 0xffffffff80101000)");
    CHECK_S(a.severity, "critical");
    CHECK_S(a.process, "evil");
    CHECK_U(a.pid, 4);
    CHECK_HEX(a.cr3, evil);
    CHECK_HEX(a.rip, K(0x105000));
    CHECK(!a.has_gva && !a.has_gpa);
    /* Writing back the locked value is fine. */
    m = MARK();
    CHECK_ALLOW(msr(evil, MSR_LSTAR, HOOK, K(ENTRY_PA)));
    CHECK_ALLOW(msr(evil, MSR_LSTAR, K(ENTRY_PA), K(ENTRY_PA)));
    CHECK_NO_ALERT(m);

    /* STAR: trust on first use (a first zero locks nothing). */
    const u64 star = 0x0023001000000000ull, star2 = 0x0033002000000000ull;
    CHECK_ALLOW(msr(evil, MSR_STAR, 0x1234, 0));
    CHECK_ALLOW(msr(evil, MSR_STAR, 0, star));
    CHECK_NO_ALERT(m);
    CHECK_BLOCK(msr(evil, MSR_STAR, star, star2));
    a = ONE_ALERT(m, "msr-guard", "block");
    CHECK_S(a.detail, "WRMSR STAR 0x23001000000000 -> 0x33002000000000 (the kernel set 0x23001000000000)");
    m = MARK();
    CHECK_ALLOW(msr(evil, MSR_STAR, star2, star));
    CHECK_NO_ALERT(m);

    /* EFER: gaining bits is fine, losing NXE (or LME, SCE) is not. */
    CHECK_ALLOW(msr(evil, MSR_EFER, 0x500, 0xd01));
    CHECK_NO_ALERT(m);
    CHECK_BLOCK(msr(evil, MSR_EFER, 0xd01, 0x501));
    a = ONE_ALERT(m, "msr-guard", "block");
    CHECK_S(a.detail, "WRMSR EFER 0xd01 -> 0x501 clears NXE");
    m = MARK();
    CHECK_BLOCK(msr(evil, MSR_EFER, 0xd01, 0x401));
    a = ONE_ALERT(m, "msr-guard", "block");
    CHECK_S(a.detail, "WRMSR EFER 0xd01 -> 0x401 clears LME NXE");

    /* An MSR it does not watch. */
    m = MARK();
    CHECK_ALLOW(msr(evil, 0xc0000100u, 0, 0x1234));
    CHECK_NO_ALERT(m);
    CHECK_U(fake_alerts(0, 0, 0), 4);
}

/* 3. cr-guard. */
static void scn_cr_guard(void)
{
    CHECK(init_ids(NULL, true));
    start();
    u64 evil = cr3_of[S_EVIL];
    const u64 cr0 = 0x80050033ull, cr4 = 0x3006a0ull;      /* WP; SMEP and SMAP */
    size_t m = MARK();
    CHECK_BLOCK(crw(evil, 0, cr0, cr0 & ~(1ull << 16)));
    struct fake_alert a = ONE_ALERT(m, "cr-guard", "block");
    CHECK_S(a.detail, "CR0.WP cleared (0x80050033 -> 0x80040033)");
    CHECK_S(a.process, "evil");
    CHECK_HEX(a.rip, K(0x105100));
    m = MARK();
    CHECK_BLOCK(crw(evil, 4, cr4, cr4 & ~(1ull << 20)));
    a = ONE_ALERT(m, "cr-guard", "block");
    CHECK_S(a.detail, "CR4.SMEP cleared (0x3006a0 -> 0x2006a0)");
    m = MARK();
    CHECK_BLOCK(crw(evil, 4, cr4, cr4 & ~(1ull << 21)));
    a = ONE_ALERT(m, "cr-guard", "block");
    CHECK_S(a.detail, "CR4.SMAP cleared (0x3006a0 -> 0x1006a0)");
    m = MARK();
    CHECK_BLOCK(crw(evil, 4, cr4, 0x6a0));
    a = ONE_ALERT(m, "cr-guard", "block");
    CHECK_S(a.detail, "CR4.SMEP and SMAP cleared (0x3006a0 -> 0x6a0)");

    m = MARK();
    /* Setting them, and any other change, is allowed. */
    CHECK_ALLOW(crw(evil, 0, cr0 & ~(1ull << 16), cr0));
    CHECK_ALLOW(crw(evil, 4, 0x6a0, cr4));
    CHECK_ALLOW(crw(evil, 4, cr4, cr4 & ~0x80ull));                 /* PGE off */
    CHECK_ALLOW(crw(evil, 4, cr4, cr4 | 0x10000ull));               /* FSGSBASE on */
    CHECK_ALLOW(crw(evil, 0, cr0, cr0 & ~0x8ull));                  /* TS off */
    CHECK_ALLOW(crw(evil, 0, cr0, cr0 & ~(1ull << 20)));            /* bit 20 of CR0 is not SMEP */
    CHECK_ALLOW(crw(evil, 4, cr4 | 0x10000ull, cr4));               /* bit 16 of CR4 is not WP */
    CHECK_NO_ALERT(m);
}

/* 4. critical-tables: writes to the tables, and the registers. */
static void scn_critical_tables(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 evil = cr3_of[S_EVIL];
    size_t m = MARK();
    struct ids_verdict v = ept(evil, KRIP, K(SYSCALL_PA + 24), SYSCALL_PA + 24, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 3);                                      /* 48 89 18 at RIP, through evil's CR3 */
    struct fake_alert a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "write to the system-call table, entry 3");
    CHECK_HEX(a.gva, K(SYSCALL_PA + 24));
    CHECK_HEX(a.gpa, SYSCALL_PA + 24);
    CHECK_HEX(a.rip, KRIP);
    CHECK_HEX(a.cr3, evil);
    CHECK_S(a.process, "evil");
    CHECK_U(a.pid, 4);
    CHECK_S(a.severity, "critical");

    m = MARK();
    v = ept(evil, KRIP, K(IDT_PA + 14 * 16 + 8), IDT_PA + 14 * 16 + 8, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 3);
    a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "write to the IDT, vector 14");

    m = MARK();
    v = ept(evil, KRIP, K(GDT_PA + 0x14), GDT_PA + 0x14, IDS_WRITE);
    CHECK_BLOCK(v);
    a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "write to the GDT, descriptor 0x10");

    /* Instruction length through the event's CR3: user code in evil's space. */
    m = MARK();
    v = ept(evil, USER_CODE + 0x10, K(IDT_PA + 0x20), IDT_PA + 0x20, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 6);
    a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "write to the IDT, vector 2");
    /* The same RIP in another space (init's code page has the same bytes at
     * +0x10, so change them there): decoded from init's page, not evil's. */
    static const u8 nop2[] = { 0x66, 0x89, 0x08 };               /* mov [rax], cx: 3 bytes */
    fake_poke(code_pa_of[S_INIT] + 0x10, nop2, sizeof(nop2));
    cr3_load(evil, cr3_of[S_INIT]);                              /* a CR3 load flushes vigil's translations */
    v = ept(cr3_of[S_INIT], USER_CODE + 0x10, K(IDT_PA + 0x30), IDT_PA + 0x30, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 3);
    /* The guest remaps evil's code page: after a CR3 load (which flushes
     * vigil's translation cache) the new page's bytes are decoded. */
    u64 newcode = fake_alloc_page();
    static const u8 movb[] = { 0xc6, 0x00, 0x01 };               /* mov byte [rax], 1: 3 bytes */
    fake_poke(newcode + 0x10, movb, sizeof(movb));
    fake_map(evil, USER_CODE, newcode, PTE_P | PTE_U);
    cr3_load(cr3_of[S_INIT], evil);
    v = ept(evil, USER_CODE + 0x10, K(IDT_PA + 0x50), IDT_PA + 0x50, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 3);
    /* Remapped again with no CR3 load (the guest's INVLPG does not exit):
     * vigil's translations do not outlive the event that made them, so the
     * next event decodes the page mapped now. */
    u64 newer = fake_alloc_page();
    static const u8 mov2[] = { 0x88, 0x00 };                     /* mov [rax], al: 2 bytes */
    fake_poke(newer + 0x10, mov2, sizeof(mov2));
    fake_map(evil, USER_CODE, newer, PTE_P | PTE_U);
    v = ept(evil, USER_CODE + 0x10, K(IDT_PA + 0x58), IDT_PA + 0x58, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 2);
    /* RIP that is not mapped: still blocked, length unknown (0: vmm injects #GP). */
    v = ept(evil, 0x7fff0000ull, K(IDT_PA + 0x40), IDT_PA + 0x40, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 0);

    /* A read of a protected table, and a write to the GDT's page past the GDT:
     * allowed, nothing said (the page is protected for the table's sake). */
    m = MARK();
    CHECK_ALLOW(ept(evil, KRIP, K(IDT_PA), IDT_PA, IDS_READ));
    v = ept(evil, KRIP, K(GDT_PA + 0x100), GDT_PA + 0x100, IDS_WRITE);
    CHECK_ALLOW(v);
    CHECK_U(v.skip_len, 0);
    CHECK_NO_ALERT(m);

    /* LIDT/LGDT after boot. */
    next_window(evil);
    m = MARK();
    CHECK_ALLOW(dtr(evil, true, K(IDT_PA), 0xfff));
    CHECK_ALLOW(dtr(evil, false, K(GDT_PA), 0x3f));
    CHECK_NO_ALERT(m);
    v = dtr(evil, true, K(0x125000), 0xfff);
    CHECK_BLOCK(v);
    a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "IDTR switched to a table at 0xffffffff80125000 (limit 0xfff); the boot-time one is at "
                      "0xffffffff80120000");
    CHECK_HEX(a.gva, K(0x125000));
    m = MARK();
    CHECK_BLOCK(dtr(evil, false, K(GDT_PA), 0x7f));               /* same base, longer limit */
    a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "GDTR switched to a table at 0xffffffff80121000 (limit 0x7f); the boot-time one is at "
                      "0xffffffff80121000");
    CHECK_U(fake.nset_dtr, 0);
}

/* 4b. critical-tables, periodic: contents changed behind EPT's back (the
 * hash), and a register changed without a trapped LIDT (put back). */
static void scn_critical_tables_tick(void)
{
    CHECK(init_ids(NULL, true));
    boot();                                      /* tick 1 */
    u64 init = cr3_of[S_INIT];
    cr3_load(boot_cr3, init);
    tick_to(init, 9);
    size_t m = MARK();
    fake_w64(SYSCALL_PA + 8, HOOK);              /* as a device's DMA would */
    tick_to(init, 10);
    struct fake_alert a = ONE_ALERT(m, "critical-tables", "alert");
    CHECK_S(a.detail, "system-call table contents changed (hash)");
    CHECK_HEX(a.gpa, SYSCALL_PA);
    m = MARK();
    tick_to(init, 20);                           /* reported once: the new hash is kept */
    CHECK_NO_ALERT(m);

    fake.idt_base = K(0x125000);                 /* IDTR changed, no LIDT exit seen */
    m = MARK();
    tick_to(init, 21);
    a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "IDTR switched to a table at 0xffffffff80125000 (limit 0xfff); the boot-time one is at "
                      "0xffffffff80120000");
    CHECK_U(fake.nset_dtr, 1);
    CHECK(fake.set_dtr[0].idt);
    CHECK_U(fake.set_dtr[0].base, K(IDT_PA));
    CHECK_U(fake.set_dtr[0].limit, 0xfff);
    CHECK_U(fake.idt_base, K(IDT_PA));
    m = MARK();
    tick_to(init, 22);
    CHECK_NO_ALERT(m);
}

/* 4c. critical-tables with several vCPUs: a started vCPU's own start-up
 * tables are not judged; it locks once it loads the kernel's IDT; one that
 * keeps running on an IDT of its own is reported once; SIPI unlocks it. */
static struct ids_verdict on_vcpu(u32 vcpu, struct ids_event e)
{
    e.vcpu = vcpu;
    return ids_event(&e);
}

/* msr-guard with several vCPUs: SYSENTER_ESP is each CPU's own entry stack
 * (Linux points it at that CPU's cpu_entry_area), locked per vCPU; LSTAR is
 * the same on every CPU, and CPU 0's value binds vCPU 1 too. */
static void scn_msr_guard_vcpus(void)
{
    CHECK(init_ids(NULL, true));
    start();
    u64 k = cr3_of[S_EVIL];
    const u64 esp0 = 0xfffffe0000003000ull, esp1 = 0xfffffe000003e000ull;
    struct ids_event e = ev(IDS_EV_MSR_WRITE, k, K(0x105000));
    e.owner = trap_msr_find(fake_traps(), 0x175)->owner;
    e.msr.msr = 0x175;
    size_t m = MARK();
    e.msr.old = 0, e.msr.value = esp0;
    CHECK_ALLOW(on_vcpu(0, e));
    on_vcpu(1, ev(IDS_EV_VCPU_START, 0, 0));
    e.msr.old = 0, e.msr.value = esp1;
    CHECK_ALLOW(on_vcpu(1, e));                 /* vCPU 1's own first value */
    CHECK_NO_ALERT(m);
    e.msr.old = esp1, e.msr.value = esp0;
    CHECK_BLOCK(on_vcpu(1, e));                 /* then fixed for it */
    struct fake_alert a = ONE_ALERT(m, "msr-guard", "block");
    CHECK_S(a.detail, "WRMSR SYSENTER_ESP 0xfffffe000003e000 -> 0xfffffe0000003000 (the kernel set 0xfffffe000003e000)");
    CHECK(fake_console_has(m, "\"vcpu\":1"));
    /* started again (INIT-SIPI): its own value again is fine, another is not */
    on_vcpu(1, ev(IDS_EV_VCPU_START, 0, 0));
    m = MARK();
    e.msr.old = 0, e.msr.value = esp1;
    CHECK_ALLOW(on_vcpu(1, e));
    CHECK_NO_ALERT(m);
    on_vcpu(1, ev(IDS_EV_VCPU_START, 0, 0));
    e.msr.old = 0, e.msr.value = 0xfffffe0000100000ull;
    CHECK_BLOCK(on_vcpu(1, e));
    a = ONE_ALERT(m, "msr-guard", "block");
    CHECK_S(a.detail, "WRMSR SYSENTER_ESP 0x0 -> 0xfffffe0000100000 (the kernel set 0xfffffe000003e000)");
    m = MARK();
    e.msr.old = esp0, e.msr.value = esp0;
    CHECK_ALLOW(on_vcpu(0, e));
    /* LSTAR: the profile's entry, on every vCPU. */
    struct ids_event l = e;
    l.owner = trap_msr_find(fake_traps(), MSR_LSTAR)->owner;
    l.msr.msr = MSR_LSTAR, l.msr.old = 0, l.msr.value = K(ENTRY_PA);
    CHECK_ALLOW(on_vcpu(1, l));
    CHECK_NO_ALERT(m);
    l.msr.old = K(ENTRY_PA), l.msr.value = HOOK;
    CHECK_BLOCK(on_vcpu(1, l));
    a = ONE_ALERT(m, "msr-guard", "block");
    CHECK(fake_console_has(m, "\"vcpu\":1"));
}

static void scn_critical_tables_vcpus(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    size_t m = MARK();
    on_vcpu(1, ev(IDS_EV_VCPU_START, 0, 0));
    u64 kidt = fake.idt_base, kgdt = fake.gdt_base;
    u16 kidt_l = fake.idt_limit;
    /* vCPU 1 in its real-mode start-up: its own IDTR and GDTR */
    fake.idt_base = 0x8000;
    fake.idt_limit = 0x3ff;
    fake.gdt_base = 0x9000;
    struct ids_event d = ev(IDS_EV_DTR_LOAD, 0, 0x8010);
    d.dtr.idt = false;
    d.dtr.base = 0x9000;
    d.dtr.limit = 0x17;
    CHECK_ALLOW(on_vcpu(1, d));
    for (u32 i = 0; i < 99; i++)
        on_vcpu(1, ev(IDS_EV_TICK, 0, 0x8020));
    CHECK_NO_ALERT(m);
    on_vcpu(1, ev(IDS_EV_TICK, 0, 0x8020));       /* the 100th: reported */
    struct fake_alert a = ONE_ALERT(m, "critical-tables", "alert");
    CHECK_S(a.detail, "vCPU 1 ran 100 ticks on its own IDT 0x8000/0x3ff, never the kernel's 0xffffffff80120000");
    m = MARK();
    for (u32 i = 0; i < 150; i++)
        on_vcpu(1, ev(IDS_EV_TICK, 0, 0x8020));
    CHECK_NO_ALERT(m);                            /* once */
    CHECK_U(fake.nset_dtr, 0);                    /* nothing of vCPU 1's was put back */

    /* it loads the kernel's IDT: locked, with its GDTR as it stands */
    fake.gdt_base = kgdt;
    d.dtr.idt = true;
    d.dtr.base = kidt;
    d.dtr.limit = kidt_l;
    m = MARK();
    CHECK_ALLOW(on_vcpu(1, d));
    CHECK_HAS(m, "vCPU 1: IDTR and GDTR");
    fake.idt_base = kidt;
    fake.idt_limit = kidt_l;
    d.dtr.base = K(0x125000);                     /* then another IDT: refused */
    m = MARK();
    CHECK_BLOCK(on_vcpu(1, d));
    ONE_ALERT(m, "critical-tables", "block");
    /* vCPU 0 is not affected by vCPU 1's start-up */
    m = MARK();
    tick_to(init, ticks_now + 2);
    CHECK_NO_ALERT(m);

    /* the guest starts vCPU 1 again: its start-up is its own again */
    on_vcpu(1, ev(IDS_EV_VCPU_START, 0, 0));
    d.dtr.base = 0x8000;
    m = MARK();
    CHECK_ALLOW(on_vcpu(1, d));
    CHECK_NO_ALERT(m);
    /* ... and it comes back to its own GDT when it loads the kernel's IDT */
    d.dtr.base = kidt;
    CHECK_ALLOW(on_vcpu(1, d));
    CHECK_NO_ALERT(m);
    /* started again into a rootkit's code, on a GDT of the rootkit's: at the
     * kernel's IDT, reported, and its first GDT put back */
    on_vcpu(1, ev(IDS_EV_VCPU_START, 0, 0));
    fake.gdt_base = K(0x126000);
    u32 puts = fake.nset_dtr;
    m = MARK();
    on_vcpu(1, d);
    a = ONE_ALERT(m, "critical-tables", "block");
    char want[160];
    snprintf(want, sizeof(want), "vCPU 1 started again on a GDT at 0x%llx (limit 0x%x); it first ran on 0x%llx "
             "(limit 0x%x)", (unsigned long long)K(0x126000), fake.gdt_limit, (unsigned long long)kgdt,
             fake.gdt_limit);
    CHECK_S(a.detail, want);
    CHECK_U(fake.nset_dtr, puts + 1);
    CHECK_U(fake.gdt_base, kgdt);
}

/* 5. kernel-text. */
static void scn_kernel_text(void)
{
    CHECK(init_ids(NULL, true));
    start();
    u64 evil = cr3_of[S_EVIL];
    size_t m = MARK();
    struct ids_verdict v = ept(evil, KRIP, K(TEXT_PA + 0x40), TEXT_PA + 0x40, IDS_WRITE);
    CHECK_BLOCK(v);
    CHECK_U(v.skip_len, 3);
    struct fake_alert a = ONE_ALERT(m, "kernel-text", "block");
    CHECK_S(a.detail, "write to protected kernel text at offset 0x40");
    CHECK_HEX(a.gva, K(TEXT_PA + 0x40));
    CHECK_HEX(a.gpa, TEXT_PA + 0x40);
    CHECK_S(a.process, "evil");
    CHECK_S(a.severity, "critical");
    m = MARK();
    CHECK_BLOCK(ept(evil, KRIP, K(RODATA_PA + 0x4008), RODATA_PA + 0x4008, IDS_WRITE));
    a = ONE_ALERT(m, "kernel-text", "block");
    CHECK_S(a.detail, "write to protected kernel read-only data at offset 0x4008");
    /* The system-call table inside rodata belongs to the more specific policy. */
    m = MARK();
    CHECK_BLOCK(ept(evil, KRIP, K(SYSCALL_PA), SYSCALL_PA, IDS_WRITE));
    a = ONE_ALERT(m, "critical-tables", "block");
    CHECK_S(a.detail, "write to the system-call table, entry 0");
    /* Reads and executes are not its business; neither is unprotected memory. */
    m = MARK();
    CHECK_ALLOW(ept(evil, KRIP, K(TEXT_PA), TEXT_PA, IDS_READ | IDS_EXEC));
    CHECK_ALLOW(ept(evil, KRIP, K(0x150000), 0x150000, IDS_WRITE));
    CHECK_NO_ALERT(m);
}

static void scn_kernel_text_alert(void)
{
    CHECK(init_ids("# log only\nkernel-text action=alert severity=medium\n", true));
    CHECK_HAS(0, "kernel-text       on  action=alert   severity=medium   (policy file)");
    start();
    size_t m = MARK();
    struct ids_verdict v = ept(cr3_of[S_EVIL], KRIP, K(TEXT_PA + 0x1234), TEXT_PA + 0x1234, IDS_WRITE);
    CHECK_ALLOW(v);
    CHECK_U(v.skip_len, 0);
    struct fake_alert a = ONE_ALERT(m, "kernel-text", "alert");
    CHECK_S(a.detail, "write to protected kernel text at offset 0x1234");
    CHECK_S(a.severity, "medium");
    /* The other policies keep their defaults. */
    m = MARK();
    CHECK_BLOCK(ept(cr3_of[S_EVIL], KRIP, K(SYSCALL_PA), SYSCALL_PA, IDS_WRITE));
    ONE_ALERT(m, "critical-tables", "block");
}

/* 6. io-guard. */
static void scn_io_guard_default(void)
{
    CHECK(init_ids(NULL, true));
    start();
    CHECK(fake_watched(0x1f0, 8));
    CHECK_U(fake.nwatch, 1);
    size_t m = MARK();
    CHECK_BLOCK(io(cr3_of[S_RAWIO], 0x1f0, false));
    struct fake_alert a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x1f0 by rawio, not allowed by the default rule");
    CHECK_S(a.process, "rawio");
    CHECK_U(a.pid, 3);
    CHECK_S(a.severity, "high");
    CHECK_HEX(a.cr3, cr3_of[S_RAWIO]);
    m = MARK();
    CHECK_ALLOW(io(cr3_of[S_DISKD], 0x1f0, false));
    CHECK_ALLOW(io(cr3_of[S_DISKD], 0x1f7, true));
    CHECK_ALLOW(io(cr3_of[S_RAWIO], 0x1ef, true));               /* outside the rule */
    CHECK_ALLOW(io(cr3_of[S_RAWIO], 0x1f8, true));
    CHECK_NO_ALERT(m);
    CHECK_BLOCK(io(cr3_of[S_RAWIO], 0x1f7, true));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "IN from port 0x1f7 by rawio, not allowed by the default rule");
    /* The kernel's own address space, and one nobody owns. */
    m = MARK();
    CHECK_BLOCK(io(kernel_cr3, 0x1f3, true));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "IN from port 0x1f3 by kernel, not allowed by the default rule");
    CHECK_S(a.process, "kernel");
    CHECK_U(a.pid, -1);
    m = MARK();
    CHECK_BLOCK(io(0x2ff0000, 0x1f3, false));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x1f3 by an unknown process, not allowed by the default rule");
    CHECK_S(a.process, "");
    CHECK_U(a.pid, -1);
}

static void scn_io_guard_custom(void)
{
    CHECK(init_ids("# keyboard controller\nio-guard ports=0x60,0x64 allow=init,diskd action=alert\n", true));
    start();
    CHECK(fake_watched(0x60, 1));
    CHECK(fake_watched(0x64, 1));
    CHECK(!fake_watched(0x1f0, 8));                              /* the file's rules replace the default */
    size_t m = MARK();
    CHECK_ALLOW(io(cr3_of[S_RAWIO], 0x1f0, false));
    CHECK_ALLOW(io(cr3_of[S_DISKD], 0x64, true));
    CHECK_ALLOW(io(cr3_of[S_INIT], 0x60, true));
    CHECK_NO_ALERT(m);
    CHECK_ALLOW(io(cr3_of[S_RAWIO], 0x60, true));                /* action=alert */
    struct fake_alert a = ONE_ALERT(m, "io-guard", "alert");
    CHECK_S(a.detail, "IN from port 0x60 by rawio, not allowed by policy line 2");
    CHECK_S(a.process, "rawio");
}

/* io-guard sees every port of a wide access: a word read just below the
 * rule's range reaches 0x1f0, a dword from 0x1f6 covers 0x1f6-0x1f9. */
static void scn_io_guard_wide(void)
{
    CHECK(init_ids(NULL, true));
    start();
    size_t m = MARK();
    CHECK_ALLOW(io_sized(cr3_of[S_RAWIO], 0x1ee, 2, true));      /* 0x1ee-0x1ef: outside */
    CHECK_NO_ALERT(m);
    CHECK_BLOCK(io_sized(cr3_of[S_RAWIO], 0x1ef, 2, true));
    struct fake_alert a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "IN from port 0x1ef (2 bytes) by rawio, not allowed by the default rule");
    m = MARK();
    CHECK_BLOCK(io_sized(cr3_of[S_RAWIO], 0x1f6, 4, false));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x1f6 (4 bytes) by rawio, not allowed by the default rule");
    m = MARK();
    CHECK_ALLOW(io_sized(cr3_of[S_DISKD], 0x1ef, 2, true));
    CHECK_NO_ALERT(m);
}

/* The policy file's 64 port ranges (8 rules of 8) are every one trapped:
 * the registry holds as many as the parser accepts. */
static void scn_io_guard_64_ranges(void)
{
    char policy[2048] = "", line[256];
    for (u32 r = 0; r < 8; r++) {
        snprintf(line, sizeof(line), "io-guard ports=");
        for (u32 i = 0; i < 8; i++)
            snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s0x%x", i ? "," : "", 0x100 + r * 16 + i);
        strcat(line, " action=block\n");
        strcat(policy, line);
    }
    CHECK(init_ids(policy, true));
    CHECK_ALLOW(start());
    CHECK_U(fake.nwatch, 64);
    CHECK_U(fake_traps()->nports, 64);
    size_t m = MARK();
    CHECK_BLOCK(io(cr3_of[S_RAWIO], 0x177, false));              /* the last range of the last rule */
    struct fake_alert a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x177 by rawio, not allowed by policy line 8");
}

/* A trap that cannot be made before the guest runs refuses the guest, with
 * the trap and the reason named; one that fails later (the IDT at boot)
 * suspends the vCPU. */
static void scn_trap_fail_closed(void)
{
    CHECK(init_ids(NULL, true));
    fake.protect_fails = true;
    size_t m = MARK();
    CHECK_BLOCK(start());
    CHECK_HAS(m, "vigil: kernel-text: cannot trap kernel text: EPT refused (test)");
    CHECK_HAS(m, "vigil: critical-tables: cannot trap system-call table: EPT refused (test)");
    CHECK_HAS(m, "IDS traps could not be made: refusing to start the guest (fail closed; ids=off overrides)");

    CHECK(init_ids(NULL, true));
    CHECK_ALLOW(start());
    fake.protect_fails = true;
    cr3_load(0, boot_cr3);
    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = (u16)(GDT_SIZE - 1);
    m = MARK();
    struct ids_verdict v = tick(boot_cr3);
    CHECK_U(v.action, IDS_SUSPEND);
    CHECK_S(v.reason, "critical-tables");
    CHECK_HAS(m, "vigil: critical-tables: cannot trap IDT: EPT refused (test)");
}

/* 7. hidden-process. The standard guest is booted; ticks keep the running
 * space (init) current. */
#define SLOT_HIDDEN 8
static u64 hidden_space(u32 slot, u32 pid, const char *name)
{
    u64 cr3 = new_space(NULL);
    if (name)
        proc_set(slot, pid, name, cr3, 2);
    return cr3;
}

/* (a) listed spaces: never an alert, however often they run. */
static void scn_hidden_listed(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    size_t m = MARK();
    for (u32 round = 0; round < 4; round++) {
        for (u32 s = 0; s < S_COUNT; s++)
            CHECK_ALLOW(cr3_load(cr3_of[(s + 3) % S_COUNT], cr3_of[s]));
        tick_to(cr3_of[round % S_COUNT], ticks_now + 3);
    }
    CHECK_NO_ALERT(m);
    CHECK_LACKS(m, "HIDDEN");
}

/* (b) a space missing from the list in two different ticks is reported
 * once, named from the pool. */
static void scn_hidden_two_ticks(void)
{
    CHECK(init_ids("hidden-process interval=5\n", true));   /* the default is every tick */
    boot();
    u64 init = cr3_of[S_INIT];
    u64 h = hidden_space(SLOT_HIDDEN, 9, "hidden");
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(init, h));
    CHECK_ALLOW(cr3_load(h, init));
    CHECK_ALLOW(cr3_load(init, h));                              /* same tick: no verdict yet */
    CHECK_NO_ALERT(m);
    tick_to(h, 2);
    CHECK_NO_ALERT(m);                                           /* tick 2: not a hidden-process tick */
    struct ids_verdict v = cr3_load(init, h);
    CHECK_ALLOW(v);                                              /* default action: alert */
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "address space runs but no process in the list has it: hidden process pid 9 \"hidden\"");
    CHECK_HEX(a.cr3, h);
    CHECK_HEX(a.gpa, h);
    CHECK_U(a.pid, 9);
    CHECK_S(a.process, "hidden");
    CHECK_S(a.severity, "high");
    /* Once. */
    m = MARK();
    tick_to(h, 12);
    cr3_load(init, h);
    CHECK_NO_ALERT(m);
    /* The operator's ps shows both views. */
    m = MARK();
    CHECK(ids_console_command("ps", init));
    CHECK_HAS(m, "HIDDEN: runs, not in the process list; pool says hidden");
    CHECK_HAS(m, "init ");
    CHECK_HAS(m, "kernel address space");

    /* No used pool entry: no name, no pid. (A freed slot that still holds
     * the CR3 and name of the process it had does not count.) */
    u64 h2 = hidden_space(0, 0, NULL);
    proc_set(SLOT_HIDDEN + 1, 12, "ghost", h2, 0);
    m = MARK();
    cr3_load(init, h2);
    tick_to(init, 13);
    cr3_load(init, h2);
    a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "address space runs but no process in the list has it: hidden process (no name known)");
    CHECK_U(a.pid, -1);
    CHECK_S(a.process, "");
}

/* (b') a hidden space that is loaded once and then only seen running at
 * the periodic check (here every 5 ticks). */
static void scn_hidden_tick_path(void)
{
    CHECK(init_ids("hidden-process interval=5\n", true));
    boot();
    u64 h = hidden_space(SLOT_HIDDEN, 11, "sneaky");
    size_t m = MARK();
    cr3_load(cr3_of[S_INIT], h);                                 /* tick 1: first miss */
    tick_to(h, 4);
    CHECK_NO_ALERT(m);
    tick_to(h, 5);                                               /* the periodic check sees it again */
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "address space runs but no process in the list has it: hidden process pid 11 \"sneaky\"");
    CHECK_HEX(a.cr3, h);
}

/* (b3) a hider that runs only between ticks (hide-tick-phase): every tick
 * finds a listed task running, and only the random-time samples between
 * them find the ghost. hidden-process asks vmm/ for the samples at start;
 * two samples in one tick's period are one miss, a third after the next
 * tick is the second, and reports it. */
static void scn_hidden_task_sampled(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    CHECK_U(fake.sample_mean_us, 10000);
    u64 init = cr3_of[S_INIT];
    proc_set(SLOT_HIDDEN, 9, "ghost", init, 1);                 /* unlisted, on init's CR3 */
    size_t m = MARK();
    struct ids_event s = ev(IDS_EV_SAMPLE, init, K(0x104000));   /* in the kernel: the two-tick rule */
    for (int round = 0; round < 3; round++) {
        fake_w64(CURRENT_PA, K(proc_pa(S_INIT)));
        tick(init);                                              /* the tick: init runs */
        fake_w64(CURRENT_PA, K(proc_pa(SLOT_HIDDEN)));
        ids_event(&s);                                           /* a sample: the ghost runs */
        if (round == 0)
            ids_event(&s);                                       /* the same period: not a second miss */
        if (round < 1)
            CHECK_NO_ALERT(m);
    }
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 9 \"ghost\" in a listed "
                      "process's address space");
    CHECK_S(a.process, "ghost");
}

/* (b4) the expiry dodge (hide-sample-expiry): a ghost that runs within
 * one tick period and then stays off the CPU for longer than a suspicion
 * lasts. Caught in user mode and missing from a walk of the list taken in
 * the same event, it is reported at once, by a sample or a tick. A process
 * spawned after the tick's snapshot, running user code at a sample, is
 * listed by that walk: nothing. */
static void scn_hidden_user_mode_at_once(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    size_t m = MARK();
    tick(init);                                                  /* the tick's snapshot: the four */
    proc_set(SLOT_HIDDEN, 11, "late", init, 1);                  /* spawned since, and listed */
    static const int five[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, SLOT_HIDDEN, -1 };
    list_link(five);
    fake_w64(CURRENT_PA, K(proc_pa(SLOT_HIDDEN)));
    struct ids_event s = ev(IDS_EV_SAMPLE, init, USER_CODE);
    ids_event(&s);
    CHECK_NO_ALERT(m);
    static const int four[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, -1 };
    list_link(four);
    proc_set(SLOT_HIDDEN, 9, "ghost", init, 1);                 /* unlisted, on init's CR3 */
    fake_w64(CURRENT_PA, K(proc_pa(S_INIT)));
    tick(init);
    CHECK_NO_ALERT(m);
    fake_w64(CURRENT_PA, K(proc_pa(SLOT_HIDDEN)));
    ids_event(&s);                                               /* one sample, in user mode */
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 9 \"ghost\" in a listed "
                      "process's address space");
    CHECK_S(a.process, "ghost");
}

/* (b2) a task that runs unlisted in a borrowed address space: a listed
 * process's (its CR3 is listed: the CR3 check is silent), and the kernel's
 * (user mode there is reported too). Found by the task `current` names,
 * missed by snapshots of two ticks; reported once, naming the task. */
static void scn_hidden_task(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    proc_set(SLOT_HIDDEN, 9, "ghost", init, 1);                 /* unlisted, on init's CR3 */
    fake_w64(CURRENT_PA, K(proc_pa(SLOT_HIDDEN)));
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(kernel_cr3, init));
    ktick(init);                                                 /* first miss, in the kernel */
    CHECK_NO_ALERT(m);                                           /* the two-tick rule */
    ktick(init);
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 9 \"ghost\" in a listed "
                      "process's address space");
    CHECK_U(a.pid, 9);
    CHECK_S(a.process, "ghost");
    CHECK_HEX(a.gva, K(proc_pa(SLOT_HIDDEN)));
    m = MARK();
    tick_to(init, ticks_now + 5);                                /* once */
    CHECK_NO_ALERT(m);
    /* The kernel's address space, in user mode: a second ghost. */
    proc_set(SLOT_HIDDEN + 1, 10, "ghost2", kernel_cr3, 1);
    fake_w64(CURRENT_PA, K(proc_pa(SLOT_HIDDEN + 1)));
    m = MARK();
    struct ids_event e = ev(IDS_EV_TICK, kernel_cr3, USER_CODE);  /* CPL 3: both at once */
    ticks_now++;
    ids_event(&e);
    struct fake_alert two[4];
    CHECK_U(fake_alerts(m, two, 4), 2);
    CHECK_S(two[0].detail, "the running task is not in the process list: hidden process pid 10 \"ghost2\" in the "
                           "kernel's address space");
    CHECK_S(two[1].detail, "user-mode code runs in the kernel's address space (task pid 10 \"ghost2\")");
    CHECK_S(two[1].process, "ghost2");
    m = MARK();
    ticks_now++;
    ids_event(&e);
    CHECK_NO_ALERT(m);                                           /* each once */
    /* A listed task that runs: nothing. */
    fake_w64(CURRENT_PA, K(proc_pa(S_INIT)));
    m = MARK();
    tick_to(init, ticks_now + 5);
    CHECK_NO_ALERT(m);
}

/* (b3) identities: a process renamed after it first ran keeps the name it
 * ran with for io-guard, and the rename is reported once; code changed in
 * an allowed process loses it the allowance. */
static void scn_identity(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT], rawio = cr3_of[S_RAWIO], diskd = cr3_of[S_DISKD];
    CHECK_ALLOW(cr3_load(init, rawio));                          /* first seen: rawio */
    CHECK_ALLOW(cr3_load(rawio, diskd));                         /* first seen: diskd */
    CHECK_ALLOW(io(diskd, 0x1f0, false));
    memcpy(fake_mem + proc_pa(S_RAWIO) + 8, "diskd", 6);
    size_t m = MARK();
    tick(init);                                                  /* the next snapshot has the new name */
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "process pid 3 \"rawio\" was renamed \"diskd\" after it first ran; vigil still knows it as "
                      "\"rawio\"");
    CHECK_U(a.pid, 3);
    m = MARK();
    CHECK_BLOCK(io(rawio, 0x1f0, false));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x1f0 by diskd (pid 3, first ran as rawio), not allowed by the default rule");
    m = MARK();
    tick_to(init, ticks_now + 3);
    CHECK_NO_ALERT(m);
    /* diskd's code changes: its ports are refused from the next tick's hash on. */
    fake_w64(code_pa_of[S_DISKD] + 0x40, 0xccccccccccccccccull);
    tick(init);
    m = MARK();
    CHECK_BLOCK(io(diskd, 0x1f7, true));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "IN from port 0x1f7 by diskd (pid 2), whose code changed since it first ran, not allowed by "
                      "the default rule");
    /* A new process in diskd's slot and page-table root (another pid), its
     * image loaded afresh: diskd again, allowed. */
    fake_w64(code_pa_of[S_DISKD] + 0x40, 0);
    proc_set(S_DISKD, 22, "diskd", diskd, 1);
    tick(init);
    m = MARK();
    CHECK_ALLOW(io(diskd, 0x1f7, true));
    CHECK_NO_ALERT(m);
}

/* (b4) a name and a pid taken over: rawio rewrites its entry to diskd's pid
 * and name; its structure, address space and code are what vigil first saw
 * as rawio, so it stays rawio. evil does the same and changes its code: a
 * new identity under the name diskd, not running diskd's code. */
static void scn_identity_pid(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT], rawio = cr3_of[S_RAWIO], diskd = cr3_of[S_DISKD], evil = cr3_of[S_EVIL];
    CHECK_ALLOW(cr3_load(init, rawio));
    CHECK_ALLOW(cr3_load(rawio, diskd));
    CHECK_ALLOW(cr3_load(diskd, evil));
    CHECK_ALLOW(io(diskd, 0x1f0, false));
    tick(init);
    static const int all[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, -1 };
    proc_set(S_RAWIO, 2, "diskd", rawio, 1);
    list_link(all);
    size_t m = MARK();
    tick(init);
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "process pid 3 \"rawio\" took the name \"diskd\" and pid 2 after it first ran");
    m = MARK();
    CHECK_BLOCK(io(rawio, 0x1f0, false));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x1f0 by diskd (pid 2, first ran as rawio, pid 3), not allowed by the default rule");
    /* evil: diskd's pid and name, and code of its own. */
    fake_w64(code_pa_of[S_EVIL] + 0x40, 0xccccccccccccccccull);
    proc_set(S_EVIL, 2, "diskd", evil, 1);
    list_link(all);
    m = MARK();
    tick(init);
    a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "process pid 2 \"diskd\" does not run the code the first \"diskd\" ran: another program under "
                      "its name");
    m = MARK();
    CHECK_BLOCK(io(evil, 0x1f7, true));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "IN from port 0x1f7 by diskd (pid 2), not the code the first diskd ran, not allowed by the "
                      "default rule");
    /* The real diskd is still diskd. */
    m = MARK();
    CHECK_ALLOW(io(diskd, 0x1f0, false));
    CHECK_NO_ALERT(m);
}

/* (c) the race that once gave a false positive: a CR3 missed by a stale
 * snapshot (spawn), then listed, then the process exits and another one
 * gets the same page-table root, again missed once by a stale snapshot.
 * Being listed in between clears the old suspicion: no alert. */
static void scn_hidden_race(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    u64 c = new_space(NULL);
    size_t m = MARK();

    tick_to(init, 2);
    CHECK_ALLOW(cr3_load(init, cr3_of[S_DISKD]));                 /* the tick's snapshot: c not in it */
    proc_set(5, 20, "worker", c, 1);                             /* spawn: linked after the snapshot */
    static const int with_worker[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(with_worker);
    CHECK_ALLOW(cr3_load(cr3_of[S_DISKD], c));                    /* stale snapshot: a first miss */
    tick_to(init, 3);
    CHECK_ALLOW(cr3_load(init, c));                               /* listed: suspicion cleared */
    CHECK_ALLOW(cr3_load(c, init));

    /* worker exits; its page-table root is reused by "reuser". */
    static const int without[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, -1 };
    list_link(without);
    proc_set(5, 0, "", 0, 0);                                    /* pool slot freed */
    tick_to(init, 4);
    CHECK_ALLOW(cr3_load(init, cr3_of[S_RAWIO]));                 /* the tick's snapshot: no c */
    proc_set(6, 21, "reuser", c, 1);
    static const int with_reuser[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 6, -1 };
    list_link(with_reuser);
    CHECK_ALLOW(cr3_load(cr3_of[S_RAWIO], c));                    /* stale: a miss again, in a later tick */
    tick_to(c, 5);                                               /* hidden-process tick with c running */
    tick_to(init, 6);
    CHECK_ALLOW(cr3_load(init, c));
    tick_to(c, 10);
    CHECK_NO_ALERT(m);

    /* The detector is live: a really hidden one in the same run. */
    u64 h = hidden_space(SLOT_HIDDEN, 9, "hidden");
    cr3_load(init, h);
    tick_to(init, 11);
    cr3_load(init, h);
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 9);
}

/* (d) the kernel's CR3 and the first CR3 (the boot tables) are not in the
 * list, and are never flagged. */
static void scn_hidden_kernel_spaces(void)
{
    /* pagetable-audit reports the boot tables running again after the boot
     * (scn_pagetable_audit_boot_and_clean); this is hidden-process's view. */
    CHECK(init_ids("pagetable-audit enabled=no\n", true));
    boot();                                                      /* first CR3: boot_cr3 */
    size_t m = MARK();
    for (u64 t = 2; t <= 12; t++) {
        CHECK_ALLOW(cr3_load(boot_cr3, kernel_cr3));
        CHECK_ALLOW(cr3_load(kernel_cr3, boot_cr3));
        tick_to(t % 2 ? kernel_cr3 : boot_cr3, t);
    }
    /* With PCID bits in the loaded value too. */
    CHECK_ALLOW(cr3_load(boot_cr3, kernel_cr3 | 0x5));
    tick_to(kernel_cr3, 13);
    CHECK_ALLOW(cr3_load(boot_cr3, kernel_cr3 | 0x5));
    CHECK_NO_ALERT(m);
    m = MARK();
    CHECK(ids_console_command("ps", kernel_cr3));
    CHECK_LACKS(m, "HIDDEN");
    CHECK_HAS(m, "kernel address space");
}

/* (d2) a lying `current`: evil, unlinked, runs in diskd's address space
 * while `current` names diskd; the TSS's RSP0 is still evil's kernel
 * stack. Found at the second tick (the two-tick rule), named, once. A
 * stack no task has is reported as such. A switch under way (RSP0 a
 * listed task's, `current` still the previous one) is not. */
#define TSS_PA 0x130800
static u64 kstack_of(u32 slot) { return K(0x1c0000 + (u64)slot * 0x4000); }

static void scn_hidden_rsp0(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    for (u32 s = 0; s < S_COUNT; s++)
        fake_w64(proc_pa(s) + 48, kstack_of(s));
    fake.tr_base = K(TSS_PA);
    u64 diskd = cr3_of[S_DISKD];
    fake_w64(CURRENT_PA, K(proc_pa(S_DISKD)));
    fake_w64(TSS_PA + 4, kstack_of(S_DISKD));
    size_t m = MARK();
    tick_to(diskd, ticks_now + 3);
    CHECK_NO_ALERT(m);
    fake_w64(TSS_PA + 4, kstack_of(S_RAWIO));                     /* the switch to rawio, half done */
    tick(diskd);
    CHECK_NO_ALERT(m);
    static const int without_evil[] = { S_INIT, S_DISKD, S_RAWIO, -1 };
    list_link(without_evil);
    fake_w64(TSS_PA + 4, kstack_of(S_EVIL));
    tick(diskd);
    CHECK_NO_ALERT(m);                                           /* one tick: not yet */
    tick(diskd);
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    char want[120];
    snprintf(want, sizeof(want), "kernel stack of hidden process pid 4 \"evil\" in use (TSS RSP0 0x%llx); current: "
             "pid 2 \"diskd\"", (unsigned long long)kstack_of(S_EVIL));
    CHECK_S(a.detail, want);
    CHECK_U(a.pid, 4);
    m = MARK();
    tick_to(diskd, ticks_now + 5);
    CHECK_NO_ALERT(m);                                           /* once */
    fake_w64(TSS_PA + 4, K(0x1f0000));
    tick_to(diskd, ticks_now + 2);
    a = ONE_ALERT(m, "hidden-process", "alert");
    snprintf(want, sizeof(want), "kernel stack of no known task in use (TSS RSP0 0x%llx); current: pid 2 \"diskd\"",
             (unsigned long long)K(0x1f0000));
    CHECK_S(a.detail, want);
}

/* (e) a cyclic process list: the walk is bounded, and there is no verdict. */
static void scn_hidden_cyclic(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    fake_w64(proc_pa(S_EVIL) + 40, K(proc_pa(S_DISKD)));          /* evil -> diskd -> rawio -> evil ... */
    u64 h = hidden_space(SLOT_HIDDEN, 9, "hidden");
    size_t m = MARK();
    for (u64 t = 2; t <= 11; t++) {
        CHECK_ALLOW(cr3_load(cr3_of[S_INIT], h));
        CHECK_ALLOW(cr3_load(h, cr3_of[S_INIT]));
        tick_to(h, t);
    }
    CHECK_NO_ALERT(m);
    CHECK(ids_console_command("ps", cr3_of[S_INIT]));
    CHECK_HAS(m, "(process list unreadable: the process list is cyclic or longer than 256 entries)");
    /* A self-loop too. */
    fake_w64(proc_pa(S_INIT) + 40, K(proc_pa(S_INIT)));
    tick_to(h, 12);
    CHECK_ALLOW(cr3_load(cr3_of[S_INIT], h));
    CHECK_NO_ALERT(m);
}

/* 8. pagetable-audit. */
#define WX_GVA   0xffffff0000000000ull
#define WX2_GVA  0xffffff0000200000ull
#define ALIAS_VA 0x600000ull
#define HV_VA    0x700000ull
/* A listed process ("rootkit", pid 6, slot 5) whose tables hold the three findings. */
static u64 rootkit_space(u64 *wx_pa)
{
    u64 cr3 = new_space(NULL);
    *wx_pa = fake_alloc_page();
    fake_map(cr3, WX_GVA, *wx_pa, PTE_P | PTE_W);                 /* kernel half, writable, executable */
    fake_map(cr3, ALIAS_VA, TEXT_PA, PTE_P | PTE_U);              /* kernel text, user-accessible */
    fake_map(cr3, HV_VA, FAKE_HV_LO + 0x2000, PTE_P | PTE_U | PTE_W | PTE_NX);
    proc_set(5, 6, "rootkit", cr3, 1);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    return cr3;
}

static void check_rootkit_findings(size_t m, u64 cr3, u64 wx_pa)
{
    struct fake_alert a[8];
    u32 n = fake_alerts(m, a, 8);
    CHECK_U(n, 3);
    bool wx = false, alias = false, hv = false;
    for (u32 i = 0; i < n; i++) {
        CHECK_S(a[i].policy, "pagetable-audit");
        CHECK_S(a[i].action, "alert");
        CHECK_S(a[i].severity, "high");
        CHECK_HEX(a[i].cr3, cr3);
        CHECK_S(a[i].process, "rootkit");
        CHECK_U(a[i].pid, 6);
        if (!strcmp(a[i].detail, "kernel mapping writable and executable (4 KiB page)")) {
            CHECK_HEX(a[i].gva, WX_GVA);
            CHECK_HEX(a[i].gpa, wx_pa);
            wx = true;
        } else if (!strcmp(a[i].detail, "kernel text mapped user-accessible")) {
            CHECK_HEX(a[i].gva, ALIAS_VA);
            CHECK_HEX(a[i].gpa, TEXT_PA);
            alias = true;
        } else if (!strcmp(a[i].detail, "page tables map vigil's own memory")) {
            CHECK_HEX(a[i].gva, HV_VA);
            CHECK_HEX(a[i].gpa, FAKE_HV_LO + 0x2000);
            hv = true;
        } else {
            child_fail(__FILE__, __LINE__, "unexpected finding: %s", a[i].detail);
        }
    }
    CHECK(wx && alias && hv);
}

static void scn_pagetable_audit(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 wx_pa, r = rootkit_space(&wx_pa);
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(cr3_of[S_INIT], r));                     /* a new space: audited */
    check_rootkit_findings(m, r, wx_pa);

    /* Audited again (every 10 ticks, running): nothing new. */
    m = MARK();
    tick_to(r, 10);
    CHECK_NO_ALERT(m);
    /* Its tables change (a benign page in the same table as the alias):
     * their leaves are judged again, and the old findings stay reported. */
    fake_map(r, ALIAS_VA + 0x1000, fake_alloc_page(), PTE_P | PTE_U | PTE_W | PTE_NX);
    fake_map(r, WX_GVA + 0x1000, fake_alloc_page(), PTE_P | PTE_W | PTE_NX);
    tick_to(r, 20);
    CHECK_NO_ALERT(m);
    /* A new finding is reported: a 2 MiB writable, executable kernel page. */
    u64 big = 0x2200000;
    fake_map_2m(r, WX2_GVA, big, PTE_P | PTE_W);
    tick_to(r, 30);
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel mapping writable and executable (2048 KiB page)");
    CHECK_HEX(a.gva, WX2_GVA);
    CHECK_HEX(a.gpa, big);
    /* A user-accessible 2 MiB page over the low 2 MiB, which holds the
     * kernel text (from 1 MiB). */
    m = MARK();
    fake_map_2m(r, 0x40000000, 0, PTE_P | PTE_U | PTE_NX);
    tick_to(r, 40);
    a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel text mapped user-accessible");
    CHECK_HEX(a.gva, 0x40000000);
    CHECK_HEX(a.gpa, 0);
    m = MARK();
    tick_to(r, 50);
    CHECK_NO_ALERT(m);
}

/* Spaces loaded before the boot lock are audited at the lock (not the
 * boot tables); clean spaces, and no-execute or read-only kernel mappings,
 * give nothing. */
static void scn_pagetable_audit_boot_and_clean(void)
{
    CHECK(init_ids(NULL, true));
    start();
    cr3_load(0, boot_cr3);
    u64 wx_pa, r = rootkit_space(&wx_pa);
    fake_map_2m(boot_cr3, WX_GVA, 0x2400000, PTE_P | PTE_W);        /* the boot tables: not judged */
    u64 clean = cr3_of[S_INIT];
    fake_map(clean, WX_GVA, fake_alloc_page(), PTE_P | PTE_W | PTE_NX);          /* kernel, writable, NX */
    fake_map(clean, WX_GVA + 0x1000, fake_alloc_page(), PTE_P);                  /* kernel, read-only, X */
    fake_map(clean, WX_GVA + 0x2000, TEXT_PA, PTE_P);                            /* text alias, supervisor */
    fake_map(clean, 0x800000, fake_alloc_page(), PTE_P | PTE_U | PTE_W | PTE_NX);
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(boot_cr3, clean));
    CHECK_ALLOW(cr3_load(clean, r));
    CHECK_NO_ALERT(m);                                           /* before the lock: not audited */
    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = 0x3f;
    tick(r);
    CHECK_HAS(m, "the guest kernel has booted");
    check_rootkit_findings(m, r, wx_pa);
    m = MARK();
    for (u32 s = 1; s < S_COUNT; s++)
        CHECK_ALLOW(cr3_load(clean, cr3_of[s]));
    tick_to(clean, 10);
    CHECK_NO_ALERT(m);
    /* The boot tables, which the kernel left, run again after the boot: that
     * is reported, once, with what an audit of them finds. */
    tick_to(boot_cr3, 20);
    struct fake_alert b[8];
    CHECK_U(fake_alerts(m, b, 8), 6);
    CHECK_S(b[0].detail, "the boot page tables run again after the boot");
    CHECK_HEX(b[0].cr3, boot_cr3);
    CHECK_S(b[1].detail, "supervisor mapping writable and executable in the lower half (2048 KiB page)");
    CHECK_HEX(b[1].gva, 0);                                      /* the identity map */
    CHECK_S(b[2].detail, "kernel mapping writable and executable (2048 KiB page)");
    CHECK_HEX(b[2].gva, WX_GVA);
    /* And the frames of the kernel's read-only data (executable in this
     * fake kernel's map) are writable through the identity map: W+X. The
     * kernel half's tables were audited unchanged already; their leaves
     * still pair (three of a kind a second; the rest fold). */
    for (u32 i = 3; i < 6; i++) {
        char want[96];
        snprintf(want, sizeof(want), "frame executable here and writable at 0x%x: W+X through two mappings",
                 0x110000 + (i - 3) * 0x1000);
        CHECK_S(b[i].detail, want);
        CHECK_HEX(b[i].gva, K(0x110000 + (i - 3) * 0x1000));
    }
    m = MARK();
    tick_to(boot_cr3, 40);
    CHECK_ALLOW(cr3_load(clean, boot_cr3));
    CHECK_NO_ALERT(m);
}

/* The kernel half is shared by every process: its tables are judged once
 * (unchanged tables are not judged again), so a finding there is reported
 * for the first space audited, not once per process. */
static void scn_pagetable_audit_shared_kernel_half(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    /* A writable, executable page in the shared kernel image mapping (the
     * kernel's PT for 0xffffffff80000000-0xffffffff801fffff). */
    u64 page = fake_alloc_page();
    fake_map(kernel_cr3, K(0x1f0000), page, PTE_P | PTE_W);
    size_t m = MARK();
    cr3_load(boot_cr3, cr3_of[S_INIT]);
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel mapping writable and executable (4 KiB page)");
    CHECK_HEX(a.gva, K(0x1f0000));
    CHECK_HEX(a.gpa, page);
    CHECK_HEX(a.cr3, cr3_of[S_INIT]);
    m = MARK();
    for (u32 s = 1; s < S_COUNT; s++)
        cr3_load(cr3_of[S_INIT], cr3_of[s]);
    tick_to(cr3_of[S_EVIL], 10);
    CHECK_NO_ALERT(m);
    /* Changed, the shared table is judged again, in the space audited then
     * (evil): the new finding, and the old one, which is new for evil (a
     * finding is reported once per address space and address). Then quiet. */
    u64 page2 = fake_alloc_page();
    fake_map(kernel_cr3, K(0x1f1000), page2, PTE_P | PTE_W);
    tick_to(cr3_of[S_EVIL], 20);
    struct fake_alert b[4];
    CHECK_U(fake_alerts(m, b, 4), 2);
    CHECK_HEX(b[0].gva, K(0x1f0000));
    CHECK_HEX(b[0].cr3, cr3_of[S_EVIL]);
    CHECK_HEX(b[1].gva, K(0x1f1000));
    CHECK_HEX(b[1].gpa, page2);
    CHECK_HEX(b[1].cr3, cr3_of[S_EVIL]);
    m = MARK();
    tick_to(cr3_of[S_EVIL], 30);
    cr3_load(cr3_of[S_EVIL], cr3_of[S_INIT]);
    tick_to(cr3_of[S_INIT], 40);
    CHECK_NO_ALERT(m);
}

/* A table reached through many entries (Linux's ESPFIX area: every entry
 * of one PUD leads to the same PMD page, and every PMD entry of it to the
 * same PTE page) is judged once per audit: the audit's budget of 512 tables
 * used to be spent on the clones, and a W+X page mapped after them (higher
 * in the address space) was never read. */
#define CLONE_GVA 0xffffc90000000000ull
static void scn_pagetable_audit_cloned_tables(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 wx_pa, r = rootkit_space(&wx_pa);
    fake_map(r, CLONE_GVA, fake_alloc_page(), PTE_P | PTE_NX);   /* read-only, no-execute */
    u64 pdpt = fake_r64(r + ((CLONE_GVA >> 39) & 511) * 8) & PT_ADDR_MASK;
    u64 pd = fake_r64(pdpt) & PT_ADDR_MASK, pt = fake_r64(pd);
    for (u32 i = 0; i < 512; i++) {
        fake_w64(pdpt + i * 8, pd | PTE_P | PTE_W);
        fake_w64(pd + i * 8, pt);
    }
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(cr3_of[S_INIT], r));                     /* 262,656 table visits, 3 tables */
    check_rootkit_findings(m, r, wx_pa);                          /* WX_GVA (PML4E 510) included */
    m = MARK();
    tick_to(r, 10);
    CHECK_NO_ALERT(m);
}

/* Frames, not mappings: one frame mapped writable (no-execute) at one
 * kernel address and executable (read-only) at another is W+X; reported
 * once, by frame. The direct map's writable alias of every frame is not
 * judged, nor is the kernel's text. */
static void scn_pagetable_audit_alias(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 page = fake_alloc_page();
    fake_map(kernel_cr3, K(0x1f0000), page, PTE_P | PTE_W | PTE_NX);
    fake_map(kernel_cr3, K(0x1f8000), page, PTE_P);
    fake_map(kernel_cr3, K(0x1f9000), TEXT_PA, PTE_P | PTE_W | PTE_NX);     /* a text alias: kernel-text's */
    size_t m = MARK();
    cr3_load(boot_cr3, cr3_of[S_INIT]);
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "frame executable here and writable at 0xffffffff801f0000: W+X through two mappings");
    CHECK_HEX(a.gva, K(0x1f8000));
    CHECK_HEX(a.gpa, page);
    m = MARK();
    tick_to(cr3_of[S_INIT], 20);
    CHECK_NO_ALERT(m);
}

/* 9. signature. */
static const char SIG[] = "VIGIL-SIGNATURE!";
static u64 sig_space(u32 slot, u32 pid, const char *name, u64 *code_pa)
{
    u64 cr3 = new_space(code_pa);
    proc_set(slot, pid, name, cr3, 1);
    return cr3;
}

static void scn_signature(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    u64 code, s = sig_space(5, 7, "sigproc", &code);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    fake_poke(code + 0x123, SIG, 16);
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(init, s));
    struct fake_alert a = ONE_ALERT(m, "signature", "alert");
    CHECK_S(a.detail, "signature 'testos-evil' (16 bytes) found in process memory");
    CHECK_HEX(a.gva, USER_CODE + 0x123);
    CHECK_HEX(a.gpa, code + 0x123);
    CHECK_HEX(a.cr3, s);
    CHECK_S(a.process, "sigproc");
    CHECK_U(a.pid, 7);
    CHECK_S(a.severity, "high");
    /* Once per address space: not again on its periodic scans. */
    m = MARK();
    tick_to(s, 30);
    cr3_load(init, s);
    CHECK_NO_ALERT(m);

    /* Another space: its own report; at the very end of a page is found. */
    u64 code2, s2 = sig_space(6, 8, "sig2", &code2);
    static const int l2[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, 6, 7, -1 };
    list_link(l2);
    fake_poke(code2 + 4096 - 16, SIG, 16);
    m = MARK();
    cr3_load(init, s2);
    a = ONE_ALERT(m, "signature", "alert");
    CHECK_HEX(a.gva, USER_CODE + 4096 - 16);
    CHECK_HEX(a.gpa, code2 + 4096 - 16);

    /* Split across two pages (contiguous in gva): not found (a documented
     * limitation: each page is searched alone). */
    u64 code3, s3 = sig_space(7, 9, "sig3", &code3);
    u64 next = fake_alloc_page();
    fake_map(s3, USER_CODE + 0x1000, next, PTE_P | PTE_U);
    fake_poke(code3 + 4096 - 8, SIG, 8);
    fake_poke(next, SIG + 8, 8);
    /* In user-half pages that are not user-accessible, and in the kernel
     * half: not searched. */
    u64 sup = fake_alloc_page();
    fake_poke(sup + 0x40, SIG, 16);
    fake_map(s3, 0x900000, sup, PTE_P | PTE_W | PTE_NX);
    fake_map(s3, WX_GVA, sup, PTE_P | PTE_W | PTE_NX);
    fake_map(s3, WX_GVA + 0x1000, sup, PTE_P | PTE_U | PTE_NX);           /* even user-accessible */
    m = MARK();
    cr3_load(init, s3);
    tick_to(s3, 40);
    CHECK_NO_ALERT(m);
}

/* A space with more user pages than the first scan covers (256): the
 * periodic scans (16 pages every 10 ticks) pick up where the last stopped. */
static void scn_signature_periodic_cursor(void)
{
    CHECK(init_ids(NULL, true));
    boot();                                      /* tick 1 */
    u64 s = sig_space(5, 7, "bigproc", NULL);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    /* User pages in walk order: the code page (#0), a 2 MiB page (#1-#512),
     * the stack (#513). The pattern is on #300. */
    const u64 big = 0x2400000;
    fake_map_2m(s, 0x40000000, big, PTE_P | PTE_U | PTE_W | PTE_NX);
    fake_poke(big + 299 * 4096 + 0x80, SIG, 16);
    size_t m = MARK();
    cr3_load(cr3_of[S_INIT], s);
    CHECK_NO_ALERT(m);                                           /* beyond the first 256 pages */
    /* Periodic scan k (at tick 10(k+1)) covers pages 16k..16k+15: #300 is in scan 18. */
    tick_to(s, 189);
    CHECK_NO_ALERT(m);
    tick_to(s, 190);
    struct fake_alert a = ONE_ALERT(m, "signature", "alert");
    CHECK_HEX(a.gva, 0x40000000 + 299 * 4096 + 0x80);
    CHECK_HEX(a.gpa, big + 299 * 4096 + 0x80);
    CHECK_S(a.process, "bigproc");
    m = MARK();
    tick_to(s, 400);                                             /* wraps around: still once */
    CHECK_NO_ALERT(m);
}

/* A PS bit in a PML4E is reserved (the CPU faults on every address under
 * it): neither pagetable-audit nor signature reads through it, as neither
 * takes it for a page. With the bit cleared, both find what is there. */
static void scn_ps_in_pml4e(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 s = sig_space(5, 7, "psproc", NULL);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    const u64 uva = 0x8000400000ull;                              /* PML4 entry 1 */
    u64 page = fake_alloc_page(), wx = fake_alloc_page();
    fake_poke(page + 0x40, SIG, 16);
    fake_map(s, uva, page, PTE_P | PTE_U);
    fake_map(s, WX_GVA, wx, PTE_P | PTE_W);                       /* PML4 entry 510 */
    const u32 idx[2] = { 1, 510 };
    for (u32 i = 0; i < 2; i++)
        fake_w64(s + idx[i] * 8, fake_r64(s + idx[i] * 8) | PTE_PS);
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(cr3_of[S_INIT], s));
    tick_to(s, 30);
    CHECK_NO_ALERT(m);
    for (u32 i = 0; i < 2; i++)
        fake_w64(s + idx[i] * 8, fake_r64(s + idx[i] * 8) & ~PTE_PS);
    tick_to(s, 40);
    struct fake_alert a[4];
    CHECK_U(fake_alerts(m, a, 4), 2);
    bool sig = false, audit = false;
    for (u32 i = 0; i < 2; i++) {
        if (!strcmp(a[i].policy, "signature")) {
            CHECK_HEX(a[i].gva, uva + 0x40);
            sig = true;
        } else {
            CHECK_S(a[i].policy, "pagetable-audit");
            CHECK_S(a[i].detail, "kernel mapping writable and executable (4 KiB page)");
            CHECK_HEX(a[i].gva, WX_GVA);
            audit = true;
        }
    }
    CHECK(sig && audit);
}

/* Hostile user-half tables: 255 PML4Es to one PDPT, its 512 entries to one
 * PD, its 512 to one empty PT: 2^26 tables if followed. Both policies read a
 * bounded number of tables (the walk used to follow them all in signature),
 * and what comes before them is still scanned. */
static void scn_hostile_tables_bounded(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 code, s = sig_space(5, 7, "loopproc", &code);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    fake_poke(code + 0x100, SIG, 16);
    u64 pdpt = fake_alloc_page(), pd = fake_alloc_page(), pt = fake_alloc_page();
    for (u32 i = 0; i < 512; i++) {
        fake_w64(pdpt + i * 8, pd | PTE_P | PTE_W | PTE_U);
        fake_w64(pd + i * 8, pt | PTE_P | PTE_W | PTE_U);
    }
    for (u32 i = 1; i < 256; i++)
        fake_w64(s + i * 8, pdpt | PTE_P | PTE_W | PTE_U);
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(cr3_of[S_INIT], s));
    struct fake_alert a = ONE_ALERT(m, "signature", "alert");
    CHECK_HEX(a.gva, USER_CODE + 0x100);
    m = MARK();
    tick_to(s, 50);
    CHECK_NO_ALERT(m);
}

/* A policy file's signatures replace the built-in one. */
static void scn_signature_custom(void)
{
    CHECK(init_ids("signature name=beef pattern=hex:deadbeefcafe\n", true));
    boot();
    u64 code, s = new_space(&code);
    fake_poke(code + 0x200, SIG, 16);
    static const u8 beef[] = { 0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe };
    size_t m = MARK();
    cr3_load(cr3_of[S_INIT], s);
    CHECK_NO_ALERT(m);
    u64 code2, s2 = new_space(&code2);
    fake_poke(code2 + 0x801, beef, sizeof(beef));
    cr3_load(cr3_of[S_INIT], s2);
    struct fake_alert a = ONE_ALERT(m, "signature", "alert");
    CHECK_S(a.detail, "signature 'beef' (6 bytes) found in process memory");
    CHECK_HEX(a.gva, USER_CODE + 0x801);
}

/* 10. hypervisor-guard: always refuses, action=alert is not accepted. */
static void scn_hypervisor_guard(void)
{
    CHECK(init_ids(NULL, true));
    start();
    u64 evil = cr3_of[S_EVIL];
    size_t m = MARK();
    struct ids_verdict v = reach(evil, USER_CODE + 0x30, REACH_MEMORY, FAKE_HV_LO + 0x10, "read of 8 bytes");
    CHECK_BLOCK(v);
    struct fake_alert a = ONE_ALERT(m, "hypervisor-guard", "block");
    CHECK_S(a.detail, "access to hypervisor memory: read of 8 bytes refused");
    CHECK_HEX(a.gpa, FAKE_HV_LO + 0x10);
    CHECK(!a.has_gva);
    CHECK_S(a.severity, "critical");
    CHECK_S(a.process, "evil");
    m = MARK();
    CHECK_BLOCK(reach(evil, USER_CODE + 0x40, REACH_VMCALL, 0, NULL));
    a = ONE_ALERT(m, "hypervisor-guard", "block");
    CHECK_S(a.detail, "VMCALL refused");          /* no detail: no colon, no double space */
    CHECK(!a.has_gpa);
    m = MARK();
    CHECK_BLOCK(reach(evil, USER_CODE + 0x50, REACH_CONSOLE, 0x3f8, "OUT 0x3f8"));
    a = ONE_ALERT(m, "hypervisor-guard", "block");
    CHECK_S(a.detail, "access to vigil's console port: OUT 0x3f8 refused");
    /* A probe of its other registers is refused, and raises nothing. */
    m = MARK();
    CHECK_BLOCK(reach(evil, USER_CODE + 0x60, REACH_CONSOLE_PROBE, 0x3f9, "read"));
    CHECK_BLOCK(reach(evil, USER_CODE + 0x60, REACH_CONSOLE_PROBE, 0x3fd, "write"));
    CHECK(MARK() == m);
}

static void scn_hypervisor_guard_suspend(void)
{
    CHECK(init_ids("hypervisor-guard action=suspend\n", true));
    start();
    size_t m = MARK();
    struct ids_verdict v = reach(cr3_of[S_EVIL], USER_CODE, REACH_VMX_INSN, 0, "VMXON");
    CHECK_U(v.action, IDS_SUSPEND);
    CHECK(v.reason && !strcmp(v.reason, "hypervisor-guard"));
    struct fake_alert a = ONE_ALERT(m, "hypervisor-guard", "suspend");
    CHECK_S(a.detail, "VMX instruction: VMXON refused");
}

static void scn_hypervisor_guard_alert_refused(void)
{
    CHECK(!init_ids("kernel-text action=alert\nhypervisor-guard action=alert\n", true));
    CHECK_HAS(0, "vigil: bad policy file: policy line 2, field 'action': hypervisor-guard always refuses; only "
                 "block or suspend");
    CHECK_HAS(0, "refusing to start the guest with a broken policy (fail closed");
    CHECK_LACKS(0, "IDS on");
    CHECK(!init_ids("hypervisor-guard enabled=no\n", true));
    CHECK_HAS(0, "policy line 1, field 'enabled': hypervisor-guard cannot be switched off");
    CHECK_NO_ALERT(0);
}

/* dma-guard: what vmm/ refused, named; bus-master enables judged by the
 * allow list; the backstop finds a protected page that changed with no
 * exit seeing a write, and not one that an exit saw written. */
static struct ids_verdict dma(u64 cr3, enum ids_dma_kind kind, u32 owner, u64 addr, u64 len, u64 hit, u16 dev_id,
                              bool at_boot)
{
    struct ids_event e = ev(IDS_EV_DMA, cr3, KRIP);
    e.owner = owner;
    e.dma.kind = kind;
    e.dma.to_memory = true;
    e.dma.at_boot = at_boot;
    e.dma.dev = 1, e.dma.fn = kind == DMA_BUS_MASTER ? 3 : 1;
    e.dma.vendor = 0x8086, e.dma.device = dev_id;
    e.dma.class_code = kind == DMA_BUS_MASTER ? 0x068000 : 0x010180;
    e.dma.addr = addr, e.dma.len = len, e.dma.hit = hit;
    e.dma.device_name = "IDE bus master, secondary channel";
    return ids_event(&e);
}

static u32 owner_of(u64 gpa)
{
    const struct trap_page *p = trap_page_find(vmm_traps(), gpa, TRAP_WRITE);
    CHECK(p);
    return p->owner;
}

static void scn_dma_guard(void)
{
    CHECK(init_ids(NULL, true));
    start();
    u64 evil = cr3_of[S_EVIL];
    size_t m = MARK();
    CHECK_BLOCK(dma(evil, DMA_PROTECTED, owner_of(TEXT_PA + 0x800), TEXT_PA + 0x800, 2048, TEXT_PA + 0x800, 0x7010,
                    false));
    struct fake_alert a = ONE_ALERT(m, "dma-guard", "block");
    CHECK_S(a.detail, "DMA into protected kernel text (kernel-text) by 00:01.1 8086:7010 refused: PRD entry 0, "
                      "0x100800, 2048 bytes");
    CHECK_HEX(a.gpa, TEXT_PA + 0x800);
    CHECK_S(a.severity, "critical");
    m = MARK();
    CHECK_BLOCK(dma(evil, DMA_HYPERVISOR, 0, FAKE_HV_LO, 512, FAKE_HV_LO, 0x7010, false));
    a = ONE_ALERT(m, "dma-guard", "block");
    CHECK_S(a.detail, "DMA into vigil's memory by 00:01.1 8086:7010 refused: PRD entry 0, 0x3000000, 512 bytes");
    m = MARK();
    CHECK_BLOCK(dma(evil, DMA_BUS_MASTER, 0, 0, 0, 0, 0x7113, false));
    a = ONE_ALERT(m, "dma-guard", "block");
    CHECK_S(a.detail, "bus-master enable of 00:01.3 8086:7113 class 068000 refused: not mediated; allow it with "
                      "dma-guard allow=8086:7113");
    CHECK(!a.has_gpa);
    /* vigil's own scan before the guest runs: judged, not reported. */
    m = MARK();
    CHECK_BLOCK(dma(0, DMA_BUS_MASTER, 0, 0, 0, 0, 0x7113, true));
    CHECK_NO_ALERT(m);
}

static void scn_dma_guard_allow(void)
{
    CHECK(init_ids("dma-guard allow=8086:7113 action=suspend\n", true));
    start();
    size_t m = MARK();
    CHECK_ALLOW(dma(cr3_of[S_EVIL], DMA_BUS_MASTER, 0, 0, 0, 0, 0x7113, false));
    CHECK_ALLOW(dma(0, DMA_BUS_MASTER, 0, 0, 0, 0, 0x7113, true));
    CHECK_NO_ALERT(m);
    struct ids_verdict v = dma(cr3_of[S_EVIL], DMA_BUS_MASTER, 0, 0, 0, 0, 0x7020, false);
    CHECK_U(v.action, IDS_SUSPEND);
    ONE_ALERT(m, "dma-guard", "suspend");
}

static void scn_dma_guard_off(void)
{
    /* With the IDS off no policy can allow a device: every enable is refused. */
    CHECK(init_ids(NULL, false));
    CHECK_BLOCK(dma(0, DMA_BUS_MASTER, 0, 0, 0, 0, 0x7113, true));
    CHECK_NO_ALERT(0);
}

static void scn_dma_guard_backstop(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 k = kernel_cr3;
    /* One round of the protected pages (text, rodata, the IDT, the GDT)
     * makes the references; nothing changed, nothing is reported. */
    for (int i = 0; i < 64; i++)
        tick(k);
    size_t m = MARK();
    for (int i = 0; i < 64; i++)
        tick(k);
    CHECK_NO_ALERT(m);
    /* A write that an exit saw (refused or not) is no finding... */
    CHECK_BLOCK(ept(cr3_of[S_EVIL], KRIP, K(TEXT_PA + 0x3010), TEXT_PA + 0x3010, IDS_WRITE));
    fake_w64(TEXT_PA + 0x3010, 0x4141414141414141ull);
    m = MARK();
    for (int i = 0; i < 64; i++)
        tick(k);
    CHECK_NO_ALERT(m);
    /* ...one that none saw (a device's DMA) is. */
    fake_w64(TEXT_PA + 0x5008, 0x4242424242424242ull);
    for (int i = 0; i < 64; i++)
        tick(k);
    struct fake_alert a = ONE_ALERT(m, "dma-guard", "alert");
    CHECK_S(a.detail, "protected kernel text (kernel-text) at 0x105000-0x106000 changed with no write seen by any "
                      "exit: unmediated DMA?");
    CHECK_HEX(a.gpa, TEXT_PA + 0x5000);
    /* Reported once: the new contents are the reference from then on. */
    m = MARK();
    for (int i = 0; i < 64; i++)
        tick(k);
    CHECK_NO_ALERT(m);
    /* A write lands after its event (the step window; another vCPU's tick
     * may hash the page in between): the visit after the new reference
     * takes it once more. One visit a round of n pages. */
    u32 n = 0;
    for (u32 i = 0; i < vmm_traps()->npages; i++)
        if (vmm_traps()->page[i].access & (TRAP_WRITE | TRAP_READ))
            n += (u32)((ALIGN_UP(vmm_traps()->page[i].end, 4096) - ALIGN_DOWN(vmm_traps()->page[i].start, 4096)) / 4096);
    CHECK(n >= 24 && n < 64);
    CHECK_BLOCK(ept(cr3_of[S_EVIL], KRIP, K(TEXT_PA + 0x7000), TEXT_PA + 0x7000, IDS_WRITE));
    m = MARK();
    for (u32 i = 0; i < n; i++)
        tick(k);
    fake_w64(TEXT_PA + 0x7000, 0x4343434343434343ull);
    for (u32 i = 0; i < 3 * n; i++)
        tick(k);
    CHECK_NO_ALERT(m);
}

/* 11. The repeat limit and the budget, through the engine. */
static void scn_rate_limit(void)
{
    CHECK(init_ids(NULL, true));
    start();
    u64 evil = cr3_of[S_EVIL];
    size_t m = MARK();
    for (u32 i = 0; i < 1000; i++)
        CHECK_BLOCK(reach(evil, USER_CODE + 0x30, REACH_MEMORY, FAKE_HV_LO + 0x10, "read"));
    struct fake_alert a[8];
    CHECK_U(fake_alerts(m, a, 8), 3);
    CHECK_U(a[0].seq, 1);
    CHECK_U(a[2].seq, 3);
    m = MARK();
    ids_print_summary();
    CHECK_HAS(m, "vigil: alerts: 1000 raised, 3 printed, 997 suppressed as repeats, 0 dropped (console over "
                 "capacity)\r\n");
    const char *line = strstr(fake_console() + m, "\n  hypervisor-guard ");
    CHECK(line);
    unsigned long long raised = 0, supp = 0;
    CHECK(sscanf(line, " hypervisor-guard %llu alerts (%llu suppressed)", &raised, &supp) == 2);
    CHECK_U(raised, 1000);
    CHECK_U(supp, 997);
    CHECK(!strncmp(strchr(line, '(') , "(997 suppressed)\r\n", 18));     /* none dropped: not said */
    CHECK_HAS(m, "reach for vigil");
    CHECK_NO_ALERT(m);

    /* Once a second (100 ticks), while it goes on: what was held back. */
    m = MARK();
    tick_to(cr3_of[S_INIT], 99);
    CHECK_LACKS(m, "suppressed in the last second");
    tick_to(cr3_of[S_INIT], 100);
    CHECK_HAS(m, "vigil: 997 alerts suppressed in the last second (repeats); 997 in all\r\n");
    CHECK_LACKS(m, "dropped in the last second");
    m = MARK();
    tick_to(cr3_of[S_INIT], 200);
    CHECK_LACKS(m, "suppressed in the last second");

    /* The budget: the bytes the line carries, 1152 every 10 ticks, saved
     * up to a burst of 8192, whatever the objects (the 200 ticks since the
     * three records above saved it up again). Of 40 more, as many as fit
     * are printed and the rest dropped, each with its seq. */
    m = MARK();
    for (u32 i = 0; i < 40; i++)
        CHECK_BLOCK(reach(evil, USER_CODE + 0x30, REACH_MEMORY, FAKE_HV_LO + 0x1000 * (i + 1), "read"));
    struct fake_alert b[48];
    u32 n = fake_alerts(m, b, 48), bytes = 0;
    CHECK(n > 20 && n < 40);
    for (u32 i = 0; i < n; i++) {
        CHECK_U(b[i].seq, 1001 + i);                             /* 1001..1040 raised: the first n printed */
        bytes += (u32)b[i].len + 2;
    }
    CHECK(bytes <= ALERT_BURST && bytes + b[0].len + 2 > ALERT_BURST);       /* one more would not fit */
    u32 left = ALERT_BURST - bytes;
    tick_to(cr3_of[S_INIT], 201);                               /* not yet refilled */
    CHECK_BLOCK(reach(evil, USER_CODE + 0x30, REACH_MEMORY, FAKE_HV_LO + 0x200000, "read"));
    CHECK_U(fake_alerts(m, 0, 0), n);
    tick_to(cr3_of[S_INIT], 210);                               /* 1152 more (every 10 ticks) */
    m = MARK();
    for (u32 i = 0; i < 10; i++)
        CHECK_BLOCK(reach(evil, USER_CODE + 0x30, REACH_MEMORY, FAKE_HV_LO + 0x100000 + 0x1000 * i, "read"));
    u32 k = fake_alerts(m, b, 48);
    CHECK_U(k, (left + ALERT_BUDGET) / ((u32)b[0].len + 2));
    CHECK_U(b[0].seq, 1042);
    u32 dropped = 40 - n + 1 + 10 - k;
    m = MARK();
    tick_to(cr3_of[S_INIT], 300);
    char want[160];
    snprintf(want, sizeof(want), "vigil: %u alerts dropped in the last second (console over capacity); %u in all\r\n",
             dropped, dropped);
    CHECK_HAS(m, want);
    m = MARK();
    ids_print_summary();
    snprintf(want, sizeof(want), "vigil: alerts: 1051 raised, %u printed, 997 suppressed as repeats, %u dropped "
             "(console over capacity)\r\n", 3 + n + k, dropped);
    CHECK_HAS(m, want);
    snprintf(want, sizeof(want), "\n  hypervisor-guard      1051 alerts (997 suppressed, %u dropped)\r\n", dropped);
    CHECK_HAS(m, want);
}

/* 12. ids=off: every event allowed, nothing printed, nothing trapped. */
static void scn_ids_off(void)
{
    CHECK(init_ids(NULL, false));
    CHECK_HAS(0, "vigil: IDS off (ids=off): no policies run");
    CHECK(!ids_enabled());
    size_t m = MARK();
    u64 evil = cr3_of[S_EVIL];
    for (int round = 0; round < 2; round++) {
        CHECK_ALLOW(start());
        CHECK_ALLOW(cr3_load(0, boot_cr3));
        fake.idt_base = K(IDT_PA);
        fake.idt_limit = 0xfff;
        CHECK_ALLOW(tick(boot_cr3));
        u64 h = hidden_space(SLOT_HIDDEN, 9, "hidden");
        CHECK_ALLOW(cr3_load(boot_cr3, h));
        CHECK_ALLOW(tick(h));
        CHECK_ALLOW(cr3_load(h, h));
        struct ids_verdict v = ept(evil, KRIP, K(TEXT_PA), TEXT_PA, IDS_WRITE);
        CHECK_ALLOW(v);
        CHECK_U(v.skip_len, 0);
        CHECK_ALLOW(ept(evil, KRIP, K(SYSCALL_PA), SYSCALL_PA, IDS_WRITE));
        CHECK_ALLOW(io(cr3_of[S_RAWIO], 0x1f0, false));
        CHECK_ALLOW(msr(evil, MSR_LSTAR, K(ENTRY_PA), HOOK));
        CHECK_ALLOW(msr(evil, MSR_EFER, 0xd01, 0x501));
        CHECK_ALLOW(crw(evil, 0, 0x80050033, 0x80040033));
        CHECK_ALLOW(crw(evil, 4, 0x3006a0, 0x6a0));
        CHECK_ALLOW(dtr(evil, true, K(0x125000), 0xfff));
        CHECK_ALLOW(reach(evil, USER_CODE, REACH_MEMORY, FAKE_HV_LO, "read"));
        struct ids_event bad = ev(IDS_EV_COUNT, evil, 0);
        CHECK_ALLOW(ids_event(&bad));
        struct ids_event off = ev(IDS_EV_POWEROFF, evil, 0);
        CHECK_ALLOW(ids_event(&off));
    }
    CHECK_U(fake_console_len(), m);
    CHECK_U(fake.nprotect, 0);
    CHECK(!fake.cr3_loads_trapped);          /* the guest loads CR3 without an exit */
    CHECK_U(fake.nwatch, 0);
    CHECK_U(fake.nset_dtr, 0);
    ids_print_summary();
    CHECK_HAS(m, "vigil: alerts: IDS off");
    CHECK_NO_ALERT(0);
}

/* 13. A broken policy file: fail closed, unless the IDS is off. */
static void scn_broken_policy(void)
{
    static const char bad[] = "kernel-text action=alert\n\nmsr-guard action=blok\n";
    CHECK(!init_ids(bad, true));
    CHECK_HAS(0, "vigil: bad policy file: policy line 3, field 'action': 'blok' is not alert, block or suspend");
    CHECK_HAS(0, "vigil: refusing to start the guest with a broken policy (fail closed; ids=off overrides)");
    CHECK_LACKS(0, "IDS on");

    CHECK(!init_ids("io-guard allow=diskd\n", true));
    CHECK_HAS(0, "vigil: bad policy file: policy line 1, field 'ports': io-guard needs ports=LO-HI");
    CHECK(!init_ids("# c\ncr-guard action\n", true));
    CHECK_HAS(0, "vigil: bad policy file: policy line 2, field 'action': expected key=value");
    CHECK(!init_ids("signature name=x\n", true));
    CHECK_HAS(0, "policy line 1, field 'pattern': a signature needs pattern=hex:... or pattern=text:...");
    CHECK(!init_ids("hidden-process interval=0\n", true));
    CHECK_HAS(0, "policy line 1, field 'interval': '0' is not a tick count from 1 to 100000");

    CHECK(init_ids(bad, false));
    CHECK_HAS(0, "vigil: bad policy file: policy line 3, field 'action'");
    CHECK_HAS(0, "vigil: ids=off: starting the guest anyway, without the IDS");
    CHECK_NO_ALERT(0);
}

/* A policy that is switched off gets no events and sets no traps. */
static void scn_policy_disabled(void)
{
    CHECK(init_ids("kernel-text enabled=no\nio-guard ports=0x1f0-0x1f7 allow=diskd\ncr-guard enabled=no\n", true));
    start();
    CHECK(!fake_protected(TEXT_PA, TEXT_SIZE, IDS_WRITE));
    CHECK(fake_protected(SYSCALL_PA, 0x1000, IDS_WRITE));
    size_t m = MARK();
    CHECK_ALLOW(ept(cr3_of[S_EVIL], KRIP, K(TEXT_PA), TEXT_PA, IDS_WRITE));
    CHECK_ALLOW(crw(cr3_of[S_EVIL], 0, 0x80050033, 0x80040033));
    CHECK_NO_ALERT(m);
    CHECK_BLOCK(ept(cr3_of[S_EVIL], KRIP, K(SYSCALL_PA + 8), SYSCALL_PA + 8, IDS_WRITE));
    ONE_ALERT(m, "critical-tables", "block");
}

/* --- regressions: one scenario group per fixed bug ------------------------------------- */

/* R1. vmi_init: every struct proc field read (pid 4 bytes, name 16, cr3 8,
 * next 8; state 4) lies inside the structure's size, or the profile gives
 * no process-list view. read_proc copies the structure (at most 512 bytes)
 * and reads the fields from that copy: `struct proc.cr3 600 8` had it read
 * past its 512-byte buffer, a field just past the structure read bytes the
 * copy never filled, and a bound written off + n <= size lets a huge offset
 * wrap. The scenario runs once per entry of bad_fields. */
static const struct { const char *from, *to; } bad_fields[] = {
    { "struct proc.cr3 24 8", "struct proc.cr3 600 8" },                  /* past the 512-byte copy */
    { "struct proc.cr3 24 8", "struct proc.cr3 0xffffffffffffffff 8" },   /* off + 8 wraps to 7 */
    { "struct proc.pid 0 4", "struct proc.pid 0xfffffffffffffffc 4" },    /* off + 4 wraps to 0 */
    { "struct proc.name 8 16", "struct proc.name 128 16" },               /* ends 8 bytes past the structure */
    { "struct proc.next 40 8", "struct proc.next 132 8" },
};
static u32 bad_field;                        /* which entry: set by the parent before the fork */

/* profile_text with the line `from` replaced by `to`. */
static const char *profile_with(const char *from, const char *to)
{
    static char buf[sizeof(profile_text) + 128];
    const char *at = strstr(profile_text, from);
    CHECK(at);
    int n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - profile_text), profile_text, to, at + strlen(from));
    CHECK(n > 0 && (size_t)n < sizeof(buf));
    return buf;
}

static void scn_vmi_field_bounds(void)
{
    CHECK(init_ids_profile(profile_with(bad_fields[bad_field].from, bad_fields[bad_field].to), NULL, true));
    CHECK_HAS(0, "vigil: IDS on; profile: fakeos");
    boot();
    u64 init = cr3_of[S_INIT];
    size_t m = MARK();
    CHECK(ids_console_command("ps", init));
    CHECK_HAS(m, "(process list unreadable");
    CHECK_LACKS(m, " init ");
    /* Alerts carry no process. */
    m = MARK();
    CHECK_BLOCK(io(cr3_of[S_RAWIO], 0x1f0, false));
    struct fake_alert a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x1f0 by an unknown process, not allowed by the default rule");
    CHECK_S(a.process, "");
    CHECK_U(a.pid, -1);
    /* No OS view, no hidden-process verdict: neither for the listed spaces
     * nor for a really hidden one, however long they run. */
    u64 h = hidden_space(SLOT_HIDDEN, 9, "hidden");
    m = MARK();
    for (u64 t = 2; t <= 12; t++) {
        for (u32 s = 0; s < S_COUNT; s++)
            CHECK_ALLOW(cr3_load(init, cr3_of[s]));
        CHECK_ALLOW(cr3_load(init, h));
        tick_to(h, t);
    }
    CHECK_NO_ALERT(m);
}

/* The optional state field out of bounds: not read (no state), and the
 * list itself is still read. (600 and the huge offset read outside
 * read_proc's copy before; 134, two bytes short, is a sanity case.) */
static const char *const bad_states[] = { "struct proc.state 600 4", "struct proc.state 0xffffffffffffffff 4",
                                          "struct proc.state 134 4" };
static u32 bad_state;

static void scn_vmi_state_bounds(void)
{
    CHECK(init_ids_profile(profile_with("struct proc.state 32 4", bad_states[bad_state]), NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    for (u32 s = 0; s < S_COUNT; s++)
        cr3_load(init, cr3_of[s]);
    size_t m = MARK();
    CHECK(ids_console_command("ps", init));
    CHECK_LACKS(m, "unreadable");
    CHECK_LACKS(m, "HIDDEN");
    CHECK_HAS(m, " init ");
    CHECK_HAS(m, " evil ");
    m = MARK();
    CHECK_BLOCK(io(cr3_of[S_RAWIO], 0x1f0, false));
    struct fake_alert a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.process, "rawio");
    CHECK_U(a.pid, 3);
}

/* R2. A finding made outside an access (a new address space, a periodic
 * check, the boot lock) has nothing to refuse: `block` is reported as
 * "alert", and `suspend` is reported as "suspend" and carried out by the
 * tick or CR3 load that made the finding (IDS_SUSPEND, the policy's name as
 * the reason), once. Before, the record said block/suspend while the
 * verdict was allow. */
static void check_suspend(struct ids_verdict v, const char *pol, int line)
{
    if (v.action != IDS_SUSPEND || !v.reason || strcmp(v.reason, pol))
        child_fail(__FILE__, line, "verdict %d (reason %s), expected a suspend by %s", v.action,
                   v.reason ? v.reason : "none", pol);
}
#define CHECK_SUSPEND(v, pol) check_suspend((v), (pol), __LINE__)

static void check_all_alerts(size_t m, u32 n, const char *pol, const char *act, int line)
{
    struct fake_alert a[8];
    u32 got = fake_alerts(m, a, 8);
    if (got != n)
        child_fail(__FILE__, line, "%u alert records, expected %u", got, n);
    for (u32 i = 0; i < n; i++)
        if (strcmp(a[i].policy, pol) || strcmp(a[i].action, act))
            child_fail(__FILE__, line, "alert %u is %s/%s, expected %s/%s", i, a[i].policy, a[i].action, pol, act);
}
#define CHECK_ALL_ALERTS(m, n, pol, act) check_all_alerts((m), (n), (pol), (act), __LINE__)

static void scn_nonaccess_block(void)
{
    CHECK(init_ids("pagetable-audit action=block\n", true));
    CHECK_HAS(0, "pagetable-audit   on  action=block");
    start();
    cr3_load(0, boot_cr3);
    u64 wx_pa, r = rootkit_space(&wx_pa);
    CHECK_ALLOW(cr3_load(boot_cr3, r));
    /* The boot lock audits r. */
    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = 0x3f;
    size_t m = MARK();
    CHECK_ALLOW(tick(r));                                        /* tick 1 */
    CHECK_HAS(m, "the guest kernel has booted");
    check_rootkit_findings(m, r, wx_pa);                         /* each record: action "alert" */
    /* A new address space. */
    u64 r2 = new_space(NULL);
    fake_map(r2, ALIAS_VA, TEXT_PA, PTE_P | PTE_U);
    m = MARK();
    CHECK_ALLOW(cr3_load(r, r2));
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel text mapped user-accessible");
    CHECK_HEX(a.cr3, r2);
    CHECK_ALLOW(cr3_load(r2, r));
    /* A periodic audit. */
    fake_map_2m(r, WX2_GVA, 0x2200000, PTE_P | PTE_W);
    tick_to(r, 9);
    m = MARK();
    CHECK_ALLOW(tick(r));                                        /* tick 10: the audit */
    a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel mapping writable and executable (2048 KiB page)");
    CHECK_HEX(a.gva, WX2_GVA);
    /* Accesses are still refused: the policies that judge one keep block. */
    m = MARK();
    CHECK_BLOCK(ept(cr3_of[S_EVIL], KRIP, K(TEXT_PA + 0x40), TEXT_PA + 0x40, IDS_WRITE));
    ONE_ALERT(m, "kernel-text", "block");
}

static void scn_nonaccess_suspend_audit(void)
{
    CHECK(init_ids("pagetable-audit action=suspend\n", true));
    start();
    cr3_load(0, boot_cr3);
    u64 wx_pa, r = rootkit_space(&wx_pa);
    CHECK_ALLOW(cr3_load(boot_cr3, r));
    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = 0x3f;
    /* The boot lock, on a tick: that tick suspends (once for the three). */
    size_t m = MARK();
    CHECK_SUSPEND(tick(r), "pagetable-audit");                   /* tick 1 */
    CHECK_HAS(m, "the guest kernel has booted");
    CHECK_ALL_ALERTS(m, 3, "pagetable-audit", "suspend");
    m = MARK();
    CHECK_ALLOW(tick(r));                                        /* carried out: not again */
    CHECK_ALLOW(cr3_load(r, cr3_of[S_INIT]));
    CHECK_NO_ALERT(m);
    /* A new address space: the CR3 load that audits it. */
    u64 init = cr3_of[S_INIT], r2 = new_space(NULL);
    fake_map(r2, ALIAS_VA, TEXT_PA, PTE_P | PTE_U);
    CHECK_SUSPEND(cr3_load(init, r2), "pagetable-audit");
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "suspend");
    CHECK_HEX(a.gva, ALIAS_VA);
    CHECK_HEX(a.cr3, r2);
    m = MARK();
    CHECK_ALLOW(cr3_load(r2, init));
    CHECK_ALLOW(tick(init));                                     /* tick 3 */
    /* A periodic audit: the tick that finds it. */
    fake_map_2m(r, WX2_GVA, 0x2200000, PTE_P | PTE_W);
    tick_to(init, 8);
    CHECK_ALLOW(cr3_load(init, r));
    CHECK_ALLOW(tick(r));                                        /* tick 9 */
    CHECK_NO_ALERT(m);
    CHECK_SUSPEND(tick(r), "pagetable-audit");                   /* tick 10: the audit */
    a = ONE_ALERT(m, "pagetable-audit", "suspend");
    CHECK_HEX(a.gva, WX2_GVA);
    m = MARK();
    CHECK_ALLOW(tick(r));
    CHECK_ALLOW(cr3_load(r, init));
    CHECK_NO_ALERT(m);
}

static void scn_nonaccess_suspend_signature(void)
{
    CHECK(init_ids("signature name=evil pattern=text:VIGIL-SIGNATURE! action=suspend\n", true));
    boot();
    u64 init = cr3_of[S_INIT], code, s = new_space(&code);
    proc_set(5, 7, "sigproc", s, 1);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    fake_poke(code + 0x123, SIG, 16);
    size_t m = MARK();
    CHECK_SUSPEND(cr3_load(init, s), "signature");               /* scanned as a new space */
    struct fake_alert a = ONE_ALERT(m, "signature", "suspend");
    CHECK_S(a.detail, "signature 'evil' (16 bytes) found in process memory");
    CHECK_S(a.process, "sigproc");
    m = MARK();
    CHECK_ALLOW(cr3_load(s, init));
    CHECK_ALLOW(tick(init));
    CHECK_NO_ALERT(m);
}

static void scn_nonaccess_suspend_hidden(void)
{
    CHECK(init_ids("hidden-process action=suspend interval=5\n", true));
    boot();
    u64 h = hidden_space(SLOT_HIDDEN, 11, "sneaky");
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(cr3_of[S_INIT], h));                    /* tick 1: first miss */
    for (u32 t = 2; t <= 4; t++)
        CHECK_ALLOW(tick(h));
    CHECK_NO_ALERT(m);
    CHECK_SUSPEND(tick(h), "hidden-process");                    /* tick 5: the periodic check */
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "suspend");
    CHECK_S(a.detail, "address space runs but no process in the list has it: hidden process pid 11 \"sneaky\"");
    m = MARK();
    CHECK_ALLOW(tick(h));
    CHECK_ALLOW(cr3_load(h, cr3_of[S_INIT]));
    CHECK_ALLOW(cr3_load(cr3_of[S_INIT], h));
    CHECK_NO_ALERT(m);
}

/* R3. `signature action=suspend` (no name, no pattern) sets the action of
 * every signature, the built-in one included. Before, the built-in
 * signature kept alert. */
static void scn_signature_action_all(void)
{
    struct policy_config c;
    char err[200];
    static const char one[] = "signature action=suspend\n";
    policy_defaults(&c);
    CHECK_U(c.nsig, 1);
    CHECK_U(c.sig[0].action, ACT_ALERT);
    CHECK_U(policy_parse(one, strlen(one), &c, err, sizeof(err)), 0);
    CHECK_U(c.pol[POL_SIGNATURE].action, ACT_SUSPEND);
    CHECK_U(c.nsig, 1);
    CHECK_S(c.sig[0].name, "testos-evil");
    CHECK_U(c.sig[0].action, ACT_SUSPEND);
    /* The file's own signatures, whatever their own action was. */
    static const char two[] = "signature name=a pattern=text:abc\n"
                              "signature name=b pattern=hex:0102 action=suspend\n"
                              "signature action=block\n";
    policy_defaults(&c);
    CHECK_U(policy_parse(two, strlen(two), &c, err, sizeof(err)), 0);
    CHECK_U(c.nsig, 2);
    CHECK_U(c.sig[0].action, ACT_BLOCK);
    CHECK_U(c.sig[1].action, ACT_BLOCK);
    CHECK_U(c.pol[POL_SIGNATURE].action, ACT_BLOCK);

    /* Through an alert of the built-in signature. */
    CHECK(init_ids(one, true));
    CHECK_HAS(0, "signature         on  action=suspend");
    boot();
    u64 init = cr3_of[S_INIT], code, s = new_space(&code);
    proc_set(5, 7, "sigproc", s, 1);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    fake_poke(code + 0x123, SIG, 16);
    size_t m = MARK();
    CHECK_SUSPEND(cr3_load(init, s), "signature");
    struct fake_alert a = ONE_ALERT(m, "signature", "suspend");
    CHECK_S(a.detail, "signature 'testos-evil' (16 bytes) found in process memory");
}

/* R4. pagetable-audit reports a finding once per (kind, address space,
 * address), compared field by field. Before, the key was
 * kind<<60 ^ gva ^ cr3<<4: a finding at gva G in space A hid the same kind
 * of finding at G ^ (A<<4) ^ (B<<4) in space B. */
static void scn_pagetable_audit_report_key(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    u64 a_cr3 = new_space(NULL), b_cr3 = new_space(NULL);
    proc_set(5, 6, "procA", a_cr3, 1);
    proc_set(6, 7, "procB", b_cr3, 1);
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, 6, -1 };
    list_link(l);
    /* In the standard guest A is 0x1029000 and B 0x1031000: 0x600000 and 0x780000. */
    const u64 ga = ALIAS_VA, gb = ga ^ (a_cr3 << 4) ^ (b_cr3 << 4);
    /* Page-aligned, in the user half, clear of the code and stack pages. */
    CHECK(gb != ga && !(gb & 0xfff) && gb < 0x800000000000ull && gb != USER_CODE && gb != USER_STACK);
    CHECK_U((2ull << 60) ^ ga ^ (a_cr3 << 4), (2ull << 60) ^ gb ^ (b_cr3 << 4));   /* the old keys collide */
    fake_map(a_cr3, ga, TEXT_PA, PTE_P | PTE_U);                 /* kernel text, user-accessible */
    fake_map(b_cr3, gb, TEXT_PA + 0x1000, PTE_P | PTE_U);
    size_t m = MARK();
    CHECK_ALLOW(cr3_load(init, a_cr3));
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel text mapped user-accessible");
    CHECK_HEX(a.gva, ga);
    CHECK_HEX(a.cr3, a_cr3);
    m = MARK();
    CHECK_ALLOW(cr3_load(a_cr3, b_cr3));
    a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel text mapped user-accessible");
    CHECK_HEX(a.gva, gb);
    CHECK_HEX(a.gpa, TEXT_PA + 0x1000);
    CHECK_HEX(a.cr3, b_cr3);
    CHECK_S(a.process, "procB");
    /* Each still once. */
    m = MARK();
    tick_to(b_cr3, 10);
    cr3_load(b_cr3, a_cr3);
    tick_to(a_cr3, 20);
    CHECK_NO_ALERT(m);
}

/* R5. A hidden-process suspect is tied to the pid the pool names for its
 * CR3, and forgotten after 100 ticks unseen: page-table roots are reused.
 * Before, a CR3 once reported stayed reported: a second hidden process on
 * the same root was never reported. */
static void scn_hidden_reused_root(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    u64 x = hidden_space(SLOT_HIDDEN, 9, "hidden1");
    size_t m = MARK();
    cr3_load(init, x);                                           /* tick 1 */
    tick_to(init, 2);
    cr3_load(init, x);
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 9);
    CHECK_HEX(a.cr3, x);
    /* hidden1 exits: its pool slot is freed. A second hidden process gets
     * the same page-table root and another slot. */
    proc_set(SLOT_HIDDEN, 0, "", 0, 0);
    tick_to(init, 4);
    proc_set(SLOT_HIDDEN + 1, 13, "hidden2", x, 2);
    m = MARK();
    cr3_load(init, x);                                           /* tick 4 */
    tick_to(x, 8);
    cr3_load(init, x);
    a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "address space runs but no process in the list has it: hidden process pid 13 \"hidden2\"");
    CHECK_U(a.pid, 13);
    CHECK_S(a.process, "hidden2");
    CHECK_HEX(a.cr3, x);
    m = MARK();
    tick_to(x, 12);
    cr3_load(init, x);
    CHECK_NO_ALERT(m);                                           /* once for hidden2 */
    /* hidden2 exits and its slot is reused by a third, same root again. */
    proc_set(SLOT_HIDDEN + 1, 14, "hidden3", x, 2);
    cr3_load(init, x);
    tick_to(x, 16);
    cr3_load(init, x);
    a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 14);
    CHECK_S(a.process, "hidden3");
    /* hidden3 stops running for more than 100 ticks (1 s): forgotten. When
     * its root runs again (the same pid: a new process the pool names
     * alike), it is a new suspect, reported once more. */
    m = MARK();
    tick_to(init, 130);
    CHECK_NO_ALERT(m);
    cr3_load(init, x);                                           /* tick 130: first miss */
    CHECK_NO_ALERT(m);
    tick_to(init, 131);
    cr3_load(init, x);
    a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 14);
}

/* R6. critical-tables locks the GDT only once the GDTR holds the profile's
 * gdt, which a kernel may load after its IDT; the accessed-bit preset covers
 * min(GDTR limit + 1, the profile's gdt size). Before, the IDT lock with
 * the GDTR still on a boot GDT locked that boot GDTR (so the kernel's own
 * LGDT was refused), and preset bits with the boot GDTR's limit in the
 * memory past the profile's GDT. Run once per kernel GDTR limit in
 * gdt_limits. */
static const u16 gdt_limits[] = { 0x3f, 0x17, 0xfff };
static u32 gdt_case;

static void scn_gdt_lock_after_idt(void)
{
    const u16 klimit = gdt_limits[gdt_case];
    CHECK(init_ids(NULL, true));
    start();
    cr3_load(0, boot_cr3);
    /* A boot GDT at 0x9000 (limit 0xfff), and in the profile's GDT page,
     * past the 64-byte GDT, data that looks like a not-yet-accessed
     * descriptor. */
    static const u64 boot_gdt[4] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0x00cf92000000ffffull };
    fake_poke(0x9000, boot_gdt, sizeof(boot_gdt));
    fake_w64(GDT_PA + 0x40, 0x00cf92000000ffffull);
    fake_w64(GDT_PA + 0x48, 0x00af9a000000ffffull);
    fake.gdt_base = 0x9000;
    fake.gdt_limit = 0xfff;
    static u8 boot_page[4096], gdt_page[4096];
    memcpy(boot_page, fake_mem + 0x9000, 4096);
    memcpy(gdt_page, fake_mem + GDT_PA, 4096);

    /* The kernel loads its IDT first: the IDT is locked, the GDT is not. */
    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    size_t m = MARK();
    CHECK_ALLOW(tick(boot_cr3));                                 /* tick 1 */
    CHECK_HAS(m, "the guest kernel has booted");
    CHECK(!memcmp(fake_mem + GDT_PA, gdt_page, 4096));           /* no accessed bit set anywhere */
    CHECK(!memcmp(fake_mem + 0x9000, boot_page, 4096));
    CHECK(vmm_ept_is_protected(IDT_PA));
    CHECK(!vmm_ept_is_protected(GDT_PA));
    CHECK_LACKS(m, "GDTR");
    CHECK_LACKS(m, "GDT at gpa");
    CHECK_LACKS(m, "accessed bit");
    CHECK_HAS(m, "vigil: critical-tables: IDTR 0xffffffff80120000/0xfff locked");
    /* Still on the boot GDT: ticks change nothing; reloading it, or another
     * boot-time GDT, is allowed and locks nothing. */
    CHECK_ALLOW(tick(boot_cr3));
    CHECK_ALLOW(dtr(boot_cr3, false, 0x9000, 0xfff));
    CHECK_ALLOW(dtr(boot_cr3, false, 0xa000, 0x1f));
    fake.gdt_base = 0xa000;
    fake.gdt_limit = 0x1f;
    CHECK_ALLOW(tick(boot_cr3));
    CHECK_LACKS(m, "GDTR");
    CHECK(!vmm_ept_is_protected(GDT_PA));
    CHECK(!memcmp(fake_mem + 0x9000, boot_page, 4096));
    CHECK(!memcmp(fake_mem + GDT_PA, gdt_page, 4096));
    CHECK_NO_ALERT(m);
    CHECK_U(fake.nset_dtr, 0);

    /* The kernel's LGDT of its own GDT: allowed, and now the GDT is locked. */
    m = MARK();
    CHECK_ALLOW(dtr(boot_cr3, false, K(GDT_PA), klimit));
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = klimit;
    char msg[160];
    snprintf(msg, sizeof(msg), "vigil: critical-tables: GDTR 0xffffffff80121000/0x%x locked", klimit);
    CHECK_HAS(m, msg);
    CHECK_HAS(m, "vigil: critical-tables: GDT at gpa 0x121000 (64 bytes) write-protected and hashed");
    CHECK(fake_protected(GDT_PA, 0x1000, IDS_WRITE));
    /* The preset: descriptors within min(limit + 1, 64) bytes only. */
    const u32 n = klimit == 0x17 ? 2 : 4;
    snprintf(msg, sizeof(msg), "vigil: critical-tables: set the accessed bit of %u GDT descriptors", n);
    CHECK_HAS(m, msg);
    CHECK_U(fake_r64(GDT_PA + 0x08), 0x00af9b000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x10), 0x00cf93000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x18), n == 4 ? 0x00affb000000ffffull : 0x00affa000000ffffull);
    CHECK_U(fake_r64(GDT_PA + 0x20), n == 4 ? 0x00cff3000000ffffull : 0x00cff2000000ffffull);
    CHECK(!memcmp(fake_mem + GDT_PA + 0x28, gdt_page + 0x28, 4096 - 0x28));   /* past the GDT: untouched */
    CHECK(!memcmp(fake_mem + 0x9000, boot_page, 4096));
    CHECK_NO_ALERT(m);
    /* Ticks: the hash taken after the preset holds, the register matches. */
    tick_to(boot_cr3, 20);
    CHECK_NO_ALERT(m);
    CHECK_ALLOW(dtr(boot_cr3, false, K(GDT_PA), klimit));
    CHECK_NO_ALERT(m);
    /* Then another GDT, or back to the boot one: refused. */
    CHECK_BLOCK(dtr(boot_cr3, false, K(0x125000), klimit));
    struct fake_alert a = ONE_ALERT(m, "critical-tables", "block");
    snprintf(msg, sizeof(msg), "GDTR switched to a table at 0xffffffff80125000 (limit 0x%x); the boot-time one "
             "is at 0xffffffff80121000", klimit);
    CHECK_S(a.detail, msg);
    m = MARK();
    CHECK_BLOCK(dtr(boot_cr3, false, 0x9000, 0xfff));
    ONE_ALERT(m, "critical-tables", "block");
}

/* R7. hidden-process suspect slots have an explicit used flag. Before, a
 * slot holding CR3 0 was an empty slot: loading CR3 0 found "its" slot among
 * the empty ones, and (listed, through a process whose cr3 is 0) cleared it
 * and decremented the count of suspects, so the CR3 path skipped the table
 * and a hidden process became a new suspect every tick, never reported; or
 * (not listed) was reported in the tick of its first load, against the
 * two-tick rule. */
static void scn_hidden_cr3_zero_listed(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    proc_set(5, 50, "kthread", 0, 1);                            /* a listed process with cr3 0 */
    static const int l[] = { S_INIT, S_DISKD, S_RAWIO, S_EVIL, 5, -1 };
    list_link(l);
    u64 h = hidden_space(SLOT_HIDDEN, 9, "hidden");
    size_t m = MARK();
    /* Tick 1: the first miss, with CR3 0 loads around it. */
    CHECK_ALLOW(cr3_load(init, 0));
    CHECK_ALLOW(cr3_load(0, h));
    CHECK_ALLOW(cr3_load(h, 0));
    CHECK_ALLOW(cr3_load(0, init));
    tick_to(init, 2);
    CHECK_ALLOW(cr3_load(init, 0));
    CHECK_NO_ALERT(m);
    /* Tick 2: the second miss, reported here as without the CR3 0 loads. */
    CHECK_ALLOW(cr3_load(0, h));
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 9);
    CHECK_HEX(a.cr3, h);
    m = MARK();
    for (u64 t = 3; t <= 12; t++) {
        CHECK_ALLOW(cr3_load(h, 0));
        CHECK_ALLOW(cr3_load(0, h));
        tick_to(h, t);
    }
    CHECK_NO_ALERT(m);
}

static void scn_hidden_cr3_zero_unlisted(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    u64 h = hidden_space(SLOT_HIDDEN, 9, "hidden");
    size_t m = MARK();
    /* Tick 1: h, then CR3 0 (no process has it): each a first miss. */
    CHECK_ALLOW(cr3_load(init, h));
    CHECK_ALLOW(cr3_load(h, 0));
    CHECK_ALLOW(cr3_load(0, init));
    CHECK_NO_ALERT(m);
    tick_to(init, 2);
    /* Tick 2: each missed again, each reported. */
    CHECK_ALLOW(cr3_load(init, 0));
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "address space runs but no process in the list has it: hidden process (no name known)");
    CHECK_HEX(a.cr3, 0);
    m = MARK();
    CHECK_ALLOW(cr3_load(0, h));
    a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 9);
    CHECK_HEX(a.cr3, h);
    m = MARK();
    for (u64 t = 3; t <= 12; t++) {
        CHECK_ALLOW(cr3_load(h, 0));
        CHECK_ALLOW(cr3_load(0, h));
        tick_to(h, t);
    }
    CHECK_NO_ALERT(m);
}

/* 10. The translation guard (ids/xlate.c): the kernel's entries on the
 * walks of its protected objects keep their frame and rights. */
static u64 entry_gpa(u64 cr3, u64 va, int level)
{
    u64 table = cr3 & PT_ADDR_MASK;
    for (int l = 4; l > level; l--)
        table = fake_r64(table + ((va >> (12 + 9 * (l - 1))) & 511) * 8) & PT_ADDR_MASK;
    return table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
}

static bool find_alert(const struct fake_alert *r, u32 n, const char *policy, const char *prefix)
{
    for (u32 i = 0; i < n; i++)
        if (!strcmp(r[i].policy, policy) && !strncmp(r[i].detail, prefix, strlen(prefix)) &&
            !strcmp(r[i].action, "block"))
            return true;
    return false;
}

static struct ids_verdict ept_after(u64 cr3, u64 rip, u64 gpa)
{
    const struct trap_page *t = trap_page_find(fake_traps(), gpa, IDS_WRITE);
    CHECK(t != NULL);
    struct ids_event e = ev(IDS_EV_EPT, cr3, rip);
    e.owner = t->owner;
    e.ept.gpa = gpa;
    e.ept.access = IDS_WRITE;
    e.ept.after = true;
    return ids_event(&e);
}

/* A write of `val` at gpa as vmm/ sees one to a guarded table: allowed with
 * a recheck, done, then judged. */
static void pt_write(u64 cr3, u64 gpa, u64 val)
{
    struct ids_verdict v = ept(cr3, KRIP, 0, gpa, IDS_WRITE);
    CHECK_ALLOW(v);
    CHECK_U(v.skip_len, IDS_RECHECK);
    fake_w64(gpa, val);
    CHECK_ALLOW(ept_after(cr3, KRIP, gpa));
}

static void scn_remap_guard(void)
{
    CHECK(init_ids(NULL, true));
    boot();
    u64 init = cr3_of[S_INIT];
    u64 va = K(TEXT_PA + 0x3000), pte = entry_gpa(kernel_cr3, va, 1), orig = fake_r64(pte);
    CHECK(fake_protected(pte & ~0xfffull, 0x1000, IDS_WRITE));
    /* The PTE repointed at another frame: reported to kernel-text, put back. */
    size_t m = MARK();
    pt_write(init, pte, (orig & ~PT_ADDR_MASK) | 0x500000);
    struct fake_alert a = ONE_ALERT(m, "kernel-text", "block");
    char want[160];
    snprintf(want, sizeof(want), "remap of kernel text: PTE for 0x%llx now 0x%llx (was 0x%llx)",
             (unsigned long long)va, (unsigned long long)((orig & ~PT_ADDR_MASK) | 0x500000),
             (unsigned long long)orig);
    CHECK_S(a.detail, want);
    CHECK_HEX(a.gpa, pte);
    CHECK_HEX(a.gva, va);
    CHECK_U(fake_r64(pte), orig);
    /* Its rights: R/W set on text. */
    m = MARK();
    pt_write(init, pte, orig | PTE_W);
    ONE_ALERT(m, "kernel-text", "block");
    CHECK_U(fake_r64(pte), orig);
    /* Accessed and dirty bits (the CPU's), the entry rewritten as it was, an
     * unused entry and a data page's PTE on the same table page: nothing. */
    m = MARK();
    pt_write(init, pte, orig | 0x60);
    pt_write(init, pte, orig);
    u64 unused = (pte & ~0xfffull) + 8 * 0, data = entry_gpa(kernel_cr3, K(0x150000), 1);
    CHECK_U(fake_r64(unused), 0);
    pt_write(init, unused, 0x700003);
    pt_write(init, data, fake_r64(data) ^ 0x200000);
    CHECK_NO_ALERT(m);
    /* A store that starts in the entry before and ends in the guarded one:
     * the whole page is compared. */
    m = MARK();
    CHECK_ALLOW(ept(init, KRIP, 0, pte - 4, IDS_WRITE));
    fake_w64(pte, (orig & ~PT_ADDR_MASK) | 0x510000);
    CHECK_ALLOW(ept_after(init, KRIP, pte - 4));
    ONE_ALERT(m, "kernel-text", "block");
    CHECK_U(fake_r64(pte), orig);
    /* The PDE above the system-call table: both policies own objects under it. */
    u64 pde = entry_gpa(kernel_cr3, K(SYSCALL_PA), 2), opde = fake_r64(pde);
    m = MARK();
    pt_write(init, pde, (opde & ~PT_ADDR_MASK) | 0x520000);
    struct fake_alert two[4];
    CHECK_U(fake_alerts(m, two, 4), 2);
    CHECK_S(two[0].policy, "kernel-text");
    CHECK_S(two[1].policy, "critical-tables");
    CHECK(strstr(two[1].detail, "remap of system-call table: PDE for ") == two[1].detail);
    CHECK_U(fake_r64(pde), opde);
    /* A new address space whose PML4E over the kernel image leads elsewhere:
     * judged on its CR3 load and put back before it takes effect. */
    u64 sp = new_space(NULL), top = fake_r64(sp + 511 * 8);
    fake_w64(sp + 511 * 8, (top & ~PT_ADDR_MASK) | 0x530000);
    m = MARK();
    CHECK_ALLOW(cr3_load(init, sp));
    struct fake_alert r[4];
    u32 n = fake_alerts(m, r, 4);
    CHECK(n >= 2);
    CHECK(find_alert(r, n, "critical-tables", "remap of system-call table: PML4E of this space for "));
    CHECK(find_alert(r, n, "kernel-text", "remap of kernel text: PML4E of this space for "));
    CHECK_U(fake_r64(sp + 511 * 8), top);
    CHECK_U(fake.flushes, 0);                    /* each judged before any use */
    /* A change no exit saw (DMA, say): found by the tick every 10, put back,
     * and the translations the guest may have cached dropped. */
    fake_w64(pte, (orig & ~PT_ADDR_MASK) | 0x540000);
    m = MARK();
    tick_to(init, (ticks_now / 10 + 1) * 10);
    CHECK(fake_alerts(m, r, 4) >= 1);
    CHECK_U(fake_r64(pte), orig);
    CHECK_U(fake.flushes, 1);
    /* The running space's own PML4E, changed while it runs: the next tick. */
    fake_w64(sp + 511 * 8, (top & ~PT_ADDR_MASK) | 0x550000);
    m = MARK();
    tick(sp);
    CHECK(find_alert(r, fake_alerts(m, r, 4), "kernel-text", "remap of kernel text: PML4E of this space for "));
    CHECK_U(fake_r64(sp + 511 * 8), top);
    CHECK_U(fake.flushes, 2);
}

/* action=alert: reported and let stand; the new value is the reference. */
static void scn_remap_guard_alert(void)
{
    CHECK(init_ids("kernel-text action=alert\n", true));
    boot();
    u64 init = cr3_of[S_INIT];
    u64 pte = entry_gpa(kernel_cr3, K(TEXT_PA), 1), orig = fake_r64(pte), moved = (orig & ~PT_ADDR_MASK) | 0x500000;
    size_t m = MARK();
    pt_write(init, pte, moved);
    ONE_ALERT(m, "kernel-text", "alert");
    CHECK_U(fake_r64(pte), moved);
    m = MARK();
    tick_to(init, (ticks_now / 10 + 1) * 10);
    CHECK_NO_ALERT(m);
}

/* --- the cmocka side: each scenario in its own process ----------------------------------- */

static void run_isolated(void (*scenario)(void))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(60);                                   /* a hang fails the test */
        scenario();
        fflush(stderr);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("scenario killed by signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

#define SCENARIO(name) static void test_##name(void **state) { (void)state; run_isolated(scn_##name); }
SCENARIO(hidden_task)
SCENARIO(hidden_task_sampled)
SCENARIO(hidden_user_mode_at_once)
SCENARIO(identity)
SCENARIO(identity_pid)
SCENARIO(hidden_rsp0)
SCENARIO(pagetable_audit_alias)
SCENARIO(boot_lock)
SCENARIO(remap_guard)
SCENARIO(remap_guard_alert)
SCENARIO(msr_guard)
SCENARIO(cr_guard)
SCENARIO(critical_tables)
SCENARIO(critical_tables_tick)
SCENARIO(critical_tables_vcpus)
SCENARIO(msr_guard_vcpus)
SCENARIO(kernel_text)
SCENARIO(kernel_text_alert)
SCENARIO(io_guard_default)
SCENARIO(io_guard_custom)
SCENARIO(io_guard_wide)
SCENARIO(io_guard_64_ranges)
SCENARIO(trap_fail_closed)
SCENARIO(hidden_listed)
SCENARIO(hidden_two_ticks)
SCENARIO(hidden_tick_path)
SCENARIO(hidden_race)
SCENARIO(hidden_kernel_spaces)
SCENARIO(hidden_cyclic)
SCENARIO(pagetable_audit)
SCENARIO(pagetable_audit_boot_and_clean)
SCENARIO(pagetable_audit_shared_kernel_half)
SCENARIO(pagetable_audit_cloned_tables)
SCENARIO(signature)
SCENARIO(signature_periodic_cursor)
SCENARIO(signature_custom)
SCENARIO(ps_in_pml4e)
SCENARIO(hostile_tables_bounded)
SCENARIO(hypervisor_guard)
SCENARIO(hypervisor_guard_suspend)
SCENARIO(hypervisor_guard_alert_refused)
SCENARIO(dma_guard)
SCENARIO(dma_guard_allow)
SCENARIO(dma_guard_off)
SCENARIO(dma_guard_backstop)
SCENARIO(rate_limit)
SCENARIO(ids_off)
SCENARIO(broken_policy)
SCENARIO(policy_disabled)
SCENARIO(pagetable_audit_report_key)
SCENARIO(hidden_reused_root)


/* L1. A kaslr (Linux) profile: nothing placed before the kernel's first
 * LSTAR write; then the slide (LSTAR - entry_SYSCALL_64 as linked) and the
 * image's physical place from the kernel's own page tables, checked
 * against linux_banner, and the direct map from page_offset_base. The
 * image (linked at 0xffffffff81000000, 2 MiB) sits at gpa 0x400000 and
 * runs 0x20000000 higher. */
#define LINUX_PROFILE_BASE \
    "profile linux 1\n" \
    "release 6.1.0-test\n" \
    "kaslr 1\n" \
    "kernel_virt_base 0xffffffff80000000\n" \
    "kernel_phys_start 0x1000000\n" \
    "kernel_phys_end 0x1200000\n" \
    "direct_map_base 0xffff888000000000\n" \
    "symbol _text 0xffffffff81000000 2097152\n" \
    "symbol entry_SYSCALL_64 0xffffffff81000080 0\n" \
    "symbol linux_banner 0xffffffff81100000 0\n" \
    "symbol __end_rodata 0xffffffff81140000 0\n" \
    "symbol page_offset_base 0xffffffff81180000 8\n" \
    "symbol init_task 0xffffffff81190000 256\n" \
    "symbol init_top_pgt 0xffffffff811a0000 4096\n" \
    "struct task_struct 256\n" \
    "struct task_struct.flags 4 4\n" \
    "struct task_struct.tasks 16 16\n" \
    "struct task_struct.pid 32 4\n" \
    "struct task_struct.tgid 36 4\n" \
    "struct task_struct.comm 48 16\n" \
    "struct task_struct.mm 64 8\n" \
    "struct mm_struct.pgd 8 8\n"
static const char linux_profile[] = LINUX_PROFILE_BASE;
#define LX_SLIDE 0x20000000ull
#define LX_PA    0x400000ull
#define LX_TEXT  (0xffffffff81000000ull + LX_SLIDE)

/* The kernel's page tables, rooted at init_top_pgt (2 MiB page for the
 * image); banner and page_offset_base where the link-time layout puts
 * them; the task list: init_task (pid 0, no mm) and "init" (pid 1) in the
 * direct map at gpa 0x2f00000, its mm at 0x2f10000, its PGD at 0x2f20000. */
#define LX_DM     0xffff9a0000000000ull
#define LX_PGD    0x2f20000ull
static u64 linux_guest(bool banner)
{
    u64 cr3 = LX_PA + 0x1a0000;
    fake_map_2m(cr3, LX_TEXT, LX_PA, PTE_P | PTE_W);
    fake_map_2m(cr3, LX_DM + 0x2e00000, 0x2e00000, PTE_P | PTE_W | PTE_NX);
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE, t1 = LX_DM + 0x2f00000;
    u64 it_pa = LX_PA + 0x190000;
    fake_w64(it_pa + 16, t1 + 16);
    fake_poke(it_pa + 48, "swapper/0", 10);
    fake_w64(0x2f00000 + 16, init_task + 16);
    fake_w32(0x2f00000 + 32, 1);
    fake_w32(0x2f00000 + 36, 1);
    fake_poke(0x2f00000 + 48, "init\x01", 6);            /* a control byte: shown as '?' */
    fake_w64(0x2f00000 + 64, LX_DM + 0x2f10000);
    fake_w64(0x2f10000 + 8, LX_DM + LX_PGD);
    if (banner)
        fake_poke(LX_PA + 0x100000, "Linux version 6.1.0-test", 25);
    fake_w64(LX_PA + 0x180000, 0xffff9a0000000000ull);
    return cr3;
}

static void scn_linux_kaslr(void)
{
    CHECK(init_ids_profile(linux_profile, NULL, true));
    CHECK_HAS(0, "vigil: IDS on; profile: linux 6.1.0-test");
    CHECK_HAS(0, "placed when the kernel first writes LSTAR");
    u64 cr3 = linux_guest(true);
    start();
    /* Before: no address, no translation, whatever asks. */
    CHECK(!ids.prof.placed);
    CHECK_U(profile_sym(&ids.prof, "init_task"), 0);
    CHECK_U(profile_kva_to_pa(&ids.prof, 0xffffffff81190000ull), 0);
    size_t m = MARK();
    CHECK_ALLOW(msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE));
    CHECK_HAS(m, "vigil: linux: KASLR slide 0x20000000 (LSTAR 0xffffffffa1000080, entry_SYSCALL_64 linked at "
                 "0xffffffff81000080), kernel text at gpa 0x400000 (_text 0xffffffffa1000000), direct map at "
                 "0xffff9a0000000000; profile 6.1.0-test placed");
    CHECK_NO_ALERT(m);
    CHECK(ids.prof.placed);
    CHECK_U(profile_sym(&ids.prof, "init_task"), 0xffffffff81190000ull + LX_SLIDE);
    CHECK_U(profile_kva_to_pa(&ids.prof, 0xffffffff81190000ull + LX_SLIDE), LX_PA + 0x190000);
    CHECK_U(profile_kva_to_pa(&ids.prof, 0xffffffff81190000ull), 0);
    CHECK_U(ids.prof.direct_map_base, 0xffff9a0000000000ull);
    CHECK_HAS(m, "vigil: linux: kernel page tables (init_top_pgt) at gpa 0x5a0000; task list from init_task at "
                 "0xffffffffa1190000");
    /* The operator's ps: the task list beside the CR3 loads (the user CR3
     * is the PGD + 4 KiB under KPTI; an unknown CR3 is named). */
    cr3_load(cr3, LX_PGD);
    cr3_load(LX_PGD, LX_PGD + 4096);
    cr3_load(LX_PGD + 4096, LX_PGD + 4096);
    cr3_load(LX_PGD + 4096, 0x2f80000);
    cr3_load(0x2f80000, cr3);
    m = MARK();
    CHECK(ids_console_command("ps", LX_PGD + 4096));
    CHECK_HAS(m, "vigil: ps: Linux's task list (from init_task) beside the hardware's view (CR3 loads)");
    CHECK_HAS(m, "       0      0 swapper/0        | -                         - | -                         - | kernel "
                 "thread");
    CHECK_HAS(m, "       1      1 init?            | 0x0000000002f20000        1 | 0x0000000002f21000        2 | ok");
    CHECK_HAS(m, "       -      - (kernel)         | 0x00000000005a0000        1 | -                         - | kernel "
                 "page tables (init_top_pgt)");
    CHECK_HAS(m, "       -      - -                | 0x0000000002f80000        1 | -                         - | not in "
                 "the task list (exited, or hidden)");
    CHECK_HAS(m, "vigil: ps: 2 tasks, 4 address spaces seen");
    /* dump and pt: a profile symbol, a kernel address through the kernel's
     * tables even from the user CR3. */
    m = MARK();
    CHECK(ids_console_command("dump linux_banner 16", LX_PGD + 4096));
    CHECK_HAS(m, "  ffffffffa1100000  4c 69 6e 75 78 20 76 65 72 73 69 6f 6e 20 36 2e  |Linux version 6.|");
    CHECK(ids_console_command("pt init_task", LX_PGD + 4096));
    CHECK_HAS(m, "vigil: pt 0xffffffffa1190000 through CR3 0x5a0000: ok");
    CHECK_HAS(m, "  -> gpa 0x590000 (2048 KiB page) writable supervisor executable");
    /* A later LSTAR write (msr-guard's business) does not move the profile. */
    m = MARK();
    msr(cr3, MSR_LSTAR, 0xffffffff81000080ull + LX_SLIDE, HOOK);
    CHECK_LACKS(m, "KASLR slide");
    CHECK_U(ids.prof.slide, LX_SLIDE);
}

/* L1b. Kernel structures in the direct map are read by arithmetic (the
 * address less page_offset_base), with no walk: tables remapped to show
 * vigil a forged copy of a task's page are not believed. */
#define LX_FORGED 0x3600000ull
static void scn_linux_direct_map(void)
{
    CHECK(init_ids_profile(linux_profile, NULL, true));
    u64 cr3 = linux_guest(true);
    start();
    CHECK_ALLOW(msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE));
    CHECK(ids.prof.placed);
    for (u64 off = 0; off < 0x200000; off += 8)                 /* the forged copy: "init" renamed "fake" */
        fake_w64(LX_FORGED + off, fake_r64(0x2e00000 + off));
    fake_poke(LX_FORGED + 0x100000 + 48, "fake", 5);
    fake_map_2m(cr3, LX_DM + 0x2e00000, LX_FORGED, PTE_P | PTE_W | PTE_NX);
    struct pt_walk w;
    CHECK(vmi_translate(cr3, LX_DM + 0x2f00000, &w) && w.gpa == LX_FORGED + 0x100000);   /* what the tables say */
    u64 all0, fixed0, all, fixed;
    vmi_stats_reads(&all0, &fixed0);
    size_t m = MARK();
    CHECK(ids_console_command("ps", cr3));
    CHECK_HAS(m, "       1      1 init?            | 0x0000000002f20000");
    CHECK_LACKS(m, "fake");
    vmi_stats_reads(&all, &fixed);
    CHECK(all > all0);
    CHECK_U(fixed - fixed0, all - all0);                         /* each by arithmetic */
    /* An address past the direct map's 64 TiB is not taken for it. */
    u64 b;
    CHECK(!vmi_read_kernel(cr3, LX_DM + (64ull << 40), &b, 8));
}

/* L2. LSTAR that is not this kernel's entry: nothing is placed, and vigil
 * says why. Unmapped _text; then mapped but no banner. */
static void scn_linux_kaslr_wrong(void)
{
    CHECK(init_ids_profile(linux_profile, NULL, true));
    u64 cr3 = linux_guest(true);
    start();
    size_t m = MARK();
    msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE + 0x40000000ull);
    CHECK_HAS(m, "vigil: linux: LSTAR 0xffffffffe1000080 gives a KASLR slide of 0x60000000, but the kernel's "
                 "page tables");
    CHECK_HAS(m, "the profile does not describe this kernel; no kernel addresses from the profile");
    CHECK(!ids.prof.placed);
    CHECK_U(profile_sym(&ids.prof, "init_task"), 0);
    /* only the first LSTAR write is looked at */
    m = MARK();
    msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE);
    CHECK_LACKS(m, "vigil: linux:");
    CHECK(!ids.prof.placed);

    CHECK(init_ids_profile(linux_profile, NULL, true));
    cr3 = linux_guest(false);
    start();
    m = MARK();
    msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE);
    CHECK_HAS(m, "vigil: linux: with a KASLR slide of 0x20000000 (LSTAR 0xffffffffa1000080) linux_banner does not "
                 "read \"Linux version\": the profile does not describe this kernel");
    CHECK(!ids.prof.placed);
    CHECK_U(profile_kva_to_pa(&ids.prof, LX_TEXT), 0);
}

/* L3. msr-guard off: the engine still watches LSTAR to place the profile,
 * and raises nothing on later writes. */
static void scn_linux_kaslr_msr_guard_off(void)
{
    CHECK(init_ids_profile(linux_profile, "msr-guard enabled=no\n", true));
    u64 cr3 = linux_guest(true);
    start();
    size_t m = MARK();
    CHECK_ALLOW(msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE));
    CHECK_HAS(m, "vigil: linux: KASLR slide 0x20000000");
    CHECK(ids.prof.placed);
    CHECK_ALLOW(msr(cr3, MSR_LSTAR, 0xffffffff81000080ull + LX_SLIDE, HOOK));
    CHECK_NO_ALERT(m);
}
/* L4. Linux's boot lock and kernel-text's judgement of the kernel's own
 * text patches. The lock waits until the kernel's tables map its text
 * read-only and a process address space is loaded; then the text and
 * read-only data are protected at their slid place and the jump label in
 * __jump_table (one entry, at text + 0x5000, target text + 0x5040) is
 * read. text_poke_bp's three writes (int3, the rest, the first byte) to it
 * pass; a JMP elsewhere is put back; a write outside every site is refused. */
static const char linux_text_profile[] =
    "symbol _stext 0xffffffff81000000 65536\n"
    "symbol kernel_text 0xffffffff81000000 65536\n"
    "symbol __start_rodata 0xffffffff81100000 262144\n"
    "symbol kernel_rodata 0xffffffff81100000 262144\n"
    "symbol __start___jump_table 0xffffffff81120000 16\n";

static void site_write(u64 cr3, u64 gpa, const u8 *b, u32 n, bool accepted)
{
    struct ids_verdict v = ept(cr3, LX_TEXT + 0x100, LX_TEXT + (gpa - LX_PA), gpa, IDS_WRITE);
    CHECK_ALLOW(v);
    CHECK_U(v.skip_len, IDS_RECHECK);
    fake_poke(gpa, b, n);
    v = ept_after(cr3, LX_TEXT + 0x100, gpa);
    CHECK_U(v.action, accepted ? IDS_ALLOW : IDS_BLOCK);
}

static void scn_linux_text(void)
{
    char prof[sizeof(linux_profile) + sizeof(linux_text_profile)];
    memcpy(prof, linux_profile, sizeof(linux_profile) - 1);
    memcpy(prof + sizeof(linux_profile) - 1, linux_text_profile, sizeof(linux_text_profile));
    CHECK(init_ids_profile(prof, NULL, true));
    u64 cr3 = linux_guest(true);
    static const u8 nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
    u64 site = LX_PA + 0x5000, entry = LX_PA + 0x120000, entry_va = LX_TEXT + 0x120000;
    fake_poke(site, nop5, 5);
    fake_w32(entry, (u32)(s32)((LX_TEXT + 0x5000) - entry_va));
    fake_w32(entry + 4, (u32)(s32)((LX_TEXT + 0x5040) - (entry_va + 4)));
    start();
    size_t m = MARK();
    CHECK_HAS(0, "kernel-text: the kernel moves at boot (KASLR): its text and read-only data are "
                                  "write-protected at the boot lock");
    CHECK_ALLOW(msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE));
    CHECK(ids.prof.placed);
    cr3_load(cr3, 0x3000);                     /* the boot's own tables (the decompressor's) come first */
    cr3_load(0x3000, cr3);
    /* A process, but the text is still writable: no lock. */
    cr3_load(cr3, LX_PGD);
    cr3_load(LX_PGD, cr3);
    CHECK_LACKS(m, "has booted");
    CHECK(trap_page_find(fake_traps(), site, IDS_WRITE) == NULL);
    /* mark_rodata_ro; the kernel's own space again: no lock; a process: the lock. */
    fake_map_2m(cr3, LX_TEXT, LX_PA, PTE_P);
    cr3_load(LX_PGD, cr3);
    CHECK_LACKS(m, "has booted");
    cr3_load(cr3, LX_PGD);
    CHECK_HAS(m, "vigil: IDS: the guest kernel has booted (its text is read-only and a process address space is "
                 "loaded); boot-time state locked");
    CHECK_HAS(m, "vigil: kernel-text: the kernel's own patch sites: 1 jump labels, 0 static call sites");
    CHECK_HAS(m, "vigil: kernel-text: kernel text at gpa 0x400000-0x410000 write-protected");
    CHECK_HAS(m, "vigil: kernel-text: kernel read-only data at gpa 0x500000-0x540000 write-protected");
    CHECK_NO_ALERT(m);
    /* The static key switched on: int3, then the rest of the JMP, then its first byte. */
    u8 jmp[5] = { 0xe9 };
    s32 rel = 0x40 - 5;
    memcpy(jmp + 1, &rel, 4);
    static const u8 int3 = 0xcc;
    site_write(cr3, site, &int3, 1, true);
    site_write(cr3, site + 1, jmp + 1, 4, true);
    site_write(cr3, site, jmp, 1, true);
    CHECK_NO_ALERT(m);
    /* ... and a JMP to somewhere else: put back. */
    u8 evil[5] = { 0xe9 };
    rel = 0x80 - 5;
    memcpy(evil + 1, &rel, 4);
    site_write(cr3, site, &int3, 1, true);
    site_write(cr3, site + 1, evil + 1, 4, true);
    size_t m2 = MARK();
    site_write(cr3, site, evil, 1, false);
    struct fake_alert a = ONE_ALERT(m2, "kernel-text", "block");
    CHECK_S(a.detail, "write to protected kernel text at 0xffffffffa1005000, a jump label: e9 7b 00 00 00 is not "
                        "one of its forms");
    CHECK_U(fake_r64(site) & 0xff, 0xcc);              /* as it was before that write */
    /* An int3 left there (the kernel's int3 handler would emulate what its
     * descriptor says): reported after 500 ms, and the last whole form,
     * the JMP to its own target, put back. */
    m2 = MARK();
    for (int i = 0; i < 49; i++)
        tick(cr3);
    CHECK_LACKS(m2, "still holds");
    for (int i = 0; i < 2; i++)
        tick(cr3);
    struct fake_alert al[8];
    u32 na = fake_alerts(m2, al, 8);
    CHECK(find_alert(al, na, "kernel-text", "kernel text at 0xffffffffa1005000, a patch site, still holds "
                                            "text_poke_bp's int3 500 ms after it was written"));
    u8 back[5];
    memcpy(back, &(u64){ fake_r64(site) }, 5);
    CHECK(!memcmp(back, jmp, 5));
    /* A write outside every site: refused before it happens. */
    m2 = MARK();
    CHECK_BLOCK(ept(cr3, LX_TEXT + 0x100, LX_TEXT + 0x6000, LX_PA + 0x6000, IDS_WRITE));
    a = ONE_ALERT(m2, "kernel-text", "block");
    CHECK_S(a.detail, "write to protected kernel text at offset 0x6000 (0xffffffffa1006000: not a patch site of "
                        "the kernel's)");
    m2 = MARK();
    ids_print_summary();
    CHECK_HAS(m2, "vigil: kernel-text: 5 writes to the kernel's patch sites accepted, 2 refused");
}
/* L4. hidden-process on Linux (issue 11): the task list from init_task
 * against the CR3 that runs and the task that runs (the per-CPU
 * current_task at the kernel's GS base: GS in kernel mode,
 * IA32_KERNEL_GS_BASE in user mode, checked against __per_cpu_offset[]).
 * KPTI's user CR3 (PGD + 4 KiB, user PCID bit 11) is its process's; a
 * thread is its process's; a kernel thread on a borrowed mm is listed; a
 * task unlinked from the list is reported once, named, within two ticks
 * of running; the CR3 load before the kernel switches current does not
 * name it and holds its report back. The running process's CR3 pair is
 * the CR3-target values. */
static const char linux_profile_tasks[] = LINUX_PROFILE_BASE
    "symbol _stext 0xffffffff81000000 65536\n"
    "symbol __start_rodata 0xffffffff81100000 262144\n"
    "struct task_struct.active_mm 72 8\n"
    "const percpu.current_task 0x100\n"
    "symbol __per_cpu_offset 0xffffffff811b0000 64\n";
#define LX_PCPU   (LX_DM + 0x2e80000)
#define LX_T(gpa) (LX_DM + (gpa))
#define LX_HPGD   0x2f40000ull
#define BIT63     (1ull << 63)

static void lx_task(u64 gpa, u32 pid, u32 tgid, const char *comm, u64 mm, u64 active_mm)
{
    fake_w32(gpa + 32, pid);
    fake_w32(gpa + 36, tgid);
    fake_poke(gpa + 48, comm, strlen(comm) + 1);
    fake_w64(gpa + 64, mm);
    fake_w64(gpa + 72, active_mm);
}

static struct ids_verdict lx_tick(u64 cr3, u8 cpl, u64 current)
{
    fake_w64(0x2e80100, current);
    fake.gs_base = cpl == 3 ? 0 : LX_PCPU;
    fake.kernel_gs_base = cpl == 3 ? LX_PCPU : 0;
    ticks_now++;
    struct ids_event e = ev(IDS_EV_TICK, cr3, cpl == 3 ? 0x401000 : LX_TEXT + 0x1000);
    return ids_event(&e);
}

/* A random-time sample on Linux (no tick counted). */
static void lx_sample(u64 cr3, u8 cpl, u64 current)
{
    fake_w64(0x2e80100, current);
    fake.gs_base = cpl == 3 ? 0 : LX_PCPU;
    fake.kernel_gs_base = cpl == 3 ? LX_PCPU : 0;
    struct ids_event e = ev(IDS_EV_SAMPLE, cr3, cpl == 3 ? 0x401000 : LX_TEXT + 0x1000);
    ids_event(&e);
}

/* L9. program-integrity: "init" (pid 1; its comm "init?") runs the file
 * "vpi" (mm->exe_file->f_path.dentry->d_name.name, not comm). Its code page
 * 0x401000 is resident and as the profile's hash says; 0x402000 is not
 * resident (skipped); 0x403000 is mapped no-execute (not code: skipped,
 * though its hash differs). The page written: one alert with pid, name and
 * address, once; a process running a program the policy does not name is
 * not checked. */
#define PI_CODE_PA 0x2f30000ull
static char pi_profile[4096];
static void pi_guest(void)
{
    u64 mm = 0x2f10000, file = 0x2f11000, dentry = 0x2f12000;
    fake_w64(mm + 24, LX_DM + file);                         /* mm_struct.exe_file */
    fake_w64(file + 16, LX_DM + dentry);                     /* file.f_path.dentry */
    fake_w64(dentry + 40, LX_DM + dentry + 0x100);           /* dentry.d_name.name */
    fake_poke(dentry + 0x100, "vpi", 4);
    for (u32 i = 0; i < 512; i++)
        fake_w64(PI_CODE_PA + 8 * i, 0x9090909090909090ull + i);
    fake_w64(PI_CODE_PA + 0x1000, 0xc3);
    /* KPTI: the user PGD (4 KiB above the kernel's) is what user code runs
     * through; the kernel PGD maps the user half no-execute. */
    fake_map(LX_PGD + 0x1000, 0x401000, PI_CODE_PA, PTE_P | PTE_U);
    fake_map(LX_PGD + 0x1000, 0x403000, PI_CODE_PA + 0x1000, PTE_P | PTE_U | PTE_NX);
    fake_map(LX_PGD, 0x401000, PI_CODE_PA, PTE_P | PTE_U | PTE_NX);
}

static u64 pi_hash(u64 pa)
{
    u64 q[512];
    for (u32 i = 0; i < 512; i++)
        q[i] = fake_r64(pa + 8 * i);
    return fnv64_qwords(FNV64_BASIS, q, 512);
}

static void pi_boot(const char *policy)
{
    /* The hashes are those of the guest's pages as built: made once with a
     * throw-away guest, then the profile is written and the IDS set up. */
    fake_reset();
    pi_guest();
    u64 h = pi_hash(PI_CODE_PA);
    snprintf(pi_profile, sizeof(pi_profile), "%s"
             "struct mm_struct.exe_file 24 8\nstruct file.f_path.dentry 16 8\nstruct dentry.d_name.name 40 8\n"
             "program busybox 0x401000 0x1234\n"
             "program vpi 0x401000 0x%016llx\nprogram vpi 0x402000 0x5\nprogram vpi 0x403000 0x6\n",
             LINUX_PROFILE_BASE, (unsigned long long)h);
    CHECK(init_ids_profile(pi_profile, policy, true));
    u64 cr3 = linux_guest(true);
    pi_guest();
    start();
    CHECK_ALLOW(msr(cr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE));
    CHECK(ids.prof.placed);
}

static void scn_linux_program_integrity(void)
{
    pi_boot(NULL);
    CHECK_HAS(0, "vigil: program-integrity: 2 programs (busybox,vpi), 4 code pages known-good");
    size_t m = MARK();
    tick_to(LX_PGD, 10);                                     /* the first check: intact */
    CHECK_NO_ALERT(m);
    /* The code written as /proc/PID/mem and ptrace write it: a copy-on-write
     * copy of the page, with other bytes, in a new frame. */
    u64 copy = PI_CODE_PA + 0x2000;
    for (u32 i = 0; i < 512; i++)
        fake_w64(copy + 8 * i, fake_r64(PI_CODE_PA + 8 * i));
    fake_w64(copy + 0x990, 0x2ab8);
    fake_map(LX_PGD + 0x1000, 0x401000, copy, PTE_P | PTE_U);
    m = MARK();
    tick_to(LX_PGD, 19);
    CHECK_NO_ALERT(m);                                       /* between checks */
    tick_to(LX_PGD, 20);
    struct fake_alert a = ONE_ALERT(m, "program-integrity", "alert");
    CHECK_U(a.pid, 1);
    CHECK_S(a.process, "init?");
    CHECK_HEX(a.gva, 0x401000);
    CHECK_HEX(a.gpa, copy);
    CHECK_S(a.detail, "code page 0x401000 of vpi (pid 1) differs from the program's file");
    m = MARK();
    tick_to(LX_PGD, 60);                                     /* once per (pid, page) */
    CHECK_NO_ALERT(m);
    ids_print_summary();
    CHECK_HAS(m, "vigil: program-integrity: 1 processes of checked programs seen, 2 code pages hashed (4 more judged "
                 "lately), 5 differed; 6 whole passes; 0 gone before a check (exited or exec'd); 6 checks");
}

/* vpi execs another program between the snapshot and the check (its task
 * gets a new mm), and its old page tables, freed, hold another process's
 * code: the check reads the task first and drops it (no alert about vpi,
 * whose code this is not). */
static void scn_linux_program_integrity_exec(void)
{
    pi_boot(NULL);
    tick_to(LX_PGD, 10);
    size_t m = MARK();
    tick_to(LX_PGD, 19);
    const struct vmi_proc *snap;
    ids_procs_stale();                                       /* a snapshot at tick 19 (a new space, say) */
    CHECK(ids_procs(LX_PGD, &snap) == 2);
    fake_w64(0x2f00000 + 64, LX_DM + 0x2f15000);             /* its exec: a new mm, a new PGD */
    fake_w64(0x2f15000 + 8, LX_DM + 0x2f70000);
    u64 other = PI_CODE_PA + 0x3000;                          /* another program's code in the old tables */
    for (u32 i = 0; i < 512; i++)
        fake_w64(other + 8 * i, 0xcccccccccccccccc);
    fake_map(LX_PGD + 0x1000, 0x401000, other, PTE_P | PTE_U);
    fake_w64(0x2e80100, 0xffffffff81190000ull + LX_SLIDE);   /* the idle task runs, in the kernel: */
    tick_to(ids.kernel_cr3, 20);                             /* nothing else walks the list again */
    CHECK_NO_ALERT(m);
    ids_print_summary();
    CHECK_HAS(m, "; 1 gone before a check (exited or exec'd);");
}

/* A write into the frame itself (the page-cache frame every process of the
 * program shares; a rootkit in the kernel): found when the frame's verdict,
 * cached for 10 checks, is taken again. */
static void scn_linux_program_integrity_in_place(void)
{
    pi_boot(NULL);
    tick_to(LX_PGD, 10);
    fake_w64(PI_CODE_PA + 0x990, 0x2ab8);
    size_t m = MARK();
    tick_to(LX_PGD, 109);
    CHECK_NO_ALERT(m);
    tick_to(LX_PGD, 110);
    struct fake_alert a = ONE_ALERT(m, "program-integrity", "alert");
    CHECK_HEX(a.gva, 0x401000);
    CHECK_HEX(a.gpa, PI_CODE_PA);
}

static void scn_linux_program_integrity_not_named(void)
{
    pi_boot("program-integrity programs=busybox,nosuch\n");
    CHECK_HAS(0, "vigil: program-integrity: no hashes for 'nosuch' in the profile: not checked");
    CHECK_HAS(0, "vigil: program-integrity: 1 programs (busybox), 1 code pages known-good");
    fake_w64(PI_CODE_PA + 0x990, 0x2ab8);
    size_t m = MARK();
    tick_to(LX_PGD, 30);
    CHECK_NO_ALERT(m);                                       /* vpi is not checked */
    ids_print_summary();
    CHECK_HAS(m, "vigil: program-integrity: 0 processes of checked programs seen, 0 code pages hashed");
}

static void scn_linux_hidden(void)
{
    CHECK(init_ids_profile(linux_profile_tasks, NULL, true));
    u64 kcr3 = linux_guest(true);
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE, init_mm = LX_T(0x2f10000);
    /* init_task -> init (pid 1) -> kworker/0:1 (pid 2, no mm, on init's mm) -> init_task */
    fake_w64(0x2f00000 + 16, LX_T(0x2f01000) + 16);
    lx_task(0x2f00000, 1, 1, "init", init_mm, init_mm);
    fake_w64(0x2f01000 + 16, init_task + 16);
    lx_task(0x2f01000, 2, 2, "kworker/0:1", 0, init_mm);
    lx_task(0x2f02000, 7, 1, "init", init_mm, init_mm);             /* a thread of init: not in the list */
    lx_task(0x2f03000, 95, 95, "vhide", LX_T(0x2f11000), LX_T(0x2f11000));   /* unlinked */
    fake_w64(0x2f11000 + 8, LX_T(LX_HPGD));
    fake_w64(LX_PA + 0x1b0000, LX_PCPU);                          /* __per_cpu_offset[0] */
    start();
    cr3_load(0, kcr3);                                            /* the boot's tables: the kernel's here */
    size_t m = MARK();
    msr(kcr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE);
    CHECK_HAS(m, "vigil: linux: 3 CR3-target values: the running process's kernel and user CR3 (KPTI) load "
                 "without an exit, but for a user CR3 that flushes");
    /* init's kernel CR3 (PCID 1) loaded: its kernel CR3 with and without
     * the no-flush bit, its user CR3 (user PCID 0x801) with it. */
    cr3_load(kcr3, LX_PGD | 1);
    CHECK_U(fake.ncr3_targets, 3);
    CHECK_U(fake.cr3_targets[0], LX_PGD | 1 | BIT63);
    CHECK_U(fake.cr3_targets[1], LX_PGD | 0x1801 | BIT63);
    CHECK_U(fake.cr3_targets[2], LX_PGD | 1);
    /* mark_rodata_ro (the boot lock waits for it), then, benign: init in
     * user mode on its user CR3, its thread, the kernel thread on init's mm
     * in kernel mode; the boot ends at the first. */
    fake_map_2m(kcr3, LX_TEXT, LX_PA, PTE_P);
    for (int i = 0; i < 6; i++) {
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f02000));
        lx_tick(LX_PGD | 1, 0, LX_T(0x2f01000));
    }
    CHECK(ids.boot_done);
    CHECK_NO_ALERT(m);
    /* A current_task read at a base that is no CPU's is not followed. */
    fake.gs_base = LX_DM + 0x2e90000;
    fake_w64(0x2e90100, LX_T(0x2f03000));
    ticks_now++;
    struct ids_event e = ev(IDS_EV_TICK, LX_PGD | 1, LX_TEXT + 0x1000);
    ids_event(&e);
    ticks_now++;
    ids_event(&e);
    CHECK_NO_ALERT(m);
    /* The hidden one: switched to (current is still init's task), then it runs. */
    cr3_load(LX_PGD | 1, LX_HPGD | 2);
    CHECK_U(fake.cr3_targets[1], LX_HPGD | 0x1802 | BIT63);
    CHECK_NO_ALERT(m);
    /* in the kernel, missing from a walk of this event: the task at once
     * (a task is listed before it first runs); its space, by the two-tick
     * rule, is the same pid's and not said again */
    lx_tick(LX_HPGD | 2, 0, LX_T(0x2f03000));
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 95);
    CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 95 \"vhide\" in its own "
                      "address space");
    CHECK_HEX(a.cr3, LX_HPGD);
    m = MARK();
    lx_tick(LX_HPGD | 2, 0, LX_T(0x2f03000));
    CHECK_NO_ALERT(m);
    m = MARK();
    for (int i = 0; i < 12; i++) {
        cr3_load(LX_PGD | 1, LX_HPGD | 2);
        lx_tick(LX_HPGD | 0x1802, 3, LX_T(0x2f03000));
    }
    CHECK_NO_ALERT(m);                                           /* once, by task or space */
    /* io-guard on Linux: user-mode port I/O is the running task's (read at
     * the access, on its KPTI user CR3); supervisor-mode is the kernel's,
     * whatever address space the driver runs in. */
    fake_w64(0x2e80100, LX_T(0x2f00000));
    fake.gs_base = 0;
    fake.kernel_gs_base = LX_PCPU;
    m = MARK();
    CHECK_BLOCK(io(LX_PGD | 0x1801, 0x1f4, true));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "IN from port 0x1f4 by init, not allowed by the default rule");
    CHECK_U(a.pid, 1);
    fake.gs_base = LX_PCPU;
    fake.kernel_gs_base = 0;
    const struct traps *t = fake_traps();
    int i = trap_port_next(t, 0x1f6, 1, 0);
    CHECK(i >= 0);
    e = ev(IDS_EV_IO, LX_PGD | 1, LX_TEXT + 0x2000);
    e.owner = t->port[i].owner;
    e.io.port = 0x1f6;
    e.io.size = 1;
    m = MARK();
    CHECK_BLOCK(ids_event(&e));
    a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "OUT to port 0x1f6 by kernel, not allowed by the default rule");
}


/* L5. Issue 12 on Linux: hidden-module and raw-socket, through the same
 * synthetic kernel (init_task -> init -> ... -> init_task), booted as L4's. */
static const char linux_profile_i12[] = LINUX_PROFILE_BASE
    "symbol _stext 0xffffffff81000000 65536\n"
    "symbol __start_rodata 0xffffffff81100000 262144\n"
    "struct task_struct.active_mm 72 8\n"
    "struct task_struct.files 80 8\n"
    "const percpu.current_task 0x100\n"
    "symbol __per_cpu_offset 0xffffffff811b0000 64\n"
    "symbol modules 0xffffffff81160000 16\n"
    "symbol kprobe_insn_slots 0xffffffff81161000 88\n"
    "symbol socket_file_ops 0xffffffff81170000 280\n"
    "struct module.state 0 4\n"
    "struct module.list 8 16\n"
    "struct module.name 24 56\n"
    "struct module.core_layout.base 320 8\n"
    "struct module.core_layout.size 328 4\n"
    "struct module.init_layout.base 400 8\n"
    "struct module.init_layout.size 408 4\n"
    "struct kprobe_insn_cache.pages 56 16\n"
    "struct files_struct.fdt 32 8\n"
    "struct fdtable.max_fds 0 4\n"
    "struct fdtable.fd 8 8\n"
    "struct file.f_op 40 8\n"
    "struct file.private_data 200 8\n"
    "struct socket.type 4 2\n"
    "struct socket.sk 24 8\n"
    "struct sock.__sk_common.skc_family 16 2\n"
    "const kprobe_insn_page.list 0\n"
    "const kprobe_insn_page.insns 16\n"
    "const modules_vaddr 0xffffffffc0000000\n"
    "const modules_end 0xffffffffff000000\n"
    "symbol pack_list 0xffffffff81162000 16\n"
    "const bpf_prog_pack.list 0\n"
    "const bpf_prog_pack.ptr 16\n"
    "const bpf_prog_pack_size 0x2000\n"
    "struct mm_struct.exe_file 24 8\n"
    "struct file.f_path.dentry 16 8\n"
    "struct dentry.d_name.name 40 8\n";
#define LX_MODPA 0x3800000ull                      /* module memory (clear of vigil's region) */
#define LX_MOD(off) (0xffffffffc0000000ull + (off))
#define LX_MODS_HEAD (0xffffffff81160000ull + LX_SLIDE)
#define LX_SOCK_FOPS (0xffffffff81170000ull + LX_SLIDE)

/* init (pid 1) listed and running; the boot lock taken. */
static u64 lx_boot_i12(const char *policy)
{
    CHECK(init_ids_profile(linux_profile_i12, policy, true));
    u64 kcr3 = linux_guest(true);
    u64 init_mm = LX_T(0x2f10000);
    lx_task(0x2f00000, 1, 1, "init", init_mm, init_mm);
    fake_w64(LX_PA + 0x1b0000, LX_PCPU);
    fake_w64(LX_PA + 0x160000, LX_MODS_HEAD);                     /* no modules yet */
    fake_w64(LX_PA + 0x160008, LX_MODS_HEAD);
    start();
    cr3_load(0, kcr3);
    msr(kcr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE);
    cr3_load(kcr3, LX_PGD | 1);
    fake_map_2m(kcr3, LX_TEXT, LX_PA, PTE_P);
    for (int i = 0; i < 3; i++)
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
    CHECK(ids.boot_done);
    return kcr3;
}

/* A module at LX_MOD(off): `pages` of text (executable), then a data page
 * holding its struct module; linked after `after` (a list_head's va). */
static u64 lx_module(u64 kcr3, u64 off, u32 pages, const char *name)
{
    u64 pa = LX_MODPA + off;
    for (u32 i = 0; i < pages; i++)
        fake_map(kcr3, LX_MOD(off) + 4096 * i, pa + 4096 * i, PTE_P);
    u64 m = LX_MOD(off) + 4096ull * pages, mpa = pa + 4096ull * pages;
    fake_map(kcr3, m, mpa, PTE_P | PTE_W | PTE_NX);
    fake_poke(mpa + 24, name, strlen(name) + 1);
    fake_w64(mpa + 320, LX_MOD(off));
    fake_w32(mpa + 328, 4096 * (pages + 1));
    return m;
}

static void lx_link_modules(const u64 *mods, u32 n)
{
    u64 prev = LX_MODS_HEAD;
    for (u32 i = 0; i <= n; i++) {
        u64 node = i < n ? mods[i] + 8 : LX_MODS_HEAD;
        u64 prev_pa = prev == LX_MODS_HEAD ? LX_PA + 0x160000 : LX_MODPA + (prev - LX_MOD(0));
        fake_w64(prev_pa, node);                                  /* prev->next */
        u64 node_pa = node == LX_MODS_HEAD ? LX_PA + 0x160000 : LX_MODPA + (node - LX_MOD(0));
        fake_w64(node_pa + 8, prev);                              /* node->prev */
        prev = node;
    }
}

static void lx_ticks(int n)
{
    for (int i = 0; i < n; i++)
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
}

static void scn_linux_hidden_module(void)
{
    u64 kcr3 = lx_boot_i12(NULL);
    /* ext4, and a kprobe instruction page (executable, no module's). */
    u64 ext4 = lx_module(kcr3, 0x10000, 2, "ext4");
    lx_link_modules(&ext4, 1);
    fake_map(kcr3, LX_MOD(0x20000), LX_MODPA + 0x20000, PTE_P);
    fake_w64(LX_PA + 0x161000 + 56, LX_T(0x2f70000));             /* kprobe_insn_slots.pages -> one page */
    fake_w64(0x2f70000, 0xffffffff81161000ull + LX_SLIDE + 56);
    fake_w64(0x2f70000 + 16, LX_MOD(0x20000) + 0x40);               /* its insns */
    /* and a BPF program pack (2 pages here), the kernel's JIT's */
    fake_map(kcr3, LX_MOD(0x60000), LX_MODPA + 0x60000, PTE_P);
    fake_map(kcr3, LX_MOD(0x61000), LX_MODPA + 0x61000, PTE_P);
    fake_w64(LX_PA + 0x162000, LX_T(0x2f71000));                  /* pack_list -> one pack */
    fake_w64(0x2f71000, 0xffffffff81162000ull + LX_SLIDE);
    fake_w64(0x2f71000 + 16, LX_MOD(0x60000));                      /* its ptr */
    size_t m = MARK();
    CHECK_HAS(0, "every 10 ticks; the kernel's own there: kprobe instruction slots, BPF program packs");
    lx_ticks(10);
    CHECK_HAS(m, "vigil: info: hidden-module: module \"ext4\" listed at the first look: core "
                 "0xffffffffc0010000-0xffffffffc0013000");
    CHECK_NO_ALERT(m);
    /* vigiltest loads (listed), then takes itself out of the list: its code
     * stays. Reported after the grace, once, by the name it had. */
    u64 vt = lx_module(kcr3, 0x30000, 1, "vigiltest");
    u64 two[] = { ext4, vt };
    lx_link_modules(two, 2);
    m = MARK();
    lx_ticks(10);
    CHECK_HAS(m, "vigil: info: hidden-module: module \"vigiltest\" loaded: core 0xffffffffc0030000-0xffffffffc0032000");
    CHECK_NO_ALERT(m);
    /* unloaded and loaded again at the same place between two scans: the
     * new one's init runs (COMING, an init layout) where the old was LIVE */
    u64 vt_pa = LX_MODPA + 0x31000;
    fake_w32(vt_pa + 0, 1);
    fake_w64(vt_pa + 400, LX_MOD(0x70000));
    fake_w32(vt_pa + 408, 0x1000);
    m = MARK();
    lx_ticks(10);
    CHECK_HAS(m, "vigil: info: hidden-module: module \"vigiltest\" left the list: core 0xffffffffc0030000-0xffffffffc0032000");
    CHECK_HAS(m, "vigil: info: hidden-module: module \"vigiltest\" loaded: core 0xffffffffc0030000-0xffffffffc0032000, "
                 "init layout too");
    fake_w32(vt_pa + 0, 0);                                       /* LIVE, its init layout freed */
    fake_w64(vt_pa + 400, 0);
    m = MARK();
    lx_ticks(10);
    CHECK_LACKS(m, "vigil: info:");
    lx_link_modules(&ext4, 1);
    m = MARK();
    lx_ticks(10);
    CHECK_HAS(m, "vigil: info: hidden-module: module \"vigiltest\" left the list: core "
                 "0xffffffffc0030000-0xffffffffc0032000");
    lx_ticks(10);
    CHECK_NO_ALERT(m);                                            /* the grace: the kernel frees later */
    lx_ticks(10);
    struct fake_alert a = ONE_ALERT(m, "hidden-module", "alert");
    CHECK_S(a.detail, "hidden module \"vigiltest\": code at 0xffffffffc0030000-0xffffffffc0031000 owned by no listed "
                      "module (it left the list)");
    CHECK_HEX(a.gva, LX_MOD(0x30000));
    CHECK_S(a.process, "kernel");                                /* not the task the tick interrupted */
    CHECK_U(a.pid, -1);
    m = MARK();
    lx_ticks(30);
    CHECK_NO_ALERT(m);                                            /* once */
    /* Code vigil never saw listed: named by a struct module after it whose
     * core_layout.base is its start; and a page with none. */
    lx_module(kcr3, 0x40000, 2, "rootkit");
    fake_map(kcr3, LX_MOD(0x50000), LX_MODPA + 0x50000, PTE_P);
    m = MARK();
    lx_ticks(10);
    CHECK_NO_ALERT(m);                                            /* not yet: it may be a module's unload */
    lx_ticks(20);
    struct fake_alert two_a[4];
    CHECK_U(fake_alerts(m, two_a, 4), 2);
    CHECK_S(two_a[0].detail, "hidden module \"rootkit\": code at 0xffffffffc0040000-0xffffffffc0042000 owned by no "
                             "listed module (its struct module)");
    CHECK_S(two_a[1].detail, "hidden module: code at 0xffffffffc0050000-0xffffffffc0051000 owned by no listed module "
                             "(no struct module found)");
    /* A module loaded and unloaded between two scans, and a scan in its
     * unload (out of the list, its text still mapped): never listed, gone
     * within the grace, no alert. */
    fake_map(kcr3, LX_MOD(0x60000), LX_MODPA + 0x60000, PTE_P);
    m = MARK();
    lx_ticks(10);
    fake_map(kcr3, LX_MOD(0x60000), 0, 0);
    lx_ticks(40);
    CHECK_NO_ALERT(m);
    /* More unowned ranges than the grace can hold (16): the one beyond is
     * reported at once, none pushes a waiting one out; those wait the grace. */
    for (int i = 0; i < 17; i++)
        fake_map(kcr3, LX_MOD(0xa0000 + 0x2000 * i), LX_MODPA + 0xa0000 + 0x2000 * i, PTE_P);
    m = MARK();
    lx_ticks(10);
    CHECK_U(fake_alerts(m, 0, 0), 1);
    lx_ticks(20);
    CHECK_U(fake_alerts(m, 0, 0), 17);
    for (int i = 0; i < 17; i++)
        fake_map(kcr3, LX_MOD(0xa0000 + 0x2000 * i), 0, 0);
    /* ext4 unloads as the kernel does it: out of the list, then its memory
     * freed (unmapped) within the grace: an info line, no alert. */
    lx_link_modules(0, 0);
    m = MARK();
    lx_ticks(10);
    CHECK_HAS(m, "vigil: info: hidden-module: module \"ext4\" left the list");
    fake_map(kcr3, LX_MOD(0x10000), 0, 0);
    fake_map(kcr3, LX_MOD(0x11000), 0, 0);
    lx_ticks(150);
    CHECK_NO_ALERT(m);
    m = MARK();
    ids_print_summary();
    CHECK_HAS(m, "vigil: hidden-module: ");
    CHECK_HAS(m, " scans, 0 modules listed at the last");
}

/* L5b. kernel-text's execute watch on Linux: module-area code the kernel
 * owns runs (granted), the rest is refused; a module's grants go when it
 * leaves the list, and its code running out of the list is hidden-module's. */
static struct ids_verdict lx_fetch(u64 cr3, u64 gva, u64 gpa)
{
    struct ids_event e = ev(IDS_EV_EPT, cr3, gva);
    e.owner = fake.exec_owner;
    e.ept.gpa = gpa;
    e.ept.gva = gva;
    e.ept.gva_valid = true;
    e.ept.access = IDS_EXEC;
    struct ids_verdict v = ids_event(&e);
    if (v.action == IDS_ALLOW)
        fake_exec_grant(gpa);
    return v;
}

static void scn_linux_exec_watch(void)
{
    static char prof[sizeof(linux_profile_i12) + 128];
    snprintf(prof, sizeof(prof), "%s%s", linux_profile_i12, "struct module.core_layout.text_size 332 4\nsymbol kernel_text 0xffffffff81000000 65536\n");
    CHECK(init_ids_profile(prof, NULL, true));
    u64 kcr3 = linux_guest(true);
    u64 init_mm = LX_T(0x2f10000);
    lx_task(0x2f00000, 1, 1, "init", init_mm, init_mm);
    fake_w64(LX_PA + 0x1b0000, LX_PCPU);
    fake_w64(LX_PA + 0x160000, LX_MODS_HEAD);
    fake_w64(LX_PA + 0x160008, LX_MODS_HEAD);
    size_t m = MARK();
    start();
    cr3_load(0, kcr3);
    msr(kcr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE);
    cr3_load(kcr3, LX_PGD | 1);
    fake_map_2m(kcr3, LX_TEXT, LX_PA, PTE_P);
    lx_ticks(3);
    CHECK(ids.boot_done);
    CHECK(fake.exec_watching);
    CHECK_HAS(m, "vigil: kernel-text: execution watched: supervisor code runs only in the kernel's text");
    CHECK_HAS(m, "and in module-area code the kernel owns");
    lx_ticks(10);                                                 /* (hidden-module's first look: no modules) */
    /* vigiltest: two executable pages mapped, its text the first only */
    u64 vt = lx_module(kcr3, 0x30000, 2, "vigiltest");
    u64 vt_pa = LX_MODPA + 0x32000;
    fake_w32(vt_pa + 332, 0x1000);
    fake_map(kcr3, LX_MOD(0x70000), LX_MODPA + 0x70000, PTE_P);     /* and its init layout, running */
    fake_w64(vt_pa + 400, LX_MOD(0x70000));
    fake_w32(vt_pa + 408, 0x1000);
    lx_link_modules(&vt, 1);
    m = MARK();
    CHECK_ALLOW(lx_fetch(kcr3, LX_MOD(0x30010), LX_MODPA + 0x30010));
    CHECK_ALLOW(lx_fetch(kcr3, LX_MOD(0x70000), LX_MODPA + 0x70000));
    CHECK_NO_ALERT(m);
    /* its load said at its code's first fetch, before any scan, once */
    CHECK_HAS(m, "vigil: info: hidden-module: module \"vigiltest\" loaded: core 0xffffffffc0030000-0xffffffffc0033000, "
                 "init layout too");
    CHECK_U(count_of(m, "module \"vigiltest\" loaded"), 1);
    /* past its text_size, a vmalloc page, and its text at another frame
     * than the kernel's tables map: refused, as from a not-present page */
    struct ids_verdict v = lx_fetch(kcr3, LX_MOD(0x31000), LX_MODPA + 0x31000);
    CHECK_BLOCK(v);
    CHECK(v.skip_len & IDS_FETCH_NOT_PRESENT);
    struct fake_alert a = ONE_ALERT(m, "kernel-text", "block");
    CHECK_S(a.detail, "supervisor code ran outside the kernel's text: at 0xffffffffc0031000 (gpa 0x3831000)");
    fake_map(kcr3, 0xffffc90000004000ull, 0x3900000, PTE_P);
    m = MARK();
    CHECK_BLOCK(lx_fetch(kcr3, 0xffffc90000004000ull, 0x3900000));
    CHECK_BLOCK(lx_fetch(kcr3, LX_MOD(0x30000), 0x3901000));
    struct fake_alert two[4];
    CHECK_U(fake_alerts(m, two, 4), 2);
    /* out of the list, its memory kept: the next re-judging takes its
     * grant back; its next fetch is named, once, and let run (alert) */
    lx_link_modules(0, 0);
    u64 before = fake.exec_page_revokes;
    m = MARK();
    lx_ticks(10);
    CHECK_U(fake.exec_page_revokes, before + 2);                   /* its text and its init text */
    m = MARK();                                                   /* (past hidden-module's own scan's report) */
    CHECK_ALLOW(lx_fetch(kcr3, LX_MOD(0x30040), LX_MODPA + 0x30040));
    a = ONE_ALERT(m, "hidden-module", "alert");
    CHECK_S(a.detail, "hidden module \"vigiltest\": its code runs at 0xffffffffc0030040, out of the module list");
    CHECK_S(a.process, "kernel");
    m = MARK();
    CHECK_ALLOW(lx_fetch(kcr3, LX_MOD(0x70020), LX_MODPA + 0x70020));   /* the rest of its init: named already */
    CHECK_NO_ALERT(m);
    fake_w64(vt_pa + 400, 0);                                     /* its init done and freed */
    fake_exec_grant(0);                                           /* (a table entry of no interest) */
    vmm_exec_revoke();                                           /* the second's take-back */
    m = MARK();
    CHECK_ALLOW(lx_fetch(kcr3, LX_MOD(0x30040), LX_MODPA + 0x30040));
    CHECK_NO_ALERT(m);                                            /* once */
    /* ext4 loads, runs, and unloads as the kernel does it (out of the list,
     * its memory freed): its grant goes, and a fetch there is refused */
    u64 ext4 = lx_module(kcr3, 0x10000, 1, "ext4");
    fake_w32(LX_MODPA + 0x11000 + 332, 0x1000);
    lx_link_modules(&ext4, 1);
    m = MARK();
    CHECK_ALLOW(lx_fetch(kcr3, LX_MOD(0x10000), LX_MODPA + 0x10000));
    lx_ticks(10);                                                 /* (hidden-module's scan sees it listed) */
    lx_link_modules(0, 0);
    fake_map(kcr3, LX_MOD(0x11000), 0, 0);                          /* its struct module's page freed */
    before = fake.exec_page_revokes;
    lx_ticks(10);
    CHECK_U(fake.exec_page_revokes, before + 1);
    m = MARK();
    CHECK_BLOCK(lx_fetch(kcr3, LX_MOD(0x10000), LX_MODPA + 0x10000));
    a = ONE_ALERT(m, "kernel-text", "block");
    CHECK_S(a.detail, "supervisor code ran outside the kernel's text: at 0xffffffffc0010000 (gpa 0x3810000)");
    /* A one-shot module: listed, its init runs, and it is gone (its init
     * failed, or it unloaded) before any scan: the fetch said its load, and
     * the next look its leaving. */
    u64 once = lx_module(kcr3, 0x80000, 1, "oneshot");
    fake_w32(LX_MODPA + 0x81000 + 332, 0x1000);
    lx_link_modules(&once, 1);
    m = MARK();
    CHECK_ALLOW(lx_fetch(kcr3, LX_MOD(0x80000), LX_MODPA + 0x80000));
    CHECK_HAS(m, "vigil: info: hidden-module: module \"oneshot\" loaded: core 0xffffffffc0080000-0xffffffffc0082000");
    lx_link_modules(0, 0);
    fake_map(kcr3, LX_MOD(0x80000), 0, 0);
    fake_map(kcr3, LX_MOD(0x81000), 0, 0);
    lx_ticks(10);
    CHECK_HAS(m, "vigil: info: hidden-module: module \"oneshot\" left the list: core 0xffffffffc0080000-0xffffffffc0082000");
    CHECK_NO_ALERT(m);
    m = MARK();
    ids_print_summary();
    CHECK_HAS(m, "vigil: kernel-text: execute watch on Linux: 4 supervisor fetches outside the core text granted "
                 "(module-area code the kernel owns), 4 refused, 3 from hidden modules");
}

/* A process's sockets: files -> fdt -> fd[] -> file (f_op, private_data)
 * -> socket (type, sk) -> sock (family). */
static void lx_files(u64 task_pa, u64 files_pa, u32 max_fds)
{
    fake_w64(task_pa + 80, LX_T(files_pa));
    fake_w64(files_pa + 32, LX_T(files_pa + 0x100));               /* fdt */
    fake_w32(files_pa + 0x100, max_fds);
    fake_w64(files_pa + 0x108, LX_T(files_pa + 0x1000));            /* fd[] */
}

static void lx_fd(u64 files_pa, u32 fd, u64 file_pa, bool socket, u16 type, u16 family)
{
    fake_w64(files_pa + 0x1000 + 8ull * fd, LX_T(file_pa));
    fake_w64(file_pa + 40, socket ? LX_SOCK_FOPS : LX_TEXT + 0x9000);
    fake_w64(file_pa + 200, LX_T(file_pa + 0x400));                /* its socket */
    fake_w32(file_pa + 0x400 + 4, type);
    fake_w64(file_pa + 0x400 + 24, LX_T(file_pa + 0x800));          /* its sock */
    fake_w32(file_pa + 0x800 + 16, family);
}

static void scn_linux_raw_socket(void)
{
    u64 kcr3 = lx_boot_i12(NULL);
    (void)kcr3;
    size_t m0 = 0;
    CHECK_HAS(m0, "vigil: raw-socket: the sockets of every process (socket_file_ops at 0xffffffffa1170000), 8 "
                  "processes and 512 descriptors a tick; allowed: none");
    /* init: a file and a UDP socket (not raw). vraw (pid 42): a packet
     * socket at fd 3, a raw ICMP socket at fd 700 of a 1024-slot table
     * (two ticks' budget). kworker: a kernel thread, passed over. */
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE;
    fake_w64(0x2f00000 + 16, LX_T(0x2f01000) + 16);
    lx_task(0x2f01000, 2, 2, "kworker/0:1", 0, LX_T(0x2f10000));
    fake_w64(0x2f01000 + 16, LX_T(0x2f03000) + 16);
    /* pid 42 first as init's fork child (its name and mm), in the snapshot */
    lx_task(0x2f03000, 42, 42, "init", LX_T(0x2f10000), LX_T(0x2f10000));
    fake_w64(0x2f03000 + 16, init_task + 16);
    lx_files(0x2f00000, 0x2f80000, 64);
    lx_fd(0x2f80000, 0, 0x2f90000, false, 0, 0);
    lx_fd(0x2f80000, 1, 0x2f91000, true, 2, 2);                    /* SOCK_DGRAM AF_INET */
    ids_procs_stale();
    size_t m = MARK();
    lx_ticks(1);
    CHECK_NO_ALERT(m);
    /* then, before the snapshot is taken again, it execs vraw (a new name
     * and mm) and opens its sockets: the record names it as it is now */
    lx_task(0x2f03000, 42, 42, "vraw", LX_T(0x2f12000), LX_T(0x2f12000));
    fake_w64(0x2f12000 + 8, LX_T(0x2f60000));
    lx_files(0x2f03000, 0x2fa0000, 1024);
    lx_fd(0x2fa0000, 3, 0x2fb0000, true, 3, 17);                   /* SOCK_RAW AF_PACKET */
    lx_fd(0x2fa0000, 700, 0x2fb1000, true, 3, 2);                  /* SOCK_RAW AF_INET */
    m = MARK();
    lx_ticks(1);
    struct fake_alert a = ONE_ALERT(m, "raw-socket", "alert");
    CHECK_S(a.detail, "process pid 42 \"vraw\" holds a packet socket (AF_PACKET SOCK_RAW, fd 3): not allowed");
    CHECK_U(a.pid, 42);
    CHECK_S(a.process, "vraw");
    CHECK_HEX(a.cr3, 0x2f60000);
    m = MARK();
    lx_ticks(1);                                                  /* the rest of its table */
    a = ONE_ALERT(m, "raw-socket", "alert");
    CHECK_S(a.detail, "process pid 42 \"vraw\" holds a raw socket (AF_INET SOCK_RAW, fd 700): not allowed");
    m = MARK();
    lx_ticks(20);
    CHECK_NO_ALERT(m);                                            /* each (pid, socket) once */
    /* A socket of a packet family but not raw (SOCK_DGRAM AF_PACKET) is one too. */
    lx_fd(0x2f80000, 5, 0x2f92000, true, 2, 17);
    m = MARK();
    lx_ticks(2);
    a = ONE_ALERT(m, "raw-socket", "alert");
    CHECK_S(a.detail, "process pid 1 \"init\" holds a packet socket (AF_PACKET SOCK_DGRAM, fd 5): not allowed");
    m = MARK();
    ids_print_summary();
    CHECK_HAS(m, "vigil: raw-socket: ");
}

/* The file an mm was exec'd from: mm->exe_file->f_path.dentry->d_name.name. */
static void lx_exe(u64 mm_pa, u64 file_pa, const char *name)
{
    fake_w64(mm_pa + 24, LX_T(file_pa));
    fake_w64(file_pa + 16, LX_T(file_pa + 0x100));                  /* its dentry */
    fake_w64(file_pa + 0x100 + 40, LX_T(file_pa + 0x200));
    fake_poke(file_pa + 0x200, name, strlen(name) + 1);
}

/* A process at task_pa (pid, comm) with its mm at mm_pa (its PGD at
 * pgd_pa) exec'd from a file named exe, linked to the task at next (a
 * task_struct's va). */
static void lx_proc(u64 task_pa, u32 pid, const char *comm, u64 mm_pa, u64 pgd_pa, u64 file_pa, const char *exe,
                    u64 next)
{
    lx_task(task_pa, pid, pid, comm, LX_T(mm_pa), LX_T(mm_pa));
    fake_w64(mm_pa + 8, LX_T(pgd_pa));
    lx_exe(mm_pa, file_pa, exe);
    fake_w64(task_pa + 16, next + 16);
}

/* allow=dhclient,vraw: a program is allowed by the file the kernel exec'd,
 * not by comm, which a process rewrites. vraw (comm vraw) and a dhclient
 * that calls itself "x" are allowed; "evil" renamed dhclient
 * (prctl(PR_SET_NAME)) is not, nor is init, whose program vigil cannot
 * read. */
static void scn_linux_raw_socket_allow(void)
{
    lx_boot_i12("raw-socket allow=dhclient,vraw\n");
    CHECK_HAS(0, "allowed: dhclient,vraw (by the program's file name)");
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE;
    fake_w64(0x2f00000 + 16, LX_T(0x2f03000) + 16);
    lx_proc(0x2f03000, 42, "vraw", 0x2f12000, 0x2f60000, 0x2f40000, "vraw", LX_T(0x2f04000));
    lx_proc(0x2f04000, 43, "dhclient", 0x2f13000, 0x2f61000, 0x2f41000, "evil", LX_T(0x2f05000));
    lx_proc(0x2f05000, 44, "x", 0x2f14000, 0x2f62000, 0x2f42000, "dhclient", init_task);
    lx_files(0x2f03000, 0x2fa0000, 64);
    lx_fd(0x2fa0000, 3, 0x2fb0000, true, 3, 17);
    lx_files(0x2f04000, 0x2fc0000, 64);
    lx_fd(0x2fc0000, 3, 0x2fd0000, true, 3, 17);
    lx_files(0x2f05000, 0x2fe0000, 64);
    lx_fd(0x2fe0000, 5, 0x2ff0000, true, 3, 2);
    lx_files(0x2f00000, 0x2f80000, 64);
    lx_fd(0x2f80000, 4, 0x2f90000, true, 3, 10);                   /* SOCK_RAW AF_INET6 */
    ids_procs_stale();
    size_t m = MARK();
    lx_ticks(3);
    struct fake_alert a[4];
    CHECK_U(fake_alerts(m, a, 4), 2);
    CHECK_S(a[0].detail, "process pid 1 \"init\" holds a raw socket (AF_INET6 SOCK_RAW, fd 4): not allowed");
    CHECK_S(a[1].detail, "process pid 43 \"dhclient\" (program evil) holds a packet socket (AF_PACKET SOCK_RAW, "
                         "fd 3): not allowed");
    CHECK_U(a[1].pid, 43);
}

/* io-guard on Linux allows by program too (the identity's name is the file
 * exec'd): "evil" renamed diskd is refused and named by both; a diskd whose
 * comm says "x" drives the ports. */
static void scn_linux_io_guard_program(void)
{
    lx_boot_i12(NULL);
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE;
    fake_w64(0x2f00000 + 16, LX_T(0x2f04000) + 16);
    lx_proc(0x2f04000, 43, "diskd", 0x2f13000, 0x2f64000, 0x2f41000, "evil", LX_T(0x2f05000));
    lx_proc(0x2f05000, 44, "x", 0x2f14000, 0x2f66000, 0x2f42000, "diskd", init_task);
    ids_procs_stale();
    lx_ticks(3);
    fake.gs_base = 0;                                             /* user mode: the task is current */
    fake.kernel_gs_base = LX_PCPU;
    fake_w64(0x2e80100, LX_T(0x2f04000));
    size_t m = MARK();
    CHECK_BLOCK(io(0x2f64000 | 0x1801, 0x1f4, true));
    struct fake_alert a = ONE_ALERT(m, "io-guard", "block");
    CHECK_S(a.detail, "IN from port 0x1f4 by diskd (pid 43, program evil), not allowed by the default rule");
    CHECK_U(a.pid, 43);
    fake_w64(0x2e80100, LX_T(0x2f05000));
    m = MARK();
    CHECK_ALLOW(io(0x2f66000 | 0x1801, 0x1f4, true));
    CHECK_NO_ALERT(m);
}

/* L6. The cost cuts of issue 11's KPTI item, with the same guest: the task
 * list is walked every 10 ticks, and between walks the running process's
 * own links say whether it was taken off the list (list_del_init); Linux's
 * kernel half is audited a slice a tick, a round in at most 8 ticks. */
static u64 lx_booted(void)
{
    CHECK(init_ids_profile(linux_profile_tasks, NULL, true));
    u64 kcr3 = linux_guest(true);
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE, init_mm = LX_T(0x2f10000);
    u64 it = LX_PA + 0x190000;
    /* init_task <-> init (pid 1) <-> vhide (pid 95, its own mm) <-> init_task, both ways */
    fake_w64(it + 16, LX_T(0x2f00000) + 16);
    fake_w64(it + 24, LX_T(0x2f03000) + 16);
    fake_w64(0x2f00000 + 16, LX_T(0x2f03000) + 16);
    fake_w64(0x2f00000 + 24, init_task + 16);
    fake_w64(0x2f03000 + 16, init_task + 16);
    fake_w64(0x2f03000 + 24, LX_T(0x2f00000) + 16);
    lx_task(0x2f00000, 1, 1, "init", init_mm, init_mm);
    lx_task(0x2f03000, 95, 95, "vhide", LX_T(0x2f11000), LX_T(0x2f11000));
    fake_w64(0x2f11000 + 8, LX_T(LX_HPGD));
    fake_w64(LX_PA + 0x1b0000, LX_PCPU);
    start();
    cr3_load(0, kcr3);
    msr(kcr3, MSR_LSTAR, 0, 0xffffffff81000080ull + LX_SLIDE);
    cr3_load(kcr3, LX_PGD | 1);
    fake_map_2m(kcr3, LX_TEXT, LX_PA, PTE_P);
    lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
    CHECK(ids.boot_done);
    return kcr3;
}

/* A user task on its way out (PF_EXITING, its mm dropped), unlinked
 * before it last leaves the CPU (a thread reaps itself), seen in the
 * kernel at ticks: no hidden process; nor a kernel thread in do_exit. A
 * kernel thread unlinked and running is one, at once. A task still
 * "exiting" unlisted half a second after it was first seen so set the
 * flags itself: it is one too, but a thread of a listed process is that
 * process's. */
static void scn_linux_exiting_task(void)
{
    lx_booted();
    size_t m = MARK();
    lx_task(0x2f04000, 130, 130, "insmod", 0, LX_T(0x2f10000));
    fake_w32(0x2f04000 + 4, 0x4);                                  /* PF_EXITING */
    lx_tick(LX_PGD | 1, 0, LX_T(0x2f04000));
    lx_tick(LX_PGD | 1, 0, LX_T(0x2f04000));
    lx_tick(LX_PGD | 1, 0, LX_T(0x2f04000));
    CHECK_NO_ALERT(m);
    lx_task(0x2f07000, 132, 132, "kworker/u2:1", 0, LX_T(0x2f10000));
    fake_w32(0x2f07000 + 4, 0x4 | 0x00200000);                     /* PF_EXITING | PF_KTHREAD */
    lx_tick(LX_PGD | 1, 0, LX_T(0x2f07000));
    CHECK_NO_ALERT(m);
    lx_task(0x2f05000, 131, 131, "kevil", 0, LX_T(0x2f10000));
    fake_w32(0x2f05000 + 4, 0x00200000);                           /* PF_KTHREAD */
    lx_tick(LX_PGD | 1, 0, LX_T(0x2f05000));
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 131 \"kevil\" in no address "
                      "space (a kernel thread)");
    m = MARK();
    for (int i = 0; i < 45; i++)                                   /* insmod first seen 4 ticks ago */
        lx_tick(LX_PGD | 1, 0, LX_T(0x2f04000));
    CHECK_NO_ALERT(m);
    lx_tick(LX_PGD | 1, 0, LX_T(0x2f04000));                       /* 50 ticks: overdue, at once */
    a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 130 \"insmod\" in no address "
                      "space, \"exiting\" for 500 ms");
    CHECK_U(a.pid, 130);
    /* A thread of init (pid 140, tgid 1) in a long exit (a final close
     * that lingers): accounted for by its process, however long. */
    lx_task(0x2f06000, 140, 1, "worker", 0, LX_T(0x2f10000));
    fake_w32(0x2f06000 + 4, 0x4);
    m = MARK();
    for (int i = 0; i < 120; i++)
        lx_tick(LX_PGD | 1, 0, LX_T(0x2f06000));
    CHECK_NO_ALERT(m);
}

static void scn_linux_exiting_flood(void)
{
    lx_booted();
    /* 17 forged "exiting" tasks seen in turn: the table of excuses holds
     * 16, and the 17th gets none (reported at once); the rest when their
     * 500 ms are over. They cannot renew each other's grace. */
    size_t m = MARK();
    struct fake_alert a;
    for (int round = 0; round < 4; round++)
        for (u32 k = 0; k < 17; k++) {
            u64 pa = 0x2f20000 + 0x1000ull * k;
            if (round == 0) {
                char nm[16];
                snprintf(nm, sizeof(nm), "kx%u", k);
                lx_task(pa, 200 + k, 200 + k, nm, 0, LX_T(0x2f10000));
                fake_w32(pa + 4, 0x4);
            }
            lx_tick(LX_PGD | 1, 0, LX_T(pa));
            if (round == 0 && k == 16) {
                a = ONE_ALERT(m, "hidden-process", "alert");
                CHECK_U(a.pid, 216);
                CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 216 \"kx16\" in no "
                                  "address space, too many \"exiting\"");
            }
        }
    /* each of the 17 reported (the 16 suspects' table may say one twice) */
    struct fake_alert all[24];
    u32 n = fake_alerts(m, all, 24), seen = 0;
    for (u32 i = 0; i < n && i < 24; i++)
        if (all[i].pid >= 200 && all[i].pid < 217)
            seen |= 1u << (all[i].pid - 200);
    CHECK_U(seen, 0x1ffff);
}

static void scn_linux_hidden_between_walks(void)
{
    lx_booted();
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE;
    size_t m = MARK();
    cr3_load(LX_PGD | 1, LX_HPGD | 2);                            /* a new space: the list is walked */
    for (int i = 0; i < 3; i++)
        lx_tick(LX_HPGD | 0x1802, 3, LX_T(0x2f03000));
    CHECK_NO_ALERT(m);
    /* list_del_init on vhide while it runs: its pair are CR3-target values,
     * so no CR3 load exits; the last walk (3 ticks ago) still lists it. */
    fake_w64(0x2f00000 + 16, init_task + 16);
    fake_w64(LX_PA + 0x190000 + 24, LX_T(0x2f00000) + 16);
    fake_w64(0x2f03000 + 16, LX_T(0x2f03000) + 16);
    fake_w64(0x2f03000 + 24, LX_T(0x2f03000) + 16);
    lx_tick(LX_HPGD | 0x1802, 3, LX_T(0x2f03000));               /* in user mode, missing from a walk now: at once */
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 95);
    CHECK_S(a.detail, "address space runs but no process in the list has it: hidden process pid 95 \"vhide\"");
}

/* The same unlinking, seen by random-time samples: the samples that find
 * vhide running, still listed, take the fast path (what the last one
 * accounted for); the first after list_del_init does not, and reports the
 * task at once (in the kernel too: missing from a walk of this event). */
static void scn_linux_hidden_sampled(void)
{
    lx_booted();
    u64 init_task = 0xffffffff81190000ull + LX_SLIDE;
    size_t m = MARK();
    cr3_load(LX_PGD | 1, LX_HPGD | 2);
    lx_tick(LX_HPGD | 0x1802, 3, LX_T(0x2f03000));
    for (int i = 0; i < 3; i++)
        lx_sample(LX_HPGD | 0x1802, 3, LX_T(0x2f03000));
    CHECK_NO_ALERT(m);
    fake_w64(0x2f00000 + 16, init_task + 16);
    fake_w64(LX_PA + 0x190000 + 24, LX_T(0x2f00000) + 16);
    fake_w64(0x2f03000 + 16, LX_T(0x2f03000) + 16);
    fake_w64(0x2f03000 + 24, LX_T(0x2f03000) + 16);
    lx_sample(LX_HPGD | 2, 0, LX_T(0x2f03000));                  /* in the kernel: not the fast path, at once */
    struct fake_alert a = ONE_ALERT(m, "hidden-process", "alert");
    CHECK_U(a.pid, 95);
    CHECK_S(a.detail, "the running task is not in the process list: hidden process pid 95 \"vhide\" in its own "
                      "address space");
    m = MARK();
    lx_sample(LX_HPGD | 0x1802, 3, LX_T(0x2f03000));             /* in user mode: the same pid, once */
    CHECK_NO_ALERT(m);
}

static void scn_linux_kernel_half_slices(void)
{
    lx_booted();
    size_t m = MARK();
    for (int i = 0; i < 20; i++)
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
    CHECK_NO_ALERT(m);
    /* A writable, executable page in the vmalloc area of the kernel half:
     * found within a round (8 ticks), by the slices alone (the user half's
     * audit, every 10 ticks, does not walk it). */
    u64 page = fake_alloc_page(), va = 0xffffc90000400000ull;
    fake_map(LX_PGD, va, page, PTE_P | PTE_W);
    int found = -1;
    for (int i = 0; i < 9 && found < 0; i++) {
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
        if (fake_alerts(m, 0, 0))
            found = i;
    }
    CHECK(found >= 0);
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "kernel mapping writable and executable (4 KiB page)");
    CHECK_HEX(a.gva, va);
    CHECK_HEX(a.gpa, page);
    m = MARK();
    for (int i = 0; i < 20; i++)
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
    CHECK_NO_ALERT(m);
}

/* L6b. A round of the kernel half that finds it as the last round left it
 * does not collect its unchanged tables' leaves again and keeps the last
 * round's executable frames; a writable alias made later, in a new table,
 * makes the next round a whole one, which pairs it. */
static void scn_linux_kernel_half_same_rounds(void)
{
    lx_booted();
    u64 page = fake_alloc_page(), xva = 0xffffc90000400000ull, wva = 0xffffc90000a00000ull;
    fake_map(LX_PGD, xva, page, PTE_P);                         /* supervisor R+X outside the text */
    size_t m = MARK();
    for (int i = 0; i < 40; i++)
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
    CHECK_NO_ALERT(m);
    u64 gva = 0;
    CHECK(pagetable_audit_supervisor_exec(page, &gva));
    CHECK_U(gva, xva);
    pagetable_audit_summary();
    CHECK_HAS(m, "as the last left it: not paired again");
    CHECK_LACKS(m, "(0 as the last left it");
    fake_map(LX_PGD, wva, page, PTE_P | PTE_W | PTE_NX);        /* the same frame, writable, in another table */
    m = MARK();
    for (int i = 0; i < 20 && !fake_alerts(m, 0, 0); i++)
        lx_tick(LX_PGD | 0x1801, 3, LX_T(0x2f00000));
    struct fake_alert a = ONE_ALERT(m, "pagetable-audit", "alert");
    CHECK_S(a.detail, "frame executable here and writable at 0xffffc90000a00000: W+X through two mappings");
    CHECK_HEX(a.gva, xva);
    CHECK(pagetable_audit_supervisor_exec(page, &gva));
}

SCENARIO(linux_kaslr)
SCENARIO(linux_direct_map)
SCENARIO(linux_program_integrity)
SCENARIO(linux_program_integrity_exec)
SCENARIO(linux_program_integrity_not_named)
SCENARIO(linux_program_integrity_in_place)
SCENARIO(linux_hidden)
SCENARIO(linux_hidden_module)
SCENARIO(linux_exec_watch)
SCENARIO(linux_raw_socket)
SCENARIO(linux_raw_socket_allow)
SCENARIO(linux_io_guard_program)
SCENARIO(linux_hidden_between_walks)
SCENARIO(linux_exiting_task)
SCENARIO(linux_exiting_flood)
SCENARIO(linux_hidden_sampled)
SCENARIO(linux_kernel_half_slices)
SCENARIO(linux_kernel_half_same_rounds)
SCENARIO(linux_kaslr_wrong)
SCENARIO(linux_kaslr_msr_guard_off)
SCENARIO(linux_text)

/* Regressions whose scenario runs more than once (a case set before each fork). */
static void test_vmi_field_bounds(void **state)
{
    (void)state;
    for (bad_field = 0; bad_field < ARRAY_SIZE(bad_fields); bad_field++)
        run_isolated(scn_vmi_field_bounds);
    for (bad_state = 0; bad_state < ARRAY_SIZE(bad_states); bad_state++)
        run_isolated(scn_vmi_state_bounds);
}

static void test_nonaccess_findings(void **state)
{
    (void)state;
    run_isolated(scn_nonaccess_block);
    run_isolated(scn_nonaccess_suspend_audit);
    run_isolated(scn_nonaccess_suspend_signature);
    run_isolated(scn_nonaccess_suspend_hidden);
}

static void test_signature_action_all(void **state)
{
    (void)state;
    run_isolated(scn_signature_action_all);
}

static void test_gdt_lock_after_idt(void **state)
{
    (void)state;
    for (gdt_case = 0; gdt_case < ARRAY_SIZE(gdt_limits); gdt_case++)
        run_isolated(scn_gdt_lock_after_idt);
}

/* The boot lock noticed on an access (here the kernel's own LSTAR write
 * right after its LIDT): a pagetable-audit finding made at the lock is not
 * part of that access. With action=block its record says alert and the
 * write goes through; with action=suspend the write goes through and the
 * next tick suspends. */
static void scn_boot_lock_on_access(const char *policy, bool suspend)
{
    CHECK(init_ids(policy, true));
    start();
    cr3_load(0, boot_cr3);
    u64 wx_pa, r = rootkit_space(&wx_pa);
    (void)wx_pa;
    cr3_load(boot_cr3, r);
    fake.idt_base = K(IDT_PA);
    fake.idt_limit = 0xfff;
    fake.gdt_base = K(GDT_PA);
    fake.gdt_limit = 0x3f;
    size_t m = MARK();
    struct ids_verdict v = msr(r, MSR_LSTAR, 0, K(ENTRY_PA));
    CHECK_ALLOW(v);                                  /* the kernel's own LSTAR write */
    struct fake_alert a[8];
    u32 n = fake_alerts(m, a, 8);
    CHECK(n >= 1);
    for (u32 i = 0; i < n; i++) {
        CHECK_S(a[i].policy, "pagetable-audit");
        CHECK_S(a[i].action, suspend ? "suspend" : "alert");
    }
    v = tick(r);
    if (suspend) {
        CHECK_U(v.action, IDS_SUSPEND);
        CHECK_S(v.reason, "pagetable-audit");
    } else {
        CHECK_ALLOW(v);
    }
}
static void scn_boot_lock_on_access_block(void) { scn_boot_lock_on_access("pagetable-audit action=block\n", false); }
static void scn_boot_lock_on_access_suspend(void) { scn_boot_lock_on_access("pagetable-audit action=suspend\n", true); }

static void test_boot_lock_on_access_event(void **state)
{
    (void)state;
    run_isolated(scn_boot_lock_on_access_block);
    run_isolated(scn_boot_lock_on_access_suspend);
}

static void test_hidden_cr3_zero(void **state)
{
    (void)state;
    run_isolated(scn_hidden_cr3_zero_listed);
    run_isolated(scn_hidden_cr3_zero_unlisted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot_lock),
        cmocka_unit_test(test_msr_guard),
        cmocka_unit_test(test_cr_guard),
        cmocka_unit_test(test_critical_tables),
        cmocka_unit_test(test_critical_tables_tick),
        cmocka_unit_test(test_critical_tables_vcpus),
        cmocka_unit_test(test_msr_guard_vcpus),
        cmocka_unit_test(test_kernel_text),
        cmocka_unit_test(test_kernel_text_alert),
        cmocka_unit_test(test_io_guard_default),
        cmocka_unit_test(test_io_guard_custom),
        cmocka_unit_test(test_io_guard_wide),
        cmocka_unit_test(test_io_guard_64_ranges),
        cmocka_unit_test(test_trap_fail_closed),
        cmocka_unit_test(test_hidden_listed),
        cmocka_unit_test(test_hidden_two_ticks),
        cmocka_unit_test(test_hidden_tick_path),
        cmocka_unit_test(test_hidden_task),
        cmocka_unit_test(test_hidden_task_sampled),
        cmocka_unit_test(test_hidden_user_mode_at_once),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_identity_pid),
        cmocka_unit_test(test_hidden_rsp0),
        cmocka_unit_test(test_hidden_race),
        cmocka_unit_test(test_hidden_kernel_spaces),
        cmocka_unit_test(test_hidden_cyclic),
        cmocka_unit_test(test_pagetable_audit),
        cmocka_unit_test(test_pagetable_audit_boot_and_clean),
        cmocka_unit_test(test_pagetable_audit_shared_kernel_half),
        cmocka_unit_test(test_pagetable_audit_cloned_tables),
        cmocka_unit_test(test_pagetable_audit_alias),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_signature_periodic_cursor),
        cmocka_unit_test(test_ps_in_pml4e),
        cmocka_unit_test(test_hostile_tables_bounded),
        cmocka_unit_test(test_signature_custom),
        cmocka_unit_test(test_hypervisor_guard),
        cmocka_unit_test(test_hypervisor_guard_suspend),
        cmocka_unit_test(test_hypervisor_guard_alert_refused),
        cmocka_unit_test(test_dma_guard),
        cmocka_unit_test(test_dma_guard_allow),
        cmocka_unit_test(test_dma_guard_off),
        cmocka_unit_test(test_dma_guard_backstop),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_ids_off),
        cmocka_unit_test(test_broken_policy),
        cmocka_unit_test(test_policy_disabled),
        cmocka_unit_test(test_vmi_field_bounds),
        cmocka_unit_test(test_nonaccess_findings),
        cmocka_unit_test(test_signature_action_all),
        cmocka_unit_test(test_pagetable_audit_report_key),
        cmocka_unit_test(test_hidden_reused_root),
        cmocka_unit_test(test_gdt_lock_after_idt),
        cmocka_unit_test(test_hidden_cr3_zero),
        cmocka_unit_test(test_boot_lock_on_access_event),
        cmocka_unit_test(test_linux_kaslr),
        cmocka_unit_test(test_linux_direct_map),
        cmocka_unit_test(test_linux_program_integrity),
        cmocka_unit_test(test_linux_program_integrity_exec),
        cmocka_unit_test(test_linux_program_integrity_not_named),
        cmocka_unit_test(test_linux_program_integrity_in_place),
        cmocka_unit_test(test_linux_hidden),
        cmocka_unit_test(test_linux_hidden_module),
        cmocka_unit_test(test_linux_exec_watch),
        cmocka_unit_test(test_linux_raw_socket),
        cmocka_unit_test(test_linux_raw_socket_allow),
        cmocka_unit_test(test_linux_io_guard_program),
        cmocka_unit_test(test_linux_hidden_between_walks),
        cmocka_unit_test(test_linux_exiting_task),
        cmocka_unit_test(test_linux_exiting_flood),
        cmocka_unit_test(test_linux_hidden_sampled),
        cmocka_unit_test(test_linux_kernel_half_slices),
        cmocka_unit_test(test_linux_kernel_half_same_rounds),
        cmocka_unit_test(test_linux_kaslr_wrong),
        cmocka_unit_test(test_linux_kaslr_msr_guard_off),
        cmocka_unit_test(test_linux_text),
        cmocka_unit_test(test_remap_guard),
        cmocka_unit_test(test_remap_guard_alert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
