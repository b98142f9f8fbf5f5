/* raw-socket (Linux; Livewire's raw socket detector): the sockets each
 * process holds, read through the profile's BTF offsets:
 *   task_struct.files -> files_struct.fdt -> fdtable.fd[0..max_fds)
 *   -> struct file; a socket's file has f_op == socket_file_ops, and
 *   file.private_data -> struct socket (socket.type), socket.sk ->
 *   struct sock (__sk_common.skc_family).
 * A SOCK_RAW socket, or any AF_PACKET one, held by a process whose
 * program the policy does not allow (`raw-socket allow=NAME,...`, default
 * none) is reported once per (process, socket). A program is named by the
 * file the kernel exec'd (mm->exe_file's name: vmi_linux_exe_name), not by
 * comm, which the process itself rewrites (prctl(PR_SET_NAME),
 * /proc/self/comm): a process renamed to an allowed name is not allowed. A
 * process whose program cannot be read is allowed nothing.
 *
 * Bounded work per tick, round-robin over the processes of the shared
 * task-list snapshot (ids_procs: those with an address space; kernel
 * threads hold no sockets of their own): every tick (interval 1) on vCPU 0
 * at most RS_PROCS_PER_TICK processes and RS_FDS_PER_TICK descriptor slots,
 * from where the last tick stopped. docs/ids.md gives the worst case. */
#include "ids/engine.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/string.h"

#define RS_PROCS_PER_TICK 8
#define RS_FDS_PER_TICK 512
#define RS_MAX_FDS 4096                      /* descriptor slots read per process at most */
#define RS_CHUNK 64                          /* descriptor pointers read at once */
#define RS_MAX_REPORTED 64
#define SOCK_RAW 3
#define AF_PACKET 17

static struct {
    bool ok;
    u64 sock_fops;
    u64 off_files, off_tgid, off_fdt, off_max_fds, off_fd, off_f_op, off_private, off_type, off_sk, off_family;
} rs;

/* Where the round robin is: the snapshot index and task of the process
 * under way, and the descriptor slot it is at. */
static struct { u32 idx; u64 task; u32 fd; } cur;
static struct { s64 pid; u64 sock; } reported[RS_MAX_REPORTED];
static u32 nreported;
static u64 procs_read, fds_read, sockets_seen, passes;

static bool rd(u64 va, void *buf, u64 n) { return vmi_read_kernel(0, va, buf, n); }

static void placed(const struct ids_event *e)
{
    (void)e;
    memset(&rs, 0, sizeof(rs));
    if (!vmi_have_linux())
        return;
    const struct profile *p = &ids.prof;
    u64 n;
    rs.sock_fops = profile_sym(p, "socket_file_ops");
    rs.ok = rs.sock_fops && profile_field(p, "task_struct.files", &rs.off_files, &n) && n == 8 &&
            profile_field(p, "task_struct.tgid", &rs.off_tgid, &n) && n == 4 &&
            profile_field(p, "files_struct.fdt", &rs.off_fdt, &n) && n == 8 &&
            profile_field(p, "fdtable.max_fds", &rs.off_max_fds, &n) && n == 4 &&
            profile_field(p, "fdtable.fd", &rs.off_fd, &n) && n == 8 &&
            profile_field(p, "file.f_op", &rs.off_f_op, &n) && n == 8 &&
            profile_field(p, "file.private_data", &rs.off_private, &n) && n == 8 &&
            profile_field(p, "socket.type", &rs.off_type, &n) && n == 2 &&
            profile_field(p, "socket.sk", &rs.off_sk, &n) && n == 8 &&
            profile_field(p, "sock.__sk_common.skc_family", &rs.off_family, &n) && n == 2;
    if (!rs.ok) {
        kprintf("vigil: raw-socket: the profile lacks socket_file_ops or a files/fdtable/file/socket/sock field: "
                "not watching sockets\n");
        return;
    }
    char allow[RAW_MAX_ALLOW * PROC_NAME_MAX + 8] = "";
    size_t at = 0;
    for (u32 i = 0; i < ids.cfg.nraw_allow; i++)
        at += fmt_snprintf(allow + at, sizeof(allow) - at, "%s%s", i ? "," : "", ids.cfg.raw_allow[i]);
    kprintf("vigil: raw-socket: the sockets of every process (socket_file_ops at 0x%llx), %u processes and %u "
            "descriptors a tick; allowed: %s%s\n", (unsigned long long)rs.sock_fops, RS_PROCS_PER_TICK,
            RS_FDS_PER_TICK, ids.cfg.nraw_allow ? allow : "none",
            !ids.cfg.nraw_allow ? "" : vmi_linux_have_exe() ? " (by the program's file name)"
                                                             : " (the profile lacks mm_struct.exe_file, file.f_path.dentry "
                                                               "or dentry.d_name.name: no process is allowed)");
}

static bool allowed(const char *exe)
{
    for (u32 i = 0; i < ids.cfg.nraw_allow && exe[0]; i++)
        if (!strcmp(ids.cfg.raw_allow[i], exe))
            return true;
    return false;
}

static bool first_report(s64 pid, u64 sock)
{
    for (u32 i = 0; i < nreported && i < RS_MAX_REPORTED; i++)
        if (reported[i].pid == pid && reported[i].sock == sock)
            return false;
    reported[nreported % RS_MAX_REPORTED].pid = pid;
    reported[nreported % RS_MAX_REPORTED].sock = sock;
    nreported++;
    return true;
}

static const char *family_name(u16 f)
{
    return f == 1 ? "AF_UNIX" : f == 2 ? "AF_INET" : f == 10 ? "AF_INET6" : f == 16 ? "AF_NETLINK"
         : f == AF_PACKET ? "AF_PACKET" : "family";
}

static const char *type_name(u16 t)
{
    return t == 1 ? "SOCK_STREAM" : t == 2 ? "SOCK_DGRAM" : t == SOCK_RAW ? "SOCK_RAW" : t == 5 ? "SOCK_SEQPACKET"
         : "type";
}

/* One descriptor's file: a raw or packet socket is reported. */
static void check_file(const struct ids_event *e, const struct vmi_proc *p, u32 fd, u64 file)
{
    u64 fop, sock, sk;
    u16 type, family = 0;
    if (!rd(file + rs.off_f_op, &fop, 8) || fop != rs.sock_fops)
        return;
    sockets_seen++;
    if (!rd(file + rs.off_private, &sock, 8) || !sock || !rd(sock + rs.off_type, &type, 2))
        return;
    if (rd(sock + rs.off_sk, &sk, 8) && sk)
        rd(sk + rs.off_family, &family, 2);
    if (type != SOCK_RAW && family != AF_PACKET)
        return;
    /* The process as it is now: the snapshot may be from before its exec
     * (a fork's child still has its parent's name and address space). */
    struct vmi_proc now;
    if (vmi_read_task(e->cr3, p->addr, &now) && now.pid == p->pid)
        p = &now;
    char exe[16] = "";                          /* (left empty when it cannot be read: allowed nothing) */
    if (ids.cfg.nraw_allow)
        (void)vmi_linux_exe_name(p->addr, exe);
    if (allowed(exe) || !first_report(p->pid, sock))
        return;
    char prog[40] = "";                         /* the program, when comm says otherwise */
    if (exe[0] && strcmp(exe, p->name))
        fmt_snprintf(prog, sizeof(prog), " (program %s)", exe);
    struct ids_event h = *e;
    h.cr3 = p->cr3;
    char fam[16], typ[16];
    fmt_snprintf(fam, sizeof(fam), "%s", family_name(family));
    fmt_snprintf(typ, sizeof(typ), "%s", type_name(type));
    if (!strcmp(fam, "family"))
        fmt_snprintf(fam, sizeof(fam), "family %u", family);
    if (!strcmp(typ, "type"))
        fmt_snprintf(typ, sizeof(typ), "type %u", type);
    ids_raise_task(POL_RAW_SOCKET, &h, p, sock, &sock, 0,
                   "process pid %lld \"%s\"%s holds a %s socket (%s %s, fd %u): not allowed",
                   (long long)p->pid, p->name, prog, family == AF_PACKET ? "packet" : "raw", fam, typ, fd);
}

/* One process, from descriptor slot cur.fd, at most budget slots. Returns
 * the slots read; sets *done when the process's table is through. */
static u32 check_proc(const struct ids_event *e, const struct vmi_proc *p, u32 budget, bool *done)
{
    *done = true;
    u64 files, fdt, fdarr;
    u32 max_fds, tgid;
    /* the snapshot may be a few ticks old: the structure is still this process's */
    if (!rd(p->addr + rs.off_tgid, &tgid, 4) || (s64)tgid != p->pid || !rd(p->addr + rs.off_files, &files, 8) ||
        !files || !rd(files + rs.off_fdt, &fdt, 8) || !fdt || !rd(fdt + rs.off_max_fds, &max_fds, 4) ||
        !rd(fdt + rs.off_fd, &fdarr, 8) || !fdarr)
        return 1;
    if (max_fds > RS_MAX_FDS)
        max_fds = RS_MAX_FDS;
    u32 used = 0;
    while (cur.fd < max_fds && used < budget) {
        u64 ptrs[RS_CHUNK];
        u32 k = max_fds - cur.fd;
        if (k > RS_CHUNK)
            k = RS_CHUNK;
        if (k > budget - used)
            k = budget - used;
        if (!rd(fdarr + 8ull * cur.fd, ptrs, 8ull * k))
            return used + 1;
        for (u32 i = 0; i < k; i++)
            if (ptrs[i])
                check_file(e, p, cur.fd + i, ptrs[i]);
        cur.fd += k;
        used += k;
    }
    fds_read += used;
    *done = cur.fd >= max_fds;
    return used ? used : 1;
}

static void tick(const struct ids_event *e)
{
    if (e->vcpu != 0 || !rs.ok || !ids.boot_done || !vmi_have_linux())
        return;
    const struct vmi_proc *p;
    int n = ids_procs(e->cr3, &p);
    if (n <= 0)
        return;
    /* The snapshot changes every few ticks: find the process under way again. */
    if ((int)cur.idx >= n || p[cur.idx].addr != cur.task) {
        u32 found = cur.idx < (u32)n ? cur.idx : 0;
        for (int i = 0; i < n; i++)
            if (p[i].addr == cur.task) {
                found = (u32)i;
                break;
            }
        if (found >= (u32)n || p[found].addr != cur.task)
            cur.fd = 0;                         /* gone: the next one, from its first slot */
        cur.idx = found;
    }
    u32 fds = 0, procs = 0;
    for (int visited = 0; visited < n && procs < RS_PROCS_PER_TICK && fds < RS_FDS_PER_TICK; visited++) {
        const struct vmi_proc *q = &p[cur.idx];
        bool done = true;
        cur.task = q->addr;
        if (q->cr3 && q->pid > 0) {             /* kernel threads (no mm) skipped */
            fds += check_proc(e, q, RS_FDS_PER_TICK - fds, &done);
            procs++;
            procs_read++;
        }
        if (!done)
            break;                              /* its table continues next tick */
        cur.fd = 0;
        cur.idx = (cur.idx + 1) % (u32)n;
        if (cur.idx == 0)
            passes++;
        cur.task = p[cur.idx].addr;
    }
}

void raw_socket_summary(void)
{
    if (rs.ok)
        kprintf("vigil: raw-socket: %llu passes over the processes, %llu process reads, %llu descriptors, %llu "
                "sockets seen\n", (unsigned long long)passes, (unsigned long long)procs_read,
                (unsigned long long)fds_read, (unsigned long long)sockets_seen);
}

const struct policy_ops pol_raw_socket = {
    .id = POL_RAW_SOCKET, .placed = placed, .tick = tick,
};
