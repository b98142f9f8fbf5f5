#include "ids/vmi.h"
#include "vmm/introspect.h"
#include "lib/string.h"

static const struct profile *prof;
static struct {
    u64 off_pid, off_name, off_cr3, off_next, off_state, off_kstack, size;
    u64 head, pool, npool, state_free, current;
    bool ok, has_state, has_current, has_kstack;
} pl;
static u64 walks;

#define TLB_SIZE 64
static struct { u64 cr3, vpn, gpa_page, gen; bool writable, user, nx; } tlb[TLB_SIZE];
static u64 tlb_gen = 1;                      /* an entry is valid when its gen is current */

const void *vmi_map(void *ctx, u64 gpa)
{
    (void)ctx;
    return guestmem_map(gpa, 4096);
}

void vmi_paging(u64 cr3, struct pt_paging *pg)
{
    memset(pg, 0, sizeof(*pg));
    pg->mode = PT_MODE_4LEVEL;
    pg->cr3 = cr3;
    pg->maxphys = vmm_maxphys();
    pg->nxe = true;
}

void vmi_flush(void)
{
    tlb_gen++;                               /* O(1): the CR3 path calls this on every load */
}

bool vmi_translate(u64 cr3, u64 gva, struct pt_walk *w)
{
    u64 vpn = gva >> 12;
    u32 slot = (u32)(vpn ^ (cr3 >> 12)) % TLB_SIZE;
    cr3 &= PT_ADDR_MASK;
    if (tlb[slot].gen == tlb_gen && tlb[slot].cr3 == cr3 && tlb[slot].vpn == vpn) {
        memset(w, 0, sizeof(*w));
        w->gpa = tlb[slot].gpa_page | (gva & 0xfff);
        w->page_size = 4096;
        w->writable = tlb[slot].writable;
        w->user = tlb[slot].user;
        w->nx = tlb[slot].nx;
        return true;
    }
    walks++;
    struct pt_paging pg;
    vmi_paging(cr3, &pg);
    if (pt_walk(&pg, gva, vmi_map, 0, w) != PT_OK)
        return false;
    tlb[slot].cr3 = cr3;
    tlb[slot].vpn = vpn;
    tlb[slot].gpa_page = w->gpa & ~0xfffull;
    tlb[slot].writable = w->writable;
    tlb[slot].user = w->user;
    tlb[slot].nx = w->nx;
    tlb[slot].gen = tlb_gen;
    return true;
}

bool vmi_read_virt(u64 cr3, u64 gva, void *buf, u64 len)
{
    u8 *out = buf;
    if (len > GUESTMEM_MAX_READ)
        return false;
    while (len) {
        struct pt_walk w;
        if (!vmi_translate(cr3, gva, &w))
            return false;
        u64 n = 4096 - (gva & 0xfff);
        if (n > len)
            n = len;
        if (!guestmem_read(w.gpa, out, n))
            return false;
        out += n;
        gva += n;
        len -= n;
    }
    return true;
}

#define LX_MAX_CPUS 16                          /* per-CPU bases checked against __per_cpu_offset[] */
#define KERNEL_HALF 0xffff800000000000ull

static struct {
    bool ok;
    u64 init_task, kpgd, tsize, dm_base;
    u64 off_tasks, off_pid, off_tgid, off_comm, off_mm, off_flags, off_pgd, off_active_mm;
    u64 off_exe, off_dentry, off_dname;
    bool has_active_mm, has_current, kpti, has_exe;
    u64 pc_current, per_cpu_offset, poking_mm, poking_pgd;
    u64 cpu_base[LX_MAX_CPUS];
    u32 ncpu_base;
} lx;

/* Linux's direct map: every frame of RAM at page_offset_base + its
 * address (the kernel's __va()), a 64 TiB region. */
#define LX_DIRECT_MAP_SPAN (64ull << 40)

/* A kernel address whose frame the kernel's own layout fixes: inside the
 * placed image, or (Linux) in the direct map. Its guest-physical address is
 * arithmetic, not a walk of the kernel's tables: cheaper (a task_struct,
 * mm, file or socket is a slab object of the direct map), and what the
 * guest's tables say there is not believed: a direct map remapped to show
 * vigil a forged structure shows it the real frame. guestmem_read still
 * refuses what is not guest RAM. */
static bool kva_fixed(u64 kva, u64 len, u64 *pa)
{
    if (lx.dm_base && kva >= lx.dm_base && kva - lx.dm_base < LX_DIRECT_MAP_SPAN &&
        len <= LX_DIRECT_MAP_SPAN - (kva - lx.dm_base)) {
        *pa = kva - lx.dm_base;
        return true;
    }
    u64 p = prof ? profile_kva_to_pa(prof, kva) : 0;
    if (p && len && profile_kva_to_pa(prof, kva + len - 1) == p + len - 1) {
        *pa = p;
        return true;
    }
    return false;
}

static u64 reads, fixed_reads;

bool vmi_read_kernel(u64 cr3, u64 kva, void *buf, u64 len)
{
    u64 pa;
    reads++;
    if (kva_fixed(kva, len, &pa)) {
        fixed_reads++;
        return guestmem_read(pa, buf, len);
    }
    if (lx.kpgd)
        return vmi_read_virt(lx.kpgd, kva, buf, len);
    return cr3 && vmi_read_virt(cr3, kva, buf, len);
}

/* --- Linux ------------------------------------------------------------------ */

bool vmi_have_linux(void) { return lx.ok; }
u64 vmi_linux_kernel_pgd(void) { return lx.kpgd; }

bool vmi_linux_init(const struct profile *p, const char **err)
{
    memset(&lx, 0, sizeof(lx));
    u64 pgt = profile_sym(p, "init_top_pgt");
    lx.kpgd = pgt ? profile_kva_to_pa(p, pgt) : 0;
    if (!lx.kpgd || (lx.kpgd & 0xfff)) {
        lx.kpgd = 0;
        *err = "the profile does not place init_top_pgt inside the kernel image";
        return false;
    }
    u64 n;
    bool ok = (lx.init_task = profile_sym(p, "init_task")) &&
              profile_field(p, "task_struct", &lx.tsize, 0) &&
              profile_field(p, "task_struct.tasks", &lx.off_tasks, 0) &&
              profile_field(p, "task_struct.pid", &lx.off_pid, &n) && n == 4 &&
              profile_field(p, "task_struct.tgid", &lx.off_tgid, &n) && n == 4 &&
              profile_field(p, "task_struct.comm", &lx.off_comm, &n) && n == 16 &&
              profile_field(p, "task_struct.mm", &lx.off_mm, &n) && n == 8 &&
              profile_field(p, "task_struct.flags", &lx.off_flags, &n) && n == 4 &&
              profile_field(p, "mm_struct.pgd", &lx.off_pgd, &n) && n == 8;
    /* Every field read lies inside the structure. */
    ok = ok && lx.tsize <= 65536 && lx.off_tasks + 16 <= lx.tsize && lx.off_pid + 4 <= lx.tsize &&
         lx.off_tgid + 4 <= lx.tsize && lx.off_comm + 16 <= lx.tsize && lx.off_mm + 8 <= lx.tsize &&
         lx.off_flags + 4 <= lx.tsize && lx.off_pgd < 4096;
    if (!ok) {
        *err = "the profile lacks init_task or a task_struct/mm_struct field the task list needs (or one is "
               "out of bounds)";
        return false;
    }
    lx.dm_base = p->direct_map_base;
    lx.has_active_mm = profile_field(p, "task_struct.active_mm", &lx.off_active_mm, &n) && n == 8 &&
                       lx.off_active_mm + 8 <= lx.tsize;
    lx.has_current = profile_const(p, "percpu.current_task", &lx.pc_current) && lx.pc_current < 0x1000000;
    lx.has_exe = profile_field(p, "mm_struct.exe_file", &lx.off_exe, &n) && n == 8 && lx.off_exe < 65536 &&
                 profile_field(p, "file.f_path.dentry", &lx.off_dentry, &n) && n == 8 && lx.off_dentry < 65536 &&
                 profile_field(p, "dentry.d_name.name", &lx.off_dname, &n) && n == 8 && lx.off_dname < 65536;
    lx.per_cpu_offset = profile_sym(p, "__per_cpu_offset");
    lx.poking_mm = profile_sym(p, "poking_mm");
    lx.kpti = true;                        /* until a PGD on an odd page says otherwise */
    lx.ok = true;
    return true;
}

/* A kernel structure's bytes: by arithmetic where the layout fixes the
 * frame (kva_fixed), else through the kernel's own page tables. */
static bool rd(u64 va, void *buf, u64 len) { return vmi_read_kernel(lx.kpgd, va, buf, len); }

/* An mm's PGD, a page of the direct map: its guest-physical address is what
 * the kernel's own __pa() makes of it (the address less page_offset_base),
 * which is what the kernel loads into CR3; no walk. A PGD anywhere else is
 * translated through the kernel's page tables. */
static bool pgd_translate(u64 pgd_va, struct pt_walk *w)
{
    if (lx.dm_base && pgd_va >= lx.dm_base && pgd_va - lx.dm_base < LX_DIRECT_MAP_SPAN) {
        w->gpa = pgd_va - lx.dm_base;
        return true;
    }
    return vmi_translate(lx.kpgd, pgd_va, w);
}

int vmi_linux_tasks(struct vmi_task *out, int max, const char **err)
{
    if (!lx.ok) {
        *err = "no placed Linux profile";
        return -1;
    }
    int n = 0;
    u64 t = lx.init_task;
    for (u32 steps = 0;; steps++) {
        if (steps == VMI_LINUX_STEPS) {
            *err = "the task list is cyclic or longer than 2048 entries";
            return -1;
        }
        struct vmi_task k;
        memset(&k, 0, sizeof(k));
        k.addr = t;
        if (!rd(t + lx.off_pid, &k.pid, 4) || !rd(t + lx.off_tgid, &k.tgid, 4) || !rd(t + lx.off_comm, k.comm, 15) ||
            !rd(t + lx.off_mm, &k.mm, 8) || !rd(t + lx.off_flags, &k.flags, 4)) {
            *err = "a task_struct is unreadable";
            return -1;
        }
        for (u32 i = 0; k.comm[i]; i++)
            if ((unsigned char)k.comm[i] < 0x20 || (unsigned char)k.comm[i] >= 0x7f)
                k.comm[i] = '?';               /* the guest's bytes are not trusted text */
        u64 pgd_va;
        struct pt_walk w;
        if (k.mm && rd(k.mm + lx.off_pgd, &pgd_va, 8) && pgd_translate(pgd_va, &w))
            k.pgd = w.gpa & PT_ADDR_MASK;
        u64 amm = 0;
        if (lx.has_active_mm && rd(t + lx.off_active_mm, &amm, 8) && amm == k.mm)
            k.active_pgd = k.pgd;
        else if (amm && rd(amm + lx.off_pgd, &pgd_va, 8) && pgd_translate(pgd_va, &w))
            k.active_pgd = w.gpa & PT_ADDR_MASK;
        if (n < max)
            out[n] = k;
        n++;
        u64 next;
        if (!rd(t + lx.off_tasks, &next, 8)) {
            *err = "a task list link is unreadable";
            return -1;
        }
        if (next < lx.off_tasks) {
            *err = "a task list link is null";
            return -1;
        }
        t = next - lx.off_tasks;               /* list_head.next points at the next task's tasks */
        if (t == lx.init_task)
            break;
    }
    return n;
}

static void task_to_proc(const struct vmi_task *k, struct vmi_proc *p)
{
    memset(p, 0, sizeof(*p));
    p->pid = k->tgid;
    memcpy(p->name, k->comm, 15);
    p->cr3 = k->pgd;
    p->alt_cr3 = k->active_pgd != k->pgd ? k->active_pgd : 0;
    p->addr = k->addr;
}

int vmi_linux_procs(struct vmi_proc *out, int max, const char **err)
{
    static struct vmi_task tk[VMI_MAX_PROCS];
    if (max > VMI_MAX_PROCS)
        max = VMI_MAX_PROCS;
    int n = vmi_linux_tasks(tk, max, err);
    if (n > max) {
        *err = "the task list is longer than vigil's snapshot (256)";
        return -1;
    }
    bool odd = false;
    for (int i = 0; i < n; i++) {
        task_to_proc(&tk[i], &out[i]);
        odd |= (tk[i].pgd & 0x1000) != 0;
    }
    if (n > 0)
        lx.kpti = !odd;                    /* KPTI allocates each PGD as an 8 KiB pair */
    return n;
}

bool vmi_linux_task_unlinked(u64 task)
{
    s32 pid, tgid;
    if (!lx.ok || !rd(task + lx.off_pid, &pid, 4) || !rd(task + lx.off_tgid, &tgid, 4) || pid != tgid || !pid)
        return false;                          /* a thread, or an idle task: on no list of its own */
    u64 self = task + lx.off_tasks, next, prev, back, fwd;
    if (!rd(self, &next, 8) || !rd(self + 8, &prev, 8) || next == self || prev == self)
        return true;
    return !(rd(next + 8, &back, 8) && back == self && rd(prev, &fwd, 8) && fwd == self);
}

bool vmi_linux_recent(bool by_space, u64 key, int n)
{
    if (!lx.ok)
        return false;
    u64 t = lx.init_task;
    for (int i = 0; i < n; i++) {
        u64 prev;
        if (!rd(t + lx.off_tasks + 8, &prev, 8) || prev < lx.off_tasks)
            return false;
        t = prev - lx.off_tasks;                 /* tasks.prev: the task added last, and back */
        if (t == lx.init_task)
            return false;
        if (!by_space) {
            if (t == key)
                return true;
            continue;
        }
        u64 mm, pgd_va;
        struct pt_walk w;
        if (rd(t + lx.off_mm, &mm, 8) && mm && rd(mm + lx.off_pgd, &pgd_va, 8) && pgd_translate(pgd_va, &w) &&
            vmi_space_key(w.gpa & PT_ADDR_MASK) == key)
            return true;
    }
    return false;
}

static bool percpu_base_ok(u64 b)
{
    if (b < KERNEL_HALF || (b & 0xfff))
        return false;
    if (!lx.per_cpu_offset)
        return true;
    if (!lx.ncpu_base) {
        /* Fixed before the kernel's first LSTAR write (setup_per_cpu_areas). */
        for (u32 i = 0; i < LX_MAX_CPUS; i++)
            if (rd(lx.per_cpu_offset + 8 * i, &lx.cpu_base[i], 8))
                lx.ncpu_base = i + 1;
            else
                break;
    }
    for (u32 i = 0; i < lx.ncpu_base; i++)
        if (lx.cpu_base[i] == b)
            return true;
    return false;
}

bool vmi_linux_current(u8 cpl, u64 *task)
{
    if (!lx.ok || !lx.has_current)
        return false;
    u64 gs, kgs;
    vmm_guest_gs_bases(&gs, &kgs);
    u64 try[2] = { cpl == 3 ? kgs : gs, cpl == 3 ? gs : kgs };    /* SWAPGS: either may be the kernel's now */
    for (int i = 0; i < 2; i++) {
        u64 t;
        if (percpu_base_ok(try[i]) && rd(try[i] + lx.pc_current, &t, 8) && t >= KERNEL_HALF) {
            *task = t;
            return true;
        }
    }
    return false;
}

u64 vmi_space_key(u64 cr3)
{
    cr3 &= PT_ADDR_MASK;
    return lx.ok && lx.kpti ? cr3 & ~0x1000ull : cr3;
}

bool vmi_linux_kernel_space(u64 key)
{
    if (!lx.ok)
        return false;
    if (key == lx.kpgd)
        return true;
    if (!lx.poking_pgd && lx.poking_mm) {
        /* text_poke's own mm, made once at boot: read until it exists. */
        u64 mm = 0, pgd_va;
        struct pt_walk w;
        if (rd(lx.poking_mm, &mm, 8) && mm >= KERNEL_HALF && rd(mm + lx.off_pgd, &pgd_va, 8) &&
            pgd_translate(pgd_va, &w))
            lx.poking_pgd = w.gpa & PT_ADDR_MASK;
    }
    return lx.poking_pgd && vmi_space_key(lx.poking_pgd) == key;
}

/* A field of n bytes at off lies inside the structure (no overflow). */
static bool fits(u64 off, u64 n) { return off <= pl.size && pl.size - off >= n; }

void vmi_init(const struct profile *p)
{
    prof = p;
    memset(&pl, 0, sizeof(pl));
    memset(&lx, 0, sizeof(lx));
    if (!p)
        return;
    u64 sz;
    pl.ok = profile_symbol(p, "proc_list", &pl.head, 0) && profile_field(p, "proc.pid", &pl.off_pid, 0) &&
            profile_field(p, "proc.name", &pl.off_name, 0) && profile_field(p, "proc.cr3", &pl.off_cr3, 0) &&
            profile_field(p, "proc.next", &pl.off_next, 0) && profile_field(p, "proc", &pl.size, 0) &&
            pl.size >= 16 && pl.size <= 512;
    /* Every field read must lie inside the structure (and so inside the
     * 512-byte copy read_proc makes): a wrong profile gives wrong answers,
     * never a read past a buffer. */
    pl.ok = pl.ok && fits(pl.off_pid, 4) && fits(pl.off_name, 16) && fits(pl.off_cr3, 8) && fits(pl.off_next, 8);
    pl.has_state = profile_field(p, "proc.state", &pl.off_state, 0) && fits(pl.off_state, 4);
    pl.has_kstack = profile_field(p, "proc.kstack_top", &pl.off_kstack, 0) && fits(pl.off_kstack, 8);
    if (profile_symbol(p, "proc_pool", &pl.pool, &sz) && pl.size && !profile_const(p, "nproc", &pl.npool))
        pl.npool = sz / pl.size;
    profile_const(p, "proc.state.free", &pl.state_free);
    pl.has_current = pl.ok && profile_symbol(p, "current", &pl.current, 0);
}

bool vmi_have_procs(void) { return pl.ok || lx.ok; }
bool vmi_have_kstack(void) { return pl.ok && pl.has_kstack; }

bool vmi_task_kstack(u64 cr3, u64 addr, u64 *kstack)
{
    return pl.ok && pl.has_kstack && vmi_read_kernel(cr3, addr + pl.off_kstack, kstack, 8);
}
u64 vmi_stats_walks(void) { return walks; }
void vmi_stats_reads(u64 *all, u64 *fixed)
{
    *all = reads;
    *fixed = fixed_reads;
}

static bool read_proc(u64 cr3, u64 addr, struct vmi_proc *p)
{
    u8 raw[512];
    if (!vmi_read_kernel(cr3, addr, raw, pl.size))
        return false;
    u32 pid;
    memcpy(&pid, raw + pl.off_pid, 4);
    memcpy(&p->cr3, raw + pl.off_cr3, 8);
    memcpy(p->name, raw + pl.off_name, 15);
    p->name[15] = 0;
    for (u32 i = 0; p->name[i]; i++)
        if ((unsigned char)p->name[i] < 0x20 || (unsigned char)p->name[i] >= 0x7f)
            p->name[i] = '?';                  /* the guest's bytes are not trusted text */
    p->kstack = 0;
    if (pl.has_kstack)
        memcpy(&p->kstack, raw + pl.off_kstack, 8);
    p->state = 0;
    p->alt_cr3 = 0;
    if (pl.has_state)
        memcpy(&p->state, raw + pl.off_state, 4);
    p->pid = pid;
    p->addr = addr;
    p->cr3 &= PT_ADDR_MASK;
    return true;
}

int vmi_proc_list(u64 cr3, struct vmi_proc *out, int max, const char **err)
{
    if (lx.ok)
        return vmi_linux_procs(out, max, err);
    if (!pl.ok) {
        *err = "the profile does not describe the process list";
        return -1;
    }
    u64 node;
    if (!vmi_read_kernel(cr3, pl.head, &node, 8)) {
        *err = "the process list head is unreadable";
        return -1;
    }
    int n = 0;
    for (u32 steps = 0; node; steps++) {
        if (steps == VMI_LIST_STEPS) {
            *err = "the process list is cyclic or longer than 256 entries";
            return -1;
        }
        struct vmi_proc p;
        if (!read_proc(cr3, node, &p)) {
            *err = "a process list entry is unreadable";
            return -1;
        }
        if (n < max)
            out[n++] = p;
        u64 next;
        if (!vmi_read_kernel(cr3, node + pl.off_next, &next, 8)) {
            *err = "a process list link is unreadable";
            return -1;
        }
        node = next;
    }
    return n;
}

bool vmi_current_task(u64 cr3, u64 *addr)
{
    return pl.has_current && vmi_read_kernel(cr3, pl.current, addr, 8);
}

/* One task_struct, as vmi_linux_tasks reads each (its list link aside). */
static bool read_linux_task(u64 t, struct vmi_proc *p)
{
    struct vmi_task k;
    memset(&k, 0, sizeof(k));
    k.addr = t;
    if (!rd(t + lx.off_pid, &k.pid, 4) || !rd(t + lx.off_tgid, &k.tgid, 4) || !rd(t + lx.off_comm, k.comm, 15) ||
        !rd(t + lx.off_mm, &k.mm, 8))
        return false;
    for (u32 i = 0; k.comm[i]; i++)
        if ((unsigned char)k.comm[i] < 0x20 || (unsigned char)k.comm[i] >= 0x7f)
            k.comm[i] = '?';
    u64 pgd_va, amm = 0;
    struct pt_walk w;
    if (k.mm && rd(k.mm + lx.off_pgd, &pgd_va, 8) && pgd_translate(pgd_va, &w))
        k.pgd = w.gpa & PT_ADDR_MASK;
    if (lx.has_active_mm && rd(t + lx.off_active_mm, &amm, 8) && amm && amm != k.mm &&
        rd(amm + lx.off_pgd, &pgd_va, 8) && pgd_translate(pgd_va, &w))
        k.active_pgd = w.gpa & PT_ADDR_MASK;
    else
        k.active_pgd = k.pgd;
    task_to_proc(&k, p);
    return true;
}

/* Linux's task flags (include/linux/sched.h, 6.1): stable ABI of the
 * kernel's own, read from the task. */
#define LX_PF_EXITING 0x00000004u
#define LX_PF_KTHREAD 0x00200000u

bool vmi_linux_task_exiting(u64 task, bool *thread)
{
    u32 flags, pid, tgid;
    u64 mm;
    if (!lx.ok || !rd(task + lx.off_flags, &flags, 4) || !rd(task + lx.off_mm, &mm, 8) || mm ||
        !(flags & LX_PF_EXITING) || !rd(task + lx.off_pid, &pid, 4) ||
        !rd(task + lx.off_tgid, &tgid, 4))
        return false;
    *thread = pid != tgid;
    return true;
}

bool vmi_linux_have_exe(void) { return lx.ok && lx.has_exe; }

bool vmi_linux_exe_name(u64 task, char out[16])
{
    u64 mm, file, dentry, name;
    char buf[16];
    if (!vmi_linux_have_exe() || !rd(task + lx.off_mm, &mm, 8) || !mm || !rd(mm + lx.off_exe, &file, 8) || !file ||
        !rd(file + lx.off_dentry, &dentry, 8) || !dentry || !rd(dentry + lx.off_dname, &name, 8) || !name ||
        !rd(name, buf, 16))
        return false;
    u32 n = 0;
    while (n < 16 && buf[n])
        n++;
    if (n == 0 || n == 16)
        return false;                           /* longer than a task name: no program's vigil knows */
    memcpy(out, buf, n + 1);
    return true;
}

bool vmi_read_task(u64 cr3, u64 addr, struct vmi_proc *p)
{
    if (lx.ok)
        return read_linux_task(addr, p);
    return pl.ok && read_proc(cr3, addr, p);
}

int vmi_proc_pool(u64 cr3, struct vmi_proc *out, int max)
{
    int n = 0;
    if (!pl.ok || !pl.pool)
        return 0;
    for (u64 i = 0; i < pl.npool && i < 1024 && n < max; i++) {
        struct vmi_proc p;
        if (read_proc(cr3, pl.pool + i * pl.size, &p) && p.state != pl.state_free && p.cr3)
            out[n++] = p;
    }
    return n;
}
