/* The translation guard (ids/xlate.h). EPT protects guest-physical frames,
 * but the guest's page tables say which frame a virtual address means: a
 * rootkit can copy a protected page, patch the copy, and repoint the PTE (or
 * an entry above it, or one address space's top-level entry) at it. At the
 * boot lock the chain of entries through which the kernel maps each page of
 * each protected object is recorded (ids/xref.c), and the table pages that
 * hold them are write-protected in EPT. A write to such a page goes through
 * the step window, and once it has run the guarded entries of that page are
 * compared with the reference: a changed one is reported and, where the
 * policy blocks, put back before any other guest instruction runs (the other
 * vCPUs are held while the page is open). Writes to the other entries of
 * those pages cost the exits and no alert. A new address space gets its own
 * top-level page, which EPT does not guard: its entries over the protected
 * objects are compared on every CR3 load, before the load takes effect. */
#include "ids/xlate.h"
#include "ids/xref.h"
#include "ids/engine.h"
#include "vmm/introspect.h"
#include "lib/log.h"
#include "lib/string.h"
#include "arch/x86_64/cpu.h"

static struct xref ref;
static bool armed;
static u32 top[8], ntop;                 /* the reference's PML4Es: indexes in ref.e */
static u64 n_writes, n_checks, n_changes, n_cr3;
static u64 cyc_writes;                   /* the IDS's cycles in both looks at each write */
/* Top-level pages already found to be guest RAM (which never changes, and
 * guestmem_map's pointers stay valid): the CR3 path maps each once. */
#define TOPS 64
static struct { u64 cr3; const volatile u64 *page; } tops[TOPS];

static bool add(enum policy_id id, const char *sym, const char *what, u64 va, u64 len, const struct pt_paging *pg)
{
    char err[160];
    if (!ids_policy_on(id))
        return false;
    if (sym && !profile_symbol(&ids.prof, sym, &va, &len))
        return false;                               /* the policy said so when it protected the object */
    if (xref_add(&ref, pg, vmi_map, 0, what, va, len, id, err, sizeof(err))) {
        log_warn("vigil: %s: the translation of the %s is not guarded: %s\n", policy_name(id), what, err);
        return false;
    }
    return true;
}

/* Write-protect the table pages from `from` on; false (named, and the vCPU
 * stops: fail closed) if one cannot be. */
static bool trap_tables(u32 from)
{
    enum policy_id owner = ids_policy_on(POL_KERNEL_TEXT) ? POL_KERNEL_TEXT : POL_CRITICAL_TABLES;
    for (u32 t = from; t < ref.ntables; t++)
        if (!ids_trap_pages(owner, ref.tables[t], 4096, IDS_WRITE, "page table on a protected translation",
                            XLATE_ARG + t))
            return false;
    ntop = 0;
    for (u32 i = 0; i < ref.n && ntop < ARRAY_SIZE(top); i++)
        if (ref.e[i].level == 4)
            top[ntop++] = i;
    return true;
}

/* Linux under KPTI: the user half of each PGD pair (the PGD + 4 KiB) maps
 * of the kernel only its entry code and the CPU entry area, through table
 * pages of its own; its entries are not the kernel's and are not compared
 * (its kernel half is, on the kernel CR3 of the same process). */
static u64 user_pgd;

void xlate_boot(const struct ids_event *e)
{
    (void)e;
    if (!ids.have_profile || !profile_is_linux(&ids.prof) || !profile_const(&ids.prof, "pti_user_pgd_offset", &user_pgd))
        user_pgd = 0;
    xref_init(&ref);
    memset(tops, 0, sizeof(tops));
    armed = false;
    ntop = 0;
    if (!ids.have_profile)
        return;                                     /* the policies said so: nothing is placed */
    if (!ids.kernel_cr3) {
        log_warn("vigil: IDS: the kernel's page-table root is unknown (no kernel_pml4 in the profile): the "
                 "translations of protected objects are not guarded\n");
        return;
    }
    struct pt_paging pg;
    vmi_paging(ids.kernel_cr3, &pg);
    u64 ib, gb;
    u16 il, gl;
    vmm_guest_dtr(&ib, &il, &gb, &gl);
    add(POL_KERNEL_TEXT, "kernel_text", "kernel text", 0, 0, &pg);
    add(POL_KERNEL_TEXT, "kernel_rodata", "kernel read-only data", 0, 0, &pg);
    add(POL_CRITICAL_TABLES, "syscall_table", "system-call table", 0, 0, &pg);
    add(POL_CRITICAL_TABLES, "idt", "IDT", 0, 0, &pg);
    add(POL_CRITICAL_TABLES, "gdt", "GDT", 0, 0, &pg);
    add(POL_CRITICAL_TABLES, 0, "IDTR base", ib, (u64)il + 1, &pg);      /* the boot lock is the IDTR's */
    /* The GDTR's, if critical-tables locked it with the IDTR (else when it
     * does: xlate_guard). */
    u64 gdt_kva;
    if (!profile_symbol(&ids.prof, "gdt", &gdt_kva, 0) || gb == gdt_kva)
        add(POL_CRITICAL_TABLES, 0, "GDTR base", gb, (u64)gl + 1, &pg);
    if (!ref.n || !trap_tables(0))
        return;
    armed = true;
    kprintf("vigil: IDS: translations of %u protected objects guarded: %u entries in %u page-table pages "
            "write-protected, %u top-level entries checked on every CR3 load\n", ref.nobjs, ref.n, ref.ntables,
            ntop);
}

void xlate_guard(enum policy_id id, const char *what, u64 va, u64 len)
{
    if (!armed)
        return;
    struct pt_paging pg;
    vmi_paging(ids.kernel_cr3, &pg);
    u32 from = ref.ntables;
    if (add(id, 0, what, va, len, &pg) && trap_tables(from))
        kprintf("vigil: IDS: the translation of the %s 0x%llx guarded too: %u entries in %u page-table pages\n",
                what, (unsigned long long)va, ref.n, ref.ntables);
}

/* Entry k now holds `now` at guest-physical `at`: report it to each policy
 * owning an object through it; put the reference back if one blocks (else
 * the new value is the reference: reported once). */
static void judge(const struct ids_event *e, u32 k, u64 at, u64 now, bool shared)
{
    struct xref_entry *x = &ref.e[k];
    bool restore = false, accept = false;
    n_changes++;
    for (u32 p = 0; p < 2; p++) {
        enum policy_id id = p ? POL_CRITICAL_TABLES : POL_KERNEL_TEXT;
        const struct xref_object *o = 0;
        for (u32 i = 0; i < ref.nobjs && !o; i++)
            if ((x->objs >> i & 1) && ref.obj[i].owner == id)
                o = &ref.obj[i];
        if (!o || !ids_policy_on(id))
            continue;
        u64 va = x->va < o->va ? o->va & ~0xfffull : x->va;
        struct ids_verdict v = ids_raise_fixed(id, e, at, &va, &at, "remap of %s: %s %sfor 0x%llx now 0x%llx (was 0x%llx)",
                                               o->what, xref_level_name(x->level), shared ? "" : "of this space ",
                                               (unsigned long long)va, (unsigned long long)now,
                                               (unsigned long long)x->value);
        if (v.action != IDS_ALLOW)
            restore = true;
        else
            accept = true;
    }
    if (restore) {
        guestmem_write(at, &x->value, 8);
        /* Found by a tick, the new entry may have been used (and cached):
         * every vCPU forgets it. (A write the IDS saw, or a CR3 load, was
         * judged before any use.) */
        if (e->type == IDS_EV_TICK)
            vmm_flush_guest_translations();
    }
    else if (accept && shared)
        x->value = now;
}

/* Compare the guarded entries of table page t with the reference. */
static void check_table(const struct ids_event *e, u32 t)
{
    const u64 *now = guestmem_map(ref.tables[t], 4096);
    u32 bad[16];
    n_checks++;
    if (!now)
        return;
    u32 n = xref_changed(&ref, ref.tables[t], now, bad, ARRAY_SIZE(bad));
    for (u32 i = 0; i < n; i++) {
        const struct xref_entry *x = &ref.e[bad[i]];
        judge(e, bad[i], x->table + 8ull * x->index, now[x->index], true);
    }
}

struct ids_verdict xlate_event(const struct ids_event *e, u32 t)
{
    struct ids_verdict v = { IDS_ALLOW, 0, 0 };
    if (!armed || t >= ref.ntables || !(e->ept.access & IDS_WRITE))
        return v;
    u64 t0 = rdtsc();
    if (!e->ept.after) {
        n_writes++;
        v.skip_len = IDS_RECHECK;                   /* the entry it writes is judged once it is written */
    } else {
        check_table(e, t);
    }
    cyc_writes += rdtsc() - t0;
    return v;
}

/* The top-level entries of address space cr3 over the protected objects. */
static void check_top(const struct ids_event *e, u64 cr3)
{
    cr3 &= PT_ADDR_MASK;
    if (cr3 == ids.kernel_cr3)
        return;                                     /* its page is write-protected */
    if (user_pgd && (cr3 & user_pgd))
        return;                                     /* KPTI's user PGD: maps only the entry code, its own way */
    u32 slot = (u32)(cr3 >> 12) % TOPS;
    if (tops[slot].cr3 != cr3 || !tops[slot].page) {
        const volatile u64 *p = guestmem_map(cr3, 4096);
        if (!p)
            return;                                 /* not guest RAM: the CPU cannot walk it either */
        tops[slot].cr3 = cr3;
        tops[slot].page = p;
    }
    for (u32 i = 0; i < ntop; i++) {
        const struct xref_entry *x = &ref.e[top[i]];
        u64 now = tops[slot].page[x->index];        /* read once: the guest may be changing it */
        /* Not present: the space does not map the objects at all (the
         * kernel cannot run there); no other frame stands in for them. */
        if ((now & 1) && !xref_same(x, now))
            judge(e, top[i], cr3 + 8ull * x->index, now, false);
    }
}

void xlate_cr3(const struct ids_event *e, u64 cr3)
{
    if (!armed)
        return;
    n_cr3++;
    check_top(e, cr3);
}

void xlate_tick(const struct ids_event *e)
{
    if (!armed)
        return;
    check_top(e, e->cr3);                           /* the running space's own, every tick of every vCPU */
    if (e->vcpu != 0 || ids.ticks % 10)
        return;
    for (u32 t = 0; t < ref.ntables; t++)
        check_table(e, t);
}

void xlate_summary(void)
{
    if (!armed)
        return;
    kprintf("vigil: IDS: translation guard: %u entries in %u tables; %llu writes to them checked, %llu CR3 loads "
            "checked, %llu changes found\n", ref.n, ref.ntables, (unsigned long long)n_writes,
            (unsigned long long)n_cr3, (unsigned long long)n_changes);
    if (n_writes)
        kprintf("vigil: IDS: translation guard: %llu IDS cycles per write checked (both looks)\n",
                (unsigned long long)(cyc_writes / n_writes));
}
