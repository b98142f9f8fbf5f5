/* hostile: a multiboot2 guest that tries what a guest must not be able to do
 * to its hypervisor, checks each outcome itself and prints one line per test
 * on COM2:
 *
 *     HOSTILE <test> expect=<x> got=<y> ok|FAIL
 *
 * x and y are an exception ("#UD", "#GP", ...), "none" (no fault) or a value.
 * A fault also reports, when they are not what hardware would give, its error
 * code "(err=0x..)" and the RIP it was delivered with "(rip=probe+N)": faults
 * must point AT the faulting instruction. Expectations follow what the guest
 * observes (CPUID bits, MSR values, CR4), never "am I under vigil". See
 * tests/guests/README.md for the list and what vigil should make of each.
 *
 * It ends with "HOSTILE summary passed=<n> failed=<m>", then
 * "HOSTILE triple-fault now" and a deliberate triple fault.
 */
#include <stdint.h>
#include <stddef.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define MB2_BOOT_MAGIC 0x36d76289u
#define COM1 0x3f8
#define COM2 0x2f8
#define NONE (-1)

/* hostile_entry.asm */
extern s64 probe_vmxon(void), probe_vmxoff(void), probe_vmclear(void), probe_vmptrld(void),
    probe_vmptrst(void), probe_vmread(void), probe_vmwrite(void), probe_vmlaunch(void),
    probe_vmresume(void), probe_invept(void), probe_invvpid(void), probe_vmcall(void),
    probe_vmfunc(void), probe_ud2(void);
extern s64 probe_rdmsr(u32 msr, u64 *value);
extern s64 probe_wrmsr(u32 msr, u64 value);
extern s64 probe_xsetbv(u32 xcr, u64 value);
extern s64 probe_xgetbv(u32 xcr, u64 *value);
extern s64 probe_cpuid(u32 leaf, u32 subleaf, u32 out[4]);
extern s64 probe_read64(u64 addr, u64 *value);
extern s64 probe_write64(u64 addr, u64 value);
extern s64 probe_write_cr4(u64 value);
extern s64 probe_inb(u16 port, u8 *value);
extern s64 probe_outb(u16 port, u8 value);
extern void triple_fault(void);
extern const u64 isr_table[32];
extern volatile u64 fault_err, fault_rip, probe_rip;

void hostile_main(u32 magic, u32 info);
void hostile_fatal(const u64 *frame);

/* ------------------------------------------------------------------ I/O */

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void serial_init(void)
{
    outb(COM2 + 1, 0x00);   /* no interrupts */
    outb(COM2 + 3, 0x80);   /* DLAB */
    outb(COM2 + 0, 0x01);   /* 115200 baud */
    outb(COM2 + 1, 0x00);
    outb(COM2 + 3, 0x03);   /* 8N1 */
    outb(COM2 + 2, 0xc7);   /* FIFOs on, cleared */
    outb(COM2 + 4, 0x03);   /* DTR, RTS */
}

static void putc_(char c)
{
    for (int i = 0; i < 200000; i++)
        if (inb(COM2 + 5) & 0x20)
            break;
    outb(COM2, (u8)c);
}

/* Waits (bounded) until COM2 has sent everything (LSR.TEMT): before a
 * power-off or the triple fault, so that the last line is not cut off. */
static void serial_drain(void)
{
    for (int i = 0; i < 200000; i++)
        if (inb(COM2 + 5) & 0x40)
            break;
}

static void puts_(const char *s)
{
    while (*s) {
        if (*s == '\n')
            putc_('\r');
        putc_(*s++);
    }
}

static void put_hex(u64 v, int digits)
{
    puts_("0x");
    for (int i = digits - 1; i >= 0; i--)
        putc_("0123456789abcdef"[(v >> (i * 4)) & 15]);
}

static void put_hexv(u64 v)     /* shortest form */
{
    int d = 1;
    while (d < 16 && (v >> (d * 4)))
        d++;
    put_hex(v, d);
}

static void put_dec(u64 v)
{
    char b[21];
    int n = 0;
    do {
        b[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        putc_(b[--n]);
}

/* Small string building for the "got=" fields. */
struct sbuf { char s[96]; int n; };

static void sb_puts(struct sbuf *b, const char *s)
{
    while (*s && b->n < (int)sizeof b->s - 1)
        b->s[b->n++] = *s++;
    b->s[b->n] = 0;
}

static void sb_hex(struct sbuf *b, u64 v)
{
    char t[19] = "0x";
    int d = 1, n = 2;
    while (d < 16 && (v >> (d * 4)))
        d++;
    for (int i = d - 1; i >= 0; i--)
        t[n++] = "0123456789abcdef"[(v >> (i * 4)) & 15];
    t[n] = 0;
    sb_puts(b, t);
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* ------------------------------------------------------------ outcomes */

static const char *const vec_name[32] = {
    "#DE", "#DB", "#NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP",
    "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
    "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

/* The outcome of a probe as text: "none", or the exception with anything
 * hardware would not have given: a non-zero error code, a RIP other than the
 * probed instruction's. */
static void outcome(struct sbuf *b, s64 vec)
{
    b->n = 0;
    b->s[0] = 0;
    if (vec == NONE) {
        sb_puts(b, "none");
        return;
    }
    if (vec >= 0 && vec < 32)
        sb_puts(b, vec_name[vec]);
    else
        sb_puts(b, "?");
    if (fault_err) {
        sb_puts(b, "(err=");
        sb_hex(b, fault_err);
        sb_puts(b, ")");
    }
    if (fault_rip != probe_rip) {
        sb_puts(b, "(rip=probe");
        if (fault_rip > probe_rip) {
            sb_puts(b, "+");
            sb_hex(b, fault_rip - probe_rip);
        } else {
            sb_puts(b, "-");
            sb_hex(b, probe_rip - fault_rip);
        }
        sb_puts(b, ")");
    }
}

static unsigned passed, failed;

static void result(const char *test, const char *expect, const char *got)
{
    int ok = streq(expect, got);
    puts_("HOSTILE ");
    puts_(test);
    puts_(" expect=");
    puts_(expect);
    puts_(" got=");
    puts_(got);
    puts_(ok ? " ok\n" : " FAIL\n");
    if (ok)
        passed++;
    else
        failed++;
}

static void check(const char *test, const char *expect, s64 vec)
{
    struct sbuf b;
    outcome(&b, vec);
    result(test, expect, b.s);
}

/* "name-0x<hex>" */
static const char *name_hex(struct sbuf *b, const char *name, u64 v)
{
    b->n = 0;
    b->s[0] = 0;
    sb_puts(b, name);
    sb_puts(b, "-");
    sb_hex(b, v);
    return b->s;
}

/* ------------------------------------------------------------ IDT */

struct gate {
    u16 off0, sel;
    u8 ist, type;
    u16 off1;
    u32 off2, zero;
} __attribute__((packed));

static struct gate idt[32] __attribute__((aligned(16)));

static void idt_init(void)
{
    for (int v = 0; v < 32; v++) {
        u64 a = isr_table[v];
        idt[v] = (struct gate){ .off0 = (u16)a, .sel = 0x08, .ist = 0, .type = 0x8e,
                                .off1 = (u16)(a >> 16), .off2 = (u32)(a >> 32), .zero = 0 };
    }
    struct { u16 limit; u64 base; } __attribute__((packed)) d = { sizeof idt - 1, (u64)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

/* ------------------------------------------------------------ power */

static void poweroff(void)
{
    serial_drain();
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (u8)*s);
    outb(0xf4, 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void hostile_fatal(const u64 *frame)
{
    u64 v = frame[0];
    puts_("HOSTILE FATAL unexpected exception ");
    puts_(v < 32 ? vec_name[v] : "?");
    puts_(" vector=");
    put_dec(v);
    puts_(" err=");
    put_hexv(frame[1]);
    puts_(" rip=");
    put_hexv(frame[2]);
    puts_("\n");
    puts_("HOSTILE summary passed=");
    put_dec(passed);
    puts_(" failed=");
    put_dec(failed + 1);
    puts_("\n");
    poweroff();
}

/* ------------------------------------------------------------ CPUID */

static u32 cpuid_max_basic, cpuid_max_ext, cpuid_max_hv;
static int has_vmx, has_hv, has_xsave;

static void cpuid0(u32 leaf, u32 sub, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void put_regs_str(const u32 *regs, int n)    /* n registers as 4*n characters */
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 4; j++) {
            char c = (char)(regs[i] >> (8 * j));
            putc_(c >= 0x20 && c < 0x7f && c != '"' ? c : '.');
        }
}

static void test_cpuid(void)
{
    u32 r[4], vendor[3], sig[3];
    s64 worst = NONE;
    unsigned leaves = 0;

    cpuid0(0, 0, r);
    cpuid_max_basic = r[0];
    vendor[0] = r[1], vendor[1] = r[3], vendor[2] = r[2];
    cpuid0(1, 0, r);
    has_vmx = (r[2] >> 5) & 1;
    has_xsave = (r[2] >> 26) & 1;
    has_hv = (r[2] >> 31) & 1;
    cpuid0(0x80000000, 0, r);
    cpuid_max_ext = r[0];
    cpuid0(0x40000000, 0, r);
    cpuid_max_hv = r[0];
    sig[0] = r[1], sig[1] = r[2], sig[2] = r[3];

    /* The sweep: every leaf with subleaves 0-3, through the probe so that a
     * fault would be caught and reported instead of killing the guest. */
    u32 basic_end = cpuid_max_basic < 0x100 ? cpuid_max_basic : 0xff;
    u32 ext_end = cpuid_max_ext >= 0x80000000u && cpuid_max_ext < 0x80000100u ? cpuid_max_ext : 0x80000000u;
    for (int range = 0; range < 3; range++) {
        u32 lo = range == 0 ? 0 : range == 1 ? 0x80000000u : 0x40000000u;
        u32 hi = range == 0 ? basic_end : range == 1 ? ext_end : 0x40000001u;
        for (u32 leaf = lo; leaf <= hi; leaf++) {
            leaves++;
            for (u32 sub = 0; sub < 4; sub++) {
                s64 v = probe_cpuid(leaf, sub, r);
                if (v != NONE && worst == NONE)
                    worst = v;
            }
        }
    }
    check("cpuid-sweep", "none", worst);

    puts_("HOSTILE cpuid vendor=\"");
    put_regs_str(vendor, 3);
    puts_("\" max-basic=");
    put_hexv(cpuid_max_basic);
    puts_(" max-ext=");
    put_hexv(cpuid_max_ext);
    puts_(" max-hv=");
    put_hexv(cpuid_max_hv);
    puts_(" xsave=");
    put_dec((u64)has_xsave);
    puts_("\n");
    puts_("HOSTILE cpuid leaves=");
    put_dec(leaves);
    puts_(" vmx=");
    put_dec((u64)has_vmx);
    puts_(" hv=");
    put_dec((u64)has_hv);
    puts_(" hvsig=\"");
    put_regs_str(sig, 3);
    puts_("\"\n");

    /* A hypervisor is present when it says so: CPUID.1:ECX bit 31, or a
     * hypervisor leaf range at 0x40000000 (max leaf in 0x40000000-0x400000ff). */
    if (cpuid_max_hv >= 0x40000000u && cpuid_max_hv <= 0x400000ffu)
        has_hv = 1;
}

/* ------------------------------------------------------------ VMX */

static void test_vmx(void)
{
    static const struct { const char *name; s64 (*fn)(void); } t[] = {
        { "vmxon", probe_vmxon }, { "vmxoff", probe_vmxoff }, { "vmclear", probe_vmclear },
        { "vmptrld", probe_vmptrld }, { "vmptrst", probe_vmptrst }, { "vmread", probe_vmread },
        { "vmwrite", probe_vmwrite }, { "vmlaunch", probe_vmlaunch }, { "vmresume", probe_vmresume },
        { "invept", probe_invept }, { "invvpid", probe_invvpid }, { "vmcall", probe_vmcall },
        { "vmfunc", probe_vmfunc },
    };
    /* Without CR4.VMXE (this guest never sets it) every VMX instruction is #UD,
     * and VMCALL/VMFUNC outside VMX non-root operation too; a hypervisor must
     * give the same. */
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        check(t[i].name, "#UD", t[i].fn());
}

/* ------------------------------------------------------------ MSRs */

static void test_msrs(void)
{
    struct sbuf n;
    u64 v;

    static const u32 undefined[] = { 0x0badc0de, 0x40000100, 0xc0011234 };
    for (size_t i = 0; i < sizeof undefined / sizeof undefined[0]; i++) {
        check(name_hex(&n, "rdmsr", undefined[i]), "#GP", probe_rdmsr(undefined[i], &v));
        check(name_hex(&n, "wrmsr", undefined[i]), "#GP", probe_wrmsr(undefined[i], 0));
    }

    /* The VMX capability MSRs exist exactly when CPUID says VMX. 0x480-0x48a
     * (basic, controls, misc, CR0/CR4 fixed bits, VMCS enumeration) always
     * exist with VMX; all are read-only. */
    const char *vmx_expect = has_vmx ? "none" : "#GP";
    for (u32 msr = 0x480; msr <= 0x48a; msr++)
        check(name_hex(&n, "rdmsr", msr), vmx_expect, probe_rdmsr(msr, &v));
    u64 basic = 0;
    probe_rdmsr(0x480, &basic);
    check(name_hex(&n, "wrmsr", 0x480), "#GP", probe_wrmsr(0x480, basic));
    check(name_hex(&n, "wrmsr", 0x486), "#GP", probe_wrmsr(0x486, 0));

    /* IA32_FEATURE_CONTROL: writing it faults when it is locked (bit 0) or
     * does not exist; when it reads back unlocked, writing the same value back
     * is allowed. */
    u64 fc = 0;
    s64 fv = probe_rdmsr(0x3a, &fc);
    const char *fc_expect = (fv != NONE || (fc & 1)) ? "#GP" : "none";
    puts_("HOSTILE msr 0x3a read ");
    if (fv == NONE) {
        put_hexv(fc);
        puts_(fc & 1 ? " (locked)\n" : " (unlocked)\n");
    } else {
        puts_("faulted\n");
    }
    check(name_hex(&n, "wrmsr", 0x3a), fc_expect, probe_wrmsr(0x3a, fv == NONE ? fc : 5));
}

/* ------------------------------------------------------------ CR4.VMXE */

static u64 read_cr4(void)
{
    u64 v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void test_cr4_vmxe(void)
{
    /* Setting CR4.VMXE is #GP when CPUID says there is no VMX. When it is
     * allowed, the guest clears it again at once. */
    u64 cr4 = read_cr4();
    s64 v = probe_write_cr4(cr4 | (1u << 13));
    check("cr4-vmxe", has_vmx ? "none" : "#GP", v);
    if (read_cr4() & (1u << 13))
        probe_write_cr4(read_cr4() & ~(u64)(1u << 13));
}

/* ------------------------------------------------------------ XSETBV */

static void test_xsetbv(void)
{
    const char *bad = "#GP";
    int usable = 0;
    if (has_xsave) {
        probe_write_cr4(read_cr4() | (1u << 18));   /* OSXSAVE */
        usable = (read_cr4() >> 18) & 1;
    }
    puts_("HOSTILE xsave cpuid=");
    put_dec((u64)has_xsave);
    puts_(" cr4.osxsave=");
    put_dec((u64)usable);
    puts_("\n");
    if (!usable)
        bad = "#UD";                    /* XSETBV/XGETBV need CR4.OSXSAVE */

    check("xsetbv-xcr0=0", bad, probe_xsetbv(0, 0));             /* x87 bit must be 1 */
    check("xsetbv-xcr0=0x5", bad, probe_xsetbv(0, 0x5));         /* AVX without SSE */
    check("xsetbv-xcr0-reserved", bad, probe_xsetbv(0, 0x8000000000000003ull));
    check("xsetbv-xcr1", bad, probe_xsetbv(1, 1));               /* only XCR0 is writable */
    check("xsetbv-xcr0=0x3", usable ? "none" : "#UD", probe_xsetbv(0, 3));
    u64 x = 0;
    s64 v = probe_xgetbv(0, &x);
    struct sbuf got;
    if (v == NONE) {
        got.n = 0;
        sb_hex(&got, x);
    } else {
        outcome(&got, v);
    }
    result("xgetbv-xcr0", usable ? "0x3" : "#UD", got.s);
}

/* ------------------------------------------------------------ memory */

struct range { u64 base, len; u32 type; };
#define MAX_RANGES 64
static struct range mmap_[MAX_RANGES];
static unsigned nmmap;

/* Reads the multiboot2 memory map into mmap_, bounds-checked. */
static int read_mmap(u32 magic, u32 info)
{
    if (magic != MB2_BOOT_MAGIC) {
        puts_("HOSTILE magic BAD ");
        put_hexv(magic);
        puts_(" (expected 0x36d76289)\n");
        return 0;
    }
    puts_("HOSTILE magic ok\n");
    if (!info || (info & 7)) {
        puts_("HOSTILE info BAD address\n");
        return 0;
    }
    const u8 *p = (const u8 *)(uintptr_t)info;
    u32 total = *(const u32 *)p;
    if (total < 16 || total > 0x100000) {
        puts_("HOSTILE info BAD total_size\n");
        return 0;
    }
    const u8 *end = p + total;
    for (const u8 *t = p + 8; t + 8 <= end;) {
        u32 type = ((const u32 *)t)[0], size = ((const u32 *)t)[1];
        if (size < 8 || size > (u64)(end - t)) {
            puts_("HOSTILE info BAD tag\n");
            return 0;
        }
        if (type == 0)
            return 1;
        if (type == 6 && size >= 16) {
            u32 esz = ((const u32 *)t)[2];
            if (esz < 24) {
                puts_("HOSTILE info BAD mmap entry size\n");
                return 0;
            }
            for (const u8 *e = t + 16; e + esz <= t + size && nmmap < MAX_RANGES; e += esz) {
                mmap_[nmmap].base = *(const u64 *)e;
                mmap_[nmmap].len = *(const u64 *)(e + 8);
                mmap_[nmmap].type = *(const u32 *)(e + 16);
                nmmap++;
            }
        }
        t += (size + 7) & ~7u;
    }
    puts_("HOSTILE info BAD no end tag\n");
    return 0;
}

#define PATTERN 0x4c495447454c4f48ull   /* "HOLEGTIL" */

static void probe_addr(u64 a, const char *expect)
{
    struct sbuf n, got;
    u64 orig = 0, back = 0;

    s64 r = probe_read64(a, &orig);
    check(name_hex(&n, "probe-read", a), expect, r);

    s64 w = probe_write64(a, PATTERN);
    outcome(&got, w);
    if (w == NONE) {                 /* it went through: check and undo */
        if (probe_read64(a, &back) == NONE && back != PATTERN)
            sb_puts(&got, "(readback differs)");
        if (r == NONE)
            probe_write64(a, orig);
    }
    result(name_hex(&n, "probe-write", a), expect, got.s);
}

static void test_hidden_memory(int have_mmap)
{
    if (!have_mmap) {
        puts_("HOSTILE hidden-ranges n=0 (no memory map)\n");
        return;
    }
    /* The highest available RAM. Hidden ranges: reserved (type != 1) ranges
     * above 1 MiB that start below its end, and type-2 ranges that begin where
     * available RAM ends (a hypervisor's pool at the top of RAM). */
    u64 top = 0;
    for (unsigned i = 0; i < nmmap; i++)
        if (mmap_[i].type == 1 && mmap_[i].base + mmap_[i].len > top)
            top = mmap_[i].base + mmap_[i].len;
    struct range hidden[MAX_RANGES];
    unsigned nh = 0;
    for (unsigned i = 0; i < nmmap; i++) {
        const struct range *m = &mmap_[i];
        if (m->type == 1 || m->base < 0x100000 || !m->len)
            continue;
        int adjacent = 0;
        for (unsigned j = 0; j < nmmap; j++)
            if (mmap_[j].type == 1 && mmap_[j].base + mmap_[j].len == m->base)
                adjacent = 1;
        if (m->base < top || (m->type == 2 && adjacent))
            hidden[nh++] = *m;
    }
    puts_("HOSTILE hidden-ranges n=");
    put_dec(nh);
    puts_(" (available RAM ends at ");
    put_hexv(top);
    puts_(")\n");

    /* Under a hypervisor the ranges it reserves in the guest's map are its own:
     * every access must be refused with #GP. Bare, a reserved range is the
     * firmware's, and the access simply happens. */
    const char *expect = has_hv ? "#GP" : "none";
    for (unsigned i = 0; i < nh; i++) {
        u64 base = hidden[i].base, end = base + hidden[i].len;
        puts_("HOSTILE hidden-range ");
        put_hex(base, 16);
        puts_(" ");
        put_hex(hidden[i].len, 16);
        puts_(" type ");
        put_dec(hidden[i].type);
        puts_("\n");
        if (end > 0x100000000ull) {
            puts_("HOSTILE hidden-range beyond 4 GiB, not mapped, skipped\n");
            continue;
        }
        u64 first = (base + 7) & ~7ull;
        u64 mid = (base + hidden[i].len / 2) & ~0xfffull;
        u64 last = (end - 1) & ~0xfffull;
        if (mid < first)
            mid = first;
        if (last < first)
            last = first;
        probe_addr(first, expect);
        if (mid != first)
            probe_addr(mid, expect);
        if (last != mid && last != first && last + 8 <= end)
            probe_addr(last, expect);
    }
}

/* ------------------------------------------------------------ COM1 */

static void test_forged_alert(void)
{
    static const char line[] =
        "{\"type\":\"alert\",\"seq\":1,\"policy\":\"forged\",\"action\":\"alert\",\"rip\":\"0x0\",\"cr3\":\"0x0\"}\r\n";
    /* Byte by byte, through the probes: a hypervisor may refuse the accesses
     * silently (writes dropped, reads 0xff) or with a fault; either way the
     * guest goes on. The transmitter is polled between bytes, boundedly, with
     * a pause between reads: a port that never says "ready" (a trapped one
     * may read 0x00) is polled 64 times in all, then no more. */
    int dead = 0;
    unsigned faults = 0;
    s64 first_fault = NONE;
    for (const char *s = line; *s; s++) {
        for (int i = 0; !dead; i++) {
            u8 lsr = 0;
            s64 v = probe_inb(COM1 + 5, &lsr);
            if (v != NONE) {
                faults++;
                if (first_fault == NONE)
                    first_fault = v;
                dead = 1;           /* a refused LSR is not polled again */
                break;
            }
            if (lsr & 0x20)
                break;
            if (i == 63)
                dead = 1;
            for (volatile int d = 0; d < 1000; d++)
                ;
        }
        s64 v = probe_outb(COM1, (u8)*s);
        if (v != NONE) {
            faults++;
            if (first_fault == NONE)
                first_fault = v;
        }
    }
    puts_("HOSTILE forged-alert sent\n");
    if (dead || faults) {
        struct sbuf b;
        outcome(&b, first_fault);
        puts_("HOSTILE forged-alert note: ");
        puts_(dead ? "COM1 never ready; " : "");
        put_dec(faults);
        puts_(" accesses faulted, first: ");
        puts_(b.s);
        puts_("\n");
    }
}

/* ------------------------------------------------------------ main */

void hostile_main(u32 magic, u32 info)
{
    serial_init();
    idt_init();
    puts_("HOSTILE hello from the hostile guest\n");
    int have_mmap = read_mmap(magic, info);

    /* The recovery mechanism itself: faults no hypervisor is involved in. */
    u64 x;
    check("ud2", "#UD", probe_ud2());
    check("noncanonical-read", "#GP", probe_read64(0x8000000000000000ull, &x));
    check("noncanonical-write", "#GP", probe_write64(0x8000000000000000ull, 0));

    test_cpuid();
    test_vmx();
    test_msrs();
    test_xsetbv();
    test_hidden_memory(have_mmap);
    test_forged_alert();
    test_cr4_vmxe();    /* last: QEMU's TCG hangs on it when VMX is absent */

    puts_("HOSTILE summary passed=");
    put_dec(passed);
    puts_(" failed=");
    put_dec(failed);
    puts_("\n");
    puts_("HOSTILE triple-fault now\n");
    serial_drain();
    triple_fault();
    puts_("HOSTILE FAIL: still running after the triple fault\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}
