/* critical-tables: the system-call table, the IDT and the GDT are write-
 * protected in EPT once the kernel has booted, and hashed; the IDTR and GDTR
 * keep their boot-time values. A write to a table, a LIDT/LGDT to another
 * table, or contents that changed by a path EPT did not see (the periodic
 * hash) are reported.
 *
 * Each vCPU has its own registers. Those of the vCPU the boot lock comes on
 * are locked then (vCPU 0's, or on Linux maybe the second CPU's); another
 * vCPU's when it first holds the kernel's IDT (it set up its own tables on
 * the way: a started processor begins in real mode), with its
 * GDTR as it stands then (an OS may give each CPU a GDT of its own). A vCPU
 * the guest starts again (INIT, SIPI) is unlocked until it is back. One that
 * runs for AP_LOCK_TICKS of its own ticks without ever holding the kernel's
 * IDT runs on tables of its own (a CPU a rootkit started for itself): that
 * is reported. */
#include "ids/engine.h"
#include "lib/hash.h"
#include "ids/xlate.h"
#include "vmm/introspect.h"
#include "vmm/guestmem.h"
#include "lib/log.h"

struct table {
    const char *sym, *what;
    u64 gpa, size;
    u64 hash;
    bool ok;
};

static struct table tables[3] = {
    { "syscall_table", "system-call table", 0, 0, 0, false },
    { "idt", "IDT", 0, 0, 0, false },
    { "gdt", "GDT", 0, 0, 0, false },
};
/* Rehash every HASH_EVERY ticks; the registers are compared every tick. */
#define HASH_EVERY 10

static u64 idtr_base;                   /* the kernel's IDT: the same on every vCPU */
static u16 idtr_limit;
static struct vcpu_dtr {
    bool idt_locked, gdt_locked;
    u64 gdtr_base;
    u16 gdtr_limit;
    u32 unlocked_ticks;                 /* ticks of this vCPU since it started, while unlocked */
    bool had_gdt;                       /* its GDTR at its first lock (a restart keeps it) */
    u64 first_gdtr_base;
    u16 first_gdtr_limit;
} vc[IDS_MAX_VCPUS];
#define AP_LOCK_TICKS 100               /* 1 s: an OS's CPU holds its IDT within milliseconds */

static struct vcpu_dtr *of(const struct ids_event *e) { return &vc[e->vcpu < IDS_MAX_VCPUS ? e->vcpu : 0]; }

static u64 hash_table(const struct table *t)
{
    const u64 *p = guestmem_map(t->gpa, t->size);
    return p ? fnv64_qwords(FNV64_BASIS, p, t->size / 8) : 0;
}

/* The CPU sets a descriptor's accessed bit itself the first time a segment
 * register is loaded from it: an implicit write that EPT would report. Set
 * them all now, as the CPU would on first use, so that after boot only an
 * explicit write can change the GDT. */
static u32 preset_accessed(u64 gpa, u64 limit)
{
    u32 n = 0;
    for (u64 off = 0; off + 8 <= limit + 1 && off < 65536; off += 8) {
        u64 d;
        if (!guestmem_read(gpa + off, &d, 8))
            break;
        bool present = d >> 47 & 1, code_data = d >> 44 & 1, accessed = d >> 40 & 1;
        if (present && code_data && !accessed) {
            d |= 1ull << 40;
            guestmem_write(gpa + off, &d, 8);
            n++;
        }
    }
    return n;
}

/* Protect and hash table i, placed by the profile. */
static bool protect_table(u32 i)
{
    struct table *t = &tables[i];
    if (!ids_protect_object(POL_CRITICAL_TABLES, t->sym, t->what, false, i, &t->gpa, &t->size))
        return false;
    t->hash = hash_table(t);
    t->ok = true;
    kprintf("vigil: critical-tables: %s at gpa 0x%llx (%llu bytes) write-protected and hashed\n", t->what,
            (unsigned long long)t->gpa, (unsigned long long)t->size);
    return true;
}

/* The system-call table lives in read-only data, which the kernel never
 * writes: it is protected before the guest runs. */
static void start(void)
{
    if (ids.have_profile && !ids.prof.kaslr)
        protect_table(0);
    else if (ids.have_profile)
        kprintf("vigil: critical-tables: the kernel moves at boot (KASLR): its tables are write-protected at the "
                "boot lock\n");
}

/* The GDT is locked once the GDTR holds the kernel's own GDT (the profile's
 * `gdt`), which may come after the IDT: a kernel may still be on a boot-time
 * GDT when it loads its IDT. Without the symbol, the register is locked as
 * it stands. */
static u64 gdt_kva;

static void lock_gdt(struct vcpu_dtr *d, u32 vcpu, u64 base, u16 limit)
{
    d->gdtr_base = base;
    d->gdtr_limit = limit;
    d->gdt_locked = true;
    if (vcpu) {
        kprintf("vigil: critical-tables: vCPU %u: IDTR and GDTR 0x%llx/0x%x locked\n", vcpu,
                (unsigned long long)base, limit);
        return;
    }
    if (gdt_kva && protect_table(2)) {
        u64 bytes = (u64)limit + 1 < tables[2].size ? (u64)limit + 1 : tables[2].size;
        u32 n = preset_accessed(tables[2].gpa, bytes - 1);
        tables[2].hash = hash_table(&tables[2]);
        if (n)
            kprintf("vigil: critical-tables: set the accessed bit of %u GDT descriptors (the CPU would on first use)\n", n);
    }
    kprintf("vigil: critical-tables: GDTR 0x%llx/0x%x locked\n", (unsigned long long)base, limit);
    xlate_guard(POL_CRITICAL_TABLES, "GDTR base", base, (u64)limit + 1);   /* where it points keeps its frame */
}

/* A vCPU (other than the one the boot lock came on) whose IDTR is (or is
 * being loaded with) the kernel's IDT has finished its own start-up: its
 * registers lock, the GDTR as it stands. */
static bool lock_ap(const struct ids_event *e, u64 idt_base, u16 idt_limit)
{
    struct vcpu_dtr *d = of(e);
    if (d->idt_locked)
        return true;
    if (idt_base != idtr_base || idt_limit != idtr_limit)
        return false;
    u64 ib, gb;
    u16 il, gl;
    vmm_guest_dtr(&ib, &il, &gb, &gl);
    d->idt_locked = true;
    /* Started again (INIT-SIPI): the same kernel onlining the same CPU
     * comes back to the same GDT; a rootkit that restarted the CPU into code
     * of its own, on a GDT of its own, does not. A block puts the first one
     * back before the vCPU loads a segment from it. */
    if (d->had_gdt && (gb != d->first_gdtr_base || gl != d->first_gdtr_limit)) {
        struct ids_verdict v = ids_raise(POL_CRITICAL_TABLES, e, 0x300 + e->vcpu, &gb, 0,
                                         "vCPU %u started again on a GDT at 0x%llx (limit 0x%x); it first ran on "
                                         "0x%llx (limit 0x%x)", e->vcpu, (unsigned long long)gb, gl,
                                         (unsigned long long)d->first_gdtr_base, d->first_gdtr_limit);
        if (v.action != IDS_ALLOW) {
            vmm_set_guest_dtr(false, d->first_gdtr_base, d->first_gdtr_limit);
            gb = d->first_gdtr_base;
            gl = d->first_gdtr_limit;
        }
    }
    if (!d->had_gdt) {
        d->had_gdt = true;
        d->first_gdtr_base = gb;
        d->first_gdtr_limit = gl;
    }
    lock_gdt(d, e->vcpu, gb, gl);
    return true;
}

static void vcpu_start(const struct ids_event *e)
{
    if (e->vcpu) {
        struct vcpu_dtr *d = of(e);
        *d = (struct vcpu_dtr){ .had_gdt = d->had_gdt, .first_gdtr_base = d->first_gdtr_base,
                                .first_gdtr_limit = d->first_gdtr_limit };
    }
}

/* Linux: each CPU's GDT is its per-CPU gdt_page (the GDTR holds its
 * read-only alias in the CPU entry area, whose translation is guarded). The
 * kernel rewrites the three TLS descriptors (12-14) at every context switch
 * (they are the running thread's), so the page is not trapped: that would be
 * three exits a switch. The other descriptors of every CPU the guest has
 * (the first LX_GDT_CPUS) are compared with the boot lock's every
 * HASH_EVERY ticks and put back where the policy blocks. */
#define LX_GDT_N 16
#define LX_GDT_CPUS 8
#define LX_TLS_FIRST 12
#define LX_TLS_LAST 14
#define DESC_ACCESSED (1ull << 40)
static struct { bool on; u64 va, gpa; u64 d[LX_GDT_N]; } lx_gdt[LX_GDT_CPUS];

static void linux_gdt(void)
{
    u64 off;
    if (!profile_is_linux(&ids.prof) || !profile_const(&ids.prof, "percpu.gdt_page", &off))
        return;
    u32 n = vmm_vcpu_count() < LX_GDT_CPUS ? vmm_vcpu_count() : LX_GDT_CPUS;
    for (u32 cpu = 0; cpu < n; cpu++) {
        u64 pcpu = 0, va;
        struct pt_walk w;
        if (!vmi_read_kernel(0, profile_sym(&ids.prof, "__per_cpu_offset") + 8 * cpu, &pcpu, 8) || !pcpu)
            continue;                                /* a CPU Linux has no area for */
        va = pcpu + off;
        if (!ids.kernel_cr3 || !vmi_translate(ids.kernel_cr3, va, &w) || (w.gpa & 0xfff) + 8 * LX_GDT_N > 4096 ||
            !guestmem_read(w.gpa, lx_gdt[cpu].d, sizeof(lx_gdt[cpu].d))) {
            log_warn("vigil: critical-tables: CPU %u's GDT (gdt_page at 0x%llx) does not translate; not checked\n",
                     cpu, (unsigned long long)va);
            continue;
        }
        lx_gdt[cpu].on = true;
        lx_gdt[cpu].va = va;
        lx_gdt[cpu].gpa = w.gpa;
        kprintf("vigil: critical-tables: CPU %u's GDT (gdt_page at 0x%llx, gpa 0x%llx): descriptors 0-%u and %u-%u "
                "compared every %u ticks (%u-%u are the running thread's TLS)\n", cpu, (unsigned long long)va,
                (unsigned long long)w.gpa, LX_TLS_FIRST - 1, LX_TLS_LAST + 1, LX_GDT_N - 1, HASH_EVERY, LX_TLS_FIRST,
                LX_TLS_LAST);
    }
}

static void linux_gdt_check(const struct ids_event *e)
{
    for (u32 cpu = 0; cpu < LX_GDT_CPUS; cpu++) {
        u64 now[LX_GDT_N];
        if (!lx_gdt[cpu].on || !guestmem_read(lx_gdt[cpu].gpa, now, sizeof(now)))
            continue;
        for (u32 i = 0; i < LX_GDT_N; i++) {
            if ((i >= LX_TLS_FIRST && i <= LX_TLS_LAST) || !((now[i] ^ lx_gdt[cpu].d[i]) & ~DESC_ACCESSED))
                continue;
            u64 va = lx_gdt[cpu].va + 8 * i, gpa = lx_gdt[cpu].gpa + 8 * i;
            struct ids_verdict v = ids_raise_fixed(POL_CRITICAL_TABLES, e, 0x300 + 16 * cpu + i, &va, &gpa,
                                                   "GDT descriptor %u of CPU %u changed: 0x%016llx (was 0x%016llx)", i,
                                                   cpu, (unsigned long long)now[i],
                                                   (unsigned long long)lx_gdt[cpu].d[i]);
            if (v.action != IDS_ALLOW)
                guestmem_write(gpa, &lx_gdt[cpu].d[i], 8);
            else
                lx_gdt[cpu].d[i] = now[i];
        }
    }
}

static void boot_done(const struct ids_event *e)
{
    u64 gb;
    u16 gl;
    vmm_guest_dtr(&idtr_base, &idtr_limit, &gb, &gl);
    if (!ids.have_profile)
        log_warn("vigil: critical-tables: no profile, so only the IDTR/GDTR registers are watched\n");
    else if (ids.prof.kaslr)
        protect_table(0), protect_table(1), linux_gdt();   /* a kaslr profile is placed by now */
    else
        protect_table(1);
    kprintf("vigil: critical-tables: IDTR 0x%llx/0x%x locked\n", (unsigned long long)idtr_base, idtr_limit);
    u64 size;
    if (!ids.have_profile || !profile_symbol(&ids.prof, "gdt", &gdt_kva, &size))
        gdt_kva = 0;
    /* The registers of the vCPU the lock came on (any: Linux may lock on
     * its second CPU's first process); the others lock as lock_ap says. */
    struct vcpu_dtr *d = of(e);
    d->idt_locked = true;
    if (!gdt_kva || gb == gdt_kva)
        lock_gdt(d, e->vcpu, gb, gl);
}

static struct ids_verdict event(const struct ids_event *e)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    if (e->type == IDS_EV_DTR_LOAD) {
        struct vcpu_dtr *d = of(e);
        if (!ids.boot_done)
            return v;
        if (!d->idt_locked) {
            /* A vCPU still starting: its loads are its own start-up; it
             * locks once it loads the kernel's IDT. */
            if (e->dtr.idt)
                lock_ap(e, e->dtr.base, e->dtr.limit);
            return v;
        }
        if (!e->dtr.idt && !d->gdt_locked) {
            if (e->dtr.base == gdt_kva)
                lock_gdt(d, e->vcpu, e->dtr.base, e->dtr.limit);   /* the kernel's own GDT arriving */
            return v;
        }
        u64 base = e->dtr.idt ? idtr_base : d->gdtr_base;
        u16 limit = e->dtr.idt ? idtr_limit : d->gdtr_limit;
        if (e->dtr.base == base && e->dtr.limit == limit)
            return v;
        v = ids_raise(POL_CRITICAL_TABLES, e, e->dtr.idt ? 1 : 2, &e->dtr.base, 0,
                      "%s switched to a table at 0x%llx (limit 0x%x); the boot-time one is at 0x%llx",
                      e->dtr.idt ? "IDTR" : "GDTR", (unsigned long long)e->dtr.base, e->dtr.limit,
                      (unsigned long long)base);
        return v;
    }
    const struct ids_object *o = ids_object_of(e);
    u64 gpa = e->ept.gpa, off = gpa - o->start;
    if (!(e->ept.access & IDS_WRITE))
        return v;
    if (o->arg == 0)
        v = ids_raise(POL_CRITICAL_TABLES, e, gpa & ~7ull, e->ept.gva_valid ? &e->ept.gva : 0, &gpa,
                      "write to the system-call table, entry %llu", (unsigned long long)(off / 8));
    else if (o->arg == 1)
        v = ids_raise(POL_CRITICAL_TABLES, e, gpa & ~7ull, e->ept.gva_valid ? &e->ept.gva : 0, &gpa,
                      "write to the IDT, vector %llu", (unsigned long long)(off / 16));
    else
        v = ids_raise(POL_CRITICAL_TABLES, e, gpa & ~7ull, e->ept.gva_valid ? &e->ept.gva : 0, &gpa,
                      "write to the GDT, descriptor 0x%llx", (unsigned long long)(off & ~7ull));
    if (v.action != IDS_ALLOW)
        v.skip_len = ids_insn_len(e);
    return v;
}

/* A descriptor-table register found changed without a trapped LIDT/LGDT
 * (no descriptor-table exiting): judged as a load; a block puts the locked
 * value back. */
static void check_register(const struct ids_event *e, bool idt, u64 base, u16 limit, u64 *lbase, u16 *llimit)
{
    if (base == *lbase && limit == *llimit)
        return;
    struct ids_event d = *e;
    d.type = IDS_EV_DTR_LOAD;
    d.dtr.idt = idt;
    d.dtr.base = base;
    d.dtr.limit = limit;
    if (event(&d).action != IDS_ALLOW) {
        vmm_set_guest_dtr(idt, *lbase, *llimit);
    } else {
        *lbase = base;
        *llimit = limit;
    }
}

/* Periodic: contents that changed although no trapped write changed them
 * (a device's DMA, say), and descriptor-table registers changed without a
 * trapped LIDT/LGDT. */
static void tick(const struct ids_event *e)
{
    if (!ids.boot_done)
        return;
    for (u32 i = 0; i < 3 && e->vcpu == 0 && ids.ticks % HASH_EVERY == 0; i++) {
        struct table *t = &tables[i];
        if (!t->ok)
            continue;
        u64 h = hash_table(t);
        if (h != t->hash) {
            ids_raise_action(POL_CRITICAL_TABLES, ACT_ALERT, e, 0x100 + i, 0, &t->gpa,
                             i == 0 ? "system-call table contents changed (hash)"
                             : i == 1 ? "IDT contents changed (hash)" : "GDT contents changed (hash)");
            t->hash = h;
        }
    }
    if (e->vcpu == 0 && ids.ticks % HASH_EVERY == 0)
        linux_gdt_check(e);
    struct vcpu_dtr *d = of(e);
    u64 ib, gb;
    u16 il, gl;
    vmm_guest_dtr(&ib, &il, &gb, &gl);
    if (!lock_ap(e, ib, il)) {
        /* Still starting, or running on tables of its own. */
        if (++d->unlocked_ticks == AP_LOCK_TICKS)
            ids_raise(POL_CRITICAL_TABLES, e, 0x200 + e->vcpu, &ib, 0,
                      "vCPU %u ran %u ticks on its own IDT 0x%llx/0x%x, never the kernel's 0x%llx",
                      e->vcpu, AP_LOCK_TICKS, (unsigned long long)ib, il, (unsigned long long)idtr_base);
        return;
    }
    check_register(e, true, ib, il, &idtr_base, &idtr_limit);
    if (d->gdt_locked)
        check_register(e, false, gb, gl, &d->gdtr_base, &d->gdtr_limit);
    else if (gb == gdt_kva)
        lock_gdt(d, e->vcpu, gb, gl);
}

const struct policy_ops pol_critical_tables = {
    .id = POL_CRITICAL_TABLES, .start = start, .boot_done = boot_done, .event = event, .tick = tick,
    .vcpu_start = vcpu_start,
};
